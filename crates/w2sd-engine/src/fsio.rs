//! Durable file writes: the one place where w2sd replaces a file on disk.
//!
//! [`write_atomic`] writes a temporary file in the target's folder, fsyncs it, renames it over
//! the target and fsyncs the folder, so a reader (or a process killed at any moment) sees either
//! the old file whole or the new file whole, never a torn one, and a completed write survives a
//! power loss. Every writer of sessions, results, predictions, stage records, feature caches and
//! reports goes through it.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A failed atomic write, naming the file. The previous file, if any, is left intact.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Replaces `path` with what `write` writes, atomically and durably.
///
/// The folder is created if missing. The temporary file is `.NAME.XXXX.tmp` in the same folder
/// (so the rename never crosses file systems) and is removed if anything fails.
pub fn write_atomic<F>(path: &Path, write: F) -> Result<(), WriteError>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let err = |source: std::io::Error| WriteError { path: path.to_path_buf(), source };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(err)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    let mut tmp =
        tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(&dir).map_err(err)?;
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        write(&mut w).map_err(err)?;
        w.flush().map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(&dir) {
        // The rename is durable only once the folder's entry is on disk.
        d.sync_all().map_err(err)?;
    }
    Ok(())
}

/// [`write_atomic`] of a byte slice.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_atomic(path, |w| w.write_all(bytes))
}

/// [`write_atomic`] of `value` as pretty JSON with a final newline.
pub fn write_json_atomic<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), WriteError> {
    write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, value)?;
        w.write_all(b"\n")
    })
}

/// [`write_atomic`] of `rows` as JSON lines.
pub fn write_jsonl_atomic<T: serde::Serialize>(path: &Path, rows: &[T]) -> Result<(), WriteError> {
    write_atomic(path, |w| {
        for r in rows {
            serde_json::to_writer(&mut *w, r)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// Removes the temporary files [`write_atomic`] leaves when its process is killed mid-write
/// (`.NAME.XXXXXX.tmp` in the target's folder): those of the file `name` in `dir`, or with
/// `name` `None` every one in `dir`. Only the holder of the matching [`WriteLock`] may call it
/// (no other writer can have a write in flight there). Returns how many it removed.
pub fn remove_stale_temps(dir: &Path, name: Option<&str>) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for e in rd.filter_map(|e| e.ok()) {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(mid) = file.strip_prefix('.').and_then(|f| f.strip_suffix(".tmp")) else { continue };
        // `mid` is `NAME.XXXXXX`, XXXXXX the temp file's 6 random characters.
        let Some((target, rand)) = mid.rsplit_once('.') else { continue };
        let ours = name.is_none_or(|n| n == target);
        let temp = rand.len() == 6 && rand.chars().all(|c| c.is_ascii_alphanumeric());
        if ours && temp && e.path().is_file() && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// An exclusive advisory lock held by one writer (of a session file, or of a training run
/// folder) for as long as the value lives.
///
/// It is an OS file lock (`flock` on Unix, through [`std::fs::File::try_lock`]) on a lock
/// file, so it is released by the kernel when the process ends in any way, `kill -9`
/// included: a crash never leaves a stale lock. The lock file holds the holder's pid, for
/// the second writer's error. Lock files are never deleted (deleting one would let two
/// writers lock two different files). Readers take no lock: every write is atomic
/// ([`write_atomic`]), so a reader always sees a whole file.
#[derive(Debug)]
pub struct WriteLock {
    _file: std::fs::File,
    path: PathBuf,
}

impl WriteLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Why a lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{what} {} is in use by another w2sd process ({}); wait for it to finish or stop it (lock file {})",
        target.display(),
        pid.map(|p| format!("pid {p}")).unwrap_or_else(|| "pid unknown".into()),
        lock.display()
    )]
    Held { what: String, target: PathBuf, lock: PathBuf, pid: Option<u32> },
    #[error("cannot lock {what} {}: {source} (lock file {})", target.display(), lock.display())]
    Io { what: String, target: PathBuf, lock: PathBuf, source: std::io::Error },
}

/// Takes the exclusive lock on `lock` (created, with its folder, if missing) for writing
/// `target` (`what` names it in errors: "session file", "training run folder"). Never waits:
/// when another process (or another handle in this one) holds it, the error names its pid.
pub fn lock_exclusive(lock: &Path, what: &str, target: &Path) -> Result<WriteLock, LockError> {
    use std::io::{Read, Seek};
    let io = |source: std::io::Error| LockError::Io {
        what: what.into(),
        target: target.to_path_buf(),
        lock: lock.to_path_buf(),
        source,
    };
    if let Some(d) = lock.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(d).map_err(io)?;
    }
    let mut f =
        std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(lock).map_err(io)?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = f.read_to_string(&mut text);
            return Err(LockError::Held {
                what: what.into(),
                target: target.to_path_buf(),
                lock: lock.to_path_buf(),
                pid: text.trim().parse().ok(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    f.set_len(0).map_err(io)?;
    f.rewind().map_err(io)?;
    writeln!(f, "{}", std::process::id()).map_err(io)?;
    f.flush().map_err(io)?;
    Ok(WriteLock { _file: f, path: lock.to_path_buf() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file_and_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/x.json");
        write_json_atomic(&p, &serde_json::json!({"a": 1})).unwrap();
        write_bytes_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(d.path().join("sub")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn failed_write_keeps_previous_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.txt");
        write_bytes_atomic(&p, b"old").unwrap();
        let e = write_atomic(&p, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(e.to_string().contains("x.txt") && e.to_string().contains("disk full"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn second_lock_names_the_holder_and_a_dropped_lock_frees() {
        let d = tempfile::tempdir().unwrap();
        let lock = d.path().join("sub/.x.lock");
        let target = d.path().join("sub/x.json");
        let held = lock_exclusive(&lock, "session file", &target).unwrap();
        assert_eq!(std::fs::read_to_string(held.path()).unwrap().trim(), std::process::id().to_string());
        // A second handle (flock locks belong to the open file, so this conflicts in-process too).
        let e = lock_exclusive(&lock, "session file", &target).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, LockError::Held { pid: Some(p), .. } if p == std::process::id()), "{msg}");
        assert!(msg.contains(&format!("pid {}", std::process::id())) && msg.contains("x.json"), "{msg}");
        drop(held);
        let again = lock_exclusive(&lock, "session file", &target).unwrap();
        // Temp files of a killed write of x.json go; another file's and non-temp files stay.
        let sub = d.path().join("sub");
        for f in [".x.json.a1B2c3.tmp", ".x.json.bak.Zz9yX8.tmp", ".other.json.q1w2e3.tmp", "x.json"] {
            std::fs::write(sub.join(f), b"").unwrap();
        }
        assert_eq!(remove_stale_temps(&sub, Some("x.json")), 1);
        assert!(sub.join(".x.json.bak.Zz9yX8.tmp").exists() && sub.join("x.json").exists());
        assert_eq!(remove_stale_temps(&sub, None), 2);
        assert!(sub.join("x.json").exists());
        assert_eq!(std::fs::read_to_string(again.path()).unwrap().trim(), std::process::id().to_string());
    }
}
