//! Model specs: a catalog name, a local GGUF file, a local safetensors folder, or
//! `hf:owner/repo[:file]`, or a model on an OpenAI-compatible server, `openai:BASE_URL#MODEL`.

use anyhow::{anyhow, bail, Result};
use std::path::PathBuf;

use super::hub::{self, PullProgress};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSpec {
    /// A GGUF file or a folder with config.json + *.safetensors + tokenizer.json.
    Local(PathBuf),
    /// A Hugging Face repo, with one GGUF file or (no file) a safetensors folder.
    Hf { repo: String, file: Option<String> },
    /// A built-in catalog entry.
    Catalog(String),
    /// A model on an OpenAI-compatible server: `openai:BASE_URL#MODEL`.
    Remote(RemoteSpec),
}

impl ModelSpec {
    pub fn parse(spec: &str) -> Result<Self> {
        let spec = spec.trim();
        if spec.is_empty() {
            bail!("empty model spec");
        }
        if let Some(r) = RemoteSpec::parse(spec) {
            return Ok(ModelSpec::Remote(r?));
        }
        if let Some(rest) = spec.strip_prefix("hf:") {
            let (repo, file) = match rest.split_once(':') {
                Some((r, f)) => (r.to_string(), Some(f.to_string())),
                None => (rest.to_string(), None),
            };
            if repo.split('/').count() != 2 || repo.starts_with('/') || repo.ends_with('/') {
                bail!("bad Hugging Face spec {spec:?}: expected hf:owner/repo[:file]");
            }
            return Ok(ModelSpec::Hf { repo, file });
        }
        if super::catalog::find(spec).is_some() {
            return Ok(ModelSpec::Catalog(spec.to_string()));
        }
        let p = PathBuf::from(spec);
        if p.exists() {
            return Ok(ModelSpec::Local(p));
        }
        if spec.ends_with(".gguf") || spec.contains('/') {
            bail!("model file {spec} does not exist");
        }
        let names: Vec<&str> = super::catalog::CATALOG.iter().map(|e| e.name).collect();
        bail!("unknown model {spec:?}: not a file, a folder, an hf: spec or a catalog name ({})", names.join(", "))
    }

    /// The GGUF file or model folder to load, pulling catalog and hub entries if needed.
    pub fn resolve(&self, progress: &mut dyn FnMut(PullProgress)) -> Result<PathBuf> {
        match self {
            ModelSpec::Local(p) => Ok(p.clone()),
            ModelSpec::Remote(r) => {
                bail!("{} is served remotely and has no local file (load it with runtime::load)", r.spec())
            }
            ModelSpec::Catalog(name) => {
                let p = hub::pull(name, hub::Source::Auto, progress)?;
                let e = super::catalog::find(name).unwrap();
                Ok(match e.format {
                    super::catalog::Format::Gguf => p,
                    super::catalog::Format::Safetensors => p.parent().unwrap().to_path_buf(),
                })
            }
            ModelSpec::Hf { repo, file: Some(f) } => hub::hf_get(repo, f),
            ModelSpec::Hf { repo, file: None } => {
                let cfg = hub::hf_get(repo, "config.json")?;
                hub::hf_get(repo, "tokenizer.json")?;
                match hub::hf_get(repo, "model.safetensors") {
                    Ok(_) => {}
                    Err(_) => {
                        let idx = hub::hf_get(repo, "model.safetensors.index.json")?;
                        for s in hub::safetensors_shards(&idx)? {
                            hub::hf_get(repo, &s)?;
                        }
                    }
                }
                Ok(cfg.parent().unwrap().to_path_buf())
            }
        }
    }
}

/// A parsed `openai:BASE_URL#MODEL` spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSpec {
    /// The API root, e.g. `http://127.0.0.1:8000/v1` (no trailing slash, no credentials).
    pub base_url: String,
    /// The served model id.
    pub model: String,
}

impl RemoteSpec {
    /// Parses `openai:BASE_URL#MODEL`; `None` when `s` is not a remote spec.
    pub fn parse(s: &str) -> Option<Result<RemoteSpec>> {
        let rest = s.strip_prefix("openai:")?;
        Some((|| {
            let (url, model) = rest
                .rsplit_once('#')
                .ok_or_else(|| anyhow!("remote model spec {s:?} needs a model id: openai:BASE_URL#MODEL"))?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("remote model spec {s:?}: the base URL must start with http:// or https://");
            }
            let authority = url.split("://").nth(1).unwrap_or("").split('/').next().unwrap_or("");
            if authority.contains('@') {
                // The spec is not echoed: it holds the credentials.
                bail!("a remote model URL carries credentials; put the key in W2SD_API_KEY instead (sessions record the URL)");
            }
            if model.trim().is_empty() {
                bail!("remote model spec {s:?} has an empty model id");
            }
            Ok(RemoteSpec { base_url: url.trim_end_matches('/').to_string(), model: model.to_string() })
        })())
    }

    pub fn spec(&self) -> String {
        format!("openai:{}#{}", self.base_url, self.model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        assert_eq!(ModelSpec::parse("gemma-3-270m").unwrap(), ModelSpec::Catalog("gemma-3-270m".into()));
        assert_eq!(
            ModelSpec::parse("hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:qwen2.5-0.5b-instruct-q4_k_m.gguf").unwrap(),
            ModelSpec::Hf {
                repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF".into(),
                file: Some("qwen2.5-0.5b-instruct-q4_k_m.gguf".into())
            }
        );
        assert_eq!(ModelSpec::parse("hf:a/b").unwrap(), ModelSpec::Hf { repo: "a/b".into(), file: None });
        assert!(ModelSpec::parse("hf:nope").is_err());
        assert!(ModelSpec::parse("/no/such/file.gguf").unwrap_err().to_string().contains("does not exist"));
        assert!(ModelSpec::parse("no-such-model").unwrap_err().to_string().contains("unknown model"));
    }
    #[test]
    fn specs_parse_and_refuse_credentials() {
        let s = RemoteSpec::parse("openai:http://127.0.0.1:8000/v1/#Qwen/Qwen2.5-7B-Instruct").unwrap().unwrap();
        assert_eq!(s.base_url, "http://127.0.0.1:8000/v1");
        assert_eq!(s.model, "Qwen/Qwen2.5-7B-Instruct");
        assert_eq!(s.spec(), "openai:http://127.0.0.1:8000/v1#Qwen/Qwen2.5-7B-Instruct");
        assert!(RemoteSpec::parse("gemma-3-270m").is_none());
        let e = RemoteSpec::parse("openai:http://u:secret@host/v1#m").unwrap().unwrap_err().to_string();
        assert!(e.contains("W2SD_API_KEY") && !e.contains("secret"), "{e}");
        assert!(RemoteSpec::parse("openai:http://host/v1").unwrap().is_err());
        assert!(RemoteSpec::parse("openai:ftp://host#m").unwrap().is_err());
    }
}
