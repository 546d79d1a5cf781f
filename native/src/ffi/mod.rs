pub mod napi;
pub mod source;
pub mod exports;
