//! Greetings and thanks.
//!
//! A message made only of "hi", "good morning", "thanks a lot"… has no content words, so
//! the knowledge base cannot answer it; but reporting "cannot answer" would hand a
//! visitor who just said hello to a human (the "cannot answer" trigger). So such a message
//! gets a short friendly reply instead. Anything else in the message ("hi, where is my
//! order?") makes it a question, which is searched as usual; "ok?" is not small talk and
//! cannot be answered. `KnowledgeBase::without_small_talk` switches this off.

/// What a small-talk message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SmallTalk {
    Greeting,
    Thanks,
}

/// The language to reply in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tongue {
    English,
    Italian,
}

const GREETINGS: &[(&str, Tongue)] = &[
    ("hi", Tongue::English),
    ("hello", Tongue::English),
    ("hey", Tongue::English),
    ("hiya", Tongue::English),
    ("morning", Tongue::English),
    ("afternoon", Tongue::English),
    ("evening", Tongue::English),
    ("ciao", Tongue::Italian),
    ("salve", Tongue::Italian),
    ("buongiorno", Tongue::Italian),
    ("buonasera", Tongue::Italian),
    ("buon", Tongue::Italian),
    ("giorno", Tongue::Italian),
    ("pomeriggio", Tongue::Italian),
];

const THANKS: &[(&str, Tongue)] = &[
    ("thanks", Tongue::English),
    ("thank", Tongue::English),
    ("thx", Tongue::English),
    ("cheers", Tongue::English),
    ("grazie", Tongue::Italian),
];

/// Words that may accompany a greeting or thanks without making it a question.
const COMPANIONS: &[&str] = &[
    "good", "there", "you", "all", "everyone", "team", "so", "very", "much", "a", "lot", "again",
    "and", "mille", "tante", "tutti", "e",
];

/// Recognises a message that is only a greeting or only thanks (thanks win when both).
pub(crate) fn recognise(message: &str) -> Option<(SmallTalk, &'static str)> {
    let lowered = message.to_lowercase();
    let words: Vec<&str> = lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut kind = None;
    let mut tongue = Tongue::English;
    for word in &words {
        let lookup = |table: &[(&str, Tongue)]| table.iter().find(|(w, _)| w == word).map(|e| e.1);
        if let Some(t) = lookup(THANKS) {
            kind = Some(SmallTalk::Thanks);
            tongue = t;
        } else if let Some(t) = lookup(GREETINGS) {
            kind = kind.or(Some(SmallTalk::Greeting));
            if kind == Some(SmallTalk::Greeting) {
                tongue = t;
            }
        } else if !COMPANIONS.contains(word) {
            return None;
        }
    }
    let kind = kind?;
    Some((kind, reply(kind, tongue)))
}

fn reply(kind: SmallTalk, tongue: Tongue) -> &'static str {
    match (kind, tongue) {
        (SmallTalk::Greeting, Tongue::English) => "Hello! How can I help you today?",
        (SmallTalk::Greeting, Tongue::Italian) => "Ciao! Come posso aiutarti?",
        (SmallTalk::Thanks, Tongue::English) => {
            "You're welcome! Is there anything else I can help you with?"
        }
        (SmallTalk::Thanks, Tongue::Italian) => "Prego! Posso aiutarti in qualcos'altro?",
    }
}

impl SmallTalk {
    /// The `source` reported with the reply.
    pub(crate) fn source(self) -> &'static str {
        match self {
            SmallTalk::Greeting => "small-talk#greeting",
            SmallTalk::Thanks => "small-talk#thanks",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(message: &str, expected: Option<(SmallTalk, &str)>) {
        assert_eq!(recognise(message), expected, "message: {message:?}");
    }

    #[test]
    fn only_pure_small_talk_is_recognised() {
        let hello = "Hello! How can I help you today?";
        check("hi", Some((SmallTalk::Greeting, hello)));
        check("Good morning, team!", Some((SmallTalk::Greeting, hello)));
        check(
            "Buongiorno",
            Some((SmallTalk::Greeting, "Ciao! Come posso aiutarti?")),
        );
        check(
            "Thank you so much!",
            Some((
                SmallTalk::Thanks,
                "You're welcome! Is there anything else I can help you with?",
            )),
        );
        check(
            "ciao, grazie mille",
            Some((SmallTalk::Thanks, "Prego! Posso aiutarti in qualcos'altro?")),
        );
        check("ok?", None);
        check("", None);
        check("hi, where is my order?", None);
        check("good", None);
    }
}
