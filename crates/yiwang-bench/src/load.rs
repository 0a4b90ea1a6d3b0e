//! The in-process HTTP load generator: N keep-alive connections (one hyper client each), each
//! sending GET requests back to back, for a warm-up and then a measured period. Requests are
//! bounded in time and sent to a loopback address only.

use anyhow::{Context, bail};
use axum::body::Body;
use axum::http::{Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct LoadConfig {
    pub connections: usize,
    pub warmup: Duration,
    pub measure: Duration,
}

/// What one run measured (the warm-up excluded).
#[derive(Debug, Default)]
pub struct LoadResult {
    pub requests: u64,
    /// Responses by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that failed below HTTP (connection errors).
    pub transport_errors: u64,
    pub elapsed: Duration,
    /// Latencies in microseconds, sorted.
    latencies_us: Vec<u32>,
    pub body_bytes: u64,
}

impl LoadResult {
    pub fn rps(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.requests as f64 / s
        } else {
            0.0
        }
    }
    /// The latency at quantile `q` (0..=1), milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let last = self.latencies_us.len() - 1;
        let i = ((last as f64) * q).round() as usize;
        f64::from(self.latencies_us[i.min(last)]) / 1000.0
    }
    pub fn ok(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| (200..300).contains(*s))
            .map(|(_, n)| n)
            .sum()
    }
    /// `200×1234 404×5` style summary.
    pub fn status_summary(&self) -> String {
        let mut parts: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}x{n}"))
            .collect();
        if self.transport_errors > 0 {
            parts.push(format!("errors x{}", self.transport_errors));
        }
        parts.join(" ")
    }
}

#[derive(Default)]
struct WorkerResult {
    requests: u64,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
    latencies_us: Vec<u32>,
    body_bytes: u64,
}

/// Drives GETs of `paths` (rotated; each connection starts at its own offset) on `addr`.
pub async fn run(
    addr: SocketAddr,
    paths: &[String],
    cfg: LoadConfig,
) -> anyhow::Result<LoadResult> {
    if paths.is_empty() {
        bail!("no paths to request");
    }
    if !addr.ip().is_loopback() {
        bail!("the load generator only targets loopback addresses");
    }
    let uris: Vec<Uri> = paths
        .iter()
        .map(|p| format!("http://{addr}{p}").parse::<Uri>())
        .collect::<Result<_, _>>()
        .context("building request URIs")?;
    let uris = Arc::new(uris);
    let start = Instant::now();
    let measure_from = start + cfg.warmup;
    let end = measure_from + cfg.measure;
    let mut tasks = Vec::with_capacity(cfg.connections);
    for w in 0..cfg.connections.max(1) {
        let uris = uris.clone();
        tasks.push(tokio::spawn(async move {
            worker(w, &uris, measure_from, end).await
        }));
    }
    let mut total = LoadResult::default();
    for t in tasks {
        let r = t.await.context("load worker")?;
        total.requests += r.requests;
        total.transport_errors += r.transport_errors;
        total.body_bytes += r.body_bytes;
        for (s, n) in r.statuses {
            *total.statuses.entry(s).or_default() += n;
        }
        total.latencies_us.extend(r.latencies_us);
    }
    // Requests started inside the measured window, over the window's length.
    total.elapsed = cfg.measure;
    total.latencies_us.sort_unstable();
    Ok(total)
}

async fn worker(w: usize, uris: &[Uri], measure_from: Instant, end: Instant) -> WorkerResult {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(1)
        .build(connector);
    let mut out = WorkerResult {
        latencies_us: Vec::with_capacity(64 * 1024),
        ..Default::default()
    };
    let mut i = w % uris.len();
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        let measured = t0 >= measure_from;
        let req = match Request::get(uris[i].clone()).body(Body::empty()) {
            Ok(r) => r,
            Err(_) => {
                out.transport_errors += 1;
                break;
            }
        };
        i = (i + 1) % uris.len();
        let outcome = match client.request(req).await {
            Ok(res) => {
                let status = res.status().as_u16();
                match axum::body::to_bytes(Body::new(res.into_body()), usize::MAX).await {
                    Ok(b) => Ok((status, b.len())),
                    Err(_) => Err(()),
                }
            }
            Err(_) => Err(()),
        };
        if !measured {
            if outcome.is_err() {
                // A refused connection during warm-up: do not spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            continue;
        }
        let us = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
        match outcome {
            Ok((status, len)) => {
                out.requests += 1;
                out.body_bytes += len as u64;
                *out.statuses.entry(status).or_default() += 1;
                out.latencies_us.push(us);
            }
            Err(()) => {
                out.transport_errors += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    out
}

/// Serves `app` on an ephemeral loopback port in a background task.
pub async fn serve(app: axum::Router) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding 127.0.0.1")?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("server stopped: {e}");
        }
    });
    Ok((addr, handle))
}

/// One GET, for checking a route before loading it.
pub async fn probe(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, String)> {
    let client: Client<HttpConnector, Body> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let uri: Uri = format!("http://{addr}{path}").parse()?;
    let res = client
        .request(Request::get(uri).body(Body::empty())?)
        .await?;
    let status = res.status().as_u16();
    let body = axum::body::to_bytes(Body::new(res.into_body()), 4 * 1024 * 1024).await?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}
