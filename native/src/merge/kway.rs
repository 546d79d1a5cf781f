//! The one k-way merge: of the CPUs of a buffer, of the buffers of a report, of a host and its
//! guests. Each source is keyed by the time of its next record; the least key comes first and
//! equal keys go to the lower source index, which is the order trace-cmd prints (it scans every
//! CPU of every handle for the smallest time, the first one found winning a tie).
//!
//! A heap makes that O(log k) per record instead of trace-cmd's O(k). It holds no records,
//! only (key, source) pairs: a source is taken out with [`KWay::pop`], read, and put back with
//! its new key by the caller, so a source whose head changes while it is out (report's
//! function_graph printer reads one record ahead) is simply put back with the right key.
//!
//! The least pair is kept beside the heap, not in it: a source put back that still comes first
//! (a CPU's records often come in runs, and a report of one buffer has one source) goes back
//! into that slot and the next pop takes it from there, no heap work at all; one that does not
//! changes places with the heap's least, one sift down (none with two sources).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Clone, Debug, Default)]
pub struct KWay {
    /// The least (key, source) pair, when it is not in the heap: never greater than any pair
    /// of the heap.
    first: Option<(u64, usize)>,
    heap: BinaryHeap<Reverse<(u64, usize)>>,
}

impl KWay {
    pub fn with_capacity(sources: usize) -> KWay {
        KWay { first: None, heap: BinaryHeap::with_capacity(sources) }
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
    #[inline]
    pub fn put_back(&mut self, source: usize, key: Option<u64>) {
        if let Some(key) = key {
            self.push(key, source);
        }
    }

    /// Puts `source` in with the time of its next record. With the slot empty (a source was
    /// just popped) the pair goes there when it comes first; otherwise it changes places with
    /// the heap's least, which goes there: one sift down, where a push and the next pop would
    /// each sift.
    #[inline(always)]
    pub fn push(&mut self, key: u64, source: usize) {
        let pair = (key, source);
        match (self.first, self.heap.peek()) {
            (None, None) => self.first = Some(pair),
            (None, Some(&Reverse(top))) if pair < top => self.first = Some(pair),
            _ => self.push_behind(pair),
        }
    }

    /// [`KWay::push`] of a pair that does not go into the empty slot: the heap's work, apart.
    #[inline(never)]
    fn push_behind(&mut self, pair: (u64, usize)) {
        match self.first {
            None => {
                if let Some(mut top) = self.heap.peek_mut() {
                    self.first = Some(std::mem::replace(&mut *top, Reverse(pair)).0);
                }
            }
            Some(first) if pair < first => {
                self.heap.push(Reverse(first));
                self.first = Some(pair);
            }
            Some(_) => self.heap.push(Reverse(pair)),
        }
    }

    /// The source whose next record comes first, with its key, taken out of the merge.
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, usize)> {
        self.first.take().or_else(|| self.heap.pop().map(|Reverse(k)| k))
    }

    /// What [`KWay::pop`] would return, left in.
    #[inline]
    pub fn peek(&self) -> Option<(u64, usize)> {
        self.first.or_else(|| self.heap.peek().map(|&Reverse(k)| k))
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

    /// Sources popped and put back as a reader does, against a sort of every (key, source).
    #[test]
    fn runs_put_back_first_and_behind_merge_in_order() {
        let keys: [&[u64]; 3] = [&[1, 2, 3, 9, 9, 20], &[2, 2, 4, 5, 21], &[0, 9, 10, 11, 12, 13]];
        let mut next = [0usize; 3];
        let mut k = KWay::build(3, |i| Ok::<_, ()>(keys[i].first().copied())).unwrap();
        let mut got = Vec::new();
        while let Some((key, i)) = k.pop() {
            got.push((key, i));
            next[i] += 1;
            k.put_back(i, keys[i].get(next[i]).copied());
        }
        let mut want: Vec<_> = keys.iter().enumerate().flat_map(|(i, ks)| ks.iter().map(move |&key| (key, i))).collect();
        want.sort();
        assert_eq!(got, want);
    }
}
