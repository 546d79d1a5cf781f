pub mod cprintf;
pub mod lookups;
pub mod plugins;
pub mod print_fmt;
