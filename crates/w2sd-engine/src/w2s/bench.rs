//! `w2sd bench --features`: feature-extraction throughput of a ladder, the costly part of
//! weak-to-strong training, measured without the on-disk cache.
//!
//! For every model of the ladder, on the same `n` texts of a task:
//! - **batched**: the pipeline's own path ([`features::model_features`] with the configured
//!   `batch_tokens`), timed over all `n` texts;
//! - **baseline**: the same model one text per forward (`batch_tokens = 1`) over
//!   `baseline_n` texts spread evenly over the `n` (text `i·n/baseline_n`, so their lengths
//!   are representative), measured in the same run;
//! - `speedup = batched examples/s ÷ baseline examples/s`.
//!
//! Load time is reported apart from extraction time. `bow` has no model and no baseline.

use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use super::data::{self, LoadOptions};
use super::features::{self, bow_dim_of, FeatureOptions};
use crate::runtime::{CancelToken, Model, Pool};

/// One ladder entry's figures.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureBenchRow {
    pub model: String,
    pub dim: usize,
    /// Examples timed on the batched path.
    pub n: usize,
    /// Tokens those examples hold (after truncation to `max_tokens`; 0 for `bow`).
    pub tokens: usize,
    pub load_s: f64,
    pub seconds: f64,
    pub examples_per_s: f64,
    pub tokens_per_s: f64,
    /// Examples timed one per forward (0 for `bow`).
    pub baseline_n: usize,
    pub baseline_examples_per_s: Option<f64>,
    /// `examples_per_s / baseline_examples_per_s`.
    pub speedup: Option<f64>,
}

/// The whole benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureBench {
    pub task: String,
    pub n: usize,
    pub seed: u64,
    /// The pooling asked for (`None`: each model's default, [`features::default_pool`]).
    pub pool: Option<Pool>,
    pub max_tokens: usize,
    pub batch_tokens: usize,
    pub threads: usize,
    pub device: String,
    pub rows: Vec<FeatureBenchRow>,
    /// Sum of the extraction seconds over the ladder (what a cold `w2sd train` spends on features).
    pub total_seconds: f64,
}

/// What the caller hears while the benchmark runs: `(model, phase, done, total)`, with
/// phase `"batched"` or `"baseline"`.
pub type BenchProgress<'a> = &'a mut dyn FnMut(&str, &str, usize, usize);

/// Runs the benchmark; `task` and `n` as for `w2sd train` (the first `n` source items, seeded).
pub fn run(
    task: &str,
    n: usize,
    seed: u64,
    ladder: &[String],
    opts: &FeatureOptions,
    baseline_n: usize,
    on_progress: BenchProgress,
) -> Result<FeatureBench> {
    let ds = data::load(task, &LoadOptions { n: Some(n), seed, ..Default::default() })?;
    let texts: Vec<String> = ds.examples.iter().map(|e| e.text.clone()).collect();
    let cancel = CancelToken::new();
    let mut rows = Vec::new();
    for spec in ladder {
        if let Some(dim) = bow_dim_of(spec, opts.bow_dim) {
            let t0 = Instant::now();
            let m = features::bow_features(&texts, dim);
            let s = t0.elapsed().as_secs_f64().max(1e-9);
            on_progress(spec, "batched", texts.len(), texts.len());
            rows.push(FeatureBenchRow {
                model: spec.clone(),
                dim: m.dim,
                n: m.n,
                tokens: 0,
                load_s: 0.0,
                seconds: s,
                examples_per_s: m.n as f64 / s,
                tokens_per_s: 0.0,
                baseline_n: 0,
                baseline_examples_per_s: None,
                speedup: None,
            });
            continue;
        }
        let t0 = Instant::now();
        let mut model =
            Model::load(spec, &mut |_| {}).with_context(|| format!("cannot load {spec} for the feature benchmark"))?;
        model.max_feature_tokens = opts.max_tokens;
        let load_s = t0.elapsed().as_secs_f64();
        let mut tokens = 0;
        for t in &texts {
            tokens += model.encode(t, true)?.len().clamp(1, opts.max_tokens.max(2));
        }
        let t1 = Instant::now();
        let (m, _) = features::model_features(&mut model, &texts, opts, &cancel, &mut |d, t| {
            on_progress(spec, "batched", d, t)
        })?;
        let seconds = t1.elapsed().as_secs_f64().max(1e-9);
        let k = baseline_n.min(texts.len());
        let baseline = if k > 0 {
            let one = FeatureOptions { batch_tokens: 1, ..opts.clone() };
            let sample: Vec<String> = (0..k).map(|i| texts[i * texts.len() / k].clone()).collect();
            let t2 = Instant::now();
            features::model_features(&mut model, &sample, &one, &cancel, &mut |d, t| {
                on_progress(spec, "baseline", d, t)
            })?;
            Some(k as f64 / t2.elapsed().as_secs_f64().max(1e-9))
        } else {
            None
        };
        let eps = m.n as f64 / seconds;
        rows.push(FeatureBenchRow {
            model: spec.clone(),
            dim: m.dim,
            n: m.n,
            tokens,
            load_s,
            seconds,
            examples_per_s: eps,
            tokens_per_s: tokens as f64 / seconds,
            baseline_n: k,
            baseline_examples_per_s: baseline,
            speedup: baseline.map(|b| eps / b),
        });
    }
    let total_seconds = rows.iter().map(|r| r.seconds).sum();
    Ok(FeatureBench {
        task: task.to_string(),
        n: texts.len(),
        seed,
        pool: opts.pool,
        max_tokens: opts.max_tokens,
        batch_tokens: opts.batch_tokens,
        threads: candle_core::utils::get_num_threads(),
        device: crate::runtime::device::describe(),
        rows,
        total_seconds,
    })
}
