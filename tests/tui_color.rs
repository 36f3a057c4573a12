//! Colour as the terminal can show it, tried in tmux as a person's terminal would be set:
//! under `NO_COLOR=1` the screen (`tmux capture-pane -e`) carries no colour escape at all,
//! while the same screen with `COLORTERM=truecolor` does carry colours (so the check can fail).

mod tmux_support;

use std::path::Path;
use std::time::Duration;

use tmux_support::{shell_quote, Tmux};

/// The SGR colour parameters in a capture with escapes: foreground and background colours
/// (30–38, 40–48, 90–97, 100–107). 39 and 49, "the terminal's default colour", are not colours.
fn colour_codes(screen: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = screen;
    while let Some(i) = rest.find("\x1b[") {
        let seq = &rest[i + 2..];
        let Some(end) = seq.find(|c: char| c.is_ascii_alphabetic()) else { break };
        if seq.as_bytes()[end] == b'm' {
            let params: Vec<u32> = seq[..end].split(';').filter_map(|p| p.parse().ok()).collect();
            let mut k = 0;
            while k < params.len() {
                let p = params[k];
                if matches!(p, 30..=37 | 40..=47 | 90..=97 | 100..=107) {
                    out.push(p.to_string());
                } else if p == 38 || p == 48 {
                    out.push(seq[..end].to_string());
                    break; // the rest of the sequence is the colour's value
                }
                k += 1;
            }
        }
        rest = &seq[end..];
    }
    out
}

fn review_screen(tag: &str, env: &str) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_w2sd"));
    let session = Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/reading-debate-n20.json");
    let data = tempfile::tempdir().unwrap();
    let cmd = format!(
        "env -u NO_COLOR -u COLORTERM {env} W2SD_DATA_DIR={} {} review {}",
        shell_quote(data.path()),
        shell_quote(bin),
        shell_quote(&session)
    );
    let t = Tmux::start(tag, 100, 30, &cmd);
    t.wait_for("the review screen", Duration::from_secs(30), |s| s.contains("Sessions 1/1") && s.contains("20/20"));
    let out = t.cmd(&["capture-pane", "-p", "-e", "-t", &t.name]);
    t.keys(&["q"]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn no_color_means_no_colour_escapes_on_screen() {
    let mono = review_screen("nocolor", "NO_COLOR=1");
    assert!(mono.contains("20/20"), "{mono}");
    let codes = colour_codes(&mono);
    assert!(codes.is_empty(), "colour escapes under NO_COLOR: {codes:?}");

    let colour = review_screen("truecolor", "COLORTERM=truecolor");
    assert!(!colour_codes(&colour).is_empty(), "the same screen in colour carries colour escapes");
}

#[test]
fn the_colour_code_scan_finds_colours() {
    assert!(colour_codes("\x1b[1mbold\x1b[0m \x1b[39mdefault\x1b[49m").is_empty());
    assert_eq!(colour_codes("\x1b[1;31mred"), ["31"]);
    assert_eq!(colour_codes("\x1b[38;2;1;2;3mx"), ["38;2;1;2;3"]);
    assert_eq!(colour_codes("\x1b[48;5;236mx"), ["48;5;236"]);
}
