//! BERT-family sentence encoders (MiniLM) on candle-transformers' `bert`.

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_transformers::models::bert::{BertModel, Config};

pub struct Encoder {
    model: BertModel,
    hidden: usize,
    device: Device,
}

impl Encoder {
    pub fn load(config: &serde_json::Value, files: &[std::path::PathBuf], device: &Device) -> Result<Self> {
        let cfg: Config = serde_json::from_value(config.clone()).context("config.json is not a BERT config")?;
        let hidden = config["hidden_size"].as_u64().unwrap_or(384) as usize;
        let vb = unsafe { candle_nn::VarBuilder::from_mmaped_safetensors(files, DType::F32, device)? };
        let model = BertModel::load(vb.clone(), &cfg).or_else(|_| BertModel::load(vb.pp("bert"), &cfg))?;
        Ok(Self { model, hidden, device: device.clone() })
    }

    pub fn hidden_size(&self) -> usize {
        self.hidden
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Token hidden states `[b, s, hidden]` with the padding mask `[b, s]` (1 = real).
    pub fn hidden(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let types = ids.zeros_like()?;
        Ok(self.model.forward(ids, &types, Some(mask))?)
    }
}
