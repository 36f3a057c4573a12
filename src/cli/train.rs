//! `w2sd train` and `w2sd plot`: the weak-to-strong pipeline, headless.

use anyhow::Result;
use clap::{Args, Subcommand};
use indicatif::ProgressBar;

use crate::cli::progress::KeyedBar;
use serde::Serialize;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use crate::runtime::Pool;
use crate::w2s::config::ExperimentConfig;
use crate::w2s::head::HeadKind;
use crate::w2s::loss::LossKind;
use crate::w2s::pipeline::{Event, Experiment};
use crate::w2s::results::Results;

use super::print_json;

#[derive(Subcommand, Debug)]
pub enum TrainCmds {
    /// Weak-to-strong training: weak supervisor → weak labels → ceiling → student, PGR,
    /// and bootstrapping over a ladder. Resumes from the output folder.
    Train(Box<TrainArgs>),
    /// Draw PGR against strong model and accuracy per stage from a results.json.
    Plot(PlotArgs),
}

impl TrainCmds {
    /// Whether this command opens the terminal UI (`train --ui`) instead of running headless.
    pub fn opens_ui(&self) -> bool {
        matches!(self, TrainCmds::Train(a) if a.ui)
    }

    /// Runs the command; `theme` and `mouse` are for `train --ui`.
    pub fn run(self, theme: Option<String>, mouse: bool) -> Result<()> {
        match self {
            TrainCmds::Train(a) if a.ui => train_ui(*a, theme, mouse),
            TrainCmds::Train(a) => train(*a),
            TrainCmds::Plot(a) => plot(a),
        }
    }
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Experiment config (TOML). Flags given with it override its values.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Task spec: builtin:NAME (sentiment, reading, capitals, arithmetic, preference,
    /// chess), a .jsonl/.json/.csv/.tsv file (optionally ?text=FIELD&label=FIELD), or
    /// hf:owner/name[:file].
    #[arg(long)]
    pub task: Option<String>,
    /// Models, weakest first, comma-separated: the first is the weak supervisor, the
    /// last the strong student, the ones between the bootstrapping steps.
    #[arg(long, value_delimiter = ',')]
    pub ladder: Option<Vec<String>>,
    /// Student losses, comma-separated: xent, logconf, product, kl, entropy.
    #[arg(long = "loss", value_delimiter = ',')]
    pub losses: Option<Vec<LossKind>>,
    /// Loss of the bootstrap chain (default: the first loss).
    #[arg(long)]
    pub bootstrap_loss: Option<LossKind>,
    /// Source items to sample (seeded).
    #[arg(long)]
    pub n: Option<usize>,
    /// The dataset's own test split (same syntax as --task, ?text=…&label=… included):
    /// evaluated whole; the task is then split into weak_train, strong_train and val only.
    #[arg(long)]
    pub test: Option<String>,
    /// Prompt template for language-model features, {text} standing for the example
    /// (default: per task kind, see docs/train.md).
    #[arg(long)]
    pub template: Option<String>,
    /// Hidden state of this layer (1-based) for decoder features, instead of the final one.
    #[arg(long)]
    pub layer: Option<usize>,
    /// Random seed (item sampling, splits and head initialisation).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Several seeds, comma-separated: the whole pipeline per seed (<out>/seed-K/), and
    /// results.json with every seed's runs and their aggregate across seeds.
    #[arg(long, value_delimiter = ',')]
    pub seeds: Option<Vec<u64>>,
    /// Output folder (default: <data dir>/runs/<task>-<hash of the config>, as the Train screen).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only this stage (and any missing prerequisite): data, features[:M], weak,
    /// weak_labels, ceiling[:M], student[:M:LOSS], bootstrap[:K], results.
    #[arg(long)]
    pub stage: Option<String>,
    /// Re-run the selected stages even if they are done.
    #[arg(long)]
    pub force: bool,
    /// Open the experiment on the Train screen of the terminal UI instead of running it here
    /// (n runs the next stage, r runs the rest, p pauses; several seeds run one after another);
    /// the same checks and output folder.
    #[arg(long)]
    pub ui: bool,
    /// The head trained on the features (logistic or mlp).
    #[arg(long, value_enum)]
    pub head: Option<HeadKindArg>,
    /// Training epochs of every head.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// L2 penalty of every head: a number, or `cv` to let each head choose it by k-fold
    /// cross-validation on its own training rows (the default).
    #[arg(long, value_name = "LAMBDA|cv")]
    pub l2: Option<String>,
    /// How hidden states become one vector per text.
    #[arg(long, value_parser = super::args::choice::<Pool>())]
    pub pool: Option<Pool>,
    /// Longest model input in tokens.
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// Column or field holding the text in a data file.
    #[arg(long)]
    pub text_field: Option<String>,
    /// Column or field holding the label in a data file.
    #[arg(long)]
    pub label_field: Option<String>,
    /// People as weak supervisors: the verdicts of this judged debate session are the weak
    /// labels (each verdict's p(correct) labels its item's two candidates; unjudged debates
    /// are left out and counted), and --ladder lists the strong students.
    #[arg(long, value_name = "FILE")]
    pub from_session: Option<PathBuf>,
    /// Debate context (Lang et al. 2025): MODEL argues for each label of every example, a
    /// second weak supervisor reads the arguments, and students learn from its labels on the
    /// text alone; results then compare weak supervision with and without debate.
    #[arg(long, value_name = "MODEL")]
    pub debate_context: Option<String>,
    /// Which weak supervisor reads the debates: features (a head on the weak rung's features
    /// of text + arguments), ensemble (the mean of several such heads on bootstrap samples)
    /// or judge (the weak language model answers after reading them, no training).
    #[arg(long, requires = "debate_context", value_parser = super::args::choice::<crate::w2s::debate_context::SupervisorKind>())]
    pub debate_supervisor: Option<crate::w2s::debate_context::SupervisorKind>,
    /// Debate rounds (1 = one simultaneous argument per side).
    #[arg(long, requires = "debate_context")]
    pub debate_rounds: Option<usize>,
    /// Token budget of one argument.
    #[arg(long, requires = "debate_context")]
    pub debate_max_tokens: Option<usize>,
    /// What label 0 and label 1 mean, comma-separated (e.g. negative,positive); default: the
    /// task's class names, else false,true (binary) or incorrect,correct (multiple choice).
    #[arg(long, value_delimiter = ',', requires = "debate_context", value_name = "NEG,POS")]
    pub debate_claims: Option<Vec<String>>,
    /// The question the debaters answer (default: per task kind).
    #[arg(long, requires = "debate_context")]
    pub debate_question: Option<String>,
    #[command(flatten)]
    pub json: super::args::JsonFlag,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum HeadKindArg {
    Logistic,
    Mlp,
}

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// A results.json written by `w2sd train`.
    pub results: PathBuf,
    /// Output image: .svg or .png.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub json: super::args::JsonFlag,
}

/// Builds the experiment config from the flags (and `--config`).
pub fn config_from_args(a: &TrainArgs) -> Result<ExperimentConfig> {
    let mut cfg = match (&a.config, &a.task, &a.from_session) {
        (Some(p), _, _) => ExperimentConfig::load(p).map_err(super::bad_input)?,
        (None, Some(t), _) => ExperimentConfig::for_task(t),
        (None, None, Some(s)) => {
            // The session's task names the run; its items are the data.
            let session = crate::session::load(s).map_err(|e| super::bad_input(anyhow::anyhow!(e)))?;
            if a.ladder.is_none() {
                return super::usage(
                    "--from-session needs --ladder with the strong student(s), e.g. --ladder gemma-3-270m",
                );
            }
            ExperimentConfig::for_task(&session.settings.task)
        }
        (None, None, None) => return super::usage("give --config FILE, --task SPEC or --from-session FILE"),
    };
    if let (Some(_), Some(t)) = (&a.config, &a.task) {
        cfg.task.spec = t.clone();
    }
    if let Some(l) = &a.ladder {
        cfg.ladder = l.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    }
    if let Some(s) = &a.from_session {
        let entry = format!("{}{}", crate::w2s::data::session::PREFIX, s.display());
        if crate::w2s::data::session::is_session(&cfg.ladder[0]) {
            cfg.ladder[0] = entry;
        } else {
            cfg.ladder.insert(0, entry);
        }
    }
    if let Some(l) = &a.losses {
        cfg.losses = l.clone();
    }
    if a.bootstrap_loss.is_some() {
        cfg.bootstrap_loss = a.bootstrap_loss;
    }
    if a.n.is_some() {
        cfg.task.n = a.n;
    }
    if let Some(s) = a.seed {
        cfg.seed = s;
    }
    if let Some(s) = &a.seeds {
        cfg.seeds = Some(s.clone());
    }
    if let Some(h) = a.head {
        cfg.head.kind = match h {
            HeadKindArg::Logistic => HeadKind::Logistic,
            HeadKindArg::Mlp => HeadKind::Mlp,
        };
    }
    if let Some(e) = a.epochs {
        cfg.head.epochs = e;
    }
    match a.l2.as_deref() {
        None => {}
        Some("cv") if cfg.head.l2_grid.is_empty() => {
            cfg.head.l2_grid = crate::w2s::head::DEFAULT_L2_GRID.to_vec();
        }
        Some("cv") => {}
        Some(v) => {
            cfg.head.l2 = match v.parse() {
                Ok(l) => l,
                Err(_) => return super::usage(format!("--l2 takes a number or cv, not {v:?}")),
            };
            cfg.head.l2_grid.clear();
        }
    }
    if let Some(p) = a.pool {
        cfg.features.pool = Some(p);
    }
    if a.test.is_some() {
        cfg.task.test = a.test.clone();
    }
    if a.template.is_some() {
        cfg.features.template = a.template.as_ref().map(|t| t.replace("\\n", "\n"));
    }
    if a.layer.is_some() {
        cfg.features.layer = a.layer;
    }
    if let Some(m) = a.max_tokens {
        cfg.features.max_tokens = m;
    }
    if a.text_field.is_some() {
        cfg.task.text_field = a.text_field.clone();
    }
    if a.label_field.is_some() {
        cfg.task.label_field = a.label_field.clone();
    }
    if let Some(m) = &a.debate_context {
        let d = cfg.debate.get_or_insert_with(|| crate::w2s::debate_context::DebateContextConfig::new(m));
        d.model = m.trim().to_string();
        if let Some(s) = a.debate_supervisor {
            d.supervisor = s;
        }
        if let Some(r) = a.debate_rounds {
            d.rounds = r;
        }
        if let Some(t) = a.debate_max_tokens {
            d.max_tokens = t;
        }
        if let Some(c) = &a.debate_claims {
            let [neg, pos] = c.as_slice() else {
                return super::usage(format!(
                    "--debate-claims takes two meanings, label 0's then label 1's, not {c:?}"
                ));
            };
            d.claims = Some([neg.trim().to_string(), pos.trim().to_string()]);
        }
        if a.debate_question.is_some() {
            d.question = a.debate_question.clone();
        }
    }
    if let Some(n) = a.n {
        super::args::check_min(n, 1, "--n")?;
    }
    if let Some(m) = a.max_tokens {
        super::args::check_min(m, 2, "--max-tokens")?;
    }
    cfg.validate().map_err(super::bad_input)?;
    Ok(cfg)
}

/// [`ExperimentConfig::check_task`] as a usage error (exit status 2).
fn check_task(cfg: &ExperimentConfig) -> Result<()> {
    cfg.check_task().map_err(super::bad_input)
}

/// `<data dir>/runs/<task slug>-<hash of the config>` (see [`ExperimentConfig::run_name`] and
/// One run of `train --json` (the headline numbers; results.json has everything).
#[derive(Debug, Serialize)]
pub struct RunRow {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    pub weak: String,
    pub strong: String,
    pub loss: String,
    pub acc_weak: f64,
    pub acc_ceiling: f64,
    pub acc_w2s: f64,
    /// Null unless the weak-to-ceiling gap's interval lies above 0.
    pub pgr: Option<f64>,
    pub pgr_raw: Option<f64>,
    pub ci_pgr: crate::w2s::metrics::Ci,
    pub auroc_w2s: Option<f64>,
    pub pgr_auroc: Option<f64>,
    /// The debate-context model when the supervisor read its arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debate: Option<String>,
    /// Accuracy of the student's supervisor (with debate: Φ = acc_supervisor − acc_weak).
    pub acc_supervisor: f64,
}

impl RunRow {
    fn of(x: &crate::w2s::results::RunResult) -> RunRow {
        RunRow {
            id: x.info.id.clone(),
            seed: x.info.seed,
            weak: x.info.weak.clone(),
            strong: x.info.strong.clone(),
            loss: x.info.loss.clone(),
            acc_weak: x.metrics.acc_weak,
            acc_ceiling: x.metrics.acc_ceiling,
            acc_w2s: x.metrics.acc_w2s,
            pgr: x.metrics.pgr,
            pgr_raw: x.metrics.pgr_raw,
            ci_pgr: x.metrics.ci.pgr,
            auroc_w2s: x.metrics.auroc_w2s,
            pgr_auroc: x.metrics.pgr_auroc,
            debate: x.info.debate.clone(),
            acc_supervisor: x.metrics.acc_supervisor,
        }
    }
}

/// `train --json` with one seed.
#[derive(Debug, Serialize)]
pub struct TrainOutput {
    pub out: PathBuf,
    pub stages: Vec<String>,
    pub ran: Vec<String>,
    pub resumed: Vec<String>,
    pub results: Option<PathBuf>,
    pub predictions: Option<PathBuf>,
    pub wall_s: f64,
    pub features: Vec<crate::w2s::features::FeatureStats>,
    pub runs: Option<Vec<RunRow>>,
    pub bootstrap: Option<Vec<crate::w2s::results::BootstrapStep>>,
    pub warnings: Vec<String>,
}

/// `train --seeds … --json`.
#[derive(Debug, Serialize)]
pub struct SeedsOutput {
    pub out: PathBuf,
    pub seeds: Option<Vec<u64>>,
    pub ran: Vec<String>,
    pub resumed: Vec<String>,
    pub results: Option<PathBuf>,
    pub predictions: Option<PathBuf>,
    pub wall_s: f64,
    pub features: Vec<crate::w2s::features::FeatureStats>,
    pub aggregate: Option<Vec<crate::w2s::results::AggregateRun>>,
    pub paired: Option<Vec<crate::w2s::results::PairedDiff>>,
    pub runs: Option<Vec<RunRow>>,
    pub warnings: Vec<String>,
}

/// `plot --json`.
#[derive(Debug, Serialize)]
pub struct PlotOutput {
    pub out: PathBuf,
    pub runs: usize,
    pub bootstrap_steps: usize,
}

/// [`crate::paths::run_dir`]): the folder the Train screen uses for the same config.
pub fn default_out(cfg: &ExperimentConfig) -> PathBuf {
    crate::paths::run_dir(&cfg.run_name())
}

/// Draws pipeline events on stderr: progress bars for features and epochs.
struct Bars {
    quiet: bool,
    bar: KeyedBar,
}

impl Bars {
    fn finish(&mut self) {
        self.bar.finish();
    }

    fn bar(&mut self, key: &str, len: u64, template: &str) -> &ProgressBar {
        self.bar.bar(key, len, template)
    }

    fn on(&mut self, e: Event, show_lines: bool) {
        match e {
            Event::StageStarted { stage, index, total } => {
                self.finish();
                if show_lines {
                    eprintln!("[{}/{}] {stage}", index + 1, total);
                }
            }
            Event::Progress { stage, done, total } if !self.quiet => {
                let b = self.bar(&stage, total as u64, "  {msg:28} [{bar:30}] {pos}/{len} {per_sec} eta {eta}");
                b.set_message(stage.chars().take(28).collect::<String>());
                b.set_position(done as u64);
            }
            Event::Epoch { stage, head, stats } if !self.quiet => {
                let key = format!("{stage}/{head}");
                let b = self.bar(&key, stats.epochs as u64, "  {msg:60} [{bar:20}] epoch {pos}/{len}");
                b.set_position(stats.epoch as u64);
                b.set_message(format!(
                    "{head}: loss {:.4} val_loss {:.4} val_acc {:.3}",
                    stats.train_loss, stats.val_loss, stats.val_acc
                ));
            }
            Event::StageDone { stage, summary, wall_s, resumed } => {
                self.finish();
                if show_lines {
                    if resumed {
                        eprintln!("  {stage}: done earlier — {}", summary.text);
                    } else {
                        eprintln!("  {} ({wall_s:.1} s)", summary.text);
                    }
                }
            }
            Event::Warning { message } => {
                self.finish();
                eprintln!("warning: {message}");
            }
            _ => {}
        }
    }
}

/// `w2sd train --ui`: the experiment, checked as for a headless run, opened on the Train screen
/// (the next stage with `n`, the rest with `r`, pause with `p`), in the same output folder a
/// headless run uses.
fn train_ui(a: TrainArgs, theme: Option<String>, mouse: bool) -> Result<()> {
    if a.json.on || a.stage.is_some() || a.force {
        return super::usage("--ui runs the experiment from the Train screen; drop --json, --stage and --force");
    }
    let cfg = config_from_args(&a)?;
    let name = match &a.config {
        Some(p) => p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "experiment".into()),
        None => cfg.run_name(),
    };
    // The checks of a headless run: the ones the screen's experiment picker makes too.
    let setup = crate::tui::workers::train::TrainSetup::checked(name, cfg, a.out.clone()).map_err(super::bad_input)?;
    crate::tui::run(crate::tui::Options {
        theme,
        mouse,
        setup_debate: Some(crate::cli::tui::debate_config),
        start: crate::tui::Start::Train(Box::new(setup)),
    })
}

pub fn train(a: TrainArgs) -> Result<()> {
    let t0 = Instant::now();
    let cfg = config_from_args(&a)?;
    check_task(&cfg)?;
    let out = a.out.clone().unwrap_or_else(|| default_out(&cfg));
    if cfg.seeds.is_some() {
        return train_seeds(&a, &cfg, &out, t0);
    }
    let mut exp = Experiment::new(cfg, &out)?;
    let tty = std::io::stderr().is_terminal();
    let mut bars = Bars { quiet: a.json.on || !tty, bar: KeyedBar::default() };
    let show_lines = !a.json.on;
    let mut ran: Vec<String> = Vec::new();
    let mut resumed: Vec<String> = Vec::new();
    let mut on_event = |e: Event| {
        if let Event::StageDone { stage, resumed: r, .. } = &e {
            if *r {
                resumed.push(stage.clone())
            } else {
                ran.push(stage.clone())
            }
        }
        bars.on(e, show_lines)
    };
    let stages = match &a.stage {
        Some(name) => exp.parse_stages(name).map_err(super::bad_input)?,
        None => exp.plan(),
    };
    for s in &stages {
        exp.run_stage(s, a.force, &mut on_event)?;
    }
    bars.finish();
    let results_path = out.join("results.json");
    let finished_all = exp.is_done(&crate::w2s::StageId::Results);
    let features = exp.feature_stats();
    if a.json.on {
        let results = if finished_all { Some(Results::load(&results_path)?) } else { None };
        print_json(&TrainOutput {
            out: out.clone(),
            stages: stages.iter().map(|s| s.to_string()).collect(),
            ran,
            resumed,
            results: finished_all.then(|| results_path.clone()),
            predictions: finished_all.then(|| out.join("predictions.jsonl")),
            wall_s: t0.elapsed().as_secs_f64(),
            features,
            runs: results.as_ref().map(|r| r.runs.iter().map(RunRow::of).collect()),
            bootstrap: results.as_ref().map(|r| r.bootstrap.clone()),
            warnings: results.as_ref().map(|r| r.warnings.clone()).unwrap_or_default(),
        })?;
        return Ok(());
    }
    if finished_all {
        let r = Results::load(&results_path)?;
        println!("{:<58} {:>7} {:>8} {:>7} {:>7} {:>9}", "run", "weak", "ceiling", "w2s", "PGR", "PGR_auroc");
        for x in &r.runs {
            let f = |v: Option<f64>| v.map(|p| format!("{p:.3}")).unwrap_or_else(|| "null".into());
            println!(
                "{:<58} {:>7.3} {:>8.3} {:>7.3} {:>7} {:>9}",
                x.info.id,
                x.metrics.acc_weak,
                x.metrics.acc_ceiling,
                x.metrics.acc_w2s,
                f(x.metrics.pgr),
                f(x.metrics.pgr_auroc)
            );
        }
        if !r.bootstrap.is_empty() {
            println!("bootstrap ({}):", r.bootstrap[0].loss);
            for s in &r.bootstrap {
                println!(
                    "  step {} {:<30} acc {:.3} (ceiling {:.3}) PGR {}",
                    s.step,
                    s.model,
                    s.acc,
                    s.acc_ceiling,
                    s.pgr.map(|p| format!("{p:.3}")).unwrap_or_else(|| "null".into())
                );
            }
        }
        for w in &r.warnings {
            eprintln!("warning: {w}");
        }
        println!("results: {}", results_path.display());
        println!("predictions: {}", out.join("predictions.jsonl").display());
    } else {
        println!("stages done; output in {}", out.display());
    }
    Ok(())
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.3}")).unwrap_or_else(|| "null".into())
}

fn fmt_ci(c: Option<[f64; 2]>) -> String {
    c.map(|[a, b]| format!("[{a:.3}, {b:.3}]")).unwrap_or_else(|| "—".into())
}

/// `--seeds`: every seed's pipeline, then the aggregate table.
fn train_seeds(a: &TrainArgs, cfg: &ExperimentConfig, out: &std::path::Path, t0: Instant) -> Result<()> {
    let tty = std::io::stderr().is_terminal();
    let mut bars = Bars { quiet: a.json.on || !tty, bar: KeyedBar::default() };
    let show_lines = !a.json.on;
    let mut ran: Vec<String> = Vec::new();
    let mut resumed: Vec<String> = Vec::new();
    let mut on_event = |seed: u64, e: Event| {
        if let Event::StageDone { stage, resumed: r, .. } = &e {
            let name = format!("seed-{seed}/{stage}");
            if *r {
                resumed.push(name)
            } else {
                ran.push(name)
            }
        }
        let e = match e {
            Event::StageStarted { stage, index, total } => {
                Event::StageStarted { stage: format!("seed {seed}: {stage}"), index, total }
            }
            other => other,
        };
        bars.on(e, show_lines)
    };
    let mut outcome = crate::w2s::seeds::run_seeds(cfg, out, a.stage.as_deref(), a.force, &mut on_event)?;
    bars.finish();
    let features: Vec<_> = outcome.experiments.iter_mut().flat_map(|(_, e)| e.feature_stats()).collect();
    let r = outcome.results;
    if a.json.on {
        print_json(&SeedsOutput {
            out: out.to_path_buf(),
            seeds: cfg.seeds.clone(),
            ran,
            resumed,
            results: r.as_ref().map(|_| out.join("results.json")),
            predictions: r.as_ref().map(|_| out.join("predictions.jsonl")),
            wall_s: t0.elapsed().as_secs_f64(),
            features,
            aggregate: r.as_ref().map(|r| r.aggregate.clone()),
            paired: r.as_ref().map(|r| r.paired.clone()),
            runs: r.as_ref().map(|r| r.runs.iter().map(RunRow::of).collect()),
            warnings: r.as_ref().map(|r| r.warnings.clone()).unwrap_or_default(),
        })?;
        return Ok(());
    }
    let Some(r) = r else {
        println!("stages done; output in {}", out.display());
        return Ok(());
    };
    println!(
        "{:<50} {:>6} {:>7} {:>7} {:>9} {:>9} {:>18}",
        "run (mean over seeds)", "seeds", "weak", "ceiling", "w2s", "PGR", "PGR 95% (seeds)"
    );
    for x in &r.aggregate {
        println!(
            "{:<50} {:>6} {:>7} {:>7} {:>9} {:>9} {:>18}",
            x.id,
            format!("{}/{}", x.pgr.k, x.seeds.len()),
            fmt_opt(x.acc_weak.mean),
            fmt_opt(x.acc_ceiling.mean),
            fmt_opt(x.acc_w2s.mean),
            fmt_opt(x.pgr.mean),
            fmt_ci(x.pgr.ci)
        );
    }
    for p in &r.paired {
        println!(
            "paired {} − {} on {}: PGR {} {} (n = {} seeds), student accuracy {} {}",
            p.loss,
            p.baseline,
            p.strong,
            fmt_opt(p.pgr.mean),
            fmt_ci(p.pgr.ci),
            p.pgr.k,
            fmt_opt(p.acc_w2s.mean),
            fmt_ci(p.acc_w2s.ci)
        );
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    println!("results: {}", out.join("results.json").display());
    Ok(())
}

pub fn plot(a: PlotArgs) -> Result<()> {
    let r = Results::load(&a.results)?;
    crate::w2s::plot::plot(&r, &a.out)?;
    if a.json.on {
        print_json(&PlotOutput { out: a.out.clone(), runs: r.runs.len(), bootstrap_steps: r.bootstrap.len() })?;
    } else {
        println!("wrote {}", a.out.display());
    }
    Ok(())
}
