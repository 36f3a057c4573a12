//! Decoding products with K-quant weights read in their compact GGUF blocks.
//!
//! candle 0.11 multiplies Q4_K weights through repacked tiles whose scales are expanded to
//! f32 (192 bytes per 256 weights and row instead of 144): right for prefill, where each
//! tile serves many rows of activations, but decoding reads every weight once per token, so
//! the bytes read bound it. Here, for a few activation rows (decoding), each row of the
//! activations is quantized once to Q8_K and every weight row is dotted against it with
//! candle's own `vec_dot` on the compact blocks (the SIMD kernels ported from ggml):
//!
//! `y[i, r] = vec_dot(W[r, :], Q8_K(x[i, :]))`
//!
//! with the weight rows split over candle's thread pool — the same arithmetic as candle's
//! unrepacked path and ggml's, so results equal those up to float summation order.
//!
//! Where the CPU has AVX-512 VNNI (checked at run time, not at build time), the dot products
//! are this module's own kernels ([`vnni`]): 64 weights per `vpdpbusd` (unsigned 4/6-bit
//! weight × signed 8-bit activation, four products summed into each 32-bit lane), where
//! candle's AVX2 port needs a `maddubs` and a `madd` per 32. `W2SD_KQUANT_VNNI=0` falls back
//! to candle's `vec_dot` (for side-by-side benchmarks).

use candle_core::quantized::k_quants::GgmlType;
use candle_core::quantized::{GgmlDType, QTensor};

/// Rows of activations up to which this path is taken (decoding: one row per sequence).
pub const MAX_ROWS: usize = 4;

/// Whether a weight of this type and input size goes through [`matmul_t`].
pub fn handles(dtype: GgmlDType, k: usize) -> bool {
    k.is_multiple_of(256) && matches!(dtype, GgmlDType::Q4K | GgmlDType::Q6K)
}

/// `dst[i·n + r] = Σ_c x[i·k + c] · W[r, c]` for the `m × k` activations `x` and the `n × k`
/// weight `q` (Q4_K or Q6_K, `k` a multiple of 256).
pub fn matmul_t(q: &QTensor, x: &[f32], (m, k, n): (usize, usize, usize)) -> candle_core::Result<Vec<f32>> {
    match q.dtype() {
        GgmlDType::Q4K => run::<candle_core::quantized::k_quants::BlockQ4K>(q, x, (m, k, n)),
        GgmlDType::Q6K => run::<candle_core::quantized::k_quants::BlockQ6K>(q, x, (m, k, n)),
        d => Err(candle_core::Error::Msg(format!("compact GEMV: no kernel for {d:?}"))),
    }
}

fn run<T: GgmlType + Sync + 'static>(
    q: &QTensor,
    x: &[f32],
    (m, k, n): (usize, usize, usize),
) -> candle_core::Result<Vec<f32>>
where
    T::VecDotType: Sync,
{
    let kb = k / T::BLCK_SIZE;
    if k % T::BLCK_SIZE != 0 || x.len() != m * k || q.shape().dims2()? != (n, k) {
        return Err(candle_core::Error::Msg(format!("compact GEMV: shapes do not match (m {m}, k {k}, n {n})")));
    }
    let data = q.data()?;
    if data.len() != n * kb * std::mem::size_of::<T>()
        || !(data.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>())
    {
        return Err(candle_core::Error::Msg("compact GEMV: weight storage is not a block array".into()));
    }
    // SAFETY: a CPU QTensor of this dtype stores a `Vec<T>`; size and alignment checked above.
    let w: &[T] = unsafe { std::slice::from_raw_parts(data.as_ptr() as *const T, n * kb) };
    let dot_blocks = k / T::VecDotType::BLCK_SIZE;
    let mut xq: Vec<T::VecDotType> = (0..m * dot_blocks).map(|_| T::VecDotType::zeros()).collect();
    for (row, out) in x.chunks_exact(k).zip(xq.chunks_exact_mut(dot_blocks)) {
        T::VecDotType::from_float(row, out);
    }
    let mut dst = vec![0f32; m * n];
    let out = dst.as_mut_ptr() as usize;
    if let Some(rows_dot) = vnni::rows::<T>() {
        candle_core::utils::barrier_pool().execute_chunked(n, |rows| {
            // SAFETY: `w` holds n rows of kb blocks, `xq` m rows; each work item writes only
            // its own rows of `dst`, which outlives the call.
            unsafe { rows_dot(w, &xq, m, rows, n, out as *mut f32) }
        });
        return Ok(dst);
    }
    candle_core::utils::barrier_pool().execute_chunked(n, |rows| {
        for r in rows {
            let wr = &w[r * kb..(r + 1) * kb];
            for i in 0..m {
                let v = T::vec_dot(k, wr, &xq[i * dot_blocks..(i + 1) * dot_blocks]);
                // SAFETY: each (i, r) is written by exactly one work item; `dst` outlives the call.
                unsafe { *(out as *mut f32).add(i * n + r) = v };
            }
        }
    });
    Ok(dst)
}

/// AVX-512 VNNI dot products of one compact Q4_K or Q6_K row with one Q8_K row.
///
/// Both compute, per 256-weight block `b` with weight scale `d_b` and activation scale `d_x`,
/// the same integer sums as ggml's definition of the formats:
///
/// - Q4_K: `d_b·d_x·Σ_j sc_j·Σ_{i∈j} q_i·x_i − dmin_b·d_x·Σ_j m_j·Σ_{i∈j} x_i`, eight
///   sub-blocks `j` of 32 weights `q_i ∈ [0, 15]` with 6-bit scales `sc_j` and mins `m_j`;
/// - Q6_K: `d_b·d_x·Σ_j sc_j·Σ_{i∈j} (q_i − 32)·x_i`, sixteen sub-blocks of 16 weights
///   `q_i ∈ [0, 63]` with signed 8-bit scales, computed as `Σ sc_j·Σ q_i·x_i − 32·Σ sc_j·Σ x_i`
///   so that the weights stay unsigned for `vpdpbusd`.
///
/// The integer sums are exact in both this and candle's kernels, so the two differ only in
/// the order of the float additions.
pub mod vnni {
    use candle_core::quantized::k_quants::{BlockQ4K, BlockQ6K, BlockQ8K, GgmlType};

    /// The layout of a Q4_K block (candle's `BlockQ4K` is `repr(C)` with these fields).
    #[repr(C)]
    struct Q4K {
        d: u16,
        dmin: u16,
        scales: [u8; 12],
        qs: [u8; 128],
    }
    /// The layout of a Q6_K block (`BlockQ6K`).
    #[repr(C)]
    struct Q6K {
        ql: [u8; 128],
        qh: [u8; 64],
        scales: [i8; 16],
        d: u16,
    }
    /// The layout of a Q8_K block (`BlockQ8K`).
    #[repr(C)]
    struct Q8K {
        d: f32,
        qs: [i8; 256],
        bsums: [i16; 16],
    }
    const _: () = assert!(std::mem::size_of::<Q4K>() == std::mem::size_of::<BlockQ4K>());
    const _: () = assert!(std::mem::align_of::<Q4K>() == std::mem::align_of::<BlockQ4K>());
    const _: () = assert!(std::mem::size_of::<Q6K>() == std::mem::size_of::<BlockQ6K>());
    const _: () = assert!(std::mem::align_of::<Q6K>() == std::mem::align_of::<BlockQ6K>());
    const _: () = assert!(std::mem::size_of::<Q8K>() == std::mem::size_of::<BlockQ8K>());
    const _: () = assert!(std::mem::align_of::<Q8K>() == std::mem::align_of::<BlockQ8K>());

    /// `out[i·n + r] = dot(W[r, :], X[i, :])` for the weight rows `r` in `rows` and the `m`
    /// activation rows of `x` (each `x.len() / m` blocks long, as are the rows of `w`).
    ///
    /// # Safety
    /// `w` holds the rows in `rows`, and `out` is valid for writes at every `i·n + r`.
    pub type RowsDot<T> =
        unsafe fn(&[T], &[<T as GgmlType>::VecDotType], usize, std::ops::Range<usize>, usize, *mut f32);

    /// Whether this CPU has AVX512F, BW and VNNI and `W2SD_KQUANT_VNNI=0` does not turn the
    /// kernels off.
    pub fn available() -> bool {
        static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *ON.get_or_init(|| {
            if std::env::var("W2SD_KQUANT_VNNI").as_deref() == Ok("0") {
                return false;
            }
            #[cfg(target_arch = "x86_64")]
            {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vnni")
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                false
            }
        })
    }

    /// This module's kernel for `T` (Q4_K or Q6_K against Q8_K), where the CPU runs it.
    pub fn rows<T: GgmlType + 'static>() -> Option<RowsDot<T>> {
        if !available() {
            return None;
        }
        #[cfg(target_arch = "x86_64")]
        {
            use std::any::Any;
            let q4: RowsDot<BlockQ4K> = rows_q4k;
            let q6: RowsDot<BlockQ6K> = rows_q6k;
            (&q4 as &dyn Any)
                .downcast_ref::<RowsDot<T>>()
                .copied()
                .or_else(|| (&q6 as &dyn Any).downcast_ref::<RowsDot<T>>().copied())
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            None
        }
    }

    /// The blocks of row `r` of `w` and of row `i` of `x`, as this module's layouts.
    ///
    /// # Safety
    /// `B` has `T`'s layout (asserted above for each pair).
    unsafe fn row<T, B>(w: &[T], kb: usize, r: usize) -> &[B] {
        let row = &w[r * kb..(r + 1) * kb];
        std::slice::from_raw_parts(row.as_ptr() as *const B, kb)
    }

    /// [`RowsDot`] for Q4_K; handed out by [`rows`] only where the CPU has AVX-512 VNNI.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn rows_q4k(
        w: &[BlockQ4K],
        x: &[BlockQ8K],
        m: usize,
        rows: std::ops::Range<usize>,
        n: usize,
        out: *mut f32,
    ) {
        let kb = x.len() / m;
        for r in rows {
            let wr: &[Q4K] = row(w, kb, r);
            for i in 0..m {
                out.add(i * n + r).write(q4k_avx512(wr, row(x, kb, i)));
            }
        }
    }

    /// [`RowsDot`] for Q6_K; handed out by [`rows`] only where the CPU has AVX-512 VNNI.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn rows_q6k(
        w: &[BlockQ6K],
        x: &[BlockQ8K],
        m: usize,
        rows: std::ops::Range<usize>,
        n: usize,
        out: *mut f32,
    ) {
        let kb = x.len() / m;
        for r in rows {
            let wr: &[Q6K] = row(w, kb, r);
            for i in 0..m {
                out.add(i * n + r).write(q6k_avx512(wr, row(x, kb, i)));
            }
        }
    }

    /// The eight 6-bit scales and eight 6-bit mins of a Q4_K block, as ggml packs them in
    /// 12 bytes: scales 0–3 and mins 0–3 in the low 6 bits of bytes 0–3 and 4–7; scales and
    /// mins 4–7 in the nibbles of bytes 8–11, with their top 2 bits in the top bits of bytes
    /// 0–3 (scales) and 4–7 (mins).
    fn q4k_scales_mins(s: &[u8; 12]) -> ([u8; 8], [u8; 8]) {
        let mut sc = [0u8; 8];
        let mut mn = [0u8; 8];
        for j in 0..4 {
            sc[j] = s[j] & 63;
            mn[j] = s[j + 4] & 63;
            sc[j + 4] = (s[j + 8] & 0xF) | ((s[j] >> 6) << 4);
            mn[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
        }
        (sc, mn)
    }

    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn q4k_avx512(w: &[Q4K], x: &[Q8K]) -> f32 {
        use std::arch::x86_64::*;
        let low4 = _mm256_set1_epi8(0xF);
        let ones = _mm256_set1_epi16(1);
        // lanes 0–7 take scale 2c, lanes 8–15 scale 2c + 1 (64 weights = two sub-blocks)
        let idx: [__m512i; 4] = std::array::from_fn(|c| {
            let l: [i32; 16] = std::array::from_fn(|lane| (2 * c + lane / 8) as i32);
            _mm512_loadu_si512(l.as_ptr() as *const __m512i)
        });
        let mut acc = _mm512_setzero_ps();
        let mut acc_min = _mm256_setzero_ps();
        for (b, y) in w.iter().zip(x) {
            let d = y.d * half::f16::from_bits(b.d).to_f32();
            let dmin = y.d * half::f16::from_bits(b.dmin).to_f32();
            let (sc, mn) = q4k_scales_mins(&b.scales);
            // Σ_j m_j · (sum of the 32 activations of sub-block j)
            let bsums = _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i);
            let sub_sums = _mm256_madd_epi16(bsums, ones);
            let mins = _mm256_cvtepu8_epi32(_mm_loadl_epi64(mn.as_ptr() as *const __m128i));
            acc_min =
                _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_mullo_epi32(mins, sub_sums)), _mm256_set1_ps(dmin), acc_min);
            let scales = _mm512_cvtepu8_epi32(_mm_loadl_epi64(sc.as_ptr() as *const __m128i));
            let mut sumi = _mm512_setzero_si512();
            for (c, ix) in idx.iter().enumerate() {
                // 32 bytes: low nibbles are weights 64c..64c+32, high nibbles 64c+32..64c+64
                let v = _mm256_loadu_si256(b.qs.as_ptr().add(32 * c) as *const __m256i);
                let lo = _mm256_and_si256(v, low4);
                let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
                let q = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
                let a = _mm512_loadu_si512(y.qs.as_ptr().add(64 * c) as *const __m512i);
                let p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q, a);
                sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(p, _mm512_permutexvar_epi32(*ix, scales)));
            }
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(d), acc);
        }
        _mm512_reduce_add_ps(acc) - hsum256(acc_min)
    }

    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn q6k_avx512(w: &[Q6K], x: &[Q8K]) -> f32 {
        use std::arch::x86_64::*;
        let low4 = _mm512_set1_epi8(0xF);
        let low2 = _mm512_set1_epi8(3);
        // 64 weights = four sub-blocks of 16: lanes 4s..4s+4 take scale 4g + s
        let idx: [__m512i; 4] = std::array::from_fn(|g| {
            let l: [i32; 16] = std::array::from_fn(|lane| (4 * g + lane / 4) as i32);
            _mm512_loadu_si512(l.as_ptr() as *const __m512i)
        });
        let mut acc = _mm512_setzero_ps();
        for (b, y) in w.iter().zip(x) {
            let d = y.d * half::f16::from_bits(b.d).to_f32();
            let scales = _mm512_cvtepi8_epi32(_mm_loadu_si128(b.scales.as_ptr() as *const __m128i));
            // −32 · Σ_j sc_j · (sum of the 16 activations of sub-block j)
            let bsums = _mm512_cvtepi16_epi32(_mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i));
            let mut sumi =
                _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(_mm512_mullo_epi32(scales, bsums), 5));
            for h in 0..2 {
                let ql = _mm512_loadu_si512(b.ql.as_ptr().add(64 * h) as *const __m512i);
                let qh = _mm256_loadu_si256(b.qh.as_ptr().add(32 * h) as *const __m256i);
                // bits 0–1 of qh serve weights 128h..+32, bits 2–3 the next 32, and so on
                let qh01 = _mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 2), 1);
                let qh23 =
                    _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(qh, 4)), _mm256_srli_epi16(qh, 6), 1);
                let q0 =
                    _mm512_or_si512(_mm512_and_si512(ql, low4), _mm512_slli_epi16(_mm512_and_si512(qh01, low2), 4));
                let q1 = _mm512_or_si512(
                    _mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                    _mm512_slli_epi16(_mm512_and_si512(qh23, low2), 4),
                );
                let a0 = _mm512_loadu_si512(y.qs.as_ptr().add(128 * h) as *const __m512i);
                let a1 = _mm512_loadu_si512(y.qs.as_ptr().add(128 * h + 64) as *const __m512i);
                let p0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q0, a0);
                let p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q1, a1);
                sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(p0, _mm512_permutexvar_epi32(idx[2 * h], scales)));
                sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(p1, _mm512_permutexvar_epi32(idx[2 * h + 1], scales)));
            }
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(d), acc);
        }
        _mm512_reduce_add_ps(acc)
    }

    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn hsum256(v: std::arch::x86_64::__m256) -> f32 {
        use std::arch::x86_64::*;
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Module, Tensor};
    use rand::{Rng, SeedableRng};

    /// The compact product equals candle's own quantized matmul on the same weight (its
    /// repacked or unrepacked kernels compute the same integer sums) up to float summation
    /// order, for Q4_K and Q6_K, one and several activation rows.
    #[test]
    fn equals_candles_quantized_matmul() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let (n, k) = (48, 512);
        let w: Vec<f32> = (0..n * k).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let w = Tensor::from_vec(w, (n, k), &Device::Cpu).unwrap();
        for dtype in [GgmlDType::Q4K, GgmlDType::Q6K] {
            assert!(handles(dtype, k) && !handles(dtype, 640) && !handles(GgmlDType::Q8_0, k));
            let q = QTensor::quantize(&w, dtype).unwrap();
            let mm = candle_core::quantized::QMatMul::from_qtensor(QTensor::quantize(&w, dtype).unwrap()).unwrap();
            for m in [1, 3] {
                let x: Vec<f32> = (0..m * k).map(|_| rng.random_range(-2.0f32..2.0)).collect();
                let got = matmul_t(&q, &x, (m, k, n)).unwrap();
                let want: Vec<f32> = mm
                    .forward(&Tensor::from_vec(x.clone(), (m, k), &Device::Cpu).unwrap())
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1()
                    .unwrap();
                for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                    assert!((a - b).abs() <= 1e-3 * (1.0 + b.abs()), "{dtype:?} m {m} entry {i}: {a} vs {b}");
                }
                // and it is a product with the weight: close to the f32 product
                let exact: Vec<f32> = Tensor::from_vec(x, (m, k), &Device::Cpu)
                    .unwrap()
                    .matmul(&w.t().unwrap())
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1()
                    .unwrap();
                // (4-bit weights: a relative error of a few percent of the products' spread)
                let rms = (exact.iter().map(|v| v * v).sum::<f32>() / exact.len() as f32).sqrt();
                let err =
                    (got.iter().zip(&exact).map(|(a, b)| (a - b).powi(2)).sum::<f32>() / exact.len() as f32).sqrt();
                assert!(err < 0.15 * rms, "{dtype:?}: rms error {err} against the f32 product (rms {rms})");
            }
            assert!(matmul_t(&q, &[0.0; 10], (1, k, n)).is_err());
        }
    }
    /// Blocks of random bytes (every scale, min and high-bit pattern, not only what a
    /// quantizer writes), with finite f16 scales set at `d_at`.
    fn random_blocks<T: GgmlType>(rng: &mut rand::rngs::StdRng, count: usize, d_at: &[usize]) -> Vec<T> {
        let mut blocks: Vec<T> = (0..count).map(|_| T::zeros()).collect();
        let size = std::mem::size_of::<T>();
        // SAFETY: the blocks are plain `repr(C)` bytes and f16s; every bit pattern is a value.
        let bytes = unsafe { std::slice::from_raw_parts_mut(blocks.as_mut_ptr() as *mut u8, count * size) };
        rng.fill(bytes);
        for b in 0..count {
            for &at in d_at {
                let d = half::f16::from_f32(rng.random_range(-0.05f32..0.05)).to_bits().to_le_bytes();
                bytes[b * size + at..b * size + at + 2].copy_from_slice(&d);
            }
        }
        blocks
    }

    /// The AVX-512 VNNI kernels compute what candle's `vec_dot` computes (the same exact
    /// integer sums; only the float additions are ordered differently), on random bytes and
    /// on activations that hit ±127, over 1 to 35 blocks. Where the CPU lacks the features,
    /// no kernel is handed out (candle's `vec_dot` is used).
    #[test]
    fn vnni_kernels_equal_candles_vec_dot() {
        use candle_core::quantized::k_quants::{BlockQ4K, BlockQ6K, BlockQ8K};
        let Some(q4) = vnni::rows::<BlockQ4K>() else {
            assert!(!vnni::available() && vnni::rows::<BlockQ6K>().is_none());
            return;
        };
        let q6 = vnni::rows::<BlockQ6K>().expect("both kernels where either runs");
        assert!(vnni::rows::<candle_core::quantized::k_quants::BlockQ8_0>().is_none());
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let (n, m) = (5, 2);
        for blocks in [1, 2, 6, 35] {
            let k = 256 * blocks;
            for scale in [0.01f32, 1.0, 100.0] {
                let x: Vec<f32> = (0..m * k).map(|_| rng.random_range(-scale..scale)).collect();
                let mut xq: Vec<BlockQ8K> = (0..m * blocks).map(|_| BlockQ8K::zeros()).collect();
                BlockQ8K::from_float(&x, &mut xq);
                let w4: Vec<BlockQ4K> = random_blocks(&mut rng, n * blocks, &[0, 2]);
                let w6: Vec<BlockQ6K> = random_blocks(&mut rng, n * blocks, &[208]);
                let (mut y4, mut y6) = (vec![f32::NAN; m * n], vec![f32::NAN; m * n]);
                // rows 1..5 in one call and row 0 in another, as the thread pool splits them
                for rows in [1..n, 0..1] {
                    // SAFETY: n rows of `blocks` blocks; outputs of m × n.
                    unsafe {
                        q4(&w4, &xq, m, rows.clone(), n, y4.as_mut_ptr());
                        q6(&w6, &xq, m, rows, n, y6.as_mut_ptr());
                    }
                }
                for (i, r) in (0..m).flat_map(|i| (0..n).map(move |r| (i, r))) {
                    let xi = &xq[i * blocks..(i + 1) * blocks];
                    let want4 = BlockQ4K::vec_dot(k, &w4[r * blocks..(r + 1) * blocks], xi);
                    let want6 = BlockQ6K::vec_dot(k, &w6[r * blocks..(r + 1) * blocks], xi);
                    for (what, got, want) in [("Q4_K", y4[i * n + r], want4), ("Q6_K", y6[i * n + r], want6)] {
                        assert!(
                            (got - want).abs() <= 1e-4 * (1.0 + got.abs().max(want.abs())),
                            "{what}, {blocks} blocks, row {r}, activation {i}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }
}
