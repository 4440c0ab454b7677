//! Sending outbox messages by mail: the engine's `Deliverer` for channel `email`. Each
//! mail goes from the mailbox's address to the conversation's visitor, in the thread
//! (`Re:` subject with the `[#c…]` tag, In-Reply-To and the References chain, Reply-To
//! the conversation's own address), under a Message-ID of ours recorded before it is sent
//! (the same on every attempt). Automatic mails carry `Auto-Submitted: auto-replied`, and
//! are capped per address and hour, so a loop cannot run away.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use baton_engine::model::{Author, OutboxItem};
use baton_engine::{Deliverer, Delivery};
use baton_store::{SeaStore, ThreadMessageId};
use chrono::Utc;
use lettre::message::Mailbox;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls as SmtpTls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;

use crate::classify::LOOP_HEADER;
use crate::config::{EmailConfig, MailboxConfig};
use crate::threading;
use crate::tls::{TlsError, Trust};

const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends the `email` channel's outbox.
#[derive(Debug, Clone)]
pub struct EmailDeliverer {
    store: SeaStore,
    config: Arc<EmailConfig>,
    /// Per mailbox (by name): how to reach its SMTP server, built once.
    transports: Arc<HashMap<String, AsyncSmtpTransport<Tokio1Executor>>>,
    /// Held from counting an address's automatic mails to recording the next one, so
    /// concurrent deliveries cannot all pass the cap. Per host: several hosts may
    /// overshoot it by one mail each at most.
    cap_lock: Arc<tokio::sync::Mutex<()>>,
}

impl EmailDeliverer {
    /// Fails when a mailbox's TLS settings cannot be built (a bad private CA).
    pub fn new(store: SeaStore, config: Arc<EmailConfig>, trust: &Trust) -> Result<Self, TlsError> {
        let transports = config
            .mailboxes
            .iter()
            .map(|m| Ok((m.name.clone(), transport(m, trust)?)))
            .collect::<Result<_, TlsError>>()?;
        Ok(EmailDeliverer {
            store,
            config,
            transports: Arc::new(transports),
            cap_lock: Arc::default(),
        })
    }

    fn mailbox(&self, name: &str) -> Option<&MailboxConfig> {
        self.config.mailboxes.iter().find(|m| m.name == name)
    }
}

fn retry(reason: String) -> Delivery {
    Delivery::Retry {
        after: None,
        reason,
    }
}

/// Everything that makes one outgoing mail.
#[derive(Debug)]
pub(crate) struct Outgoing<'a> {
    pub mailbox: &'a MailboxConfig,
    pub conversation: i64,
    pub to: &'a str,
    pub subject: &'a str,
    pub message_id: &'a str,
    /// The thread's Message-IDs, oldest first, without this mail's.
    pub references: &'a [String],
    pub automatic: bool,
    pub text: &'a str,
}

/// The mail, formatted by lettre.
pub(crate) fn build(out: &Outgoing<'_>) -> Result<Message, String> {
    let from: Mailbox = out
        .mailbox
        .address
        .parse()
        .map_err(|e| format!("the mailbox address: {e}"))?;
    let to: Mailbox = out
        .to
        .parse()
        .map_err(|e| format!("the visitor's address {:?}: {e}", out.to))?;
    let reply_to: Mailbox = threading::reply_address(&out.mailbox.address, out.conversation)
        .parse()
        .map_err(|e| format!("the reply address: {e}"))?;
    let mut builder = Message::builder()
        .from(from)
        .reply_to(reply_to)
        .to(to)
        .subject(threading::reply_subject(out.subject, out.conversation))
        .message_id(Some(format!("<{}>", out.message_id)))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str(LOOP_HEADER),
            format!("{}; c{}", out.mailbox.name, out.conversation),
        ));
    if let Some(last) = out.references.last() {
        builder = builder.in_reply_to(format!("<{last}>")).references(
            out.references
                .iter()
                .map(|id| format!("<{id}>"))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    if out.automatic {
        builder = builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-replied".to_owned(),
        ));
    }
    builder
        .body(out.text.to_owned())
        .map_err(|e| format!("formatting the mail: {e}"))
}

fn transport(
    mailbox: &MailboxConfig,
    trust: &Trust,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, TlsError> {
    let smtp = &mailbox.smtp;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
        .port(smtp.port)
        .timeout(Some(SMTP_TIMEOUT));
    if smtp.tls != crate::config::Tls::None {
        let mut parameters = TlsParameters::builder(smtp.host.clone());
        if let Some(pem) = &trust.ca_pem {
            let ca = Certificate::from_pem(pem).map_err(|e| TlsError::CaFile {
                path: "(email.ca_file)".into(),
                reason: e.to_string(),
            })?;
            parameters = parameters.add_root_certificate(ca);
        }
        let parameters = parameters
            .build_rustls()
            .map_err(|e| TlsError::Setup(format!("SMTP TLS for {}: {e}", mailbox.name)))?;
        // STARTTLS is required, never opportunistic: a server that does not offer it
        // (or an attacker who strips it) gets no mail.
        builder = builder.tls(match smtp.tls {
            crate::config::Tls::Tls => SmtpTls::Wrapper(parameters),
            _ => SmtpTls::Required(parameters),
        });
    }
    if !smtp.user.is_empty() {
        builder = builder.credentials(Credentials::new(smtp.user.clone(), smtp.password.clone()));
    }
    Ok(builder.build())
}

#[async_trait]
impl Deliverer for EmailDeliverer {
    async fn deliver(&self, item: &OutboxItem) -> Delivery {
        let conversation = item.message.conversation_id;
        let thread = match self.store.email_thread(conversation).await {
            Ok(Some(thread)) => thread,
            Ok(None) => {
                return Delivery::Failed {
                    reason: "the conversation has no email thread".into(),
                };
            }
            Err(error) => return retry(error.to_string()),
        };
        let Some(mailbox) = self.mailbox(&thread.mailbox) else {
            return Delivery::Failed {
                reason: format!("no mailbox is named {:?} any more", thread.mailbox),
            };
        };
        // A human's reply is not automatic; the assistant's answers and notices are.
        let automatic = item.message.author != Author::User;
        let message_id =
            threading::our_message_id(conversation.0, item.message.id.0, mailbox.id_domain());
        let now = Utc::now();
        let counting = self.cap_lock.lock().await;
        let first_attempt = match self.store.sent_email(&message_id).await {
            Ok(sent) => sent.is_none(),
            Err(error) => return retry(error.to_string()),
        };
        if automatic && first_attempt {
            let since = now - chrono::Duration::hours(1);
            let sent = match self
                .store
                .automatic_emails_since(&thread.address, since)
                .await
            {
                Ok(sent) => sent,
                Err(error) => return retry(error.to_string()),
            };
            let cap = self.config.automatic_cap();
            if sent >= cap {
                let reason = format!(
                    "{sent} automatic mails went to {} in the last hour (the cap is {cap}); \
                     this one is not sent",
                    thread.address
                );
                let audited = self
                    .store
                    .email_audit(
                        "email_automatic_capped",
                        Some(conversation),
                        json!({
                            "channel": "email",
                            "mailbox": mailbox.name,
                            "to": thread.address,
                            "message_id": item.message.id.0,
                            "cap": cap,
                        }),
                        now,
                    )
                    .await;
                if let Err(error) = audited {
                    return retry(error.to_string());
                }
                return Delivery::Failed { reason };
            }
        }
        let references: Vec<String> = thread
            .references
            .iter()
            .filter(|id| **id != message_id)
            .cloned()
            .collect();
        let mail = match build(&Outgoing {
            mailbox,
            conversation: conversation.0,
            to: &thread.address,
            subject: &thread.subject,
            message_id: &message_id,
            references: &references,
            automatic,
            text: &item.message.text,
        }) {
            Ok(mail) => mail,
            Err(reason) => return Delivery::Failed { reason },
        };
        // Recorded before sending: a reply or a bounce may come back before we learn
        // that the server took it.
        let recorded = self
            .store
            .record_email_message_id(
                ThreadMessageId {
                    message_id: &message_id,
                    conversation_id: conversation,
                    outgoing: true,
                    automatic,
                    address: Some(&thread.address),
                    outbox_message_id: Some(item.message.id.0),
                },
                now,
            )
            .await;
        if let Err(error) = recorded {
            return retry(error.to_string());
        }
        drop(counting);
        let Some(transport) = self.transports.get(&mailbox.name) else {
            return Delivery::Failed {
                reason: format!("no SMTP transport for mailbox {:?}", mailbox.name),
            };
        };
        match transport.send(mail).await {
            Ok(_) => Delivery::Sent,
            Err(error) if error.is_permanent() => Delivery::Failed {
                reason: format!("the SMTP server refused the mail: {error}"),
            },
            // 4xx, a dropped connection, a timeout: try again later.
            Err(error) => retry(format!("SMTP: {error}")),
        }
    }
}
