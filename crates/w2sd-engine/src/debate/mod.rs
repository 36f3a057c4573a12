//! Debates: the protocol state machine, debaters and judges behind traits, prompt
//! templates, the debate score D, metrics, facilitation Φ, and headless session runs.
//!
//! The engine knows nothing about the UI; the TUI drives [`protocol::Debate`] turn by
//! turn (streaming text through callbacks) and records human verdicts with
//! [`human::human_judgement`].

pub mod agents;
pub mod compare;
pub mod facilitate;
pub mod human;
pub mod metrics;
pub mod prompts;
pub mod protocol;
pub mod quality;
pub mod render;
pub mod runner;
pub mod score;

pub use agents::{Debater, Judge, ModelDebater, ModelJudge, SharedModel};
pub use protocol::{Debate, JudgeView, TurnContext, TurnOutput, TurnSpec};
pub use score::{debate_score, log_score, D_LIMIT};
