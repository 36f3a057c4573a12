//! Every screen, in every state the UI tests build, draws without a panic at every terminal
//! size from 1×1 up to 48×14 (20×5, the smallest supported size, included), and at a few odd
//! ones; each size is also reached by a resize from a large terminal.

mod tui_support;

use tui_support::*;
use w2sd::tui::action::Action;
use w2sd::tui::app::{App, Screen};
use w2sd::tui::message::TrainEvent;
use w2sd::tui::message::{DebateEvent, ModelRow, WorkerEvent};
use w2sd::tui::message::{ExperimentEntry, ExperimentSource, RunEntry};
use w2sd::tui::views::debate::Phase;
use w2sd::tui::views::review::Listed;

/// A real finished run of a tiny bow-only experiment (made once, headless), named `name`.
fn tiny_run(name: &str) -> RunEntry {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap().keep();
        let cfg = d.join("tiny.toml");
        std::fs::write(
            &cfg,
            "ladder = [\"bow:16\", \"bow:512\", \"bow:4096\"]\nlosses = [\"xent\", \"logconf\"]\n[task]\nspec = \"builtin:sentiment\"\nn = 200\n[metrics]\nresamples = 20\n",
        )
        .unwrap();
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_w2sd"))
            .args(["train", "--config"])
            .arg(&cfg)
            .arg("--out")
            .arg(d.join("run"))
            .env("W2SD_DATA_DIR", d.join("data"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        d.join("run")
    });
    let mut r = w2sd::tui::workers::experiments::load_run(dir).unwrap();
    r.name = name.into();
    r.path = dir.join(name);
    r
}

fn debate(blind: bool) -> App {
    judging_app(80, 24, blind)
}

/// The states: a debate streamed, with a confidence picked, with help open, preparing; the
/// review list, an open session, a comparison; the train screen planned and live; models.
fn states() -> Vec<(&'static str, App)> {
    let mut out = Vec::new();
    out.push(("debate", debate(false)));
    let mut a = debate(true);
    a.update(Action::Confidence(2));
    out.push(("debate-confidence", a));
    let mut a = debate(false);
    a.update(Action::Help);
    out.push(("debate-help", a));
    let mut a = app(80, 24);
    a.debate.phase = Phase::Preparing { what: "loading qwen2.5-coder-0.5b-instruct".into(), done: 3, total: Some(9) };
    out.push(("debate-preparing", a));
    let mut a = debate(false);
    a.on_worker(WorkerEvent::Debate(DebateEvent::Error("cannot load model x: no such file".into())));
    out.push(("debate-failed", a));

    let review = || {
        let mut a = app(80, 24);
        a.screen = Screen::Review;
        a.on_worker(WorkerEvent::Sessions(scan()));
        a
    };
    out.push(("review", review()));
    let mut a = review();
    a.update(Action::Down);
    a.update(Action::Open);
    a.update(Action::NextItem);
    out.push(("review-open", a));
    let mut a = review();
    a.update(Action::Compare);
    a.update(Action::Down);
    a.update(Action::Compare);
    out.push(("review-compare", a));

    out.push(("train", train_app(80, 24)));
    let mut a = train_app(80, 24);
    a.update(Action::Run);
    let s = stage(&a, "data");
    a.on_worker(WorkerEvent::Train(TrainEvent::StageStarted { stage: s }));
    a.on_worker(WorkerEvent::Train(TrainEvent::StageDone {
        stage: s,
        summary: "600 examples".into(),
        metrics: vec![("test acc".into(), 0.6)],
        pgr: Some(0.4),
        resumed: false,
    }));
    let s = stage(&a, "weak");
    a.on_worker(WorkerEvent::Train(TrainEvent::StageStarted { stage: s }));
    for e in 1..=5 {
        a.on_worker(WorkerEvent::Train(TrainEvent::Epoch {
            stage: s,
            head: "weak".into(),
            epoch: e,
            loss: 0.7 / e as f64,
            val_acc: 0.5 + 0.05 * e as f64,
        }));
    }
    out.push(("train-live", a));

    // The Train screen's experiment picker and new-experiment form (a completion list and a refusal).
    let mut a = train_app(80, 24);
    a.update(Action::Experiments);
    let entries = (0..3)
        .map(|i| ExperimentEntry {
            source: [ExperimentSource::Saved, ExperimentSource::Here, ExperimentSource::Run][i],
            path: format!("/data/w2sd/experiments/long-experiment-name-{i}.toml").into(),
            name: format!("long-experiment-name-{i}"),
            task: "builtin:sentiment".into(),
            ladder: vec!["bow:16".into(), "qwen2.5-coder-1.5b-instruct".into()],
            status: if i == 0 { "invalid: the ladder needs at least two models".into() } else { "results".into() },
            modified: "2026-12-06 21:43".into(),
        })
        .collect();
    a.on_worker(WorkerEvent::Experiments { entries, places: vec!["/data/w2sd/experiments".into()] });
    out.push(("train-picker", a));
    let mut a = train_app(80, 24);
    a.update(Action::NewExperiment);
    if let Some(f) = a.train.form.as_mut() {
        f.focus = w2sd::tui::views::experiment_form::Field::Ladder;
        f.values[2] = "bow, ".into();
        f.complete(std::path::Path::new("."));
        f.error = Some((None, "task \"x\" is neither builtin:NAME, hf:owner/name[:file] nor an existing file".into()));
    }
    out.push(("train-form", a));

    // The Debate screen's setup form, with a choice stepped through and a refusal.
    let mut a = app(80, 24);
    a.update(Action::NewDebate);
    if let Some(f) = a.debate_form.as_mut() {
        f.focus = 4;
        f.complete(std::path::Path::new("."));
        f.refused("task \"x\" is neither builtin:NAME nor an existing file".into());
    }
    out.push(("debate-form", a));

    // A training run in Review: listed, opened, and two compared.
    let runs = || {
        let mut a = app(80, 24);
        a.screen = Screen::Review;
        let mut s = scan();
        s.runs = vec![tiny_run("a"), tiny_run("b")];
        a.on_worker(WorkerEvent::Sessions(s));
        a
    };
    out.push(("review-runs", runs()));
    let mut a = runs();
    a.review.selected = a.review.listed().iter().position(|l| matches!(l, Listed::Run(_))).unwrap();
    a.update(Action::Open);
    assert!(a.review.open_run.is_some());
    out.push(("review-run-open", a));
    let mut a = runs();
    let at: Vec<usize> =
        a.review.listed().iter().enumerate().filter(|(_, l)| matches!(l, Listed::Run(_))).map(|(i, _)| i).collect();
    a.review.selected = at[0];
    a.update(Action::Compare);
    a.review.selected = at[1];
    a.update(Action::Compare);
    assert!(a.review.compare_runs.is_some());
    out.push(("review-runs-compare", a));

    let mut a = app(80, 24);
    a.screen = Screen::Models;
    a.on_worker(WorkerEvent::Models {
        rows: Ok(vec![ModelRow {
            name: "qwen2.5-coder-0.5b-instruct".into(),
            about: "Qwen2.5-Coder 0.5B Instruct, Q4_K_M (default weak debater and judge)".into(),
            format: "gguf".into(),
            status: "verified".into(),
            size: Some(491_400_064),
            path: None,
        }]),
        device: "cpu (2 threads)".into(),
    });
    out.push(("models", a));
    out
}

#[test]
fn every_screen_draws_at_every_small_size() {
    let mut sizes: Vec<(u16, u16)> = Vec::new();
    for w in 1..=48 {
        for h in 1..=14 {
            sizes.push((w, h));
        }
    }
    sizes.extend([(20, 5), (21, 5), (20, 6), (200, 5), (20, 60), (3, 200), (300, 2), (255, 80)]);
    let mut drawn = 0;
    let n_states = states().len();
    for (name, mut a) in states() {
        // The same app through every size in turn, as a terminal being resized.
        for &(w, h) in &sizes {
            a.on_resize(w, h);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| render(&a)));
            assert!(r.is_ok(), "screen {name} panicked at {w}×{h}");
            drawn += 1;
        }
        // Keys on a tiny screen (scrolling, moving, help) do not panic either.
        a.on_resize(20, 5);
        for act in [Action::Down, Action::Down, Action::Up, Action::Help, Action::Help, Action::NextItem] {
            a.update(act);
            render(&a);
        }
    }
    assert_eq!(drawn, n_states * sizes.len());
}

#[test]
fn the_smallest_supported_size_still_shows_the_screen() {
    // 20×5 is not a blank or garbage frame: the screen's name (or a "too small" notice) shows.
    for (name, mut a) in states() {
        a.on_resize(20, 5);
        let text = render(&a);
        assert!(text.trim().chars().count() > 10, "screen {name} at 20×5 is nearly empty:\n{text}");
    }
}

#[test]
fn clicks_anywhere_on_a_small_screen_do_not_panic() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    for (name, mut a) in states() {
        for (w, h) in [(1, 1), (3, 2), (20, 5), (21, 6), (48, 14)] {
            a.on_resize(w, h);
            // (not the tab bar: each state stays on its screen)
            for row in 1..h {
                for column in 0..w {
                    let click = MouseEvent {
                        kind: MouseEventKind::Down(MouseButton::Left),
                        column,
                        row,
                        modifiers: KeyModifiers::NONE,
                    };
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.on_mouse(click)));
                    assert!(r.is_ok(), "screen {name} panicked on a click at ({column}, {row}) at {w}×{h}");
                }
            }
            render(&a);
        }
    }
}
