//! The email channel over TLS (issue 11): `tls = "tls"` and `tls = "starttls"` on both
//! IMAP and SMTP, the server certificates signed by a private CA that `[email] ca_file`
//! names. Dovecot and the SMTP sink speak plaintext on loopback; a TLS proxy in this
//! process sits in front of them, speaking the STARTTLS preludes itself.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use baton_e2e::mail::mail_servers_or_skip;
use baton_e2e::{Backend, Server};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// TLS from the first byte.
    Wrapper,
    /// The IMAP greeting and `STARTTLS`, answered by the proxy, then TLS.
    ImapStarttls,
    /// The SMTP greeting, `EHLO` and `STARTTLS`, answered by the proxy, then TLS.
    SmtpStarttls,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a certificate for 127.0.0.1 it signed: (CA file, acceptor).
fn certificates(dir: &Path) -> (std::path::PathBuf, TlsAcceptor) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Baton test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    );
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("leaf.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("leaf.key")).unwrap();
    let config = ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    (dir.join("ca.pem"), TlsAcceptor::from(Arc::new(config)))
}

async fn read_line(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut line = Vec::new();
    loop {
        let byte = stream.read_u8().await?;
        line.push(byte);
        if line.ends_with(b"\r\n") {
            return Ok(String::from_utf8_lossy(&line).into_owned());
        }
    }
}

async fn serve(
    acceptor: TlsAcceptor,
    mut tcp: TcpStream,
    upstream: u16,
    mode: Mode,
) -> std::io::Result<()> {
    match mode {
        Mode::Wrapper => {}
        Mode::ImapStarttls => {
            tcp.write_all(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] proxy ready\r\n")
                .await?;
            let command = read_line(&mut tcp).await?;
            let tag = command.split(' ').next().unwrap_or("*").to_owned();
            assert!(command.to_uppercase().contains("STARTTLS"), "{command}");
            tcp.write_all(format!("{tag} OK Begin TLS negotiation now\r\n").as_bytes())
                .await?;
        }
        Mode::SmtpStarttls => {
            tcp.write_all(b"220 proxy ESMTP\r\n").await?;
            let ehlo = read_line(&mut tcp).await?;
            assert!(ehlo.to_uppercase().starts_with("EHLO"), "{ehlo}");
            tcp.write_all(b"250-proxy\r\n250 STARTTLS\r\n").await?;
            let starttls = read_line(&mut tcp).await?;
            assert!(
                starttls.to_uppercase().starts_with("STARTTLS"),
                "{starttls}"
            );
            tcp.write_all(b"220 2.0.0 Ready to start TLS\r\n").await?;
        }
    }
    let mut tls = acceptor.accept(tcp).await?;
    let mut up = TcpStream::connect(("127.0.0.1", upstream)).await?;
    if mode != Mode::Wrapper {
        // The client had its greeting before STARTTLS; the server's is not for it.
        read_line(&mut up).await?;
    }
    tokio::io::copy_bidirectional(&mut tls, &mut up).await?;
    Ok(())
}

/// A TLS proxy on a free loopback port in front of `upstream`.
async fn proxy(acceptor: TlsAcceptor, upstream: u16, mode: Mode) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Err(error) = serve(acceptor, tcp, upstream, mode).await {
                    eprintln!("proxy ({mode:?}): {error}");
                }
            });
        }
    });
    port
}

async fn answered_over_tls(imap_tls: &str, smtp_tls: &str) {
    let Some((dovecot, sink)) = mail_servers_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (ca, acceptor) = certificates(dir.path());
    let mode = |tls: &str, starttls: Mode| match tls {
        "tls" => Mode::Wrapper,
        _ => starttls,
    };
    let imap = proxy(
        acceptor.clone(),
        dovecot.imap_port(),
        mode(imap_tls, Mode::ImapStarttls),
    )
    .await;
    let smtp = proxy(acceptor, sink.port(), mode(smtp_tls, Mode::SmtpStarttls)).await;
    let config = format!(
        r#"
[email]
ca_file = "{ca}"

[[email.mailboxes]]
name = "support"
address = "support@example.test"
imap = {{ host = "127.0.0.1", port = {imap}, tls = "{imap_tls}", user = "{user}", password = "{password}", folder = "INBOX" }}
smtp = {{ host = "127.0.0.1", port = {smtp}, tls = "{smtp_tls}", user = "", password = "" }}
"#,
        ca = ca.display(),
        user = dovecot.user(),
        password = dovecot.password(),
    );
    let server = Server::start_with_config(Backend::Sqlite, config).await;
    dovecot.deliver(
        b"From: Ann <ann@example.org>\r\nTo: support@example.test\r\nSubject: Shipping\r\n\
          Message-ID: <tls1@example.org>\r\n\r\nHow long does shipping take to Europe?\r\n",
    );
    let received = sink.wait_for(1, Duration::from_secs(60)).await;
    assert!(
        received[0].text().contains("3 to 5 days"),
        "{}",
        received[0].text()
    );
    let channels = server.get_ok("/api/v1/channels").await;
    let email = &channels["channels"][1];
    assert_eq!(email["state"], "connected", "{channels}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_tls_and_smtp_starttls() {
    answered_over_tls("tls", "starttls").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_starttls_and_smtp_tls() {
    answered_over_tls("starttls", "tls").await;
}

/// Without the CA the certificate is not trusted: the mailbox stays disconnected and
/// says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused() {
    let Some((dovecot, sink)) = mail_servers_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, acceptor) = certificates(dir.path());
    let imap = proxy(acceptor, dovecot.imap_port(), Mode::Wrapper).await;
    let config = format!(
        r#"
[[email.mailboxes]]
name = "support"
address = "support@example.test"
imap = {{ host = "127.0.0.1", port = {imap}, tls = "tls", user = "{user}", password = "{password}", folder = "INBOX" }}
smtp = {{ host = "127.0.0.1", port = {smtp}, tls = "none", user = "", password = "" }}
"#,
        user = dovecot.user(),
        password = dovecot.password(),
        smtp = sink.port(),
    );
    let server = Server::start_with_config(Backend::Sqlite, config).await;
    let email = server
        .eventually("the mailbox reports the refused certificate", || async {
            let channels = server.get_ok("/api/v1/channels").await;
            let email = channels["channels"][1].clone();
            email["last_error"].is_string().then_some(email)
        })
        .await;
    assert_eq!(email["state"], "disconnected", "{email}");
    let error = email["last_error"].as_str().unwrap();
    assert!(error.contains("certificate"), "{error}");
}
