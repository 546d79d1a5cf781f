//! The metadata of an opened file as JSON for the TypeScript API: header, buffers with their
//! CPUs, and every option decoded into a typed value (unknown ones as hex bytes).

use crate::format::event_format::{self, ArrayLen};
use crate::format::file::{BufferKind, Content, Trace};
use crate::format::options::{self, BufferOption, Guest, TimeShift, Tsc2Nsec};
use crate::out::json::Json;

pub fn info(t: &Trace, data: &[u8]) -> String {
    let mut j = Json::new();
    j.begin_object(None);
    let h = &t.header;
    j.num("version", h.version as i64);
    j.bool("bigEndian", h.endian_flag != 0);
    j.num("longSize", h.long_size as i64);
    j.num("kernelLongSize", t.kernel_long as i64);
    j.num("pageSize", h.page_size as i64);
    match &h.compression {
        Some((name, ver)) if name != "none" => {
            j.begin_object(Some("compression"));
            j.str("name", name);
            j.str("version", ver);
            j.end_object();
        }
        _ => j.null("compression"),
    }
    j.num("fileSize", data.len() as i64);

    j.begin_array(Some("buffers"));
    for b in &t.buffers {
        j.begin_object(None);
        j.str("name", &b.name);
        j.opt_str("clock", b.clock.as_deref());
        j.num("pageSize", b.page_size as i64);
        match &b.kind {
            BufferKind::Flyrecord { cpus } => {
                j.str("kind", "flyrecord");
                cpu_list(&mut j, cpus.iter().map(|c| (c.cpu, c.offset, c.size)));
            }
            BufferKind::Latency { offset, size } => {
                j.str("kind", "latency");
                j.num("offset", *offset as i64);
                j.num("size", *size as i64);
            }
        }
        j.end_object();
    }
    j.end_array();

    j.begin_object(Some("metadata"));
    for id in [options::HEADER_INFO, options::FTRACE_EVENTS, options::EVENT_FORMATS, options::KALLSYMS, options::PRINTK, options::CMDLINES] {
        let Some(c) = t.content(id) else { continue };
        match c {
            Content::Headers { page, event } => {
                j.num("headerPage", page.len as i64);
                j.num("headerEvent", event.len as i64);
            }
            Content::Ftrace(v) => j.num("ftraceEvents", v.len() as i64),
            Content::Events(s) => {
                j.num("eventSystems", s.len() as i64);
                j.num("events", s.iter().map(|s| s.events.len() as i64).sum());
            }
            Content::Kallsyms(x) => j.num("kallsyms", x.len as i64),
            Content::Printk(x) => j.num("printk", x.len as i64),
            Content::Cmdlines(x) => j.num("cmdlines", x.len as i64),
        }
    }
    j.end_object();

    j.begin_array(Some("options"));
    for o in &t.options {
        let p = t.bytes(data, &o.payload);
        j.begin_object(None);
        j.num("id", o.id as i64);
        j.opt_str("name", options::name(o.id));
        j.num("size", o.size as i64);
        j.num("offset", o.offset as i64);
        option_value(&mut j, t, o.id, p, o.offset);
        j.end_object();
    }
    j.end_array();
    j.end_object();
    j.finish()
}

/// `"cpus": [{cpu, offset, size}]`, for buffers and BUFFER options alike.
fn cpu_list(j: &mut Json, cpus: impl Iterator<Item = (u32, u64, u64)>) {
    j.begin_array(Some("cpus"));
    for (cpu, offset, size) in cpus {
        j.begin_object(None);
        j.num("cpu", cpu as i64);
        j.num("offset", offset as i64);
        j.num("size", size as i64);
        j.end_object();
    }
    j.end_array();
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A number-valued option (`kind` "count" or "offset"), or its bytes as hex when too short.
fn number(j: &mut Json, kind: &str, v: Option<u64>, p: &[u8]) {
    match v {
        Some(v) => {
            j.begin_object(Some("value"));
            j.str("kind", kind);
            j.num("value", v as i64);
            j.end_object();
        }
        None => j.str("raw", &hex(p)),
    }
}

/// The decoded payload as `value`, an object whose `kind` says which of its shapes it has, or
/// `raw` (the bytes as hex) for an unknown or undecodable option.
fn option_value(j: &mut Json, t: &Trace, id: u16, p: &[u8], at: u64) {
    let e = t.endian;
    let u64_at = |b: &[u8]| b.get(..8).and_then(|b| e.uint(b));
    match id {
        options::DATE
        | options::CPUSTAT
        | options::TRACECLOCK
        | options::UNAME
        | options::HOOK
        | options::OFFSET
        | options::VERSION
        | options::PROCMAPS
        | options::LAST_BOOT_INFO => {
            j.begin_object(Some("value"));
            j.str("kind", "text");
            j.str("text", &options::text(p));
            j.end_object();
        }
        options::CPUCOUNT => number(j, "count", p.get(..4).and_then(|b| e.uint(b)), p),
        options::TRACEID => match u64_at(p) {
            Some(v) => {
                j.begin_object(Some("value"));
                j.str("kind", "traceId");
                j.big("traceId", v);
                j.end_object();
            }
            None => j.str("raw", &hex(p)),
        },
        options::DONE | options::HEADER_INFO..=options::CMDLINES | options::BTF_FILE | options::MODULES_FILE => number(j, "offset", u64_at(p), p),
        options::BUFFER | options::BUFFER_TEXT => match BufferOption::parse(id, p, e, t.is_v7(), at) {
            Ok(b) => {
                j.begin_object(Some("value"));
                j.str("kind", "buffer");
                j.num("offset", b.offset as i64);
                j.str("name", &b.name);
                j.opt_str("clock", b.clock.as_deref());
                match b.page_size {
                    Some(ps) => j.num("pageSize", ps as i64),
                    None => j.null("pageSize"),
                }
                cpu_list(j, b.cpus.iter().map(|c| (c.cpu, c.offset, c.size)));
                j.end_object();
            }
            Err(_) => j.str("raw", &hex(p)),
        },
        options::TIME_SHIFT => match TimeShift::parse(p, e, at) {
            Ok(ts) => {
                j.begin_object(Some("value"));
                j.str("kind", "timeShift");
                j.big("peerTraceId", ts.peer_id);
                j.num("flags", ts.flags as i64);
                j.begin_array(Some("cpus"));
                for samples in &ts.cpus {
                    j.begin_array(None);
                    for s in samples {
                        j.begin_object(None);
                        j.big("time", s.time as u64);
                        j.str("offset", &s.offset.to_string());
                        j.str("scaling", &s.scaling.to_string());
                        j.num("fraction", s.fraction);
                        j.end_object();
                    }
                    j.end_array();
                }
                j.end_array();
                j.end_object();
            }
            Err(_) => j.str("raw", &hex(p)),
        },
        options::GUEST => match Guest::parse(p, e, at) {
            Ok(g) => {
                j.begin_object(Some("value"));
                j.str("kind", "guest");
                j.str("name", &g.name);
                j.big("traceId", g.trace_id);
                j.begin_array(Some("vcpus"));
                for (vcpu, pid) in &g.vcpus {
                    j.begin_object(None);
                    j.num("vcpu", *vcpu as i64);
                    j.num("pid", *pid as i64);
                    j.end_object();
                }
                j.end_array();
                j.end_object();
            }
            Err(_) => j.str("raw", &hex(p)),
        },
        options::TSC2NSEC => match Tsc2Nsec::parse(p, e, at) {
            Ok(v) => {
                j.begin_object(Some("value"));
                j.str("kind", "tsc2nsec");
                j.num("mult", v.mult as i64);
                j.num("shift", v.shift as i64);
                j.big("offset", v.offset);
                j.end_object();
            }
            Err(_) => j.str("raw", &hex(p)),
        },
        _ => j.str("raw", &hex(p)),
    }
}

/// Every event format of the file as JSON: ftrace's own (system "ftrace") and each system's,
/// with their fields. A format that does not parse is listed with its error instead.
pub fn formats(t: &Trace, data: &[u8]) -> String {
    let mut j = Json::new();
    j.begin_array(None);
    let mut all: Vec<(&str, &[u8])> = Vec::new();
    if let Some(Content::Ftrace(list)) = t.content(options::FTRACE_EVENTS) {
        all.extend(list.iter().map(|x| ("ftrace", t.bytes(data, x))));
    }
    if let Some(Content::Events(systems)) = t.content(options::EVENT_FORMATS) {
        for s in systems {
            all.extend(s.events.iter().map(|x| (s.name.as_str(), t.bytes(data, x))));
        }
    }
    for (system, text) in all {
        j.begin_object(None);
        j.str("system", system);
        match event_format::parse(system, text) {
            Ok(f) => {
                j.str("name", f.name);
                j.num("id", f.id as i64);
                j.begin_array(Some("fields"));
                for field in f.common.iter().chain(&f.fields) {
                    j.begin_object(None);
                    j.str("name", field.name);
                    j.str("type", field.type_name);
                    j.num("offset", field.offset as i64);
                    j.num("size", field.size as i64);
                    j.bool("signed", field.signed);
                    j.bool("common", field.is_common);
                    match &field.array {
                        None => j.null("array"),
                        Some(ArrayLen::Fixed(n)) => j.num("array", *n as i64),
                        Some(ArrayLen::Unsized) => j.str("array", ""),
                        Some(ArrayLen::Symbolic(s)) => j.str("array", s),
                    }
                    j.bool("dataLoc", field.data_loc);
                    j.bool("relLoc", field.rel_loc);
                    j.end_object();
                }
                j.end_array();
                j.str("printFmt", f.print_fmt);
            }
            Err(e) => j.str("error", &e.to_string()),
        }
        j.end_object();
    }
    j.end_array();
    j.finish()
}
