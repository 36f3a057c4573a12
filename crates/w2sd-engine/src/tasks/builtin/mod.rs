//! Built-in generated task suites. Nothing is downloaded; ground truth is computed by
//! the generator. Item `i` of a suite depends only on `(suite, seed, i)`, so a run with
//! more items extends a run with fewer.
//!
//! Determinism holds for a given build: the generators use `rand`'s seeded `StdRng`,
//! whose stream is fixed for the locked `rand` version.

pub mod arithmetic;
pub mod capitals;
pub mod reading;
pub mod sentiment;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::TaskItem;

/// Generates `n` items of the suite `name` (one of [`super::BUILTIN_SUITES`]).
///
/// # Panics
/// On an unknown suite name; [`super::TaskSpec::parse`] rejects those first.
pub fn generate(name: &str, n: usize, seed: u64) -> Vec<TaskItem> {
    let make: fn(&mut StdRng) -> Generated = match name {
        "reading" => reading::item,
        "capitals" => capitals::item,
        "arithmetic" => arithmetic::item,
        "sentiment" => sentiment::item,
        other => panic!("unknown built-in suite {other:?}"),
    };
    (0..n)
        .map(|i| {
            let mut rng = item_rng(name, seed, i);
            let g = make(&mut rng);
            let mut meta = g.meta;
            meta.insert("suite".into(), format!("builtin:{name}").into());
            meta.insert("seed".into(), seed.into());
            let item = TaskItem {
                id: format!("{name}-{seed}-{i:04}"),
                question: g.question,
                choices: g.choices,
                answer: g.answer,
                passage: g.passage,
                meta,
            };
            debug_assert!(item.validate().is_ok());
            item
        })
        .collect()
}

/// What a generator returns for one item (the id and suite metadata are added here).
pub struct Generated {
    pub question: String,
    pub choices: Vec<String>,
    pub answer: usize,
    pub passage: Option<String>,
    pub meta: serde_json::Map<String, serde_json::Value>,
}

/// A per-item generator seeded from `(suite, seed, index)` by an FNV-1a hash of the
/// suite name mixed with SplitMix64.
fn item_rng(name: &str, seed: u64, index: usize) -> StdRng {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in name.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    let mut z = h ^ seed.wrapping_mul(0x9E3779B97F4A7C15) ^ (index as u64).wrapping_mul(0xD1B54A32D192ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
    StdRng::seed_from_u64(z ^ (z >> 31))
}

/// Shuffles `correct` in among `distractors` and returns `(choices, answer index)`.
pub(crate) fn shuffle_choices(rng: &mut StdRng, correct: String, distractors: Vec<String>) -> (Vec<String>, usize) {
    let mut choices = distractors;
    let at = rng.random_range(0..=choices.len());
    choices.insert(at, correct);
    (choices, at)
}

/// Picks `k` distinct elements.
pub(crate) fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T], k: usize) -> Vec<&'a T> {
    let mut v: Vec<&T> = xs.iter().collect();
    v.shuffle(rng);
    v.truncate(k);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_is_valid_deterministic_and_prefix_stable() {
        for name in super::super::BUILTIN_SUITES {
            let a = generate(name, 40, 9);
            let b = generate(name, 40, 9);
            assert_eq!(a, b, "{name} is not deterministic");
            assert_eq!(&generate(name, 10, 9)[..], &a[..10], "{name} is not prefix-stable");
            assert_ne!(generate(name, 40, 10), a, "{name} ignores the seed");
            for it in &a {
                it.validate().unwrap();
                let mut c = it.choices.clone();
                c.sort();
                c.dedup();
                assert_eq!(c.len(), it.choices.len(), "{name}: duplicate choices in {it:?}");
            }
            // Correct answers land in more than one position.
            let positions: std::collections::HashSet<usize> = a.iter().map(|t| t.answer).collect();
            assert!(positions.len() >= 2, "{name}: answer always at the same index");
        }
    }
}
