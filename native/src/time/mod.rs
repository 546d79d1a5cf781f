pub mod kvm;
pub mod sync;
pub mod timesync;
