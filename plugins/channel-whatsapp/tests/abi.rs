//! The WhatsApp channel driven through its C entry points, as the host drives it, with
//! notifications shaped like Meta's payload examples
//! (<https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples>),
//! signed here with the app secret the way Meta signs them.

use baton_plugin_sdk::channel::{OP_DELIVERY, OP_HANDSHAKE, OP_INBOUND, OP_OUTBOUND};
use baton_plugin_sdk::testing::{CallError, Instance};
use baton_plugin_sdk::{
    Delivery, ErrorKind, HttpRequest, HttpResponse, Inbound, InboundMessage, OutboundMessage,
    OutboundRequest, PluginError, WebhookResponse,
};
use channel_whatsapp::{TEXT_ONLY_NOTICE, baton_plugin_vtable_v1};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const VERIFY_TOKEN: &str = "meatyhamhock";
const APP_SECRET: &str = "0f3c9a1e5b7d2468ace13579bdf02468";
const ACCESS_TOKEN: &str = "EAAJB3Zz8xYBO1x2y3z";
const PHONE_NUMBER_ID: &str = "106540352242922";
const CUSTOMER: &str = "16505551234";

fn config() -> Value {
    json!({
        "verify_token": VERIFY_TOKEN,
        "app_secret": APP_SECRET,
        "access_token": ACCESS_TOKEN,
        "phone_number_id": PHONE_NUMBER_ID,
    })
}

fn channel() -> Instance {
    Instance::new(baton_plugin_vtable_v1, &config()).expect("init")
}

fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn webhook(signature: Option<String>, body: &str) -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        query: String::new(),
        headers: [("content-type".to_owned(), "application/json".to_owned())]
            .into_iter()
            .chain(signature.map(|s| ("x-hub-signature-256".to_owned(), s)))
            .collect(),
        body: body.into(),
    }
}

fn inbound(body: &str) -> Inbound {
    channel()
        .call(OP_INBOUND, &webhook(Some(sign(APP_SECRET, body)), body))
        .expect("inbound")
}

fn plugin_error<T: std::fmt::Debug>(result: Result<T, CallError>) -> PluginError {
    match result {
        Err(CallError::Plugin(error)) => error,
        other => panic!("expected a plugin error, got {other:?}"),
    }
}

fn inbound_error(signature: Option<String>, body: &str) -> PluginError {
    plugin_error(channel().call::<Inbound>(OP_INBOUND, &webhook(signature, body)))
}

fn fixture(name: &str) -> &'static str {
    match name {
        "text_message" => include_str!("fixtures/text_message.json"),
        "image_message" => include_str!("fixtures/image_message.json"),
        "sticker_message" => include_str!("fixtures/sticker_message.json"),
        "location_message" => include_str!("fixtures/location_message.json"),
        "reaction_message" => include_str!("fixtures/reaction_message.json"),
        "edited_message" => include_str!("fixtures/edited_message.json"),
        "button_message" => include_str!("fixtures/button_message.json"),
        "status_delivered" => include_str!("fixtures/status_delivered.json"),
        "status_failed" => include_str!("fixtures/status_failed.json"),
        other => panic!("no fixture {other}"),
    }
}

/// The notice answering the first message of `body`, which names it.
fn notice(body: &str) -> OutboundMessage {
    let body: serde_json::Value = serde_json::from_str(body).expect("fixture");
    let id = &body["entry"][0]["changes"][0]["value"]["messages"][0]["id"];
    OutboundMessage {
        thread: CUSTOMER.into(),
        text: TEXT_ONLY_NOTICE.into(),
        in_reply_to: Some(id.as_str().expect("message id").to_owned()),
    }
}

fn handshake(query: &str) -> Result<WebhookResponse, CallError> {
    channel().call(
        OP_HANDSHAKE,
        &HttpRequest {
            method: "GET".into(),
            query: query.into(),
            ..HttpRequest::default()
        },
    )
}

#[test]
fn the_handshake_echoes_the_challenge() {
    let response =
        handshake("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock")
            .expect("handshake");
    assert_eq!(response, WebhookResponse::text("1158201444"));
}

#[test]
fn a_handshake_with_the_wrong_token_is_unauthorized() {
    for token in ["wrong", "meatyhamhoc", "meatyhamhockk", ""] {
        let query = format!("hub.mode=subscribe&hub.challenge=1&hub.verify_token={token}");
        assert_eq!(
            plugin_error(handshake(&query)).kind,
            ErrorKind::Unauthorized,
            "{token:?}"
        );
    }
}

#[test]
fn a_handshake_missing_parameters_is_a_bad_request() {
    for query in [
        "",
        "hub.mode=subscribe&hub.verify_token=meatyhamhock",
        "hub.mode=subscribe&hub.challenge=1",
        "hub.challenge=1&hub.verify_token=meatyhamhock",
        "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=meatyhamhock",
    ] {
        assert_eq!(
            plugin_error(handshake(query)).kind,
            ErrorKind::BadRequest,
            "{query:?}"
        );
    }
}

#[test]
fn a_text_message_is_ingested() {
    let inbound = inbound(fixture("text_message"));
    assert_eq!(inbound.response, WebhookResponse::ok());
    assert_eq!(
        inbound.messages,
        vec![InboundMessage {
            thread: CUSTOMER.into(),
            message_id: Some(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=".into()
            ),
            contact_name: Some("Sheena Nelson".into()),
            text: "Does it come in another color?".into(),
        }]
    );
    assert!(inbound.notices.is_empty());
}

#[test]
fn a_quick_reply_tap_is_ingested_as_its_label() {
    let inbound = inbound(fixture("button_message"));
    assert_eq!(inbound.messages.len(), 1);
    assert_eq!(inbound.messages[0].text, "Talk to an agent");
    assert!(inbound.notices.is_empty());
}

#[test]
fn a_batch_keeps_its_order_and_names_each_sender() {
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID },
                    "contacts": [
                        { "profile": { "name": "Sheena Nelson" }, "wa_id": CUSTOMER },
                        { "profile": { "name": "Kerry Fisher" }, "wa_id": "447700900123" }
                    ],
                    "messages": [
                        { "from": "447700900123", "id": "wamid.A", "timestamp": "1", "type": "text", "text": { "body": "first" } },
                        { "from": CUSTOMER, "id": "wamid.B", "timestamp": "2", "type": "text", "text": { "body": "second" } },
                        { "from": "5511987654321", "id": "wamid.C", "timestamp": "3", "type": "audio", "audio": { "id": "9", "mime_type": "audio/ogg; codecs=opus" } }
                    ]
                }
            }]
        }]
    })
    .to_string();
    let inbound = inbound(&body);
    let got: Vec<_> = inbound
        .messages
        .iter()
        .map(|m| {
            (
                m.thread.as_str(),
                m.contact_name.as_deref(),
                m.text.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("447700900123", Some("Kerry Fisher"), "first"),
            (CUSTOMER, Some("Sheena Nelson"), "second"),
        ]
    );
    assert_eq!(inbound.notices.len(), 1);
    assert_eq!(inbound.notices[0].thread, "5511987654321");
}

#[test]
fn non_text_gets_a_text_only_notice() {
    for name in ["image_message", "sticker_message", "location_message"] {
        let inbound = inbound(fixture(name));
        assert_eq!(inbound.response, WebhookResponse::ok(), "{name}");
        assert!(inbound.messages.is_empty(), "{name}");
        assert_eq!(inbound.notices, vec![notice(fixture(name))], "{name}");
    }
    assert!(TEXT_ONLY_NOTICE.contains("only read text"));
}

#[test]
fn an_edit_is_acknowledged_and_dropped() {
    assert_eq!(inbound(fixture("edited_message")), Inbound::ignored());
}

#[test]
fn statuses_and_reactions_are_ignored() {
    for name in ["status_delivered", "status_failed", "reaction_message"] {
        assert_eq!(inbound(fixture(name)), Inbound::ignored(), "{name}");
    }
}

#[test]
fn other_fields_and_other_numbers_are_ignored() {
    let account_update = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "account_update",
                "value": { "phone_number": "15550783881", "event": "VERIFIED_ACCOUNT" }
            }]
        }]
    })
    .to_string();
    assert_eq!(inbound(&account_update), Inbound::ignored());

    let other_number = fixture("text_message").replace(PHONE_NUMBER_ID, "999999999999999");
    assert_eq!(inbound(&other_number), Inbound::ignored());

    // a blank text is neither ingested nor answered with the media notice
    let blank = fixture("text_message").replace("Does it come in another color?", "  ");
    assert_eq!(inbound(&blank), Inbound::ignored());
}

#[test]
fn a_bad_or_missing_signature_is_unauthorized() {
    let body = fixture("text_message");
    let good = sign(APP_SECRET, body);
    let flipped = {
        let mut s = good.clone();
        let last = if s.ends_with('0') { "1" } else { "0" };
        s.replace_range(s.len() - 1.., last);
        s
    };
    for signature in [
        None,
        Some(sign("another secret", body)),
        Some(sign(APP_SECRET, &body.replace("another", "a different"))),
        Some(flipped),
        Some(good.trim_start_matches("sha256=").to_owned()),
        Some(good.replace("sha256=", "sha1=")),
        Some("sha256=not-hex".to_owned()),
        Some("sha256=".to_owned()),
        Some(good[..good.len() - 2].to_owned()),
    ] {
        assert_eq!(
            inbound_error(signature.clone(), body).kind,
            ErrorKind::Unauthorized,
            "{signature:?}"
        );
    }
    // the signature covers the raw bytes: the same JSON re-serialized does not verify
    let compact = serde_json::from_str::<Value>(body)
        .expect("fixture is JSON")
        .to_string();
    assert_eq!(
        inbound_error(Some(good.clone()), &compact).kind,
        ErrorKind::Unauthorized
    );
    // upper-case hex is still the same signature
    let upper = format!("sha256={}", good["sha256=".len()..].to_uppercase());
    let inbound: Inbound = channel()
        .call(OP_INBOUND, &webhook(Some(upper), body))
        .expect("inbound");
    assert_eq!(inbound.messages.len(), 1);
}

#[test]
fn malformed_bodies_are_bad_requests() {
    for body in [
        "",
        "not json",
        "[]",
        r#"{"entry": []}"#,
        r#"{"object": "page", "entry": []}"#,
        r#"{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"id": "wamid.X", "type": "text"}]}}]}]}"#,
    ] {
        let error = inbound_error(Some(sign(APP_SECRET, body)), body);
        assert_eq!(error.kind, ErrorKind::BadRequest, "{body:?}");
    }
}

#[test]
fn bad_configs_are_refused_naming_the_field() {
    let refused = |config: Value| {
        let error = plugin_error(Instance::new(baton_plugin_vtable_v1, &config));
        assert_eq!(error.kind, ErrorKind::Config, "{config}");
        error.message
    };
    for field in [
        "verify_token",
        "app_secret",
        "access_token",
        "phone_number_id",
    ] {
        let mut missing = config();
        missing.as_object_mut().expect("object").remove(field);
        assert!(refused(missing).contains(field), "missing {field}");
        let mut empty = config();
        empty[field] = json!("");
        assert!(refused(empty).starts_with(field), "empty {field}");
    }
    let with = |field: &str, value: &str| {
        let mut config = config();
        config[field] = json!(value);
        config
    };
    assert!(refused(with("access_token", "EAA\r\nX-Evil: 1")).starts_with("access_token"));
    assert!(refused(with("phone_number_id", "+1 555 078 3881")).starts_with("phone_number_id"));
    assert!(refused(with("phone_number_id", "1/../2")).starts_with("phone_number_id"));
    assert!(refused(with("api_base_url", "graph.facebook.com")).starts_with("api_base_url"));
    assert!(refused(with("webhook_secret", "x")).contains("webhook_secret"));
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
fn outbound_is_a_cloud_api_text_message() {
    let request = outbound(config(), CUSTOMER, "Yes, in blue and in red.");
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.url,
        format!("https://graph.facebook.com/v21.0/{PHONE_NUMBER_ID}/messages")
    );
    assert_eq!(
        request.headers,
        vec![
            ("authorization".to_owned(), format!("Bearer {ACCESS_TOKEN}")),
            ("content-type".to_owned(), "application/json".to_owned()),
        ]
    );
    let body: Value = serde_json::from_str(&request.body).expect("json body");
    assert_eq!(
        body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": CUSTOMER,
            "type": "text",
            "text": { "preview_url": false, "body": "Yes, in blue and in red." }
        })
    );
}

#[test]
fn the_api_base_url_is_configurable_and_trimmed() {
    let mut config = config();
    config["api_base_url"] = json!("http://127.0.0.1:9000/v22.0/");
    let request = outbound(config, CUSTOMER, "hi");
    assert_eq!(
        request.url,
        format!("http://127.0.0.1:9000/v22.0/{PHONE_NUMBER_ID}/messages")
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

fn graph_error(code: i64, message: &str) -> Value {
    json!({
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": { "messaging_product": "whatsapp", "details": "see the error code" },
            "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"
        }
    })
}

fn failed_reason(delivery: Delivery) -> String {
    match delivery {
        Delivery::Failed { reason } => reason,
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn deliveries_read_graph_answers() {
    let sent = json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": CUSTOMER, "wa_id": CUSTOMER }],
        "messages": [{ "id": "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA" }]
    });
    assert_eq!(delivery(200, &[], sent), Delivery::Sent);

    let limited = graph_error(130429, "(#130429) Rate limit hit");
    match delivery(429, &[("Retry-After", "30")], limited.clone()) {
        Delivery::Retry {
            after_seconds,
            reason,
        } => {
            assert_eq!(after_seconds, Some(30));
            assert!(reason.contains("Rate limit hit"), "{reason}");
        }
        other => panic!("expected Retry, got {other:?}"),
    }
    // rate limits reported with a 400 are still retried
    for code in [130429, 131048, 131056] {
        assert!(
            matches!(
                delivery(400, &[], graph_error(code, "(#...) rate limit")),
                Delivery::Retry { .. }
            ),
            "{code}"
        );
    }
    assert!(matches!(
        delivery(500, &[], graph_error(1, "An unknown error occurred")),
        Delivery::Retry {
            after_seconds: None,
            ..
        }
    ));
    assert!(matches!(
        delivery(503, &[("retry-after", "5")], Value::Null),
        Delivery::Retry {
            after_seconds: Some(5),
            ..
        }
    ));
    assert!(matches!(
        delivery(0, &[], Value::Null),
        Delivery::Retry { .. }
    ));

    let reason = failed_reason(delivery(
        401,
        &[],
        graph_error(190, "Error validating access token: Session has expired"),
    ));
    assert!(reason.contains("Session has expired"), "{reason}");
    let reason = failed_reason(delivery(
        400,
        &[],
        graph_error(131026, "Message undeliverable"),
    ));
    assert!(reason.contains("Message undeliverable"), "{reason}");
    assert!(reason.contains("131026"), "{reason}");
    // a 4xx that is not Graph's JSON still fails, with the body as the reason
    assert!(failed_reason(delivery(404, &[], json!("no such path"))).contains("no such path"));
}
