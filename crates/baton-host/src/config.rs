//! The one typed configuration, loaded by figment: built-in defaults, then
//! `config/baton.toml` (or `--config FILE`), then `BATON_` environment variables with `__`
//! for nesting (`BATON_HTTP__ADDR`, `BATON_DATABASE__URL`, `BATON_BOOTSTRAP_TOKEN`).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    /// The owner's token on first start; generated and printed once when unset.
    pub bootstrap_token: Option<String>,
    pub kb: KbConfig,
    pub workflows: WorkflowsConfig,
    pub log: LogConfig,
    /// `[[plugins]]`: shared libraries loaded at start (trigger matchers, channels).
    #[serde(default)]
    pub plugins: Vec<PluginEntry>,
    /// Staff sign-in sessions.
    #[serde(default)]
    pub auth: AuthConfig,
    /// The customer agent: the knowledge base alone, or a language model with it.
    #[serde(default)]
    pub agent: AgentConfig,
    /// Outgoing webhooks (B15).
    #[serde(default)]
    pub webhooks: crate::webhooks::WebhooksConfig,
    /// The email channel: `[[email.mailboxes]]`.
    #[serde(default)]
    pub email: baton_channel_email::EmailConfig,
    /// Abuse limits at the HTTP edge.
    #[serde(default)]
    pub limits: crate::limits::LimitsConfig,
}

/// `[agent]`: which customer agent answers visitors.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    pub kind: AgentKind,
    pub llm: LlmConfig,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentKind {
    /// Answers with the best passage of `[kb] dir` (no setup).
    #[default]
    Kb,
    /// An OpenAI-compatible model (`[agent.llm]`), given the best passages of `[kb] dir`.
    Llm,
}

/// `[agent.llm]`: the model server, used when `agent.kind = "llm"`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// Up to the version, e.g. `http://127.0.0.1:8081/v1` (llama.cpp's llama-server).
    pub base_url: String,
    pub model: String,
    /// Sent as a bearer token when not empty.
    pub api_key: String,
    pub timeout_seconds: u64,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            base_url: String::new(),
            model: String::new(),
            api_key: String::new(),
            timeout_seconds: 20,
        }
    }
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field(
                "api_key",
                &if self.api_key.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

impl LlmConfig {
    /// The answerer's settings (checked by `Config::validate`).
    pub fn answerer(&self) -> baton_agent::llm::LlmConfig {
        baton_agent::llm::LlmConfig {
            base_url: self.base_url.trim().to_owned(),
            model: self.model.trim().to_owned(),
            api_key: (!self.api_key.is_empty()).then(|| self.api_key.clone()),
            timeout: std::time::Duration::from_secs(self.timeout_seconds),
            passages: baton_agent::llm::DEFAULT_PASSAGES,
        }
    }
}

/// `[auth]`: how long a console session lasts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// A session unused this long is over (default 12 hours).
    pub session_idle_seconds: u64,
    /// A session is over this long after sign-in (default 7 days).
    pub session_max_seconds: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        let sessions = baton_auth::SessionConfig::default();
        AuthConfig {
            session_idle_seconds: sessions.idle.as_secs(),
            session_max_seconds: sessions.absolute.as_secs(),
        }
    }
}

impl AuthConfig {
    pub fn sessions(&self) -> baton_auth::SessionConfig {
        baton_auth::SessionConfig {
            idle: std::time::Duration::from_secs(self.session_idle_seconds),
            absolute: std::time::Duration::from_secs(self.session_max_seconds),
        }
    }
}

/// One `[[plugins]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginEntry {
    /// Unique; the webhook path `/webhooks/{name}` and the trigger kind `plugin:{name}`.
    pub name: String,
    /// The library file, relative to the working directory unless absolute.
    pub path: PathBuf,
    /// Handed to the plugin's `init` as JSON.
    #[serde(default)]
    pub config: serde_json::Value,
}

impl PluginEntry {
    pub fn spec(&self) -> baton_plugin_host::PluginSpec {
        baton_plugin_host::PluginSpec {
            name: self.name.clone(),
            path: self.path.clone(),
            config: if self.config.is_null() {
                serde_json::Value::Object(serde_json::Map::new())
            } else {
                self.config.clone()
            },
        }
    }
}

/// Channel names the host owns: a plugin may not take them.
const BUILT_IN_CHANNELS: [&str; 2] = ["chat", "email"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowsConfig {
    /// Folder of workflow templates (`*.json` or `*.toml` definitions; the file name is
    /// the template id), offered beside the built-in ones.
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// `host:port`; port 0 picks a free one.
    pub addr: String,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path?mode=rwc` (default, embedded) or `postgres://...`.
    pub url: String,
    /// PostgreSQL schema to work in (created when missing).
    pub schema: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KbConfig {
    /// Folder of Markdown articles the customer agent answers from.
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `tracing` filter, e.g. `info` or `baton=debug,sqlx=warn`; `RUST_LOG` wins.
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            http: HttpConfig {
                addr: "127.0.0.1:8080".into(),
            },
            database: DatabaseConfig {
                url: "sqlite://data/baton.db?mode=rwc".into(),
                schema: None,
            },
            bootstrap_token: None,
            kb: KbConfig {
                dir: PathBuf::from("config/kb"),
            },
            workflows: WorkflowsConfig {
                dir: PathBuf::from("config/workflows"),
            },
            log: LogConfig {
                level: "info".into(),
                format: "text".into(),
            },
            plugins: Vec::new(),
            auth: AuthConfig::default(),
            agent: AgentConfig::default(),
            webhooks: crate::webhooks::WebhooksConfig::default(),
            email: baton_channel_email::EmailConfig::default(),
            limits: crate::limits::LimitsConfig::default(),
        }
    }
}

/// Secrets stay out of logs: the database URL may carry a password.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("http", &self.http)
            .field("database", &self.database)
            .field(
                "bootstrap_token",
                &self.bootstrap_token.as_ref().map(|_| "<redacted>"),
            )
            .field("kb", &self.kb)
            .field("workflows", &self.workflows)
            .field("log", &self.log)
            .field("auth", &self.auth)
            .field("agent", &self.agent)
            .field("webhooks", &self.webhooks)
            // Mailbox passwords are redacted by their own Debug.
            .field("email", &self.email)
            .field("limits", &self.limits)
            // Plugin configs hold tokens and secrets: names and files only.
            .field(
                "plugins",
                &self
                    .plugins
                    .iter()
                    .map(|p| (&p.name, &p.path))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .field("schema", &self.schema)
            .finish()
    }
}

fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:<redacted>{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A configuration value that stops the start, with its key path.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {key}: {reason}")]
pub struct ConfigError {
    pub key: String,
    pub reason: String,
}

/// The top-level keys of [`Config`], as environment variables may name them.
const SECTIONS: [&str; 12] = [
    "limits",
    "email",
    "webhooks",
    "agent",
    "auth",
    "http",
    "database",
    "bootstrap_token",
    "kb",
    "workflows",
    "log",
    "plugins",
];

impl Config {
    /// Loads defaults < file < environment. `file` is `--config`; without it
    /// `config/baton.toml` is read when it exists.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => {
                return Err(ConfigError {
                    key: "--config".into(),
                    reason: format!("{} does not exist", path.display()),
                });
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file("config/baton.toml")),
        }
        // Only variables naming a section of this struct: other tools share the prefix
        // (the test suite's BATON_TEST_POSTGRES_URL, say) and must not stop the start.
        figment = figment.merge(
            Env::prefixed("BATON_")
                .filter(|key| {
                    let section = key.as_str().split("__").next().unwrap_or_default();
                    SECTIONS.iter().any(|s| s.eq_ignore_ascii_case(section))
                })
                .split("__"),
        );
        let config: Config = figment.extract().map_err(|e| {
            let key = e.path.join(".");
            ConfigError {
                key: if key.is_empty() { "(root)".into() } else { key },
                reason: e.kind.to_string(),
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, reason: String| {
            Err(ConfigError {
                key: key.into(),
                reason,
            })
        };
        if self.auth.session_idle_seconds == 0 || self.auth.session_max_seconds == 0 {
            return bad(
                "auth.session_idle_seconds",
                "session lifetimes are at least one second".into(),
            );
        }
        if let Some((key, reason)) = self.limits.invalid() {
            return bad(key, reason);
        }
        if self.http.addr.parse::<SocketAddr>().is_err() {
            return bad(
                "http.addr",
                format!(
                    "\"{}\" is not a socket address (expected host:port, e.g. 127.0.0.1:8080)",
                    self.http.addr
                ),
            );
        }
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres:")
            || url.starts_with("postgresql:"))
        {
            return bad(
                "database.url",
                "must start with sqlite:// or postgres://".into(),
            );
        }
        if let Some(schema) = &self.database.schema {
            if schema.is_empty()
                || !schema
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return bad(
                    "database.schema",
                    "letters, digits and underscores only".into(),
                );
            }
            if url.starts_with("sqlite:") {
                return bad("database.schema", "only PostgreSQL has schemas".into());
            }
        }
        if let Some(token) = &self.bootstrap_token
            && token.len() < 16
        {
            return bad(
                "bootstrap_token",
                "at least 16 characters; a short token is guessable".into(),
            );
        }
        if self.agent.kind == AgentKind::Llm {
            let llm = &self.agent.llm;
            let url = llm.base_url.trim();
            if url.is_empty() {
                return bad(
                    "agent.llm.base_url",
                    "required with agent.kind = \"llm\" (e.g. http://127.0.0.1:8081/v1)".into(),
                );
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(' ') {
                return bad(
                    "agent.llm.base_url",
                    format!("{url:?} is not an http:// or https:// URL"),
                );
            }
            if llm.model.trim().is_empty() {
                return bad(
                    "agent.llm.model",
                    "required with agent.kind = \"llm\" (the model name the server knows)".into(),
                );
            }
            if llm.timeout_seconds == 0 {
                return bad("agent.llm.timeout_seconds", "at least 1".into());
            }
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return bad("log.format", "\"text\" or \"json\"".into());
        }
        if let Err(invalid) = baton_channel_email::config::validate(&self.email) {
            return bad(&invalid.key, invalid.reason);
        }
        for (i, plugin) in self.plugins.iter().enumerate() {
            let name = &plugin.name;
            let valid = name.len() <= 64
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !valid {
                return bad(
                    &format!("plugins[{i}].name"),
                    format!(
                        "{name:?}: lowercase letters, digits, - and _, starting with a letter \
                         (it is a URL path segment and a trigger kind)"
                    ),
                );
            }
            if BUILT_IN_CHANNELS.contains(&name.as_str()) {
                return bad(
                    &format!("plugins[{i}].name"),
                    format!("{name:?} is a built-in channel"),
                );
            }
            if self.plugins[..i].iter().any(|p| p.name == *name) {
                return bad(
                    &format!("plugins[{i}].name"),
                    format!("{name:?} is already the name of an earlier entry"),
                );
            }
            if plugin.path.as_os_str().is_empty() {
                return bad(&format!("plugins[{i}].path"), "empty".into());
            }
            if !(plugin.config.is_null() || plugin.config.is_object()) {
                return bad(&format!("plugins[{i}].config"), "must be a table".into());
            }
        }
        Ok(())
    }

    pub fn addr(&self) -> SocketAddr {
        // Checked by `validate`; the fallback is never reached after `load`.
        self.http
            .addr
            .parse()
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)))
    }

    /// The SQLite file's folder, created before connecting so that the first start
    /// works with no setup.
    pub fn sqlite_dir(&self) -> Option<PathBuf> {
        let rest = self.database.url.strip_prefix("sqlite:")?;
        let path = rest.trim_start_matches("//");
        let path = path.split('?').next()?;
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Path::new(path).parent().map(Path::to_path_buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let mut config = Config {
            bootstrap_token: Some("0123456789abcdef-secret".into()),
            ..Config::default()
        };
        config.database.url = "postgres://baton:hunter2@db:5432/baton".into();
        let shown = format!("{config:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("baton:<redacted>@db"), "{shown}");

        config.agent.llm.api_key = "sk-hunter3".into();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter3"), "{shown}");
        assert!(shown.contains("api_key: \"<redacted>\""), "{shown}");
    }

    #[test]
    fn the_llm_agent_needs_its_server_and_model() {
        let check = |agent: AgentConfig| {
            Config {
                agent,
                ..Config::default()
            }
            .validate()
            .err()
            .map(|e| e.key)
        };
        assert_eq!(check(AgentConfig::default()), None, "kb needs no setup");
        let mut agent = AgentConfig {
            kind: AgentKind::Llm,
            ..AgentConfig::default()
        };
        assert_eq!(check(agent.clone()).as_deref(), Some("agent.llm.base_url"));
        agent.llm.base_url = "127.0.0.1:8081/v1".into();
        assert_eq!(check(agent.clone()).as_deref(), Some("agent.llm.base_url"));
        agent.llm.base_url = "http://127.0.0.1:8081/v1".into();
        assert_eq!(check(agent.clone()).as_deref(), Some("agent.llm.model"));
        agent.llm.model = "qwen2.5-7b-instruct".into();
        assert_eq!(check(agent.clone()), None);
        agent.llm.timeout_seconds = 0;
        assert_eq!(
            check(agent.clone()).as_deref(),
            Some("agent.llm.timeout_seconds")
        );
    }

    #[test]
    fn plugin_entries_are_checked_naming_the_entry() {
        let entry = |name: &str, config: serde_json::Value| PluginEntry {
            name: name.into(),
            path: PathBuf::from("libx.so"),
            config,
        };
        let check = |plugins: Vec<PluginEntry>| {
            Config {
                plugins,
                ..Config::default()
            }
            .validate()
            .err()
            .map(|e| (e.key, e.reason))
        };
        let ok = serde_json::json!({"patterns": ["x"]});
        assert!(
            check(vec![
                entry("order-numbers", ok.clone()),
                entry("tg_2", ok.clone())
            ])
            .is_none()
        );
        let (key, reason) = check(vec![entry("Order Numbers", ok.clone())]).expect("refused");
        assert_eq!(key, "plugins[0].name");
        assert!(reason.contains("lowercase"), "{reason}");
        let (key, reason) =
            check(vec![entry("a", ok.clone()), entry("a", ok.clone())]).expect("refused");
        assert_eq!(key, "plugins[1].name");
        assert!(reason.contains("earlier entry"), "{reason}");
        let (key, _) = check(vec![entry("chat", ok.clone())]).expect("refused");
        assert_eq!(key, "plugins[0].name");
        let (key, _) =
            check(vec![entry("x", serde_json::json!(["not", "a", "table"]))]).expect("refused");
        assert_eq!(key, "plugins[0].config");
        assert!(
            check(vec![entry("x", serde_json::Value::Null)]).is_none(),
            "no config is {{}}"
        );
    }

    #[test]
    fn sqlite_folder_is_derived_from_the_url() {
        let mut config = Config::default();
        assert_eq!(config.sqlite_dir(), Some(PathBuf::from("data")));
        config.database.url = "sqlite:///tmp/x/baton.db?mode=rwc".into();
        assert_eq!(config.sqlite_dir(), Some(PathBuf::from("/tmp/x")));
        config.database.url = "postgres://localhost/test".into();
        assert_eq!(config.sqlite_dir(), None);
    }
}
