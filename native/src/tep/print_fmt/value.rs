//! An event's fields as typed values for machine output (`report --format json|csv`, the
//! events API): the same reads `-R` prints (`print_field_raw`: char arrays as strings when
//! printable, other arrays, numbers in the file's byte order with their sign), a field the
//! print fmt shows through `__print_symbolic` or `__print_flags` by the name it shows, and a
//! field of size 0 that its `%s` prints as that text.

use super::eval::{array_bytes, dyn_offset, field_text, print_flags, printable, symbol_of, StrConv};
use super::fields::{F_ARRAY, F_DYNAMIC, F_SIGNED, F_STRING};
use super::format::PieceKind;
use super::parse::{Arg, ArgId};
use super::{Ctx, Eval};
use crate::tep::cprintf;

/// One field's value (its text borrowed from the record: no copy per record).
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'d> {
    /// An integer, signed fields sign-extended from their size.
    Int(i128),
    /// A printable char array up to its NUL (or the text of a field of size 0).
    Str(&'d [u8]),
    /// Any other array: its elements when they are 1, 2, 4 or 8 bytes wide, else its bytes.
    Array(Vec<i128>),
    /// The name a symbol table gives the field's value (or `__print_flags`' names of its bits).
    Name(Vec<u8>),
}

/// How a field's value is shown instead of as its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Through this symbol table argument.
    Named(ArgId),
    /// As text (a field of size 0 that a `%s` prints).
    Text,
}

/// Sign-extends the low `size` bytes of `v` when `signed`.
fn int(v: u64, size: u32, signed: bool) -> i128 {
    match (signed, size) {
        (true, 1) => v as u8 as i8 as i128,
        (true, 2) => v as u16 as i16 as i128,
        (true, 4) => v as u32 as i32 as i128,
        (true, _) => v as i64 as i128,
        (false, _) => v as i128,
    }
}

impl Eval<'_> {
    /// How the print fmt shows each field of the event, where machine output follows it: by a
    /// `__print_symbolic` or `__print_flags` table naming the field directly (through casts),
    /// or, for a field of size 0, as the text a `%s` of it prints. Computed once per event.
    pub fn views(&self) -> Vec<Option<View>> {
        let mut out = vec![None; self.fields.len()];
        for p in self.prog.pieces.iter() {
            let Some(id) = p.arg else { continue };
            let view = match &*self.prog.arena[id] {
                Arg::Symbol { field: Some(f), .. } | Arg::Flags { field: Some(f), .. } => self.field_of(*f).map(|fi| (fi, View::Named(id))),
                Arg::Field { field: Some(fi) } if p.kind == PieceKind::String && self.fields[*fi].size == 0 => Some((*fi, View::Text)),
                _ => None,
            };
            if let Some((fi, v)) = view {
                if let Some(slot) = out.get_mut(fi) {
                    slot.get_or_insert(v);
                }
            }
        }
        out
    }

    /// Field `fi` of a record, shown as `view` (from [`Eval::views`]) says: a value a table
    /// does not name stays a number.
    pub fn value<'d>(&mut self, ctx: &Ctx<'_>, data: &'d [u8], fi: usize, view: Option<View>) -> Value<'d> {
        let f = &self.fields[fi];
        let (size, signed) = (f.size, f.flags & F_SIGNED != 0);
        if f.flags & F_ARRAY != 0 {
            if f.flags & F_STRING != 0 {
                // (array_bytes' zeros past the data end the string as the data's end does.)
                let (off, len) = if f.flags & F_DYNAMIC != 0 { dyn_offset(ctx, f, data) } else { (f.offset as usize, f.size as usize) };
                if printable(data.get(off..off.saturating_add(len).min(data.len())).unwrap_or(&[])) {
                    return Value::Str(cprintf::cstr(data.get(off..).unwrap_or(&[])));
                }
            }
            let (_, bytes) = array_bytes(ctx, f, data);
            let es = f.elementsize as usize;
            return Value::Array(if matches!(es, 1 | 2 | 4 | 8) && bytes.len() % es == 0 {
                bytes.chunks(es).map(|c| int(ctx.read(c, 0, es), es as u32, signed)).collect()
            } else {
                bytes.iter().map(|&b| b as i128).collect()
            });
        }
        let v = ctx.read(data, f.offset as usize, f.size as usize);
        match view {
            // No bytes of its own: the text from its offset on.
            Some(View::Text) => return Value::Str(cprintf::cstr(field_text(ctx, f, data))),
            Some(View::Named(id)) => {
                if let Some(name) = self.name(ctx, data, id) {
                    return Value::Name(name);
                }
            }
            None => {}
        }
        Value::Int(int(v, size, signed))
    }

    /// What a symbol argument prints for the record, when it names the value: a symbol's name,
    /// or `__print_flags`' text when every set bit has a name.
    fn name(&mut self, ctx: &Ctx<'_>, data: &[u8], id: ArgId) -> Option<Vec<u8>> {
        let arg = std::rc::Rc::clone(&self.prog.arena[id]);
        match &*arg {
            Arg::Symbol { field, syms } => {
                let val = self.num(ctx, data, *field) as i64;
                symbol_of(syms, val).map(<[u8]>::to_vec)
            }
            Arg::Flags { field, delim, flags } => {
                let val = self.num(ctx, data, *field) as i64;
                let mut out = Vec::new();
                print_flags(StrConv::PLAIN, val, delim.as_deref(), flags, &mut out);
                // A remainder no flag names prints in hex: the value stays a number.
                (!out.is_empty() && !out.windows(2).any(|w| w == b"0x")).then_some(out)
            }
            _ => None,
        }
    }
}
