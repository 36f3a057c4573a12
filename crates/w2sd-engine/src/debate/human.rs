//! The human judge API (called by the TUI).
//!
//! A person gives a probability for the strong side's answer on the 5%…95% scale in
//! steps of 5%; exactly 50% is refused (the judge must lean one way). In blind mode
//! the sides are shown as "Debater 1" (left) and "Debater 2" (right) in a seeded random
//! order, model names hidden, and the shuffle is recorded with the judgement.

use rand::Rng;

use super::protocol::debate_rng;
use super::score;
use crate::session::{now_rfc3339, DebateRecord, JudgeKind, Judgement, Shuffle, Side};

/// The allowed percentages: 5, 10, …, 45, 55, …, 95.
pub const HUMAN_SCALE: [u32; 18] = [5, 10, 15, 20, 25, 30, 35, 40, 45, 55, 60, 65, 70, 75, 80, 85, 90, 95];

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HumanJudgeError {
    #[error("exactly 50% is not allowed: lean towards one answer (45% or 55% at the least)")]
    Indifferent,
    #[error("{0}% is off the scale: use 5%, 10%, …, 95% in steps of 5% (not 50%)")]
    OffScale(u32),
    #[error("the judge's name is empty")]
    NoName,
    #[error("debate {0} is not ready to be judged (its turns are not all written, or both sides agree)")]
    NotReady(usize),
}

/// Checks a percentage against the scale and returns it as a probability.
pub fn scale_probability(percent: u32) -> Result<f64, HumanJudgeError> {
    if percent == 50 {
        return Err(HumanJudgeError::Indifferent);
    }
    if !HUMAN_SCALE.contains(&percent) {
        return Err(HumanJudgeError::OffScale(percent));
    }
    Ok(percent as f64 / 100.0)
}

/// The seeded left/right order of a blind judgement of debate `index`.
pub fn blind_shuffle(seed: u64, index: usize) -> Shuffle {
    Shuffle { strong_left: debate_rng(seed, index, 2).random_bool(0.5) }
}

impl Shuffle {
    /// The side shown on the left ("Debater 1").
    pub fn left(&self) -> Side {
        if self.strong_left {
            Side::Strong
        } else {
            Side::Weak
        }
    }
    /// The neutral label of a side: "Debater 1" (left) or "Debater 2" (right).
    pub fn label(&self, side: Side) -> &'static str {
        if side == self.left() {
            "Debater 1"
        } else {
            "Debater 2"
        }
    }
    /// Converts a probability for the left side's answer into `p_strong`.
    pub fn p_strong_from_left(&self, p_left: f64) -> f64 {
        if self.strong_left {
            p_left
        } else {
            1.0 - p_left
        }
    }
}

/// A person's verdict on one debate.
#[derive(Debug, Clone, PartialEq)]
pub struct HumanVerdict {
    pub judge_name: String,
    /// Probability, in percent on [`HUMAN_SCALE`], that the strong side's answer is correct.
    /// (In blind mode, convert from the left side with [`Shuffle::p_strong_from_left`] first:
    /// the scale is symmetric, so `100 − p` stays on it.)
    pub percent_strong: u32,
    pub rationale: Option<String>,
    pub seconds: f64,
    /// `Some` when the judge judged blind (sides shuffled, model names hidden).
    pub blind: Option<Shuffle>,
}

/// Builds the judgement of a person, with D and the log score, after checking the scale.
pub fn human_judgement(record: &DebateRecord, v: &HumanVerdict) -> Result<Judgement, HumanJudgeError> {
    let p = scale_probability(v.percent_strong)?;
    if v.judge_name.trim().is_empty() {
        return Err(HumanJudgeError::NoName);
    }
    if !matches!(record.status, crate::session::DebateStatus::Argued | crate::session::DebateStatus::Judged) {
        return Err(HumanJudgeError::NotReady(record.index));
    }
    let (log_score, correct, d_correct) = score::verdict_scores(p, record.strong_correct, record.weak_is_correct());
    Ok(Judgement {
        kind: JudgeKind::Human,
        name: v.judge_name.trim().to_string(),
        p_strong: p,
        orders: Vec::new(),
        rationale: v.rationale.clone().filter(|r| !r.trim().is_empty()),
        seconds: v.seconds,
        blind: v.blind.is_some(),
        shuffle: v.blind,
        d: score::debate_score(p),
        log_score,
        correct,
        at: now_rfc3339(),
        d_correct,
        upto_round: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_refuses_fifty_and_off_steps() {
        assert_eq!(scale_probability(50), Err(HumanJudgeError::Indifferent));
        for bad in [0, 3, 51, 97, 100] {
            assert_eq!(scale_probability(bad), Err(HumanJudgeError::OffScale(bad)));
        }
        assert_eq!(scale_probability(5), Ok(0.05));
        assert_eq!(scale_probability(95), Ok(0.95));
        assert_eq!(HUMAN_SCALE.len(), 18);
        assert!(HUMAN_SCALE.iter().all(|p| HUMAN_SCALE.contains(&(100 - p))));
    }

    #[test]
    fn blind_shuffle_is_seeded_and_converts() {
        let s: Vec<bool> = (0..64).map(|i| blind_shuffle(7, i).strong_left).collect();
        assert_eq!(s, (0..64).map(|i| blind_shuffle(7, i).strong_left).collect::<Vec<_>>());
        assert!(s.iter().any(|x| *x) && s.iter().any(|x| !*x));
        let l = Shuffle { strong_left: false };
        assert_eq!(l.left(), Side::Weak);
        assert_eq!(l.label(Side::Strong), "Debater 2");
        assert!((l.p_strong_from_left(0.7) - 0.3).abs() < 1e-12);
    }
}
