//! One multiple-choice task item.

use serde::{Deserialize, Serialize};

/// A question with two or more answer choices, one of them correct.
///
/// Invariant: `choices.len() >= 2` and `answer < choices.len()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskItem {
    pub id: String,
    pub question: String,
    pub choices: Vec<String>,
    /// Index into `choices` of the correct answer.
    pub answer: usize,
    /// Optional context passage (reading comprehension); debaters and judges may be denied it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passage: Option<String>,
    /// Free-form metadata carried through to sessions and predictions.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub meta: serde_json::Map<String, serde_json::Value>,
}

impl TaskItem {
    /// Checks the invariant, returning a human-readable reason when it fails.
    pub fn validate(&self) -> Result<(), String> {
        if self.choices.len() < 2 {
            return Err(format!("item {:?} has {} choices; at least 2 are needed", self.id, self.choices.len()));
        }
        if self.answer >= self.choices.len() {
            return Err(format!(
                "item {:?} has answer index {} but only {} choices",
                self.id,
                self.answer,
                self.choices.len()
            ));
        }
        Ok(())
    }
}
