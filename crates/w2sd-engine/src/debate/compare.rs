//! Protocols side by side on the same items (`w2sd debate compare`): judge accuracy
//! per protocol with 95% intervals, paired differences by a paired bootstrap over
//! items, and accuracy after each round (the judge reading the transcript cut after
//! round r).
//!
//! Items are aligned by their index in the sessions; only items that every protocol
//! has judged (full transcript, a correct side, no cancelled turn) enter, so every
//! figure is over the same items.

use serde::Serialize;

use super::metrics::{pick_judgement, BOOTSTRAP_RESAMPLES};
use crate::session::schema::{nullable, nullable_pair};
use crate::session::{DebateRecord, DebateStatus, Session};
use crate::stats;

/// One protocol's accuracy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProtocolAccuracy {
    pub protocol: String,
    pub n: usize,
    /// `(1/n) Σ [p_correct > 0.5]` over the common items.
    #[serde(with = "nullable")]
    pub accuracy: f64,
    /// Percentile-bootstrap 95% CI over items.
    #[serde(with = "nullable_pair")]
    pub ci: [f64; 2],
    /// Mean judge probability of the correct answer.
    #[serde(with = "nullable")]
    pub mean_p_correct: f64,
    /// Accuracy when the judge read only rounds 1..=r (`r` < the session's rounds; the
    /// last round is `accuracy`), over the common items that have that judgement.
    pub by_round: Vec<RoundAccuracy>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundAccuracy {
    pub round: usize,
    pub n: usize,
    #[serde(with = "nullable")]
    pub accuracy: f64,
    #[serde(with = "nullable_pair")]
    pub ci: [f64; 2],
}

/// `accuracy(a) − accuracy(b)` over the same items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedDifference {
    pub a: String,
    pub b: String,
    pub n: usize,
    #[serde(with = "nullable")]
    pub diff: f64,
    /// Paired percentile-bootstrap 95% CI: items resampled with replacement, the same
    /// resample for both protocols.
    #[serde(with = "nullable_pair")]
    pub ci: [f64; 2],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Items every protocol has judged.
    pub n: usize,
    pub seed: u64,
    pub protocols: Vec<ProtocolAccuracy>,
    pub differences: Vec<PairedDifference>,
}

fn usable(d: &DebateRecord) -> bool {
    d.status == DebateStatus::Judged && d.has_correct_side() && !d.has_cancelled_turn()
}

fn correct_upto(d: &DebateRecord, round: Option<usize>) -> Option<(bool, f64)> {
    let j = match round {
        None => pick_judgement(d, None)?,
        Some(r) => d.judgements.iter().find(|j| j.upto_round == Some(r))?,
    };
    let pc = super::score::p_correct(j.p_strong, d.strong_correct);
    Some((pc > 0.5, pc))
}

/// Accuracy `(1/n) Σ x_i` of 0/1 hits with its percentile-bootstrap 95% CI (seeded).
pub fn accuracy_ci(hits: &[bool], seed: u64) -> (f64, [f64; 2]) {
    let x: Vec<f64> = hits.iter().map(|&h| h as u8 as f64).collect();
    let (lo, hi) = stats::bootstrap_mean_ci(&x, BOOTSTRAP_RESAMPLES, 0.95, seed);
    (stats::mean(&x), [lo, hi])
}

/// Paired difference of accuracies, `mean(a) − mean(b)`, with the paired bootstrap CI.
pub fn paired_difference(a: &[bool], b: &[bool], seed: u64) -> (f64, [f64; 2]) {
    assert_eq!(a.len(), b.len());
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| *x as u8 as f64 - *y as u8 as f64).collect();
    let (lo, hi) = stats::bootstrap_mean_ci(&d, BOOTSTRAP_RESAMPLES, 0.95, seed);
    (stats::mean(&d), [lo, hi])
}

/// Compares sessions of several protocols (`(name, session)`) made on the same items.
pub fn compare(sessions: &[(String, &Session)], seed: u64) -> Comparison {
    let len = sessions.iter().map(|(_, s)| s.debates.len()).min().unwrap_or(0);
    let common: Vec<usize> = (0..len)
        .filter(|&i| {
            let id = &sessions[0].1.debates[i].item.id;
            sessions.iter().all(|(_, s)| {
                let d = &s.debates[i];
                &d.item.id == id && usable(d) && correct_upto(d, None).is_some()
            })
        })
        .collect();
    let hits: Vec<Vec<bool>> = sessions
        .iter()
        .map(|(_, s)| common.iter().map(|&i| correct_upto(&s.debates[i], None).unwrap().0).collect())
        .collect();
    let protocols = sessions
        .iter()
        .zip(&hits)
        .map(|((name, s), h)| {
            let (accuracy, ci) = accuracy_ci(h, seed);
            let mean_p_correct =
                stats::mean(&common.iter().map(|&i| correct_upto(&s.debates[i], None).unwrap().1).collect::<Vec<_>>());
            let by_round = (1..s.settings.rounds)
                .filter_map(|r| {
                    let h: Vec<bool> =
                        common.iter().filter_map(|&i| correct_upto(&s.debates[i], Some(r)).map(|x| x.0)).collect();
                    if h.is_empty() {
                        return None;
                    }
                    let (accuracy, ci) = accuracy_ci(&h, seed);
                    Some(RoundAccuracy { round: r, n: h.len(), accuracy, ci })
                })
                .collect();
            ProtocolAccuracy { protocol: name.clone(), n: h.len(), accuracy, ci, mean_p_correct, by_round }
        })
        .collect();
    let mut differences = Vec::new();
    for a in 0..sessions.len() {
        for b in 0..sessions.len() {
            if a != b && a > b {
                let (diff, ci) = paired_difference(&hits[a], &hits[b], seed);
                differences.push(PairedDifference {
                    a: sessions[a].0.clone(),
                    b: sessions[b].0.clone(),
                    n: common.len(),
                    diff,
                    ci,
                });
            }
        }
    }
    Comparison { n: common.len(), seed, protocols, differences }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_difference_by_hand() {
        // a right on 3 of 4, b on 1 of 4, paired: differences 1, 1, 0, 0 → 0.5.
        let a = [true, true, true, false];
        let b = [false, false, true, false];
        let (d, ci) = paired_difference(&a, &b, 1);
        assert_eq!(d, 0.5);
        assert!(ci[0] >= 0.0 && ci[1] <= 1.0 && ci[0] <= d && d <= ci[1]);
        let (acc, aci) = accuracy_ci(&a, 1);
        assert_eq!(acc, 0.75);
        assert!(aci[0] <= 0.75 && aci[1] >= 0.75);
        // Identical hit vectors: the paired interval is exactly [0, 0].
        assert_eq!(paired_difference(&a, &a, 1), (0.0, [0.0, 0.0]));
    }
}
