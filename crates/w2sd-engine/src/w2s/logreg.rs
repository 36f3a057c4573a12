//! L2-regularised logistic regression solved to convergence with L-BFGS (argmin), the way
//! a tuned reference (scikit-learn's `LogisticRegression`, lbfgs solver) fits a linear
//! probe. Used for the heads trained on ground truth (the weak supervisor and the
//! ceilings) when `head.solver = "lbfgs"`.
//!
//! Over the weights `w` and the bias `b`, with `zᵢ = xᵢ·w + b` and targets `yᵢ ∈ [0, 1]`:
//!
//! `f(w, b) = (1/n) Σᵢ [softplus(zᵢ) − yᵢ zᵢ] + (λ/2) ‖w‖²`
//!
//! `∇_w f = (1/n) Xᵀ (σ(z) − y) + λ w`, `∂_b f = (1/n) Σᵢ (σ(zᵢ) − yᵢ)`
//!
//! — the mean cross-entropy of the Adam-trained heads plus the same ridge (`head.l2`; the
//! bias is not penalised), and convex, so the solution depends only on the data and `λ`,
//! not on a learning rate, epochs or early stopping. `softplus(z) = max(z, 0) + ln(1 + e^−|z|)`.
//! With `λ = 0` on separable rows the minimum is at infinity; the iteration cap then ends it.
//!
//! Rows are held sparse (the bag of words has ~20 non-zeros in 4,096 columns) and the
//! sums run over a fixed partition of the rows, added in order, so a fit is reproducible
//! bit for bit whatever the thread count.

use anyhow::{bail, Result};
use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rayon::prelude::*;

/// Iterations at most (scikit-learn's `max_iter` default is 100; 500 lets weakly
/// penalised fits on thousands of columns finish).
pub const MAX_ITERS: u64 = 500;
/// Stop when `‖∇f‖` falls below this.
pub const TOL_GRAD: f64 = 1e-6;
/// Stored gradient pairs of L-BFGS.
const MEMORY: usize = 10;
/// Row blocks of the parallel sums (fixed, so the sums are added in the same order).
const BLOCKS: usize = 16;

/// Rows in compressed sparse row form.
pub struct Rows {
    dim: usize,
    start: Vec<usize>,
    col: Vec<u32>,
    val: Vec<f64>,
}

impl Rows {
    /// From `n` dense rows of `dim` values (row-major), keeping the non-zeros.
    pub fn from_dense(x: &[f32], dim: usize) -> Rows {
        assert!(dim > 0 && x.len().is_multiple_of(dim));
        let mut start = vec![0];
        let (mut col, mut val) = (Vec::new(), Vec::new());
        for row in x.chunks_exact(dim) {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    col.push(j as u32);
                    val.push(v as f64);
                }
            }
            start.push(col.len());
        }
        Rows { dim, start, col, val }
    }

    pub fn len(&self) -> usize {
        self.start.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn dot(&self, i: usize, w: &[f64]) -> f64 {
        let r = self.start[i]..self.start[i + 1];
        self.col[r.clone()].iter().zip(&self.val[r]).map(|(&j, &v)| v * w[j as usize]).sum()
    }

    fn blocks(&self) -> Vec<std::ops::Range<usize>> {
        let n = self.len();
        let size = n.div_ceil(BLOCKS).max(1);
        (0..n).step_by(size).map(|a| a..(a + size).min(n)).collect()
    }
}

/// The fitted probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub w: Vec<f64>,
    pub b: f64,
    /// L-BFGS iterations taken.
    pub iterations: u64,
    /// `f(w, b)` at the solution.
    pub cost: f64,
    /// Whether it stopped on the gradient or cost tolerance rather than the iteration cap.
    pub converged: bool,
}

struct Problem<'a> {
    rows: &'a Rows,
    y: &'a [f32],
    l2: f64,
}

fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

impl Problem<'_> {
    /// `f` and, when asked, `∇f` at `p = [w…, b]`.
    fn eval(&self, p: &[f64], grad: bool) -> (f64, Option<Vec<f64>>) {
        let d = self.rows.dim;
        let (w, b) = (&p[..d], p[d]);
        let n = self.rows.len() as f64;
        let parts: Vec<(f64, Option<Vec<f64>>)> = self
            .rows
            .blocks()
            .into_par_iter()
            .map(|range| {
                let mut loss = 0.0;
                let mut g = grad.then(|| vec![0.0; d + 1]);
                for i in range {
                    let z = self.rows.dot(i, w) + b;
                    let y = self.y[i] as f64;
                    loss += softplus(z) - y * z;
                    if let Some(g) = g.as_mut() {
                        let r = crate::stats::sigmoid(z) - y;
                        let s = self.rows.start[i]..self.rows.start[i + 1];
                        for (&j, &v) in self.rows.col[s.clone()].iter().zip(&self.rows.val[s]) {
                            g[j as usize] += r * v;
                        }
                        g[d] += r;
                    }
                }
                (loss, g)
            })
            .collect();
        let mut loss = 0.0;
        let mut g = grad.then(|| vec![0.0; d + 1]);
        for (l, pg) in parts {
            loss += l;
            if let (Some(g), Some(pg)) = (g.as_mut(), pg) {
                g.iter_mut().zip(pg).for_each(|(a, b)| *a += b);
            }
        }
        let ridge = 0.5 * self.l2 * w.iter().map(|v| v * v).sum::<f64>();
        if let Some(g) = g.as_mut() {
            for (j, gj) in g.iter_mut().enumerate() {
                *gj /= n;
                if j < d {
                    *gj += self.l2 * w[j];
                }
            }
        }
        (loss / n + ridge, g)
    }
}

impl CostFunction for Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.eval(p, false).0)
    }
}

impl Gradient for Problem<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        Ok(self.eval(p, true).1.expect("asked for the gradient"))
    }
}

/// Minimises `f` (module docs) for `rows` and targets `y` with penalty `l2 = λ ≥ 0`,
/// from `w = 0, b = 0`.
pub fn fit(rows: &Rows, y: &[f32], l2: f64, max_iters: u64) -> Result<Fit> {
    if rows.is_empty() || rows.len() != y.len() {
        bail!("logistic regression needs rows with one target each (got {} rows, {} targets)", rows.len(), y.len());
    }
    if !(l2 >= 0.0 && l2.is_finite()) {
        bail!("the L2 penalty must be finite and non-negative (got {l2})");
    }
    let problem = Problem { rows, y, l2 };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), MEMORY)
        .with_tolerance_grad(TOL_GRAD)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_tolerance_cost(1e-12)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let init = vec![0.0; rows.dim + 1];
    let res = Executor::new(problem, solver)
        .configure(|s| s.param(init).max_iters(max_iters))
        .run()
        .map_err(|e| anyhow::anyhow!("L-BFGS failed: {e}"))?;
    let state = res.state();
    let p = state
        .get_best_param()
        .or(state.get_param())
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("L-BFGS returned no solution"))?;
    let converged =
        matches!(state.get_termination_status(), TerminationStatus::Terminated(TerminationReason::SolverConverged));
    let cost = Problem { rows, y, l2 }.eval(&p, false).0;
    if !cost.is_finite() {
        bail!("logistic regression diverged (cost {cost})");
    }
    let d = rows.dim;
    Ok(Fit { w: p[..d].to_vec(), b: p[d], iterations: state.get_iter(), cost, converged })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gradient matches central finite differences of the cost.
    #[test]
    fn gradient_matches_finite_differences() {
        let x = [0.5f32, 0.0, -1.0, 1.5, 2.0, 0.0, 0.0, -0.5, 1.0, 0.25, -2.0, 0.75];
        let rows = Rows::from_dense(&x, 3);
        let y = [1.0f32, 0.0, 0.3, 1.0];
        let p = Problem { rows: &rows, y: &y, l2: 0.7 };
        let at = vec![0.2, -0.4, 0.9, 0.1];
        let g = p.eval(&at, true).1.unwrap();
        for j in 0..4 {
            let (mut a, mut b) = (at.clone(), at.clone());
            a[j] += 1e-6;
            b[j] -= 1e-6;
            let fd = (p.eval(&a, false).0 - p.eval(&b, false).0) / 2e-6;
            assert!((fd - g[j]).abs() < 1e-7, "coordinate {j}: {fd} vs {}", g[j]);
        }
    }

    /// One feature, by hand: rows x = +1 (target 1) and x = −1 (target 0), λ = 1. By
    /// symmetry b = 0, and ∂_w f = ½[(σ(w) − 1) − σ(−w)] + w = σ(w) − 1 + w = 0, so
    /// σ(w) + w = 1: w = 0.401058 (root found by bisection outside this code).
    #[test]
    fn one_feature_optimum_by_hand() {
        let rows = Rows::from_dense(&[1.0, -1.0], 1);
        let f = fit(&rows, &[1.0, 0.0], 1.0, MAX_ITERS).unwrap();
        assert!(f.converged);
        assert!(f.b.abs() < 1e-6, "bias {}", f.b);
        assert!((f.w[0] - 0.401_058).abs() < 1e-5, "w {}", f.w[0]);
        assert!((crate::stats::sigmoid(f.w[0]) + f.w[0] - 1.0).abs() < 1e-6);
    }

    /// Sparse and dense columns give the same fit, and the fit is reproducible.
    #[test]
    fn deterministic_and_penalty_shrinks() {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..200 {
            let a = ((i * 37) % 17) as f32 / 8.0 - 1.0;
            let c = ((i * 11) % 13) as f32 / 6.0 - 1.0;
            x.extend([a, 0.0, c]);
            y.push(if a + 0.3 * c + ((i * 7) % 5) as f32 * 0.1 > 0.2 { 1.0 } else { 0.0 });
        }
        let rows = Rows::from_dense(&x, 3);
        let a = fit(&rows, &y, 0.01, MAX_ITERS).unwrap();
        assert_eq!(a, fit(&rows, &y, 0.01, MAX_ITERS).unwrap());
        assert!(a.converged);
        assert_eq!(a.w[1], 0.0, "an all-zero column keeps weight 0 under a penalty");
        let strong = fit(&rows, &y, 10.0, MAX_ITERS).unwrap();
        let norm = |f: &Fit| f.w.iter().map(|v| v * v).sum::<f64>();
        assert!(norm(&strong) < norm(&a));
        assert!(a.w[0] > 0.0, "the informative column gets a positive weight");
    }
}
