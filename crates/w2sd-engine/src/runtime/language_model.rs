//! [`LanguageModel`]: everything debate, facilitation and training need from a model.
//!
//! Debaters, judges, facilitation and feature extraction reach models only through this trait,
//! so a backend other than the local candle runtime ([`super::Model`]), such as a remote inference
//! server, needs no change in debate or weak-to-strong code. [`super::scripted::ScriptedModel`]
//! implements it without weights, for engine unit tests.

use anyhow::Result;

use super::generate::{CancelToken, GenerateRequest, Generation, Pool, Prompt};
use super::model::ModelInfo;

/// A model that can write, score and embed.
///
/// A [`Prompt::Chat`] whose last message is the assistant's asks the model to continue that
/// assistant turn (the message's text is already written); any other chat prompt opens a new
/// assistant turn after the messages.
pub trait LanguageModel: Send {
    /// Provenance: the spec it was loaded from, its architecture, its weights' hash, its sizes.
    fn info(&self) -> &ModelInfo;

    /// A stable identity for cache keys and provenance: the spec and, when known, the sha256 of
    /// the weights (`spec@sha256`). Two loads of the same file have the same identity.
    fn identity(&self) -> String {
        let i = self.info();
        match &i.sha256 {
            Some(h) => format!("{}@{h}", i.spec),
            None => i.spec.clone(),
        }
    }

    /// The text the model reads for a prompt: the chat template applied to chat prompts (with the
    /// assistant turn opened or continued), raw prompts as they are.
    fn prompt_text(&self, prompt: &Prompt) -> String;

    /// Streams a generation. `on_text` receives each new piece of text as soon as it is final
    /// (never a part of a stop string); generation ends at a stop string (not returned), an end of
    /// turn, `max_tokens`, a full context, or when `cancel` fires.
    fn generate(
        &mut self,
        req: &GenerateRequest,
        cancel: &CancelToken,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generation>;

    /// `Σ_t log p(c_t | prompt, c_<t)` for each continuation `c`, all from one prefill of the
    /// prompt. Continuations are tokenized on their own, without BOS.
    fn score(&mut self, prompt: &Prompt, continuations: &[String]) -> Result<Vec<f64>>;

    /// Pooled hidden states, one vector of `pool.dim(hidden_size)` per text, in input order;
    /// `on_batch` gets the number of texts done.
    fn features(
        &mut self,
        texts: &[String],
        req: &FeatureRequest,
        on_batch: &mut dyn FnMut(usize),
    ) -> Result<FeatureBatch>;
}

/// How to turn texts into feature vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRequest {
    pub pool: Pool,
    /// Longest input in tokens; longer texts are cut.
    pub max_tokens: usize,
    /// Cut long texts from the left (keeping their first token and their end, where a question
    /// and its candidate answer stand) instead of keeping their start.
    pub keep_end: bool,
    /// The hidden state of this layer (1-based) instead of the final one (decoders only).
    pub layer: Option<usize>,
    /// Tokens per padded batch (rows × longest row).
    pub batch_tokens: usize,
}

impl FeatureRequest {
    pub fn new(pool: Pool, max_tokens: usize) -> Self {
        FeatureRequest {
            pool,
            max_tokens,
            keep_end: false,
            layer: None,
            batch_tokens: super::model::FEATURE_BATCH_TOKENS,
        }
    }
}

/// Feature vectors and how many of their texts were cut to `max_tokens`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureBatch {
    pub vectors: Vec<Vec<f32>>,
    pub truncated: usize,
}

impl LanguageModel for super::Model {
    fn info(&self) -> &ModelInfo {
        super::Model::info(self)
    }

    fn prompt_text(&self, prompt: &Prompt) -> String {
        super::Model::prompt_text(self, prompt)
    }

    fn generate(
        &mut self,
        req: &GenerateRequest,
        cancel: &CancelToken,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generation> {
        super::Model::generate(self, req, cancel, on_text)
    }

    fn score(&mut self, prompt: &Prompt, continuations: &[String]) -> Result<Vec<f64>> {
        super::Model::score(self, prompt, continuations)
    }

    fn features(
        &mut self,
        texts: &[String],
        req: &FeatureRequest,
        on_batch: &mut dyn FnMut(usize),
    ) -> Result<FeatureBatch> {
        self.max_feature_tokens = req.max_tokens;
        self.feature_keep_end = req.keep_end;
        self.feature_layer = req.layer;
        let vectors = self.embed_batched(texts, req.pool, req.batch_tokens, on_batch)?;
        Ok(FeatureBatch { vectors, truncated: self.feature_truncated })
    }
}
