//! Debaters and judges behind traits, so that remote endpoints (e.g. OpenAI-compatible
//! servers) can be added without touching the protocol. The model-backed
//! implementations use [`crate::runtime::Model`]; one loaded model may serve several
//! roles (the default weak debater is also the default judge) through [`SharedModel`].

use std::sync::MutexGuard;
use std::time::Instant;

use anyhow::{anyhow, Result};

use super::prompts::Templates;
use super::protocol::{JudgeView, TurnContext, TurnOutput};
use super::render;
use super::score;
use crate::runtime::{CancelToken, GenerateRequest, LanguageModel, Prompt, StopReason};
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
    fn argue(&mut self, ctx: &TurnContext, cancel: &CancelToken, on_text: &mut dyn FnMut(&str)) -> Result<TurnOutput> {
        let (system, user) = render::debater_messages(&self.templates, &self.profile.template, ctx)?;
        let prefix = render::debater_prefix(&self.templates, &self.profile.template, ctx)?;
        let mut m = lock(&self.model)?;
        let chat = m.info().chat;
        let opened = m.prompt_text(&render::to_prompt(chat, &system, &user, "Argument:"));
        let text = if prefix.is_empty() {
            opened
        } else if chat {
            format!("{opened}{prefix}")
        } else {
            format!("{opened} {prefix}")
        };
        let req = GenerateRequest {
            prompt: Prompt::Raw(text),
            max_tokens: self.profile.max_tokens,
            sampling: self.profile.sampling.clone(),
            // Base models run on past their turn; cut at the next speaker or a blank line.
            stop: if chat { vec![] } else { vec!["\n\n".into(), "\n(Round".into()] },
        };
        let t = Instant::now();
        if !prefix.is_empty() {
            on_text(&prefix);
        }
        let g = m.generate(&req, cancel, on_text)?;
        let generated = g.text.trim_end();
        let full = if prefix.is_empty() {
            generated.trim_start().to_string()
        } else if generated.starts_with(char::is_whitespace) || generated.starts_with(|c: char| ",.;:".contains(c)) {
            format!("{prefix}{generated}")
        } else {
            format!("{prefix} {generated}")
        };
        Ok(TurnOutput {
            text: full,
            tokens: g.generated_tokens,
            stop_reason: stop_name(g.stop_reason).into(),
            seconds: t.elapsed().as_secs_f64(),
        })
    }

    fn choice_logprobs(&mut self, item: &TaskItem, explanation: Option<&str>) -> Result<Vec<f64>> {
        let (system, user) = render::answer_messages(&self.templates, item, self.profile.sees_passage, explanation)?;
        let mut m = lock(&self.model)?;
        let chat = m.info().chat;
        m.score(
            &render::to_prompt(chat, &system, &user, "Answer:"),
            &render::letter_continuations(item.choices.len(), chat),
        )
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

    /// `p_strong` is the mean over both orders of `softmax(ℓ_A, ℓ_B)` at the strong
    /// side's letter (see [`score::order_result`], [`score::average_orders`]).
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
        let p = score::average_orders(&orders);
        let strong_correct = view.strong_answer == view.item.answer;
        Ok(Judgement {
            kind: JudgeKind::Model,
            name: self.name.clone(),
            p_strong: p,
            orders,
            rationale: None,
            seconds: t.elapsed().as_secs_f64(),
            blind: false,
            shuffle: None,
            d: score::debate_score(p),
            log_score: score::log_score(p, strong_correct),
            correct: score::judge_correct(p, strong_correct),
            at: now_rfc3339(),
        })
    }
}
