//! A report's lines formatted on a second thread, in order. The calling thread, which holds
//! the mapped inputs, stays the reader: it merges the records, filters them and copies each
//! one into a chunk; the formatting thread prints the lines of each chunk with event tables of
//! its own (built from the same texts: a table is not `Send`) and sends the chunk back, whose
//! text is appended to the report's as chunks come back, in the order they went. Records
//! encoded as JSON or CSV lines are encoded there the same way.
//!
//! The formatting thread is the only one to print lines, one after the other, so what printing
//! learns across records — the comm table the sched handlers teach, the function plugin's
//! call stacks, `--ts-diff`'s previous time — is what the sequential report learns. When the
//! report must go on on the calling thread (a function_graph entry looks at the record after
//! it), the thread is stopped and hands that state back ([`Carry`]). At most [`IN_FLIGHT`]
//! chunks are out at a time, so memory stays flat whatever the input's size.
//!
//! A panic on the formatting thread is raised again on the calling thread when it next waits
//! for a chunk (where the addon's entry point catches it, as any other).

use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;

use crate::merge::guests::VcpuThreads;
use crate::out::record::{Common, Encoder, Format};
use crate::out::report::{File, Flags, Printer, Rec, Taken};
use crate::tep::event::{Tep, TepTexts};
use crate::tep::latency::LatFields;
use crate::tep::lookups::Comms;
use crate::tep::plugins::FuncStacks;
use crate::tep::time_fmt::TimeFmt;

/// Inputs smaller than this (in all) are printed on the calling thread: the formatting
/// thread's start (its event tables built again) would be most of their time.
pub const MIN_INPUT: usize = 8 << 20;

/// Chunks handed to the formatting thread and not yet back, at most.
const IN_FLIGHT: usize = 4;

/// A chunk goes when it holds this many records or bytes of them.
const CHUNK_RECORDS: usize = 4096;
const CHUNK_BYTES: usize = 1 << 20;

/// What the formatting thread prints with: each input's event table texts and how its lines
/// print (time format, trace clock, latency fields, as in [`File`]), the vCPU threads, the
/// display flags, and each source's input and line prefix; for records encoded (JSON, CSV),
/// the format and each source's input and buffer names.
pub(crate) struct Setup {
    pub files: Vec<(TepTexts, TimeFmt, bool, LatFields)>,
    pub vcpus: VcpuThreads,
    pub flags: Flags,
    pub sources: Vec<(usize, Vec<u8>)>,
    pub format: Format,
    pub names: Vec<(String, String)>,
}

/// What printing learned across records, handed back by a stopped formatting thread: each
/// input's comm table, the function plugin's stacks and `--ts-diff`'s previous time.
pub(crate) struct Carry {
    pub comms: Vec<Comms>,
    pub stacks: FuncStacks,
    pub last_ts: u64,
}

/// A record in a chunk: its source, where its bytes end in the chunk's, and what was read
/// with it.
struct Item {
    si: usize,
    end: usize,
    t: Taken,
}

/// Records going to the formatting thread (their bytes one after the other) and, coming
/// back, their lines. Chunks are reused.
#[derive(Default)]
struct Chunk {
    bytes: Vec<u8>,
    items: Vec<Item>,
    text: Vec<u8>,
}

/// A running formatting thread, and the chunk being filled for it.
pub(crate) struct Parallel {
    /// None once the thread is told to stop.
    to: Option<Sender<Chunk>>,
    back: Receiver<Chunk>,
    worker: Option<JoinHandle<Carry>>,
    filling: Chunk,
    free: Vec<Chunk>,
    in_flight: usize,
}

impl Parallel {
    /// The formatting thread started; None when no thread can be (the report prints on).
    pub fn start(setup: Setup) -> Option<Parallel> {
        let (to, todo) = channel();
        let (done, back) = channel();
        let worker = std::thread::Builder::new().name("tracedat-report".into()).spawn(move || work(setup, &todo, &done)).ok()?;
        Some(Parallel { to: Some(to), back, worker: Some(worker), filling: Chunk::default(), free: Vec::new(), in_flight: 0 })
    }

    /// Where the next record's bytes are appended.
    pub fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.filling.bytes
    }

    /// The record whose bytes were appended last, from source `si`, into the chunk; a full
    /// chunk goes, and the lines of those back so far are appended to `out`.
    pub fn push(&mut self, si: usize, t: Taken, out: &mut Vec<u8>) {
        let c = &mut self.filling;
        c.items.push(Item { si, end: c.bytes.len(), t });
        if c.items.len() >= CHUNK_RECORDS || c.bytes.len() >= CHUNK_BYTES {
            self.send(out);
        }
    }

    /// Every line formatted or to format appended to `out`, then the thread stopped: what it
    /// learned.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Carry {
        if !self.filling.items.is_empty() {
            self.send(out);
        }
        while self.in_flight > 0 {
            let c = self.back.recv();
            self.append(c, out);
        }
        self.to = None;
        match self.worker.take().map(JoinHandle::join) {
            Some(Ok(carry)) => carry,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => unreachable!("a formatting thread joined twice"),
        }
    }

    /// The chunk being filled to the thread; then the lines of the chunks back, waiting for
    /// one when [`IN_FLIGHT`] are out.
    fn send(&mut self, out: &mut Vec<u8>) {
        let next = self.free.pop().unwrap_or_default();
        let c = std::mem::replace(&mut self.filling, next);
        if let Some(Err(_)) = self.to.as_ref().map(|to| to.send(c)) {
            self.died();
        }
        self.in_flight += 1;
        while let Ok(c) = self.back.try_recv() {
            self.append(Ok(c), out);
        }
        if self.in_flight >= IN_FLIGHT {
            let c = self.back.recv();
            self.append(c, out);
        }
    }

    /// A chunk back: its lines appended to `out`, itself kept for reuse. Into an empty `out`
    /// the lines are not copied: the two buffers change places (a caller asking for little at
    /// a time, as the CLI does, gets each chunk's text as it was formatted).
    fn append(&mut self, c: Result<Chunk, std::sync::mpsc::RecvError>, out: &mut Vec<u8>) {
        let Ok(mut c) = c else { self.died() };
        if out.is_empty() {
            std::mem::swap(out, &mut c.text);
        } else {
            out.extend_from_slice(&c.text);
        }
        c.bytes.clear();
        c.items.clear();
        c.text.clear();
        self.in_flight = self.in_flight.saturating_sub(1);
        self.free.push(c);
    }

    /// The thread ended without being told to: its panic, raised here.
    fn died(&mut self) -> ! {
        self.to = None;
        match self.worker.take().map(JoinHandle::join) {
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            _ => panic!("the report's formatting thread ended early"),
        }
    }
}

impl Drop for Parallel {
    /// A report dropped before its end (or after its damage): the thread stops after its chunk.
    fn drop(&mut self) {
        self.to = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// The formatting thread: chunks' lines until the report stops it.
fn work(setup: Setup, todo: &Receiver<Chunk>, done: &Sender<Chunk>) -> Carry {
    let Setup { files, vcpus, flags, sources, format, names } = setup;
    let mut encoder = (format != Format::Text).then(|| Encoder::new(format));
    let files =
        files.iter().map(|(texts, time, trace_clock, lat)| File { tep: Tep::from_texts(texts), time: *time, trace_clock: *trace_clock, lat: *lat }).collect();
    let mut p = Printer { files, stacks: FuncStacks::default(), vcpus, flags, last_ts: 0 };
    while let Ok(mut c) = todo.recv() {
        let mut start = 0;
        for it in &c.items {
            let data = c.bytes.get(start..it.end).unwrap_or(&[]);
            start = it.end;
            let Some((fi, prefix)) = sources.get(it.si) else { continue };
            let Taken { ts, cpu, missed, size, ev } = it.t;
            if let (Some(enc), Some((source, buffer)), Some(f)) = (encoder.as_mut(), names.get(it.si), p.files.get_mut(*fi)) {
                enc.encode(&Common { ts, source, buffer, cpu }, *fi, &mut f.tep, ev, data, size, missed, !flags.raw, &mut c.text);
                continue;
            }
            p.put(prefix, *fi, Rec { data, size, ts, cpu, missed, ev, next: None }, &mut c.text);
            c.text.push(b'\n');
        }
        if done.send(c).is_err() {
            break;
        }
    }
    Carry { comms: p.files.iter_mut().map(|f| std::mem::take(&mut f.tep.comms)).collect(), stacks: p.stacks, last_ts: p.last_ts }
}
