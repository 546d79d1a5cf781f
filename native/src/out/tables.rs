//! The symbol tables of a file as JSON for the TypeScript API's `tables()`: saved cmdlines,
//! printk formats and kallsyms, read as report reads them.
//!
//! Lines are parsed by [`crate::format::symbols`], the parsers report's lookup tables use, and
//! where a pid or an address is listed more than once, its value is the one report finds
//! ([`Comms::find`], [`Printk::find`]): the API and report cannot disagree on a file.

use crate::format::file::{Content, Trace};
use crate::format::{options, symbols};
use crate::out::json::Json;
use crate::tep::lookups::{Comms, Printk};

/// `{ cmdlines: [[pid, comm]], printk: [[addr, fmt]], kallsyms: [[addr, type, name, module]] }`
/// in file order (kallsyms sorted by address, stably), addresses as hex strings, texts
/// lossily UTF-8.
pub fn tables(t: &Trace, data: &[u8]) -> String {
    let text = |id| match t.content(id) {
        Some(Content::Kallsyms(x) | Content::Printk(x) | Content::Cmdlines(x)) => t.bytes(data, x),
        _ => &[],
    };
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut j = Json::new();
    j.begin_object(None);

    j.begin_array(Some("cmdlines"));
    let cmdlines = text(options::CMDLINES);
    let comms = Comms::parse(cmdlines);
    for (pid, _) in symbols::cmdlines(cmdlines) {
        j.begin_array(None);
        j.item_num(pid as i64);
        j.item_str(&lossy(comms.find(pid)));
        j.end_array();
    }
    j.end_array();

    j.begin_array(Some("printk"));
    let printk = text(options::PRINTK);
    let formats = Printk::parse(printk);
    for (addr, _) in symbols::printk(printk) {
        j.begin_array(None);
        j.item_str(&format!("{addr:x}"));
        j.item_str(&lossy(formats.find(addr).unwrap_or_default()));
        j.end_array();
    }
    j.end_array();

    j.begin_array(Some("kallsyms"));
    let mut kallsyms: Vec<symbols::Symbol<'_>> = symbols::kallsyms(text(options::KALLSYMS)).collect();
    kallsyms.sort_by_key(|s| s.addr);
    for s in kallsyms {
        j.begin_array(None);
        j.item_str(&format!("{:x}", s.addr));
        j.item_str(&char::from(s.kind).to_string());
        j.item_str(&lossy(s.name));
        j.item_str(&lossy(s.module.unwrap_or_default()));
        j.end_array();
    }
    j.end_array();

    j.end_object();
    j.finish()
}
