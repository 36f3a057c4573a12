//! Bad parameters, task files, configs and profiles are rejected before any model loads:
//! one `error:` line naming the flag or file, exit status 2, no backtrace, no panic, and no
//! model-loading message (the checks run before `loading …` or a pull is ever printed).
//! Each case runs the real binary.

use std::path::Path;

use assert_cmd::Command;

struct Out {
    code: Option<i32>,
    stderr: String,
    stdout: String,
}

/// Runs `w2sd args…` with data, config and cache dirs in `home`.
fn w2sd(home: &Path, args: &[&str]) -> Out {
    let out = Command::cargo_bin("w2sd")
        .unwrap()
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .env("RUST_BACKTRACE", "1")
        .env("W2SD_DATA_DIR", home.join("data"))
        .env("W2SD_CONFIG_DIR", home.join("config"))
        // An empty cache: a check that came after a model load would fail on the missing model
        // (a different message, exit 1) instead of the expected one.
        .env("W2SD_CACHE_DIR", home.join("cache"))
        .write_stdin("")
        .output()
        .unwrap();
    Out {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

/// Exit status 2, one error message containing every needle, nothing about models.
fn assert_usage(o: &Out, needles: &[&str]) {
    let lines: Vec<&str> = o.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(o.code, Some(2), "exit status, stderr:\n{}", o.stderr);
    // One message: a TOML parse error may add its source snippet below the first line.
    assert!(lines.first().is_some_and(|l| l.starts_with("error: ")), "{}", o.stderr);
    assert_eq!(lines.iter().filter(|l| l.starts_with("error")).count(), 1, "one error, got:\n{}", o.stderr);
    for n in needles {
        assert!(o.stderr.contains(n), "error should mention {n:?}:\n{}", o.stderr);
    }
    for bad in ["loading", "pull", "backtrace", "panicked", "A weight is negative"] {
        assert!(!o.stderr.to_lowercase().contains(bad), "stderr mentions {bad:?}:\n{}", o.stderr);
    }
    assert!(o.stdout.is_empty(), "stdout: {}", o.stdout);
}

#[test]
fn sampling_parameters_of_generate() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let g = |extra: &[&str]| {
        let mut a = vec!["generate", "--model", "qwen2.5-coder-0.5b-instruct", "--prompt", "hi"];
        a.extend_from_slice(extra);
        w2sd(h, &a)
    };
    assert_usage(&g(&["--temperature", "nan"]), &["--temperature", "NaN"]);
    assert_usage(&g(&["--temperature", "inf"]), &["--temperature", "inf"]);
    assert_usage(&g(&["--temperature=-0.5"]), &["--temperature", "-0.5"]);
    assert_usage(&g(&["--top-p", "7"]), &["--top-p", "(0, 1]", "7"]);
    assert_usage(&g(&["--top-p", "0"]), &["--top-p", "(0, 1]"]);
    assert_usage(&g(&["--top-p", "nan"]), &["--top-p"]);
    assert_usage(&g(&["--top-k", "0"]), &["--top-k", "at least 1"]);
    assert_usage(&g(&["--max-tokens", "0"]), &["--max-tokens", "at least 1"]);
    assert_usage(&g(&["--repeat-penalty", "0"]), &["--repeat-penalty"]);
    // clap's own usage errors keep their status 2.
    let o = g(&["--temperature", "abc"]);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(o.stderr.contains("--temperature"), "{}", o.stderr);
}

#[test]
fn debate_run_checks_everything_before_the_models() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let run = |extra: &[&str]| {
        let mut a = vec!["debate", "run", "--task", "builtin:reading"];
        a.extend_from_slice(extra);
        w2sd(h, &a)
    };
    assert_usage(&run(&["--temperature", "nan"]), &["--temperature"]);
    assert_usage(&run(&["--max-tokens", "0"]), &["--max-tokens"]);
    assert_usage(&run(&["--n", "0"]), &["--n", "at least 1"]);
    assert_usage(&run(&["--rounds", "0"]), &["--rounds"]);
    assert_usage(&w2sd(h, &["debate", "run", "--task", "builtin:nope"]), &["builtin:nope", "valid specs"]);

    // A task file whose last line is malformed: the whole file is read first.
    let task = h.join("tasks.jsonl");
    let good = r#"{"id":"a","question":"q?","choices":["x","y"],"answer":0}"#;
    std::fs::write(&task, format!("{good}\n{}\n{{\"id\": \"c\", \"question\": 3}}\n", good.replace("\"a\"", "\"b\"")))
        .unwrap();
    let o = w2sd(h, &["debate", "run", "--task", task.to_str().unwrap(), "--n", "1"]);
    assert_usage(&o, &["tasks.jsonl:3", "question"]);
    let o = w2sd(h, &["debate", "run", "--task", h.join("missing.jsonl").to_str().unwrap()]);
    assert_usage(&o, &["missing.jsonl"]);

    // A profile file with a bad sampling value names the file and the field.
    let prof = h.join("p.toml");
    std::fs::write(&prof, "model = \"qwen2.5-coder-0.5b-instruct\"\n[sampling]\ntemperature = 0.5\ntop_k = 4\ntop_p = 7.0\nrepeat_penalty = 1.0\nrepeat_last_n = 64\nseed = 1\n").unwrap();
    let o = run(&["--strong", prof.to_str().unwrap()]);
    assert_usage(&o, &["sampling.top_p", "p.toml", "(0, 1]"]);
    std::fs::write(&prof, "model = \"x\"\nmax_tokens = 0\n").unwrap();
    assert_usage(&run(&["--weak", prof.to_str().unwrap()]), &["max_tokens", "p.toml"]);
    std::fs::write(&prof, "model = \"x\"\nbogus = 1\n").unwrap();
    assert_usage(&run(&["--weak", prof.to_str().unwrap()]), &["p.toml", "bogus"]);
    assert_usage(&run(&["--weak", "/nonexistent/q.toml"]), &["q.toml", "does not exist"]);

    // A corrupt session file to resume is bad input too, and is left as it was.
    let out = h.join("s.json");
    std::fs::write(&out, "{\"version\": 1, \"id\": ").unwrap();
    assert_usage(&run(&["--out", out.to_str().unwrap()]), &["s.json", "truncated"]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"version\": 1, \"id\": ");
    assert_usage(&w2sd(h, &["debate", "judge", out.to_str().unwrap(), "--judge-model", "x"]), &["s.json"]);
}

#[test]
fn judge_facilitate_and_train_check_before_the_models() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    assert_usage(&w2sd(h, &["judge", "--task", "builtin:reading", "-n", "0"]), &["--n"]);
    assert_usage(&w2sd(h, &["judge", "--task", "builtin:reading", "--temperature", "nan"]), &["--temperature"]);
    let task = h.join("t.jsonl");
    std::fs::write(&task, "{\"id\": 1}\n").unwrap();
    assert_usage(&w2sd(h, &["judge", "--task", task.to_str().unwrap()]), &["t.jsonl:1"]);
    assert_usage(&w2sd(h, &["facilitate", "--task", task.to_str().unwrap()]), &["t.jsonl:1"]);
    assert_usage(&w2sd(h, &["facilitate", "--task", "builtin:capitals", "--max-tokens", "0"]), &["--max-tokens"]);

    assert_usage(&w2sd(h, &["train", "--task", "builtin:sentiment", "--n", "0"]), &["--n"]);
    assert_usage(&w2sd(h, &["train"]), &["--config", "--task"]);
    let cfg = h.join("exp.toml");
    std::fs::write(&cfg, "ladder = [\"bow\"]\n[task]\nspec = \"builtin:sentiment\"\n").unwrap();
    assert_usage(&w2sd(h, &["train", "--config", cfg.to_str().unwrap()]), &["ladder", "two models"]);
    std::fs::write(&cfg, "[task\nspec = 1").unwrap();
    assert_usage(&w2sd(h, &["train", "--config", cfg.to_str().unwrap()]), &["exp.toml"]);
    let csv = h.join("d.csv");
    std::fs::write(&csv, "text,label\nfine,1\n\"unterminated,0\nx,maybe\n").unwrap();
    let o = w2sd(h, &["train", "--task", csv.to_str().unwrap(), "--ladder", "bow,bow2"]);
    assert_usage(&o, &["d.csv"]);
    // Nothing was written for a run that never started.
    assert!(!h.join("data").join("train").exists());
}
