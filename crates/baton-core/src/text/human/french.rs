//! French words and frames of the "asks for a human" detector. Words are folded
//! (lowercase, no accents, apostrophes and hyphens split words): "à" is `a`,
//! "quelqu'un" is `quelqu un`, "passez-moi" is `passez moi`, "y a-t-il" is `y a t il`.

use std::sync::OnceLock;

use super::Language;
use super::engine::{
    CONTACT, Certainty::Plain, Certainty::Sure, Certainty::Weak, EXIST, Frame, Lexicon, SUBJECT,
    Slot::Attachment, Slot::Human, Slot::Maybe, Slot::One, TALK, WANT,
};

#[rustfmt::skip]
const TALK_VERBS: &[&str] = &[
    "parler", "discuter", "echanger", "communiquer", "dialoguer", "causer", "m adresser",
    "m entretenir",
];
#[rustfmt::skip]
const WITH: &[&str] = &[
    "a", "au", "aux", "avec", "directement a", "directement avec", "directement au",
];
/// Transfer verbs with their object: "passez-*moi* …", "me *passer* …".
#[rustfmt::skip]
const TRANSFER: &[&str] = &[
    "passez moi", "passe moi", "passer moi", "me passer", "me passez", "me passes",
    "transferez moi", "transfere moi", "me transferer", "me transferez", "redirigez moi",
    "redirige moi", "me rediriger", "orientez moi", "me orienter", "connectez moi", "me connecter",
    "mettez moi en relation", "mets moi en relation", "me mettre en relation",
    "mettez moi en contact", "mets moi en contact", "me mettre en contact",
    "etre mis en relation", "etre mise en relation", "etre mis en contact", "etre transfere",
    "etre transferee", "etre redirige", "etre redirigee", "etre rappele", "etre rappelee",
    "etre recontacte", "etre recontactee",
];
const TO: &[&str] = &["a", "au", "aux", "avec", "vers", "par"];
#[rustfmt::skip]
const WANT_VERBS: &[&str] = &[
    "je veux", "veux", "je voudrais", "voudrais", "j aimerais", "aimerais", "je souhaite",
    "souhaite", "souhaiterais", "j exige", "exige", "il me faut", "j ai besoin d",
    "besoin d", "j ai besoin de", "besoin de", "donnez moi", "je prefere", "je prefererais",
    "je demande", "je reclame", "nous voulons", "nous voudrions", "je peux avoir",
    "puis je avoir", "pourrais je avoir", "pouvez vous me donner", "est ce que je peux avoir",
];
const THERE_IS: &[&str] = &[
    "y a t il",
    "il y a",
    "y a",
    "est ce qu il y a",
    "existe t il",
];
#[rustfmt::skip]
const IS_AVAILABLE: &[&str] = &[
    "est disponible", "sont disponibles", "est dispo", "disponible", "disponibles",
    "est en ligne", "est la",
];
#[rustfmt::skip]
const CAN: &[&str] = &[
    "peut", "pourrait", "peuvent", "pourraient", "peut il", "pourrait il", "peut elle",
    "pourrait elle",
];
const ME: &[&str] = &["me", "m", "nous"];
#[rustfmt::skip]
const HELP_VERBS: &[&str] = &[
    "aider", "rappeler", "contacter", "recontacter", "appeler", "repondre", "ecrire",
    "prendre en charge", "occuper", "regarder", "verifier",
];
const CALL_VERBS: &[&str] = &["rappeler", "appeler", "contacter", "recontacter", "joindre"];
const THAT: &[&str] = &["que", "qu"];
#[rustfmt::skip]
const SUBJUNCTIVES: &[&str] = &[
    "rappelle", "rappellent", "contacte", "contactent", "recontacte", "appelle", "appellent",
    "aide", "aident", "reponde", "ecrive", "prenne en charge",
];
#[rustfmt::skip]
const CONTACT_VERBS: &[&str] = &[
    "contacter", "joindre", "appeler", "ecrire a", "ecrire au", "ecrire aux", "rejoindre",
    "contacte t on", "joint on", "joindre le", "contacter le", "contacter la",
];

static FRAMES: &[Frame] = &[
    Frame {
        name: "parler à",
        slots: &[One(TALK_VERBS), One(WITH), Human(TALK)],
    },
    Frame {
        name: "passez-moi",
        slots: &[One(TRANSFER), Maybe(TO), Human(TALK)],
    },
    Frame {
        name: "je veux",
        slots: &[One(WANT_VERBS), Human(WANT)],
    },
    Frame {
        name: "y a-t-il",
        slots: &[One(THERE_IS), Human(EXIST)],
    },
    Frame {
        name: "un conseiller est disponible",
        slots: &[Human(TALK), Attachment, One(IS_AVAILABLE)],
    },
    Frame {
        name: "un conseiller peut m'aider",
        slots: &[
            Human(SUBJECT),
            Attachment,
            One(CAN),
            Maybe(ME),
            One(HELP_VERBS),
        ],
    },
    Frame {
        name: "quelqu'un peut me rappeler",
        slots: &[
            Human(TALK),
            Attachment,
            One(CAN),
            Maybe(ME),
            One(CALL_VERBS),
        ],
    },
    Frame {
        name: "qu'un conseiller me rappelle",
        slots: &[
            One(THAT),
            Human(TALK),
            Attachment,
            Maybe(ME),
            One(SUBJUNCTIVES),
        ],
    },
    Frame {
        name: "contacter",
        slots: &[One(CONTACT_VERBS), Human(CONTACT)],
    },
];

#[rustfmt::skip]
pub(super) static LEXICON: Lexicon = Lexicon {
    language: Language::French,
    frames: FRAMES,
    determiners: &[
        "un", "une", "le", "la", "l", "les", "des", "du", "au", "aux", "d", "de", "votre", "vos",
        "ton", "ta", "un de vos", "une de vos", "l un de vos", "un autre", "une autre", "autre",
        "quelque",
    ],
    qualifiers_before: &["vrai", "vraie", "vrais", "veritable"],
    qualifiers_after: &[
        "reel", "reelle", "reels", "humain", "humaine", "humains", "en chair et en os",
        "en vrai", "pas un robot", "pas un bot", "pas une machine", "et pas un robot",
        "et pas un bot", "et non un robot", "et non un bot",
    ],
    modifiers: &[],
    nouns: &[
        ("humain", Sure), ("humaine", Sure), ("humains", Sure), ("etre humain", Sure),
        ("operateur", Sure), ("operatrice", Sure), ("operateurs", Sure),
        ("service client", Sure), ("service clients", Sure), ("service clientele", Sure),
        ("support client", Sure), ("service apres vente", Sure), ("sav", Sure),
        ("conseiller", Plain), ("conseillere", Plain), ("conseillers", Plain),
        ("conseiller clientele", Sure), ("personne", Plain), ("personnes", Plain),
        ("agent", Plain), ("agents", Plain), ("responsable", Plain), ("manager", Plain),
        ("superviseur", Plain), ("technicien", Plain), ("collaborateur", Plain),
        ("employe", Plain), ("employee", Plain), ("specialiste", Plain),
        ("interlocuteur", Plain), ("interlocutrice", Plain), ("support", Weak),
        ("quelqu un", Weak), ("l un d entre vous", Weak),
    ],
    blockers: &[
        "immobilier", "immobiliere", "immobiliers", "d assurance", "d assurances", "de voyage",
        "de voyages", "de change", "de police", "de securite", "virtuel", "virtuelle", "ia",
        "bot", "chatbot", "morale", "physique", "de contact", "des ressources humaines",
        "en plus", "de plus",
    ],
    attachment_starts: &["de", "du", "des", "au", "chez", "d"],
    attachment_words: &[
        "service", "client", "clients", "clientele", "support", "votre", "l", "la", "le",
        "equipe", "boutique", "magasin", "societe", "entreprise", "vente", "ventes",
        "facturation", "technique", "assistance",
    ],
    followers: &[
        "s il vous plait", "s il te plait", "svp", "stp", "merci", "maintenant",
        "tout de suite", "immediatement", "aujourd hui", "disponible", "disponibles", "dispo",
        "en ligne", "ici", "qui peut", "qui puisse", "qui pourrait", "qui me", "avec qui", "a qui",
        "pour m aider", "pour parler", "pour discuter", "pour me", "plutot", "au lieu",
        "et pas", "pas un", "pas une", "parce que", "car", "ou", "au telephone",
        "par telephone", "pour moi",
    ],
    relatives: &["qui", "que", "qu", "dont", "lequel", "laquelle"],
    fillers: &[
        "s il vous plait", "s il te plait", "svp", "stp", "merci", "maintenant",
        "tout de suite", "vite", "urgent", "bonjour", "salut", "bonsoir", "oui", "ok",
        "d accord", "allo", "please", "disponible", "encore",
    ],
    negators: &["ne", "n", "pas", "jamais", "sans", "aucun", "aucune", "ni", "plus"],
    negation_path: &[
        "veux", "voudrais", "souhaite", "ai", "besoin", "d", "de", "me", "m", "faut", "il", "y",
        "vraiment", "du tout", "demande", "aimerais", "je", "j", "forcement", "surtout",
        "est", "necessaire",
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
        check("je voudrais parler à un conseiller", Some("parler à"));
        check("passez-moi un conseiller", Some("passez-moi"));
        check(
            "pouvez-vous me mettre en relation avec un agent ?",
            Some("passez-moi"),
        );
        check("je veux un vrai humain", Some("je veux"));
        check("Y a-t-il quelqu'un ?", Some("y a-t-il"));
        check(
            "un conseiller est disponible ?",
            Some("un conseiller est disponible"),
        );
        check(
            "un conseiller peut-il me rappeler ?",
            Some("un conseiller peut m'aider"),
        );
        check(
            "j'aimerais qu'un conseiller me rappelle",
            Some("qu'un conseiller me rappelle"),
        );
        check("comment contacter le service client ?", Some("contacter"));
        check("Un conseiller svp", Some("short form"));
    }

    #[test]
    fn mentions() {
        check("j'ai parlé à une personne hier", None);
        check("je cherche un agent immobilier", None);
        check("parler aux ressources humaines", None);
        check("je ne veux pas parler à un conseiller", None);
        check("j'ai parlé à un conseiller il y a deux jours", None);
        check("le vendeur m'a dit que c'était gratuit", None);
    }
}
