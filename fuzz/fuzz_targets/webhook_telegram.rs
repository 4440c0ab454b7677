//! Telegram webhooks, handshakes and Bot API answers through the shipped plugin, as the
//! host sees it (see `common/channel.rs`).
#![no_main]

use std::sync::LazyLock;

use baton_plugin_host::Plugin;
use libfuzzer_sys::fuzz_target;

#[path = "common/channel.rs"]
mod channel;

const SECRET: &str = "fuzz-secret";

static PLUGIN: LazyLock<Plugin> = LazyLock::new(|| {
    let vtable = channel_telegram::baton_plugin_vtable_v1;
    let config = serde_json::json!({ "bot_token": "123:fuzz", "secret_token": SECRET });
    channel::load("telegram", vtable, config)
});

fuzz_target!(|data: &[u8]| {
    channel::drive(&PLUGIN, data, |_body| {
        vec![(
            channel_telegram::SECRET_HEADER.to_owned(),
            SECRET.to_owned(),
        )]
    });
});
