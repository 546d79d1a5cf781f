//! `dump -v`: the checks trace-cmd's validation leaves out.
//!
//! trace-cmd's `dump -v` reads only the metadata, so it declares valid a file whose
//! ring-buffer data is cut short or corrupt, which its own reader (`report`) then refuses.
//! Here every CPU's data must lie inside the file, and a compressed CPU stream must be whole:
//! a chunk count, then that many blocks, each inside the file, together no longer than the
//! size the BUFFER option gives. Inflating the chunks and checking their pages is `scan`'s part.

use crate::format::bytes::span;
use crate::format::chunks::ChunkStream;
use crate::format::error::{Error, Result};
use crate::format::file::{BufferKind, Trace};

/// The first damage found in the CPU data of any flyrecord buffer.
pub fn cpu_data(t: &Trace, data: &[u8]) -> Result<()> {
    for b in &t.buffers {
        let BufferKind::Flyrecord { cpus } = &b.kind else { continue };
        let codec = t.codec.filter(|_| b.section.is_some_and(|h| h.compressed()));
        for d in cpus.iter().filter(|d| d.size > 0) {
            let what = format!("buffer \"{}\" CPU {} data", b.name, d.cpu);
            if span(d.offset, d.size, data.len()).is_none() {
                return Err(Error::new(what, d.offset, format!("{} bytes of CPU data from offset {}, but the file ends at {}", d.size, d.offset, data.len())));
            }
            let Some(codec) = codec else { continue };
            // Block headers only: `scan` inflates every chunk and checks every page after this.
            let mut chunks = ChunkStream::open(data, d.offset, None, codec, t.endian, &what)?;
            while chunks.header(data, &what)?.is_some() {}
            chunks.check_size(d.size, &what)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::compression::{compress, Codec};
    use crate::format::options;

    /// A zstd v7 file with one options section (a BUFFER option for one CPU, then DONE) and
    /// the buffer section holding `stream` as CPU 0's data, declared `declared` bytes long.
    fn v7_zstd(stream: &[u8], declared: u64) -> (Vec<u8>, usize) {
        let mut f = vec![0x17, 0x08, 0x44];
        f.extend_from_slice(b"tracing7\0\0\x08");
        f.extend_from_slice(&4096u32.to_le_bytes());
        f.extend_from_slice(b"zstd\x001.5.4\0");
        let options_at = f.len() + 8;
        f.extend_from_slice(&(options_at as u64).to_le_bytes());
        let buffer_at = options_at + 16 + 45 + 14;
        let data_at = buffer_at + 16;
        let mut opts = options::BUFFER.to_le_bytes().to_vec();
        opts.extend_from_slice(&39u32.to_le_bytes());
        opts.extend_from_slice(&(buffer_at as u64).to_le_bytes());
        opts.extend_from_slice(b"\0c\0");
        opts.extend_from_slice(&4096u32.to_le_bytes());
        opts.extend_from_slice(&1u32.to_le_bytes());
        opts.extend_from_slice(&0u32.to_le_bytes());
        opts.extend_from_slice(&(data_at as u64).to_le_bytes());
        opts.extend_from_slice(&declared.to_le_bytes());
        opts.extend_from_slice(&options::DONE.to_le_bytes());
        opts.extend_from_slice(&8u32.to_le_bytes());
        opts.extend_from_slice(&0u64.to_le_bytes());
        for (id, flags, content) in [(options::DONE, 0u16, &opts[..]), (options::BUFFER, 1, stream)] {
            f.extend_from_slice(&id.to_le_bytes());
            f.extend_from_slice(&flags.to_le_bytes());
            f.extend_from_slice(&(-1i32).to_le_bytes());
            f.extend_from_slice(&(content.len() as u64).to_le_bytes());
            f.extend_from_slice(content);
        }
        assert_eq!(f.len(), data_at + stream.len());
        (f, data_at)
    }

    fn one_chunk() -> Vec<u8> {
        let page: Vec<u8> = (0..4096u32).map(|i| (i % 7) as u8).collect();
        let z = compress(Codec::Zstd, &page, 3).unwrap();
        let mut s = 1u32.to_le_bytes().to_vec();
        s.extend_from_slice(&(z.len() as u32).to_le_bytes());
        s.extend_from_slice(&4096u32.to_le_bytes());
        s.extend_from_slice(&z);
        s
    }

    fn check(f: &[u8]) -> Result<()> {
        cpu_data(&Trace::parse(f).unwrap(), f)
    }

    #[test]
    fn whole_chunk_streams_pass_with_either_declared_size() {
        let s = one_chunk();
        check(&v7_zstd(&s, s.len() as u64).0).unwrap();
        // trace-cmd before 3.2 declares 4 bytes less (the chunk count left out).
        check(&v7_zstd(&s, s.len() as u64 - 4).0).unwrap();
    }

    #[test]
    fn damaged_chunk_streams_are_named() {
        let good = one_chunk();
        let mut s = good.clone();
        s[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let (f, at) = v7_zstd(&s, s.len() as u64);
        let e = check(&f).unwrap_err();
        assert_eq!((e.section.as_str(), e.offset), ("buffer \"\" CPU 0 data", at as u64 + 12));
        assert_eq!(e.expected, format!("compressed block data (4294967295 bytes, {} left)", good.len() - 12));

        let mut s = good.clone();
        s[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = check(&v7_zstd(&s, s.len() as u64).0).unwrap_err();
        assert_eq!(e.expected, format!("4294967295 chunks of at least 8 bytes, only {} bytes left in the file", good.len() - 4));

        // A chunk that inflates to another size than it declares is found by `scan`, which
        // inflates every chunk; this walk reads block headers only.

        let (f, at) = v7_zstd(&good, 1000);
        let e = check(&f).unwrap_err();
        assert_eq!(e.offset, at as u64);
        assert_eq!(e.expected, format!("1000 bytes of CPU data from offset {at}, but the file ends at {}", f.len()));

        let e = check(&v7_zstd(&good, 8).0).unwrap_err();
        assert_eq!(e.expected, format!("chunks within the 8 bytes the BUFFER option declares, found 1 chunks taking {}", good.len()));
    }
}
