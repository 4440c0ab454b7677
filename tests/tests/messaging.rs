//! Messaging channels through plugins (issue 4): the same handoff configuration on web
//! chat, Telegram and WhatsApp (F1), webhooks verified by the plugins, outbound messages
//! sent to a provider on loopback through the outbox — retried when it rate-limits — and a
//! trigger-matcher plugin's hits as trigger kind `plugin:<name>`.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use baton_e2e::provider::{Answer, Provider};
use baton_e2e::{
    AVAILABLE_MSG, Backend, POLL_TIMEOUT, Server, StatusCode, baton_command, plugin_library,
};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};

const TELEGRAM_SECRET: &str = "e2e-secret_token";
const WHATSAPP_SECRET: &str = "e2e-app-secret";
const WHATSAPP_NUMBER_ID: &str = "106540352242922";

fn config(provider: &Provider) -> String {
    let path = |name: &str| plugin_library(name).display().to_string();
    format!(
        r#"
[[plugins]]
name = "order-numbers"
path = "{regex}"
config = {{ patterns = ['order\s*#?\d{{5}}'] }}

[[plugins]]
name = "telegram"
path = "{telegram}"
config = {{ bot_token = "123456:e2e-token", secret_token = "{TELEGRAM_SECRET}", api_base_url = "{base}/telegram" }}

[[plugins]]
name = "whatsapp"
path = "{whatsapp}"
config = {{ verify_token = "e2e-verify", app_secret = "{WHATSAPP_SECRET}", access_token = "e2e-access", phone_number_id = "{WHATSAPP_NUMBER_ID}", api_base_url = "{base}/graph" }}
"#,
        regex = path("matcher-regex"),
        telegram = path("channel-telegram"),
        whatsapp = path("channel-whatsapp"),
        base = provider.base,
    )
}

fn telegram_update(update_id: i64, chat_id: i64, text: &str) -> Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id + 1000,
            "from": {"id": chat_id, "is_bot": false, "first_name": "Tele", "last_name": "Gram"},
            "chat": {"id": chat_id, "first_name": "Tele", "type": "private"},
            "date": 1718000000,
            "text": text,
        }
    })
}

fn whatsapp_notification(from: &str, id: &str, text: &str) -> String {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": WHATSAPP_NUMBER_ID},
                    "contacts": [{"profile": {"name": "Whats App"}, "wa_id": from}],
                    "messages": [{"from": from, "id": id, "timestamp": "1749416383", "type": "text", "text": {"body": text}}],
                }
            }]
        }]
    })
    .to_string()
}

fn signature(body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(WHATSAPP_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn webhook(
    server: &Server,
    name: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, String) {
    let mut request = server
        .client
        .post(server.url(&format!("/webhooks/{name}")))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn conversations_on(server: &Server, channel: &str) -> Vec<Value> {
    server
        .view("all")
        .await
        .into_iter()
        .filter(|c| c["channel"] == channel)
        .collect()
}

async fn message_count(server: &Server) -> usize {
    let mut total = 0;
    for conversation in server.view("all").await {
        let id = conversation["id"].as_i64().unwrap();
        let (status, body) = server
            .get(&format!("/api/v1/conversations/{id}/messages"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        total += body["messages"].as_array().map_or(0, Vec::len);
    }
    total
}

fn reason(conversation: &Value) -> (String, String) {
    let reason = &conversation["handoff"]["reason"];
    (
        reason["kind"].as_str().unwrap_or_default().to_owned(),
        reason["matched"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn one_configuration_on_every_channel(backend: Backend) {
    let provider = Provider::start().await;
    // Telegram rate-limits the first reply; the host must retry after the time it names.
    provider.script(
        "/telegram/",
        vec![Answer::json(
            429,
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
        )],
    );
    // WhatsApp fails once (retried with backoff), then accepts; later it refuses a
    // message for good (never retried).
    provider.script(
        "/graph/",
        vec![
            Answer::json(500, json!({"error": {"message": "internal", "code": 1}})),
            Answer::json(
                200,
                json!({"messaging_product": "whatsapp", "messages": [{"id": "wamid.out"}]}),
            ),
            Answer::json(
                400,
                json!({"error": {"message": "Message undeliverable", "code": 131026}}),
            ),
        ],
    );
    let server = Server::start_with_config(backend, config(&provider)).await;

    // Every plugin loaded and healthy.
    let plugins = server.get_ok("/api/v1/plugins").await;
    let names: Vec<&str> = plugins["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["order-numbers", "telegram", "whatsapp"],
        "{plugins}"
    );
    for plugin in plugins["plugins"].as_array().unwrap() {
        assert_eq!(plugin["health"]["state"], "healthy", "{plugin}");
        assert_eq!(plugin["abi_version"], 1, "{plugin}");
    }
    assert_eq!(plugins["failed"], json!([]));

    // One settings change: "refund" hands off, live, to Fay.
    let (fay, _) = server.agent("Fay", 10).await;
    server.route_to("live", &[fay], &["refund"]).await;

    // Web chat.
    let visitor = server.visitor().await;
    assert_eq!(
        visitor.say_expect_handoff("I want a refund").await,
        AVAILABLE_MSG
    );
    let chat = visitor.conversation().await;
    assert_eq!(reason(&chat), ("custom".into(), "refund".into()));

    // Telegram: a wrong secret stores nothing; the right one hands off the same way.
    let update = telegram_update(1, 4242, "I want a refund").to_string();
    let before = message_count(&server).await;
    let (status, body) = webhook(
        &server,
        "telegram",
        &[("x-telegram-bot-api-secret-token", "wrong")],
        &update,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(message_count(&server).await, before);
    let secret = [("x-telegram-bot-api-secret-token", TELEGRAM_SECRET)];
    let (status, body) = webhook(&server, "telegram", &secret, "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(message_count(&server).await, before);
    let sent = Instant::now();
    let (status, body) = webhook(&server, "telegram", &secret, &update).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let telegram = conversations_on(&server, "telegram").await;
    assert_eq!(telegram.len(), 1, "{telegram:?}");
    assert_eq!(reason(&telegram[0]), ("custom".into(), "refund".into()));
    assert_eq!(telegram[0]["assignee"]["user_id"], fay, "{}", telegram[0]);
    // The handoff message reaches Telegram: refused once (429), sent again after 1 s.
    let calls = provider
        .wait_for("/telegram/bot123456:e2e-token/sendMessage", 2, POLL_TIMEOUT)
        .await;
    assert_eq!(
        calls[0].body,
        json!({"chat_id": 4242, "text": AVAILABLE_MSG})
    );
    assert_eq!(calls[1].body, calls[0].body);
    assert!(
        calls[1].at.duration_since(calls[0].at) >= Duration::from_millis(900),
        "retried after {:?}, before the 1 s Telegram asked for",
        calls[1].at.duration_since(calls[0].at)
    );
    assert!(sent.elapsed() < POLL_TIMEOUT);
    // A redelivered update is ingested once.
    let after_first = message_count(&server).await;
    let (status, _) = webhook(&server, "telegram", &secret, &update).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(message_count(&server).await, after_first);
    // A photo gets a "text only" notice, once even when Telegram redelivers the update.
    let photo = json!({
        "update_id": 3,
        "message": {
            "message_id": 3003,
            "from": {"id": 4242, "is_bot": false, "first_name": "Tele"},
            "chat": {"id": 4242, "first_name": "Tele", "type": "private"},
            "date": 1718000000,
            "photo": [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90}],
        }
    })
    .to_string();
    for _ in 0..2 {
        let (status, _) = webhook(&server, "telegram", &secret, &photo).await;
        assert_eq!(status, StatusCode::OK);
    }
    let send = "/telegram/bot123456:e2e-token/sendMessage";
    let calls = provider.wait_for(send, 3, POLL_TIMEOUT).await;
    assert_eq!(calls[2].body["chat_id"], 4242);
    assert!(
        calls[2].body["text"].as_str().unwrap().contains("text"),
        "{}",
        calls[2].body
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = provider
        .requests()
        .iter()
        .filter(|r| r.path == send)
        .count();
    assert_eq!(
        sent, 3,
        "the notice was sent again for a redelivered update"
    );

    // WhatsApp: the subscription handshake, then the same message.
    let (status, challenge) = server
        .get_text("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=e2e-verify&hub.challenge=1158201444")
        .await;
    assert_eq!((status, challenge.as_str()), (StatusCode::OK, "1158201444"));
    let (status, _) = server
        .get_text("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body = whatsapp_notification("16505551234", "wamid.in-1", "I want a refund");
    let before = message_count(&server).await;
    let (status, _) = webhook(
        &server,
        "whatsapp",
        &[("x-hub-signature-256", &signature("something else"))],
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = webhook(&server, "whatsapp", &[], &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let malformed = r#"{"object": "whatsapp_business_account", "entry": 7}"#;
    let (status, _) = webhook(
        &server,
        "whatsapp",
        &[("x-hub-signature-256", &signature(malformed))],
        malformed,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(message_count(&server).await, before);
    assert!(conversations_on(&server, "whatsapp").await.is_empty());
    let (status, response) = webhook(
        &server,
        "whatsapp",
        &[("x-hub-signature-256", &signature(&body))],
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{response}");
    let whatsapp = conversations_on(&server, "whatsapp").await;
    assert_eq!(whatsapp.len(), 1);
    assert_eq!(reason(&whatsapp[0]), ("custom".into(), "refund".into()));
    let graph = format!("/graph/{WHATSAPP_NUMBER_ID}/messages");
    let calls = provider.wait_for(&graph, 2, POLL_TIMEOUT).await;
    assert_eq!(calls[0].header("authorization"), Some("Bearer e2e-access"));
    assert_eq!(calls[0].body["to"], "16505551234");
    assert_eq!(calls[0].body["text"]["body"], AVAILABLE_MSG);
    assert_eq!(calls[1].body, calls[0].body, "retried after the 500");
    // Refused for good: one attempt, none after the outbox's next sweeps.
    let body = whatsapp_notification("16505550000", "wamid.in-2", "How long does shipping take?");
    let (status, _) = webhook(
        &server,
        "whatsapp",
        &[("x-hub-signature-256", &signature(&body))],
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let calls = provider.wait_for(&graph, 3, POLL_TIMEOUT).await;
    assert_eq!(calls[2].body["to"], "16505550000");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let sent = provider
        .requests()
        .iter()
        .filter(|r| r.path == graph)
        .count();
    assert_eq!(
        sent, 3,
        "a message the provider refused for good is not sent again"
    );
    // ...and staff can see it did not arrive, with the provider's reason.
    let audit = server.get_ok("/api/v1/audit?limit=50").await;
    let failed: Vec<&Value> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "delivery_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{audit}");
    assert_eq!(failed[0]["detail"]["channel"], "whatsapp");
    assert!(
        failed[0]["detail"]["reason"]
            .as_str()
            .unwrap()
            .contains("Message undeliverable"),
        "{}",
        failed[0]
    );

    // The matcher plugin: its hits hand off as plugin:<name>, in simulate and on a channel.
    let (status, simulation) = server
        .post(
            "/api/v1/handoff/simulate",
            json!({"channel": "telegram", "text": "where is order #12345?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{simulation}");
    assert_eq!(simulation["trigger"]["kind"], "plugin:order-numbers");
    assert_eq!(simulation["trigger"]["matched"], "order #12345");
    assert_eq!(simulation["trigger"]["text_span"], json!([9, 21]));
    let update = telegram_update(2, 5151, "my order 54321 never came").to_string();
    let (status, _) = webhook(&server, "telegram", &secret, &update).await;
    assert_eq!(status, StatusCode::OK);
    let second = conversations_on(&server, "telegram")
        .await
        .into_iter()
        .find(|c| c["id"] != telegram[0]["id"])
        .unwrap();
    assert_eq!(
        reason(&second),
        ("plugin:order-numbers".into(), "order 54321".into())
    );

    // Staff close the chat's conversation. Telegram redelivers the update it held (its
    // first answer was lost): answered 200 as a repeat, stored once, no new conversation.
    let id = second["id"].as_i64().unwrap();
    let (status, body) = server
        .post(&format!("/api/v1/conversations/{id}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = message_count(&server).await;
    let (status, body) = webhook(&server, "telegram", &secret, &update).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(message_count(&server).await, before);
    assert_eq!(conversations_on(&server, "telegram").await.len(), 2);
    // The chat's next message goes on in a new conversation, not a 409.
    let next = telegram_update(5, 5151, "hello again").to_string();
    let (status, body) = webhook(&server, "telegram", &secret, &next).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let on_telegram = conversations_on(&server, "telegram").await;
    assert_eq!(on_telegram.len(), 3, "{on_telegram:?}");
    assert!(
        on_telegram.iter().any(|c| c["id"] != second["id"]
            && c["id"] != telegram[0]["id"]
            && c["status"] == "open"),
        "{on_telegram:?}"
    );
}

async fn a_plugin_that_fails_to_load_is_reported_and_skipped(backend: Backend) {
    let provider = Provider::start().await;
    let toml = format!(
        "{}\n[[plugins]]\nname = \"ghost\"\npath = \"/nonexistent/libghost.so\"\n",
        config(&provider)
    );
    let server = Server::start_with_config(backend, toml).await;
    let plugins = server.get_ok("/api/v1/plugins").await;
    assert_eq!(plugins["plugins"].as_array().unwrap().len(), 3, "{plugins}");
    let failed = plugins["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{plugins}");
    assert_eq!(failed[0]["name"], "ghost");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/libghost.so"),
        "{plugins}"
    );
    let (status, _) = server
        .request(Method::POST, "/webhooks/ghost", None, Some(&json!({})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// `baton plugins` loads the entries and lists them; a bad entry fails the command and is
/// named with its file.
#[test]
fn baton_plugins_lists_the_entries_and_fails_on_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = |toml: &str| {
        let file = dir.path().join("baton.toml");
        std::fs::write(&file, toml).unwrap();
        let output = baton_command(&["plugins", "--config", file.to_str().unwrap()])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let good = format!(
        "[[plugins]]\nname = \"order-numbers\"\npath = \"{}\"\nconfig = {{ patterns = ['order'] }}\n",
        plugin_library("matcher-regex").display()
    );
    let (ok, stdout) = run(&good);
    assert!(ok, "{stdout}");
    assert!(
        stdout.starts_with("order-numbers\ttrigger_matcher\tmatcher-regex (sdk "),
        "{stdout}"
    );
    assert!(stdout.contains("abi 1)"), "{stdout}");
    assert!(stdout.trim_end().ends_with("healthy"), "{stdout}");
    let bad = format!(
        "{good}[[plugins]]\nname = \"strict\"\npath = \"{}\"\nconfig = {{ patterns = ['(unclosed'] }}\n",
        plugin_library("matcher-regex").display()
    );
    let (ok, stdout) = run(&bad);
    assert!(
        !ok,
        "a plugin whose init fails must fail the command: {stdout}"
    );
    assert!(stdout.contains("strict\tFAILED"), "{stdout}");
    assert!(stdout.contains("libmatcher_regex"), "{stdout}");
    assert!(stdout.contains("patterns[0]"), "{stdout}");
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_configuration_on_every_channel() {
        super::one_configuration_on_every_channel(baton_e2e::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_plugin_that_fails_to_load_is_reported_and_skipped() {
        super::a_plugin_that_fails_to_load_is_reported_and_skipped(baton_e2e::Backend::Sqlite)
            .await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_configuration_on_every_channel() {
        let Some(url) = baton_e2e::postgres_url_or_skip() else {
            return;
        };
        super::one_configuration_on_every_channel(baton_e2e::Backend::Postgres(url)).await;
    }
}
