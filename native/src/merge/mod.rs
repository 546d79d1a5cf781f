pub mod attach;
pub mod events;
pub mod guests;
pub mod kway;
pub mod plan;
pub mod stream;
pub mod tables;
pub mod timeline;
