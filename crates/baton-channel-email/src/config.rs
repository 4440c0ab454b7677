//! `[email]` and its `[[email.mailboxes]]`: the keys are a contract (issue 11). Passwords
//! never reach a log: `Debug` redacts them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// `[email]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    pub mailboxes: Vec<MailboxConfig>,
    /// Automatic mails (the assistant's answers, handoff notices) to one address per
    /// hour; the next is not sent and an audit row says so. 0 means the default, 10.
    pub automatic_replies_per_hour: u32,
    /// A larger mail is not fetched: its header is kept and it is quarantined. 0 means
    /// the default, 50 MiB.
    pub max_message_bytes: usize,
    /// PEM certificates of a private CA trusted beside the system's roots, for mail
    /// servers whose certificates it signs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<std::path::PathBuf>,
    /// For tests only: a pause between storing a fetched mail and handling it, so a test
    /// can kill the process in between. Never set it in production.
    #[serde(skip_serializing_if = "is_zero")]
    pub test_pause_before_commit_ms: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl EmailConfig {
    pub fn parse_options(&self) -> crate::parse::ParseOptions {
        let defaults = crate::parse::ParseOptions::default();
        match self.max_message_bytes {
            0 => defaults,
            max => crate::parse::ParseOptions {
                max_message_bytes: max,
                max_attachment_bytes: defaults.max_attachment_bytes.min(max),
            },
        }
    }

    pub fn automatic_cap(&self) -> u64 {
        match self.automatic_replies_per_hour {
            0 => 10,
            n => u64::from(n),
        }
    }
}

/// `[[email.mailboxes]]`: one mailbox read over IMAP and answered over SMTP.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    pub name: String,
    /// Replies come from here.
    pub address: String,
    /// The domain of the Message-IDs we make; the address's domain when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id_domain: Option<String>,
    pub imap: ImapConfig,
    pub smtp: SmtpConfig,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub user: String,
    pub password: String,
    #[serde(default = "inbox")]
    pub folder: String,
}

fn inbox() -> String {
    "INBOX".into()
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    /// Empty: no authentication.
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub password: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    None,
    Starttls,
    Tls,
}

const REDACTED: &str = "<redacted>";

impl fmt::Debug for MailboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailboxConfig")
            .field("name", &self.name)
            .field("address", &self.address)
            .field("message_id_domain", &self.message_id_domain)
            .field("imap", &self.imap)
            .field("smtp", &self.smtp)
            .finish()
    }
}

impl fmt::Debug for ImapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &REDACTED)
            .field("folder", &self.folder)
            .finish()
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &REDACTED)
            .finish()
    }
}

impl MailboxConfig {
    /// The domain of our Message-IDs.
    pub fn id_domain(&self) -> &str {
        match &self.message_id_domain {
            Some(domain) => domain,
            None => self.address.rsplit_once('@').map_or("", |(_, d)| d),
        }
    }
}

/// An invalid entry: its key path (`email.mailboxes[0].imap.port`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub key: String,
    pub reason: String,
}

/// Checks every mailbox entry; the first problem stops the start.
pub fn validate(config: &EmailConfig) -> Result<(), Invalid> {
    if let Some(path) = &config.ca_file
        && !path.is_file()
    {
        return Err(Invalid {
            key: "email.ca_file".into(),
            reason: format!("{} is not a file", path.display()),
        });
    }
    for (i, mailbox) in config.mailboxes.iter().enumerate() {
        let bad = |key: &str, reason: String| {
            Err(Invalid {
                key: format!("email.mailboxes[{i}].{key}"),
                reason,
            })
        };
        let name = &mailbox.name;
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !valid_name {
            return bad(
                "name",
                format!("{name:?}: lowercase letters, digits, - and _ (it is a URL path segment)"),
            );
        }
        if config.mailboxes[..i].iter().any(|m| m.name == *name) {
            return bad(
                "name",
                format!("{name:?} is already the name of an earlier mailbox"),
            );
        }
        if !is_address(&mailbox.address) {
            return bad(
                "address",
                format!("{:?} is not an email address", mailbox.address),
            );
        }
        if let Some(domain) = &mailbox.message_id_domain
            && (domain.is_empty() || domain.contains(['@', '<', '>', ' ']))
        {
            return bad("message_id_domain", format!("{domain:?} is not a domain"));
        }
        for (side, host, port) in [
            ("imap", &mailbox.imap.host, mailbox.imap.port),
            ("smtp", &mailbox.smtp.host, mailbox.smtp.port),
        ] {
            if host.trim().is_empty() {
                return bad(&format!("{side}.host"), "empty".into());
            }
            if port == 0 {
                return bad(&format!("{side}.port"), "must be 1 to 65535".into());
            }
        }
        if mailbox.imap.user.is_empty() {
            return bad("imap.user", "empty".into());
        }
        if mailbox.imap.folder.trim().is_empty() {
            return bad("imap.folder", "empty".into());
        }
        if mailbox.smtp.user.is_empty() != mailbox.smtp.password.is_empty() {
            return bad(
                "smtp.user",
                "user and password are both set (authentication) or both empty".into(),
            );
        }
    }
    Ok(())
}

fn is_address(value: &str) -> bool {
    match value.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !value.contains(|c: char| c.is_whitespace() || c == '<' || c == '>')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox() -> MailboxConfig {
        MailboxConfig {
            name: "support".into(),
            address: "support@example.test".into(),
            message_id_domain: None,
            imap: ImapConfig {
                host: "127.0.0.1".into(),
                port: 1143,
                tls: Tls::None,
                user: "support@example.test".into(),
                password: "imap-secret".into(),
                folder: "INBOX".into(),
            },
            smtp: SmtpConfig {
                host: "127.0.0.1".into(),
                port: 1025,
                tls: Tls::None,
                user: "smtp-user".into(),
                password: "smtp-secret".into(),
            },
        }
    }

    #[test]
    fn passwords_are_redacted() {
        let shown = format!("{:?}", mailbox());
        assert!(!shown.contains("imap-secret"), "{shown}");
        assert!(!shown.contains("smtp-secret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn id_domain_defaults_to_the_address_domain() {
        let mut m = mailbox();
        assert_eq!(m.id_domain(), "example.test");
        m.message_id_domain = Some("mail.example.test".into());
        assert_eq!(m.id_domain(), "mail.example.test");
    }

    #[test]
    fn invalid_entries_name_their_key_path() {
        let config = |m: MailboxConfig| EmailConfig {
            mailboxes: vec![mailbox(), m],
            ..EmailConfig::default()
        };
        let key = |m: MailboxConfig| validate(&config(m)).err().map(|e| e.key);
        let mut m = mailbox();
        assert_eq!(key(m.clone()).as_deref(), Some("email.mailboxes[1].name"));
        m.name = "second".into();
        assert_eq!(key(m.clone()), None);
        m.imap.port = 0;
        assert_eq!(
            key(m.clone()).as_deref(),
            Some("email.mailboxes[1].imap.port")
        );
        m.imap.port = 143;
        m.smtp.tls = Tls::Starttls;
        assert_eq!(key(m.clone()), None);
        m.smtp.password = String::new();
        assert_eq!(
            key(m.clone()).as_deref(),
            Some("email.mailboxes[1].smtp.user")
        );
        m.smtp.password = "secret".into();
        m.address = "support".into();
        assert_eq!(key(m).as_deref(), Some("email.mailboxes[1].address"));
    }
}
