//! The Debate screen's setup form: keys fill a consultancy debate (Tab completes and steps
//! through choices), Enter asks for the command line's checks (`cli::tui::debate_config`, as
//! `w2sd judge` makes them), a checked debate restarts the screen and is started on the real
//! debate worker, here with scripted models, judged with the keys, and its verdicts are on disk.
//! The setup is remembered in `<config>/debate.toml` and fills the next form. In tmux, the real
//! binary is driven the same way with the smallest cached model, and the verdict read from disk.

mod common;
mod tmux_support;
mod tui_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_support::*;
use w2sd::session::{Assignment, DebateStatus, JudgeSetting, Protocol, TurnOrder};
use w2sd::tui::action::Action;
use w2sd::tui::event::{Event, Sender};
use w2sd::tui::keymap::Scope;
use w2sd::tui::message::{DebateEvent, DebateSetup, Effect, WorkerEvent};
use w2sd::tui::views::debate::Phase;
use w2sd::tui::views::debate_form::DebateForm;

fn press(a: &mut w2sd::tui::app::App, code: KeyCode) -> Vec<Effect> {
    a.on_key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn type_text(a: &mut w2sd::tui::app::App, s: &str) {
    for c in s.chars() {
        press(a, KeyCode::Char(c));
    }
}

/// Clears the focused field and types `s`.
fn set(a: &mut w2sd::tui::app::App, s: &str) {
    a.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    type_text(a, s);
}

#[test]
fn the_form_sets_up_a_consultancy_debate_that_is_judged_and_saved() {
    let mut a = app(110, 34);
    assert!(a.update(Action::NewDebate).is_empty());
    assert_eq!(a.scope(), Scope::Form);
    let screen = render(&a);
    assert!(screen.contains("New debate"), "{screen}");
    assert!(screen.contains("tab complete"), "the form's keys in the status bar: {screen}");
    // task: tab completes the builtin; strong, weak: model specs (scripted here); judge: human.
    set(&mut a, "builtin:cap");
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.debate_form.as_ref().unwrap().values[0], "builtin:capitals");
    press(&mut a, KeyCode::Down);
    set(&mut a, "strong");
    press(&mut a, KeyCode::Down);
    set(&mut a, "weak");
    press(&mut a, KeyCode::Down);
    set(&mut a, "hu");
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.debate_form.as_ref().unwrap().values[3], "human");
    // protocol: tab steps debate → consultancy.
    press(&mut a, KeyCode::Down);
    set(&mut a, "debate");
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.debate_form.as_ref().unwrap().values[4], "consultancy");
    press(&mut a, KeyCode::Down);
    set(&mut a, "x");
    // A bad number: one message naming the field, the cursor on it.
    let fx = press(&mut a, KeyCode::Enter);
    assert!(fx.is_empty());
    let f = a.debate_form.as_ref().unwrap();
    assert_eq!(f.focus, 5);
    assert!(f.error.as_ref().unwrap().1.contains("rounds"), "{:?}", f.error);
    set(&mut a, "1");
    for _ in 0..2 {
        press(&mut a, KeyCode::Down);
    }
    set(&mut a, "sequential");
    for _ in 0..2 {
        press(&mut a, KeyCode::Down);
    }
    // info gap: tab steps none → weak-no-passage (the weak debater is denied the passage).
    assert_eq!(a.debate_form.as_ref().unwrap().values[9], "none");
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.debate_form.as_ref().unwrap().values[9], "weak-no-passage");
    // judge sees: tab steps no-passage → passage.
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.debate_form.as_ref().unwrap().values[10], "passage");
    // max tokens: 0 is refused in place, as `--max-tokens 0` is.
    press(&mut a, KeyCode::Down);
    set(&mut a, "0");
    assert!(press(&mut a, KeyCode::Enter).is_empty());
    let f = a.debate_form.as_ref().unwrap();
    assert_eq!(f.focus, 11);
    assert!(f.error.as_ref().unwrap().1.contains("max tokens"), "{:?}", f.error);
    set(&mut a, "8");
    press(&mut a, KeyCode::Down);
    set(&mut a, "2");
    press(&mut a, KeyCode::Down);
    set(&mut a, "3");
    let setup = match press(&mut a, KeyCode::Enter).as_slice() {
        [Effect::CheckDebate(s)] => (**s).clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(setup.protocol, Protocol::Consultancy);
    assert_eq!((setup.n, setup.seed, setup.rounds, setup.max_tokens), (2, 3, 1, 8));
    assert_eq!(setup.turn_order, TurnOrder::Sequential);
    assert_eq!(setup.assignment, Assignment::Assigned);
    assert_eq!((setup.strong_no_passage, setup.weak_no_passage, setup.judge_sees_passage), (false, true, true));
    assert!(a.debate_form.as_ref().unwrap().checking);

    // The command line's checks (those of `w2sd judge`): a bad task is refused with one message.
    let mut bad = setup.clone();
    bad.task = "/nowhere/items.jsonl".into();
    let why = format!("{:#}", w2sd::cli::tui::debate_config(&bad).unwrap_err());
    a.on_worker(WorkerEvent::DebateReady(Err(why.clone())));
    let f = a.debate_form.as_ref().unwrap();
    assert!(!f.checking && f.focus == 0, "the refusal points at the task: {why}");
    assert!(render(&a).contains("nowhere"), "{}", render(&a));

    let mut cfg = w2sd::cli::tui::debate_config(&setup).unwrap();
    assert_eq!(cfg.settings.judge, JudgeSetting::Human);
    assert_eq!(cfg.strong.model, "strong");
    // The information gap and the token budget reach the debate as `w2sd judge`'s flags do.
    assert!(cfg.strong.sees_passage && !cfg.weak.sees_passage && cfg.settings.judge_sees_passage);
    assert_eq!((cfg.strong.max_tokens, cfg.weak.max_tokens), (8, 8));
    let mut zero = setup.clone();
    zero.max_tokens = 0;
    let why = format!("{:#}", w2sd::cli::tui::debate_config(&zero).unwrap_err());
    assert!(why.contains("--max-tokens"), "{why}");
    let dir = tempfile::tempdir().unwrap();
    cfg.out = dir.path().join("consultancy.json");
    let fx = a.on_worker(WorkerEvent::DebateReady(Ok(Box::new(cfg.clone()))));
    assert_eq!(fx, vec![Effect::CancelGeneration, Effect::StartDebate(Box::new(cfg.clone()))]);
    assert!(a.debate_form.is_none());
    assert!(matches!(a.debate.phase, Phase::Preparing { .. }));
    assert_eq!(a.debate.summary.as_ref().unwrap().protocol, Protocol::Consultancy);

    // The started debate on the real worker with scripted models, judged with the keys.
    use w2sd::runtime::scripted::{choice_scorer, ScriptedModel};
    use w2sd::runtime::{share, ModelPool};
    let mut pool = ModelPool::default();
    pool.insert("strong", share(ScriptedModel::new("strong", "Mine is right.").with_scorer(choice_scorer(false))));
    pool.insert("weak", share(ScriptedModel::new("weak", "Not so.").with_scorer(choice_scorer(true))));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut handle = w2sd::tui::workers::spawn_debate_with(cfg.clone(), pool, Sender(tx));
    let (mut finished, mut verdicts) = (false, 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !finished && std::time::Instant::now() < deadline {
        let Some(Event::Worker(e)) = rx.blocking_recv() else { continue };
        if let WorkerEvent::Debate(DebateEvent::Error(m)) = &e {
            panic!("worker error {m}");
        }
        finished = matches!(e, WorkerEvent::Debate(DebateEvent::Finished { .. }));
        let mut fx = a.on_worker(e);
        if a.debate.phase == Phase::Deciding {
            press(&mut a, KeyCode::Char('2'));
            fx.extend(press(&mut a, KeyCode::Enter));
            verdicts += 1;
        }
        if matches!(a.debate.phase, Phase::Revealed(_)) {
            fx.extend(a.update(Action::Submit));
        }
        for f in fx {
            if let Effect::Debate(c) = f {
                handle.send(c);
            }
        }
    }
    handle.stop(std::time::Duration::from_secs(5));
    assert!(finished && verdicts == 2, "finished {finished}, {verdicts} verdicts");
    let s = w2sd::session::load(&cfg.out).unwrap();
    assert_eq!(s.settings.protocol, Protocol::Consultancy);
    assert_eq!(s.debates.len(), 2);
    for d in &s.debates {
        assert_eq!(d.status, DebateStatus::Judged);
        assert_eq!(d.turns.len(), 1, "consultancy: one turn");
        assert_eq!(d.judgements.len(), 1);
    }
}

#[test]
fn the_last_setup_is_remembered_and_fills_the_form() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("config/debate.toml");
    assert_eq!(DebateSetup::remembered(&file), DebateSetup::default(), "nothing remembered: the defaults");
    let s = DebateSetup {
        task: "builtin:reading".into(),
        protocol: Protocol::Consultancy,
        blind: true,
        judge: "qwen2.5-coder-0.5b-instruct".into(),
        n: 7,
        strong_no_passage: true,
        weak_no_passage: true,
        judge_sees_passage: true,
        max_tokens: 20,
        ..Default::default()
    };
    s.remember(&file).unwrap();
    assert_eq!(DebateSetup::remembered(&file), s);
    let f = DebateForm::new(&s);
    assert_eq!(f.values[9], "both-no-passage");
    assert_eq!(f.setup().unwrap(), s, "the form shows the setup as it was");
    // A file remembered before the information gap and the token budget were on the form.
    std::fs::write(&file, "task = \"builtin:reading\"\nn = 3\n").unwrap();
    let old = DebateSetup::remembered(&file);
    assert_eq!((old.task.as_str(), old.n), ("builtin:reading", 3));
    assert!(!old.weak_no_passage && old.max_tokens == DebateSetup::default().max_tokens);
    // A file that does not read gives the defaults, not an error.
    std::fs::write(&file, "protocol = \"shouting\"").unwrap();
    assert_eq!(DebateSetup::remembered(&file), DebateSetup::default());
    // The key is in the Debate screen's help.
    let a = app(100, 30);
    let rows = w2sd::tui::views::help_rows(&a.keymap, Scope::Debate);
    assert!(rows.iter().any(|(k, d)| k == "n" && d.contains("New debate")), "{rows:?}");
}

/// The real binary in tmux, as a person drives it: F1 on an empty Debate screen, `n`, the form
/// filled with the keys for a consultancy debate on builtin:reading with the information gap (the
/// weak debater denied the passage), gemma-3-270m on both sides (the smallest cached model) and
/// 16 tokens a turn, Enter; the item is judged with the judge keys, and the verdict, the
/// settings and the debaters' passage access are read from the session file's JSON. The setup
/// is remembered in `<config>/debate.toml`. About ten seconds of generation on a CPU.
#[test]
fn in_tmux_the_form_starts_a_consultancy_debate_judged_with_keys_and_saved() {
    use std::time::Duration;
    use tmux_support::{shell_quote, Tmux};
    let model = "gemma-3-270m";
    common::model_path(model);
    let tmp = tempfile::tempdir().unwrap();
    let (data, config, empty) = (tmp.path().join("data"), tmp.path().join("config"), tmp.path().join("empty"));
    std::fs::create_dir_all(&empty).unwrap();
    let cmd = format!(
        "env W2SD_DATA_DIR={} W2SD_CONFIG_DIR={} HF_HUB_OFFLINE=1 {} review {}; echo W2SD-EXITED-$?; sleep 60",
        shell_quote(&data),
        shell_quote(&config),
        shell_quote(&common::bin()),
        shell_quote(&empty)
    );
    let t = Tmux::start("debate-form", 110, 32, &cmd);
    t.wait_for("the UI", Duration::from_secs(30), |s| s.contains("Debate F1"));
    t.keys(&["F1"]);
    let s = t.wait_for("the idle Debate screen", Duration::from_secs(10), |s| s.contains("No debate is running"));
    assert!(s.contains("n opens the setup form"), "the idle screen names the form's key:\n{s}");
    t.keys(&["n"]);
    t.wait_for("the form", Duration::from_secs(10), |s| s.contains("New debate"));

    // Each field as a person fills it: clear (ctrl-u), type, tab to complete or step a choice.
    let field = |text: &str| {
        t.keys(&["C-u"]);
        t.keys(&["-l", text]);
    };
    field("builtin:rea");
    t.keys(&["Tab"]);
    t.wait_for("the task completed", Duration::from_secs(10), |s| s.contains("builtin:reading"));
    t.keys(&["Down"]);
    field("gemma-3");
    t.keys(&["Tab"]);
    t.wait_for("the strong model completed", Duration::from_secs(10), |s| s.contains("strong     gemma-3-270m"));
    t.keys(&["Down"]);
    field(model);
    t.keys(&["Down"]);
    field("hu");
    t.keys(&["Tab", "Down"]);
    // protocol: tab steps debate → consultancy.
    t.keys(&["Tab", "Down"]);
    field("1");
    // assignment, turn order and blind stay; info gap: tab steps none → weak-no-passage.
    t.keys(&["Down", "Down", "Down", "Down", "Tab"]);
    // judge sees stays (no passage); max tokens, n, seed.
    t.keys(&["Down", "Down"]);
    field("16");
    t.keys(&["Down"]);
    field("1");
    t.keys(&["Down"]);
    field("7");
    let form = t.wait_for("the filled form", Duration::from_secs(10), |s| s.contains("seed       7"));
    for want in [
        "task       builtin:reading",
        "weak       gemma-3-270m",
        "judge      human",
        "protocol   consultancy",
        "info gap   weak-no-passage",
        "judge sees no-passage",
        "max tokens 16",
        "n          1",
    ] {
        assert!(form.contains(want), "{want:?} on the form:\n{form}");
    }
    t.keys(&["Enter"]);

    // The consultant argues (one turn); the judge bar waits for a verdict.
    let argued = |s: &str| {
        s.contains("Question 1/1")
            && !s.contains("streaming…")
            && [" max_tokens ", " eos ", " stop_string "].iter().any(|r| s.contains(r))
    };
    let s = t.wait_for("the consultant's turn", Duration::from_secs(240), |s| {
        argued(s) || s.contains("W2SD-EXITED") || s.contains("error")
    });
    assert!(argued(&s), "{s}");
    assert!(s.contains("consultancy · judge human"), "{s}");
    // "2": 85 % for the left (strong) side, then Enter submits.
    t.keys(&["2"]);
    t.wait_for("the confidence", Duration::from_secs(10), |s| s.contains("85%"));
    t.keys(&["Enter"]);
    let s = t.wait_for("the saved verdict", Duration::from_secs(30), |s| s.contains("your verdict favoured"));
    assert!(s.contains("saved"), "{s}");

    // The verdict is on disk: read the session file's JSON.
    let sessions = data.join("sessions");
    let files: Vec<_> = std::fs::read_dir(&sessions)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json") && !p.file_name().unwrap().to_string_lossy().starts_with('.')
        })
        .collect();
    assert_eq!(files.len(), 1, "one session file: {files:?}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    let settings = &v["settings"];
    assert_eq!(settings["task"], "builtin:reading");
    assert_eq!(settings["protocol"], "consultancy");
    assert_eq!(settings["judge"]["kind"], "human");
    assert_eq!(settings["judge_sees_passage"], false);
    assert_eq!((settings["n"].as_u64(), settings["seed"].as_u64()), (Some(1), Some(7)));
    let p = &v["provenance"];
    assert_eq!((&p["strong"]["model"], &p["weak"]["model"]), (&model.into(), &model.into()));
    assert_eq!(p["strong"]["sees_passage"], true);
    assert_eq!(p["weak"]["sees_passage"], false, "the information gap");
    assert_eq!(p["weak"]["max_tokens"], 16);
    let debates = v["debates"].as_array().unwrap();
    assert_eq!(debates.len(), 1);
    assert_eq!(debates[0]["status"], "judged");
    assert_eq!(debates[0]["turns"].as_array().unwrap().len(), 1, "consultancy: one turn");
    assert!(debates[0]["turns"][0]["tokens"].as_u64().unwrap() <= 16);
    let j = debates[0]["judgements"].as_array().unwrap();
    assert_eq!(j.len(), 1);
    assert_eq!(j[0]["kind"], "human");
    assert!((j[0]["p_strong"].as_f64().unwrap() - 0.85).abs() < 1e-9, "{}", j[0]);

    t.keys(&["Enter"]);
    t.wait_for("the end of the session", Duration::from_secs(30), |s| s.contains("session done"));
    t.keys(&["q"]);
    let end = t.wait_for("the program to exit", Duration::from_secs(30), |s| s.contains("W2SD-EXITED"));
    assert!(end.contains("W2SD-EXITED-0"), "{end}");
    // Remembered for the next form.
    let r = DebateSetup::remembered(&config.join("debate.toml"));
    assert_eq!(
        (r.task.as_str(), r.protocol, r.weak_no_passage, r.max_tokens),
        ("builtin:reading", Protocol::Consultancy, true, 16)
    );
}
