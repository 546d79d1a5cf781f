pub mod output;
pub mod pipeline;
pub mod progress;
pub mod writer;
