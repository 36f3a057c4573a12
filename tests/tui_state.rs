//! State-update tests: actions and worker messages in, state and effects out.

mod tui_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_support::*;
use w2sd::session::{JudgeSetting, Protocol};
use w2sd::tui::action::Action;
use w2sd::tui::app::Screen;
use w2sd::tui::keymap::{Keymap, Scope};
use w2sd::tui::message::Effect;
use w2sd::tui::message::{DebateCommand, DebateEvent, Pane, Reveal, WorkerEvent};
use w2sd::tui::message::{TrainCommand, TrainEvent};
use w2sd::tui::views::debate::{DebateSummary, Phase};
use w2sd::tui::views::train::StageStatus;

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn judging_app() -> w2sd::tui::app::App {
    let mut a = app(100, 30);
    a.debate.summary = Some(human_summary("builtin:capitals", "t"));
    stream_item(&mut a, false);
    a
}

#[test]
fn confidence_then_enter_sends_the_verdict() {
    let mut a = judging_app();
    assert_eq!(a.debate.phase, Phase::Deciding);
    assert!(a.on_key(key('8')).is_empty());
    assert_eq!(a.debate.p_right, Some(85));
    let fx = a.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    match fx.as_slice() {
        [Effect::Debate(DebateCommand::Verdict { p_right, rationale: None, .. })] => {
            assert!((p_right - 0.85).abs() < 1e-9)
        }
        other => panic!("unexpected effects {other:?}"),
    }
    assert_eq!(a.debate.phase, Phase::Saving);
    // The next item appears only after the worker says the verdict is on disk.
    let fx = a.on_worker(WorkerEvent::Debate(DebateEvent::VerdictSaved {
        index: 2,
        reveal: Some(Reveal { right_correct: false, correct: false, d: -1.7, strong_pane: Pane::Left }),
        judged: 1,
    }));
    assert!(fx.is_empty());
    assert!(matches!(a.debate.phase, Phase::Revealed(_)));
    assert_eq!(a.update(Action::Submit), vec![Effect::Debate(DebateCommand::Next)]);
}

#[test]
fn fifty_percent_and_no_choice_are_refused() {
    let mut a = judging_app();
    assert!(a.update(Action::Submit).is_empty(), "no confidence chosen");
    assert!(a.debate.notice.as_deref().unwrap().contains("1–9"));
    a.update(Action::Confidence(5));
    assert!(a.update(Action::Submit).is_empty());
    assert!(a.debate.notice.as_deref().unwrap().contains("50%"));
    a.update(Action::NudgeLeft);
    assert_eq!(a.debate.p_right, Some(45));
    assert!(!a.update(Action::Submit).is_empty());
}

#[test]
fn rationale_is_typed_and_sent() {
    let mut a = judging_app();
    a.on_key(key('r'));
    assert!(a.text_input());
    for c in "cites parliament".chars() {
        a.on_key(key(c));
    }
    // Keys are text while typing: 's' did not skip, '1' did not set confidence.
    assert_eq!(a.debate.p_right, None);
    a.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(!a.text_input());
    a.on_key(key('1'));
    let fx = a.update(Action::Submit);
    assert!(
        matches!(&fx[..], [Effect::Debate(DebateCommand::Verdict { rationale: Some(r), .. })] if r == "cites parliament"),
        "{fx:?}"
    );
}

#[test]
fn skip_and_undo_cancel_generation_first() {
    let mut a = judging_app();
    assert_eq!(a.update(Action::Skip), vec![Effect::CancelGeneration, Effect::Debate(DebateCommand::Skip)]);
    a.on_worker(WorkerEvent::Debate(DebateEvent::Skipped { index: 2 }));
    assert_eq!(a.debate.skipped, 1);
    assert!(a.update(Action::Undo).is_empty(), "nothing to undo yet");
    a.debate.judged = 1;
    assert_eq!(a.update(Action::Undo), vec![Effect::CancelGeneration, Effect::Debate(DebateCommand::Undo)]);
    a.on_worker(WorkerEvent::Debate(DebateEvent::Undone { index: 1 }));
    assert_eq!(a.debate.judged, 0);
}

#[test]
fn esc_cancels_streaming_and_ctrl_c_quits_when_idle() {
    let mut a = app(100, 30);
    a.on_worker(WorkerEvent::Debate(DebateEvent::ItemStarted(Box::new(item_view(false)))));
    a.on_worker(WorkerEvent::Debate(DebateEvent::TurnStarted { pane: Pane::Left, round: 1 }));
    assert!(a.busy());
    assert_eq!(a.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)), vec![Effect::CancelGeneration]);
    assert_eq!(a.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)), vec![Effect::CancelGeneration]);
    a.on_worker(WorkerEvent::Debate(DebateEvent::TurnDone {
        pane: Pane::Left,
        stop_reason: "cancelled".into(),
        text: None,
        copied: None,
    }));
    a.on_worker(WorkerEvent::Debate(DebateEvent::Argued));
    assert!(!a.busy());
    assert!(a.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)).contains(&Effect::Quit));
    assert!(a.quit);
}

#[test]
fn streaming_follows_and_scrolling_up_stops_following() {
    let mut a = judging_app();
    assert!(a.debate.panes[0].scroll.follow);
    a.on_resize(80, 24);
    a.update(Action::Up);
    assert!(!a.debate.panes[0].scroll.follow);
    a.update(Action::FocusNext);
    assert_eq!(a.debate.focus, 1);
    a.update(Action::Bottom);
    assert!(a.debate.panes[1].scroll.follow);
}

#[test]
fn help_theme_and_screens() {
    let mut a = app(80, 24);
    a.on_key(key('?'));
    assert!(a.help.is_some());
    a.on_key(key('?'));
    assert!(a.help.is_none());
    a.on_key(key('t'));
    assert_eq!(a.theme.name, "light");
    a.on_key(key('t'));
    a.on_key(key('t'));
    assert_eq!(a.theme.name, "dark");
    assert_eq!(a.update(Action::ScreenReview), vec![Effect::ScanSessions]);
    assert_eq!(a.screen, Screen::Review);
    assert_eq!(a.update(Action::NextScreen), vec![Effect::Train(TrainCommand::Open)]);
    assert_eq!(a.screen, Screen::Train);
    assert_eq!(a.update(Action::NextScreen), vec![Effect::ListModels]);
    assert_eq!(a.update(Action::NextScreen), vec![]);
    assert_eq!(a.screen, Screen::Debate);
}

#[test]
fn remapped_keys_drive_the_app_and_the_help() {
    let mut km = Keymap::default();
    km.apply_toml("[debate]\nskip = \"x\"\n", "test").unwrap();
    let mut a = judging_app();
    a.keymap = km;
    assert!(a.on_key(key('s')).is_empty());
    assert_eq!(a.on_key(key('x')), vec![Effect::CancelGeneration, Effect::Debate(DebateCommand::Skip)]);
    let rows = w2sd::tui::views::help_rows(&a.keymap, Scope::Debate);
    assert!(rows.iter().any(|(k, d)| k == "x" && d.contains("Skip")));
    assert!(!rows.iter().any(|(k, _)| k == "s"));
    // The status bar shows the new key.
    a.help = None;
    let screen = render(&a);
    assert!(screen.lines().last().unwrap().contains("x skip"), "{screen}");
}

#[test]
fn review_filter_sort_search_open_compare() {
    let mut a = app(120, 40);
    a.screen = Screen::Review;
    a.on_worker(WorkerEvent::Sessions(scan()));
    // Newest first.
    let first = |a: &w2sd::tui::app::App| a.review.entries[a.review.visible()[0]].task().to_string();
    assert_eq!(first(&a), "builtin:arithmetic");
    a.update(Action::ReverseSort);
    assert_eq!(first(&a), "builtin:capitals");
    a.update(Action::Sort);
    assert_eq!(a.review.sort.name(), "task");
    // Filter typed live.
    a.update(Action::Filter);
    for c in "judge:bob".chars() {
        a.on_key(key(c));
    }
    assert_eq!(a.review.visible().len(), 1);
    a.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    a.update(Action::Cancel);
    assert_eq!(a.review.visible().len(), 2, "esc clears the filter");
    // Search inside transcripts opens the first hit.
    a.update(Action::Search);
    for c in "ottawa".chars() {
        a.on_key(key(c));
    }
    a.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(a.review.hits.len(), 2, "{:?}", a.review.notice);
    let o = a.review.open.clone().unwrap();
    assert_eq!(o.debate, 1);
    a.update(Action::NextItem);
    assert_ne!(a.review.open.as_ref().unwrap().entry, o.entry);
    a.update(Action::Cancel);
    assert!(a.review.open.is_none());
    // Compare two sessions.
    a.update(Action::Compare);
    a.update(Action::Down);
    a.update(Action::Compare);
    assert!(a.review.compare.is_some());
}

#[test]
fn models_pull() {
    let mut a = app(80, 24);
    a.screen = Screen::Models;
    a.on_worker(WorkerEvent::Models {
        rows: Ok(vec![w2sd::tui::message::ModelRow {
            name: "gemma-3-270m".into(),
            about: String::new(),
            format: "gguf".into(),
            status: "missing".into(),
            size: None,
            path: None,
        }]),
        device: "cpu".into(),
    });
    assert_eq!(a.update(Action::Pull), vec![Effect::Pull(vec!["gemma-3-270m".into()])]);
    assert!(a.update(Action::Pull).is_empty(), "already pulling");
    let fx = a.on_worker(WorkerEvent::PullDone { name: "gemma-3-270m".into(), result: Ok("/x".into()) });
    assert_eq!(fx, vec![Effect::ListModels]);
}

fn train(a: &mut w2sd::tui::app::App, e: TrainEvent) {
    a.on_worker(WorkerEvent::Train(e));
}

#[test]
fn train_keys_run_pause_next_and_open() {
    let mut a = app(80, 24);
    a.train = train_setup().state();
    // F3 opens the experiment once.
    assert_eq!(a.on_key(KeyEvent::new(KeyCode::F(3), KeyModifiers::NONE)), vec![Effect::Train(TrainCommand::Open)]);
    assert!(a.update(Action::ScreenTrain).is_empty());
    let mut b = train_app(80, 24);
    b.train.opened_experiment = true;
    let a = &mut b;
    // r runs continuously.
    assert_eq!(a.on_key(key('r')), vec![Effect::Train(TrainCommand::Run)]);
    assert!(a.train.running);
    // n while running runs nothing more.
    assert!(a.on_key(key('n')).is_empty());
    assert!(a.train.notice.as_deref().unwrap().contains("running"));
    // p pauses after the running stage; p again stops it now.
    train(a, TrainEvent::StageStarted { stage: 0 });
    assert_eq!(a.on_key(key('p')), vec![Effect::Train(TrainCommand::Pause)]);
    assert!(a.train.pausing);
    assert_eq!(a.on_key(key('p')), vec![Effect::Train(TrainCommand::Cancel)]);
    train(a, TrainEvent::Cancelled { stage: 0 });
    train(a, TrainEvent::Paused);
    assert!(!a.train.running && !a.train.pausing);
    assert_eq!(a.train.stages[0].status, StageStatus::Pending);
    assert!(a.train.notice.as_deref().unwrap().contains("stopped data"));
    // p while idle does nothing.
    assert!(a.on_key(key('p')).is_empty());
    // n runs exactly the next stage.
    assert_eq!(a.on_key(key('n')), vec![Effect::Train(TrainCommand::StepStage)]);
    train(a, TrainEvent::StageStarted { stage: 0 });
    train(
        a,
        TrainEvent::StageDone { stage: 0, summary: "600 examples".into(), metrics: vec![], pgr: None, resumed: false },
    );
    train(a, TrainEvent::Paused);
    assert!(!a.train.running);
    assert_eq!(a.train.stages[0].status, StageStatus::Done);
    // enter opens the selected stage's results; esc closes them.
    let s = stage(a, "student:gemma-3-270m:xent");
    a.train.selected = s - 1;
    a.on_key(key('j'));
    assert_eq!(a.train.selected, s);
    assert!(a.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)).is_empty());
    assert!(a.train.opened);
    assert!(a.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)).is_empty());
    assert!(!a.train.opened);
    // An error stops the run and shows one message; the running stage is pending again.
    a.on_key(key('r'));
    train(a, TrainEvent::StageStarted { stage: 1 });
    train(a, TrainEvent::Error("stage features:bow: disk full".into()));
    assert!(!a.train.running && a.train.error);
    assert_eq!(a.train.notice.as_deref(), Some("error: stage features:bow: disk full"));
    assert_eq!(a.train.stages[1].status, StageStatus::Pending);
    // When every stage is done, r and n say so.
    train(a, TrainEvent::Finished { results: "/x/results.json".into() });
    assert!(a.on_key(key('r')).is_empty());
    assert!(a.train.notice.as_deref().unwrap().contains("every stage is done"));
}

/// The real debate worker (the shared `SessionRun`) on scripted models, driven through the app's
/// keys as a person would: every protocol and every assignment ends with every verdict on disk.
#[test]
fn the_debate_worker_runs_every_protocol_and_assignment() {
    use w2sd::runtime::scripted::ScriptedModel;
    use w2sd::runtime::{share, ModelPool};
    use w2sd::session::{Assignment, DebateStatus, DebaterProfile, Settings, TurnOrder};
    use w2sd::tui::event::{Event, Sender};
    use w2sd::tui::message::DebateConfig;

    let profile = |m: &str| DebaterProfile {
        name: m.into(),
        model: m.into(),
        sees_passage: true,
        max_tokens: 32,
        sampling: Default::default(),
        template: "debater".into(),
        block_copies: false,
    };
    for protocol in [Protocol::Debate, Protocol::Consultancy, Protocol::Blind] {
        for assignment in [Assignment::Assigned, Assignment::SelfChosen] {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("s.json");
            let settings = Settings {
                task: "builtin:capitals".into(),
                n: 2,
                seed: 3,
                protocol,
                assignment,
                rounds: if protocol == Protocol::Blind { 0 } else { 1 },
                turn_order: TurnOrder::Sequential,
                judge: JudgeSetting::Human,
                judge_sees_passage: false,
            };
            let cfg = DebateConfig {
                settings,
                strong: profile("strong"),
                weak: profile("weak"),
                judge_name: "ada".into(),
                blind: false,
                reveal: true,
                out: out.clone(),
            };
            // The two sides prefer different answers, so self-assignment always debates.
            use w2sd::runtime::scripted::choice_scorer;
            let mut pool = ModelPool::default();
            pool.insert(
                "strong",
                share(
                    ScriptedModel::new("strong", "Mine is right, as the map shows.").with_scorer(choice_scorer(false)),
                ),
            );
            pool.insert(
                "weak",
                share(
                    ScriptedModel::new("weak", "That city is not even in the country.")
                        .with_scorer(choice_scorer(true)),
                ),
            );
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let mut handle = w2sd::tui::workers::spawn_debate_with(cfg.clone(), pool, Sender(tx));
            let mut a = app(100, 30);
            a.debate.summary = Some(DebateSummary::of(&cfg));
            let mut finished = false;
            let mut verdicts = 0;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while !finished && std::time::Instant::now() < deadline {
                let Some(Event::Worker(e)) = rx.blocking_recv() else { continue };
                if let WorkerEvent::Debate(DebateEvent::Error(m)) = &e {
                    panic!("{protocol:?} {assignment:?}: worker error {m}");
                }
                finished = matches!(e, WorkerEvent::Debate(DebateEvent::Finished { .. }));
                let mut fx = a.on_worker(e);
                if a.debate.phase == Phase::Deciding {
                    a.on_key(key('8'));
                    fx.extend(a.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
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
            assert!(finished, "{protocol:?} {assignment:?}: the session did not finish");
            let s = w2sd::session::load(&out).unwrap();
            let turns = match protocol {
                Protocol::Debate => 2,
                Protocol::Consultancy => 1,
                Protocol::Blind => 0,
            };
            assert_eq!(verdicts, 2, "{protocol:?} {assignment:?}");
            for d in &s.debates {
                assert_eq!(d.status, DebateStatus::Judged, "{protocol:?} {assignment:?}");
                assert_eq!(d.turns.len(), turns, "{protocol:?} {assignment:?}");
                assert_eq!(d.judgements[0].name, "ada");
                // 8 on the scale favours the right pane (the weak side, not blind) at 85%.
                assert!((d.judgements[0].p_strong - 0.15).abs() < 1e-9, "{:?}", d.judgements[0]);
            }
            assert_eq!(s.settings.protocol, protocol);
            assert_eq!(s.settings.assignment, assignment);
        }
    }
}

/// A left click on a tab of the top row opens that screen; a click elsewhere on the row, or
/// anywhere with the help open, does nothing.
#[test]
fn clicking_a_tab_opens_its_screen() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let click = |column: u16, row: u16| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    let mut a = app(100, 30);
    assert_eq!(a.screen, Screen::Debate);
    let top = render(&a).lines().next().unwrap().to_string();
    let col = |label: &str| top.find(label).map(|b| top[..b].chars().count() as u16).unwrap();
    for (label, screen) in
        [("Train", Screen::Train), ("Models", Screen::Models), ("Review", Screen::Review), ("Debate", Screen::Debate)]
    {
        a.on_mouse(click(col(label) + 1, 0));
        assert_eq!(a.screen, screen, "clicked {label} in {top:?}");
    }
    a.on_mouse(click(col("Models"), 5));
    assert_eq!(a.screen, Screen::Debate, "a click below the tab bar is not a tab");
    a.on_mouse(click(99, 0));
    assert_eq!(a.screen, Screen::Debate, "the theme name is not a tab");
}

fn left_click(column: u16, row: u16) -> crossterm::event::MouseEvent {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    MouseEvent { kind: MouseEventKind::Down(MouseButton::Left), column, row, modifiers: KeyModifiers::NONE }
}

/// The screen row whose text contains `needle` (the first), and the column where it starts.
fn find_on_screen(a: &w2sd::tui::app::App, needle: &str) -> Option<(u16, u16)> {
    render(a).lines().enumerate().find_map(|(y, l)| l.find(needle).map(|b| (l[..b].chars().count() as u16, y as u16)))
}

/// Thirty sessions, one judge name each (`judge00`…), created a minute apart.
fn many_sessions() -> w2sd::tui::message::Scan {
    let entries = (0..30)
        .map(|i| {
            let id = format!("capitals-s{i:02}");
            let created = format!("2025-03-01T10:{i:02}:00Z");
            let s = session(&id, &created, "builtin:capitals", &format!("judge{i:02}"), &[(0.85, true)]);
            w2sd::tui::message::SessionEntry {
                path: format!("/data/w2sd/sessions/{id}.json").into(),
                session: std::sync::Arc::new(s),
            }
        })
        .collect();
    w2sd::tui::message::Scan { entries, runs: vec![], errors: vec![] }
}

/// The judge name of the session selected in Review.
fn selected_judge(a: &w2sd::tui::app::App) -> String {
    a.review.entries[a.review.selected_entry().unwrap()].judges()
}

/// In a scrolled Review list, a click on a row selects the session drawn there (the list does
/// not move under the pointer), a second click on it opens it, and clicks on the header, the
/// border or below the last row do nothing.
#[test]
fn clicking_review_rows_selects_then_opens() {
    let mut a = app(100, 30);
    a.screen = Screen::Review;
    a.on_worker(WorkerEvent::Sessions(many_sessions()));
    a.update(Action::Bottom);
    // (newest first: the bottom row is the oldest session)
    assert_eq!(selected_judge(&a), "judge00");
    let screen = render(&a);
    assert!(!screen.contains("judge29"), "the list is scrolled:\n{screen}");
    let (x, y) = find_on_screen(&a, "judge03").unwrap_or_else(|| panic!("judge03 is shown:\n{screen}"));
    assert!(a.on_mouse(left_click(x, y)).is_empty());
    assert_eq!(selected_judge(&a), "judge03");
    assert!(a.review.open.is_none());
    assert_eq!(find_on_screen(&a, "judge03").map(|p| p.1), Some(y), "the clicked row stays under the pointer");
    // The header row, the list's border and the stats panel are not rows.
    let (hx, hy) = find_on_screen(&a, "strong").unwrap();
    for (cx, cy) in [(hx, hy), (0, y), (x, hy - 1), (x, 29)] {
        a.on_mouse(left_click(cx, cy));
        assert_eq!(selected_judge(&a), "judge03", "a click at ({cx}, {cy})");
        assert!(a.review.open.is_none(), "a click at ({cx}, {cy})");
    }
    // A second click on the selected row opens it, as enter does.
    a.on_mouse(left_click(x, y));
    let o = a.review.open.as_ref().expect("the session opened");
    assert_eq!(a.review.entries[o.entry].judges(), "judge03");
}

/// A click below the last row of a short list selects nothing.
#[test]
fn clicking_below_the_last_review_row_does_nothing() {
    let mut a = app(100, 30);
    a.screen = Screen::Review;
    a.on_worker(WorkerEvent::Sessions(scan()));
    let (x, y) = find_on_screen(&a, "bob").unwrap();
    assert!(find_on_screen(&a, "alice").is_some_and(|p| p.1 == y + 1), "{}", render(&a));
    let fx = a.on_mouse(left_click(x, y + 2));
    assert!(fx.is_empty());
    assert_eq!((a.review.selected, a.review.list_first), (0, 0));
    assert!(a.review.open.is_none());
}

/// On the Train screen a click on a stage selects it and a second click opens its results; a
/// click on the detail panel does nothing. At 16 rows the list scrolls.
#[test]
fn clicking_train_stages_selects_then_opens() {
    let mut a = train_app(100, 16);
    a.update(Action::Bottom);
    let last = a.train.stages.len() - 1;
    assert_eq!(a.train.selected, last);
    let screen = render(&a);
    assert!(!screen.contains(" 1 data"), "the stage list is scrolled:\n{screen}");
    // The second stage row shown (its number is in the row, after the status mark).
    let target = last - 2;
    let label = format!("{:>2} ", target + 1);
    let (x, y) = render(&a)
        .lines()
        .enumerate()
        .find_map(|(y, l)| l.find(&format!("○ {label}")).map(|b| (l[..b].chars().count() as u16 + 2, y as u16)))
        .unwrap_or_else(|| panic!("stage {} shown:\n{screen}", target + 1));
    assert!(a.on_mouse(left_click(x, y)).is_empty());
    assert_eq!(a.train.selected, target);
    assert!(!a.train.opened);
    let again = render(&a);
    assert!(again.lines().nth(y as usize).unwrap().contains(&format!("○ {label}")), "{again}");
    // The detail panel is not a row.
    a.on_mouse(left_click(80, y));
    assert_eq!(a.train.selected, target);
    a.on_mouse(left_click(x, y));
    assert!(a.train.opened, "a second click opens the stage's results");
}

/// In the experiment picker a click selects an experiment and a second click opens it.
#[test]
fn clicking_the_experiment_picker_selects_then_opens() {
    use w2sd::tui::message::{ExperimentEntry, ExperimentSource};
    let mut a = train_app(100, 30);
    a.update(Action::Experiments);
    let entries: Vec<ExperimentEntry> = (0..3)
        .map(|i| ExperimentEntry {
            source: ExperimentSource::Saved,
            path: format!("/data/w2sd/experiments/exp-{i}.toml").into(),
            name: format!("exp-{i}"),
            task: "builtin:sentiment".into(),
            ladder: vec!["bow:16".into(), "bow:512".into()],
            status: "not run".into(),
            modified: "2026-12-06 21:43".into(),
        })
        .collect();
    a.on_worker(WorkerEvent::Experiments { entries: entries.clone(), places: vec![] });
    let (x, y) = find_on_screen(&a, "exp-2").unwrap();
    assert!(a.on_mouse(left_click(x, y)).is_empty());
    assert_eq!(a.train.picker.as_ref().unwrap().selected, 2);
    // The header row is not an experiment.
    let (hx, hy) = find_on_screen(&a, "ladder").unwrap();
    assert!(a.on_mouse(left_click(hx, hy)).is_empty());
    assert_eq!(a.train.picker.as_ref().unwrap().selected, 2);
    assert_eq!(a.on_mouse(left_click(x, y)), vec![Effect::LoadExperiment(entries[2].clone())]);
}

/// On the Models screen a click selects a model (a second click pulls nothing); the catalog
/// scrolls to the selected row.
#[test]
fn clicking_a_model_selects_it() {
    let mut a = app(100, 11);
    a.screen = Screen::Models;
    let row = |name: &str| w2sd::tui::message::ModelRow {
        name: name.into(),
        about: String::new(),
        format: "gguf".into(),
        status: "verified".into(),
        size: None,
        path: None,
    };
    let rows = vec![row("m-a"), row("m-b"), row("m-c"), row("m-d"), row("m-e")];
    a.on_worker(WorkerEvent::Models { rows: Ok(rows), device: "cpu".into() });
    a.update(Action::Bottom);
    assert!(find_on_screen(&a, "m-e").is_some(), "the selected last model is shown:\n{}", render(&a));
    assert!(find_on_screen(&a, "m-a").is_none(), "the catalog is scrolled:\n{}", render(&a));
    let (x, y) = find_on_screen(&a, "m-c").unwrap();
    assert!(a.on_mouse(left_click(x, y)).is_empty());
    assert_eq!(a.models.selected, 2);
    assert!(a.on_mouse(left_click(x, y)).is_empty(), "a second click pulls nothing");
    assert_eq!(find_on_screen(&a, "m-c").map(|p| p.1), Some(y));
}

/// A click on a number of the judge bar's scale sets that confidence as its key does; a click
/// between numbers, or on the bar above them, sets none.
#[test]
fn clicking_the_confidence_scale_sets_the_confidence() {
    let mut keyed = judging_app();
    let mut a = judging_app();
    let screen = render(&a);
    let (y, line) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(" 1 ") && l.contains(" 9 ") && l.contains(" 4 "))
        .unwrap_or_else(|| panic!("the scale is drawn:\n{screen}"));
    let col = |n: u8| line.chars().position(|c| c == (b'0' + n) as char).unwrap() as u16;
    // Between 4 and 5 (far from both), and the bar's row.
    let gap = (col(4) + col(5)) / 2;
    a.on_mouse(left_click(gap, y as u16));
    a.on_mouse(left_click(col(8), y as u16 - 1));
    assert_eq!(a.debate.p_right, None);
    for n in [8u8, 1, 4, 6, 9, 2] {
        assert!(a.on_mouse(left_click(col(n), y as u16)).is_empty());
        keyed.on_key(key((b'0' + n) as char));
        assert_eq!(a.debate.p_right, keyed.debate.p_right, "clicked {n}");
    }
    // One column beside a digit is still that digit.
    a.on_mouse(left_click(col(7) + 1, y as u16));
    assert_eq!(a.debate.p_right, Some(75));
    // 5 is refused as its key is: the same notice.
    a.on_mouse(left_click(col(5), y as u16));
    keyed.on_key(key('5'));
    assert_eq!(a.debate.p_right, Some(50));
    assert_eq!(a.debate.notice, keyed.debate.notice);
    assert!(a.debate.notice.as_deref().unwrap().contains("50%"));
    // The click sets the confidence only: enter still submits.
    a.on_mouse(left_click(col(3), y as u16));
    assert!(matches!(a.update(Action::Submit).as_slice(), [Effect::Debate(DebateCommand::Verdict { .. })]));
}

/// A click on an entry of the status bar does what its key does: `? help` opens the help and
/// its `close help` closes it, `enter submit` sends the verdict; the confidence entry (nine keys)
/// and the bar past its last entry do nothing, nor does an entry clicked while text is typed.
#[test]
fn clicking_a_status_bar_entry_does_what_its_key_does() {
    let mut a = judging_app();
    let bottom = a.size.height - 1;
    let entry = |a: &w2sd::tui::app::App, text: &str| {
        let screen = render(a);
        let last = screen.lines().last().unwrap().to_string();
        let at = last.find(text).unwrap_or_else(|| panic!("{text:?} in the status bar {last:?}"));
        last[..at].chars().count() as u16 + 1
    };
    assert!(a.on_mouse(left_click(entry(&a, "1-9 confidence"), bottom)).is_empty());
    assert_eq!(a.debate.p_right, None);
    a.on_mouse(left_click(a.size.width - 1, bottom));
    assert_eq!(a.help, None);
    a.on_mouse(left_click(entry(&a, "? help"), bottom));
    assert_eq!(a.help, Some(0));
    // With the help open only its entry takes clicks.
    a.on_mouse(left_click(entry(&a, "close help"), bottom));
    assert_eq!(a.help, None);
    // While a rationale is typed, the entries are not keys.
    a.on_key(key('r'));
    let submit = entry(&a, "enter submit");
    assert!(a.on_mouse(left_click(submit, bottom)).is_empty());
    a.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(!a.text_input());
    a.on_key(key('2'));
    assert!(matches!(
        a.on_mouse(left_click(submit, bottom)).as_slice(),
        [Effect::Debate(DebateCommand::Verdict { .. })]
    ));
}

/// A scrolled list moves only as far as its selection needs, as a terminal list does: after
/// the end, `up` moves the selection within the rows shown and the rows stay put.
#[test]
fn a_scrolled_list_stays_put_while_the_selection_moves_inside_it() {
    let mut a = app(100, 30);
    a.screen = Screen::Review;
    a.on_worker(WorkerEvent::Sessions(many_sessions()));
    a.update(Action::Bottom);
    let before = render(&a);
    let top = find_on_screen(&a, "judge07").map(|p| p.1);
    assert!(top.is_some(), "{before}");
    a.update(Action::Up);
    assert_eq!(selected_judge(&a), "judge01");
    assert_eq!(find_on_screen(&a, "judge07").map(|p| p.1), top, "the rows did not move:\n{}", render(&a));
}
