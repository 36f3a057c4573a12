//! `w2sd bench`: prefill and decode throughput of one model.

use anyhow::Result;
use serde::Serialize;

use super::{CancelToken, GenerateRequest, Model, Prompt, Sampling};

#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    pub model: String,
    pub prefill_tokens: usize,
    pub decode_tokens: usize,
    /// Best prefill throughput over the repetitions, tokens per second.
    pub prefill_tok_s: f64,
    /// Best decode throughput over the repetitions, tokens per second.
    pub decode_tok_s: f64,
    pub threads: usize,
    pub device: String,
}

/// A deterministic prompt of exactly `n` tokens for this model (prose repeated, then cut).
pub fn prompt_of_tokens(model: &Model, n: usize) -> Result<String> {
    let base = "The weak supervisor labels each example, and the strong student learns from those labels. \
        A judge reads both explanations before deciding which answer is right, and the debate score records how sure it was. ";
    let mut text = String::new();
    loop {
        text.push_str(base);
        let ids = model.encode(&text, true)?;
        if ids.len() >= n {
            let start = usize::from(!ids.is_empty() && model.adds_bos());
            return model.decode(&ids[start..n]);
        }
    }
}

/// Measures prefill of an `n_prefill`-token prompt and greedy decode of `n_decode`
/// tokens (EOS ignored), `repeat` times, keeping the best of each.
pub fn run(model: &mut Model, n_prefill: usize, n_decode: usize, repeat: usize) -> Result<BenchResult> {
    let prompt = prompt_of_tokens(model, n_prefill)?;
    let mut best_prefill: f64 = 0.0;
    let mut best_decode: f64 = 0.0;
    for _ in 0..repeat {
        let req = GenerateRequest {
            prompt: Prompt::Raw(prompt.clone()),
            max_tokens: n_decode,
            sampling: Sampling::default(),
            stop: vec![],
            no_copy: None,
        };
        let g = model.generate_ignoring_eos(&req, &CancelToken::new())?;
        best_prefill = best_prefill.max(g.prefill_tok_s);
        best_decode = best_decode.max(g.decode_tok_s);
    }
    Ok(BenchResult {
        model: model.info().spec.clone(),
        prefill_tokens: n_prefill,
        decode_tokens: n_decode,
        prefill_tok_s: best_prefill,
        decode_tok_s: best_decode,
        threads: candle_core::utils::get_num_threads(),
        device: super::device::describe(),
    })
}
