//! Task loading: JSONL files (including a real dataset converted from ../shared) and
//! the built-in suites, and every bad input.

mod common;

use std::io::Write;
use w2sd::tasks::{self, TaskError};

#[test]
fn malformed_line_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, r#"{{"id": "a", "question": "q1", "choices": ["x", "y"], "answer": 0}}"#).unwrap();
    writeln!(f).unwrap();
    writeln!(f, r#"{{"id": "b", "question": "q2", "choices": ["x", "y"], "answer": 1, "label": 1}}"#).unwrap();
    writeln!(f, r#"{{"id": "c", "question": "q3", "choices": ["x", "y"], "answer": 0"#).unwrap();
    drop(f);
    let e = tasks::load(path.to_str().unwrap(), None, 0).unwrap_err();
    assert!(matches!(e, TaskError::BadLine { line: 4, .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("items.jsonl:4:") && msg.contains("invalid JSON"), "{msg}");

    // An out-of-range answer is also named by line.
    std::fs::write(&path, "{\"id\": \"a\", \"question\": \"q\", \"choices\": [\"x\", \"y\"], \"answer\": 5}\n")
        .unwrap();
    let msg = tasks::load(path.to_str().unwrap(), None, 0).unwrap_err().to_string();
    assert!(msg.contains("items.jsonl:1:") && msg.contains("answer index 5"), "{msg}");

    // A missing file names the file.
    let msg = tasks::load(dir.path().join("nope.jsonl").to_str().unwrap(), None, 0).unwrap_err().to_string();
    assert!(msg.contains("nope.jsonl"), "{msg}");
}

#[test]
fn unknown_spec_lists_valid_specs() {
    let msg = tasks::load("builtin:chess", Some(3), 0).unwrap_err().to_string();
    for want in
        ["builtin:chess", "builtin:reading", "builtin:capitals", "builtin:arithmetic", "builtin:sentiment", ".jsonl"]
    {
        assert!(msg.contains(want), "{msg}");
    }
}

#[test]
fn builtin_suites_load_by_spec() {
    for name in tasks::BUILTIN_SUITES {
        let items = tasks::load(&format!("builtin:{name}"), Some(12), 5).unwrap();
        assert_eq!(items.len(), 12);
        assert_eq!(items, tasks::load(&format!("builtin:{name}"), Some(12), 5).unwrap());
    }
    assert_eq!(tasks::load("builtin:capitals", None, 1).unwrap().len(), tasks::DEFAULT_BUILTIN_N);
    // Reading items always carry a passage; sentiment follows the binary convention.
    assert!(tasks::load("builtin:reading", Some(20), 1).unwrap().iter().all(|t| t.passage.is_some()));
    let s = tasks::load("builtin:sentiment", Some(50), 1).unwrap();
    assert!(s
        .iter()
        .all(|t| t.choices == ["negative", "positive"] && t.meta["label"].as_u64() == Some(t.answer as u64)));
}

/// SciQ from ../shared converted to our JSONL shape (done here, in the test; the program
/// never reads ../shared) loads and keeps every item's correct answer.
#[test]
fn real_sciq_converted_to_jsonl_loads() {
    let src = common::shared_dir().join("data").join("sciq").join("sciq_test.jsonl");
    let text = std::fs::read_to_string(&src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sciq.jsonl");
    let mut f = std::fs::File::create(&out).unwrap();
    let mut n = 0;
    for line in text.lines().take(100) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let mut choices = vec![v["correct_answer"].as_str().unwrap().to_string()];
        choices.extend(v["distractors"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()));
        let row = serde_json::json!({"id": v["id"], "question": v["question"], "choices": choices, "answer": 0, "passage": v["support"]});
        writeln!(f, "{row}").unwrap();
        n += 1;
    }
    drop(f);
    let items = tasks::load(out.to_str().unwrap(), None, 0).unwrap();
    assert_eq!(items.len(), n);
    assert_eq!(items[0].choices[items[0].answer], "oxidants");
    let sub = tasks::load(out.to_str().unwrap(), Some(10), 3).unwrap();
    assert_eq!(sub.len(), 10);
    assert!(sub.iter().all(|t| items.contains(t)));
}
