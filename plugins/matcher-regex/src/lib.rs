//! Custom handoff triggers written as regular expressions (B2).
//!
//! Config: `patterns = ["..."]` and optionally `case_insensitive` (default `true`).
//! The first match in the message wins (earliest start; on a tie, the pattern listed
//! first). Bounded against pathological patterns: the `regex` crate matches in linear
//! time (no backtracking), and compiled programs are capped in size, patterns in length
//! and in number.

use baton_plugin_sdk::{FindInput, Hit, Host, PluginError, TriggerMatcher};
use regex::{Regex, RegexBuilder};
use serde::Deserialize;

/// Most patterns one entry may hold.
pub const MAX_PATTERNS: usize = 256;
/// Longest pattern source, in bytes.
pub const MAX_PATTERN_BYTES: usize = 1024;
/// Cap on one compiled pattern (and on its lazy DFA cache).
const COMPILED_LIMIT: usize = 1 << 20;
/// Deepest nesting of groups and repetitions.
const NEST_LIMIT: u32 = 32;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub patterns: Vec<String>,
    #[serde(default = "yes")]
    pub case_insensitive: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug)]
pub struct RegexMatcher {
    patterns: Vec<Regex>,
}

impl TriggerMatcher for RegexMatcher {
    type Config = Config;

    fn new(config: Config, host: Host) -> Result<Self, PluginError> {
        if config.patterns.is_empty() {
            return Err(PluginError::config("patterns: give at least one pattern"));
        }
        if config.patterns.len() > MAX_PATTERNS {
            return Err(PluginError::config(format!(
                "patterns: at most {MAX_PATTERNS} patterns, got {}",
                config.patterns.len()
            )));
        }
        let mut patterns = Vec::with_capacity(config.patterns.len());
        for (i, source) in config.patterns.iter().enumerate() {
            if source.len() > MAX_PATTERN_BYTES {
                return Err(PluginError::config(format!(
                    "patterns[{i}]: longer than {MAX_PATTERN_BYTES} bytes"
                )));
            }
            if source.is_empty() {
                return Err(PluginError::config(format!("patterns[{i}]: empty")));
            }
            let regex = RegexBuilder::new(source)
                .case_insensitive(config.case_insensitive)
                .size_limit(COMPILED_LIMIT)
                .dfa_size_limit(COMPILED_LIMIT)
                .nest_limit(NEST_LIMIT)
                .build()
                .map_err(|error| PluginError::config(format!("patterns[{i}]: {error}")))?;
            if regex.is_match("") {
                return Err(PluginError::config(format!(
                    "patterns[{i}]: matches the empty message, so it would hand off everything"
                )));
            }
            patterns.push(regex);
        }
        host.info(&format!("{} pattern(s) compiled", patterns.len()));
        Ok(RegexMatcher { patterns })
    }

    fn find(&self, input: &FindInput) -> Result<Option<Hit>, PluginError> {
        Ok(self
            .patterns
            .iter()
            .filter_map(|regex| regex.find(&input.text))
            .min_by_key(|m| m.start())
            .map(|m| Hit {
                matched: m.as_str().to_owned(),
                start: m.start(),
                end: m.end(),
            }))
    }
}

baton_plugin_sdk::declare_matcher_plugin!(RegexMatcher);

#[cfg(test)]
mod tests {
    use baton_plugin_sdk::matcher::OP_FIND;
    use baton_plugin_sdk::testing::{CallError, Instance};
    use baton_plugin_sdk::{ErrorKind, matcher::FindOutput};
    use serde_json::json;

    use super::*;

    fn instance(config: serde_json::Value) -> Result<Instance, CallError> {
        Instance::new(baton_plugin_vtable_v1, &config)
    }

    fn check(patterns: &[&str], text: &str, expect: Option<(&str, usize, usize)>) {
        let matcher = instance(json!({ "patterns": patterns })).expect("init");
        let out: FindOutput = matcher
            .call(OP_FIND, &json!({ "text": text }))
            .expect("find");
        let got = out.hit.map(|h| (h.matched, h.start, h.end));
        let expect = expect.map(|(m, s, e)| (m.to_owned(), s, e));
        assert_eq!(got, expect, "{patterns:?} on {text:?}");
    }

    #[test]
    fn finds_the_earliest_match_through_the_abi() {
        check(
            &[r"\border\s*#?\d{5}\b"],
            "Where is order #12345?",
            Some(("order #12345", 9, 21)),
        );
        check(
            &[r"refund", r"money back"],
            "I want my money back, a refund",
            Some(("money back", 10, 20)),
        );
        check(&[r"REFUND"], "refund please", Some(("refund", 0, 6)));
        check(&[r"\d{4}-\d{4}"], "no digits here", None);
        // offsets are bytes, on a char boundary, after non-ASCII text
        check(
            &[r"rimborso"],
            "Perché il rimborso?",
            Some(("rimborso", 11, 19)),
        );
    }

    #[test]
    fn bad_configs_are_refused_naming_the_pattern() {
        let kind_of = |config| match instance(config) {
            Err(CallError::Plugin(e)) => (e.kind, e.message),
            other => panic!("expected a config error, got {other:?}"),
        };
        let (kind, message) = kind_of(json!({ "patterns": ["ok", "(unclosed"] }));
        assert_eq!(kind, ErrorKind::Config);
        assert!(message.starts_with("patterns[1]"), "{message}");
        assert!(
            kind_of(json!({ "patterns": [] }))
                .1
                .contains("at least one")
        );
        assert!(
            kind_of(json!({ "patterns": ["a*"] }))
                .1
                .contains("empty message")
        );
        assert!(
            kind_of(json!({ "patterns": ["x".repeat(2000)] }))
                .1
                .contains("longer")
        );
        assert!(kind_of(json!({})).1.contains("patterns"));
        // a pattern whose compiled program would be huge is refused, not built
        assert!(
            kind_of(json!({ "patterns": [r"\w{1000}\w{1000}\w{1000}"] }))
                .1
                .contains("patterns[0]")
        );
        assert!(kind_of(json!({ "patterns": ["((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))"] })).1.contains("patterns[0]"));
    }

    #[test]
    fn case_sensitivity_is_configurable() {
        let matcher =
            instance(json!({ "patterns": ["Refund"], "case_insensitive": false })).expect("init");
        let out: FindOutput = matcher
            .call(OP_FIND, &json!({ "text": "refund" }))
            .expect("find");
        assert_eq!(out.hit, None);
    }
}
