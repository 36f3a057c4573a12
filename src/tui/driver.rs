//! The debate worker: drives the engine's [`Debate`] state machine turn by turn for the
//! UI, streaming tokens as messages, recording verdicts with the human-judge API (or a
//! model judge), and saving the session after every turn and verdict, so a verdict is
//! on disk before the next item appears.
//!
//! This thread owns every model of the session; models therefore take turns.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::debate::agents::{share, ModelDebater, ModelJudge, SharedModel};
use crate::debate::human::{blind_shuffle, human_judgement, HumanVerdict};
use crate::debate::prompts::Templates;
use crate::debate::protocol::Debate;
use crate::debate::runner::{self, RunPlan};
use crate::debate::{Debater, Judge};
use crate::runtime::hub::{self, Source};
use crate::runtime::{catalog, CancelToken, Model};
use crate::session::{
    Assignment, DebateRecord, DebateStatus, JudgeSetting, Protocol, Settings, Shuffle, Side, TurnOrder,
};

use super::event::Sender;
use super::worker::{
    DebateCommand, DebateConfig, DebateEvent, ItemView, JudgeChoice, ModelVerdict, Pane, Reveal, SideView, WorkerEvent,
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
        passage: if cfg.judge_sees_passage { rec.item.passage.clone() } else { None },
        left,
        right,
        blind: cfg.blind,
    }
}

struct Worker<'a> {
    cfg: DebateConfig,
    tx: &'a Sender,
    rx: &'a Receiver<DebateCommand>,
    cancel: &'a CancelToken,
}

enum Flow {
    Continue,
    Stop,
}

impl Worker<'_> {
    fn send(&self, e: DebateEvent) {
        self.tx.send(WorkerEvent::Debate(e));
    }

    fn stop_requested(&self) -> bool {
        matches!(self.rx.try_recv(), Ok(DebateCommand::Stop) | Err(std::sync::mpsc::TryRecvError::Disconnected))
    }

    /// Pulls (with progress) the catalog models that are not cached, then loads each
    /// distinct spec once.
    fn load_models(&self, specs: &[String]) -> Result<Option<HashMap<String, SharedModel>>> {
        for spec in specs {
            if let Some(entry) = catalog::CATALOG.iter().find(|e| e.name == spec) {
                if hub::cached(entry).is_none() {
                    self.send(DebateEvent::Preparing { what: format!("pulling {spec}"), done: 0, total: None });
                    hub::pull(spec, Source::Auto, &mut |p| {
                        self.send(DebateEvent::Preparing {
                            what: format!("pulling {} · {}", p.model, p.stage),
                            done: p.done,
                            total: p.total,
                        })
                    })
                    .with_context(|| format!("cannot pull {spec}"))?;
                }
            }
            if self.stop_requested() {
                return Ok(None);
            }
        }
        let mut loaded = HashMap::new();
        for (k, spec) in specs.iter().enumerate() {
            if loaded.contains_key(spec) {
                continue;
            }
            self.send(DebateEvent::Preparing {
                what: format!("loading {spec}"),
                done: k as u64,
                total: Some(specs.len() as u64),
            });
            let m = Model::load(spec, &mut |p| {
                self.send(DebateEvent::Preparing {
                    what: format!("pulling {} · {}", p.model, p.stage),
                    done: p.done,
                    total: p.total,
                })
            })?;
            loaded.insert(spec.clone(), share(m));
            if self.stop_requested() {
                return Ok(None);
            }
        }
        Ok(Some(loaded))
    }

    fn run(&self) -> Result<()> {
        let cfg = &self.cfg;
        let mut specs = vec![cfg.strong.model.clone(), cfg.weak.model.clone()];
        if let JudgeChoice::Model { spec } = &cfg.judge {
            specs.push(spec.clone());
        }
        let Some(models) = self.load_models(&specs)? else { return Ok(()) };
        let templates = Templates::load()?;
        let mut strong = ModelDebater::new(cfg.strong.clone(), models[&cfg.strong.model].clone(), templates.clone());
        let mut weak = ModelDebater::new(cfg.weak.clone(), models[&cfg.weak.model].clone(), templates.clone());
        let mut judge = match &cfg.judge {
            JudgeChoice::Model { spec } => Some(ModelJudge::new(models[spec].clone(), templates.clone())?),
            JudgeChoice::Human { .. } => None,
        };
        let settings = Settings {
            task: cfg.task.clone(),
            n: cfg.n,
            seed: cfg.seed,
            protocol: Protocol::Debate,
            assignment: Assignment::Assigned,
            rounds: cfg.rounds,
            turn_order: TurnOrder::Sequential,
            judge: match &cfg.judge {
                JudgeChoice::Model { spec } => JudgeSetting::Model { spec: spec.clone() },
                JudgeChoice::Human { .. } => JudgeSetting::Human,
            },
            judge_sees_passage: cfg.judge_sees_passage,
        };
        let plan = RunPlan {
            settings: settings.clone(),
            strong: cfg.strong.clone(),
            weak: cfg.weak.clone(),
            out: cfg.out.clone(),
            templates,
            command: Some(std::env::args().collect::<Vec<_>>().join(" ")),
        };
        let items = crate::tasks::load(&cfg.task, Some(cfg.n), cfg.seed)?;
        let (mut session, _) =
            runner::open_or_create(&plan, &items, &strong, &weak, judge.as_ref().map(|j| j as &dyn Judge))?;
        let path = cfg.out.clone();
        let total = items.len();
        // Verdicts given in this run, newest last (what `undo` takes back).
        let mut given: Vec<usize> = Vec::new();
        let mut skipped = 0usize;
        let mut i = 0usize;
        loop {
            if i >= total {
                let judged = session.debates.iter().filter(|d| d.status == DebateStatus::Judged).count();
                self.send(DebateEvent::Finished { path: path.clone(), judged, skipped });
                // Stay for an undo, or until the UI stops.
                match self.rx.recv() {
                    Ok(DebateCommand::Undo) => match self.undo(&mut session, &mut given)? {
                        Some(k) => {
                            i = k;
                            continue;
                        }
                        None => continue,
                    },
                    Ok(DebateCommand::Stop) | Err(_) => return Ok(()),
                    Ok(_) => continue,
                }
            }
            let mut debate = match session.debates.get(i) {
                Some(rec) => Debate::from_record(&settings, rec.clone()),
                None => {
                    let d = Debate::assigned(i, items[i].clone(), &settings, settings.seed);
                    session.debates.push(d.record.clone());
                    runner::save(&path, &mut session)?;
                    d
                }
            };
            if matches!(debate.record.status, DebateStatus::Judged | DebateStatus::Agreement) {
                i += 1;
                continue;
            }
            let sh = if cfg.blind { blind_shuffle(cfg.seed, i) } else { Shuffle { strong_left: true } };
            self.cancel.reset();
            self.send(DebateEvent::ItemStarted(item_view(&debate.record, total, cfg, &sh)));
            for t in &debate.record.turns {
                let pane = pane_of(t.side, &sh);
                self.send(DebateEvent::TurnStarted { pane, round: t.round });
                self.send(DebateEvent::Token { pane, piece: t.text.clone() });
                self.send(DebateEvent::TurnDone { pane, stop_reason: t.stop_reason.clone() });
            }
            // Generate the remaining turns, streaming.
            let mut interrupted: Option<DebateCommand> = None;
            while let Some(spec) = debate.next_turn() {
                let pane = pane_of(spec.side, &sh);
                if self.cancel.is_cancelled() {
                    interrupted = self.pending_command();
                    if interrupted.is_none() {
                        // Esc: the remaining turns are recorded empty, marked cancelled.
                        self.send(DebateEvent::TurnStarted { pane, round: spec.round });
                        self.send(DebateEvent::TurnDone { pane, stop_reason: "cancelled".into() });
                        let out = crate::debate::protocol::TurnOutput {
                            text: String::new(),
                            tokens: 0,
                            stop_reason: "cancelled".into(),
                            seconds: 0.0,
                        };
                        debate.record_turn(&spec, out)?;
                        continue;
                    }
                    break;
                }
                self.send(DebateEvent::TurnStarted { pane, round: spec.round });
                let d: &mut dyn Debater = if spec.side == Side::Strong { &mut strong } else { &mut weak };
                let ctx = debate.turn_context(&spec, d.profile().sees_passage);
                let out = d.argue(&ctx, self.cancel, &mut |piece| {
                    self.send(DebateEvent::Token { pane, piece: piece.to_string() })
                })?;
                if out.stop_reason == "cancelled" {
                    interrupted = self.pending_command();
                    if interrupted.is_some() {
                        // Skip/undo/stop: the partial turn is dropped, the item resumes later.
                        self.send(DebateEvent::TurnDone { pane, stop_reason: "cancelled".into() });
                        break;
                    }
                }
                self.send(DebateEvent::TurnDone { pane, stop_reason: out.stop_reason.clone() });
                debate.record_turn(&spec, out)?;
                session.debates[i] = debate.record.clone();
                runner::save(&path, &mut session)?;
            }
            session.debates[i] = debate.record.clone();
            runner::save(&path, &mut session)?;
            if let Some(cmd) = interrupted {
                match self.apply_interrupt(cmd, &mut session, &mut given, &mut skipped, &mut i)? {
                    Flow::Stop => return Ok(()),
                    Flow::Continue => continue,
                }
            }
            self.send(DebateEvent::Argued);
            if debate.record.status == DebateStatus::Agreement {
                i += 1;
                continue;
            }
            // The verdict.
            if let Some(j) = judge.as_mut() {
                let jd = j.judge(&debate.judge_view())?;
                let right_strong = !sh.strong_left;
                let to_right = |p_strong: f64| if right_strong { p_strong } else { 1.0 - p_strong };
                self.send(DebateEvent::ModelJudged(ModelVerdict {
                    judge: jd.name.clone(),
                    p_right: to_right(jd.p_strong),
                    orders: jd.orders.iter().map(|o| (o.strong_first == right_strong, to_right(o.p_strong))).collect(),
                }));
                debate.record_judgement(jd)?;
                session.debates[i] = debate.record.clone();
                runner::save(&path, &mut session)?;
                given.push(i);
                self.send_saved(&debate.record, &sh, &session);
            } else {
                match self.wait_verdict(&mut debate, &sh)? {
                    None => return Ok(()),
                    Some(Ok(())) => {
                        session.debates[i] = debate.record.clone();
                        runner::save(&path, &mut session)?;
                        given.push(i);
                        self.send_saved(&debate.record, &sh, &session);
                    }
                    Some(Err(cmd)) => {
                        match self.apply_interrupt(cmd, &mut session, &mut given, &mut skipped, &mut i)? {
                            Flow::Stop => return Ok(()),
                            Flow::Continue => continue,
                        }
                    }
                }
            }
            // After a saved verdict: wait for the UI to move on (or undo).
            loop {
                match self.rx.recv() {
                    Ok(DebateCommand::Next) | Ok(DebateCommand::Skip) => {
                        i += 1;
                        break;
                    }
                    Ok(DebateCommand::Undo) => {
                        if let Some(k) = self.undo(&mut session, &mut given)? {
                            i = k;
                            break;
                        }
                    }
                    Ok(DebateCommand::Stop) | Err(_) => return Ok(()),
                    Ok(DebateCommand::Verdict { .. }) => {}
                }
            }
        }
    }

    /// A command that arrived with a cancellation (skip, undo, stop), if any.
    fn pending_command(&self) -> Option<DebateCommand> {
        match self.rx.recv_timeout(Duration::from_millis(150)) {
            Ok(c @ (DebateCommand::Skip | DebateCommand::Undo | DebateCommand::Stop)) => Some(c),
            Ok(_) | Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(DebateCommand::Stop),
        }
    }

    fn apply_interrupt(
        &self,
        cmd: DebateCommand,
        session: &mut crate::session::Session,
        given: &mut Vec<usize>,
        skipped: &mut usize,
        i: &mut usize,
    ) -> Result<Flow> {
        match cmd {
            DebateCommand::Skip => {
                self.send(DebateEvent::Skipped { index: *i });
                *skipped += 1;
                *i += 1;
            }
            DebateCommand::Undo => {
                if let Some(k) = self.undo(session, given)? {
                    *i = k;
                }
            }
            DebateCommand::Stop => return Ok(Flow::Stop),
            _ => {}
        }
        Ok(Flow::Continue)
    }

    /// Removes the newest verdict of this run and saves; returns its item's index.
    fn undo(&self, session: &mut crate::session::Session, given: &mut Vec<usize>) -> Result<Option<usize>> {
        let Some(k) = given.pop() else {
            self.send(DebateEvent::NothingToUndo);
            return Ok(None);
        };
        let rec = &mut session.debates[k];
        rec.judgements.pop();
        if rec.judgements.is_empty() {
            rec.status = DebateStatus::Argued;
        }
        runner::save(&self.cfg.out, session)?;
        self.send(DebateEvent::Undone { index: k });
        Ok(Some(k))
    }

    /// Waits for a person's verdict. `Some(Ok)` when recorded, `Some(Err(cmd))` for a
    /// skip or undo, `None` when the UI stops.
    fn wait_verdict(
        &self,
        debate: &mut Debate,
        sh: &Shuffle,
    ) -> Result<Option<std::result::Result<(), DebateCommand>>> {
        let JudgeChoice::Human { name } = &self.cfg.judge else { return Ok(Some(Ok(()))) };
        loop {
            match self.rx.recv() {
                Ok(DebateCommand::Verdict { p_right, rationale, seconds }) => {
                    let pct_right = (p_right * 100.0).round() as u32;
                    let percent_strong = if sh.strong_left { 100 - pct_right.min(100) } else { pct_right };
                    let v = HumanVerdict {
                        judge_name: name.clone(),
                        percent_strong,
                        rationale,
                        seconds,
                        blind: self.cfg.blind.then_some(*sh),
                    };
                    match human_judgement(&debate.record, &v) {
                        Ok(j) => {
                            debate.record_judgement(j)?;
                            return Ok(Some(Ok(())));
                        }
                        Err(e) => self.send(DebateEvent::Refused(e.to_string())),
                    }
                }
                Ok(c @ (DebateCommand::Skip | DebateCommand::Undo)) => return Ok(Some(Err(c))),
                Ok(DebateCommand::Next) => {}
                Ok(DebateCommand::Stop) | Err(_) => return Ok(None),
            }
        }
    }

    fn send_saved(&self, rec: &DebateRecord, sh: &Shuffle, session: &crate::session::Session) {
        let judged = session.debates.iter().filter(|d| d.status == DebateStatus::Judged).count();
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
        self.send(DebateEvent::VerdictSaved { index: rec.index, reveal, judged });
    }
}

/// Runs a debate session for the UI until it finishes and the UI stops it.
pub fn run(cfg: DebateConfig, tx: &Sender, rx: &Receiver<DebateCommand>, cancel: &CancelToken) -> Result<()> {
    Worker { cfg, tx, rx, cancel }.run()
}
