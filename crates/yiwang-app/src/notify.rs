//! Outbound notifications: the dispatcher takes due messages from the outbox
//! (`yiwang_store::outbox`), renders their text from the message catalog in zh-CN, hands them to
//! the channel adapter (SMS or WeChat, each a webhook), and records every attempt. A receiver
//! that is down or answers with an error gets the message again later (capped exponential
//! backoff); after the last attempt the message is kept as `gave_up`.
//!
//! Delivery is at least once: if the process dies between the receiver's answer and the
//! record, the message is sent again when its lease ends. Every request carries the message id
//! (`id` in the body and the `Idempotency-Key` header) so a receiver can drop repeats.

use crate::jobs::{Backoff, BoxFuture, Pass, worker_name};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use yiwang_i18n::{Lang, t, tf};
use yiwang_store::{ChannelKind, ClaimedMessage, Store, StoreError};

/// A message ready to leave: who, what text, which attempt.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutboundMessage {
    /// The outbox id: the same on every attempt (receivers de-duplicate by it).
    pub id: i64,
    pub channel: ChannelKind,
    /// Phone number or WeChat open id.
    pub to: String,
    pub applicant_id: i64,
    pub case_number: Option<String>,
    pub template: String,
    pub args: Value,
    /// The text rendered in zh-CN.
    pub text: String,
    pub attempt: i64,
}

/// An outbound channel adapter. `Ok` carries the receiver's answer for the record; `Err` the
/// reason it failed (retried with backoff).
pub trait Channel: Send + Sync {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> BoxFuture<'a, Result<String, String>>;
}

/// The text of a notification as sent: [`render_in`] zh-CN.
pub fn render(template: &str, args: &Value) -> Option<String> {
    render_in(Lang::Zh, template, args)
}

/// The catalog entry `template` in `lang` with `args` (a JSON object) filled in; `None` when
/// the catalog has no such entry. An argument named `<x>_key` names a catalog entry and fills
/// `{x}` with its text: `status_key` → `case_status.<value>`, any other → `<x>.<value>`.
/// The message centre renders its titles the same way.
pub fn render_in(lang: Lang, template: &str, args: &Value) -> Option<String> {
    if t(lang, template) == template {
        return None;
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Value::Object(m) = args {
        for (k, v) in m {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match k.strip_suffix("_key") {
                Some(base) if !base.is_empty() => {
                    let group = if base == "status" {
                        "case_status"
                    } else {
                        base
                    };
                    pairs.push((
                        base.to_string(),
                        t(lang, &format!("{group}.{v}")).to_string(),
                    ));
                }
                _ => pairs.push((k.clone(), v)),
            }
        }
    }
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Some(tf(lang, template, &refs))
}

/// A configuration problem of a channel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyConfigError {
    #[error(
        "webhook URL must start with https:// (or http:// for a relay inside the network): {0}"
    )]
    BadUrl(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// POSTs each message as JSON to a configured URL. A 2xx answer is delivery; anything else
/// (no connection, time-out, other status) is a failure to retry.
#[derive(Debug, Clone)]
pub struct WebhookChannel {
    client: reqwest::Client,
    url: String,
}

impl WebhookChannel {
    /// A channel POSTing to `url`: `https://` (the server's certificate checked against the
    /// system's trusted roots, TLS 1.2 at least) or `http://` (for a gateway or relay inside
    /// the network); any other scheme is refused.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, NotifyConfigError> {
        let url = url.trim();
        let host_part = ["https://", "http://"].iter().find_map(|scheme| {
            url.get(..scheme.len())
                .filter(|s| s.eq_ignore_ascii_case(scheme))
                .map(|_| &url[scheme.len()..])
        });
        if host_part.is_none_or(str::is_empty) || reqwest::Url::parse(url).is_err() {
            return Err(NotifyConfigError::BadUrl(url.to_string()));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .no_proxy()
            .tls_version_min(reqwest::tls::Version::TLS_1_2)
            .build()
            .map_err(|e| NotifyConfigError::Client(e.to_string()))?;
        Ok(Self {
            client,
            url: url.to_string(),
        })
    }
}

fn short(s: &str) -> String {
    s.chars().take(200).collect()
}

impl Channel for WebhookChannel {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let body = json!({
                "id": msg.id,
                "channel": msg.channel.key(),
                "to": msg.to,
                "text": msg.text,
                "template": msg.template,
                "args": msg.args,
                "case_number": msg.case_number,
                "applicant_id": msg.applicant_id,
                "attempt": msg.attempt,
            });
            let resp = self
                .client
                .post(&self.url)
                .header("Idempotency-Key", format!("yiwang-outbox-{}", msg.id))
                .json(&body)
                .send()
                .await
                .map_err(|e| short(&format!("request failed: {e}")))?;
            let status = resp.status();
            if status.is_success() {
                Ok(format!("HTTP {}", status.as_u16()))
            } else {
                let text = resp.text().await.unwrap_or_default();
                Err(short(&format!("HTTP {}: {}", status.as_u16(), text.trim())))
            }
        })
    }
}

/// Delivers due outbox messages through the configured channels.
pub struct Dispatcher {
    store: Store,
    channels: HashMap<ChannelKind, Arc<dyn Channel>>,
    backoff: Backoff,
    worker: String,
    lease_ms: i64,
    batch: usize,
}

impl Dispatcher {
    /// The store needs the data keys (recipients are encrypted).
    pub fn new(store: Store) -> Self {
        Self {
            store,
            channels: HashMap::new(),
            backoff: Backoff::default(),
            worker: worker_name("notify"),
            lease_ms: 60_000,
            batch: 50,
        }
    }

    /// Messages for channels without an adapter stay pending (nothing is dropped).
    pub fn with_channel(mut self, kind: ChannelKind, channel: Arc<dyn Channel>) -> Self {
        self.channels.insert(kind, channel);
        self
    }

    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// How long a claimed message is this dispatcher's (longer than a channel's time-out).
    pub fn lease_ms(mut self, ms: i64) -> Self {
        self.lease_ms = ms.max(1);
        self
    }

    pub fn channels(&self) -> Vec<ChannelKind> {
        ChannelKind::ALL
            .into_iter()
            .filter(|c| self.channels.contains_key(c))
            .collect()
    }

    /// Delivers the messages due at `now_ms` (at most one batch); returns how many attempts
    /// were made.
    pub async fn run_once(&self, now_ms: i64) -> Result<usize, StoreError> {
        let kinds = self.channels();
        let mut processed = 0;
        while processed < self.batch {
            let Some(claimed) = self
                .store
                .claim_outbox(now_ms, self.lease_ms, &self.worker, &kinds)
                .await?
            else {
                break;
            };
            processed += 1;
            self.deliver(claimed, now_ms).await?;
        }
        Ok(processed)
    }

    async fn deliver(&self, claimed: ClaimedMessage, now_ms: i64) -> Result<(), StoreError> {
        let ClaimedMessage { message, recipient } = claimed;
        let give_up = |why: &'static str| (why, None::<i64>);
        let prepared = match (
            recipient,
            render(&message.template_key, &message.args),
            self.channels.get(&message.channel),
        ) {
            (None, _, _) => Err(give_up("recipient unavailable (missing or undecryptable)")),
            (_, None, _) => Err(give_up("unknown template")),
            (_, _, None) => Err(("channel not configured", Some(now_ms + self.lease_ms))),
            (Some(to), Some(text), Some(ch)) => Ok((to, text, ch)),
        };
        let (to, text, channel) = match prepared {
            Ok(p) => p,
            Err((why, retry)) => {
                tracing::warn!(message = message.id, "notification not sent: {why}");
                self.store
                    .outbox_failed(&message, why, retry, now_ms)
                    .await?;
                return Ok(());
            }
        };
        let out = OutboundMessage {
            id: message.id,
            channel: message.channel,
            to,
            applicant_id: message.applicant_id,
            case_number: message.case_number.clone(),
            template: message.template_key.clone(),
            args: message.args.clone(),
            text,
            attempt: message.attempts,
        };
        match channel.send(&out).await {
            Ok(detail) => {
                self.store.outbox_sent(&message, &detail, now_ms).await?;
            }
            Err(error) => {
                let retry = self.backoff.retry_at(message.attempts, now_ms, message.id);
                if retry.is_none() {
                    tracing::warn!(message = message.id, %error, "notification given up");
                }
                self.store
                    .outbox_failed(&message, &error, retry, now_ms)
                    .await?;
            }
        }
        Ok(())
    }
}

impl Pass for Dispatcher {
    fn name(&self) -> &str {
        "notify"
    }
    fn run_once(&self, now_ms: i64) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(Dispatcher::run_once(self, now_ms))
    }
    fn batch(&self) -> usize {
        self.batch
    }
}
