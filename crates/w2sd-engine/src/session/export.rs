//! `sessions export`: one row per judgement of every debate, as JSONL or CSV, for the command
//! line and the Review screen alike.

use serde::Serialize;

use super::schema::{DebateStatus, JudgeKind, Session, Turn};

/// One row of `w2sd sessions export`: one judgement of one debate (a debate without a
/// judgement gets one row whose judge fields are `null`).
#[derive(Serialize)]
pub struct ExportRow<'a> {
    pub session_id: &'a str,
    pub index: usize,
    pub item_id: &'a str,
    pub question: &'a str,
    /// The choices joined by " | ".
    pub choices: String,
    pub answer: usize,
    pub strong_answer: usize,
    pub weak_answer: usize,
    pub strong_correct: bool,
    pub status: DebateStatus,
    pub turns: usize,
    pub transcript: &'a [Turn],
    pub judge_kind: Option<JudgeKind>,
    pub judge_name: Option<&'a str>,
    pub p_strong: Option<f64>,
    pub d: Option<f64>,
    pub log_score: Option<f64>,
    pub judge_correct: Option<bool>,
    pub blind: Option<bool>,
    pub strong_left: Option<bool>,
    pub judge_seconds: Option<f64>,
    pub rationale: Option<&'a str>,
}

/// The CSV columns of `sessions export --format csv`, in order (the JSONL row less the transcript).
pub const CSV_COLUMNS: &[&str] = &[
    "session_id",
    "index",
    "item_id",
    "question",
    "choices",
    "answer",
    "strong_answer",
    "weak_answer",
    "strong_correct",
    "status",
    "turns",
    "judge_kind",
    "judge_name",
    "p_strong",
    "d",
    "log_score",
    "judge_correct",
    "blind",
    "strong_left",
    "judge_seconds",
    "rationale",
];

/// One row per judgement (one row without judge fields for an unjudged debate).
pub fn export_rows(s: &Session) -> Vec<ExportRow<'_>> {
    let mut rows = Vec::new();
    for d in &s.debates {
        let base = || ExportRow {
            session_id: &s.id,
            index: d.index,
            item_id: &d.item.id,
            question: &d.item.question,
            choices: d.item.choices.join(" | "),
            answer: d.item.answer,
            strong_answer: d.strong_answer,
            weak_answer: d.weak_answer,
            strong_correct: d.strong_correct,
            status: d.status,
            turns: d.turns.len(),
            transcript: &d.turns,
            judge_kind: None,
            judge_name: None,
            p_strong: None,
            d: None,
            log_score: None,
            judge_correct: None,
            blind: None,
            strong_left: None,
            judge_seconds: None,
            rationale: None,
        };
        if d.judgements.is_empty() {
            rows.push(base());
        }
        for j in &d.judgements {
            rows.push(ExportRow {
                judge_kind: Some(j.kind),
                judge_name: Some(&j.name),
                p_strong: Some(j.p_strong),
                d: Some(j.d),
                log_score: Some(j.log_score),
                judge_correct: Some(j.correct),
                blind: Some(j.blind),
                strong_left: j.shuffle.map(|x| x.strong_left),
                judge_seconds: Some(j.seconds),
                rationale: j.rationale.as_deref(),
                ..base()
            });
        }
    }
    rows
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per line, with the transcript.
    Jsonl,
    /// [`CSV_COLUMNS`], without the transcript.
    Csv,
}

/// The export of a session in `format`: its rows and the bytes (no trailing newline after the
/// last JSONL row).
pub fn export_bytes(s: &Session, format: ExportFormat) -> anyhow::Result<(usize, Vec<u8>)> {
    let rows = export_rows(s);
    let mut buf: Vec<u8> = Vec::new();
    match format {
        ExportFormat::Jsonl => {
            for (k, r) in rows.iter().enumerate() {
                if k > 0 {
                    buf.push(b'\n');
                }
                buf.extend(serde_json::to_vec(r)?);
            }
        }
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut buf);
            w.write_record(CSV_COLUMNS)?;
            for r in &rows {
                let r = serde_json::to_value(r)?;
                w.write_record(CSV_COLUMNS.iter().map(|k| match &r[*k] {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) => s.clone(),
                    v => v.to_string(),
                }))?;
            }
            w.flush()?;
            drop(w);
        }
    }
    Ok((rows.len(), buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Session {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sessions/reading-debate-n20.json");
        crate::session::load(&p).unwrap()
    }

    #[test]
    fn export_has_one_row_per_judgement_and_null_judge_fields_when_unjudged() {
        let mut s = shipped();
        let judgements: usize = s.debates.iter().map(|d| d.judgements.len()).sum();
        assert_eq!(export_rows(&s).len(), judgements);
        s.debates[0].judgements.clear();
        let rows = export_rows(&s);
        assert_eq!(rows.len(), judgements - 1 + 1);
        let v = serde_json::to_value(&rows[0]).unwrap();
        for k in CSV_COLUMNS {
            assert!(v.get(*k).is_some(), "{k} missing");
        }
        assert!(v["p_strong"].is_null() && v["judge_kind"].is_null());
        assert!(serde_json::to_value(&rows[1]).unwrap()["p_strong"].is_number());
    }

    #[test]
    fn jsonl_and_csv_have_one_row_per_judgement() {
        let s = shipped();
        let (n, jsonl) = export_bytes(&s, ExportFormat::Jsonl).unwrap();
        let text = String::from_utf8(jsonl).unwrap();
        assert_eq!(text.lines().count(), n);
        assert!(!text.ends_with('\n'));
        let (m, csv) = export_bytes(&s, ExportFormat::Csv).unwrap();
        assert_eq!(m, n);
        assert_eq!(String::from_utf8(csv).unwrap().lines().count(), n + 1, "a header and the rows");
    }
}
