//! `trace-cmd report -l`: libtraceevent's latency column (`data_latency_format`), the record's
//! irqs-off / need-resched / hard-soft-irq flags and preempt depth, e.g. `d.h2.`.
//!
//! The common fields are looked up once per file, in one event (libtraceevent takes its first
//! event: all share the common layout). libtraceevent caches `common_lock_depth` and
//! `common_migrate_disable` in one slot: when both exist, both columns print the lock depth's
//! value, which is kept here.

use crate::format::bytes::Endian;
use crate::tep::event::Tep;

const IRQS_OFF: u64 = 0x01;
const IRQS_NOSUPPORT: u64 = 0x02;
const NEED_RESCHED: u64 = 0x04;
const HARDIRQ: u64 = 0x08;
const SOFTIRQ: u64 = 0x10;

/// Where a file's latency fields are: (offset, size) of each common field found.
#[derive(Clone, Copy, Debug, Default)]
pub struct LatFields {
    flags: Option<(usize, usize)>,
    pc: Option<(usize, usize)>,
    /// The one slot of lock depth / migrate disable.
    depth: Option<(usize, usize)>,
    lock_depth: bool,
    migrate_disable: bool,
}

impl LatFields {
    pub fn new(tep: &Tep) -> LatFields {
        let Some(ev) = tep.events.iter().min_by_key(|e| e.id) else { return LatFields::default() };
        let common = ev.fields.get(..ev.nr_common).unwrap_or(&[]);
        let find = |name: &str| common.iter().find(|f| f.name == name).map(|f| (f.offset as usize, f.size as usize));
        let lock = find("common_lock_depth");
        let migrate = find("common_migrate_disable");
        LatFields {
            flags: find("common_flags"),
            pc: find("common_preempt_count"),
            depth: lock.or(migrate),
            lock_depth: lock.is_some(),
            migrate_disable: lock.or(migrate).is_some(),
        }
    }

    /// A common field as libtraceevent's `__parse_common` returns it: an int, -1 when absent.
    fn read(at: Option<(usize, usize)>, endian: Endian, data: &[u8]) -> i32 {
        at.map_or(-1, |(o, s)| endian.uint_at(data, o, s).unwrap_or(0) as i32)
    }

    /// `tep_data_flags`: the record's common_flags.
    pub fn flags(&self, endian: Endian, data: &[u8]) -> u32 {
        Self::read(self.flags, endian, data) as u32
    }

    /// The latency column of a record.
    pub fn write(&self, endian: Endian, data: &[u8], out: &mut Vec<u8>) {
        let flags = u64::from(self.flags(endian, data));
        let pc = Self::read(self.pc, endian, data) as u32;
        let (hard, soft) = (flags & HARDIRQ != 0, flags & SOFTIRQ != 0);
        out.push(if flags & IRQS_OFF != 0 {
            b'd'
        } else if flags & IRQS_NOSUPPORT != 0 {
            b'X'
        } else {
            b'.'
        });
        out.push(if flags & NEED_RESCHED != 0 { b'N' } else { b'.' });
        out.push(match (hard, soft) {
            (true, true) => b'H',
            (true, false) => b'h',
            (false, true) => b's',
            _ => b'.',
        });
        let hex = |v: u32, out: &mut Vec<u8>| out.extend_from_slice(format!("{v:x}").as_bytes());
        if pc & 0xf != 0 {
            hex(pc & 0xf, out);
        } else {
            out.push(b'.');
        }
        if pc & 0xf0 != 0 {
            hex(pc >> 4, out);
        } else {
            out.push(b'.');
        }
        let depth = Self::read(self.depth, endian, data);
        for exists in [self.migrate_disable, self.lock_depth] {
            if exists {
                if depth < 0 {
                    out.push(b'.');
                } else {
                    out.extend_from_slice(depth.to_string().as_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::format::event_format::TEST_COMMON_FIELDS as COMMON;

    fn tep(extra_common: &str) -> Tep {
        let text = format!("name: e\nID: 7\nformat:\n{COMMON}{extra_common}\n\tfield:int x;\toffset:12;\tsize:4;\tsigned:1;\n\nprint fmt: \"x=%d\", REC->x\n");
        Tep::of_formats(&[("s", &text)], b"")
    }

    fn column(l: &LatFields, flags: u8, pc: u8, depth: u32) -> String {
        let mut rec = vec![7, 0, flags, pc, 1, 0, 0, 0];
        rec.extend_from_slice(&depth.to_le_bytes());
        rec.extend_from_slice(&[0; 4]);
        let mut out = Vec::new();
        l.write(Endian::Little, &rec, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn flags_and_preempt_depth() {
        let l = LatFields::new(&tep(""));
        assert_eq!(column(&l, 0x0d, 0x21, 0), "dNh12");
        assert_eq!(column(&l, 0x1a, 0, 0), "X.H..");
        assert_eq!(column(&l, 0x06, 0, 0), "XN...");
        assert_eq!(column(&l, 0x10, 0x30, 0), "..s.3");
        assert_eq!(l.flags(Endian::Little, &[7, 0, 0x25, 0]), 0x25);
    }

    #[test]
    fn lock_depth_fills_both_columns_as_libtraceevent_caches_it() {
        let l = LatFields::new(&tep("\tfield:int common_lock_depth;\toffset:8;\tsize:4;\tsigned:1;\n"));
        assert_eq!(column(&l, 0, 0, 3), ".....33");
        let m = LatFields::new(&tep("\tfield:unsigned char common_migrate_disable;\toffset:8;\tsize:1;\tsigned:0;\n"));
        assert_eq!(column(&m, 1, 1, 2), "d..1.2");
    }
}
