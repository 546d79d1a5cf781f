pub mod cprintf;
pub mod event;
pub mod filter;
pub mod lookups;
pub mod plugins;
pub mod print_fmt;
pub mod regex;
pub mod time_fmt;
