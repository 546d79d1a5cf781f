//! Endian-explicit, bounds-checked reading of byte slices.
//!
//! Every number in a trace.dat after the initial magic is in the file's byte order, which need
//! not be the host's (s390x files are big-endian). A [`Cursor`] carries that order, its absolute
//! position in the file (for error messages) and the name of the part being read, and every read
//! is a checked `get()`: running off the end is an [`Error`] that names the place, never a panic.

use crate::format::error::{Error, Result};

/// Byte order of a trace file, from the flag byte after the version string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

impl Endian {
    pub fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        }
    }
    pub fn u32(self, b: [u8; 4]) -> u32 {
        match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        }
    }
    pub fn u64(self, b: [u8; 8]) -> u64 {
        match self {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        }
    }
    pub fn put_u16(self, v: u16) -> [u8; 2] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
    pub fn put_u32(self, v: u32) -> [u8; 4] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
    pub fn put_u64(self, v: u64) -> [u8; 8] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
    /// Reads an unsigned number of 1, 2, 4 or 8 bytes (kernel `long` may be 4 or 8).
    #[inline]
    pub fn uint(self, b: &[u8]) -> Option<u64> {
        Some(match b.len() {
            1 => b[0] as u64,
            2 => self.u16(b.try_into().ok()?) as u64,
            4 => self.u32(b.try_into().ok()?) as u64,
            8 => self.u64(b.try_into().ok()?),
            _ => return None,
        })
    }
    /// The `size`-byte number (see [`Endian::uint`]) at `offset` in `data`, or None when the
    /// size is another or the bytes are not all inside `data`. Inlined: every record's
    /// common_type and common_pid are read with it.
    #[inline]
    pub fn uint_at(self, data: &[u8], offset: usize, size: usize) -> Option<u64> {
        offset.checked_add(size).and_then(|end| data.get(offset..end)).and_then(|b| self.uint(b))
    }
}

/// A read position inside `data`, whose first byte sits at file offset `base`.
#[derive(Clone)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    endian: Endian,
    what: &'a str,
}

impl<'a> Cursor<'a> {
    /// `what` names the part of the file, for errors ("options section", "CPU 3 page ...").
    pub fn new(data: &'a [u8], base: u64, endian: Endian, what: &'a str) -> Cursor<'a> {
        Cursor { data, pos: 0, base, endian, what }
    }

    pub fn what(&self) -> &'a str {
        self.what
    }
    /// Absolute file offset of the next byte (virtual offset for decompressed data).
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }
    pub fn pos(&self) -> usize {
        self.pos
    }
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    pub fn error(&self, expected: impl Into<String>) -> Error {
        Error::new(self.what, self.offset(), expected)
    }

    /// A count just read, of items that take at least `each` bytes apiece of what is left: the
    /// count when they can all fit, else the error `too_many(bytes left)` words. A damaged
    /// count is so refused before it sizes an allocation or a loop.
    pub fn count(&self, n: u32, each: usize, too_many: impl FnOnce(usize) -> String) -> Result<usize> {
        let left = self.remaining();
        if (n as usize).saturating_mul(each) > left {
            return Err(self.error(too_many(left)));
        }
        Ok(n as usize)
    }

    /// The next `n` bytes; `expected` says what they were to hold.
    pub fn bytes(&mut self, n: usize, expected: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end.and_then(|e| self.data.get(self.pos..e)) {
            Some(b) => {
                self.pos += n;
                Ok(b)
            }
            None => Err(self.error(format!("{expected} ({n} bytes, {} left)", self.remaining()))),
        }
    }

    fn array<const N: usize>(&mut self, expected: &str) -> Result<[u8; N]> {
        let b = self.bytes(N, expected)?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        Ok(a)
    }

    pub fn u8(&mut self, expected: &str) -> Result<u8> {
        Ok(self.array::<1>(expected)?[0])
    }
    pub fn u16(&mut self, expected: &str) -> Result<u16> {
        let a = self.array::<2>(expected)?;
        Ok(self.endian.u16(a))
    }
    pub fn u32(&mut self, expected: &str) -> Result<u32> {
        let a = self.array::<4>(expected)?;
        Ok(self.endian.u32(a))
    }
    pub fn u64(&mut self, expected: &str) -> Result<u64> {
        let a = self.array::<8>(expected)?;
        Ok(self.endian.u64(a))
    }

    /// A NUL-terminated string; returns the bytes before the NUL and consumes the NUL.
    pub fn cstr(&mut self, expected: &str) -> Result<&'a [u8]> {
        let rest = self.rest();
        match rest.iter().position(|&b| b == 0) {
            Some(n) => {
                let s = &rest[..n];
                self.pos += n + 1;
                Ok(s)
            }
            None => Err(self.error(format!("{expected} (a NUL-terminated string)"))),
        }
    }

    pub fn skip(&mut self, n: usize, expected: &str) -> Result<()> {
        self.bytes(n, expected).map(|_| ())
    }

    /// Moves to `pos` bytes from the start of this cursor's data.
    pub fn seek(&mut self, pos: usize, expected: &str) -> Result<()> {
        if pos > self.data.len() {
            return Err(Error::new(self.what, self.base + pos as u64, format!("{expected} (past the end)")));
        }
        self.pos = pos;
        Ok(())
    }
}

/// `a + b` as a usize index into a slice of length `len`, or None.
pub fn span(start: u64, len: u64, total: usize) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    if end > total as u64 {
        return None;
    }
    Some(start as usize..end as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_orders_and_reports_offsets() {
        let data = [1u8, 0, 0, 2, b'a', b'b', 0];
        let mut le = Cursor::new(&data, 100, Endian::Little, "test");
        assert_eq!(le.u16("x").unwrap(), 1);
        assert_eq!(le.u16("x").unwrap(), 0x200);
        assert_eq!(le.cstr("s").unwrap(), b"ab");
        let err = le.u8("more").unwrap_err();
        assert_eq!(err.offset, 107);
        let mut be = Cursor::new(&data, 0, Endian::Big, "test");
        assert_eq!(be.u32("x").unwrap(), 0x0100_0002);
    }

    #[test]
    fn huge_lengths_do_not_overflow() {
        let data = [0u8; 4];
        let mut c = Cursor::new(&data, 0, Endian::Little, "test");
        assert!(c.bytes(usize::MAX, "x").is_err());
        assert!(span(u64::MAX, 2, 4).is_none());
        assert_eq!(Endian::Little.uint_at(&data, usize::MAX, 2), None);
        assert_eq!(Endian::Little.uint_at(&data, 2, 2), Some(0));
        assert_eq!(Endian::Little.uint_at(&data, 3, 2), None);
        assert_eq!(Endian::Little.uint_at(&data, 0, 3), None);
    }

    #[test]
    fn counts_are_bounded_by_the_bytes_left() {
        let data = [0u8; 10];
        let mut c = Cursor::new(&data, 50, Endian::Little, "test");
        c.skip(2, "x").unwrap();
        assert_eq!(c.count(2, 4, |_| unreachable!()), Ok(2));
        let e = c.count(u32::MAX, 4, |left| format!("{} items, {left} left", u32::MAX)).unwrap_err();
        assert_eq!((e.offset, e.expected.as_str()), (52, "4294967295 items, 8 left"));
    }
}
