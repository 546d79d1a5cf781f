//! The C library as trace-cmd and libtraceevent meet it, where its exact behaviour shows in
//! the output: glibc's `strtoull` / `strtoll`, `sscanf`'s `%d` and `bsearch`.
//!
//! trace-cmd parses option texts (DATE, OFFSET), printk addresses and print fmt constants with
//! these, and which entry of a table with duplicate keys is found depends on bsearch's path.
//! They live in the format layer because options need them; the tep layer uses them too.

use std::cmp::Ordering;

/// C `isspace` in the "C" locale: space, `\t`, `\n`, `\v`, `\f`, `\r`.
pub fn is_space(b: u8) -> bool {
    b == b' ' || (b'\t'..=b'\r').contains(&b)
}

/// What the `strto*` family reads: leading white space, a sign, a base (0: by the prefix, `0x`
/// hex, `0` octal, else decimal; 16 also takes an `0x`), then digits up to the first that does
/// not fit. The magnitude, its sign, and whether it overflowed 64 bits.
fn strto(s: &[u8], base: u32) -> (bool, u64, bool) {
    let mut i = s.iter().take_while(|&&b| is_space(b)).count();
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut base = base;
    let hex_prefix = s.get(i) == Some(&b'0') && matches!(s.get(i + 1), Some(b'x' | b'X')) && s.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit());
    if (base == 0 || base == 16) && hex_prefix {
        base = 16;
        i += 2;
    } else if base == 0 {
        base = if s.get(i) == Some(&b'0') { 8 } else { 10 };
    }
    let mut v: u64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|c| (*c as char).to_digit(base)) {
        match v.checked_mul(base as u64).and_then(|x| x.checked_add(d as u64)) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    (neg, v, overflow)
}

/// `strtoull(s, NULL, base)`, base 0 or 16: saturates at `u64::MAX` on overflow; a minus sign
/// negates modulo 2^64.
pub fn strtoull(s: &[u8], base: u32) -> u64 {
    match strto(s, base) {
        (_, _, true) => u64::MAX,
        (true, v, false) => v.wrapping_neg(),
        (false, v, false) => v,
    }
}

/// `strtoll(s, NULL, base)`, base 0 or 16: saturates at `i64::MIN` / `i64::MAX`.
pub fn strtoll(s: &[u8], base: u32) -> i64 {
    let (neg, v, overflow) = strto(s, base);
    let v = if overflow { u64::MAX as i128 } else { v as i128 };
    let v = if neg { -v } else { v };
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// `sscanf(line, "%d")`: optional white space and sign, decimal digits; the value (saturated
/// like glibc's `strtol`, then cut to an int) and the rest of the line, or None without a digit.
pub fn scan_int(line: &[u8]) -> Option<(i32, &[u8])> {
    let start = line.iter().take_while(|&&b| is_space(b)).count();
    let sign = usize::from(matches!(line.get(start), Some(b'-' | b'+')));
    let digits = line.iter().skip(start + sign).take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let end = start + sign + digits;
    Some((strtoll(&line[..end], 10) as i32, &line[end..]))
}

/// glibc's `bsearch`: the index where `cmp(i)` is Equal on the bisection path, if any.
pub fn bsearch(n: usize, mut cmp: impl FnMut(usize) -> Ordering) -> Option<usize> {
    let (mut l, mut u) = (0usize, n);
    while l < u {
        let idx = (l + u) / 2;
        match cmp(idx) {
            Ordering::Less => u = idx,
            Ordering::Greater => l = idx + 1,
            Ordering::Equal => return Some(idx),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strto_like_glibc() {
        assert_eq!(strtoull(b"0x1f", 0), 31);
        assert_eq!(strtoull(b"017", 0), 15);
        assert_eq!(strtoull(b"-1", 0), u64::MAX);
        assert_eq!(strtoull(b"HI", 0), 0);
        assert_eq!(strtoull(b"ffffffff81000000", 16), 0xffffffff81000000);
        assert_eq!(strtoull(b"0x", 16), 0);
        assert_eq!(strtoull(b"99999999999999999999", 0), u64::MAX);
        assert_eq!(strtoll(b"0x10", 0), 16);
        assert_eq!(strtoll(b" -5000x", 0), -5000);
        assert_eq!(strtoll(b"010", 0), 8);
        assert_eq!(strtoll(b"junk", 0), 0);
        assert_eq!(strtoll(b"-9223372036854775808", 0), i64::MIN);
        assert_eq!(strtoll(b"9223372036854775808", 0), i64::MAX);
        assert_eq!(strtoll(b"-99999999999999999999", 0), i64::MIN);
        assert_eq!(strtoll(b"\x0b7", 0), 7, "vertical tab is C white space");
    }

    #[test]
    fn scan_int_and_bsearch() {
        assert_eq!(scan_int(b" -12 bash"), Some((-12, &b" bash"[..])));
        assert_eq!(scan_int(b"+7x"), Some((7, &b"x"[..])));
        assert_eq!(scan_int(b"- 1"), None);
        assert_eq!(scan_int(b"x"), None);
        // An even count bisects to the upper middle first: with duplicates, that one is found.
        let v = [1, 2, 2, 2, 3];
        assert_eq!(bsearch(v.len(), |i| 2.cmp(&v[i])), Some(2));
        assert_eq!(bsearch(v.len(), |i| 4.cmp(&v[i])), None);
    }
}
