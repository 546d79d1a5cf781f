//! The pass: every record of the merged timeline, in host time, through the guest windows and
//! the host's vCPU-thread state machines; closed windows come out slowest first with `top`,
//! else as they close.

use std::collections::{BTreeMap, HashMap};

use crate::explain::fields::{Fields, Kind, Kinds};
use crate::explain::guest::{Guest, Open};
use crate::explain::host::{irq_name, HostCpu, Injected, Line, Thread};
use crate::explain::window::{Window, WindowKind};
use crate::format::error::Error;
use crate::merge::timeline::Timeline;
use crate::out::json::Json;
use crate::out::report::{self, Rec};
use crate::ring::records::Record;
use crate::tep::event::Tep;
use crate::tep::filter::{FilterError, Filters, Spec};
use crate::tep::plugins::{kvm_exit_reason, FuncStacks};
use crate::tep::time_fmt::TimeFmt;

/// What to explain.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The user's pair, `EVENT[:FILTER]` each (in `-F`'s language); without it, wakeups.
    pub from: Option<String>,
    pub to: Option<String>,
    /// `--match FIELD`: a `--to` closes the window its `--from` opened with the same value.
    pub match_field: Option<String>,
    /// Windows shorter than this are left out.
    pub threshold: u64,
    /// Only the `top` slowest windows.
    pub top: Option<usize>,
    pub guest: Option<String>,
    pub pid: Option<i32>,
    pub comm: Option<String>,
    /// Gather each window's merged lines (text output).
    pub lines: bool,
}

/// Bytes a gathered line is given room for after its prefix (most report lines are shorter).
const LINE_ROOM: usize = 160;

/// The most exits (or lines of one CPU) kept for the windows open: past it, the oldest windows
/// are given up.
const MAX_HISTORY: usize = 1 << 16;

/// Count, total and largest part of some cause over the windows kept.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub count: u64,
    pub total: u64,
    pub max: u64,
}

impl Tally {
    fn add(&mut self, ns: u64) {
        self.count += 1;
        self.total = self.total.saturating_add(ns);
        self.max = self.max.max(ns);
    }
}

/// What all the windows kept add up to.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub windows: Tally,
    pub in_guest: u64,
    pub exits: BTreeMap<String, Tally>,
    /// By (comm, pid) of the host task that ran instead.
    pub preempting: BTreeMap<(String, i32), Tally>,
    /// Windows given up because they stayed open too long ([`MAX_HISTORY`]).
    pub given_up: u64,
    /// Windows of a vCPU whose host thread is not known (no host side).
    pub no_thread: u64,
}

impl Summary {
    fn add(&mut self, w: &Window) {
        self.windows.add(w.latency());
        self.in_guest += w.in_guest();
        self.no_thread += u64::from(w.host_pid < 0);
        for e in &w.exits {
            self.exits.entry(e.reason.clone()).or_default().add(w.inside(e.start, e.end));
        }
        for o in &w.off_cpu {
            self.preempting.entry((o.by_comm.clone(), o.by_pid)).or_default().add(w.inside(o.start, o.end));
        }
    }
}

fn tally_json(j: &mut Json, t: &Tally) {
    j.uint("count", t.count);
    j.uint("total_ns", t.total);
    j.uint("max_ns", t.max);
}

/// The summary for JavaScript.
pub fn summary_json(s: &Summary, nanoseconds: bool, notes: &[String]) -> String {
    let mut j = Json::new();
    j.begin_object(None);
    j.bool("nanoseconds", nanoseconds);
    j.begin_array(Some("notes"));
    for n in notes {
        j.item_str(n);
    }
    j.end_array();
    j.uint("no_thread", s.no_thread);
    j.begin_object(Some("windows"));
    tally_json(&mut j, &s.windows);
    j.end_object();
    j.uint("in_guest_ns", s.in_guest);
    j.uint("given_up", s.given_up);
    j.begin_array(Some("exits"));
    for (reason, t) in &s.exits {
        j.begin_object(None);
        j.str("reason", reason);
        tally_json(&mut j, t);
        j.end_object();
    }
    j.end_array();
    j.begin_array(Some("preempting"));
    for ((comm, pid), t) in &s.preempting {
        j.begin_object(None);
        j.str("comm", comm);
        j.num("pid", *pid as i64);
        tally_json(&mut j, t);
        j.end_object();
    }
    j.end_array();
    j.end_object();
    j.finish()
}

/// One source of the timeline as explain reads it: its input, its guest, its lines' prefix.
struct SourceInfo {
    input: usize,
    guest: Option<usize>,
    prefix: Vec<u8>,
}

/// Why explain cannot start.
#[derive(Debug)]
pub enum StartError {
    /// A `--from`/`--to` filter a guest's events refuse.
    Filter(String, FilterError),
    Usage(String),
}

/// Everything but the timeline, so that a record borrowed from the timeline can be handled.
struct State {
    opts: Options,
    sources: Vec<SourceInfo>,
    teps: Vec<Tep>,
    kinds: Vec<Kinds>,
    times: Vec<TimeFmt>,
    host: usize,
    /// Whether each input is read on its own (several inputs) rather than one merged file.
    separate: bool,
    guests: Vec<Guest>,
    threads: HashMap<i32, Thread>,
    cpus: HashMap<u32, HostCpu>,
    stacks: FuncStacks,
    seq: u64,
    kept: Vec<Window>,
    summary: Summary,
}

pub struct Explain {
    timeline: Timeline,
    state: State,
    finished: bool,
}

/// The guest kallsyms' name for a rip: `function` or `function+0xoffset`.
fn function(tep: &Tep, rip: u64) -> Option<String> {
    let f = tep.funcs.find(rip)?;
    let name = String::from_utf8_lossy(f.name);
    Some(if f.addr == rip { name.into_owned() } else { format!("{name}+0x{:x}", rip.wrapping_sub(f.addr)) })
}

impl Explain {
    /// Explains `timeline`, whose inputs are `inputs` (trace, bytes, name as given).
    pub fn new(timeline: Timeline, inputs: &[(&crate::format::file::Trace, &[u8], &str)], opts: Options) -> Result<Explain, StartError> {
        if opts.from.is_some() != opts.to.is_some() {
            return Err(StartError::Usage("--from and --to go together".into()));
        }
        if opts.match_field.is_some() && opts.from.is_none() {
            return Err(StartError::Usage("--match needs --from and --to".into()));
        }
        if let Some(g) = &opts.guest {
            if !timeline.guests.iter().any(|t| &t.name == g) {
                let names: Vec<&str> = timeline.guests.iter().map(|t| t.name.as_str()).collect();
                return Err(StartError::Usage(format!("--guest {g}: no such guest (the guests are {})", names.join(", "))));
            }
        }
        if timeline.guests.is_empty() {
            return Err(StartError::Usage("no guest: give HOST GUEST..., or a file tracedat merge wrote".into()));
        }
        let teps: Vec<Tep> = inputs.iter().map(|(t, d, _)| Tep::load(t, d)).collect();
        let kinds = teps.iter().map(Kinds::new).collect();
        let times = inputs.iter().map(|(t, d, _)| TimeFmt::new(report::in_usecs(t, d, false), true)).collect();
        let separate = inputs.len() > 1;
        let base = |n: &str| n.rsplit('/').next().unwrap_or(n).to_string();
        let names: Vec<String> = timeline
            .sources
            .iter()
            .map(|s| match inputs.get(s.input) {
                // As report -i names lines: a file's top buffer by the file's base name.
                Some((t, _, path)) if separate && t.buffers.get(s.buffer).is_some_and(|b| b.name.is_empty()) => base(path),
                _ => s.name.clone(),
            })
            .collect();
        let width = names.iter().map(String::len).max().unwrap_or(0);
        let sources = timeline
            .sources
            .iter()
            .zip(&names)
            .map(|(s, n)| SourceInfo {
                input: s.input,
                guest: s.guest,
                prefix: if n.is_empty() { format!("{:width$}  ", "").into_bytes() } else { format!("{n:>width$}: ").into_bytes() },
            })
            .collect();
        let mut guests = Vec::new();
        for g in &timeline.guests {
            let tep = &teps[g.input];
            let pair = match (&opts.from, &opts.to) {
                (Some(f), Some(t)) => {
                    let compile = |text: &str| {
                        Filters::new(&[Spec { text: text.to_string(), exclude: false }], tep)
                            .map_err(|e| StartError::Filter(g.name.clone(), e))
                            .and_then(|f| f.ok_or_else(|| StartError::Usage("an empty --from or --to".into())))
                    };
                    Some((compile(f)?, compile(t)?))
                }
                _ => None,
            };
            let selected = opts.guest.as_ref().is_none_or(|n| n == &g.name);
            guests.push(Guest::new(g.name.clone(), g.input, g.pids.clone(), selected, pair));
        }
        let mut threads = HashMap::new();
        for (gi, g) in guests.iter().enumerate() {
            for (v, &pid) in g.pids.iter().enumerate() {
                if pid > 0 {
                    threads.insert(pid, Thread::new(pid, Some((gi, v as u32))));
                }
            }
        }
        let host = timeline.host;
        let state = State {
            opts,
            sources,
            teps,
            kinds,
            times,
            host,
            separate,
            guests,
            threads,
            cpus: HashMap::new(),
            stacks: FuncStacks::default(),
            seq: 0,
            kept: Vec::new(),
            summary: Summary::default(),
        };
        Ok(Explain { timeline, state, finished: false })
    }

    /// Reads up to `max` records; the windows finished meanwhile (all of them, slowest first,
    /// at the end with `top`), and whether the timeline is done.
    pub fn step(&mut self, data: &[&[u8]], max: usize) -> Result<(Vec<Window>, bool), (usize, Error)> {
        let Explain { timeline, state, finished } = self;
        if !*finished {
            for _ in 0..max {
                if timeline.next_with(data, |si, r| state.record(si, &r))?.is_none() {
                    state.finish();
                    *finished = true;
                    break;
                }
            }
        }
        let out = if state.opts.top.is_some() && !*finished { Vec::new() } else { std::mem::take(&mut state.kept) };
        Ok((out, *finished))
    }

    pub fn summary(&self) -> &Summary {
        &self.state.summary
    }

    /// What lining the guests up found worth saying, per guest.
    pub fn notes(&self) -> &[String] {
        &self.timeline.notes
    }

    pub fn options(&self) -> &Options {
        &self.state.opts
    }

    /// Whether times are nanoseconds (else the raw counts of a clock with no unit).
    pub fn nanoseconds(&self) -> bool {
        self.state.times.get(self.state.host).is_some_and(|t| t.div != 0)
    }

    /// The host's time format (for text output).
    pub fn time_fmt(&self) -> TimeFmt {
        self.state.times.get(self.state.host).copied().unwrap_or(TimeFmt::new(true, true))
    }
}

/// Whether `--pid`/`--comm` leave a window of this task in.
fn passes(opts: &Options, pid: i32, comm: &[u8]) -> bool {
    opts.pid.is_none_or(|p| p == pid) && opts.comm.as_ref().is_none_or(|c| c.as_bytes() == comm)
}

impl State {
    fn record(&mut self, si: usize, r: &Record<'_>) {
        let Some(src) = self.sources.get(si) else { return };
        let (input, guest) = (src.input, src.guest);
        let Some(tep) = self.teps.get(input) else { return };
        let ev = tep.event_of(r.data);
        let kind = self.kinds[input].of(ev);
        self.seq += 1;
        match guest {
            Some(g) => self.guest_record(g, si, r, ev, kind),
            None => self.host_record(si, r, ev, kind),
        }
    }

    /// The report line of a record (`funcs_of`: the guest whose kallsyms name kvm rips).
    fn line(&mut self, si: usize, r: &Record<'_>, ev: Option<usize>, funcs_of: Option<usize>) -> Line {
        let input = self.sources[si].input;
        // One allocation: room for the prefix and a report line of common length.
        let prefix = &self.sources[si].prefix;
        let mut s = Vec::with_capacity(prefix.len() + LINE_ROOM);
        s.extend_from_slice(prefix);
        // Every time is the host's now: printed as the host's report prints its own.
        let time = self.times[self.host];
        let extent = self.teps[input].extent;
        let data = r.rest.get(..r.data.len().max(extent)).unwrap_or(r.rest);
        let rec = Rec { data, size: r.data.len(), ts: r.ts, cpu: r.cpu, missed: r.missed, ev, next: None };
        let (tep, funcs) = match funcs_of.filter(|&g| g != input) {
            Some(g) if g < input => {
                let (a, b) = self.teps.split_at_mut(input);
                (&mut b[0], Some(&a[g].funcs))
            }
            Some(g) if g < self.teps.len() => {
                let (a, b) = self.teps.split_at_mut(g);
                (&mut a[input], Some(&b[0].funcs))
            }
            _ => (&mut self.teps[input], None),
        };
        report::Line { raw: false, time, guest: funcs, guest_self: false, latency: None, ts_diff: None }.print(tep, &mut self.stacks, rec, &mut s);
        if s.last() == Some(&b'\n') {
            s.pop();
        }
        (r.ts, self.seq, s)
    }

    fn guest_record(&mut self, g: usize, si: usize, r: &Record<'_>, ev: Option<usize>, kind: Option<Kind>) {
        if !self.guests[g].selected {
            return;
        }
        let input = self.guests[g].input;
        let lines = self.opts.lines;
        let mut line = None;
        let mut opened = None;
        let mut closed = None;
        {
            let tep = &self.teps[input];
            let Some(e) = ev else { return };
            let f = Fields { tep, ev: e, data: r.data };
            let guest = &mut self.guests[g];
            let hits = guest.pair.as_mut().map(|(from, to)| (from.keep(tep, ev, r.data, r.cpu), to.keep(tep, ev, r.data, r.cpu)));
            match hits {
                None => match kind {
                    Some(Kind::SchedWaking | Kind::SchedWakeup) => {
                        let pid = f.num("pid").unwrap_or(0) as i32;
                        let comm = f.text("comm").unwrap_or_default();
                        let key = pid.to_le_bytes().to_vec();
                        if !guest.is_open(&key) && passes(&self.opts, pid, comm) {
                            opened = Some((key, pid, String::from_utf8_lossy(comm).into_owned()));
                        }
                    }
                    Some(Kind::SchedSwitch) => {
                        // A task switched out while its wakeup is open was running: it was
                        // woken while on its CPU (or its switch in was lost), no latency.
                        let prev = (f.num("prev_pid").unwrap_or(0) as i32).to_le_bytes();
                        if guest.close(&prev).is_some() {
                            guest.prune();
                        }
                        let key = (f.num("next_pid").unwrap_or(0) as i32).to_le_bytes().to_vec();
                        closed = guest.close(&key).map(|o| (o, WindowKind::Wakeup));
                    }
                    _ => {}
                },
                Some((from, to)) => {
                    let key = match &self.opts.match_field {
                        Some(m) => f.key(m),
                        None => Some(r.cpu.to_le_bytes().to_vec()),
                    };
                    if to {
                        closed = key.as_deref().and_then(|k| guest.close(k)).map(|o| (o, WindowKind::Pair));
                    }
                    if closed.is_none() && from {
                        let pid = f.pid();
                        let comm = tep.comms.find(pid);
                        if let Some(k) = key.filter(|k| !guest.is_open(k)) {
                            if passes(&self.opts, pid, comm) {
                                opened = Some((k, pid, String::from_utf8_lossy(comm).into_owned()));
                            }
                        }
                    }
                }
            }
        }
        if lines && (opened.is_some() || closed.is_some() || self.guests[g].any_open()) {
            line = Some(self.line(si, r, ev, None));
        }
        if let Some((key, pid, comm)) = opened {
            self.guests[g].open(key, Open { start: r.ts, cpu: r.cpu, pid, comm, line: line.clone() });
            if let Some(cut) = self.guests[g].opens_over(MAX_HISTORY) {
                self.discard(g, cut);
            }
        }
        if let Some(l) = line {
            self.guests[g].push_line(r.cpu, l);
            if let Some(cut) = self.guests[g].lines_over(MAX_HISTORY) {
                self.discard(g, cut);
            }
        }
        if let Some((o, kind)) = closed {
            self.close(g, o, kind, r);
        }
    }

    /// A window of guest `g` ends with record `r`: it is explained by the thread of the vCPU
    /// it ended on, now or when that vCPU enters the guest again.
    fn close(&mut self, g: usize, o: Open, kind: WindowKind, r: &Record<'_>) {
        let guest = &self.guests[g];
        let mut w = Window {
            guest: guest.name.clone(),
            vcpu: r.cpu,
            kind,
            pid: o.pid,
            comm: o.comm,
            start: o.start,
            end: r.ts.max(o.start),
            host_pid: -1,
            exits: Vec::new(),
            off_cpu: Vec::new(),
            host_irqs: Vec::new(),
            injected: Vec::new(),
            lines: Vec::new(),
        };
        if self.opts.lines {
            w.lines = guest.lines_of(r.cpu, w.start, w.end);
            if let Some(l) = o.line.filter(|_| o.cpu != r.cpu) {
                w.lines.push(l);
            }
        }
        let thread = guest.thread_of(r.cpu).and_then(|p| self.threads.get_mut(&p));
        match thread {
            Some(t) if t.exit.as_ref().is_some_and(|e| e.start < w.end) => t.pending.push(w),
            Some(t) => {
                w.gather(t, self.opts.lines);
                self.keep(w);
            }
            None => self.keep(w),
        }
        self.guests[g].prune();
        self.prune_threads(g);
    }

    /// Forgets in guest `g`'s vCPU threads what no open window can reach.
    fn prune_threads(&mut self, g: usize) {
        let from = self.guests[g].earliest();
        for &pid in self.guests[g].pids.iter().filter(|&&p| p > 0) {
            if let Some(t) = self.threads.get_mut(&pid) {
                t.prune(from);
            }
        }
    }

    fn keep(&mut self, mut w: Window) {
        if w.latency() < self.opts.threshold {
            return;
        }
        self.summary.add(&w);
        w.lines.sort_by_key(|l| (l.0, l.1));
        self.kept.push(w);
        if let Some(top) = self.opts.top {
            if self.kept.len() > top.saturating_mul(2).max(64) {
                self.trim(top);
            }
        }
    }

    fn trim(&mut self, top: usize) {
        self.kept.sort_by_key(|w| (std::cmp::Reverse(w.latency()), w.start));
        self.kept.truncate(top);
    }

    /// The timeline ended: windows waiting for a vCPU's entry are explained with its exit open.
    fn finish(&mut self) {
        let mut waiting = Vec::new();
        for t in self.threads.values_mut() {
            for mut w in std::mem::take(&mut t.pending) {
                w.gather(t, self.opts.lines);
                waiting.push(w);
            }
        }
        waiting.sort_by_key(|w| w.end);
        for w in waiting {
            self.keep(w);
        }
        match self.opts.top {
            Some(top) => self.trim(top),
            None => self.kept.sort_by_key(|w| w.end),
        }
    }

    /// The guest of the host's vCPU thread `pid` ran, if known (for naming rips).
    fn guest_input_of(&self, pid: i32) -> Option<usize> {
        let (g, _) = self.threads.get(&pid)?.vcpu?;
        self.separate.then(|| self.guests[g].input)
    }

    fn host_record(&mut self, si: usize, r: &Record<'_>, ev: Option<usize>, kind: Option<Kind>) {
        let Some(e) = ev else { return };
        let host = self.host;
        let tep = &self.teps[host];
        let f = Fields { tep, ev: e, data: r.data };
        let pid = f.pid();
        // The thread whose lines this record belongs to.
        let mut owner = self.threads.contains_key(&pid).then_some(pid);
        let mut entered = None;
        match kind {
            Some(Kind::KvmExit) => {
                let reason = kvm_exit_reason(f.num("exit_reason").unwrap_or(0), f.num("isa"));
                let rip = f.num("guest_rip").unwrap_or(0);
                let named = self.guest_input_of(pid).and_then(|gi| function(&self.teps[gi], rip));
                self.threads.entry(pid).or_insert_with(|| Thread::new(pid, None)).kvm_exit(r.ts, r.cpu, reason, rip, named);
                owner = Some(pid);
            }
            Some(Kind::KvmEntry) => {
                let vcpu = f.num("vcpu_id");
                let t = self.threads.entry(pid).or_insert_with(|| Thread::new(pid, None));
                if t.vcpu.is_none() {
                    if let Some(v) = vcpu.and_then(|v| u32::try_from(v).ok()) {
                        // The one guest that has a vCPU v with no known thread (another VM's
                        // threads may run on the host too: with several candidates, none).
                        let unknown: Vec<usize> =
                            (0..self.guests.len()).filter(|&g| (v as usize) < self.guests[g].pids.len() && self.guests[g].thread_of(v).is_none()).collect();
                        if let [g] = unknown[..] {
                            t.vcpu = Some((g, v));
                            self.guests[g].pids[v as usize] = pid;
                        }
                    }
                }
                if t.kvm_entry(r.ts, r.cpu) {
                    entered = Some(pid);
                }
                owner = Some(pid);
            }
            Some(Kind::SchedSwitch) => {
                let prev = f.num("prev_pid").unwrap_or(0) as i32;
                let next = f.num("next_pid").unwrap_or(0) as i32;
                let state = f.num("prev_state").unwrap_or(0);
                let next_comm = String::from_utf8_lossy(f.text("next_comm").unwrap_or_default()).into_owned();
                if let Some(t) = self.threads.get_mut(&prev) {
                    // Still runnable (no state bit below TASK_REPORT_MAX): preempted.
                    t.switch_out(r.ts, state & 0xff == 0, next, next_comm);
                    owner = Some(prev);
                }
                if let Some(t) = self.threads.get_mut(&next) {
                    t.switch_in(r.ts, r.cpu);
                    owner = owner.or(Some(next));
                }
            }
            Some(k @ (Kind::IrqEntry | Kind::SoftirqEntry)) => {
                let softirq = k == Kind::SoftirqEntry;
                let n = f.num(if softirq { "vec" } else { "irq" }).unwrap_or(0);
                let name = irq_name(softirq, n, f.text("name").unwrap_or_default());
                self.cpus.entry(r.cpu).or_default().enter(softirq, name, r.ts);
            }
            Some(k @ (Kind::IrqExit | Kind::SoftirqExit)) => {
                if let Some(irq) = self.cpus.get_mut(&r.cpu).and_then(|c| c.leave(k == Kind::SoftirqExit, r.ts)) {
                    for t in self.threads.values_mut().filter(|t| t.exit.is_some() && t.cpu == r.cpu) {
                        t.irqs.push_back(irq.clone());
                    }
                }
            }
            Some(Kind::InjVirq) => {
                let vector = f.num("irq").or_else(|| f.num("vector")).unwrap_or(0);
                if let Some(t) = self.threads.get_mut(&pid) {
                    t.injected.push_back(Injected { event: "kvm_inj_virq", ts: r.ts, vector });
                }
            }
            Some(Kind::ApicAcceptIrq) => {
                let vector = f.num("vec").unwrap_or(0);
                let apic = f.num("apicid").and_then(|a| u32::try_from(a).ok());
                let guest = self.threads.get(&pid).and_then(|t| t.vcpu).map(|(g, _)| g).or((self.guests.len() == 1).then_some(0));
                let target = guest.zip(apic).and_then(|(g, a)| self.guests[g].thread_of(a));
                if let Some(t) = target.and_then(|p| self.threads.get_mut(&p)) {
                    t.injected.push_back(Injected { event: "kvm_apic_accept_irq", ts: r.ts, vector });
                }
            }
            _ => {}
        }
        if self.opts.lines {
            if let Some(o) = owner {
                let funcs = self.guest_input_of(o);
                let l = self.line(si, r, ev, funcs);
                if let Some(t) = self.threads.get_mut(&o) {
                    t.lines.push_back(l);
                }
            }
        }
        if let Some(p) = entered {
            self.entered(p);
        }
    }

    /// vCPU thread `pid` entered its guest: the windows waiting for it are explained, and its
    /// history pruned.
    fn entered(&mut self, pid: i32) {
        let lines = self.opts.lines;
        let Some(t) = self.threads.get_mut(&pid) else { return };
        let waiting = std::mem::take(&mut t.pending);
        let mut done = Vec::with_capacity(waiting.len());
        for mut w in waiting {
            w.gather(t, lines);
            done.push(w);
        }
        let guest = t.vcpu.map(|(g, _)| g);
        for w in done {
            self.keep(w);
        }
        let from = guest.and_then(|g| self.guests[g].earliest());
        let Some(t) = self.threads.get_mut(&pid) else { return };
        t.prune(from);
        if let (Some(g), true) = (guest, t.exits.len() > MAX_HISTORY) {
            let cut = t.exits[t.exits.len() / 2].start;
            self.discard(g, cut);
        }
    }

    /// Windows open so long that what they need outgrew [`MAX_HISTORY`] are given up (those
    /// of guest `g` that started before `cut`), to keep memory bounded; counted in the summary.
    fn discard(&mut self, g: usize, cut: u64) {
        self.summary.given_up += self.guests[g].discard_before(cut) as u64;
        self.guests[g].prune();
        self.prune_threads(g);
    }
}
