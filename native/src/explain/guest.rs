//! The guest side: the windows open in one guest (a wakeup waiting for its task to run, or a
//! `--from` record waiting for its `--to`), and the guest's lines kept while any is open.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::explain::host::Line;
use crate::tep::filter::Filters;

/// A window opened and not closed yet.
pub struct Open {
    pub start: u64,
    pub cpu: u32,
    pub pid: i32,
    pub comm: String,
    /// The opening record's line (text output only).
    pub line: Option<Line>,
}

/// The most guest CPUs whose lines are kept (a damaged record may name any CPU).
const MAX_CPUS: usize = 4096;

pub struct Guest {
    pub name: String,
    /// The input whose event table reads its records.
    pub input: usize,
    /// Host pid per vCPU: from the GUEST option (or `--vcpu-pids`), else learned from
    /// `kvm_entry`; -1 or 0 where not known.
    pub pids: Vec<i32>,
    /// Whether the user's `--guest` leaves it in.
    pub selected: bool,
    /// The user's pair, compiled on the guest's events (None: wakeup windows).
    pub pair: Option<(Filters, Filters)>,
    /// Open windows by key: the woken pid, or the `--match` value (the CPU without one).
    opens: HashMap<Vec<u8>, Open>,
    /// The start times of the open windows, counted (the earliest bounds what is kept).
    starts: BTreeMap<u64, usize>,
    /// Per guest CPU, its lines since the earliest open window.
    lines: Vec<VecDeque<Line>>,
}

impl Guest {
    pub fn new(name: String, input: usize, pids: Vec<i32>, selected: bool, pair: Option<(Filters, Filters)>) -> Guest {
        Guest { name, input, pids, selected, pair, opens: HashMap::new(), starts: BTreeMap::new(), lines: Vec::new() }
    }

    /// The host pid of vCPU `v`'s thread, if known.
    pub fn thread_of(&self, v: u32) -> Option<i32> {
        self.pids.get(v as usize).copied().filter(|&p| p > 0)
    }

    pub fn is_open(&self, key: &[u8]) -> bool {
        self.opens.contains_key(key)
    }

    pub fn any_open(&self) -> bool {
        !self.opens.is_empty()
    }

    /// Opens a window unless one is open under `key` (the first record opening it counts).
    pub fn open(&mut self, key: Vec<u8>, open: Open) {
        if self.opens.contains_key(&key) {
            return;
        }
        *self.starts.entry(open.start).or_default() += 1;
        self.opens.insert(key, open);
    }

    pub fn close(&mut self, key: &[u8]) -> Option<Open> {
        let o = self.opens.remove(key)?;
        if let Some(n) = self.starts.get_mut(&o.start) {
            *n -= 1;
            if *n == 0 {
                self.starts.remove(&o.start);
            }
        }
        Some(o)
    }

    /// Drops the open windows that started before `ts` (what they need is no longer kept);
    /// how many.
    pub fn discard_before(&mut self, ts: u64) -> usize {
        let before = self.opens.len();
        self.opens.retain(|_, o| o.start >= ts);
        self.starts = self.starts.split_off(&ts);
        before - self.opens.len()
    }

    /// The middle start of the open windows, when more than `limit` are open.
    pub fn opens_over(&self, limit: usize) -> Option<u64> {
        if self.opens.len() <= limit {
            return None;
        }
        let mut seen = 0;
        self.starts
            .iter()
            .find(|(_, &n)| {
                seen += n;
                seen > self.opens.len() / 2
            })
            .map(|(&t, _)| t)
    }

    /// The time of the middle line of the longest line history, when one holds more than
    /// `limit` lines.
    pub fn lines_over(&self, limit: usize) -> Option<u64> {
        let l = self.lines.iter().find(|l| l.len() > limit)?;
        l.get(l.len() / 2).map(|l| l.0)
    }

    /// The start of the earliest open window.
    pub fn earliest(&self) -> Option<u64> {
        self.starts.keys().next().copied()
    }

    pub fn push_line(&mut self, cpu: u32, line: Line) {
        let c = cpu as usize;
        if c >= MAX_CPUS {
            return;
        }
        if self.lines.len() <= c {
            self.lines.resize_with(c + 1, VecDeque::new);
        }
        self.lines[c].push_back(line);
    }

    /// The lines of guest CPU `cpu` from `from` to `to`.
    pub fn lines_of(&self, cpu: u32, from: u64, to: u64) -> Vec<Line> {
        self.lines.get(cpu as usize).map(|l| l.iter().filter(|l| (from..=to).contains(&l.0)).cloned().collect()).unwrap_or_default()
    }

    /// Forgets the lines no open window reaches back to.
    pub fn prune(&mut self) {
        let from = self.earliest().unwrap_or(u64::MAX);
        for l in &mut self.lines {
            while l.front().is_some_and(|l| l.0 < from) {
                l.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(start: u64) -> Open {
        Open { start, cpu: 0, pid: 1, comm: String::new(), line: None }
    }

    #[test]
    fn open_windows_bound_what_is_kept() {
        let mut g = Guest::new("g".into(), 1, vec![-1, 5], true, None);
        assert_eq!((g.thread_of(0), g.thread_of(1), g.thread_of(2)), (None, Some(5), None));
        g.open(b"a".to_vec(), open(10));
        g.open(b"a".to_vec(), open(11));
        g.open(b"b".to_vec(), open(20));
        g.open(b"c".to_vec(), open(30));
        assert_eq!(g.earliest(), Some(10));
        assert_eq!(g.opens_over(2), Some(20));
        assert_eq!(g.opens_over(3), None);
        g.push_line(0, (5, 0, Vec::new()));
        g.push_line(0, (15, 1, Vec::new()));
        g.prune();
        assert_eq!(g.lines_of(0, 0, 100).len(), 1);
        assert_eq!(g.close(b"a").map(|o| o.start), Some(10));
        assert_eq!(g.earliest(), Some(20));
        assert_eq!(g.discard_before(25), 1);
        assert_eq!(g.earliest(), Some(30));
        assert!(g.is_open(b"c") && !g.is_open(b"b"));
        g.push_line(5000, (1, 2, Vec::new()));
        assert_eq!(g.lines_of(5000, 0, 10).len(), 0);
    }
}
