//! [`ScriptedModel`]: a [`LanguageModel`] without weights, for engine unit tests.
//!
//! It writes what a script tells it (as a real model would: streamed word by word, cut at stop
//! strings and `max_tokens`, cancellable), scores continuations with a scoring function of the
//! prompt text, and embeds texts as deterministic hashed bag-of-words vectors. Every call is
//! logged, so tests can check what a debater or judge asked for.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Result};
use sha2::{Digest, Sha256};

use super::generate::{CancelToken, GenerateRequest, Generation, NoCopy, Pool, Prompt, Role, StopReason};
use super::language_model::{FeatureBatch, FeatureRequest, LanguageModel};
use super::model::ModelInfo;

/// Scores the continuations of a prompt, given the prompt's text.
pub type ScoreFn = Box<dyn FnMut(&str, &[String]) -> Vec<f64> + Send>;

/// One call made to a scripted model.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptedCall {
    Generate { prompt: String, max_tokens: usize, stop: Vec<String>, seed: u64, no_copy: Option<NoCopy> },
    Score { prompt: String, continuations: Vec<String> },
    Features { texts: usize },
}

/// A model that follows a script.
pub struct ScriptedModel {
    info: ModelInfo,
    replies: VecDeque<String>,
    default_reply: String,
    scorer: ScoreFn,
    /// Pause between streamed words (to test responsiveness while "generating").
    pub word_delay: Duration,
    calls: Arc<Mutex<Vec<ScriptedCall>>>,
}

impl ScriptedModel {
    /// A chat model named `name` that replies `default_reply` unless a queued reply is given, and
    /// scores every continuation 0 (uniform) until [`ScriptedModel::with_scorer`] says otherwise.
    pub fn new(name: &str, default_reply: &str) -> Self {
        Self {
            info: ModelInfo {
                spec: name.to_string(),
                arch: "scripted".into(),
                path: PathBuf::from(name),
                sha256: None,
                hidden_size: 16,
                context_length: 4096,
                chat: true,
                decoder: true,
            },
            replies: VecDeque::new(),
            default_reply: default_reply.to_string(),
            scorer: Box::new(|_, c| vec![0.0; c.len()]),
            word_delay: Duration::ZERO,
            calls: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Queues replies, used in order before the default reply.
    pub fn with_replies<I: IntoIterator<Item = S>, S: Into<String>>(mut self, replies: I) -> Self {
        self.replies.extend(replies.into_iter().map(Into::into));
        self
    }

    /// Sets the scoring function `(prompt text, continuations) → log-probabilities`.
    pub fn with_scorer(mut self, f: impl FnMut(&str, &[String]) -> Vec<f64> + Send + 'static) -> Self {
        self.scorer = Box::new(f);
        self
    }

    /// A base (non-chat) model.
    pub fn base(mut self) -> Self {
        self.info.chat = false;
        self
    }

    /// The log of calls, shared (it stays readable after the model moves into a debater).
    pub fn calls(&self) -> Arc<Mutex<Vec<ScriptedCall>>> {
        self.calls.clone()
    }

    fn log(&self, c: ScriptedCall) {
        if let Ok(mut v) = self.calls.lock() {
            v.push(c);
        }
    }
}

impl LanguageModel for ScriptedModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// `role: text` lines, the open assistant turn last.
    fn prompt_text(&self, prompt: &Prompt) -> String {
        match prompt {
            Prompt::Raw(s) => s.clone(),
            Prompt::Chat(msgs) => {
                let mut s = String::new();
                let continued = msgs.last().is_some_and(|m| m.role == Role::Assistant);
                for (i, m) in msgs.iter().enumerate() {
                    let role = match m.role {
                        Role::System => "system",
                        Role::User => "user",
                        Role::Assistant => "assistant",
                    };
                    s.push_str(&format!("{role}: {}", m.content));
                    if !(continued && i + 1 == msgs.len()) {
                        s.push('\n');
                    }
                }
                if !continued {
                    s.push_str("assistant: ");
                }
                s
            }
        }
    }

    /// Streams the next scripted reply one word (a "token") at a time.
    fn generate(
        &mut self,
        req: &GenerateRequest,
        cancel: &CancelToken,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generation> {
        if !req.sampling.temperature.is_finite() || req.sampling.temperature < 0.0 {
            bail!("temperature must be finite and at least 0");
        }
        let prompt = self.prompt_text(&req.prompt);
        self.log(ScriptedCall::Generate {
            prompt: prompt.clone(),
            max_tokens: req.max_tokens,
            stop: req.stop.clone(),
            seed: req.sampling.seed,
            no_copy: req.no_copy.clone(),
        });
        let reply = self.replies.pop_front().unwrap_or_else(|| self.default_reply.clone());
        let mut text = String::new();
        let mut emitted = 0;
        let mut tokens = 0;
        let mut stop_reason = StopReason::Eos;
        for piece in reply.split_inclusive(' ') {
            if cancel.is_cancelled() {
                stop_reason = StopReason::Cancelled;
                break;
            }
            if tokens >= req.max_tokens {
                stop_reason = StopReason::MaxTokens;
                break;
            }
            text.push_str(piece);
            tokens += 1;
            if let Some(cut) = req.stop.iter().filter(|s| !s.is_empty()).filter_map(|s| text.find(s.as_str())).min() {
                text.truncate(cut);
                stop_reason = StopReason::StopString;
                break;
            }
            // As the real runtime does, text that may be the start of a stop string is held back.
            let held = req
                .stop
                .iter()
                .flat_map(|s| s.char_indices().skip(1).map(move |(k, _)| &s[..k]))
                .filter(|p| text.ends_with(p))
                .map(str::len)
                .max()
                .unwrap_or(0);
            let safe = text.len() - held;
            if safe > emitted {
                on_text(&text[emitted..safe]);
                emitted = safe;
            }
            if !self.word_delay.is_zero() {
                std::thread::sleep(self.word_delay);
            }
        }
        if text.len() > emitted {
            on_text(&text[emitted..]);
        }
        Ok(Generation {
            text,
            ids: Vec::new(),
            prompt_tokens: prompt.split_whitespace().count(),
            generated_tokens: tokens,
            stop_reason,
            prefill_tok_s: 0.0,
            decode_tok_s: 0.0,
        })
    }

    fn score(&mut self, prompt: &Prompt, continuations: &[String]) -> Result<Vec<f64>> {
        let text = self.prompt_text(prompt);
        self.log(ScriptedCall::Score { prompt: text.clone(), continuations: continuations.to_vec() });
        let out = (self.scorer)(&text, continuations);
        if out.len() != continuations.len() {
            bail!("the scripted scorer gave {} scores for {} continuations", out.len(), continuations.len());
        }
        Ok(out)
    }

    /// Hashed bag of words: each word adds 1 to coordinate `sha256(word) mod dim`; `Mean` divides
    /// by the word count, `Last` is the last word's one-hot vector.
    fn features(
        &mut self,
        texts: &[String],
        req: &FeatureRequest,
        on_batch: &mut dyn FnMut(usize),
    ) -> Result<FeatureBatch> {
        let (pool, max_tokens) = (req.pool, req.max_tokens);
        self.log(ScriptedCall::Features { texts: texts.len() });
        let dim = self.info.hidden_size;
        let slot = |w: &str| (Sha256::digest(w.as_bytes())[0] as usize) % dim;
        let out = texts
            .iter()
            .map(|t| {
                let words: Vec<&str> = t.split_whitespace().take(max_tokens.max(1)).collect();
                let mut v = vec![0f32; dim];
                match pool {
                    Pool::Last => {
                        if let Some(w) = words.last() {
                            v[slot(w)] = 1.0;
                        }
                    }
                    _ => {
                        for w in &words {
                            v[slot(w)] += 1.0;
                        }
                        let n = words.len().max(1) as f32;
                        v.iter_mut().for_each(|x| *x /= n);
                    }
                }
                v
            })
            .collect();
        on_batch(texts.len());
        let truncated = texts.iter().filter(|t| t.split_whitespace().count() > max_tokens.max(1)).count();
        Ok(FeatureBatch { vectors: out, truncated })
    }
}

/// A scorer that prefers one choice by its text, whatever letter it is shown under: it reads the
/// `X. text` (or `X) text`) lines of the prompt and gives the letter of the alphabetically first (`last = false`)
/// or last choice −0.1, every other continuation −3.0 (index 0 wins when the prompt lists none).
pub fn choice_scorer(last: bool) -> impl FnMut(&str, &[String]) -> Vec<f64> + Send + 'static {
    move |prompt: &str, conts: &[String]| {
        let mut listed: Vec<(String, String)> = prompt
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let (letter, text) = l.split_once(". ").or_else(|| l.split_once(") "))?;
                (letter.len() == 1 && letter.chars().all(|c| c.is_ascii_uppercase()))
                    .then(|| (letter.to_string(), text.to_string()))
            })
            .collect();
        listed.sort_by(|a, b| a.1.cmp(&b.1));
        let want = if last { listed.last() } else { listed.first() }.map(|x| x.0.clone());
        conts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let hit = match &want {
                    Some(w) => c.trim() == w,
                    None => i == 0,
                };
                if hit {
                    -0.1
                } else {
                    -3.0
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::ChatMessage;

    #[test]
    fn streams_cuts_at_stop_strings_and_max_tokens() {
        let mut m = ScriptedModel::new("s", "one two three. You defend four").with_replies(["a b c d e"]);
        let mut req = GenerateRequest::new(Prompt::Chat(vec![ChatMessage::user("q")]), 3);
        let mut seen = String::new();
        let g = m.generate(&req, &CancelToken::new(), &mut |p| seen.push_str(p)).unwrap();
        assert_eq!((g.text.as_str(), g.stop_reason, seen.as_str()), ("a b c ", StopReason::MaxTokens, "a b c "));
        req.max_tokens = 100;
        req.stop = vec!["You defend".into()];
        seen.clear();
        let g = m.generate(&req, &CancelToken::new(), &mut |p| seen.push_str(p)).unwrap();
        assert_eq!((g.text.as_str(), g.stop_reason), ("one two three. ", StopReason::StopString));
        assert_eq!(seen, g.text);
        assert_eq!(m.calls().lock().unwrap().len(), 2);
    }

    #[test]
    fn cancel_stops_and_scores_follow_the_scorer() {
        let mut m = ScriptedModel::new("s", "x y z")
            .with_scorer(|p, c| c.iter().map(|x| if p.contains(x.trim()) { -0.1 } else { -3.0 }).collect());
        let cancel = CancelToken::new();
        cancel.cancel();
        let g = m.generate(&GenerateRequest::new(Prompt::Raw("p".into()), 9), &cancel, &mut |_| {}).unwrap();
        assert_eq!((g.generated_tokens, g.stop_reason), (0, StopReason::Cancelled));
        let s = m.score(&Prompt::Raw("the answer is B".into()), &[" A".into(), " B".into()]).unwrap();
        assert_eq!(s, vec![-3.0, -0.1]);
        let f = m.features(&["a b".into(), "a b".into()], &FeatureRequest::new(Pool::Mean, 10), &mut |_| {}).unwrap();
        assert_eq!(f.vectors[0], f.vectors[1]);
        assert!((f.vectors[0].iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
}
