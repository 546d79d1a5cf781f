//! Progress of a long write, for a terminal: one line redrawn in place a few times a second.
//!
//! The caller decides whether there is a terminal (the CLI passes stderr's descriptor only when
//! it is a TTY); the descriptor is reopened through `/dev/fd`, which needs no `unsafe` and leaves
//! the caller's descriptor open. Progress is a courtesy: if the line cannot be written, nothing
//! else is affected.

use std::fs::File;
use std::io::Write;
use std::time::{Duration, Instant};

const EVERY: Duration = Duration::from_millis(200);

pub struct Progress {
    out: Option<File>,
    total: u64,
    done: u64,
    last: Option<Instant>,
    drawn: bool,
    pace: Option<Pace>,
}

/// A call made after every `every` bytes of work: the caller's way to let go of what the
/// write has read so far (the mapped input's pages, see `ffi::source::Source::shed`).
struct Pace {
    every: u64,
    since: u64,
    f: Box<dyn FnMut() + Send>,
}

impl Progress {
    /// No output.
    pub fn none() -> Progress {
        Progress { out: None, total: 0, done: 0, last: None, drawn: false, pace: None }
    }

    /// Also calls `f` after every `every` bytes of work.
    pub fn pacing(self, every: u64, f: impl FnMut() + Send + 'static) -> Progress {
        Progress { pace: Some(Pace { every, since: 0, f: Box::new(f) }), ..self }
    }

    /// Writes to file descriptor `fd` (a terminal).
    pub fn to_fd(fd: u32) -> Progress {
        let out = std::fs::OpenOptions::new().append(true).open(format!("/dev/fd/{fd}")).ok();
        Progress { out, ..Progress::none() }
    }

    /// Sets the amount of work (uncompressed ring-buffer bytes) to be done.
    pub fn start(&mut self, total: u64) {
        self.total = total;
        self.done = 0;
        self.last = Some(Instant::now());
    }

    /// Calls the pacing function now: after a pass that read much and wrote nothing (the
    /// host's `kvm_write_tsc_offset` events are found by reading all of its records).
    pub fn pace_now(&mut self) {
        if let Some(p) = &mut self.pace {
            p.since = 0;
            (p.f)();
        }
    }

    pub fn advance(&mut self, n: u64) {
        self.done += n;
        if let Some(p) = &mut self.pace {
            p.since += n;
            if p.since >= p.every {
                p.since = 0;
                (p.f)();
            }
        }
        let Some(last) = self.last else { return };
        if self.out.is_none() || last.elapsed() < EVERY {
            return;
        }
        self.last = Some(Instant::now());
        let pct = (self.done.min(self.total) * 100).checked_div(self.total).unwrap_or(100) as u32;
        let line = format!("\rtracedat: writing trace data {pct:3}% ({:.1} of {:.1} MB)", mb(self.done), mb(self.total));
        self.draw(&line);
    }

    /// Clears the line.
    pub fn finish(&mut self) {
        self.last = None;
        if self.drawn {
            self.draw("\r\x1b[K");
        }
    }

    fn draw(&mut self, s: &str) {
        if let Some(f) = &mut self.out {
            if f.write_all(s.as_bytes()).is_err() {
                self.out = None;
            }
            self.drawn = true;
        }
    }
}

fn mb(n: u64) -> f64 {
    n as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::AsRawFd;

    #[test]
    fn paces_every_n_bytes() {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let c = calls.clone();
        let mut p = Progress::none().pacing(100, move || {
            c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        p.start(1000);
        for _ in 0..25 {
            p.advance(10);
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2);
    }

    #[test]
    fn draws_at_most_every_200_ms_and_clears_the_line() {
        let (mut r, w) = std::io::pipe().unwrap();
        let mut p = Progress::to_fd(w.as_raw_fd() as u32);
        p.start(200_000_000);
        p.advance(1_000_000);
        std::thread::sleep(EVERY + Duration::from_millis(10));
        p.advance(99_000_000);
        p.advance(1);
        p.finish();
        drop((p, w));
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "\rtracedat: writing trace data  50% (100.0 of 200.0 MB)\r\x1b[K");
    }

    #[test]
    fn silent_without_a_terminal() {
        let mut p = Progress::none();
        p.start(1);
        p.advance(1);
        p.finish();
        assert!(!p.drawn);
    }
}
