//! Loading classification, multiple-choice and preference data from JSONL, JSON, CSV
//! and TSV files, and fetching `hf:` datasets through hf-hub.
//!
//! The row format is detected from the first row:
//! - `chosen` + `rejected` → pairwise preference (HH-RLHF style);
//! - `choices` (array) + `answer` (index) → multiple choice (the [`TaskItem`] shape);
//! - `correct_answer` + `distractors` (or `distractor1..3`, the AllenAI / Hugging Face
//!   form) → multiple choice (SciQ style, support passage optional);
//! - `answer0`, `answer1`, … + label index → multiple choice (Cosmos QA style, `context` passage);
//! - otherwise a label column (`label`, or `?label=FIELD`) and a text: `?text=FIELD`, else
//!   the first of `text`, `sentence`, `input`, `review`, `content`, `prompt`, else
//!   `question` with `passage`/`context` (BoolQ style).
//!
//! Binary labels may be booleans, 0/1, or the strings `true/false`, `yes/no`,
//! `pos/neg`, `positive/negative` (any case). Texts are trimmed (SST-2 ends each with a
//! space). CSV and TSV are read with a real CSV parser (quoted multi-line fields).

use anyhow::{anyhow, bail, Context, Result};
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

use super::{from_items, normalise, preference, sample_indices, Dataset, Example, LoadOptions, TaskKind};
use crate::tasks::TaskItem;

type Row = Map<String, Value>;

/// Reads the rows of a data file (each a JSON object; CSV cells become strings), with
/// the 1-based line or record number of each for error messages.
pub fn read_rows(path: &Path) -> Result<Vec<(usize, Row)>> {
    let name = path.file_name().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
    // `x.jsonl.gz` (and .json/.csv/.tsv .gz): gzip-compressed, read through flate2.
    let gz = name.ends_with(".gz");
    let inner = name.strip_suffix(".gz").unwrap_or(&name);
    let ext = Path::new(inner).extension().and_then(|e| e.to_str()).unwrap_or("").to_string();
    let text = || -> Result<String> {
        if gz {
            let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            let mut s = String::new();
            std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(f), &mut s)
                .with_context(|| format!("{}: not a gzip file of UTF-8 text", path.display()))?;
            Ok(s)
        } else {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
        }
    };
    match ext.as_str() {
        "parquet" if !gz => read_parquet(path),
        "jsonl" | "ndjson" => {
            let mut rows = Vec::new();
            for (i, line) in text()?.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(line)
                    .with_context(|| format!("{}:{}: not valid JSON", path.display(), i + 1))?;
                match v {
                    Value::Object(m) => rows.push((i + 1, m)),
                    _ => bail!("{}:{}: expected a JSON object per line", path.display(), i + 1),
                }
            }
            Ok(rows)
        }
        "json" => {
            let v: Value =
                serde_json::from_str(&text()?).with_context(|| format!("{}: not valid JSON", path.display()))?;
            let items: Vec<Value> = match v {
                Value::Array(a) => a,
                // An object of objects keyed "0", "1", … (e.g. sciq.json): keep key order by number.
                Value::Object(m) => {
                    let mut kv: Vec<(String, Value)> = m.into_iter().collect();
                    kv.sort_by_key(|(k, _)| (k.parse::<u64>().unwrap_or(u64::MAX), k.clone()));
                    kv.into_iter()
                        .map(|(k, v)| match v {
                            Value::Object(mut o) => {
                                o.entry("id").or_insert(Value::String(k));
                                Value::Object(o)
                            }
                            other => other,
                        })
                        .collect()
                }
                _ => bail!("{}: expected an array of objects", path.display()),
            };
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Object(m) => Ok((i + 1, m)),
                    _ => bail!("{}: item {} is not an object", path.display(), i + 1),
                })
                .collect()
        }
        "csv" | "tsv" => {
            let body = text()?;
            let mut rdr = csv::ReaderBuilder::new()
                .delimiter(if ext == "tsv" { b'\t' } else { b',' })
                .flexible(false)
                .from_reader(body.as_bytes());
            let headers: Vec<String> = rdr.headers()?.iter().map(|h| h.trim().to_string()).collect();
            let mut rows = Vec::new();
            for (i, rec) in rdr.records().enumerate() {
                let rec = rec.with_context(|| format!("{}: record {}", path.display(), i + 1))?;
                let line = rec.position().map(|p| p.line() as usize).unwrap_or(i + 2);
                let mut m = Map::new();
                for (h, v) in headers.iter().zip(rec.iter()) {
                    m.insert(h.clone(), Value::String(v.to_string()));
                }
                rows.push((line, m));
            }
            Ok(rows)
        }
        _ => bail!(
            "{}: unknown data file type {ext:?}; use .parquet, or .jsonl, .json, .csv or .tsv (optionally .gz)",
            path.display()
        ),
    }
}

/// The rows of a parquet file (Hugging Face's dataset format) as JSON objects, through
/// the parquet crate's record API: strings stay strings, booleans and numbers stay
/// typed (`label: true`, `label: 1`), lists become arrays (SciQ-style `distractors`),
/// nested groups objects. Row numbers count from 1.
fn read_parquet(path: &Path) -> Result<Vec<(usize, Row)>> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader =
        SerializedFileReader::new(f).with_context(|| format!("{}: not a readable parquet file", path.display()))?;
    let mut rows = Vec::new();
    for (i, row) in
        reader.get_row_iter(None).with_context(|| format!("{}: cannot read its rows", path.display()))?.enumerate()
    {
        let row = row.with_context(|| format!("{}: row {}", path.display(), i + 1))?;
        match row.to_json_value() {
            Value::Object(m) => rows.push((i + 1, m)),
            _ => bail!("{}: row {} is not a record", path.display(), i + 1),
        }
    }
    Ok(rows)
}

/// Parses a binary label.
pub fn parse_label(v: &Value) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => match n.as_f64() {
            Some(1.0) => Ok(true),
            Some(0.0) => Ok(false),
            _ => bail!("label {n} is not binary (0/1); for multiple choice use {{question, choices, answer}}"),
        },
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "1" | "1.0" | "true" | "yes" | "pos" | "positive" | "correct" | "right" => Ok(true),
            "0" | "0.0" | "false" | "no" | "neg" | "negative" | "incorrect" | "wrong" => Ok(false),
            other => bail!("label {other:?} is not binary (true/false, 1/0, yes/no, pos/neg, positive/negative)"),
        },
        other => bail!("label {other} is not binary"),
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn as_index(v: &Value) -> Option<usize> {
    match v {
        Value::Number(n) => n.as_u64().map(|x| x as usize),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn row_id(row: &Row, line: usize) -> String {
    for k in ["id", "idx", "ID", "Id", "PuzzleId"] {
        if let Some(v) = row.get(k) {
            let s = as_text(v);
            if !s.is_empty() {
                return s;
            }
        }
    }
    format!("L{line}")
}

const TEXT_FIELDS: [&str; 6] = ["text", "sentence", "input", "review", "content", "prompt"];
const PASSAGE_FIELDS: [&str; 4] = ["passage", "context", "support", "article"];

/// Loads a data file into binary examples (see the module docs for the formats).
pub fn load_file(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let all = read_rows(path)?;
    if all.is_empty() {
        bail!("{} has no rows", path.display());
    }
    let keep = sample_indices(all.len(), opts.n, opts.seed);
    let rows: Vec<&(usize, Row)> = keep.iter().map(|&i| &all[i]).collect();
    let first = &rows[0].1;
    let has = |k: &str| first.contains_key(k);
    let at = |line: usize| format!("{}:{line}", path.display());
    // Ids must be unique; fall back to line numbers when the file's ids are not.
    let mut ids: Vec<String> = rows.iter().map(|(l, r)| row_id(r, *l)).collect();
    {
        let mut seen = std::collections::HashSet::new();
        if !ids.iter().all(|i| seen.insert(i.clone())) {
            ids = rows.iter().map(|(l, _)| format!("L{l}")).collect();
        }
    }

    if has("chosen") && has("rejected") {
        let mut rng = rand::rngs::StdRng::seed_from_u64(opts.seed ^ 0x0bad_cafe);
        let mut examples = Vec::with_capacity(rows.len());
        for ((line, r), id) in rows.iter().zip(&ids) {
            let chosen = r.get("chosen").map(as_text).ok_or_else(|| anyhow!("{}: no chosen", at(*line)))?;
            let rejected = r.get("rejected").map(as_text).ok_or_else(|| anyhow!("{}: no rejected", at(*line)))?;
            let (prompt, c, rj) = match r.get("prompt") {
                Some(p) => (as_text(p), chosen, rejected),
                None => preference::split_dialogue(&chosen, &rejected),
            };
            let chosen_first = rng.random_bool(0.5);
            let (a, b) = if chosen_first { (&c, &rj) } else { (&rj, &c) };
            // Pairs on one prompt share a split; without a shared prompt, the pair is its own group.
            let group = match normalise(&prompt) {
                p if p.is_empty() => format!("id:{id}"),
                p => format!("p:{p}"),
            };
            examples.push(Example {
                id: id.clone(),
                group,
                text: preference::pair_text(&prompt, a, b),
                label: chosen_first,
                pair: Some(preference::Pair::new(&prompt, a, b)),
            });
        }
        return Ok(Dataset::new(TaskKind::Preference, examples));
    }

    let mc_items = if has("choices") && has("answer") {
        let mut items = Vec::new();
        for ((line, r), id) in rows.iter().zip(&ids) {
            let choices: Vec<String> = r
                .get("choices")
                .and_then(|c| c.as_array())
                .ok_or_else(|| anyhow!("{}: choices is not an array", at(*line)))?
                .iter()
                .map(as_text)
                .collect();
            let answer =
                r.get("answer").and_then(as_index).ok_or_else(|| anyhow!("{}: answer is not an index", at(*line)))?;
            let item = TaskItem {
                id: id.clone(),
                question: r.get("question").map(as_text).unwrap_or_default(),
                choices,
                answer,
                passage: PASSAGE_FIELDS.iter().find_map(|k| r.get(*k)).map(as_text).filter(|s| !s.is_empty()),
                meta: Default::default(),
            };
            item.validate().map_err(|e| anyhow!("{}: {e}", at(*line)))?;
            items.push(item);
        }
        Some(items)
    } else if has("correct_answer") && (has("distractors") || has("distractor1")) {
        let mut items = Vec::new();
        for ((line, r), id) in rows.iter().zip(&ids) {
            let mut choices = vec![r.get("correct_answer").map(as_text).unwrap_or_default()];
            if has("distractors") {
                choices.extend(
                    r.get("distractors")
                        .and_then(|d| d.as_array())
                        .ok_or_else(|| anyhow!("{}: distractors is not an array", at(*line)))?
                        .iter()
                        .map(as_text),
                );
            } else {
                // The AllenAI / Hugging Face form: distractor1, distractor2, distractor3.
                choices.extend((1..).map_while(|k| r.get(&format!("distractor{k}")).map(as_text)));
            }
            let item = TaskItem {
                id: id.clone(),
                question: r.get("question").map(as_text).unwrap_or_default(),
                choices,
                answer: 0,
                passage: PASSAGE_FIELDS.iter().find_map(|k| r.get(*k)).map(as_text).filter(|s| !s.is_empty()),
                meta: Default::default(),
            };
            item.validate().map_err(|e| anyhow!("{}: {e}", at(*line)))?;
            items.push(item);
        }
        Some(items)
    } else if has("answer0") && has("answer1") {
        let label_field = opts.label_field.clone().unwrap_or_else(|| "label".into());
        let mut items = Vec::new();
        for ((line, r), id) in rows.iter().zip(&ids) {
            let choices: Vec<String> = (0..).map_while(|k| r.get(&format!("answer{k}")).map(as_text)).collect();
            let answer = r
                .get(&label_field)
                .and_then(as_index)
                .ok_or_else(|| anyhow!("{}: {label_field} is not an answer index", at(*line)))?;
            let item = TaskItem {
                id: id.clone(),
                question: r.get("question").map(as_text).unwrap_or_default(),
                choices,
                answer,
                passage: PASSAGE_FIELDS.iter().find_map(|k| r.get(*k)).map(as_text).filter(|s| !s.is_empty()),
                meta: Default::default(),
            };
            item.validate().map_err(|e| anyhow!("{}: {e}", at(*line)))?;
            items.push(item);
        }
        Some(items)
    } else {
        None
    };
    if let Some(items) = mc_items {
        let mut ds = from_items(&items, opts.mc, opts.seed);
        ds.kind = TaskKind::MultipleChoice;
        return Ok(ds);
    }

    // Binary classification.
    let label_field = opts.label_field.clone().unwrap_or_else(|| "label".into());
    if !has(&label_field) {
        let keys: Vec<&String> = first.keys().collect();
        bail!(
            "{}: no label field {label_field:?} (fields: {keys:?}); name it with ?label=FIELD, or use chosen/rejected, choices/answer",
            at(rows[0].0)
        );
    }
    type TextOf = Box<dyn Fn(&Row) -> Option<String>>;
    let text_of: TextOf = if let Some(f) = &opts.text_field {
        if !has(f) {
            bail!("{}: no text field {f:?}", at(rows[0].0));
        }
        let f = f.clone();
        Box::new(move |r: &Row| r.get(&f).map(as_text))
    } else if let Some(f) = TEXT_FIELDS.iter().find(|f| has(f)) {
        let f = f.to_string();
        Box::new(move |r: &Row| r.get(&f).map(as_text))
    } else if has("question") {
        let passage = PASSAGE_FIELDS.iter().find(|f| has(f)).map(|s| s.to_string());
        Box::new(move |r: &Row| {
            let q = r.get("question").map(as_text)?;
            Some(match passage.as_ref().and_then(|p| r.get(p)).map(as_text) {
                // Passage first: truncation cuts from the left and keeps the question.
                Some(p) if !p.is_empty() => format!("Passage: {p}\nQuestion: {q}"),
                _ => q,
            })
        })
    } else {
        let keys: Vec<&String> = first.keys().collect();
        bail!("{}: cannot tell which field is the text (fields: {keys:?}); name it with ?text=FIELD", at(rows[0].0));
    };
    let mut examples = Vec::with_capacity(rows.len());
    for ((line, r), id) in rows.iter().zip(&ids) {
        let text = text_of(r).ok_or_else(|| anyhow!("{}: no text", at(*line)))?;
        let v = r.get(&label_field).ok_or_else(|| anyhow!("{}: no {label_field}", at(*line)))?;
        let label = parse_label(v).with_context(|| at(*line))?;
        let group = format!("t:{}", normalise(&text));
        examples.push(Example { id: id.clone(), group, text, label, pair: None });
    }
    Ok(Dataset::new(TaskKind::Binary, examples))
}

const DATA_EXTS: [&str; 6] = ["parquet", "jsonl", "json", "csv", "tsv", "ndjson"];

fn is_data_file(name: &str) -> bool {
    let lower = name.to_lowercase();
    let lower = lower.strip_suffix(".gz").unwrap_or(&lower);
    DATA_EXTS.iter().any(|e| lower.ends_with(&format!(".{e}")))
}

/// The local path of a Hugging Face dataset file, `owner/name[:file]`, through hf-hub:
/// the hub cache first (`$HF_HOME/hub/datasets--owner--name`), then the network unless
/// `HF_HUB_OFFLINE` is set. Without `:file`, the first `.jsonl`/`.json`/`.csv`/`.tsv` of
/// the repository is used (parquet too), preferring names containing `train`.
pub fn hf_dataset_file(rest: &str) -> Result<PathBuf> {
    hf_dataset_file_in(rest, &crate::runtime::hub::hf_cache_dir(), crate::runtime::hub::hf_offline())
}

/// [`hf_dataset_file`] with an explicit hub cache folder and offline flag.
pub fn hf_dataset_file_in(rest: &str, hub_cache: &Path, offline: bool) -> Result<PathBuf> {
    use hf_hub::{Repo, RepoType};
    let hf_cache_dir = || hub_cache.to_path_buf();
    let hf_offline = || offline;
    let (repo, file) = match rest.split_once(':') {
        Some((r, f)) => (r.to_string(), Some(f.to_string())),
        None => (rest.to_string(), None),
    };
    if repo.split('/').count() != 2 {
        bail!("hf dataset spec {rest:?} must be hf:owner/name[:file]");
    }
    let cache = hf_hub::Cache::new(hf_cache_dir());
    let crepo = cache.repo(Repo::new(repo.clone(), RepoType::Dataset));
    let api = || {
        hf_hub::api::sync::ApiBuilder::new()
            .with_progress(false)
            .with_cache_dir(hf_cache_dir())
            .build()
            .context("cannot set up the Hugging Face client")
    };
    let pick = |names: Vec<String>| -> Option<String> {
        let mut data: Vec<String> = names.into_iter().filter(|n| is_data_file(n)).collect();
        data.sort_by_key(|n| (!n.to_lowercase().contains("train"), n.clone()));
        data.into_iter().next()
    };
    let file = match file {
        Some(f) => f,
        None => {
            // Offline or online, try the cached snapshot first.
            let snap_root = hf_cache_dir().join(format!("datasets--{}", repo.replace('/', "--"))).join("snapshots");
            let cached_names: Vec<String> = std::fs::read_dir(&snap_root)
                .into_iter()
                .flatten()
                .flatten()
                .flat_map(|d| walk_files(&d.path()))
                .collect();
            match pick(cached_names) {
                Some(f) => f,
                None if hf_offline() => bail!(
                    "dataset {repo} is not in the Hugging Face cache ({}) and HF_HUB_OFFLINE is set; download it or name a local file",
                    hf_cache_dir().display()
                ),
                None => {
                    let info = api()?
                        .repo(Repo::new(repo.clone(), RepoType::Dataset))
                        .info()
                        .with_context(|| format!("cannot list Hugging Face dataset {repo}"))?;
                    pick(info.siblings.into_iter().map(|s| s.rfilename).collect())
                        .ok_or_else(|| anyhow!("dataset {repo} has no .parquet/.jsonl/.json/.csv/.tsv file; name one with hf:{repo}:FILE"))?
                }
            }
        }
    };
    if let Some(p) = crepo.get(&file) {
        return Ok(p);
    }
    if hf_offline() {
        bail!(
            "{repo}/{file} is not in the Hugging Face cache ({}) and HF_HUB_OFFLINE is set",
            hf_cache_dir().display()
        );
    }
    api()?
        .repo(Repo::new(repo.clone(), RepoType::Dataset))
        .get(&file)
        .with_context(|| format!("cannot download {file} from Hugging Face dataset {repo}"))
}

/// Relative paths of the files under a snapshot folder.
fn walk_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::File::create(&p).unwrap().write_all(body.as_bytes()).unwrap();
        p
    }

    #[test]
    fn labels_parse_in_every_common_spelling() {
        for (v, want) in [
            (serde_json::json!(true), true),
            (serde_json::json!(0), false),
            (serde_json::json!("True"), true),
            (serde_json::json!("neg"), false),
            (serde_json::json!("positive"), true),
            (serde_json::json!("1"), true),
        ] {
            assert_eq!(parse_label(&v).unwrap(), want, "{v}");
        }
        assert!(parse_label(&serde_json::json!(2)).is_err());
        assert!(parse_label(&serde_json::json!("maybe")).is_err());
    }

    #[test]
    fn jsonl_csv_and_tsv_classification() {
        let d = tempfile::tempdir().unwrap();
        let j = write(
            d.path(),
            "a.jsonl",
            "{\"text\": \"good \", \"label\": 1}\n\n{\"text\": \"bad\", \"label\": \"false\"}\n",
        );
        let ds = load_file(&j, &LoadOptions::default()).unwrap();
        assert_eq!(ds.kind, TaskKind::Binary);
        assert_eq!(ds.examples[0].text, "good");
        assert!(ds.examples[0].label && !ds.examples[1].label);
        // quoted multi-line TSV field, as in the Amazon files
        let t = write(d.path(), "b.tsv", "sentence\tlabel\r\n\"Title\n\tbody \"\"quoted\"\"\"\t1\r\nplain\t0\r\n");
        let ds = load_file(&t, &LoadOptions::default()).unwrap();
        assert_eq!(ds.examples.len(), 2);
        assert_eq!(ds.examples[0].text, "Title\n\tbody \"quoted\"");
        // explicit fields
        let c = write(d.path(), "c.csv", "verdict,body\nyes,hello\nno,bye\n");
        let opts =
            LoadOptions { text_field: Some("body".into()), label_field: Some("verdict".into()), ..Default::default() };
        let ds = load_file(&c, &opts).unwrap();
        assert_eq!(ds.examples[1].text, "bye");
        assert!(!ds.examples[1].label);
        // a missing label column is a clear error naming the file
        let err = load_file(&c, &LoadOptions::default()).unwrap_err().to_string();
        assert!(err.contains("c.csv") && err.contains("label"), "{err}");
    }

    #[test]
    fn question_passage_rows_and_preferences() {
        let d = tempfile::tempdir().unwrap();
        let b = write(
            d.path(),
            "boolq.jsonl",
            "{\"question\": \"is it\", \"passage\": \"It is.\", \"idx\": 0, \"label\": \"true\"}\n",
        );
        let ds = load_file(&b, &LoadOptions::default()).unwrap();
        assert_eq!(ds.examples[0].text, "Passage: It is.\nQuestion: is it");
        assert_eq!(ds.examples[0].id, "0");
        let p = write(
            d.path(),
            "hh.jsonl",
            "{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant: hello!\", \"rejected\": \"\\n\\nHuman: hi\\n\\nAssistant: go away\"}\n",
        );
        let ds = load_file(&p, &LoadOptions::default()).unwrap();
        assert_eq!(ds.kind, TaskKind::Preference);
        let e = &ds.examples[0];
        assert!(e.text.contains("Human: hi"));
        let (a_pos, b_pos) = (e.text.find("Response A:").unwrap(), e.text.find("Response B:").unwrap());
        let hello = e.text.find("hello!").unwrap();
        // label 1 ⇔ the chosen response is A
        assert_eq!(e.label, hello > a_pos && hello < b_pos);
    }

    #[test]
    fn multiple_choice_files() {
        let d = tempfile::tempdir().unwrap();
        let s = write(
            d.path(),
            "sciq.jsonl",
            "{\"id\": 7, \"question\": \"Q?\", \"correct_answer\": \"right\", \"distractors\": [\"a\", \"b\", \"c\"], \"support\": \"\"}\n",
        );
        let ds = load_file(&s, &LoadOptions::default()).unwrap();
        assert_eq!(ds.kind, TaskKind::MultipleChoice);
        assert_eq!(ds.examples.len(), 2);
        assert_eq!(ds.examples[0].text, "Q: Q?\nA: right");
        assert!(ds.examples[0].label && !ds.examples[1].label);
        assert_eq!(ds.examples[0].group, "q:q");
        assert_eq!(ds.examples[0].id, "7/0");
        // SciQ in its AllenAI / Hugging Face form
        let h = write(
            d.path(),
            "sciq_hf.jsonl",
            "{\"question\": \"Q2?\", \"distractor3\": \"z\", \"distractor1\": \"x\", \"distractor2\": \"y\", \"correct_answer\": \"ok\", \"support\": \"S.\"}\n",
        );
        let ds = load_file(&h, &LoadOptions { mc: super::super::McMode::All, ..Default::default() }).unwrap();
        assert_eq!(ds.examples.len(), 4);
        assert_eq!(ds.examples[0].text, "S.\n\nQ: Q2?\nA: ok");
        assert!(ds.examples[0].label && ds.examples[1..].iter().all(|e| !e.label));
        assert!(ds.examples[3].text.ends_with("A: z"));
        let c =
            write(d.path(), "cosmos.csv", "id,context,question,answer0,answer1,answer2,label\nx,ctx,why?,p,q,r,2\n");
        let ds = load_file(&c, &LoadOptions { mc: super::super::McMode::All, ..Default::default() }).unwrap();
        assert_eq!(ds.examples.len(), 3);
        assert_eq!(ds.examples[2].text, "ctx\n\nQ: why?\nA: r");
        assert!(ds.examples[2].label);
        // Cosmos QA's "None of the above choices ." names the choices it rejects
        let c = write(
            d.path(),
            "cosmos2.csv",
            "id,context,question,answer0,answer1,answer2,label\nx,ctx,why?,p,q,None of the above choices .,2\n",
        );
        let ds = load_file(&c, &LoadOptions { mc: super::super::McMode::All, ..Default::default() }).unwrap();
        assert_eq!(ds.examples[2].text, "ctx\n\nQ: why?\nA: None of these: p; q");
    }

    /// A parquet file as Hugging Face writes them (snappy pages): a text column, a label
    /// column and a list column, written with the parquet crate's own writer.
    fn write_parquet(path: &Path, texts: &[&str], labels: &[bool]) {
        use parquet::basic::Compression;
        use parquet::data_type::{BoolType, ByteArray, ByteArrayType};
        use parquet::file::properties::WriterProperties;
        use parquet::file::writer::SerializedFileWriter;
        use parquet::schema::parser::parse_message_type;
        use std::sync::Arc;
        let schema = Arc::new(
            parse_message_type("message m { REQUIRED BYTE_ARRAY sentence (UTF8); REQUIRED BOOLEAN label; }").unwrap(),
        );
        let props = Arc::new(WriterProperties::builder().set_compression(Compression::SNAPPY).build());
        let mut w = SerializedFileWriter::new(std::fs::File::create(path).unwrap(), schema, props).unwrap();
        let mut rg = w.next_row_group().unwrap();
        let mut col = rg.next_column().unwrap().unwrap();
        let vals: Vec<ByteArray> = texts.iter().map(|t| ByteArray::from(*t)).collect();
        col.typed::<ByteArrayType>().write_batch(&vals, None, None).unwrap();
        col.close().unwrap();
        let mut col = rg.next_column().unwrap().unwrap();
        col.typed::<BoolType>().write_batch(labels, None, None).unwrap();
        col.close().unwrap();
        rg.close().unwrap();
        w.close().unwrap();
    }

    #[test]
    fn parquet_files_load_like_jsonl() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("train-00000-of-00001.parquet");
        write_parquet(&p, &["a fine film", "a dull film", "great acting"], &[true, false, true]);
        let rows = read_rows(&p).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].0, 2);
        assert_eq!(rows[1].1["sentence"], Value::String("a dull film".into()));
        assert_eq!(rows[1].1["label"], Value::Bool(false));
        let spec = format!("{}?text=sentence&label=label", p.display());
        let ds = super::super::load(&spec, &LoadOptions::default()).unwrap();
        assert_eq!(ds.examples.len(), 3);
        assert_eq!(ds.examples.iter().filter(|e| e.label).count(), 2);
        // a parquet dataset file is found in a Hugging Face snapshot
        assert!(is_data_file("data/train-00000-of-00001.parquet"));
        // not parquet: one clear error naming the file
        let bad = write(d.path(), "x.parquet", "not parquet");
        let err = format!("{:#}", read_rows(&bad).unwrap_err());
        assert!(err.contains("x.parquet") && err.contains("parquet"), "{err}");
    }

    #[test]
    fn gzipped_jsonl_and_csv() {
        use flate2::write::GzEncoder;
        let d = tempfile::tempdir().unwrap();
        for (name, body) in [
            ("a.jsonl.gz", "{\"text\": \"good\", \"label\": 1}\n{\"text\": \"bad\", \"label\": 0}\n"),
            ("b.csv.gz", "text,label\ngood,1\nbad,0\n"),
        ] {
            let p = d.path().join(name);
            let mut e = GzEncoder::new(std::fs::File::create(&p).unwrap(), flate2::Compression::default());
            e.write_all(body.as_bytes()).unwrap();
            e.finish().unwrap();
            let ds = load_file(&p, &LoadOptions::default()).unwrap();
            assert_eq!(ds.examples.len(), 2, "{name}");
            assert_eq!(ds.examples[0].text, "good");
            assert!(ds.examples[0].label && !ds.examples[1].label);
        }
        // not gzip: a clear error naming the file
        let p = write(d.path(), "c.jsonl.gz", "plain");
        let err = load_file(&p, &LoadOptions::default()).unwrap_err().to_string();
        assert!(err.contains("c.jsonl.gz"), "{err}");
    }

    #[test]
    fn hf_offline_without_cache_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        let hub = d.path().join("hub");
        let err = hf_dataset_file_in("someone/nothing:train.jsonl", &hub, true).unwrap_err().to_string();
        assert!(err.contains("HF_HUB_OFFLINE"), "{err}");
        // a cached file is found without the network
        let snap = d.path().join("hub/datasets--someone--cached/snapshots/abc");
        std::fs::create_dir_all(snap.join("data")).unwrap();
        std::fs::write(snap.join("data/train.jsonl"), "{\"text\": \"x\", \"label\": 0}\n").unwrap();
        std::fs::create_dir_all(d.path().join("hub/datasets--someone--cached/refs")).unwrap();
        std::fs::write(d.path().join("hub/datasets--someone--cached/refs/main"), "abc").unwrap();
        let p = hf_dataset_file_in("someone/cached", &hub, true).unwrap();
        assert!(p.ends_with("data/train.jsonl"), "{}", p.display());
        // and named explicitly
        let p = hf_dataset_file_in("someone/cached:data/train.jsonl", &hub, true).unwrap();
        assert!(p.ends_with("data/train.jsonl"), "{}", p.display());
    }
}
