//! zlib and zstd, called through hand-declared FFI, and trace-cmd's two framings of them.
//!
//! zlib is linked with `-lz` (inside node the calls bind to node's own zlib, ABI-compatible);
//! zstd is linked by its runtime name `libzstd.so.1`, so no `-dev` package is needed. Both are
//! used one-shot: trace-cmd's blocks always declare their uncompressed size, which bounds the
//! allocation before anything is inflated. A declared size is believed only as far as the
//! compressed bytes can justify it: at most [`MAX_RATIO`] times their size (or [`SMALL_BLOCK`],
//! for small blocks of empty pages), and for zstd exactly the size its frame header records.
//! trace-cmd's blocks inflate 4 to 20 times (empty pages more, but a chunk is 40 KiB), so a
//! "bomb" that declares more is refused before allocating, and one that inflates past its
//! declared size is an error, not a bigger buffer.
//!
//! Framing (trace-cmd trace-compress.c): a *block* is `u32 compressed size, u32 uncompressed
//! size, bytes`; a metadata section holds one block, and a CPU stream or a latency text is a
//! chunk stream, `u32 chunk count` then that many blocks (read by [`crate::format::chunks`]).

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_uint, c_ulong, c_void, CStr};

use crate::format::bytes::Cursor;
use crate::format::error::Result;

/// Largest uncompressed size we accept for one block. trace-cmd's chunks are 10 pages
/// (40 KiB at 4 KiB pages); metadata blocks hold kallsyms or event formats, tens of MiB at most.
pub const MAX_BLOCK: u64 = 1 << 30;

/// The largest ratio believed (deflate's own limit is 1032:1, zstd's some 32000:1).
pub const MAX_RATIO: u64 = 1024;
/// Any block may declare this much, whatever its compressed size.
pub const SMALL_BLOCK: u64 = 1 << 20;
/// The ratio believed for a file's metadata as a whole: text, 4 to 20 times in every file seen.
pub const META_RATIO: u64 = 64;

/// Inflation allowed to a run of blocks (a file's metadata, a CPU stream, a latency text): at
/// most `ratio` times the compressed bytes met so far, plus [`SMALL_BLOCK`]. Without it, many
/// tiny blocks that each declare the per-block floor would add up without end.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    ratio: u64,
    compressed: u64,
    inflated: u64,
}

impl Budget {
    pub fn new(ratio: u64) -> Budget {
        Budget { ratio, compressed: 0, inflated: 0 }
    }

    /// Counts `block` in, or says why it is refused (before anything is allocated).
    fn charge(&mut self, block: &Block) -> std::result::Result<(), String> {
        let compressed = self.compressed.saturating_add(block.compressed.into());
        let inflated = self.inflated.saturating_add(block.uncompressed.into());
        let most = compressed.saturating_mul(self.ratio).saturating_add(SMALL_BLOCK);
        if inflated > most {
            return Err(format!(
                "compressed data to inflate at most {} times ({compressed} bytes so far, to at most {most}), found a block declaring {} (damage or a decompression bomb)",
                self.ratio, block.uncompressed
            ));
        }
        (self.compressed, self.inflated) = (compressed, inflated);
        Ok(())
    }
}
/// `ZSTD_getFrameContentSize`: the size is not in the frame header / the header is invalid.
const ZSTD_CONTENTSIZE_UNKNOWN: u64 = u64::MAX;
const ZSTD_CONTENTSIZE_ERROR: u64 = u64::MAX - 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Zlib,
    Zstd,
}

impl Codec {
    pub fn from_name(name: &str) -> Option<Codec> {
        match name {
            "zlib" => Some(Codec::Zlib),
            "zstd" => Some(Codec::Zstd),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Codec::Zlib => "zlib",
            Codec::Zstd => "zstd",
        }
    }
    /// The library version, as trace-cmd writes it after the codec name.
    pub fn version(self) -> String {
        // SAFETY: both functions return pointers to static NUL-terminated strings.
        let p = unsafe {
            match self {
                Codec::Zlib => zlibVersion(),
                Codec::Zstd => ZSTD_versionString(),
            }
        };
        // SAFETY: see above.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
    /// Compression level trace-cmd uses: zlib 9 (Z_BEST_COMPRESSION), zstd its default (3).
    pub fn default_level(self) -> i32 {
        match self {
            Codec::Zlib => 9,
            Codec::Zstd => 3,
        }
    }
}

#[link(name = "z")]
extern "C" {
    fn zlibVersion() -> *const c_char;
    fn compressBound(len: c_ulong) -> c_ulong;
    fn compress2(dst: *mut u8, dst_len: *mut c_ulong, src: *const u8, src_len: c_ulong, level: c_int) -> c_int;
    fn uncompress(dst: *mut u8, dst_len: *mut c_ulong, src: *const u8, src_len: c_ulong) -> c_int;
}

#[link(name = "libzstd.so.1", kind = "dylib", modifiers = "+verbatim")]
extern "C" {
    fn ZSTD_versionString() -> *const c_char;
    fn ZSTD_compressBound(len: usize) -> usize;
    fn ZSTD_isError(code: usize) -> c_uint;
    fn ZSTD_getErrorName(code: usize) -> *const c_char;
    fn ZSTD_createDCtx() -> *mut c_void;
    fn ZSTD_freeDCtx(ctx: *mut c_void) -> usize;
    fn ZSTD_getFrameContentSize(src: *const u8, len: usize) -> u64;
    fn ZSTD_decompressDCtx(ctx: *mut c_void, dst: *mut u8, cap: usize, src: *const u8, len: usize) -> usize;
    fn ZSTD_createCCtx() -> *mut c_void;
    fn ZSTD_freeCCtx(ctx: *mut c_void) -> usize;
    fn ZSTD_CCtx_setParameter(ctx: *mut c_void, param: c_int, value: c_int) -> usize;
    fn ZSTD_compress2(ctx: *mut c_void, dst: *mut u8, cap: usize, src: *const u8, len: usize) -> usize;
}

/// `ZSTD_c_compressionLevel` and `ZSTD_c_contentSizeFlag` (zstd.h, stable API).
const ZSTD_C_COMPRESSION_LEVEL: c_int = 100;
const ZSTD_C_CONTENT_SIZE_FLAG: c_int = 200;

/// A zstd context owned by one thread and freed with it.
struct Ctx {
    ptr: *mut c_void,
    free: unsafe extern "C" fn(*mut c_void) -> usize,
}
impl Drop for Ctx {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: ptr came from the matching create function and is freed once.
            unsafe { (self.free)(self.ptr) };
        }
    }
}

thread_local! {
    // SAFETY (of the calls): ZSTD_create*Ctx have no preconditions; a null result is checked.
    static DCTX: RefCell<Ctx> = RefCell::new(Ctx { ptr: unsafe { ZSTD_createDCtx() }, free: ZSTD_freeDCtx });
    static CCTX: RefCell<Ctx> = RefCell::new(Ctx { ptr: unsafe { ZSTD_createCCtx() }, free: ZSTD_freeCCtx });
}

fn zstd_error(code: usize) -> String {
    // SAFETY: ZSTD_getErrorName returns a static string for any code.
    unsafe { CStr::from_ptr(ZSTD_getErrorName(code)) }.to_string_lossy().into_owned()
}

/// Inflates `src` into exactly `size` bytes. Anything else (a short or long result, a corrupt
/// stream) is an error string for the caller to put in context.
pub fn decompress(codec: Codec, src: &[u8], size: usize) -> std::result::Result<Vec<u8>, String> {
    let most = (src.len() as u64).saturating_mul(MAX_RATIO).max(SMALL_BLOCK);
    if size as u64 > most {
        return Err(format!(
            "a {} block of {} bytes to inflate to at most {most} bytes ({MAX_RATIO} times), found one declaring {size} (damage or a decompression bomb)",
            codec.name(),
            src.len()
        ));
    }
    if codec == Codec::Zstd {
        // SAFETY: src is a valid slice; the function only reads the frame header inside it.
        let frame = unsafe { ZSTD_getFrameContentSize(src.as_ptr(), src.len()) };
        if frame == ZSTD_CONTENTSIZE_ERROR {
            return Err("zstd decompression failed (no valid zstd frame header)".to_string());
        }
        if frame != ZSTD_CONTENTSIZE_UNKNOWN && frame != size as u64 {
            return Err(format!("a zstd frame of {frame} bytes, the block declares {size}"));
        }
    }
    // Inflated into the buffer's capacity, not over zeros first: zeroing each chunk before the
    // library writes it cost as much as a copy of the data. The length is set only to what
    // the library reports it wrote, and only when that is the whole declared size.
    let mut out = Vec::with_capacity(size);
    match codec {
        Codec::Zlib => {
            let mut len = size as c_ulong;
            // SAFETY: out has `size` bytes of capacity, src is a valid slice; zlib writes at most len.
            let rc = unsafe { uncompress(out.as_mut_ptr(), &mut len, src.as_ptr(), src.len() as c_ulong) };
            if rc != 0 {
                return Err(format!("zlib inflate failed ({})", zlib_error(rc)));
            }
            if len as usize != size {
                return Err(format!("zlib block inflated to {len} bytes, {size} declared"));
            }
            // SAFETY: zlib wrote (initialised) the first len == size bytes, within the capacity.
            unsafe { out.set_len(size) };
        }
        Codec::Zstd => {
            let n = DCTX.with(|c| {
                let ctx = c.borrow();
                if ctx.ptr.is_null() {
                    return Err("cannot create a zstd context".to_string());
                }
                // SAFETY: ctx is this thread's live context; out has `size` bytes of capacity, src
                // is a valid slice.
                let n = unsafe { ZSTD_decompressDCtx(ctx.ptr, out.as_mut_ptr(), size, src.as_ptr(), src.len()) };
                // SAFETY: pure function of the code.
                if unsafe { ZSTD_isError(n) } != 0 {
                    Err(format!("zstd decompression failed ({})", zstd_error(n)))
                } else {
                    Ok(n)
                }
            })?;
            if n != size {
                return Err(format!("zstd block inflated to {n} bytes, {size} declared"));
            }
            // SAFETY: zstd wrote (initialised) the first n == size bytes, within the capacity.
            unsafe { out.set_len(size) };
        }
    }
    Ok(out)
}

fn zlib_error(rc: c_int) -> &'static str {
    match rc {
        -2 => "stream error",
        -3 => "data error",
        -4 => "out of memory",
        -5 => "output larger than declared",
        _ => "error",
    }
}

/// Compresses `src` at `level`. zstd frames carry no content size, as trace-cmd writes them
/// (its blocks declare the size themselves), so equal input gives trace-cmd's bytes. The
/// result is written into the capacity of a buffer of the library's bound, not over zeros
/// (untouched capacity costs neither zeroing nor page faults).
pub fn compress(codec: Codec, src: &[u8], level: i32) -> std::result::Result<Vec<u8>, String> {
    match codec {
        Codec::Zlib => {
            // SAFETY: pure function.
            let bound = unsafe { compressBound(src.len() as c_ulong) } as usize;
            let mut out = Vec::with_capacity(bound);
            let mut len = bound as c_ulong;
            // SAFETY: out has `bound` bytes of capacity, the most compress2 can produce.
            let rc = unsafe { compress2(out.as_mut_ptr(), &mut len, src.as_ptr(), src.len() as c_ulong, level) };
            if rc != 0 {
                return Err(format!("zlib deflate failed ({})", zlib_error(rc)));
            }
            // SAFETY: zlib wrote (initialised) the first len <= bound bytes.
            unsafe { out.set_len((len as usize).min(bound)) };
            Ok(out)
        }
        Codec::Zstd => zstd_compress(src, level, false),
    }
}

/// A zstd frame of `src`, with the content size in its header or (trace-cmd's way) without.
fn zstd_compress(src: &[u8], level: i32, content_size: bool) -> std::result::Result<Vec<u8>, String> {
    CCTX.with(|c| {
        let ctx = c.borrow();
        if ctx.ptr.is_null() {
            return Err("cannot create a zstd context".to_string());
        }
        // SAFETY: pure function.
        let bound = unsafe { ZSTD_compressBound(src.len()) };
        let mut out = Vec::with_capacity(bound);
        for (param, value) in [(ZSTD_C_COMPRESSION_LEVEL, level), (ZSTD_C_CONTENT_SIZE_FLAG, c_int::from(content_size))] {
            // SAFETY: ctx is this thread's live context; parameters persist until changed.
            let r = unsafe { ZSTD_CCtx_setParameter(ctx.ptr, param, value) };
            // SAFETY: pure function of the code.
            if unsafe { ZSTD_isError(r) } != 0 {
                return Err(format!("zstd parameter {param} = {value} refused ({})", zstd_error(r)));
            }
        }
        // SAFETY: out has `bound` bytes of capacity, the most zstd can produce; ctx is this
        // thread's.
        let n = unsafe { ZSTD_compress2(ctx.ptr, out.as_mut_ptr(), bound, src.as_ptr(), src.len()) };
        // SAFETY: pure function of the code.
        if unsafe { ZSTD_isError(n) } != 0 {
            return Err(format!("zstd compression failed ({})", zstd_error(n)));
        }
        // SAFETY: zstd wrote (initialised) the first n <= bound bytes.
        unsafe { out.set_len(n.min(bound)) };
        Ok(out)
    })
}

/// Header of one compressed block: where its bytes are and how large it inflates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// File offset of the block header (the `u32 compressed size`).
    pub offset: u64,
    pub compressed: u32,
    pub uncompressed: u32,
}

impl Block {
    /// Reads a block header and skips over its data.
    pub fn read(c: &mut Cursor<'_>) -> Result<Block> {
        let offset = c.offset();
        let compressed = c.u32("compressed block size")?;
        let uncompressed = c.u32("uncompressed block size")?;
        if u64::from(uncompressed) > MAX_BLOCK {
            return Err(c.error(format!("a block that inflates to at most {MAX_BLOCK} bytes, found one declaring {uncompressed}")));
        }
        c.skip(compressed as usize, "compressed block data")?;
        Ok(Block { offset, compressed, uncompressed })
    }

    /// Inflates the block found in `file` (the whole file's bytes), within `budget`.
    pub fn inflate(&self, file: &[u8], codec: Codec, budget: &mut Budget, what: &str) -> Result<Vec<u8>> {
        let start = self.offset as usize + 8;
        let data = file.get(start..start + self.compressed as usize).unwrap_or(&[]);
        budget
            .charge(self)
            .and_then(|_| decompress(codec, data, self.uncompressed as usize))
            .map_err(|e| crate::format::error::Error::new(what, self.offset, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_both_codecs() {
        let src: Vec<u8> = (0..100_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        for codec in [Codec::Zlib, Codec::Zstd] {
            let z = compress(codec, &src, codec.default_level()).unwrap();
            assert!(z.len() < src.len() / 2);
            assert_eq!(decompress(codec, &z, src.len()).unwrap(), src);
            assert!(decompress(codec, &z, src.len() - 1).is_err(), "short declared size must fail");
            assert!(decompress(codec, &z, src.len() + 1).is_err(), "long declared size must fail");
            assert!(decompress(codec, &z[..z.len() / 2], src.len()).is_err());
        }
    }

    #[test]
    fn bombs_are_refused_before_allocating() {
        let zeros = vec![0u8; 1 << 20];
        for codec in [Codec::Zlib, Codec::Zstd] {
            let z = compress(codec, &zeros, codec.default_level()).unwrap();
            // Declaring a gigabyte for a few compressed bytes is refused up front, and so is an
            // honest stream of zeros that inflates more than MAX_RATIO times.
            let e = decompress(codec, &z[..16], 1 << 30).unwrap_err();
            assert!(e.contains("decompression bomb"), "{e}");
            let bomb = compress(codec, &vec![0u8; 64 << 20], codec.default_level()).unwrap();
            let e = decompress(codec, &bomb, 64 << 20).unwrap_err();
            assert!(e.starts_with(&format!("a {} block of {} bytes to inflate to at most", codec.name(), bomb.len())), "{e}");
            assert_eq!(decompress(codec, &z, zeros.len()).unwrap(), zeros);
        }
        // A zstd frame header that records the size (trace-cmd's do not, other writers' may):
        // another declared size is refused unread.
        let z = zstd_compress(&zeros, 3, true).unwrap();
        assert_eq!(decompress(Codec::Zstd, &z, 4096).unwrap_err(), "a zstd frame of 1048576 bytes, the block declares 4096");
        assert_eq!(decompress(Codec::Zstd, &[0u8; 64], 4096).unwrap_err(), "zstd decompression failed (no valid zstd frame header)");
    }

    #[test]
    fn a_run_of_blocks_shares_one_budget() {
        let block = |compressed, uncompressed| Block { offset: 0, compressed, uncompressed };
        let mut b = Budget::new(META_RATIO);
        // Each tiny block may declare the 1 MiB floor alone, but not again and again.
        assert!(b.charge(&block(40, 1 << 20)).is_ok());
        let e = b.charge(&block(40, 1 << 20)).unwrap_err();
        assert_eq!(e, "compressed data to inflate at most 64 times (80 bytes so far, to at most 1053696), found a block declaring 1048576 (damage or a decompression bomb)");
        // Ordinary text ratios pass however much there is.
        assert!(b.charge(&block(1 << 20, 16 << 20)).is_ok());
    }

    #[test]
    fn versions_are_known() {
        assert!(Codec::Zstd.version().starts_with("1."));
        assert!(Codec::Zlib.version().starts_with("1."));
    }
}
