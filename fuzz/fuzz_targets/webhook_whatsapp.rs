//! WhatsApp Cloud API webhooks, handshakes and Graph API answers through the shipped
//! plugin, as the host sees it (see `common/channel.rs`). Webhook bodies are signed with
//! the app secret, so that the parser behind the signature check is reached.
#![no_main]

use std::sync::LazyLock;

use baton_plugin_host::Plugin;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

#[path = "common/channel.rs"]
mod channel;

const APP_SECRET: &str = "fuzz-app-secret";

static PLUGIN: LazyLock<Plugin> = LazyLock::new(|| {
    let vtable = channel_whatsapp::baton_plugin_vtable_v1;
    let config = serde_json::json!({
        "verify_token": "fuzz-verify",
        "app_secret": APP_SECRET,
        "access_token": "fuzz-access",
        "phone_number_id": "1234",
    });
    channel::load("whatsapp", vtable, config)
});

fuzz_target!(|data: &[u8]| {
    channel::drive(&PLUGIN, data, |body| {
        let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).expect("any key");
        mac.update(body.as_bytes());
        let signature = hex::encode(mac.finalize().into_bytes());
        vec![(
            "x-hub-signature-256".to_owned(),
            format!("sha256={signature}"),
        )]
    });
});
