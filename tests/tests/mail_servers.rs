//! The mail harness itself: a mail delivered into Dovecot's maildir is read back over IMAP
//! by async-imap, and lettre's mails reach the SMTP sink, through injected 451 and 550.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use baton_e2e::mail::{Dovecot, SmtpSink};
use futures_util::TryStreamExt;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

const MAIL: &[u8] = b"From: Customer <customer@example.org>\r\n\
To: support@example.test\r\n\
Subject: Where is my order?\r\n\
Message-ID: <order-1@example.org>\r\n\
\r\n\
Hello, my parcel has not arrived.\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_mail_is_read_back_over_imap() {
    let Some(dovecot) = Dovecot::start_or_skip() else {
        return;
    };
    dovecot.deliver(MAIL);
    dovecot.deliver(b"Subject: second\r\n\r\nbody\r\n");
    assert_eq!(dovecot.message_count(), 2);

    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", dovecot.imap_port()))
        .await
        .unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap().unwrap();
    let mut session = client
        .login(dovecot.user(), dovecot.password())
        .await
        .map_err(|(e, _)| e)
        .unwrap();
    let inbox = session.select("INBOX").await.unwrap();
    assert_eq!(inbox.exists, 2);
    let validity = inbox.uid_validity.unwrap();
    assert_ne!(validity, 0);

    let fetched: Vec<_> = session
        .uid_fetch("1:*", "(UID RFC822.SIZE BODY.PEEK[])")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(fetched.len(), 2);
    let first = fetched.iter().find(|f| f.uid == Some(1)).unwrap();
    assert_eq!(first.body().unwrap(), MAIL);
    assert_eq!(first.size, Some(u32::try_from(MAIL.len()).unwrap()));
    assert!(fetched.iter().any(|f| f.uid == Some(2)));

    // A later delivery gets the next UID under the same UIDVALIDITY.
    dovecot.deliver(b"Subject: third\r\n\r\nbody\r\n");
    let inbox = session.select("INBOX").await.unwrap();
    assert_eq!((inbox.exists, inbox.uid_validity), (3, Some(validity)));
    let uids: Vec<_> = session
        .uid_fetch("3:*", "UID")
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .iter()
        .map(|f| f.uid)
        .collect();
    assert_eq!(uids, [Some(3)]);
    session.logout().await.unwrap();
    assert_eq!(dovecot.message_count(), 3);
}

fn mail(subject: &str) -> Message {
    Message::builder()
        .from("support@example.test".parse().unwrap())
        .to("customer@example.org".parse().unwrap())
        .cc("boss@example.org".parse().unwrap())
        .subject(subject)
        .body(String::from("Your parcel ships today.\r\n"))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_sink_keeps_mail_and_injects_failures() {
    let Some(sink) = SmtpSink::start_or_skip() else {
        return;
    };
    let smtp = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sink.port())
        .build();

    sink.fail_next(451, 1);
    let transient = smtp.send(mail("first")).await.unwrap_err();
    assert!(transient.is_transient(), "{transient:?}");
    assert!(sink.received().is_empty());
    smtp.send(mail("first")).await.unwrap();

    sink.fail_next(550, 1);
    let permanent = smtp.send(mail("refused")).await.unwrap_err();
    assert!(permanent.is_permanent(), "{permanent:?}");

    smtp.send(mail("second")).await.unwrap();
    let received = sink.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].from, "support@example.test");
    assert_eq!(received[0].to, ["customer@example.org", "boss@example.org"]);
    assert!(received[0].text().contains("Subject: first\r\n"));
    assert!(received[1].text().contains("Subject: second\r\n"));
    assert!(received[1].text().contains("Your parcel ships today."));
}
