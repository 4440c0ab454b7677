//! Plugin log lines reach the host's `tracing`, at their level, with `plugin = <entry
//! name>`. Each check runs in a child process, which owns its global subscriber.

mod common;

#[test]
fn plugin_logs_arrive_in_tracing_with_the_entry_name() {
    common::child_passes("child::logs");
}

mod child {
    use baton_plugin_host::load;
    use serde_json::json;

    use crate::common::{Logs, is_child, spec};

    #[test]
    fn logs() {
        if !is_child() {
            return;
        }
        let logs = Logs::install();
        let config = json!({ "patterns": ["refund", "money back"] });
        load(&spec("regex-a", "matcher-regex", config.clone())).expect("loads");
        // The same library under a second name logs under that name.
        load(&spec(
            "regex-b",
            "matcher-regex",
            json!({ "patterns": ["x+y"] }),
        ))
        .expect("loads");
        load(&spec("refuses", "fixture-init-fails", json!({}))).expect_err("refuses");

        let line = |plugin: &str| {
            let events = logs.of(plugin);
            assert_eq!(events.len(), 1, "{plugin}: {events:?}");
            let event = &events[0];
            (
                event["level"].as_str().unwrap_or_default().to_owned(),
                event["fields"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        };
        assert_eq!(
            line("regex-a"),
            ("INFO".into(), "2 pattern(s) compiled".into())
        );
        assert_eq!(
            line("regex-b"),
            ("INFO".into(), "1 pattern(s) compiled".into())
        );
        assert_eq!(line("refuses"), ("WARN".into(), "refusing to start".into()));
    }
}
