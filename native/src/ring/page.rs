//! One ring-buffer page (sub-buffer), as a small state machine, after libtraceevent's kbuffer.
//!
//! ```text
//! u64 timestamp        absolute time of the page; the first delta is relative to it
//! long commit          low 27 bits: bytes of event data; bit 31: events were lost before
//!                      this page; bit 30: their count is stored as a long after the data
//! data[commit]         events: u32 header (type_len:5, time_delta:27), then
//!                        type_len 0      u32 length (incl. itself), data
//!                        type_len 1..28  data of type_len * 4 bytes
//!                        29 padding      u32 length of the discarded bytes after the header
//!                        30 time extend  u32 upper bits of a delta too large for 27 bits
//!                        31 time stamp   u32 upper bits of an absolute time (59 bits)
//! ```
//! `long` is the kernel's (4 or 8 bytes), so data starts at 12 or 16. In a big-endian file the
//! header word is read big-endian and type_len is its top 5 bits.
//!
//! Unlike kbuffer, every step is checked against the commit size: an event that runs past the
//! committed data, a commit larger than the page, or a length field too small to hold itself is
//! an error naming the byte offset, so damaged pages are reported and never printed as events.

use crate::format::bytes::Endian;

pub const COMMIT_MASK: u64 = (1 << 27) - 1;
pub const MISSING_EVENTS: u64 = 1 << 31;
pub const MISSING_STORED: u64 = 1 << 30;
pub const TS_SHIFT: u32 = 27;
/// The top 5 bits of a 64-bit time that a TIME_STAMP record (59 bits) keeps from the page.
const TS_MSB: u64 = 0xf8 << 56;

const TYPE_PADDING: u32 = 29;
pub const TYPE_TIME_EXTEND: u32 = 30;
const TYPE_TIME_STAMP: u32 = 31;

/// Events lost before a page, as its commit flags tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missed {
    None,
    /// Lost, count unknown (trace-cmd prints "[EVENTS DROPPED]").
    Unknown,
    Count(u64),
}

impl Missed {
    /// trace-cmd's encoding: 0 none, -1 unknown, else the count.
    pub fn as_i64(self) -> i64 {
        match self {
            Missed::None => 0,
            Missed::Unknown => -1,
            Missed::Count(n) => n as i64,
        }
    }

    /// The inverse of [`Missed::as_i64`] (any negative number is unknown).
    pub fn from_i64(n: i64) -> Missed {
        match n {
            0 => Missed::None,
            n if n < 0 => Missed::Unknown,
            n => Missed::Count(n as u64),
        }
    }
}

/// A page problem: byte offset inside the page and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageError {
    pub offset: usize,
    pub expected: String,
}

/// One data event of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// Raw ring-buffer time (the clock's units).
    pub ts: u64,
    /// The event's data: common_type, common_flags, ..., then the event's own fields.
    pub data: &'a [u8],
    /// Offset of the event header inside the page.
    pub offset: usize,
}

/// A data event decoded by [`Page::events_into`]: its raw time and its data's place in the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub ts: u64,
    pub start: u32,
    pub len: u32,
}

/// The reading state of one page. It holds no reference to the page: the caller passes the
/// same bytes to every call, so a cursor can be kept between N-API calls without borrowing.
#[derive(Clone, Debug)]
pub struct Page {
    endian: Endian,
    /// End of the committed data: the data starts after the header (12 or 16 bytes) and runs
    /// for the commit size.
    end: usize,
    /// Offset of the next event header.
    next: usize,
    ts: u64,
    pub missed: Missed,
    /// A TIME_STAMP record was read: the times from it on do not follow the header's.
    stamped: bool,
}

impl Page {
    /// Reads the page header. `long` is the kernel's long size, 4 or 8.
    pub fn new(page: &[u8], endian: Endian, long: u8) -> Result<Page, PageError> {
        let start = 8 + long as usize;
        let err = |offset, expected: String| PageError { offset, expected };
        let ts = page.get(..8).and_then(|b| endian.uint(b)).ok_or_else(|| err(0, "an 8-byte page timestamp".into()))?;
        let flags = page.get(8..start).and_then(|b| endian.uint(b)).ok_or_else(|| err(8, format!("a {long}-byte commit field")))?;
        let commit = (flags & COMMIT_MASK) as usize;
        let end = start + commit;
        if end > page.len() {
            return Err(err(8, format!("a commit size of at most {} bytes, found {commit}", page.len() - start)));
        }
        let missed = if flags & MISSING_EVENTS == 0 {
            Missed::None
        } else if flags & MISSING_STORED != 0 {
            let n = page.get(end..end + long as usize).and_then(|b| endian.uint(b));
            Missed::Count(n.ok_or_else(|| err(end, "the count of lost events after the data".into()))?)
        } else {
            Missed::Unknown
        };
        Ok(Page { endian, end, next: start, ts, missed, stamped: false })
    }

    /// Walks the rest of the page once, checking it and decoding it: every data event's time
    /// and place goes into `out` (cleared first), or the first damage is the error. A page is
    /// read whole before any of its events is handed out, so a damaged page yields an error
    /// (or, when salvaging, is skipped whole), never part of its events; and the records are
    /// then taken from `out`, the page's structure not walked a second time.
    pub fn events_into(mut self, page: &[u8], out: &mut Vec<Slot>) -> Result<(), PageError> {
        out.clear();
        let base = page.as_ptr() as usize;
        // The committed data (`new` checked that it is inside the page).
        let data = page.get(..self.end).unwrap_or_default();
        loop {
            // The common event, a data event whose length is in its type (1..28 words) and that
            // ends inside the committed data, is taken here with one bounds check; anything else
            // (lengths in a word, time records, padding, damage) goes through `next_event`, which
            // gives the same result from the same state and names the damage.
            if let Some(&[a, b, c, d]) = data.get(self.next..self.next + 4) {
                let header = self.endian.u32([a, b, c, d]);
                let (type_len, delta) = match self.endian {
                    Endian::Little => (header & 0x1f, header >> 5),
                    Endian::Big => (header >> 27, header & ((1 << TS_SHIFT) - 1)),
                };
                let body = self.next + 4;
                let end = body + type_len as usize * 4;
                if (1..TYPE_PADDING).contains(&type_len) && end <= self.end {
                    self.ts = self.ts.wrapping_add(delta as u64);
                    self.next = end;
                    // A page is at most 2^27 bytes and a half (commit mask): offsets fit in u32.
                    out.push(Slot { ts: self.ts, start: body as u32, len: type_len * 4 });
                    continue;
                }
            }
            let Some(e) = self.next_event(page)? else { return Ok(()) };
            out.push(Slot { ts: e.ts, start: (e.data.as_ptr() as usize - base) as u32, len: e.data.len() as u32 });
        }
    }

    fn word(&self, page: &[u8], at: usize) -> Result<u32, PageError> {
        match at.checked_add(4).filter(|&e| e <= self.end).and_then(|e| page.get(at..e)) {
            Some(b) => Ok(self.endian.u32([b[0], b[1], b[2], b[3]])),
            None => Err(PageError { offset: at, expected: format!("4 bytes within the committed data (ends at {})", self.end) }),
        }
    }

    /// The next data event, skipping padding and time records; None at the end of the data.
    pub fn next_event<'a>(&mut self, page: &'a [u8]) -> Result<Option<Event<'a>>, PageError> {
        while self.next < self.end {
            let at = self.next;
            let header = self.word(page, at)?;
            let (type_len, delta) = match self.endian {
                Endian::Little => (header & 0x1f, header >> 5),
                Endian::Big => (header >> 27, header & ((1 << TS_SHIFT) - 1)),
            };
            let body = at + 4;
            match type_len {
                TYPE_PADDING => {
                    // The length counts the bytes after the header; a null event (delta 0)
                    // fills the rest of the page and may hold no length at all.
                    let len = if body >= self.end { 0 } else { self.word(page, body)? as usize };
                    self.ts = self.ts.wrapping_add(delta as u64);
                    self.next = if delta == 0 && len == 0 { self.end } else { self.advance(at, body, len)? };
                }
                TYPE_TIME_EXTEND => {
                    let high = self.word(page, body)? as u64;
                    self.ts = self.ts.wrapping_add((high << TS_SHIFT) + delta as u64);
                    self.next = body + 4;
                }
                TYPE_TIME_STAMP => {
                    let high = self.word(page, body)? as u64;
                    self.ts = ((high << TS_SHIFT) + delta as u64) | (self.ts & TS_MSB);
                    self.stamped = true;
                    self.next = body + 4;
                }
                0 => {
                    let len = self.word(page, body)? as usize;
                    if len < 4 {
                        return Err(PageError { offset: body, expected: format!("an event length of at least 4, found {len}") });
                    }
                    let data_len = (len - 4 + 3) & !3;
                    let data_start = body + 4;
                    let next = self.advance(at, data_start, data_len)?;
                    self.ts = self.ts.wrapping_add(delta as u64);
                    self.next = next;
                    return Ok(Some(Event { ts: self.ts, data: page.get(data_start..next).unwrap_or(&[]), offset: at }));
                }
                n => {
                    let next = self.advance(at, body, n as usize * 4)?;
                    self.ts = self.ts.wrapping_add(delta as u64);
                    self.next = next;
                    return Ok(Some(Event { ts: self.ts, data: page.get(body..next).unwrap_or(&[]), offset: at }));
                }
            }
        }
        Ok(None)
    }

    /// Whether a TIME_STAMP record was read so far. Until one is, every time is the header's
    /// time plus deltas: moving the header moves each time read by the same amount.
    pub fn stamped(&self) -> bool {
        self.stamped
    }

    /// `from + len`, checked to stay inside the committed data.
    fn advance(&self, at: usize, from: usize, len: usize) -> Result<usize, PageError> {
        from.checked_add(len)
            .filter(|&e| e <= self.end)
            .ok_or_else(|| PageError { offset: at, expected: format!("an event of {len} bytes ending within the committed data (at {})", self.end) })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a little-endian page with 8-byte longs from (type_len, delta, body words).
    pub fn page(ts: u64, flags: u64, events: &[(u32, u32, &[u32])], size: usize) -> Vec<u8> {
        let mut data = Vec::new();
        for &(type_len, delta, words) in events {
            data.extend_from_slice(&(type_len | (delta << 5)).to_le_bytes());
            for w in words {
                data.extend_from_slice(&w.to_le_bytes());
            }
        }
        let mut p = Vec::new();
        p.extend_from_slice(&ts.to_le_bytes());
        p.extend_from_slice(&(flags | data.len() as u64).to_le_bytes());
        p.extend_from_slice(&data);
        p.resize(size, 0);
        p
    }

    fn all(p: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut pg = Page::new(p, Endian::Little, 8).unwrap();
        let mut v = Vec::new();
        while let Some(e) = pg.next_event(p).unwrap() {
            v.push((e.ts, e.data.to_vec()));
        }
        // The one-pass decoding (its fast path and its fallback) gives the same events.
        let mut slots = Vec::new();
        Page::new(p, Endian::Little, 8).unwrap().events_into(p, &mut slots).unwrap();
        let got: Vec<_> = slots.iter().map(|s| (s.ts, p[s.start as usize..(s.start + s.len) as usize].to_vec())).collect();
        assert_eq!(got, v);
        v
    }

    #[test]
    fn event_types_and_time() {
        let p = page(
            1000,
            0,
            &[
                (2, 5, &[0x11, 0x22]),     // 8 bytes of data at +5
                (30, 3, &[1]),             // extend: +(1<<27)+3
                (0, 7, &[12, 0xaa, 0xbb]), // explicit length 12: 8 bytes of data
                (29, 0, &[4]),             // padding: 4 bytes after the header
                (1, 1, &[0x33]),
            ],
            4096,
        );
        let ev = all(&p);
        assert_eq!(ev.len(), 3);
        assert_eq!(ev[0].0, 1005);
        assert_eq!(ev[1].0, 1005 + (1 << 27) + 3 + 7);
        assert_eq!(ev[1].1, [0xaa, 0, 0, 0, 0xbb, 0, 0, 0]);
        assert_eq!(ev[2].0, ev[1].0 + 1);
    }

    #[test]
    fn absolute_timestamp_keeps_top_bits() {
        let p = page(0xf800_0000_0000_0010, 0, &[(31, 2, &[1]), (1, 0, &[9])], 4096);
        let ev = all(&p);
        assert_eq!(ev[0].0, 0xf800_0000_0000_0000 | ((1 << 27) + 2));
    }

    #[test]
    fn missed_events() {
        let p = page(0, MISSING_EVENTS, &[(1, 0, &[9])], 4096);
        assert_eq!(Page::new(&p, Endian::Little, 8).unwrap().missed, Missed::Unknown);
        let mut p = page(0, MISSING_EVENTS | MISSING_STORED, &[(1, 0, &[9])], 4096);
        p[24..32].copy_from_slice(&77u64.to_le_bytes());
        assert_eq!(Page::new(&p, Endian::Little, 8).unwrap().missed, Missed::Count(77));
    }

    #[test]
    fn damage_is_an_error() {
        // Commit larger than the page.
        let mut p = page(0, 0, &[], 64);
        p[8..16].copy_from_slice(&100u64.to_le_bytes());
        assert!(Page::new(&p, Endian::Little, 8).is_err());
        // Event running past the commit.
        let p = page(0, 0, &[(5, 0, &[1])], 4096);
        let mut pg = Page::new(&p, Endian::Little, 8).unwrap();
        assert_eq!(pg.next_event(&p).unwrap_err().offset, 16);
        // Length field smaller than itself.
        let p = page(0, 0, &[(0, 0, &[2])], 4096);
        assert!(Page::new(&p, Endian::Little, 8).unwrap().next_event(&p).is_err());
        // A check walks the whole page: damage after good events is found before any is read.
        let p = page(0, 0, &[(1, 0, &[7]), (1, 0, &[8]), (5, 0, &[1])], 4096);
        let pg = Page::new(&p, Endian::Little, 8).unwrap();
        let mut slots = Vec::new();
        assert_eq!(pg.events_into(&p, &mut slots).unwrap_err().offset, 32);
        let p = page(0, 0, &[(1, 0, &[7]), (29, 0, &[8, 0]), (1, 0, &[8])], 4096);
        assert_eq!(Page::new(&p, Endian::Little, 8).unwrap().events_into(&p, &mut slots), Ok(()));
        assert_eq!(slots, [Slot { ts: 0, start: 20, len: 4 }, Slot { ts: 0, start: 40, len: 4 }]);
    }

    #[test]
    fn big_endian_header_word() {
        let mut p = Vec::new();
        p.extend_from_slice(&100u64.to_be_bytes());
        p.extend_from_slice(&8u32.to_be_bytes()); // 4-byte long
        p.extend_from_slice(&((1u32 << 27) | 9).to_be_bytes()); // type_len 1, delta 9
        p.extend_from_slice(&0xdead_beefu32.to_be_bytes());
        p.resize(4096, 0);
        let mut pg = Page::new(&p, Endian::Big, 4).unwrap();
        let e = pg.next_event(&p).unwrap().unwrap();
        assert_eq!(e.ts, 109);
        assert_eq!(e.data, 0xdead_beefu32.to_be_bytes());
        let mut slots = Vec::new();
        Page::new(&p, Endian::Big, 4).unwrap().events_into(&p, &mut slots).unwrap();
        assert_eq!(slots, [Slot { ts: 109, start: 16, len: 4 }]);
    }

    #[test]
    fn an_event_past_the_commit_is_the_same_error_in_one_pass() {
        // type_len 3 (12 bytes) with only 8 committed after the header: not the fast path's.
        let p = page(0, 0, &[(1, 0, &[7]), (3, 0, &[1, 2])], 4096);
        let mut walk = Page::new(&p, Endian::Little, 8).unwrap();
        walk.next_event(&p).unwrap();
        let want = walk.next_event(&p).unwrap_err();
        let mut slots = Vec::new();
        assert_eq!(Page::new(&p, Endian::Little, 8).unwrap().events_into(&p, &mut slots), Err(want));
    }
}
