//! The session loop, one step at a time ([`SessionRun`]), and the headless run built on it
//! ([`run_session`]), with resume.
//!
//! The session file is written atomically after the session is created, after every
//! turn and after every judgement, so a crash loses at most the turn being generated.
//! Running again with the same `--out` and the same settings resumes: judged debates
//! (and agreements) are skipped, written turns are kept, and nothing saved is
//! overwritten. A file with different settings, or one that cannot be read, is an
//! error and is left untouched.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::agents::{Debater, Judge};
use super::metrics;
use super::prompts::Templates;
use super::protocol::{Debate, TurnOutput, TurnSpec};
use crate::runtime::CancelToken;
use crate::session::{
    now_rfc3339, store, Assignment, DebateRecord, DebateStatus, DebaterProfile, JudgeSetting, Judgement, Protocol,
    Provenance, Session, Settings, Side, Turn,
};
use crate::tasks::{self, TaskItem};

/// What to run and where to save it.
#[derive(Debug, Clone)]
pub struct RunPlan {
    pub settings: Settings,
    pub strong: DebaterProfile,
    pub weak: DebaterProfile,
    pub out: PathBuf,
    /// Templates for a new session (a resumed one keeps its recorded templates).
    pub templates: Templates,
    pub command: Option<String>,
}

/// Progress of a run, for streaming front ends.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// An existing session file was opened; `done` debates need no more work.
    Resumed {
        path: &'a Path,
        done: usize,
        total: usize,
    },
    DebateStart {
        index: usize,
        total: usize,
        record: &'a DebateRecord,
    },
    /// Skipped because already judged (or agreed, or waiting for a human).
    Skipped {
        index: usize,
        status: DebateStatus,
    },
    TurnStart {
        index: usize,
        spec: &'a TurnSpec,
    },
    /// A streamed piece of the current turn.
    Text(&'a str),
    TurnEnd {
        index: usize,
        turn: &'a Turn,
    },
    Agreement {
        index: usize,
    },
    Judged {
        index: usize,
        judgement: &'a Judgement,
    },
}

/// A stable file name for a run's settings, so rerunning the same command resumes:
/// `<task>-<strong>-vs-<weak>-<protocol>-r<rounds>-n<n>-s<seed>.json`.
pub fn default_file_name(settings: &Settings, strong: &DebaterProfile, weak: &DebaterProfile) -> String {
    let task = tasks::TaskSpec::parse(&settings.task).map(|s| s.short_name()).unwrap_or_else(|_| "tasks".into());
    let raw = format!(
        "{task}-{}-vs-{}-{}-r{}-n{}-s{}",
        strong.name,
        weak.name,
        serde_json::to_value(settings.protocol).unwrap().as_str().unwrap_or("debate"),
        settings.rounds,
        settings.n,
        settings.seed
    );
    let clean: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' { c } else { '_' })
        .collect();
    format!("{clean}.json")
}

/// Re-computes the aggregates and writes the session atomically.
pub fn save(path: &Path, s: &mut Session) -> Result<()> {
    s.updated = now_rfc3339();
    s.scores = Some(metrics::session_scores(s, None));
    store::save(path, s)?;
    Ok(())
}

fn describe_mismatch(saved: &Session, plan: &RunPlan) -> Vec<String> {
    let mut diffs = Vec::new();
    let a = serde_json::to_value(&saved.settings).unwrap();
    let b = serde_json::to_value(&plan.settings).unwrap();
    for (k, v) in a.as_object().unwrap() {
        if b.get(k) != Some(v) {
            diffs.push(format!("{k}: saved {v}, requested {}", b.get(k).map(|x| x.to_string()).unwrap_or_default()));
        }
    }
    for (role, saved_p, want) in
        [("strong", &saved.provenance.strong, &plan.strong), ("weak", &saved.provenance.weak, &plan.weak)]
    {
        // The copy block acts only where a debater sees an opponent's turns: without
        // them (blind, consultancy, oracle) it changes nothing, so it does not stop a resume.
        let mut want = want.clone();
        if plan.settings.protocol != Protocol::Debate {
            want.block_copies = saved_p.block_copies;
        }
        let want = &want;
        if saved_p != want {
            diffs.push(format!(
                "{role} profile: saved {}, requested {}",
                serde_json::to_string(saved_p).unwrap(),
                serde_json::to_string(want).unwrap()
            ));
        }
    }
    diffs
}

/// Opens the session at `plan.out` for resuming, or creates it. Errors (and leaves the
/// file untouched) when it cannot be read or was made with other settings.
pub fn open_or_create(
    plan: &RunPlan,
    items: &[TaskItem],
    strong: &dyn Debater,
    weak: &dyn Debater,
    judge: Option<&dyn Judge>,
) -> Result<(Session, bool)> {
    if plan.out.exists() {
        let s = store::load(&plan.out)?;
        let diffs = describe_mismatch(&s, plan);
        if !diffs.is_empty() {
            bail!(
                "session file {} exists with different settings, so it was not resumed and was left untouched ({}). Choose another --out, or rerun with the saved settings.",
                plan.out.display(),
                diffs.join("; ")
            );
        }
        for d in &s.debates {
            match items.get(d.index) {
                Some(it) if it.id == d.item.id => {}
                _ => bail!(
                    "session file {}: debate {} is about item {:?}, which the task {} no longer gives at that position; left untouched",
                    plan.out.display(),
                    d.index,
                    d.item.id,
                    plan.settings.task
                ),
            }
        }
        return Ok((s, true));
    }
    let mut models = std::collections::BTreeMap::new();
    if let Some(m) = strong.model_record() {
        models.insert("strong".to_string(), m);
    }
    if let Some(m) = weak.model_record() {
        models.insert("weak".to_string(), m);
    }
    if let Some(m) = judge.and_then(|j| j.model_record()) {
        models.insert("judge".to_string(), m);
    }
    let prov = Provenance {
        tool: "w2sd".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        strong: plan.strong.clone(),
        weak: plan.weak.clone(),
        models,
        prompts: plan.templates.map.clone(),
        seed: plan.settings.seed,
        command: plan.command.clone(),
    };
    let stem = plan.out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "session".into());
    let mut s = Session::new(stem, prov, plan.settings.clone());
    save(&plan.out, &mut s).with_context(|| "cannot create the session file")?;
    Ok((s, false))
}

/// Where a [`SessionRun`] stands after one call of [`SessionRun::next`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Debate `index` begins (new or resumed): its record so far is [`SessionRun::current`].
    Started { index: usize },
    /// One turn of debate `index` was written and saved.
    Turn { index: usize },
    /// The turn being written was cancelled through the [`CancelToken`]; nothing of it was
    /// recorded. Call [`SessionRun::cancel_remaining_turns`] (record the debate's remaining turns
    /// as cancelled), [`SessionRun::skip`], [`SessionRun::undo`], or stop; or `next` to retry.
    Cancelled { index: usize },
    /// Every turn of debate `index` is written and a person's verdict is wanted: call
    /// [`SessionRun::verdict`], [`SessionRun::skip`] or [`SessionRun::undo`].
    NeedsVerdict { index: usize },
    /// The model judge's verdict on debate `index` was recorded and saved.
    Judged { index: usize },
    /// Both sides prefer the same answer (self-assignment): nothing to debate.
    Agreement { index: usize },
    /// Debate `index` was left for later (already judged, or argued and waiting for a person in
    /// another run).
    Passed { index: usize },
    /// Every debate is done.
    Done,
}

/// Who gives the verdicts of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdicts {
    /// The judge passed to [`SessionRun::next`] (a model).
    Judge,
    /// A person, now: argued debates stop at [`Step::NeedsVerdict`].
    Person,
    /// Nobody in this run: argued debates are saved for later.
    Later,
}

/// A session run one step at a time: the one session loop behind `w2sd debate run`, `w2sd judge`
/// and the Debate screen.
///
/// The session file is written atomically after the session is created, after every turn, after
/// every verdict, skip-free undo and cancellation, so a crash loses at most the turn being
/// generated. Opening an existing file with the same settings resumes it.
pub struct SessionRun {
    plan: RunPlan,
    items: Vec<TaskItem>,
    session: Session,
    resumed: bool,
    verdicts: Verdicts,
    /// The debate in progress (index = `cursor`), once started.
    current: Option<Debate>,
    cursor: usize,
    /// Verdicts given in this run, newest last (what `undo` takes back).
    given: Vec<usize>,
    skipped: usize,
}

impl SessionRun {
    /// Opens (resumes) or creates the session of `plan`. The task is loaded here, so a bad task
    /// fails before any turn. `judge` is the model judge when the settings name one.
    pub fn open(
        plan: RunPlan,
        strong: &dyn Debater,
        weak: &dyn Debater,
        judge: Option<&dyn Judge>,
        verdicts: Verdicts,
    ) -> Result<SessionRun> {
        if verdicts == Verdicts::Judge && judge.is_none() {
            bail!("the settings name a model judge but none was given");
        }
        let items = tasks::load(&plan.settings.task, Some(plan.settings.n), plan.settings.seed)?;
        let (session, resumed) = open_or_create(&plan, &items, strong, weak, judge)?;
        Ok(SessionRun {
            plan,
            items,
            session,
            resumed,
            verdicts,
            current: None,
            cursor: 0,
            given: Vec::new(),
            skipped: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.plan.out
    }
    pub fn settings(&self) -> &Settings {
        &self.plan.settings
    }
    pub fn session(&self) -> &Session {
        &self.session
    }
    pub fn into_session(self) -> Session {
        self.session
    }
    pub fn total(&self) -> usize {
        self.items.len()
    }
    /// Whether an existing file was resumed, and how many of its debates need no more work.
    pub fn resumed(&self) -> Option<usize> {
        self.resumed.then(|| {
            self.session
                .debates
                .iter()
                .filter(|d| matches!(d.status, DebateStatus::Judged | DebateStatus::Agreement))
                .count()
        })
    }
    /// The debate in progress.
    pub fn current(&self) -> Option<&Debate> {
        self.current.as_ref()
    }
    /// Debates skipped in this run.
    pub fn skipped(&self) -> usize {
        self.skipped
    }
    /// Debates judged in the session.
    pub fn judged(&self) -> usize {
        self.session.debates.iter().filter(|d| d.status == DebateStatus::Judged).count()
    }

    fn store_current(&mut self) -> Result<()> {
        if let Some(d) = &self.current {
            let i = d.record.index;
            self.session.debates[i] = d.record.clone();
        }
        save(&self.plan.out, &mut self.session).with_context(|| format!("cannot save {}", self.plan.out.display()))
    }

    fn advance(&mut self) {
        self.current = None;
        self.cursor += 1;
    }

    /// Does the next piece of work and says what it was. Turns stream through `on_event`
    /// ([`RunEvent::TurnStart`], [`RunEvent::Text`], [`RunEvent::TurnEnd`]), as do the other
    /// events of the step.
    pub fn next(
        &mut self,
        strong: &mut dyn Debater,
        weak: &mut dyn Debater,
        judge: Option<&mut (dyn Judge + '_)>,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(RunEvent),
    ) -> Result<Step> {
        let settings = self.plan.settings.clone();
        let Some(mut debate) = self.current.take() else {
            let i = self.cursor;
            if i >= self.items.len() {
                return Ok(Step::Done);
            }
            let debate = match self.session.debates.get(i) {
                Some(rec) => Debate::from_record(&settings, rec.clone()),
                None => {
                    let d = new_debate(i, self.items[i].clone(), &settings, strong, weak)?;
                    self.session.debates.push(d.record.clone());
                    save(&self.plan.out, &mut self.session)?;
                    d
                }
            };
            let status = debate.record.status;
            let waits_for_person = status == DebateStatus::Argued && self.verdicts == Verdicts::Later;
            if matches!(status, DebateStatus::Judged | DebateStatus::Agreement) || waits_for_person {
                on_event(RunEvent::Skipped { index: i, status });
                self.advance();
                return Ok(Step::Passed { index: i });
            }
            on_event(RunEvent::DebateStart { index: i, total: self.items.len(), record: &debate.record });
            self.current = Some(debate);
            return Ok(Step::Started { index: i });
        };
        let i = debate.record.index;
        if let Some(spec) = debate.next_turn() {
            on_event(RunEvent::TurnStart { index: i, spec: &spec });
            let side: &mut dyn Debater = match spec.side {
                Side::Strong => strong,
                Side::Weak => weak,
            };
            let ctx = debate.turn_context(&spec, side.profile().sees_passage);
            let out = side.argue(&ctx, cancel, &mut |piece| on_event(RunEvent::Text(piece)))?;
            if out.stop_reason == "cancelled" {
                self.current = Some(debate);
                return Ok(Step::Cancelled { index: i });
            }
            debate.record_turn(&spec, out)?;
            self.current = Some(debate);
            self.store_current()?;
            let turn = self.session.debates[i].turns.last().expect("a turn was just recorded");
            on_event(RunEvent::TurnEnd { index: i, turn });
            return Ok(Step::Turn { index: i });
        }
        if debate.record.status == DebateStatus::Agreement {
            on_event(RunEvent::Agreement { index: i });
            self.current = Some(debate);
            self.store_current()?;
            self.advance();
            return Ok(Step::Agreement { index: i });
        }
        match (self.verdicts, judge) {
            (Verdicts::Judge, Some(j)) if debate.record.status == DebateStatus::Argued => {
                let v = j.judge(&debate.judge_view())?;
                debate.record_judgement(v)?;
                self.current = Some(debate);
                self.store_current()?;
                self.given.push(i);
                let jd = self.session.debates[i].judgements.last().expect("a verdict was just recorded");
                on_event(RunEvent::Judged { index: i, judgement: jd });
                self.current = None;
                self.cursor = i + 1;
                Ok(Step::Judged { index: i })
            }
            (Verdicts::Person, _) if debate.record.status == DebateStatus::Argued => {
                self.current = Some(debate);
                Ok(Step::NeedsVerdict { index: i })
            }
            _ => {
                self.current = Some(debate);
                self.store_current()?;
                self.advance();
                Ok(Step::Passed { index: i })
            }
        }
    }

    /// Records a verdict on the debate waiting at [`Step::NeedsVerdict`], saves, and moves on.
    pub fn verdict(&mut self, judgement: Judgement) -> Result<&Judgement> {
        let Some(d) = self.current.as_mut().filter(|d| d.ready_for_judgement()) else {
            bail!("no debate is waiting for a verdict");
        };
        d.record_judgement(judgement)?;
        let i = d.record.index;
        self.store_current()?;
        self.given.push(i);
        self.advance();
        Ok(self.session.debates[i].judgements.last().expect("a verdict was just recorded"))
    }

    /// Leaves the current debate as it is (saved, unjudged) and moves to the next one.
    pub fn skip(&mut self) -> Result<Option<usize>> {
        let Some(d) = &self.current else { return Ok(None) };
        let i = d.record.index;
        self.store_current()?;
        self.skipped += 1;
        self.advance();
        Ok(Some(i))
    }

    /// Records the current debate's remaining turns as cancelled (empty, `stop_reason =
    /// "cancelled"`), as when a person stops generation with Esc, and saves.
    pub fn cancel_remaining_turns(&mut self) -> Result<()> {
        let Some(d) = self.current.as_mut() else { return Ok(()) };
        while let Some(spec) = d.next_turn() {
            let out = TurnOutput { text: String::new(), tokens: 0, stop_reason: "cancelled".into(), seconds: 0.0 };
            d.record_turn(&spec, out)?;
        }
        self.store_current()
    }

    /// Adds another judgement to debate `index` (already argued), e.g. the same judge on the
    /// transcript cut after an earlier round, and saves.
    pub fn add_judgement(&mut self, index: usize, judgement: Judgement) -> Result<()> {
        let rec = self.session.debates.get(index).ok_or_else(|| anyhow::anyhow!("no debate {index} in the session"))?;
        let mut d = Debate::from_record(&self.plan.settings, rec.clone());
        d.record_judgement(judgement)?;
        self.session.debates[index] = d.record;
        save(&self.plan.out, &mut self.session)
    }

    /// Takes back the newest verdict given in this run, saves, and goes back to its debate (which
    /// then waits for a verdict again). Returns its index, or `None` when there is none.
    pub fn undo(&mut self) -> Result<Option<usize>> {
        let Some(k) = self.given.pop() else { return Ok(None) };
        if self.current.is_some() {
            self.store_current()?;
        }
        let rec = &mut self.session.debates[k];
        rec.judgements.pop();
        if rec.judgements.is_empty() {
            rec.status = DebateStatus::Argued;
        }
        save(&self.plan.out, &mut self.session)?;
        self.current = None;
        self.cursor = k;
        Ok(Some(k))
    }
}

/// Debate `i` on `item`, new: answers assigned by the seed, or each side's own choice.
fn new_debate(
    i: usize,
    item: TaskItem,
    settings: &Settings,
    strong: &mut dyn Debater,
    weak: &mut dyn Debater,
) -> Result<Debate> {
    Ok(match settings.assignment {
        Assignment::Assigned => Debate::assigned(i, item, settings, settings.seed),
        Assignment::SelfChosen => {
            let s_lp = strong.choice_logprobs(&item, None)?;
            let w_lp = weak.choice_logprobs(&item, None)?;
            Debate::self_chosen(i, item, settings, s_lp, w_lp)
        }
    })
}

/// The debaters and judge of one worker of [`SessionRun::run_parallel`].
pub struct Agents {
    pub strong: Box<dyn Debater + Send>,
    pub weak: Box<dyn Debater + Send>,
    pub judge: Option<Box<dyn Judge + Send>>,
}

/// An event a debate owes the caller of [`SessionRun::run_parallel`], reported once the debate
/// is in the file.
enum Owed {
    Start,
    /// The turn at this position of the record's turns.
    Turn(usize),
    Agreement,
    /// The judgement at this position of the record's judgements.
    Judged(usize),
}

/// What a worker of [`SessionRun::run_parallel`] reports: the debate's record after each change.
enum WorkerMsg {
    Started(DebateRecord),
    Turn(DebateRecord),
    Agreement(DebateRecord),
    Judged(DebateRecord),
    Cancelled(usize),
    Failed(usize, anyhow::Error),
}

/// One whole debate, turn by turn, reporting the record after each change.
/// A debate to argue: its index, its item and its saved record (when resumed).
type Work = (usize, TaskItem, Option<DebateRecord>);

fn argue_one(
    (i, item, saved): Work,
    settings: &Settings,
    a: &mut Agents,
    verdicts: Verdicts,
    cancel: &CancelToken,
    tx: &std::sync::mpsc::Sender<WorkerMsg>,
) -> Result<()> {
    let mut debate = match saved {
        Some(rec) => Debate::from_record(settings, rec),
        None => new_debate(i, item, settings, a.strong.as_mut(), a.weak.as_mut())?,
    };
    let _ = tx.send(WorkerMsg::Started(debate.record.clone()));
    while let Some(spec) = debate.next_turn() {
        let side: &mut dyn Debater = match spec.side {
            Side::Strong => a.strong.as_mut(),
            Side::Weak => a.weak.as_mut(),
        };
        let ctx = debate.turn_context(&spec, side.profile().sees_passage);
        let out = side.argue(&ctx, cancel, &mut |_| {})?;
        if out.stop_reason == "cancelled" {
            let _ = tx.send(WorkerMsg::Cancelled(i));
            return Ok(());
        }
        debate.record_turn(&spec, out)?;
        let _ = tx.send(WorkerMsg::Turn(debate.record.clone()));
    }
    if debate.record.status == DebateStatus::Agreement {
        let _ = tx.send(WorkerMsg::Agreement(debate.record));
        return Ok(());
    }
    if let (Verdicts::Judge, Some(j)) = (verdicts, a.judge.as_mut()) {
        if debate.record.status == DebateStatus::Argued {
            let v = j.judge(&debate.judge_view())?;
            debate.record_judgement(v)?;
            let _ = tx.send(WorkerMsg::Judged(debate.record));
        }
    }
    Ok(())
}

impl SessionRun {
    /// Runs every remaining debate with one worker thread per entry of `agents`, each taking the
    /// next debate when it is free (so `agents.len()` debates are argued at once, e.g. against
    /// one inference server that batches requests). A person cannot judge here: the verdicts
    /// are the judges' of `agents`, or left for later.
    ///
    /// Only this thread writes the session: after every turn and verdict a worker reports, in
    /// the order they arrive, and always with the debates in index order (a debate is added to
    /// the file once every debate before it is). Turns do not stream (`RunEvent::Text` is not
    /// sent). The first failure stops every worker at its next turn; everything done before is
    /// saved, and the error names the debate.
    pub fn run_parallel(
        &mut self,
        agents: &mut [Agents],
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(RunEvent),
    ) -> Result<()> {
        use std::collections::{BTreeMap, VecDeque};
        use std::sync::{mpsc, Mutex};
        if self.verdicts == Verdicts::Person {
            bail!("a person judges one debate at a time; run_parallel needs model verdicts or none");
        }
        if agents.is_empty() {
            bail!("run_parallel needs at least one set of agents");
        }
        let mut work = VecDeque::new();
        for (i, item) in self.items.iter().enumerate() {
            let saved = self.session.debates.get(i).cloned();
            let status = saved.as_ref().map(|r| r.status);
            let later = status == Some(DebateStatus::Argued) && self.verdicts == Verdicts::Later;
            if matches!(status, Some(DebateStatus::Judged | DebateStatus::Agreement)) || later {
                on_event(RunEvent::Skipped { index: i, status: status.expect("a saved debate") });
                continue;
            }
            work.push_back((i, item.clone(), saved));
        }
        let total = self.items.len();
        let work = Mutex::new(work);
        let stop = CancelToken::new();
        let settings = self.plan.settings.clone();
        let verdicts = self.verdicts;
        let (tx, rx) = mpsc::channel::<WorkerMsg>();
        let mut first_error: Option<anyhow::Error> = None;
        let mut cancelled = None;
        std::thread::scope(|scope| -> Result<()> {
            for a in agents.iter_mut() {
                let (tx, work, stop, settings) = (tx.clone(), &work, &stop, &settings);
                scope.spawn(move || loop {
                    if stop.is_cancelled() || cancel.is_cancelled() {
                        return;
                    }
                    let Some((i, item, saved)) = work.lock().ok().and_then(|mut w| w.pop_front()) else { return };
                    // A failure cancels the other workers' generations too (`stop` is passed down).
                    let both = CancelToken::new();
                    let watch = (stop.clone(), cancel.clone(), both.clone());
                    let r = std::thread::scope(|inner| {
                        let done = CancelToken::new();
                        let d2 = done.clone();
                        inner.spawn(move || {
                            while !d2.is_cancelled() {
                                if watch.0.is_cancelled() || watch.1.is_cancelled() {
                                    watch.2.cancel();
                                    return;
                                }
                                std::thread::sleep(std::time::Duration::from_millis(50));
                            }
                        });
                        let r = argue_one((i, item, saved), settings, a, verdicts, &both, &tx);
                        done.cancel();
                        r
                    });
                    if let Err(e) = r {
                        stop.cancel();
                        let _ = tx.send(WorkerMsg::Failed(i, e));
                        return;
                    }
                });
            }
            drop(tx);
            // The one writer: apply each report in index order and save. A debate that
            // finishes before an earlier one waits (with the events it owes) until every
            // debate before it is in the file; then it is saved and its events are reported.
            let mut waiting: BTreeMap<usize, (DebateRecord, Vec<Owed>)> = BTreeMap::new();
            for msg in rx {
                let rec = match msg {
                    WorkerMsg::Failed(i, e) => {
                        if first_error.is_none() {
                            first_error = Some(e.context(format!("debate {}", i + 1)));
                        }
                        continue;
                    }
                    WorkerMsg::Cancelled(i) => {
                        cancelled.get_or_insert(i);
                        stop.cancel();
                        continue;
                    }
                    WorkerMsg::Started(r) => (r, Owed::Start),
                    WorkerMsg::Turn(r) => {
                        let k = r.turns.len().saturating_sub(1);
                        (r, Owed::Turn(k))
                    }
                    WorkerMsg::Agreement(r) => (r, Owed::Agreement),
                    WorkerMsg::Judged(r) => {
                        let k = r.judgements.len().saturating_sub(1);
                        (r, Owed::Judged(k))
                    }
                };
                let (rec, owed) = rec;
                let i = rec.index;
                let mut report: Vec<(usize, Vec<Owed>)> = Vec::new();
                if i < self.session.debates.len() {
                    self.session.debates[i] = rec;
                    report.push((i, vec![owed]));
                } else {
                    let w = waiting.entry(i).or_insert_with(|| (rec.clone(), Vec::new()));
                    w.0 = rec;
                    w.1.push(owed);
                    while let Some((r, o)) = waiting.remove(&self.session.debates.len()) {
                        report.push((self.session.debates.len(), o));
                        self.session.debates.push(r);
                    }
                    if report.is_empty() {
                        continue; // saved once the debates before it are in the file
                    }
                }
                save(&self.plan.out, &mut self.session)
                    .with_context(|| format!("cannot save {}", self.plan.out.display()))?;
                for (i, owed) in report {
                    let rec = &self.session.debates[i];
                    for o in owed {
                        match o {
                            Owed::Start => on_event(RunEvent::DebateStart { index: i, total, record: rec }),
                            Owed::Turn(k) => {
                                if let Some(t) = rec.turns.get(k) {
                                    on_event(RunEvent::TurnEnd { index: i, turn: t })
                                }
                            }
                            Owed::Agreement => on_event(RunEvent::Agreement { index: i }),
                            Owed::Judged(k) => {
                                if let Some(j) = rec.judgements.get(k) {
                                    on_event(RunEvent::Judged { index: i, judgement: j })
                                }
                            }
                        }
                    }
                }
            }
            Ok(())
        })?;
        self.cursor = self.items.len();
        if let Some(e) = first_error {
            return Err(e.context(format!(
                "the run stopped; every turn and verdict before the failure is saved in {} (rerun to resume)",
                self.plan.out.display()
            )));
        }
        if let Some(i) = cancelled.filter(|_| cancel.is_cancelled()) {
            bail!("cancelled during debate {}; everything before the cancelled turn is saved", i + 1);
        }
        Ok(())
    }
}

/// Runs (or resumes) every debate of a plan, headless. `judge` must be given when the settings
/// name a model judge; otherwise argued debates are saved for a person to judge later. Returns
/// the saved session. A cancellation stops the run with everything before the cancelled turn
/// saved.
pub fn run_session(
    plan: &RunPlan,
    strong: &mut dyn Debater,
    weak: &mut dyn Debater,
    mut judge: Option<&mut dyn Judge>,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(RunEvent),
) -> Result<Session> {
    let verdicts = match (&plan.settings.judge, judge.is_some()) {
        (JudgeSetting::Model { .. }, _) => Verdicts::Judge,
        (_, true) => Verdicts::Judge,
        _ => Verdicts::Later,
    };
    let mut run = SessionRun::open(plan.clone(), &*strong, &*weak, judge.as_deref(), verdicts)?;
    if let Some(done) = run.resumed() {
        on_event(RunEvent::Resumed { path: &plan.out, done, total: run.total() });
    }
    loop {
        if cancel.is_cancelled() {
            bail!("cancelled; everything before the cancelled turn is saved in {}", plan.out.display());
        }
        match run.next(&mut *strong, &mut *weak, judge.as_deref_mut(), cancel, on_event)? {
            Step::Done => break,
            Step::Cancelled { index } => {
                bail!("cancelled during debate {}; everything before the cancelled turn is saved", index + 1)
            }
            _ => {}
        }
    }
    let mut s = run.into_session();
    save(&plan.out, &mut s)?;
    Ok(s)
}

/// Adds the verdicts of another judge to every argued debate of a saved session that
/// this judge has not judged yet (saving after each), e.g. to measure agreement
/// between judges. Returns the number of new judgements.
pub fn judge_saved(path: &Path, judge: &mut dyn Judge, on_event: &mut dyn FnMut(RunEvent)) -> Result<usize> {
    let mut session = store::load(path)?;
    if let Some(m) = judge.model_record() {
        let role = if session.provenance.models.get("judge").is_some_and(|r| r.spec != m.spec) {
            format!("judge:{}", m.spec)
        } else {
            "judge".into()
        };
        session.provenance.models.entry(role).or_insert(m);
    }
    let mut added = 0;
    let settings = session.settings.clone();
    for i in 0..session.debates.len() {
        let mut d = Debate::from_record(&settings, session.debates[i].clone());
        if !d.ready_for_judgement() || d.record.judgements.iter().any(|j| j.name == judge.name()) {
            on_event(RunEvent::Skipped { index: i, status: d.record.status });
            continue;
        }
        let v = judge.judge(&d.judge_view())?;
        d.record_judgement(v)?;
        session.debates[i] = d.record;
        save(path, &mut session)?;
        added += 1;
        on_event(RunEvent::Judged { index: i, judgement: session.debates[i].judgements.last().unwrap() });
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debate::agents::{share, ModelDebater, ModelJudge};
    use crate::debate::human::{human_judgement, HumanVerdict};
    use crate::runtime::scripted::{choice_scorer, ScriptedModel};
    use crate::runtime::Sampling;
    use crate::session::{Protocol, TurnOrder};

    fn profile(name: &str) -> DebaterProfile {
        DebaterProfile {
            name: name.into(),
            model: name.into(),
            sees_passage: true,
            max_tokens: 40,
            sampling: Sampling::default(),
            template: "debater".into(),
            block_copies: false,
        }
    }

    fn plan(dir: &Path, protocol: Protocol, assignment: Assignment, judge: JudgeSetting) -> RunPlan {
        let settings = Settings {
            task: "builtin:capitals".into(),
            n: 3,
            seed: 7,
            protocol,
            assignment,
            rounds: if protocol == Protocol::Blind { 0 } else { 1 },
            turn_order: TurnOrder::Sequential,
            judge,
            judge_sees_passage: false,
        };
        RunPlan {
            settings,
            strong: profile("strong"),
            weak: profile("weak"),
            out: dir.join("s.json"),
            templates: Templates::load().unwrap(),
            command: None,
        }
    }

    /// Scripted debaters that prefer different answers (by the answers' text, so rotating the
    /// choices does not change the preference).
    fn debaters(t: &Templates) -> (ModelDebater, ModelDebater) {
        let s = ScriptedModel::new("strong", "My answer is right because the passage says so.")
            .with_scorer(choice_scorer(false));
        let w = ScriptedModel::new("weak", "The other answer misreads the question entirely.")
            .with_scorer(choice_scorer(true));
        (
            ModelDebater::new(profile("strong"), share(s), t.clone()),
            ModelDebater::new(profile("weak"), share(w), t.clone()),
        )
    }

    fn person(run: &SessionRun) -> Judgement {
        let v =
            HumanVerdict { judge_name: "ada".into(), percent_strong: 80, rationale: None, seconds: 1.0, blind: None };
        human_judgement(&run.current().unwrap().record, &v).unwrap()
    }

    #[test]
    fn a_person_judges_step_by_step_with_undo_and_skip() {
        let d = tempfile::tempdir().unwrap();
        let p = plan(d.path(), Protocol::Debate, Assignment::Assigned, JudgeSetting::Human);
        let (mut s, mut w) = debaters(&p.templates);
        let mut run = SessionRun::open(p.clone(), &s, &w, None, Verdicts::Person).unwrap();
        let cancel = CancelToken::new();
        let mut steps = Vec::new();
        let mut streamed = String::new();
        loop {
            let st = run
                .next(&mut s, &mut w, None, &cancel, &mut |e| {
                    if let RunEvent::Text(t) = e {
                        streamed.push_str(t)
                    }
                })
                .unwrap();
            steps.push(st);
            if let Step::NeedsVerdict { .. } = st {
                break;
            }
        }
        assert_eq!(
            steps,
            vec![
                Step::Started { index: 0 },
                Step::Turn { index: 0 },
                Step::Turn { index: 0 },
                Step::NeedsVerdict { index: 0 }
            ]
        );
        assert!(streamed.contains("passage says so") && streamed.contains("misreads"), "{streamed}");
        // Every turn is on disk before the verdict.
        assert_eq!(store::load(&p.out).unwrap().debates[0].turns.len(), 2);
        let j = person(&run);
        run.verdict(j).unwrap();
        let on_disk = store::load(&p.out).unwrap();
        assert_eq!(on_disk.debates[0].status, DebateStatus::Judged);
        // Undo takes it back on disk, and the same debate waits again.
        assert_eq!(run.undo().unwrap(), Some(0));
        assert_eq!(store::load(&p.out).unwrap().debates[0].status, DebateStatus::Argued);
        assert_eq!(run.next(&mut s, &mut w, None, &cancel, &mut |_| {}).unwrap(), Step::Started { index: 0 });
        assert_eq!(run.next(&mut s, &mut w, None, &cancel, &mut |_| {}).unwrap(), Step::NeedsVerdict { index: 0 });
        let j = person(&run);
        run.verdict(j).unwrap();
        // Skip the second debate after it started; judge the third.
        assert_eq!(run.next(&mut s, &mut w, None, &cancel, &mut |_| {}).unwrap(), Step::Started { index: 1 });
        assert_eq!(run.skip().unwrap(), Some(1));
        loop {
            match run.next(&mut s, &mut w, None, &cancel, &mut |_| {}).unwrap() {
                Step::NeedsVerdict { index } => {
                    assert_eq!(index, 2);
                    let j = person(&run);
                    run.verdict(j).unwrap();
                }
                Step::Done => break,
                _ => {}
            }
        }
        assert_eq!((run.judged(), run.skipped()), (2, 1));
        // Reopening resumes: the judged debates are passed over, the skipped one waits.
        let mut again = SessionRun::open(p, &s, &w, None, Verdicts::Person).unwrap();
        assert_eq!(again.resumed(), Some(2));
        assert_eq!(again.next(&mut s, &mut w, None, &cancel, &mut |_| {}).unwrap(), Step::Passed { index: 0 });
        assert_eq!(again.next(&mut s, &mut w, None, &cancel, &mut |_| {}).unwrap(), Step::Started { index: 1 });
    }

    #[test]
    fn every_protocol_and_assignment_runs_to_a_model_verdict() {
        for protocol in [Protocol::Debate, Protocol::Consultancy, Protocol::Blind] {
            for assignment in [Assignment::Assigned, Assignment::SelfChosen] {
                let d = tempfile::tempdir().unwrap();
                let judge = JudgeSetting::Model { spec: "judge".into() };
                let p = plan(d.path(), protocol, assignment, judge);
                let (mut s, mut w) = debaters(&p.templates);
                // The judge favours the letter A.
                let jm = ScriptedModel::new("judge", "").with_scorer(|_, c| vec![-0.2, -1.8][..c.len()].to_vec());
                let mut j = ModelJudge::new(share(jm), p.templates.clone()).unwrap();
                let session = run_session(&p, &mut s, &mut w, Some(&mut j), &CancelToken::new(), &mut |_| {}).unwrap();
                let want_turns = match protocol {
                    Protocol::Debate => 2,
                    Protocol::Consultancy => 1,
                    Protocol::Blind => 0,
                };
                for rec in &session.debates {
                    // Self-assignment: the strong side prefers A and the weak side B, so they differ.
                    assert_eq!(rec.status, DebateStatus::Judged, "{protocol:?} {assignment:?}");
                    assert_eq!(rec.turns.len(), want_turns, "{protocol:?} {assignment:?}");
                    assert_ne!(rec.strong_answer, rec.weak_answer);
                    assert_eq!(rec.judgements.len(), 1);
                    assert!(rec.judgements[0].p_strong > 0.0 && rec.judgements[0].p_strong < 1.0);
                }
                // (compared as JSON: a neither-correct debate's log score is NaN in memory, null on disk)
                assert_eq!(
                    serde_json::to_value(&store::load(&p.out).unwrap().debates).unwrap(),
                    serde_json::to_value(&session.debates).unwrap()
                );
            }
        }
    }

    /// With `block_copies`, a turn that sees its opponent asks the model not to reproduce
    /// the opponent's turn, the item's question, choices and passage allowed; a first turn
    /// (nothing to copy) and a profile without the block ask nothing.
    #[test]
    fn debaters_pass_the_opponents_words_to_the_copy_block() {
        use crate::runtime::scripted::ScriptedCall;
        for block in [true, false] {
            let d = tempfile::tempdir().unwrap();
            let judge = JudgeSetting::Model { spec: "judge".into() };
            let mut p = plan(d.path(), Protocol::Debate, Assignment::Assigned, judge);
            p.strong.block_copies = block;
            p.weak.block_copies = block;
            let replies =
                ["My answer is right because the passage says so.", "The other answer misreads the question entirely."];
            let models: Vec<ScriptedModel> =
                replies.iter().zip(["strong", "weak"]).map(|(r, n)| ScriptedModel::new(n, r)).collect();
            let logs: Vec<_> = models.iter().map(|m| m.calls()).collect();
            let mut it = models.into_iter();
            let mut s = ModelDebater::new(p.strong.clone(), share(it.next().unwrap()), p.templates.clone());
            let mut w = ModelDebater::new(p.weak.clone(), share(it.next().unwrap()), p.templates.clone());
            let jm = ScriptedModel::new("judge", "").with_scorer(|_, c| vec![-0.2, -1.8][..c.len()].to_vec());
            let mut j = ModelJudge::new(share(jm), p.templates.clone()).unwrap();
            let session = run_session(&p, &mut s, &mut w, Some(&mut j), &CancelToken::new(), &mut |_| {}).unwrap();
            let mut asked = Vec::new();
            for (k, log) in logs.iter().enumerate() {
                for c in log.lock().unwrap().iter() {
                    if let ScriptedCall::Generate { no_copy, .. } = c {
                        asked.push((k, no_copy.clone()));
                    }
                }
            }
            assert_eq!(asked.len(), 2 * session.debates.len());
            let blocked: Vec<_> = asked.iter().filter_map(|(k, nc)| nc.as_ref().map(|nc| (*k, nc))).collect();
            if !block {
                assert!(blocked.is_empty());
                continue;
            }
            // Sequential turns: in each debate the second speaker sees the first.
            assert_eq!(blocked.len(), session.debates.len(), "{asked:?}");
            for (k, nc) in blocked {
                assert_eq!(nc.n, crate::debate::quality::COPY_BLOCK_TOKENS);
                assert_eq!(nc.avoid.len(), 1);
                assert!(nc.avoid[0].contains(replies[1 - k]), "{nc:?}");
                let item = session.debates.iter().find(|d| nc.allow[0] == d.item.question).expect("question allowed");
                assert!(item.item.choices.iter().all(|c| nc.allow.contains(c)), "{nc:?}");
            }
        }
    }

    /// A session saved without the copy block resumes with it where no debater sees an
    /// opponent (consultancy), and is refused where one does (debate).
    #[test]
    fn the_copy_block_stops_a_resume_only_where_it_acts() {
        for protocol in [Protocol::Consultancy, Protocol::Debate] {
            let d = tempfile::tempdir().unwrap();
            let judge = JudgeSetting::Model { spec: "judge".into() };
            let mut p = plan(d.path(), protocol, Assignment::Assigned, judge);
            let (mut s, mut w) = debaters(&p.templates);
            let mut j = ModelJudge::new(share(letter_a_judge()), p.templates.clone()).unwrap();
            run_session(&p, &mut s, &mut w, Some(&mut j), &CancelToken::new(), &mut |_| {}).unwrap();
            p.strong.block_copies = true;
            p.weak.block_copies = true;
            let again = run_session(&p, &mut s, &mut w, Some(&mut j), &CancelToken::new(), &mut |_| {});
            match protocol {
                Protocol::Consultancy => {
                    let session = again.unwrap();
                    assert!(!session.provenance.strong.block_copies, "the saved profile is kept");
                }
                _ => {
                    let e = format!("{:#}", again.unwrap_err());
                    assert!(e.contains("different settings") && e.contains("block_copies"), "{e}");
                }
            }
        }
    }

    fn judge_agents(t: &Templates, workers: usize, scorer: fn() -> ScriptedModel) -> Vec<Agents> {
        (0..workers)
            .map(|_| {
                let (s, w) = debaters(t);
                Agents {
                    strong: Box::new(s),
                    weak: Box::new(w),
                    judge: Some(Box::new(ModelJudge::new(share(scorer()), t.clone()).unwrap())),
                }
            })
            .collect()
    }

    fn letter_a_judge() -> ScriptedModel {
        ScriptedModel::new("judge", "").with_scorer(|_, c| vec![-0.2, -1.8][..c.len()].to_vec())
    }

    fn open_for(p: &RunPlan, a: &[Agents]) -> SessionRun {
        let j = a[0].judge.as_deref().map(|j| j as &dyn Judge);
        SessionRun::open(p.clone(), a[0].strong.as_ref(), a[0].weak.as_ref(), j, Verdicts::Judge).unwrap()
    }

    /// One debate's index, answers, turn texts and p(strong) of each verdict.
    type Outcome = (usize, usize, usize, Vec<String>, Vec<f64>);

    /// What a session argued and decided, without timings.
    fn outcome(s: &Session) -> Vec<Outcome> {
        s.debates
            .iter()
            .map(|d| {
                let texts = d.turns.iter().map(|t| t.text.clone()).collect();
                (d.index, d.strong_answer, d.weak_answer, texts, d.judgements.iter().map(|j| j.p_strong).collect())
            })
            .collect()
    }

    #[test]
    fn parallel_workers_save_what_one_worker_saves_in_index_order() {
        let d = tempfile::tempdir().unwrap();
        let mut p =
            plan(d.path(), Protocol::Debate, Assignment::SelfChosen, JudgeSetting::Model { spec: "judge".into() });
        p.settings.n = 7;
        let (mut s, mut w) = debaters(&p.templates);
        let mut j = ModelJudge::new(share(letter_a_judge()), p.templates.clone()).unwrap();
        let one = run_session(&p, &mut s, &mut w, Some(&mut j), &CancelToken::new(), &mut |_| {}).unwrap();

        let mut q = p.clone();
        q.out = d.path().join("parallel.json");
        let mut agents = judge_agents(&p.templates, 3, letter_a_judge);
        let mut run = open_for(&q, &agents);
        let mut judged = Vec::new();
        run.run_parallel(&mut agents, &CancelToken::new(), &mut |e| {
            if let RunEvent::Judged { index, .. } = e {
                judged.push(index)
            }
        })
        .unwrap();
        let saved = store::load(&q.out).unwrap();
        assert_eq!(outcome(&saved), outcome(&one));
        assert_eq!(saved.debates.iter().map(|d| d.index).collect::<Vec<_>>(), (0..7).collect::<Vec<_>>());
        judged.sort();
        assert_eq!(judged, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn a_failing_worker_stops_the_run_and_the_rerun_resumes_it() {
        let d = tempfile::tempdir().unwrap();
        let mut p =
            plan(d.path(), Protocol::Debate, Assignment::Assigned, JudgeSetting::Model { spec: "judge".into() });
        p.settings.n = 6;
        // A judge whose scores are not numbers: every verdict fails.
        fn broken() -> ScriptedModel {
            ScriptedModel::new("judge", "").with_scorer(|_, c| vec![f64::NAN; c.len()])
        }
        let mut agents = judge_agents(&p.templates, 2, broken);
        let mut run = open_for(&p, &agents);
        let e = run.run_parallel(&mut agents, &CancelToken::new(), &mut |_| {}).unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("rerun to resume") && msg.contains("debate "), "{msg}");
        let saved = store::load(&p.out).unwrap();
        assert!(saved.debates.iter().all(|d| d.judgements.is_empty()));
        assert!(saved.debates.iter().any(|d| d.status == DebateStatus::Argued), "argued turns are kept");

        let mut agents = judge_agents(&p.templates, 2, letter_a_judge);
        let mut run = open_for(&p, &agents);
        run.run_parallel(&mut agents, &CancelToken::new(), &mut |_| {}).unwrap();
        let done = store::load(&p.out).unwrap();
        assert_eq!(done.debates.len(), 6);
        assert!(done.debates.iter().all(|d| d.status == DebateStatus::Judged));
        for before in saved.debates.iter().filter(|d| d.status == DebateStatus::Argued) {
            let texts: Vec<&str> = before.turns.iter().map(|t| t.text.as_str()).collect();
            let after: Vec<&str> = done.debates[before.index].turns.iter().map(|t| t.text.as_str()).collect();
            assert_eq!(texts, after, "saved turns are kept on resume");
        }
    }

    #[test]
    fn a_cancelled_turn_is_not_recorded_and_esc_marks_the_rest() {
        let d = tempfile::tempdir().unwrap();
        let p = plan(d.path(), Protocol::Debate, Assignment::Assigned, JudgeSetting::Human);
        let (mut s, mut w) = debaters(&p.templates);
        let mut run = SessionRun::open(p.clone(), &s, &w, None, Verdicts::Person).unwrap();
        let cancel = CancelToken::new();
        assert_eq!(run.next(&mut s, &mut w, None, &cancel, &mut |_| {}).unwrap(), Step::Started { index: 0 });
        cancel.cancel();
        assert_eq!(run.next(&mut s, &mut w, None, &cancel, &mut |_| {}).unwrap(), Step::Cancelled { index: 0 });
        assert!(store::load(&p.out).unwrap().debates[0].turns.is_empty());
        run.cancel_remaining_turns().unwrap();
        cancel.reset();
        assert_eq!(run.next(&mut s, &mut w, None, &cancel, &mut |_| {}).unwrap(), Step::NeedsVerdict { index: 0 });
        let rec = &store::load(&p.out).unwrap().debates[0];
        assert!(rec.turns.iter().all(|t| t.stop_reason == "cancelled" && t.text.is_empty()), "{rec:?}");
    }
}
