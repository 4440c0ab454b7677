//! German words and frames of the "asks for a human" detector. Words are folded
//! (lowercase, umlauts lose their dots): "möchte" is `mochte`, "zurückrufen" is
//! `zuruckrufen`, "verfügbar" is `verfugbar`.
//!
//! German puts the verb last ("Ich möchte *mit einem Menschen sprechen*", "Können Sie
//! *mich mit einem Mitarbeiter verbinden*?"), so most frames end with the verb, and a
//! bare "Mensch" is left out of the nouns: "Mensch, das dauert!" is an exclamation.

use std::sync::OnceLock;

use super::Language;
use super::engine::{
    CONTACT, Certainty::Plain, Certainty::Sure, Certainty::Weak, EXIST, Frame, Lexicon, SUBJECT,
    Slot::Attachment, Slot::End, Slot::Human, Slot::Maybe, Slot::One, TALK, WANT,
};

#[rustfmt::skip]
const TALK_VERBS: &[&str] = &[
    "sprechen", "reden", "chatten", "schreiben", "telefonieren", "kommunizieren",
    "verbunden werden", "sprechen konnen", "reden konnen", "sprechen durfen",
];
const MIT: &[&str] = &["mit"];
const ZU: &[&str] = &["zu"];
const TALK_FIRST: &[&str] = &["sprechen", "reden", "chatten", "unterhalten"];
const PARTICLES: &[&str] = &[
    "bitte", "mal", "kurz", "jetzt", "sofort", "gerne", "gern", "lieber",
];
#[rustfmt::skip]
const TRANSFER_IMPERATIVE: &[&str] = &[
    "verbinden sie mich", "verbinde mich", "verbindet mich", "stellen sie mich", "stell mich",
    "stelle mich", "leiten sie mich", "leite mich", "leitet mich", "geben sie mir", "gib mir",
    "gebt mir",
];
const THROUGH: &[&str] = &["durch", "weiter"];
const TO: &[&str] = &["mit", "an", "zu", "zum", "zur"];
const ME: &[&str] = &["mich", "uns"];
#[rustfmt::skip]
const TRANSFER_LAST: &[&str] = &[
    "verbinden", "weiterleiten", "weiterverbinden", "durchstellen", "verbunden", "weitergeleitet",
    "durchgestellt", "vermitteln", "weitergeben",
];
#[rustfmt::skip]
const WANT_VERBS: &[&str] = &[
    "will", "mochte", "mochten", "brauche", "brauchen", "hatte gern", "hatte gerne", "verlange",
    "wunsche", "benotige", "wollen", "fordere", "bestehe auf",
];
const THERE_IS: &[&str] = &["gibt es", "gibts", "gibt s"];
#[rustfmt::skip]
const HERE: &[&str] = &[
    "hier", "da", "auch", "noch", "bei ihnen", "bei euch", "irgendwo", "vielleicht",
];
const IS: &[&str] = &["ist", "sind"];
const NOW: &[&str] = &["gerade", "jetzt", "noch", "heute", "hier"];
#[rustfmt::skip]
const AVAILABLE: &[&str] = &[
    "da", "verfugbar", "erreichbar", "online", "frei", "anwesend", "zu sprechen",
    "zu erreichen",
];
const CAN: &[&str] = &["kann", "konnte", "konnen", "konnten", "soll", "sollte"];
const OBJECT: &[&str] = &["mich", "mir", "uns"];
#[rustfmt::skip]
const CALL_VERBS: &[&str] = &[
    "zuruckrufen", "anrufen", "kontaktieren", "ruckrufen", "melden", "anschreiben",
];
#[rustfmt::skip]
const HELP_VERBS: &[&str] = &[
    "helfen", "weiterhelfen", "beraten", "zuruckrufen", "anrufen", "kontaktieren", "ubernehmen",
    "drauf schauen", "draufschauen", "nachschauen",
];
#[rustfmt::skip]
const CONTACT_FIRST: &[&str] = &[
    "erreiche ich", "kontaktiere ich", "erreicht man", "kontaktiert man", "erreichen",
    "kontaktieren",
];
const CONTACT_LAST: &[&str] = &["erreichen", "kontaktieren", "sprechen", "anrufen"];
/// Accusative determiners only: "mit *einem* Menschen sprechen" is the talk frame's.
#[rustfmt::skip]
const ACCUSATIVE: &[&str] = &[
    "einen", "eine", "den", "die", "ihren", "ihre", "euren", "eure", "einen ihrer",
    "einen eurer", "einen anderen", "irgendeinen",
];

static FRAMES: &[Frame] = &[
    Frame {
        name: "mit jemandem sprechen",
        slots: &[
            One(MIT),
            Human(TALK),
            Attachment,
            Maybe(ZU),
            One(TALK_VERBS),
        ],
    },
    Frame {
        name: "sprechen mit",
        slots: &[One(TALK_FIRST), One(MIT), Human(TALK)],
    },
    Frame {
        name: "jemanden sprechen",
        slots: &[
            One(&["jemanden", "jemand"]),
            Attachment,
            Maybe(PARTICLES),
            One(&["sprechen"]),
            End,
        ],
    },
    Frame {
        name: "verbinden Sie mich mit",
        slots: &[
            One(TRANSFER_IMPERATIVE),
            Maybe(PARTICLES),
            Maybe(THROUGH),
            Maybe(TO),
            Human(TALK),
        ],
    },
    Frame {
        name: "mich mit … verbinden",
        slots: &[
            One(ME),
            Maybe(PARTICLES),
            One(TO),
            Human(TALK),
            Attachment,
            One(TRANSFER_LAST),
        ],
    },
    Frame {
        name: "Hilfe von",
        slots: &[
            One(&["hilfe", "unterstutzung", "beratung"]),
            One(&["von", "vom", "durch"]),
            Human(WANT),
        ],
    },
    Frame {
        name: "ich will",
        slots: &[One(WANT_VERBS), Maybe(PARTICLES), Human(WANT)],
    },
    Frame {
        name: "gibt es",
        slots: &[One(THERE_IS), Maybe(HERE), Human(EXIST)],
    },
    Frame {
        name: "ist jemand da",
        slots: &[One(IS), Human(TALK), Attachment, Maybe(NOW), One(AVAILABLE)],
    },
    Frame {
        name: "kann mich jemand anrufen",
        slots: &[
            One(CAN),
            Maybe(OBJECT),
            Maybe(PARTICLES),
            Human(TALK),
            Attachment,
            Maybe(OBJECT),
            Maybe(PARTICLES),
            One(CALL_VERBS),
        ],
    },
    Frame {
        name: "kann mir ein Mitarbeiter helfen",
        slots: &[
            One(CAN),
            Maybe(OBJECT),
            Maybe(PARTICLES),
            Human(SUBJECT),
            Attachment,
            Maybe(OBJECT),
            Maybe(PARTICLES),
            One(HELP_VERBS),
        ],
    },
    Frame {
        name: "erreiche ich",
        slots: &[One(CONTACT_FIRST), Human(CONTACT)],
    },
    Frame {
        name: "einen Mitarbeiter sprechen",
        slots: &[
            One(ACCUSATIVE),
            Human(TALK),
            Maybe(PARTICLES),
            One(CONTACT_LAST),
            End,
        ],
    },
];

#[rustfmt::skip]
pub(super) static LEXICON: Lexicon = Lexicon {
    language: Language::German,
    frames: FRAMES,
    determiners: &[
        "ein", "eine", "einen", "einem", "einer", "der", "die", "das", "den", "dem", "des",
        "ihren", "ihrem", "ihre", "ihr", "ihrer", "euren", "eurem", "eure", "einen ihrer",
        "einem ihrer", "einer ihrer", "einen eurer", "einem eurer", "irgendeinen",
        "irgendeinem", "irgendeine", "einen anderen", "einem anderen", "anderen", "zum", "zur",
    ],
    qualifiers_before: &[
        "echten", "echter", "echte", "echtes", "echtem", "richtigen", "richtiger", "richtige",
        "richtigem", "realen", "realer", "reale", "menschlichen", "menschlicher", "menschliche",
        "lebenden", "leibhaftigen",
    ],
    qualifiers_after: &[
        "aus fleisch und blut", "keinen bot", "kein bot", "keinen roboter", "keine maschine",
        "und keinen bot", "und keine maschine", "statt des bots", "statt eines bots",
        "statt dem bot",
    ],
    modifiers: &[
        "zustandigen", "zustandige", "zustandiger", "kompetenten", "kompetente", "kompetenter",
    ],
    nouns: &[
        ("ein mensch", Plain), ("echter mensch", Sure), ("richtiger mensch", Sure),
        ("realer mensch", Sure), ("lebender mensch", Sure), ("menschen", Plain),
        ("mitarbeiter", Plain), ("mitarbeiterin", Plain), ("mitarbeitern", Plain),
        ("berater", Plain), ("beraterin", Plain), ("kundenberater", Plain),
        ("kundenberaterin", Plain), ("kundenservice", Sure), ("kundendienst", Sure),
        ("kundensupport", Sure), ("kundenbetreuung", Sure), ("kundenbetreuer", Plain),
        ("kundenbetreuerin", Plain), ("servicemitarbeiter", Plain),
        ("servicemitarbeiterin", Plain), ("sachbearbeiter", Plain), ("sachbearbeiterin", Plain),
        ("person", Plain), ("personen", Plain), ("agent", Plain), ("agenten", Plain),
        ("operator", Sure), ("ansprechpartner", Plain), ("ansprechpartnerin", Plain),
        ("vorgesetzten", Plain), ("vorgesetzter", Plain), ("chef", Plain), ("chefin", Plain),
        ("manager", Plain), ("techniker", Plain), ("jemand", Weak), ("jemanden", Weak),
        ("jemandem", Weak), ("irgendjemand", Weak), ("irgendjemanden", Weak),
        ("irgendjemandem", Weak), ("support", Weak), ("supportteam", Weak),
        ("serviceteam", Weak),
    ],
    blockers: &[
        "fur immobilien", "der personalabteilung", "aus der personalabteilung",
        "von der personalabteilung", "ki", "bot", "chatbot", "mehr", "zusatzlich",
    ],
    attachment_starts: &["von", "vom", "aus", "im", "bei", "beim"],
    attachment_words: &[
        "kundenservice", "kundendienst", "support", "team", "ihrem", "ihrer", "ihres", "eurem",
        "dem", "der", "service", "vertrieb", "technik", "buchhaltung", "shop", "laden", "firma",
        "unternehmen", "verkauf",
    ],
    followers: &[
        "bitte", "jetzt", "sofort", "gleich", "dringend", "heute", "hier", "da", "verfugbar",
        "erreichbar", "online", "der mir", "die mir", "der mich", "die mich", "der helfen",
        "die helfen", "mit dem ich", "mit der ich", "zum sprechen", "zum reden", "statt",
        "und keinen", "und nicht", "nicht den", "oder", "weil", "denn", "danke", "sprechen",
        "fur mich", "fur uns", "am telefon",
    ],
    relatives: &["der", "die", "das", "den", "dem", "welcher", "welche", "welchen", "wo"],
    fillers: &[
        "bitte", "jetzt", "sofort", "dringend", "schnell", "danke", "hallo", "hi", "guten tag",
        "moin", "ja", "ok", "okay", "endlich", "mal", "gleich", "verfugbar", "hier", "einfach",
    ],
    negators: &["nicht", "nie", "niemals", "kein", "keine", "keinen", "keinem", "ohne"],
    negation_path: &[
        "ich", "will", "mochte", "brauche", "muss", "mochten", "wollen", "unbedingt", "wirklich",
        "gar", "mehr", "bitte", "mich", "mir", "jetzt", "mal", "gerne", "gern", "eigentlich",
        "auch", "zwingend",
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
        check(
            "Ich möchte mit einem Menschen sprechen",
            Some("mit jemandem sprechen"),
        );
        check(
            "Kann ich bitte jemanden sprechen?",
            Some("jemanden sprechen"),
        );
        check(
            "Verbinden Sie mich bitte mit einem Mitarbeiter",
            Some("verbinden Sie mich mit"),
        );
        check(
            "Können Sie mich mit einem Berater verbinden?",
            Some("mich mit … verbinden"),
        );
        check("Ich will einen echten Menschen!", Some("ich will"));
        check(
            "Gibt es hier jemanden, der mir helfen kann?",
            Some("gibt es"),
        );
        check("Ist ein Mitarbeiter verfügbar?", Some("ist jemand da"));
        check(
            "Kann mich jemand zurückrufen?",
            Some("kann mich jemand anrufen"),
        );
        check(
            "Kann mir ein Mitarbeiter helfen?",
            Some("kann mir ein Mitarbeiter helfen"),
        );
        check("Wie erreiche ich den Kundenservice?", Some("erreiche ich"));
        check("Ich möchte einen Mitarbeiter sprechen.", Some("ich will"));
        check("Kundenservice bitte!", Some("short form"));
    }

    #[test]
    fn mentions() {
        check("Ich habe gestern mit einer Person gesprochen", None);
        check("Mein Immobilienmakler hat angerufen", None);
        check("Ich möchte mit der Personalabteilung sprechen", None);
        check("Ich möchte nicht mit einem Menschen sprechen", None);
        check("Die Mitarbeiter sprechen Englisch?", None);
        check("Ich brauche eine Person, die das Paket annimmt", None);
        check("Mensch, das dauert ja ewig!", None);
        check("Die Verkäuferin hat gesagt, es gibt Rabatt", None);
    }
}
