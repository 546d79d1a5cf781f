//! Options: `u16 id, u32 size, payload`, in file order, decoded into typed values.
//!
//! v6 keeps one list after the `options  \0` tag, ended by a bare u16 0. v7 keeps them in
//! options sections (section id 0), each ended by DONE (id 0, size 8) whose payload is the
//! offset of the next options section, 0 for the last; the chain is followed by the caller
//! ([`crate::format::file`]), which also keeps the raw payload bytes so that unknown options survive a
//! rewrite byte for byte.
//!
//! Payload layouts follow trace-cmd's writer (trace-record.c, trace-output.c,
//! trace-timesync.c) rather than the man pages where the two disagree (PROCMAPS pids are hex,
//! TIME_SHIFT arrays are three separate arrays with fraction bits appended after all CPUs).

use crate::format::bytes::{Cursor, Endian};
use crate::format::error::Result;

/// Defines each option id once, and [`IDS`] naming them all (exported to TypeScript as they are
/// spelled here).
macro_rules! option_ids {
    ($($name:ident = $id:expr,)*) => {
        $(pub const $name: u16 = $id;)*
        /// Every option id this crate knows, by its constant's name.
        pub const IDS: &[(&str, u16)] = &[$((stringify!($name), $name)),*];
    };
}

option_ids! {
    DONE = 0,
    DATE = 1,
    CPUSTAT = 2,
    BUFFER = 3,
    TRACECLOCK = 4,
    UNAME = 5,
    HOOK = 6,
    OFFSET = 7,
    CPUCOUNT = 8,
    VERSION = 9,
    PROCMAPS = 10,
    TRACEID = 11,
    TIME_SHIFT = 12,
    GUEST = 13,
    TSC2NSEC = 14,
    STRINGS = 15,
    HEADER_INFO = 16,
    FTRACE_EVENTS = 17,
    EVENT_FORMATS = 18,
    KALLSYMS = 19,
    PRINTK = 20,
    CMDLINES = 21,
    BUFFER_TEXT = 22,
    BTF_FILE = 23,
    LAST_BOOT_INFO = 24,
    MODULES_FILE = 25,
}

/// The name trace-cmd's dump prints for an option id, where it has one.
pub fn name(id: u16) -> Option<&'static str> {
    Some(match id {
        DONE => "DONE",
        DATE => "DATE",
        CPUSTAT => "CPUSTAT",
        BUFFER => "BUFFER",
        TRACECLOCK => "TRACECLOCK",
        UNAME => "UNAME",
        HOOK => "HOOK",
        OFFSET => "OFFSET",
        CPUCOUNT => "CPUCOUNT",
        VERSION => "VERSION",
        PROCMAPS => "PROCMAPS",
        TRACEID => "TRACEID",
        TIME_SHIFT => "TimeShift",
        GUEST => "GUEST",
        TSC2NSEC => "TSC2NSEC",
        STRINGS => "STRINGS",
        HEADER_INFO => "HEADERS",
        FTRACE_EVENTS => "FTRACE EVENTS",
        EVENT_FORMATS => "EVENT FORMATS",
        KALLSYMS => "KALLSYMS",
        PRINTK => "PRINTK",
        CMDLINES => "CMDLINES",
        BUFFER_TEXT => "BUFFER_TEXT",
        BTF_FILE => "BTF_FILE",
        LAST_BOOT_INFO => "LAST_BOOT_INFO",
        MODULES_FILE => "MODULES_FILE",
        _ => return None,
    })
}

/// Bytes before an option's payload: `u16 id, u32 size`.
pub const OPTION_HEADER: u64 = 6;

/// File offset of the payload of the option whose id field is at `at` (the offset the parsers
/// below take, as [`RawOption::offset`] and `OptionRecord::offset` hold it), for errors that
/// name the byte they stopped at.
fn payload_offset(at: u64) -> u64 {
    at.saturating_add(OPTION_HEADER)
}

/// One option as stored: where it is and its raw payload.
#[derive(Clone, Debug)]
pub struct RawOption<'a> {
    pub id: u16,
    /// File offset of the option's id field (virtual if its section was compressed).
    pub offset: u64,
    pub size: u32,
    pub payload: &'a [u8],
}

/// Reads the next option of a v7 section or a v6 list. Returns None at a v6 end marker.
pub fn read<'a>(c: &mut Cursor<'a>, v6: bool) -> Result<Option<RawOption<'a>>> {
    let offset = c.offset();
    let id = c.u16("an option id")?;
    if v6 && id == DONE {
        return Ok(None);
    }
    let size = c.u32("an option size")?;
    let payload = c.bytes(size as usize, "the option payload")?;
    Ok(Some(RawOption { id, offset, size, payload }))
}

/// A BUFFER (v6 or v7) or BUFFER_TEXT option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferOption {
    /// v6: offset of the instance's `flyrecord` (or `options`) tag; v7: of its section header.
    pub offset: u64,
    pub name: String,
    /// v7 only.
    pub clock: Option<String>,
    /// v7 BUFFER only: sub-buffer size and the CPUs with data.
    pub page_size: Option<u32>,
    pub cpus: Vec<CpuEntry>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuEntry {
    pub cpu: u32,
    pub offset: u64,
    pub size: u64,
}

impl BufferOption {
    /// `at` is the offset of the option's id field.
    pub fn parse(id: u16, payload: &[u8], endian: Endian, v7: bool, at: u64) -> Result<BufferOption> {
        let mut c = Cursor::new(payload, payload_offset(at), endian, "BUFFER option");
        let offset = c.u64("the buffer offset")?;
        let name = lossy(c.cstr("the buffer name")?);
        if !v7 {
            return Ok(BufferOption { offset, name, clock: None, page_size: None, cpus: Vec::new() });
        }
        let clock = Some(lossy(c.cstr("the buffer clock")?));
        if id == BUFFER_TEXT {
            return Ok(BufferOption { offset, name, clock, page_size: None, cpus: Vec::new() });
        }
        let page_size = c.u32("the buffer page size")?;
        let n = c.u32("the buffer CPU count")?;
        let mut cpus = Vec::with_capacity(c.count(n, 20, |left| format!("{n} CPU entries of 20 bytes, only {left} bytes left"))?);
        for _ in 0..n {
            let cpu = c.u32("a CPU id")?;
            let offset = c.u64("a CPU data offset")?;
            let size = c.u64("a CPU data size")?;
            cpus.push(CpuEntry { cpu, offset, size });
        }
        Ok(BufferOption { offset, name, clock, page_size: Some(page_size), cpus })
    }
}

/// One time-sync sample of a guest vCPU (TIME_SHIFT): at guest time `time`, the host time is
/// `(guest * scaling) >> fraction + offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TsSample {
    pub time: i64,
    pub offset: i64,
    pub scaling: i64,
    pub fraction: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeShift {
    /// The host's TRACEID.
    pub peer_id: u64,
    /// bit 0: interpolate between samples.
    pub flags: u32,
    /// Samples per guest vCPU, in file order (not yet sorted).
    pub cpus: Vec<Vec<TsSample>>,
}

impl TimeShift {
    pub fn parse(payload: &[u8], endian: Endian, at: u64) -> Result<TimeShift> {
        let mut c = Cursor::new(payload, payload_offset(at), endian, "TIME_SHIFT option");
        let peer_id = c.u64("the peer trace id")?;
        let flags = c.u32("the protocol flags")?;
        let n = c.u32("the CPU count")?;
        let mut cpus = Vec::with_capacity(c.count(n, 4, |left| format!("{n} per-CPU sample counts, only {left} bytes left"))?);
        for _ in 0..n {
            let count = c.u32("a sample count")?;
            let count = c.count(count, 24, |left| format!("{count} samples of 24 bytes, only {left} bytes left"))?;
            let mut read = |what: &str| -> Result<Vec<i64>> { (0..count).map(|_| c.u64(what).map(|v| v as i64)).collect() };
            let times = read("a sample time")?;
            let offsets = read("a sample offset")?;
            let scalings = read("a sample scaling")?;
            cpus.push(
                times
                    .iter()
                    .zip(&offsets)
                    .zip(&scalings)
                    .map(|((&time, &offset), &scaling)| TsSample { time, offset, scaling, fraction: 0 })
                    .collect::<Vec<_>>(),
            );
        }
        // Fraction bits were appended later, after all CPUs, for old readers' sake.
        if !c.is_empty() {
            for samples in cpus.iter_mut() {
                for s in samples.iter_mut() {
                    s.fraction = c.u64("a sample fraction")? as i64;
                }
            }
        }
        Ok(TimeShift { peer_id, flags, cpus })
    }

    /// The payload [`TimeShift::parse`] reads: every CPU's count and three arrays, then all
    /// fraction bits.
    pub fn encode(&self, e: Endian) -> Vec<u8> {
        let mut p = e.put_u64(self.peer_id).to_vec();
        p.extend_from_slice(&e.put_u32(self.flags));
        p.extend_from_slice(&e.put_u32(self.cpus.len() as u32));
        for samples in &self.cpus {
            p.extend_from_slice(&e.put_u32(samples.len() as u32));
            for field in [|s: &TsSample| s.time, |s: &TsSample| s.offset, |s: &TsSample| s.scaling] {
                for s in samples {
                    p.extend_from_slice(&e.put_u64(field(s) as u64));
                }
            }
        }
        for s in self.cpus.iter().flatten() {
            p.extend_from_slice(&e.put_u64(s.fraction as u64));
        }
        p
    }
}

/// GUEST (host file): which host threads run which vCPUs of a guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guest {
    pub name: String,
    pub trace_id: u64,
    /// (vcpu, host pid); the pid is -1 for network guests.
    pub vcpus: Vec<(u32, i32)>,
}

impl Guest {
    pub fn parse(payload: &[u8], endian: Endian, at: u64) -> Result<Guest> {
        let mut c = Cursor::new(payload, payload_offset(at), endian, "GUEST option");
        let name = lossy(c.cstr("the guest name")?);
        let trace_id = c.u64("the guest trace id")?;
        let n = c.u32("the guest CPU count")?;
        c.count(n, 8, |left| format!("{n} vCPU entries of 8 bytes, only {left} bytes left"))?;
        let vcpus = (0..n).map(|_| Ok((c.u32("a guest CPU")?, c.u32("a host pid")? as i32))).collect::<Result<Vec<_>>>()?;
        Ok(Guest { name, trace_id, vcpus })
    }

    /// The payload [`Guest::parse`] reads.
    pub fn encode(&self, e: Endian) -> Vec<u8> {
        let mut p = self.name.as_bytes().to_vec();
        p.push(0);
        p.extend_from_slice(&e.put_u64(self.trace_id));
        p.extend_from_slice(&e.put_u32(self.vcpus.len() as u32));
        for &(cpu, pid) in &self.vcpus {
            p.extend_from_slice(&e.put_u32(cpu));
            p.extend_from_slice(&e.put_u32(pid as u32));
        }
        p
    }
}

/// TSC2NSEC: ns = (tsc * mult) >> shift (+ offset, which trace-cmd parses but never applies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tsc2Nsec {
    pub mult: u32,
    pub shift: u32,
    pub offset: u64,
}

impl Tsc2Nsec {
    pub fn parse(payload: &[u8], endian: Endian, at: u64) -> Result<Tsc2Nsec> {
        let mut c = Cursor::new(payload, payload_offset(at), endian, "TSC2NSEC option");
        Ok(Tsc2Nsec { mult: c.u32("the multiplier")?, shift: c.u32("the shift")?, offset: c.u64("the offset")? })
    }

    /// The payload [`Tsc2Nsec::parse`] reads.
    pub fn encode(&self, e: Endian) -> Vec<u8> {
        let mut p = e.put_u32(self.mult).to_vec();
        p.extend_from_slice(&e.put_u32(self.shift));
        p.extend_from_slice(&e.put_u64(self.offset));
        p
    }
}

/// The text of a string option, up to its first NUL.
pub fn text(payload: &[u8]) -> String {
    let end = payload.iter().position(|&b| b == 0).unwrap_or(payload.len());
    lossy(&payload[..end])
}

pub fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_shift_with_fractions() {
        let mut p = Vec::new();
        p.extend_from_slice(&0x1234u64.to_le_bytes());
        p.extend_from_slice(&1u32.to_le_bytes());
        p.extend_from_slice(&1u32.to_le_bytes());
        p.extend_from_slice(&2u32.to_le_bytes());
        for v in [10i64, 20, -5, -7, 1, 1, 3, 4] {
            p.extend_from_slice(&v.to_le_bytes());
        }
        let ts = TimeShift::parse(&p, Endian::Little, 0).unwrap();
        assert_eq!(ts.cpus[0][1], TsSample { time: 20, offset: -7, scaling: 1, fraction: 4 });
    }

    #[test]
    fn hostile_counts_are_refused_before_allocating() {
        let mut p = vec![0u8; 12];
        p.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(TimeShift::parse(&p, Endian::Little, 0).is_err());
        let mut g = b"g\0".to_vec();
        g.extend_from_slice(&[0; 8]);
        g.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(Guest::parse(&g, Endian::Little, 0).is_err());
    }

    #[test]
    fn buffer_option_errors_name_the_byte_in_the_file() {
        // A v7 BUFFER option whose id field is at 1000: payload at 1006, offset (8), name "\0",
        // clock "c\0", page size (4), then a CPU count at 1021 that the payload cannot hold.
        let mut p = 4096u64.to_le_bytes().to_vec();
        p.extend_from_slice(b"\0c\0");
        p.extend_from_slice(&4096u32.to_le_bytes());
        p.extend_from_slice(&u32::MAX.to_le_bytes());
        let e = BufferOption::parse(BUFFER, &p, Endian::Little, true, 1000).unwrap_err();
        assert_eq!(e.section, "BUFFER option");
        assert_eq!(e.offset, 1025, "just past the CPU count at 1021");
        assert_eq!(e.expected, "4294967295 CPU entries of 20 bytes, only 0 bytes left");
        let e = Tsc2Nsec::parse(&[0; 4], Endian::Little, 50).unwrap_err();
        assert_eq!(e.offset, 60, "the shift, after the payload's 4-byte multiplier at 56");
    }
}
