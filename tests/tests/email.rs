//! The email channel end to end (issue 11), on SQLite and PostgreSQL: mail delivered into
//! a real Dovecot maildir is read over IMAP by the server, and what it sends arrives at a
//! real SMTP sink. Absence (no answer to an auto-reply, to a bounce) is checked behind a
//! later mail that is answered: the mailbox is handled in UID order.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use baton_e2e::console::{get_page, signed_in_owner};
use baton_e2e::mail::{Dovecot, Received, SmtpSink, mail_servers_or_skip};
use baton_e2e::{
    AVAILABLE_MSG, Backend, Process, Server, StatusCode, baton_command, postgres_url_or_skip,
    random_hex,
};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);
const SUPPORT: &str = "support@example.test";

fn config(dovecot: &Dovecot, sink: &SmtpSink, extra: &str) -> String {
    format!(
        r#"
[email]
{extra}

[[email.mailboxes]]
name = "support"
address = "{SUPPORT}"
imap = {{ host = "127.0.0.1", port = {imap}, tls = "none", user = "{user}", password = "{password}", folder = "INBOX" }}
smtp = {{ host = "127.0.0.1", port = {smtp}, tls = "none", user = "", password = "" }}
"#,
        imap = dovecot.imap_port(),
        user = dovecot.user(),
        password = dovecot.password(),
        smtp = sink.port(),
    )
}

/// A mail from `from` with `headers` (extra lines) and `body`.
fn mail(from: &str, id: &str, subject: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Customer <{from}>\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\n\
         Message-ID: <{id}>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n{headers}\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn to_of(received: &Received) -> String {
    received.to.join(",")
}

async fn email_conversations(server: &Server) -> Vec<Value> {
    server
        .view("all")
        .await
        .into_iter()
        .filter(|c| c["channel"] == "email")
        .collect()
}

async fn messages(server: &Server, id: i64) -> Vec<Value> {
    let (status, body) = server
        .get(&format!("/api/v1/conversations/{id}/messages"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["messages"].as_array().unwrap().clone()
}

async fn mailbox(server: &Server) -> Value {
    let channels = server.get_ok("/api/v1/channels").await;
    channels["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "email" && c["name"] == "support")
        .cloned()
        .unwrap_or_else(|| panic!("no email channel in {channels}"))
}

/// Delivers a question from `from` and waits for the answer: the mail after the `count`
/// already received. Returns it.
async fn ask(dovecot: &Dovecot, sink: &SmtpSink, count: usize, from: &str, id: &str) -> Received {
    dovecot.deliver(&mail(
        from,
        id,
        "Shipping",
        "",
        "How long does shipping take to Europe?",
    ));
    let received = sink.wait_for(count + 1, WAIT).await;
    assert_eq!(received.len(), count + 1, "{received:#?}");
    let answer = received[count].clone();
    assert_eq!(to_of(&answer), from, "{}", answer.text());
    answer
}

fn backend(name: &str) -> Option<Backend> {
    match name {
        "sqlite" => Some(Backend::Sqlite),
        _ => postgres_url_or_skip().map(Backend::Postgres),
    }
}

async fn conversation_by_mail(backend: Backend) {
    let Some((dovecot, sink)) = mail_servers_or_skip() else {
        return;
    };
    let server = Server::start_with_config(backend, config(&dovecot, &sink, "")).await;
    let (fay, fay_token) = server.agent("Fay", 10).await;
    server.route_to("live", &[fay], &[]).await;

    server
        .eventually("the mailbox connects", || async {
            (mailbox(&server).await["state"] == "connected").then_some(())
        })
        .await;
    let state = mailbox(&server).await;
    assert_eq!(state["address"], SUPPORT, "{state}");
    assert_eq!(state["quarantined"], 0, "{state}");

    // A new mail gets the assistant's answer, threaded and marked automatic.
    dovecot.deliver(&mail(
        "ann@example.org",
        "q1@example.org",
        "Shipping question",
        "",
        "Hello, how long does shipping take to Europe?",
    ));
    let received = sink.wait_for(1, WAIT).await;
    let answer = &received[0];
    assert_eq!(to_of(answer), "ann@example.org");
    assert!(answer.text().contains("3 to 5 days"), "{}", answer.text());
    assert_eq!(
        answer.header("In-Reply-To").as_deref(),
        Some("<q1@example.org>")
    );
    assert_eq!(
        answer.header("References").as_deref(),
        Some("<q1@example.org>")
    );
    assert_eq!(
        answer.header("Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    assert!(answer.header("X-Baton-Loop").is_some(), "{}", answer.text());
    let subject = answer.header("Subject").unwrap();
    let conversations = email_conversations(&server).await;
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    let id = conversations[0]["id"].as_i64().unwrap();
    assert_eq!(subject, format!("Re: Shipping question [#c{id}]"));
    assert_eq!(
        answer.header("Reply-To").as_deref(),
        Some(format!("support+c{id}@example.test").as_str())
    );
    let ours = answer.header("Message-ID").unwrap();
    assert!(ours.ends_with("@example.test>"), "{ours}");

    // An out-of-office answer to our mail is recorded and never answered.
    dovecot.deliver(&mail(
        "ann@example.org",
        "ooo1@example.org",
        "Automatic reply: Shipping question",
        &format!("In-Reply-To: {ours}\r\nAuto-Submitted: auto-replied\r\n"),
        "I am out of the office until Monday.",
    ));

    // The customer's reply quotes a trigger phrase; only the new text counts.
    dovecot.deliver(&mail(
        "ann@example.org",
        "q2@example.org",
        &format!("Re: {subject}"),
        &format!("In-Reply-To: {ours}\r\nReferences: <q1@example.org> {ours}\r\n"),
        "Thanks! And how do I return an item?\r\n\r\n\
         On Mon, 23 Nov 2026 at 10:00, Support <support@example.test> wrote:\r\n\
         > I want to talk to a person\r\n> Orders ship within 2 business days.\r\n",
    ));
    let received = sink.wait_for(2, WAIT).await;
    assert_eq!(
        received.len(),
        2,
        "the auto-reply was answered: {received:#?}"
    );
    let second = &received[1];
    assert!(second.text().contains("30 days"), "{}", second.text());
    assert_eq!(
        second.header("In-Reply-To").as_deref(),
        Some("<q2@example.org>")
    );
    let references = second.header("References").unwrap();
    assert!(
        references.starts_with("<q1@example.org>")
            && references.contains(&ours)
            && references.ends_with("<q2@example.org>"),
        "{references}"
    );
    let conversations = email_conversations(&server).await;
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    let conversation = server.conversation(id).await;
    assert!(conversation["handoff"].is_null(), "{conversation}");
    let texts: Vec<String> = messages(&server, id)
        .await
        .iter()
        .filter(|m| m["author"] == "visitor")
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert_eq!(texts[1], "Thanks! And how do I return an item?");
    // Staff see the whole mail, quoted history included.
    let mails = server
        .get_ok(&format!("/api/v1/conversations/{id}/mails"))
        .await;
    let mails = mails["mails"].as_array().unwrap();
    // The out-of-office is on the conversation too, recorded and not answered.
    let kinds: Vec<(&str, &str)> = mails
        .iter()
        .map(|m| (m["kind"].as_str().unwrap(), m["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("human", "done"),
            ("auto_reply", "ignored"),
            ("human", "done")
        ]
    );
    assert_eq!(mails[2]["message_id"], "q2@example.org");
    assert_eq!(mails[2]["from"], "Customer <ann@example.org>");
    let whole = mails[2]["text"].as_str().unwrap();
    assert!(whole.contains("> I want to talk to a person"), "{whole}");
    // And on the inbox's conversation page, beside the trimmed transcript.
    let cookie = signed_in_owner(&server).await;
    let page = get_page(&server, &format!("/console/inbox/{id}"), Some(&cookie)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Mails as received"), "{html}");
    let whole_on_page = html
        .split("<pre class=\"mail-text\">")
        .skip(1)
        .filter_map(|rest| rest.split("</pre>").next())
        .any(|mail| mail.contains("wrote:") && mail.contains("I want to talk to a person"));
    assert!(whole_on_page, "the quoted history is on the page: {html}");

    // Asking for a person hands off, and the available message goes out by mail.
    dovecot.deliver(&mail(
        "ann@example.org",
        "q3@example.org",
        &format!("Re: {subject}"),
        &format!("In-Reply-To: <q2@example.org>\r\nReferences: <q1@example.org> {ours} <q2@example.org>\r\n"),
        "I want to talk to a person",
    ));
    let received = sink.wait_for(3, WAIT).await;
    let handoff = &received[2];
    assert!(handoff.text().contains(AVAILABLE_MSG), "{}", handoff.text());
    assert_eq!(
        handoff.header("In-Reply-To").as_deref(),
        Some("<q3@example.org>")
    );
    let conversation = server.conversation(id).await;
    assert_eq!(
        conversation["handoff"]["reason"]["kind"], "asks_for_human",
        "{conversation}"
    );

    // The human's reply goes out threaded, and is not marked automatic.
    let (status, body) = server
        .post_as(
            &fay_token,
            &format!("/api/v1/conversations/{id}/messages"),
            json!({"text": "Hi Ann, Fay here. Happy to help."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let received = sink.wait_for(4, WAIT).await;
    let human = &received[3];
    assert!(human.text().contains("Fay here"), "{}", human.text());
    assert_eq!(human.header("Auto-Submitted"), None);
    assert_eq!(
        human.header("In-Reply-To").as_deref(),
        Some(handoff.header("Message-ID").unwrap().as_str())
    );
    assert!(
        human
            .header("References")
            .unwrap()
            .starts_with("<q1@example.org>")
    );

    // While Fay holds it the assistant stays silent: the next mail reaches her only.
    dovecot.deliver(&mail(
        "ann@example.org",
        "q4@example.org",
        &format!("Re: {subject}"),
        "In-Reply-To: <q3@example.org>\r\n",
        "How long does shipping take?",
    ));

    // Every bounce and auto-reply of the corpus: no answer, no conversation.
    let corpus =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/email/bounces");
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap_or_else(|e| panic!("{}: {e}", corpus.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "{files:?}");
    for file in &files {
        dovecot.deliver(&std::fs::read(file).unwrap());
    }
    // A bounce of the mail we sent to Fay's customer shows as delivery_failed.
    let bounce = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\nTo: {SUPPORT}\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce1@mx.example.org>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n\
         --b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n\
         Final-Recipient: rfc822; ann@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
         --b1\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {SUPPORT}\r\nTo: ann@example.org\r\n\
         Message-ID: {}\r\nSubject: x\r\n\r\n--b1--\r\n",
        human.header("Message-ID").unwrap()
    );
    dovecot.deliver(bounce.as_bytes());
    // A mail that cannot be parsed is quarantined and blocks nothing.
    dovecot.deliver(b"\r\n \r\n");
    let answer = ask(&dovecot, &sink, 4, "bob@example.org", "b1@example.org").await;
    assert!(answer.text().contains("3 to 5 days"), "{}", answer.text());
    assert_eq!(sink.received().len(), 5);

    // Every mail is recorded with its kind and reason.
    let list = server
        .get_ok("/api/v1/channels/email/support/mails?limit=1000")
        .await;
    let recorded = list["mails"].as_array().unwrap();
    let of = |id: &str| {
        recorded
            .iter()
            .find(|m| m["message_id"] == id)
            .unwrap_or_else(|| panic!("{id} not recorded: {list}"))
            .clone()
    };
    let ooo = of("ooo1@example.org");
    assert_eq!(
        (ooo["status"].as_str(), ooo["kind"].as_str()),
        (Some("ignored"), Some("auto_reply"))
    );
    assert_eq!(ooo["reason"], "Auto-Submitted: auto-replied");
    let bounce = of("bounce1@mx.example.org");
    assert_eq!(bounce["kind"], "bounce", "{bounce}");
    assert_eq!(bounce["conversation_id"], id);
    // Ann's four, Bob's one; one quarantined; everything else (the out-of-office, the
    // corpus, our bounce: two corpus files share a Message-ID, so are stored once)
    // recorded and ignored.
    let count = |status: &str| recorded.iter().filter(|m| m["status"] == status).count();
    assert_eq!((count("done"), count("quarantined")), (5, 1), "{list}");
    assert_eq!(count("ignored"), recorded.len() - 6, "{list}");
    assert!(count("ignored") >= files.len(), "{list}");
    assert!(
        recorded
            .iter()
            .filter(|m| m["status"] == "ignored")
            .all(|m| m["kind"] != "human" && m["reason"].is_string()),
        "{list}"
    );

    let conversations = email_conversations(&server).await;
    assert_eq!(conversations.len(), 2, "{conversations:#?}");
    let texts: Vec<String> = messages(&server, id)
        .await
        .iter()
        .map(|m| format!("{}: {}", m["author"], m["text"]))
        .collect();
    assert!(
        texts
            .last()
            .unwrap()
            .contains("How long does shipping take?"),
        "{texts:#?}"
    );
    let audit = server.audit(200).await;
    let failed: Vec<&Value> = audit
        .iter()
        .filter(|e| e["kind"] == "delivery_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["conversation_id"], id);
    assert!(
        failed[0]["detail"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("bounced"),
        "{}",
        failed[0]
    );

    // The quarantine: counted, listed, retried on request (and quarantined again).
    let state = mailbox(&server).await;
    assert_eq!(state["quarantined"], 1, "{state}");
    let list = server
        .get_ok("/api/v1/channels/email/support/quarantine")
        .await;
    let mails = list["mails"].as_array().unwrap();
    assert_eq!(mails.len(), 1, "{list}");
    let quarantined = mails[0]["id"].as_i64().unwrap();
    let (status, body) = server
        .post(
            &format!("/api/v1/channels/email/support/quarantine/{quarantined}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "quarantined");
    let (status, _) = server
        .post("/api/v1/channels/email/nope/quarantine/1/retry", json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // SMTP 451 then success: delivered once.
    sink.fail_next(451, 1);
    ask(&dovecot, &sink, 5, "cy@example.org", "c1@example.org").await;
    // SMTP 550: final, delivery_failed in the audit log.
    sink.fail_next(550, 1);
    dovecot.deliver(&mail(
        "dee@example.org",
        "d1@example.org",
        "Shipping",
        "",
        "How long does shipping take?",
    ));
    server
        .eventually("a 550 shows as delivery_failed", || async {
            let audit = server.audit(200).await;
            audit
                .iter()
                .any(|e| {
                    e["kind"] == "delivery_failed"
                        && e["detail"]["reason"]
                            .as_str()
                            .is_some_and(|r| r.contains("550"))
                })
                .then_some(())
        })
        .await;
    let answer = ask(&dovecot, &sink, 6, "eve@example.org", "e1@example.org").await;
    assert!(answer.text().contains("3 to 5 days"));
    let received = sink.received();
    let to_cy = received
        .iter()
        .filter(|r| to_of(r) == "cy@example.org")
        .count();
    assert_eq!(to_cy, 1, "{received:#?}");
    assert!(received.iter().all(|r| to_of(r) != "dee@example.org"));
}

/// SIGKILL after the mail is stored and before its message commits: after the restart it
/// is stored once and answered once.
async fn crash_between_fetch_and_commit(backend: Backend) {
    let Some((dovecot, sink)) = mail_servers_or_skip() else {
        return;
    };
    let mut server = Server::start_with_config(
        backend,
        config(&dovecot, &sink, "test_pause_before_commit_ms = 1500"),
    )
    .await;
    dovecot.deliver(&mail(
        "fin@example.org",
        "f1@example.org",
        "Shipping",
        "",
        "How long does shipping take to Europe?",
    ));
    server
        .eventually("the mail is stored, not yet handled", || async {
            (mailbox(&server).await["pending"] == 1).then_some(())
        })
        .await;
    server.kill();
    assert!(sink.received().is_empty());
    server.restart().await;
    let received = sink.wait_for(1, WAIT).await;
    assert!(received[0].text().contains("3 to 5 days"));
    ask(&dovecot, &sink, 1, "gil@example.org", "g1@example.org").await;
    let conversations = email_conversations(&server).await;
    assert_eq!(conversations.len(), 2, "{conversations:#?}");
    for conversation in conversations {
        let id = conversation["id"].as_i64().unwrap();
        let all = messages(&server, id).await;
        let visitor = all.iter().filter(|m| m["author"] == "visitor").count();
        assert_eq!(visitor, 1, "{all:#?}");
    }
    let to_fin = sink
        .received()
        .iter()
        .filter(|r| to_of(r) == "fin@example.org")
        .count();
    assert_eq!(to_fin, 1);
    assert_eq!(mailbox(&server).await["pending"], 0);
}

macro_rules! both {
    ($($name:ident),+) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(backend) = super::backend("sqlite") {
                        super::$name(backend).await;
                    }
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(backend) = super::backend("postgres") {
                        super::$name(backend).await;
                    }
                }
            )+
        }
    };
}

both!(
    conversation_by_mail,
    crash_between_fetch_and_commit,
    automatic_mails_are_capped,
    an_oversized_mail_is_quarantined_unfetched,
    threading_without_headers
);

/// Automatic mails to one address stop at the cap, with an audit row: a loop with a
/// correspondent that answers everything cannot run away.
async fn automatic_mails_are_capped(backend: Backend) {
    let Some((dovecot, sink)) = mail_servers_or_skip() else {
        return;
    };
    let server = Server::start_with_config(
        backend,
        config(&dovecot, &sink, "automatic_replies_per_hour = 2"),
    )
    .await;
    for n in 0..3 {
        dovecot.deliver(&mail(
            "robot@example.org",
            &format!("r{n}@example.org"),
            &format!("Question {n}"),
            "",
            "How long does shipping take to Europe?",
        ));
    }
    server
        .eventually("the cap is audited", || async {
            server
                .audit(50)
                .await
                .into_iter()
                .find(|e| e["kind"] == "email_automatic_capped")
        })
        .await;
    let answer = ask(&dovecot, &sink, 2, "hal@example.org", "h1@example.org").await;
    assert!(answer.text().contains("3 to 5 days"));
    let received = sink.received();
    let to_robot = received
        .iter()
        .filter(|r| to_of(r) == "robot@example.org")
        .count();
    assert_eq!(to_robot, 2, "{received:#?}");
    assert_eq!(received.len(), 3);
    // The mailbox password never reaches the log.
    assert!(!server.stderr().contains(dovecot.password()));
}

/// An invalid mailbox entry stops the start, naming its key path.
#[test]
fn an_invalid_mailbox_stops_the_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("kb")).unwrap();
    let file = dir.path().join("baton.toml");
    std::fs::write(
        &file,
        r#"
[[email.mailboxes]]
name = "support"
address = "support@example.test"
imap = { host = "127.0.0.1", port = 0, tls = "tls", user = "support", password = "imap-never-shown", folder = "INBOX" }
smtp = { host = "127.0.0.1", port = 25, tls = "none", user = "", password = "" }
"#,
    )
    .unwrap();
    let mut cmd = baton_command(&["serve", "--config", file.to_str().unwrap()]);
    cmd.current_dir(dir.path())
        .env("BATON_HTTP__ADDR", "127.0.0.1:0")
        .env(
            "BATON_DATABASE__URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display()),
        )
        .env("BATON_BOOTSTRAP_TOKEN", random_hex())
        .env("BATON_KB__DIR", dir.path().join("kb"));
    let mut process = Process::spawn(cmd);
    let status = process
        .wait_exit(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("still running:\n{}", process.stderr()));
    assert!(!status.success(), "exit status {status}");
    let stderr = process.stderr();
    assert!(
        stderr.contains("email.mailboxes[0].imap.port") && stderr.contains("1 to 65535"),
        "{stderr}"
    );
    assert!(!stderr.contains("imap-never-shown"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_channel_endpoints_are_in_openapi() {
    let server = Server::start(Backend::Sqlite).await;
    let doc = server.get_ok("/openapi.json").await;
    for path in [
        "/api/v1/channels",
        "/api/v1/channels/email/{name}/quarantine",
        "/api/v1/channels/email/{name}/quarantine/{id}/retry",
        "/api/v1/channels/email/{name}/mails",
        "/api/v1/conversations/{id}/mails",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    // Without mailboxes the list still names web chat.
    let channels = server.get_ok("/api/v1/channels").await;
    assert_eq!(
        channels["channels"][0],
        json!({"kind": "chat", "name": "chat", "state": "enabled"})
    );
}

/// A mail over `[email] max_message_bytes` is never fetched whole: its header is kept, it
/// is quarantined (a retry cannot help: 409), and the next mail is answered.
async fn an_oversized_mail_is_quarantined_unfetched(backend: Backend) {
    let Some((dovecot, sink)) = mail_servers_or_skip() else {
        return;
    };
    let server = Server::start_with_config(
        backend,
        config(&dovecot, &sink, "max_message_bytes = 100000"),
    )
    .await;
    let attachment = "QUJD".repeat(60_000);
    dovecot.deliver(&mail(
        "big@example.org",
        "big1@example.org",
        "A large attachment",
        "",
        &format!("How long does shipping take?\r\n\r\n{attachment}"),
    ));
    ask(&dovecot, &sink, 0, "small@example.org", "s1@example.org").await;
    assert_eq!(sink.received().len(), 1);
    let list = server
        .get_ok("/api/v1/channels/email/support/quarantine")
        .await;
    let mails = list["mails"].as_array().unwrap();
    assert_eq!(mails.len(), 1, "{list}");
    assert_eq!(mails[0]["message_id"], "big1@example.org");
    assert!(
        mails[0]["error"].as_str().unwrap().starts_with("too large"),
        "{list}"
    );
    assert!(mails[0]["size"].as_u64().unwrap() < 1000, "{list}");
    let id = mails[0]["id"].as_i64().unwrap();
    let (status, body) = server
        .post(
            &format!("/api/v1/channels/email/support/quarantine/{id}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

/// A client that drops In-Reply-To and References still threads: by the reply address
/// `support+cN@…`, then by the `[#cN]` subject tag. A reply to a closed conversation
/// opens the next one in the same mail thread, answered threaded.
async fn threading_without_headers(backend: Backend) {
    let Some((dovecot, sink)) = mail_servers_or_skip() else {
        return;
    };
    let server = Server::start_with_config(backend, config(&dovecot, &sink, "")).await;
    let first = ask(&dovecot, &sink, 0, "ida@example.org", "i1@example.org").await;
    let id = email_conversations(&server).await[0]["id"]
        .as_i64()
        .unwrap();

    // By the reply address only.
    let raw = format!(
        "From: Ida <ida@example.org>\r\nTo: support+c{id}@example.test\r\nSubject: shipping\r\n\
         Message-ID: <i2@example.org>\r\n\r\nAnd how do I return an item?\r\n"
    );
    dovecot.deliver(raw.as_bytes());
    sink.wait_for(2, WAIT).await;
    // By the subject tag only.
    dovecot.deliver(&mail(
        "ida@example.org",
        "i3@example.org",
        &format!("Re: Shipping [#c{id}]"),
        "",
        "How long does shipping take to Europe?",
    ));
    sink.wait_for(3, WAIT).await;
    let conversations = email_conversations(&server).await;
    assert_eq!(conversations.len(), 1, "{conversations:#?}");
    let visitor: Vec<String> = messages(&server, id)
        .await
        .iter()
        .filter(|m| m["author"] == "visitor")
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(visitor.len(), 3, "{visitor:?}");

    // Closed, then the customer writes again in the thread.
    let (status, body) = server
        .post(&format!("/api/v1/conversations/{id}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ours = first.header("Message-ID").unwrap();
    dovecot.deliver(&mail(
        "ida@example.org",
        "i4@example.org",
        "Re: Shipping",
        &format!("In-Reply-To: {ours}\r\nReferences: <i1@example.org> {ours}\r\n"),
        "One more question: how do I return an item?",
    ));
    let received = sink.wait_for(4, WAIT).await;
    let answer = &received[3];
    assert_eq!(
        answer.header("In-Reply-To").as_deref(),
        Some("<i4@example.org>")
    );
    assert!(
        answer
            .header("References")
            .unwrap()
            .starts_with("<i1@example.org>")
    );
    let conversations = email_conversations(&server).await;
    assert_eq!(conversations.len(), 2, "{conversations:#?}");
    let next = conversations
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .find(|c| *c != id)
        .unwrap();
    assert_eq!(server.conversation(next).await["status"], "open");
    assert_eq!(server.conversation(id).await["status"], "closed");
    let subject = answer.header("Subject").unwrap();
    assert!(subject.ends_with(&format!("[#c{next}]")), "{subject}");
}
