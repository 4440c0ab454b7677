//! Real mail servers on loopback for the email channel's tests: Dovecot for IMAP (Debian's
//! `dovecot-imapd`) and an SMTP sink on aiosmtpd (`python3-aiosmtpd`, `tests/mail`).
//! `.ci/run` installs both and sets `BATON_REQUIRE_MAIL=1`; elsewhere a test says it is
//! skipped when one is missing.
//!
//! Each server lives in a temporary directory of its own with its own configuration: no
//! system configuration is read and nothing listens outside 127.0.0.1.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::{Process, random_hex};

/// How long a server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Both servers, or `None` (after saying why) when one is not installed. Panics instead
/// when `BATON_REQUIRE_MAIL=1`.
pub fn mail_servers_or_skip() -> Option<(Dovecot, SmtpSink)> {
    Some((Dovecot::start_or_skip()?, SmtpSink::start_or_skip()?))
}

fn skip(why: &str) {
    assert!(
        std::env::var("BATON_REQUIRE_MAIL").as_deref() != Ok("1"),
        "BATON_REQUIRE_MAIL=1 but {why}"
    );
    eprintln!("skipped: {why}");
}

/// The `dovecot` binary, or why it cannot be used.
fn dovecot_binary() -> Result<&'static str, String> {
    static FOUND: OnceLock<Result<&'static str, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            // Non-root users often lack /usr/sbin in PATH.
            let binary = ["/usr/sbin/dovecot", "dovecot"]
                .into_iter()
                .find(|b| Command::new(b).arg("--version").output().is_ok())
                .ok_or("no dovecot (apt-get install dovecot-imapd)")?;
            let out = Command::new(binary)
                .arg("--version")
                .output()
                .map_err(|e| format!("{binary} --version: {e}"))?;
            let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            // 2.4 renamed and restructured most settings this harness writes.
            if !version.starts_with("2.3.") {
                return Err(format!(
                    "Dovecot {version} is installed; the harness writes a 2.3 configuration"
                ));
            }
            Ok(binary)
        })
        .clone()
}

/// A Python that can import aiosmtpd, or why there is none.
fn python() -> Result<&'static str, String> {
    static FOUND: OnceLock<Result<&'static str, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            // The Debian package installs for the system Python, which a pyenv or venv
            // `python3` earlier in PATH does not see.
            ["/usr/bin/python3", "python3"]
                .into_iter()
                .find(|p| {
                    Command::new(p)
                        .args(["-c", "import aiosmtpd"])
                        .stderr(Stdio::null())
                        .status()
                        .is_ok_and(|s| s.success())
                })
                .ok_or_else(|| "no Python with aiosmtpd (apt-get install python3-aiosmtpd)".into())
        })
        .clone()
}

/// A free port on 127.0.0.1, for servers that cannot be told to pick one and report it.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The id of `name` in an `/etc/passwd`-shaped file (field 3), or the name of `id`.
fn passwd_lookup(file: &str, name: Option<&str>, id: Option<u32>) -> Option<(String, u32)> {
    let text = fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let entry = fields.next()?;
        let entry_id: u32 = fields.nth(1)?.parse().ok()?;
        let hit = name.is_some_and(|n| n == entry) || id.is_some_and(|i| i == entry_id);
        hit.then(|| (entry.to_owned(), entry_id))
    })
}

/// Who owns the mailbox and who Dovecot's own processes run as.
#[derive(Debug, Clone)]
struct Identity {
    /// Root must hand mail to an unprivileged uid: Dovecot refuses uid 0 as a mail user.
    root: bool,
    mail_uid: u32,
    mail_gid: u32,
    internal_user: String,
    internal_group: String,
    login_user: String,
}

impl Identity {
    fn detect(probe: &Path) -> Identity {
        let meta = fs::metadata(probe).unwrap();
        let (uid, gid) = (meta.uid(), meta.gid());
        let name = |file, id| passwd_lookup(file, None, Some(id)).map(|(n, _)| n);
        if uid != 0 {
            // Without root nothing can switch users: everything runs as the caller.
            let user = name("/etc/passwd", uid).unwrap_or_else(|| uid.to_string());
            return Identity {
                root: false,
                mail_uid: uid,
                mail_gid: gid,
                internal_user: user.clone(),
                internal_group: name("/etc/group", gid).unwrap_or_else(|| gid.to_string()),
                login_user: user,
            };
        }
        let id = |file, wanted, fallback| {
            passwd_lookup(file, Some(wanted), None).map_or(fallback, |(_, id)| id)
        };
        // The package creates dovecot and dovenull; nobody stands in when they are missing.
        let has_user = |user| passwd_lookup("/etc/passwd", Some(user), None).is_some();
        let (internal_user, internal_group, login_user) =
            if has_user("dovecot") && has_user("dovenull") {
                ("dovecot", "dovecot", "dovenull")
            } else {
                ("nobody", "nogroup", "nobody")
            };
        Identity {
            root: true,
            mail_uid: id("/etc/passwd", "nobody", 65534),
            mail_gid: id("/etc/group", "nogroup", 65534),
            internal_user: internal_user.into(),
            internal_group: internal_group.into(),
            login_user: login_user.into(),
        }
    }
}

/// A running Dovecot serving one user's maildir over plain IMAP on 127.0.0.1.
/// Stopped on drop.
#[derive(Debug)]
pub struct Dovecot {
    dir: tempfile::TempDir,
    child: Option<Child>,
    port: u16,
    user: String,
    password: String,
    identity: Identity,
}

impl Dovecot {
    /// Starts Dovecot, panicking when it is not installed.
    pub fn start() -> Dovecot {
        let binary = dovecot_binary().unwrap_or_else(|why| panic!("{why}"));
        Dovecot::start_with(binary)
    }

    /// Starts Dovecot, or says why not and returns `None` (a failure under
    /// `BATON_REQUIRE_MAIL=1`).
    pub fn start_or_skip() -> Option<Dovecot> {
        match dovecot_binary() {
            Ok(binary) => Some(Dovecot::start_with(binary)),
            Err(why) => {
                skip(&why);
                None
            }
        }
    }

    fn start_with(binary: &str) -> Dovecot {
        let dir = tempfile::Builder::new()
            .prefix("dovecot")
            .tempdir()
            .unwrap();
        // The mail user must traverse the directory root created.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let identity = Identity::detect(dir.path());
        let mut dovecot = Dovecot {
            dir,
            child: None,
            port: 0,
            user: "support@example.test".into(),
            password: random_hex(),
            identity,
        };
        dovecot.prepare();
        // The port is free when picked but may be taken before Dovecot binds it.
        let mut failures = Vec::new();
        for _ in 0..3 {
            match dovecot.launch(binary) {
                Ok(()) => return dovecot,
                Err(why) => failures.push(why),
            }
        }
        panic!("Dovecot did not start:\n{}", failures.join("\n---\n"));
    }

    fn prepare(&self) {
        let maildir = self.maildir();
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        let mail = self.dir.path().join("mail");
        for path in [
            mail.clone(),
            maildir.clone(),
            maildir.join("cur"),
            maildir.join("new"),
            maildir.join("tmp"),
        ] {
            self.own(&path);
        }
        let users = format!(
            "{}:{{PLAIN}}{}:{}:{}::{}::\n",
            self.user,
            self.password,
            self.identity.mail_uid,
            self.identity.mail_gid,
            maildir.display()
        );
        fs::write(self.dir.path().join("users"), users).unwrap();
    }

    fn launch(&mut self, binary: &str) -> Result<(), String> {
        self.port = free_port();
        let config = self.path("dovecot.conf");
        fs::write(&config, self.config()).unwrap();
        let stderr = fs::File::create(self.path("dovecot.stderr")).unwrap();
        let mut child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(stderr.try_clone().unwrap())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {binary}: {e}"))?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("dovecot exited ({status})\n{}", self.log()));
            }
            if logs_in(self.port, &self.user, &self.password) {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "no IMAP login within {START_TIMEOUT:?}\n{}",
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn config(&self) -> String {
        let dir = self.dir.path().display();
        let Identity {
            internal_user,
            internal_group,
            login_user,
            ..
        } = &self.identity;
        // chroot is off because only root may chroot, and it buys a test nothing.
        format!(
            "protocols = imap
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{dir}/mail/%u
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {dir}/users
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
",
            port = self.port
        )
    }

    /// The plain IMAP port on 127.0.0.1.
    pub fn imap_port(&self) -> u16 {
        self.port
    }

    /// The one mailbox user, `support@example.test`.
    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// The user's maildir (INBOX).
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("mail").join(&self.user)
    }

    /// Puts `raw` into INBOX as a delivery agent does: written under `tmp/`, owned by the
    /// mail user, then renamed into `new/`. Returns the file name.
    pub fn deliver(&self, raw: &[u8]) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let name = format!(
            "{}.M{}P{}Q{}.baton-tests",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let maildir = self.maildir();
        let tmp = maildir.join("tmp").join(&name);
        let mut file = fs::File::create(&tmp).unwrap();
        file.write_all(raw).unwrap();
        file.sync_all().unwrap();
        drop(file);
        self.own(&tmp);
        fs::rename(&tmp, maildir.join("new").join(&name)).unwrap();
        name
    }

    /// How many mails INBOX holds, seen or not (files in `new/` and `cur/`).
    pub fn message_count(&self) -> usize {
        let maildir = self.maildir();
        ["new", "cur"]
            .iter()
            .map(|sub| {
                fs::read_dir(maildir.join(sub))
                    .unwrap()
                    .filter_map(Result::ok)
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .count()
            })
            .sum()
    }

    /// Dovecot's log so far (and anything it printed before opening the log).
    pub fn log(&self) -> String {
        let read = |name| fs::read_to_string(self.path(name)).unwrap_or_default();
        format!("{}{}", read("dovecot.stderr"), read("dovecot.log"))
    }

    /// Stops Dovecot: SIGTERM, so the master takes its children down, then SIGKILL.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn own(&self, path: &Path) {
        if self.identity.root {
            chown(
                path,
                Some(self.identity.mail_uid),
                Some(self.identity.mail_gid),
            )
            .unwrap();
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("dovecot log at failure:\n{}", self.log());
        }
        self.stop();
    }
}

/// Whether the server on `port` is this Dovecot: it greets and accepts this user's random
/// password, so a concurrent test's server that won the same port is not mistaken for it.
fn logs_in(port: u16, user: &str, password: &str) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if !line.starts_with("* OK") {
            return Ok(false);
        }
        write!(stream, "a LOGIN \"{user}\" \"{password}\"\r\nb LOGOUT\r\n")?;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(false);
            }
            if let Some(status) = line.strip_prefix("a ") {
                return Ok(status.starts_with("OK"));
            }
        }
    };
    attempt().unwrap_or(false)
}

/// One mail the sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`), in order.
    pub to: Vec<String>,
    /// The message as sent after `DATA`.
    pub raw: Vec<u8>,
    /// When the sink accepted it (its file's time).
    pub at: SystemTime,
}

impl Received {
    /// The message as text, for asserting on headers.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// One of its header fields (the first of that name, case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        header(&self.text(), name)
    }
}

/// A header field of the raw mail `raw` (the first of that name, case-insensitive),
/// unfolded; CRLF or LF line ends.
pub fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .replace("\r\n", "\n");
    let mut lines = head.split('\n').peekable();
    while let Some(line) = lines.next() {
        let Some((field, value)) = line.split_once(':') else {
            continue;
        };
        if field.eq_ignore_ascii_case(name) {
            let mut value = value.trim().to_owned();
            while let Some(next) = lines.next_if(|l| l.starts_with([' ', '\t'])) {
                value.push(' ');
                value.push_str(next.trim());
            }
            return Some(value);
        }
    }
    None
}

/// A running SMTP server on 127.0.0.1 that accepts every mail (unless told to fail) and
/// keeps it for the test to read. Stopped on drop.
#[derive(Debug)]
pub struct SmtpSink {
    dir: tempfile::TempDir,
    port: u16,
    _process: Process,
}

impl SmtpSink {
    /// Starts the sink, panicking when aiosmtpd is not installed.
    pub fn start() -> SmtpSink {
        let python = python().unwrap_or_else(|why| panic!("{why}"));
        SmtpSink::start_with(python)
    }

    /// Starts the sink, or says why not and returns `None` (a failure under
    /// `BATON_REQUIRE_MAIL=1`).
    pub fn start_or_skip() -> Option<SmtpSink> {
        match python() {
            Ok(python) => Some(SmtpSink::start_with(python)),
            Err(why) => {
                skip(&why);
                None
            }
        }
    }

    fn start_with(python: &str) -> SmtpSink {
        let dir = tempfile::Builder::new()
            .prefix("smtp-sink")
            .tempdir()
            .unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("mail/smtp_sink.py");
        let mut cmd = Command::new(python);
        cmd.arg(script).arg(dir.path());
        let mut process = Process::spawn(cmd);
        let line = process
            .wait_for_line("SMTP sink listening on ", START_TIMEOUT)
            .unwrap_or_else(|e| panic!("{e}"));
        let port = line
            .rsplit(' ')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        SmtpSink {
            dir,
            port,
            _process: process,
        }
    }

    /// The SMTP port on 127.0.0.1 (no TLS, no authentication).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Answers the next `times` messages with `code` at the end of DATA (451 is transient,
    /// 550 permanent) instead of accepting them. Replaces any failure still pending.
    pub fn fail_next(&self, code: u16, times: usize) {
        let path = self.dir.path().join("fail");
        let tmp = self.dir.path().join("fail.next");
        fs::write(&tmp, format!("{code} {times}")).unwrap();
        // A rename, so the sink never reads half a file.
        fs::rename(tmp, path).unwrap();
    }

    /// Every mail accepted so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        let mut metas: Vec<PathBuf> = fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        // Names are zero-padded counters, so name order is arrival order.
        metas.sort();
        metas
            .iter()
            .map(|meta| {
                let envelope: Value = serde_json::from_slice(&fs::read(meta).unwrap()).unwrap();
                Received {
                    from: envelope["from"].as_str().unwrap_or_default().to_owned(),
                    to: envelope["to"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| t.as_str().unwrap().to_owned())
                        .collect(),
                    raw: fs::read(meta.with_extension("eml")).unwrap(),
                    at: fs::metadata(meta)
                        .and_then(|m| m.modified())
                        .unwrap_or(UNIX_EPOCH),
                }
            })
            .collect()
    }

    /// Waits until at least `count` mails arrived and returns them all; panics after
    /// `timeout` with what did arrive.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} mails within {timeout:?}, got {}: {received:#?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
