//! One kallsyms, one printk table and one comm table for a host and its guests: a trace.dat
//! holds one of each (notes D.3), and a reader resolves every buffer's addresses and pids in it.
//!
//! The host's entries are kept as they are; a guest's are added where they cannot change what
//! a host address or pid resolves to, and counted where they would:
//! - kallsyms: a lookup finds the greatest symbol at or below an address, so a guest symbol
//!   inside the host's address ranges would capture host addresses. The symbols of each side
//!   are grouped into ranges (no gap over [`GAP`]); guest ranges that touch a host range are
//!   left out. Kernels at different KASLR bases usually do not overlap; module areas may.
//! - printk formats: keyed by address; a guest format at an address the host has is left out.
//! - comms: keyed by pid; a guest pid the host has with another comm is left out (its records
//!   print the host's comm).
//!
//! An entry the one table already holds as it is (a guest running the host's kernel build, a
//! line the guest's own table repeats) loses nothing and is not counted as left out.

use std::collections::{HashMap, HashSet};

/// The widest gap inside one range of symbols: larger than any function, far smaller than the
/// distance between kernels placed apart.
pub const GAP: u64 = 1 << 20;

/// What a guest's entries came to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Kept {
    pub added: usize,
    pub dropped: usize,
}

fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&c| c == b'\n').filter(|l| !l.is_empty())
}

/// The leading hexadecimal number of a kallsyms line.
fn address(line: &[u8]) -> Option<u64> {
    let word = line.split(|&c| c == b' ' || c == b'\t').next()?;
    let word = word.strip_prefix(b"0x").unwrap_or(word);
    u64::from_str_radix(std::str::from_utf8(word).ok()?, 16).ok()
}

/// The ranges of `addresses` (sorted), split where the gap exceeds [`GAP`].
fn ranges(mut addresses: Vec<u64>) -> Vec<(u64, u64)> {
    addresses.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for a in addresses {
        match out.last_mut() {
            Some((_, end)) if a - *end <= GAP => *end = a,
            _ => out.push((a, a)),
        }
    }
    out
}

/// The host's kallsyms with each guest's non-overlapping symbols appended.
pub fn kallsyms(host: &[u8], guests: &[&[u8]]) -> (Vec<u8>, Vec<Kept>) {
    let mut out = host.to_vec();
    // Address 0 lines (kptr_restrict, absolute symbols) resolve nothing: they never collide.
    let host_ranges = ranges(lines(host).filter_map(address).filter(|&a| a != 0).collect());
    let overlaps = |(a, b): (u64, u64)| {
        let i = host_ranges.partition_point(|&(_, end)| end.saturating_add(GAP) < a);
        host_ranges.get(i).is_some_and(|&(start, _)| start <= b.saturating_add(GAP))
    };
    let host_lines: HashSet<&[u8]> = lines(host).collect();
    let mut kept = Vec::with_capacity(guests.len());
    for g in guests {
        let guest_ranges = ranges(lines(g).filter_map(address).filter(|&a| a != 0).collect());
        let bad: Vec<(u64, u64)> = guest_ranges.into_iter().filter(|&r| overlaps(r)).collect();
        let mut k = Kept::default();
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        for line in lines(g) {
            match address(line) {
                Some(a) if a != 0 && !bad.iter().any(|&(s, e)| (s..=e).contains(&a)) => {
                    out.extend_from_slice(line);
                    out.push(b'\n');
                    k.added += 1;
                }
                Some(a) if a != 0 && host_lines.contains(line) => {}
                _ => k.dropped += 1,
            }
        }
        kept.push(k);
    }
    (out, kept)
}

/// The leading number of a printk line (`0xffffffff81a0c1b8 : "..."`), and the line.
fn printk_line(line: &[u8]) -> Option<(u64, &[u8])> {
    let word = line.split(|&c| c == b' ' || c == b':').next()?;
    let word = word.strip_prefix(b"0x").unwrap_or(word);
    Some((u64::from_str_radix(std::str::from_utf8(word).ok()?, 16).ok()?, line))
}

/// A cmdlines line: pid and comm.
fn comm_line(line: &[u8]) -> Option<(i64, &[u8])> {
    let sp = line.iter().position(|&c| c == b' ')?;
    let pid = std::str::from_utf8(&line[..sp]).ok()?.parse().ok()?;
    Some((pid, &line[sp + 1..]))
}

/// The host's printk formats with each guest's at addresses the table does not use yet.
pub fn printk(host: &[u8], guests: &[&[u8]]) -> (Vec<u8>, Vec<Kept>) {
    union_by_key(host, guests, printk_line)
}

/// The host's comms with each guest's for pids the host does not have.
pub fn cmdlines(host: &[u8], guests: &[&[u8]]) -> (Vec<u8>, Vec<Kept>) {
    union_by_key(host, guests, comm_line)
}

/// A table keyed per line (`entry` gives a line's key and value): the host's lines, then each
/// guest's whose key no earlier line holds. A guest line whose key is held with the same value
/// is no loss; with another value, or one `entry` cannot read, it is counted as dropped.
fn union_by_key<'a, K: std::hash::Hash + Eq>(host: &'a [u8], guests: &[&'a [u8]], entry: impl Fn(&'a [u8]) -> Option<(K, &'a [u8])>) -> (Vec<u8>, Vec<Kept>) {
    let mut held: HashMap<K, &[u8]> = lines(host).filter_map(&entry).collect();
    let mut out = host.to_vec();
    let mut kept = Vec::with_capacity(guests.len());
    for g in guests {
        let mut k = Kept::default();
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        for line in lines(g) {
            match entry(line) {
                Some((key, value)) => match held.get(&key) {
                    None => {
                        held.insert(key, value);
                        out.extend_from_slice(line);
                        out.push(b'\n');
                        k.added += 1;
                    }
                    Some(&same) if same == value => {}
                    Some(_) => k.dropped += 1,
                },
                None => k.dropped += 1,
            }
        }
        kept.push(k);
    }
    (out, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_symbols_apart_from_the_hosts_are_added() {
        let host = b"ffffffffb4400000 T _text\nffffffffb4400100 T start\nffffffffc0100000 t mod_fn\t[kvm]\n";
        let guest = b"ffffffffa0000000 T _text\nffffffffa0000200 T g_fn\nffffffffc0150000 t g_mod\t[e1000]\n0000000000000000 A fixed\n";
        let (out, kept) = kallsyms(host, &[guest]);
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("ffffffffa0000000 T _text\nffffffffa0000200 T g_fn\n"), "{text}");
        // The guest module sits within a MiB of the host's modules; the address-0 line resolves nothing.
        assert_eq!(kept, [Kept { added: 2, dropped: 2 }]);
    }

    #[test]
    fn printk_and_comms_keep_the_host_and_count_clashes() {
        let (out, kept) = printk(b"0x10 : \"a\"\n", &[b"0x10 : \"b\"\n0x20 : \"c\"\n"]);
        assert_eq!(out, b"0x10 : \"a\"\n0x20 : \"c\"\n");
        assert_eq!(kept, [Kept { added: 1, dropped: 1 }]);
        let (out, kept) = cmdlines(b"1 init\n42 bash\n", &[b"1 init\n42 sshd\n510 trace-cmd\n"]);
        assert_eq!(out, b"1 init\n42 bash\n510 trace-cmd\n");
        assert_eq!(kept, [Kept { added: 1, dropped: 1 }]);
    }

    #[test]
    fn entries_the_table_already_holds_are_no_loss() {
        // The host's kernel build in the guest: every symbol overlaps, none is lost.
        let host = b"ffffffffb4400000 T _text\nffffffffb4400100 T start\n";
        let (out, kept) = kallsyms(host, &[b"ffffffffb4400000 T _text\nffffffffb4400100 T start\nffffffffb4400200 T other\n"]);
        assert_eq!(out, host);
        assert_eq!(kept, [Kept { added: 0, dropped: 1 }]);
        // A format the host has at the same address, and one the guest's table repeats.
        let (out, kept) = printk(b"0x10 : \"a\"\n", &[b"0x10 : \"a\"\n0x20 : \"c\"\n0x20 : \"c\"\n0x20 : \"d\"\n"]);
        assert_eq!(out, b"0x10 : \"a\"\n0x20 : \"c\"\n");
        assert_eq!(kept, [Kept { added: 1, dropped: 1 }]);
    }
}
