//! The debate worker: a thin adapter between the Debate screen and the engine's one session loop,
//! [`SessionRun`]. It turns the run's steps and streamed text into [`DebateEvent`]s, and the
//! screen's [`DebateCommand`]s (verdict, next, skip, undo, stop) into calls on the run. The run
//! saves the session after every turn and verdict, so a verdict is on disk before the next item
//! appears.
//!
//! This thread owns every model of the session; models therefore take turns.

use std::cell::Cell;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::debate::agents::{ModelDebater, ModelJudge};
use crate::debate::human::{blind_shuffle, human_judgement, HumanVerdict};
use crate::debate::prompts::Templates;
use crate::debate::runner::{RunEvent, RunPlan, SessionRun, Step, Verdicts};
use crate::debate::Judge;
use crate::runtime::hub::{self, Source};
use crate::runtime::{catalog, CancelToken, ModelPool};
use crate::session::{store, DebateRecord, JudgeSetting, Shuffle, Side};
use crate::tui::event::Sender;
use crate::tui::message::{
    DebateCommand, DebateConfig, DebateEvent, ItemView, ModelVerdict, Pane, Reveal, SideView, WorkerEvent,
};

fn pane_of(side: Side, sh: &Shuffle) -> Pane {
    if (side == Side::Strong) == sh.strong_left {
        Pane::Left
    } else {
        Pane::Right
    }
}

fn letter(i: usize) -> char {
    (b'A' + i as u8) as char
}

/// What the judge sees of a debate record.
pub fn item_view(rec: &DebateRecord, total: usize, cfg: &DebateConfig, sh: &Shuffle) -> ItemView {
    let side_view = |side: Side| {
        let (answer, profile) = match side {
            Side::Strong => (rec.strong_answer, &cfg.strong),
            Side::Weak => (rec.weak_answer, &cfg.weak),
        };
        let ans = format!("{}) {}", letter(answer), rec.item.choices.get(answer).cloned().unwrap_or_default());
        if cfg.blind {
            SideView { label: sh.label(side).to_string(), role: None, answer: ans }
        } else {
            let role = if side == Side::Strong { "Strong" } else { "Weak" };
            SideView {
                label: format!("{role} · {}", profile.name), role: Some(side.as_str().to_string()), answer: ans
            }
        }
    };
    let (left, right) = if sh.strong_left {
        (side_view(Side::Strong), side_view(Side::Weak))
    } else {
        (side_view(Side::Weak), side_view(Side::Strong))
    };
    ItemView {
        index: rec.index,
        total,
        id: rec.item.id.clone(),
        question: rec.item.question.clone(),
        passage: if cfg.settings.judge_sees_passage { rec.item.passage.clone() } else { None },
        source_passage: rec.item.passage.clone(),
        left,
        right,
        blind: cfg.blind,
    }
}

/// What to do after a cancelled turn or an interrupted wait.
enum Flow {
    Continue,
    Stop,
}

struct Worker<'a> {
    cfg: DebateConfig,
    tx: &'a Sender,
    rx: &'a Receiver<DebateCommand>,
    cancel: &'a CancelToken,
    /// The pane of the turn being written (where streamed text goes).
    streaming: Cell<Option<Pane>>,
}

impl Worker<'_> {
    fn send(&self, e: DebateEvent) {
        self.tx.send(WorkerEvent::Debate(e));
    }

    fn stop_requested(&self) -> bool {
        matches!(self.rx.try_recv(), Ok(DebateCommand::Stop) | Err(TryRecvError::Disconnected))
    }

    fn shuffle(&self, index: usize) -> Shuffle {
        if self.cfg.blind {
            blind_shuffle(self.cfg.settings.seed, index)
        } else {
            Shuffle { strong_left: true }
        }
    }

    /// Pulls (with progress) the catalog models that are not cached, then loads each distinct
    /// spec once into the pool. `false` when the UI stopped meanwhile.
    fn load_models(&self, pool: &mut ModelPool, specs: &[String]) -> Result<bool> {
        let progress = |p: crate::runtime::PullProgress| {
            self.send(DebateEvent::Preparing {
                what: format!("pulling {} · {}", p.model, p.stage),
                done: p.done,
                total: p.total,
            })
        };
        for spec in specs.iter().filter(|s| !pool.contains(s)) {
            if let Some(entry) = catalog::CATALOG.iter().find(|e| e.name == spec) {
                if hub::cached(entry).is_none() {
                    self.send(DebateEvent::Preparing { what: format!("pulling {spec}"), done: 0, total: None });
                    hub::pull(spec, Source::Auto, &mut { progress }).with_context(|| format!("cannot pull {spec}"))?;
                }
            }
            if self.stop_requested() {
                return Ok(false);
            }
        }
        for (k, spec) in specs.iter().enumerate() {
            if !pool.contains(spec) {
                self.send(DebateEvent::Preparing {
                    what: format!("loading {spec}"),
                    done: k as u64,
                    total: Some(specs.len() as u64),
                });
                pool.get(spec, &mut { progress })?;
            }
            if self.stop_requested() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn run(&self, mut pool: ModelPool) -> Result<()> {
        let cfg = &self.cfg;
        let mut specs = vec![cfg.strong.model.clone(), cfg.weak.model.clone()];
        if let JudgeSetting::Model { spec } = &cfg.settings.judge {
            specs.push(spec.clone());
        }
        if !self.load_models(&mut pool, &specs)? {
            return Ok(());
        }
        // A resumed session keeps the exact templates it recorded.
        let templates = if cfg.out.exists() {
            Templates::from_records(&store::load(&cfg.out)?.provenance.prompts)
        } else {
            Templates::load()?
        };
        let none = &mut |_: crate::runtime::PullProgress| {};
        let mut strong = ModelDebater::new(cfg.strong.clone(), pool.get(&cfg.strong.model, none)?, templates.clone());
        let mut weak = ModelDebater::new(cfg.weak.clone(), pool.get(&cfg.weak.model, none)?, templates.clone());
        let mut judge = match &cfg.settings.judge {
            JudgeSetting::Model { spec } => Some(ModelJudge::new(pool.get(spec, none)?, templates.clone())?),
            _ => None,
        };
        let plan = RunPlan {
            settings: cfg.settings.clone(),
            strong: cfg.strong.clone(),
            weak: cfg.weak.clone(),
            out: cfg.out.clone(),
            templates,
            command: Some(std::env::args().collect::<Vec<_>>().join(" ")),
        };
        let verdicts = if judge.is_some() { Verdicts::Judge } else { Verdicts::Person };
        let mut run = SessionRun::open(plan, &strong, &weak, judge.as_ref().map(|j| j as &dyn Judge), verdicts)?;
        let total = run.total();
        loop {
            let step =
                run.next(&mut strong, &mut weak, judge.as_mut().map(|j| j as &mut dyn Judge), self.cancel, &mut |e| {
                    self.forward(&e)
                })?;
            let flow = match step {
                Step::Started { index } => {
                    self.cancel.reset();
                    let rec = &run.current().expect("a started debate is current").record;
                    let sh = self.shuffle(index);
                    self.send(DebateEvent::ItemStarted(Box::new(item_view(rec, total, cfg, &sh))));
                    for t in &rec.turns {
                        let pane = pane_of(t.side, &sh);
                        self.send(DebateEvent::TurnStarted { pane, round: t.round });
                        self.send(DebateEvent::Token { pane, piece: t.text.clone() });
                        self.send(DebateEvent::TurnDone {
                            pane,
                            stop_reason: t.stop_reason.clone(),
                            text: Some(t.text.clone()),
                            copied: t.flags.copy_overlap.filter(|_| t.flags.copied),
                        });
                    }
                    Flow::Continue
                }
                Step::Turn { .. } | Step::Passed { .. } | Step::Agreement { .. } => Flow::Continue,
                Step::Cancelled { index } => self.after_cancel(&mut run, index)?,
                Step::NeedsVerdict { index } => {
                    self.send(DebateEvent::Argued);
                    self.wait_verdict(&mut run, index)?
                }
                Step::Judged { index } => {
                    self.send(DebateEvent::Argued);
                    let rec = &run.session().debates[index];
                    let jd = rec.judgements.last().expect("a judged debate has a verdict");
                    let sh = self.shuffle(index);
                    let right_strong = !sh.strong_left;
                    let to_right = |p_strong: f64| if right_strong { p_strong } else { 1.0 - p_strong };
                    self.send(DebateEvent::ModelJudged(ModelVerdict {
                        judge: jd.name.clone(),
                        p_right: to_right(jd.p_strong),
                        orders: jd
                            .orders
                            .iter()
                            .map(|o| (o.strong_first == right_strong, to_right(o.p_strong)))
                            .collect(),
                    }));
                    self.send_saved(&run, index);
                    self.wait_next(&mut run)?
                }
                Step::Done => {
                    self.send(DebateEvent::Finished {
                        path: run.path().to_path_buf(),
                        judged: run.judged(),
                        skipped: run.skipped(),
                    });
                    // Stay for an undo, or until the UI stops.
                    match self.rx.recv() {
                        Ok(DebateCommand::Undo) => self.undo(&mut run)?,
                        Ok(DebateCommand::Stop) | Err(_) => Flow::Stop,
                        Ok(_) => Flow::Continue,
                    }
                }
            };
            if let Flow::Stop = flow {
                return Ok(());
            }
        }
    }

    /// Streams the run's turn events to the screen.
    fn forward(&self, e: &RunEvent) {
        match e {
            RunEvent::TurnStart { index, spec } => {
                let pane = pane_of(spec.side, &self.shuffle(*index));
                self.streaming.set(Some(pane));
                self.send(DebateEvent::TurnStarted { pane, round: spec.round })
            }
            RunEvent::Text(piece) => {
                self.send(DebateEvent::Token { pane: self.streaming_pane(), piece: piece.to_string() })
            }
            RunEvent::TurnEnd { index, turn } => self.send(DebateEvent::TurnDone {
                pane: pane_of(turn.side, &self.shuffle(*index)),
                stop_reason: turn.stop_reason.clone(),
                text: (!turn.is_cancelled()).then(|| turn.text.clone()),
                copied: turn.flags.copy_overlap.filter(|_| turn.flags.copied),
            }),
            _ => {}
        }
    }

    fn streaming_pane(&self) -> Pane {
        self.streaming.get().unwrap_or(Pane::Left)
    }

    /// A command that arrived with a cancellation (skip, undo, stop), if any.
    fn pending_command(&self) -> Option<DebateCommand> {
        match self.rx.recv_timeout(Duration::from_millis(150)) {
            Ok(c @ (DebateCommand::Skip | DebateCommand::Undo | DebateCommand::Stop)) => Some(c),
            Ok(_) | Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(DebateCommand::Stop),
        }
    }

    /// The turn in progress was cancelled. With a skip, undo or stop the partial turn is dropped
    /// and the item resumes later; a plain Esc records the remaining turns empty, as cancelled.
    fn after_cancel(&self, run: &mut SessionRun, index: usize) -> Result<Flow> {
        let pane = self.streaming_pane();
        self.send(DebateEvent::TurnDone { pane, stop_reason: "cancelled".into(), text: None, copied: None });
        match self.pending_command() {
            Some(cmd) => self.apply(cmd, run, index),
            None => {
                let before = run.current().map(|d| d.record.turns.len()).unwrap_or(0);
                run.cancel_remaining_turns()?;
                let sh = self.shuffle(index);
                if let Some(d) = run.current() {
                    // The cancelled turn itself was announced already; announce the rest.
                    for t in d.record.turns.iter().skip(before + 1) {
                        let pane = pane_of(t.side, &sh);
                        self.send(DebateEvent::TurnStarted { pane, round: t.round });
                        self.send(DebateEvent::TurnDone {
                            pane,
                            stop_reason: "cancelled".into(),
                            text: None,
                            copied: None,
                        });
                    }
                }
                Ok(Flow::Continue)
            }
        }
    }

    fn apply(&self, cmd: DebateCommand, run: &mut SessionRun, index: usize) -> Result<Flow> {
        match cmd {
            DebateCommand::Skip => {
                run.skip()?;
                self.send(DebateEvent::Skipped { index });
                Ok(Flow::Continue)
            }
            DebateCommand::Undo => self.undo(run),
            DebateCommand::Stop => Ok(Flow::Stop),
            _ => Ok(Flow::Continue),
        }
    }

    fn undo(&self, run: &mut SessionRun) -> Result<Flow> {
        match run.undo()? {
            Some(k) => self.send(DebateEvent::Undone { index: k }),
            None => self.send(DebateEvent::NothingToUndo),
        }
        Ok(Flow::Continue)
    }

    /// Waits for a person's verdict on debate `index`, then for the screen to move on.
    fn wait_verdict(&self, run: &mut SessionRun, index: usize) -> Result<Flow> {
        let sh = self.shuffle(index);
        loop {
            match self.rx.recv() {
                Ok(DebateCommand::Verdict { p_right, rationale, seconds }) => {
                    let pct_right = (p_right * 100.0).round() as u32;
                    let percent_strong = if sh.strong_left { 100 - pct_right.min(100) } else { pct_right };
                    let v = HumanVerdict {
                        judge_name: self.cfg.judge_name.clone(),
                        percent_strong,
                        rationale,
                        seconds,
                        blind: self.cfg.blind.then_some(sh),
                    };
                    let rec = &run.current().expect("a debate waits for the verdict").record;
                    match human_judgement(rec, &v) {
                        Ok(j) => {
                            run.verdict(j)?;
                            self.send_saved(run, index);
                            return self.wait_next(run);
                        }
                        Err(e) => self.send(DebateEvent::Refused(e.to_string())),
                    }
                }
                Ok(c @ (DebateCommand::Skip | DebateCommand::Undo)) => return self.apply(c, run, index),
                Ok(DebateCommand::Next) => {}
                Ok(DebateCommand::Stop) | Err(_) => return Ok(Flow::Stop),
            }
        }
    }

    /// After a saved verdict: waits for the screen to move on (next, skip) or take it back.
    fn wait_next(&self, run: &mut SessionRun) -> Result<Flow> {
        loop {
            match self.rx.recv() {
                Ok(DebateCommand::Next) | Ok(DebateCommand::Skip) => return Ok(Flow::Continue),
                Ok(DebateCommand::Undo) => return self.undo(run),
                Ok(DebateCommand::Stop) | Err(_) => return Ok(Flow::Stop),
                Ok(DebateCommand::Verdict { .. }) => {}
            }
        }
    }

    fn send_saved(&self, run: &SessionRun, index: usize) {
        let rec = &run.session().debates[index];
        let sh = self.shuffle(index);
        let reveal = match (self.cfg.reveal, rec.judgements.last()) {
            (true, Some(j)) => {
                let right_answer = if sh.strong_left { rec.weak_answer } else { rec.strong_answer };
                Some(Reveal {
                    right_correct: right_answer == rec.item.answer,
                    correct: j.correct,
                    d: j.d,
                    strong_pane: if sh.strong_left { Pane::Left } else { Pane::Right },
                })
            }
            _ => None,
        };
        self.send(DebateEvent::VerdictSaved { index, reveal, judged: run.judged() });
    }
}

/// Runs a debate session for the UI until it finishes and the UI stops it.
pub fn run(
    cfg: DebateConfig,
    pool: ModelPool,
    tx: &Sender,
    rx: &Receiver<DebateCommand>,
    cancel: &CancelToken,
) -> Result<()> {
    Worker { cfg, tx, rx, cancel, streaming: Cell::new(None) }.run(pool)
}
