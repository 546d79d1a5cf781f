pub mod dump;
pub mod report;
pub mod info;
pub mod json;
