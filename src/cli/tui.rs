//! `w2sd` (no arguments), `w2sd review [FILE|DIR]`, `w2sd judge --task SPEC …`: the terminal UI.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::cli::debate::{resolve_profile_seeded, DebaterArgs, ProtocolArgs};
use crate::debate::runner::default_file_name;
use crate::runtime::catalog::{DEFAULT_STRONG, DEFAULT_WEAK};
use crate::session::{Assignment, JudgeSetting, Protocol, TurnOrder};
use crate::tui::message::{DebateConfig, DebateSetup};
use crate::tui::{Options, Start};

/// The task of the default live debate (`w2sd` with no arguments).
pub const DEFAULT_TASK: &str = crate::tui::message::DEFAULT_DEBATE_TASK;

#[derive(Subcommand, Debug)]
pub enum TuiCmds {
    /// Open the review screen on saved sessions (a file, a directory, or the default places).
    Review {
        /// A session file or a directory of them; default: the data dir's and the repo's sessions/.
        path: Option<PathBuf>,
    },
    /// Judge debates in the terminal UI (or watch a model judge with --model-judge).
    Judge(JudgeArgs),
}

#[derive(Args, Debug, Clone)]
pub struct JudgeArgs {
    /// Task spec: builtin:NAME (reading, capitals, arithmetic, sentiment) or a .jsonl file.
    #[arg(long)]
    pub task: String,
    /// Shuffle the sides left and right and hide the model names.
    #[arg(long)]
    pub blind: bool,
    /// The judge's name, recorded with each verdict.
    #[arg(long)]
    pub judge_name: Option<String>,
    /// Let a model judge decide instead of a person (a model spec).
    #[arg(long)]
    pub model_judge: Option<String>,
    /// Debaters (--strong, --weak, --max-tokens, --temperature, passage access), as in `w2sd debate run`.
    #[command(flatten)]
    pub debaters: DebaterArgs,
    /// Protocol, assignment, turn order and the judge's passage access, as in `w2sd debate run`.
    #[command(flatten)]
    pub protocol: ProtocolArgs,
    /// Debate rounds.
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// Number of items.
    #[arg(long, short = 'n', default_value_t = 5)]
    pub n: usize,
    /// Random seed (items, assignment and sampling).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Hide the ground truth and D after each verdict.
    #[arg(long)]
    pub no_reveal: bool,
    /// The session file (default: `<data>/sessions/<task>-<strong>-vs-<weak>-<protocol>-r<rounds>-n<n>-s<seed>.json`,
    /// as `w2sd debate run` names it; an existing file with the same settings is resumed).
    #[arg(long, short = 'o')]
    pub out: Option<PathBuf>,
}

impl JudgeArgs {
    /// The defaults of `w2sd` with no arguments: a live debate on the offline default.
    pub fn default_live() -> JudgeArgs {
        JudgeArgs {
            task: DEFAULT_TASK.into(),
            blind: false,
            judge_name: None,
            model_judge: None,
            debaters: DebaterArgs {
                strong: DEFAULT_STRONG.into(),
                weak: DEFAULT_WEAK.into(),
                max_tokens: crate::tui::message::DEFAULT_DEBATE_MAX_TOKENS,
                temperature: 0.0,
                allow_copies: false,
                strong_no_passage: false,
                weak_no_passage: false,
            },
            protocol: ProtocolArgs {
                protocol: Protocol::Debate,
                assignment: Assignment::Assigned,
                turn_order: TurnOrder::SimultaneousFirst,
                judge_sees_passage: false,
            },
            rounds: 1,
            n: 5,
            seed: 42,
            no_reveal: false,
            out: None,
        }
    }

    /// The arguments of a debate set up on the Debate screen's form (the rest as `w2sd` has them).
    pub fn from_setup(s: &DebateSetup) -> JudgeArgs {
        let mut a = JudgeArgs::default_live();
        a.task = s.task.clone();
        a.n = s.n;
        a.seed = s.seed;
        a.debaters.strong = s.strong.clone();
        a.debaters.weak = s.weak.clone();
        a.model_judge = (s.judge.trim() != "human").then(|| s.judge.trim().to_string());
        a.protocol.protocol = s.protocol;
        a.protocol.assignment = s.assignment;
        a.protocol.turn_order = s.turn_order;
        a.rounds = s.rounds;
        a.blind = s.blind;
        a.debaters.strong_no_passage = s.strong_no_passage;
        a.debaters.weak_no_passage = s.weak_no_passage;
        a.protocol.judge_sees_passage = s.judge_sees_passage;
        a.debaters.max_tokens = s.max_tokens;
        a
    }

    pub fn config(&self) -> Result<DebateConfig> {
        // Everything is checked before the UI starts and any model loads (exit status 2).
        crate::cli::args::check_min(self.n, 1, "--n")?;
        crate::cli::debate::check_task(&self.task, self.n, self.seed)?;
        let judge = match &self.model_judge {
            Some(spec) => JudgeSetting::Model { spec: spec.clone() },
            None => JudgeSetting::Human,
        };
        let settings = self.protocol.settings(&self.task, self.n, self.seed, self.rounds, judge)?;
        let d = &self.debaters;
        let strong = resolve_profile_seeded(&d.strong, !d.strong_no_passage, d, self.seed)?;
        let weak = resolve_profile_seeded(&d.weak, !d.weak_no_passage, d, self.seed)?;
        let out = self
            .out
            .clone()
            .unwrap_or_else(|| crate::paths::sessions_dir().join(default_file_name(&settings, &strong, &weak)));
        Ok(DebateConfig {
            settings,
            strong,
            weak,
            judge_name: self.judge_name.clone().unwrap_or_else(default_judge_name),
            blind: self.blind,
            reveal: !self.no_reveal,
            out,
        })
    }
}

/// The debate of the Debate screen's setup form, with every check `w2sd judge` makes before the
/// UI starts (the UI calls this through [`crate::tui::Options::setup_debate`]).
pub fn debate_config(s: &DebateSetup) -> Result<DebateConfig> {
    JudgeArgs::from_setup(s).config()
}

fn default_judge_name() -> String {
    std::env::var("USER").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| "human".into())
}

impl TuiCmds {
    pub fn run(self, theme: Option<String>, mouse: bool) -> Result<()> {
        match self {
            TuiCmds::Review { path } => crate::tui::run(Options {
                theme,
                mouse,
                setup_debate: Some(debate_config),
                start: Start::Review(path.into_iter().collect()),
            }),
            TuiCmds::Judge(a) => {
                let cfg = a.config()?;
                // The session file's writer lock, held for the whole UI run.
                let _lock = crate::session::store::lock(&cfg.out)?;
                crate::tui::run(Options { theme, mouse, setup_debate: Some(debate_config), start: Start::Debate(cfg) })
            }
        }
    }
}

/// `w2sd` with no arguments: the UI on a live debate over the offline default models
/// (pulled first, on a progress screen, when missing).
///
/// The session file follows the one naming scheme, so an unfinished live debate resumes; once
/// every debate of it is judged, the next launch moves to the next seed (new items) instead of
/// opening a finished session.
pub fn default_main(theme: Option<String>, mouse: bool) -> Result<()> {
    let mut a = JudgeArgs::default_live();
    let mut cfg = a.config()?;
    for _ in 0..1000 {
        let finished = crate::session::store::load(&cfg.out).is_ok_and(|s| {
            s.debates.len() >= s.settings.n
                && s.debates.iter().all(|d| {
                    matches!(d.status, crate::session::DebateStatus::Judged | crate::session::DebateStatus::Agreement)
                })
        });
        if !finished {
            break;
        }
        a.seed += 1;
        cfg = a.config()?;
    }
    let _lock = crate::session::store::lock(&cfg.out)?;
    crate::tui::run(Options { theme, mouse, setup_debate: Some(debate_config), start: Start::Debate(cfg) })
}
