//! Reading and writing session files.
//!
//! Writes are atomic: the JSON goes to a temporary file in the same directory, is
//! flushed to disk (`fsync`), then renamed over the target, and the directory is synced.
//! A crash at any point leaves either the old file or the new one, never a mix.
//!
//! Reads give typed errors naming the file: truncated JSON, invalid JSON (with line
//! and column), a version newer than this build supports, or a wrong shape.

use std::path::{Path, PathBuf};

use super::schema::{Session, SESSION_VERSION};

/// Why a session file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot read session file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write session file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error(
        "session file {path} is truncated (the JSON ends early at line {line}, column {column}); it was not modified"
    )]
    Truncated { path: PathBuf, line: usize, column: usize },
    #[error("session file {path} is not valid JSON at line {line}, column {column}: {reason}")]
    InvalidJson { path: PathBuf, line: usize, column: usize, reason: String },
    #[error(
        "session file {path} has version {found}, newer than this w2sd supports ({supported}); upgrade w2sd to read it"
    )]
    NewerVersion { path: PathBuf, found: u64, supported: u32 },
    #[error("session file {path} has no numeric \"version\" field; it is not a w2sd session")]
    NoVersion { path: PathBuf },
    #[error("session file {path} does not match the session schema (line {line}, column {column}): {reason}")]
    Schema { path: PathBuf, line: usize, column: usize, reason: String },
    #[error("session file {path}, debate {debate}: {reason}; the file was not modified")]
    Invalid { path: PathBuf, debate: usize, reason: String },
}

/// Loads and checks a session file.
pub fn load(path: &Path) -> Result<Session, SessionError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| SessionError::Read { path: path.to_path_buf(), source })?;
    parse(path, &text)
}

/// Parses session JSON; `path` is only used in error messages.
pub fn parse(path: &Path, text: &str) -> Result<Session, SessionError> {
    let p = || path.to_path_buf();
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            SessionError::Truncated { path: p(), line: e.line(), column: e.column() }
        } else {
            SessionError::InvalidJson { path: p(), line: e.line(), column: e.column(), reason: strip_position(&e) }
        }
    })?;
    let version = value.get("version").and_then(|v| v.as_u64()).ok_or_else(|| SessionError::NoVersion { path: p() })?;
    if version > SESSION_VERSION as u64 {
        return Err(SessionError::NewerVersion { path: p(), found: version, supported: SESSION_VERSION });
    }
    let s: Session = serde_json::from_str(text).map_err(|e| SessionError::Schema {
        path: p(),
        line: e.line(),
        column: e.column(),
        reason: strip_position(&e),
    })?;
    s.validate().map_err(|(debate, reason)| SessionError::Invalid { path: p(), debate, reason })?;
    Ok(s)
}

fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Writes a session atomically (temp file in the same directory, fsync, rename, fsync
/// of the directory). Creates the parent directory if needed.
pub fn save(path: &Path, session: &Session) -> Result<(), SessionError> {
    let json = serde_json::to_vec_pretty(session).expect("a session always serializes");
    write_atomic(path, &json)
}

/// Replaces `path` with `bytes` (and a final newline) atomically: [`crate::fsio::write_atomic`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SessionError> {
    crate::fsio::write_atomic(path, |w| {
        w.write_all(bytes)?;
        w.write_all(b"\n")
    })
    .map_err(|e| SessionError::Write { path: e.path, source: e.source })
}

/// The lock file of a session file: `.NAME.lock` beside it (a sidecar, since every save
/// replaces the session file itself by a rename).
pub fn lock_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "session".into());
    path.with_file_name(format!(".{name}.lock"))
}

/// Takes the exclusive writer's lock of a session file ([`crate::fsio::lock_exclusive`]) for as
/// long as the returned value lives. A second writer gets an error naming the holder's pid;
/// readers (review, stats, show) need no lock.
/// Taking it also removes the temporary files a killed writer of this file left behind.
pub fn lock(path: &Path) -> Result<crate::fsio::WriteLock, crate::fsio::LockError> {
    let lock = crate::fsio::lock_exclusive(&lock_path(path), "session file", path)?;
    if let (Some(dir), Some(name)) = (lock.path().parent(), path.file_name()) {
        crate::fsio::remove_stale_temps(dir, Some(&name.to_string_lossy()));
    }
    Ok(lock)
}

/// The session files (`*.json`) in a directory, sorted by name. A missing directory is empty.
pub fn list(dir: &Path) -> Result<Vec<PathBuf>, SessionError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(SessionError::Read { path: dir.to_path_buf(), source }),
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json") && !p.file_name().unwrap().to_string_lossy().starts_with('.')
        })
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::schema::*;

    pub(crate) fn sample() -> Session {
        let profile = |name: &str| DebaterProfile {
            name: name.into(),
            model: name.into(),
            sees_passage: true,
            max_tokens: 32,
            sampling: Default::default(),
            template: "debater".into(),
            block_copies: false,
        };
        let prov = Provenance {
            tool: "w2sd".into(),
            tool_version: "0.1.0".into(),
            strong: profile("s"),
            weak: profile("w"),
            models: Default::default(),
            prompts: Default::default(),
            seed: 1,
            command: None,
        };
        let settings = Settings {
            task: "builtin:capitals".into(),
            n: 1,
            seed: 1,
            protocol: Protocol::Debate,
            assignment: Assignment::Assigned,
            rounds: 1,
            turn_order: TurnOrder::Sequential,
            judge: JudgeSetting::None,
            judge_sees_passage: false,
        };
        Session::new("t", prov, settings)
    }

    #[test]
    fn round_trip_and_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let mut s = sample();
        s.scores = Some(Scores {
            judged: 0,
            agreements: 0,
            judge_accuracy: f64::NAN,
            mean_d: 0.5,
            mean_d_ci: [f64::NAN, 1.0],
            mean_log_score: f64::NAN,
            ece: f64::NAN,
            brier: f64::NAN,
            win_rates: WinRates {
                strong: f64::NAN,
                weak: f64::NAN,
                correct_side: f64::NAN,
                strong_when_correct: f64::NAN,
                strong_when_incorrect: f64::NAN,
            },
            neither_correct: 0,
            cancelled: 0,
            mean_d_correct: f64::NAN,
            mean_d_correct_ci: [f64::NAN; 2],
        });
        save(&path, &s).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(back.id, "t");
        let sc = back.scores.unwrap();
        assert!(sc.judge_accuracy.is_nan() && sc.mean_d == 0.5 && sc.mean_d_ci[0].is_nan() && sc.mean_d_ci[1] == 1.0);
        // no temp files left behind
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let text = std::fs::read_to_string(&path).unwrap();
        let e = parse(&path, &text[..text.len() / 2]).unwrap_err();
        assert!(matches!(e, SessionError::Truncated { .. }) && e.to_string().contains("s.json"), "{e}");
        let e = parse(&path, &text.replacen("\"version\": 1", "\"version\": 99", 1)).unwrap_err();
        assert!(matches!(e, SessionError::NewerVersion { found: 99, .. }) && e.to_string().contains("s.json"), "{e}");
        let e = parse(&path, "{\"version\": 1, \"id\": }").unwrap_err();
        assert!(matches!(e, SessionError::InvalidJson { line: 1, .. }), "{e}");
        let e = parse(&path, "{\"version\": 1}").unwrap_err();
        assert!(matches!(e, SessionError::Schema { .. }) && e.to_string().contains("missing field"), "{e}");
        let e = parse(&path, "{\"id\": 3}").unwrap_err();
        assert!(matches!(e, SessionError::NoVersion { .. }), "{e}");
    }
}
