//! The LLM answerer: retrieval first (the best passages of the knowledge base), then one
//! call to an OpenAI-compatible `POST {base_url}/chat/completions` (llama.cpp, vLLM,
//! Ollama or a hosted API) with the passages and the whole transcript. The model
//! answers, or calls the `handoff` tool with a reason.
//!
//! Invariant: never fails a turn. A timeout, a connection error, an HTTP error, malformed
//! output or a bad tool call each become `CannotAnswer` naming the model, the passages
//! and what went wrong, so the handoff settings decide what happens next.

mod prompt;
mod reply;
mod wire;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use baton_core::decision::AgentAnswer;
use baton_engine::model::Message;
use baton_engine::ports::Answerer;

use crate::KnowledgeBase;
use reply::Asked;
use wire::{ChatRequest, clip};

/// How many passages go into the prompt.
pub const DEFAULT_PASSAGES: usize = 4;

/// Where the model is and how long to wait for it.
#[derive(Clone)]
pub struct LlmConfig {
    /// Up to and including the version, e.g. `http://127.0.0.1:8081/v1`.
    pub base_url: String,
    pub model: String,
    /// Sent as `Authorization: Bearer`; never shown in `Debug` or logs.
    pub api_key: Option<String>,
    /// For the whole call, connecting included.
    pub timeout: Duration,
    /// How many passages go into the prompt ([`DEFAULT_PASSAGES`]).
    pub passages: usize,
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("passages", &self.passages)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("building the HTTP client for the model: {0}")]
    Client(#[from] reqwest::Error),
}

/// The customer agent backed by a language model. Cheap to share: hold it in an `Arc`.
#[derive(Debug)]
pub struct LlmAnswerer {
    config: LlmConfig,
    /// `{base_url}/chat/completions`.
    url: String,
    kb: Arc<KnowledgeBase>,
    client: reqwest::Client,
}

impl LlmAnswerer {
    pub fn new(config: LlmConfig, kb: Arc<KnowledgeBase>) -> Result<LlmAnswerer, LlmError> {
        let client = reqwest::Client::builder().timeout(config.timeout).build()?;
        let url = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        Ok(LlmAnswerer {
            config,
            url,
            kb,
            client,
        })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// Answers `question` given the transcript before it; see the module docs.
    pub async fn answer(&self, question: &str, transcript: &[Message]) -> AgentAnswer {
        let passages = self.kb.passages(question, self.config.passages);
        let asked = Asked {
            model: &self.config.model,
            passages: &passages,
        };
        let request = ChatRequest {
            model: &self.config.model,
            messages: prompt::messages(question, transcript, &passages),
            tools: wire::tools(),
            tool_choice: "auto",
            stream: false,
        };
        let answer = match self.call(&request).await {
            Ok(body) => reply::interpret(&asked, &body),
            Err(what) => asked.cannot(what),
        };
        match &answer {
            AgentAnswer::Answered { source, .. } => tracing::debug!(%source, "model answered"),
            AgentAnswer::CannotAnswer { reason } => {
                tracing::info!(%reason, "the model did not answer");
            }
        }
        answer
    }

    /// The body of a 2xx response, or what went wrong (completing "model m …").
    async fn call(&self, request: &ChatRequest<'_>) -> Result<Vec<u8>, String> {
        let mut builder = self.client.post(&self.url).json(request);
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key);
        }
        let seconds = self.config.timeout.as_secs_f64();
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                format!("did not answer within {seconds} s ({})", self.url)
            } else if e.is_connect() {
                format!("could not be reached at {} ({})", self.url, source_of(&e))
            } else {
                format!("request failed ({})", source_of(&e))
            }
        };
        let response = builder.send().await.map_err(failed)?;
        let status = response.status();
        let body = response.bytes().await.map_err(failed)?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            return Err(format!(
                "answered HTTP {status}: {}",
                clip(text.trim(), 200)
            ));
        }
        Ok(body.to_vec())
    }
}

/// The innermost cause: reqwest's own message is only "error sending request".
fn source_of(error: &reqwest::Error) -> String {
    let mut current: &dyn std::error::Error = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[async_trait]
impl Answerer for LlmAnswerer {
    async fn answer(&self, question: &str, transcript: &[Message]) -> AgentAnswer {
        LlmAnswerer::answer(self, question, transcript).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_key_is_redacted_in_debug() {
        let config = LlmConfig {
            base_url: "http://127.0.0.1:8081/v1".into(),
            model: "m".into(),
            api_key: Some("sk-very-secret".into()),
            timeout: Duration::from_secs(1),
            passages: DEFAULT_PASSAGES,
        };
        let kb = Arc::new(KnowledgeBase::from_articles(Vec::new()));
        let answerer = LlmAnswerer::new(config, kb).expect("client");
        let shown = format!("{answerer:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert_eq!(answerer.url, "http://127.0.0.1:8081/v1/chat/completions");
    }

    #[test]
    fn retrieval_gives_the_best_passages_with_sources_and_no_threshold() {
        let kb = KnowledgeBase::from_articles(vec![
            crate::Article::new(
                "shipping.md",
                "# Shipping\n\n## Delivery times\n\nOrders ship in 2 days.\n\n\
                 ## Costs\n\nShipping is free over 50 euros.\n",
            ),
            crate::Article::new("returns.md", "# Returns\n\nReturn within 30 days.\n"),
        ]);
        let found = kb.passages("how long does shipping take for orders?", 4);
        let sources: Vec<&str> = found.iter().map(|p| p.source.as_str()).collect();
        assert_eq!(sources, ["shipping.md#Delivery times", "shipping.md#Costs"]);
        assert!(found[0].score > found[1].score, "{found:?}");
        assert_eq!(kb.passages("how long does shipping take?", 1).len(), 1);
        assert!(kb.passages("swallows airspeed", 4).is_empty());
    }

    #[tokio::test]
    async fn an_unreachable_server_is_cannot_answer() {
        // A port nothing listens on: bind, read the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let config = LlmConfig {
            base_url: format!("http://127.0.0.1:{port}/v1"),
            model: "m".into(),
            api_key: None,
            timeout: Duration::from_secs(5),
            passages: DEFAULT_PASSAGES,
        };
        let kb = Arc::new(KnowledgeBase::from_articles(Vec::new()));
        let answerer = LlmAnswerer::new(config, kb).expect("client");
        match answerer.answer("when does it ship?", &[]).await {
            AgentAnswer::CannotAnswer { reason } => {
                assert!(
                    reason.starts_with("model m could not be reached at http://127.0.0.1:"),
                    "{reason}"
                );
                assert!(reason.ends_with("; passages: none"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
