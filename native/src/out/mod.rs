pub mod dump;
pub mod info;
pub mod json;
pub mod report;
pub mod scan;
pub mod stat;
pub mod tables;
pub mod wakeup;
