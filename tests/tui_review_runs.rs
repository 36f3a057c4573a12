//! Training runs on the Review screen: found beside the sessions (a `train` kind in the list),
//! filtered and sorted with them, and opened on their stages' accuracies, PGR with intervals and
//! PGR against strong model; a several-seed run shows its means over seeds. Runs are made by the
//! real binary, headless, on a bow-only ladder (well under a second each); the tmux test opens
//! one in the real UI.

mod tmux_support;
mod tui_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tmux_support::{shell_quote, Tmux};
use tui_support::*;
use w2sd::tui::action::Action;
use w2sd::tui::app::Screen;
use w2sd::tui::message::{Effect, WorkerEvent};
use w2sd::tui::views::review::{scan, Listed};
use w2sd::tui::views::review_run::{pgr_rows, stage_accuracies};

const TINY: &str = "ladder = [\"bow:16\", \"bow:4096\"]\nlosses = [\"logconf\"]\nseed = 1\n\n[task]\nspec = \"builtin:sentiment\"\nn = 400\n\n[metrics]\nresamples = 50\n";

/// A headless `w2sd train` of `config` into `out`.
fn train(config: &str, out: &Path) {
    let cfg = out.with_extension("toml");
    std::fs::write(&cfg, config).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_w2sd"))
        .args(["train", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(out)
        .env("W2SD_DATA_DIR", out.parent().unwrap().join("data"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn shipped_session() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/reading-debate-n20.json")
}

#[test]
fn runs_are_listed_beside_sessions_and_open_on_their_results() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("place");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(shipped_session(), root.join("reading-debate-n20.json")).unwrap();
    train(TINY, &root.join("sentiment-run"));
    train(&TINY.replace("seed = 1", "seeds = [1, 2]"), &root.join("seeds-run"));
    // A folder that is no run and a run folder whose results do not read.
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::create_dir_all(root.join("broken")).unwrap();
    std::fs::write(root.join("broken/results.json"), "{").unwrap();

    let found = scan(std::slice::from_ref(&root));
    assert_eq!(found.entries.len(), 1, "the run folders' JSON files are not read as sessions: {:?}", found.errors);
    let names: Vec<&str> = found.runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["seeds-run", "sentiment-run"]);
    assert_eq!(found.errors.len(), 1, "{:?}", found.errors);
    assert!(found.errors[0].contains("broken"), "{:?}", found.errors);

    let run = &found.runs[1];
    assert_eq!(run.task(), "builtin:sentiment");
    assert_eq!(run.ladder(), ["bow:16", "bow:4096"]);
    let accs = stage_accuracies(run);
    let labels: Vec<&str> = accs.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, vec!["weak bow:16", "ceiling bow:4096", "w2s bow:4096 logconf"]);
    let rows = pgr_rows(run);
    assert_eq!(rows.len(), 1);
    let r = run.results.as_ref().unwrap();
    assert_eq!(rows[0].pgr, r.runs[0].metrics.pgr);
    assert_eq!(rows[0].ci, r.runs[0].metrics.ci.pgr);
    assert!(rows[0].pgr.is_some(), "this tiny config has a defined PGR");
    // Several seeds: the means over seeds.
    let seeds = &found.runs[0];
    let agg = &seeds.results.as_ref().unwrap().aggregate;
    assert_eq!(pgr_rows(seeds)[0].pgr, agg[0].pgr.mean);
    assert_eq!(stage_accuracies(seeds).len(), 3, "weak, ceiling and student from the means");

    let mut a = app(120, 36);
    a.screen = Screen::Review;
    a.on_worker(WorkerEvent::Sessions(found));
    let listed = a.review.listed();
    assert_eq!(listed.len(), 3);
    let screen = render(&a);
    assert!(screen.contains("Sessions 1/1 · runs 2/2"), "{screen}");
    // (the kind column: `train`, `debate`, cut to three letters where the list is narrow)
    assert!(screen.contains(" tra ") && screen.contains(" deb "), "{screen}");
    // Filters apply to runs too.
    a.review.filter = "judge:x".into();
    assert!(a.review.listed().iter().all(|l| matches!(l, Listed::Session(_))));
    a.review.filter = "task:sentiment".into();
    assert!(a.review.listed().iter().all(|l| matches!(l, Listed::Run(_))));
    a.review.filter.clear();
    // Select the one-seed run and open it.
    let at = a.review.listed().iter().position(|l| *l == Listed::Run(1)).unwrap();
    a.review.selected = at;
    assert!(render(&a).contains("enter opens the run"), "the stats panel shows the run");
    assert_eq!(a.update(Action::Export), Vec::<Effect>::new());
    assert!(a.review.notice.as_deref().unwrap().contains("debate sessions"));
    a.update(Action::Open);
    assert_eq!(a.review.open_run, Some(1));
    let screen = render(&a);
    for want in
        ["Training run · sentiment-run", "Test accuracy per stage", "PGR against strong model", "w2s bow:4096 logconf"]
    {
        assert!(screen.contains(want), "{want}: {screen}");
    }
    assert!(screen.contains(&format!("{:+.3}", rows[0].pgr.unwrap())), "the PGR with its interval: {screen}");
    a.update(Action::Cancel);
    assert_eq!(a.review.open_run, None);
    // Two runs side by side; a run and a session are not compared.
    a.review.selected = a.review.listed().iter().position(|l| *l == Listed::Run(0)).unwrap();
    a.update(Action::Compare);
    a.review.selected = a.review.listed().iter().position(|l| matches!(l, Listed::Session(_))).unwrap();
    a.update(Action::Compare);
    assert!(a.review.compare.is_none());
    assert!(a.review.notice.as_deref().unwrap().contains("two sessions or two runs"));
    a.review.selected = a.review.listed().iter().position(|l| *l == Listed::Run(1)).unwrap();
    a.update(Action::Compare);
    assert_eq!(a.review.compare_runs, Some((0, 1)));
    let screen = render(&a);
    assert!(screen.contains("Training run · seeds-run") && screen.contains("Training run · sentiment-run"), "{screen}");
    a.update(Action::Cancel);
    assert!(a.review.compare_runs.is_none());
    // The several-seed run says what its interval is.
    a.review.selected = a.review.listed().iter().position(|l| *l == Listed::Run(0)).unwrap();
    a.update(Action::Open);
    assert!(render(&a).contains("mean over seeds"), "{}", render(&a));
}

#[test]
fn tmux_review_opens_a_training_run() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let runs = data.join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    train(TINY, &runs.join("sentiment-run"));
    let sessions = data.join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    std::fs::copy(shipped_session(), sessions.join("reading-debate-n20.json")).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_w2sd"));
    // `w2sd review` with no path: the data dir's sessions and runs.
    let cmd = format!(
        "cd {} && env W2SD_DATA_DIR={} {} review",
        shell_quote(tmp.path()),
        shell_quote(&data),
        shell_quote(bin)
    );
    let t = Tmux::start("review-run", 120, 36, &cmd);
    let s = t.wait_for("the list", Duration::from_secs(30), |s| s.contains("runs 1/1"));
    assert!(s.contains(" tra ") && s.contains(" deb "), "{s}");
    // The run is the newest: first in the list (date, newest first).
    t.keys(&["g", "Enter"]);
    // The page's title can reach the screen a frame before its charts: wait for the charts.
    let s = t.wait_for("the run", Duration::from_secs(30), |s| {
        s.contains("Training run · sentiment-run") && s.contains("PGR against strong model")
    });
    assert!(s.contains("Test accuracy per stage"), "{s}");
    assert!(s.contains("w2s bow:4096 logconf"), "{s}");
    t.keys(&["Escape"]);
    t.wait_for("back to the list", Duration::from_secs(10), |s| s.contains("runs 1/1"));
    t.keys(&["q"]);
}
