//! A messaging provider on loopback for channel tests: records every request it gets and
//! answers from a script, the way the Telegram Bot API or the WhatsApp Cloud API would
//! (rate limits included).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;

/// One request the provider received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A scripted answer: status, extra headers, JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, body: serde_json::Value) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    requests: Vec<Recorded>,
    /// Answers by path prefix, consumed in order; the fallback when a queue is empty.
    script: Vec<(String, VecDeque<Answer>)>,
}

#[derive(Debug, Clone)]
pub struct Provider {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl Provider {
    /// Listens on 127.0.0.1:0 and answers `200 {"ok": true}` unless scripted.
    pub async fn start() -> Provider {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().fallback(record).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Provider { base, inner }
    }

    /// The next requests whose path starts with `prefix` get `answers`, in order.
    pub fn script(&self, prefix: &str, answers: Vec<Answer>) {
        self.inner
            .lock()
            .unwrap()
            .script
            .push((prefix.to_owned(), answers.into()));
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// Waits until `count` requests with a path starting with `prefix` arrived.
    pub async fn wait_for(&self, prefix: &str, count: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = Instant::now() + timeout;
        loop {
            let got: Vec<Recorded> = self
                .requests()
                .into_iter()
                .filter(|r| r.path.starts_with(prefix))
                .collect();
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{count} request(s) to {prefix} expected within {timeout:?}, got {got:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn record(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let path = uri.path().to_owned();
    let mut inner = inner.lock().unwrap();
    inner.requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        at: Instant::now(),
    });
    let answer = inner
        .script
        .iter_mut()
        .find(|(prefix, answers)| path.starts_with(prefix.as_str()) && !answers.is_empty())
        .and_then(|(_, answers)| answers.pop_front())
        .unwrap_or_else(|| Answer::json(200, serde_json::json!({"ok": true})));
    let mut response = (
        StatusCode::from_u16(answer.status).unwrap(),
        [("content-type", "application/json")],
        answer.body,
    )
        .into_response();
    for (name, value) in answer.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    response
}
