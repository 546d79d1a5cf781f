//! `trace-cmd report -w`: wakeup latencies. A successful sched_wakeup (or sched_wakeup_new)
//! of a pid starts a clock; the sched_switch to that pid stops it, and its line gets
//! ` Latency: N.NNN usecs`. At the end, the average, maximum and minimum, and the same for
//! real-time tasks (next_prio below 100).
//!
//! As trace-cmd's: the pending wakeups are keyed by trace-cmd's 32-bit hash of the pid (two pids
//! of one hash meet as one), a second wakeup restarts the clock, and times are the record's
//! reported time (the summary reads them as nanoseconds).

use std::collections::HashMap;

use crate::format::bytes::Endian;
use crate::tep::event::Tep;

/// A field as `tep_read_number_field` reads it: (offset, size) for sizes 1, 2, 4 and 8.
type At = (usize, usize);

/// An event this summary reads: its id and fields.
struct Wake {
    id: u64,
    success: Option<At>,
    pid: At,
}

#[derive(Default)]
struct Stats {
    total: u64,
    count: u64,
    max: u64,
    max_time: u64,
    min: Option<(u64, u64)>,
}

impl Stats {
    fn add(&mut self, cal: u64, end: u64) {
        if cal > self.max {
            (self.max, self.max_time) = (cal, end);
        }
        if self.min.is_none_or(|(m, _)| cal < m) {
            self.min = Some((cal, end));
        }
        self.total = self.total.wrapping_add(cal);
        self.count += 1;
    }

    fn write(&self, out: &mut Vec<u8>) {
        let avg = self.total / self.count.max(1);
        let (min, min_time) = self.min.unwrap_or((u64::MAX, 0));
        let secs = |t: u64| format!("{}.{:06}", t / 1_000_000_000, (t.wrapping_add(500) % 1_000_000_000) / 1000);
        out.extend_from_slice(
            format!(
                "\nAverage wakeup latency: {}.{:03} usecs\nMaximum Latency: {}.{:03} usecs at timestamp: {}\nMinimum Latency: {}.{:03} usecs at timestamp: {}\n\n",
                avg / 1000,
                avg % 1000,
                self.max / 1000,
                self.max % 1000,
                secs(self.max_time),
                min / 1000,
                min % 1000,
                secs(min_time)
            )
            .as_bytes(),
        );
    }
}

/// trace-cmd's `trace_hash` (Paul Hsieh's), the key of a pending wakeup.
fn trace_hash(val: u32) -> u32 {
    let mut hash: u32 = 12546869;
    hash = hash.wrapping_add(val & 0xffff);
    let tmp = (val >> 16) ^ hash;
    hash = (hash << 16) ^ tmp;
    hash = hash.wrapping_add(hash >> 11);
    hash ^= hash << 3;
    hash = hash.wrapping_add(hash >> 5);
    hash ^= hash << 4;
    hash = hash.wrapping_add(hash >> 17);
    hash ^= hash << 25;
    hash = hash.wrapping_add(hash >> 6);
    hash
}

pub struct Wakeup {
    endian: Endian,
    wakeup: Wake,
    wakeup_new: Option<Wake>,
    switch: (u64, At, At),
    pending: HashMap<u32, u64>,
    all: Stats,
    rt: Stats,
}

impl Wakeup {
    /// The summary of a file with these events; None (no summary, as trace-cmd) without
    /// sched_wakeup's pid or sched_switch's next_pid and next_prio.
    pub fn new(tep: &Tep) -> Option<Wakeup> {
        let event = |name: &str| tep.events.iter().find(|e| e.system == "sched" && e.name == name);
        let field = |name: &str, ev: &crate::tep::event::Event| {
            ev.fields.get(ev.nr_common..)?.iter().find(|f| f.name == name).map(|f| (f.offset as usize, f.size as usize))
        };
        let wake = |name: &str| -> Option<Option<Wake>> {
            let Some(ev) = event(name) else { return Some(None) };
            Some(Some(Wake { id: ev.id, success: field("success", ev), pid: field("pid", ev)? }))
        };
        let wakeup = wake("sched_wakeup")??;
        let wakeup_new = wake("sched_wakeup_new")?;
        let sw = event("sched_switch")?;
        let switch = (sw.id, field("next_pid", sw)?, field("next_prio", sw)?);
        Some(Wakeup { endian: tep.endian, wakeup, wakeup_new, switch, pending: HashMap::new(), all: Stats::default(), rt: Stats::default() })
    }

    fn number(&self, at: At, data: &[u8]) -> Option<u64> {
        matches!(at.1, 1 | 2 | 4 | 8).then(|| self.endian.uint_at(data, at.0, at.1)).flatten()
    }

    /// After a record's line (of event `id`, at time `ts`): its latency, when it ends one.
    pub fn record(&mut self, id: u64, data: &[u8], ts: u64, out: &mut Vec<u8>) {
        let wake = [Some(&self.wakeup), self.wakeup_new.as_ref()].into_iter().flatten().find(|w| w.id == id);
        if let Some(w) = wake {
            if w.success.and_then(|s| self.number(s, data)) == Some(0) {
                return;
            }
            let Some(pid) = self.number(w.pid, data) else { return };
            self.pending.insert(trace_hash(pid as u32), ts);
        } else if id == self.switch.0 {
            let Some(prio) = self.number(self.switch.2, data) else { return };
            let Some(pid) = self.number(self.switch.1, data) else { return };
            let Some(start) = self.pending.remove(&trace_hash(pid as u32)) else { return };
            let cal = ts.wrapping_sub(start);
            self.all.add(cal, ts);
            if prio <= 99 {
                self.rt.add(cal, ts);
            }
            out.extend_from_slice(format!(" Latency: {}.{:03} usecs", cal / 1000, cal % 1000).as_bytes());
        }
    }

    /// The summary printed after the report (nothing when no latency was measured).
    pub fn summary(&self, out: &mut Vec<u8>) {
        if self.all.count == 0 {
            return;
        }
        self.all.write(out);
        if self.rt.count > 0 {
            out.extend_from_slice(b"RT task timings:\n");
            self.rt.write(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::format::event_format::TEST_COMMON_FIELDS as COMMON;

    fn tep() -> Tep {
        let wakeup =
            format!("name: sched_wakeup\nID: 10\nformat:\n{COMMON}\n\tfield:pid_t pid;\toffset:8;\tsize:4;\tsigned:1;\n\nprint fmt: \"pid=%d\", REC->pid\n");
        let switch = format!(
            "name: sched_switch\nID: 11\nformat:\n{COMMON}\n\tfield:pid_t next_pid;\toffset:8;\tsize:4;\tsigned:1;\n\tfield:int next_prio;\toffset:12;\tsize:4;\tsigned:1;\n\nprint fmt: \"next_pid=%d\", REC->next_pid\n"
        );
        Tep::of_formats(&[("sched", &wakeup), ("sched", &switch)], b"")
    }

    fn rec(id: u16, pid: u32, prio: i32) -> Vec<u8> {
        let mut r = vec![0u8; 16];
        r[..2].copy_from_slice(&id.to_le_bytes());
        r[8..12].copy_from_slice(&pid.to_le_bytes());
        r[12..16].copy_from_slice(&prio.to_le_bytes());
        r
    }

    #[test]
    fn a_wakeup_and_the_switch_to_it() {
        let mut w = Wakeup::new(&tep()).unwrap();
        let mut line = Vec::new();
        w.record(10, &rec(10, 42, 0), 1_000_000_000, &mut line);
        // A second wakeup restarts the clock; a switch to another pid measures nothing.
        w.record(10, &rec(10, 42, 0), 1_000_001_000, &mut line);
        w.record(11, &rec(11, 43, 120), 1_000_002_000, &mut line);
        assert!(line.is_empty());
        w.record(11, &rec(11, 42, 120), 1_000_003_500, &mut line);
        assert_eq!(String::from_utf8_lossy(&line), " Latency: 2.500 usecs");
        // Only once: the wakeup is used up.
        line.clear();
        w.record(11, &rec(11, 42, 120), 1_000_009_000, &mut line);
        assert!(line.is_empty());
        w.record(10, &rec(10, 7, 0), 2_000_000_000, &mut line);
        w.record(11, &rec(11, 7, 50), 2_000_000_700, &mut line);
        let mut out = Vec::new();
        w.summary(&mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "\nAverage wakeup latency: 1.600 usecs\nMaximum Latency: 2.500 usecs at timestamp: 1.000004\nMinimum Latency: 0.700 usecs at timestamp: 2.000001\n\n\
             RT task timings:\n\nAverage wakeup latency: 0.700 usecs\nMaximum Latency: 0.700 usecs at timestamp: 2.000001\nMinimum Latency: 0.700 usecs at timestamp: 2.000001\n\n"
        );
    }

    #[test]
    fn no_summary_without_the_events() {
        assert!(Wakeup::new(&Tep::of_formats(&[], b"")).is_none());
    }
}
