//! A report's lines formatted on two more threads, in order. The calling thread, which holds
//! the mapped inputs, stays the reader: it merges the records, filters them and copies each
//! one into a chunk; chunks go to the formatting threads in turn (chunk k to thread k % 2),
//! each of which prints the lines of its chunks with event tables of its own (built from the
//! same texts: a table is not `Send`) and sends them back; their text is appended to the
//! report's in the order the chunks went. Records encoded as JSON or CSV lines are encoded
//! there the same way.
//!
//! A thread prints every other chunk, yet what printing learns across records must be what
//! the sequential report learns:
//! - The comm table the sched handlers teach only ever grows (a pid is registered once, when
//!   not known yet: [`Comms::register`]), and the reader teaches its own table each record
//!   the lines will (see `Report::queue`). A chunk takes along the entries the reader's table
//!   gained since the end of that thread's previous chunk up to its own start (the chunks the
//!   other thread prints); registered again in their order, they make the thread's table the
//!   sequential one as the chunk's first line finds it, and its own lines teach it the rest.
//!   The reader's table is so the sequential one at every point, and stays the report's when
//!   the threads stop.
//! - `--ts-diff`'s previous time is the last line's: the reader keeps it, and each chunk
//!   takes along its value at the chunk's start.
//! - The function plugin's call stacks change at every function record and cost a kallsyms
//!   search each to follow: rather than the reader following them too, the first function
//!   (or func_repeats) record pins the chunks to one thread from its own chunk on ([`Parallel::pin`]).
//!   Up to there no line touched the stacks, so that thread's are the sequential ones. (The
//!   event is declared in every file's ftrace formats, so whether a file has such records is
//!   only known when one comes.)
//! - A function_graph entry looks at the record after it in its buffer, which the reader
//!   holds: the threads are stopped and the report goes on on the calling thread, with the
//!   stacks handed back ([`Parallel::finish`]).
//! - A char array field printed raw as bytes, not text (`-R`, or the fields of an event whose
//!   print fmt fails to parse), is never printed as text again in the report (libtraceevent's
//!   print_field_raw clears the field's FIELD_IS_STRING). Following that on the reader would
//!   mean printing the fields there, so a text report with `-R` uses one formatting thread,
//!   and without it the first record of an event whose print fmt fails pins the chunks to one
//!   thread as a function record does. (JSON and CSV read the flag but never clear it.)
//! - What else printing changes is a cache: event programs compiled at their first record,
//!   JSON heads by comm table generation (unique per table, so never shared wrongly). The CSV
//!   header is the first thread's to write.
//!
//! Two threads, not more: with the reader that is three busy threads, and at two formatting
//! threads the reader (~a third of the CPU time of a plain text report) is about as slow as
//! each of them. At most [`IN_FLIGHT`] chunks are out at a time, so memory stays flat
//! whatever the input's size.
//!
//! A panic on a formatting thread is raised again on the calling thread when it next hands it
//! a chunk or waits for one (where the addon's entry point catches it, as any other).

use std::collections::VecDeque;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::merge::guests::VcpuThreads;
use crate::out::record::{Common, Encoder, Format};
use crate::out::report::{File, Flags, Printer, Rec, Taken};
use crate::tep::cprintf;
use crate::tep::event::{Tep, TepTexts};
use crate::tep::latency::LatFields;
#[cfg(doc)]
use crate::tep::lookups::Comms;
use crate::tep::plugins::{Fields, FuncStacks, Handler};
use crate::tep::time_fmt::TimeFmt;

/// Inputs smaller than this (in all) are printed on the calling thread: the formatting
/// threads' start (their event tables built again) would be most of their time.
pub const MIN_INPUT: usize = 8 << 20;

/// Formatting threads.
const THREADS: usize = 2;

/// Chunks handed to the formatting threads and not yet back, at most (two each).
const IN_FLIGHT: usize = 4;

/// A chunk goes when it holds this many records or bytes of them.
const CHUNK_RECORDS: usize = 4096;
const CHUNK_BYTES: usize = 1 << 20;

/// What the reader learns from a record's event for the formatting threads, worked out at
/// the event's first record (by input, then event): what its lines teach the comm table, and
/// whether it pins the chunks to one thread.
///
/// The lesson is plugins::teach's (sched_switch: prev then next pid and comm; sched_wakeup:
/// pid and comm; a pid field missing or not 1, 2, 4 or 8 bytes ends it, a comm field missing
/// skips its registration) with the fields found once: looked up by name at every record,
/// as plugins::teach does for the lines' own handlers, they were a fifth of the reader's time
/// on a sched trace, which with the two threads busy is time the machine does not have.
#[derive(Default)]
pub(crate) struct Lessons {
    events: Vec<Vec<Option<Lesson>>>,
}

/// See [`Lessons`]: (pid field, comm field) pairs as (offset, size), and whether the event
/// pins the chunks.
struct Lesson {
    pairs: Vec<(Option<Span>, Option<Span>)>,
    pins: bool,
}

/// A field's offset and size in its record.
type Span = (usize, usize);

impl Lessons {
    /// What a record of event `ev` of input `fi` teaches `tep`'s comm table, taught (`teach`:
    /// the handlers run, not `-R`); true when the event pins the chunks to one thread (a text
    /// report's function record, or a print fmt that fails: see the module doc).
    pub fn learn(&mut self, fi: usize, tep: &mut Tep, ev: Option<usize>, data: &[u8], teach: bool, text: bool) -> bool {
        let Some(ei) = ev else { return false };
        if self.events.len() <= fi {
            self.events.resize_with(fi + 1, Vec::new);
        }
        let Some(known) = self.events.get_mut(fi) else { return false };
        if known.len() <= ei {
            known.resize_with(ei + 1, || None);
        }
        let Some(slot) = known.get_mut(ei) else { return false };
        let long_size = tep.long_size;
        let Some(e) = tep.events.get_mut(ei) else { return false };
        let lesson = slot.get_or_insert_with(|| {
            let fields = Fields { all: &e.fields, nr_common: e.nr_common };
            let names: &[(&str, &str)] = match e.handler {
                Handler::SchedSwitch => &[("prev_pid", "prev_comm"), ("next_pid", "next_comm")],
                Handler::SchedWakeup => &[("pid", "comm")],
                _ => &[],
            };
            let at = |f: &crate::tep::print_fmt::Field| (f.offset as usize, f.size as usize);
            let pairs =
                names.iter().map(|(pid, comm)| (fields.find(pid).filter(|f| matches!(f.size, 1 | 2 | 4 | 8)).map(at), fields.any(comm).map(at))).collect();
            let pins = text && (matches!(e.handler, Handler::Function | Handler::FuncRepeats) || e.compiled(long_size).0.failed);
            Lesson { pairs, pins }
        });
        if teach {
            for &(pid, comm) in &lesson.pairs {
                let Some((off, size)) = pid else { break };
                let pid = tep.endian.uint_at(data, off, size).unwrap_or(0);
                if let Some((off, size)) = comm {
                    let bytes = data.get(off..off.saturating_add(size).min(data.len())).unwrap_or(&[]);
                    tep.comms.register(cprintf::cstr(bytes), pid as i32);
                }
            }
        }
        lesson.pins
    }
}

/// What the formatting threads print with: each input's event table texts and how its lines
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

/// A record in a chunk: its source, where its bytes end in the chunk's, and what was read
/// with it.
struct Item {
    si: usize,
    end: usize,
    t: Taken,
}

/// Records going to a formatting thread (their bytes one after the other), with what its
/// tables must learn first, and, coming back, their lines. Chunks are reused.
#[derive(Default)]
struct Chunk {
    bytes: Vec<u8>,
    items: Vec<Item>,
    /// The comms (input, pid, comm) the other thread's chunks registered since this thread's
    /// previous chunk, in order.
    comms: Vec<(usize, i32, Vec<u8>)>,
    /// `--ts-diff`'s previous time at the chunk's first line.
    last_ts: u64,
    text: Vec<u8>,
}

/// A formatting thread: where its chunks go and come back.
struct Worker {
    /// None once the thread is told to stop.
    to: Option<Sender<Chunk>>,
    back: Receiver<Chunk>,
    handle: Option<JoinHandle<FuncStacks>>,
    /// Each input's comm table entries (see [`Comms::entries`]) that the thread's table holds
    /// once its chunks out are printed.
    marks: Vec<usize>,
}

/// The running formatting threads, and the chunk being filled.
pub(crate) struct Parallel {
    workers: Vec<Worker>,
    /// The thread of each chunk out, oldest first.
    out: VecDeque<usize>,
    filling: Chunk,
    free: Vec<Chunk>,
    /// Chunks sent so far.
    sent: usize,
    /// The one thread every chunk goes to from the first function record on.
    pinned: Option<usize>,
    /// Each input's comm table entries at the start of the chunk being filled.
    start_marks: Vec<usize>,
    /// The thread of the last chunk sent.
    last: usize,
}

impl Parallel {
    /// The formatting threads started (one for a text report with `-R`, see the module doc),
    /// their tables as the reader's `p` (before any record: the saved comms only); None when
    /// they cannot be (the report prints on).
    pub fn start(setup: Setup, p: &Printer) -> Option<Parallel> {
        let threads = if setup.flags.raw && setup.format == Format::Text { 1 } else { THREADS };
        let setup = Arc::new(setup);
        let marks: Vec<usize> = p.files.iter().map(|f| f.tep.comms.entries()).collect();
        let mut workers = Vec::with_capacity(threads);
        for n in 0..threads {
            let (to, todo) = channel();
            let (done, back) = channel();
            let s = Arc::clone(&setup);
            let handle = std::thread::Builder::new().name(format!("tracedat-report-{n}")).spawn(move || work(&s, n, &todo, &done)).ok()?;
            workers.push(Worker { to: Some(to), back, handle: Some(handle), marks: marks.clone() });
        }
        let filling = Chunk { last_ts: p.last_ts, ..Chunk::default() };
        let pinned = (threads == 1).then_some(0);
        Some(Parallel { workers, out: VecDeque::new(), filling, free: Vec::new(), sent: 0, pinned, start_marks: marks, last: 0 })
    }

    /// Where the next record's bytes are appended.
    pub fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.filling.bytes
    }

    /// The record whose bytes were appended last, from source `si`, into the chunk; a full
    /// chunk goes (with what the reader's `p` learned that its thread has not), and the lines
    /// of those back so far are appended to `out`.
    pub fn push(&mut self, si: usize, t: Taken, p: &Printer, out: &mut Vec<u8>) {
        let c = &mut self.filling;
        c.items.push(Item { si, end: c.bytes.len(), t });
        if c.items.len() >= CHUNK_RECORDS || c.bytes.len() >= CHUNK_BYTES {
            self.send(p, out);
        }
    }

    /// From the chunk being filled on, every chunk to one thread (for the function plugin's
    /// stacks and for fields printed raw, see the module doc).
    pub fn pin(&mut self) {
        if self.pinned.is_none() {
            self.pinned = Some(self.sent % self.workers.len().max(1));
        }
    }

    /// Every line formatted or to format appended to `out`, then the threads stopped: the
    /// function plugin's stacks as the last chunk's thread left them (the only thread to
    /// have printed function records, if any came).
    pub fn finish(mut self, p: &Printer, out: &mut Vec<u8>) -> FuncStacks {
        if !self.filling.items.is_empty() {
            self.send(p, out);
        }
        while !self.out.is_empty() {
            self.receive(out);
        }
        for w in &mut self.workers {
            w.to = None;
        }
        let mut stacks = FuncStacks::default();
        for (n, w) in self.workers.iter_mut().enumerate() {
            match w.handle.take().map(JoinHandle::join) {
                Some(Ok(s)) if n == self.last => stacks = s,
                Some(Ok(_)) => {}
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => unreachable!("a formatting thread joined twice"),
            }
        }
        stacks
    }

    /// The chunk being filled to its thread, with the comms `p` registered since that
    /// thread's previous chunk up to this one's start; then the lines of the chunks back,
    /// waiting for the oldest when [`IN_FLIGHT`] are out.
    fn send(&mut self, p: &Printer, out: &mut Vec<u8>) {
        let n = self.pinned.unwrap_or(self.sent % self.workers.len().max(1));
        let Some(w) = self.workers.get_mut(n) else { unreachable!("no formatting thread {n}") };
        let mut next = self.free.pop().unwrap_or_default();
        next.last_ts = p.last_ts;
        let mut c = std::mem::replace(&mut self.filling, next);
        for (fi, ((f, mark), start)) in p.files.iter().zip(&mut w.marks).zip(&mut self.start_marks).enumerate() {
            let missed = start.saturating_sub(*mark);
            c.comms.extend(f.tep.comms.added_since(*mark).take(missed).map(|(pid, comm)| (fi, pid, comm.to_vec())));
            *mark = f.tep.comms.entries();
            *start = *mark;
        }
        if let Some(Err(_)) = w.to.as_ref().map(|to| to.send(c)) {
            self.died(n);
        }
        self.out.push_back(n);
        self.sent = self.sent.wrapping_add(1);
        self.last = n;
        while let Some(&n) = self.out.front() {
            match self.workers.get(n).map(|w| w.back.try_recv()) {
                Some(Ok(c)) => self.append(c, out),
                _ => break,
            }
        }
        if self.out.len() >= IN_FLIGHT {
            self.receive(out);
        }
    }

    /// The oldest chunk out, waited for, its lines appended to `out`.
    fn receive(&mut self, out: &mut Vec<u8>) {
        let Some(&n) = self.out.front() else { return };
        match self.workers.get(n).map(|w| w.back.recv()) {
            Some(Ok(c)) => self.append(c, out),
            _ => self.died(n),
        }
    }

    /// The oldest chunk out, back: its lines appended to `out`, itself kept for reuse. Into
    /// an empty `out` the lines are not copied: the two buffers change places (a caller asking
    /// for little at a time, as the CLI does, gets each chunk's text as it was formatted).
    fn append(&mut self, mut c: Chunk, out: &mut Vec<u8>) {
        if out.is_empty() {
            std::mem::swap(out, &mut c.text);
        } else {
            out.extend_from_slice(&c.text);
        }
        c.bytes.clear();
        c.items.clear();
        c.comms.clear();
        c.text.clear();
        self.out.pop_front();
        self.free.push(c);
    }

    /// Thread `n` ended without being told to: its panic, raised here.
    fn died(&mut self, n: usize) -> ! {
        let handle = self.workers.get_mut(n).and_then(|w| {
            w.to = None;
            w.handle.take()
        });
        match handle.map(JoinHandle::join) {
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            _ => panic!("a report formatting thread ended early"),
        }
    }
}

impl Drop for Parallel {
    /// A report dropped before its end (or after its damage): the threads stop after their
    /// chunk.
    fn drop(&mut self) {
        for w in &mut self.workers {
            w.to = None;
        }
        for w in &mut self.workers {
            if let Some(h) = w.handle.take() {
                let _ = h.join();
            }
        }
    }
}

/// Formatting thread `n`: chunks' lines until the report stops it; the function plugin's
/// stacks it leaves.
fn work(setup: &Setup, n: usize, todo: &Receiver<Chunk>, done: &Sender<Chunk>) -> FuncStacks {
    let Setup { files, vcpus, flags, sources, format, names } = setup;
    let mut encoder = (*format != Format::Text).then(|| {
        let mut e = Encoder::new(*format);
        if n > 0 {
            e.header_elsewhere();
        }
        e
    });
    let files =
        files.iter().map(|(texts, time, trace_clock, lat)| File { tep: Tep::from_texts(texts), time: *time, trace_clock: *trace_clock, lat: *lat }).collect();
    let mut p = Printer { files, stacks: FuncStacks::default(), vcpus: vcpus.clone(), flags: *flags, last_ts: 0 };
    while let Ok(mut c) = todo.recv() {
        for (fi, pid, comm) in &c.comms {
            if let Some(f) = p.files.get_mut(*fi) {
                f.tep.comms.register(comm, *pid);
            }
        }
        p.last_ts = c.last_ts;
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
    p.stacks
}
