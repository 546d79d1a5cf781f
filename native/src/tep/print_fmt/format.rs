//! The format string of a print fmt, split as libtraceevent's `parse_args` splits it: literal
//! text (escapes processed) and conversions, each bound to the argument it prints, with the
//! format fragment libtraceevent later hands to printf.

use super::parse::ArgId;
use crate::tep::cprintf::Conv;

/// One piece of the print format: literal text or a conversion with its argument.
#[derive(Clone, Debug)]
pub struct Piece {
    pub kind: PieceKind,
    /// The text, or the conversion as printf gets it (`%-5d`).
    pub format: Vec<u8>,
    pub arg: Option<ArgId>,
    /// The argument of a `*` width or precision.
    pub len_arg: Option<ArgId>,
    /// The length modifier: -2 `hh`, -1 `h`, 0 none, 1 `l`, 2 `ll`.
    pub ls: i32,
    /// An integer or `%s` conversion's format parsed once, when it is a single conversion
    /// (else it goes through printf each time).
    pub conv: Option<Conv>,
}

impl Piece {
    fn new(kind: PieceKind, format: Vec<u8>, arg: Option<ArgId>, len_arg: Option<ArgId>, ls: i32) -> Piece {
        let conv = if matches!(kind, PieceKind::Digit | PieceKind::String) { Conv::parse(&format) } else { None };
        Piece { kind, format, arg, len_arg, ls, conv }
    }
}

/// What a piece prints: text, or an integer, `%p` or `%s` conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PieceKind {
    Text,
    Digit,
    Pointer,
    String,
}

/// `parse_args`: splits the format into pieces and binds the arguments to conversions.
pub(super) fn parse_pieces(format: &[u8], args: &[ArgId], failed: &mut bool) -> Vec<Piece> {
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
    out.push(Piece::new(PieceKind::Text, s, None, None, 0));
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
                out.push(Piece::new(PieceKind::Pointer, format, Some(a), len_arg, ls));
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
                out.push(Piece::new(PieceKind::Digit, format, Some(a), len_arg, ls));
                *arg = rest.next();
                return ret + 1;
            }
            b's' => {
                let Some(a) = *arg else {
                    *failed = true;
                    return ret;
                };
                let format = spec(i + 1, failed, 31);
                out.push(Piece::new(PieceKind::String, format, Some(a), len_arg, 0));
                *arg = rest.next();
                return ret + 1;
            }
            c => {
                out.push(Piece::new(PieceKind::Text, vec![b'>', c, b'<'], None, None, 0));
                return ret + 1;
            }
        }
        ret += 1;
        i += 1;
    }
    ret
}
