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

/// A config with several seeds opens on the screen too: `r` runs each seed's pipeline in
/// `<out>/seed-K/`, then the row that combines them, and the screen draws PGR against strong
/// model with the spread over seeds and each run's mean with its interval across seeds. The
/// combined results on disk are those of a headless `w2sd train --seeds`.
#[test]
fn train_config_ui_runs_several_seeds_and_shows_their_spread() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("seeds-bow.toml");
    std::fs::write(
        &cfg,
        "ladder = [\"bow:16\", \"bow:4096\"]\nlosses = [\"logconf\"]\nseeds = [1, 2]\n\n[task]\nspec = \"builtin:sentiment\"\nn = 400\n\n[metrics]\nresamples = 50\n",
    )
    .unwrap();
    let out = tmp.path().join("run");
    let bin = Path::new(env!("CARGO_BIN_EXE_w2sd"));
    let cmd = format!(
        "env W2SD_DATA_DIR={} {} train --config {} --out {} --ui",
        shell_quote(&tmp.path().join("data")),
        shell_quote(bin),
        shell_quote(&cfg),
        shell_quote(&out)
    );
    let t = Tmux::start("train-seeds", 120, 40, &cmd);
    let s = t.wait_for("the Train screen on the config", Duration::from_secs(30), |s| s.contains("seeds 1, 2"));
    assert!(s.contains("seeds-bow"), "{s}");
    t.keys(&["r"]);
    let s = t.wait_for("each seed's stages", Duration::from_secs(30), |s| s.contains("s2 data"));
    assert!(s.contains("s1 data") && s.contains("results over seeds"), "{s}");
    let s = t.wait_for("every stage done", Duration::from_secs(300), |s| s.contains("every stage is done"));
    assert!(s.contains("results over seeds"), "{s}");
    assert!(s.contains("PGR against strong model · mean, spread over seeds"), "{s}");
    assert!(s.contains("mean over seeds, 95% interval across seeds"), "{s}");
    assert!(s.contains("bow:4096 logconf"), "{s}");
    t.keys(&["q"]);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(r["runs"].as_array().unwrap().len(), 2, "one run per seed: {r}");
    assert_eq!(r["aggregate"].as_array().unwrap().len(), 1, "their mean over seeds: {r}");
    assert!(out.join("seed-1/results.json").is_file() && out.join("seed-2/results.json").is_file());
}
