//! The text tables a trace carries for printing: kallsyms (addresses to symbols), printk
//! formats (addresses of `trace_printk` format strings) and saved cmdlines (pid to comm).
//!
//! Each parser is lenient the way trace-cmd's are: a malformed line is skipped, not fatal,
//! because these tables only decorate output and old kernels wrote odd lines.

/// One kallsyms line: `ffffffff81000000 T _text` or `... t name\t[module]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol<'a> {
    pub addr: u64,
    pub kind: char,
    pub name: &'a str,
    pub module: Option<&'a str>,
}

/// Symbols sorted by address (stable for equal addresses, as listed).
pub fn kallsyms(text: &[u8]) -> Vec<Symbol<'_>> {
    let text = std::str::from_utf8(text).unwrap_or_else(|e| {
        // Keep the valid prefix: a damaged tail loses only its own lines.
        std::str::from_utf8(&text[..e.valid_up_to()]).unwrap_or("")
    });
    let mut out: Vec<Symbol<'_>> = text
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, [' ', '\t']);
            let addr = u64::from_str_radix(parts.next()?, 16).ok()?;
            let kind = parts.next()?.chars().next()?;
            let rest = parts.next()?;
            let (name, module) = match rest.split_once('\t') {
                Some((n, m)) => (n.trim(), Some(m.trim().trim_start_matches('[').trim_end_matches(']'))),
                None => (rest.trim(), None),
            };
            Some(Symbol { addr, kind, name, module })
        })
        .collect();
    out.sort_by_key(|s| s.addr);
    out
}

/// One printk format: `0xffffffff82a0f2c8 : "format\n"` (the string as printed by the kernel,
/// escapes and all).
pub fn printk(text: &[u8]) -> Vec<(u64, &str)> {
    let text = std::str::from_utf8(text).unwrap_or("");
    text.lines()
        .filter_map(|line| {
            let (addr, fmt) = line.split_once(" : ")?;
            let addr = u64::from_str_radix(addr.trim().trim_start_matches("0x"), 16).ok()?;
            let fmt = fmt.trim();
            let fmt = fmt.strip_prefix('"').and_then(|f| f.strip_suffix('"')).unwrap_or(fmt);
            Some((addr, fmt))
        })
        .collect()
}

/// Saved cmdlines: `pid comm` per line.
pub fn cmdlines(text: &[u8]) -> Vec<(i32, &str)> {
    let text = std::str::from_utf8(text).unwrap_or("");
    text.lines()
        .filter_map(|line| {
            let (pid, comm) = line.split_once(' ')?;
            Some((pid.trim().parse().ok()?, comm))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_tables() {
        let k = kallsyms(b"ffffffff81000100 t b\nffffffff81000000 T _text\nffffffffc0000000 t kvm_init\t[kvm]\nbogus\n");
        assert_eq!(k.len(), 3);
        assert_eq!(k[0], Symbol { addr: 0xffffffff81000000, kind: 'T', name: "_text", module: None });
        assert_eq!(k[2].module, Some("kvm"));
        let p = printk(b"0xffffffff82a0f2c8 : \"hello %d\\n\"\n");
        assert_eq!(p, vec![(0xffffffff82a0f2c8, "hello %d\\n")]);
        assert_eq!(cmdlines(b"12 bash\n0 <idle>\nx y\n"), vec![(12, "bash"), (0, "<idle>")]);
    }
}
