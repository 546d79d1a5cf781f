//! The host side: one state machine per vCPU thread (in the guest, exited to the host, off its
//! host CPU), and the interrupts each host CPU is handling. Finished intervals are kept in the
//! thread's history until no open window can overlap them ([`Thread::prune`]).

use std::collections::VecDeque;

/// A `kvm_exit` -> `kvm_entry` interval of a vCPU thread: the exit reason as the kvm plugin
/// names it and the guest rip, with the guest function it falls in when the guest's kallsyms
/// say. `end` is None while the vCPU is still out.
#[derive(Clone, Debug)]
pub struct Exit {
    pub start: u64,
    pub end: Option<u64>,
    pub reason: String,
    pub rip: u64,
    pub function: Option<String>,
}

/// A time the vCPU thread was off its host CPU: from the host `sched_switch` away from it
/// until the one back to it, with who ran instead and whether it was preempted (still
/// runnable) or blocked.
#[derive(Clone, Debug)]
pub struct OffCpu {
    pub start: u64,
    pub end: Option<u64>,
    pub preempted: bool,
    pub by_pid: i32,
    pub by_comm: String,
}

/// A host interrupt or softirq handled on the vCPU thread's CPU while the vCPU was out.
#[derive(Clone, Debug)]
pub struct HostIrq {
    pub name: String,
    pub start: u64,
    pub end: u64,
}

/// An interrupt injected into the vCPU (`kvm_inj_virq`, `kvm_apic_accept_irq`).
#[derive(Clone, Debug)]
pub struct Injected {
    pub event: &'static str,
    pub ts: u64,
    pub vector: u64,
}

/// A line of the merged listing: its time, its place in the timeline, its text.
pub type Line = (u64, u64, Vec<u8>);

/// One vCPU thread of the host.
#[derive(Default)]
pub struct Thread {
    pub pid: i32,
    /// (guest, vCPU) once known: from the guest's GUEST option, or from `kvm_entry`'s vcpu_id.
    pub vcpu: Option<(usize, u32)>,
    /// The host CPU it last ran on.
    pub cpu: u32,
    pub exit: Option<Exit>,
    pub off: Option<OffCpu>,
    pub exits: VecDeque<Exit>,
    pub off_cpu: VecDeque<OffCpu>,
    pub irqs: VecDeque<HostIrq>,
    pub injected: VecDeque<Injected>,
    pub lines: VecDeque<Line>,
    /// Windows that ended while this vCPU was out, waiting for its `kvm_entry`.
    pub pending: Vec<crate::explain::window::Window>,
}

impl Thread {
    pub fn new(pid: i32, vcpu: Option<(usize, u32)>) -> Thread {
        Thread { pid, vcpu, ..Thread::default() }
    }

    /// `kvm_exit`: the vCPU leaves the guest (an exit still open, after lost events, ends here).
    pub fn kvm_exit(&mut self, ts: u64, cpu: u32, reason: String, rip: u64, function: Option<String>) {
        self.cpu = cpu;
        self.kvm_entry(ts, cpu);
        self.exit = Some(Exit { start: ts, end: None, reason, rip, function });
    }

    /// `kvm_entry`: the vCPU enters the guest again; true when it closed an exit.
    pub fn kvm_entry(&mut self, ts: u64, cpu: u32) -> bool {
        self.cpu = cpu;
        self.switch_in(ts, cpu);
        match self.exit.take() {
            Some(mut e) => {
                e.end = Some(ts);
                self.exits.push_back(e);
                true
            }
            None => false,
        }
    }

    /// The host switched away from the thread. Only while the vCPU is out (the thread cannot
    /// leave its CPU from guest mode): before its first kvm event its state is not known.
    pub fn switch_out(&mut self, ts: u64, preempted: bool, by_pid: i32, by_comm: String) {
        if self.exit.is_some() && self.off.is_none() {
            self.off = Some(OffCpu { start: ts, end: None, preempted, by_pid, by_comm });
        }
    }

    /// The host switched back to the thread.
    pub fn switch_in(&mut self, ts: u64, cpu: u32) {
        self.cpu = cpu;
        if let Some(mut o) = self.off.take() {
            o.end = Some(ts);
            self.off_cpu.push_back(o);
        }
    }

    /// Forgets what ended before `from` (everything finished when None), unless a window is
    /// waiting on the thread; the open exit's own lines are kept.
    pub fn prune(&mut self, from: Option<u64>) {
        if !self.pending.is_empty() {
            return;
        }
        let from = from.unwrap_or(u64::MAX);
        let ended = |end: Option<u64>| end.is_some_and(|e| e < from);
        while self.exits.front().is_some_and(|e| ended(e.end)) {
            self.exits.pop_front();
        }
        while self.off_cpu.front().is_some_and(|o| ended(o.end)) {
            self.off_cpu.pop_front();
        }
        while self.irqs.front().is_some_and(|i| i.end < from) {
            self.irqs.pop_front();
        }
        while self.injected.front().is_some_and(|i| i.ts < from) {
            self.injected.pop_front();
        }
        let lines_from = from.min(self.exit.as_ref().map_or(u64::MAX, |e| e.start));
        while self.lines.front().is_some_and(|l| l.0 < lines_from) {
            self.lines.pop_front();
        }
    }
}

/// The softirq names of the kernel's `softirq_to_name`.
const SOFTIRQS: [&str; 10] = ["HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"];

/// What one host CPU is handling: the interrupts entered and not yet left, innermost last.
#[derive(Default)]
pub struct HostCpu {
    open: Vec<(bool, String, u64)>,
}

impl HostCpu {
    /// `irq_handler_entry` (`softirq` false: irq N and its handler's name) or `softirq_entry`.
    pub fn enter(&mut self, softirq: bool, name: String, ts: u64) {
        if self.open.len() < 64 {
            self.open.push((softirq, name, ts));
        }
    }

    /// The matching exit: the interval it closes, if its entry was seen.
    pub fn leave(&mut self, softirq: bool, ts: u64) -> Option<HostIrq> {
        let i = self.open.iter().rposition(|o| o.0 == softirq)?;
        let (_, name, start) = self.open.remove(i);
        Some(HostIrq { name, start, end: ts })
    }
}

/// The name of an irq (`irq:N NAME`) or softirq (`softirq:NAME`) as explain lists it.
pub fn irq_name(softirq: bool, number: u64, handler: &[u8]) -> String {
    if softirq {
        match SOFTIRQS.get(number as usize) {
            Some(n) => format!("softirq:{n}"),
            None => format!("softirq:{number}"),
        }
    } else {
        format!("irq:{number} {}", String::from_utf8_lossy(handler))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vcpu_thread_out_and_back() {
        let mut t = Thread::new(7, Some((0, 0)));
        // Before its first kvm event the thread's state is not known: no off-CPU time.
        t.switch_out(5, true, 9, "x".into());
        t.switch_in(6, 0);
        assert!(t.off_cpu.is_empty());
        t.kvm_exit(10, 1, "HLT".into(), 0xff, None);
        t.switch_out(12, false, 9, "stress".into());
        t.switch_in(20, 2);
        assert!(t.kvm_entry(25, 2));
        assert!(!t.kvm_entry(26, 2));
        let e = &t.exits[0];
        assert_eq!((e.start, e.end, e.reason.as_str()), (10, Some(25), "HLT"));
        let o = &t.off_cpu[0];
        assert_eq!((o.start, o.end, o.preempted, o.by_pid), (12, Some(20), false, 9));
        // An exit left open by lost events ends at the next exit.
        t.kvm_exit(30, 2, "CPUID".into(), 1, None);
        t.kvm_exit(40, 2, "HLT".into(), 2, None);
        assert_eq!(t.exits.back().map(|e| (e.start, e.end)), Some((30, Some(40))));
        t.lines.push_back((35, 1, b"x".to_vec()));
        t.lines.push_back((41, 2, b"y".to_vec()));
        t.prune(Some(30));
        assert_eq!(t.exits.len(), 1);
        assert!(t.off_cpu.is_empty());
        // The open exit's own lines stay.
        t.prune(None);
        assert!(t.exits.is_empty());
        assert_eq!(t.lines.len(), 1);
    }

    #[test]
    fn nested_irqs_and_names() {
        let mut c = HostCpu::default();
        c.enter(false, irq_name(false, 33, b"eth0"), 1);
        c.enter(true, irq_name(true, 1, b""), 2);
        assert!(c.leave(false, 3).is_some_and(|i| i.name == "irq:33 eth0" && (i.start, i.end) == (1, 3)));
        assert!(c.leave(true, 4).is_some_and(|i| i.name == "softirq:TIMER"));
        assert!(c.leave(true, 5).is_none());
        assert_eq!(irq_name(true, 99, b""), "softirq:99");
    }
}
