//! A guest's clock from the host's own `kvm:kvm_write_tsc_offset` events.
//!
//! KVM defines a guest's TSC per vCPU as `((host_tsc * ratio) >> frac) + tsc_offset`, and logs
//! every change of the offset as `kvm_write_tsc_offset` (vcpu_id, previous_tsc_offset,
//! next_tsc_offset) in the vCPU thread that makes it, at the host time of the change. With the
//! writes of a vCPU in host-time order, the records of that guest CPU fall into segments: before
//! the first write the first write's previous offset is in effect, after write k its next one.
//!
//! Which segment a guest record is in is found where the guest's own stream of that CPU crosses
//! each write (Yunomae's method, LKML, 2012-11, in `../shared/seeds`): a write at host time Th
//! happens at guest time Tg = Th + previous_offset on the old clock, so the records before it
//! have guest times below Tg, and the first record after it either reaches Tg (the clock went
//! forward, or back by less than the time that passed) or is below its predecessor (the clock
//! went back). Records are taken in stream order, never sorted by guest time: after a backward
//! write, guest times repeat. A record opens the next segment whose host interval holds its
//! host time under that segment's offset.
//!
//! Writes can be ambiguous (Marcelo Tosatti's eventD in the same thread): several writes that
//! set the same guest time leave several segments that hold the same records equally well.
//! The earliest one is taken, which keeps the vCPU's host times non-decreasing and leaves the
//! later writes for later records. The others are followed record by record: one that meets a
//! record it cannot explain (the clock going back with no write left) was not possible; one
//! that survives, or reaches the taken reading's segment by its own way, was, and a warning
//! names the vCPU, the guest time and the host times of the writes that fit.
//!
//! A first write whose previous offset is 0 is the vCPU's creation (KVM's offsets start at 0
//! and a running guest's offset is never exactly 0 in practice): no record can be before it.

use crate::format::bytes::Endian;
use crate::format::error::Result;
use crate::format::event_format;
use crate::format::file::{BufferKind, Content, Trace};
use crate::format::options;
use crate::ring::records::Records;
use crate::time::timesync::Clock;

/// One `kvm_write_tsc_offset` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TscWrite {
    /// Raw host time of the write (the TSC, on an x86-tsc or tsc2nsec buffer).
    pub host: u64,
    pub vcpu: u32,
    /// The vCPU thread that made it.
    pub pid: i32,
    pub previous: u64,
    pub next: u64,
}

/// Clocks whose raw times are the TSC, which the offsets apply to.
pub fn is_tsc_clock(clock: Option<&str>) -> bool {
    matches!(clock, Some("x86-tsc" | "tsc2nsec" | "counter"))
}

/// Where the fields of `kvm_write_tsc_offset` sit in its records.
#[derive(Clone, Copy, Debug)]
struct Layout {
    id: u64,
    common_type: (usize, usize),
    pid: (usize, usize),
    vcpu: (usize, usize),
    previous: (usize, usize),
    next: (usize, usize),
}

impl Layout {
    fn find(trace: &Trace, data: &[u8]) -> Option<Layout> {
        let Some(Content::Events(systems)) = trace.content(options::EVENT_FORMATS) else { return None };
        let kvm = systems.iter().find(|s| s.name == "kvm")?;
        kvm.events.iter().find_map(|t| {
            let f = event_format::parse("kvm", trace.bytes(data, t)).ok().filter(|f| f.name == "kvm_write_tsc_offset")?;
            let at = |name: &str| f.common.iter().chain(&f.fields).find(|x| x.name == name).map(|x| (x.offset as usize, x.size as usize));
            Some(Layout {
                id: f.id as u64,
                common_type: at("common_type")?,
                pid: at("common_pid")?,
                vcpu: at("vcpu_id")?,
                previous: at("previous_tsc_offset")?,
                next: at("next_tsc_offset")?,
            })
        })
    }

    fn read(&self, endian: Endian, rec: &[u8], host: u64) -> Option<TscWrite> {
        let get = |(o, s): (usize, usize)| rec.get(o..o.checked_add(s)?).and_then(|b| endian.uint(b));
        (get(self.common_type)? == self.id).then_some(())?;
        Some(TscWrite { host, vcpu: get(self.vcpu)? as u32, pid: get(self.pid)? as u32 as i32, previous: get(self.previous)?, next: get(self.next)? })
    }
}

/// Records read between calls of the `pace` of [`tsc_writes`].
const PACE: u32 = 1 << 16;

/// Every `kvm_write_tsc_offset` in the flyrecord buffers of `trace` whose clock is the TSC, in
/// host-time order; and the names of buffers that had to be left out for another clock. The
/// whole host is read: `pace` is called every [`PACE`] records (the caller lets go of the pages
/// read so far, so that memory stays flat however large the host).
pub fn tsc_writes(trace: &Trace, data: &[u8], pace: &mut dyn FnMut()) -> Result<(Vec<TscWrite>, Vec<String>)> {
    let Some(layout) = Layout::find(trace, data) else { return Ok((Vec::new(), Vec::new())) };
    let mut writes = Vec::new();
    let mut other_clock = Vec::new();
    for (i, b) in trace.buffers.iter().enumerate() {
        if !matches!(b.kind, BufferKind::Flyrecord { .. }) {
            continue;
        }
        let mut found = Vec::new();
        let mut r = Records::new(trace, data, i, None, Clock::default(), false)?;
        let mut read = 0u32;
        while let Some(w) = r.next_with(data, |rec| layout.read(trace.endian, rec.data, rec.raw))? {
            found.extend(w);
            read += 1;
            if read == PACE {
                read = 0;
                pace();
            }
        }
        if !found.is_empty() && !is_tsc_clock(b.clock.as_deref()) {
            other_clock.push(if b.name.is_empty() { "the top buffer".to_string() } else { format!("buffer \"{}\"", b.name) });
            continue;
        }
        writes.extend(found);
    }
    writes.sort_by_key(|w| w.host);
    Ok((writes, other_clock))
}

/// The host time of guest TSC `guest` under `offset`, with KVM's scaling (ratio, fraction
/// bits) when the guest has one: the least host time the guest reads as `guest`.
pub fn host_time(guest: u64, offset: u64, scaling: Option<(u64, u32)>) -> u64 {
    let x = guest.wrapping_sub(offset);
    match scaling {
        Some((ratio, frac)) if ratio != 0 => {
            let n = (x as u128) << frac.min(63);
            n.div_ceil(ratio as u128) as u64
        }
        _ => x,
    }
}

/// What the inference noticed about one vCPU, for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// Records from `guest` on fit after several writes (their host times); the first was taken.
    Ambiguous { vcpu: u32, guest: u64, fits: Vec<u64> },
    /// The guest clock went back with no write left to explain it.
    Unexplained { vcpu: u32, guest: u64, previous: u64 },
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::Ambiguous { vcpu, guest, fits } => {
                let list: Vec<String> = fits.iter().map(u64::to_string).collect();
                write!(
                    f,
                    "vCPU {vcpu}: the records from guest time {guest} fit the TSC offsets written at host times {} alike; taking the earliest",
                    list.join(", ")
                )
            }
            Note::Unexplained { vcpu, guest, previous } => write!(
                f,
                "vCPU {vcpu}: the guest clock went back from {previous} to {guest} where no kvm_write_tsc_offset explains it; kept the offset in effect"
            ),
        }
    }
}

/// One vCPU's segments and where its stream is in them.
#[derive(Clone, Debug)]
pub struct VcpuWrites {
    vcpu: u32,
    writes: Vec<TscWrite>,
    scaling: Option<(u64, u32)>,
    /// The segment in effect: 0 before the first write, k after write k.
    seg: usize,
    last: Option<u64>,
    notes: Vec<Note>,
    /// Readings not taken that are still possible, each followed record by record in its own
    /// segment. One that meets a record it cannot explain dies; one that reaches the taken
    /// reading's segment by another way was a real alternative, and becomes a note.
    open: Vec<Reading>,
}

/// A reading not taken: where it diverged and the segments that held that record, and the
/// segment it is in now.
#[derive(Clone, Debug)]
struct Reading {
    guest: u64,
    fits: Vec<usize>,
    seg: usize,
}

/// Where a record takes a reading: the segment, or that it fits none after a jump.
enum Step {
    Stay,
    To { seg: usize, fits: Vec<usize> },
    Unfit,
}

/// Notes kept per vCPU: enough to see a pattern, bounded for a damaged or hostile trace.
const MAX_NOTES: usize = 8;
/// Readings followed at once per vCPU.
const MAX_OPEN: usize = 64;

impl VcpuWrites {
    /// The writes of one vCPU (in host-time order) and its TSC scaling, if any.
    pub fn new(vcpu: u32, writes: Vec<TscWrite>, scaling: Option<(u64, u32)>) -> VcpuWrites {
        let seg = usize::from(writes.first().is_some_and(|w| w.previous == 0));
        VcpuWrites { vcpu, writes, scaling, seg, last: None, notes: Vec::new(), open: Vec::new() }
    }

    fn offset(&self, seg: usize) -> u64 {
        match seg.checked_sub(1) {
            None => self.writes.first().map_or(0, |w| w.previous),
            Some(k) => self.writes.get(k).map_or(0, |w| w.next),
        }
    }

    /// Whether host time `h` lies in segment `seg`'s host interval.
    fn holds(&self, seg: usize, h: u64) -> bool {
        let start = seg.checked_sub(1).and_then(|k| self.writes.get(k)).map_or(0, |w| w.host);
        let end = self.writes.get(seg).map_or(u64::MAX, |w| w.host);
        start <= h && (h < end || seg == self.writes.len())
    }

    /// Where a reading in segment `seg` goes with the record of guest time `guest`, the one
    /// before it at `last`: it stays, unless the record is past the next write or the guest
    /// clock went back; then it moves to the first later segment holding the record.
    fn step(&self, seg: usize, last: Option<u64>, guest: u64) -> Step {
        let back = last.is_some_and(|l| guest < l);
        let h = host_time(guest, self.offset(seg), self.scaling);
        let crossed = self.writes.get(seg).is_some_and(|w| h >= w.host);
        if !back && !crossed {
            return Step::Stay;
        }
        let fits: Vec<usize> = (seg + 1..=self.writes.len()).filter(|&j| self.holds(j, host_time(guest, self.offset(j), self.scaling))).collect();
        match fits.first() {
            Some(&j) => Step::To { seg: j, fits },
            None => Step::Unfit,
        }
    }

    fn note(&mut self, n: Note) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(n);
        }
    }

    /// The note of a reading found to have been possible.
    fn ambiguous(&self, r: &Reading) -> Note {
        let fits = r.fits.iter().filter_map(|&k| self.writes.get(k.checked_sub(1)?).map(|w| w.host)).collect();
        Note::Ambiguous { vcpu: self.vcpu, guest: r.guest, fits }
    }

    /// The host time of the next record of this vCPU's stream, whose guest time is `guest`.
    pub fn host(&mut self, guest: u64) -> u64 {
        let last = self.last;
        // The readings not taken, first: each moves on its own, or dies.
        let mut open = std::mem::take(&mut self.open);
        open.retain_mut(|r| match self.step(r.seg, last, guest) {
            Step::Stay => true,
            Step::To { seg, .. } => {
                r.seg = seg;
                true
            }
            Step::Unfit => false,
        });
        match self.step(self.seg, last, guest) {
            Step::Stay => {}
            Step::To { seg, fits } => {
                // Several later segments hold the record with other offsets: the earliest is
                // taken (host times stay non-decreasing, later writes stay for later records),
                // the others are followed.
                for &k in fits.iter().skip(1).filter(|&&k| self.offset(k) != self.offset(seg)) {
                    open.push(Reading { guest, fits: fits.clone(), seg: k });
                }
                self.seg = seg;
            }
            Step::Unfit => {
                let back = last.filter(|&l| guest < l);
                if back.is_some() && self.seg < self.writes.len() {
                    self.seg += 1;
                } else if let Some(previous) = back {
                    self.note(Note::Unexplained { vcpu: self.vcpu, guest, previous });
                }
            }
        }
        // A reading that has come to the taken one's segment was possible all along: say so.
        let (met, still): (Vec<Reading>, Vec<Reading>) = open.into_iter().partition(|r| r.seg == self.seg);
        let mut seen: Vec<u64> = Vec::new();
        for r in met {
            if !seen.contains(&r.guest) {
                seen.push(r.guest);
                let n = self.ambiguous(&r);
                self.note(n);
            }
        }
        self.open = still;
        // Bounded for a hostile trace (every write ambiguous): the oldest readings are kept.
        self.open.truncate(MAX_OPEN);
        self.last = Some(guest);
        host_time(guest, self.offset(self.seg), self.scaling)
    }

    pub fn scaled(&self) -> bool {
        self.scaling.is_some()
    }

    /// What was noticed so far, with the ambiguous readings still open.
    pub fn notes(&self) -> Vec<Note> {
        let mut notes = self.notes.clone();
        let mut seen: Vec<u64> = notes.iter().filter_map(|n| if let Note::Ambiguous { guest, .. } = n { Some(*guest) } else { None }).collect();
        for r in &self.open {
            if notes.len() < MAX_NOTES && !seen.contains(&r.guest) {
                seen.push(r.guest);
                notes.push(self.ambiguous(r));
            }
        }
        notes
    }
}

/// The writes of a VM, split per vCPU: the writes made by its vCPU threads `pids` (vCPU number
/// to host pid), or all writes when no pids are known.
pub fn per_vcpu(writes: &[TscWrite], pids: Option<&[i32]>, vcpus: u32) -> Vec<Vec<TscWrite>> {
    let mut out = vec![Vec::new(); vcpus.min(crate::time::sync::MAX_VCPUS) as usize];
    for w in writes {
        if pids.is_some_and(|p| !p.contains(&w.pid)) {
            continue;
        }
        if let Some(v) = out.get_mut(w.vcpu as usize) {
            v.push(*w);
        }
    }
    out
}

/// The vCPU thread pids of the only VM the writes come from: each vCPU written by one thread
/// and no thread writing two vCPUs. None when the writes show several VMs (or none).
pub fn only_vm(writes: &[TscWrite]) -> Option<Vec<(u32, i32)>> {
    let mut pairs: Vec<(u32, i32)> = writes.iter().filter(|w| w.vcpu < crate::time::sync::MAX_VCPUS).map(|w| (w.vcpu, w.pid)).collect();
    pairs.sort_unstable();
    pairs.dedup();
    let one_pid_per_vcpu = pairs.windows(2).all(|p| p[0].0 != p[1].0);
    let mut pids: Vec<i32> = pairs.iter().map(|p| p.1).collect();
    pids.sort_unstable();
    let one_vcpu_per_pid = pids.windows(2).all(|p| p[0] != p[1]);
    (!pairs.is_empty() && one_pid_per_vcpu && one_vcpu_per_pid).then_some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(host: u64, previous: i64, next: i64) -> TscWrite {
        TscWrite { host, vcpu: 0, pid: 7, previous: previous as u64, next: next as u64 }
    }

    fn hosts(v: &mut VcpuWrites, guest: &[u64]) -> Vec<u64> {
        guest.iter().map(|&g| v.host(g)).collect()
    }

    #[test]
    fn forward_write() {
        // Seed 003: offset -2950 from 3000, the guest writes its TSC (+900) and KVM rewrites
        // the offset to -2050 at host 3075; guest events 53 (host 3003), 1050 and 1055 after.
        let mut v = VcpuWrites::new(0, vec![w(3000, 0, -2950), w(3075, -2950, -2050)], None);
        assert_eq!(hosts(&mut v, &[53, 99, 1050, 1055]), [3003, 3049, 3100, 3105]);
        assert!(v.notes().is_empty());
    }

    #[test]
    fn backward_write() {
        // The same with the guest setting its TSC back (-50): events 90 and 95 after the write
        // read lower than the 99 before it; then a second backward write at host 3400.
        let mut v = VcpuWrites::new(0, vec![w(3000, 0, -2950), w(3075, -2950, -3000), w(3400, -3000, -3350)], None);
        assert_eq!(hosts(&mut v, &[53, 99, 90, 95, 120, 90, 95]), [3003, 3049, 3090, 3095, 3120, 3440, 3445]);
        assert!(v.notes().is_empty());
    }

    #[test]
    fn a_write_before_the_first_record_and_no_creation() {
        // A host trace that starts after the vCPU runs: the first write's previous offset is in
        // effect before it.
        let mut v = VcpuWrites::new(0, vec![w(5000, -1000, -500)], None);
        assert_eq!(hosts(&mut v, &[3000, 3999, 4600]), [4000, 4999, 5100]);
        // Creation (previous 0): the guest cannot have run before it.
        let mut v = VcpuWrites::new(0, vec![w(5000, 0, -5000), w(9000, -5000, -8000)], None);
        assert_eq!(hosts(&mut v, &[10, 3999, 1200]), [5010, 8999, 9200]);
    }

    #[test]
    fn ambiguous_writes_take_the_earliest_and_say_so() {
        // Seed 003's eventD: three writes each setting the guest TSC to 0 (offsets -100, -104,
        // -108) and events 1 2 3 1 2 3: the second run fits after 104 and after 108.
        let mut v = VcpuWrites::new(0, vec![w(100, 0, -100), w(104, -100, -104), w(108, -104, -108)], None);
        assert_eq!(hosts(&mut v, &[1, 2, 3, 1, 2, 3]), [101, 102, 103, 105, 106, 107]);
        assert_eq!(v.notes(), [Note::Ambiguous { vcpu: 0, guest: 1, fits: vec![104, 108] }]);
        // The run going on past where the earliest reading crosses the third write: both
        // readings still hold it (the other one was in the third segment all along).
        let mut v = VcpuWrites::new(0, vec![w(100, 0, -100), w(104, -100, -104), w(108, -104, -108)], None);
        assert_eq!(hosts(&mut v, &[1, 2, 3, 1, 2, 3, 4, 5, 6]), [101, 102, 103, 105, 106, 107, 112, 113, 114]);
        assert_eq!(v.notes(), [Note::Ambiguous { vcpu: 0, guest: 1, fits: vec![104, 108] }]);
        assert_eq!(
            v.notes()[0].to_string(),
            "vCPU 0: the records from guest time 1 fit the TSC offsets written at host times 104, 108 alike; taking the earliest"
        );
        // Equal offsets are not ambiguous (the host times agree).
        let mut v = VcpuWrites::new(0, vec![w(100, 0, -100), w(104, -100, -100)], None);
        assert_eq!(hosts(&mut v, &[1, 5, 9]), [101, 105, 109]);
        assert!(v.notes().is_empty());
    }

    #[test]
    fn a_clock_going_back_with_no_write_left_is_noted() {
        let mut v = VcpuWrites::new(0, vec![w(100, 0, -100)], None);
        assert_eq!(hosts(&mut v, &[10, 5]), [110, 105]);
        assert_eq!(v.notes(), [Note::Unexplained { vcpu: 0, guest: 5, previous: 10 }]);
    }

    #[test]
    fn scaling_is_inverted_exactly() {
        // guest = ((host * ratio) >> 48) + offset with ratio 1.5 (Intel's 48 fraction bits).
        let (ratio, frac) = (3u64 << 47, 48u32);
        let offset = 1000u64.wrapping_neg();
        for host in [0u64, 1, 2, 3, 12345, 1 << 40, (1 << 62) + 7] {
            let guest = (((host as u128 * ratio as u128) >> frac) as u64).wrapping_add(offset);
            let back = host_time(guest, offset, Some((ratio, frac)));
            // The least host time the guest reads as `guest`: it maps forward to the same guest time.
            assert_eq!((((back as u128 * ratio as u128) >> frac) as u64).wrapping_add(offset), guest);
            assert!(back <= host);
        }
    }

    #[test]
    fn the_only_vm() {
        let ws = |pairs: &[(u32, i32)]| pairs.iter().map(|&(vcpu, pid)| TscWrite { host: 0, vcpu, pid, previous: 0, next: 0 }).collect::<Vec<_>>();
        assert_eq!(only_vm(&ws(&[(0, 10), (1, 11), (0, 10)])), Some(vec![(0, 10), (1, 11)]));
        assert_eq!(only_vm(&ws(&[(0, 10), (0, 20)])), None, "two threads run vCPU 0: two VMs");
        assert_eq!(only_vm(&[]), None);
    }
}
