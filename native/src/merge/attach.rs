//! `tracedat attach`: copies of a host and its guests in which stock `trace-cmd report -i host
//! -i guest` (3.1.6, which has no `attach` of its own) orders every record truly.
//!
//! trace-cmd lines a guest up only by its TIME_SHIFT option, linked to the host by trace ids
//! (the host's GUEST option names the guest's TRACEID; notes B). So each guest copy gets a
//! TRACEID and a TIME_SHIFT computed from the guest's clock ([`crate::time::sync`]), and the
//! host copy a GUEST option per guest. Pages are copied as they are.
//!
//! A TIME_SHIFT in step mode maps a guest time to `guest + offset` with the offset of the last
//! sample at or before it. A vCPU's clock is such a step function of its guest time when its
//! guest times never go back: one sample where each offset starts, and a last one repeated a
//! tick later (trace-cmd uses the second-to-last sample's offset past the last sample). Where
//! no TIME_SHIFT can say it (a vCPU whose clock went back, so that one guest time has two host
//! times; or TSC scaling, which trace-cmd multiplies into the guest time where it would
//! overflow), the guest copy's timestamps are rewritten onto host time, with a TIME_SHIFT of
//! offset 0.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::format::error::Error;
use crate::format::file::{BufferKind, Trace};
use crate::format::options::{self, TimeShift, TsSample};
use crate::merge::guests;
use crate::merge::plan::{fnv1a, plan, Guests, MergeError, MergeInput, Options, Planned};
use crate::merge::stream::{guest_buffers, Tally, Target};
use crate::out::json::Json;
use crate::ring::records::Records;
use crate::time::sync::{GuestClock, Source};
use crate::time::timesync::Clock;
use crate::write::copy;
use crate::write::layout::{Input, Layout};
use crate::write::progress::Progress;
use crate::write::writer::{self, Spec, WriteError};

/// How a guest's copy lines it up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Its own TIME_SHIFT, kept.
    Kept,
    /// A TIME_SHIFT written, with this many samples per vCPU.
    Shift(Vec<usize>),
    /// Timestamps rewritten onto host time (no TIME_SHIFT can say the mapping).
    Rewritten,
}

/// One guest's copy.
#[derive(Clone, Debug)]
pub struct Attached {
    pub name: String,
    pub path: String,
    pub out: String,
    pub source: String,
    pub mode: Mode,
    pub notes: Vec<String>,
}

/// The offsets of one vCPU as a step function of guest time, or why it is not one.
/// How many guest records [`steps`] reads between two calls of its `pace` (which lets go of
/// the mapped pages read, so that a long pass stays flat in memory).
const PACE_RECORDS: u64 = 1 << 16;

fn steps(guest: &Trace, data: &[u8], cpu: u32, clock: &GuestClock, pace: &mut dyn FnMut()) -> crate::format::error::Result<Result<Vec<TsSample>, String>> {
    let top = guest.buffers.iter().position(|b| b.name.is_empty() && matches!(b.kind, BufferKind::Flyrecord { .. }));
    let mut vcpu = clock.vcpu(cpu);
    let mut samples: Vec<TsSample> = Vec::new();
    if let Some(top) = top {
        let mut r = Records::new(guest, data, top, Some(&[cpu]), Clock::default(), false)?;
        let mut last: Option<u64> = None;
        let mut read = 0u64;
        while let Some(g) = r.next_with(data, |rec| rec.raw)? {
            read += 1;
            if read.is_multiple_of(PACE_RECORDS) {
                pace();
            }
            if last.is_some_and(|l| g < l) {
                return Ok(Err(format!("vCPU {cpu}'s guest clock goes back (from {} to {g})", last.unwrap_or(0))));
            }
            last = Some(g);
            let offset = clock.host(&mut vcpu, g).wrapping_sub(g) as i64;
            if samples.last().is_none_or(|s| s.offset != offset) {
                samples.push(TsSample { time: g as i64, offset, scaling: 1, fraction: 0 });
            }
        }
    }
    if samples.is_empty() {
        let offset = clock.host(&mut vcpu, 0) as i64;
        samples.push(TsSample { time: 0, offset, scaling: 1, fraction: 0 });
    }
    // Past the last sample trace-cmd takes the second-to-last one's offset: repeat the last.
    if samples.len() > 1 {
        let last = samples[samples.len() - 1];
        samples.push(TsSample { time: last.time.wrapping_add(1), ..last });
    }
    Ok(Ok(samples))
}

/// Writes the copies into `dir`, named as the inputs: all of them, or none.
pub fn attach(inputs: &[MergeInput<'_>], opts: &Options, dir: &Path, spec: &Spec, progress: &mut Progress) -> Result<(String, Vec<Attached>), MergeError> {
    let Guests { host: hi, guests: planned, options: host_guests, host_tsc2nsec } = plan(inputs, opts, "attach", &mut || progress.pace_now())?;
    let name_of = |i: usize| inputs[i].path.rsplit('/').next().unwrap_or(inputs[i].path).to_string();
    let mut names: Vec<String> = (0..inputs.len()).map(name_of).collect();
    names.sort();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(MergeError::Usage(format!("two inputs named {}: their copies would have one name in the output directory", w[0])));
    }
    let ids: Vec<Option<(u64, u64)>> = inputs.iter().map(|i| i.id).collect();
    let host = &inputs[hi];
    let (ht, hd) = (host.trace, host.data);
    let e = ht.endian;
    let host_id = guests::trace_id(ht, hd).unwrap_or_else(|| fnv1a(host.path.as_bytes()));
    let mut w = Writing { spec, ids: &ids, progress };

    // The host: its GUEST options for these guests replaced, a TRACEID if it had none.
    let mut set: Vec<(u16, Option<Vec<u8>>)> = Vec::new();
    let ours: Vec<u64> = planned.iter().map(|p| p.trace_id).collect();
    for g in host_guests.iter().filter(|g| !ours.contains(&g.trace_id)) {
        set.push((options::GUEST, Some(g.encode(e))));
    }
    set.extend(planned.iter().map(|p| (options::GUEST, Some(p.guest_option().encode(e)))));
    set.push((options::TRACEID, Some(e.put_u64(host_id).to_vec())));
    let host_spec = Spec { buffers: None, cpus: None, options: set, ..spec.clone() };
    let host_out = dir.join(name_of(hi));
    w.write(copy::layout(ht, Input { data: hd, file: host.file }, &host_spec)?, &host_out, hi)?;

    // The copies are a set: when one fails, the ones already written go too.
    let mut attached = Vec::new();
    for p in &planned {
        match attach_guest(inputs, p, host_id, host_tsc2nsec, dir.join(name_of(p.input)), &mut w) {
            Ok(a) => attached.push(a),
            Err(e) => {
                let _ = std::fs::remove_file(&host_out);
                for a in &attached {
                    let _ = std::fs::remove_file(&a.out);
                }
                return Err(e);
            }
        }
    }
    Ok((host_out.to_string_lossy().into_owned(), attached))
}

/// How the copies are written: one spec, the inputs' identities (never overwritten), and the
/// progress that also paces the passes over the inputs.
struct Writing<'a> {
    spec: &'a Spec,
    ids: &'a [Option<(u64, u64)>],
    progress: &'a mut Progress,
}

impl Writing<'_> {
    /// Writes the copy of input `input` to `out`.
    fn write(&mut self, layout: Layout<'_>, out: &Path, input: usize) -> Result<(), MergeError> {
        writer::write_layout_file(layout, self.ids, out, self.spec, self.progress).map(|_| ()).map_err(|err| match err {
            WriteError::Input(err) => MergeError::Input(input, err),
            other => MergeError::Write(other),
        })
    }
}

/// One guest's copy, `out`, lined up with the host whose trace id is `host_id`.
fn attach_guest(
    inputs: &[MergeInput<'_>],
    p: &Planned,
    host_id: u64,
    host_tsc2nsec: Option<options::Tsc2Nsec>,
    out: PathBuf,
    w: &mut Writing<'_>,
) -> Result<Attached, MergeError> {
    let spec = w.spec;
    let g = &inputs[p.input];
    let (gt, gd) = (g.trace, g.data);
    let e = gt.endian;
    let fail = |err: Error| MergeError::Input(p.input, err);
    let mut notes = p.clock.notes.clone();
    let vcpus = p.pids.len() as u32;
    // The mode, with the TIME_SHIFT samples per vCPU when one can say it.
    let kept = matches!(p.clock.source, Source::TimeShift { .. }) && p.clock.ts_offset == 0;
    let mut shift: Result<Vec<Vec<TsSample>>, String> = Ok(Vec::new());
    if p.clock.scaled() {
        shift = Err("the guest's TSC is scaled, and trace-cmd multiplies a TIME_SHIFT's scaling into guest times, where it overflows".into());
    }
    for cpu in (0..vcpus).filter(|_| !kept) {
        let Ok(list) = &mut shift else { break };
        match steps(gt, gd, cpu, &p.clock, &mut || w.progress.pace_now()).map_err(fail)? {
            Ok(s) => list.push(s),
            Err(why) => shift = Err(why),
        }
    }
    let mut set: Vec<(u16, Option<Vec<u8>>)> = vec![(options::TRACEID, Some(e.put_u64(p.trace_id).to_vec()))];
    // trace-cmd turns the guest's times into nanoseconds with the guest's own TSC2NSEC: the
    // host's, if the guest has none.
    if gt.option_payload(gd, options::TSC2NSEC).is_none() {
        if let Some(t) = host_tsc2nsec {
            set.push((options::TSC2NSEC, Some(t.encode(e))));
        }
    }
    let copied = |set| copy::layout(gt, Input { data: gd, file: g.file }, &Spec { buffers: None, cpus: None, options: set, ..spec.clone() });
    let (layout, mode) = match shift {
        _ if kept => (copied(set)?, Mode::Kept),
        Ok(cpus) => {
            let counts = cpus.iter().map(Vec::len).collect();
            set.push((options::TIME_SHIFT, Some(TimeShift { peer_id: host_id, flags: 0, cpus }.encode(e))));
            (copied(set)?, Mode::Shift(counts))
        }
        Err(why) => {
            notes.push(format!("{why}: its copy's timestamps are rewritten onto host time, with a TIME_SHIFT of offset 0"));
            let zero = (0..vcpus).map(|_| vec![TsSample { time: 0, offset: 0, scaling: 1, fraction: 0 }]).collect();
            set.push((options::TIME_SHIFT, Some(TimeShift { peer_id: host_id, flags: 0, cpus: zero }.encode(e))));
            let mut layout = copy::layout(gt, Input { data: gd, file: g.file }, &Spec { buffers: Some(Vec::new()), cpus: None, options: set, ..spec.clone() })?;
            let target = Target {
                top_name: String::new(),
                clock: gt.buffers.iter().find(|b| b.name.is_empty()).and_then(|b| b.clock.clone()),
                endian: e,
                long: gt.kernel_long,
                page_size: layout.page_size,
                ids: None,
                reported: Clock::default(),
                tally: Rc::new(RefCell::new(Tally::default())),
                failed: Rc::new(Cell::new(None)),
                input: p.input,
            };
            layout.buffers = guest_buffers(gt, gd, &p.clock, &target).map_err(fail)?;
            notes.extend(target.tally.borrow().notes.iter().cloned());
            (layout, Mode::Rewritten)
        }
    };
    w.write(layout, &out, p.input)?;
    Ok(Attached { name: p.name.clone(), path: g.path.to_string(), out: out.to_string_lossy().into_owned(), source: p.clock.source.to_string(), mode, notes })
}

/// The summary for JavaScript.
pub fn summary_json(host: &str, guests: &[Attached]) -> String {
    let mut j = Json::new();
    j.begin_object(None);
    j.str("host", host);
    j.begin_array(Some("guests"));
    for g in guests {
        j.begin_object(None);
        j.str("name", &g.name);
        j.str("path", &g.path);
        j.str("out", &g.out);
        j.str("source", &g.source);
        match &g.mode {
            Mode::Kept => j.str("mode", "kept"),
            Mode::Rewritten => j.str("mode", "rewritten"),
            Mode::Shift(counts) => {
                j.str("mode", "time-shift");
                j.begin_array(Some("samples"));
                for n in counts {
                    j.item_num(*n as i64);
                }
                j.end_array();
            }
        }
        j.begin_array(Some("notes"));
        for n in &g.notes {
            j.item_str(n);
        }
        j.end_array();
        j.end_object();
    }
    j.end_array();
    j.end_object();
    j.finish()
}
