//! The terminal is restored after SIGTERM, SIGINT, SIGHUP and a panic: the real binary runs
//! from an interactive shell in tmux, gets the signal, and the test checks that the pane has
//! left the alternate screen, the cursor shows, mouse reporting is off, the tty is back in
//! cooked mode with echo (`stty -a`), and the shell prompt takes a command again.

mod tmux_support;

use std::path::Path;
use std::time::Duration;

use tmux_support::{alive, kill, shell_quote, Tmux};

fn flag(t: &Tmux, name: &str) -> String {
    let o = t.cmd(&["display-message", "-p", "-t", &t.name, &format!("#{{{name}}}")]);
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// The pid of the shell's child (the w2sd process).
fn child_of(pid: u32) -> Option<u32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Starts `w2sd review` from a shell, then `stop` ends it (a signal, or nothing for a panic),
/// and returns the exit status the shell saw.
fn run_and_stop(tag: &str, env: &str, stop: Option<&str>) -> (Tmux, String) {
    let home = tempfile::tempdir().unwrap();
    let sessions = Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions");
    let t = Tmux::start(
        tag,
        90,
        26,
        "env -i PATH=/usr/bin:/bin TERM=xterm-256color PS1='READY$ ' bash --norc --noprofile -i",
    );
    t.wait_for("the shell prompt", Duration::from_secs(20), |s| s.contains("READY$"));
    let line = format!(
        "{env} W2SD_DATA_DIR={d} W2SD_CONFIG_DIR={c} {bin} review {sessions}; echo \"W2SD\"\"-EXIT-$?\"",
        d = shell_quote(&home.path().join("data")),
        c = shell_quote(&home.path().join("config")),
        bin = shell_quote(Path::new(env!("CARGO_BIN_EXE_w2sd"))),
        sessions = shell_quote(&sessions),
    );
    t.keys(&["-l", &line]);
    t.keys(&["Enter"]);
    let shell = t.pane_pid();
    if let Some(sig) = stop {
        // The UI is up: alternate screen, the review screen drawn.
        let t0 = std::time::Instant::now();
        while !(t.alternate_on() && t.capture().contains("Review")) {
            assert!(t0.elapsed() < Duration::from_secs(30), "the UI did not start; screen:\n{}", t.capture());
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(flag(&t, "cursor_flag"), "0", "the UI hides the cursor");
        let pid = child_of(shell).expect("w2sd runs under the shell");
        kill(pid, sig);
        let t0 = std::time::Instant::now();
        while alive(pid) {
            assert!(t0.elapsed() < Duration::from_secs(15), "w2sd did not stop on SIG{sig}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let screen = t.wait_for("the exit status", Duration::from_secs(30), |s| s.contains("W2SD-EXIT-"));
    let status = screen
        .lines()
        .find_map(|l| l.trim().strip_prefix("W2SD-EXIT-"))
        .expect("the exit status line")
        .trim()
        .to_string();
    drop(home);
    (t, status)
}

/// Everything a full-screen program changes is back as it was.
fn assert_restored(t: &Tmux, what: &str) {
    assert!(!t.alternate_on(), "{what}: still on the alternate screen");
    assert_eq!(flag(t, "cursor_flag"), "1", "{what}: the cursor is hidden");
    assert_eq!(flag(t, "mouse_any_flag"), "0", "{what}: mouse reporting is on");
    t.keys(&[
        "-l",
        "stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo; echo SHELL-OK-$((40+2))",
    ]);
    t.keys(&["Enter"]);
    let s = t.wait_for("the shell to run a command", Duration::from_secs(20), |s| s.contains("SHELL-OK-42"));
    let lines: Vec<&str> = s.lines().map(str::trim).collect();
    assert!(lines.contains(&"icanon") && !lines.contains(&"-icanon"), "{what}: tty left in raw mode:\n{s}");
    assert!(lines.contains(&"echo") && !lines.contains(&"-echo"), "{what}: tty left without echo:\n{s}");
}

#[test]
fn sigterm_restores_the_terminal() {
    let (t, status) = run_and_stop("sigterm", "", Some("TERM"));
    assert_eq!(status, "0", "SIGTERM is a clean exit");
    assert_restored(&t, "SIGTERM");
}

#[test]
fn sigint_restores_the_terminal() {
    let (t, status) = run_and_stop("sigint", "", Some("INT"));
    assert_eq!(status, "0", "SIGINT is a clean exit");
    assert_restored(&t, "SIGINT");
}

#[test]
fn sighup_restores_the_terminal() {
    let (t, status) = run_and_stop("sighup", "", Some("HUP"));
    assert_eq!(status, "0", "SIGHUP is a clean exit");
    assert_restored(&t, "SIGHUP");
}

#[test]
fn a_panic_restores_the_terminal_and_shows_the_message() {
    let (t, status) = run_and_stop("panic", "W2SD_TEST_PANIC=1", None);
    assert_eq!(status, "101", "a panic exits 101");
    let screen = t.capture();
    assert!(screen.contains("W2SD_TEST_PANIC is set"), "the panic message is on the restored screen:\n{screen}");
    assert_restored(&t, "panic");
}
