//! `w2sd`: the terminal UI by default, and a headless subcommand for every feature.

use clap::{Parser, Subcommand};
use w2sd::cli;

#[derive(Parser, Debug)]
#[command(
    name = "w2sd",
    version,
    about = "Weak-to-strong debate: explanations, debates, judges and weak-to-strong training on local models"
)]
struct Cli {
    /// Theme of the terminal UI (dark, light, high-contrast, or a user theme).
    #[arg(long, global = true)]
    theme: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    #[command(flatten)]
    Runtime(cli::runtime::RuntimeCmd),
    #[command(flatten)]
    Debate(cli::debate::DebateCmds),
    #[command(flatten)]
    Tui(cli::tui::TuiCmds),
    #[command(flatten)]
    Train(cli::train::TrainCmds),
}

fn main() {
    let args = Cli::parse();
    let result = match args.command {
        None => cli::tui::default_main(args.theme),
        Some(Command::Tui(c)) => c.run(args.theme),
        Some(Command::Runtime(c)) => c.run(),
        Some(Command::Debate(c)) => c.run(),
        Some(Command::Train(c)) => c.run(),
    };
    if let Err(e) = result {
        // Exit 2 for bad input (`cli::UsageError`: flags, task files, configs, profiles, all
        // checked before any model loads), 1 for failures at run time.
        eprintln!("error: {}", cli::error_message(&e));
        std::process::exit(cli::exit_code(&e));
    }
}
