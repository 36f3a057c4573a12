//! `w2sd train --config X --ui`, tried as a person would in tmux: the Train screen opens on X
//! (its name, task and ladder in the header), `r` runs every stage to the results, and the
//! results land in the same folder a headless run of X uses.

mod tmux_support;

use std::path::Path;
use std::time::Duration;

use tmux_support::{shell_quote, Tmux};

const CONFIG: &str = r#"ladder = ["bow:128", "bow:512", "bow:2048"]
losses = ["logconf"]
seed = 3

[task]
spec = "builtin:chess"
n = 80

[metrics]
resamples = 50
"#;

#[test]
fn train_config_ui_opens_the_experiment_and_runs_it_from_the_screen() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("tiny-chess.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let data = tmp.path().join("data");
    let out = tmp.path().join("run");
    let bin = Path::new(env!("CARGO_BIN_EXE_w2sd"));
    let cmd = format!(
        "env W2SD_DATA_DIR={} {} train --config {} --out {} --ui",
        shell_quote(&data),
        shell_quote(bin),
        shell_quote(&cfg),
        shell_quote(&out)
    );
    let t = Tmux::start("train-ui", 120, 36, &cmd);
    let s = t.wait_for("the Train screen on the config", Duration::from_secs(30), |s| {
        s.contains("tiny-chess") && s.contains("builtin:chess")
    });
    assert!(s.contains("bow:128 → bow:512 → bow:2048"), "{s}");
    assert!(!out.join("results.json").exists(), "nothing runs before a key");
    t.keys(&["r"]);
    let s = t.wait_for("every stage done", Duration::from_secs(300), |s| s.contains("every stage is done"));
    assert!(s.contains("PGR"), "students show their PGR:\n{s}");
    t.keys(&["q"]);
    assert!(out.join("results.json").is_file(), "the results are in the run folder");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(r["task"], "builtin:chess");
    assert_eq!(r["seed"], 3, "the config's seed, not the demo's");
    assert_eq!(r["ladder"].as_array().unwrap().len(), 3);
}

#[test]
fn train_ui_refuses_what_the_screen_cannot_do_before_opening() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_w2sd"))
        .args(["train", "--task", "builtin:chess", "--ui", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--ui"), "{}", String::from_utf8_lossy(&o.stderr));
}
