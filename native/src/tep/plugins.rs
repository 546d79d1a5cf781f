//! The custom output of the libtraceevent 1.7.1 plugins trace-cmd loads (sched_switch,
//! function, kmem, hrtimer, tlb, kvm, ...) and of trace-cmd's own function_graph printer
//! (lib/trace-cmd/trace-ftrace.c), for the events they claim.
//!
//! A handler prints into the line and says whether the event's print fmt output should
//! follow (libtraceevent appends it when a handler returns non-zero). Handlers have side
//! effects that later lines depend on: sched_switch/sched_wakeup teach the comm table new
//! pids, the function plugin keeps a per-CPU call stack for indentation, and function_graph
//! entries swallow the matching exit record that follows them.

use std::collections::HashMap;

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

/// `get_field_val`: a numeric field, or the error text libtraceevent prints when `err`.
fn val(ctx: &Ctx<'_>, f: Option<&Field>, name: &str, data: &[u8], err: bool, out: &mut Vec<u8>) -> Option<u64> {
    let Some(f) = f else {
        if err {
            out.extend_from_slice(format!("<CANT FIND FIELD {name}>").as_bytes());
        }
        return None;
    };
    if !matches!(f.size, 1 | 2 | 4 | 8) {
        if err {
            out.extend_from_slice(format!(" {name}=INVALID").as_bytes());
        }
        return None;
    }
    Some(ctx.read(data, f.offset as usize, f.size as usize))
}

/// `tep_print_num_field`.
fn num_field(ctx: &Ctx<'_>, ev: &Fields<'_>, fmt: &[u8], name: &str, data: &[u8], err: bool, out: &mut Vec<u8>) -> bool {
    match ev.find(name).filter(|f| matches!(f.size, 1 | 2 | 4 | 8)) {
        Some(f) => {
            cprintf::printf(out, fmt, &[C::Int(ctx.read(data, f.offset as usize, f.size as usize))]);
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

/// `tep_print_func_field`.
fn func_field(ctx: &Ctx<'_>, ev: &Fields<'_>, fmt: &[u8], name: &str, data: &[u8], err: bool, out: &mut Vec<u8>) {
    match ev.find(name).filter(|f| matches!(f.size, 1 | 2 | 4 | 8)) {
        Some(f) => {
            let v = ctx.read(data, f.offset as usize, f.size as usize);
            let tmp = match ctx.funcs.find(v) {
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

/// The function plugin's per-CPU stacks of function names (for indentation), by CPU number:
/// a map, because the number comes from the file (a damaged one may say CPU 268435456).
#[derive(Default)]
pub struct FuncStacks {
    cpus: HashMap<usize, Vec<Option<Vec<u8>>>>,
}

impl FuncStacks {
    fn add_child(stack: &mut Vec<Option<Vec<u8>>>, child: Option<&[u8]>, pos: usize) {
        let Some(child) = child else { return };
        while pos >= stack.len() {
            stack.extend(std::iter::repeat_n(None, 10));
        }
        stack[pos] = Some(child.to_vec());
    }

    /// `add_and_get_index`.
    fn index(&mut self, parent: &[u8], child: Option<&[u8]>, cpu: usize) -> usize {
        let stack = self.cpus.entry(cpu).or_default();
        for i in 0..stack.len() {
            match &stack[i] {
                None => break,
                Some(s) if s == parent => {
                    Self::add_child(stack, child, i + 1);
                    return i;
                }
                _ => {}
            }
        }
        Self::add_child(stack, Some(parent), 0);
        Self::add_child(stack, child, 1);
        0
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
}

/// Runs `h` for a record; returns true when the print fmt output must follow.
pub fn run(h: Handler, ev: &Fields<'_>, data: &[u8], env: &mut Env<'_, '_>, out: &mut Vec<u8>) -> bool {
    let ctx = env.ctx;
    match h {
        Handler::None => true,
        Handler::SchedSwitch => {
            let Some(pid) = val(ctx, ev.find("prev_pid"), "prev_pid", data, true, out) else {
                out.push(b'!');
                return true;
            };
            if let Some(f) = ev.any("prev_comm") {
                save_comm(env, f, data, pid, out);
                out.push(b':');
            }
            cprintf::printf(out, b"%lld ", &[C::Int(pid)]);
            if let Some(p) = val(ctx, ev.find("prev_prio"), "prev_prio", data, true, out) {
                cprintf::printf(out, b"[%d] ", &[C::Int(p)]);
            }
            if let Some(state) = val(ctx, ev.find("prev_state"), "prev_state", data, true, out) {
                write_state(out, state);
            }
            out.extend_from_slice(b" ==> ");
            let Some(pid) = val(ctx, ev.find("next_pid"), "next_pid", data, true, out) else {
                out.push(b'!');
                return true;
            };
            if let Some(f) = ev.any("next_comm") {
                save_comm(env, f, data, pid, out);
                out.push(b':');
            }
            cprintf::printf(out, b"%lld", &[C::Int(pid)]);
            if let Some(p) = val(ctx, ev.find("next_prio"), "next_prio", data, true, out) {
                cprintf::printf(out, b" [%d]", &[C::Int(p)]);
            }
            false
        }
        Handler::SchedWakeup => {
            let Some(pid) = val(ctx, ev.find("pid"), "pid", data, true, out) else {
                out.push(b'!');
                return true;
            };
            if let Some(f) = ev.any("comm") {
                save_comm(env, f, data, pid, out);
                out.push(b':');
            }
            cprintf::printf(out, b"%lld", &[C::Int(pid)]);
            if let Some(p) = val(ctx, ev.find("prio"), "prio", data, true, out) {
                cprintf::printf(out, b" [%lld]", &[C::Int(p)]);
            }
            if let Some(s) = val(ctx, ev.find("success"), "success", data, false, out) {
                cprintf::printf(out, b" success=%lld", &[C::Int(s)]);
            }
            if let Some(c) = val(ctx, ev.find("target_cpu"), "target_cpu", data, false, out) {
                cprintf::printf(out, b" CPU:%03llu", &[C::Int(c)]);
            }
            false
        }
        Handler::Function => function(ev, data, env, out),
        Handler::FuncRepeats => {
            function(ev, data, env, out);
            let Some(count) = val(ctx, ev.find("count"), "count", data, true, out) else {
                out.push(b'!');
                return true;
            };
            let Some(top) = val(ctx, ev.find("top_delta_ts"), "top_delta_ts", data, true, out) else {
                out.push(b'!');
                return true;
            };
            let Some(bottom) = val(ctx, ev.find("bottom_delta_ts"), "bottom_delta_ts", data, true, out) else {
                out.push(b'!');
                return true;
            };
            cprintf::printf(out, b" (count: %lld  last_ts: ", &[C::Int(count)]);
            env.time_fmt.print(env.ts.wrapping_sub((top << 32) | bottom), out);
            out.push(b')');
            false
        }
        Handler::KernelStack => {
            let Some(f) = ev.any("caller") else {
                out.extend_from_slice(b"<CANT FIND FIELD caller>");
                return false;
            };
            out.extend_from_slice(b"<stack trace >\n");
            let ls = ctx.long_size as usize;
            let mut at = f.offset as usize;
            while at < ctx.size {
                let addr = ctx.read(data, at, ls);
                if (ls == 8 && addr == u64::MAX) || addr as u32 as i32 == -1 {
                    break;
                }
                match ctx.funcs.find(addr) {
                    Some(func) => {
                        out.extend_from_slice(b"=> ");
                        out.extend_from_slice(func.name);
                        cprintf::printf(out, b" (%llx)\n", &[C::Int(addr)]);
                    }
                    None => cprintf::printf(out, b"=> %llx\n", &[C::Int(addr)]),
                }
                at += ls.max(1);
            }
            false
        }
        Handler::RawData => {
            let Some(id) = val(ctx, ev.find("id"), "id", data, true, out) else {
                out.push(b'!');
                return true;
            };
            cprintf::printf(out, b"# %llx", &[C::Int(id)]);
            let Some(f) = ev.any("buf") else {
                out.extend_from_slice(b"<CANT FIND FIELD buf>");
                return false;
            };
            let ls = (ctx.long_size as usize).max(1);
            let mut at = f.offset as usize;
            while at < ctx.size {
                let n = 8usize.min(ctx.size - at);
                for b in &data[at..at + n] {
                    cprintf::printf(out, b" %02x", &[C::Int(*b as u64)]);
                }
                at += ls;
            }
            false
        }
        Handler::FgraphEntry => fgraph_entry(ev, data, env, out),
        Handler::FgraphExit => {
            if env.graph_ret.is_none() {
                return true;
            }
            let Some(ret) = val(ctx, ev.find("rettime"), "rettime", data, true, out) else {
                out.push(b'!');
                return true;
            };
            let Some(call) = val(ctx, ev.find("calltime"), "calltime", data, true, out) else {
                out.push(b'!');
                return true;
            };
            let d = ret.wrapping_sub(call);
            graph_overhead(out, d);
            graph_duration(out, d);
            let Some(depth) = val(ctx, ev.find("depth"), "depth", data, true, out) else {
                out.push(b'!');
                return true;
            };
            indent(out, depth);
            out.push(b'}');
            false
        }
        Handler::CallSite => {
            let Some(f) = ev.find("call_site").filter(|f| matches!(f.size, 1 | 2 | 4 | 8)) else { return true };
            let v = ctx.read(data, f.offset as usize, f.size as usize);
            if let Some(func) = ctx.funcs.find(v) {
                cprintf::printf(out, b"(%s+0x%x) ", &[C::Str(func.name), C::Int(v.wrapping_sub(func.addr))]);
            }
            true
        }
        Handler::HrtimerExpire => {
            out.extend_from_slice(b"hrtimer=");
            if !num_field(ctx, ev, b"0x%llx", "timer", data, false, out) {
                num_field(ctx, ev, b"0x%llx", "hrtimer", data, true, out);
            }
            out.extend_from_slice(b" now=");
            num_field(ctx, ev, b"%llu", "now", data, true, out);
            func_field(ctx, ev, b" function=%s", "function", data, false, out);
            false
        }
        Handler::HrtimerStart => {
            out.extend_from_slice(b"hrtimer=");
            if !num_field(ctx, ev, b"0x%llx", "timer", data, false, out) {
                num_field(ctx, ev, b"0x%llx", "hrtimer", data, true, out);
            }
            func_field(ctx, ev, b" function=%s", "function", data, false, out);
            out.extend_from_slice(b" expires=");
            num_field(ctx, ev, b"%llu", "expires", data, true, out);
            out.extend_from_slice(b" softexpires=");
            num_field(ctx, ev, b"%llu", "softexpires", data, true, out);
            false
        }
        Handler::TlbFlush => {
            out.extend_from_slice(b"pages=");
            num_field(ctx, ev, b"%ld", "pages", data, true, out);
            let Some(v) = val(ctx, ev.find("reason"), "reason", data, true, out) else { return true };
            out.extend_from_slice(b" reason=");
            let r: &[u8] = match v {
                0 => b"flush on task switch",
                1 => b"remote shootdown",
                2 => b"local shootdown",
                3 => b"local mm shootdown",
                _ => b"",
            };
            out.extend_from_slice(r);
            cprintf::printf(out, b" (%lld)", &[C::Int(v)]);
            false
        }
        Handler::KvmExit => {
            if !exit_reason(ctx, ev, "exit_reason", data, out) {
                return true;
            }
            let Some(rip) = val(ctx, ev.find("guest_rip"), "guest_rip", data, true, out) else { return true };
            cprintf::printf(out, b" rip 0x%llx", &[C::Int(rip)]);
            guest_function(env, rip, out);
            let mut scratch = Vec::new();
            let i1 = val(ctx, ev.find("info1"), "info1", data, false, &mut scratch);
            let i2 = i1.and_then(|_| val(ctx, ev.find("info2"), "info2", data, false, &mut scratch));
            if let (Some(a), Some(b)) = (i1, i2) {
                cprintf::printf(out, b" info %llx %llx", &[C::Int(a), C::Int(b)]);
            }
            false
        }
        Handler::Futex => futex(ev, data, env, out),
        Handler::KvmEmulateInsn => {
            let mut v = [0u64; 5];
            for (i, name) in ["rip", "csbase", "len", "flags", "failed"].iter().enumerate() {
                match val(ctx, ev.find(name), name, data, true, out) {
                    Some(x) => v[i] = x,
                    None => return true,
                }
            }
            let [rip, csbase, len, _flags, failed] = v;
            let Some(f) = ev.find("insn") else {
                out.extend_from_slice(b"<CANT FIND FIELD insn>");
                return true;
            };
            // tep_get_field_raw; without udis86 the plugin prints the bytes in hex.
            let off = if f.flags & crate::tep::print_fmt::F_DYNAMIC != 0 {
                let raw = ctx.read(data, f.offset as usize, f.size as usize);
                let mut o = (raw & 0xffff) as usize;
                if f.flags & crate::tep::print_fmt::F_RELATIVE != 0 {
                    o += (f.offset + f.size) as usize;
                }
                o
            } else {
                f.offset as usize
            };
            let mut hex = Vec::new();
            for i in 0..(len as usize).min(15) {
                cprintf::printf(&mut hex, b"%02x ", &[C::Int(data.get(off + i).copied().unwrap_or(0) as u64)]);
            }
            hex.pop();
            cprintf::printf(out, b"%llx:%llx", &[C::Int(csbase), C::Int(rip)]);
            guest_function(env, rip, out);
            out.extend_from_slice(b": ");
            out.extend_from_slice(&hex);
            if failed != 0 {
                out.extend_from_slice(b" FAIL");
            }
            false
        }
        Handler::KvmEntry => {
            num_field(ctx, ev, b" vcpu %u", "vcpu_id", data, true, out);
            let Some(rip) = val(ctx, ev.find("rip"), "rip", data, true, out) else { return true };
            cprintf::printf(out, b" rip 0x%llx", &[C::Int(rip)]);
            guest_function(env, rip, out);
            false
        }
    }
}

/// kvm's `add_rip_function`: ` function[+0xoffset]` of a guest rip, when the record comes
/// from a vCPU thread of a guest whose trace is also being read.
fn guest_function(env: &Env<'_, '_>, rip: u64, out: &mut Vec<u8>) {
    let Some(f) = env.guest.and_then(|g| g.find(rip)) else { return };
    out.push(b' ');
    out.extend_from_slice(f.name);
    if f.addr != rip {
        cprintf::printf(out, b"+0x%0llx", &[C::Int(rip.wrapping_sub(f.addr))]);
    }
}

/// The comm field printed with `%.*s` and remembered for its pid.
fn save_comm(env: &mut Env<'_, '_>, f: &Field, data: &[u8], pid: u64, out: &mut Vec<u8>) {
    let off = f.offset as usize;
    let bytes = data.get(off..off.saturating_add(f.size as usize).min(data.len())).unwrap_or(&[]);
    let comm = cprintf::cstr(bytes);
    out.extend_from_slice(comm);
    env.comms.register(comm, pid as i32);
}

fn write_state(out: &mut Vec<u8>, val: u64) {
    let states = b"SDTtZXxW";
    let mut found = false;
    for (i, c) in states.iter().enumerate() {
        if val & (1 << i) == 0 {
            continue;
        }
        if found {
            out.push(b'|');
        }
        found = true;
        out.push(*c);
    }
    if !found {
        out.push(b'R');
    }
}

/// The function plugin (indent on, parent and offset off: its defaults).
fn function(ev: &Fields<'_>, data: &[u8], env: &mut Env<'_, '_>, out: &mut Vec<u8>) -> bool {
    let ctx = env.ctx;
    let Some(ip) = val(ctx, ev.find("ip"), "ip", data, true, out) else {
        out.push(b'!');
        return true;
    };
    let func = ctx.funcs.find(ip).map(|f| f.name);
    let Some(pip) = val(ctx, ev.find("parent_ip"), "parent_ip", data, true, out) else {
        out.push(b'!');
        return true;
    };
    let parent = ctx.funcs.find(pip).map(|f| f.name);
    let index = match parent {
        Some(p) => env.stacks.index(p, func, env.cpu as usize),
        None => 0,
    };
    out.resize(out.len() + index * 3, b' ');
    match func {
        Some(f) => out.extend_from_slice(f),
        None => cprintf::printf(out, b"0x%llx", &[C::Int(ip)]),
    }
    false
}

fn graph_overhead(out: &mut Vec<u8>, d: u64) {
    let s: &[u8] = if d == u64::MAX {
        b"  "
    } else if d > 1_000_000_000 {
        b"$ "
    } else if d > 1_000_000 {
        b"# "
    } else if d > 100_000 {
        b"! "
    } else if d > 10_000 {
        b"+ "
    } else {
        b"  "
    };
    out.extend_from_slice(s);
}

/// `print_graph_duration`, including its use of the line length so far as a size limit.
fn graph_duration(out: &mut Vec<u8>, d: u64) {
    let usecs = d / 1000;
    let rem = d % 1000;
    let start = out.len();
    cprintf::printf(out, b"%lu", &[C::Int(usecs)]);
    if out.len() - start < 7 {
        // snprintf(nsecs_str, MIN(sizeof(nsecs_str), 8 - len), ...) with len = the whole
        // line length so far (a trace-cmd quirk): the size is 5 unless that goes negative.
        let size = (8i64 - start as i64).clamp(i64::MIN, 5);
        let ns = format!("{rem:03}");
        let keep = if size <= 0 { ns.len() } else { (size as usize - 1).min(ns.len()) };
        out.push(b'.');
        out.extend_from_slice(&ns.as_bytes()[..keep]);
    }
    let len = out.len() - start;
    out.extend_from_slice(b" us ");
    for _ in len..7 {
        out.push(b' ');
    }
    out.extend_from_slice(b"|  ");
}

/// function_graph's `%*s` of depth * 2 spaces (a damaged depth is cut as any printf width).
fn indent(out: &mut Vec<u8>, depth: u64) {
    let n = (depth as i64).wrapping_mul(2) as i32;
    out.resize(out.len() + (n.max(0) as usize).min(cprintf::MAX_PAD), b' ');
}

fn fgraph_entry(ev: &Fields<'_>, data: &[u8], env: &mut Env<'_, '_>, out: &mut Vec<u8>) -> bool {
    let ctx = env.ctx;
    let Some(ret) = env.graph_ret.as_ref() else { return true };
    let Some(pid) = val(ctx, ev.common("common_pid"), "common_pid", data, true, out) else {
        out.push(b'!');
        return true;
    };
    let Some(func) = val(ctx, ev.find("func"), "func", data, true, out) else {
        out.push(b'!');
        return true;
    };
    let leaf = env.next.filter(|next| {
        let mut sink = Vec::new();
        let ty = val(ctx, ret.fields.common("common_type"), "common_type", next, true, &mut sink);
        let p = val(ctx, ret.fields.common("common_pid"), "common_pid", next, true, &mut sink);
        let f = val(ctx, ret.fields.find("func"), "func", next, true, &mut sink);
        ty == Some(ret.id) && p.map(|p| p as i32) == Some(pid as i32) && f == Some(func)
    });
    match leaf {
        Some(next) => {
            env.consumed = true;
            let Some(rt) = val(ctx, ret.fields.find("rettime"), "rettime", next, true, out) else {
                out.push(b'!');
                return false;
            };
            let Some(ct) = val(ctx, ret.fields.find("calltime"), "calltime", next, true, out) else {
                out.push(b'!');
                return false;
            };
            let d = rt.wrapping_sub(ct);
            graph_overhead(out, d);
            graph_duration(out, d);
            let Some(depth) = val(ctx, ev.find("depth"), "depth", data, true, out) else {
                out.push(b'!');
                return false;
            };
            indent(out, depth);
            match ctx.funcs.find(func) {
                Some(f) => {
                    out.extend_from_slice(f.name);
                    out.extend_from_slice(b"();");
                }
                None => cprintf::printf(out, b"%llx();", &[C::Int(func)]),
            }
        }
        None => {
            graph_overhead(out, u64::MAX);
            out.extend_from_slice(b"           |  ");
            let Some(depth) = val(ctx, ev.find("depth"), "depth", data, true, out) else {
                out.push(b'!');
                return false;
            };
            indent(out, depth);
            match ctx.funcs.find(func) {
                Some(f) => {
                    out.extend_from_slice(f.name);
                    out.extend_from_slice(b"() {");
                }
                None => cprintf::printf(out, b"%llx() {", &[C::Int(func)]),
            }
        }
    }
    false
}

/// The futex plugin: sys_enter_futex with the operation decoded.
fn futex(ev: &Fields<'_>, data: &[u8], env: &mut Env<'_, '_>, out: &mut Vec<u8>) -> bool {
    let ctx = env.ctx;
    let mut a = [0u64; 6];
    for (i, name) in ["uaddr", "op", "val", "utime", "uaddr2", "val3"].iter().enumerate() {
        match val(ctx, ev.find(name), name, data, true, out) {
            Some(v) => a[i] = v,
            None => return true,
        }
    }
    let [uaddr, op, v, utime, uaddr2, val3] = a;
    // (name, val, utime, uaddr2, val3) formats per FUTEX_* command.
    type Op = (&'static str, Option<&'static str>, Option<&'static str>, Option<&'static str>, Option<&'static str>);
    const OPS: [Op; 13] = [
        ("FUTEX_WAIT", Some(" val=0x%08llx"), Some(" utime=0x%08llx"), None, None),
        ("FUTEX_WAKE", Some(" val=%llu"), None, None, None),
        ("FUTEX_FD", Some(" val=%llu"), None, None, None),
        ("FUTEX_REQUEUE", Some(" val=%llu"), Some(" val2=%llu"), Some(" uaddr2=0x%08llx"), None),
        ("FUTEX_CMP_REQUEUE", Some(" val=%llu"), Some(" val2=%llu"), Some(" uaddr2=0x%08llx"), Some(" val3=0x%08llx")),
        ("FUTEX_WAKE_OP", Some(" val=%llu"), Some(" val2=%llu"), Some(" uaddr2=0x%08llx"), Some(" val3=0x%08llx")),
        ("FUTEX_LOCK_PI", None, Some(" utime=0x%08llx"), None, None),
        ("FUTEX_UNLOCK_PI", None, None, None, None),
        ("FUTEX_TRYLOCK_PI", None, None, None, None),
        ("FUTEX_WAIT_BITSET", Some(" val=0x%08llx"), Some(" utime=0x%08llx"), None, Some(" val3=0x%08llx")),
        ("FUTEX_WAKE_BITSET", Some(" val=%llu"), None, None, Some(" val3=0x%08llx")),
        ("FUTEX_WAIT_REQUEUE_PI", Some(" val=0x%08llx"), Some(" utime=0x%08llx"), Some(" uaddr2=0x%08llx"), Some(" val3=0x%08llx")),
        ("FUTEX_CMP_REQUEUE_PI", Some(" val=%llu"), Some(" val2=%llu"), Some(" uaddr2=0x%08llx"), Some(" val3=0x%08llx")),
    ];
    let cmd = op & !(128 | 256);
    let Some(&(name, fv, fu, fa, f3)) = OPS.get(cmd as usize) else { return true };
    out.extend_from_slice(b"op=");
    out.extend_from_slice(name.as_bytes());
    if op & 128 != 0 {
        out.extend_from_slice(b"|FUTEX_PRIVATE_FLAG");
    }
    if op & 256 != 0 {
        out.extend_from_slice(b"|FUTEX_CLOCK_REALTIME");
    }
    cprintf::printf(out, b" uaddr=0x%08llx", &[C::Int(uaddr)]);
    for (fmt, x) in [(fv, v), (fu, utime), (fa, uaddr2), (f3, val3)] {
        if let Some(f) = fmt {
            cprintf::printf(out, f.as_bytes(), &[C::Int(x)]);
        }
    }
    false
}

/// kvm's `print_exit_reason`: VMX or SVM exit names by the event's `isa` field.
fn exit_reason(ctx: &Ctx<'_>, ev: &Fields<'_>, field: &str, data: &[u8], out: &mut Vec<u8>) -> bool {
    let Some(v) = val(ctx, ev.find(field), field, data, true, out) else { return false };
    let mut scratch = Vec::new();
    let isa = val(ctx, ev.find("isa"), "isa", data, false, &mut scratch).unwrap_or(1);
    let reason = match isa {
        1 => VMX.iter().find(|(_, n)| *n as i32 == v as i32).map(|(s, _)| *s),
        2 => SVM.iter().find(|(_, n)| *n as i32 == v as i32).map(|(s, _)| *s),
        _ => Some("UNKNOWN-ISA"),
    };
    match reason {
        Some(r) => {
            out.extend_from_slice(b"reason ");
            out.extend_from_slice(r.as_bytes());
        }
        None => cprintf::printf(out, b"reason UNKNOWN (%llu)", &[C::Int(v)]),
    }
    true
}

const VMX: &[(&str, i64)] = &[
    ("EXCEPTION_NMI", 0),
    ("EXTERNAL_INTERRUPT", 1),
    ("TRIPLE_FAULT", 2),
    ("PENDING_INTERRUPT", 7),
    ("NMI_WINDOW", 8),
    ("TASK_SWITCH", 9),
    ("CPUID", 10),
    ("HLT", 12),
    ("INVD", 13),
    ("INVLPG", 14),
    ("RDPMC", 15),
    ("RDTSC", 16),
    ("VMCALL", 18),
    ("VMCLEAR", 19),
    ("VMLAUNCH", 20),
    ("VMPTRLD", 21),
    ("VMPTRST", 22),
    ("VMREAD", 23),
    ("VMRESUME", 24),
    ("VMWRITE", 25),
    ("VMOFF", 26),
    ("VMON", 27),
    ("CR_ACCESS", 28),
    ("DR_ACCESS", 29),
    ("IO_INSTRUCTION", 30),
    ("MSR_READ", 31),
    ("MSR_WRITE", 32),
    ("MWAIT_INSTRUCTION", 36),
    ("MONITOR_INSTRUCTION", 39),
    ("PAUSE_INSTRUCTION", 40),
    ("MCE_DURING_VMENTRY", 41),
    ("TPR_BELOW_THRESHOLD", 43),
    ("APIC_ACCESS", 44),
    ("EOI_INDUCED", 45),
    ("EPT_VIOLATION", 48),
    ("EPT_MISCONFIG", 49),
    ("INVEPT", 50),
    ("PREEMPTION_TIMER", 52),
    ("WBINVD", 54),
    ("XSETBV", 55),
    ("APIC_WRITE", 56),
    ("INVPCID", 58),
    ("PML_FULL", 62),
    ("XSAVES", 63),
    ("XRSTORS", 64),
];

const SVM: &[(&str, i64)] = &[
    ("EXIT_READ_CR0", 0x000),
    ("EXIT_READ_CR3", 0x003),
    ("EXIT_READ_CR4", 0x004),
    ("EXIT_READ_CR8", 0x008),
    ("EXIT_WRITE_CR0", 0x010),
    ("EXIT_WRITE_CR3", 0x013),
    ("EXIT_WRITE_CR4", 0x014),
    ("EXIT_WRITE_CR8", 0x018),
    ("EXIT_READ_DR0", 0x020),
    ("EXIT_READ_DR1", 0x021),
    ("EXIT_READ_DR2", 0x022),
    ("EXIT_READ_DR3", 0x023),
    ("EXIT_READ_DR4", 0x024),
    ("EXIT_READ_DR5", 0x025),
    ("EXIT_READ_DR6", 0x026),
    ("EXIT_READ_DR7", 0x027),
    ("EXIT_WRITE_DR0", 0x030),
    ("EXIT_WRITE_DR1", 0x031),
    ("EXIT_WRITE_DR2", 0x032),
    ("EXIT_WRITE_DR3", 0x033),
    ("EXIT_WRITE_DR4", 0x034),
    ("EXIT_WRITE_DR5", 0x035),
    ("EXIT_WRITE_DR6", 0x036),
    ("EXIT_WRITE_DR7", 0x037),
    ("EXIT_EXCP_DE", 0x040),
    ("EXIT_EXCP_DB", 0x041),
    ("EXIT_EXCP_BP", 0x043),
    ("EXIT_EXCP_OF", 0x044),
    ("EXIT_EXCP_BR", 0x045),
    ("EXIT_EXCP_UD", 0x046),
    ("EXIT_EXCP_NM", 0x047),
    ("EXIT_EXCP_DF", 0x048),
    ("EXIT_EXCP_TS", 0x04a),
    ("EXIT_EXCP_NP", 0x04b),
    ("EXIT_EXCP_SS", 0x04c),
    ("EXIT_EXCP_GP", 0x04d),
    ("EXIT_EXCP_PF", 0x04e),
    ("EXIT_EXCP_MF", 0x050),
    ("EXIT_EXCP_AC", 0x051),
    ("EXIT_EXCP_MC", 0x052),
    ("EXIT_EXCP_XF", 0x053),
    ("EXIT_INTR", 0x060),
    ("EXIT_NMI", 0x061),
    ("EXIT_SMI", 0x062),
    ("EXIT_INIT", 0x063),
    ("EXIT_VINTR", 0x064),
    ("EXIT_CR0_SEL_WRITE", 0x065),
    ("EXIT_IDTR_READ", 0x066),
    ("EXIT_GDTR_READ", 0x067),
    ("EXIT_LDTR_READ", 0x068),
    ("EXIT_TR_READ", 0x069),
    ("EXIT_IDTR_WRITE", 0x06a),
    ("EXIT_GDTR_WRITE", 0x06b),
    ("EXIT_LDTR_WRITE", 0x06c),
    ("EXIT_TR_WRITE", 0x06d),
    ("EXIT_RDTSC", 0x06e),
    ("EXIT_RDPMC", 0x06f),
    ("EXIT_PUSHF", 0x070),
    ("EXIT_POPF", 0x071),
    ("EXIT_CPUID", 0x072),
    ("EXIT_RSM", 0x073),
    ("EXIT_IRET", 0x074),
    ("EXIT_SWINT", 0x075),
    ("EXIT_INVD", 0x076),
    ("EXIT_PAUSE", 0x077),
    ("EXIT_HLT", 0x078),
    ("EXIT_INVLPG", 0x079),
    ("EXIT_INVLPGA", 0x07a),
    ("EXIT_IOIO", 0x07b),
    ("EXIT_MSR", 0x07c),
    ("EXIT_TASK_SWITCH", 0x07d),
    ("EXIT_FERR_FREEZE", 0x07e),
    ("EXIT_SHUTDOWN", 0x07f),
    ("EXIT_VMRUN", 0x080),
    ("EXIT_VMMCALL", 0x081),
    ("EXIT_VMLOAD", 0x082),
    ("EXIT_VMSAVE", 0x083),
    ("EXIT_STGI", 0x084),
    ("EXIT_CLGI", 0x085),
    ("EXIT_SKINIT", 0x086),
    ("EXIT_RDTSCP", 0x087),
    ("EXIT_ICEBP", 0x088),
    ("EXIT_WBINVD", 0x089),
    ("EXIT_MONITOR", 0x08a),
    ("EXIT_MWAIT", 0x08b),
    ("EXIT_MWAIT_COND", 0x08c),
    ("EXIT_XSETBV", 0x08d),
    ("EXIT_NPF", 0x400),
    ("EXIT_AVIC_INCOMPLETE_IPI", 0x401),
    ("EXIT_AVIC_UNACCELERATED_ACCESS", 0x402),
    ("EXIT_ERR", -1),
];
