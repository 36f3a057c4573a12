//! [`RemoteModel`]: a [`LanguageModel`] served by any OpenAI-compatible inference server (vLLM,
//! SGLang, TGI, llama.cpp's server), named by the spec `openai:BASE_URL#MODEL`, e.g.
//! `openai:http://127.0.0.1:8000/v1#Qwen/Qwen2.5-7B-Instruct`.
//!
//! What each capability needs from the server (docs/remote.md has the table per server):
//! - generation: `POST /chat/completions` (chat prompts) or `POST /completions` (raw prompts),
//!   streamed as server-sent events, with `stop`, `max_tokens`, `temperature`, `top_p`, `seed`;
//!   cancelling closes the stream;
//! - scoring: the next token's `top_logprobs` (`logprobs` + `top_logprobs` on a one-token
//!   request). Every continuation must be a single token of the served model; echoed prompt
//!   log-probabilities are not used, because llama.cpp's server returns them shifted by one
//!   position. A continuation that is not among the top 20 next tokens is an error naming it;
//! - features: `POST /embeddings`;
//! - at load: `GET /models` (the model must be listed) and a one-token probe.
//!
//! The key comes from `W2SD_API_KEY` or `OPENAI_API_KEY`; it is sent as a bearer token and never
//! logged or written anywhere. Sessions record the spec, whose URL may not carry credentials.
//! Requests time out, and 429 and 5xx answers are retried a bounded number of times with
//! exponential backoff; the last error names the server and what failed.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use super::generate::{CancelToken, GenerateRequest, Generation, Prompt, Role, StopReason};
use super::language_model::{FeatureBatch, FeatureRequest, LanguageModel};
use super::model::ModelInfo;
pub use super::spec::RemoteSpec;

/// How many next-token alternatives a scoring request asks for (the OpenAI API's maximum).
pub const TOP_LOGPROBS: usize = 20;
/// Tries of one request before its error is final.
pub const MAX_TRIES: u32 = 4;

/// What a server offers, as probed by [`probe`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Capabilities {
    pub base_url: String,
    /// The served model ids (`GET /models`).
    pub models: Vec<String>,
    pub chat: bool,
    pub completions: bool,
    /// Next-token `top_logprobs` on chat completions (judges and answer scoring need them).
    pub logprobs: bool,
    pub embeddings: bool,
}

fn api_key() -> Option<String> {
    ["W2SD_API_KEY", "OPENAI_API_KEY"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

/// A blocking HTTP client with timeouts and bounded retries.
#[derive(Clone)]
struct Client {
    base: String,
    agent: ureq::Agent,
    key: Option<String>,
}

impl Client {
    fn new(base: &str, timeout: Duration) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .timeout_connect(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        Client { base: base.to_string(), agent, key: api_key() }
    }

    /// Sends a request (`body` = `None` for GET) and returns the response once its status is 2xx,
    /// retrying 429, 5xx and connection failures with backoff.
    fn send(&self, path: &str, body: Option<&Value>) -> Result<ureq::http::Response<ureq::Body>> {
        let url = format!("{}{path}", self.base);
        let mut last = String::new();
        for attempt in 0..MAX_TRIES {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(250 * (1 << attempt)));
            }
            let result = match body {
                None => {
                    let mut r = self.agent.get(&url);
                    if let Some(k) = &self.key {
                        r = r.header("Authorization", &format!("Bearer {k}"));
                    }
                    r.call()
                }
                Some(b) => {
                    let mut r = self.agent.post(&url).header("Content-Type", "application/json");
                    if let Some(k) = &self.key {
                        r = r.header("Authorization", &format!("Bearer {k}"));
                    }
                    r.send(b.to_string())
                }
            };
            match result {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    if (200..300).contains(&status) {
                        return Ok(resp);
                    }
                    let text = resp.into_body().read_to_string().unwrap_or_default();
                    let msg: String = text.chars().take(300).collect();
                    last = format!("HTTP {status}: {msg}");
                    if !(status == 429 || status >= 500) {
                        break;
                    }
                }
                Err(e) => last = e.to_string(),
            }
        }
        bail!("the server at {} failed {path}: {last}", self.base)
    }

    fn json(&self, path: &str, body: Option<&Value>) -> Result<Value> {
        let resp = self.send(path, body)?;
        let text = resp.into_body().read_to_string().with_context(|| format!("reading {path} from {}", self.base))?;
        serde_json::from_str(&text).with_context(|| format!("{}{path} did not answer JSON", self.base))
    }
}

/// The model ids a server lists (`GET /models`).
fn list_models(c: &Client) -> Result<Vec<String>> {
    let v = c.json("/models", None)?;
    Ok(v["data"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["id"].as_str().map(String::from)).collect())
        .unwrap_or_default())
}

/// What the server at `base_url` can do, for `w2sd models list --remote URL`.
pub fn probe(base_url: &str) -> Result<Capabilities> {
    let c = Client::new(base_url.trim_end_matches('/'), Duration::from_secs(60));
    let models = list_models(&c)?;
    let model = models.first().cloned().ok_or_else(|| anyhow!("the server at {base_url} lists no model"))?;
    let chat_body = json!({"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1,
        "logprobs": true, "top_logprobs": 5, "temperature": 0});
    let chat = c.json("/chat/completions", Some(&chat_body));
    let logprobs =
        chat.as_ref().map(|v| !v["choices"][0]["logprobs"]["content"][0]["top_logprobs"].is_null()).unwrap_or(false);
    let completions = c
        .json("/completions", Some(&json!({"model": model, "prompt": "Hi", "max_tokens": 1, "temperature": 0})))
        .is_ok();
    let embeddings = c.json("/embeddings", Some(&json!({"model": model, "input": ["Hi"]}))).is_ok();
    Ok(Capabilities { base_url: base_url.to_string(), models, chat: chat.is_ok(), completions, logprobs, embeddings })
}

/// A model on an OpenAI-compatible server.
pub struct RemoteModel {
    spec: RemoteSpec,
    client: Client,
    info: ModelInfo,
}

impl RemoteModel {
    /// Connects to the server: the model must be listed, and a one-token completion must work.
    pub fn connect(spec: &RemoteSpec) -> Result<RemoteModel> {
        let client = Client::new(&spec.base_url, Duration::from_secs(600));
        let models =
            list_models(&client).with_context(|| format!("cannot reach the model server {}", spec.base_url))?;
        if !models.iter().any(|m| m == &spec.model) {
            bail!("the server at {} does not serve {:?} (it serves: {})", spec.base_url, spec.model, models.join(", "));
        }
        let probe = json!({"model": spec.model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1, "temperature": 0});
        client
            .json("/chat/completions", Some(&probe))
            .with_context(|| format!("{} failed a one-token probe", spec.spec()))?;
        let info = ModelInfo {
            spec: spec.spec(),
            arch: "openai".into(),
            path: PathBuf::from(&spec.base_url),
            sha256: None,
            hidden_size: 0,
            context_length: 0,
            chat: true,
            decoder: true,
        };
        Ok(RemoteModel { spec: spec.clone(), client, info })
    }

    /// The request for a prompt: chat messages, or a raw completion prompt; and, when the chat
    /// prompt ends with a started assistant reply, that start.
    ///
    /// Continuing a started assistant turn is not part of the OpenAI API (vLLM has
    /// `continue_final_message`; llama.cpp's server closes the turn and opens a new one), so the
    /// start is asked for portably instead: the last user message ends with an instruction to
    /// begin the reply with those words, and [`strip_start`] takes them off the reply.
    fn body(&self, prompt: &Prompt) -> (&'static str, Value, Option<String>) {
        let role = |r: Role| match r {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        match prompt {
            Prompt::Chat(msgs) => {
                let (msgs, start) = match msgs.split_last() {
                    Some((last, rest)) if last.role == Role::Assistant => (rest, Some(last.content.clone())),
                    _ => (&msgs[..], None),
                };
                let mut messages: Vec<Value> =
                    msgs.iter().map(|m| json!({"role": role(m.role), "content": m.content})).collect();
                if let Some(st) = start.as_deref().filter(|s| !s.trim().is_empty()) {
                    let ask = format!("\n\nBegin your reply with exactly these words: {}", st.trim());
                    match messages.iter_mut().rev().find(|m| m["role"] == "user") {
                        Some(u) => u["content"] = json!(format!("{}{ask}", u["content"].as_str().unwrap_or(""))),
                        None => messages.push(json!({"role": "user", "content": ask.trim_start()})),
                    }
                }
                ("/chat/completions", json!({"model": self.spec.model, "messages": messages}), start)
            }
            Prompt::Raw(text) => ("/completions", json!({"model": self.spec.model, "prompt": text}), None),
        }
    }
}

/// The reply without the `start` the prompt asked it to begin with (see [`RemoteModel`]'s
/// `body`): leading spaces and the start's words are taken off when the reply begins with them;
/// otherwise the reply is kept whole. `None` while `reply` could still grow into the start.
pub fn strip_start<'a>(reply: &'a str, start: &str) -> Option<&'a str> {
    let st = start.trim();
    let r = reply.trim_start();
    if r.len() >= st.len() {
        Some(r.strip_prefix(st).unwrap_or(reply))
    } else if st.starts_with(r) {
        None
    } else {
        Some(reply)
    }
}

/// Finds `continuation`'s log-probability among one position's `top_logprobs` entries: the exact
/// token text first, then the same text without leading spaces (chat servers write the first
/// token of a reply without one).
pub fn find_logprob(entries: &[(String, f64)], continuation: &str) -> Option<f64> {
    entries
        .iter()
        .find(|(t, _)| t == continuation)
        .or_else(|| {
            let want = continuation.trim_start();
            entries.iter().find(|(t, _)| t.trim_start() == want && !want.is_empty())
        })
        .map(|(_, lp)| *lp)
}

impl LanguageModel for RemoteModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The server applies the chat template; this is a plain rendering for display and hashing.
    fn prompt_text(&self, prompt: &Prompt) -> String {
        match prompt {
            Prompt::Raw(s) => s.clone(),
            Prompt::Chat(m) => m.iter().map(|x| format!("{:?}: {}", x.role, x.content)).collect::<Vec<_>>().join("\n"),
        }
    }

    fn generate(
        &mut self,
        req: &GenerateRequest,
        cancel: &CancelToken,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generation> {
        let (path, mut body, start) = self.body(&req.prompt);
        body["stream"] = json!(true);
        body["max_tokens"] = json!(req.max_tokens);
        body["temperature"] = json!(req.sampling.temperature.max(0.0));
        body["seed"] = json!(req.sampling.seed);
        if let Some(p) = req.sampling.top_p {
            body["top_p"] = json!(p);
        }
        if !req.stop.is_empty() {
            // The OpenAI API takes at most four stop strings.
            body["stop"] = json!(req.stop.iter().take(4).collect::<Vec<_>>());
        }
        let t0 = Instant::now();
        let resp = self.client.send(path, Some(&body))?;
        let reader = BufReader::new(resp.into_body().into_reader());
        let mut text = String::new();
        let mut tokens = 0;
        let mut stop_reason = StopReason::Eos;
        let mut first_token: Option<f64> = None;
        let mut finished = false;
        // Where the reply shown to the caller begins in `text` (after an asked-for start).
        let mut shown: Option<usize> = if start.is_some() { None } else { Some(0) };
        for line in reader.lines() {
            if cancel.is_cancelled() {
                stop_reason = StopReason::Cancelled;
                break; // dropping the reader closes the stream
            }
            let line = line.with_context(|| format!("the stream from {} broke off", self.spec.base_url))?;
            let Some(data) = line.strip_prefix("data:").map(str::trim) else { continue };
            if data == "[DONE]" {
                break;
            }
            let v: Value =
                serde_json::from_str(data).with_context(|| format!("bad event from {}", self.spec.base_url))?;
            let choice = &v["choices"][0];
            let piece = choice["delta"]["content"].as_str().or_else(|| choice["text"].as_str()).unwrap_or("");
            if !piece.is_empty() {
                first_token.get_or_insert(t0.elapsed().as_secs_f64());
                tokens += 1;
                text.push_str(piece);
                // The reply's first words are held back until it is clear whether they are the
                // asked-for start (taken off) or not.
                match (&start, shown) {
                    (Some(st), None) => {
                        if let Some(rest) = strip_start(&text, st) {
                            shown = Some(text.len() - rest.len());
                            on_text(rest);
                        }
                    }
                    _ => on_text(piece),
                }
            }
            if choice["finish_reason"].is_string() {
                finished = true;
            }
            match choice["finish_reason"].as_str() {
                Some("length") => stop_reason = StopReason::MaxTokens,
                Some("stop") => {
                    stop_reason = if req.stop.iter().any(|s| !s.is_empty()) && !text.is_empty() {
                        StopReason::StopString
                    } else {
                        StopReason::Eos
                    }
                }
                _ => {}
            }
        }
        if !finished && stop_reason != StopReason::Cancelled {
            bail!(
                "the stream from {} ended without a finish reason (was it interrupted by another request? \
                 llama-cpp-python's server needs --interrupt_requests False to serve requests at once)",
                self.spec.base_url
            );
        }
        let total = t0.elapsed().as_secs_f64();
        let first = first_token.unwrap_or(total);
        // A reply that is all (or part) of the asked-for start leaves nothing new.
        let text = text[shown.unwrap_or(text.len())..].to_string();
        Ok(Generation {
            text,
            ids: Vec::new(),
            prompt_tokens: 0,
            generated_tokens: tokens,
            stop_reason,
            prefill_tok_s: 0.0,
            decode_tok_s: if tokens > 1 { (tokens - 1) as f64 / (total - first).max(1e-9) } else { 0.0 },
        })
    }

    /// Next-token log-probabilities of single-token continuations (see the module docs).
    fn score(&mut self, prompt: &Prompt, continuations: &[String]) -> Result<Vec<f64>> {
        let (path, mut body, start) = self.body(prompt);
        if start.is_some() {
            bail!(
                "{}: scoring after a started assistant reply is not possible through the OpenAI API",
                self.spec.spec()
            );
        }
        body["max_tokens"] = json!(1);
        body["temperature"] = json!(0);
        let chat = path == "/chat/completions";
        if chat {
            body["logprobs"] = json!(true);
            body["top_logprobs"] = json!(TOP_LOGPROBS);
        } else {
            body["logprobs"] = json!(TOP_LOGPROBS);
        }
        let v = self.client.json(path, Some(&body))?;
        let entries: Vec<(String, f64)> = if chat {
            v["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
                .as_array()
                .map(|a| {
                    a.iter().filter_map(|e| Some((e["token"].as_str()?.to_string(), e["logprob"].as_f64()?))).collect()
                })
                .unwrap_or_default()
        } else {
            v["choices"][0]["logprobs"]["top_logprobs"][0]
                .as_object()
                .map(|o| o.iter().filter_map(|(k, lp)| Some((k.clone(), lp.as_f64()?))).collect())
                .unwrap_or_default()
        };
        if entries.is_empty() {
            bail!(
                "the server at {} returned no next-token log-probabilities ({} with logprobs); judges and answer scoring need them",
                self.spec.base_url,
                path
            );
        }
        continuations
            .iter()
            .map(|c| {
                find_logprob(&entries, c).ok_or_else(|| {
                    anyhow!(
                        "{}: the continuation {c:?} is not among the top {TOP_LOGPROBS} next tokens; remote scoring supports single-token continuations only",
                        self.spec.spec()
                    )
                })
            })
            .collect()
    }

    /// `POST /embeddings`. A server that pools returns one vector per text (its own pooling; the
    /// request's is not used). A server that returns one vector per token (llama.cpp's server for
    /// a decoder without a pooling head) is pooled here as the request asks: mean, last, or both.
    /// The server decides the length, so `max_tokens`, `keep_end` and `layer` are not used.
    fn features(
        &mut self,
        texts: &[String],
        req: &FeatureRequest,
        on_batch: &mut dyn FnMut(usize),
    ) -> Result<FeatureBatch> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(32) {
            let v = self
                .client
                .json("/embeddings", Some(&json!({"model": self.spec.model, "input": chunk})))
                .with_context(|| format!("{} gives no features (it needs /embeddings)", self.spec.spec()))?;
            let data =
                v["data"].as_array().ok_or_else(|| anyhow!("{}: /embeddings answered no data", self.spec.base_url))?;
            for d in data {
                let e = embedding_vector(&d["embedding"], req.pool).ok_or_else(|| {
                    anyhow!("{}: /embeddings answered an embedding that is not numbers", self.spec.base_url)
                })?;
                out.push(e);
            }
            on_batch(out.len());
        }
        if out.len() != texts.len() {
            bail!("{}: /embeddings gave {} vectors for {} texts", self.spec.base_url, out.len(), texts.len());
        }
        if let Some(d) = out.first() {
            self.info.hidden_size = d.len();
        }
        Ok(FeatureBatch { vectors: out, truncated: 0 })
    }
}

/// One text's vector from an `/embeddings` entry: a vector of numbers as it is, or a matrix (one
/// row per token) pooled by `pool`. `None` when it is neither, or is empty.
pub fn embedding_vector(v: &Value, pool: super::generate::Pool) -> Option<Vec<f32>> {
    use super::generate::Pool;
    let row = |r: &Value| -> Option<Vec<f32>> { r.as_array()?.iter().map(|x| x.as_f64().map(|f| f as f32)).collect() };
    let a = v.as_array()?;
    if a.first().is_some_and(|x| x.is_array()) {
        let rows: Vec<Vec<f32>> = a.iter().map(row).collect::<Option<_>>()?;
        let dim = rows.first()?.len();
        if dim == 0 || rows.iter().any(|r| r.len() != dim) {
            return None;
        }
        let mean: Vec<f32> =
            (0..dim).map(|k| rows.iter().map(|r| r[k] as f64).sum::<f64>() as f32 / rows.len() as f32).collect();
        let last = rows.last()?.clone();
        return Some(match pool {
            Pool::Mean => mean,
            Pool::Last => last,
            Pool::MeanLast => mean.into_iter().chain(last).collect(),
        });
    }
    row(v).filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_are_found_with_or_without_a_leading_space() {
        let e = vec![("A".to_string(), -0.1), (" B".to_string(), -2.5)];
        assert_eq!(find_logprob(&e, " A"), Some(-0.1));
        assert_eq!(find_logprob(&e, " B"), Some(-2.5));
        assert_eq!(find_logprob(&e, "B"), Some(-2.5));
        assert_eq!(find_logprob(&e, "C"), None);
    }

    #[test]
    fn an_asked_for_start_is_taken_off_the_reply() {
        let st = "I argue that \"Abuja\" is correct because";
        assert_eq!(strip_start("I argue", st), None);
        assert_eq!(strip_start(" I argue that \"Abuja\" is correct because it is", st), Some(" it is"));
        assert_eq!(strip_start("Abuja is the capital", st), Some("Abuja is the capital"));
        assert_eq!(strip_start("I think", st), Some("I think"));
    }

    #[test]
    fn per_token_embeddings_are_pooled_as_asked() {
        use crate::runtime::Pool;
        let m = json!([[1.0, 2.0], [3.0, 6.0]]);
        assert_eq!(embedding_vector(&m, Pool::Mean), Some(vec![2.0, 4.0]));
        assert_eq!(embedding_vector(&m, Pool::Last), Some(vec![3.0, 6.0]));
        assert_eq!(embedding_vector(&m, Pool::MeanLast), Some(vec![2.0, 4.0, 3.0, 6.0]));
        assert_eq!(embedding_vector(&json!([0.5, -1.0]), Pool::Last), Some(vec![0.5, -1.0]));
        assert_eq!(embedding_vector(&json!([[1.0], [1.0, 2.0]]), Pool::Mean), None);
        assert_eq!(embedding_vector(&json!(["x"]), Pool::Mean), None);
        assert_eq!(embedding_vector(&json!([]), Pool::Mean), None);
    }
}
