//! `tracedat explain`: why a guest was late. Latency windows found in a guest's records
//! (a wakeup until the task runs, or a pair of events the user names) are broken down by what
//! the host did meanwhile on the thread that runs that vCPU: its `kvm_exit` -> `kvm_entry`
//! intervals, the times it was off its host CPU and who ran instead, the host interrupts on
//! that CPU while it was out, and the interrupts injected into it.
//!
//! One pass over the merged timeline ([`crate::merge::timeline`]): guest records open and
//! close windows ([`guest`]), host records drive one small state machine per vCPU thread
//! ([`host`]) whose finished intervals are kept only while an open window may still need them;
//! a window closes into a [`window::Window`] ([`run`]), printed as text ([`text`]) or JSON.

pub mod fields;
pub mod guest;
pub mod host;
pub mod run;
pub mod text;
pub mod window;
