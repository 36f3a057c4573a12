//! Pure widgets: each draws from the values it is given and keeps no state.

pub mod charts;
pub mod judge_bar;
pub mod pane;
pub mod rows;

/// `qwen2.5-coder-1.5b-instruct` → `qwen-1.5b` for narrow panels.
pub fn short_models(s: &str) -> String {
    s.replace("qwen2.5-coder-", "qwen-").replace("-instruct", "").replace("gemma-3-", "gemma-")
}
