//! Turning protocol state into prompts (pure; the templates are in [`super::prompts`]).

use anyhow::Result;

use super::prompts::Templates;
use super::protocol::{JudgeView, TurnContext};
use super::quality;
use crate::runtime::{ChatMessage, Prompt};
use crate::session::{Protocol, Side, Turn};
use crate::tasks::TaskItem;

/// The letter of choice `i`: A, B, C, …
pub fn letter(i: usize) -> String {
    ((b'A' + i as u8) as char).to_string()
}

/// The continuations scored for letters: `"A"` after an opened chat assistant turn,
/// `" A"` after a raw prompt ending in `"Answer:"`.
pub fn letter_continuations(k: usize, chat: bool) -> Vec<String> {
    (0..k).map(|i| if chat { letter(i) } else { format!(" {}", letter(i)) }).collect()
}

/// A system + user pair as a prompt: chat messages for chat models, else plain text
/// ending with `raw_cue` (e.g. `"Answer:"`) for base models.
pub fn to_prompt(chat: bool, system: &str, user: &str, raw_cue: &str) -> Prompt {
    if chat {
        Prompt::Chat(vec![ChatMessage::system(system), ChatMessage::user(user)])
    } else {
        Prompt::Raw(format!("{system}\n\n{user}\n\n{raw_cue}"))
    }
}

fn passage_block(item: &TaskItem, show: bool) -> String {
    match (&item.passage, show) {
        (Some(p), true) => format!("Passage:\n{p}\n\n"),
        _ => String::new(),
    }
}

/// `(system, user)` for a debater's turn, from the templates `<template>_system` and
/// `<template>_user` (the built-in pair is `debater`).
pub fn debater_messages(t: &Templates, template: &str, ctx: &TurnContext) -> Result<(String, String)> {
    let item = &ctx.item;
    let opponent = match ctx.protocol {
        Protocol::Debate => format!("Your opponent defends \"{}\".", item.choices[ctx.opponent_answer]),
        _ => format!("The alternative answer is \"{}\".", item.choices[ctx.opponent_answer]),
    };
    let transcript = if ctx.transcript.is_empty() {
        String::new()
    } else {
        let mut s = String::from("\nThe debate so far:\n");
        for turn in &ctx.transcript {
            let who = if turn.side == ctx.side { "You" } else { "Your opponent" };
            s.push_str(&format!("(Round {}) {who} said: \"{}\"\n", turn.round, turn.text.trim()));
        }
        s
    };
    let round = ctx.round.to_string();
    let rounds = ctx.rounds.to_string();
    let user = t.render(
        &format!("{template}_user"),
        &[
            ("passage", &passage_block(item, ctx.show_passage)),
            ("question", &item.question),
            ("my_answer", &item.choices[ctx.answer]),
            ("opponent", &opponent),
            ("transcript", &transcript),
            ("round", &round),
            ("rounds", &rounds),
        ],
    )?;
    Ok((t.render(&format!("{template}_system"), &[])?, user))
}

/// The opening words of a debater's reply (`<template>_prefix`, empty when the
/// template set has none). Small models stay on their assigned answer far more
/// reliably when the reply is started for them.
pub fn debater_prefix(t: &Templates, template: &str, ctx: &TurnContext) -> Result<String> {
    let name = format!("{template}_prefix");
    if !t.map.contains_key(&name) {
        return Ok(String::new());
    }
    t.render(&name, &[("my_answer", &ctx.item.choices[ctx.answer])])
}

/// `(system, user)` for a judge, in one presentation order: with `strong_first` the
/// strong side's answer is A, otherwise the weak side's answer is A. Only the letters
/// change between the orders: the turns are listed in the order they were written, so a
/// reply always follows the turn it answers. Each `<quote>` is marked `<v_quote>` when
/// it is found in the passage and `<u_quote>` when not ([`quality::judge_text`]), even
/// when the judge does not see the passage. Cancelled turns are left out.
pub fn judge_messages(t: &Templates, v: &JudgeView, strong_first: bool) -> Result<(String, String)> {
    let item = &v.item;
    let (a_side, b_side) = if strong_first { (Side::Strong, Side::Weak) } else { (Side::Weak, Side::Strong) };
    let answer_of = |s: Side| if s == Side::Strong { v.strong_answer } else { v.weak_answer };
    let label = |s: Side| if s == a_side { "A" } else { "B" };
    let turns: Vec<&Turn> = v.transcript.iter().filter(|x| !x.is_cancelled()).collect();
    let transcript = if turns.is_empty() {
        String::new()
    } else {
        let mut s = String::from("\nArguments:\n");
        for turn in turns {
            let role = if v.protocol == Protocol::Consultancy { "Consultant" } else { "Debater" };
            s.push_str(&format!(
                "{role} {l} (for answer {l}), round {}: {}\n",
                turn.round,
                quality::judge_text(turn.text.trim(), item.passage.as_deref()),
                l = label(turn.side)
            ));
        }
        s
    };
    let user = t.render(
        "judge_user",
        &[
            ("passage", &passage_block(item, v.show_passage)),
            ("question", &item.question),
            ("answer_a", &item.choices[answer_of(a_side)]),
            ("answer_b", &item.choices[answer_of(b_side)]),
            ("transcript", &transcript),
        ],
    )?;
    Ok((t.render("judge_system", &[])?, user))
}

/// The cyclic rotations of `k` choices: rotation `r` shows choice `(i + r) mod k` as
/// letter `i`. Every choice takes every letter position exactly once over the `k`
/// rotations, which is what cancels a letter bias when scores are averaged.
pub fn rotations(k: usize) -> Vec<Vec<usize>> {
    (0..k).map(|r| (0..k).map(|i| (i + r) % k).collect()).collect()
}

/// `(system, user)` for answering a question alone or after an explanation, choices
/// in their item order.
pub fn answer_messages(
    t: &Templates,
    item: &TaskItem,
    show_passage: bool,
    explanation: Option<&str>,
) -> Result<(String, String)> {
    let order: Vec<usize> = (0..item.choices.len()).collect();
    answer_messages_ordered(t, item, show_passage, explanation, &order)
}

/// [`answer_messages`] with the choices shown in `order`: letter `i` is choice
/// `order[i]` (see [`rotations`]).
pub fn answer_messages_ordered(
    t: &Templates,
    item: &TaskItem,
    show_passage: bool,
    explanation: Option<&str>,
    order: &[usize],
) -> Result<(String, String)> {
    let choices: String =
        order.iter().enumerate().map(|(i, &c)| format!("{}. {}\n", letter(i), item.choices[c])).collect();
    let explanation = match explanation {
        Some(e) => format!("\nAn explanation from a stronger model:\n{}\n\n", e.trim()),
        None => String::new(),
    };
    let user = t.render(
        "answer_user",
        &[
            ("passage", &passage_block(item, show_passage)),
            ("question", &item.question),
            ("choices", &choices),
            ("explanation", &explanation),
        ],
    )?;
    Ok((t.render("answer_system", &[])?, user))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Turn;

    fn item() -> TaskItem {
        TaskItem {
            id: "x".into(),
            question: "Where is the key?".into(),
            choices: vec!["in the shed".into(), "in the attic".into()],
            answer: 0,
            passage: Some("The key is in the shed.".into()),
            meta: Default::default(),
        }
    }

    fn turn(round: usize, side: Side, text: &str) -> Turn {
        Turn {
            round,
            side,
            answer: 0,
            text: text.into(),
            tokens: 1,
            stop_reason: "eos".into(),
            seconds: 0.0,
            flags: Default::default(),
        }
    }

    #[test]
    fn judge_prompt_swaps_letters_and_order_and_hides_passage() {
        let t = Templates::builtin();
        let v = JudgeView {
            item: item(),
            protocol: Protocol::Debate,
            strong_answer: 1,
            weak_answer: 0,
            show_passage: false,
            transcript: vec![turn(1, Side::Strong, "STRONG says"), turn(1, Side::Weak, "WEAK says")],
        };
        let (_, a) = judge_messages(&t, &v, true).unwrap();
        assert!(a.contains("Answer A: in the attic") && a.contains("Answer B: in the shed"));
        assert!(a.find("STRONG says").unwrap() < a.find("WEAK says").unwrap());
        assert!(a.contains("Debater A (for answer A), round 1: STRONG says"));
        assert!(!a.contains("The key is in the shed."));
        let (_, b) = judge_messages(&t, &v, false).unwrap();
        assert!(b.contains("Answer A: in the shed") && b.contains("Answer B: in the attic"));
        // Regression (issue 10): the second order swaps only the letters; the reply
        // still follows the turn it answers.
        assert!(b.find("STRONG says").unwrap() < b.find("WEAK says").unwrap());
        assert!(b.contains("Debater B (for answer B), round 1: STRONG says"));
        assert!(b.contains("Debater A (for answer A), round 1: WEAK says"));
        let (_, c) = judge_messages(&t, &JudgeView { show_passage: true, ..v }, true).unwrap();
        assert!(c.contains("The key is in the shed."));
    }

    #[test]
    fn debater_prompt_shows_what_the_profile_allows() {
        let t = Templates::builtin();
        let ctx = TurnContext {
            item: item(),
            protocol: Protocol::Debate,
            round: 2,
            rounds: 2,
            side: Side::Weak,
            answer: 1,
            opponent_answer: 0,
            show_passage: false,
            transcript: vec![turn(1, Side::Strong, "A1"), turn(1, Side::Weak, "B1")],
        };
        let (_, u) = debater_messages(&t, "debater", &ctx).unwrap();
        assert!(u.contains("You defend the answer \"in the attic\". Your opponent defends \"in the shed\"."));
        assert!(
            u.contains("(Round 1) Your opponent said: \"A1\"")
                && u.contains("(Round 1) You said: \"B1\"")
                && u.contains("round 2 argument (of 2) for \"in the attic\"")
        );
        assert!(!u.contains("The key is in the shed."));
        let (_, u2) = debater_messages(&t, "debater", &TurnContext { show_passage: true, ..ctx }).unwrap();
        assert!(u2.starts_with("Passage:\nThe key is in the shed."));
    }

    #[test]
    fn judge_sees_quotes_marked_and_no_cancelled_turns() {
        let t = Templates::builtin();
        let mut cancelled = turn(1, Side::Weak, "");
        cancelled.stop_reason = "cancelled".into();
        let v = JudgeView {
            item: item(),
            protocol: Protocol::Debate,
            strong_answer: 0,
            weak_answer: 1,
            show_passage: false,
            transcript: vec![
                turn(1, Side::Strong, "<quote>the key is in the shed</quote> <quote>attic</quote>"),
                cancelled,
            ],
        };
        let (_, u) = judge_messages(&t, &v, true).unwrap();
        assert!(u.contains("<v_quote>the key is in the shed</v_quote> <u_quote>attic</u_quote>"), "{u}");
        assert!(!u.contains("Debater B"), "{u}");
    }

    #[test]
    fn rotated_answer_prompts() {
        assert_eq!(rotations(3), vec![vec![0, 1, 2], vec![1, 2, 0], vec![2, 0, 1]]);
        let t = Templates::builtin();
        let (_, u) = answer_messages_ordered(&t, &item(), false, None, &[1, 0]).unwrap();
        assert!(u.contains("A. in the attic\nB. in the shed"), "{u}");
    }

    #[test]
    fn answer_prompt_and_letters() {
        let t = Templates::builtin();
        let (_, u) = answer_messages(&t, &item(), true, Some("It is in the shed.")).unwrap();
        assert!(u.contains("A. in the shed\nB. in the attic") && u.contains("It is in the shed."));
        assert_eq!(letter_continuations(3, true), vec!["A", "B", "C"]);
        assert_eq!(letter_continuations(2, false), vec![" A", " B"]);
        assert!(matches!(to_prompt(false, "s", "u", "Answer:"), Prompt::Raw(r) if r.ends_with("u\n\nAnswer:")));
    }
}
