//! JSONL task files: one item per line,
//! `{"id", "question", "choices": [..], "answer": <index>, "passage"?, "label"?, "meta"?}`.
//!
//! `id` may be a string or an integer. `label` (any JSON value) and every field not
//! listed above are carried into `meta`; an explicit `meta` object is merged in first.
//! Blank lines are skipped. Any other malformed line is an error naming the file and
//! the 1-based line number.

use std::path::Path;

use serde_json::{Map, Value};

use super::{TaskError, TaskItem};

/// Reads and validates every item of a JSONL file.
pub fn read(path: &Path) -> Result<Vec<TaskItem>, TaskError> {
    let text = std::fs::read_to_string(path).map_err(|source| TaskError::Io { path: path.to_path_buf(), source })?;
    let mut items = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let bad = |reason: String| TaskError::BadLine { path: path.to_path_buf(), line: line_no, reason };
        if line.trim().is_empty() {
            continue;
        }
        let item = parse_line(line).map_err(bad)?;
        if !seen.insert(item.id.clone()) {
            return Err(bad(format!("duplicate id {:?}", item.id)));
        }
        items.push(item);
    }
    if items.is_empty() {
        return Err(TaskError::Empty { path: path.to_path_buf() });
    }
    Ok(items)
}

/// Parses one line into a validated item; the error is a reason without location.
pub fn parse_line(line: &str) -> Result<TaskItem, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(mut obj) = v else {
        return Err("expected a JSON object".into());
    };
    let id = match obj.remove("id") {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => return Err(format!("field \"id\" must be a non-empty string or an integer, got {other}")),
        None => return Err("missing field \"id\"".into()),
    };
    let question = match obj.remove("question") {
        Some(Value::String(s)) => s,
        Some(other) => return Err(format!("field \"question\" must be a string, got {}", kind(&other))),
        None => return Err("missing field \"question\"".into()),
    };
    let choices = match obj.remove("choices") {
        Some(Value::Array(a)) => a
            .into_iter()
            .enumerate()
            .map(|(k, c)| match c {
                Value::String(s) => Ok(s),
                other => Err(format!("choice {k} must be a string, got {}", kind(&other))),
            })
            .collect::<Result<Vec<String>, String>>()?,
        Some(other) => return Err(format!("field \"choices\" must be an array of strings, got {}", kind(&other))),
        None => return Err("missing field \"choices\"".into()),
    };
    let answer = match obj.remove("answer") {
        Some(Value::Number(n)) => n
            .as_u64()
            .map(|a| a as usize)
            .ok_or_else(|| format!("field \"answer\" must be a non-negative integer index, got {n}"))?,
        Some(other) => {
            return Err(format!("field \"answer\" must be an integer index into \"choices\", got {}", kind(&other)))
        }
        None => return Err("missing field \"answer\"".into()),
    };
    let passage = match obj.remove("passage") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => return Err(format!("field \"passage\" must be a string, got {}", kind(&other))),
    };
    let mut meta = match obj.remove("meta") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => return Err(format!("field \"meta\" must be an object, got {}", kind(&other))),
    };
    for (k, v) in obj {
        meta.insert(k, v);
    }
    let item = TaskItem { id, question, choices, answer, passage, meta };
    item.validate()?;
    Ok(item)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_line_with_label_and_extras() {
        let t =
            parse_line(r#"{"id": 7, "question": "q?", "choices": ["no", "yes"], "answer": 1, "label": 1, "src": "x"}"#)
                .unwrap();
        assert_eq!(t.id, "7");
        assert_eq!(t.answer, 1);
        assert_eq!(t.meta["label"], 1);
        assert_eq!(t.meta["src"], "x");
        assert!(t.passage.is_none());
    }

    #[test]
    fn bad_lines_give_reasons() {
        let cases = [
            ("{", "invalid JSON"),
            ("[1]", "JSON object"),
            (r#"{"question": "q", "choices": ["a","b"], "answer": 0}"#, "missing field \"id\""),
            (r#"{"id": "a", "question": "q", "choices": ["a"], "answer": 0}"#, "at least 2"),
            (r#"{"id": "a", "question": "q", "choices": ["a","b"], "answer": 2}"#, "answer index 2"),
            (r#"{"id": "a", "question": "q", "choices": ["a","b"], "answer": "b"}"#, "integer index"),
            (r#"{"id": "a", "question": "q", "choices": ["a", 3], "answer": 0}"#, "choice 1"),
            (r#"{"id": "a", "question": "q", "choices": ["a","b"], "answer": -1}"#, "non-negative"),
        ];
        for (line, want) in cases {
            let e = parse_line(line).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }
}
