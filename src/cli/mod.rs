//! Headless subcommands. Each area owns one file; `main.rs` only dispatches.

pub mod args;
pub mod debate;
pub mod progress;
pub mod runtime;
pub mod train;
pub mod tui;

/// Bad input: a flag, a task file, a config or a profile that cannot be used. `main` exits
/// with status 2 for it (as clap does for its own usage errors) and 1 for runtime failures.
/// Every check that raises it runs before any model loads.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Wraps an error (with its whole chain) as a [`UsageError`].
pub fn bad_input(e: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(UsageError(format!("{:#}", e.into())))
}

/// `Err` of a [`UsageError`] with this message.
pub fn usage<T>(msg: impl Into<String>) -> anyhow::Result<T> {
    Err(anyhow::Error::new(UsageError(msg.into())))
}

/// The exit status for an error: 2 when it is bad input ([`UsageError`] anywhere in its
/// chain), else 1.
pub fn exit_code(e: &anyhow::Error) -> i32 {
    if e.chain().any(|c| c.is::<UsageError>()) {
        2
    } else {
        1
    }
}

/// The one-line message for an error: its chain joined by ": ", with any backtrace a
/// library appended (candle adds one to its errors when `RUST_BACKTRACE` is set) cut off.
pub fn error_message(e: &anyhow::Error) -> String {
    let full = format!("{e:#}");
    let mut out = Vec::new();
    for line in full.lines() {
        let t = line.trim_start();
        if t.starts_with("stack backtrace:") || t.starts_with("0: ") && line.starts_with("   ") {
            break;
        }
        out.push(line);
    }
    let msg = out.join("\n");
    msg.trim_end().to_string()
}

/// Prints a value as one line of JSON on stdout.
pub fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(v)?);
    Ok(())
}

/// `w2sd` with no arguments: the terminal UI on a live debate (see [`tui::default_main`]).
pub fn default_main() -> anyhow::Result<()> {
    tui::default_main(None)
}
