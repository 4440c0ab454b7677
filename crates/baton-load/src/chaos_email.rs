//! The email part of `baton-load chaos`: customers put mails into a real Dovecot mailbox
//! that the servers read over IMAP, and a real SMTP sink keeps every mail the servers
//! send, so deliveries can be counted against the outbox rows marked delivered. Both
//! servers are the harness of the end-to-end tests (`baton_e2e::mail`).
//!
//! A mail counts as acknowledged once it is in the mailbox: that is when the customer's
//! provider accepted it. Each has a unique Message-ID; some start a thread, the others
//! answer in one (In-Reply-To and References of the customer's last mail, or of the last
//! answer the servers sent them), as a mail client threads them.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, anyhow};
use baton_e2e::mail::{Dovecot, Received, SmtpSink, header};
use baton_store::SeaStore;
use tokio::sync::Mutex;

use crate::chaos::{Rng, moments, resent_after_kills, rows, string, text};

/// The customers' addresses and Message-IDs are in this domain, never the mailbox's.
const CUSTOMERS: &str = "customers.test";

/// Dovecot serving the mailbox and the SMTP sink; stopped on drop.
#[derive(Debug)]
pub(crate) struct MailServers {
    dovecot: Dovecot,
    /// Behind a lock: the sink's process handle is not `Sync`.
    sink: SyncMutex<SmtpSink>,
}

impl MailServers {
    /// Starts both; an error when one is not installed (or does not start).
    pub(crate) async fn start() -> Result<Arc<MailServers>> {
        let started = tokio::task::spawn_blocking(|| {
            Some(MailServers {
                dovecot: Dovecot::start_or_skip()?,
                sink: SyncMutex::new(SmtpSink::start_or_skip()?),
            })
        })
        .await
        .map_err(|e| anyhow!("starting the mail servers: {e}"))?;
        started.map(Arc::new).context(
            "email customers need Dovecot and aiosmtpd (apt-get install dovecot-imapd \
             python3-aiosmtpd); --email-customers 0 leaves email out",
        )
    }

    /// Adds the mailbox to the configuration file `config`.
    pub(crate) fn add_to(&self, config: &Path) -> Result<()> {
        let sink = self.sink.lock().unwrap_or_else(|e| e.into_inner()).port();
        let dovecot = &self.dovecot;
        // No automatic-mail cap in the way: every answer is a delivery to count. The pause
        // between keeping a mail and handling it widens the window a kill can hit.
        let toml = format!(
            "\n[email]\nautomatic_replies_per_hour = 1000000\ntest_pause_before_commit_ms = 20\n\n\
             [[email.mailboxes]]\nname = \"support\"\naddress = \"{user}\"\n\
             imap = {{ host = \"127.0.0.1\", port = {imap}, tls = \"none\", user = \"{user}\", \
             password = \"{password}\", folder = \"INBOX\" }}\n\
             smtp = {{ host = \"127.0.0.1\", port = {sink}, tls = \"none\", user = \"\", \
             password = \"\" }}\n",
            user = dovecot.user(),
            imap = dovecot.imap_port(),
            password = dovecot.password(),
        );
        std::fs::OpenOptions::new()
            .append(true)
            .open(config)?
            .write_all(toml.as_bytes())
            .with_context(|| format!("adding the mailbox to {}", config.display()))
    }

    /// Every mail the sink accepted so far, in arrival order.
    pub(crate) async fn receipts(self: &Arc<Self>) -> Result<Vec<Received>> {
        let servers = self.clone();
        tokio::task::spawn_blocking(move || {
            servers
                .sink
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .received()
        })
        .await
        .map_err(|e| anyhow!("reading the SMTP sink: {e}"))
    }

    async fn deliver(self: &Arc<Self>, raw: Vec<u8>) -> Result<()> {
        let servers = self.clone();
        tokio::task::spawn_blocking(move || servers.dovecot.deliver(&raw))
            .await
            .map_err(|e| anyhow!("putting a mail into the mailbox: {e}"))?;
        Ok(())
    }
}

/// The bare ids of a Message-ID, In-Reply-To or References value.
fn ids(value: &str) -> Vec<String> {
    value
        .split('<')
        .skip(1)
        .filter_map(|part| part.split_once('>'))
        .map(|(id, _)| id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .collect()
}

/// The thread a mail answers: its subject and its References, the answered mail last.
#[derive(Clone)]
struct Thread {
    subject: String,
    references: Vec<String>,
}

/// The last answer the servers sent to `address`, as a thread to answer in.
fn last_answer(receipts: &[Received], address: &str) -> Option<Thread> {
    let answer = receipts
        .iter()
        .rev()
        .find(|r| r.to.iter().any(|to| to == address))?
        .text();
    let id = ids(&header(&answer, "message-id")?).pop()?;
    let mut references = header(&answer, "references")
        .map(|r| ids(&r))
        .unwrap_or_default();
    references.push(id);
    Some(Thread {
        subject: header(&answer, "subject").unwrap_or_default(),
        references,
    })
}

fn mail(to: &str, from: &str, index: usize, id: &str, thread: &Thread, body: &str) -> Vec<u8> {
    let mut head = format!(
        "From: Customer {index} <{from}>\r\nTo: {to}\r\nSubject: {}\r\n\
         Message-ID: <{id}>\r\nDate: {}\r\n",
        thread.subject,
        chrono::Utc::now().to_rfc2822(),
    );
    if let Some(parent) = thread.references.last() {
        let references: Vec<String> = thread.references.iter().map(|r| format!("<{r}>")).collect();
        head.push_str(&format!(
            "In-Reply-To: <{parent}>\r\nReferences: {}\r\n",
            references.join(" ")
        ));
    }
    format!("{head}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").into_bytes()
}

/// One customer putting mails into the mailbox until `stop`: a new thread, a follow-up to
/// their own last mail, or an answer to the last mail the servers sent them. Each mail's
/// Message-ID goes to `put` once it is in the mailbox.
pub(crate) async fn customer(
    index: usize,
    servers: Arc<MailServers>,
    stop: Arc<AtomicBool>,
    put: Arc<Mutex<Vec<String>>>,
) -> Result<()> {
    let mut rng = Rng::new(9000 + index as u64);
    let address = format!("customer{index}@{CUSTOMERS}");
    let mut last: Option<Thread> = None;
    let mut sequence = 0usize;
    while !stop.load(Ordering::Relaxed) {
        sequence += 1;
        let id = format!(
            "chaos.{}.{index}.{sequence}@{CUSTOMERS}",
            std::process::id()
        );
        let thread = match (rng.below(4), &last) {
            (0, _) | (_, None) => Thread {
                subject: format!("Order question {index}.{sequence}"),
                references: Vec::new(),
            },
            (1, Some(own)) => own.clone(),
            (_, Some(own)) => {
                last_answer(&servers.receipts().await?, &address).unwrap_or_else(|| own.clone())
            }
        };
        let subject = match thread.subject.get(..3) {
            Some(re) if re.eq_ignore_ascii_case("re:") => thread.subject.clone(),
            _ if thread.references.is_empty() => thread.subject.clone(),
            _ => format!("Re: {}", thread.subject),
        };
        let body = text(&mut rng, sequence);
        let raw = mail(
            servers.dovecot.user(),
            &address,
            index,
            &id,
            &Thread {
                subject: subject.clone(),
                references: thread.references.clone(),
            },
            &body,
        );
        servers.deliver(raw).await?;
        put.lock().await.push(id.clone());
        let mut references = thread.references;
        references.push(id);
        last = Some(Thread {
            subject,
            references,
        });
        tokio::time::sleep(Duration::from_millis(200 + rng.below(500))).await;
    }
    Ok(())
}

/// Each mail's Message-ID and status in `email_mails`.
async fn statuses(store: &SeaStore) -> Result<Vec<(String, String, String)>> {
    rows(
        store,
        "SELECT message_id, status, \
         COALESCE(kind, '') || ' ' || COALESCE(reason, '') || ' ' || COALESCE(error, '') AS why \
         FROM email_mails",
    )
    .await?
    .iter()
    .map(|row| {
        Ok((
            string(row, "message_id")?,
            string(row, "status")?,
            string(row, "why")?,
        ))
    })
    .collect()
}

/// Gives the servers up to 120 s to handle every mail put (a kill may leave one pending
/// until the mailbox is read again); how many are still unhandled.
pub(crate) async fn wait_for_mail(store: &SeaStore, put: &[String]) -> Result<usize> {
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let handled: HashSet<String> = statuses(store)
            .await?
            .into_iter()
            .filter(|(_, status, _)| status != "pending")
            .map(|(id, _, _)| id)
            .collect();
        let unhandled = put.iter().filter(|id| !handled.contains(*id)).count();
        if unhandled == 0 || Instant::now() > until {
            return Ok(unhandled);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Figures and violations of the email part.
#[derive(Default)]
pub(crate) struct EmailReport {
    pub(crate) put: usize,
    pub(crate) stored: usize,
    pub(crate) lost: usize,
    pub(crate) duplicated: usize,
    pub(crate) not_done: usize,
    pub(crate) receipts: usize,
    pub(crate) delivered_rows: usize,
    /// Mails sent again because a kill caught the first send in flight.
    pub(crate) resent_after_kill: usize,
    pub(crate) violations: Vec<String>,
}

/// Every mail put kept once in `email_mails`, handled (`done`), and stored once as a
/// conversation message; each of our Message-IDs received by the sink as many times as
/// outbox rows of it are marked delivered: more is a delivery made twice (unless a kill
/// caught the first send in flight, see [`resent_after_kills`]), fewer a row marked
/// delivered that was never sent.
pub(crate) async fn check(
    store: &SeaStore,
    put: &[String],
    receipts: &[Received],
    kills: &[SystemTime],
) -> Result<EmailReport> {
    let mut report = EmailReport {
        put: put.len(),
        receipts: receipts.len(),
        ..EmailReport::default()
    };
    let mut kept: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (id, status, why) in statuses(store).await? {
        kept.entry(id).or_default().push((status, why));
    }
    let mut stored: HashMap<String, usize> = HashMap::new();
    for row in rows(
        store,
        "SELECT m.client_message_id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE c.channel = 'email' AND m.author = 'visitor' AND m.client_message_id IS NOT NULL",
    )
    .await?
    {
        *stored.entry(string(&row, "client_message_id")?).or_default() += 1;
    }
    for id in put {
        let mails = kept.get(id).map(Vec::as_slice).unwrap_or_default();
        let messages = stored.get(id).copied().unwrap_or_default();
        match mails {
            [] => report
                .violations
                .push(format!("mail {id} was put in the mailbox and never kept")),
            [(status, _)] if status == "done" => {}
            [(status, why)] => {
                report.not_done += 1;
                report
                    .violations
                    .push(format!("mail {id} is {status}, not done: {}", why.trim()));
            }
            more => report.violations.push(format!(
                "mail {id} is kept {} times in email_mails",
                more.len()
            )),
        }
        match messages {
            1 => report.stored += 1,
            0 => {
                report.lost += 1;
                report.violations.push(format!(
                    "mail {id} was put in the mailbox and is not stored"
                ));
            }
            n => {
                report.duplicated += 1;
                report
                    .violations
                    .push(format!("mail {id} is stored {n} times"));
            }
        }
    }

    // Our Message-ID of each delivered row, recorded before it was sent.
    let mut delivered: HashMap<String, i64> = HashMap::new();
    for row in rows(
        store,
        "SELECT CAST(o.id AS BIGINT) AS id, e.message_id FROM outbox o \
         LEFT JOIN email_message_ids e ON e.outbox_message_id = o.message_id AND e.outgoing \
         WHERE o.channel = 'email' AND o.delivered_at IS NOT NULL",
    )
    .await?
    {
        report.delivered_rows += 1;
        let id = string(&row, "message_id")?;
        if id.is_empty() {
            let outbox = row.try_get::<Option<i64>>("", "id")?.unwrap_or_default();
            report.violations.push(format!(
                "email outbox row {outbox} is marked delivered and has no Message-ID recorded"
            ));
            continue;
        }
        *delivered.entry(id).or_default() += 1;
    }
    let mut received: HashMap<String, Vec<SystemTime>> = HashMap::new();
    for receipt in receipts {
        let id = receipt
            .header("message-id")
            .and_then(|value| ids(&value).pop())
            .unwrap_or_default();
        received.entry(id).or_default().push(receipt.at);
    }
    for (id, times) in &received {
        let n = times.len() as i64;
        let marked = delivered.get(id).copied().unwrap_or_default();
        if n > marked && marked > 0 && resent_after_kills(times, marked as usize, kills) {
            report.resent_after_kill += (n - marked) as usize;
        } else if n > marked {
            report.violations.push(format!(
                "mail {id:?} reached the SMTP server {n} times for {marked} email outbox rows \
                 marked delivered: delivered more than once ({})",
                moments(times, kills)
            ));
        }
    }
    for (id, marked) in &delivered {
        let n = received.get(id).map_or(0, |times| times.len() as i64);
        if n < *marked {
            report.violations.push(format!(
                "mail {id:?}: {marked} email outbox rows marked delivered, {n} received by the \
                 SMTP server: marked delivered, never sent"
            ));
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_unfold_and_ids_are_bare() {
        let raw = "Subject: Re: Order [#c3]\r\nReferences: <a@x.test>\r\n <b@x.test>\r\n\
                   Message-ID: <c@x.test>\r\n\r\nReferences: <body@x.test>\r\n";
        assert_eq!(
            header(raw, "references").map(|r| ids(&r)),
            Some(vec!["a@x.test".to_owned(), "b@x.test".to_owned()])
        );
        assert_eq!(header(raw, "message-id").as_deref(), Some("<c@x.test>"));
        assert_eq!(header(raw, "in-reply-to"), None);
    }
}
