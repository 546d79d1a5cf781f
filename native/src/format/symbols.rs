//! The text tables a trace carries for printing: kallsyms (addresses to symbols), printk
//! formats (addresses of `trace_printk` format strings) and saved cmdlines (pid to comm).
//!
//! One line parser per table, trace-cmd 3.1.6's own (`tracecmd_parse_proc_kallsyms`,
//! `tracecmd_parse_ftrace_printk`, `tracecmd_parse_cmdlines`, with glibc's sscanf and strtoull
//! semantics), down to which lines are skipped and where a table ends. Report's lookup tables
//! ([`crate::tep::lookups`]) and the API's `tables()` ([`crate::out::tables`]) both read
//! through these, so the two cannot disagree on a file.

use crate::format::clib::{is_space, scan_int, strtoull};

/// The lines of a table as `strtok_r(text, "\n")` gives them: empty ones are skipped.
fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&b| b == b'\n').filter(|l| !l.is_empty())
}

/// One kallsyms line: `ffffffff81000000 T _text` or `... t name\t[module]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol<'a> {
    pub addr: u64,
    pub kind: u8,
    pub name: &'a [u8],
    pub module: Option<&'a [u8]>,
}

impl Symbol<'_> {
    /// Whether trace-cmd registers the symbol as a function: not ARM's `$` mapping symbols, and
    /// not absolute ones (x86-64 lists per-CPU variable offsets as absolute).
    pub fn is_function(&self) -> bool {
        self.name.first() != Some(&b'$') && self.kind != b'A' && self.kind != b'a'
    }
}

/// The kallsyms lines in file order, up to the first that does not scan: trace-cmd stops
/// reading the table there.
pub fn kallsyms(text: &[u8]) -> impl Iterator<Item = Symbol<'_>> {
    lines(text).map_while(kallsyms_line)
}

/// `%16llx %c %n%*s%n%*1[\t][%n%*s%n`: address (at most 16 hex digits), type letter, name, and
/// a module after exactly one tab and a `[`, its last character (the `]`) cut.
fn kallsyms_line(line: &[u8]) -> Option<Symbol<'_>> {
    let skip_space = |mut i: usize| {
        while line.get(i).is_some_and(|&b| is_space(b)) {
            i += 1;
        }
        i
    };
    let word_end = |mut i: usize| {
        while line.get(i).is_some_and(|&b| !is_space(b)) {
            i += 1;
        }
        i
    };
    let start = skip_space(0);
    let mut i = start;
    let mut addr = 0u64;
    while i - start < 16 {
        let Some(d) = line.get(i).and_then(|&b| (b as char).to_digit(16)) else { break };
        addr = (addr << 4) | d as u64;
        i += 1;
    }
    if i == start {
        return None;
    }
    i = skip_space(i);
    let kind = *line.get(i)?;
    let name_start = skip_space(i + 1);
    let name_end = word_end(name_start);
    if name_end == name_start {
        return None;
    }
    let module = match line.get(name_end..name_end + 2) {
        Some(b"\t[") => {
            let word = skip_space(name_end + 2);
            let end = word_end(word);
            (end > word).then(|| &line[name_end + 2..end - 1])
        }
        _ => None,
    };
    Some(Symbol { addr, kind, name: &line[name_start..name_end], module })
}

/// The printk formats in file order, as `tracecmd_parse_ftrace_printk` and
/// `tep_register_print_string` read them: `ADDR : "fmt"`, split at the first ':' (a line
/// without one, or starting with one, is skipped), the address in hex, then from two bytes
/// after the colon one leading quote, one trailing quote and then a trailing `\n` (backslash,
/// n) removed; escapes are otherwise kept as written.
pub fn printk(text: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    lines(text).filter_map(|line| {
        let colon = line.iter().position(|&b| b == b':').filter(|&c| c > 0)?;
        let addr = strtoull(&line[..colon], 16);
        let fmt = line.get(colon + 2..).unwrap_or(&[]);
        let fmt = fmt.strip_prefix(b"\"").unwrap_or(fmt);
        let fmt = fmt.strip_suffix(b"\"").unwrap_or(fmt);
        Some((addr, fmt.strip_suffix(b"\\n").unwrap_or(fmt)))
    })
}

/// The saved cmdlines in file order, as `tracecmd_parse_cmdlines` reads them: lines of
/// `%d %m[^\n]`; a line that does not scan, has no comm or is for pid 0 (always `<idle>`) is
/// skipped.
pub fn cmdlines(text: &[u8]) -> impl Iterator<Item = (i32, &[u8])> {
    lines(text).filter_map(|line| {
        let (pid, rest) = scan_int(line)?;
        let comm = rest.get(rest.iter().position(|&b| !is_space(b))?..)?;
        (pid != 0).then_some((pid, comm))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kallsyms_as_trace_cmd_scans_it() {
        let k: Vec<Symbol<'_>> =
            kallsyms(b"ffffffff81000100 t b\n\nffffffffc0000000 t kvm_init\t[kvm]\n0000000000001000 A abs\nzz\nffffffff81000200 T after\n").collect();
        assert_eq!(k.len(), 3, "the table ends at the first line that does not scan");
        assert_eq!(k[0], Symbol { addr: 0xffffffff81000100, kind: b't', name: b"b", module: None });
        assert_eq!(k[1].module, Some(&b"kvm"[..]));
        assert!(k[1].is_function() && !k[2].is_function());
        assert!(kallsyms_line(b"ffffffff81000000 t $x").is_some_and(|s| !s.is_function()));
        // 17 hex digits: the 17th is the type, as %16llx leaves it.
        assert_eq!(kallsyms_line(b"ffffffff810000001 name").map(|s| (s.kind, s.name)), Some((b'1', &b"name"[..])));
        assert_eq!(kallsyms_line(b"ffffffff81000000 T"), None, "no name");
        assert_eq!(kallsyms_line(b"ffffffff81000000 T a [kvm]").unwrap().module, None, "a module follows one tab");
        assert_eq!(kallsyms_line(b"ffffffff81000000 T a\t[ \t").unwrap().module, None, "and has a name");
    }

    #[test]
    fn printk_and_cmdlines() {
        let p: Vec<_> = printk(b"0xffffffff82a0f2c8 : \"hello %d\\n\"\n:x\nnone\n0x10 : \"x\"\n").collect();
        assert_eq!(p, vec![(0xffffffff82a0f2c8, &b"hello %d"[..]), (0x10, &b"x"[..])]);
        let c: Vec<_> = cmdlines(b"12 bash\n0 <idle>\nx y\n7   npm install\n8 \n").collect();
        assert_eq!(c, vec![(12, &b"bash"[..]), (7, &b"npm install"[..])]);
    }
}
