//! Reading one mailbox over IMAP: connect, log in, select the folder, fetch every UID
//! after the stored one (the position is UIDVALIDITY and UID, never the Seen flag or a
//! date), then wait with IDLE where the server offers it, else poll; any error drops the
//! connection and reconnects with backoff.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_imap::Session;
use async_imap::extensions::idle::IdleResponse;
use baton_store::MailStatus;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::config::{ImapConfig, MailboxConfig, Tls};
use crate::inbound::Inbound;

/// How long one IDLE waits before fetching anyway (servers drop IDLE after 30 minutes;
/// a short wait also covers servers that announce new mail late).
const IDLE_WAIT: Duration = Duration::from_secs(20);
/// How often a server without IDLE is asked.
const POLL_EVERY: Duration = Duration::from_secs(5);
/// Mails fetched per command: bounded memory with a full mailbox.
const BATCH: usize = 25;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What `GET /api/v1/channels` shows of a mailbox.
#[derive(Debug, Clone, Default)]
pub struct MailboxState {
    pub connected: bool,
    pub last_fetch: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

pub(crate) type SharedState = Arc<Mutex<MailboxState>>;

fn update(state: &SharedState, f: impl FnOnce(&mut MailboxState)) {
    // A poisoned lock only means a panic elsewhere mid-update: the state is still usable.
    let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut guard);
}

#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("connecting to {0}: {1}")]
    Connect(String, String),
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("{0}")]
    Store(#[from] baton_engine::StoreError),
    #[error("the server sent no UIDVALIDITY for {0}")]
    NoUidValidity(String),
}

/// Reads `mailbox` for as long as the process runs.
pub(crate) async fn run(inbound: Inbound, mailbox: MailboxConfig, state: SharedState) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let error = match session(&inbound, &mailbox, &state, &mut backoff).await {
            Ok(()) => continue,
            Err(error) => error,
        };
        tracing::warn!(mailbox = %mailbox.name, %error, retry_in = ?backoff, "IMAP connection lost");
        update(&state, |s| {
            s.connected = false;
            s.last_error = Some(error.to_string());
        });
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn session(
    inbound: &Inbound,
    mailbox: &MailboxConfig,
    state: &SharedState,
    backoff: &mut Duration,
) -> Result<(), ReadError> {
    let imap = &mailbox.imap;
    let target = format!("{}:{}", imap.host, imap.port);
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&target))
        .await
        .map_err(|_| ReadError::Connect(target.clone(), "timed out".into()))?
        .map_err(|e| ReadError::Connect(target.clone(), e.to_string()))?;
    let stream = secure(inbound, imap, tcp)
        .await
        .map_err(|e| ReadError::Connect(target.clone(), e))?;
    let mut client = async_imap::Client::new(stream.io);
    if !stream.greeted {
        // The server's greeting comes before any command.
        client
            .read_response()
            .await
            .map_err(|e| ReadError::Connect(target.clone(), e.to_string()))?;
    }
    let mut session = client
        .login(&imap.user, &imap.password)
        .await
        .map_err(|(e, _)| e)?;
    let idle = session.capabilities().await?.has_str("IDLE");
    update(state, |s| s.connected = true);
    tracing::info!(mailbox = %mailbox.name, %target, idle, "IMAP connected");
    loop {
        fetch_new(inbound, mailbox, &mut session).await?;
        // Only a whole pass resets the backoff: a failure after every login must not
        // reconnect once a second.
        *backoff = Duration::from_secs(1);
        update(state, |s| {
            s.last_fetch = Some(Utc::now());
            s.last_error = None;
        });
        if idle {
            let mut handle = session.idle();
            handle.init().await?;
            let (wait, _stop) = handle.wait_with_timeout(IDLE_WAIT);
            let response = wait.await?;
            session = handle.done().await?;
            if let IdleResponse::ManualInterrupt = response {
                // The stream ended: the server hung up.
                return Err(async_imap::error::Error::ConnectionLost.into());
            }
        } else {
            tokio::time::sleep(POLL_EVERY).await;
            session.noop().await?;
        }
    }
}

/// The connection's byte stream: plain TCP or TLS.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

struct Secured {
    io: Box<dyn Io>,
    /// STARTTLS reads the greeting before the handshake; none follows it.
    greeted: bool,
}

/// `tcp` as the mailbox's `tls` says: as it is, TLS from the first byte, or upgraded by
/// STARTTLS after the plaintext greeting.
async fn secure(inbound: &Inbound, imap: &ImapConfig, tcp: TcpStream) -> Result<Secured, String> {
    match imap.tls {
        Tls::None => Ok(Secured {
            io: Box::new(tcp),
            greeted: false,
        }),
        Tls::Tls => Ok(Secured {
            io: Box::new(inbound.trust.connect(&imap.host, tcp).await?),
            greeted: false,
        }),
        Tls::Starttls => {
            let mut plain = async_imap::Client::new(tcp);
            plain
                .read_response()
                .await
                .map_err(|e| format!("reading the greeting: {e}"))?;
            plain
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| format!("STARTTLS refused: {e}"))?;
            let tcp = plain.into_inner();
            Ok(Secured {
                io: Box::new(inbound.trust.connect(&imap.host, tcp).await?),
                greeted: true,
            })
        }
    }
}

/// At most this many bytes of mail are fetched by one command.
const BATCH_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug, PartialEq, Eq)]
enum Batch {
    Mails(Vec<u32>),
    /// Over the size limit: only the header is fetched.
    TooLarge(u32, u32),
}

/// `sizes` (UID, bytes) in UID order, cut into fetches of at most `BATCH` mails and
/// `BATCH_BYTES` bytes (one larger mail alone), mails over `limit` on their own.
fn batches(sizes: &[(u32, u32)], limit: usize) -> Vec<Batch> {
    let mut out = Vec::new();
    let mut current: Vec<u32> = Vec::new();
    let mut bytes = 0u64;
    for &(uid, size) in sizes {
        let too_large = usize::try_from(size).map_or(true, |s| s > limit);
        if too_large {
            if !current.is_empty() {
                out.push(Batch::Mails(std::mem::take(&mut current)));
                bytes = 0;
            }
            out.push(Batch::TooLarge(uid, size));
            continue;
        }
        if !current.is_empty() && (current.len() >= BATCH || bytes + u64::from(size) > BATCH_BYTES)
        {
            out.push(Batch::Mails(std::mem::take(&mut current)));
            bytes = 0;
        }
        current.push(uid);
        bytes += u64::from(size);
    }
    if !current.is_empty() {
        out.push(Batch::Mails(current));
    }
    out
}

fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// `section` of each of `uids`: (UID, bytes).
async fn fetch(
    session: &mut Session<Box<dyn Io>>,
    uids: &[u32],
    section: &str,
) -> Result<Vec<(u32, Vec<u8>)>, ReadError> {
    let header = section.contains("HEADER");
    Ok(session
        .uid_fetch(uid_set(uids), format!("(UID {section})"))
        .await?
        .try_filter_map(|fetch| async move {
            let bytes = if header { fetch.header() } else { fetch.body() };
            Ok(fetch
                .uid
                .map(|uid| (uid, bytes.unwrap_or_default().to_vec())))
        })
        .try_collect()
        .await?)
}

/// Selects the folder and handles every mail after the stored position, in UID order,
/// moving the position past each one as it is handled.
async fn fetch_new(
    inbound: &Inbound,
    mailbox: &MailboxConfig,
    session: &mut Session<Box<dyn Io>>,
) -> Result<(), ReadError> {
    let folder = session.select(&mailbox.imap.folder).await?;
    let validity = folder
        .uid_validity
        .ok_or_else(|| ReadError::NoUidValidity(mailbox.imap.folder.clone()))?;
    let store = &inbound.store;
    let last = match store.email_cursor(&mailbox.name).await? {
        Some((stored, last)) if stored == validity => last,
        // A new UIDVALIDITY renumbers the folder: read it again from the start; what was
        // already stored is recognised by its Message-ID.
        _ => {
            store.set_email_cursor(&mailbox.name, validity, 0).await?;
            0
        }
    };
    let mut uids: Vec<u32> = session
        .uid_search(format!("UID {}:*", last.saturating_add(1)))
        .await?
        .into_iter()
        // `n:*` always includes the highest UID, even below n.
        .filter(|uid| *uid > last)
        .collect();
    uids.sort_unstable();
    for chunk in uids.chunks(BATCH) {
        // Sizes first: a mail over the limit is never fetched whole, and a batch holds
        // at most BATCH_BYTES, so memory stays bounded whatever waits in the folder.
        let mut sizes: Vec<(u32, u32)> = session
            .uid_fetch(uid_set(chunk), "(UID RFC822.SIZE)")
            .await?
            .try_filter_map(|fetch| async move { Ok(fetch.uid.zip(fetch.size)) })
            .try_collect()
            .await?;
        sizes.sort_unstable();
        for batch in batches(&sizes, inbound.options.max_message_bytes) {
            match batch {
                Batch::Mails(uids) => {
                    let mut mails = fetch(session, &uids, "BODY.PEEK[]").await?;
                    mails.sort_unstable_by_key(|(uid, _)| *uid);
                    for (uid, raw) in mails {
                        let status = inbound.receive(mailbox, uid, raw).await?;
                        if status == MailStatus::Quarantined {
                            tracing::warn!(mailbox = %mailbox.name, uid, "mail quarantined; going on");
                        }
                        store.set_email_cursor(&mailbox.name, validity, uid).await?;
                    }
                }
                Batch::TooLarge(uid, size) => {
                    let header = fetch(session, &[uid], "BODY.PEEK[HEADER]")
                        .await?
                        .into_iter()
                        .next()
                        .map(|(_, header)| header)
                        .unwrap_or_default();
                    inbound
                        .receive_oversized(mailbox, uid, header, size)
                        .await?;
                    store.set_email_cursor(&mailbox.name, validity, uid).await?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_bound_count_and_bytes_and_isolate_what_is_too_large() {
        let mb = 1024 * 1024;
        let sizes = [(1, 10), (2, 20 * mb), (3, 20 * mb), (4, 60 * mb), (5, 5)];
        assert_eq!(
            batches(&sizes, 50 * 1024 * 1024),
            [
                Batch::Mails(vec![1, 2]),
                Batch::Mails(vec![3]),
                Batch::TooLarge(4, 60 * mb),
                Batch::Mails(vec![5]),
            ]
        );
        let many: Vec<(u32, u32)> = (1..=60).map(|uid| (uid, 100)).collect();
        let cut = batches(&many, 1000);
        assert_eq!(cut.len(), 3);
        assert_eq!(cut[0], Batch::Mails((1..=25).collect()));
    }
}
