//! The argument tree of a print fmt, built as libtraceevent builds it (`event_read_print_args`,
//! `process_arg` and the `process_*` family), including its operator rotations and the
//! folding of constant operations, plus the program it all ends up in.

use std::rc::Rc;

use super::fields::{Field, F_ARRAY};
use super::format::{parse_pieces, Piece};
use super::lexer::{is_item_type, tok_is, Lexer, Token, Tt};
use crate::tep::lookups::strtoull;

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
    pub(super) fn string_arg(self, _i: usize) -> bool {
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
        flags: Table,
    },
    Symbol {
        field: Option<ArgId>,
        syms: Table,
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

/// What a failed parse step returns (libtraceevent's TEP_EVENT_ERROR).
type P<T> = Result<T, ()>;

/// A `__print_flags`/`__print_symbolic` table: (value, name), each value as `eval_flag` reads
/// what was written (once here, not for every record printed).
pub type Table = Vec<(i64, Vec<u8>)>;

struct Parser<'a> {
    lx: Lexer,
    fields: &'a [Field],
    nr_common: usize,
    long_size: u32,
    arena: Vec<Arg>,
    failed: bool,
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

    fn process_arg(&mut self, arg: ArgId) -> P<Token> {
        let t = self.lx.token();
        self.process_arg_token(arg, t)
    }

    fn process_arg_token(&mut self, arg: ArgId, t: Token) -> P<Token> {
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
    fn process_op(&mut self, arg: ArgId, token: Vec<u8>) -> P<Token> {
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

    fn process_cond(&mut self, top: ArgId) -> P<Token> {
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

    fn process_array(&mut self, top: ArgId) -> P<Token> {
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

    fn process_entry(&mut self, arg: ArgId) -> P<Token> {
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

    fn process_paren(&mut self, arg: ArgId) -> P<Token> {
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
    fn field_arg(&mut self, arg: ArgId) -> P<Token> {
        let mut t = self.process_arg(arg)?;
        while t.0 == Tt::Op {
            t = self.process_op(arg, t.1)?;
        }
        Ok(t)
    }

    /// `process_fields`: `{ value, "name" }, ...`; `t` is the token before the first `{`.
    fn flag_list(&mut self) -> P<(Token, Table)> {
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
            list.push((eval_flag(&value), name));
            t = self.lx.token_item();
            if !tok_is(&t, Tt::Delim, b",") {
                break;
            }
        }
        Ok((t, list))
    }

    /// `process_function`: the helpers libtraceevent knows by name, else a plugin's function.
    fn process_function(&mut self, arg: ArgId, name: Vec<u8>) -> P<Token> {
        match name.as_slice() {
            b"__print_flags" => self.process_flags(arg),
            b"__print_symbolic" => self.process_symbols(arg),
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
            b"__get_dynamic_array" | b"__get_rel_dynamic_array" | b"__get_sockaddr" | b"__get_sockaddr_rel" => self.process_dynamic_array(arg),
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
            _ => self.process_func_handler(arg, &name),
        }
    }

    /// `process_flags`: `__print_flags(value, "delim", { flag, "name" }, ...)`.
    fn process_flags(&mut self, arg: ArgId) -> P<Token> {
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

    /// `process_symbols`: `__print_symbolic(value, { value, "name" }, ...)`.
    fn process_symbols(&mut self, arg: ArgId) -> P<Token> {
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

    /// `process_dynamic_array`: `__get_dynamic_array(field)`.
    fn process_dynamic_array(&mut self, arg: ArgId) -> P<Token> {
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

    /// `process_func_handler`: a call of a plugin's print fmt function.
    fn process_func_handler(&mut self, arg: ArgId, name: &[u8]) -> P<Token> {
        let Some(func) = Helper::find(name) else { return Err(()) };
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

    fn process_sizeof(&mut self, arg: ArgId) -> P<Token> {
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
pub(super) fn eval_type_str(val: u64, ty: &[u8], pointer: bool) -> u64 {
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
