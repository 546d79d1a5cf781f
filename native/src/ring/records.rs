//! Records of one buffer in time order: one cursor per CPU, merged by reported time.
//!
//! Each CPU cursor walks its stream page by page and its pages event by event; the merge
//! picks the smallest reported timestamp, ties going to the lower CPU, which is the order
//! trace-cmd's report prints. Records leave Rust in batches (see [`encode`]) so that crossing
//! into JavaScript costs one call per few thousand events, not one per event.
//!
//! Every page is checked whole before its first event is taken. Damage is an error, or, when
//! the cursor salvages, the damaged page (or chunk, or the rest of the CPU's data when nothing
//! after the damage can be located) is stepped over and kept in [`CpuCursor::skipped`]. The
//! error comes as a streaming reader's would: after every record merged before the damaged
//! CPU's last good one, that one included (see [`Records::next_with`]), and it stays the
//! answer to every call after it.

use crate::format::bytes::Endian;
use crate::format::error::{Error, Result};
use crate::format::file::{BufferKind, CpuData, Trace};
use crate::merge::kway::KWay;
use crate::ring::page::{Missed, Page, Slot};
use crate::ring::stream::{CpuStream, PageAt, Skipped};
use crate::time::sync::{GuestClock, VcpuClock};
use crate::time::timesync::Clock;

/// A record's place in its CPU's current page.
#[derive(Clone, Copy, Debug)]
struct Peeked {
    ts: u64,
    raw: u64,
    missed: Missed,
    data_start: usize,
    data_len: usize,
}

/// A region a salvaging cursor stepped over, and the damage that made it do so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    /// "page", "chunk", "rest of the CPU data" or "CPU data".
    pub what: &'static str,
    pub error: Error,
    /// The bytes stepped over: from file offset `at`, `bytes` of them (a page inside a
    /// compressed chunk: the page's size at the chunk's offset).
    pub at: u64,
    pub bytes: u64,
}

pub struct CpuCursor {
    stream: CpuStream,
    salvage: bool,
    /// What salvaging stepped over, in stream order (drained by the caller).
    pub skipped: Vec<Skip>,
    /// The data events of the current page, decoded when it was loaded, and the next one's
    /// index (the first carries the page's lost-events mark, `missed`, as in kbuffer).
    events: Vec<Slot>,
    next: usize,
    missed: Missed,
    peeked: Option<Peeked>,
    /// Records taken so far.
    pub count: u64,
    /// A guest's clock onto its host's, for a guest read on host time (applied in stream
    /// order, before the buffer's clock).
    guest: Option<VcpuClock>,
}

impl CpuCursor {
    pub fn cpu(&self) -> u32 {
        self.stream.cpu
    }

    fn page_error(&self, at: Option<PageAt>, in_page: usize, expected: String) -> Error {
        match at {
            Some(PageAt { offset, in_chunk: None }) => Error::new(self.stream.what.clone(), offset + in_page as u64, expected),
            Some(p @ PageAt { in_chunk: Some(_), .. }) => Error::new(format!("{}, {} (byte {} of the page)", self.stream.what, p, in_page), p.offset, expected),
            None => Error::new(self.stream.what.clone(), 0, expected),
        }
    }

    /// Salvaging: keeps the damage and goes on; otherwise the damage is the error.
    fn damaged(&mut self, what: &'static str, error: Error, at: u64, bytes: u64) -> Result<()> {
        if !self.salvage {
            return Err(error);
        }
        self.skipped.push(Skip { what, error, at, bytes });
        Ok(())
    }

    /// The file bytes of the current page: the page, or for a page of a compressed chunk, the
    /// page's size at the chunk's offset.
    fn page_region(&self) -> (u64, u64) {
        (self.stream.current().map_or(0, |p| p.offset), self.stream.page_size() as u64)
    }

    /// Finds the next event, loading pages as needed. Every turn of the loop that meets
    /// damage has moved the stream past it, so the loop ends. Inlined: taking the next event
    /// of a decoded page is the per-record step of every pass; loading a page is not.
    #[inline(always)]
    fn peek(&mut self, file: &[u8], endian: Endian, long: u8, clock: &Clock) -> Result<Option<Peeked>> {
        if let Some(p) = self.peeked {
            return Ok(Some(p));
        }
        loop {
            if let Some(ev) = self.events.get(self.next) {
                let missed = if self.next == 0 { self.missed } else { Missed::None };
                self.next += 1;
                let host = self.guest.as_mut().map_or(ev.ts, |g| g.host(ev.ts));
                let p = Peeked { ts: clock.convert(host, self.stream.cpu), raw: ev.ts, missed, data_start: ev.start as usize, data_len: ev.len as usize };
                self.peeked = Some(p);
                return Ok(Some(p));
            }
            if !self.load(file, endian, long)? {
                return Ok(None);
            }
        }
    }

    /// Steps to the next page and decodes it into `events` (none when it is damaged and
    /// salvaged): false at the end of the stream.
    #[inline(never)]
    fn load(&mut self, file: &[u8], endian: Endian, long: u8) -> Result<bool> {
        match self.stream.advance(file) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(d) => {
                self.damaged(d.skipped.name(), d.error, d.at, d.bytes)?;
                return Ok(true);
            }
        }
        let bytes = self.stream.page(file);
        self.next = 0;
        let events = &mut self.events;
        match Page::new(bytes, endian, long).and_then(|p| {
            let missed = p.missed;
            p.events_into(bytes, events).map(|()| missed)
        }) {
            Ok(missed) => self.missed = missed,
            Err(e) => {
                self.events.clear();
                let error = self.page_error(self.stream.current(), e.offset, e.expected);
                let (at, bytes) = self.page_region();
                self.damaged("page", error, at, bytes)?;
            }
        }
        Ok(true)
    }
}

/// The merged records of one buffer.
pub struct Records {
    pub clock: Clock,
    endian: Endian,
    long: u8,
    pub cpus: Vec<CpuCursor>,
    /// The CPUs by the reported time of their next record; built on first use.
    order: Option<KWay>,
    /// The damage that stopped the records (without salvage): the record before it was
    /// delivered, every call after it returns it.
    failed: Option<Error>,
}

/// One record, borrowed from its page.
pub struct Record<'a> {
    pub ts: u64,
    pub raw: u64,
    pub cpu: u32,
    pub missed: i64,
    pub data: &'a [u8],
    /// From the record's start to the end of the bytes its page sits in (what C code reading
    /// past a record's end sees).
    pub rest: &'a [u8],
}

impl Records {
    /// Cursors over `buffer` of `trace`, restricted to `cpus` when given; with `salvage`,
    /// damaged pages and chunks are stepped over (see the module doc).
    pub fn new(trace: &Trace, file: &[u8], buffer: usize, cpus: Option<&[u32]>, clock: Clock, salvage: bool) -> Result<Records> {
        let b = trace.buffers.get(buffer).ok_or_else(|| Error::new("buffers", 0, format!("a buffer number below {}", trace.buffers.len())))?;
        let BufferKind::Flyrecord { cpus: list } = &b.kind else {
            return Err(Error::new(format!("buffer \"{}\"", b.name), 0, "a flyrecord buffer (this one holds latency tracer text)"));
        };
        let mut cursors = Vec::new();
        let mut sorted: Vec<_> = list.iter().filter(|d| cpus.is_none_or(|c| c.contains(&d.cpu))).collect();
        sorted.sort_by_key(|d| d.cpu);
        for d in sorted {
            let mut skipped = Vec::new();
            let stream = match CpuStream::new(file, trace.endian, trace.codec, d, b.page_size, &b.name) {
                Ok(s) => s,
                Err(error) if salvage => {
                    // Uncompressed data cut short by the end of the file: read the whole
                    // pages that are there. Anything else cannot be located at all.
                    let ps = u64::from(b.page_size.max(1));
                    let there = (file.len() as u64).saturating_sub(d.offset) / ps * ps;
                    let cut = CpuData { size: there.min(d.size), ..d.clone() };
                    match CpuStream::new(file, trace.endian, trace.codec, &cut, b.page_size, &b.name) {
                        Ok(s) if trace.codec.is_none() && cut.size > 0 => {
                            let (at, bytes) = (d.offset + cut.size, d.size - cut.size);
                            skipped.push(Skip { what: Skipped::Rest.name(), error, at, bytes });
                            s
                        }
                        _ => {
                            skipped.push(Skip { what: Skipped::Cpu.name(), error, at: d.offset, bytes: d.size });
                            CpuStream::empty(d.cpu, &b.name)
                        }
                    }
                }
                Err(e) => return Err(e),
            };
            cursors.push(CpuCursor { stream, salvage, skipped, events: Vec::new(), next: 0, missed: Missed::None, peeked: None, count: 0, guest: None });
        }
        Ok(Records { clock, endian: trace.endian, long: trace.kernel_long, cpus: cursors, order: None, failed: None })
    }

    /// Reads a guest's records on its host's time: each CPU's times go through `guest`'s
    /// clock of that vCPU before this buffer's clock (which is then the host's). Before the
    /// first record only.
    pub fn set_guest_clock(&mut self, guest: &GuestClock) {
        for c in &mut self.cpus {
            c.guest = Some(guest.vcpu(c.stream.cpu));
        }
    }

    /// The largest page of any CPU: no record's data is longer.
    pub fn max_page_size(&self) -> usize {
        self.cpus.iter().map(|c| c.stream.page_size()).max().unwrap_or(0)
    }

    /// The merge of the CPUs, built on first use; the damage that stopped the records, once
    /// found. Inlined: every record goes through it, and past the first it is two tests.
    #[inline(always)]
    fn order(&mut self, file: &[u8]) -> Result<&mut KWay> {
        if self.failed.is_some() || self.order.is_none() {
            self.start_order(file)?;
        }
        Ok(self.order.get_or_insert_with(KWay::default))
    }

    /// The merge built (each CPU's first record peeked), or the damage that stopped it.
    #[inline(never)]
    fn start_order(&mut self, file: &[u8]) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let (endian, long, cpus, clock) = (self.endian, self.long, &mut self.cpus, &self.clock);
        match KWay::build(cpus.len(), |i| Ok(cpus[i].peek(file, endian, long, clock)?.map(|p| p.ts))) {
            Ok(k) => {
                self.order = Some(k);
                Ok(())
            }
            Err(e) => Err(self.failed.insert(e).clone()),
        }
    }

    /// The reported time of the record `next_with` would return (its key in the merge).
    #[inline]
    pub fn next_ts(&mut self, file: &[u8]) -> Result<Option<u64>> {
        Ok(self.order(file)?.peek().map(|(ts, _)| ts))
    }

    /// The record `next_with` would return, without taking it (trace-cmd's
    /// tracecmd_peek_next_data, which report's function_graph printer looks ahead with).
    pub fn peek_with<R>(&mut self, file: &[u8], f: impl FnOnce(Record<'_>) -> R) -> Result<Option<R>> {
        let Some((_, i)) = self.order(file)?.peek() else { return Ok(None) };
        let Some(c) = self.cpus.get(i) else { return Ok(None) };
        let Some(p) = c.peeked else { return Ok(None) };
        let page = c.stream.page(file);
        let data = page.get(p.data_start..p.data_start + p.data_len).unwrap_or(&[]);
        let rest = c.stream.tail(file).get(p.data_start..).unwrap_or(&[]);
        Ok(Some(f(Record { ts: p.ts, raw: p.raw, cpu: c.stream.cpu, missed: p.missed.as_i64(), data, rest })))
    }

    /// The next record in time order, or None at the end. `f` gets it while it is borrowed.
    /// Damage met looking for the record after it (see the module doc) is the error of the
    /// next call: a CPU's last record before its damage is delivered, and nothing after it,
    /// since where the other CPUs' later records fall against the lost ones is unknown.
    pub fn next_with<R>(&mut self, file: &[u8], f: impl FnOnce(Record<'_>) -> R) -> Result<Option<R>> {
        let (endian, long) = (self.endian, self.long);
        let Some((_, i)) = self.order(file)?.pop() else { return Ok(None) };
        let c = &mut self.cpus[i];
        let p = c.peeked.take().expect("a CPU in the heap has a peeked record");
        c.count += 1;
        // (The page is the start of its tail: the record's bytes are the same in both.)
        let tail = c.stream.tail(file);
        let data = tail.get(p.data_start..p.data_start + p.data_len).unwrap_or(&[]);
        let rest = tail.get(p.data_start..).unwrap_or(&[]);
        let r = f(Record { ts: p.ts, raw: p.raw, cpu: c.stream.cpu, missed: p.missed.as_i64(), data, rest });
        let next = match c.peek(file, endian, long, &self.clock) {
            Ok(n) => n.map(|n| n.ts),
            Err(e) => {
                self.failed = Some(e);
                None
            }
        };
        self.order.get_or_insert_with(KWay::default).put_back(i, next);
        Ok(Some(r))
    }

    /// Takes records in the order of [`Records::next_with`], giving each to `f`, for as long as
    /// `f` says it wants another: the number taken. The CPU at the head of the merge gives
    /// records without going through it again while they come before every other CPU's next
    /// one, straight from its page's decoded events (see [`CpuCursor::run`]), which is what
    /// makes a bulk pass cheaper than one call per record. Damage found after a record ends
    /// the run there and is the next call's error, as in `next_with`.
    pub fn take_while(&mut self, file: &[u8], mut f: impl FnMut(Record<'_>) -> bool) -> Result<usize> {
        let mut n = 0;
        loop {
            let order = match self.order(file) {
                Ok(o) => o,
                Err(_) if n > 0 => return Ok(n),
                Err(e) => return Err(e),
            };
            let Some((_, i)) = order.pop() else { return Ok(n) };
            // The run of CPU i ends where the next CPU's record (equal times: the lower CPU's)
            // comes first.
            let bound = order.peek();
            let (endian, long, clock) = (self.endian, self.long, &self.clock);
            let c = &mut self.cpus[i];
            let (more, next) = loop {
                let more = c.run(file, clock, i, bound, &mut f, &mut n);
                let next = match c.peeked {
                    Some(p) => Some(p.ts),
                    // The page ran out: the next one's first record (or the end, or damage).
                    None => match c.peek(file, endian, long, clock) {
                        Ok(p) => p.map(|p| p.ts),
                        Err(e) => {
                            self.failed = Some(e);
                            None
                        }
                    },
                };
                if !more || next.is_none_or(|ts| bound.is_some_and(|b| (ts, i) >= b)) {
                    break (more, next);
                }
            };
            self.order.get_or_insert_with(KWay::default).put_back(i, next);
            if !more {
                return Ok(n);
            }
        }
    }
}

impl CpuCursor {
    /// [`Records::take_while`]'s run on this CPU (index `i` in the merge) inside its current
    /// page: the peeked record, then the page's next events, each given to `f` while it comes
    /// before `bound`; `n` counts them; `f`'s last answer. The record that stops the run stays
    /// peeked; when the page runs out, nothing is. The page's bytes are looked up once, not per
    /// record.
    #[inline(always)]
    fn run(&mut self, file: &[u8], clock: &Clock, i: usize, bound: Option<(u64, usize)>, f: &mut impl FnMut(Record<'_>) -> bool, n: &mut usize) -> bool {
        let CpuCursor { stream, events, next, peeked, count, guest, .. } = self;
        let cpu = stream.cpu;
        let tail = stream.tail(file);
        let Some(mut p) = peeked.take() else { return true };
        loop {
            *count += 1;
            *n += 1;
            let data = tail.get(p.data_start..p.data_start + p.data_len).unwrap_or(&[]);
            let rest = tail.get(p.data_start..).unwrap_or(&[]);
            let more = f(Record { ts: p.ts, raw: p.raw, cpu, missed: p.missed.as_i64(), data, rest });
            let Some(ev) = events.get(*next) else { return more };
            *next += 1;
            let host = guest.as_mut().map_or(ev.ts, |g| g.host(ev.ts));
            p = Peeked { ts: clock.convert(host, cpu), raw: ev.ts, missed: Missed::None, data_start: ev.start as usize, data_len: ev.len as usize };
            if !more || bound.is_some_and(|b| (p.ts, i) >= b) {
                *peeked = Some(p);
                return more;
            }
        }
    }
}

/// Where [`encode`] puts each field of a record's header in a batch (exported to TypeScript,
/// which reads batches with these offsets).
pub mod batch {
    /// u64: the reported time.
    pub const TS: usize = 0;
    /// u64: the ring-buffer time.
    pub const RAW_TS: usize = 8;
    /// i64: events lost before the record (0 none, -1 unknown).
    pub const MISSED: usize = 16;
    /// u32: the CPU.
    pub const CPU: usize = 24;
    /// u32: the data length.
    pub const LENGTH: usize = 28;
    /// Header bytes before the data.
    pub const HEADER: usize = 32;
    /// The data is padded to a multiple of this.
    pub const ALIGN: usize = 8;
}

/// Appends a record to a batch: a [`batch::HEADER`]-byte header (fields little-endian at the
/// offsets of [`batch`]), then the data padded to [`batch::ALIGN`] bytes.
pub fn encode(out: &mut Vec<u8>, r: &Record<'_>) {
    let mut h = [0u8; batch::HEADER];
    h[batch::TS..batch::TS + 8].copy_from_slice(&r.ts.to_le_bytes());
    h[batch::RAW_TS..batch::RAW_TS + 8].copy_from_slice(&r.raw.to_le_bytes());
    h[batch::MISSED..batch::MISSED + 8].copy_from_slice(&r.missed.to_le_bytes());
    h[batch::CPU..batch::CPU + 4].copy_from_slice(&r.cpu.to_le_bytes());
    h[batch::LENGTH..batch::LENGTH + 4].copy_from_slice(&(r.data.len() as u32).to_le_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(r.data);
    out.resize(out.len().next_multiple_of(batch::ALIGN), 0);
}
