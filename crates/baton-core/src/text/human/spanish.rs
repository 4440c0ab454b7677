//! Spanish words and frames of the "asks for a human" detector. Words are folded
//! (lowercase, no accents; "¿Podría?" is `podria`, "pásame" is `pasame`).

use std::sync::OnceLock;

use super::Language;
use super::engine::{
    CONTACT, Certainty::Plain, Certainty::Sure, Certainty::Weak, EXIST, Frame, Lexicon, SUBJECT,
    Slot::Attachment, Slot::Human, Slot::Maybe, Slot::One, TALK, WANT,
};

#[rustfmt::skip]
const TALK_VERBS: &[&str] = &[
    "hablar", "charlar", "conversar", "chatear", "platicar", "comunicarme", "comunicarnos",
    "hablarlo", "tratarlo", "hablar directamente",
];
const WITH: &[&str] = &["con", "con el", "con la", "directamente con"];
/// Transfer verbs with the pronoun attached: "pása*me* con …".
#[rustfmt::skip]
const TRANSFER_ENCLITIC: &[&str] = &[
    "pasame", "paseme", "pasadme", "pasenme", "pasarme", "comunicame", "comuniqueme",
    "comunicadme", "comuniquenme", "conectame", "conecteme", "conectadme", "conectarme",
    "transfiereme", "transfierame", "transferidme", "transfieranme", "transferirme", "ponme",
    "pongame", "ponedme", "pongannos", "ponerme", "derivame", "derivarme", "dirigeme",
    "redirigeme", "redirijame", "ponme en contacto", "pongame en contacto", "ponerme en contacto",
    "ponernos en contacto",
];
const ME: &[&str] = &["me", "nos"];
#[rustfmt::skip]
const MODALS: &[&str] = &[
    "puedes", "puede", "pueden", "podrias", "podria", "podrian", "podeis", "quieres",
];
#[rustfmt::skip]
const TRANSFER_VERBS: &[&str] = &[
    "pasas", "pasa", "pasan", "pasar", "comunicas", "comunica", "comunican", "comunicar",
    "conectas", "conecta", "conectan", "conectar", "transfieres", "transfiere", "transfieren",
    "transferir", "pones", "pone", "ponen", "poner", "derivas", "deriva", "derivan", "derivar",
    "pones en contacto", "pone en contacto", "poner en contacto",
];
const TO: &[&str] = &["con", "a", "al", "a la", "con el", "con la", "hacia"];
#[rustfmt::skip]
const WANT_VERBS: &[&str] = &[
    "quiero", "quisiera", "queria", "queremos", "necesito", "necesitamos", "necesitaria", "deseo",
    "desearia", "exijo", "pido", "solicito", "prefiero", "preferiria", "dame", "deme", "denme",
    "me gustaria", "busco",
];
const THERE_IS: &[&str] = &["hay", "habra", "existe", "hay algun", "hay alguna"];
#[rustfmt::skip]
const IS_AVAILABLE: &[&str] = &[
    "esta disponible", "estan disponibles", "disponible", "disponibles", "esta conectado",
    "esta en linea",
];
const CAN: &[&str] = &["puede", "podria", "pueden", "podrian"];
#[rustfmt::skip]
const HELP_VERBS: &[&str] = &[
    "ayudarme", "atenderme", "llamarme", "contactarme", "responderme", "escribirme",
    "revisar", "ayudar", "atender", "llamar", "contactar", "resolver", "encargarse",
];
#[rustfmt::skip]
const SUBJUNCTIVES: &[&str] = &[
    "que me llame", "que me llamen", "que me contacte", "que me contacten", "que me atienda",
    "que me atiendan", "que me ayude", "que me ayuden", "que me responda", "que me escriba",
];
#[rustfmt::skip]
const CONTACT_VERBS: &[&str] = &[
    "contactar", "contactar con", "contactar a", "llamar a", "escribir a", "escribirle a",
    "contacto con", "comunicarme con", "comunicarse con", "hablar por telefono con",
];

static FRAMES: &[Frame] = &[
    Frame {
        name: "hablar con",
        slots: &[One(TALK_VERBS), One(WITH), Human(TALK)],
    },
    Frame {
        name: "pásame con",
        slots: &[One(TRANSFER_ENCLITIC), Maybe(TO), Human(TALK)],
    },
    Frame {
        name: "me pasas con",
        slots: &[
            One(ME),
            Maybe(MODALS),
            One(TRANSFER_VERBS),
            One(TO),
            Human(TALK),
        ],
    },
    Frame {
        name: "quiero",
        slots: &[One(WANT_VERBS), Human(WANT)],
    },
    Frame {
        name: "hay",
        slots: &[One(THERE_IS), Human(EXIST)],
    },
    Frame {
        name: "está disponible",
        slots: &[One(IS_AVAILABLE), Human(TALK)],
    },
    Frame {
        name: "un agente está disponible",
        slots: &[Human(TALK), Attachment, One(IS_AVAILABLE)],
    },
    Frame {
        name: "un agente puede ayudarme",
        slots: &[
            Human(SUBJECT),
            Maybe(ME),
            One(CAN),
            Maybe(ME),
            One(HELP_VERBS),
        ],
    },
    Frame {
        name: "puede atenderme un agente",
        slots: &[One(CAN), Maybe(ME), One(HELP_VERBS), Human(SUBJECT)],
    },
    Frame {
        name: "que me llame",
        slots: &[One(SUBJUNCTIVES), Human(TALK)],
    },
    Frame {
        name: "contactar",
        slots: &[One(CONTACT_VERBS), Human(CONTACT)],
    },
];

#[rustfmt::skip]
pub(super) static LEXICON: Lexicon = Lexicon {
    language: Language::Spanish,
    frames: FRAMES,
    determiners: &[
        "un", "una", "uno", "el", "la", "los", "las", "al", "del", "algun", "alguna", "algunos",
        "su", "sus", "vuestro", "vuestra", "tu", "otro", "otra", "uno de sus", "una de sus",
        "uno de vuestros", "uno de los", "alguno de sus",
    ],
    qualifiers_before: &["verdadero", "verdadera", "autentico", "autentica"],
    qualifiers_after: &[
        "real", "reales", "de verdad", "de carne y hueso", "humano", "humana", "humanos",
        "en persona", "no un bot", "no una maquina", "no un robot", "no un chatbot",
        "y no un bot", "y no una maquina",
    ],
    modifiers: &[],
    nouns: &[
        ("humano", Sure), ("humana", Sure), ("humanos", Sure), ("ser humano", Sure),
        ("seres humanos", Sure), ("operador", Sure), ("operadora", Sure), ("operadores", Sure),
        ("atencion al cliente", Sure), ("servicio al cliente", Sure),
        ("servicio de atencion al cliente", Sure), ("servicio tecnico", Plain),
        ("persona", Plain), ("personas", Plain), ("agente", Plain), ("agentes", Plain),
        ("asesor", Plain), ("asesora", Plain), ("asesores", Plain), ("representante", Plain),
        ("ejecutivo", Plain), ("ejecutiva", Plain), ("encargado", Plain), ("encargada", Plain),
        ("responsable", Plain), ("gerente", Plain), ("supervisor", Plain),
        ("supervisora", Plain), ("empleado", Plain), ("empleada", Plain), ("tecnico", Plain),
        ("especialista", Plain), ("consultor", Plain), ("soporte", Plain),
        ("soporte tecnico", Plain), ("alguien", Weak), ("alguno de ustedes", Weak),
        ("alguno de vosotros", Weak),
    ],
    blockers: &[
        "inmobiliario", "inmobiliaria", "inmobiliarios", "de seguros", "de viajes", "de bolsa",
        "de aduanas", "de transito", "virtual", "virtuales", "ia", "bot", "chatbot", "fisica",
        "juridica", "de contacto", "de recursos humanos", "secreto", "de mas",
    ],
    attachment_starts: &["de", "del", "en"],
    attachment_words: &[
        "soporte", "atencion", "al", "cliente", "clientes", "servicio", "equipo", "tienda",
        "empresa", "ventas", "tecnico", "la", "el", "su", "vuestro", "vuestra", "facturacion",
    ],
    followers: &[
        "por favor", "porfa", "porfavor", "ya", "ahora", "ahora mismo", "inmediatamente",
        "urgente", "hoy", "disponible", "disponibles", "en linea", "aqui", "ahi", "gracias",
        "que me", "que pueda", "que me pueda", "con quien", "con el que", "con la que",
        "para hablar", "para que", "para ayudarme", "porque", "en vez", "en lugar", "o", "y no",
        "no un", "no una",
    ],
    relatives: &["que", "quien", "quienes", "el cual", "la cual"],
    fillers: &[
        "por favor", "porfa", "porfavor", "ya", "ahora", "ahora mismo", "urgente", "gracias",
        "hola", "buenas", "buenos dias", "buenas tardes", "ok", "vale", "si", "oye", "please",
        "de una vez", "disponible", "rapido",
    ],
    negators: &["no", "nunca", "jamas", "sin", "ni", "tampoco"],
    negation_path: &[
        "quiero", "queria", "quisiera", "necesito", "me", "nos", "hace", "falta", "deseo",
        "tengo", "que", "hay", "realmente", "de verdad", "mas", "gustaria", "pido", "es",
        "necesario", "para", "nada",
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
        check("quiero hablar con una persona", Some("hablar con"));
        check("pásame con un agente, por favor", Some("pásame con"));
        check("¿me puedes pasar con un asesor?", Some("me pasas con"));
        check("necesito un humano", Some("quiero"));
        check("¿hay alguien?", Some("hay"));
        check(
            "¿algún agente está disponible?",
            Some("un agente está disponible"),
        );
        check(
            "¿un asesor puede llamarme?",
            Some("un agente puede ayudarme"),
        );
        check(
            "¿puede atenderme una persona real?",
            Some("puede atenderme un agente"),
        );
        check("quiero que me llame un asesor", Some("que me llame"));
        check(
            "¿cómo puedo contactar con atención al cliente?",
            Some("contactar"),
        );
        check("¡Operador, por favor!", Some("short form"));
    }

    #[test]
    fn mentions() {
        check("hablé con una persona ayer", None);
        check("el agente inmobiliario no contesta", None);
        check("quiero hablar con recursos humanos", None);
        check("no quiero hablar con un agente", None);
        check("necesito una persona para recoger el paquete", None);
        check("¿eres un humano?", None);
    }
}
