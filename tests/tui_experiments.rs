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
fn opening_makes_the_headless_checks_and_refuses_several_seeds() {
    let d = tempfile::tempdir().unwrap();
    let saved = d.path().join("experiments");
    write(&saved.join("seeds.toml"), &tiny(0).replace("seed = 0", "seeds = [1, 2]"));
    write(&saved.join("nofile.toml"), &tiny(0).replace("builtin:sentiment", "/nowhere/data.jsonl"));
    let v = find(&saved, &saved, &d.path().join("runs"));
    let by = |n: &str| v.iter().find(|e| e.name == n).unwrap();
    assert_eq!(by("seeds").status, "2 seeds: headless only");
    let e = format!("{:#}", load(by("seeds")).unwrap_err());
    assert!(e.contains("one seed"), "{e}");
    let e = format!("{:#}", load(by("nofile")).unwrap_err());
    assert!(e.contains("/nowhere/data.jsonl"), "{e}");
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
