//! An event's fields as libtraceevent types them: the flags (array, string, `__data_loc`, ...)
//! and element sizes that decide how a field is read and printed raw.

use crate::format::event_format::{self, ArrayLen, EventFormat};
use crate::tep::lookups::strtoull;

/// `TEP_FIELD_IS_*` flags.
pub const F_ARRAY: u32 = 1;
pub const F_POINTER: u32 = 2;
pub const F_SIGNED: u32 = 4;
pub const F_STRING: u32 = 8;
pub const F_DYNAMIC: u32 = 16;
pub const F_LONG: u32 = 32;
pub const F_RELATIVE: u32 = 256;

/// A field as libtraceevent types it (event-parse.c `event_read_fields`).
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub offset: u32,
    pub size: u32,
    pub flags: u32,
    pub elementsize: u32,
}

/// The libtraceevent view of `format`'s fields: common ones first, then the event's own.
pub fn fields(format: &EventFormat<'_>, long_size: u32) -> (Vec<Field>, usize) {
    let conv = |f: &event_format::Field<'_>| {
        let t = f.type_name;
        let mut flags = 0;
        let (mut arraylen, mut size_dynamic) = (0u32, 0u32);
        if let Some(len) = f.array {
            flags |= F_ARRAY;
            arraylen = match len {
                ArrayLen::Fixed(n) => n,
                ArrayLen::Unsized => 0,
                ArrayLen::Symbolic(s) => strtoull(last_token(s.as_bytes()), 0) as u32,
            };
        } else if has(t, "[") {
            // `__data_loc char[] name`: the brackets belong to the type.
            flags |= F_ARRAY;
            let before = t.split('[').next().unwrap_or("");
            let base = before.rsplit(' ').next().unwrap_or("");
            size_dynamic = match base {
                "u8" | "s8" | "char" => 1,
                "u16" | "s16" => 2,
                "u32" | "s32" => 4,
                "u64" | "s64" => 8,
                _ => 0,
            };
        }
        if has(t, "*") {
            flags |= F_POINTER;
        }
        if flags & F_ARRAY != 0 && (has(t, "char") || has(t, "u8") || has(t, "s8")) {
            flags |= F_STRING;
        }
        if t.starts_with("__data_loc") {
            flags |= F_DYNAMIC;
        }
        if t.starts_with("__rel_loc") {
            flags |= F_DYNAMIC | F_RELATIVE;
        }
        if has(t, "long") {
            flags |= F_LONG;
        }
        if f.signed {
            flags |= F_SIGNED;
        }
        if flags & F_DYNAMIC != 0 && f.size == 2 {
            flags |= F_STRING | F_ARRAY;
        }
        let elementsize = if flags & (F_ARRAY | F_DYNAMIC) != 0 {
            match f.size.checked_div(arraylen) {
                Some(n) => n,
                None if flags & F_DYNAMIC != 0 => size_dynamic,
                None if flags & F_STRING != 0 => 1,
                None if flags & F_LONG != 0 => long_size,
                None => 0,
            }
        } else {
            f.size
        };
        Field { name: f.name.to_string(), offset: f.offset, size: f.size, flags, elementsize }
    };
    let mut out: Vec<Field> = format.common.iter().map(conv).collect();
    let n = out.len();
    out.extend(format.fields.iter().map(conv));
    (out, n)
}

/// Whether the type `t` holds `word` (str::contains, as libtraceevent's strstr). Type names
/// are a few words: comparing at each byte that starts like `word` costs less than str's
/// substring searcher, whose setup was a fifth of loading a table of 2000 events.
fn has(t: &str, word: &str) -> bool {
    let (t, w) = (t.as_bytes(), word.as_bytes());
    let Some(first) = w.first() else { return true };
    t.iter().enumerate().any(|(i, b)| b == first && t.get(i..).is_some_and(|r| r.len() >= w.len() && r.iter().zip(w).all(|(x, y)| x == y)))
}

/// The last token of an array length expression (libtraceevent keeps only that one).
fn last_token(s: &[u8]) -> &[u8] {
    let s = s.trim_ascii_end();
    let n = s.iter().rev().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
    if n == 0 {
        s.get(s.len().saturating_sub(1)..).unwrap_or(&[])
    } else {
        &s[s.len() - n..]
    }
}
