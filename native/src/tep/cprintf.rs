//! C `printf` for the handful of conversions trace output uses, with glibc's results.
//!
//! libtraceevent builds its output by handing format fragments taken from a kernel print fmt
//! (`"%-5d"`, `"%#llx"`, `"%.*s"`) straight to `trace_seq_printf`, so matching trace-cmd byte
//! for byte means reproducing glibc's `vsnprintf` for whatever flags, width, precision and
//! length modifier a kernel author wrote. Arguments are passed as they are in C after the
//! default promotions: integers as 64-bit patterns (the conversion's length modifier picks
//! the bits it reads, as va_arg does), strings as bytes ending at the first NUL.

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
        let spec = Spec::parse(fmt, &mut i, &mut next);
        // A format ending inside a conversion prints nothing more.
        let Some(&conv) = fmt.get(i) else { break };
        i += 1;
        spec.convert(out, conv, &mut next);
    }
}

/// One conversion parsed once, for a caller that prints the same fragment for every record:
/// the bytes `printf` prints for that fragment, without reading it again each time.
#[derive(Clone, Copy, Debug)]
pub struct Conv {
    spec: Spec,
    conv: u8,
}

impl Conv {
    /// `fmt` when it is exactly one conversion taking no `*` argument (else None).
    pub fn parse(fmt: &[u8]) -> Option<Conv> {
        let mut i = 1;
        let spec = Spec::parse(fmt, &mut i, &mut [].iter());
        match (fmt.first(), fmt.get(i), fmt.get(1..i)) {
            (Some(b'%'), Some(&conv), Some(flags)) if i + 1 == fmt.len() && !flags.contains(&b'*') => Some(Conv { spec, conv }),
            _ => None,
        }
    }

    /// This conversion with another width (what a `*` width would have given).
    pub fn with_width(self, width: usize) -> Conv {
        Conv { spec: Spec { width: width.min(MAX_PAD), ..self.spec }, ..self }
    }

    /// Prints `arg` as `printf(fmt, arg)` would.
    pub fn print(&self, out: &mut Vec<u8>, arg: Arg<'_>) {
        self.spec.convert(out, self.conv, &mut [arg].iter());
    }
}

/// The arguments not consumed yet.
type Next<'s, 'a> = std::slice::Iter<'s, Arg<'a>>;

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
    /// Reads what follows a `%` up to the conversion character, at `fmt[*i]` on return; a `*`
    /// width or precision takes the next argument.
    fn parse(fmt: &[u8], i: &mut usize, next: &mut Next<'_, '_>) -> Spec {
        let mut spec = Spec { bits: 32, ..Spec::default() };
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
            let w = next.next().map_or(0, Arg::int) as i32;
            if w < 0 {
                spec.left = true;
            }
            spec.width = w.unsigned_abs() as usize;
        } else {
            spec.width = decimal(fmt, i);
        }
        spec.width = spec.width.min(MAX_PAD);
        if fmt.get(*i) == Some(&b'.') {
            *i += 1;
            if fmt.get(*i) == Some(&b'*') {
                *i += 1;
                let p = next.next().map_or(0, Arg::int) as i32;
                spec.prec = (p >= 0).then_some(p as usize);
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
        spec
    }

    /// Prints conversion `conv` of the next argument.
    fn convert(mut self, out: &mut Vec<u8>, conv: u8, next: &mut Next<'_, '_>) {
        match conv {
            b'%' => out.push(b'%'),
            b'd' | b'i' => self.signed(out, next.next().map_or(0, Arg::int)),
            b'u' | b'x' | b'X' | b'o' => self.unsigned(out, conv, next.next().map_or(0, Arg::int)),
            b'c' => {
                let b = [next.next().map_or(0, Arg::int) as u8];
                self.pad(out, &b);
            }
            b's' => self.string(out, next.next()),
            b'p' => {
                let v = next.next().map_or(0, Arg::int);
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
        let fill = self.width.saturating_sub(s.len());
        if !self.left {
            out.resize(out.len() + fill, b' ');
        }
        out.extend_from_slice(s);
        if self.left {
            out.resize(out.len() + fill, b' ');
        }
    }

    /// A number: sign or prefix, precision zeros, digits, padded to the width.
    fn number(&self, out: &mut Vec<u8>, sign: &[u8], d: &[u8], prefix: &[u8]) {
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

impl Digits {
    fn new(mut v: u64, base: u64, upper: bool) -> Digits {
        let set: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
        let mut d = Digits { buf: [0; 24], start: 24 };
        loop {
            d.start -= 1;
            d.buf[d.start] = set[(v % base) as usize];
            v /= base;
            if v == 0 {
                break d;
            }
        }
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
        let mut out = Vec::new();
        Conv::parse(b"%0llu").unwrap().with_width(6).print(&mut out, Arg::Int(42));
        assert_eq!(out, sprintf("%0*llu", &[Arg::Int(6), Arg::Int(42)]));
        for f in ["%*d", "%d ", "x%d", "%", "%.*s", "%d%d"] {
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
