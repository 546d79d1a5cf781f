//! `trace-cmd report -F` event filters: libtraceevent 1.7.1's filter language
//! (parse-filter.c, `tep_filter_add_filter_str`) read the way it reads it, quirks included,
//! since they decide which records print, and trace-cmd 3.1.6's use of the filters
//! (lib/trace-cmd/trace-filter.c). Compiled once per file: each event a filter names gets a
//! short jump program over leaf tests that read the record's bytes in place, so deciding a
//! record allocates nothing and happens before any of its text is made.
//!
//! The language:
//! - `EVENTS[:EXPR]`. EVENTS is a comma-separated list of `SYSTEM/EVENT` or of single names,
//!   each a case-insensitive POSIX basic regex anchored as `^NAME$`; a single name is matched
//!   against systems and event names alike (`sched_*` is "sched" and underscores: the sched
//!   system). Without EXPR every record of those events matches.
//! - EXPR has no operator precedence: `a || b && c` is `(a || b) && c`, left to right;
//!   parentheses group and `!` negates one comparison or one parenthesised group.
//! - A comparison is a field on the left and a number (decimal, 0x hex, 0 octal) or a quoted
//!   string on the right. Numbers compare unsigned, signed fields sign-extended first. Strings
//!   take `==`, `!=` and the regex matches `=~` / `!~`; a string field compares its text, a
//!   pointer or long field the kernel function its value falls in, any other field its value as
//!   `0x%llx`. `COMM` and `CPU` are the task's command and the record's CPU in events without a
//!   field of that name.
//! - Arithmetic (`&`, `|`, `^`, `+`, `-`, `*`, `/`, `%`, `<<`, `>>`) only stands as a truth
//!   value of its own (`flags & 4`); after a comparison it replaces it: `pid == -1` reads as
//!   `pid - 1`, true for every pid but 1.
//! - A field the event does not have makes its comparison false for that event, folded before
//!   any record is read: `bogus == 1 || common_pid == 2` is `common_pid == 2`.
//!
//! And trace-cmd's use of them: every `-F` is a filter of its own; a record prints when a
//! positive filter matches it (or there is none) and no `-v` filter does; a filter that does not
//! list the record's event does not match it. A kernel_stack or user_stack record also prints
//! when the last record of its CPU number (in any buffer of the file) that passed the positive
//! filters printed (3.1.6 counts a stack record itself as such a record).
//!
//! Where libtraceevent compares memory it should not read (a one-character `'x'`, which it
//! compares as its own address; COMM as a number; arrays as numbers) or crashes (`CPU` as a
//! string, an unfinished expression), the filter is refused with a message instead. A number
//! matched with `=~` is matched as its `0x%llx` text, as libtraceevent does since 2024 (1.7.1
//! hands the regex a dead stack buffer there).

use std::fmt;

use crate::format::bytes::Endian;
use crate::tep::cprintf::{self, Arg as C};
use crate::tep::event::{Event, Tep};
use crate::tep::lookups::strtoull;
use crate::tep::print_fmt::{Lexer, Tt, F_DYNAMIC, F_LONG, F_POINTER, F_RELATIVE, F_SIGNED, F_STRING};
use crate::tep::regex::{self, Regex};

/// One `-F` argument, and whether a `-v` came before it (its matches are dropped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    pub text: String,
    pub exclude: bool,
}

/// A filter libtraceevent or trace-cmd would refuse (trace-cmd dies with "Failed to create
/// event filter"), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub spec: Spec,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-F '{}': {}", if self.spec.exclude { "-v " } else { "" }, self.spec.text, self.message)
    }
}

// ---- the expression, as parsed before any event is known ------------------------------------

type Id = usize;

/// Expression nodes libtraceevent's parser builds; they nest only this deep (each node is one
/// operator or operand: no real filter comes near).
const MAX_NODES: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Re,
    NotRe,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExpOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Shr,
    Shl,
    And,
    Or,
    Xor,
    /// `~`: parsed as a binary operator, and an error whenever evaluated.
    Not,
}

#[derive(Debug)]
enum Item {
    Number(u64),
    /// A quoted string, and whether in single quotes.
    Str {
        value: Vec<u8>,
        single: bool,
    },
    /// A one-character single-quoted string on the right of a comparison: libtraceevent turns
    /// it into a number and compares the string's address.
    Char,
    Name(Vec<u8>),
}

#[derive(Debug)]
enum Node {
    Item(Item),
    Logic {
        and: bool,
        left: Option<Id>,
        right: Option<Id>,
    },
    Not {
        right: Option<Id>,
    },
    Exp {
        op: ExpOp,
        left: Option<Id>,
        right: Option<Id>,
    },
    Cmp {
        op: Cmp,
        left: Option<Id>,
        right: Option<Id>,
    },
    /// A comparison given a string (TEP_FILTER_ARG_STR): the field's name, the string, and for
    /// `=~` / `!~` its regex (an error in it only counts where the field exists).
    StrCmp {
        op: Cmp,
        name: Vec<u8>,
        value: Vec<u8>,
        regex: Option<Result<Regex, String>>,
    },
}

/// A parsed expression.
#[derive(Debug)]
struct Ast {
    nodes: Vec<Node>,
    root: Id,
    /// The operands of `!` that ran to the end of the text: libtraceevent folds them on their
    /// own before the whole tree, so an unfinished comparison in them is found even where the
    /// whole tree's folding would skip it.
    folded_first: Vec<Id>,
}

/// How a `process_filter` level ended: at the end of the text, or at its `)`.
enum Level {
    End(Id),
    Close(Id),
}

enum OpKind {
    Logic(bool),
    Not,
    Exp(ExpOp),
    Cmp(Cmp),
}

fn op_kind(tok: &[u8]) -> Option<OpKind> {
    use ExpOp as E;
    Some(match tok {
        b"&&" => OpKind::Logic(true),
        b"||" => OpKind::Logic(false),
        b"!" => OpKind::Not,
        b"+" => OpKind::Exp(E::Add),
        b"-" => OpKind::Exp(E::Sub),
        b"*" => OpKind::Exp(E::Mul),
        b"/" => OpKind::Exp(E::Div),
        b"%" => OpKind::Exp(E::Mod),
        b">>" => OpKind::Exp(E::Shr),
        b"<<" => OpKind::Exp(E::Shl),
        b"&" => OpKind::Exp(E::And),
        b"|" => OpKind::Exp(E::Or),
        b"^" => OpKind::Exp(E::Xor),
        b"~" => OpKind::Exp(E::Not),
        b"==" => OpKind::Cmp(Cmp::Eq),
        b"!=" => OpKind::Cmp(Cmp::Ne),
        b"<" => OpKind::Cmp(Cmp::Lt),
        b">" => OpKind::Cmp(Cmp::Gt),
        b"<=" => OpKind::Cmp(Cmp::Le),
        b">=" => OpKind::Cmp(Cmp::Ge),
        b"=~" => OpKind::Cmp(Cmp::Re),
        b"!~" => OpKind::Cmp(Cmp::NotRe),
        _ => return None,
    })
}

/// libtraceevent's `process_filter` and its helpers (`add_left`, `add_right`,
/// `check_op_done`), over nodes in an arena. The structure it builds does not depend on the
/// event: which names are fields only matters when the tree is folded for an event.
struct Parser<'a> {
    text: &'a [u8],
    lx: Lexer,
    nodes: Vec<Node>,
    folded_first: Vec<Id>,
}

type P<T> = Result<T, String>;

impl Parser<'_> {
    /// `filter_read_token`: spaces and newlines skipped, `=~` and `!~` joined.
    fn token(&mut self) -> (Tt, Vec<u8>) {
        let (t, mut tok) = self.lx.token_item();
        // On the token's text whatever its type, as libtraceevent does.
        if (tok == b"=" || tok == b"!") && self.lx.peek_char() == b'~' as i32 {
            self.lx.read_char();
            tok.push(b'~');
        }
        (t, tok)
    }

    fn fail(&self, what: &str) -> String {
        let read = self.text.len().saturating_sub(self.lx.remaining());
        format!("{what} at \"{}\"", String::from_utf8_lossy(&self.text[..read]).trim())
    }

    fn syntax(&self) -> String {
        self.fail("syntax error")
    }

    fn push(&mut self, n: Node) -> P<Id> {
        if self.nodes.len() >= MAX_NODES {
            return Err(format!("more than {MAX_NODES} operators and operands"));
        }
        self.nodes.push(n);
        Ok(self.nodes.len() - 1)
    }

    /// `create_arg_item`.
    fn item(&mut self, t: Tt, tok: Vec<u8>) -> P<Id> {
        let item = match t {
            Tt::Item if tok.first().is_some_and(u8::is_ascii_digit) => Item::Number(strtoull(&tok, 0)),
            Tt::Item => Item::Name(tok),
            _ => Item::Str { value: tok, single: t == Tt::Squote },
        };
        self.push(Node::Item(item))
    }

    fn add_left(&mut self, op: Id, arg: Id) -> P<()> {
        let is_name = matches!(self.nodes[arg], Node::Item(Item::Name(_)));
        match &mut self.nodes[op] {
            Node::Exp { left, .. } | Node::Logic { left, .. } => *left = Some(arg),
            Node::Cmp { left, .. } if is_name => *left = Some(arg),
            Node::Cmp { .. } => return Err(self.fail("a comparison needs a field on its left")),
            _ => return Err(self.syntax()),
        }
        Ok(())
    }

    fn add_right(&mut self, op: Id, arg: Id) -> P<()> {
        let syntax = self.syntax();
        match &mut self.nodes[op] {
            Node::Exp { right, .. } | Node::Logic { right, .. } | Node::Not { right } => {
                if right.is_some() {
                    return Err(syntax);
                }
                *right = Some(arg);
                Ok(())
            }
            Node::Cmp { right: Some(_), .. } => Err(syntax),
            &mut Node::Cmp { op: cmp, left, right: None } => {
                let regex = matches!(cmp, Cmp::Re | Cmp::NotRe);
                match &self.nodes[arg] {
                    Node::Item(Item::Number(_)) if regex => Err(self.fail("=~ and !~ take a quoted string")),
                    Node::Item(Item::Number(_)) => {
                        self.nodes[op] = Node::Cmp { op: cmp, left, right: Some(arg) };
                        Ok(())
                    }
                    Node::Item(Item::Str { value, single: true }) if value.len() == 1 && !regex => {
                        self.nodes[arg] = Node::Item(Item::Char);
                        self.nodes[op] = Node::Cmp { op: cmp, left, right: Some(arg) };
                        Ok(())
                    }
                    Node::Item(Item::Str { value, .. }) => {
                        let value = value.clone();
                        let Some(Node::Item(Item::Name(name))) = left.map(|l| &self.nodes[l]) else { return Err(syntax) };
                        let name = name.clone();
                        let regex = regex.then(|| Regex::new(&value));
                        self.nodes[op] = Node::StrCmp { op: cmp, name, value, regex };
                        Ok(())
                    }
                    _ => Err(self.fail("a comparison needs a number or a quoted string on its right")),
                }
            }
            Node::StrCmp { .. } | Node::Item(_) => Err(syntax),
        }
    }

    /// `check_op_done`.
    fn done(&self, id: Id) -> bool {
        match &self.nodes[id] {
            Node::Exp { right, .. } | Node::Logic { right, .. } | Node::Not { right } | Node::Cmp { right, .. } => right.is_some(),
            Node::StrCmp { .. } => true,
            Node::Item(_) => false,
        }
    }

    /// `process_filter`: one level (the whole text, a parenthesised group, or the operand of
    /// a `!` when `not`).
    fn level(&mut self, not: bool, depth: usize) -> P<Level> {
        if depth > 256 {
            return Err(self.fail("more than 256 nested levels"));
        }
        let (mut op, mut exp, mut left_item): (Option<Id>, Option<Id>, Option<Id>) = (None, None, None);
        loop {
            let (t, tok) = self.token();
            match t {
                Tt::Item | Tt::Dquote | Tt::Squote => {
                    let arg = self.item(t, tok)?;
                    if left_item.is_none() {
                        left_item = Some(arg);
                    } else if let Some(e) = exp {
                        self.add_right(e, arg)?;
                        left_item = None;
                        if not {
                            // A `!` takes one expression.
                            if op.is_some() {
                                return Err(self.syntax());
                            }
                            return Ok(Level::End(e));
                        }
                    } else {
                        return Err(self.syntax());
                    }
                }
                Tt::Delim if tok == b"," => return Err(self.fail("',' inside the expression")),
                Tt::Delim if tok == b"(" => {
                    if left_item.is_some() {
                        return Err(self.fail("'(' after a value"));
                    }
                    if exp.is_some() {
                        return Err(self.fail("'(' after an expression"));
                    }
                    let Level::Close(sub) = self.level(false, depth + 1)? else { return Err(self.fail("unbalanced '('")) };
                    if not {
                        if op.is_some() {
                            return Err(self.syntax());
                        }
                        return Ok(Level::End(sub));
                    }
                    match op {
                        Some(o) => self.add_right(o, sub)?,
                        None => exp = Some(sub),
                    }
                }
                Tt::Delim => {
                    let top = op.or(exp).ok_or_else(|| self.syntax())?;
                    if exp.is_some_and(|e| !self.done(e)) || op.is_some_and(|o| !self.done(o)) {
                        return Err(self.syntax());
                    }
                    return Ok(Level::Close(top));
                }
                Tt::Op => {
                    let Some(kind) = op_kind(&tok) else { return Err(self.fail(&format!("unknown operator '{}'", String::from_utf8_lossy(&tok)))) };
                    let ok = match kind {
                        OpKind::Logic(_) => (op.is_some() || exp.is_some()) && left_item.is_none(),
                        OpKind::Not => left_item.is_none(),
                        OpKind::Exp(_) | OpKind::Cmp(_) => left_item.is_some(),
                    };
                    if !ok {
                        return Err(self.syntax());
                    }
                    match kind {
                        OpKind::Logic(and) => {
                            let a = self.push(Node::Logic { and, left: None, right: None })?;
                            if let Some(l) = op.or(exp) {
                                self.add_left(a, l)?;
                            }
                            op = Some(a);
                            exp = None;
                        }
                        OpKind::Not => {
                            let a = self.push(Node::Not { right: None })?;
                            if let Some(o) = op {
                                self.add_right(o, a)?;
                            }
                            exp = Some(a);
                            let Level::End(sub) = self.level(true, depth + 1)? else { return Err(self.fail("unbalanced ')'")) };
                            self.add_right(a, sub)?;
                        }
                        OpKind::Exp(_) | OpKind::Cmp(_) => {
                            let node = match kind {
                                OpKind::Exp(e) => Node::Exp { op: e, left: None, right: None },
                                OpKind::Cmp(c) => Node::Cmp { op: c, left: None, right: None },
                                _ => return Err(self.syntax()),
                            };
                            let a = self.push(node)?;
                            if let Some(o) = op {
                                self.add_right(o, a)?;
                            }
                            if let Some(l) = left_item {
                                self.add_left(a, l)?;
                            }
                            // The item stays the left one: libtraceevent does not clear it here.
                            exp = Some(a);
                        }
                    }
                }
                Tt::None => break,
                _ => return Err(self.syntax()),
            }
        }
        let top = op.or(exp).ok_or_else(|| self.syntax())?;
        if not {
            self.folded_first.push(top);
        }
        Ok(Level::End(top))
    }
}

fn parse_expr(text: &[u8]) -> P<Ast> {
    let mut p = Parser { text, lx: Lexer::new(text), nodes: Vec::new(), folded_first: Vec::new() };
    match p.level(false, 0)? {
        Level::End(root) => Ok(Ast { nodes: p.nodes, root, folded_first: p.folded_first }),
        Level::Close(_) => Err(p.fail("unbalanced ')'")),
    }
}

// ---- one event's program -------------------------------------------------------------------

/// What a name denotes in an event.
#[derive(Clone, Copy, Debug)]
enum Source {
    Field(usize),
    Comm,
    Cpu,
}

/// A number read from the record.
#[derive(Clone, Copy, Debug)]
enum Operand {
    Const(u64),
    /// `get_value`: the field read in the file's byte order, sign-extended when signed.
    Field {
        offset: usize,
        size: usize,
        signed: bool,
    },
    Cpu,
}

/// A string read from the record (`get_field_str`, `get_comm`).
#[derive(Clone, Copy, Debug)]
enum Text {
    Comm,
    /// A `char` array, fixed or `__data_loc`/`__rel_loc`.
    Chars {
        offset: usize,
        size: usize,
        dynamic: bool,
        relative: bool,
    },
    /// A number: the kernel function it falls in (pointer and long fields), else `0x%llx`.
    Number {
        value: Operand,
        symbol: bool,
    },
}

#[derive(Debug)]
enum StrTest {
    Eq(Vec<u8>),
    Ne(Vec<u8>),
    Re(Regex),
    NotRe(Regex),
}

#[derive(Debug)]
enum Leaf {
    Num {
        a: Operand,
        op: Cmp,
        b: u64,
    },
    /// Arithmetic as a truth value.
    Exp {
        a: Operand,
        op: ExpOp,
        b: Operand,
    },
    Str {
        text: Text,
        test: StrTest,
        /// For COMM: the expression node it was folded from, whose answers by pid are kept
        /// (see [`PerPid`]).
        per_pid: Option<Id>,
    },
    /// Whatever libtraceevent fails to evaluate (a string in arithmetic, `~`): the filter does
    /// not match the record.
    Fail,
}

#[derive(Debug)]
enum Tree {
    And(Box<Tree>, Box<Tree>),
    Or(Box<Tree>, Box<Tree>),
    Not(Box<Tree>),
    Leaf(Leaf),
}

/// A tree folded for an event: a constant, or what is left to test per record.
enum Folded {
    Const(bool),
    Tree(Tree),
}

#[derive(Debug)]
enum Ins {
    Test(Leaf),
    /// Jump when the last result is false (an `&&` already decided) / true (an `||`).
    IfFalse(u32),
    IfTrue(u32),
    Not,
}

/// One event's part of a filter. A single test, the usual shape (`COMM =~ "^kworker"`,
/// `prev_pid == 1`), is its own variant, decided without the jump loop: through the loop it
/// cost a third more instructions per record (measured with callgrind).
#[derive(Debug)]
enum Program {
    Const(bool),
    One(Leaf),
    Code(Box<[Ins]>),
}

/// Folds an expression for one event: libtraceevent's `create_arg_item` choices, the checks
/// `add_right` makes of string comparisons, and `collapse_tree`.
struct Resolver<'a> {
    ast: &'a Ast,
    event: &'a Event,
}

impl Resolver<'_> {
    /// `tep_find_any_field` (common fields first), then the COMM and CPU pseudo fields.
    fn source(&self, name: &[u8]) -> Option<Source> {
        if let Some(i) = self.event.fields.iter().position(|f| f.name.as_bytes() == name) {
            return Some(Source::Field(i));
        }
        match name {
            b"COMM" => Some(Source::Comm),
            b"CPU" => Some(Source::Cpu),
            _ => None,
        }
    }

    fn name(name: &[u8]) -> String {
        String::from_utf8_lossy(name).into_owned()
    }

    /// A field read as a number; None when the event has no such field (the comparison is
    /// false).
    fn number(&self, name: &[u8]) -> P<Option<Operand>> {
        let Some(src) = self.source(name) else { return Ok(None) };
        Ok(Some(match src {
            Source::Cpu => Operand::Cpu,
            Source::Comm => return Err("COMM is the task's name: compare it with a quoted string".into()),
            Source::Field(i) => {
                let f = &self.event.fields[i];
                if !matches!(f.size, 1 | 2 | 4 | 8) {
                    // libtraceevent compares an uninitialised value here.
                    let hint = if f.flags & F_STRING != 0 { ": compare it with a quoted string" } else { " and no string either" };
                    return Err(format!("{} is {} bytes, not a number{hint}", Self::name(name), f.size));
                }
                Operand::Field { offset: f.offset as usize, size: f.size as usize, signed: f.flags & F_SIGNED != 0 }
            }
        }))
    }

    fn text(&self, src: Source, name: &[u8]) -> P<Text> {
        Ok(match src {
            Source::Comm => Text::Comm,
            Source::Cpu => return Err("CPU is a number: compare it with a number".into()),
            Source::Field(i) => {
                let f = &self.event.fields[i];
                if f.flags & F_STRING != 0 {
                    Text::Chars { offset: f.offset as usize, size: f.size as usize, dynamic: f.flags & F_DYNAMIC != 0, relative: f.flags & F_RELATIVE != 0 }
                } else {
                    let Some(value) = self.number(name)? else { return Err("no such field".into()) };
                    Text::Number { value, symbol: f.flags & (F_POINTER | F_LONG) != 0 }
                }
            }
        })
    }

    /// The checks libtraceevent makes while it builds string comparisons, for every one in the
    /// text (even one the tree then drops).
    fn check_strings(&self) -> P<()> {
        for n in &self.ast.nodes {
            let Node::StrCmp { op, name, regex, .. } = n else { continue };
            if self.source(name).is_none() {
                continue;
            }
            match (op, regex) {
                (Cmp::Eq | Cmp::Ne, _) => {}
                (_, Some(Err(e))) => return Err(format!("regex of {}: {e}", Self::name(name))),
                (Cmp::Re | Cmp::NotRe, _) => {}
                _ => return Err(format!("{} compares with a string: use ==, !=, =~ or !~", Self::name(name))),
            }
        }
        Ok(())
    }

    fn child(&self, id: Option<Id>) -> P<Id> {
        id.ok_or_else(|| "unfinished expression: an operator without its operand".to_string())
    }

    /// An operand of arithmetic: None for a field the event lacks; Err(()) inside for a value
    /// that fails evaluation.
    fn operand(&self, id: Id) -> P<Option<Result<Operand, ()>>> {
        Ok(match &self.ast.nodes[id] {
            Node::Item(Item::Number(v)) => Some(Ok(Operand::Const(*v))),
            Node::Item(Item::Name(n)) => self.number(n)?.map(Ok),
            Node::Item(_) => Some(Err(())),
            _ => return Err("unfinished expression".into()),
        })
    }

    /// `test_arg`, building what is left as a tree of leaves.
    fn fold(&self, id: Id) -> P<Folded> {
        Ok(match &self.ast.nodes[id] {
            Node::Item(_) => return Err("a value where a comparison was expected".into()),
            Node::StrCmp { op, name, value, regex } => {
                let Some(src) = self.source(name) else { return Ok(Folded::Const(false)) };
                let per_pid = matches!(src, Source::Comm).then_some(id);
                let text = self.text(src, name)?;
                let test = match (op, regex) {
                    (Cmp::Eq, _) => StrTest::Eq(value.clone()),
                    (Cmp::Ne, _) => StrTest::Ne(value.clone()),
                    (Cmp::Re, Some(Ok(r))) => StrTest::Re(r.clone()),
                    (Cmp::NotRe, Some(Ok(r))) => StrTest::NotRe(r.clone()),
                    _ => return Err("bad string comparison".into()),
                };
                Folded::Tree(Tree::Leaf(Leaf::Str { text, test, per_pid }))
            }
            &Node::Cmp { op, left, right } => {
                let Node::Item(Item::Name(n)) = &self.ast.nodes[self.child(left)?] else { return Err("a comparison needs a field on its left".into()) };
                let Some(a) = self.number(n)? else { return Ok(Folded::Const(false)) };
                match &self.ast.nodes[self.child(right)?] {
                    Node::Item(Item::Number(b)) => Folded::Tree(Tree::Leaf(Leaf::Num { a, op, b: *b })),
                    Node::Item(Item::Char) => {
                        return Err(format!("{}: a one-character '…' string compares by its address in trace-cmd: use a number or \"…\"", Self::name(n)))
                    }
                    _ => return Err("a comparison needs a number or a quoted string on its right".into()),
                }
            }
            &Node::Exp { op, left, right } => {
                let Some(a) = self.operand(self.child(left)?)? else { return Ok(Folded::Const(false)) };
                let Some(b) = self.operand(self.child(right)?)? else { return Ok(Folded::Const(false)) };
                Folded::Tree(Tree::Leaf(match (a, b) {
                    (Ok(a), Ok(b)) if op != ExpOp::Not => Leaf::Exp { a, op, b },
                    _ => Leaf::Fail,
                }))
            }
            &Node::Logic { and, left, right } => {
                // A constant that decides (false for &&, true for ||) stands for the whole;
                // the other constant leaves the other side.
                match self.fold(self.child(left)?)? {
                    Folded::Const(c) if c != and => Folded::Const(c),
                    Folded::Const(_) => self.fold(self.child(right)?)?,
                    Folded::Tree(l) => match self.fold(self.child(right)?)? {
                        Folded::Const(c) if c != and => Folded::Const(c),
                        Folded::Const(_) => Folded::Tree(l),
                        Folded::Tree(r) => Folded::Tree(if and { Tree::And(Box::new(l), Box::new(r)) } else { Tree::Or(Box::new(l), Box::new(r)) }),
                    },
                }
            }
            &Node::Not { right } => match self.fold(self.child(right)?)? {
                Folded::Const(c) => Folded::Const(!c),
                Folded::Tree(t) => Folded::Tree(Tree::Not(Box::new(t))),
            },
        })
    }

    fn program(&self) -> P<Program> {
        self.check_strings()?;
        for &id in &self.ast.folded_first {
            self.fold(id)?;
        }
        Ok(match self.fold(self.ast.root)? {
            Folded::Const(c) => Program::Const(c),
            Folded::Tree(Tree::Leaf(l)) => Program::One(l),
            Folded::Tree(t) => {
                let mut code = Vec::new();
                emit(t, &mut code);
                Program::Code(code.into_boxed_slice())
            }
        })
    }
}

fn emit(t: Tree, code: &mut Vec<Ins>) {
    match t {
        Tree::Leaf(l) => code.push(Ins::Test(l)),
        Tree::Not(x) => {
            emit(*x, code);
            code.push(Ins::Not);
        }
        Tree::And(a, b) => branch(*a, *b, true, code),
        Tree::Or(a, b) => branch(*a, *b, false, code),
    }
}

fn branch(a: Tree, b: Tree, and: bool, code: &mut Vec<Ins>) {
    emit(a, code);
    let at = code.len();
    code.push(if and { Ins::IfFalse(0) } else { Ins::IfTrue(0) });
    emit(b, code);
    let end = code.len() as u32;
    code[at] = if and { Ins::IfFalse(end) } else { Ins::IfTrue(end) };
}

// ---- evaluation ----------------------------------------------------------------------------

/// A record being tested.
struct Record<'a> {
    tep: &'a Tep,
    /// The file's byte order (the only part of the printing context fields are read with).
    endian: Endian,
    /// The record's bytes, and what follows them in the page (fields are read past a short
    /// record, as libtraceevent does).
    data: &'a [u8],
    cpu: u32,
}

/// Reusable buffers: a number written as text, the regex threads.
#[derive(Default)]
struct Scratch {
    text: Vec<u8>,
    regex: regex::Scratch,
}

/// A COMM comparison's answers by pid for one generation of the comm table (see
/// [`crate::tep::lookups::Comms::generation`]): the task's name, so the answer, only changes when the table does,
/// and the comparison (a regex, often) then runs once per pid and table instead of once per
/// record. Kept per expression node, for all the events the node was folded for.
#[derive(Debug, Default)]
struct PerPid {
    /// The generation the answers are for; None before the first.
    generation: Option<u64>,
    /// Per pid below [`PerPid::PIDS`]: `stamp << 1 | answer`, an answer of this generation
    /// when its stamp is `stamp` (so that a new generation clears nothing).
    answers: Vec<u32>,
    stamp: u32,
}

impl PerPid {
    /// Pids remembered (4 bytes each, up to the largest seen); larger ones are decided each
    /// time.
    const PIDS: usize = 1 << 18;

    /// The answer for `pid`, from the table when it is of this generation. The path of a known
    /// answer is one generation compare, one `get` and one stamp compare; a new generation and
    /// a pid not seen yet are out of line (a negative pid wraps to a huge index: not in the
    /// table, decided each time).
    #[inline]
    fn answer(&mut self, generation: u64, pid: i32, decide: impl FnOnce() -> bool) -> bool {
        if self.generation != Some(generation) {
            self.renew(generation);
        }
        let i = pid as u32 as usize;
        if let Some(&known) = self.answers.get(i) {
            if known >> 1 == self.stamp {
                return known & 1 == 1;
            }
        }
        let v = decide();
        self.learn(i, v);
        v
    }

    /// A new generation: answers of the old stamps no longer count.
    #[cold]
    fn renew(&mut self, generation: u64) {
        self.generation = Some(generation);
        self.stamp = match self.stamp.checked_add(1).filter(|&n| n < 1 << 31) {
            Some(n) => n,
            None => {
                self.answers.fill(0);
                1
            }
        };
    }

    fn learn(&mut self, i: usize, v: bool) {
        if i >= Self::PIDS {
            return;
        }
        if self.answers.len() <= i {
            self.answers.resize(i + 1, 0);
        }
        if let Some(a) = self.answers.get_mut(i) {
            *a = self.stamp << 1 | u32::from(v);
        }
    }
}

impl Operand {
    fn value(self, r: &Record<'_>) -> u64 {
        match self {
            Operand::Const(v) => v,
            Operand::Cpu => r.cpu as u64,
            Operand::Field { offset, size, signed } => {
                let v = r.endian.uint_at(r.data, offset, size).unwrap_or(0);
                if !signed {
                    return v;
                }
                match size {
                    1 => v as i8 as i64 as u64,
                    2 => v as i16 as i64 as u64,
                    4 => v as i32 as i64 as u64,
                    _ => v,
                }
            }
        }
    }
}

/// The C string at `at` in `data` (to its end when it has no NUL).
fn c_string(data: &[u8], at: usize) -> &[u8] {
    cprintf::cstr(data.get(at..).unwrap_or(&[]))
}

impl Text {
    fn read<'r>(self, r: &Record<'r>, buf: &'r mut Vec<u8>) -> &'r [u8] {
        match self {
            Text::Comm => r.tep.comms.find(r.tep.pid_of(r.data)),
            Text::Chars { offset, size, dynamic, relative } => {
                // get_field_str: a __data_loc word read in host order (not the file's), then
                // the string's last byte decides: NUL-terminated, the C string; else the
                // field's own size of bytes.
                let (mut at, mut len) = (offset, size);
                if dynamic {
                    let loc = Endian::Little.uint_at(r.data, offset, 4).unwrap_or(0);
                    (at, len) = ((loc & 0xffff) as usize, (loc >> 16) as usize & 0xffff);
                    if relative {
                        at += offset + size;
                    }
                }
                let last = (at + len).checked_sub(1).and_then(|i| r.data.get(i)).copied().unwrap_or(0);
                if last != 0 {
                    cprintf::cstr(r.data.get(at..).map_or(&[][..], |d| &d[..size.min(d.len())]))
                } else {
                    c_string(r.data, at)
                }
            }
            Text::Number { value, symbol } => {
                let v = value.value(r);
                if symbol {
                    if let Some(f) = r.tep.funcs.find(v) {
                        return f.name;
                    }
                }
                buf.clear();
                cprintf::printf(buf, b"0x%llx", &[C::Int(v)]);
                buf
            }
        }
    }
}

impl StrTest {
    /// `test_str` on the text of `text` in the record.
    fn on(&self, text: Text, r: &Record<'_>, s: &mut Scratch) -> bool {
        let Scratch { text: buf, regex } = s;
        let t = text.read(r, buf);
        match self {
            StrTest::Eq(v) => t == v.as_slice(),
            StrTest::Ne(v) => t != v.as_slice(),
            StrTest::Re(x) => x.is_match(t, regex),
            StrTest::NotRe(x) => !x.is_match(t, regex),
        }
    }
}

impl Leaf {
    /// `test_num`, `test_str` or an arithmetic truth value; None when libtraceevent's
    /// evaluation fails (the filter then does not match).
    fn eval(&self, r: &Record<'_>, s: &mut Scratch, per_pid: &mut [PerPid]) -> Option<bool> {
        Some(match self {
            Leaf::Num { a, op, b } => {
                let (a, b) = (a.value(r), *b);
                match op {
                    Cmp::Eq => a == b,
                    Cmp::Ne => a != b,
                    Cmp::Lt => a < b,
                    Cmp::Gt => a > b,
                    Cmp::Le => a <= b,
                    Cmp::Ge => a >= b,
                    Cmp::Re | Cmp::NotRe => return None,
                }
            }
            Leaf::Exp { a, op, b } => {
                let (a, b) = (a.value(r), b.value(r));
                let v = match op {
                    ExpOp::Add => a.wrapping_add(b),
                    ExpOp::Sub => a.wrapping_sub(b),
                    ExpOp::Mul => a.wrapping_mul(b),
                    // C traps on a division by zero; here the filter just does not match.
                    ExpOp::Div => a.checked_div(b)?,
                    ExpOp::Mod => a.checked_rem(b)?,
                    // x86 shifts by the count's low 6 bits.
                    ExpOp::Shr => a.wrapping_shr(b as u32),
                    ExpOp::Shl => a.wrapping_shl(b as u32),
                    ExpOp::And => a & b,
                    ExpOp::Or => a | b,
                    ExpOp::Xor => a ^ b,
                    ExpOp::Not => return None,
                };
                v != 0
            }
            Leaf::Str { text, test, per_pid: node } => match node.and_then(|n| per_pid.get_mut(n)) {
                Some(m) => m.answer(r.tep.comms.generation(), r.tep.pid_of(r.data), || test.on(*text, r, s)),
                None => test.on(*text, r, s),
            },
            Leaf::Fail => return None,
        })
    }
}

impl Program {
    fn matches(&self, r: &Record<'_>, s: &mut Scratch, per_pid: &mut [PerPid]) -> bool {
        let code = match self {
            Program::Const(c) => return *c,
            Program::One(l) => return l.eval(r, s, per_pid).unwrap_or(false),
            Program::Code(code) => code,
        };
        let mut acc = false;
        let mut pc = 0usize;
        while let Some(ins) = code.get(pc) {
            pc += 1;
            match ins {
                Ins::Test(l) => match l.eval(r, s, per_pid) {
                    Some(v) => acc = v,
                    None => return false,
                },
                Ins::IfFalse(t) if !acc => pc = *t as usize,
                Ins::IfTrue(t) if acc => pc = *t as usize,
                Ins::Not => acc = !acc,
                Ins::IfFalse(_) | Ins::IfTrue(_) => {}
            }
        }
        acc
    }
}

// ---- a whole -F against a file -------------------------------------------------------------

/// C `isspace` trimming (libtraceevent's `strim`).
fn strim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| !matches!(c, b' ' | b'\t'..=b'\r')).unwrap_or(s.len());
    let end = s.iter().rposition(|&c| !matches!(c, b' ' | b'\t'..=b'\r')).map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// `^NAME$`, as find_event compiles it.
fn anchored(name: &[u8]) -> P<Regex> {
    let mut p = Vec::with_capacity(name.len() + 2);
    p.push(b'^');
    p.extend_from_slice(name);
    p.push(b'$');
    Regex::new(&p).map_err(|e| format!("event name '{}': {e}", String::from_utf8_lossy(name)))
}

/// One `-F` compiled against a file: per event (by index in the table), its program, or
/// None when the filter does not list the event.
struct Compiled {
    events: Vec<Option<Program>>,
    /// By expression node, the answers of its COMM comparison (unused for other nodes).
    per_pid: Vec<PerPid>,
}

fn compile(text: &str, tep: &Tep) -> P<Compiled> {
    let text = text.as_bytes();
    let (names, expr) = match text.iter().position(|&c| c == b':') {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    // libtraceevent looks for the next ',' in the whole rest of the text and breaks when it
    // finds one after the ':'.
    if expr.is_some_and(|e| e.contains(&b',')) {
        return Err("',' after the ':' (the event list ends at the first ':')".into());
    }
    let mut scratch = regex::Scratch::default();
    let mut listed = vec![false; tep.events.len()];
    for name in names.split(|&c| c == b',') {
        // strtok_r on '/': the first two non-empty pieces.
        let mut parts = name.split(|&c| c == b'/').filter(|p| !p.is_empty());
        let Some(first) = parts.next() else { return Err("an event name is missing".into()) };
        let (system, event) = match parts.next() {
            Some(e) => (Some(anchored(strim(first))?), anchored(strim(e))?),
            None => (None, anchored(strim(first))?),
        };
        let mut found = false;
        for (i, e) in tep.events.iter().enumerate() {
            let hit = match &system {
                Some(s) => s.is_match(e.system.as_bytes(), &mut scratch) && event.is_match(e.name.as_bytes(), &mut scratch),
                None => event.is_match(e.system.as_bytes(), &mut scratch) || event.is_match(e.name.as_bytes(), &mut scratch),
            };
            if hit {
                listed[i] = true;
                found = true;
            }
        }
        if !found {
            return Err(format!("no event or system matches '{}'", String::from_utf8_lossy(strim(name))));
        }
    }
    let ast = expr.map(parse_expr).transpose()?;
    let mut events: Vec<Option<Program>> = (0..tep.events.len()).map(|_| None).collect();
    // libtraceevent keeps a filter per event id: with duplicate ids the record's event (the
    // first with that id) takes the filter of the first listed one.
    for (i, e) in tep.events.iter().enumerate().rev().filter(|&(i, _)| listed[i]) {
        let prog = match &ast {
            None => Program::Const(true),
            Some(ast) => Resolver { ast, event: e }.program().map_err(|m| format!("{m} (event {}/{})", e.system, e.name))?,
        };
        let slot = tep.index_of(e.id).unwrap_or(i);
        events[slot] = Some(prog);
    }
    let per_pid = ast.as_ref().map_or(0, |a| a.nodes.len());
    Ok(Compiled { events, per_pid: (0..per_pid).map(|_| PerPid::default()).collect() })
}

/// The `-F` filters of one input, compiled against its event table, for all its buffers:
/// trace-cmd's instance handles are copies of their file's handle and share its filter object,
/// down to the per-CPU memory of what printed.
pub struct Filters {
    keep: Vec<Compiled>,
    drop: Vec<Compiled>,
    /// By event index, whether the event has the id of ftrace/kernel_stack or
    /// ftrace/user_stack (looked up once here, not per record not kept).
    stacks: Vec<bool>,
    /// Per CPU number, whether the last record that passed the positive filters printed.
    printed: Vec<bool>,
    scratch: Scratch,
}

impl Filters {
    /// None without filters; the first filter that trace-cmd refuses is an error.
    pub fn new(specs: &[Spec], tep: &Tep) -> Result<Option<Filters>, FilterError> {
        if specs.is_empty() {
            return Ok(None);
        }
        let (mut keep, mut drop) = (Vec::new(), Vec::new());
        for spec in specs {
            let c = compile(&spec.text, tep).map_err(|message| FilterError { spec: spec.clone(), message })?;
            if spec.exclude {
                drop.push(c);
            } else {
                keep.push(c);
            }
        }
        let stack = |name: &str| tep.events.iter().find(|e| e.system == "ftrace" && e.name == name).map(|e| e.id);
        let ids = [stack("kernel_stack"), stack("user_stack")];
        let stacks = tep.events.iter().map(|e| ids.contains(&Some(e.id))).collect();
        Ok(Some(Filters { keep, drop, stacks, printed: Vec::new(), scratch: Scratch::default() }))
    }

    /// trace-cmd's `tracecmd_filter_match`: whether the record (of event `ev` in `tep`, on
    /// `cpu` of its buffer) prints.
    pub fn keep(&mut self, tep: &Tep, ev: Option<usize>, data: &[u8], cpu: u32) -> bool {
        let r = Record { tep, endian: tep.ctx().0, data, cpu };
        let (s, printed) = (&mut self.scratch, &mut self.printed);
        let mut hit = |f: &mut Compiled| ev.and_then(|e| f.events.get(e)).and_then(Option::as_ref).is_some_and(|p| p.matches(&r, s, &mut f.per_pid));
        let c = cpu as usize;
        if !self.keep.is_empty() && !self.keep.iter_mut().any(&mut hit) {
            let stack = ev.and_then(|e| self.stacks.get(e)).copied().unwrap_or(false);
            if !(stack && printed.get(c).copied().unwrap_or(false)) {
                return false;
            }
        }
        let dropped = self.drop.iter_mut().any(hit);
        match printed.get_mut(c) {
            Some(p) => *p = !dropped,
            None => {
                printed.resize(c, false);
                printed.push(!dropped);
            }
        }
        !dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWITCH: &str = "name: sched_switch\nID: 316\nformat:\n\
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
        print fmt: \"prev_pid=%d\", REC->prev_pid\n";
    const WAKING: &str = "name: sched_waking\nID: 318\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
        \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
        \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
        \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
        \tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\
        \tfield:pid_t pid;\toffset:24;\tsize:4;\tsigned:1;\n\
        \tfield:int prio;\toffset:28;\tsize:4;\tsigned:1;\n\
        \tfield:int target_cpu;\toffset:32;\tsize:4;\tsigned:1;\n\n\
        print fmt: \"pid=%d\", REC->pid\n";
    const PRINT: &str = "name: print\nID: 5\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
        \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
        \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
        \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
        \tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n\
        \tfield:__data_loc char[] buf;\toffset:16;\tsize:4;\tsigned:0;\n\n\
        print fmt: \"%s\", __get_str(buf)\n";
    const STACK: &str = "name: kernel_stack\nID: 4\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
        \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
        \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
        \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
        \tfield:int size;\toffset:8;\tsize:4;\tsigned:1;\n\n\
        print fmt: \"\"\n";

    fn tep() -> Tep {
        Tep::of_formats(&[("ftrace", PRINT), ("ftrace", STACK), ("sched", SWITCH), ("sched", WAKING)], b"3195 bash\n77 npm\n")
    }

    fn switch(pid: i32, prev: &str, prev_pid: i32, state: i64, next_pid: i32) -> Vec<u8> {
        let mut r = vec![0u8; 64];
        r[0..2].copy_from_slice(&316u16.to_le_bytes());
        r[4..8].copy_from_slice(&pid.to_le_bytes());
        r[8..8 + prev.len()].copy_from_slice(prev.as_bytes());
        r[24..28].copy_from_slice(&prev_pid.to_le_bytes());
        r[32..40].copy_from_slice(&state.to_le_bytes());
        r[40..43].copy_from_slice(b"npm");
        r[56..60].copy_from_slice(&next_pid.to_le_bytes());
        r
    }

    fn waking(pid: i32, target_cpu: i32) -> Vec<u8> {
        let mut r = vec![0u8; 36];
        r[0..2].copy_from_slice(&318u16.to_le_bytes());
        r[4..8].copy_from_slice(&pid.to_le_bytes());
        r[8..12].copy_from_slice(b"node");
        r[24..28].copy_from_slice(&pid.to_le_bytes());
        r[32..36].copy_from_slice(&target_cpu.to_le_bytes());
        r
    }

    fn print(pid: i32, text: &str) -> Vec<u8> {
        let mut r = vec![0u8; 20];
        r[0..2].copy_from_slice(&5u16.to_le_bytes());
        r[4..8].copy_from_slice(&pid.to_le_bytes());
        let loc = ((text.len() as u32 + 1) << 16) | 20;
        r[16..20].copy_from_slice(&loc.to_le_bytes());
        r.extend_from_slice(text.as_bytes());
        r.push(0);
        r
    }

    fn stack(pid: i32) -> Vec<u8> {
        let mut r = vec![0u8; 12];
        r[0..2].copy_from_slice(&4u16.to_le_bytes());
        r[4..8].copy_from_slice(&pid.to_le_bytes());
        r
    }

    fn filters(specs: &[(&str, bool)]) -> Result<Filters, String> {
        let specs: Vec<Spec> = specs.iter().map(|(t, x)| Spec { text: t.to_string(), exclude: *x }).collect();
        Filters::new(&specs, &tep()).map(|f| f.unwrap()).map_err(|e| e.message)
    }

    /// Which of these records (on CPU 0, one buffer) print.
    fn kept(specs: &[(&str, bool)], records: &[Vec<u8>]) -> Vec<bool> {
        let tep = tep();
        let mut f = filters(specs).unwrap();
        records.iter().map(|r| f.keep(&tep, tep.event_of(r), r, 0)).collect()
    }

    fn one(filter: &str, record: Vec<u8>) -> bool {
        kept(&[(filter, false)], &[record])[0]
    }

    #[test]
    fn events_by_name_system_and_regex() {
        let recs = [switch(1, "a", 1, 0, 2), waking(3, 0), print(4, "x")];
        assert_eq!(kept(&[("sched_switch", false)], &recs), [true, false, false]);
        assert_eq!(kept(&[("SCHED_SWITCH", false)], &recs), [true, false, false]);
        assert_eq!(kept(&[("sched", false)], &recs), [true, true, false]);
        // `_*` is "any number of underscores": only the system matches.
        assert_eq!(kept(&[("sched_*", false)], &recs), [true, true, false]);
        assert_eq!(kept(&[("sched_w.*", false)], &recs), [false, true, false]);
        assert_eq!(kept(&[("sched/sched_waking", false)], &recs), [false, true, false]);
        assert_eq!(kept(&[(" sched / sched_waking ", false)], &recs), [false, true, false]);
        assert_eq!(kept(&[("/sched_waking", false)], &recs), [false, true, false]);
        assert_eq!(kept(&[("ftrace/.*,sched_switch", false)], &recs), [true, false, true]);
        assert_eq!(kept(&[(".*", false)], &recs), [true, true, true]);
        // Several -F: any positive one; -v ones drop.
        assert_eq!(kept(&[("print", false), ("sched_waking", false)], &recs), [false, true, true]);
        assert_eq!(kept(&[("sched", true)], &recs), [false, false, true]);
        assert_eq!(kept(&[("sched", false), ("sched_waking", true)], &recs), [true, false, false]);
    }

    #[test]
    fn no_precedence_left_to_right() {
        // (next_pid == 0 || prev_pid != 0) && prev_pid == 1
        let f = "sched_switch: next_pid == 0 || prev_pid != 0 && prev_pid == 1";
        assert!(!one(f, switch(0, "a", 5, 0, 0)));
        assert!(one(f, switch(0, "a", 1, 0, 0)));
        // (prev_pid != 0 && prev_pid == 1) || next_pid == 0
        let g = "sched_switch: prev_pid != 0 && prev_pid == 1 || next_pid == 0";
        assert!(one(g, switch(0, "a", 5, 0, 0)));
        assert!(one("sched_switch: next_pid == 0 || (prev_pid != 0 && prev_pid == 1)", switch(0, "a", 5, 0, 0)));
        assert!(!one("sched_switch: !(next_pid == 0 || prev_pid == 5)", switch(0, "a", 5, 0, 0)));
        assert!(one("sched_switch: !next_pid == 1 && !(prev_pid == 9)", switch(0, "a", 5, 0, 0)));
    }

    #[test]
    fn numbers() {
        let r = || switch(3195, "bash", 3195, -1, 0x1f);
        assert!(one("sched_switch: next_pid == 0x1f", r()));
        assert!(one("sched_switch: next_pid == 037", r()));
        assert!(one("sched_switch: next_pid >= 31 && next_pid <= 31 && next_pid > 30 && next_pid < 32", r()));
        // Unsigned comparison of the sign-extended value.
        assert!(one("sched_switch: prev_state == 18446744073709551615", r()));
        assert!(!one("sched_switch: prev_state < 0", r()));
        assert!(one("sched_switch: next_pid & 16", r()));
        assert!(!one("sched_switch: next_pid & 32", r()));
        // After a comparison, arithmetic replaces it: `next_pid - 1`.
        assert!(one("sched_switch: next_pid == -1", r()));
        assert!(!one("sched_switch: next_pid == -31", r()));
        assert!(one("sched_switch: common_pid == 3195 && CPU == 0", r()));
        assert!(!one("sched_switch: CPU != 0", r()));
        // A string in arithmetic, `~`, and division by zero fail: no match.
        assert!(!one("sched_switch: next_pid + \"x\" || common_pid == 3195", r()));
        assert!(!one("sched_switch: next_pid ~ 3", r()));
        assert!(!one("sched_switch: next_pid / 0", r()));
        assert!(one("sched_switch: next_pid % 2", r()));
        // A leaked comparison: only the last one counts.
        assert!(one("sched_switch: next_pid == 1 prev_pid == 3195", r()));
    }

    #[test]
    fn strings() {
        let r = || switch(3195, "bash", 3195, 0, 77);
        assert!(one("sched_switch: prev_comm == \"bash\"", r()));
        assert!(one("sched_switch: prev_comm != 'bas'", r()));
        assert!(one("sched_switch: prev_comm =~ \"^BA\"", r()));
        assert!(!one("sched_switch: prev_comm !~ \"a.h\"", r()));
        assert!(one("sched_switch: next_comm == \"npm\" && COMM == \"bash\"", r()));
        assert!(one("sched_switch: prev_pid == \"0xc7b\"", r()));
        assert!(one("print: buf == \"hello\"", print(77, "hello")));
        assert!(one("print: buf =~ \"^h.*o$\" && COMM =~ \"npm\"", print(77, "hello")));
        assert!(one("print: COMM == \"<...>\"", print(5, "hello")));
        assert!(one("print: ip == \"0x0\"", print(5, "hello")));
        // A full 16-byte comm is not NUL-terminated inside the field.
        assert!(one("sched_switch: prev_comm == \"abcdefghijklmnop\"", switch(1, "abcdefghijklmnop", 1, 0, 0)));
    }

    #[test]
    fn comm_answers_follow_the_comm_table() {
        // pid 5 is saved twice: which name it has moves as other pids are registered (see
        // lookups' test); pid 9 is unknown until registered.
        let mut tep = Tep::of_formats(&[("ftrace", PRINT), ("sched", SWITCH)], b"5 a\n5 b\n7 c\n");
        let spec = Spec { text: ".*: COMM == \"b\" || COMM =~ \"^NE\"".into(), exclude: false };
        let mut f = Filters::new(&[spec], &tep).unwrap().unwrap();
        let (five, nine) = (print(5, "x"), switch(9, "a", 1, 0, 2));
        let mut keep = |tep: &Tep| [&five, &nine].map(|r| f.keep(tep, tep.event_of(r), r, 0));
        assert_eq!(keep(&tep), [false, false]);
        assert_eq!(keep(&tep), [false, false]);
        tep.comms.register(b"new", 9);
        assert_eq!(keep(&tep), [false, true]);
        for (pid, comm) in [(3, &b"x"[..]), (4, b"y"), (2, b"z")] {
            tep.comms.register(comm, pid);
        }
        assert_eq!(tep.comms.find(5), b"b");
        assert_eq!(keep(&tep), [true, true]);
    }

    #[test]
    fn missing_fields_are_false_for_that_event() {
        let recs = [switch(0, "a", 1, 0, 2), waking(0, 1)];
        assert_eq!(kept(&[("sched: bogus == 1 || common_pid == 0", false)], &recs), [true, true]);
        assert_eq!(kept(&[("sched: bogus == 1", false)], &recs), [false, false]);
        assert_eq!(kept(&[("sched: bogus != 1", false)], &recs), [false, false]);
        assert_eq!(kept(&[("sched: !(bogus == 1)", false)], &recs), [true, true]);
        assert_eq!(kept(&[("sched: target_cpu == 1", false)], &recs), [false, true]);
        assert_eq!(kept(&[("sched: next_pid == 2 || pid == 0", false)], &recs), [true, true]);
        assert_eq!(kept(&[("sched: bogus < \"x\"", false)], &recs), [false, false]);
        // False on the left of && decides before the unfinished right side is looked at.
        assert_eq!(kept(&[("sched_switch: bogus == 1 && prev_pid ==", false)], &recs), [false, false]);
    }

    #[test]
    fn stacks_follow_printed_records() {
        let recs = [switch(0, "a", 1, 0, 2), stack(0), waking(0, 1), stack(0), stack(0)];
        assert_eq!(kept(&[("sched_switch", false)], &recs), [true, true, false, true, true]);
        assert_eq!(kept(&[("sched_switch", false), ("kernel_stack", true)], &recs), [true, false, false, false, false]);
        assert_eq!(kept(&[("sched_waking", true)], &recs), [true, true, false, true, true]);
    }

    #[test]
    fn errors() {
        let bad = [
            ("", "an event name is missing"),
            ("nothing", "no event or system matches 'nothing'"),
            ("sched_switch,", "an event name is missing"),
            ("sched_switch: prev_pid == 1, next_pid == 2", "',' after the ':'"),
            ("sched_switch:", "syntax error"),
            ("sched_switch: prev_pid", "syntax error"),
            ("sched_switch: prev_pid ==", "unfinished expression"),
            ("sched_switch: prev_pid == 1 &&", "unfinished expression"),
            ("sched_switch: prev_pid == next_pid", "needs a number or a quoted string on its right"),
            ("sched_switch: 1 == prev_pid", "needs a field on its left"),
            ("sched_switch: (prev_pid == 1", "unbalanced '('"),
            ("sched_switch: prev_pid == 1)", "unbalanced ')'"),
            ("sched_switch: (!!(prev_pid == 1))", "unbalanced ')'"),
            ("sched_switch: prev_pid === 1", "unknown operator '='"),
            ("sched_switch: prev_pid =~ 1", "=~ and !~ take a quoted string"),
            ("sched_switch: prev_comm < \"a\"", "prev_comm compares with a string"),
            ("sched_switch: prev_comm =~ \"\\(\"", "regex of prev_comm: Unmatched ( or \\("),
            ("sched_switch: prev_state == 'R'", "compares by its address"),
            ("sched_switch: COMM == 1", "COMM is the task's name"),
            ("sched_switch: CPU == \"1\"", "CPU is a number"),
            ("sched_switch: prev_comm == 1", "prev_comm is 16 bytes, not a number: compare it with a quoted string"),
            ("sched_switch: prev_pid == 1 prev_comm < \"a\"", "prev_comm compares with a string"),
            ("sched_[: prev_pid == 1", "event name 'sched_['"),
        ];
        for (f, e) in bad {
            let got = filters(&[(f, false)]).err().unwrap_or_default();
            assert!(got.contains(e), "{f}: {got}");
        }
        // Unknown fields: no error where the string comparison is dropped.
        assert!(filters(&[("sched_switch: bogus < \"a\" || bogus =~ \"\\(\"", false)]).is_ok());
        let e = Filters::new(&[Spec { text: "x:".into(), exclude: true }], &tep()).err().unwrap();
        assert_eq!(e.to_string(), "-v -F 'x:': no event or system matches 'x'");
        let e = filters(&[("sched_waking: pid ==", false)]).err().unwrap();
        assert_eq!(e, "unfinished expression: an operator without its operand (event sched/sched_waking)");
        let e = filters(&[("sched_waking: pid == 1 ==", false)]).err().unwrap();
        assert_eq!(e, "syntax error at \"pid == 1 ==\"");
        // A second operator takes the same left field: `pid == 1`.
        assert_eq!(kept(&[("sched_waking: pid == == 1", false)], &[waking(1, 0), waking(2, 0)]), [true, false]);
    }
}
