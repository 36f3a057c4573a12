//! A full disk and a read-only data dir: a clear error naming the file, exit status 1, and the
//! previous file intact (no temporary file left behind). The full disk is a 64 KiB tmpfs and
//! the read-only dir a tmpfs remounted read-only (both need root, which CI has); without root
//! the read-only case falls back to a folder without write permission, and the full-disk case
//! fails with a message saying so.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted on a temporary folder, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !o.status.success() {
            return Err(format!("mount -t tmpfs failed: {}", String::from_utf8_lossy(&o.stderr).trim()));
        }
        Ok(Tmpfs { dir })
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn remount_ro(&self) {
        let st = Command::new("mount").args(["-o", "remount,ro"]).arg(self.path()).status().unwrap();
        assert!(st.success(), "remount read-only failed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn w2sd(data: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_w2sd"))
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .env("W2SD_DATA_DIR", data)
        .env("W2SD_CONFIG_DIR", data.join("config"))
        .output()
        .unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn repo_session() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/reading-debate-n20.json")
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// Fills `dir`'s file system until fewer than `leave` bytes are free.
fn fill(dir: &Path, leave: u64) {
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    let chunk = vec![0u8; 1024];
    use std::io::Write;
    loop {
        let st = Command::new("df").args(["--output=avail", "-B1"]).arg(dir).output().unwrap();
        let avail: u64 = String::from_utf8_lossy(&st.stdout).lines().nth(1).unwrap().trim().parse().unwrap();
        if avail < leave {
            break;
        }
        if f.write_all(&chunk).and_then(|_| f.sync_all()).is_err() {
            break;
        }
    }
}

#[test]
fn a_full_disk_keeps_the_previous_file() {
    let fs = Tmpfs::mount("64k").unwrap_or_else(|e| {
        panic!("this test needs a small tmpfs (run as root, as CI does): {e}");
    });
    let d = fs.path();
    // A session saved while there was room, then the disk fills up.
    let session = w2sd::session::load(&repo_session()).unwrap();
    let mut small = session.clone();
    small.debates.truncate(1);
    let spath = d.join("s.json");
    w2sd::session::store::save(&spath, &small).unwrap();
    let export = d.join("export.jsonl");
    std::fs::write(&export, "previous export\n").unwrap();
    fill(d, 4096);
    let before = names(d);

    // The engine: saving the whole session fails, naming the file; the old one still loads.
    let e = w2sd::session::store::save(&spath, &session).unwrap_err().to_string();
    assert!(e.contains("s.json") && e.contains("No space left on device"), "{e}");
    assert_eq!(w2sd::session::load(&spath).unwrap().debates.len(), 1);

    // The binary: an export over the old file fails the same way.
    let (code, err) = w2sd(
        &d.join("data"),
        &["sessions", "export", repo_session().to_str().unwrap(), "--out", export.to_str().unwrap()],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with("error: ") && err.contains("export.jsonl") && err.contains("No space left"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(std::fs::read_to_string(&export).unwrap(), "previous export\n");
    assert_eq!(names(d), before, "no temporary file is left behind");
}

#[test]
fn a_read_only_data_dir_gives_clear_errors_and_keeps_the_files() {
    let (root, _fs, _guard): (PathBuf, Option<Tmpfs>, Option<tempfile::TempDir>) = match Tmpfs::mount("1m") {
        Ok(fs) => (fs.path().to_path_buf(), Some(fs), None),
        Err(e) => {
            eprintln!("no tmpfs ({e}): using a folder without write permission instead");
            let t = tempfile::tempdir().unwrap();
            (t.path().to_path_buf(), None, Some(t))
        }
    };
    let sessions = root.join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    let spath = sessions.join("s.json");
    std::fs::copy(repo_session(), &spath).unwrap();
    let before = std::fs::read(&spath).unwrap();
    match &_fs {
        Some(fs) => fs.remount_ro(),
        None => {
            use std::os::unix::fs::PermissionsExt;
            for p in [&sessions, &root] {
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o555)).unwrap();
            }
        }
    }

    // A writer fails before any model loads: it cannot even take the session's lock.
    let (code, err) =
        w2sd(&root, &["debate", "run", "--task", "builtin:reading", "--n", "20", "--out", spath.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with("error: cannot lock session file") && err.contains("s.json"), "{err}");
    assert!(err.contains("Read-only file system") || err.contains("Permission denied"), "{err}");
    assert!(!err.contains("loading"), "{err}");
    // A training run in the read-only data dir.
    let (code, err) = w2sd(&root, &["train", "--task", "builtin:sentiment", "--ladder", "bow:64,bow:128", "--n", "40"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with("error: cannot create") && err.contains(root.to_str().unwrap()), "{err}");
    // An export into it.
    let out = sessions.join("e.csv");
    let (code, err) = w2sd(
        &root,
        &["sessions", "export", spath.to_str().unwrap(), "--format", "csv", "--out", out.to_str().unwrap()],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("e.csv"), "{err}");
    // Readers work, and the file is as it was.
    let (code, err) = w2sd(&root, &["sessions", "stats", spath.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(&spath).unwrap(), before);

    if _fs.is_none() {
        use std::os::unix::fs::PermissionsExt;
        for p in [&root, &sessions] {
            let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755));
        }
    }
}
