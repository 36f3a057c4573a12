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
    /// Text the generation must not reproduce (local models; see [`NoCopy`]). Remote
    /// backends cannot constrain decoding and ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_copy: Option<NoCopy>,
}

impl GenerateRequest {
    pub fn new(prompt: Prompt, max_tokens: usize) -> Self {
        Self { prompt, max_tokens, sampling: Sampling::default(), stop: Vec::new(), no_copy: None }
    }
}

/// Runs of `n` tokens that decoding may not produce: every run of `n` consecutive
/// tokens of an `avoid` text (a debater's opponent) that is not also a run of an
/// `allow` text (the passage, question and choices, which both sides may quote). The
/// check covers the prompt's last `n − 1` tokens too, so a reply cannot finish a run
/// the prompt started (the forced reply prefix).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoCopy {
    pub avoid: Vec<String>,
    pub allow: Vec<String>,
    pub n: usize,
}

/// The token runs of a [`NoCopy`], indexed by their first `n − 1` tokens: for a token
/// history `h`, the banned next tokens are `{t : (h[len−n+1..], t) ∈ runs(avoid) ∖ runs(allow)}`.
#[derive(Debug, Clone, Default)]
pub struct NgramBan {
    n: usize,
    next: std::collections::HashMap<Vec<u32>, Vec<u32>>,
}

impl NgramBan {
    /// The ban over already tokenized texts (each text may come in several tokenizations,
    /// e.g. with and without a leading space). `n < 2` bans nothing.
    pub fn new(avoid: &[Vec<u32>], allow: &[Vec<u32>], n: usize) -> Self {
        let mut next: std::collections::HashMap<Vec<u32>, Vec<u32>> = Default::default();
        if n >= 2 {
            let allowed: std::collections::HashSet<&[u32]> = allow.iter().flat_map(|t| t.windows(n)).collect();
            for run in avoid.iter().flat_map(|t| t.windows(n)) {
                if allowed.contains(run) {
                    continue;
                }
                let e = next.entry(run[..n - 1].to_vec()).or_default();
                if !e.contains(&run[n - 1]) {
                    e.push(run[n - 1]);
                }
            }
        }
        Self { n, next }
    }

    pub fn is_empty(&self) -> bool {
        self.next.is_empty()
    }

    /// The tokens that may not follow `history` (empty when fewer than `n − 1` tokens).
    pub fn banned(&self, history: &[u32]) -> &[u32] {
        if self.n < 2 || history.len() < self.n - 1 {
            return &[];
        }
        self.next.get(&history[history.len() - (self.n - 1)..]).map_or(&[], |v| v.as_slice())
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

#[cfg(test)]
mod tests {
    use super::NgramBan;

    #[test]
    fn ngram_ban_by_hand() {
        // Opponent: 1 2 3 4 5 6; passage: 3 4 5. Runs of 3: [1 2 3] [2 3 4] [3 4 5] [4 5 6];
        // [3 4 5] is the passage's, so after (3, 4) nothing is banned.
        let ban = NgramBan::new(&[vec![1, 2, 3, 4, 5, 6]], &[vec![9, 3, 4, 5]], 3);
        assert_eq!(ban.banned(&[7, 1, 2]), &[3]);
        assert_eq!(ban.banned(&[2, 3]), &[4]);
        assert!(ban.banned(&[3, 4]).is_empty());
        assert_eq!(ban.banned(&[4, 5]), &[6]);
        assert!(ban.banned(&[2]).is_empty(), "shorter than n − 1");
        assert!(ban.banned(&[5, 6]).is_empty());
        // Two avoid texts sharing a prefix ban both continuations, once each.
        let two = NgramBan::new(&[vec![1, 2, 3], vec![1, 2, 8], vec![1, 2, 3]], &[], 3);
        assert_eq!(two.banned(&[1, 2]), &[3, 8]);
        assert!(NgramBan::new(&[vec![1, 2, 3]], &[], 1).is_empty());
        assert!(NgramBan::new(&[vec![1, 2]], &[], 3).is_empty(), "a text shorter than n has no runs");
    }
}
