//! The three lookup tables report output depends on, loaded and searched the way trace-cmd
//! 3.1.6 and libtraceevent 1.7.1 do it, down to which entry wins among duplicates.
//!
//! The lines are read by [`crate::format::symbols`], as the API's `tables()` reads them.
//! libtraceevent collects each table into a list by prepending (so the list is in reverse
//! file order), sorts it with glibc's qsort (a stable merge sort at these sizes) and searches
//! it with glibc's bsearch. With duplicate keys the entry found therefore depends on the
//! bisection path; [`crate::format::clib::bsearch`] reproduces that path.

use std::cmp::Ordering;

use crate::format::clib::bsearch;
/// print fmts read numbers with it (kept at this path for print_fmt's sake).
pub use crate::format::clib::strtoull;
use crate::format::symbols;

/// One kallsyms function.
#[derive(Clone, Copy, Debug)]
pub struct Func<'a> {
    pub addr: u64,
    pub name: &'a [u8],
}

/// Functions by address (tep's func_map). Names stay in one copy of the kallsyms text:
/// full kallsyms has ~350k lines, and one allocation per name would cost more than the
/// whole report of a small trace.
#[derive(Default)]
pub struct Funcs {
    text: Vec<u8>,
    /// (address, name start, name length), sorted by address.
    map: Vec<(u64, u32, u32)>,
}

impl Funcs {
    /// The functions of a kallsyms text (see [`symbols::kallsyms`] and
    /// [`symbols::Symbol::is_function`]).
    pub fn parse(text: &[u8]) -> Funcs {
        let mut map = Vec::with_capacity(text.len() / 32);
        for s in symbols::kallsyms(text).filter(|s| s.is_function()) {
            let start = s.name.as_ptr() as usize - text.as_ptr() as usize;
            let (Ok(start), Ok(len)) = (u32::try_from(start), u32::try_from(s.name.len())) else { break };
            map.push((s.addr, start, len));
        }
        // libtraceevent's order: the prepended list (reverse file order) stably sorted by
        // address, i.e. by address and then later lines first. The name offset grows with the
        // line, so it breaks ties without a sort buffer.
        map.sort_unstable_by_key(|f| (f.0, std::cmp::Reverse(f.1)));
        Funcs { text: text.to_vec(), map }
    }

    fn at(&self, i: usize) -> Option<Func<'_>> {
        let &(addr, start, len) = self.map.get(i)?;
        let name = self.text.get(start as usize..start as usize + len as usize)?;
        Some(Func { addr, name })
    }

    /// tep_find_function: the function containing `addr` (func_bcmp over the sorted map with
    /// its zero sentinel after the last entry).
    pub fn find(&self, addr: u64) -> Option<Func<'_>> {
        let m = &self.map;
        let i = bsearch(m.len(), |i| {
            let a = m[i].0;
            let next = m.get(i + 1).map_or(0, |f| f.0);
            if addr == a || (addr > a && addr < next) {
                Ordering::Equal
            } else if addr < a {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        })?;
        self.at(i)
    }

    /// The first function of this name in address order (libtraceevent's `test_for_symbol`).
    pub fn by_name(&self, name: &[u8]) -> Option<u64> {
        (0..self.map.len()).filter_map(|i| self.at(i)).find(|f| f.name == name).map(|f| f.addr)
    }
}

/// trace_printk format strings by address (tep's printk_map).
#[derive(Default)]
pub struct Printk {
    map: Vec<(u64, Vec<u8>)>,
}

impl Printk {
    /// The formats of a printk_formats text (see [`symbols::printk`]).
    pub fn parse(text: &[u8]) -> Printk {
        Printk { map: tep_order(symbols::printk(text).map(|(addr, fmt)| (addr, fmt.to_vec())).collect()) }
    }

    pub fn find(&self, addr: u64) -> Option<&[u8]> {
        lookup(&self.map, addr)
    }
}

/// Saved command lines, with plugins adding to them while printing (tep_register_comm).
#[derive(Default)]
pub struct Comms {
    /// Sorted by pid (stable: equal pids in reverse file order).
    map: Vec<(i32, Vec<u8>)>,
}

impl Comms {
    /// The comms of a saved cmdlines text (see [`symbols::cmdlines`]).
    pub fn parse(text: &[u8]) -> Comms {
        Comms { map: tep_order(symbols::cmdlines(text).map(|(pid, comm)| (pid, comm.to_vec())).collect()) }
    }

    /// find_cmdline: "<idle>" for pid 0, "<...>" when unknown.
    pub fn find(&self, pid: i32) -> &[u8] {
        if pid == 0 {
            return b"<idle>";
        }
        lookup(&self.map, pid).unwrap_or(b"<...>")
    }

    /// tep_register_comm after the table is built: adds pid → comm unless the pid is known.
    pub fn register(&mut self, comm: &[u8], pid: i32) {
        if pid == 0 {
            return;
        }
        if lookup(&self.map, pid).is_some() {
            return;
        }
        let at = self.map.partition_point(|c| c.0 < pid);
        self.map.insert(at, (pid, comm.to_vec()));
    }
}

/// A table in libtraceevent's order: the list it prepends to as it reads (reverse file order),
/// stably sorted by key.
fn tep_order<K: Ord + Copy>(mut list: Vec<(K, Vec<u8>)>) -> Vec<(K, Vec<u8>)> {
    list.reverse();
    list.sort_by_key(|e| e.0);
    list
}

/// The value glibc's bsearch finds for `key` in a table in [`tep_order`].
fn lookup<K: Ord>(table: &[(K, Vec<u8>)], key: K) -> Option<&[u8]> {
    bsearch(table.len(), |i| key.cmp(&table[i].0)).map(|i| table[i].1.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_by_containing_address() {
        let f = Funcs::parse(
            b"ffffffff81000000 T _text\nffffffff81000100 t foo\nffffffff81000100 t foo_alias\n0000000000001000 A abs\nffffffff81000200 T bar\t[mod]\n",
        );
        assert_eq!(f.map.len(), 4);
        assert_eq!(f.find(0xffffffff81000050).map(|x| x.name), Some(&b"_text"[..]));
        assert_eq!(f.find(0xffffffff81000280).map(|x| x.name), None, "past the last symbol only an exact match counts");
        assert_eq!(f.find(0xffffffff81000200).map(|x| x.name), Some(&b"bar"[..]));
        assert!(f.find(0x10).is_none());
        assert_eq!(f.by_name(b"bar"), Some(0xffffffff81000200));
        // A malformed line ends the table, as in trace-cmd.
        assert_eq!(Funcs::parse(b"ffffffff81000000 T a\nzz\nffffffff81000100 T b\n").map.len(), 1);
    }

    #[test]
    fn printk_and_comms() {
        let p = Printk::parse(b"0xffffffff82a0f2c8 : \"hello %d\\n\"\n0x10 : \"x\"\n");
        assert_eq!(p.find(0xffffffff82a0f2c8), Some(&b"hello %d"[..]));
        assert_eq!(p.find(0x10), Some(&b"x"[..]));
        let mut c = Comms::parse(b"12 bash\n7 npm install\n");
        assert_eq!(c.find(7), b"npm install");
        assert_eq!(c.find(0), b"<idle>");
        assert_eq!(c.find(99), b"<...>");
        c.register(b"new", 99);
        c.register(b"other", 12);
        assert_eq!((c.find(99), c.find(12)), (&b"new"[..], &b"bash"[..]));
    }
}
