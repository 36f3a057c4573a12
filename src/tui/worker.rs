//! Background workers. The UI never waits on a model, a download or a disk scan: it
//! sends a request to a worker thread and draws the messages ([`WorkerEvent`]) that come
//! back through the app's event channel.
//!
//! One thread owns the debate's models, so two models on one CPU take turns, never run
//! at once. Generation is cancelled through a shared [`CancelToken`] the generation loop
//! checks at every token.

use std::path::PathBuf;
use std::sync::mpsc;

use crate::runtime::hub::{self, ListRow, Source};
use crate::runtime::{CancelToken, PullProgress};

use super::event::Sender;

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
    ItemStarted(ItemView),
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
    Sessions(super::views::review::Scan),
    /// A training pipeline event (train screen).
    Train(super::views::train::TrainEvent),
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

/// Lists the catalog and the device on a thread (hashing cached files can take a moment).
pub fn spawn_list_models(tx: Sender) {
    std::thread::Builder::new()
        .name("w2sd-models".into())
        .spawn(move || {
            let rows = hub::list().map(|v| v.into_iter().map(ModelRow::from).collect()).map_err(|e| format!("{e:#}"));
            let device = crate::runtime::device::describe();
            tx.send(WorkerEvent::Models { rows, device });
        })
        .expect("spawn models thread");
}

/// Pulls catalog models one after another on a thread, reporting progress.
pub fn spawn_pull(names: Vec<String>, tx: Sender) {
    std::thread::Builder::new()
        .name("w2sd-pull".into())
        .spawn(move || {
            for name in names {
                let t = tx.clone();
                let result = hub::pull(&name, Source::Auto, &mut |p| t.send(WorkerEvent::PullProgress(p)))
                    .map_err(|e| format!("{e:#}"));
                if let Err(e) = &result {
                    tracing::warn!("pull {name}: {e}");
                }
                tx.send(WorkerEvent::PullDone { name, result });
            }
        })
        .expect("spawn pull thread");
}

/// A handle on a running debate worker.
pub struct DebateHandle {
    pub commands: mpsc::Sender<DebateCommand>,
    /// Cancels the generation in progress.
    pub cancel: CancelToken,
    pub thread: Option<std::thread::JoinHandle<()>>,
}

impl DebateHandle {
    pub fn send(&self, c: DebateCommand) {
        let _ = self.commands.send(c);
    }

    /// Cancels generation and asks the worker to stop; waits at most `wait` for it.
    pub fn stop(&mut self, wait: std::time::Duration) {
        self.cancel.cancel();
        self.send(DebateCommand::Stop);
        if let Some(t) = self.thread.take() {
            let deadline = std::time::Instant::now() + wait;
            while !t.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

/// Who judges a debate session run from the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum JudgeChoice {
    /// A person judges with the keyboard.
    Human { name: String },
    /// A model judge (both presentation orders).
    Model { spec: String },
}

/// A debate session to run from the UI (`w2sd`, `w2sd judge`).
#[derive(Debug, Clone, PartialEq)]
pub struct DebateConfig {
    /// Task spec (`builtin:capitals`, `path.jsonl`, …).
    pub task: String,
    pub n: usize,
    pub seed: u64,
    /// Strong and weak debater profiles (model spec, token budget, passage access, …).
    pub strong: crate::session::DebaterProfile,
    pub weak: crate::session::DebaterProfile,
    pub rounds: usize,
    pub judge: JudgeChoice,
    /// Shuffle sides left/right and hide model names.
    pub blind: bool,
    /// Show the ground truth and D after each verdict.
    pub reveal: bool,
    /// Whether the judge sees the passage.
    pub judge_sees_passage: bool,
    /// The session file.
    pub out: PathBuf,
}

impl DebateConfig {
    pub fn summary(&self) -> super::views::debate::DebateSummary {
        use super::views::debate::{DebateSummary, JudgeMode};
        DebateSummary {
            task: self.task.clone(),
            judge: match &self.judge {
                JudgeChoice::Human { name } => JudgeMode::Human { name: name.clone() },
                JudgeChoice::Model { spec } => JudgeMode::Model { spec: spec.clone() },
            },
            blind: self.blind,
            reveal: self.reveal,
            out: self.out.display().to_string(),
        }
    }
}

/// Starts the debate worker thread for `cfg`.
pub fn spawn_debate(cfg: DebateConfig, tx: Sender) -> DebateHandle {
    let (ctx, crx) = mpsc::channel();
    let cancel = CancelToken::new();
    let c2 = cancel.clone();
    let thread = std::thread::Builder::new()
        .name("w2sd-debate".into())
        .spawn(move || {
            if let Err(e) = super::driver::run(cfg, &tx, &crx, &c2) {
                tracing::error!("debate worker: {e:#}");
                tx.send(WorkerEvent::Debate(DebateEvent::Error(format!("{e:#}"))));
            }
        })
        .expect("spawn debate thread");
    DebateHandle { commands: ctx, cancel, thread: Some(thread) }
}
