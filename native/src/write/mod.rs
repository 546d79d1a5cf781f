pub mod build;
pub mod copy;
pub mod layout;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod spool;
pub mod writer;
