pub mod timesync;
