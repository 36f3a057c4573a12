//! Headless subcommands. Each area owns one file; `main.rs` only dispatches.

pub mod args;
pub mod debate;
pub mod progress;
pub mod runtime;
pub mod train;
pub mod tui;

/// Prints a value as one line of JSON on stdout.
pub fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(v)?);
    Ok(())
}

/// `w2sd` with no arguments: the terminal UI on a live debate (see [`tui::default_main`]).
pub fn default_main() -> anyhow::Result<()> {
    tui::default_main(None)
}
