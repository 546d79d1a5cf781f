//! libtraceevent's plugin_sched_switch.c: `sched_switch` as `comm:pid [prio] state ==> ...`
//! and `sched_wakeup(_new)`, both teaching the comm table the pids they name.

use super::{Env, Rec};
use crate::tep::cprintf::{self, put_signed, put_unsigned};
use crate::tep::lookups::Comms;
use crate::tep::print_fmt::Field;

/// The handlers' conversions.
#[derive(Clone, Copy)]
enum Num {
    /// `%lld`
    Lld,
    /// `%d`
    D,
    /// `%03llu`
    Llu03,
}

/// `text` then `arg` through `conv` then `after`: printf of "text%convafter" (inlined: the
/// texts are constants of each call, copied without a memcpy call).
#[inline(always)]
fn put(out: &mut Vec<u8>, text: &[u8], conv: Num, arg: u64, after: &[u8]) {
    out.extend_from_slice(text);
    match conv {
        Num::Lld => put_signed(out, arg as i64),
        Num::D => put_signed(out, i64::from(arg as u32 as i32)),
        Num::Llu03 => put_unsigned(out, arg, 3, true),
    }
    out.extend_from_slice(after);
}

/// The fields [`switch`] reads, in its slots (see [`super::Slots`]); `true`: common first.
pub(super) const SWITCH_SLOTS: &[(&str, bool)] =
    &[("prev_pid", false), ("prev_comm", true), ("prev_prio", false), ("prev_state", false), ("next_pid", false), ("next_comm", true), ("next_prio", false)];

/// The fields [`wakeup`] reads, in its slots.
pub(super) const WAKEUP_SLOTS: &[(&str, bool)] = &[("pid", false), ("comm", true), ("prio", false), ("success", false), ("target_cpu", false)];

/// `sched_switch_handler`.
pub(super) fn switch(r: Rec<'_>, env: &mut Env<'_, '_>, out: &mut Vec<u8>) -> Option<bool> {
    let slots = env.slots;
    let pid = r.need_of(r.slot(slots, 0), "prev_pid", out)?;
    if let Some(f) = r.slot(slots, 1) {
        save_comm(env, f, r.data, pid, out);
        out.push(b':');
    }
    put(out, b"", Num::Lld, pid, b" ");
    if let Some(p) = r.val_of(r.slot(slots, 2), "prev_prio", out) {
        put(out, b"[", Num::D, p, b"] ");
    }
    if let Some(state) = r.val_of(r.slot(slots, 3), "prev_state", out) {
        write_state(out, state);
    }
    out.extend_from_slice(b" ==> ");
    let pid = r.need_of(r.slot(slots, 4), "next_pid", out)?;
    if let Some(f) = r.slot(slots, 5) {
        save_comm(env, f, r.data, pid, out);
        out.push(b':');
    }
    put(out, b"", Num::Lld, pid, b"");
    if let Some(p) = r.val_of(r.slot(slots, 6), "next_prio", out) {
        put(out, b" [", Num::D, p, b"]");
    }
    Some(false)
}

/// `sched_wakeup_handler`.
pub(super) fn wakeup(r: Rec<'_>, env: &mut Env<'_, '_>, out: &mut Vec<u8>) -> Option<bool> {
    let slots = env.slots;
    let pid = r.need_of(r.slot(slots, 0), "pid", out)?;
    if let Some(f) = r.slot(slots, 1) {
        save_comm(env, f, r.data, pid, out);
        out.push(b':');
    }
    put(out, b"", Num::Lld, pid, b"");
    if let Some(p) = r.val_of(r.slot(slots, 2), "prio", out) {
        put(out, b" [", Num::Lld, p, b"]");
    }
    if let Some(s) = r.get(r.slot(slots, 3), "success", None) {
        put(out, b" success=", Num::Lld, s, b"");
    }
    if let Some(c) = r.get(r.slot(slots, 4), "target_cpu", None) {
        put(out, b" CPU:", Num::Llu03, c, b"");
    }
    Some(false)
}

/// What [`switch`] teaches the comm table, without its text: a report that prints no line
/// (JSON, CSV, a reader deciding filters) learns the comms trace-cmd's line would have.
pub(super) fn teach_switch(r: Rec<'_>, comms: &mut Comms) {
    for (pid, comm) in [("prev_pid", "prev_comm"), ("next_pid", "next_comm")] {
        // The handler stops at a pid it cannot read.
        let Some(pid) = r.get(r.ev.find(pid), pid, None) else { return };
        if let Some(f) = r.ev.any(comm) {
            comms.register(comm_of(f, r.data), pid as i32);
        }
    }
}

/// What [`wakeup`] teaches the comm table, without its text.
pub(super) fn teach_wakeup(r: Rec<'_>, comms: &mut Comms) {
    let Some(pid) = r.get(r.ev.find("pid"), "pid", None) else { return };
    if let Some(f) = r.ev.any("comm") {
        comms.register(comm_of(f, r.data), pid as i32);
    }
}

/// A comm field's text: its bytes up to a NUL, as `%.*s` prints them.
fn comm_of<'d>(f: &Field, data: &'d [u8]) -> &'d [u8] {
    let off = f.offset as usize;
    cprintf::cstr(data.get(off..off.saturating_add(f.size as usize).min(data.len())).unwrap_or(&[]))
}

/// `write_and_save_comm`: the comm field printed with `%.*s` and remembered for its pid.
fn save_comm(env: &mut Env<'_, '_>, f: &Field, data: &[u8], pid: u64, out: &mut Vec<u8>) {
    let comm = comm_of(f, data);
    out.extend_from_slice(comm);
    env.comms.register(comm, pid as i32);
}

/// `write_state`: the task state bits as letters, `R` when none is set.
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
