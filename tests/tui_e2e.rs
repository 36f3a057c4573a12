//! End to end: the real `w2sd judge` binary in a tmux pseudo-terminal. A debate streams
//! in (0.5B model on both sides, small token budget), the test judges it with
//! keystrokes, and checks the verdict in the saved session file.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Kills the tmux session on every path out of the test.
struct Tmux {
    name: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").args(args).output().expect("tmux runs (CI's .ci/run installs it)")
    }
    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", &self.name]).stdout).into_owned()
    }
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.name];
        args.extend_from_slice(keys);
        self.cmd(&args);
    }
    /// Polls the screen until `pred` holds, failing with the last screen after `limit`.
    fn wait_for(&self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        let t0 = Instant::now();
        loop {
            let s = self.capture();
            if pred(&s) {
                return s;
            }
            if t0.elapsed() > limit {
                panic!("timed out after {limit:?} waiting for {what}; the screen was:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.name]).output();
    }
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

#[test]
fn judge_a_debate_with_keystrokes_and_find_the_verdict_on_disk() {
    assert!(
        Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()),
        "tmux is needed for this test (apt-get install tmux)"
    );
    let model = "qwen2.5-coder-0.5b-instruct";
    common::model_path(model);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("e2e-session.json");
    let cmd = format!(
        "env W2SD_DATA_DIR={data} W2SD_CONFIG_DIR={cfg} {bin} judge --task builtin:capitals -n 1 --seed 3 --strong {model} --weak {model} \
         --rounds 1 --max-tokens 12 --judge-name e2e-judge --out {out}; echo W2SD-EXITED-$?; sleep 60",
        data = shell_quote(&tmp.path().join("data")),
        cfg = shell_quote(&tmp.path().join("config")),
        bin = shell_quote(&common::bin()),
        out = shell_quote(&out),
    );
    let t = Tmux { name: format!("w2sd-e2e-{}", std::process::id()) };
    let st = t.cmd(&["new-session", "-d", "-s", &t.name, "-x", "110", "-y", "32", &cmd]);
    assert!(st.status.success(), "tmux new-session failed: {}", String::from_utf8_lossy(&st.stderr));

    // Both sides have written their turn when both panes show a stop reason.
    let argued =
        |s: &str| !s.contains("streaming…") && (s.matches(" max_tokens ").count() + s.matches(" eos ").count()) >= 2;
    let screen = t.wait_for("both explanations", Duration::from_secs(420), |s| {
        argued(s) || s.contains("W2SD-EXITED") || s.contains("error:")
    });
    assert!(argued(&screen), "the debate did not finish arguing:\n{screen}");
    assert!(screen.contains("Question 1/1"), "{screen}");

    // The help overlay is built from the keymap and lists the judging keys.
    t.keys(&["?"]);
    let help = t.wait_for("the help overlay", Duration::from_secs(20), |s| s.contains("Keys · Debate"));
    assert!(help.contains("Undo the last verdict") && help.contains("Write a rationale note"), "{help}");
    t.keys(&["?"]);
    t.wait_for("help closed", Duration::from_secs(20), |s| !s.contains("Keys · Debate"));

    // A rationale, then "2": 85% for the left (strong) side, then Enter.
    t.keys(&["r"]);
    t.wait_for("the rationale input", Duration::from_secs(20), |s| s.contains("rationale:"));
    t.keys(&["-l", "cites the capital"]);
    t.keys(&["Enter"]);
    t.keys(&["2"]);
    t.wait_for("the confidence", Duration::from_secs(20), |s| s.contains("85%"));
    t.keys(&["Enter"]);
    let revealed = t.wait_for("the saved verdict", Duration::from_secs(60), |s| s.contains("your verdict favoured"));
    assert!(revealed.contains("saved"), "{revealed}");

    // The verdict is on disk now, before the next step.
    let s = w2sd::session::load(&out).expect("the session file is saved");
    assert_eq!(s.debates.len(), 1);
    let j = &s.debates[0].judgements;
    assert_eq!(j.len(), 1, "one verdict: {j:?}");
    assert_eq!(j[0].name, "e2e-judge");
    assert_eq!(j[0].kind, w2sd::session::JudgeKind::Human);
    assert!((j[0].p_strong - 0.85).abs() < 1e-9, "p_strong {}", j[0].p_strong);
    assert_eq!(j[0].rationale.as_deref(), Some("cites the capital"));
    assert!(!j[0].blind);
    assert_eq!(s.debates[0].turns.len(), 2);

    // Undo takes it back (on disk too), judge again with 9, continue, quit.
    t.keys(&["u"]);
    t.wait_for("the undone verdict", Duration::from_secs(60), |s| s.contains("undone"));
    assert!(w2sd::session::load(&out).unwrap().debates[0].judgements.is_empty());
    t.keys(&["9"]);
    t.wait_for("the new confidence", Duration::from_secs(20), |s| s.contains("95%"));
    t.keys(&["Enter"]);
    t.wait_for("the second verdict", Duration::from_secs(60), |s| s.contains("your verdict favoured"));
    t.keys(&["Enter"]);
    t.wait_for("the end of the session", Duration::from_secs(60), |s| s.contains("session done"));
    t.keys(&["q"]);
    let end = t.wait_for("the program to exit", Duration::from_secs(30), |s| s.contains("W2SD-EXITED"));
    assert!(end.contains("W2SD-EXITED-0"), "exit status:\n{end}");

    let s = w2sd::session::load(&out).unwrap();
    let j = &s.debates[0].judgements;
    assert_eq!(j.len(), 1);
    assert!((j[0].p_strong - 0.05).abs() < 1e-9, "9 = 95% for the right (weak) side: p_strong {}", j[0].p_strong);
    assert!(s.scores.as_ref().is_some_and(|x| x.judged == 1));
}
