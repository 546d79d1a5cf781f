pub mod constants;
pub mod exports;
pub mod fd;
pub mod napi;
pub mod source;
