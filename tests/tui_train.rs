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

/// Several seeds on the Train screen: the worker runs each seed's pipeline in `<out>/seed-K/`
/// one after another, then combines them (`w2s::seeds::combine_seeds`, as `w2sd train --seeds`
/// does); the screen lists every seed's stages and a last row for the combined results, where
/// it draws PGR against strong model with the spread over seeds and each run's mean with its
/// interval across seeds. A second worker on the folder finds it all done.
#[test]
fn worker_runs_several_seeds_one_after_another_and_shows_their_spread() {
    let d = tempfile::tempdir().unwrap();
    let mut cfg = ExperimentConfig::for_task("builtin:sentiment");
    cfg.task.n = Some(400);
    cfg.ladder = vec!["bow:16".into(), "bow:512".into(), "bow:4096".into()];
    cfg.losses = vec![w2sd::w2s::loss::LossKind::Logconf];
    cfg.seeds = Some(vec![1, 2]);
    cfg.metrics.resamples = 50;
    let setup = TrainSetup { name: "seeds".into(), cfg, out: d.path().join("run") };
    let mut app = app(120, 40);
    app.screen = Screen::Train;
    app.train = setup.state();
    assert!(render(&app).contains("seeds 1, 2"), "{}", render(&app));

    let mut events = Events::detached();
    let mut h = spawn_train(setup.clone(), events.sender()).unwrap();
    let TrainEvent::Planned { stages, .. } = next(&mut events, Duration::from_secs(10)) else {
        panic!("the plan comes first")
    };
    let names: Vec<String> = stages.iter().map(|s| s.name.clone()).collect();
    let per_seed = (names.len() - 1) / 2;
    assert!(names[..per_seed].iter().all(|n| n.starts_with("s1/")), "{names:?}");
    assert!(names[per_seed..2 * per_seed].iter().all(|n| n.starts_with("s2/")), "{names:?}");
    assert_eq!(names.last().unwrap(), "results");
    app.on_worker(WorkerEvent::Train(TrainEvent::Planned {
        config: "seeds".into(),
        settings: setup.settings(),
        stages: stages.clone(),
    }));

    h.send(TrainCommand::Run);
    let v = until(&mut events, &mut app, |e| matches!(e, TrainEvent::Finished { .. }));
    // Seed 1's stages all start before seed 2's, and the combination comes last.
    let started: Vec<usize> =
        v.iter().filter_map(|e| if let TrainEvent::StageStarted { stage } = e { Some(*stage) } else { None }).collect();
    assert!(started.windows(2).all(|w| w[0] < w[1]), "{started:?}");
    assert_eq!(started.last(), Some(&(names.len() - 1)));
    assert!(app.train.stages.iter().all(|s| s.status == StageStatus::Done), "{:?}", app.train.stages);
    for k in [1, 2] {
        assert!(setup.out.join(format!("seed-{k}/results.json")).is_file());
    }
    let combined = w2sd::w2s::results::Results::load(&setup.out.join("results.json")).unwrap();
    assert!(!combined.aggregate.is_empty());
    // The same numbers as a headless `w2sd train --seeds` of the config computes from the seeds.
    let again = w2sd::w2s::seeds::combine_seeds(&[1, 2], &setup.out).unwrap();
    assert_eq!(again.aggregate, combined.aggregate);
    // The finished screen shows the combined row with the chart and the intervals across seeds.
    assert_eq!(Some(app.train.selected), app.train.results_row());
    let screen = render(&app);
    assert!(screen.contains("PGR against strong model · mean, spread over seeds"), "{screen}");
    assert!(screen.contains("mean over seeds, 95% interval across seeds"), "{screen}");
    assert!(screen.contains("s2 w2s bow:4096 logconf"), "{screen}");
    h.stop(Duration::from_secs(5));

    // A new worker on the same folder finds every stage done, the combination too.
    let mut events = Events::detached();
    let mut h = spawn_train(setup.clone(), events.sender()).unwrap();
    let mut again = tui_support::app(120, 40);
    again.train = setup.state();
    let v = until(&mut events, &mut again, |e| matches!(e, TrainEvent::Finished { .. }));
    assert!(!v.iter().any(|e| matches!(e, TrainEvent::StageStarted { .. })), "nothing runs again");
    assert!(again.train.finished && again.train.run.is_some());
    h.stop(Duration::from_secs(5));
}
