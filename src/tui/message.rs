//! The messages between the UI and its background workers, in one leaf module.
//!
//! Workers (`tui::workers`) send [`WorkerEvent`]s into the app's event channel; the app turns keys
//! into [`Effect`]s, some of which become commands for a worker ([`DebateCommand`],
//! [`TrainCommand`]). Views draw from state built out of these messages. Nothing here depends on
//! another UI module, so no import cycle can run through it.

use std::path::PathBuf;
use std::sync::Arc;

use crate::runtime::hub::ListRow;
use crate::runtime::PullProgress;
use crate::session::{JudgeSetting, Session};

/// Which pane of the debate screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Left,
    Right,
}

impl Pane {
    pub fn index(self) -> usize {
        match self {
            Pane::Left => 0,
            Pane::Right => 1,
        }
    }
}

/// One debater as the judge sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SideView {
    /// `Strong · qwen2.5-coder-1.5b-instruct`, or `Debater 1` in blind mode.
    pub label: String,
    /// `strong` / `weak`, or `None` in blind mode.
    pub role: Option<String>,
    /// The answer this side defends, e.g. `B) Paris`.
    pub answer: String,
}

/// One debate item as the judge sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemView {
    /// 0-based position and the total.
    pub index: usize,
    pub total: usize,
    pub id: String,
    pub question: String,
    /// Shown only when the judge may see it.
    pub passage: Option<String>,
    /// The passage quotes are checked against, also when the judge may not see it (as the
    /// model judge is told which quotes are verified without seeing the passage).
    pub source_passage: Option<String>,
    pub left: SideView,
    pub right: SideView,
    pub blind: bool,
}

/// What a verdict turned out to be, shown only if the session settings allow it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reveal {
    /// Whether the right pane's answer is the correct one.
    pub right_correct: bool,
    /// The judge favoured the correct answer.
    pub correct: bool,
    /// The debate score D of this verdict.
    pub d: f64,
    /// In blind mode, which pane the strong side was in.
    pub strong_pane: Pane,
}

/// A model judge's reading of one debate (model-judge mode).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelVerdict {
    pub judge: String,
    /// Order-averaged probability that the right pane's answer is correct.
    pub p_right: f64,
    /// Each presentation order: (was the right pane's answer shown first, p_right in that order).
    pub orders: Vec<(bool, f64)>,
}

/// Messages from the debate worker.
#[derive(Debug, Clone, PartialEq)]
pub enum DebateEvent {
    /// Something slow before the first item: pulling or loading a model.
    Preparing {
        what: String,
        done: u64,
        total: Option<u64>,
    },
    /// A new item: its turns follow.
    ItemStarted(Box<ItemView>),
    TurnStarted {
        pane: Pane,
        round: usize,
    },
    Token {
        pane: Pane,
        piece: String,
    },
    TurnDone {
        pane: Pane,
        stop_reason: String,
        /// The turn as recorded (trimmed, the kept attempt), or `None` when it was cancelled.
        text: Option<String>,
        /// The turn's copy overlap when it was flagged as copied.
        copied: Option<f64>,
    },
    /// Every turn is written: the judge may decide.
    Argued,
    /// The model judge decided (model-judge mode).
    ModelJudged(ModelVerdict),
    /// The verdict of item `index` is saved; `reveal` only when the settings allow it.
    VerdictSaved {
        index: usize,
        reveal: Option<Reveal>,
        judged: usize,
    },
    /// Item `index` was skipped (and saved as unjudged).
    Skipped {
        index: usize,
    },
    /// The last verdict was removed from the session; its item is presented again.
    Undone {
        index: usize,
    },
    /// Nothing to undo.
    NothingToUndo,
    /// The verdict was refused by the human-judge API (the reason is shown).
    Refused(String),
    /// Every item is done; the session is at `path`.
    Finished {
        path: PathBuf,
        judged: usize,
        skipped: usize,
    },
    Error(String),
}

/// Requests to the debate worker.
#[derive(Debug, Clone, PartialEq)]
pub enum DebateCommand {
    /// The judge's verdict on the current item: probability that the right pane's answer is correct.
    Verdict {
        p_right: f64,
        rationale: Option<String>,
        seconds: f64,
    },
    /// Move on after a verdict was saved.
    Next,
    Skip,
    Undo,
    /// Stop the session (after saving what is done).
    Stop,
}

/// Messages from all workers.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerEvent {
    Debate(DebateEvent),
    /// The model catalog with cache status, and the device in use.
    Models {
        rows: Result<Vec<ModelRow>, String>,
        device: String,
    },
    PullProgress(PullProgress),
    PullDone {
        name: String,
        result: Result<PathBuf, String>,
    },
    /// Sessions found on disk (review).
    Sessions(super::message::Scan),
    /// A training pipeline event (train screen).
    Train(super::message::TrainEvent),
    /// A session export finished: what was written, or why not.
    Exported(Result<String, String>),
    /// The experiments the Train screen's picker lists, and the places looked in.
    Experiments {
        entries: Vec<ExperimentEntry>,
        places: Vec<PathBuf>,
    },
    /// An experiment picked or created on the Train screen, checked and ready to open, or why
    /// it cannot be opened.
    ExperimentReady(Result<Box<TrainSetup>, String>),
    /// A new experiment from the form was checked and written (its entry), or why not.
    ExperimentSaved(Result<ExperimentEntry, String>),
    /// A debate from the setup form, checked as `w2sd judge` checks its flags (and remembered),
    /// or why not.
    DebateReady(Result<Box<DebateConfig>, String>),
}

/// One catalog model as the models screen lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    pub name: String,
    pub about: String,
    pub format: String,
    /// `cached`, `missing`, `partial`, …
    pub status: String,
    pub size: Option<u64>,
    pub path: Option<PathBuf>,
}

impl From<ListRow> for ModelRow {
    fn from(r: ListRow) -> Self {
        ModelRow { name: r.name, about: r.about, format: r.format, status: r.status, size: r.size, path: r.path }
    }
}

/// A debate session to run from the UI (`w2sd`, `w2sd judge`): the engine's run settings (one
/// `Settings`, whose `judge` says who judges) plus what only the screen needs.
#[derive(Debug, Clone, PartialEq)]
pub struct DebateConfig {
    /// Task, n, seed, protocol, assignment, rounds, turn order, judge, judge's passage access.
    pub settings: crate::session::Settings,
    /// Strong and weak debater profiles (model spec, token budget, passage access, …).
    pub strong: crate::session::DebaterProfile,
    pub weak: crate::session::DebaterProfile,
    /// The person's name recorded with each verdict (when a person judges).
    pub judge_name: String,
    /// Shuffle sides left/right and hide model names.
    pub blind: bool,
    /// Show the ground truth and D after each verdict.
    pub reveal: bool,
    /// The session file.
    pub out: PathBuf,
}

/// What the runtime loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    /// Cancel the generation in progress (shared cancel token).
    CancelGeneration,
    Debate(DebateCommand),
    ListModels,
    Pull(Vec<String>),
    /// Rescan the session directories.
    ScanSessions,
    /// Export this session file as JSONL beside it.
    ExportSession(PathBuf),
    /// Open a training run whose weak labels are this judged session's verdicts (off the UI
    /// thread, with `w2sd train --from-session`'s checks).
    TrainFromSession(PathBuf),
    Train(TrainCommand),
    /// List the experiment configs and past runs for the Train screen's picker.
    ListExperiments,
    /// Check this picked experiment (as `train --config X --ui` does) off the UI thread.
    LoadExperiment(ExperimentEntry),
    /// Put this experiment on the Train screen (the current one's worker stops first).
    SwitchExperiment(Box<TrainSetup>),
    /// Check a new experiment from the form and write it (off the UI thread).
    CreateExperiment(Box<ExperimentDraft>),
    /// Check a debate set up on the Debate screen's form (off the UI thread).
    CheckDebate(Box<DebateSetup>),
    /// Run this debate on the Debate screen (the current one's worker stops first).
    StartDebate(Box<DebateConfig>),
}

/// The task of the default live debate (`w2sd` with no arguments, and the setup form's default).
pub const DEFAULT_DEBATE_TASK: &str = "builtin:capitals";

/// The per-turn token budget of the default live debate (and the setup form's default).
pub const DEFAULT_DEBATE_MAX_TOKENS: usize = 64;

/// A debate as the Debate screen's setup form describes it, remembered between runs in
/// `<config dir>/debate.toml`. The command line turns it into a [`DebateConfig`] with the checks
/// of `w2sd judge` (`cli::tui::debate_config`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DebateSetup {
    pub task: String,
    pub n: usize,
    pub seed: u64,
    /// Profiles or model specs.
    pub strong: String,
    pub weak: String,
    /// `human`, or a model spec for a model judge.
    pub judge: String,
    pub protocol: crate::session::Protocol,
    pub rounds: usize,
    pub assignment: crate::session::Assignment,
    pub turn_order: crate::session::TurnOrder,
    /// Shuffle the sides and hide the model names.
    pub blind: bool,
    /// The information gap: which debaters are denied the passage (`w2sd judge
    /// --strong-no-passage`, `--weak-no-passage`), and whether the judge is shown it
    /// (`--judge-sees-passage`).
    pub strong_no_passage: bool,
    pub weak_no_passage: bool,
    pub judge_sees_passage: bool,
    /// Per-turn token budget of debaters given as model specs (`--max-tokens`).
    pub max_tokens: usize,
}

impl DebateSetup {
    /// Where the last setup is remembered: `<config dir>/debate.toml`.
    pub fn file() -> PathBuf {
        crate::paths::config_dir().join("debate.toml")
    }

    /// The setup remembered in `file`, or the defaults (those of `w2sd` with no arguments) when
    /// there is none or it does not read.
    pub fn remembered(file: &std::path::Path) -> DebateSetup {
        std::fs::read_to_string(file).ok().and_then(|t| toml::from_str(&t).ok()).unwrap_or_default()
    }

    /// Remembers this setup in `file` (atomically).
    pub fn remember(&self, file: &std::path::Path) -> anyhow::Result<()> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::fsio::write_bytes_atomic(file, toml::to_string_pretty(self)?.as_bytes())?;
        Ok(())
    }
}

impl Default for DebateSetup {
    fn default() -> Self {
        DebateSetup {
            task: DEFAULT_DEBATE_TASK.into(),
            n: 5,
            seed: 42,
            strong: crate::runtime::catalog::DEFAULT_STRONG.into(),
            weak: crate::runtime::catalog::DEFAULT_WEAK.into(),
            judge: "human".into(),
            protocol: crate::session::Protocol::Debate,
            rounds: 1,
            assignment: crate::session::Assignment::Assigned,
            turn_order: crate::session::TurnOrder::SimultaneousFirst,
            blind: false,
            strong_no_passage: false,
            weak_no_passage: false,
            judge_sees_passage: false,
            max_tokens: DEFAULT_DEBATE_MAX_TOKENS,
        }
    }
}

/// A new experiment from the Train screen's form, before its task is checked and it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentDraft {
    pub name: String,
    pub cfg: crate::w2s::config::ExperimentConfig,
    /// Where it goes: `<config dir>/experiments/NAME.toml`.
    pub path: PathBuf,
}

/// An experiment to run from the UI: a checked config and its output folder.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSetup {
    /// What the screen calls it.
    pub name: String,
    pub cfg: crate::w2s::config::ExperimentConfig,
    /// Output folder (resumed if it holds stages of the same config).
    pub out: PathBuf,
}

impl TrainSetup {
    /// The demo of `docs/train.md` ([`crate::w2s::config::ExperimentConfig::demo`]) in
    /// `<data dir>/runs/<task>-<hash of the config>/`.
    pub fn demo() -> TrainSetup {
        let cfg = crate::w2s::config::ExperimentConfig::demo();
        let out = crate::paths::run_dir(&cfg.run_name());
        TrainSetup { name: "demo".into(), cfg, out }
    }

    /// Task, n, losses, seed (or seeds), ladder and output folder, for the screen's header.
    pub fn settings(&self) -> Vec<(String, String)> {
        let c = &self.cfg;
        let losses: Vec<String> = c.losses.iter().map(|l| l.to_string()).collect();
        vec![
            ("task".into(), c.task.spec.clone()),
            ("n".into(), c.task.n.map(|n| n.to_string()).unwrap_or_else(|| "all".into())),
            ("losses".into(), losses.join(", ")),
            match &c.seeds {
                Some(s) => ("seeds".into(), s.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")),
                None => ("seed".into(), c.seed.to_string()),
            },
            ("ladder".into(), c.ladder.join(" → ")),
            ("out".into(), self.out.display().to_string()),
        ]
    }
}

/// Where a listed experiment comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExperimentSource {
    /// A config in `<config dir>/experiments/`.
    Saved,
    /// A config in the working folder.
    Here,
    /// A run folder in `<data dir>/runs/` (its `experiment.toml`, its stages and results).
    Run,
}

impl ExperimentSource {
    pub fn label(self) -> &'static str {
        match self {
            ExperimentSource::Saved => "config",
            ExperimentSource::Here => "here",
            ExperimentSource::Run => "run",
        }
    }
}

/// One experiment the Train screen's picker lists.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentEntry {
    pub source: ExperimentSource,
    /// The config file, or the run folder.
    pub path: PathBuf,
    /// The file's stem or the folder's name.
    pub name: String,
    pub task: String,
    pub ladder: Vec<String>,
    /// `results`, `3/12 stages`, `not run`, or why the entry cannot be opened.
    pub status: String,
    /// Last modified, `YYYY-MM-DD HH:MM` (local time).
    pub modified: String,
}

/// What kind of stage.
#[derive(Debug, Clone, PartialEq)]
pub enum StageKind {
    Data,
    Features,
    WeakSupervisor,
    WeakLabels,
    StrongCeiling,
    WeakToStrong,
    /// One bootstrapping step, from one rung of the model ladder to the next.
    Bootstrap {
        step: usize,
    },
    /// A strong model argues for each label of every example (debate context).
    Debate,
    Results,
    /// The results of several seeds combined (`<out>/results.json`, the mean over seeds).
    Combined,
}

/// One stage of the pipeline as planned by a config.
#[derive(Debug, Clone, PartialEq)]
pub struct StagePlan {
    pub kind: StageKind,
    /// The pipeline's name of the stage (`student:minilm-l6:xent`).
    pub name: String,
    /// Short title for the stage list, e.g. `student minilm-l6 xent`.
    pub title: String,
    /// What it does, e.g. `minilm-l6 trained on bow's labels (xent)`.
    pub detail: String,
}

/// Events the pipeline worker reports (`stage` is an index into the plan).
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent {
    /// The plan of a config (stages in order), with its settings to show.
    Planned {
        config: String,
        settings: Vec<(String, String)>,
        stages: Vec<StagePlan>,
    },
    StageStarted {
        stage: usize,
    },
    /// Feature extraction progress.
    Progress {
        stage: usize,
        done: usize,
        total: usize,
    },
    /// The arguments of one example, as the debate-context stage writes them.
    Argument {
        stage: usize,
        id: String,
        text: String,
    },
    /// One epoch of the head `head` (a stage may train several: cross-fitting folds).
    Epoch {
        stage: usize,
        head: String,
        epoch: usize,
        loss: f64,
        val_acc: f64,
    },
    /// A stage is done (`resumed`: found done on disk). `metrics` are test-split numbers.
    StageDone {
        stage: usize,
        summary: String,
        metrics: Vec<(String, f64)>,
        pgr: Option<f64>,
        resumed: bool,
    },
    /// The running stage was stopped before it finished (nothing of it is kept).
    Cancelled {
        stage: usize,
    },
    /// The worker stopped running stages (paused, or one stage done after `n`).
    Paused,
    /// Every stage is done; `results` is the results file.
    Finished {
        results: String,
    },
    /// The finished run folder as Review reads it (settings, stages, results), sent just
    /// before `Finished`: the screen draws its PGR from it.
    Results(Box<RunEntry>),
    Error(String),
}

/// Commands to the pipeline worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainCommand {
    /// Open the experiment (start the worker; it reports the plan and what is done).
    Open,
    /// Run stages until all are done or paused.
    Run,
    /// Stop after the running stage.
    Pause,
    /// Stop the running stage now (its work is lost; it runs again next time).
    Cancel,
    /// Run exactly the next pending stage.
    StepStage,
}

/// One session file found on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEntry {
    pub path: PathBuf,
    pub session: Arc<Session>,
}

impl SessionEntry {
    pub fn date(&self) -> String {
        let c = &self.session.created;
        c.get(..16).unwrap_or(c).replace('T', " ")
    }
    pub fn task(&self) -> &str {
        &self.session.settings.task
    }
    pub fn strong(&self) -> &str {
        &self.session.provenance.strong.model
    }
    pub fn weak(&self) -> &str {
        &self.session.provenance.weak.model
    }
    /// The judges: names found in judgements, else the configured judge.
    pub fn judges(&self) -> String {
        let mut names: Vec<String> = Vec::new();
        for d in &self.session.debates {
            for j in &d.judgements {
                if !names.contains(&j.name) {
                    names.push(j.name.clone());
                }
            }
        }
        if names.is_empty() {
            names.push(match &self.session.settings.judge {
                JudgeSetting::Model { spec } => spec.clone(),
                JudgeSetting::Human => "human".into(),
                JudgeSetting::None => "none".into(),
            });
        }
        names.join(",")
    }
    pub fn judged(&self) -> usize {
        self.session.debates.iter().filter(|d| !d.judgements.is_empty()).count()
    }
}

/// One training run folder found on disk (review): what its files say.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEntry {
    pub path: PathBuf,
    /// The folder's name.
    pub name: String,
    /// When its results (else its config) were written, `YYYY-MM-DD HH:MM` (local time).
    pub date: String,
    /// `experiment.toml`, when it reads.
    pub config: Option<crate::w2s::config::ExperimentConfig>,
    /// `results.json`, once the run finished.
    pub results: Option<Arc<crate::w2s::results::Results>>,
    /// Each finished stage (`stages/*.json`) in the order they finished: its name and summary.
    pub stages: Vec<(String, crate::w2s::pipeline::StageSummary)>,
}

impl RunEntry {
    pub fn task(&self) -> &str {
        self.results
            .as_ref()
            .map(|r| r.task.as_str())
            .or(self.config.as_ref().map(|c| c.task.spec.as_str()))
            .unwrap_or("?")
    }
    /// The ladder, weakest first.
    pub fn ladder(&self) -> &[String] {
        match (&self.results, &self.config) {
            (Some(r), _) => &r.ladder,
            (None, Some(c)) => &c.ladder,
            _ => &[],
        }
    }
    /// The strongest rung.
    pub fn strong(&self) -> &str {
        self.ladder().last().map(String::as_str).unwrap_or("?")
    }
    /// The weak supervisor.
    pub fn weak(&self) -> &str {
        self.ladder().first().map(String::as_str).unwrap_or("?")
    }
}

/// What a scan of the session directories found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scan {
    pub entries: Vec<SessionEntry>,
    /// Training run folders (`results.json` or `stages/`) found beside the sessions.
    pub runs: Vec<RunEntry>,
    /// Files that could not be read, with the reason.
    pub errors: Vec<String>,
}
