//! Ring-buffer pages written from records: the inverse of [`crate::ring::page::Page`].
//!
//! Used where records get new timestamps or new event ids (a guest moved onto host time, a
//! trace built from records), so its pages cannot be copied. Events are encoded as the kernel
//! encodes them: data of up to 112 bytes inline after the header word (type_len 1..28), larger
//! data with an explicit length (type_len 0); a delta too large for 27 bits gets a TIME_EXTEND
//! record before the event. Where no delta can say it, a new page starts, whose header holds
//! the absolute time: when time goes back (a guest whose clock was set back), when a delta needs
//! more than 59 bits, and when events were lost before a record (the page's commit flags are the
//! only place a reader looks for lost events, so that record must open a page).
//!
//! Rejected: TIME_STAMP records (type 31) for going back in time. The kernel writes them only
//! for absolute-time buffers, and readers disagree on them (libtraceevent 1.7.1 takes the 59
//! bits as the whole time, later ones keep the page's top bits); a page header is read alike
//! by every reader.

use crate::format::bytes::Endian;
use crate::ring::page::{Missed, COMMIT_MASK, MISSING_EVENTS, MISSING_STORED, TS_SHIFT, TYPE_TIME_EXTEND};

/// The most data an event carries inline (type_len 28, 4-byte words).
const MAX_INLINE: usize = 28 * 4;

/// Why a record cannot be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TooLarge {
    /// The record's data does not fit in an empty page.
    Record { len: usize, room: usize },
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TooLarge::Record { len, room } => write!(f, "a record of at most {room} bytes of data, found one of {len}"),
        }
    }
}

/// Pages of one CPU being written: the current page, filled event by event.
pub struct PageWriter {
    endian: Endian,
    /// The kernel's long size (the commit field's, and a stored lost-events count's, size).
    long: usize,
    page: Vec<u8>,
    /// Bytes of event data in the current page.
    used: usize,
    /// The time of the last event written to the current page; None before its first event.
    last: Option<u64>,
    missed: Missed,
}

impl PageWriter {
    pub fn new(endian: Endian, long: u8, page_size: u32) -> PageWriter {
        PageWriter { endian, long: long as usize, page: vec![0; page_size as usize], used: 0, last: None, missed: Missed::None }
    }

    fn start(&self) -> usize {
        8 + self.long
    }

    /// Event data bytes a page has room for, with a stored lost-events count when there is one.
    fn room(&self, missed: Missed) -> usize {
        let stored = if matches!(missed, Missed::Count(_)) { self.long } else { 0 };
        self.page.len().saturating_sub(self.start() + stored).min(COMMIT_MASK as usize)
    }

    /// Adds one record with raw time `ts` and `data` (its common_type first), lost events
    /// before it as `missed`. Returns the page this record closed, if any.
    pub fn push(&mut self, ts: u64, data: &[u8], missed: Missed) -> Result<Option<Vec<u8>>, TooLarge> {
        let padded = data.len().next_multiple_of(4);
        let body = if padded <= MAX_INLINE && padded > 0 { padded } else { padded + 4 };
        let room = self.room(missed);
        if 4 + body > room {
            return Err(TooLarge::Record { len: data.len(), room: room.saturating_sub(8) });
        }
        let delta = self.last.and_then(|last| ts.checked_sub(last)).filter(|&d| d >> (TS_SHIFT + 32) == 0);
        let extend = delta.is_some_and(|d| d >> TS_SHIFT != 0);
        let need = 4 + body + if extend { 8 } else { 0 };
        let mut closed = None;
        let delta = match delta {
            Some(d) if missed == Missed::None && self.used + need <= self.room(self.missed) => d,
            _ => {
                closed = self.finish();
                self.missed = missed;
                self.page.fill(0);
                self.page[..8].copy_from_slice(&self.endian.put_u64(ts));
                0
            }
        };
        if delta >> TS_SHIFT != 0 {
            self.word(TYPE_TIME_EXTEND, (delta & ((1 << TS_SHIFT) - 1)) as u32);
            self.put_u32((delta >> TS_SHIFT) as u32);
        }
        let inline = body == padded;
        self.word(if inline { (padded / 4) as u32 } else { 0 }, if delta >> TS_SHIFT != 0 { 0 } else { delta as u32 });
        if !inline {
            self.put_u32(padded as u32 + 4);
        }
        let at = self.start() + self.used;
        self.page[at..at + data.len()].copy_from_slice(data);
        self.used += padded;
        self.last = Some(ts);
        Ok(closed)
    }

    /// The current page, complete, if it holds any event.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        self.last.take()?;
        let mut commit = self.used as u64;
        match self.missed {
            Missed::None => {}
            Missed::Unknown => commit |= MISSING_EVENTS,
            Missed::Count(n) => {
                commit |= MISSING_EVENTS | MISSING_STORED;
                let at = self.start() + self.used;
                let count = self.number(n);
                self.page[at..at + self.long].copy_from_slice(&count);
            }
        }
        let (field, start) = (self.number(commit), self.start());
        self.page[8..start].copy_from_slice(&field);
        self.used = 0;
        self.missed = Missed::None;
        Some(self.page.clone())
    }

    /// `v` as a kernel long.
    fn number(&self, v: u64) -> Vec<u8> {
        if self.long == 4 {
            self.endian.put_u32(v as u32).to_vec()
        } else {
            self.endian.put_u64(v).to_vec()
        }
    }

    /// An event header word.
    fn word(&mut self, type_len: u32, delta: u32) {
        let w = match self.endian {
            Endian::Little => type_len | (delta << 5),
            Endian::Big => (type_len << TS_SHIFT) | delta,
        };
        self.put_u32(w);
    }

    fn put_u32(&mut self, v: u32) {
        let at = self.start() + self.used;
        self.page[at..at + 4].copy_from_slice(&self.endian.put_u32(v));
        self.used += 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::page::Page;

    /// Every event of `pages` as (ts, data, missed of its page when first).
    fn read(pages: &[Vec<u8>], endian: Endian, long: u8) -> Vec<(u64, Vec<u8>, Missed)> {
        let mut out = Vec::new();
        for p in pages {
            let page = Page::new(p, endian, long).unwrap();
            let missed = page.missed;
            let mut slots = Vec::new();
            page.events_into(p, &mut slots).unwrap();
            for (i, e) in slots.iter().enumerate() {
                let data = p[e.start as usize..(e.start + e.len) as usize].to_vec();
                out.push((e.ts, data, if i == 0 { missed } else { Missed::None }));
            }
        }
        out
    }

    fn write(records: &[(u64, Vec<u8>, Missed)], endian: Endian, long: u8, size: u32) -> Vec<Vec<u8>> {
        let mut w = PageWriter::new(endian, long, size);
        let mut pages = Vec::new();
        for (ts, data, missed) in records {
            pages.extend(w.push(*ts, data, *missed).unwrap());
        }
        pages.extend(w.finish());
        pages
    }

    #[test]
    fn records_read_back_as_written() {
        for (endian, long) in [(Endian::Little, 8), (Endian::Big, 8), (Endian::Little, 4), (Endian::Big, 4)] {
            let mut records = Vec::new();
            let mut ts = 1_000_000u64;
            for i in 0..3000u64 {
                // Small deltas, deltas needing TIME_EXTEND (>= 2^27), one needing a new page
                // (>= 2^59), inline and explicit-length data, and lost events now and then.
                ts += match i % 97 {
                    0 => 1 << 30,
                    50 => 1 << 59,
                    _ => i % 13,
                };
                let len = [4, 8, 112, 116, 300][i as usize % 5];
                let data: Vec<u8> = (0..len).map(|b| (b as u64 * 7 + i) as u8).collect();
                let missed = match i % 401 {
                    7 => Missed::Count(i),
                    8 => Missed::Unknown,
                    _ => Missed::None,
                };
                records.push((ts, data, missed));
            }
            let pages = write(&records, endian, long, 4096);
            assert!(pages.iter().all(|p| p.len() == 4096));
            assert_eq!(read(&pages, endian, long), records, "{endian:?} long {long}");
        }
    }

    #[test]
    fn going_back_in_time_opens_a_page() {
        let records: Vec<_> = [100u64, 200, 150, 160, 90].iter().map(|&t| (t, vec![1, 2, 3, 4], Missed::None)).collect();
        let pages = write(&records, Endian::Little, 8, 4096);
        assert_eq!(pages.len(), 3);
        assert_eq!(read(&pages, Endian::Little, 8), records);
    }

    #[test]
    fn data_is_padded_to_words_and_too_large_records_are_refused() {
        let pages = write(&[(5, vec![9; 5], Missed::None)], Endian::Little, 8, 4096);
        assert_eq!(read(&pages, Endian::Little, 8)[0].1, [9, 9, 9, 9, 9, 0, 0, 0]);
        let mut w = PageWriter::new(Endian::Little, 8, 4096);
        assert_eq!(w.push(1, &[0; 4080], Missed::None), Err(TooLarge::Record { len: 4080, room: 4072 }));
        assert!(w.push(1, &[0; 4072], Missed::None).unwrap().is_none());
        assert_eq!(read(&[w.finish().unwrap()], Endian::Little, 8)[0].1.len(), 4072);
    }
}
