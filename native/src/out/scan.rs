//! What reading every record finds, as JSON for the TypeScript API: `scan()` per buffer and
//! CPU, and the regions a salvaging record cursor or report stepped over (`skipped()`,
//! `reportSkipped()`).

use crate::format::error::Result;
use crate::format::file::{BufferKind, Trace};
use crate::out::json::Json;
use crate::out::report::Damaged;
use crate::ring::records::{Records, Skip};

/// `[{name, cpus: [{cpu, count, first?, last?, firstRaw?, lastRaw?, missedMarks, missedEvents,
/// skipped?}]}]` per flyrecord buffer: the record count, first and last timestamps (reported
/// and raw) and lost-event marks of each CPU. Reads every page, so it is also the deep
/// validation of `dump -v`: the first damaged page is the error, or with `salvage` it is
/// stepped over and listed in the CPU's `skipped`.
pub fn scan(t: &Trace, data: &[u8], salvage: bool) -> Result<String> {
    let mut j = Json::new();
    j.begin_array(None);
    for (i, b) in t.buffers.iter().enumerate() {
        let BufferKind::Flyrecord { cpus } = &b.kind else { continue };
        j.begin_object(None);
        j.str("name", &b.name);
        j.begin_array(Some("cpus"));
        for d in cpus {
            let clock = t.clock(data, i, false);
            let mut r = Records::new(t, data, i, Some(&[d.cpu]), clock, salvage)?;
            let (mut count, mut first, mut last, mut missed_pages, mut missed) = (0u64, None, None, 0u64, 0i64);
            while let Some((ts, raw, m)) = r.next_with(data, |r| (r.ts, r.raw, r.missed))? {
                count += 1;
                first.get_or_insert((ts, raw));
                last = Some((ts, raw));
                if m != 0 {
                    missed_pages += 1;
                    if m > 0 {
                        missed += m;
                    }
                }
            }
            j.begin_object(None);
            j.num("cpu", d.cpu as i64);
            j.num("count", count as i64);
            if let (Some(f), Some(l)) = (first, last) {
                j.big("first", f.0);
                j.big("last", l.0);
                j.big("firstRaw", f.1);
                j.big("lastRaw", l.1);
            }
            j.num("missedMarks", missed_pages as i64);
            j.num("missedEvents", missed);
            if salvage {
                j.begin_array(Some("skipped"));
                for s in r.cpus.iter().flat_map(|c| &c.skipped) {
                    j.begin_object(None);
                    skip_fields(&mut j, s);
                    j.end_object();
                }
                j.end_array();
            }
            j.end_object();
        }
        j.end_array();
        j.end_object();
    }
    j.end_array();
    Ok(j.finish())
}

/// `[{cpu, what, section, offset, expected}]`: what a salvaging cursor stepped over since the
/// last call (the list is emptied).
pub fn skipped(records: &mut Records) -> String {
    let mut j = Json::new();
    j.begin_array(None);
    for cpu in records.cpus.iter_mut() {
        let n = cpu.cpu();
        for s in cpu.skipped.drain(..) {
            j.begin_object(None);
            j.num("cpu", n as i64);
            skip_fields(&mut j, &s);
            j.end_object();
        }
    }
    j.end_array();
    j.finish()
}

fn skip_fields(j: &mut Json, s: &Skip) {
    j.str("what", s.what);
    j.str("section", &s.error.section);
    j.num("offset", s.error.offset as i64);
    j.str("expected", &s.error.expected);
}

/// `[{input, buffer, cpu, what, section, offset, expected, at, bytes}]`: what a salvaging
/// report stepped over since the last call (the list is emptied); `at` and `bytes` are the
/// region its marker line names.
pub fn report_skipped(list: &mut Vec<Damaged>) -> String {
    let mut j = Json::new();
    j.begin_array(None);
    for d in list.drain(..) {
        j.begin_object(None);
        j.num("input", d.input as i64);
        j.str("buffer", &d.buffer);
        j.num("cpu", d.cpu as i64);
        skip_fields(&mut j, &d.skip);
        j.num("at", d.skip.at as i64);
        j.num("bytes", d.skip.bytes as i64);
        j.end_object();
    }
    j.end_array();
    j.finish()
}
