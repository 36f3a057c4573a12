//! Products with Q4_K and Q6_K weights interleaved 16 rows at a time (AVX-512 VNNI or AVX2).
//!
//! A K-quant row dotted with an activation row one row at a time (candle's `vec_dot`, ggml's
//! AVX2 port) spends an integer multiply-add, a scale multiply-add and a shuffle on every
//! 16–32 weights of every row. Here 16 weight rows are interleaved so that one 32-bit lane
//! holds four consecutive weights of one row: one `vpdpbusd` against four activation bytes
//! broadcast to every lane multiplies four weights of 16 rows, and the scale of a sub-block
//! is applied once per 16 rows. The tiles hold the GGUF blocks' bits, rearranged: 148 bytes
//! per 256 Q4_K weights and row (144 in the file: the 6-bit scales and mins widened to a byte
//! each) and 212 per 256 Q6_K weights (210).
//!
//! The products are ggml's definitions against the activations quantized to Q8_K
//! (`d_x`, `x_c`), per 256-weight block `b` and weight row `r`:
//!
//! - Q4_K: `Σ_b d_br·d_x·Σ_j sc_brj·Σ_{c∈j} q_brc·x_c − dmin_br·d_x·Σ_j m_brj·Σ_{c∈j} x_c`, eight
//!   sub-blocks `j` of 32 weights `q ∈ [0, 15]` with 6-bit scales `sc` and mins `m`;
//! - Q6_K: `Σ_b d_br·d_x·Σ_j sc_brj·(Σ_{c∈j} q_brc·x_c − 32·Σ_{c∈j} x_c)`, sixteen sub-blocks of
//!   16 stored values `q ∈ [0, 63]` (the weight is `q − 32`) with signed 8-bit scales.
//!
//! The integer sums are exact, so results equal candle's up to float summation order. The
//! kernel is picked at run time ([`super::device::simd_unless`]): AVX-512 VNNI, one
//! `vpdpbusd` per four weights of 16 rows, or AVX2 ([`avx2`]), `vpmaddubsw` + `vpmaddwd` per
//! half-tile of 8 rows. Weights whose row count is not a multiple of 16, or CPUs without AVX2,
//! keep [`super::compact_gemv`]. `W2SD_KQUANT_TILES=0` turns this path off (for side-by-side
//! benchmarks).

use super::device::Simd;
use anyhow::{bail, Result};
use candle_core::quantized::GgmlDType;

/// Weight rows per tile (one per 32-bit lane of a 512-bit register).
pub const ROWS: usize = 16;
/// Weights per K-quant block.
const QK: usize = 256;
/// Bytes per block in the GGUF layout.
const Q4K_BYTES: usize = 144;
const Q6K_BYTES: usize = 210;
/// Bytes of an activation block: Q8_K (`d` f32, 256 `i8`, 16 `i16` sums of 16), as candle's
/// `BlockQ8K` lays it out.
const Q8K_BYTES: usize = 292;

/// One 256-weight Q4_K block of 16 interleaved rows.
#[repr(C, align(64))]
struct Q4Tile {
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

/// One 256-weight Q6_K block of 16 interleaved rows.
#[repr(C, align(64))]
struct Q6Tile {
    /// Sub-block `j` (16 weights), half `h` at `ql[2j + h]`: lane `r` holds the low 4 bits of
    /// weights `16j + 8h + t` (low nibble of byte `t`) and `16j + 8h + 4 + t` (high nibble).
    ql: [[u8; 64]; 32],
    /// Sub-block `j` at `qh[j]`: bits `2s, 2s + 1` of lane `r`'s byte `t` are the high 2 bits
    /// of weight `16j + 4s + t`.
    qh: [[u8; 64]; 16],
    /// Sub-block `j`'s scale for each row.
    scales: [[i8; ROWS]; 16],
    d: [u16; ROWS],
}

/// A K-quant weight `n × k` as tiles of [`ROWS`] rows, tile by tile and block by block.
pub struct Tiles {
    n: usize,
    k: usize,
    blocks: Blocks,
}

enum Blocks {
    Q4K(Vec<Q4Tile>),
    Q6K(Vec<Q6Tile>),
}

impl Tiles {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        match &self.blocks {
            Blocks::Q4K(b) => b.len() * std::mem::size_of::<Q4Tile>(),
            Blocks::Q6K(b) => b.len() * std::mem::size_of::<Q6Tile>(),
        }
    }
}

/// The kernels this CPU runs (AVX-512 VNNI or AVX2), unless `W2SD_KQUANT_TILES=0` turns them
/// off.
pub fn simd() -> Option<Simd> {
    static ON: std::sync::OnceLock<Option<Simd>> = std::sync::OnceLock::new();
    *ON.get_or_init(|| super::device::simd_unless("W2SD_KQUANT_TILES"))
}

/// Whether this CPU runs the kernels and `W2SD_KQUANT_TILES=0` does not turn them off.
pub fn available() -> bool {
    simd().is_some()
}

/// Whether an `n × k` weight of this type goes through [`matmul_t`] on this CPU.
pub fn handles(dtype: GgmlDType, n: usize, k: usize) -> bool {
    matches!(dtype, GgmlDType::Q4K | GgmlDType::Q6K) && n.is_multiple_of(ROWS) && k.is_multiple_of(QK) && available()
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

/// Fills the tiles of `blocks` (`kb` blocks each) with `fill(t, tile)`, tiles split over
/// candle's thread pool.
fn par_tiles<T: Send>(blocks: &mut [T], kb: usize, fill: impl Fn(usize, &mut [T]) + Sync) {
    let bp = blocks.as_mut_ptr() as usize;
    candle_core::utils::barrier_pool().execute_chunked(blocks.len() / kb, |tiles| {
        for t in tiles {
            // SAFETY: tile t's kb blocks are written by this work item only; `blocks` outlives
            // the call.
            let tile = unsafe { std::slice::from_raw_parts_mut((bp as *mut T).add(t * kb), kb) };
            fill(t, tile);
        }
    });
}

/// Interleaves the GGUF bytes of a Q4_K or Q6_K weight `n × k` (`n` a multiple of [`ROWS`],
/// `k` of 256).
pub fn pack(data: &[u8], dtype: GgmlDType, n: usize, k: usize) -> Result<Tiles> {
    let kb = k / QK;
    let block_bytes = match dtype {
        GgmlDType::Q4K => Q4K_BYTES,
        GgmlDType::Q6K => Q6K_BYTES,
        d => bail!("K-quant tiles: no tiles for {d:?}"),
    };
    if !n.is_multiple_of(ROWS) || !k.is_multiple_of(QK) || data.len() != n * kb * block_bytes {
        bail!(
            "K-quant tiles: a {n} × {k} {dtype:?} weight needs rows in 16s, k in 256s and {} bytes",
            n * kb * block_bytes
        );
    }
    // the GGUF block of row r, block b
    let src = |t: usize, r: usize, b: usize| &data[((t * ROWS + r) * kb + b) * block_bytes..][..block_bytes];
    if dtype == GgmlDType::Q4K {
        let zero = || Q4Tile {
            qs: [[0; 64]; 32],
            scales: [[0; ROWS]; 8],
            mins: [[0; 2 * ROWS]; 4],
            d: [0; ROWS],
            dmin: [0; ROWS],
        };
        let mut blocks: Vec<Q4Tile> = (0..n / ROWS * kb).map(|_| zero()).collect();
        par_tiles(&mut blocks, kb, |t, tile| {
            for (b, out) in tile.iter_mut().enumerate() {
                for r in 0..ROWS {
                    let src = src(t, r, b);
                    out.d[r] = u16::from_le_bytes([src[0], src[1]]);
                    out.dmin[r] = u16::from_le_bytes([src[2], src[3]]);
                    let (sc, mn) = scales_mins(&src[4..16]);
                    for j in 0..8 {
                        out.scales[j][r] = sc[j];
                        out.mins[j / 2][2 * r + j % 2] = mn[j];
                    }
                    // weight c: byte 32·(c / 64) + c % 32, the high nibble when c % 64 ≥ 32
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
        });
        return Ok(Tiles { n, k, blocks: Blocks::Q4K(blocks) });
    }
    let zero = || Q6Tile { ql: [[0; 64]; 32], qh: [[0; 64]; 16], scales: [[0; ROWS]; 16], d: [0; ROWS] };
    let mut blocks: Vec<Q6Tile> = (0..n / ROWS * kb).map(|_| zero()).collect();
    par_tiles(&mut blocks, kb, |t, tile| {
        for (b, out) in tile.iter_mut().enumerate() {
            for r in 0..ROWS {
                let src = src(t, r, b);
                let (ql, qh) = (&src[..128], &src[128..192]);
                out.d[r] = u16::from_le_bytes([src[208], src[209]]);
                for j in 0..16 {
                    out.scales[j][r] = src[192 + j] as i8;
                }
                // weight c: half h = c / 128, l = c % 32, quarter s = (c % 128) / 32; low 4 bits in
                // ql[64h + l + 32·(s % 2)] (the high nibble when s ≥ 2), high 2 bits in bits 2s of
                // qh[32h + l]
                let low = |c: usize| {
                    let (h, l, s) = (c / 128, c % 32, (c % 128) / 32);
                    (ql[64 * h + l + 32 * (s % 2)] >> (4 * (s / 2))) & 0xF
                };
                let high = |c: usize| {
                    let (h, l, s) = (c / 128, c % 32, (c % 128) / 32);
                    (qh[32 * h + l] >> (2 * s)) & 3
                };
                for j in 0..16 {
                    for i in 0..4 {
                        for h in 0..2 {
                            let c = 16 * j + 8 * h + i;
                            out.ql[2 * j + h][4 * r + i] = low(c) | (low(c + 4) << 4);
                        }
                        out.qh[j][4 * r + i] = (0..4).map(|s| high(16 * j + 4 * s + i) << (2 * s)).sum();
                    }
                }
            }
        }
    });
    Ok(Tiles { n, k, blocks: Blocks::Q6K(blocks) })
}

/// Activation rows per pass over the weight in a long product (prefill): their Q8_K blocks
/// (292 bytes per 256 inputs) stay in the core's L2 cache while every tile streams past.
const ROW_BLOCK: usize = 32;

/// `y[i·n + r] = Σ_c x[i·k + c]·W[r, c]` for the `m × k` activations `x`, each row quantized
/// once to Q8_K as ggml does, and the tiled weight. Rows go four at a time through a tile
/// (one weight register unpacked serves four activation rows), [`ROW_BLOCK`] rows per pass
/// over the weight.
pub fn matmul_t(w: &Tiles, x: &[f32], m: usize) -> Result<Vec<f32>> {
    match simd() {
        Some(s) => matmul_with(s, w, x, m),
        None => bail!("K-quant tiles need AVX2, FMA and F16C (or AVX-512 VNNI)"),
    }
}

/// [`matmul_t`] with the kernels of `simd`, which the CPU must have.
fn matmul_with(simd: Simd, w: &Tiles, x: &[f32], m: usize) -> Result<Vec<f32>> {
    use candle_core::quantized::k_quants::{BlockQ8K, GgmlType};
    const _: () = assert!(std::mem::size_of::<BlockQ8K>() == Q8K_BYTES);
    let (n, k) = (w.n, w.k);
    let kb = k / QK;
    if super::device::detected().is_none_or(|d| d == Simd::Avx2 && simd == Simd::Avx512Vnni) {
        bail!("K-quant tiles: this CPU lacks the {simd:?} kernels' features");
    }
    if m == 0 || x.len() != m * k {
        bail!("K-quant tiles: {} activations are not rows of k = {k}", x.len());
    }
    let mut blocks: Vec<BlockQ8K> = (0..m * kb).map(|_| BlockQ8K::zeros()).collect();
    if m <= 4 {
        BlockQ8K::from_float(x, &mut blocks);
    } else {
        let bp = blocks.as_mut_ptr() as usize;
        candle_core::utils::barrier_pool().execute_chunked(m, |rows| {
            for i in rows {
                // SAFETY: row i's blocks are written by this work item only.
                let out = unsafe { std::slice::from_raw_parts_mut((bp as *mut BlockQ8K).add(i * kb), kb) };
                BlockQ8K::from_float(&x[i * k..(i + 1) * k], out);
            }
        });
    }
    let xp = blocks.as_ptr() as usize;
    let mut y = vec![0f32; m * n];
    let yp = y.as_mut_ptr() as usize;
    for i0 in (0..m).step_by(ROW_BLOCK) {
        let rows = ROW_BLOCK.min(m - i0);
        candle_core::utils::barrier_pool().execute_chunked(n / ROWS, |tiles| {
            for t in tiles {
                for c0 in (i0..i0 + rows).step_by(4) {
                    let mc = 4.min(i0 + rows - c0);
                    let mut out = [[0f32; ROWS]; 4];
                    // SAFETY: the CPU features of `simd` are checked above; rows c0..c0 + mc
                    // of `x` are mc·kb Q8_K blocks (BlockQ8K is `repr(C)`: d, 256 i8, 16 i16 —
                    // 292 bytes, asserted above).
                    #[cfg(target_arch = "x86_64")]
                    unsafe {
                        let x = (xp as *const u8).add(c0 * kb * Q8K_BYTES);
                        match (&w.blocks, simd) {
                            (Blocks::Q4K(blocks), Simd::Avx512Vnni) => {
                                let tile = &blocks[t * kb..(t + 1) * kb];
                                match mc {
                                    1 => q4_tile::<1>(tile, x, kb, &mut out),
                                    2 => q4_tile::<2>(tile, x, kb, &mut out),
                                    3 => q4_tile::<3>(tile, x, kb, &mut out),
                                    _ => q4_tile::<4>(tile, x, kb, &mut out),
                                }
                            }
                            (Blocks::Q6K(blocks), Simd::Avx512Vnni) => {
                                let tile = &blocks[t * kb..(t + 1) * kb];
                                match mc {
                                    1 => q6_tile::<1>(tile, x, kb, &mut out),
                                    2 => q6_tile::<2>(tile, x, kb, &mut out),
                                    3 => q6_tile::<3>(tile, x, kb, &mut out),
                                    _ => q6_tile::<4>(tile, x, kb, &mut out),
                                }
                            }
                            (Blocks::Q4K(blocks), Simd::Avx2) => {
                                let tile = &blocks[t * kb..(t + 1) * kb];
                                match mc {
                                    1 => avx2::q4_tile::<1>(tile, x, kb, &mut out),
                                    2 => avx2::q4_tile::<2>(tile, x, kb, &mut out),
                                    3 => avx2::q4_tile::<3>(tile, x, kb, &mut out),
                                    _ => avx2::q4_tile::<4>(tile, x, kb, &mut out),
                                }
                            }
                            (Blocks::Q6K(blocks), Simd::Avx2) => {
                                let tile = &blocks[t * kb..(t + 1) * kb];
                                match mc {
                                    1 => avx2::q6_tile::<1>(tile, x, kb, &mut out),
                                    2 => avx2::q6_tile::<2>(tile, x, kb, &mut out),
                                    3 => avx2::q6_tile::<3>(tile, x, kb, &mut out),
                                    _ => avx2::q6_tile::<4>(tile, x, kb, &mut out),
                                }
                            }
                        }
                    }
                    for (i, row) in out.iter().enumerate().take(mc) {
                        // SAFETY: tile t's 16 outputs of row c0 + i are written by this work
                        // item only.
                        unsafe {
                            let dst = (yp as *mut f32).add((c0 + i) * n + t * ROWS);
                            std::ptr::copy_nonoverlapping(row.as_ptr(), dst, ROWS)
                        };
                    }
                }
            }
        });
    }
    Ok(y)
}

/// The 16 outputs of one Q4_K tile for `M` activation rows.
///
/// # Safety
/// The CPU has AVX512F/BW/VNNI; `x` points at `M·kb` Q8_K blocks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn q4_tile<const M: usize>(tile: &[Q4Tile], x: *const u8, kb: usize, out: &mut [[f32; ROWS]; 4]) {
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

/// The 16 outputs of one Q6_K tile for `M` activation rows.
///
/// # Safety
/// The CPU has AVX512F/BW/VNNI; `x` points at `M·kb` Q8_K blocks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn q6_tile<const M: usize>(tile: &[Q6Tile], x: *const u8, kb: usize, out: &mut [[f32; ROWS]; 4]) {
    use std::arch::x86_64::*;
    let low4 = _mm512_set1_epi8(0xF);
    let bits45 = _mm512_set1_epi8(0x30);
    let mut acc = [_mm512_setzero_ps(); M];
    for (b, t) in tile.iter().enumerate() {
        let xb: [*const u8; M] = std::array::from_fn(|i| x.add((i * kb + b) * Q8K_BYTES));
        let mut sums = [_mm512_setzero_si512(); M];
        for j in 0..16 {
            let v0 = _mm512_load_si512(t.ql[2 * j].as_ptr() as *const __m512i);
            let v1 = _mm512_load_si512(t.ql[2 * j + 1].as_ptr() as *const __m512i);
            let h = _mm512_load_si512(t.qh[j].as_ptr() as *const __m512i);
            // four weights of each row per lane, 6 bits each: low 4 bits | high 2 bits << 4
            // (16-bit shifts: what crosses into the neighbouring byte lands outside bits 4–5)
            let w = [
                _mm512_or_si512(_mm512_and_si512(v0, low4), _mm512_and_si512(_mm512_slli_epi16(h, 4), bits45)),
                _mm512_or_si512(
                    _mm512_and_si512(_mm512_srli_epi16(v0, 4), low4),
                    _mm512_and_si512(_mm512_slli_epi16(h, 2), bits45),
                ),
                _mm512_or_si512(_mm512_and_si512(v1, low4), _mm512_and_si512(h, bits45)),
                _mm512_or_si512(
                    _mm512_and_si512(_mm512_srli_epi16(v1, 4), low4),
                    _mm512_and_si512(_mm512_srli_epi16(h, 2), bits45),
                ),
            ];
            let sc = _mm512_cvtepi8_epi32(_mm_loadu_si128(t.scales[j].as_ptr() as *const __m128i));
            for i in 0..M {
                let xs = xb[i].add(4 + 16 * j);
                let mut p = _mm512_setzero_si512();
                for (s, ws) in w.iter().enumerate() {
                    p = _mm512_dpbusd_epi32(p, *ws, _mm512_set1_epi32((xs.add(4 * s) as *const i32).read_unaligned()));
                }
                // the stored values are the weights + 32: take away 32 · (the sub-block's activation sum)
                let bsum = (xb[i].add(4 + QK + 2 * j) as *const i16).read_unaligned() as i32;
                p = _mm512_sub_epi32(p, _mm512_set1_epi32(32 * bsum));
                sums[i] = _mm512_add_epi32(sums[i], _mm512_mullo_epi32(p, sc));
            }
        }
        let d = _mm512_cvtph_ps(_mm256_loadu_si256(t.d.as_ptr() as *const __m256i));
        for i in 0..M {
            let dx = _mm512_set1_ps((xb[i] as *const f32).read_unaligned());
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[i]), _mm512_mul_ps(d, dx), acc[i]);
        }
    }
    for i in 0..M {
        _mm512_storeu_ps(out[i].as_mut_ptr(), acc[i]);
    }
}

/// The same kernels for CPUs with AVX2 but no AVX-512 VNNI, one half-tile (8 rows, a 256-bit
/// register) at a time. Without `vpdpbusd`, `vpmaddubsw` multiplies the unsigned weights by
/// the signed activations into 16-bit pair sums, which are added in 16 bits while they cannot
/// overflow (Q4_K: eight of at most 15·128·2 = 3,840; Q6_K: two of at most 63·128·2 = 16,128),
/// and `vpmaddwd` then multiplies them by the sub-block scale (in both 16-bit halves of the
/// row's lane) into 32 bits: the same exact integer sums. These serve prefill, where one
/// unpacked weight register meets four activation rows; for one row (decoding) they take as
/// many instructions per weight as ggml's row-by-row `vec_dot` and measured slower, so
/// decoding on AVX2 keeps [`super::compact_gemv`] (the route is chosen in `transformer.rs`).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Q4Tile, Q6Tile, Q8K_BYTES, QK, ROWS};
    use std::arch::x86_64::*;

    /// A row's sub-block scale in both 16-bit halves of its 32-bit lane, for 8 rows.
    #[inline(always)]
    unsafe fn pair_scales(sc32: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_and_si256(sc32, _mm256_set1_epi32(0xFFFF)), _mm256_slli_epi32(sc32, 16))
    }

    /// [`super::q4_tile`] for AVX2.
    ///
    /// # Safety
    /// The CPU has AVX2, FMA and F16C; `x` points at `M·kb` Q8_K blocks.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) unsafe fn q4_tile<const M: usize>(tile: &[Q4Tile], x: *const u8, kb: usize, out: &mut [[f32; ROWS]; 4]) {
        let low4 = _mm256_set1_epi8(0xF);
        for h in 0..2 {
            let mut acc = [_mm256_setzero_ps(); M];
            for (b, t) in tile.iter().enumerate() {
                let xb: [*const u8; M] = std::array::from_fn(|i| x.add((i * kb + b) * Q8K_BYTES));
                let mut mins = [_mm256_setzero_si256(); M];
                for (p, mp) in t.mins.iter().enumerate() {
                    let mv = _mm256_cvtepu8_epi16(_mm_loadu_si128(mp.as_ptr().add(16 * h) as *const __m128i));
                    for i in 0..M {
                        let bs = xb[i].add(4 + QK + 8 * p) as *const i16;
                        let s0 = bs.read_unaligned().wrapping_add(bs.add(1).read_unaligned());
                        let s1 = bs.add(2).read_unaligned().wrapping_add(bs.add(3).read_unaligned());
                        let pair = (s0 as u16 as u32 | ((s1 as u16 as u32) << 16)) as i32;
                        mins[i] = _mm256_add_epi32(mins[i], _mm256_madd_epi16(mv, _mm256_set1_epi32(pair)));
                    }
                }
                let mut sums = [_mm256_setzero_si256(); M];
                for j in 0..8 {
                    let mut p = [_mm256_setzero_si256(); M];
                    for g in 0..4 {
                        let v = _mm256_load_si256(t.qs[4 * j + g].as_ptr().add(32 * h) as *const __m256i);
                        let lo = _mm256_and_si256(v, low4);
                        let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
                        for i in 0..M {
                            let xs = xb[i].add(4 + 32 * j + 8 * g);
                            let xl = _mm256_set1_epi32((xs as *const i32).read_unaligned());
                            let xh = _mm256_set1_epi32((xs.add(4) as *const i32).read_unaligned());
                            p[i] = _mm256_add_epi16(p[i], _mm256_maddubs_epi16(lo, xl));
                            p[i] = _mm256_add_epi16(p[i], _mm256_maddubs_epi16(hi, xh));
                        }
                    }
                    let sc = _mm256_cvtepu8_epi32(_mm_loadl_epi64(t.scales[j].as_ptr().add(8 * h) as *const __m128i));
                    let sc = pair_scales(sc);
                    for i in 0..M {
                        sums[i] = _mm256_add_epi32(sums[i], _mm256_madd_epi16(p[i], sc));
                    }
                }
                let d = _mm256_cvtph_ps(_mm_loadu_si128(t.d.as_ptr().add(8 * h) as *const __m128i));
                let dmin = _mm256_cvtph_ps(_mm_loadu_si128(t.dmin.as_ptr().add(8 * h) as *const __m128i));
                for i in 0..M {
                    let dx = _mm256_set1_ps((xb[i] as *const f32).read_unaligned());
                    acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[i]), _mm256_mul_ps(d, dx), acc[i]);
                    acc[i] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mins[i]), _mm256_mul_ps(dmin, dx), acc[i]);
                }
            }
            for i in 0..M {
                _mm256_storeu_ps(out[i].as_mut_ptr().add(8 * h), acc[i]);
            }
        }
    }

    /// [`super::q6_tile`] for AVX2.
    ///
    /// # Safety
    /// The CPU has AVX2, FMA and F16C; `x` points at `M·kb` Q8_K blocks.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) unsafe fn q6_tile<const M: usize>(tile: &[Q6Tile], x: *const u8, kb: usize, out: &mut [[f32; ROWS]; 4]) {
        let low4 = _mm256_set1_epi8(0xF);
        let bits45 = _mm256_set1_epi8(0x30);
        for h in 0..2 {
            let mut acc = [_mm256_setzero_ps(); M];
            for (b, t) in tile.iter().enumerate() {
                let xb: [*const u8; M] = std::array::from_fn(|i| x.add((i * kb + b) * Q8K_BYTES));
                let mut sums = [_mm256_setzero_si256(); M];
                // Σ_j sc_j · (sum of sub-block j's activations), for the −32 offset
                let mut offs = [_mm256_setzero_si256(); M];
                for j in 0..16 {
                    let v0 = _mm256_load_si256(t.ql[2 * j].as_ptr().add(32 * h) as *const __m256i);
                    let v1 = _mm256_load_si256(t.ql[2 * j + 1].as_ptr().add(32 * h) as *const __m256i);
                    let hb = _mm256_load_si256(t.qh[j].as_ptr().add(32 * h) as *const __m256i);
                    let w = [
                        _mm256_or_si256(_mm256_and_si256(v0, low4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), bits45)),
                        _mm256_or_si256(
                            _mm256_and_si256(_mm256_srli_epi16(v0, 4), low4),
                            _mm256_and_si256(_mm256_slli_epi16(hb, 2), bits45),
                        ),
                        _mm256_or_si256(_mm256_and_si256(v1, low4), _mm256_and_si256(hb, bits45)),
                        _mm256_or_si256(
                            _mm256_and_si256(_mm256_srli_epi16(v1, 4), low4),
                            _mm256_and_si256(_mm256_srli_epi16(hb, 2), bits45),
                        ),
                    ];
                    let sc = _mm256_cvtepi8_epi32(_mm_loadl_epi64(t.scales[j].as_ptr().add(8 * h) as *const __m128i));
                    let sc = pair_scales(sc);
                    for i in 0..M {
                        let xs = xb[i].add(4 + 16 * j);
                        let x4 = |s: usize| _mm256_set1_epi32((xs.add(4 * s) as *const i32).read_unaligned());
                        let pa = _mm256_add_epi16(_mm256_maddubs_epi16(w[0], x4(0)), _mm256_maddubs_epi16(w[1], x4(1)));
                        let pb = _mm256_add_epi16(_mm256_maddubs_epi16(w[2], x4(2)), _mm256_maddubs_epi16(w[3], x4(3)));
                        sums[i] = _mm256_add_epi32(sums[i], _mm256_madd_epi16(pa, sc));
                        sums[i] = _mm256_add_epi32(sums[i], _mm256_madd_epi16(pb, sc));
                        let bsum = (xb[i].add(4 + QK + 2 * j) as *const i16).read_unaligned();
                        offs[i] =
                            _mm256_add_epi32(offs[i], _mm256_madd_epi16(sc, _mm256_set1_epi32(bsum as u16 as i32)));
                    }
                }
                let d = _mm256_cvtph_ps(_mm_loadu_si128(t.d.as_ptr().add(8 * h) as *const __m128i));
                for i in 0..M {
                    let s = _mm256_sub_epi32(sums[i], _mm256_slli_epi32(offs[i], 5));
                    let dx = _mm256_set1_ps((xb[i] as *const f32).read_unaligned());
                    acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(d, dx), acc[i]);
                }
            }
            for i in 0..M {
                _mm256_storeu_ps(out[i].as_mut_ptr().add(8 * h), acc[i]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::k_quants::{BlockQ4K, BlockQ6K, BlockQ8K, GgmlType};
    use rand::{Rng, SeedableRng};

    /// Row-by-row products of candle's `vec_dot` on GGUF bytes of type `T`.
    fn candle_rows<T: GgmlType<VecDotType = BlockQ8K>>(data: &[u8], n: usize, k: usize, xq: &[BlockQ8K]) -> Vec<f32> {
        let kb = k / QK;
        // SAFETY: T is candle's `repr(C)` GGUF block; `data` holds n·kb of them.
        let w: &[T] = unsafe { std::slice::from_raw_parts(data.as_ptr() as *const T, n * kb) };
        let m = xq.len() / kb;
        (0..m)
            .flat_map(|i| (0..n).map(move |r| T::vec_dot(k, &w[r * kb..(r + 1) * kb], &xq[i * kb..(i + 1) * kb])))
            .collect()
    }

    /// The tiled products equal candle's `vec_dot` row by row (the same exact integer sums)
    /// on Q4_K and Q6_K weights of random bytes — every scale, min, nibble and high-bit
    /// pattern, not only what a quantizer writes — for 1 to 4 activation rows and 1 to 35
    /// blocks, with activations that reach ±127 — with every kernel this CPU runs (AVX-512
    /// VNNI and AVX2 where it has both). The test fails on a CPU with neither: w2sd's
    /// supported CPUs all have AVX2.
    #[test]
    fn tiles_equal_candles_vec_dot() {
        let kernels: Vec<Simd> = match super::super::device::detected() {
            Some(Simd::Avx512Vnni) => vec![Simd::Avx512Vnni, Simd::Avx2],
            Some(Simd::Avx2) => vec![Simd::Avx2],
            None => panic!("this CPU has no AVX2: the K-quant tiles are off here"),
        };
        if std::env::var("W2SD_KQUANT_TILES").as_deref() == Ok("0") {
            assert!(!handles(GgmlDType::Q4K, 32, 256));
            assert!(matmul_t(&pack(&[0; 2 * 16 * 144], GgmlDType::Q4K, 32, 256).unwrap(), &[0.0; 256], 1).is_err());
            return;
        }
        assert!(handles(GgmlDType::Q4K, 32, 512) && handles(GgmlDType::Q6K, 32, 512));
        assert!(!handles(GgmlDType::Q4K, 40, 512) && !handles(GgmlDType::Q4K, 32, 640));
        assert!(!handles(GgmlDType::Q8_0, 32, 512));
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let n = 2 * ROWS;
        for (dtype, bytes, d_at) in
            [(GgmlDType::Q4K, Q4K_BYTES, &[0usize, 2][..]), (GgmlDType::Q6K, Q6K_BYTES, &[208][..])]
        {
            for kb in [1, 2, 6, 35] {
                let k = kb * QK;
                let mut data = vec![0u8; n * kb * bytes];
                rng.fill(&mut data[..]);
                for blk in data.chunks_exact_mut(bytes) {
                    for &at in d_at {
                        let d = half::f16::from_f32(rng.random_range(-0.05f32..0.05)).to_bits().to_le_bytes();
                        blk[at..at + 2].copy_from_slice(&d);
                    }
                }
                let tiles = pack(&data, dtype, n, k).unwrap();
                let per_block = if dtype == GgmlDType::Q4K { 2368 } else { 3392 };
                assert_eq!(tiles.bytes(), n / ROWS * kb * per_block);
                for m in [1, 2, 3, 4, 37] {
                    let scale = [0.01f32, 1.0, 100.0][m % 3];
                    let x: Vec<f32> = (0..m * k).map(|_| rng.random_range(-scale..scale)).collect();
                    let mut xq: Vec<BlockQ8K> = (0..m * kb).map(|_| BlockQ8K::zeros()).collect();
                    BlockQ8K::from_float(&x, &mut xq);
                    let want = match dtype {
                        GgmlDType::Q4K => candle_rows::<BlockQ4K>(&data, n, k, &xq),
                        _ => candle_rows::<BlockQ6K>(&data, n, k, &xq),
                    };
                    for &simd in &kernels {
                        let got = matmul_with(simd, &tiles, &x, m).unwrap();
                        // float summation order: relative to the largest product, as sums of
                        // random blocks can cancel to a small value
                        let top = want.iter().fold(0f32, |a, w| a.max(w.abs()));
                        for (e, (g, w)) in got.iter().zip(&want).enumerate() {
                            assert!(
                                (g - w).abs() <= 1e-4 * (1.0 + g.abs().max(w.abs())) + 1e-5 * top,
                                "{simd:?}: {dtype:?}, {kb} blocks, {m} rows: output {e}: {g} vs {w}"
                            );
                        }
                    }
                }
            }
        }
        assert!(pack(&[0; 40 * 144], GgmlDType::Q4K, 40, 256).is_err());
        assert!(pack(&[0; 32 * 34], GgmlDType::Q8_0, 32, 256).is_err());
    }
}
