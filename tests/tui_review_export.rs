//! Export from the Review screen, as a person would do it in tmux: select a session, press `x`,
//! and the JSONL export (one row per judgement, with transcripts) lands beside the session file.

mod tmux_support;

use std::path::Path;
use std::time::Duration;

use tmux_support::{shell_quote, Tmux};

#[test]
fn x_on_the_review_screen_exports_the_selected_session() {
    let tmp = tempfile::tempdir().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/reading-debate-n20.json");
    let session = tmp.path().join("reading-debate-n20.json");
    std::fs::copy(&shipped, &session).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_w2sd"));
    let cmd = format!(
        "env W2SD_DATA_DIR={} {} review {}",
        shell_quote(&tmp.path().join("data")),
        shell_quote(bin),
        shell_quote(tmp.path())
    );
    let t = Tmux::start("review-export", 100, 30, &cmd);
    t.wait_for("the session list", Duration::from_secs(30), |s| s.contains("Sessions 1/1") && s.contains("20/20"));
    t.keys(&["x"]);
    let s = t.wait_for("the export notice", Duration::from_secs(30), |s| s.contains("exported 20 rows"));
    let out = tmp.path().join("reading-debate-n20.export.jsonl");
    assert!(s.contains("reading-debate-n20.export"), "{s}");
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 20);
    assert!(rows.iter().all(|r| r["session_id"] == "reading-debate-n20" && r["transcript"].is_array()));
    // The same rows as the command line's export.
    let o = std::process::Command::new(bin)
        .args(["sessions", "export", session.to_str().unwrap(), "--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim_end(), text);
    t.keys(&["q"]);
}
