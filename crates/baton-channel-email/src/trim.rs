//! The new text of a reply: what the person wrote, without the quoted history, forwarded
//! headers, signatures and mobile footers that follow it.
//!
//! Lines are classified first, then markers (reply attributions such as "On … wrote:",
//! forwarded-message delimiters, `From:`/`Sent:` header blocks, `-- ` signatures, mobile
//! footers) are found, and the text is cut at the first marker that ends the new text.
//! A quote followed by more of the writer's text is an interleaved reply: it is kept, and
//! only its attribution line goes. Every pattern is a linear-time `regex` over at most a few
//! joined lines, so the cost stays linear in the input however hostile it is.

use std::sync::LazyLock;

use regex::Regex;

/// The verbs of an attribution line ("… wrote:") in the languages replies arrive in.
const VERBS: &str = r"(?:wrote|writes|schrieb|scritto|écrit|escribió|escreveu|geschreven|schreef|skrev|napisał(?:a|\(a\))?|написал[аи]?|пише|написав|写道|寫道|kirjoitti|napsal|írta|yazdı)";

/// Words that open an attribution line ("On", "Am", "Le", "Il giorno", …).
const INTROS: &str = r"(?:on|am|le|il|el|em|op|den|dnia|w dniu|at|在|於|понедельник|вторник|среда|четверг|пятница|суббота|воскресенье)";

/// How an attribution line ends: a colon (ASCII or full-width) or a run of dashes.
const END: &str = r"(?:[:：]|-{2,})\s*$";

/// The longest attribution, in bytes, worth matching: real ones are far shorter, and the
/// cap keeps a hostile line from being joined and scanned again and again (and lets the
/// patterns use `.*` rather than bounded repeats, which compile into far slower automata).
const MAX_ATTRIBUTION: usize = 600;

/// How many lines an attribution may span (clients wrap the address and the verb).
const ATTRIBUTION_LINES: usize = 5;

/// At most this many non-empty lines after a delimiter make it a signature separator.
const SIGNATURE_LINES: usize = 6;

fn regex(pattern: &str) -> Regex {
    // The patterns are constants of this file; a typo fails every test run.
    Regex::new(pattern).expect("a valid constant pattern")
}

/// Starts with an intro word and a date: "On Mon, 1 Feb 2016, Ann <a@b> wrote:".
static INTRO_DATE: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"(?i)^(?:-+\s*)?{INTROS}[\s,].*\d.*{VERBS}.*{END}"
    ))
});

/// Starts with a date: "23 mar 2017 21:25 "Neil" <n@b> napisał(a):".
static DATE_FIRST: LazyLock<Regex> = LazyLock::new(|| regex(&format!(r"(?i)^\d.*{VERBS}.*{END}")));

/// A name and an address, then the verb: "Ann <a@b> schrieb am Fr., 28. Apr. 2017 …:".
static NAME_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"(?i)^[^<\s].*<[^<>\s]+@[^<>\s]+>.*{VERBS}.*{END}"
    ))
});

/// Gmail's numeric form, without a verb: "2016-03-03 17:21 GMT+01:00 Ann <a@b>:".
static NUMERIC_DATE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}\s.*(?:GMT|<[^<>\s]+@[^<>\s]*)"));

/// "-----Original Message-----", "---------- Forwarded message ---------" and kin.
static FORWARD_DELIMITER: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^[\s*_]*(?:-{2,}|_{2,}|={2,})\s*(?:original message|forwarded message|ursprüngliche nachricht|original nachricht|weitergeleitete nachricht|mensaje original|mensaje reenviado|message d'origine|message transféré|messaggio originale|messaggio inoltrato|mensagem original|mensagem encaminhada|oorspronkelijk bericht|doorgestuurd bericht|originalmeddelande|vidarebefordrat meddelande|opprinnelig melding|videresendt melding|wiadomość oryginalna|исходное сообщение|пересылаемое сообщение)\s*(?:-{2,}|_{2,}|={2,})?[\s*_]*$",
    )
});

/// Apple Mail's and others' "Begin forwarded message:".
static FORWARD_INTRO: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:begin forwarded message|début du message réexpédié|anfang der weitergeleiteten nachricht|inizio messaggio inoltrato|inicio del mensaje reenviado|início da mensagem reencaminhada|begin doorgestuurd bericht)\s*:?\s*$",
    )
});

/// The first field of a quoted header block: "From:" in several languages.
static FROM_FIELD: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)^(?:from|von|de|da|van|från|fra|od|от|发件人)\s*[:：]"));

/// The other fields of a quoted header block.
static OTHER_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:sent|date|to|cc|subject|reply-to|gesendet|datum|an|betreff|enviado|enviada|fecha|para|asunto|envoyé|à|objet|inviato|data|a|oggetto|risposta|verzonden|aan|onderwerp|skickat|till|ämne|sendt|til|emne|wysłano|do|temat|отправлено|кому|тема|assunto|收件人|主题|发送时间|日期)\s*[:：]",
    )
});

/// Mobile and webmail footers: "Sent from my iPhone", "Envoyé de mon iPhone", ….
static MOBILE_FOOTER: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:[(<]*\s*(?:sent|envoyé|inviato|enviado|verzonden|sendt|skickat|lähetetty|wysłane|отправлено)\s+(?:from|via|with|using|by|depuis|de|da|dal|desde|do|del|met|vanaf|van|fra|från|z|с)\s|von meinem .*gesendet|diese nachricht wurde von meinem .*gesendet|get \[?outlook for |发自我的|從我的|来自我的)",
    )
});

/// `>`-quoted lines, including the "C>" initials some clients put before the marker.
static QUOTE: LazyLock<Regex> = LazyLock::new(|| regex(r"^\s*(?:[A-Za-z]{1,3})?>"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Empty,
    Quote,
    Delimiter,
    Text,
}

/// What a marker that starts at a line is, and where it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// "On … wrote:": may head an interleaved quote.
    Attribution { end: usize },
    /// A forwarded message or a quoted header block: everything after is someone else's.
    Forward { end: usize },
}

impl Marker {
    fn end(self) -> usize {
        match self {
            Marker::Attribution { end } | Marker::Forward { end } => end,
        }
    }
}

/// The text of a line without its `>` quote markers, bold stars and surrounding space.
fn unquoted(line: &str) -> &str {
    line.trim_start_matches(|c: char| c == '>' || c == '*' || c.is_whitespace())
        .trim_end_matches(|c: char| c == '*' || c.is_whitespace())
}

fn kind(line: &str) -> Kind {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        Kind::Empty
    } else if QUOTE.is_match(line) {
        Kind::Quote
    } else if is_delimiter(trimmed) {
        Kind::Delimiter
    } else {
        Kind::Text
    }
}

/// A line of only rule characters ("______", "-----", "=====", Gmail's "ᐧ"). `#` is left
/// out: a run of them is as likely a comment in pasted code.
fn is_delimiter(trimmed: &str) -> bool {
    let rule = |c: char| matches!(c, '-' | '_' | '=' | '~' | '*' | '+' | 'ᐧ');
    trimmed.chars().all(rule) && (trimmed.chars().count() >= 5 || trimmed.contains('ᐧ'))
}

fn is_signature_start(line: &str) -> bool {
    let trimmed = line.trim();
    line.trim_end() == "--" || (trimmed.len() <= 120 && MOBILE_FOOTER.is_match(trimmed))
}

/// The lines of `text` and what starts at each of them.
struct Lines<'a> {
    lines: Vec<&'a str>,
    kinds: Vec<Kind>,
    markers: Vec<Option<Marker>>,
    /// For each line, the first line at or after it that is not empty.
    next_non_empty: Vec<usize>,
    /// For each line, the first line at or after it that is neither quoted nor empty.
    after_quote: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        let lines: Vec<&str> = text.split('\n').collect();
        let kinds: Vec<Kind> = lines.iter().map(|line| kind(line)).collect();
        // Computed once from the end, so that looking past a quote costs nothing however
        // many attributions a hostile mail stacks above a long one (no quadratic rescans).
        let next_non_empty = first_from_end(&kinds, |k| k != Kind::Empty);
        let after_quote = first_from_end(&kinds, |k| !matches!(k, Kind::Quote | Kind::Empty));
        let mut this = Lines {
            markers: vec![None; lines.len()],
            lines,
            kinds,
            next_non_empty,
            after_quote,
        };
        this.find_attributions();
        this.find_forwards();
        this
    }

    fn len(&self) -> usize {
        self.lines.len()
    }

    fn kind(&self, i: usize) -> Kind {
        self.kinds.get(i).copied().unwrap_or(Kind::Empty)
    }

    fn line(&self, i: usize) -> &'a str {
        self.lines.get(i).copied().unwrap_or("")
    }

    fn marker(&self, i: usize) -> Option<Marker> {
        self.markers.get(i).copied().flatten()
    }

    fn set_marker(&mut self, start: usize, marker: Marker) {
        if let Some(slot) = self.markers.get_mut(start)
            && slot.is_none()
        {
            *slot = Some(marker);
        }
    }

    /// The text of lines `start..=end` without quote markers, joined by spaces, or `None`
    /// when it is too long to be an attribution.
    fn joined(&self, start: usize, end: usize) -> Option<String> {
        let mut joined = String::new();
        for i in start..=end {
            let part = unquoted(self.line(i));
            if part.is_empty() {
                continue;
            }
            if joined.len() + part.len() > MAX_ATTRIBUTION {
                return None;
            }
            if !joined.is_empty() {
                joined.push(' ');
            }
            joined.push_str(part);
        }
        Some(joined)
    }

    fn find_attributions(&mut self) {
        for end in 0..self.len() {
            let last = unquoted(self.line(end));
            if last.len() <= MAX_ATTRIBUTION && NUMERIC_DATE.is_match(last) {
                let next = unquoted(self.line(end + 1));
                let wraps = end + 1 < self.len() && next.ends_with(':') && next.len() < 200;
                let stop = if wraps { end + 1 } else { end };
                self.set_marker(end, Marker::Attribution { end: stop });
                continue;
            }
            if !(last.ends_with(':') || last.ends_with('：') || last.ends_with("--")) {
                continue;
            }
            if let Some(start) = self.attribution_start(end) {
                self.set_marker(start, Marker::Attribution { end });
            }
        }
    }

    /// Where the attribution that ends at `end` starts: the latest line that opens with an
    /// intro word or a date, else the latest that opens with a name and an address (which
    /// would otherwise also match the address line of a wrapped "Le …, "Name"\n<a@b>\na écrit :").
    fn attribution_start(&self, end: usize) -> Option<usize> {
        let first = end.saturating_sub(ATTRIBUTION_LINES - 1);
        let starts = || (first..=end).rev().filter(|&s| self.kind(s) != Kind::Empty);
        let dated = starts().find(|&s| {
            self.joined(s, end)
                .is_some_and(|j| INTRO_DATE.is_match(&j) || DATE_FIRST.is_match(&j))
        });
        dated.or_else(|| {
            starts().find(|&s| {
                self.joined(s, end)
                    .is_some_and(|j| NAME_ADDRESS.is_match(&j))
            })
        })
    }

    fn find_forwards(&mut self) {
        for i in 0..self.len() {
            let text = unquoted(self.line(i));
            if FORWARD_DELIMITER.is_match(text) || FORWARD_INTRO.is_match(text) {
                let next = self.next_non_empty(i + 1);
                let end = self
                    .field_block_end(next)
                    .filter(|_| next <= i + 2)
                    .unwrap_or(i);
                self.set_marker(i, Marker::Forward { end });
            } else if let Some(end) = self.field_block_end(i) {
                self.set_marker(i, Marker::Forward { end });
            }
        }
    }

    /// A "From: … Sent: … To: … Subject: …" block starting at `start`: its last line.
    fn field_block_end(&self, start: usize) -> Option<usize> {
        if !FROM_FIELD.is_match(unquoted(self.line(start))) {
            return None;
        }
        let mut fields = 0;
        let mut end = start;
        for i in start + 1..self.len().min(start + 12) {
            let text = unquoted(self.line(i));
            if text.is_empty() {
                break;
            }
            if OTHER_FIELD.is_match(text) {
                fields += 1;
            }
            end = i;
        }
        (fields >= 2).then_some(end)
    }

    fn next_non_empty(&self, from: usize) -> usize {
        self.next_non_empty.get(from).copied().unwrap_or(self.len())
    }

    /// The first line after a run of quoted and empty lines starting at `from`.
    fn after_quote(&self, from: usize) -> usize {
        self.after_quote.get(from).copied().unwrap_or(self.len())
    }

    /// Whether the quote after the attribution ending at `end` is followed by more of the
    /// writer's own text (an interleaved reply) rather than by the end or by more history.
    fn interleaved(&self, end: usize) -> bool {
        let next = self.next_non_empty(end + 1);
        if self.kind(next) != Kind::Quote {
            return false;
        }
        let after = self.after_quote(next);
        after < self.len()
            && self.kind(after) == Kind::Text
            && self.marker(after).is_none()
            && !is_signature_start(self.line(after))
    }

    /// At most a few short lines follow `i`: what a signature under a rule looks like.
    fn only_signature_after(&self, i: usize) -> bool {
        (i + 1..self.len())
            .filter(|&k| self.kind(k) != Kind::Empty)
            .take(SIGNATURE_LINES + 1)
            .count()
            <= SIGNATURE_LINES
    }
}

/// For each position, the first position at or after it whose kind passes `wanted`, or the
/// length when none does.
fn first_from_end(kinds: &[Kind], wanted: impl Fn(Kind) -> bool) -> Vec<usize> {
    let mut next = kinds.len();
    let mut first: Vec<usize> = kinds
        .iter()
        .enumerate()
        .rev()
        .map(|(i, &kind)| {
            if wanted(kind) {
                next = i;
            }
            next
        })
        .collect();
    first.reverse();
    first
}

/// The new text of a reply in plain text: what its writer wrote, without what it quotes.
pub fn new_text(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines = Lines::new(&normalized);
    let n = lines.len();

    let mut start = lines.next_non_empty(0);
    // A reply that opens with an attribution or a forwarded header: what follows it (past
    // the quote it introduces, when the writer answers below) is the new text.
    if let Some(marker) = lines.marker(start) {
        let mut next = lines.next_non_empty(marker.end() + 1);
        if lines.kind(next) == Kind::Quote {
            next = lines.after_quote(next);
        }
        start = next;
    }

    let mut kept: Vec<usize> = Vec::new();
    let mut i = start;
    while i < n {
        match lines.marker(i) {
            Some(Marker::Attribution { end }) if lines.interleaved(end) => {
                i = end + 1;
                continue;
            }
            Some(_) => break,
            None => {}
        }
        if is_signature_start(lines.line(i))
            || (lines.kind(i) == Kind::Delimiter && lines.only_signature_after(i))
        {
            break;
        }
        kept.push(i);
        i += 1;
    }

    // Trailing rules and quotes (history with no attribution) go too, as long as some text
    // of the writer's own stays: a reply that is only a quote keeps it.
    let has_text = kept.iter().any(|&k| lines.kind(k) == Kind::Text);
    while let Some(&last) = kept.last() {
        match lines.kind(last) {
            Kind::Empty | Kind::Delimiter => {}
            Kind::Quote if has_text => {}
            Kind::Quote | Kind::Text => break,
        }
        kept.pop();
    }

    let mut out = String::new();
    for (position, &k) in kept.iter().enumerate() {
        if position > 0 {
            out.push('\n');
        }
        out.push_str(lines.line(k).trim_end());
    }
    out
}
