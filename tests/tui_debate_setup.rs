//! The Debate screen's setup form: keys fill a consultancy debate (Tab completes and steps
//! through choices), Enter asks for the command line's checks (`cli::tui::debate_config`, as
//! `w2sd judge` makes them), a checked debate restarts the screen and is started on the real
//! debate worker, here with scripted models, judged with the keys, and its verdicts are on disk.
//! The setup is remembered in `<config>/debate.toml` and fills the next form.

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
