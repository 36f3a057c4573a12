//! The debate score D and the judge's log score, as pure functions.
//!
//! Everything is expressed through `p_strong`, the judge's probability that the answer
//! the strong side defends is the correct one (the weak side's answer gets `1 − p_strong`).

use crate::session::OrderResult;
use crate::stats::{logit, softmax};

/// Bound of D: `L = ln 99 ≈ 4.595`, so D covers judge probabilities from 1% to 99%.
pub const D_LIMIT: f64 = 4.595119850134589; // ln(99)

/// Floor on probabilities inside logarithms, so a log score is finite.
pub const P_FLOOR: f64 = 1e-12;

/// The debate score D : E_S' × E_W × J → ℝ of one debate.
///
/// `D = clip(logit(p_strong), −L, L) = clip(ln(p_strong / (1 − p_strong)), −ln 99, ln 99)`
///
/// where `p_strong` is the judge's probability for the strong side's answer after
/// reading both explanations. D > 0: the judge sides with the strong explanation; D < 0:
/// with the weak one; D = 0: indifferent. Examples: p = 0.5 → 0; p = 0.75 → ln 3 ≈ 1.0986;
/// p = 0.995 → ln 99 (clipped); p = 0 → −ln 99.
pub fn debate_score(p_strong: f64) -> f64 {
    let p = p_strong.clamp(0.0, 1.0);
    if p <= 0.0 {
        return -D_LIMIT;
    }
    if p >= 1.0 {
        return D_LIMIT;
    }
    logit(p).clamp(-D_LIMIT, D_LIMIT)
}

/// The judge's probability for the correct answer:
/// `p_correct = p_strong` if the strong side defends the correct answer, else `1 − p_strong`.
pub fn p_correct(p_strong: f64, strong_correct: bool) -> f64 {
    if strong_correct {
        p_strong
    } else {
        1.0 - p_strong
    }
}

/// The judge's log score against the ground truth: `ln max(p_correct, 1e−12)`.
/// 0 is perfect, `ln 0.5 ≈ −0.693` is an indifferent judge.
pub fn log_score(p_strong: f64, strong_correct: bool) -> f64 {
    p_correct(p_strong, strong_correct).max(P_FLOOR).ln()
}

/// Whether the judge favoured the correct answer: `p_correct > 0.5` (exactly 0.5 is not).
pub fn judge_correct(p_strong: f64, strong_correct: bool) -> bool {
    p_correct(p_strong, strong_correct) > 0.5
}

/// Log-probabilities renormalised over the given options: `ℓ_i − ln Σ_j e^{ℓ_j}`.
pub fn log_normalise(lp: &[f64]) -> Vec<f64> {
    let m = lp.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let z = m + lp.iter().map(|x| (x - m).exp()).sum::<f64>().ln();
    lp.iter().map(|x| x - z).collect()
}

/// One presentation order of a model judge: from the log-probabilities of the letters
/// `[A, B]`, `p_strong = softmax(ℓ_A, ℓ_B)` at the strong side's letter
/// (A when `strong_first`, else B). Renormalising over the two letters discards the
/// probability of every other token.
pub fn order_result(letter_logprobs: [f64; 2], strong_first: bool) -> OrderResult {
    let p = softmax(&letter_logprobs);
    OrderResult { strong_first, letter_logprobs, p_strong: if strong_first { p[0] } else { p[1] } }
}

/// The letter logit difference toward the strong side in one order:
/// `δ = ℓ_strong − ℓ_weak`, i.e. `ℓ_A − ℓ_B` when the strong side is A, else `ℓ_B − ℓ_A`.
pub fn strong_logit_diff(o: &OrderResult) -> f64 {
    let [a, b] = o.letter_logprobs;
    if o.strong_first {
        a - b
    } else {
        b - a
    }
}

/// The judge's combined logit toward the strong side: the mean over orders of
/// [`strong_logit_diff`], `δ̄ = (1/k) Σ_orders δ_order`.
///
/// An additive letter bias cancels exactly: if the judge adds `b` to letter A's logit,
/// `δ_1 = s + b` (strong is A) and `δ_2 = s − b` (strong is B), so `δ̄ = s`. (Averaging
/// probabilities only cancels a bias of exactly "always A".) The judgement is
/// `p_strong = σ(δ̄)` and `D = clip(δ̄, −L, L)`. `NaN` for no orders.
pub fn combine_orders(orders: &[OrderResult]) -> f64 {
    if orders.is_empty() {
        return f64::NAN;
    }
    orders.iter().map(strong_logit_diff).sum::<f64>() / orders.len() as f64
}

/// D toward the truth: `clip(logit p_correct, −L, L)`, i.e. `D` when the strong side is
/// correct, `−D` when the weak side is, `None` when neither is (self-assignment).
pub fn d_correct(p_strong: f64, strong_correct: bool, weak_correct: bool) -> Option<f64> {
    if strong_correct {
        Some(debate_score(p_strong))
    } else if weak_correct {
        Some(debate_score(1.0 - p_strong))
    } else {
        None
    }
}

/// What a verdict `p_strong` scores against the truth: `(log_score, correct, d_correct)`.
/// When neither side defends the correct answer (self-assignment) the log score is
/// undefined (`NaN`, written as `null`), `correct` is false and `d_correct` is `None`;
/// the metrics leave such debates out and count them.
pub fn verdict_scores(p_strong: f64, strong_correct: bool, weak_correct: bool) -> (f64, bool, Option<f64>) {
    if strong_correct || weak_correct {
        (
            log_score(p_strong, strong_correct),
            judge_correct(p_strong, strong_correct),
            d_correct(p_strong, strong_correct, weak_correct),
        )
    } else {
        (f64::NAN, false, None)
    }
}

/// Order-averaged probability: `p_strong = (1/k) Σ_orders p_strong(order)` (how
/// judgements were combined before [`combine_orders`]; kept for old sessions).
///
/// With both orders, a judge that always prefers letter A (pure position bias) gets
/// `(p_A + (1 − p_A)) / 2 = 0.5`, i.e. D = 0.
pub fn average_orders(orders: &[OrderResult]) -> f64 {
    if orders.is_empty() {
        return f64::NAN;
    }
    orders.iter().map(|o| o.p_strong).sum::<f64>() / orders.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d_by_hand() {
        assert_eq!(debate_score(0.5), 0.0);
        assert!((debate_score(0.75) - 3f64.ln()).abs() < 1e-12);
        assert!((debate_score(0.25) + 3f64.ln()).abs() < 1e-12);
        assert!((debate_score(0.99) - D_LIMIT).abs() < 1e-9);
        assert_eq!(debate_score(0.999), D_LIMIT);
        assert_eq!(debate_score(1.0), D_LIMIT);
        assert_eq!(debate_score(0.0), -D_LIMIT);
        assert!((D_LIMIT - 99f64.ln()).abs() < 1e-15);
        // human scale endpoints: 95% → ln 19
        assert!((debate_score(0.95) - 19f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn log_score_by_hand() {
        assert!((log_score(0.8, true) - 0.8f64.ln()).abs() < 1e-12);
        assert!((log_score(0.8, false) - 0.2f64.ln()).abs() < 1e-12);
        assert_eq!(log_score(1.0, false), P_FLOOR.ln());
        assert!(judge_correct(0.8, true) && !judge_correct(0.8, false) && !judge_correct(0.5, true));
    }

    #[test]
    fn order_averaging_cancels_position_bias() {
        // Letter logprobs ln 0.6, ln 0.2 → softmax 0.75 / 0.25.
        let a = order_result([0.6f64.ln(), 0.2f64.ln()], true);
        assert!((a.p_strong - 0.75).abs() < 1e-12);
        // Same preference for letter A when strong is shown second → p_strong = 0.25.
        let b = order_result([0.6f64.ln(), 0.2f64.ln()], false);
        assert!((b.p_strong - 0.25).abs() < 1e-12);
        assert!((average_orders(&[a.clone(), b]) - 0.5).abs() < 1e-12);
        // A judge that really favours strong: A=strong 0.9, then B=strong 0.7 → 0.8.
        let c = order_result([0.3f64.ln(), 0.7f64.ln()], false);
        let a2 = order_result([0.9f64.ln(), 0.1f64.ln()], true);
        assert!((average_orders(&[a2, c]) - 0.8).abs() < 1e-12);
        assert!(average_orders(&[]).is_nan());
    }

    #[test]
    fn logit_averaging_cancels_an_additive_letter_bias() {
        // True preference s = ln 3 toward strong, letter-A bias b = 2 (logit units).
        let (s, b) = (3f64.ln(), 2.0);
        let o1 = order_result([s + b, 0.0], true); // strong is A
        let o2 = order_result([b, s], false); // strong is B: ℓ_A = b, ℓ_B = s
        let m = combine_orders(&[o1.clone(), o2.clone()]);
        assert!((m - s).abs() < 1e-12);
        assert!((crate::stats::sigmoid(m) - 0.75).abs() < 1e-12);
        // Probability averaging does not cancel it: (σ(s+b) + σ(s−b))/2 ≠ 0.75.
        assert!((average_orders(&[o1, o2]) - 0.75).abs() > 0.05);
        assert!(combine_orders(&[]).is_nan());
        assert_eq!(d_correct(0.75, false, true), Some(-(3f64.ln())));
        assert_eq!(d_correct(0.75, true, false), Some(3f64.ln()));
        assert_eq!(d_correct(0.75, false, false), None);
    }
}
