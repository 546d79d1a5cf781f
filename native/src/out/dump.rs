//! `trace-cmd dump`, byte for byte.
//!
//! trace-cmd 3.1.6 (and 3.2, whose dump is the same) prints while it streams through the file;
//! we print from the parsed [`Trace`] in the same order and with the same quirks, so that the
//! output is identical:
//! - raw texts are printed in 1023-byte chunks with `%s`, so each chunk stops at its first NUL;
//! - `%10.lld` prints nothing but padding for a zero;
//! - v7 prints the strings table and the section walk first, then the options chain (buffer
//!   summary lines appear as their BUFFER options are met), then the metadata sections in
//!   reverse order of discovery;
//! - v6 walks the tags after the CPU count until one is not `options`, `latency` or
//!   `flyrecord`, and dies if the file ends first.
//!
//! When trace-cmd would die, [`dump`] returns what it had printed until then with the error.

use std::io::Write;

use crate::format::bytes::Cursor;
use crate::format::error::Error;
use crate::format::file::{Content, Trace, V6Tag};
use crate::format::options::{self, Tsc2Nsec};
use crate::format::sections::SectionHeader;

/// Defines trace-cmd's `enum dump_items` flags once, and [`ITEMS`] naming each as the API spells
/// it (after the `dump` option that selects it).
macro_rules! dump_items {
    ($($name:ident = $bit:expr => $api:literal,)*) => {
        $(pub const $name: u32 = $bit;)*
        /// Every item flag with its API name, and `all` (every bit, as `dump --all` sets).
        pub const ITEMS: &[(&str, u32)] = &[$(($api, $name),)* ("all", u32::MAX)];
    };
}

dump_items! {
    SUMMARY = 1 << 0 => "summary",
    HEAD_PAGE = 1 << 1 => "headPage",
    HEAD_EVENT = 1 << 2 => "headEvent",
    FTRACE_FORMAT = 1 << 3 => "ftraceEvents",
    EVENT_SYSTEMS = 1 << 4 => "systems",
    EVENT_FORMAT = 1 << 5 => "events",
    KALLSYMS = 1 << 6 => "kallsyms",
    TRACE_PRINTK = 1 << 7 => "printk",
    CMDLINES = 1 << 8 => "cmdLines",
    OPTIONS = 1 << 9 => "options",
    FLYRECORD = 1 << 10 => "flyrecord",
    CLOCK = 1 << 11 => "clock",
    SECTIONS = 1 << 12 => "sections",
    STRINGS = 1 << 13 => "strings",
}

/// trace-cmd's `TRACECMD_OPTION_MAX` in 3.1.6/3.2: section ids from here on are "unknown".
const OPTION_MAX: u16 = 23;

struct Out<'a> {
    buf: Vec<u8>,
    verbosity: u32,
    trace: &'a Trace,
    data: &'a [u8],
    has_clock: bool,
}

macro_rules! p {
    ($o:expr, $ids:expr, $($arg:tt)*) => {
        if $o.verbosity & ($ids) != 0 {
            let _ = write!($o.buf, $($arg)*);
        }
    };
}

impl Out<'_> {
    /// trace-cmd's `read_dump_string`: 1023-byte chunks, each printed up to its first NUL,
    /// then a newline.
    fn text(&mut self, ids: u32, bytes: &[u8]) {
        if self.verbosity & ids == 0 {
            return;
        }
        let chunk = if bytes.len() < 1024 { bytes.len().max(1) } else { 1023 };
        for part in bytes.chunks(chunk) {
            let end = part.iter().position(|&b| b == 0).unwrap_or(part.len());
            self.buf.extend_from_slice(&part[..end]);
        }
        self.buf.push(b'\n');
    }

    fn blob(&mut self, ids: u32, t: &crate::format::file::Text) {
        let (trace, data) = (self.trace, self.data);
        self.text(ids, trace.bytes(data, t));
    }

    fn content(&mut self, c: &Content) {
        match c {
            Content::Headers { page, event } => {
                p!(self, SUMMARY | HEAD_PAGE, "\t[Header page, {} bytes]\n", page.len);
                self.blob(HEAD_PAGE, page);
                p!(self, SUMMARY | HEAD_EVENT, "\t[Header event, {} bytes]\n", event.len);
                self.blob(HEAD_EVENT, event);
            }
            Content::Ftrace(list) => {
                p!(self, SUMMARY | FTRACE_FORMAT, "\t[Ftrace format, {} events]\n", list.len() as i32);
                for t in list {
                    self.blob(FTRACE_FORMAT, t);
                }
            }
            Content::Events(systems) => {
                p!(self, SUMMARY | EVENT_FORMAT | EVENT_SYSTEMS, "\t[Events format, {} systems]\n", systems.len() as i32);
                for s in systems {
                    p!(self, EVENT_SYSTEMS, "\t\t{} {} [system, events]\n", s.name, s.events.len() as i32);
                    for t in &s.events {
                        self.blob(EVENT_FORMAT, t);
                    }
                }
            }
            Content::Kallsyms(t) => {
                p!(self, SUMMARY | KALLSYMS, "\t[Kallsyms, {} bytes]\n", t.len as i32);
                self.blob(KALLSYMS, t);
            }
            Content::Printk(t) => {
                p!(self, SUMMARY | TRACE_PRINTK, "\t[Trace printk, {} bytes]\n", t.len as i32);
                self.blob(TRACE_PRINTK, t);
            }
            Content::Cmdlines(t) => {
                p!(self, SUMMARY | CMDLINES, "\t[Saved command lines, {} bytes]\n", t.len as i32);
                self.blob(CMDLINES, t);
            }
        }
    }

    fn section_line(&mut self, ids: u32, h: &SectionHeader) {
        let desc = self.description(h.description);
        p!(self, ids, "\t[Section {} @ {}: \"{}\", flags 0x{:X}, {} bytes]\n", h.id, h.offset, desc, h.flags, h.size as i64);
    }

    fn description(&self, id: i32) -> String {
        match self.trace.strings.get(id) {
            Some(s) => String::from_utf8_lossy(s).into_owned(),
            None => "Unknown".into(),
        }
    }

    /// The options of one block (v6 list or v7 section), as `dump_options_read` prints them.
    /// Returns the count of options printed, including those of chained sections.
    fn options(&mut self, block: usize) -> Result<usize, Error> {
        let trace = self.trace;
        let data = self.data;
        let endian = trace.endian;
        let v7 = trace.is_v7();
        if v7 {
            let h = trace.option_sections[block];
            self.section_line(OPTIONS, &h);
        }
        let mut count = 0;
        for o in trace.options.iter().filter(|o| o.block == block) {
            let payload = trace.bytes(data, &o.payload);
            let size = o.size as i32;
            count += 1;
            match o.id {
                options::DATE | options::CPUSTAT | options::UNAME | options::HOOK | options::OFFSET | options::VERSION | options::PROCMAPS => {
                    p!(self, OPTIONS, "\t\t[Option {}, {} bytes]\n", options::name(o.id).unwrap_or("?"), size);
                    if size != 0 {
                        self.text(OPTIONS, payload);
                    }
                }
                options::BUFFER | options::BUFFER_TEXT => self.buffer_option(o.id, size, payload, o.offset)?,
                options::TRACECLOCK => {
                    p!(self, OPTIONS, "\t\t[Option TRACECLOCK, {} bytes]\n", size);
                    self.text(OPTIONS | CLOCK, payload);
                    self.has_clock = true;
                }
                options::CPUCOUNT => {
                    p!(self, OPTIONS, "\t\t[Option CPUCOUNT, {} bytes]\n", size);
                    p!(self, OPTIONS, "{}\n", endian.uint(payload).unwrap_or(0) as i32);
                }
                options::TRACEID => {
                    p!(self, OPTIONS, "\t\t[Option TRACEID, {} bytes]\n", size);
                    p!(self, OPTIONS, "0x{:X}\n", endian.uint(payload).unwrap_or(0));
                }
                options::TIME_SHIFT => self.time_shift(size, payload),
                options::GUEST => self.guest(size, payload, o.offset),
                options::TSC2NSEC => {
                    p!(self, OPTIONS, "\n\t\t[Option TSC2NSEC, {} bytes]\n", size);
                    let t = Tsc2Nsec::parse(payload, endian, o.offset)?;
                    p!(self, OPTIONS, "{} {} {} [multiplier, shift, offset]\n", t.mult as i32, t.shift as i32, t.offset);
                }
                options::HEADER_INFO..=options::CMDLINES => {
                    let at = payload.get(..8).and_then(|b| endian.uint(b)).unwrap_or(0);
                    p!(self, OPTIONS, "\t\t[Option {}, {} bytes] @ {}\n", options::name(o.id).unwrap_or("?"), size, at as i64);
                }
                options::DONE => {
                    p!(self, OPTIONS, "\t\t[Option DONE, {} bytes]\n", size);
                    if !v7 || payload.len() < 8 {
                        return Ok(count);
                    }
                    let next = endian.uint(&payload[..8]).unwrap_or(0);
                    p!(self, OPTIONS, "{}\n", next as i64);
                    if next == 0 {
                        return Ok(count);
                    }
                    p!(self, OPTIONS, "\n\n");
                    return Ok(count + self.options(block + 1)?);
                }
                _ => {
                    p!(self, OPTIONS, " {} {}\t[Unknown option, size - skipping]\n", o.id, size);
                }
            }
        }
        Ok(count)
    }

    fn buffer_option(&mut self, id: u16, size: i32, payload: &[u8], at: u64) -> Result<(), Error> {
        let trace = self.trace;
        if size < 8 {
            return Err(Error::new("BUFFER option", at, format!("a buffer option of at least 8 bytes, found {size}")));
        }
        let b = options::BufferOption::parse(id, payload, trace.endian, trace.is_v7(), at)?;
        if !trace.is_v7() {
            p!(self, OPTIONS | FLYRECORD, "\t\t[Option BUFFER, {} bytes]\n", size);
            p!(self, OPTIONS | FLYRECORD, "{} [offset]\n", b.offset as i64);
            p!(self, OPTIONS | FLYRECORD, "\"{}\" [name]\n", b.name);
            return Ok(());
        }
        let h = SectionHeader::read(self.data, b.offset, trace.endian)?;
        self.section_line(FLYRECORD, &h);
        p!(self, OPTIONS | FLYRECORD, "\t\t[Option BUFFER, {} bytes]\n", size);
        p!(self, OPTIONS | FLYRECORD, "{} [offset]\n", b.offset as i64);
        p!(self, OPTIONS | FLYRECORD, "\"{}\" [name]\n", b.name);
        let clock = b.clock.clone().unwrap_or_default();
        p!(self, OPTIONS | FLYRECORD, "\"{}\" [clock]\n", clock);
        if id == options::BUFFER {
            let page_size = b.page_size.unwrap_or(0) as i32;
            p!(self, OPTIONS | FLYRECORD, "{} [Page size, bytes]\n", page_size);
            p!(self, OPTIONS | FLYRECORD, "{} [CPUs]:\n", b.cpus.len() as i32);
            let mut total: u64 = 0;
            for c in &b.cpus {
                total = total.wrapping_add(c.size);
                p!(self, OPTIONS | FLYRECORD, "   {} {}\t{}\t[id, data offset and size]\n", c.cpu as i32, c.offset as i64, c.size as i64);
            }
            p!(
                self,
                SUMMARY,
                "\t[buffer \"{}\", \"{}\" clock, {} page size, {} cpus, {} bytes flyrecord data]\n",
                b.name,
                clock,
                page_size,
                b.cpus.len() as i32,
                total as i64
            );
        } else {
            p!(self, SUMMARY, "\t[buffer \"{}\", \"{}\" clock, latency data]\n", b.name, clock);
        }
        Ok(())
    }

    fn time_shift(&mut self, size: i32, payload: &[u8]) {
        // Printed as trace-cmd reads it: field by field, stopping where the size runs out.
        p!(self, OPTIONS, "\t\t[Option TimeShift, {} bytes]\n", size);
        let mut c = Cursor::new(payload, 0, self.trace.endian, "TIME_SHIFT option");
        let id = c.u64("").unwrap_or(0);
        p!(self, OPTIONS, "0x{:X} [peer's trace id]\n", id);
        let flags = c.u32("").unwrap_or(0);
        p!(self, OPTIONS, "0x{:X} [peer's protocol flags]\n", flags);
        let cpus = c.u32("").unwrap_or(0);
        p!(self, OPTIONS, "0x{:X} [peer's CPU count]\n", cpus);
        let mut per_cpu: Vec<[Vec<i64>; 4]> = Vec::new();
        let mut broken = false;
        'cpus: for j in 0..cpus {
            let Ok(count) = c.u32("") else {
                broken = true;
                break;
            };
            p!(self, OPTIONS, "{} [samples count for CPU {}]\n", count, j);
            let mut arrays: [Vec<i64>; 4] = Default::default();
            for a in arrays.iter_mut().take(3) {
                for _ in 0..count {
                    match c.u64("") {
                        Ok(v) => a.push(v as i64),
                        Err(_) => {
                            broken = true;
                            per_cpu.push(arrays);
                            break 'cpus;
                        }
                    }
                }
            }
            per_cpu.push(arrays);
        }
        if broken {
            p!(self, OPTIONS, "Broken time shift option\n");
            return;
        }
        if !c.is_empty() {
            for arrays in per_cpu.iter_mut() {
                let n = arrays[0].len();
                for _ in 0..n {
                    match c.u64("") {
                        Ok(v) => arrays[3].push(v as i64),
                        Err(_) => {
                            p!(self, OPTIONS, "Broken time shift option\n");
                            return;
                        }
                    }
                }
            }
        }
        for [times, offsets, scalings, fracs] in &per_cpu {
            for i in 0..times.len() {
                let frac = fracs.get(i).copied().unwrap_or(0);
                p!(self, OPTIONS, "\t{} {} {} {}[offset * scaling >> fraction @ time]\n", offsets[i], scalings[i], frac as u64, times[i] as u64);
            }
        }
    }

    fn guest(&mut self, size: i32, payload: &[u8], at: u64) {
        p!(self, OPTIONS, "\t\t[Option GUEST, {} bytes]\n", size);
        let name_end = payload.iter().position(|&b| b == 0).unwrap_or(payload.len());
        p!(self, OPTIONS, "{} [Guest name]\n", String::from_utf8_lossy(&payload[..name_end]));
        // Printed field by field as far as the payload goes, like trace-cmd.
        let mut c = Cursor::new(payload, at + options::OPTION_HEADER, self.trace.endian, "GUEST option");
        let _ = c.skip((name_end + 1).min(payload.len()), "");
        let Ok(id) = c.u64("") else { return };
        p!(self, OPTIONS, "0x{:X} [trace id]\n", id);
        let Ok(cpus) = c.u32("") else { return };
        p!(self, OPTIONS, "{} [Guest CPUs]\n", cpus as i32);
        for _ in 0..cpus {
            if c.remaining() < 8 {
                return;
            }
            let cpu = c.u32("").unwrap_or(0) as i32;
            let pid = c.u32("").unwrap_or(0) as i32;
            p!(self, OPTIONS, "  {} {} [guest cpu, host pid]\n", cpu, pid);
        }
    }
}

/// `%10.lld`: width 10, precision 0 (a zero prints as padding only).
fn fmt_10_dot(v: i64) -> String {
    if v == 0 {
        " ".repeat(10)
    } else {
        format!("{v:>10}")
    }
}

/// Produces `trace-cmd dump` output for `verbosity` (0 means the default, `--summary`).
/// On error, returns the output printed before trace-cmd would have died, and the error.
pub fn dump(trace: &Trace, data: &[u8], file_name: &str, verbosity: u32) -> (Vec<u8>, Option<Error>) {
    let mut o = Out { buf: Vec::new(), verbosity, trace, data, has_clock: false };
    let r = run(&mut o, file_name);
    (o.buf, r.err())
}

fn run(o: &mut Out<'_>, file_name: &str) -> Result<(), Error> {
    let t = o.trace;
    let h = &t.header;
    p!(o, SUMMARY, "\n Tracing meta data in file {}:\n", file_name);
    p!(o, SUMMARY, "\t[Initial format]\n");
    p!(o, SUMMARY, "\t\t{}\t[Version]\n", h.version_text);
    p!(o, SUMMARY, "\t\t{}\t[{} endian]\n", h.endian_flag as i8, if h.endian_flag != 0 { "Big" } else { "Little" });
    p!(o, SUMMARY, "\t\t{}\t[Bytes in a long]\n", h.long_size as i8);
    p!(o, SUMMARY, "\t\t{}\t[Page size, bytes]\n", h.page_size as i32);
    if let Some((name, ver)) = &h.compression {
        p!(o, SUMMARY, "\t\t{}\t[Compression algorithm]\n", name);
        p!(o, SUMMARY, "\t\t{}\t[Compression version]\n", ver);
    }
    if t.is_v7() {
        run_v7(o)
    } else {
        run_v6(o)
    }
}

fn run_v6(o: &mut Out<'_>) -> Result<(), Error> {
    let t = o.trace;
    for m in &t.meta {
        o.content(&m.content);
    }
    let v6 = t.v6.as_ref().ok_or_else(|| Error::new("v6 layout", 0, "a v6 file"))?;
    p!(o, SUMMARY, "\t{} [CPUs with tracing data]\n", v6.cpus as i32);
    for tag in &v6.tags {
        match tag {
            V6Tag::Options(block) => {
                let n = o.options(*block)?;
                p!(o, SUMMARY | OPTIONS, "\t[{} options]\n", n);
            }
            V6Tag::Latency => p!(o, SUMMARY, "\t[Latency tracing data]\n"),
            V6Tag::Flyrecord { table, clock } => {
                p!(o, SUMMARY | FLYRECORD, "\t[Flyrecord tracing data]\n");
                for (cpu, &(off, size)) in table.iter().enumerate() {
                    p!(o, FLYRECORD, "\t {} {}\t[offset, size of cpu {}]\n", fmt_10_dot(off as i64), fmt_10_dot(size as i64), cpu);
                }
                p!(o, SUMMARY | CLOCK, "\t[Tracing clock]\n");
                match clock {
                    Some(c) if o.has_clock => {
                        let text = t.bytes(o.data, c);
                        let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
                        p!(o, SUMMARY | CLOCK, "\t\t{}\n", String::from_utf8_lossy(&text[..end]));
                    }
                    _ => p!(o, SUMMARY | CLOCK, "\t\t No tracing clock saved in the file\n"),
                }
            }
        }
    }
    match &v6.trailing {
        Some(e) => Err(Error::new(
            e.section.clone(),
            e.offset,
            "the rest of the header (another 10-byte tag, or the padding before the CPU data), but the file ends here",
        )),
        None => Ok(()),
    }
}

fn run_v7(o: &mut Out<'_>) -> Result<(), Error> {
    let t = o.trace;
    let data = o.data;
    // Strings, as get_meta_strings prints them.
    for &(start, len) in &t.strings.parts {
        p!(o, STRINGS, "\t[String @ offset]\n");
        let part = &t.strings.table[start..start + len];
        let mut pos = 0;
        while pos < len {
            let end = part[pos..].iter().position(|&b| b == 0).map(|n| pos + n).unwrap_or(len);
            p!(o, STRINGS, "\t\t\"{}\" @ {}\n", String::from_utf8_lossy(&part[pos..end]), start + pos);
            pos = end + 1;
        }
    }
    // trace-cmd reads the strings while walking the section headers, and dies at a partial
    // header before it lists any section.
    if let Some(e) = &t.walk.trailing {
        return Err(e.clone());
    }
    // The section walk.
    for h in &t.walk.sections {
        let desc = o.description(h.description);
        if h.id >= OPTION_MAX {
            p!(o, SECTIONS, "Unknown section id {}: {}", h.id, desc);
        }
        if h.compressed() {
            if h.id == options::BUFFER || h.id == options::BUFFER_TEXT {
                p!(o, SECTIONS, "\t[Section {:2} @ {:<16}\t\"{}\", flags 0x{:X}, {} compressed bytes]\n", h.id, h.offset, desc, h.flags, h.size as i64);
            } else {
                let mut c = Cursor::new(data, 0, t.endian, "section walk");
                c.seek(h.content() as usize, "a compressed block header")?;
                let csize = c.u32("the compressed size")? as i32;
                let rsize = c.u32("the uncompressed size")? as i32;
                p!(
                    o,
                    SECTIONS,
                    "\t[Section {:2} @ {:<16}\t\"{}\", flags 0x{:X}, {} compressed, {} uncompressed]\n",
                    h.id,
                    h.offset,
                    desc,
                    h.flags,
                    csize,
                    rsize
                );
            }
        } else {
            p!(o, SECTIONS, "\t[Section {:2} @ {:<16}\t\"{}\", flags 0x{:X}, {} bytes]\n", h.id, h.offset, desc, h.flags, h.size as i64);
        }
    }
    if let Some(e) = &t.walk.past_end {
        return Err(e.clone());
    }
    let n = if t.option_sections.is_empty() { 0 } else { o.options(0)? };
    p!(o, SUMMARY | OPTIONS, "\t[{} options]\n", n);
    for m in t.meta.iter().rev() {
        let ids = match m.option {
            options::HEADER_INFO => HEAD_PAGE | HEAD_EVENT,
            options::FTRACE_EVENTS => FTRACE_FORMAT,
            options::EVENT_FORMATS => EVENT_SYSTEMS | EVENT_FORMAT,
            options::KALLSYMS => KALLSYMS,
            options::PRINTK => TRACE_PRINTK,
            _ => CMDLINES,
        };
        o.section_line(ids, &m.header);
        o.content(&m.content);
    }
    p!(o, SUMMARY | SECTIONS, "\t[{} sections]\n", t.walk.sections.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal uncompressed v7 file: header, one options section (DONE only), a strings
    /// section holding "options", then `tail`.
    fn v7_file(tail: &[u8]) -> Vec<u8> {
        let mut f = vec![0x17, 0x08, 0x44];
        f.extend_from_slice(b"tracing7\0\0\x08");
        f.extend_from_slice(&4096u32.to_le_bytes());
        f.extend_from_slice(b"none\0\0");
        let first = f.len() as u64 + 8;
        f.extend_from_slice(&first.to_le_bytes());
        let section = |f: &mut Vec<u8>, id: u16, content: &[u8]| {
            f.extend_from_slice(&id.to_le_bytes());
            f.extend_from_slice(&0u16.to_le_bytes());
            f.extend_from_slice(&0i32.to_le_bytes());
            f.extend_from_slice(&(content.len() as u64).to_le_bytes());
            f.extend_from_slice(content);
        };
        let mut done = 0u16.to_le_bytes().to_vec();
        done.extend_from_slice(&8u32.to_le_bytes());
        done.extend_from_slice(&0u64.to_le_bytes());
        section(&mut f, options::DONE, &done);
        section(&mut f, options::STRINGS, b"options\0");
        f.extend_from_slice(tail);
        f
    }

    #[test]
    fn a_partial_section_header_stops_dump_before_the_section_list() {
        let f = v7_file(&[1, 0, 0]);
        let t = Trace::parse(&f).unwrap();
        let (out, err) = dump(&t, &f, "f", SECTIONS | STRINGS);
        assert_eq!(String::from_utf8(out).unwrap(), "\t[String @ offset]\n\t\t\"options\" @ 0\n");
        let e = err.unwrap();
        // The id (2 bytes) is read; the flags are not there.
        assert_eq!((e.section.as_str(), e.offset), ("section header", f.len() as u64 - 1));
        // Without the damage the same call lists both sections and succeeds.
        let clean = v7_file(&[]);
        let (out, err) = dump(&Trace::parse(&clean).unwrap(), &clean, "f", SECTIONS);
        assert!(err.is_none());
        assert_eq!(String::from_utf8(out).unwrap().matches("[Section").count(), 2);
    }

    #[test]
    fn a_section_past_the_end_stops_dump_after_the_section_list() {
        let mut tail = 3u16.to_le_bytes().to_vec();
        tail.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        tail.extend_from_slice(&1000u64.to_le_bytes());
        tail.extend_from_slice(&[0; 10]);
        let f = v7_file(&tail);
        let t = Trace::parse(&f).unwrap();
        let (out, err) = dump(&t, &f, "f", SECTIONS | SUMMARY);
        let out = String::from_utf8(out).unwrap();
        assert!(out.ends_with(&format!("\t[Section  3 @ {:<16}\t\"options\", flags 0x0, 1000 bytes]\n", f.len() - 26)), "{out}");
        assert!(!out.contains("options]"), "the options are not reached: {out}");
        let e = err.unwrap();
        assert_eq!(e.offset, f.len() as u64 - 26);
        assert!(e.expected.ends_with(&format!("but the file ends at {}", f.len())), "{}", e.expected);
    }

    #[test]
    fn precision_zero_formats_like_printf() {
        assert_eq!(fmt_10_dot(0), "          ");
        assert_eq!(fmt_10_dot(4096), "      4096");
    }
}
