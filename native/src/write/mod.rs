pub mod writer;
pub mod output;
pub mod pipeline;
pub mod progress;
