//! The messages sent to the model: instructions with the retrieved passages, then the
//! whole transcript as chat turns, then the visitor's question.

use baton_engine::model::{Author, Message};

use super::wire::{ChatMessage, HANDOFF_TOOL};
use crate::Retrieved;

const INSTRUCTIONS: &str = "You are the customer agent in a business's support chat. \
Answer the visitor's latest message using only the knowledge-base passages below and the \
conversation so far. Answer in the visitor's language, in a few short sentences, as plain \
text. Never invent facts, prices, dates or policies that the passages do not state. \
If the passages do not answer the question, or the visitor needs a person (they ask for \
one, they are upset, or they need something only staff can do), do not answer: call the \
`handoff` tool with a short reason. Earlier assistant messages that start with \
\"[Staff ...]\" were written by human staff members of the business, and those that start \
with \"[System]\" are automatic notices; you are the assistant otherwise.";

/// The chat messages for `question`, given the `transcript` before it and the passages.
pub(crate) fn messages(
    question: &str,
    transcript: &[Message],
    passages: &[Retrieved],
) -> Vec<ChatMessage> {
    let mut system = format!("{INSTRUCTIONS}\n\nKnowledge-base passages:\n");
    if passages.is_empty() {
        system.push_str(&format!(
            "(none matched the question: call `{HANDOFF_TOOL}` unless the conversation \
             itself answers it)\n"
        ));
    }
    for (i, passage) in passages.iter().enumerate() {
        system.push_str(&format!(
            "\n[{}] source: {}\n{}\n",
            i + 1,
            passage.source,
            passage.text.trim()
        ));
    }
    let mut out = vec![ChatMessage {
        role: "system",
        content: system,
    }];
    for message in transcript {
        let (role, content) = match message.author {
            Author::Visitor => ("user", message.text.clone()),
            Author::Agent => ("assistant", message.text.clone()),
            Author::User => {
                let who = message
                    .author_user_id
                    .map_or_else(String::new, |id| format!(" {}", id.0));
                ("assistant", format!("[Staff{who}] {}", message.text))
            }
            Author::System => ("assistant", format!("[System] {}", message.text)),
        };
        push(&mut out, role, content);
    }
    push(&mut out, "user", question.to_owned());
    out
}

/// Appends a turn, joining it to the previous one of the same role: many chat templates
/// (llama.cpp's among them) refuse two user or two assistant turns in a row, and a
/// staff reply often follows a system notice.
fn push(out: &mut Vec<ChatMessage>, role: &'static str, content: String) {
    match out.last_mut() {
        Some(last) if last.role == role && role != "system" => {
            last.content.push_str("\n\n");
            last.content.push_str(&content);
        }
        _ => out.push(ChatMessage { role, content }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::ids::{ConversationId, MessageId, UserId};
    use chrono::Utc;

    fn message(author: Author, user: Option<i64>, text: &str) -> Message {
        Message {
            id: MessageId(1),
            conversation_id: ConversationId(1),
            author,
            author_user_id: user.map(UserId),
            text: text.into(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn passages_and_every_author_reach_the_model_labelled() {
        let transcript = vec![
            message(Author::Visitor, None, "refund please"),
            message(Author::System, None, "A teammate is joining."),
            message(Author::User, Some(2), "Ann here, refund sent."),
            message(Author::System, None, "Back to the assistant."),
            message(Author::Visitor, None, "thanks"),
            message(Author::Agent, None, "You're welcome!"),
        ];
        let passages = vec![Retrieved {
            source: "shipping.md#Times".into(),
            text: "Orders ship within 2 days.".into(),
            score: 1.5,
        }];
        let sent = messages("when does it ship?", &transcript, &passages);
        let roles: Vec<&str> = sent.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            ["system", "user", "assistant", "user", "assistant", "user"]
        );
        assert!(
            sent[0]
                .content
                .contains("[1] source: shipping.md#Times\nOrders ship")
        );
        assert_eq!(
            sent[2].content,
            "[System] A teammate is joining.\n\n[Staff 2] Ann here, refund sent.\n\n\
             [System] Back to the assistant."
        );
        assert_eq!(sent[5].content, "when does it ship?");
    }

    #[test]
    fn no_passage_is_said_plainly() {
        let sent = messages("hello?", &[], &[]);
        assert!(
            sent[0].content.contains("(none matched"),
            "{}",
            sent[0].content
        );
        assert_eq!(sent.len(), 2);
    }
}
