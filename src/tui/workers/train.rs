//! The pipeline worker of the Train screen.
//!
//! One thread owns the [`Experiment`] (its data, features and heads) and runs its stages
//! with the step API, one stage per [`Experiment::step`], reporting every pipeline
//! [`Event`] as a [`TrainEvent`] through the app's event channel. Between stages and at
//! every pipeline event it reads the screen's [`TrainCommand`]s: `Run` keeps stepping,
//! `StepStage` runs one stage, `Pause` stops after the running stage, and `Cancel` (the
//! handle also trips the experiment's cancel token) stops the running stage between
//! batches. Stages are resumable, so a stopped stage simply runs again next time, and a
//! run started in one launch of the UI continues in the next (same config, same folder).

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::runtime::CancelToken;
use crate::w2s::pipeline::{Event, Experiment, StageId, StageRecord, StageSummary};
use crate::w2s::results::Results;

use crate::tui::event::Sender;
use crate::tui::message::WorkerEvent;
use crate::tui::message::{StageKind, StagePlan, TrainCommand, TrainEvent};
use crate::tui::views::train::TrainState;

pub use crate::tui::message::TrainSetup;

impl TrainSetup {
    /// The screen before the experiment is opened.
    pub fn state(&self) -> TrainState {
        TrainState::configured(&self.name, self.settings())
    }
}

/// One row of the screen per stage of the experiment's plan.
pub fn stage_plans(exp: &Experiment) -> Vec<StagePlan> {
    let weak = exp.cfg.ladder[0].clone();
    exp.plan()
        .into_iter()
        .map(|s| {
            let name = s.to_string();
            let (kind, title, detail) = match &s {
                StageId::Data => (StageKind::Data, "data".to_string(), format!("load {}, split it", exp.cfg.task.spec)),
                StageId::Features { model } => {
                    (StageKind::Features, format!("features {model}"), format!("{model} features of every example"))
                }
                StageId::Weak => (
                    StageKind::WeakSupervisor,
                    format!("weak supervisor {weak}"),
                    format!("{weak} trained on ground truth"),
                ),
                StageId::WeakLabels => {
                    (StageKind::WeakLabels, "weak labels".to_string(), format!("{weak} labels the strong half and val"))
                }
                StageId::Ceiling { model } => {
                    (StageKind::StrongCeiling, format!("ceiling {model}"), format!("{model} trained on ground truth"))
                }
                StageId::Student { model, loss } => (
                    StageKind::WeakToStrong,
                    format!("w2s {model} {loss}"),
                    format!("{model} trained on {weak}'s labels ({loss})"),
                ),
                StageId::Bootstrap { step } => {
                    let l = &exp.cfg.ladder;
                    let (from, to) = (&l[step - 1], &l[*step]);
                    (
                        StageKind::Bootstrap { step: *step },
                        format!("bootstrap {step} → {to}"),
                        format!("{to} trained on {from}'s labels ({})", exp.cfg.bootstrap_loss()),
                    )
                }
                StageId::Debate { model } => (
                    StageKind::Debate,
                    format!("debate {model}"),
                    format!("{model} argues for each label of every example"),
                ),
                StageId::WeakDebate => (
                    StageKind::WeakSupervisor,
                    format!("weak {weak} + debate"),
                    format!("{weak} reads each example with its arguments"),
                ),
                StageId::DebateStudent { model, loss } => (
                    StageKind::WeakToStrong,
                    format!("w2s {model} {loss} + debate"),
                    format!("{model} trained on the debate-assisted labels ({loss}), on the text alone"),
                ),
                StageId::Results => {
                    (StageKind::Results, "results".to_string(), "results.json, predictions.jsonl".to_string())
                }
            };
            StagePlan { kind, name, title, detail }
        })
        .collect()
}

/// A handle on the pipeline worker.
pub struct TrainHandle {
    pub commands: mpsc::Sender<TrainCommand>,
    /// The experiment's cancel token: stops the running stage between batches.
    pub cancel: CancelToken,
    /// Ask the worker to end (with `cancel`).
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub thread: Option<std::thread::JoinHandle<()>>,
}

impl TrainHandle {
    pub fn send(&self, c: TrainCommand) {
        if c == TrainCommand::Cancel {
            self.cancel.cancel();
        }
        let _ = self.commands.send(c);
    }

    /// Stops the running stage and the worker; waits at most `wait` for it.
    pub fn stop(&mut self, wait: Duration) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.cancel.cancel();
        let _ = self.commands.send(TrainCommand::Pause);
        if let Some(t) = self.thread.take() {
            let deadline = Instant::now() + wait;
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

/// Starts the worker for `setup`: it opens the experiment, reports the plan and the
/// stages already done, then waits for commands.
pub fn spawn_train(setup: TrainSetup, tx: Sender) -> Result<TrainHandle> {
    let exp = Experiment::new(setup.cfg.clone(), &setup.out)?;
    let cancel = exp.cancel_token();
    let (ctx, crx) = mpsc::channel();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let thread = std::thread::Builder::new().name("w2sd-train".into()).spawn(move || {
        let mut w = Worker { exp, setup, tx, commands: crx, stop: stop2, names: vec![], acc: HashMap::new() };
        w.run();
    })?;
    Ok(TrainHandle { commands: ctx, cancel, stop, thread: Some(thread) })
}

struct Worker {
    exp: Experiment,
    setup: TrainSetup,
    tx: Sender,
    commands: mpsc::Receiver<TrainCommand>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Stage names in plan order.
    names: Vec<String>,
    /// Test accuracy of each finished head stage (for PGR while results are not written).
    acc: HashMap<String, f64>,
}

/// What the worker does next.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Idle,
    Continuous,
    OneStage,
}

impl Worker {
    fn send(&self, e: TrainEvent) {
        self.tx.send(WorkerEvent::Train(e));
    }

    fn stopping(&self) -> bool {
        self.stop.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn run(&mut self) {
        let plans = stage_plans(&self.exp);
        self.names = plans.iter().map(|p| p.name.clone()).collect();
        self.send(TrainEvent::Planned {
            config: self.setup.name.clone(),
            settings: self.setup.settings(),
            stages: plans,
        });
        self.report_done();
        let mut mode = Mode::Idle;
        loop {
            if self.stopping() {
                return;
            }
            if mode == Mode::Idle {
                match self.commands.recv() {
                    Ok(TrainCommand::Run) => mode = Mode::Continuous,
                    Ok(TrainCommand::StepStage) => mode = Mode::OneStage,
                    Ok(_) => {
                        // A pause or a stop that came after the stage ended: nothing to stop.
                        self.exp.cancel_token().reset();
                        continue;
                    }
                    Err(_) => return,
                }
            }
            // Commands that came while idle or between stages.
            let mut pause = false;
            while let Ok(c) = self.commands.try_recv() {
                apply(c, &mut mode, &mut pause);
            }
            if pause || self.stopping() {
                self.exp.cancel_token().reset();
                self.send(TrainEvent::Paused);
                mode = Mode::Idle;
                continue;
            }
            match self.step(&mut mode, &mut pause) {
                Ok(Some(_)) if mode == Mode::Continuous && !pause => {}
                Ok(Some(_)) => {
                    self.send(TrainEvent::Paused);
                    mode = Mode::Idle;
                }
                Ok(None) => {
                    self.send(TrainEvent::Finished {
                        results: self.exp.out.join("results.json").display().to_string(),
                    });
                    mode = Mode::Idle;
                }
                Err(e) => {
                    let token = self.exp.cancel_token();
                    if token.is_cancelled() {
                        token.reset();
                        let stage = self.exp.next_pending().map(|s| s.to_string());
                        if let Some(i) = stage.and_then(|s| self.index(&s)) {
                            self.send(TrainEvent::Cancelled { stage: i });
                        }
                        self.send(TrainEvent::Paused);
                    } else {
                        tracing::error!("train worker: {e:#}");
                        self.send(TrainEvent::Error(format!("{e:#}")));
                    }
                    mode = Mode::Idle;
                }
            }
        }
    }

    fn index(&self, stage: &str) -> Option<usize> {
        self.names.iter().position(|n| n == stage)
    }

    /// Runs the next pending stage, forwarding its events and reading commands meanwhile.
    fn step(&mut self, mode: &mut Mode, pause: &mut bool) -> Result<Option<StageId>> {
        let names = self.names.clone();
        let index = |s: &str| names.iter().position(|n| n == s);
        let tx = self.tx.clone();
        let commands = &self.commands;
        let mut done: Vec<(String, StageSummary, bool)> = Vec::new();
        let mut last_progress = Instant::now() - Duration::from_secs(1);
        let r = self.exp.step(&mut |e| {
            while let Ok(c) = commands.try_recv() {
                apply(c, mode, pause);
            }
            let send = |t: TrainEvent| tx.send(WorkerEvent::Train(t));
            match e {
                Event::StageStarted { stage, .. } => {
                    if let Some(i) = index(&stage) {
                        send(TrainEvent::StageStarted { stage: i });
                    }
                }
                Event::Progress { stage, done, total } => {
                    // At most ten a second: the screen cannot show more.
                    if done == total || last_progress.elapsed() >= Duration::from_millis(100) {
                        last_progress = Instant::now();
                        if let Some(i) = index(&stage) {
                            send(TrainEvent::Progress { stage: i, done, total });
                        }
                    }
                }
                Event::Epoch { stage, head, stats } => {
                    if let Some(i) = index(&stage) {
                        let val_acc = stats.val_acc_gt.unwrap_or(stats.val_acc);
                        send(TrainEvent::Epoch { stage: i, head, epoch: stats.epoch, loss: stats.train_loss, val_acc });
                    }
                }
                Event::StageDone { stage, summary, resumed, .. } => done.push((stage, summary, resumed)),
                Event::Warning { message } => tracing::warn!("train: {message}"),
                Event::Argument { stage, id, text } => {
                    if let Some(i) = index(&stage) {
                        send(TrainEvent::Argument { stage: i, id, text });
                    }
                }
            }
        });
        // Stage results are reported after the step (they need the experiment for PGR).
        for (stage, summary, resumed) in done {
            self.stage_done(&stage, &summary, resumed, None);
        }
        if matches!(r, Ok(Some(StageId::Results))) {
            self.report_results(false);
        }
        r
    }

    /// Reports every stage found done on disk.
    fn report_done(&mut self) {
        let plan = self.exp.plan();
        for s in &plan {
            if let Some(rec) = self.exp.record(s).cloned() {
                let StageRecord { stage, summary, .. } = rec;
                self.stage_done(&stage, &summary, true, None);
            }
        }
        if self.exp.is_done(&StageId::Results) {
            self.report_results(true);
            self.send(TrainEvent::Finished { results: self.exp.out.join("results.json").display().to_string() });
        }
    }

    /// Test metrics of a finished stage; PGR for students and bootstrap steps.
    fn stage_done(
        &mut self,
        stage: &str,
        summary: &StageSummary,
        resumed: bool,
        run: Option<&crate::w2s::results::RunResult>,
    ) {
        let Some(i) = self.index(stage) else { return };
        let mut metrics: Vec<(String, f64)> = Vec::new();
        let mut pgr = None;
        if let Some(t) = &summary.test {
            self.acc.insert(stage.to_string(), t.acc);
            metrics.push(("test acc".into(), t.acc));
            if let Some(a) = t.auroc {
                metrics.push(("AUROC".into(), a));
            }
            metrics.push(("ECE".into(), t.ece));
            metrics.push(("test n".into(), t.n as f64));
        }
        if let Some(v) = &summary.val {
            metrics.push(("val acc".into(), v.acc));
        }
        // PGR = (acc_w2s − acc_weak) / (acc_ceiling − acc_weak), the student's model's ceiling.
        let model = match self.exp.plan().into_iter().find(|s| s.to_string() == stage) {
            Some(StageId::Student { model, .. }) => Some(model),
            Some(StageId::Bootstrap { step }) => Some(self.exp.cfg.ladder[step].clone()),
            _ => None,
        };
        if let (Some(m), Some(t)) = (&model, &summary.test) {
            let weak = self.acc.get("weak").copied();
            let ceiling = self.acc.get(&StageId::Ceiling { model: m.clone() }.to_string()).copied();
            if let (Some(w), Some(c)) = (weak, ceiling) {
                pgr = crate::w2s::metrics::pgr(w, c, t.acc);
            }
        }
        // Once results.json exists its numbers are the reference (agreement needs predictions).
        if let Some(r) = run {
            let m = &r.metrics;
            pgr = m.pgr;
            metrics = vec![
                ("test acc".into(), m.acc_w2s),
                ("weak acc".into(), m.acc_weak),
                ("ceiling acc".into(), m.acc_ceiling),
            ];
            if let Some(a) = m.auroc_w2s {
                metrics.push(("AUROC".into(), a));
            }
            if let Some(p) = m.pgr_auroc {
                metrics.push(("PGR (AUROC)".into(), p));
            }
            metrics.push(("ECE".into(), m.ece_w2s));
            metrics.push(("agreement".into(), m.agreement));
            metrics.push(("test n".into(), m.n as f64));
        }
        self.send(TrainEvent::StageDone { stage: i, summary: summary.text.clone(), metrics, pgr, resumed });
    }

    /// Re-reports the students and bootstrap steps with the numbers of `results.json`.
    fn report_results(&mut self, resumed: bool) {
        let path = self.exp.out.join("results.json");
        let results = match Results::load(&path) {
            Ok(r) => r,
            Err(e) => {
                self.send(TrainEvent::Error(format!("{e:#}")));
                return;
            }
        };
        let weak = self.exp.cfg.ladder[0].clone();
        for s in self.exp.plan() {
            let run = match &s {
                StageId::Student { model, loss } => results.runs.iter().find(|r| {
                    r.info.weak == weak
                        && r.info.strong == *model
                        && r.info.loss == loss.to_string()
                        && r.info.step.is_none()
                }),
                StageId::Bootstrap { step } => results
                    .bootstrap
                    .iter()
                    .find(|b| b.step == *step)
                    .and_then(|b| results.runs.iter().find(|r| r.info.id == b.run)),
                _ => None,
            };
            if let Some(run) = run.cloned() {
                let summary = self.exp.record(&s).map(|r| r.summary.clone()).unwrap_or_default();
                self.stage_done(&s.to_string(), &summary, resumed, Some(&run));
            }
        }
    }
}

fn apply(c: TrainCommand, mode: &mut Mode, pause: &mut bool) {
    match c {
        TrainCommand::Run => {
            *mode = Mode::Continuous;
            *pause = false;
        }
        TrainCommand::StepStage if *mode == Mode::Idle => *mode = Mode::OneStage,
        TrainCommand::Pause | TrainCommand::Cancel => *pause = true,
        TrainCommand::StepStage | TrainCommand::Open => {}
    }
}
