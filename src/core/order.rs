//! Sorting and keyed sets for the whole core, each compiled once.
//!
//! Every `sort_by` on a new element or comparator type, and every `BTreeMap` with new key and
//! value types, adds its own copy of the algorithm to the wasm module (about 3 KB for a sort,
//! 2–4 KB for a map). The core sorts device labels, remembered statuses and trigger reports,
//! and keeps sets of IDs and phones: all of it goes through the two tools here, so the module
//! holds one quicksort over indices and one binary search.

use std::cmp::Ordering;

/// Sorts `items` by `cmp`, stably: items that compare equal keep their order.
pub fn sort_by<T>(items: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
    let order = sorted_indices(items.len(), &|a, b| match (items.get(a), items.get(b)) {
        (Some(x), Some(y)) => cmp(x, y),
        _ => Ordering::Equal,
    });
    permute(items, order);
}

/// Sorts `items` by the key `key` computes, once per item, stably.
pub fn sort_by_cached_key<T, K: Ord>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    let keys: Vec<K> = items.iter().map(key).collect();
    let order = sorted_indices(items.len(), &|a, b| keys.get(a).cmp(&keys.get(b)));
    permute(items, order);
}

/// `0..len` ordered by `cmp`, ties by index (so the result is stable): the one sort instance.
fn sorted_indices(len: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_unstable_by(|&a, &b| cmp(a, b).then(a.cmp(&b)));
    order
}

/// Rearranges `items` so that position `i` holds the item that was at `order[i]`.
fn permute<T>(items: &mut Vec<T>, order: Vec<usize>) {
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(
        order
            .into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take)),
    );
}

/// Values by text key, the first value of each key kept: a sorted `Vec` searched in halves.
#[derive(Debug)]
pub struct FirstByKey<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for FirstByKey<V> {
    fn default() -> Self {
        FirstByKey {
            entries: Vec::new(),
        }
    }
}

impl<V> FirstByKey<V> {
    /// Adds `value` under `key` unless the key is already there; whether it was added.
    pub fn insert(&mut self, key: &str, value: V) -> bool {
        match self.position(key) {
            Ok(_) => false,
            Err(at) => {
                self.entries.insert(at, (key.to_string(), value));
                true
            }
        }
    }

    /// The value kept for `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        let at = self.position(key).ok()?;
        self.entries.get(at).map(|(_, value)| value)
    }

    /// The values, by key.
    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.entries.into_iter().map(|(_, value)| value)
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// A small deterministic generator, so the model check below needs no dependency.
    fn numbers(seed: u64, len: usize, range: u64) -> Vec<u64> {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 33) % range
            })
            .collect()
    }

    #[test]
    fn sorts_like_the_standard_stable_sort() {
        for seed in 0..200 {
            let len = (seed % 40) as usize;
            // Pairs (key, original position): equal keys must keep their order.
            let items: Vec<(u64, usize)> = numbers(seed, len, 5)
                .into_iter()
                .enumerate()
                .map(|(i, n)| (n, i))
                .collect();
            let mut expected = items.clone();
            expected.sort_by_key(|&(key, _)| key);
            let mut ours = items.clone();
            sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
            assert_eq!(ours, expected, "sort_by, seed {seed}");
            let mut cached = items.clone();
            sort_by_cached_key(&mut cached, |&(key, _)| std::cmp::Reverse(key));
            expected.sort_by_key(|&(key, _)| std::cmp::Reverse(key));
            assert_eq!(cached, expected, "sort_by_cached_key, seed {seed}");
        }
    }

    #[test]
    fn first_by_key_keeps_the_first_value_and_orders_by_key() {
        for seed in 0..100 {
            let keys = numbers(seed, 60, 20);
            let mut ours = FirstByKey::default();
            let mut model = std::collections::BTreeMap::new();
            for (i, key) in keys.iter().enumerate() {
                let key = format!("k{key:02}");
                let fresh = !model.contains_key(&key);
                model.entry(key.clone()).or_insert(i);
                assert_eq!(ours.insert(&key, i), fresh, "seed {seed}");
                assert_eq!(ours.get(&key), model.get(&key));
            }
            assert_eq!(ours.get("absent"), None);
            assert_eq!(
                ours.into_values().collect::<Vec<_>>(),
                model.into_values().collect::<Vec<_>>()
            );
        }
    }
}
