//! The GGUF tokenizers (Qwen byte-level BPE, Gemma SentencePiece) and a `tokenizer.json`
//! (MiniLM) on arbitrary bytes: the first byte picks the tokenizer, the rest is the text (lossy
//! UTF-8) and, read as little-endian u32s, token ids to decode. The vocabularies are the real
//! ones from the model cache (`w2sd models pull default` first).
#![no_main]

use std::sync::OnceLock;
use w2sd::runtime::tokenizer::{GgufTokenizer, Tokenizer};

fn model_file(name: &str) -> std::path::PathBuf {
    let dir = w2sd::paths::models_dir().join(name);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} is missing ({e}): run `w2sd models pull {name}`", dir.display()))
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "gguf"))
        .unwrap_or(dir)
}

fn gguf(name: &str) -> GgufTokenizer {
    let p = model_file(name);
    let mut f = std::fs::File::open(&p).unwrap();
    let len = f.metadata().unwrap().len();
    w2sd::runtime::model::read_gguf_header(&mut f, len).unwrap().1
}

static QWEN: OnceLock<GgufTokenizer> = OnceLock::new();
static GEMMA: OnceLock<GgufTokenizer> = OnceLock::new();
static MINILM: OnceLock<Tokenizer> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let ids: Vec<u32> = rest.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    match which % 3 {
        0 => w2sd::fuzz::gguf_tokenizer(QWEN.get_or_init(|| gguf("qwen2.5-coder-0.5b-instruct")), &text, &ids, true),
        1 => w2sd::fuzz::gguf_tokenizer(GEMMA.get_or_init(|| gguf("gemma-3-270m")), &text, &ids, false),
        _ => w2sd::fuzz::json_tokenizer(
            MINILM.get_or_init(|| {
                Tokenizer::from_json_file(&w2sd::paths::models_dir().join("minilm-l6").join("tokenizer.json")).unwrap()
            }),
            &text,
            &ids,
        ),
    }
});
