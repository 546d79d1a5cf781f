//! Event format texts: what `events/SYSTEM/EVENT/format` and `events/header_page` say about
//! the layout of a record and of a ring-buffer page.
//!
//! ```text
//! name: sched_switch
//! ID: 316
//! format:
//! <TAB>field:unsigned short common_type;<TAB>offset:0;<TAB>size:2;<TAB>signed:0;
//! ...                                   the common fields, then a blank line
//! <TAB>field:char prev_comm[16];<TAB>offset:8;<TAB>size:16;<TAB>signed:0;
//! ...                                   the event's own fields, then a blank line
//! print fmt: "prev_comm=%s ...", REC->prev_comm, ...
//! ```
//!
//! The grammar is libtraceevent's (event-parse.c `event_read_format`, `event_read_fields`,
//! `tep_parse_header_page`), which is what trace-cmd reads these texts with: a blank line ends
//! a group of fields, so the first group is the common fields whatever their names; `signed:`
//! is optional (kernels before 2.6.33 did not write it) and a field without it is unsigned.
//! Where libtraceevent tokenizes, this reader works line by line, tolerating extra spaces and
//! tabs inside a line as its tokenizer does.
//!
//! What real texts vary in, all kept as written rather than interpreted:
//! - types of several words and pointers: `unsigned long long`, `const char *`,
//!   `void __seg_gs *`, `struct foo`;
//! - array lengths that are not numbers: `[TASK_COMM_LEN]`, `[32 + 2]`, `[(48) + 10]`,
//!   `[(int)sizeof(struct ieee80211_ht_cap)]`, and lengths that disagree with `size` (the
//!   32-bit ARM kernel of the trappy fixtures writes `char comm[32]` with `size:16`): `size`
//!   is what locates the bytes, the length is only what the declaration says;
//! - zero-size trailing fields, with brackets (`char buf[]`) or, in 3.x and 4.x kernels,
//!   without (`char buf;` of size 0): the data runs to the end of the record;
//! - fields listed out of offset order (`funcgraph_exit` of 4.x kernels);
//! - `print fmt` spanning several lines.
//!
//! Nothing is copied: names, types and the print format borrow from the text. Errors name the
//! event ("event format sched/sched_switch") and give the byte offset inside the text; a
//! caller that knows where the text sits in the file adds that offset.

use crate::format::error::{Error, Result};

/// The length of an array field as its declaration writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrayLen<'a> {
    /// `[16]`.
    Fixed(u32),
    /// `[]`: a trailing array that runs to the end of the record (its `size` is 0).
    Unsized,
    /// Anything else, trimmed: a macro name, an expression, a number too large for u32.
    Symbolic(&'a str),
}

/// One `field:` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field<'a> {
    pub name: &'a str,
    /// The declared type without the name and the array suffix: "unsigned short", "char",
    /// "const char *", "__data_loc char[]" (the brackets of a `__data_loc` type stay, since
    /// they come before the name).
    pub type_name: &'a str,
    /// Offset in the record payload, which starts at `common_type`.
    pub offset: u32,
    pub size: u32,
    /// `signed:` was non-zero; false when the kernel did not write `signed:`.
    pub signed: bool,
    pub array: Option<ArrayLen<'a>>,
    /// `__data_loc`: the field holds `(len << 16) | offset`, offset from the record start.
    pub data_loc: bool,
    /// `__rel_loc`: as `__data_loc`, but the offset counts from the end of this field.
    pub rel_loc: bool,
    /// In the first group of fields (before the first blank line).
    pub is_common: bool,
}

/// One event's format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventFormat<'a> {
    /// The system the file filed the event under (not part of the text).
    pub system: &'a str,
    pub name: &'a str,
    pub id: u32,
    pub common: Vec<Field<'a>>,
    pub fields: Vec<Field<'a>>,
    /// The text after `print fmt: `, without trailing whitespace; may hold newlines.
    pub print_fmt: &'a str,
}

/// The layout of a ring-buffer page, from `events/header_page`. Each pair is (offset, size)
/// in bytes from the start of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderPage {
    pub timestamp: (u32, u32),
    /// `local_t commit`: its size is the kernel's `long`, which decides where data starts.
    pub commit: (u32, u32),
    /// A flag inside `commit` (same offset); older kernels omit the line.
    pub overwrite: Option<(u32, u32)>,
    /// Event data: offset 16 with an 8-byte long, 12 with a 4-byte one.
    pub data: (u32, u32),
}

impl HeaderPage {
    /// The kernel's `long` size (4 or 8), from the size of `commit`; None for anything else.
    pub fn kernel_long(&self) -> Option<u8> {
        match self.commit.1 {
            4 => Some(4),
            8 => Some(8),
            _ => None,
        }
    }
}

/// Parses one event format text. `system` names the event in errors and in the result.
pub fn parse<'a>(system: &'a str, text: &'a [u8]) -> Result<EventFormat<'a>> {
    let mut cx = Ctx::Event(system, None);
    let text = utf8(text, &cx)?;
    let mut lines = Lines { text, pos: 0 };
    let (name, id) = head(&mut lines, &mut cx)?;

    let (rest, at) = keyword_line(&mut lines, "format", &cx)?;
    if !rest.is_empty() {
        return Err(cx.err(at, format!("the end of the line after `format:` (found {})", found(rest))));
    }
    let common = field_group(&mut lines, true, &cx)?;
    let fields = field_group(&mut lines, false, &cx)?;

    while let Some(line) = lines.peek().filter(|l| is_blank(l.text)) {
        lines.advance(line);
    }
    let Some(line) = lines.next() else {
        return Err(cx.err(text.len(), "a `print fmt:` line (the text ends before it)"));
    };
    let mut s = Scan::new(line);
    s.skip_ws();
    let keyword = s.eat("print")
        && {
            s.skip_ws();
            s.eat("fmt")
        }
        && {
            s.skip_ws();
            s.eat(":")
        };
    if !keyword {
        let what = "a `field:` line, a blank line or `print fmt:`";
        return Err(cx.err(line.at, format!("{what} (found {})", found(line.text))));
    }
    s.skip_ws();
    let print_fmt = text.get(s.offset()..).unwrap_or("").trim_end();
    Ok(EventFormat { system, name, id, common, fields, print_fmt })
}

/// The name and ID of an event format text, read from its first two lines alone: for
/// matching formats across files without parsing their fields.
pub fn identity<'a>(system: &str, text: &'a [u8]) -> Result<(&'a str, u32)> {
    let mut cx = Ctx::Event(system, None);
    let text = utf8(text, &cx)?;
    head(&mut Lines { text, pos: 0 }, &mut cx)
}

/// The `name:` and `ID:` lines; from the name on, errors name the event.
fn head<'c, 'a: 'c>(lines: &mut Lines<'a>, cx: &mut Ctx<'c>) -> Result<(&'a str, u32)> {
    let (name, at) = keyword_line(lines, "name", cx)?;
    if name.is_empty() || name.contains(|c: char| c.is_whitespace()) {
        return Err(cx.err(at, format!("an event name of one word after `name:` (found {})", found(name))));
    }
    if let Ctx::Event(_, named) = cx {
        *named = Some(name);
    }
    let (id, at) = keyword_line(lines, "ID", cx)?;
    let id = decimal(id).ok_or_else(|| cx.err(at, format!("a decimal event ID below 2^32 (found {})", found(id))))?;
    Ok((name, id))
}

/// Parses the `header_page` text. Fields other than timestamp, commit, overwrite and data are
/// skipped (none exist yet; a later kernel adding one should not make old layouts unreadable).
///
/// An empty text is an error: trace-cmd writes one for kernels without `events/header_page`,
/// and the caller must then assume the old layout (an 8-byte timestamp, a long-sized commit).
pub fn parse_header_page(text: &[u8]) -> Result<HeaderPage> {
    let cx = Ctx::Named("header_page");
    let text = utf8(text, &cx)?;
    if is_blank(text) {
        return Err(cx.err(0, "`field:` lines; the text is empty (a kernel without events/header_page)"));
    }
    let mut lines = Lines { text, pos: 0 };
    let (mut timestamp, mut commit, mut overwrite, mut data) = (None, None, None, None);
    while let Some(line) = lines.next() {
        if is_blank(line.text) {
            continue;
        }
        let f = parse_field(line, false, &cx)?;
        let slot = match f.name {
            "timestamp" => &mut timestamp,
            "commit" => &mut commit,
            "overwrite" => &mut overwrite,
            "data" => &mut data,
            _ => continue,
        };
        if slot.is_some() {
            return Err(cx.err(line.at, format!("one `{}` field (this is a second one)", f.name)));
        }
        *slot = Some((f.offset, f.size));
    }
    let need = |v: Option<(u32, u32)>, name: &str| v.ok_or_else(|| cx.err(text.len(), format!("a `{name}` field (the text ends without one)")));
    Ok(HeaderPage { timestamp: need(timestamp, "timestamp")?, commit: need(commit, "commit")?, overwrite, data: need(data, "data")? })
}

// ---- scanning -------------------------------------------------------------------------------
//
// Every byte this grammar looks for (newline, `;`, `:`, `[`, `]`, spaces and tabs) is ASCII, so
// the scanner works on the bytes of the (already validated) UTF-8 text: a position found at one
// of them is always a character boundary. A file recorded with `-e all` carries a few thousand
// formats and every command reads them all; str's char patterns (`find(char)`, `trim_matches`
// over a char array) decoded each character and were most of the cost of loading the table.

/// The part of the file being read, for errors. Only an error builds its name: formatting it
/// for every text read was a tenth of the cost of reading them.
#[derive(Clone, Copy)]
enum Ctx<'a> {
    /// An event format: its system, and its name once read ("event format sched/sched_switch").
    Event(&'a str, Option<&'a str>),
    /// Another text, by its name ("header_page").
    Named(&'a str),
}

impl Ctx<'_> {
    fn err(&self, at: usize, expected: impl Into<String>) -> Error {
        let section = match self {
            Ctx::Event(system, None) => format!("event format {system}"),
            Ctx::Event(system, Some(name)) => format!("event format {system}/{name}"),
            Ctx::Named(name) => name.to_string(),
        };
        Error::new(section, at as u64, expected)
    }
}

fn utf8<'a>(text: &'a [u8], cx: &Ctx) -> Result<&'a str> {
    std::str::from_utf8(text).map_err(|e| cx.err(e.valid_up_to(), "UTF-8 text (the kernel writes ASCII); this byte is not"))
}

/// Spaces, tabs, and the `\r` of a text that went through a CRLF editor.
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

/// `s` without its leading spaces and tabs.
fn trim_start_ws(s: &str) -> &str {
    let n = s.bytes().take_while(|b| is_ws(*b)).count();
    s.get(n..).unwrap_or("")
}

/// `s` without its trailing spaces and tabs.
fn trim_end_ws(s: &str) -> &str {
    let n = s.bytes().rev().take_while(|b| is_ws(*b)).count();
    s.get(..s.len() - n).unwrap_or("")
}

fn trim_ws(s: &str) -> &str {
    trim_end_ws(trim_start_ws(s))
}

/// Where the byte `b` first occurs in `s`.
fn find_byte(s: &str, b: u8) -> Option<usize> {
    s.bytes().position(|x| x == b)
}

fn is_blank(s: &str) -> bool {
    s.bytes().all(is_ws)
}

/// What was found instead, quoted and shortened, for error messages.
fn found(s: &str) -> String {
    let s = trim_ws(s);
    if s.is_empty() {
        return "nothing".to_string();
    }
    let short: String = s.chars().take(40).collect();
    if short.len() < s.len() {
        format!("{short:?}...")
    } else {
        format!("{short:?}")
    }
}

/// A decimal u32 of digits only (the kernel prints these fields with %u / %d).
fn decimal(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u32, |n, b| if b.is_ascii_digit() { n.checked_mul(10)?.checked_add(u32::from(b - b'0')) } else { None })
}

/// One line without its newline, and the offset of its first byte in the text.
#[derive(Clone, Copy)]
struct Line<'a> {
    text: &'a str,
    at: usize,
}

struct Lines<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lines<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        let rest = self.text.get(self.pos..).filter(|r| !r.is_empty())?;
        let len = find_byte(rest, b'\n').unwrap_or(rest.len());
        Some(Line { text: rest.get(..len)?, at: self.pos })
    }

    /// Past `line`, the one [`Lines::peek`] returned: a caller that peeked does not look for
    /// the newline again.
    fn advance(&mut self, line: Line<'a>) {
        // Past the newline; at the end of a text without one, stay at its length.
        self.pos = line.at.saturating_add(line.text.len()).saturating_add(1).min(self.text.len());
    }

    fn next(&mut self) -> Option<Line<'a>> {
        let line = self.peek()?;
        self.advance(line);
        Some(line)
    }
}

/// A position inside one line.
struct Scan<'a> {
    line: Line<'a>,
    pos: usize,
}

impl<'a> Scan<'a> {
    fn new(line: Line<'a>) -> Scan<'a> {
        Scan { line, pos: 0 }
    }
    /// Offset of the next character in the whole text.
    fn offset(&self) -> usize {
        self.line.at.saturating_add(self.pos)
    }
    fn rest(&self) -> &'a str {
        self.line.text.get(self.pos..).unwrap_or("")
    }
    fn skip_ws(&mut self) {
        let bytes = self.line.text.as_bytes();
        while bytes.get(self.pos).is_some_and(|b| is_ws(*b)) {
            self.pos += 1;
        }
    }
    /// `literal` if it comes next, compared byte by byte: these are words of a few letters,
    /// for which a call to memcmp cost more than the comparison.
    fn eat(&mut self, literal: &str) -> bool {
        let rest = self.line.text.as_bytes().get(self.pos..).unwrap_or(&[]);
        let ok = rest.len() >= literal.len() && rest.iter().zip(literal.as_bytes()).all(|(a, b)| a == b);
        if ok {
            self.pos += literal.len();
        }
        ok
    }
    /// The text up to the ASCII byte `end` (not included) and its offset; consumes `end` as
    /// well.
    fn until(&mut self, end: u8) -> Option<(&'a str, usize)> {
        let rest = self.rest();
        let n = find_byte(rest, end)?;
        let at = self.offset();
        self.pos += n + 1;
        Some((rest.get(..n)?, at))
    }
    fn digits(&mut self) -> &'a str {
        let rest = self.rest();
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        self.pos += n;
        rest.get(..n).unwrap_or("")
    }
}

/// `KEY: value` on the next line; returns the value (trimmed) and its offset.
fn keyword_line<'a>(lines: &mut Lines<'a>, key: &str, cx: &Ctx) -> Result<(&'a str, usize)> {
    let Some(line) = lines.next() else {
        return Err(cx.err(lines.text.len(), format!("a `{key}:` line (the text ends before it)")));
    };
    let mut s = Scan::new(line);
    s.skip_ws();
    let ok = s.eat(key) && {
        s.skip_ws();
        s.eat(":")
    };
    if !ok {
        return Err(cx.err(line.at, format!("a `{key}:` line (found {})", found(line.text))));
    }
    s.skip_ws();
    Ok((trim_end_ws(s.rest()), s.offset()))
}

/// `field:` lines up to a blank line (consumed) or any other line (left for the caller).
fn field_group<'a>(lines: &mut Lines<'a>, is_common: bool, cx: &Ctx) -> Result<Vec<Field<'a>>> {
    // Room for the fields of most events at once (the common group has four or five), rather
    // than growing through 1, 2, 4 and 8.
    let mut out = Vec::with_capacity(8);
    while let Some(line) = lines.peek() {
        let t = trim_start_ws(line.text);
        if t.is_empty() {
            lines.advance(line);
            break;
        }
        if !t.starts_with("field") {
            break;
        }
        lines.advance(line);
        out.push(parse_field(line, is_common, cx)?);
    }
    Ok(out)
}

/// `field:DECLARATION; offset:N; size:N; [signed:N;]`, in that order, as libtraceevent wants.
fn parse_field<'a>(line: Line<'a>, is_common: bool, cx: &Ctx) -> Result<Field<'a>> {
    let mut s = Scan::new(line);
    s.skip_ws();
    if !s.eat("field") {
        return Err(cx.err(s.offset(), format!("`field:` (found {})", found(s.rest()))));
    }
    s.skip_ws();
    // Early ftrace (trace_export.c's TRACE_FIELD_SPECIAL) wrote `field special:`; libtraceevent
    // skips the word.
    if s.eat("special") {
        s.skip_ws();
    }
    if !s.eat(":") {
        return Err(cx.err(s.offset(), format!("`:` after `field` (found {})", found(s.rest()))));
    }
    let at = s.offset();
    let Some((decl, at)) = s.until(b';') else {
        return Err(cx.err(at, format!("a declaration ended by `;` (found {})", found(s.rest()))));
    };
    let (type_name, name, array) = parse_decl(decl, at, cx)?;
    let offset = attribute(&mut s, "offset", cx)?;
    let size = attribute(&mut s, "size", cx)?;
    s.skip_ws();
    let signed = if s.rest().is_empty() { false } else { attribute(&mut s, "signed", cx)? != 0 };
    s.skip_ws();
    if !s.rest().is_empty() {
        let what = "the end of the line after the field's `signed:`";
        return Err(cx.err(s.offset(), format!("{what} (found {})", found(s.rest()))));
    }
    let loc = |prefix: &str| type_name.strip_prefix(prefix).is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'));
    Ok(Field { name, type_name, offset, size, signed, array, data_loc: loc("__data_loc"), rel_loc: loc("__rel_loc"), is_common })
}

/// `KEY:N;` with optional spaces and tabs around each part.
fn attribute(s: &mut Scan<'_>, key: &str, cx: &Ctx) -> Result<u32> {
    s.skip_ws();
    let at = s.offset();
    let ok = s.eat(key) && {
        s.skip_ws();
        s.eat(":")
    };
    if !ok {
        return Err(cx.err(at, format!("`{key}:` (found {})", found(s.rest()))));
    }
    s.skip_ws();
    let at = s.offset();
    let digits = s.digits();
    let Some(value) = decimal(digits) else {
        let what = format!("a decimal number below 2^32 after `{key}:`");
        return Err(cx.err(at, format!("{what} (found {})", found(s.rest()))));
    };
    s.skip_ws();
    if !s.eat(";") {
        return Err(cx.err(s.offset(), format!("`;` after `{key}:{value}` (found {})", found(s.rest()))));
    }
    Ok(value)
}

/// Splits `TYPE NAME`, `TYPE NAME[LEN]`, `TYPE *NAME` or `__data_loc TYPE[] NAME` (at = offset
/// of `decl` in the text) into type, name and array length.
fn parse_decl<'a>(decl: &'a str, at: usize, cx: &Ctx) -> Result<(&'a str, &'a str, Option<ArrayLen<'a>>)> {
    let lead = decl.len() - trim_start_ws(decl).len();
    let d = trim_ws(decl);
    let at = at.saturating_add(lead);
    let (head, array) = match d.strip_suffix(']') {
        Some(before) => {
            let Some(open) = before.bytes().rposition(|b| b == b'[') else {
                return Err(cx.err(at.saturating_add(before.len()), "a `[` opening the array length before this `]`"));
            };
            let len = trim_ws(before.get(open + 1..).unwrap_or(""));
            if len.bytes().any(|b| b == b']') {
                let what = format!("one array length in brackets (found {})", found(d));
                return Err(cx.err(at.saturating_add(open), what));
            }
            let len = if len.is_empty() { ArrayLen::Unsized } else { decimal(len).map_or(ArrayLen::Symbolic(len), ArrayLen::Fixed) };
            (trim_end_ws(before.get(..open).unwrap_or("")), Some(len))
        }
        None => (d, None),
    };
    // The name is the last word; a pointer's `*` may touch it (`char *buf`).
    let start = head.bytes().rposition(|b| b.is_ascii_whitespace() || b == b'*').map_or(0, |i| i + 1);
    let name = head.get(start..).unwrap_or("");
    // libtraceevent lets ftrace field names hold a '.'; keep it as part of the name.
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
        return Err(cx.err(at.saturating_add(start), format!("a field name after the type (found {})", found(name))));
    }
    let type_name = trim_end_ws(head.get(..start).unwrap_or(""));
    if type_name.is_empty() {
        return Err(cx.err(at, format!("a type before the field name `{name}`")));
    }
    Ok((type_name, name, array))
}

/// The four common fields every event of a modern kernel starts with, as a format file spells
/// them: the start of the formats tests make.
#[cfg(test)]
pub const TEST_COMMON_FIELDS: &str = "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
    \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
    \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
    \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::bytes::Endian;

    // ---- real texts ---------------------------------------------------------------------------

    /// x86_64, Linux 6.x (real/sched-irq-sys-v6.dat).
    const X86_SCHED_SWITCH: &str = "\
    name: sched_switch\n\
    ID: 372\n\
    format:\n\
    \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
    \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
    \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
    \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\
    \n\
    \tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\
    \tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n\
    \tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n\
    \tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n\
    \tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n\
    \tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n\
    \tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n\
    \n\
    print fmt: \"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d\", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1), \"|\", { 0x00000001, \"S\" }, { 0x00000002, \"D\" }, { 0x00000004, \"T\" }, { 0x00000008, \"t\" }, { 0x00000010, \"X\" }, { 0x00000020, \"Z\" }, { 0x00000040, \"P\" }, { 0x00000080, \"I\" }) : \"R\", REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? \"+\" : \"\", REC->next_comm, REC->next_pid, REC->next_prio\n";

    /// A `__data_loc` string (real/sched-irq-sys-v6.dat).
    const X86_IRQ_HANDLER_ENTRY: &str = "\
    name: irq_handler_entry\n\
    ID: 225\n\
    format:\n\
    \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
    \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
    \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
    \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\
    \n\
    \tfield:int irq;\toffset:8;\tsize:4;\tsigned:1;\n\
    \tfield:__data_loc char[] name;\toffset:12;\tsize:4;\tsigned:0;\n\
    \n\
    print fmt: \"irq=%d name=%s\", REC->irq, __get_str(name)\n";

    /// ftrace's own `unsigned long caller[8]` (real/sched-irq-sys-v6.dat).
    const X86_KERNEL_STACK: &str = "\
    name: kernel_stack\n\
    ID: 4\n\
    format:\n\
    \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
    \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
    \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
    \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\
    \n\
    \tfield:int size;\toffset:8;\tsize:4;\tsigned:1;\n\
    \tfield:unsigned long caller[8];\toffset:16;\tsize:64;\tsigned:0;\n\
    \n\
    print fmt: \"\\t=> %ps\\n\\t=> %ps\\n\\t=> %ps\\n\" \"\\t=> %ps\\n\\t=> %ps\\n\\t=> %ps\\n\" \"\\t=> %ps\\n\\t=> %ps\\n\", (void *)REC->caller[0], (void *)REC->caller[1], (void *)REC->caller[2], (void *)REC->caller[3], (void *)REC->caller[4], (void *)REC->caller[5], (void *)REC->caller[6], (void *)REC->caller[7]\n";

    /// i686, Linux 4.13: the zero-size trailing array is written without brackets
    /// (public/buildroot-kernel__trace.dat).
    const I686_KERNEL_STACK: &str = "\
    name: kernel_stack\n\
    ID: 4\n\
    format:\n\
    \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
    \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
    \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
    \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\
    \n\
    \tfield:int size;\toffset:8;\tsize:4;\tsigned:1;\n\
    \tfield:unsigned long caller;\toffset:12;\tsize:0;\tsigned:0;\n\
    \n\
    print fmt: \"\\t=> (\" \"%08lx\" \")\\n\\t=> (\" \"%08lx\" \")\\n\\t=> (\" \"%08lx\" \")\\n\" \"\\t=> (\" \"%08lx\" \")\\n\\t=> (\" \"%08lx\" \")\\n\\t=> (\" \"%08lx\" \")\\n\" \"\\t=> (\" \"%08lx\" \")\\n\\t=> (\" \"%08lx\" \")\\n\", REC->caller[0], REC->caller[1], REC->caller[2], REC->caller[3], REC->caller[4], REC->caller[5], REC->caller[6], REC->caller[7]\n";

    /// 32-bit ARM: 4-byte long, and `char prev_comm[32]` whose size is 16
    /// (public/trappy__tests__trace__0af4721.dat).
    const ARM32_SCHED_SWITCH: &str = "\
    name: sched_switch\n\
    ID: 68\n\
    format:\n\
    \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
    \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
    \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
    \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\
    \n\
    \tfield:char prev_comm[32];\toffset:8;\tsize:16;\tsigned:0;\n\
    \tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n\
    \tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n\
    \tfield:long prev_state;\toffset:32;\tsize:4;\tsigned:1;\n\
    \tfield:char next_comm[32];\toffset:36;\tsize:16;\tsigned:0;\n\
    \tfield:pid_t next_pid;\toffset:52;\tsize:4;\tsigned:1;\n\
    \tfield:int next_prio;\toffset:56;\tsize:4;\tsigned:1;\n\
    \n\
    print fmt: \"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d\", REC->prev_comm, REC->prev_pid, REC->prev_prio, REC->prev_state & (1024-1) ? __print_flags(REC->prev_state & (1024-1), \"|\", { 1, \"S\"} , { 2, \"D\" }, { 4, \"T\" }, { 8, \"t\" }, { 16, \"Z\" }, { 32, \"X\" }, { 64, \"x\" }, { 128, \"K\" }, { 256, \"W\" }, { 512, \"P\" }) : \"R\", REC->prev_state & 1024 ? \"+\" : \"\", REC->next_comm, REC->next_pid, REC->next_prio\n";

    /// Linux 2.6.31, before `signed:`; with `common_tgid`, a symbolic array length and a print
    /// fmt on two lines. As quoted in the kernel's Documentation/trace/events.rst (section 4,
    /// "Event formats"), less the documentation's one-tab indent.
    const OLD_SCHED_WAKEUP: &str = "\
    name: sched_wakeup\n\
    ID: 60\n\
    format:\n\
    \tfield:unsigned short common_type;\toffset:0;\tsize:2;\n\
    \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\n\
    \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\n\
    \tfield:int common_pid;\toffset:4;\tsize:4;\n\
    \tfield:int common_tgid;\toffset:8;\tsize:4;\n\
    \n\
    \tfield:char comm[TASK_COMM_LEN];\toffset:12;\tsize:16;\n\
    \tfield:pid_t pid;\toffset:28;\tsize:4;\n\
    \tfield:int prio;\toffset:32;\tsize:4;\n\
    \tfield:int success;\toffset:36;\tsize:4;\n\
    \tfield:int cpu;\toffset:40;\tsize:4;\n\
    \n\
    print fmt: \"task %s:%d [%d] success=%d [%03d]\", REC->comm, REC->pid,\n\
    \t   REC->prio, REC->success, REC->cpu\n";

    /// header_page of x86_64 (real/*.dat): 8-byte long.
    const HEADER_PAGE_64: &str = "\
    \tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\
    \tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n\
    \tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\
    \tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n";

    /// header_page of 32-bit ARM (public/trappy__tests__trace__0af4721.dat): 4-byte long.
    const HEADER_PAGE_32: &str = "\
    \tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\
    \tfield: local_t commit;\toffset:8;\tsize:4;\tsigned:1;\n\
    \tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\
    \tfield: char data;\toffset:12;\tsize:4084;\tsigned:0;\n";

    /// header_page as 2.6.32's ring_buffer_print_page_header printed it on x86_64: no
    /// `signed:`, no overwrite line (rebuilt from that function's format strings).
    const HEADER_PAGE_OLD: &str = "\
    \tfield: u64 timestamp;\toffset:0;\tsize:8;\n\
    \tfield: local_t commit;\toffset:8;\tsize:8;\n\
    \tfield: char data;\toffset:16;\tsize:4080;\n";

    /// The sample of real texts: see the note at the top of the file.
    const SAMPLE: &str = include_str!("testdata/event-formats.txt");

    struct Entry {
        system: &'static str,
        fixture: &'static str,
        text: &'static str,
    }

    fn sample() -> Vec<Entry> {
        let mut starts: Vec<usize> = SAMPLE.match_indices("\n#### ").map(|(i, _)| i + 1).collect();
        starts.push(SAMPLE.len());
        starts
            .windows(2)
            .map(|w| {
                let (head, text) = SAMPLE.get(w[0]..w[1]).unwrap().split_once('\n').unwrap();
                let (system, fixture) = head.strip_prefix("#### ").unwrap().split_once(' ').unwrap();
                Entry { system, fixture, text }
            })
            .collect()
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap(), 16).unwrap()).collect()
    }

    /// What every real format satisfies; returns a description of the first violation.
    fn check(f: &EventFormat<'_>) -> std::result::Result<(), String> {
        let first = f.common.first().ok_or("no common fields")?;
        if (first.name, first.offset, first.size) != ("common_type", 0, 2) {
            return Err(format!("first common field is {first:?}"));
        }
        for c in &f.common {
            if !c.is_common || !c.name.starts_with("common_") {
                return Err(format!("common group holds {c:?}"));
            }
        }
        for x in &f.fields {
            if x.is_common || x.name.starts_with("common_") {
                return Err(format!("event group holds {x:?}"));
            }
            if (x.data_loc || x.rel_loc) && x.size != 4 {
                return Err(format!("dynamic field of size {}: {x:?}", x.size));
            }
        }
        let mut spans: Vec<(u32, u32)> = f.common.iter().chain(&f.fields).map(|x| (x.offset, x.size)).collect();
        spans.sort();
        for w in spans.windows(2) {
            if w[0].0.checked_add(w[0].1).is_none_or(|end| end > w[1].0) {
                return Err(format!("fields overlap: {:?} and {:?}", w[0], w[1]));
            }
        }
        if !f.print_fmt.starts_with('"') {
            return Err(format!("print fmt {:?}", f.print_fmt));
        }
        Ok(())
    }

    fn field<'a>(f: &'a EventFormat<'_>, name: &str) -> &'a Field<'a> {
        f.fields.iter().chain(&f.common).find(|x| x.name == name).unwrap_or_else(|| panic!("no field {name}"))
    }

    /// A number field's value in a real record, by its parsed offset, size and signedness: the
    /// layout the report engine reads fields by.
    fn value(f: &EventFormat<'_>, name: &str, rec: &[u8], endian: Endian) -> Option<i64> {
        let x = field(f, name);
        let b = rec.get(x.offset as usize..(x.offset + x.size) as usize)?;
        let v = endian.uint(b)?;
        Some(match (x.signed, x.size) {
            (true, 1) => v as u8 as i8 as i64,
            (true, 2) => v as u16 as i16 as i64,
            (true, 4) => v as u32 as i32 as i64,
            _ => v as i64,
        })
    }

    /// The bytes a field covers in a record.
    fn bytes<'r>(f: &EventFormat<'_>, name: &str, rec: &'r [u8]) -> Option<&'r [u8]> {
        let x = field(f, name);
        rec.get(x.offset as usize..(x.offset + x.size) as usize)
    }

    // ---- event formats ----------------------------------------------------------------------------

    #[test]
    fn embedded_texts_are_verbatim_copies() {
        for text in [X86_SCHED_SWITCH, X86_IRQ_HANDLER_ENTRY, X86_KERNEL_STACK, I686_KERNEL_STACK, ARM32_SCHED_SWITCH] {
            assert!(sample().iter().any(|e| e.text == text), "not in the sample: {}", text.lines().next().unwrap());
        }
        for page in [HEADER_PAGE_64, HEADER_PAGE_32] {
            assert!(sample().iter().any(|e| e.system == "header_page" && e.text == page));
        }
    }

    #[test]
    fn sched_switch_x86() {
        let f = parse("sched", X86_SCHED_SWITCH.as_bytes()).unwrap();
        assert_eq!((f.system, f.name, f.id), ("sched", "sched_switch", 372));
        let common: Vec<_> = f.common.iter().map(|c| (c.type_name, c.name, c.offset, c.size, c.signed)).collect();
        assert_eq!(
            common,
            [
                ("unsigned short", "common_type", 0, 2, false),
                ("unsigned char", "common_flags", 2, 1, false),
                ("unsigned char", "common_preempt_count", 3, 1, false),
                ("int", "common_pid", 4, 4, true),
            ]
        );
        assert_eq!(f.fields.len(), 7);
        assert_eq!(
            f.fields[0],
            Field {
                name: "prev_comm",
                type_name: "char",
                offset: 8,
                size: 16,
                signed: false,
                array: Some(ArrayLen::Fixed(16)),
                data_loc: false,
                rel_loc: false,
                is_common: false,
            }
        );
        let state = field(&f, "prev_state");
        assert_eq!((state.type_name, state.offset, state.size, state.signed, state.array), ("long", 32, 8, true, None));
        assert!(f.print_fmt.starts_with("\"prev_comm=%s prev_pid=%d"));
        assert!(f.print_fmt.ends_with("REC->next_comm, REC->next_pid, REC->next_prio"));
        assert!(field(&f, "common_pid").is_common);
        check(&f).unwrap();

        // A real record: "scan.sh:30672 [120] R ==> scan.sh:30673 [120]".
        let rec = hex(concat!(
            "74010102d07700007363616e2e7368000000000000000000d0770000780000000000000000000000",
            "7363616e2e7368000000000000000000d177000078000000"
        ));
        let le = Endian::Little;
        assert_eq!(value(&f, "common_type", &rec, le), Some(372));
        assert_eq!(value(&f, "common_preempt_count", &rec, le), Some(2));
        assert_eq!(value(&f, "common_pid", &rec, le), Some(30672));
        assert_eq!(bytes(&f, "prev_comm", &rec).unwrap().split(|&b| b == 0).next(), Some(&b"scan.sh"[..]));
        assert_eq!(value(&f, "prev_prio", &rec, le), Some(120));
        assert_eq!(value(&f, "prev_state", &rec, le), Some(0));
        assert_eq!(value(&f, "next_pid", &rec, le), Some(30673));
        // Not a number: a 16-byte array; and a record cut short.
        assert_eq!(value(&f, "next_comm", &rec, le), None);
        assert_eq!(value(&f, "next_prio", rec.get(..62).unwrap(), le), None);
        assert!(!field(&f, "prev_comm").data_loc && !field(&f, "prev_comm").rel_loc);
    }

    #[test]
    fn sched_switch_arm32_declares_more_than_its_size() {
        let f = parse("sched", ARM32_SCHED_SWITCH.as_bytes()).unwrap();
        let comm = field(&f, "prev_comm");
        assert_eq!((comm.array, comm.size), (Some(ArrayLen::Fixed(32)), 16));
        assert_eq!(field(&f, "prev_state").size, 4);
        check(&f).unwrap();
        // A real record: "trace-cmd:4806 [120] R ==> FastMixer:2688 [96]".
        let rec = hex(concat!("44000103c612000074726163652d636d6400000000000000c61200007800000000040000", "466173744d6978657200720000000000800a000060000000"));
        let le = Endian::Little;
        assert_eq!(value(&f, "common_type", &rec, le), Some(i64::from(f.id)));
        assert_eq!(value(&f, "prev_pid", &rec, le), Some(4806));
        assert_eq!(value(&f, "prev_state", &rec, le), Some(1024));
        assert_eq!(bytes(&f, "next_comm", &rec).unwrap().get(..10), Some(&b"FastMixer\0"[..]));
        assert_eq!(value(&f, "next_pid", &rec, le), Some(2688));
        assert_eq!(value(&f, "next_prio", &rec, le), Some(96));
    }

    #[test]
    fn big_endian_records_of_s390x() {
        let entries = sample();
        let find = |name: &str| {
            let e = entries.iter().find(|e| e.fixture == "s390x-be-v6.dat" && e.text.starts_with(name)).unwrap();
            parse(e.system, e.text.as_bytes()).unwrap()
        };
        let be = Endian::Big;
        // "swapper/0:0 [120] R ==> rcu_sched:14 [120]".
        let f = find("name: sched_switch\n");
        assert_eq!(f.id, 252);
        let rec = hex(concat!(
            "00fc010000000000737761707065722f3000000000000000000000000000007800000000000000",
            "007263755f7363686564000000000000000000000e00000078"
        ));
        assert_eq!(value(&f, "common_type", &rec, be), Some(252));
        assert_eq!(value(&f, "prev_prio", &rec, be), Some(120));
        assert_eq!(value(&f, "prev_state", &rec, be), Some(0));
        assert_eq!(value(&f, "next_pid", &rec, be), Some(14));
        assert_eq!(value(&f, "next_pid", &rec, Endian::Little), Some(0x0e00_0000));
        // "irq=0 name=EXT": the __data_loc word is 0x0004_0010, four bytes at 16.
        let f = find("name: irq_handler_entry\n");
        let rec = hex("0049090000000000000000000004001045585400");
        let name = field(&f, "name");
        assert!(name.data_loc && !name.rel_loc && name.array.is_none());
        assert_eq!(name.type_name, "__data_loc char[]");
        assert_eq!((name.offset, name.size, value(&f, "name", &rec, be)), (12, 4, Some(0x0004_0010)));
        assert_eq!(rec.get(16..20), Some(&b"EXT\0"[..]));
        assert_eq!(value(&f, "irq", &rec, be), Some(0));
    }

    #[test]
    fn data_loc_string_x86() {
        let f = parse("irq", X86_IRQ_HANDLER_ENTRY.as_bytes()).unwrap();
        assert_eq!(f.print_fmt, "\"irq=%d name=%s\", REC->irq, __get_str(name)");
        // "irq=39 name=virtio2-output.0": 17 bytes at 16, then three bytes of record padding.
        let rec = hex("e100090100000000270000001000110076697274696f322d6f75747075742e30003a3000");
        let le = Endian::Little;
        assert_eq!(value(&f, "irq", &rec, le), Some(39));
        assert_eq!(value(&f, "name", &rec, le), Some(0x0011_0010));
        assert_eq!(rec.get(16..33), Some(&b"virtio2-output.0\0"[..]));
    }

    #[test]
    fn rel_loc_and_two_byte_data_loc() {
        let text = "name: foo\nID: 1\nformat:\n\
            \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\
            \tfield:__rel_loc char[] msg;\toffset:4;\tsize:4;\tsigned:0;\n\
            \tfield:__data_loc char[] old;\toffset:2;\tsize:2;\tsigned:0;\n\n\
            print fmt: \"%s\", __get_rel_str(msg)\n";
        let f = parse("test", text.as_bytes()).unwrap();
        let msg = field(&f, "msg");
        assert!(msg.rel_loc && !msg.data_loc);
        assert_eq!((msg.offset, msg.size, msg.type_name, msg.array), (4, 4, "__rel_loc char[]", None));
        let old = field(&f, "old");
        assert!(old.data_loc && !old.rel_loc);
        assert_eq!((old.offset, old.size), (2, 2));
    }

    #[test]
    fn ftrace_kernel_stack_print_bprint() {
        let f = parse("ftrace", X86_KERNEL_STACK.as_bytes()).unwrap();
        let caller = field(&f, "caller");
        assert_eq!((caller.type_name, caller.array), ("unsigned long", Some(ArrayLen::Fixed(8))));
        assert_eq!((caller.offset, caller.size), (16, 64));
        assert!(f.print_fmt.starts_with(r#""\t=> %ps\n\t=> %ps\n"#));

        // Linux 4.13 on i686: `unsigned long caller;` of size 0, no brackets.
        let f = parse("ftrace", I686_KERNEL_STACK.as_bytes()).unwrap();
        let caller = field(&f, "caller");
        assert_eq!((caller.array, caller.offset, caller.size), (None, 12, 0));
        assert_eq!(bytes(&f, "caller", &[0u8; 12]), Some(&[][..]));
        assert_eq!(value(&f, "caller", &[0u8; 12], Endian::Little), None);

        let entries = sample();
        let x86 = |name: &str| {
            let e = entries.iter().find(|e| e.fixture == "instance-v6.dat" && e.text.starts_with(name)).unwrap();
            parse(e.system, e.text.as_bytes()).unwrap()
        };
        let f = x86("name: print\n");
        assert_eq!(field(&f, "buf").array, Some(ArrayLen::Unsized));
        assert_eq!((field(&f, "buf").type_name, field(&f, "buf").size), ("char", 0));
        let f = x86("name: bprint\n");
        let fmt = field(&f, "fmt");
        assert_eq!((fmt.type_name, fmt.name, fmt.size), ("const char *", "fmt", 8));
        assert_eq!(field(&f, "ip").type_name, "unsigned long");
        assert_eq!(field(&f, "buf").type_name, "u32");
        let f = x86("name: function\n");
        assert_eq!(field(&f, "args").array, Some(ArrayLen::Unsized));
    }

    #[test]
    fn old_format_without_signed() {
        let f = parse("sched", OLD_SCHED_WAKEUP.as_bytes()).unwrap();
        assert_eq!(f.id, 60);
        assert_eq!(f.common.len(), 5);
        assert_eq!(f.common[4].name, "common_tgid");
        assert!(f.common.iter().chain(&f.fields).all(|x| !x.signed));
        let comm = field(&f, "comm");
        assert_eq!((comm.array, comm.size, comm.offset), (Some(ArrayLen::Symbolic("TASK_COMM_LEN")), 16, 12));
        assert_eq!(field(&f, "cpu").offset, 40);
        assert_eq!(f.print_fmt, "\"task %s:%d [%d] success=%d [%03d]\", REC->comm, REC->pid,\n\t   REC->prio, REC->success, REC->cpu");
        check(&f).unwrap();
    }

    #[test]
    fn declarations() {
        let cx = Ctx::Named("test");
        let d = |s: &'static str| parse_decl(s, 0, &cx).unwrap();
        use ArrayLen::*;
        assert_eq!(d("unsigned long long lsn"), ("unsigned long long", "lsn", None));
        assert_eq!(d("const char * filename"), ("const char *", "filename", None));
        assert_eq!(d("char *buf"), ("char *", "buf", None));
        assert_eq!(d("const char * const * argv"), ("const char * const *", "argv", None));
        assert_eq!(d("void __seg_gs * ptr"), ("void __seg_gs *", "ptr", None));
        assert_eq!(d("struct ftrace_graph_ent graph_ent"), ("struct ftrace_graph_ent", "graph_ent", None));
        assert_eq!(d("__data_loc char[] name"), ("__data_loc char[]", "name", None));
        assert_eq!(d("__data_loc cpumask_t cpumask"), ("__data_loc cpumask_t", "cpumask", None));
        assert_eq!(d("__rel_loc u8[] data"), ("__rel_loc u8[]", "data", None));
        assert_eq!(d("unsigned long caller[8]"), ("unsigned long", "caller", Some(Fixed(8))));
        assert_eq!(d("char buf[]"), ("char", "buf", Some(Unsized)));
        assert_eq!(d("char comm[TASK_COMM_LEN]"), ("char", "comm", Some(Symbolic("TASK_COMM_LEN"))));
        assert_eq!(d("__u8 buf[32 + 2]"), ("__u8", "buf", Some(Symbolic("32 + 2"))));
        assert_eq!(d("__u8 addr[(48) + 10]"), ("__u8", "addr", Some(Symbolic("(48) + 10"))));
        let sizeof = "(int)sizeof(struct ieee80211_ht_cap)";
        assert_eq!(d("u8 cap[(int)sizeof(struct ieee80211_ht_cap)]").2, Some(Symbolic(sizeof)));
        assert_eq!(d("char x[99999999999]").2, Some(Symbolic("99999999999")));
        assert_eq!(d("  int   x  "), ("int", "x", None));
        assert_eq!(d("unsigned long graph_ent.func"), ("unsigned long", "graph_ent.func", None));
        for bad in ["x", "", "int", "int ]", "int x[", "int *", "int x y[2]]", "int a[2][3]", "int [4]", "char é"] {
            assert!(parse_decl(bad, 0, &cx).is_err(), "{bad:?}");
        }
        let f = parse_decl("int x]", 10, &cx).unwrap_err();
        assert_eq!((f.offset, f.section.as_str()), (15, "test"));
    }

    #[test]
    fn signed_values_sign_extend() {
        let f = parse("sched", X86_SCHED_SWITCH.as_bytes()).unwrap();
        let mut rec = vec![0u8; 64];
        rec[4..8].copy_from_slice(&(-1i32).to_le_bytes());
        rec[32..40].copy_from_slice(&(-2i64).to_le_bytes());
        rec[3] = 0x80;
        // `signed:1` fields sign-extend from their size, `signed:0` ones do not.
        assert_eq!(value(&f, "common_pid", &rec, Endian::Little), Some(-1));
        assert_eq!(value(&f, "prev_state", &rec, Endian::Little), Some(-2));
        assert_eq!(value(&f, "common_preempt_count", &rec, Endian::Little), Some(128));
        rec[0..2].copy_from_slice(&(-3i16).to_be_bytes());
        assert_eq!(value(&f, "common_type", &rec, Endian::Big), Some(0xfffd));
    }

    #[test]
    fn tolerates_spacing_crlf_special_and_no_fields() {
        let text = "name:  x \r\nID:7\r\nformat:\r\n \tfield special : int common_type ; offset : 0 ; size : 4 ; \r\n\r\n\r\n\
                    print fmt:\"none\"\r\n";
        let f = parse("s", text.as_bytes()).unwrap();
        assert_eq!((f.name, f.id, f.common.len(), f.fields.len(), f.print_fmt), ("x", 7, 1, 0, "\"none\""));
        assert_eq!(f.common[0].size, 4);
        // No blank line before print fmt, no trailing newline.
        let text = b"name: y\nID: 1\nformat:\n\tfield:int common_x;\toffset:0;\tsize:4;\nprint fmt: \"\"";
        let f = parse("s", text).unwrap();
        assert_eq!((f.common.len(), f.print_fmt), (1, "\"\""));
    }

    // ---- header_page --------------------------------------------------------------------------

    #[test]
    fn header_pages() {
        let p = parse_header_page(HEADER_PAGE_64.as_bytes()).unwrap();
        assert_eq!(p, HeaderPage { timestamp: (0, 8), commit: (8, 8), overwrite: Some((8, 1)), data: (16, 4080) });
        assert_eq!(p.kernel_long(), Some(8));
        let p = parse_header_page(HEADER_PAGE_32.as_bytes()).unwrap();
        assert_eq!(p, HeaderPage { timestamp: (0, 8), commit: (8, 4), overwrite: Some((8, 1)), data: (12, 4084) });
        assert_eq!(p.kernel_long(), Some(4));
        let p = parse_header_page(HEADER_PAGE_OLD.as_bytes()).unwrap();
        assert_eq!((p.overwrite, p.data, p.kernel_long()), (None, (16, 4080), Some(8)));
        // Linux 7.x declares `char overwrite` (seen in a public fixture not copied here).
        let new = HEADER_PAGE_64.replace("int overwrite;\toffset:8;\tsize:1;\tsigned:1;", "char overwrite;\toffset:8;\tsize:1;\tsigned:0;");
        assert_ne!(new, HEADER_PAGE_64);
        assert_eq!(parse_header_page(new.as_bytes()).unwrap().overwrite, Some((8, 1)));
        // Every distinct header_page of the sample: x86_64, arm64 and s390x; 32-bit ARM and i686.
        let pages: Vec<_> = sample().into_iter().filter(|e| e.system == "header_page").collect();
        assert_eq!(pages.len(), 4);
        for e in pages {
            let p = parse_header_page(e.text.as_bytes()).unwrap();
            let long = p.kernel_long().unwrap();
            assert_eq!(p.data.0, 8 + u32::from(long), "{}", e.fixture);
            assert_eq!(p.data.0 + p.data.1, 4096);
        }
    }

    #[test]
    fn header_page_errors() {
        let e = parse_header_page(b"").unwrap_err();
        assert_eq!((e.section.as_str(), e.offset), ("header_page", 0));
        let cut = HEADER_PAGE_64.split("\tfield: char data").next().unwrap();
        let e = parse_header_page(cut.as_bytes()).unwrap_err();
        assert_eq!(e.offset as usize, cut.len());
        assert!(e.expected.contains("`data`"), "{e}");
        let twice = format!("{HEADER_PAGE_64}{HEADER_PAGE_64}");
        let e = parse_header_page(twice.as_bytes()).unwrap_err();
        assert_eq!(e.offset as usize, HEADER_PAGE_64.len());
        let e = parse_header_page(b"\tfield: u64 timestamp;\toffset:0;\tsize:8;\n# padding\n").unwrap_err();
        assert_eq!(e.offset, 41);
        assert!(parse_header_page(b"\tfield: u64 timestamp;\toffset:0;\tsize:\xff;\n").is_err());
        // A field this reader does not know is skipped.
        let more = format!("{HEADER_PAGE_64}\tfield: u64 extra;\toffset:4096;\tsize:8;\tsigned:0;\n");
        assert!(parse_header_page(more.as_bytes()).is_ok());
    }

    // ---- errors and hostile input -------------------------------------------------------------

    #[test]
    fn errors_name_the_event_and_the_offset() {
        let e = parse("sched", b"name: caf\xc3\xa9\xff\n").unwrap_err();
        assert_eq!((e.section.as_str(), e.offset), ("event format sched", 11));
        assert!(e.expected.contains("UTF-8"));

        let at = X86_SCHED_SWITCH.find("offset:8;").unwrap();
        let bad = X86_SCHED_SWITCH.replacen("offset:8;", "offset:x8;", 1);
        let e = parse("sched", bad.as_bytes()).unwrap_err();
        assert_eq!(e.section, "event format sched/sched_switch");
        assert_eq!(e.offset as usize, at + "offset:".len());
        assert!(e.expected.contains("after `offset:`") && e.expected.contains("\"x8;"), "{e}");

        let bad = X86_SCHED_SWITCH.replacen("size:16;\tsigned:0;", "size:16;\tsigend:0;", 1);
        let e = parse("sched", bad.as_bytes()).unwrap_err();
        assert!(e.expected.starts_with("`signed:`"), "{e}");

        let bad = X86_SCHED_SWITCH.replacen("ID: 372", "ID: 0x174", 1);
        assert_eq!(parse("sched", bad.as_bytes()).unwrap_err().offset, 23);

        let cut = X86_SCHED_SWITCH.split("print fmt").next().unwrap();
        let e = parse("sched", cut.as_bytes()).unwrap_err();
        assert_eq!(e.offset as usize, cut.len());
        assert!(e.expected.contains("print fmt"));

        let bad = X86_SCHED_SWITCH.replacen("\n\nprint fmt", "\n\tjunk\nprint fmt", 1);
        let e = parse("sched", bad.as_bytes()).unwrap_err();
        assert!(e.expected.contains("\"junk\""), "{e}");

        assert_eq!(parse("sched", b"").unwrap_err().section, "event format sched");
        assert_eq!(parse("sched", b"name: a b\n").unwrap_err().offset, 6);
        assert!(parse("sched", b"name: \n").is_err());
        assert!(parse("sched", b"ID: 1\nname: x\n").is_err());
        assert!(parse("sched", b"name: x\nID: 99999999999\n").is_err());
        assert!(parse("sched", b"name: x\nID: 1\nformat: y\n").is_err());
        let text = b"name: x\nID: 1\nformat:\n\tfield:int x;\toffset:1;\tsize:4;\tsigned:0; extra\n";
        let e = parse("sched", text).unwrap_err();
        assert!(e.expected.contains("\"extra\""), "{e}");
    }

    #[test]
    fn every_prefix_and_many_corruptions_fail_cleanly() {
        let text = X86_SCHED_SWITCH.as_bytes();
        let print_at = X86_SCHED_SWITCH.find("print fmt:").unwrap() + "print fmt:".len();
        for n in 0..=text.len() {
            let r = parse("sched", text.get(..n).unwrap());
            assert_eq!(r.is_ok(), n >= print_at, "prefix of {n} bytes");
        }
        for text in [X86_SCHED_SWITCH, OLD_SCHED_WAKEUP, HEADER_PAGE_32] {
            for i in 0..text.len() {
                for b in [0xffu8, 0xc3, b';', b':', b'[', b']', b'\n', b' ', b'*', b'9', 0] {
                    let mut t = text.as_bytes().to_vec();
                    t[i] = b;
                    let _ = parse("sched", &t);
                    let _ = parse_header_page(&t);
                    t.insert(i, b);
                    let _ = parse("sched", &t);
                }
            }
        }
    }

    // ---- all real texts -------------------------------------------------------------------------

    #[test]
    fn every_sample_format() {
        let entries = sample();
        assert_eq!(entries.len(), 100);
        let mut formats = 0;
        for e in &entries {
            assert!(e.text.ends_with('\n'), "{} {}", e.fixture, e.system);
            if e.system == "header_page" {
                continue;
            }
            let f = parse(e.system, e.text.as_bytes()).unwrap_or_else(|err| panic!("{}: {err}", e.fixture));
            check(&f).unwrap_or_else(|why| panic!("{} {}/{}: {why}", e.fixture, e.system, f.name));
            formats += 1;
        }
        assert_eq!(formats, 96);
    }

    /// Every format of every fixture, read through the trace reader. Needs the shared
    /// fixtures: $TRACEDAT_FIXTURES, else the nearest shared/fixtures above the project
    /// (../shared/fixtures in CI), as test/helpers.ts finds them.
    #[test]
    fn every_fixture_format() {
        use crate::format::file::{Content, Trace};
        use crate::format::options;
        let nearest = || {
            let native = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            let above = native.ancestors().skip(2).map(|d| d.join("shared/fixtures"));
            above.clone().find(|d| d.is_dir()).or_else(|| above.into_iter().next()).unwrap_or_default().display().to_string()
        };
        let dir = std::env::var("TRACEDAT_FIXTURES").unwrap_or_else(|_| nearest());
        let mut files: Vec<std::path::PathBuf> = ["real", "public"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(std::path::Path::new(&dir).join(sub)).ok())
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "dat"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no .dat files under {dir}/real or {dir}/public");
        let (mut formats, mut pages) = (0, 0);
        let mut failures = Vec::new();
        for path in &files {
            let data = std::fs::read(path).unwrap();
            let trace = match Trace::parse(&data) {
                Ok(t) => t,
                Err(e) => {
                    failures.push(format!("{}: the file: {e}", path.display()));
                    continue;
                }
            };
            let mut one = |system: &str, text: &[u8]| {
                formats += 1;
                match parse(system, text).map_err(|e| e.to_string()).and_then(|f| check(&f)) {
                    Ok(()) => {}
                    Err(why) => failures.push(format!("{}: {why}", path.display())),
                }
            };
            if let Some(Content::Ftrace(list)) = trace.content(options::FTRACE_EVENTS) {
                list.iter().for_each(|t| one("ftrace", trace.bytes(&data, t)));
            }
            if let Some(Content::Events(systems)) = trace.content(options::EVENT_FORMATS) {
                systems.iter().for_each(|s| s.events.iter().for_each(|t| one(&s.name, trace.bytes(&data, t))));
            }
            if let Some(Content::Headers { page, .. }) = trace.content(options::HEADER_INFO) {
                pages += 1;
                if let Err(e) = parse_header_page(trace.bytes(&data, page)) {
                    failures.push(format!("{}: {e}", path.display()));
                }
            }
        }
        eprintln!("{formats} event formats and {pages} header pages from {} files", files.len());
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
