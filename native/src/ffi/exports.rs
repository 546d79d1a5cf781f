//! The N-API surface: every function JavaScript calls, each taking handles, Buffers, numbers
//! and strings, and giving back Buffers, JSON text or Promises.

use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

use crate::explain;
use crate::ffi::fd::write_fd;
use crate::ffi::napi::{self, Args, Env, Field, JsError, JsResult, RawEnv, RawValue};
use crate::ffi::source::Source;
use crate::format::{bytes, clib, compression, error, file, options};
use crate::merge;
use crate::out::record::Format;
use crate::out::{dump, info, json, report, scan, tables};
use crate::ring::{columns, records, validate};
use crate::tep::filter;
use crate::time::sync::Method;
use crate::write::{self, output, progress, writer};

/// An opened trace: its bytes and the map of its layout.
pub struct Opened {
    source: Source,
    trace: file::Trace,
    /// The path a mapped file was opened by, with its (device, inode) then: the file a
    /// conversion never writes over, and reopens for reading (no descriptor is kept open).
    path: Option<(String, (u64, u64))>,
}

type Handle = Arc<Opened>;

impl From<error::Error> for JsError {
    fn from(e: error::Error) -> JsError {
        JsError {
            code: "ERR_TRACEDAT_FORMAT",
            message: e.to_string(),
            fields: vec![("section", Field::Str(e.section)), ("offset", Field::Num(e.offset as f64)), ("expected", Field::Str(e.expected))],
        }
    }
}

fn opened(source: Source, path: Option<(String, (u64, u64))>) -> Result<Handle, JsError> {
    let trace = file::Trace::parse(source.bytes())?;
    Ok(Arc::new(Opened { source, trace, path }))
}

/// `open(path)`: maps the file read-only and parses its layout.
fn open(env: Env, args: &Args) -> JsResult {
    let path = args.string(0)?;
    let source = Source::open(&path).map_err(|e| JsError {
        code: "ERR_TRACEDAT_IO",
        message: format!("cannot open: {e}"),
        fields: vec![("errno", Field::Num(e.raw_os_error().unwrap_or(0) as f64))],
    })?;
    let id = std::fs::metadata(&path).ok().map(|m| (path.clone(), (m.dev(), m.ino())));
    env.external(opened(source, id)?)
}

/// `openBytes(buffer)`: parses a copy of a Buffer (e.g. a .zip member).
fn open_bytes(env: Env, args: &Args) -> JsResult {
    let bytes = args.buffer(0)?.to_vec();
    env.external(opened(Source::Owned(bytes), None)?)
}

/// `dump(handle, verbosity, fileName)` → `{ out: Buffer, error?: Error }`.
fn dump(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    let verbosity = args.index(1)? as u32;
    let name = args.string(2)?;
    let (out, err) = dump::dump(&h.trace, h.source.bytes(), &name, verbosity);
    let out = env.buffer(&out)?;
    match err {
        None => env.object(&[("out", out)]),
        Some(e) => {
            let e = JsError::from(e);
            let message = env.string(&e.message)?;
            let mut fields = vec![("out", out), ("message", message)];
            let mut values = Vec::new();
            for (name, f) in &e.fields {
                values.push((
                    *name,
                    match f {
                        Field::Str(s) => env.string(s)?,
                        Field::Num(n) => env.number(*n)?,
                    },
                ));
            }
            fields.extend(values);
            env.object(&fields)
        }
    }
}

/// `info(handle)` → the file's metadata as JSON.
fn info(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    env.string(&info::info(&h.trace, h.source.bytes()))
}

/// `constants()` → the layouts, option ids and dump items the TypeScript layer uses, as JSON.
fn constants(env: Env, _args: &Args) -> JsResult {
    env.string(&crate::ffi::constants::json())
}

/// `warnings(handle)` → the known writer bugs the file was read around, one line each.
fn warnings(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    env.string(&h.trace.warnings.join("\n"))
}

/// `formats(handle)` → every event format, parsed into fields, as JSON.
fn formats(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    env.string(&info::formats(&h.trace, h.source.bytes()))
}

/// `commonOffset(handle, name)` → the offset of a common field in the file's records
/// ([`file::Trace::common_field`]), undefined when no format has it.
fn common_offset(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    match h.trace.common_field(h.source.bytes(), &args.string(1)?) {
        Some((offset, _)) => env.number(offset.into()),
        None => env.undefined(),
    }
}

/// A record cursor: the file it reads and its per-CPU state.
struct RecordCursor {
    opened: Handle,
    records: records::Records,
}

/// `records(handle, buffer, cpus, raw, salvage?)` → a cursor over one buffer's records in
/// time order. `cpus` is a comma-separated list of CPU numbers, or "" for all; `raw` keeps
/// ring-buffer timestamps (trace-cmd's --raw-ts); `salvage` steps over damaged pages and
/// chunks (see `skipped`) instead of failing.
fn records(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    let buffer = args.index(1)?;
    let cpus = parse_cpus(&args.string(2)?)?;
    let raw = args.boolean(3)?;
    let salvage = !args.is_nullish(4) && args.boolean(4)?;
    let data = h.source.bytes();
    let clock = h.trace.clock(data, buffer, raw);
    let records = records::Records::new(&h.trace, data, buffer, cpus.as_deref(), clock, salvage)?;
    env.external_mut(RecordCursor { opened: h, records })
}

fn parse_cpus(s: &str) -> Result<Option<Vec<u32>>, JsError> {
    if s.is_empty() {
        return Ok(None);
    }
    s.split(',').map(|c| c.trim().parse::<u32>().map_err(|_| JsError::usage(format!("bad CPU number '{c}'")))).collect::<Result<Vec<_>, _>>().map(Some)
}

/// `nextBatch(cursor, maxRecords)` → a Buffer of encoded records (see records::encode), empty
/// at the end. Damage ends a batch after the records before it and is the next call's error.
fn next_batch(env: Env, args: &Args) -> JsResult {
    let c = &mut *args.external_mut::<RecordCursor>(0)?;
    let max = args.index(1)?.clamp(1, 1 << 20);
    let data = c.opened.source.bytes();
    let mut out = Vec::with_capacity(64 * 1024);
    for _ in 0..max {
        match c.records.next_with(data, |r| records::encode(&mut out, &r)) {
            Ok(Some(())) => {}
            Ok(None) => break,
            // The records before the damage go out first; the next call meets it again.
            Err(_) if !out.is_empty() => break,
            Err(e) => return Err(e.into()),
        }
        if out.len() >= 4 << 20 {
            break;
        }
    }
    c.opened.source.shed();
    env.buffer(&out)
}

/// `fillBatch(cursor, columns, capacity, pidOffset)` → how many records (at most `capacity`,
/// 0 at the end) were written into `columns`, a Buffer or typed array laid out as
/// [`columns`](crate::ring::columns) says, reused from batch to batch. Damage ends a batch
/// after the records before it and is the next call's error.
fn fill_batch(env: Env, args: &Args) -> JsResult {
    let c = &mut *args.external_mut::<RecordCursor>(0)?;
    let buf = args.buffer_mut(1)?;
    let capacity = args.index(2)?;
    let pid_offset = args.index(3)?;
    let data = c.opened.source.bytes();
    let n = columns::fill(&mut c.records, data, buf, capacity, c.opened.trace.endian, pid_offset)?;
    c.opened.source.shed();
    env.number(n as f64)
}

/// `skipped(cursor)` → JSON of what a salvaging cursor stepped over since the last call (see
/// [`scan::skipped`]).
fn skipped(env: Env, args: &Args) -> JsResult {
    let c = &mut *args.external_mut::<RecordCursor>(0)?;
    env.string(&scan::skipped(&mut c.records))
}

/// `scanAsync(handle, salvage?)` → a Promise of what `scan` returns, computed on the thread
/// pool.
fn scan_async(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    let salvage = !args.is_nullish(1) && args.boolean(1)?;
    env.spawn(move || scan::scan(&h.trace, h.source.bytes(), salvage).map_err(JsError::from), |env, json: String| env.string(&json))
}

/// `scan(handle, salvage?)` → JSON per buffer and CPU (see [`scan::scan`]): the deep
/// validation of `dump -v`, throwing the first damaged page, or with `salvage` listing it.
fn scan(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    let salvage = !args.is_nullish(1) && args.boolean(1)?;
    env.string(&scan::scan(&h.trace, h.source.bytes(), salvage)?)
}

/// `text(handle, which, buffer)` → a raw metadata text as a Buffer: "headerPage",
/// "headerEvent", "kallsyms", "printk", "cmdlines", or "latency" (of buffer `buffer`).
fn text(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    let which = args.string(1)?;
    let data = h.source.bytes();
    let t = &h.trace;
    let pick = |id| t.content(id);
    let bytes: &[u8] = match which.as_str() {
        "latency" => return env.buffer(&t.latency_text(data, args.index(2)?)?),
        "headerPage" | "headerEvent" => match pick(options::HEADER_INFO) {
            Some(file::Content::Headers { page, event }) => t.bytes(data, if which == "headerPage" { page } else { event }),
            _ => &[],
        },
        "kallsyms" => match pick(options::KALLSYMS) {
            Some(file::Content::Kallsyms(x)) => t.bytes(data, x),
            _ => &[],
        },
        "printk" => match pick(options::PRINTK) {
            Some(file::Content::Printk(x)) => t.bytes(data, x),
            _ => &[],
        },
        "cmdlines" => match pick(options::CMDLINES) {
            Some(file::Content::Cmdlines(x)) => t.bytes(data, x),
            _ => &[],
        },
        _ => return Err(JsError::usage(format!("unknown text '{which}'"))),
    };
    env.buffer(bytes)
}

/// `tables(handle)` → JSON of the cmdlines, printk formats and kallsyms (see [`tables::tables`]).
fn tables(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    env.string(&tables::tables(&h.trace, h.source.bytes()))
}

/// `validate(handle)`: the checks of `dump -v` beyond the metadata (see [`validate`]); throws
/// the first damage found.
fn validate(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    validate::cpu_data(&h.trace, h.source.bytes())?;
    env.undefined()
}

/// `convert(handle, outPath, fileVersion, compression, level, progressFd, buffers, cpus,
/// threads, options)` → Promise of a JSON summary (writer::Summary), written on a pool thread.
/// `compression` is none, zlib, zstd or any (zstd); `level`, `progressFd` (a terminal for
/// progress lines), `buffers` / `cpus` (comma-separated subsets), `threads` and `options` (see
/// [`set_options`]) may be null for the defaults. Argument errors throw at once; the rest
/// rejects the promise.
fn convert(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    let out = args.string(1)?;
    let version = args.index(2)? as u32;
    let level = if args.is_nullish(4) { None } else { Some(args.number(4)?) };
    let compression = compression_spec(&args.string(3)?, level)?;
    let mut progress =
        shedding(if args.is_nullish(5) { progress::Progress::none() } else { progress::Progress::to_fd(args.index(5)? as u32) }, vec![h.clone()]);
    let list = |i: usize| -> Result<Option<Vec<u32>>, JsError> {
        if args.is_nullish(i) {
            Ok(None)
        } else {
            parse_cpus(&args.string(i)?)
        }
    };
    let buffers = list(6)?.map(|v| v.into_iter().map(|b| b as usize).collect());
    let cpus = list(7)?;
    let threads = threads(args, 8)?;
    let options = if args.is_nullish(9) { Vec::new() } else { set_options(args.buffer(9)?)? };
    let spec = writer::Spec { version, compression, buffers, cpus, threads, options };
    let work = move || {
        let id = h.path.as_ref().map(|p| p.1);
        let file = reopen(&h);
        writer::write_file(&h.trace, h.source.bytes(), file.as_ref(), id, std::path::Path::new(&out), &spec, &mut progress)
            .map(|summary| summary.json())
            .map_err(|e| {
                progress.finish();
                write_error(e, &out)
            })
    };
    env.spawn(work, |env, json: String| env.string(&json))
}

/// The codec and level asked for: `compression` is none, zlib, zstd or any (zstd); a level
/// needs a codec and must be in its range.
fn compression_spec(compression: &str, level: Option<f64>) -> Result<Option<(compression::Codec, i32)>, JsError> {
    let codec = match compression {
        "none" => None,
        "any" | "zstd" => Some(compression::Codec::Zstd),
        "zlib" => Some(compression::Codec::Zlib),
        other => return Err(JsError::usage(format!("unknown compression '{other}' (none, zlib, zstd or any)"))),
    };
    Ok(match (codec, level) {
        (None, Some(_)) => return Err(JsError::usage("a compression level needs a compression (zlib or zstd)")),
        (None, None) => None,
        (Some(c), None) => Some((c, c.default_level())),
        (Some(c), Some(l)) => {
            let (lo, hi) = if c == compression::Codec::Zlib { (0, 9) } else { (-7, 22) };
            if l.fract() != 0.0 || l < lo as f64 || l > hi as f64 {
                return Err(JsError::usage(format!("{} level {l}: use an integer from {lo} to {hi}", c.name())));
            }
            Some((c, l as i32))
        }
    })
}

/// Compression threads: as asked, else the CPU count (2 to 8).
fn threads(args: &Args, i: usize) -> Result<usize, JsError> {
    Ok(if args.is_nullish(i) { std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8) } else { args.index(i)?.clamp(1, 64) })
}

/// `build(template, outPath, fileVersion, compression, level, options, records)` → Promise of a
/// JSON summary: a trace with `template`'s metadata and options (`options` as for `convert`),
/// and the buffers and records of `records` (see [`write::build::parse`]).
fn build(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    let out = args.string(1)?;
    let version = args.index(2)? as u32;
    let level = if args.is_nullish(4) { None } else { Some(args.number(4)?) };
    let compression = compression_spec(&args.string(3)?, level)?;
    let options = if args.is_nullish(5) { Vec::new() } else { set_options(args.buffer(5)?)? };
    let block = args.buffer(6)?.to_vec();
    let buffers = write::build::parse(&block).map_err(|e| JsError::usage(format!("bad records argument: {e}")))?;
    let spec = writer::Spec { version, compression, buffers: None, cpus: None, threads: 2, options };
    let work = move || {
        let id = h.path.as_ref().map(|p| p.1);
        let layout = write::build::layout(&h.trace, h.source.bytes(), &spec, buffers, &block).map_err(|e| write_error(e, &out))?;
        writer::write_layout_file(layout, &[id], std::path::Path::new(&out), &spec, &mut progress::Progress::none())
            .map(|summary| summary.json())
            .map_err(|e| write_error(e, &out))
    };
    env.spawn(work, |env, json: String| env.string(&json))
}

/// Where each field of an option edit's header sits, as TypeScript writes them (exported to it):
/// u16 id, u8 1 (a payload follows) or 0 (remove only), u32 payload size; little-endian.
pub mod option_edit {
    pub const ID: usize = 0;
    pub const PRESENT: usize = 2;
    pub const SIZE: usize = 3;
    /// Header bytes before the payload.
    pub const HEADER: usize = 7;
}

/// Options to set, as TypeScript encodes them: records of an [`option_edit`] header, then the
/// payload.
fn set_options(b: &[u8]) -> Result<Vec<writer::OptionEdit>, JsError> {
    let mut c = bytes::Cursor::new(b, 0, bytes::Endian::Little, "options argument");
    let mut v = Vec::new();
    while !c.is_empty() {
        let bad = |e: error::Error| JsError::usage(format!("bad options argument: {e}"));
        let h = c.bytes(option_edit::HEADER, "an option edit (id, payload flag, size)").map_err(bad)?;
        // Every field lies inside the header just read, so none of these reads can fail.
        let field = |at: usize, size: usize| bytes::Endian::Little.uint_at(h, at, size).unwrap_or_default();
        let id = field(option_edit::ID, 2) as u16;
        let present = field(option_edit::PRESENT, 1) != 0;
        let size = field(option_edit::SIZE, 4) as usize;
        let payload = c.bytes(size, "the payload").map_err(bad)?;
        v.push((id, present.then(|| payload.to_vec())));
    }
    Ok(v)
}

/// A merge being set up: its sync options and inputs, in the order given.
struct MergeCursor {
    opts: merge::plan::Options,
    inputs: Vec<(Handle, String)>,
}

/// `mergeOpen(sync)` → a merge of inputs added with `mergeInput`; `sync` is auto, time-shift,
/// kvm, offset or none.
fn merge_open(env: Env, args: &Args) -> JsResult {
    let s = args.string(0)?;
    let method = Method::parse(&s).ok_or_else(|| JsError::usage(format!("unknown --sync '{s}' (auto, time-shift, kvm, offset or none)")))?;
    env.external_mut(MergeCursor { opts: merge::plan::Options::new(method), inputs: Vec::new() })
}

/// `mergeOption(cursor, flag, value)`: a per-guest option (see [`merge::plan::Options::add`]).
fn merge_option(env: Env, args: &Args) -> JsResult {
    let (flag, value) = (args.string(1)?, args.string(2)?);
    args.external_mut::<MergeCursor>(0)?.opts.add(&flag, &value).map_err(JsError::usage)?;
    env.undefined()
}

/// `mergeInput(cursor, handle, path)`: one more file (host or guest, in any order).
fn merge_input(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(1)?.clone();
    let path = args.string(2)?;
    args.external_mut::<MergeCursor>(0)?.inputs.push((h, path));
    env.undefined()
}

/// The inputs of a merge cursor, as the merge reads them (`files` holds the reopened files).
fn merge_inputs<'a>(inputs: &'a [(Handle, String)], files: &'a [Option<std::fs::File>]) -> Vec<merge::plan::MergeInput<'a>> {
    inputs
        .iter()
        .zip(files)
        .map(|((h, path), file)| merge::plan::MergeInput {
            trace: &h.trace,
            data: h.source.bytes(),
            file: file.as_ref(),
            path,
            id: h.path.as_ref().map(|p| p.1),
        })
        .collect()
}

/// A merge or attach failure for JavaScript: input damage names its input (`input`), a guest
/// that cannot be lined up is ERR_TRACEDAT_SYNC on its input, output failures name `out`.
fn merge_error(e: merge::plan::MergeError, out: &str) -> JsError {
    use merge::plan::MergeError;
    match e {
        MergeError::Input(i, e) => {
            let mut j = JsError::from(e);
            j.fields.push(("input", Field::Num(i as f64)));
            j
        }
        MergeError::NoSync { guest, why } => {
            JsError { code: "ERR_TRACEDAT_SYNC", message: format!("cannot line it up with the host: {why}"), fields: vec![("input", Field::Num(guest as f64))] }
        }
        MergeError::Usage(m) => JsError::usage(m),
        MergeError::Write(e) => write_error(e, out),
    }
}

/// The write spec of `mergeRun` and `attachRun`: arguments 2.. are fileVersion, compression,
/// level, progressFd, threads.
fn merge_spec(args: &Args) -> Result<(writer::Spec, progress::Progress), JsError> {
    let level = if args.is_nullish(4) { None } else { Some(args.number(4)?) };
    let compression = compression_spec(&args.string(3)?, level)?;
    let version = args.index(2)? as u32;
    let progress = if args.is_nullish(5) { progress::Progress::none() } else { progress::Progress::to_fd(args.index(5)? as u32) };
    Ok((writer::Spec { version, compression, buffers: None, cpus: None, threads: threads(args, 6)?, options: Vec::new() }, progress))
}

/// Lets go of the mapped pages of `inputs` read so far (see [`source::Source::shed`]).
fn shed(inputs: &[(Handle, String)]) {
    inputs.iter().for_each(|(h, _)| h.source.shed());
}

/// Progress that sheds the inputs' mapped pages every 16 MB written, so that a write's RSS
/// stays flat however large its inputs.
fn shedding(p: progress::Progress, inputs: Vec<Handle>) -> progress::Progress {
    p.pacing(16 << 20, move || inputs.iter().for_each(|h| h.source.shed()))
}

/// `mergeRun(cursor, outPath, fileVersion, compression, level, progressFd, threads)` → Promise
/// of a JSON summary (merge::plan::summary_json), written on a pool thread.
fn merge_run(env: Env, args: &Args) -> JsResult {
    let c = args.external_mut::<MergeCursor>(0)?;
    let (opts, inputs) = (c.opts.clone(), c.inputs.clone());
    drop(c);
    let out = args.string(1)?;
    let (spec, progress) = merge_spec(args)?;
    let mut progress = shedding(progress, inputs.iter().map(|(h, _)| h.clone()).collect());
    let work = move || {
        let files: Vec<Option<std::fs::File>> = inputs.iter().map(|(h, _)| reopen(h)).collect();
        let list = merge_inputs(&inputs, &files);
        let pairs: Vec<_> = list.iter().map(|i| (i.trace, i.data)).collect();
        let host = merge::plan::find_host(&pairs);
        let r = merge::plan::merge(&list, &opts, std::path::Path::new(&out), &spec, &mut progress);
        progress.finish();
        let guests = r.map_err(|e| merge_error(e, &out))?;
        let (t, d) = pairs[host];
        Ok(merge::plan::summary_json(&inputs[host].1, report::in_usecs(t, d, false), &guests))
    };
    env.spawn(work, |env, json: String| env.string(&json))
}

/// `attachRun(cursor, outDir, fileVersion, compression, level, progressFd, threads)` → Promise
/// of a JSON summary (merge::attach::summary_json): copies of the inputs in `outDir` that
/// trace-cmd report lines up.
fn attach_run(env: Env, args: &Args) -> JsResult {
    let c = args.external_mut::<MergeCursor>(0)?;
    let (opts, inputs) = (c.opts.clone(), c.inputs.clone());
    drop(c);
    let dir = args.string(1)?;
    let (spec, progress) = merge_spec(args)?;
    let mut progress = shedding(progress, inputs.iter().map(|(h, _)| h.clone()).collect());
    let work = move || {
        let files: Vec<Option<std::fs::File>> = inputs.iter().map(|(h, _)| reopen(h)).collect();
        let list = merge_inputs(&inputs, &files);
        let r = merge::attach::attach(&list, &opts, std::path::Path::new(&dir), &spec, &mut progress);
        progress.finish();
        let (host, guests) = r.map_err(|e| merge_error(e, &dir))?;
        Ok(merge::attach::summary_json(&host, &guests))
    };
    env.spawn(work, |env, json: String| env.string(&json))
}

/// The merged timeline of a merge cursor's inputs, being read.
struct TimelineCursor {
    inputs: Vec<Handle>,
    timeline: merge::timeline::Timeline,
}

/// A merge cursor's inputs as one timeline in host time, read from their mappings (letting go
/// of the pages read while the host's kvm writes are looked for).
fn timeline_of(inputs: &[(Handle, String)], opts: &merge::plan::Options) -> Result<merge::timeline::Timeline, JsError> {
    let files: Vec<Option<std::fs::File>> = inputs.iter().map(|_| None).collect();
    merge::timeline::Timeline::new(&merge_inputs(inputs, &files), opts, &mut || shed(inputs)).map_err(|e| merge_error(e, ""))
}

/// `timelineOpen(mergeCursor)` → a cursor over the inputs' records as one timeline in host
/// time (guests lined up by the merge cursor's sync options); `timelineSources` says what its
/// sources are, `timelineNext` reads it.
fn timeline_open(env: Env, args: &Args) -> JsResult {
    let c = args.external_mut::<MergeCursor>(0)?;
    let (opts, inputs) = (c.opts.clone(), c.inputs.clone());
    drop(c);
    let timeline = timeline_of(&inputs, &opts)?;
    env.external_mut(TimelineCursor { inputs: inputs.into_iter().map(|(h, _)| h).collect(), timeline })
}

/// `timelineSources(cursor)` → JSON `{ host, sources: [{input, buffer, name}], notes }`.
fn timeline_sources(env: Env, args: &Args) -> JsResult {
    let c = args.external_mut::<TimelineCursor>(0)?;
    env.string(&c.timeline.json())
}

/// `timelineNext(cursor, maxRecords)` → a Buffer of records, each a u64 source index (little-
/// endian) before the record as `nextBatch` encodes it; empty at the end.
fn timeline_next(env: Env, args: &Args) -> JsResult {
    let c = &mut *args.external_mut::<TimelineCursor>(0)?;
    let max = args.index(1)?.clamp(1, 1 << 20);
    let data: Vec<&[u8]> = c.inputs.iter().map(|h| h.source.bytes()).collect();
    let mut out = Vec::with_capacity(64 * 1024);
    for _ in 0..max {
        let got = c.timeline.next_with(&data, |si, r| {
            out.extend_from_slice(&(si as u64).to_le_bytes());
            records::encode(&mut out, &r);
        });
        if got.map_err(input_error)?.is_none() || out.len() >= 4 << 20 {
            break;
        }
    }
    c.inputs.iter().for_each(|h| h.source.shed());
    env.buffer(&out)
}

/// A running explain over a merge cursor's inputs.
struct ExplainCursor {
    inputs: Vec<Handle>,
    explain: explain::run::Explain,
}

/// `explainOpen(mergeCursor, from, to, match, threshold, top, guest, pid, comm, lines)` → a
/// cursor explaining the guests' latencies (see [`explain::run::Options`]): the inputs as one
/// timeline (one input: a file `tracedat merge` wrote), `from`/`to`/`match`/`guest`/`comm` ""
/// when not given, `threshold` in decimal, `top` and `pid` null when not given.
fn explain_open(env: Env, args: &Args) -> JsResult {
    let c = args.external_mut::<MergeCursor>(0)?;
    let (mopts, inputs) = (c.opts.clone(), c.inputs.clone());
    drop(c);
    let text = |i: usize| -> Result<Option<String>, JsError> { Ok(Some(args.string(i)?).filter(|s| !s.is_empty())) };
    let threshold = args.string(4)?;
    let opts = explain::run::Options {
        from: text(1)?,
        to: text(2)?,
        match_field: text(3)?,
        threshold: threshold.parse().map_err(|_| JsError::usage(format!("bad threshold {threshold}")))?,
        top: if args.is_nullish(5) { None } else { Some(args.index(5)?) },
        guest: text(6)?,
        pid: if args.is_nullish(7) { None } else { Some(args.number(7)? as i32) },
        comm: text(8)?,
        lines: args.boolean(9)?,
    };
    let timeline = match &inputs[..] {
        [(h, _)] => merge::timeline::Timeline::merged_file(&h.trace, h.source.bytes())?,
        _ => timeline_of(&inputs, &mopts)?,
    };
    let list: Vec<(&file::Trace, &[u8], &str)> = inputs.iter().map(|(h, p)| (&h.trace, h.source.bytes(), p.as_str())).collect();
    let explain = explain::run::Explain::new(timeline, &list, opts).map_err(|e| match e {
        explain::run::StartError::Filter(guest, e) => JsError::usage(format!("{guest}: {e}")),
        explain::run::StartError::Usage(m) => JsError::usage(m),
    })?;
    drop(list);
    env.external_mut(ExplainCursor { inputs: inputs.into_iter().map(|(h, _)| h).collect(), explain })
}

/// `explainNext(cursor, maxRecords, mode)` → what finished while reading up to `maxRecords`
/// records, as JSON `{ done, windows: [...] }` (mode "objects"), or `{ done, text }` with
/// `text` one JSON object per window and line (mode "jsonl", the CLI's `--format json`: its
/// numbers exact) or the text report's next part (mode "text": windows, and the summary tables
/// once done).
fn explain_next(env: Env, args: &Args) -> JsResult {
    let c = &mut *args.external_mut::<ExplainCursor>(0)?;
    let max = args.index(1)?.clamp(1, 1 << 22);
    let mode = args.string(2)?;
    let data: Vec<&[u8]> = c.inputs.iter().map(|h| h.source.bytes()).collect();
    let (windows, done) = c.explain.step(&data, max).map_err(input_error)?;
    c.inputs.iter().for_each(|h| h.source.shed());
    let mut j = json::Json::new();
    j.begin_object(None);
    j.bool("done", done);
    match mode.as_str() {
        "text" => {
            let units = explain::text::Units { time: c.explain.time_fmt(), ns: c.explain.nanoseconds() };
            let mut out = String::new();
            for w in &windows {
                explain::text::window(w, units, &mut out);
            }
            if done {
                explain::text::summary(c.explain.summary(), c.explain.options().threshold, units, &mut out);
            }
            j.str("text", &out);
        }
        "jsonl" => {
            let mut out = String::new();
            for w in &windows {
                let mut one = json::Json::new();
                w.json(&mut one);
                out.push_str(&one.finish());
                out.push('\n');
            }
            j.str("text", &out);
        }
        _ => {
            j.begin_array(Some("windows"));
            for w in &windows {
                w.json(&mut j);
            }
            j.end_array();
        }
    }
    j.end_object();
    env.string(&j.finish())
}

/// `explainSummary(cursor)` → JSON of what the windows kept so far add up to: `windows`
/// `{count, total_ns, max_ns}`, `in_guest_ns`, `exits` and `preempting` lists, `nanoseconds`,
/// windows `given_up` and with `no_thread`, and the `notes` of lining the guests up.
fn explain_summary(env: Env, args: &Args) -> JsResult {
    let c = args.external_mut::<ExplainCursor>(0)?;
    env.string(&explain::run::summary_json(c.explain.summary(), c.explain.nanoseconds(), c.explain.notes()))
}

/// The file a handle maps, opened again for positional reads; None when its path now names
/// another file (the mapping alone is read then).
fn reopen(h: &Opened) -> Option<std::fs::File> {
    let (path, id) = h.path.as_ref()?;
    let same = |f: &std::fs::File| f.metadata().is_ok_and(|m| (m.dev(), m.ino()) == *id);
    std::fs::File::open(path).ok().filter(same)
}

/// Input damage keeps the reader's error; output failures name the output path (`path`).
fn write_error(e: writer::WriteError, path: &str) -> JsError {
    use output::TargetError;
    use writer::WriteError;
    let output = |message: String, errno: i32| JsError {
        code: "ERR_TRACEDAT_OUTPUT",
        message,
        fields: vec![("path", Field::Str(path.to_string())), ("errno", Field::Num(errno as f64))],
    };
    match e {
        WriteError::Input(e) => JsError::from(e),
        WriteError::Unsupported(what) => JsError::usage(format!("cannot write {what}")),
        WriteError::Codec(what) => output(what, 0),
        WriteError::Output(e) | WriteError::Target(TargetError::Io(_, e)) => output(e.to_string(), e.raw_os_error().unwrap_or(0)),
        WriteError::Target(TargetError::IsInput(_)) => JsError::usage(format!("{path}: refusing to write over the input file")),
    }
}

/// A running `trace-cmd report`: its options, the files it reads (with the names their lines
/// carry), and, from the first chunk on, the report state.
struct ReportCursor {
    opts: report::Options,
    /// Each file with its name, `--ts-offset` and own `-F` filters.
    inputs: Vec<(Handle, String, i64, Vec<filter::Spec>)>,
    /// Each file's own `--ts2secs` (by index into `inputs`).
    ts2secs: Vec<Option<u64>>,
    report: Option<report::Report>,
    /// The files a per-event CSV report wrote, one per line, once it is done.
    files: String,
    /// `reportWrite`'s chunk, reused.
    out: Vec<u8>,
}

/// `reportOpen(raw, rawTs, nsec, cpus, filters, sync)` → a cursor producing report text;
/// `cpus` is a comma-separated list of trace-cmd CPU numbers to keep, or "" for all; `filters`
/// the `-F` filters of every input (see [`parse_filters`]); `sync` says how guests are lined
/// up: trace-cmd, or a merge method (auto, time-shift, kvm, offset, none). Inputs are added
/// with `reportInput`, the first being the host when guests are read with it.
fn report_open(env: Env, args: &Args) -> JsResult {
    let sync = match args.string(5)?.as_str() {
        "trace-cmd" => None,
        s => Some(Method::parse(s).ok_or_else(|| JsError::usage(format!("unknown --sync '{s}' (auto, trace-cmd, time-shift, kvm, offset or none)")))?),
    };
    let cpus = parse_cpus(&args.string(3)?)?;
    let opts = report::Options {
        raw: args.boolean(0)?,
        raw_ts: args.boolean(1)?,
        nsec: args.boolean(2)?,
        cpus,
        filters: parse_filters(&args.string(4)?),
        sync,
        ..Default::default()
    };
    env.external_mut(ReportCursor { opts, inputs: Vec::new(), ts2secs: Vec::new(), report: None, files: String::new(), out: Vec::new() })
}

/// `-F` filters as one string: each a `+` (keep what it matches) or `-` (`-v`: drop it) and
/// its text, NUL-separated (no argument holds a NUL); "" for none.
fn parse_filters(s: &str) -> Vec<filter::Spec> {
    let spec = |f: &str| match f.strip_prefix('-') {
        Some(text) => filter::Spec { text: text.to_string(), exclude: true },
        None => filter::Spec { text: f.strip_prefix('+').unwrap_or(f).to_string(), exclude: false },
    };
    s.split('\0').filter(|f| !f.is_empty()).map(spec).collect()
}

/// `reportInput(cursor, handle, name, tsOffset, filters)`: one more file to merge, before the
/// first chunk; `tsOffset` is the signed offset in decimal (the TypeScript layer writes it from
/// a BigInt), `filters` the `-F` filters given after its `-i` (as [`parse_filters`] reads them).
fn report_input(env: Env, args: &Args) -> JsResult {
    let c = &mut *args.external_mut::<ReportCursor>(0)?;
    if c.report.is_some() {
        return Err(JsError::usage("reportInput after the report has started"));
    }
    let h = args.external::<Handle>(1)?.clone();
    c.inputs.push((h, args.string(2)?, clib::strtoll(args.string(3)?.as_bytes(), 0), parse_filters(&args.string(4)?)));
    c.ts2secs.push(None);
    env.undefined()
}

/// `reportOption(cursor, name, value)`: one of report's display flags, before the first chunk:
/// `ts-diff`, `latency` (-l), `wakeup` (-w), `ts-check`, `align-ts`, `nodate` (value ignored),
/// `only` (value `stat`, `uname` or `version`), `ts2secs` (value HZ in decimal: for every
/// input before any `reportInput`, for the last input added after one), `parallel` (`on` or
/// `off`: lines formatted on two more threads or not, whatever the inputs' size).
fn report_option(env: Env, args: &Args) -> JsResult {
    let c = &mut *args.external_mut::<ReportCursor>(0)?;
    if c.report.is_some() {
        return Err(JsError::usage("reportOption after the report has started"));
    }
    let (name, value) = (args.string(1)?, args.string(2)?);
    let o = &mut c.opts;
    match name.as_str() {
        "ts-diff" => o.ts_diff = true,
        "latency" => o.latency = true,
        "wakeup" => o.wakeup = true,
        "ts-check" => o.ts_check = true,
        "align-ts" => o.align_ts = true,
        "nodate" => o.nodate = true,
        "parallel" => {
            o.parallel = match value.as_str() {
                "on" => Some(true),
                "off" => Some(false),
                v => return Err(JsError::usage(format!("reportOption parallel: on or off, not '{v}'"))),
            }
        }
        "only" => {
            o.only = match value.as_str() {
                "stat" => report::Only::Stat,
                "uname" => report::Only::Uname,
                "version" => report::Only::Version,
                v => return Err(JsError::usage(format!("reportOption only: stat, uname or version, not '{v}'"))),
            }
        }
        "ts2secs" => {
            // trace-cmd's atoll; a zero is ignored, as tracecmd_set_ts2secs is never called then.
            let hz = Some(clib::strtoll(value.as_bytes(), 10) as u64).filter(|&h| h != 0);
            match c.ts2secs.last_mut() {
                Some(last) => *last = hz,
                None => o.ts2secs = hz,
            }
        }
        n => return Err(JsError::usage(format!("unknown report option '{n}'"))),
    }
    env.undefined()
}

/// `reportSalvage(cursor)`: before the first chunk, damaged ring-buffer data is stepped over
/// with a marker line instead of ending the report (see `reportSkipped`).
fn report_salvage(env: Env, args: &Args) -> JsResult {
    let c = &mut *args.external_mut::<ReportCursor>(0)?;
    if c.report.is_some() {
        return Err(JsError::usage("reportSalvage after the report has started"));
    }
    c.opts.salvage = true;
    env.undefined()
}

/// `reportSkipped(cursor)` → JSON of the regions a salvaging report stepped over since the
/// last call (see [`scan::report_skipped`]).
fn report_skipped(env: Env, args: &Args) -> JsResult {
    let c = &mut *args.external_mut::<ReportCursor>(0)?;
    let json = c.report.as_mut().map(|r| scan::report_skipped(&mut r.skipped)).unwrap_or_else(|| "[]".to_string());
    env.string(&json)
}

/// `reportFormat(cursor, format)`: before the first chunk, records as `json` lines (or
/// `json-api`, integers beyond 2^53 marked for BigInt) or `csv` instead of trace-cmd's `text`.
fn report_format(env: Env, args: &Args) -> JsResult {
    let c = &mut *args.external_mut::<ReportCursor>(0)?;
    if c.report.is_some() {
        return Err(JsError::usage("reportFormat after the report has started"));
    }
    c.opts.format = match args.string(1)?.as_str() {
        "text" => Format::Text,
        "json" => Format::Json,
        "json-api" => Format::JsonApi,
        "csv" => Format::Csv,
        f => return Err(JsError::usage(format!("unknown format '{f}' (text, json or csv)"))),
    };
    env.undefined()
}

/// `reportBuffers(cursor, names)`: before the first chunk, only the buffers named (instance
/// names, "" for the top buffer), NUL-separated.
fn report_buffers(env: Env, args: &Args) -> JsResult {
    let c = &mut *args.external_mut::<ReportCursor>(0)?;
    if c.report.is_some() {
        return Err(JsError::usage("reportBuffers after the report has started"));
    }
    c.opts.buffers = Some(args.string(1)?.split('\0').map(str::to_string).collect());
    env.undefined()
}

/// `reportNext(cursor, minBytes)` → the next chunk of report text (at least `minBytes` unless
/// it is the last one), empty at the end.
fn report_next(env: Env, args: &Args) -> JsResult {
    let mut c = args.external_mut::<ReportCursor>(0)?;
    let min = args.index(1)?.clamp(1, 64 << 20);
    let mut out = Vec::with_capacity(min + 4096);
    report_fill(&mut c, &mut out, min)?;
    env.buffer(&out)
}

/// `reportWrite(cursor, fd, minBytes)` → the number of bytes of the next chunk of report text,
/// written to the file descriptor `fd` (write(2), as many calls as it takes) instead of being
/// returned: a CLI printing the whole report saves a copy of every chunk into a JavaScript
/// buffer, and the garbage collector the buffers (577 MB of them on a 270 MB input). 0 at the
/// end. The chunk's buffer is the cursor's, reused. A reader gone away (EPIPE) is an error
/// with that code, which the CLI ends quietly on.
fn report_write(env: Env, args: &Args) -> JsResult {
    let mut c = args.external_mut::<ReportCursor>(0)?;
    let fd = i32::try_from(args.index(1)?).map_err(|_| JsError::usage("reportWrite: not a file descriptor"))?;
    let min = args.index(2)?.clamp(1, 64 << 20);
    let mut out = std::mem::take(&mut c.out);
    out.clear();
    let filled = report_fill(&mut c, &mut out, min);
    let written = filled.and_then(|()| write_fd(fd, &out).map_err(|e| fd_error(fd, &e)));
    let n = out.len();
    c.out = out;
    written?;
    env.number(n as f64)
}

/// A failed write to a file descriptor: a reader gone away as EPIPE (see [`report_write`]),
/// else an output error. On a socket (Node's `stdio: 'pipe'` is a socketpair) a reader that
/// closed its end with text unread resets the connection: ECONNRESET, the same event.
fn fd_error(fd: i32, e: &std::io::Error) -> JsError {
    let errno = e.raw_os_error().unwrap_or(0);
    let gone = matches!(e.kind(), std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset);
    let code = if gone { "EPIPE" } else { "ERR_TRACEDAT_OUTPUT" };
    let path = if fd == 1 { "standard output".to_string() } else { format!("file descriptor {fd}") };
    JsError { code, message: e.to_string(), fields: vec![("path", Field::Str(path)), ("errno", Field::Num(errno as f64))] }
}

/// The next chunk of report text appended to `out` (at least `min` bytes unless it is the
/// last; nothing at the end), the report started on the first call.
fn report_fill(c: &mut ReportCursor, out: &mut Vec<u8>, min: usize) -> Result<(), JsError> {
    let data: Vec<&[u8]> = c.inputs.iter().map(|(h, ..)| h.source.bytes()).collect();
    let report = match &mut c.report {
        Some(r) => r,
        none => {
            let inputs: Vec<report::Input<'_>> = c
                .inputs
                .iter()
                .zip(&c.ts2secs)
                .map(|((h, name, ts_offset, filters), &ts2secs)| report::Input {
                    trace: &h.trace,
                    data: h.source.bytes(),
                    name,
                    ts_offset: *ts_offset,
                    filters,
                    ts2secs,
                })
                .collect();
            let started = report::Report::new(&inputs, c.opts.clone(), &mut || c.inputs.iter().for_each(|(h, ..)| h.source.shed())).map_err(|e| match e {
                report::StartError::Input(e) => input_error(e),
                // A usage error naming the file whose events refuse the filter.
                report::StartError::Filter(i, e) => JsError::usage(format!("{}: {e}", inputs[i].name)),
            })?;
            let handles: Vec<Handle> = c.inputs.iter().map(|(h, ..)| h.clone()).collect();
            let r = none.insert(started);
            r.pacing(move || handles.iter().for_each(|h| h.source.shed()));
            r
        }
    };
    let start = out.len();
    let more = report.fill(&data, out, min).map_err(input_error)?;
    c.inputs.iter().for_each(|(h, ..)| h.source.shed());
    if !more || out.len() == start {
        // One file per event: written when the report ends or a file cannot be written.
        if let Some(done) = report.finish_files() {
            let written = done.map_err(target_error)?;
            c.files = written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join("\n");
            out.truncate(start);
        }
    }
    Ok(())
}

/// An output file of the report that could not be written.
fn target_error(e: output::TargetError) -> JsError {
    let (path, errno) = match &e {
        output::TargetError::Io(p, io) => (p.display().to_string(), io.raw_os_error().unwrap_or(0)),
        output::TargetError::IsInput(p) => (p.display().to_string(), 0),
    };
    JsError { code: "ERR_TRACEDAT_OUTPUT", message: e.to_string(), fields: vec![("path", Field::Str(path)), ("errno", Field::Num(errno as f64))] }
}

/// `reportOutDir(cursor, dir)`: before the first chunk, with the csv format, one file per event
/// in `dir` (which exists) instead of one stream; `reportNext` then returns empty chunks.
fn report_out_dir(env: Env, args: &Args) -> JsResult {
    let c = &mut *args.external_mut::<ReportCursor>(0)?;
    if c.report.is_some() {
        return Err(JsError::usage("reportOutDir after the report has started"));
    }
    c.opts.out_dir = Some(std::path::PathBuf::from(args.string(1)?));
    env.undefined()
}

/// `reportFiles(cursor)` → the files a finished per-event CSV report wrote, one per line.
fn report_files(env: Env, args: &Args) -> JsResult {
    let c = args.external_mut::<ReportCursor>(0)?;
    env.string(&c.files)
}

/// `reportWarnings(cursor)` → what the report's set-up found that the user should know (how
/// each guest was lined up), one line each; empty before the first chunk.
fn report_warnings(env: Env, args: &Args) -> JsResult {
    let mut c = args.external_mut::<ReportCursor>(0)?;
    let lines = c.report.as_mut().map(|r| std::mem::take(&mut r.warnings).join("\n")).unwrap_or_default();
    env.string(&lines)
}

/// A format error of one input of several, the input's index in its `input` property.
fn input_error((input, e): report::InputError) -> JsError {
    let mut j = JsError::from(e);
    j.fields.push(("input", napi::Field::Num(input as f64)));
    j
}

/// `reportCpus(handle, fileName, first, last, rawTs, nsec)` → `report --cpus` text.
fn report_cpus(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    let name = args.string(1)?;
    let out = report::cpus_listing(&h.trace, h.source.bytes(), &name, args.boolean(2)?, args.boolean(3)?, args.boolean(4)?, args.boolean(5)?)?;
    env.buffer(&out)
}

/// Entry point called by node when the addon is loaded.
///
/// # Safety
/// Called by node with a live env and exports object.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: RawEnv, exports: RawValue) -> RawValue {
    // Panics are caught at every entry point and rethrown as JS errors; keep the default hook
    // from printing a backtrace to the user's terminal as well.
    std::panic::set_hook(Box::new(|_| {}));
    let functions: &[(&std::ffi::CStr, napi::Function)] = &[
        (c"constants", constants),
        (c"convert", convert),
        (c"build", build),
        (c"mergeOpen", merge_open),
        (c"mergeOption", merge_option),
        (c"mergeInput", merge_input),
        (c"mergeRun", merge_run),
        (c"attachRun", attach_run),
        (c"timelineOpen", timeline_open),
        (c"timelineSources", timeline_sources),
        (c"timelineNext", timeline_next),
        (c"explainOpen", explain_open),
        (c"explainNext", explain_next),
        (c"explainSummary", explain_summary),
        (c"skipped", skipped),
        (c"validate", validate),
        (c"reportOpen", report_open),
        (c"reportInput", report_input),
        (c"reportOption", report_option),
        (c"reportFormat", report_format),
        (c"reportBuffers", report_buffers),
        (c"reportOutDir", report_out_dir),
        (c"reportFiles", report_files),
        (c"reportNext", report_next),
        (c"reportWrite", report_write),
        (c"reportWarnings", report_warnings),
        (c"reportSalvage", report_salvage),
        (c"reportSkipped", report_skipped),
        (c"reportCpus", report_cpus),
        (c"formats", formats),
        (c"commonOffset", common_offset),
        (c"scanAsync", scan_async),
        (c"text", text),
        (c"tables", tables),
        (c"open", open),
        (c"openBytes", open_bytes),
        (c"dump", dump),
        (c"info", info),
        (c"warnings", warnings),
        (c"records", records),
        (c"nextBatch", next_batch),
        (c"fillBatch", fill_batch),
        (c"scan", scan),
    ];
    for &(name, f) in functions {
        if !napi::export(env, exports, name, f) {
            return std::ptr::null_mut();
        }
    }
    exports
}
