//! Pairwise preference data: the text format shared by files and the built-in
//! generator, and `builtin:preference`.
//!
//! A preference example shows the prompt and **both** responses in one text:
//!
//! ```text
//! {prompt}
//!
//! Response A: {a}
//!
//! Response B: {b}
//! ```
//!
//! with the chosen response at A or B by a seeded coin flip; the label is 1 when A is
//! the chosen (better) one. Showing one response alone (Burns et al.'s reward-modelling
//! format) leaves every model at chance.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::{Dataset, Example, TaskKind};

/// Longest prompt tail and response kept, in characters: feature extraction keeps the
/// start of a text, so long dialogues are cut here, where it matters least (the prompt
/// keeps its end, each response its start).
pub const MAX_PROMPT_CHARS: usize = 600;
pub const MAX_RESPONSE_CHARS: usize = 600;

fn tail(s: &str, max: usize) -> &str {
    let n = s.chars().count();
    if n <= max {
        return s;
    }
    let (i, _) = s.char_indices().nth(n - max).unwrap();
    &s[i..]
}

fn head(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A preference pair's prompt and its two responses, cut as in [`pair_text`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pair {
    pub prompt: String,
    pub a: String,
    pub b: String,
}

impl Pair {
    pub fn new(prompt: &str, a: &str, b: &str) -> Pair {
        Pair {
            prompt: tail(prompt.trim(), MAX_PROMPT_CHARS).to_string(),
            a: head(a.trim(), MAX_RESPONSE_CHARS).to_string(),
            b: head(b.trim(), MAX_RESPONSE_CHARS).to_string(),
        }
    }

    /// The text of one side, `{prompt}\n\nResponse: {response}`, that a model scores on its
    /// own (Bradley–Terry: the head scores `s(A) − s(B)`).
    pub fn side_text(&self, a_side: bool) -> String {
        let r = if a_side { &self.a } else { &self.b };
        if self.prompt.is_empty() {
            format!("Response: {r}")
        } else {
            format!("{}\n\nResponse: {r}", self.prompt)
        }
    }
}

/// The shared text of a preference pair (see the module docs).
pub fn pair_text(prompt: &str, a: &str, b: &str) -> String {
    let prompt = tail(prompt.trim(), MAX_PROMPT_CHARS);
    let a = head(a.trim(), MAX_RESPONSE_CHARS);
    let b = head(b.trim(), MAX_RESPONSE_CHARS);
    if prompt.is_empty() {
        format!("Response A: {a}\n\nResponse B: {b}")
    } else {
        format!("{prompt}\n\nResponse A: {a}\n\nResponse B: {b}")
    }
}

/// Splits two dialogues that share everything up to their last `Assistant:` turn into
/// `(shared prompt, chosen reply, rejected reply)`; when they differ earlier, the prompt
/// is empty and the replies are the whole texts.
pub fn split_dialogue(chosen: &str, rejected: &str) -> (String, String, String) {
    const TURN: &str = "\n\nAssistant:";
    let cut = |s: &str| s.rfind(TURN).or_else(|| s.rfind("Assistant:"));
    if let (Some(i), Some(j)) = (cut(chosen), cut(rejected)) {
        if chosen[..i] == rejected[..j] {
            let skip = if chosen[i..].starts_with(TURN) { TURN.len() } else { "Assistant:".len() };
            return (
                chosen[..i].trim().to_string(),
                chosen[i + skip..].trim().to_string(),
                rejected[j + skip..].trim().to_string(),
            );
        }
    }
    (String::new(), chosen.trim().to_string(), rejected.trim().to_string())
}

const CAPITALS: &[(&str, &str, &str)] = &[
    ("France", "Paris", "Lyon"),
    ("Germany", "Berlin", "Munich"),
    ("Italy", "Rome", "Milan"),
    ("Spain", "Madrid", "Barcelona"),
    ("Canada", "Ottawa", "Toronto"),
    ("Australia", "Canberra", "Sydney"),
    ("Brazil", "Brasília", "Rio de Janeiro"),
    ("Japan", "Tokyo", "Osaka"),
    ("Turkey", "Ankara", "Istanbul"),
    ("Switzerland", "Bern", "Zurich"),
    ("India", "New Delhi", "Mumbai"),
    ("China", "Beijing", "Shanghai"),
    ("Egypt", "Cairo", "Alexandria"),
    ("Nigeria", "Abuja", "Lagos"),
    ("South Africa", "Pretoria", "Johannesburg"),
    ("Morocco", "Rabat", "Casablanca"),
    ("Vietnam", "Hanoi", "Ho Chi Minh City"),
    ("Pakistan", "Islamabad", "Karachi"),
    ("New Zealand", "Wellington", "Auckland"),
    ("Scotland", "Edinburgh", "Glasgow"),
    ("Poland", "Warsaw", "Kraków"),
    ("Netherlands", "Amsterdam", "Rotterdam"),
    ("Norway", "Oslo", "Bergen"),
    ("Kenya", "Nairobi", "Mombasa"),
    ("Argentina", "Buenos Aires", "Córdoba"),
    ("Mexico", "Mexico City", "Guadalajara"),
    ("Russia", "Moscow", "Saint Petersburg"),
    ("Portugal", "Lisbon", "Porto"),
    ("Greece", "Athens", "Thessaloniki"),
    ("Sweden", "Stockholm", "Gothenburg"),
];

const HOWTO: &[(&str, &str)] = &[
    ("How do I boil an egg?", "Place the egg in boiling water for about nine minutes, then cool it in cold water before peeling."),
    ("How can I make my phone battery last longer?", "Lower the screen brightness, turn off background refresh for apps you rarely use, and enable battery saver."),
    ("What is a good way to learn a new language?", "Practise a little every day, use spaced-repetition flashcards for vocabulary, and talk with native speakers."),
    ("How do I remove a coffee stain from a shirt?", "Rinse the stain with cold water from the back, apply a little liquid detergent, let it sit, then wash as usual."),
    ("How should I prepare for a job interview?", "Research the company, practise answers to common questions aloud, and prepare two or three questions to ask."),
    ("How do I keep basil alive indoors?", "Give it six hours of sunlight, water when the top of the soil is dry, and pinch off flower buds."),
    ("How can I fall asleep faster?", "Keep a regular bedtime, avoid screens for an hour before bed, and keep the bedroom cool and dark."),
    ("How do I change a flat bicycle tire?", "Remove the wheel, lever the tire off, replace or patch the inner tube, reseat the tire and pump it up."),
    ("What should I pack for a day hike?", "Water, snacks, a map, sun protection, a light rain jacket, and a charged phone."),
    ("How do I start running as a beginner?", "Alternate one minute of running with two of walking, three times a week, and add a little each week."),
    ("How do I write a good cover letter?", "Address it to a person, show how your experience fits the role in a few specific examples, and keep it to one page."),
    ("How can I save money on groceries?", "Plan meals for the week, shop with a list, buy store brands, and avoid shopping when hungry."),
];

const UNHELPFUL: &[&str] = &[
    "I can't help with that.",
    "Figure it out yourself.",
    "That is a silly question.",
    "No idea, sorry.",
    "Why would you even want to do that?",
    "Just search the internet.",
];

/// `builtin:preference`: `n` generated preference pairs (seeded), mixing four kinds of
/// difference between the chosen and the rejected reply:
///
/// - arithmetic: the right sum or product versus one that is off by a little;
/// - capitals: the capital versus another large city of the same country;
/// - helpfulness: practical advice versus a dismissive reply;
/// - relevance: advice for the question asked versus advice for another question.
///
/// Every kind draws its prompts **without replacement** (each country and each how-to
/// question at most once per kind); once a kind's pool is used up its turns go to
/// arithmetic, whose pool of 15,138 distinct prompts (`a ∘ b`, `a, b ∈ 12..99`, `∘ ∈ {+, ×}`)
/// makes `n = 1000` and more with no repeats. Examples are grouped by their prompt, so the
/// helpfulness and relevance pairs of one question share a split.
pub fn dataset(n: usize, seed: u64) -> Dataset {
    use rand::seq::SliceRandom;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x9e3f_0b1d);
    let mut capitals: Vec<usize> = (0..CAPITALS.len()).collect();
    capitals.shuffle(&mut rng);
    let mut helpful: Vec<usize> = (0..HOWTO.len()).collect();
    helpful.shuffle(&mut rng);
    let mut relevant: Vec<usize> = (0..HOWTO.len()).collect();
    relevant.shuffle(&mut rng);
    let mut sums = std::collections::HashSet::new();
    let mut examples = Vec::with_capacity(n);
    for i in 0..n {
        let kind = match i % 4 {
            1 if !capitals.is_empty() => 1,
            2 if !helpful.is_empty() => 2,
            3 if !relevant.is_empty() => 3,
            _ => 0,
        };
        let (prompt, chosen, rejected) = match kind {
            0 => {
                let (a, b, mul) = loop {
                    let a: i64 = rng.random_range(12..99);
                    let b: i64 = rng.random_range(12..99);
                    let mul = rng.random_bool(0.3);
                    if sums.insert((a, b, mul)) {
                        break (a, b, mul);
                    }
                };
                let (op, v) = if mul { ("×", a * b) } else { ("+", a + b) };
                let off = *[-10i64, -2, -1, 1, 2, 10].choose(&mut rng).unwrap();
                (
                    format!("What is {a} {op} {b}?"),
                    format!("{a} {op} {b} = {v}."),
                    format!("{a} {op} {b} = {}.", v + off),
                )
            }
            1 => {
                let (country, capital, city) = CAPITALS[capitals.pop().unwrap()];
                (
                    format!("What is the capital of {country}?"),
                    format!("The capital of {country} is {capital}."),
                    format!("The capital of {country} is {city}."),
                )
            }
            2 => {
                let (q, good) = HOWTO[helpful.pop().unwrap()];
                (q.to_string(), good.to_string(), UNHELPFUL.choose(&mut rng).unwrap().to_string())
            }
            _ => {
                let k = relevant.pop().unwrap();
                let mut j = rng.random_range(0..HOWTO.len() - 1);
                if j >= k {
                    j += 1;
                }
                (HOWTO[k].0.to_string(), HOWTO[k].1.to_string(), HOWTO[j].1.to_string())
            }
        };
        let chosen_first = rng.random_bool(0.5);
        let (a, b) = if chosen_first { (&chosen, &rejected) } else { (&rejected, &chosen) };
        examples.push(Example {
            id: format!("pref-{i}"),
            group: format!("p:{}", super::normalise(&prompt)),
            text: pair_text(&format!("User: {prompt}"), a, b),
            label: chosen_first,
            pair: Some(Pair::new(&format!("User: {prompt}"), a, b)),
        });
    }
    let mut ds = Dataset::new(TaskKind::Preference, examples);
    ds.spec = "builtin:preference".into();
    ds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialogues_split_at_the_last_assistant_turn() {
        let (p, c, r) = split_dialogue("\n\nHuman: hi\n\nAssistant: hello", "\n\nHuman: hi\n\nAssistant: go away");
        assert_eq!((p.as_str(), c.as_str(), r.as_str()), ("Human: hi", "hello", "go away"));
        let (p, c, _) = split_dialogue("A", "B");
        assert_eq!((p.as_str(), c.as_str()), ("", "A"));
    }

    #[test]
    fn pair_text_cuts_the_prompt_from_the_left() {
        let long = "x".repeat(700) + "END";
        let t = pair_text(&long, "a", "b");
        assert!(t.starts_with(&"x".repeat(597)) && t.contains("END\n\nResponse A: a\n\nResponse B: b"));
        assert_eq!(t.chars().count(), 600 + "\n\nResponse A: a\n\nResponse B: b".len());
    }

    #[test]
    fn generator_is_seeded_balanced_and_shows_both_responses() {
        let ds = dataset(400, 3);
        assert_eq!(ds.examples.len(), 400);
        assert_eq!(ds, dataset(400, 3));
        let pos = ds.examples.iter().filter(|e| e.label).count();
        assert!((160..=240).contains(&pos), "{pos} of 400 have the chosen reply first");
        for e in &ds.examples {
            assert!(e.text.contains("Response A: ") && e.text.contains("Response B: "));
            // the pair's parts are kept for per-response features, and agree with the text
            let p = e.pair.as_ref().expect("a generated pair keeps its parts");
            assert_eq!(e.text, pair_text(&p.prompt, &p.a, &p.b));
            assert!(p.side_text(true).ends_with(&format!("Response: {}", p.a)));
            assert!(p.side_text(false).starts_with(&p.prompt));
        }
        // a capital pair: the label says where the true capital is
        let mut checked = 0;
        for (country, capital, _) in CAPITALS {
            for e in ds.examples.iter().filter(|e| e.text.contains(&format!("capital of {country}?"))) {
                let a = e.text.find("Response A:").unwrap();
                let b = e.text.find("Response B:").unwrap();
                let at = e.text.find(&format!("is {capital}.")).unwrap();
                assert_eq!(e.label, at > a && at < b, "{}", e.text);
                checked += 1;
            }
        }
        assert_eq!(checked, CAPITALS.len(), "each country once");
    }

    #[test]
    fn a_thousand_pairs_have_no_repeated_prompt_or_text() {
        let ds = dataset(1000, 0);
        let texts: std::collections::HashSet<String> =
            ds.examples.iter().map(|e| super::super::normalise(&e.text)).collect();
        assert_eq!(texts.len(), 1000);
        // one group per prompt; a prompt occurs at most twice (helpfulness + relevance)
        let mut per_group: std::collections::HashMap<&str, usize> = Default::default();
        for e in &ds.examples {
            *per_group.entry(e.group.as_str()).or_default() += 1;
        }
        assert!(per_group.values().all(|&c| c <= 2), "{per_group:?}");
        // (`12 + 13` and `12 × 13` normalise to one prompt: they share a group, never a split)
        assert!(per_group.len() > 900, "{}", per_group.len());
    }
}
