//! One guest's clock mapped onto its host's, per vCPU, from whichever source there is.
//!
//! Sources, tried in this order unless the user names one (`--sync`):
//! 1. the guest's TIME_SHIFT option, applied with trace-cmd's arithmetic bit for bit (what
//!    `trace-cmd report -i host -i guest` does);
//! 2. the host's `kvm_write_tsc_offset` events for the vCPU threads of this guest
//!    ([`crate::time::kvm`]), which trace-cmd never reads;
//! 3. an offset the user gives: `--tsc-offset` in KVM's sign (guest = host + offset, per vCPU
//!    or for all), or `--ts-offset` in trace-cmd's (added to guest times).
//!
//! A `--tsc-offset` given on the command line is the user's choice and wins over the guess of
//! 1 and 2. `--ts-offset` is added after whichever source maps the guest (as trace-cmd adds
//! it after TIME_SHIFT). The result is in the host's raw clock: the host's own conversion
//! (TSC2NSEC, DATE, OFFSET) then applies to host and guest records alike.

use std::sync::Arc;

use crate::format::file::Trace;
use crate::format::options::{self, TimeShift};
use crate::time::kvm::{self, Note, TscWrite, VcpuWrites};
use crate::time::timesync::TimeShiftMap;

/// The most vCPUs a guest is taken to have (KVM allows 4096; Linux at most 8192 CPUs): a CPU
/// id beyond it is damage, and per-vCPU tables are never sized by one.
pub const MAX_VCPUS: u32 = 1 << 16;

/// A guest's vCPU count: one past the greatest CPU id of its ring-buffer data (what its
/// per-vCPU clocks need; the CPU count a file declares can be anything in a damaged file).
pub fn vcpu_count(guest: &Trace) -> crate::format::error::Result<u32> {
    let mut n = 0u32;
    for b in &guest.buffers {
        if let crate::format::file::BufferKind::Flyrecord { cpus } = &b.kind {
            for d in cpus {
                if d.cpu >= MAX_VCPUS {
                    return Err(crate::format::error::Error::new(
                        format!("buffer \"{}\" CPU {}", b.name, d.cpu),
                        d.offset,
                        format!("a vCPU number below {MAX_VCPUS}"),
                    ));
                }
                n = n.max(d.cpu + 1);
            }
        }
    }
    Ok(n)
}

/// The `--sync` choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Auto,
    TimeShift,
    Kvm,
    Offset,
    /// The guest's clock is the host's.
    None,
}

impl Method {
    pub fn parse(s: &str) -> Option<Method> {
        Some(match s {
            "auto" => Method::Auto,
            "time-shift" => Method::TimeShift,
            "kvm" => Method::Kvm,
            "offset" => Method::Offset,
            "none" => Method::None,
            _ => return None,
        })
    }
}

/// What the user said about one guest.
#[derive(Clone, Debug, Default)]
pub struct Manual {
    /// `--tsc-offset GUEST[:VCPU]=N`, KVM's sign: (vCPU, or all, offset).
    pub tsc_offsets: Vec<(Option<u32>, u64)>,
    /// `--ts-offset GUEST=N`, trace-cmd's sign, in host clock units.
    pub ts_offset: i64,
    /// `--tsc-scaling GUEST=RATIO,FRAC`: KVM's TSC scaling ratio and its fraction bits.
    pub scaling: Option<(u64, u32)>,
}

/// Where a guest's host times come from, for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    TimeShift {
        samples: usize,
    },
    Kvm {
        writes: usize,
        vcpus: usize,
    },
    TscOffset,
    /// Only `--ts-offset` (or `--sync none`, with 0): the guest's clock taken as the host's.
    SameClock,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::TimeShift { samples } => write!(f, "its TIME_SHIFT option ({samples} samples)"),
            Source::Kvm { writes, vcpus } => {
                write!(f, "the host's kvm_write_tsc_offset events ({writes} writes for {vcpus} vCPUs)")
            }
            Source::TscOffset => write!(f, "the TSC offset given (--tsc-offset)"),
            Source::SameClock => write!(f, "the host's clock as its own"),
        }
    }
}

impl Source {
    /// A short name for scripts: time-shift, kvm, offset, none.
    pub fn key(&self) -> &'static str {
        match self {
            Source::TimeShift { .. } => "time-shift",
            Source::Kvm { .. } => "kvm",
            Source::TscOffset => "offset",
            Source::SameClock => "none",
        }
    }
}

/// How one vCPU's guest times become host times; stateful where the source is (kvm writes are
/// crossed in stream order), so each CPU stream being read has its own.
#[derive(Clone, Debug)]
pub enum VcpuClock {
    Shift(Arc<TimeShiftMap>, u32),
    Kvm(Box<VcpuWrites>),
    Offset { offset: u64, scaling: Option<(u64, u32)> },
    Same,
}

impl VcpuClock {
    /// The host time of this vCPU's next record, whose guest time is `guest`.
    pub fn host(&mut self, guest: u64) -> u64 {
        match self {
            VcpuClock::Shift(map, cpu) => map.host(guest, *cpu),
            VcpuClock::Kvm(w) => w.host(guest),
            VcpuClock::Offset { offset, scaling } => kvm::host_time(guest, *offset, *scaling),
            VcpuClock::Same => guest,
        }
    }

    pub fn notes(&self) -> Vec<Note> {
        match self {
            VcpuClock::Kvm(w) => w.notes(),
            _ => Vec::new(),
        }
    }

    fn scaled(&self) -> bool {
        match self {
            VcpuClock::Kvm(w) => w.scaled(),
            VcpuClock::Offset { scaling, .. } => scaling.is_some(),
            VcpuClock::Shift(..) | VcpuClock::Same => false,
        }
    }
}

/// A guest's clock: the source and a clock per vCPU, plus the user's `--ts-offset`.
#[derive(Clone, Debug)]
pub struct GuestClock {
    pub source: Source,
    vcpus: Vec<VcpuClock>,
    /// trace-cmd's sign: added to host times.
    pub ts_offset: i64,
    /// Things the user should know (a vCPU without writes of its own, ...).
    pub notes: Vec<String>,
    /// The guest's vCPU threads on the host (vCPU number to pid, -1 where unknown) that the
    /// host's writes named when no pids were given (`only_vm`): the merge's GUEST option and
    /// explain's vCPU threads come from them then.
    pub threads: Option<Vec<i32>>,
}

impl GuestClock {
    /// The clock of guest CPU `cpu`, fresh (at the start of its stream). A CPU the source
    /// has nothing for keeps its own times (as trace-cmd's TIME_SHIFT leaves CPUs beyond its
    /// count).
    pub fn vcpu(&self, cpu: u32) -> VcpuClock {
        self.vcpus.get(cpu as usize).cloned().unwrap_or(VcpuClock::Same)
    }

    /// Whether any vCPU's clock scales the TSC (KVM's ratio): host times then do not move one
    /// for one with guest times.
    pub fn scaled(&self) -> bool {
        self.vcpus.iter().any(VcpuClock::scaled)
    }

    /// The host time of `guest` read by `clock` with the user's offset.
    pub fn host(&self, clock: &mut VcpuClock, guest: u64) -> u64 {
        clock.host(guest).wrapping_add(self.ts_offset as u64)
    }
}

/// The host's side of the guest clocks: its `kvm_write_tsc_offset` events.
#[derive(Clone, Debug, Default)]
pub struct HostWrites {
    pub writes: Vec<TscWrite>,
    /// Buffers with writes on a clock that is not the TSC (their writes are not used).
    pub other_clock: Vec<String>,
}

impl HostWrites {
    /// The writes of `host` (`pace`: see [`kvm::tsc_writes`]).
    pub fn find(host: &Trace, data: &[u8], pace: &mut dyn FnMut()) -> crate::format::error::Result<HostWrites> {
        let (writes, other_clock) = kvm::tsc_writes(host, data, pace)?;
        Ok(HostWrites { writes, other_clock })
    }
}

/// The guest's TIME_SHIFT option (the last one), if it parses.
pub fn time_shift(guest: &Trace, data: &[u8]) -> Option<TimeShift> {
    guest
        .option_payload(data, options::TIME_SHIFT)
        .filter(|(o, _)| o.size >= 16)
        .and_then(|(o, p)| TimeShift::parse(p, guest.endian, o.offset).ok())
        .filter(|t| t.cpus.iter().any(|s| !s.is_empty()))
}

/// Why a guest could not be lined up: the sources looked for, in the user's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoSource(pub String);

/// The clock of one guest with `vcpus` CPUs. `pids` are its vCPU threads on the host (vCPU
/// number to pid) when known (the host's GUEST option, or `--vcpu-pids`); without them, the
/// host's writes are used only if they come from one VM (`only_vm`).
pub fn guest_clock(
    host: &HostWrites,
    guest: &Trace,
    data: &[u8],
    vcpus: u32,
    pids: Option<&[i32]>,
    method: Method,
    manual: &Manual,
) -> Result<GuestClock, NoSource> {
    let shift = time_shift(guest, data);
    let scaling = manual.scaling.or_else(|| {
        let map = TimeShiftMap::new(shift.as_ref()?);
        (0..vcpus).find_map(|c| map.scaling(c))
    });
    let mut threads = None;
    let mut kvm = |notes: &mut Vec<String>| -> Option<(Vec<VcpuClock>, Source)> {
        let vm = match pids {
            Some(p) => Some(p.to_vec()),
            None => kvm::only_vm(&host.writes).map(|pairs| {
                let n = pairs.iter().map(|p| p.0 + 1).max().unwrap_or(0);
                let mut v = vec![-1; n as usize];
                for (vcpu, pid) in pairs {
                    v[vcpu as usize] = pid;
                }
                v
            }),
        }?;
        let per = kvm::per_vcpu(&host.writes, Some(&vm), vcpus.max(vm.len() as u32));
        let writes: usize = per.iter().map(Vec::len).sum();
        if writes == 0 {
            return None;
        }
        if pids.is_none() {
            threads = Some(vm);
        }
        let clocks = per
            .iter()
            .enumerate()
            .take(vcpus as usize)
            .map(|(c, w)| {
                let w = if w.is_empty() {
                    // KVM keeps a VM's vCPUs on one offset unless the guest writes its TSC:
                    // a vCPU with no writes of its own follows the first vCPU that has some.
                    let (from, first) = per.iter().enumerate().find(|(_, w)| !w.is_empty()).unwrap_or((0, w));
                    notes.push(format!("vCPU {c} has no kvm_write_tsc_offset of its own; using vCPU {from}'s"));
                    first.clone()
                } else {
                    w.clone()
                };
                VcpuClock::Kvm(Box::new(VcpuWrites::new(c as u32, w, scaling)))
            })
            .collect();
        Some((clocks, Source::Kvm { writes, vcpus: per.iter().filter(|w| !w.is_empty()).count() }))
    };
    let offsets = || -> Option<Vec<VcpuClock>> {
        if manual.tsc_offsets.is_empty() {
            return None;
        }
        let mut v = vec![VcpuClock::Same; vcpus as usize];
        for &(cpu, offset) in &manual.tsc_offsets {
            for (c, clock) in v.iter_mut().enumerate() {
                if cpu.is_none_or(|x| x as usize == c) {
                    *clock = VcpuClock::Offset { offset, scaling };
                }
            }
        }
        Some(v)
    };
    let shifted = |t: &TimeShift| {
        let map = Arc::new(TimeShiftMap::new(t));
        let samples = map.samples();
        ((0..vcpus).map(|c| VcpuClock::Shift(map.clone(), c)).collect(), Source::TimeShift { samples })
    };
    let same = || (vec![VcpuClock::Same; vcpus as usize], Source::SameClock);
    let mut notes = Vec::new();
    let explicit_offset = !manual.tsc_offsets.is_empty();
    let chosen = match method {
        Method::Auto if explicit_offset => offsets().map(|v| (v, Source::TscOffset)),
        Method::Auto => shift.as_ref().map(shifted).or_else(|| kvm(&mut notes)).or_else(|| (manual.ts_offset != 0).then(same)),
        Method::TimeShift => shift.as_ref().map(shifted),
        Method::Kvm => kvm(&mut notes),
        Method::Offset => offsets().map(|v| (v, Source::TscOffset)).or_else(|| (manual.ts_offset != 0).then(same)),
        Method::None => Some(same()),
    };
    let Some((vcpus, source)) = chosen else {
        return Err(NoSource(no_source(host, shift.is_some(), pids.is_some(), method)));
    };
    if !host.other_clock.is_empty() && matches!(source, Source::Kvm { .. }) {
        notes.push(format!("kvm_write_tsc_offset events of {} were left out: not on a TSC clock", host.other_clock.join(", ")));
    }
    Ok(GuestClock { source, vcpus, ts_offset: manual.ts_offset, notes, threads })
}

fn no_source(host: &HostWrites, has_shift: bool, has_pids: bool, method: Method) -> String {
    let writes = if host.writes.is_empty() {
        "the host has no kvm_write_tsc_offset events".to_string()
    } else if has_pids {
        "the host's kvm_write_tsc_offset events are all from other vCPU threads".to_string()
    } else {
        "the host's kvm_write_tsc_offset events come from several VMs (say which with --vcpu-pids)".to_string()
    };
    match method {
        Method::TimeShift => "--sync time-shift, but the guest has no TIME_SHIFT option".into(),
        Method::Kvm => format!("--sync kvm, but {writes}"),
        Method::Offset => "--sync offset, but no --tsc-offset or --ts-offset was given for this guest".into(),
        _ => format!(
            "{}, {writes}, and no --tsc-offset or --ts-offset was given (--sync none if its clock is the host's)",
            if has_shift { "its TIME_SHIFT option is unreadable" } else { "it has no TIME_SHIFT option" }
        ),
    }
}
