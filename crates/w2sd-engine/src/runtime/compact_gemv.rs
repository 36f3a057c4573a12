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

fn run<T: GgmlType + Sync>(q: &QTensor, x: &[f32], (m, k, n): (usize, usize, usize)) -> candle_core::Result<Vec<f32>>
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
}
