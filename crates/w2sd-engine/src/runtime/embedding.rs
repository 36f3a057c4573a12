//! Token embeddings read from the quantized GGUF table, dequantizing only the rows looked up.
//!
//! A dequantized f32 table costs `vocab × hidden × 4` bytes: 671 MB for Gemma 3 270M
//! (262,144 × 640), 545 MB for Qwen2.5 0.5B and 933 MB for Qwen2.5 1.5B — more than each
//! model's quantized weights. Row `t` of the quantized table is its own run of blocks, so
//! `E[t, :] = dequantize(blocks of row t)` gives the same values as dequantizing the whole
//! table and indexing it, and the quantized table is shared with a tied output head.

use std::sync::Arc;

use candle_core::quantized::k_quants::{
    BlockQ2K, BlockQ3K, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K, BlockQ5_0, BlockQ5_1, BlockQ6K, BlockQ8K, BlockQ8_0,
    GgmlType,
};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};

/// The token embedding table `[vocab, hidden]`.
pub enum Embedding {
    /// Quantized on the CPU; rows dequantized on lookup.
    Quantized { table: Arc<QTensor>, vocab: usize, hidden: usize },
    /// A dense table (safetensors weights, GPU devices, block types without a row kernel).
    Dense(Tensor),
}

impl Embedding {
    /// The table of a GGUF model: kept quantized on the CPU where its type and row length
    /// allow, else dequantized on `device`.
    pub fn from_quantized(table: Arc<QTensor>, device: &Device) -> candle_core::Result<Self> {
        let (vocab, hidden) = table.shape().dims2()?;
        let rows_ok = device.is_cpu()
            && table.device().is_cpu()
            && block_size(table.dtype()).is_some_and(|b| hidden.is_multiple_of(b))
            && {
                let data = table.data()?;
                data.len() == vocab * hidden / table.dtype().block_size() * table.dtype().type_size()
                    && (data.as_ptr() as usize).is_multiple_of(4)
            };
        if rows_ok {
            Ok(Self::Quantized { table, vocab, hidden })
        } else {
            Ok(Self::Dense(table.dequantize(device)?))
        }
    }

    /// Rows in the table (the vocabulary size).
    pub fn vocab(&self) -> usize {
        match self {
            Self::Quantized { vocab, .. } => *vocab,
            Self::Dense(t) => t.dim(0).unwrap_or(0),
        }
    }

    /// The rows of `ids` `[n]` (u32): `[n, hidden]` f32.
    pub fn lookup(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Dense(t) => t.index_select(ids, 0)?.to_dtype(candle_core::DType::F32),
            Self::Quantized { table, vocab, hidden } => {
                let ids: Vec<u32> = ids.to_dtype(candle_core::DType::U32)?.to_vec1()?;
                if let Some(&bad) = ids.iter().find(|&&t| t as usize >= *vocab) {
                    candle_core::bail!("token id {bad} is outside the vocabulary of {vocab}");
                }
                let data = table.data()?;
                let mut out = vec![0f32; ids.len() * hidden];
                for (&t, row) in ids.iter().zip(out.chunks_exact_mut(*hidden)) {
                    dequantize_row(&data, table.dtype(), t as usize, row);
                }
                Tensor::from_vec(out, (ids.len(), *hidden), &Device::Cpu)
            }
        }
    }
}

/// Values per block of the types with a row kernel here.
fn block_size(dtype: GgmlDType) -> Option<usize> {
    use GgmlDType::*;
    matches!(dtype, Q4_0 | Q4_1 | Q5_0 | Q5_1 | Q8_0 | Q2K | Q3K | Q4K | Q5K | Q6K | Q8K).then(|| dtype.block_size())
}

/// Row `r` of a table of `T` blocks (`row.len()` values per row) into `row`.
fn row_of<T: GgmlType>(data: &[u8], r: usize, row: &mut [f32]) {
    let kb = row.len() / T::BLCK_SIZE;
    let bytes = &data[r * kb * std::mem::size_of::<T>()..(r + 1) * kb * std::mem::size_of::<T>()];
    assert!((bytes.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>()), "block alignment");
    // SAFETY: `bytes` holds exactly `kb` blocks of `T` (a `#[repr(C)]` block of integer and
    // float fields, any bit pattern valid) at an address aligned for `T` (asserted above;
    // the storage is candle's `Vec<T>`).
    let blocks = unsafe { std::slice::from_raw_parts(bytes.as_ptr() as *const T, kb) };
    T::to_float(blocks, row);
}

fn dequantize_row(data: &[u8], dtype: GgmlDType, r: usize, row: &mut [f32]) {
    use GgmlDType::*;
    match dtype {
        Q4_0 => row_of::<BlockQ4_0>(data, r, row),
        Q4_1 => row_of::<BlockQ4_1>(data, r, row),
        Q5_0 => row_of::<BlockQ5_0>(data, r, row),
        Q5_1 => row_of::<BlockQ5_1>(data, r, row),
        Q8_0 => row_of::<BlockQ8_0>(data, r, row),
        Q2K => row_of::<BlockQ2K>(data, r, row),
        Q3K => row_of::<BlockQ3K>(data, r, row),
        Q4K => row_of::<BlockQ4K>(data, r, row),
        Q5K => row_of::<BlockQ5K>(data, r, row),
        Q6K => row_of::<BlockQ6K>(data, r, row),
        Q8K => row_of::<BlockQ8K>(data, r, row),
        other => unreachable!("no row kernel for {other:?} (checked by block_size)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Looked-up rows equal the rows of the whole dequantized table, for every block type
    /// the GGUF models use; ids outside the vocabulary are an error.
    #[test]
    fn rows_equal_the_dequantized_table() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let (vocab, hidden) = (37, 512);
        let w: Vec<f32> = (0..vocab * hidden).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let w = Tensor::from_vec(w, (vocab, hidden), &Device::Cpu).unwrap();
        for dtype in [GgmlDType::Q8_0, GgmlDType::Q5_0, GgmlDType::Q4K, GgmlDType::Q6K, GgmlDType::Q4_0] {
            let q = Arc::new(QTensor::quantize(&w, dtype).unwrap());
            let dense = q.dequantize(&Device::Cpu).unwrap();
            let e = Embedding::from_quantized(q, &Device::Cpu).unwrap();
            assert!(matches!(e, Embedding::Quantized { .. }), "{dtype:?}");
            assert_eq!(e.vocab(), vocab);
            let ids = Tensor::new(&[3u32, 0, 36, 3], &Device::Cpu).unwrap();
            let got: Vec<Vec<f32>> = e.lookup(&ids).unwrap().to_vec2().unwrap();
            let want: Vec<Vec<f32>> = dense.index_select(&ids, 0).unwrap().to_vec2().unwrap();
            assert_eq!(got, want, "{dtype:?}");
            let err = e.lookup(&Tensor::new(&[37u32], &Device::Cpu).unwrap()).unwrap_err().to_string();
            assert!(err.contains("token id 37"), "{err}");
        }
    }
}
