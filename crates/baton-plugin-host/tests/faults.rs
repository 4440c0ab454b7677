//! Fault injection: each broken fixture plugin is loaded (or called) in a child process,
//! beside a healthy matcher-regex instance that must keep answering. The outer tests run
//! the children and read their output; the inner tests, in `mod child`, do the work and
//! return at once unless they run as a child.

mod common;

use common::{child_passes, run_child};

/// Runs `child::<name>` and returns its output, requiring it to pass.
fn scenario(name: &str) -> String {
    child_passes(&format!("child::{name}"))
}

#[test]
fn a_file_that_cannot_be_opened_is_refused_naming_it() {
    scenario("open");
}

#[test]
fn a_library_without_the_vtable_symbol_is_refused() {
    scenario("missing_symbol");
}

#[test]
fn a_library_without_the_baton_magic_is_not_a_plugin() {
    scenario("not_a_plugin");
}

#[test]
fn a_plugin_of_another_abi_is_refused_with_both_versions() {
    scenario("abi_mismatch");
}

#[test]
fn a_vtable_smaller_than_the_hosts_is_refused() {
    scenario("vtable_too_small");
}

#[test]
fn an_unknown_kind_is_refused() {
    scenario("unknown_kind");
}

#[test]
fn a_failing_init_is_reported_with_the_plugins_message() {
    scenario("init_failed");
}

#[test]
fn load_all_skips_bad_entries_and_duplicate_names() {
    scenario("load_all_entries");
}

#[test]
fn panics_are_survived_and_the_third_disables_the_plugin() {
    let output = scenario("panics");
    // The plugin's own panic hook prints each panic: three reached the plugin, the calls
    // after it was disabled did not.
    assert_eq!(
        output
            .matches("boom: the fixture panics on purpose")
            .count(),
        3,
        "{output}"
    );
}

#[test]
fn output_that_is_not_json_is_invalid() {
    scenario("bad_json");
}

#[test]
fn a_slow_call_times_out_and_the_host_moves_on() {
    scenario("slow");
}

#[test]
fn a_child_that_fails_is_reported_as_failed() {
    // The harness itself: a failing inner test must not read as a pass.
    let child = run_child("child::fails_on_purpose");
    assert!(!child.success, "{}", child.output);
}

mod child {
    use std::time::{Duration, Instant};

    use baton_plugin_host::{
        CallError, Channel, HealthState, Hit, Kind, LoadError, Matcher, PluginSpec, load, load_all,
    };
    use baton_plugin_sdk::{ErrorKind, SDK_VERSION, abi};
    use serde_json::json;

    use crate::common::{Logs, assert_healthy, cdylib, healthy, is_child, spec};

    /// Loads `spec`, which must fail, and checks that the message names its file and
    /// entry; the healthy matcher answers before and after.
    fn refused(spec: &PluginSpec) -> LoadError {
        let good = healthy();
        assert_healthy(&good);
        let error = load(spec).expect_err("the broken plugin must not load");
        let message = error.to_string();
        eprintln!("refused: {message}");
        assert!(
            message.contains(&spec.path.display().to_string()),
            "the message names the file: {message}"
        );
        assert!(
            message.contains(&format!("{:?}", spec.name)),
            "the message names the entry: {message}"
        );
        assert_eq!(error.name(), spec.name);
        assert_eq!(error.path(), spec.path);
        assert_healthy(&good);
        error
    }

    #[test]
    fn open() {
        if !is_child() {
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let junk = dir.path().join("libjunk.so");
        // Bytes that are no ELF (nor any other object format).
        let bytes: Vec<u8> = (0..4096_u32).map(|i| (i * 7919 % 251) as u8).collect();
        std::fs::write(&junk, bytes).expect("write junk");
        let spec = PluginSpec {
            name: "junk".into(),
            path: junk,
            config: json!({}),
        };
        let error = refused(&spec);
        assert!(matches!(error, LoadError::Open { .. }), "{error:?}");

        let missing = PluginSpec {
            name: "missing".into(),
            path: dir.path().join("libnot-there.so"),
            config: json!({}),
        };
        let error = refused(&missing);
        assert!(matches!(error, LoadError::Open { .. }), "{error:?}");
    }

    #[test]
    fn missing_symbol() {
        if !is_child() {
            return;
        }
        let error = refused(&spec("no-vtable", "fixture-missing-symbol", json!({})));
        let LoadError::MissingSymbol { symbol, .. } = &error else {
            panic!("expected MissingSymbol, got {error:?}");
        };
        assert_eq!(*symbol, abi::VTABLE_SYMBOL);
        assert!(error.to_string().contains(abi::VTABLE_SYMBOL), "{error}");
    }

    #[test]
    fn not_a_plugin() {
        if !is_child() {
            return;
        }
        let error = refused(&spec("stranger", "fixture-not-baton", json!({})));
        assert!(
            matches!(
                error,
                LoadError::NotAPlugin {
                    magic: 0xDEAD_BEEF,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("0xdeadbeef"), "{error}");
    }

    #[test]
    fn abi_mismatch() {
        if !is_child() {
            return;
        }
        let error = refused(&spec("future", "fixture-wrong-abi", json!({})));
        let LoadError::AbiMismatch {
            plugin_abi,
            host_abi,
            sdk_version,
            ..
        } = &error
        else {
            panic!("expected AbiMismatch, got {error:?}");
        };
        assert_eq!((*plugin_abi, *host_abi), (999, abi::ABI_VERSION));
        assert_eq!(*sdk_version, SDK_VERSION);
        let message = error.to_string();
        assert!(message.contains("ABI 999"), "{message}");
        assert!(
            message.contains(&format!(
                "rebuild it against baton-plugin-sdk {SDK_VERSION}"
            )),
            "{message}"
        );
    }

    #[test]
    fn vtable_too_small() {
        if !is_child() {
            return;
        }
        let error = refused(&spec("old", "fixture-small-vtable", json!({})));
        let LoadError::VtableTooSmall { size, needed, .. } = error else {
            panic!("expected VtableTooSmall, got {error:?}");
        };
        assert_eq!(size, 16);
        assert_eq!(needed, size_of::<abi::PluginVTable>());
    }

    #[test]
    fn unknown_kind() {
        if !is_child() {
            return;
        }
        let error = refused(&spec("odd", "fixture-unknown-kind", json!({})));
        assert!(
            matches!(error, LoadError::UnknownKind { kind: 7, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn init_failed() {
        if !is_child() {
            return;
        }
        let error = refused(&spec("refuses", "fixture-init-fails", json!({})));
        let LoadError::InitFailed { message, .. } = &error else {
            panic!("expected InitFailed, got {error:?}");
        };
        assert!(message.contains("refuses every config"), "{message}");

        // A real plugin refusing a bad config reads the same way.
        let error = refused(&spec(
            "regex-bad",
            "matcher-regex",
            json!({ "patterns": ["ok", "(unclosed"] }),
        ));
        let LoadError::InitFailed { message, .. } = &error else {
            panic!("expected InitFailed, got {error:?}");
        };
        assert!(message.starts_with("patterns[1]"), "{message}");
    }

    #[test]
    fn load_all_entries() {
        if !is_child() {
            return;
        }
        let regex = |name: &str, pattern: &str| {
            spec(name, "matcher-regex", json!({ "patterns": [pattern] }))
        };
        let specs = [
            regex("refunds", "refund"),
            // the same file again, another entry with its own config and instance
            regex("money", "money back"),
            spec("future", "fixture-wrong-abi", json!({})),
            regex("refunds", "anything"),
            spec(
                "healthy-after",
                "matcher-regex",
                json!({ "patterns": ["refund"] }),
            ),
        ];
        let (plugins, errors) = load_all(&specs);
        let names: Vec<&str> = plugins.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["refunds", "money", "healthy-after"]);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(matches!(errors[0], LoadError::AbiMismatch { .. }));
        let LoadError::Duplicate { name, path } = &errors[1] else {
            panic!("expected Duplicate, got {:?}", errors[1]);
        };
        assert_eq!((name.as_str(), path), ("refunds", &specs[3].path));
        assert!(errors[1].to_string().contains(&path.display().to_string()));

        let matcher = |i: usize| Matcher::new(plugins[i].clone()).expect("a matcher");
        let text = "a refund, or my money back";
        assert_eq!(
            matcher(0)
                .find_blocking(text, None)
                .expect("find")
                .map(|h| h.matched),
            Some("refund".into())
        );
        assert_eq!(
            matcher(1)
                .find_blocking(text, None)
                .expect("find")
                .map(|h| h.matched),
            Some("money back".into())
        );
        assert_healthy(&matcher(2));

        let plugin = &plugins[0];
        assert_eq!(plugin.kind(), Kind::TriggerMatcher);
        assert_eq!(plugin.kind().as_str(), "trigger_matcher");
        assert_eq!(plugin.crate_name(), "matcher-regex");
        assert_eq!(plugin.sdk_version(), SDK_VERSION);
        assert_eq!(plugin.abi_version(), abi::ABI_VERSION);
        assert_eq!(plugin.path(), specs[0].path);
        assert!(Channel::new(plugin.clone()).is_none());
        let health = plugin.health();
        assert_eq!(health.state, HealthState::Healthy);
        assert_eq!((health.calls, health.errors, health.panics), (1, 0, 0));

        // The raw call, and a clean plugin error, which is an error but not a panic.
        let raw = plugin
            .call("find", br#"{"text":"refund"}"#)
            .expect("raw call");
        let raw: serde_json::Value = serde_json::from_slice(&raw).expect("JSON");
        assert_eq!(raw["hit"]["end"], 6);
        let Err(CallError::Plugin(error)) = plugin.call("sing", b"{}") else {
            panic!("an unknown operation is the plugin's own error");
        };
        assert_eq!(error.kind, ErrorKind::UnknownOperation);
        let Err(CallError::Plugin(error)) = plugin.call("find", b"[1,2]") else {
            panic!("malformed input is the plugin's own error");
        };
        assert_eq!(error.kind, ErrorKind::BadRequest);
        let health = plugin.health();
        assert_eq!((health.calls, health.errors, health.panics), (4, 2, 0));
    }

    #[test]
    fn panics() {
        if !is_child() {
            return;
        }
        let logs = Logs::install();
        let good = healthy();
        let plugin = load(&spec("panicky", "fixture-panics", json!({}))).expect("loads");
        let panicky = Matcher::new(plugin.clone()).expect("a matcher");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let timeout = Duration::from_secs(5);

        // It answers normally until it panics.
        assert_eq!(
            panicky.find_blocking("a human please", None).expect("find"),
            Some(Hit {
                matched: "human".into(),
                start: 2,
                end: 7
            })
        );
        for i in 1..=3 {
            // Two panics on this thread, the third through the async path.
            let outcome = if i < 3 {
                panicky.find_blocking("boom", None)
            } else {
                runtime.block_on(panicky.find("boom", None, timeout))
            };
            let Err(CallError::Panic { name, message }) = &outcome else {
                panic!("call {i}: expected a panic, got {outcome:?}");
            };
            assert_eq!(name, "panicky");
            assert!(message.contains("boom"), "{message}");
            // This process, the host, goes on; so does the other plugin.
            assert_healthy(&good);
            let health = plugin.health();
            assert_eq!(health.panics, i);
            assert_eq!(
                matches!(health.state, HealthState::Disabled { .. }),
                i == 3,
                "after {i} panics: {health:?}"
            );
        }

        // Disabled: the plugin is not called again, even with harmless input.
        for outcome in [
            panicky.find_blocking("a human please", None),
            runtime.block_on(panicky.find("boom", None, timeout)),
        ] {
            let Err(CallError::Disabled { name, reason }) = outcome else {
                panic!("expected Disabled, got {outcome:?}");
            };
            assert_eq!(name, "panicky");
            assert!(
                reason.contains("boom"),
                "the reason names the last panic: {reason}"
            );
        }
        let Err(CallError::Disabled { .. }) = plugin.call("find", br#"{"text":"x"}"#) else {
            panic!("the raw call is refused too");
        };
        let health = plugin.health();
        assert_eq!((health.calls, health.errors, health.panics), (4, 0, 3));
        let json = serde_json::to_value(&health).expect("health as JSON");
        assert_eq!(json["state"], "disabled");
        assert!(json["reason"].as_str().is_some_and(|r| r.contains("boom")));
        assert_healthy(&good);

        let disabled: Vec<_> = logs
            .of("panicky")
            .into_iter()
            .filter(|e| e["level"] == "ERROR")
            .collect();
        assert_eq!(
            disabled.len(),
            1,
            "one error log for the disabling: {disabled:?}"
        );
        let text = disabled[0]["fields"]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(text.contains("plugin disabled"), "{text}");
    }

    #[test]
    fn bad_json() {
        if !is_child() {
            return;
        }
        let good = healthy();
        let plugin = load(&spec("garbled", "fixture-bad-json", json!({}))).expect("loads");
        assert_eq!(plugin.crate_name(), "fixture-bad-json");
        let garbled = Matcher::new(plugin.clone()).expect("a matcher");
        let outcome = garbled.find_blocking("hello", None);
        let Err(CallError::InvalidOutput { name, message }) = &outcome else {
            panic!("expected InvalidOutput, got {outcome:?}");
        };
        assert_eq!(name, "garbled");
        assert!(message.contains("this is not JSON"), "{message}");
        assert!(matches!(
            plugin.call("find", b"{}"),
            Err(CallError::InvalidOutput { .. })
        ));
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        assert!(matches!(
            runtime.block_on(garbled.find("hello", None, Duration::from_secs(5))),
            Err(CallError::InvalidOutput { .. })
        ));
        let health = plugin.health();
        assert_eq!((health.calls, health.errors, health.panics), (3, 3, 0));
        assert_eq!(health.state, HealthState::Healthy);
        assert_healthy(&good);
    }

    #[test]
    fn slow() {
        if !is_child() {
            return;
        }
        let good = healthy();
        let plugin = load(&spec("sluggish", "fixture-slow", json!({}))).expect("loads");
        let slow = Matcher::new(plugin.clone()).expect("a matcher");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let limit = Duration::from_millis(200);
        runtime.block_on(async {
            let started = Instant::now();
            let (late, meanwhile) = tokio::join!(
                slow.find("hello", None, limit),
                good.find("I want a refund", None, limit)
            );
            let Err(CallError::Timeout { name, after }) = &late else {
                panic!("expected a timeout, got {late:?}");
            };
            assert_eq!((name.as_str(), *after), ("sluggish", limit));
            assert!(
                started.elapsed() < Duration::from_millis(1500),
                "gave up after {:?}",
                started.elapsed()
            );
            assert_eq!(
                meanwhile
                    .expect("the healthy matcher answers")
                    .map(|h| h.start),
                Some(9)
            );
        });
        let health = plugin.health();
        assert_eq!((health.calls, health.errors, health.panics), (1, 1, 0));
        assert_eq!(
            health.state,
            HealthState::Healthy,
            "one timeout is not a hang"
        );
        // A plugin that keeps hanging is disabled, and is then refused without a call.
        runtime.block_on(async {
            for _ in 1..baton_plugin_host::TIMEOUTS_BEFORE_DISABLED {
                let late = slow.find("hello", None, limit).await;
                assert!(matches!(late, Err(CallError::Timeout { .. })), "{late:?}");
            }
            let refused = slow.find("hello", None, limit).await;
            let Err(CallError::Disabled { reason, .. }) = &refused else {
                panic!("expected disabled after repeated timeouts, got {refused:?}");
            };
            assert!(reason.contains("timed out 5 times in a row"), "{reason}");
        });
        let health = plugin.health();
        assert_eq!((health.calls, health.errors, health.panics), (5, 5, 0));
        assert_healthy(&good);
        // Leave the sleeping calls behind rather than wait for them.
        runtime.shutdown_background();
    }

    #[test]
    fn fails_on_purpose() {
        if !is_child() {
            return;
        }
        assert!(cdylib("matcher-regex").is_file());
        panic!("this inner test fails so that the harness can be seen to notice");
    }
}
