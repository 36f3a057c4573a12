//! Aggregates over judged debates: judge accuracy, mean D with a bootstrap CI, ECE,
//! Brier, win rates, Elo of debater profiles, and Cohen's kappa between judges.
//!
//! All functions are pure; the bootstrap takes an explicit seed.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::session::{DebateRecord, DebateStatus, Judgement, Protocol, Scores, Session, WinRates};
use crate::stats;

/// Bootstrap resamples for CIs.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;
/// Bins of the expected calibration error.
pub const ECE_BINS: usize = 10;

/// One judged debate reduced to what the metrics need.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// The judge's probability for the strong side's answer.
    pub p_strong: f64,
    /// Whether the strong side defended the correct answer.
    pub strong_correct: bool,
}

impl Verdict {
    pub fn d(&self) -> f64 {
        super::score::debate_score(self.p_strong)
    }
    pub fn log_score(&self) -> f64 {
        super::score::log_score(self.p_strong, self.strong_correct)
    }
    pub fn judge_correct(&self) -> bool {
        super::score::judge_correct(self.p_strong, self.strong_correct)
    }
}

/// Judge accuracy: the share of debates where the judge favoured the correct answer,
/// `(1/n) Σ [p_correct > 0.5]`.
pub fn judge_accuracy(v: &[Verdict]) -> f64 {
    stats::fraction(&v.iter().map(|x| x.judge_correct()).collect::<Vec<_>>())
}

/// Mean D, `(1/n) Σ D_i`, and its percentile-bootstrap 95% CI
/// ([`BOOTSTRAP_RESAMPLES`] resamples, seeded).
pub fn mean_d(v: &[Verdict], seed: u64) -> (f64, [f64; 2]) {
    let ds: Vec<f64> = v.iter().map(|x| x.d()).collect();
    let (lo, hi) = stats::bootstrap_mean_ci(&ds, BOOTSTRAP_RESAMPLES, 0.95, seed);
    (stats::mean(&ds), [lo, hi])
}

/// Calibration of `p_strong` against `strong_correct`: ECE with [`ECE_BINS`] equal-width
/// bins, `Σ_b (n_b/n)·|mean p_b − frac correct_b|`, and Brier, `(1/n) Σ (p_strong − y)²`.
pub fn calibration(v: &[Verdict]) -> (f64, f64) {
    let p: Vec<f64> = v.iter().map(|x| x.p_strong).collect();
    let y: Vec<bool> = v.iter().map(|x| x.strong_correct).collect();
    (stats::ece(&p, &y, ECE_BINS), if p.is_empty() { f64::NAN } else { stats::brier(&p, &y) })
}

/// Win rates. A debate is won by the strong side when `p_strong > 0.5` and by the weak
/// side when `p_strong < 0.5` (exactly 0.5 is a tie, won by neither).
/// - `strong`, `weak`: shares of all debates;
/// - `correct_side`: share won by the side that defended the correct answer (= judge accuracy);
/// - `strong_when_correct` / `strong_when_incorrect`: strong's share among debates where it
///   defended the correct / the wrong answer (`NaN` when there are none).
pub fn win_rates(v: &[Verdict]) -> WinRates {
    let strong: Vec<bool> = v.iter().map(|x| x.p_strong > 0.5).collect();
    let weak: Vec<bool> = v.iter().map(|x| x.p_strong < 0.5).collect();
    let correct_side: Vec<bool> = v.iter().map(|x| x.judge_correct()).collect();
    let when =
        |c: bool| -> Vec<bool> { v.iter().filter(|x| x.strong_correct == c).map(|x| x.p_strong > 0.5).collect() };
    WinRates {
        strong: stats::fraction(&strong),
        weak: stats::fraction(&weak),
        correct_side: stats::fraction(&correct_side),
        strong_when_correct: stats::fraction(&when(true)),
        strong_when_incorrect: stats::fraction(&when(false)),
    }
}

/// All aggregates over a list of verdicts.
pub fn scores(v: &[Verdict], agreements: usize, seed: u64) -> Scores {
    let (mean_d, ci) = mean_d(v, seed);
    let (ece, brier) = calibration(v);
    Scores {
        judged: v.len(),
        agreements,
        judge_accuracy: judge_accuracy(v),
        mean_d,
        mean_d_ci: ci,
        mean_log_score: stats::mean(&v.iter().map(|x| x.log_score()).collect::<Vec<_>>()),
        ece,
        brier,
        win_rates: win_rates(v),
    }
}

/// The judgement of `judge` on a debate, or its first judgement when `judge` is `None`.
pub fn pick_judgement<'a>(d: &'a DebateRecord, judge: Option<&str>) -> Option<&'a Judgement> {
    match judge {
        Some(name) => d.judgements.iter().find(|j| j.name == name),
        None => d.judgements.first(),
    }
}

/// The verdicts of a session (see [`pick_judgement`]), in debate order.
pub fn verdicts(s: &Session, judge: Option<&str>) -> Vec<Verdict> {
    s.debates
        .iter()
        .filter(|d| d.status == DebateStatus::Judged)
        .filter_map(|d| {
            pick_judgement(d, judge).map(|j| Verdict { p_strong: j.p_strong, strong_correct: d.strong_correct })
        })
        .collect()
}

/// The session's aggregates for one judge (the first judgement of each debate when `None`).
/// The bootstrap is seeded with the session seed.
pub fn session_scores(s: &Session, judge: Option<&str>) -> Scores {
    let agreements = s.debates.iter().filter(|d| d.status == DebateStatus::Agreement).count();
    scores(&verdicts(s, judge), agreements, s.settings.seed)
}

/// Initial Elo rating of every profile.
pub const ELO_INITIAL: f64 = 1000.0;
/// Elo K-factor (small, because one session holds many games between the same pair).
pub const ELO_K: f64 = 16.0;

/// One game between two debater profiles: `score_a` is 1 if `a` won, 0 if `b` won, ½ a tie.
#[derive(Debug, Clone, PartialEq)]
pub struct Game {
    pub a: String,
    pub b: String,
    pub score_a: f64,
}

/// Sequential Elo over games in order. Every profile starts at `initial`; after a game,
/// with expected score `E_a = 1 / (1 + 10^((R_b − R_a)/400))`,
/// `R_a ← R_a + K (S_a − E_a)` and `R_b ← R_b + K ((1 − S_a) − (1 − E_a))`.
pub fn elo(games: &[Game], k: f64, initial: f64) -> BTreeMap<String, f64> {
    let mut r: BTreeMap<String, f64> = BTreeMap::new();
    for g in games {
        let ra = *r.get(&g.a).unwrap_or(&initial);
        let rb = *r.get(&g.b).unwrap_or(&initial);
        let ea = 1.0 / (1.0 + 10f64.powf((rb - ra) / 400.0));
        r.insert(g.a.clone(), ra + k * (g.score_a - ea));
        r.insert(g.b.clone(), rb + k * ((1.0 - g.score_a) - (1.0 - ea)));
    }
    r
}

/// The games of a set of sessions, in the order given: one per judged debate of the
/// `debate` protocol (consultancy and blind have no opponent argument), strong profile
/// vs weak profile, scored by the first judgement (`p_strong > 0.5` → 1, `< 0.5` → 0,
/// else ½). Sessions should be passed oldest first.
pub fn games(sessions: &[Session]) -> Vec<Game> {
    let mut out = Vec::new();
    for s in sessions.iter().filter(|s| s.settings.protocol == Protocol::Debate) {
        for d in s.debates.iter().filter(|d| d.status == DebateStatus::Judged) {
            if let Some(j) = d.judgements.first() {
                let score_a = if j.p_strong > 0.5 {
                    1.0
                } else if j.p_strong < 0.5 {
                    0.0
                } else {
                    0.5
                };
                out.push(Game { a: s.provenance.strong.name.clone(), b: s.provenance.weak.name.clone(), score_a });
            }
        }
    }
    out
}

/// Agreement between two judges who judged the same debates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgeAgreement {
    pub judge_a: String,
    pub judge_b: String,
    /// Debates both judged.
    pub n: usize,
    /// Cohen's kappa of their verdicts (strong `p > 0.5` vs not), see [`stats::cohen_kappa`].
    #[serde(with = "crate::session::schema::nullable")]
    pub kappa: f64,
}

/// Cohen's kappa for every pair of judge names that judged at least one common debate.
pub fn judge_agreement(s: &Session) -> Vec<JudgeAgreement> {
    let mut names: Vec<String> = Vec::new();
    for d in &s.debates {
        for j in &d.judgements {
            if !names.contains(&j.name) {
                names.push(j.name.clone());
            }
        }
    }
    let mut out = Vec::new();
    for i in 0..names.len() {
        for k in i + 1..names.len() {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for d in &s.debates {
                if let (Some(x), Some(y)) = (pick_judgement(d, Some(&names[i])), pick_judgement(d, Some(&names[k]))) {
                    a.push((x.p_strong > 0.5) as usize);
                    b.push((y.p_strong > 0.5) as usize);
                }
            }
            if !a.is_empty() {
                out.push(JudgeAgreement {
                    judge_a: names[i].clone(),
                    judge_b: names[k].clone(),
                    n: a.len(),
                    kappa: stats::cohen_kappa(&a, &b),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(p: f64, c: bool) -> Verdict {
        Verdict { p_strong: p, strong_correct: c }
    }

    #[test]
    fn accuracy_d_calibration_by_hand() {
        let xs = [v(0.75, true), v(0.25, true), v(0.5, false), v(0.2, false)];
        // p_correct = 0.75, 0.25, 0.5, 0.8 → correct: T, F, F (0.5 is not), T
        assert_eq!(judge_accuracy(&xs), 0.5);
        // D = ln3, −ln3, 0, ln(0.25) = −ln4 → mean = −ln4/4
        let (m, ci) = mean_d(&xs, 1);
        assert!((m + 4f64.ln() / 4.0).abs() < 1e-12);
        assert!(ci[0] <= m && m <= ci[1]);
        // Brier: (0.25² + 0.75² + 0.5² + 0.2²)/4 = (0.0625 + 0.5625 + 0.25 + 0.04)/4 = 0.22875
        let (ece, brier) = calibration(&xs);
        assert!((brier - 0.22875).abs() < 1e-12);
        // ECE, 10 bins: bin 7 {0.75: y=1} → 0.25; bin 2 {0.25: y=1, 0.2: y=0} → mean 0.225,
        // frac 0.5 → 0.275·2; bin 5 {0.5: y=0} → 0.5. Total (0.25 + 0.55 + 0.5)/4 = 0.325
        assert!((ece - 0.325).abs() < 1e-12, "{ece}");
    }

    #[test]
    fn win_rates_by_hand() {
        let xs = [v(0.9, true), v(0.6, false), v(0.3, false), v(0.5, true)];
        let w = win_rates(&xs);
        assert_eq!(w.strong, 0.5);
        assert_eq!(w.weak, 0.25);
        // correct side won: #1 (strong correct, p>.5), #3 (weak correct, p<.5) → 2/4
        assert_eq!(w.correct_side, 0.5);
        // strong correct in #1, #4 → won #1 only
        assert_eq!(w.strong_when_correct, 0.5);
        // strong wrong in #2, #3 → won #2
        assert_eq!(w.strong_when_incorrect, 0.5);
        assert!(win_rates(&[v(0.9, true)]).strong_when_incorrect.is_nan());
    }

    #[test]
    fn elo_by_hand() {
        // Equal ratings: E = 0.5; a wins: a = 1000 + 16·0.5 = 1008, b = 992.
        let g = |a: &str, b: &str, s: f64| Game { a: a.into(), b: b.into(), score_a: s };
        let r = elo(&[g("s", "w", 1.0)], ELO_K, ELO_INITIAL);
        assert_eq!(r["s"], 1008.0);
        assert_eq!(r["w"], 992.0);
        // Second game, w wins: E_s = 1/(1 + 10^(−16/400)) = 0.546019…; s ← 1008 − 16·0.546019
        let r = elo(&[g("s", "w", 1.0), g("s", "w", 0.0)], ELO_K, ELO_INITIAL);
        let e = 1.0 / (1.0 + 10f64.powf(-16.0 / 400.0));
        assert!((r["s"] - (1008.0 - 16.0 * e)).abs() < 1e-9);
        assert!((r["s"] + r["w"] - 2000.0).abs() < 1e-9, "Elo is zero-sum");
        // A tie between equals changes nothing.
        assert_eq!(elo(&[g("a", "b", 0.5)], 16.0, 1000.0)["a"], 1000.0);
    }
}
