//! The three lookup tables report output depends on, loaded and searched the way trace-cmd
//! 3.1.6 and libtraceevent 1.7.1 do it, down to which entry wins among duplicates.
//!
//! The lines are read by [`crate::format::symbols`], as the API's `tables()` reads them.
//! libtraceevent collects each table into a list by prepending (so the list is in reverse
//! file order), sorts it with glibc's qsort (a stable merge sort at these sizes) and searches
//! it with glibc's bsearch. With duplicate keys the entry found therefore depends on the
//! bisection path; [`crate::format::clib::bsearch`] reproduces that path.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

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
///
/// Every line looks its pid up and every sched_switch registers two: a pid below
/// [`Comms::DENSE`] is answered from a table indexed by pid instead of a binary search, except
/// the pids the saved cmdlines list more than once, where which entry glibc's bsearch lands on
/// depends on the table's layout (registering only adds pids not there yet, so no other pid
/// ever has two entries).
#[derive(Default)]
pub struct Comms {
    /// (pid, index in `names`), sorted by pid (stable: equal pids in reverse file order).
    map: Vec<(i32, u32)>,
    names: Vec<Vec<u8>>,
    /// The pid of each entry of `names` (the order entries were added in: see
    /// [`Comms::added_since`]).
    pids: Vec<i32>,
    /// For each pid below DENSE up to the largest seen: index in `names` + 1, 0 for a pid not
    /// in the table, [`Comms::SEVERAL`] for one listed more than once.
    by_pid: Vec<u32>,
    /// Names this table's content: a new one, unique in the process, whenever an entry is
    /// added, 0 for an empty table (see [`Comms::generation`]).
    generation: u64,
}

/// The last generation given to a comm table.
static GENERATIONS: AtomicU64 = AtomicU64::new(0);

fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, AtomicOrdering::Relaxed).wrapping_add(1)
}

impl Comms {
    /// Pids below this are looked up by index (a table of 4 bytes per pid up to the largest).
    const DENSE: usize = 1 << 18;
    const SEVERAL: u32 = u32::MAX;

    /// The comms of a saved cmdlines text (see [`symbols::cmdlines`]).
    pub fn parse(text: &[u8]) -> Comms {
        let list = tep_order(symbols::cmdlines(text).map(|(pid, comm)| (pid, comm.to_vec())).collect());
        let mut c = Comms::default();
        for (pid, name) in list {
            let slot = c.slot(pid);
            c.map.push((pid, c.names.len() as u32));
            c.names.push(name);
            c.pids.push(pid);
            if let Some(i) = slot {
                c.by_pid[i] = if c.by_pid[i] == 0 { c.names.len() as u32 } else { Comms::SEVERAL };
            }
        }
        if !c.map.is_empty() {
            c.generation = next_generation();
        }
        c
    }

    /// What [`Comms::find`] answers for every pid is the same for two tables (or one table at
    /// two times) of the same generation: a filter on COMM remembers its answer per pid until
    /// the generation changes. (Registering a pid can change another's answer: a pid listed
    /// twice is found where glibc's bsearch lands, which moves as the table grows.)
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The index of `pid` in `by_pid`, grown to hold it; None for a pid looked up by search.
    fn slot(&mut self, pid: i32) -> Option<usize> {
        let i = usize::try_from(pid).ok().filter(|&i| i < Comms::DENSE)?;
        if self.by_pid.len() <= i {
            self.by_pid.resize(i + 1, 0);
        }
        Some(i)
    }

    /// The comm glibc's bsearch finds for `pid`.
    fn lookup(&self, pid: i32) -> Option<&[u8]> {
        match usize::try_from(pid).ok().filter(|&i| i < Comms::DENSE) {
            Some(i) => match self.by_pid.get(i).copied().unwrap_or(0) {
                0 => None,
                Comms::SEVERAL => self.search(pid),
                n => self.names.get(n as usize - 1).map(Vec::as_slice),
            },
            None => self.search(pid),
        }
    }

    /// Whether `pid` has an entry: `lookup(pid).is_some()` without fetching the name (every
    /// sched_switch asks it twice, nearly always of a known pid).
    fn known(&self, pid: i32) -> bool {
        match usize::try_from(pid).ok().filter(|&i| i < Comms::DENSE) {
            // Listed (once or more: a pid listed twice is found by the search).
            Some(i) => self.by_pid.get(i).is_some_and(|&n| n != 0),
            None => self.search(pid).is_some(),
        }
    }

    fn search(&self, pid: i32) -> Option<&[u8]> {
        let m = &self.map;
        bsearch(m.len(), |i| pid.cmp(&m[i].0)).and_then(|i| self.names.get(m[i].1 as usize)).map(Vec::as_slice)
    }

    /// find_cmdline: "<idle>" for pid 0, "<...>" when unknown.
    pub fn find(&self, pid: i32) -> &[u8] {
        if pid == 0 {
            return b"<idle>";
        }
        self.lookup(pid).unwrap_or(b"<...>")
    }

    /// tep_register_comm after the table is built: adds pid → comm unless the pid is known.
    pub fn register(&mut self, comm: &[u8], pid: i32) {
        if pid == 0 || self.known(pid) {
            return;
        }
        let at = self.map.partition_point(|c| c.0 < pid);
        self.map.insert(at, (pid, self.names.len() as u32));
        self.names.push(comm.to_vec());
        self.pids.push(pid);
        if let Some(i) = self.slot(pid) {
            self.by_pid[i] = self.names.len() as u32;
        }
        self.generation = next_generation();
    }

    /// How many entries the table holds (saved and registered): a mark for
    /// [`Comms::added_since`].
    pub fn entries(&self) -> usize {
        self.names.len()
    }

    /// The entries added since the table held `mark` of them, in the order they were added:
    /// registered again in that order into a copy of the table as it was at `mark`, they make
    /// it this table (the same entries in the same layout, so that bsearch lands alike). A
    /// second report formatting thread catches up with the first's lines this way (see
    /// [`crate::out::parallel`]).
    pub fn added_since(&self, mark: usize) -> impl Iterator<Item = (i32, &[u8])> {
        let pids = self.pids.get(mark..).unwrap_or(&[]);
        let names = self.names.get(mark..).unwrap_or(&[]);
        pids.iter().copied().zip(names.iter().map(Vec::as_slice))
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
        let before = c.generation();
        c.register(b"other", 12);
        assert_eq!(c.generation(), before, "a known pid changes nothing");
        c.register(b"new", 99);
        assert_ne!(c.generation(), before);
        assert_ne!(Comms::parse(b"12 bash\n").generation(), Comms::parse(b"12 bash\n").generation(), "unique per table");
        assert_eq!(Comms::parse(b"").generation(), Comms::default().generation());
        assert_eq!((c.find(99), c.find(12)), (&b"new"[..], &b"bash"[..]));
        // Past the table by pid, and negative: searched.
        c.register(b"big", 1 << 20);
        c.register(b"neg", -5);
        assert_eq!((c.find(1 << 20), c.find(-5), c.find(-6)), (&b"big"[..], &b"neg"[..], &b"<...>"[..]));
    }

    #[test]
    fn entries_added_replayed_make_the_same_table() {
        let text = b"5 a\n5 b\n7 c\n";
        let (mut c, mut copy) = (Comms::parse(text), Comms::parse(text));
        let mark = c.entries();
        assert_eq!(c.added_since(mark).count(), 0);
        for (pid, comm) in [(3, &b"x"[..]), (5, b"no"), (4, b"y"), (2, b"z"), (1 << 20, b"big")] {
            c.register(comm, pid);
        }
        let added: Vec<(i32, Vec<u8>)> = c.added_since(mark).map(|(p, n)| (p, n.to_vec())).collect();
        assert_eq!(added.iter().map(|a| a.0).collect::<Vec<_>>(), [3, 4, 2, 1 << 20], "a known pid adds nothing");
        for (pid, comm) in &added {
            copy.register(comm, *pid);
        }
        assert_eq!((copy.map.clone(), copy.names.clone()), (c.map.clone(), c.names.clone()));
        assert_eq!(copy.find(5), c.find(5));
    }

    #[test]
    fn a_pid_saved_twice_is_the_one_bsearch_finds() {
        // Reverse file order, stably sorted: [(5, "b"), (5, "a"), (7, "c")]; bsearch probes
        // index 1 first. Each pid registered moves the probes, as in libtraceevent.
        let mut c = Comms::parse(b"5 a\n5 b\n7 c\n");
        let bsearch_of = |c: &Comms, pid: i32| c.search(pid).map(<[u8]>::to_vec);
        assert_eq!(c.find(5), b"a");
        for (pid, comm) in [(3, &b"x"[..]), (4, b"y"), (2, b"z")] {
            c.register(comm, pid);
            assert_eq!(Some(c.find(5).to_vec()), bsearch_of(&c, 5));
            assert_eq!(c.find(pid), comm);
        }
        assert_eq!(c.find(5), b"b");
    }
}
