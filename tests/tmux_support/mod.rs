//! A tmux session for tests that run the real binary in a pseudo-terminal: keystrokes in,
//! the screen out (capture-pane), signals to the program, and the session killed on every
//! path out of the test.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    pub name: String,
}

/// Fails the test with a clear message when tmux is missing.
pub fn require_tmux() {
    assert!(
        Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()),
        "tmux is needed for this test (apt-get install tmux)"
    );
}

pub fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

impl Tmux {
    /// Starts a detached session `w`×`h` running `cmd` (through `sh -c` in the pane).
    pub fn start(tag: &str, w: u16, h: u16, cmd: &str) -> Tmux {
        require_tmux();
        let t = Tmux { name: format!("w2sd-{tag}-{}", std::process::id()) };
        let _ = Command::new("tmux").args(["kill-session", "-t", &t.name]).output();
        // A tmux server exits when its last session is killed; a test binary that starts right
        // after another one's last session went can meet the server on its way out. Try again.
        let mut st = t.cmd(&["new-session", "-d", "-s", &t.name, "-x", &w.to_string(), "-y", &h.to_string(), cmd]);
        for _ in 0..10 {
            if st.status.success() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
            st = t.cmd(&["new-session", "-d", "-s", &t.name, "-x", &w.to_string(), "-y", &h.to_string(), cmd]);
        }
        assert!(st.status.success(), "tmux new-session failed: {}", String::from_utf8_lossy(&st.stderr));
        t
    }

    pub fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").args(args).output().expect("tmux runs")
    }

    /// The visible screen as text.
    pub fn capture(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", &self.name]).stdout).into_owned()
    }

    /// 1 while the pane shows the alternate screen (a full-screen program is up), else 0.
    pub fn alternate_on(&self) -> bool {
        let o = self.cmd(&["display-message", "-p", "-t", &self.name, "#{alternate_on}"]);
        String::from_utf8_lossy(&o.stdout).trim() == "1"
    }

    /// The pid of the pane's first process.
    pub fn pane_pid(&self) -> u32 {
        let o = self.cmd(&["display-message", "-p", "-t", &self.name, "#{pane_pid}"]);
        String::from_utf8_lossy(&o.stdout).trim().parse().expect("tmux gives the pane pid")
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.name];
        args.extend_from_slice(keys);
        self.cmd(&args);
    }

    /// Polls the screen until `pred` holds, failing with the last screen after `limit`.
    pub fn wait_for(&self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        self.try_wait_for(limit, pred)
            .unwrap_or_else(|s| panic!("timed out after {limit:?} waiting for {what}; the screen was:\n{s}"))
    }

    /// Like [`Tmux::wait_for`], giving the last screen as `Err` on a timeout.
    pub fn try_wait_for(&self, limit: Duration, pred: impl Fn(&str) -> bool) -> Result<String, String> {
        let t0 = Instant::now();
        loop {
            let s = self.capture();
            if pred(&s) {
                return Ok(s);
            }
            if t0.elapsed() > limit {
                return Err(s);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.name]).output();
    }
}

/// Sends `sig` (e.g. "TERM", "KILL") to `pid` with kill(1).
pub fn kill(pid: u32, sig: &str) {
    let st = Command::new("kill").args([&format!("-{sig}"), &pid.to_string()]).status().expect("kill runs");
    assert!(st.success(), "kill -{sig} {pid} failed");
}

/// True while any thread of process `pid` runs. A SIGKILLed multi-threaded process shows its
/// main thread as a zombie while the others are still exiting, and it holds its files (and so
/// its locks) until the last one is gone: all threads are checked.
pub fn alive(pid: u32) -> bool {
    let state = |p: &str| -> Option<char> {
        let s = std::fs::read_to_string(p).ok()?;
        s.rsplit(')').next()?.trim_start().chars().next()
    };
    match state(&format!("/proc/{pid}/stat")) {
        None => false,
        Some(c) if c != 'Z' && c != 'X' => true,
        Some(_) => std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .any(|e| state(&format!("{}/stat", e.path().display())).is_some_and(|c| c != 'Z' && c != 'X'))
            })
            .unwrap_or(false),
    }
}
