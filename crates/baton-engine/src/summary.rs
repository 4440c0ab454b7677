//! The handoff summary for the human who takes over (B6): who, why, and the transcript.

use std::fmt::Write;

use crate::model::{Conversation, Message};

/// Lines of transcript kept in the summary; the full transcript is one click away.
const TRANSCRIPT_LINES: usize = 10;

/// `text` is the visitor message that handed off, not stored yet; `None` when no message
/// did (the visitor chose a person).
pub(crate) fn summarize(
    conversation: &Conversation,
    transcript: &[Message],
    text: Option<&str>,
    explanation: &str,
) -> String {
    let who = match (&conversation.visitor.name, &conversation.visitor.email) {
        (Some(name), Some(email)) => format!("{name} <{email}>"),
        (Some(name), None) => name.clone(),
        (None, Some(email)) => email.clone(),
        (None, None) => "Anonymous visitor".into(),
    };
    let mut summary = format!(
        "{who} on {} (conversation {}). {explanation}\nTranscript:",
        conversation.channel, conversation.id
    );
    let start = transcript.len().saturating_sub(TRANSCRIPT_LINES);
    for message in &transcript[start..] {
        let _ = write!(summary, "\n{}: {}", message.author.as_str(), message.text);
    }
    if let Some(text) = text {
        let _ = write!(summary, "\nvisitor: {text}");
    }
    summary
}
