//! Running a whole session headless, with resume.
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
use super::protocol::{Debate, TurnSpec};
use crate::runtime::CancelToken;
use crate::session::{
    now_rfc3339, store, Assignment, DebateRecord, DebateStatus, DebaterProfile, JudgeSetting, Judgement, Provenance,
    Session, Settings, Turn,
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

/// Runs (or resumes) every debate of a plan. `judge` must be given when the settings
/// name a model judge. Returns the saved session.
pub fn run_session(
    plan: &RunPlan,
    strong: &mut dyn Debater,
    weak: &mut dyn Debater,
    mut judge: Option<&mut dyn Judge>,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(RunEvent),
) -> Result<Session> {
    let settings = &plan.settings;
    if matches!(settings.judge, JudgeSetting::Model { .. }) && judge.is_none() {
        bail!("the settings name a model judge but none was given");
    }
    let items = tasks::load(&settings.task, Some(settings.n), settings.seed)?;
    let (mut session, resumed) = open_or_create(plan, &items, &*strong, &*weak, judge.as_deref())?;
    let path = plan.out.as_path();
    let total = items.len();
    if resumed {
        let done = session
            .debates
            .iter()
            .filter(|d| matches!(d.status, DebateStatus::Judged | DebateStatus::Agreement))
            .count();
        on_event(RunEvent::Resumed { path, done, total });
    }
    for (i, item) in items.iter().enumerate() {
        let mut debate = match session.debates.get(i) {
            Some(rec) => Debate::from_record(settings, rec.clone()),
            None => {
                let d = match settings.assignment {
                    Assignment::Assigned => Debate::assigned(i, item.clone(), settings, settings.seed),
                    Assignment::SelfChosen => {
                        let s_lp = strong.choice_logprobs(item, None)?;
                        let w_lp = weak.choice_logprobs(item, None)?;
                        Debate::self_chosen(i, item.clone(), settings, s_lp, w_lp)
                    }
                };
                session.debates.push(d.record.clone());
                save(path, &mut session)?;
                d
            }
        };
        let status = debate.record.status;
        let waits_for_human = status == DebateStatus::Argued && judge.is_none();
        if matches!(status, DebateStatus::Judged | DebateStatus::Agreement) || waits_for_human {
            on_event(RunEvent::Skipped { index: i, status });
            continue;
        }
        on_event(RunEvent::DebateStart { index: i, total, record: &debate.record });
        run_debate(
            &mut debate,
            &mut *strong,
            &mut *weak,
            judge.as_deref_mut(),
            cancel,
            &mut |d: &Debate| {
                session.debates[i] = d.record.clone();
                save(path, &mut session).with_context(|| format!("cannot save {}", path.display()))
            },
            on_event,
        )?;
    }
    save(path, &mut session)?;
    Ok(session)
}

/// Drives one debate to its end: every remaining turn (streamed through `on_event`),
/// then the judge's verdict when a judge is given. `checkpoint` is called after each
/// recorded turn and after the judgement (the CLI saves the session there; the TUI can
/// do the same). Agreements and finished debates return at once.
pub fn run_debate(
    debate: &mut Debate,
    strong: &mut dyn Debater,
    weak: &mut dyn Debater,
    judge: Option<&mut (dyn Judge + '_)>,
    cancel: &CancelToken,
    checkpoint: &mut dyn FnMut(&Debate) -> Result<()>,
    on_event: &mut dyn FnMut(RunEvent),
) -> Result<()> {
    let i = debate.record.index;
    while let Some(spec) = debate.next_turn() {
        if cancel.is_cancelled() {
            bail!(
                "cancelled before round {} of the {} side; everything before it is saved",
                spec.round,
                spec.side.as_str()
            );
        }
        on_event(RunEvent::TurnStart { index: i, spec: &spec });
        let side_debater: &mut dyn Debater = match spec.side {
            crate::session::Side::Strong => &mut *strong,
            crate::session::Side::Weak => &mut *weak,
        };
        let ctx = debate.turn_context(&spec, side_debater.profile().sees_passage);
        let out = side_debater.argue(&ctx, cancel, &mut |piece| on_event(RunEvent::Text(piece)))?;
        if out.stop_reason == "cancelled" {
            bail!(
                "cancelled during round {} of the {} side; everything before it is saved",
                spec.round,
                spec.side.as_str()
            );
        }
        debate.record_turn(&spec, out)?;
        checkpoint(debate)?;
        on_event(RunEvent::TurnEnd { index: i, turn: debate.record.turns.last().unwrap() });
    }
    if debate.record.status == DebateStatus::Agreement {
        on_event(RunEvent::Agreement { index: i });
        return Ok(());
    }
    if let Some(j) = judge {
        if debate.record.status == DebateStatus::Argued {
            let verdict = j.judge(&debate.judge_view())?;
            debate.record_judgement(verdict)?;
            checkpoint(debate)?;
            on_event(RunEvent::Judged { index: i, judgement: debate.record.judgements.last().unwrap() });
        }
    }
    Ok(())
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
