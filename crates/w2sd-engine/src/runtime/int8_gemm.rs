//! An int8 GEMM for prefill and batched features with Q5_0/Q8_0 weights, on AVX512-VNNI or
//! AVX2 (picked at run time, [`super::device::simd_unless`]).
//!
//! Q5_0 holds most weights of the Q4_K_M files whose hidden size is not a multiple of 256
//! (Gemma 3 270M, k = 640: q/k/v, gate/up; Qwen2.5 0.5B, k = 896: q/k/v/o, gate/up), which
//! candle's repacked kernels do not take. Before, those products ran as an f32 GEMM on a
//! dequantized copy of the weight (4 bytes per weight, kept for the model's lifetime).
//!
//! Here the activations are quantized once per product to Q8_0 as ggml does
//! (`d_x = f16(max|x| / 127)`, `q_x = round(x / d_x)` per block of 32), and
//!
//! `y[i, r] = Σ_b d_w[r, b] · d_x[i, b] · Σ_{j<32} w[r, b, j] · q_x[i, b, j]`
//!
//! where `w ∈ [−16, 15]` (Q5_0) or `[−127, 127]` (Q8_0) are the weight's own integers:
//! the same numbers ggml multiplies, with the integer sums exact, so the result equals
//! llama.cpp's up to float summation order.
//!
//! The weights are repacked once into tiles of 16 output rows × one block of 32 inputs:
//! for each group `g` of 4 inputs, the 4 signed bytes of each of the 16 rows side by side
//! (64 bytes, one `vpdpbusd` operand), then the 16 scales and the 16 corrections
//! `128 · Σ_j w[r, b, j]` (the activations enter `vpdpbusd` as unsigned `q_x + 128`). A tile
//! takes 640 bytes for 512 weights (1.25 bytes per weight instead of the f32 copy's 4).
//! Work is split over candle's thread pool by (16-row tile, chunk of activation rows). On
//! AVX2 ([`avx2`]) the same tiles are read half a tile (8 rows) at a time.

use super::device::Simd;
use candle_core::quantized::GgmlDType;
use half::f16;

/// Output rows per tile.
pub const TILE_N: usize = 16;
/// Inputs per block (Q5_0, Q8_0).
const BLOCK: usize = 32;
/// Bytes of one Q5_0 block: an f16 scale, 4 bytes of fifth bits, 16 bytes of nibbles.
const Q5_0_BYTES: usize = 22;
/// Bytes of one Q8_0 block: an f16 scale and 32 signed bytes.
const Q8_0_BYTES: usize = 34;
/// Activation rows per work item.
const ROW_CHUNK: usize = 64;

/// One block of 32 inputs for 16 output rows.
#[repr(C, align(64))]
#[derive(Clone)]
struct Tile {
    /// `qs[(g·16 + r)·4 + j] = w[r, 4g + j]`.
    qs: [i8; BLOCK * TILE_N],
    /// The rows' scales `d_w[r]`.
    d: [f32; TILE_N],
    /// `128 · Σ_j w[r, j]`.
    corr: [i32; TILE_N],
}

/// An `n × k` weight repacked for [`matmul_t`]: tile `t·(k/32) + b` holds rows `16t..16t+16`,
/// inputs `32b..32b+32`.
pub struct Packed {
    n: usize,
    k: usize,
    /// Every weight in `[−16, 16]` (Q5_0): the AVX2 kernel multiplies them by the unsigned
    /// activations directly, as no 16-bit pair sum can saturate.
    narrow: bool,
    tiles: Vec<Tile>,
}

impl Packed {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.tiles.len() * std::mem::size_of::<Tile>()
    }
}

/// Activation rows quantized to Q8_0, stored as unsigned bytes `q_x + 128`.
pub struct QuantizedRows {
    m: usize,
    k: usize,
    q: Vec<u8>,
    d: Vec<f32>,
}

/// The kernel this CPU runs (AVX-512 VNNI or AVX2), unless `W2SD_INT8_GEMM=0` turns it off
/// (for side-by-side benchmarks).
pub fn simd() -> Option<Simd> {
    static ON: std::sync::OnceLock<Option<Simd>> = std::sync::OnceLock::new();
    *ON.get_or_init(|| super::device::simd_unless("W2SD_INT8_GEMM"))
}

/// Whether this CPU runs the kernel and `W2SD_INT8_GEMM=0` does not turn it off.
pub fn available() -> bool {
    simd().is_some()
}

/// Whether an `n × k` weight of this type can be packed.
pub fn handles(dtype: GgmlDType, n: usize, k: usize) -> bool {
    matches!(dtype, GgmlDType::Q5_0 | GgmlDType::Q8_0) && k.is_multiple_of(BLOCK) && n.is_multiple_of(TILE_N) && k > 0
}

/// The scale and the 32 integers of one GGUF block: Q5_0 as [`super::q5_0::block_values`]
/// decodes it, Q8_0 its bytes.
fn block_values(blk: &[u8], dtype: GgmlDType) -> (f32, [i8; BLOCK]) {
    if dtype == GgmlDType::Q5_0 {
        return super::q5_0::block_values(blk);
    }
    let d = f16::from_bits(u16::from_le_bytes([blk[0], blk[1]])).to_f32();
    let mut v = [0i8; BLOCK];
    for (o, b) in v.iter_mut().zip(&blk[2..2 + BLOCK]) {
        *o = *b as i8;
    }
    (d, v)
}

/// Repacks the raw GGUF blocks of an `n × k` Q5_0 or Q8_0 weight (row-major blocks).
pub fn pack(raw: &[u8], dtype: GgmlDType, n: usize, k: usize) -> anyhow::Result<Packed> {
    let bytes = match dtype {
        GgmlDType::Q5_0 => Q5_0_BYTES,
        GgmlDType::Q8_0 => Q8_0_BYTES,
        d => anyhow::bail!("int8 GEMM: no packing for {d:?}"),
    };
    if !handles(dtype, n, k) || raw.len() != n * (k / BLOCK) * bytes {
        anyhow::bail!("int8 GEMM: {} bytes do not hold a {n} × {k} {dtype:?} weight in whole tiles", raw.len());
    }
    let kb = k / BLOCK;
    let empty = Tile { qs: [0; BLOCK * TILE_N], d: [0.0; TILE_N], corr: [0; TILE_N] };
    let mut tiles = vec![empty; n / TILE_N * kb];
    for t in 0..n / TILE_N {
        for b in 0..kb {
            let tile = &mut tiles[t * kb + b];
            for r in 0..TILE_N {
                let at = ((t * TILE_N + r) * kb + b) * bytes;
                let (d, v) = block_values(&raw[at..at + bytes], dtype);
                tile.d[r] = d;
                tile.corr[r] = 128 * v.iter().map(|&x| x as i32).sum::<i32>();
                for (j, &x) in v.iter().enumerate() {
                    tile.qs[((j / 4) * TILE_N + r) * 4 + j % 4] = x;
                }
            }
        }
    }
    let narrow = tiles.iter().all(|t| t.qs.iter().all(|w| (-16..=16).contains(w)));
    Ok(Packed { n, k, narrow, tiles })
}

/// Q8_0 quantization of the `m × k` rows of `x` ([`super::q5_0::quantize_row_q8_0`], as
/// ggml's x86 code), rows split over candle's thread pool.
pub fn quantize(x: &[f32], k: usize) -> QuantizedRows {
    let m = x.len() / k.max(1);
    let kb = k / BLOCK;
    let mut q = vec![0u8; m * k];
    let mut d = vec![0f32; m * kb];
    let (qp, dp) = (q.as_mut_ptr() as usize, d.as_mut_ptr() as usize);
    candle_core::utils::barrier_pool().execute_chunked(m, |rows| {
        let (mut rd, mut rq) = (Vec::with_capacity(kb), Vec::with_capacity(k));
        for i in rows {
            super::q5_0::quantize_row_q8_0(&x[i * k..(i + 1) * k], &mut rd, &mut rq);
            // SAFETY: row i's bytes and scales are written by this work item only.
            unsafe {
                let (qo, dout) = ((qp as *mut u8).add(i * k), (dp as *mut f32).add(i * kb));
                for (j, v) in rq.iter().enumerate() {
                    *qo.add(j) = (*v as i16 + 128) as u8;
                }
                std::ptr::copy_nonoverlapping(rd.as_ptr(), dout, kb);
            }
        }
    });
    QuantizedRows { m, k, q, d }
}

/// `dst[i·n + r] = Σ_c x[i·k + c] · W[r, c]` for the quantized activations `x` and the
/// packed `n × k` weight `w`; returns the `m × n` product.
pub fn matmul_t(w: &Packed, x: &QuantizedRows) -> anyhow::Result<Vec<f32>> {
    match simd() {
        Some(s) => matmul_with(s, w, x),
        None => anyhow::bail!("int8 GEMM needs AVX2, FMA and F16C (or AVX-512 VNNI)"),
    }
}

/// [`matmul_t`] with the kernel of `simd`, which the CPU must have.
fn matmul_with(simd: Simd, w: &Packed, x: &QuantizedRows) -> anyhow::Result<Vec<f32>> {
    if w.k != x.k {
        anyhow::bail!("int8 GEMM: activations of width {} against a weight of width {}", x.k, w.k);
    }
    if super::device::detected().is_none_or(|d| d == Simd::Avx2 && simd == Simd::Avx512Vnni) {
        anyhow::bail!("int8 GEMM: this CPU lacks the {simd:?} kernel's features");
    }
    let (m, n) = (x.m, w.n);
    let mut dst = vec![0f32; m * n];
    let chunks = m.div_ceil(ROW_CHUNK);
    let out = dst.as_mut_ptr() as usize;
    candle_core::utils::barrier_pool().execute_chunked(n / TILE_N * chunks, |units| {
        for u in units {
            let (t, c) = (u / chunks, u % chunks);
            let rows = c * ROW_CHUNK..((c + 1) * ROW_CHUNK).min(m);
            // SAFETY: the CPU features are checked above; every (row, tile) block of `dst`
            // is written by exactly one work item, and `dst` outlives the call.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                match simd {
                    Simd::Avx512Vnni => avx512::tile_rows(w, x, t, rows, out as *mut f32, n),
                    Simd::Avx2 => avx2::tile_rows(w, x, t, rows, out as *mut f32, n),
                }
            };
            #[cfg(not(target_arch = "x86_64"))]
            let _ = (t, rows, out);
        }
    });
    Ok(dst)
}

/// Walks `rows` in groups: `step(i, left)` handles a group starting at row `i` (with `left`
/// rows to go) and returns how many rows it took.
#[cfg(target_arch = "x86_64")]
fn row_groups(rows: std::ops::Range<usize>, mut step: impl FnMut(usize, usize) -> usize) {
    let mut i = rows.start;
    while i < rows.end {
        i += step(i, rows.end - i);
    }
}

/// The same product in plain scalar code, ggml's formula term by term (for tests).
pub fn matmul_t_scalar(w: &Packed, x: &QuantizedRows) -> Vec<f32> {
    let (m, n, k, kb) = (x.m, w.n, w.k, w.k / BLOCK);
    let mut dst = vec![0f32; m * n];
    for i in 0..m {
        for r in 0..n {
            let mut acc = 0f32;
            for b in 0..kb {
                let tile = &w.tiles[(r / TILE_N) * kb + b];
                let s: i32 = (0..BLOCK)
                    .map(|j| {
                        let wv = tile.qs[((j / 4) * TILE_N + r % TILE_N) * 4 + j % 4] as i32;
                        wv * (x.q[i * k + b * BLOCK + j] as i32 - 128)
                    })
                    .sum();
                acc += tile.d[r % TILE_N] * x.d[i * kb + b] * s as f32;
            }
            dst[i * n + r] = acc;
        }
    }
    dst
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Packed, QuantizedRows, Tile, BLOCK, TILE_N};
    use std::arch::x86_64::*;

    /// Rows `rows` of the product for tile column `t`, in groups of 8, 4, 2 and 1 rows.
    ///
    /// # Safety
    /// AVX512F/BW/VNNI must be present; `dst` must hold `m × n` floats.
    pub(super) unsafe fn tile_rows(
        w: &Packed,
        x: &QuantizedRows,
        t: usize,
        rows: std::ops::Range<usize>,
        dst: *mut f32,
        n: usize,
    ) {
        // SAFETY: forwarded from the caller.
        super::row_groups(rows, |i, left| unsafe {
            match left {
                8.. => micro::<8>(w, x, t, i, dst, n),
                4..=7 => micro::<4>(w, x, t, i, dst, n),
                2..=3 => micro::<2>(w, x, t, i, dst, n),
                _ => micro::<1>(w, x, t, i, dst, n),
            }
        })
    }

    /// `R` activation rows from `i0` against the 16 weight rows of tile column `t`: for each
    /// block, 8 `vpdpbusd` per row give the 16 exact integer sums, less the correction for
    /// the +128 offset, scaled by `d_w · d_x` into 16 float accumulators. Returns `R`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn micro<const R: usize>(
        w: &Packed,
        x: &QuantizedRows,
        t: usize,
        i0: usize,
        dst: *mut f32,
        n: usize,
    ) -> usize {
        let (k, kb) = (w.k, w.k / BLOCK);
        let tiles: &[Tile] = &w.tiles[t * kb..(t + 1) * kb];
        let mut acc = [_mm512_setzero_ps(); R];
        for (b, tile) in tiles.iter().enumerate() {
            let qs = tile.qs.as_ptr();
            // SAFETY: each tile is 64-byte aligned with 512 bytes of weights, then 16 scales
            // and 16 corrections; activation rows i0..i0+R exist (checked by the caller).
            unsafe {
                let wv: [__m512i; 8] = std::array::from_fn(|g| _mm512_load_si512(qs.add(g * 64) as *const __m512i));
                let dw = _mm512_load_ps(tile.d.as_ptr());
                let corr = _mm512_load_si512(tile.corr.as_ptr() as *const __m512i);
                for (r, a) in acc.iter_mut().enumerate() {
                    let xq = x.q.as_ptr().add((i0 + r) * k + b * BLOCK) as *const i32;
                    let mut s = _mm512_setzero_si512();
                    for (g, wg) in wv.iter().enumerate() {
                        s = _mm512_dpbusd_epi32(s, _mm512_set1_epi32(xq.add(g).read_unaligned()), *wg);
                    }
                    s = _mm512_sub_epi32(s, corr);
                    let scale = _mm512_mul_ps(dw, _mm512_set1_ps(*x.d.get_unchecked((i0 + r) * kb + b)));
                    *a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), scale, *a);
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            // SAFETY: row i0 + r, columns 16t..16t+16 of the m × n output.
            unsafe { _mm512_storeu_ps(dst.add((i0 + r) * n + t * TILE_N), *a) };
        }
        R
    }
}

/// The kernel for CPUs with AVX2 but no AVX-512 VNNI, one half-tile (8 weight rows, a 256-bit
/// register) at a time. `vpmaddubsw` multiplies unsigned by signed bytes into 16-bit pair
/// sums and `vpmaddwd` widens them to 32 bits:
///
/// - narrow weights (Q5_0, `|w| ≤ 16`): the unsigned activations `q_x + 128` times the
///   weights, pair sums ≤ 255·16·2 = 8,160, so four groups add up in 16 bits before widening;
///   the +128 offset is taken off with the tile's correction as on AVX-512;
/// - wide weights (Q8_0): ggml's sign trick, `|w|` times `q_x·sign(w)` (pair sums
///   ≤ 127·128·2), widened group by group, no offset.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Packed, QuantizedRows, Tile, BLOCK, TILE_N};
    use std::arch::x86_64::*;

    /// Rows `rows` of the product for tile column `t`, in groups of 4, 2 and 1 rows.
    ///
    /// # Safety
    /// AVX2, FMA and F16C must be present; `dst` must hold `m × n` floats.
    pub(super) unsafe fn tile_rows(
        w: &Packed,
        x: &QuantizedRows,
        t: usize,
        rows: std::ops::Range<usize>,
        dst: *mut f32,
        n: usize,
    ) {
        // SAFETY: forwarded from the caller.
        super::row_groups(rows, |i, left| unsafe {
            match (left, w.narrow) {
                (4.., true) => micro::<4, true>(w, x, t, i, dst, n),
                (2..=3, true) => micro::<2, true>(w, x, t, i, dst, n),
                (_, true) => micro::<1, true>(w, x, t, i, dst, n),
                (4.., false) => micro::<4, false>(w, x, t, i, dst, n),
                (2..=3, false) => micro::<2, false>(w, x, t, i, dst, n),
                (_, false) => micro::<1, false>(w, x, t, i, dst, n),
            }
        })
    }

    /// `R` activation rows from `i0` against the 16 weight rows of tile column `t`, 8 rows
    /// (one half of each 64-byte group) at a time. Returns `R`.
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn micro<const R: usize, const NARROW: bool>(
        w: &Packed,
        x: &QuantizedRows,
        t: usize,
        i0: usize,
        dst: *mut f32,
        n: usize,
    ) -> usize {
        let (k, kb) = (w.k, w.k / BLOCK);
        let tiles: &[Tile] = &w.tiles[t * kb..(t + 1) * kb];
        let ones = _mm256_set1_epi16(1);
        let flip = _mm256_set1_epi8(-128);
        for h in 0..2 {
            let mut acc = [_mm256_setzero_ps(); R];
            for (b, tile) in tiles.iter().enumerate() {
                // SAFETY: each tile is 64-byte aligned with 512 bytes of weights, then 16
                // scales and 16 corrections; activation rows i0..i0+R exist (checked by the
                // caller).
                unsafe {
                    let qs = tile.qs.as_ptr().add(32 * h);
                    let xq: [*const i32; R] =
                        std::array::from_fn(|r| x.q.as_ptr().add((i0 + r) * k + b * BLOCK) as *const i32);
                    let mut s = [_mm256_setzero_si256(); R];
                    if NARROW {
                        for half in 0..2 {
                            let mut p = [_mm256_setzero_si256(); R];
                            for g in 4 * half..4 * half + 4 {
                                let wg = _mm256_load_si256(qs.add(g * 64) as *const __m256i);
                                for r in 0..R {
                                    let xg = _mm256_set1_epi32(xq[r].add(g).read_unaligned());
                                    p[r] = _mm256_add_epi16(p[r], _mm256_maddubs_epi16(xg, wg));
                                }
                            }
                            for r in 0..R {
                                s[r] = _mm256_add_epi32(s[r], _mm256_madd_epi16(p[r], ones));
                            }
                        }
                        let corr = _mm256_loadu_si256(tile.corr.as_ptr().add(8 * h) as *const __m256i);
                        for sr in s.iter_mut() {
                            *sr = _mm256_sub_epi32(*sr, corr);
                        }
                    } else {
                        for g in 0..BLOCK / 4 {
                            let wg = _mm256_load_si256(qs.add(g * 64) as *const __m256i);
                            let aw = _mm256_abs_epi8(wg);
                            for r in 0..R {
                                let xg = _mm256_xor_si256(_mm256_set1_epi32(xq[r].add(g).read_unaligned()), flip);
                                let p = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(xg, wg));
                                s[r] = _mm256_add_epi32(s[r], _mm256_madd_epi16(p, ones));
                            }
                        }
                    }
                    let dw = _mm256_loadu_ps(tile.d.as_ptr().add(8 * h));
                    for r in 0..R {
                        let scale = _mm256_mul_ps(dw, _mm256_set1_ps(*x.d.get_unchecked((i0 + r) * kb + b)));
                        acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[r]), scale, acc[r]);
                    }
                }
            }
            for (r, a) in acc.iter().enumerate() {
                // SAFETY: row i0 + r, columns 16t + 8h..16t + 8h + 8 of the m × n output.
                unsafe { _mm256_storeu_ps(dst.add((i0 + r) * n + t * TILE_N + 8 * h), *a) };
            }
        }
        R
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::{QMatMul, QTensor};
    use candle_core::{Device, Module, Tensor};
    use rand::{Rng, SeedableRng};

    fn random(len: usize, range: f32, seed: u64) -> Vec<f32> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..len).map(|_| rng.random_range(-range..range)).collect()
    }

    /// The kernels this CPU runs: AVX-512 VNNI and AVX2 where it has both.
    fn kernels() -> Vec<Simd> {
        match super::super::device::detected() {
            Some(Simd::Avx512Vnni) => vec![Simd::Avx512Vnni, Simd::Avx2],
            Some(Simd::Avx2) => vec![Simd::Avx2],
            None => vec![],
        }
    }

    /// The packed weight holds the file's integers and scales exactly, and the products
    /// (the scalar formula and every kernel this CPU runs: AVX-512 VNNI, AVX2 with narrow
    /// Q5_0 and wide Q8_0 weights) equal candle's own Q5_0/Q8_0 product, which quantizes
    /// activations to Q8_0 as ggml does. Fails on a CPU without AVX2.
    #[test]
    fn equals_candles_quantized_matmul() {
        let (n, k) = (48, 640);
        let wf = Tensor::from_vec(random(n * k, 1.0, 1), (n, k), &Device::Cpu).unwrap();
        for dtype in [GgmlDType::Q5_0, GgmlDType::Q8_0] {
            assert!(handles(dtype, n, k) && !handles(dtype, 40, k) && !handles(GgmlDType::Q4K, n, k));
            let q = QTensor::quantize(&wf, dtype).unwrap();
            let packed = pack(&q.data().unwrap(), dtype, n, k).unwrap();
            assert_eq!(packed.narrow, dtype == GgmlDType::Q5_0, "{dtype:?}");
            // the packed values dequantize to candle's dequantization of the same blocks
            let deq: Vec<f32> = q.dequantize(&Device::Cpu).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            for r in [0, 17, 47] {
                for c in [0, 5, 33, 639] {
                    let tile = &packed.tiles[(r / TILE_N) * (k / BLOCK) + c / BLOCK];
                    let j = c % BLOCK;
                    let v = tile.d[r % TILE_N] * tile.qs[((j / 4) * TILE_N + r % TILE_N) * 4 + j % 4] as f32;
                    assert_eq!(v, deq[r * k + c], "{dtype:?} ({r}, {c})");
                }
            }
            let mm = QMatMul::from_qtensor(QTensor::quantize(&wf, dtype).unwrap()).unwrap();
            for m in [1, 7, 70] {
                let xs = random(m * k, 3.0, m as u64);
                let want: Vec<f32> = mm
                    .forward(&Tensor::from_vec(xs.clone(), (m, k), &Device::Cpu).unwrap())
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1()
                    .unwrap();
                let xq = quantize(&xs, k);
                let mut got = vec![matmul_t_scalar(&packed, &xq)];
                for simd in kernels() {
                    got.push(matmul_with(simd, &packed, &xq).unwrap());
                }
                assert!(got.len() > 1, "no int8 kernel runs on this CPU");
                for g in &got {
                    for (e, (a, b)) in g.iter().zip(&want).enumerate() {
                        assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{dtype:?} m {m} entry {e}: {a} vs {b}");
                    }
                }
            }
        }
        assert!(pack(&[0u8; 10], GgmlDType::Q5_0, 16, 32).is_err());
        assert!(pack(&[0u8; 22 * 16], GgmlDType::Q4K, 16, 32).is_err());
        let p = pack(&[0u8; 22 * 16], GgmlDType::Q5_0, 16, 32).unwrap();
        assert!(matmul_t(&p, &quantize(&[0.0; 64], 64)).is_err());
        if super::super::device::detected() == Some(Simd::Avx2) {
            assert!(matmul_with(Simd::Avx512Vnni, &p, &quantize(&[0.0; 32], 32)).is_err());
        }
    }
}
