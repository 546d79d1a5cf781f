pub mod print_fmt;
pub mod plugins;
pub mod lookups;
pub mod cprintf;
