//! Training losses for a binary head with one logit `z` per example.
//!
//! Notation: `p = σ(z)` is the head's probability of class 1; `q ∈ [0, 1]` is the
//! (soft) target probability of class 1 — a weak label for the student, a hard 0/1
//! ground truth for the supervisor and the ceiling. `CE(p, q) = −q·ln p − (1−q)·ln(1−p)`,
//! computed stably from the logit as `q·softplus(−z) + (1−q)·softplus(z)`. Every loss is
//! the batch mean of a per-example term. `s ∈ [0, 1]` is the fraction of training done
//! (optimizer steps taken / total steps), which drives the warmups.

use anyhow::{bail, Result};
use candle_core::Tensor;
use serde::{Deserialize, Serialize};

/// The loss a student (or any head) is trained with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LossKind {
    /// `L = CE(p, q)`: cross-entropy on the soft weak labels.
    Xent,
    /// `L = (1−α(s))·CE(p, q) + α(s)·CE(p, ĥ)`: the auxiliary confidence loss of Burns et al.
    /// See [`logconf`].
    Logconf,
    /// `L = CE(p, r)`, `r ∝ q^a·p^b` (p detached): trust the student where it is confident.
    /// See [`product`].
    Product,
    /// `L = KL(q ‖ p) = CE(p, q) − H(q)`.
    Kl,
    /// `L = (1−α(s))·CE(p, q) + α(s)·H(p)`: entropy minimisation, the soft form of logconf.
    Entropy,
}

impl LossKind {
    pub const ALL: [LossKind; 5] =
        [LossKind::Xent, LossKind::Logconf, LossKind::Product, LossKind::Kl, LossKind::Entropy];

    pub fn name(self) -> &'static str {
        match self {
            LossKind::Xent => "xent",
            LossKind::Logconf => "logconf",
            LossKind::Product => "product",
            LossKind::Kl => "kl",
            LossKind::Entropy => "entropy",
        }
    }
}

impl std::fmt::Display for LossKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for LossKind {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        LossKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| anyhow::anyhow!("unknown loss {s:?}: use xent, logconf, product, kl or entropy"))
    }
}

/// Coefficients of the auxiliary losses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossParams {
    /// `α_max` of logconf and entropy. Default 0.75 (0.5 before), on measurement
    /// (docs/train.md, "The bag of words and α_max"): against 0.5, logconf PGR rose on the
    /// demo (+0.35 [0.14, 0.56], 3 seeds) and, with intervals spanning 0, on SST-2 (+0.18);
    /// it fell a little on Amazon (−0.04, spanning 0).
    pub aux_coef: f64,
    /// Fraction of training over which `α` rises linearly from 0 to `α_max`.
    pub warmup_frac: f64,
    /// Exponent `a` on the weak label in [`product`].
    pub product_alpha: f64,
    /// Exponent `b` on the student's prediction in [`product`].
    pub product_beta: f64,
    /// Over which predictions logconf's hardening threshold is taken (see [`Threshold`]).
    pub threshold: Threshold,
}

impl Default for LossParams {
    fn default() -> Self {
        Self { aux_coef: 0.75, warmup_frac: 0.2, product_alpha: 1.0, product_beta: 1.0, threshold: Threshold::Batch }
    }
}

/// Where logconf's threshold `t` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Threshold {
    /// The `(1−π)`-quantile of the batch's predictions, `π` the batch mean of `q` (Burns et al.).
    #[default]
    Batch,
    /// The `(1−π)`-quantile of the student's predictions on **all** its training rows,
    /// recomputed at the start of every epoch, `π` the mean of all weak labels: a threshold
    /// that does not move with which 32 rows a batch drew.
    Epoch,
}

/// The warmed-up auxiliary coefficient `α(s) = α_max · min(1, s / w)` (`w` = warmup
/// fraction; `α(s) = α_max` when `w ≤ 0`).
///
/// It rises linearly from 0 at the first step to `α_max` at `s = w` and stays there.
/// (The reference implementation uses `α_max · (s if s ≤ w else 1)`, which rises only to
/// `w·α_max` and then jumps to `α_max`; this one is continuous.)
pub fn warmup_coef(aux_coef: f64, warmup_frac: f64, step_frac: f64) -> f64 {
    if warmup_frac <= 0.0 {
        return aux_coef;
    }
    aux_coef * (step_frac / warmup_frac).clamp(0.0, 1.0)
}

/// The logconf hardening threshold `t`: the `(1 − π)`-quantile of the student's batch
/// probabilities `p` (linear interpolation between order statistics, as `torch.quantile`),
/// where `π = mean(q)` is the class-1 prior of the weak labels in the batch.
///
/// Hardening `ĥ_i = 1[p_i > t]` then labels (up to ties and interpolation) a fraction `π`
/// of the batch as class 1, matching the weak labels' prior.
pub fn hardening_threshold(probs: &[f64], prior: f64) -> f64 {
    let mut s: Vec<f64> = probs.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    crate::stats::quantile_sorted(&s, 1.0 - prior)
}

/// The student's hardened predictions `ĥ_i = 1[p_i > t]` with `t` from
/// [`hardening_threshold`] for the weak labels `q` of the same batch.
pub fn harden(probs: &[f64], weak: &[f64]) -> Vec<f64> {
    let prior = crate::stats::mean(weak);
    let t = hardening_threshold(probs, prior);
    probs.iter().map(|&p| if p > t { 1.0 } else { 0.0 }).collect()
}

/// `softplus(x) = ln(1 + eˣ)`, stably: `max(x, 0) + ln(1 + e^{−|x|})`.
fn softplus(x: &Tensor) -> Result<Tensor> {
    Ok((x.relu()? + (x.abs()?.neg()?.exp()? + 1.0)?.log()?)?)
}

/// Per-example `CE(σ(z), q) = q·softplus(−z) + (1−q)·softplus(z)`.
fn ce_rows(z: &Tensor, q: &Tensor) -> Result<Tensor> {
    let a = softplus(&z.neg()?)?;
    let b = softplus(z)?;
    let one_minus_q = q.affine(-1.0, 1.0)?;
    Ok((q.mul(&a)? + one_minus_q.mul(&b)?)?)
}

/// **xent**: `L = mean_i CE(σ(z_i), q_i) = mean_i [−q_i ln p_i − (1−q_i) ln(1−p_i)]`.
pub fn xent(z: &Tensor, q: &Tensor) -> Result<Tensor> {
    Ok(ce_rows(z, q)?.mean_all()?)
}

/// **logconf**: `L = mean_i [(1−α)·CE(p_i, q_i) + α·CE(p_i, ĥ_i)]`, with
/// `α = warmup_coef(α_max, w, s)` and `ĥ = harden(p, q)` (the student's own predictions,
/// thresholded so their class-1 share matches the batch prior of `q`; no gradient flows
/// through `ĥ`). By linearity of CE in its target this is `CE(p, (1−α)q + αĥ)`.
/// `threshold`: a fixed `t` to use instead of the batch's ([`Threshold::Epoch`]).
pub fn logconf(z: &Tensor, q: &Tensor, params: &LossParams, step_frac: f64, threshold: Option<f64>) -> Result<Tensor> {
    let alpha = warmup_coef(params.aux_coef, params.warmup_frac, step_frac);
    let zs = to_f64(z)?;
    let qs = to_f64(q)?;
    let p: Vec<f64> = zs.iter().map(|&x| crate::stats::sigmoid(x)).collect();
    let h = match threshold {
        Some(t) => p.iter().map(|&p| if p > t { 1.0 } else { 0.0 }).collect(),
        None => harden(&p, &qs),
    };
    let target: Vec<f32> = qs.iter().zip(&h).map(|(q, h)| ((1.0 - alpha) * q + alpha * h) as f32).collect();
    let t = Tensor::from_vec(target, zs.len(), z.device())?;
    xent(z, &t)
}

/// **product**: `L = mean_i CE(p_i, r_i)` with the detached target
/// `r_i = q_i^a·p_i^b / (q_i^a·p_i^b + (1−q_i)^a·(1−p_i)^b)` (`a` = `product_alpha`,
/// `b` = `product_beta`); `r_i = q_i` when both products vanish.
pub fn product(z: &Tensor, q: &Tensor, params: &LossParams) -> Result<Tensor> {
    let zs = to_f64(z)?;
    let qs = to_f64(q)?;
    let target: Vec<f32> = zs
        .iter()
        .zip(&qs)
        .map(|(&x, &q)| {
            let p = crate::stats::sigmoid(x);
            let one = q.powf(params.product_alpha) * p.powf(params.product_beta);
            let zero = (1.0 - q).powf(params.product_alpha) * (1.0 - p).powf(params.product_beta);
            if one + zero > 0.0 {
                (one / (one + zero)) as f32
            } else {
                q as f32
            }
        })
        .collect();
    let t = Tensor::from_vec(target, zs.len(), z.device())?;
    xent(z, &t)
}

/// **kl**: `L = mean_i KL(q_i ‖ p_i) = mean_i [CE(p_i, q_i) − H(q_i)]`, with
/// `H(q) = −q ln q − (1−q) ln(1−q)` and `0·ln 0 = 0`. Same gradient as xent; zero at `p = q`.
pub fn kl(z: &Tensor, q: &Tensor) -> Result<Tensor> {
    let qs = to_f64(q)?;
    let h: f64 = qs.iter().map(|&q| entropy_of(q)).sum::<f64>() / qs.len().max(1) as f64;
    Ok((xent(z, q)? - h)?)
}

/// **entropy**: `L = mean_i [(1−α)·CE(p_i, q_i) + α·H(p_i)]`, `α = warmup_coef(α_max, w, s)`,
/// `H(p) = CE(p, p)` with the gradient flowing through both arguments: it pushes the
/// student towards confident predictions, the soft counterpart of logconf.
pub fn entropy(z: &Tensor, q: &Tensor, params: &LossParams, step_frac: f64) -> Result<Tensor> {
    let alpha = warmup_coef(params.aux_coef, params.warmup_frac, step_frac);
    let p = candle_nn::ops::sigmoid(z)?;
    let ce = ce_rows(z, q)?.mean_all()?;
    let h = ce_rows(z, &p)?.mean_all()?;
    Ok(((ce * (1.0 - alpha))? + (h * alpha)?)?)
}

/// The loss of `kind` for logits `z` and targets `q` at training progress `step_frac`;
/// `threshold` is logconf's fixed threshold under [`Threshold::Epoch`] (`None`: the batch's).
pub fn compute(
    kind: LossKind,
    z: &Tensor,
    q: &Tensor,
    params: &LossParams,
    step_frac: f64,
    threshold: Option<f64>,
) -> Result<Tensor> {
    if z.dims() != q.dims() || z.rank() != 1 {
        bail!("loss expects logits and targets of the same shape [batch], got {:?} and {:?}", z.dims(), q.dims());
    }
    match kind {
        LossKind::Xent => xent(z, q),
        LossKind::Logconf => logconf(z, q, params, step_frac, threshold),
        LossKind::Product => product(z, q, params),
        LossKind::Kl => kl(z, q),
        LossKind::Entropy => entropy(z, q, params, step_frac),
    }
}

/// Binary entropy `H(q) = −q ln q − (1−q) ln(1−q)` in nats, `0·ln 0 = 0`.
pub fn entropy_of(q: f64) -> f64 {
    let t = |x: f64| if x > 0.0 { -x * x.ln() } else { 0.0 };
    t(q) + t(1.0 - q)
}

fn to_f64(t: &Tensor) -> Result<Vec<f64>> {
    Ok(t.to_dtype(candle_core::DType::F64)?.to_vec1::<f64>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn t(v: &[f32]) -> Tensor {
        Tensor::from_vec(v.to_vec(), v.len(), &Device::Cpu).unwrap()
    }

    fn scalar(x: Tensor) -> f64 {
        x.to_dtype(candle_core::DType::F64).unwrap().to_scalar::<f64>().unwrap()
    }

    const LN3: f32 = 1.098_612_3; // σ(ln 3) = 0.75

    #[test]
    fn xent_by_hand() {
        // z = 0 → p = 0.5: CE = ln 2 whatever q is.
        assert!((scalar(xent(&t(&[0.0, 0.0]), &t(&[1.0, 0.3])).unwrap()) - 2f64.ln()).abs() < 1e-6);
        // p = 0.75, q = 1: −ln 0.75 = 0.287682; q = 0.5: ½(−ln .75 − ln .25) = 0.836988. Mean 0.562335.
        let l = scalar(xent(&t(&[LN3, LN3]), &t(&[1.0, 0.5])).unwrap());
        assert!((l - 0.562335).abs() < 1e-5, "{l}");
        // stable at large logits: p ≈ 1 − e^{−40}, q = 0 → CE ≈ 40
        assert!((scalar(xent(&t(&[40.0]), &t(&[0.0])).unwrap()) - 40.0).abs() < 1e-4);
    }

    #[test]
    fn kl_by_hand() {
        // KL(0.5 ‖ 0.75) = 0.836988 − ln 2 = 0.143841; KL(1 ‖ 0.75) = 0.287682 (H(1) = 0).
        let l = scalar(kl(&t(&[LN3, LN3]), &t(&[0.5, 1.0])).unwrap());
        assert!((l - (0.143841 + 0.287682) / 2.0).abs() < 1e-5, "{l}");
        // zero when p = q
        assert!(scalar(kl(&t(&[LN3]), &t(&[0.75])).unwrap()).abs() < 1e-6);
    }

    #[test]
    fn warmup_is_linear_and_continuous() {
        // α_max = 0.5, w = 0.2
        assert_eq!(warmup_coef(0.5, 0.2, 0.0), 0.0);
        assert!((warmup_coef(0.5, 0.2, 0.05) - 0.125).abs() < 1e-12);
        assert!((warmup_coef(0.5, 0.2, 0.1) - 0.25).abs() < 1e-12);
        // just before the end of warmup it is almost α_max (the reference code gives 0.5·0.199 here)
        assert!((warmup_coef(0.5, 0.2, 0.199) - 0.4975).abs() < 1e-12);
        assert_eq!(warmup_coef(0.5, 0.2, 0.2), 0.5);
        assert_eq!(warmup_coef(0.5, 0.2, 0.9), 0.5);
        assert_eq!(warmup_coef(0.5, 0.0, 0.0), 0.5);
    }

    #[test]
    fn hardening_threshold_matches_the_weak_prior() {
        // p = [0.1, 0.4, 0.6, 0.9], weak labels q = [0, 1, 0, 1] → π = 0.5 → t = median = 0.5
        let p = [0.1, 0.4, 0.6, 0.9];
        assert!((hardening_threshold(&p, 0.5) - 0.5).abs() < 1e-12);
        assert_eq!(harden(&p, &[0.0, 1.0, 0.0, 1.0]), vec![0.0, 0.0, 1.0, 1.0]);
        // π = 0.25 (soft labels averaging 0.25) → t = 0.75-quantile: position 2.25 → 0.6 + 0.25·0.3 = 0.675
        assert!((hardening_threshold(&p, 0.25) - 0.675).abs() < 1e-12);
        assert_eq!(harden(&p, &[0.1, 0.2, 0.3, 0.4]), vec![0.0, 0.0, 0.0, 1.0]);
        // π = 0.75 → t = 0.25-quantile: position 0.75 → 0.1 + 0.75·0.3 = 0.325 → three ones
        assert!((hardening_threshold(&p, 0.75) - 0.325).abs() < 1e-12);
        assert_eq!(harden(&p, &[1.0, 1.0, 1.0, 0.0]), vec![0.0, 1.0, 1.0, 1.0]);
    }

    /// The hand computations below use `α_max = 0.5`.
    const HALF: LossParams = LossParams {
        aux_coef: 0.5,
        warmup_frac: 0.2,
        product_alpha: 1.0,
        product_beta: 1.0,
        threshold: Threshold::Batch,
    };

    #[test]
    fn default_alpha_max_is_three_quarters() {
        assert_eq!(LossParams::default(), LossParams { aux_coef: 0.75, ..HALF });
    }

    #[test]
    fn logconf_by_hand() {
        // z = [−ln3, ln3] → p = [0.25, 0.75]; q = [1, 0] (π = 0.5 → t = 0.5 → ĥ = [0, 1]).
        // At s = 0.1 with α_max = 0.5, w = 0.2: α = 0.25. Targets (1−α)q + αĥ = [0.75, 0.25].
        // CE(0.25, 0.75) = −0.75 ln 0.25 − 0.25 ln 0.75 = 1.039721 + 0.071921 = 1.111641, same for row 2.
        let params = HALF;
        let z = t(&[-LN3, LN3]);
        let q = t(&[1.0, 0.0]);
        let l = scalar(logconf(&z, &q, &params, 0.1, None).unwrap());
        assert!((l - 1.111641).abs() < 1e-5, "{l}");
        // At s = 0 it is plain xent: CE(0.25, 1) = ln 4 = 1.386294
        let l0 = scalar(logconf(&z, &q, &params, 0.0, None).unwrap());
        assert!((l0 - 4f64.ln()).abs() < 1e-5, "{l0}");
        // After warmup α = 0.5: targets [0.5, 0.5] → CE = ½(ln 4 + ln(4/3)) = 0.836988
        let l1 = scalar(logconf(&z, &q, &params, 0.7, None).unwrap());
        assert!((l1 - 0.836988).abs() < 1e-5, "{l1}");
    }

    #[test]
    fn logconf_with_a_fixed_threshold_by_hand() {
        // z = [−ln3, ln3] → p = [0.25, 0.75]; q = [1, 0]; a fixed t = 0.8 hardens both to 0
        // (the batch's own threshold, 0.5, would give [0, 1]). After warmup α = 0.5: targets
        // [0.5, 0] → CE(0.25, 0.5) = ½(ln 4 + ln 4/3) = 0.836988, CE(0.75, 0) = ln 4 = 1.386294.
        let z = t(&[-LN3, LN3]);
        let q = t(&[1.0, 0.0]);
        let l = scalar(logconf(&z, &q, &HALF, 0.7, Some(0.8)).unwrap());
        assert!((l - (0.836988 + 1.386294) / 2.0).abs() < 1e-5, "{l}");
        // compute passes the threshold to logconf only
        let c = scalar(compute(LossKind::Logconf, &z, &q, &HALF, 0.7, Some(0.8)).unwrap());
        assert!((c - l).abs() < 1e-9);
        let x = scalar(compute(LossKind::Xent, &z, &q, &HALF, 0.7, Some(0.8)).unwrap());
        assert!((x - scalar(xent(&z, &q).unwrap())).abs() < 1e-9);
    }

    #[test]
    fn product_by_hand() {
        // p = 0.75, q = 0.5, a = b = 1: r = 0.375 / (0.375 + 0.125) = 0.75 → CE(0.75, 0.75) = H(0.75) = 0.562335
        let l = scalar(product(&t(&[LN3]), &t(&[0.5]), &LossParams::default()).unwrap());
        assert!((l - 0.562335).abs() < 1e-5, "{l}");
        // p = 0.75, q = 0.25: r = 0.1875 / (0.1875 + 0.1875) = 0.5 → CE = ½(ln(4/3) + ln 4) = 0.836988
        let l = scalar(product(&t(&[LN3]), &t(&[0.25]), &LossParams::default()).unwrap());
        assert!((l - 0.836988).abs() < 1e-5, "{l}");
    }

    #[test]
    fn entropy_by_hand() {
        // p = 0.75, q = 1, α_max = 0.5 after warmup: 0.5·(−ln .75) + 0.5·H(.75) = 0.5·0.287682 + 0.5·0.562335 = 0.425009
        let l = scalar(entropy(&t(&[LN3]), &t(&[1.0]), &HALF, 1.0).unwrap());
        assert!((l - 0.425009).abs() < 1e-5, "{l}");
        // during warmup (s = 0.1 → α = 0.25): 0.75·0.287682 + 0.25·0.562335 = 0.356345
        let l = scalar(entropy(&t(&[LN3]), &t(&[1.0]), &HALF, 0.1).unwrap());
        assert!((l - 0.356345).abs() < 1e-5, "{l}");
    }

    #[test]
    fn entropy_gradient_pushes_towards_confidence() {
        // With q = p the CE term's gradient vanishes; the H(p) term must push p away from 0.5.
        let v = candle_core::Var::from_tensor(&t(&[0.5])).unwrap();
        let p = crate::stats::sigmoid(0.5) as f32;
        let l = entropy(v.as_tensor(), &t(&[p]), &LossParams::default(), 1.0).unwrap();
        let g = l.backward().unwrap();
        let dz = g.get(v.as_tensor()).unwrap().to_vec1::<f32>().unwrap()[0];
        assert!(dz < 0.0, "gradient {dz} should increase z (more confident in class 1)");
    }

    #[test]
    fn names_round_trip() {
        for k in LossKind::ALL {
            assert_eq!(k.name().parse::<LossKind>().unwrap(), k);
        }
        assert!("hinge".parse::<LossKind>().is_err());
    }
}
