//! `tracedat merge`: a KVM host's trace and its guests' as ONE trace.dat in host time.
//!
//! The host is the input whose GUEST options name another input's TRACEID, else the one (without
//! a TIME_SHIFT) whose TRACEID another input's TIME_SHIFT names as its peer, else the first.
//! Its buffers are copied page for page, with its options and clock. Each guest becomes
//! buffer instances of its own, named after it (its GUEST option's name, else its UNAME
//! nodename, else its file name): every guest record is moved onto host time by the guest's
//! clock ([`crate::time::sync`]), its event id rewritten into the merged formats
//! ([`crate::merge::events`]), and written into new pages ([`PageWriter`]). Kallsyms, printk
//! formats and comms are merged where the host's are not disturbed ([`crate::merge::tables`]),
//! and a GUEST option per guest says which buffer came from where.
//!
//! No global order is needed to write the file: a trace.dat holds each CPU's records in stream
//! order and readers merge them by time. So each CPU stream is written on its own, straight
//! from its input, with memory bounded by one page per stream.

use std::cell::RefCell;
use std::fs::File;
use std::path::Path;
use std::rc::Rc;

use crate::format::error::Error;
use crate::format::file::{BufferKind, Content, Trace};
use crate::format::options::{self, Guest};
use crate::merge::events::{self, IdMap};
use crate::merge::guests::{self, guest_options};
use crate::merge::stream::{guest_buffers, Tally, Target};
use crate::merge::tables::{self, Kept};
use crate::out::json::Json;
use crate::time::sync::{self, GuestClock, HostWrites, Manual, Method, NoSource};
use crate::time::timesync::nsec_to_cycles;
use crate::write::copy;
use crate::write::layout::{Input, OutData};
use crate::write::progress::Progress;
use crate::write::writer::{self, Spec, Summary, WriteError};

/// One file to merge.
pub struct MergeInput<'a> {
    pub trace: &'a Trace,
    pub data: &'a [u8],
    pub file: Option<&'a File>,
    /// The path as given (its base name names a guest when nothing else does).
    pub path: &'a str,
    /// (device, inode): never written over.
    pub id: Option<(u64, u64)>,
}

/// What the user said about one guest, keyed by its name, file name or path.
#[derive(Clone, Debug, Default)]
pub struct GuestArgs {
    pub key: String,
    pub manual: Manual,
    pub vcpu_pids: Option<Vec<i32>>,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub method: Method,
    pub guests: Vec<GuestArgs>,
}

/// How one guest went.
#[derive(Clone, Debug, Default)]
pub struct GuestSummary {
    pub name: String,
    pub path: String,
    pub source: String,
    pub source_key: &'static str,
    pub vcpus: u32,
    /// Its records as written.
    pub tally: Tally,
    pub events_shared: usize,
    pub events_added: usize,
    pub kallsyms: Kept,
    pub printk: Kept,
    pub comms: Kept,
}

/// Why a merge failed.
#[derive(Debug)]
pub enum MergeError {
    /// Input `usize` is damaged.
    Input(usize, Error),
    /// Input `guest` cannot be lined up with the host: the sources looked for.
    NoSync {
        guest: usize,
        why: String,
    },
    /// The inputs or arguments do not make a merge.
    Usage(String),
    Write(WriteError),
}

impl From<WriteError> for MergeError {
    fn from(e: WriteError) -> MergeError {
        MergeError::Write(e)
    }
}

/// The host among `inputs`: the first whose GUEST options name another input's trace id, else
/// the first without a TIME_SHIFT of its own whose trace id another input's TIME_SHIFT names as
/// its peer (trace-cmd's agent writes both, a hand-made guest may carry only the latter), else
/// the first.
pub fn find_host(inputs: &[(&Trace, &[u8])]) -> usize {
    let ids: Vec<Option<u64>> = inputs.iter().map(|(t, d)| guests::trace_id(t, d)).collect();
    let named_by_guest =
        |i: usize, (t, d): &(&Trace, &[u8])| guest_options(t, d).iter().any(|g| ids.iter().enumerate().any(|(j, id)| j != i && *id == Some(g.trace_id)));
    let peers: Vec<Option<u64>> = inputs.iter().map(|(t, d)| sync::time_shift(t, d).map(|s| s.peer_id)).collect();
    let named_by_time_shift = |i: usize| ids[i].is_some() && peers[i].is_none() && peers.iter().enumerate().any(|(j, p)| j != i && *p == ids[i]);
    (inputs.iter().enumerate().position(|(i, p)| named_by_guest(i, p))).or_else(|| (0..inputs.len()).position(named_by_time_shift)).unwrap_or(0)
}

/// A guest's name: its GUEST option's in the host, else its UNAME nodename, else its file name.
fn guest_name(option: Option<&Guest>, trace: &Trace, data: &[u8], path: &str) -> String {
    if let Some(g) = option.filter(|g| !g.name.is_empty()) {
        return g.name.clone();
    }
    if let Some((_, p)) = trace.option_payload(data, options::UNAME) {
        if let Some(node) = options::text(p).split_whitespace().nth(1) {
            return node.to_string();
        }
    }
    let base = path.rsplit('/').next().unwrap_or(path);
    base.strip_suffix(".dat").unwrap_or(base).to_string()
}

/// trace-cmd's trace id generator is FNV-1a 64; a guest file without a TRACEID gets one of
/// its name, so that its GUEST option still names something.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

fn text<'a>(t: &'a Trace, d: &'a [u8], id: u16) -> &'a [u8] {
    match t.content(id) {
        Some(Content::Kallsyms(x) | Content::Printk(x) | Content::Cmdlines(x)) => t.bytes(d, x),
        _ => &[],
    }
}

/// The host and its guests as planned: which input is the host, and per guest its name, clock,
/// vCPU threads and trace id.
pub struct Guests {
    pub host: usize,
    pub guests: Vec<Planned>,
    /// The host's GUEST options as read.
    pub options: Vec<Guest>,
    pub host_tsc2nsec: Option<options::Tsc2Nsec>,
}

/// A guest as planned.
pub struct Planned {
    pub input: usize,
    /// Its buffer name (unique among the host's buffers and the other guests).
    pub name: String,
    pub clock: GuestClock,
    /// Host pid per vCPU (-1 where not known).
    pub pids: Vec<i32>,
    /// Its TRACEID, or one made from its name.
    pub trace_id: u64,
}

impl Planned {
    /// The GUEST option saying where this guest came from: its name, trace id and vCPU threads.
    pub fn guest_option(&self) -> Guest {
        Guest { name: self.name.clone(), trace_id: self.trace_id, vcpus: self.pids.iter().enumerate().map(|(c, &p)| (c as u32, p)).collect() }
    }
}

/// Finds the host, names the guests and lines up their clocks (`what` names the command in
/// errors; `pace` is called as the host's records are read for its kvm writes, see
/// [`crate::time::kvm::tsc_writes`]).
pub fn plan(inputs: &[MergeInput<'_>], opts: &Options, what: &str, pace: &mut dyn FnMut()) -> Result<Guests, MergeError> {
    if inputs.len() < 2 {
        return Err(MergeError::Usage(format!("a host and at least one guest to {what}")));
    }
    let pairs: Vec<(&Trace, &[u8])> = inputs.iter().map(|i| (i.trace, i.data)).collect();
    let hi = find_host(&pairs);
    let host = &inputs[hi];
    let (ht, hd) = (host.trace, host.data);
    if let Some(i) = inputs.iter().position(|i| i.trace.buffers.iter().any(|b| matches!(b.kind, BufferKind::Latency { .. }))) {
        return Err(MergeError::Input(i, Error::new(what, 0, "ring-buffer traces: a latency tracer's text has no records to line up")));
    }
    if let Some(i) = inputs.iter().position(|i| i.trace.endian != ht.endian) {
        return Err(MergeError::Input(i, Error::new(what, 0, "the host's byte order (a KVM guest runs on the host's architecture)")));
    }
    let host_guests = guest_options(ht, hd);
    let guest_inputs: Vec<usize> = (0..inputs.len()).filter(|&i| i != hi).collect();

    let mut names: Vec<String> = ht.buffers.iter().map(|b| b.name.clone()).collect();
    let needs_writes = opts.method != Method::None && guest_inputs.iter().any(|&i| sync::time_shift(inputs[i].trace, inputs[i].data).is_none());
    let writes =
        if needs_writes || opts.method == Method::Kvm { HostWrites::find(ht, hd, pace).map_err(|e| MergeError::Input(hi, e))? } else { HostWrites::default() };
    let host_tsc2nsec = ht
        .option_payload(hd, options::TSC2NSEC)
        .filter(|(o, _)| o.size >= 16)
        .and_then(|(o, p)| options::Tsc2Nsec::parse(p, ht.endian, o.offset).ok())
        .filter(|t| t.mult != 0);
    let mut planned = Vec::new();
    let mut guessing = 0;
    for &gi in &guest_inputs {
        let g = &inputs[gi];
        let trace_id = guests::trace_id(g.trace, g.data);
        let option = trace_id.and_then(|id| host_guests.iter().rev().find(|o| o.trace_id == id));
        let mut name = guest_name(option, g.trace, g.data, g.path);
        let base = name.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        names.push(name.clone());
        let file = g.path.rsplit('/').next().unwrap_or(g.path);
        let args = opts.guests.iter().find(|a| [name.as_str(), base.as_str(), g.path, file].contains(&a.key.as_str()));
        let vcpus = sync::vcpu_count(g.trace).map_err(|e| MergeError::Input(gi, e))?;
        let known_pids = args.and_then(|a| a.vcpu_pids.clone()).or_else(|| trace_id.and_then(|id| guests::vcpu_pids(&host_guests, id)).map(|(_, p)| p));
        let mut manual = args.map(|a| a.manual.clone()).unwrap_or_default();
        // --ts-offset is in the units the host's report shows: nanoseconds under TSC2NSEC.
        if let Some(t) = host_tsc2nsec {
            manual.ts_offset = nsec_to_cycles(&t, manual.ts_offset);
        }
        let clock = sync::guest_clock(&writes, g.trace, g.data, vcpus, known_pids.as_deref(), opts.method, &manual)
            .map_err(|NoSource(why)| MergeError::NoSync { guest: gi, why })?;
        guessing += usize::from(known_pids.is_none() && matches!(clock.source, sync::Source::Kvm { .. }));
        let pids = known_pids.unwrap_or_else(|| {
            let mut learned = clock.threads.clone().unwrap_or_default();
            learned.resize(vcpus as usize, -1);
            learned
        });
        let id = trace_id.unwrap_or_else(|| fnv1a(base.as_bytes()));
        planned.push(Planned { input: gi, name, clock, pids, trace_id: id });
    }
    if guessing > 1 {
        return Err(MergeError::Usage(
            "several guests and the host's kvm_write_tsc_offset events name no vCPU threads for each: say which threads run which guest with --vcpu-pids GUEST=PID,PID..."
                .into(),
        ));
    }
    Ok(Guests { host: hi, guests: planned, options: host_guests, host_tsc2nsec })
}

/// Merges `inputs` into `out` as `spec` says (version, compression, threads) and `opts` (sync).
pub fn merge(inputs: &[MergeInput<'_>], opts: &Options, out: &Path, spec: &Spec, progress: &mut Progress) -> Result<Vec<GuestSummary>, MergeError> {
    let Guests { host: hi, guests: planned, .. } = plan(inputs, opts, "merge", &mut || progress.pace_now())?;
    let host = &inputs[hi];
    let (ht, hd) = (host.trace, host.data);

    // One set of formats and tables.
    let guest_pairs: Vec<(&Trace, &[u8])> = planned.iter().map(|p| (inputs[p.input].trace, inputs[p.input].data)).collect();
    let (merged_events, maps) = events::union((ht, hd), &guest_pairs).map_err(|e| MergeError::Input(hi, e))?;
    let guest_texts = |id| guest_pairs.iter().map(|(t, d)| text(t, d, id)).collect::<Vec<_>>();
    let (kallsyms, ks) = tables::kallsyms(text(ht, hd, options::KALLSYMS), &guest_texts(options::KALLSYMS));
    let (printk, pk) = tables::printk(text(ht, hd, options::PRINTK), &guest_texts(options::PRINTK));
    let (cmdlines, cl) = tables::cmdlines(text(ht, hd, options::CMDLINES), &guest_texts(options::CMDLINES));
    let ids: Vec<IdMap> = maps;

    // The host's layout, then the merged metadata, the GUEST options and the guests' buffers.
    let host_spec = Spec { buffers: None, cpus: None, options: Vec::new(), ..spec.clone() };
    let mut layout = copy::layout(ht, Input { data: hd, file: host.file }, &host_spec)?;
    let e = ht.endian;
    let (ftrace, systems) = merged_events.contents(e);
    let sized = |width: usize, b: &[u8]| {
        let mut v = if width == 4 { e.put_u32(b.len() as u32).to_vec() } else { e.put_u64(b.len() as u64).to_vec() };
        v.extend_from_slice(b);
        v
    };
    for (id, content) in &mut layout.meta {
        *content = match *id {
            options::FTRACE_EVENTS => ftrace.clone(),
            options::EVENT_FORMATS => systems.clone(),
            options::KALLSYMS => sized(4, &kallsyms),
            options::PRINTK => sized(4, &printk),
            options::CMDLINES => sized(8, &cmdlines),
            _ => continue,
        };
    }
    let merged_ids: Vec<u64> = planned.iter().map(|p| p.trace_id).collect();
    layout.carried.retain(|(id, p)| *id != options::GUEST || Guest::parse(p, e, 0).is_ok_and(|g| !merged_ids.contains(&g.trace_id)));
    for p in &planned {
        layout.carried.push((options::GUEST, p.guest_option().encode(e).into()));
    }
    let host_clock = ht.buffers.iter().find(|b| b.name.is_empty()).and_then(|b| b.clock.clone()).or_else(|| layout.clock.clone());
    let top = ht.buffers.iter().position(|b| b.name.is_empty()).unwrap_or(0);
    let reported = ht.clock(hd, top, false).without_time_shift();
    // The guest input whose stream met damage, if one did (the writer's error does not say).
    let failed: Rc<std::cell::Cell<Option<usize>>> = Rc::default();
    let summaries: Vec<Rc<RefCell<Tally>>> =
        planned.iter().map(|p| Rc::new(RefCell::new(Tally { notes: p.clock.notes.clone(), ..Tally::default() }))).collect();
    for ((p, summary), ids) in planned.iter().zip(&summaries).zip(&ids) {
        let g = &inputs[p.input];
        let target = Target {
            top_name: p.name.clone(),
            clock: host_clock.clone(),
            endian: e,
            long: ht.kernel_long,
            page_size: layout.page_size,
            ids: Some(ids.clone()),
            reported: reported.clone(),
            tally: summary.clone(),
            failed: failed.clone(),
            input: p.input,
        };
        for b in guest_buffers(g.trace, g.data, &p.clock, &target).map_err(|e| MergeError::Input(p.input, e))? {
            if let OutData::Pages(cpus) = &b.data {
                layout.cpus = layout.cpus.max(cpus.iter().map(|c| c.cpu + 1).max().unwrap_or(0));
            }
            layout.buffers.push(b);
        }
    }
    let inputs_ids: Vec<Option<(u64, u64)>> = inputs.iter().map(|i| i.id).collect();
    let result: Result<Summary, WriteError> = writer::write_layout_file(layout, &inputs_ids, out, spec, progress);
    result.map_err(|e| match e {
        WriteError::Input(err) => MergeError::Input(failed.get().unwrap_or(hi), err),
        other => MergeError::Write(other),
    })?;
    Ok(planned
        .iter()
        .zip(summaries)
        .zip(&ids)
        .enumerate()
        .map(|(k, ((p, tally), ids))| GuestSummary {
            name: p.name.clone(),
            path: inputs[p.input].path.to_string(),
            source: p.clock.source.to_string(),
            source_key: p.clock.source.key(),
            vcpus: p.pids.len() as u32,
            tally: tally.borrow().clone(),
            events_shared: ids.shared,
            events_added: ids.added,
            kallsyms: ks[k],
            printk: pk[k],
            comms: cl[k],
        })
        .collect())
}

impl GuestSummary {
    fn json(&self, j: &mut Json) {
        j.begin_object(None);
        j.str("name", &self.name);
        j.str("path", &self.path);
        j.str("source", &self.source);
        j.str("sync", self.source_key);
        j.num("vcpus", self.vcpus as i64);
        let t = &self.tally;
        j.num("records", t.records as i64);
        if let (Some(f), Some(l)) = (t.first, t.last) {
            j.big("firstRaw", f.0);
            j.big("first", f.1);
            j.big("lastRaw", l.0);
            j.big("last", l.1);
        }
        j.num("eventsShared", self.events_shared as i64);
        j.num("eventsAdded", self.events_added as i64);
        for (key, k) in [("kallsyms", self.kallsyms), ("printk", self.printk), ("comms", self.comms)] {
            j.begin_object(Some(key));
            j.num("added", k.added as i64);
            j.num("dropped", k.dropped as i64);
            j.end_object();
        }
        j.num("unknownEvents", t.unknown_events as i64);
        j.num("tooLarge", t.too_large as i64);
        j.begin_array(Some("notes"));
        for n in &t.notes {
            j.item_str(n);
        }
        j.end_array();
        j.end_object();
    }
}

/// The summary for JavaScript: the host's path, whether its times print as nanoseconds, and
/// each guest's summary.
pub fn summary_json(host: &str, nanoseconds: bool, guests: &[GuestSummary]) -> String {
    let mut j = Json::new();
    j.begin_object(None);
    j.str("host", host);
    j.bool("nanoseconds", nanoseconds);
    j.begin_array(Some("guests"));
    for g in guests {
        g.json(&mut j);
    }
    j.end_array();
    j.end_object();
    j.finish()
}

/// A number as the user writes it: decimal or 0x hex, with an optional minus sign.
fn number(s: &str) -> Option<i128> {
    let (neg, digits) = match s.trim().strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.trim()),
    };
    let v = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<u64>().ok()?,
    } as i128;
    Some(if neg { -v } else { v })
}

impl Options {
    pub fn new(method: Method) -> Options {
        Options { method, guests: Vec::new() }
    }

    fn guest(&mut self, key: &str) -> &mut GuestArgs {
        let i = match self.guests.iter().position(|g| g.key == key) {
            Some(i) => i,
            None => {
                self.guests.push(GuestArgs { key: key.to_string(), ..GuestArgs::default() });
                self.guests.len() - 1
            }
        };
        &mut self.guests[i]
    }

    /// One per-guest option as the CLI takes it: `tsc-offset GUEST[:VCPU]=N` (KVM's sign, a
    /// u64 or a negative number), `ts-offset GUEST=N` (trace-cmd's sign), `tsc-scaling
    /// GUEST=RATIO,FRAC`, `vcpu-pids GUEST=PID,PID,...` (vCPU 0 first).
    pub fn add(&mut self, flag: &str, arg: &str) -> Result<(), String> {
        let bad = |what: &str| format!("--{flag} {arg}: {what}");
        let (key, value) = arg.rsplit_once('=').ok_or_else(|| bad("GUEST=VALUE expected"))?;
        if key.is_empty() {
            return Err(bad("a guest name before '='"));
        }
        match flag {
            "tsc-offset" => {
                let (guest, vcpu) = match key.rsplit_once(':') {
                    Some((g, v)) if !g.is_empty() && v.parse::<u32>().is_ok() => (g, v.parse::<u32>().ok()),
                    _ => (key, None),
                };
                let n = number(value).filter(|n| (i64::MIN as i128..=u64::MAX as i128).contains(n)).ok_or_else(|| bad("a 64-bit offset"))?;
                self.guest(guest).manual.tsc_offsets.push((vcpu, n as i64 as u64));
            }
            "ts-offset" => {
                let n = number(value).and_then(|n| i64::try_from(n).ok()).ok_or_else(|| bad("a signed 64-bit offset"))?;
                self.guest(key).manual.ts_offset = n;
            }
            "tsc-scaling" => {
                let (r, f) = value.split_once(',').ok_or_else(|| bad("RATIO,FRAC expected"))?;
                let ratio = number(r).and_then(|n| u64::try_from(n).ok()).filter(|&n| n > 0).ok_or_else(|| bad("a positive ratio"))?;
                let frac = number(f).and_then(|n| u32::try_from(n).ok()).filter(|&n| n < 64).ok_or_else(|| bad("fraction bits from 0 to 63"))?;
                self.guest(key).manual.scaling = Some((ratio, frac));
            }
            "vcpu-pids" => {
                let pids = value.split(',').map(|p| number(p).and_then(|n| i32::try_from(n).ok())).collect::<Option<Vec<i32>>>();
                self.guest(key).vcpu_pids = Some(pids.filter(|p| !p.is_empty()).ok_or_else(|| bad("a list of pids, vCPU 0 first"))?);
            }
            _ => return Err(format!("unknown merge option --{flag}")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_as_the_cli_gives_them() {
        let mut o = Options::new(Method::Auto);
        o.add("tsc-offset", "vm1=18446743360465545001").unwrap();
        o.add("tsc-offset", "vm1:1=-0x10").unwrap();
        o.add("ts-offset", "guest.dat=-5").unwrap();
        o.add("tsc-scaling", "vm1=0x1800000000000,48").unwrap();
        o.add("vcpu-pids", "vm1=1227,1229").unwrap();
        let vm1 = &o.guests[0];
        assert_eq!(vm1.manual.tsc_offsets, [(None, 18446743360465545001), (Some(1), (-16i64) as u64)]);
        assert_eq!(vm1.manual.scaling, Some((0x1800000000000, 48)));
        assert_eq!(vm1.vcpu_pids.as_deref(), Some(&[1227, 1229][..]));
        assert_eq!(o.guests[1].manual.ts_offset, -5);
        assert_eq!(o.add("ts-offset", "x=abc").unwrap_err(), "--ts-offset x=abc: a signed 64-bit offset");
        assert_eq!(o.add("tsc-offset", "=5").unwrap_err(), "--tsc-offset =5: a guest name before '='");
        assert!(o.add("tsc-scaling", "x=3,64").is_err());
    }

    #[test]
    fn guest_names() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(number("0x10"), Some(16));
        assert_eq!(number("-7"), Some(-7));
        assert_eq!(number("1e3"), None);
    }
}
