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
//! The schedule: `debate` has `rounds` rounds of [strong, weak]; `consultancy` has
//! `rounds` turns of the strong side only; `blind` has no turns. Under `sequential` turn
//! order a turn sees every earlier turn; under `simultaneous` it sees only earlier rounds.

use anyhow::{bail, Result};
use rand::{Rng, SeedableRng};

use crate::session::{DebateRecord, DebateStatus, Judgement, Preference, Protocol, Settings, Side, Turn, TurnOrder};
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
        let status = if strong_answer == weak_answer { DebateStatus::Agreement } else { DebateStatus::Pending };
        let mut d = Debate {
            settings: settings.clone(),
            record: DebateRecord {
                index,
                item,
                strong_answer,
                weak_answer,
                strong_correct,
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

    /// The full turn schedule: `(round, side)` in speaking order.
    pub fn schedule(&self) -> Vec<(usize, Side)> {
        if self.record.status == DebateStatus::Agreement {
            return Vec::new();
        }
        let r = self.settings.rounds;
        match self.settings.protocol {
            Protocol::Debate => (1..=r).flat_map(|k| [(k, Side::Strong), (k, Side::Weak)]).collect(),
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
        let visible = match self.settings.turn_order {
            TurnOrder::Sequential => self.record.turns.len(),
            TurnOrder::Simultaneous => self.record.turns.iter().filter(|t| t.round < round).count(),
        };
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

    /// Records the turn `spec` (which must be the current [`Debate::next_turn`]).
    pub fn record_turn(&mut self, spec: &TurnSpec, out: TurnOutput) -> Result<()> {
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
        self.record.turns.push(Turn {
            round: spec.round,
            side: spec.side,
            answer: spec.answer,
            text: out.text,
            tokens: out.tokens,
            stop_reason: out.stop_reason,
            seconds: out.seconds,
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

    /// Appends a judgement; refused before every turn is written or under agreement.
    pub fn record_judgement(&mut self, j: Judgement) -> Result<()> {
        if !self.ready_for_judgement() {
            bail!("debate {} cannot be judged yet (status {:?})", self.record.index, self.record.status);
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
        assert_eq!(seen, vec![(1, Side::Strong, 0), (1, Side::Weak, 1), (2, Side::Strong, 2), (2, Side::Weak, 3)]);
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
