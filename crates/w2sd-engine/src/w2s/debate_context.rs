//! Debate context for weak supervision (Lang et al. 2025, "Debate Helps Weak-to-Strong
//! Generalization"): a strong model argues for each label of every example, and a weak
//! supervisor reads the text together with the arguments.
//!
//! For an example with text `x`, the two **claims** are what the labels mean
//! (`["negative", "positive"]` for a sentiment task, `["incorrect", "correct"]` for a
//! multiple-choice candidate, …). The debater (one model, [`DebateContextConfig::model`])
//! writes one argument for each claim with the debate protocol's own debater
//! ([`crate::debate::agents::ModelDebater`]: its stop strings, its trimming to the last
//! complete sentence with `…[cut]`, its copy check and its `<quote>` checks against the
//! text). Round 1 is simultaneous (neither side sees the other's argument); later rounds
//! are sequential, each side seeing the transcript so far.
//!
//! **No ground truth reaches the debate.** The debater is given the text, the question
//! and the two claims only; the debate item's `answer` field is always 0 and no debater
//! prompt reads it (a test checks that both labellings of an example give the same
//! arguments).
//!
//! **Cache.** Arguments are stored one example per line in
//! `<cache>/debate-context/<key prefix>.jsonl`, appended as each example finishes, where
//! the key hashes the debater's identity, the templates, the settings and the example's
//! text, question and claims; a run that stops resumes at the next example, and another
//! run (another seed, another ladder) on the same texts reuses them.
//!
//! The supervisors that read the arguments are in the pipeline (`weak+debate`): a head on
//! features of [`context_text`] (`features`), an average of `k` such heads over bootstrap
//! samples (`ensemble`), or the weak language model answering the question after reading
//! the arguments, with no training (`judge`, [`judge_p1`]).

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::data::TaskKind;
use crate::debate::agents::{Debater, ModelDebater, SharedModel};
use crate::debate::prompts::Templates;
use crate::debate::protocol::TurnContext;
use crate::debate::quality;
use crate::runtime::{CancelToken, Sampling};
use crate::session::{DebaterProfile, Protocol, Side, Turn, TurnFlags};
use crate::tasks::TaskItem;

/// Which weak supervisor reads the debates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SupervisorKind {
    /// A head on the weak rung's features of text + arguments, trained on `weak_train`'s
    /// ground truth (Lang et al.'s weak model with debate context).
    #[default]
    Features,
    /// The mean of `ensemble` such heads, each trained on a bootstrap sample of
    /// `weak_train` (Lang et al.'s ensemble of weak models).
    Ensemble,
    /// The weak language model reads text + arguments and answers; its answer
    /// probabilities (read over both orders of the claims) are the soft labels. No training.
    Judge,
}

crate::choices!(SupervisorKind {
    Features = "features": "a head on the weak rung's features of text + arguments",
    Ensemble = "ensemble": "the mean of several such heads, each on a bootstrap sample",
    Judge = "judge": "the weak language model answers after reading the arguments (no training)",
});

/// `[debate]` of an experiment config: debate context for the weak supervisor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebateContextConfig {
    /// The debater (any model spec): one instance argues for each claim.
    pub model: String,
    /// Rounds per debate (round 1 simultaneous, later rounds sequential).
    #[serde(default = "default_rounds")]
    pub rounds: usize,
    /// Token budget of one argument.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
    /// Which weak supervisor reads the arguments.
    #[serde(default)]
    pub supervisor: SupervisorKind,
    /// Heads of the `ensemble` supervisor.
    #[serde(default = "default_ensemble")]
    pub ensemble: usize,
    /// The question the debaters answer; the default of the task kind ([`default_question`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// What label 0 and label 1 mean (`["negative", "positive"]`); the task's class names
    /// when it has them, else the default of the task kind ([`default_claims`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<[String; 2]>,
}

fn default_rounds() -> usize {
    1
}
fn default_max_tokens() -> usize {
    64
}
fn default_ensemble() -> usize {
    5
}

impl DebateContextConfig {
    /// Debate context from `model` with every other setting at its default.
    pub fn new(model: &str) -> Self {
        Self {
            model: model.to_string(),
            rounds: default_rounds(),
            max_tokens: default_max_tokens(),
            supervisor: SupervisorKind::default(),
            ensemble: default_ensemble(),
            question: None,
            claims: None,
        }
    }

    pub fn validate(&self, weak_rung: &str) -> Result<()> {
        if self.model.trim().is_empty() {
            bail!("debate.model is empty: name the model that writes the arguments");
        }
        if self.rounds == 0 || self.rounds > 4 {
            bail!("debate.rounds must be 1 to 4, got {}", self.rounds);
        }
        if self.max_tokens < 8 {
            bail!("debate.max_tokens must be at least 8, got {}", self.max_tokens);
        }
        if self.supervisor == SupervisorKind::Ensemble && self.ensemble < 2 {
            bail!("debate.ensemble must be at least 2 heads for the ensemble supervisor, got {}", self.ensemble);
        }
        if self.supervisor == SupervisorKind::Judge && super::features::is_bow(weak_rung) {
            bail!(
                "debate.supervisor = \"judge\" needs a language model as the weak rung, but the ladder starts with {weak_rung:?}; use features or ensemble"
            );
        }
        if let Some(c) = &self.claims {
            if c.iter().any(|s| s.trim().is_empty()) || c[0].trim() == c[1].trim() {
                bail!("debate.claims must be two different, non-empty meanings of label 0 and label 1, got {c:?}");
            }
        }
        Ok(())
    }
}

/// The question debaters answer for a task kind.
pub fn default_question(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Binary => "Which label fits the text?",
        TaskKind::MultipleChoice => "Is the answer given after \"A:\" correct?",
        TaskKind::Preference => "Is response A better than response B?",
        TaskKind::Chess => "Is this move checkmate?",
    }
}

/// What label 0 and label 1 mean for a task kind without class names.
pub fn default_claims(kind: TaskKind) -> [&'static str; 2] {
    match kind {
        TaskKind::Binary => ["false", "true"],
        TaskKind::MultipleChoice => ["incorrect", "correct"],
        TaskKind::Preference | TaskKind::Chess => ["no", "yes"],
    }
}

/// One argument of a debate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Argument {
    pub round: usize,
    /// The label (0 or 1) whose claim this argument defends.
    pub label: u8,
    pub text: String,
    pub tokens: usize,
    pub stop_reason: String,
    /// Trimmed at the token budget (`…[cut]`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
    /// Still above the copy threshold after the allowed regenerations.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub copied: bool,
    /// `<quote>`s found in the text / not found.
    #[serde(default)]
    pub quotes: (usize, usize),
}

/// The debate of one example: its arguments in the order they were written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExampleDebate {
    /// The example's id.
    pub id: String,
    pub arguments: Vec<Argument>,
    /// Seconds spent generating (0 when read from the cache).
    #[serde(default)]
    pub seconds: f64,
}

/// The cache's line: a key and the debate made for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheLine {
    key: String,
    arguments: Vec<Argument>,
    seconds: f64,
}

/// The question and claims a run uses: the config's, else the task's class names, else
/// the kind's defaults.
pub fn question_and_claims(
    cfg: &DebateContextConfig,
    kind: TaskKind,
    classes: Option<&[String; 2]>,
) -> (String, [String; 2]) {
    let q = cfg.question.clone().unwrap_or_else(|| default_question(kind).to_string());
    let c =
        cfg.claims.clone().or_else(|| classes.cloned()).unwrap_or_else(|| default_claims(kind).map(|s| s.to_string()));
    (q, c)
}

/// The debate item of an example: the text as the passage, the question, and the claims
/// as choices 0 and 1. `answer` is 0 whatever the label: no prompt reads it.
pub fn debate_item(id: &str, text: &str, question: &str, claims: &[String; 2]) -> TaskItem {
    TaskItem {
        id: id.to_string(),
        question: question.to_string(),
        choices: claims.to_vec(),
        answer: 0,
        passage: Some(text.to_string()),
        meta: Default::default(),
    }
}

/// How the arguments are shown to a reader: one paragraph per argument, in the order
/// they were written, each naming the claim it defends (quotes marked verified or not).
pub fn arguments_block(args: &[Argument], claims: &[String; 2], text: &str) -> String {
    let mut s = String::new();
    for a in args {
        let claim = &claims[usize::from(a.label.min(1))];
        s.push_str(&format!(
            "Argument for \"{claim}\" (round {}): {}\n",
            a.round,
            quality::judge_text(&a.text, Some(text)).trim()
        ));
    }
    s.trim_end().to_string()
}

/// The text a `features` or `ensemble` supervisor reads: the example, then the arguments
/// ([`arguments_block`]); the task's feature template wraps it as it wraps a bare text.
pub fn context_text(text: &str, args: &[Argument], claims: &[String; 2]) -> String {
    format!("{text}\n\n{}", arguments_block(args, claims, text))
}

/// A debater (or reader) on a shared model with the debate protocol's built-in templates,
/// shown the example's text.
pub fn model_debater(spec: &str, model: SharedModel, max_tokens: usize) -> ModelDebater {
    let profile = DebaterProfile {
        name: spec.to_string(),
        model: spec.to_string(),
        sees_passage: true,
        max_tokens,
        sampling: Sampling::default(),
        template: "debater".into(),
        // The debate-assisted training figures (docs/train.md) were made without the copy
        // block; it stays off here so that they rerun as recorded.
        block_copies: false,
    };
    ModelDebater::new(profile, model, Templates::builtin())
}

/// The `judge` supervisor's soft label: `p(label 1)` when `reader` answers the item (text,
/// question, the two claims as lettered choices) after reading `arguments` (or alone),
/// from its answer log-probabilities averaged over both orders of the claims
/// ([`Debater::choice_logprobs`]): `p₁ = e^{ℓ₁} / (e^{ℓ₀} + e^{ℓ₁})`.
pub fn judge_p1(reader: &mut dyn Debater, item: &TaskItem, arguments: Option<&str>) -> Result<f64> {
    let lp = reader.choice_logprobs(item, arguments)?;
    let p = 1.0 / (1.0 + (lp[0] - lp[1]).exp());
    if !p.is_finite() {
        bail!("the reader gave non-finite answer log-probabilities {lp:?} on {}", item.id);
    }
    Ok(p)
}

/// The cache key of one example's debate.
pub fn cache_key(identity: &str, templates: &Templates, cfg: &DebateContextConfig, item: &TaskItem) -> String {
    let mut h = Sha256::new();
    for part in [
        "w2sd-debate-context-v1",
        identity,
        &serde_json::to_string(&templates.map).unwrap_or_default(),
        &format!("{}/{}", cfg.rounds, cfg.max_tokens),
        &item.question,
        &item.choices.join("\u{1f}"),
        item.passage.as_deref().unwrap_or(""),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// `<cache>/debate-context`.
pub fn cache_dir() -> PathBuf {
    crate::paths::cache_dir().join("debate-context")
}

/// Debates already in a cache file, by key. A line cut short by a crash is skipped.
fn read_cache(path: &Path) -> HashMap<String, (Vec<Argument>, f64)> {
    let Ok(text) = std::fs::read_to_string(path) else { return HashMap::new() };
    text.lines()
        .filter_map(|l| serde_json::from_str::<CacheLine>(l).ok())
        .map(|c| (c.key, (c.arguments, c.seconds)))
        .collect()
}

/// What [`run_debates`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DebateStats {
    pub model: String,
    pub examples: usize,
    pub arguments: usize,
    /// Examples whose debate came from the cache.
    pub cached: usize,
    pub tokens: usize,
    /// Arguments trimmed at the token budget.
    pub cut: usize,
    /// Arguments still copying the opponent after regeneration.
    pub copied: usize,
    pub quotes_verified: usize,
    pub quotes_unverified: usize,
    /// Seconds generating in this call.
    pub seconds: f64,
    pub cache_file: Option<PathBuf>,
}

/// One example to debate: id and text.
pub struct DebateInput<'a> {
    pub id: &'a str,
    pub text: &'a str,
}

/// Debates every input (from the cache in `cache`, normally [`cache_dir`], or generated), in
/// input order. The debater is loaded
/// lazily by `load` only when some example is not cached; `on_debate(done, total, debate)`
/// is called as each example finishes; `cancel` is checked between examples and inside
/// generation.
#[allow(clippy::too_many_arguments)]
pub fn run_debates(
    cfg: &DebateContextConfig,
    cache: &Path,
    identity: &str,
    question: &str,
    claims: &[String; 2],
    inputs: &[DebateInput<'_>],
    load: &mut dyn FnMut() -> Result<SharedModel>,
    cancel: &CancelToken,
    on_debate: &mut dyn FnMut(usize, usize, &ExampleDebate),
) -> Result<(Vec<ExampleDebate>, DebateStats)> {
    let templates = Templates::builtin();
    let dir = cache.to_path_buf();
    let key0 = {
        let h = Sha256::digest(format!("{identity}/{}/{}/{question}", cfg.rounds, cfg.max_tokens).as_bytes());
        hex::encode(h)
    };
    let path = dir.join(format!("{}.jsonl", &key0[..24]));
    let cached = read_cache(&path);
    let mut stats = DebateStats { model: cfg.model.clone(), cache_file: Some(path.clone()), ..Default::default() };
    let mut debater: Option<ModelDebater> = None;
    let mut out = Vec::with_capacity(inputs.len());
    let t0 = std::time::Instant::now();
    for (k, input) in inputs.iter().enumerate() {
        let item = debate_item(input.id, input.text, question, claims);
        let key = cache_key(identity, &templates, cfg, &item);
        let d = if let Some((args, secs)) = cached.get(&key) {
            stats.cached += 1;
            ExampleDebate { id: input.id.to_string(), arguments: args.clone(), seconds: *secs }
        } else {
            if cancel.is_cancelled() {
                bail!("debate context cancelled");
            }
            if debater.is_none() {
                debater = Some(model_debater(&cfg.model, load()?, cfg.max_tokens));
            }
            let d = debate_one(debater.as_mut().unwrap(), &item, cfg.rounds, cancel)?;
            if cancel.is_cancelled() {
                bail!("debate context cancelled");
            }
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let line = serde_json::to_string(&CacheLine { key, arguments: d.arguments.clone(), seconds: d.seconds })?;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            writeln!(f, "{line}")
                .and_then(|_| f.sync_data())
                .with_context(|| format!("cannot write {}", path.display()))?;
            d
        };
        for a in &d.arguments {
            stats.arguments += 1;
            stats.tokens += a.tokens;
            stats.cut += usize::from(a.cut);
            stats.copied += usize::from(a.copied);
            stats.quotes_verified += a.quotes.0;
            stats.quotes_unverified += a.quotes.1;
        }
        on_debate(k + 1, inputs.len(), &d);
        out.push(d);
    }
    stats.examples = out.len();
    stats.seconds = t0.elapsed().as_secs_f64();
    Ok((out, stats))
}

/// One debate: round 1 simultaneous (each side sees no argument), then sequential rounds
/// (label 1's side first, each seeing every earlier argument).
pub fn debate_one(
    debater: &mut dyn Debater,
    item: &TaskItem,
    rounds: usize,
    cancel: &CancelToken,
) -> Result<ExampleDebate> {
    let t0 = std::time::Instant::now();
    let mut transcript: Vec<Turn> = Vec::new();
    let mut arguments = Vec::new();
    for round in 1..=rounds {
        let seen = transcript.clone();
        for (side, label) in [(Side::Strong, 1usize), (Side::Weak, 0usize)] {
            let ctx = TurnContext {
                item: item.clone(),
                protocol: Protocol::Debate,
                round,
                rounds,
                side,
                answer: label,
                opponent_answer: 1 - label,
                show_passage: true,
                transcript: if round == 1 { seen.clone() } else { transcript.clone() },
            };
            let o = debater.argue(&ctx, cancel, &mut |_| {})?;
            // Copying is measured against what this side saw (nothing in round 1).
            let overlap = quality::copy_overlap(&o.text, &quality::opponent_texts(&ctx.transcript, side));
            let cut = o.text.ends_with(quality::CUT_MARK);
            let quotes = quality::quote_counts(&o.text, item.passage.as_deref());
            arguments.push(Argument {
                round,
                label: label as u8,
                text: o.text.clone(),
                tokens: o.tokens,
                stop_reason: o.stop_reason.clone(),
                cut,
                copied: overlap.is_some_and(|x| x > quality::COPY_THRESHOLD),
                quotes,
            });
            transcript.push(Turn {
                round,
                side,
                answer: label,
                text: o.text,
                tokens: o.tokens,
                stop_reason: o.stop_reason,
                seconds: o.seconds,
                flags: TurnFlags { cut, copy_overlap: overlap, ..Default::default() },
            });
        }
    }
    Ok(ExampleDebate { id: item.id.clone(), arguments, seconds: t0.elapsed().as_secs_f64() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::scripted::ScriptedModel;
    use crate::runtime::share;

    fn claims() -> [String; 2] {
        ["negative".to_string(), "positive".to_string()]
    }

    #[test]
    fn the_debate_never_sees_the_label() {
        // Two items that differ only in `answer` give the same prompts, hence the same
        // arguments from a deterministic model: the ground truth cannot leak in.
        let seen = |answer: usize| {
            let model = ScriptedModel::new("d", "It is clearly so.").with_replies([
                "The film is praised for its acting.",
                "Nothing in the text says the viewer enjoyed it.",
                "My opponent ignores the word fine, which is praise.",
                "Fine can mean merely adequate, which is faint praise.",
            ]);
            let calls = model.calls();
            let mut d = model_debater("d", share(model), 32);
            let mut item = debate_item("x", "A fine film.", "Which label fits the text?", &claims());
            item.answer = answer;
            let out = debate_one(&mut d, &item, 2, &CancelToken::new()).unwrap();
            let prompts: Vec<String> = calls
                .lock()
                .unwrap()
                .iter()
                .map(|c| match c {
                    crate::runtime::scripted::ScriptedCall::Generate { prompt, .. } => prompt.clone(),
                    other => panic!("unexpected call {other:?}"),
                })
                .collect();
            (out.arguments, prompts)
        };
        let (a0, p0) = seen(0);
        let (a1, p1) = seen(1);
        assert_eq!(a0, a1);
        assert_eq!(p0, p1);
        assert_eq!(p0.len(), 4, "two rounds, two sides");
        // round 1 is simultaneous: the second argument of round 1 did not see the first
        assert!(!p0[1].contains("The debate so far"), "{}", p0[1]);
        assert!(p0[2].contains("The debate so far"), "{}", p0[2]);
        // each side defends its own claim
        assert_eq!(a0.iter().map(|a| a.label).collect::<Vec<_>>(), vec![1, 0, 1, 0]);
        assert!(p0[0].contains("You defend the answer \"positive\""), "{}", p0[0]);
    }

    #[test]
    fn context_text_names_each_claim_and_marks_quotes() {
        let args = vec![
            Argument {
                round: 1,
                label: 1,
                text: "It says <quote>a fine film</quote>.".into(),
                tokens: 9,
                stop_reason: "eos".into(),
                cut: false,
                copied: false,
                quotes: (1, 0),
            },
            Argument {
                round: 1,
                label: 0,
                text: "It says <quote>a dull film</quote>.".into(),
                tokens: 9,
                stop_reason: "eos".into(),
                cut: false,
                copied: false,
                quotes: (0, 1),
            },
        ];
        let t = context_text("A fine film.", &args, &claims());
        assert!(t.starts_with("A fine film.\n\nArgument for \"positive\" (round 1): "), "{t}");
        assert!(t.contains("<v_quote>a fine film</v_quote>"), "{t}");
        assert!(t.contains("Argument for \"negative\" (round 1): It says <u_quote>a dull film</u_quote>."), "{t}");
    }

    #[test]
    fn claims_come_from_config_then_task_then_kind() {
        let mut cfg = DebateContextConfig::new("m");
        let classes = ["bad".to_string(), "good".to_string()];
        assert_eq!(question_and_claims(&cfg, TaskKind::Binary, None).1, ["false", "true"]);
        assert_eq!(question_and_claims(&cfg, TaskKind::Binary, Some(&classes)).1, classes);
        cfg.claims = Some(claims());
        assert_eq!(question_and_claims(&cfg, TaskKind::Binary, Some(&classes)).1, claims());
        assert_eq!(
            question_and_claims(&cfg, TaskKind::MultipleChoice, None).0,
            default_question(TaskKind::MultipleChoice)
        );
    }

    #[test]
    fn bad_settings_are_refused() {
        let mut c = DebateContextConfig::new("m");
        assert!(c.validate("gemma-3-270m").is_ok());
        c.supervisor = SupervisorKind::Judge;
        assert!(c.validate("bow").unwrap_err().to_string().contains("language model"));
        c.supervisor = SupervisorKind::Ensemble;
        c.ensemble = 1;
        assert!(c.validate("bow").is_err());
        let mut c = DebateContextConfig::new("m");
        c.rounds = 0;
        assert!(c.validate("bow").is_err());
        c.rounds = 1;
        c.claims = Some(["yes".into(), "yes".into()]);
        assert!(c.validate("bow").is_err());
    }

    #[test]
    fn debates_are_cached_and_resume() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = DebateContextConfig::new("d");
        let texts = ["A fine film.", "A dull film.", "An odd film."];
        let inputs: Vec<DebateInput> =
            texts.iter().enumerate().map(|(i, t)| DebateInput { id: ["a", "b", "c"][i], text: t }).collect();
        let loads = std::cell::Cell::new(0);
        let mut load = || {
            loads.set(loads.get() + 1);
            Ok(share(ScriptedModel::new("d", "Because the text says so.")))
        };
        // cancelled after the first example: that one is kept
        let cancel = CancelToken::new();
        let c2 = cancel.clone();
        let r = run_debates(&cfg, dir.path(), "id", "Q?", &claims(), &inputs, &mut load, &cancel, &mut |done, _, _| {
            if done == 1 {
                c2.cancel();
            }
        });
        assert!(r.is_err());
        // An uncancelled run over every input.
        let whole = |load: &mut dyn FnMut() -> Result<SharedModel>| {
            run_debates(&cfg, dir.path(), "id", "Q?", &claims(), &inputs, load, &CancelToken::new(), &mut |_, _, _| {})
                .unwrap()
        };
        let (d, s) = whole(&mut load);
        assert_eq!(s.cached, 1);
        assert_eq!(d.len(), 3);
        assert_eq!(s.arguments, 6);
        let (_, s) = whole(&mut load);
        assert_eq!(s.cached, 3);
        assert_eq!(loads.get(), 2, "a fully cached run loads no model");
    }
}
