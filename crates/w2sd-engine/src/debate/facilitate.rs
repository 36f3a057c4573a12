//! Facilitation Φ: does the strong side's explanation help the weak model answer?
//!
//! For each item:
//! 1. the weak model answers alone: `ŷ_alone = argmax_c log p_W(letter_c | question)`;
//! 2. the strong model picks its own answer `s = argmax_c log p_S(letter_c | question)`
//!    and writes an explanation defending it (one consultancy turn);
//! 3. the weak model answers again after reading it:
//!    `ŷ_with = argmax_c log p_W(letter_c | question, explanation)`.
//!
//! `weak_alone = mean[ŷ_alone = y]`, `weak_with_strong = mean[ŷ_with = y]`,
//! `Φ = gain = weak_with_strong − weak_alone`, with a paired percentile-bootstrap 95% CI
//! (items resampled together, so both accuracies use the same resample).

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::agents::Debater;
use super::metrics::BOOTSTRAP_RESAMPLES;
use super::protocol::TurnContext;
use crate::runtime::CancelToken;
use crate::session::schema::{nullable, nullable_pair};
use crate::session::{DebaterProfile, ModelRecord, PromptRecord, Protocol, Side};
use crate::stats;
use crate::tasks::TaskItem;

/// Version of the facilitation report format.
pub const FACILITATION_VERSION: u32 = 1;

/// One item's facilitation result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacilitationItem {
    pub id: String,
    pub answer: usize,
    /// The strong model's own choice, which its explanation defends.
    pub strong_choice: usize,
    pub explanation: String,
    pub weak_alone_logprobs: Vec<f64>,
    pub weak_with_logprobs: Vec<f64>,
    pub alone_correct: bool,
    pub with_correct: bool,
    /// `softmax(letter logprobs)` at the correct choice, alone and with the explanation.
    pub p_correct_alone: f64,
    pub p_correct_with: f64,
}

/// The facilitation report (`w2sd facilitate --json` prints its summary keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacilitationReport {
    pub version: u32,
    pub tool_version: String,
    pub task: String,
    pub n: usize,
    pub seed: u64,
    pub strong: DebaterProfile,
    pub weak: DebaterProfile,
    pub models: std::collections::BTreeMap<String, ModelRecord>,
    pub prompts: std::collections::BTreeMap<String, PromptRecord>,
    /// Weak accuracy answering alone.
    #[serde(with = "nullable")]
    pub weak_alone: f64,
    /// Weak accuracy after reading the strong explanation.
    #[serde(with = "nullable")]
    pub weak_with_strong: f64,
    /// `weak_with_strong − weak_alone`.
    #[serde(with = "nullable")]
    pub gain: f64,
    #[serde(with = "nullable_pair")]
    pub gain_ci: [f64; 2],
    /// The strong model's own accuracy (its choices by log-probabilities).
    #[serde(with = "nullable")]
    pub strong_alone: f64,
    #[serde(with = "nullable")]
    pub mean_p_correct_alone: f64,
    #[serde(with = "nullable")]
    pub mean_p_correct_with: f64,
    pub items: Vec<FacilitationItem>,
}

fn argmax(xs: &[f64]) -> usize {
    xs.iter().enumerate().fold((0, f64::NEG_INFINITY), |b, (i, &x)| if x > b.1 { (i, x) } else { b }).0
}

/// Accuracy alone, accuracy with, gain and its paired bootstrap CI from per-item hits.
///
/// `gain = mean(with) − mean(alone)`; the CI resamples item indices with replacement and
/// takes the 2.5% and 97.5% quantiles of `mean(with[idx]) − mean(alone[idx])`.
pub fn gain_with_ci(alone: &[bool], with: &[bool], seed: u64) -> (f64, f64, f64, [f64; 2]) {
    assert_eq!(alone.len(), with.len());
    let a = stats::fraction(alone);
    let w = stats::fraction(with);
    let (lo, hi) = stats::bootstrap_ci(alone.len(), BOOTSTRAP_RESAMPLES, 0.95, seed, |idx| {
        let n = idx.len() as f64;
        idx.iter().map(|&i| with[i] as u8 as f64 - alone[i] as u8 as f64).sum::<f64>() / n
    });
    (a, w, w - a, [lo, hi])
}

/// Progress of a facilitation run.
pub enum FacilitationEvent<'a> {
    ItemStart { index: usize, total: usize, item: &'a TaskItem },
    Text(&'a str),
    ItemDone { index: usize, result: &'a FacilitationItem },
}

/// Runs Φ over `items` (see the module docs).
pub fn facilitate(
    items: &[TaskItem],
    strong: &mut dyn Debater,
    weak: &mut dyn Debater,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(FacilitationEvent),
) -> Result<Vec<FacilitationItem>> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        on_event(FacilitationEvent::ItemStart { index: i, total: items.len(), item });
        let alone = weak.choice_logprobs(item, None)?;
        let s_lp = strong.choice_logprobs(item, None)?;
        let s = argmax(&s_lp);
        let mut ranked: Vec<usize> = (0..s_lp.len()).filter(|c| *c != s).collect();
        ranked.sort_by(|a, b| s_lp[*b].partial_cmp(&s_lp[*a]).unwrap_or(std::cmp::Ordering::Equal));
        let ctx = TurnContext {
            item: item.clone(),
            protocol: Protocol::Consultancy,
            round: 1,
            rounds: 1,
            side: Side::Strong,
            answer: s,
            opponent_answer: ranked[0],
            show_passage: strong.profile().sees_passage,
            transcript: Vec::new(),
        };
        let turn = strong.argue(&ctx, cancel, &mut |p| on_event(FacilitationEvent::Text(p)))?;
        if turn.stop_reason == "cancelled" {
            anyhow::bail!("cancelled");
        }
        let with = weak.choice_logprobs(item, Some(&turn.text))?;
        let pc = |lp: &[f64]| stats::softmax(lp)[item.answer];
        let r = FacilitationItem {
            id: item.id.clone(),
            answer: item.answer,
            strong_choice: s,
            explanation: turn.text,
            alone_correct: argmax(&alone) == item.answer,
            with_correct: argmax(&with) == item.answer,
            p_correct_alone: pc(&alone),
            p_correct_with: pc(&with),
            weak_alone_logprobs: alone,
            weak_with_logprobs: with,
        };
        on_event(FacilitationEvent::ItemDone { index: i, result: &r });
        out.push(r);
    }
    Ok(out)
}

/// Summarises per-item results into a report.
#[allow(clippy::too_many_arguments)]
pub fn report(
    task: &str,
    seed: u64,
    strong: DebaterProfile,
    weak: DebaterProfile,
    models: std::collections::BTreeMap<String, ModelRecord>,
    prompts: std::collections::BTreeMap<String, PromptRecord>,
    items: Vec<FacilitationItem>,
) -> FacilitationReport {
    let alone: Vec<bool> = items.iter().map(|r| r.alone_correct).collect();
    let with: Vec<bool> = items.iter().map(|r| r.with_correct).collect();
    let (a, w, g, ci) = gain_with_ci(&alone, &with, seed);
    FacilitationReport {
        version: FACILITATION_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        task: task.into(),
        n: items.len(),
        seed,
        strong,
        weak,
        models,
        prompts,
        weak_alone: a,
        weak_with_strong: w,
        gain: g,
        gain_ci: ci,
        strong_alone: stats::fraction(&items.iter().map(|r| r.strong_choice == r.answer).collect::<Vec<_>>()),
        mean_p_correct_alone: stats::mean(&items.iter().map(|r| r.p_correct_alone).collect::<Vec<_>>()),
        mean_p_correct_with: stats::mean(&items.iter().map(|r| r.p_correct_with).collect::<Vec<_>>()),
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gain_by_hand() {
        // alone: 1 of 4; with: 3 of 4 → gain 0.5
        let alone = [true, false, false, false];
        let with = [true, true, true, false];
        let (a, w, g, ci) = gain_with_ci(&alone, &with, 1);
        assert_eq!((a, w, g), (0.25, 0.75, 0.5));
        assert!(ci[0] <= g && g <= ci[1] && ci[0] >= -1.0 && ci[1] <= 1.0);
        // Paired: identical hit vectors give a degenerate CI at 0.
        let (_, _, g0, ci0) = gain_with_ci(&with, &with, 1);
        assert_eq!((g0, ci0), (0.0, [0.0, 0.0]));
        // Per-item differences are all +1 → CI is exactly [1, 1].
        let (_, _, g1, ci1) = gain_with_ci(&[false; 5], &[true; 5], 3);
        assert_eq!((g1, ci1), (1.0, [1.0, 1.0]));
    }
}
