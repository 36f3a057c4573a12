//! The Train screen's experiment picker: what it lists (configs in `<config>/experiments`, the
//! working folder's experiment TOMLs, past run folders), the checks an experiment passes before
//! it opens (those of `train --config X --ui`), the picker's keys on the app, and in tmux the
//! real binary opening a past run (its results on screen) and a saved config.

mod tmux_support;
mod tui_support;

use std::path::Path;
use std::time::Duration;

use tmux_support::{shell_quote, Tmux};
use tui_support::*;
use w2sd::tui::action::Action;
use w2sd::tui::app::Screen;
use w2sd::tui::message::{Effect, ExperimentSource, TrainCommand, WorkerEvent};
use w2sd::tui::workers::experiments::{find, load};

/// A bow-only ladder on builtin:sentiment: every stage takes well under a second, and the
/// 16-bucket supervisor leaves a gap to the 4096-bucket ceiling wide enough for a PGR.
fn tiny(seed: u64) -> String {
    format!(
        "ladder = [\"bow:16\", \"bow:4096\"]\nlosses = [\"logconf\"]\nseed = {seed}\n\n[task]\nspec = \"builtin:sentiment\"\nn = 400\n\n[metrics]\nresamples = 50\n"
    )
}

/// Whether the screen shows a PGR that is a number (not `null`).
fn shows_pgr_number(s: &str) -> bool {
    s.match_indices("PGR ").any(|(i, _)| s[i + 4..].starts_with(|c: char| c.is_ascii_digit() || c == '-'))
}

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn find_lists_saved_configs_working_folder_configs_and_run_folders() {
    let d = tempfile::tempdir().unwrap();
    let (saved, here, runs) = (d.path().join("cfg/experiments"), d.path().join("here"), d.path().join("runs"));
    write(&saved.join("b-good.toml"), &tiny(1));
    write(&saved.join("a-bad.toml"), "ladder = [\"bow\"]\n[task]\nspec = \"builtin:chess\"\n");
    write(&here.join("mine.toml"), &tiny(2));
    // Not experiments: skipped in the working folder.
    write(&here.join("Cargo.toml"), "[package]\nname = \"x\"\n");
    write(&here.join("notes.txt"), "hello");
    // A finished run, a run with one stage done, a folder that is no run, a run without its config.
    let cfg = w2sd::w2s::config::ExperimentConfig::from_toml(&tiny(3)).unwrap();
    write(&runs.join("done/experiment.toml"), &cfg.to_toml().unwrap());
    write(&runs.join("done/results.json"), "{}");
    write(&runs.join("half/experiment.toml"), &cfg.to_toml().unwrap());
    write(&runs.join("half/stages/data.json"), "{}");
    std::fs::create_dir_all(runs.join("empty")).unwrap();
    std::fs::create_dir_all(runs.join("orphan/stages")).unwrap();

    let v = find(&saved, &here, &runs);
    let names: Vec<(&str, ExperimentSource)> = v.iter().map(|e| (e.name.as_str(), e.source)).collect();
    assert_eq!(
        &names[..3],
        &[("a-bad", ExperimentSource::Saved), ("b-good", ExperimentSource::Saved), ("mine", ExperimentSource::Here)]
    );
    assert_eq!(v.len(), 6, "{names:?}");
    let by = |n: &str| v.iter().find(|e| e.name == n).unwrap();
    assert!(by("a-bad").status.starts_with("invalid: "), "{}", by("a-bad").status);
    assert!(by("a-bad").status.contains("at least two models"), "{}", by("a-bad").status);
    assert_eq!(by("b-good").task, "builtin:sentiment");
    assert_eq!(by("b-good").ladder, vec!["bow:16", "bow:4096"]);
    assert_eq!(by("done").status, "results");
    assert_eq!(by("done").source, ExperimentSource::Run);
    assert_eq!(by("half").status, "1 stage done");
    assert_eq!(by("orphan").status, "invalid: no experiment.toml");
    assert!(v.iter().all(|e| e.name != "empty" && e.name != "Cargo"));

    // Opening: a config opens in the folder a headless run of it uses, a run in itself.
    let s = load(by("b-good")).unwrap();
    assert_eq!(s.name, "b-good");
    assert_eq!(s.out, w2sd::paths::run_dir(&s.cfg.run_name()));
    assert_eq!(load(by("done")).unwrap().out, runs.join("done"));
    // Bad input is one message each.
    assert!(format!("{:#}", load(by("a-bad")).unwrap_err()).contains("at least two models"));
    assert!(format!("{:#}", load(by("orphan")).unwrap_err()).contains("no experiment.toml"));
}

#[test]
fn opening_makes_the_headless_checks_and_opens_several_seeds() {
    let d = tempfile::tempdir().unwrap();
    let saved = d.path().join("experiments");
    write(&saved.join("seeds.toml"), &tiny(0).replace("seed = 0", "seeds = [1, 2]"));
    write(&saved.join("nofile.toml"), &tiny(0).replace("builtin:sentiment", "/nowhere/data.jsonl"));
    let v = find(&saved, &saved, &d.path().join("runs"));
    let by = |n: &str| v.iter().find(|e| e.name == n).unwrap();
    assert_eq!(by("seeds").status, "2 seeds: not run");
    // Several seeds open (the screen runs them one after another), in the headless run's folder.
    let s = load(by("seeds")).unwrap();
    assert_eq!(s.cfg.seeds, Some(vec![1, 2]));
    assert_eq!(s.out, w2sd::paths::run_dir(&s.cfg.run_name()));
    let e = format!("{:#}", load(by("nofile")).unwrap_err());
    assert!(e.contains("/nowhere/data.jsonl"), "{e}");
    // The same check headless: a missing test set is bad input (exit 2) before anything runs.
    let out = d.path().join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_w2sd"))
        .args(["train", "--task", "builtin:sentiment", "--ladder", "bow:16,bow", "--test", "/nowhere/test.jsonl"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("test set"), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.exists(), "no run folder for bad input");
}

#[test]
fn picker_keys_list_open_and_refuse_while_running() {
    let mut a = train_app(120, 36);
    assert_eq!(a.update(Action::Experiments), vec![Effect::ListExperiments]);
    assert!(a.train.picker.as_ref().unwrap().loading);
    let d = tempfile::tempdir().unwrap();
    write(&d.path().join("x/one.toml"), &tiny(1));
    write(&d.path().join("x/two.toml"), &tiny(2));
    let entries = find(&d.path().join("x"), &d.path().join("x"), &d.path().join("runs"));
    a.on_worker(WorkerEvent::Experiments { entries: entries.clone(), places: vec![d.path().join("x")] });
    let screen = render(&a);
    assert!(screen.contains("Experiments · 2"), "{screen}");
    assert!(screen.contains("one") && screen.contains("two"), "{screen}");
    a.update(Action::Down);
    match a.update(Action::Open).as_slice() {
        [Effect::LoadExperiment(e)] => assert_eq!(e.name, "two"),
        other => panic!("{other:?}"),
    }
    // A failure keeps the list open with the reason.
    a.on_worker(WorkerEvent::ExperimentReady(Err("no such task".into())));
    assert!(a.train.picker.is_some());
    assert!(a.train.notice.as_deref().unwrap().contains("no such task"));
    // Success puts the experiment on the screen and asks the runtime to switch workers.
    let setup = load(&entries[1]).unwrap();
    let fx = a.on_worker(WorkerEvent::ExperimentReady(Ok(Box::new(setup.clone()))));
    assert_eq!(fx, vec![Effect::SwitchExperiment(Box::new(setup))]);
    assert!(a.train.picker.is_none());
    assert_eq!(a.train.config, "two");
    assert!(a.train.opened_experiment, "the switched worker opens it; entering the screen must not reopen");
    assert!(a.update(Action::ScreenReview).len() <= 1);
    assert!(a.update(Action::ScreenTrain).is_empty());
    // While stages run the picker does not open.
    assert_eq!(a.update(Action::Run), vec![Effect::Train(TrainCommand::Run)]);
    assert!(a.update(Action::Experiments).is_empty());
    assert!(a.train.notice.as_deref().unwrap().contains("pauses"));
    // Esc closes the picker.
    a.train.running = false;
    a.update(Action::Experiments);
    a.update(Action::Cancel);
    assert!(a.train.picker.is_none());
    // The key is in the help and the status bar, from the keymap.
    let rows = w2sd::tui::views::help_rows(&a.keymap, Screen::Train.scope());
    assert!(rows.iter().any(|(k, d)| k == "e" && d.contains("experiment")), "{rows:?}");
    assert!(render(&a).contains("e experiments"));
}

#[test]
fn tmux_picker_opens_a_past_run_with_its_results_and_a_saved_config() {
    let tmp = tempfile::tempdir().unwrap();
    let (cfg_dir, data, here) = (tmp.path().join("config"), tmp.path().join("data"), tmp.path().join("work"));
    write(&cfg_dir.join("experiments/a-broken.toml"), "ladder = [\"bow\"]\n[task]\nspec = \"builtin:chess\"\n");
    write(&cfg_dir.join("experiments/b-saved.toml"), &tiny(5));
    write(&here.join("c-here.toml"), &tiny(6));
    let bin = Path::new(env!("CARGO_BIN_EXE_w2sd"));
    // A past run, made headless: it lands in <data>/runs/.
    let past = tmp.path().join("past.toml");
    write(&past, &tiny(7));
    let o = std::process::Command::new(bin)
        .args(["train", "--config"])
        .arg(&past)
        .env("W2SD_DATA_DIR", &data)
        .env("W2SD_CONFIG_DIR", &cfg_dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let cmd = format!(
        "cd {} && env W2SD_DATA_DIR={} W2SD_CONFIG_DIR={} {} train --config c-here.toml --ui",
        shell_quote(&here),
        shell_quote(&data),
        shell_quote(&cfg_dir),
        shell_quote(bin)
    );
    let t = Tmux::start("train-picker", 120, 36, &cmd);
    t.wait_for("the Train screen", Duration::from_secs(30), |s| s.contains("Experiment · c-here"));
    t.keys(&["e"]);
    let s = t.wait_for("the picker", Duration::from_secs(30), |s| s.contains("Experiments · 4"));
    assert!(s.contains("a-broken") && s.contains("invalid"), "{s}");
    assert!(s.contains("b-saved") && s.contains("c-here") && s.contains("results"), "{s}");
    // The broken one: one clear message, the list stays.
    t.keys(&["Enter"]);
    let s = t.wait_for("the refusal", Duration::from_secs(30), |s| s.contains("cannot open the experiment"));
    assert!(s.contains("at least two models"), "{s}");
    // The past run (last row): its stages are done and its results are on screen.
    t.keys(&["G", "Enter"]);
    let s = t.wait_for("the past run's results", Duration::from_secs(30), |s| s.contains("every stage is done"));
    assert!(shows_pgr_number(&s), "the student's PGR and the results: {s}");
    assert!(s.contains("Experiment · sentiment-"), "the run folder's name is the experiment's: {s}");
    // A saved config opens in the folder a headless run of it uses; nothing runs before a key.
    t.keys(&["e"]);
    t.wait_for("the picker again", Duration::from_secs(30), |s| s.contains("Experiments · 4"));
    t.keys(&["g", "Down", "Enter"]);
    let s = t.wait_for("the saved config", Duration::from_secs(30), |s| {
        s.contains("Experiment · b-saved") && s.contains("Stages · 0/")
    });
    assert!(s.contains("seed 5"), "{s}");
    t.keys(&["q"]);
}

// ── the new-experiment form ────────────────────────────────────────────────────────────────

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use w2sd::tui::keymap::Scope;
use w2sd::tui::views::experiment_form::{candidates, ExperimentForm, Field};
use w2sd::tui::workers::experiments::create;

fn press(a: &mut w2sd::tui::app::App, code: KeyCode) -> Vec<Effect> {
    a.on_key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn type_text(a: &mut w2sd::tui::app::App, s: &str) {
    for c in s.chars() {
        press(a, KeyCode::Char(c));
    }
}

#[test]
fn form_completes_tasks_files_models_and_losses() {
    let d = tempfile::tempdir().unwrap();
    write(&d.path().join("data.jsonl"), "{}");
    write(&d.path().join("dogs.csv"), "a");
    write(&d.path().join("notes.txt"), "a");
    write(&d.path().join("deep/x.tsv"), "a");
    let models = vec!["minilm-l6".to_string(), "gemma-3-270m".to_string()];
    assert_eq!(candidates(Field::Task, "builtin:ch", d.path(), &models), vec!["builtin:chess"]);
    assert_eq!(candidates(Field::Task, "d", d.path(), &models), vec!["data.jsonl", "deep/", "dogs.csv"]);
    assert_eq!(candidates(Field::Test, "deep/", d.path(), &models), vec!["deep/x.tsv"]);
    let abs = format!("{}/da", d.path().display());
    assert_eq!(candidates(Field::Task, &abs, d.path(), &models), vec![format!("{}/data.jsonl", d.path().display())]);
    assert_eq!(candidates(Field::Ladder, "m", d.path(), &models), vec!["minilm-l6"]);
    assert_eq!(candidates(Field::Losses, "l", d.path(), &models), vec!["logconf"]);

    let mut f = ExperimentForm::new(d.path().join("experiments"));
    f.models = models;
    f.focus = Field::Task;
    f.values[1] = "builtin:".into();
    // Several candidates and nothing in common past the token: tab cycles through them.
    f.complete(d.path());
    let first = f.value(Field::Task).to_string();
    assert!(first.starts_with("builtin:") && first.len() > 8, "{first}");
    f.complete(d.path());
    assert_ne!(f.value(Field::Task), first, "a second tab gives the next candidate");
    assert_eq!(f.completion.as_ref().unwrap().candidates.len(), w2sd::w2s::data::builtin_specs().len());
    // A list field completes its last item, leaving out the ones already there.
    f.focus = Field::Ladder;
    f.values[2] = "bow, gem".into();
    f.complete(d.path());
    assert_eq!(f.value(Field::Ladder), "bow, gemma-3-270m");
    f.values[2] = "bow, gemma-3-270m, ".into();
    f.complete(d.path());
    assert_eq!(f.value(Field::Ladder), "bow, gemma-3-270m, minilm-l6", "bow and gemma are taken");
    f.focus = Field::Losses;
    f.values[3] = "xent, pro".into();
    f.complete(d.path());
    assert_eq!(f.value(Field::Losses), "xent, product");
    f.focus = Field::Task;
    f.values[1] = "zzz".into();
    f.complete(d.path());
    assert!(f.error.as_ref().unwrap().1.contains("nothing completes"));
}

#[test]
fn form_refuses_bad_fields_with_one_message_naming_the_field() {
    let d = tempfile::tempdir().unwrap();
    let mut f = ExperimentForm::new(d.path().to_path_buf());
    let err = |f: &ExperimentForm| f.draft().unwrap_err();
    assert_eq!(err(&f).0, Some(Field::Name));
    f.values[0] = "a b".into();
    assert_eq!(err(&f).0, Some(Field::Name));
    f.values[0] = "tiny".into();
    assert_eq!(err(&f).0, Some(Field::Task));
    f.values[1] = "builtin:chess".into();
    f.values[2] = "bow".into();
    let (field, why) = err(&f);
    assert_eq!(field, Some(Field::Ladder), "{why}");
    assert!(why.contains("at least two models"), "{why}");
    f.values[2] = "bow:128, bow:512".into();
    f.values[3] = "xent, hinge".into();
    assert_eq!(err(&f).0, Some(Field::Losses));
    f.values[3] = "logconf".into();
    f.values[4] = "0".into();
    assert_eq!(err(&f).0, Some(Field::N));
    f.values[4] = "60".into();
    f.values[5] = "1, x".into();
    assert_eq!(err(&f).0, Some(Field::Seeds));
    f.values[5] = "4".into();
    let draft = f.draft().unwrap();
    assert_eq!(draft.cfg.seed, 4);
    assert_eq!(draft.cfg.task.n, Some(60));
    assert_eq!(draft.path, d.path().join("tiny.toml"));
    f.values[5] = "1,2".into();
    assert_eq!(f.draft().unwrap().cfg.seeds, Some(vec![1, 2]));

    // The worker's checks: the task must load; the file is written once and never overwritten.
    let mut bad = draft.clone();
    bad.cfg.task.spec = "/nowhere/data.jsonl".into();
    assert!(format!("{:#}", create(&bad).unwrap_err()).contains("/nowhere/data.jsonl"));
    let mut bad = draft.clone();
    bad.cfg.task.test = Some("/nowhere/test.jsonl".into());
    let why = format!("{:#}", create(&bad).unwrap_err());
    assert!(why.contains("test set") && why.contains("/nowhere/test.jsonl"), "{why}");
    f.refused(why);
    assert_eq!(f.focus, Field::Test, "the refusal points at the test file");
    assert!(!draft.path.exists());
    let e = create(&draft).unwrap();
    assert_eq!(e.source, ExperimentSource::Saved);
    let back = w2sd::w2s::config::ExperimentConfig::load(&draft.path).unwrap();
    assert_eq!(back, draft.cfg);
    assert!(format!("{:#}", create(&draft).unwrap_err()).contains("tiny.toml exists"));
}

#[test]
fn form_keys_type_text_complete_save_and_open() {
    let mut a = train_app(120, 36);
    assert!(a.update(Action::NewExperiment).is_empty());
    assert_eq!(a.scope(), Scope::Form);
    assert!(a.text_input());
    let screen = render(&a);
    assert!(screen.contains("New experiment"), "{screen}");
    assert!(screen.contains("tab complete"), "the status bar shows the form's keys: {screen}");
    // Letters are text here: q does not quit, r does not run.
    type_text(&mut a, "qr-tiny");
    assert!(!a.quit);
    assert_eq!(a.train.form.as_ref().unwrap().value(Field::Name), "qr-tiny");
    press(&mut a, KeyCode::Down);
    type_text(&mut a, "builtin:che");
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.train.form.as_ref().unwrap().value(Field::Task), "builtin:chess");
    press(&mut a, KeyCode::Down);
    type_text(&mut a, "bow:128, bow:512");
    a.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    assert_eq!(a.train.form.as_ref().unwrap().value(Field::Ladder), "", "ctrl-u clears the field");
    type_text(&mut a, "bow:128, bow:512");
    let fx = press(&mut a, KeyCode::Enter);
    let draft = match fx.as_slice() {
        [Effect::CreateExperiment(d)] => d.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(draft.name, "qr-tiny");
    assert!(a.train.form.as_ref().unwrap().saving);
    // Refused by the worker: the form stays with the reason.
    a.on_worker(WorkerEvent::ExperimentSaved(Err("qr-tiny.toml exists; choose another name".into())));
    let form = a.train.form.as_ref().unwrap();
    assert!(!form.saving);
    assert_eq!(form.focus, Field::Name);
    assert!(render(&a).contains("qr-tiny.toml exists"));
    // Written: the form closes and the experiment is opened.
    let d = tempfile::tempdir().unwrap();
    let mut draft = *draft;
    draft.path = d.path().join("qr-tiny.toml");
    let entry = create(&draft).unwrap();
    let fx = a.on_worker(WorkerEvent::ExperimentSaved(Ok(entry.clone())));
    assert_eq!(fx, vec![Effect::LoadExperiment(entry)]);
    assert!(a.train.form.is_none());
    assert_eq!(a.scope(), Scope::Train);
    // Esc leaves a form without saving; ctrl-c too, without quitting.
    a.update(Action::NewExperiment);
    press(&mut a, KeyCode::Esc);
    assert!(a.train.form.is_none());
    a.update(Action::NewExperiment);
    a.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(a.train.form.is_none() && !a.quit);
    let rows = w2sd::tui::views::help_rows(&a.keymap, Scope::Train);
    assert!(rows.iter().any(|(k, d)| k == "c" && d.contains("New experiment")), "{rows:?}");
}

#[test]
fn tmux_form_creates_an_experiment_and_runs_it_to_results() {
    let tmp = tempfile::tempdir().unwrap();
    let (cfg_dir, data, here) = (tmp.path().join("config"), tmp.path().join("data"), tmp.path().join("work"));
    write(&here.join("start.toml"), &tiny(1));
    let bin = Path::new(env!("CARGO_BIN_EXE_w2sd"));
    let cmd = format!(
        "cd {} && env W2SD_DATA_DIR={} W2SD_CONFIG_DIR={} {} train --config start.toml --ui",
        shell_quote(&here),
        shell_quote(&data),
        shell_quote(&cfg_dir),
        shell_quote(bin)
    );
    let t = Tmux::start("train-form", 120, 36, &cmd);
    t.wait_for("the Train screen", Duration::from_secs(30), |s| s.contains("Experiment · start"));
    t.keys(&["c"]);
    t.wait_for("the form", Duration::from_secs(10), |s| s.contains("New experiment"));
    t.keys(&["-l", "from-form"]);
    t.keys(&["Down"]);
    t.keys(&["-l", "builtin:se"]);
    t.keys(&["Tab"]);
    t.wait_for("the task completed", Duration::from_secs(10), |s| s.contains("builtin:sentiment"));
    t.keys(&["Down"]);
    t.keys(&["-l", "bow:16, bo"]);
    t.keys(&["Tab"]);
    t.wait_for("the ladder completed", Duration::from_secs(10), |s| s.contains("bow:16, bow"));
    t.keys(&["Down", "C-u"]);
    t.keys(&["-l", "logconf"]);
    t.keys(&["Down"]);
    t.keys(&["-l", "400"]);
    t.keys(&["Down", "C-u"]);
    t.keys(&["-l", "9"]);
    t.keys(&["Enter"]);
    let s = t.wait_for("the new experiment open", Duration::from_secs(30), |s| {
        s.contains("Experiment · from-form") && s.contains("Stages · 0/")
    });
    assert!(s.contains("bow:16 → bow") && s.contains("seed 9"), "{s}");
    let file = cfg_dir.join("experiments/from-form.toml");
    let cfg = w2sd::w2s::config::ExperimentConfig::load(&file).unwrap();
    assert_eq!(cfg.ladder, vec!["bow:16", "bow"]);
    assert_eq!(cfg.task.n, Some(400));
    assert_eq!(cfg.losses, vec![w2sd::w2s::loss::LossKind::Logconf]);
    t.keys(&["r"]);
    let s = t.wait_for("every stage done", Duration::from_secs(300), |s| s.contains("every stage is done"));
    assert!(shows_pgr_number(&s), "the student's PGR:\n{s}");
    t.keys(&["q"]);
    let runs: Vec<_> = std::fs::read_dir(data.join("runs")).unwrap().filter_map(|e| e.ok()).collect();
    assert!(runs.iter().any(|r| r.path().join("results.json").is_file()), "the results are in <data>/runs");
}
