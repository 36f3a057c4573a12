//! A SIMD product of GGUF Q5_0 weights with a few activation rows, for decoding on x86-64.
//!
//! candle 0.11 computes Q5_0 dot products with scalar code, and Q5_0 holds most weights of
//! the Q4_K_M files whose hidden size is not a multiple of 256 (Gemma 3 270M: q/k/v,
//! gate/up; Qwen2.5 0.5B: q/k/v/o, gate/up). Decoding reads every weight once per token,
//! so this path keeps the compact 22-byte blocks and does the arithmetic in AVX2.
//!
//! For weight row `r` and activation row `x` (quantized to Q8_0 blocks of 32:
//! `d_x = f16(max|x| / 127)`, `q_x = round(x / d_x)`, as ggml and candle do):
//!
//! `y[r] = Σ_b f16(d_w[r,b]) · d_x[b] · Σ_{j<32} w[r,b,j] · q_x[b,j]`, with
//! `w[r,b,j] = (nibble_j | bit_j(qh) << 4) − 16 ∈ [−16, 15]`
//!
//! where nibble `j < 16` is the low half of `qs[j]` and nibble `j + 16` the high half. The
//! integer sums are exact, so the result equals candle's scalar kernel up to float
//! summation order. Block layout (ggml): `d: f16, qh: [u8; 4], qs: [u8; 16]` = 22 bytes.

use anyhow::{bail, Result};
use half::f16;

/// Bytes of one Q5_0 block of 32 weights.
pub const BLOCK_BYTES: usize = 22;
/// Weights per block.
pub const BLOCK: usize = 32;

/// Whether this CPU runs [`matmul_t`].
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Q8_0 quantization of one activation row: per block of 32, the f16-rounded scale and the
/// 32 signed bytes.
pub fn quantize_row_q8_0(x: &[f32], d: &mut Vec<f32>, q: &mut Vec<i8>) {
    d.clear();
    q.clear();
    for blk in x.chunks_exact(BLOCK) {
        let amax = blk.iter().fold(0f32, |m, v| m.max(v.abs()));
        let inv = if amax != 0.0 { 127.0 / amax } else { 0.0 };
        d.push(f16::from_f32(amax / 127.0).to_f32());
        q.extend(blk.iter().map(|v| (v * inv).round_ties_even() as i8));
    }
}

/// Replaces every value by its Q8_0 round trip `d_x · q_x` (see [`quantize_row_q8_0`]; `x.len()`
/// a multiple of 32). A float GEMM on round-tripped activations and dequantized weights
/// multiplies the very numbers ggml's quantized dot products do (llama.cpp quantizes the
/// activations of Q4_0/Q5_0/Q8_0 products to Q8_0), so prefill through f32 GEMM stays on
/// llama.cpp's numerics up to summation order.
pub fn q8_0_round_trip(x: &mut [f32]) {
    let (mut d, mut q) = (Vec::with_capacity(1), Vec::with_capacity(BLOCK));
    for blk in x.chunks_exact_mut(BLOCK) {
        quantize_row_q8_0(blk, &mut d, &mut q);
        for (v, &qi) in blk.iter_mut().zip(&q) {
            *v = d[0] * qi as f32;
        }
    }
}

/// `dst[i·n + r] = Σ_c x[i·k + c] · W[r, c]` for the `m × k` activations `x` and the `n × k`
/// Q5_0 weight `w` (row-major blocks, as stored in GGUF), rows split over candle's thread pool.
pub fn matmul_t(w: &[u8], x: &[f32], (m, k, n): (usize, usize, usize), dst: &mut [f32]) -> Result<()> {
    if k % BLOCK != 0 || w.len() != n * k / BLOCK * BLOCK_BYTES || x.len() != m * k || dst.len() != m * n {
        bail!("Q5_0 matmul: shapes do not match (m {m}, k {k}, n {n}, {} weight bytes)", w.len());
    }
    if !available() {
        bail!("Q5_0 matmul needs AVX2 and FMA");
    }
    let kb = k / BLOCK;
    let mut xd = Vec::with_capacity(m * kb);
    let mut xq = Vec::with_capacity(m * k);
    let (mut d, mut q) = (Vec::new(), Vec::new());
    for row in x.chunks_exact(k) {
        quantize_row_q8_0(row, &mut d, &mut q);
        xd.extend_from_slice(&d);
        xq.extend_from_slice(&q);
    }
    let out = dst.as_mut_ptr() as usize;
    candle_core::utils::barrier_pool().execute_chunked(n, |rows| {
        for r in rows {
            let wr = &w[r * kb * BLOCK_BYTES..(r + 1) * kb * BLOCK_BYTES];
            for i in 0..m {
                // SAFETY: AVX2/FMA checked above; slices sized by the shape check.
                #[cfg(target_arch = "x86_64")]
                let v = unsafe { dot_avx2(wr, &xq[i * k..(i + 1) * k], &xd[i * kb..(i + 1) * kb]) };
                #[cfg(not(target_arch = "x86_64"))]
                let v = 0.0;
                // SAFETY: each (i, r) is written by exactly one work item; `dst` outlives the call.
                unsafe { *(out as *mut f32).add(i * n + r) = v };
            }
        }
    });
    Ok(())
}

/// The scale and the 32 integers `w_j ∈ [−16, 15]` of one Q5_0 block (the layout in the
/// module doc).
pub fn block_values(blk: &[u8]) -> (f32, [i8; BLOCK]) {
    let d = f16::from_bits(u16::from_le_bytes([blk[0], blk[1]])).to_f32();
    let qh = u32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]);
    let mut v = [0i8; BLOCK];
    for j in 0..16 {
        v[j] = ((blk[6 + j] & 0x0F) | ((((qh >> j) & 1) as u8) << 4)) as i8 - 16;
        v[j + 16] = ((blk[6 + j] >> 4) | ((((qh >> (j + 16)) & 1) as u8) << 4)) as i8 - 16;
    }
    (d, v)
}

/// Reference: the same product in plain scalar code (for tests).
pub fn dot_scalar(w: &[u8], xq: &[i8], xd: &[f32]) -> f32 {
    let mut acc = 0f32;
    for (b, blk) in w.chunks_exact(BLOCK_BYTES).enumerate() {
        let (dw, v) = block_values(blk);
        let s: i32 = v.iter().zip(&xq[b * BLOCK..(b + 1) * BLOCK]).map(|(&w, &x)| w as i32 * x as i32).sum();
        acc += dw * xd[b] * s as f32;
    }
    acc
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(w: &[u8], xq: &[i8], xd: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let nib_mask = _mm256_set1_epi8(0x0F);
    let minus16 = _mm256_set1_epi8(0xF0u8 as i8);
    let ones = _mm256_set1_epi16(1);
    // Lane i reads byte i/8 of qh (the shuffle works per 128-bit half; qh is in both) and
    // tests bit i%8 of it.
    let spread = _mm256_setr_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
    );
    let bit = _mm256_setr_epi8(
        1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32,
        64, -128,
    );
    let mut acc = _mm256_setzero_ps();
    for (b, blk) in w.chunks_exact(BLOCK_BYTES).enumerate() {
        let p = blk.as_ptr();
        let dw = f16::from_bits(u16::from_le_bytes([blk[0], blk[1]])).to_f32();
        let qh = i32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]);
        let qs = _mm_loadu_si128(p.add(6) as *const __m128i);
        let nibbles = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16::<4>(qs), qs), nib_mask);
        let high = _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32(qh), spread), bit), bit);
        // high bit set: the nibble is already value + 16 − 16; unset: nibble | 0xF0 = nibble − 16.
        let wq = _mm256_or_si256(nibbles, _mm256_andnot_si256(high, minus16));
        let y = _mm256_loadu_si256(xq.as_ptr().add(b * BLOCK) as *const __m256i);
        // |w| · (y · sign w): unsigned × signed bytes, pairs summed (|w| ≤ 16: no saturation).
        let prod = _mm256_maddubs_epi16(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(y, wq));
        let sums = _mm256_cvtepi32_ps(_mm256_madd_epi16(prod, ones));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * xd[b]), sums, acc);
    }
    let s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps::<1>(acc));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<1>(s, s));
    _mm_cvtss_f32(s)
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
    use candle_core::{Device, Module, Tensor};

    fn weights(n: usize, k: usize) -> QTensor {
        let v: Vec<f32> =
            (0..n * k).map(|i| (((i * 7919) % 1013) as f32 - 506.0) / 97.0 * (1.0 + (i % 5) as f32)).collect();
        QTensor::quantize(&Tensor::from_vec(v, (n, k), &Device::Cpu).unwrap(), GgmlDType::Q5_0).unwrap()
    }

    #[test]
    fn simd_dot_equals_the_scalar_reference() {
        assert!(available(), "the Q5_0 kernel needs AVX2 and FMA, which every supported x86-64 CPU has");
        let (n, k) = (5, 640);
        let w = weights(n, k);
        let raw = w.data().unwrap();
        let x: Vec<f32> = (0..k).map(|i| ((i * 31 % 61) as f32 - 30.0) / 7.0).collect();
        let (mut d, mut q) = (Vec::new(), Vec::new());
        quantize_row_q8_0(&x, &mut d, &mut q);
        for r in 0..n {
            let row = &raw[r * k / BLOCK * BLOCK_BYTES..(r + 1) * k / BLOCK * BLOCK_BYTES];
            let a = dot_scalar(row, &q, &d);
            let b = unsafe { dot_avx2(row, &q, &d) };
            assert!((a - b).abs() <= 1e-4 * a.abs().max(1.0), "row {r}: {a} vs {b}");
        }
    }

    #[test]
    fn matmul_equals_dequantized_weight_times_round_tripped_input() {
        assert!(available(), "the Q5_0 kernel needs AVX2 and FMA, which every supported x86-64 CPU has");
        let (m, k, n) = (3, 896, 40);
        let w = weights(n, k);
        let raw = w.data().unwrap().into_owned();
        let wd: Vec<f32> = w.dequantize(&Device::Cpu).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        // values with exact rounding ties after scaling (k·127/14 = 63.5 for k = 7)
        let x: Vec<f32> = (0..m * k).map(|i| ((i * 13 % 29) as f32 - 14.0) / 3.0).collect();
        let mut xr = x.clone();
        q8_0_round_trip(&mut xr);
        let mut got = vec![0f32; m * n];
        matmul_t(&raw, &x, (m, k, n), &mut got).unwrap();
        for i in 0..m {
            for r in 0..n {
                let terms = (0..k).map(|c| wd[r * k + c] as f64 * xr[i * k + c] as f64);
                let (want, scale): (f64, f64) = terms.fold((0.0, 0.0), |(s, a), t| (s + t, a + t.abs()));
                let g = got[i * n + r] as f64;
                // f32 accumulation: error bounded by a few ulps of the sum of |terms|
                assert!(
                    (want - g).abs() <= 1e-6 * scale.max(1.0),
                    "({i}, {r}): exact {want} vs kernel {g} (Σ|terms| {scale})"
                );
            }
        }
        assert!(got.iter().any(|v| v.abs() > 1.0), "a kernel that wrote nothing would pass otherwise");
    }

    #[test]
    fn matmul_matches_candle_q5_0_away_from_rounding_ties() {
        assert!(available(), "the Q5_0 kernel needs AVX2 and FMA, which every supported x86-64 CPU has");
        let (m, k, n) = (3, 896, 40);
        let w = weights(n, k);
        let raw = w.data().unwrap().into_owned();
        // candle rounds activation ties away from zero, ggml (and this kernel) to even: use
        // inputs without ties, where both quantize identically.
        let x: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin() * 3.1).collect();
        let xt = Tensor::from_vec(x.clone(), (m, k), &Device::Cpu).unwrap();
        let want: Vec<f32> =
            QMatMul::from_qtensor(w).unwrap().forward(&xt).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let mut got = vec![0f32; m * n];
        matmul_t(&raw, &x, (m, k, n), &mut got).unwrap();
        for (i, (a, b)) in want.iter().zip(&got).enumerate() {
            assert!((a - b).abs() <= 1e-3 * a.abs().max(1.0), "element {i}: candle {a} vs ours {b}");
        }
        assert!(got.iter().any(|v| v.abs() > 1.0));
    }

    #[test]
    fn bad_shapes_are_refused() {
        let mut dst = vec![0f32; 2];
        assert!(matmul_t(&[0u8; 22], &[0f32; 32], (1, 32, 2), &mut dst).is_err());
    }
}
