//! Generation requests, sampling settings, cancellation and results.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Who speaks a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(s: impl Into<String>) -> Self {
        Self { role: Role::System, content: s.into() }
    }
    pub fn user(s: impl Into<String>) -> Self {
        Self { role: Role::User, content: s.into() }
    }
    pub fn assistant(s: impl Into<String>) -> Self {
        Self { role: Role::Assistant, content: s.into() }
    }
}

/// What the model is conditioned on: raw text, or chat messages rendered with the
/// model's chat template (with the assistant turn opened).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Prompt {
    Raw(String),
    Chat(Vec<ChatMessage>),
}

/// Sampling settings. `temperature <= 0` means greedy (argmax).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sampling {
    pub temperature: f64,
    pub top_k: Option<usize>,
    pub top_p: Option<f64>,
    /// Divides positive logits (multiplies negative ones) of tokens seen in the last
    /// `repeat_last_n` tokens; 1.0 disables it.
    pub repeat_penalty: f32,
    pub repeat_last_n: usize,
    pub seed: u64,
}

impl Default for Sampling {
    fn default() -> Self {
        Self { temperature: 0.0, top_k: None, top_p: None, repeat_penalty: 1.0, repeat_last_n: 64, seed: 42 }
    }
}

/// One generation request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub prompt: Prompt,
    pub max_tokens: usize,
    pub sampling: Sampling,
    /// Generation stops when the text ends with any of these (the stop string is not returned).
    #[serde(default)]
    pub stop: Vec<String>,
}

impl GenerateRequest {
    pub fn new(prompt: Prompt, max_tokens: usize) -> Self {
        Self { prompt, max_tokens, sampling: Sampling::default(), stop: Vec::new() }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// An end-of-sequence or end-of-turn token.
    Eos,
    StopString,
    MaxTokens,
    Cancelled,
    /// The context window is full.
    ContextFull,
}

/// The result of one generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub text: String,
    /// Generated token ids (the EOS token, when hit, is not included).
    pub ids: Vec<u32>,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    pub stop_reason: StopReason,
    pub prefill_tok_s: f64,
    pub decode_tok_s: f64,
}

/// A cancellation flag shared with another thread. Cloning shares the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst)
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    pub fn reset(&self) {
        self.0.store(false, Ordering::SeqCst)
    }
}

/// Pooling of hidden states into one feature vector per text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pool {
    /// Hidden state of the last token (after the final norm).
    Last,
    /// Mean of the hidden states over all tokens (after the final norm).
    Mean,
    /// The mean and the last token's hidden state, concatenated (`2 × hidden` features).
    #[serde(rename = "mean+last")]
    MeanLast,
}

impl Pool {
    /// Feature size for a model of `hidden` units.
    pub fn dim(self, hidden: usize) -> usize {
        match self {
            Pool::MeanLast => 2 * hidden,
            _ => hidden,
        }
    }
}

crate::choices!(Pool {
    Last = "last": "hidden state of the last token",
    Mean = "mean": "mean of the hidden states over the tokens",
    MeanLast = "mean+last": "mean and last hidden state, concatenated",
});
