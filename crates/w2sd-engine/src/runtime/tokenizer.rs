//! Exact tokenizers rebuilt from GGUF metadata, plus `tokenizer.json` for safetensors folders.
//!
//! Two GGUF vocab kinds, matching llama.cpp:
//! - `llama` (SentencePiece, e.g. Gemma 3): no merges are stored. Symbols start as single
//!   characters (spaces become `▁`); the adjacent pair whose concatenation is in the
//!   vocabulary with the highest score merges first (ties: leftmost). Symbols that are not
//!   tokens fall back to `<0xXX>` byte tokens.
//! - `gpt2` (byte-level BPE, e.g. Qwen 2, Llama 3): text is pre-split by the model's regex,
//!   bytes are mapped to printable characters, then the ranked merges apply (lowest rank first,
//!   ties leftmost).
//!
//! In both, every token whose type is neither normal (1) nor byte (6) is a special token:
//! it is matched whole in the input (longest first) before the BPE runs.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use anyhow::{anyhow, bail, Result};
use std::collections::{BinaryHeap, HashMap};

/// GGUF token types (llama.cpp `llama_token_type`).
pub const TOKEN_NORMAL: i32 = 1;
pub const TOKEN_CONTROL: i32 = 3;
pub const TOKEN_BYTE: i32 = 6;

/// The vocabulary fields a GGUF file carries under `tokenizer.ggml.*`.
#[derive(Debug, Clone, Default)]
pub struct GgufVocab {
    /// `llama` (SentencePiece) or `gpt2` (byte-level BPE).
    pub model: String,
    /// Pre-tokenizer name for `gpt2` vocabularies (`qwen2`, `llama-bpe`, …).
    pub pre: Option<String>,
    pub tokens: Vec<String>,
    pub scores: Vec<f32>,
    pub types: Vec<i32>,
    /// `"left right"` merges, in rank order (gpt2 only).
    pub merges: Vec<String>,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    pub eot: Option<u32>,
    pub add_bos: bool,
    pub add_space_prefix: bool,
}

impl GgufVocab {
    /// Reads the vocabulary from GGUF metadata.
    pub fn from_gguf(md: &HashMap<String, candle_core::quantized::gguf_file::Value>) -> Result<Self> {
        let get = |k: &str| md.get(&format!("tokenizer.ggml.{k}"));
        let model = get("model")
            .ok_or_else(|| anyhow!("no tokenizer in the file (tokenizer.ggml.model is missing)"))?
            .to_string()?
            .clone();
        let strings = |k: &str| -> Result<Vec<String>> {
            match get(k) {
                None => Ok(vec![]),
                Some(v) => v.to_vec()?.iter().map(|x| Ok(x.to_string()?.clone())).collect(),
            }
        };
        let tokens = strings("tokens")?;
        if tokens.is_empty() {
            bail!("the tokenizer has no tokens (tokenizer.ggml.tokens is missing or empty)");
        }
        let scores = match get("scores") {
            None => vec![0.0; tokens.len()],
            Some(v) => v.to_vec()?.iter().map(|x| x.to_f32()).collect::<candle_core::Result<_>>()?,
        };
        let types = match get("token_type") {
            None => vec![TOKEN_NORMAL; tokens.len()],
            Some(v) => v.to_vec()?.iter().map(|x| x.to_i32()).collect::<candle_core::Result<_>>()?,
        };
        let id = |k: &str| get(k).and_then(|v| v.to_u32().ok());
        let flag = |k: &str| get(k).and_then(|v| v.to_bool().ok());
        let gpt2 = model == "gpt2";
        Ok(Self {
            pre: get("pre").and_then(|v| v.to_string().ok().cloned()),
            merges: strings("merges")?,
            bos: id("bos_token_id"),
            eos: id("eos_token_id"),
            eot: id("eot_token_id"),
            add_bos: flag("add_bos_token").unwrap_or(!gpt2),
            add_space_prefix: flag("add_space_prefix").unwrap_or(!gpt2),
            model,
            tokens,
            scores,
            types,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Spm,
    Gpt2,
}

/// A tokenizer rebuilt from a GGUF vocabulary.
pub struct GgufTokenizer {
    kind: Kind,
    tokens: Vec<String>,
    scores: Vec<f32>,
    types: Vec<i32>,
    token_to_id: HashMap<String, u32>,
    /// gpt2: `(left, right)` token texts → merge rank.
    merge_rank: HashMap<(String, String), u32>,
    /// SentencePiece byte fallback `<0xXX>` ids.
    byte_ids: [Option<u32>; 256],
    specials: Vec<u32>,
    special_matcher: Option<AhoCorasick>,
    pre_regex: Option<fancy_regex::Regex>,
    pub bos: Option<u32>,
    pub add_bos: bool,
    add_space_prefix: bool,
    /// Tokens that end a turn or the sequence.
    pub stop_ids: Vec<u32>,
    byte_encoder: [char; 256],
    byte_decoder: HashMap<char, u8>,
}

/// GPT-2's reversible map from bytes to printable characters.
fn bytes_to_unicode() -> [char; 256] {
    let mut out = ['\0'; 256];
    let mut n = 0u32;
    for b in 0..256u32 {
        let printable = (0x21..=0x7e).contains(&b) || (0xa1..=0xac).contains(&b) || (0xae..=0xff).contains(&b);
        out[b as usize] = if printable {
            char::from_u32(b).unwrap()
        } else {
            let c = char::from_u32(256 + n).unwrap();
            n += 1;
            c
        };
    }
    out
}

/// Pre-tokenizer regexes for `gpt2` vocabularies (as llama.cpp uses them).
fn pre_regex(pre: Option<&str>) -> &'static str {
    match pre {
        Some("qwen2") | Some("deepseek-r1-qwen") => {
            r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
        }
        Some("llama-bpe") | Some("llama3") | Some("smaug-bpe") => {
            r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
        }
        // GPT-2's original pattern.
        _ => r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
    }
}

/// A candidate merge of two adjacent symbols; the heap pops the best first.
#[derive(Debug, PartialEq)]
struct Bigram {
    /// Higher is better: the SentencePiece score, or `-rank` for gpt2 merges.
    priority: f64,
    left: usize,
    right: usize,
    /// Combined byte length, to detect stale entries.
    size: usize,
}

impl Eq for Bigram {}
impl PartialOrd for Bigram {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Bigram {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.priority
            .partial_cmp(&other.priority)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| other.left.cmp(&self.left))
    }
}

#[derive(Debug, Clone, Copy)]
struct Symbol {
    start: usize,
    len: usize,
    prev: Option<usize>,
    next: Option<usize>,
}

impl GgufTokenizer {
    pub fn new(v: GgufVocab) -> Result<Self> {
        let kind = match v.model.as_str() {
            "llama" => Kind::Spm,
            "gpt2" => Kind::Gpt2,
            other => bail!("unsupported tokenizer model {other:?} (supported: llama, gpt2)"),
        };
        let n = v.tokens.len();
        if v.scores.len() != n || v.types.len() != n {
            bail!("tokenizer arrays disagree: {} tokens, {} scores, {} types", n, v.scores.len(), v.types.len());
        }
        let mut token_to_id = HashMap::with_capacity(n);
        for (i, t) in v.tokens.iter().enumerate() {
            token_to_id.entry(t.clone()).or_insert(i as u32);
        }
        let mut byte_ids = [None; 256];
        if kind == Kind::Spm {
            for (b, slot) in byte_ids.iter_mut().enumerate() {
                *slot = token_to_id.get(&format!("<0x{b:02X}>")).copied();
            }
        }
        let mut merge_rank = HashMap::new();
        if kind == Kind::Gpt2 {
            for (rank, m) in v.merges.iter().enumerate() {
                let (l, r) = m.split_once(' ').ok_or_else(|| anyhow!("malformed merge {m:?} at rank {rank}"))?;
                merge_rank.entry((l.to_string(), r.to_string())).or_insert(rank as u32);
            }
        }
        let specials: Vec<u32> = (0..n as u32)
            .filter(|&i| {
                let t = v.types[i as usize];
                t != TOKEN_NORMAL && t != TOKEN_BYTE && !v.tokens[i as usize].is_empty()
            })
            .collect();
        let special_matcher = if specials.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(specials.iter().map(|&i| v.tokens[i as usize].as_str()))?,
            )
        };
        let pre_regex = match kind {
            Kind::Gpt2 => Some(fancy_regex::Regex::new(pre_regex(v.pre.as_deref()))?),
            Kind::Spm => None,
        };
        let mut stop_ids: Vec<u32> = [v.eos, v.eot].into_iter().flatten().collect();
        for s in ["<end_of_turn>", "<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<eos>", "</s>"] {
            if let Some(&id) = token_to_id.get(s) {
                if v.types[id as usize] != TOKEN_NORMAL {
                    stop_ids.push(id);
                }
            }
        }
        stop_ids.sort();
        stop_ids.dedup();
        let byte_encoder = bytes_to_unicode();
        let byte_decoder = byte_encoder.iter().enumerate().map(|(b, c)| (*c, b as u8)).collect();
        Ok(Self {
            kind,
            tokens: v.tokens,
            scores: v.scores,
            types: v.types,
            token_to_id,
            merge_rank,
            byte_ids,
            specials,
            special_matcher,
            pre_regex,
            bos: v.bos,
            add_bos: v.add_bos,
            add_space_prefix: v.add_space_prefix,
            stop_ids,
            byte_encoder,
            byte_decoder,
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// The id of a token text, if it is in the vocabulary.
    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.token_to_id.get(text).copied()
    }

    /// Encodes `text`, matching special tokens whole; prepends BOS when `add_special`
    /// and the vocabulary adds one.
    pub fn encode(&self, text: &str, add_special: bool) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 2);
        if add_special && self.add_bos {
            if let Some(b) = self.bos {
                out.push(b);
            }
        }
        let mut first_text = true;
        let mut last = 0;
        if let Some(m) = &self.special_matcher {
            for mat in m.find_iter(text) {
                if mat.start() > last {
                    self.encode_plain(&text[last..mat.start()], first_text, &mut out);
                }
                first_text = false;
                out.push(self.specials[mat.pattern().as_usize()]);
                last = mat.end();
            }
        }
        if last < text.len() {
            self.encode_plain(&text[last..], first_text, &mut out);
        }
        out
    }

    fn encode_plain(&self, text: &str, first: bool, out: &mut Vec<u32>) {
        match self.kind {
            Kind::Spm => {
                let mut s = String::with_capacity(text.len() + 3);
                if self.add_space_prefix && first {
                    s.push('▁');
                }
                for c in text.chars() {
                    s.push(if c == ' ' { '▁' } else { c });
                }
                self.spm_encode(&s, out);
            }
            Kind::Gpt2 => {
                let re = self.pre_regex.as_ref().expect("gpt2 has a regex");
                for m in re.find_iter(text) {
                    let Ok(m) = m else { continue };
                    let word: String = m.as_str().bytes().map(|b| self.byte_encoder[b as usize]).collect();
                    self.gpt2_encode_word(&word, out);
                }
            }
        }
    }

    /// Splits `s` into one symbol per character, linked.
    fn char_symbols(s: &str) -> Vec<Symbol> {
        let mut syms: Vec<Symbol> = Vec::with_capacity(s.len());
        for (i, (start, c)) in s.char_indices().enumerate() {
            syms.push(Symbol { start, len: c.len_utf8(), prev: i.checked_sub(1), next: Some(i + 1) });
        }
        if let Some(last) = syms.last_mut() {
            last.next = None;
        }
        syms
    }

    /// Runs the merge loop: `priority(left_text, right_text)` gives a merge's priority or
    /// `None` when the pair does not merge.
    fn merge_loop(s: &str, syms: &mut [Symbol], priority: impl Fn(&str, &str) -> Option<f64>) {
        let mut heap = BinaryHeap::new();
        let text = |sym: &Symbol| &s[sym.start..sym.start + sym.len];
        let push = |heap: &mut BinaryHeap<Bigram>, syms: &[Symbol], l: usize, r: usize| {
            if let Some(p) = priority(text(&syms[l]), text(&syms[r])) {
                heap.push(Bigram { priority: p, left: l, right: r, size: syms[l].len + syms[r].len });
            }
        };
        for i in 1..syms.len() {
            push(&mut heap, syms, i - 1, i);
        }
        while let Some(b) = heap.pop() {
            let (l, r) = (b.left, b.right);
            if syms[l].len == 0 || syms[r].len == 0 || syms[l].len + syms[r].len != b.size || syms[l].next != Some(r) {
                continue;
            }
            syms[l].len += syms[r].len;
            syms[r].len = 0;
            syms[l].next = syms[r].next;
            if let Some(n) = syms[r].next {
                syms[n].prev = Some(l);
            }
            if let Some(p) = syms[l].prev {
                push(&mut heap, syms, p, l);
            }
            if let Some(n) = syms[l].next {
                push(&mut heap, syms, l, n);
            }
        }
    }

    fn spm_encode(&self, s: &str, out: &mut Vec<u32>) {
        if s.is_empty() {
            return;
        }
        let mut syms = Self::char_symbols(s);
        Self::merge_loop(s, &mut syms, |a, b| {
            let mut key = String::with_capacity(a.len() + b.len());
            key.push_str(a);
            key.push_str(b);
            self.token_to_id.get(&key).map(|&id| self.scores[id as usize] as f64)
        });
        let mut i = Some(0);
        while let Some(k) = i {
            let sym = syms[k];
            let piece = &s[sym.start..sym.start + sym.len];
            match self.token_to_id.get(piece) {
                Some(&id) => out.push(id),
                None => {
                    for b in piece.bytes() {
                        if let Some(id) = self.byte_ids[b as usize] {
                            out.push(id);
                        }
                    }
                }
            }
            i = sym.next;
        }
    }

    fn gpt2_encode_word(&self, word: &str, out: &mut Vec<u32>) {
        let mut syms = Self::char_symbols(word);
        Self::merge_loop(word, &mut syms, |a, b| {
            self.merge_rank.get(&(a.to_string(), b.to_string())).map(|&r| -(r as f64))
        });
        let mut i = Some(0);
        while let Some(k) = i {
            let sym = syms[k];
            let piece = &word[sym.start..sym.start + sym.len];
            match self.token_to_id.get(piece) {
                Some(&id) => out.push(id),
                None => {
                    for c in piece.chars() {
                        if let Some(&id) = self.token_to_id.get(c.encode_utf8(&mut [0; 4]) as &str) {
                            out.push(id);
                        }
                    }
                }
            }
            i = sym.next;
        }
    }

    /// The raw bytes a token stands for. Control tokens give their text only when
    /// `show_special`.
    pub fn token_bytes(&self, id: u32, show_special: bool) -> Vec<u8> {
        let Some(t) = self.tokens.get(id as usize) else { return vec![] };
        let ty = self.types[id as usize];
        if ty == TOKEN_CONTROL {
            return if show_special { t.as_bytes().to_vec() } else { vec![] };
        }
        match self.kind {
            Kind::Spm => {
                if ty == TOKEN_BYTE {
                    if let Some(hex) = t.strip_prefix("<0x").and_then(|h| h.strip_suffix('>')) {
                        if let Ok(b) = u8::from_str_radix(hex, 16) {
                            return vec![b];
                        }
                    }
                }
                t.replace('▁', " ").into_bytes()
            }
            Kind::Gpt2 => {
                if ty != TOKEN_NORMAL {
                    return t.as_bytes().to_vec();
                }
                t.chars().map(|c| self.byte_decoder.get(&c).copied().unwrap_or(b'?')).collect()
            }
        }
    }

    /// Decodes ids to text (invalid UTF-8 replaced); control tokens are dropped.
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|&i| self.token_bytes(i, false)).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The stored text of a token, as in the vocabulary.
    pub fn token_text(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(|s| s.as_str())
    }
}

/// A model's tokenizer, whichever source it came from.
pub enum Tokenizer {
    Gguf(Box<GgufTokenizer>),
    Json { inner: Box<tokenizers::Tokenizer>, stop_ids: Vec<u32> },
}

impl Tokenizer {
    /// Loads a `tokenizer.json`.
    pub fn from_json_file(path: &std::path::Path) -> Result<Self> {
        let mut inner = tokenizers::Tokenizer::from_file(path)
            .map_err(|e| anyhow!("cannot read tokenizer {}: {e}", path.display()))?;
        // Padding and truncation are the caller's business (batches pad themselves).
        inner.with_padding(None);
        inner.with_truncation(None).map_err(|e| anyhow!("cannot configure tokenizer {}: {e}", path.display()))?;
        let mut stop_ids = vec![];
        for s in ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>", "<eos>", "<end_of_turn>", "[SEP]"] {
            if let Some(id) = inner.token_to_id(s) {
                stop_ids.push(id);
            }
        }
        Ok(Tokenizer::Json { inner: Box::new(inner), stop_ids })
    }

    pub fn encode(&self, text: &str, add_special: bool) -> Result<Vec<u32>> {
        match self {
            Tokenizer::Gguf(t) => Ok(t.encode(text, add_special)),
            Tokenizer::Json { inner, .. } => {
                Ok(inner.encode(text, add_special).map_err(|e| anyhow!("tokenizer failed: {e}"))?.get_ids().to_vec())
            }
        }
    }

    pub fn decode(&self, ids: &[u32]) -> String {
        match self {
            Tokenizer::Gguf(t) => t.decode(ids),
            Tokenizer::Json { inner, .. } => inner.decode(ids, true).unwrap_or_default(),
        }
    }

    pub fn adds_bos(&self) -> bool {
        match self {
            Tokenizer::Gguf(t) => t.add_bos && t.bos.is_some(),
            Tokenizer::Json { inner, .. } => {
                let with = inner.encode("a", true).map(|e| e.get_ids().len()).unwrap_or(0);
                let without = inner.encode("a", false).map(|e| e.get_ids().len()).unwrap_or(0);
                with > without
            }
        }
    }

    pub fn stop_ids(&self) -> &[u32] {
        match self {
            Tokenizer::Gguf(t) => &t.stop_ids,
            Tokenizer::Json { stop_ids, .. } => stop_ids,
        }
    }

    pub fn token_id(&self, text: &str) -> Option<u32> {
        match self {
            Tokenizer::Gguf(t) => t.token_id(text),
            Tokenizer::Json { inner, .. } => inner.token_to_id(text),
        }
    }
}
