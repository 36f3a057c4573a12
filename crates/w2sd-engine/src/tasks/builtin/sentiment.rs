//! `builtin:sentiment`: short product reviews built around negation and contrast.
//! Choices are always `["negative", "positive"]`; **answer 1 = positive** (the binary
//! convention shared with weak-to-strong training: for 2-choice items, answer 1 is the
//! positive class).
//!
//! The label is fixed first (50/50), then a template that expresses it is chosen. Most
//! templates put a word of the opposite polarity on the surface ("not bad", "I
//! expected it to be great, but…"), so word counting is not enough.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::Rng;

use super::Generated;

const PRODUCTS: &[&str] = &[
    "kettle",
    "blender",
    "backpack",
    "desk lamp",
    "phone case",
    "toaster",
    "headphones",
    "office chair",
    "umbrella",
    "coffee grinder",
];
const ASPECTS: &[&str] = &[
    "the build quality",
    "the battery",
    "the price",
    "the design",
    "the sound",
    "the handle",
    "the instructions",
    "the packaging",
];
const POS: &[&str] = &["excellent", "great", "sturdy", "reliable", "lovely", "impressive", "well made", "fantastic"];
const NEG: &[&str] =
    &["flimsy", "terrible", "disappointing", "awful", "cheap-feeling", "useless", "poorly made", "annoying"];

/// Templates: `(positive?, text)` with `{p}` product, `{a}`/`{b}` aspects, `{pos}`/`{neg}` adjectives.
const TEMPLATES: &[(bool, &str)] = &[
    (true, "This {p} is not {neg} at all. In fact {a} is {pos}."),
    (true, "I expected {a} to be {neg}, but it turned out {pos}. I would buy this {p} again."),
    (true, "Although {a} is a bit {neg}, {b} is so {pos} that I love this {p}."),
    (true, "Not a bad {p}. Honestly, it is one of the most {pos} things I own."),
    (true, "My friend said this {p} was {neg}. She was wrong: {a} is {pos}."),
    (true, "I can't say anything {neg} about this {p}; {a} is {pos}."),
    (false, "This {p} is not {pos} at all. {a_cap} is {neg}."),
    (false, "I expected {a} to be {pos}, but it turned out {neg}. I returned the {p}."),
    (false, "Although {a} is {pos}, {b} is so {neg} that I regret buying this {p}."),
    (false, "The box says this {p} is {pos}. It is not; {a} is {neg}."),
    (false, "{a_cap} looked {pos} in the photos, yet in person the {p} feels {neg}."),
    (false, "I wanted to like this {p}, and {a} is {pos}, but {b} is {neg} and ruins it."),
];

pub fn item(rng: &mut StdRng) -> Generated {
    let positive = rng.random_bool(0.5);
    let options: Vec<&(bool, &str)> = TEMPLATES.iter().filter(|(p, _)| *p == positive).collect();
    let (_, template) = **options.choose(rng).unwrap();
    let template_index = TEMPLATES.iter().position(|(_, t)| *t == template).unwrap();
    let a = *ASPECTS.choose(rng).unwrap();
    let b = loop {
        let b = *ASPECTS.choose(rng).unwrap();
        if b != a {
            break b;
        }
    };
    let text = template
        .replace("{p}", PRODUCTS.choose(rng).unwrap())
        .replace("{a_cap}", &capitalize(a))
        .replace("{a}", a)
        .replace("{b}", b)
        .replace("{pos}", POS.choose(rng).unwrap())
        .replace("{neg}", NEG.choose(rng).unwrap());
    let mut meta = serde_json::Map::new();
    meta.insert("label".into(), (positive as u8).into());
    meta.insert("template".into(), template_index.into());
    meta.insert("text".into(), text.clone().into());
    Generated {
        question: format!("Review: \"{text}\"\nIs the sentiment of this review negative or positive?"),
        choices: vec!["negative".into(), "positive".into()],
        answer: positive as usize,
        passage: None,
        meta,
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn binary_convention_and_balance() {
        let items = super::super::generate("sentiment", 200, 4);
        let pos = items.iter().filter(|t| t.answer == 1).count();
        assert!((70..=130).contains(&pos), "{pos} positives of 200");
        for it in &items {
            assert_eq!(it.choices, vec!["negative".to_string(), "positive".to_string()]);
            assert_eq!(it.meta["label"].as_u64().unwrap() as usize, it.answer);
            assert!(!it.question.contains('{'), "{}", it.question);
        }
        // Hand-checked: a negated negative word is a positive review.
        let t = super::TEMPLATES[0];
        assert!(t.0 && t.1.contains("not {neg}"));
    }
}
