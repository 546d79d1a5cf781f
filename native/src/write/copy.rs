//! `convert`'s decisions: which buffers, CPUs and options of an input travel to the output, and
//! which clock and CPU count it declares, as a [`Layout`] the writer writes.
//!
//! Options that describe the layout are regenerated, not copied: BUFFER, BUFFER_TEXT, the
//! section pointers, DONE and CPUCOUNT (v7 keeps the CPU count there, v6 in the header: a v6
//! CPUCOUNT option would change how many flyrecord entries a reader expects). Every other
//! option is copied byte for byte, unknown ones included, with one adjustment: a v6 TRACECLOCK
//! option may be empty because v6 keeps the clock text in the flyrecord trailer; moving to v7,
//! where the option is the only place for it, the trailer text fills it. BTF_FILE and
//! MODULES_FILE (trace-cmd 3.4) point at sections: v7 copies the sections, v6 has none and
//! drops them (the summary lists them).

use std::borrow::Cow;

use crate::format::compression::{Budget, META_RATIO};
use crate::format::error::Error;
use crate::format::file::{Buffer, BufferKind, Content, Trace, V6Tag};
use crate::format::options;
use crate::format::sections::SectionHeader;
use crate::write::layout::{Input, Layout, OutBuffer, OutCpu, OutData, PageSource};
use crate::write::writer::{is_layout, Result, Spec, WriteError};

/// The metadata of a file, in the order trace-cmd writes it.
pub const META: [u16; 6] = [options::HEADER_INFO, options::FTRACE_EVENTS, options::EVENT_FORMATS, options::KALLSYMS, options::PRINTK, options::CMDLINES];

/// The layout `spec` asks for: what of `trace` is written and how.
pub fn layout<'t>(trace: &'t Trace, input: Input<'t>, spec: &Spec) -> Result<Layout<'t>> {
    let data = input.data;
    if spec.version != 6 && spec.version != 7 {
        return Err(WriteError::Unsupported(format!("file version {} (6 or 7 can be written)", spec.version)));
    }
    if spec.version == 6 && spec.compression.is_some() {
        return Err(WriteError::Unsupported("compression in a v6 file (only v7 files are compressed)".into()));
    }
    let mut buffers: Vec<&Buffer> = Vec::new();
    for (i, b) in trace.buffers.iter().enumerate() {
        if spec.buffers.as_ref().is_none_or(|keep| keep.contains(&i)) {
            buffers.push(b);
        }
    }
    if let Some(bad) = spec.buffers.as_ref().and_then(|k| k.iter().find(|&&i| i >= trace.buffers.len())) {
        return Err(WriteError::Unsupported(format!("buffer {bad}: the file has {} buffers", trace.buffers.len())));
    }
    // The top buffer first, as trace-cmd writes it; instances in file order.
    buffers.sort_by_key(|b| !b.name.is_empty());
    // Pages are written at their page size, padded: a size no kernel makes is damage, not a
    // request for hundreds of MiB of padding per page.
    let h = &trace.header;
    let too_large = |size: u32| size > MAX_PAGE_SIZE;
    if too_large(h.page_size) {
        return Err(WriteError::Input(Error::new("initial header", h.page_size_at, page_size_expected(h.page_size))));
    }
    if let Some(b) = buffers.iter().find(|b| too_large(b.page_size)) {
        let at = b.section.as_ref().map_or(h.page_size_at, |s| s.offset);
        return Err(WriteError::Input(Error::new(format!("buffer \"{}\"", b.name), at, page_size_expected(b.page_size))));
    }

    let e = trace.endian;
    let mut cpus = trace.v6.as_ref().map_or(0, |v| v.cpus);
    for o in trace.options.iter().filter(|o| o.id == options::CPUCOUNT) {
        if let Some(n) = trace.bytes(data, &o.payload).get(..4).and_then(|b| e.uint(b)) {
            cpus = cpus.max(n as u32);
        }
    }
    if let Some(BufferKind::Flyrecord { cpus: list }) = trace.buffers.iter().find(|b| b.name.is_empty()).map(|b| &b.kind) {
        cpus = cpus.max(list.iter().map(|d| d.cpu.saturating_add(1)).max().unwrap_or(0));
    }

    if let Some((id, _)) = spec.options.iter().find(|(id, _)| is_layout(*id)) {
        return Err(WriteError::Unsupported(format!("option {id}: it describes the layout, which the writer makes")));
    }
    let set: Vec<u16> = spec.options.iter().map(|o| o.0).collect();
    // A replaced TRACECLOCK makes a v6 input's clock trailer stale.
    let trailer = trace.v6.as_ref().filter(|_| !set.contains(&options::TRACECLOCK)).and_then(|v| {
        v.tags.iter().find_map(|t| match t {
            V6Tag::Flyrecord { clock: Some(c), .. } => Some(trace.bytes(data, c)),
            _ => None,
        })
    });

    let mut carried = Vec::new();
    let mut extra = Vec::new();
    let mut dropped = Vec::new();
    for o in trace.options.iter().filter(|o| !set.contains(&o.id)) {
        let payload = trace.bytes(data, &o.payload);
        match o.id {
            options::BTF_FILE | options::MODULES_FILE if spec.version == 6 => dropped.push(o.id),
            options::BTF_FILE | options::MODULES_FILE => {
                // trace-cmd 3.4's descriptions for these sections.
                let desc = if o.id == options::BTF_FILE { "BTF" } else { "modules" };
                let at = payload.get(..8).and_then(|b| e.uint(b)).unwrap_or(u64::MAX);
                let what = format!("{desc} section @ {at}");
                let h = SectionHeader::read(data, at, e).map_err(|x| Error::new(what.clone(), x.offset, x.expected))?;
                let content = h.read_content(data, e, trace.codec, &mut Budget::new(META_RATIO), &what)?;
                extra.push((o.id, desc, content.into_owned()));
            }
            options::TRACECLOCK if spec.version >= 7 && bracketed(payload).is_none() && trailer.is_some() => {
                let mut text = trailer.unwrap_or_default().to_vec();
                text.push(0);
                carried.push((o.id, Cow::Owned(text)));
            }
            id if is_layout(id) => {}
            _ => carried.push((o.id, Cow::Borrowed(payload))),
        }
    }
    carried.extend(spec.options.iter().filter_map(|(id, p)| Some((*id, Cow::Owned(p.clone()?)))));

    // The clock trace-cmd's reader would settle on for the output.
    let mut clock = None;
    for (_, p) in carried.iter().filter(|(id, _)| *id == options::TRACECLOCK) {
        clock = bracketed(p).or(clock);
    }
    let clock = clock.or_else(|| trace.buffers.iter().find(|b| b.name.is_empty()).and_then(|b| b.clock.clone()));
    let clock_set = set.contains(&options::TRACECLOCK);
    let buffers = buffers.into_iter().map(|b| out_buffer(trace, input, b, spec)).collect();
    let meta = META.iter().map(|&id| (id, meta(trace, data, id))).collect();
    Ok(Layout { endian: e, long_size: h.long_size, page_size: h.page_size, meta, cpus, carried, extra, dropped, clock, trailer, clock_set, buffers })
}

/// The largest page size written: far above any ring-buffer sub-buffer a kernel makes (a 4 or
/// 64 KiB page, or since Linux 6.8 `buffer_subbuf_size_kb` rounded up to a power of two pages).
const MAX_PAGE_SIZE: u32 = 8 << 20;

fn page_size_expected(found: u32) -> String {
    format!("a page size of at most {MAX_PAGE_SIZE} bytes to write pages of, found {found}")
}

/// A buffer of the input as the output holds it: its CPUs in CPU order, `spec`'s subset.
fn out_buffer<'t>(trace: &'t Trace, input: Input<'t>, b: &'t Buffer, spec: &Spec) -> OutBuffer<'t> {
    let data = match &b.kind {
        BufferKind::Flyrecord { cpus } => {
            let mut v: Vec<_> = cpus.iter().filter(|d| spec.cpus.as_ref().is_none_or(|k| k.contains(&d.cpu))).collect();
            v.sort_by_key(|d| d.cpu);
            OutData::Pages(v.into_iter().map(|d| OutCpu { cpu: d.cpu, pages: PageSource::Copy { trace, input, buffer: b, data: d } }).collect())
        }
        BufferKind::Latency { .. } => {
            let index = trace.buffers.iter().position(|x| std::ptr::eq(x, b)).unwrap_or(usize::MAX);
            OutData::Latency { trace, input, index }
        }
    };
    OutBuffer { name: b.name.clone(), clock: b.clock.clone(), page_size: b.page_size, data }
}

/// The content of a metadata section (v7) or of the same part of a v6 file.
pub fn meta(t: &Trace, d: &[u8], id: u16) -> Vec<u8> {
    let e = t.endian;
    let mut v = Vec::new();
    let sized = |v: &mut Vec<u8>, width: usize, b: &[u8]| {
        if width == 4 {
            v.extend_from_slice(&e.put_u32(b.len() as u32));
        } else {
            v.extend_from_slice(&e.put_u64(b.len() as u64));
        }
        v.extend_from_slice(b);
    };
    match (id, t.content(id)) {
        (_, Some(Content::Headers { page, event })) => {
            v.extend_from_slice(b"header_page\0");
            sized(&mut v, 8, t.bytes(d, page));
            v.extend_from_slice(b"header_event\0");
            sized(&mut v, 8, t.bytes(d, event));
        }
        (options::HEADER_INFO, _) => {
            // No header files: trace-cmd's "old style" file, both names with size 0.
            v.extend_from_slice(b"header_page\0");
            sized(&mut v, 8, &[]);
            v.extend_from_slice(b"header_event\0");
            sized(&mut v, 8, &[]);
        }
        (_, Some(Content::Ftrace(list))) => {
            v.extend_from_slice(&e.put_u32(list.len() as u32));
            for f in list {
                sized(&mut v, 8, t.bytes(d, f));
            }
        }
        (_, Some(Content::Events(systems))) => {
            v.extend_from_slice(&e.put_u32(systems.len() as u32));
            for s in systems {
                v.extend_from_slice(s.name.as_bytes());
                v.push(0);
                v.extend_from_slice(&e.put_u32(s.events.len() as u32));
                for f in &s.events {
                    sized(&mut v, 8, t.bytes(d, f));
                }
            }
        }
        (_, Some(Content::Kallsyms(x) | Content::Printk(x))) => sized(&mut v, 4, t.bytes(d, x)),
        (_, Some(Content::Cmdlines(x))) => sized(&mut v, 8, t.bytes(d, x)),
        (options::CMDLINES, None) => sized(&mut v, 8, &[]),
        // Missing ftrace/event formats, kallsyms or printk: an empty list or text.
        (_, None) => v.extend_from_slice(&e.put_u32(0)),
    }
    v
}

/// The bracketed word of a trace_clock text ("local global [x86-tsc]" -> x86-tsc).
fn bracketed(text: &[u8]) -> Option<String> {
    let rest = text.get(text.iter().position(|&c| c == b'[')? + 1..)?;
    let word = rest.get(..rest.iter().position(|&c| c == b']')?)?;
    (!word.is_empty()).then(|| String::from_utf8_lossy(word).into_owned())
}
