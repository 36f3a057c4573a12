//! Features for the heads: pooled hidden states of any runtime model, cached on disk,
//! and the hashed n-gram bag of words (`bow`), the cheapest weak rung.
//!
//! **Cache.** Model features live in `<cache>/features/<key>.bin` (+ a `.json` note),
//! where `key = sha256("w2sd-features-v1", model identity, pooling, max tokens, every
//! text)` and the model identity is the sha256 of its weight file. The same model on
//! the same texts with the same pooling is never run twice; any change to a text, the
//! weights, the pooling or the length cap gives a new key. Files are written to a
//! temporary name and renamed, so a cache file is always complete.

use anyhow::{anyhow, bail, Context, Result};
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::runtime::{CancelToken, FeatureRequest, LanguageModel, Pool};

/// Row-major `n × dim` features.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    pub n: usize,
    pub dim: usize,
    pub data: Vec<f32>,
}

impl FeatureMatrix {
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The rows `idx` as a `[idx.len(), dim]` tensor on `device`.
    pub fn select(&self, idx: &[usize], device: &Device) -> Result<Tensor> {
        let mut v = Vec::with_capacity(idx.len() * self.dim);
        for &i in idx {
            v.extend_from_slice(self.row(i));
        }
        Ok(Tensor::from_vec(v, (idx.len(), self.dim), device)?)
    }
}

/// How features are extracted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureOptions {
    /// Pooling of the model's hidden states: `last`, `mean` or `mean+last`; absent =
    /// the default of the model kind ([`default_pool`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<Pool>,
    /// Longest input in tokens; longer texts are cut from the left (the first token and
    /// the last `max_tokens − 1` stay: the question and the candidate are at the end).
    pub max_tokens: usize,
    /// Token budget of one forward batch (rows × longest row).
    pub batch_tokens: usize,
    /// Buckets of the hashed bag of words.
    pub bow_dim: usize,
    /// Prompt template for language-model features, `{text}` standing for the example
    /// (e.g. `"Review: {text}\nSentiment:"`); `None` = the default of the task kind
    /// ([`default_template`]). The bag of words always sees the bare text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Hidden state of this layer (1-based, decoders only) instead of the final normed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        Self {
            pool: None,
            max_tokens: 256,
            batch_tokens: crate::runtime::model::FEATURE_BATCH_TOKENS,
            bow_dim: 4096,
            template: None,
            layer: None,
        }
    }
}

/// The built-in prompt template of a task kind (see `docs/train.md` for how the binary
/// default was chosen on SST-2).
pub fn default_template(kind: super::data::TaskKind) -> &'static str {
    use super::data::TaskKind;
    match kind {
        TaskKind::Binary => "{text}\nAnswer:",
        TaskKind::MultipleChoice => "{text}\nIs this answer correct?",
        TaskKind::Preference => "{text}\nIs this response helpful and correct?",
        TaskKind::Chess => "{text}\nIs this move checkmate?",
    }
}

/// Rows `2i` and `2i + 1` of `m` (the A and B sides of pair `i`) become one row,
/// `x_i = m[2i] − m[2i+1]`: with a linear head `s(x) = w·x`, the pair's logit is the
/// Bradley–Terry difference `s(A) − s(B)`.
pub fn pair_differences(m: &FeatureMatrix) -> FeatureMatrix {
    let n = m.n / 2;
    let mut data = Vec::with_capacity(n * m.dim);
    for i in 0..n {
        data.extend(m.row(2 * i).iter().zip(m.row(2 * i + 1)).map(|(a, b)| a - b));
    }
    FeatureMatrix { n, dim: m.dim, data }
}

/// The pooling used when `features.pool` is not set: `mean` for encoders (MiniLM is
/// trained for mean pooling), `mean+last` for decoders (see `docs/train.md`).
pub fn default_pool(decoder: bool) -> Pool {
    if decoder {
        Pool::MeanLast
    } else {
        Pool::Mean
    }
}

/// `template` with `{text}` replaced by `text`.
pub fn apply_template(template: &str, text: &str) -> String {
    template.replace("{text}", text)
}

/// What an extraction did and how fast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStats {
    pub model: String,
    pub n: usize,
    pub dim: usize,
    /// Wall time of this call (loading from the cache when `cached`).
    pub seconds: f64,
    /// `n / seconds` of this call.
    pub examples_per_s: f64,
    /// Whether the features came from the on-disk cache.
    pub cached: bool,
    /// Throughput when the features were first computed (from the cache note).
    pub computed_examples_per_s: Option<f64>,
    pub cache_file: Option<PathBuf>,
    /// Inputs longer than `max_tokens`, cut from the left.
    #[serde(default)]
    pub truncated: usize,
    /// The prompt template the texts went through (model features only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// Whether a ladder entry is the bag-of-words featurizer: `bow` (with
/// `features.bow_dim` buckets) or `bow:DIM` (with `DIM` buckets — several of these make
/// a cheap ladder of increasing capacity).
pub fn is_bow(spec: &str) -> bool {
    bow_dim_of(spec, 1).is_some()
}

/// The bucket count of a bag-of-words spec (`default` for plain `bow`); `None` when the
/// spec is not a bag of words.
pub fn bow_dim_of(spec: &str, default: usize) -> Option<usize> {
    match spec.trim() {
        "bow" => Some(default),
        s => s.strip_prefix("bow:").and_then(|d| d.parse::<usize>().ok()).filter(|&d| d > 0),
    }
}

/// Features of `texts` for one ladder entry: `bow`, or any spec [`crate::runtime::load`] accepts (local or remote).
/// `on_progress(done, total)` is called as texts finish; `cancel` is checked between chunks.
pub fn extract(
    spec: &str,
    texts: &[String],
    opts: &FeatureOptions,
    cancel: &CancelToken,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Result<(FeatureMatrix, FeatureStats)> {
    let t0 = Instant::now();
    if let Some(dim) = bow_dim_of(spec, opts.bow_dim) {
        let m = bow_features(texts, dim);
        on_progress(texts.len(), texts.len());
        let s = t0.elapsed().as_secs_f64();
        let stats = FeatureStats {
            model: spec.to_string(),
            n: m.n,
            dim: m.dim,
            seconds: s,
            examples_per_s: m.n as f64 / s.max(1e-9),
            cached: false,
            computed_examples_per_s: None,
            cache_file: None,
            truncated: 0,
            template: None,
        };
        return Ok((m, stats));
    }
    let identity = model_identity(spec)?;
    let key = cache_key(&identity, opts, texts);
    let dir = features_dir();
    let file = dir.join(format!("{}.bin", &key[..40]));
    if let Some(m) = read_matrix(&file)? {
        if m.n == texts.len() {
            on_progress(texts.len(), texts.len());
            let s = t0.elapsed().as_secs_f64();
            let note: Option<CacheNote> =
                std::fs::read_to_string(file.with_extension("json")).ok().and_then(|t| serde_json::from_str(&t).ok());
            return Ok((
                m.clone(),
                FeatureStats {
                    model: spec.to_string(),
                    n: m.n,
                    dim: m.dim,
                    seconds: s,
                    examples_per_s: m.n as f64 / s.max(1e-9),
                    cached: true,
                    computed_examples_per_s: note.as_ref().map(|n| n.examples_per_s),
                    truncated: note.map(|n| n.truncated).unwrap_or(0),
                    cache_file: Some(file),
                    template: opts.template.clone(),
                },
            ));
        }
    }
    let mut model =
        crate::runtime::load(spec, &mut |_| {}).with_context(|| format!("cannot load {spec} for features"))?;
    let load_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let (m, truncated) = model_features(model.as_mut(), texts, opts, cancel, on_progress)?;
    let compute_s = t1.elapsed().as_secs_f64();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_matrix(&file, &m)?;
    let note = CacheNote {
        model: spec.to_string(),
        identity,
        pool: opts.pool,
        max_tokens: opts.max_tokens,
        template: opts.template.clone(),
        layer: opts.layer,
        truncated,
        n: m.n,
        dim: m.dim,
        load_seconds: load_s,
        seconds: compute_s,
        examples_per_s: m.n as f64 / compute_s.max(1e-9),
    };
    crate::fsio::write_json_atomic(&file.with_extension("json"), &note)?;
    Ok((
        m.clone(),
        FeatureStats {
            model: spec.to_string(),
            n: m.n,
            dim: m.dim,
            seconds: t0.elapsed().as_secs_f64(),
            examples_per_s: note.examples_per_s,
            cached: false,
            computed_examples_per_s: Some(note.examples_per_s),
            cache_file: Some(file),
            truncated,
            template: opts.template.clone(),
        },
    ))
}

/// Pooled features from a loaded model, in chunks of texts sorted by length (so that
/// batches pad little and cancellation is checked between chunks), returned in input
/// order, with the number of texts that were truncated.
pub fn model_features(
    model: &mut dyn LanguageModel,
    texts: &[String],
    opts: &FeatureOptions,
    cancel: &CancelToken,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Result<(FeatureMatrix, usize)> {
    let pool = opts.pool.unwrap_or_else(|| default_pool(model.info().decoder));
    let dim = pool.dim(model.info().hidden_size);
    let mut truncated = 0;
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].len());
    let mut data = vec![0f32; texts.len() * dim];
    let mut done = 0;
    on_progress(0, texts.len());
    for chunk in order.chunks(64) {
        if cancel.is_cancelled() {
            bail!("feature extraction cancelled");
        }
        let batch: Vec<String> = chunk.iter().map(|&i| texts[i].clone()).collect();
        let base = done;
        let req = FeatureRequest {
            pool,
            max_tokens: opts.max_tokens,
            keep_end: true,
            layer: opts.layer,
            batch_tokens: opts.batch_tokens,
        };
        let out = model.features(&batch, &req, &mut |k| on_progress(base + k, texts.len()))?;
        truncated += out.truncated;
        let vecs = out.vectors;
        for (&i, v) in chunk.iter().zip(vecs) {
            if v.len() != dim {
                bail!("{} returned a feature of size {} instead of {dim}", model.info().spec, v.len());
            }
            data[i * dim..(i + 1) * dim].copy_from_slice(&v);
        }
        done += chunk.len();
    }
    Ok((FeatureMatrix { n: texts.len(), dim, data }, truncated))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheNote {
    model: String,
    identity: String,
    pool: Option<Pool>,
    max_tokens: usize,
    #[serde(default)]
    template: Option<String>,
    #[serde(default)]
    layer: Option<usize>,
    #[serde(default)]
    truncated: usize,
    n: usize,
    dim: usize,
    load_seconds: f64,
    seconds: f64,
    examples_per_s: f64,
}

/// `<cache>/features`.
pub fn features_dir() -> PathBuf {
    crate::paths::cache_dir().join("features")
}

/// A content identity for a model spec without loading it: the sha256 of its weight
/// file (GGUF, or `model.safetensors` / the shard index of a folder).
pub fn model_identity(spec: &str) -> Result<String> {
    let path = crate::runtime::spec::ModelSpec::parse(spec)?.resolve(&mut |_| {})?;
    let main = if path.is_dir() {
        ["model.safetensors", "model.safetensors.index.json"]
            .iter()
            .map(|f| path.join(f))
            .find(|p| p.exists())
            .ok_or_else(|| anyhow!("{} has no model.safetensors", path.display()))?
    } else {
        path
    };
    crate::runtime::hub::known_sha256(&main).ok_or_else(|| anyhow!("cannot hash {}", main.display()))
}

/// The cache key of (model identity, pooling, length cap, template, layer, texts), hex
/// sha256. (`texts` are the templated inputs; the template is hashed too, so two
/// templates never share an entry.)
pub fn cache_key(identity: &str, opts: &FeatureOptions, texts: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(b"w2sd-features-v2\n");
    h.update(identity.as_bytes());
    let pool = opts.pool.map(|p| p.to_string()).unwrap_or_else(|| "default".into());
    h.update(format!("\n{pool}\n{}\n{}\n", opts.max_tokens, texts.len()).as_bytes());
    h.update(format!("template={:?}\nlayer={:?}\nkeep=end\n", opts.template, opts.layer).as_bytes());
    for t in texts {
        h.update((t.len() as u64).to_le_bytes());
        h.update(t.as_bytes());
    }
    hex::encode(h.finalize())
}

const MAGIC: &[u8; 8] = b"W2SFEAT1";

/// Writes `MAGIC, n: u64, dim: u64, n·dim f32` (little-endian) atomically.
pub fn write_matrix(path: &Path, m: &FeatureMatrix) -> Result<()> {
    crate::fsio::write_atomic(path, |w| {
        w.write_all(MAGIC)?;
        w.write_all(&(m.n as u64).to_le_bytes())?;
        w.write_all(&(m.dim as u64).to_le_bytes())?;
        for x in &m.data {
            w.write_all(&x.to_le_bytes())?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Reads a matrix written by [`write_matrix`]; `None` when the file does not exist.
pub fn read_matrix(path: &Path) -> Result<Option<FeatureMatrix>> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
    };
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    if bytes.len() < 24 || &bytes[..8] != MAGIC {
        bail!("{} is not a w2sd feature file; delete it", path.display());
    }
    let n = u64::from_le_bytes(bytes[8..16].try_into().unwrap()) as usize;
    let dim = u64::from_le_bytes(bytes[16..24].try_into().unwrap()) as usize;
    if bytes.len() != 24 + 4 * n * dim {
        bail!("{} is truncated ({} bytes for {n}×{dim}); delete it", path.display(), bytes.len());
    }
    let data = bytes[24..].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    Ok(Some(FeatureMatrix { n, dim, data }))
}

/// 64-bit FNV-1a (stable across platforms and Rust versions).
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, p) in parts.iter().enumerate() {
        if k > 0 {
            h ^= 0x1f;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Lower-cased alphanumeric tokens of `s`.
fn tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(|t| t.to_lowercase()).collect()
}

/// Hashed bag of words (unigrams), `dim` buckets with signed hashing.
///
/// Each word `w` adds `±1` to bucket `h(w) mod dim` (the sign from another bit of the
/// hash). A text of several sections (separated by blank lines, capped at 4) also adds
/// each word qualified by its section (`s1|w`, `s2|w`, …), so a preference pair's
/// "Response A" and "Response B" words are told apart; a one-section text has only the
/// plain words. The counts `c` become `sign(c)·ln(1 + |c|)` and each row is scaled to
/// unit L2 norm.
///
/// Unigrams only, on measurement (docs/train.md, "The bag of words"): on SST-2 with
/// 2,000 training sentences, adding bigrams (and section copies of one-section texts)
/// to 4,096 buckets fills them with collisions, and the supervisor's labels were both
/// less accurate (0.65 against 0.68) and half as confident.
pub fn bow_features(texts: &[String], dim: usize) -> FeatureMatrix {
    assert!(dim > 0);
    let mut data = vec![0f32; texts.len() * dim];
    for (i, t) in texts.iter().enumerate() {
        let row = &mut data[i * dim..(i + 1) * dim];
        let sections: Vec<&str> = t.split("\n\n").collect();
        for (s, section) in sections.iter().enumerate() {
            let sec = format!("s{}", s.min(3));
            let mut add = |parts: &[&str]| {
                let h = fnv1a(parts);
                let sign = if (h >> 63) & 1 == 1 { -1.0 } else { 1.0 };
                row[(h % dim as u64) as usize] += sign;
            };
            for tok in tokens(section) {
                add(&[&tok]);
                if sections.len() > 1 {
                    add(&[&sec, &tok]);
                }
            }
        }
        for x in row.iter_mut() {
            *x = x.signum() * x.abs().ln_1p();
        }
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for x in row.iter_mut() {
                *x /= norm;
            }
        }
    }
    FeatureMatrix { n: texts.len(), dim, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bow_is_deterministic_normalised_and_section_aware() {
        let texts = vec![
            "Good film, good!".to_string(),
            "Response A: yes\n\nResponse B: no".into(),
            "Response A: no\n\nResponse B: yes".into(),
            String::new(),
        ];
        let m = bow_features(&texts, 256);
        assert_eq!((m.n, m.dim), (4, 256));
        assert_eq!(m, bow_features(&texts, 256));
        for i in 0..3 {
            let norm: f32 = m.row(i).iter().map(|x| x * x).sum();
            assert!((norm - 1.0).abs() < 1e-5);
        }
        assert!(m.row(3).iter().all(|&x| x == 0.0));
        // same words, swapped sections → different features
        assert_ne!(m.row(1), m.row(2));
        // case and punctuation do not matter
        let a = bow_features(&["good film".into()], 64);
        let b = bow_features(&["GOOD, film!".into()], 64);
        assert_eq!(a, b);
    }

    #[test]
    fn bow_specs() {
        assert_eq!(bow_dim_of("bow", 4096), Some(4096));
        assert_eq!(bow_dim_of("bow:256", 4096), Some(256));
        assert_eq!(bow_dim_of("bow:0", 4096), None);
        assert_eq!(bow_dim_of("bow:x", 4096), None);
        assert_eq!(bow_dim_of("minilm-l6", 4096), None);
        assert!(is_bow("bow:64") && !is_bow("bowl"));
    }

    #[test]
    fn fnv_known_value() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c
        assert_eq!(fnv1a(&["a"]), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn matrix_round_trip_and_key_sensitivity() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.bin");
        let m = FeatureMatrix { n: 2, dim: 3, data: vec![1.0, -2.5, 3.0, 0.0, 1e-7, f32::MAX] };
        write_matrix(&p, &m).unwrap();
        assert_eq!(read_matrix(&p).unwrap().unwrap(), m);
        assert_eq!(read_matrix(&d.path().join("none.bin")).unwrap(), None);
        std::fs::write(&p, b"W2SFEAT1short").unwrap();
        assert!(read_matrix(&p).is_err());
        let o = FeatureOptions::default();
        let t = vec!["a".to_string(), "b".to_string()];
        let k = cache_key("sha", &o, &t);
        assert_eq!(k, cache_key("sha", &o, &t));
        assert_ne!(k, cache_key("sha2", &o, &t));
        assert_ne!(k, cache_key("sha", &FeatureOptions { pool: Some(Pool::Mean), ..o.clone() }, &t));
        assert_ne!(k, cache_key("sha", &FeatureOptions { template: Some("R: {text}".into()), ..o.clone() }, &t));
        assert_ne!(k, cache_key("sha", &FeatureOptions { layer: Some(3), ..o.clone() }, &t));
        assert_ne!(k, cache_key("sha", &o, &["ab".to_string()]));
        assert_ne!(k, cache_key("sha", &o, &["a".to_string(), "c".to_string()]));
    }

    #[test]
    fn pair_rows_are_a_minus_b() {
        let m = FeatureMatrix { n: 4, dim: 2, data: vec![1.0, 2.0, 0.5, 3.0, -1.0, 0.0, 2.0, 2.0] };
        let d = pair_differences(&m);
        assert_eq!((d.n, d.dim), (2, 2));
        assert_eq!(d.data, vec![0.5, -1.0, -3.0, -2.0]);
    }
}
