//! `results.json` and `predictions.jsonl`.
//!
//! `predictions.jsonl` has one row per (run, test example), in test-split order:
//! `{"run", "id", "label", "weak_prob", "student_prob", "ceiling_prob", "supervisor_prob"}`
//! — probabilities of class 1. `weak_prob` is always the ladder's weak supervisor
//! (`M1`), so every PGR is measured from the same baseline; `supervisor_prob` is the
//! model the student learnt from (= `weak_prob` for a direct run, the previous student
//! for a bootstrap step). Every metric in `results.json` is a pure function of a run's
//! rows ([`crate::w2s::metrics::run_metrics`]) with the recorded CI seed, so it
//! recomputes exactly.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

use super::data::TaskKind;
use super::metrics::{cluster_ids, run_metrics, CiSpec, RunMetrics, RunRow};

/// One line of `predictions.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRow {
    pub run: String,
    pub id: String,
    /// Ground truth, 0 or 1.
    pub label: u8,
    pub weak_prob: f64,
    pub student_prob: f64,
    pub ceiling_prob: f64,
    pub supervisor_prob: f64,
    /// The example's group (the bootstrap's cluster: the candidates of one question);
    /// absent in old files, where each row is its own cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl PredictionRow {
    pub fn run_row(&self) -> RunRow {
        RunRow {
            label: self.label == 1,
            weak: self.weak_prob,
            ceiling: self.ceiling_prob,
            student: self.student_prob,
            supervisor: self.supervisor_prob,
        }
    }
}

/// Whether a run trains the strong model directly on the weak supervisor's labels or
/// is a step of the bootstrap chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    Direct,
    Bootstrap,
}

/// Who is who in a run (everything but the numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: String,
    pub kind: RunKind,
    /// The ladder's weak supervisor (`acc_weak` is its accuracy).
    pub weak: String,
    /// The student's (and ceiling's) model.
    pub strong: String,
    /// The model whose labels the student learnt from.
    pub supervisor: String,
    pub loss: String,
    /// Bootstrap step (1-based) for bootstrap runs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub step: Option<usize>,
}

/// One run of `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    #[serde(flatten)]
    pub info: RunInfo,
    #[serde(flatten)]
    pub metrics: RunMetrics,
}

/// One step of the bootstrap chain: `model` trained on `supervisor`'s labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapStep {
    pub step: usize,
    /// The run (in `runs[]` and `predictions.jsonl`) holding this step's rows.
    pub run: String,
    pub supervisor: String,
    pub model: String,
    pub loss: String,
    pub acc: f64,
    pub acc_ceiling: f64,
    /// `(acc − acc_weak) / (acc_ceiling − acc_weak)` against the ladder's weak supervisor
    /// and this step's model's own ceiling.
    pub pgr: Option<f64>,
    pub auroc: Option<f64>,
    pub pgr_auroc: Option<f64>,
    pub agreement: f64,
}

/// `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub version: u32,
    pub task: String,
    pub kind: TaskKind,
    pub ladder: Vec<String>,
    pub seed: u64,
    /// How the CIs were drawn (rows of each run in file order).
    pub ci: CiSpec,
    pub ece_bins: usize,
    pub runs: Vec<RunResult>,
    pub bootstrap: Vec<BootstrapStep>,
    pub warnings: Vec<String>,
}

/// The `(info, step)` of each bootstrap step: which run holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepInfo {
    pub step: usize,
    pub run: String,
}

impl Results {
    /// Computes every metric from the prediction rows.
    #[allow(clippy::too_many_arguments)]
    pub fn compute(
        task: &str,
        kind: TaskKind,
        ladder: &[String],
        seed: u64,
        ci: CiSpec,
        ece_bins: usize,
        runs: &[RunInfo],
        steps: &[StepInfo],
        rows: &[PredictionRow],
    ) -> Results {
        let mut warnings = Vec::new();
        let mut out = Vec::new();
        for info in runs {
            let mine: Vec<&PredictionRow> = rows.iter().filter(|r| r.run == info.id).collect();
            let rr: Vec<RunRow> = mine.iter().map(|r| r.run_row()).collect();
            let groups: Vec<&str> = mine.iter().map(|r| r.group.as_deref().unwrap_or(r.id.as_str())).collect();
            let m = run_metrics(&rr, &cluster_ids(&groups), ece_bins, &ci);
            let show = |c: Option<[f64; 2]>| match c {
                Some([lo, hi]) => format!("[{lo:.4}, {hi:.4}]"),
                None => "undefined".into(),
            };
            if m.pgr.is_none() {
                warnings.push(format!(
                    "run {}: the gap ceiling − weak = {:.4} − {:.4} has the {}% interval {}, which does not lie above 0; pgr is null (raw ratio {})",
                    info.id,
                    m.acc_ceiling,
                    m.acc_weak,
                    ci.level * 100.0,
                    show(m.ci.gap),
                    m.pgr_raw.map(|p| format!("{p:.3}")).unwrap_or_else(|| "undefined".into())
                ));
            }
            if info.kind == RunKind::Direct && m.pgr_auroc.is_none() {
                warnings.push(format!(
                    "run {}: pgr_auroc is null (the AUROC gap's interval {} does not lie above 0)",
                    info.id,
                    show(m.ci.gap_auroc)
                ));
            }
            out.push(RunResult { info: info.clone(), metrics: m });
        }
        let bootstrap = steps
            .iter()
            .filter_map(|s| {
                let r = out.iter().find(|r| r.info.id == s.run)?;
                Some(BootstrapStep {
                    step: s.step,
                    run: s.run.clone(),
                    supervisor: r.info.supervisor.clone(),
                    model: r.info.strong.clone(),
                    loss: r.info.loss.clone(),
                    acc: r.metrics.acc_w2s,
                    acc_ceiling: r.metrics.acc_ceiling,
                    pgr: r.metrics.pgr,
                    auroc: r.metrics.auroc_w2s,
                    pgr_auroc: r.metrics.pgr_auroc,
                    agreement: r.metrics.agreement,
                })
            })
            .collect();
        Results {
            version: 1,
            task: task.to_string(),
            kind,
            ladder: ladder.to_vec(),
            seed,
            ci,
            ece_bins,
            runs: out,
            bootstrap,
            warnings,
        }
    }

    pub fn load(path: &Path) -> Result<Results> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a w2sd results file", path.display()))
    }
}

/// Writes `value` as pretty JSON atomically ([`crate::fsio::write_atomic`]).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    crate::fsio::write_json_atomic(path, value)?;
    Ok(())
}

/// Writes prediction rows as JSON lines atomically ([`crate::fsio::write_atomic`]).
pub fn write_predictions(path: &Path, rows: &[PredictionRow]) -> Result<()> {
    crate::fsio::write_jsonl_atomic(path, rows)?;
    Ok(())
}

/// Reads `predictions.jsonl`.
pub fn read_predictions(path: &Path) -> Result<Vec<PredictionRow>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{}:{}", path.display(), i + 1)))
        .collect()
}
