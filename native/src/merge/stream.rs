//! One guest CPU stream moved onto host time: its records read in stream order, each time
//! mapped by the guest's clock of that vCPU, the event id rewritten when the file it goes to has
//! other ids; a page whose records all move by one amount is copied with a new header time,
//! any other has its records written into new pages (see [`GuestStream`]).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use crate::format::bytes::Endian;
use crate::format::error::{Error, Result};
use crate::format::file::{BufferKind, CpuData, Trace};
use crate::merge::events::IdMap;
use crate::ring::page::{Missed, Page, PageError};
use crate::ring::page_writer::PageWriter;
use crate::ring::stream::{CpuStream, PageAt};
use crate::time::sync::{GuestClock, VcpuClock};
use crate::time::timesync::Clock;
use crate::write::layout::{MakePage, OutBuffer, OutCpu, OutData, PageSource};

/// What the streams of one guest wrote, summed over its CPUs.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub records: u64,
    /// Least and greatest host time of its records, raw and as reported.
    pub first: Option<(u64, u64)>,
    pub last: Option<(u64, u64)>,
    /// Records whose event has no format in the guest (kept with their id).
    pub unknown_events: u64,
    /// Records too large for one page of the output (left out).
    pub too_large: u64,
    /// What the guest clocks noticed (ambiguous writes, ...).
    pub notes: Vec<String>,
}

/// One guest CPU stream being moved onto host time.
///
/// Page by page: each record's host time comes from the vCPU's clock in stream order. Where
/// the page can keep its encoding (same page size and kernel long as the output, every record
/// moved by the same amount: a TIME_SHIFT of one sample, a stretch between two kvm writes; no
/// TIME_STAMP record, whose absolute time would not move), it is copied whole with the new
/// time in its header, its deltas as they are, and its event ids rewritten in place. Any other page has its records written into new pages one by one
/// ([`PageWriter`]). Readers see the same records at the same times either way.
pub struct GuestStream<'a> {
    pub stream: CpuStream,
    pub data: &'a [u8],
    /// The guest's byte order and kernel long (its pages' layout).
    pub endian: Endian,
    pub long: u8,
    pub clock: GuestClock,
    pub vcpu: VcpuClock,
    /// The merged file's event ids (None: the guest's own, kept).
    pub ids: Option<IdMap>,
    pub pages: PageWriter,
    /// Pages can be copied: the output's page size and kernel long are the guest's.
    pub same_layout: bool,
    /// Pages made and not yet handed out, in stream order.
    pub out: VecDeque<Vec<u8>>,
    /// The records of the current page.
    pub recs: Vec<Rec>,
    pub scratch: Vec<u8>,
    pub tally: Rc<RefCell<Tally>>,
    /// The host's conversion, for the reported times.
    pub reported: Clock,
    pub done: bool,
}

impl<'a> GuestStream<'a> {
    /// The next page of the stream.
    pub fn next_page(&mut self) -> Result<Option<Vec<u8>>> {
        while self.out.is_empty() && !self.done {
            if !self.stream.advance(self.data).map_err(|d| d.error)? {
                self.done = true;
                self.out.extend(self.pages.finish());
                let notes: Vec<String> = self.vcpu.notes().iter().map(|n| n.to_string()).collect();
                self.tally.borrow_mut().notes.extend(notes);
                break;
            }
            self.page()?;
        }
        Ok(self.out.pop_front())
    }

    /// Moves the current page of the stream: copied, or its records written anew.
    fn page(&mut self) -> Result<()> {
        let bytes = self.stream.page(self.data);
        let mut walk = Page::new(bytes, self.endian, self.long).map_err(|e| page_error(&self.stream, e))?;
        let missed = walk.missed;
        // Every record's host time, in stream order (the vCPU clock is stateful). Any damage
        // fails the merge here, before a record of the page is written.
        self.recs.clear();
        let base = bytes.as_ptr() as usize;
        while let Some(ev) = walk.next_event(bytes).map_err(|e| page_error(&self.stream, e))? {
            let host = self.clock.host(&mut self.vcpu, ev.ts);
            self.recs.push(Rec { raw: ev.ts, host, start: ev.data.as_ptr() as usize - base, len: ev.data.len() });
        }
        let Some(&Rec { raw, host, .. }) = self.recs.first() else { return Ok(()) };
        let mut tally = PageTally::default();
        // One shift for every record and no TIME_STAMP record: each time read from the copy is
        // its header time plus the same deltas, so moving the header moves every record by it.
        let shift = host.wrapping_sub(raw);
        if self.same_layout && !walk.stamped() && self.recs.iter().all(|r| r.host.wrapping_sub(r.raw) == shift) {
            let mut copy = bytes.to_vec();
            if let Some(h) = copy.get_mut(..8) {
                h.copy_from_slice(&self.endian.put_u64(page_ts(bytes, self.endian).wrapping_add(shift)));
            }
            for r in &self.recs {
                let known = match (&self.ids, copy.get_mut(r.start..r.start + r.len)) {
                    (Some(ids), Some(data)) => ids.rewrite(self.endian, data),
                    _ => true,
                };
                tally.add(r.host, known);
            }
            self.out.extend(self.pages.finish());
            self.out.push_back(copy);
        } else {
            for (i, r) in self.recs.iter().enumerate() {
                let missed = if i == 0 { missed } else { Missed::None };
                self.scratch.clear();
                self.scratch.extend_from_slice(bytes.get(r.start..r.start + r.len).unwrap_or_default());
                let known = self.ids.as_ref().is_none_or(|ids| ids.rewrite(self.endian, &mut self.scratch));
                match self.pages.push(r.host, &self.scratch, missed) {
                    Ok(closed) => {
                        self.out.extend(closed);
                        tally.add(r.host, known);
                    }
                    Err(_) => tally.too_large += 1,
                }
            }
        }
        tally.add_to(&mut self.tally.borrow_mut(), &self.reported, self.stream.cpu);
        Ok(())
    }

    /// The stream as a page source; damage marks `input` as the one that failed.
    pub fn into_pages(mut self, input: usize, failed: Rc<Cell<Option<usize>>>) -> MakePage<'a> {
        Box::new(move || {
            self.next_page().inspect_err(|_| {
                failed.set(Some(input));
            })
        })
    }
}

/// What one page wrote, added to the guest's [`Tally`] once per page.
#[derive(Default)]
struct PageTally {
    records: u64,
    unknown_events: u64,
    too_large: u64,
    /// Least and greatest host time written.
    span: Option<(u64, u64)>,
}

impl PageTally {
    fn add(&mut self, host: u64, known: bool) {
        self.records += 1;
        self.unknown_events += u64::from(!known);
        self.span = Some(self.span.map_or((host, host), |(lo, hi)| (lo.min(host), hi.max(host))));
    }

    fn add_to(self, t: &mut Tally, reported: &Clock, cpu: u32) {
        t.records += self.records;
        t.unknown_events += self.unknown_events;
        t.too_large += self.too_large;
        let Some((lo, hi)) = self.span else { return };
        if t.first.is_none_or(|(f, _)| lo < f) {
            t.first = Some((lo, reported.convert(lo, cpu)));
        }
        if t.last.is_none_or(|(l, _)| hi > l) {
            t.last = Some((hi, reported.convert(hi, cpu)));
        }
    }
}

/// A record of the page being moved: its guest and host times and where its data is.
#[derive(Clone, Copy, Debug)]
pub struct Rec {
    raw: u64,
    host: u64,
    start: usize,
    len: usize,
}

/// A page's header time.
fn page_ts(page: &[u8], endian: Endian) -> u64 {
    page.get(..8).and_then(|b| endian.uint(b)).unwrap_or(0)
}

/// A damaged page as reading the guest's records reports it ([`crate::ring::records`]).
fn page_error(stream: &CpuStream, e: PageError) -> Error {
    match stream.current() {
        Some(PageAt { offset, in_chunk: None }) => Error::new(stream.what.clone(), offset + e.offset as u64, e.expected),
        Some(p @ PageAt { in_chunk: Some(_), .. }) => Error::new(format!("{}, {} (byte {} of the page)", stream.what, p, e.offset), p.offset, e.expected),
        None => Error::new(stream.what.clone(), 0, e.expected),
    }
}

/// Where a guest's buffers go and how their pages are made.
pub struct Target {
    /// The buffer name of the guest's top buffer in the output ("" keeps it the top buffer);
    /// an instance `x` becomes `{top}:{x}` (or `x` when the top name is "").
    pub top_name: String,
    /// The clock name the output's buffers declare.
    pub clock: Option<String>,
    pub endian: Endian,
    /// The output's kernel long size and page size (the page layout written).
    pub long: u8,
    pub page_size: u32,
    pub ids: Option<IdMap>,
    pub reported: Clock,
    pub tally: Rc<RefCell<Tally>>,
    /// Set to `input` when one of these streams meets damage.
    pub failed: Rc<Cell<Option<usize>>>,
    pub input: usize,
}

/// The guest's flyrecord buffers on host time, as output buffers whose pages are made while
/// writing. An instance on another clock than the guest's top buffer cannot be lined up: it is
/// left out, and a note says so.
pub fn guest_buffers<'a>(guest: &'a Trace, data: &'a [u8], clock: &GuestClock, t: &Target) -> Result<Vec<OutBuffer<'a>>> {
    let top_clock = guest.buffers.iter().find(|b| b.name.is_empty()).and_then(|b| b.clock.clone());
    let mut out = Vec::new();
    for b in &guest.buffers {
        let BufferKind::Flyrecord { cpus } = &b.kind else { continue };
        if !b.name.is_empty() && b.clock != top_clock {
            t.tally.borrow_mut().notes.push(format!(
                "buffer \"{}\" left out: its clock ({}) is not the one the guest's times were lined up on",
                b.name,
                b.clock.as_deref().unwrap_or("unknown")
            ));
            continue;
        }
        let name = match (b.name.is_empty(), t.top_name.is_empty()) {
            (true, _) => t.top_name.clone(),
            (false, true) => b.name.clone(),
            (false, false) => format!("{}:{}", t.top_name, b.name),
        };
        let mut list: Vec<&CpuData> = cpus.iter().filter(|d| d.size > 0).collect();
        list.sort_by_key(|d| d.cpu);
        let mut out_cpus = Vec::with_capacity(list.len());
        for d in list {
            // What reading the guest's records would meet first: its data cannot be located.
            let stream = CpuStream::new(data, guest.endian, guest.codec, d, b.page_size, &b.name)?;
            let stream = GuestStream {
                stream,
                data,
                endian: guest.endian,
                long: guest.kernel_long,
                clock: clock.clone(),
                vcpu: clock.vcpu(d.cpu),
                ids: t.ids.clone(),
                pages: PageWriter::new(t.endian, t.long, t.page_size),
                same_layout: guest.endian == t.endian && guest.kernel_long == t.long && b.page_size == t.page_size,
                out: VecDeque::new(),
                recs: Vec::new(),
                scratch: Vec::new(),
                tally: t.tally.clone(),
                reported: t.reported.clone(),
                done: false,
            };
            out_cpus.push(OutCpu { cpu: d.cpu, pages: PageSource::Made { next: stream.into_pages(t.input, t.failed.clone()), estimate: d.size } });
        }
        out.push(OutBuffer { name, clock: t.clock.clone(), page_size: t.page_size, data: OutData::Pages(out_cpus) });
    }
    Ok(out)
}
