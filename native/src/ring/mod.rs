pub mod page;
pub mod stream;
pub mod records;
pub mod validate;
