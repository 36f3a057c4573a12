//! Attention of a few query rows (decoding) against the key/value cache, in one pass per
//! query head, the heads split over candle's thread pool.
//!
//! For query head `h` of sequence `b` at absolute position `t = pos + i`, with its key/value
//! head `g = h / n_rep` (grouped-query attention: `n_rep = heads / kv_heads` consecutive
//! query heads share one key/value head) and the visible keys `j ∈ [lo(t), t]`, where
//! `lo(t) = max(0, t + 1 − window)` for a sliding-window layer and `0` otherwise:
//!
//! `a_j = scale · q[b,h,i,:] · k[b,g,j,:]`,
//! `y[b,i,h·d + c] = Σ_j exp(a_j − max a) · v[b,g,j,c] / Σ_j exp(a_j − max a)`
//!
//! — the same function as the matmul–mask–softmax–matmul chain of
//! [`super::transformer`], without building the `[rows, keys]` score and mask tensors, and
//! with the output already in the `[b, s, heads·d]` layout the output projection takes.
//! Decoding spends most of its non-matmul time in that chain (two small GEMMs that each
//! pack their operands, a mask, a softmax and a transpose per layer and token).

/// Query rows per sequence up to which [`attend`] is used (decoding; prefill keeps the GEMMs).
pub const MAX_ROWS: usize = 4;

/// Sizes of one [`attend`] call.
#[derive(Clone, Copy, Debug)]
pub struct Dims {
    /// Sequences.
    pub b: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (divides `heads`).
    pub kv_heads: usize,
    /// Query rows per sequence.
    pub s: usize,
    /// Head size.
    pub d: usize,
    /// Positions the cache buffers hold per head (`≥ pos + s`).
    pub cap: usize,
    /// Absolute position of the first query row (keys `0..pos + s` are valid).
    pub pos: usize,
}

/// `y` `[b, s, heads·d]` for queries `q` `[b, heads, s, d]` and the cache buffers `k`, `v`
/// `[b, kv_heads, cap, d]` (formula in the module doc). `window`: the sliding window of
/// the layer, if any; `scale`: the score scale (`1/√d` or the model's own).
pub fn attend(q: &[f32], k: &[f32], v: &[f32], dims: Dims, window: Option<usize>, scale: f32) -> Vec<f32> {
    let Dims { b, heads, kv_heads, s, d, cap, pos } = dims;
    assert!(kv_heads > 0 && heads.is_multiple_of(kv_heads), "heads {heads} and kv_heads {kv_heads}");
    assert!(pos + s <= cap, "the cache holds {cap} positions, the queries reach {}", pos + s);
    assert_eq!(q.len(), b * heads * s * d, "query size");
    assert!(k.len() >= b * kv_heads * cap * d && v.len() >= b * kv_heads * cap * d, "cache size");
    let n_rep = heads / kv_heads;
    let mut out = vec![0f32; b * s * heads * d];
    let out_ptr = out.as_mut_ptr() as usize;
    let items = b * heads * s;
    candle_core::utils::barrier_pool().execute_chunked(items, |range| {
        let mut scores: Vec<f32> = Vec::with_capacity(pos + s);
        let mut acc = vec![0f32; d];
        for item in range {
            let (bi, rest) = (item / (heads * s), item % (heads * s));
            let (h, i) = (rest / s, rest % s);
            let t = pos + i;
            let lo = window.map_or(0, |w| (t + 1).saturating_sub(w));
            let qrow = &q[((bi * heads + h) * s + i) * d..][..d];
            let base = (bi * kv_heads + h / n_rep) * cap * d;
            scores.clear();
            let mut max = f32::NEG_INFINITY;
            for j in lo..=t {
                let a = dot(qrow, &k[base + j * d..][..d]) * scale;
                max = max.max(a);
                scores.push(a);
            }
            let mut sum = 0f32;
            for a in scores.iter_mut() {
                *a = (*a - max).exp();
                sum += *a;
            }
            acc.fill(0.0);
            for (jj, &p) in scores.iter().enumerate() {
                let vrow = &v[base + (lo + jj) * d..][..d];
                for (o, x) in acc.iter_mut().zip(vrow) {
                    *o += p * x;
                }
            }
            let inv = 1.0 / sum;
            // SAFETY: each (b, i, h) owns the d outputs at this offset, written by one item
            // only; `out` outlives the call.
            let dst =
                unsafe { std::slice::from_raw_parts_mut((out_ptr as *mut f32).add(((bi * s + i) * heads + h) * d), d) };
            for (o, a) in dst.iter_mut().zip(&acc) {
                *o = a * inv;
            }
        }
    });
    out
}

/// `Σ a_c·b_c` over 16 lanes (vectorised by the compiler), then the lanes and the tail in order.
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..16 {
            lanes[l] += x[l] * y[l];
        }
    }
    let mut s: f32 = lanes.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The formula written out in f64, one query row at a time.
    #[allow(clippy::too_many_arguments)]
    fn reference(q: &[f32], k: &[f32], v: &[f32], dims: Dims, window: Option<usize>, scale: f32) -> Vec<f32> {
        let Dims { b, heads, kv_heads, s, d, cap, pos } = dims;
        let mut y = vec![0f32; b * s * heads * d];
        for bi in 0..b {
            for h in 0..heads {
                let g = h / (heads / kv_heads);
                for i in 0..s {
                    let t = pos + i;
                    let vis: Vec<usize> = (0..=t).filter(|&j| window.is_none_or(|w| t - j < w)).collect();
                    let a: Vec<f64> = vis
                        .iter()
                        .map(|&j| {
                            (0..d)
                                .map(|c| {
                                    q[((bi * heads + h) * s + i) * d + c] as f64
                                        * k[((bi * kv_heads + g) * cap + j) * d + c] as f64
                                })
                                .sum::<f64>()
                                * scale as f64
                        })
                        .collect();
                    let m = a.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = a.iter().map(|x| (x - m).exp()).collect();
                    let z: f64 = e.iter().sum();
                    for c in 0..d {
                        let val: f64 = vis
                            .iter()
                            .zip(&e)
                            .map(|(&j, p)| p * v[((bi * kv_heads + g) * cap + j) * d + c] as f64)
                            .sum();
                        y[((bi * s + i) * heads + h) * d + c] = (val / z) as f32;
                    }
                }
            }
        }
        y
    }

    #[test]
    fn equals_the_formula_with_groups_windows_and_several_rows() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for (dims, window) in [
            (Dims { b: 1, heads: 4, kv_heads: 1, s: 1, d: 40, cap: 64, pos: 37 }, None),
            (Dims { b: 2, heads: 6, kv_heads: 2, s: 3, d: 16, cap: 32, pos: 20 }, None),
            (Dims { b: 1, heads: 4, kv_heads: 4, s: 2, d: 19, cap: 64, pos: 50 }, Some(8)),
            (Dims { b: 1, heads: 2, kv_heads: 1, s: 1, d: 8, cap: 8, pos: 0 }, Some(4)),
        ] {
            let Dims { b, heads, kv_heads, s, d, cap, .. } = dims;
            let mut r = |n: usize| (0..n).map(|_| rng.random_range(-1.5f32..1.5)).collect::<Vec<_>>();
            let (q, k, v) = (r(b * heads * s * d), r(b * kv_heads * cap * d), r(b * kv_heads * cap * d));
            let got = attend(&q, &k, &v, dims, window, 0.3);
            let want = reference(&q, &k, &v, dims, window, 0.3);
            for (n, (a, w)) in got.iter().zip(&want).enumerate() {
                assert!((a - w).abs() < 1e-5, "{dims:?} {window:?} entry {n}: {a} vs {w}");
            }
        }
    }

    /// Keys past the queries' positions and before a window are never read: poisoning them
    /// changes nothing.
    #[test]
    fn reads_only_visible_keys() {
        let dims = Dims { b: 1, heads: 2, kv_heads: 1, s: 1, d: 8, cap: 16, pos: 9 };
        let q = vec![0.5f32; 16];
        let mut k: Vec<f32> = (0..128).map(|i| (i % 7) as f32 * 0.1).collect();
        let mut v: Vec<f32> = (0..128).map(|i| (i % 5) as f32).collect();
        let want = attend(&q, &k, &v, dims, Some(4), 1.0);
        for j in (0..6).chain(10..16) {
            for c in 0..8 {
                k[j * 8 + c] = f32::NAN;
                v[j * 8 + c] = f32::NAN;
            }
        }
        assert_eq!(attend(&q, &k, &v, dims, Some(4), 1.0), want);
    }
}
