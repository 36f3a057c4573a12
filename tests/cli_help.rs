//! The command line documents itself: every flag and argument of every subcommand has help text,
//! and `--help` shows no blank lines inside an entry.

use clap::CommandFactory;

fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
    for a in cmd.get_arguments() {
        let id = a.get_id().as_str();
        if matches!(id, "help" | "version") {
            continue;
        }
        match a.get_help() {
            None => missing.push(format!("{path} --{id}: no help text")),
            Some(h) if h.to_string().contains("\n\n") => missing.push(format!("{path} --{id}: blank line in its help")),
            Some(h) if h.to_string().trim().is_empty() => missing.push(format!("{path} --{id}: empty help")),
            _ => {}
        }
    }
    for s in cmd.get_subcommands() {
        if s.get_name() == "help" {
            continue;
        }
        if s.get_about().is_none() {
            missing.push(format!("{path} {}: no about text", s.get_name()));
        }
        walk(s, &format!("{path} {}", s.get_name()), missing);
    }
}

#[test]
fn every_flag_has_help_text() {
    let cmd = w2sd::cli::Cli::command();
    cmd.clone().debug_assert();
    let mut missing = Vec::new();
    walk(&cmd, "w2sd", &mut missing);
    assert!(missing.is_empty(), "{} places lack help:\n{}", missing.len(), missing.join("\n"));
}
