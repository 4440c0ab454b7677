//! The frustration patterns of each language, folded (lowercase, no accents,
//! apostrophes split words: "you're" is `you re`, "m'aidez" is `m aidez`). `~` skips up
//! to three words, `$` ends the clause (see the module documentation).

use crate::text::human::Language;

#[rustfmt::skip]
const ENGLISH: &[&str] = &[
    // Not helping.
    "not helping", "not helpful", "not very helpful", "no help at all", "you re no help",
    "you are no help", "youre no help", "been no help", "of no help", "isn t helping",
    "isnt helping", "isn t helpful", "wasn t helpful", "doesn t help $", "didn t help $",
    "does not help $", "did not help $", "doesn t help me", "didn t help me", "don t help me",
    "not help me", "doesnt help $", "didnt help $", "not getting anywhere", "getting nowhere",
    // Useless, pointless.
    "this is useless", "that s useless", "thats useless", "it s useless", "its useless",
    "you re useless", "you are useless", "youre useless", "so useless", "totally useless",
    "completely useless", "absolutely useless", "utterly useless", "useless bot",
    "useless chatbot", "useless answer", "useless answers", "useless reply", "useless assistant",
    "is useless $", "this is pointless", "that s pointless", "pointless $", "waste of time",
    "waste of my time", "wasting my time", "this is a joke", "what a joke", "this is ridiculous",
    "that s ridiculous", "ridiculous $", "this is absurd", "nonsense $", "garbage $",
    "rubbish $",
    // Repeating themselves.
    "already asked this", "already asked that", "already asked you", "asked this already",
    "asked that already", "asked you already", "already asked $", "already told you",
    "already said that", "already said this", "already said it", "already explained",
    "asked ~ times", "told you ~ times", "said it ~ times", "said this ~ times",
    "said that ~ times", "repeated ~ times", "told you twice", "told you ~ already",
    "asked ~ twice", "said ~ twice", "thanks for nothing", "thank you for nothing",
    "for the third time", "for the fourth time",
    "for the fifth time", "for the 3rd time", "for the umpteenth time",
    "for the hundredth time", "for the last time", "how many times do i", "how many times have i",
    "how many times must i", "how many more times", "i keep asking", "keep telling you",
    "i keep repeating", "repeating myself", "same answer again", "the same answer",
    "same thing again", "going in circles", "not what i asked", "that s not my question",
    "that is not my question", "answer my question", "answer the question",
    "not answering my question", "not answering the question", "you re not answering",
    "didn t answer my question", "doesn t answer my question", "did not answer my question",
    "never answered my question", "time i ve asked", "time i have asked", "time i m asking",
    "time i am asking", "time i ask", "time i ve told you", "time i ve said",
    // Not understood, fed up.
    "you don t understand", "you do not understand", "you re not understanding",
    "you don t get it", "you re not listening", "you are not listening", "not listening",
    "are you even listening", "frustrated", "frustrating", "so annoying", "this is annoying",
    "i m annoyed", "fed up", "sick of", "sick and tired", "unacceptable", "stupid bot",
    "dumb bot", "stupid chatbot", "stupid machine", "stupid robot", "terrible service",
    "worst service", "worst customer service", "wtf",
];

#[rustfmt::skip]
const ITALIAN: &[&str] = &[
    "non mi stai aiutando", "non mi state aiutando", "non mi sta aiutando", "non mi aiuti",
    "non mi aiutate", "non mi hai aiutato", "non mi avete aiutato", "non mi ha aiutato",
    "non mi sei d aiuto", "non mi sei di aiuto", "non sei d aiuto", "non sei di aiuto",
    "non mi e stato d aiuto", "non mi e stato di aiuto", "non serve a niente",
    "non serve a nulla", "non servi a niente", "non servi a nulla", "non servite a niente",
    "non servite a nulla", "non mi serve a niente", "sei inutile", "siete inutili",
    "e inutile $", "risposta inutile", "risposte inutili", "bot inutile",
    "completamente inutile", "assolutamente inutile", "davvero inutile", "totalmente inutile",
    "te l ho gia chiesto", "te l ho gia detto", "ti ho gia detto", "ti ho gia chiesto",
    "l ho gia chiesto", "l ho gia detto", "gia chiesto $", "gia detto $", "chiesto ~ volte",
    "detto ~ volte", "scritto ~ volte", "ripetuto ~ volte", "per la terza volta",
    "per la quarta volta", "per l ennesima volta", "quante volte devo", "quante volte ve lo",
    "quante volte te lo", "quante volte lo", "sto ripetendo", "continuo a ripetere",
    "perdita di tempo", "perdere tempo", "non capisci", "non hai capito", "non avete capito",
    "non mi ascolti", "non mi ascoltate", "non mi capisci", "non mi capite",
    "non mi stai capendo", "non mi state capendo", "non state capendo", "non rispondi",
    "non risponde alla mia domanda", "non hai risposto", "non avete risposto",
    "volta che te lo chiedo", "volta che lo chiedo", "volta che chiedo", "volta che te lo dico",
    "volta che lo dico", "volta che lo scrivo", "non e quello che ho chiesto", "non ho chiesto questo",
    "e ridicolo", "ridicolo $", "e assurdo", "assurdo $", "che schifo", "vergognoso",
    "sono stufo", "sono stufa", "sono stanco di", "sono stanca di", "mi avete stufato",
    "mi hai stufato", "frustrante", "sono frustrato", "sono frustrata", "bot stupido",
    "stupido bot", "inaccettabile",
];

#[rustfmt::skip]
const SPANISH: &[&str] = &[
    "no me estas ayudando", "no me esta ayudando", "no me estan ayudando", "no me ayudas",
    "no me ayuda en nada", "no me ayudan", "no me has ayudado", "no me han ayudado",
    "no me ha ayudado", "no me sirves", "no sirves para nada", "no sirve para nada",
    "no sirve de nada", "no me sirve de nada", "no ayudas en nada", "eres inutil",
    "sois inutiles", "son inutiles", "es inutil $", "esto es inutil", "completamente inutil",
    "totalmente inutil", "bot inutil", "respuesta inutil", "ya te lo dije", "ya te lo he dicho",
    "ya lo he dicho", "ya lo dije", "ya te lo pregunte", "ya te lo he preguntado",
    "ya lo he preguntado", "ya lo pregunte", "ya pregunte $", "ya te dije", "ya le dije",
    "ya te he dicho", "ya se lo dije", "ya se lo he dicho", "no respondes", "no contestas",
    "no responde a mi pregunta", "no has respondido", "vez que te lo pregunto",
    "vez que lo pregunto", "vez que pregunto", "vez que te lo digo", "vez que lo digo", "pregunte ~ veces",
    "preguntado ~ veces", "dicho ~ veces", "dije ~ veces", "repetido ~ veces",
    "escrito ~ veces", "por tercera vez", "por cuarta vez", "por enesima vez",
    "cuantas veces tengo", "cuantas veces te lo", "cuantas veces lo", "cuantas veces mas",
    "perdida de tiempo", "perder el tiempo", "no entiendes", "no me entiendes",
    "no me escuchas", "no estas entendiendo", "no es lo que pregunte", "no pregunte eso",
    "es ridiculo", "que ridiculo", "ridiculo $", "estoy harto", "estoy harta",
    "hasta las narices", "que desastre", "es un desastre", "es una verguenza", "frustrante",
    "estoy frustrado", "estoy frustrada", "bot estupido", "estupido bot", "inaceptable",
];

#[rustfmt::skip]
const FRENCH: &[&str] = &[
    "vous ne m aidez pas", "tu ne m aides pas", "ca ne m aide pas", "ca ne m aide en rien",
    "cela ne m aide pas", "vous ne m avez pas aide", "tu ne m as pas aide",
    "ca ne m a pas aide", "vous n etes d aucune aide", "tu n es d aucune aide",
    "d aucune aide", "tu ne sers a rien", "vous ne servez a rien", "ca ne sert a rien $",
    "ca sert a rien $", "c est inutile", "t es inutile", "tu es inutile", "vous etes inutile",
    "vous etes inutiles", "completement inutile", "totalement inutile", "bot inutile",
    "reponse inutile", "je l ai deja dit", "je vous l ai deja dit", "je te l ai deja dit",
    "je l ai deja demande", "je vous l ai deja demande", "deja demande $", "deja dit $",
    "demande ~ fois", "dit ~ fois", "repete ~ fois", "ecrit ~ fois",
    "pour la troisieme fois", "pour la quatrieme fois", "pour la enieme fois",
    "pour la ennieme fois", "combien de fois dois", "combien de fois faut",
    "combien de fois je", "vous ne repondez pas", "tu ne reponds pas",
    "ne repond pas a ma question", "vous n avez pas repondu", "tu n as pas repondu",
    "fois que je demande", "fois que je pose", "fois que je vous le dis", "fois que je le dis",
    "fois que je vous demande", "fois que je le demande", "fois que j ecris", "perte de temps", "perdre mon temps", "vous ne comprenez pas",
    "tu ne comprends pas", "tu comprends rien", "vous comprenez rien", "tu ne m ecoutes pas",
    "vous ne m ecoutez pas", "ce n est pas ce que j ai demande",
    "c est pas ce que j ai demande", "c est ridicule", "ridicule $", "j en ai marre",
    "ras le bol", "n importe quoi", "c est nul", "bot nul", "inadmissible", "inacceptable",
    "frustrant", "je suis frustre", "je suis frustree", "bot stupide", "c est une blague",
    "scandaleux",
];

#[rustfmt::skip]
const GERMAN: &[&str] = &[
    "das hilft mir nicht", "das hilft nicht weiter", "hilft mir nicht weiter",
    "sie helfen mir nicht", "du hilfst mir nicht", "ihr helft mir nicht",
    "sie haben mir nicht geholfen", "du hast mir nicht geholfen", "das hat mir nicht geholfen",
    "das hat nicht geholfen", "keine hilfe $", "bringt mir nichts", "das bringt nichts",
    "bringt doch nichts", "du bist nutzlos", "das ist nutzlos", "sie sind nutzlos",
    "vollig nutzlos", "total nutzlos", "komplett nutzlos", "nutzloser bot", "nutzlose antwort",
    "ist nutzlos $", "das ist sinnlos", "vollig sinnlos", "ist sinnlos $", "zwecklos",
    "schon ~ gefragt", "schon ~ gesagt", "schon ~ geschrieben", "schon ~ erklart",
    "bereits ~ gefragt", "bereits ~ gesagt", "frage ~ mal", "sage ~ mal", "schreibe ~ mal",
    "wie oft muss ich", "wie oft noch", "wie oft soll ich", "beantworten meine frage nicht",
    "beantwortest meine frage nicht", "beantwortet meine frage nicht",
    "meine frage nicht beantwortet", "das dritte mal $", "das zweite mal $", "das vierte mal $", "zeitverschwendung",
    "verschwende meine zeit", "verschwenden meine zeit", "du verstehst mich nicht",
    "sie verstehen mich nicht", "verstehst du nicht", "verstehen sie nicht",
    "du verstehst nicht", "sie verstehen nicht", "sie horen mir nicht zu",
    "du horst mir nicht zu", "das habe ich nicht gefragt", "das war nicht meine frage",
    "lacherlich", "eine frechheit", "unverschamt", "die nase voll", "es reicht $",
    "es reicht mir", "mir reicht s", "mir reicht es", "frustrierend", "ich bin frustriert",
    "ich bin genervt", "das nervt", "bloder bot", "dummer bot", "inakzeptabel",
];

pub(super) static PATTERNS: &[(Language, &[&str])] = &[
    (Language::English, ENGLISH),
    (Language::Italian, ITALIAN),
    (Language::Spanish, SPANISH),
    (Language::French, FRENCH),
    (Language::German, GERMAN),
];
