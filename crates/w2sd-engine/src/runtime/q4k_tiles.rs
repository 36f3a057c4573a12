//! Decoding products with Q4_K weights interleaved 16 rows at a time (AVX-512 VNNI).
//!
//! A Q4_K row dotted with an activation row one row at a time (candle's `vec_dot`, ggml's
//! AVX2 port) spends an integer multiply-add, a scale multiply-add and a shuffle on every 32
//! weights of every row. Here 16 weight rows are interleaved so that one 32-bit lane holds
//! four consecutive weights of one row: one `vpdpbusd` against four activation bytes
//! broadcast to every lane multiplies four weights of 16 rows, and the scale of a 32-weight
//! sub-block is applied once per 16 rows. Per 256-weight block and row the tile holds the
//! same bytes as the GGUF block (128 of 4-bit weights, 8 + 8 six-bit scales and mins widened
//! to a byte each, the two f16 scales): 148 bytes instead of 144.
//!
//! The product per block `b`, row `r` and activation row `i` is ggml's definition of Q4_K
//! against Q8_K:
//!
//! `y[i, r] = Σ_b d_br·d_bi·Σ_j sc_brj·Σ_{c∈j} q_brc·x_bic − dmin_br·d_bi·Σ_j m_brj·Σ_{c∈j} x_bic`
//!
//! for the eight sub-blocks `j` of 32 weights `q ∈ [0, 15]` with 6-bit scales `sc` and mins
//! `m`; the integer sums are exact, so results equal candle's up to float summation order.
//! Products whose weight has a row count not a multiple of 16, or CPUs without AVX-512 VNNI
//! (checked at run time), keep [`super::compact_gemv`]. `W2SD_Q4K_TILES=0` turns this path
//! off (for side-by-side benchmarks).

use anyhow::{bail, Result};
use candle_core::quantized::GgmlDType;

/// Weight rows per tile (one per 32-bit lane of a 512-bit register).
pub const ROWS: usize = 16;
/// Weights per Q4_K block, and bytes per block in the GGUF layout.
const QK: usize = 256;
const BLOCK_BYTES: usize = 144;
/// The same for the activations' Q8_K blocks (`d` f32, 256 `i8`, 16 `i16` sums of 16).
const Q8K_BYTES: usize = 292;

/// One 256-weight block of 16 interleaved rows.
#[repr(C, align(64))]
struct TileBlock {
    /// Sub-block `j`, group `g` at `qs[4j + g]`: lane `r` (4 bytes) holds weights
    /// `32j + 8g + t` (low nibble of byte `t`) and `32j + 8g + 4 + t` (high nibble) of row `r`.
    qs: [[u8; 64]; 32],
    /// Sub-block `j`'s scale for each row.
    scales: [[u8; ROWS]; 8],
    /// Sub-blocks `2p` and `2p + 1`'s mins for each row, row by row.
    mins: [[u8; 2 * ROWS]; 4],
    d: [u16; ROWS],
    dmin: [u16; ROWS],
}

/// A Q4_K weight `n × k` as tiles of [`ROWS`] rows, tile by tile and block by block.
pub struct Tiles {
    n: usize,
    k: usize,
    blocks: Vec<TileBlock>,
}

impl Tiles {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.blocks.len() * std::mem::size_of::<TileBlock>()
    }
}

/// Whether this CPU runs the kernel (AVX512F, BW and VNNI) and `W2SD_Q4K_TILES=0` does not
/// turn it off.
pub fn available() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        if std::env::var("W2SD_Q4K_TILES").as_deref() == Ok("0") {
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

/// Whether an `n × k` weight of this type goes through [`matmul_t`] on this CPU.
pub fn handles(dtype: GgmlDType, n: usize, k: usize) -> bool {
    dtype == GgmlDType::Q4K && n.is_multiple_of(ROWS) && k.is_multiple_of(QK) && available()
}

/// The eight 6-bit scales and eight 6-bit mins of a Q4_K block, as ggml packs them in 12
/// bytes: scales 0–3 and mins 0–3 in the low 6 bits of bytes 0–3 and 4–7; scales and mins
/// 4–7 in the low and high nibbles of bytes 8–11, with their top 2 bits in the top bits of
/// bytes 0–3 (scales) and 4–7 (mins).
fn scales_mins(s: &[u8]) -> ([u8; 8], [u8; 8]) {
    let (mut sc, mut mn) = ([0u8; 8], [0u8; 8]);
    for j in 0..4 {
        sc[j] = s[j] & 63;
        mn[j] = s[j + 4] & 63;
        sc[j + 4] = (s[j + 8] & 0xF) | ((s[j] >> 6) << 4);
        mn[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
    }
    (sc, mn)
}

/// Interleaves the GGUF bytes of a Q4_K weight `n × k` (`n` a multiple of [`ROWS`], `k` of 256).
pub fn pack(data: &[u8], n: usize, k: usize) -> Result<Tiles> {
    let kb = k / QK;
    if !n.is_multiple_of(ROWS) || !k.is_multiple_of(QK) || data.len() != n * kb * BLOCK_BYTES {
        bail!("Q4_K tiles: a {n} × {k} weight needs rows in 16s, k in 256s and {} bytes", n * kb * BLOCK_BYTES);
    }
    let zero = || TileBlock {
        qs: [[0; 64]; 32],
        scales: [[0; ROWS]; 8],
        mins: [[0; 2 * ROWS]; 4],
        d: [0; ROWS],
        dmin: [0; ROWS],
    };
    let mut blocks: Vec<TileBlock> = (0..n / ROWS * kb).map(|_| zero()).collect();
    for (t, tile) in blocks.chunks_exact_mut(kb).enumerate() {
        for (b, out) in tile.iter_mut().enumerate() {
            for r in 0..ROWS {
                let src = &data[((t * ROWS + r) * kb + b) * BLOCK_BYTES..][..BLOCK_BYTES];
                out.d[r] = u16::from_le_bytes([src[0], src[1]]);
                out.dmin[r] = u16::from_le_bytes([src[2], src[3]]);
                let (sc, mn) = scales_mins(&src[4..16]);
                for j in 0..8 {
                    out.scales[j][r] = sc[j];
                    out.mins[j / 2][2 * r + j % 2] = mn[j];
                }
                // weight c of the block: byte 32·(c / 64) + c % 32, high nibble when c % 64 ≥ 32
                let qs = &src[16..];
                let w = |c: usize| (qs[32 * (c / 64) + c % 32] >> (4 * ((c % 64) / 32))) & 0xF;
                for j in 0..8 {
                    for g in 0..4 {
                        for i in 0..4 {
                            let c = 32 * j + 8 * g + i;
                            out.qs[4 * j + g][4 * r + i] = w(c) | (w(c + 4) << 4);
                        }
                    }
                }
            }
        }
    }
    Ok(Tiles { n, k, blocks })
}

/// `y[i·n + r] = Σ_c x[i·k + c]·W[r, c]` for the `m × k` activations `x` (`m` at most 4),
/// each row quantized once to Q8_K as ggml does, and the tiled weight.
pub fn matmul_t(w: &Tiles, x: &[f32], m: usize) -> Result<Vec<f32>> {
    use candle_core::quantized::k_quants::{BlockQ8K, GgmlType};
    const _: () = assert!(std::mem::size_of::<BlockQ8K>() == Q8K_BYTES);
    let kb = w.k / QK;
    if !available() {
        bail!("Q4_K tiles need AVX512F, AVX512BW and AVX512-VNNI");
    }
    if !(1..=4).contains(&m) || x.len() != m * w.k {
        bail!("Q4_K tiles: {} activations are not 1 to 4 rows of k = {}", x.len(), w.k);
    }
    let mut blocks: Vec<BlockQ8K> = (0..m * kb).map(|_| BlockQ8K::zeros()).collect();
    BlockQ8K::from_float(x, &mut blocks);
    // SAFETY: BlockQ8K is `repr(C)`: d (f32), 256 i8, 16 i16 — 292 bytes (asserted above).
    let xq = unsafe { std::slice::from_raw_parts(blocks.as_ptr() as *const u8, blocks.len() * Q8K_BYTES) };
    let n = w.n;
    let mut y = vec![0f32; m * n];
    let (yp, xp) = (y.as_mut_ptr() as usize, xq.as_ptr() as usize);
    candle_core::utils::barrier_pool().execute_chunked(n / ROWS, |tiles| {
        for t in tiles {
            let tile = &w.blocks[t * kb..(t + 1) * kb];
            let mut out = [[0f32; ROWS]; 4];
            // SAFETY: `available()` checked the CPU features; `xq` holds m rows of kb blocks.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                match m {
                    1 => tile_dot::<1>(tile, xp as *const u8, kb, &mut out),
                    2 => tile_dot::<2>(tile, xp as *const u8, kb, &mut out),
                    3 => tile_dot::<3>(tile, xp as *const u8, kb, &mut out),
                    _ => tile_dot::<4>(tile, xp as *const u8, kb, &mut out),
                }
            }
            for (i, row) in out.iter().enumerate().take(m) {
                // SAFETY: tile t's 16 outputs of row i are written by this work item only.
                unsafe { std::ptr::copy_nonoverlapping(row.as_ptr(), (yp as *mut f32).add(i * n + t * ROWS), ROWS) };
            }
        }
    });
    Ok(y)
}

/// The 16 outputs of one tile for `M` activation rows.
///
/// # Safety
/// The CPU has AVX512F/BW/VNNI; `x` points at `M·kb` Q8_K blocks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn tile_dot<const M: usize>(tile: &[TileBlock], x: *const u8, kb: usize, out: &mut [[f32; ROWS]; 4]) {
    use std::arch::x86_64::*;
    let low4 = _mm512_set1_epi8(0xF);
    let mut acc = [_mm512_setzero_ps(); M];
    for (b, t) in tile.iter().enumerate() {
        let xb: [*const u8; M] = std::array::from_fn(|i| x.add((i * kb + b) * Q8K_BYTES));
        // Σ_j m_j · (sum of sub-block j's 32 activations), two sub-blocks per vpdpwssd
        let mut mins = [_mm512_setzero_si512(); M];
        for (p, mp) in t.mins.iter().enumerate() {
            let mv = _mm512_cvtepu8_epi16(_mm256_loadu_si256(mp.as_ptr() as *const __m256i));
            for i in 0..M {
                let bs = xb[i].add(4 + QK + 8 * p) as *const i16;
                let s0 = bs.read_unaligned().wrapping_add(bs.add(1).read_unaligned());
                let s1 = bs.add(2).read_unaligned().wrapping_add(bs.add(3).read_unaligned());
                let pair = (s0 as u16 as u32 | ((s1 as u16 as u32) << 16)) as i32;
                mins[i] = _mm512_dpwssd_epi32(mins[i], mv, _mm512_set1_epi32(pair));
            }
        }
        let mut sums = [_mm512_setzero_si512(); M];
        for j in 0..8 {
            let mut p = [_mm512_setzero_si512(); M];
            for g in 0..4 {
                let v = _mm512_load_si512(t.qs[4 * j + g].as_ptr() as *const __m512i);
                let lo = _mm512_and_si512(v, low4);
                let hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
                for i in 0..M {
                    let xs = xb[i].add(4 + 32 * j + 8 * g);
                    p[i] = _mm512_dpbusd_epi32(p[i], lo, _mm512_set1_epi32((xs as *const i32).read_unaligned()));
                    p[i] = _mm512_dpbusd_epi32(p[i], hi, _mm512_set1_epi32((xs.add(4) as *const i32).read_unaligned()));
                }
            }
            let sc = _mm512_cvtepu8_epi32(_mm_loadu_si128(t.scales[j].as_ptr() as *const __m128i));
            for i in 0..M {
                sums[i] = _mm512_add_epi32(sums[i], _mm512_mullo_epi32(p[i], sc));
            }
        }
        let d = _mm512_cvtph_ps(_mm256_loadu_si256(t.d.as_ptr() as *const __m256i));
        let dmin = _mm512_cvtph_ps(_mm256_loadu_si256(t.dmin.as_ptr() as *const __m256i));
        for i in 0..M {
            let dx = _mm512_set1_ps((xb[i] as *const f32).read_unaligned());
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[i]), _mm512_mul_ps(d, dx), acc[i]);
            acc[i] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mins[i]), _mm512_mul_ps(dmin, dx), acc[i]);
        }
    }
    for i in 0..M {
        _mm512_storeu_ps(out[i].as_mut_ptr(), acc[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::k_quants::{BlockQ4K, BlockQ8K, GgmlType};
    use rand::{Rng, SeedableRng};

    /// The tiled product equals candle's `vec_dot` row by row (the same exact integer sums)
    /// on weights of random bytes — every scale, min and nibble pattern, not only what a
    /// quantizer writes — for 1 to 4 activation rows and 1 to 35 blocks, with activations
    /// that reach ±127. On a CPU without the features, nothing is handed out.
    #[test]
    fn tiles_equal_candles_vec_dot() {
        if !available() {
            assert!(!handles(GgmlDType::Q4K, 32, 256));
            assert!(matmul_t(&pack(&[0; 2 * 16 * 144], 32, 256).unwrap(), &[0.0; 256], 1).is_err());
            return;
        }
        assert!(handles(GgmlDType::Q4K, 32, 512) && !handles(GgmlDType::Q4K, 40, 512));
        assert!(!handles(GgmlDType::Q6K, 32, 512) && !handles(GgmlDType::Q4K, 32, 640));
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let n = 2 * ROWS;
        for kb in [1, 2, 6, 35] {
            let k = kb * QK;
            let mut data = vec![0u8; n * kb * BLOCK_BYTES];
            rng.fill(&mut data[..]);
            for blk in data.chunks_exact_mut(BLOCK_BYTES) {
                for at in [0, 2] {
                    let d = half::f16::from_f32(rng.random_range(-0.05f32..0.05)).to_bits().to_le_bytes();
                    blk[at..at + 2].copy_from_slice(&d);
                }
            }
            let tiles = pack(&data, n, k).unwrap();
            assert_eq!(tiles.bytes(), n / ROWS * kb * 2368);
            // SAFETY: BlockQ4K is the `repr(C)` GGUF block of 144 bytes (candle asserts it).
            let w: &[BlockQ4K] = unsafe { std::slice::from_raw_parts(data.as_ptr() as *const BlockQ4K, n * kb) };
            for m in 1..=4 {
                let scale = [0.01f32, 1.0, 100.0][m % 3];
                let x: Vec<f32> = (0..m * k).map(|_| rng.random_range(-scale..scale)).collect();
                let mut xq: Vec<BlockQ8K> = (0..m * kb).map(|_| BlockQ8K::zeros()).collect();
                BlockQ8K::from_float(&x, &mut xq);
                let y = matmul_t(&tiles, &x, m).unwrap();
                for i in 0..m {
                    for r in 0..n {
                        let want = BlockQ4K::vec_dot(k, &w[r * kb..(r + 1) * kb], &xq[i * kb..(i + 1) * kb]);
                        let got = y[i * n + r];
                        assert!(
                            (got - want).abs() <= 1e-4 * (1.0 + got.abs().max(want.abs())),
                            "{kb} blocks, {m} rows: row {r}, activation {i}: {got} vs {want}"
                        );
                    }
                }
            }
        }
        assert!(pack(&data_of(40, 1), 40, 256).is_err());
    }

    fn data_of(n: usize, kb: usize) -> Vec<u8> {
        vec![0; n * kb * BLOCK_BYTES]
    }
}
