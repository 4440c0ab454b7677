//! Greetings, thanks and closings (B4): a message made only of "hi there", "ok thanks",
//! "perfetto, grazie mille", "vale, gracias", "merci beaucoup", "vielen Dank", "that's
//! all, bye"… asks nothing, so no answerer can answer it; reporting "cannot answer" would
//! hand a visitor who only said hello or goodbye to a human. Such a message gets a short
//! courteous reply in its language instead.
//!
//! It lives here, pure and shared, rather than in one answerer: the knowledge base
//! replies with it directly, and the policy ([`crate::decision::decide`]) uses it so that
//! *whatever* answerer is configured (a model may answer small talk in its own words, or
//! fail), pure small talk never takes the "cannot answer" path.
//!
//! Recognition is strict: every word must belong to a greeting, thanks, a closing, an
//! acknowledgement ("ok", "perfetto") or the words around them ("so much", "for your
//! help"); anything else ("hi, where is my order?") makes it a question. A message of
//! acknowledgements only counts unless it asks ("ok?" is not small talk).

mod words;

use super::human::Language;
use super::normalize::Tokens;
use words::{ENTRIES, Role};

/// What a small-talk message is, most telling first when several are mixed ("thanks,
/// bye" is a closing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmallTalkKind {
    Greeting,
    Thanks,
    Closing,
    /// "ok", "perfect", "d'accord" alone.
    Acknowledgement,
}

/// A message that is only small talk, and the language to reply in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmallTalk {
    pub kind: SmallTalkKind,
    pub language: Language,
}

impl SmallTalk {
    /// The courteous reply, in the message's language.
    pub fn reply(self) -> &'static str {
        use Language::{English, French, German, Italian, Spanish};
        use SmallTalkKind::{Acknowledgement, Closing, Greeting, Thanks};
        match (self.kind, self.language) {
            (Greeting, English) => "Hello! How can I help you today?",
            (Greeting, Italian) => "Ciao! Come posso aiutarti?",
            (Greeting, Spanish) => "¡Hola! ¿En qué puedo ayudarte?",
            (Greeting, French) => "Bonjour ! Comment puis-je vous aider ?",
            (Greeting, German) => "Hallo! Wie kann ich Ihnen helfen?",
            (Thanks, English) => "You're welcome! Is there anything else I can help you with?",
            (Thanks, Italian) => "Prego! Posso aiutarti in qualcos'altro?",
            (Thanks, Spanish) => "¡De nada! ¿Puedo ayudarte en algo más?",
            (Thanks, French) => "Avec plaisir ! Puis-je vous aider pour autre chose ?",
            (Thanks, German) => "Gern geschehen! Kann ich Ihnen sonst noch helfen?",
            (Closing, English) => "You're welcome. Have a great day!",
            (Closing, Italian) => "Prego, buona giornata!",
            (Closing, Spanish) => "¡De nada, que tengas un buen día!",
            (Closing, French) => "Avec plaisir, bonne journée !",
            (Closing, German) => "Gern geschehen, einen schönen Tag noch!",
            (Acknowledgement, English) => "Great! Is there anything else I can help you with?",
            (Acknowledgement, Italian) => "Bene! Posso aiutarti in qualcos'altro?",
            (Acknowledgement, Spanish) => "¡Perfecto! ¿Necesitas algo más?",
            (Acknowledgement, French) => "Parfait ! Avez-vous besoin d'autre chose ?",
            (Acknowledgement, German) => "Prima! Kann ich sonst noch etwas für Sie tun?",
        }
    }

    /// The `source` an answerer reports with the reply.
    pub fn source(self) -> &'static str {
        match self.kind {
            SmallTalkKind::Greeting => "small-talk#greeting",
            SmallTalkKind::Thanks => "small-talk#thanks",
            SmallTalkKind::Closing => "small-talk#closing",
            SmallTalkKind::Acknowledgement => "small-talk#acknowledgement",
        }
    }
}

/// Recognises a message that is only a greeting, thanks, a closing or an
/// acknowledgement.
pub fn detect_small_talk(text: &str) -> Option<SmallTalk> {
    let tokens = Tokens::new(text);
    // (role, language) of the most telling entry seen, and the first language seen on
    // an entry of each role, to fall back on when the telling one is neutral ("bye").
    let mut best = Role::Companion;
    let mut languages: [Option<Language>; 5] = [None; 5];
    let mut i = 0;
    while i < tokens.len() {
        let (end, role, language) = ENTRIES
            .iter()
            .filter_map(|(entry, role, language)| {
                Some((entry_at(&tokens, i, entry)?, *role, *language))
            })
            .max_by_key(|(end, role, _)| (*end, *role))?;
        best = best.max(role);
        let slot = &mut languages[role as usize];
        if slot.is_none() {
            *slot = language;
        }
        i = end;
    }
    let kind = match best {
        Role::Companion => return None,
        Role::Acknowledgement if text.contains('?') => return None,
        Role::Acknowledgement => SmallTalkKind::Acknowledgement,
        Role::Greeting => SmallTalkKind::Greeting,
        Role::Thanks => SmallTalkKind::Thanks,
        Role::Closing => SmallTalkKind::Closing,
    };
    // The most telling role's language, else the next one's: "ok grazie, bye" is Italian.
    let language = languages
        .iter()
        .rev()
        .flatten()
        .next()
        .copied()
        .unwrap_or(Language::English);
    Some(SmallTalk { kind, language })
}

/// The end of `entry` (space-separated folded words) if it matches at word `at`.
fn entry_at(tokens: &Tokens, at: usize, entry: &str) -> Option<usize> {
    let mut i = at;
    for expected in entry.split(' ') {
        if i >= tokens.len() || tokens.word(i) != expected {
            return None;
        }
        i += 1;
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<(SmallTalkKind, Language)>) {
        let got = detect_small_talk(text).map(|s| (s.kind, s.language));
        assert_eq!(got, expected, "{text:?}");
    }

    #[test]
    fn kinds_and_languages() {
        use Language::*;
        use SmallTalkKind::*;
        check("hi there", Some((Greeting, English)));
        check("Good morning!! 👋", Some((Greeting, English)));
        check("thank you so much!", Some((Thanks, English)));
        check("ok thanks", Some((Thanks, English)));
        check("perfect, that's all", Some((Closing, English)));
        check("perfetto, grazie mille", Some((Thanks, Italian)));
        check("ok grazie, bye", Some((Closing, Italian)));
        check("vale, gracias", Some((Thanks, Spanish)));
        check("MERCI BEAUCOUP", Some((Thanks, French)));
        check("vielen Dank!", Some((Thanks, German)));
        check("bye", Some((Closing, English)));
        check("ok", Some((Acknowledgement, English)));
        check("ok?", None);
        check("good", None);
        check("", None);
        check("hi, where is my order?", None);
        check("thanks for nothing", None);
    }
}
