//! `w2sd`: the terminal UI by default, and a headless subcommand for every feature.

use clap::{CommandFactory, Parser};
use w2sd::cli::{self, Cli, Command};

fn main() {
    let args = Cli::parse();
    let headless = match &args.command {
        None | Some(Command::Tui(_)) => false,
        Some(Command::Train(c)) => !c.opens_ui(),
        _ => true,
    };
    if headless {
        cli::init_stderr_logging(args.verbose, args.quiet);
    }
    let result = match args.command {
        None => cli::tui::default_main(args.theme, !args.no_mouse),
        Some(Command::Tui(c)) => c.run(args.theme, !args.no_mouse),
        Some(Command::Runtime(c)) => c.run(),
        Some(Command::Debate(c)) => c.run(),
        Some(Command::Train(c)) => c.run(args.theme, !args.no_mouse),
        Some(Command::Completions { shell }) => {
            // Generated into memory first: clap_complete panics on a closed pipe.
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "w2sd", &mut buf);
            std::io::Write::write_all(&mut std::io::stdout(), &buf).or_else(|e| match e.kind() {
                std::io::ErrorKind::BrokenPipe => Ok(()),
                _ => Err(e.into()),
            })
        }
    };
    if let Err(e) = result {
        // Exit 2 for bad input (`cli::UsageError`: flags, task files, configs, profiles, all
        // checked before any model loads), 1 for failures at run time.
        eprintln!("error: {}", cli::error_message(&e));
        std::process::exit(cli::exit_code(&e));
    }
}
