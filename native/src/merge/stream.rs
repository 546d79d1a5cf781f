//! One guest CPU stream moved onto host time: its records read in stream order, each time
//! mapped by the guest's clock of that vCPU, the event id rewritten when the file it goes to has
//! other ids, and written into new pages one page at a time.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::format::bytes::Endian;
use crate::format::error::Result;
use crate::format::file::{BufferKind, CpuData, Trace};
use crate::merge::events::IdMap;
use crate::ring::page::Missed;
use crate::ring::page_writer::PageWriter;
use crate::ring::records::Records;
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
pub struct GuestStream<'a> {
    pub records: Records,
    pub data: &'a [u8],
    pub clock: GuestClock,
    pub vcpu: VcpuClock,
    /// The merged file's event ids (None: the guest's own, kept).
    pub ids: Option<IdMap>,
    pub endian: Endian,
    pub pages: PageWriter,
    pub scratch: Vec<u8>,
    pub tally: Rc<RefCell<Tally>>,
    /// The host's conversion, for the reported times.
    pub reported: Clock,
    pub done: bool,
}

impl<'a> GuestStream<'a> {
    /// The next page of the stream.
    pub fn next_page(&mut self) -> Result<Option<Vec<u8>>> {
        while !self.done {
            let scratch = &mut self.scratch;
            let got = self.records.next_with(self.data, |r| {
                scratch.clear();
                scratch.extend_from_slice(r.data);
                (r.raw, r.missed, r.cpu)
            })?;
            let Some((raw, missed, cpu)) = got else {
                self.done = true;
                let notes: Vec<String> = self.vcpu.notes().iter().map(|n| n.to_string()).collect();
                self.tally.borrow_mut().notes.extend(notes);
                break;
            };
            let host = self.clock.host(&mut self.vcpu, raw);
            let known = self.ids.as_ref().is_none_or(|ids| ids.rewrite(self.endian, &mut self.scratch));
            let missed = Missed::from_i64(missed);
            let mut s = self.tally.borrow_mut();
            match self.pages.push(host, &self.scratch, missed) {
                Ok(page) => {
                    s.records += 1;
                    s.unknown_events += u64::from(!known);
                    let shown = self.reported.convert(host, cpu);
                    if s.first.is_none_or(|(f, _)| host < f) {
                        s.first = Some((host, shown));
                    }
                    if s.last.is_none_or(|(l, _)| host > l) {
                        s.last = Some((host, shown));
                    }
                    if page.is_some() {
                        return Ok(page);
                    }
                }
                Err(_) => s.too_large += 1,
            }
        }
        Ok(self.pages.finish())
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
    for (bi, b) in guest.buffers.iter().enumerate() {
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
            let records = Records::new(guest, data, bi, Some(&[d.cpu]), Clock::default(), false)?;
            let stream = GuestStream {
                records,
                data,
                clock: clock.clone(),
                vcpu: clock.vcpu(d.cpu),
                ids: t.ids.clone(),
                endian: t.endian,
                pages: PageWriter::new(t.endian, t.long, t.page_size),
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
