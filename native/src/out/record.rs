//! `report --format json|csv`: a record as one JSON object per line, or as one CSV row with the
//! common columns and its fields as JSON. The values are the report's own: the same records in
//! the same order, times as its clock converts them, comms as its comm table holds them when
//! the text line would be printed, fields as `-R` reads them (see [`Value`]) with the names
//! trace-cmd's plugins and `__print_symbolic` give their values.

use std::collections::HashMap;

use crate::out::json::Json;
use crate::tep::event::Tep;
use crate::tep::plugins::{self, Fields, Handler};
use crate::tep::print_fmt::{Ctx, Eval, Value, View};

/// How the report writes its records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// trace-cmd's text.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
    /// JSON lines for the events API: integers beyond 2^53 marked (see [`Json::marked_bigints`]).
    JsonApi,
    /// CSV: a header, then per record the common columns and a JSON column of its fields.
    Csv,
}

/// The CSV stream's columns.
const CSV_HEADER: &[u8] = b"ts,source,buffer,cpu,pid,comm,system,event,flags,fields\n";

/// Where a record was read and when: what every line carries.
pub struct Common<'a> {
    pub ts: u64,
    /// The input's file name as given (its base name).
    pub source: &'a str,
    /// The instance name, empty for the top buffer.
    pub buffer: &'a str,
    pub cpu: u32,
}

/// Encodes records, remembering per event of each input how its print fmt shows its fields.
pub struct Encoder {
    format: Format,
    views: HashMap<(usize, usize), Vec<Option<View>>>,
    header: bool,
}

/// One record's parts other than its fields.
struct Head<'a> {
    common: &'a Common<'a>,
    pid: Option<i32>,
    comm: Option<&'a [u8]>,
    system: Option<&'a str>,
    event: Option<&'a str>,
    flags: Option<u64>,
}

impl Encoder {
    pub fn new(format: Format) -> Encoder {
        Encoder { format, views: HashMap::new(), header: format == Format::Csv }
    }

    /// The CSV header, before the first record.
    fn start(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.header) {
            out.extend_from_slice(CSV_HEADER);
        }
    }

    /// Events lost before a record: `missed` of them, or an unknown number when negative.
    pub fn lost(&mut self, c: &Common<'_>, missed: i64, out: &mut Vec<u8>) {
        self.start(out);
        let head = Head { common: c, pid: None, comm: None, system: None, event: Some("lost_events"), flags: None };
        self.write(
            &head,
            out,
            Some(|j: &mut Json| {
                if missed > 0 {
                    j.int("count", missed as i128);
                } else {
                    j.null("count");
                }
            }),
        );
    }

    /// A record of input `fi` whose event is `ev` (None: an id no format declares); `comm` is
    /// its task's name as the text line would print it.
    #[allow(clippy::too_many_arguments)]
    pub fn record(&mut self, c: &Common<'_>, fi: usize, tep: &mut Tep, ev: Option<usize>, data: &[u8], size: usize, comm: &[u8], out: &mut Vec<u8>) {
        self.start(out);
        let pid = tep.pid_of(data);
        let Some(ei) = ev else {
            let head = Head { common: c, pid: Some(pid), comm: Some(comm), system: None, event: None, flags: None };
            return self.write(&head, out, None::<fn(&mut Json)>);
        };
        let (endian, long_size) = tep.ctx();
        let ctx = Ctx { size, endian, long_size, funcs: &tep.funcs, printk: &tep.printk };
        let e = &mut tep.events[ei];
        let flags = e.fields.iter().take(e.nr_common).find(|f| f.name == "common_flags").map(|f| ctx.read(data, f.offset as usize, f.size as usize));
        let nr = e.nr_common;
        // The names a plugin prints instead of numbers, before the fields are lent to Eval.
        let plugin: Vec<Option<&'static str>> = if e.handler == Handler::None {
            Vec::new()
        } else {
            let fields = Fields { all: &e.fields, nr_common: nr };
            e.fields.iter().map(|f| plugins::symbol(e.handler, &fields, &ctx, data, &f.name)).collect()
        };
        let (prog, fields) = e.compiled(long_size);
        let mut eval = Eval { prog, fields };
        let views = self.views.entry((fi, ei)).or_insert_with(|| eval.views());
        let values: Vec<(usize, Value)> = (nr..eval.fields.len())
            .map(|i| match plugin.get(i).copied().flatten() {
                Some(name) => (i, Value::Name(name.as_bytes().to_vec())),
                None => (i, eval.value(&ctx, data, i, views.get(i).copied().flatten())),
            })
            .collect();
        let e = &tep.events[ei];
        let head = Head { common: c, pid: Some(pid), comm: Some(comm), system: Some(&e.system), event: Some(&e.name), flags };
        self.write(
            &head,
            out,
            Some(|j: &mut Json| {
                for (i, v) in &values {
                    let name = &e.fields[*i].name;
                    match v {
                        Value::Int(n) => j.int(name, *n),
                        Value::Str(s) | Value::Name(s) => j.bytes(name, s),
                        Value::Array(a) => {
                            j.begin_array(Some(name));
                            for n in a {
                                j.item_int(*n);
                            }
                            j.end_array();
                        }
                    }
                }
            }),
        );
    }

    /// The record's line: a JSON object, or a CSV row whose last column is the `fields` object
    /// (whose members `fields` writes; None: null).
    fn write(&self, h: &Head<'_>, out: &mut Vec<u8>, fields: Option<impl FnOnce(&mut Json)>) {
        let c = h.common;
        match self.format {
            Format::Json | Format::JsonApi | Format::Text => {
                let mut j = Json::over(std::mem::take(out));
                j.marked_bigints = self.format == Format::JsonApi;
                j.begin_object(None);
                j.int("ts", c.ts as i128);
                j.str("source", c.source);
                j.str("buffer", c.buffer);
                j.num("cpu", c.cpu as i64);
                match h.pid {
                    Some(p) => j.num("pid", p as i64),
                    None => j.null("pid"),
                }
                match h.comm {
                    Some(s) => j.bytes("comm", s),
                    None => j.null("comm"),
                }
                j.opt_str("system", h.system);
                j.opt_str("event", h.event);
                match h.flags {
                    Some(f) => j.int("flags", f as i128),
                    None => j.null("flags"),
                }
                fields_object(&mut j, Some("fields"), fields);
                j.end_object();
                *out = j.into_bytes();
            }
            Format::Csv => {
                let text = |v: Option<String>| v.unwrap_or_default();
                let cells = [
                    c.ts.to_string(),
                    c.source.to_string(),
                    c.buffer.to_string(),
                    c.cpu.to_string(),
                    text(h.pid.map(|p| p.to_string())),
                    text(h.comm.map(|s| String::from_utf8_lossy(s).into_owned())),
                    text(h.system.map(str::to_string)),
                    text(h.event.map(str::to_string)),
                    text(h.flags.map(|f| f.to_string())),
                ];
                for cell in &cells {
                    csv_cell(out, cell.as_bytes());
                    out.push(b',');
                }
                let mut j = Json::new();
                fields_object(&mut j, None, fields);
                csv_cell(out, &j.into_bytes());
            }
        }
        out.push(b'\n');
    }
}

/// The fields object (`null` without fields) under `key`.
fn fields_object(j: &mut Json, key: Option<&str>, fields: Option<impl FnOnce(&mut Json)>) {
    match (fields, key) {
        (Some(f), _) => {
            j.begin_object(key);
            f(j);
            j.end_object();
        }
        (None, Some(k)) => j.null(k),
        (None, None) => j.null_item(),
    }
}

/// One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break.
pub fn csv_cell(out: &mut Vec<u8>, s: &[u8]) {
    if !s.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.extend_from_slice(s);
        return;
    }
    out.push(b'"');
    for &b in s {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}
