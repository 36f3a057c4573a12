//! The w2sd engine: everything but the user interface.
//!
//! - [`runtime`]: local models on candle (GGUF and safetensors), the catalog and pulls, tokenizers,
//!   generation, scoring and pooled features, behind the [`runtime::LanguageModel`] trait.
//! - [`tasks`]: task items, loaders and the built-in suites.
//! - [`debate`]: protocols, debaters, judges, scores (D), metrics and facilitation Φ.
//! - [`session`]: the versioned session file and its atomic store.
//! - [`w2s`]: weak-to-strong training: data, features, heads, losses, the stepped pipeline.
//! - [`stats`]: pure statistics shared by debate and training metrics.
//!
//! The engine depends on no terminal, UI or command-line crate; the `w2sd` binary drives it
//! through these modules, and so can a researcher's own Rust code.
//!
//! ```no_run
//! use w2sd_engine::debate::agents::{ModelDebater, ModelJudge};
//! use w2sd_engine::runtime::{LanguageModel, ModelPool, Prompt};
//!
//! # fn main() -> anyhow::Result<()> {
//! // Each spec is loaded once (pulled into the cache first if missing) and shared between roles.
//! let mut pool = ModelPool::default();
//! let weak = pool.get("qwen2.5-coder-0.5b-instruct", &mut |_| {})?;
//!
//! // Score two continuations of one prompt from a single prefill.
//! let scores = weak.lock().unwrap().score(&Prompt::Raw("The capital of France is".into()), &[" Paris".into(), " Berlin".into()])?;
//! assert!(scores[0] > scores[1]);
//!
//! // The same model can judge debates (answer-letter log-probabilities in both orders).
//! let templates = w2sd_engine::debate::prompts::Templates::load()?;
//! let _judge = ModelJudge::new(weak.clone(), templates.clone())?;
//! # let _ = ModelDebater::new;
//! # Ok(())
//! # }
//! ```

pub mod choice;
pub mod debate;
pub mod fsio;
pub mod paths;
pub mod runtime;
pub mod session;
pub mod stats;
pub mod tasks;
pub mod w2s;
