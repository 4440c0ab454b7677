//! From the model server's answer to an [`AgentAnswer`]. Pure, so every failure mapping
//! is tested without a server.

use baton_core::decision::AgentAnswer;

use super::wire::{ChatResponse, HANDOFF_TOOL, ToolCall, clip};
use crate::Retrieved;

/// The longest reply passed on to the visitor, in characters: a chat reply, not a page.
pub(crate) const MAX_REPLY_CHARS: usize = 2000;

/// What was asked, for naming it in answers and reasons.
#[derive(Debug)]
pub(crate) struct Asked<'a> {
    pub(crate) model: &'a str,
    pub(crate) passages: &'a [Retrieved],
}

impl Asked<'_> {
    /// `passages: a.md#X, b.md#Y` (or `none`).
    pub(crate) fn passages(&self) -> String {
        if self.passages.is_empty() {
            return "passages: none".into();
        }
        let sources: Vec<&str> = self.passages.iter().map(|p| p.source.as_str()).collect();
        format!("passages: {}", sources.join(", "))
    }

    pub(crate) fn cannot(&self, what: String) -> AgentAnswer {
        AgentAnswer::CannotAnswer {
            reason: format!("model {} {what}; {}", self.model, self.passages()),
        }
    }
}

/// Reads a successful (2xx) response body.
pub(crate) fn interpret(asked: &Asked<'_>, body: &[u8]) -> AgentAnswer {
    let response: ChatResponse = match serde_json::from_slice(body) {
        Ok(response) => response,
        Err(e) => {
            let text = String::from_utf8_lossy(body);
            return asked.cannot(format!(
                "returned malformed JSON ({e}): {}",
                clip(text.trim(), 200)
            ));
        }
    };
    let Some(choice) = response.choices.into_iter().next() else {
        return asked.cannot("returned no choices".into());
    };
    let Some(message) = choice.message else {
        return asked.cannot("returned a choice without a message".into());
    };
    if let Some(call) = message.tool_calls.unwrap_or_default().into_iter().next() {
        return tool_call(asked, call);
    }
    let text = message.content.unwrap_or_default();
    let text = text.trim();
    if text.is_empty() {
        return asked.cannot("returned an empty answer without a tool call".into());
    }
    AgentAnswer::Answered {
        text: crate::answerer::trim_answer(text, MAX_REPLY_CHARS),
        source: format!("model {}; {}", asked.model, asked.passages()),
        score: asked.passages.first().map_or(1.0, |p| p.score),
    }
}

/// The model called a tool instead of answering: `handoff(reason)` is the only one.
fn tool_call(asked: &Asked<'_>, call: ToolCall) -> AgentAnswer {
    let Some(function) = call.function else {
        return asked.cannot("called a tool without a function".into());
    };
    let name = function.name.clone().unwrap_or_default();
    if name != HANDOFF_TOOL {
        return asked.cannot(format!("called an unknown tool \"{}\"", clip(&name, 100)));
    }
    let arguments = match function.arguments() {
        Ok(arguments) => arguments,
        Err(e) => return asked.cannot(format!("called {HANDOFF_TOOL} with bad arguments: {e}")),
    };
    match arguments
        .get("reason")
        .and_then(|r| r.as_str())
        .map(str::trim)
    {
        Some(reason) if !reason.is_empty() => {
            asked.cannot(format!("asked for a person: {}", clip(reason, 300)))
        }
        _ => asked.cannot(format!(
            "called {HANDOFF_TOOL} with bad arguments: no \"reason\" string in {}",
            clip(&serde_json::Value::Object(arguments).to_string(), 200)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn passages() -> Vec<Retrieved> {
        vec![
            Retrieved {
                source: "shipping.md#Times".into(),
                text: "Orders ship in 2 days.".into(),
                score: 2.5,
            },
            Retrieved {
                source: "returns.md".into(),
                text: "Return within 30 days.".into(),
                score: 0.4,
            },
        ]
    }

    fn run(body: &str) -> AgentAnswer {
        let passages = passages();
        interpret(
            &Asked {
                model: "m1",
                passages: &passages,
            },
            body.as_bytes(),
        )
    }

    fn reason(answer: AgentAnswer) -> String {
        match answer {
            AgentAnswer::CannotAnswer { reason } => reason,
            other => panic!("expected cannot answer, got {other:?}"),
        }
    }

    fn message(message: serde_json::Value) -> String {
        json!({"choices": [{"index": 0, "message": message}]}).to_string()
    }

    #[test]
    fn a_plain_answer_names_model_and_passages() {
        let body = json!({
            "id": "x", "object": "chat.completion", "usage": {"total_tokens": 3},
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": null,
                "message": {"role": "assistant", "content": " Two days. ", "refusal": null,
                            "tool_calls": null}}],
            "system_fingerprint": "fp"
        });
        assert_eq!(
            run(&body.to_string()),
            AgentAnswer::Answered {
                text: "Two days.".into(),
                source: "model m1; passages: shipping.md#Times, returns.md".into(),
                score: 2.5,
            }
        );
        let none = interpret(
            &Asked {
                model: "m1",
                passages: &[],
            },
            message(json!({"content": "Hi"})).as_bytes(),
        );
        assert_eq!(
            none,
            AgentAnswer::Answered {
                text: "Hi".into(),
                source: "model m1; passages: none".into(),
                score: 1.0
            }
        );
    }

    #[test]
    fn handoff_is_a_tool_call_with_string_or_object_arguments() {
        let call = |arguments: serde_json::Value| {
            message(
                json!({"role": "assistant", "content": null, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "handoff", "arguments": arguments}}]}),
            )
        };
        let expected = "model m1 asked for a person: not in the passages; passages: \
                        shipping.md#Times, returns.md";
        assert_eq!(
            reason(run(&call(json!("{\"reason\": \"not in the passages\"}")))),
            expected
        );
        assert_eq!(
            reason(run(&call(json!({"reason": "not in the passages"})))),
            expected
        );
    }

    #[test]
    fn every_failure_is_cannot_answer_with_its_reason() {
        let call = |name: &str, arguments: serde_json::Value| {
            message(json!({"content": "", "tool_calls": [{
                "function": {"name": name, "arguments": arguments}}]}))
        };
        let cases = [
            ("not json at all", "returned malformed JSON"),
            ("{\"choices\": [", "returned malformed JSON"),
            ("{\"choices\": []}", "returned no choices"),
            ("{}", "returned no choices"),
            ("{\"choices\": [{}]}", "returned a choice without a message"),
            (
                &message(json!({"content": "   "})),
                "returned an empty answer without a tool call",
            ),
            (
                &message(json!({"content": null, "tool_calls": []})),
                "returned an empty answer without a tool call",
            ),
            (
                &call("handoff", json!("{\"reason\": ")),
                "called handoff with bad arguments: arguments are not JSON",
            ),
            (
                &call("handoff", json!("{\"why\": \"x\"}")),
                "called handoff with bad arguments: no \"reason\" string",
            ),
            (
                &call("handoff", json!("{\"reason\": 42}")),
                "called handoff with bad arguments: no \"reason\" string",
            ),
            (
                &call("handoff", json!("\"just a string\"")),
                "called handoff with bad arguments: arguments are not an object",
            ),
            (
                &call("handoff", serde_json::Value::Null),
                "called handoff with bad arguments: no arguments",
            ),
            (
                &call("refund", json!("{}")),
                "called an unknown tool \"refund\"",
            ),
            (
                &message(json!({"tool_calls": [{"id": "c"}]})),
                "called a tool without a function",
            ),
        ];
        for (body, expected) in cases {
            let reason = reason(run(body));
            assert!(
                reason.starts_with(&format!("model m1 {expected}")),
                "{body}: {reason}"
            );
            assert!(
                reason.ends_with("; passages: shipping.md#Times, returns.md"),
                "{reason}"
            );
        }
    }

    #[test]
    fn long_output_is_clipped() {
        let long = "word ".repeat(1000);
        match run(&message(json!({"content": long}))) {
            AgentAnswer::Answered { text, .. } => {
                assert!(
                    text.chars().count() <= MAX_REPLY_CHARS + 1,
                    "{}",
                    text.len()
                );
            }
            other => panic!("{other:?}"),
        }
        let reason = reason(run(&"x".repeat(5000)));
        assert!(reason.len() < 600, "{}", reason.len());
    }
}
