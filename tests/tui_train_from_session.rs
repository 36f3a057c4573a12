//! People as weak supervisors in the terminal UI, as a person would do it in tmux (issue 13):
//! judge two debates on the Debate screen (gemma-3-270m on both sides, a small token budget),
//! open Review, press `T` on the session, and run the training it opens on the Train screen
//! until its results are written; the run's weak labels are the two verdicts.

mod common;
mod tmux_support;

use std::time::Duration;

use tmux_support::{shell_quote, Tmux};

#[test]
fn judge_two_debates_then_train_on_the_verdicts_from_review() {
    let model = "gemma-3-270m";
    common::model_path(model);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sessions").join("judged.json");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let data = tmp.path().join("data");
    let cmd = format!(
        "env HF_HUB_OFFLINE=1 W2SD_DATA_DIR={data} W2SD_CONFIG_DIR={cfg} {bin} judge --task builtin:capitals -n 2 --seed 4 \
         --strong {model} --weak {model} --rounds 1 --max-tokens 12 --judge-name ann --out {out}; echo W2SD-EXITED-$?; sleep 60",
        data = shell_quote(&data),
        cfg = shell_quote(&tmp.path().join("config")),
        bin = shell_quote(&common::bin()),
        out = shell_quote(&out),
    );
    let t = Tmux::start("from-session", 120, 36, &cmd);
    // Both sides have written their turn when both panes show a stop reason.
    let argued = |s: &str| {
        !s.contains("streaming…")
            && [" max_tokens ", " eos ", " stop_string "].iter().map(|r| s.matches(r).count()).sum::<usize>() >= 2
    };
    // Debate 1: 85% for the left (strong) side; debate 2: 15% (the right, weak, side).
    for (q, key, pct) in [("Question 1/2", "2", "85%"), ("Question 2/2", "8", "15%")] {
        let s = t.wait_for(q, Duration::from_secs(300), |s| (argued(s) && s.contains(q)) || s.contains("W2SD-EXITED"));
        assert!(s.contains(q), "{s}");
        t.keys(&[key]);
        t.wait_for("the confidence", Duration::from_secs(20), |s| s.contains(pct));
        t.keys(&["Enter"]);
        t.wait_for("the saved verdict", Duration::from_secs(60), |s| s.contains("your verdict favoured"));
        t.keys(&["Enter"]);
    }
    t.wait_for("the end of the session", Duration::from_secs(60), |s| s.contains("session done"));
    let s = w2sd::session::load(&out).unwrap();
    assert_eq!(s.debates.iter().filter(|d| !d.judgements.is_empty()).count(), 2);

    // Review lists the session; T opens a training run on its verdicts on the Train screen.
    t.keys(&["F2"]);
    // (the list row: the session's task, its judge and 2 of 2 judged; newest first, selected)
    t.wait_for("the session in Review", Duration::from_secs(30), |s| {
        s.lines().any(|l| l.contains("capitals") && l.contains(" ann ") && l.contains("2/2"))
    });
    t.keys(&["T"]);
    let s = t.wait_for("the Train screen with the session's run", Duration::from_secs(60), |s| {
        s.contains("from judged") || s.contains("error")
    });
    assert!(s.contains("from judged"), "{s}");
    t.keys(&["r"]);
    let done = t.wait_for("every stage done", Duration::from_secs(240), |s| {
        s.contains("every stage is done") || s.contains("error:")
    });
    assert!(done.contains("every stage is done"), "{done}");
    t.keys(&["q"]);
    t.wait_for("the program to exit", Duration::from_secs(30), |s| s.contains("W2SD-EXITED-0"));

    // The run on disk: weak labels from the session, one student per default loss.
    let runs = data.join("runs");
    let run = std::fs::read_dir(&runs).unwrap().map(|e| e.unwrap().path()).find(|p| p.is_dir()).expect("a run folder");
    let results = w2sd::w2s::results::Results::load(&run.join("results.json")).unwrap();
    assert_eq!(results.runs.len(), 2);
    for r in &results.runs {
        assert!(r.info.weak.starts_with("session:") && r.info.weak.ends_with("judged.json"), "{}", r.info.weak);
        assert_eq!(r.info.strong, "gemma-3-270m");
    }
}
