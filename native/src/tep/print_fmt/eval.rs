//! Evaluation of a parsed print fmt against one record: numbers (`eval_num_arg`), strings and
//! the `__print_*` helpers (`print_str_arg`), `%p` extensions (`print_arg_pointer`), and the
//! raw `name=value` listing of `-R` and failed events (`tep_print_fields`).

use std::rc::Rc;

use super::fields::{Field, F_ARRAY, F_DYNAMIC, F_LONG, F_POINTER, F_RELATIVE, F_SIGNED, F_STRING};
use super::format::PieceKind;
use super::lexer::{c_isprint, c_isspace};
use super::parse::{eval_type_str, Arg, ArgId, Helper, Program};
use crate::format::bytes::Endian;
use crate::tep::cprintf::{self, Arg as C, Conv};
use crate::tep::lookups::{strtoull, Funcs, Printk};

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
        self.endian.uint_at(data, offset, size).unwrap_or(0)
    }

    /// A native (little-endian host) read, for the places libtraceevent dereferences record
    /// bytes directly instead of through tep_read_number.
    pub fn read_host(&self, data: &[u8], offset: usize, size: usize) -> u64 {
        Endian::Little.uint_at(data, offset, size).unwrap_or(0)
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

/// The `%s`-like conversion a string argument is printed through, parsed once when it can be,
/// and the value of its `*` (negative: none).
#[derive(Clone, Copy)]
pub(super) struct StrConv<'f> {
    pub(super) format: &'f [u8],
    pub(super) conv: Option<&'f Conv>,
    pub(super) len_arg: i64,
}

impl StrConv<'_> {
    /// A plain `%s`.
    pub(super) const PLAIN: StrConv<'static> = StrConv { format: b"%s", conv: None, len_arg: -1 };

    fn print(self, out: &mut Vec<u8>, s: &[u8]) {
        match (self.conv, self.len_arg >= 0) {
            (Some(c), true) => c.print_star(out, self.len_arg as u64, Some(C::Str(s))),
            (Some(c), false) => c.print(out, C::Str(s)),
            (None, true) => cprintf::printf(out, self.format, &[C::Int(self.len_arg as u64), C::Str(s)]),
            (None, false) if self.format == b"%s" => out.extend_from_slice(cprintf::cstr(s)),
            (None, false) => cprintf::printf(out, self.format, &[C::Str(s)]),
        }
    }
}

impl Eval<'_> {
    /// `eval_num_arg`.
    pub fn num(&mut self, ctx: &Ctx<'_>, data: &[u8], id: Option<ArgId>) -> u64 {
        let Some(id) = id else { return 0 };
        let arg = Rc::clone(&self.prog.arena[id]);
        match &*arg {
            Arg::Null => 0,
            Arg::Atom(a) => {
                let v = strtoull(a, 0);
                if v != 0 || a.first().is_some_and(|c| c.is_ascii_digit()) {
                    return v;
                }
                // test_for_symbol: a kernel symbol's address, then remembered as a number.
                let v = ctx.funcs.by_name(a).unwrap_or(0);
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
                eval_type_str(v, ty, false)
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
                self.string(ctx, data, StrConv::PLAIN, Some(*a), &mut s);
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
    pub(super) fn string(&mut self, ctx: &Ctx<'_>, data: &[u8], put: StrConv<'_>, id: Option<ArgId>, out: &mut Vec<u8>) {
        let Some(id) = id else { return };
        let arg = Rc::clone(&self.prog.arena[id]);
        match &*arg {
            Arg::Atom(a) => put.print(out, a),
            Arg::Field { field: Some(fi), .. } => {
                let f = &self.fields[*fi];
                if f.flags & F_ARRAY == 0 && f.size == ctx.long_size {
                    let addr = ctx.read_host(data, f.offset as usize, ctx.long_size as usize);
                    match ctx.printk.find(addr) {
                        Some(p) => out.extend_from_slice(p),
                        None => cprintf::printf(out, b"%llx", &[C::Int(addr)]),
                    }
                    return;
                }
                put.print(out, field_text(ctx, f, data));
            }
            Arg::Flags { field, delim, flags } => {
                let val = self.num(ctx, data, *field) as i64;
                print_flags(put, val, delim.as_deref(), flags, out);
            }
            Arg::Symbol { field, syms } => {
                let val = self.num(ctx, data, *field) as i64;
                match symbol_of(syms, val) {
                    Some(name) => put.print(out, name),
                    None => cprintf::printf(out, b"0x%llx", &[C::Int(val as u64)]),
                }
            }
            Arg::Hex { field, size, str } => self.print_hex(ctx, data, *field, *size, *str, out),
            Arg::IntArray { field, count, el_size } => self.print_array(ctx, data, *field, *count, *el_size, out),
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
                put.print(out, data.get(off..).unwrap_or(&[]));
            }
            Arg::BStr(s) => put.print(out, s),
            Arg::Bitmask { name, cpumask, .. } => {
                let Some(fi) = self.fields.iter().position(|f| f.name.as_bytes() == name.as_slice()) else { return };
                let (off, len) = dyn_offset(ctx, &self.fields[fi], data);
                let bytes = data.get(off..off.saturating_add(len).min(data.len())).unwrap_or(&[]);
                let text = if *cpumask { cpumask_text(bytes, ctx.endian) } else { bitmask_text(bytes, ctx.endian) };
                put.print(out, &text);
            }
            Arg::Op { op, left, right, .. } => {
                if op.first() != Some(&b'?') {
                    return;
                }
                let v = self.num(ctx, data, *left);
                let Some(Arg::Op { left: a, right: b, .. }) = right.map(|r| Arg::clone(&self.prog.arena[r])) else { return };
                self.string(ctx, data, put, if v != 0 { a } else { b }, out);
            }
            Arg::Func { .. } => {
                self.call(ctx, data, id, out);
            }
            _ => {}
        }
    }

    /// `__print_hex` (bytes apart) and `__print_hex_str` (bytes together).
    fn print_hex(&mut self, ctx: &Ctx<'_>, data: &[u8], field: Option<ArgId>, size: Option<ArgId>, str: bool, out: &mut Vec<u8>) {
        let Some(start) = self.array_start(ctx, data, field) else { return };
        let len = self.num(ctx, data, size) as u32 as usize;
        for i in 0..len {
            if i != 0 && !str {
                out.push(b' ');
            }
            let b = data.get(start + i).copied().unwrap_or(0);
            cprintf::printf(out, b"%02x", &[C::Int(b as u64)]);
        }
    }

    /// `__print_array`: `count` numbers of `el_size` bytes, in host order as libtraceevent
    /// reads them.
    fn print_array(&mut self, ctx: &Ctx<'_>, data: &[u8], field: Option<ArgId>, count: Option<ArgId>, el_size: Option<ArgId>, out: &mut Vec<u8>) {
        let Some(mut at) = self.array_start(ctx, data, field) else { return };
        let len = self.num(ctx, data, count) as u32 as usize;
        let mut el = self.num(ctx, data, el_size) as i32;
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
                match (&p.conv, len_arg) {
                    (Some(c), Some(l)) => c.print_star(out, l as u64, Some(C::Int(v))),
                    (Some(c), None) => c.print(out, C::Int(v)),
                    (None, Some(l)) => cprintf::printf(out, &p.format, &[C::Int(l as u64), C::Int(v)]),
                    (None, None) => cprintf::printf(out, &p.format, &[C::Int(v)]),
                }
            }
            PieceKind::Pointer => self.pointer(ctx, data, &p.format, len_arg.unwrap_or(1), p.arg, out),
            PieceKind::String => {
                // The piece's text ends at its first NUL (written in place, then cut).
                let start = out.len();
                let put = StrConv { format: &p.format, conv: p.conv.as_ref(), len_arg: len_arg.unwrap_or(-1) };
                self.string(ctx, data, put, p.arg, out);
                if let Some(n) = out.get(start..).and_then(|s| s.iter().position(|&b| b == 0)) {
                    out.truncate(start + n);
                }
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
            b'M' | b'm' => self.mac(data, c0, c1, id, out),
            b'I' | b'i' => self.ip(ctx, data, after, id, out),
            b'U' => self.uuid(data, c1, id, out),
            b'h' => self.hex_dump(ctx, data, c1, plen, id, out),
            _ => {
                let v = self.num(ctx, data, Some(id));
                cprintf::printf(out, b"%p", &[C::Int(v)]);
            }
        }
    }

    /// `%pM`/`%pMR`/`%pMF`/`%pm`: a 6-byte field as a MAC address.
    fn mac(&self, data: &[u8], c0: u8, c1: u8, id: ArgId, out: &mut Vec<u8>) {
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

    /// `%pU` with `c1` one of `L`, `l` (GUID byte order), `B`, `b`: a 16-byte field as a UUID.
    fn uuid(&self, data: &[u8], c1: u8, id: ArgId, out: &mut Vec<u8>) {
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
        for (i, &g) in GUID.iter().enumerate() {
            let j = if guid { g } else { i };
            let b = data.get(f.offset as usize + j).copied().unwrap_or(0);
            cprintf::printf(out, if upper { b"%02X" } else { b"%02x" }, &[C::Int(b as u64)]);
            if matches!(i, 3 | 5 | 7 | 9) {
                out.push(b'-');
            }
        }
    }

    /// `%ph` (`%phC`, `%phD`, `%phN`: other separators): up to `plen` bytes of a dynamic array
    /// in hex.
    fn hex_dump(&mut self, ctx: &Ctx<'_>, data: &[u8], c1: u8, plen: i64, id: ArgId, out: &mut Vec<u8>) {
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
    pub(super) fn field_of(&self, mut id: ArgId) -> Option<usize> {
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
            let (off, bytes) = array_bytes(ctx, &f, data);
            if f.flags & F_STRING != 0 && printable(&bytes) {
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

/// A field's bytes as `%s` reads them: its size, or for a field of size 0 (`char buf;` of
/// old kernels' print event) the rest of the record.
pub(super) fn field_text<'d>(ctx: &Ctx<'_>, f: &Field, data: &'d [u8]) -> &'d [u8] {
    let (off, size) = (f.offset as usize, f.size as usize);
    let len = if size != 0 { size } else { ctx.size.saturating_sub(off) };
    let end = off.saturating_add(len).min(data.len());
    data.get(off..end).unwrap_or(&[])
}

/// An array field's offset and bytes (zeros past the data), as `print_field_raw` reads them.
pub(super) fn array_bytes(ctx: &Ctx<'_>, f: &Field, data: &[u8]) -> (usize, Vec<u8>) {
    let (off, len) = if f.flags & F_DYNAMIC != 0 { dyn_offset(ctx, f, data) } else { (f.offset as usize, f.size as usize) };
    (off, (0..len).map(|i| data.get(off + i).copied().unwrap_or(0)).collect())
}

/// Whether a char array prints as a string: every byte before its NUL printable or space.
pub(super) fn printable(bytes: &[u8]) -> bool {
    bytes.iter().take_while(|&&b| b != 0).all(|&b| {
        let c = b as i8 as i32;
        c_isprint(c) || c_isspace(c)
    })
}

/// The name `__print_symbolic` gives `val`, if its table has one.
pub(super) fn symbol_of(syms: &[(i64, Vec<u8>)], val: i64) -> Option<&[u8]> {
    syms.iter().find(|(v, _)| *v == val).map(|(_, name)| name.as_slice())
}

/// `__print_flags`: the names of the flags set in `val` joined by `delim`, then what is left
/// in hex.
pub(super) fn print_flags(put: StrConv<'_>, mut val: i64, delim: Option<&[u8]>, flags: &[(i64, Vec<u8>)], out: &mut Vec<u8>) {
    let mut printed = false;
    for (value, name) in flags {
        let fval = *value;
        if val == 0 && fval < 0 {
            put.print(out, name);
            break;
        }
        if fval > 0 && (val & fval) == fval {
            if printed {
                if let Some(d) = delim {
                    out.extend_from_slice(d);
                }
            }
            put.print(out, name);
            printed = true;
            val &= !fval;
        }
    }
    if val != 0 {
        if printed {
            if let Some(d) = delim {
                out.extend_from_slice(d);
            }
        }
        cprintf::printf(out, b"0x%llx", &[C::Int(val as u64)]);
    }
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
    for (i, zeros) in zerolength.iter_mut().enumerate().take(range) {
        *zeros = (i..range).take_while(|&j| word(j) == 0).count() as u8;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmasks() {
        assert_eq!(bitmask_text(&[0x0f, 0, 0, 0, 1, 0, 0, 0], Endian::Little), b"00000001,0000000f");
        assert_eq!(cpumask_text(&[0x0f, 1], Endian::Little), b"0-3,8");
    }
}
