//! Command-line plumbing shared by the subcommands.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::Args;
use w2sd_engine::choice::Choice;

/// A clap value parser for an engine [`Choice`]: its names, with their help, are the possible
/// values, so `--help` and error messages list them.
pub fn choice<T: Choice + Clone>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(T::ALL.iter().map(|c| PossibleValue::new(c.name()).help(c.help())))
        .map(|s| T::from_name(&s).expect("clap accepted only listed names"))
}

/// `--json`, shared by every subcommand with machine-readable output: the output is one
/// `#[derive(Serialize)]` value on stdout.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct JsonFlag {
    /// Print one JSON object on stdout (progress and logs go to stderr).
    #[arg(id = "json", long = "json")]
    pub on: bool,
}

/// `--task`, `--n` and `--seed`: which items a command runs on. A subcommand with another
/// default for `--n` sets it with `#[command(mut_arg("n", …))]`.
#[derive(Args, Debug, Clone)]
pub struct ItemArgs {
    /// Task spec: builtin:reading|capitals|arithmetic|sentiment, or a .jsonl file.
    #[arg(long)]
    pub task: String,
    /// Number of task items.
    #[arg(long, default_value_t = 20)]
    pub n: usize,
    /// Random seed (items, assignment and sampling).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// `--out`: where a command writes its file. Each subcommand states what the file is with
/// `#[command(mut_arg("out", |a| a.help(…)))]`.
#[derive(Args, Debug, Clone, Default)]
pub struct OutArg {
    /// Output file.
    #[arg(id = "out", long = "out", value_name = "OUT")]
    pub path: Option<PathBuf>,
}

/// Where a sampling setting came from, to name it in an error: a flag, or a profile file.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    Flags,
    Profile(&'a std::path::Path),
}

impl Origin<'_> {
    fn name(&self, flag: &str, field: &str) -> String {
        match self {
            Origin::Flags => flag.to_string(),
            Origin::Profile(p) => format!("{field} in profile {}", p.display()),
        }
    }
}

/// Checks sampling parameters before any model loads: temperature finite and ≥ 0, top-p in
/// (0, 1], top-k ≥ 1, repeat penalty finite and > 0, max tokens ≥ 1. The error is a
/// [`super::UsageError`] naming the flag (or the profile file and field) and the value.
pub fn check_sampling(s: &w2sd_engine::runtime::Sampling, max_tokens: usize, from: Origin) -> anyhow::Result<()> {
    if !s.temperature.is_finite() || s.temperature < 0.0 {
        return super::usage(format!(
            "{} must be a finite number ≥ 0 (0 = greedy), got {}",
            from.name("--temperature", "sampling.temperature"),
            s.temperature
        ));
    }
    if let Some(p) = s.top_p {
        if !(p > 0.0 && p <= 1.0) {
            return super::usage(format!("{} must be in (0, 1], got {p}", from.name("--top-p", "sampling.top_p")));
        }
    }
    if s.top_k == Some(0) {
        return super::usage(format!("{} must be at least 1, got 0", from.name("--top-k", "sampling.top_k")));
    }
    if !s.repeat_penalty.is_finite() || s.repeat_penalty <= 0.0 {
        return super::usage(format!(
            "{} must be a finite number > 0 (1 = off), got {}",
            from.name("--repeat-penalty", "sampling.repeat_penalty"),
            s.repeat_penalty
        ));
    }
    check_min(max_tokens, 1, &from.name("--max-tokens", "max_tokens"))
}

/// `value ≥ min`, else a [`super::UsageError`] naming `what`.
pub fn check_min(value: usize, min: usize, what: &str) -> anyhow::Result<()> {
    if value < min {
        return super::usage(format!("{what} must be at least {min}, got {value}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use w2sd_engine::runtime::Sampling;

    #[test]
    fn sampling_checks_name_the_flag_or_profile() {
        let ok = Sampling::default();
        assert!(check_sampling(&ok, 1, Origin::Flags).is_ok());
        let cases: Vec<(Sampling, usize, &str)> = vec![
            (Sampling { temperature: f64::NAN, ..ok.clone() }, 1, "--temperature"),
            (Sampling { temperature: -0.1, ..ok.clone() }, 1, "--temperature"),
            (Sampling { temperature: f64::INFINITY, ..ok.clone() }, 1, "--temperature"),
            (Sampling { top_p: Some(7.0), ..ok.clone() }, 1, "--top-p"),
            (Sampling { top_p: Some(0.0), ..ok.clone() }, 1, "--top-p"),
            (Sampling { top_p: Some(f64::NAN), ..ok.clone() }, 1, "--top-p"),
            (Sampling { top_k: Some(0), ..ok.clone() }, 1, "--top-k"),
            (Sampling { repeat_penalty: 0.0, ..ok.clone() }, 1, "--repeat-penalty"),
            (ok.clone(), 0, "--max-tokens"),
        ];
        for (s, m, flag) in cases {
            let e = check_sampling(&s, m, Origin::Flags).unwrap_err();
            assert!(e.to_string().starts_with(flag), "{e}");
            assert_eq!(super::super::exit_code(&e), 2);
        }
        assert!(check_sampling(&Sampling { top_p: Some(1.0), top_k: Some(1), ..ok.clone() }, 1, Origin::Flags).is_ok());
        let p = std::path::Path::new("/x/p.toml");
        let e = check_sampling(&Sampling { top_p: Some(2.0), ..ok }, 1, Origin::Profile(p)).unwrap_err();
        assert_eq!(e.to_string(), "sampling.top_p in profile /x/p.toml must be in (0, 1], got 2");
    }
}
