pub mod columns;
pub mod page;
pub mod page_writer;
pub mod records;
pub mod stream;
pub mod validate;
