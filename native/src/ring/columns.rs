//! Records of a buffer as columns, for bulk passes from JavaScript.
//!
//! [`crate::ring::records::encode`] hands JavaScript one header and the data per record, which
//! it must turn into an object (two BigInts and a view) to read at all. A pass that wants every
//! record's time, id and length needs none of that: [`fill`] writes a batch as typed columns
//! (one entry per record, in the platform's byte order, which is the order typed arrays read)
//! into one buffer that JavaScript allocates once and views as typed arrays, and copies the
//! records' data back to back after them. The columns are laid out, for a batch of `capacity`
//! records, one after the other in [`COLUMNS`]'s order, each `capacity * size` bytes, the 8-byte
//! ones first so that every column starts at a multiple of its element size; the data region
//! takes the rest of the buffer.

use crate::format::bytes::Endian;
use crate::format::error::{Error, Result};
use crate::ring::records::Records;

/// The columns of a batch, by the names `src/records.ts` gives them, with their element size.
pub const COLUMNS: [(&str, usize); 10] = [
    // u64: the reported time.
    ("timestamp", 8),
    // u64: the ring-buffer time.
    ("rawTimestamp", 8),
    // f64: events lost before the record (0 none, -1 unknown, else the count).
    ("missedEvents", 8),
    // u32: the reported time's upper and lower 32 bits (sums and compares in plain numbers).
    ("timestampHigh", 4),
    ("timestampLow", 4),
    // u32: the CPU.
    ("cpu", 4),
    // i32: common_type in the file's byte order, -1 when the data is shorter than 2 bytes.
    ("eventId", 4),
    // i32: common_pid, -1 when the data does not reach it.
    ("pid", 4),
    // u32: the data's length and where it starts in the data region.
    ("length", 4),
    ("offset", 4),
];

/// A batch's column buffer cut at [`COLUMNS`]'s boundaries.
struct Batch<'a> {
    cols: [&'a mut [u8]; COLUMNS.len()],
    data: &'a mut [u8],
}

impl<'a> Batch<'a> {
    fn split(buf: &'a mut [u8], capacity: usize) -> Option<Batch<'a>> {
        let mut rest = buf;
        let mut cols: [&'a mut [u8]; COLUMNS.len()] = Default::default();
        for (col, (_, size)) in cols.iter_mut().zip(COLUMNS) {
            let (c, r) = std::mem::take(&mut rest).split_at_mut_checked(capacity.checked_mul(size)?)?;
            *col = c;
            rest = r;
        }
        Some(Batch { cols, data: rest })
    }
}

/// Writes `v` as entry `i` of a column of `W`-byte elements: one bounds check and one store.
#[inline(always)]
fn put<const W: usize>(col: &mut [[u8; W]], i: usize, v: [u8; W]) {
    if let Some(d) = col.get_mut(i) {
        *d = v;
    }
}

/// Fills `buf` (laid out as the module doc says) with up to `capacity` records of `records`,
/// in time order: the number of records written. A batch ends early when the data region has
/// less room left than a page (no record is larger), so the region must hold one page. Damage
/// ends a batch after the records before it and is the next call's error, as in `nextBatch`.
pub fn fill(records: &mut Records, file: &[u8], buf: &mut [u8], capacity: usize, endian: Endian, pid_offset: usize) -> Result<usize> {
    let too_small = || Error::new("batch", 0, format!("a column buffer for {capacity} records and at least one page of data"));
    let mut b = Batch::split(buf, capacity).ok_or_else(too_small)?;
    let room = records.max_page_size();
    if b.data.len() < room {
        return Err(too_small());
    }
    let [ts, raw, missed, high, low, cpu, id, pid, length, offset] = &mut b.cols;
    // Each column as its elements (the split made every column `capacity * size` bytes).
    let (ts, raw, missed) = (ts.as_chunks_mut::<8>().0, raw.as_chunks_mut::<8>().0, missed.as_chunks_mut::<8>().0);
    let [high, low, cpu, id, pid, length, offset] = [high, low, cpu, id, pid, length, offset].map(|c| c.as_chunks_mut::<4>().0);
    let data = &mut *b.data;
    let mut used = 0usize;
    let mut n = 0usize;
    if capacity == 0 {
        return Ok(0);
    }
    records.take_while(file, |r| {
        put(ts, n, r.ts.to_ne_bytes());
        put(raw, n, r.raw.to_ne_bytes());
        put(missed, n, (r.missed as f64).to_ne_bytes());
        put(high, n, ((r.ts >> 32) as u32).to_ne_bytes());
        put(low, n, (r.ts as u32).to_ne_bytes());
        put(cpu, n, r.cpu.to_ne_bytes());
        let event = r.data.get(..2).map_or(-1, |d| i32::from(endian.u16([d[0], d[1]])));
        put(id, n, event.to_ne_bytes());
        let p = r.data.get(pid_offset..pid_offset + 4).map_or(-1, |d| endian.u32([d[0], d[1], d[2], d[3]]) as i32);
        put(pid, n, p.to_ne_bytes());
        let len = r.data.len();
        put(length, n, (len as u32).to_ne_bytes());
        put(offset, n, (used as u32).to_ne_bytes());
        if let Some(d) = data.get_mut(used..used + len) {
            d.copy_from_slice(r.data);
        }
        used += len;
        n += 1;
        n < capacity && data.len() - used >= room
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_start_at_a_multiple_of_their_size() {
        let mut at = 0;
        for (_, size) in COLUMNS {
            assert_eq!(at % size, 0);
            at += 7 * size;
        }
        let mut buf = vec![0u8; at + 5];
        let b = Batch::split(&mut buf, 7).unwrap();
        assert_eq!(b.data.len(), 5);
        assert!(Batch::split(&mut buf[..at - 1], 7).is_none());
    }
}
