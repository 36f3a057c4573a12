//! The debate protocol as a step-by-step state machine over one [`DebateRecord`].
//!
//! A front end drives it turn by turn:
//! ```text
//! let mut d = Debate::assigned(index, item, &settings, seed);
//! while let Some(spec) = d.next_turn() {
//!     let ctx = d.turn_context(&spec, profile.sees_passage);   // what the debater sees
//!     let out = debater.argue(&ctx, &cancel, &mut on_text)?;   // streamed
//!     d.record_turn(&spec, out)?;
//! }
//! let view = d.judge_view();                                    // what the judge sees
//! d.record_judgement(judgement);
//! ```
//! The schedule: `debate` has `rounds` rounds of two turns, the first speaker (drawn at
//! random per debate and recorded as `first_speaker`) then the other; `consultancy` has
//! `rounds` turns of the strong side only; `blind` has no turns. Under `sequential` turn
//! order a turn sees every earlier turn; under `simultaneous` it sees only earlier
//! rounds; under `simultaneous-first` (the default) round 1 is simultaneous and later
//! rounds sequential. Turns are kept in the order they were written; a judge's two
//! presentation orders swap only the letters.

use anyhow::{bail, Result};
use rand::{Rng, SeedableRng};

use super::quality;
use crate::session::{
    DebateRecord, DebateStatus, Judgement, Preference, Protocol, Settings, Side, Turn, TurnFlags, TurnOrder,
};
use crate::tasks::TaskItem;

/// The next turn to write.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnSpec {
    /// 1-based.
    pub round: usize,
    pub side: Side,
    /// Index into the item's choices of the answer this side defends.
    pub answer: usize,
    /// The answer the other side defends.
    pub opponent_answer: usize,
    /// How many of the recorded turns this turn may see (a prefix of the transcript).
    pub visible: usize,
}

/// What a debater is given for one turn.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnContext {
    pub item: TaskItem,
    pub protocol: Protocol,
    pub round: usize,
    pub rounds: usize,
    pub side: Side,
    pub answer: usize,
    pub opponent_answer: usize,
    /// Whether the debater is shown the passage (its profile's `sees_passage`).
    pub show_passage: bool,
    /// The turns it may see, in order.
    pub transcript: Vec<Turn>,
}

/// What a debater returns for one turn.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnOutput {
    pub text: String,
    pub tokens: usize,
    pub stop_reason: String,
    pub seconds: f64,
}

/// What a judge is given.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeView {
    pub item: TaskItem,
    pub protocol: Protocol,
    pub strong_answer: usize,
    pub weak_answer: usize,
    pub show_passage: bool,
    pub transcript: Vec<Turn>,
}

/// One debate in progress (or finished) with the settings it runs under.
#[derive(Debug, Clone, PartialEq)]
pub struct Debate {
    pub settings: Settings,
    pub record: DebateRecord,
}

/// Seeded per-debate generator for assignment and blind shuffles: SplitMix64 of
/// `(seed, index, salt)`.
/// How many of the `earlier` turns (in the order written) a turn of `round` sees under
/// `order`: all of them when sequential; under `simultaneous` only those of earlier rounds;
/// under `simultaneous-first` none in round 1 and all of them later. Turns are written
/// round by round, so the visible ones are always a prefix.
pub fn visible_turns(order: TurnOrder, earlier: &[Turn], round: usize) -> usize {
    match order {
        TurnOrder::Sequential => earlier.len(),
        TurnOrder::Simultaneous => earlier.iter().filter(|t| t.round < round).count(),
        TurnOrder::SimultaneousFirst if round == 1 => 0,
        TurnOrder::SimultaneousFirst => earlier.len(),
    }
}

pub fn debate_rng(seed: u64, index: usize, salt: u64) -> rand::rngs::StdRng {
    let mut z = seed ^ (index as u64).wrapping_mul(0x9E3779B97F4A7C15) ^ salt.wrapping_mul(0xD1B54A32D192ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
    rand::rngs::StdRng::seed_from_u64(z ^ (z >> 31))
}

impl Debate {
    fn with_answers(
        index: usize,
        item: TaskItem,
        settings: &Settings,
        strong_answer: usize,
        weak_answer: usize,
    ) -> Debate {
        let strong_correct = strong_answer == item.answer;
        let weak_correct = Some(weak_answer == item.answer);
        let status = if strong_answer == weak_answer { DebateStatus::Agreement } else { DebateStatus::Pending };
        let first = if debate_rng(settings.seed, index, 3).random_bool(0.5) { Side::Strong } else { Side::Weak };
        let mut d = Debate {
            settings: settings.clone(),
            record: DebateRecord {
                index,
                item,
                strong_answer,
                weak_answer,
                strong_correct,
                weak_correct,
                first_speaker: Some(first),
                status,
                preference: None,
                turns: Vec::new(),
                judgements: Vec::new(),
            },
        };
        d.refresh_status();
        d
    }

    /// Assigned answers: a fair coin (seeded by `(seed, index)`) decides whether the
    /// strong side defends the correct answer; the other side defends the correct answer
    /// or, when the strong side has it, a wrong choice drawn uniformly.
    pub fn assigned(index: usize, item: TaskItem, settings: &Settings, seed: u64) -> Debate {
        let mut rng = debate_rng(seed, index, 1);
        let strong_correct = rng.random_bool(0.5);
        let wrong: Vec<usize> = (0..item.choices.len()).filter(|c| *c != item.answer).collect();
        let w = wrong[rng.random_range(0..wrong.len())];
        let (s, wk) = if strong_correct { (item.answer, w) } else { (w, item.answer) };
        Self::with_answers(index, item, settings, s, wk)
    }

    /// Self-chosen answers: each side defends its model's preferred choice (argmax of its
    /// log-probabilities over the choice letters). When both prefer the same choice the
    /// debate is recorded as `agreement` and has no turns. Under `consultancy`/`blind`
    /// the weak side's answer is, when it agrees, the strong model's second choice.
    pub fn self_chosen(
        index: usize,
        item: TaskItem,
        settings: &Settings,
        strong_lp: Vec<f64>,
        weak_lp: Vec<f64>,
    ) -> Debate {
        let argmax = |xs: &[f64]| {
            xs.iter().enumerate().fold((0, f64::NEG_INFINITY), |b, (i, &x)| if x > b.1 { (i, x) } else { b }).0
        };
        let s = argmax(&strong_lp);
        let mut w = argmax(&weak_lp);
        if w == s && settings.protocol != Protocol::Debate {
            let mut second: Vec<(usize, f64)> =
                strong_lp.iter().copied().enumerate().filter(|(i, _)| *i != s).collect();
            second.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
            w = second[0].0;
        }
        let mut d = Self::with_answers(index, item, settings, s, w);
        d.record.preference = Some(Preference { strong_logprobs: strong_lp, weak_logprobs: weak_lp });
        d
    }

    /// Resumes a saved record.
    pub fn from_record(settings: &Settings, record: DebateRecord) -> Debate {
        Debate { settings: settings.clone(), record }
    }

    /// The full turn schedule: `(round, side)` in speaking order (the recorded first
    /// speaker opens every round of a debate).
    pub fn schedule(&self) -> Vec<(usize, Side)> {
        if self.record.status == DebateStatus::Agreement {
            return Vec::new();
        }
        let r = self.settings.rounds;
        match self.settings.protocol {
            Protocol::Debate => {
                let f = self.record.first();
                (1..=r).flat_map(|k| [(k, f), (k, f.other())]).collect()
            }
            Protocol::Consultancy => (1..=r).map(|k| (k, Side::Strong)).collect(),
            Protocol::Blind => Vec::new(),
        }
    }

    fn answer_of(&self, side: Side) -> usize {
        match side {
            Side::Strong => self.record.strong_answer,
            Side::Weak => self.record.weak_answer,
        }
    }

    /// The next turn to write, or `None` when every turn is written.
    pub fn next_turn(&self) -> Option<TurnSpec> {
        let (round, side) = *self.schedule().get(self.record.turns.len())?;
        let visible = visible_turns(self.settings.turn_order, &self.record.turns, round);
        Some(TurnSpec {
            round,
            side,
            answer: self.answer_of(side),
            opponent_answer: self.answer_of(side.other()),
            visible,
        })
    }

    /// What the debater of `spec` sees.
    pub fn turn_context(&self, spec: &TurnSpec, sees_passage: bool) -> TurnContext {
        TurnContext {
            item: self.record.item.clone(),
            protocol: self.settings.protocol,
            round: spec.round,
            rounds: self.settings.rounds,
            side: spec.side,
            answer: spec.answer,
            opponent_answer: spec.opponent_answer,
            show_passage: sees_passage,
            transcript: self.record.turns[..spec.visible].to_vec(),
        }
    }

    /// Records the turn `spec` (which must be the current [`Debate::next_turn`]), with
    /// its flags: `cancelled` (stop reason `cancelled`), `cut` (the text ends with
    /// [`quality::CUT_MARK`]), and its [`quality::copy_overlap`] against the opponent's
    /// turns it could see (`copied` above [`quality::COPY_THRESHOLD`]). A non-finite
    /// `seconds` is refused.
    pub fn record_turn(&mut self, spec: &TurnSpec, out: TurnOutput) -> Result<()> {
        if !out.seconds.is_finite() {
            bail!("debate {}: turn time {} is not a finite number; not recorded", self.record.index, out.seconds);
        }
        match self.next_turn() {
            Some(s) if s == *spec => {}
            Some(s) => bail!(
                "turn out of order: expected round {} {}, got round {} {}",
                s.round,
                s.side.as_str(),
                spec.round,
                spec.side.as_str()
            ),
            None => bail!("debate {} has no turn left to record", self.record.index),
        }
        let overlap =
            quality::copy_overlap(&out.text, &quality::opponent_texts(&self.record.turns[..spec.visible], spec.side));
        let flags = TurnFlags {
            cancelled: out.stop_reason == "cancelled",
            cut: out.text.trim_end().ends_with(quality::CUT_MARK),
            copy_overlap: overlap,
            copied: overlap.is_some_and(|x| x > quality::COPY_THRESHOLD),
        };
        self.record.turns.push(Turn {
            round: spec.round,
            side: spec.side,
            answer: spec.answer,
            text: out.text,
            tokens: out.tokens,
            stop_reason: out.stop_reason,
            seconds: out.seconds,
            flags,
        });
        self.refresh_status();
        Ok(())
    }

    /// Whether every turn is written and a judge may read the debate.
    pub fn ready_for_judgement(&self) -> bool {
        matches!(self.record.status, DebateStatus::Argued | DebateStatus::Judged)
    }

    /// What a judge sees (the passage only when the settings allow it).
    pub fn judge_view(&self) -> JudgeView {
        JudgeView {
            item: self.record.item.clone(),
            protocol: self.settings.protocol,
            strong_answer: self.record.strong_answer,
            weak_answer: self.record.weak_answer,
            show_passage: self.settings.judge_sees_passage,
            transcript: self.record.turns.clone(),
        }
    }

    /// What a judge sees when the transcript is cut after round `round` (for accuracy
    /// by round).
    pub fn judge_view_upto(&self, round: usize) -> JudgeView {
        let mut v = self.judge_view();
        v.transcript.retain(|t| t.round <= round);
        v
    }

    /// Appends a judgement; refused before every turn is written, under agreement, or
    /// when a number in it is not finite (NaN would be written as `null` and make the
    /// file unreadable). `log_score` may be NaN only when neither side is correct.
    pub fn record_judgement(&mut self, j: Judgement) -> Result<()> {
        if !self.ready_for_judgement() {
            bail!("debate {} cannot be judged yet (status {:?})", self.record.index, self.record.status);
        }
        let finite = j.p_strong.is_finite()
            && (0.0..=1.0).contains(&j.p_strong)
            && j.d.is_finite()
            && j.seconds.is_finite()
            && (j.log_score.is_finite() || !self.record.has_correct_side())
            && j.d_correct.is_none_or(f64::is_finite)
            && j.orders.iter().all(|o| o.p_strong.is_finite() && o.letter_logprobs.iter().all(|x| !x.is_nan()));
        if !finite {
            bail!(
                "debate {}: the judgement of {} has a non-finite or out-of-range number (p_strong {}); not recorded",
                self.record.index,
                j.name,
                j.p_strong
            );
        }
        self.record.judgements.push(j);
        self.record.status = DebateStatus::Judged;
        Ok(())
    }

    fn refresh_status(&mut self) {
        if self.record.status == DebateStatus::Agreement {
            return;
        }
        self.record.status = if !self.record.judgements.is_empty() {
            DebateStatus::Judged
        } else if self.record.turns.len() >= self.schedule().len() {
            DebateStatus::Argued
        } else {
            DebateStatus::Pending
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Assignment, JudgeSetting, TurnOrder};

    pub(crate) fn settings(protocol: Protocol, rounds: usize, order: TurnOrder) -> Settings {
        Settings {
            task: "builtin:capitals".into(),
            n: 4,
            seed: 3,
            protocol,
            assignment: Assignment::Assigned,
            rounds,
            turn_order: order,
            judge: JudgeSetting::None,
            judge_sees_passage: false,
        }
    }

    fn out(t: &str) -> TurnOutput {
        TurnOutput { text: t.into(), tokens: 1, stop_reason: "eos".into(), seconds: 0.0 }
    }

    #[test]
    fn sequential_debate_schedule_and_visibility() {
        let item = crate::tasks::load("builtin:capitals", Some(1), 1).unwrap().remove(0);
        let mut d = Debate::assigned(0, item, &settings(Protocol::Debate, 2, TurnOrder::Sequential), 3);
        assert_ne!(d.record.strong_answer, d.record.weak_answer);
        assert_eq!(d.record.strong_correct, d.record.strong_answer == d.record.item.answer);
        assert!(d.record.strong_answer == d.record.item.answer || d.record.weak_answer == d.record.item.answer);
        let mut seen = Vec::new();
        while let Some(s) = d.next_turn() {
            assert!(!d.ready_for_judgement());
            seen.push((s.round, s.side, s.visible));
            d.record_turn(&s, out("x")).unwrap();
        }
        let f = d.record.first();
        assert_eq!(seen, vec![(1, f, 0), (1, f.other(), 1), (2, f, 2), (2, f.other(), 3)]);
        assert_eq!(d.record.status, DebateStatus::Argued);
        assert!(d
            .record_turn(
                &TurnSpec { round: 3, side: Side::Strong, answer: 0, opponent_answer: 1, visible: 0 },
                out("y")
            )
            .is_err());
    }

    #[test]
    fn simultaneous_hides_the_same_round_and_out_of_order_is_refused() {
        let item = crate::tasks::load("builtin:capitals", Some(1), 1).unwrap().remove(0);
        let mut d = Debate::assigned(0, item, &settings(Protocol::Debate, 2, TurnOrder::Simultaneous), 3);
        let mut vis = Vec::new();
        while let Some(s) = d.next_turn() {
            vis.push(s.visible);
            let wrong = TurnSpec { side: s.side.other(), ..s.clone() };
            assert!(d.record_turn(&wrong, out("z")).is_err());
            d.record_turn(&s, out("x")).unwrap();
        }
        assert_eq!(vis, vec![0, 0, 2, 2]);
    }

    #[test]
    fn simultaneous_first_hides_only_round_one() {
        let item = crate::tasks::load("builtin:capitals", Some(1), 1).unwrap().remove(0);
        let mut d = Debate::assigned(0, item, &settings(Protocol::Debate, 3, TurnOrder::SimultaneousFirst), 3);
        let mut vis = Vec::new();
        while let Some(s) = d.next_turn() {
            vis.push(s.visible);
            d.record_turn(&s, out("x")).unwrap();
        }
        assert_eq!(vis, vec![0, 0, 2, 3, 4, 5]);
    }

    #[test]
    fn first_speaker_is_random_recorded_and_old_records_default_to_strong() {
        let items = crate::tasks::load("builtin:capitals", Some(40), 1).unwrap();
        let s = settings(Protocol::Debate, 1, TurnOrder::Sequential);
        let firsts: Vec<Side> =
            items.iter().enumerate().map(|(i, t)| Debate::assigned(i, t.clone(), &s, 5).record.first()).collect();
        assert!(firsts.contains(&Side::Strong) && firsts.contains(&Side::Weak));
        let mut d = Debate::assigned(0, items[0].clone(), &s, 5);
        assert!(d.record.first_speaker.is_some());
        d.record.first_speaker = None;
        assert_eq!(d.schedule()[0], (1, Side::Strong));
    }

    #[test]
    fn self_assignment_records_weak_correct_and_flags_neither() {
        // Regression (issue 10): both sides can defend wrong answers with 3+ choices.
        let mut item = crate::tasks::load("builtin:capitals", Some(1), 1).unwrap().remove(0);
        item.answer = 3;
        let s = settings(Protocol::Debate, 1, TurnOrder::Sequential);
        let d = Debate::self_chosen(0, item, &s, vec![-0.1, -2.0, -3.0, -4.0], vec![-2.0, -0.1, -3.0, -4.0]);
        assert_eq!((d.record.strong_correct, d.record.weak_correct), (false, Some(false)));
        assert!(!d.record.has_correct_side());
    }

    #[test]
    fn flags_copy_cut_cancel_and_refuses_non_finite() {
        let item = crate::tasks::load("builtin:capitals", Some(1), 1).unwrap().remove(0);
        let mut d = Debate::assigned(0, item, &settings(Protocol::Debate, 1, TurnOrder::Sequential), 3);
        let s1 = d.next_turn().unwrap();
        let bad = TurnOutput { seconds: f64::NAN, ..out("x") };
        assert!(d.record_turn(&s1, bad).is_err());
        d.record_turn(&s1, out("The capital is the city where the parliament sits today …[cut]")).unwrap();
        assert!(d.record.turns[0].flags.cut && d.record.turns[0].flags.copy_overlap.is_none());
        let s2 = d.next_turn().unwrap();
        d.record_turn(&s2, out("The capital is the city where the parliament sits, so")).unwrap();
        let f = &d.record.turns[1].flags;
        assert!(f.copied && f.copy_overlap.unwrap() > 0.5, "{f:?}");
        let mut c =
            Debate::assigned(0, d.record.item.clone(), &settings(Protocol::Consultancy, 1, TurnOrder::Sequential), 3);
        let sc = c.next_turn().unwrap();
        c.record_turn(&sc, TurnOutput { stop_reason: "cancelled".into(), ..out("") }).unwrap();
        assert!(c.record.turns[0].flags.cancelled && c.record.has_cancelled_turn());
        // A NaN judgement is refused before it reaches the file.
        let j = crate::session::Judgement {
            kind: crate::session::JudgeKind::Model,
            name: "j".into(),
            p_strong: f64::NAN,
            orders: vec![],
            rationale: None,
            seconds: 0.0,
            blind: false,
            shuffle: None,
            d: 0.0,
            log_score: -0.7,
            correct: false,
            at: String::new(),
            d_correct: None,
            upto_round: None,
        };
        assert!(d.record_judgement(j.clone()).is_err());
        assert!(d.record_judgement(crate::session::Judgement { p_strong: 0.6, ..j }).is_ok());
    }

    #[test]
    fn consultancy_blind_and_agreement() {
        let item = crate::tasks::load("builtin:capitals", Some(1), 1).unwrap().remove(0);
        let c = Debate::assigned(0, item.clone(), &settings(Protocol::Consultancy, 2, TurnOrder::Sequential), 3);
        assert_eq!(c.schedule(), vec![(1, Side::Strong), (2, Side::Strong)]);
        let b = Debate::assigned(0, item.clone(), &settings(Protocol::Blind, 2, TurnOrder::Sequential), 3);
        assert!(b.next_turn().is_none() && b.ready_for_judgement());
        let s = settings(Protocol::Debate, 1, TurnOrder::Sequential);
        let a = Debate::self_chosen(0, item.clone(), &s, vec![-1.0, -0.1, -3.0, -2.0], vec![-2.0, -0.5, -1.0, -4.0]);
        assert_eq!(a.record.status, DebateStatus::Agreement);
        assert!(a.next_turn().is_none() && !a.ready_for_judgement());
        let e = Debate::self_chosen(0, item, &s, vec![-1.0, -0.1, -3.0, -2.0], vec![-0.2, -0.5, -1.0, -4.0]);
        assert_eq!((e.record.strong_answer, e.record.weak_answer, e.record.status), (1, 0, DebateStatus::Pending));
    }

    #[test]
    fn assignment_is_seeded_and_balanced() {
        let items = crate::tasks::load("builtin:capitals", Some(200), 1).unwrap();
        let s = settings(Protocol::Debate, 1, TurnOrder::Sequential);
        let a: Vec<bool> = items
            .iter()
            .enumerate()
            .map(|(i, t)| Debate::assigned(i, t.clone(), &s, 5).record.strong_correct)
            .collect();
        let b: Vec<bool> = items
            .iter()
            .enumerate()
            .map(|(i, t)| Debate::assigned(i, t.clone(), &s, 5).record.strong_correct)
            .collect();
        assert_eq!(a, b);
        let k = a.iter().filter(|x| **x).count();
        assert!((70..=130).contains(&k), "{k}");
    }
}
