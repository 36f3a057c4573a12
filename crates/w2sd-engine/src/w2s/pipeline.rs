//! The weak-to-strong pipeline as resumable stages, with an event stream for the TUI.
//!
//! For a ladder `M1 < M2 < … < Mn`, losses `L…` and the bootstrap loss `Lb`:
//!
//! | stage | what it does |
//! |---|---|
//! | `data` | loads the task (deduplicated), splits it by content (seeded; or takes `task.test` as the test split), counts contamination (must be 0), writes `examples.jsonl` |
//! | `features:M` | pooled features of every example for model `M` (disk cache) |
//! | `weak` | `M1` head trained on `weak_train` ground truth |
//! | `weak_labels` | `M1`'s soft labels for `strong_train` and `val` |
//! | `ceiling:M` | `M` head trained on `strong_train` ground truth (`M2…Mn`) |
//! | `student:M:L` | `M` head trained on the weak labels with loss `L` (`M2…Mn`) |
//! | `bootstrap:k` | step `k` of the chain: `M(k+1)` trained on step `k−1`'s labels |
//! | `debate:D` | with `[debate]`: model `D` argues for each label of every example ([`super::debate_context`]) |
//! | `weak+debate` | a second weak supervisor that reads text + arguments (a head on `M1`'s features of them trained on `weak_train` ground truth, an ensemble of such heads, or `M1` answering zero-shot), labelling `strong_train` and `val` |
//! | `student+debate:M:L` | `M` trained on `weak+debate`'s labels with loss `L`, on the text alone (`M2…Mn`) |
//! | `results` | `results.json` and `predictions.jsonl` |
//!
//! Each stage writes `stages/<name>.json` under the output folder with a key: a hash of
//! everything it depends on (config parts and upstream keys). A stage whose file has
//! the current key is done and is not run again, so a run resumes where it stopped
//! and a changed setting re-runs exactly the stages it affects.
//!
//! **Bootstrapping.** Step 1 is the direct student `M2` on `M1`'s labels (`student:M2:Lb`).
//! The labels a step passes on must not be the student's predictions on its own
//! training rows, so each step (but the last) also cross-fits: `strong_train` is cut into
//! two halves (by group), a copy of the student trained on each half labels the other,
//! and these out-of-fold labels train the next step. The student reported for step `k`
//! is the one trained on all of `strong_train`.

use anyhow::{anyhow, bail, Context, Result};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::config::ExperimentConfig;
use super::data::{self, Dataset, Example, LoadOptions, SplitBalance, Splits, TaskKind};
use super::debate_context::{self, DebateStats, ExampleDebate, SupervisorKind};
use super::features::{self, FeatureMatrix, FeatureStats};
use super::head::{self, EpochStats, TrainSet};
use super::loss::LossKind;
use super::metrics::{self, CiSpec, SplitMetrics};
use super::results::{self, PredictionRow, Results, RunInfo, RunKind, StepInfo};
use crate::runtime::CancelToken;

/// A stage of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StageId {
    Data,
    Features {
        model: String,
    },
    Weak,
    WeakLabels,
    Ceiling {
        model: String,
    },
    Student {
        model: String,
        loss: LossKind,
    },
    Bootstrap {
        step: usize,
    },
    /// Arguments of the debate-context model for every example.
    Debate {
        model: String,
    },
    /// The weak supervisor that reads the arguments.
    WeakDebate,
    /// A student on `WeakDebate`'s labels (the text alone).
    DebateStudent {
        model: String,
        loss: LossKind,
    },
    Results,
}

impl std::fmt::Display for StageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StageId::Data => write!(f, "data"),
            StageId::Features { model } => write!(f, "features:{model}"),
            StageId::Weak => write!(f, "weak"),
            StageId::WeakLabels => write!(f, "weak_labels"),
            StageId::Ceiling { model } => write!(f, "ceiling:{model}"),
            StageId::Student { model, loss } => write!(f, "student:{model}:{loss}"),
            StageId::Bootstrap { step } => write!(f, "bootstrap:{step}"),
            StageId::Debate { model } => write!(f, "debate:{model}"),
            StageId::WeakDebate => write!(f, "weak+debate"),
            StageId::DebateStudent { model, loss } => write!(f, "student+debate:{model}:{loss}"),
            StageId::Results => write!(f, "results"),
        }
    }
}

impl StageId {
    /// A file-name-safe form of the stage name.
    pub fn file_name(&self) -> String {
        let s: String = self
            .to_string()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
            .collect();
        // Model specs may be paths: add a short hash so distinct names never collide.
        let h = hex::encode(Sha256::digest(self.to_string().as_bytes()));
        format!("{}-{}.json", s.chars().take(80).collect::<String>(), &h[..8])
    }
}

/// What the pipeline reports while it works.
// Events are short-lived values handed to a callback; boxing the larger variants would only
// change the TUI's pattern matches.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A stage begins (`index` of `total` in the plan, 0-based).
    StageStarted {
        stage: String,
        index: usize,
        total: usize,
    },
    /// Feature extraction progress.
    Progress {
        stage: String,
        done: usize,
        total: usize,
    },
    /// One training epoch of a head (loss and accuracy curves).
    Epoch {
        stage: String,
        head: String,
        stats: EpochStats,
    },
    /// A stage finished (`resumed`: found done on disk, nothing recomputed).
    StageDone {
        stage: String,
        summary: StageSummary,
        wall_s: f64,
        resumed: bool,
    },
    Warning {
        message: String,
    },
    /// The arguments of one example, as the `debate:D` stage writes them.
    Argument {
        stage: String,
        id: String,
        text: String,
    },
}

/// A short account of a finished stage.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StageSummary {
    /// Test-split metrics of the head this stage trained.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub test: Option<SplitMetrics>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub val: Option<SplitMetrics>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub features: Option<FeatureStats>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub balance: Option<SplitBalance>,
    /// One line for humans.
    pub text: String,
}

/// Probabilities of class 1 of one head on the splits it was asked about.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SplitProbs {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub weak_train: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub strong_train: Option<Vec<f64>>,
    pub val: Vec<f64>,
    pub test: Vec<f64>,
}

/// A trained head's outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadOutput {
    pub model: String,
    pub probs: SplitProbs,
    pub curve: Vec<EpochStats>,
    pub best_epoch: usize,
    pub stopped_early: bool,
    /// The L2 penalty of the head (chosen by cross-validation when `cv` is not empty).
    #[serde(default)]
    pub l2: f64,
    /// Score of every candidate penalty ([`head::select_l2`]), on the head's own training rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cv: Vec<head::CvPoint>,
    /// L-BFGS iterations of a probe fitted to convergence (`head.solver = "lbfgs"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u64>,
}

impl HeadOutput {
    /// The output of a trained head of `model` with its predictions `probs`.
    fn of(model: &str, probs: SplitProbs, t: head::Trained) -> HeadOutput {
        HeadOutput {
            model: model.to_string(),
            probs,
            curve: t.curve,
            best_epoch: t.best_epoch,
            stopped_early: t.stopped_early,
            l2: t.l2,
            cv: t.cv,
            iterations: t.iterations,
        }
    }
}

/// What a stage leaves on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StageOutput {
    Data {
        kind: TaskKind,
        n_examples: usize,
        splits: Splits,
        balance: SplitBalance,
        /// Examples dropped because their normalised text repeated an earlier one.
        #[serde(default)]
        duplicates_removed: usize,
        /// Test examples whose normalised text occurs in a training or validation split
        /// (always 0: the stage fails otherwise).
        #[serde(default)]
        contamination: usize,
        /// Loader notes (a generated pool smaller than `n`, …).
        #[serde(default)]
        notes: Vec<String>,
        /// What labels 0 and 1 mean, when the task names its classes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classes: Option<[String; 2]>,
        /// People as weak supervisors (`session:FILE`): each example's `p(label 1)` from its
        /// debate's verdict, in dataset order ([`data::session`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        verdicts: Option<Vec<f64>>,
    },
    Features {
        stats: FeatureStats,
    },
    Head {
        head: HeadOutput,
    },
    WeakLabels {
        strong_train: Vec<f64>,
        val: Vec<f64>,
        acc_vs_truth: f64,
        prior: f64,
    },
    Bootstrap {
        /// The full student of this step (steps ≥ 2; step 1's is `student:M2:Lb`).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        student: Option<HeadOutput>,
        /// Out-of-fold labels of `strong_train` for the next step (all steps but the last).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        next_labels: Option<Vec<f64>>,
    },
    Results {
        results: PathBuf,
        predictions: PathBuf,
    },
    /// `debate:D`: what the debates took; the arguments are in `file` (`debate-context.jsonl`
    /// in the run folder, one [`ExampleDebate`] per example in dataset order).
    Debate {
        stats: DebateStats,
        file: PathBuf,
    },
    /// `weak+debate`: the supervisor that read the arguments.
    DebateSupervisor {
        supervisor: SupervisorKind,
        /// Its probabilities on every split (the mean over members for an ensemble).
        head: HeadOutput,
        /// Heads averaged (1 for `features`, 0 for `judge`).
        members: usize,
        /// `judge` only: the same weak model answering without the arguments.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alone: Option<SplitProbs>,
    },
}

/// `stages/<name>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    pub stage: String,
    pub key: String,
    pub wall_s: f64,
    pub finished: String,
    pub summary: StageSummary,
    pub output: StageOutput,
}

/// One experiment in one output folder.
pub struct Experiment {
    pub cfg: ExperimentConfig,
    pub out: PathBuf,
    cancel: CancelToken,
    device: Device,
    data: Option<Arc<Dataset>>,
    features: HashMap<String, Arc<FeatureMatrix>>,
    records: HashMap<StageId, StageRecord>,
    /// The run folder's writer lock (`OUT/.lock`), held while this value lives.
    _lock: crate::fsio::WriteLock,
}

/// Deals the distinct groups of `groups` (in order of first appearance, shuffled with
/// `seed`) round-robin into `k` folds; every row gets its group's fold, so the rows of
/// one group never sit on both sides of a cross-validation split.
pub fn cv_folds(groups: &[&str], k: usize, seed: u64) -> Vec<usize> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut distinct: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &g in groups {
        if seen.insert(g) {
            distinct.push(g);
        }
    }
    distinct.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed ^ 0xc0f0_1d5e));
    let fold: HashMap<&str, usize> = distinct.iter().enumerate().map(|(i, &g)| (g, i % k.max(1))).collect();
    groups.iter().map(|g| fold[g]).collect()
}

fn key_of(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())[..32].to_string()
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A bootstrap sample of `rows` by group: as many groups as `rows` has, drawn with
/// replacement (seeded), each bringing all its rows.
fn group_bootstrap(rows: &[usize], ds: &Dataset, seed: u64) -> Vec<usize> {
    use rand::{Rng, SeedableRng};
    let mut groups: Vec<&str> = Vec::new();
    let mut by_group: HashMap<&str, Vec<usize>> = HashMap::new();
    for &i in rows {
        let g = ds.examples[i].group.as_str();
        by_group.entry(g).or_insert_with(|| {
            groups.push(g);
            Vec::new()
        });
        by_group.get_mut(g).unwrap().push(i);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(rows.len());
    for _ in 0..groups.len() {
        out.extend_from_slice(&by_group[groups[rng.random_range(0..groups.len())]]);
    }
    out
}

fn stage_seed(seed: u64, stage: &str) -> u64 {
    let h = Sha256::digest(format!("{seed}/{stage}").as_bytes());
    u64::from_le_bytes(h[..8].try_into().unwrap())
}

impl Experiment {
    /// Opens (or creates) the experiment folder `out` and writes `experiment.toml`.
    pub fn new(cfg: ExperimentConfig, out: &Path) -> Result<Experiment> {
        cfg.validate()?;
        std::fs::create_dir_all(out.join("stages")).with_context(|| format!("cannot create {}", out.display()))?;
        // One writer per run folder: a second `w2sd train` on it fails, naming the holder's pid.
        let lock = crate::fsio::lock_exclusive(&out.join(".lock"), "training run folder", out)?;
        // (and the temporary files a killed run left in it go)
        for d in [out.to_path_buf(), out.join("stages")] {
            crate::fsio::remove_stale_temps(&d, None);
        }
        crate::fsio::write_bytes_atomic(&out.join("experiment.toml"), cfg.to_toml()?.as_bytes())?;
        Ok(Experiment {
            cfg,
            out: out.to_path_buf(),
            cancel: CancelToken::new(),
            device: Device::Cpu,
            data: None,
            features: HashMap::new(),
            records: HashMap::new(),
            _lock: lock,
        })
    }

    /// A token that stops the running stage between batches and epochs.
    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }

    /// This experiment, stopped by `cancel` (one token for several experiments: the seeds the
    /// Train screen runs one after another).
    pub fn with_cancel(mut self, cancel: CancelToken) -> Experiment {
        self.cancel = cancel;
        self
    }

    fn weak_model(&self) -> &str {
        &self.cfg.ladder[0]
    }

    /// The session file when the weak supervisor is people's verdicts (`session:FILE`).
    pub fn session_file(&self) -> Option<PathBuf> {
        data::session::session_path(&self.cfg.ladder[0])
    }

    fn strong_models(&self) -> &[String] {
        &self.cfg.ladder[1..]
    }

    /// The losses of the direct runs: `losses`, plus the bootstrap loss if missing.
    pub fn direct_losses(&self) -> Vec<LossKind> {
        let mut l = self.cfg.losses.clone();
        let b = self.cfg.bootstrap_loss();
        if self.cfg.ladder.len() >= 3 && !l.contains(&b) {
            l.push(b);
        }
        l
    }

    /// Number of bootstrap steps (`n − 1` for a ladder of `n ≥ 3` models, else 0).
    pub fn bootstrap_steps(&self) -> usize {
        if self.cfg.ladder.len() >= 3 {
            self.cfg.ladder.len() - 1
        } else {
            0
        }
    }

    /// Every stage, in an order that respects dependencies.
    pub fn plan(&self) -> Vec<StageId> {
        let mut p = vec![StageId::Data];
        for m in self.cfg.ladder.iter().filter(|m| !data::session::is_session(m)) {
            p.push(StageId::Features { model: m.clone() });
        }
        if let Some(d) = &self.cfg.debate {
            p.push(StageId::Debate { model: d.model.clone() });
        }
        p.push(StageId::Weak);
        p.push(StageId::WeakLabels);
        if self.cfg.debate.is_some() {
            p.push(StageId::WeakDebate);
        }
        for m in self.strong_models() {
            p.push(StageId::Ceiling { model: m.clone() });
        }
        for m in self.strong_models() {
            for l in self.direct_losses() {
                p.push(StageId::Student { model: m.clone(), loss: l });
            }
        }
        if self.cfg.debate.is_some() {
            for m in self.strong_models() {
                for l in self.cfg.losses.clone() {
                    p.push(StageId::DebateStudent { model: m.clone(), loss: l });
                }
            }
        }
        for k in 1..=self.bootstrap_steps() {
            p.push(StageId::Bootstrap { step: k });
        }
        p.push(StageId::Results);
        p
    }

    /// Parses a stage name (`data`, `features:M`, `weak`, `weak_labels`, `ceiling:M`,
    /// `student:M:LOSS`, `bootstrap:K`, `results`) against the plan. A bare group name
    /// (`features`, `ceiling`, `student`, `bootstrap`) selects all of its stages.
    pub fn parse_stages(&self, name: &str) -> Result<Vec<StageId>> {
        let plan = self.plan();
        let exact: Vec<StageId> = plan.iter().filter(|s| s.to_string() == name).cloned().collect();
        if !exact.is_empty() {
            return Ok(exact);
        }
        let group: Vec<StageId> =
            plan.iter().filter(|s| s.to_string().split(':').next() == Some(name)).cloned().collect();
        if !group.is_empty() {
            return Ok(group);
        }
        let names: Vec<String> = plan.iter().map(|s| s.to_string()).collect();
        bail!("no stage {name:?} in this experiment; stages: {}", names.join(", "))
    }

    /// Stages this stage needs.
    pub fn deps(&self, stage: &StageId) -> Vec<StageId> {
        let ladder = &self.cfg.ladder;
        match stage {
            StageId::Data => vec![],
            StageId::Features { .. } => vec![StageId::Data],
            StageId::Weak if self.session_file().is_some() => vec![StageId::Data],
            StageId::Weak => vec![StageId::Features { model: ladder[0].clone() }],
            StageId::WeakLabels => vec![StageId::Weak],
            StageId::Ceiling { model } => vec![StageId::Features { model: model.clone() }],
            StageId::Student { model, .. } => vec![StageId::WeakLabels, StageId::Features { model: model.clone() }],
            StageId::Bootstrap { step: 1 } => {
                vec![
                    StageId::Student { model: ladder[1].clone(), loss: self.cfg.bootstrap_loss() },
                    StageId::Features { model: ladder[1].clone() },
                ]
            }
            StageId::Bootstrap { step } => {
                vec![StageId::Bootstrap { step: step - 1 }, StageId::Features { model: ladder[*step].clone() }]
            }
            StageId::Debate { .. } => vec![StageId::Data],
            StageId::WeakDebate => {
                let d = self.cfg.debate.as_ref().map(|d| d.model.clone()).unwrap_or_default();
                vec![StageId::Debate { model: d }, StageId::Features { model: ladder[0].clone() }]
            }
            StageId::DebateStudent { model, .. } => {
                vec![StageId::WeakDebate, StageId::Features { model: model.clone() }]
            }
            StageId::Results => self.plan().into_iter().filter(|s| *s != StageId::Results).collect(),
        }
    }

    /// The key of a stage: a hash of the settings it depends on and its dependencies' keys.
    pub fn key(&self, stage: &StageId) -> String {
        let c = &self.cfg;
        let deps: Vec<String> = self.deps(stage).iter().map(|d| self.key(d)).collect();
        let deps = deps.join(",");
        let head = json(&c.head);
        match stage {
            StageId::Data => {
                // A session's verdicts are its content: a session judged further re-runs.
                let session = self
                    .session_file()
                    .map(|p| std::fs::read(&p).map(|b| hex::encode(Sha256::digest(b))).unwrap_or_default())
                    .unwrap_or_default();
                key_of(&["data-v3", &json(&c.task), &json(&c.split), &c.seed.to_string(), &session])
            }
            StageId::Features { model } => {
                let f = &c.features;
                let opts = if let Some(d) = features::bow_dim_of(model, f.bow_dim) {
                    // v2: unigrams only (bigrams before).
                    format!("bow-v2/{d}")
                } else {
                    // The default templates are part of the key: a changed default recomputes.
                    format!(
                        "{:?}/{}/{:?}/{:?}/keep-end/{:?}/{}/{}",
                        f.pool,
                        f.max_tokens,
                        f.template,
                        f.layer,
                        [TaskKind::Binary, TaskKind::MultipleChoice, TaskKind::Preference, TaskKind::Chess]
                            .map(features::default_template),
                        features::default_pool(true),
                        features::default_pool(false),
                    )
                };
                key_of(&["features-v2", &deps, model, &opts])
            }
            StageId::Weak | StageId::Ceiling { .. } => {
                key_of(&["head-v1", &stage.to_string(), &deps, &head, &c.seed.to_string()])
            }
            StageId::WeakLabels => key_of(&["weak-labels-v1", &deps]),
            StageId::Student { .. } | StageId::Bootstrap { .. } => key_of(&[
                // Students that stop early stop on AUROC against weak labels since issue 11.
                if c.head.student_early_stopping { "student-v2-auroc-stop" } else { "student-v1" },
                &stage.to_string(),
                &deps,
                &head,
                &json(&c.loss),
                &json(&c.bootstrap_loss()),
                &c.seed.to_string(),
            ]),
            StageId::Debate { model } => {
                let d = c.debate.as_ref();
                let what = d.map(|d| (d.rounds, d.max_tokens, d.question.clone(), d.claims.clone()));
                key_of(&["debate-args-v1", &deps, model, &json(&what)])
            }
            StageId::WeakDebate => {
                key_of(&["weak-debate-v1", &deps, &json(&c.debate), &head, &json(&c.features), &c.seed.to_string()])
            }
            StageId::DebateStudent { .. } => key_of(&[
                "debate-student-v1",
                &stage.to_string(),
                &deps,
                &head,
                &json(&c.loss),
                &json(&c.head.student_early_stopping),
                &c.seed.to_string(),
            ]),
            StageId::Results => key_of(&["results-v3", &deps, &json(&c.metrics), &c.seed.to_string()]),
        }
    }

    fn record_path(&self, stage: &StageId) -> PathBuf {
        self.out.join("stages").join(stage.file_name())
    }

    /// The stage's record if it is done (on disk with the current key).
    pub fn record(&mut self, stage: &StageId) -> Option<&StageRecord> {
        let key = self.key(stage);
        if self.records.get(stage).is_none_or(|r| r.key != key) {
            let rec: StageRecord =
                std::fs::read_to_string(self.record_path(stage)).ok().and_then(|t| serde_json::from_str(&t).ok())?;
            if rec.key != key {
                return None;
            }
            self.records.insert(stage.clone(), rec);
        }
        self.records.get(stage)
    }

    pub fn is_done(&mut self, stage: &StageId) -> bool {
        self.record(stage).is_some()
    }

    /// The first stage of the plan that is not done.
    pub fn next_pending(&mut self) -> Option<StageId> {
        self.plan().into_iter().find(|s| !self.is_done(s))
    }

    /// Runs the next pending stage (and nothing else); `None` when all are done.
    pub fn step(&mut self, on_event: &mut dyn FnMut(Event)) -> Result<Option<StageId>> {
        match self.next_pending() {
            Some(s) => {
                self.run_stage(&s, false, on_event)?;
                Ok(Some(s))
            }
            None => Ok(None),
        }
    }

    /// Runs every stage (done ones are reported as resumed) and returns the results.
    pub fn run_all(&mut self, on_event: &mut dyn FnMut(Event)) -> Result<Results> {
        for s in self.plan() {
            self.run_stage(&s, false, on_event)?;
        }
        Results::load(&self.out.join("results.json"))
    }

    /// Runs one stage, first running any dependency that is not done. A done stage is
    /// only reported (`resumed`), unless `force`.
    pub fn run_stage(&mut self, stage: &StageId, force: bool, on_event: &mut dyn FnMut(Event)) -> Result<()> {
        for d in self.deps(stage) {
            if !self.is_done(&d) {
                self.run_stage(&d, false, on_event)?;
            }
        }
        let plan = self.plan();
        let index = plan.iter().position(|s| s == stage).ok_or_else(|| anyhow!("stage {stage} is not in the plan"))?;
        let name = stage.to_string();
        if !force {
            if let Some(rec) = self.record(stage).cloned() {
                on_event(Event::StageDone { stage: name, summary: rec.summary, wall_s: rec.wall_s, resumed: true });
                return Ok(());
            }
        }
        on_event(Event::StageStarted { stage: name.clone(), index, total: plan.len() });
        let t0 = Instant::now();
        let (summary, output) = self.execute(stage, on_event).with_context(|| format!("stage {name}"))?;
        let rec = StageRecord {
            stage: name.clone(),
            key: self.key(stage),
            wall_s: t0.elapsed().as_secs_f64(),
            finished: chrono::Utc::now().to_rfc3339(),
            summary: summary.clone(),
            output,
        };
        results::write_json(&self.record_path(stage), &rec)?;
        self.records.insert(stage.clone(), rec.clone());
        on_event(Event::StageDone { stage: name, summary, wall_s: rec.wall_s, resumed: false });
        Ok(())
    }

    fn output(&mut self, stage: &StageId) -> Result<StageOutput> {
        self.record(stage).map(|r| r.output.clone()).ok_or_else(|| anyhow!("stage {stage} has not run"))
    }

    fn splits(&mut self) -> Result<Splits> {
        match self.output(&StageId::Data)? {
            StageOutput::Data { splits, .. } => Ok(splits),
            _ => bail!("the data stage record is malformed"),
        }
    }

    fn dataset(&mut self) -> Result<Arc<Dataset>> {
        if let Some(d) = &self.data {
            return Ok(d.clone());
        }
        let (kind, n, classes) = match self.output(&StageId::Data)? {
            StageOutput::Data { kind, n_examples, classes, .. } => (kind, n_examples, classes),
            _ => bail!("the data stage record is malformed"),
        };
        let path = self.out.join("examples.jsonl");
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let examples: Vec<Example> = text
            .lines()
            .enumerate()
            .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{}:{}", path.display(), i + 1)))
            .collect::<Result<_>>()?;
        if examples.len() != n {
            bail!(
                "{} has {} examples, the data stage recorded {n}; delete the output folder",
                path.display(),
                examples.len()
            );
        }
        let mut d = Dataset::new(kind, examples);
        d.spec = self.cfg.task.spec.clone();
        d.classes = classes;
        let d = Arc::new(d);
        self.data = Some(d.clone());
        Ok(d)
    }

    /// Features of every example for `model` (from memory, the disk cache, or computed).
    fn features_of(
        &mut self,
        model: &str,
        stage: &str,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(Arc<FeatureMatrix>, FeatureStats)> {
        let ds = self.dataset()?;
        let mut opts = self.cfg.features.clone();
        // Preference pairs: each response is scored on its own and the row is the
        // difference f(prompt, A) − f(prompt, B), so a linear head scores s(A) − s(B).
        let pairs: Option<Vec<&data::preference::Pair>> = ds.examples.iter().map(|e| e.pair.as_ref()).collect();
        let bare: Vec<String> = match &pairs {
            Some(p) => p.iter().flat_map(|p| [p.side_text(true), p.side_text(false)]).collect(),
            None => ds.examples.iter().map(|e| e.text.clone()).collect(),
        };
        let texts: Vec<String> = if features::is_bow(model) {
            bare
        } else {
            let t = opts.template.clone().unwrap_or_else(|| features::default_template(ds.kind).to_string());
            let texts = bare.iter().map(|b| features::apply_template(&t, b)).collect();
            opts.template = Some(t);
            texts
        };
        let (m, mut stats) = features::extract(model, &texts, &opts, &self.cancel, &mut |done, total| {
            on_event(Event::Progress { stage: stage.to_string(), done, total })
        })?;
        let m = if pairs.is_some() {
            stats.n = m.n / 2;
            features::pair_differences(&m)
        } else {
            m
        };
        if stats.truncated > 0 {
            on_event(Event::Warning {
                message: format!(
                    "{model}: {} of {} inputs were longer than {} tokens and were cut from the left (the question and candidate at the end are kept)",
                    stats.truncated, stats.n, opts.max_tokens
                ),
            });
        }
        let m = Arc::new(m);
        self.features.insert(model.to_string(), m.clone());
        Ok((m, stats))
    }

    fn features_cached(&mut self, model: &str, on_event: &mut dyn FnMut(Event)) -> Result<Arc<FeatureMatrix>> {
        if let Some(m) = self.features.get(model) {
            return Ok(m.clone());
        }
        let stage = StageId::Features { model: model.to_string() }.to_string();
        Ok(self.features_of(model, &stage, on_event)?.0)
    }

    fn weak_labels(&mut self) -> Result<(Vec<f64>, Vec<f64>)> {
        match self.output(&StageId::WeakLabels)? {
            StageOutput::WeakLabels { strong_train, val, .. } => Ok((strong_train, val)),
            _ => bail!("the weak_labels stage record is malformed"),
        }
    }

    fn head_output(&mut self, stage: &StageId) -> Result<HeadOutput> {
        match self.output(stage)? {
            StageOutput::Head { head } => Ok(head),
            _ => bail!("stage {stage} has no head output"),
        }
    }

    /// Trains a head of `model` on rows `train` with targets `y`, validating on `val`
    /// with targets `yv`, and predicts on the splits listed in `predict`.
    #[allow(clippy::too_many_arguments)]
    fn fit(
        &mut self,
        stage: &str,
        head_name: &str,
        model: &str,
        train: &[usize],
        y: &[f64],
        yv: &[f64],
        loss: LossKind,
        early_stopping: bool,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(head::Trained, Arc<FeatureMatrix>)> {
        let feats = self.features_cached(model, on_event)?;
        self.fit_on(feats, stage, head_name, model, train, y, yv, loss, early_stopping, on_event)
    }

    /// [`Self::fit`] on given features (`model` names them and picks their scaling).
    #[allow(clippy::too_many_arguments)]
    fn fit_on(
        &mut self,
        feats: Arc<FeatureMatrix>,
        stage: &str,
        head_name: &str,
        model: &str,
        train: &[usize],
        y: &[f64],
        yv: &[f64],
        loss: LossKind,
        early_stopping: bool,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(head::Trained, Arc<FeatureMatrix>)> {
        let splits = self.splits()?;
        let ds = self.dataset()?;
        let val_gt: Vec<bool> = splits.val.iter().map(|&i| ds.examples[i].label).collect();
        let x = feats.select(train, &self.device)?;
        let xv = feats.select(&splits.val, &self.device)?;
        let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
        let yv32: Vec<f32> = yv.iter().map(|&v| v as f32).collect();
        let seed = stage_seed(self.cfg.seed, head_name);
        // Students (trained on weak labels) stop on AUROC against the weak validation
        // labels; the supervisor and the ceilings on ground-truth validation loss.
        let supervised_by_truth = head_name == "weak" || head_name == "ceiling" || head_name.starts_with("weak+debate");
        let stop = match (early_stopping, supervised_by_truth) {
            (false, _) => head::Stop::Off,
            (true, true) => head::Stop::ValLoss,
            (true, false) => head::Stop::ValAuroc,
        };
        let scaling = if features::is_bow(model) { head::Scaling::Rms } else { head::Scaling::ZScore };
        let mut cfg = self.cfg.head.clone();
        if !supervised_by_truth {
            cfg.solver = head::Solver::Adam;
        }
        let mut cv = Vec::new();
        if !cfg.l2_grid.is_empty() {
            // The penalty is chosen on the head's own training rows and targets only.
            let groups: Vec<&str> = train.iter().map(|&i| ds.examples[i].group.as_str()).collect();
            let k = cfg.cv_folds;
            let folds = cv_folds(&groups, k, seed);
            let score = if supervised_by_truth { head::CvScore::LogLoss } else { head::CvScore::Auroc };
            cv = head::select_l2(
                &TrainSet { x: &x, y: &y32 },
                &folds,
                k,
                loss,
                &self.cfg.loss,
                &cfg,
                stop,
                scaling,
                seed,
                score,
                &self.cancel,
                &mut |done, total| on_event(Event::Progress { stage: stage.to_string(), done, total }),
            )?;
            cfg.l2 = head::best_l2(&cv, score);
        }
        let mut trained = head::train_with(
            &TrainSet { x: &x, y: &y32 },
            &TrainSet { x: &xv, y: &yv32 },
            Some(&val_gt),
            loss,
            &self.cfg.loss,
            &cfg,
            stop,
            scaling,
            seed,
            &self.cancel,
            &mut |e| on_event(Event::Epoch { stage: stage.to_string(), head: head_name.to_string(), stats: e.clone() }),
        )?;
        trained.cv = cv;
        Ok((trained, feats))
    }

    fn predict(&self, t: &head::Trained, feats: &FeatureMatrix, idx: &[usize]) -> Result<Vec<f64>> {
        t.head.predict(&feats.select(idx, &self.device)?)
    }

    fn head_summary(&mut self, out: &HeadOutput, what: &str) -> Result<StageSummary> {
        let splits = self.splits()?;
        let ds = self.dataset()?;
        let bins = self.cfg.metrics.ece_bins;
        let lab = |idx: &[usize]| idx.iter().map(|&i| ds.examples[i].label).collect::<Vec<bool>>();
        let test = metrics::split_metrics(&out.probs.test, &lab(&splits.test), bins);
        let val = metrics::split_metrics(&out.probs.val, &lab(&splits.val), bins);
        let fitted = match out.iterations {
            Some(k) => format!("L-BFGS, {k} iterations"),
            None => format!("{} epochs (best {})", out.curve.len(), out.best_epoch),
        };
        let text = format!(
            "{what} {}: test acc {:.3}, AUROC {}, {fitted}, l2 {}{}",
            out.model,
            test.acc,
            test.auroc.map(|a| format!("{a:.3}")).unwrap_or_else(|| "n/a".into()),
            out.l2,
            if out.cv.is_empty() { "" } else { " (cross-validated)" }
        );
        Ok(StageSummary { test: Some(test), val: Some(val), text, ..Default::default() })
    }

    fn execute(&mut self, stage: &StageId, on_event: &mut dyn FnMut(Event)) -> Result<(StageSummary, StageOutput)> {
        let name = stage.to_string();
        match stage {
            StageId::Data => self.run_data(),
            StageId::Features { model } => {
                let (_, stats) = self.features_of(model, &name, on_event)?;
                let text = format!(
                    "{model}: {} × {} features, {:.1} examples/s{}",
                    stats.n,
                    stats.dim,
                    stats.computed_examples_per_s.unwrap_or(stats.examples_per_s),
                    if stats.cached { " (from the cache)" } else { "" }
                );
                Ok((
                    StageSummary { features: Some(stats.clone()), text, ..Default::default() },
                    StageOutput::Features { stats },
                ))
            }
            StageId::Weak if self.session_file().is_some() => {
                let splits = self.splits()?;
                let probs = SplitProbs {
                    weak_train: Some(Vec::new()),
                    strong_train: Some(self.verdicts(&splits.strong_train)?),
                    val: self.verdicts(&splits.val)?,
                    test: self.verdicts(&splits.test)?,
                };
                let out = HeadOutput {
                    model: self.weak_model().to_string(),
                    probs,
                    curve: Vec::new(),
                    best_epoch: 0,
                    stopped_early: false,
                    l2: 0.0,
                    cv: Vec::new(),
                    iterations: None,
                };
                let mut summary = self.head_summary(&out, "verdicts of")?;
                summary.text = format!(
                    "verdicts of {}: test acc {:.3} on {} held-out examples (people are not trained)",
                    out.model,
                    summary.test.as_ref().map(|t| t.acc).unwrap_or(f64::NAN),
                    splits.test.len()
                );
                Ok((summary, StageOutput::Head { head: out }))
            }
            StageId::Weak => {
                let splits = self.splits()?;
                let ds = self.dataset()?;
                let gt = |idx: &[usize]| {
                    idx.iter().map(|&i| if ds.examples[i].label { 1.0 } else { 0.0 }).collect::<Vec<f64>>()
                };
                let model = self.weak_model().to_string();
                let es = self.cfg.head.early_stopping;
                let (t, f) = self.fit(
                    &name,
                    "weak",
                    &model,
                    &splits.weak_train,
                    &gt(&splits.weak_train),
                    &gt(&splits.val),
                    LossKind::Xent,
                    es,
                    on_event,
                )?;
                let probs = SplitProbs {
                    weak_train: Some(self.predict(&t, &f, &splits.weak_train)?),
                    strong_train: Some(self.predict(&t, &f, &splits.strong_train)?),
                    val: self.predict(&t, &f, &splits.val)?,
                    test: self.predict(&t, &f, &splits.test)?,
                };
                let out = HeadOutput::of(&model, probs, t);
                let summary = self.head_summary(&out, "weak supervisor")?;
                Ok((summary, StageOutput::Head { head: out }))
            }
            StageId::WeakLabels => {
                let weak = self.head_output(&StageId::Weak)?;
                let splits = self.splits()?;
                let ds = self.dataset()?;
                let st = weak
                    .probs
                    .strong_train
                    .clone()
                    .ok_or_else(|| anyhow!("the weak stage has no strong_train predictions"))?;
                let labels: Vec<bool> = splits.strong_train.iter().map(|&i| ds.examples[i].label).collect();
                let acc = crate::stats::accuracy(&st, &labels);
                let prior = crate::stats::mean(&st);
                let text =
                    format!("{} weak labels on strong_train: {:.3} accurate, mean label {:.3}", st.len(), acc, prior);
                Ok((
                    StageSummary { text, ..Default::default() },
                    StageOutput::WeakLabels { strong_train: st, val: weak.probs.val.clone(), acc_vs_truth: acc, prior },
                ))
            }
            StageId::Ceiling { model } => {
                let splits = self.splits()?;
                let ds = self.dataset()?;
                let gt = |idx: &[usize]| {
                    idx.iter().map(|&i| if ds.examples[i].label { 1.0 } else { 0.0 }).collect::<Vec<f64>>()
                };
                let es = self.cfg.head.early_stopping;
                let (t, f) = self.fit(
                    &name,
                    "ceiling",
                    model,
                    &splits.strong_train,
                    &gt(&splits.strong_train),
                    &gt(&splits.val),
                    LossKind::Xent,
                    es,
                    on_event,
                )?;
                let probs = SplitProbs {
                    val: self.predict(&t, &f, &splits.val)?,
                    test: self.predict(&t, &f, &splits.test)?,
                    ..Default::default()
                };
                let out = HeadOutput::of(model, probs, t);
                let summary = self.head_summary(&out, "ceiling")?;
                Ok((summary, StageOutput::Head { head: out }))
            }
            StageId::Student { model, loss } => {
                let (q, qv) = self.weak_labels()?;
                self.run_student(&name, &format!("student:{loss}"), model, *loss, &q, &qv, on_event)
            }
            StageId::Debate { model } => self.run_debate(model, &name, on_event),
            StageId::WeakDebate => self.run_weak_debate(&name, on_event),
            StageId::DebateStudent { model, loss } => {
                let (q, qv) = self.debate_labels()?;
                self.run_student(&name, &format!("student+debate:{loss}"), model, *loss, &q, &qv, on_event)
            }
            StageId::Bootstrap { step } => self.run_bootstrap(*step, &name, on_event),
            StageId::Results => self.run_results(),
        }
    }

    /// A student of `model` trained on labels `q` (strong_train) and `qv` (val) with `loss`.
    #[allow(clippy::too_many_arguments)]
    fn run_student(
        &mut self,
        name: &str,
        head_name: &str,
        model: &str,
        loss: LossKind,
        q: &[f64],
        qv: &[f64],
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(StageSummary, StageOutput)> {
        let splits = self.splits()?;
        let es = self.cfg.head.student_early_stopping;
        let (t, f) = self.fit(name, head_name, model, &splits.strong_train, q, qv, loss, es, on_event)?;
        let probs = SplitProbs {
            val: self.predict(&t, &f, &splits.val)?,
            test: self.predict(&t, &f, &splits.test)?,
            ..Default::default()
        };
        let out = HeadOutput::of(model, probs, t);
        let what = if head_name.starts_with("student+debate") {
            format!("student on debate-assisted labels ({loss})")
        } else {
            format!("student ({loss})")
        };
        let summary = self.head_summary(&out, &what)?;
        Ok((summary, StageOutput::Head { head: out }))
    }

    /// The arguments of every example, in dataset order (the `debate:D` stage's file).
    pub fn debates(&mut self) -> Result<Vec<ExampleDebate>> {
        let model = self
            .cfg
            .debate
            .as_ref()
            .map(|d| d.model.clone())
            .ok_or_else(|| anyhow!("no [debate] in this experiment"))?;
        let file = match self.output(&StageId::Debate { model })? {
            StageOutput::Debate { file, .. } => file,
            _ => bail!("the debate stage record is malformed"),
        };
        let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let debates: Vec<ExampleDebate> = text
            .lines()
            .enumerate()
            .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{}:{}", file.display(), i + 1)))
            .collect::<Result<_>>()?;
        let ds = self.dataset()?;
        if debates.len() != ds.examples.len() || debates.iter().zip(&ds.examples).any(|(d, e)| d.id != e.id) {
            bail!(
                "{} does not match the run's examples; delete it and its stage record to debate again",
                file.display()
            );
        }
        Ok(debates)
    }

    fn run_debate(
        &mut self,
        model: &str,
        name: &str,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(StageSummary, StageOutput)> {
        let cfg = self.cfg.debate.clone().ok_or_else(|| anyhow!("no [debate] in this experiment"))?;
        let ds = self.dataset()?;
        if ds.kind == TaskKind::Preference {
            bail!("debate context is for binary, multiple-choice and chess tasks, not preference pairs");
        }
        let (question, claims) = debate_context::question_and_claims(&cfg, ds.kind, ds.classes.as_ref());
        // A remote model has no weight file to hash: its spec stands for it.
        let identity = features::model_identity(model).unwrap_or_else(|_| model.to_string());
        let inputs: Vec<debate_context::DebateInput> =
            ds.examples.iter().map(|e| debate_context::DebateInput { id: &e.id, text: &e.text }).collect();
        let spec = model.to_string();
        let mut load = || -> Result<crate::debate::SharedModel> {
            let m = crate::runtime::load(&spec, &mut |_| {})
                .with_context(|| format!("cannot load {spec} to write the debate context"))?;
            Ok(crate::runtime::pool::share_boxed(m))
        };
        let cancel = self.cancel.clone();
        let (debates, stats) = debate_context::run_debates(
            &cfg,
            &debate_context::cache_dir(),
            &identity,
            &question,
            &claims,
            &inputs,
            &mut load,
            &cancel,
            &mut |done, total, d| {
                on_event(Event::Progress { stage: name.to_string(), done, total });
                on_event(Event::Argument {
                    stage: name.to_string(),
                    id: d.id.clone(),
                    text: debate_context::arguments_block(&d.arguments, &claims, ""),
                });
            },
        )?;
        let file = self.out.join("debate-context.jsonl");
        crate::fsio::write_jsonl_atomic(&file, &debates)?;
        let text = format!(
            "{model}: {} arguments for {} examples ({} from the cache), {} tokens; {} cut at {} tokens, {} copying the opponent; quotes {} verified, {} not; claims {:?}",
            stats.arguments,
            stats.examples,
            stats.cached,
            stats.tokens,
            stats.cut,
            cfg.max_tokens,
            stats.copied,
            stats.quotes_verified,
            stats.quotes_unverified,
            claims
        );
        Ok((StageSummary { text, ..Default::default() }, StageOutput::Debate { stats, file }))
    }

    /// Labels of `strong_train` and `val` from the supervisor that read the debates.
    fn debate_labels(&mut self) -> Result<(Vec<f64>, Vec<f64>)> {
        match self.output(&StageId::WeakDebate)? {
            StageOutput::DebateSupervisor { head, .. } => {
                let st = head.probs.strong_train.ok_or_else(|| anyhow!("weak+debate has no strong_train labels"))?;
                Ok((st, head.probs.val))
            }
            _ => bail!("the weak+debate stage record is malformed"),
        }
    }

    fn run_weak_debate(&mut self, name: &str, on_event: &mut dyn FnMut(Event)) -> Result<(StageSummary, StageOutput)> {
        let cfg = self.cfg.debate.clone().ok_or_else(|| anyhow!("no [debate] in this experiment"))?;
        let ds = self.dataset()?;
        let splits = self.splits()?;
        let debates = self.debates()?;
        let (question, claims) = debate_context::question_and_claims(&cfg, ds.kind, ds.classes.as_ref());
        let weak = self.weak_model().to_string();
        let (head, members, alone) = match cfg.supervisor {
            SupervisorKind::Features | SupervisorKind::Ensemble => {
                let mut opts = self.cfg.features.clone();
                let mut texts: Vec<String> = ds
                    .examples
                    .iter()
                    .zip(&debates)
                    .map(|(e, d)| debate_context::context_text(&e.text, &d.arguments, &claims))
                    .collect();
                if !features::is_bow(&weak) {
                    let t = opts.template.clone().unwrap_or_else(|| features::default_template(ds.kind).to_string());
                    texts = texts.iter().map(|b| features::apply_template(&t, b)).collect();
                    opts.template = Some(t);
                }
                let (m, stats) = features::extract(&weak, &texts, &opts, &self.cancel, &mut |done, total| {
                    on_event(Event::Progress { stage: name.to_string(), done, total })
                })?;
                if stats.truncated > 0 {
                    on_event(Event::Warning {
                        message: format!(
                            "{weak}: {} of {} texts with their arguments were longer than {} tokens and were cut from the left (the arguments at the end are kept)",
                            stats.truncated, stats.n, opts.max_tokens
                        ),
                    });
                }
                let feats = Arc::new(m);
                let gt = |idx: &[usize]| {
                    idx.iter().map(|&i| if ds.examples[i].label { 1.0 } else { 0.0 }).collect::<Vec<f64>>()
                };
                let members = if cfg.supervisor == SupervisorKind::Ensemble { cfg.ensemble } else { 1 };
                let es = self.cfg.head.early_stopping;
                let mut sum = SplitProbs {
                    weak_train: Some(vec![0.0; splits.weak_train.len()]),
                    strong_train: Some(vec![0.0; splits.strong_train.len()]),
                    val: vec![0.0; splits.val.len()],
                    test: vec![0.0; splits.test.len()],
                };
                let mut first: Option<head::Trained> = None;
                for k in 0..members {
                    let head_name = if members == 1 { "weak+debate".to_string() } else { format!("weak+debate/{k}") };
                    let rows = if members == 1 {
                        splits.weak_train.clone()
                    } else {
                        group_bootstrap(&splits.weak_train, &ds, stage_seed(self.cfg.seed, &head_name))
                    };
                    let (t, f) = self.fit_on(
                        feats.clone(),
                        name,
                        &head_name,
                        &weak,
                        &rows,
                        &gt(&rows),
                        &gt(&splits.val),
                        LossKind::Xent,
                        es,
                        on_event,
                    )?;
                    let add = |acc: &mut [f64], p: Vec<f64>| acc.iter_mut().zip(p).for_each(|(a, v)| *a += v);
                    add(sum.weak_train.as_mut().unwrap(), self.predict(&t, &f, &splits.weak_train)?);
                    add(sum.strong_train.as_mut().unwrap(), self.predict(&t, &f, &splits.strong_train)?);
                    add(&mut sum.val, self.predict(&t, &f, &splits.val)?);
                    add(&mut sum.test, self.predict(&t, &f, &splits.test)?);
                    first.get_or_insert(t);
                }
                let scale = |v: &mut [f64]| v.iter_mut().for_each(|x| *x /= members as f64);
                scale(sum.weak_train.as_mut().unwrap());
                scale(sum.strong_train.as_mut().unwrap());
                scale(&mut sum.val);
                scale(&mut sum.test);
                let t = first.expect("at least one member");
                let out = HeadOutput::of(&format!("{weak}+debate"), sum, t);
                (out, members, None)
            }
            SupervisorKind::Judge => {
                let lm = crate::runtime::load(&weak, &mut |_| {})
                    .with_context(|| format!("cannot load {weak} to judge the debates"))?;
                let mut reader =
                    debate_context::model_debater(&weak, crate::runtime::pool::share_boxed(lm), cfg.max_tokens);
                let judge_rows: Vec<usize> =
                    splits.strong_train.iter().chain(&splits.val).chain(&splits.test).copied().collect();
                let mut with = HashMap::new();
                let mut without = HashMap::new();
                let total = judge_rows.len();
                for (k, &i) in judge_rows.iter().enumerate() {
                    if self.cancel.is_cancelled() {
                        bail!("judging cancelled");
                    }
                    let e = &ds.examples[i];
                    let item = debate_context::debate_item(&e.id, &e.text, &question, &claims);
                    let args = debate_context::arguments_block(&debates[i].arguments, &claims, &e.text);
                    with.insert(i, debate_context::judge_p1(&mut reader, &item, Some(&args))?);
                    without.insert(i, debate_context::judge_p1(&mut reader, &item, None)?);
                    on_event(Event::Progress { stage: name.to_string(), done: k + 1, total });
                }
                let probs = |m: &HashMap<usize, f64>| SplitProbs {
                    weak_train: None,
                    strong_train: Some(splits.strong_train.iter().map(|i| m[i]).collect()),
                    val: splits.val.iter().map(|i| m[i]).collect(),
                    test: splits.test.iter().map(|i| m[i]).collect(),
                };
                let out = HeadOutput {
                    model: format!("{weak}+debate (zero-shot)"),
                    probs: probs(&with),
                    curve: Vec::new(),
                    best_epoch: 0,
                    stopped_early: false,
                    l2: 0.0,
                    cv: Vec::new(),
                    iterations: None,
                };
                (out, 0, Some(probs(&without)))
            }
        };
        let plain = self.head_output(&StageId::Weak)?;
        let mut summary =
            self.head_summary(&head, &format!("weak supervisor with debate context ({})", cfg.supervisor))?;
        let lab: Vec<bool> = splits.test.iter().map(|&i| ds.examples[i].label).collect();
        let acc_plain = crate::stats::accuracy(&plain.probs.test, &lab);
        let acc_debate = crate::stats::accuracy(&head.probs.test, &lab);
        summary.text.push_str(&format!("; without debate {acc_plain:.3}, Φ {:+.3}", acc_debate - acc_plain));
        if let Some(a) = &alone {
            summary
                .text
                .push_str(&format!("; zero-shot without the arguments {:.3}", crate::stats::accuracy(&a.test, &lab)));
        }
        Ok((summary, StageOutput::DebateSupervisor { supervisor: cfg.supervisor, head, members, alone }))
    }

    fn run_data(&mut self) -> Result<(StageSummary, StageOutput)> {
        if let Some(path) = self.session_file() {
            return self.run_session_data(&path);
        }
        let t = &self.cfg.task;
        let opts = LoadOptions {
            n: t.n,
            seed: t.sample_seed.unwrap_or(self.cfg.seed),
            text_field: t.text_field.clone(),
            label_field: t.label_field.clone(),
            mc: t.mc,
        };
        let mut ds = data::load(&t.spec, &opts)?;
        if self.cfg.split.balance {
            ds = data::balance_classes(&ds, self.cfg.seed);
        }
        let (ds, splits) = match &t.test {
            None => {
                let s = data::split(&ds, &self.cfg.split, self.cfg.seed)?;
                (ds, s)
            }
            Some(test_spec) => {
                let test = data::load(test_spec, &LoadOptions { n: None, ..opts.clone() })
                    .with_context(|| format!("test set {test_spec:?}"))?;
                let (mut ds, s, removed) = data::split_with_test(&ds, &test, &self.cfg.split, self.cfg.seed)?;
                if removed > 0 {
                    ds.notes.push(format!("{removed} training examples also in the test set were dropped"));
                }
                (ds, s)
            }
        };
        let contamination = data::contamination(&ds, &splits);
        if contamination > 0 {
            bail!("{contamination} test examples also occur in a training split (after normalisation); this is a bug in the splitter");
        }
        let balance = splits.balance(&ds);
        let path = self.out.join("examples.jsonl");
        crate::fsio::write_jsonl_atomic(&path, &ds.examples)?;
        let mut text = format!(
            "{} examples ({:?}): weak_train {}, strong_train {}, val {}, test {}; class 1 share {:.3}; {} duplicates removed; contamination {contamination}",
            ds.examples.len(),
            ds.kind,
            splits.weak_train.len(),
            splits.strong_train.len(),
            splits.val.len(),
            splits.test.len(),
            balance.all.frac_pos,
            ds.duplicates_removed,
        );
        for n in &ds.notes {
            text.push_str(&format!("; {n}"));
        }
        let out = StageOutput::Data {
            kind: ds.kind,
            n_examples: ds.examples.len(),
            splits,
            balance,
            duplicates_removed: ds.duplicates_removed,
            contamination,
            notes: ds.notes.clone(),
            classes: ds.classes.clone(),
            verdicts: None,
        };
        self.data = Some(Arc::new(ds));
        Ok((StageSummary { balance: Some(balance), text, ..Default::default() }, out))
    }

    /// The data stage of people as weak supervisors: the session's judged items, their
    /// verdicts as weak labels, split by item ([`data::session::split`]).
    fn run_session_data(&mut self, path: &Path) -> Result<(StageSummary, StageOutput)> {
        let l = data::session::load(path)?;
        let ds = l.dataset;
        let splits = data::session::split(&ds, &self.cfg.split, self.cfg.seed)?;
        let contamination = data::contamination(&ds, &splits);
        if contamination > 0 {
            bail!("{contamination} test examples also occur in a training split (after normalisation); this is a bug in the splitter");
        }
        let balance = splits.balance(&ds);
        crate::fsio::write_jsonl_atomic(&self.out.join("examples.jsonl"), &ds.examples)?;
        let text = format!(
            "{} examples from {} judged debates of {} ({} by people, {} by models; {} unjudged and {} agreed left out): strong_train {}, val {}, test {}; contamination {contamination}",
            ds.examples.len(),
            l.judged,
            path.display(),
            l.human,
            l.model,
            l.unjudged,
            l.agreed,
            splits.strong_train.len(),
            splits.val.len(),
            splits.test.len(),
        );
        let out = StageOutput::Data {
            kind: ds.kind,
            n_examples: ds.examples.len(),
            splits,
            balance,
            duplicates_removed: 0,
            contamination,
            notes: ds.notes.clone(),
            classes: ds.classes.clone(),
            verdicts: Some(l.verdicts),
        };
        self.data = Some(Arc::new(ds));
        Ok((StageSummary { balance: Some(balance), text, ..Default::default() }, out))
    }

    /// The session's verdict labels of the examples `idx`.
    fn verdicts(&mut self, idx: &[usize]) -> Result<Vec<f64>> {
        match self.output(&StageId::Data)? {
            StageOutput::Data { verdicts: Some(v), .. } => Ok(idx.iter().map(|&i| v[i]).collect()),
            _ => bail!("the data stage has no verdicts (the weak supervisor is not a session)"),
        }
    }

    /// Labels of `strong_train` and `val` that step `step` trains on.
    fn step_labels(&mut self, step: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        if step == 1 {
            return self.weak_labels();
        }
        let prev = self.output(&StageId::Bootstrap { step: step - 1 })?;
        let StageOutput::Bootstrap { next_labels: Some(q), .. } = prev else {
            bail!("bootstrap step {} left no labels", step - 1);
        };
        let qv = self.step_student(step - 1)?.probs.val;
        Ok((q, qv))
    }

    /// The full student of a bootstrap step.
    pub fn step_student(&mut self, step: usize) -> Result<HeadOutput> {
        if step == 1 {
            let s = StageId::Student { model: self.cfg.ladder[1].clone(), loss: self.cfg.bootstrap_loss() };
            return self.head_output(&s);
        }
        match self.output(&StageId::Bootstrap { step })? {
            StageOutput::Bootstrap { student: Some(h), .. } => Ok(h),
            _ => bail!("bootstrap step {step} has no student"),
        }
    }

    fn run_bootstrap(
        &mut self,
        step: usize,
        name: &str,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(StageSummary, StageOutput)> {
        let model = self.cfg.ladder[step].clone();
        let loss = self.cfg.bootstrap_loss();
        let splits = self.splits()?;
        let ds = self.dataset()?;
        let (q, qv) = self.step_labels(step)?;
        let student = if step == 1 {
            None
        } else {
            let (t, f) = self.fit(
                name,
                &format!("bootstrap{step}"),
                &model,
                &splits.strong_train,
                &q,
                &qv,
                loss,
                self.cfg.head.student_early_stopping,
                on_event,
            )?;
            let probs = SplitProbs {
                val: self.predict(&t, &f, &splits.val)?,
                test: self.predict(&t, &f, &splits.test)?,
                ..Default::default()
            };
            Some(HeadOutput::of(&model, probs, t))
        };
        let next_labels = if step + 1 < self.cfg.ladder.len() {
            // Two folds of strong_train by group, seeded.
            let mut groups: Vec<&str> = splits.strong_train.iter().map(|&i| ds.examples[i].group.as_str()).collect();
            groups.sort_unstable();
            groups.dedup();
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(stage_seed(
                self.cfg.seed,
                &format!("{name}/folds"),
            ));
            rand::seq::SliceRandom::shuffle(groups.as_mut_slice(), &mut rng);
            let half: std::collections::HashSet<&str> = groups[..groups.len() / 2].iter().copied().collect();
            let pos_a: Vec<usize> = (0..splits.strong_train.len())
                .filter(|&p| half.contains(ds.examples[splits.strong_train[p]].group.as_str()))
                .collect();
            let pos_b: Vec<usize> = (0..splits.strong_train.len())
                .filter(|&p| !half.contains(ds.examples[splits.strong_train[p]].group.as_str()))
                .collect();
            if pos_a.is_empty() || pos_b.is_empty() {
                bail!("strong_train is too small to cross-fit ({} examples)", splits.strong_train.len());
            }
            let mut oof = vec![f64::NAN; splits.strong_train.len()];
            for (fold, (fit_on, label)) in [(&pos_a, &pos_b), (&pos_b, &pos_a)].into_iter().enumerate() {
                let rows: Vec<usize> = fit_on.iter().map(|&p| splits.strong_train[p]).collect();
                let y: Vec<f64> = fit_on.iter().map(|&p| q[p]).collect();
                let (t, f) = self.fit(
                    name,
                    &format!("bootstrap{step}/fold{}", fold + 1),
                    &model,
                    &rows,
                    &y,
                    &qv,
                    loss,
                    self.cfg.head.student_early_stopping,
                    on_event,
                )?;
                let target_rows: Vec<usize> = label.iter().map(|&p| splits.strong_train[p]).collect();
                for (&p, v) in label.iter().zip(self.predict(&t, &f, &target_rows)?) {
                    oof[p] = v;
                }
            }
            Some(oof)
        } else {
            None
        };
        let reported = match &student {
            Some(s) => s.clone(),
            None => self.step_student(1)?,
        };
        let mut summary = self.head_summary(&reported, &format!("bootstrap step {step}"))?;
        if let Some(l) = &next_labels {
            let truth: Vec<bool> = splits.strong_train.iter().map(|&i| ds.examples[i].label).collect();
            summary.text.push_str(&format!(
                "; out-of-fold labels for step {} are {:.3} accurate",
                step + 1,
                crate::stats::accuracy(l, &truth)
            ));
        }
        Ok((summary, StageOutput::Bootstrap { student, next_labels }))
    }

    fn run_id(weak: &str, strong: &str, loss: LossKind) -> String {
        format!("{weak}>{strong}:{loss}")
    }

    fn run_results(&mut self) -> Result<(StageSummary, StageOutput)> {
        let splits = self.splits()?;
        let ds = self.dataset()?;
        let weak = self.head_output(&StageId::Weak)?;
        let weak_name = self.weak_model().to_string();
        let ids: Vec<&Example> = splits.test.iter().map(|&i| &ds.examples[i]).collect();
        let mut infos: Vec<RunInfo> = Vec::new();
        let mut rows: Vec<PredictionRow> = Vec::new();
        let push_rows =
            |run: &str, student: &[f64], ceiling: &[f64], supervisor: &[f64], rows: &mut Vec<PredictionRow>| {
                for (k, e) in ids.iter().enumerate() {
                    rows.push(PredictionRow {
                        run: run.to_string(),
                        id: e.id.clone(),
                        label: u8::from(e.label),
                        weak_prob: weak.probs.test[k],
                        student_prob: student[k],
                        ceiling_prob: ceiling[k],
                        supervisor_prob: supervisor[k],
                        group: Some(e.group.clone()),
                    });
                }
            };
        let mut ceilings: HashMap<String, Vec<f64>> = HashMap::new();
        for m in self.strong_models().to_vec() {
            let c = self.head_output(&StageId::Ceiling { model: m.clone() })?;
            ceilings.insert(m, c.probs.test);
        }
        for m in self.strong_models().to_vec() {
            for l in self.direct_losses() {
                let s = self.head_output(&StageId::Student { model: m.clone(), loss: l })?;
                let id = Self::run_id(&weak_name, &m, l);
                push_rows(&id, &s.probs.test, &ceilings[&m], &weak.probs.test, &mut rows);
                infos.push(RunInfo {
                    id,
                    kind: RunKind::Direct,
                    weak: weak_name.clone(),
                    strong: m.clone(),
                    supervisor: weak_name.clone(),
                    loss: l.to_string(),
                    step: None,
                    seed: None,
                    debate: None,
                });
            }
        }
        if let Some(d) = self.cfg.debate.clone() {
            // Students of the supervisor that read the debates: same weak baseline
            // (`weak_prob`), their own supervisor (`supervisor_prob`).
            let sup = match self.output(&StageId::WeakDebate)? {
                StageOutput::DebateSupervisor { head, .. } => head.probs.test,
                _ => bail!("the weak+debate stage record is malformed"),
            };
            for m in self.strong_models().to_vec() {
                for l in self.cfg.losses.clone() {
                    let s = self.head_output(&StageId::DebateStudent { model: m.clone(), loss: l })?;
                    let id = format!("{weak_name}+debate>{m}:{l}");
                    push_rows(&id, &s.probs.test, &ceilings[&m], &sup, &mut rows);
                    infos.push(RunInfo {
                        id,
                        kind: RunKind::Direct,
                        weak: weak_name.clone(),
                        strong: m.clone(),
                        supervisor: format!("{weak_name} reading {}'s debates ({})", d.model, d.supervisor),
                        loss: l.to_string(),
                        step: None,
                        seed: None,
                        debate: Some(d.model.clone()),
                    });
                }
            }
        }
        let lb = self.cfg.bootstrap_loss();
        let mut steps = Vec::new();
        for k in 1..=self.bootstrap_steps() {
            let model = self.cfg.ladder[k].clone();
            if k == 1 {
                steps.push(StepInfo { step: 1, run: Self::run_id(&weak_name, &model, lb) });
                continue;
            }
            let s = self.step_student(k)?;
            let sup = self.step_student(k - 1)?;
            let id = format!("bootstrap{k}:{}>{model}:{lb}", self.cfg.ladder[k - 1]);
            push_rows(&id, &s.probs.test, &ceilings[&model], &sup.probs.test, &mut rows);
            infos.push(RunInfo {
                id: id.clone(),
                kind: RunKind::Bootstrap,
                weak: weak_name.clone(),
                strong: model.clone(),
                supervisor: format!("{} (bootstrap step {})", self.cfg.ladder[k - 1], k - 1),
                loss: lb.to_string(),
                step: Some(k),
                seed: None,
                debate: None,
            });
            steps.push(StepInfo { step: k, run: id });
        }
        // Step 1's run is the direct run; mark its step in the bootstrap list only.
        let ci = CiSpec { resamples: self.cfg.metrics.resamples, level: self.cfg.metrics.level, seed: self.cfg.seed };
        let kind = ds.kind;
        let res = Results::compute(
            &self.cfg.task.spec,
            kind,
            &self.cfg.ladder,
            self.cfg.seed,
            ci,
            self.cfg.metrics.ece_bins,
            &infos,
            &steps,
            &rows,
        );
        let mut res = res;
        for st in self.feature_stats() {
            if st.truncated > 0 {
                res.warnings.push(format!(
                    "features of {}: {} of {} inputs were longer than {} tokens and were cut from the left",
                    st.model, st.truncated, st.n, self.cfg.features.max_tokens
                ));
            }
        }
        let rp = self.out.join("results.json");
        let pp = self.out.join("predictions.jsonl");
        results::write_predictions(&pp, &rows)?;
        results::write_json(&rp, &res)?;
        let mut text = String::new();
        for r in &res.runs {
            text.push_str(&format!(
                "{}: weak {:.3} ceiling {:.3} w2s {:.3} PGR {}; ",
                r.info.id,
                r.metrics.acc_weak,
                r.metrics.acc_ceiling,
                r.metrics.acc_w2s,
                r.metrics.pgr.map(|p| format!("{p:.3}")).unwrap_or_else(|| "null".into())
            ));
        }
        Ok((
            StageSummary { text: text.trim_end_matches("; ").to_string(), ..Default::default() },
            StageOutput::Results { results: rp, predictions: pp },
        ))
    }

    /// Feature statistics of every ladder model whose features stage is done.
    pub fn feature_stats(&mut self) -> Vec<FeatureStats> {
        let mut v = Vec::new();
        for m in self.cfg.ladder.clone() {
            if let Some(StageRecord { output: StageOutput::Features { stats }, .. }) =
                self.record(&StageId::Features { model: m })
            {
                v.push(stats.clone());
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn experiment_can_move_to_a_worker_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<Experiment>();
        assert_send::<Event>();
    }

    #[test]
    fn plan_names_and_keys() {
        let mut cfg = ExperimentConfig::for_task("builtin:preference");
        cfg.ladder = vec!["bow".into(), "a".into(), "b".into(), "c".into()];
        let d = tempfile::tempdir().unwrap();
        let e = Experiment::new(cfg.clone(), d.path()).unwrap();
        let names: Vec<String> = e.plan().iter().map(|s| s.to_string()).collect();
        assert_eq!(names[0], "data");
        assert_eq!(&names[1..5], &["features:bow", "features:a", "features:b", "features:c"]);
        assert_eq!(&names[5..7], &["weak", "weak_labels"]);
        assert!(names.contains(&"student:c:logconf".to_string()));
        assert_eq!(&names[names.len() - 4..], &["bootstrap:1", "bootstrap:2", "bootstrap:3", "results"]);
        assert_eq!(e.parse_stages("ceiling").unwrap().len(), 3);
        assert_eq!(
            e.parse_stages("student:a:xent").unwrap(),
            vec![StageId::Student { model: "a".into(), loss: LossKind::Xent }]
        );
        assert!(e.parse_stages("nope").is_err());
        // keys: a head setting changes the heads' keys but not the features'
        let mut cfg2 = cfg.clone();
        cfg2.head.epochs += 1;
        // (another folder: `e` holds the writer lock of `d`)
        let d2 = tempfile::tempdir().unwrap();
        let e2 = Experiment::new(cfg2, d2.path()).unwrap();
        let f = StageId::Features { model: "a".into() };
        assert_eq!(e.key(&f), e2.key(&f));
        assert_ne!(e.key(&StageId::Weak), e2.key(&StageId::Weak));
        assert_ne!(e.key(&StageId::Results), e2.key(&StageId::Results));
        // file names are safe even for paths
        let p = StageId::Features { model: "/tmp/x y/model.gguf".into() }.file_name();
        assert!(!p.contains('/') && !p.contains(' ') && p.ends_with(".json"));
    }
}
