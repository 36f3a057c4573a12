//! Property tests over every parser of untrusted input (stable Rust, in CI): the GGUF header
//! and metadata reader, the GGUF and `tokenizer.json` tokenizers (real vocabularies from the
//! model cache), the session loader, the task loaders (JSONL, JSON, CSV, TSV), theme and keys
//! TOML, and experiment TOML. Each property is one of `w2sd::fuzz`'s entry points, which the
//! cargo-fuzz targets in `fuzz/` call too. 0 panics is the property; accepted input must also
//! round-trip where the format allows.
//!
//! Case counts (`CASES_*`) keep the whole file under a minute on a 2-core machine; the seed is
//! fixed so CI runs the same cases every time (a failure prints its minimal input).

mod common;

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use w2sd::fuzz;
use w2sd::runtime::tokenizer::{GgufTokenizer, Tokenizer};

const CASES_FAST: u32 = 1024;
const CASES_FILE: u32 = 384;
const CASES_TOKENIZER: u32 = 256;

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x5eed_2026),
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    }
}

// ---------- GGUF ----------

/// A small but complete GGUF (tokenizer metadata of `model` kind and one tensor), built with
/// candle's writer: the base that mutations start from.
fn small_gguf(model: &str) -> Vec<u8> {
    use candle_core::quantized::{gguf_file::Value, GgmlDType, QTensor};
    let t = QTensor::quantize(
        &candle_core::Tensor::zeros((4, 32), candle_core::DType::F32, &candle_core::Device::Cpu).unwrap(),
        GgmlDType::F32,
    )
    .unwrap();
    let tokens: Vec<Value> = if model == "gpt2" {
        let mut v: Vec<Value> = (0u8..=255).map(|b| Value::String(gpt2_byte(b).to_string())).collect();
        v.extend(["Ġt", "he", "Ġthe"].iter().map(|s| Value::String(s.to_string())));
        v
    } else {
        let mut v: Vec<Value> = ["<unk>", "<s>", "</s>"].iter().map(|s| Value::String(s.to_string())).collect();
        v.extend((0u8..=255).map(|b| Value::String(format!("<0x{b:02X}>"))));
        v.extend(["▁the", "▁a", "b"].iter().map(|s| Value::String(s.to_string())));
        v
    };
    let n = tokens.len();
    let types: Vec<Value> =
        (0..n).map(|i| Value::I32(if model == "llama" && (3..259).contains(&i) { 6 } else { 1 })).collect();
    let mut md: Vec<(&str, Value)> = vec![
        ("general.architecture", Value::String("llama".into())),
        ("tokenizer.ggml.model", Value::String(model.into())),
        ("tokenizer.ggml.tokens", Value::Array(tokens)),
        ("tokenizer.ggml.token_type", Value::Array(types)),
        ("tokenizer.ggml.scores", Value::Array((0..n).map(|i| Value::F32(-(i as f32))).collect())),
        ("tokenizer.ggml.bos_token_id", Value::U32(1)),
    ];
    if model == "gpt2" {
        md.push((
            "tokenizer.ggml.merges",
            Value::Array(["Ġ t", "h e", "Ġt he"].iter().map(|s| Value::String(s.to_string())).collect()),
        ));
        md.push(("tokenizer.ggml.pre", Value::String("qwen2".into())));
    }
    let refs: Vec<(&str, &Value)> = md.iter().map(|(k, v)| (*k, v)).collect();
    let mut buf = std::io::Cursor::new(Vec::new());
    candle_core::quantized::gguf_file::write(&mut buf, &refs, &[("token_embd.weight", &t)]).unwrap();
    buf.into_inner()
}

/// GPT-2's byte-to-unicode map.
fn gpt2_byte(b: u8) -> char {
    let printable = (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
    if printable {
        return b as char;
    }
    let mut n = 0u32;
    for x in 0..b {
        let p = (b'!'..=b'~').contains(&x) || (0xA1..=0xAC).contains(&x) || (0xAE..=0xFF).contains(&x);
        if !p {
            n += 1;
        }
    }
    char::from_u32(256 + n).unwrap()
}

fn bases() -> &'static [Vec<u8>; 2] {
    static B: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    B.get_or_init(|| [small_gguf("gpt2"), small_gguf("llama")])
}

/// Bytes edited at random places, then maybe cut short.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        0..2usize,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12),
        any::<Option<prop::sample::Index>>(),
    )
        .prop_map(|(which, edits, cut)| {
            let mut b = bases()[which].clone();
            for (i, v) in edits {
                let k = i.index(b.len());
                b[k] = v;
            }
            if let Some(c) = cut {
                b.truncate(c.index(b.len() + 1));
            }
            b
        })
}

#[test]
fn the_unmutated_bases_load() {
    for b in bases() {
        let mut r = std::io::Cursor::new(b.as_slice());
        w2sd::runtime::model::read_gguf_header(&mut r, b.len() as u64).expect("the base GGUF is valid");
    }
}

proptest! {
    #![proptest_config(config(CASES_FAST))]

    #[test]
    fn gguf_mutated_headers(bytes in mutated()) {
        fuzz::gguf_header(&bytes);
    }

    #[test]
    fn gguf_arbitrary_bytes(tail in prop::collection::vec(any::<u8>(), 0..256), version in 0u32..5) {
        // With the magic and a version in front, the reader gets past the first check.
        let mut b = b"GGUF".to_vec();
        b.extend_from_slice(&version.to_le_bytes());
        b.extend_from_slice(&tail);
        fuzz::gguf_header(&b);
        fuzz::gguf_header(&tail);
    }
}

// ---------- tokenizers (real vocabularies) ----------

fn gguf_tok(name: &str) -> GgufTokenizer {
    let path = common::model_path(name);
    let mut f = std::fs::File::open(&path).unwrap();
    let len = f.metadata().unwrap().len();
    w2sd::runtime::model::read_gguf_header(&mut f, len).unwrap_or_else(|e| panic!("{}: {e:#}", path.display())).1
}

fn qwen() -> &'static GgufTokenizer {
    static T: OnceLock<GgufTokenizer> = OnceLock::new();
    T.get_or_init(|| gguf_tok("qwen2.5-coder-0.5b-instruct"))
}

fn gemma() -> &'static GgufTokenizer {
    static T: OnceLock<GgufTokenizer> = OnceLock::new();
    T.get_or_init(|| gguf_tok("gemma-3-270m"))
}

fn minilm() -> &'static Tokenizer {
    static T: OnceLock<Tokenizer> = OnceLock::new();
    T.get_or_init(|| {
        Tokenizer::from_json_file(&common::model_path("minilm-l6").parent().unwrap().join("tokenizer.json")).unwrap()
    })
}

/// Text that stresses tokenizers: any Unicode, plus special-token look-alikes, whitespace
/// runs, digits and combining marks.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(
            prop_oneof![
                Just("<|im_end|>".to_string()),
                Just("<|endoftext|>".to_string()),
                Just("<start_of_turn>".to_string()),
                Just("<0xFF>".to_string()),
                Just("\u{0301}\u{200d}\u{fe0f}".to_string()),
                Just("   \t\n\r\n".to_string()),
                Just("1234567890".to_string()),
                Just("ĠĊ▁".to_string()),
                "\\PC{0,8}",
            ],
            0..12
        )
        .prop_map(|v| v.concat()),
    ]
}

fn ids() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(prop_oneof![0u32..300_000, any::<u32>()], 0..24)
}

proptest! {
    #![proptest_config(config(CASES_TOKENIZER))]

    #[test]
    fn qwen_byte_level_bpe(text in hostile_text(), ids in ids()) {
        fuzz::gguf_tokenizer(qwen(), &text, &ids, true);
    }

    #[test]
    fn gemma_sentencepiece(text in hostile_text(), ids in ids()) {
        fuzz::gguf_tokenizer(gemma(), &text, &ids, false);
    }

    #[test]
    fn minilm_tokenizer_json(text in hostile_text(), ids in ids()) {
        fuzz::json_tokenizer(minilm(), &text, &ids);
    }

    #[test]
    fn tokenizers_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        // Bytes that are not UTF-8 reach a tokenizer as lossy text.
        let text = String::from_utf8_lossy(&bytes);
        fuzz::gguf_tokenizer(qwen(), &text, &[], true);
        fuzz::gguf_tokenizer(gemma(), &text, &[], false);
        fuzz::json_tokenizer(minilm(), &text, &[]);
    }
}

// ---------- sessions ----------

fn repo_session() -> &'static str {
    static S: OnceLock<String> = OnceLock::new();
    S.get_or_init(|| {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/reading-debate-n20.json"),
        )
        .unwrap()
    })
}

/// Arbitrary JSON values, to splice into a real session.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A real session with one value somewhere replaced by an arbitrary one.
fn edited_session() -> impl Strategy<Value = String> {
    (any::<prop::sample::Index>(), json_value()).prop_map(|(at, v)| {
        let mut s: serde_json::Value = serde_json::from_str(repo_session()).unwrap();
        let mut slots: Vec<String> = Vec::new();
        collect_pointers(&s, String::new(), &mut slots);
        let p = &slots[at.index(slots.len())];
        if let Some(x) = s.pointer_mut(p) {
            *x = v;
        }
        serde_json::to_string(&s).unwrap()
    })
}

fn collect_pointers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                collect_pointers(x, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                collect_pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(config(CASES_FILE))]

    #[test]
    fn session_with_a_value_replaced(text in edited_session()) {
        fuzz::session(&text);
    }

    #[test]
    fn session_cut_or_spliced(at in any::<prop::sample::Index>(), junk in "\\PC{0,6}", cut in any::<bool>()) {
        let s = repo_session();
        let mut k = at.index(s.len());
        while !s.is_char_boundary(k) { k -= 1; }
        let text = if cut { s[..k].to_string() } else { format!("{}{junk}{}", &s[..k], &s[k..]) };
        fuzz::session(&text);
    }

    #[test]
    fn session_arbitrary_text(text in "\\PC{0,64}", version in prop_oneof![Just(None), (0u64..4).prop_map(Some)]) {
        fuzz::session(&text);
        if let Some(v) = version {
            fuzz::session(&format!("{{\"version\": {v}, {text}}}"));
        }
    }
}

// ---------- task and training-data files ----------

fn task_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(r#"{"id":"a","question":"q?","choices":["x","y"],"answer":0}"#.to_string()),
        Just(r#"{"id":7,"question":"q?","choices":["x","y","z"],"answer":2,"passage":"p","label":[1]}"#.to_string()),
        json_value().prop_map(|v| v.to_string()),
        (json_value(), json_value(), 0i64..5).prop_map(|(q, c, a)| {
            serde_json::json!({"id": "b", "question": q, "choices": c, "answer": a}).to_string()
        }),
        "\\PC{0,24}",
    ]
}

fn csv_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1".to_string()),
        Just("0".to_string()),
        Just("positive".to_string()),
        Just("\"quoted, with \"\" and\nnewline\"".to_string()),
        Just("\"unterminated".to_string()),
        "[a-z ]{0,10}",
        "\\PC{0,6}",
    ]
}

fn table(sep: &'static str) -> impl Strategy<Value = String> {
    let header = prop_oneof![
        Just(vec!["text".to_string(), "label".to_string()]),
        Just(vec!["question".to_string(), "passage".to_string(), "label".to_string()]),
        Just(vec!["chosen".to_string(), "rejected".to_string()]),
        prop::collection::vec("[a-z]{0,6}", 0..4),
    ];
    (header, prop::collection::vec(prop::collection::vec(csv_cell(), 0..4), 0..8)).prop_map(move |(h, rows)| {
        let mut s = h.join(sep);
        for r in rows {
            s.push('\n');
            s.push_str(&r.join(sep));
        }
        s
    })
}

proptest! {
    #![proptest_config(config(CASES_FILE))]

    #[test]
    fn task_jsonl_files(lines in prop::collection::vec(task_line(), 0..6)) {
        fuzz::task_jsonl(lines.join("\n").as_bytes());
    }

    #[test]
    fn task_jsonl_bytes(bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        fuzz::task_jsonl(&bytes);
    }

    #[test]
    fn w2s_jsonl_and_json(lines in prop::collection::vec(json_value(), 0..6)) {
        let jsonl: Vec<String> = lines.iter().map(|v| v.to_string()).collect();
        fuzz::w2s_data(jsonl.join("\n").as_bytes(), "jsonl");
        fuzz::w2s_data(serde_json::Value::Array(lines).to_string().as_bytes(), "json");
    }

    #[test]
    fn w2s_csv(text in table(",")) {
        fuzz::w2s_data(text.as_bytes(), "csv");
    }

    #[test]
    fn w2s_tsv(text in table("\t")) {
        fuzz::w2s_data(text.as_bytes(), "tsv");
    }

    #[test]
    fn w2s_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..96), ext in prop::sample::select(vec!["jsonl", "json", "csv", "tsv"])) {
        fuzz::w2s_data(&bytes, ext);
    }
}

// ---------- TOML: themes, keys, experiments ----------

fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"#1e1e2e\"".to_string()),
        Just("\"dark_gray\"".to_string()),
        Just("\"#12\"".to_string()),
        Just("\"ctrl-c\"".to_string()),
        Just("[\"j\", \"down\", \"shift-tab\"]".to_string()),
        Just("\"ctrl-\"".to_string()),
        Just("\"alt-shift-F13\"".to_string()),
        Just("[1, 2]".to_string()),
        Just("{ a = 1 }".to_string()),
        any::<i64>().prop_map(|x| x.to_string()),
        any::<f64>().prop_map(|x| format!("{x:?}")),
        Just("nan".to_string()),
        Just("-inf".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        "\\PC{0,8}".prop_map(|s| format!("{s:?}")),
    ]
}

fn toml_doc(sections: Vec<&'static str>, keys: Vec<&'static str>) -> impl Strategy<Value = String> {
    let key = prop_oneof![prop::sample::select(keys), Just("bogus")];
    let sections = if sections.is_empty() { vec!["nope"] } else { sections };
    let section = prop_oneof![prop::sample::select(sections), Just("nope")];
    let top = prop::collection::vec((key.clone(), toml_value()), 0..5);
    let secs = prop::collection::vec((section, prop::collection::vec((key, toml_value()), 0..5)), 0..4);
    (top, secs).prop_map(|(top, secs)| {
        let mut s = String::new();
        for (k, v) in top {
            s.push_str(&format!("{k} = {v}\n"));
        }
        for (name, kvs) in secs {
            s.push_str(&format!("[{name}]\n"));
            for (k, v) in kvs {
                s.push_str(&format!("{k} = {v}\n"));
            }
        }
        s
    })
}

/// The keys a theme file may set: the theme's own colour names, and `extends`.
fn theme_keys() -> Vec<&'static str> {
    std::iter::once("extends").chain(w2sd::tui::theme::KEYS.iter().copied()).collect()
}

const KEY_ACTIONS: &[&str] =
    &["quit", "help", "up", "down", "open", "back", "confidence_1", "undo", "next_screen", "run"];
const EXP_KEYS: &[&str] = &[
    "ladder",
    "losses",
    "bootstrap_loss",
    "seed",
    "spec",
    "n",
    "label_field",
    "text_field",
    "mc",
    "test",
    "val",
    "balance",
    "pool",
    "max_tokens",
    "bow_dim",
    "kind",
    "hidden",
    "epochs",
    "batch_size",
    "lr",
    "aux_coef",
    "level",
    "ece_bins",
    "resamples",
];

proptest! {
    #![proptest_config(config(CASES_FILE))]

    #[test]
    fn theme_files(text in toml_doc(vec![], theme_keys())) {
        fuzz::theme_toml(&text);
    }

    #[test]
    fn keys_files(text in toml_doc(vec!["global", "debate", "review", "train", "models"], KEY_ACTIONS.to_vec())) {
        fuzz::keys_toml(&text);
    }

    #[test]
    fn experiment_files(text in toml_doc(vec!["task", "split", "features", "head", "loss", "metrics"], EXP_KEYS.to_vec())) {
        fuzz::experiment_toml(&text);
        // A valid config with one field changed to an arbitrary value.
        fuzz::experiment_toml(&format!("[task]\nspec = \"builtin:sentiment\"\n{text}"));
    }

    #[test]
    fn toml_arbitrary_text(text in "\\PC{0,48}") {
        fuzz::theme_toml(&text);
        fuzz::keys_toml(&text);
        fuzz::experiment_toml(&text);
    }
}
