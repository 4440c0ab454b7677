//! `load_linked`: a plugin crate linked into the host binary is checked and instantiated
//! like a loaded library, and answers through the same ABI and decoding. The fuzz targets
//! (`fuzz/`) reach the shipped plugins this way.

use std::path::PathBuf;

use baton_plugin_host::{Kind, LoadError, Matcher, PluginSpec, load_linked};

fn spec(config: serde_json::Value) -> PluginSpec {
    PluginSpec {
        name: "linked-regex".into(),
        path: PathBuf::from("(linked)"),
        config,
    }
}

#[test]
fn a_linked_plugin_loads_and_answers_through_the_abi() {
    let vtable = matcher_regex::baton_plugin_vtable_v1;
    let plugin = load_linked(&spec(serde_json::json!({ "patterns": ["refund"] })), vtable)
        .expect("matcher-regex loads");
    assert_eq!(plugin.kind(), Kind::TriggerMatcher);
    assert_eq!(plugin.crate_name(), "matcher-regex");
    let matcher = Matcher::new(plugin).expect("a matcher");
    let hit = matcher
        .find_blocking("I want a REFUND now", Some("chat"))
        .expect("the call succeeds")
        .expect("the pattern matches");
    assert_eq!(hit.matched, "REFUND");
    assert_eq!(matcher.find_blocking("thanks", None).expect("call"), None);
}

#[test]
fn a_linked_plugin_whose_init_refuses_the_config_is_reported() {
    let vtable = matcher_regex::baton_plugin_vtable_v1;
    let error = load_linked(&spec(serde_json::json!({ "patterns": [] })), vtable)
        .expect_err("no patterns is refused");
    assert!(
        matches!(&error, LoadError::InitFailed { message, .. } if message.contains("patterns")),
        "{error:?}"
    );
}
