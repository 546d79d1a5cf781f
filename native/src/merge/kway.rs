//! The one k-way merge: of the CPUs of a buffer, of the buffers of a report, of a host and its
//! guests. Each source is keyed by the time of its next record; the least key comes first and
//! equal keys go to the lower source index, which is the order trace-cmd prints (it scans every
//! CPU of every handle for the smallest time, the first one found winning a tie).
//!
//! A heap makes that O(log k) per record instead of trace-cmd's O(k). It holds no records,
//! only (key, source) pairs: a source is taken out with [`KWay::pop`], read, and put back with
//! its new key by the caller, so a source whose head changes while it is out (report's
//! function_graph printer reads one record ahead) is simply put back with the right key.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Clone, Debug, Default)]
pub struct KWay {
    heap: BinaryHeap<Reverse<(u64, usize)>>,
}

impl KWay {
    pub fn with_capacity(sources: usize) -> KWay {
        KWay { heap: BinaryHeap::with_capacity(sources) }
    }

    /// The merge of `sources` sources, each put in with the time of its next record as `peek`
    /// says (a source with none left stays out).
    pub fn build<E>(sources: usize, mut peek: impl FnMut(usize) -> Result<Option<u64>, E>) -> Result<KWay, E> {
        let mut k = KWay::with_capacity(sources);
        for i in 0..sources {
            k.put_back(i, peek(i)?);
        }
        Ok(k)
    }

    /// Puts a source taken out back with the time of its next record, if it has one.
    pub fn put_back(&mut self, source: usize, key: Option<u64>) {
        if let Some(key) = key {
            self.push(key, source);
        }
    }

    /// Puts `source` in with the time of its next record.
    pub fn push(&mut self, key: u64, source: usize) {
        self.heap.push(Reverse((key, source)));
    }

    /// The source whose next record comes first, with its key, taken out of the merge.
    pub fn pop(&mut self) -> Option<(u64, usize)> {
        self.heap.pop().map(|Reverse(k)| k)
    }

    /// What [`KWay::pop`] would return, left in.
    pub fn peek(&self) -> Option<(u64, usize)> {
        self.heap.peek().map(|&Reverse(k)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_key_first_ties_to_the_lower_source() {
        let mut k = KWay::with_capacity(3);
        for (key, source) in [(5, 2), (5, 0), (3, 1), (5, 1)] {
            k.push(key, source);
        }
        assert_eq!(k.peek(), Some((3, 1)));
        let order: Vec<_> = std::iter::from_fn(|| k.pop()).collect();
        assert_eq!(order, [(3, 1), (5, 0), (5, 1), (5, 2)]);
    }
}
