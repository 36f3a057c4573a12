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
use super::metrics::{cluster_ids, run_metrics, seed_summary, CiSpec, RunMetrics, RunRow, SeedSummary};

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
    /// The seed of this run in a several-seed results file (its CI seed too); absent
    /// in a one-seed file.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seed: Option<u64>,
    /// The debate-context model, when the supervisor read its arguments (`weak+debate`);
    /// `acc_weak` is still the plain weak supervisor's, so PGR has the same baseline as
    /// the run without debate.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub debate: Option<String>,
}

impl RunInfo {
    /// The run's series in tables and plots: its loss, `+ debate` when its supervisor read
    /// debate context.
    pub fn series(&self) -> String {
        match &self.debate {
            Some(_) => format!("{} + debate", self.loss),
            None => self.loss.clone(),
        }
    }
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
    /// Several seeds (`--seeds`): the seeds, in order. `runs[]` then holds every seed's
    /// runs (ids prefixed `s{seed}/`, each with its `seed`), and `aggregate[]` and
    /// `paired[]` summarise them across seeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aggregate: Vec<AggregateRun>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paired: Vec<PairedDiff>,
}

/// One run across seeds: every statistic summarised by [`seed_summary`] over the seeds'
/// values (mean, median, sample sd, t interval across seeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateRun {
    /// The run's id within a seed (`weak>strong:loss`, `bootstrapK:…`).
    pub id: String,
    pub kind: RunKind,
    pub strong: String,
    pub loss: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub step: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub debate: Option<String>,
    pub seeds: Vec<u64>,
    pub acc_weak: SeedSummary,
    /// The student's supervisor (see [`RunMetrics::acc_supervisor`]).
    #[serde(default)]
    pub acc_supervisor: SeedSummary,
    pub acc_ceiling: SeedSummary,
    pub acc_w2s: SeedSummary,
    /// Over the seeds whose PGR is defined (gap interval above 0); `k` says how many.
    pub pgr: SeedSummary,
    pub pgr_raw: SeedSummary,
    pub pgr_auroc: SeedSummary,
}

/// A paired comparison on one strong model, seed by seed: two losses (`loss − baseline`),
/// or, when `debate` is set, the run whose supervisor read debate context against the same
/// loss without it (`baseline` is then `"<loss> without debate"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedDiff {
    pub strong: String,
    pub loss: String,
    pub baseline: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub debate: Option<String>,
    /// `pgr(loss) − pgr(baseline)` on the seeds where both are defined.
    pub pgr: SeedSummary,
    /// `acc_w2s(loss) − acc_w2s(baseline)` (always defined).
    pub acc_w2s: SeedSummary,
}

/// The id of a run within its seed (`s3/bow>x:xent` → `bow>x:xent`).
pub fn base_id(id: &str) -> &str {
    match id.split_once('/') {
        Some((p, rest)) if p.starts_with('s') && p[1..].parse::<u64>().is_ok() => rest,
        _ => id,
    }
}

/// Prefix of a run id in a several-seed file.
pub fn seed_prefix(seed: u64) -> String {
    format!("s{seed}/")
}

/// `aggregate[]` and `paired[]` of several seeds' runs (see [`AggregateRun`], [`PairedDiff`]).
pub fn aggregate(runs: &[RunResult], seeds: &[u64], level: f64) -> (Vec<AggregateRun>, Vec<PairedDiff>) {
    let mut ids: Vec<&str> = Vec::new();
    for r in runs {
        let b = base_id(&r.info.id);
        if !ids.contains(&b) {
            ids.push(b);
        }
    }
    let per_seed = |id: &str, f: &dyn Fn(&RunResult) -> Option<f64>| -> Vec<Option<f64>> {
        seeds
            .iter()
            .map(|&s| runs.iter().find(|r| r.info.seed == Some(s) && base_id(&r.info.id) == id).and_then(f))
            .collect()
    };
    let mut agg = Vec::new();
    for id in &ids {
        let first = runs.iter().find(|r| base_id(&r.info.id) == *id).unwrap();
        agg.push(AggregateRun {
            id: id.to_string(),
            kind: first.info.kind,
            strong: first.info.strong.clone(),
            loss: first.info.loss.clone(),
            step: first.info.step,
            debate: first.info.debate.clone(),
            seeds: seeds.to_vec(),
            acc_weak: seed_summary(&per_seed(id, &|r| Some(r.metrics.acc_weak)), level),
            acc_supervisor: seed_summary(&per_seed(id, &|r| Some(r.metrics.acc_supervisor)), level),
            acc_ceiling: seed_summary(&per_seed(id, &|r| Some(r.metrics.acc_ceiling)), level),
            acc_w2s: seed_summary(&per_seed(id, &|r| Some(r.metrics.acc_w2s)), level),
            pgr: seed_summary(&per_seed(id, &|r| r.metrics.pgr), level),
            pgr_raw: seed_summary(&per_seed(id, &|r| r.metrics.pgr_raw), level),
            pgr_auroc: seed_summary(&per_seed(id, &|r| r.metrics.pgr_auroc), level),
        });
    }
    let mut paired = Vec::new();
    let direct: Vec<&AggregateRun> = agg.iter().filter(|a| a.kind == RunKind::Direct).collect();
    let diff = |x: &[Option<f64>], y: &[Option<f64>]| -> Vec<Option<f64>> {
        x.iter().zip(y).map(|(p, q)| Some((*p)? - (*q)?)).collect()
    };
    for a in direct.iter().filter(|a| a.debate.is_none() && a.loss != "xent") {
        let Some(b) = direct.iter().find(|b| b.strong == a.strong && b.loss == "xent" && b.debate.is_none()) else {
            continue;
        };
        paired.push(PairedDiff {
            strong: a.strong.clone(),
            loss: a.loss.clone(),
            baseline: b.loss.clone(),
            debate: None,
            pgr: seed_summary(&diff(&a.pgr.values, &b.pgr.values), level),
            acc_w2s: seed_summary(&diff(&a.acc_w2s.values, &b.acc_w2s.values), level),
        });
    }
    for a in direct.iter().filter(|a| a.debate.is_some()) {
        let Some(b) = direct.iter().find(|b| b.strong == a.strong && b.loss == a.loss && b.debate.is_none()) else {
            continue;
        };
        paired.push(PairedDiff {
            strong: a.strong.clone(),
            loss: a.loss.clone(),
            baseline: format!("{} without debate", b.loss),
            debate: a.debate.clone(),
            pgr: seed_summary(&diff(&a.pgr.values, &b.pgr.values), level),
            acc_w2s: seed_summary(&diff(&a.acc_w2s.values, &b.acc_w2s.values), level),
        });
    }
    (agg, paired)
}

impl Results {
    /// One results file for several seeds: every seed's runs (ids prefixed
    /// [`seed_prefix`]), bootstrap steps and warnings, plus [`aggregate`]; and the
    /// prediction rows with the same prefixed run ids, so every number recomputes from them.
    pub fn combine(per_seed: &[(u64, Results, Vec<PredictionRow>)]) -> Result<(Results, Vec<PredictionRow>)> {
        let Some((s0, r0, _)) = per_seed.first() else { anyhow::bail!("no seeds to combine") };
        let seeds: Vec<u64> = per_seed.iter().map(|(s, _, _)| *s).collect();
        let mut runs = Vec::new();
        let mut bootstrap = Vec::new();
        let mut warnings = Vec::new();
        let mut rows = Vec::new();
        for (seed, r, p) in per_seed {
            let pre = seed_prefix(*seed);
            for x in &r.runs {
                let mut x = x.clone();
                x.info.id = format!("{pre}{}", x.info.id);
                x.info.seed = Some(*seed);
                runs.push(x);
            }
            for b in &r.bootstrap {
                let mut b = b.clone();
                b.run = format!("{pre}{}", b.run);
                bootstrap.push(b);
            }
            warnings.extend(r.warnings.iter().map(|w| format!("seed {seed}: {w}")));
            for row in p {
                let mut row = row.clone();
                row.run = format!("{pre}{}", row.run);
                rows.push(row);
            }
        }
        let (aggregate, paired) = aggregate(&runs, &seeds, r0.ci.level);
        Ok((
            Results {
                version: r0.version,
                task: r0.task.clone(),
                kind: r0.kind,
                ladder: r0.ladder.clone(),
                seed: *s0,
                ci: r0.ci,
                ece_bins: r0.ece_bins,
                runs,
                bootstrap,
                warnings,
                seeds,
                aggregate,
                paired,
            },
            rows,
        ))
    }
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
            seeds: Vec::new(),
            aggregate: Vec::new(),
            paired: Vec::new(),
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
