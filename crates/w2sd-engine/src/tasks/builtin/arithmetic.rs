//! `builtin:arithmetic`: two-step arithmetic word problems, four numeric choices.
//!
//! Distractors are the results of typical slips (a step skipped, the wrong operation,
//! off by one), then nearby numbers, always distinct and non-negative.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::Rng;

use super::{shuffle_choices, Generated};

const NAMES: &[(&str, &str)] = &[
    ("Ana", "She"),
    ("Ben", "He"),
    ("Chloe", "She"),
    ("Dev", "He"),
    ("Elif", "She"),
    ("Femi", "He"),
    ("Greta", "She"),
    ("Hiro", "He"),
    ("Ines", "She"),
    ("Jonas", "He"),
    ("Kemal", "He"),
    ("Lena", "She"),
];
const THINGS: &[&str] = &["apples", "pencils", "stickers", "marbles", "cookies", "stamps", "shells", "cards"];
const FRIENDS: &[&str] = &["her brother", "a neighbour", "his cousin", "a classmate", "the teacher"];

pub fn item(rng: &mut StdRng) -> Generated {
    let (name, pron) = *NAMES.choose(rng).unwrap();
    let things = *THINGS.choose(rng).unwrap();
    let kind = rng.random_range(0..5);
    let (question, answer, slips): (String, i64, Vec<i64>) = match kind {
        0 => {
            let a = rng.random_range(8..40);
            let b = rng.random_range(3..25);
            let c = rng.random_range(2..a);
            let friend = *FRIENDS.choose(rng).unwrap();
            (
                format!("{name} has {a} {things}. {pron} buys {b} more and then gives {c} to {friend}. How many {things} does {name} have now?"),
                a + b - c,
                vec![a + b + c, a - c, a + b],
            )
        }
        1 => {
            let a = rng.random_range(3..10);
            let b = rng.random_range(4..12);
            let c = rng.random_range(1..a * b);
            (
                format!("{name} buys {a} packs of {things} with {b} {things} in each pack. {pron} uses {c} of them. How many {things} are left?"),
                a * b - c,
                vec![a * b, a + b - c, a * b + c],
            )
        }
        2 => {
            let a = rng.random_range(4..13);
            let b = rng.random_range(2..9);
            let c = rng.random_range(1..20);
            (
                format!("A box holds {a} {things}. {name} fills {b} boxes and then adds {c} loose {things}. How many {things} are there in total?"),
                a * b + c,
                vec![a * b, a + b + c, a * (b + c)],
            )
        }
        3 => {
            let each = rng.random_range(2..12);
            let friends = rng.random_range(2..7);
            let extra = rng.random_range(1..9);
            let total = each * friends;
            (
                format!("{name} shares {total} {things} equally among {friends} friends. Then each friend is given {extra} more. How many {things} does each friend have now?"),
                each + extra,
                vec![total + extra, each, total / friends * extra],
            )
        }
        _ => {
            let price = rng.random_range(2..15);
            let count = rng.random_range(2..6);
            let paid = ((price * count) / 10 + 1 + rng.random_range(0..3)) * 10;
            (
                format!("One bag of {things} costs {price} dollars. {name} buys {count} bags and pays with {paid} dollars. How many dollars of change does {name} get?"),
                paid - price * count,
                vec![price * count, paid - price, paid - price * count + price],
            )
        }
    };
    let mut distractors: Vec<i64> = Vec::new();
    let mut candidates = slips;
    candidates.extend([answer + 1, answer - 1, answer + 2, answer + 10, answer - 2, answer + 5]);
    for c in candidates {
        if c >= 0 && c != answer && !distractors.contains(&c) {
            distractors.push(c);
        }
        if distractors.len() == 3 {
            break;
        }
    }
    let mut bump = 3;
    while distractors.len() < 3 {
        let c = answer + bump;
        if !distractors.contains(&c) {
            distractors.push(c);
        }
        bump += 1;
    }
    let (choices, idx) =
        shuffle_choices(rng, answer.to_string(), distractors.into_iter().map(|d| d.to_string()).collect());
    let mut meta = serde_json::Map::new();
    meta.insert("template".into(), kind.into());
    meta.insert("value".into(), answer.into());
    Generated { question, choices, answer: idx, passage: None, meta }
}

#[cfg(test)]
mod tests {
    #[test]
    fn answers_are_non_negative_numbers() {
        for it in super::super::generate("arithmetic", 100, 3) {
            assert_eq!(it.choices.len(), 4);
            let v: i64 = it.choices[it.answer].parse().unwrap();
            assert!(v >= 0);
            assert_eq!(v, it.meta["value"].as_i64().unwrap());
            for c in &it.choices {
                assert!(c.parse::<i64>().unwrap() >= 0);
            }
        }
    }

    #[test]
    fn a_hand_checked_problem() {
        // Recompute template 0/1/2 answers from the numbers in the question text.
        for it in super::super::generate("arithmetic", 60, 5) {
            let nums: Vec<i64> = it
                .question
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect();
            let want = match it.meta["template"].as_i64().unwrap() {
                0 => nums[0] + nums[1] - nums[2],
                1 => nums[0] * nums[1] - nums[2],
                2 => nums[0] * nums[1] + nums[2],
                3 => nums[0] / nums[1] + nums[2],
                _ => nums[2] - nums[0] * nums[1],
            };
            assert_eq!(it.choices[it.answer], want.to_string(), "{}", it.question);
        }
    }
}
