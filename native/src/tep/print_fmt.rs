//! An event's `print fmt`, parsed once and evaluated per record, with libtraceevent 1.7.1's
//! results: the same tokenizer, the same (quirky) operator-precedence rotations, the same
//! helper functions, and the same failures, since an event libtraceevent cannot parse prints
//! as `[FAILED TO PARSE]` plus its raw fields and that text is part of what we must match.
//!
//! The argument tree lives in an arena of [`Arg`]s addressed by index: libtraceevent
//! restructures its tree by copying nodes (`*left = *arg`) and swapping them to rotate
//! operators, which maps onto arena slots without any pointer juggling. Formatting goes
//! through [`crate::tep::cprintf`] with the exact format fragments libtraceevent hands to printf.

use crate::format::bytes::Endian;
use std::rc::Rc;

use crate::format::event_format::{ArrayLen, EventFormat};
use crate::tep::cprintf::{self, Arg as C};
use crate::tep::lookups::{strtoull, Funcs, Printk};

// ---- fields ---------------------------------------------------------------------------------

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
    let conv = |f: &crate::format::event_format::Field<'_>| {
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
        } else if t.contains('[') {
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
        if t.contains('*') {
            flags |= F_POINTER;
        }
        if flags & F_ARRAY != 0 && (t.contains("char") || t.contains("u8") || t.contains("s8")) {
            flags |= F_STRING;
        }
        if t.starts_with("__data_loc") {
            flags |= F_DYNAMIC;
        }
        if t.starts_with("__rel_loc") {
            flags |= F_DYNAMIC | F_RELATIVE;
        }
        if t.contains("long") {
            flags |= F_LONG;
        }
        if f.signed {
            flags |= F_SIGNED;
        }
        if flags & F_DYNAMIC != 0 && f.size == 2 {
            flags |= F_STRING | F_ARRAY;
        }
        let elementsize = if flags & (F_ARRAY | F_DYNAMIC) != 0 {
            if arraylen != 0 {
                f.size / arraylen
            } else if flags & F_DYNAMIC != 0 {
                size_dynamic
            } else if flags & F_STRING != 0 {
                1
            } else if flags & F_LONG != 0 {
                long_size
            } else {
                0
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

// ---- tokens ---------------------------------------------------------------------------------

/// libtraceevent's token types (`enum tep_event_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Tt {
    Error,
    None,
    Space,
    Newline,
    Op,
    Delim,
    Item,
    Dquote,
    Squote,
}

fn is_item_type(t: Tt) -> bool {
    matches!(t, Tt::Item | Tt::Dquote | Tt::Squote)
}

/// C `isspace`/`isprint` on a `char` read from the buffer (bytes >= 0x80 are negative there
/// and belong to no class).
fn c_isspace(c: i32) -> bool {
    matches!(c, 0x20 | 0x09..=0x0d)
}
fn c_isprint(c: i32) -> bool {
    (0x20..0x7f).contains(&c)
}

fn get_type(c: i32) -> Tt {
    if c == b'\n' as i32 {
        return Tt::Newline;
    }
    if c_isspace(c) {
        return Tt::Space;
    }
    if (0..0x80).contains(&c) && ((c as u8).is_ascii_alphanumeric() || c == b'_' as i32) {
        return Tt::Item;
    }
    if c == b'\'' as i32 {
        return Tt::Squote;
    }
    if c == b'"' as i32 {
        return Tt::Dquote;
    }
    if !c_isprint(c) {
        return Tt::None;
    }
    if c == b'(' as i32 || c == b')' as i32 || c == b',' as i32 {
        return Tt::Delim;
    }
    Tt::Op
}

/// libtraceevent's tokenizer over one input buffer (print fmts here, `-F` filters in
/// [`crate::tep::filter`]).
pub(crate) struct Lexer {
    buf: Vec<u8>,
    pos: usize,
}

impl Lexer {
    pub(crate) fn new(buf: &[u8]) -> Lexer {
        Lexer { buf: buf.to_vec(), pos: 0 }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub(crate) fn read_char(&mut self) -> i32 {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                b as i8 as i32
            }
            None => -1,
        }
    }
    pub(crate) fn peek_char(&self) -> i32 {
        self.buf.get(self.pos).map_or(-1, |&b| b as i8 as i32)
    }

    /// `__read_token`.
    fn raw_token(&mut self) -> (Tt, Vec<u8>) {
        let mut ch = self.read_char();
        if ch < 0 {
            return (Tt::None, Vec::new());
        }
        let mut ty = get_type(ch);
        if ty == Tt::None {
            return (ty, Vec::new());
        }
        let mut buf = vec![ch as u8];
        match ty {
            Tt::Newline | Tt::Delim => return (ty, buf),
            Tt::Op => {
                let test_equal = |lx: &mut Lexer, buf: &mut Vec<u8>| {
                    if lx.peek_char() == b'=' as i32 {
                        buf.push(lx.read_char() as u8);
                    }
                };
                match ch as u8 {
                    b'-' if self.peek_char() == b'>' as i32 => {
                        buf.push(self.read_char() as u8);
                    }
                    b'-' | b'+' | b'|' | b'&' | b'>' | b'<' => {
                        let last = ch;
                        if self.peek_char() != last {
                            test_equal(self, &mut buf);
                        } else {
                            buf.push(self.read_char() as u8);
                            if last == b'>' as i32 || last == b'<' as i32 {
                                test_equal(self, &mut buf);
                            }
                        }
                    }
                    b'!' | b'=' => test_equal(self, &mut buf),
                    _ => {}
                }
                return (ty, buf);
            }
            Tt::Dquote | Tt::Squote => {
                buf.clear();
                let quote = ch;
                loop {
                    // concat:
                    let mut last;
                    loop {
                        last = ch;
                        ch = self.read_char();
                        buf.push(ch as u8);
                        if ch == b'\\' as i32 && last == b'\\' as i32 {
                            last = 0;
                        }
                        if ch <= 0 {
                            break;
                        }
                        let more = (ch != quote && c_isprint(ch)) || last == b'\\' as i32 || ch == b'\n' as i32;
                        if !more {
                            break;
                        }
                    }
                    buf.pop();
                    if ch <= 0 {
                        ty = Tt::None;
                    }
                    if ty == Tt::Dquote {
                        let save = self.pos;
                        loop {
                            ch = self.read_char();
                            if !c_isspace(ch) {
                                break;
                            }
                        }
                        if ch == b'"' as i32 {
                            continue;
                        }
                        self.pos = save;
                    }
                    break;
                }
                // Bytes after a NUL would be cut by C's strings.
                let buf = cprintf::cstr(&buf).to_vec();
                return (ty, buf);
            }
            _ => {}
        }
        while get_type(self.peek_char()) == ty {
            buf.push(self.read_char() as u8);
        }
        if ty == Tt::Item {
            let forced: Option<&[u8]> = match buf.as_slice() {
                b"LOCAL_PR_FMT" => Some(b"\"%s\" "),
                b"STA_PR_FMT" => Some(b"\" sta:%pM\" "),
                b"VIF_PR_FMT" => Some(b"\" vif:%p(%d)\" "),
                _ => None,
            };
            if let Some(f) = forced {
                let mut lx = Lexer::new(f);
                return lx.raw_token();
            }
        }
        (ty, buf)
    }

    /// `read_token`: skips spaces, not newlines.
    fn token(&mut self) -> (Tt, Vec<u8>) {
        loop {
            let t = self.raw_token();
            if t.0 != Tt::Space {
                return t;
            }
        }
    }

    /// `read_token_item`: skips spaces and newlines.
    pub(crate) fn token_item(&mut self) -> (Tt, Vec<u8>) {
        loop {
            let t = self.raw_token();
            if t.0 != Tt::Space && t.0 != Tt::Newline {
                return t;
            }
        }
    }
}

// ---- the argument tree ------------------------------------------------------------------------

pub type ArgId = usize;

/// A print fmt function registered by a libtraceevent plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Helper {
    JiffiesToMsecs,
    Jbd2DevToName,
    Le16ToCpup,
    IsWritablePte,
    ScsiTraceParseCdb,
    XenHypercallName,
}

impl Helper {
    fn find(name: &[u8]) -> Option<Helper> {
        Some(match name {
            b"jiffies_to_msecs" => Helper::JiffiesToMsecs,
            b"jbd2_dev_to_name" => Helper::Jbd2DevToName,
            b"__le16_to_cpup" => Helper::Le16ToCpup,
            b"is_writable_pte" => Helper::IsWritablePte,
            b"scsi_trace_parse_cdb" => Helper::ScsiTraceParseCdb,
            b"xen_hypercall_name" => Helper::XenHypercallName,
            _ => return None,
        })
    }
    fn nr_args(self) -> usize {
        match self {
            Helper::ScsiTraceParseCdb => 3,
            _ => 1,
        }
    }
    /// Arguments passed as strings (printed first), not numbers.
    fn string_arg(self, _i: usize) -> bool {
        false
    }
}

#[derive(Clone, Debug)]
pub enum Arg {
    Null,
    Atom(Vec<u8>),
    /// `REC->name`, resolved to a field index when the print fmt is parsed (None: no such field).
    Field {
        field: Option<usize>,
    },
    Flags {
        field: Option<ArgId>,
        delim: Option<Vec<u8>>,
        flags: Vec<(Vec<u8>, Vec<u8>)>,
    },
    Symbol {
        field: Option<ArgId>,
        syms: Vec<(Vec<u8>, Vec<u8>)>,
    },
    Hex {
        field: Option<ArgId>,
        size: Option<ArgId>,
        str: bool,
    },
    IntArray {
        field: Option<ArgId>,
        count: Option<ArgId>,
        el_size: Option<ArgId>,
    },
    Type {
        ty: Vec<u8>,
        item: ArgId,
    },
    Str {
        name: Vec<u8>,
        field: Option<usize>,
    },
    BStr(Vec<u8>),
    Bitmask {
        name: Vec<u8>,
        cpumask: bool,
    },
    DynArray {
        field: Option<usize>,
    },
    DynArrayLen {
        field: Option<usize>,
    },
    Op {
        op: Vec<u8>,
        left: Option<ArgId>,
        right: Option<ArgId>,
        prio: i32,
    },
    Func {
        func: Helper,
        args: Vec<ArgId>,
    },
}

/// One piece of the print format: literal text or a conversion with its argument.
#[derive(Clone, Debug)]
pub struct Piece {
    pub kind: PieceKind,
    pub format: Vec<u8>,
    pub arg: Option<ArgId>,
    pub len_arg: Option<ArgId>,
    pub ls: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PieceKind {
    Text,
    Digit,
    Pointer,
    String,
}

/// What a failed parse step returns (libtraceevent's TEP_EVENT_ERROR).
type P<T> = Result<T, ()>;

/// An event's print fmt, parsed.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// The parsed arguments, shared so that evaluating one does not copy its strings and
    /// symbol tables; the few an evaluation rewrites (a symbol resolved to its address) are
    /// replaced whole.
    pub arena: Vec<Rc<Arg>>,
    /// The top-level arguments, in order.
    pub args: Vec<ArgId>,
    /// The format string as written (escapes not processed).
    pub format: Vec<u8>,
    pub pieces: Rc<[Piece]>,
    /// TEP_EVENT_FL_FAILED: print "[FAILED TO PARSE]" and the raw fields.
    pub failed: bool,
}

struct Parser<'a> {
    lx: Lexer,
    fields: &'a [Field],
    nr_common: usize,
    long_size: u32,
    arena: Vec<Arg>,
    failed: bool,
}

fn tok_is(t: &(Tt, Vec<u8>), ty: Tt, s: &[u8]) -> bool {
    t.0 == ty && t.1 == s
}

impl<'a> Parser<'a> {
    fn alloc(&mut self) -> ArgId {
        self.arena.push(Arg::Null);
        self.arena.len() - 1
    }

    fn find_any_field(&self, name: &[u8]) -> Option<usize> {
        let common = self.fields.get(..self.nr_common).unwrap_or(&[]);
        common.iter().position(|f| f.name.as_bytes() == name).or_else(|| self.find_field(name))
    }

    fn find_field(&self, name: &[u8]) -> Option<usize> {
        self.fields.iter().enumerate().skip(self.nr_common).find(|(_, f)| f.name.as_bytes() == name).map(|(i, _)| i)
    }

    fn process_arg(&mut self, arg: ArgId) -> P<(Tt, Vec<u8>)> {
        let t = self.lx.token();
        self.process_arg_token(arg, t)
    }

    fn process_arg_token(&mut self, arg: ArgId, t: (Tt, Vec<u8>)) -> P<(Tt, Vec<u8>)> {
        let (ty, token) = t;
        match ty {
            Tt::Item => {
                if token == b"REC" {
                    return self.process_entry(arg);
                }
                let mut atom = token;
                let mut t = self.lx.token_item();
                if tok_is(&t, Tt::Delim, b"(") {
                    return self.process_function(arg, atom);
                }
                while t.0 == Tt::Item {
                    atom.push(b' ');
                    atom.extend_from_slice(&t.1);
                    t = self.lx.token_item();
                }
                self.arena[arg] = Arg::Atom(atom);
                Ok(t)
            }
            Tt::Dquote | Tt::Squote => {
                self.arena[arg] = Arg::Atom(token);
                Ok(self.lx.token_item())
            }
            Tt::Delim if token == b"(" => self.process_paren(arg),
            Tt::Delim | Tt::Op => {
                self.arena[arg] = Arg::Op { op: token.clone(), left: None, right: None, prio: 0 };
                self.process_op(arg, token)
            }
            _ => Err(()),
        }
    }

    fn op_prio(op: &[u8]) -> i32 {
        if op.len() == 1 {
            match op[0] {
                b'~' | b'!' => 4,
                b'*' | b'/' | b'%' => 6,
                b'+' | b'-' => 7,
                b'<' | b'>' => 9,
                b'&' => 11,
                b'^' => 12,
                b'|' => 13,
                b'?' => 16,
                _ => -1,
            }
        } else {
            match op {
                b"++" | b"--" => 3,
                b">>" | b"<<" => 8,
                b">=" | b"<=" => 9,
                b"==" | b"!=" => 10,
                b"&&" => 14,
                b"||" => 15,
                _ => -1,
            }
        }
    }

    /// `process_op`: `token` is the operator just read; `arg` holds what is left of it.
    fn process_op(&mut self, arg: ArgId, token: Vec<u8>) -> P<(Tt, Vec<u8>)> {
        let is_unary = matches!(&self.arena[arg], Arg::Op { left: None, .. });
        let right_id;
        let t;
        if is_unary {
            if !matches!(token.first(), Some(b'~' | b'!' | b'+' | b'-')) || token.len() != 1 {
                return Err(());
            }
            let left = self.alloc();
            let right = self.alloc();
            if let Arg::Op { left: l, right: r, .. } = &mut self.arena[arg] {
                *l = Some(left);
                *r = Some(right);
            }
            right_id = Some(right);
            t = self.process_arg(right)?;
        } else if token == b"?" {
            let left = self.alloc();
            self.arena[left] = self.arena[arg].clone();
            self.arena[arg] = Arg::Op { op: token, left: Some(left), right: None, prio: 0 };
            right_id = None;
            t = self.process_cond(arg)?;
        } else if matches!(
            token.as_slice(),
            b">>" | b"<<" | b"&" | b"|" | b"&&" | b"||" | b"-" | b"+" | b"*" | b"^" | b"/" | b"%" | b"<" | b">" | b"<=" | b">=" | b"==" | b"!="
        ) {
            let left = self.alloc();
            self.arena[left] = self.arena[arg].clone();
            // set_op_prio: a NULL left (unary) is prio 0.
            let prio = if matches!(self.arena[left], Arg::Null) { 0 } else { Self::op_prio(&token) };
            self.arena[arg] = Arg::Op { op: token.clone(), left: Some(left), right: None, prio };
            if prio == -1 {
                self.failed = true;
                return Err(());
            }
            let next = self.lx.token_item();
            if token == b"*" && tok_is(&next, Tt::Delim, b")") {
                // A pointer type: `(char *)`.
                let Arg::Atom(mut a) = self.arena[left].clone() else { return Err(()) };
                a.extend_from_slice(b" *");
                self.arena[arg] = Arg::Atom(a);
                return Ok(next);
            }
            let right = self.alloc();
            let after = self.process_arg_token(right, next)?;
            let rotate = match &self.arena[right] {
                Arg::Op { op, .. } => Self::op_prio(&token) < Self::op_prio(op),
                _ => false,
            };
            if rotate {
                let right_left = match &self.arena[right] {
                    Arg::Op { left, .. } => *left,
                    _ => None,
                };
                if let Arg::Op { right: r, .. } = &mut self.arena[arg] {
                    *r = right_left;
                }
                self.arena.swap(arg, right);
                if let Arg::Op { left: l, .. } = &mut self.arena[arg] {
                    *l = Some(right);
                }
            } else if let Arg::Op { right: r, .. } = &mut self.arena[arg] {
                *r = Some(right);
            }
            right_id = Some(right);
            t = after;
        } else if token == b"[" {
            let left = self.alloc();
            self.arena[left] = self.arena[arg].clone();
            self.arena[arg] = Arg::Op { op: token, left: Some(left), right: None, prio: 0 };
            right_id = None;
            t = self.process_array(arg)?;
        } else {
            self.failed = true;
            return Err(());
        }
        if t.0 == Tt::Op && t.1 != b":" {
            let prio = Self::op_prio(&t.1);
            let my_prio = match &self.arena[arg] {
                Arg::Op { prio, .. } => *prio,
                _ => 0,
            };
            if prio > my_prio {
                return self.process_op(arg, t.1);
            }
            let Some(right) = right_id else { return Err(()) };
            return self.process_op(right, t.1);
        }
        Ok(t)
    }

    fn process_cond(&mut self, top: ArgId) -> P<(Tt, Vec<u8>)> {
        let arg = self.alloc();
        let left = self.alloc();
        let right = self.alloc();
        let mut t = self.process_arg(left)?;
        while t.0 == Tt::Op && t.1 != b":" {
            t = self.process_op(left, t.1)?;
        }
        if !tok_is(&t, Tt::Op, b":") {
            return Err(());
        }
        self.arena[arg] = Arg::Op { op: t.1, left: Some(left), right: Some(right), prio: 0 };
        let t = self.process_arg(right)?;
        if let Arg::Op { right: r, .. } = &mut self.arena[top] {
            *r = Some(arg);
        }
        Ok(t)
    }

    fn process_array(&mut self, top: ArgId) -> P<(Tt, Vec<u8>)> {
        let arg = self.alloc();
        let t = self.process_arg(arg)?;
        if !tok_is(&t, Tt::Op, b"]") {
            return Err(());
        }
        if let Arg::Op { right: r, .. } = &mut self.arena[top] {
            *r = Some(arg);
        }
        Ok(self.lx.token_item())
    }

    fn process_entry(&mut self, arg: ArgId) -> P<(Tt, Vec<u8>)> {
        let t = self.lx.token_item();
        if tok_is(&t, Tt::Delim, b")") {
            // "(REC)->": the caller continues.
            return Ok((Tt::Item, t.1));
        }
        if !tok_is(&t, Tt::Op, b"->") {
            return Err(());
        }
        let t = self.lx.token();
        if t.0 != Tt::Item {
            return Err(());
        }
        let field = self.find_any_field(&t.1);
        self.arena[arg] = Arg::Field { field };
        Ok(self.lx.token())
    }

    fn process_paren(&mut self, arg: ArgId) -> P<(Tt, Vec<u8>)> {
        let mut t = self.process_arg(arg)?;
        if t.0 == Tt::Op {
            t = self.process_op(arg, t.1)?;
        }
        if tok_is(&t, Tt::Item, b")") {
            return self.process_entry(arg);
        }
        if !tok_is(&t, Tt::Delim, b")") {
            return Err(());
        }
        let t = self.lx.token_item();
        if is_item_type(t.0) || tok_is(&t, Tt::Delim, b"(") {
            let Arg::Atom(ty) = self.arena[arg].clone() else { return Err(()) };
            let item = self.alloc();
            self.arena[arg] = Arg::Type { ty, item };
            return self.process_arg_token(item, t);
        }
        Ok(t)
    }

    /// `alloc_and_process_delim`: an argument (operators allowed) ended by `delim`.
    fn arg_until(&mut self, delim: &[u8]) -> P<ArgId> {
        let field = self.alloc();
        let mut t = self.process_arg(field)?;
        if t.0 == Tt::Op {
            t = self.process_op(field, t.1)?;
            consolidate(&mut self.arena, field);
        }
        if !tok_is(&t, Tt::Delim, delim) {
            return Err(());
        }
        Ok(field)
    }

    /// `process_field_arg`: the first argument of __print_flags/__print_symbolic.
    fn field_arg(&mut self, arg: ArgId) -> P<(Tt, Vec<u8>)> {
        let mut t = self.process_arg(arg)?;
        while t.0 == Tt::Op {
            t = self.process_op(arg, t.1)?;
        }
        Ok(t)
    }

    /// `process_fields`: `{ value, "name" }, ...`; `t` is the token before the first `{`.
    fn flag_list(&mut self) -> P<((Tt, Vec<u8>), Vec<(Vec<u8>, Vec<u8>)>)> {
        let mut list = Vec::new();
        let mut t;
        loop {
            t = self.lx.token_item();
            if !tok_is(&t, Tt::Op, b"{") {
                break;
            }
            let a = self.alloc();
            t = self.process_arg(a)?;
            if t.0 == Tt::Op {
                t = self.process_op(a, t.1)?;
            }
            if !tok_is(&t, Tt::Delim, b",") {
                return Err(());
            }
            let value = arg_eval(&self.arena, a).ok_or(())?;
            let a = self.alloc();
            t = self.process_arg(a)?;
            if !tok_is(&t, Tt::Op, b"}") {
                return Err(());
            }
            let name = arg_eval(&self.arena, a).ok_or(())?;
            list.push((value, name));
            t = self.lx.token_item();
            if !tok_is(&t, Tt::Delim, b",") {
                break;
            }
        }
        Ok((t, list))
    }

    fn process_function(&mut self, arg: ArgId, name: Vec<u8>) -> P<(Tt, Vec<u8>)> {
        match name.as_slice() {
            b"__print_flags" => {
                let field = self.alloc();
                let mut t = self.field_arg(field)?;
                while t.0 == Tt::Op {
                    t = self.process_op(field, t.1)?;
                }
                if !tok_is(&t, Tt::Delim, b",") {
                    return Err(());
                }
                let mut t = self.lx.token_item();
                let mut delim = None;
                if is_item_type(t.0) {
                    delim = Some(t.1);
                    t = self.lx.token_item();
                }
                if !tok_is(&t, Tt::Delim, b",") {
                    return Err(());
                }
                let (t, flags) = self.flag_list()?;
                if !tok_is(&t, Tt::Delim, b")") {
                    return Err(());
                }
                self.arena[arg] = Arg::Flags { field: Some(field), delim, flags };
                Ok(self.lx.token_item())
            }
            b"__print_symbolic" => {
                let field = self.alloc();
                let t = self.field_arg(field)?;
                if !tok_is(&t, Tt::Delim, b",") {
                    return Err(());
                }
                let (t, syms) = self.flag_list()?;
                if !tok_is(&t, Tt::Delim, b")") {
                    return Err(());
                }
                self.arena[arg] = Arg::Symbol { field: Some(field), syms };
                Ok(self.lx.token_item())
            }
            b"__print_hex" | b"__print_hex_str" => {
                let field = self.arg_until(b",")?;
                let size = self.arg_until(b")")?;
                self.arena[arg] = Arg::Hex { field: Some(field), size: Some(size), str: name == b"__print_hex_str" };
                Ok(self.lx.token_item())
            }
            b"__print_array" => {
                let field = self.arg_until(b",")?;
                let count = self.arg_until(b",")?;
                let el_size = self.arg_until(b")")?;
                self.arena[arg] = Arg::IntArray { field: Some(field), count: Some(count), el_size: Some(el_size) };
                Ok(self.lx.token_item())
            }
            b"__get_str" | b"__get_rel_str" => {
                let t = self.lx.token();
                if t.0 != Tt::Item {
                    return Err(());
                }
                self.arena[arg] = Arg::Str { name: t.1, field: None };
                if !tok_is(&self.lx.token(), Tt::Delim, b")") {
                    return Err(());
                }
                Ok(self.lx.token())
            }
            b"__get_bitmask" | b"__get_rel_bitmask" | b"__get_cpumask" | b"__get_rel_cpumask" => {
                let t = self.lx.token();
                if t.0 != Tt::Item {
                    return Err(());
                }
                self.arena[arg] = Arg::Bitmask { name: t.1, cpumask: name.ends_with(b"cpumask") };
                if !tok_is(&self.lx.token(), Tt::Delim, b")") {
                    return Err(());
                }
                Ok(self.lx.token())
            }
            b"__get_dynamic_array" | b"__get_rel_dynamic_array" | b"__get_sockaddr" | b"__get_sockaddr_rel" => {
                let t = self.lx.token();
                if t.0 != Tt::Item {
                    return Err(());
                }
                let field = self.find_field(&t.1).ok_or(())?;
                self.arena[arg] = Arg::DynArray { field: Some(field) };
                if !tok_is(&self.lx.token(), Tt::Delim, b")") {
                    return Err(());
                }
                let t = self.lx.token_item();
                if !tok_is(&t, Tt::Op, b"[") {
                    return Ok(t);
                }
                // `__get_dynamic_array(x)[i]`: libtraceevent parses the index and then fails.
                let a = self.alloc();
                let t = self.process_arg(a)?;
                if !tok_is(&t, Tt::Op, b"]") {
                    return Err(());
                }
                Err(())
            }
            b"__get_dynamic_array_len" | b"__get_rel_dynamic_array_len" => {
                let t = self.lx.token_item();
                if t.0 != Tt::Item {
                    return Err(());
                }
                let field = self.find_field(&t.1).ok_or(())?;
                self.arena[arg] = Arg::DynArrayLen { field: Some(field) };
                if !tok_is(&self.lx.token(), Tt::Delim, b")") {
                    return Err(());
                }
                Ok(self.lx.token())
            }
            b"__builtin_expect" => {
                let t = self.process_arg(arg)?;
                if t.0 != Tt::Delim || t.1.first() != Some(&b',') {
                    return Err(());
                }
                if self.lx.token().0 != Tt::Item {
                    return Err(());
                }
                if !tok_is(&self.lx.token(), Tt::Delim, b")") {
                    return Err(());
                }
                Ok(self.lx.token_item())
            }
            b"sizeof" => self.process_sizeof(arg),
            _ => {
                let Some(func) = Helper::find(&name) else { return Err(()) };
                let mut args = Vec::new();
                for i in 0..func.nr_args() {
                    let a = self.alloc();
                    let t = self.process_arg(a)?;
                    let want: &[u8] = if i + 1 < func.nr_args() { b"," } else { b")" };
                    if !tok_is(&t, Tt::Delim, want) {
                        return Err(());
                    }
                    args.push(a);
                }
                self.arena[arg] = Arg::Func { func, args };
                Ok(self.lx.token())
            }
        }
    }

    fn process_sizeof(&mut self, arg: ArgId) -> P<(Tt, Vec<u8>)> {
        let mut t = self.lx.token_item();
        let mut ok = false;
        if t.1 == b"unsigned" {
            t = self.lx.token_item();
            if t.0 == Tt::Error {
                return Err(());
            }
            if t.0 != Tt::Item {
                ok = true;
            }
        }
        let atom: Vec<u8>;
        if ok || t.1 == b"int" {
            atom = b"4".to_vec();
        } else if t.1 == b"long" {
            t = self.lx.token_item();
            if t.1 == b"long" {
                atom = b"8".to_vec();
            } else {
                atom = match self.long_size {
                    4 => b"4".to_vec(),
                    8 => b"8".to_vec(),
                    _ => return Err(()),
                };
                ok = true;
            }
        } else if t.1 == b"REC" {
            let t2 = self.lx.token_item();
            if !tok_is(&t2, Tt::Op, b"->") {
                return Err(());
            }
            let t3 = self.lx.token();
            if t3.0 != Tt::Item {
                return Err(());
            }
            let f = self.find_any_field(&t3.1).ok_or(())?;
            let f = &self.fields[f];
            if f.flags & F_ARRAY != 0 {
                return Err(());
            }
            atom = f.size.to_string().into_bytes();
            t = t3;
        } else {
            return Err(());
        }
        self.arena[arg] = Arg::Atom(atom);
        if !ok {
            t = self.lx.token_item();
        }
        if !tok_is(&t, Tt::Delim, b")") {
            return Err(());
        }
        Ok(self.lx.token_item())
    }

    /// `event_read_print_args`.
    fn print_args(&mut self) -> P<Vec<ArgId>> {
        let mut list = Vec::new();
        let mut ty = Tt::Error;
        loop {
            if ty == Tt::Newline {
                ty = self.lx.token_item().0;
                if ty == Tt::None {
                    break;
                }
                continue;
            }
            let arg = self.alloc();
            let mut t = self.process_arg(arg)?;
            list.push(arg);
            if t.0 == Tt::Op {
                t = self.process_op(arg, t.1)?;
                consolidate(&mut self.arena, arg);
                ty = t.0;
                if ty == Tt::None {
                    break;
                }
                continue;
            }
            if tok_is(&t, Tt::Delim, b",") {
                ty = t.0;
                continue;
            }
            break;
        }
        Ok(list)
    }
}

/// libtraceevent's `consolidate_op_arg`: folds operations on two literal atoms.
fn consolidate(arena: &mut Vec<Arg>, id: ArgId) {
    let Arg::Op { op, left, right, .. } = arena[id].clone() else { return };
    if let Some(l) = left {
        consolidate(arena, l);
    }
    if let Some(r) = right {
        consolidate(arena, r);
    }
    let (Some(l), Some(r)) = (left, right) else { return };
    let (Arg::Atom(a), Arg::Atom(b)) = (&arena[l], &arena[r]) else { return };
    let (left, right) = (strtoull(a, 0), strtoull(b, 0));
    let second = op.get(1).copied().unwrap_or(0);
    let val: u64 = match op.first().copied().unwrap_or(0) {
        b'>' => match second {
            b'>' => left.wrapping_shr(right as u32),
            b'=' => (left >= right) as u64,
            _ => (left > right) as u64,
        },
        b'<' => match second {
            b'<' => left.wrapping_shl(right as u32),
            b'=' => (left <= right) as u64,
            _ => (left < right) as u64,
        },
        b'&' => {
            if second == b'&' {
                (left != 0 && right != 0) as u64
            } else {
                left & right
            }
        }
        b'|' => {
            if second == b'|' {
                (left != 0 || right != 0) as u64
            } else {
                left | right
            }
        }
        b'-' => left.wrapping_sub(right),
        b'+' => left.wrapping_add(right),
        b'*' => left.wrapping_mul(right),
        b'^' => left ^ right,
        b'/' => left.checked_div(right).unwrap_or(0),
        b'%' => left.checked_rem(right).unwrap_or(0),
        b'=' => (left == right) as u64,
        b'!' => (left != right) as u64,
        _ => return,
    };
    arena[id] = Arg::Atom((val as i64).to_string().into_bytes());
}

/// `eval_type_str`: narrows a value to a cast's type.
fn eval_type_str(val: u64, ty: &[u8], pointer: bool) -> u64 {
    let len = ty.len();
    if len < 2 {
        return val;
    }
    if pointer {
        if ty[len - 1] != b'*' {
            return val;
        }
        return eval_type_str(val, &ty[..len - 2], false);
    }
    if ty[len - 1] == b'*' || ty.starts_with(b"struct") {
        return val;
    }
    let ty = ty.strip_prefix(b"unsigned ").unwrap_or(ty);
    match ty {
        b"u8" => val & 0xff,
        b"u16" => val & 0xffff,
        b"u32" => val & 0xffff_ffff,
        b"u64" | b"s64" => val,
        b"s8" => val as u8 as i8 as u64 & 0xff,
        b"s16" => val as u16 as i16 as u64 & 0xffff,
        b"s32" => val as u32 as i32 as u64 & 0xffff_ffff,
        b"char" => val & 0xff,
        b"short" => val & 0xffff,
        b"int" => val & 0xffff_ffff,
        _ => val,
    }
}

/// `arg_num_eval`, for values inside __print_flags/__print_symbolic tables.
fn arg_num_eval(arena: &[Arg], id: ArgId) -> Option<i64> {
    Some(match &arena[id] {
        Arg::Atom(a) => strtoull(a, 0) as i64,
        Arg::Type { ty, item } => eval_type_str(arg_num_eval(arena, *item)? as u64, ty, false) as i64,
        Arg::Op { op, left, right, .. } => {
            let get = |x: &Option<ArgId>| x.and_then(|i| arg_num_eval(arena, i));
            let is_null = |x: &Option<ArgId>| x.is_none_or(|i| matches!(arena[i], Arg::Null));
            let second = op.get(1).copied().unwrap_or(0);
            match op.first().copied().unwrap_or(0) {
                b'|' | b'&' | b'<' | b'>' | b'=' | b'!' => {
                    let (l, r) = (get(left)?, get(right)?);
                    match (op[0], second) {
                        (b'|', 0) => l | r,
                        (b'|', _) => (l != 0 || r != 0) as i64,
                        (b'&', 0) => l & r,
                        (b'&', _) => (l != 0 && r != 0) as i64,
                        (b'<', 0) => (l < r) as i64,
                        (b'<', b'<') => l.wrapping_shl(r as u32),
                        (b'<', b'=') => (l <= r) as i64,
                        (b'>', 0) => (l > r) as i64,
                        (b'>', b'>') => l.wrapping_shr(r as u32),
                        (b'>', b'=') => (l >= r) as i64,
                        (b'=', b'=') => (l == r) as i64,
                        (b'!', b'=') => (l != r) as i64,
                        _ => return None,
                    }
                }
                b'-' | b'+' => {
                    let l = if is_null(left) { 0 } else { get(left)? };
                    let r = get(right)?;
                    if op[0] == b'-' {
                        l.wrapping_sub(r)
                    } else {
                        l.wrapping_add(r)
                    }
                }
                b'~' => !get(right)?,
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// `arg_eval`: the text of a flag/symbol table entry.
fn arg_eval(arena: &[Arg], id: ArgId) -> Option<Vec<u8>> {
    match &arena[id] {
        Arg::Atom(a) => Some(a.clone()),
        Arg::Type { item, .. } => arg_eval(arena, *item),
        Arg::Op { .. } => Some(arg_num_eval(arena, id)?.to_string().into_bytes()),
        _ => None,
    }
}

// ---- the format string ----------------------------------------------------------------------

/// `parse_args`: splits the format into pieces and binds the arguments to conversions.
fn parse_pieces(format: &[u8], args: &[ArgId], failed: &mut bool) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut next_arg = args.iter().copied();
    let mut arg = next_arg.next();
    let mut len = format.len() as i64;
    let mut pos = 0usize;
    while pos < format.len() && format[pos] != 0 {
        let f = &format[pos..];
        let ret = if f[0] == b'%' && f.get(1) != Some(&b'%') {
            parse_arg_format(&mut out, f, &mut arg, &mut next_arg, failed)
        } else {
            parse_arg_string(&mut out, f)
        };
        len -= ret as i64;
        if len > 0 {
            pos += ret;
        } else {
            break;
        }
    }
    out
}

fn parse_arg_string(out: &mut Vec<Piece>, f: &[u8]) -> usize {
    let mut s = Vec::new();
    let mut ret = 0;
    let mut i = 0;
    while i < f.len() && f[i] != 0 {
        if f[i] == b'\\' {
            i += 1;
            ret += 1;
            match f.get(i).copied().unwrap_or(0) {
                b'n' => s.push(b'\n'),
                b't' => s.push(b'\t'),
                b'r' => s.push(b'\r'),
                b'\\' => s.push(b'\\'),
                0 => {
                    // C puts the NUL (ending the text) and then stops.
                    ret += 1;
                    break;
                }
                c => s.push(c),
            }
        } else if f[i] == b'%' {
            if f.get(i + 1) == Some(&b'%') {
                s.push(b'%');
                i += 1;
                ret += 1;
            } else {
                break;
            }
        } else {
            s.push(f[i]);
        }
        ret += 1;
        i += 1;
    }
    out.push(Piece { kind: PieceKind::Text, format: s, arg: None, len_arg: None, ls: 0 });
    ret
}

fn parse_arg_format_pointer(f: &[u8]) -> usize {
    let at = |i: usize| f.get(i).copied().unwrap_or(0);
    let mut ret = 0;
    match at(0) {
        b'F' | b'S' | b'f' | b's' => ret += 1,
        b'M' | b'm' => {
            if matches!(at(1), b'R' | b'F') {
                ret += 1;
            }
            ret += 1;
        }
        b'I' | b'i' => {
            let mut index = 2;
            let v = at(1);
            let mut fall_4 = false;
            let mut fall_6 = false;
            if v == b'S' {
                while matches!(at(index), b'p' | b'f' | b's') {
                    ret += 1;
                    index += 1;
                }
                fall_4 = true;
            }
            if v == b'4' || fall_4 {
                if matches!(at(index), b'h' | b'n' | b'l' | b'b') {
                    ret += 1;
                    index += 1;
                }
                if v == b'4' {
                    ret += 1;
                } else {
                    fall_6 = true;
                }
            }
            if v == b'6' || fall_6 {
                if at(index) == b'c' {
                    ret += 1;
                }
                ret += 1;
            }
            ret += 1;
        }
        b'U' => {
            if matches!(at(1), b'L' | b'l' | b'B' | b'b') {
                ret += 1;
            }
            ret += 1;
        }
        b'h' => {
            if matches!(at(1), b'C' | b'D' | b'N') {
                ret += 1;
            }
            ret += 1;
        }
        _ => {}
    }
    ret
}

fn parse_arg_format(out: &mut Vec<Piece>, f: &[u8], arg: &mut Option<ArgId>, rest: &mut impl Iterator<Item = ArgId>, failed: &mut bool) -> usize {
    let mut len_arg = None;
    let mut ls = 0i32;
    let mut ret = 1;
    let mut i = 1;
    let spec = |end: usize, failed: &mut bool, limit: usize| {
        let mut l = end;
        if l > limit {
            *failed = true;
            l = 31;
        }
        f.get(..l).unwrap_or(f).to_vec()
    };
    while i < f.len() && f[i] != 0 {
        match f[i] {
            b'#' | b'.' | b'0'..=b'9' | b'-' => {}
            b'h' => ls -= 1,
            b'l' => ls += 1,
            b'L' => ls = 2,
            b'z' | b'Z' => ls = 1,
            b'*' => {
                let Some(a) = *arg else {
                    *failed = true;
                    return ret;
                };
                if len_arg.is_some() {
                    *failed = true;
                    return ret;
                }
                len_arg = Some(a);
                *arg = rest.next();
            }
            b'p' => {
                let Some(a) = *arg else {
                    *failed = true;
                    return ret;
                };
                let res = parse_arg_format_pointer(&f[i + 1..]);
                i += res;
                ret += res;
                let format = spec(i + 1, failed, 31);
                out.push(Piece { kind: PieceKind::Pointer, format, arg: Some(a), len_arg, ls });
                *arg = rest.next();
                return ret + 1;
            }
            b'd' | b'u' | b'i' | b'x' | b'X' | b'o' => {
                let Some(a) = *arg else {
                    *failed = true;
                    return ret;
                };
                let format = spec(i + 1, failed, 30);
                if !(-2..=2).contains(&ls) {
                    *failed = true;
                }
                out.push(Piece { kind: PieceKind::Digit, format, arg: Some(a), len_arg, ls });
                *arg = rest.next();
                return ret + 1;
            }
            b's' => {
                let Some(a) = *arg else {
                    *failed = true;
                    return ret;
                };
                let format = spec(i + 1, failed, 31);
                out.push(Piece { kind: PieceKind::String, format, arg: Some(a), len_arg, ls: 0 });
                *arg = rest.next();
                return ret + 1;
            }
            c => {
                out.push(Piece { kind: PieceKind::Text, format: vec![b'>', c, b'<'], arg: None, len_arg: None, ls: 0 });
                return ret + 1;
            }
        }
        ret += 1;
        i += 1;
    }
    ret
}

/// Parses the text after `print fmt: ` for an event with these fields. `ftrace` events with
/// no arguments get their fields as arguments (old ftrace formats); `bprint` keeps only the
/// format (its real one comes from each record).
pub fn parse(text: &[u8], fields: &[Field], nr_common: usize, long_size: u32, ftrace: bool, bprint: bool) -> Program {
    let mut p = Parser { lx: Lexer::new(text), fields, nr_common, long_size, arena: Vec::new(), failed: false };
    let mut prog = Program::default();
    let t = p.lx.token();
    if t.0 != Tt::Dquote {
        prog.failed = true;
        return prog;
    }
    let mut format = t.1;
    let mut t = p.lx.token_item();
    while t.0 == Tt::Dquote {
        format.extend_from_slice(&t.1);
        t = p.lx.token_item();
    }
    let args = if t.0 == Tt::None {
        Ok(Vec::new())
    } else if !tok_is(&t, Tt::Delim, b",") {
        Err(())
    } else {
        p.print_args()
    };
    prog.format = format;
    let Ok(mut args) = args else {
        prog.failed = true;
        prog.arena = p.arena.into_iter().map(Rc::new).collect();
        return prog;
    };
    if args.is_empty() && ftrace {
        for (i, _) in fields.iter().enumerate().skip(nr_common) {
            p.arena.push(Arg::Field { field: Some(i) });
            args.push(p.arena.len() - 1);
        }
    }
    let mut failed = p.failed;
    if !bprint {
        prog.pieces = parse_pieces(&prog.format, &args, &mut failed).into();
    }
    prog.failed = failed;
    prog.args = args;
    prog.arena = p.arena.into_iter().map(Rc::new).collect();
    prog
}

// ---- evaluation -----------------------------------------------------------------------------

/// What evaluation needs besides the record: the file's number layout and the symbol tables.
pub struct Ctx<'a> {
    /// The record's size; the data slices evaluation gets run on to the end of its page,
    /// because libtraceevent reads fixed-size fields without checking them against it.
    pub size: usize,
    pub endian: Endian,
    pub long_size: u32,
    pub funcs: &'a Funcs,
    pub printk: &'a Printk,
}

impl Ctx<'_> {
    /// `tep_read_number`: 1, 2, 4 or 8 bytes in file order; other sizes and bytes outside the
    /// record read as 0.
    pub fn read(&self, data: &[u8], offset: usize, size: usize) -> u64 {
        match size {
            1 | 2 | 4 | 8 => offset.checked_add(size).and_then(|e| data.get(offset..e)).and_then(|b| self.endian.uint(b)).unwrap_or(0),
            _ => 0,
        }
    }

    /// A native (little-endian host) read, for the places libtraceevent dereferences record
    /// bytes directly instead of through tep_read_number.
    pub fn read_host(&self, data: &[u8], offset: usize, size: usize) -> u64 {
        offset.checked_add(size).and_then(|e| data.get(offset..e)).and_then(|b| Endian::Little.uint(b)).unwrap_or(0)
    }
}

/// `dynamic_offset_field`: (offset, length) of a `__data_loc` field's data, both 0 when out
/// of range.
pub fn dyn_offset(ctx: &Ctx<'_>, f: &Field, data: &[u8]) -> (usize, usize) {
    let size = ctx.size;
    if f.offset as usize + f.size as usize > size {
        return (0, 0);
    }
    let val = ctx.read(data, f.offset as usize, f.size as usize);
    let o = (val & 0xffff) as usize;
    let l = if f.size == 2 { size.wrapping_sub(o) } else { ((val >> 16) & 0xffff) as usize };
    let mut offset = if o > size { 0 } else { o };
    let len = if o.wrapping_add(l) > size { 0 } else { l };
    if f.flags & F_RELATIVE != 0 {
        offset += (f.offset + f.size) as usize;
    }
    (offset, len)
}

/// The evaluator for one event: its program plus the fields it reads.
pub struct Eval<'e> {
    pub prog: &'e mut Program,
    pub fields: &'e mut [Field],
}

impl Eval<'_> {
    /// `eval_num_arg`.
    pub fn num(&mut self, ctx: &Ctx<'_>, data: &[u8], id: Option<ArgId>) -> u64 {
        let Some(id) = id else { return 0 };
        let arg = Rc::clone(&self.prog.arena[id]);
        match &*arg {
            Arg::Null => 0,
            Arg::Atom(a) => {
                let v = strtoull(&a, 0);
                if v != 0 || a.first().is_some_and(|c| c.is_ascii_digit()) {
                    return v;
                }
                // test_for_symbol: a kernel symbol's address, then remembered as a number.
                let v = ctx.funcs.by_name(&a).unwrap_or(0);
                self.prog.arena[id] = Rc::new(Arg::Atom((v as i64).to_string().into_bytes()));
                v
            }
            Arg::Field { field: Some(f), .. } => {
                let f = &self.fields[*f];
                if f.offset as usize + f.size as usize > ctx.size {
                    return 0;
                }
                ctx.read(data, f.offset as usize, f.size as usize)
            }
            Arg::Type { ty, item } => {
                let v = self.num(ctx, data, Some(*item));
                eval_type_str(v, &ty, false)
            }
            Arg::Func { .. } => {
                let mut s = Vec::new();
                self.call(ctx, data, id, &mut s)
            }
            Arg::Op { op, left, right, .. } => self.op(ctx, data, op, *left, *right),
            Arg::DynArrayLen { field: Some(f) } => dyn_offset(ctx, &self.fields[*f], data).1 as u64,
            Arg::DynArray { field: Some(f) } => {
                // libtraceevent returns a host pointer here; only its offset is reproducible.
                dyn_offset(ctx, &self.fields[*f], data).0 as u64
            }
            _ => 0,
        }
    }

    fn op(&mut self, ctx: &Ctx<'_>, data: &[u8], op: &[u8], left: Option<ArgId>, right: Option<ArgId>) -> u64 {
        if op == b"[" {
            let r = self.num(ctx, data, right);
            let mut typearg = None;
            let mut larg = left;
            while let Some(Arg::Type { ty, item }) = larg.map(|l| &*self.prog.arena[l]) {
                if typearg.is_none() {
                    typearg = Some(ty.clone());
                }
                larg = Some(*item);
            }
            let mut field_size = ctx.long_size as u64;
            let offset: u64;
            match larg.map(|l| &*self.prog.arena[l]) {
                Some(Arg::DynArray { field: Some(f) }) => {
                    let f = &self.fields[*f];
                    offset = (dyn_offset(ctx, f, data).0 as u64).wrapping_add(r) & 0xffff_ffff;
                    if f.elementsize != 0 {
                        field_size = f.elementsize as u64;
                    }
                }
                Some(Arg::Field { field: Some(f), .. }) => {
                    let f = &self.fields[*f];
                    field_size = f.elementsize as u64;
                    offset = (f.offset as u64).wrapping_add(r.wrapping_mul(f.elementsize as u64)) & 0xffff_ffff;
                }
                _ => return self.binary(ctx, data, op, left, right),
            }
            if offset.saturating_add(field_size) > ctx.size as u64 {
                return 0;
            }
            let v = ctx.read(data, offset as usize, field_size as usize);
            return match typearg {
                Some(t) => eval_type_str(v, &t, true),
                None => v,
            };
        }
        if op == b"?" {
            let l = self.num(ctx, data, left);
            let Some(Arg::Op { left: a, right: b, .. }) = right.map(|r| Arg::clone(&self.prog.arena[r])) else { return 0 };
            return if l != 0 { self.num(ctx, data, a) } else { self.num(ctx, data, b) };
        }
        self.binary(ctx, data, op, left, right)
    }

    fn binary(&mut self, ctx: &Ctx<'_>, data: &[u8], op: &[u8], left: Option<ArgId>, right: Option<ArgId>) -> u64 {
        let l = self.num(ctx, data, left);
        let r = self.num(ctx, data, right);
        let second = op.get(1).copied().unwrap_or(0);
        match (op.first().copied().unwrap_or(0), second) {
            (b'!', 0) => (r == 0) as u64,
            (b'!', b'=') => (l != r) as u64,
            (b'~', _) => !r,
            (b'|', 0) => l | r,
            (b'|', _) => (l != 0 || r != 0) as u64,
            (b'&', 0) => l & r,
            (b'&', _) => (l != 0 && r != 0) as u64,
            (b'<', 0) => (l < r) as u64,
            (b'<', b'<') => l.wrapping_shl(r as u32),
            (b'<', b'=') => (l <= r) as u64,
            (b'>', 0) => (l > r) as u64,
            (b'>', b'>') => l.wrapping_shr(r as u32),
            (b'>', b'=') => (l >= r) as u64,
            (b'=', b'=') => (l == r) as u64,
            (b'-', _) => l.wrapping_sub(r),
            (b'+', _) => l.wrapping_add(r),
            (b'/', _) => l.checked_div(r).unwrap_or(0),
            (b'%', _) => l.checked_rem(r).unwrap_or(0),
            (b'*', _) => l.wrapping_mul(r),
            (b'^', _) => l ^ r,
            _ => 0,
        }
    }

    /// A plugin's print function (`process_defined_func`); prints into `out`.
    fn call(&mut self, ctx: &Ctx<'_>, data: &[u8], id: ArgId, out: &mut Vec<u8>) -> u64 {
        let arg = Rc::clone(&self.prog.arena[id]);
        let Arg::Func { func, args } = &*arg else { return 0 };
        let mut vals = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            if func.string_arg(i) {
                let mut s = Vec::new();
                self.string(ctx, data, b"%s", -1, Some(*a), &mut s);
                vals.push(0);
            } else {
                vals.push(self.num(ctx, data, Some(*a)));
            }
        }
        let a0 = vals.first().copied().unwrap_or(0);
        match func {
            Helper::JiffiesToMsecs => {
                cprintf::printf(out, b"%lld", &[C::Int(a0)]);
                a0
            }
            Helper::Jbd2DevToName => {
                let dev = a0 as u32;
                cprintf::printf(out, b"%d:%d", &[C::Int((dev >> 20) as u64), C::Int((dev & ((1 << 20) - 1)) as u64)]);
                0
            }
            Helper::IsWritablePte => a0 & 2,
            Helper::Le16ToCpup | Helper::ScsiTraceParseCdb | Helper::XenHypercallName => 0,
        }
    }

    /// `print_str_arg`: an argument printed through a `%s`-like format.
    pub fn string(&mut self, ctx: &Ctx<'_>, data: &[u8], format: &[u8], len_arg: i64, id: Option<ArgId>, out: &mut Vec<u8>) {
        let Some(id) = id else { return };
        let put = |out: &mut Vec<u8>, s: &[u8]| {
            if len_arg >= 0 {
                cprintf::printf(out, format, &[C::Int(len_arg as u64), C::Str(s)]);
            } else {
                cprintf::printf(out, format, &[C::Str(s)]);
            }
        };
        let arg = Rc::clone(&self.prog.arena[id]);
        match &*arg {
            Arg::Atom(a) => put(out, a),
            Arg::Field { field: Some(fi), .. } => {
                let f = &self.fields[*fi];
                let (off, size) = (f.offset as usize, f.size as usize);
                let len = if size != 0 { size } else { ctx.size.saturating_sub(off) };
                if f.flags & F_ARRAY == 0 && f.size == ctx.long_size {
                    let addr = ctx.read_host(data, off, ctx.long_size as usize);
                    match ctx.printk.find(addr) {
                        Some(p) => out.extend_from_slice(p),
                        None => cprintf::printf(out, b"%llx", &[C::Int(addr)]),
                    }
                    return;
                }
                let end = off.saturating_add(len).min(data.len());
                let s = data.get(off..end).unwrap_or(&[]);
                put(out, s);
            }
            Arg::Flags { field, delim, flags } => {
                let mut val = self.num(ctx, data, *field) as i64;
                let mut printed = false;
                for (value, name) in flags {
                    let fval = eval_flag(value);
                    if val == 0 && fval < 0 {
                        put(out, name);
                        break;
                    }
                    if fval > 0 && (val & fval) == fval {
                        if printed {
                            if let Some(d) = &delim {
                                out.extend_from_slice(d);
                            }
                        }
                        put(out, name);
                        printed = true;
                        val &= !fval;
                    }
                }
                if val != 0 {
                    if printed {
                        if let Some(d) = &delim {
                            out.extend_from_slice(d);
                        }
                    }
                    cprintf::printf(out, b"0x%llx", &[C::Int(val as u64)]);
                }
            }
            Arg::Symbol { field, syms } => {
                let val = self.num(ctx, data, *field) as i64;
                match syms.iter().find(|(v, _)| eval_flag(v) == val) {
                    Some((_, name)) => put(out, name),
                    None => cprintf::printf(out, b"0x%llx", &[C::Int(val as u64)]),
                }
            }
            Arg::Hex { field, size, str } => {
                let Some(start) = self.array_start(ctx, data, *field) else { return };
                let len = self.num(ctx, data, *size) as u32 as usize;
                for i in 0..len {
                    if i != 0 && !str {
                        out.push(b' ');
                    }
                    let b = data.get(start + i).copied().unwrap_or(0);
                    cprintf::printf(out, b"%02x", &[C::Int(b as u64)]);
                }
            }
            Arg::IntArray { field, count, el_size } => {
                let Some(mut at) = self.array_start(ctx, data, *field) else { return };
                let len = self.num(ctx, data, *count) as u32 as usize;
                let mut el = self.num(ctx, data, *el_size) as i32;
                for i in 0..len {
                    if i != 0 {
                        out.push(b' ');
                    }
                    match el {
                        1 | 2 | 4 | 8 => {
                            let v = ctx.read_host(data, at, el as usize);
                            cprintf::printf(out, if el == 8 { b"%lu" } else { b"%u" }, &[C::Int(v)]);
                        }
                        _ => {
                            let b = data.get(at).copied().unwrap_or(0);
                            cprintf::printf(out, b"BAD SIZE:%d 0x%x", &[C::Int(el as i64 as u64), C::Int(b as u64)]);
                            el = 1;
                        }
                    }
                    at += el as usize;
                }
            }
            Arg::Str { name, field } => {
                let fi = match field {
                    Some(f) => Some(*f),
                    None => self.fields.iter().position(|f| f.name.as_bytes() == name.as_slice()),
                };
                let Some(fi) = fi else { return };
                if let Arg::Str { field, .. } = Rc::make_mut(&mut self.prog.arena[id]) {
                    *field = Some(fi);
                }
                let (off, len) = dyn_offset(ctx, &self.fields[fi], data);
                if len == 0 {
                    return;
                }
                put(out, data.get(off..).unwrap_or(&[]));
            }
            Arg::BStr(s) => put(out, &s),
            Arg::Bitmask { name, cpumask, .. } => {
                let Some(fi) = self.fields.iter().position(|f| f.name.as_bytes() == name.as_slice()) else { return };
                let (off, len) = dyn_offset(ctx, &self.fields[fi], data);
                let bytes = data.get(off..off.saturating_add(len).min(data.len())).unwrap_or(&[]);
                let text = if *cpumask { cpumask_text(bytes, ctx.endian) } else { bitmask_text(bytes, ctx.endian) };
                put(out, &text);
            }
            Arg::Op { op, left, right, .. } => {
                if op.first() != Some(&b'?') {
                    return;
                }
                let v = self.num(ctx, data, *left);
                let Some(Arg::Op { left: a, right: b, .. }) = right.map(|r| Arg::clone(&self.prog.arena[r])) else { return };
                self.string(ctx, data, format, len_arg, if v != 0 { a } else { b }, out);
            }
            Arg::Func { .. } => {
                self.call(ctx, data, id, out);
            }
            _ => {}
        }
    }

    /// Start of the bytes a __print_hex/__print_array argument names.
    fn array_start(&self, ctx: &Ctx<'_>, data: &[u8], field: Option<ArgId>) -> Option<usize> {
        match field.map(|f| &*self.prog.arena[f]) {
            Some(Arg::DynArray { field: Some(f) }) => Some(dyn_offset(ctx, &self.fields[*f], data).0),
            Some(Arg::Field { field: Some(f), .. }) => Some(self.fields[*f].offset as usize),
            _ => None,
        }
    }

    /// Prints one piece of the format (`print_parse_data`).
    pub fn piece(&mut self, ctx: &Ctx<'_>, data: &[u8], i: usize, out: &mut Vec<u8>) {
        let pieces = Rc::clone(&self.prog.pieces);
        let Some(p) = pieces.get(i) else { return };
        let len_arg = p.len_arg.map(|a| self.num(ctx, data, Some(a)) as i32 as i64);
        match p.kind {
            PieceKind::Text => out.extend_from_slice(&p.format),
            PieceKind::Digit => {
                let v = self.num(ctx, data, p.arg);
                let v = match p.ls {
                    -2 => v as u8 as i8 as i64 as u64,
                    -1 => v as u16 as i16 as i64 as u64,
                    0 => v as u32 as i32 as i64 as u64,
                    1 | 2 => v,
                    _ => return,
                };
                match len_arg {
                    Some(l) => cprintf::printf(out, &p.format, &[C::Int(l as u64), C::Int(v)]),
                    None => cprintf::printf(out, &p.format, &[C::Int(v)]),
                }
            }
            PieceKind::Pointer => self.pointer(ctx, data, &p.format, len_arg.unwrap_or(1), p.arg, out),
            PieceKind::String => {
                let mut s = Vec::new();
                self.string(ctx, data, &p.format, len_arg.unwrap_or(-1), p.arg, &mut s);
                out.extend_from_slice(cprintf::cstr(&s));
            }
        }
    }

    /// `print_arg_pointer`.
    fn pointer(&mut self, ctx: &Ctx<'_>, data: &[u8], format: &[u8], plen: i64, id: Option<ArgId>, out: &mut Vec<u8>) {
        let Some(id) = id else { return };
        if let Arg::BStr(s) = &*self.prog.arena[id] {
            out.extend_from_slice(s);
            return;
        }
        let after = format.iter().position(|&c| c == b'p').map_or(&[][..], |n| &format[n + 1..]);
        let c0 = after.first().copied().unwrap_or(0);
        let c1 = after.get(1).copied().unwrap_or(0);
        match c0 {
            b'F' | b'f' | b'S' | b's' => {
                let v = self.num(ctx, data, Some(id));
                match ctx.funcs.find(v) {
                    Some(f) => {
                        out.extend_from_slice(f.name);
                        if c0 == b'F' || c0 == b'S' {
                            cprintf::printf(out, b"+0x%llx", &[C::Int(v.wrapping_sub(f.addr))]);
                        }
                    }
                    None => cprintf::printf(out, b"0x%llx", &[C::Int(v)]),
                }
            }
            b'M' | b'm' => {
                let Some(f) = self.field_of(id) else {
                    cprintf::printf(out, b"ARG TYPE NOT FIELD BUT %d", &[C::Int(self.type_code(id))]);
                    return;
                };
                let fmt: &[u8] = if c0 == b'm' {
                    b"%.2x%.2x%.2x%.2x%.2x%.2x"
                } else if c1 == b'F' {
                    b"%.2x-%.2x-%.2x-%.2x-%.2x-%.2x"
                } else {
                    b"%.2x:%.2x:%.2x:%.2x:%.2x:%.2x"
                };
                let f = &self.fields[f];
                if f.size != 6 {
                    out.extend_from_slice(b"INVALIDMAC");
                    return;
                }
                let mut b: Vec<C> = (0..6).map(|i| C::Int(data.get(f.offset as usize + i).copied().unwrap_or(0) as u64)).collect();
                if c1 == b'R' {
                    b.reverse();
                }
                cprintf::printf(out, fmt, &b);
            }
            b'I' | b'i' => self.ip(ctx, data, after, id, out),
            b'U' => {
                let (upper, guid) = match c1 {
                    b'L' => (true, true),
                    b'l' => (false, true),
                    b'B' => (true, false),
                    _ => (false, false),
                };
                let Some(f) = self.field_of(id) else {
                    cprintf::printf(out, b"ARG TYPE NOT FIELD BUT %d", &[C::Int(self.type_code(id))]);
                    return;
                };
                let f = &self.fields[f];
                if f.size != 16 {
                    out.extend_from_slice(b"INVALIDUUID");
                    return;
                }
                const GUID: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
                for i in 0..16 {
                    let j = if guid { GUID[i] } else { i };
                    let b = data.get(f.offset as usize + j).copied().unwrap_or(0);
                    cprintf::printf(out, if upper { b"%02X" } else { b"%02x" }, &[C::Int(b as u64)]);
                    if matches!(i, 3 | 5 | 7 | 9) {
                        out.push(b'-');
                    }
                }
            }
            b'h' => {
                let delim: &[u8] = match c1 {
                    b'C' => b":",
                    b'D' => b"-",
                    b'N' => b"",
                    _ => b" ",
                };
                match &*self.prog.arena[id] {
                    Arg::Func { .. } => {
                        self.call(ctx, data, id, out);
                    }
                    Arg::DynArray { field: Some(f) } => {
                        let (off, len) = dyn_offset(ctx, &self.fields[*f], data);
                        let n = (plen.min(len as i64)).max(0) as usize;
                        for i in 0..n {
                            if i != 0 {
                                out.extend_from_slice(delim);
                            }
                            let b = data.get(off + i).copied().unwrap_or(0);
                            cprintf::printf(out, b"%02x", &[C::Int(b as u64)]);
                        }
                    }
                    _ => cprintf::printf(out, b"ARG TYPE NOT FIELD BUT %d", &[C::Int(self.type_code(id))]),
                }
            }
            _ => {
                let v = self.num(ctx, data, Some(id));
                cprintf::printf(out, b"%p", &[C::Int(v)]);
            }
        }
    }

    /// `%pI4`/`%pi4` (IPv6 and sockaddr forms print what libtraceevent prints for a field of
    /// the wrong size, the only case our traces hold).
    fn ip(&mut self, ctx: &Ctx<'_>, data: &[u8], after: &[u8], id: ArgId, out: &mut Vec<u8>) {
        let i = after.first().copied().unwrap_or(0);
        let v = after.get(1).copied().unwrap_or(0);
        let Some(f) = self.field_of(id) else {
            if matches!(v, b'4' | b'6' | b'S') {
                cprintf::printf(out, b"ARG TYPE NOT FIELD BUT %d", &[C::Int(self.type_code(id))]);
            }
            return;
        };
        let f = self.fields[f].clone();
        let b: Vec<u8> = (0..f.size as usize).map(|k| data.get(f.offset as usize + k).copied().unwrap_or(0)).collect();
        match v {
            b'4' => {
                let reverse = match after.get(2) {
                    Some(b'h') => ctx.endian == Endian::Little,
                    Some(b'l') => true,
                    _ => false,
                };
                if f.size != 4 {
                    out.extend_from_slice(b"INVALIDIPv4");
                    return;
                }
                let fmt: &[u8] = if i == b'i' { b"%03d.%03d.%03d.%03d" } else { b"%d.%d.%d.%d" };
                let mut a: Vec<C> = b.iter().map(|&x| C::Int(x as u64)).collect();
                if reverse {
                    a.reverse();
                }
                cprintf::printf(out, fmt, &a);
            }
            b'6' => {
                if f.size != 16 {
                    out.extend_from_slice(b"INVALIDIPv6");
                    return;
                }
                if i == b'I' && after.get(2) == Some(&b'c') {
                    print_ip6c(out, &b);
                } else {
                    for (k, pair) in b.chunks(2).enumerate() {
                        if i == b'I' && k != 0 {
                            out.push(b':');
                        }
                        cprintf::printf(out, b"%02x%02x", &[C::Int(pair[0] as u64), C::Int(pair[1] as u64)]);
                    }
                }
            }
            b'S' => out.extend_from_slice(b"INVALIDIPADDR"),
            _ => {}
        }
    }

    /// The field an argument names after stripping casts; None if it is not a field.
    fn field_of(&self, mut id: ArgId) -> Option<usize> {
        loop {
            match &*self.prog.arena[id] {
                Arg::Type { item, .. } => id = *item,
                Arg::Field { field, .. } => return *field,
                _ => return None,
            }
        }
    }

    /// libtraceevent's `enum tep_print_arg_type` number, for its error texts.
    fn type_code(&self, mut id: ArgId) -> u64 {
        loop {
            return match &*self.prog.arena[id] {
                Arg::Type { item, .. } => {
                    id = *item;
                    continue;
                }
                Arg::Null => 0,
                Arg::Atom(_) => 1,
                Arg::Field { .. } => 2,
                Arg::Flags { .. } => 3,
                Arg::Symbol { .. } => 4,
                Arg::Hex { str: false, .. } => 5,
                Arg::IntArray { .. } => 6,
                Arg::Str { .. } => 8,
                Arg::BStr(_) => 9,
                Arg::DynArray { .. } => 10,
                Arg::Op { .. } => 11,
                Arg::Func { .. } => 12,
                Arg::Bitmask { cpumask: false, .. } => 13,
                Arg::DynArrayLen { .. } => 14,
                Arg::Hex { str: true, .. } => 15,
                Arg::Bitmask { cpumask: true, .. } => 16,
            };
        }
    }

    /// `pretty_print` for a non-bprint event; false when the event failed to parse.
    pub fn pretty(&mut self, ctx: &Ctx<'_>, data: &[u8], out: &mut Vec<u8>) {
        for i in 0..self.prog.pieces.len() {
            self.piece(ctx, data, i, out);
        }
    }

    /// `tep_print_fields`: ` name=value` for each of the event's own fields.
    pub fn fields_raw(&mut self, ctx: &Ctx<'_>, data: &[u8], nr_common: usize, out: &mut Vec<u8>) {
        let mut pos = 0usize;
        for fi in nr_common..self.fields.len() {
            out.push(b' ');
            out.extend_from_slice(self.fields[fi].name.as_bytes());
            out.push(b'=');
            self.field_value(ctx, data, fi, &mut pos, out);
        }
    }

    /// `print_field`: a field as its print fmt conversion shows it, else raw.
    fn field_value(&mut self, ctx: &Ctx<'_>, data: &[u8], fi: usize, pos: &mut usize, out: &mut Vec<u8>) {
        let n = self.prog.pieces.len();
        // After the last piece matched, libtraceevent's cursor is NULL: the remaining fields
        // print raw.
        if *pos < n && !self.prog.failed && self.fields[fi].flags & (F_ARRAY | F_STRING) == 0 {
            let start = *pos;
            let mut i = start;
            let mut has_0x = false;
            loop {
                let p = &self.prog.pieces[i];
                if p.kind == PieceKind::Text {
                    has_0x = p.format.len() > 1 && p.format.ends_with(b"0x");
                } else {
                    let f = p.arg.and_then(|a| self.field_of(a));
                    if f == Some(fi) {
                        if has_0x {
                            out.extend_from_slice(b"0x");
                        }
                        self.piece(ctx, data, i, out);
                        *pos = i + 1;
                        return;
                    }
                    has_0x = false;
                }
                i = if i + 1 < n { i + 1 } else { 0 };
                if i == start {
                    break;
                }
            }
        }
        self.field_raw(ctx, data, fi, out);
    }

    /// `print_field_raw`.
    pub fn field_raw(&mut self, ctx: &Ctx<'_>, data: &[u8], fi: usize, out: &mut Vec<u8>) {
        let f = self.fields[fi].clone();
        if f.flags & F_ARRAY != 0 {
            let (off, len) = if f.flags & F_DYNAMIC != 0 { dyn_offset(ctx, &f, data) } else { (f.offset as usize, f.size as usize) };
            let bytes: Vec<u8> = (0..len).map(|i| data.get(off + i).copied().unwrap_or(0)).collect();
            let printable = bytes.iter().take_while(|&&b| b != 0).all(|&b| {
                let c = b as i8 as i32;
                c_isprint(c) || c_isspace(c)
            });
            if f.flags & F_STRING != 0 && printable {
                out.extend_from_slice(cprintf::cstr(data.get(off..).unwrap_or(&[])));
            } else {
                out.extend_from_slice(b"ARRAY[");
                for (i, b) in bytes.iter().enumerate() {
                    if i != 0 {
                        out.extend_from_slice(b", ");
                    }
                    cprintf::printf(out, b"%02x", &[C::Int(*b as u64)]);
                }
                out.push(b']');
                self.fields[fi].flags &= !F_STRING;
            }
            return;
        }
        let v = ctx.read(data, f.offset as usize, f.size as usize);
        if f.flags & F_POINTER != 0 {
            cprintf::printf(out, b"0x%llx", &[C::Int(v)]);
        } else if f.flags & F_SIGNED != 0 {
            match f.size {
                4 if f.flags & F_LONG != 0 => cprintf::printf(out, b"0x%x", &[C::Int(v)]),
                4 => cprintf::printf(out, b"%d", &[C::Int(v)]),
                2 => cprintf::printf(out, b"%2d", &[C::Int(v as u16 as i16 as i64 as u64)]),
                1 => cprintf::printf(out, b"%1d", &[C::Int(v as u8 as i8 as i64 as u64)]),
                _ => cprintf::printf(out, b"%lld", &[C::Int(v)]),
            }
        } else if f.flags & F_LONG != 0 {
            cprintf::printf(out, b"0x%llx", &[C::Int(v)]);
        } else {
            cprintf::printf(out, b"%llu", &[C::Int(v)]);
        }
    }
}

/// `eval_flag`: a flag table value; a few softirq/hrtimer names are known.
fn eval_flag(flag: &[u8]) -> i64 {
    if flag.first().is_some_and(|c| c.is_ascii_digit()) {
        return strtoull(flag, 0) as i64;
    }
    const NAMES: [(&[u8], i64); 12] = [
        (b"HI_SOFTIRQ", 0),
        (b"TIMER_SOFTIRQ", 1),
        (b"NET_TX_SOFTIRQ", 2),
        (b"NET_RX_SOFTIRQ", 3),
        (b"BLOCK_SOFTIRQ", 4),
        (b"IRQ_POLL_SOFTIRQ", 5),
        (b"TASKLET_SOFTIRQ", 6),
        (b"SCHED_SOFTIRQ", 7),
        (b"HRTIMER_SOFTIRQ", 8),
        (b"RCU_SOFTIRQ", 9),
        (b"HRTIMER_NORESTART", 0),
        (b"HRTIMER_RESTART", 1),
    ];
    NAMES.iter().find(|(n, _)| *n == flag).map_or(-1, |(_, v)| *v)
}

/// `print_bitmask_to_seq`: hex, most significant byte first, a comma every 32 bits.
fn bitmask_text(data: &[u8], endian: Endian) -> Vec<u8> {
    let size = data.len();
    let nr_bits = size * 8;
    let mut str_size = nr_bits.div_ceil(4);
    str_size += nr_bits.saturating_sub(1) / 32;
    let mut s = vec![0u8; str_size];
    let mut len = 0usize;
    let mut i = str_size as i64 - 2;
    while i >= 0 {
        let index = if endian == Endian::Big { size - (len + 1) } else { len };
        let hex = format!("{:02x}", data.get(index).copied().unwrap_or(0));
        s[i as usize..i as usize + 2].copy_from_slice(hex.as_bytes());
        len += 1;
        if len & 3 == 0 && i > 0 {
            i -= 1;
            s[i as usize] = b',';
        }
        i -= 2;
    }
    s
}

/// `print_cpumask_to_seq`: ranges of set bits, "0-3,8".
fn cpumask_text(data: &[u8], endian: Endian) -> Vec<u8> {
    let size = data.len();
    let mut bits = Vec::with_capacity(size * 8);
    for i in 0..size {
        let index = if endian == Endian::Big { size - (i + 1) } else { i };
        let byte = data[index];
        for b in 0..8 {
            bits.push(byte & (1 << b) != 0);
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < bits.len() {
        if !bits[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < bits.len() && bits[i] {
            i += 1;
        }
        if !out.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(start.to_string().as_bytes());
        if i > start + 1 {
            out.extend_from_slice(format!("-{}", i - 1).as_bytes());
        }
    }
    out
}

/// `print_ip6c_addr`: compressed IPv6 (the longest run of zero words as "::"), v4-mapped and
/// ISATAP addresses ending in dotted IPv4.
fn print_ip6c(out: &mut Vec<u8>, a: &[u8]) {
    let word = |i: usize| u16::from_be_bytes([a.get(2 * i).copied().unwrap_or(0), a.get(2 * i + 1).copied().unwrap_or(0)]);
    let w32 = |i: usize| (0..4).fold(0u32, |v, k| (v << 8) | a.get(4 * i + k).copied().unwrap_or(0) as u32);
    let v4mapped = w32(0) == 0 && w32(1) == 0 && w32(2) == 0x0000_ffff;
    let isatap = (w32(2) | 0x0200_0000) == 0x0200_5efe;
    let use_v4 = v4mapped || isatap;
    let range = if use_v4 { 6 } else { 8 };
    let mut zerolength = [0u8; 8];
    for i in 0..range {
        for j in i..range {
            if word(j) != 0 {
                break;
            }
            zerolength[i] += 1;
        }
    }
    let (mut longest, mut colonpos) = (1u8, -1i32);
    for (i, z) in zerolength.iter().enumerate().take(range) {
        if *z > longest {
            longest = *z;
            colonpos = i as i32;
        }
    }
    if longest == 1 {
        colonpos = -1;
    }
    let mut need_colon = false;
    let mut i = 0usize;
    while i < range {
        if i as i32 == colonpos {
            if need_colon || i == 0 {
                out.push(b':');
            }
            out.push(b':');
            need_colon = false;
            i += longest as usize;
            continue;
        }
        if need_colon {
            out.push(b':');
        }
        let w = word(i);
        let (hi, lo) = (w >> 8, w & 0xff);
        if hi != 0 {
            cprintf::printf(out, b"%x%02x", &[C::Int(hi as u64), C::Int(lo as u64)]);
        } else {
            cprintf::printf(out, b"%x", &[C::Int(lo as u64)]);
        }
        need_colon = true;
        i += 1;
    }
    if use_v4 {
        if need_colon {
            out.push(b':');
        }
        let b: Vec<C> = (12..16).map(|k| C::Int(a.get(k).copied().unwrap_or(0) as u64)).collect();
        cprintf::printf(out, b"%d.%d.%d.%d", &b);
    }
}

// ---- bprint ---------------------------------------------------------------------------------

/// A bprint record's format and arguments (`get_bprint_format` + `make_bprint_args`), as a
/// program of its own to evaluate against the record.
pub fn bprint_program(ctx: &Ctx<'_>, data: &[u8], fields: &[Field], nr_common: usize) -> Program {
    let find = |n: &str| fields.iter().skip(nr_common).find(|f| f.name == n);
    let mut prog = Program::default();
    let (Some(fmt_f), Some(buf_f), Some(ip_f)) = (find("fmt"), find("buf"), find("ip")) else {
        return prog;
    };
    let addr = ctx.read(data, fmt_f.offset as usize, fmt_f.size as usize);
    let mut format = b"%ps: ".to_vec();
    match ctx.printk.find(addr) {
        Some(p) => format.extend_from_slice(p),
        None => format.extend_from_slice(format!("(NO FORMAT FOUND at {addr:x})\n").as_bytes()),
    }
    let ip = ctx.read(data, ip_f.offset as usize, ip_f.size as usize);
    let mut arena = vec![Arg::Atom((ip as i64).to_string().into_bytes())];
    let mut bptr = buf_f.offset as usize;
    let size = ctx.size;
    let mut p = 5usize;
    while bptr < size && p < format.len() {
        if format[p] != b'%' {
            p += 1;
            continue;
        }
        let mut ls = 0i32;
        loop {
            p += 1;
            let c = format.get(p).copied().unwrap_or(0);
            let mut is_string = false;
            let vsize: usize;
            match c {
                b'%' => break,
                b'l' => {
                    ls += 1;
                    continue;
                }
                b'L' => {
                    ls = 2;
                    continue;
                }
                b'0'..=b'9' | b'.' | b'#' => continue,
                b'z' | b'Z' => {
                    ls = 1;
                    continue;
                }
                b'*' => vsize = 4,
                b'p' | b'd' | b'u' | b'i' | b'x' | b'X' | b'o' => {
                    if c == b'p' {
                        ls = 1;
                        let n = format.get(p + 1).copied().unwrap_or(0);
                        if n.is_ascii_alphanumeric() {
                            p += 1;
                            let special = match n {
                                b's' | b'S' | b'x' => false,
                                b'f' | b'F' => format.get(p + 1) == Some(&b'w'),
                                _ => true,
                            };
                            if special && c_isprint(data.get(bptr).copied().unwrap_or(0) as i8 as i32) {
                                is_string = true;
                            }
                        }
                    }
                    vsize = match ls {
                        0 => 4,
                        1 => ctx.long_size as usize,
                        2 => 8,
                        n => n.max(0) as usize,
                    };
                }
                b's' => {
                    is_string = true;
                    vsize = 0;
                }
                _ => break,
            }
            if is_string {
                let s = cprintf::cstr(data.get(bptr..).unwrap_or(&[])).to_vec();
                bptr += s.len() + 1;
                arena.push(Arg::BStr(s));
                break;
            }
            bptr = (bptr + 3) & !3;
            let v = ctx.read(data, bptr, vsize);
            bptr += vsize;
            arena.push(Arg::Atom((v as i64).to_string().into_bytes()));
            if c == b'*' {
                continue;
            }
            break;
        }
        p += 1;
    }
    let args: Vec<ArgId> = (0..arena.len()).collect();
    let mut failed = false;
    prog.pieces = parse_pieces(&format, &args, &mut failed).into();
    prog.format = format;
    prog.args = args;
    prog.arena = arena.into_iter().map(Rc::new).collect();
    prog
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::event_format;

    const SCHED_SWITCH: &str = "name: sched_switch\nID: 372\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
        \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
        \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
        \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
        \tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\
        \tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n\
        \tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n\
        \tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n\
        \tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n\
        \tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n\
        \tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n\n\
        print fmt: \"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d\", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1), \"|\", { 0x00000001, \"S\" }, { 0x00000002, \"D\" }, { 0x00000004, \"T\" }, { 0x00000008, \"t\" }, { 0x00000010, \"X\" }, { 0x00000020, \"Z\" }, { 0x00000040, \"P\" }, { 0x00000080, \"I\" }) : \"R\", REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? \"+\" : \"\", REC->next_comm, REC->next_pid, REC->next_prio\n";

    fn record(state: u64) -> Vec<u8> {
        let mut r = vec![0u8; 64];
        r[0..2].copy_from_slice(&372u16.to_le_bytes());
        r[8..12].copy_from_slice(b"bash");
        r[24..28].copy_from_slice(&3195i32.to_le_bytes());
        r[28..32].copy_from_slice(&120i32.to_le_bytes());
        r[32..40].copy_from_slice(&state.to_le_bytes());
        r[40..44].copy_from_slice(b"npm\0");
        r[56..60].copy_from_slice(&(-1i32).to_le_bytes());
        r[60..64].copy_from_slice(&99i32.to_le_bytes());
        r
    }

    fn run(text: &str, data: &[u8], raw: bool) -> String {
        let f = event_format::parse("sched", text.as_bytes()).unwrap();
        let (mut fields, nc) = fields(&f, 8);
        let mut prog = parse(f.print_fmt.as_bytes(), &fields, nc, 8, false, false);
        let funcs = Funcs::default();
        let printk = Printk::default();
        let ctx = Ctx { size: data.len(), endian: Endian::Little, long_size: 8, funcs: &funcs, printk: &printk };
        let mut out = Vec::new();
        let mut e = Eval { prog: &mut prog, fields: &mut fields };
        if raw {
            e.fields_raw(&ctx, data, nc, &mut out);
        } else {
            e.pretty(&ctx, data, &mut out);
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sched_switch_pretty_and_raw() {
        assert_eq!(run(SCHED_SWITCH, &record(0), false), "prev_comm=bash prev_pid=3195 prev_prio=120 prev_state=R ==> next_comm=npm next_pid=-1 next_prio=99");
        assert_eq!(run(SCHED_SWITCH, &record(1 | 2 | 0x100), false).split(' ').nth(3), Some("prev_state=S|D+"));
        assert_eq!(run(SCHED_SWITCH, &record(0x100), false).split(' ').nth(3), Some("prev_state=R+"));
        assert_eq!(run(SCHED_SWITCH, &record(1), true), " prev_comm=bash prev_pid=3195 prev_prio=120 prev_state=1 next_comm=npm next_pid=-1 next_prio=99");
    }

    #[test]
    fn operators_casts_and_symbols() {
        let text = "name: t\nID: 1\nformat:\n\
            \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\
            \tfield:unsigned int a;\toffset:4;\tsize:4;\tsigned:0;\n\
            \tfield:int b;\toffset:8;\tsize:4;\tsigned:1;\n\n\
            print fmt: \"%u %d %s %x %lu %c\", REC->a * 2 + 1, -REC->b, __print_symbolic(REC->a, { 0, \"zero\" }, { 5, \"five\" }), (u8)REC->b, sizeof(long), REC->a ? 1 : 2\n";
        let mut d = vec![0u8; 12];
        d[4..8].copy_from_slice(&5u32.to_le_bytes());
        d[8..12].copy_from_slice(&(-300i32).to_le_bytes());
        assert_eq!(run(text, &d, false), "11 300 five d4 8 >c<");
    }

    #[test]
    fn unknown_helper_fails_the_parse() {
        let text = "name: t\nID: 1\nformat:\n\
            \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\
            \tfield:unsigned int a;\toffset:4;\tsize:4;\tsigned:0;\n\n\
            print fmt: \"%u\", nope(REC->a)\n";
        let f = event_format::parse("t", text.as_bytes()).unwrap();
        let (fields, nc) = fields(&f, 8);
        assert!(parse(f.print_fmt.as_bytes(), &fields, nc, 8, false, false).failed);
    }

    #[test]
    fn bitmasks() {
        assert_eq!(bitmask_text(&[0x0f, 0, 0, 0, 1, 0, 0, 0], Endian::Little), b"00000001,0000000f");
        assert_eq!(cpumask_text(&[0x0f, 1], Endian::Little), b"0-3,8");
    }

    /// ftrace's `print` (trace_marker) and `bprint` formats from real/sched-irq-sys-v6.dat.
    #[test]
    fn print_and_bprint_with_symbols() {
        let print = "name: print\nID: 5\nformat:\n\
            \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
            \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
            \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
            \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
            \tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n\
            \tfield:char buf[];\toffset:16;\tsize:0;\tsigned:0;\n\n\
            print fmt: \"%ps: %s\", (void *)REC->ip, REC->buf\n";
        let f = event_format::parse("ftrace", print.as_bytes()).unwrap();
        let (mut fs, nc) = fields(&f, 8);
        let mut prog = parse(f.print_fmt.as_bytes(), &fs, nc, 8, true, false);
        let funcs = Funcs::parse(b"ffffffff81000000 T _text\nffffffff81400000 T tracing_mark_write\nffffffff81400100 T next_fn\n");
        let printk = Printk::parse(b"0xffffffff82000000 : \"value %d %s\\n\"\n");
        let mut rec = vec![0u8; 32];
        rec[8..16].copy_from_slice(&0xffffffff81400010u64.to_le_bytes());
        rec[16..28].copy_from_slice(b"hello world\n");
        let ctx = Ctx { size: rec.len(), endian: Endian::Little, long_size: 8, funcs: &funcs, printk: &printk };
        let mut out = Vec::new();
        Eval { prog: &mut prog, fields: &mut fs }.pretty(&ctx, &rec, &mut out);
        assert_eq!(out, b"tracing_mark_write: hello world\n");

        let bprint = "name: bprint\nID: 6\nformat:\n\
            \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
            \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
            \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
            \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
            \tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n\
            \tfield:const char * fmt;\toffset:16;\tsize:8;\tsigned:0;\n\
            \tfield:u32 buf[];\toffset:24;\tsize:0;\tsigned:0;\n\n\
            print fmt: \"%ps: %s\", (void *)REC->ip, REC->fmt\n";
        let f = event_format::parse("ftrace", bprint.as_bytes()).unwrap();
        let (fs, nc) = fields(&f, 8);
        let mut rec = vec![0u8; 36];
        rec[8..16].copy_from_slice(&0xffffffff81400100u64.to_le_bytes());
        rec[16..24].copy_from_slice(&0xffffffff82000000u64.to_le_bytes());
        rec[24..28].copy_from_slice(&(-7i32).to_le_bytes());
        rec[28..31].copy_from_slice(b"ok\0");
        let ctx = Ctx { size: rec.len(), endian: Endian::Little, long_size: 8, funcs: &funcs, printk: &printk };
        let mut prog = bprint_program(&ctx, &rec, &fs, nc);
        let mut fs = fs.clone();
        let mut out = Vec::new();
        Eval { prog: &mut prog, fields: &mut fs }.pretty(&ctx, &rec, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "next_fn: value -7 ok");
    }
}
