//! Tables keyed by event id, looked up once per record (the event of a record, a guest id's
//! merged one): ids are small, every kernel's `common_type` being 2 bytes, so a table indexed
//! by id answers without hashing; an id past [`ById::DENSE`] (a wider common_type could carry
//! one, or a hostile `ID:` line) goes to a map instead of growing the table.

use std::collections::HashMap;

#[derive(Clone, Debug)]
pub struct ById<T> {
    dense: Vec<Option<T>>,
    sparse: HashMap<u64, T>,
}

impl<T> Default for ById<T> {
    fn default() -> Self {
        ById { dense: Vec::new(), sparse: HashMap::new() }
    }
}

impl<T: Copy> ById<T> {
    /// Ids kept in the indexed table: all a 2-byte common_type holds.
    const DENSE: u64 = 1 << 16;

    /// Files `value` under `id` unless the id has one: the first filed stays.
    pub fn insert(&mut self, id: u64, value: T) {
        if id < Self::DENSE {
            let i = id as usize;
            if self.dense.len() <= i {
                self.dense.resize_with(i + 1, || None);
            }
            self.dense[i].get_or_insert(value);
        } else {
            self.sparse.entry(id).or_insert(value);
        }
    }

    #[inline]
    pub fn get(&self, id: u64) -> Option<T> {
        if id < Self::DENSE {
            self.dense.get(id as usize).copied().flatten()
        } else {
            self.sparse.get(&id).copied()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_filed_stays_and_wide_ids_are_mapped() {
        let mut t = ById::default();
        for (id, v) in [(12, 900), (5, 5), (70_000, 901), (12, 5), (u64::MAX, 7)] {
            t.insert(id, v);
        }
        assert_eq!([t.get(12), t.get(5), t.get(70_000), t.get(u64::MAX)], [Some(900), Some(5), Some(901), Some(7)]);
        assert_eq!([t.get(6), t.get(70_001), t.get(1 << 40)], [None, None, None]);
        assert!(t.dense.len() <= 13, "the table grows to the largest small id only");
    }
}
