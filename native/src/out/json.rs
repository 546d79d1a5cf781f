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
    /// Integers beyond 2^53 as `"\u0000DIGITS"`: a string no trace text can be (their strings
    /// end at a NUL), which the TypeScript layer turns into a BigInt.
    pub marked_bigints: bool,
    /// Whether the current container needs a comma before its next member.
    comma: Vec<bool>,
}

impl Json {
    pub fn new() -> Json {
        Json::over(Vec::new())
    }

    /// A writer appending to `out` (records into a report's output block).
    pub fn over(out: Vec<u8>) -> Json {
        Json { out, marked_bigints: false, comma: Vec::new() }
    }

    pub fn finish(self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }

    /// The bytes written, after what `over` was given.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out
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
    /// Bytes as a string (invalid UTF-8 as U+FFFD).
    pub fn bytes(&mut self, key: &str, v: &[u8]) {
        self.key(key);
        string_into(&mut self.out, &String::from_utf8_lossy(v));
    }
    /// An integer: a number when exact in JavaScript, else a decimal string.
    pub fn int(&mut self, key: &str, v: i128) {
        self.key(key);
        self.int_value(v);
    }
    pub fn item_int(&mut self, v: i128) {
        self.sep();
        self.int_value(v);
    }
    fn int_value(&mut self, v: i128) {
        if (-EXACT..=EXACT).contains(&v) {
            let _ = write!(self.out, "{v}");
        } else if self.marked_bigints {
            let _ = write!(self.out, "\"\\u0000{v}\"");
        } else {
            let _ = write!(self.out, "\"{v}\"");
        }
    }
    pub fn num(&mut self, key: &str, v: i64) {
        self.key(key);
        let _ = write!(self.out, "{v}");
    }
    /// A 64-bit value as a decimal string (exact in JavaScript through BigInt).
    pub fn big(&mut self, key: &str, v: u64) {
        self.key(key);
        let _ = write!(self.out, "\"{v}\"");
    }
    pub fn bool(&mut self, key: &str, v: bool) {
        self.key(key);
        self.out.extend_from_slice(if v { b"true" } else { b"false" });
    }
    pub fn null(&mut self, key: &str) {
        self.key(key);
        self.out.extend_from_slice(b"null");
    }
    pub fn null_item(&mut self) {
        self.sep();
        self.out.extend_from_slice(b"null");
    }
    pub fn item_num(&mut self, v: i64) {
        self.sep();
        let _ = write!(self.out, "{v}");
    }
    pub fn item_str(&mut self, v: &str) {
        self.sep();
        self.raw_str(v);
    }
}

/// `s` as a JSON string literal.
pub fn string_into(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for ch in s.chars() {
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let mut b = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    out.push(b'"');
}

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
        j.int("d", 1 << 53);
        j.int("e", -(1 << 53) - 1);
        j.bytes("f", b"\xffz");
        j.end_object();
        assert_eq!(j.finish(), r#"{"a":"x\"\n\u0001","b":[1,-2],"c":"18446744073709551615","d":9007199254740992,"e":"-9007199254740993","f":"�z"}"#);
    }
}
