pub mod constants;
pub mod exports;
pub mod napi;
pub mod source;
