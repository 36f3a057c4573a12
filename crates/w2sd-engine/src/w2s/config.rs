//! Experiment configs (TOML). Every field but `task.spec` has a default; see
//! `docs/train.md` for a full example.
//!
//! ```toml
//! ladder = ["bow", "minilm-l6", "gemma-3-270m", "qwen2.5-coder-0.5b-instruct"]
//! losses = ["xent", "logconf"]
//! seed = 0
//!
//! [task]
//! spec = "builtin:sentiment"
//! n = 400
//!
//! [head]
//! kind = "logistic"
//! epochs = 20
//! ```

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

use super::data::{McMode, SplitConfig};
use super::debate_context::DebateContextConfig;
use super::features::FeatureOptions;
use super::head::HeadConfig;
use super::loss::{LossKind, LossParams};

/// The offline default ladder, weakest first.
pub const FULL_LADDER: [&str; 5] =
    ["bow", "minilm-l6", "gemma-3-270m", "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"];

/// The default demo ladder: the fastest four rungs of [`FULL_LADDER`] by measured
/// feature-extraction speed (qwen2.5-coder-1.5b-instruct is left out; see `docs/train.md`).
pub const DEFAULT_LADDER: [&str; 4] = ["bow", "minilm-l6", "gemma-3-270m", "qwen2.5-coder-0.5b-instruct"];

/// The demo task of `docs/train.md` (and of the TUI's Train screen), chosen by measurement
/// (issue 11): on `builtin:sentiment` the weak rung minilm-l6 reaches 0.75 and the
/// gemma-3-270m ceiling 1.00, a gap of 0.25 that a student can recover from, in about
/// 100 s cold for 3 seeds on a 2-core CPU. (`builtin:preference`, `reading`, `arithmetic`
/// leave every rung at chance; `capitals` has a bag of words below chance; on `sentiment`
/// the bag of words already scores 1.00.)
pub const DEMO_TASK: &str = "builtin:sentiment";

/// Source items of the demo.
pub const DEMO_N: usize = 600;

/// The demo's ladder: weak supervisor minilm-l6, strong student gemma-3-270m.
pub const DEMO_LADDER: [&str; 2] = ["minilm-l6", "gemma-3-270m"];

/// Which task to load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    /// `builtin:NAME`, a data file, or `hf:owner/name[:file]` (see [`super::data`]).
    pub spec: String,
    /// Source items to keep (seeded sample); all when absent.
    #[serde(default)]
    pub n: Option<usize>,
    #[serde(default)]
    pub text_field: Option<String>,
    #[serde(default)]
    pub label_field: Option<String>,
    #[serde(default)]
    pub mc: McMode,
    /// The dataset's own test split (same spec syntax, `?text=…&label=…` included): the
    /// test split is then this file, whole, and the internal split makes `weak_train`,
    /// `strong_train` and `val` only (`split.test` is ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    /// Seed of the `n` sample (and of multiple-choice distractors); the run's seed when
    /// absent. Several-seed runs fix it to the first seed, so every seed sees the same
    /// texts and shares their cached features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_seed: Option<u64>,
}

/// Bootstrap confidence intervals and calibration bins.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    pub resamples: usize,
    pub level: f64,
    pub ece_bins: usize,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self { resamples: 1000, level: 0.95, ece_bins: 10 }
    }
}

/// A whole experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    pub task: TaskConfig,
    /// Models, weakest first: `ladder[0]` is the weak supervisor, the last is the strong
    /// student, the ones between are bootstrapping steps.
    #[serde(default = "default_ladder")]
    pub ladder: Vec<String>,
    /// Student losses; each gets a direct run from the weak supervisor to every stronger rung.
    #[serde(default = "default_losses")]
    pub losses: Vec<LossKind>,
    /// Loss of the bootstrap chain (the first of `losses` when absent).
    #[serde(default)]
    pub bootstrap_loss: Option<LossKind>,
    /// Seeds the sample, the splits, the heads and the bootstrap CIs.
    #[serde(default)]
    pub seed: u64,
    /// Several seeds: the whole pipeline runs once per seed (`<out>/seed-K/`), and
    /// `<out>/results.json` holds every seed's runs and their aggregate (see
    /// [`super::seeds`]). `seed` is then unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds: Option<Vec<u64>>,
    #[serde(default)]
    pub split: SplitConfig,
    #[serde(default)]
    pub features: FeatureOptions,
    #[serde(default)]
    pub head: HeadConfig,
    #[serde(default)]
    pub loss: LossParams,
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Debate context for the weak supervisor (Lang et al. 2025): a strong model argues for
    /// each label of every example, and a second weak supervisor reads the arguments
    /// (`debate:M`, `weak+debate`, `student+debate:…` stages; see [`super::debate_context`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debate: Option<DebateContextConfig>,
    /// The weak supervisor when it is not in `ladder` (e.g. `weak = "session:FILE"`, people's
    /// verdicts): [`ExperimentConfig::from_toml`] puts it first in the ladder, which is where
    /// it is kept (and written).
    #[serde(default, skip_serializing)]
    pub weak: Option<String>,
}

fn default_ladder() -> Vec<String> {
    DEFAULT_LADDER.iter().map(|s| s.to_string()).collect()
}

fn default_losses() -> Vec<LossKind> {
    vec![LossKind::Xent, LossKind::Logconf]
}

impl ExperimentConfig {
    /// A config with defaults for everything but the task.
    pub fn for_task(spec: &str) -> Self {
        Self {
            task: TaskConfig {
                spec: spec.to_string(),
                n: None,
                text_field: None,
                label_field: None,
                mc: McMode::Pair,
                test: None,
                sample_seed: None,
            },
            ladder: default_ladder(),
            losses: default_losses(),
            bootstrap_loss: None,
            seed: 0,
            seeds: None,
            split: SplitConfig::default(),
            features: FeatureOptions::default(),
            head: HeadConfig::default(),
            loss: LossParams::default(),
            metrics: MetricsConfig::default(),
            debate: None,
            weak: None,
        }
    }

    /// The demo experiment `docs/train.md` starts with: [`DEMO_TASK`], [`DEMO_N`] items,
    /// [`DEMO_LADDER`] and the default losses, one seed
    /// (`w2sd train --task builtin:sentiment --n 600 --ladder minilm-l6,gemma-3-270m`).
    pub fn demo() -> Self {
        let mut c = Self::for_task(DEMO_TASK);
        c.task.n = Some(DEMO_N);
        c.ladder = DEMO_LADDER.iter().map(|m| m.to_string()).collect();
        c
    }

    /// A folder name for this config: `<task slug>-<hash of the config>`, so the same
    /// config always lands in the same folder (and resumes there).
    pub fn run_name(&self) -> String {
        use sha2::Digest;
        let slug: String = self
            .task
            .spec
            .rsplit(['/', ':'])
            .next()
            .unwrap_or("task")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(40)
            .collect();
        let h = hex::encode(sha2::Sha256::digest(self.to_toml().unwrap_or_default().as_bytes()));
        format!("{slug}-{}", &h[..10])
    }

    pub fn from_toml(text: &str) -> Result<Self> {
        let mut c: Self = toml::from_str(text).context("invalid experiment config")?;
        if let Some(w) = c.weak.take() {
            c.ladder.insert(0, w.trim().to_string());
        }
        c.validate()?;
        Ok(c)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::from_toml(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }

    /// The bootstrap loss (explicit, else the first loss).
    pub fn bootstrap_loss(&self) -> LossKind {
        self.bootstrap_loss.unwrap_or(self.losses[0])
    }

    pub fn validate(&self) -> Result<()> {
        if self.ladder.len() < 2 {
            bail!("the ladder needs at least two models (weak supervisor and strong student), got {:?}", self.ladder);
        }
        let mut seen = std::collections::HashSet::new();
        for m in &self.ladder {
            if !seen.insert(m) {
                bail!("model {m:?} appears twice in the ladder");
            }
        }
        if let Some(s) = &self.seeds {
            let distinct: std::collections::HashSet<&u64> = s.iter().collect();
            if s.is_empty() || distinct.len() != s.len() {
                bail!("seeds must be a non-empty list of distinct seeds, got {s:?}");
            }
        }
        if self.losses.is_empty() {
            bail!("at least one loss is needed");
        }
        if self.head.epochs == 0 || self.head.batch_size == 0 {
            bail!("head.epochs and head.batch_size must be positive");
        }
        let h = &self.head;
        if !(h.l2.is_finite() && h.l2 >= 0.0) || h.l2_grid.iter().any(|l| !(l.is_finite() && *l >= 0.0)) {
            bail!("head.l2 and every head.l2_grid value must be finite and at least 0");
        }
        if !h.l2_grid.is_empty() && h.cv_folds < 2 {
            bail!(
                "head.cv_folds must be at least 2 to choose head.l2 from head.l2_grid (or set l2_grid = [] and l2 = …)"
            );
        }
        if !(self.metrics.level > 0.0 && self.metrics.level < 1.0) || self.metrics.ece_bins == 0 {
            bail!("metrics.level must be in (0, 1) and metrics.ece_bins positive");
        }
        if self.features.bow_dim == 0 || self.features.max_tokens < 2 {
            bail!("features.bow_dim must be positive and features.max_tokens at least 2");
        }
        if let Some(t) = &self.features.template {
            if !t.contains("{text}") {
                bail!("features.template {t:?} must contain {{text}} where the example goes");
            }
        }
        if let Some(d) = &self.debate {
            d.validate(&self.ladder[0])?;
        }
        use super::data::session::is_session;
        if self.ladder.iter().skip(1).any(|m| is_session(m)) {
            bail!("a judged session (session:FILE) can only be the weak supervisor: the first entry of the ladder");
        }
        if is_session(&self.ladder[0]) && self.debate.is_some() {
            bail!("debate context needs a model as the weak supervisor; the weak supervisor here is a judged session");
        }
        if self.features.layer == Some(0) {
            bail!("features.layer counts from 1 (the hidden state after the first block)");
        }
        Ok(())
    }

    /// Reads the whole task and its test set (`task.test`; nothing else loads), so a bad task
    /// spec or data file is one message before a run folder is touched or any model loads: the
    /// check `w2sd train` and the Train screen make before opening an experiment. `hf:` datasets
    /// are left to the data stage (they may need a download).
    pub fn check_task(&self) -> Result<()> {
        if let Some(path) = super::data::session::session_path(&self.ladder[0]) {
            // People as weak supervisors: the session is the data; it must give labels.
            let l = super::data::session::load(&path)?;
            super::data::session::split(&l.dataset, &self.split, self.seed)
                .with_context(|| format!("session {}", path.display()))?;
            return Ok(());
        }
        let t = &self.task;
        let opts = super::data::LoadOptions {
            n: t.n,
            seed: self.seed,
            text_field: t.text_field.clone(),
            label_field: t.label_field.clone(),
            mc: t.mc,
        };
        if !t.spec.trim().starts_with("hf:") {
            let ds = super::data::load(&t.spec, &opts)?;
            if self.debate.is_some() && ds.kind == super::data::TaskKind::Preference {
                bail!("debate context is for binary, multiple-choice and chess tasks; {:?} is a preference task (remove [debate] or --debate-context)", t.spec);
            }
        }
        // The test set loads whole, as the data stage loads it.
        if let Some(test) = t.test.as_deref().filter(|s| !s.trim().starts_with("hf:")) {
            super::data::load(test, &super::data::LoadOptions { n: None, ..opts })
                .with_context(|| format!("test set {test:?}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_and_full_configs() {
        let c = ExperimentConfig::from_toml("[task]\nspec = \"builtin:sentiment\"\n").unwrap();
        assert_eq!(c.ladder, default_ladder());
        assert_eq!(c.losses, vec![LossKind::Xent, LossKind::Logconf]);
        assert_eq!(c.bootstrap_loss(), LossKind::Xent);
        let c = ExperimentConfig::from_toml(
            r#"
            ladder = ["bow", "minilm-l6"]
            losses = ["logconf", "product"]
            bootstrap_loss = "product"
            seed = 3
            [task]
            spec = "data.csv"
            n = 100
            label_field = "y"
            mc = "all"
            [split]
            test = 0.3
            [features]
            pool = "last"
            [head]
            kind = "mlp"
            hidden = 16
            [loss]
            aux_coef = 0.25
            [metrics]
            resamples = 10
            [debate]
            model = "qwen2.5-coder-1.5b-instruct"
            supervisor = "ensemble"
            claims = ["negative", "positive"]
            "#,
        )
        .unwrap();
        assert_eq!(c.task.n, Some(100));
        assert_eq!(c.split.test, 0.3);
        assert_eq!(c.split.val, 0.1);
        assert_eq!(c.features.pool, Some(crate::runtime::Pool::Last));
        assert_eq!(c.head.hidden, 16);
        assert_eq!(c.loss.aux_coef, 0.25);
        assert_eq!(c.bootstrap_loss(), LossKind::Product);
        let d = c.debate.as_ref().unwrap();
        assert_eq!((d.rounds, d.max_tokens, d.ensemble), (1, 64, 5));
        assert_eq!(d.supervisor, crate::w2s::debate_context::SupervisorKind::Ensemble);
        // round trip
        assert_eq!(ExperimentConfig::from_toml(&c.to_toml().unwrap()).unwrap(), c);
    }

    #[test]
    fn bad_configs_are_rejected() {
        assert!(ExperimentConfig::from_toml("ladder = [\"bow\"]\n[task]\nspec = \"x\"\n").is_err());
        assert!(ExperimentConfig::from_toml("ladder = [\"bow\", \"bow\"]\n[task]\nspec = \"x\"\n").is_err());
        assert!(ExperimentConfig::from_toml("losses = [\"hinge\"]\n[task]\nspec = \"x\"\n").is_err());
        assert!(ExperimentConfig::from_toml("[task]\nspec = \"x\"\n[head]\nepochz = 3\n").is_err());
    }
}
