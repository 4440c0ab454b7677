//! The OpenAI chat completions wire format, as much of it as we use.
//!
//! Responses are read leniently: servers (llama.cpp, vLLM, Ollama, hosted APIs) differ
//! in what they add and omit, so every field has a default, unknown fields are ignored,
//! `content` may be null beside tool calls, and a tool call's `arguments` may be the
//! JSON string the specification says or, as some servers send, an object.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The one tool the model may call instead of answering.
pub(crate) const HANDOFF_TOOL: &str = "handoff";

#[derive(Debug, Serialize)]
pub(crate) struct ChatRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: Vec<ChatMessage>,
    pub(crate) tools: Value,
    pub(crate) tool_choice: &'static str,
    pub(crate) stream: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ChatMessage {
    pub(crate) role: &'static str,
    pub(crate) content: String,
}

/// The `tools` array: `handoff(reason)`.
pub(crate) fn tools() -> Value {
    json!([{
        "type": "function",
        "function": {
            "name": HANDOFF_TOOL,
            "description": "Hand the conversation to a human colleague. Call it instead of \
                answering when the passages do not answer the visitor's question, or when \
                the visitor needs a person.",
            "parameters": {
                "type": "object",
                "properties": {
                    "reason": {
                        "type": "string",
                        "description": "Why a person should take over, in one short sentence."
                    }
                },
                "required": ["reason"]
            }
        }
    }])
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ChatResponse {
    pub(crate) choices: Vec<Choice>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Choice {
    pub(crate) message: Option<AssistantMessage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AssistantMessage {
    pub(crate) content: Option<String>,
    /// `null`, absent or a list.
    pub(crate) tool_calls: Option<Vec<ToolCall>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ToolCall {
    pub(crate) function: Option<FunctionCall>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct FunctionCall {
    pub(crate) name: Option<String>,
    /// A JSON string per the specification; an object from some servers.
    pub(crate) arguments: Value,
}

impl FunctionCall {
    /// The arguments as a JSON object, or why they are not one.
    pub(crate) fn arguments(&self) -> Result<serde_json::Map<String, Value>, String> {
        let value = match &self.arguments {
            Value::String(text) => serde_json::from_str::<Value>(text)
                .map_err(|e| format!("arguments are not JSON ({e}): {}", clip(text, 200)))?,
            Value::Null => return Err("no arguments".into()),
            other => other.clone(),
        };
        match value {
            Value::Object(map) => Ok(map),
            other => Err(format!(
                "arguments are not an object: {}",
                clip(&other.to_string(), 200)
            )),
        }
    }
}

/// At most `max` characters of `text`, marked when cut: model output and error bodies
/// end up in explanations and logs.
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
