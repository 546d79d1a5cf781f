//! `report --format json|csv`: a record as one JSON object per line, or as one CSV row with the
//! common columns and its fields as JSON. The values are the report's own: the same records in
//! the same order, times as its clock converts them, comms as its comm table holds them when
//! the text line would be printed, fields as `-R` reads them (see [`Value`]) with the names
//! trace-cmd's plugins and `__print_symbolic` give their values.
//!
//! Lines are written straight into the output: what every record of an event repeats (its
//! keys, system and name) is encoded once per event of each input, values borrow the record's
//! bytes, and nothing is allocated per record.

use crate::out::csv_dir::{EventFiles, Table};
use crate::out::json::{bytes_into, i64_into, int_into, string_into, u64_into};
use crate::tep::event::{Event, Tep};
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
    /// JSON lines for the events API: integers beyond 2^53 marked (see
    /// [`crate::out::json::Json::marked_bigints`]).
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

/// Encodes records, remembering per event of each input what its lines repeat.
pub struct Encoder {
    format: Format,
    /// CSV with one file per event instead of one stream.
    pub files: Option<EventFiles>,
    /// By input, then event: made at the event's first record.
    events: Vec<Vec<Option<EventKeys>>>,
    header: bool,
    /// The names a handler gives the fields of the record being written (kvm_exit's reason).
    plugin: Vec<Option<&'static str>>,
    /// A CSV row's fields object, before it is quoted as its last cell.
    cell: Vec<u8>,
    /// A row of a per-event CSV file.
    row: Vec<u8>,
    heads: Heads,
}

/// What every record of one event writes alike, encoded at its first.
struct EventKeys {
    /// How the print fmt shows each field (see [`Eval::views`]).
    views: Vec<Option<View>>,
    /// `common_flags` among the fields.
    flags: Option<usize>,
    /// `,"system":"S","event":"E","flags":`, the JSON members between comm and flags.
    json_head: Vec<u8>,
    /// `S,E,`: the CSV cells between comm and flags.
    csv_head: Vec<u8>,
    /// Per own field (the fields from `nr_common` on), its JSON key and colon, the first
    /// without a comma before it.
    keys: Vec<Vec<u8>>,
    /// The name of its per-event CSV file, before [`EventFiles`] makes it a file name.
    file: String,
    /// The header of its per-event CSV file.
    file_header: Vec<u8>,
}

impl EventKeys {
    fn new(e: &mut Event, long_size: u32) -> EventKeys {
        let nr = e.nr_common;
        let mut json_head = b",\"system\":".to_vec();
        string_into(&mut json_head, &e.system);
        json_head.extend_from_slice(b",\"event\":");
        string_into(&mut json_head, &e.name);
        json_head.extend_from_slice(b",\"flags\":");
        let mut csv_head = Vec::new();
        for s in [&e.system, &e.name] {
            csv_cell(&mut csv_head, s.as_bytes());
            csv_head.push(b',');
        }
        let keys = e
            .fields
            .iter()
            .skip(nr)
            .enumerate()
            .map(|(k, f)| {
                let mut key = if k > 0 { b",".to_vec() } else { Vec::new() };
                string_into(&mut key, &f.name);
                key.push(b':');
                key
            })
            .collect();
        let mut file_header = b"ts,source,buffer,cpu,pid,comm,flags".to_vec();
        for f in e.fields.iter().skip(nr) {
            file_header.push(b',');
            csv_cell(&mut file_header, f.name.as_bytes());
        }
        file_header.push(b'\n');
        let flags = e.fields.iter().take(nr).position(|f| f.name == "common_flags");
        let file = format!("{}-{}", e.system, e.name);
        let (prog, fields) = e.compiled(long_size);
        let views = Eval { prog, fields }.views();
        EventKeys { views, flags, json_head, csv_head, keys, file, file_header }
    }
}

impl Encoder {
    pub fn new(format: Format) -> Encoder {
        Encoder {
            format,
            files: None,
            events: Vec::new(),
            header: format == Format::Csv,
            plugin: Vec::new(),
            cell: Vec::new(),
            row: Vec::new(),
            heads: Heads::default(),
        }
    }

    /// No CSV header from this encoder: another writes it before the first record (the first
    /// report formatting thread, when a second one encodes every other chunk).
    pub fn header_elsewhere(&mut self) {
        self.header = false;
    }

    /// The CSV header, before the first record.
    fn start(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.header) {
            out.extend_from_slice(CSV_HEADER);
        }
    }

    /// Events lost before a record: `missed` of them, or an unknown number when negative.
    pub fn lost(&mut self, c: &Common<'_>, missed: i64, out: &mut Vec<u8>) {
        self.mark(c, Table::Lost, "lost_events", &[("count", (missed > 0).then_some(missed as i128))], out);
    }

    /// A damaged region `--salvage` stepped over: `bytes` at file offset `at`.
    pub fn damaged(&mut self, c: &Common<'_>, bytes: u64, at: u64, out: &mut Vec<u8>) {
        self.mark(c, Table::Damaged, "damaged", &[("bytes", Some(bytes as i128)), ("offset", Some(at as i128))], out);
    }

    /// A record of the reader's own (lost events, damage): `event` and its numbers (None: null).
    fn mark(&mut self, c: &Common<'_>, table: Table, event: &str, fields: &[(&str, Option<i128>)], out: &mut Vec<u8>) {
        if let Some(files) = self.files.as_mut() {
            let row = &mut self.row;
            row.clear();
            common_cells(row, c, None, None);
            for (k, (_, v)) in fields.iter().enumerate() {
                if k > 0 {
                    row.push(b',');
                }
                if let Some(n) = v {
                    decimal_into(row, *n);
                }
            }
            row.push(b'\n');
            let header = || {
                let names: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
                format!("ts,source,buffer,cpu,{}\n", names.join(",")).into_bytes()
            };
            return files.row(table, event, header, row);
        }
        self.start(out);
        let (csv, marked) = (self.format == Format::Csv, self.format == Format::JsonApi);
        if csv {
            csv_common(out, c, None, None);
            out.extend_from_slice(b",,");
            csv_cell(out, event.as_bytes());
            out.extend_from_slice(b",,");
        } else {
            self.heads.write(out, c, None, marked);
            out.extend_from_slice(b",\"system\":null,\"event\":");
            string_into(out, event);
            out.extend_from_slice(b",\"flags\":null,\"fields\":");
        }
        let obj = fields_sink(&mut self.cell, out, csv);
        obj.push(b'{');
        for (k, (name, v)) in fields.iter().enumerate() {
            if k > 0 {
                obj.push(b',');
            }
            string_into(obj, name);
            obj.push(b':');
            match v {
                Some(n) => int_into(obj, *n, marked),
                None => obj.extend_from_slice(b"null"),
            }
        }
        obj.push(b'}');
        end_line(out, csv.then_some(&self.cell));
    }

    /// A record as the report encodes it: the events lost before it as a record of their own,
    /// the record, then what its line would have taught the comm table (`teach`: the handlers
    /// run, not `-R`), so that later records' comms are the text's.
    #[allow(clippy::too_many_arguments)]
    pub fn encode(
        &mut self,
        c: &Common<'_>,
        fi: usize,
        tep: &mut Tep,
        ev: Option<usize>,
        data: &[u8],
        size: usize,
        missed: i64,
        teach: bool,
        out: &mut Vec<u8>,
    ) {
        if missed != 0 {
            self.lost(c, missed, out);
        }
        self.record(c, fi, tep, ev, data, size, out);
        if teach {
            teach_comms(tep, ev, data, size);
        }
    }

    /// A record of input `fi` whose event is `ev` (None: an id no format declares). Its comm
    /// is its task's name as the text line would print it.
    #[allow(clippy::too_many_arguments)]
    pub fn record(&mut self, c: &Common<'_>, fi: usize, tep: &mut Tep, ev: Option<usize>, data: &[u8], size: usize, out: &mut Vec<u8>) {
        self.start(out);
        let pid = tep.pid_of(data);
        let comm = tep.comms.find(pid);
        let generation = tep.comms.generation();
        let (csv, marked) = (self.format == Format::Csv, self.format == Format::JsonApi);
        let Some(ei) = ev else {
            if let Some(files) = self.files.as_mut() {
                let row = &mut self.row;
                row.clear();
                common_cells(row, c, Some(pid), Some(comm));
                row.pop();
                row.push(b'\n');
                return files.row(Table::Unknown, "unknown_events", || b"ts,source,buffer,cpu,pid,comm\n".to_vec(), row);
            }
            if csv {
                csv_common(out, c, Some(pid), Some(comm));
                out.extend_from_slice(b",,,,null");
            } else {
                self.heads.write(out, c, Some(Task { pid, comm, generation: tep.comms.generation() }), marked);
                out.extend_from_slice(b",\"system\":null,\"event\":null,\"flags\":null,\"fields\":null}");
            }
            out.push(b'\n');
            return;
        };
        let (endian, long_size) = tep.ctx();
        let ctx = Ctx { size, endian, long_size, funcs: &tep.funcs, printk: &tep.printk };
        let Some(e) = tep.events.get_mut(ei) else { return };
        let nr = e.nr_common;
        // The names a plugin prints instead of numbers, before the fields are lent to Eval.
        self.plugin.clear();
        if e.handler != Handler::None {
            let fields = Fields { all: &e.fields, nr_common: nr };
            self.plugin.extend(e.fields.iter().map(|f| plugins::symbol(e.handler, &fields, &ctx, data, &f.name)));
        }
        if self.events.len() <= fi {
            self.events.resize_with(fi.saturating_add(1), Vec::new);
        }
        let Some(by_event) = self.events.get_mut(fi) else { return };
        if by_event.len() <= ei {
            by_event.resize_with(ei.saturating_add(1), || None);
        }
        let Some(slot) = by_event.get_mut(ei) else { return };
        let keys = slot.get_or_insert_with(|| EventKeys::new(e, long_size));
        let flags = keys.flags.and_then(|i| e.fields.get(i)).map(|f| ctx.read(data, f.offset as usize, f.size as usize));
        let (prog, fields) = e.compiled(long_size);
        let mut eval = Eval { prog, fields };
        let end = nr.saturating_add(keys.keys.len());
        let plugin = |i: usize| self.plugin.get(i).copied().flatten();
        let view = |i: usize| keys.views.get(i).copied().flatten();
        if let Some(files) = self.files.as_mut() {
            let row = &mut self.row;
            row.clear();
            common_cells(row, c, Some(pid), Some(comm));
            if let Some(f) = flags {
                u64_into(row, f);
            }
            row.push(b',');
            for i in nr..end {
                if i > nr {
                    row.push(b',');
                }
                if let Some(name) = plugin(i) {
                    text_cell(row, name.as_bytes());
                    continue;
                }
                match eval.value(&ctx, data, i, view(i)) {
                    Value::Int(n) => decimal_into(row, n),
                    Value::Str(s) => text_cell(row, s),
                    Value::Name(s) => text_cell(row, &s),
                    Value::Array(a) => {
                        let cell = &mut self.cell;
                        cell.clear();
                        cell.push(b'[');
                        for (k, n) in a.iter().enumerate() {
                            if k > 0 {
                                cell.push(b',');
                            }
                            decimal_into(cell, *n);
                        }
                        cell.push(b']');
                        csv_cell(row, cell);
                    }
                }
            }
            if end == nr {
                row.pop();
            }
            row.push(b'\n');
            return files.row(Table::Event(fi, ei), &keys.file, || keys.file_header.clone(), row);
        }
        if csv {
            csv_common(out, c, Some(pid), Some(comm));
            out.push(b',');
            out.extend_from_slice(&keys.csv_head);
            if let Some(f) = flags {
                u64_into(out, f);
            }
            out.push(b',');
        } else {
            self.heads.write(out, c, Some(Task { pid, comm, generation }), marked);
            out.extend_from_slice(&keys.json_head);
            match flags {
                Some(f) => int_into(out, f as i128, marked),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"fields\":");
        }
        let obj = fields_sink(&mut self.cell, out, csv);
        obj.push(b'{');
        for (key, i) in keys.keys.iter().zip(nr..) {
            obj.extend_from_slice(key);
            if let Some(name) = plugin(i) {
                bytes_into(obj, name.as_bytes());
                continue;
            }
            match eval.value(&ctx, data, i, view(i)) {
                Value::Int(n) => int_into(obj, n, marked),
                Value::Str(s) => bytes_into(obj, s),
                Value::Name(s) => bytes_into(obj, &s),
                Value::Array(a) => json_array(obj, &a, marked),
            }
        }
        obj.push(b'}');
        end_line(out, csv.then_some(&self.cell));
    }
}

/// What printing a record's line would teach the comm table (a sched_switch's or
/// sched_wakeup's comms, see [`plugins::teach`]), learned without the line: for records that
/// are encoded, or that a reader only filters, in a report whose lines run the handlers (not
/// `-R`).
pub fn teach_comms(tep: &mut Tep, ev: Option<usize>, data: &[u8], size: usize) {
    let Some(e) = ev.and_then(|e| tep.events.get(e)) else { return };
    if !matches!(e.handler, Handler::SchedSwitch | Handler::SchedWakeup) {
        return;
    }
    let (endian, long_size) = tep.ctx();
    let ctx = Ctx { size, endian, long_size, funcs: &tep.funcs, printk: &tep.printk };
    plugins::teach(e.handler, &Fields { all: &e.fields, nr_common: e.nr_common }, &ctx, data, &mut tep.comms);
}

/// Ends a line whose fields object was written: JSON's closing brace, or for CSV the object
/// (`cell`) as the last cell.
fn end_line(out: &mut Vec<u8>, cell: Option<&Vec<u8>>) {
    match cell {
        Some(cell) => csv_cell(out, cell),
        None => out.push(b'}'),
    }
    out.push(b'\n');
}

/// A record's task for its line's head: its pid, its comm, and the generation of the comm
/// table the comm was found in (see [`crate::tep::lookups::Comms::generation`]).
struct Task<'a> {
    pid: i32,
    comm: &'a [u8],
    generation: u64,
}

/// What a JSON line's head repeats, encoded once instead of per record: the members from
/// source to cpu's key of the last source and buffer, and pid and comm of recent pids.
#[derive(Default)]
struct Heads {
    /// The source and buffer `place` was made for.
    place_of: (String, String),
    /// `,"source":S,"buffer":B,"cpu":`.
    place: Vec<u8>,
    /// By pid modulo their number: `,"pid":N,"comm":C` for that pid in that generation.
    tasks: Vec<TaskSlot>,
}

/// A cached `,"pid":N,"comm":C`.
struct TaskSlot {
    key: Option<(i32, u64)>,
    len: usize,
    json: [u8; TaskSlot::BYTES],
}

impl TaskSlot {
    /// Room for a pid and a 16-byte comm however escaped (a longer encoding is not kept).
    const BYTES: usize = 128;
    /// Slots, a power of two.
    const SLOTS: usize = 256;
}

impl Heads {
    /// A line's JSON members up to comm (pid and comm null without a task).
    fn write(&mut self, out: &mut Vec<u8>, c: &Common<'_>, task: Option<Task<'_>>, marked: bool) {
        out.extend_from_slice(b"{\"ts\":");
        int_into(out, c.ts as i128, marked);
        if self.place.is_empty() || self.place_of.0 != c.source || self.place_of.1 != c.buffer {
            self.place_of = (c.source.to_string(), c.buffer.to_string());
            self.place.clear();
            self.place.extend_from_slice(b",\"source\":");
            string_into(&mut self.place, c.source);
            self.place.extend_from_slice(b",\"buffer\":");
            string_into(&mut self.place, c.buffer);
            self.place.extend_from_slice(b",\"cpu\":");
        }
        out.extend_from_slice(&self.place);
        u64_into(out, u64::from(c.cpu));
        let Some(t) = task else {
            out.extend_from_slice(b",\"pid\":null,\"comm\":null");
            return;
        };
        if self.tasks.is_empty() {
            self.tasks.resize_with(TaskSlot::SLOTS, || TaskSlot { key: None, len: 0, json: [0; TaskSlot::BYTES] });
        }
        let key = Some((t.pid, t.generation));
        let Some(slot) = self.tasks.get_mut(t.pid as u32 as usize % TaskSlot::SLOTS) else { return };
        if slot.key == key {
            out.extend_from_slice(slot.json.get(..slot.len).unwrap_or_default());
            return;
        }
        let start = out.len();
        out.extend_from_slice(b",\"pid\":");
        i64_into(out, i64::from(t.pid));
        out.extend_from_slice(b",\"comm\":");
        bytes_into(out, t.comm);
        let made = out.get(start..).unwrap_or_default();
        if let Some(json) = slot.json.get_mut(..made.len()) {
            json.copy_from_slice(made);
            (slot.key, slot.len) = (key, made.len());
        }
    }
}

/// The cells every CSV row starts with, each followed by a comma: ts, source, buffer, cpu.
fn where_cells(out: &mut Vec<u8>, c: &Common<'_>) {
    u64_into(out, c.ts);
    out.push(b',');
    csv_cell(out, c.source.as_bytes());
    out.push(b',');
    csv_cell(out, c.buffer.as_bytes());
    out.push(b',');
    u64_into(out, u64::from(c.cpu));
    out.push(b',');
}

/// A CSV stream row's cells up to comm, without the comma after it (pid and comm empty where
/// not given).
fn csv_common(out: &mut Vec<u8>, c: &Common<'_>, pid: Option<i32>, comm: Option<&[u8]>) {
    where_cells(out, c);
    if let Some(p) = pid {
        i64_into(out, i64::from(p));
    }
    out.push(b',');
    if let Some(s) = comm {
        text_cell(out, s);
    }
}

/// The common cells of a per-event CSV row, each followed by a comma: ts, source, buffer, cpu,
/// and pid and comm where given.
fn common_cells(row: &mut Vec<u8>, c: &Common<'_>, pid: Option<i32>, comm: Option<&[u8]>) {
    where_cells(row, c);
    if let Some(p) = pid {
        i64_into(row, i64::from(p));
        row.push(b',');
    }
    if let Some(s) = comm {
        text_cell(row, s);
        row.push(b',');
    }
}

/// A JSON array of integers.
fn json_array(out: &mut Vec<u8>, a: &[i128], marked: bool) {
    out.push(b'[');
    for (k, n) in a.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        int_into(out, *n, marked);
    }
    out.push(b']');
}

/// An integer in decimal.
fn decimal_into(out: &mut Vec<u8>, n: i128) {
    match i64::try_from(n) {
        Ok(v) => i64_into(out, v),
        Err(_) => match u64::try_from(n) {
            Ok(v) => u64_into(out, v),
            Err(_) => out.extend_from_slice(n.to_string().as_bytes()),
        },
    }
}

/// Bytes as a CSV cell, invalid UTF-8 as U+FFFD.
fn text_cell(out: &mut Vec<u8>, s: &[u8]) {
    match std::str::from_utf8(s) {
        Ok(_) => csv_cell(out, s),
        Err(_) => csv_cell(out, String::from_utf8_lossy(s).as_bytes()),
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

/// Where a record's fields object is written: the CSV row's cell (cleared), or the JSON line.
fn fields_sink<'v>(cell: &'v mut Vec<u8>, line: &'v mut Vec<u8>, csv: bool) -> &'v mut Vec<u8> {
    if csv {
        cell.clear();
        cell
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_kept_between_lines_are_the_heads_made_afresh() {
        let mut kept = Heads::default();
        let long = "a\"é\u{1}".repeat(40);
        let lines = [
            ("a.dat", "", 1, "bash", 7),
            ("a.dat", "", 1, "bash", 7),
            ("b.dat", "inst", 1, "bash", 7),
            ("a.dat", "", 1, "node", 8),
            ("a.dat", "", 1 + TaskSlot::SLOTS as i32, "x\"y", 8),
            ("a.dat", "", 1, "bash", 7),
            ("a.dat", "", -3, long.as_str(), 9),
            ("a.dat", "", -3, long.as_str(), 9),
        ];
        for (source, buffer, pid, comm, generation) in lines {
            let c = Common { ts: 1 << 60, source, buffer, cpu: 3 };
            let task = || Some(Task { pid, comm: comm.as_bytes(), generation });
            let (mut a, mut b) = (Vec::new(), Vec::new());
            kept.write(&mut a, &c, task(), true);
            Heads::default().write(&mut b, &c, task(), true);
            assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
            kept.write(&mut a, &c, None, false);
        }
        let mut out = Vec::new();
        kept.write(&mut out, &Common { ts: 5, source: "s", buffer: "", cpu: 0 }, None, false);
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"ts":5,"source":"s","buffer":"","cpu":0,"pid":null,"comm":null"#);
    }
}
