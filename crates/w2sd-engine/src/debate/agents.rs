//! Debaters and judges behind traits, so that remote endpoints (e.g. OpenAI-compatible
//! servers) can be added without touching the protocol. The model-backed
//! implementations use [`crate::runtime::Model`]; one loaded model may serve several
//! roles (the default weak debater is also the default judge) through [`SharedModel`].

use std::sync::MutexGuard;
use std::time::Instant;

use anyhow::{anyhow, Result};

use super::prompts::Templates;
use super::protocol::{JudgeView, TurnContext, TurnOutput};
use super::quality;
use super::render;
use super::score;
use crate::runtime::{CancelToken, ChatMessage, GenerateRequest, LanguageModel, NoCopy, Prompt, StopReason};
use crate::session::{now_rfc3339, DebaterProfile, JudgeKind, Judgement, ModelRecord};
use crate::tasks::TaskItem;

pub use crate::runtime::pool::{share, SharedModel};

fn lock(m: &SharedModel) -> Result<MutexGuard<'_, Box<dyn LanguageModel>>> {
    m.lock().map_err(|_| anyhow!("the model was poisoned by a panic in another thread"))
}

/// The provenance record of a loaded model.
pub fn model_record(m: &dyn LanguageModel) -> ModelRecord {
    let i = m.info();
    ModelRecord { spec: i.spec.clone(), arch: i.arch.clone(), sha256: i.sha256.clone() }
}

/// Something that argues for an assigned answer and can answer questions.
pub trait Debater {
    fn profile(&self) -> &DebaterProfile;
    /// Where the answers come from, for provenance (`None` for non-model debaters).
    fn model_record(&self) -> Option<ModelRecord>;
    /// Writes one turn, streaming text pieces through `on_text` as they are generated.
    fn argue(&mut self, ctx: &TurnContext, cancel: &CancelToken, on_text: &mut dyn FnMut(&str)) -> Result<TurnOutput>;
    /// Log-probability of each choice's letter when the debater answers the item
    /// (seeing the passage if its profile allows), optionally after reading an explanation.
    fn choice_logprobs(&mut self, item: &TaskItem, explanation: Option<&str>) -> Result<Vec<f64>>;
}

/// Something that reads a debate and gives the probability that the strong side's
/// answer is correct.
pub trait Judge {
    fn name(&self) -> &str;
    fn model_record(&self) -> Option<ModelRecord>;
    fn judge(&mut self, view: &JudgeView) -> Result<Judgement>;
}

/// A debater backed by a local model.
pub struct ModelDebater {
    pub profile: DebaterProfile,
    pub model: SharedModel,
    pub templates: Templates,
}

impl ModelDebater {
    pub fn new(profile: DebaterProfile, model: SharedModel, templates: Templates) -> Self {
        Self { profile, model, templates }
    }
}

fn stop_name(s: StopReason) -> &'static str {
    match s {
        StopReason::Eos => "eos",
        StopReason::StopString => "stop_string",
        StopReason::MaxTokens => "max_tokens",
        StopReason::Cancelled => "cancelled",
        StopReason::ContextFull => "context_full",
    }
}

impl Debater for ModelDebater {
    fn profile(&self) -> &DebaterProfile {
        &self.profile
    }

    fn model_record(&self) -> Option<ModelRecord> {
        lock(&self.model).ok().map(|m| model_record(m.as_ref()))
    }

    /// The reply is started with the `<template>_prefix` words (after the opened
    /// assistant turn for chat models, after `Argument:` for base models); the turn's
    /// text is that prefix plus what the model generates, and `tokens` counts only the
    /// generated tokens.
    ///
    /// Generation stops at the template's own lines and role names
    /// ([`quality::stop_strings`]; base models also at a blank line), or at the chat
    /// model's end of turn. A turn that reaches `max_tokens` is trimmed to its last
    /// complete sentence and marked [`quality::CUT_MARK`]; a `<quote>` left open by a stop
    /// string is dropped. With the profile's `block_copies`, decoding may not write
    /// [`quality::COPY_BLOCK_TOKENS`] tokens in a row of the opponent's visible turns
    /// unless they are also in the passage, question or choices ([`NoCopy`]; local models
    /// only, a remote one ignores it). A turn whose
    /// [`quality::copy_overlap`] with the opponent's visible turns exceeds
    /// [`quality::COPY_THRESHOLD`] is regenerated up to [`quality::COPY_RETRIES`] times
    /// with another sampling seed (and temperature at least 0.7, since greedy decoding
    /// would repeat itself); the least-copying attempt is returned. Between attempts
    /// `on_text` receives `"\n[regenerated: too close to the opponent]\n"`; `tokens` and
    /// `stop_reason` are those of the kept attempt, `seconds` covers all attempts.
    fn argue(&mut self, ctx: &TurnContext, cancel: &CancelToken, on_text: &mut dyn FnMut(&str)) -> Result<TurnOutput> {
        let (system, user) = render::debater_messages(&self.templates, &self.profile.template, ctx)?;
        let prefix = render::debater_prefix(&self.templates, &self.profile.template, ctx)?;
        let stops = quality::stop_strings(self.templates.text(&format!("{}_user", self.profile.template))?);
        let opponent = quality::opponent_texts(&ctx.transcript, ctx.side);
        let mut m = lock(&self.model)?;
        let chat = m.info().chat;
        // A chat reply is started with the prefix as a trailing assistant message (the model
        // trait's "continue this turn"); a base model gets it after `Argument:`.
        let prompt = match render::to_prompt(chat, &system, &user, "Argument:") {
            Prompt::Chat(mut msgs) => {
                if !prefix.is_empty() {
                    msgs.push(ChatMessage::assistant(prefix.clone()));
                }
                Prompt::Chat(msgs)
            }
            Prompt::Raw(opened) if prefix.is_empty() => Prompt::Raw(opened),
            Prompt::Raw(opened) => Prompt::Raw(format!("{opened} {prefix}")),
        };
        let mut stop = stops;
        if !chat {
            // Base models run on past their turn; cut at the next speaker or a blank line.
            stop.extend(["\n\n".to_string(), "\n(Round".to_string()]);
        }
        // The item's own text is everyone's to quote; the opponent's other wording is not.
        let no_copy = (self.profile.block_copies && !opponent.is_empty()).then(|| NoCopy {
            avoid: opponent.iter().map(|t| t.to_string()).collect(),
            allow: std::iter::once(ctx.item.question.clone())
                .chain(ctx.item.passage.clone())
                .chain(ctx.item.choices.iter().cloned())
                .collect(),
            n: quality::COPY_BLOCK_TOKENS,
        });
        let t = Instant::now();
        let mut best: Option<(f64, TurnOutput)> = None;
        for attempt in 0..=quality::COPY_RETRIES {
            let mut sampling = self.profile.sampling.clone();
            if attempt > 0 {
                on_text("\n[regenerated: too close to the opponent]\n");
                sampling.seed = sampling.seed.wrapping_add(0x9E37_79B9 * attempt as u64);
                sampling.temperature = sampling.temperature.max(0.7);
            }
            let req = GenerateRequest {
                prompt: prompt.clone(),
                max_tokens: self.profile.max_tokens,
                sampling,
                stop: stop.clone(),
                no_copy: no_copy.clone(),
            };
            if !prefix.is_empty() {
                on_text(&prefix);
            }
            let g = m.generate(&req, cancel, on_text)?;
            let generated = g.text.trim_end();
            let mut full = if prefix.is_empty() {
                generated.trim_start().to_string()
            } else if generated.starts_with(char::is_whitespace) || generated.starts_with(|c: char| ",.;:".contains(c))
            {
                format!("{prefix}{generated}")
            } else {
                format!("{prefix} {generated}")
            };
            if g.stop_reason == StopReason::StopString {
                full = quality::drop_open_quote(&full).to_string();
            }
            if g.stop_reason == StopReason::MaxTokens || g.stop_reason == StopReason::ContextFull {
                full = quality::trim_at_budget(&full);
            }
            let overlap = quality::copy_overlap(&full, &opponent).unwrap_or(0.0);
            let out = TurnOutput {
                text: full,
                tokens: g.generated_tokens,
                stop_reason: stop_name(g.stop_reason).into(),
                seconds: t.elapsed().as_secs_f64(),
            };
            if g.stop_reason == StopReason::Cancelled {
                return Ok(out);
            }
            if best.as_ref().is_none_or(|(b, _)| overlap < *b) {
                best = Some((overlap, out));
            }
            if overlap <= quality::COPY_THRESHOLD {
                break;
            }
        }
        let (_, mut out) = best.expect("at least one attempt");
        out.seconds = t.elapsed().as_secs_f64();
        Ok(out)
    }

    /// Log-probabilities of each choice, averaged over every cyclic rotation of the
    /// choice order ([`render::rotations`]): for rotation `r` the letters are scored,
    /// renormalised over the letters (`ℓ_i − logsumexp ℓ`), and mapped back to the
    /// choice each letter showed; the result is the mean over rotations. Each choice
    /// takes every letter once, so an additive letter bias adds the same constant to
    /// every choice and cancels in any argmax or softmax.
    fn choice_logprobs(&mut self, item: &TaskItem, explanation: Option<&str>) -> Result<Vec<f64>> {
        let mut m = lock(&self.model)?;
        let chat = m.info().chat;
        let k = item.choices.len();
        let letters = render::letter_continuations(k, chat);
        let mut sum = vec![0.0; k];
        let rots = render::rotations(k);
        for order in &rots {
            let (system, user) =
                render::answer_messages_ordered(&self.templates, item, self.profile.sees_passage, explanation, order)?;
            let lp = m.score(&render::to_prompt(chat, &system, &user, "Answer:"), &letters)?;
            let norm = score::log_normalise(&lp);
            for (i, &c) in order.iter().enumerate() {
                sum[c] += norm[i];
            }
        }
        let out: Vec<f64> = sum.iter().map(|x| x / rots.len() as f64).collect();
        if out.iter().any(|x| !x.is_finite()) {
            anyhow::bail!("the model gave a non-finite log-probability for item {:?}", item.id);
        }
        Ok(out)
    }
}

/// A judge backed by a local model: reads the question and transcript in both
/// presentation orders and scores the answer letters (never parses generated text).
pub struct ModelJudge {
    pub name: String,
    pub model: SharedModel,
    pub templates: Templates,
}

impl ModelJudge {
    pub fn new(model: SharedModel, templates: Templates) -> Result<Self> {
        let name = lock(&model)?.info().spec.clone();
        Ok(Self { name, model, templates })
    }
}

impl Judge for ModelJudge {
    fn name(&self) -> &str {
        &self.name
    }

    fn model_record(&self) -> Option<ModelRecord> {
        lock(&self.model).ok().map(|m| model_record(m.as_ref()))
    }

    /// Both presentation orders are read ([`score::order_result`]); `p_strong = σ(δ̄)`
    /// where `δ̄` is the mean letter logit difference toward the strong side over the
    /// orders ([`score::combine_orders`]), which cancels an additive letter bias.
    fn judge(&mut self, view: &JudgeView) -> Result<Judgement> {
        let t = Instant::now();
        let mut m = lock(&self.model)?;
        let chat = m.info().chat;
        let letters = render::letter_continuations(2, chat);
        let mut orders = Vec::with_capacity(2);
        for strong_first in [true, false] {
            let (system, user) = render::judge_messages(&self.templates, view, strong_first)?;
            let lp = m.score(&render::to_prompt(chat, &system, &user, "Answer:"), &letters)?;
            orders.push(score::order_result([lp[0], lp[1]], strong_first));
        }
        let delta = score::combine_orders(&orders);
        if !delta.is_finite() {
            anyhow::bail!("the judge gave non-finite letter log-probabilities on item {:?}", view.item.id);
        }
        let p = crate::stats::sigmoid(delta);
        let strong_correct = view.strong_answer == view.item.answer;
        let weak_correct = view.weak_answer == view.item.answer;
        let (log_score, correct, d_correct) = score::verdict_scores(p, strong_correct, weak_correct);
        Ok(Judgement {
            kind: JudgeKind::Model,
            name: self.name.clone(),
            p_strong: p,
            orders,
            rationale: None,
            seconds: t.elapsed().as_secs_f64(),
            blind: false,
            shuffle: None,
            d: delta.clamp(-score::D_LIMIT, score::D_LIMIT),
            log_score,
            correct,
            at: now_rfc3339(),
            d_correct,
            upto_round: None,
        })
    }
}
