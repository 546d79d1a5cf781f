pub mod page;
pub mod records;
pub mod stream;
pub mod validate;
