//! C `printf` for the handful of conversions trace output uses, with glibc's results.
//!
//! libtraceevent builds its output by handing format fragments taken from a kernel print fmt
//! (`"%-5d"`, `"%#llx"`, `"%.*s"`) straight to `trace_seq_printf`, so matching trace-cmd byte
//! for byte means reproducing glibc's `vsnprintf` for whatever flags, width, precision and
//! length modifier a kernel author wrote. Arguments are passed as they are in C after the
//! default promotions: integers as 64-bit patterns (the conversion's length modifier picks
//! the bits it reads, as va_arg does), strings as bytes ending at the first NUL.

/// The widest number [`Conv::padded`] lays out in place (sign, digits and padding): any u64
/// with room to pad, the `%16s`-sized fields of a trace line.
const WINDOW: usize = 32;

/// The widest padding one conversion prints (width, or precision zeros). glibc pads to any
/// width up to INT_MAX; widths that large come only from damaged or hostile files (a `%*s`
/// width or a print fmt's `%2147483647d`), where they would make one line of gigabytes. Real
/// trace output never comes near it.
pub const MAX_PAD: usize = 1 << 16;

/// One argument as `va_arg` would see it.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// Any integer or pointer, sign- or zero-extended to 64 bits by the caller.
    Int(u64),
    /// A C string; only the bytes before the first NUL count.
    Str(&'a [u8]),
}

impl Arg<'_> {
    fn int(&self) -> u64 {
        match *self {
            Arg::Int(v) => v,
            // A string passed where an int is read: C reads the pointer; nothing sane to print.
            Arg::Str(_) => 0,
        }
    }
}

/// Bytes of `s` up to the first NUL.
pub fn cstr(s: &[u8]) -> &[u8] {
    s.iter().position(|&b| b == 0).map_or(s, |n| &s[..n])
}

/// Appends `fmt` formatted with `args` to `out`. Missing arguments read as 0 / "".
pub fn printf(out: &mut Vec<u8>, fmt: &[u8], args: &[Arg<'_>]) {
    let mut next = args.iter();
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            let end = fmt[i..].iter().position(|&b| b == b'%').map_or(fmt.len(), |n| i + n);
            out.extend_from_slice(&fmt[i..end]);
            i = end;
            continue;
        }
        i += 1;
        let (mut spec, stars) = Spec::parse(fmt, &mut i);
        // A `*` takes the next argument, the width's before the precision's.
        if stars.width {
            spec.star_width(next.next().map_or(0, Arg::int));
        }
        if stars.prec {
            spec.star_prec(next.next().map_or(0, Arg::int));
        }
        // A format ending inside a conversion prints nothing more.
        let Some(&conv) = fmt.get(i) else { break };
        i += 1;
        // `%%` and unknown conversions take no argument.
        let arg = if matches!(conv, b'd' | b'i' | b'u' | b'x' | b'X' | b'o' | b'c' | b's' | b'p') { next.next() } else { None };
        spec.convert(out, conv, arg);
    }
}

/// Which of a conversion's width and precision are `*` (read from the arguments).
#[derive(Clone, Copy, Debug, Default)]
struct Stars {
    width: bool,
    prec: bool,
}

/// One conversion parsed once, for a caller that prints the same fragment for every record:
/// the bytes `printf` prints for that fragment, without reading it again each time.
#[derive(Clone, Copy, Debug)]
pub struct Conv {
    spec: Spec,
    conv: u8,
    /// A `*` width or precision (at most one), taken from the argument before the value.
    star: Option<Star>,
    plain: Plain,
}

/// A conversion whose flags leave only digits or text padded to the width (most of a trace's):
/// printed without printf's general path, with the same bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plain {
    No,
    /// `%d`/`%i` without `+`, ` ` or a precision.
    Signed,
    /// `%u` without a precision.
    Unsigned,
    /// `%x` without `#` or a precision.
    Hex,
    /// `%s` without a precision.
    Str,
}

/// Which part of a conversion a `*` gives.
#[derive(Clone, Copy, Debug)]
enum Star {
    Width,
    Prec,
}

impl Conv {
    /// `fmt` when it is exactly one conversion with at most one `*` (else None).
    pub fn parse(fmt: &[u8]) -> Option<Conv> {
        let mut i = 1;
        let (spec, stars) = Spec::parse(fmt, &mut i);
        let star = match (stars.width, stars.prec) {
            (false, false) => None,
            (true, false) => Some(Star::Width),
            (false, true) => Some(Star::Prec),
            (true, true) => return None,
        };
        let &conv = fmt.get(i).filter(|_| fmt.first() == Some(&b'%') && i + 1 == fmt.len())?;
        let plain = match conv {
            _ if star.is_some() || spec.prec.is_some() => Plain::No,
            b'd' | b'i' if !spec.plus && !spec.space => Plain::Signed,
            b'u' => Plain::Unsigned,
            b'x' if !spec.alt => Plain::Hex,
            b's' => Plain::Str,
            _ => Plain::No,
        };
        Some(Conv { spec, conv, star, plain })
    }

    /// Prints `arg` as `printf(fmt, arg)` would.
    pub fn print(&self, out: &mut Vec<u8>, arg: Arg<'_>) {
        let spec = &self.spec;
        match (self.plain, arg) {
            (Plain::Signed, Arg::Int(v)) => {
                let v = sign_extend(v, spec.bits);
                self.padded(out, v < 0, v.unsigned_abs(), false);
            }
            (Plain::Unsigned, Arg::Int(v)) => self.padded(out, false, truncate(v, spec.bits), false),
            (Plain::Hex, Arg::Int(v)) => self.padded(out, false, truncate(v, spec.bits), true),
            (Plain::Str, Arg::Str(s)) => spec.pad(out, cstr(s)),
            _ => match self.star {
                None => spec.convert(out, self.conv, Some(&arg)),
                // The `*` takes the argument and the conversion finds none.
                Some(_) => self.print_star(out, arg.int(), None),
            },
        }
    }

    /// A plain number: its `-` if `neg`, then `v` in decimal or hex, padded to the width with
    /// spaces (after it with `-`) or zeros (`0`, after the sign), as [`Spec::number`] pads it.
    fn padded(&self, out: &mut Vec<u8>, neg: bool, v: u64, hex: bool) {
        number(out, neg, v, hex, self.spec.width, self.spec.left, self.spec.zero);
    }

    /// Prints `arg` as `printf(fmt, star, arg)` would (`star`, an int, given to the `*`).
    pub fn print_star(&self, out: &mut Vec<u8>, star: u64, arg: Option<Arg<'_>>) {
        let mut spec = self.spec;
        match self.star {
            Some(Star::Width) => spec.star_width(star),
            Some(Star::Prec) => spec.star_prec(star),
            // No `*`: printf converts the first argument and ignores the rest.
            None => return spec.convert(out, self.conv, Some(&Arg::Int(star))),
        }
        spec.convert(out, self.conv, arg.as_ref());
    }
}

/// `printf("%lld", v)`: for the callers that print one fixed conversion of a trace line
/// (`%d` and `%ld` too, given a value sign-extended from their bits), without a [`Conv`] to
/// read: inlined with its constant flags, it is the few instructions the digits need.
#[inline]
pub fn put_signed(out: &mut Vec<u8>, v: i64) {
    number(out, v < 0, v.unsigned_abs(), false, 0, false, false);
}

/// `printf("%-Nlld", v)` (left-aligned in `width`), as [`put_signed`].
#[inline]
pub fn put_signed_left(out: &mut Vec<u8>, v: i64, width: usize) {
    number(out, v < 0, v.unsigned_abs(), false, width, true, false);
}

/// `printf("%Nllu", v)`, or `printf("%0Nllu", v)` with `zero`, as [`put_signed`]. A negative
/// `%0Nd` (of a value sign-extended) is `put_zero_signed`'s.
#[inline]
pub fn put_unsigned(out: &mut Vec<u8>, v: u64, width: usize, zero: bool) {
    number(out, false, v, false, width, false, zero);
}

/// `printf("%0Nd", v)`, as [`put_signed`].
#[inline]
pub fn put_zero_signed(out: &mut Vec<u8>, v: i64, width: usize) {
    number(out, v < 0, v.unsigned_abs(), false, width, false, true);
}

/// `printf("%Ns", s)` (`%-Ns` with `left`): `s` up to its first NUL, padded with spaces.
#[inline]
pub fn put_str(out: &mut Vec<u8>, s: &[u8], width: usize, left: bool) {
    pad_text(out, cstr(s), width, left);
}

/// Text padded with spaces to `width`, on the left unless `left`.
#[inline(always)]
fn pad_text(out: &mut Vec<u8>, s: &[u8], width: usize, left: bool) {
    let fill = width.saturating_sub(s.len());
    if fill > 0 && !left {
        repeat(out, b' ', fill);
    }
    out.extend_from_slice(s);
    if fill > 0 && left {
        repeat(out, b' ', fill);
    }
}

/// A plain number: its `-` if `neg`, then `v` in decimal or hex, padded to `width` with
/// spaces (after it when `left`) or zeros (`zero`, after the sign), as [`Spec::number`] pads.
///
/// The whole conversion is laid out in one window of [`WINDOW`] bytes appended to `out`
/// (filled with the padding byte, a copy of constant size), written in place and cut to
/// its length: one growth check per number instead of one per part, and no memset or
/// memcpy call. Writing the digits to a stack buffer and copying them out was rejected:
/// the copy's length varies, which makes it a libc call per number.
#[inline(always)]
fn number(out: &mut Vec<u8>, neg: bool, v: u64, hex: bool, width: usize, left: bool, zero: bool) {
    let n = if hex { hex_len(v) } else { dec_len(v) };
    let body = n + usize::from(neg);
    let total = body.max(width);
    if total > WINDOW {
        return number_wide(out, neg, v, hex, width, left, zero, n);
    }
    let at = out.len();
    out.extend_from_slice(&[if zero && !left { b'0' } else { b' ' }; WINDOW]);
    if let Some(w) = out.get_mut(at..at + WINDOW) {
        // The sign first unless spaces come before it; the digits last unless spaces
        // follow them.
        let sign_at = if left || zero { 0 } else { total - body };
        let end = if left { body } else { total };
        if neg {
            if let Some(c) = w.get_mut(sign_at) {
                *c = b'-';
            }
        }
        if let Some(d) = w.get_mut(end - n..end) {
            if hex {
                hex_into(d, v);
            } else {
                dec_into(d, v);
            }
        }
    }
    out.truncate(at + total);
}

/// [`number`] for a width past its window (`n` digits).
#[allow(clippy::too_many_arguments)]
#[cold]
fn number_wide(out: &mut Vec<u8>, neg: bool, v: u64, hex: bool, width: usize, left: bool, zero: bool, n: usize) {
    let fill = width.saturating_sub(n + usize::from(neg));
    if !left && !zero {
        out.resize(out.len() + fill, b' ');
    }
    if neg {
        out.push(b'-');
    }
    if !left && zero {
        out.resize(out.len() + fill, b'0');
    }
    let at = out.len();
    out.resize(at + n, 0);
    if let Some(d) = out.get_mut(at..) {
        if hex {
            hex_into(d, v);
        } else {
            dec_into(d, v);
        }
    }
    if left {
        out.resize(out.len() + fill, b' ');
    }
}

/// One conversion's flags, width, precision and length modifier.
#[derive(Clone, Copy, Debug, Default)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    width: usize,
    prec: Option<usize>,
    /// The length modifier, as the bits an integer conversion reads (32 without one).
    bits: u32,
}

impl Spec {
    /// Reads what follows a `%` up to the conversion character, at `fmt[*i]` on return; which
    /// of the width and precision are `*` comes with it (see [`Spec::star_width`]).
    fn parse(fmt: &[u8], i: &mut usize) -> (Spec, Stars) {
        let mut spec = Spec { bits: 32, ..Spec::default() };
        let mut stars = Stars::default();
        while let Some(&f) = fmt.get(*i) {
            match f {
                b'-' => spec.left = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b'#' => spec.alt = true,
                b'0' => spec.zero = true,
                b'\'' => {}
                _ => break,
            }
            *i += 1;
        }
        if fmt.get(*i) == Some(&b'*') {
            *i += 1;
            stars.width = true;
        } else {
            spec.width = decimal(fmt, i).min(MAX_PAD);
        }
        if fmt.get(*i) == Some(&b'.') {
            *i += 1;
            if fmt.get(*i) == Some(&b'*') {
                *i += 1;
                stars.prec = true;
            } else {
                spec.prec = Some(decimal(fmt, i));
            }
        }
        let mut hh = 0;
        while let Some(&l) = fmt.get(*i) {
            match l {
                b'h' => {
                    hh += 1;
                    spec.bits = if hh >= 2 { 8 } else { 16 };
                }
                b'l' | b'L' | b'q' | b'j' | b'z' | b'Z' | b't' => spec.bits = 64,
                _ => break,
            }
            *i += 1;
        }
        (spec, stars)
    }

    /// A `*` width given `w` (an int): negative means `-` and its magnitude.
    fn star_width(&mut self, w: u64) {
        let w = w as i32;
        if w < 0 {
            self.left = true;
        }
        self.width = (w.unsigned_abs() as usize).min(MAX_PAD);
    }

    /// A `*` precision given `p` (an int): negative means none.
    fn star_prec(&mut self, p: u64) {
        let p = p as i32;
        self.prec = (p >= 0).then_some(p as usize);
    }

    /// Prints conversion `conv` of `arg` (None: missing, read as 0 or NULL).
    fn convert(mut self, out: &mut Vec<u8>, conv: u8, arg: Option<&Arg<'_>>) {
        let int = || arg.map_or(0, Arg::int);
        match conv {
            b'%' => out.push(b'%'),
            b'd' | b'i' => self.signed(out, int()),
            b'u' | b'x' | b'X' | b'o' => self.unsigned(out, conv, int()),
            b'c' => self.pad(out, &[int() as u8]),
            b's' => self.string(out, arg),
            b'p' => {
                let v = int();
                if v == 0 {
                    self.prec = None;
                    self.pad(out, b"(nil)");
                } else {
                    self.alt = true;
                    self.number(out, b"", Digits::new(v, 16, false).get(), b"0x");
                }
            }
            _ => {
                // Unknown conversion: glibc prints the spec back verbatim.
                out.push(b'%');
                out.push(conv);
            }
        }
    }

    /// `%d`/`%i`: the argument's low `bits` as a signed number.
    fn signed(&self, out: &mut Vec<u8>, v: u64) {
        let v = sign_extend(v, self.bits);
        let (neg, mag) = if v < 0 { (true, v.unsigned_abs()) } else { (false, v as u64) };
        let sign: &[u8] = if neg {
            b"-"
        } else if self.plus {
            b"+"
        } else if self.space {
            b" "
        } else {
            b""
        };
        self.number(out, sign, Digits::new(mag, 10, false).get(), b"");
    }

    /// `%u`, `%x`, `%X`, `%o`: the argument's low `bits` unsigned, with `#`'s prefix.
    fn unsigned(&self, out: &mut Vec<u8>, conv: u8, v: u64) {
        let v = truncate(v, self.bits);
        let (base, upper) = match conv {
            b'u' => (10, false),
            b'o' => (8, false),
            b'x' => (16, false),
            _ => (16, true),
        };
        let mut d = Digits::new(v, base, upper);
        let mut prefix: &[u8] = b"";
        if self.alt && v != 0 && base == 16 {
            prefix = if upper { b"0X" } else { b"0x" };
        }
        if self.alt && base == 8 {
            // "#o" guarantees a leading 0, counted inside the precision; 0 is "0" already.
            let shown = if self.prec == Some(0) && v == 0 { 0 } else { d.get().len() };
            if v != 0 && self.prec.is_none_or(|p| p <= shown) && d.get()[0] != b'0' {
                d.prepend_zero();
            }
        }
        self.number(out, b"", d.get(), prefix);
    }

    /// `%s`: a string cut to the precision; anything else prints as `(null)`.
    fn string(&self, out: &mut Vec<u8>, arg: Option<&Arg<'_>>) {
        let s = match arg {
            Some(Arg::Str(s)) => cstr(s),
            _ => b"(null)",
        };
        let s = match self.prec {
            Some(p) if p < s.len() => &s[..p],
            _ => s,
        };
        self.pad(out, s);
    }

    /// Text padded with spaces to the width, on the left unless `-`.
    fn pad(&self, out: &mut Vec<u8>, s: &[u8]) {
        pad_text(out, s, self.width, self.left);
    }

    /// A number: sign or prefix, precision zeros, digits, padded to the width.
    fn number(&self, out: &mut Vec<u8>, sign: &[u8], d: &[u8], prefix: &[u8]) {
        // Most numbers of a trace: nothing but the digits.
        if self.prec.is_none() && sign.is_empty() && prefix.is_empty() && self.width <= d.len() {
            out.extend_from_slice(d);
            return;
        }
        let d: &[u8] = if self.prec == Some(0) && d == b"0" { b"" } else { d };
        let zeros = self.prec.map_or(0, |p| p.saturating_sub(d.len()).min(MAX_PAD));
        let body = sign.len() + prefix.len() + zeros + d.len();
        let fill = self.width.saturating_sub(body);
        let zero_pad = self.zero && !self.left && self.prec.is_none();
        if !self.left && !zero_pad {
            out.resize(out.len() + fill, b' ');
        }
        out.extend_from_slice(sign);
        out.extend_from_slice(prefix);
        if zero_pad {
            out.resize(out.len() + fill, b'0');
        }
        out.resize(out.len() + zeros, b'0');
        out.extend_from_slice(d);
        if self.left {
            out.resize(out.len() + fill, b' ');
        }
    }
}

/// The decimal number at `fmt[*i]` (0 when there is none), saturating.
fn decimal(fmt: &[u8], i: &mut usize) -> usize {
    let mut n = 0usize;
    while let Some(d) = fmt.get(*i).filter(|d| d.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add((d - b'0') as usize);
        *i += 1;
    }
    n
}

fn sign_extend(v: u64, bits: u32) -> i64 {
    match bits {
        8 => v as u8 as i8 as i64,
        16 => v as u16 as i16 as i64,
        32 => v as u32 as i32 as i64,
        _ => v as i64,
    }
}

fn truncate(v: u64, bits: u32) -> u64 {
    match bits {
        8 => v & 0xff,
        16 => v & 0xffff,
        32 => v & 0xffff_ffff,
        _ => v,
    }
}

/// The digits of `v` in `base`, on the stack: no allocation per number printed.
struct Digits {
    /// The digits at `buf[start..]`, with room before them for one more (`#o`'s leading 0).
    buf: [u8; 24],
    start: usize,
}

/// "00" to "99": decimal digits two at a time (a division by 100 for two digits).
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

impl Digits {
    /// `v` in base 10, 16 or 8 (any other base reads as 8).
    fn new(mut v: u64, base: u64, upper: bool) -> Digits {
        if base == 10 {
            return Digits::dec(v);
        }
        let mut d = Digits { buf: [0; 24], start: 24 };
        let set: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
        let (shift, mask) = if base == 16 { (4, 15) } else { (3, 7) };
        loop {
            d.start -= 1;
            d.buf[d.start] = set[(v & mask) as usize];
            v >>= shift;
            if v == 0 {
                break d;
            }
        }
    }

    /// `v` in decimal.
    fn dec(v: u64) -> Digits {
        let mut d = Digits { buf: [0; 24], start: 24 - dec_len(v) };
        dec_into(&mut d.buf[d.start..], v);
        d
    }

    fn get(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Puts a `0` before the digits (at most 22 octal digits of a u64 leave room for it).
    fn prepend_zero(&mut self) {
        self.start -= 1;
        self.buf[self.start] = b'0';
    }
}

/// `n` copies of `byte` (a copy of constant size for the short runs of padding).
fn repeat(out: &mut Vec<u8>, byte: u8, n: usize) {
    if n <= 16 {
        let at = out.len();
        out.extend_from_slice(&[byte; 16]);
        out.truncate(at + n);
    } else {
        out.resize(out.len() + n, byte);
    }
}

/// How many decimal digits `v` has: the digits of its highest bit's power of two (bits *
/// log10(2), as 1233 / 4096), plus one when `v` reaches the next power of ten. A few
/// instructions, where `checked_ilog10`'s chain of comparisons was a tenth of a report's
/// formatting.
fn dec_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    let t = (bits * 1233) >> 12;
    t + usize::from(POW10.get(t).is_some_and(|&p| v | 1 >= p))
}

/// 10^0 to 10^19.
const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// How many hex digits `v` has.
fn hex_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(4)
}

/// `v` in decimal into all of `d` (`dec_len(v)` bytes), four digits per division by a
/// constant (which the compiler turns into a multiplication) and two per table lookup.
fn dec_into(d: &mut [u8], mut v: u64) {
    let mut i = d.len();
    let pair = |d: &mut [u8], i: &mut usize, p: usize| {
        if let (Some(j), Some(two)) = (i.checked_sub(2), PAIRS.get(2 * p..2 * p + 2)) {
            if let Some(at) = d.get_mut(j..j + 2) {
                at.copy_from_slice(two);
            }
            *i = j;
        }
    };
    while v >= 10_000 {
        let r = (v % 10_000) as usize;
        v /= 10_000;
        pair(d, &mut i, r % 100);
        pair(d, &mut i, r / 100);
    }
    let mut v = v as usize;
    if v >= 100 {
        pair(d, &mut i, v % 100);
        v /= 100;
    }
    if v >= 10 {
        pair(d, &mut i, v);
    } else if let Some(first) = d.first_mut() {
        *first = b'0' + v as u8;
    }
}

/// `v` in lowercase hex into all of `d` (`hex_len(v)` bytes).
fn hex_into(d: &mut [u8], mut v: u64) {
    for c in d.iter_mut().rev() {
        *c = b"0123456789abcdef"[(v & 15) as usize];
        v >>= 4;
    }
}

/// `printf` into a new Vec.
#[cfg(test)]
pub fn sprintf(fmt: &str, args: &[Arg<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    printf(&mut out, fmt.as_bytes(), args);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(fmt: &str, args: &[Arg<'_>]) -> String {
        String::from_utf8(sprintf(fmt, args)).unwrap()
    }

    #[test]
    fn integers_like_glibc() {
        let n = |v: i64| Arg::Int(v as u64);
        assert_eq!(p("%d|%5d|%-5d|%05d", &[n(-3), n(42), n(42), n(-42)]), "-3|   42|42   |-0042");
        assert_eq!(p("%03d", &[n(1)]), "001");
        assert_eq!(p("%u %x %X %o", &[n(-1), n(255), n(255), n(8)]), "4294967295 ff FF 10");
        assert_eq!(p("%lu %llx %lld", &[n(-1), n(-1), n(-1)]), "18446744073709551615 ffffffffffffffff -1");
        assert_eq!(p("%#x %#x %#o %#o", &[n(0), n(26), n(0), n(8)]), "0 0x1a 0 010");
        assert_eq!(p("%.3d|%8.3x|%.0d|%+d|% d", &[n(7), n(255), n(0), n(5), n(5)]), "007|     0ff||+5| 5");
        assert_eq!(p("%hhx %hd %hhd", &[n(0x1ff), n(0x18000), n(0xff)]), "ff -32768 -1");
        assert_eq!(p("%*d|%-*d|%.*d", &[n(4), n(1), n(3), n(2), n(3), n(9)]), "   1|2  |009");
        assert_eq!(p("%#08x|%08.3x", &[n(255), n(255)]), "0x0000ff|     0ff");
        // `%%` and an unknown conversion take no argument.
        assert_eq!(p("%d%%%y%d", &[n(1), n(2)]), "1%%y2");
        for v in [0u64, 7, 9, 10, 42, 99, 100, 101, 999, 1000, 12345, 4294967295, 10_000_000_000_000_000_000, u64::MAX] {
            assert_eq!(p("%llu", &[Arg::Int(v)]), v.to_string());
            assert_eq!(p("%llx|%llo", &[Arg::Int(v), Arg::Int(v)]), format!("{v:x}|{v:o}"));
        }
    }

    #[test]
    fn digit_counts() {
        for p in 0..20u32 {
            for v in [10u64.pow(p) - 1, 10u64.pow(p), 10u64.pow(p) + 1, 10u64.pow(p).saturating_mul(5)] {
                assert_eq!(dec_len(v), v.to_string().len(), "{v}");
            }
        }
        assert_eq!(dec_len(u64::MAX), 20);
    }

    #[test]
    fn strings_chars_pointers() {
        assert_eq!(
            p("%s|%5s|%-5s|%.2s|%.*s", &[Arg::Str(b"ab\0cd"), Arg::Str(b"x"), Arg::Str(b"y"), Arg::Str(b"hello"), Arg::Int(3), Arg::Str(b"world")]),
            "ab|    x|y    |he|wor"
        );
        assert_eq!(p("%c%c|%p|%p|100%%", &[Arg::Int(65), Arg::Int(0x142), Arg::Int(0), Arg::Int(0xffff1234)]), "AB|(nil)|0xffff1234|100%");
        assert_eq!(p("%16s-%-5d [%03d]", &[Arg::Str(b"bash"), Arg::Int(3195), Arg::Int(1)]), "            bash-3195  [001]");
    }

    #[test]
    fn a_conversion_parsed_once_prints_as_printf() {
        for (f, arg) in [
            ("%16s", Arg::Str(b"bash\0x")),
            ("%-5d", Arg::Int(-3i64 as u64)),
            ("%03d", Arg::Int(7)),
            ("%5llu", Arg::Int(123_456)),
            ("%#llx", Arg::Int(255)),
            ("%.2s", Arg::Str(b"abc")),
        ] {
            let mut out = Vec::new();
            Conv::parse(f.as_bytes()).unwrap().print(&mut out, arg);
            assert_eq!(out, sprintf(f, &[arg]), "{f}");
        }
        // The plain shortcuts (and their neighbours that take printf's path) against printf.
        let ints = [0i64, 1, -1, 7, 42, -42, 99, 100, 123_456, -123_456, 4_294_967_295, i64::MIN, i64::MAX];
        for f in [
            "%d", "%5d", "%-5d", "%05d", "%-05d", "%+d", "% 5d", "%.3d", "%03llu", "%lld", "%-8lld", "%hd", "%hhu", "%hhd", "%x", "%08x", "%-8x", "%#x", "%lx",
            "%llx", "%u", "%5u", "%lu", "%o", "%X", "%c", "%p", "%32lld", "%-32lld", "%032lld", "%33lld", "%-40d", "%040d", "%40x",
        ] {
            let c = Conv::parse(f.as_bytes()).unwrap();
            for v in ints {
                let mut out = Vec::new();
                c.print(&mut out, Arg::Int(v as u64));
                assert_eq!(out, sprintf(f, &[Arg::Int(v as u64)]), "{f} {v}");
            }
            let mut out = Vec::new();
            c.print(&mut out, Arg::Str(b"x"));
            assert_eq!(out, sprintf(f, &[Arg::Str(b"x")]), "{f} with a string");
        }
        for f in ["%s", "%16s", "%-16s", "%05s", "%.3s", "%d"] {
            for v in [&b""[..], b"bash", b"kworker/0:1-events", b"a\0b"] {
                let mut out = Vec::new();
                Conv::parse(f.as_bytes()).unwrap().print(&mut out, Arg::Str(v));
                assert_eq!(out, sprintf(f, &[Arg::Str(v)]), "{f}");
            }
        }
        for v in ints {
            let mut out = Vec::new();
            put_signed(&mut out, v);
            put_signed_left(&mut out, v, 5);
            put_zero_signed(&mut out, v, 3);
            put_unsigned(&mut out, v as u64, 12, false);
            put_unsigned(&mut out, v as u64, 6, true);
            put_unsigned(&mut out, v as u64, 40, true);
            let a = Arg::Int(v as u64);
            assert_eq!(out, sprintf("%lld%-5lld%03lld%12llu%06llu%040llu", &[a, a, a, a, a, a]), "{v}");
        }
        for v in [&b""[..], b"bash", b"kworker/0:1-events", b"a\0b"] {
            let mut out = Vec::new();
            put_str(&mut out, v, 16, false);
            put_str(&mut out, v, 5, true);
            assert_eq!(out, sprintf("%16s%-5s", &[Arg::Str(v), Arg::Str(v)]));
        }
        for (f, star, arg) in
            [("%*d", 4, Arg::Int(1)), ("%-*d", -3i64 as u64, Arg::Int(2)), ("%.*s", 3, Arg::Str(b"world")), ("%.*d", -1i64 as u64, Arg::Int(5))]
        {
            let mut out = Vec::new();
            Conv::parse(f.as_bytes()).unwrap().print_star(&mut out, star, Some(arg));
            assert_eq!(out, sprintf(f, &[Arg::Int(star), arg]), "{f}");
        }
        // As printf given one argument: the `*` takes it.
        let mut out = Vec::new();
        Conv::parse(b"%*d").unwrap().print(&mut out, Arg::Int(3));
        assert_eq!(out, sprintf("%*d", &[Arg::Int(3)]));
        for f in ["%*.*d", "%d ", "x%d", "%", "%d%d"] {
            assert!(Conv::parse(f.as_bytes()).is_none(), "{f}");
        }
    }

    #[test]
    fn padding_from_damaged_data_is_cut() {
        let n = |v: i64| Arg::Int(v as u64);
        // A width or precision read from a record (or a print fmt) of a damaged file.
        assert_eq!(sprintf("%*s", &[n(0x7fff_ffff), Arg::Str(b"x")]).len(), MAX_PAD);
        assert_eq!(sprintf("%-*d", &[n(-0x7fff_ffff), n(1)]).len(), MAX_PAD);
        assert_eq!(sprintf("%.*d", &[n(0x7fff_ffff), n(1)]).len(), MAX_PAD + 1);
        assert_eq!(sprintf("%2147483647d", &[n(1)]).len(), MAX_PAD);
        // A precision only cuts a string: it pads nothing and is kept as it is.
        assert_eq!(p("%.*s", &[n(0x7fff_ffff), Arg::Str(b"abc")]), "abc");
    }
}
