//! The remote backend (`openai:BASE_URL#MODEL`) against a real OpenAI-compatible server:
//! llama.cpp's, from llama-cpp-python 0.3.36 with its `server` extra, serving the offline
//! qwen2.5-coder-0.5b-instruct GGUF on 127.0.0.1.
//!
//! The server is installed on first use into `<cache>/llama-server-venv` (pip builds llama.cpp
//! from source, about four minutes on two cores) and started once per test, on a free port,
//! through `scripts/llama_server.py`. A test fails with a clear message when it cannot be
//! installed or started; none is skipped.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

const MODEL: &str = "qwen2.5-coder-0.5b-instruct";
const LLAMA_CPP_PYTHON: &str = "llama-cpp-python[server]==0.3.36";

/// One server at a time: the tests share two cores.
static SERIAL: Mutex<()> = Mutex::new(());

fn venv() -> PathBuf {
    w2sd::paths::cache_dir().join("llama-server-venv")
}

/// The venv's python with llama-cpp-python's server importable, installed if missing.
fn server_python() -> PathBuf {
    let dir = venv();
    let py = dir.join("bin").join("python");
    let ok = |py: &Path| {
        Command::new(py).args(["-c", "import llama_cpp.server"]).output().map(|o| o.status.success()).unwrap_or(false)
    };
    if ok(&py) {
        return py;
    }
    eprintln!("installing {LLAMA_CPP_PYTHON} into {} (builds llama.cpp: a few minutes) …", dir.display());
    let st = Command::new("python3").arg("-m").arg("venv").arg(&dir).status().expect("python3 runs");
    assert!(st.success(), "cannot create a Python venv at {}: is python3-venv installed?", dir.display());
    let out =
        Command::new(dir.join("bin").join("pip")).args(["install", "-q", LLAMA_CPP_PYTHON]).output().expect("pip runs");
    assert!(
        out.status.success() && ok(&py),
        "cannot install {LLAMA_CPP_PYTHON} into {} (pip needs the package index and gcc/cmake):\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    py
}

/// The GGUF file of the offline qwen2.5-coder-0.5b-instruct (pulled if missing).
fn gguf() -> PathBuf {
    let p = common::model_path(MODEL);
    if p.is_file() {
        return p;
    }
    std::fs::read_dir(&p)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|f| f.extension().is_some_and(|x| x == "gguf"))
        .unwrap_or_else(|| panic!("no .gguf in {}", p.display()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running llama.cpp server; killed on drop.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn start(port: u16, log_dir: &Path) -> Server {
        let py = server_python();
        let log = log_dir.join(format!("llama-server-{port}.log"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/llama_server.py");
        let child = Command::new(py)
            .arg(script)
            .arg("--model")
            .arg(gguf())
            .args(["--model_alias", MODEL, "--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--n_ctx", "4096", "--embedding", "true", "--interrupt_requests", "False", "--verbose", "False"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the server starts");
        let mut s = Server { child, port, log };
        let t0 = Instant::now();
        loop {
            if let Ok(Some(st)) = s.child.try_wait() {
                panic!("the llama.cpp server exited ({st}) before answering:\n{}", s.log_text());
            }
            if answers_ok(&format!("{}/models", s.base())) {
                return s;
            }
            assert!(t0.elapsed() < Duration::from_secs(180), "the server did not answer in 180 s:\n{}", s.log_text());
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    fn spec(&self) -> String {
        format!("openai:{}#{MODEL}", self.base())
    }

    fn log_text(&self) -> String {
        let mut s = String::new();
        let _ = std::fs::File::open(&self.log).and_then(|mut f| f.read_to_string(&mut s));
        s.chars().rev().take(3000).collect::<String>().chars().rev().collect()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether a plain GET answers 200 (a raw TCP request: the tests need no HTTP client).
fn answers_ok(url: &str) -> bool {
    use std::io::Write;
    let Some((host, path)) = url.strip_prefix("http://").and_then(|r| r.split_once('/')) else { return false };
    let Ok(mut s) = std::net::TcpStream::connect(host) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    if write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines().next().is_some_and(|l| l.contains(" 200"))
}

use common::{json_of as json, run_w2sd as w2sd};

fn load(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Scoring through the server agrees with the local backend on the same GGUF: raw-prompt
/// continuations (`/completions` next-token log-probs) and the judge's letters (`/chat/completions`
/// `top_logprobs`, both answer orders). Tolerances: 0.15 nats per log-probability and 0.05 in
/// p(strong). Measured on a 2-core Xeon (AVX-512, AMX): |Δ| 0.002 and 0.048 nats for
/// " Paris"/" London"; the two backends' quantized kernels differ in rounding.
#[test]
fn remote_scoring_agrees_with_the_local_backend() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(free_port(), tmp.path());
    let r = server.spec();

    // Continuations of a raw prompt.
    let args = |m: &str| {
        vec![
            "score".to_string(),
            "--model".into(),
            m.to_string(),
            "--prompt".into(),
            "The capital of France is".into(),
            "--continuation".into(),
            " Paris".into(),
            "--continuation".into(),
            " London".into(),
            "--json".into(),
        ]
    };
    let run = |m: &str| {
        let a = args(m);
        json(&w2sd(&a.iter().map(String::as_str).collect::<Vec<_>>(), tmp.path(), &[]))
    };
    let (remote, local) = (run(&r), run(MODEL));
    for k in 0..2 {
        let (a, b) =
            (remote["scores"][k]["logprob"].as_f64().unwrap(), local["scores"][k]["logprob"].as_f64().unwrap());
        eprintln!("continuation {k}: log-prob remote {a:.4} · local {b:.4}");
        assert!((a - b).abs() < 0.15, "continuation {k}: remote {a} vs local {b}");
    }
    assert!(remote["scores"][0]["logprob"].as_f64().unwrap() > -0.5, "{remote}");

    // The judge's letters: a local session with argued debates, judged by both backends.
    let sess = tmp.path().join("argued.json");
    let s = sess.to_str().unwrap();
    let o = w2sd(
        &[
            "debate",
            "run",
            "--task",
            "builtin:capitals",
            "--n",
            "3",
            "--strong",
            "gemma-3-270m",
            "--weak",
            "gemma-3-270m",
            "--judge",
            "none",
            "--rounds",
            "1",
            "--max-tokens",
            "24",
            "--out",
            s,
        ],
        tmp.path(),
        &[],
    );
    assert!(o.ok, "{}", o.stderr);
    for m in [r.as_str(), MODEL] {
        let o = w2sd(&["debate", "judge", s, "--judge-model", m, "--json"], tmp.path(), &[]);
        assert_eq!(json(&o)["added"], 3, "{}", o.stderr);
    }
    let v = load(&sess);
    for d in v["debates"].as_array().unwrap() {
        let js = d["judgements"].as_array().unwrap();
        assert_eq!(js.len(), 2);
        let p = |name: &str| js.iter().find(|j| j["name"] == name).unwrap()["p_strong"].as_f64().unwrap();
        let (pr, pl) = (p(&r), p(MODEL));
        eprintln!("debate {}: p(strong) remote {pr:.4} · local {pl:.4}", d["index"]);
        assert!((pr - pl).abs() < 0.05, "debate {}: remote p(strong) {pr} vs local {pl}", d["index"]);
    }
}

/// A debate with the remote model as the weak side and as the judge; the same with every role
/// remote and two debates at once; a facilitation run; `models list --remote`. The API key
/// (sent as a bearer token) is written to no file and no log.
#[test]
fn debates_and_facilitation_run_through_the_server() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(free_port(), tmp.path());
    let r = server.spec();
    let key = [("W2SD_API_KEY", "sk-test-secret-4d1f")];

    let o = w2sd(&["models", "list", "--remote", &server.base(), "--json"], tmp.path(), &[]);
    let caps = json(&o);
    assert_eq!(caps["models"][0], MODEL);
    for k in ["chat", "completions", "logprobs", "embeddings"] {
        assert_eq!(caps[k], true, "{k}: {caps}");
    }

    let one = tmp.path().join("weak-remote.json");
    let o = w2sd(
        &[
            "debate",
            "run",
            "--task",
            "builtin:capitals",
            "--n",
            "2",
            "--strong",
            "gemma-3-270m",
            "--weak",
            &r,
            "--judge-model",
            &r,
            "--max-tokens",
            "32",
            "--out",
            one.to_str().unwrap(),
            "--json",
        ],
        tmp.path(),
        &key,
    );
    let sum = json(&o);
    assert_eq!(sum["judged"], 2, "{}", o.stderr);
    let text = std::fs::read_to_string(&one).unwrap();
    assert!(!text.contains("sk-test-secret") && !o.stderr.contains("sk-test-secret"), "the key leaked");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["settings"]["judge"]["spec"], r.as_str(), "{}", v["settings"]);
    for d in v["debates"].as_array().unwrap() {
        assert_eq!(d["status"], "judged");
        for t in d["turns"].as_array().unwrap() {
            let words = t["text"].as_str().unwrap().split_whitespace().count();
            // The reply starts with the asked-for words once, and goes on past them.
            assert!(words > 8, "a turn with almost nothing argued: {t}");
            assert_eq!(t["text"].as_str().unwrap().matches("I argue that").count(), 1, "{t}");
        }
    }

    let two = tmp.path().join("all-remote.json");
    let o = w2sd(
        &[
            "debate",
            "run",
            "--task",
            "builtin:capitals",
            "--n",
            "2",
            "--strong",
            &r,
            "--weak",
            &r,
            "--judge-model",
            &r,
            "--max-tokens",
            "24",
            "--concurrency",
            "2",
            "--out",
            two.to_str().unwrap(),
            "--json",
        ],
        tmp.path(),
        &key,
    );
    assert_eq!(json(&o)["judged"], 2, "{}", o.stderr);
    let v = load(&two);
    let idx: Vec<u64> = v["debates"].as_array().unwrap().iter().map(|d| d["index"].as_u64().unwrap()).collect();
    assert_eq!(idx, [0, 1], "debates are saved in index order");

    let rep = tmp.path().join("phi.json");
    let o = w2sd(
        &[
            "facilitate",
            "--task",
            "builtin:capitals",
            "--n",
            "2",
            "--strong",
            "gemma-3-270m",
            "--weak",
            &r,
            "--max-tokens",
            "24",
            "--out",
            rep.to_str().unwrap(),
            "--json",
        ],
        tmp.path(),
        &key,
    );
    let f = json(&o);
    assert_eq!(f["n"], 2, "{}", o.stderr);
    let p = f["mean_p_correct_alone"].as_f64().unwrap();
    assert!(p > 0.0 && p < 1.0, "{f}");
    assert!(!std::fs::read_to_string(&rep).unwrap().contains("sk-test-secret"));
}

/// The server stops during a debate run: the command fails with one message naming the server,
/// the session file keeps every debate judged before, and a rerun against a restarted server
/// resumes it without changing them.
#[test]
fn a_server_that_stops_mid_run_leaves_a_resumable_session() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = Server::start(port, tmp.path());
    let r = server.spec();
    let out = tmp.path().join("stopped.json");
    let args = [
        "debate",
        "run",
        "--task",
        "builtin:capitals",
        "--n",
        "4",
        "--strong",
        "gemma-3-270m",
        "--weak",
        &r,
        "--judge-model",
        &r,
        "--max-tokens",
        "24",
        "--out",
        out.to_str().unwrap(),
    ];
    let mut child = Command::new(common::bin())
        .args(args)
        .env("W2SD_DATA_DIR", tmp.path())
        .env("HF_HUB_OFFLINE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Stop the server once the first debate is judged.
    let t0 = Instant::now();
    loop {
        let judged = std::fs::read_to_string(&out)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .map(|v| v["debates"].as_array().map(|a| a.iter().filter(|d| d["status"] == "judged").count()).unwrap_or(0))
            .unwrap_or(0);
        if judged >= 1 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the run ended before the server was stopped");
        assert!(t0.elapsed() < Duration::from_secs(300), "no debate judged in 300 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    server.stop();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(1), "a failure at run time exits 1:\n{err}");
    let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    assert!(last.starts_with("error:") && last.contains("127.0.0.1"), "one message naming the server: {err}");
    assert!(!err.contains("panicked") && !err.contains("stack backtrace"), "{err}");

    let before = load(&out);
    let judged_before: Vec<Value> =
        before["debates"].as_array().unwrap().iter().filter(|d| d["status"] == "judged").cloned().collect();
    assert!(!judged_before.is_empty());

    let _server = Server::start(port, tmp.path());
    let o = w2sd(&args, tmp.path(), &[]);
    assert!(o.ok, "{}", o.stderr);
    assert!(o.stderr.contains("resuming"), "{}", o.stderr);
    let after = load(&out);
    let debates = after["debates"].as_array().unwrap();
    assert_eq!(debates.len(), 4);
    assert!(debates.iter().all(|d| d["status"] == "judged"));
    for d in &judged_before {
        let i = d["index"].as_u64().unwrap() as usize;
        assert_eq!(&debates[i], d, "debate {i} judged before the stop changed on resume");
    }
}
