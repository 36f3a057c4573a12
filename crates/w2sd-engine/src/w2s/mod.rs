//! Weak-to-strong training (Burns et al. 2023) on local models, headless.
//!
//! A weak supervisor trained on ground truth labels a held-out split; a strong student
//! is trained on those weak labels; a strong ceiling is trained on ground truth; and
//! `PGR = (acc_w2s − acc_weak) / (acc_ceiling − acc_weak)` measures how much of the gap
//! the student recovers. Bootstrapping repeats the step over a ladder `M1 < … < Mn`.
//!
//! - [`data`]: task kinds, loaders (JSONL, CSV/TSV, built-in suites, `hf:`), splits,
//!   class balance, and the built-in pairwise-preference and chess mate-in-one generators.
//! - [`features`]: pooled hidden states from any runtime model (cached on disk by content
//!   hash) and the hashed n-gram bag of words (`bow`), the cheapest weak rung.
//! - [`head`]: a logistic or small-MLP head trained with candle-nn (AdamW, cosine
//!   schedule, early stopping).
//! - [`loss`]: xent, logconf, product, kl, entropy.
//! - [`metrics`]: accuracy, AUROC, PGR, ECE, agreement, bootstrap CIs.
//! - [`debate_context`]: a strong model argues for each label of every example; weak
//!   supervisors that read the arguments (Lang et al. 2025).
//! - [`pipeline`]: the stages, each persisted and resumable, with an event stream.
//! - [`seeds`]: the pipeline over several seeds, with aggregates across seeds.
//! - [`config`], [`results`], [`plot`].

pub mod bench;
pub mod config;
pub mod data;
pub mod debate_context;
pub mod features;
pub mod head;
pub mod logreg;
pub mod loss;
pub mod metrics;
pub mod pipeline;
pub mod plot;
pub mod results;
pub mod seeds;

pub use config::ExperimentConfig;
pub use pipeline::{Event, Experiment, StageId};
