pub mod guests;
pub mod kway;
