//! A loopback OpenAI-compatible model server for the LLM answerer's tests: it records
//! every `POST /v1/chat/completions` body and answers each from a script, in order.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// What the stub answers to one request.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// A plain answer with this text.
    Answer(String),
    /// A `handoff` tool call with this reason (`content` null, `arguments` a JSON string).
    Handoff(String),
    /// Answers after this long: past the answerer's timeout.
    Hang(Duration),
    /// This status with a short error body.
    Status(u16),
    /// A 200 whose body is not JSON.
    Malformed,
    /// A `handoff` tool call whose arguments are not JSON.
    BadArguments,
}

/// One request as the stub received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub body: Value,
    /// The `Authorization` header, when sent.
    pub authorization: Option<String>,
}

#[derive(Debug, Default)]
struct Shared {
    script: VecDeque<Scripted>,
    requests: Vec<Recorded>,
}

/// The running stub; stops when dropped.
#[derive(Debug)]
pub struct ModelStub {
    /// `http://127.0.0.1:<port>/v1`: what `agent.llm.base_url` is set to.
    pub base_url: String,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl ModelStub {
    pub async fn start() -> ModelStub {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        ModelStub {
            base_url: format!("http://{addr}/v1"),
            shared,
            task,
        }
    }

    /// Queues the answer to the next unanswered request.
    pub fn then(&self, step: Scripted) -> &ModelStub {
        self.shared.lock().unwrap().script.push_back(step);
        self
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().unwrap().requests.clone()
    }

    /// The newest request's body; panics when there is none.
    pub fn last(&self) -> Value {
        self.requests()
            .last()
            .map(|r| r.body.clone())
            .expect("the model was called")
    }

    /// The TOML that makes a server use this stub with `model` and a 1 s timeout.
    pub fn config(&self, model: &str) -> String {
        format!(
            "[agent]\nkind = \"llm\"\n[agent.llm]\nbase_url = \"{}\"\nmodel = \"{model}\"\n\
             api_key = \"sk-e2e-secret\"\ntimeout_seconds = 1\n",
            self.base_url
        )
    }
}

impl Drop for ModelStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `{"choices": [{"message": ...}]}` with the fields real servers add.
pub fn completion(message: Value) -> Value {
    json!({
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": "stub",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": null}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    })
}

fn handoff_call(arguments: &str) -> Value {
    completion(json!({
        "role": "assistant",
        "content": null,
        "tool_calls": [{
            "id": "call_1",
            "type": "function",
            "function": {"name": "handoff", "arguments": arguments}
        }]
    }))
}

async fn complete(
    State(shared): State<Arc<Mutex<Shared>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let step = {
        let mut shared = shared.lock().unwrap();
        shared.requests.push(Recorded {
            body: serde_json::from_str(&body).unwrap_or(Value::String(body)),
            authorization: headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        });
        shared.script.pop_front()
    };
    let json = |value: Value| {
        (
            [(header::CONTENT_TYPE, "application/json")],
            value.to_string(),
        )
            .into_response()
    };
    match step {
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the stub's script is empty",
        )
            .into_response(),
        Some(Scripted::Answer(text)) => json(completion(
            json!({"role": "assistant", "content": text, "tool_calls": null}),
        )),
        Some(Scripted::Handoff(reason)) => {
            json(handoff_call(&json!({"reason": reason}).to_string()))
        }
        Some(Scripted::BadArguments) => json(handoff_call("{\"reason\": ")),
        Some(Scripted::Hang(wait)) => {
            tokio::time::sleep(wait).await;
            json(completion(
                json!({"role": "assistant", "content": "too late"}),
            ))
        }
        Some(Scripted::Status(code)) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            json!({"error": {"message": "the stub failed on purpose"}}).to_string(),
        )
            .into_response(),
        Some(Scripted::Malformed) => (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"choices\": [{\"message\": ",
        )
            .into_response(),
    }
}
