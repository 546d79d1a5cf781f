//! The pages of one CPU of one buffer, in order: straight out of the mapped file when
//! uncompressed, or one inflated chunk at a time when compressed.
//!
//! A compressed CPU stream is `u32 chunk count`, then that many `{u32 compressed size, u32
//! uncompressed size, bytes}` chunks of up to 10 pages. Its declared size is 4 bytes short in
//! files written before trace-cmd 3.2 (the count was not counted), so the chunks are walked
//! and only the file's end bounds them. Memory stays flat: one chunk is alive per stream.
//!
//! A stream holds positions, not references: every call is given the file's bytes. That lets
//! a per-CPU cursor live between N-API calls next to the mapped file it reads.

use crate::bytes::{Cursor, Endian};
use crate::compression::{Block, Codec};
use crate::error::{Error, Result};
use crate::file::CpuData;

enum Pages {
    /// Pages at `start..end` of the file; the next one at `pos`.
    Plain { start: u64, end: u64, pos: u64 },
    /// Chunks: the next chunk header at `next`, `left` chunks to go, the current one inflated.
    Chunked { codec: Codec, next: u64, left: u32, chunk: Vec<u8>, chunk_offset: u64, pos: usize },
}

/// Where a page came from: its file offset, or for compressed data its chunk's file offset
/// and its offset inside the inflated chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageAt {
    pub offset: u64,
    pub in_chunk: Option<usize>,
}

impl std::fmt::Display for PageAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.in_chunk {
            None => write!(f, "page @ {}", self.offset),
            Some(i) => write!(f, "page {} of the chunk @ {}", i, self.offset),
        }
    }
}

pub struct CpuStream {
    pub cpu: u32,
    /// "CPU 3 data" or "buffer \"name\" CPU 3 data", for errors.
    pub what: String,
    endian: Endian,
    page_size: usize,
    pages: Pages,
    /// The page returned last.
    current: Option<PageAt>,
}

impl CpuStream {
    pub fn new(file: &[u8], endian: Endian, codec: Option<Codec>, d: &CpuData, page_size: u32, buffer: &str) -> Result<CpuStream> {
        let what = if buffer.is_empty() { format!("CPU {} data", d.cpu) } else { format!("buffer \"{buffer}\" CPU {} data", d.cpu) };
        if page_size < 64 || !page_size.is_power_of_two() {
            return Err(Error::new(what, d.offset, format!("a page size that is a power of two >= 64, found {page_size}")));
        }
        let len = file.len() as u64;
        let pages = if d.size == 0 {
            Pages::Plain { start: 0, end: 0, pos: 0 }
        } else if d.offset >= len {
            return Err(Error::new(what, d.offset, format!("CPU data inside the file ({len} bytes)")));
        } else if let Some(codec) = codec {
            let mut c = Cursor::new(file, 0, endian, &what);
            c.seek(d.offset as usize, "the chunk count")?;
            let left = c.u32("the chunk count")?;
            if (left as usize).saturating_mul(8) > c.remaining() {
                return Err(c.error(format!("{left} chunks of at least 8 bytes, only {} bytes left in the file", c.remaining())));
            }
            Pages::Chunked { codec, next: c.offset(), left, chunk: Vec::new(), chunk_offset: d.offset, pos: 0 }
        } else {
            let end = d.offset.checked_add(d.size).filter(|&e| e <= len).ok_or_else(|| {
                Error::new(what.clone(), d.offset, format!("{} bytes of CPU data, the file has {} after this offset", d.size, len - d.offset))
            })?;
            Pages::Plain { start: d.offset, end, pos: d.offset }
        };
        Ok(CpuStream { cpu: d.cpu, what, endian, page_size: page_size as usize, pages, current: None })
    }

    /// Steps to the next page; false at the end of the stream.
    pub fn advance(&mut self, file: &[u8]) -> Result<bool> {
        let ps = self.page_size as u64;
        let at = match &mut self.pages {
            Pages::Plain { start: _, end, pos } => {
                if *pos >= *end {
                    self.current = None;
                    return Ok(false);
                }
                if *end - *pos < ps {
                    return Err(Error::new(
                        self.what.clone(),
                        *pos,
                        format!("a whole page of {ps} bytes, the CPU data ends {} bytes into it", *end - *pos),
                    ));
                }
                let at = PageAt { offset: *pos, in_chunk: None };
                *pos += ps;
                at
            }
            Pages::Chunked { codec, next, left, chunk, chunk_offset, pos } => {
                if *pos >= chunk.len() {
                    if *left == 0 {
                        self.current = None;
                        return Ok(false);
                    }
                    let mut c = Cursor::new(file, 0, self.endian, &self.what);
                    c.seek(usize::try_from(*next).unwrap_or(usize::MAX).min(file.len()), "a chunk header")?;
                    let block = Block::read(&mut c)?;
                    if block.uncompressed == 0 || block.uncompressed as u64 % ps != 0 {
                        return Err(Error::new(
                            self.what.clone(),
                            block.offset,
                            format!("a chunk of whole {ps}-byte pages, found one of {} bytes", block.uncompressed),
                        ));
                    }
                    *chunk = block.inflate(file, *codec, &self.what)?;
                    *chunk_offset = block.offset;
                    *next = c.offset();
                    *left -= 1;
                    *pos = 0;
                }
                let at = PageAt { offset: *chunk_offset, in_chunk: Some(*pos) };
                *pos += self.page_size;
                at
            }
        };
        self.current = Some(at);
        Ok(true)
    }

    /// The bytes of the current page (empty before the first `advance` and after the end).
    pub fn page<'a>(&'a self, file: &'a [u8]) -> &'a [u8] {
        let ps = self.page_size;
        match (&self.pages, self.current) {
            (Pages::Plain { .. }, Some(at)) => file.get(at.offset as usize..at.offset as usize + ps).unwrap_or(&[]),
            (Pages::Chunked { chunk, .. }, Some(PageAt { in_chunk: Some(i), .. })) => chunk.get(i..i + ps).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The current page and everything after it in the same contiguous bytes: the rest of
    /// the CPU data when uncompressed, the rest of the inflated chunk otherwise (what C code
    /// reading past a record's end would find there).
    pub fn tail<'a>(&'a self, file: &'a [u8]) -> &'a [u8] {
        match (&self.pages, self.current) {
            (Pages::Plain { end, .. }, Some(at)) => file.get(at.offset as usize..*end as usize).unwrap_or(&[]),
            (Pages::Chunked { chunk, .. }, Some(PageAt { in_chunk: Some(i), .. })) => chunk.get(i..).unwrap_or(&[]),
            _ => &[],
        }
    }

    pub fn current(&self) -> Option<PageAt> {
        self.current
    }
}
