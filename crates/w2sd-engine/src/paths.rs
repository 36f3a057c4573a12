//! Where w2sd keeps its files: model cache, sessions, config (from `directories`).
//!
//! Overrides: `W2SD_CACHE_DIR` (models and feature caches), `W2SD_DATA_DIR`
//! (sessions, training runs), `W2SD_CONFIG_DIR` (themes, keymap).

use std::path::PathBuf;

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "w2sd")
}

fn from_env(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// Cache root: `$W2SD_CACHE_DIR`, else the platform cache dir (`~/.cache/w2sd` on Linux).
pub fn cache_dir() -> PathBuf {
    from_env("W2SD_CACHE_DIR")
        .or_else(|| project().map(|p| p.cache_dir().to_path_buf()))
        .unwrap_or_else(|| PathBuf::from(".w2sd-cache"))
}

/// Where pulled model files live: `<cache>/models`.
pub fn models_dir() -> PathBuf {
    cache_dir().join("models")
}

/// Data root: `$W2SD_DATA_DIR`, else the platform data dir (`~/.local/share/w2sd`).
pub fn data_dir() -> PathBuf {
    from_env("W2SD_DATA_DIR")
        .or_else(|| project().map(|p| p.data_dir().to_path_buf()))
        .unwrap_or_else(|| PathBuf::from(".w2sd-data"))
}

/// Default sessions directory: `<data>/sessions`.
pub fn sessions_dir() -> PathBuf {
    data_dir().join("sessions")
}

/// Where training runs live: `<data>/runs`.
pub fn runs_dir() -> PathBuf {
    data_dir().join("runs")
}

/// The one output folder of a training run named `name` (headless `w2sd train` and the Train
/// screen alike): `<data>/runs/<name>`. A run made before the two shared a folder, under
/// `<data>/train/<name>`, is used where it exists and the new folder does not, so it resumes.
pub fn run_dir(name: &str) -> PathBuf {
    let new = runs_dir().join(name);
    let old = data_dir().join("train").join(name);
    if !new.exists() && old.exists() {
        old
    } else {
        new
    }
}

/// Config root: `$W2SD_CONFIG_DIR`, else the platform config dir (`~/.config/w2sd`).
pub fn config_dir() -> PathBuf {
    from_env("W2SD_CONFIG_DIR")
        .or_else(|| project().map(|p| p.config_dir().to_path_buf()))
        .unwrap_or_else(|| PathBuf::from(".w2sd-config"))
}
