//! `trace-cmd report` (3.1.6) output: the `cpus=N` line, then one line per record as
//! trace_show_data prints it — lost-events marks, `%16s-%-5d [%03d]`, the timestamp, the
//! event name padded to 20, and the event's text from its plugin handler or print fmt (or its
//! raw fields with `-R`) — merged over the file's buffers, instances prefixed with their name.
//! Latency-tracer files print their saved text instead.
//!
//! Damage in ring-buffer data ends the report as it ends a streaming reader: every record
//! before it in the merged order is printed (the damaged CPU's last good record included, see
//! [`Records::next_with`]), then the damage is the error. With `salvage`, each damaged region
//! is stepped over instead, and a `CPU:N [DAMAGED: BYTES bytes skipped at offset X]` line (in
//! the style of trace-cmd's `CPU:N [EVENTS DROPPED]`) is printed where the reader met it:
//! after that CPU's last record before it.
//!
//! The event table ([`Tep`]) mirrors what libtraceevent holds per file: parsed events,
//! kallsyms, printk formats and the comm table; the report drives it one record at a time
//! into a byte buffer that the caller drains in large chunks.

use crate::format::error::{Error, Result};
use crate::format::file::{BufferKind, Trace, V6Tag};
use crate::format::options;
use crate::merge::guests::{guest_options, trace_id, vcpu_pids, VcpuThreads};
use crate::merge::kway::KWay;
use crate::out::csv_dir::EventFiles;
use crate::out::parallel::{self, Parallel};
use crate::out::record::{Common, Encoder, Format};
use crate::out::{stat, wakeup::Wakeup};
use crate::ring::records::{Record, Records, Skip};
use crate::tep::cprintf::{self, Arg as C};
use crate::tep::event::{Tep, TepTexts};
use crate::tep::filter::{FilterError, Filters, Spec};
use crate::tep::latency::LatFields;
use crate::tep::lookups::Funcs;
use crate::tep::plugins::{self, FuncStacks, GraphRet, Handler};
use crate::tep::print_fmt::{self, Ctx, Eval};
use crate::tep::time_fmt::TimeFmt;
use crate::time::sync::{guest_clock, time_shift, vcpu_count, GuestClock, HostWrites, Manual, Method, NoSource, Source as SyncSource};
use crate::write::output::TargetError;

/// What to print.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `-R`: raw fields instead of print fmts and plugins.
    pub raw: bool,
    /// `--raw-ts`.
    pub raw_ts: bool,
    /// `-t`: nanoseconds.
    pub nsec: bool,
    /// `--cpu`: trace-cmd's CPU numbers to keep (counted across buffers).
    pub cpus: Option<Vec<u32>>,
    /// How guests (every input after the first, the host) are lined up with the host: None is
    /// trace-cmd's way (each file's own clock and TIME_SHIFT); a method as `merge` takes it.
    pub sync: Option<Method>,
    /// `-F` (and `-v -F`) before any input: for every input, before its own.
    pub filters: Vec<Spec>,
    /// `--ts2secs HZ` for every input without its own: its clock counts HZ per second.
    pub ts2secs: Option<u64>,
    /// `--ts-diff`: each line's time since the previous line's, after its time.
    pub ts_diff: bool,
    /// `-l`: the latency column (irqs-off, need-resched, irq context, preempt depth).
    pub latency: bool,
    /// `-w`: wakeup latencies on sched_switch lines, and their summary at the end.
    pub wakeup: bool,
    /// `--ts-check`: a warning for each record earlier than the one before it.
    pub ts_check: bool,
    /// `--align-ts`: times counted from the first record of the inputs' top buffers.
    pub align_ts: bool,
    /// `--nodate`: the DATE options' offsets left out.
    pub nodate: bool,
    /// `--stat`, `--uname`, `--version`: that instead of the records.
    pub only: Only,
    /// `--salvage`: damaged pages, chunks and CPU data are stepped over (see the module doc).
    pub salvage: bool,
    /// Text, or records for scripts (JSON lines, CSV).
    pub format: Format,
    /// Only these buffers (by instance name, "" for the top one) of every input; None: all.
    pub buffers: Option<Vec<String>>,
    /// With CSV: one file per event in this directory instead of one stream.
    pub out_dir: Option<std::path::PathBuf>,
    /// Lines formatted on two more threads (see [`parallel`]); None: when the inputs are large.
    pub parallel: Option<bool>,
}

/// What report prints instead of the records (trace-cmd: --version wins over --uname, which
/// wins over --stat).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Only {
    #[default]
    Records,
    Stat,
    Uname,
    Version,
}

/// trace-cmd's TRACECMD_FL_IN_USECS for this file: times print as secs.usecs unless a clock
/// that does not count nanoseconds was saved (or raw timestamps were asked for).
pub fn in_usecs(trace: &Trace, data: &[u8], raw_ts: bool) -> bool {
    in_usecs_ts2secs(trace, data, raw_ts, false)
}

/// [`in_usecs`] with `--ts2secs` given or not: with it, trace-cmd does not read a v6 file's
/// trace_clock trailer.
pub fn in_usecs_ts2secs(trace: &Trace, data: &[u8], raw_ts: bool, ts2secs: bool) -> bool {
    let mut usecs = true;
    let mut mult = 0u32;
    let mut clock_seen = false;
    let extract = |text: &[u8], usecs: &mut bool, mult: u32| {
        let s = String::from_utf8_lossy(text);
        let Some(word) = s.split(' ').find(|w| w.starts_with('[')) else { return };
        let clock = word.split(['[', ']']).find(|p| !p.is_empty()).unwrap_or("");
        let clock = clock.split_whitespace().next().unwrap_or("");
        if clock.is_empty() {
            return;
        }
        if raw_ts {
            *usecs = false;
        }
        if mult != 0 {
            return;
        }
        let ns = matches!(clock, "local" | "global" | "uptime" | "perf" | "tsc2nsec" | "tai") || clock.starts_with("mono");
        if !ns {
            *usecs = false;
        }
    };
    for o in &trace.options {
        let p = trace.bytes(data, &o.payload);
        match o.id {
            options::TSC2NSEC if o.size >= 16 && !raw_ts => {
                if let Ok(t) = options::Tsc2Nsec::parse(p, trace.endian, o.offset) {
                    mult = t.mult;
                }
                usecs = true;
            }
            options::TRACECLOCK => {
                clock_seen = true;
                extract(p, &mut usecs, mult);
            }
            _ => {}
        }
    }
    if clock_seen && !ts2secs {
        if let Some(v6) = &trace.v6 {
            let trailer = v6.tags.iter().find_map(|t| match t {
                V6Tag::Flyrecord { clock: Some(c), .. } => Some(*c),
                _ => None,
            });
            if let Some(t) = trailer {
                extract(trace.bytes(data, &t), &mut usecs, mult);
            }
        }
    }
    usecs
}

/// One input of a report: a parsed file, its bytes, and the name its lines carry when several
/// files are read (trace-cmd prints the base name of the path it was given).
pub struct Input<'a> {
    pub trace: &'a Trace,
    pub data: &'a [u8],
    pub name: &'a str,
    /// `--ts-offset`: added to every time of this file (not with `--raw-ts`).
    pub ts_offset: i64,
    /// `-F` after this input's `-i`: for all its buffers (trace-cmd >= 3.2; 3.1.6 ignores them
    /// with a single input).
    pub filters: &'a [Spec],
    /// `--ts2secs` after this input's `-i` (for the second input on: trace-cmd 3.1.6 takes one
    /// after the first `-i` as every input's).
    pub ts2secs: Option<u64>,
}

/// An error, with the index of the input it was found in.
pub type InputError = (usize, Error);

/// Why a report cannot start: damage in an input, or a filter an input's events refuse.
#[derive(Debug)]
pub enum StartError {
    Input(InputError),
    Filter(usize, FilterError),
}

impl From<InputError> for StartError {
    fn from(e: InputError) -> StartError {
        StartError::Input(e)
    }
}

/// What trace-cmd keeps per input file to print its lines: its event table and how its times
/// print.
pub(crate) struct File {
    pub tep: Tep,
    pub time: TimeFmt,
    /// trace-cmd's use_trace_clock: a TRACECLOCK option and no `--ts2secs` (`--ts-diff` then
    /// counts microseconds unless `-t`).
    pub trace_clock: bool,
    /// Where its latency columns are (`-l`).
    pub lat: LatFields,
}

/// report's display flags that change how a line prints.
#[derive(Clone, Copy)]
pub(crate) struct Flags {
    pub raw: bool,
    pub nsec: bool,
    pub latency: bool,
    pub ts_diff: bool,
}

/// Everything a line reads and changes besides its record: every input's event table (whose
/// comm table the sched handlers teach), the function plugin's stacks, the vCPU threads and
/// `--ts-diff`'s previous time. The sequential report prints with its own; a parallel one
/// with one each built on the formatting threads (see [`parallel`]).
pub(crate) struct Printer {
    pub files: Vec<File>,
    pub stacks: FuncStacks,
    /// The vCPU threads of the host (the first input) and the guest input each one runs.
    pub vcpus: VcpuThreads,
    pub flags: Flags,
    /// `--ts-diff`: the previous line's time (0 before the first, as trace-cmd's).
    pub last_ts: u64,
}

/// A buffer being read (a trace-cmd handle): its records and how its lines are prefixed.
struct Source {
    file: usize,
    records: Records,
    prefix: Vec<u8>,
    /// trace-cmd's first CPU number for this buffer (CPU filters count across buffers).
    start_cpu: u32,
    /// The input's base name and the instance's (empty for the top buffer), for records.
    source: String,
    buffer: String,
}

/// A region `--salvage` stepped over: in which input, buffer and CPU.
pub struct Damaged {
    pub input: usize,
    pub buffer: String,
    pub cpu: u32,
    pub skip: Skip,
}

/// A running report over one or more files.
pub struct Report {
    printer: Printer,
    /// Each input's `-F` filters (for all its buffers), None without any.
    filters: Vec<Option<Filters>>,
    opts: Options,
    sources: Vec<Source>,
    /// Text still to print before records (the `cpus=` lines, or a whole latency trace).
    head: Vec<u8>,
    done: bool,
    /// The sources by the time of their next record; built by the first `fill`.
    order: Option<KWay>,
    /// What the user should know: how each guest was lined up, or that it could not be.
    pub warnings: Vec<String>,
    /// `--ts-check`: the previous record's time.
    check_ts: u64,
    /// `-w`: the wakeup latencies measured.
    wakeup: Option<Wakeup>,
    /// With `salvage`: the regions stepped over, in the order their markers were printed
    /// (drained by the caller).
    pub skipped: Vec<Damaged>,
    /// The damage that ended the report after some of its text was written: the error of the
    /// next `fill`.
    failed: Option<InputError>,
    /// Records as JSON or CSV, when that is the format.
    encoder: Option<Encoder>,
    /// The time of the last record encoded (a damage record's).
    last_encoded_ts: u64,
    /// The record being printed, copied out (kept between records: no allocation per record).
    rec_data: Vec<u8>,
    /// Called every [`PACE`] records read (the caller lets go of the input pages read so far:
    /// a filter that keeps few records reads much input per chunk of text).
    pace: Option<Box<dyn FnMut()>>,
    read: u32,
    /// What the formatting threads need, when the lines are to print on them (started by the
    /// first `fill`), and the threads once started.
    setup: Option<parallel::Setup>,
    /// Boxed: every record takes it out and puts it back (see [`Report::one_with`]), which
    /// moves a pointer rather than the whole struct.
    parallel: Option<Box<Parallel>>,
    /// What the reader learns for the formatting threads, by event.
    lessons: parallel::Lessons,
}

/// Records read between two calls of a report's `pace`.
const PACE: u32 = 1 << 16;

/// The index of a file's top buffer.
fn top_index(t: &Trace) -> usize {
    t.buffers.iter().position(|b| b.name.is_empty()).unwrap_or(0)
}

/// Whether buffer `i` of a guest is on the clock of its top buffer (the one lined up).
fn same_clock(t: &Trace, i: usize) -> bool {
    t.buffers.get(i).map(|b| &b.clock) == t.buffers.get(top_index(t)).map(|b| &b.clock)
}

/// The clock of every guest (inputs after the first) that `sync` lines up otherwise than
/// trace-cmd does; None where trace-cmd's own way applies: its TIME_SHIFT, or a `--ts-offset`.
/// With `sync` None (trace-cmd's way) nothing is looked up. A guest with no source at all
/// keeps its own clock, with a warning.
fn guest_clocks(inputs: &[Input<'_>], sync: Option<Method>, pace: &mut dyn FnMut()) -> std::result::Result<(Vec<Option<GuestClock>>, Vec<String>), InputError> {
    let (Some(method), Some(host)) = (sync, inputs.first()) else { return Ok((Vec::new(), Vec::new())) };
    let needs_writes = inputs[1..].iter().any(|g| time_shift(g.trace, g.data).is_none() || method == Method::Kvm);
    let writes = if needs_writes { HostWrites::find(host.trace, host.data, pace).map_err(|e| (0, e))? } else { HostWrites::default() };
    let options = guest_options(host.trace, host.data);
    let mut clocks = vec![None];
    let mut warnings = Vec::new();
    for (gi, g) in inputs.iter().enumerate().skip(1) {
        let vcpus = vcpu_count(g.trace).map_err(|e| (gi, e))?;
        let pids = trace_id(g.trace, g.data).and_then(|id| vcpu_pids(&options, id)).map(|(_, p)| p);
        let name = base_name(g.name);
        let manual = Manual { ts_offset: g.ts_offset, ..Manual::default() };
        clocks.push(match guest_clock(&writes, g.trace, g.data, vcpus, pids.as_deref(), method, &manual) {
            // trace-cmd's own arithmetic, with the guest's own conversion after it.
            Ok(c) if matches!(c.source, SyncSource::TimeShift { .. } | SyncSource::SameClock) && method != Method::None => None,
            Ok(c) => {
                warnings.push(format!("{name}: lined up by {}", c.source));
                warnings.extend(c.notes.iter().map(|n| format!("{name}: {n}")));
                Some(c)
            }
            Err(NoSource(why)) => {
                warnings.push(format!("{name}: not lined up with the host ({why}); its times are its own clock's"));
                None
            }
        });
    }
    Ok((clocks, warnings))
}

/// The last component of a path, as trace-cmd's `add_handle` shortens names.
fn base_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// `%*s: ` (or `%*s  ` for an unnamed handle): the name of a line's handle, right-aligned.
fn name_prefix(name: &str, width: usize) -> Vec<u8> {
    if name.is_empty() {
        format!("{:width$}  ", "").into_bytes()
    } else {
        format!("{name:>width$}: ").into_bytes()
    }
}

impl Report {
    /// A report over `inputs` in trace-cmd's handle order: the top buffer of every file in
    /// argument order, then each file's instances. With one input, lines carry a prefix only
    /// when the file has instances (the top buffer's is blank); with several, every line and
    /// every `cpus=` line carries its file's (or instance's) name.
    pub fn new(inputs: &[Input<'_>], opts: Options, pace: &mut dyn FnMut()) -> std::result::Result<Report, StartError> {
        let multi = inputs.len() > 1;
        let latency = |t: &Trace| t.buffers.iter().position(|b| matches!(b.kind, BufferKind::Latency { .. }));
        if multi || opts.format != Format::Text {
            if let Some(i) = inputs.iter().position(|i| latency(i.trace).is_some()) {
                let why = if multi { "latency tracer text does not merge with other inputs" } else { "latency tracer text has no records to encode" };
                return Err((i, Error::new("report", 0, format!("a ring-buffer trace: {why}"))).into());
            }
        }
        let mut files = Vec::with_capacity(inputs.len());
        let mut filters_of = Vec::with_capacity(inputs.len());
        let mut head = Vec::new();
        let mut done = false;
        // trace-cmd's handles, (file, buffer index, name): every file's top buffer, then the
        // instances, added as each file is read, widening the name column from then on (as
        // trace-cmd's max_file_size grows).
        let mut tops = Vec::new();
        let mut instances: Vec<(usize, usize, String)> = Vec::new();
        let mut width = if multi { inputs.iter().map(|i| base_name(i.name).len()).max().unwrap_or(0) } else { 0 };
        for (fi, input) in inputs.iter().enumerate() {
            let (trace, data) = (input.trace, input.data);
            let cpus = trace.cpu_count(data);
            let tep = Tep::load(trace, data);
            let specs: Vec<Spec> = opts.filters.iter().chain(input.filters).cloned().collect();
            let filters = Filters::new(&specs, &tep).map_err(|e| StartError::Filter(fi, e))?;
            // With --ts2secs trace-cmd reads no v6 trace_clock trailer (even with --raw-ts).
            let ts2secs = input.ts2secs.or(opts.ts2secs).is_some();
            let usecs = in_usecs_ts2secs(trace, data, opts.raw_ts, ts2secs);
            let trace_clock = !ts2secs && trace.options.iter().any(|o| o.id == options::TRACECLOCK);
            let lat = LatFields::new(&tep);
            files.push(File { tep, time: TimeFmt::new(usecs, opts.nsec), trace_clock, lat });
            filters_of.push(filters);
            if opts.format == Format::Text {
                if multi {
                    head.extend_from_slice(&name_prefix(base_name(input.name), width));
                }
                head.extend_from_slice(format!("cpus={cpus}\n").as_bytes());
            }
            if let Some(i) = latency(trace) {
                head.extend_from_slice(&trace.latency_text(data, i).map_err(|e| (fi, e))?);
                head.push(b'\n');
                done = true;
                break;
            }
            match opts.only {
                Only::Records => {}
                Only::Stat => {
                    head.extend_from_slice(STAT_HEAD);
                    head.extend_from_slice(&stat::stat(trace, data, pace).map_err(|e| (fi, e))?);
                    continue;
                }
                Only::Uname => {
                    head.extend_from_slice(&stat::recorded(trace, data, options::UNAME));
                    head.extend_from_slice(&stat::recorded(trace, data, options::VERSION));
                    continue;
                }
                Only::Version => {
                    head.extend_from_slice(&stat::recorded(trace, data, options::VERSION));
                    continue;
                }
            }
            let flys = (0..trace.buffers.len()).filter(|&i| matches!(trace.buffers[i].kind, BufferKind::Flyrecord { .. }));
            for i in flys {
                let name = &trace.buffers[i].name;
                if opts.buffers.as_ref().is_some_and(|b| !b.contains(name)) {
                    continue;
                }
                if name.is_empty() {
                    tops.push((fi, i, if multi { base_name(input.name).to_string() } else { String::new() }));
                } else {
                    width = width.max(base_name(name).len());
                    instances.push((fi, i, base_name(name).to_string()));
                }
            }
        }
        if opts.only != Only::Records {
            done = true;
        }
        let prefixed = multi || !instances.is_empty();
        tops.extend(instances);
        let (guest_clocks, mut warnings) = if multi && !opts.raw_ts { guest_clocks(inputs, opts.sync, pace)? } else { (Vec::new(), Vec::new()) };
        // The writer bugs each file was read around.
        warnings.splice(0..0, inputs.iter().flat_map(|i| i.trace.warnings.iter().map(|w| format!("{}: {w}", i.name))));
        let mut sources = Vec::with_capacity(tops.len());
        let mut start = 0u32;
        // A buffer's records, its times moved by `by` more (`--align-ts`).
        let records_of = |fi: usize, i: usize, by: i64| -> std::result::Result<Records, InputError> {
            let Input { trace, data, ts_offset, ts2secs, .. } = inputs[fi];
            let guest = guest_clocks.get(fi).and_then(Option::as_ref).filter(|_| same_clock(trace, i));
            let mut clock = match (guest, inputs.first()) {
                // A guest on host time: the host's conversion after the guest's clock.
                (Some(_), Some(host)) => host.trace.clock_dated(host.data, top_index(host.trace), false, !opts.nodate).without_time_shift(),
                _ => trace.clock_dated(data, i, opts.raw_ts, !opts.nodate),
            };
            if !opts.raw_ts {
                if let Some(hz) = ts2secs.or(opts.ts2secs) {
                    clock = clock.with_ts2secs(hz);
                }
                clock = clock.shifted(ts_offset.wrapping_add(by));
            }
            let mut records = Records::new(trace, data, i, None, clock, opts.salvage).map_err(|e| (fi, e))?;
            if let Some(g) = guest {
                records.set_guest_clock(g);
            }
            Ok(records)
        };
        // trace-cmd's tracecmd_get_first_ts: the earliest first record of the files' top
        // buffers (not their instances), taken off every buffer's times.
        let mut align = 0i64;
        if opts.align_ts {
            let mut first: Option<u64> = None;
            for &(fi, i, _) in tops.iter().filter(|(fi, i, _)| inputs[*fi].trace.buffers[*i].name.is_empty()) {
                let data = inputs[fi].data;
                if let Some(ts) = records_of(fi, i, 0)?.next_ts(data).map_err(|e| (fi, e))? {
                    first = Some(first.map_or(ts, |f| f.min(ts)));
                }
            }
            align = first.map_or(0, |f| (f as i64).wrapping_neg());
        }
        for (fi, i, name) in tops {
            let Input { trace, data, .. } = inputs[fi];
            let records = records_of(fi, i, align)?;
            let prefix = if prefixed { name_prefix(&name, width) } else { Vec::new() };
            let source = base_name(inputs[fi].name).to_string();
            let buffer = base_name(&trace.buffers[i].name).to_string();
            sources.push(Source { file: fi, records, prefix, start_cpu: start, source, buffer });
            start = start.saturating_add(trace.cpu_count(data));
        }
        let vcpus = match inputs.split_first() {
            Some((host, guests)) if multi => VcpuThreads::new((host.trace, host.data), guests.iter().enumerate().map(|(i, g)| (i + 1, g.trace, g.data))),
            _ => VcpuThreads::default(),
        };
        let wakeup = if opts.wakeup { files.first().and_then(|f| Wakeup::new(&f.tep)) } else { None };
        let encoder = (opts.format != Format::Text).then(|| {
            let mut e = Encoder::new(opts.format);
            e.files = opts.out_dir.clone().filter(|_| opts.format == Format::Csv).map(EventFiles::new);
            e
        });
        let flags = Flags { raw: opts.raw, nsec: opts.nsec, latency: opts.latency, ts_diff: opts.ts_diff };
        // Lines whose printing depends only on the records before them in order: not -w's
        // (which appends to them), salvage's markers or one CSV file per event's.
        let big = inputs.iter().map(|i| i.data.len()).sum::<usize>() >= parallel::MIN_INPUT;
        let threads = opts.parallel.unwrap_or(big) && !done && opts.out_dir.is_none() && !opts.wakeup && !opts.salvage;
        let setup = threads.then(|| parallel::Setup {
            files: inputs.iter().zip(&files).map(|(i, f)| (TepTexts::of(i.trace, i.data), f.time, f.trace_clock, f.lat)).collect(),
            vcpus: vcpus.clone(),
            flags,
            sources: sources.iter().map(|s| (s.file, s.prefix.clone())).collect(),
            format: opts.format,
            names: sources.iter().map(|s| (s.source.clone(), s.buffer.clone())).collect(),
        });
        Ok(Report {
            printer: Printer { files, stacks: FuncStacks::default(), vcpus, flags, last_ts: 0 },
            filters: filters_of,
            opts,
            sources,
            head,
            done,
            order: None,
            warnings,
            skipped: Vec::new(),
            failed: None,
            encoder,
            last_encoded_ts: 0,
            check_ts: 0,
            wakeup,
            rec_data: Vec::new(),
            pace: None,
            read: 0,
            setup,
            parallel: None,
            lessons: parallel::Lessons::default(),
        })
    }

    /// Appends the next lines to `out` until it holds at least `min` bytes or the report
    /// ends; false once everything has been written. `data` holds the inputs' bytes in order.
    /// Damage is an error once the lines before it have been returned.
    pub fn fill(&mut self, data: &[&[u8]], out: &mut Vec<u8>, min: usize) -> std::result::Result<bool, InputError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let start = out.len();
        match self.fill_lines(data, out, min) {
            Err(e) if out.len() > start => {
                self.failed = Some(e);
                Ok(true)
            }
            r => r,
        }
    }

    /// With `salvage`: a marker line for each region source `si` stepped over since the last
    /// call, kept in `skipped`.
    fn markers(&mut self, si: usize, out: &mut Vec<u8>) {
        let src = &mut self.sources[si];
        for c in &mut src.records.cpus {
            let cpu = c.cpu();
            for skip in c.skipped.drain(..) {
                if self.opts.cpus.as_ref().is_none_or(|l| l.contains(&src.start_cpu.saturating_add(cpu))) {
                    if let Some(enc) = self.encoder.as_mut() {
                        // A record of its own, at the time of the last record written before it.
                        enc.damaged(&Common { ts: self.last_encoded_ts, source: &src.source, buffer: &src.buffer, cpu }, skip.bytes, skip.at, out);
                    } else {
                        out.extend_from_slice(&src.prefix);
                        out.extend_from_slice(format!("CPU:{cpu} [DAMAGED: {} bytes skipped at offset {}]\n", skip.bytes, skip.at).as_bytes());
                    }
                }
                self.skipped.push(Damaged { input: src.file, buffer: src.buffer.clone(), cpu, skip });
            }
        }
    }

    fn fill_lines(&mut self, data: &[&[u8]], out: &mut Vec<u8>, min: usize) -> std::result::Result<bool, InputError> {
        if !self.head.is_empty() {
            out.append(&mut self.head);
        }
        if self.done {
            return Ok(false);
        }
        let r = self.records(data, out, min);
        if matches!(r, Ok(true)) {
            return r;
        }
        // The end, or damage: the lines still formatting on the thread come first.
        self.stop_parallel(out);
        r?;
        self.done = true;
        if let Some(w) = &self.wakeup {
            w.summary(out);
        }
        Ok(false)
    }

    /// Lines of records until `out` holds `min` bytes (true) or the records end (false).
    fn records(&mut self, data: &[&[u8]], out: &mut Vec<u8>, min: usize) -> std::result::Result<bool, InputError> {
        if self.order.is_none() {
            let sources = &mut self.sources;
            let bytes = |s: &Source| data.get(s.file).copied().unwrap_or(&[]);
            self.order = Some(KWay::build(sources.len(), |i| {
                let s = &mut sources[i];
                s.records.next_ts(bytes(s)).map_err(|e| (s.file, e))
            })?);
            for si in 0..self.sources.len() {
                self.markers(si, out);
            }
            self.parallel = self.setup.take().and_then(|s| Parallel::start(s, &self.printer)).map(Box::new);
        }
        // (A per-event CSV file that cannot be written stops the report.)
        while out.len() < min && self.encoder.as_ref().and_then(|e| e.files.as_ref()).is_none_or(|f| f.error.is_none()) {
            // The buffer whose next record comes first (ties: the earlier buffer).
            let Some((_, si)) = self.order.as_mut().and_then(KWay::pop) else { return Ok(false) };
            let fi = self.sources[si].file;
            let bytes = data.get(fi).copied().unwrap_or(&[]);
            let alone = self.order.as_ref().is_none_or(|o| o.peek().is_none());
            if alone && self.parallel.is_some() {
                self.run(bytes, si, out, min).map_err(|e| (fi, e))?;
                let next = self.sources[si].records.next_ts(bytes).map_err(|e| (fi, e))?;
                self.order.get_or_insert_with(KWay::default).put_back(si, next);
                continue;
            }
            self.one(bytes, si, out).map_err(|e| (fi, e))?;
            let next = self.sources[si].records.next_ts(bytes).map_err(|e| (fi, e))?;
            // (Only salvage steps over damage: without it there is nothing to mark.)
            if self.opts.salvage {
                self.markers(si, out);
            }
            self.order.get_or_insert_with(KWay::default).put_back(si, next);
            self.read = self.read.wrapping_add(1);
            if self.read.is_multiple_of(PACE) {
                if let Some(f) = &mut self.pace {
                    f();
                }
            }
        }
        Ok(true)
    }

    /// Ends the formatting threads, if they run: their lines are appended to `out`, and the
    /// function stacks they followed are this printer's from here on (its comms and
    /// `--ts-diff`'s time it kept as they went, see `queue`).
    fn stop_parallel(&mut self, out: &mut Vec<u8>) {
        let Some(p) = self.parallel.take() else { return };
        self.printer.stacks = (*p).finish(&self.printer, out);
    }

    /// Calls `f` every few thousand records read.
    pub fn pacing(&mut self, f: impl FnMut() + 'static) {
        self.pace = Some(Box::new(f));
    }

    fn one(&mut self, data: &[u8], si: usize, out: &mut Vec<u8>) -> Result<()> {
        let mut rec_data = std::mem::take(&mut self.rec_data);
        let r = self.one_with(data, si, &mut rec_data, out);
        self.rec_data = rec_data;
        r
    }

    /// [`Report::one`] with the scratch bytes for the record's copy.
    fn one_with(&mut self, data: &[u8], si: usize, rec_data: &mut Vec<u8>, out: &mut Vec<u8>) -> Result<()> {
        rec_data.clear();
        let taken = match self.parallel.take() {
            Some(mut par) => {
                let queued = self.queue(&mut par, data, si, rec_data, out);
                self.parallel = Some(par);
                let Some(t) = queued? else { return Ok(()) };
                // A function_graph entry, which looks at the record after it: in order here.
                self.stop_parallel(out);
                t
            }
            None => match self.take(data, si, rec_data)? {
                Some(t) => t,
                None => return Ok(()),
            },
        };
        self.print(data, si, rec_data, taken, out)
    }

    /// With formatting threads and source `si` the only one left: its records handed over in
    /// runs (see [`Records::take_while`]) until `out` holds `min` bytes, each through the
    /// steps [`Report::queue`] takes one record through, without the merge of the sources
    /// around each. A function_graph entry ends the run and prints in order, as in
    /// [`Report::one_with`].
    fn run(&mut self, data: &[u8], si: usize, out: &mut Vec<u8>, min: usize) -> Result<()> {
        let Some(mut par) = self.parallel.take() else { return Ok(()) };
        let mut rec_data = std::mem::take(&mut self.rec_data);
        rec_data.clear();
        let Report { sources, printer, filters, opts, check_ts, warnings, encoder, read, pace, lessons, .. } = self;
        let src = &mut sources[si];
        let (fi, start_cpu) = (src.file, src.start_cpu);
        let filters = &mut filters[fi];
        let encoded = encoder.is_some();
        let mut in_order = None;
        let taken = src.records.take_while(data, |r| {
            *read = read.wrapping_add(1);
            if read.is_multiple_of(PACE) {
                if let Some(f) = pace.as_mut() {
                    f();
                }
            }
            let bytes = par.bytes();
            let start = bytes.len();
            let Some(t) = pick(&r, &printer.files[fi].tep, filters, opts, start_cpu, bytes) else { return out.len() < min };
            check_time(opts, check_ts, warnings, &t);
            in_order = hand_over(printer, lessons, &mut par, opts, encoded, (fi, si), t, start, &mut rec_data, out);
            in_order.is_none() && out.len() < min
        });
        self.parallel = Some(par);
        let printed = match (taken, in_order) {
            (Err(e), _) => Err(e),
            (Ok(_), None) => Ok(()),
            (Ok(_), Some(t)) => {
                self.stop_parallel(out);
                self.print(data, si, &rec_data, t, out)
            }
        };
        self.rec_data = rec_data;
        printed
    }

    /// The next record of source `si` when it is to print, its bytes appended to `buf` (see
    /// [`pick`] and [`check_time`]).
    fn take(&mut self, data: &[u8], si: usize, buf: &mut Vec<u8>) -> Result<Option<Taken>> {
        let fi = self.sources[si].file;
        let tep = &self.printer.files[fi].tep;
        let (filters, opts, src) = (&mut self.filters[fi], &self.opts, &mut self.sources[si]);
        let start_cpu = src.start_cpu;
        let Some(Some(t)) = src.records.next_with(data, |r| pick(&r, tep, filters, opts, start_cpu, buf))? else { return Ok(None) };
        check_time(&self.opts, &mut self.check_ts, &mut self.warnings, &t);
        Ok(Some(t))
    }

    /// With formatting threads: the next record of source `si` into the chunk being filled
    /// (see [`hand_over`]), or, for a function_graph entry, its bytes into `rec_data` and
    /// itself returned, to print here once the threads have stopped.
    fn queue(&mut self, par: &mut Parallel, data: &[u8], si: usize, rec_data: &mut Vec<u8>, out: &mut Vec<u8>) -> Result<Option<Taken>> {
        let start = par.bytes().len();
        let Some(t) = self.take(data, si, par.bytes())? else { return Ok(None) };
        let fi = self.sources[si].file;
        Ok(hand_over(&mut self.printer, &mut self.lessons, par, &self.opts, self.encoder.is_some(), (fi, si), t, start, rec_data, out))
    }

    /// A record taken, printed in order: as JSON or CSV, or as its line (with -w's latency).
    fn print(&mut self, data: &[u8], si: usize, rec: &[u8], t: Taken, out: &mut Vec<u8>) -> Result<()> {
        let Taken { ts, cpu, missed, size, ev } = t;
        let fi = self.sources[si].file;
        if self.encoder.is_some() {
            self.record(fi, si, rec, size, ts, cpu, missed, ev, out);
            return Ok(());
        }
        // The next record, for function_graph's leaf folding.
        let tep = &self.printer.files[fi].tep;
        let mut next = None;
        if !self.opts.raw && ev.is_some_and(|e| tep.events[e].handler == Handler::FgraphEntry) {
            // Damage after this record ends the report after its line: the next call meets it.
            next = self.sources[si].records.peek_with(data, |r| r.data.to_vec()).ok().flatten();
        }
        let r = Rec { data: rec, size, ts, cpu, missed, ev, next: next.as_deref() };
        if self.printer.put(&self.sources[si].prefix, fi, r, out) {
            self.sources[si].records.next_with(data, |_| ())?;
        }
        if let (Some(w), Some(e)) = (self.wakeup.as_mut(), ev) {
            w.record(self.printer.files[fi].tep.events[e].id, rec, ts, out);
        }
        out.push(b'\n');
        Ok(())
    }

    /// With one CSV file per event: renames the complete files into place (after the last
    /// `fill`, or the first failure to write one); the paths written. None in other formats.
    pub fn finish_files(&mut self) -> Option<std::result::Result<Vec<std::path::PathBuf>, TargetError>> {
        self.encoder.as_mut().and_then(|e| e.files.take()).map(EventFiles::finish)
    }

    /// One record as JSON or CSV (every record on its own: no function_graph leaf folding),
    /// its lost events before it as a record of their own. The handlers that teach the comm
    /// table names (sched_switch, sched_wakeup) run as for the text, after the record's comm is
    /// taken, so that comms are the text's.
    #[allow(clippy::too_many_arguments)]
    fn record(&mut self, fi: usize, si: usize, data: &[u8], size: usize, ts: u64, cpu: u32, missed: i64, ev: Option<usize>, out: &mut Vec<u8>) {
        let Some(enc) = self.encoder.as_mut() else { return };
        self.last_encoded_ts = ts;
        let src = &self.sources[si];
        let common = Common { ts, source: &src.source, buffer: &src.buffer, cpu };
        enc.encode(&common, fi, &mut self.printer.files[fi].tep, ev, data, size, missed, !self.opts.raw, out);
    }
}

/// Whether report prints record `r` of a buffer of input `tep` whose first CPU number is
/// `start_cpu`: trace-cmd's library filters before report's --cpu test, decided on the record
/// in its page, so that only the records kept are copied (their bytes appended to `buf`, with
/// what follows them up to the event table's extent: fields past a record's end are read from
/// what follows it, as in C).
#[inline(always)]
fn pick(r: &Record<'_>, tep: &Tep, filters: &mut Option<Filters>, opts: &Options, start_cpu: u32, buf: &mut Vec<u8>) -> Option<Taken> {
    let rec = r.rest.get(..r.data.len().max(tep.extent)).unwrap_or(r.rest);
    let ev = tep.event_of(rec);
    let global_cpu = start_cpu.saturating_add(r.cpu);
    if filters.as_mut().is_some_and(|f| !f.keep(tep, ev, rec, r.cpu)) || opts.cpus.as_ref().is_some_and(|c| !c.contains(&global_cpu)) {
        return None;
    }
    buf.extend_from_slice(rec);
    Some(Taken { ts: r.ts, cpu: r.cpu, missed: r.missed, size: r.data.len(), ev })
}

/// `--ts-check`'s warning for a record kept whose time is before the last one's.
fn check_time(opts: &Options, last: &mut u64, warnings: &mut Vec<String>, t: &Taken) {
    if opts.ts_check && *last > t.ts {
        let (was, d) = (*last as i64, last.wrapping_sub(t.ts) as i64);
        warnings.push(format!("WARNING: Record on cpu {} went backwards: {was} to {} delta: -{d}", t.cpu, t.ts as i64));
    }
    *last = t.ts;
}

/// A record kept (of input `fi`, source `si`), whose bytes the chunk being filled holds from
/// `start`, handed to the formatting threads; or, for a function_graph entry, its bytes moved
/// to `rec_data` and itself returned, to print in order. What the record's line will teach
/// (comms, `--ts-diff`'s time) is learned here too, for the chunks to take along; a function
/// record pins the chunks to one thread (see [`parallel`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn hand_over(
    printer: &mut Printer,
    lessons: &mut parallel::Lessons,
    par: &mut Parallel,
    opts: &Options,
    encoded: bool,
    (fi, si): (usize, usize),
    t: Taken,
    start: usize,
    rec_data: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Option<Taken> {
    let bytes = par.bytes();
    let handler = t.ev.map(|e| printer.files[fi].tep.events[e].handler);
    if handler == Some(Handler::FgraphEntry) && !encoded && !opts.raw {
        rec_data.extend_from_slice(bytes.get(start..).unwrap_or(&[]));
        bytes.truncate(start);
        return Some(t);
    }
    // This table learns what the lines will teach theirs (not with -R, which runs no
    // handler): the filters here may test comms, and the formatting threads catch up with
    // each other from it.
    let data = bytes.get(start..).unwrap_or(&[]);
    if lessons.learn(fi, &mut printer.files[fi].tep, t.ev, data, !opts.raw, !encoded) {
        par.pin();
    }
    if opts.ts_diff && t.ev.is_some() {
        // The time Line::print keeps for the next line's --ts-diff (microseconds on a trace
        // clock unless -t; not at an unknown event's line).
        let micros = printer.files[fi].trace_clock && !opts.nsec;
        printer.last_ts = if micros { t.ts.wrapping_add(500) / 1000 } else { t.ts };
    }
    par.push(si, t, printer, out);
    None
}

/// A record read and kept by the filters: its time, CPU, the events lost before it, its size
/// and event.
#[derive(Clone, Copy)]
pub(crate) struct Taken {
    pub ts: u64,
    pub cpu: u32,
    pub missed: i64,
    pub size: usize,
    pub ev: Option<usize>,
}

impl Printer {
    /// trace_show_data for one record of input `fi`; true when a following record was consumed.
    fn line(&mut self, fi: usize, r: Rec<'_>, s: &mut Vec<u8>) -> bool {
        let guest = self.vcpus.guest_of(self.files[fi].tep.pid_of(r.data));
        let guest_self = guest == Some(fi);
        let (File { tep, time, trace_clock, lat }, guest) = split_file(&mut self.files, fi, guest);
        let Flags { raw, nsec, latency, ts_diff } = self.flags;
        let line = Line {
            raw,
            time: *time,
            guest,
            guest_self,
            latency: latency.then_some(&*lat),
            ts_diff: ts_diff.then_some((&mut self.last_ts, *trace_clock && !nsec)),
        };
        line.print(tep, &mut self.stacks, r, s)
    }

    /// A record's line at the end of `out` after `prefix`, without its newline; true when a
    /// following record (`r.next`) was consumed.
    pub fn put(&mut self, prefix: &[u8], fi: usize, r: Rec<'_>, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        // (Most reports' lines have none: no memcpy call for it.)
        if !prefix.is_empty() {
            out.extend_from_slice(prefix);
        }
        let consumed = self.line(fi, r, out);
        if out.len() > start && out.last() == Some(&b'\n') {
            out.pop();
        }
        consumed
    }
}

/// One record as [`Line::print`] takes it: its bytes (`size` of them its own, the rest what
/// follows it in its page), time, CPU, the events lost before it, its event, and the next
/// record of its buffer (for function_graph's leaf folding).
pub struct Rec<'a> {
    pub data: &'a [u8],
    pub size: usize,
    pub ts: u64,
    pub cpu: u32,
    pub missed: i64,
    pub ev: Option<usize>,
    pub next: Option<&'a [u8]>,
}

/// How a record's line prints: raw fields (`-R`) or not, its time format, the kallsyms of the
/// guest whose vCPU thread wrote it (`guest_self`: the file's own), for the kvm events, and
/// report's display flags.
pub struct Line<'a> {
    pub raw: bool,
    pub time: TimeFmt,
    pub guest: Option<&'a Funcs>,
    pub guest_self: bool,
    /// `-l`: the latency columns, read by these fields, in place of `[CPU]`.
    pub latency: Option<&'a LatFields>,
    /// `--ts-diff`: the previous line's time (updated) and whether times count in
    /// microseconds (a trace clock without `-t`).
    pub ts_diff: Option<(&'a mut u64, bool)>,
}

impl Line<'_> {
    /// trace_show_data for one record of the file `tep` holds; true when `r.next` was consumed.
    pub fn print(self, tep: &mut Tep, stacks: &mut FuncStacks, r: Rec<'_>, s: &mut Vec<u8>) -> bool {
        let Rec { data, size, ts, cpu, missed, ev, next } = r;
        let Line { raw, time, guest, guest_self, latency, ts_diff } = self;
        let time = &time;
        if missed > 0 {
            cprintf::printf(s, b"CPU:%d [%lld EVENTS DROPPED]\n", &[C::Int(cpu as u64), C::Int(missed as u64)]);
        } else if missed < 0 {
            cprintf::printf(s, b"CPU:%d [EVENTS DROPPED]\n", &[C::Int(cpu as u64)]);
        }
        let Some(ei) = ev else {
            s.extend_from_slice(b"[UNKNOWN EVENT][UNKNOWN EVENT] (NULL):               [UNKNOWN EVENT]");
            return false;
        };
        let pid = tep.pid_of(data);
        let comm = tep.comms.find(pid);
        if let Some(lat) = latency {
            cprintf::printf(s, b"%8.8s-%-5d %3d", &[C::Str(comm), C::Int(pid as i64 as u64), C::Int(cpu as u64)]);
            if raw {
                cprintf::printf(s, b"-0x%x", &[C::Int(u64::from(lat.flags(tep.endian, data)))]);
            } else {
                lat.write(tep.endian, data, s);
            }
        } else {
            // "%16s-%-5d [%03d]"
            cprintf::put_str(s, comm, 16, false);
            s.push(b'-');
            cprintf::put_signed_left(s, i64::from(pid), 5);
            s.extend_from_slice(b" [");
            cprintf::put_zero_signed(s, i64::from(cpu as i32), 3);
            s.push(b']');
        }
        if time.div == 0 && time.prec == 12 {
            time.print(ts, s);
        } else {
            s.push(b' ');
            time.print(ts, s);
        }
        s.push(b':');
        if let Some((last, micros)) = ts_diff {
            // trace-cmd's --ts-diff: microseconds on a trace clock unless -t, one static
            // previous time over all buffers, the difference printed as a signed number.
            let rec_ts = if micros { ts.wrapping_add(500) / 1000 } else { ts };
            let diff = if *last != 0 { format!("(+{})", rec_ts.wrapping_sub(*last) as i64) } else { String::new() };
            *last = rec_ts;
            s.extend_from_slice(format!(" {diff:<8}").as_bytes());
        }
        let name = tep.events[ei].name.as_bytes();
        s.push(b' ');
        s.extend_from_slice(name);
        // ": " and the name padded to 20: a copy of constant size cut to its length (no
        // memset call).
        let at = s.len();
        s.extend_from_slice(b":                     ");
        s.truncate(at + 2 + 20usize.saturating_sub(name.len()));
        let (endian, long_size) = tep.ctx();
        let ctx = Ctx { size, endian, long_size, funcs: &tep.funcs, printk: &tep.printk };
        let ev = &mut tep.events[ei];
        if raw {
            let nr = ev.nr_common;
            let (prog, fields) = ev.compiled(long_size);
            Eval { prog, fields }.fields_raw(&ctx, data, nr, s);
            return false;
        }
        let mut consumed = false;
        let mut pretty = true;
        if ev.handler != Handler::None {
            let graph_ret = if matches!(ev.handler, Handler::FgraphEntry | Handler::FgraphExit) { Some(()) } else { None };
            let events = &tep.events;
            let ret = graph_ret.and_then(|_| events.iter().find(|e| e.system == "ftrace" && e.name == "funcgraph_exit"));
            let ev = &events[ei];
            let mut env = plugins::Env {
                ctx: &ctx,
                comms: &mut tep.comms,
                stacks,
                cpu,
                ts,
                time_fmt: *time,
                graph_ret: ret.map(|r| GraphRet { id: r.id, fields: plugins::Fields { all: &r.fields, nr_common: r.nr_common } }),
                next,
                consumed: false,
                guest: guest.or(guest_self.then_some(&tep.funcs)),
                slots: &ev.slots,
            };
            let fields = plugins::Fields { all: &ev.fields, nr_common: ev.nr_common };
            pretty = plugins::run(ev.handler, &fields, data, &mut env, s);
            consumed = env.consumed;
        }
        if pretty {
            let ev = &mut tep.events[ei];
            let (nr, bprint) = (ev.nr_common, ev.bprint);
            let (prog, fields) = ev.compiled(long_size);
            if prog.failed {
                s.extend_from_slice(b"[FAILED TO PARSE]");
                Eval { prog, fields }.fields_raw(&ctx, data, nr, s);
            } else if bprint {
                let mut prog = print_fmt::bprint_program(&ctx, data, fields, nr);
                let mut fields = fields.clone();
                Eval { prog: &mut prog, fields: &mut fields }.pretty(&ctx, data, s);
            } else {
                Eval { prog, fields }.pretty(&ctx, data, s);
            }
        }
        consumed
    }
}

/// What `--stat` prints before each file's statistics.
const STAT_HEAD: &[u8] = b"\nKernel buffer statistics:\n  Note: \"entries\" are the entries left in the kernel ring buffer and are not\n        recorded in the trace data. They should all be zero.\n\n";

/// `files[fi]`, to print a record of, and the kallsyms of another file `guest` names.
fn split_file(files: &mut [File], fi: usize, guest: Option<usize>) -> (&mut File, Option<&Funcs>) {
    match guest {
        Some(g) if g < fi => {
            let (a, b) = files.split_at_mut(fi);
            (&mut b[0], Some(&a[g].tep.funcs))
        }
        Some(g) if g > fi => {
            let (a, b) = files.split_at_mut(g);
            (&mut a[fi], Some(&b[0].tep.funcs))
        }
        _ => (&mut files[fi], None),
    }
}

/// `--cpus` / `--first-event` / `--last-event`: the CPUs of the top buffer with data.
pub fn cpus_listing(trace: &Trace, data: &[u8], file: &str, first: bool, last: bool, raw_ts: bool, nsec: bool) -> Result<Vec<u8>> {
    if trace.buffers.iter().any(|b| matches!(b.kind, BufferKind::Latency { .. })) {
        // trace-cmd 3.1.6 dereferences missing CPU data here and crashes without output.
        return Err(Error::new("report --cpus", 0, "ring-buffer CPU data; this is a latency trace, which holds text only"));
    }
    let mut out = format!("List of CPUs in {file} with data:\n").into_bytes();
    let cpus = trace.cpu_count(data);
    let usecs = in_usecs(trace, data, raw_ts);
    let tf = TimeFmt::new(usecs, nsec);
    let Some(top) = trace.buffers.iter().position(|b| b.name.is_empty() && matches!(b.kind, BufferKind::Flyrecord { .. })) else {
        return Ok(out);
    };
    for cpu in 0..cpus {
        let clock = trace.clock(data, top, raw_ts);
        let mut r = Records::new(trace, data, top, Some(&[cpu]), clock, false)?;
        let Some(first_ts) = r.next_with(data, |r| r.ts)? else { continue };
        cprintf::printf(&mut out, b"  %d", &[C::Int(cpu as u64)]);
        if first {
            out.extend_from_slice(b"\tFirst event:");
            tf.print(first_ts, &mut out);
        }
        if last {
            let mut last_ts = first_ts;
            while let Some(t) = r.next_with(data, |r| r.ts)? {
                last_ts = t;
            }
            out.extend_from_slice(b"\tLast event:");
            tf.print(last_ts, &mut out);
        }
        out.push(b'\n');
    }
    Ok(out)
}
