//! A host and its guests as one timeline in host time, read record by record: the merged
//! record iterator of the API, without writing a file.
//!
//! Its sources are every flyrecord buffer of every input: the host's on the host's clock, each
//! guest's (those on the guest's own clock, as merge takes them) through its clock onto the
//! host's ([`Records::set_guest_clock`]) and then the host's conversion. The one k-way merge
//! orders them; ties go to the earlier source (the host's buffers first, then each guest's).

use crate::format::error::Error;
use crate::format::file::{BufferKind, Trace};
use crate::merge::guests::guest_options;
use crate::merge::kway::KWay;
use crate::merge::plan::{plan, MergeError, MergeInput, Options};
use crate::out::json::Json;
use crate::ring::records::{Record, Records};

/// One buffer of one input.
pub struct Source {
    pub input: usize,
    pub buffer: usize,
    /// The buffer's name as the merged file would call it: the host's as they are, a guest's
    /// top buffer by the guest's name, its instances `guest:instance`.
    pub name: String,
    /// The guest (an index into [`Timeline::guests`]) whose records these are; None for the host's.
    pub guest: Option<usize>,
    records: Records,
}

/// A guest of the timeline: its name and the host pid of each vCPU thread (-1 or 0 where not
/// known).
pub struct TimelineGuest {
    pub name: String,
    pub input: usize,
    pub pids: Vec<i32>,
}

pub struct Timeline {
    pub sources: Vec<Source>,
    /// The input that is the host.
    pub host: usize,
    pub guests: Vec<TimelineGuest>,
    order: Option<KWay>,
    /// What planning the guests' clocks found worth saying, per guest.
    pub notes: Vec<String>,
}

impl Timeline {
    /// The timeline of `inputs`, guests lined up as `opts` says (as `merge` would).
    pub fn new(inputs: &[MergeInput<'_>], opts: &Options, pace: &mut dyn FnMut()) -> Result<Timeline, MergeError> {
        let guests = plan(inputs, opts, "read as one timeline", pace)?;
        let host = &inputs[guests.host];
        let (ht, hd) = (host.trace, host.data);
        let top = ht.buffers.iter().position(|b| b.name.is_empty()).unwrap_or(0);
        let host_clock = ht.clock(hd, top, false);
        let mut sources = Vec::new();
        let mut notes = Vec::new();
        let flyrecords = |t: &Trace| -> Vec<usize> { (0..t.buffers.len()).filter(|&i| matches!(t.buffers[i].kind, BufferKind::Flyrecord { .. })).collect() };
        // The top buffer first, as trace-cmd orders a file's handles.
        let ordered = |t: &Trace| {
            let mut v = flyrecords(t);
            v.sort_by_key(|&i| !t.buffers[i].name.is_empty());
            v
        };
        for bi in ordered(ht) {
            let records = Records::new(ht, hd, bi, None, ht.clock(hd, bi, false), false).map_err(|e| MergeError::Input(guests.host, e))?;
            sources.push(Source { input: guests.host, buffer: bi, name: ht.buffers[bi].name.clone(), guest: None, records });
        }
        let mut listed = Vec::new();
        for g in &guests.guests {
            let index = listed.len();
            listed.push(TimelineGuest { name: g.name.clone(), input: g.input, pids: g.pids.clone() });
            let gi = &inputs[g.input];
            let (gt, gd) = (gi.trace, gi.data);
            let top_clock = gt.buffers.iter().find(|b| b.name.is_empty()).and_then(|b| b.clock.clone());
            notes.extend(g.clock.notes.iter().map(|n| format!("{}: {n}", g.name)));
            notes.push(format!("{}: lined up by {}", g.name, g.clock.source));
            for bi in ordered(gt) {
                let b = &gt.buffers[bi];
                if !b.name.is_empty() && b.clock != top_clock {
                    notes.push(format!("{}: buffer \"{}\" left out: its clock is not the one the guest was lined up on", g.name, b.name));
                    continue;
                }
                let clock = host_clock.clone().without_time_shift().shifted(g.clock.ts_offset);
                let mut records = Records::new(gt, gd, bi, None, clock, false).map_err(|e: Error| MergeError::Input(g.input, e))?;
                records.set_guest_clock(&g.clock);
                let name = if b.name.is_empty() { g.name.clone() } else { format!("{}:{}", g.name, b.name) };
                sources.push(Source { input: g.input, buffer: bi, name, guest: Some(index), records });
            }
        }
        Ok(Timeline { sources, host: guests.host, guests: listed, order: None, notes })
    }

    /// The timeline of one file `tracedat merge` wrote: its buffers on their own clocks (the
    /// guests' are on host time already), a guest being the buffers its GUEST option names
    /// (`NAME`, and its instances `NAME:INSTANCE`).
    pub fn merged_file(trace: &Trace, data: &[u8]) -> Result<Timeline, Error> {
        let listed: Vec<TimelineGuest> = guest_options(trace, data)
            .into_iter()
            .filter(|g| trace.buffers.iter().any(|b| b.name == g.name))
            .map(|g| {
                let mut pids = vec![-1; g.vcpus.iter().map(|&(c, _)| c as usize + 1).max().unwrap_or(0).min(4096)];
                for (c, p) in g.vcpus {
                    if let Some(slot) = pids.get_mut(c as usize) {
                        *slot = p;
                    }
                }
                TimelineGuest { name: g.name, input: 0, pids }
            })
            .collect();
        let mut order: Vec<usize> = (0..trace.buffers.len()).filter(|&i| matches!(trace.buffers[i].kind, BufferKind::Flyrecord { .. })).collect();
        order.sort_by_key(|&i| !trace.buffers[i].name.is_empty());
        let mut sources = Vec::new();
        for bi in order {
            let name = trace.buffers[bi].name.clone();
            let guest = listed.iter().position(|g| name == g.name || name.strip_prefix(g.name.as_str()).is_some_and(|r| r.starts_with(':')));
            let records = Records::new(trace, data, bi, None, trace.clock(data, bi, false), false)?;
            sources.push(Source { input: 0, buffer: bi, name, guest, records });
        }
        Ok(Timeline { sources, host: 0, guests: listed, order: None, notes: Vec::new() })
    }

    /// The next record in host time with the index of its source, or None at the end. `data`
    /// holds the inputs' bytes in order; `f` gets the record while it is borrowed.
    pub fn next_with<R>(&mut self, data: &[&[u8]], f: impl FnOnce(usize, Record<'_>) -> R) -> Result<Option<R>, (usize, Error)> {
        let bytes = |s: &Source| data.get(s.input).copied().unwrap_or(&[]);
        let sources = &mut self.sources;
        let order = match &mut self.order {
            Some(o) => o,
            none => none.insert(KWay::build(sources.len(), |i| {
                let s = &mut sources[i];
                s.records.next_ts(bytes(s)).map_err(|e| (s.input, e))
            })?),
        };
        let Some((_, si)) = order.pop() else { return Ok(None) };
        let s = &mut sources[si];
        let d = bytes(s);
        let out = s.records.next_with(d, |r| f(si, r)).map_err(|e| (s.input, e))?;
        order.put_back(si, s.records.next_ts(d).map_err(|e| (s.input, e))?);
        Ok(out)
    }

    /// For JavaScript: `{ host, sources: [{input, buffer, name}], notes }`.
    pub fn json(&self) -> String {
        let mut j = Json::new();
        j.begin_object(None);
        j.num("host", self.host as i64);
        j.begin_array(Some("sources"));
        for s in &self.sources {
            j.begin_object(None);
            j.num("input", s.input as i64);
            j.num("buffer", s.buffer as i64);
            j.str("name", &s.name);
            j.end_object();
        }
        j.end_array();
        j.begin_array(Some("notes"));
        for n in &self.notes {
            j.item_str(n);
        }
        j.end_array();
        j.end_object();
        j.finish()
    }
}
