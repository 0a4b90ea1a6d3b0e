//! The POST load generator of the case benchmark: keep-alive connections sending prepared
//! requests (each at most once), with latencies and status counts.

use anyhow::{Context, bail};
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, Uri, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One request: a path, its credential, a JSON body.
#[derive(Debug, Clone)]
pub(crate) struct Post {
    pub(crate) path: String,
    pub(crate) cookie: Option<HeaderValue>,
    pub(crate) bearer: Option<HeaderValue>,
    pub(crate) body: &'static str,
}

/// What a run measured.
#[derive(Debug, Default)]
pub(crate) struct Measured {
    pub(crate) requests: u64,
    pub(crate) statuses: BTreeMap<u16, u64>,
    pub(crate) transport_errors: u64,
    pub(crate) elapsed: Duration,
    /// Latencies in microseconds, sorted.
    pub(crate) latencies_us: Vec<u32>,
    /// The first few non-2xx answers, for the notes.
    pub(crate) samples: Vec<String>,
}

impl Measured {
    pub(crate) fn rps(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.requests as f64 / s
        } else {
            0.0
        }
    }
    pub(crate) fn quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.latencies_us, q)
    }
    pub(crate) fn ok(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| (200..300).contains(*s))
            .map(|(_, n)| n)
            .sum()
    }
    pub(crate) fn server_errors(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| **s >= 500)
            .map(|(_, n)| n)
            .sum::<u64>()
            + self.transport_errors
    }
    pub(crate) fn status_summary(&self) -> String {
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

fn quantile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let last = sorted_us.len() - 1;
    let i = ((last as f64) * q).round() as usize;
    f64::from(sorted_us[i.min(last)]) / 1000.0
}

/// Sends `warm` (not measured), then `measured`, each request once, over `connections`
/// keep-alive connections; returns both measurements.
pub(crate) async fn warm_then_measure(
    addr: SocketAddr,
    (warm, measured): (&[Post], &[Post]),
    connections: usize,
    max: Duration,
) -> anyhow::Result<(Measured, Measured)> {
    let w = drive(addr, Arc::new(warm.to_vec()), warm.len(), connections, max).await?;
    let m = drive(
        addr,
        Arc::new(measured.to_vec()),
        measured.len(),
        connections,
        max,
    )
    .await?;
    Ok((w, m))
}

/// Sends `total` requests (`posts[i % len]`, each taken once by whichever connection is free)
/// over `connections` keep-alive connections; stops early after `max`.
pub(crate) async fn drive(
    addr: SocketAddr,
    posts: Arc<Vec<Post>>,
    total: usize,
    connections: usize,
    max: Duration,
) -> anyhow::Result<Measured> {
    if posts.is_empty() || total == 0 {
        bail!("no requests to send");
    }
    if !addr.ip().is_loopback() {
        bail!("the load generator only targets loopback addresses");
    }
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + max;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections.max(1) {
        let (posts, next) = (posts.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            post_worker(addr, &posts, &next, total, deadline).await
        }));
    }
    let mut out = Measured::default();
    for t in tasks {
        let r = t.await.context("load worker")?;
        out.requests += r.requests;
        out.transport_errors += r.transport_errors;
        for (s, n) in r.statuses {
            *out.statuses.entry(s).or_default() += n;
        }
        out.latencies_us.extend(r.latencies_us);
        for s in r.samples {
            if out.samples.len() < 3 {
                out.samples.push(s);
            }
        }
    }
    out.elapsed = start.elapsed();
    out.latencies_us.sort_unstable();
    Ok(out)
}

async fn post_worker(
    addr: SocketAddr,
    posts: &[Post],
    next: &AtomicUsize,
    total: usize,
    deadline: Instant,
) -> Measured {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(1)
        .build(connector);
    let mut out = Measured {
        latencies_us: Vec::with_capacity(4096),
        ..Default::default()
    };
    loop {
        let t0 = Instant::now();
        if t0 >= deadline {
            break;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total {
            break;
        }
        let p = &posts[i % posts.len()];
        let Ok(req) = build(addr, p) else {
            out.transport_errors += 1;
            continue;
        };
        let outcome = match client.request(req).await {
            Ok(res) => {
                let status = res.status().as_u16();
                match axum::body::to_bytes(Body::new(res.into_body()), 4 * 1024 * 1024).await {
                    Ok(b) => Ok((status, b)),
                    Err(_) => Err(()),
                }
            }
            Err(_) => Err(()),
        };
        let us = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
        match outcome {
            Ok((status, body)) => {
                out.requests += 1;
                *out.statuses.entry(status).or_default() += 1;
                out.latencies_us.push(us);
                if !(200..300).contains(&status) && out.samples.len() < 3 {
                    out.samples.push(format!(
                        "{status} {}: {:.300}",
                        p.path,
                        String::from_utf8_lossy(&body)
                    ));
                }
            }
            Err(()) => {
                out.transport_errors += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    out
}

fn build(addr: SocketAddr, p: &Post) -> anyhow::Result<Request<Body>> {
    let uri: Uri = format!("http://{addr}{}", p.path).parse()?;
    let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(c) = &p.cookie {
        req = req.header(header::COOKIE, c.clone());
    }
    if let Some(b) = &p.bearer {
        req = req.header(header::AUTHORIZATION, b.clone());
    }
    Ok(req.body(Body::from(Bytes::from_static(p.body.as_bytes())))?)
}

/// Serves `app` as the binary does (peer addresses available to handlers).
pub(crate) async fn serve(
    app: axum::Router,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding 127.0.0.1")?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        if let Err(e) = yiwang_web::serve_support::serve(listener, app).await {
            eprintln!("server stopped: {e}");
        }
    });
    Ok((addr, handle))
}
