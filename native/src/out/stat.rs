//! `trace-cmd report --stat`, `--uname` and `--version`: what the recorder saved about the
//! kernel buffers and the system, printed instead of the records (trace-cmd's
//! `tracecmd_print_stats`, `tracecmd_print_uname`, `tracecmd_print_version`).

use crate::format::chunks::ChunkStream;
use crate::format::error::Result;
use crate::format::file::{BufferKind, Trace, V6Tag};
use crate::format::options;

/// An option's text as trace-cmd keeps it (`strdup`: up to its first NUL).
fn c_text(p: &[u8]) -> &[u8] {
    p.split(|&b| b == 0).next().unwrap_or(p)
}

/// `--uname` (`id` UNAME) or `--version` (VERSION): the last such option's text, or trace-cmd's
/// line saying it was not recorded.
pub fn recorded(trace: &Trace, data: &[u8], id: u16) -> Vec<u8> {
    let what = if id == options::UNAME { "uname" } else { "version" };
    let last = trace.options.iter().rev().find(|o| o.id == id);
    let mut out = match last {
        Some(o) => c_text(trace.bytes(data, &o.payload)).to_vec(),
        None => format!(" {what} was not recorded in this file").into_bytes(),
    };
    out.push(b'\n');
    out
}

/// `--stat`: the CPUSTAT options (each one's last byte made a newline, as trace-cmd does),
/// then where each CPU's data of the top buffer is. For compressed data that is where trace-cmd
/// places it once inflated: one CPU after another from the file's page size, each rounded up to
/// a page, and its inflated size (the chunk headers walked for it call `pace`, see
/// [`ChunkStream::raw_left`]).
pub fn stat(trace: &Trace, data: &[u8], pace: &mut dyn FnMut()) -> Result<Vec<u8>> {
    let mut stats = Vec::new();
    for o in trace.options.iter().filter(|o| o.id == options::CPUSTAT) {
        let p = trace.bytes(data, &o.payload);
        if let Some((_, head)) = p.split_last() {
            stats.extend_from_slice(head);
            stats.push(b'\n');
        }
    }
    let mut out = if trace.options.iter().any(|o| o.id == options::CPUSTAT) { c_text(&stats).to_vec() } else { b" No stats in this file".to_vec() };
    out.push(b'\n');
    let Some(top) = trace.buffers.iter().find(|b| b.name.is_empty()) else { return Ok(out) };
    let BufferKind::Flyrecord { cpus } = &top.kind else { return Ok(out) };
    // v6: the flyrecord table as written, empty CPUs included (the buffer leaves them out).
    let table = trace.v6.as_ref().and_then(|v6| {
        v6.tags.iter().find_map(|t| match t {
            V6Tag::Flyrecord { table, .. } => Some(table.clone()),
            _ => None,
        })
    });
    // v7: by CPU id up to the highest listed, the CPUs the buffer does not list at 0, 0.
    let table = table.unwrap_or_else(|| {
        let n = cpus.iter().map(|c| c.cpu as usize + 1).max().unwrap_or(0).min(1 << 16);
        let mut t = vec![(0, 0); n];
        for c in cpus.iter().filter(|c| (c.cpu as usize) < n) {
            t[c.cpu as usize] = (c.offset, c.size);
        }
        t
    });
    let page = u64::from(trace.header.page_size.max(1));
    let compressed = trace.codec.filter(|_| top.section.as_ref().is_some_and(|s| s.compressed()));
    let mut next = page;
    for (i, &(file_offset, file_size)) in table.iter().enumerate() {
        let (offset, size) = match compressed {
            Some(codec) if file_size > 0 => {
                let what = format!("CPU {i} data");
                let size = ChunkStream::open(data, file_offset, None, codec, trace.endian, &what)?.raw_left(data, &what, pace)?;
                let at = next;
                next = next.saturating_add(size).saturating_add(page - 1) & !(page - 1);
                (at, size)
            }
            _ => (file_offset, file_size),
        };
        out.extend_from_slice(format!("CPU{i} data recorded at offset=0x{offset:x}\n    {size} bytes in size\n").as_bytes());
    }
    Ok(out)
}
