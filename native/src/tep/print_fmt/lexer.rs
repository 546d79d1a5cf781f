//! libtraceevent's print fmt tokenizer (`__read_token` and friends), byte for byte: its token
//! classes, its operator pairs, its string concatenation and its few forced macro expansions.

use crate::tep::cprintf;

/// Token classes (`enum tep_event_type`).
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

pub(super) fn is_item_type(t: Tt) -> bool {
    matches!(t, Tt::Item | Tt::Dquote | Tt::Squote)
}

/// C `isspace`/`isprint` on a `char` read from the buffer (bytes >= 0x80 are negative there
/// and belong to no class).
pub(super) fn c_isspace(c: i32) -> bool {
    matches!(c, 0x20 | 0x09..=0x0d)
}
pub(super) fn c_isprint(c: i32) -> bool {
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

/// A token: its class and its text.
pub(crate) type Token = (Tt, Vec<u8>);

/// Whether `t` is of class `ty` with text `s`.
pub(super) fn tok_is(t: &Token, ty: Tt, s: &[u8]) -> bool {
    t.0 == ty && t.1 == s
}

/// The print fmt being read.
pub(crate) struct Lexer {
    buf: Vec<u8>,
    pos: usize,
}

impl Lexer {
    pub(crate) fn new(text: &[u8]) -> Lexer {
        Lexer { buf: text.to_vec(), pos: 0 }
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
    fn raw_token(&mut self) -> Token {
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
    pub(crate) fn token(&mut self) -> Token {
        loop {
            let t = self.raw_token();
            if t.0 != Tt::Space {
                return t;
            }
        }
    }

    /// `read_token_item`: skips spaces and newlines.
    pub(crate) fn token_item(&mut self) -> Token {
        loop {
            let t = self.raw_token();
            if t.0 != Tt::Space && t.0 != Tt::Newline {
                return t;
            }
        }
    }
}
