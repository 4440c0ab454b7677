//! A shipped channel plugin driven the way the host drives it: the plugin crate is linked
//! in as an rlib and its vtable handed to `baton_plugin_host::load_linked`, so every call
//! crosses the real ABI (`init`, `call`, `free_buf`) and the answer is decoded by the
//! host's own code (`Plugin::call_json_blocking`); only the `dlopen` is skipped. A panic
//! inside the plugin reaches libfuzzer-sys's panic hook, which aborts: a crash.

use std::path::PathBuf;

use baton_plugin_abi::PluginVTable;
use baton_plugin_host::{
    Delivery, HttpRequest, HttpResponse, Inbound, OutboundMessage, OutboundRequest, Plugin,
    PluginSpec, WebhookResponse,
};
use baton_plugin_sdk::channel::{OP_DELIVERY, OP_HANDSHAKE, OP_INBOUND, OP_OUTBOUND};

pub fn load(
    name: &str,
    vtable: extern "C" fn() -> *const PluginVTable,
    config: serde_json::Value,
) -> Plugin {
    let spec = PluginSpec {
        name: name.to_owned(),
        path: PathBuf::from(format!("(linked) {name}")),
        config,
    };
    baton_plugin_host::load_linked(&spec, vtable).expect("the fuzz config is valid")
}

/// One provider request or answer, chosen by the first byte: a webhook POST (signed as
/// the provider would when `signed`), a subscription handshake, the answer to an
/// outbound request, or an outbound message whose thread and text came from a webhook.
/// `sign` gives the headers that authenticate `body`.
pub fn drive(plugin: &Plugin, data: &[u8], sign: impl Fn(&str) -> Vec<(String, String)>) {
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest).into_owned();
    // What comes before the first blank line is a header value, the rest the body.
    let (head, body) = text.split_once("\n\n").unwrap_or(("", &text));
    match op % 5 {
        0 | 1 => {
            let headers = if op % 5 == 0 {
                sign(body)
            } else {
                vec![("content-type".to_owned(), head.to_owned())]
            };
            let request = HttpRequest {
                method: "POST".into(),
                query: String::new(),
                headers,
                body: body.to_owned(),
            };
            let _: Result<Inbound, _> = plugin.call_json_blocking(OP_INBOUND, &request);
        }
        2 => {
            let request = HttpRequest {
                method: "GET".into(),
                query: text.clone(),
                headers: Vec::new(),
                body: String::new(),
            };
            let _: Result<WebhookResponse, _> = plugin.call_json_blocking(OP_HANDSHAKE, &request);
        }
        3 => {
            let status = rest
                .get(..2)
                .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]) % 700);
            let response = HttpResponse {
                status,
                headers: vec![("retry-after".to_owned(), head.to_owned())],
                body: body.to_owned(),
            };
            let _: Result<Delivery, _> = plugin.call_json_blocking(OP_DELIVERY, &response);
        }
        _ => {
            let message = OutboundMessage {
                thread: head.to_owned(),
                text: body.to_owned(),
                in_reply_to: None,
            };
            let _: Result<OutboundRequest, _> = plugin.call_json_blocking(OP_OUTBOUND, &message);
        }
    }
}
