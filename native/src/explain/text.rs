//! The readable report: each window (slowest first) with its breakdown and its merged lines,
//! then what all the windows add up to per exit reason and per host task that ran instead.

use std::fmt::Write;

use crate::explain::run::{Summary, Tally};
use crate::explain::window::Window;
use crate::tep::time_fmt::TimeFmt;

/// How times and durations print: timestamps as `report -t` prints them, durations in
/// microseconds (or raw clock counts when the clock has no unit).
#[derive(Clone, Copy)]
pub struct Units {
    pub time: TimeFmt,
    pub ns: bool,
}

impl Units {
    fn ts(&self, t: u64) -> String {
        let mut v = Vec::new();
        self.time.print(t, &mut v);
        String::from_utf8_lossy(&v).trim_start().to_string()
    }

    fn dur(&self, d: u64) -> String {
        if self.ns {
            format!("{}.{:03}us", d / 1000, d % 1000)
        } else {
            format!("{d}")
        }
    }

    fn pct(part: u64, whole: u64) -> String {
        if whole == 0 {
            return "-".into();
        }
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// One window's block.
pub fn window(w: &Window, u: Units, out: &mut String) {
    let lat = w.latency();
    let what = match w.kind {
        crate::explain::window::WindowKind::Wakeup => "wakeup of",
        crate::explain::window::WindowKind::Pair => "--from/--to window of",
    };
    let _ = writeln!(out, "{} vCPU {}: {what} {}-{}: {} ({} -> {})", w.guest, w.vcpu, w.comm, w.pid, u.dur(lat), u.ts(w.start), u.ts(w.end));
    let exits = w.exits_ns();
    let host = if w.host_pid < 0 { "host thread not known".to_string() } else { format!("host thread {}", w.host_pid) };
    let _ = writeln!(
        out,
        "  {host}: in guest {} ({}), exited {} ({}) in {} exit{}",
        u.dur(w.in_guest()),
        Units::pct(w.in_guest(), lat),
        u.dur(exits),
        Units::pct(exits, lat),
        w.exits.len(),
        if w.exits.len() == 1 { "" } else { "s" }
    );
    for e in &w.exits {
        let end = e.end.map_or("(still out)".to_string(), |t| u.ts(t));
        let func = e.function.as_deref().map(|f| format!(" {f}")).unwrap_or_default();
        let _ = writeln!(out, "    {:<20} {:>12}  {} .. {}  rip 0x{:x}{func}", e.reason, u.dur(w.inside(e.start, e.end)), u.ts(e.start), end, e.rip);
        for o in w.off_cpu.iter().filter(|o| o.start >= e.start && e.end.is_none_or(|x| o.end.is_some_and(|oe| oe <= x))) {
            let state = if o.preempted { "preempted" } else { "blocked" };
            let _ = writeln!(out, "      off CPU {:>12}  {state}, ran instead: {}-{}", u.dur(w.inside(o.start, o.end)), o.by_comm, o.by_pid);
        }
        for i in w.host_irqs.iter().filter(|i| i.start >= e.start && e.end.is_none_or(|x| i.end <= x)) {
            let _ = writeln!(out, "      host {} {}", i.name, u.dur(i.end - i.start));
        }
    }
    for i in &w.injected {
        let _ = writeln!(out, "    injected: {} vector 0x{:x} at {}", i.event, i.vector, u.ts(i.ts));
    }
    if !w.lines.is_empty() {
        out.push('\n');
        for l in &w.lines {
            out.push_str("    ");
            out.push_str(&String::from_utf8_lossy(&l.2));
            out.push('\n');
        }
    }
    out.push('\n');
}

fn row(out: &mut String, name: &str, t: &Tally, u: Units) {
    let _ = writeln!(out, "  {name:<28} {:>7} {:>14} {:>14}", t.count, u.dur(t.total), u.dur(t.max));
}

/// The summary tables.
pub fn summary(s: &Summary, threshold: u64, u: Units, out: &mut String) {
    let w = &s.windows;
    let _ = writeln!(out, "summary: {} windows of at least {}; latency total {}, max {}", w.count, u.dur(threshold), u.dur(w.total), u.dur(w.max));
    if s.no_thread > 0 {
        let _ = writeln!(out, "  {} windows on a vCPU whose host thread is not known (no GUEST option or kvm_entry named it: give --vcpu-pids)", s.no_thread);
    }
    if s.given_up > 0 {
        let _ = writeln!(out, "  {} windows given up: open so long that what they needed was no longer kept", s.given_up);
    }
    let exited = w.total.saturating_sub(s.in_guest);
    let _ = writeln!(
        out,
        "  in guest {} ({}), exited to the host {} ({})",
        u.dur(s.in_guest),
        Units::pct(s.in_guest, w.total),
        u.dur(exited),
        Units::pct(exited, w.total)
    );
    if !s.exits.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "  {:<28} {:>7} {:>14} {:>14}", "exit reason", "count", "total", "max");
        let mut exits: Vec<_> = s.exits.iter().collect();
        exits.sort_by_key(|(n, t)| (std::cmp::Reverse(t.total), n.as_str()));
        for (name, t) in exits {
            row(out, name, t, u);
        }
    }
    if !s.preempting.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "  {:<28} {:>7} {:>14} {:>14}", "host task that ran instead", "count", "total", "max");
        let mut by: Vec<_> = s.preempting.iter().collect();
        by.sort_by_key(|(k, t)| (std::cmp::Reverse(t.total), k.0.clone(), k.1));
        for ((comm, pid), t) in by {
            row(out, &format!("{comm}-{pid}"), t, u);
        }
    }
}
