//! One set of event formats for a host and its guests (a trace.dat has one, notes D.3).
//!
//! A guest event whose format is the host's (same system, name and text but for the `ID:`
//! line) takes the host's id; any other gets a new id above all the host's, its format text
//! rewritten with it and filed under its system, so that every guest record keeps printing with
//! its own fields. A guest record then only needs its `common_type` rewritten.
//!
//! Two events of one name can then sit in one file. libtraceevent gives a plugin's handler to
//! the first event of that name it parses, and the host's come first, so the host's events keep
//! their plugin output and a guest's differing event prints by its own print fmt.

use std::collections::{HashMap, HashSet};

use crate::format::bytes::Endian;
use crate::format::error::{Error, Result};
use crate::format::event_format;
use crate::format::file::{Content, Trace};
use crate::format::ids::ById;
use crate::format::options;

/// The merged formats: ftrace's own events, then the event systems, texts as they are written.
#[derive(Clone, Debug, Default)]
pub struct Events {
    pub ftrace: Vec<Vec<u8>>,
    pub systems: Vec<(String, Vec<Vec<u8>>)>,
}

/// How one guest's event ids become the merged file's.
#[derive(Clone, Debug, Default)]
pub struct IdMap {
    /// Where `common_type` sits in the guest's records (offset, size).
    common_type: (usize, usize),
    /// The merged id of each guest id (the first filed).
    ids: ById<u64>,
    /// Guest events that took the host's id / got a new one.
    pub shared: usize,
    pub added: usize,
}

impl IdMap {
    /// Rewrites the event id of a guest record; false when the guest has no format for it (the
    /// record is left as it is).
    pub fn rewrite(&self, endian: Endian, rec: &mut [u8]) -> bool {
        let (o, s) = self.common_type;
        let Some(field) = o.checked_add(s).and_then(|end| rec.get_mut(o..end)) else { return false };
        let Some(id) = endian.uint(field) else { return false };
        let Some(new) = self.ids.get(id) else { return false };
        if new != id {
            match s {
                2 => field.copy_from_slice(&endian.put_u16(new as u16)),
                4 => field.copy_from_slice(&endian.put_u32(new as u32)),
                8 => field.copy_from_slice(&endian.put_u64(new)),
                _ => return false,
            }
        }
        true
    }
}

/// An event format of a file: its system, name, id and text.
struct Format<'a> {
    system: String,
    name: String,
    id: u64,
    text: &'a [u8],
}

/// The formats of a file whose name and ID can be read (the fields are not needed to match a
/// format across files: its text is compared whole).
fn formats<'a>(trace: &'a Trace, data: &'a [u8]) -> Vec<Format<'a>> {
    trace
        .event_texts(data)
        .into_iter()
        .filter_map(|(system, text)| {
            let (name, id) = event_format::identity(&system, text).ok()?;
            Some(Format { name: name.to_string(), id: id.into(), system, text })
        })
        .collect()
}

/// The lines of a format text but its `ID:` line, for comparing formats across files.
fn without_id(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&c| c == b'\n').filter(|l| !l.starts_with(b"ID:"))
}

/// The text with its `ID:` line saying `id`.
fn with_id(text: &[u8], id: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 8);
    for (i, line) in text.split(|&c| c == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        if line.starts_with(b"ID:") {
            out.extend_from_slice(format!("ID: {id}").as_bytes());
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

/// The texts filed under one (system, name) so far, each with its merged id.
type Filed<'d> = Vec<(&'d [u8], u64)>;

/// The host's formats as they are, with each guest's differing ones added.
pub fn union<'d>(host: (&'d Trace, &'d [u8]), guests: &[(&'d Trace, &'d [u8])]) -> Result<(Events, Vec<IdMap>)> {
    let mut events = Events::default();
    let (ht, hd) = host;
    if let Some(Content::Ftrace(list)) = ht.content(options::FTRACE_EVENTS) {
        events.ftrace = list.iter().map(|t| ht.bytes(hd, t).to_vec()).collect();
    }
    if let Some(Content::Events(systems)) = ht.content(options::EVENT_FORMATS) {
        events.systems = systems.iter().map(|s| (s.name.clone(), s.events.iter().map(|t| ht.bytes(hd, t).to_vec()).collect())).collect();
    }
    let mut known: HashMap<(String, String), Filed<'d>> = HashMap::new();
    let mut used: HashSet<u64> = HashSet::new();
    for f in formats(ht, hd) {
        let texts = known.entry((f.system, f.name)).or_default();
        if !texts.iter().any(|&(t, _)| without_id(t).eq(without_id(f.text))) {
            texts.push((f.text, f.id));
        }
        used.insert(f.id);
    }
    let mut next = used.iter().max().map_or(1, |m| m + 1);
    let mut maps = Vec::with_capacity(guests.len());
    for &(gt, gd) in guests {
        let gf = formats(gt, gd);
        let common_type = gt.common_field(gd, "common_type").map_or((0, 2), |(o, s)| (o as usize, s as usize));
        let mut map = IdMap { common_type, ..IdMap::default() };
        let width = map.common_type.1;
        for f in gf {
            let texts = known.entry((f.system.clone(), f.name.clone())).or_default();
            if let Some(&(_, id)) = texts.iter().find(|&&(t, _)| without_id(t).eq(without_id(f.text))) {
                map.ids.insert(f.id, id);
                map.shared += 1;
                continue;
            }
            while used.contains(&next) {
                next += 1;
            }
            if width < 8 && next >> (width * 8) != 0 {
                return Err(Error::new(
                    format!("event format {}/{}", f.system, f.name),
                    0,
                    format!("an event id that fits the {width}-byte common_type; the host and guests together have more events"),
                ));
            }
            let id = next;
            used.insert(id);
            texts.push((f.text, id));
            map.ids.insert(f.id, id);
            map.added += 1;
            let text = with_id(f.text, id);
            if f.system == "ftrace" {
                events.ftrace.push(text);
            } else if let Some((_, list)) = events.systems.iter_mut().find(|(s, _)| *s == f.system) {
                list.push(text);
            } else {
                events.systems.push((f.system, vec![text]));
            }
        }
        maps.push(map);
    }
    Ok((events, maps))
}

impl Events {
    /// The FTRACE_EVENTS and EVENT_FORMATS contents, as a file holds them.
    pub fn contents(&self, e: Endian) -> (Vec<u8>, Vec<u8>) {
        let sized = |v: &mut Vec<u8>, t: &[u8]| {
            v.extend_from_slice(&e.put_u64(t.len() as u64));
            v.extend_from_slice(t);
        };
        let mut ftrace = e.put_u32(self.ftrace.len() as u32).to_vec();
        for t in &self.ftrace {
            sized(&mut ftrace, t);
        }
        let mut systems = e.put_u32(self.systems.len() as u32).to_vec();
        for (name, list) in &self.systems {
            systems.extend_from_slice(name.as_bytes());
            systems.push(0);
            systems.extend_from_slice(&e.put_u32(list.len() as u32));
            for t in list {
                sized(&mut systems, t);
            }
        }
        (ftrace, systems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lines_are_compared_away_and_rewritten() {
        let t = b"name: x\nID: 12\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n";
        assert!(without_id(t).eq(without_id(&with_id(t, 900))));
        assert!(with_id(t, 900).windows(8).any(|w| w == b"ID: 900\n"));
    }

    #[test]
    fn records_get_the_merged_id() {
        let mut map = IdMap { common_type: (0, 2), ..IdMap::default() };
        for (guest, merged) in [(12, 900), (5, 5)] {
            map.ids.insert(guest, merged);
        }
        let mut rec = [12, 0, 1, 2];
        assert!(map.rewrite(Endian::Little, &mut rec));
        assert_eq!(rec, [0x84, 0x03, 1, 2]);
        let mut rec = [0, 5, 1, 2];
        assert!(map.rewrite(Endian::Big, &mut rec));
        assert_eq!(rec, [0, 5, 1, 2]);
        assert!(!map.rewrite(Endian::Little, &mut [7, 0, 0, 0]), "no format for id 7");
        assert!(!map.rewrite(Endian::Little, &mut [7]), "too short");
    }
}
