//! POSIX basic regular expressions as glibc's `regcomp(REG_ICASE | REG_NOSUB)` reads them in
//! the C locale (trace-cmd never calls setlocale), for the two places libtraceevent's event
//! filters use them: event and system names (`^NAME$`) and the `=~` / `!~` comparisons.
//!
//! glibc folds case by upper-casing the subject and the pattern as it reads them, except the
//! byte after a backslash, which it reads as written: `\A` matches `a` and `A`, `\a` matches
//! nothing. Inside brackets the class names are read as written, and `[:upper:]`/`[:lower:]`
//! become `[:alpha:]`. Only whether a match exists is asked (REG_NOSUB), so the pattern runs as
//! a Thompson NFA over the subject, linear in its length whatever the pattern; back-references,
//! which need backtracking, are refused (glibc accepts them).

/// A compiled pattern.
#[derive(Clone, Debug)]
pub struct Regex {
    insts: Vec<Inst>,
    /// Byte sets over the subject's raw bytes (folding already applied), 256 bits each.
    sets: Vec<[u64; 4]>,
    /// Whether every match starts at the subject's start (the pattern begins with `^`).
    anchored: bool,
    /// The sets every match starts with (after the `^`), and whether they are all of the
    /// pattern: most patterns begin with a literal, decided without the NFA.
    prefix: Vec<u32>,
    literal: bool,
}

#[derive(Clone, Copy, Debug)]
enum Inst {
    /// Consume one byte of this set.
    Set(u32),
    Split(u32, u32),
    Jump(u32),
    Look(Look),
    Match,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Look {
    Start,
    End,
    WordBoundary,
    NotWordBoundary,
    WordStart,
    WordEnd,
}

enum Node {
    Set([u64; 4]),
    Look(Look),
    Cat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat(Box<Node>, u32, Option<u32>),
}

/// glibc's RE_DUP_MAX.
const DUP_MAX: u32 = 0x7fff;
/// Instructions a pattern may compile to (repetition counts multiply): glibc would run out of
/// memory somewhere near here too.
const MAX_INSTS: usize = 1 << 18;

fn word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// C `isspace` in the C locale.
fn space(c: u8) -> bool {
    matches!(c, b' ' | b'\t'..=b'\r')
}

fn set_of(f: impl Fn(u8) -> bool) -> [u64; 4] {
    let mut s = [0u64; 4];
    for b in 0..=255u8 {
        if f(b) {
            s[b as usize / 64] |= 1 << (b % 64);
        }
    }
    s
}

fn has(s: &[u64; 4], b: u8) -> bool {
    s[b as usize / 64] & (1 << (b % 64)) != 0
}

/// A byte of the pattern as the upper-cased copy glibc reads it has it, matched against the
/// subject's upper-cased bytes.
fn folded(c: u8) -> [u64; 4] {
    set_of(|b| b.to_ascii_uppercase() == c)
}

fn class(name: &[u8]) -> Option<fn(u8) -> bool> {
    Some(match name {
        b"alpha" | b"upper" | b"lower" => |c: u8| c.is_ascii_alphabetic(),
        b"alnum" => |c: u8| c.is_ascii_alphanumeric(),
        b"digit" => |c: u8| c.is_ascii_digit(),
        b"xdigit" => |c: u8| c.is_ascii_hexdigit(),
        b"space" => space,
        b"blank" => |c: u8| c == b' ' || c == b'\t',
        b"punct" => |c: u8| c.is_ascii_punctuation(),
        b"print" => |c: u8| (0x20..0x7f).contains(&c),
        b"graph" => |c: u8| (0x21..0x7f).contains(&c),
        b"cntrl" => |c: u8| c < 0x20 || c == 0x7f,
        _ => return None,
    })
}

/// A bracket member, in the upper-cased pattern's terms.
#[derive(Clone, Copy)]
enum Element {
    Byte(u8),
    /// A class or an equivalence class: members, but no range end.
    Set([u64; 4]),
}

struct Parser<'a> {
    p: &'a [u8],
    i: usize,
}

type P<T> = Result<T, String>;

const EPAREN: &str = "Unmatched ( or \\(";
const ERPAREN: &str = "Unmatched ) or \\)";
const EBRACK: &str = "Unmatched [, [^, [:, [., or [=";
const BADRPT: &str = "Invalid preceding regular expression";

impl Parser<'_> {
    fn peek(&self, k: usize) -> Option<u8> {
        self.p.get(self.i + k).copied()
    }

    fn at_escape(&self, c: u8) -> bool {
        self.peek(0) == Some(b'\\') && self.peek(1) == Some(c)
    }

    /// Alternatives up to the end or a `\)`.
    fn alternation(&mut self, depth: usize) -> P<Node> {
        let mut branches = vec![self.branch(depth)?];
        while self.at_escape(b'|') {
            self.i += 2;
            branches.push(self.branch(depth)?);
        }
        Ok(if branches.len() == 1 { branches.pop().unwrap_or(Node::Cat(Vec::new())) } else { Node::Alt(branches) })
    }

    fn branch(&mut self, depth: usize) -> P<Node> {
        let mut items = Vec::new();
        // Where an expression starts (the branch's start, or after an anchor), a repetition
        // operator is an ordinary character, and `\{` an error; `^` anchors only at the branch's
        // very start.
        let mut expr_start = true;
        let mut caret_ok = true;
        while let Some(c) = self.peek(0) {
            if c == b'\\' && matches!(self.peek(1), Some(b'|' | b')')) {
                if self.peek(1) == Some(b')') && depth == 0 {
                    return Err(ERPAREN.into());
                }
                break;
            }
            let atom = if c == b'^' && caret_ok {
                self.i += 1;
                Node::Look(Look::Start)
            } else if c == b'$' && self.dollar_anchors() {
                self.i += 1;
                Node::Look(Look::End)
            } else if expr_start && c == b'*' {
                self.i += 1;
                Node::Set(folded(b'*'))
            } else if expr_start && c == b'\\' && matches!(self.peek(1), Some(b'+' | b'?')) {
                self.i += 2;
                Node::Set(folded(self.p[self.i - 1]))
            } else if expr_start && self.at_escape(b'{') {
                return Err(BADRPT.into());
            } else {
                self.atom(depth)?
            };
            caret_ok = false;
            if let Node::Look(_) = atom {
                // glibc's parse_expression returns right after an anchor: what follows starts
                // a new expression.
                items.push(atom);
                expr_start = true;
                continue;
            }
            expr_start = false;
            items.push(self.repeats(atom)?);
        }
        Ok(if items.len() == 1 { items.pop().unwrap_or(Node::Cat(Vec::new())) } else { Node::Cat(items) })
    }

    /// `$` anchors at the end of the pattern or before `\|` / `\)`; elsewhere it is a `$`.
    fn dollar_anchors(&self) -> bool {
        self.i + 1 == self.p.len() || (self.peek(1) == Some(b'\\') && matches!(self.peek(2), Some(b'|' | b')')))
    }

    /// An atom's repetition operators: `*`, `\+`, `\?`, `\{m,n\}`; after one, a `*` or `\{` is
    /// an error (glibc's RE_CONTEXT_INVALID_DUP) while `\+` and `\?` stack.
    fn repeats(&mut self, mut atom: Node) -> P<Node> {
        let mut repeated = false;
        loop {
            let (min, max, len) = match (self.peek(0), self.peek(1)) {
                (Some(b'*'), _) => (0, None, 1),
                (Some(b'\\'), Some(b'+')) => (1, None, 2),
                (Some(b'\\'), Some(b'?')) => (0, Some(1), 2),
                (Some(b'\\'), Some(b'{')) => {
                    if repeated {
                        return Err(BADRPT.into());
                    }
                    self.i += 2;
                    let (min, max) = self.interval()?;
                    atom = Node::Repeat(Box::new(atom), min, max);
                    repeated = true;
                    continue;
                }
                _ => return Ok(atom),
            };
            if repeated && len == 1 {
                return Err(BADRPT.into());
            }
            self.i += len;
            atom = Node::Repeat(Box::new(atom), min, max);
            repeated = true;
        }
    }

    /// `m`, `m,`, `,n` or `m,n` and the closing `\}`.
    fn interval(&mut self) -> P<(u32, Option<u32>)> {
        const BADBR: &str = "Invalid content of \\{\\}";
        let number = |s: &mut Self| -> Option<u32> {
            let start = s.i;
            let mut v = 0u32;
            while let Some(d) = s.peek(0).filter(u8::is_ascii_digit) {
                v = v.saturating_mul(10).saturating_add((d - b'0') as u32);
                s.i += 1;
            }
            (s.i > start).then_some(v)
        };
        let min = number(self);
        let max = if self.peek(0) == Some(b',') {
            self.i += 1;
            number(self)
        } else {
            if min.is_none() {
                return Err(if self.i >= self.p.len() { "Unmatched \\{".into() } else { BADBR.into() });
            }
            min
        };
        if !self.at_escape(b'}') {
            return Err(if self.p[self.i..].windows(2).any(|w| w == b"\\}") { BADBR.into() } else { "Unmatched \\{".into() });
        }
        self.i += 2;
        let min = min.unwrap_or(0);
        if max.is_some_and(|m| m < min) {
            return Err(BADBR.into());
        }
        if min > DUP_MAX || max.is_some_and(|m| m > DUP_MAX) {
            return Err("Regular expression too big".into());
        }
        Ok((min, max))
    }

    fn atom(&mut self, depth: usize) -> P<Node> {
        let c = self.p[self.i];
        self.i += 1;
        match c {
            b'.' => Ok(Node::Set(set_of(|b| b != 0))),
            b'[' => self.bracket(),
            b'\\' => {
                let Some(e) = self.peek(0) else { return Err("Trailing backslash".into()) };
                self.i += 1;
                Ok(match e {
                    b'(' => {
                        let inner = self.alternation(depth + 1)?;
                        if !self.at_escape(b')') {
                            return Err(EPAREN.into());
                        }
                        self.i += 2;
                        inner
                    }
                    b'1'..=b'9' => return Err("back-references (\\1 to \\9) are not supported".into()),
                    b'w' => Node::Set(set_of(word)),
                    b'W' => Node::Set(set_of(|b| !word(b))),
                    b's' => Node::Set(set_of(space)),
                    b'S' => Node::Set(set_of(|b| !space(b))),
                    b'b' => Node::Look(Look::WordBoundary),
                    b'B' => Node::Look(Look::NotWordBoundary),
                    b'<' => Node::Look(Look::WordStart),
                    b'>' => Node::Look(Look::WordEnd),
                    b'`' => Node::Look(Look::Start),
                    b'\'' => Node::Look(Look::End),
                    // Read as written, matched against the upper-cased subject.
                    other => Node::Set(folded(other)),
                })
            }
            other => Ok(Node::Set(folded(other.to_ascii_uppercase()))),
        }
    }

    /// A bracket expression after its `[`.
    fn bracket(&mut self) -> P<Node> {
        let negate = self.peek(0) == Some(b'^');
        if negate {
            self.i += 1;
        }
        // Members as upper-cased pattern bytes (the subject is upper-cased before the test).
        let mut members = [0u64; 4];
        let add = |m: &mut [u64; 4], b: u8| m[b as usize / 64] |= 1 << (b % 64);
        let mut first = true;
        loop {
            let Some(c) = self.peek(0) else { return Err(EBRACK.into()) };
            if c == b']' && !first {
                self.i += 1;
                break;
            }
            // A `-` that does not start a range is only allowed first or last.
            if c == b'-' && !first && self.peek(1) != Some(b']') {
                return Err("Invalid range end".into());
            }
            first = false;
            let start = self.element()?;
            // A range: `-` not followed by the closing `]`.
            if self.peek(0) == Some(b'-') && self.peek(1).is_some_and(|n| n != b']') {
                self.i += 1;
                let end = self.element()?;
                let (Element::Byte(a), Element::Byte(b)) = (start, end) else { return Err("Invalid range end".into()) };
                if a > b {
                    return Err("Invalid range end".into());
                }
                for x in a..=b {
                    add(&mut members, x);
                }
                continue;
            }
            match start {
                Element::Byte(b) => add(&mut members, b),
                Element::Set(s) => {
                    for (m, x) in members.iter_mut().zip(s) {
                        *m |= x;
                    }
                }
            }
        }
        Ok(Node::Set(set_of(|b| has(&members, b.to_ascii_uppercase()) != negate && b != 0)))
    }

    /// One bracket member: a byte, `[.c.]`, `[=c=]` or `[:class:]`.
    fn element(&mut self) -> P<Element> {
        let Some(c) = self.peek(0) else { return Err(EBRACK.into()) };
        if c == b'[' && matches!(self.peek(1), Some(b'.' | b'=' | b':')) {
            let kind = self.p[self.i + 1];
            self.i += 2;
            let start = self.i;
            loop {
                match (self.peek(0), self.peek(1)) {
                    (Some(k), Some(b']')) if k == kind && self.i > start => break,
                    (None, _) => return Err(EBRACK.into()),
                    _ => self.i += 1,
                }
            }
            let name = &self.p[start..self.i];
            self.i += 2;
            return match (kind, name) {
                (b':', _) => class(name).map(|f| Element::Set(set_of(f))).ok_or_else(|| "Invalid character class name".to_string()),
                // In the C locale an equivalence class is its one byte, but a set: no range end.
                (b'=', [b]) => Ok(Element::Set(set_of(|x| x == b.to_ascii_uppercase()))),
                (_, [b]) => Ok(Element::Byte(b.to_ascii_uppercase())),
                _ => Err("Invalid collation character".into()),
            };
        }
        self.i += 1;
        Ok(Element::Byte(c.to_ascii_uppercase()))
    }
}

struct Compiler {
    insts: Vec<Inst>,
    sets: Vec<[u64; 4]>,
}

impl Compiler {
    fn emit(&mut self, i: Inst) -> P<u32> {
        if self.insts.len() >= MAX_INSTS {
            return Err("Regular expression too big".into());
        }
        self.insts.push(i);
        Ok((self.insts.len() - 1) as u32)
    }

    fn here(&self) -> u32 {
        self.insts.len() as u32
    }

    fn patch(&mut self, at: u32, to: u32) {
        match &mut self.insts[at as usize] {
            Inst::Jump(t) => *t = to,
            Inst::Split(_, b) => *b = to,
            _ => {}
        }
    }

    fn node(&mut self, n: &Node) -> P<()> {
        match n {
            Node::Set(s) => {
                let k = match self.sets.iter().position(|x| x == s) {
                    Some(k) => k,
                    None => {
                        self.sets.push(*s);
                        self.sets.len() - 1
                    }
                };
                self.emit(Inst::Set(k as u32))?;
            }
            Node::Look(l) => {
                self.emit(Inst::Look(*l))?;
            }
            Node::Cat(items) => {
                for i in items {
                    self.node(i)?;
                }
            }
            Node::Alt(branches) => {
                let mut jumps = Vec::new();
                for (k, b) in branches.iter().enumerate() {
                    if k + 1 < branches.len() {
                        let split = self.emit(Inst::Split(0, 0))?;
                        self.insts[split as usize] = Inst::Split(split + 1, 0);
                        self.node(b)?;
                        jumps.push(self.emit(Inst::Jump(0))?);
                        let next = self.here();
                        self.patch(split, next);
                    } else {
                        self.node(b)?;
                    }
                }
                let end = self.here();
                for j in jumps {
                    self.patch(j, end);
                }
            }
            Node::Repeat(body, min, max) => {
                for _ in 0..*min {
                    self.node(body)?;
                }
                match max {
                    None => {
                        let split = self.emit(Inst::Split(0, 0))?;
                        self.insts[split as usize] = Inst::Split(split + 1, 0);
                        self.node(body)?;
                        self.emit(Inst::Jump(split))?;
                        let end = self.here();
                        self.patch(split, end);
                    }
                    Some(max) => {
                        for _ in *min..*max {
                            let split = self.emit(Inst::Split(0, 0))?;
                            self.insts[split as usize] = Inst::Split(split + 1, 0);
                            self.node(body)?;
                            let end = self.here();
                            self.patch(split, end);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Thread lists of a match, kept between matches so that matching allocates nothing once they
/// have grown to the largest pattern's size.
#[derive(Default)]
pub struct Scratch {
    cur: Threads,
    next: Threads,
    stack: Vec<u32>,
}

/// A sparse set of instruction indices.
#[derive(Default)]
struct Threads {
    dense: Vec<u32>,
    sparse: Vec<u32>,
}

impl Threads {
    fn fit(&mut self, n: usize) {
        if self.sparse.len() < n {
            self.sparse.resize(n, 0);
        }
        self.dense.clear();
    }

    fn contains(&self, pc: u32) -> bool {
        self.sparse.get(pc as usize).is_some_and(|&at| self.dense.get(at as usize) == Some(&pc))
    }

    fn insert(&mut self, pc: u32) {
        if let Some(slot) = self.sparse.get_mut(pc as usize) {
            *slot = self.dense.len() as u32;
            self.dense.push(pc);
        }
    }
}

impl Regex {
    /// regcomp(pattern, REG_ICASE | REG_NOSUB); the error is glibc's message for the same
    /// mistake.
    pub fn new(pattern: &[u8]) -> Result<Regex, String> {
        let mut p = Parser { p: pattern, i: 0 };
        let tree = p.alternation(0)?;
        if p.i < pattern.len() {
            // Only a `\)` with no group open stops the top level early.
            return Err(ERPAREN.into());
        }
        let mut c = Compiler { insts: Vec::new(), sets: Vec::new() };
        c.node(&tree)?;
        c.emit(Inst::Match)?;
        let anchored = matches!(c.insts.first(), Some(Inst::Look(Look::Start)));
        let rest = c.insts.get(anchored as usize..).unwrap_or(&[]);
        let prefix: Vec<u32> = rest.iter().map_while(|i| if let Inst::Set(k) = i { Some(*k) } else { None }).collect();
        let literal = matches!(rest.get(prefix.len()), Some(Inst::Match));
        Ok(Regex { insts: c.insts, sets: c.sets, anchored, prefix, literal })
    }

    /// Whether `s` starts with the pattern's prefix.
    fn prefixed(&self, s: &[u8]) -> bool {
        s.len() >= self.prefix.len() && self.prefix.iter().zip(s).all(|(&k, &b)| self.sets.get(k as usize).is_some_and(|x| has(x, b)))
    }

    /// regexec: whether the pattern matches anywhere in `s`.
    pub fn is_match(&self, s: &[u8], scratch: &mut Scratch) -> bool {
        match (self.anchored, self.literal) {
            (true, true) => return self.prefixed(s),
            (false, true) => return (0..=s.len().saturating_sub(self.prefix.len())).any(|i| self.prefixed(&s[i..])),
            (true, false) if !self.prefixed(s) => return false,
            _ => {}
        }
        let Scratch { cur, next, stack } = scratch;
        cur.fit(self.insts.len());
        next.fit(self.insts.len());
        for i in 0..=s.len() {
            // A match may start at every position (at the first only when anchored).
            if (i == 0 || !self.anchored) && self.add(cur, stack, 0, s, i) {
                return true;
            }
            if cur.dense.is_empty() && self.anchored {
                return false;
            }
            let Some(&b) = s.get(i) else { break };
            next.dense.clear();
            for k in 0..cur.dense.len() {
                let pc = cur.dense[k];
                if let Some(Inst::Set(set)) = self.insts.get(pc as usize) {
                    if self.sets.get(*set as usize).is_some_and(|x| has(x, b)) && self.add(next, stack, pc + 1, s, i + 1) {
                        return true;
                    }
                }
            }
            std::mem::swap(cur, next);
        }
        false
    }

    /// Adds `pc` and what it reaches without consuming a byte at position `at`; true once the
    /// match instruction is reached.
    fn add(&self, list: &mut Threads, stack: &mut Vec<u32>, pc: u32, s: &[u8], at: usize) -> bool {
        stack.clear();
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if list.contains(pc) {
                continue;
            }
            list.insert(pc);
            match self.insts.get(pc as usize) {
                Some(Inst::Match) => return true,
                Some(Inst::Jump(t)) => stack.push(*t),
                Some(Inst::Split(a, b)) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Some(Inst::Look(l)) => {
                    if look(*l, s, at) {
                        stack.push(pc + 1);
                    }
                }
                Some(Inst::Set(_)) | None => {}
            }
        }
        false
    }
}

fn look(l: Look, s: &[u8], at: usize) -> bool {
    let before = at.checked_sub(1).and_then(|i| s.get(i)).is_some_and(|&c| word(c));
    let after = s.get(at).is_some_and(|&c| word(c));
    match l {
        Look::Start => at == 0,
        Look::End => at == s.len(),
        Look::WordBoundary => before != after,
        Look::NotWordBoundary => before == after,
        Look::WordStart => !before && after,
        Look::WordEnd => before && !after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> Result<bool, String> {
        Regex::new(p.as_bytes()).map(|r| r.is_match(s.as_bytes(), &mut Scratch::default()))
    }

    /// Which of the printable ASCII bytes a pattern matches as a one-byte subject.
    fn hits(p: &str) -> String {
        let r = Regex::new(p.as_bytes()).unwrap();
        let mut sc = Scratch::default();
        (1..128u8).filter(|&b| r.is_match(&[b], &mut sc)).map(|b| b as char).collect()
    }

    // Expected values are glibc 2.36's, from regcomp/regexec with REG_ICASE | REG_NOSUB in
    // the C locale.
    #[test]
    fn matches_as_glibc() {
        let yes = [
            ("^sched_*$", "sched"),
            ("a\\+", "caaat"),
            ("x\\?y", "y"),
            ("ab\\|cd", "xcd"),
            ("\\(ab\\)*c", "abababc"),
            ("[A-Z]", "a"),
            ("[a-z]", "Q"),
            ("a{2}", "a{2}"),
            ("a\\{2\\}", "aa"),
            ("*a", "*a"),
            ("\\w\\+", "foo"),
            ("^*", "*"),
            ("\\<foo\\>", "a foo b"),
            ("$a", "$a"),
            ("a^", "a^"),
            ("\\(*a\\)", "*a"),
            ("[]a]", "]"),
            ("[^]a]", "b"),
            ("a\\{,2\\}", "aaa"),
            ("\\`a", "a"),
            ("a\\|*b", "*b"),
            ("\\(\\)", "x"),
            ("[[.a.]]", "a"),
            ("[[=a=]]", "A"),
            ("[\\]", "\\"),
            ("a*\\+", "b"),
            ("bash", "BASH"),
            ("", "x"),
            ("x$y", "x$y"),
        ];
        for (p, s) in yes {
            assert_eq!(m(p, s), Ok(true), "{p} ~ {s}");
        }
        let no = [("^sched_*$", "sched_switch"), ("b\\(^a\\)", "ba"), ("\\(a$\\)b", "ab"), (".", ""), ("\\n", "n"), ("\\.", "a"), ("^$", "x")];
        for (p, s) in no {
            assert_eq!(m(p, s), Ok(false), "{p} !~ {s}");
        }
    }

    #[test]
    fn case_folding_and_classes() {
        let az = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        assert_eq!(hits("[[:lower:]]"), az);
        assert_eq!(hits("[[:upper:]]"), az);
        assert_eq!(hits("[a-_]"), "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_abcdefghijklmnopqrstuvwxyz");
        assert_eq!(hits("\\a"), "");
        assert_eq!(hits("\\A"), "Aa");
        assert_eq!(hits("\\%"), "%");
        assert_eq!(hits("[[=a=]b]"), "ABab");
        assert_eq!(hits("[[.a.]-c]"), "ABCabc");
        assert_eq!(hits("[--/]"), "-./");
        assert_eq!(hits("[%--]"), "%&'()*+,-");
        assert_eq!(hits("\\s"), "\t\n\x0b\x0c\r ");
        assert_eq!(hits("\\w"), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");
        assert_eq!(hits("a\\|\\+"), "+Aa");
        assert_eq!(hits("\\+a"), "");
        assert_eq!(hits("^\\+"), "+");
        assert_eq!(hits("\\(^*a\\)"), "");
        assert_eq!(hits("a\\|^b"), "ABab");
        assert_eq!(hits("a$\\|b"), "ABab");
        assert!(!hits("[^a]").contains(['a', 'A']));
        assert_eq!(hits("[^a]").len(), 125);
        assert_eq!(hits("\\B").len(), 127 - 63);
    }

    #[test]
    fn errors_as_glibc() {
        let bad = [
            ("a**", BADRPT),
            ("a\\{2\\}*", BADRPT),
            ("a\\?*", BADRPT),
            ("a\\{1,2\\}\\{2\\}", BADRPT),
            ("\\{1\\}a", BADRPT),
            ("\\{", BADRPT),
            ("[", EBRACK),
            ("[[:alpha:]", EBRACK),
            ("[]", EBRACK),
            ("a\\{2", "Unmatched \\{"),
            ("a\\{1", "Unmatched \\{"),
            ("\\(a", EPAREN),
            ("a\\)", ERPAREN),
            ("\\)", ERPAREN),
            ("a\\", "Trailing backslash"),
            ("[z-a]", "Invalid range end"),
            ("[Z-a]", "Invalid range end"),
            ("[]-a]", "Invalid range end"),
            ("[a-c-e]", "Invalid range end"),
            ("[[:alpha:]-z]", "Invalid range end"),
            ("[[:foo:]]", "Invalid character class name"),
            ("[[:LOWER:]]", "Invalid character class name"),
            ("[[.hyphen.]]", "Invalid collation character"),
            ("a\\{\\}", "Invalid content of \\{\\}"),
            ("a\\{ 1\\}", "Invalid content of \\{\\}"),
            ("a\\{1,2,3\\}", "Invalid content of \\{\\}"),
            ("a\\{3,2\\}", "Invalid content of \\{\\}"),
            ("x\\{32768\\}", "Regular expression too big"),
        ];
        for (p, e) in bad {
            assert_eq!(m(p, "a").map_err(|x| x == e), Err(true), "{p}");
        }
        assert!(m("x\\{32767\\}", "x").is_ok());
        assert!(m("\\(a\\)\\1", "aa").is_err());
        assert!(m("\\(x\\{1000\\}\\)\\{1000\\}", "x").is_err());
    }

    #[test]
    fn literal_prefixes() {
        for (p, s, want) in [
            ("^kworker", "kworker/0:1", true),
            ("^kworker", "xkworker", false),
            ("^KWORKER/0", "kworker/0:1", true),
            ("^kw", "k", false),
            ("work", "kworker", true),
            ("work", "wor", false),
            ("", "", true),
            ("^", "", true),
            ("^k.*r$", "kworker", true),
            ("^k.*r$", "kworkers", false),
            ("^b\\|^n", "node", true),
        ] {
            assert_eq!(m(p, s), Ok(want), "{p} ~ {s}");
        }
    }

    #[test]
    fn linear_on_nested_loops() {
        let s = "a".repeat(5000);
        assert_eq!(m("\\(a*\\)*b", &s), Ok(false));
        assert_eq!(m("\\(\\(a\\|aa\\)*\\)*$", &s), Ok(true));
    }
}
