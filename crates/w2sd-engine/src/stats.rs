//! Pure statistics shared by debate scoring and weak-to-strong metrics.
//!
//! Every function here is deterministic for its inputs (the bootstrap takes an
//! explicit seed) and is tested against hand-computed values.

use rand::{Rng, SeedableRng};

/// Arithmetic mean, `Σx / n`; `NaN` for an empty slice.
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Fraction of `true` values; `NaN` for an empty slice.
pub fn fraction(flags: &[bool]) -> f64 {
    if flags.is_empty() {
        return f64::NAN;
    }
    flags.iter().filter(|b| **b).count() as f64 / flags.len() as f64
}

/// Binary accuracy: the share of rows where `p ≥ 0.5` agrees with `label`.
pub fn accuracy(probs: &[f64], labels: &[bool]) -> f64 {
    assert_eq!(probs.len(), labels.len());
    let hits: Vec<bool> = probs.iter().zip(labels).map(|(p, y)| (*p >= 0.5) == *y).collect();
    fraction(&hits)
}

/// Brier score, `mean((p − y)²)` with `y ∈ {0, 1}`. Lower is better; 0.25 for a constant 0.5.
pub fn brier(probs: &[f64], labels: &[bool]) -> f64 {
    assert_eq!(probs.len(), labels.len());
    let sq: Vec<f64> = probs.iter().zip(labels).map(|(p, y)| (p - if *y { 1.0 } else { 0.0 }).powi(2)).collect();
    mean(&sq)
}

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CalibrationBin {
    /// Lower edge of the bin, inclusive (the last bin also includes 1.0).
    pub lo: f64,
    pub hi: f64,
    pub count: usize,
    /// Mean predicted probability in the bin (`NaN` when empty).
    pub mean_prob: f64,
    /// Fraction of positives in the bin (`NaN` when empty).
    pub frac_pos: f64,
}

/// Equal-width reliability bins over `[0, 1]`; bin `b` holds `p ∈ [b/B, (b+1)/B)`, the last bin also `p = 1`.
pub fn calibration_bins(probs: &[f64], labels: &[bool], n_bins: usize) -> Vec<CalibrationBin> {
    assert_eq!(probs.len(), labels.len());
    assert!(n_bins > 0);
    let mut sum_p = vec![0.0; n_bins];
    let mut sum_y = vec![0.0; n_bins];
    let mut count = vec![0usize; n_bins];
    for (p, y) in probs.iter().zip(labels) {
        let b = ((p.clamp(0.0, 1.0) * n_bins as f64).floor() as usize).min(n_bins - 1);
        sum_p[b] += p;
        sum_y[b] += if *y { 1.0 } else { 0.0 };
        count[b] += 1;
    }
    (0..n_bins)
        .map(|b| CalibrationBin {
            lo: b as f64 / n_bins as f64,
            hi: (b + 1) as f64 / n_bins as f64,
            count: count[b],
            mean_prob: if count[b] > 0 { sum_p[b] / count[b] as f64 } else { f64::NAN },
            frac_pos: if count[b] > 0 { sum_y[b] / count[b] as f64 } else { f64::NAN },
        })
        .collect()
}

/// Expected calibration error with `B` equal-width bins:
/// `ECE = Σ_b (n_b / n) · |mean_prob_b − frac_pos_b|`, empty bins contributing 0.
pub fn ece(probs: &[f64], labels: &[bool], n_bins: usize) -> f64 {
    if probs.is_empty() {
        return f64::NAN;
    }
    let n = probs.len() as f64;
    calibration_bins(probs, labels, n_bins)
        .iter()
        .filter(|b| b.count > 0)
        .map(|b| b.count as f64 / n * (b.mean_prob - b.frac_pos).abs())
        .sum()
}

/// Area under the ROC curve, the probability that a random positive scores above a
/// random negative, ties counting one half (the Mann–Whitney U statistic over `n₊·n₋`).
/// `NaN` when either class is absent.
pub fn auroc(scores: &[f64], labels: &[bool]) -> f64 {
    assert_eq!(scores.len(), labels.len());
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].partial_cmp(&scores[b]).unwrap_or(std::cmp::Ordering::Equal));
    // Average ranks (1-based) over ties.
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            ranks[idx[k]] = avg;
        }
        i = j + 1;
    }
    let n_pos = labels.iter().filter(|y| **y).count() as f64;
    let n_neg = labels.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return f64::NAN;
    }
    let rank_sum: f64 = ranks.iter().zip(labels).filter(|(_, y)| **y).map(|(r, _)| r).sum();
    (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

/// Percentile bootstrap confidence interval of a statistic over rows.
///
/// Draws `resamples` samples of `n` row indices with replacement (seeded ChaCha),
/// evaluates `stat` on each, and returns the `(1−level)/2` and `(1+level)/2`
/// empirical quantiles (linear interpolation). Returns `(NaN, NaN)` for `n = 0`.
pub fn bootstrap_ci<F>(n: usize, resamples: usize, level: f64, seed: u64, mut stat: F) -> (f64, f64)
where
    F: FnMut(&[usize]) -> f64,
{
    if n == 0 || resamples == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut idx = vec![0usize; n];
    let mut values: Vec<f64> = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for slot in idx.iter_mut() {
            *slot = rng.random_range(0..n);
        }
        let v = stat(&idx);
        if v.is_finite() {
            values.push(v);
        }
    }
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let alpha = (1.0 - level) / 2.0;
    (quantile_sorted(&values, alpha), quantile_sorted(&values, 1.0 - alpha))
}

/// Bootstrap CI of the mean of `xs` (see [`bootstrap_ci`]).
pub fn bootstrap_mean_ci(xs: &[f64], resamples: usize, level: f64, seed: u64) -> (f64, f64) {
    bootstrap_ci(xs.len(), resamples, level, seed, |idx| idx.iter().map(|&i| xs[i]).sum::<f64>() / idx.len() as f64)
}

/// Quantile `q ∈ [0,1]` of sorted data by linear interpolation between closest ranks
/// (position `q·(n−1)`).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] * (1.0 - frac) + sorted[hi] * frac
}

/// Cohen's kappa for two raters over the same items:
/// `κ = (p_o − p_e) / (1 − p_e)` with `p_o` the observed agreement and
/// `p_e = Σ_c p_a(c)·p_b(c)` the agreement expected by chance. 1.0 when `p_e = 1` and raters agree.
pub fn cohen_kappa(a: &[usize], b: &[usize]) -> f64 {
    assert_eq!(a.len(), b.len());
    if a.is_empty() {
        return f64::NAN;
    }
    let n = a.len() as f64;
    let k = a.iter().chain(b).copied().max().unwrap_or(0) + 1;
    let mut ca = vec![0.0; k];
    let mut cb = vec![0.0; k];
    let mut agree = 0.0;
    for (x, y) in a.iter().zip(b) {
        ca[*x] += 1.0;
        cb[*y] += 1.0;
        if x == y {
            agree += 1.0;
        }
    }
    let po = agree / n;
    let pe: f64 = ca.iter().zip(&cb).map(|(x, y)| (x / n) * (y / n)).sum();
    if (1.0 - pe).abs() < 1e-12 {
        return if (po - 1.0).abs() < 1e-12 { 1.0 } else { f64::NAN };
    }
    (po - pe) / (1.0 - pe)
}

/// Numerically stable `log(1 + e^x)`.
pub fn softplus(x: f64) -> f64 {
    if x > 30.0 {
        x
    } else if x < -30.0 {
        x.exp()
    } else {
        x.exp().ln_1p()
    }
}

/// Logistic sigmoid `1 / (1 + e^{−x})`.
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Log-odds `ln(p / (1 − p))`.
pub fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// Softmax of log-probabilities or logits, in f64.
pub fn softmax(xs: &[f64]) -> Vec<f64> {
    let m = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = xs.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|x| x / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_and_brier_by_hand() {
        let p = [0.9, 0.2, 0.6, 0.4];
        let y = [true, false, false, true];
        assert_eq!(accuracy(&p, &y), 0.5);
        // (0.01 + 0.04 + 0.36 + 0.36) / 4 = 0.1925
        assert!((brier(&p, &y) - 0.1925).abs() < 1e-12);
    }

    #[test]
    fn ece_by_hand() {
        // Two bins: [0,0.5) holds 0.2, 0.4 (labels F,T): mean 0.3, frac 0.5 → |0.2|·2/4
        // [0.5,1] holds 0.8, 1.0 (labels T,T): mean 0.9, frac 1.0 → |0.1|·2/4
        let p = [0.2, 0.4, 0.8, 1.0];
        let y = [false, true, true, true];
        assert!((ece(&p, &y, 2) - (0.1 + 0.05)).abs() < 1e-12);
    }

    #[test]
    fn auroc_by_hand() {
        // positives 0.8, 0.4; negatives 0.5, 0.1 → pairs won: (0.8>0.5),(0.8>0.1),(0.4>0.1) = 3 of 4
        assert!((auroc(&[0.8, 0.4, 0.5, 0.1], &[true, true, false, false]) - 0.75).abs() < 1e-12);
        // a tie counts one half
        assert!((auroc(&[0.5, 0.5], &[true, false]) - 0.5).abs() < 1e-12);
        assert!(auroc(&[0.1, 0.2], &[true, true]).is_nan());
    }

    #[test]
    fn kappa_by_hand() {
        // a = [0,0,1,1], b = [0,1,1,1]: p_o = 3/4, p_e = (2/4·1/4)+(2/4·3/4) = 1/2 → κ = 0.5
        assert!((cohen_kappa(&[0, 0, 1, 1], &[0, 1, 1, 1]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn quantiles_and_bootstrap() {
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.25), 2.0);
        assert!((quantile_sorted(&[0.0, 10.0], 0.3) - 3.0).abs() < 1e-12);
        let xs: Vec<f64> = (0..200).map(|i| (i % 10) as f64).collect();
        let (lo, hi) = bootstrap_mean_ci(&xs, 500, 0.95, 7);
        assert!(lo < 4.5 && hi > 4.5 && hi - lo < 1.5, "{lo} {hi}");
        // constant data has a degenerate interval
        assert_eq!(bootstrap_mean_ci(&[2.0; 5], 50, 0.95, 1), (2.0, 2.0));
        // same seed, same interval
        assert_eq!(bootstrap_mean_ci(&xs, 100, 0.9, 3), bootstrap_mean_ci(&xs, 100, 0.9, 3));
    }
}
