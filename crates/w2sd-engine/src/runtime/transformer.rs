//! The project's own decoder-only transformer forward on candle ops and `QMatMul`,
//! covering Gemma 3, Qwen 2/2.5, Qwen 3 and Llama, from GGUF or safetensors.
//!
//! Gemma 3 as llama.cpp runs it (and unlike candle-transformers 0.11.1 `quantized_gemma3`):
//! - embeddings scaled by `√hidden`;
//! - per-head RMSNorm on q and k, then RoPE (NeoX layout); the query scale is `1/√head_dim`;
//! - a post-attention and a post-feed-forward RMSNorm inside each residual branch;
//! - MLP `down(gelu_tanh(gate(x)) ⊙ up(x))`;
//! - five sliding-window layers (window 512, RoPE base 10 000) for every global layer
//!   (RoPE base from the file): layer `l` is global iff `l mod 6 = 5`. A query at position
//!   `i` sees key `j` iff `j ≤ i` and, on sliding layers, `i − j < window`.
//!
//! The mask is built for every chunk from absolute positions, so prefill in chunks after
//! position 0 is exact.

use anyhow::{anyhow, bail, Context, Result};
use candle_core::quantized::{gguf_file, GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Tensor, D};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Gemma3,
    Qwen2,
    Qwen3,
    Llama,
}

impl Arch {
    pub fn name(&self) -> &'static str {
        match self {
            Arch::Gemma3 => "gemma3",
            Arch::Qwen2 => "qwen2",
            Arch::Qwen3 => "qwen3",
            Arch::Llama => "llama",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    GeluTanh,
    Silu,
}

/// Hyper-parameters of one model.
#[derive(Debug, Clone)]
pub struct Config {
    pub arch: Arch,
    pub n_layer: usize,
    pub hidden: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub eps: f64,
    pub rope_theta: f32,
    /// RoPE base of sliding-window layers (Gemma 3).
    pub rope_theta_local: f32,
    /// Linear RoPE scaling of global layers (positions divided by it).
    pub rope_scale: f32,
    /// Interleaved RoPE pairs (llama.cpp `NORM`, GGUF Llama) instead of NeoX halves.
    pub rope_interleaved: bool,
    pub sliding_window: Option<usize>,
    /// Every `sliding_pattern`-th layer is global; 0 = all global.
    pub sliding_pattern: usize,
    pub context_length: usize,
    pub embed_scale: Option<f32>,
    pub attn_scale: f32,
    pub act: Activation,
}

impl Config {
    pub fn is_sliding(&self, layer: usize) -> bool {
        self.sliding_window.is_some()
            && self.sliding_pattern > 0
            && layer % self.sliding_pattern < self.sliding_pattern - 1
    }
}

struct Linear {
    w: QMatMul,
    b: Option<Tensor>,
    /// The dequantized weight `[n, k]`, made on the first prefill that takes the f32 GEMM
    /// route: weights with neither candle's repacked kernels nor the int8 GEMM (on CPUs
    /// without AVX512-VNNI, the Q5_0/Q8_0 weights of models whose hidden size is not a
    /// multiple of 256; other legacy types everywhere).
    dense: std::sync::OnceLock<Tensor>,
    /// The weight repacked for the int8 GEMM ([`super::int8_gemm`]), made on the first
    /// prefill that takes that route.
    packed: std::sync::OnceLock<super::int8_gemm::Packed>,
    /// A Q4_K/Q6_K weight interleaved 16 rows at a time ([`super::kquant_tiles`]), made at
    /// load (as llama.cpp repacks at load) where this CPU runs those kernels; every CPU
    /// product with the weight then takes it, so candle's repacked copy is never made.
    tiles: Option<super::kquant_tiles::Tiles>,
}

/// Rows of input from which a CPU matmul against a weight without a repacked kernel goes
/// through f32 GEMM on the dequantized weight instead of one quantized dot product per
/// (row, column): the GEMM costs `O(m·k·n)` at SIMD speed. The activations are first
/// rounded through Q8_0, as ggml's quantized products do, so the products are the same.
const F32_GEMM_MIN_ROWS: usize = 16;

/// How a CPU product with a quantized weight is computed.
#[derive(Clone, Copy, PartialEq)]
enum Route {
    /// candle's `QMatMul` (repacked kernels, or anything not below).
    Candle,
    /// f32 GEMM on the dequantized weight; `round_trip`: activations rounded through Q8_0 first.
    Gemm { round_trip: bool },
    /// [`super::q5_0::matmul_t`] on the compact Q5_0 blocks (few rows: decoding).
    Q5_0,
    /// [`super::compact_gemv::matmul_t`] on compact Q4_K/Q6_K blocks (few rows: decoding).
    Compact,
    /// [`super::kquant_tiles::matmul_t`] on the Q4_K/Q6_K weight interleaved at load.
    Tiles,
    /// [`super::int8_gemm`] on the repacked Q5_0/Q8_0 weight (many rows: prefill, features).
    Int8,
}

/// Whether products of many rows (prefill, features) also take the K-quant tiles (else
/// candle's repacked kernels); `W2SD_TILES_PREFILL=0` turns it off.
fn tiles_prefill() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("W2SD_TILES_PREFILL").as_deref() != Ok("0"))
}

/// Whether decoding products with Q4_K/Q6_K weights read the compact blocks
/// ([`super::compact_gemv`]); `W2SD_COMPACT_GEMV=0` turns it off (for side-by-side benchmarks).
fn compact_gemv_on() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("W2SD_COMPACT_GEMV").as_deref() != Ok("0"))
}

impl Linear {
    fn new(w: QMatMul, b: Option<Tensor>) -> Self {
        Self { w, b, dense: std::sync::OnceLock::new(), packed: std::sync::OnceLock::new(), tiles: None }
    }

    /// Interleaves a Q4_K/Q6_K weight on the CPU for [`super::kquant_tiles`], where it takes them.
    fn with_tiles(mut self) -> candle_core::Result<Self> {
        if let QMatMul::QTensor(q) = &self.w {
            let (n, k) = q.shape().dims2()?;
            if q.device().is_cpu() && super::kquant_tiles::handles(q.dtype(), n, k) {
                let tiles = super::kquant_tiles::pack(&q.data()?, q.dtype(), n, k)
                    .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
                self.tiles = Some(tiles);
            }
        }
        Ok(self)
    }

    fn route(&self, x: &Tensor) -> candle_core::Result<Route> {
        let QMatMul::QTensor(q) = &self.w else { return Ok(Route::Candle) };
        let (n, k) = q.shape().dims2()?;
        let rows = x.elem_count() / k.max(1);
        // candle's AMX kernel (Q4_K, 32 rows or more) keeps prefill where the CPU has AMX.
        let amx_prefill = rows >= 32 && q.dtype() == GgmlDType::Q4K && super::device::amx();
        // Decoding takes the tiles on AVX-512 VNNI only: with AVX2, one activation row per
        // unpacked weight register costs as many instructions per weight as ggml's row-by-row
        // `vec_dot`, and measured slower (below, `Route::Compact`).
        let decode_tiles = super::kquant_tiles::simd() == Some(super::device::Simd::Avx512Vnni);
        let tiles_here =
            if rows <= super::compact_gemv::MAX_ROWS { decode_tiles } else { tiles_prefill() && !amx_prefill };
        if self.tiles.is_some() && x.device().is_cpu() && tiles_here {
            return Ok(Route::Tiles);
        }
        // Decoding with Q4_K/Q6_K reads their compact blocks (fewer bytes than repacked tiles).
        if x.device().is_cpu()
            && rows <= super::compact_gemv::MAX_ROWS
            && compact_gemv_on()
            && super::compact_gemv::handles(q.dtype(), k)
        {
            return Ok(Route::Compact);
        }
        // Q4_K/Q6_K/Q8_0 with k a multiple of 256 have candle's repacked (VNNI/AMX) kernels.
        let repacked = k % 256 == 0 && matches!(q.dtype(), GgmlDType::Q4K | GgmlDType::Q6K | GgmlDType::Q8_0);
        if !x.device().is_cpu() || repacked {
            return Ok(Route::Candle);
        }
        if rows >= F32_GEMM_MIN_ROWS && super::int8_gemm::handles(q.dtype(), n, k) && super::int8_gemm::available() {
            return Ok(Route::Int8);
        }
        if rows >= F32_GEMM_MIN_ROWS {
            let legacy = matches!(
                q.dtype(),
                GgmlDType::Q4_0 | GgmlDType::Q4_1 | GgmlDType::Q5_0 | GgmlDType::Q5_1 | GgmlDType::Q8_0
            );
            return Ok(Route::Gemm { round_trip: legacy && k % 32 == 0 });
        }
        if q.dtype() == GgmlDType::Q5_0 && super::q5_0::available() {
            return Ok(Route::Q5_0);
        }
        Ok(Route::Candle)
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self.route(x)? {
            Route::Candle => self.add_bias(self.w.forward(x)?),
            Route::Gemm { round_trip: true } => self.gemm(&q8_0_round_trip(x)?),
            Route::Gemm { round_trip: false } => self.gemm(x),
            Route::Q5_0 => self.own_kernel(x, |q, xs, shape| {
                let mut y = vec![0f32; shape.0 * shape.2];
                super::q5_0::matmul_t(&q.data()?, xs, shape, &mut y)
                    .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
                Ok(y)
            }),
            Route::Compact => self.own_kernel(x, super::compact_gemv::matmul_t),
            Route::Tiles => self.own_kernel(x, |_, xs, (m, _, _)| {
                let tiles = self.tiles.as_ref().expect("route");
                super::kquant_tiles::matmul_t(tiles, xs, m).map_err(|e| candle_core::Error::Msg(e.to_string()))
            }),
            Route::Int8 => self.int8(x, &super::int8_gemm::quantize(&x.flatten_all()?.to_vec1()?, self.k()?)),
        }
    }

    /// The weight's input size `k`.
    fn k(&self) -> candle_core::Result<usize> {
        let QMatMul::QTensor(q) = &self.w else { unreachable!("route") };
        Ok(q.shape().dims2()?.1)
    }

    /// `x · Wᵀ (+ b)` by the int8 GEMM, for `x` (whose shape the output follows) already
    /// quantized to `xq`.
    fn int8(&self, x: &Tensor, xq: &super::int8_gemm::QuantizedRows) -> candle_core::Result<Tensor> {
        let QMatMul::QTensor(q) = &self.w else { unreachable!("route") };
        let msg = |e: anyhow::Error| candle_core::Error::Msg(e.to_string());
        let w = match self.packed.get() {
            Some(w) => w,
            None => {
                let (n, k) = q.shape().dims2()?;
                let _ = self.packed.set(super::int8_gemm::pack(&q.data()?, q.dtype(), n, k).map_err(msg)?);
                self.packed.get().expect("just set")
            }
        };
        let y = super::int8_gemm::matmul_t(w, xq).map_err(msg)?;
        let mut dims = x.dims().to_vec();
        *dims.last_mut().unwrap() = q.shape().dims2()?.0;
        self.add_bias(Tensor::from_vec(y, dims, x.device())?)
    }

    /// `x · Wᵀ (+ b)` through one of w2sd's own kernels on the quantized weight, which takes
    /// the flattened activations and `(rows, k, n)` and returns the `rows × n` product.
    fn own_kernel(
        &self,
        x: &Tensor,
        kernel: impl FnOnce(&QTensor, &[f32], (usize, usize, usize)) -> candle_core::Result<Vec<f32>>,
    ) -> candle_core::Result<Tensor> {
        let QMatMul::QTensor(q) = &self.w else { unreachable!("route") };
        let (n, k) = q.shape().dims2()?;
        let rows = x.elem_count() / k;
        let xs: Vec<f32> = x.flatten_all()?.to_vec1()?;
        let y = kernel(q, &xs, (rows, k, n))?;
        let mut dims = x.dims().to_vec();
        *dims.last_mut().unwrap() = n;
        self.add_bias(Tensor::from_vec(y, dims, x.device())?)
    }

    /// `x · Wᵀ (+ b)` in f32 with the cached dequantized weight.
    fn gemm(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let w = match self.dense.get() {
            Some(w) => w.clone(),
            None => {
                let QMatMul::QTensor(q) = &self.w else { unreachable!("route") };
                let w = q.dequantize(x.device())?;
                let _ = self.dense.set(w.clone());
                w
            }
        };
        self.add_bias(x.broadcast_matmul(&w.t()?)?)
    }

    fn add_bias(&self, y: Tensor) -> candle_core::Result<Tensor> {
        match &self.b {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }
}

/// `x` with every value replaced by its Q8_0 round trip ([`super::q5_0::q8_0_round_trip`]).
fn q8_0_round_trip(x: &Tensor) -> candle_core::Result<Tensor> {
    let mut xs: Vec<f32> = x.flatten_all()?.to_vec1()?;
    super::q5_0::q8_0_round_trip(&mut xs);
    Tensor::from_vec(xs, x.dims(), x.device())
}

/// Applies several linears to the same input. When all weights share a quantized type
/// that candle's repacked kernels take, the input is quantized once and all products run
/// in one parallel region (`gemv_fused_shared_lhs`); otherwise one matmul each.
fn forward_shared<const N: usize>(ls: [&Linear; N], x: &Tensor) -> candle_core::Result<[Tensor; N]> {
    let qs: Vec<&QTensor> = ls
        .iter()
        .filter_map(|l| match &l.w {
            QMatMul::QTensor(t) => Some(t.as_ref()),
            _ => None,
        })
        .collect();
    let compact = ls.iter().all(|l| matches!(l.route(x), Ok(Route::Compact | Route::Tiles)));
    if qs.len() == N && x.device().is_cpu() && !compact {
        let x = x.contiguous()?;
        if let Some(outs) = QTensor::gemv_fused_shared_lhs(&qs, &x)? {
            let mut it = outs.into_iter().zip(ls);
            return std::array::from_fn(|_| {
                let (y, l) = it.next().unwrap();
                l.add_bias(y)
            })
            .try_map_all();
        }
    }
    // Several f32-GEMM products of one input round it through Q8_0 once.
    let routes: Vec<Route> = ls.iter().map(|l| l.route(x)).collect::<candle_core::Result<_>>()?;
    // Several int8 products of one input quantize it once.
    if routes.iter().all(|r| *r == Route::Int8) {
        let xq = super::int8_gemm::quantize(&x.flatten_all()?.to_vec1()?, ls[0].k()?);
        let mut it = ls.into_iter();
        return std::array::from_fn(|_| it.next().unwrap().int8(x, &xq)).try_map_all();
    }
    if routes.iter().all(|r| *r == Route::Gemm { round_trip: true }) {
        let xr = q8_0_round_trip(x)?;
        let mut it = ls.into_iter();
        return std::array::from_fn(|_| it.next().unwrap().gemm(&xr)).try_map_all();
    }
    let mut it = ls.into_iter();
    std::array::from_fn(|_| it.next().unwrap().forward(x)).try_map_all()
}

trait TryMapAll<const N: usize> {
    fn try_map_all(self) -> candle_core::Result<[Tensor; N]>;
}

impl<const N: usize> TryMapAll<N> for [candle_core::Result<Tensor>; N] {
    fn try_map_all(self) -> candle_core::Result<[Tensor; N]> {
        let v: Vec<Tensor> = self.into_iter().collect::<candle_core::Result<_>>()?;
        Ok(v.try_into().unwrap_or_else(|_| unreachable!("length is N")))
    }
}

struct RmsNorm {
    w: Tensor,
    eps: f32,
}

impl RmsNorm {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::rms_norm(x, &self.w, self.eps)
    }
}

struct Layer {
    attn_norm: RmsNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    q_norm: Option<RmsNorm>,
    k_norm: Option<RmsNorm>,
    post_attn_norm: Option<RmsNorm>,
    ffn_norm: RmsNorm,
    gate: Linear,
    up: Linear,
    down: Linear,
    post_ffn_norm: Option<RmsNorm>,
}

/// Per-layer key/value cache in preallocated buffers `[b, kv_heads, capacity, head_dim]`
/// that grow by doubling. Positions `0..len` are valid; [`KvCache::truncate`] only moves
/// `len`, so scoring several continuations after one prefill costs no copy.
#[derive(Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
}

impl KvCache {
    pub fn new(n_layer: usize) -> Self {
        Self { layers: (0..n_layer).map(|_| None).collect(), len: 0 }
    }
    /// Number of positions cached.
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn clear(&mut self) {
        self.len = 0;
    }
    /// Keeps the first `n` positions.
    pub fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n);
    }

    /// Writes `k`, `v` `[b, kv, s, d]` at positions `len..len+s` of layer `li` and returns
    /// views of positions `0..len+s`. The caller advances `len` once per forward.
    fn append(&mut self, li: usize, k: &Tensor, v: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
        let (b, h, s, d) = k.dims4()?;
        let need = self.len + s;
        let grow = match &self.layers[li] {
            Some((kb, _)) => kb.dim(2)? < need,
            None => true,
        };
        if grow {
            let cap = need.next_power_of_two().max(256);
            let kb = Tensor::zeros((b, h, cap, d), k.dtype(), k.device())?;
            let vb = Tensor::zeros((b, h, cap, d), v.dtype(), v.device())?;
            if let Some((ok, ov)) = &self.layers[li] {
                if self.len > 0 {
                    kb.slice_set(&ok.narrow(2, 0, self.len)?.contiguous()?, 2, 0)?;
                    vb.slice_set(&ov.narrow(2, 0, self.len)?.contiguous()?, 2, 0)?;
                }
            }
            self.layers[li] = Some((kb, vb));
        }
        let (kb, vb) = self.layers[li].as_ref().unwrap();
        kb.slice_set(k, 2, self.len)?;
        vb.slice_set(v, 2, self.len)?;
        Ok((kb.narrow(2, 0, need)?, vb.narrow(2, 0, need)?))
    }

    /// The whole buffers `[b, kv_heads, capacity, head_dim]` of layer `li` (after an append).
    fn buffers(&self, li: usize) -> Option<&(Tensor, Tensor)> {
        self.layers.get(li)?.as_ref()
    }
}

/// Whether decoding takes the fused attention ([`super::attention`]); `W2SD_FUSED_ATTENTION=0`
/// keeps the GEMM–softmax–GEMM chain (for side-by-side benchmarks).
fn fused_attention_on() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("W2SD_FUSED_ATTENTION").as_deref() != Ok("0"))
}

/// The f32 values of a contiguous CPU tensor.
fn cpu_f32<'a>(storage: &'a candle_core::Storage, layout: &candle_core::Layout) -> Option<&'a [f32]> {
    let candle_core::Storage::Cpu(cpu) = storage else { return None };
    let (a, z) = layout.contiguous_offsets()?;
    cpu.as_slice::<f32>().ok().map(|all| &all[a..z])
}

/// [`super::attention::attend`] of `q` `[b, heads, s, d]` against the whole cache buffers
/// `kb`, `vb` `[b, kv_heads, cap, d]` (positions `0..pos + s` valid): `[b, s, heads·d]`, or
/// `None` where the tensors are not contiguous f32 on the CPU.
fn attend_cached(
    q: &Tensor,
    (kb, vb): &(Tensor, Tensor),
    pos: usize,
    window: Option<usize>,
    scale: f32,
) -> candle_core::Result<Option<Tensor>> {
    let (b, heads, s, d) = q.dims4()?;
    let (_, kv_heads, cap, _) = kb.dims4()?;
    let (qs, ql) = q.storage_and_layout();
    let (ks, kl) = kb.storage_and_layout();
    let (vs, vl) = vb.storage_and_layout();
    let (Some(qv), Some(kv), Some(vv)) = (cpu_f32(&qs, ql), cpu_f32(&ks, kl), cpu_f32(&vs, vl)) else {
        return Ok(None);
    };
    let dims = super::attention::Dims { b, heads, kv_heads, s, d, cap, pos };
    let y = super::attention::attend(qv, kv, vv, dims, window, scale);
    Ok(Some(Tensor::from_vec(y, (b, s, heads * d), q.device())?))
}

/// A decoder-only transformer.
pub struct Transformer {
    pub cfg: Config,
    /// Token embeddings `[vocab, hidden]` (kept quantized on the CPU for GGUF models).
    embed: super::embedding::Embedding,
    layers: Vec<Layer>,
    norm: RmsNorm,
    lm_head: QMatMul,
    device: Device,
}

/// Reads GGUF tensors by name.
struct GgufWeights<'a, R: std::io::Read + std::io::Seek> {
    content: &'a gguf_file::Content,
    reader: &'a mut R,
    device: &'a Device,
}

impl<R: std::io::Read + std::io::Seek> GgufWeights<'_, R> {
    fn has(&self, name: &str) -> bool {
        self.content.tensor_infos.contains_key(name)
    }
    fn qtensor(&mut self, name: &str) -> Result<QTensor> {
        self.content
            .tensor(self.reader, name, self.device)
            .map_err(|e| anyhow!("cannot read tensor {name} ({}); is the file damaged?", super::first_line(&e)))
    }
    fn f32(&mut self, name: &str) -> Result<Tensor> {
        Ok(self.qtensor(name)?.dequantize(self.device)?)
    }
    fn linear(&mut self, name: &str) -> Result<Linear> {
        let w = QMatMul::from_arc(Arc::new(self.qtensor(&format!("{name}.weight"))?))?;
        let bn = format!("{name}.bias");
        let b = if self.has(&bn) { Some(self.f32(&bn)?) } else { None };
        Ok(Linear::new(w, b).with_tiles()?)
    }
    fn norm(&mut self, name: &str, eps: f64) -> Result<RmsNorm> {
        Ok(RmsNorm { w: self.f32(&format!("{name}.weight"))?, eps: eps as f32 })
    }
    fn opt_norm(&mut self, name: &str, eps: f64) -> Result<Option<RmsNorm>> {
        if self.has(&format!("{name}.weight")) {
            Ok(Some(self.norm(name, eps)?))
        } else {
            Ok(None)
        }
    }
}

fn md_u32(md: &HashMap<String, gguf_file::Value>, key: &str) -> Result<u32> {
    md.get(key).ok_or_else(|| anyhow!("missing metadata {key}"))?.to_u32().map_err(|e| anyhow!("metadata {key}: {e}"))
}

fn md_f32(md: &HashMap<String, gguf_file::Value>, key: &str) -> Option<f32> {
    md.get(key).and_then(|v| v.to_f32().ok())
}

impl Transformer {
    /// Builds the model from a GGUF file's content.
    pub fn from_gguf<R: std::io::Read + std::io::Seek>(
        content: &gguf_file::Content,
        reader: &mut R,
        device: &Device,
    ) -> Result<Self> {
        let md = &content.metadata;
        let arch_name = md
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .ok_or_else(|| anyhow!("missing metadata general.architecture"))?
            .clone();
        let arch = match arch_name.as_str() {
            "gemma3" => Arch::Gemma3,
            "qwen2" => Arch::Qwen2,
            "qwen3" => Arch::Qwen3,
            "llama" => Arch::Llama,
            other => bail!("unsupported architecture {other:?} (supported: gemma3, qwen2, qwen3, llama)"),
        };
        let p = |k: &str| format!("{arch_name}.{k}");
        let n_layer = md_u32(md, &p("block_count"))? as usize;
        let hidden = md_u32(md, &p("embedding_length"))? as usize;
        let n_head = md_u32(md, &p("attention.head_count"))? as usize;
        let n_kv_head = md_u32(md, &p("attention.head_count_kv")).unwrap_or(n_head as u32) as usize;
        let head_dim = md_u32(md, &p("attention.key_length")).map(|x| x as usize).unwrap_or(hidden / n_head);
        let eps = md_f32(md, &p("attention.layer_norm_rms_epsilon")).unwrap_or(1e-6) as f64;
        let context_length = md_u32(md, &p("context_length")).unwrap_or(4096) as usize;
        let gemma = arch == Arch::Gemma3;
        let cfg = Config {
            arch,
            n_layer,
            hidden,
            n_head,
            n_kv_head,
            head_dim,
            eps,
            rope_theta: md_f32(md, &p("rope.freq_base")).unwrap_or(if gemma { 1_000_000.0 } else { 10_000.0 }),
            rope_theta_local: 10_000.0,
            rope_scale: if gemma { md_f32(md, &p("rope.scaling.factor")).unwrap_or(1.0) } else { 1.0 },
            rope_interleaved: arch == Arch::Llama,
            sliding_window: if gemma {
                Some(md_u32(md, &p("attention.sliding_window")).unwrap_or(512) as usize)
            } else {
                None
            },
            sliding_pattern: if gemma { 6 } else { 0 },
            context_length,
            embed_scale: gemma.then(|| (hidden as f32).sqrt()),
            attn_scale: 1.0 / (head_dim as f32).sqrt(),
            act: if gemma { Activation::GeluTanh } else { Activation::Silu },
        };
        let mut w = GgufWeights { content, reader, device };
        let embed_q = Arc::new(w.qtensor("token_embd.weight")?);
        let embed = super::embedding::Embedding::from_quantized(embed_q.clone(), device)?;
        let lm_head = if w.has("output.weight") {
            QMatMul::from_arc(Arc::new(w.qtensor("output.weight")?))?
        } else {
            QMatMul::from_arc(embed_q)?
        };
        let mut layers = Vec::with_capacity(n_layer);
        for i in 0..n_layer {
            let b = format!("blk.{i}");
            layers.push(Layer {
                attn_norm: w.norm(&format!("{b}.attn_norm"), eps)?,
                q: w.linear(&format!("{b}.attn_q"))?,
                k: w.linear(&format!("{b}.attn_k"))?,
                v: w.linear(&format!("{b}.attn_v"))?,
                o: w.linear(&format!("{b}.attn_output"))?,
                q_norm: w.opt_norm(&format!("{b}.attn_q_norm"), eps)?,
                k_norm: w.opt_norm(&format!("{b}.attn_k_norm"), eps)?,
                post_attn_norm: w.opt_norm(&format!("{b}.post_attention_norm"), eps)?,
                ffn_norm: w.norm(&format!("{b}.ffn_norm"), eps)?,
                gate: w.linear(&format!("{b}.ffn_gate"))?,
                up: w.linear(&format!("{b}.ffn_up"))?,
                down: w.linear(&format!("{b}.ffn_down"))?,
                post_ffn_norm: w.opt_norm(&format!("{b}.post_ffw_norm"), eps)?,
            });
        }
        let norm = w.norm("output_norm", eps)?;
        Ok(Self { cfg, embed, layers, norm, lm_head, device: device.clone() })
    }

    /// Builds the model from a Hugging Face folder (`config.json` + safetensors), for
    /// `qwen2`, `qwen3`, `llama` and `gemma3_text` model types. Weights are kept in f32.
    pub fn from_safetensors(config: &serde_json::Value, files: &[std::path::PathBuf], device: &Device) -> Result<Self> {
        let model_type = config["model_type"].as_str().unwrap_or("");
        let arch = match model_type {
            "qwen2" => Arch::Qwen2,
            "qwen3" => Arch::Qwen3,
            "llama" => Arch::Llama,
            "gemma3_text" => Arch::Gemma3,
            other => {
                bail!("unsupported model_type {other:?} in config.json (supported: qwen2, qwen3, llama, gemma3_text)")
            }
        };
        let u = |k: &str| config[k].as_u64().map(|x| x as usize);
        let hidden = u("hidden_size").ok_or_else(|| anyhow!("config.json lacks hidden_size"))?;
        let n_head = u("num_attention_heads").ok_or_else(|| anyhow!("config.json lacks num_attention_heads"))?;
        let n_kv_head = u("num_key_value_heads").unwrap_or(n_head);
        let head_dim = u("head_dim").unwrap_or(hidden / n_head);
        let n_layer = u("num_hidden_layers").ok_or_else(|| anyhow!("config.json lacks num_hidden_layers"))?;
        let eps = config["rms_norm_eps"].as_f64().unwrap_or(1e-6);
        let gemma = arch == Arch::Gemma3;
        let cfg = Config {
            arch,
            n_layer,
            hidden,
            n_head,
            n_kv_head,
            head_dim,
            eps,
            rope_theta: config["rope_theta"].as_f64().unwrap_or(10_000.0) as f32,
            rope_theta_local: config["rope_local_base_freq"].as_f64().unwrap_or(10_000.0) as f32,
            rope_scale: config["rope_scaling"]["factor"].as_f64().filter(|_| gemma).unwrap_or(1.0) as f32,
            rope_interleaved: false,
            sliding_window: if gemma { u("sliding_window").or(Some(512)) } else { None },
            sliding_pattern: if gemma { u("sliding_window_pattern").unwrap_or(6) } else { 0 },
            context_length: u("max_position_embeddings").unwrap_or(4096),
            embed_scale: gemma.then(|| (hidden as f32).sqrt()),
            attn_scale: 1.0 / (u("query_pre_attn_scalar").unwrap_or(head_dim) as f32).sqrt(),
            act: if gemma { Activation::GeluTanh } else { Activation::Silu },
        };
        let vb = unsafe { candle_nn::VarBuilder::from_mmaped_safetensors(files, DType::F32, device)? };
        let vb = if vb.contains_tensor("model.embed_tokens.weight") { vb.pp("model") } else { vb };
        let t =
            |name: &str| -> Result<Tensor> { vb.get_unchecked(name).with_context(|| format!("missing tensor {name}")) };
        let lin = |name: &str| -> Result<Linear> {
            let w = t(&format!("{name}.weight"))?;
            let b = vb.get_unchecked(&format!("{name}.bias")).ok();
            Ok(Linear::new(QMatMul::Tensor(w), b))
        };
        // Gemma stores norm weights as an offset from 1.
        let norm = |name: &str| -> Result<RmsNorm> {
            let w = t(&format!("{name}.weight"))?;
            Ok(RmsNorm { w: if gemma { (w + 1.0)? } else { w }, eps: eps as f32 })
        };
        let opt_norm = |name: &str| -> Result<Option<RmsNorm>> {
            if vb.contains_tensor(&format!("{name}.weight")) {
                Ok(Some(norm(name)?))
            } else {
                Ok(None)
            }
        };
        let embed_f32 = t("embed_tokens.weight")?;
        let lm_head = match vb.root().get_unchecked("lm_head.weight") {
            Ok(w) if config["tie_word_embeddings"].as_bool() != Some(true) => QMatMul::Tensor(w),
            _ => QMatMul::Tensor(embed_f32.clone()),
        };
        let mut layers = Vec::with_capacity(n_layer);
        for i in 0..n_layer {
            let b = format!("layers.{i}");
            layers.push(Layer {
                attn_norm: norm(&format!("{b}.input_layernorm"))?,
                q: lin(&format!("{b}.self_attn.q_proj"))?,
                k: lin(&format!("{b}.self_attn.k_proj"))?,
                v: lin(&format!("{b}.self_attn.v_proj"))?,
                o: lin(&format!("{b}.self_attn.o_proj"))?,
                q_norm: opt_norm(&format!("{b}.self_attn.q_norm"))?,
                k_norm: opt_norm(&format!("{b}.self_attn.k_norm"))?,
                post_attn_norm: if gemma { opt_norm(&format!("{b}.post_attention_layernorm"))? } else { None },
                ffn_norm: if gemma {
                    norm(&format!("{b}.pre_feedforward_layernorm"))?
                } else {
                    norm(&format!("{b}.post_attention_layernorm"))?
                },
                gate: lin(&format!("{b}.mlp.gate_proj"))?,
                up: lin(&format!("{b}.mlp.up_proj"))?,
                down: lin(&format!("{b}.mlp.down_proj"))?,
                post_ffn_norm: if gemma { opt_norm(&format!("{b}.post_feedforward_layernorm"))? } else { None },
            });
        }
        let norm_f = norm("norm")?;
        let embed = super::embedding::Embedding::Dense(embed_f32);
        Ok(Self { cfg, embed, layers, norm: norm_f, lm_head, device: device.clone() })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn new_cache(&self) -> KvCache {
        KvCache::new(self.cfg.n_layer)
    }

    pub fn vocab_size(&self) -> usize {
        self.embed.vocab()
    }

    /// `cos`, `sin` tables `[s, head_dim/2]` for positions `pos..pos+s` with base `theta`
    /// (`θ_i = pos / scale · theta^{−2i/d}`).
    fn rope_tables(&self, pos: usize, s: usize, theta: f32, scale: f32) -> Result<(Tensor, Tensor)> {
        let half = self.cfg.head_dim / 2;
        let inv: Vec<f32> = (0..half).map(|i| 1.0 / theta.powf(2.0 * i as f32 / self.cfg.head_dim as f32)).collect();
        let mut cos = Vec::with_capacity(s * half);
        let mut sin = Vec::with_capacity(s * half);
        for p in pos..pos + s {
            let p = p as f32 / scale;
            for f in &inv {
                let a = p * f;
                cos.push(a.cos());
                sin.push(a.sin());
            }
        }
        Ok((Tensor::from_vec(cos, (s, half), &self.device)?, Tensor::from_vec(sin, (s, half), &self.device)?))
    }

    /// Additive mask `[n_rep·s, kv]` (rows repeat per query head of a kv group): 0 where
    /// query `pos+i` sees key `j`, −∞ elsewhere; `None` when nothing is masked.
    fn mask(&self, pos: usize, s: usize, kv: usize, window: Option<usize>) -> Result<Option<Tensor>> {
        let mut any = false;
        let rows = s * (self.cfg.n_head / self.cfg.n_kv_head);
        let mut m = vec![0f32; rows * kv];
        for r in 0..rows {
            let i = r % s;
            let qi = pos + i;
            for j in 0..kv {
                let hidden = j > qi || window.is_some_and(|w| qi - j.min(qi) >= w);
                if hidden {
                    m[r * kv + j] = f32::NEG_INFINITY;
                    any = true;
                }
            }
        }
        if !any {
            return Ok(None);
        }
        Ok(Some(Tensor::from_vec(m, (rows, kv), &self.device)?))
    }

    /// Embeds `ids` `[b, s]` into `[b, s, hidden]` f32.
    fn embed(&self, ids: &Tensor) -> Result<Tensor> {
        let (b, s) = ids.dims2()?;
        let flat = ids.flatten_all()?;
        let x = self.embed.lookup(&flat)?.reshape((b, s, self.cfg.hidden))?;
        Ok(match self.cfg.embed_scale {
            Some(k) => (x * k as f64)?,
            None => x,
        })
    }

    /// Runs `ids` `[b, s]` at absolute positions `cache.len()..`, appending to the cache,
    /// and returns the final-normed hidden states `[b, s, hidden]`.
    pub fn forward_hidden(&self, ids: &Tensor, cache: &mut KvCache) -> Result<Tensor> {
        self.forward_hidden_upto(ids, cache, None)
    }

    /// [`Self::forward_hidden`] that stops after `layers` blocks when given (`1..=n_layer`)
    /// and returns that block's residual stream, without the final norm (the hidden state
    /// of layer k, as feature probes use it); `None` runs every block and applies the norm.
    pub fn forward_hidden_upto(&self, ids: &Tensor, cache: &mut KvCache, layers: Option<usize>) -> Result<Tensor> {
        if let Some(k) = layers {
            if k == 0 || k > self.cfg.n_layer {
                bail!("layer {k} is out of range: this model has layers 1..={}", self.cfg.n_layer);
            }
        }
        let (b, s) = ids.dims2()?;
        let pos = cache.len();
        if pos + s > self.cfg.context_length {
            bail!("context full: {} + {} tokens exceed the model's {} positions", pos, s, self.cfg.context_length);
        }
        let cfg = &self.cfg;
        let mut x = self.embed(ids)?;
        let global = self.rope_tables(pos, s, cfg.rope_theta, cfg.rope_scale)?;
        let local = if cfg.sliding_window.is_some() {
            Some(self.rope_tables(pos, s, cfg.rope_theta_local, 1.0)?)
        } else {
            None
        };
        let kv_len = pos + s;
        let mask_global = self.mask(pos, s, kv_len, None)?;
        let mask_local = match cfg.sliding_window {
            Some(w) => self.mask(pos, s, kv_len, Some(w))?,
            None => None,
        };
        for (li, layer) in self.layers.iter().enumerate() {
            let sliding = cfg.is_sliding(li);
            let (cos, sin) = if sliding { local.as_ref().unwrap() } else { &global };
            let mask = if sliding { &mask_local } else { &mask_global };
            let h = layer.attn_norm.forward(&x)?;
            let [q, k, v] = forward_shared([&layer.q, &layer.k, &layer.v], &h)?;
            let q = q.reshape((b, s, cfg.n_head, cfg.head_dim))?;
            let k = k.reshape((b, s, cfg.n_kv_head, cfg.head_dim))?;
            let v = v.reshape((b, s, cfg.n_kv_head, cfg.head_dim))?;
            let q = match &layer.q_norm {
                Some(n) => n.forward(&q)?,
                None => q,
            };
            let k = match &layer.k_norm {
                Some(n) => n.forward(&k)?,
                None => k,
            };
            let q = q.transpose(1, 2)?.contiguous()?;
            let k = k.transpose(1, 2)?.contiguous()?;
            let v = v.transpose(1, 2)?.contiguous()?;
            let (q, k) = if cfg.rope_interleaved {
                (candle_nn::rotary_emb::rope_i(&q, cos, sin)?, candle_nn::rotary_emb::rope_i(&k, cos, sin)?)
            } else {
                (candle_nn::rotary_emb::rope(&q, cos, sin)?, candle_nn::rotary_emb::rope(&k, cos, sin)?)
            };
            let (k, v) = cache.append(li, &k, &v)?;
            let window = if sliding { cfg.sliding_window } else { None };
            let fused = match cache.buffers(li) {
                Some(bufs) if s <= super::attention::MAX_ROWS && fused_attention_on() => {
                    attend_cached(&q, bufs, pos, window, cfg.attn_scale)?
                }
                _ => None,
            };
            let y = match fused {
                Some(y) => y,
                None => {
                    // Grouped-query attention without copying k/v: the n_rep query heads that
                    // share a kv head are stacked along the sequence axis, [b, kv, n_rep·s, d].
                    let n_rep = cfg.n_head / cfg.n_kv_head;
                    let q = q.reshape((b, cfg.n_kv_head, n_rep * s, cfg.head_dim))?;
                    let att = (q.matmul(&k.t()?)? * cfg.attn_scale as f64)?;
                    let att = match mask {
                        Some(m) => att.broadcast_add(m)?,
                        None => att,
                    };
                    let att = candle_nn::ops::softmax_last_dim(&att)?;
                    let y = att.matmul(&v)?.reshape((b, cfg.n_head, s, cfg.head_dim))?;
                    y.transpose(1, 2)?.reshape((b, s, cfg.n_head * cfg.head_dim))?
                }
            };
            let y = layer.o.forward(&y)?;
            let y = match &layer.post_attn_norm {
                Some(n) => n.forward(&y)?,
                None => y,
            };
            x = (x + y)?;
            let h = layer.ffn_norm.forward(&x)?;
            let [g, u] = forward_shared([&layer.gate, &layer.up], &h)?;
            let g = match cfg.act {
                Activation::GeluTanh => g.gelu()?,
                Activation::Silu => g.silu()?,
            };
            let y = layer.down.forward(&(g * u)?)?;
            let y = match &layer.post_ffn_norm {
                Some(n) => n.forward(&y)?,
                None => y,
            };
            x = (x + y)?;
            if layers == Some(li + 1) {
                cache.len += s;
                return Ok(x);
            }
        }
        cache.len += s;
        Ok(self.norm.forward(&x)?)
    }

    /// Logits `[.., vocab]` of final hidden states `[.., hidden]`.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        Ok(self.lm_head.forward(hidden)?)
    }

    /// Logits of the last position only, `[vocab]`, for a single sequence.
    pub fn forward_last_logits(&self, ids: &[u32], cache: &mut KvCache) -> Result<Tensor> {
        let t = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
        let h = self.forward_hidden(&t, cache)?;
        let last = h.narrow(1, ids.len() - 1, 1)?;
        Ok(self.logits(&last)?.flatten_all()?)
    }

    /// Logits at every position, `[s, vocab]`, for a single sequence.
    pub fn forward_all_logits(&self, ids: &[u32], cache: &mut KvCache) -> Result<Tensor> {
        let t = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
        let h = self.forward_hidden(&t, cache)?;
        self.logits(&h.squeeze(0)?)
    }

    /// Final hidden states for a right-padded batch (no cache kept): `[b, s, hidden]`.
    /// Right padding needs no mask: under the causal mask no real token sees a pad.
    pub fn hidden_batch(&self, ids: &Tensor) -> Result<Tensor> {
        self.hidden_batch_upto(ids, None)
    }

    /// [`Self::hidden_batch`] of layer `layers` (see [`Self::forward_hidden_upto`]).
    pub fn hidden_batch_upto(&self, ids: &Tensor, layers: Option<usize>) -> Result<Tensor> {
        let mut cache = self.new_cache();
        self.forward_hidden_upto(ids, &mut cache, layers)
    }
}

/// `softmax(logits)` then `log`, in f32, `[.., vocab]`.
pub fn log_softmax(logits: &Tensor) -> Result<Tensor> {
    Ok(candle_nn::ops::log_softmax(logits, D::Minus1)?)
}
