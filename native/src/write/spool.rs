//! The output file written on a thread of its own.
//!
//! Writing a large file costs the writing thread as much as making its bytes: `write(2)` copies
//! every byte into the page cache on the caller's time (half the CPU time of an uncompressed
//! merge or a conversion to v6). A [`Spool`] fills blocks of [`BLOCK`] bytes and hands each full
//! one to a thread that writes it, so that copying into the page cache runs beside inflating,
//! compressing or rewriting pages. [`BLOCKS`] blocks exist in all: when every one is queued the
//! producer waits for the first to come back, so memory stays flat however large the file, and
//! the file gets one large write per block (no per-page system calls).

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Bytes per write.
pub const BLOCK: usize = 1 << 19;
/// Blocks alive at once (one being filled, the others queued or being written).
const BLOCKS: usize = 3;

pub struct Spool {
    /// Full blocks to the writing thread (None once finished).
    full: Option<SyncSender<Vec<u8>>>,
    /// Written blocks back, emptied.
    empty: Receiver<Vec<u8>>,
    /// The block being filled.
    buf: Vec<u8>,
    /// The writing thread: the file back when every block is written, or the first error.
    thread: Option<JoinHandle<io::Result<File>>>,
}

impl Spool {
    pub fn new(mut file: File) -> io::Result<Spool> {
        let (full_tx, full_rx) = sync_channel::<Vec<u8>>(BLOCKS);
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(BLOCKS);
        for _ in 1..BLOCKS {
            // Cannot fail: the channel has room for every block and its receiver is alive.
            let _ = empty_tx.send(Vec::with_capacity(BLOCK));
        }
        let thread = std::thread::Builder::new().name("tracedat-write".into()).spawn(move || {
            // Ends when the producer hangs up (finished or dropped), or at the first error.
            for mut block in full_rx {
                file.write_all(&block)?;
                block.clear();
                // The producer may be gone already: then the block is simply freed.
                let _ = empty_tx.send(block);
            }
            Ok(file)
        })?;
        Ok(Spool { full: Some(full_tx), empty: empty_rx, buf: Vec::with_capacity(BLOCK), thread: Some(thread) })
    }

    /// Queues the block being filled and takes an empty one, waiting for it if all are queued.
    fn send(&mut self) -> io::Result<()> {
        let Ok(next) = self.empty.recv() else { return Err(self.failure()) };
        let block = std::mem::replace(&mut self.buf, next);
        match self.full.as_ref().map(|f| f.send(block)) {
            Some(Ok(())) => Ok(()),
            _ => Err(self.failure()),
        }
    }

    /// Why the writing thread stopped early: its error.
    fn failure(&mut self) -> io::Error {
        self.full = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            _ => io::Error::other("the writing thread stopped"),
        }
    }

    /// Writes what is left and returns the file once every byte is in it.
    pub fn finish(mut self) -> io::Result<File> {
        let block = std::mem::take(&mut self.buf);
        if !block.is_empty() && self.full.as_ref().is_none_or(|f| f.send(block).is_err()) {
            return Err(self.failure());
        }
        self.full = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            _ => Err(io::Error::other("the writing thread stopped")),
        }
    }
}

impl Write for Spool {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let n = b.len().min(BLOCK - self.buf.len());
        self.buf.extend_from_slice(b.get(..n).unwrap_or_default());
        if self.buf.len() >= BLOCK {
            self.send()?;
        }
        Ok(n)
    }

    /// Blocks go out as they fill; [`Spool::finish`] writes the last one.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Spool {
    /// Stops the writing thread (its queued blocks are still written) and waits for it.
    fn drop(&mut self) {
        self.full = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_arrive_in_order_whatever_the_write_sizes() {
        let path = std::env::temp_dir().join(format!("tracedat-spool-test-{}", std::process::id()));
        let want: Vec<u8> = (0..5 * BLOCK + 12_345).map(|i| (i * 31 / 7) as u8).collect();
        let mut s = Spool::new(File::create(&path).unwrap()).unwrap();
        let mut at = 0;
        for n in [1, 4095, BLOCK, 3 * BLOCK + 17, 7].iter().cycle() {
            let end = (at + n).min(want.len());
            s.write_all(&want[at..end]).unwrap();
            at = end;
            if at == want.len() {
                break;
            }
        }
        drop(s.finish().unwrap());
        assert!(std::fs::read(&path).unwrap() == want);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_failed_write_is_the_error() {
        // A file opened read-only: the thread's first write fails and says why.
        let path = std::env::temp_dir().join(format!("tracedat-spool-ro-{}", std::process::id()));
        std::fs::write(&path, b"").unwrap();
        let mut s = Spool::new(File::open(&path).unwrap()).unwrap();
        let mut failed = None;
        for _ in 0..3 * BLOCKS {
            if let Err(e) = s.write_all(&vec![1; BLOCK]) {
                failed = Some(e);
                break;
            }
        }
        let e = failed.or_else(|| s.finish().err()).expect("an error");
        assert_eq!(e.raw_os_error(), Some(9), "EBADF: {e}");
        std::fs::remove_file(&path).unwrap();
    }
}
