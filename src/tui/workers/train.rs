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
use crate::w2s::seeds;

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

/// Starts the worker for `setup`: it opens the experiment (or, for several seeds, one per seed
/// in `<out>/seed-K/`, run one after another, as `w2sd train --seeds` runs them), reports the
/// plan and the stages already done, then waits for commands.
pub fn spawn_train(setup: TrainSetup, tx: Sender) -> Result<TrainHandle> {
    let cancel = CancelToken::new();
    let opened: Vec<(Option<u64>, Experiment)> = match &setup.cfg.seeds {
        Some(_) => seeds::open_seeds(&setup.cfg, &setup.out)?.into_iter().map(|(s, e)| (Some(s), e)).collect(),
        None => vec![(None, Experiment::new(setup.cfg.clone(), &setup.out)?)],
    };
    let mut parts = Vec::new();
    let mut offset = 0;
    for (seed, exp) in opened {
        let exp = exp.with_cancel(cancel.clone());
        let plans = part_plans(&exp, seed);
        let names = exp.plan().iter().map(|s| s.to_string()).collect::<Vec<_>>();
        parts.push(Part { seed, exp, offset, names, plans });
        offset += parts.last().map_or(0, |p| p.names.len());
    }
    let combined = (parts.len() > 1 || setup.cfg.seeds.is_some()).then_some(offset);
    let (ctx, crx) = mpsc::channel();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let token = cancel.clone();
    let thread = std::thread::Builder::new().name("w2sd-train".into()).spawn(move || {
        let mut w = Worker {
            parts,
            combined,
            combined_fresh: false,
            setup,
            tx,
            commands: crx,
            stop: stop2,
            cancel: token,
            acc: HashMap::new(),
        };
        w.run();
    })?;
    Ok(TrainHandle { commands: ctx, cancel, stop, thread: Some(thread) })
}

/// The screen's rows of one experiment: its stages, prefixed `sK/` (names) and `sK` (titles)
/// when it is one seed of several.
fn part_plans(exp: &Experiment, seed: Option<u64>) -> Vec<StagePlan> {
    let mut plans = stage_plans(exp);
    if let Some(k) = seed {
        for p in &mut plans {
            p.name = format!("{}{}", crate::w2s::results::seed_prefix(k), p.name);
            p.title = format!("s{k} {}", p.title);
            p.detail = format!("seed {k}: {}", p.detail);
        }
    }
    plans
}

/// One experiment the worker runs: the whole config, or one seed of several.
struct Part {
    seed: Option<u64>,
    exp: Experiment,
    /// The screen index of its first stage.
    offset: usize,
    /// Its stage names in plan order (the pipeline's names).
    names: Vec<String>,
    plans: Vec<StagePlan>,
}

impl Part {
    fn index(&self, stage: &str) -> Option<usize> {
        self.names.iter().position(|n| n == stage).map(|i| self.offset + i)
    }
}

struct Worker {
    parts: Vec<Part>,
    /// The screen index of the stage that combines several seeds' results (none for one seed).
    combined: Option<usize>,
    /// The combined results are written and no stage has run since.
    combined_fresh: bool,
    setup: TrainSetup,
    tx: Sender,
    commands: mpsc::Receiver<TrainCommand>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The token every part's experiment shares.
    cancel: CancelToken,
    /// Test accuracy of each finished head stage, by part and stage name (for PGR while
    /// results are not written).
    acc: HashMap<(usize, String), f64>,
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

    fn results_file(&self) -> String {
        self.setup.out.join("results.json").display().to_string()
    }

    fn run(&mut self) {
        let mut plans: Vec<StagePlan> = self.parts.iter().flat_map(|p| p.plans.clone()).collect();
        if self.combined.is_some() {
            plans.push(StagePlan {
                kind: StageKind::Combined,
                name: "results".into(),
                title: "results over seeds".into(),
                detail: "results.json: every seed's runs and their mean over seeds".into(),
            });
        }
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
                        self.cancel.reset();
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
                self.cancel.reset();
                self.send(TrainEvent::Paused);
                mode = Mode::Idle;
                continue;
            }
            match self.step(&mut mode, &mut pause) {
                Ok(true) if mode == Mode::Continuous && !pause => {}
                Ok(true) => {
                    self.send(TrainEvent::Paused);
                    mode = Mode::Idle;
                }
                Ok(false) => {
                    self.finished();
                    mode = Mode::Idle;
                }
                Err(e) => {
                    if self.cancel.is_cancelled() {
                        self.cancel.reset();
                        let stage = self.parts.iter_mut().find_map(|p| {
                            let s = p.exp.next_pending()?.to_string();
                            p.index(&s)
                        });
                        if let Some(i) = stage {
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

    /// Every stage is done: the run folder as Review reads it (for the PGR chart), then
    /// `Finished`.
    fn finished(&self) {
        match super::experiments::load_run(&self.setup.out) {
            Ok(run) => self.send(TrainEvent::Results(Box::new(run))),
            Err(e) => tracing::warn!("train: cannot read the run folder back: {e}"),
        }
        self.send(TrainEvent::Finished { results: self.results_file() });
    }

    /// Runs the next pending stage (of the first seed that has one), or combines the seeds'
    /// results once all are done. `Ok(false)`: nothing was left to run.
    fn step(&mut self, mode: &mut Mode, pause: &mut bool) -> Result<bool> {
        let Some(p) = self.parts.iter_mut().position(|p| p.exp.next_pending().is_some()) else {
            return self.combine();
        };
        self.combined_fresh = false;
        let tx = self.tx.clone();
        let commands = &self.commands;
        let part = &mut self.parts[p];
        let (offset, names) = (part.offset, part.names.clone());
        let index = |s: &str| names.iter().position(|n| n == s).map(|i| offset + i);
        let mut done: Vec<(String, StageSummary, bool)> = Vec::new();
        let mut last_progress = Instant::now() - Duration::from_secs(1);
        let r = part.exp.step(&mut |e| {
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
            self.stage_done(p, &stage, &summary, resumed, None);
        }
        if matches!(r, Ok(Some(StageId::Results))) {
            self.report_results(p, false);
        }
        Ok(r?.is_some())
    }

    /// Several seeds, all done: their combined results (once per change). `Ok(false)` when there
    /// is nothing to combine (one seed) or it is already done.
    fn combine(&mut self) -> Result<bool> {
        let Some(i) = self.combined else { return Ok(false) };
        if self.combined_fresh {
            return Ok(false);
        }
        self.send(TrainEvent::StageStarted { stage: i });
        let seeds: Vec<u64> = self.parts.iter().filter_map(|p| p.seed).collect();
        let r = seeds::combine_seeds(&seeds, &self.setup.out)?;
        self.combined_fresh = true;
        self.report_combined(i, &r, false);
        Ok(true)
    }

    /// The combined stage's row: how many runs over how many seeds, and the mean PGR of each.
    fn report_combined(&self, i: usize, r: &Results, resumed: bool) {
        let metrics: Vec<(String, f64)> = r
            .aggregate
            .iter()
            .filter_map(|a| Some((format!("PGR {}", crate::w2s::results::base_id(&a.id)), a.pgr.mean?)))
            .collect();
        let summary = format!(
            "{} runs over {} seeds; mean over seeds in aggregate[] of {}",
            r.runs.len(),
            self.parts.len(),
            self.results_file()
        );
        self.send(TrainEvent::StageDone { stage: i, summary, metrics, pgr: None, resumed });
    }

    /// Reports every stage found done on disk.
    fn report_done(&mut self) {
        for p in 0..self.parts.len() {
            let plan = self.parts[p].exp.plan();
            for s in &plan {
                if let Some(rec) = self.parts[p].exp.record(s).cloned() {
                    let StageRecord { stage, summary, .. } = rec;
                    self.stage_done(p, &stage, &summary, true, None);
                }
            }
            if self.parts[p].exp.is_done(&StageId::Results) {
                self.report_results(p, true);
            }
        }
        let all_done = self.parts.iter_mut().all(|p| p.exp.is_done(&StageId::Results));
        if !all_done {
            return;
        }
        match self.combined {
            None => self.finished(),
            Some(i) => {
                // Combined results on disk are current when every seed was done before this launch.
                if let Ok(r) = Results::load(&self.setup.out.join("results.json")) {
                    self.combined_fresh = true;
                    self.report_combined(i, &r, true);
                    self.finished();
                }
            }
        }
    }

    /// Test metrics of a finished stage of part `p`; PGR for students and bootstrap steps.
    fn stage_done(
        &mut self,
        p: usize,
        stage: &str,
        summary: &StageSummary,
        resumed: bool,
        run: Option<&crate::w2s::results::RunResult>,
    ) {
        let Some(i) = self.parts[p].index(stage) else { return };
        let mut metrics: Vec<(String, f64)> = Vec::new();
        let mut pgr = None;
        if let Some(t) = &summary.test {
            self.acc.insert((p, stage.to_string()), t.acc);
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
        let exp = &self.parts[p].exp;
        let model = match exp.plan().into_iter().find(|s| s.to_string() == stage) {
            Some(StageId::Student { model, .. }) => Some(model),
            Some(StageId::Bootstrap { step }) => Some(exp.cfg.ladder[step].clone()),
            _ => None,
        };
        if let (Some(m), Some(t)) = (&model, &summary.test) {
            let weak = self.acc.get(&(p, "weak".to_string())).copied();
            let ceiling = self.acc.get(&(p, StageId::Ceiling { model: m.clone() }.to_string())).copied();
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

    /// Re-reports part `p`'s students and bootstrap steps with the numbers of its `results.json`.
    fn report_results(&mut self, p: usize, resumed: bool) {
        let path = self.parts[p].exp.out.join("results.json");
        let results = match Results::load(&path) {
            Ok(r) => r,
            Err(e) => {
                self.send(TrainEvent::Error(format!("{e:#}")));
                return;
            }
        };
        let weak = self.parts[p].exp.cfg.ladder[0].clone();
        for s in self.parts[p].exp.plan() {
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
                let summary = self.parts[p].exp.record(&s).map(|r| r.summary.clone()).unwrap_or_default();
                self.stage_done(p, &s.to_string(), &summary, resumed, Some(&run));
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
