//! The pages of one CPU of one buffer, in order: straight out of the mapped file when
//! uncompressed, or one inflated chunk at a time when compressed.
//!
//! A compressed CPU stream is a chunk stream ([`ChunkStream`]) of chunks of up to 10 pages,
//! bounded by the file's end. Memory stays flat: one chunk is alive per stream.
//!
//! A stream holds positions, not references: every call is given the file's bytes. That lets
//! a per-CPU cursor live between N-API calls next to the mapped file it reads.
//!
//! Damage leaves the stream positioned after it: a chunk that does not inflate is stepped
//! over (its header still says where the next one starts), and a chunk header or a page that
//! runs off the data ends the stream. A caller that salvages calls [`CpuStream::advance`]
//! again after an error and reads on; the error's [`Damage::skipped`] says what was lost.

use crate::format::bytes::Endian;
use crate::format::chunks::ChunkStream;
use crate::format::compression::Codec;
use crate::format::error::{Error, Result};
use crate::format::file::CpuData;

/// The most pages a compressed chunk may hold: trace-cmd writes 10.
pub const MAX_CHUNK_PAGES: u64 = 1024;

enum Pages {
    /// Pages up to `end` of the file; the next one at `pos`.
    Plain { end: u64, pos: u64 },
    /// Chunks still to read, the current one inflated (from `chunk_offset`), the next page at
    /// `pos` in it.
    Chunked { chunks: ChunkStream, chunk: Vec<u8>, chunk_offset: u64, pos: usize },
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

/// What an error of [`CpuStream::advance`] made the stream step over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skipped {
    /// One compressed chunk (its pages are lost; the next chunk is read).
    Chunk,
    /// Everything from the damage to the end of this CPU's data.
    Rest,
    /// The whole CPU (its data cannot even be located).
    Cpu,
}

impl Skipped {
    pub fn name(self) -> &'static str {
        match self {
            Skipped::Chunk => "chunk",
            Skipped::Rest => "rest of the CPU data",
            Skipped::Cpu => "CPU data",
        }
    }
}

/// A stream error, and what the stream stepped over to be able to go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    pub error: Error,
    pub skipped: Skipped,
    /// The file bytes stepped over: from `at`, `bytes` of them (a whole chunk with its header;
    /// to the end of the CPU's data, or of the file for compressed data, which the file's end
    /// bounds).
    pub at: u64,
    pub bytes: u64,
}

/// "CPU 3 data" or "buffer \"name\" CPU 3 data", for errors.
pub fn describe(cpu: u32, buffer: &str) -> String {
    if buffer.is_empty() {
        format!("CPU {cpu} data")
    } else {
        format!("buffer \"{buffer}\" CPU {cpu} data")
    }
}

pub struct CpuStream {
    pub cpu: u32,
    /// "CPU 3 data" or "buffer \"name\" CPU 3 data", for errors.
    pub what: String,
    page_size: usize,
    pages: Pages,
    /// The page returned last.
    current: Option<PageAt>,
}

impl CpuStream {
    pub fn new(file: &[u8], endian: Endian, codec: Option<Codec>, d: &CpuData, page_size: u32, buffer: &str) -> Result<CpuStream> {
        let what = describe(d.cpu, buffer);
        if page_size < 64 || !page_size.is_power_of_two() {
            return Err(Error::new(what, d.offset, format!("a page size that is a power of two >= 64, found {page_size}")));
        }
        let len = file.len() as u64;
        let pages = if d.size == 0 {
            Pages::Plain { end: 0, pos: 0 }
        } else if d.offset >= len {
            return Err(Error::new(what, d.offset, format!("CPU data inside the file ({len} bytes)")));
        } else if let Some(codec) = codec {
            let chunks = ChunkStream::open(file, d.offset, None, codec, endian, &what)?;
            Pages::Chunked { chunks, chunk: Vec::new(), chunk_offset: d.offset, pos: 0 }
        } else {
            let end = d.offset.checked_add(d.size).filter(|&e| e <= len).ok_or_else(|| {
                Error::new(what.clone(), d.offset, format!("{} bytes of CPU data, the file has {} after this offset", d.size, len - d.offset))
            })?;
            Pages::Plain { end, pos: d.offset }
        };
        Ok(CpuStream { cpu: d.cpu, what, page_size: page_size as usize, pages, current: None })
    }

    /// A stream with no pages, standing for a CPU whose data could not be located.
    pub fn empty(cpu: u32, buffer: &str) -> CpuStream {
        let pages = Pages::Plain { end: 0, pos: 0 };
        CpuStream { cpu, what: describe(cpu, buffer), page_size: 4096, pages, current: None }
    }

    /// Steps to the next page; false at the end of the stream. After an error the stream is
    /// past the damage (see the module doc).
    pub fn advance(&mut self, file: &[u8]) -> std::result::Result<bool, Damage> {
        let ps = self.page_size as u64;
        self.current = None;
        let damage = |what: &str, offset, expected: String, skipped, bytes| Damage { error: Error::new(what, offset, expected), skipped, at: offset, bytes };
        let at = match &mut self.pages {
            Pages::Plain { end, pos } => {
                if *pos >= *end {
                    return Ok(false);
                }
                if *end - *pos < ps {
                    let at = std::mem::replace(pos, *end);
                    let left = *end - at;
                    return Err(damage(&self.what, at, format!("a whole page of {ps} bytes, the CPU data ends {left} bytes into it"), Skipped::Rest, left));
                }
                let at = PageAt { offset: *pos, in_chunk: None };
                *pos += ps;
                at
            }
            Pages::Chunked { chunks, chunk, chunk_offset, pos } => {
                if *pos >= chunk.len() {
                    // A header that is not whole inside the file ends the stream.
                    let (at, bytes) = chunks.rest();
                    let header = chunks.header(file, &self.what).map_err(|error| Damage { error, skipped: Skipped::Rest, at, bytes })?;
                    let Some(block) = header else { return Ok(false) };
                    // From here the next chunk is known: a bad one is stepped over.
                    chunk.clear();
                    *pos = 0;
                    let bytes = 8 + u64::from(block.compressed);
                    let pages = block.uncompressed as u64 / ps;
                    if !u64::from(block.uncompressed).is_multiple_of(ps) || !(1..=MAX_CHUNK_PAGES).contains(&pages) {
                        let found = format!("a chunk of 1 to {MAX_CHUNK_PAGES} whole {ps}-byte pages, found one of {} bytes", block.uncompressed);
                        return Err(damage(&self.what, block.offset, found, Skipped::Chunk, bytes));
                    }
                    *chunk = chunks.inflate(file, &block, &self.what).map_err(|error| Damage { error, skipped: Skipped::Chunk, at: block.offset, bytes })?;
                    *chunk_offset = block.offset;
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

    pub fn page_size(&self) -> usize {
        self.page_size
    }

    pub fn current(&self) -> Option<PageAt> {
        self.current
    }

    /// The uncompressed bytes of the pages still to come (all of them before the first
    /// `advance`), from the chunk headers when compressed (`pace`: see
    /// [`ChunkStream::raw_left`]); an error is the first damaged header, which reading the
    /// stream would meet too.
    pub fn raw_left(&self, file: &[u8], pace: &mut dyn FnMut()) -> Result<u64> {
        match &self.pages {
            Pages::Plain { end, pos } => Ok(end.saturating_sub(*pos)),
            Pages::Chunked { chunks, chunk, pos, .. } => Ok(chunks.raw_left(file, &self.what, pace)? + chunk.len().saturating_sub(*pos) as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::compression::compress;

    fn chunk(codec: Codec, fill: u8) -> Vec<u8> {
        let page = vec![fill; 4096];
        let z = compress(codec, &page, 3).unwrap();
        let mut c = (z.len() as u32).to_le_bytes().to_vec();
        c.extend_from_slice(&4096u32.to_le_bytes());
        c.extend_from_slice(&z);
        c
    }

    #[test]
    fn damage_leaves_the_stream_past_it() {
        // Three chunks, the middle one corrupt: it is stepped over and the third is read.
        let mut file = 3u32.to_le_bytes().to_vec();
        file.extend(chunk(Codec::Zstd, 1));
        let bad = file.len() as u64;
        let mut c = chunk(Codec::Zstd, 2);
        c[12] ^= 0xff;
        let bad_len = c.len() as u64;
        file.extend(c);
        file.extend(chunk(Codec::Zstd, 3));
        let d = CpuData { cpu: 0, offset: 0, size: file.len() as u64 };
        let mut s = CpuStream::new(&file, Endian::Little, Some(Codec::Zstd), &d, 4096, "").unwrap();
        assert_eq!(s.advance(&file), Ok(true));
        assert_eq!(s.page(&file)[0], 1);
        let e = s.advance(&file).unwrap_err();
        assert_eq!((e.skipped, e.error.offset, e.at, e.bytes), (Skipped::Chunk, bad, bad, bad_len));
        assert!(s.page(&file).is_empty());
        assert_eq!(s.advance(&file), Ok(true));
        assert_eq!(s.page(&file)[0], 3);
        assert_eq!(s.advance(&file), Ok(false));

        // A chunk declaring more pages than any writer puts in one is stepped over unread.
        let mut big = 2u32.to_le_bytes().to_vec();
        big.extend_from_slice(&10u32.to_le_bytes());
        big.extend_from_slice(&(4096 * 2000u32).to_le_bytes());
        big.extend_from_slice(&[0; 10]);
        big.extend(chunk(Codec::Zstd, 4));
        let d = CpuData { cpu: 2, offset: 0, size: big.len() as u64 };
        let mut s = CpuStream::new(&big, Endian::Little, Some(Codec::Zstd), &d, 4096, "x").unwrap();
        let e = s.advance(&big).unwrap_err();
        assert_eq!(e.error.to_string(), "buffer \"x\" CPU 2 data, offset 4: a chunk of 1 to 1024 whole 4096-byte pages, found one of 8192000 bytes");
        assert_eq!((e.at, e.bytes), (4, 18));
        assert_eq!(s.advance(&big), Ok(true));
        assert_eq!(s.page(&big)[0], 4);

        // A chunk header running off the file ends the stream.
        let mut short = 2u32.to_le_bytes().to_vec();
        short.extend(chunk(Codec::Zlib, 1));
        short.extend_from_slice(&[9, 9, 9]);
        let d = CpuData { cpu: 0, offset: 0, size: short.len() as u64 };
        let mut s = CpuStream::new(&short, Endian::Little, Some(Codec::Zlib), &d, 4096, "").unwrap();
        assert_eq!(s.advance(&short), Ok(true));
        let e = s.advance(&short).unwrap_err();
        assert_eq!((e.skipped, e.at, e.bytes), (Skipped::Rest, short.len() as u64 - 3, 3));
        assert_eq!(s.advance(&short), Ok(false));

        // Plain pages: a partial last page is the rest of the data.
        let plain = vec![0u8; 4096 + 100];
        let d = CpuData { cpu: 1, offset: 0, size: plain.len() as u64 };
        let mut s = CpuStream::new(&plain, Endian::Little, None, &d, 4096, "").unwrap();
        assert_eq!(s.advance(&plain), Ok(true));
        let e = s.advance(&plain).unwrap_err();
        assert_eq!(e.error.to_string(), "CPU 1 data, offset 4096: a whole page of 4096 bytes, the CPU data ends 100 bytes into it");
        assert_eq!((e.at, e.bytes), (4096, 100));
        assert_eq!(s.advance(&plain), Ok(false));
    }
}
