pub mod dump;
pub mod info;
pub mod json;
pub mod record;
pub mod report;
pub mod scan;
pub mod tables;
