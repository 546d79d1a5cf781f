//! The bytes of a trace file: a read-only memory map of a path, or bytes handed over from
//! JavaScript (a member of a .zip).
//!
//! Mapping keeps memory flat however large the file: pages are faulted in as the reader walks
//! them, and [`Source::shed`], called as a pass goes on, lets go of those already read (else
//! they stay resident, counted in the process's RSS, until the kernel is short of memory). `mmap` is declared by hand (two libc calls
//! are not worth a crate). A file that changes size while mapped can SIGBUS on access to the
//! lost tail; trace files are not written while read, and the reader touches only what the
//! size it saw at open time allows.

use std::ffi::c_void;
use std::fs::File;
use std::os::unix::io::AsRawFd;

extern "C" {
    fn mmap(addr: *mut c_void, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut c_void;
    fn munmap(addr: *mut c_void, len: usize) -> i32;
    fn madvise(addr: *mut c_void, len: usize, advice: i32) -> i32;
}
const PROT_READ: i32 = 1;
const MAP_PRIVATE: i32 = 2;
const MADV_SEQUENTIAL: i32 = 2;
const MADV_DONTNEED: i32 = 4;
const MAP_FAILED: *mut c_void = !0usize as *mut c_void;

pub enum Source {
    Mapped { ptr: *mut c_void, len: usize },
    Owned(Vec<u8>),
}

// SAFETY: the mapping is read-only and private, never written through, and unmapped only in
// Drop; sharing its bytes between threads is as safe as sharing a &[u8].
unsafe impl Send for Source {}
unsafe impl Sync for Source {}

impl Source {
    /// Opens `path` read-only and maps it; an empty file becomes an empty buffer.
    pub fn open(path: &str) -> std::io::Result<Source> {
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len()).map_err(|_| std::io::Error::other("file too large"))?;
        if len == 0 {
            return Ok(Source::Owned(Vec::new()));
        }
        // SAFETY: a fresh private read-only mapping of an open fd; the result is checked and
        // the fd may be closed afterwards (the mapping keeps the file referenced).
        let ptr = unsafe { mmap(std::ptr::null_mut(), len, PROT_READ, MAP_PRIVATE, file.as_raw_fd(), 0) };
        if ptr == MAP_FAILED || ptr.is_null() {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: advice on our own mapping; failure is harmless.
        unsafe { madvise(ptr, len, MADV_SEQUENTIAL) };
        Ok(Source::Mapped { ptr, len })
    }

    /// Drops the mapping's resident pages from this process (RSS), keeping the mapping: a pass
    /// over a file calls it every few MB, so that its RSS stays flat however large the file.
    /// The bytes are not lost: a private mapping never written has no pages of its own, so
    /// MADV_DONTNEED only removes page-table entries, and the next access to a page (the few
    /// each cursor is reading) maps it again from the page cache, unchanged. Slices into the
    /// mapping stay valid; other threads reading it meanwhile just fault the page back in.
    pub fn shed(&self) {
        if let Source::Mapped { ptr, len } = *self {
            // SAFETY: advice on our own live mapping (see above why the bytes stay the same);
            // failure only leaves the pages resident.
            unsafe { madvise(ptr, len, MADV_DONTNEED) };
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            // SAFETY: ptr..ptr+len is a live read-only mapping owned by self.
            Source::Mapped { ptr, len, .. } => unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), *len) },
            Source::Owned(v) => v,
        }
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        if let Source::Mapped { ptr, len, .. } = *self {
            // SAFETY: unmapping the mapping made in `open`, once.
            unsafe { munmap(ptr, len) };
        }
    }
}
