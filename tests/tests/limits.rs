//! Abuse limits at the HTTP edge (issue 12, item 4), on the real binary over loopback with
//! small limits from `[limits]`: per-address rate limits answer 429 with `Retry-After` and
//! recover after the window; routes refuse bodies over their limit; event streams are
//! capped per address and in total and freed when they end; a client that trickles its
//! headers is cut off while others are served; at the connection cap clients wait; behind
//! a trusted proxy the forwarded client is what counts.
//!
//! Other loopback addresses (127.0.0.2, ...) stand in for other clients.

#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use baton_e2e::{Backend, Process, Server, StatusCode, baton_command, random_hex};
use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CREATE: &str = "/api/v1/chat/conversations";

async fn start(limits: &str) -> Server {
    Server::start_with_config(Backend::Sqlite, format!("[limits]\n{limits}\n")).await
}

fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Status, `Retry-After` in seconds, and the JSON body.
async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Option<u64>, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    let text = response.text().await.unwrap();
    (
        status,
        retry,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn assert_limited((status, retry, body): &(StatusCode, Option<u64>, Value), what: &str) {
    assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{what}: {body}");
    assert_eq!(body["error"]["code"], "rate_limited", "{what}: {body}");
    let retry = retry.unwrap_or_else(|| panic!("{what}: no Retry-After"));
    assert!((1..=3).contains(&retry), "{what}: Retry-After {retry}");
}

/// Conversations, visitor messages and webhooks: three per two-second window per address.
#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_recover_after_the_window() {
    let server = start(
        "window_seconds = 2\nconversations_per_minute_per_address = 3\n\
         messages_per_minute_per_address = 3\nwebhooks_per_minute_per_address = 3",
    )
    .await;
    let visitor = json!({"visitor": {"name": "Ada"}});
    let create = |client: &reqwest::Client| client.post(server.url(CREATE)).json(&visitor);
    let local = client_from(1);

    let mut tokens = Vec::new();
    for _ in 0..3 {
        let (status, _, body) = send(create(&local)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        tokens.push((
            body["conversation_id"].as_i64().unwrap(),
            body["visitor_token"].as_str().unwrap().to_owned(),
        ));
    }
    let refused = send(create(&local)).await;
    assert_limited(&refused, "a fourth conversation");
    // Another address is not affected.
    assert_eq!(send(create(&client_from(2))).await.0, StatusCode::CREATED);

    let (id, token) = &tokens[0];
    let message = |text: &str| {
        local
            .post(server.url(&format!("{CREATE}/{id}/messages")))
            .bearer_auth(token)
            .json(&json!({"text": text}))
    };
    for i in 0..3 {
        let (status, _, body) = send(message(&format!("hello {i}"))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_limited(&send(message("one too many")).await, "a fourth message");

    let webhook = || local.post(server.url("/webhooks/nobody")).body("{}");
    for _ in 0..3 {
        assert_eq!(send(webhook()).await.0, StatusCode::NOT_FOUND);
    }
    let refused_webhook = send(webhook()).await;
    assert_limited(&refused_webhook, "a fourth webhook");

    // After the window each is served again.
    tokio::time::sleep(Duration::from_secs(
        refused_webhook.1.unwrap().max(refused.1.unwrap()),
    ))
    .await;
    assert_eq!(send(create(&local)).await.0, StatusCode::CREATED);
    assert_eq!(send(message("back again")).await.0, StatusCode::OK);
    assert_eq!(send(webhook()).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bodies_over_a_routes_limit_are_refused() {
    let server = start("max_body_bytes = 65536").await;
    let visitor = server.visitor().await;
    let messages = format!("{CREATE}/{}/messages", visitor.id);
    let post = |path: &str, size: usize| {
        server
            .client
            .post(server.url(path))
            .bearer_auth(&visitor.token)
            .header("content-type", "application/json")
            .body(format!("{{\"text\": \"{}\"}}", "a".repeat(size)))
    };
    // A visitor message may be as long as the longest text...
    let (status, _, body) = send(post(&messages, 60 * 1024)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // ...but not much more (here the global 64 KiB, below the message route's own limit).
    let (status, _, body) = send(post(&messages, 70 * 1024)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // Creating a conversation takes 16 KiB at most.
    let (status, _, body) = send(post(CREATE, 20 * 1024)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // Staff routes have the global limit.
    let big = json!({"name": "x".repeat(70 * 1024)});
    let (status, body) = server
        .request(
            reqwest::Method::PUT,
            "/api/v1/handoff/settings",
            Some(&server.token),
            Some(&big),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // The sign-in form takes 16 KiB at most.
    let form = format!("email=a%40b.example&password={}", "p".repeat(20 * 1024));
    let response = server
        .client
        .post(server.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// Opens an event stream and returns its response once the headers arrived.
async fn open_stream(
    client: &reqwest::Client,
    server: &Server,
    path: &str,
    token: &str,
) -> reqwest::Response {
    client
        .get(server.url(path))
        .bearer_auth(token)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap()
}

async fn retry_after(response: reqwest::Response) -> (StatusCode, Option<u64>, Value) {
    let status = response.status();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    let body = response.json::<Value>().await.unwrap();
    (status, retry, body)
}

#[tokio::test]
async fn event_streams_are_capped_per_address_and_in_total_and_freed_when_they_end() {
    let server = start("streams_per_address = 2\nmax_streams = 3").await;
    let visitor = server.visitor().await;
    let events = format!("{CREATE}/{}/events", visitor.id);
    let (one, two, three) = (client_from(1), client_from(2), client_from(3));

    let a = open_stream(&one, &server, &events, &visitor.token).await;
    assert_eq!(a.status(), StatusCode::OK);
    // The staff stream counts too.
    let b = open_stream(&one, &server, "/api/v1/events", &server.token).await;
    assert_eq!(b.status(), StatusCode::OK);
    let refused = retry_after(open_stream(&one, &server, &events, &visitor.token).await).await;
    assert_eq!(refused.0, StatusCode::TOO_MANY_REQUESTS, "{}", refused.2);
    assert_eq!(refused.2["error"]["code"], "rate_limited");
    assert!(refused.1.is_some(), "Retry-After");

    let c = open_stream(&two, &server, &events, &visitor.token).await;
    assert_eq!(c.status(), StatusCode::OK);
    let full = retry_after(open_stream(&three, &server, &events, &visitor.token).await).await;
    assert_eq!(full.0, StatusCode::SERVICE_UNAVAILABLE, "{}", full.2);
    assert!(full.1.is_some(), "Retry-After");

    // A stream that ends gives its place back (once the server sees the client gone).
    drop(a);
    let mut freed = false;
    for _ in 0..100 {
        let again = open_stream(&three, &server, &events, &visitor.token).await;
        if again.status() == StatusCode::OK {
            freed = true;
            break;
        }
        drop(again);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "the closed stream's place was never freed");
    drop((b, c));
}

/// The slow-loris test: 200 connections send their headers a byte a second. With
/// a 2 s header-read timeout they are closed once it passes (5 s allowed, for a slow
/// machine), and ordinary requests meanwhile are served within 1 s (the acceptance the
/// issue states; they take milliseconds, so the margin is wide).
#[tokio::test]
async fn slow_clients_are_cut_off_while_others_are_served() {
    let server = start("header_read_timeout_seconds = 2").await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    let slow = (0..200).map(|_| {
        let addr = addr.clone();
        tokio::spawn(async move {
            let mut socket = TcpStream::connect(&addr).await.unwrap();
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" {
                if socket.write_all(&[*byte]).await.is_err() {
                    return Instant::now();
                }
                let mut buf = [0u8; 256];
                // A read that ends (0 bytes or an error) within the second is the close.
                if let Ok(read) =
                    tokio::time::timeout(Duration::from_secs(1), socket.read(&mut buf)).await
                {
                    match read {
                        Ok(0) | Err(_) => return Instant::now(),
                        Ok(_) => {}
                    }
                }
            }
            panic!("a slow client sent its whole request without being cut off");
        })
    });
    let slow: Vec<_> = slow.collect();

    // Meanwhile, ordinary requests from another client.
    let mut served = 0;
    while started.elapsed() < Duration::from_secs(3) {
        let t = Instant::now();
        let (status, _) = server.get("/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "took {:?}",
            t.elapsed()
        );
        served += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served > 10, "only {served} requests served");

    for closed_at in join_all(slow).await {
        let after = closed_at.unwrap() - started;
        assert!(
            after >= Duration::from_millis(1500) && after < Duration::from_secs(5),
            "a slow connection closed after {after:?}"
        );
    }
}

#[tokio::test]
async fn at_the_connection_cap_new_clients_wait_for_a_free_connection() {
    let server = start("max_connections = 4").await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    // Let the server accept them all before the next client comes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = tokio::spawn({
        let client = server.client.clone();
        let url = server.url("/healthz");
        async move { client.get(url).send().await.map(|r| r.status()) }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "served over the connection cap");
    drop(idle);
    let status = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("still waiting after the idle connections closed")
        .unwrap()
        .unwrap();
    assert_eq!(status, StatusCode::OK);
}

/// Behind a reverse proxy listed in `trusted_proxies` the limits count the client its
/// `X-Forwarded-For` names; from any other peer the header is ignored, so a client cannot
/// escape its limit by writing one.
#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_limited_and_a_forged_header_is_not_believed()
 {
    let server = start(
        "window_seconds = 3\nconversations_per_minute_per_address = 2\n\
         trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]",
    )
    .await;
    let visitor = json!({"visitor": {"name": "Ada"}});
    let create = |client: &reqwest::Client, forwarded: &str| {
        client
            .post(server.url(CREATE))
            .header("x-forwarded-for", forwarded)
            .json(&visitor)
    };
    let proxy = client_from(1);
    for _ in 0..2 {
        let (status, _, body) = send(create(&proxy, "203.0.113.1")).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    assert_limited(
        &send(create(&proxy, "203.0.113.1")).await,
        "a third conversation from one client behind the proxy",
    );
    // Another client behind the same proxy has its own count; a forged left part and a
    // second proxy of ours do not change who the client is.
    let (status, _, body) = send(create(&proxy, "203.0.113.2")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_limited(
        &send(create(&proxy, "198.51.100.7, 203.0.113.1, 10.1.2.3")).await,
        "the first client again, through two proxies, with a forged address before it",
    );

    // A peer that is not a trusted proxy: its header is ignored.
    let direct = client_from(3);
    for forged in ["192.0.2.1", "192.0.2.2"] {
        let (status, _, body) = send(create(&direct, forged)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    assert_limited(
        &send(create(&direct, "192.0.2.3")).await,
        "a client writing a new X-Forwarded-For each time",
    );
}

/// Starts `baton serve` with `env` on an empty folder and expects it to refuse, naming `key`.
fn refuses_to_start(env: &[(&str, &str)], config: Option<&str>, key: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.toml");
    std::fs::write(&path, config.unwrap_or_default()).unwrap();
    let mut cmd = baton_command(&["--config", &path.display().to_string(), "serve"]);
    cmd.current_dir(dir.path())
        .env("BATON_HTTP__ADDR", "127.0.0.1:0")
        .env(
            "BATON_DATABASE__URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display()),
        )
        .env("BATON_BOOTSTRAP_TOKEN", random_hex())
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied());
    let mut process = Process::spawn(cmd);
    let status = process
        .wait_exit(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("still running with a bad {key}:\n{}", process.stderr()));
    assert!(!status.success(), "exit status {status}");
    let stderr = process.stderr();
    assert!(stderr.contains(key), "{stderr}");
}

#[test]
fn an_invalid_limit_stops_the_start_and_names_the_key() {
    refuses_to_start(
        &[("BATON_LIMITS__MAX_STREAMS", "0")],
        None,
        "limits.max_streams",
    );
    refuses_to_start(
        &[],
        Some("[limits]\ntrusted_proxies = [\"10.0.0.1\", \"proxy.internal\"]\n"),
        "limits.trusted_proxies",
    );
}
