//! Several seeds (`--seeds 0,1,2`, `seeds = [...]`): the whole pipeline once per seed, in
//! `<out>/seed-K/` (each a complete one-seed experiment that resumes on its own), then
//! `<out>/results.json` and `<out>/predictions.jsonl` with every seed's runs (ids
//! prefixed `sK/`) and their aggregate across seeds ([`Results::combine`]).
//!
//! Every seed uses the same texts (the `n` sample is drawn with the first seed, or
//! `task.sample_seed`), so model features are computed once and read from the cache by
//! the other seeds; the splits, heads and bootstrap CIs follow each seed.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

use super::config::ExperimentConfig;
use super::pipeline::{Event, Experiment, StageId};
use super::results::{self, Results};

/// `<out>/seed-K`.
pub fn seed_dir(out: &Path, seed: u64) -> PathBuf {
    out.join(format!("seed-{seed}"))
}

/// The one-seed config of `seed` within a several-seed config.
pub fn seed_config(cfg: &ExperimentConfig, seed: u64) -> ExperimentConfig {
    let mut c = cfg.clone();
    let first = cfg.seeds.as_ref().and_then(|s| s.first().copied()).unwrap_or(cfg.seed);
    c.seed = seed;
    c.seeds = None;
    c.task.sample_seed = Some(cfg.task.sample_seed.unwrap_or(first));
    c
}

/// What [`run_seeds`] did.
pub struct SeedsOutcome {
    /// The combined results, when every seed finished.
    pub results: Option<Results>,
    /// The experiment of each seed (for feature statistics and stage records).
    pub experiments: Vec<(u64, Experiment)>,
}

/// Runs `stages` (every stage when `None`; a name as [`Experiment::parse_stages`] takes)
/// for every seed of `cfg.seeds`, then, if all seeds are done, writes the combined
/// `results.json` and `predictions.jsonl` under `out`.
pub fn run_seeds(
    cfg: &ExperimentConfig,
    out: &Path,
    stage: Option<&str>,
    force: bool,
    on_event: &mut dyn FnMut(u64, Event),
) -> Result<SeedsOutcome> {
    let mut experiments = open_seeds(cfg, out)?;
    let mut all_done = true;
    for (seed, exp) in experiments.iter_mut() {
        let seed = *seed;
        let stages = match stage {
            Some(name) => exp.parse_stages(name)?,
            None => exp.plan(),
        };
        for s in &stages {
            exp.run_stage(s, force, &mut |e| on_event(seed, e)).with_context(|| format!("seed {seed}"))?;
        }
        all_done &= exp.is_done(&StageId::Results);
    }
    if !all_done {
        return Ok(SeedsOutcome { results: None, experiments });
    }
    let seeds: Vec<u64> = experiments.iter().map(|(s, _)| *s).collect();
    let combined = combine_seeds(&seeds, out)?;
    Ok(SeedsOutcome { results: Some(combined), experiments })
}

/// Opens the experiment of every seed of `cfg.seeds` (each in `<out>/seed-K/`, with its
/// one-seed config) after writing `<out>/experiment.toml`: what [`run_seeds`] runs, and what
/// the Train screen steps through seed after seed.
pub fn open_seeds(cfg: &ExperimentConfig, out: &Path) -> Result<Vec<(u64, Experiment)>> {
    cfg.validate()?;
    let seeds = cfg.seeds.clone().unwrap_or_else(|| vec![cfg.seed]);
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    crate::fsio::write_bytes_atomic(&out.join("experiment.toml"), cfg.to_toml()?.as_bytes())?;
    seeds.iter().map(|&seed| Ok((seed, Experiment::new(seed_config(cfg, seed), &seed_dir(out, seed))?))).collect()
}

/// Writes `<out>/results.json` and `<out>/predictions.jsonl` from every seed's finished
/// results (each seed's runs with ids prefixed `sK/`, and their aggregate across seeds,
/// [`Results::combine`]) and returns the combined results.
pub fn combine_seeds(seeds: &[u64], out: &Path) -> Result<Results> {
    let mut per_seed = Vec::new();
    for &seed in seeds {
        let dir = seed_dir(out, seed);
        let r = Results::load(&dir.join("results.json"))?;
        let p = results::read_predictions(&dir.join("predictions.jsonl"))?;
        per_seed.push((seed, r, p));
    }
    let (combined, rows) = Results::combine(&per_seed)?;
    results::write_predictions(&out.join("predictions.jsonl"), &rows)?;
    results::write_json(&out.join("results.json"), &combined)?;
    Ok(combined)
}
