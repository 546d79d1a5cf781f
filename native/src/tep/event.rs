//! The event table of one file, as libtraceevent holds it in a `tep_handle`: parsed events
//! by id, kallsyms, printk formats and the comm table.

use std::collections::HashSet;

use crate::format::ids::ById;

use crate::format::bytes::Endian;
use crate::format::event_format;
use crate::format::file::{Content, Trace};
use crate::format::options;
use crate::tep::lookups::{Comms, Funcs, Printk};
use crate::tep::plugins::{Handler, Slots};
use crate::tep::print_fmt::{self, Field, Program};

/// One event as libtraceevent holds it.
pub struct Event {
    pub id: u64,
    pub name: String,
    pub system: String,
    pub fields: Vec<Field>,
    pub nr_common: usize,
    /// The print fmt as written, and its program once compiled (see [`Event::compiled`]).
    print_fmt: Vec<u8>,
    prog: Option<Program>,
    pub handler: Handler,
    /// The fields its handler reads, found once (see [`Slots`]).
    pub slots: Slots,
    pub bprint: bool,
}

impl Event {
    /// The print fmt's program, compiled the first time the event is printed, with the fields
    /// it evaluates over. libtraceevent parses every format when the file is opened; a file
    /// recorded with `-e all` carries over a thousand of which a report meets a handful, and
    /// compiling them all up front was most of a small report's time (the output is the same:
    /// a format that fails to parse only shows when its event is printed).
    pub fn compiled(&mut self, long_size: u32) -> (&mut Program, &mut Vec<Field>) {
        let prog =
            self.prog.get_or_insert_with(|| print_fmt::parse(&self.print_fmt, &self.fields, self.nr_common, long_size, self.system == "ftrace", self.bprint));
        (prog, &mut self.fields)
    }
}

/// The per-file state of libtraceevent (a `tep_handle`).
pub struct Tep {
    pub endian: Endian,
    pub long_size: u32,
    pub funcs: Funcs,
    pub printk: Printk,
    pub comms: Comms,
    pub events: Vec<Event>,
    /// Event index by id (the first event parsed of an id).
    by_id: ById<usize>,
    /// (offset, size) of common_type and common_pid, from the first event parsed.
    common_type: (usize, usize),
    common_pid: (usize, usize),
    /// The largest end (offset + size) of any field: how far past a short record C reads.
    pub extent: usize,
}

/// The texts a file's event table is read from (kallsyms, printk formats, saved comms and the
/// event formats), copied out of the file: to build the same table on another thread (a table
/// is not `Send`: its compiled programs share their parts through `Rc`).
pub struct TepTexts {
    endian: Endian,
    long_size: u32,
    kallsyms: Vec<u8>,
    printk: Vec<u8>,
    cmdlines: Vec<u8>,
    events: Vec<(String, Vec<u8>)>,
}

impl TepTexts {
    pub fn of(trace: &Trace, data: &[u8]) -> TepTexts {
        let [kallsyms, printk, cmdlines] = lookup_texts(trace, data).map(<[u8]>::to_vec);
        let events = trace.event_texts(data).into_iter().map(|(system, text)| (system, text.to_vec())).collect();
        TepTexts { endian: trace.endian, long_size: trace.kernel_long as u32, kallsyms, printk, cmdlines, events }
    }
}

/// A file's kallsyms, printk formats and saved comms (empty when it has none).
fn lookup_texts<'a>(trace: &'a Trace, data: &'a [u8]) -> [&'a [u8]; 3] {
    [options::KALLSYMS, options::PRINTK, options::CMDLINES].map(|id| match trace.content(id) {
        Some(Content::Kallsyms(x) | Content::Printk(x) | Content::Cmdlines(x)) => trace.bytes(data, x),
        _ => &[],
    })
}

impl Tep {
    pub fn load(trace: &Trace, data: &[u8]) -> Tep {
        Tep::build(trace.endian, trace.kernel_long as u32, lookup_texts(trace, data), trace.event_texts(data))
    }

    /// The table [`Tep::load`] builds from the file the texts were copied from.
    pub fn from_texts(t: &TepTexts) -> Tep {
        let events = t.events.iter().map(|(system, text)| (system.clone(), text.as_slice()));
        Tep::build(t.endian, t.long_size, [&t.kallsyms, &t.printk, &t.cmdlines], events)
    }

    fn build<'a>(endian: Endian, long_size: u32, [kallsyms, printk, cmdlines]: [&[u8]; 3], texts: impl IntoIterator<Item = (String, &'a [u8])>) -> Tep {
        let mut tep = Tep {
            endian,
            long_size,
            funcs: Funcs::parse(kallsyms),
            printk: Printk::parse(printk),
            comms: Comms::parse(cmdlines),
            events: Vec::new(),
            by_id: ById::default(),
            common_type: (0, 2),
            common_pid: (4, 4),
            extent: 0,
        };
        // A plugin's handler is registered by name and goes to the first event of that name
        // parsed (libtraceevent's find_event_handle consumes it): in a file holding two events
        // of one name (a host and a guest merged), the second prints by its print fmt.
        let mut handled = HashSet::new();
        for (system, text) in texts {
            tep.add(system, text, &mut handled);
        }
        tep
    }

    /// One event's format into the table; one that does not parse is left out. `handled` holds
    /// the (system, name) of the events given a plugin handler so far.
    fn add(&mut self, system: String, text: &[u8], handled: &mut HashSet<(String, String)>) {
        let Ok(f) = event_format::parse(&system, text) else { return };
        let handler = Handler::for_event(&system, f.name);
        let handler = if handler != Handler::None && !handled.insert((system.clone(), f.name.to_string())) { Handler::None } else { handler };
        let (fields, nr_common) = print_fmt::fields(&f, self.long_size);
        let ftrace = system == "ftrace";
        let bprint = ftrace && f.name == "bprint";
        if self.events.is_empty() {
            let at = |n: &str| fields.iter().take(nr_common).find(|x| x.name == n).map(|x| (x.offset as usize, x.size as usize));
            self.common_type = at("common_type").unwrap_or((0, 2));
            self.common_pid = at("common_pid").unwrap_or((4, 4));
        }
        let slots = Slots::new(handler, &fields, nr_common);
        let ev = Event {
            id: f.id as u64,
            slots,
            name: f.name.to_string(),
            print_fmt: f.print_fmt.as_bytes().to_vec(),
            handler,
            system,
            fields,
            nr_common,
            prog: None,
            bprint,
        };
        let end = ev.fields.iter().map(|f| f.offset as usize + f.size as usize).max().unwrap_or(0);
        self.extent = self.extent.max(end);
        self.by_id.insert(ev.id, self.events.len());
        self.events.push(ev);
    }

    /// A little-endian table with 8-byte longs of these (system, format text) events and
    /// these saved comms alone.
    #[cfg(test)]
    pub fn of_formats(formats: &[(&str, &str)], cmdlines: &[u8]) -> Tep {
        let mut tep = Tep {
            endian: Endian::Little,
            long_size: 8,
            funcs: Funcs::default(),
            printk: Printk::default(),
            comms: Comms::parse(cmdlines),
            events: Vec::new(),
            by_id: ById::default(),
            common_type: (0, 2),
            common_pid: (4, 4),
            extent: 0,
        };
        let mut handled = HashSet::new();
        for (system, text) in formats {
            tep.add(system.to_string(), text.as_bytes(), &mut handled);
        }
        tep
    }

    pub fn ctx(&self) -> (Endian, u32) {
        (self.endian, self.long_size)
    }

    /// The event of a record, by its common_type (0 when the record is too short, as
    /// tep_read_number reads it); None for an id no format declares.
    #[inline]
    pub fn event_of(&self, data: &[u8]) -> Option<usize> {
        let (o, s) = self.common_type;
        let id = self.endian.uint_at(data, o, s).unwrap_or(0);
        self.index_of(id)
    }

    /// The event of an id: the first parsed with it (libtraceevent's lookup).
    #[inline]
    pub fn index_of(&self, id: u64) -> Option<usize> {
        self.by_id.get(id)
    }

    /// The record's common_pid, 0 when the record is too short (as tep_read_number reads it).
    #[inline]
    pub fn pid_of(&self, data: &[u8]) -> i32 {
        let (o, s) = self.common_pid;
        self.endian.uint_at(data, o, s).unwrap_or(0) as i32
    }
}
