//! A whole trace.dat, v6 or v7, as a map of where everything is.
//!
//! [`Trace::parse`] reads the metadata (headers, formats, kallsyms, printk, cmdlines, options,
//! buffers and their per-CPU data locations) and nothing of the ring-buffer data itself: CPU
//! streams are read lazily by [`crate::ring::stream`]. The file's bytes are never copied: metadata
//! texts are [`Text`] spans into the file, or into a section we had to inflate.
//!
//! v6 is one sequential stream (trace-cmd.dat.v6(5)); v7 is a set of sections found through a
//! chain of options sections (trace-cmd.dat.v7(5)). Both end up in the same model, so that
//! everything above this module (dump, records, the writer) is version-blind where it can be.

use std::collections::HashSet;

use crate::format::bytes::{Cursor, Endian};
use crate::format::chunks::ChunkStream;
use crate::format::compression::{Budget, Codec, META_RATIO};
use crate::format::error::{Error, Result};
use crate::format::header::InitialHeader;
use crate::format::options::{self, BufferOption, CpuEntry, RawOption};
use crate::format::sections::{self, SectionHeader, Strings, Walk};

/// Where a [`Text`] lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    File,
    /// Index into [`Trace::inflated`].
    Inflated(usize),
}

/// A run of bytes in the file or in an inflated section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Text {
    pub src: Src,
    pub start: usize,
    pub len: usize,
}

/// Parsed content of one metadata section (v7) or its v6 equivalent.
#[derive(Clone, Debug)]
pub enum Content {
    /// header_page and header_event texts.
    Headers {
        page: Text,
        event: Text,
    },
    /// ftrace's own event formats.
    Ftrace(Vec<Text>),
    /// Event formats by system.
    Events(Vec<System>),
    Kallsyms(Text),
    Printk(Text),
    Cmdlines(Text),
}

#[derive(Clone, Debug)]
pub struct System {
    pub name: String,
    pub events: Vec<Text>,
}

/// A metadata section reached through a pointer option (v7), with what it holds.
#[derive(Clone, Debug)]
pub struct MetaSection {
    /// The pointer option's id (HEADER_INFO .. CMDLINES).
    pub option: u16,
    pub header: SectionHeader,
    pub content: Content,
}

/// An option as found, with its payload located.
#[derive(Clone, Debug)]
pub struct OptionRecord {
    pub id: u16,
    pub size: u32,
    /// Offset of the option's id field (inside the inflated section if compressed).
    pub offset: u64,
    pub payload: Text,
    /// v7: index into [`Trace::option_sections`]; v6: index of the `options` block.
    pub block: usize,
}

/// Per-CPU ring-buffer data of a flyrecord buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuData {
    pub cpu: u32,
    /// File offset of the CPU's stream (pages, or chunk count + chunks when compressed).
    pub offset: u64,
    /// Size as declared by the writer (4 bytes short in compressed files before trace-cmd 3.2).
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BufferKind {
    Flyrecord {
        cpus: Vec<CpuData>,
    },
    /// Latency tracer output: the text of `tracing/trace` (v7: chunk-compressed when the file is).
    Latency {
        offset: u64,
        size: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buffer {
    /// "" for the top instance.
    pub name: String,
    pub clock: Option<String>,
    pub page_size: u32,
    pub kind: BufferKind,
    /// v7: the BUFFER / BUFFER_TEXT section header.
    pub section: Option<SectionHeader>,
}

/// v6 only: the sequence of tags after the CPU count, as trace-cmd's dump walks it.
#[derive(Clone, Debug)]
pub enum V6Tag {
    /// `options  \0`: index into the options blocks.
    Options(usize),
    Latency,
    /// `flyrecord\0`: the per-CPU (offset, size) table and the clock trailer when read.
    Flyrecord {
        table: Vec<(u64, u64)>,
        clock: Option<Text>,
    },
}

#[derive(Clone, Debug)]
pub struct V6 {
    /// The CPU count stored after the cmdlines.
    pub cpus: u32,
    pub tags: Vec<V6Tag>,
    /// What stopped the tag walk when it was not a clean end (dump's "cannot read the rest of
    /// the header").
    pub trailing: Option<Error>,
}

pub struct Trace {
    pub header: InitialHeader,
    pub codec: Option<Codec>,
    pub endian: Endian,
    /// The kernel's long size, from the `commit` field of header_page (falls back to the
    /// header's user-space long size). Decides where page data starts.
    pub kernel_long: u8,
    pub inflated: Vec<Vec<u8>>,
    /// v6 metadata in file order / v7 metadata sections in the order their options were met.
    pub meta: Vec<MetaSection>,
    pub options: Vec<OptionRecord>,
    /// v7: the options sections of the chain, in order.
    pub option_sections: Vec<SectionHeader>,
    pub walk: Walk,
    pub strings: Strings,
    pub v6: Option<V6>,
    pub buffers: Vec<Buffer>,
    /// Known writer bugs read around, one line each, for the user to know (see
    /// [`Trace::v6_instance_offset`]).
    pub warnings: Vec<String>,
}

const V6_OPTIONS: &[u8; 10] = b"options  \0";
const V6_LATENCY: &[u8; 10] = b"latency  \0";
const V6_FLYRECORD: &[u8; 10] = b"flyrecord\0";

impl Trace {
    pub fn bytes<'a>(&'a self, data: &'a [u8], t: &Text) -> &'a [u8] {
        let src: &[u8] = match t.src {
            Src::File => data,
            Src::Inflated(i) => self.inflated.get(i).map(|v| v.as_slice()).unwrap_or(&[]),
        };
        src.get(t.start..t.start + t.len).unwrap_or(&[])
    }

    pub fn is_v7(&self) -> bool {
        self.header.is_v7()
    }

    pub fn parse(data: &[u8]) -> Result<Trace> {
        let header = InitialHeader::parse(data)?;
        let codec = header.codec()?;
        let endian = header.endian;
        let mut t = Trace {
            kernel_long: header.long_size,
            header,
            codec,
            endian,
            inflated: Vec::new(),
            meta: Vec::new(),
            options: Vec::new(),
            option_sections: Vec::new(),
            walk: Walk::default(),
            strings: Strings::default(),
            v6: None,
            buffers: Vec::new(),
            warnings: Vec::new(),
        };
        if t.is_v7() {
            t.parse_v7(data)?;
        } else {
            t.parse_v6(data)?;
        }
        t.kernel_long = t.find_kernel_long(data);
        Ok(t)
    }

    // ---- v6 ---------------------------------------------------------------------------------

    fn parse_v6(&mut self, data: &[u8]) -> Result<()> {
        let mut c = Cursor::new(data, 0, self.endian, "v6 metadata");
        c.seek(self.header.end as usize, "the metadata")?;
        let headers = parse_headers(&mut c, Src::File)?;
        self.meta.push(v6_meta(options::HEADER_INFO, headers));
        for (id, content) in [
            (options::FTRACE_EVENTS, parse_ftrace(&mut c, Src::File)?),
            (options::EVENT_FORMATS, parse_events(&mut c, Src::File)?),
            (options::KALLSYMS, Content::Kallsyms(sized_text(&mut c, Src::File, 4, "the kallsyms")?)),
            (options::PRINTK, Content::Printk(sized_text(&mut c, Src::File, 4, "the printk formats")?)),
            (options::CMDLINES, Content::Cmdlines(sized_text(&mut c, Src::File, 8, "the saved command lines")?)),
        ] {
            self.meta.push(v6_meta(id, content));
        }
        let cpus = c.u32("the CPU count")?;
        let mut v6 = V6 { cpus, tags: Vec::new(), trailing: None };
        let mut flyrecord: Option<Vec<(u64, u64)>> = None;
        let mut latency: Option<u64> = None;
        let mut blocks = 0usize;
        loop {
            let Ok(tag) = c.bytes(10, "a 10-byte tag (options, latency or flyrecord)") else {
                // Once the data is located, trace-cmd's reader stops reading; only its dump
                // looks for more tags and dies here. Keep the failure for dump.
                let e = c.error("a 10-byte tag (options, latency or flyrecord)");
                if flyrecord.is_none() && latency.is_none() {
                    return Err(e);
                }
                v6.trailing = Some(e);
                break;
            };
            if tag == V6_OPTIONS {
                self.read_v6_options(&mut c, blocks)?;
                v6.tags.push(V6Tag::Options(blocks));
                blocks += 1;
            } else if tag == V6_LATENCY {
                v6.tags.push(V6Tag::Latency);
                latency.get_or_insert(c.offset());
                // Latency text runs to the end of the file; dump finds no tag in it.
                break;
            } else if tag == V6_FLYRECORD {
                let table = read_cpu_table(&mut c, cpus)?;
                // The clock trailer is read only when a TRACECLOCK option was seen.
                let clock =
                    if self.options.iter().any(|o| o.id == options::TRACECLOCK) { Some(sized_text(&mut c, Src::File, 8, "the tracing clock")?) } else { None };
                flyrecord.get_or_insert_with(|| table.clone());
                v6.tags.push(V6Tag::Flyrecord { table, clock });
            } else {
                break;
            }
        }
        let clock = v6.tags.iter().find_map(|t| match t {
            V6Tag::Flyrecord { clock: Some(c), .. } => Some(*c),
            _ => None,
        });
        let clock = clock.map(|t| clock_name(self.bytes(data, &t)));
        let page_size = self.header.page_size;
        if let Some(off) = latency {
            let size = data.len() as u64 - off;
            self.buffers.push(Buffer { name: String::new(), clock, page_size, kind: BufferKind::Latency { offset: off, size }, section: None });
        } else if let Some(table) = flyrecord {
            let top = table_to_cpus(&table, data.len())?;
            self.buffers.push(Buffer { name: String::new(), clock: clock.clone(), page_size, kind: BufferKind::Flyrecord { cpus: top }, section: None });
            // Instances: each BUFFER option points at an `[options] flyrecord` of its own.
            let instances: Vec<BufferOption> = self
                .options
                .iter()
                .filter(|o| o.id == options::BUFFER)
                .map(|o| BufferOption::parse(o.id, self.bytes(data, &o.payload), self.endian, false, o.offset))
                .collect::<Result<_>>()?;
            for b in instances {
                let table = self.read_v6_instance(data, &b, cpus, &mut blocks)?;
                let list = table_to_cpus(&table, data.len())?;
                self.buffers.push(Buffer { name: b.name, clock: clock.clone(), page_size, kind: BufferKind::Flyrecord { cpus: list }, section: None });
            }
        }
        self.v6 = Some(v6);
        Ok(())
    }

    fn read_v6_options(&mut self, c: &mut Cursor<'_>, block: usize) -> Result<()> {
        while let Some(o) = options::read(c, true)? {
            self.push_option(&o, Src::File, c.offset() as usize - o.payload.len(), block);
        }
        Ok(())
    }

    /// Where an instance's tags are. trace-cmd 3.1.6's `convert --file-version 6` of a
    /// big-endian file writes the BUFFER options' offsets in the converting host's byte order
    /// (0x101f0000000000 for 0x1f1000), after which trace-cmd loses those instances: an offset
    /// that is not at a tag but whose bytes swapped are is read swapped, with a warning.
    fn v6_instance_offset(&mut self, data: &[u8], b: &BufferOption) -> u64 {
        let at_tag = |o: u64| usize::try_from(o).ok().and_then(|o| data.get(o..o.checked_add(10)?)).is_some_and(|t| t == V6_OPTIONS || t == V6_FLYRECORD);
        let swapped = b.offset.swap_bytes();
        if at_tag(b.offset) || !at_tag(swapped) {
            return b.offset;
        }
        self.warnings.push(format!(
            "the BUFFER option of buffer \"{}\" holds offset {:#x} in the wrong byte order (a writer bug of trace-cmd 3.1.6's convert --file-version 6); read as {:#x}",
            b.name, b.offset, swapped
        ));
        swapped
    }

    fn read_v6_instance(&mut self, data: &[u8], b: &BufferOption, cpus: u32, blocks: &mut usize) -> Result<Vec<(u64, u64)>> {
        let what = "v6 buffer instance";
        let offset = self.v6_instance_offset(data, b);
        let mut c = Cursor::new(data, 0, self.endian, what);
        c.seek(usize::try_from(offset).unwrap_or(usize::MAX).min(data.len() + 1), "the instance's flyrecord tag")
            .map_err(|_| Error::new(what, b.offset, format!("buffer \"{}\" inside the file", b.name)))?;
        let mut tag = c.bytes(10, "the instance's tag")?;
        if tag == V6_OPTIONS {
            self.read_v6_options(&mut c, *blocks)?;
            *blocks += 1;
            tag = c.bytes(10, "the instance's flyrecord tag")?;
        }
        if tag != V6_FLYRECORD {
            return Err(Error::new(what, c.offset() - 10, format!("the flyrecord tag of buffer \"{}\"", b.name)));
        }
        read_cpu_table(&mut c, cpus)
    }

    fn push_option(&mut self, o: &RawOption<'_>, src: Src, payload_start: usize, block: usize) {
        self.options.push(OptionRecord { id: o.id, size: o.size, offset: o.offset, payload: Text { src, start: payload_start, len: o.payload.len() }, block });
    }

    // ---- v7 ---------------------------------------------------------------------------------

    fn parse_v7(&mut self, data: &[u8]) -> Result<()> {
        self.walk = sections::walk(data, self.header.end, self.endian);
        // All the metadata inflated shares one budget (see compression::Budget).
        let mut budget = Budget::new(META_RATIO);
        self.strings = Strings::collect(data, &self.walk, self.endian, self.codec, &mut budget)?;
        // Follow the options chain; a loop or a chain longer than the file could hold is
        // damage, not something to follow forever.
        let mut next = self.header.first_options;
        let mut seen = HashSet::new();
        while next != 0 {
            if !seen.insert(next) {
                return Err(Error::new("options chain", next, "a new options section (the chain loops back here)"));
            }
            let h = SectionHeader::read(data, next, self.endian).map_err(|e| Error::new(format!("options section @ {next}"), e.offset, e.expected))?;
            if h.id != options::DONE {
                return Err(Error::new("options chain", next, format!("an options section (id 0), found section id {}", h.id)));
            }
            let what = format!("options section @ {next}");
            let block = self.option_sections.len();
            self.option_sections.push(h);
            next = self.read_v7_options(data, &h, block, &mut budget, &what)?;
        }
        // Metadata sections, in the order their pointer options were met.
        let pointers: Vec<(u16, u64)> = self
            .options
            .iter()
            .filter(|o| (options::HEADER_INFO..=options::CMDLINES).contains(&o.id))
            .filter_map(|o| Some((o.id, self.endian.uint(self.bytes(data, &o.payload).get(..8)?)?)))
            .collect();
        // A section pointed at twice is read once (trace-cmd writes one of each kind).
        let mut read = HashSet::new();
        for (id, offset) in pointers {
            if !read.insert((id, offset)) {
                continue;
            }
            let s = self.read_meta_section(data, id, offset, &mut budget)?;
            self.meta.push(s);
        }
        let buffers: Vec<(u16, u64, Text)> =
            self.options.iter().filter(|o| o.id == options::BUFFER || o.id == options::BUFFER_TEXT).map(|o| (o.id, o.offset, o.payload)).collect();
        for (id, at, payload) in buffers {
            let b = BufferOption::parse(id, self.bytes(data, &payload), self.endian, true, at)?;
            let h = SectionHeader::read(data, b.offset, self.endian).map_err(|e| Error::new(format!("buffer \"{}\" section", b.name), e.offset, e.expected))?;
            let kind = if id == options::BUFFER {
                BufferKind::Flyrecord { cpus: self.v7_cpus(data, &b)? }
            } else {
                BufferKind::Latency { offset: h.content(), size: h.size }
            };
            let page_size = b.page_size.unwrap_or(self.header.page_size);
            self.buffers.push(Buffer { name: b.name, clock: b.clock, page_size, kind, section: Some(h) });
        }
        // Where the walk itself stopped early, dump names that; otherwise every description
        // must resolve, or the strings section (written last) was lost.
        if self.walk.trailing.is_none() && self.walk.past_end.is_none() {
            self.strings.check(&self.walk)?;
        }
        Ok(())
    }

    /// Reads one options section; returns the offset of the next one (0 at the end).
    fn read_v7_options(&mut self, data: &[u8], h: &SectionHeader, block: usize, budget: &mut Budget, what: &str) -> Result<u64> {
        let content = h.read_content(data, self.endian, self.codec, budget, what)?;
        let (src, base) = match content {
            std::borrow::Cow::Borrowed(_) => (Src::File, h.content() as usize),
            std::borrow::Cow::Owned(v) => {
                self.inflated.push(v);
                (Src::Inflated(self.inflated.len() - 1), 0)
            }
        };
        let bytes: &[u8] = match src {
            Src::File => data,
            Src::Inflated(i) => &self.inflated[i],
        };
        // The cursor runs over the file (or inflated block) but is limited to this section.
        let end = (base
            + match src {
                Src::File => h.size as usize,
                Src::Inflated(i) => self.inflated[i].len(),
            })
        .min(bytes.len());
        let mut c = Cursor::new(bytes.get(..end).unwrap_or(&[]), 0, self.endian, what);
        c.seek(base, "the first option")?;
        let mut found = Vec::new();
        let next = loop {
            let o = options::read(&mut c, false)?.ok_or_else(|| c.error("an option"))?;
            found.push((o.id, o.size, o.offset, c.pos() - o.payload.len(), o.payload.len()));
            if o.id == options::DONE {
                break if o.payload.len() >= 8 { self.endian.uint(&o.payload[..8]).unwrap_or(0) } else { 0 };
            }
        };
        for (id, size, offset, start, len) in found {
            self.options.push(OptionRecord { id, size, offset, payload: Text { src, start, len }, block });
        }
        Ok(next)
    }

    fn read_meta_section(&mut self, data: &[u8], option: u16, offset: u64, budget: &mut Budget) -> Result<MetaSection> {
        let what = format!("{} section @ {offset}", section_name(option));
        let header = SectionHeader::read(data, offset, self.endian).map_err(|e| Error::new(what.clone(), e.offset, e.expected))?;
        if header.id != option {
            return Err(Error::new(what, offset, format!("section id {option}, found {}", header.id)));
        }
        let content = header.read_content(data, self.endian, self.codec, budget, &what)?;
        let (src, bytes, base) = match content {
            std::borrow::Cow::Borrowed(_) => (Src::File, data, header.content() as usize),
            std::borrow::Cow::Owned(v) => {
                self.inflated.push(v);
                let i = self.inflated.len() - 1;
                (Src::Inflated(i), self.inflated[i].as_slice(), 0)
            }
        };
        let limit = match src {
            Src::File => (base + header.size as usize).min(bytes.len()),
            Src::Inflated(_) => bytes.len(),
        };
        let mut c = Cursor::new(&bytes[..limit], 0, self.endian, &what);
        c.seek(base, "the section content")?;
        let content = match option {
            options::HEADER_INFO => parse_headers(&mut c, src)?,
            options::FTRACE_EVENTS => parse_ftrace(&mut c, src)?,
            options::EVENT_FORMATS => parse_events(&mut c, src)?,
            options::KALLSYMS => Content::Kallsyms(sized_text(&mut c, src, 4, "the kallsyms")?),
            options::PRINTK => Content::Printk(sized_text(&mut c, src, 4, "the printk formats")?),
            _ => Content::Cmdlines(sized_text(&mut c, src, 8, "the saved command lines")?),
        };
        Ok(MetaSection { option, header, content })
    }

    fn v7_cpus(&self, data: &[u8], b: &BufferOption) -> Result<Vec<CpuData>> {
        let mut seen = HashSet::new();
        let mut cpus = Vec::with_capacity(b.cpus.len());
        for &CpuEntry { cpu, offset, size } in &b.cpus {
            if !seen.insert(cpu) {
                return Err(Error::new(format!("buffer \"{}\"", b.name), b.offset, format!("each CPU once, CPU {cpu} is listed twice")));
            }
            if size > 0 && offset >= data.len() as u64 {
                return Err(Error::new(format!("buffer \"{}\" CPU {cpu}", b.name), offset, format!("CPU data inside the file ({} bytes)", data.len())));
            }
            cpus.push(CpuData { cpu, offset, size });
        }
        Ok(cpus)
    }

    /// The kernel's `long` size: the size of the `commit` field in header_page (an old file
    /// without a header_page keeps the user-space size from the initial header).
    fn find_kernel_long(&self, data: &[u8]) -> u8 {
        match self.content(options::HEADER_INFO) {
            Some(Content::Headers { page, .. }) => {
                crate::format::event_format::parse_header_page(self.bytes(data, page)).ok().and_then(|h| h.kernel_long()).unwrap_or(self.header.long_size)
            }
            _ => self.header.long_size,
        }
    }

    /// trace-cmd's CPU count of the file (its `cpus=` line): CPUCOUNT, else the v6 header count.
    pub fn cpu_count(&self, data: &[u8]) -> u32 {
        if let Some(v) = self.option_payload(data, options::CPUCOUNT).and_then(|(_, p)| p.get(..4)).and_then(|b| self.endian.uint(b)) {
            return v as u32;
        }
        self.v6.as_ref().map_or(0, |v| v.cpus)
    }

    /// Every event format text with its system, in the order libtraceevent parses them: ftrace's
    /// own events, then each system's.
    pub fn event_texts<'a>(&'a self, data: &'a [u8]) -> Vec<(String, &'a [u8])> {
        let mut texts = Vec::new();
        if let Some(Content::Ftrace(list)) = self.content(options::FTRACE_EVENTS) {
            texts.extend(list.iter().map(|t| ("ftrace".to_string(), self.bytes(data, t))));
        }
        if let Some(Content::Events(systems)) = self.content(options::EVENT_FORMATS) {
            for s in systems {
                texts.extend(s.events.iter().map(|t| (s.name.clone(), self.bytes(data, t))));
            }
        }
        texts
    }

    /// Where a common field (`common_pid`, `common_type`, ...) sits in this file's records as
    /// (offset, size), from the first event format that parses and has it: every event of a
    /// kernel starts with the same common fields, so one format answers for all.
    pub fn common_field(&self, data: &[u8], name: &str) -> Option<(u32, u32)> {
        self.event_texts(data).into_iter().find_map(|(system, text)| {
            let f = crate::format::event_format::parse(&system, text).ok()?;
            f.common.iter().find(|c| c.name == name).map(|c| (c.offset, c.size))
        })
    }

    /// The last metadata content of a kind (trace-cmd keeps the last pointer it saw).
    pub fn content(&self, option: u16) -> Option<&Content> {
        self.meta.iter().rev().find(|m| m.option == option).map(|m| &m.content)
    }

    /// Values of all string options of one id, in file order.
    pub fn option_texts(&self, data: &[u8], id: u16) -> Vec<String> {
        self.options.iter().filter(|o| o.id == id).map(|o| options::text(self.bytes(data, &o.payload))).collect()
    }

    pub fn option_payload<'a>(&'a self, data: &'a [u8], id: u16) -> Option<(&'a OptionRecord, &'a [u8])> {
        self.options.iter().rev().find(|o| o.id == id).map(|o| (o, self.bytes(data, &o.payload)))
    }
}

fn v6_meta(option: u16, content: Content) -> MetaSection {
    MetaSection { option, header: SectionHeader { offset: 0, id: option, flags: 0, description: -1, size: 0 }, content }
}

pub fn section_name(option: u16) -> &'static str {
    match option {
        options::HEADER_INFO => "headers",
        options::FTRACE_EVENTS => "ftrace events",
        options::EVENT_FORMATS => "events format",
        options::KALLSYMS => "kallsyms",
        options::PRINTK => "printk",
        options::CMDLINES => "command lines",
        _ => "metadata",
    }
}

/// The clock name inside a `[clock]` trailer or a trace_clock line (the bracketed word).
pub fn clock_name(text: &[u8]) -> String {
    let s = String::from_utf8_lossy(text);
    match (s.find('['), s.find(']')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].to_string(),
        _ => s.trim_matches(|c: char| c.is_whitespace() || c == '\0').to_string(),
    }
}

fn read_cpu_table(c: &mut Cursor<'_>, cpus: u32) -> Result<Vec<(u64, u64)>> {
    c.count(cpus, 16, |left| format!("a flyrecord table of {cpus} CPUs (16 bytes each), only {left} bytes left"))?;
    (0..cpus).map(|_| Ok((c.u64("a CPU data offset")?, c.u64("a CPU data size")?))).collect()
}

fn table_to_cpus(table: &[(u64, u64)], file_len: usize) -> Result<Vec<CpuData>> {
    let mut cpus = Vec::new();
    for (cpu, &(offset, size)) in table.iter().enumerate() {
        if size == 0 {
            continue;
        }
        if offset.checked_add(size).is_none_or(|e| e > file_len as u64) {
            return Err(Error::new(
                format!("flyrecord CPU {cpu}"),
                offset,
                format!("{size} bytes of CPU data from offset {offset}, but the file ends at {file_len}"),
            ));
        }
        cpus.push(CpuData { cpu: cpu as u32, offset, size });
    }
    Ok(cpus)
}

/// A text preceded by its size as a u32 or u64; `what` names it with its article ("the
/// kallsyms", "an event format").
fn sized_text(c: &mut Cursor<'_>, src: Src, width: usize, what: &str) -> Result<Text> {
    let size = if width == 4 { c.u32(&format!("the size of {what}"))? as u64 } else { c.u64(&format!("the size of {what}"))? };
    let start = c.pos();
    c.skip(usize::try_from(size).unwrap_or(usize::MAX), what)?;
    Ok(Text { src, start, len: size as usize })
}

fn parse_headers(c: &mut Cursor<'_>, src: Src) -> Result<Content> {
    let mut one = |tag: &[u8], what: &str| -> Result<Text> {
        let at = c.offset();
        let name = c.bytes(tag.len(), &format!("the string \"{}\"", String::from_utf8_lossy(&tag[..tag.len() - 1])))?;
        if name != tag {
            return Err(Error::new(c.what(), at, format!("the string \"{}\"", String::from_utf8_lossy(&tag[..tag.len() - 1]))));
        }
        sized_text(c, src, 8, what)
    };
    let page = one(b"header_page\0", "the header page")?;
    let event = one(b"header_event\0", "the header event")?;
    Ok(Content::Headers { page, event })
}

fn parse_ftrace(c: &mut Cursor<'_>, src: Src) -> Result<Content> {
    let n = c.u32("the count of ftrace event formats")?;
    // Each format takes at least its 8-byte size.
    c.count(n, 8, |left| format!("{n} ftrace formats, only {left} bytes left"))?;
    (0..n).map(|_| sized_text(c, src, 8, "an ftrace event format")).collect::<Result<_>>().map(Content::Ftrace)
}

fn parse_events(c: &mut Cursor<'_>, src: Src) -> Result<Content> {
    let n = c.u32("the count of event systems")?;
    // A system takes at least a NUL-terminated name and a u32 count.
    let mut systems = Vec::with_capacity(c.count(n, 5, |left| format!("{n} event systems, only {left} bytes left"))?);
    for _ in 0..n {
        let name = options::lossy(c.cstr("an event system name")?);
        let count = c.u32("the count of events in a system")?;
        c.count(count, 8, |left| format!("{count} event formats in system {name}, only {left} bytes left"))?;
        let events = (0..count).map(|_| sized_text(c, src, 8, "an event format")).collect::<Result<_>>()?;
        systems.push(System { name, events });
    }
    Ok(Content::Events(systems))
}

impl Trace {
    /// The time conversion trace-cmd applies to buffer `index` (TIME_SHIFT only on the top
    /// buffer, the rest on all), or the identity with `raw`.
    pub fn clock(&self, data: &[u8], index: usize, raw: bool) -> crate::time::timesync::Clock {
        self.clock_dated(data, index, raw, true)
    }

    /// [`Trace::clock`], with the DATE options left out when `date` is false (report's
    /// `--nodate`, trace-cmd's TRACECMD_FL_IGNORE_DATE).
    pub fn clock_dated(&self, data: &[u8], index: usize, raw: bool, date: bool) -> crate::time::timesync::Clock {
        if raw {
            return crate::time::timesync::Clock::default();
        }
        let top = self.buffers.get(index).is_some_and(|b| b.name.is_empty());
        // Options too short for their layout are ignored, as trace-cmd ignores them.
        let shift = self
            .option_payload(data, options::TIME_SHIFT)
            .filter(|(o, _)| o.size >= 16)
            .and_then(|(o, p)| options::TimeShift::parse(p, self.endian, o.offset).ok());
        let tsc = self
            .option_payload(data, options::TSC2NSEC)
            .filter(|(o, _)| o.size >= 16)
            .and_then(|(o, p)| options::Tsc2Nsec::parse(p, self.endian, o.offset).ok());
        let dates = if date { self.option_texts(data, options::DATE) } else { Vec::new() };
        crate::time::timesync::Clock::new(shift.as_ref(), tsc, &dates, &self.option_texts(data, options::OFFSET), top)
    }
}

impl Trace {
    /// The text of a latency buffer (`tracing/trace` of a latency tracer), whole.
    pub fn latency_text<'a>(&self, data: &'a [u8], index: usize) -> Result<std::borrow::Cow<'a, [u8]>> {
        let mut pieces = self.latency_pieces(data, index)?;
        let Some(first) = pieces.next()? else { return Ok(std::borrow::Cow::Borrowed(&[])) };
        let Some(second) = pieces.next()? else { return Ok(first) };
        let mut text = [first, second].concat();
        while let Some(p) = pieces.next()? {
            text.extend_from_slice(&p);
        }
        Ok(std::borrow::Cow::Owned(text))
    }

    /// The text of latency buffer `index` in pieces, for readers that stream it.
    pub fn latency_pieces<'a>(&self, data: &'a [u8], index: usize) -> Result<LatencyPieces<'a>> {
        let b = self.buffers.get(index).ok_or_else(|| Error::new("buffers", 0, format!("a buffer number below {}", self.buffers.len())))?;
        let BufferKind::Latency { offset, size } = b.kind else {
            return Err(Error::new(format!("buffer \"{}\"", b.name), 0, "a latency buffer (this one holds ring-buffer pages)"));
        };
        let what = format!("buffer \"{}\" latency data", b.name);
        let bytes = crate::format::bytes::span(offset, size, data.len())
            .and_then(|r| data.get(r))
            .ok_or_else(|| Error::new(what.clone(), offset, format!("{size} bytes of latency text inside the file")))?;
        let codec = self.codec.filter(|_| b.section.is_some_and(|h| h.compressed()));
        let pieces = match codec {
            Some(codec) => Pieces::Chunked(ChunkStream::open(data, offset, Some(offset + size), codec, self.endian, &what)?),
            None => Pieces::Plain(Some(bytes)),
        };
        Ok(LatencyPieces { data, what, pieces })
    }
}

/// The text of a latency buffer in pieces: raw in v6 and in uncompressed v7 (one piece, the
/// bytes in the file), a chunk stream in compressed v7, inflated one chunk at a time under one
/// budget for the whole text. Chunks need not be whole pages.
pub struct LatencyPieces<'a> {
    data: &'a [u8],
    what: String,
    pieces: Pieces<'a>,
}

enum Pieces<'a> {
    /// The text, until it is taken.
    Plain(Option<&'a [u8]>),
    Chunked(ChunkStream),
}

impl<'a> LatencyPieces<'a> {
    /// The next piece of text, None after the last.
    pub fn next(&mut self) -> Result<Option<std::borrow::Cow<'a, [u8]>>> {
        match &mut self.pieces {
            Pieces::Plain(p) => Ok(p.take().filter(|p| !p.is_empty()).map(std::borrow::Cow::Borrowed)),
            Pieces::Chunked(chunks) => Ok(chunks.next_chunk(self.data, &self.what)?.map(std::borrow::Cow::Owned)),
        }
    }

    /// The bytes of text still to come, from the chunk headers when compressed (`pace`: see
    /// [`ChunkStream::raw_left`]).
    pub fn raw_left(&self, pace: &mut dyn FnMut()) -> Result<u64> {
        match &self.pieces {
            Pieces::Plain(p) => Ok(p.map_or(0, |p| p.len() as u64)),
            Pieces::Chunked(chunks) => chunks.raw_left(self.data, &self.what, pace),
        }
    }
}

#[cfg(test)]
mod v6_damage_tests {
    use super::*;

    /// A v6 file: empty headers, formats and texts, one TRACECLOCK option, one CPU whose 4096
    /// bytes of data are at 4096; then `kallsyms` as the kallsyms (size, then bytes).
    fn v6(kallsyms: &[u8]) -> Vec<u8> {
        let mut f = vec![0x17, 0x08, 0x44];
        f.extend_from_slice(b"tracing6\0\0\x08");
        f.extend_from_slice(&4096u32.to_le_bytes());
        f.extend_from_slice(b"header_page\0");
        f.extend_from_slice(&0u64.to_le_bytes());
        f.extend_from_slice(b"header_event\0");
        f.extend_from_slice(&0u64.to_le_bytes());
        f.extend_from_slice(&[0; 8]); // no ftrace formats, no event systems
        f.extend_from_slice(kallsyms);
        f.extend_from_slice(&[0; 4 + 8]); // printk, cmdlines
        f.extend_from_slice(&1u32.to_le_bytes());
        f.extend_from_slice(b"options  \0");
        f.extend_from_slice(&options::TRACECLOCK.to_le_bytes());
        f.extend_from_slice(&4u32.to_le_bytes());
        f.extend_from_slice(b"[x]\0");
        f.extend_from_slice(&0u16.to_le_bytes());
        f.extend_from_slice(b"flyrecord\0");
        f.extend_from_slice(&4096u64.to_le_bytes());
        f.extend_from_slice(&4096u64.to_le_bytes());
        f.extend_from_slice(&3u64.to_le_bytes());
        f.extend_from_slice(b"[x]");
        f.resize(8192, 0);
        f
    }

    #[test]
    fn a_whole_file_parses() {
        let f = v6(&0u32.to_le_bytes());
        let t = Trace::parse(&f).unwrap();
        assert_eq!(t.buffers[0].kind, BufferKind::Flyrecord { cpus: vec![CpuData { cpu: 0, offset: 4096, size: 4096 }] });
    }

    #[test]
    fn damage_is_named_in_plain_words() {
        let mut k = 10u32.to_le_bytes().to_vec();
        k.extend_from_slice(b"abc");
        let f = v6(&k);
        let e = Trace::parse(&f[..f.windows(3).position(|w| w == b"abc").unwrap() + 3]).err().unwrap();
        assert_eq!(e.expected, "the kallsyms (10 bytes, 3 left)");

        let f = v6(&0u32.to_le_bytes());
        let e = Trace::parse(&f[..11]).err().unwrap();
        assert_eq!(e.expected, "the version string (a NUL-terminated string)");
        let header_page = 18;
        let e = Trace::parse(&f[..header_page + 5]).err().unwrap();
        assert_eq!((e.offset, e.expected.as_str()), (18, "the string \"header_page\" (12 bytes, 5 left)"));
        let clock = f.windows(10).position(|w| w == b"flyrecord\0").unwrap() + 10 + 16;
        let e = Trace::parse(&f[..clock + 5]).err().unwrap();
        assert_eq!(e.expected, "the size of the tracing clock (8 bytes, 5 left)");
        let e = Trace::parse(&f[..6000]).err().unwrap();
        assert_eq!((e.section.as_str(), e.offset), ("flyrecord CPU 0", 4096));
        assert_eq!(e.expected, "4096 bytes of CPU data from offset 4096, but the file ends at 6000");
    }
}
