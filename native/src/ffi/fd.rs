//! Writing to a file descriptor the addon does not own (the CLI's standard output).

use std::io::{ErrorKind, Write};
use std::mem::ManuallyDrop;
use std::os::unix::io::FromRawFd;

/// All of `bytes` written to `fd` with write(2), no buffering. A non-blocking descriptor (a
/// pipe another process made O_NONBLOCK, or one Node's stdout stream opened) that is full
/// answers EAGAIN: wait a millisecond and go on, as the CLI's own writes do; an interrupted
/// call is made again. Other errors (EPIPE among them: Node ignores SIGPIPE) are returned.
pub fn write_fd(fd: i32, mut bytes: &[u8]) -> std::io::Result<()> {
    // SAFETY: `fd` is borrowed for these calls and never closed (ManuallyDrop): the caller
    // keeps it open; a descriptor that is not open only makes write(2) fail with EBADF.
    let mut file = ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    while !bytes.is_empty() {
        match file.write(bytes) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => bytes = bytes.get(n..).unwrap_or(&[]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(std::time::Duration::from_millis(1)),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
