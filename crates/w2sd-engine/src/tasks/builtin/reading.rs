//! `builtin:reading`: synthetic reading comprehension. A passage of five small
//! invented facts (schedules, places, quantities, …) and a question that only the
//! passage answers; 2–4 choices.
//!
//! The asked-about kind of fact appears twice in the passage (about different
//! things), and the value of the other one is always a distractor, so a reader who
//! skims or who guesses from world knowledge is not enough.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::{pick, shuffle_choices, Generated};

const PEOPLE: &[&str] = &["Mira", "Tomas", "Aiko", "Rafael", "Nadia", "Owen", "Priya", "Lukas", "Zara", "Emeka"];
const EVENTS: &[&str] =
    &["piano lesson", "dentist appointment", "book club", "football practice", "yoga class", "pottery course"];
const TIMES: &[&str] =
    &["7:15", "7:30", "8:45", "9:00", "10:20", "11:40", "13:05", "14:30", "16:10", "17:45", "18:20", "19:50"];
const MARKETS: &[&str] = &[
    "the flower market",
    "the night market",
    "the farmers' market",
    "the book fair",
    "the craft fair",
    "the fish auction",
];
const DAYS: &[&str] = &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const OBJECTS: &[&str] = &["spare key", "old map", "blue notebook", "silver whistle", "camping stove", "first-aid kit"];
const PLACES: &[&str] =
    &["garden shed", "kitchen drawer", "attic", "glovebox", "hallway cupboard", "basement", "top shelf", "toolbox"];
const SHOPS: &[(&str, &str)] = &[
    ("the bakery", "loaves"),
    ("the hardware store", "hammers"),
    ("the corner shop", "newspapers"),
    ("the bookshop", "atlases"),
    ("the florist", "bouquets"),
    ("the bike shop", "helmets"),
];
const TOWNS: &[&str] = &["Dunmore", "Ashford", "Kelby", "Marrow Bay", "Pinecliff", "Oldbridge", "Wenlock"];
const BUILDINGS: &[&str] =
    &["the library", "the town hall", "the old mill", "the school", "the lighthouse", "the museum"];
const COLOURS: &[&str] = &["red", "green", "yellow", "blue", "white", "orange", "purple", "grey"];

/// Kinds of fact; each yields `count` facts about distinct things with distinct values.
const KINDS: &[&str] = &["time", "day", "place", "quantity", "stop", "colour"];

struct Fact {
    sentence: String,
    question: String,
    value: String,
    /// Other plausible values of this kind, for distractors.
    pool: Vec<String>,
}

fn facts(rng: &mut StdRng, kind: usize, count: usize) -> Vec<Fact> {
    let strs = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    match kind {
        0 => {
            let people = pick(rng, PEOPLE, count);
            let events = pick(rng, EVENTS, count);
            let times = pick(rng, TIMES, count);
            (0..count)
                .map(|i| Fact {
                    sentence: format!("{}'s {} starts at {}.", people[i], events[i], times[i]),
                    question: format!("At what time does {}'s {} start?", people[i], events[i]),
                    value: times[i].to_string(),
                    pool: strs(TIMES),
                })
                .collect()
        }
        1 => {
            let markets = pick(rng, MARKETS, count);
            let days = pick(rng, DAYS, count);
            (0..count)
                .map(|i| Fact {
                    sentence: format!("{} is held every {}.", capitalize(markets[i]), days[i]),
                    question: format!("On which day is {} held?", markets[i]),
                    value: days[i].to_string(),
                    pool: strs(DAYS),
                })
                .collect()
        }
        2 => {
            let people = pick(rng, PEOPLE, count);
            let objects = pick(rng, OBJECTS, count);
            let places = pick(rng, PLACES, count);
            (0..count)
                .map(|i| Fact {
                    sentence: format!("{} keeps the {} in the {}.", people[i], objects[i], places[i]),
                    question: format!("Where does {} keep the {}?", people[i], objects[i]),
                    value: format!("in the {}", places[i]),
                    pool: PLACES.iter().map(|p| format!("in the {p}")).collect(),
                })
                .collect()
        }
        3 => {
            let shops = pick(rng, SHOPS, count);
            let mut values: Vec<u32> = Vec::new();
            while values.len() < count {
                let v = rng.random_range(12..96);
                if !values.contains(&v) {
                    values.push(v);
                }
            }
            let pool: Vec<String> = (12..96).map(|v: u32| v.to_string()).collect();
            (0..count)
                .map(|i| Fact {
                    sentence: format!("Last week {} sold {} {}.", shops[i].0, values[i], shops[i].1),
                    question: format!("How many {} did {} sell last week?", shops[i].1, shops[i].0),
                    value: values[i].to_string(),
                    pool: pool.clone(),
                })
                .collect()
        }
        4 => {
            let towns = pick(rng, TOWNS, count);
            let mut stops: Vec<u32> = (1..=24).collect();
            stops.shuffle(rng);
            (0..count)
                .map(|i| Fact {
                    sentence: format!("The bus to {} leaves from stop {}.", towns[i], stops[i]),
                    question: format!("From which stop does the bus to {} leave?", towns[i]),
                    value: format!("stop {}", stops[i]),
                    pool: (1..=24).map(|s| format!("stop {s}")).collect(),
                })
                .collect()
        }
        _ => {
            let buildings = pick(rng, BUILDINGS, count);
            let colours = pick(rng, COLOURS, count);
            (0..count)
                .map(|i| Fact {
                    sentence: format!("The door of {} is painted {}.", buildings[i], colours[i]),
                    question: format!("What colour is the door of {}?", buildings[i]),
                    value: colours[i].to_string(),
                    pool: strs(COLOURS),
                })
                .collect()
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

pub fn item(rng: &mut StdRng) -> Generated {
    let target_kind = rng.random_range(0..KINDS.len());
    let mut all = facts(rng, target_kind, 2);
    let others: Vec<usize> = (0..KINDS.len()).filter(|k| *k != target_kind).collect();
    for k in pick(rng, &others, 3) {
        all.extend(facts(rng, *k, 1));
    }
    let mut sentences: Vec<String> = all.iter().map(|f| f.sentence.clone()).collect();
    sentences.shuffle(rng);
    let passage = sentences.join(" ");
    let target = all.remove(0);
    let sibling_value = all[0].value.clone();

    let n_choices = rng.random_range(2..=4);
    let mut distractors = vec![sibling_value];
    let rest: Vec<&String> = target.pool.iter().filter(|v| **v != target.value && !distractors.contains(v)).collect();
    for v in pick(rng, &rest, n_choices - 2) {
        distractors.push((*v).clone());
    }
    distractors.shuffle(rng);
    let (choices, answer) = shuffle_choices(rng, target.value.clone(), distractors);
    let mut meta = serde_json::Map::new();
    meta.insert("fact_kind".into(), KINDS[target_kind].into());
    Generated { question: target.question, choices, answer, passage: Some(passage), meta }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passage_states_the_answer_and_the_sibling() {
        for it in super::super::generate("reading", 80, 2) {
            let p = it.passage.as_deref().unwrap();
            assert!((2..=4).contains(&it.choices.len()));
            let correct = &it.choices[it.answer];
            let bare = correct.trim_start_matches("in the ");
            assert!(p.contains(bare), "{p} / {correct}");
            // At least one distractor also appears in the passage (the sibling fact).
            let in_passage = it
                .choices
                .iter()
                .enumerate()
                .filter(|(i, c)| *i != it.answer && p.contains(&format!(" {}", c.trim_start_matches("in the "))))
                .count();
            assert!(in_passage >= 1, "{p} / {:?}", it.choices);
            assert_eq!(p.matches(". ").count(), 4, "five sentences: {p}");
        }
    }
}
