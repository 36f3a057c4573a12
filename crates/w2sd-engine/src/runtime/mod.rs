//! The local model runtime on candle: model specs and the built-in catalog, pulling
//! and caching, exact tokenizers, decoder forwards (Gemma 3, Qwen 2, Llama), BERT
//! encoders, streaming generation, continuation scoring and pooled features.
//!
//! Everything the rest of the engine needs goes through the [`LanguageModel`] trait, which the
//! local [`Model`] implements (and [`scripted::ScriptedModel`], for tests without weights).

pub mod attention;
pub mod bench;
pub mod bert;
pub mod catalog;
pub mod chat;
pub mod compact_gemv;
pub mod device;
pub mod embedding;
pub mod generate;
pub mod hub;
pub mod int8_gemm;
pub mod kquant_tiles;
pub mod language_model;
pub mod model;
pub mod openai;
pub mod pool;
pub mod q5_0;
pub mod scripted;
pub mod spec;
pub mod tokenizer;
pub mod transformer;

pub use generate::{
    CancelToken, ChatMessage, GenerateRequest, Generation, NgramBan, NoCopy, Pool, Prompt, Role, Sampling, StopReason,
};
pub use hub::PullProgress;
pub use language_model::{FeatureBatch, FeatureRequest, LanguageModel};
pub use model::{Model, ModelInfo};
pub use pool::{load, share, share_boxed, ModelPool, SharedModel};

/// The first line of an error's message (candle appends a backtrace on later lines).
pub fn first_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}
