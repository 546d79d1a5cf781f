//! A minimal JSON writer for metadata handed to JavaScript (parsed there once per file) and
//! for `report --format json`'s records. Numbers that may exceed 2^53 (offsets in huge files
//! are fine; trace ids and timestamps are not) are written as decimal strings, and the
//! TypeScript layer turns them into BigInts.

use std::io::Write;

/// Integers up to this magnitude are exact in a JavaScript number.
const EXACT: i128 = 1 << 53;

pub struct Json {
    /// Only valid UTF-8 is ever written.
    out: Vec<u8>,
    /// Whether the current container needs a comma before its next member.
    comma: Vec<bool>,
}

impl Json {
    pub fn new() -> Json {
        Json { out: Vec::new(), comma: Vec::new() }
    }

    pub fn finish(self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }

    fn sep(&mut self) {
        if let Some(c) = self.comma.last_mut() {
            if *c {
                self.out.push(b',');
            }
            *c = true;
        }
    }

    fn key(&mut self, k: &str) {
        self.sep();
        self.raw_str(k);
        self.out.push(b':');
    }

    fn raw_str(&mut self, s: &str) {
        string_into(&mut self.out, s);
    }

    pub fn begin_object(&mut self, key: Option<&str>) {
        match key {
            Some(k) => self.key(k),
            None => self.sep(),
        }
        self.out.push(b'{');
        self.comma.push(false);
    }
    pub fn begin_array(&mut self, key: Option<&str>) {
        match key {
            Some(k) => self.key(k),
            None => self.sep(),
        }
        self.out.push(b'[');
        self.comma.push(false);
    }
    pub fn end_object(&mut self) {
        self.comma.pop();
        self.out.push(b'}');
    }
    pub fn end_array(&mut self) {
        self.comma.pop();
        self.out.push(b']');
    }

    pub fn str(&mut self, key: &str, v: &str) {
        self.key(key);
        self.raw_str(v);
    }
    pub fn opt_str(&mut self, key: &str, v: Option<&str>) {
        match v {
            Some(s) => self.str(key, s),
            None => self.null(key),
        }
    }
    pub fn num(&mut self, key: &str, v: i64) {
        self.key(key);
        i64_into(&mut self.out, v);
    }
    /// A 64-bit value as a JSON number, its decimal digits exact (a reader past 2^53 may round).
    pub fn uint(&mut self, key: &str, v: u64) {
        self.key(key);
        u64_into(&mut self.out, v);
    }
    /// A 64-bit value as a decimal string (exact in JavaScript through BigInt).
    pub fn big(&mut self, key: &str, v: u64) {
        self.key(key);
        self.out.push(b'"');
        u64_into(&mut self.out, v);
        self.out.push(b'"');
    }
    pub fn bool(&mut self, key: &str, v: bool) {
        self.key(key);
        self.out.extend_from_slice(if v { b"true" } else { b"false" });
    }
    pub fn null(&mut self, key: &str) {
        self.key(key);
        self.out.extend_from_slice(b"null");
    }
    pub fn item_num(&mut self, v: i64) {
        self.sep();
        i64_into(&mut self.out, v);
    }
    pub fn item_str(&mut self, v: &str) {
        self.sep();
        self.raw_str(v);
    }
}

/// `s` as a JSON string literal: runs of bytes that need no escape copied whole (report
/// `--format json` writes gigabytes of strings, almost all plain ASCII).
pub fn string_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.push(b'"');
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(bytes.get(run..i).unwrap_or_default());
        run = i.saturating_add(1);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
                out.push(HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0'));
            }
        }
    }
    out.extend_from_slice(bytes.get(run..).unwrap_or_default());
    out.push(b'"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes as a JSON string literal, invalid UTF-8 as U+FFFD (checked once: the copy that
/// replaces it is only made for bytes that need it).
pub fn bytes_into(out: &mut Vec<u8>, v: &[u8]) {
    match std::str::from_utf8(v) {
        Ok(s) => string_into(out, s),
        Err(_) => string_into(out, &String::from_utf8_lossy(v)),
    }
}

/// An integer: a number when exact in JavaScript, else a decimal string; `marked`, as
/// `"\u0000DIGITS"`: a string no trace text can be (their strings end at a NUL), which the
/// TypeScript layer turns into a BigInt.
pub fn int_into(out: &mut Vec<u8>, v: i128, marked: bool) {
    if (-EXACT..=EXACT).contains(&v) {
        i64_into(out, v as i64);
        return;
    }
    out.extend_from_slice(if marked { b"\"\\u0000" } else { b"\"" });
    match u64::try_from(v.unsigned_abs()) {
        Ok(m) => {
            if v < 0 {
                out.push(b'-');
            }
            u64_into(out, m);
        }
        Err(_) => {
            let _ = write!(out, "{v}");
        }
    }
    out.push(b'"');
}

/// `v` in decimal, as `{}` formats it (without core::fmt: it is the hot loop's cost).
pub fn i64_into(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    u64_into(out, v.unsigned_abs());
}

/// `v` in decimal, two digits at a time from the right.
pub fn u64_into(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    while v >= 100 {
        let pair = usize::try_from(v % 100).unwrap_or_default() * 2;
        v /= 100;
        at = at.saturating_sub(2);
        if let (Some(d), Some(p)) = (buf.get_mut(at..at.saturating_add(2)), PAIRS.get(pair..pair.saturating_add(2))) {
            d.copy_from_slice(p);
        }
    }
    if v >= 10 {
        let pair = usize::try_from(v).unwrap_or_default() * 2;
        at = at.saturating_sub(2);
        if let (Some(d), Some(p)) = (buf.get_mut(at..at.saturating_add(2)), PAIRS.get(pair..pair.saturating_add(2))) {
            d.copy_from_slice(p);
        }
    } else {
        at = at.saturating_sub(1);
        if let Some(d) = buf.get_mut(at) {
            *d = b'0' + v as u8;
        }
    }
    out.extend_from_slice(buf.get(at..).unwrap_or_default());
}

/// "00" to "99".
const PAIRS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_escaped() {
        let mut j = Json::new();
        j.begin_object(None);
        j.str("a", "x\"\n\u{1}");
        j.begin_array(Some("b"));
        j.item_num(1);
        j.item_num(-2);
        j.end_array();
        j.big("c", u64::MAX);
        j.uint("d", 1 << 53);
        j.end_object();
        assert_eq!(j.finish(), r#"{"a":"x\"\n\u0001","b":[1,-2],"c":"18446744073709551615","d":9007199254740992}"#);
        let mut out = Vec::new();
        int_into(&mut out, 1 << 53, false);
        out.push(b',');
        int_into(&mut out, -(1 << 53) - 1, false);
        out.push(b',');
        bytes_into(&mut out, b"\xffz");
        assert_eq!(String::from_utf8(out).unwrap(), "9007199254740992,\"-9007199254740993\",\"\u{fffd}z\"");
    }

    /// The escapes of the char-by-char writer this one replaced (`{:04x}` for the other
    /// controls), whatever else the string holds.
    fn slow(s: &str) -> Vec<u8> {
        let mut out = vec![b'"'];
        for ch in s.chars() {
            match ch {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\t' => out.extend_from_slice(b"\\t"),
                c if (c as u32) < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
                c => out.extend_from_slice(c.to_string().as_bytes()),
            }
        }
        out.push(b'"');
        out
    }

    #[test]
    fn escapes_as_before() {
        let all: String = (0u8..0x80).map(char::from).collect();
        for s in ["", "plain", "\r\n\t\"\\", "\u{7f}\u{1f}x", "é€😀\u{0}", &all, "tail\\"] {
            let mut out = Vec::new();
            string_into(&mut out, s);
            assert_eq!(out, slow(s), "{s:?}");
        }
        let mut out = Vec::new();
        bytes_into(&mut out, b"a\xff\xe2\x82b\n");
        assert_eq!(out, slow(&String::from_utf8_lossy(b"a\xff\xe2\x82b\n")));
    }

    #[test]
    fn integers_as_display() {
        for v in [0u64, 1, 9, 10, 99, 100, 101, 999, 1000, 12345, 1 << 53, u64::MAX / 10, u64::MAX - 1, u64::MAX] {
            let mut out = Vec::new();
            u64_into(&mut out, v);
            assert_eq!(out, v.to_string().into_bytes());
        }
        for v in [0i64, -1, -10, -99, 100, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            i64_into(&mut out, v);
            assert_eq!(out, v.to_string().into_bytes());
        }
        for (v, marked, want) in [
            (-(1i128 << 53), false, "-9007199254740992"),
            (u64::MAX as i128, true, "\"\\u000018446744073709551615\""),
            (i64::MIN as i128, false, "\"-9223372036854775808\""),
            (i128::MIN, false, "\"-170141183460469231731687303715884105728\""),
        ] {
            let mut out = Vec::new();
            int_into(&mut out, v, marked);
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }
}
