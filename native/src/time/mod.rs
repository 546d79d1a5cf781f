pub mod kvm;
pub mod timesync;
