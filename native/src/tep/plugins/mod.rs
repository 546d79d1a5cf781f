//! The custom output of the libtraceevent 1.7.1 plugins trace-cmd loads (sched_switch,
//! function, kmem, hrtimer, tlb, kvm, ...) and of trace-cmd's own function_graph printer
//! (lib/trace-cmd/trace-ftrace.c), for the events they claim.
//!
//! A handler prints into the line and says whether the event's print fmt output should
//! follow (libtraceevent appends it when a handler returns non-zero). Handlers have side
//! effects that later lines depend on: sched_switch/sched_wakeup teach the comm table new
//! pids, the function plugin keeps a per-CPU call stack for indentation, and function_graph
//! entries swallow the matching exit record that follows them.
//!
//! One file per plugin, each handler written as the C one reads: a field fetched with
//! `Rec::need` and `?` is the C `if (tep_get_field_val(...)) return trace_seq_putc(s, '!');`.

mod fgraph;
mod function;
mod futex;
mod hrtimer;
mod kmem;
mod kvm;
pub use kvm::reason_name as kvm_exit_reason;
mod sched;
mod tlb;

pub use function::FuncStacks;

use crate::tep::cprintf::{self, Arg as C};
use crate::tep::lookups::{Comms, Funcs};
use crate::tep::print_fmt::{Ctx, Field};
use crate::tep::time_fmt::TimeFmt;

/// Which printer an event uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handler {
    None,
    SchedSwitch,
    SchedWakeup,
    Function,
    KernelStack,
    RawData,
    FuncRepeats,
    FgraphEntry,
    FgraphExit,
    CallSite,
    HrtimerExpire,
    HrtimerStart,
    TlbFlush,
    KvmExit,
    KvmEntry,
    Futex,
    KvmEmulateInsn,
}

impl Handler {
    /// The handler registered for `system:name`, the plugin registered last winning (the
    /// function plugin's `function` over trace-cmd's own).
    pub fn for_event(system: &str, name: &str) -> Handler {
        match (system, name) {
            ("sched", "sched_switch") => Handler::SchedSwitch,
            ("sched", "sched_wakeup" | "sched_wakeup_new") => Handler::SchedWakeup,
            ("ftrace", "function") => Handler::Function,
            ("ftrace", "kernel_stack") => Handler::KernelStack,
            ("ftrace", "raw_data") => Handler::RawData,
            ("ftrace", "func_repeats") => Handler::FuncRepeats,
            ("ftrace", "funcgraph_entry") => Handler::FgraphEntry,
            ("ftrace", "funcgraph_exit") => Handler::FgraphExit,
            ("kmem", "kfree" | "kmalloc" | "kmalloc_node" | "kmem_cache_alloc" | "kmem_cache_alloc_node" | "kmem_cache_free") => Handler::CallSite,
            ("timer", "hrtimer_expire_entry") => Handler::HrtimerExpire,
            ("timer", "hrtimer_start") => Handler::HrtimerStart,
            ("tlb", "tlb_flush") => Handler::TlbFlush,
            ("kvm", "kvm_exit") => Handler::KvmExit,
            ("kvm", "kvm_entry") => Handler::KvmEntry,
            ("syscalls", "sys_enter_futex") => Handler::Futex,
            ("kvm", "kvm_emulate_insn") => Handler::KvmEmulateInsn,
            _ => Handler::None,
        }
    }
}

/// An event's fields as handlers see them.
pub struct Fields<'a> {
    pub all: &'a [Field],
    pub nr_common: usize,
}

impl<'a> Fields<'a> {
    /// tep_find_field: the event's own fields only.
    pub fn find(&self, name: &str) -> Option<&'a Field> {
        self.all.iter().skip(self.nr_common).find(|f| f.name == name)
    }
    pub fn common(&self, name: &str) -> Option<&'a Field> {
        self.all.iter().take(self.nr_common).find(|f| f.name == name)
    }
    pub fn any(&self, name: &str) -> Option<&'a Field> {
        self.common(name).or_else(|| self.find(name))
    }
}

/// The fields a handler reads, found by name once per event rather than for every record
/// (the sched handlers' lookups were a fifth of a sched-heavy report's formatting): the index
/// in the event's fields of each name of the handler's list ([`Handler::slot_names`]), looked
/// up as the handler would (its own fields, or common ones first for `any`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Slots([Option<u16>; Slots::MAX]);

impl Slots {
    /// The most fields a handler's list names.
    const MAX: usize = 8;

    /// The slots of `h` over an event's fields.
    pub fn new(h: Handler, all: &[Field], nr_common: usize) -> Slots {
        let ev = Fields { all, nr_common };
        let mut slots = Slots::default();
        for (slot, &(name, any)) in slots.0.iter_mut().zip(h.slot_names()) {
            let f = if any { ev.any(name) } else { ev.find(name) };
            // The index of the field found (by address: names may repeat).
            *slot = f.and_then(|f| all.iter().position(|x| std::ptr::eq(x, f))).and_then(|i| u16::try_from(i).ok());
        }
        slots
    }

    /// Slot `i`'s field of `ev` (the event these slots were found for).
    fn get<'a>(&self, ev: &Fields<'a>, i: usize) -> Option<&'a Field> {
        self.0.get(i).copied().flatten().and_then(|j| ev.all.get(usize::from(j)))
    }
}

impl Handler {
    /// The fields a handler reads through [`Slots`], in slot order: (name, true for
    /// `any`, a common field first).
    fn slot_names(self) -> &'static [(&'static str, bool)] {
        match self {
            Handler::SchedSwitch => sched::SWITCH_SLOTS,
            Handler::SchedWakeup => sched::WAKEUP_SLOTS,
            _ => &[],
        }
    }
}

/// The funcgraph_exit event, which funcgraph_entry looks for right after itself.
pub struct GraphRet<'a> {
    pub id: u64,
    pub fields: Fields<'a>,
}

/// Everything a handler may touch besides the record.
pub struct Env<'a, 'c> {
    pub ctx: &'a Ctx<'c>,
    pub comms: &'a mut Comms,
    pub stacks: &'a mut FuncStacks,
    pub cpu: u32,
    pub ts: u64,
    /// The time format of the line (for func_repeats' last_ts).
    pub time_fmt: TimeFmt,
    pub graph_ret: Option<GraphRet<'a>>,
    /// The next record of the same buffer (any CPU), for funcgraph_entry.
    pub next: Option<&'a [u8]>,
    /// Set when the handler took `next` (a leaf function's exit).
    pub consumed: bool,
    /// With several inputs, the kallsyms of the guest whose vCPU thread wrote this record
    /// (trace-cmd's `tep_plugin_kvm_get_func`), for the kvm events' guest rips.
    pub guest: Option<&'a Funcs>,
    /// The record's event's [`Slots`].
    pub slots: &'a Slots,
}

/// Runs `h` for a record; returns true when the print fmt output must follow.
pub fn run(h: Handler, ev: &Fields<'_>, data: &[u8], env: &mut Env<'_, '_>, out: &mut Vec<u8>) -> bool {
    let r = Rec { ctx: env.ctx, ev, data };
    let handled = match h {
        Handler::None => Some(true),
        Handler::SchedSwitch => sched::switch(r, env, out),
        Handler::SchedWakeup => sched::wakeup(r, env, out),
        Handler::Function => function::function(r, env, out),
        Handler::FuncRepeats => function::func_repeats(r, env, out),
        Handler::KernelStack => function::kernel_stack(r, out),
        Handler::RawData => function::raw_data(r, out),
        Handler::FgraphEntry => fgraph::entry(r, env, out),
        Handler::FgraphExit => fgraph::exit(r, env, out),
        Handler::CallSite => kmem::call_site(r, out),
        Handler::HrtimerExpire => hrtimer::expire_entry(r, out),
        Handler::HrtimerStart => hrtimer::start(r, out),
        Handler::TlbFlush => tlb::flush(r, out),
        Handler::KvmExit => kvm::exit(r, env, out),
        Handler::KvmEntry => kvm::entry(r, env, out),
        Handler::KvmEmulateInsn => kvm::emulate_insn(r, env, out),
        Handler::Futex => futex::sys_enter_futex(r, out),
    };
    // None: the handler stopped at a missing field, where the C handler returns non-zero.
    handled.unwrap_or(true)
}

/// What `h` teaches the comm table about a record when its line prints (sched_switch and
/// sched_wakeup register the comms they name), without the line: for the reports that print
/// none. Other handlers teach nothing.
pub fn teach(h: Handler, ev: &Fields<'_>, ctx: &Ctx<'_>, data: &[u8], comms: &mut Comms) {
    let r = Rec { ctx, ev, data };
    match h {
        Handler::SchedSwitch => sched::teach_switch(r, comms),
        Handler::SchedWakeup => sched::teach_wakeup(r, comms),
        _ => {}
    }
}

/// The name a handler prints for field `name` of a record instead of its number (kvm_exit's
/// exit reason), for machine output; None where the handler prints no name.
pub fn symbol(h: Handler, ev: &Fields<'_>, ctx: &Ctx<'_>, data: &[u8], name: &str) -> Option<&'static str> {
    let r = Rec { ctx, ev, data };
    match (h, name) {
        (Handler::KvmExit, "exit_reason") => kvm::exit_reason_name(r, r.opt(name)?),
        _ => None,
    }
}

/// The record a handler prints, with libtraceevent's field accessors. A handler returns
/// `Some(follow)`, true when the print fmt output follows, or None when it stopped at a
/// missing field (the C handler's early non-zero return), after which it follows too.
#[derive(Clone, Copy)]
struct Rec<'a> {
    ctx: &'a Ctx<'a>,
    ev: &'a Fields<'a>,
    data: &'a [u8],
}

impl Rec<'_> {
    /// `get_field_val`: a numeric field; when it is missing or not 1, 2, 4 or 8 bytes, None,
    /// after libtraceevent's complaint into `err` if given.
    #[inline]
    fn get(&self, f: Option<&Field>, name: &str, err: Option<&mut Vec<u8>>) -> Option<u64> {
        match f {
            Some(f) if matches!(f.size, 1 | 2 | 4 | 8) => Some(self.read(f)),
            // Out of the way of the fields read (every record's), with its formatting.
            _ => Rec::missing(f, name, err),
        }
    }

    /// [`Rec::get`] of a field missing or of another size: the complaint, and None.
    #[cold]
    #[inline(never)]
    fn missing(f: Option<&Field>, name: &str, err: Option<&mut Vec<u8>>) -> Option<u64> {
        let Some(f) = f else {
            if let Some(out) = err {
                out.extend_from_slice(format!("<CANT FIND FIELD {name}>").as_bytes());
            }
            return None;
        };
        if !matches!(f.size, 1 | 2 | 4 | 8) {
            if let Some(out) = err {
                out.extend_from_slice(format!(" {name}=INVALID").as_bytes());
            }
        }
        None
    }

    /// A field's bytes as a number in the file's byte order.
    fn read(&self, f: &Field) -> u64 {
        self.ctx.read(self.data, f.offset as usize, f.size as usize)
    }

    /// Field `i` of `slots` (the record's event's).
    #[inline]
    fn slot(&self, slots: &Slots, i: usize) -> Option<&Field> {
        slots.get(self.ev, i)
    }

    /// [`Rec::val`] of field `f` (found for `name`).
    #[inline]
    fn val_of(&self, f: Option<&Field>, name: &str, out: &mut Vec<u8>) -> Option<u64> {
        self.get(f, name, Some(out))
    }

    /// [`Rec::need`] of field `f` (found for `name`).
    #[inline]
    fn need_of(&self, f: Option<&Field>, name: &str, out: &mut Vec<u8>) -> Option<u64> {
        bang(self.get(f, name, Some(out)), out)
    }

    /// `tep_get_field_val(..., err = 1)`: one of the event's own fields, complaining into the
    /// line when it cannot be read.
    fn val(&self, name: &str, out: &mut Vec<u8>) -> Option<u64> {
        self.get(self.ev.find(name), name, Some(out))
    }

    /// `tep_get_field_val(..., err = 0)`: the same, silently.
    fn opt(&self, name: &str) -> Option<u64> {
        self.get(self.ev.find(name), name, None)
    }

    /// `tep_get_common_field_val(..., err = 0)`.
    fn common_opt(&self, name: &str) -> Option<u64> {
        self.get(self.ev.common(name), name, None)
    }

    /// The plugins' `if (tep_get_field_val(s, ..., 1)) return trace_seq_putc(s, '!');`: the
    /// complaint and a `!` when the field cannot be read.
    fn need(&self, name: &str, out: &mut Vec<u8>) -> Option<u64> {
        bang(self.val(name, out), out)
    }

    /// `need` for a common field (`tep_get_common_field_val`).
    fn need_common(&self, name: &str, out: &mut Vec<u8>) -> Option<u64> {
        bang(self.get(self.ev.common(name), name, Some(out)), out)
    }

    /// `tep_print_num_field`: the field through `fmt`; false (after a complaint if `err`) when
    /// it cannot be read.
    fn print_num(&self, fmt: &[u8], name: &str, err: bool, out: &mut Vec<u8>) -> bool {
        match self.ev.find(name).filter(|f| matches!(f.size, 1 | 2 | 4 | 8)) {
            Some(f) => {
                cprintf::printf(out, fmt, &[C::Int(self.read(f))]);
                true
            }
            None => {
                if err {
                    out.extend_from_slice(format!("CAN'T FIND FIELD \"{name}\"").as_bytes());
                }
                false
            }
        }
    }

    /// `tep_print_func_field`: the field as `function/0xoffset` through `fmt`.
    fn print_func(&self, fmt: &[u8], name: &str, err: bool, out: &mut Vec<u8>) {
        match self.ev.find(name).filter(|f| matches!(f.size, 1 | 2 | 4 | 8)) {
            Some(f) => {
                let v = self.read(f);
                let tmp = match self.ctx.funcs.find(v) {
                    Some(func) => format!("{}/0x{:x}", String::from_utf8_lossy(func.name), func.addr.wrapping_sub(v)),
                    None => format!("0x{v:08x}"),
                };
                let tmp = tmp.as_bytes().get(..127).unwrap_or(tmp.as_bytes());
                cprintf::printf(out, fmt, &[C::Str(tmp)]);
            }
            None => {
                if err {
                    out.extend_from_slice(format!("CAN'T FIND FIELD \"{name}\"").as_bytes());
                }
            }
        }
    }
}

/// `trace_seq_putc(s, '!')` when `v` is None.
fn bang(v: Option<u64>, out: &mut Vec<u8>) -> Option<u64> {
    if v.is_none() {
        out.push(b'!');
    }
    v
}
