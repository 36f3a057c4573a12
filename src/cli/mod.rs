//! Headless subcommands. Each area owns one file; `main.rs` only dispatches.

pub mod args;
pub mod debate;
pub mod debate_json;
pub mod progress;
pub mod runtime;
pub mod train;
pub mod tui;

use clap::{ArgAction, Parser, Subcommand};

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
    tui::default_main(None, true)
}

/// The whole command line of `w2sd`.
#[derive(Parser, Debug)]
#[command(
    name = "w2sd",
    version,
    about = "Weak-to-strong debate: explanations, debates, judges and weak-to-strong training on local models"
)]
pub struct Cli {
    /// Theme of the terminal UI (dark, light, high-contrast, or a user theme).
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Leave mouse capture off in the terminal UI, so text can be selected with the mouse
    /// (the wheel then scrolls the terminal, not the panes).
    #[arg(long, global = true)]
    pub no_mouse: bool,
    /// More log output on stderr for headless commands (-v debug, -vv trace).
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr for headless commands.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    #[command(flatten)]
    Runtime(runtime::RuntimeCmd),
    #[command(flatten)]
    Debate(debate::DebateCmds),
    #[command(flatten)]
    Tui(tui::TuiCmds),
    #[command(flatten)]
    Train(train::TrainCmds),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Headless commands log to stderr (`W2SD_LOG` overrides the level); the UI logs to a file.
pub fn init_stderr_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("W2SD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_env_filter(filter)
        .try_init();
}
