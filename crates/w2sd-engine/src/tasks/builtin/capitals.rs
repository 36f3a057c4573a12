//! `builtin:capitals`: "What is the capital of X?", four choices from a built-in table.

use rand::rngs::StdRng;
use rand::Rng;

use super::{pick, shuffle_choices, Generated};

/// (country, capital). 80 countries; capitals are distinct.
pub const CAPITALS: &[(&str, &str)] = &[
    ("Argentina", "Buenos Aires"),
    ("Australia", "Canberra"),
    ("Austria", "Vienna"),
    ("Bangladesh", "Dhaka"),
    ("Belgium", "Brussels"),
    ("Bolivia", "Sucre"),
    ("Brazil", "Brasília"),
    ("Bulgaria", "Sofia"),
    ("Canada", "Ottawa"),
    ("Chile", "Santiago"),
    ("China", "Beijing"),
    ("Colombia", "Bogotá"),
    ("Croatia", "Zagreb"),
    ("Cuba", "Havana"),
    ("Czech Republic", "Prague"),
    ("Denmark", "Copenhagen"),
    ("Ecuador", "Quito"),
    ("Egypt", "Cairo"),
    ("Estonia", "Tallinn"),
    ("Ethiopia", "Addis Ababa"),
    ("Finland", "Helsinki"),
    ("France", "Paris"),
    ("Germany", "Berlin"),
    ("Ghana", "Accra"),
    ("Greece", "Athens"),
    ("Hungary", "Budapest"),
    ("Iceland", "Reykjavík"),
    ("India", "New Delhi"),
    ("Indonesia", "Jakarta"),
    ("Iran", "Tehran"),
    ("Iraq", "Baghdad"),
    ("Ireland", "Dublin"),
    ("Israel", "Jerusalem"),
    ("Italy", "Rome"),
    ("Japan", "Tokyo"),
    ("Jordan", "Amman"),
    ("Kazakhstan", "Astana"),
    ("Kenya", "Nairobi"),
    ("Latvia", "Riga"),
    ("Lebanon", "Beirut"),
    ("Lithuania", "Vilnius"),
    ("Malaysia", "Kuala Lumpur"),
    ("Mexico", "Mexico City"),
    ("Mongolia", "Ulaanbaatar"),
    ("Morocco", "Rabat"),
    ("Nepal", "Kathmandu"),
    ("Netherlands", "Amsterdam"),
    ("New Zealand", "Wellington"),
    ("Nigeria", "Abuja"),
    ("Norway", "Oslo"),
    ("Pakistan", "Islamabad"),
    ("Peru", "Lima"),
    ("Philippines", "Manila"),
    ("Poland", "Warsaw"),
    ("Portugal", "Lisbon"),
    ("Romania", "Bucharest"),
    ("Russia", "Moscow"),
    ("Saudi Arabia", "Riyadh"),
    ("Senegal", "Dakar"),
    ("Serbia", "Belgrade"),
    ("Singapore", "Singapore"),
    ("Slovakia", "Bratislava"),
    ("Slovenia", "Ljubljana"),
    ("South Africa", "Pretoria"),
    ("South Korea", "Seoul"),
    ("Spain", "Madrid"),
    ("Sri Lanka", "Sri Jayawardenepura Kotte"),
    ("Sweden", "Stockholm"),
    ("Switzerland", "Bern"),
    ("Syria", "Damascus"),
    ("Tanzania", "Dodoma"),
    ("Thailand", "Bangkok"),
    ("Tunisia", "Tunis"),
    ("Turkey", "Ankara"),
    ("Uganda", "Kampala"),
    ("Ukraine", "Kyiv"),
    ("United Kingdom", "London"),
    ("United States", "Washington, D.C."),
    ("Uruguay", "Montevideo"),
    ("Vietnam", "Hanoi"),
];

pub fn item(rng: &mut StdRng) -> Generated {
    let k = rng.random_range(0..CAPITALS.len());
    let (country, capital) = CAPITALS[k];
    let others: Vec<&str> = CAPITALS.iter().filter(|(c, _)| *c != country).map(|(_, cap)| *cap).collect();
    let distractors: Vec<String> = pick(rng, &others, 3).into_iter().map(|s| s.to_string()).collect();
    let (choices, answer) = shuffle_choices(rng, capital.to_string(), distractors);
    let mut meta = serde_json::Map::new();
    meta.insert("country".into(), country.into());
    Generated { question: format!("What is the capital of {country}?"), choices, answer, passage: None, meta }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_large_and_distinct() {
        assert!(CAPITALS.len() >= 60);
        let mut caps: Vec<&str> = CAPITALS.iter().map(|(_, c)| *c).collect();
        caps.sort();
        caps.dedup();
        assert_eq!(caps.len(), CAPITALS.len());
    }

    #[test]
    fn answer_is_the_table_capital() {
        for it in super::super::generate("capitals", 50, 1) {
            let country = it.meta["country"].as_str().unwrap();
            let cap = CAPITALS.iter().find(|(c, _)| *c == country).unwrap().1;
            assert_eq!(it.choices[it.answer], cap);
            assert_eq!(it.choices.len(), 4);
        }
    }
}
