//! The kill harness: real `w2sd train`, `w2sd debate run` and `w2sd judge` (in tmux, judged
//! with keystrokes) processes are killed with SIGKILL at seeded random moments and resumed
//! until they finish. After every kill it checks that every file the process left parses and
//! that every judgement or verdict it had acknowledged (on stderr, or on the screen) is on
//! disk; at the end, that the resumed result equals an uninterrupted run's.
//!
//! - `kill_harness_ci` (in CI): a few kills of each, small models, about two minutes.
//! - `kill_harness_benchmark` (`cargo test --release --test kill_harness -- --ignored`): at
//!   least 100 kills (`W2SD_KILL_TRAIN`, `W2SD_KILL_DEBATE`, `W2SD_KILL_JUDGE` set the minimum
//!   of each, default 100, 4, 3); `W2SD_KILL_SEED` picks the seed, and the figures are written to
//!   `docs/results/kill_harness.json` (the README's Reliability section quotes them).

mod common;
mod tmux_support;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tmux_support::{alive, kill, shell_quote, Tmux};

const MODEL: &str = "qwen2.5-coder-0.5b-instruct";

/// splitmix64: the harness's seeded source of kill moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn duration(&mut self, max: Duration) -> Duration {
        max.mul_f64(self.unit())
    }
}

/// What one part of the harness saw.
#[derive(Debug, Default, serde::Serialize)]
struct Part {
    /// SIGKILLs sent to a running process.
    kills: usize,
    /// Resumed runs (every start after the first of a round).
    resumes: usize,
    /// Rounds: a fresh output, killed and resumed until it finished, then compared.
    rounds: usize,
    /// Rounds whose resumed result equals the uninterrupted run's.
    rounds_equal: usize,
    /// Judgements or verdicts acknowledged before a kill (checked on disk after it).
    acknowledged: usize,
    /// Acknowledged ones missing from disk after a kill (must be 0).
    lost: usize,
    /// Files checked after kills, and how many did not parse (must be 0).
    files_checked: usize,
    files_unparsable: usize,
    /// Temporary files of interrupted atomic writes found after kills (harmless litter).
    temp_files_seen: usize,
    /// Wall time of the uninterrupted reference run, seconds.
    reference_s: f64,
}

fn env_cmd(bin: &Path, home: &Path) -> Command {
    let mut c = Command::new(bin);
    c.env("HF_HUB_OFFLINE", "1")
        .env("W2SD_DATA_DIR", home.join("data"))
        .env("W2SD_CONFIG_DIR", home.join("config"))
        .env("W2SD_CACHE_DIR", home.join("cache"))
        .env("RAYON_NUM_THREADS", "2");
    c
}

/// Model specs as files in the shared model cache, so the harness's empty cache dir never
/// triggers a download.
fn model_file(name: &str) -> String {
    let dir = common::model_path(name);
    if dir.is_file() {
        return dir.display().to_string();
    }
    let gguf = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "gguf"))
        .unwrap_or(dir);
    gguf.display().to_string()
}

/// A child whose stderr lines are collected as they come.
struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    fn start(mut c: Command) -> Running {
        let mut child = c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let err = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l2 = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines() {
                match line {
                    Ok(l) => l2.lock().unwrap().push(l),
                    Err(_) => break,
                }
            }
        });
        Running { child, lines, reader: Some(reader) }
    }

    /// Waits up to `d`: `Some(success)` when it exited, `None` when it is still running.
    fn wait_for(&mut self, d: Duration) -> Option<bool> {
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return Some(st.success());
            }
            if t0.elapsed() >= d {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGKILL, then the stderr lines it printed (all of them: the pipe closes with it).
    fn kill9(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.finish()
    }

    fn finish(mut self) -> Vec<String> {
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let v = self.lines.lock().unwrap().clone();
        v
    }
}

/// Every file under `dir` parses by its kind (JSON, JSON lines, TOML; sessions also through
/// the session loader). Returns (checked, unparsable, temp files).
fn check_files(dir: &Path) -> (usize, Vec<String>, usize) {
    let mut checked = 0;
    let mut bad = Vec::new();
    let mut temps = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".tmp") {
                temps += 1;
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let ok = match p.extension().and_then(|x| x.to_str()) {
                Some("json") => serde_json::from_slice::<Value>(&bytes).is_ok(),
                Some("jsonl") => std::str::from_utf8(&bytes).is_ok_and(|t| {
                    t.lines().filter(|l| !l.trim().is_empty()).all(|l| serde_json::from_str::<Value>(l).is_ok())
                }),
                Some("toml") => std::str::from_utf8(&bytes).is_ok_and(|t| toml::from_str::<toml::Table>(t).is_ok()),
                _ => continue,
            };
            checked += 1;
            if !ok {
                bad.push(p.display().to_string());
            }
        }
    }
    (checked, bad, temps)
}

fn note_files(part: &mut Part, dir: &Path) {
    let (n, bad, temps) = check_files(dir);
    part.files_checked += n;
    part.files_unparsable += bad.len();
    part.temp_files_seen += temps;
    assert!(bad.is_empty(), "files that do not parse after a kill: {bad:?}");
}

// ---------- w2sd train ----------

fn train_args(out: &Path) -> Vec<String> {
    [
        "train",
        "--task",
        "builtin:sentiment",
        "--ladder",
        "bow:64,bow:256,bow:1024",
        "--n",
        "240",
        "--loss",
        "xent,logconf",
        "--epochs",
        "30",
        "--seed",
        "3",
        "--json",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.display().to_string()])
    .collect()
}

/// What must equal between a resumed run and an uninterrupted one: results and predictions.
fn train_outcome(out: &Path) -> (Value, String) {
    let r: Value = serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    (r, std::fs::read_to_string(out.join("predictions.jsonl")).unwrap())
}

fn harness_train(rng: &mut Rng, min_kills: usize, home: &Path) -> Part {
    let bin = common::bin();
    let mut part = Part::default();
    let reference = home.join("train-ref");
    let t0 = Instant::now();
    let o = env_cmd(&bin, home).args(train_args(&reference)).output().unwrap();
    assert!(o.status.success(), "reference train failed: {}", String::from_utf8_lossy(&o.stderr));
    let t_ref = t0.elapsed();
    part.reference_s = t_ref.as_secs_f64();
    let want = train_outcome(&reference);
    while part.kills < min_kills {
        part.rounds += 1;
        let out = home.join(format!("train-{}", part.rounds));
        let mut starts = 0;
        loop {
            starts += 1;
            assert!(starts < 200, "train never finished under kills");
            let mut r = Running::start({
                let mut c = env_cmd(&bin, home);
                c.args(train_args(&out));
                c
            });
            let at = rng.duration(t_ref.mul_f64(1.2));
            match r.wait_for(at) {
                Some(ok) => {
                    let err = r.finish();
                    assert!(ok, "a resumed train failed: {}", err.join("\n"));
                    break;
                }
                None => {
                    r.kill9();
                    part.kills += 1;
                    note_files(&mut part, &out);
                }
            }
        }
        part.resumes += starts - 1;
        note_files(&mut part, &out);
        if train_outcome(&out) == want {
            part.rounds_equal += 1;
        } else {
            panic!("round {}: the resumed train's results differ from the uninterrupted run's", part.rounds);
        }
    }
    part
}

// ---------- w2sd debate run ----------

fn debate_args(out: &Path, model: &str, n: usize) -> Vec<String> {
    let mut v: Vec<String> = [
        "debate",
        "run",
        "--task",
        "builtin:reading",
        "--n",
        &n.to_string(),
        "--rounds",
        "1",
        "--max-tokens",
        "6",
        "--seed",
        "5",
        "--json",
        "--strong",
        model,
        "--weak",
        model,
        "--judge-model",
        model,
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(out.display().to_string());
    v
}

/// A session with what differs between runs (wall times, timestamps, the command line) removed.
fn normalized_session(path: &Path) -> Value {
    let s = w2sd::session::load(path).unwrap();
    let mut v = json!({"debates": s.debates, "scores": s.scores, "settings": s.settings});
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for k in ["seconds", "at"] {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// The judgements a `debate run --json` acknowledged on stderr: (debate index, p(strong)).
fn acknowledged_judgements(lines: &[String]) -> Vec<(usize, f64)> {
    let mut current = None;
    let mut out = Vec::new();
    for l in lines {
        if let Some(rest) = l.strip_prefix("debate ") {
            current = rest.split('/').next().and_then(|x| x.parse::<usize>().ok()).map(|i| i - 1);
        }
        if let Some(p) = l.trim_start().strip_prefix("judge ").and_then(|r| r.split("p(strong) = ").nth(1)) {
            let p: f64 = p.split(',').next().unwrap().trim().parse().unwrap();
            out.push((current.expect("a judgement follows its debate's line"), p));
        }
    }
    out
}

fn harness_debate(rng: &mut Rng, min_kills: usize, n: usize, home: &Path) -> Part {
    let bin = common::bin();
    let model = model_file(MODEL);
    let mut part = Part::default();
    let reference = home.join("debate-ref").join("s.json");
    let t0 = Instant::now();
    let o = env_cmd(&bin, home).args(debate_args(&reference, &model, n)).output().unwrap();
    assert!(o.status.success(), "reference debate failed: {}", String::from_utf8_lossy(&o.stderr));
    let t_ref = t0.elapsed();
    part.reference_s = t_ref.as_secs_f64();
    let want = normalized_session(&reference);
    while part.kills < min_kills {
        part.rounds += 1;
        let out = home.join(format!("debate-{}", part.rounds)).join("s.json");
        let mut acked: Vec<(usize, f64)> = Vec::new();
        let mut starts = 0;
        loop {
            starts += 1;
            assert!(starts < 60, "the debate never finished under kills");
            let mut r = Running::start({
                let mut c = env_cmd(&bin, home);
                c.args(debate_args(&out, &model, n));
                c
            });
            let at = rng.duration(t_ref.mul_f64(1.1));
            match r.wait_for(at) {
                Some(ok) => {
                    let err = r.finish();
                    assert!(ok, "a resumed debate failed: {}", err.join("\n"));
                    break;
                }
                None => {
                    let lines = r.kill9();
                    part.kills += 1;
                    let new = acknowledged_judgements(&lines);
                    part.acknowledged += new.len();
                    acked.extend(new);
                    if out.exists() {
                        let s = w2sd::session::load(&out).expect("the session file parses after a kill");
                        for (i, p) in &acked {
                            let on_disk = s
                                .debates
                                .get(*i)
                                .is_some_and(|d| d.judgements.iter().any(|j| (j.p_strong - p).abs() < 6e-4));
                            if !on_disk {
                                part.lost += 1;
                            }
                        }
                    }
                    note_files(&mut part, out.parent().unwrap());
                }
            }
        }
        part.resumes += starts - 1;
        assert_eq!(part.lost, 0, "acknowledged judgements missing from disk");
        if normalized_session(&out) == want {
            part.rounds_equal += 1;
        } else {
            panic!(
                "round {}: the resumed session differs from the uninterrupted one:\n{}\nvs\n{}",
                part.rounds,
                normalized_session(&out),
                want
            );
        }
    }
    part
}

// ---------- w2sd judge in tmux ----------

fn judge_cmd(home: &Path, out: &Path, model: &str, n: usize) -> String {
    format!(
        "env HF_HUB_OFFLINE=1 RAYON_NUM_THREADS=2 W2SD_DATA_DIR={d} W2SD_CONFIG_DIR={c} W2SD_CACHE_DIR={k} {bin} judge \
         --task builtin:capitals -n {n} --seed 3 --strong {m} --weak {m} --rounds 1 --max-tokens 6 --judge-name kh --out {out}; \
         echo W2SD\"\"-EXIT-$?; sleep 600",
        d = shell_quote(&home.join("data")),
        c = shell_quote(&home.join("config")),
        k = shell_quote(&home.join("cache")),
        bin = shell_quote(&common::bin()),
        m = shell_quote(Path::new(model)),
        out = shell_quote(out),
    )
}

/// The w2sd process under the pane's shell.
fn judge_pid(t: &Tmux) -> u32 {
    let shell = t.pane_pid();
    let t0 = Instant::now();
    loop {
        let kids = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap_or_default();
        if let Some(p) = kids.split_whitespace().next().and_then(|p| p.parse().ok()) {
            return p;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "w2sd judge did not start:\n{}", t.capture());
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn argued(s: &str) -> bool {
    !s.contains("streaming…") && (s.matches(" max_tokens ").count() + s.matches(" eos ").count()) >= 2
}

/// "Question i/n" on the screen: the 0-based item index.
fn question_index(s: &str) -> Option<usize> {
    let rest = s.split("Question ").nth(1)?;
    rest.split('/').next()?.trim().parse::<usize>().ok().map(|i| i - 1)
}

/// One life of the judge UI: judges items with "2" (85% for the left, strong side) + Enter,
/// acknowledging each verdict when the screen says it was saved; returns when it is killed
/// (after `kill_after` verdicts, plus a random delay) or the session is done.
/// Returns (acknowledged item indices, killed).
fn judge_life(t: &Tmux, rng: &mut Rng, kill_after: Option<usize>) -> (Vec<usize>, bool) {
    let mut acked = Vec::new();
    loop {
        let s = t
            .try_wait_for(Duration::from_secs(300), |s| {
                argued(s) || s.contains("session done") || s.contains("W2SD-EXIT")
            })
            .unwrap_or_else(|s| panic!("the judge UI stalled:\n{s}"));
        assert!(!s.contains("W2SD-EXIT"), "w2sd judge exited on its own:\n{s}");
        if s.contains("session done") {
            return (acked, false);
        }
        if kill_after == Some(acked.len()) {
            return (acked, true);
        }
        let i = question_index(&s).expect("the screen shows the question number");
        t.keys(&["2"]);
        t.wait_for("the confidence", Duration::from_secs(20), |s| s.contains("85%"));
        t.keys(&["Enter"]);
        t.wait_for("the saved verdict", Duration::from_secs(60), |s| s.contains("your verdict favoured"));
        acked.push(i);
        // Kill right after an acknowledged verdict, some of the time.
        if kill_after.is_some() && rng.unit() < 0.5 {
            return (acked, true);
        }
        t.keys(&["Enter"]);
        t.wait_for("the next item", Duration::from_secs(30), |s| !s.contains("your verdict favoured"));
    }
}

fn harness_judge(rng: &mut Rng, min_kills: usize, n: usize, home: &Path) -> Part {
    let model = model_file(MODEL);
    let mut part = Part::default();
    let reference = home.join("judge-ref").join("s.json");
    let t0 = Instant::now();
    {
        let t = Tmux::start("kh-ref", 110, 32, &judge_cmd(home, &reference, &model, n));
        let (acked, killed) = judge_life(&t, rng, None);
        assert!(!killed && acked.len() == n, "the reference judge run judged {acked:?}");
        t.keys(&["q"]);
        t.wait_for("the judge to quit", Duration::from_secs(30), |s| s.contains("W2SD-EXIT-0"));
    }
    part.reference_s = t0.elapsed().as_secs_f64();
    let want = normalized_session(&reference);
    while part.kills < min_kills {
        part.rounds += 1;
        let out = home.join(format!("judge-{}", part.rounds)).join("s.json");
        let mut acked_all: Vec<usize> = Vec::new();
        let mut starts = 0;
        loop {
            starts += 1;
            assert!(starts < 40, "the judge session never finished under kills");
            let t = Tmux::start(&format!("kh-{}-{starts}", part.rounds), 110, 32, &judge_cmd(home, &out, &model, n));
            let pid = judge_pid(&t);
            eprintln!("judge life {starts} of round {}: pid {pid}", part.rounds);
            // Either kill at a random moment of loading/streaming, or after some verdicts.
            let plan = if rng.unit() < 0.4 { None } else { Some((rng.unit() * 2.0) as usize) };
            let (acked, killed) = match plan {
                None => {
                    std::thread::sleep(rng.duration(Duration::from_secs(8)));
                    let s = t.capture();
                    if s.contains("session done") {
                        (vec![], false)
                    } else {
                        (vec![], true)
                    }
                }
                Some(k) => judge_life(&t, rng, Some(k)),
            };
            if !killed {
                // Judge whatever is left, then quit normally.
                let (rest, _) = judge_life(&t, rng, None);
                acked_all.extend(rest);
                t.keys(&["q"]);
                t.wait_for("the judge to quit", Duration::from_secs(30), |s| s.contains("W2SD-EXIT-0"));
                break;
            }
            std::thread::sleep(rng.duration(Duration::from_millis(800)));
            assert!(alive(pid), "w2sd judge ended before its kill:\n{}", t.capture());
            kill(pid, "KILL");
            eprintln!("killed {pid}");
            let t1 = Instant::now();
            while alive(pid) {
                assert!(t1.elapsed() < Duration::from_secs(10), "the judge did not die");
                std::thread::sleep(Duration::from_millis(20));
            }
            part.kills += 1;
            part.acknowledged += acked.len();
            acked_all.extend(acked);
            if out.exists() {
                let s = w2sd::session::load(&out).expect("the session file parses after a kill");
                for i in &acked_all {
                    let ok = s.debates.get(*i).is_some_and(|d| {
                        d.judgements.iter().any(|j| j.name == "kh" && (j.p_strong - 0.85).abs() < 1e-9)
                    });
                    if !ok {
                        part.lost += 1;
                    }
                }
            } else {
                assert!(acked_all.is_empty(), "verdicts were acknowledged but there is no session file");
            }
            note_files(&mut part, out.parent().unwrap());
            drop(t);
        }
        part.resumes += starts - 1;
        assert_eq!(part.lost, 0, "acknowledged verdicts missing from disk");
        if normalized_session(&out) == want {
            part.rounds_equal += 1;
        } else {
            panic!(
                "round {}: the resumed judge session differs from the uninterrupted one:\n{}\nvs\n{}",
                part.rounds,
                normalized_session(&out),
                want
            );
        }
    }
    part
}

fn run_all(seed: u64, kills: [usize; 3], debate_n: usize, judge_n: usize) -> Value {
    let [train_kills, debate_kills, judge_kills] = kills;
    let home = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed);
    let t0 = Instant::now();
    let only = std::env::var("W2SD_KILL_ONLY").unwrap_or_default();
    let [train_kills, debate_kills] = if only == "judge" { [0, 0] } else { [train_kills, debate_kills] };
    let train = harness_train(&mut rng, train_kills, home.path());
    eprintln!("train: {train:?}");
    let debate = harness_debate(&mut rng, debate_kills, debate_n, home.path());
    eprintln!("debate run: {debate:?}");
    let judge = harness_judge(&mut rng, judge_kills, judge_n, home.path());
    eprintln!("judge: {judge:?}");
    let parts = [&train, &debate, &judge];
    let total = |f: fn(&Part) -> usize| parts.iter().map(|p| f(p)).sum::<usize>();
    let report = json!({
        "seed": seed,
        "kills": total(|p| p.kills),
        "lost": total(|p| p.lost),
        "acknowledged": total(|p| p.acknowledged),
        "rounds": total(|p| p.rounds),
        "rounds_equal": total(|p| p.rounds_equal),
        "files_checked": total(|p| p.files_checked),
        "files_unparsable": total(|p| p.files_unparsable),
        "wall_s": t0.elapsed().as_secs_f64(),
        "train": train,
        "debate_run": debate,
        "judge": judge,
        "settings": {
            "train": train_args(Path::new("OUT")).join(" "),
            "debate_run": debate_args(Path::new("OUT"), MODEL, debate_n).join(" "),
            "judge": format!("judge --task builtin:capitals -n {judge_n} --seed 3 --strong {MODEL} --weak {MODEL} --rounds 1 --max-tokens 6 (verdict: 2, Enter)"),
        },
    });
    assert_eq!(report["lost"], 0);
    assert_eq!(report["files_unparsable"], 0);
    assert_eq!(report["rounds"], report["rounds_equal"]);
    report
}

#[test]
fn kill_harness_ci() {
    tmux_support::require_tmux();
    let r = run_all(1, [5, 1, 1], 1, 1);
    eprintln!("{r:#}");
    assert!(r["kills"].as_u64().unwrap() >= 7);
}

#[test]
#[ignore = "the benchmark: ≥ 100 kills, several minutes; run with --ignored"]
fn kill_harness_benchmark() {
    tmux_support::require_tmux();
    let seed = std::env::var("W2SD_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(2026);
    let env = |k: &str, d: usize| std::env::var(k).ok().and_then(|s| s.parse().ok()).unwrap_or(d);
    let kills = [env("W2SD_KILL_TRAIN", 100), env("W2SD_KILL_DEBATE", 4), env("W2SD_KILL_JUDGE", 3)];
    let r = run_all(seed, kills, 1, 2);
    assert!(r["kills"].as_u64().unwrap() >= 100, "{r}");
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/results/kill_harness.json");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, format!("{}\n", serde_json::to_string_pretty(&r).unwrap())).unwrap();
    eprintln!("wrote {}", out.display());
}
