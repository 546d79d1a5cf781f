//! tracedat's native core: a zero-copy trace.dat reader and the hot loops behind a narrow N-API
//! surface. One folder per layer, one file per concept:
//!
//! - [`format`]: the file itself: checked endian-explicit bytes, errors, the initial header,
//!   v7 sections, options, tables keyed by event id, zlib/zstd and their framing, event formats,
//!   symbol tables, and [`format::file::Trace`], the map of a whole file.
//! - [`ring`]: ring-buffer data: a page's state machine, a CPU's pages, a buffer's records in
//!   time order, and the deep checks of `dump -v`.
//! - [`tep`]: what libtraceevent does per record: print fmts, plugins, kallsyms/printk/comm
//!   lookups, glibc's printf, and `-F` event filters with glibc's regexes.
//! - [`time`]: clocks: trace-cmd's time arithmetic.
//! - [`merge`]: several timelines into one.
//! - [`out`]: text and JSON for people and scripts: `dump`, `report`, metadata.
//! - [`write`]: trace.dat files out: the writer, its output file, parallel compression, progress.
//! - [`ffi`]: N-API by hand, the exported functions, mapped files.

mod explain;
mod ffi;
mod format;
mod merge;
mod out;
mod ring;
mod tep;
mod time;
mod write;
