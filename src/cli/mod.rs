//! Headless subcommands. Each area owns one file; `main.rs` only dispatches.

pub mod debate;
pub mod progress;
pub mod runtime;
pub mod train;

/// Prints a value as one line of JSON on stdout.
pub fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(v)?);
    Ok(())
}

/// `w2sd` with no arguments: a generation demo on the offline default model, pulling it
/// first if it is missing.
pub fn default_main() -> anyhow::Result<()> {
    runtime::generate(runtime::GenerateArgs {
        model: runtime::DEFAULT_MODEL.into(),
        prompt: "The three most important ideas in weak-to-strong generalization are".into(),
        chat: false,
        max_tokens: 48,
        temperature: 0.0,
        top_k: None,
        top_p: None,
        repeat_penalty: 1.1,
        seed: 42,
        stop: vec![],
        json: false,
    })
}
