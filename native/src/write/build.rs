//! A trace.dat built from records: the metadata (formats, kallsyms, comms, options) of a
//! template file, and buffers whose records the caller gives, in pages made as the file is
//! written. For traces made by programs: a file cut down to some events, a test's host and
//! guest with known clocks, synthetic inputs.
//!
//! Records arrive as one block (TypeScript encodes it, see [`parse`]); each CPU's records are
//! written in the order given, which is the stream order a reader sees.

use crate::format::bytes::{Cursor, Endian};
use crate::format::error::{Error, Result};
use crate::format::file::Trace;
use crate::ring::page::Missed;
use crate::ring::page_writer::PageWriter;
use crate::write::copy;
use crate::write::layout::{Input, Layout, OutBuffer, OutCpu, OutData, PageSource};
use crate::write::writer::{self, Spec};

/// One record of a built buffer: where its data sits in the block.
#[derive(Clone, Copy, Debug)]
struct Rec {
    ts: u64,
    missed: i64,
    data: (usize, usize),
}

/// A buffer to build: its name, clock and records per CPU.
pub struct Built {
    pub name: String,
    pub clock: String,
    cpus: Vec<(u32, Vec<Rec>)>,
}

/// Where each field of a record's header sits in the block (exported to TypeScript, which
/// writes them there), all little-endian.
pub mod record {
    /// u32: the buffer's index.
    pub const BUFFER: usize = 0;
    /// u32: the CPU.
    pub const CPU: usize = 4;
    /// u64: the raw ring-buffer time.
    pub const TS: usize = 8;
    /// i64: events lost before the record (0, -1 or a count).
    pub const MISSED: usize = 16;
    /// u32: the data length.
    pub const LENGTH: usize = 24;
    /// Header bytes before the data.
    pub const HEADER: usize = 28;
}

/// Parses the block: `u32 buffer count`, per buffer `u16 length + name, u16 length + clock`,
/// then records to the end: a [`record`] header, then the data; all little-endian.
pub fn parse(block: &[u8]) -> Result<Vec<Built>> {
    let mut c = Cursor::new(block, 0, Endian::Little, "records argument");
    let n = c.u32("the buffer count")?;
    let n = c.count(n, 4, |left| format!("{n} buffers of at least 4 bytes, only {left} bytes left"))?;
    let mut buffers = Vec::with_capacity(n);
    for _ in 0..n {
        let len = c.u16("a name length")? as usize;
        let name = String::from_utf8_lossy(c.bytes(len, "a buffer name")?).into_owned();
        let len = c.u16("a clock length")? as usize;
        let clock = String::from_utf8_lossy(c.bytes(len, "a clock name")?).into_owned();
        buffers.push(Built { name, clock, cpus: Vec::new() });
    }
    while !c.is_empty() {
        let h = c.bytes(record::HEADER, "a record header (buffer, CPU, timestamp, lost events, length)")?;
        // Every field lies inside the header just read, so none of these reads can fail.
        let field = |at: usize, size: usize| Endian::Little.uint_at(h, at, size).unwrap_or_default();
        let b = field(record::BUFFER, 4) as usize;
        let cpu = field(record::CPU, 4) as u32;
        let ts = field(record::TS, 8);
        let missed = field(record::MISSED, 8) as i64;
        let len = field(record::LENGTH, 4) as usize;
        let start = c.pos();
        c.skip(len, "record data")?;
        let buffer = buffers.get_mut(b).ok_or_else(|| Error::new("records argument", start as u64, format!("a buffer number below {n}")))?;
        let i = match buffer.cpus.iter().position(|(x, _)| *x == cpu) {
            Some(i) => i,
            None => {
                buffer.cpus.push((cpu, Vec::new()));
                buffer.cpus.len() - 1
            }
        };
        buffer.cpus[i].1.push(Rec { ts, missed, data: (start, len) });
    }
    for b in &mut buffers {
        b.cpus.sort_by_key(|(cpu, _)| *cpu);
    }
    Ok(buffers)
}

/// The layout of `template`'s metadata and options (as `spec` sets them) with `buffers` instead
/// of its own, their records in `block`.
pub fn layout<'t>(template: &'t Trace, data: &'t [u8], spec: &Spec, buffers: Vec<Built>, block: &'t [u8]) -> writer::Result<Layout<'t>> {
    let spec = Spec { buffers: Some(Vec::new()), cpus: None, ..spec.clone() };
    let mut layout = copy::layout(template, Input { data, file: None }, &spec)?;
    let (endian, long, page_size) = (template.endian, template.kernel_long, layout.page_size);
    for b in buffers {
        layout.cpus = layout.cpus.max(b.cpus.iter().map(|(cpu, _)| cpu + 1).max().unwrap_or(0));
        let cpus = b
            .cpus
            .into_iter()
            .map(|(cpu, records)| {
                let estimate = records.iter().map(|r| r.data.1 as u64 + 8).sum();
                let mut pages = PageWriter::new(endian, long, page_size);
                let mut left = records.into_iter();
                let next = move || -> Result<Option<Vec<u8>>> {
                    for r in left.by_ref() {
                        let missed = Missed::from_i64(r.missed);
                        let bytes = block.get(r.data.0..r.data.0 + r.data.1).unwrap_or(&[]);
                        let page = pages.push(r.ts, bytes, missed).map_err(|e| Error::new(format!("CPU {cpu} records"), r.data.0 as u64, e.to_string()))?;
                        if page.is_some() {
                            return Ok(page);
                        }
                    }
                    Ok(pages.finish())
                };
                OutCpu { cpu, pages: PageSource::Made { next: Box::new(next), estimate } }
            })
            .collect();
        let buffer = OutBuffer { name: b.name, clock: Some(b.clock), page_size, data: OutData::Pages(cpus) };
        if buffer.name.is_empty() {
            layout.buffers.insert(0, buffer);
        } else {
            layout.buffers.push(buffer);
        }
    }
    Ok(layout)
}
