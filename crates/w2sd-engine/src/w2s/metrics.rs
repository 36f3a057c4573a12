//! Weak-to-strong metrics: accuracy, AUROC, PGR on both, ECE, student–supervisor
//! agreement and percentile-bootstrap confidence intervals.
//!
//! Everything here is a pure function of per-example probabilities, labels and groups,
//! so anyone holding `predictions.jsonl` recomputes the same numbers bit for bit: the
//! bootstrap is seeded and resamples groups (clusters) in order of first appearance.

use serde::{Deserialize, Serialize};

use crate::stats;

/// Smallest `|ceiling − weak|` for which PGR is reported. Below it PGR is `None`
/// (`null` in JSON) with a warning: the ceiling does not beat the weak supervisor, so
/// there is no gap to recover and the ratio would be `±∞` or `0/0`.
pub const PGR_MIN_GAP: f64 = 1e-9;

/// Performance gap recovered: `PGR = (student − weak) / (ceiling − weak)`.
///
/// 0 means the student is no better than its supervisor, 1 means it matches the ceiling
/// trained on ground truth; values outside `[0, 1]` are possible. `None` when
/// `|ceiling − weak| < PGR_MIN_GAP` or an input is not finite.
pub fn pgr(weak: f64, ceiling: f64, student: f64) -> Option<f64> {
    let gap = ceiling - weak;
    if !(weak.is_finite() && ceiling.is_finite() && student.is_finite()) || gap.abs() < PGR_MIN_GAP {
        return None;
    }
    Some((student - weak) / gap)
}

/// Student–supervisor agreement: the share of rows where both predict the same class
/// (`p ≥ 0.5` ⇔ class 1).
pub fn agreement(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let same: Vec<bool> = a.iter().zip(b).map(|(x, y)| (*x >= 0.5) == (*y >= 0.5)).collect();
    stats::fraction(&same)
}

/// A finite number, else `None` (JSON has no NaN).
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// How confidence intervals are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CiSpec {
    pub resamples: usize,
    pub level: f64,
    pub seed: u64,
}

/// One example's probabilities of class 1 from the three models of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunRow {
    pub label: bool,
    /// The ladder's weak supervisor (`M1`).
    pub weak: f64,
    /// The ceiling: the strong model trained on ground truth.
    pub ceiling: f64,
    /// The student: the strong model trained on its supervisor's labels.
    pub student: f64,
    /// The model whose labels the student was trained on (the weak supervisor for a
    /// direct run, the previous student for a bootstrap step).
    pub supervisor: f64,
}

/// A confidence interval `[lo, hi]`; `None` when no resample gave a finite value.
pub type Ci = Option<[f64; 2]>;

fn ci_pair((lo, hi): (f64, f64)) -> Ci {
    (lo.is_finite() && hi.is_finite()).then_some([lo, hi])
}

/// Intervals for a run (same resamples for every statistic).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunCis {
    pub acc_weak: Ci,
    pub acc_ceiling: Ci,
    pub acc_w2s: Ci,
    pub auroc_w2s: Ci,
    /// Over the resamples whose accuracy gap is positive; `None` when `pgr` is null.
    pub pgr: Ci,
    /// Over the resamples whose AUROC gap is positive; `None` when `pgr_auroc` is null.
    pub pgr_auroc: Ci,
    /// `acc_ceiling − acc_weak`.
    #[serde(default)]
    pub gap: Ci,
    /// `auroc_ceiling − auroc_weak`.
    #[serde(default)]
    pub gap_auroc: Ci,
    #[serde(default)]
    pub acc_supervisor: Ci,
    /// `acc_supervisor − acc_weak`, paired (the same resamples).
    #[serde(default)]
    pub supervisor_gain: Ci,
}

/// Every metric of one run, computed from its rows by [`run_metrics`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    pub n: usize,
    /// Clusters the bootstrap resamples (questions of a multiple-choice task; rows otherwise).
    #[serde(default)]
    pub groups: usize,
    pub acc_weak: f64,
    pub acc_ceiling: f64,
    pub acc_w2s: f64,
    /// `(acc_w2s − acc_weak) / (acc_ceiling − acc_weak)`, only when the gap's interval
    /// lies above 0 (see [`gated_pgr`]); `null` otherwise.
    pub pgr: Option<f64>,
    /// The same ratio whatever the gap (`None` only when it is 0/0): for reading, not for claims.
    #[serde(default)]
    pub pgr_raw: Option<f64>,
    pub auroc_weak: Option<f64>,
    pub auroc_ceiling: Option<f64>,
    pub auroc_w2s: Option<f64>,
    pub pgr_auroc: Option<f64>,
    #[serde(default)]
    pub pgr_auroc_raw: Option<f64>,
    /// ECE with `ece_bins` equal-width bins (see [`crate::stats::ece`]).
    pub ece_weak: f64,
    pub ece_ceiling: f64,
    pub ece_w2s: f64,
    /// Student–supervisor agreement (see [`agreement`]).
    pub agreement: f64,
    /// Accuracy of the model the student learnt from (`= acc_weak` for a direct run from the
    /// ladder's weak supervisor; the debate-assisted supervisor's for a `+debate` run, whose
    /// `acc_supervisor − acc_weak` is the facilitation Φ measured in training).
    #[serde(default)]
    pub acc_supervisor: f64,
    pub ci: RunCis,
}

fn acc_of(rows: &[RunRow], idx: &[usize], f: impl Fn(&RunRow) -> f64) -> f64 {
    let hits = idx.iter().filter(|&&i| (f(&rows[i]) >= 0.5) == rows[i].label).count();
    hits as f64 / idx.len() as f64
}

fn auroc_of(rows: &[RunRow], idx: &[usize], f: impl Fn(&RunRow) -> f64) -> f64 {
    let s: Vec<f64> = idx.iter().map(|&i| f(&rows[i])).collect();
    let y: Vec<bool> = idx.iter().map(|&i| rows[i].label).collect();
    stats::auroc(&s, &y)
}

/// Cluster indices `0..G` of rows from their group names, in order of first appearance.
pub fn cluster_ids<S: AsRef<str>>(groups: &[S]) -> Vec<usize> {
    let mut seen = std::collections::HashMap::new();
    groups
        .iter()
        .map(|g| {
            let k = seen.len();
            *seen.entry(g.as_ref().to_string()).or_insert(k)
        })
        .collect()
}

/// Cluster bootstrap resamples: each draws `G` clusters with replacement (seeded
/// `StdRng`, one `random_range(0..G)` per draw) and lists the rows of the drawn clusters,
/// clusters in draw order, rows in file order. `cluster[i]` is row `i`'s cluster in
/// `0..G` (see [`cluster_ids`]). With one row per cluster, in row order, this is the plain
/// row bootstrap of [`crate::stats::bootstrap_ci`] draw for draw.
pub fn cluster_resamples(cluster: &[usize], resamples: usize, seed: u64) -> Vec<Vec<usize>> {
    use rand::{Rng, SeedableRng};
    let g = cluster.iter().max().map(|m| m + 1).unwrap_or(0);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); g];
    for (i, &c) in cluster.iter().enumerate() {
        members[c].push(i);
    }
    if g == 0 {
        return Vec::new();
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..resamples)
        .map(|_| {
            let mut idx = Vec::with_capacity(cluster.len());
            for _ in 0..g {
                idx.extend_from_slice(&members[rng.random_range(0..g)]);
            }
            idx
        })
        .collect()
}

/// Percentile interval of `stat` over the resamples: the `(1−level)/2` and `(1+level)/2`
/// quantiles ([`crate::stats::quantile_sorted`]) of its finite values; `None` when none is.
pub fn percentile_ci(resamples: &[Vec<usize>], level: f64, stat: impl Fn(&[usize]) -> f64) -> Ci {
    let mut v: Vec<f64> = resamples.iter().map(|r| stat(r)).filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let alpha = (1.0 - level) / 2.0;
    ci_pair((stats::quantile_sorted(&v, alpha), stats::quantile_sorted(&v, 1.0 - alpha)))
}

/// PGR where it means something: `pgr(weak, ceiling, student)` only when the interval of
/// the gap `ceiling − weak` lies entirely above 0; `None` otherwise (no gap shown, or a
/// ceiling below the supervisor).
pub fn gated_pgr(weak: f64, ceiling: f64, student: f64, gap_ci: Ci) -> Option<f64> {
    match gap_ci {
        Some([lo, _]) if lo > 0.0 => pgr(weak, ceiling, student),
        _ => None,
    }
}

/// PGR of one resample, `NaN` (dropped from the interval) unless its gap is positive.
fn pgr_if_positive(weak: f64, ceiling: f64, student: f64) -> f64 {
    if ceiling - weak > 0.0 {
        pgr(weak, ceiling, student).unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

/// Computes a run's metrics from its rows (in file order) with cluster-bootstrap CIs.
///
/// - accuracies: [`crate::stats::accuracy`] (threshold 0.5);
/// - AUROCs: [`crate::stats::auroc`] (Mann–Whitney, ties ½);
/// - `gap = acc_ceiling − acc_weak` (and on AUROC) with its interval;
/// - `pgr` from accuracies and `pgr_auroc` from AUROCs, by [`gated_pgr`]: null unless the
///   gap's interval lies above 0; their intervals use only the resamples with a positive gap;
/// - ECE: [`crate::stats::ece`] with `ece_bins` bins;
/// - CIs: `ci.resamples` [`cluster_resamples`] of the rows' clusters (`cluster[i]`, see
///   [`cluster_ids`]; the candidates of one question move together) with `ci.seed`, every
///   statistic on the same resamples, percentile intervals ([`percentile_ci`]) at `ci.level`.
pub fn run_metrics(rows: &[RunRow], cluster: &[usize], ece_bins: usize, ci: &CiSpec) -> RunMetrics {
    assert_eq!(rows.len(), cluster.len());
    let all: Vec<usize> = (0..rows.len()).collect();
    let labels: Vec<bool> = rows.iter().map(|r| r.label).collect();
    let col = |f: fn(&RunRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let (w, c, s, sup) = (col(|r| r.weak), col(|r| r.ceiling), col(|r| r.student), col(|r| r.supervisor));
    let acc_weak = acc_of(rows, &all, |r| r.weak);
    let acc_ceiling = acc_of(rows, &all, |r| r.ceiling);
    let acc_w2s = acc_of(rows, &all, |r| r.student);
    let auroc_weak = auroc_of(rows, &all, |r| r.weak);
    let auroc_ceiling = auroc_of(rows, &all, |r| r.ceiling);
    let auroc_w2s = auroc_of(rows, &all, |r| r.student);
    let rs = cluster_resamples(cluster, ci.resamples, ci.seed);
    let boot = |stat: &dyn Fn(&[usize]) -> f64| percentile_ci(&rs, ci.level, stat);
    let acc3 = |idx: &[usize]| {
        (acc_of(rows, idx, |r| r.weak), acc_of(rows, idx, |r| r.ceiling), acc_of(rows, idx, |r| r.student))
    };
    let auc3 = |idx: &[usize]| {
        (auroc_of(rows, idx, |r| r.weak), auroc_of(rows, idx, |r| r.ceiling), auroc_of(rows, idx, |r| r.student))
    };
    let gap = boot(&|idx| {
        let (a, b, _) = acc3(idx);
        b - a
    });
    let gap_auroc = boot(&|idx| {
        let (a, b, _) = auc3(idx);
        b - a
    });
    let pgr_acc = gated_pgr(acc_weak, acc_ceiling, acc_w2s, gap);
    let pgr_auc = gated_pgr(auroc_weak, auroc_ceiling, auroc_w2s, gap_auroc);
    RunMetrics {
        n: rows.len(),
        groups: cluster.iter().max().map(|m| m + 1).unwrap_or(0),
        acc_weak,
        acc_ceiling,
        acc_w2s,
        pgr: pgr_acc,
        pgr_raw: pgr(acc_weak, acc_ceiling, acc_w2s),
        auroc_weak: finite(auroc_weak),
        auroc_ceiling: finite(auroc_ceiling),
        auroc_w2s: finite(auroc_w2s),
        pgr_auroc: pgr_auc,
        pgr_auroc_raw: pgr(auroc_weak, auroc_ceiling, auroc_w2s),
        ece_weak: stats::ece(&w, &labels, ece_bins),
        ece_ceiling: stats::ece(&c, &labels, ece_bins),
        ece_w2s: stats::ece(&s, &labels, ece_bins),
        agreement: agreement(&s, &sup),
        acc_supervisor: acc_of(rows, &all, |r| r.supervisor),
        ci: RunCis {
            acc_weak: boot(&|idx| acc_of(rows, idx, |r| r.weak)),
            acc_ceiling: boot(&|idx| acc_of(rows, idx, |r| r.ceiling)),
            acc_w2s: boot(&|idx| acc_of(rows, idx, |r| r.student)),
            auroc_w2s: boot(&|idx| auroc_of(rows, idx, |r| r.student)),
            pgr: pgr_acc.and_then(|_| {
                boot(&|idx| {
                    let (a, b, c) = acc3(idx);
                    pgr_if_positive(a, b, c)
                })
            }),
            pgr_auroc: pgr_auc.and_then(|_| {
                boot(&|idx| {
                    let (a, b, c) = auc3(idx);
                    pgr_if_positive(a, b, c)
                })
            }),
            gap,
            gap_auroc,
            acc_supervisor: boot(&|idx| acc_of(rows, idx, |r| r.supervisor)),
            supervisor_gain: boot(&|idx| acc_of(rows, idx, |r| r.supervisor) - acc_of(rows, idx, |r| r.weak)),
        },
    }
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms; relative error ≲ 1e-13).
pub fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection: Γ(x)Γ(1−x) = π / sin(πx)
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// `P(T ≤ t)` for Student's t with `df` degrees of freedom: `½ + ∫₀ᵗ f(u) du` with the
/// density `f(u) = Γ((ν+1)/2) / (√(νπ) Γ(ν/2)) · (1 + u²/ν)^(−(ν+1)/2)`, integrated by
/// composite Simpson's rule (4,000 panels; error < 1e-9 for `|t| ≤ 50`, `ν ≥ 1`).
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let c = (ln_gamma((df + 1.0) / 2.0) - ln_gamma(df / 2.0)).exp() / (df * std::f64::consts::PI).sqrt();
    let f = |u: f64| c * (1.0 + u * u / df).powf(-(df + 1.0) / 2.0);
    let n = 4000;
    let h = t.abs() / n as f64;
    let mut s = f(0.0) + f(t.abs());
    for k in 1..n {
        s += f(k as f64 * h) * if k % 2 == 1 { 4.0 } else { 2.0 };
    }
    let half = s * h / 3.0;
    if t >= 0.0 {
        0.5 + half
    } else {
        0.5 - half
    }
}

/// The `q`-quantile of Student's t with `df` degrees of freedom (`q ∈ (0.5, 1)`), by
/// bisection of [`student_t_cdf`] on `[0, 1000]` to 1e-10.
pub fn student_t_quantile(q: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1000.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if student_t_cdf(mid, df) < q {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-10 {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Mean, median and the across-seed interval of per-seed values `xs` (non-finite values
/// dropped): `mean ± t_{(1+level)/2, k−1} · sd / √k` with `sd` the sample standard
/// deviation (divisor `k − 1`) of the `k` values — the t interval, which treats the seeds
/// as a sample of training runs. The interval is `None` for fewer than 2 values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SeedSummary {
    /// Values that entered (seeds where the statistic is defined).
    pub k: usize,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub sd: Option<f64>,
    pub ci: Ci,
    pub values: Vec<Option<f64>>,
}

pub fn seed_summary(xs: &[Option<f64>], level: f64) -> SeedSummary {
    let mut v: Vec<f64> = xs.iter().flatten().copied().filter(|x| x.is_finite()).collect();
    let k = v.len();
    if k == 0 {
        return SeedSummary { k, mean: None, median: None, sd: None, ci: None, values: xs.to_vec() };
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mean = v.iter().sum::<f64>() / k as f64;
    let median = stats::quantile_sorted(&v, 0.5);
    let (sd, ci) = if k >= 2 {
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k as f64 - 1.0)).sqrt();
        let t = student_t_quantile((1.0 + level) / 2.0, k as f64 - 1.0);
        let h = t * sd / (k as f64).sqrt();
        (Some(sd), Some([mean - h, mean + h]))
    } else {
        (None, None)
    };
    SeedSummary { k, mean: Some(mean), median: Some(median), sd, ci, values: xs.to_vec() }
}

/// Accuracy, AUROC and ECE of one model on one split (for stage reports).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitMetrics {
    pub n: usize,
    pub acc: f64,
    pub auroc: Option<f64>,
    pub ece: f64,
}

pub fn split_metrics(probs: &[f64], labels: &[bool], ece_bins: usize) -> SplitMetrics {
    SplitMetrics {
        n: probs.len(),
        acc: stats::accuracy(probs, labels),
        auroc: finite(stats::auroc(probs, labels)),
        ece: stats::ece(probs, labels, ece_bins),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgr_by_hand() {
        // weak 0.6, ceiling 0.9, student 0.81 → 0.21 / 0.3 = 0.7
        assert!((pgr(0.6, 0.9, 0.81).unwrap() - 0.7).abs() < 1e-12);
        // student below the weak supervisor → negative
        assert!((pgr(0.6, 0.8, 0.55).unwrap() + 0.25).abs() < 1e-12);
        // student above the ceiling → above 1
        assert!((pgr(0.5, 0.7, 0.8).unwrap() - 1.5).abs() < 1e-12);
        // no gap → None, never ±inf
        assert_eq!(pgr(0.7, 0.7, 0.75), None);
        assert_eq!(pgr(0.7, 0.7 + 1e-12, 0.75), None);
        assert_eq!(pgr(f64::NAN, 0.9, 0.8), None);
    }

    #[test]
    fn agreement_by_hand() {
        // classes: a = [1,0,1,0], b = [1,1,1,0] → 3 of 4 agree; 0.5 counts as class 1
        assert_eq!(agreement(&[0.9, 0.1, 0.5, 0.2], &[0.7, 0.6, 0.99, 0.49]), 0.75);
    }

    #[test]
    fn run_metrics_by_hand() {
        // 4 rows. labels T T F F.
        // weak    0.6 0.4 0.3 0.7 → correct: T F T F → acc 0.5; AUROC: pos {0.6,0.4} vs neg {0.3,0.7}: 0.6>0.3, 0.4>0.3 → 2/4 = 0.5
        // ceiling 0.9 0.8 0.2 0.1 → acc 1.0; AUROC 1.0
        // student 0.8 0.6 0.2 0.6 → correct: T T T F → acc 0.75
        //   AUROC: pos {0.8,0.6} vs neg {0.2,0.6}: 0.8>0.2, 0.8>0.6, 0.6>0.2, 0.6=0.6 (½) → 3.5/4 = 0.875
        // PGR = (0.75 − 0.5)/(1 − 0.5) = 0.5; PGR_auroc = (0.875 − 0.5)/(1 − 0.5) = 0.75
        // agreement student vs supervisor (= weak): classes s = 1 1 0 1, w = 1 0 0 1 → 3/4
        let labels = [true, true, false, false];
        let weak = [0.6, 0.4, 0.3, 0.7];
        let ceil = [0.9, 0.8, 0.2, 0.1];
        let stud = [0.8, 0.6, 0.2, 0.6];
        let rows: Vec<RunRow> = (0..4)
            .map(|i| RunRow {
                label: labels[i],
                weak: weak[i],
                ceiling: ceil[i],
                student: stud[i],
                supervisor: weak[i],
            })
            .collect();
        let singletons: Vec<usize> = (0..4).collect();
        let m = run_metrics(&rows, &singletons, 10, &CiSpec { resamples: 200, level: 0.9, seed: 1 });
        assert_eq!((m.acc_weak, m.acc_ceiling, m.acc_w2s), (0.5, 1.0, 0.75));
        assert_eq!(m.auroc_weak, Some(0.5));
        assert_eq!(m.auroc_ceiling, Some(1.0));
        assert_eq!(m.auroc_w2s, Some(0.875));
        // 4 rows: many resamples have no gap, so the gap's 90% interval reaches 0 → PGR is null
        assert_eq!(m.pgr_raw, Some(0.5));
        assert_eq!(m.pgr_auroc_raw, Some(0.75));
        assert!(m.ci.gap.unwrap()[0] <= 0.0);
        assert_eq!((m.pgr, m.ci.pgr), (None, None));
        assert_eq!(m.agreement, 0.75);
        // ECE of the ceiling with 10 bins: bins 0.1 (F), 0.2 (F), 0.8 (T), 0.9 (T): ¼(0.1 + 0.2 + 0.2 + 0.1) = 0.15
        assert!((m.ece_ceiling - 0.15).abs() < 1e-12);
        let [lo, hi] = m.ci.acc_w2s.unwrap();
        assert!((0.0..=0.75).contains(&lo) && (0.75..=1.0).contains(&hi), "{lo} {hi}");
        // the same seed gives the same intervals
        assert_eq!(m, run_metrics(&rows, &singletons, 10, &CiSpec { resamples: 200, level: 0.9, seed: 1 }));
        // 25 copies of the 4 rows (100 rows, each its own cluster): the gap 0.5 is now sure
        let many: Vec<RunRow> = (0..100).map(|i| rows[i % 4]).collect();
        let ids: Vec<usize> = (0..100).collect();
        let m = run_metrics(&many, &ids, 10, &CiSpec { resamples: 200, level: 0.95, seed: 1 });
        assert!(m.ci.gap.unwrap()[0] > 0.0);
        assert_eq!(m.pgr, Some(0.5));
        let [lo, hi] = m.ci.pgr.unwrap();
        assert!(lo < 0.5 && hi > 0.5 && lo > 0.0 && hi < 1.0, "{lo} {hi}");
    }

    #[test]
    fn gated_pgr_by_hand() {
        // gap 0.9 − 0.6 = 0.3 with interval [0.1, 0.5] → (0.81 − 0.6)/0.3 = 0.7
        assert!((gated_pgr(0.6, 0.9, 0.81, Some([0.1, 0.5])).unwrap() - 0.7).abs() < 1e-12);
        // the interval reaches 0 (one test example's gap) → null
        assert_eq!(gated_pgr(0.6, 0.601, 0.7, Some([-0.002, 0.004])), None);
        assert_eq!(gated_pgr(0.6, 0.9, 0.81, Some([0.0, 0.5])), None);
        // ceiling significantly below the supervisor → null, not a share of a gap
        assert_eq!(gated_pgr(0.9, 0.6, 0.7, Some([-0.4, -0.2])), None);
        assert_eq!(gated_pgr(0.6, 0.9, 0.81, None), None);
        assert!(pgr_if_positive(0.6, 0.6, 0.7).is_nan());
        assert_eq!(pgr_if_positive(0.5, 1.0, 0.75), 0.5);
    }

    #[test]
    fn student_t_and_seed_summaries_by_hand() {
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        // table values of t_{0.975, ν}
        for (df, t) in [(1.0, 12.706_204_736), (2.0, 4.302_652_730), (4.0, 2.776_445_105), (10.0, 2.228_138_852)] {
            assert!((student_t_quantile(0.975, df) - t).abs() < 1e-5, "{df}: {}", student_t_quantile(0.975, df));
        }
        // values 0.6, 0.7, 0.8: mean 0.7, sd 0.1, interval 0.7 ± 4.3027·0.1/√3 = 0.7 ± 0.24841
        let s = seed_summary(&[Some(0.6), Some(0.8), None, Some(0.7)], 0.95);
        assert_eq!(s.k, 3);
        assert!((s.mean.unwrap() - 0.7).abs() < 1e-12);
        assert!((s.median.unwrap() - 0.7).abs() < 1e-12);
        assert!((s.sd.unwrap() - 0.1).abs() < 1e-12);
        let [lo, hi] = s.ci.unwrap();
        assert!((hi - 0.7 - 0.248_414).abs() < 1e-5 && (0.7 - lo - 0.248_414).abs() < 1e-5, "{lo} {hi}");
        assert_eq!(seed_summary(&[Some(0.5)], 0.95).ci, None);
        assert_eq!(seed_summary(&[None], 0.95).mean, None);
    }

    #[test]
    fn cluster_bootstrap_by_hand() {
        assert_eq!(cluster_ids(&["q1", "q1", "q2", "q3", "q2"]), vec![0, 0, 1, 2, 1]);
        // two questions of two candidates each: every resample holds whole questions
        let cl = [0, 0, 1, 1];
        for r in cluster_resamples(&cl, 50, 3) {
            assert_eq!(r.len(), 4);
            for pair in r.chunks(2) {
                assert!(pair == [0, 1] || pair == [2, 3], "{r:?}");
            }
        }
        // singletons in row order: the same draws as the plain row bootstrap
        let rows = [0.0, 1.0, 1.0, 0.0, 1.0];
        let rs = cluster_resamples(&[0, 1, 2, 3, 4], 300, 9);
        let mean = |idx: &[usize]| idx.iter().map(|&i| rows[i]).sum::<f64>() / idx.len() as f64;
        let (lo, hi) = stats::bootstrap_ci(5, 300, 0.9, 9, mean);
        assert_eq!(percentile_ci(&rs, 0.9, mean), Some([lo, hi]));
        // percentile interval by hand: values 1..=5 at level 0.5 → quantiles 0.25 and 0.75 → 2 and 4
        let rs: Vec<Vec<usize>> = (0..5).map(|i| vec![i]).collect();
        assert_eq!(percentile_ci(&rs, 0.5, |idx| (idx[0] + 1) as f64), Some([2.0, 4.0]));
    }
}
