//! One explained latency: a window of guest time and what the host did on its vCPU thread
//! meanwhile, with the JSON object `--format json` and the API give for it.

use crate::explain::host::{Exit, HostIrq, Injected, Line, OffCpu, Thread};
use crate::out::json::Json;

/// What opened a window: a wakeup (`sched_waking`/`sched_wakeup` -> the `sched_switch` that
/// runs the task) or the user's `--from`/`--to` pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowKind {
    Wakeup,
    Pair,
}

impl WindowKind {
    pub fn name(self) -> &'static str {
        match self {
            WindowKind::Wakeup => "wakeup",
            WindowKind::Pair => "pair",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Window {
    pub guest: String,
    pub vcpu: u32,
    pub kind: WindowKind,
    pub pid: i32,
    pub comm: String,
    /// Host time of the opening and the closing guest records.
    pub start: u64,
    pub end: u64,
    /// The vCPU thread, -1 when the host's records never said which it is.
    pub host_pid: i32,
    pub exits: Vec<Exit>,
    pub off_cpu: Vec<OffCpu>,
    pub host_irqs: Vec<HostIrq>,
    pub injected: Vec<Injected>,
    /// The merged guest and host lines of the window, when text was asked for.
    pub lines: Vec<Line>,
}

/// The part of [start, end) inside [from, to); an end not known yet counts as `to`.
pub fn clip(start: u64, end: Option<u64>, from: u64, to: u64) -> u64 {
    end.unwrap_or(to).min(to).saturating_sub(start.max(from))
}

impl Window {
    pub fn latency(&self) -> u64 {
        self.end - self.start
    }

    /// An interval's part inside the window.
    pub fn inside(&self, start: u64, end: Option<u64>) -> u64 {
        clip(start, end, self.start, self.end)
    }

    /// Time the vCPU spent out of the guest during the window.
    pub fn exits_ns(&self) -> u64 {
        self.exits.iter().map(|e| self.inside(e.start, e.end)).sum()
    }

    pub fn in_guest(&self) -> u64 {
        self.latency() - self.exits_ns()
    }

    fn overlaps(&self, start: u64, end: Option<u64>) -> bool {
        start < self.end && end.is_none_or(|e| e > self.start)
    }

    /// Takes from the vCPU thread's history what overlaps the window (its open exit too) and
    /// the thread's lines around it; the exits' full extent bounds the host lines shown.
    pub fn gather(&mut self, t: &Thread, lines: bool) {
        self.host_pid = t.pid;
        self.exits = t.exits.iter().chain(&t.exit).filter(|e| self.overlaps(e.start, e.end)).cloned().collect();
        self.off_cpu = t.off_cpu.iter().chain(&t.off).filter(|o| self.overlaps(o.start, o.end)).cloned().collect();
        self.host_irqs = t.irqs.iter().filter(|i| self.overlaps(i.start, Some(i.end))).cloned().collect();
        self.injected = t.injected.iter().filter(|i| (self.start..=self.end).contains(&i.ts)).cloned().collect();
        if lines {
            let from = self.exits.first().map_or(self.start, |e| e.start.min(self.start));
            let to = self.exits.last().and_then(|e| e.end).map_or(self.end, |e| e.max(self.end));
            self.lines.extend(t.lines.iter().filter(|l| (from..=to).contains(&l.0)).cloned());
            self.lines.sort_by_key(|l| (l.0, l.1));
        }
    }

    /// The object of `--format json` (`lines` added when they were gathered).
    pub fn json(&self, j: &mut Json) {
        j.begin_object(None);
        j.str("guest", &self.guest);
        j.num("vcpu", self.vcpu as i64);
        j.str("kind", self.kind.name());
        j.num("pid", self.pid as i64);
        j.str("comm", &self.comm);
        j.uint("start_ns", self.start);
        j.uint("end_ns", self.end);
        j.uint("latency_ns", self.latency());
        j.num("host_pid", self.host_pid as i64);
        j.uint("in_guest_ns", self.in_guest());
        j.begin_array(Some("exits"));
        for e in &self.exits {
            j.begin_object(None);
            j.str("reason", &e.reason);
            j.uint("start_ns", e.start);
            match e.end {
                Some(end) => j.uint("end_ns", end),
                None => j.null("end_ns"),
            }
            j.uint("ns", self.inside(e.start, e.end));
            j.str("rip", &format!("0x{:x}", e.rip));
            j.opt_str("function", e.function.as_deref());
            j.end_object();
        }
        j.end_array();
        j.begin_array(Some("off_cpu"));
        for o in &self.off_cpu {
            j.begin_object(None);
            j.uint("start_ns", o.start);
            match o.end {
                Some(end) => j.uint("end_ns", end),
                None => j.null("end_ns"),
            }
            j.uint("ns", self.inside(o.start, o.end));
            j.str("state", if o.preempted { "preempted" } else { "blocked" });
            j.num("by_pid", o.by_pid as i64);
            j.str("by_comm", &o.by_comm);
            j.end_object();
        }
        j.end_array();
        j.begin_array(Some("host_irqs"));
        for i in &self.host_irqs {
            j.begin_object(None);
            j.str("name", &i.name);
            j.uint("start_ns", i.start);
            j.uint("end_ns", i.end);
            j.end_object();
        }
        j.end_array();
        j.begin_array(Some("injected"));
        for i in &self.injected {
            j.begin_object(None);
            j.str("event", i.event);
            j.uint("ts_ns", i.ts);
            j.uint("vector", i.vector);
            j.end_object();
        }
        j.end_array();
        if !self.lines.is_empty() {
            j.begin_array(Some("lines"));
            for l in &self.lines {
                j.item_str(&String::from_utf8_lossy(&l.2));
            }
            j.end_array();
        }
        j.end_object();
    }
}
