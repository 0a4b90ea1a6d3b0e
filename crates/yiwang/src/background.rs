//! The background work `yiwang serve` runs beside HTTP, in the same process: the job runner
//! (every job kind this binary handles is registered in [`register_jobs`]) and the notification
//! dispatcher (webhook channels from the `[notify]` configuration). Several processes on one
//! database share the work safely (claims with leases).

use crate::config::Config;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;
use yiwang_app::SystemClock;
use yiwang_app::jobs::{Background, JobRunner, Pass, spawn};
use yiwang_app::notify::{Dispatcher, WebhookChannel};
use yiwang_store::{ChannelKind, Job, Store};

/// Finished jobs are kept this long (their dedup keys with them).
const KEEP_FINISHED_JOBS_MS: i64 = 30 * DAY_MS;
const DAY_MS: i64 = 24 * 3600 * 1000;
const HOUR_MS: i64 = 3600 * 1000;
/// The hourly scan that escalates cases past their due date (督办).
pub const ESCALATE_OVERDUE: &str = "cases.escalate_overdue";

/// Every job kind this binary handles. Register new kinds here, e.g.
/// `runner.register(KIND, move |job, now_ms| { let store = store.clone(); async move { … } })`
/// or, for periodic scans, `runner.every(KIND, period_ms, …)`.
pub fn register_jobs(runner: &mut JobRunner, store: &Store) {
    let s = store.clone();
    runner.every(ESCALATE_OVERDUE, HOUR_MS, move |_job: Job, now_ms: i64| {
        let s = s.clone();
        async move {
            let today = yiwang_domain::calendar::CivilDate::from_unix_ms(now_ms, 8 * 3600);
            let n = s.escalate_overdue(today, now_ms).await?;
            if !n.is_empty() {
                tracing::warn!(cases = n.len(), "overdue cases escalated");
            }
            Ok(())
        }
    });
    let s = store.clone();
    runner.every("jobs.purge", DAY_MS, move |_job: Job, now_ms: i64| {
        let s = s.clone();
        async move {
            let n = s
                .purge_finished_jobs(now_ms.saturating_sub(KEEP_FINISHED_JOBS_MS))
                .await?;
            tracing::info!(purged = n, "finished jobs purged");
            Ok(())
        }
    });
}

/// The notification dispatcher with the configured channels; a bad URL stops the start.
pub fn dispatcher(store: &Store, cfg: &Config) -> anyhow::Result<Dispatcher> {
    let timeout = Duration::from_millis(cfg.notify.timeout_ms.max(1));
    let mut d = Dispatcher::new(store.clone()).lease_ms(
        i64::try_from(cfg.notify.timeout_ms)
            .unwrap_or(i64::MAX / 4)
            .saturating_mul(4)
            .max(60_000),
    );
    for (kind, url, key) in [
        (
            ChannelKind::Sms,
            &cfg.notify.sms_webhook,
            "notify.sms_webhook",
        ),
        (
            ChannelKind::Wechat,
            &cfg.notify.wechat_webhook,
            "notify.wechat_webhook",
        ),
    ] {
        if let Some(url) = url {
            let ch = WebhookChannel::new(url, timeout).with_context(|| key.to_string())?;
            d = d.with_channel(kind, Arc::new(ch));
        }
    }
    Ok(d)
}

/// Starts the background loop; stop it with [`Background::stop`] when the server ends.
pub fn start(store: &Store, cfg: &Config) -> anyhow::Result<Background> {
    let mut runner = JobRunner::new(store.clone());
    register_jobs(&mut runner, store);
    let dispatcher = dispatcher(store, cfg)?;
    let channels: Vec<&str> = dispatcher.channels().iter().map(|c| c.key()).collect();
    tracing::info!(jobs = ?runner.kinds(), ?channels, "background work started");
    let passes: Vec<Arc<dyn Pass>> = vec![Arc::new(runner), Arc::new(dispatcher)];
    Ok(spawn(
        passes,
        Arc::new(SystemClock),
        Duration::from_millis(cfg.notify.poll_ms.max(10)),
    ))
}
