//! `w2sd debate run|judge`, `w2sd sessions list|show|stats|export`, `w2sd facilitate`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde::Deserialize;

use crate::debate::agents::{ModelDebater, ModelJudge};
use crate::debate::facilitate::{self, FacilitationEvent};
use crate::debate::metrics;
use crate::debate::prompts::Templates;
use crate::debate::runner::{self, RunEvent, RunPlan, SessionRun, Step, Verdicts};
use crate::debate::{Debate, Debater, Judge};
use crate::runtime::catalog::{DEFAULT_STRONG, DEFAULT_WEAK};
use crate::runtime::{CancelToken, ModelPool, Sampling, SharedModel};
use crate::session::{
    self, store, Assignment, DebateStatus, DebaterProfile, JudgeSetting, Protocol, Session, Settings, Side, TurnOrder,
};

use super::args::{ItemArgs, JsonFlag, OutArg};
use super::debate_json as out_json;
use super::print_json;
use w2sd_engine::choice::Choice;

#[derive(Subcommand, Debug)]
pub enum DebateCmds {
    /// Debates between a strong and a weak model, judged by a model or a person.
    #[command(subcommand)]
    Debate(DebateCmd),
    /// Saved debate sessions: list, show, statistics, export.
    #[command(subcommand)]
    Sessions(SessionsCmd),
    /// Facilitation Φ: weak accuracy alone vs after reading the strong model's explanation.
    Facilitate(FacilitateArgs),
}

impl DebateCmds {
    pub fn run(self) -> Result<()> {
        match self {
            DebateCmds::Debate(DebateCmd::Run(a)) => run(a),
            DebateCmds::Debate(DebateCmd::Judge(a)) => judge(a),
            DebateCmds::Debate(DebateCmd::Compare(a)) => compare(a),
            DebateCmds::Sessions(c) => sessions(c),
            DebateCmds::Facilitate(a) => facilitate_cmd(a),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum DebateCmd {
    /// Run (or resume) a debate session and save it.
    Run(RunArgs),
    /// Add another model judge's verdicts to a saved session (for judge agreement).
    Judge(JudgeArgs),
    /// Run several protocols on the same items and compare judge accuracy (resumable).
    Compare(CompareArgs),
}

#[derive(Args, Debug)]
#[command(mut_arg("n", |a| a.default_value("200").help("Number of task items (the same items for every protocol)")))]
pub struct CompareArgs {
    #[command(flatten)]
    pub items: ItemArgs,
    #[command(flatten)]
    pub debaters: DebaterArgs,
    /// Model spec of the judge (default: the weak debater's model).
    #[arg(long)]
    pub judge_model: Option<String>,
    /// Comma-separated: blind, consultancy, debate, oracle (oracle = the judge sees the
    /// passage, no arguments).
    #[arg(long, default_value = "blind,consultancy,debate,oracle")]
    pub protocols: String,
    /// Debate rounds (accuracy is also read after each earlier round).
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Whether the two turns of a round see each other.
    #[arg(long, value_parser = super::args::choice::<TurnOrder>(), default_value_t = TurnOrder::SimultaneousFirst)]
    pub turn_order: TurnOrder,
    /// Where the session files go (one per protocol; rerunning resumes them).
    #[arg(long)]
    pub sessions_dir: Option<PathBuf>,
    /// Only analyse the saved sessions; run nothing and load no model.
    #[arg(long)]
    pub no_run: bool,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// The protocol options shared by `w2sd debate run` and `w2sd judge` (the Debate screen).
#[derive(Args, Debug, Clone)]
pub struct ProtocolArgs {
    /// The debate protocol.
    #[arg(long, value_parser = super::args::choice::<Protocol>(), default_value_t = Protocol::Debate)]
    pub protocol: Protocol,
    /// How answers are given to the sides.
    #[arg(long, value_parser = super::args::choice::<Assignment>(), default_value_t = Assignment::Assigned)]
    pub assignment: Assignment,
    /// Whether the two turns of a round see each other.
    #[arg(long, value_parser = super::args::choice::<TurnOrder>(), default_value_t = TurnOrder::SimultaneousFirst)]
    pub turn_order: TurnOrder,
    /// Show the judge the passage (off by default, as in QuALITY debates).
    #[arg(long)]
    pub judge_sees_passage: bool,
}

impl ProtocolArgs {
    /// The session settings of these options.
    pub fn settings(&self, task: &str, n: usize, seed: u64, rounds: usize, judge: JudgeSetting) -> Result<Settings> {
        if rounds == 0 && self.protocol != Protocol::Blind {
            return super::usage("--rounds must be at least 1 (use --protocol blind for no arguments)");
        }
        super::args::check_min(n, 1, "--n")?;
        Ok(Settings {
            task: task.to_string(),
            n,
            seed,
            protocol: self.protocol,
            assignment: self.assignment,
            rounds: if self.protocol == Protocol::Blind { 0 } else { rounds },
            turn_order: self.turn_order,
            judge,
            judge_sees_passage: self.judge_sees_passage,
        })
    }
}

/// Debater options shared by `debate run` and `facilitate`.
#[derive(Args, Debug, Clone)]
pub struct DebaterArgs {
    /// Strong debater: a profile (`NAME` from <config>/profiles/NAME.toml, or a .toml file) or a model spec.
    #[arg(long, default_value = DEFAULT_STRONG)]
    pub strong: String,
    /// Weak debater: a profile or a model spec.
    #[arg(long, default_value = DEFAULT_WEAK)]
    pub weak: String,
    /// Per-turn token budget for debaters given as model specs.
    #[arg(long, default_value_t = 64)]
    pub max_tokens: usize,
    /// Sampling temperature for debaters given as model specs (0 = greedy).
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// Let debaters given as model specs reproduce the opponent's wording. By default a
    /// local model may not write 5 tokens in a row of the opponent's turns that are not in
    /// the passage, question or choices (remote models are only regenerated).
    #[arg(long)]
    pub allow_copies: bool,
    /// Deny the strong debater the passage.
    #[arg(long)]
    pub strong_no_passage: bool,
    /// Deny the weak debater the passage (the information gap).
    #[arg(long)]
    pub weak_no_passage: bool,
}

#[derive(Args, Debug)]
#[command(mut_arg("out", |a| a.help("Session file. An existing file with the same settings is resumed. \
Default: <sessions-dir>/<task>-<strong>-vs-<weak>-<protocol>-r<rounds>-n<n>-s<seed>.json")))]
pub struct RunArgs {
    #[command(flatten)]
    pub items: ItemArgs,
    #[command(flatten)]
    pub debaters: DebaterArgs,
    /// Who judges: `model` (the --judge-model, by default the weak debater's model), `model:SPEC`,
    /// `human` (a person, later, in `w2sd review`/the UI) or `none`.
    #[arg(long, default_value = "model")]
    pub judge: JudgeSetting,
    /// Model spec of the model judge (default: the weak debater's model, so weak supervises strong).
    #[arg(long)]
    pub judge_model: Option<String>,
    #[command(flatten)]
    pub protocol: ProtocolArgs,
    /// Debate rounds (0 only with --protocol blind).
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    #[command(flatten)]
    pub out: OutArg,
    /// Debates argued at once. Above 1, each worker gets its own connection to a remote model
    /// (`openai:…`), so a server that batches requests serves them together; a local model is
    /// shared and its calls take turns. Turns do not stream.
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// Where sessions live (default: the data dir, or $W2SD_DATA_DIR/sessions).
    #[arg(long)]
    pub sessions_dir: Option<PathBuf>,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Args, Debug)]
pub struct JudgeArgs {
    /// Session file (or a name in the sessions dir).
    pub file: PathBuf,
    /// Model spec of the judge.
    #[arg(long)]
    pub judge_model: String,
    /// Where sessions live (default: <data dir>/sessions).
    #[arg(long)]
    pub sessions_dir: Option<PathBuf>,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Subcommand, Debug)]
pub enum SessionsCmd {
    /// List the sessions in the sessions dir.
    List {
        /// Where sessions live (default: <data dir>/sessions).
        #[arg(long)]
        sessions_dir: Option<PathBuf>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Show a session's debates and transcripts.
    #[command(mut_arg("json", |a| a.help("Print the session file's JSON (with --debate, that debate's)")))]
    Show {
        /// Session file (or a file name in the sessions dir).
        file: PathBuf,
        /// Only this debate (0-based index).
        #[arg(long)]
        debate: Option<usize>,
        /// Where sessions live (default: <data dir>/sessions).
        #[arg(long)]
        sessions_dir: Option<PathBuf>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Judge accuracy, mean D with CI, ECE, Brier, win rates, judge agreement, position
    /// bias, debater quality (copy rate, leaks, cuts, quotes) and Bradley–Terry ratings.
    Stats {
        /// Session files (default: every session in the sessions dir, for Elo).
        files: Vec<PathBuf>,
        /// Use this judge's verdicts (default: each debate's first judgement).
        #[arg(long)]
        judge: Option<String>,
        /// Keep debates with a cancelled turn in the aggregates (left out by default).
        #[arg(long)]
        include_cancelled: bool,
        /// Where sessions live (default: <data dir>/sessions).
        #[arg(long)]
        sessions_dir: Option<PathBuf>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Export one row per judgement (debates without one get one row) as JSONL or CSV.
    #[command(mut_arg("out", |a| a.help("Output file (default: stdout)")))]
    Export {
        /// Session file (or a file name in the sessions dir).
        file: PathBuf,
        /// Export format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        #[command(flatten)]
        out: OutArg,
        /// Where sessions live (default: <data dir>/sessions).
        #[arg(long)]
        sessions_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

#[derive(Args, Debug)]
#[command(mut_arg("out", |a| a.help("Also write the full report (every item, explanation and log-probability) \
here, after every item; an existing report of the same run is resumed")))]
pub struct FacilitateArgs {
    #[command(flatten)]
    pub items: ItemArgs,
    #[command(flatten)]
    pub debaters: DebaterArgs,
    #[command(flatten)]
    pub out: OutArg,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// A profile file: `model` is required, the rest default to the command-line values.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: Option<String>,
    /// Model spec: a catalog name, a GGUF file, a safetensors folder, or hf:owner/repo[:file].
    model: String,
    sees_passage: Option<bool>,
    /// Most tokens to generate.
    max_tokens: Option<usize>,
    sampling: Option<Sampling>,
    template: Option<String>,
    /// Whether decoding may not reproduce the opponent's wording (default: not `--allow-copies`).
    block_copies: Option<bool>,
}

/// Resolves `--strong`/`--weak`: a `.toml` profile file, a profile name in
/// `<config>/profiles/`, or else a model spec.
/// The sampling seed is the default 42 (see [`resolve_profile_seeded`]).
pub fn resolve_profile(arg: &str, sees_passage: bool, a: &DebaterArgs) -> Result<DebaterProfile> {
    resolve_profile_seeded(arg, sees_passage, a, Sampling::default().seed)
}

/// [`resolve_profile`] with `seed` as the sampling seed of debaters given as model specs
/// (and of profile files without a `sampling` table): `--seed` reaches generation.
///
/// Every setting is checked here, before any model loads: the flags, then a profile file's
/// own values (naming the file). A bad one is a [`super::UsageError`] (exit status 2).
pub fn resolve_profile_seeded(arg: &str, sees_passage: bool, a: &DebaterArgs, seed: u64) -> Result<DebaterProfile> {
    let flags = Sampling { temperature: a.temperature, ..Sampling::default() };
    super::args::check_sampling(&flags, a.max_tokens, super::args::Origin::Flags)?;
    let named = crate::paths::config_dir().join("profiles").join(format!("{arg}.toml"));
    let file = if arg.ends_with(".toml") {
        let p = PathBuf::from(arg);
        if !p.is_file() {
            return super::usage(format!("profile file {} does not exist", p.display()));
        }
        Some(p)
    } else if named.is_file() {
        Some(named)
    } else {
        None
    };
    let default_sampling = Sampling { temperature: a.temperature, repeat_penalty: 1.1, seed, ..Sampling::default() };
    match file {
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| super::bad_input(anyhow::anyhow!("cannot read profile {}: {e}", p.display())))?;
            let f: ProfileFile = toml::from_str(&text)
                .map_err(|e| super::bad_input(anyhow::anyhow!("profile {}: {}", p.display(), e.to_string().trim())))?;
            if let Some(s) = &f.sampling {
                super::args::check_sampling(s, f.max_tokens.unwrap_or(a.max_tokens), super::args::Origin::Profile(&p))?;
            }
            if f.max_tokens == Some(0) {
                return super::usage(format!("max_tokens in profile {} must be at least 1, got 0", p.display()));
            }
            Ok(DebaterProfile {
                name: f.name.unwrap_or_else(|| f.model.clone()),
                model: f.model,
                sees_passage: f.sees_passage.unwrap_or(sees_passage),
                max_tokens: f.max_tokens.unwrap_or(a.max_tokens),
                sampling: f.sampling.unwrap_or(default_sampling),
                template: f.template.unwrap_or_else(|| "debater".into()),
                block_copies: f.block_copies.unwrap_or(!a.allow_copies),
            })
        }
        None => Ok(DebaterProfile {
            name: arg.to_string(),
            model: arg.to_string(),
            sees_passage,
            max_tokens: a.max_tokens,
            sampling: default_sampling,
            template: "debater".into(),
            block_copies: !a.allow_copies,
        }),
    }
}

/// The engine's [`ModelPool`] with a progress bar on stderr while a model is pulled or loaded.
#[derive(Default)]
pub struct ModelSet {
    /// How hidden states become one vector per text.
    pool: ModelPool,
}

impl ModelSet {
    /// The model of `spec` for worker `k` of a parallel run: a remote model (`openai:…`) gets
    /// its own connection for each worker, so its requests run at once; a local model is the
    /// one shared copy (its calls take turns).
    pub fn get_for_worker(&mut self, spec: &str, k: usize) -> Result<SharedModel> {
        if k == 0 || crate::runtime::openai::RemoteSpec::parse(spec).is_none() {
            return self.get(spec);
        }
        Ok(crate::runtime::share_boxed(crate::runtime::load(spec, &mut |_| {})?))
    }

    /// The debaters and judge of each of `workers` workers of a parallel run
    /// ([`SessionRun::run_parallel`]), each model taken with [`ModelSet::get_for_worker`].
    pub fn worker_agents(
        &mut self,
        strong: &DebaterProfile,
        weak: &DebaterProfile,
        judge: Option<&str>,
        templates: &Templates,
        workers: usize,
    ) -> Result<Vec<runner::Agents>> {
        let mut agents = Vec::with_capacity(workers);
        for k in 0..workers {
            let strong_d = ModelDebater::new(strong.clone(), self.get_for_worker(&strong.model, k)?, templates.clone());
            let weak_d = ModelDebater::new(weak.clone(), self.get_for_worker(&weak.model, k)?, templates.clone());
            let judge: Option<Box<dyn Judge + Send>> = match judge {
                Some(spec) => Some(Box::new(ModelJudge::new(self.get_for_worker(spec, k)?, templates.clone())?)),
                None => None,
            };
            agents.push(runner::Agents { strong: Box::new(strong_d), weak: Box::new(weak_d), judge });
        }
        Ok(agents)
    }

    pub fn get(&mut self, spec: &str) -> Result<SharedModel> {
        if !self.pool.contains(spec) {
            eprintln!("loading {spec} …");
        }
        let quiet = !std::io::IsTerminal::is_terminal(&std::io::stderr());
        let bar = super::progress::PullBar::new(quiet);
        self.pool.get(spec, &mut |p| bar.update(&p))
    }
}

/// Loads the whole task (every line of a task file) before any model loads; a bad spec or
/// file is a [`super::UsageError`].
pub fn check_task(spec: &str, n: usize, seed: u64) -> Result<Vec<crate::tasks::TaskItem>> {
    crate::tasks::load(spec, Some(n), seed).map_err(super::bad_input)
}

/// Loads a session file given as input: a file that cannot be parsed is bad input (exit
/// status 2); one that cannot be read is a failure at run time.
fn load_input(path: &Path) -> Result<Session> {
    store::load(path).map_err(|e| match e {
        store::SessionError::Read { .. } | store::SessionError::Write { .. } => anyhow::Error::new(e),
        _ => super::bad_input(e),
    })
}

fn sessions_dir(flag: &Option<PathBuf>) -> PathBuf {
    flag.clone().unwrap_or_else(crate::paths::sessions_dir)
}

/// A session file argument: the path itself, or a file name in the sessions dir.
fn session_path(file: &Path, dir: &Option<PathBuf>) -> PathBuf {
    if file.exists() || file.components().count() > 1 {
        return file.to_path_buf();
    }
    let in_dir = sessions_dir(dir).join(file);
    if in_dir.exists() {
        in_dir
    } else {
        file.to_path_buf()
    }
}

/// The command line, with the program written as `w2sd` (not a machine-specific path).
fn command_line() -> String {
    std::iter::once("w2sd".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ")
}

fn fmt(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "n/a".into()
    }
}

fn run(a: RunArgs) -> Result<()> {
    let t0 = Instant::now();
    super::args::check_min(a.items.n, 1, "--n")?;
    super::args::check_min(a.concurrency, 1, "--concurrency")?;
    if a.concurrency > 1 && matches!(a.judge, JudgeSetting::Human) {
        return super::usage(
            "--concurrency above 1 needs a model judge (or --judge none); a person judges one debate at a time",
        );
    }
    // Check the whole task file before loading any model.
    check_task(&a.items.task, a.items.n, a.items.seed)?;
    let strong_p =
        resolve_profile_seeded(&a.debaters.strong, !a.debaters.strong_no_passage, &a.debaters, a.items.seed)?;
    let weak_p = resolve_profile_seeded(&a.debaters.weak, !a.debaters.weak_no_passage, &a.debaters, a.items.seed)?;
    let judge_setting = match (&a.judge, &a.judge_model) {
        (JudgeSetting::Model { .. }, Some(spec)) => JudgeSetting::Model { spec: spec.clone() },
        (JudgeSetting::Model { spec }, None) if spec.is_empty() => JudgeSetting::Model { spec: weak_p.model.clone() },
        (j, _) => j.clone(),
    };
    let settings = a.protocol.settings(&a.items.task, a.items.n, a.items.seed, a.rounds, judge_setting.clone())?;
    let out = match &a.out.path {
        Some(p) => p.clone(),
        None => sessions_dir(&a.sessions_dir).join(runner::default_file_name(&settings, &strong_p, &weak_p)),
    };
    // One writer per session file: a second `debate run` (or a `judge`) on it fails here,
    // naming the holder's pid, before any model loads.
    let _lock = store::lock(&out)?;
    // A resumed session keeps the exact templates it recorded.
    let templates =
        if out.exists() { Templates::from_records(&load_input(&out)?.provenance.prompts) } else { Templates::load()? };
    templates.check_debater(&strong_p.template)?;
    templates.check_debater(&weak_p.template)?;
    let plan = RunPlan {
        settings,
        strong: strong_p.clone(),
        weak: weak_p.clone(),
        out: out.clone(),
        templates: templates.clone(),
        command: Some(command_line()),
    };

    let mut models = ModelSet::default();
    if a.concurrency > 1 {
        return run_parallel(&a, plan, &judge_setting, &mut models, t0);
    }
    let mut strong = ModelDebater::new(strong_p.clone(), models.get(&strong_p.model)?, templates.clone());
    let mut weak = ModelDebater::new(weak_p.clone(), models.get(&weak_p.model)?, templates.clone());
    let mut judge = match &judge_setting {
        JudgeSetting::Model { spec } => Some(ModelJudge::new(models.get(spec)?, templates.clone())?),
        _ => None,
    };
    let cancel = CancelToken::new();
    let json = a.json.on;
    let mut err = std::io::stderr();
    let mut on_event = |e: RunEvent| {
        let _ = match e {
            RunEvent::Resumed { path, done, total } => {
                writeln!(err, "resuming {} ({done} of {total} debates done)", path.display())
            }
            RunEvent::Skipped { .. } => Ok(()),
            RunEvent::DebateStart { index, total, record } => {
                let it = &record.item;
                if json {
                    writeln!(err, "debate {}/{total} {}", index + 1, it.id)
                } else {
                    writeln!(
                        err,
                        "\n── debate {}/{total} · {} · {}\n   strong defends {:?}{} · weak defends {:?}",
                        index + 1,
                        it.id,
                        it.question.lines().last().unwrap_or(""),
                        it.choices[record.strong_answer],
                        if record.strong_correct { " (correct)" } else { "" },
                        it.choices[record.weak_answer],
                    )
                }
            }
            RunEvent::TurnStart { spec, .. } if !json => write!(err, "[round {} {}] ", spec.round, spec.side.as_str()),
            RunEvent::Text(t) if !json => write!(err, "{t}"),
            RunEvent::TurnEnd { .. } if !json => writeln!(err),
            RunEvent::Agreement { index } => {
                writeln!(err, "   debate {}: both sides prefer the same answer (agreement)", index + 1)
            }
            RunEvent::Judged { judgement, .. } => writeln!(
                err,
                "   judge {}: p(strong) = {:.3}, D = {:+.3}, {}",
                judgement.name,
                judgement.p_strong,
                judgement.d,
                if judgement.correct { "correct" } else { "wrong" }
            ),
            _ => Ok(()),
        };
        let _ = err.flush();
    };
    let s = runner::run_session(
        &plan,
        &mut strong,
        &mut weak,
        judge.as_mut().map(|j| j as &mut dyn Judge),
        &cancel,
        &mut on_event,
    )
    // A turn may have been streaming: the error goes on a line of its own.
    .inspect_err(|_| eprintln!())?;
    report_run(&out, &s, t0, a.json.on)
}

/// The summary of a finished `debate run`: JSON, or lines for a person.
fn report_run(out: &Path, s: &Session, t0: Instant, json: bool) -> Result<()> {
    let wall = t0.elapsed().as_secs_f64();
    let sc = s.scores.clone().unwrap_or_else(|| metrics::session_scores(s, None));
    if json {
        print_json(&out_json::RunOutput::new(out, s, &sc, wall))
    } else {
        println!("session saved to {}", out.display());
        print_scores(&sc);
        println!("wall time {wall:.1}s");
        Ok(())
    }
}

/// `debate run --concurrency N` (N > 1): N workers, each with its own debaters and judge
/// ([`SessionRun::run_parallel`]).
fn run_parallel(a: &RunArgs, plan: RunPlan, judge: &JudgeSetting, models: &mut ModelSet, t0: Instant) -> Result<()> {
    let judge_spec = match judge {
        JudgeSetting::Model { spec } => Some(spec.as_str()),
        _ => None,
    };
    let mut agents = models.worker_agents(&plan.strong, &plan.weak, judge_spec, &plan.templates, a.concurrency)?;
    let verdicts = if matches!(judge, JudgeSetting::Model { .. }) { Verdicts::Judge } else { Verdicts::Later };
    let first = &agents[0];
    let mut run = SessionRun::open(
        plan.clone(),
        first.strong.as_ref(),
        first.weak.as_ref(),
        first.judge.as_deref().map(|j| j as &dyn crate::debate::Judge),
        verdicts,
    )?;
    if let Some(done) = run.resumed() {
        eprintln!("resuming {} ({done} of {} debates done)", plan.out.display(), run.total());
    }
    eprintln!("{} debates at once", a.concurrency);
    let cancel = CancelToken::new();
    run.run_parallel(&mut agents, &cancel, &mut |e| match e {
        RunEvent::DebateStart { index, total, record } => {
            eprintln!("debate {}/{total} {} started", index + 1, record.item.id)
        }
        RunEvent::TurnEnd { index, turn } => {
            eprintln!("   debate {}: round {} {} ({} tokens)", index + 1, turn.round, turn.side.as_str(), turn.tokens)
        }
        RunEvent::Agreement { index } => eprintln!("   debate {}: both sides prefer the same answer", index + 1),
        RunEvent::Judged { index, judgement } => eprintln!(
            "   debate {}: judge {}: p(strong) = {:.3}, D = {:+.3}, {}",
            index + 1,
            judgement.name,
            judgement.p_strong,
            judgement.d,
            if judgement.correct { "correct" } else { "wrong" }
        ),
        _ => {}
    })?;
    let mut s = run.into_session();
    runner::save(&plan.out, &mut s)?;
    report_run(&plan.out, &s, t0, a.json.on)
}

fn print_scores(sc: &session::Scores) {
    println!("judged {} debates ({} agreements)", sc.judged, sc.agreements);
    println!("judge accuracy {}", fmt(sc.judge_accuracy));
    if sc.neither_correct > 0 || sc.cancelled > 0 {
        println!("left out: {} with neither side correct · {} with a cancelled turn", sc.neither_correct, sc.cancelled);
    }
    println!(
        "mean D toward strong {} (95% CI {} … {}) · toward the truth {} ({} … {})",
        fmt(sc.mean_d),
        fmt(sc.mean_d_ci[0]),
        fmt(sc.mean_d_ci[1]),
        fmt(sc.mean_d_correct),
        fmt(sc.mean_d_correct_ci[0]),
        fmt(sc.mean_d_correct_ci[1])
    );
    println!("mean log score {} · ECE {} · Brier {}", fmt(sc.mean_log_score), fmt(sc.ece), fmt(sc.brier));
    let w = &sc.win_rates;
    println!(
        "win rates: strong {} · weak {} · correct side {} · strong when correct {} · strong when wrong {}",
        fmt(w.strong),
        fmt(w.weak),
        fmt(w.correct_side),
        fmt(w.strong_when_correct),
        fmt(w.strong_when_incorrect)
    );
}

fn judge(a: JudgeArgs) -> Result<()> {
    let path = session_path(&a.file, &a.sessions_dir);
    let s = load_input(&path)?;
    let _lock = store::lock(&path)?;
    let templates = Templates::from_records(&s.provenance.prompts);
    let mut models = ModelSet::default();
    let mut j = ModelJudge::new(models.get(&a.judge_model)?, templates)?;
    let added = runner::judge_saved(&path, &mut j, &mut |e| {
        if let RunEvent::Judged { index, judgement } = e {
            eprintln!("debate {}: p(strong) = {:.3}, D = {:+.3}", index + 1, judgement.p_strong, judgement.d);
        }
    })?;
    let s = load_input(&path)?;
    let agreement = metrics::judge_agreement(&s);
    if a.json.on {
        print_json(&out_json::JudgeOutput { path: &path, added, judge: j.name(), kappa: agreement })
    } else {
        println!("added {added} judgements by {} to {}", j.name(), path.display());
        for k in agreement {
            println!("kappa({}, {}) = {} over {} debates", k.judge_a, k.judge_b, fmt(k.kappa), k.n);
        }
        Ok(())
    }
}

fn sessions(c: SessionsCmd) -> Result<()> {
    match c {
        SessionsCmd::List { sessions_dir: d, json } => {
            let dir = sessions_dir(&d);
            let mut rows = Vec::new();
            for p in store::list(&dir)? {
                rows.push(match store::load(&p) {
                    Ok(s) => out_json::SessionRow::of(p, s),
                    Err(e) => out_json::SessionRow::Error { path: p, error: e.to_string() },
                });
            }
            if json.on {
                return print_json(&out_json::SessionList { dir: &dir, sessions: &rows });
            }
            println!("sessions in {}", dir.display());
            if rows.is_empty() {
                println!("  (none)");
            }
            for r in rows {
                match r {
                    out_json::SessionRow::Error { path, error } => println!("  {}  ERROR {error}", path.display()),
                    out_json::SessionRow::Session { id, task, protocol, strong, weak, n, judged, updated, .. } => {
                        println!(
                            "  {id}  {task} {strong} vs {weak} · {} · {judged}/{n} judged · {updated}",
                            protocol.name()
                        )
                    }
                }
            }
            Ok(())
        }
        SessionsCmd::Show { file, debate, sessions_dir: d, json } => {
            let path = session_path(&file, &d);
            let s = load_input(&path)?;
            if json.on {
                return match debate {
                    Some(i) => {
                        print_json(s.debates.get(i).with_context(|| format!("{} has no debate {i}", path.display()))?)
                    }
                    None => print_json(&s),
                };
            }
            show(&s, debate);
            Ok(())
        }
        SessionsCmd::Stats { files, judge, include_cancelled, sessions_dir: d, json } => {
            let paths: Vec<PathBuf> = if files.is_empty() {
                store::list(&sessions_dir(&d))?
            } else {
                files.iter().map(|f| session_path(f, &d)).collect()
            };
            if paths.is_empty() {
                bail!("no session files given and none in {}", sessions_dir(&d).display());
            }
            let mut sessions = Vec::new();
            for p in &paths {
                sessions.push((p.clone(), load_input(p)?));
            }
            sessions.sort_by(|a, b| a.1.created.cmp(&b.1.created));
            let all: Vec<Session> = sessions.iter().map(|(_, s)| s.clone()).collect();
            let seed = all.first().map(|s| s.settings.seed).unwrap_or(0);
            let bt = metrics::ratings(&metrics::games(&all), seed);
            let filter = metrics::Filter { include_cancelled };
            if json.on {
                let mut per: Vec<out_json::SessionStats> =
                    sessions.iter().map(|(p, s)| out_json::SessionStats::new(p, s, judge.as_deref(), filter)).collect();
                if per.len() == 1 {
                    let mut one = per.remove(0);
                    one.ratings = Some(bt);
                    return print_json(&one);
                }
                return print_json(&out_json::StatsOutput { sessions: per, ratings: bt });
            }
            for (p, s) in &sessions {
                println!("{} ({})", s.id, p.display());
                print_scores(&metrics::session_scores_filtered(s, judge.as_deref(), filter));
                for k in metrics::judge_agreement(s) {
                    println!("kappa({}, {}) = {} over {} debates", k.judge_a, k.judge_b, fmt(k.kappa), k.n);
                }
                for b in metrics::position_bias(s) {
                    println!(
                        "position bias of {}: mean p(A) {} · verdict flips with the order {} (n {})",
                        b.judge,
                        fmt(b.mean_p_a),
                        fmt(b.flip_rate),
                        b.n
                    );
                }
                for q in metrics::turn_quality(s) {
                    if q.turns == 0 {
                        continue;
                    }
                    println!(
                        "turns ({}) {}: copied {} · prompt leak {} · hit the budget {} · mid-sentence {} · quotes {} verified / {} not{}",
                        q.side,
                        q.turns,
                        fmt(q.copy_rate),
                        fmt(q.leak_rate),
                        fmt(q.budget_rate),
                        fmt(q.mid_sentence_rate),
                        q.quotes_verified,
                        q.quotes_unverified,
                        if q.cancelled > 0 { format!(" · {} cancelled", q.cancelled) } else { String::new() }
                    );
                }
                println!();
            }
            println!("Bradley–Terry ratings (Elo scale, 95% bootstrap interval over games):");
            if bt.is_empty() {
                println!("  (no debate games between different profiles)");
            }
            for r in &bt {
                println!("  {}: {:.1} ({} … {}) over {} games", r.name, r.rating, fmt(r.ci[0]), fmt(r.ci[1]), r.games);
            }
            Ok(())
        }
        SessionsCmd::Export { file, format, out, sessions_dir: d } => {
            let path = session_path(&file, &d);
            let s = load_input(&path)?;
            let fmt = match format {
                ExportFormat::Jsonl => session::export::ExportFormat::Jsonl,
                ExportFormat::Csv => session::export::ExportFormat::Csv,
            };
            let (n_rows, mut buf) = session::export::export_bytes(&s, fmt)?;
            match out.path {
                Some(p) => {
                    if p.exists() && store::load(&p).is_ok() {
                        bail!("{} is a session file; refusing to overwrite it with an export", p.display());
                    }
                    store::write_atomic(&p, buf.strip_suffix(b"\n").unwrap_or(&buf))?;
                    eprintln!("wrote {n_rows} rows to {}", p.display());
                }
                None => {
                    if !buf.is_empty() && !buf.ends_with(b"\n") {
                        buf.push(b'\n');
                    }
                    std::io::stdout().write_all(&buf)?
                }
            }
            Ok(())
        }
    }
}

fn show(s: &Session, only: Option<usize>) {
    println!("session {} · {} · created {} · updated {}", s.id, s.settings.task, s.created, s.updated);
    println!(
        "strong {} · weak {} · protocol {:?} · {} round(s) · judge {:?}",
        s.provenance.strong.name, s.provenance.weak.name, s.settings.protocol, s.settings.rounds, s.settings.judge
    );
    for d in s.debates.iter().filter(|d| only.is_none_or(|i| i == d.index)) {
        let it = &d.item;
        println!("\n── debate {} · {} · {:?}", d.index + 1, it.id, d.status);
        if let Some(p) = &it.passage {
            println!("passage: {p}");
        }
        println!("question: {}", it.question);
        for (k, c) in it.choices.iter().enumerate() {
            let mut tags = Vec::new();
            if k == it.answer {
                tags.push("correct");
            }
            if k == d.strong_answer {
                tags.push("strong");
            }
            if k == d.weak_answer {
                tags.push("weak");
            }
            println!(
                "  {}. {c}{}",
                crate::debate::render::letter(k),
                if tags.is_empty() { String::new() } else { format!("  [{}]", tags.join(", ")) }
            );
        }
        if let Some(f) = d.first_speaker {
            println!("first speaker: {}", f.as_str());
        }
        for t in &d.turns {
            let mut tags = Vec::new();
            if t.is_cancelled() {
                tags.push("cancelled".to_string());
            }
            if t.flags.cut {
                tags.push("cut".to_string());
            }
            if let Some(o) = t.flags.copy_overlap {
                tags.push(format!("copy overlap {o:.2}{}", if t.flags.copied { ", copied" } else { "" }));
            }
            let (v, u) = crate::debate::quality::quote_counts(&t.text, it.passage.as_deref());
            if v + u > 0 {
                tags.push(format!("quotes {v} verified, {u} not"));
            }
            println!(
                "[round {} {}{}] {}",
                t.round,
                if t.side == Side::Strong { "strong" } else { "weak" },
                if tags.is_empty() { String::new() } else { format!(" · {}", tags.join(" · ")) },
                t.text
            );
        }
        for j in &d.judgements {
            println!(
                "judge {}{} ({:?}): p(strong) = {:.3} · D = {:+.3} · log score {:.3} · {}",
                j.name,
                j.upto_round.map(|r| format!(" after round {r}")).unwrap_or_default(),
                j.kind,
                j.p_strong,
                j.d,
                j.log_score,
                if j.correct { "correct" } else { "wrong" }
            );
            if let Some(r) = &j.rationale {
                println!("  rationale: {r}");
            }
        }
    }
    if only.is_none() {
        println!();
        print_scores(&metrics::session_scores(s, None));
    }
}

fn facilitate_cmd(a: FacilitateArgs) -> Result<()> {
    let t0 = Instant::now();
    super::args::check_min(a.items.n, 1, "--n")?;
    let items = check_task(&a.items.task, a.items.n, a.items.seed)?;
    let strong_p =
        resolve_profile_seeded(&a.debaters.strong, !a.debaters.strong_no_passage, &a.debaters, a.items.seed)?;
    let weak_p = resolve_profile_seeded(&a.debaters.weak, !a.debaters.weak_no_passage, &a.debaters, a.items.seed)?;
    let templates = Templates::load()?;
    templates.check_debater(&strong_p.template)?;
    let mut models = ModelSet::default();
    let mut strong = ModelDebater::new(strong_p.clone(), models.get(&strong_p.model)?, templates.clone());
    let mut weak = ModelDebater::new(weak_p.clone(), models.get(&weak_p.model)?, templates.clone());
    let mut records = std::collections::BTreeMap::new();
    if let Some(m) = strong.model_record() {
        records.insert("strong".to_string(), m);
    }
    if let Some(m) = weak.model_record() {
        records.insert("weak".to_string(), m);
    }
    let cancel = CancelToken::new();
    let json = a.json.on;
    let mut err = std::io::stderr();
    let done = match &a.out.path {
        Some(p) if p.exists() => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            let old: facilitate::FacilitationReport = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a facilitation report; choose another --out", p.display()))?;
            if old.task != a.items.task || old.seed != a.items.seed || old.strong != strong_p || old.weak != weak_p {
                bail!(
                    "{} holds a facilitation run with other settings (task, seed or debater profiles); it was left untouched. Choose another --out.",
                    p.display()
                );
            }
            if old.items.iter().any(|r| r.wrong_correct.is_none()) {
                bail!(
                    "{} was written by an older w2sd without the wrong-explanation control; choose another --out",
                    p.display()
                );
            }
            old.items.into_iter().take(items.len()).collect()
        }
        _ => Vec::new(),
    };
    let prompts = templates.map.clone();
    let (task, seed) = (a.items.task.clone(), a.items.seed);
    let (sp, wp, rec) = (strong_p.clone(), weak_p.clone(), records.clone());
    let out_path = a.out.path.clone();
    let mut checkpoint = |so_far: &[facilitate::FacilitationItem]| -> Result<()> {
        if let Some(p) = &out_path {
            let rep =
                facilitate::report(&task, seed, sp.clone(), wp.clone(), rec.clone(), prompts.clone(), so_far.to_vec());
            store::write_atomic(p, &serde_json::to_vec_pretty(&rep)?)?;
        }
        Ok(())
    };
    let results = facilitate::facilitate(
        &items,
        &mut strong,
        &mut weak,
        &cancel,
        done,
        &mut |e| {
            let _ = match e {
                FacilitationEvent::ItemStart { index, total, item } => {
                    if json {
                        writeln!(err, "item {}/{total} {}", index + 1, item.id)
                    } else {
                        write!(err, "\n── item {}/{total} · {}\n[strong explains] ", index + 1, item.id)
                    }
                }
                FacilitationEvent::Text(t) if !json => write!(err, "{t}"),
                FacilitationEvent::ItemDone { result, .. } if !json => writeln!(
                    err,
                    "\n   weak p(correct) alone {:.3} · with explanation {:.3} · with a wrong explanation {}",
                    result.p_correct_alone,
                    result.p_correct_with,
                    result.p_correct_wrong.map(|x| format!("{x:.3}")).unwrap_or_default()
                ),
                FacilitationEvent::Resumed { done, total } => {
                    writeln!(err, "resuming: {done}/{total} items already saved")
                }
                _ => Ok(()),
            };
            let _ = err.flush();
        },
        &mut checkpoint,
    )?;
    let rep =
        facilitate::report(&a.items.task, a.items.seed, strong_p, weak_p, records, templates.map.clone(), results);
    if let Some(p) = &a.out.path {
        store::write_atomic(p, &serde_json::to_vec_pretty(&rep)?)?;
    }
    let wall = t0.elapsed().as_secs_f64();
    if a.json.on {
        print_json(&out_json::FacilitateOutput::new(&rep, a.out.path.as_deref(), wall))
    } else {
        println!(
            "Φ in probability {} (95% CI {} … {}): weak p(correct) alone {} → with the strong explanation {}",
            fmt(rep.phi_p),
            fmt(rep.phi_p_ci[0]),
            fmt(rep.phi_p_ci[1]),
            fmt(rep.mean_p_correct_alone),
            fmt(rep.mean_p_correct_with)
        );
        println!(
            "control (strong argues a wrong answer, n {}): Φ in probability {} ({} … {}) · in accuracy {} ({} … {})",
            rep.n_control,
            fmt(rep.phi_p_wrong),
            fmt(rep.phi_p_wrong_ci[0]),
            fmt(rep.phi_p_wrong_ci[1]),
            fmt(rep.phi_acc_wrong),
            fmt(rep.phi_acc_wrong_ci[0]),
            fmt(rep.phi_acc_wrong_ci[1])
        );
        println!(
            "weak accuracy alone {} · with the strong explanation {}",
            fmt(rep.weak_alone),
            fmt(rep.weak_with_strong)
        );
        println!(
            "Φ in accuracy {} (95% CI {} … {}) · strong alone {}",
            fmt(rep.gain),
            fmt(rep.gain_ci[0]),
            fmt(rep.gain_ci[1]),
            fmt(rep.strong_alone)
        );
        println!("wall time {wall:.1}s");
        Ok(())
    }
}

/// One arm of `debate compare`: its name, settings and session file.
struct Arm {
    name: String,
    settings: Settings,
    path: PathBuf,
}

fn compare_arms(a: &CompareArgs, strong: &DebaterProfile, weak: &DebaterProfile, judge: &str) -> Result<Vec<Arm>> {
    let mut arms = Vec::new();
    for name in a.protocols.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        let (protocol, sees) = match name {
            "blind" => (Protocol::Blind, false),
            "consultancy" => (Protocol::Consultancy, false),
            "debate" => (Protocol::Debate, false),
            "oracle" => (Protocol::Blind, true),
            other => bail!("--protocols: unknown protocol {other:?}; use blind, consultancy, debate, oracle"),
        };
        if arms.iter().any(|x: &Arm| x.name == name) {
            bail!("--protocols names {name} twice");
        }
        let settings = Settings {
            task: a.items.task.clone(),
            n: a.items.n,
            seed: a.items.seed,
            protocol,
            assignment: Assignment::Assigned,
            rounds: if protocol == Protocol::Blind { 0 } else { a.rounds },
            turn_order: a.turn_order,
            judge: JudgeSetting::Model { spec: judge.to_string() },
            judge_sees_passage: sees,
        };
        let file = runner::default_file_name(&settings, strong, weak);
        let file = if name == "oracle" { file.replacen("-blind-", "-oracle-", 1) } else { file };
        let path = sessions_dir(&a.sessions_dir).join(format!("compare-{file}"));
        arms.push(Arm { name: name.to_string(), settings, path });
    }
    if arms.is_empty() {
        bail!("--protocols is empty");
    }
    Ok(arms)
}

/// `w2sd debate compare`: every protocol on the same items, interleaved item by item
/// (so an interrupted run leaves every protocol at about the same n), each saved to its
/// own resumable session file; then judge accuracy per protocol, paired differences and
/// accuracy by round (see `debate::compare`).
fn compare(a: CompareArgs) -> Result<()> {
    let t0 = Instant::now();
    if a.items.n == 0 {
        bail!("--n must be at least 1");
    }
    if a.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    crate::tasks::TaskSpec::parse(&a.items.task)?;
    let strong_p =
        resolve_profile_seeded(&a.debaters.strong, !a.debaters.strong_no_passage, &a.debaters, a.items.seed)?;
    let weak_p = resolve_profile_seeded(&a.debaters.weak, !a.debaters.weak_no_passage, &a.debaters, a.items.seed)?;
    let judge_spec = a.judge_model.clone().unwrap_or_else(|| weak_p.model.clone());
    let arms = compare_arms(&a, &strong_p, &weak_p, &judge_spec)?;
    if !a.no_run {
        let items = crate::tasks::load(&a.items.task, Some(a.items.n), a.items.seed)?;
        let existing = arms.iter().find(|x| x.path.exists());
        let templates = match existing {
            Some(x) => Templates::from_records(&store::load(&x.path)?.provenance.prompts),
            None => Templates::load()?,
        };
        templates.check_debater(&strong_p.template)?;
        templates.check_debater(&weak_p.template)?;
        let mut models = ModelSet::default();
        let mut strong = ModelDebater::new(strong_p.clone(), models.get(&strong_p.model)?, templates.clone());
        let mut weak = ModelDebater::new(weak_p.clone(), models.get(&weak_p.model)?, templates.clone());
        let mut judge = ModelJudge::new(models.get(&judge_spec)?, templates.clone())?;
        let cancel = CancelToken::new();
        // One SessionRun per protocol, advanced item by item so that every protocol has judged
        // the same items whenever the command stops.
        let mut runs = Vec::new();
        for arm in &arms {
            let plan = RunPlan {
                settings: arm.settings.clone(),
                strong: strong_p.clone(),
                weak: weak_p.clone(),
                out: arm.path.clone(),
                templates: templates.clone(),
                command: Some(command_line()),
            };
            let run = SessionRun::open(plan, &strong, &weak, Some(&judge), Verdicts::Judge)?;
            if run.resumed().is_some() {
                eprintln!(
                    "{}: resuming {} ({} debates saved)",
                    arm.name,
                    arm.path.display(),
                    run.session().debates.len()
                );
            }
            runs.push(run);
        }
        for (i, item) in items.iter().enumerate() {
            for (arm, run) in arms.iter().zip(runs.iter_mut()) {
                loop {
                    let step = run.next(&mut strong, &mut weak, Some(&mut judge), &cancel, &mut |e| match e {
                        RunEvent::DebateStart { .. } => {
                            eprintln!("item {}/{} · {} · {}", i + 1, items.len(), arm.name, item.id)
                        }
                        RunEvent::Judged { judgement, .. } => eprintln!(
                            "   p(strong) {:.3} · {}",
                            judgement.p_strong,
                            if judgement.correct { "correct" } else { "wrong" }
                        ),
                        _ => {}
                    })?;
                    match step {
                        Step::Judged { index } | Step::Passed { index } | Step::Agreement { index } if index >= i => {
                            break
                        }
                        Step::Done => break,
                        Step::Cancelled { .. } => bail!("cancelled; everything before the cancelled turn is saved"),
                        _ => {}
                    }
                }
                // Accuracy by round: the same judge on the transcript cut after round r.
                let settings = &arm.settings;
                for r in 1..settings.rounds {
                    let Some(rec) = run.session().debates.get(i) else { break };
                    if rec.status != DebateStatus::Judged || rec.judgements.iter().any(|j| j.upto_round == Some(r)) {
                        continue;
                    }
                    let debate = Debate::from_record(settings, rec.clone());
                    let mut v = judge.judge(&debate.judge_view_upto(r))?;
                    v.upto_round = Some(r);
                    run.add_judgement(i, v)?;
                }
            }
        }
    }
    let mut loaded = Vec::new();
    for arm in &arms {
        if !arm.path.exists() {
            bail!("no session file {} for {} (run without --no-run first)", arm.path.display(), arm.name);
        }
        loaded.push((arm.name.clone(), store::load(&arm.path)?));
    }
    let refs: Vec<(String, &Session)> = loaded.iter().map(|(n, s)| (n.clone(), s)).collect();
    let c = crate::debate::compare::compare(&refs, a.items.seed);
    let wall = t0.elapsed().as_secs_f64();
    if a.json.on {
        let quality = loaded
            .iter()
            .filter(|(_, s)| s.settings.protocol != Protocol::Blind)
            .map(|(n, s)| out_json::ProtocolQuality {
                protocol: n,
                turns: metrics::turn_quality(s),
                position_bias: metrics::position_bias(s),
            })
            .collect();
        let blind_position_bias = loaded
            .iter()
            .filter(|(_, s)| s.settings.protocol == Protocol::Blind)
            .map(|(n, s)| out_json::BlindBias { protocol: n, position_bias: metrics::position_bias(s) })
            .collect();
        return print_json(&out_json::CompareOutput {
            task: &a.items.task,
            n_requested: a.items.n,
            seed: a.items.seed,
            strong: &strong_p.name,
            weak: &weak_p.name,
            judge: &judge_spec,
            rounds: a.rounds,
            turn_order: a.turn_order,
            files: arms.iter().map(|x| out_json::CompareFile { protocol: &x.name, path: &x.path }).collect(),
            comparison: &c,
            quality,
            blind_position_bias,
            wall_s: wall,
        });
    }
    println!("{} items judged under every protocol (of {} requested), seed {}", c.n, a.items.n, a.items.seed);
    for p in &c.protocols {
        println!(
            "  {:<12} accuracy {} (95% CI {} … {}) · mean p(correct) {}",
            p.protocol,
            fmt(p.accuracy),
            fmt(p.ci[0]),
            fmt(p.ci[1]),
            fmt(p.mean_p_correct)
        );
        for r in &p.by_round {
            println!(
                "      after round {}: {} ({} … {}), n {}",
                r.round,
                fmt(r.accuracy),
                fmt(r.ci[0]),
                fmt(r.ci[1]),
                r.n
            );
        }
    }
    println!("paired differences (bootstrap over items):");
    for d in &c.differences {
        let diff = if d.diff.is_finite() { format!("{:+.3}", d.diff) } else { "n/a".into() };
        println!("  {} − {}: {diff} (95% CI {} … {}), n {}", d.a, d.b, fmt(d.ci[0]), fmt(d.ci[1]), d.n);
    }
    println!("wall time {wall:.1}s");
    Ok(())
}

/// What `w2sd bench --debate` measures (from `bench`'s flags).
pub struct DebateBench {
    /// The model as both debaters and the judge.
    pub model: String,
    pub task: Option<String>,
    pub n: Option<usize>,
    pub seed: u64,
    pub concurrency: Vec<usize>,
    pub repeat: usize,
    pub json: super::args::JsonFlag,
}

/// One measurement of `w2sd bench --debate`.
#[derive(serde::Serialize)]
pub struct DebateBenchRow {
    pub concurrency: usize,
    pub repeat: usize,
    pub debates: usize,
    pub wall_s: f64,
    pub debates_per_min: f64,
}

/// `w2sd bench --debate --json`.
#[derive(serde::Serialize)]
pub struct DebateBenchOutput {
    pub model: String,
    pub task: String,
    pub rounds: usize,
    pub max_tokens: usize,
    pub rows: Vec<DebateBenchRow>,
    /// The median debates per minute of each concurrency level, in the order asked.
    pub median: Vec<(usize, f64)>,
}

/// `w2sd bench --debate`: whole debates (two rounds, the model as both debaters and the judge)
/// on fresh session files in a temporary folder, `--n` per concurrency level, the levels
/// alternating in each repetition (reversed every other one, so a slow spell of the machine
/// does not fall on one level only).
pub fn bench_debate(a: &DebateBench) -> Result<()> {
    let task = a.task.clone().unwrap_or_else(|| "builtin:capitals".into());
    let n = a.n.unwrap_or(8);
    if a.concurrency.is_empty() || a.concurrency.contains(&0) {
        return super::usage("--concurrency must list levels of at least 1, e.g. 1,4");
    }
    super::args::check_min(a.repeat, 1, "--repeat")?;
    check_task(&task, n, a.seed)?;
    let debaters = DebaterArgs {
        strong: a.model.clone(),
        weak: a.model.clone(),
        max_tokens: 48,
        temperature: 0.0,
        allow_copies: false,
        strong_no_passage: false,
        weak_no_passage: false,
    };
    let profile = resolve_profile_seeded(&a.model, true, &debaters, a.seed)?;
    let protocol = ProtocolArgs {
        protocol: Protocol::Debate,
        assignment: Assignment::Assigned,
        turn_order: TurnOrder::SimultaneousFirst,
        judge_sees_passage: false,
    };
    let judge = JudgeSetting::Model { spec: a.model.clone() };
    let settings = protocol.settings(&task, n, a.seed, 2, judge.clone())?;
    let dir = tempfile::tempdir()?;
    let mut models = ModelSet::default();
    let templates = Templates::load()?;
    let max_level = *a.concurrency.iter().max().expect("checked non-empty");
    let mut agents = models.worker_agents(&profile, &profile, Some(&a.model), &templates, max_level)?;
    let mut rows = Vec::new();
    for r in 0..a.repeat {
        let mut levels = a.concurrency.clone();
        if r % 2 == 1 {
            levels.reverse();
        }
        for c in levels {
            let plan = RunPlan {
                settings: settings.clone(),
                strong: profile.clone(),
                weak: profile.clone(),
                out: dir.path().join(format!("bench-c{c}-r{r}.json")),
                templates: templates.clone(),
                command: Some(command_line()),
            };
            let first = &agents[0];
            let mut run = SessionRun::open(
                plan,
                first.strong.as_ref(),
                first.weak.as_ref(),
                first.judge.as_deref().map(|j| j as &dyn Judge),
                Verdicts::Judge,
            )?;
            eprintln!("repeat {} · concurrency {c} · {n} debates …", r + 1);
            let t = Instant::now();
            run.run_parallel(&mut agents[..c], &CancelToken::new(), &mut |_| {})?;
            let wall = t.elapsed().as_secs_f64();
            let row = DebateBenchRow {
                concurrency: c,
                repeat: r,
                debates: n,
                wall_s: wall,
                debates_per_min: n as f64 * 60.0 / wall,
            };
            eprintln!("   {:.2} debates/min ({wall:.1} s)", row.debates_per_min);
            rows.push(row);
        }
    }
    let median = a
        .concurrency
        .iter()
        .map(|c| {
            let mut v: Vec<f64> = rows.iter().filter(|r| r.concurrency == *c).map(|r| r.debates_per_min).collect();
            v.sort_by(f64::total_cmp);
            let m = if v.len() % 2 == 1 { v[v.len() / 2] } else { (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0 };
            (*c, m)
        })
        .collect::<Vec<_>>();
    let out = DebateBenchOutput { model: a.model.clone(), task, rounds: 2, max_tokens: 48, rows, median };
    if a.json.on {
        return print_json(&out);
    }
    println!("{} · {} · {n} debates per level · 2 rounds · 48 tokens per turn", out.model, out.task);
    for (c, m) in &out.median {
        println!("  concurrency {c}: {m:.2} debates/min (median of {})", a.repeat);
    }
    Ok(())
}
