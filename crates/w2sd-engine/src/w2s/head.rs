//! Trainable heads on frozen features: logistic regression or a one-hidden-layer MLP,
//! trained with candle-nn in f32 on the CPU.
//!
//! Training: AdamW (decoupled weight decay) with a cosine learning-rate schedule
//! `lr(t) = lr₀ · ½(1 + cos(π t / T))` over all `T` optimizer steps, shuffled
//! mini-batches (seeded), and — when enabled — early stopping on the validation loss
//! with `patience` epochs, restoring the best epoch's weights. Weights are initialised
//! from the seed (zeros for the logistic head, uniform `±1/√fan_in` for the MLP), so a
//! run is reproducible. Features are scaled with statistics of the training rows
//! (see [`Scaling`]).

use anyhow::{bail, Result};
use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{Linear, Optimizer, VarBuilder, VarMap};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::loss::{self, LossKind, LossParams};
use crate::runtime::CancelToken;

/// Head architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeadKind {
    Logistic,
    Mlp,
}

/// Head and optimiser settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeadConfig {
    pub kind: HeadKind,
    /// Hidden units of the MLP.
    pub hidden: usize,
    pub epochs: usize,
    /// At least this many optimizer steps: a head on few rows trains for
    /// `max(epochs, ⌈min_steps / steps per epoch⌉)` epochs. With 42 rows (2 batches) the
    /// 20 default epochs are 40 Adam steps at `lr` 1e-3, too few for a linear head to learn
    /// even a one-word rule (docs/train.md, "Features and heads").
    pub min_steps: usize,
    pub batch_size: usize,
    /// Peak learning rate `lr₀`.
    pub lr: f64,
    pub weight_decay: f64,
    /// L2 penalty `λ` on the weights (not the biases): the loss becomes
    /// `L + λ/2 · Σ w²`, the ridge of L2-regularised logistic regression.
    pub l2: f64,
    /// Candidate L2 penalties. When non-empty, every head chooses its own `λ` from them by
    /// k-fold cross-validation on its **own training rows and targets** (ground truth for
    /// the weak supervisor and the ceilings, weak labels for students; never the test or
    /// the validation split), see [`select_l2`]; `l2` is then unused. Empty: `l2` as given.
    pub l2_grid: Vec<f64>,
    /// Folds of that cross-validation (by group).
    pub cv_folds: usize,
    /// Epochs without a lower validation loss before stopping.
    pub patience: usize,
    /// Early stopping for the weak supervisor and the ceilings (validated on ground truth).
    pub early_stopping: bool,
    /// Early stopping for students too: on the AUROC of the student's validation
    /// predictions against the validation split's *weak* labels (hardened at 0.5), all a
    /// student may see — not on the cross-entropy against them, which rewards imitating
    /// the supervisor's confidence. Off by default, as in Burns et al.
    pub student_early_stopping: bool,
    /// How logistic heads on **ground truth** (the weak supervisor and the ceilings) are
    /// fitted: `lbfgs` solves their convex objective to convergence
    /// ([`super::logreg`], as a tuned scikit-learn probe does; no epochs, early stopping or
    /// AdamW weight decay), `adam` (the default) trains them like the students. Students
    /// always train with AdamW (logconf is not convex), and so do MLP heads.
    ///
    /// `adam` stays the default on measurement (docs/train.md, "An exact probe as the
    /// supervisor"): on SST-2 (internal split, 3 seeds) the exact bag-of-words supervisor,
    /// its ridge cross-validated on log loss, labels less confidently and its students
    /// recover less (xent PGR −0.20 [−0.23, −0.18], logconf −0.12 [−0.37, 0.13], paired).
    /// Left out of the written config when `adam`, so the stage keys of earlier runs stay.
    #[serde(skip_serializing_if = "Solver::is_adam")]
    pub solver: Solver,
}

/// How a logistic head on ground truth is fitted (see [`HeadConfig::solver`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Solver {
    Adam,
    Lbfgs,
}

impl Solver {
    fn is_adam(&self) -> bool {
        *self == Solver::Adam
    }
}

impl Default for HeadConfig {
    fn default() -> Self {
        Self {
            kind: HeadKind::Logistic,
            hidden: 128,
            epochs: 20,
            min_steps: 300,
            batch_size: 32,
            lr: 1e-3,
            weight_decay: 0.01,
            l2: 0.0,
            l2_grid: DEFAULT_L2_GRID.to_vec(),
            cv_folds: 4,
            patience: 4,
            early_stopping: true,
            student_early_stopping: false,
            solver: Solver::Adam,
        }
    }
}

/// The default `l2_grid`: no penalty, then 0.01 to 3 in steps of about ×3.
pub const DEFAULT_L2_GRID: [f64; 7] = [0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0];

/// One epoch of a training curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based.
    pub epoch: usize,
    pub epochs: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// xent of the validation predictions against the validation targets.
    pub val_loss: f64,
    /// Accuracy against the validation targets (ground truth, or weak labels for a student).
    pub val_acc: f64,
    /// Accuracy against the validation ground truth, for display only (never used to
    /// select a student).
    pub val_acc_gt: Option<f64>,
    /// AUROC against the (hardened) validation targets.
    #[serde(default)]
    pub val_auroc: Option<f64>,
    pub lr: f64,
}

/// What early stopping watches (with `patience` epochs, restoring the best epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Train every epoch, keep the last.
    Off,
    /// The lowest validation cross-entropy against the targets.
    ValLoss,
    /// The highest validation AUROC against the targets hardened at 0.5 (students, whose
    /// targets are weak labels).
    ValAuroc,
}

/// How raw features are scaled before the head (statistics of the training rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    /// Per-feature `(x − mean) / std`: dense hidden states, whose dimensions differ in scale.
    ZScore,
    /// `x / rms(x)` with one scalar: sparse features (the bag of words), which z-scoring
    /// would blow up on rare buckets; this keeps sparsity and gives active entries a
    /// magnitude the optimiser moves at the same pace as z-scored ones.
    Rms,
    None,
}

/// What to train on.
pub struct TrainSet<'a> {
    pub x: &'a Tensor,
    /// Target probability of class 1 per row.
    pub y: &'a [f32],
}

/// A trained head.
pub struct Head {
    kind: HeadKind,
    varmap: VarMap,
    layers: Vec<Linear>,
    mean: Option<Tensor>,
    std: Option<Tensor>,
}

/// A head with its training curve.
pub struct Trained {
    pub head: Head,
    pub curve: Vec<EpochStats>,
    /// Epoch whose weights were kept (1-based).
    pub best_epoch: usize,
    pub stopped_early: bool,
    /// The L2 penalty it was trained with.
    pub l2: f64,
    /// The cross-validation that chose `l2` (empty when `l2` was given).
    pub cv: Vec<CvPoint>,
    /// L-BFGS iterations, for a head fitted by [`Solver::Lbfgs`] (its `curve` is then one
    /// entry, the solution).
    pub iterations: Option<u64>,
}

fn seeded(varmap: &VarMap, name: &str, shape: &[usize], bound: f64, rng: &mut impl Rng, dev: &Device) -> Result<()> {
    let n: usize = shape.iter().product();
    let v: Vec<f32> =
        if bound == 0.0 { vec![0.0; n] } else { (0..n).map(|_| rng.random_range(-bound..bound) as f32).collect() };
    let t = Tensor::from_vec(v, shape, dev)?;
    varmap.data().lock().unwrap().insert(name.to_string(), Var::from_tensor(&t)?);
    Ok(())
}

impl Head {
    fn new(kind: HeadKind, dim: usize, hidden: usize, seed: u64, dev: &Device) -> Result<Head> {
        let varmap = VarMap::new();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x4ead_0000);
        let dims: Vec<(usize, usize)> = match kind {
            HeadKind::Logistic => vec![(dim, 1)],
            HeadKind::Mlp => vec![(dim, hidden), (hidden, 1)],
        };
        for (k, &(i, o)) in dims.iter().enumerate() {
            let bound = if kind == HeadKind::Logistic { 0.0 } else { 1.0 / (i as f64).sqrt() };
            seeded(&varmap, &format!("l{k}.weight"), &[o, i], bound, &mut rng, dev)?;
            seeded(&varmap, &format!("l{k}.bias"), &[o], bound, &mut rng, dev)?;
        }
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, dev);
        let layers = dims
            .iter()
            .enumerate()
            .map(|(k, &(i, o))| candle_nn::linear(i, o, vb.pp(format!("l{k}"))))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Head { kind, varmap, layers, mean: None, std: None })
    }

    fn standardize(&self, x: &Tensor) -> Result<Tensor> {
        Ok(match (&self.mean, &self.std) {
            (Some(m), Some(s)) => x.broadcast_sub(m)?.broadcast_div(s)?,
            (None, Some(s)) => x.broadcast_div(s)?,
            _ => x.clone(),
        })
    }

    /// Logits `[n]` for already-standardised rows.
    fn logits_std(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for (k, l) in self.layers.iter().enumerate() {
            h = l.forward(&h)?;
            if k + 1 < self.layers.len() {
                h = h.relu()?;
            }
        }
        Ok(h.squeeze(1)?)
    }

    /// Logits `[n]` for raw feature rows `[n, dim]`.
    pub fn logits(&self, x: &Tensor) -> Result<Tensor> {
        self.logits_std(&self.standardize(x)?)
    }

    /// Probability of class 1 per row, `σ(z)` computed in f64.
    pub fn predict(&self, x: &Tensor) -> Result<Vec<f64>> {
        let z = self.logits(x)?.to_vec1::<f32>()?;
        Ok(z.into_iter().map(|v| crate::stats::sigmoid(v as f64)).collect())
    }

    pub fn kind(&self) -> HeadKind {
        self.kind
    }

    /// `Σ w²` over the weight matrices.
    fn weight_penalty(&self) -> Result<Tensor> {
        let mut total: Option<Tensor> = None;
        for l in &self.layers {
            let s = l.weight().sqr()?.sum_all()?;
            total = Some(match total {
                Some(t) => (t + s)?,
                None => s,
            });
        }
        total.ok_or_else(|| anyhow::anyhow!("the head has no layers"))
    }

    fn snapshot(&self) -> Result<HashMap<String, Tensor>> {
        let data = self.varmap.data().lock().unwrap();
        data.iter().map(|(k, v)| Ok((k.clone(), v.as_tensor().copy()?))).collect()
    }

    fn restore(&self, snap: &HashMap<String, Tensor>) -> Result<()> {
        let data = self.varmap.data().lock().unwrap();
        for (k, v) in data.iter() {
            v.set(&snap[k])?;
        }
        Ok(())
    }
}

fn mean_std(x: &Tensor) -> Result<(Tensor, Tensor)> {
    let mean = x.mean_keepdim(0)?;
    let var = x.broadcast_sub(&mean)?.sqr()?.mean_keepdim(0)?;
    let std = (var.sqrt()? + 1e-6)?;
    Ok((mean, std))
}

/// Trains a head with `loss` on `train`, validating each epoch on `val`.
///
/// `val_gt` (ground truth of the validation rows) is only reported. `early_stopping`
/// stops after `cfg.patience` epochs without a lower validation loss and restores the
/// best weights; otherwise the last epoch's weights are kept. See [`train_with`] for
/// stopping on AUROC.
#[allow(clippy::too_many_arguments)]
pub fn train(
    train: &TrainSet,
    val: &TrainSet,
    val_gt: Option<&[bool]>,
    loss_kind: LossKind,
    loss_params: &LossParams,
    cfg: &HeadConfig,
    early_stopping: bool,
    scaling: Scaling,
    seed: u64,
    cancel: &CancelToken,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<Trained> {
    let stop = if early_stopping { Stop::ValLoss } else { Stop::Off };
    train_with(train, val, val_gt, loss_kind, loss_params, cfg, stop, scaling, seed, cancel, on_epoch)
}

/// [`train`] with the early-stopping criterion spelled out ([`Stop`]).
#[allow(clippy::too_many_arguments)]
pub fn train_with(
    train: &TrainSet,
    val: &TrainSet,
    val_gt: Option<&[bool]>,
    loss_kind: LossKind,
    loss_params: &LossParams,
    cfg: &HeadConfig,
    stop: Stop,
    scaling: Scaling,
    seed: u64,
    cancel: &CancelToken,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<Trained> {
    let early_stopping = stop != Stop::Off;
    let dev = train.x.device().clone();
    let (n, dim) = train.x.dims2()?;
    if n == 0 || n != train.y.len() || val.x.dims2()?.0 != val.y.len() {
        bail!("training needs rows with one target each (got {n} rows, {} targets)", train.y.len());
    }
    if cfg.batch_size == 0 || cfg.epochs == 0 {
        bail!("batch_size and epochs must be positive");
    }
    let mut head = Head::new(cfg.kind, dim, cfg.hidden, seed, &dev)?;
    match scaling {
        Scaling::ZScore => {
            let (m, s) = mean_std(train.x)?;
            head.mean = Some(m);
            head.std = Some(s);
        }
        Scaling::Rms => {
            let rms = (train.x.sqr()?.mean_all()?.sqrt()? + 1e-12)?;
            head.std = Some(rms.reshape((1, 1))?);
        }
        Scaling::None => {}
    }
    let xs = head.standardize(train.x)?;
    let xv = head.standardize(val.x)?;
    let ys = Tensor::from_slice(train.y, n, &dev)?;
    let yv = Tensor::from_slice(val.y, val.y.len(), &dev)?;
    let yv_hard: Vec<bool> = val.y.iter().map(|&y| y >= 0.5).collect();
    let epoch_stats = |head: &Head, epoch: usize, epochs: usize, train_loss: f64, lr: f64| -> Result<EpochStats> {
        let zv = head.logits_std(&xv)?;
        let val_loss = loss::xent(&zv, &yv)?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let pv: Vec<f64> = zv.to_vec1::<f32>()?.into_iter().map(|z| crate::stats::sigmoid(z as f64)).collect();
        Ok(EpochStats {
            epoch,
            epochs,
            train_loss,
            val_loss,
            val_acc: crate::stats::accuracy(&pv, &yv_hard),
            val_acc_gt: val_gt.map(|g| crate::stats::accuracy(&pv, g)),
            val_auroc: crate::w2s::metrics::finite(crate::stats::auroc(&pv, &yv_hard)),
            lr,
        })
    };
    if cfg.solver == Solver::Lbfgs && cfg.kind == HeadKind::Logistic && loss_kind == LossKind::Xent {
        if cancel.is_cancelled() {
            bail!("training cancelled");
        }
        let rows = super::logreg::Rows::from_dense(&xs.flatten_all()?.to_vec1::<f32>()?, dim);
        let fit = super::logreg::fit(&rows, train.y, cfg.l2, super::logreg::MAX_ITERS)?;
        let w: Vec<f32> = fit.w.iter().map(|&v| v as f32).collect();
        let data = head.varmap.data().lock().unwrap();
        data["l0.weight"].set(&Tensor::from_vec(w, (1, dim), &dev)?)?;
        data["l0.bias"].set(&Tensor::from_vec(vec![fit.b as f32], 1, &dev)?)?;
        drop(data);
        let stats = epoch_stats(&head, 1, 1, fit.cost, 0.0)?;
        on_epoch(&stats);
        if !stats.val_loss.is_finite() {
            bail!("the validation loss of the fitted probe is {}", stats.val_loss);
        }
        return Ok(Trained {
            head,
            curve: vec![stats],
            best_epoch: 1,
            stopped_early: false,
            l2: cfg.l2,
            cv: Vec::new(),
            iterations: Some(fit.iterations),
        });
    }
    let mut opt = candle_nn::AdamW::new(
        head.varmap.all_vars(),
        candle_nn::ParamsAdamW { lr: cfg.lr, weight_decay: cfg.weight_decay, ..Default::default() },
    )?;
    let steps_per_epoch = n.div_ceil(cfg.batch_size);
    let epochs = cfg.epochs.max(cfg.min_steps.div_ceil(steps_per_epoch));
    let total = (epochs * steps_per_epoch) as f64;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x0ba7_c4e5);
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut step = 0usize;
    let mut curve = Vec::new();
    let mut best = (f64::INFINITY, 0usize, None);
    let mut stopped_early = false;
    // The weak labels' class prior, for logconf's epoch-wide threshold (once: targets are fixed).
    let epoch_prior = (loss_kind == LossKind::Logconf && loss_params.threshold == loss::Threshold::Epoch)
        .then(|| train.y.iter().map(|&y| y as f64).sum::<f64>() / n as f64);
    for epoch in 1..=epochs {
        if cancel.is_cancelled() {
            bail!("training cancelled");
        }
        order.shuffle(&mut rng);
        // Logconf with an epoch-wide threshold: the (1−π)-quantile of the student's
        // predictions on every training row, π the mean weak label.
        let threshold = if let Some(prior) = epoch_prior {
            let p: Vec<f64> =
                head.logits_std(&xs)?.to_vec1::<f32>()?.into_iter().map(|z| crate::stats::sigmoid(z as f64)).collect();
            Some(loss::hardening_threshold(&p, prior))
        } else {
            None
        };
        let mut loss_sum = 0.0;
        let mut lr_now = cfg.lr;
        for batch in order.chunks(cfg.batch_size) {
            let idx = Tensor::from_slice(batch, batch.len(), &dev)?;
            let xb = xs.index_select(&idx, 0)?;
            let yb = ys.index_select(&idx, 0)?;
            lr_now = cfg.lr * 0.5 * (1.0 + (std::f64::consts::PI * step as f64 / total).cos());
            opt.set_learning_rate(lr_now);
            let z = head.logits_std(&xb)?;
            let mut l = loss::compute(loss_kind, &z, &yb, loss_params, step as f64 / total, threshold)?;
            if cfg.l2 > 0.0 {
                l = (l + (head.weight_penalty()? * (cfg.l2 / 2.0))?)?;
            }
            opt.backward_step(&l)?;
            loss_sum += l.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            step += 1;
        }
        let stats = epoch_stats(&head, epoch, epochs, loss_sum / steps_per_epoch as f64, lr_now)?;
        let val_loss = stats.val_loss;
        // Lower is better: the loss, or minus the AUROC.
        let score = match stop {
            Stop::ValAuroc => -stats.val_auroc.unwrap_or(0.5),
            _ => val_loss,
        };
        on_epoch(&stats);
        curve.push(stats);
        if !val_loss.is_finite() {
            bail!("the validation loss became {val_loss} at epoch {epoch}; lower the learning rate");
        }
        if score < best.0 - 1e-7 {
            best = (score, epoch, if early_stopping { Some(head.snapshot()?) } else { None });
        } else if early_stopping && epoch - best.1 >= cfg.patience {
            stopped_early = true;
            break;
        }
    }
    let best_epoch = if early_stopping {
        if let Some(s) = &best.2 {
            head.restore(s)?;
        }
        best.1
    } else {
        curve.len()
    };
    Ok(Trained { head, curve, best_epoch, stopped_early, l2: cfg.l2, cv: Vec::new(), iterations: None })
}

/// What the cross-validation of [`select_l2`] scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CvScore {
    /// Mean cross-entropy of the pooled out-of-fold predictions,
    /// `−(1/n) Σᵢ [yᵢ ln p̂ᵢ + (1−yᵢ) ln(1−p̂ᵢ)]`, lower is better: for ground-truth targets
    /// (the weak supervisor and the ceilings).
    LogLoss,
    /// AUROC of the pooled out-of-fold predictions against `1[yᵢ ≥ ½]`, higher is better:
    /// for students, whose targets are weak labels (the cross-entropy against those would
    /// reward copying the supervisor's confidence, as with early stopping).
    Auroc,
}

/// One candidate of the cross-validation and its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvPoint {
    pub l2: f64,
    /// `NaN` (`null` in the file) where undefined: an AUROC whose targets are all one class.
    #[serde(with = "crate::session::schema::nullable")]
    pub score: f64,
}

/// The cross-validation score of out-of-fold predictions `p` for targets `y` (see [`CvScore`]).
/// Probabilities are clamped to `[1e-7, 1 − 1e-7]` for the log loss.
pub fn cv_score(kind: CvScore, p: &[f64], y: &[f32]) -> f64 {
    match kind {
        CvScore::LogLoss => {
            let n = p.len().max(1) as f64;
            p.iter()
                .zip(y)
                .map(|(&p, &y)| {
                    let p = p.clamp(1e-7, 1.0 - 1e-7);
                    let y = y as f64;
                    -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
                })
                .sum::<f64>()
                / n
        }
        CvScore::Auroc => {
            let hard: Vec<bool> = y.iter().map(|&v| v >= 0.5).collect();
            crate::stats::auroc(p, &hard)
        }
    }
}

/// The chosen penalty: the best score (lowest log loss, highest AUROC); scores within
/// `1e-9` of the best count as ties and go to the **largest** `λ` (the simpler head).
/// Non-finite scores never win; with none finite, the largest `λ`.
pub fn best_l2(points: &[CvPoint], kind: CvScore) -> f64 {
    let sign = if kind == CvScore::LogLoss { 1.0 } else { -1.0 };
    let best = points.iter().filter(|c| c.score.is_finite()).map(|c| sign * c.score).fold(f64::INFINITY, f64::min);
    points
        .iter()
        .filter(|c| !best.is_finite() || (c.score.is_finite() && sign * c.score <= best + 1e-9))
        .map(|c| c.l2)
        .fold(f64::NEG_INFINITY, f64::max)
}

/// k-fold cross-validation of the L2 penalty over `cfg.l2_grid`.
///
/// Row `i` of `train` belongs to fold `folds[i]` (`0..k`; the rows of one group share a
/// fold). For each `λ` and each fold `f`, a head with `cfg` and `l2 = λ` is trained on the
/// rows outside `f` (early stopping, if `stop` asks for it, validated on `f`), and predicts
/// the rows of `f`; the pooled out-of-fold predictions are scored with `score`
/// ([`cv_score`]). Returns one [`CvPoint`] per `λ`, in grid order; pick with [`best_l2`].
/// `on_fit(done, total)` reports each trained fold.
#[allow(clippy::too_many_arguments)]
pub fn select_l2(
    train: &TrainSet,
    folds: &[usize],
    k: usize,
    loss_kind: LossKind,
    loss_params: &LossParams,
    cfg: &HeadConfig,
    stop: Stop,
    scaling: Scaling,
    seed: u64,
    score: CvScore,
    cancel: &CancelToken,
    on_fit: &mut dyn FnMut(usize, usize),
) -> Result<Vec<CvPoint>> {
    let (n, _) = train.x.dims2()?;
    if folds.len() != n || n != train.y.len() {
        bail!("cross-validation needs one fold and one target per row");
    }
    if k < 2 {
        bail!("cross-validation needs at least 2 folds (cv_folds = {k})");
    }
    let dev = train.x.device().clone();
    let rows = |f: usize, inside: bool| -> Vec<u32> {
        (0..n as u32).filter(|&i| (folds[i as usize] == f) == inside).collect()
    };
    let total = cfg.l2_grid.len() * k;
    let mut done = 0;
    let mut points = Vec::with_capacity(cfg.l2_grid.len());
    for &l2 in &cfg.l2_grid {
        let c = HeadConfig { l2, l2_grid: Vec::new(), ..cfg.clone() };
        let mut oof = vec![f64::NAN; n];
        for f in 0..k {
            let (fit_rows, held) = (rows(f, false), rows(f, true));
            done += 1;
            if held.is_empty() || fit_rows.is_empty() {
                continue;
            }
            let pick = |r: &[u32]| -> Result<(Tensor, Vec<f32>)> {
                let idx = Tensor::from_slice(r, r.len(), &dev)?;
                Ok((train.x.index_select(&idx, 0)?, r.iter().map(|&i| train.y[i as usize]).collect()))
            };
            let (xi, yi) = pick(&fit_rows)?;
            let (xo, yo) = pick(&held)?;
            let t = train_with(
                &TrainSet { x: &xi, y: &yi },
                &TrainSet { x: &xo, y: &yo },
                None,
                loss_kind,
                loss_params,
                &c,
                stop,
                scaling,
                seed ^ (f as u64 + 1),
                cancel,
                &mut |_| {},
            )?;
            for (&i, p) in held.iter().zip(t.head.predict(&xo)?) {
                oof[i as usize] = p;
            }
            on_fit(done, total);
        }
        let (p, y): (Vec<f64>, Vec<f32>) =
            oof.iter().zip(train.y).filter(|(p, _)| p.is_finite()).map(|(&p, &y)| (p, y)).unzip();
        points.push(CvPoint { l2, score: cv_score(score, &p, &y) });
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two Gaussian blobs in 5-d separated along the first axis.
    fn blobs(n: usize, seed: u64) -> (Tensor, Vec<f32>) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let c = (i % 2) as f32;
            for d in 0..5 {
                let noise: f32 = rng.random_range(-1.0..1.0);
                x.push(if d == 0 { (c * 2.0 - 1.0) * 1.5 + noise } else { noise * 3.0 });
            }
            y.push(c);
        }
        (Tensor::from_vec(x, (n, 5), &Device::Cpu).unwrap(), y)
    }

    #[test]
    fn logistic_and_mlp_learn_separable_blobs_reproducibly() {
        let (xt, yt) = blobs(200, 1);
        let (xv, yv) = blobs(100, 2);
        for kind in [HeadKind::Logistic, HeadKind::Mlp] {
            let cfg = HeadConfig { kind, epochs: 15, lr: 1e-2, ..Default::default() };
            let run = || {
                let mut epochs = 0;
                let t = train(
                    &TrainSet { x: &xt, y: &yt },
                    &TrainSet { x: &xv, y: &yv },
                    None,
                    LossKind::Xent,
                    &LossParams::default(),
                    &cfg,
                    true,
                    Scaling::ZScore,
                    7,
                    &CancelToken::new(),
                    &mut |_| epochs += 1,
                )
                .unwrap();
                assert_eq!(epochs, t.curve.len());
                t
            };
            let t = run();
            let p = t.head.predict(&xv).unwrap();
            let labels: Vec<bool> = yv.iter().map(|&y| y > 0.5).collect();
            let acc = crate::stats::accuracy(&p, &labels);
            assert!(acc > 0.9, "{kind:?} accuracy {acc}");
            assert!(t.curve.last().unwrap().train_loss < t.curve[0].train_loss);
            // the cosine schedule decays the learning rate
            assert!(t.curve.last().unwrap().lr < cfg.lr * 0.5);
            // same seed, same predictions
            assert_eq!(p, run().head.predict(&xv).unwrap());
        }
    }

    #[test]
    fn lbfgs_fits_xent_logistic_heads_exactly_and_leaves_the_rest_to_adam() {
        let (xt, yt) = blobs(200, 5);
        let (xv, yv) = blobs(80, 6);
        let cfg = HeadConfig { solver: Solver::Lbfgs, l2: 0.1, l2_grid: Vec::new(), ..Default::default() };
        let fit = |loss: LossKind, cfg: &HeadConfig| {
            train(
                &TrainSet { x: &xt, y: &yt },
                &TrainSet { x: &xv, y: &yv },
                None,
                loss,
                &LossParams::default(),
                cfg,
                true,
                Scaling::ZScore,
                3,
                &CancelToken::new(),
                &mut |_| {},
            )
            .unwrap()
        };
        let t = fit(LossKind::Xent, &cfg);
        assert!(t.iterations.is_some_and(|k| k > 0));
        assert_eq!((t.curve.len(), t.best_epoch), (1, 1));
        // the head's weights are the solver's solution on the standardised rows
        let (m, s) = mean_std(&xt).unwrap();
        let xs = xt.broadcast_sub(&m).unwrap().broadcast_div(&s).unwrap();
        let rows = super::super::logreg::Rows::from_dense(&xs.flatten_all().unwrap().to_vec1::<f32>().unwrap(), 5);
        let exact = super::super::logreg::fit(&rows, &yt, 0.1, super::super::logreg::MAX_ITERS).unwrap();
        let z = t.head.logits(&xt).unwrap().to_vec1::<f32>().unwrap();
        let z0: f64 =
            (0..5).map(|j| xs.get(0).unwrap().to_vec1::<f32>().unwrap()[j] as f64 * exact.w[j]).sum::<f64>() + exact.b;
        assert!((z[0] as f64 - z0).abs() < 1e-4, "{} vs {z0}", z[0]);
        let labels: Vec<bool> = yv.iter().map(|&y| y > 0.5).collect();
        assert!(crate::stats::accuracy(&t.head.predict(&xv).unwrap(), &labels) > 0.9);
        // logconf (a student's loss) and MLP heads train with AdamW
        assert!(fit(LossKind::Logconf, &cfg).iterations.is_none());
        assert!(fit(LossKind::Xent, &HeadConfig { kind: HeadKind::Mlp, ..cfg.clone() }).iterations.is_none());
    }

    #[test]
    fn student_stopping_watches_auroc_against_the_weak_labels() {
        let (x, y) = blobs(200, 3);
        let (xv, yv) = blobs(60, 4);
        let cfg = HeadConfig { epochs: 30, patience: 2, ..Default::default() };
        let t = train_with(
            &TrainSet { x: &x, y: &y },
            &TrainSet { x: &xv, y: &yv },
            None,
            LossKind::Xent,
            &LossParams::default(),
            &cfg,
            Stop::ValAuroc,
            Scaling::ZScore,
            1,
            &CancelToken::new(),
            &mut |_| {},
        )
        .unwrap();
        // the kept epoch has the best validation AUROC of the curve
        let best = t.curve.iter().map(|e| e.val_auroc.unwrap()).fold(0.0, f64::max);
        let kept = t.curve[t.best_epoch - 1].val_auroc.unwrap();
        assert!((kept - best).abs() < 1e-7 + 1e-9, "{kept} vs {best}");
        assert!(t.curve.iter().all(|e| e.val_auroc.is_some()));
    }

    #[test]
    fn early_stopping_keeps_the_best_epoch() {
        // Random labels: the validation loss cannot improve for long, so training stops.
        let (xt, _) = blobs(100, 3);
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let yt: Vec<f32> = (0..100).map(|_| if rng.random_bool(0.5) { 1.0 } else { 0.0 }).collect();
        let (xv, _) = blobs(60, 4);
        let yv: Vec<f32> = (0..60).map(|_| if rng.random_bool(0.5) { 1.0 } else { 0.0 }).collect();
        let cfg = HeadConfig { kind: HeadKind::Mlp, epochs: 60, lr: 3e-2, patience: 3, ..Default::default() };
        let t = train(
            &TrainSet { x: &xt, y: &yt },
            &TrainSet { x: &xv, y: &yv },
            None,
            LossKind::Xent,
            &LossParams::default(),
            &cfg,
            true,
            Scaling::ZScore,
            1,
            &CancelToken::new(),
            &mut |_| {},
        )
        .unwrap();
        assert!(t.stopped_early && t.curve.len() < 60);
        assert_eq!(t.curve.len(), t.best_epoch + 3);
        let best = t.curve[t.best_epoch - 1].val_loss;
        assert!(t.curve.iter().all(|e| e.val_loss >= best));
        // the restored weights reproduce the best epoch's validation loss
        let z = t.head.logits(&xv).unwrap();
        let yvt = Tensor::from_slice(&yv, 60, &Device::Cpu).unwrap();
        let l = loss::xent(&z, &yvt).unwrap().to_scalar::<f32>().unwrap() as f64;
        assert!((l - best).abs() < 1e-5, "{l} vs {best}");
    }

    #[test]
    fn cv_scores_and_choice_by_hand() {
        // log loss: −(ln 0.8 + ln 0.6)/2 for p = (0.8, 0.4), y = (1, 0)
        let l = cv_score(CvScore::LogLoss, &[0.8, 0.4], &[1.0, 0.0]);
        assert!((l - (-(0.8f64.ln() + 0.6f64.ln()) / 2.0)).abs() < 1e-12);
        // AUROC against hardened soft targets: 0.7 → 1, 0.2 → 0
        assert_eq!(cv_score(CvScore::Auroc, &[0.9, 0.1, 0.6], &[0.7, 0.2, 0.4]), 1.0);
        let pts =
            |s: [f64; 3]| [0.0, 0.1, 1.0].iter().zip(s).map(|(&l2, score)| CvPoint { l2, score }).collect::<Vec<_>>();
        assert_eq!(best_l2(&pts([0.5, 0.4, 0.6]), CvScore::LogLoss), 0.1);
        assert_eq!(best_l2(&pts([0.5, 0.4, 0.6]), CvScore::Auroc), 1.0);
        // ties go to the larger penalty; NaN never wins
        assert_eq!(best_l2(&pts([0.4, 0.4, f64::NAN]), CvScore::LogLoss), 0.1);
        assert_eq!(best_l2(&pts([f64::NAN; 3]), CvScore::Auroc), 1.0);
    }

    #[test]
    fn cross_validation_prefers_a_penalty_when_features_are_mostly_noise() {
        // 40 rows, 200 noise dimensions and one weak signal: an unpenalised head
        // overfits, so some λ > 0 must score a lower out-of-fold log loss than λ = 0.
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let (n, d) = (40, 200);
        let mut x = Vec::with_capacity(n * d);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let c = (i % 2) as f32;
            for j in 0..d {
                let noise: f32 = rng.random_range(-1.0..1.0);
                x.push(if j == 0 { (c * 2.0 - 1.0) * 0.7 + noise } else { noise });
            }
            y.push(c);
        }
        let x = Tensor::from_vec(x, (n, d), &Device::Cpu).unwrap();
        let folds: Vec<usize> = (0..n).map(|i| (i / 2) % 4).collect();
        let cfg = HeadConfig { epochs: 30, lr: 1e-2, l2_grid: vec![0.0, 1.0, 10.0], ..Default::default() };
        let mut fits = 0;
        let pts = select_l2(
            &TrainSet { x: &x, y: &y },
            &folds,
            4,
            LossKind::Xent,
            &LossParams::default(),
            &cfg,
            Stop::Off,
            Scaling::ZScore,
            3,
            CvScore::LogLoss,
            &CancelToken::new(),
            &mut |_, _| fits += 1,
        )
        .unwrap();
        assert_eq!(fits, 12);
        assert_eq!(pts.len(), 3);
        assert!(pts.iter().all(|p| p.score.is_finite()));
        assert!(best_l2(&pts, CvScore::LogLoss) > 0.0, "{pts:?}");
    }
}
