//! Writing trace.dat files, v6 and v7, in trace-cmd's own layout: the mirror of
//! [`crate::format::file`].
//!
//! The writer takes a [`Layout`] (metadata contents, options, buffers and where their pages come
//! from) and writes it: metadata as given, options byte for byte, pages copied unchanged from
//! an input or made as they are needed, one CPU stream at a time and one chunk at a time, so
//! memory stays flat whatever the size of the trace.
//!
//! Layout, as trace-cmd writes it (trace-output.c; trace-cmd.dat.v6(5), .v7(5)):
//!
//! ```text
//! v6: header | header_page header_event | ftrace formats | event formats | kallsyms u32 |
//!     printk u32 | cmdlines u64 | u32 CPUs | "options  \0" options.. u16 0 |
//!     "flyrecord\0" CPUs x {u64 offset, u64 size} [u64 len "[clock]"] | page-aligned CPU data |
//!     per instance: "flyrecord\0" table [clock] CPU data   (its BUFFER option points here)
//!   or ... | "latency  \0" text
//! v7: header ("none\0\0" or codec\0version\0, u64 first options) | sections 16 headers,
//!     17 ftrace events, 18 events format, 19 kallsyms, 20 printk, 21 command lines |
//!     options (pointers 16-20, carried options, pointer 21, CPUCOUNT, DONE: record's order) |
//!     per buffer: BUFFER section "buffer flyrecord <name>" (page-aligned CPU streams) or
//!     BUFFER_TEXT "buffer latency", then an options section with its BUFFER option |
//!     strings section, last
//! ```
//!
//! Sections are contiguous (trace-cmd finds the strings by walking section sizes), options
//! sections are chained by their DONE option, metadata sections are one compressed block when
//! the file is compressed, and compressed CPU streams are a u32 chunk count then chunks of 10
//! pages. The per-CPU size in a BUFFER option counts the chunk count (trace-cmd >= 3.2; 3.1.6
//! wrote it 4 bytes short).
//!
//! What goes into the file ([`Layout`]) is decided before: by [`crate::write::copy`] for
//! `convert`, by the merge for a host and its guests.
//!
//! Where trace-cmd's output is not what its own tools read, the writer departs from it: CPU
//! sizes count the chunk count (3.1.6 wrote them 4 bytes short), numbers of a big-endian file
//! are all big-endian (trace-cmd's convert writes some in host order), a v6 file without CPU
//! data does not end right after the flyrecord table (trace-cmd dump dies there), and a clock
//! unknown to the input is written as "local" rather than the converting machine's clock.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use crate::format::bytes::Endian;
use crate::format::compression::{self, Codec};
use crate::format::error::Error;
use crate::format::file::{section_name, Buffer, Trace};
use crate::format::options;
use crate::format::sections::FLAG_COMPRESS;
use crate::out::json::Json;
use crate::ring::stream::{CpuStream, PageAt};
use crate::write::copy;
pub use crate::write::layout::Input;
use crate::write::layout::{Layout, OutBuffer, OutCpu, OutData, PageSource};
use crate::write::output::{Out, Slot, Target, TargetError};
use crate::write::pipeline::{self, Packed, Raw, Stop};
use crate::write::progress::Progress;
use crate::write::spool::Spool;

/// Pages per compressed chunk (trace-cmd's PAGES_IN_CHUNK).
pub const CHUNK_PAGES: usize = 10;
/// Largest single copy of consecutive uncompressed pages.
const RUN: u64 = 1 << 20;

/// What to write.
#[derive(Clone, Debug)]
pub struct Spec {
    /// 6 or 7.
    pub version: u32,
    /// Codec and level; v7 only.
    pub compression: Option<(Codec, i32)>,
    /// Buffers to keep, as indexes into `Trace::buffers` (None: all).
    pub buffers: Option<Vec<usize>>,
    /// CPUs whose data to keep (None: all). The CPU count stays that of the input.
    pub cpus: Option<Vec<u32>>,
    /// Compression threads (1: compress on the writing thread).
    pub threads: usize,
    /// Options to set: every input option of a listed id is left out, and the given payloads
    /// (in the file's byte order) are written instead, in this order; None only removes.
    pub options: Vec<OptionEdit>,
}

/// An option to set: its id and payload (in the file's byte order), or None to remove it.
pub type OptionEdit = (u16, Option<Vec<u8>>);

/// Options the writer makes itself from the layout it writes.
pub fn is_layout(id: u16) -> bool {
    matches!(id, options::DONE | options::BUFFER | options::BUFFER_TEXT | options::CPUCOUNT | options::STRINGS)
        || (options::HEADER_INFO..=options::CMDLINES).contains(&id)
        || matches!(id, options::BTF_FILE | options::MODULES_FILE)
}

#[derive(Debug)]
pub enum WriteError {
    /// The input could not be read (damaged ring-buffer data is found while copying, damaged
    /// chunk headers already by the progress total).
    Input(Error),
    /// Writing the output failed.
    Output(io::Error),
    /// The compression library failed.
    Codec(String),
    /// The input cannot be written as asked (e.g. in v6).
    Unsupported(String),
    /// The output file cannot be created or completed.
    Target(TargetError),
}

impl From<Error> for WriteError {
    fn from(e: Error) -> WriteError {
        WriteError::Input(e)
    }
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> WriteError {
        WriteError::Output(e)
    }
}

impl From<Stop<WriteError>> for WriteError {
    fn from(s: Stop<WriteError>) -> WriteError {
        match s {
            Stop::Caller(e) => e,
            Stop::Codec(e) => WriteError::Codec(e),
        }
    }
}

pub type Result<T> = std::result::Result<T, WriteError>;

/// Where a buffer's data went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub name: String,
    pub latency: bool,
    pub cpus: Vec<WrittenCpu>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrittenCpu {
    pub cpu: u32,
    /// File offset of the stream.
    pub offset: u64,
    /// Bytes in the file (for compressed streams, including the u32 chunk count).
    pub size: u64,
    /// Uncompressed bytes (whole pages).
    pub raw: u64,
}

/// What a write produced.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub size: u64,
    pub buffers: Vec<Written>,
    /// Ids of options that could not be carried over (section pointers v6 has no section for).
    pub dropped: Vec<u16>,
}

/// Writes `layout` in the version, compression and threads `spec` asks for (its buffer, CPU
/// and option choices are the layout's already).
pub fn write_layout<W: Write>(layout: Layout<'_>, spec: &Spec, o: &mut Out<W>, progress: &mut Progress) -> Result<Summary> {
    if spec.version != 6 && spec.version != 7 {
        return Err(WriteError::Unsupported(format!("file version {} (6 or 7 can be written)", spec.version)));
    }
    if spec.version == 6 && spec.compression.is_some() {
        return Err(WriteError::Unsupported("compression in a v6 file (only v7 files are compressed)".into()));
    }
    let summary = Summary { dropped: layout.dropped.clone(), ..Summary::default() };
    let mut w = Writer { layout, spec, progress, summary, scratch: Vec::new() };
    let total = w.raw_total()?;
    w.progress.start(total);
    w.header(o)?;
    if spec.version >= 7 {
        w.v7(o)?;
    } else {
        w.v6(o)?;
    }
    w.progress.finish();
    w.summary.size = o.pos();
    Ok(w.summary)
}

/// Writes `trace` to `path` through a temporary file renamed into place when complete (removed
/// on any failure). `file` is the file `data` maps, if at hand (read with positional reads);
/// `input` is the (device, inode) of the file read, which is never overwritten.
pub fn write_file(
    trace: &Trace,
    data: &[u8],
    file: Option<&File>,
    input: Option<(u64, u64)>,
    path: &Path,
    spec: &Spec,
    progress: &mut Progress,
) -> Result<Summary> {
    let layout = copy::layout(trace, Input { data, file }, spec)?;
    write_layout_file(layout, &[input], path, spec, progress)
}

/// Writes `layout` to `path` through a temporary file renamed into place when complete; none
/// of `inputs` (device, inode) is ever written over.
pub fn write_layout_file(layout: Layout<'_>, inputs: &[Option<(u64, u64)>], path: &Path, spec: &Spec, progress: &mut Progress) -> Result<Summary> {
    let (target, out) = Target::create(path, inputs).map_err(WriteError::Target)?;
    let mut o = Out::new(Spool::new(out).map_err(WriteError::Output)?, layout.endian);
    let summary = write_layout(layout, spec, &mut o, progress)?;
    let (file, patches) = o.finish()?;
    target.commit(file, &patches).map_err(WriteError::Target)?;
    Ok(summary)
}

impl Summary {
    /// For JavaScript: where each buffer's CPU data went.
    pub fn json(&self) -> String {
        let mut j = Json::new();
        j.begin_object(None);
        j.num("size", self.size as i64);
        j.begin_array(Some("buffers"));
        for b in &self.buffers {
            j.begin_object(None);
            j.str("name", &b.name);
            j.str("kind", if b.latency { "latency" } else { "flyrecord" });
            j.begin_array(Some("cpus"));
            for c in &b.cpus {
                j.begin_object(None);
                j.num("cpu", c.cpu as i64);
                j.num("offset", c.offset as i64);
                j.num("size", c.size as i64);
                j.num("uncompressed", c.raw as i64);
                j.end_object();
            }
            j.end_array();
            j.end_object();
        }
        j.end_array();
        j.begin_array(Some("droppedOptions"));
        for id in &self.dropped {
            j.item_num(*id as i64);
        }
        j.end_array();
        j.end_object();
        j.finish()
    }
}

struct Writer<'t, 'p> {
    layout: Layout<'t>,
    /// Reused for copying runs of pages.
    scratch: Vec<u8>,
    spec: &'p Spec,
    progress: &'p mut Progress,
    summary: Summary,
}

impl<'t> Writer<'t, '_> {
    fn header<W: Write>(&mut self, o: &mut Out<W>) -> Result<()> {
        let l = &self.layout;
        o.bytes(&crate::format::header::MAGIC)?;
        o.bytes(crate::format::header::TRACING)?;
        o.cstr(self.spec.version.to_string().as_bytes())?;
        o.bytes(&[u8::from(l.endian == Endian::Big), l.long_size])?;
        o.u32(l.page_size)?;
        Ok(())
    }

    // ---- v6 ---------------------------------------------------------------------------------

    fn v6<W: Write>(&mut self, o: &mut Out<W>) -> Result<()> {
        for (_, content) in &self.layout.meta {
            o.bytes(content)?;
        }
        let mut buffers = std::mem::take(&mut self.layout.buffers);
        let is_latency = |b: &OutBuffer<'_>| matches!(b.data, OutData::Latency { .. });
        let latency = buffers.iter().position(|b| is_latency(b) && b.name.is_empty()).filter(|&i| i == 0);
        if latency.is_some() && buffers.iter().any(|b| !is_latency(b)) {
            return Err(WriteError::Unsupported("a latency trace with flyrecord buffers in one v6 file".into()));
        }
        if let Some(b) = buffers.iter().find(|b| !b.name.is_empty() && is_latency(b)) {
            return Err(WriteError::Unsupported(format!("latency buffer \"{}\" as a v6 instance", b.name)));
        }
        let page_size = self.layout.page_size;
        if let Some(b) = buffers.iter().find(|b| !is_latency(b) && b.page_size != page_size) {
            return Err(WriteError::Unsupported(format!(
                "buffer \"{}\" with {}-byte pages in a v6 file, whose buffers all have the header's {page_size}-byte pages",
                b.name, b.page_size
            )));
        }
        // The table of every flyrecord has this many entries.
        let cpus = buffers
            .iter()
            .flat_map(|b| match &b.data {
                OutData::Pages(cpus) => cpus.iter().map(|c| c.cpu.saturating_add(1)).max(),
                OutData::Latency { .. } => None,
            })
            .fold(self.layout.cpus, u32::max);
        o.u32(cpus)?;

        o.bytes(b"options  \0")?;
        for (id, payload) in &self.layout.carried {
            option(o, *id, payload)?;
        }
        // Instances: a BUFFER option whose offset is set once their flyrecord is placed.
        let mut instance_slots = Vec::new();
        for b in buffers.iter().filter(|b| !b.name.is_empty()) {
            o.u16(options::BUFFER)?;
            o.u32(8 + b.name.len() as u32 + 1)?;
            instance_slots.push(o.slot_u64()?);
            o.cstr(b.name.as_bytes())?;
        }
        o.u16(options::DONE)?;

        if let Some(b) = latency.and_then(|i| buffers.get(i)) {
            o.bytes(b"latency  \0")?;
            self.latency_text(o, b, None)?;
            self.summary.buffers.push(Written { name: b.name.clone(), latency: true, cpus: Vec::new() });
            return Ok(());
        }
        let has_clock = self.layout.carried.iter().any(|(id, _)| *id == options::TRACECLOCK);
        let mut top = buffers.iter_mut().position(|b| b.name.is_empty());
        let top_end = match top.take() {
            Some(i) => self.flyrecord_v6(o, Some(&mut buffers[i]), cpus, has_clock)?,
            None => self.flyrecord_v6(o, None, cpus, has_clock)?,
        };
        for (b, slot) in buffers.iter_mut().filter(|b| !b.name.is_empty()).zip(instance_slots) {
            o.set(slot, o.pos());
            self.flyrecord_v6(o, Some(b), cpus, has_clock)?;
        }
        // trace-cmd dump reads 10 bytes after the top flyrecord looking for another tag and
        // dies at the end of the file: a file without data must not end right there.
        if o.pos() < top_end + 10 {
            o.zeros(page_size as u64)?;
        }
        Ok(())
    }

    /// One `flyrecord` tag, its table, clock trailer and CPU data (none for `None`: an empty
    /// top buffer). Returns the offset after the trailer.
    fn flyrecord_v6<W: Write>(&mut self, o: &mut Out<W>, b: Option<&mut OutBuffer<'t>>, cpus: u32, has_clock: bool) -> Result<u64> {
        o.bytes(b"flyrecord\0")?;
        let mut table: Vec<(Slot, Slot)> = Vec::with_capacity(cpus as usize);
        for _ in 0..cpus {
            table.push((o.slot_u64()?, o.slot_u64()?));
        }
        if has_clock {
            let text = match self.layout.trailer {
                Some(t) => t.to_vec(),
                None => format!("[{}]", self.layout.clock.as_deref().unwrap_or("local")).into_bytes(),
            };
            o.u64(text.len() as u64)?;
            o.bytes(&text)?;
        }
        let end = o.pos();
        // Empty CPUs get the aligned offset where their data would start, as trace-cmd writes
        // them; the padding keeps that offset inside the file.
        o.align(self.layout.page_size as u64)?;
        let mut written = Vec::new();
        let (name, page_size, mut list) = match b {
            Some(OutBuffer { name, page_size, data: OutData::Pages(list), .. }) => (Some(name.clone()), *page_size, list.iter_mut().collect()),
            _ => (None, self.layout.page_size, Vec::new()),
        };
        for (cpu, (off, size)) in table.into_iter().enumerate() {
            let w = match list.iter_mut().find(|c| c.cpu == cpu as u32) {
                Some(c) => self.cpu_stream(o, page_size, c, None)?,
                None => None,
            };
            match w {
                Some(w) => {
                    o.set(off, w.offset);
                    o.set(size, w.size);
                    written.push(w);
                }
                None => o.set(off, o.pos()),
            }
        }
        if let Some(name) = name {
            self.summary.buffers.push(Written { name, latency: false, cpus: written });
        }
        Ok(end)
    }

    // ---- v7 ---------------------------------------------------------------------------------

    fn v7<W: Write>(&mut self, o: &mut Out<W>) -> Result<()> {
        let comp = self.spec.compression;
        let (name, version) = match comp {
            Some((c, _)) => (c.name().to_string(), c.version()),
            None => ("none".to_string(), String::new()),
        };
        o.cstr(name.as_bytes())?;
        o.cstr(version.as_bytes())?;
        let first_options = o.slot_u64()?;
        let mut strings = Strings::default();

        let mut meta: Vec<(u16, &'static str, Vec<u8>)> =
            std::mem::take(&mut self.layout.meta).into_iter().map(|(id, content)| (id, section_name(id), content)).collect();
        meta.append(&mut self.layout.extra);
        let packed = self.pack_all(meta.iter().map(|m| m.2.as_slice()).collect())?;
        let mut pointers = Vec::new();
        for ((id, desc, content), packed) in meta.iter().zip(packed) {
            pointers.push((*id, o.pos()));
            section(o, &mut strings, *id, desc, content, packed.as_deref(), comp.is_some())?;
        }

        o.set(first_options, o.pos());
        let mut opts = OptionsSection::start(o, &mut strings)?;
        // trace-cmd record's order: the pointers as the sections are written, the options it
        // collected meanwhile, then the command lines (saved last) and the CPU count.
        let e = self.layout.endian;
        let (cmdlines, pointers): (Vec<_>, Vec<_>) = pointers.into_iter().partition(|p| p.0 == options::CMDLINES);
        for (id, at) in pointers {
            option(o, id, &e.put_u64(at))?;
        }
        for (id, payload) in &self.layout.carried {
            option(o, *id, payload)?;
        }
        for (id, at) in cmdlines {
            option(o, id, &e.put_u64(at))?;
        }
        option(o, options::CPUCOUNT, &e.put_u32(self.layout.cpus))?;
        let mut done = opts.end(o)?;

        // Each buffer's section, then an options section with the option that describes it.
        let mut buffers = std::mem::take(&mut self.layout.buffers);
        for b in &mut buffers {
            let (id, payload) = match b.data {
                OutData::Pages(_) => self.flyrecord_v7(o, &mut strings, b)?,
                OutData::Latency { .. } => self.latency_v7(o, &mut strings, b)?,
            };
            o.set(done, o.pos());
            opts = OptionsSection::start(o, &mut strings)?;
            option(o, id, &payload)?;
            done = opts.end(o)?;
        }

        // The strings section is last, and its own description is part of it.
        let desc = strings.add("strings");
        let packed = match comp {
            Some((c, level)) => Some(compression::compress(c, &strings.table, level).map_err(WriteError::Codec)?),
            None => None,
        };
        write_section(o, options::STRINGS, desc, &strings.table, packed.as_deref(), comp.is_some())?;
        Ok(())
    }

    /// A BUFFER section with the CPU streams; returns its BUFFER option.
    fn flyrecord_v7<W: Write>(&mut self, o: &mut Out<W>, strings: &mut Strings, b: &mut OutBuffer<'t>) -> Result<(u16, Vec<u8>)> {
        let comp = self.spec.compression;
        let at = o.pos();
        let size = section_start(o, strings, options::BUFFER, &format!("buffer flyrecord {}", b.name), comp.is_some())?;
        let mut written = Vec::new();
        if let OutData::Pages(cpus) = &mut b.data {
            for c in cpus {
                if let Some(w) = self.cpu_stream(o, b.page_size, c, comp)? {
                    written.push(w);
                }
            }
        }
        o.set(size, o.pos() - size.end());
        let e = self.layout.endian;
        let mut p = buffer_payload(e, at, &b.name, &self.buffer_clock(b));
        p.extend_from_slice(&e.put_u32(b.page_size));
        p.extend_from_slice(&e.put_u32(written.len() as u32));
        for w in &written {
            p.extend_from_slice(&e.put_u32(w.cpu));
            p.extend_from_slice(&e.put_u64(w.offset));
            p.extend_from_slice(&e.put_u64(w.size));
        }
        self.summary.buffers.push(Written { name: b.name.clone(), latency: false, cpus: written });
        Ok((options::BUFFER, p))
    }

    /// A BUFFER_TEXT section with a latency trace's text; returns its BUFFER_TEXT option.
    fn latency_v7<W: Write>(&mut self, o: &mut Out<W>, strings: &mut Strings, b: &OutBuffer<'t>) -> Result<(u16, Vec<u8>)> {
        let comp = self.spec.compression;
        let at = o.pos();
        let size = section_start(o, strings, options::BUFFER_TEXT, "buffer latency", comp.is_some())?;
        self.latency_text(o, b, comp)?;
        o.set(size, o.pos() - size.end());
        self.summary.buffers.push(Written { name: b.name.clone(), latency: true, cpus: Vec::new() });
        Ok((options::BUFFER_TEXT, buffer_payload(self.layout.endian, at, &b.name, &self.buffer_clock(b))))
    }

    fn buffer_clock(&self, b: &OutBuffer<'_>) -> String {
        // A v6 file has one clock for all buffers; trace-cmd falls back to "local" when none is
        // known (old v6 files saved none).
        let own = b.clock.clone().filter(|_| !(self.layout.clock_set && b.name.is_empty()));
        own.or_else(|| self.layout.clock.clone()).unwrap_or_else(|| "local".into())
    }

    /// Compresses metadata contents (one block each) on `threads` threads, contents dealt out
    /// in turn (events format and kallsyms, the two large ones, land on different threads).
    fn pack_all(&self, contents: Vec<&[u8]>) -> Result<Vec<Option<Vec<u8>>>> {
        let Some((codec, level)) = self.spec.compression else { return Ok(contents.iter().map(|_| None).collect()) };
        let threads = self.spec.threads.clamp(1, contents.len().max(1));
        let mut packed: Vec<Option<Vec<u8>>> = contents.iter().map(|_| None).collect();
        // Per thread: (content index, compressed bytes) of its share, or the codec's error.
        type Share = std::result::Result<Vec<(usize, Vec<u8>)>, String>;
        let results: Vec<Share> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let contents = &contents;
                    s.spawn(move || {
                        let mine = contents.iter().enumerate().skip(t).step_by(threads);
                        mine.map(|(i, c)| compression::compress(codec, c, level).map(|z| (i, z))).collect()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a compression thread failed".into()))).collect()
        });
        for r in results {
            for (i, z) in r.map_err(WriteError::Codec)? {
                if let Some(slot) = packed.get_mut(i) {
                    *slot = Some(z);
                }
            }
        }
        Ok(packed)
    }

    // ---- ring-buffer data, both versions ----------------------------------------------------

    /// Uncompressed bytes of all the data to write, for progress. Compressed streams are sized
    /// by their chunk headers (the walk paces as writing does); a damaged one is the error
    /// copying it would meet, met first.
    fn raw_total(&mut self) -> Result<u64> {
        let progress = &mut *self.progress;
        let pace = &mut || progress.pace_now();
        let mut total = 0;
        for b in &self.layout.buffers {
            match &b.data {
                OutData::Pages(cpus) => {
                    for c in cpus {
                        total += match &c.pages {
                            PageSource::Copy { trace, input, buffer, data } => {
                                CpuStream::new(input.data, trace.endian, input_codec(trace, buffer), data, buffer.page_size, &buffer.name)?
                                    .raw_left(input.data, pace)?
                            }
                            PageSource::Made { estimate, .. } => *estimate,
                        };
                    }
                }
                OutData::Latency { trace, input, index } => total += trace.latency_pieces(input.data, *index)?.raw_left(pace)?,
            }
        }
        Ok(total)
    }

    /// Writes one CPU's pages, page-aligned, compressed when asked. None when it has no pages.
    fn cpu_stream<W: Write>(&mut self, o: &mut Out<W>, page_size: u32, c: &mut OutCpu<'t>, comp: Option<(Codec, i32)>) -> Result<Option<WrittenCpu>> {
        let ps = page_size as u64;
        let (offset, raw) = match &mut c.pages {
            PageSource::Copy { trace, input, buffer: b, data: d } => {
                let (trace, input, d) = (*trace, *input, *d);
                let data = input.data;
                let mut s = CpuStream::new(data, trace.endian, input_codec(trace, b), d, b.page_size, &b.name)?;
                if !s.advance(data).map_err(|d| d.error)? {
                    return Ok(None);
                }
                o.align(ps)?;
                let offset = o.pos();
                let mut raw = 0u64;
                let progress = &mut *self.progress;
                match comp {
                    None => {
                        // Pages of an uncompressed input go out in runs of consecutive pages;
                        // inflated ones one by one through the buffered writer.
                        let mut run: Option<(u64, u64)> = None;
                        loop {
                            match s.current() {
                                Some(PageAt { offset: at, in_chunk: None }) => match &mut run {
                                    Some((start, end)) if *end == at && *end - *start < RUN => *end += ps,
                                    _ => {
                                        if let Some(r) = run.replace((at, at + ps)) {
                                            copy_range(input, o, r, &mut self.scratch, &s.what)?;
                                        }
                                    }
                                },
                                _ => o.bytes(s.page(data))?,
                            }
                            raw += ps;
                            progress.advance(ps);
                            if !s.advance(data).map_err(|d| d.error)? {
                                break;
                            }
                        }
                        if let Some(r) = run {
                            copy_range(input, o, r, &mut self.scratch, &s.what)?;
                        }
                    }
                    Some((codec, level)) => {
                        let mut primed = true;
                        raw = chunked(o, codec, level, self.spec.threads, progress, |buf| {
                            next_chunk(&mut s, input, &mut primed, ps, buf).map_err(WriteError::Input)
                        })?;
                    }
                }
                (offset, raw)
            }
            PageSource::Made { next, .. } => {
                let Some(first) = next()? else { return Ok(None) };
                o.align(ps)?;
                let offset = o.pos();
                let mut pending = Some(first);
                let progress = &mut *self.progress;
                let mut take = || -> Result<Option<Vec<u8>>> {
                    match pending.take() {
                        Some(p) => Ok(Some(p)),
                        None => Ok(next()?),
                    }
                };
                let raw = match comp {
                    None => {
                        let mut raw = 0u64;
                        while let Some(page) = take()? {
                            o.bytes(&page)?;
                            raw += page.len() as u64;
                            progress.advance(page.len() as u64);
                        }
                        raw
                    }
                    Some((codec, level)) => chunked(o, codec, level, self.spec.threads, progress, |mut chunk| {
                        chunk.clear();
                        for _ in 0..CHUNK_PAGES {
                            match take()? {
                                Some(page) => chunk.extend_from_slice(&page),
                                None => break,
                            }
                        }
                        Ok((!chunk.is_empty()).then_some(Raw::Owned(chunk)))
                    })?,
                };
                (offset, raw)
            }
        };
        Ok(Some(WrittenCpu { cpu: c.cpu, offset, size: o.pos() - offset, raw }))
    }

    /// A latency trace's text: raw, or chunked like CPU data when `comp` is set.
    fn latency_text<W: Write>(&mut self, o: &mut Out<W>, b: &OutBuffer<'_>, comp: Option<(Codec, i32)>) -> Result<()> {
        let OutData::Latency { trace, input, index } = b.data else { return Ok(()) };
        let mut pieces = trace.latency_pieces(input.data, index)?;
        let progress = &mut *self.progress;
        match comp {
            None => {
                while let Some(p) = pieces.next()? {
                    o.bytes(&p)?;
                    progress.advance(p.len() as u64);
                }
            }
            Some((codec, level)) => {
                let chunk = CHUNK_PAGES * self.layout.page_size as usize;
                let mut pending: Vec<u8> = Vec::new();
                let mut done = false;
                chunked(o, codec, level, self.spec.threads, progress, |_| {
                    while pending.len() < chunk && !done {
                        match pieces.next()? {
                            Some(p) => pending.extend_from_slice(&p),
                            None => done = true,
                        }
                    }
                    if pending.is_empty() {
                        return Ok(None);
                    }
                    let rest = pending.split_off(pending.len().min(chunk));
                    Ok(Some(Raw::Owned(std::mem::replace(&mut pending, rest))))
                })?;
            }
        }
        Ok(())
    }
}

/// The codec of a buffer's data in its input: v7 sections say so in their flags.
fn input_codec(trace: &Trace, b: &Buffer) -> Option<Codec> {
    b.section.filter(|h| h.compressed()).and(trace.codec)
}

/// Copies `start..end` of the input to `o` (`buf` is scratch space).
fn copy_range<W: Write>(input: Input<'_>, o: &mut Out<W>, range: (u64, u64), buf: &mut Vec<u8>, what: &str) -> Result<()> {
    if input.file.is_none() {
        return Ok(o.bytes(input.slice(range, what)?)?);
    }
    input.read(range, buf, what)?;
    Ok(o.bytes(buf)?)
}

/// A chunk stream: a u32 count, then the chunks `next` gives, compressed on `threads` threads
/// and written in order. Returns the uncompressed bytes written.
fn chunked<'a, W: Write>(
    o: &mut Out<W>,
    codec: Codec,
    level: i32,
    threads: usize,
    progress: &mut Progress,
    next: impl FnMut(Vec<u8>) -> Result<Option<Raw<'a>>>,
) -> Result<u64> {
    let count = o.slot_u32()?;
    let mut raw = 0u64;
    let chunks = pipeline::run(codec, level, threads, next, |p: Packed| {
        block(o, &p.data, p.raw_len as u32)?;
        raw += p.raw_len as u64;
        progress.advance(p.raw_len as u64);
        Ok(())
    })?;
    let chunks = u32::try_from(chunks).map_err(|_| WriteError::Unsupported("a stream of more than 2^32 chunks".into()))?;
    o.set(count, chunks as u64);
    Ok(raw)
}

/// The next up-to-10 pages of a stream whose current page (if `primed`) is not yet taken, in
/// `buf` when they are copied (an earlier chunk's buffer: read over, or cleared before the
/// first inflated page). Pages of an uncompressed input are consecutive in the file: read at
/// once, or lent when the input is in memory.
fn next_chunk<'a>(s: &mut CpuStream, input: Input<'a>, primed: &mut bool, ps: u64, mut buf: Vec<u8>) -> crate::format::error::Result<Option<Raw<'a>>> {
    let mut range: Option<(u64, u64)> = None;
    let mut inflated = false;
    for _ in 0..CHUNK_PAGES {
        if !*primed && !s.advance(input.data).map_err(|d| d.error)? {
            break;
        }
        *primed = false;
        match s.current() {
            Some(PageAt { offset, in_chunk: None }) => range = Some((range.map_or(offset, |r| r.0), offset + ps)),
            _ => {
                if !inflated {
                    buf.clear();
                    inflated = true;
                }
                buf.extend_from_slice(s.page(input.data));
            }
        }
    }
    Ok(match range {
        Some(r) if input.file.is_none() => Some(Raw::Borrowed(input.slice(r, &s.what)?)),
        Some(r) => {
            input.read(r, &mut buf, &s.what)?;
            Some(Raw::Owned(buf))
        }
        None if !inflated => None,
        None => Some(Raw::Owned(buf)),
    })
}

/// The concatenated section descriptions.
#[derive(Default)]
struct Strings {
    table: Vec<u8>,
}

impl Strings {
    /// Adds a description; returns its offset (trace-cmd does not share equal strings).
    fn add(&mut self, s: &str) -> i32 {
        let at = self.table.len() as i32;
        self.table.extend_from_slice(s.as_bytes());
        self.table.push(0);
        at
    }
}

/// One compressed block, as [`compression::Block`] reads it: `u32 compressed size, u32
/// uncompressed size, bytes`.
fn block<W: Write>(o: &mut Out<W>, compressed: &[u8], raw_len: u32) -> io::Result<()> {
    o.u32(compressed.len() as u32)?;
    o.u32(raw_len)?;
    o.bytes(compressed)
}

/// Writes a section whose content is known: a metadata section (one compressed block when
/// `packed` is given) or the strings.
fn section<W: Write>(o: &mut Out<W>, strings: &mut Strings, id: u16, desc: &str, content: &[u8], packed: Option<&[u8]>, compressed: bool) -> Result<()> {
    let desc = strings.add(desc);
    write_section(o, id, desc, content, packed, compressed)
}

fn write_section<W: Write>(o: &mut Out<W>, id: u16, desc: i32, content: &[u8], packed: Option<&[u8]>, compressed: bool) -> Result<()> {
    o.u16(id)?;
    o.u16(if compressed { FLAG_COMPRESS } else { 0 })?;
    o.u32(desc as u32)?;
    match packed {
        Some(z) => {
            let raw = u32::try_from(content.len()).map_err(|_| WriteError::Unsupported(format!("a metadata section of {} bytes", content.len())))?;
            o.u64(8 + z.len() as u64)?;
            block(o, z, raw)?;
        }
        None => {
            o.u64(content.len() as u64)?;
            o.bytes(content)?;
        }
    }
    Ok(())
}

/// Starts a section whose size is known only at its end; returns the size's slot.
fn section_start<W: Write>(o: &mut Out<W>, strings: &mut Strings, id: u16, desc: &str, compressed: bool) -> Result<Slot> {
    let desc = strings.add(desc);
    o.u16(id)?;
    o.u16(if compressed { FLAG_COMPRESS } else { 0 })?;
    o.u32(desc as u32)?;
    Ok(o.slot_u64()?)
}

/// An options section: header, options, DONE; `end` returns the DONE's next-section slot.
struct OptionsSection {
    size: Slot,
}

impl OptionsSection {
    fn start<W: Write>(o: &mut Out<W>, strings: &mut Strings) -> Result<OptionsSection> {
        Ok(OptionsSection { size: section_start(o, strings, options::DONE, "options", false)? })
    }

    fn end<W: Write>(self, o: &mut Out<W>) -> Result<Slot> {
        o.u16(options::DONE)?;
        o.u32(8)?;
        let next = o.slot_u64()?;
        o.set(self.size, o.pos() - self.size.end());
        Ok(next)
    }
}

/// One option: id, payload size, payload.
fn option<W: Write>(o: &mut Out<W>, id: u16, payload: &[u8]) -> Result<()> {
    let size = u32::try_from(payload.len()).map_err(|_| WriteError::Unsupported(format!("option {id} of {} bytes", payload.len())))?;
    o.u16(id)?;
    o.u32(size)?;
    Ok(o.bytes(payload)?)
}

/// The common head of BUFFER and BUFFER_TEXT payloads: section offset, name, clock.
fn buffer_payload(e: Endian, at: u64, name: &str, clock: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(8 + name.len() + clock.len() + 2 + 8);
    p.extend_from_slice(&e.put_u64(at));
    p.extend_from_slice(name.as_bytes());
    p.push(0);
    p.extend_from_slice(clock.as_bytes());
    p.push(0);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::bytes::Cursor;
    use crate::format::compression::{Block, Budget, META_RATIO};
    use crate::format::file::{BufferKind, Content, V6Tag};
    use crate::format::sections::SectionHeader;
    use crate::write::output::patch_vec;

    /// Writes `trace` (read from `input`) as `spec` asks. Numbers known only after their place is
    /// written are left as patches in `o` for the caller to apply (see [`Out::finish`]).
    pub fn write<W: Write>(trace: &Trace, input: Input<'_>, spec: &Spec, o: &mut Out<W>, progress: &mut Progress) -> Result<Summary> {
        let layout = copy::layout(trace, input, spec)?;
        write_layout(layout, spec, o, progress)
    }

    const PS: usize = 4096;

    /// A v6 file built by hand (not by the writer under test): two CPUs with `pages` pages
    /// each (CPU 1 has none when `pages[1]` is 0), options, optional clock trailer, and one
    /// instance "inst" whose flyrecord follows the top one.
    fn v6_file(e: Endian, pages: [usize; 2], trailer: Option<&[u8]>, instance: bool) -> Vec<u8> {
        let mut f = vec![0x17, 0x08, 0x44];
        f.extend_from_slice(b"tracing6\0");
        f.extend_from_slice(&[u8::from(e == Endian::Big), 8]);
        f.extend_from_slice(&e.put_u32(PS as u32));
        for (name, text) in [
            (&b"header_page\0"[..], &b"\tfield: u64 timestamp;\toffset:0;\tsize:8;\n\tfield: local_t commit;\toffset:8;\tsize:8;\n"[..]),
            (b"header_event\0", b"# compressed entry header\n"),
        ] {
            f.extend_from_slice(name);
            f.extend_from_slice(&e.put_u64(text.len() as u64));
            f.extend_from_slice(text);
        }
        f.extend_from_slice(&e.put_u32(1));
        f.extend_from_slice(&e.put_u64(9));
        f.extend_from_slice(b"name: fn\n");
        f.extend_from_slice(&e.put_u32(1));
        f.extend_from_slice(b"sched\0");
        f.extend_from_slice(&e.put_u32(2));
        for t in [&b"name: sched_switch\nID: 5\n"[..], b"name: sched_wakeup\nID: 6\n"] {
            f.extend_from_slice(&e.put_u64(t.len() as u64));
            f.extend_from_slice(t);
        }
        for (w, t) in [(4, &b"ffffffff81000000 T _text\n"[..]), (4, b""), (8, b"1 init\n")] {
            if w == 4 {
                f.extend_from_slice(&e.put_u32(t.len() as u32))
            } else {
                f.extend_from_slice(&e.put_u64(t.len() as u64))
            }
            f.extend_from_slice(t);
        }
        f.extend_from_slice(&e.put_u32(2));
        f.extend_from_slice(b"options  \0");
        let opt = |f: &mut Vec<u8>, id: u16, p: &[u8]| {
            f.extend_from_slice(&e.put_u16(id));
            f.extend_from_slice(&e.put_u32(p.len() as u32));
            f.extend_from_slice(p);
        };
        if trailer.is_some() {
            opt(&mut f, options::TRACECLOCK, b"");
        }
        opt(&mut f, 99, b"\x01\x02unknown option");
        opt(&mut f, options::UNAME, b"Linux test 6.0 x86_64\0");
        let instance_offset = f.len() + 6;
        if instance {
            opt(&mut f, options::BUFFER, &[&[0u8; 8][..], b"inst\0"].concat());
        }
        f.extend_from_slice(&e.put_u16(0));
        let flyrecord = |f: &mut Vec<u8>, pages: [usize; 2], seed: u8| {
            f.extend_from_slice(b"flyrecord\0");
            let table = f.len();
            f.resize(table + 32, 0);
            if let Some(t) = trailer {
                f.extend_from_slice(&e.put_u64(t.len() as u64));
                f.extend_from_slice(t);
            }
            for (cpu, n) in pages.into_iter().enumerate() {
                f.resize(f.len().div_ceil(PS) * PS, 0);
                let at = f.len();
                for p in 0..n {
                    let mut page = vec![seed.wrapping_add((cpu * 16 + p) as u8); PS];
                    page[..8].copy_from_slice(&e.put_u64(1000 * (p as u64 + 1)));
                    page[8..16].copy_from_slice(&e.put_u64(64));
                    f.extend_from_slice(&page);
                }
                f[table + cpu * 16..table + cpu * 16 + 8].copy_from_slice(&e.put_u64(at as u64));
                f[table + cpu * 16 + 8..table + cpu * 16 + 16].copy_from_slice(&e.put_u64((n * PS) as u64));
            }
        };
        flyrecord(&mut f, pages, 1);
        if instance {
            let at = f.len() as u64;
            f[instance_offset..instance_offset + 8].copy_from_slice(&e.put_u64(at));
            flyrecord(&mut f, [3, 1], 100);
        }
        f
    }

    fn spec(version: u32, compression: Option<(Codec, i32)>) -> Spec {
        Spec { version, compression, buffers: None, cpus: None, threads: 2, options: Vec::new() }
    }

    fn convert(data: &[u8], spec: &Spec) -> (Vec<u8>, Summary) {
        let trace = Trace::parse(data).unwrap();
        let mut o = Out::new(Vec::new(), trace.endian);
        let summary = write(&trace, Input { data, file: None }, spec, &mut o, &mut Progress::none()).unwrap();
        let (mut v, patches) = o.finish().unwrap();
        patch_vec(&mut v, &patches);
        (v, summary)
    }

    /// Every page of every buffer and CPU, in order.
    fn pages(data: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
        let t = Trace::parse(data).unwrap();
        let mut v = Vec::new();
        for b in &t.buffers {
            let BufferKind::Flyrecord { cpus } = &b.kind else { continue };
            let codec = b.section.filter(|h| h.compressed()).and(t.codec);
            for d in cpus {
                let mut s = CpuStream::new(data, t.endian, codec, d, b.page_size, &b.name).unwrap();
                while s.advance(data).unwrap() {
                    v.push((b.name.clone(), d.cpu, s.page(data).to_vec()));
                }
            }
        }
        v
    }

    fn targets() -> Vec<Spec> {
        vec![spec(6, None), spec(7, None), spec(7, Some((Codec::Zstd, 3))), spec(7, Some((Codec::Zlib, 1)))]
    }

    #[test]
    fn every_version_keeps_pages_metadata_and_options() {
        for e in [Endian::Little, Endian::Big] {
            let input = v6_file(e, [12, 3], Some(b"[local] global"), true);
            let want = pages(&input);
            assert_eq!(want.len(), 12 + 3 + 3 + 1);
            let src = Trace::parse(&input).unwrap();
            for sp in targets() {
                let (out, _) = convert(&input, &sp);
                let t = Trace::parse(&out).unwrap();
                assert_eq!(t.endian, e);
                assert_eq!(t.header.version, sp.version as u64);
                assert_eq!(pages(&out), want, "{sp:?}");
                for id in [options::HEADER_INFO, options::EVENT_FORMATS, options::KALLSYMS, options::CMDLINES] {
                    assert_eq!(format!("{:?}", strip(&t, &out, id)), format!("{:?}", strip(&src, &input, id)));
                }
                let unknown: Vec<_> = t.options.iter().filter(|o| o.id == 99).map(|o| t.bytes(&out, &o.payload).to_vec()).collect();
                assert_eq!(unknown, [b"\x01\x02unknown option".to_vec()], "unknown options travel byte for byte");
                assert_eq!(t.buffers.iter().map(|b| (b.name.as_str(), b.clock.as_deref())).collect::<Vec<_>>(), [("", Some("local")), ("inst", Some("local"))]);
            }
        }
    }

    /// A metadata content as texts (positions differ between files).
    fn strip(t: &Trace, data: &[u8], id: u16) -> Vec<Vec<u8>> {
        match t.content(id).unwrap() {
            Content::Headers { page, event } => vec![t.bytes(data, page).to_vec(), t.bytes(data, event).to_vec()],
            Content::Ftrace(v) => v.iter().map(|x| t.bytes(data, x).to_vec()).collect(),
            Content::Events(s) => {
                s.iter().flat_map(|s| std::iter::once(s.name.clone().into_bytes()).chain(s.events.iter().map(|x| t.bytes(data, x).to_vec()))).collect()
            }
            Content::Kallsyms(x) | Content::Printk(x) | Content::Cmdlines(x) => vec![t.bytes(data, x).to_vec()],
        }
    }

    #[test]
    fn reading_pages_from_the_file_or_from_memory_gives_the_same_output() {
        let input = v6_file(Endian::Little, [23, 4], Some(b"[local]"), true);
        let path = std::env::temp_dir().join(format!("tracedat-writer-input-{}.dat", std::process::id()));
        std::fs::write(&path, &input).unwrap();
        let file = File::open(&path).unwrap();
        let trace = Trace::parse(&input).unwrap();
        for sp in targets() {
            let mut o = Out::new(Vec::new(), trace.endian);
            write(&trace, Input { data: &input, file: Some(&file) }, &sp, &mut o, &mut Progress::none()).unwrap();
            let (mut v, patches) = o.finish().unwrap();
            patch_vec(&mut v, &patches);
            assert!(v == convert(&input, &sp).0, "{sp:?}");
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn writing_an_output_again_gives_the_same_bytes() {
        let input = v6_file(Endian::Little, [25, 2], Some(b"[x86-tsc]"), true);
        for sp in targets() {
            let (once, _) = convert(&input, &sp);
            let (twice, _) = convert(&once, &sp);
            assert!(once == twice, "{sp:?} is not a fixpoint");
        }
    }

    #[test]
    fn v7_layout_is_trace_cmds() {
        let input = v6_file(Endian::Little, [25, 0], Some(b"[local] global"), true);
        let (out, summary) = convert(&input, &spec(7, Some((Codec::Zstd, 3))));
        let t = Trace::parse(&out).unwrap();
        let ids: Vec<u16> = t.walk.sections.iter().map(|h| h.id).collect();
        assert_eq!(ids, [16, 17, 18, 19, 20, 21, 0, 3, 0, 3, 0, 15]);
        assert!(t.walk.trailing.is_none(), "sections are contiguous up to the end of the file");
        let descs: Vec<String> = t.walk.sections.iter().map(|h| String::from_utf8_lossy(t.strings.get(h.description).unwrap()).into_owned()).collect();
        assert_eq!(
            descs,
            [
                "headers",
                "ftrace events",
                "events format",
                "kallsyms",
                "printk",
                "command lines",
                "options",
                "buffer flyrecord ",
                "options",
                "buffer flyrecord inst",
                "options",
                "strings"
            ]
        );
        for h in &t.walk.sections {
            assert_eq!(h.compressed(), h.id != 0, "section {} flags", h.id);
        }
        // CPU 0: 25 pages in 3 chunks of 10, 10, 5 pages; the size counts the chunk count.
        let top = &summary.buffers[0];
        assert_eq!(top.cpus.len(), 1, "CPUs without data are not listed");
        let c = top.cpus[0];
        assert_eq!((c.offset % PS as u64, c.raw), (0, 25 * PS as u64));
        let mut cur = Cursor::new(&out, 0, Endian::Little, "test");
        cur.seek(c.offset as usize, "").unwrap();
        assert_eq!(cur.u32("").unwrap(), 3);
        let blocks: Vec<Block> = (0..3).map(|_| Block::read(&mut cur).unwrap()).collect();
        assert_eq!(blocks.iter().map(|b| b.uncompressed as usize / PS).collect::<Vec<_>>(), [10, 10, 5]);
        assert_eq!(c.size, 4 + blocks.iter().map(|b| 8 + b.compressed as u64).sum::<u64>());
        // The empty v6 TRACECLOCK option is filled from the trailer, the CPU count kept.
        let clock: Vec<_> = t.options.iter().filter(|o| o.id == options::TRACECLOCK).map(|o| t.bytes(&out, &o.payload).to_vec()).collect();
        assert_eq!(clock, [b"[local] global\0".to_vec()]);
        let cpus: Vec<_> = t.options.iter().filter(|o| o.id == options::CPUCOUNT).map(|o| t.bytes(&out, &o.payload).to_vec()).collect();
        assert_eq!(cpus, [2u32.to_le_bytes().to_vec()]);
    }

    #[test]
    fn v6_layout_is_trace_cmds() {
        let input = v6_file(Endian::Big, [2, 0], Some(b"[local] global"), true);
        let (v7, _) = convert(&input, &spec(7, Some((Codec::Zlib, 6))));
        let (out, summary) = convert(&v7, &spec(6, None));
        let t = Trace::parse(&out).unwrap();
        let v6 = t.v6.as_ref().unwrap();
        assert_eq!(v6.cpus, 2);
        assert!(!t.options.iter().any(|o| o.id == options::CPUCOUNT), "v6 keeps the CPU count in its header only");
        // The instance's BUFFER option points at its own flyrecord tag.
        let (o, p) = t.option_payload(&out, options::BUFFER).unwrap();
        let b = options::BufferOption::parse(o.id, p, t.endian, false, o.offset).unwrap();
        assert_eq!(out.get(b.offset as usize..b.offset as usize + 10), Some(&b"flyrecord\0"[..]));
        // v7 -> v6 writes the clock as "[clock]"; empty CPUs point at the aligned end of the data.
        assert_eq!(t.buffers[0].clock.as_deref(), Some("local"));
        let tags: Vec<_> = v6
            .tags
            .iter()
            .filter_map(|t| match t {
                V6Tag::Flyrecord { table, .. } => Some(table.clone()),
                _ => None,
            })
            .collect();
        let top = &tags[0];
        assert_eq!(top[0], (summary.buffers[0].cpus[0].offset, 2 * PS as u64));
        assert_eq!(top[1], (top[0].0 + top[0].1, 0));
    }

    #[test]
    fn a_file_without_data_stays_readable() {
        // trace-cmd dump reads 10 bytes after the top flyrecord: the file must not end there.
        let input = v6_file(Endian::Little, [0, 0], None, false);
        let (out, summary) = convert(&input, &spec(6, None));
        assert!(summary.buffers[0].cpus.is_empty());
        let t = Trace::parse(&out).unwrap();
        let V6Tag::Flyrecord { table, .. } = &t.v6.as_ref().unwrap().tags[1] else { panic!("no flyrecord") };
        assert!(table.iter().all(|&(off, size)| size == 0 && off as usize <= out.len()));
        assert!(out.len() >= out.windows(10).position(|w| w == b"flyrecord\0").unwrap() + 10 + 32 + 10);
        let (v7, _) = convert(&input, &spec(7, Some((Codec::Zstd, 3))));
        assert_eq!(pages(&v7).len(), 0);
    }

    #[test]
    fn subsets_of_buffers_and_cpus() {
        let input = v6_file(Endian::Little, [4, 3], Some(b"[local]"), true);
        let mut sp = spec(7, None);
        sp.buffers = Some(vec![1]);
        sp.cpus = Some(vec![0]);
        let (out, summary) = convert(&input, &sp);
        assert_eq!(summary.buffers.len(), 1);
        assert_eq!(pages(&out).iter().map(|p| (p.0.as_str(), p.1)).collect::<Vec<_>>(), [("inst", 0); 3]);
        let t = Trace::parse(&out).unwrap();
        let cpus = t.option_payload(&out, options::CPUCOUNT).unwrap().1;
        assert_eq!(cpus, 2u32.to_le_bytes(), "the CPU count is the input's");
        sp.buffers = Some(vec![5]);
        let t = Trace::parse(&input).unwrap();
        let mut o = Out::new(Vec::new(), t.endian);
        assert!(matches!(write(&t, Input { data: &input, file: None }, &sp, &mut o, &mut Progress::none()), Err(WriteError::Unsupported(_))));
    }

    #[test]
    fn options_can_be_set_removed_and_added() {
        let input = v6_file(Endian::Little, [1, 1], Some(b"[local] global"), false);
        for version in [6, 7] {
            let mut sp = spec(version, None);
            sp.options = vec![
                (options::UNAME, Some(b"Linux other\0".to_vec())),
                (99, None),
                (options::TSC2NSEC, Some(vec![1; 16])),
                (options::TRACECLOCK, Some(b"[mono]\0".to_vec())),
            ];
            let (out, _) = convert(&input, &sp);
            let t = Trace::parse(&out).unwrap();
            let kept: Vec<(u16, Vec<u8>)> =
                t.options.iter().filter(|o| [5, 99, 14, 4].contains(&o.id)).map(|o| (o.id, t.bytes(&out, &o.payload).to_vec())).collect();
            assert_eq!(kept, [(5, b"Linux other\0".to_vec()), (14, vec![1; 16]), (4, b"[mono]\0".to_vec())], "v{version}");
            assert_eq!(t.buffers[0].clock.as_deref(), Some("mono"), "v{version}: the clock follows the new TRACECLOCK");
            sp.options = vec![(options::CPUCOUNT, Some(vec![0; 4]))];
            let t = Trace::parse(&input).unwrap();
            let mut o = Out::new(Vec::new(), t.endian);
            assert!(matches!(write(&t, Input { data: &input, file: None }, &sp, &mut o, &mut Progress::none()), Err(WriteError::Unsupported(_))));
        }
    }

    #[test]
    fn btf_and_modules_sections_travel_in_v7_and_are_dropped_in_v6() {
        // A v7 file with a compressed BTF section appended the way trace-cmd appends: the
        // section, an options section pointing at it, the previous DONE linked to that.
        let base = v6_file(Endian::Little, [2, 0], None, false);
        let (mut f, _) = convert(&base, &spec(7, Some((Codec::Zstd, 3))));
        let t = Trace::parse(&f).unwrap();
        let last_done = t.options.iter().rev().find(|o| o.id == options::DONE).unwrap().offset as usize + 6;
        let btf: Vec<u8> = (0..5000u32).flat_map(|i| (i % 97).to_le_bytes()).collect();
        let z = compression::compress(Codec::Zstd, &btf, 3).unwrap();
        let section = f.len() as u64;
        for x in [&options::BTF_FILE.to_le_bytes()[..], &FLAG_COMPRESS.to_le_bytes(), &(-1i32).to_le_bytes(), &(8 + z.len() as u64).to_le_bytes()] {
            f.extend_from_slice(x);
        }
        f.extend_from_slice(&(z.len() as u32).to_le_bytes());
        f.extend_from_slice(&(btf.len() as u32).to_le_bytes());
        f.extend_from_slice(&z);
        let opts = f.len() as u64;
        f[last_done..last_done + 8].copy_from_slice(&opts.to_le_bytes());
        for x in [&0u16.to_le_bytes()[..], &0u16.to_le_bytes(), &(-1i32).to_le_bytes(), &28u64.to_le_bytes()] {
            f.extend_from_slice(x);
        }
        for x in
            [&options::BTF_FILE.to_le_bytes()[..], &8u32.to_le_bytes(), &section.to_le_bytes(), &0u16.to_le_bytes(), &8u32.to_le_bytes(), &0u64.to_le_bytes()]
        {
            f.extend_from_slice(x);
        }
        let (v7, summary) = convert(&f, &spec(7, None));
        assert!(summary.dropped.is_empty());
        let t = Trace::parse(&v7).unwrap();
        let (_, p) = t.option_payload(&v7, options::BTF_FILE).unwrap();
        let h = SectionHeader::read(&v7, u64::from_le_bytes(p.try_into().unwrap()), Endian::Little).unwrap();
        assert_eq!((h.id, t.strings.get(h.description)), (options::BTF_FILE, Some(&b"BTF"[..])));
        assert_eq!(h.read_content(&v7, Endian::Little, None, &mut Budget::new(META_RATIO), "test").unwrap().as_ref(), &btf[..]);
        let (v6, summary) = convert(&f, &spec(6, None));
        assert_eq!(summary.dropped, [options::BTF_FILE]);
        assert!(Trace::parse(&v6).unwrap().options.iter().all(|o| o.id != options::BTF_FILE));
    }

    #[test]
    fn v6_refuses_compression() {
        let input = v6_file(Endian::Little, [1, 1], None, false);
        let t = Trace::parse(&input).unwrap();
        let mut o = Out::new(Vec::new(), t.endian);
        let r = write(&t, Input { data: &input, file: None }, &spec(6, Some((Codec::Zstd, 3))), &mut o, &mut Progress::none());
        assert!(matches!(r, Err(WriteError::Unsupported(_))));
    }

    #[test]
    fn latency_text_survives_chunking() {
        let mut input = v6_file(Endian::Little, [0, 0], None, false);
        let at = input.windows(10).position(|w| w == b"flyrecord\0").unwrap();
        input.truncate(at);
        input.extend_from_slice(b"latency  \0");
        let text: Vec<u8> = (0..100_000u32).map(|i| b"# wakeup latency trace\n"[i as usize % 23]).collect();
        input.extend_from_slice(&text);
        let (v7, summary) = convert(&input, &spec(7, Some((Codec::Zstd, 3))));
        assert!(summary.buffers[0].latency);
        let t = Trace::parse(&v7).unwrap();
        let h = t.walk.sections.iter().find(|h| h.id == options::BUFFER_TEXT).unwrap();
        assert_eq!(String::from_utf8_lossy(t.strings.get(h.description).unwrap()), "buffer latency");
        let mut c = Cursor::new(&v7, 0, Endian::Little, "test");
        c.seek(h.content() as usize, "").unwrap();
        assert_eq!(c.u32("").unwrap(), 3, "100000 bytes in chunks of 10 pages");
        let (v6, _) = convert(&v7, &spec(6, None));
        let at = v6.windows(10).position(|w| w == b"latency  \0").unwrap();
        assert_eq!(&v6[at + 10..], &text[..]);
    }

    #[test]
    fn damaged_data_is_an_input_error() {
        let mut input = v6_file(Endian::Little, [3, 1], None, false);
        let (mut v7, s) = convert(&input, &spec(7, Some((Codec::Zstd, 3))));
        // Break the zstd frame magic of the first chunk of CPU 0.
        let at = s.buffers[0].cpus[0].offset as usize + 4 + 8;
        v7[at] ^= 0xff;
        let t = Trace::parse(&v7).unwrap();
        let mut o = Out::new(Vec::new(), t.endian);
        match write(&t, Input { data: &v7, file: None }, &spec(6, None), &mut o, &mut Progress::none()) {
            Err(WriteError::Input(e)) => assert!(e.section.contains("CPU 0"), "{e}"),
            other => panic!("expected an input error, got {other:?}"),
        }
        // A chunk header running off the file: the progress total meets it before anything is
        // written, with the error copying would give.
        v7[at] ^= 0xff;
        v7[at - 8..at - 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let t = Trace::parse(&v7).unwrap();
        let mut o = Out::new(Vec::new(), t.endian);
        match write(&t, Input { data: &v7, file: None }, &spec(6, None), &mut o, &mut Progress::none()) {
            Err(WriteError::Input(e)) => {
                assert_eq!((e.section.as_str(), e.offset), ("CPU 0 data", at as u64));
                assert!(e.expected.starts_with("compressed block data (4294967295 bytes, "), "{e}");
            }
            other => panic!("expected an input error, got {other:?}"),
        }
        assert_eq!(o.pos(), 0);
        // A v6 CPU data size that is not whole pages.
        let table = input.windows(10).position(|w| w == b"flyrecord\0").unwrap() + 10;
        input[table + 8..table + 16].copy_from_slice(&(3 * PS as u64 - 1).to_le_bytes());
        let t = Trace::parse(&input).unwrap();
        let mut o = Out::new(Vec::new(), t.endian);
        assert!(matches!(write(&t, Input { data: &input, file: None }, &spec(7, None), &mut o, &mut Progress::none()), Err(WriteError::Input(_))));
    }
}
