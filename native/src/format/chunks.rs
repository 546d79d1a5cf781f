//! The chunk stream: trace-cmd's framing of compressed ring-buffer data and latency text.
//!
//! A stream is `u32 chunk count`, then that many blocks (`u32 compressed size, u32
//! uncompressed size, bytes`, see [`Block`]). [`ChunkStream`] is the one walker of it: the
//! reader's CPU streams ([`crate::ring::stream`]), the checks of `dump -v`
//! ([`crate::ring::validate`]), latency text ([`crate::format::file::LatencyPieces`]) and the
//! writer's progress total all read the count, the block headers and their bounds here.
//!
//! The size a file declares for a CPU stream is 4 bytes short in files written before trace-cmd
//! 3.2 (the count was not counted), so a CPU stream is bounded by the file's end, not by its
//! declared size, and [`ChunkStream::check_size`] accepts either size. A latency text is a
//! section, whose size is right in every version: it bounds the stream.
//!
//! Like [`crate::ring::stream::CpuStream`], a walker holds positions, not references: each call
//! is given the file's bytes, so that it can live between N-API calls next to the mapped file.

use crate::format::bytes::{Cursor, Endian};
use crate::format::compression::{Block, Budget, Codec, MAX_RATIO};
use crate::format::error::{Error, Result};

/// How much of the file [`ChunkStream::raw_left`] walks between two calls of its `pace`.
pub const PACE_BYTES: u64 = 4 << 20;

/// The blocks of one chunk stream, read in order.
#[derive(Clone, Debug)]
pub struct ChunkStream {
    codec: Codec,
    endian: Endian,
    /// File offset of the chunk count.
    start: u64,
    /// File offset the blocks must end by: the file's end, or the end of a section.
    end: u64,
    count: u32,
    /// File offset of the next block header, and how many blocks are still to be read.
    next: u64,
    left: u32,
    /// One budget for all the chunks of the stream (see [`Budget`]).
    budget: Budget,
}

impl ChunkStream {
    /// Reads the chunk count at `start` in `file`. The stream ends at `section_end` when it is
    /// a section of its own (latency text), else at the file's end (CPU data, see the module
    /// doc). A count of more blocks than the bytes left can hold (each takes at least its
    /// 8-byte header) is refused at once.
    pub fn open(file: &[u8], start: u64, section_end: Option<u64>, codec: Codec, endian: Endian, what: &str) -> Result<ChunkStream> {
        let end = section_end.map_or(file.len() as u64, |e| e.min(file.len() as u64));
        let mut s = ChunkStream { codec, endian, start, end, count: 0, next: start, left: 0, budget: Budget::new(MAX_RATIO) };
        let mut c = s.cursor(file, what, "the chunk count")?;
        let count = c.u32("the chunk count")?;
        let within = if section_end.is_some() { "" } else { " in the file" };
        c.count(count, 8, |left| format!("{count} chunks of at least 8 bytes, only {left} bytes left{within}"))?;
        (s.count, s.next, s.left) = (count, c.offset(), count);
        Ok(s)
    }

    /// A cursor at the next header, over the stream's bytes (offsets are the file's).
    fn cursor<'a>(&self, file: &'a [u8], what: &'a str, expected: &str) -> Result<Cursor<'a>> {
        let bytes = file.get(..self.end as usize).unwrap_or(file);
        let mut c = Cursor::new(bytes, 0, self.endian, what);
        c.seek(usize::try_from(self.next).unwrap_or(usize::MAX), expected)?;
        Ok(c)
    }

    /// The next block's header, None after the last. A header that is not whole inside the
    /// stream, or whose data runs past its end, is an error that also ends the stream: nothing
    /// after it can be located.
    pub fn header(&mut self, file: &[u8], what: &str) -> Result<Option<Block>> {
        if self.left == 0 {
            return Ok(None);
        }
        let block = self.cursor(file, what, "a chunk header").and_then(|mut c| Ok((Block::read(&mut c)?, c.offset())));
        match block {
            Ok((block, next)) => {
                (self.next, self.left) = (next, self.left - 1);
                Ok(Some(block))
            }
            Err(e) => {
                self.left = 0;
                Err(e)
            }
        }
    }

    /// Where the next block header is, and the bytes from there to the stream's end: what is
    /// lost when that header is damaged.
    pub fn rest(&self) -> (u64, u64) {
        (self.next, self.end.saturating_sub(self.next))
    }

    /// Inflates a block of this stream (from [`ChunkStream::header`]) within the stream's
    /// budget. A block that does not inflate leaves the stream at the next one.
    pub fn inflate(&mut self, file: &[u8], block: &Block, what: &str) -> Result<Vec<u8>> {
        block.inflate(file, self.codec, &mut self.budget, what)
    }

    /// The next block inflated, None after the last.
    pub fn next_chunk(&mut self, file: &[u8], what: &str) -> Result<Option<Vec<u8>>> {
        let Some(block) = self.header(file, what)? else { return Ok(None) };
        self.inflate(file, &block, what).map(Some)
    }

    /// What the blocks still to be read inflate to, by their headers (nothing is inflated):
    /// the first damaged header is the error reading them would meet. The walk touches a
    /// page of nearly every chunk: `pace` is called every [`PACE_BYTES`] of file it steps
    /// over, for its caller to let go of the mapped pages read (see `ffi::source`).
    pub fn raw_left(&self, file: &[u8], what: &str, pace: &mut dyn FnMut()) -> Result<u64> {
        let mut walk = self.clone();
        let mut total = 0u64;
        let mut paced = walk.next;
        while let Some(block) = walk.header(file, what)? {
            total += u64::from(block.uncompressed);
            if walk.next.saturating_sub(paced) >= PACE_BYTES {
                paced = walk.next;
                pace();
            }
        }
        Ok(total)
    }

    /// After the last header: whether the stream fits the size the file declares for it, with
    /// or without the chunk count (writers before trace-cmd 3.2 left it out).
    pub fn check_size(&self, declared: u64, what: &str) -> Result<()> {
        let used = self.next - self.start;
        if used > declared.saturating_add(4) {
            let found = format!("chunks within the {declared} bytes the BUFFER option declares, found {} chunks taking {used}", self.count);
            return Err(Error::new(what, self.start, found));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::compression::compress;

    /// A stream of `pages.len()` one-page zstd chunks, after `pad` bytes of something else.
    fn stream(pad: usize, pages: &[u8]) -> Vec<u8> {
        let mut s = vec![0xaa; pad];
        s.extend_from_slice(&(pages.len() as u32).to_le_bytes());
        for &fill in pages {
            let z = compress(Codec::Zstd, &[fill; 4096], 3).unwrap();
            s.extend_from_slice(&(z.len() as u32).to_le_bytes());
            s.extend_from_slice(&4096u32.to_le_bytes());
            s.extend_from_slice(&z);
        }
        s
    }

    #[test]
    fn walks_sizes_and_inflates() {
        let f = stream(10, &[1, 2, 3]);
        let mut s = ChunkStream::open(&f, 10, None, Codec::Zstd, Endian::Little, "t").unwrap();
        assert_eq!(s.raw_left(&f, "t", &mut || {}), Ok(3 * 4096));
        assert_eq!(s.next_chunk(&f, "t").unwrap().unwrap()[0], 1);
        assert_eq!(s.raw_left(&f, "t", &mut || {}), Ok(2 * 4096), "what is left");
        let b = s.header(&f, "t").unwrap().unwrap();
        assert_eq!(s.inflate(&f, &b, "t").unwrap()[0], 2);
        assert!(s.next_chunk(&f, "t").unwrap().is_some());
        assert_eq!(s.next_chunk(&f, "t"), Ok(None));
        // Both declared sizes pass: with the count (3.2) and without it (before).
        let used = (f.len() - 10) as u64;
        assert_eq!(s.check_size(used, "t"), Ok(()));
        assert_eq!(s.check_size(used - 4, "t"), Ok(()));
        let e = s.check_size(used - 5, "t").unwrap_err();
        assert_eq!((e.offset, e.expected), (10, format!("chunks within the {} bytes the BUFFER option declares, found 3 chunks taking {used}", used - 5)));
    }

    #[test]
    fn a_long_walk_paces() {
        // 100 blocks of 64 KiB (headers only are read: their bytes need not inflate).
        let mut f = 100u32.to_le_bytes().to_vec();
        for _ in 0..100 {
            f.extend_from_slice(&65536u32.to_le_bytes());
            f.extend_from_slice(&4096u32.to_le_bytes());
            f.resize(f.len() + 65536, 0);
        }
        let s = ChunkStream::open(&f, 0, None, Codec::Zstd, Endian::Little, "t").unwrap();
        let mut paced = 0;
        assert_eq!(s.raw_left(&f, "t", &mut || paced += 1), Ok(100 * 4096));
        assert_eq!(paced, (f.len() as u64 / PACE_BYTES) as usize, "once every {PACE_BYTES} bytes walked");
    }

    #[test]
    fn bounds_and_damage() {
        let f = stream(0, &[1, 2]);
        // The count is bounded by the bytes left in the file, or in the section.
        let mut big = f.clone();
        big[..4].copy_from_slice(&1000u32.to_le_bytes());
        let e = ChunkStream::open(&big, 0, None, Codec::Zstd, Endian::Little, "t").unwrap_err();
        assert_eq!((e.offset, e.expected), (4, format!("1000 chunks of at least 8 bytes, only {} bytes left in the file", f.len() - 4)));
        let e = ChunkStream::open(&big, 0, Some(20), Codec::Zstd, Endian::Little, "t").unwrap_err();
        assert_eq!(e.expected, "1000 chunks of at least 8 bytes, only 16 bytes left");
        // A section too short for its blocks: the header whose data runs past it ends the stream.
        let mut s = ChunkStream::open(&f, 0, Some(f.len() as u64 - 1), Codec::Zstd, Endian::Little, "t").unwrap();
        assert!(s.header(&f, "t").unwrap().is_some());
        let e = s.raw_left(&f, "t", &mut || {}).unwrap_err();
        assert!(e.expected.starts_with("compressed block data ("), "{e}");
        assert_eq!(s.header(&f, "t"), Err(e));
        assert_eq!(s.header(&f, "t"), Ok(None));
    }
}
