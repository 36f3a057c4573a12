//! Entry points for the property tests (`tests/properties.rs`, stable, in CI) and the
//! cargo-fuzz targets (`fuzz/`, nightly): each takes arbitrary input, runs one parser of
//! untrusted data the way w2sd runs it, and checks what must hold whatever the input.
//!
//! A parser may reject its input (an `Err` is a pass); it must never panic, and what it
//! accepts must survive a round trip where the format has one. A violated property panics
//! with the reason, which is what both harnesses catch.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use crate::runtime::tokenizer::{GgufTokenizer, Tokenizer};

/// The GGUF header and metadata reader ([`crate::runtime::model::read_gguf_header`]:
/// candle's reader plus w2sd's checks). When it accepts the bytes, the tokenizer it built
/// must encode and decode a text without panicking.
pub fn gguf_header(bytes: &[u8]) {
    let mut r = Cursor::new(bytes);
    if let Ok((content, tok)) = crate::runtime::model::read_gguf_header(&mut r, bytes.len() as u64) {
        assert!(content.tensor_data_offset <= bytes.len() as u64 || content.tensor_infos.is_empty());
        let ids = tok.encode("Hello, wörld! 123", true);
        let _ = tok.decode(&ids);
    }
}

/// A GGUF tokenizer on arbitrary text and arbitrary ids: encoding and decoding never panic,
/// every id it emits is in the vocabulary, and (byte-level BPE) the tokens' bytes are the text's.
pub fn gguf_tokenizer(tok: &GgufTokenizer, text: &str, ids: &[u32], byte_level: bool) {
    for add_special in [false, true] {
        let enc = tok.encode(text, add_special);
        assert!(enc.iter().all(|&i| (i as usize) < tok.vocab_size()), "an id out of the vocabulary for {text:?}");
        if !add_special && byte_level {
            // Byte-level BPE loses nothing: the tokens' bytes (special tokens shown, since a
            // special token's text in the input becomes that token) are the text's bytes.
            let bytes: Vec<u8> = enc.iter().flat_map(|&i| tok.token_bytes(i, true)).collect();
            assert_eq!(String::from_utf8_lossy(&bytes), text, "byte-level BPE must round-trip");
        }
    }
    let _ = tok.decode(ids);
    for &i in ids {
        let _ = tok.token_bytes(i, true);
        let _ = tok.token_text(i);
    }
}

/// A `tokenizer.json` tokenizer (Hugging Face `tokenizers`) on arbitrary text and ids.
pub fn json_tokenizer(tok: &Tokenizer, text: &str, ids: &[u32]) {
    let _ = tok.encode(text, true);
    let _ = tok.encode(text, false);
    let _ = tok.decode(ids);
    let _ = tok.token_id(text);
}

/// The session loader: any text either fails with a typed error naming the file or gives a
/// session whose scores compute and which saves and loads back to the same JSON.
pub fn session(text: &str) {
    let path = Path::new("fuzz-session.json");
    if let Ok(s) = crate::session::store::parse(path, text) {
        let _ = crate::debate::metrics::session_scores(&s, None);
        let _ = crate::debate::metrics::judge_agreement(&s);
        let json = serde_json::to_string(&s).expect("a loaded session serializes");
        let back = crate::session::store::parse(path, &json).expect("a saved session loads");
        assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(&s).unwrap());
    } else if let Err(e) = crate::session::store::parse(path, text) {
        assert!(e.to_string().contains("fuzz-session.json"), "the error names the file: {e}");
    }
}

thread_local! {
    static SCRATCH: tempfile::TempDir = tempfile::tempdir().expect("a scratch folder");
}

/// Writes `bytes` to `NAME` in a per-thread scratch folder and gives its path.
fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    SCRATCH.with(|d| {
        let p = d.path().join(name);
        std::fs::write(&p, bytes).expect("write the scratch file");
        p
    })
}

/// The debate task loader (JSONL): a file either loads (every item valid: two or more
/// choices, the answer among them, unique ids) or fails naming the file.
pub fn task_jsonl(bytes: &[u8]) {
    let p = scratch_file("tasks.jsonl", bytes);
    match crate::tasks::load(p.to_str().unwrap(), Some(5), 1) {
        Ok(items) => {
            assert!(!items.is_empty());
            for it in &items {
                assert!(it.choices.len() >= 2 && it.answer < it.choices.len(), "{it:?}");
            }
        }
        Err(e) => assert!(e.to_string().contains("tasks.jsonl"), "the error names the file: {e}"),
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        for line in text.lines() {
            let _ = crate::tasks::jsonl::parse_line(line);
        }
    }
}

/// The training-data loaders (JSONL, JSON, CSV, TSV: [`crate::w2s::data::files::read_rows`],
/// then format detection and examples in [`crate::w2s::data::load`]). `ext` picks the format.
pub fn w2s_data(bytes: &[u8], ext: &str) {
    let p = scratch_file(&format!("data.{ext}"), bytes);
    let _ = crate::w2s::data::files::read_rows(&p);
    let opts = crate::w2s::data::LoadOptions { n: Some(20), seed: 1, ..Default::default() };
    if let Ok(ds) = crate::w2s::data::load(p.to_str().unwrap(), &opts) {
        let _ = ds.examples.len();
    }
}

/// A user theme file (`<config>/themes/NAME.toml`): a bad one becomes a warning, never a panic.
pub fn theme_toml(text: &str) {
    SCRATCH.with(|d| {
        let cfg = d.path().join("config");
        std::fs::create_dir_all(cfg.join("themes")).unwrap();
        std::fs::write(cfg.join("themes").join("user.toml"), text).unwrap();
        let set = crate::tui::theme::ThemeSet::load(&cfg);
        assert!(set.get("dark").is_some(), "the built-ins stay");
    });
}

/// `keys.toml`: applied on top of the default keymap, or rejected with a message.
pub fn keys_toml(text: &str) {
    let mut k = crate::tui::keymap::Keymap::default();
    if let Err(e) = k.apply_toml(text, "keys.toml") {
        assert!(e.to_string().contains("keys.toml"), "the error names the file: {e}");
    }
    for s in crate::tui::keymap::Scope::ALL {
        let _ = k.help_rows(s);
    }
}

/// An experiment TOML: rejected, or a valid config that writes back to TOML which loads to
/// the same config (the run folder's `experiment.toml` and its name depend on that).
pub fn experiment_toml(text: &str) {
    if let Ok(c) = crate::w2s::config::ExperimentConfig::from_toml(text) {
        let t = c.to_toml().expect("a valid config writes");
        let back = crate::w2s::config::ExperimentConfig::from_toml(&t).expect("a written config loads");
        assert_eq!(back.to_toml().unwrap(), t);
        assert_eq!(back.run_name(), c.run_name());
    }
}
