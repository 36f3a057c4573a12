//! The mouse in a real terminal: the real binary in tmux, clicked with the SGR mouse reports a
//! terminal sends (`ESC [ < 0 ; x ; y M` on press, `m` on release; columns and rows from 1)
//! written into the pane with `tmux send-keys -l`. crossterm's mouse capture reads them as it
//! reads a person's clicks.

mod tmux_support;

use std::path::Path;
use std::time::Duration;

use tmux_support::{shell_quote, Tmux};

/// A left click (press and release) at the 0-based cell (`x`, `y`).
fn click(t: &Tmux, x: usize, y: usize) {
    let (x, y) = (x + 1, y + 1);
    t.keys(&["-l", &format!("\x1b[<0;{x};{y}M")]);
    t.keys(&["-l", &format!("\x1b[<0;{x};{y}m")]);
}

/// The 0-based cell where `needle` first shows on `screen`.
fn cell_of(screen: &str, needle: &str) -> Option<(usize, usize)> {
    screen.lines().enumerate().find_map(|(y, l)| l.find(needle).map(|b| (l[..b].chars().count(), y)))
}

/// In `w2sd review` on two sessions: a click on the second row selects it (the stats panel
/// shows its count), a second click opens it (its file name in the open debate's title), and a
/// click on the Models tab opens that screen. With `--no-mouse` the terminal captures no mouse.
#[test]
fn clicks_select_and_open_a_review_row_and_switch_tabs() {
    let bin = Path::new(env!("CARGO_BIN_EXE_w2sd"));
    let sessions = Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions");
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let (a, b) = (
        "reading-debate-n20.json",
        "compare-reading-qwen2.5-coder-1.5b-instruct-vs-qwen2.5-coder-0.5b-instruct-oracle-r0-n200-s42.json",
    );
    // The second is a fixed copy of a one-debate session (the shipped comparison session it
    // was taken from grows as that comparison is resumed).
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oracle-session-one-judged.json");
    std::fs::copy(sessions.join(a), dir.path().join(a)).unwrap();
    std::fs::copy(fixture, dir.path().join(b)).unwrap();
    let run = |tag: &str, flags: &str| {
        let cmd = format!(
            "W2SD_DATA_DIR={} {} {flags} review {}",
            shell_quote(data.path()),
            shell_quote(bin),
            shell_quote(dir.path())
        );
        let t = Tmux::start(tag, 110, 30, &cmd);
        let s = t.wait_for("the session list", Duration::from_secs(30), |s| s.contains("Sessions 2/2"));
        (t, s)
    };

    let (t, list) = run("mouse", "");
    // Newest first: the one-debate session is selected, the twenty-debate one is the next row.
    assert!(list.contains("1 judged"), "the first row is selected:\n{list}");
    let (_, row) = cell_of(&list, " 20/20 ").unwrap_or_else(|| panic!("the second row:\n{list}"));
    click(&t, 20, row);
    t.wait_for("the clicked row selected", Duration::from_secs(10), |s| s.contains("20 judged"));
    click(&t, 20, row);
    let opened = t.wait_for("the clicked session open", Duration::from_secs(10), |s| s.contains("Debate 1/20"));
    assert!(opened.contains(&a[..a.len() - 5]), "the clicked session opened:\n{opened}");
    let tab = cell_of(&opened, "Models").expect("the tab bar");
    click(&t, tab.0 + 1, tab.1);
    t.wait_for("the Models screen", Duration::from_secs(10), |s| s.contains("Catalog"));

    // `--no-mouse` leaves capture off: tmux sees no mouse mode on the pane, so a person's
    // clicks stay with the terminal (select text). (Bytes written with send-keys would still
    // reach the program: the flag is what to check.)
    let mouse_flag = |t: &Tmux| {
        let o = t.cmd(&["display-message", "-p", "-t", &t.name, "#{mouse_any_flag}"]);
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(mouse_flag(&t), "1", "the mouse is captured by default");
    t.keys(&["q"]);
    let (t, _) = run("nomouse", "--no-mouse");
    assert_eq!(mouse_flag(&t), "0", "--no-mouse: the mouse is not captured");
    t.keys(&["q"]);
}
