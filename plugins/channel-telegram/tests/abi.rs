//! The Telegram channel driven through its C entry points, as the host drives it, with
//! updates shaped like the Bot API's (<https://core.telegram.org/bots/api#update>).

use baton_plugin_sdk::channel::{OP_DELIVERY, OP_HANDSHAKE, OP_INBOUND, OP_OUTBOUND};
use baton_plugin_sdk::testing::{CallError, Instance};
use baton_plugin_sdk::{
    Delivery, ErrorKind, HttpRequest, HttpResponse, Inbound, InboundMessage, OutboundMessage,
    OutboundRequest, PluginError, WebhookResponse,
};
use channel_telegram::{TEXT_ONLY_NOTICE, baton_plugin_vtable_v1};
use serde_json::{Value, json};

const SECRET: &str = "s3cr3t_Token-1";
const BOT_TOKEN: &str = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11";

fn config() -> Value {
    json!({ "bot_token": BOT_TOKEN, "secret_token": SECRET })
}

fn channel() -> Instance {
    Instance::new(baton_plugin_vtable_v1, &config()).expect("init")
}

fn webhook(secret: Option<&str>, body: &str) -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        query: String::new(),
        headers: [("content-type".to_owned(), "application/json".to_owned())]
            .into_iter()
            .chain(secret.map(|s| ("x-telegram-bot-api-secret-token".to_owned(), s.to_owned())))
            .collect(),
        body: body.into(),
    }
}

fn inbound(body: &str) -> Inbound {
    channel()
        .call(OP_INBOUND, &webhook(Some(SECRET), body))
        .expect("inbound")
}

fn plugin_error<T: std::fmt::Debug>(result: Result<T, CallError>) -> PluginError {
    match result {
        Err(CallError::Plugin(error)) => error,
        other => panic!("expected a plugin error, got {other:?}"),
    }
}

fn inbound_error(secret: Option<&str>, body: &str) -> PluginError {
    plugin_error(channel().call::<Inbound>(OP_INBOUND, &webhook(secret, body)))
}

fn fixture(name: &str) -> &'static str {
    match name {
        "text_message" => include_str!("fixtures/text_message.json"),
        "group_text_message" => include_str!("fixtures/group_text_message.json"),
        "edited_message" => include_str!("fixtures/edited_message.json"),
        "photo_message" => include_str!("fixtures/photo_message.json"),
        "sticker_message" => include_str!("fixtures/sticker_message.json"),
        "voice_message" => include_str!("fixtures/voice_message.json"),
        "bot_message" => include_str!("fixtures/bot_message.json"),
        "service_message" => include_str!("fixtures/service_message.json"),
        "callback_query" => include_str!("fixtures/callback_query.json"),
        "channel_post" => include_str!("fixtures/channel_post.json"),
        other => panic!("no fixture {other}"),
    }
}

#[test]
fn a_text_message_is_ingested() {
    let inbound = inbound(fixture("text_message"));
    assert_eq!(inbound.response, WebhookResponse::ok());
    assert_eq!(
        inbound.messages,
        vec![InboundMessage {
            thread: "1111111".into(),
            message_id: Some("1111111:1365".into()),
            contact_name: Some("Ada Lovelace".into()),
            text: "Where is my order #12345? It was due on Monday.".into(),
        }]
    );
    assert!(inbound.notices.is_empty());
}

#[test]
fn a_group_message_threads_on_the_chat_and_names_by_username() {
    let inbound = inbound(fixture("group_text_message"));
    assert_eq!(
        inbound.messages,
        vec![InboundMessage {
            thread: "-1001234567890".into(),
            message_id: Some("-1001234567890:77".into()),
            contact_name: Some("grace_h".into()),
            text: "Can someone help with the invoice?".into(),
        }]
    );
}

#[test]
fn a_first_name_alone_is_the_contact_name() {
    let body = json!({
        "update_id": 1,
        "message": {
            "message_id": 5,
            "from": { "id": 9, "is_bot": false, "first_name": "Ada", "username": "ada_l" },
            "chat": { "id": 9, "type": "private" },
            "date": 1718000000,
            "text": "hi"
        }
    });
    let inbound = inbound(&body.to_string());
    assert_eq!(inbound.messages[0].contact_name.as_deref(), Some("Ada"));
}

#[test]
fn an_edit_is_acknowledged_and_dropped() {
    assert_eq!(inbound(fixture("edited_message")), Inbound::ignored());
}

#[test]
fn media_gets_a_text_only_notice() {
    for (name, id) in [
        ("photo_message", 1366),
        ("sticker_message", 1367),
        ("voice_message", 1368),
    ] {
        let inbound = inbound(fixture(name));
        assert_eq!(inbound.response, WebhookResponse::ok(), "{name}");
        assert!(inbound.messages.is_empty(), "{name}");
        // The notice names the message it answers, so the host sends it once.
        assert_eq!(
            inbound.notices,
            vec![OutboundMessage {
                thread: "1111111".into(),
                text: TEXT_ONLY_NOTICE.into(),
                in_reply_to: Some(format!("1111111:{id}")),
            }],
            "{name}"
        );
    }
    assert!(TEXT_ONLY_NOTICE.contains("only read text"));
}

#[test]
fn bots_service_messages_and_other_updates_are_ignored() {
    for name in [
        "bot_message",
        "service_message",
        "callback_query",
        "channel_post",
    ] {
        assert_eq!(inbound(fixture(name)), Inbound::ignored(), "{name}");
    }
    // an update type this plugin has never heard of
    let future = json!({ "update_id": 2, "chat_boost": { "boost": {} } });
    assert_eq!(inbound(&future.to_string()), Inbound::ignored());
}

#[test]
fn a_wrong_or_missing_secret_is_unauthorized() {
    let body = fixture("text_message");
    for secret in [
        None,
        Some("wrong"),
        Some(""),
        Some("s3cr3t_Token-12"),
        Some("s3cr3t_Token-"),
    ] {
        let error = inbound_error(secret, body);
        assert_eq!(error.kind, ErrorKind::Unauthorized, "{secret:?}");
    }
    // checked before the body is read: a bad secret with a bad body is still 401
    assert_eq!(
        inbound_error(Some("wrong"), "not json").kind,
        ErrorKind::Unauthorized
    );
}

#[test]
fn the_secret_header_name_is_case_insensitive() {
    let mut request = webhook(None, fixture("text_message"));
    request
        .headers
        .push(("X-Telegram-Bot-Api-Secret-Token".into(), SECRET.into()));
    let inbound: Inbound = channel().call(OP_INBOUND, &request).expect("inbound");
    assert_eq!(inbound.messages.len(), 1);
}

#[test]
fn malformed_bodies_are_bad_requests() {
    for body in [
        "",
        "not json",
        "[]",
        r#"{"message": {"message_id": 1, "chat": {"id": 1}, "text": "hi"}}"#,
        r#"{"update_id": "seven"}"#,
        r#"{"update_id": 3, "message": {"message_id": 1, "text": "no chat"}}"#,
    ] {
        let error = inbound_error(Some(SECRET), body);
        assert_eq!(error.kind, ErrorKind::BadRequest, "{body:?}");
    }
}

#[test]
fn there_is_no_handshake() {
    let error = plugin_error(channel().call::<WebhookResponse>(
        OP_HANDSHAKE,
        &HttpRequest {
            method: "GET".into(),
            ..HttpRequest::default()
        },
    ));
    assert_eq!(error.kind, ErrorKind::BadRequest);
}

#[test]
fn bad_configs_are_refused_naming_the_field() {
    let refused = |config: Value| {
        let error = plugin_error(Instance::new(baton_plugin_vtable_v1, &config));
        assert_eq!(error.kind, ErrorKind::Config, "{config}");
        error.message
    };
    assert!(refused(json!({ "secret_token": SECRET })).contains("bot_token"));
    assert!(refused(json!({ "bot_token": BOT_TOKEN })).contains("secret_token"));
    assert!(refused(json!({ "bot_token": "", "secret_token": SECRET })).contains("bot_token"));
    assert!(
        refused(json!({ "bot_token": "123:abc/../x", "secret_token": SECRET }))
            .contains("bot_token")
    );
    for secret in [
        "",
        "has space",
        "dots.not.allowed",
        "ünïcode",
        &"a".repeat(257),
    ] {
        assert!(
            refused(json!({ "bot_token": BOT_TOKEN, "secret_token": secret }))
                .starts_with("secret_token"),
            "{secret:?}"
        );
    }
    assert!(
        refused(
            json!({ "bot_token": BOT_TOKEN, "secret_token": SECRET, "api_base_url": "ftp://x" })
        )
        .contains("api_base_url")
    );
    assert!(
        refused(
            json!({ "bot_token": BOT_TOKEN, "secret_token": SECRET, "api_base_url": "https://" })
        )
        .contains("api_base_url")
    );
    assert!(
        refused(json!({ "bot_token": BOT_TOKEN, "secret_token": SECRET, "webhook_url": "x" }))
            .contains("webhook_url")
    );
    // the longest secret Telegram allows is fine
    let longest = json!({ "bot_token": BOT_TOKEN, "secret_token": "a".repeat(256) });
    assert!(Instance::new(baton_plugin_vtable_v1, &longest).is_ok());
}

fn outbound(config: Value, thread: &str, text: &str) -> OutboundRequest {
    Instance::new(baton_plugin_vtable_v1, &config)
        .expect("init")
        .call(
            OP_OUTBOUND,
            &OutboundMessage {
                thread: thread.into(),
                text: text.into(),
                in_reply_to: None,
            },
        )
        .expect("outbound")
}

#[test]
fn outbound_is_a_send_message_call() {
    let request = outbound(config(), "1111111", "Your order ships today.");
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.url,
        format!("https://api.telegram.org/bot{BOT_TOKEN}/sendMessage")
    );
    assert_eq!(
        request.headers,
        vec![("content-type".to_owned(), "application/json".to_owned())]
    );
    let body: Value = serde_json::from_str(&request.body).expect("json body");
    assert_eq!(
        body,
        json!({ "chat_id": 1111111, "text": "Your order ships today." })
    );

    // groups have negative ids, still numbers
    let request = outbound(config(), "-1001234567890", "ok");
    let body: Value = serde_json::from_str(&request.body).expect("json body");
    assert_eq!(body["chat_id"], json!(-1001234567890_i64));

    // a channel addressed by name stays a string
    let request = outbound(config(), "@baton_news", "ok");
    let body: Value = serde_json::from_str(&request.body).expect("json body");
    assert_eq!(body["chat_id"], json!("@baton_news"));
}

#[test]
fn the_api_base_url_is_configurable_and_trimmed() {
    let mut config = config();
    config["api_base_url"] = json!("http://127.0.0.1:8081/");
    let request = outbound(config, "1", "hi");
    assert_eq!(
        request.url,
        format!("http://127.0.0.1:8081/bot{BOT_TOKEN}/sendMessage")
    );
}

#[test]
fn outbound_refuses_an_empty_thread() {
    let error = plugin_error(channel().call::<OutboundRequest>(
        OP_OUTBOUND,
        &OutboundMessage {
            thread: String::new(),
            text: "hi".into(),
            in_reply_to: None,
        },
    ));
    assert_eq!(error.kind, ErrorKind::BadRequest);
}

fn delivery(status: u16, headers: &[(&str, &str)], body: Value) -> Delivery {
    channel()
        .call(
            OP_DELIVERY,
            &HttpResponse {
                status,
                headers: headers
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect(),
                body: if body.is_null() {
                    String::new()
                } else {
                    body.to_string()
                },
            },
        )
        .expect("delivery")
}

fn failed_reason(delivery: Delivery) -> String {
    match delivery {
        Delivery::Failed { reason } => reason,
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn deliveries_read_telegram_answers() {
    let sent = json!({
        "ok": true,
        "result": {
            "message_id": 1370,
            "from": { "id": 123456, "is_bot": true, "first_name": "Baton", "username": "baton_bot" },
            "chat": { "id": 1111111, "first_name": "Ada", "type": "private" },
            "date": 1718000800,
            "text": "Your order ships today."
        }
    });
    assert_eq!(delivery(200, &[], sent), Delivery::Sent);

    let flood = json!({
        "ok": false,
        "error_code": 429,
        "description": "Too Many Requests: retry after 35",
        "parameters": { "retry_after": 35 }
    });
    assert_eq!(
        delivery(429, &[], flood),
        Delivery::Retry {
            after_seconds: Some(35),
            reason: "HTTP 429: Too Many Requests: retry after 35".into(),
        }
    );
    // without parameters, the Retry-After header says how long
    let bare = json!({ "ok": false, "error_code": 429, "description": "Too Many Requests" });
    assert!(matches!(
        delivery(429, &[("Retry-After", "12")], bare),
        Delivery::Retry {
            after_seconds: Some(12),
            ..
        }
    ));

    assert!(matches!(
        delivery(
            500,
            &[],
            json!({ "ok": false, "error_code": 500, "description": "Internal Server Error" })
        ),
        Delivery::Retry {
            after_seconds: None,
            ..
        }
    ));
    assert!(matches!(
        delivery(502, &[], Value::Null),
        Delivery::Retry { .. }
    ));
    assert!(matches!(
        delivery(0, &[], Value::Null),
        Delivery::Retry { .. }
    ));

    for (status, description) in [
        (400, "Bad Request: chat not found"),
        (401, "Unauthorized"),
        (403, "Forbidden: bot was blocked by the user"),
        (404, "Not Found"),
    ] {
        let body = json!({ "ok": false, "error_code": status, "description": description });
        let reason = failed_reason(delivery(status, &[], body));
        assert!(reason.contains(description), "{status}: {reason}");
    }

    // a 200 that says ok:false is not a success
    let odd = json!({ "ok": false, "error_code": 400, "description": "Bad Request: message text is empty" });
    assert!(failed_reason(delivery(200, &[], odd)).contains("message text is empty"));
}
