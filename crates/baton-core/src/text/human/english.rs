//! English words and frames of the "asks for a human" detector. Words are folded
//! (lowercase, no accents; "don't" is `don t`).

use std::sync::OnceLock;

use super::Language;
use super::engine::{
    CONTACT, Certainty::Plain, Certainty::Sure, Certainty::Weak, EXIST, Frame, Lexicon, SUBJECT,
    Slot::Attachment, Slot::Human, Slot::Maybe, Slot::One, TALK, WANT,
};

const TALK_VERBS: &[&str] = &["talk", "speak", "chat", "converse", "communicate"];
const WITH: &[&str] = &["to", "with"];
#[rustfmt::skip]
const TRANSFER_VERBS: &[&str] = &[
    "connect", "transfer", "put", "pass", "forward", "redirect", "route", "switch", "send", "hand",
    "escalate", "refer", "move",
];
#[rustfmt::skip]
const TRANSFERRED: &[&str] = &[
    "connected", "transferred", "put", "passed", "forwarded", "redirected", "routed", "switched",
    "sent", "handed", "escalated", "referred", "moved",
];
const BE: &[&str] = &["be", "been", "being", "get", "getting", "got"];
/// What gets transferred, between the verb and "to".
#[rustfmt::skip]
const TRANSFER_OBJECTS: &[&str] = &[
    "me", "us", "this", "it", "my chat", "this chat", "the chat", "my conversation",
    "this conversation", "the conversation", "my call", "this call", "my case", "this case",
    "my ticket", "this ticket", "my request", "my question", "my issue", "this issue",
];
const TRANSFER_PARTICLES: &[&str] = &["through", "over", "across", "back", "on"];
const TRANSFER_TO: &[&str] = &["to", "with", "onto"];
const GET_VERBS: &[&str] = &["get", "give", "find", "bring", "fetch"];
const ME: &[&str] = &["me", "us"];
#[rustfmt::skip]
const WANT_VERBS: &[&str] = &[
    "want", "wanna", "need", "would like", "d like", "like to have", "prefer", "request",
    "requesting", "demand", "require", "ask for", "asking for", "insist on", "can i have",
    "could i have", "may i have", "can we have", "could we have",
];
const IS: &[&str] = &["is", "are"];
const THERE: &[&str] = &["there"];
#[rustfmt::skip]
const AVAILABLE: &[&str] = &[
    "available", "online", "around", "free", "there", "here", "awake", "working",
];
const CAN: &[&str] = &["can", "could", "will", "would", "may", "might"];
const A: &[&str] = &["a", "an", "some", "any", "one"];
#[rustfmt::skip]
const HELP_VERBS: &[&str] = &[
    "help", "assist", "look", "check", "review", "answer", "respond", "reply", "handle",
    "take over", "explain", "fix", "sort", "deal", "call", "contact", "email", "phone", "ring",
    "text", "get back", "reach out",
];
#[rustfmt::skip]
const CALL_VERBS: &[&str] = &[
    "call", "contact", "email", "phone", "ring", "text", "reach", "message",
];
const HAVE: &[&str] = &["have", "get", "let"];
const TO: &[&str] = &["to"];
const PLEASE: &[&str] = &["please"];
const IN_TOUCH: &[&str] = &["in touch", "in contact"];
/// Verbs taking a gerund: "I'd *prefer* talking to a person".
#[rustfmt::skip]
const PREFER: &[&str] = &[
    "appreciate", "prefer", "like", "love", "insist on", "mind", "recommend",
];
const TALKING: &[&str] = &["talking", "speaking", "chatting"];
const HELP_NOUNS: &[&str] = &["help", "assistance", "support"];
const FROM: &[&str] = &["from", "by"];

static FRAMES: &[Frame] = &[
    Frame {
        name: "talk to",
        slots: &[
            One(TALK_VERBS),
            Maybe(&["directly"]),
            One(WITH),
            Human(TALK),
        ],
    },
    Frame {
        name: "transfer me to",
        slots: &[
            One(TRANSFER_VERBS),
            Maybe(TRANSFER_OBJECTS),
            Maybe(TRANSFER_PARTICLES),
            One(TRANSFER_TO),
            Human(TALK),
        ],
    },
    Frame {
        name: "be transferred to",
        slots: &[
            One(BE),
            One(TRANSFERRED),
            Maybe(TRANSFER_PARTICLES),
            One(TRANSFER_TO),
            Human(TALK),
        ],
    },
    Frame {
        name: "prefer talking to",
        slots: &[One(PREFER), One(TALKING), One(WITH), Human(TALK)],
    },
    Frame {
        name: "help from",
        slots: &[One(HELP_NOUNS), One(FROM), Human(WANT)],
    },
    Frame {
        name: "in touch with",
        slots: &[One(IN_TOUCH), One(&["with"]), Human(TALK)],
    },
    Frame {
        name: "get me",
        slots: &[One(GET_VERBS), Maybe(ME), Human(WANT)],
    },
    Frame {
        name: "I want",
        slots: &[One(WANT_VERBS), Human(WANT)],
    },
    Frame {
        name: "is there",
        slots: &[One(IS), One(THERE), Human(EXIST)],
    },
    Frame {
        name: "is someone available",
        slots: &[One(IS), Human(TALK), Attachment, One(AVAILABLE)],
    },
    Frame {
        name: "can a human help",
        slots: &[
            One(CAN),
            One(A),
            Human(SUBJECT),
            Attachment,
            Maybe(PLEASE),
            One(HELP_VERBS),
        ],
    },
    Frame {
        name: "have someone call me",
        slots: &[
            One(HAVE),
            Human(TALK),
            Attachment,
            Maybe(TO),
            One(CALL_VERBS),
            One(ME),
        ],
    },
    Frame {
        name: "can someone call me",
        slots: &[
            One(CAN),
            Human(TALK),
            Attachment,
            Maybe(PLEASE),
            One(CALL_VERBS),
            One(ME),
        ],
    },
    Frame {
        name: "contact",
        slots: &[One(CALL_VERBS), Human(CONTACT)],
    },
];

#[rustfmt::skip]
pub(super) static LEXICON: Lexicon = Lexicon {
    language: Language::English,
    frames: FRAMES,
    determiners: &[
        "a", "an", "the", "some", "any", "your", "ur", "one of your", "one of the", "another",
        "one", "other", "different",
    ],
    qualifiers_before: &["real", "actual", "live", "human", "living", "real life"],
    qualifiers_after: &["real", "in person", "not a bot", "not a machine"],
    modifiers: &[
        "customer", "support", "sales", "service", "billing", "technical", "tech", "help",
        "helpdesk", "senior", "qualified", "competent",
    ],
    nouns: &[
        ("human", Sure), ("humans", Sure), ("human being", Sure), ("human beings", Sure),
        ("operator", Sure), ("operators", Sure), ("representative", Sure),
        ("representatives", Sure), ("rep", Sure), ("reps", Sure), ("customer service", Sure),
        ("customer services", Sure), ("customer support", Sure), ("customer care", Sure),
        ("human help", Sure), ("human assistance", Sure), ("human support", Sure),
        ("human contact", Sure), ("human interaction", Sure), ("live support", Sure),
        ("live help", Sure), ("live assistance", Sure), ("person", Plain), ("persons", Plain),
        ("agent", Plain), ("agents", Plain), ("manager", Plain), ("supervisor", Plain),
        ("staff", Plain), ("staff member", Plain), ("member of staff", Plain),
        ("member of your staff", Plain), ("member of your team", Plain), ("team member", Plain),
        ("employee", Plain), ("colleague", Plain), ("advisor", Plain), ("adviser", Plain),
        ("consultant", Plain), ("specialist", Plain), ("technician", Plain), ("someone", Weak),
        ("somebody", Weak), ("anyone", Weak), ("anybody", Weak), ("people", Weak),
        ("support", Weak), ("team", Weak), ("support team", Weak), ("helpdesk", Weak),
        ("help desk", Weak),
    ],
    blockers: &[
        "resources", "resource", "error", "errors", "rights", "nature", "race", "body", "skin",
        "derived", "trafficking", "consumption", "capital", "genome", "interest", "limit", "login",
        "account", "fee", "fees",
    ],
    attachment_starts: &["from", "in", "at", "of", "on"],
    attachment_words: &[
        "your", "the", "a", "customer", "support", "service", "services", "sales", "billing",
        "tech", "technical", "team", "staff", "company", "store", "shop", "department", "office",
        "desk", "help", "care",
    ],
    followers: &[
        "please", "pls", "plz", "now", "asap", "immediately", "right now", "today", "urgently",
        "here", "there", "available", "online", "around", "instead", "rather", "thanks",
        "thank you", "because", "so", "or", "and", "not", "who can", "that can", "i can", "we can",
        "to talk", "to speak", "to chat", "to help", "to assist", "to answer", "to respond",
        "to reply", "to deal", "to handle", "to look", "to check", "to call", "to contact",
        "to explain", "to sort", "to fix", "to review", "to get back", "on the chat",
        "on the line", "on the phone",
    ],
    relatives: &[],
    fillers: &[
        "please", "pls", "plz", "now", "asap", "immediately", "right now", "right away",
        "urgently", "thanks", "thank you", "ok", "okay", "hi", "hello", "hey", "just", "again",
        "yes", "yeah", "stop", "quickly", "around", "here", "there", "online", "available",
    ],
    negators: &[
        "not", "never", "don", "dont", "doesn", "doesnt", "didn", "didnt", "won", "wouldn",
        "shouldn", "no need", "nor", "without",
    ],
    negation_path: &[
        "t", "want", "wanna", "need", "needed", "wanted", "like", "would", "d", "have", "to", "do",
        "ever", "really", "even", "actually", "asked", "ask", "try", "tried", "trying", "going",
        "gonna", "necessarily", "particularly", "please", "me", "us",
    ],
    starts: OnceLock::new(),
};

#[cfg(test)]
mod tests {
    use super::super::engine::frame_name;
    use super::LEXICON;

    fn check(text: &str, expected: Option<&str>) {
        assert_eq!(frame_name(text, &LEXICON), expected, "{text:?}");
    }

    #[test]
    fn frames() {
        check("can I talk to a human", Some("talk to"));
        check("put me through to a representative", Some("transfer me to"));
        check(
            "can I be transferred to an agent",
            Some("be transferred to"),
        );
        check("get me a real person", Some("get me"));
        check("I'd like a human", Some("I want"));
        check("is there anyone I can talk to?", Some("is there"));
        check("is there anyone?", Some("is there"));
        check(
            "is anyone from your team available",
            Some("is someone available"),
        );
        check("could a human look at this", Some("can a human help"));
        check("have someone call me", Some("have someone call me"));
        check(
            "can someone from billing call me",
            Some("can someone call me"),
        );
        check("how do I contact customer service", Some("contact"));
        check("Human, please!", Some("short form"));
    }

    #[test]
    fn mentions() {
        check("the contact person", None);
        check("we need an agent login", None);
        check("is there a person limit", None);
        check("talk to the human resources team", None);
        check("I talked to a person", None);
        check("I don't need a human", None);
        check("Why can't I talk to a human", Some("talk to"));
        check("no need to talk to a human", None);
        check("No I want a human", Some("I want"));
    }
}
