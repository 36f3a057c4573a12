//! Task items shared by debates and weak-to-strong training: loading from JSONL/CSV,
//! the built-in generated suites, and the `TaskSpec` that names either.

pub mod item;

pub use item::TaskItem;
