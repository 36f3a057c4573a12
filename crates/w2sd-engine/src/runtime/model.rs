//! [`Model`]: one loaded model, whatever its architecture and source.

use anyhow::{anyhow, bail, Context, Result};
use candle_core::quantized::gguf_file;
use candle_core::{DType, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling as CandleSampling};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::chat::ChatFormat;
use super::generate::{
    CancelToken, ChatMessage, GenerateRequest, Generation, NgramBan, NoCopy, Pool, Prompt, StopReason,
};
use super::hub::{self, PullProgress};
use super::spec::ModelSpec;
use super::tokenizer::{GgufTokenizer, GgufVocab, Tokenizer};
use super::transformer::Transformer;

/// Provenance of a loaded model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The spec the model was loaded from (catalog name, path or `hf:` spec).
    pub spec: String,
    /// Architecture as named in the file (`gemma3`, `qwen2`, `llama`, `bert`, …).
    pub arch: String,
    /// Main weight file.
    pub path: PathBuf,
    /// sha256 of the main weight file.
    pub sha256: Option<String>,
    pub hidden_size: usize,
    pub context_length: usize,
    /// Whether the file carries a chat template (instruction-tuned).
    pub chat: bool,
    /// Decoder (generates text) or encoder (features only).
    pub decoder: bool,
}

enum Backend {
    Decoder(Box<Transformer>),
    Encoder(Box<super::bert::Encoder>),
}

/// One loaded model.
pub struct Model {
    info: ModelInfo,
    tok: Tokenizer,
    backend: Backend,
    chat_format: ChatFormat,
    /// Longest input, in tokens, used for feature extraction (longer texts keep their
    /// start, or their end with `feature_keep_end`).
    pub max_feature_tokens: usize,
    /// Cut over-long feature inputs from the left: keep the first token (BOS/CLS) and the
    /// last `max_feature_tokens − 1` (what decides a "passage … question … answer" text).
    pub feature_keep_end: bool,
    /// Hidden state of this layer (1-based) for features instead of the final one (decoders only).
    pub feature_layer: Option<usize>,
    /// Texts the last [`Model::embed_batched`] call truncated.
    pub feature_truncated: usize,
}

impl Model {
    /// Loads a model from a spec: a catalog name, a GGUF file, a safetensors folder, or
    /// `hf:owner/repo[:file]`. Catalog entries are pulled first if missing.
    pub fn load(spec: &str, progress: &mut dyn FnMut(PullProgress)) -> Result<Model> {
        let parsed = ModelSpec::parse(spec)?;
        let path = parsed.resolve(progress)?;
        let mut m = if path.is_dir() { Self::load_folder(&path) } else { Self::load_gguf(&path) }
            .with_context(|| format!("cannot load model {}", path.display()))?;
        m.info.spec = spec.to_string();
        Ok(m)
    }

    /// Loads a GGUF file: the tokenizer from its metadata, the forward from its tensors.
    pub fn load_gguf(path: &Path) -> Result<Model> {
        let mut f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let len = f.metadata()?.len();
        let (content, tok) = read_gguf_header(&mut f, len)?;
        let chat_template = content.metadata.contains_key("tokenizer.chat_template");
        let device = super::device::device();
        let tf = Transformer::from_gguf(&content, &mut f, &device)?;
        if tf.vocab_size() < tok.vocab_size() {
            bail!("the embedding has {} rows but the tokenizer {} tokens", tf.vocab_size(), tok.vocab_size());
        }
        let tok = Tokenizer::Gguf(Box::new(tok));
        let chat_format = ChatFormat::detect(&tok, tf.cfg.arch.name());
        let info = ModelInfo {
            spec: path.display().to_string(),
            arch: tf.cfg.arch.name().to_string(),
            path: path.to_path_buf(),
            sha256: hub::known_sha256(path),
            hidden_size: tf.cfg.hidden,
            context_length: tf.cfg.context_length,
            chat: chat_template,
            decoder: true,
        };
        Ok(Model {
            info,
            tok,
            backend: Backend::Decoder(Box::new(tf)),
            chat_format,
            max_feature_tokens: 512,
            feature_keep_end: false,
            feature_layer: None,
            feature_truncated: 0,
        })
    }

    /// Loads a Hugging Face folder: `config.json`, `tokenizer.json`, `*.safetensors`.
    pub fn load_folder(dir: &Path) -> Result<Model> {
        let cfg_path = dir.join("config.json");
        let cfg: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(&cfg_path).with_context(|| format!("missing {}", cfg_path.display()))?,
        )
        .with_context(|| format!("{} is not valid JSON", cfg_path.display()))?;
        let tok_path = dir.join("tokenizer.json");
        if !tok_path.exists() {
            bail!("missing tokenizer: {} does not exist", tok_path.display());
        }
        let tok = Tokenizer::from_json_file(&tok_path)?;
        let index = dir.join("model.safetensors.index.json");
        let files: Vec<PathBuf> = if index.exists() {
            hub::safetensors_shards(&index)?.into_iter().map(|s| dir.join(s)).collect()
        } else {
            vec![dir.join("model.safetensors")]
        };
        for f in &files {
            if !f.exists() {
                bail!("missing weights: {} does not exist", f.display());
            }
        }
        let device = super::device::device();
        let model_type = cfg["model_type"].as_str().unwrap_or("").to_string();
        let main = files[0].clone();
        let (backend, hidden, ctx, arch) = if model_type == "bert" {
            let enc = super::bert::Encoder::load(&cfg, &files, &device)?;
            let h = enc.hidden_size();
            (
                Backend::Encoder(Box::new(enc)),
                h,
                cfg["max_position_embeddings"].as_u64().unwrap_or(512) as usize,
                "bert".to_string(),
            )
        } else {
            let tf = Transformer::from_safetensors(&cfg, &files, &device)?;
            let (h, c, a) = (tf.cfg.hidden, tf.cfg.context_length, tf.cfg.arch.name().to_string());
            (Backend::Decoder(Box::new(tf)), h, c, a)
        };
        let chat_format = ChatFormat::detect(&tok, &arch);
        let chat = std::fs::read_to_string(dir.join("tokenizer_config.json"))
            .map(|s| s.contains("chat_template"))
            .unwrap_or(false);
        let info = ModelInfo {
            spec: dir.display().to_string(),
            decoder: matches!(backend, Backend::Decoder(_)),
            arch,
            sha256: hub::known_sha256(&main),
            path: main,
            hidden_size: hidden,
            context_length: ctx,
            chat,
        };
        Ok(Model {
            info,
            tok,
            backend,
            chat_format,
            max_feature_tokens: 512,
            feature_keep_end: false,
            feature_layer: None,
            feature_truncated: 0,
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The decoder forward, for diagnostics and tests.
    pub fn transformer(&self) -> Option<&Transformer> {
        match &self.backend {
            Backend::Decoder(t) => Some(t),
            Backend::Encoder(_) => None,
        }
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tok
    }

    /// Token ids of `text`; with `add_special`, BOS is prepended when the model adds one.
    pub fn encode(&self, text: &str, add_special: bool) -> Result<Vec<u32>> {
        self.tok.encode(text, add_special)
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        Ok(self.tok.decode(ids))
    }

    /// Whether `encode(.., true)` prepends BOS.
    pub fn adds_bos(&self) -> bool {
        self.tok.adds_bos()
    }

    fn bos(&self) -> Option<u32> {
        match &self.tok {
            Tokenizer::Gguf(t) if t.add_bos => t.bos,
            _ => None,
        }
    }

    /// Renders chat messages with the model's template, the assistant turn opened.
    pub fn render_chat(&self, messages: &[ChatMessage]) -> String {
        self.chat_format.render(messages)
    }

    /// The text a prompt stands for.
    pub fn prompt_text(&self, p: &Prompt) -> String {
        match p {
            Prompt::Raw(s) => s.clone(),
            Prompt::Chat(m) => self.render_chat(m),
        }
    }

    fn decoder(&self) -> Result<&Transformer> {
        match &self.backend {
            Backend::Decoder(t) => Ok(t),
            Backend::Encoder(_) => {
                bail!("{} is an encoder: it gives features only, not text or scores", self.info.spec)
            }
        }
    }

    /// Streams a generation; `on_text` receives each new piece of text as soon as it
    /// decodes cleanly (never part of a stop string). Returns when a stop condition or
    /// `cancel` fires.
    pub fn generate(
        &mut self,
        req: &GenerateRequest,
        cancel: &CancelToken,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generation> {
        self.generate_inner(req, cancel, on_text, false)
    }

    /// Generation that ignores EOS and stop strings (for benchmarks).
    pub fn generate_ignoring_eos(&mut self, req: &GenerateRequest, cancel: &CancelToken) -> Result<Generation> {
        self.generate_inner(req, cancel, &mut |_| {}, true)
    }

    fn generate_inner(
        &mut self,
        req: &GenerateRequest,
        cancel: &CancelToken,
        on_text: &mut dyn FnMut(&str),
        ignore_eos: bool,
    ) -> Result<Generation> {
        let tf = self.decoder()?;
        let text = self.prompt_text(&req.prompt);
        let prompt_ids = self.tok.encode(&text, true)?;
        if prompt_ids.is_empty() {
            bail!("the prompt is empty and the model adds no BOS token");
        }
        let s = &req.sampling;
        let sampling = if s.temperature <= 0.0 {
            CandleSampling::ArgMax
        } else {
            match (s.top_k, s.top_p) {
                (None, None) => CandleSampling::All { temperature: s.temperature },
                (Some(k), None) => CandleSampling::TopK { k, temperature: s.temperature },
                (None, Some(p)) => CandleSampling::TopP { p, temperature: s.temperature },
                (Some(k), Some(p)) => CandleSampling::TopKThenTopP { k, p, temperature: s.temperature },
            }
        };
        let mut sampler = LogitsProcessor::from_sampling(s.seed, sampling);
        let stop_ids = self.tok.stop_ids().to_vec();
        let ban = match &req.no_copy {
            Some(nc) => self.ngram_ban(nc)?,
            None => NgramBan::default(),
        };
        // The ban looks back over the prompt's tail and the reply (see `NoCopy`).
        let mut history: Vec<u32> = if ban.is_empty() { Vec::new() } else { prompt_ids.clone() };
        let mut cache = tf.new_cache();
        let t0 = Instant::now();
        let mut logits = tf.forward_last_logits(&prompt_ids, &mut cache)?;
        let prefill_s = t0.elapsed().as_secs_f64();
        let mut generated: Vec<u32> = Vec::new();
        let mut emitted = 0usize;
        let mut out_text = String::new();
        let mut decode_s = 0.0;
        let mut stop_reason = StopReason::MaxTokens;
        let ctx = tf.cfg.context_length;
        while generated.len() < req.max_tokens {
            if cancel.is_cancelled() {
                stop_reason = StopReason::Cancelled;
                break;
            }
            let logits_f = logits.to_dtype(DType::F32)?;
            let logits_f = if s.repeat_penalty != 1.0 && !generated.is_empty() {
                let start = generated.len().saturating_sub(s.repeat_last_n);
                candle_transformers::utils::apply_repeat_penalty(&logits_f, s.repeat_penalty, &generated[start..])?
            } else {
                logits_f
            };
            let banned = ban.banned(&history);
            let logits_f = if banned.is_empty() {
                logits_f
            } else {
                let mut v = logits_f.to_vec1::<f32>()?;
                for &t in banned {
                    if let Some(x) = v.get_mut(t as usize) {
                        *x = f32::NEG_INFINITY;
                    }
                }
                Tensor::from_vec(v, logits_f.dims1()?, logits_f.device())?
            };
            let next = sampler.sample(&logits_f)?;
            history.push(next);
            if !ignore_eos && stop_ids.contains(&next) {
                stop_reason = StopReason::Eos;
                break;
            }
            generated.push(next);
            out_text = self.tok.decode(&generated);
            if !ignore_eos {
                if let Some(cut) =
                    req.stop.iter().filter(|st| !st.is_empty()).filter_map(|st| out_text.find(st.as_str())).min()
                {
                    out_text.truncate(cut);
                    if cut > emitted {
                        on_text(&out_text[emitted..cut]);
                    }
                    emitted = cut;
                    stop_reason = StopReason::StopString;
                    break;
                }
            }
            let safe = safe_emit_end(&out_text, &req.stop);
            if safe > emitted {
                on_text(&out_text[emitted..safe]);
                emitted = safe;
            }
            if generated.len() >= req.max_tokens {
                break;
            }
            if cache.len() + 1 > ctx {
                stop_reason = StopReason::ContextFull;
                break;
            }
            let t = Instant::now();
            logits = tf.forward_last_logits(&[next], &mut cache)?;
            decode_s += t.elapsed().as_secs_f64();
        }
        if stop_reason != StopReason::StopString && out_text.len() > emitted {
            on_text(&out_text[emitted..]);
        }
        let decode_steps = generated.len().saturating_sub(1);
        Ok(Generation {
            text: out_text,
            prompt_tokens: prompt_ids.len(),
            generated_tokens: generated.len(),
            ids: generated,
            stop_reason,
            prefill_tok_s: prompt_ids.len() as f64 / prefill_s.max(1e-9),
            decode_tok_s: if decode_steps > 0 { decode_steps as f64 / decode_s.max(1e-9) } else { 0.0 },
        })
    }

    /// The [`NgramBan`] of a [`NoCopy`]: each text tokenized as it stands and lower-cased,
    /// each also after a space (a quoted phrase mid-sentence starts with a space token), so
    /// that a copy is not let through by a leading space or a lower-cased sentence start.
    fn ngram_ban(&self, nc: &NoCopy) -> Result<NgramBan> {
        let tok = |texts: &[String]| -> Result<Vec<Vec<u32>>> {
            let mut out = Vec::new();
            for t in texts {
                for v in [t.clone(), t.to_lowercase()] {
                    out.push(self.tok.encode(&v, false)?);
                    out.push(self.tok.encode(&format!(" {v}"), false)?);
                }
            }
            Ok(out)
        };
        Ok(NgramBan::new(&tok(&nc.avoid)?, &tok(&nc.allow)?, nc.n))
    }

    /// Log-probability `Σ_t log p(c_t | prompt, c_<t)` of each continuation after the
    /// prompt, from one prefill of the prompt (the cache is rolled back after each continuation).
    /// Continuations are tokenized on their own, without BOS.
    pub fn score(&mut self, prompt: &Prompt, continuations: &[String]) -> Result<Vec<f64>> {
        let tf = self.decoder()?;
        let text = self.prompt_text(prompt);
        let ids = self.tok.encode(&text, true)?;
        if ids.is_empty() {
            bail!("the prompt is empty and the model adds no BOS token");
        }
        let mut cache = tf.new_cache();
        let first = super::transformer::log_softmax(&tf.forward_last_logits(&ids, &mut cache)?)?.to_vec1::<f32>()?;
        let mut out = Vec::with_capacity(continuations.len());
        for c in continuations {
            let cids = self.tok.encode(c, false)?;
            if cids.is_empty() {
                out.push(0.0);
                continue;
            }
            let mut lp = first[cids[0] as usize] as f64;
            if cids.len() > 1 {
                let prompt_len = cache.len();
                let all =
                    super::transformer::log_softmax(&tf.forward_all_logits(&cids[..cids.len() - 1], &mut cache)?)?;
                cache.truncate(prompt_len);
                let all = all.to_vec2::<f32>()?;
                for (row, &next) in all.iter().zip(&cids[1..]) {
                    lp += row[next as usize] as f64;
                }
            }
            out.push(lp);
        }
        Ok(out)
    }

    /// Next-token log-probabilities after a prompt, `[vocab]` (one prefill).
    pub fn next_token_logprobs(&mut self, prompt: &Prompt) -> Result<Vec<f32>> {
        let tf = self.decoder()?;
        let ids = self.tok.encode(&self.prompt_text(prompt), true)?;
        let mut cache = tf.new_cache();
        Ok(super::transformer::log_softmax(&tf.forward_last_logits(&ids, &mut cache)?)?.to_vec1::<f32>()?)
    }

    /// Teacher-forced log-probabilities: feeds `prompt_ids` in one prefill, then `forced` one
    /// token at a time (the decode path), and returns the whole `[vocab]` log-softmax after
    /// the prompt and after each forced token. Parity tests use it
    /// to tell a near-tie (two tokens within rounding of each other) from a real difference.
    pub fn teacher_forced_logprobs(&mut self, prompt_ids: &[u32], forced: &[u32]) -> Result<Vec<Vec<f32>>> {
        let tf = self.decoder()?;
        let mut cache = tf.new_cache();
        let lp = |l: Tensor| -> Result<Vec<f32>> { Ok(super::transformer::log_softmax(&l)?.to_vec1::<f32>()?) };
        let mut out = vec![lp(tf.forward_last_logits(prompt_ids, &mut cache)?)?];
        for &t in forced {
            out.push(lp(tf.forward_last_logits(&[t], &mut cache)?)?);
        }
        Ok(out)
    }

    /// Pooled final hidden states, one vector of `hidden_size` per text.
    ///
    /// Texts are sorted by length and run in right-padded batches of at most
    /// `batch_tokens` tokens. `Last` takes the last real token; `Mean` averages the real
    /// tokens, excluding a leading BOS (whose hidden state is an outlier).
    pub fn embed(&mut self, texts: &[String], pool: Pool) -> Result<Vec<Vec<f32>>> {
        self.embed_batched(texts, pool, FEATURE_BATCH_TOKENS, &mut |_| {})
    }

    /// [`Model::embed`] with a batch budget and a callback after each batch (texts done).
    pub fn embed_batched(
        &mut self,
        texts: &[String],
        pool: Pool,
        batch_tokens: usize,
        on_batch: &mut dyn FnMut(usize),
    ) -> Result<Vec<Vec<f32>>> {
        let max_len = self.max_feature_tokens.min(self.info.context_length).max(2);
        let bos = self.bos();
        let mut encoded: Vec<Vec<u32>> = Vec::with_capacity(texts.len());
        self.feature_truncated = 0;
        if self.feature_layer.is_some() && matches!(&self.backend, Backend::Encoder(_)) {
            bail!("{}: a feature layer can only be chosen for decoder models", self.info.spec);
        }
        for t in texts {
            let mut ids = self.tok.encode(t, true)?;
            if ids.is_empty() {
                ids = self.tok.encode(" ", true)?;
            }
            if ids.len() > max_len {
                self.feature_truncated += 1;
                if self.feature_keep_end {
                    let cut = ids.len() - (max_len - 1);
                    ids.drain(1..cut);
                } else {
                    ids.truncate(max_len);
                }
            }
            encoded.push(ids);
        }
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encoded[i].len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        let device = match &self.backend {
            Backend::Decoder(t) => t.device().clone(),
            Backend::Encoder(e) => e.device().clone(),
        };
        let mut start = 0;
        let mut done = 0;
        while start < order.len() {
            // Grow the batch while (rows × longest) stays within the budget.
            let mut end = start + 1;
            while end < order.len() && (end + 1 - start) * encoded[order[end]].len() <= batch_tokens {
                end += 1;
            }
            let rows = &order[start..end];
            let width = encoded[*rows.last().unwrap()].len();
            let mut flat = Vec::with_capacity(rows.len() * width);
            let mut mask = Vec::with_capacity(rows.len() * width);
            for &r in rows {
                let ids = &encoded[r];
                flat.extend_from_slice(ids);
                flat.extend(std::iter::repeat_n(0u32, width - ids.len()));
                mask.extend(std::iter::repeat_n(1u32, ids.len()));
                mask.extend(std::iter::repeat_n(0u32, width - ids.len()));
            }
            let ids_t = Tensor::from_vec(flat, (rows.len(), width), &device)?;
            let hidden = match &self.backend {
                Backend::Decoder(t) => t.hidden_batch_upto(&ids_t, self.feature_layer)?,
                Backend::Encoder(e) => {
                    let m = Tensor::from_vec(mask, (rows.len(), width), &device)?;
                    e.hidden(&ids_t, &m)?
                }
            };
            let hidden = hidden.to_dtype(DType::F32)?;
            for (bi, &r) in rows.iter().enumerate() {
                let len = encoded[r].len();
                let h = hidden.get(bi)?;
                let mean = || -> Result<Tensor> {
                    let skip = usize::from(
                        matches!(&self.backend, Backend::Decoder(_))
                            && len > 1
                            && bos.is_some()
                            && encoded[r][0] == bos.unwrap(),
                    );
                    Ok(h.narrow(0, skip, len - skip)?.mean(0)?)
                };
                let v = match pool {
                    Pool::Last => h.get(len - 1)?,
                    Pool::Mean => mean()?,
                    Pool::MeanLast => Tensor::cat(&[mean()?, h.get(len - 1)?], 0)?,
                };
                out[r] = v.to_vec1::<f32>()?;
            }
            done += rows.len();
            on_batch(done);
            start = end;
        }
        Ok(out)
    }
}

/// The default token budget of one feature batch (rows × longest row). Measured with
/// `w2sd bench --features --batch-tokens B` on 300 `builtin:sentiment` texts (~19 tokens),
/// 2-core AMD EPYC with AVX2 only: gemma-3-270m 128–512 tokens 372–454 tok/s, 1024 332–341,
/// 2048 309–351; qwen2.5-coder-1.5b-instruct 256 / 512 / 2048 → 48.3 / 47.9 / 35.7 tok/s.
/// Larger batches pad more (one width per batch) and their activations leave the caches.
pub const FEATURE_BATCH_TOKENS: usize = 512;

/// Byte length of the prefix of `text` that is safe to emit: it does not end inside an
/// incomplete UTF-8 sequence (shown as U+FFFD) and no suffix of it could begin a stop string.
fn safe_emit_end(text: &str, stops: &[String]) -> usize {
    let mut end = text.len();
    if text.ends_with('\u{FFFD}') {
        end -= '\u{FFFD}'.len_utf8();
    }
    let mut hold = 0;
    for st in stops.iter().filter(|s| !s.is_empty()) {
        for k in (1..st.len()).rev() {
            if st.is_char_boundary(k) && text[..end].ends_with(&st[..k]) {
                hold = hold.max(k);
                break;
            }
        }
    }
    end - hold
}

/// Reads a GGUF file's header and metadata and checks them before any tensor is read:
/// candle's reader ([`gguf_file::Content::read`]), every tensor's data inside the file's
/// `len` bytes, and a usable tokenizer vocabulary. Every malformed input is an `Err`
/// (the property tests and fuzz targets feed it arbitrary bytes).
pub fn read_gguf_header<R: std::io::Read + std::io::Seek>(
    r: &mut R,
    len: u64,
) -> Result<(gguf_file::Content, GgufTokenizer)> {
    let content =
        gguf_file::Content::read(r).map_err(|e| anyhow!("not a valid GGUF file ({})", super::first_line(&e)))?;
    check_gguf_complete(&content, len)?;
    let vocab = GgufVocab::from_gguf(&content.metadata)?;
    let tok = GgufTokenizer::new(vocab)?;
    Ok((content, tok))
}

/// Checks that every tensor's data lies inside the file.
fn check_gguf_complete(content: &gguf_file::Content, file_len: u64) -> Result<()> {
    let mut need = content.tensor_data_offset;
    for (name, ti) in &content.tensor_infos {
        // Checked arithmetic: a hostile header's dimensions or offsets can overflow (found by
        // the gguf_header fuzz target), and a wrapped size would pass a truncated file.
        let too_large = || anyhow!("tensor {name} has a shape or offset too large to exist ({:?})", ti.shape.dims());
        let elems = ti.shape.dims().iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(too_large)?;
        let bs = ti.ggml_dtype.block_size();
        if elems % bs != 0 {
            bail!("tensor {name} has {elems} elements, not a multiple of its block size {bs}");
        }
        let bytes = (elems / bs).checked_mul(ti.ggml_dtype.type_size()).ok_or_else(too_large)? as u64;
        let end = content
            .tensor_data_offset
            .checked_add(ti.offset)
            .and_then(|x| x.checked_add(bytes))
            .ok_or_else(too_large)?;
        need = need.max(end);
    }
    if file_len < need {
        bail!(
            "the file is truncated: it has {file_len} bytes but its tensors need {need}; delete it and pull it again"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_emit_end;

    /// Found by the `gguf_header` fuzz target: a tensor whose dimensions multiply past
    /// `usize::MAX` panicked (debug) or wrapped (release) in the completeness check.
    #[test]
    fn a_header_with_overflowing_tensor_dims_is_an_error() {
        let bytes: Vec<u8> = vec![
            71, 71, 85, 70, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 255,
            255, 255, 255, 255, 255, 255, 95, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 223, 249, 0, 0, 0, 71, 1, 0, 0, 0, 0, 0, 0,
            0, 3, 0, 0, 0, 0, 0, 0, 255, 0, 17, 17, 17, 17, 17,
        ];
        let mut r = std::io::Cursor::new(&bytes);
        let Err(e) = super::read_gguf_header(&mut r, bytes.len() as u64) else { panic!("accepted") };
        assert!(e.to_string().contains("too large"), "{e}");
    }

    #[test]
    fn holds_back_possible_stop_prefixes() {
        let stops = vec!["\nQuestion:".to_string()];
        assert_eq!(safe_emit_end("Paris\nQue", &stops), 5);
        assert_eq!(safe_emit_end("Paris", &stops), 5);
        assert_eq!(safe_emit_end("Paris\n", &stops), 5);
        assert_eq!(safe_emit_end("ab\u{FFFD}", &[]), 2);
    }
}
