//! w2sd — weak-to-strong debate.
//!
//! The engine (`runtime`, `tasks`, `debate`, `session`, `w2s`, `stats`) knows nothing
//! about the terminal UI; `tui` talks to engine workers through messages only.

pub mod cli;
pub mod debate;
pub mod paths;
pub mod runtime;
pub mod session;
pub mod stats;
pub mod tasks;
pub mod tui;
pub mod w2s;
