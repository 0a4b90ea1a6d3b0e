//! Configuration: a TOML file, overridden by environment variables and flags.

use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub listen: String,
    /// The public address of the site (printed in notices' QR codes); unset: the address the
    /// server really listens on (`--listen`, port 0 resolved), with a warning when that is a
    /// loopback address outside demo mode.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Reverse proxies (exact IP addresses) whose X-Forwarded-For header is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `Secure` cookies (and HSTS). Unset: derived from `public_url` (https → on); an https
    /// `public_url` always turns them on (see [`Config::secure_cookies`]).
    #[serde(rename = "secure_cookies")]
    pub secure_cookies_setting: Option<bool>,
    pub max_upload_mb: usize,
    /// The online identity verifier (实名核验): unset or `none` (in person only), `file:<path>`
    /// (tests and demonstrations) or an `http://` address (see `yiwang_app::identity`).
    #[serde(default)]
    pub identity_verifier: Option<String>,
    /// The audit anchors file (`yiwang audit anchor`); the console's chain check compares with it.
    #[serde(default)]
    pub audit_anchors: Option<PathBuf>,
    /// SQLite commits: `full` (default, fsynced before the answer) or `normal` (faster, a power
    /// loss may drop the last acknowledged commits; a warning is logged at start-up).
    pub sqlite_synchronous: SqliteSynchronous,
    pub notify: NotifyConfig,
    /// Document numbers (文号) and seals of notices, per department.
    #[serde(default)]
    pub notices: yiwang_app::notices::NoticeSettings,
}

/// How SQLite commits reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    #[default]
    Full,
    Normal,
}

/// Outbound notifications: one webhook per channel (unset: that channel's messages wait in the
/// outbox until it is configured).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    pub sms_webhook: Option<String>,
    pub wechat_webhook: Option<String>,
    /// Time-out of one webhook call.
    pub timeout_ms: u64,
    /// How often the background loop looks for due jobs and messages.
    pub poll_ms: u64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            sms_webhook: None,
            wechat_webhook: None,
            timeout_ms: 5_000,
            poll_ms: 1_000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: None,
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            notices: yiwang_app::notices::NoticeSettings::default(),
            trusted_proxies: Vec::new(),
            secure_cookies_setting: None,
            max_upload_mb: 20,
            identity_verifier: None,
            audit_anchors: None,
            sqlite_synchronous: SqliteSynchronous::Full,
            notify: NotifyConfig::default(),
        }
    }
}

pub const DEFAULT_TOML: &str = r#"# yiwang configuration. Every key is optional; environment variables win over this file:
# YIWANG_DATABASE_URL, YIWANG_LISTEN, YIWANG_DATA_DIR.

# Where the embedded SQLite database lives when database_url is not set.
data_dir = "data"

# sqlite:///var/lib/yiwang/yiwang.db or postgres://user@host:5432/yiwang
# database_url = "postgres://yiwang@127.0.0.1:5432/yiwang"

listen = "127.0.0.1:8080"

# The public address of the site, printed in the QR codes of notices (verification links).
# public_url = "https://zwfw.example.gov.cn"
# Unset: the address the server listens on (a warning when that is a loopback address).

# Notices carry the issuing department's document number (文号) and its seal.
# [notices]
# number_pattern = "{abbr}〔{year}〕{n}号"
# [notices.departments.11120112MB1W167324]
# abbr = "津南审批许"        # the short name in the 文号; the department's name when unset
# seal_text = "天津市津南区行政审批局"   # around the seal; the department's name when unset
# seal = true              # false: no seal image

# Behind a reverse proxy or load balancer: its address(es). Only then is X-Forwarded-For read
# (throttling and the audit log record the real client, not the proxy).
# trusted_proxies = ["10.0.0.1"]

# Session cookies get the Secure flag (and answers carry Strict-Transport-Security) when
# public_url starts with https:// — also when a TLS proxy on the same host forwards plain HTTP.
# Set to true to force them on without an https public_url; false cannot turn them off then.
# secure_cookies = true

# SQLite commits are fsynced before the answer ("full", the default): an acknowledged case
# survives a power loss. "normal" is faster but may lose the last commits on a power loss; the
# server warns at start-up when it is set. (PostgreSQL: the server's synchronous_commit decides.)
# sqlite_synchronous = "full"

# Largest catalog upload accepted by the console, in MiB.
max_upload_mb = 20

# Online identity verification (实名核验) of newly registered applicants: "none" (the default:
# in person at a counter or service point only), "register" (the population and legal-entity
# registers held by this platform), "file:/path/ids.csv" (id_number,name,phone
# lines; tests and demonstrations only) or an http:// address that answers
# {"result": "match" | "mismatch"} to a POST of {"id_number", "name", "phone"}.
# identity_verifier = "none"
# The audit anchors file written by `yiwang audit anchor` (keep it outside the database, e.g. on
# write-once storage). When set, the console's chain check also compares the log with it.
# audit_anchors = "/var/lib/yiwang-anchors/anchors.txt"

# ---- Tables come last: a plain key written below a [table] line belongs to that table. ----

# Outbound notifications (SMS, WeChat) leave through the outbox: each message is POSTed as JSON
# ({"id", "channel", "to", "text", "template", "args", "case_number", "attempt"}, header
# Idempotency-Key) to the channel's webhook; a 2xx answer is delivery, anything else is retried
# with backoff. https:// (certificates checked against the system's roots) or http:// (only
# for a gateway or relay inside the network).
# A channel left unset keeps its messages waiting in the outbox.
[notify]
# sms_webhook = "http://127.0.0.1:9000/sms"
# wechat_webhook = "http://127.0.0.1:9000/wechat"
timeout_ms = 5000
poll_ms = 1000
"#;

impl Config {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let mut cfg = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?;
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
            }
            None => Config::default(),
        };
        if let Ok(d) = std::env::var("YIWANG_DATA_DIR") {
            cfg.data_dir = PathBuf::from(d);
        }
        Ok(cfg)
    }

    /// Whether cookies are `Secure` and HSTS is sent: an https `public_url` turns both on
    /// (a TLS proxy in front of a plain-HTTP listener is still HTTPS to the browser); without
    /// one, the explicit `secure_cookies` setting decides (default off).
    pub fn secure_cookies(&self) -> bool {
        let https = self
            .public_url
            .as_deref()
            .is_some_and(yiwang_web::security::is_https_url);
        https || self.secure_cookies_setting.unwrap_or(false)
    }

    /// How `yiwang serve` (and every other command) opens the database. The default
    /// configuration gives exactly [`yiwang_store::ConnectOptions::default`], which is also what
    /// the benchmark opens.
    pub fn connect_options(&self) -> yiwang_store::ConnectOptions {
        yiwang_store::ConnectOptions {
            durable: self.sqlite_synchronous == SqliteSynchronous::Full,
            ..Default::default()
        }
    }

    /// The database URL: explicit, or a SQLite file in the data directory (created on demand).
    pub fn database_url(&self, flag: Option<&str>) -> anyhow::Result<String> {
        if let Some(u) = flag.or(self.database_url.as_deref()) {
            return Ok(u.to_string());
        }
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create data directory {}: {e}",
                self.data_dir.display()
            )
        })?;
        Ok(format!(
            "sqlite://{}",
            self.data_dir.join("yiwang.db").display()
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    #[test]
    fn secure_cookies_follow_the_public_address() {
        let c: super::Config = toml::from_str(super::DEFAULT_TOML).unwrap();
        assert!(!c.secure_cookies(), "plain http by default");
        let https: super::Config =
            toml::from_str("public_url = \"https://zwfw.example.gov.cn\"").unwrap();
        assert!(https.secure_cookies(), "https public address");
        let forced_off: super::Config =
            toml::from_str("public_url = \"HTTPS://zwfw.example.gov.cn\"\nsecure_cookies = false")
                .unwrap();
        assert!(forced_off.secure_cookies(), "https cannot be turned off");
        let on: super::Config = toml::from_str("secure_cookies = true").unwrap();
        assert!(on.secure_cookies());
    }

    /// The configuration `serve` starts with opens SQLite with `synchronous = FULL` (2), the
    /// same options the benchmark uses; only an explicit setting relaxes it.
    #[tokio::test]
    async fn serve_opens_sqlite_with_full_synchronous_commits() {
        let c: super::Config = toml::from_str(super::DEFAULT_TOML).unwrap();
        assert_eq!(c.connect_options(), yiwang_store::ConnectOptions::default());
        let dir = std::env::temp_dir().join(format!("yiwang-cfg-sync-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let store = yiwang_store::Store::connect_with(&url, c.connect_options())
            .await
            .unwrap();
        assert_eq!(
            store.sqlite_pragma("synchronous").await.unwrap().as_deref(),
            Some("2")
        );
        store.close().await;
        let relaxed: super::Config = toml::from_str("sqlite_synchronous = \"normal\"").unwrap();
        let store = yiwang_store::Store::connect_with(&url, relaxed.connect_options())
            .await
            .unwrap();
        assert_eq!(
            store.sqlite_pragma("synchronous").await.unwrap().as_deref(),
            Some("1")
        );
        store.close().await;
        assert!(toml::from_str::<super::Config>("sqlite_synchronous = \"off\"").is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn default_config_parses_and_rejects_typos() {
        let c: super::Config = toml::from_str(super::DEFAULT_TOML).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert!(toml::from_str::<super::Config>("lisen = \"x\"").is_err());
        assert_eq!(c.notify.timeout_ms, 5000);
        assert!(c.notify.sms_webhook.is_none());
        let n: super::Config =
            toml::from_str("[notify]\nsms_webhook = \"http://10.0.0.1/sms\"").unwrap();
        assert_eq!(n.notify.sms_webhook.as_deref(), Some("http://10.0.0.1/sms"));
        assert_eq!(n.notify.poll_ms, 1000);
        assert!(toml::from_str::<super::Config>("[notify]\nsms_hook = \"x\"").is_err());
    }

    /// `[notices]`: the 文号 pattern and, per department, its short name and seal.
    #[test]
    fn notice_numbers_and_seals_are_configured_per_department() {
        let c: super::Config = toml::from_str(
            "[notices]\nnumber_pattern = \"{abbr}许字〔{year}〕第{n}号\"\n\
             [notices.departments.11120112MB1W167324]\nabbr = \"津南审批\"\n\
             [notices.departments.11120112MB1L902463]\nseal = false\n",
        )
        .unwrap();
        let n = &c.notices;
        assert_eq!(
            n.doc_number("11120112MB1W167324", "天津市津南区行政审批局", 2026, 12),
            "津南审批许字〔2026〕第12号"
        );
        // Unconfigured: the department's name stands in for the short name, and it has a seal.
        assert_eq!(n.doc_number("X", "某局", 2027, 1), "某局许字〔2027〕第1号");
        assert_eq!(n.seal("X", "某局").as_deref(), Some("某局"));
        assert_eq!(n.seal("11120112MB1L902463", "市场监管局"), None);
        let d: super::Config = toml::from_str(super::DEFAULT_TOML).unwrap();
        assert_eq!(
            d.notices.doc_number("X", "某局", 2026, 3),
            "某局〔2026〕3号"
        );
        assert!(toml::from_str::<super::Config>("[notices]\npattern = \"x\"").is_err());
    }
}
