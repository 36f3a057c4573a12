//! Every screen, in every state the UI tests build, draws without a panic at every terminal
//! size from 1×1 up to 48×14 (20×5, the smallest supported size, included), and at a few odd
//! ones; each size is also reached by a resize from a large terminal.

mod tui_support;

use tui_support::*;
use w2sd::tui::action::Action;
use w2sd::tui::app::{App, Screen};
use w2sd::tui::message::TrainEvent;
use w2sd::tui::message::{DebateEvent, ModelRow, WorkerEvent};
use w2sd::tui::views::debate::Phase;

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
