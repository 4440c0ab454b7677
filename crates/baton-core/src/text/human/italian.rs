//! Italian words and frames of the "asks for a human" detector. Words are folded
//! (lowercase, no accents, apostrophes split words): "c'è" is `c e`, "può" is `puo`,
//! "dell'assistenza" is `dell assistenza`.

use std::sync::OnceLock;

use super::Language;
use super::engine::{
    CONTACT, Certainty::Plain, Certainty::Sure, Certainty::Weak, EXIST, Frame, Lexicon, SUBJECT,
    Slot::Attachment, Slot::Human, Slot::Maybe, Slot::One, TALK, WANT,
};

#[rustfmt::skip]
const TALK_VERBS: &[&str] = &[
    "parlare", "parlarci", "parlargli", "parlarle", "parlerei", "chattare", "comunicare",
    "conversare", "interagire", "confrontarmi",
];
/// "con", and "a" with its contractions (which double as determiners).
#[rustfmt::skip]
const WITH: &[&str] = &[
    "con", "col", "coi", "a", "ad", "al", "allo", "alla", "all", "ai", "agli", "alle", "insieme a",
    "direttamente con",
];
const CLITIC: &[&str] = &["mi", "ci"];
#[rustfmt::skip]
const MODALS: &[&str] = &[
    "puoi", "puo", "potete", "potrebbe", "potreste", "potresti", "riesce", "riesci", "riuscite",
    "vuole", "volete", "vuoi", "deve", "dovete",
];
/// Transfer verbs after a clitic: "mi *passi*", "mi può *passare*".
#[rustfmt::skip]
const TRANSFER_VERBS: &[&str] = &[
    "passi", "passa", "passate", "passare", "trasferisca", "trasferisci", "trasferite",
    "trasferire", "colleghi", "collegate", "collegare", "inoltri", "inoltra", "inoltrate",
    "inoltrare", "giri", "gira", "girate", "girare", "metta in contatto", "mette in contatto",
    "trasferisce", "metti in contatto", "mettete in contatto", "mettere in contatto",
    "faccia parlare", "fai parlare", "fate parlare", "fa parlare",
];
/// Transfer verbs with the clitic attached: "passa*mi*".
#[rustfmt::skip]
const TRANSFER_ENCLITIC: &[&str] = &[
    "passami", "passatemi", "passarmi", "passaci", "trasferiscimi", "trasferitemi", "trasferirmi",
    "collegami", "collegatemi", "collegarmi", "girami", "giratemi", "girarmi",
    "mettimi in contatto", "mettetemi in contatto", "mettermi in contatto", "metterci in contatto",
    "fammi parlare", "fatemi parlare", "farmi parlare",
];
#[rustfmt::skip]
const TRANSFER_ANY: &[&str] = &[
    "trasferire", "trasferisci", "trasferisca", "inoltrare", "inoltra", "inoltri", "passare",
    "passa", "passi", "girare", "gira", "giri",
];
#[rustfmt::skip]
const TRANSFER_OBJECTS: &[&str] = &[
    "la chat", "la conversazione", "la richiesta", "la mia richiesta", "la pratica", "la domanda",
    "il caso", "il ticket", "la segnalazione",
];
#[rustfmt::skip]
const TO: &[&str] = &[
    "a", "ad", "al", "allo", "alla", "all", "ai", "agli", "alle", "con", "col", "verso",
];
#[rustfmt::skip]
const BE: &[&str] = &[
    "essere", "venire", "sia", "venga", "vengo", "sono", "sarei", "essere stato",
];
#[rustfmt::skip]
const TRANSFERRED: &[&str] = &[
    "trasferito", "trasferita", "trasferiti", "passato", "passata", "messo in contatto",
    "messa in contatto", "messi in contatto", "collegato", "collegata", "richiamato", "richiamata",
    "ricontattato", "ricontattata", "contattato", "contattata", "seguito", "seguita",
];
#[rustfmt::skip]
const BY: &[&str] = &[
    "a", "ad", "al", "alla", "all", "con", "col", "da", "dal", "dalla", "dall",
];
#[rustfmt::skip]
const WANT_VERBS: &[&str] = &[
    "voglio", "vorrei", "volevo", "desidero", "desidererei", "chiedo", "richiedo", "pretendo",
    "esigo", "serve", "servirebbe", "preferisco", "preferirei", "datemi", "dammi", "mi dia",
    "mi date", "bisogno di", "avere",
];
#[rustfmt::skip]
const HELP_NOUNS: &[&str] = &[
    "l aiuto", "aiuto", "l intervento", "intervento", "il supporto", "supporto", "l assistenza",
    "assistenza",
];
const OF: &[&str] = &["di", "da parte di", "da parte del", "da parte dell"];
const THERE_IS: &[&str] = &["c e", "ce", "ci sono", "esiste", "c e mica"];
#[rustfmt::skip]
const IS_AVAILABLE: &[&str] = &[
    "e disponibile", "sono disponibili", "e libero", "sono liberi",
];
const CAN: &[&str] = &["puo", "potrebbe", "possono", "potrebbero", "potete", "sa"];
#[rustfmt::skip]
const HELP_VERBS: &[&str] = &[
    "aiutarmi", "aiutarci", "aiutare", "contattarmi", "richiamarmi", "chiamarmi", "rispondermi",
    "ricontattarmi", "scrivermi", "intervenire", "occuparsi", "occuparsene", "seguirmi",
    "darmi una mano", "rispondere", "richiamare", "contattare", "chiamare", "verificare",
    "controllare", "guardare", "risolvere",
];
/// Third-person subjunctive with the human as subject: "che mi *contattasse* un operatore".
#[rustfmt::skip]
const SUBJUNCTIVES: &[&str] = &[
    "contatti", "contattasse", "chiami", "chiamasse", "richiami", "richiamasse", "risponda",
    "rispondesse", "intervenga", "intervenisse", "aiuti", "aiutasse", "scriva", "scrivesse",
];
#[rustfmt::skip]
const MAKE: &[&str] = &[
    "farmi", "fatemi", "mi faccia", "mi fate", "mi fa", "far", "fammi",
];
#[rustfmt::skip]
const CALL_BACK: &[&str] = &[
    "richiamare", "contattare", "chiamare", "ricontattare", "rispondere",
];
const FROM: &[&str] = &["da", "dal", "dalla", "dall", "dallo"];
#[rustfmt::skip]
const CONTACT_VERBS: &[&str] = &[
    "contattare", "chiamare", "raggiungere", "sentire", "scrivere a", "scrivere al",
    "scrivere all", "scrivere alla", "telefonare a", "telefonare al", "telefonare all",
];

static FRAMES: &[Frame] = &[
    Frame {
        name: "parlare con",
        slots: &[One(TALK_VERBS), One(WITH), Human(TALK)],
    },
    Frame {
        name: "mi passi",
        slots: &[
            One(CLITIC),
            Maybe(MODALS),
            One(TRANSFER_VERBS),
            Maybe(TRANSFER_OBJECTS),
            Maybe(TO),
            Human(TALK),
        ],
    },
    Frame {
        name: "passami",
        slots: &[
            One(TRANSFER_ENCLITIC),
            Maybe(TRANSFER_OBJECTS),
            Maybe(TO),
            Human(TALK),
        ],
    },
    Frame {
        name: "passare la chat a",
        slots: &[
            One(TRANSFER_ANY),
            One(TRANSFER_OBJECTS),
            One(TO),
            Human(TALK),
        ],
    },
    Frame {
        name: "essere trasferito a",
        slots: &[One(BE), One(TRANSFERRED), One(BY), Human(TALK)],
    },
    Frame {
        name: "voglio",
        slots: &[One(WANT_VERBS), Human(WANT)],
    },
    Frame {
        name: "l'aiuto di",
        slots: &[One(WANT_VERBS), One(HELP_NOUNS), One(OF), Human(WANT)],
    },
    Frame {
        name: "c'è",
        slots: &[One(THERE_IS), Human(EXIST)],
    },
    Frame {
        name: "è disponibile",
        slots: &[One(IS_AVAILABLE), Human(TALK)],
    },
    Frame {
        name: "un operatore è disponibile",
        slots: &[Human(TALK), Attachment, One(IS_AVAILABLE)],
    },
    Frame {
        name: "un operatore può aiutarmi",
        slots: &[
            Human(SUBJECT),
            Maybe(CLITIC),
            One(CAN),
            Maybe(CLITIC),
            One(HELP_VERBS),
        ],
    },
    Frame {
        name: "può intervenire un operatore",
        slots: &[One(CAN), One(HELP_VERBS), Human(SUBJECT)],
    },
    Frame {
        name: "che mi contatti",
        slots: &[Maybe(CLITIC), One(SUBJUNCTIVES), Human(SUBJECT)],
    },
    Frame {
        name: "farmi richiamare da",
        slots: &[One(MAKE), One(CALL_BACK), One(FROM), Human(TALK)],
    },
    Frame {
        name: "contattare",
        slots: &[One(CONTACT_VERBS), Human(CONTACT)],
    },
];

#[rustfmt::skip]
pub(super) static LEXICON: Lexicon = Lexicon {
    language: Language::Italian,
    frames: FRAMES,
    determiners: &[
        "un", "uno", "una", "l", "il", "lo", "la", "i", "gli", "le", "del", "dello", "della",
        "dell", "dei", "degli", "delle", "al", "allo", "alla", "all", "ai", "agli", "alle", "col",
        "coi", "qualche", "vostro", "vostra", "vostri", "vostre", "suo", "sua", "suoi", "tuo",
        "tua", "altro", "altra", "altri", "uno dei vostri", "una delle vostre",
    ],
    qualifiers_before: &["vero", "vera", "veri", "vere"],
    qualifiers_after: &[
        "reale", "reali", "vero", "vera", "veri", "vere", "umano", "umana", "umani", "umane",
        "in carne e ossa", "in carne ed ossa", "dal vivo", "in persona", "non un bot",
        "non una macchina", "non un robot",
    ],
    modifiers: &[],
    nouns: &[
        ("operatore", Sure), ("operatori", Sure), ("operatrice", Sure), ("operatrici", Sure),
        ("umano", Sure), ("umana", Sure), ("umani", Sure), ("essere umano", Sure),
        ("esseri umani", Sure), ("servizio clienti", Sure), ("assistenza clienti", Sure),
        ("supporto clienti", Sure), ("centro assistenza", Sure), ("customer care", Sure),
        ("customer service", Sure), ("call center", Sure), ("help desk", Sure),
        ("persona", Plain), ("persone", Plain), ("agente", Plain), ("agenti", Plain),
        ("assistente", Plain), ("assistenti", Plain), ("consulente", Plain),
        ("consulenti", Plain), ("addetto", Plain), ("addetta", Plain), ("addetti", Plain),
        ("responsabile", Plain), ("responsabili", Plain), ("referente", Plain),
        ("impiegato", Plain), ("impiegata", Plain), ("tecnico", Plain), ("tecnici", Plain),
        ("collega", Plain), ("colleghi", Plain), ("specialista", Plain), ("supervisore", Plain),
        ("dipendente", Plain), ("manager", Plain), ("direttore", Plain), ("titolare", Plain),
        ("membro dello staff", Plain), ("staff", Plain), ("assistenza", Plain),
        ("supporto", Plain), ("qualcuno", Weak), ("uno di voi", Weak), ("una di voi", Weak),
    ],
    blockers: &[
        "immobiliare", "immobiliari", "assicurativo", "assicurativa", "assicurativi", "virtuale",
        "virtuali", "digitale", "digitali", "automatico", "automatica", "automatici", "logistico",
        "logistica", "telefonico", "telefonica", "ecologico", "finanziario", "finanziaria",
        "socio", "sanitario", "sanitaria", "turistico", "di viaggio", "di viaggi", "di commercio",
        "di rete", "di borsa", "ai", "ia", "bot", "chatbot", "fisica", "giuridica", "maggiorenne",
        "minorenne", "in piu",
    ],
    attachment_starts: &[
        "di", "del", "dello", "della", "dell", "dei", "degli", "delle", "da", "dal", "dalla",
        "dallo", "dall", "nel", "nella", "nello", "nell", "in",
    ],
    attachment_words: &[
        "servizio", "clienti", "assistenza", "supporto", "staff", "vostro", "vostra", "vostri",
        "azienda", "negozio", "ufficio", "team", "reparto", "help", "desk", "customer", "care",
        "il", "la", "l", "lo", "call", "center", "commerciale", "vendite", "amministrazione",
    ],
    followers: &[
        "per favore", "per piacere", "perfavore", "grazie", "subito", "ora", "adesso",
        "immediatamente", "oggi", "disponibile", "disponibili", "libero", "libera", "liberi",
        "online", "in linea", "qui", "li", "che mi", "che possa", "che puo", "che sappia",
        "che risponda", "con cui", "con il quale", "con la quale", "a cui", "per parlare",
        "per aiutarmi", "per risolvere", "dall altra parte", "e non", "non un", "non una",
        "perche", "invece", "o",
    ],
    relatives: &[],
    fillers: &[
        "per favore", "per piacere", "perfavore", "grazie", "subito", "ora", "adesso",
        "immediatamente", "urgente", "urgentemente", "ciao", "salve", "buongiorno", "buonasera",
        "ok", "okay", "si", "dai", "prego", "please", "allora", "basta", "ancora",
    ],
    negators: &["non", "mai", "nemmeno", "neanche", "neppure", "senza"],
    negation_path: &[
        "voglio", "vorrei", "volevo", "ho", "avrei", "abbiamo", "bisogno", "di", "c e", "c", "e",
        "ce", "serve", "servono", "mi", "ci", "chiedo", "richiedo", "desidero", "intendo", "devo",
        "proprio", "affatto", "assolutamente", "piu", "ne", "ancora", "davvero", "per forza",
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
        check("posso parlare con un operatore?", Some("parlare con"));
        check("mi può passare qualcuno dell'assistenza", Some("mi passi"));
        check("passatemi un umano", Some("passami"));
        check(
            "potete passare la chat a un operatore?",
            Some("passare la chat a"),
        );
        check(
            "vorrei essere richiamato da un consulente",
            Some("essere trasferito a"),
        );
        check("vorrei un operatore", Some("voglio"));
        check("mi serve l'aiuto di un operatore", Some("l'aiuto di"));
        check("c'è qualcuno?", Some("c'è"));
        check("è disponibile un operatore?", Some("è disponibile"));
        check(
            "un operatore è disponibile?",
            Some("un operatore è disponibile"),
        );
        check(
            "un consulente mi può richiamare?",
            Some("un operatore può aiutarmi"),
        );
        check(
            "può intervenire un operatore?",
            Some("può intervenire un operatore"),
        );
        check(
            "vorrei che mi richiamasse un tecnico",
            Some("che mi contatti"),
        );
        check(
            "fatemi contattare da un addetto",
            Some("farmi richiamare da"),
        );
        check("come posso contattare l'assistenza?", Some("contattare"));
        check("Operatore, per favore!", Some("short form"));
    }

    #[test]
    fn mentions() {
        check("l'agente immobiliare", None);
        check("le risorse umane", None);
        check("ho parlato con un operatore", None);
        check("non voglio parlare con un operatore", None);
        check("non riesco a parlare con un operatore", Some("parlare con"));
        check("c'è una persona in più", None);
        check("non c'è bisogno di un operatore", None);
        check("sei un operatore umano?", None);
    }
}
