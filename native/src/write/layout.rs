//! What a trace.dat to be written holds, whatever it is made from: the header's numbers, the
//! metadata contents, the options, and the buffers with where their pages come from.
//!
//! `convert` makes one from an input file ([`crate::write::copy`]), `merge` from a host and its
//! guests ([`crate::merge::plan`]); [`crate::write::writer`] writes either as v6 or v7. Pages
//! are copied from an input's CPU stream or made while the file is written (a guest moved onto
//! host time), one CPU at a time, so memory stays flat.

use std::borrow::Cow;
use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::format::bytes::Endian;
use crate::format::error::{Error, Result};
use crate::format::file::{Buffer, CpuData, Trace};

/// The bytes of a file being read (a mapping, or memory) and the file behind a mapping.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    pub data: &'a [u8],
    pub file: Option<&'a File>,
}

impl<'a> Input<'a> {
    /// Bytes `start..end` of the input, which the stream reading them has checked to be
    /// inside it (an error, not a panic, if not).
    pub fn slice(&self, (start, end): (u64, u64), what: &str) -> Result<&'a [u8]> {
        usize::try_from(start)
            .ok()
            .zip(usize::try_from(end).ok())
            .and_then(|(a, z)| self.data.get(a..z))
            .ok_or_else(|| Error::new(what, start, format!("{} bytes of pages inside the file", end.saturating_sub(start))))
    }

    /// Bytes `start..end` into `buf`: read from the file when there is one, because data touched
    /// once is cheaper to read than to fault into the mapping page by page (about half the
    /// system time on large traces). A buffer used again is read over, not cleared first: only
    /// its growth is zeroed (zeroing every chunk's buffer before reading into it cost as much
    /// as a second copy of the input).
    pub fn read(&self, range: (u64, u64), buf: &mut Vec<u8>, what: &str) -> Result<()> {
        let bytes = self.slice(range, what)?;
        match self.file {
            Some(f) => {
                buf.truncate(bytes.len());
                buf.resize(bytes.len(), 0);
                f.read_exact_at(buf, range.0).map_err(|e| Error::new(what, range.0, format!("{} readable bytes ({e})", bytes.len())))
            }
            None => {
                buf.clear();
                buf.extend_from_slice(bytes);
                Ok(())
            }
        }
    }
}

/// A whole file to write.
pub struct Layout<'t> {
    pub endian: Endian,
    /// The recording user space's long size (the initial header's).
    pub long_size: u8,
    /// The header's page size: every buffer's in v6.
    pub page_size: u32,
    /// The metadata contents as written in a v6 file or a v7 section, by pointer option id:
    /// HEADER_INFO, FTRACE_EVENTS, EVENT_FORMATS, KALLSYMS, PRINTK, CMDLINES, in this order.
    pub meta: Vec<(u16, Vec<u8>)>,
    /// The CPU count the file declares (v7 CPUCOUNT, v6 header).
    pub cpus: u32,
    /// Options written as they are, in order (the writer adds the layout's own).
    pub carried: Vec<(u16, Cow<'t, [u8]>)>,
    /// Sections v7 copies whole, reached by a pointer option: (option id, description, content).
    pub extra: Vec<(u16, &'static str, Vec<u8>)>,
    /// Option ids that could not be kept.
    pub dropped: Vec<u16>,
    /// The clock trace-cmd's reader settles on for the file (TRACECLOCK's bracketed word, else
    /// the top buffer's clock).
    pub clock: Option<String>,
    /// A v6 input's flyrecord clock trailer, as written.
    pub trailer: Option<&'t [u8]>,
    /// TRACECLOCK was set by the caller: the top buffer's clock follows it.
    pub clock_set: bool,
    /// The top buffer first, then the instances.
    pub buffers: Vec<OutBuffer<'t>>,
}

/// One buffer of the file to write.
pub struct OutBuffer<'t> {
    /// "" for the top buffer.
    pub name: String,
    pub clock: Option<String>,
    pub page_size: u32,
    pub data: OutData<'t>,
}

pub enum OutData<'t> {
    /// Ring-buffer pages, per CPU in CPU order.
    Pages(Vec<OutCpu<'t>>),
    /// A latency tracer's text, copied from buffer `index` of `trace`.
    Latency { trace: &'t Trace, input: Input<'t>, index: usize },
}

/// The pages of one CPU.
pub struct OutCpu<'t> {
    pub cpu: u32,
    pub pages: PageSource<'t>,
}

/// Makes the next page of a CPU (of the buffer's page size), or None after the last.
pub type MakePage<'t> = Box<dyn FnMut() -> Result<Option<Vec<u8>>> + 't>;

pub enum PageSource<'t> {
    /// A CPU stream of an input buffer, copied page for page (runs of uncompressed pages at
    /// once).
    Copy { trace: &'t Trace, input: Input<'t>, buffer: &'t Buffer, data: &'t CpuData },
    /// Pages made as the file is written, with an estimate of their bytes for progress.
    Made { next: MakePage<'t>, estimate: u64 },
}
