//! Greetings, thanks and closings, as the knowledge base answers them.
//!
//! A message made only of "hi there", "ok thanks", "grazie mille", "vale, gracias",
//! "merci", "vielen Dank"… has no content words, so the knowledge base cannot answer it;
//! reporting "cannot answer" would hand a visitor who just said hello to a human. Such a
//! message gets a short courteous reply in its language instead. Anything else in the
//! message ("hi, where is my order?") makes it a question, which is searched as usual.
//! `KnowledgeBase::without_small_talk` switches this off.
//!
//! The recognizer and the replies live in `baton_core::text` (pure, shared): the policy
//! uses the same one so that small talk never takes the "cannot answer" path whichever
//! answerer is configured. This module only adapts it for the answerer.

use baton_core::text::{SmallTalk, detect_small_talk};

/// Recognises a message that is only small talk: what it is (its `source()` names it)
/// and the reply.
pub(crate) fn recognise(message: &str) -> Option<(SmallTalk, &'static str)> {
    let talk = detect_small_talk(message)?;
    Some((talk, talk.reply()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(message: &str, expected: Option<(&str, &str)>) {
        let got = recognise(message).map(|(kind, reply)| (kind.source(), reply));
        assert_eq!(got, expected, "message: {message:?}");
    }

    #[test]
    fn only_pure_small_talk_is_recognised() {
        let hello = "Hello! How can I help you today?";
        let welcome = "You're welcome! Is there anything else I can help you with?";
        check("hi", Some(("small-talk#greeting", hello)));
        check("hi there", Some(("small-talk#greeting", hello)));
        check("Good morning, team!", Some(("small-talk#greeting", hello)));
        check(
            "Buongiorno",
            Some(("small-talk#greeting", "Ciao! Come posso aiutarti?")),
        );
        check("Thank you so much!", Some(("small-talk#thanks", welcome)));
        check("ok thanks", Some(("small-talk#thanks", welcome)));
        check(
            "ciao, grazie mille",
            Some((
                "small-talk#thanks",
                "Prego! Posso aiutarti in qualcos'altro?",
            )),
        );
        check(
            "vale, gracias",
            Some((
                "small-talk#thanks",
                "¡De nada! ¿Puedo ayudarte en algo más?",
            )),
        );
        check(
            "merci beaucoup",
            Some((
                "small-talk#thanks",
                "Avec plaisir ! Puis-je vous aider pour autre chose ?",
            )),
        );
        check(
            "Danke!",
            Some((
                "small-talk#thanks",
                "Gern geschehen! Kann ich Ihnen sonst noch helfen?",
            )),
        );
        check(
            "perfect, that's all",
            Some(("small-talk#closing", "You're welcome. Have a great day!")),
        );
        check("ok?", None);
        check("", None);
        check("hi, where is my order?", None);
        check("good", None);
    }
}
