//! w2sd — weak-to-strong debate: the terminal UI and the headless command line.
//!
//! The engine lives in the `w2sd-engine` crate (re-exported here under the same module names)
//! and knows nothing about the UI; `tui` talks to engine workers through messages only.

pub mod cli;
#[doc(hidden)]
pub mod fuzz;
pub mod tui;

pub use w2sd_engine::{debate, fsio, paths, runtime, session, stats, tasks, w2s};
