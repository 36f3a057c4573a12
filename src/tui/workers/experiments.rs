//! The Train screen's experiments: the configs and past runs its picker lists, and the check an
//! experiment passes before it opens (the one `w2sd train --config X --ui` makes).
//!
//! Listed, in this order:
//! - configs in `<config dir>/experiments/*.toml` (every file, an invalid one with its error);
//! - configs in the working folder (`*.toml` that parse as experiments; others are skipped);
//! - run folders in `<data dir>/runs/` (those with `results.json` or `stages/`), newest first,
//!   opened from their own `experiment.toml` in their own folder, so a finished run shows its
//!   results and an unfinished one resumes.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};

use crate::tui::event::Sender;
use crate::tui::message::{ExperimentDraft, ExperimentEntry, ExperimentSource, RunEntry, TrainSetup, WorkerEvent};
use crate::w2s::config::ExperimentConfig;
use crate::w2s::pipeline::StageRecord;
use crate::w2s::results::Results;

/// The places the picker looks in: `<config dir>/experiments`, the working folder and
/// `<data dir>/runs`.
pub fn places() -> [PathBuf; 3] {
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    [crate::paths::config_dir().join("experiments"), here, crate::paths::runs_dir()]
}

/// Lists the experiments of [`places`] on a thread and reports them.
pub fn spawn_list(tx: Sender) {
    std::thread::Builder::new()
        .name("w2sd-experiments".into())
        .spawn(move || {
            let [saved, here, runs] = places();
            let entries = find(&saved, &here, &runs);
            tx.send(WorkerEvent::Experiments { entries, places: vec![saved, here, runs] })
        })
        .expect("spawn experiments thread");
}

/// Checks a picked experiment on a thread ([`load`]) and reports it ready or why not.
pub fn spawn_load(entry: ExperimentEntry, tx: Sender) {
    std::thread::Builder::new()
        .name("w2sd-open-experiment".into())
        .spawn(move || {
            let r = load(&entry).map(Box::new).map_err(|e| format!("{e:#}"));
            tx.send(WorkerEvent::ExperimentReady(r))
        })
        .expect("spawn open-experiment thread");
}

/// Opens a training run on a judged session's verdicts on a thread ([`from_session`]),
/// reporting the checked experiment or why not.
pub fn spawn_from_session(path: PathBuf, tx: Sender) {
    std::thread::Builder::new()
        .name("w2sd-from-session".into())
        .spawn(move || {
            let r = from_session(&path).map(Box::new).map_err(|e| format!("{e:#}"));
            tx.send(WorkerEvent::ExperimentReady(r))
        })
        .expect("spawn from-session thread");
}

/// The experiment `w2sd train --from-session FILE --ladder gemma-3-270m` runs: the session's
/// verdicts as weak labels, the demo's strong student ([`crate::w2s::config::DEMO_LADDER`]),
/// the default losses, in the run folder a headless run of it uses.
pub fn from_session(path: &Path) -> Result<TrainSetup> {
    let session = crate::session::load(path)?;
    let mut cfg = ExperimentConfig::for_task(&session.settings.task);
    let strong = crate::w2s::config::DEMO_LADDER[1].to_string();
    cfg.ladder = vec![format!("{}{}", crate::w2s::data::session::PREFIX, path.display()), strong];
    let name = format!("from {}", path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
    TrainSetup::checked(name, cfg, None)
}

/// Checks a new experiment from the form and writes it on a thread ([`create`]), reporting the
/// written entry or why not.
pub fn spawn_create(draft: ExperimentDraft, tx: Sender) {
    std::thread::Builder::new()
        .name("w2sd-new-experiment".into())
        .spawn(move || {
            let r = create(&draft).map_err(|e| format!("{e:#}"));
            tx.send(WorkerEvent::ExperimentSaved(r))
        })
        .expect("spawn new-experiment thread");
}

/// Writes a new experiment to `draft.path` (atomically; an existing file is left alone) after
/// the checks a headless `w2sd train` makes before anything loads
/// ([`ExperimentConfig::validate`], [`ExperimentConfig::check_task`]).
pub fn create(draft: &ExperimentDraft) -> Result<ExperimentEntry> {
    if draft.path.exists() {
        anyhow::bail!(
            "{} exists; choose another name (e lists it to open)",
            draft.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        );
    }
    draft.cfg.validate()?;
    draft.cfg.check_task()?;
    let text = draft.cfg.to_toml()?;
    if let Some(dir) = draft.path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    crate::fsio::write_atomic(&draft.path, |w| w.write_all(text.as_bytes()))?;
    Ok(config_entry(ExperimentSource::Saved, &draft.path, Ok(draft.cfg.clone())))
}

/// The experiment of a listed entry, checked: a config opens in its default run folder, a run
/// folder in itself.
pub fn load(entry: &ExperimentEntry) -> Result<TrainSetup> {
    match entry.source {
        ExperimentSource::Saved | ExperimentSource::Here => {
            let cfg = ExperimentConfig::load(&entry.path)?;
            TrainSetup::checked(entry.name.clone(), cfg, None)
        }
        ExperimentSource::Run => {
            let file = entry.path.join("experiment.toml");
            if !file.is_file() {
                anyhow::bail!("{} has no experiment.toml, so it cannot be opened", entry.path.display());
            }
            let cfg = ExperimentConfig::load(&file)?;
            TrainSetup::checked(entry.name.clone(), cfg, Some(entry.path.clone()))
        }
    }
}

impl TrainSetup {
    /// An experiment the Train screen can open, after the checks a headless `w2sd train` makes
    /// before anything loads ([`ExperimentConfig::validate`], [`ExperimentConfig::check_task`]).
    /// Several seeds run one after another, as headless. `out` defaults to the folder a
    /// headless run of the same config uses.
    pub fn checked(name: String, cfg: ExperimentConfig, out: Option<PathBuf>) -> Result<TrainSetup> {
        cfg.validate()?;
        cfg.check_task()?;
        let out = out.unwrap_or_else(|| crate::paths::run_dir(&cfg.run_name()));
        Ok(TrainSetup { name, cfg, out })
    }
}

/// Whether `p` is a training run folder: it holds `results.json` or `stages/` (or, for
/// several seeds, `seed-K/stages/`).
pub fn is_run_dir(p: &Path) -> bool {
    p.join("results.json").is_file() || p.join("stages").is_dir() || !seed_dirs(p).is_empty()
}

/// The `seed-K/` folders of a several-seed run that hold stages.
fn seed_dirs(p: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|d| {
                    d.file_name().is_some_and(|n| n.to_string_lossy().starts_with("seed-")) && d.join("stages").is_dir()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What a run folder's files say (Review lists and opens it): its `experiment.toml`, its
/// `results.json` and every finished stage's record (`stages/*.json`, in the order they
/// finished). `Err` when there is nothing to show or `results.json` does not read.
pub fn load_run(dir: &Path) -> std::result::Result<RunEntry, String> {
    let config = ExperimentConfig::load(&dir.join("experiment.toml")).ok();
    let results_file = dir.join("results.json");
    let results = if results_file.is_file() {
        Some(std::sync::Arc::new(Results::load(&results_file).map_err(|e| format!("{e:#}"))?))
    } else {
        None
    };
    if config.is_none() && results.is_none() {
        return Err(format!("{}: a run folder without results.json or a readable experiment.toml", dir.display()));
    }
    let mut records: Vec<StageRecord> = std::fs::read_dir(dir.join("stages"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .filter_map(|p| serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok())
                .collect()
        })
        .unwrap_or_default();
    records.sort_by(|a, b| a.finished.cmp(&b.finished));
    let date = [results_file, dir.join("experiment.toml"), dir.to_path_buf()]
        .iter()
        .map(|p| modified(p))
        .find(|d| !d.is_empty())
        .unwrap_or_default();
    Ok(RunEntry {
        path: dir.to_path_buf(),
        name: dir.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        date,
        config,
        results,
        stages: records.into_iter().map(|r| (r.stage, r.summary)).collect(),
    })
}

fn modified(p: &Path) -> String {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .map(|t| chrono::DateTime::<chrono::Local>::from(t).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn stem(p: &Path) -> String {
    p.file_stem().or(p.file_name()).map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// How far a run folder got: `results`, `K stages done`, or `not run`.
fn run_status(out: &Path) -> String {
    if out.join("results.json").is_file() {
        return "results".into();
    }
    let count = |d: &Path| {
        std::fs::read_dir(d.join("stages"))
            .map(|rd| rd.filter_map(|e| e.ok()).filter(|e| e.path().extension().is_some_and(|x| x == "json")).count())
            .unwrap_or(0)
    };
    let done = count(out) + seed_dirs(out).iter().map(|d| count(d)).sum::<usize>();
    match done {
        0 => "not run".into(),
        1 => "1 stage done".into(),
        k => format!("{k} stages done"),
    }
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn config_entry(source: ExperimentSource, path: &Path, cfg: Result<ExperimentConfig>) -> ExperimentEntry {
    let (task, ladder, status) = match cfg {
        Ok(c) => {
            let status = match &c.seeds {
                Some(s) => format!("{} seeds: {}", s.len(), run_status(&crate::paths::run_dir(&c.run_name()))),
                None => run_status(&crate::paths::run_dir(&c.run_name())),
            };
            (c.task.spec.clone(), c.ladder.clone(), status)
        }
        // The first line of the innermost cause; opening the entry shows the whole message.
        Err(e) => {
            let why = e.root_cause().to_string();
            (String::new(), vec![], format!("invalid: {}", why.lines().next().unwrap_or_default()))
        }
    };
    ExperimentEntry {
        source,
        path: path.to_path_buf(),
        name: stem(path),
        task,
        ladder,
        status,
        modified: modified(path),
    }
}

/// The experiments in `saved` (configs), `here` (configs that parse) and `runs` (run folders).
pub fn find(saved: &Path, here: &Path, runs: &Path) -> Vec<ExperimentEntry> {
    let mut out: Vec<ExperimentEntry> =
        toml_files(saved).iter().map(|p| config_entry(ExperimentSource::Saved, p, ExperimentConfig::load(p))).collect();
    if here != saved {
        for p in toml_files(here) {
            if let Ok(c) = ExperimentConfig::load(&p) {
                out.push(config_entry(ExperimentSource::Here, &p, Ok(c)));
            }
        }
    }
    let mut run_dirs: Vec<(String, PathBuf)> = std::fs::read_dir(runs)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| is_run_dir(p))
                .map(|p| {
                    let m = modified(&p.join("experiment.toml"));
                    (if m.is_empty() { modified(&p) } else { m }, p)
                })
                .collect()
        })
        .unwrap_or_default();
    run_dirs.sort_by(|a, b| b.cmp(a));
    for (when, dir) in run_dirs {
        let name = dir.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let file = dir.join("experiment.toml");
        let cfg = if file.is_file() { ExperimentConfig::load(&file) } else { Err(anyhow!("no experiment.toml")) };
        let mut e = config_entry(ExperimentSource::Run, &dir, cfg);
        e.name = name;
        e.modified = when;
        if !e.status.starts_with("invalid") {
            e.status = match e.status.split_once(" seeds: ") {
                Some((k, _)) => format!("{k} seeds: {}", run_status(&dir)),
                None => run_status(&dir),
            };
        }
        out.push(e);
    }
    out
}
