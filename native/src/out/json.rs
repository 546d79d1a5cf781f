//! A minimal JSON writer for metadata handed to JavaScript (parsed there once per file).
//! Numbers that may exceed 2^53 (offsets in huge files are fine; trace ids and timestamps are
//! not) are written as decimal strings, and the TypeScript layer turns them into BigInts.

use std::fmt::Write;

pub struct Json {
    out: String,
    /// Whether the current container needs a comma before its next member.
    comma: Vec<bool>,
}

impl Json {
    pub fn new() -> Json {
        Json { out: String::new(), comma: Vec::new() }
    }

    pub fn finish(self) -> String {
        self.out
    }

    fn sep(&mut self) {
        if let Some(c) = self.comma.last_mut() {
            if *c {
                self.out.push(',');
            }
            *c = true;
        }
    }

    fn key(&mut self, k: &str) {
        self.sep();
        self.raw_str(k);
        self.out.push(':');
    }

    fn raw_str(&mut self, s: &str) {
        self.out.push('"');
        for ch in s.chars() {
            match ch {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\t' => self.out.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(self.out, "\\u{:04x}", c as u32);
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    pub fn begin_object(&mut self, key: Option<&str>) {
        match key {
            Some(k) => self.key(k),
            None => self.sep(),
        }
        self.out.push('{');
        self.comma.push(false);
    }
    pub fn begin_array(&mut self, key: Option<&str>) {
        match key {
            Some(k) => self.key(k),
            None => self.sep(),
        }
        self.out.push('[');
        self.comma.push(false);
    }
    pub fn end_object(&mut self) {
        self.comma.pop();
        self.out.push('}');
    }
    pub fn end_array(&mut self) {
        self.comma.pop();
        self.out.push(']');
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
        let _ = write!(self.out, "{v}");
    }
    /// A 64-bit value as a JSON number, its decimal digits exact (a reader past 2^53 may round).
    pub fn uint(&mut self, key: &str, v: u64) {
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
        self.out.push_str(if v { "true" } else { "false" });
    }
    pub fn null(&mut self, key: &str) {
        self.key(key);
        self.out.push_str("null");
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
        j.end_object();
        assert_eq!(j.finish(), r#"{"a":"x\"\n\u0001","b":[1,-2],"c":"18446744073709551615"}"#);
    }
}
