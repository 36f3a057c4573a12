//! One writer per session file and per training run folder: a second writer gets a clear
//! error naming the holder's pid; readers need no lock; a lock dies with its process.

mod common;
mod tmux_support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use tmux_support::{shell_quote, Tmux};

fn w2sd(home: &Path, args: &[&str]) -> Output {
    Command::new(common::bin())
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .env("W2SD_DATA_DIR", home.join("data"))
        .env("W2SD_CONFIG_DIR", home.join("config"))
        .env("W2SD_CACHE_DIR", home.join("cache"))
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_second_session_writer_is_refused_with_the_holders_pid() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let out = h.join("s.json");
    let repo_session = Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/reading-debate-n20.json");
    std::fs::copy(&repo_session, &out).unwrap();
    let before = std::fs::read(&out).unwrap();

    // Writer 1: `w2sd judge` in a terminal holds the session's lock for its whole run (its
    // models are not in the empty cache, so it stays on its error screen, doing nothing).
    let cmd = format!(
        "exec env HF_HUB_OFFLINE=1 W2SD_DATA_DIR={d} W2SD_CONFIG_DIR={c} W2SD_CACHE_DIR={k} {bin} judge --task builtin:reading -n 1 \
         --strong no-such-model --weak no-such-model --out {out}",
        d = shell_quote(&h.join("data")),
        c = shell_quote(&h.join("config")),
        k = shell_quote(&h.join("cache")),
        bin = shell_quote(&common::bin()),
        out = shell_quote(&out),
    );
    let t = Tmux::start("lock", 100, 30, &cmd);
    let pid = t.pane_pid();
    let lock = w2sd::session::store::lock_path(&out);
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&lock).map(|s| s.trim() != pid.to_string()).unwrap_or(true) {
        assert!(t0.elapsed() < Duration::from_secs(30), "the judge UI never took the lock; screen:\n{}", t.capture());
        std::thread::sleep(Duration::from_millis(100));
    }

    // Writer 2, a second process: `debate run` and `debate judge` on the same file are refused,
    // naming writer 1's pid, before any model loads; the file is untouched.
    for args in [
        vec!["debate", "run", "--task", "builtin:reading", "--n", "20", "--out", out.to_str().unwrap()],
        vec!["debate", "judge", out.to_str().unwrap(), "--judge-model", "no-such-model"],
    ] {
        let o = w2sd(h, &args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {e}");
        assert!(e.starts_with("error: session file ") && e.contains("s.json"), "{e}");
        assert!(e.contains(&format!("in use by another w2sd process (pid {pid})")), "{e}");
        assert!(!e.contains("loading"), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
    assert_eq!(std::fs::read(&out).unwrap(), before);

    // Readers need no lock.
    let o = w2sd(h, &["sessions", "stats", out.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = w2sd(h, &["sessions", "show", out.to_str().unwrap(), "--debate", "0"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // SIGKILL the holder: the kernel drops its lock, and a writer gets past it (to the model
    // that is not there: a different error).
    tmux_support::kill(pid, "KILL");
    let t0 = std::time::Instant::now();
    while tmux_support::alive(pid) {
        assert!(t0.elapsed() < Duration::from_secs(10), "the holder did not die");
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = w2sd(h, &["debate", "judge", out.to_str().unwrap(), "--judge-model", "no-such-model"]);
    let e = stderr(&o);
    assert!(!o.status.success() && !e.contains("in use") && e.contains("no-such-model"), "{e}");
    drop(t);
}

#[test]
fn a_second_training_run_on_one_folder_is_refused_with_the_holders_pid() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let run = h.join("run");
    let mut cfg = w2sd::w2s::config::ExperimentConfig::for_task("builtin:sentiment");
    cfg.ladder = vec!["bow:64".into(), "bow:256".into()];
    cfg.task.n = Some(60);
    let args = [
        "train",
        "--task",
        "builtin:sentiment",
        "--ladder",
        "bow:64,bow:256",
        "--n",
        "60",
        "--loss",
        "xent",
        "--out",
        run.to_str().unwrap(),
        "--json",
    ];
    {
        // This process is writer 1.
        let _held = w2sd::w2s::pipeline::Experiment::new(cfg, &run).unwrap();
        let o = w2sd(h, &args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{e}");
        assert!(e.contains("training run folder") && e.contains(&format!("pid {})", std::process::id())), "{e}");
        assert!(!run.join("stages").read_dir().unwrap().any(|_| true), "writer 2 wrote a stage");
    }
    // Writer 1 gone: the run goes through.
    let o = w2sd(h, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(run.join("results.json").is_file());
}
