//! The Train screen's worker on a real, tiny pipeline: a bag-of-words ladder on a
//! built-in task, driven by the screen's commands, with events drawn by the app and
//! results on disk; then a second worker on the same folder resumes everything.

mod tui_support;

use std::time::{Duration, Instant};

use tui_support::*;
use w2sd::tui::app::Screen;
use w2sd::tui::event::{Event, Events};
use w2sd::tui::message::WorkerEvent;
use w2sd::tui::message::{TrainCommand, TrainEvent};
use w2sd::tui::views::train::StageStatus;
use w2sd::tui::workers::train::{spawn_train, TrainSetup};
use w2sd::w2s::config::ExperimentConfig;

/// The next train event, within `wait`.
fn next(events: &mut Events, wait: Duration) -> TrainEvent {
    let deadline = Instant::now() + wait;
    loop {
        match events.rx.try_recv() {
            Ok(Event::Worker(WorkerEvent::Train(e))) => return e,
            Ok(_) => {}
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("no train event within {wait:?}: {e}"),
        }
    }
}

/// Events until (and with) the first that `stop` accepts; each is applied to `app` too.
fn until(events: &mut Events, app: &mut w2sd::tui::app::App, stop: impl Fn(&TrainEvent) -> bool) -> Vec<TrainEvent> {
    let mut v = Vec::new();
    loop {
        let e = next(events, Duration::from_secs(60));
        app.on_worker(WorkerEvent::Train(e.clone()));
        if let TrainEvent::Error(m) = &e {
            panic!("pipeline error: {m}");
        }
        let last = stop(&e);
        v.push(e);
        if last {
            return v;
        }
    }
}

#[test]
fn worker_runs_a_real_pipeline_step_pause_run_and_resume() {
    let d = tempfile::tempdir().unwrap();
    let mut cfg = ExperimentConfig::for_task("builtin:chess");
    cfg.task.n = Some(80);
    cfg.ladder = vec!["bow:128".into(), "bow:512".into(), "bow:2048".into()];
    cfg.losses = vec![w2sd::w2s::loss::LossKind::Logconf];
    cfg.metrics.resamples = 50;
    let setup = TrainSetup { name: "tiny".into(), cfg, out: d.path().join("run") };
    let mut app = app(100, 30);
    app.screen = Screen::Train;
    app.train = setup.state();

    let mut events = Events::detached();
    let mut h = spawn_train(setup.clone(), events.sender()).unwrap();
    let TrainEvent::Planned { stages, settings, .. } = next(&mut events, Duration::from_secs(10)) else {
        panic!("the plan comes first")
    };
    app.on_worker(WorkerEvent::Train(TrainEvent::Planned {
        config: "tiny".into(),
        settings: settings.clone(),
        stages: stages.clone(),
    }));
    let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"data"));
    assert_eq!(names.last(), Some(&"results"));
    assert!(names.contains(&"student:bow:2048:logconf") && names.contains(&"bootstrap:2"));
    assert!(settings.iter().any(|(k, v)| k == "ladder" && v == "bow:128 → bow:512 → bow:2048"));

    // n: exactly one stage.
    h.send(TrainCommand::StepStage);
    let v = until(&mut events, &mut app, |e| matches!(e, TrainEvent::Paused));
    assert_eq!(v[0], TrainEvent::StageStarted { stage: 0 });
    assert!(matches!(&v[v.len() - 2], TrainEvent::StageDone { stage: 0, resumed: false, .. }));
    assert_eq!(app.train.stages[0].status, StageStatus::Done);
    assert_eq!(app.train.stages[1].status, StageStatus::Pending);

    // r then p at once: the worker stops after the stage it is in when p arrives (if
    // any), so at most one stage starts.
    h.send(TrainCommand::Run);
    h.send(TrainCommand::Pause);
    let v = until(&mut events, &mut app, |e| matches!(e, TrainEvent::Paused));
    assert!(v.iter().filter(|e| matches!(e, TrainEvent::StageStarted { .. })).count() <= 1, "{v:?}");
    assert!(!app.train.running);
    assert!(app.train.stages.iter().any(|s| s.status == StageStatus::Pending), "paused before the end");

    // r runs the rest: curves arrive, students get a PGR, results land on disk.
    h.send(TrainCommand::Run);
    let v = until(&mut events, &mut app, |e| matches!(e, TrainEvent::Finished { .. }));
    let weak = names.iter().position(|n| *n == "weak").unwrap();
    assert!(v.iter().any(|e| matches!(e, TrainEvent::Epoch { stage, epoch: 1, .. } if *stage == weak)));
    assert!(app.train.stages.iter().all(|s| s.status == StageStatus::Done), "{:?}", app.train.stages);
    assert!(!app.train.running && app.train.finished);
    let student = &app.train.stages[names.iter().position(|n| *n == "student:bow:2048:logconf").unwrap()];
    // (PGR itself may be null on so few rows: the weak and ceiling accuracies can tie.)
    let get = |k: &str| student.metrics.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    assert_eq!(
        student.pgr,
        w2sd::w2s::metrics::pgr(get("weak acc").unwrap(), get("ceiling acc").unwrap(), get("test acc").unwrap())
    );
    assert!(
        student.metrics.iter().any(|(k, _)| k == "agreement"),
        "results.json numbers replace the live ones: {:?}",
        student.metrics
    );
    assert!(!app.train.stages[weak].curves.is_empty());
    assert!(setup.out.join("results.json").is_file() && setup.out.join("predictions.jsonl").is_file());
    assert!(std::fs::read_dir(setup.out.join("stages")).unwrap().count() >= names.len());
    h.stop(Duration::from_secs(5));
    assert!(h.thread.is_none(), "the worker ended");

    // A new worker on the same folder finds every stage done.
    let mut events = Events::detached();
    let mut h = spawn_train(setup.clone(), events.sender()).unwrap();
    let mut again = tui_support::app(100, 30);
    again.train = setup.state();
    let v = until(&mut events, &mut again, |e| matches!(e, TrainEvent::Finished { .. }));
    let done: std::collections::HashSet<usize> = v
        .iter()
        .filter_map(|e| if let TrainEvent::StageDone { stage, resumed: true, .. } = e { Some(*stage) } else { None })
        .collect();
    assert_eq!(done.len(), names.len());
    assert!(again.train.finished);
    h.stop(Duration::from_secs(5));
}
