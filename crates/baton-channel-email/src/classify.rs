//! What kind of mail this is, and why: only human mail may reach the customer agent or the
//! triggers; the rest is recorded but never answered.

use std::sync::LazyLock;

use regex::Regex;

use crate::fields::message_id_field;
use crate::mail::InboundMail;

/// The header every mail Baton sends carries, so a copy that comes back (a forwarding loop,
/// a mailbox that receives its own mail) is recognised as ours.
pub const LOOP_HEADER: &str = "X-Baton-Loop";

/// What a mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Human,
    /// An out-of-office or other automatic reply (RFC 3834).
    AutoReply,
    /// A delivery failure report (RFC 3464) or another mailer-daemon message.
    Bounce,
    MailingList,
    /// Mail Baton itself sent.
    Ours,
}

/// A mail's kind, the reason it was given, and for a bounce the Message-ID of the message
/// it returns (for matching it to what we sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub kind: Kind,
    pub reason: String,
    pub original_message_id: Option<String>,
}

/// What makes a mail ours: the domains of the Message-IDs we generate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ours {
    pub message_id_domains: Vec<String>,
}

/// Subjects that automatic replies open with, in the languages the channel serves.
static AUTO_REPLY_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^\s*(?:out of (?:the )?office|out-of-office|automatic reply|auto[- ]?reply|auto[- ]?response|auto:|automatische antwort|abwesenheitsnotiz|abwesend|risposta automatica|fuori (?:sede|ufficio)|respuesta autom[aá]tica|fuera de la oficina|r[ée]ponse automatique|absen(?:ce|t)(?:\s*:|\s+du\b|\s*$)|automatisch antwoord|afwezig|resposta autom[aá]tica|fora do escrit[oó]rio|autosvar|fr[aå]nvaro|automatisk svar|odpowied[zź] automatyczna|автоматический ответ|自动回复)",
    )
});

/// Subjects of delivery failures from servers that send no DSN structure.
static BOUNCE_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^\s*(?:undelivered mail returned to sender|delivery status notification \(failure\)|mail delivery failed|failure notice|returned mail:|undeliverable:|unzustellbar:|non recapitabile:|non remis\s*:|no se puede entregar:|delivery failure)",
    )
});

fn regex(pattern: &str) -> Regex {
    // A constant pattern: a typo fails every test run.
    Regex::new(pattern).expect("a valid constant pattern")
}

/// Classifies `mail`. The order matters: our own mail first (never answer ourselves), then
/// bounces (which often also say `Auto-Submitted`), then auto-replies, then lists; the weak
/// signals (`Precedence`, `X-Auto-Response-Suppress`) only when nothing stronger spoke.
pub fn classify(mail: &InboundMail, ours: &Ours) -> Classification {
    let (kind, reason) = kind_and_reason(mail, ours);
    let original_message_id = (kind == Kind::Bounce)
        .then(|| bounced_message_id(mail))
        .flatten();
    Classification {
        kind,
        reason,
        original_message_id,
    }
}

fn kind_and_reason(mail: &InboundMail, ours: &Ours) -> (Kind, String) {
    if mail.header(LOOP_HEADER).is_some() {
        return (Kind::Ours, format!("carries our loop header {LOOP_HEADER}"));
    }
    if !mail.message_id_derived
        && let Some((_, domain)) = mail.message_id.rsplit_once('@')
        && ours
            .message_id_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(domain))
    {
        return (Kind::Ours, format!("Message-ID in our domain {domain}"));
    }

    if mail.report.delivery_status {
        return (
            Kind::Bounce,
            "multipart/report delivery-status notification".to_owned(),
        );
    }
    let sender = mail
        .from
        .as_ref()
        .and_then(|from| from.address.as_deref())
        .unwrap_or("");
    let local = sender.split('@').next().unwrap_or("");
    if local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster") {
        return (Kind::Bounce, format!("sent by {sender}"));
    }
    let subject = mail.subject.as_deref().unwrap_or("");
    if BOUNCE_SUBJECT.is_match(subject) {
        return (
            Kind::Bounce,
            format!("delivery failure subject \"{subject}\""),
        );
    }

    if let Some(value) = mail.header("Auto-Submitted") {
        let token = value.split(';').next().unwrap_or("").trim();
        if !token.eq_ignore_ascii_case("no") {
            return (Kind::AutoReply, format!("Auto-Submitted: {value}"));
        }
    }
    for header in ["X-Autoreply", "X-Autorespond"] {
        if let Some(value) = mail.header(header) {
            return (Kind::AutoReply, format!("{header}: {value}"));
        }
    }
    if AUTO_REPLY_SUBJECT.is_match(subject) {
        return (
            Kind::AutoReply,
            format!("automatic reply subject \"{subject}\""),
        );
    }
    if mail.header("Return-Path").is_some_and(is_null_path) {
        return (
            Kind::Bounce,
            "null return path (Return-Path: <>)".to_owned(),
        );
    }

    for header in ["List-Id", "List-Unsubscribe"] {
        if let Some(value) = mail.header(header) {
            return (Kind::MailingList, format!("{header}: {value}"));
        }
    }

    if let Some(value) = mail.header("Precedence") {
        let precedence = value.trim().to_ascii_lowercase();
        if matches!(precedence.as_str(), "bulk" | "junk" | "list") {
            return (Kind::AutoReply, format!("Precedence: {value}"));
        }
    }
    if let Some(value) = mail.header("X-Auto-Response-Suppress") {
        return (
            Kind::AutoReply,
            format!("X-Auto-Response-Suppress: {value}"),
        );
    }
    (
        Kind::Human,
        "no automatic, bounce or list signal".to_owned(),
    )
}

fn is_null_path(value: &str) -> bool {
    let inner: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    inner == "<>"
}

/// The Message-ID of the message a bounce returns: from its MIME report when it has one,
/// else from the original headers quoted in its text, else from its In-Reply-To.
fn bounced_message_id(mail: &InboundMail) -> Option<String> {
    mail.report
        .original_message_id
        .clone()
        .or_else(|| message_id_field(&mail.text, "message-id"))
        .or_else(|| mail.in_reply_to.clone())
}
