//! Notifications through a real HTTP gateway (an axum server in the test), on every backend:
//! the gateway is down (connection refused), then answers 500, then 200 — the message is
//! delivered exactly once, every attempt is recorded, nothing is lost; a gateway that never
//! recovers leads to `gave_up` after the last attempt.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use yiwang_app::jobs::Backoff;
use yiwang_app::notify::{Dispatcher, WebhookChannel, render};
use yiwang_crypto::{Alg, KeyFile, KeySource};
use yiwang_store::{ChannelKind, NewOutboxMessage, OutboxStatus, Store};
use yiwang_testkit::backends;

const T0: i64 = 1_800_000_000_000;

#[derive(Default)]
struct Gateway {
    /// Answers for the next requests (then 200).
    failures_left: usize,
    /// Every request: (status answered, body, idempotency key).
    seen: Vec<(u16, Value, String)>,
}

type Shared = Arc<Mutex<Gateway>>;

async fn receive(
    State(g): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, &'static str) {
    let mut g = g.lock().unwrap();
    let status = if g.failures_left > 0 {
        g.failures_left -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    g.seen.push((status.as_u16(), body, key));
    (
        status,
        if status == StatusCode::OK {
            "ok"
        } else {
            "gateway busy"
        },
    )
}

/// A port where nothing listens (yet).
async fn free_port() -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    addr
}

async fn start_gateway(addr: std::net::SocketAddr, g: Shared) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let app = axum::Router::new()
        .route("/sms", axum::routing::post(receive))
        .with_state(g);
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    })
}

fn keyed(store: &Store) -> Store {
    let ring = KeyFile::generate(Alg::Sm4Gcm)
        .ring(KeySource::Inline)
        .unwrap();
    store.clone().with_keys(Arc::new(ring))
}

fn message(applicant: i64, case: &str) -> NewOutboxMessage {
    NewOutboxMessage {
        channel: ChannelKind::Sms,
        applicant_id: applicant,
        recipient: "13800138000".into(),
        template_key: "notify.case_accepted".into(),
        args: json!({"case_number": case, "due_date": "2027-01-15"}),
        case_number: Some(case.into()),
        dedup_key: None,
        send_at_ms: T0,
    }
}

#[test]
fn texts_come_from_the_catalog_in_chinese() {
    let text = render(
        "notify.case_accepted",
        &json!({"case_number": "C-9", "due_date": "2027-01-15"}),
    )
    .unwrap();
    assert_eq!(text, "您的办件C-9已受理，承诺办结日期2027-01-15。");
    assert_eq!(render("notify.no_such_template", &json!({})), None);
    // `*_key` arguments name catalog entries (as the case workflow writes them).
    let status = render(
        "notify.case_status",
        &json!({"case_number": "C-9", "status_key": "under_review"}),
    )
    .unwrap();
    assert_eq!(status, "您的办件C-9状态更新：审查中。");
    let en = yiwang_app::notify::render_in(
        yiwang_i18n::Lang::En,
        "notify.case_status",
        &json!({"case_number": "C-9", "status_key": "under_review"}),
    )
    .unwrap();
    assert!(en.starts_with("Case C-9: "), "{en}");
}

#[tokio::test]
async fn gateway_down_then_failing_then_up_delivers_once() {
    for db in backends().await {
        let b = db.backend.name();
        let s = keyed(&db.store);
        let addr = free_port().await;
        let channel =
            WebhookChannel::new(&format!("http://{addr}/sms"), Duration::from_secs(2)).unwrap();
        let backoff = Backoff {
            base_ms: 1000,
            cap_ms: 4000,
            max_attempts: 10,
        };
        let dispatcher = Dispatcher::new(s.clone())
            .with_channel(ChannelKind::Sms, Arc::new(channel))
            .backoff(backoff);
        // A WeChat message with no WeChat adapter configured: stays pending, untouched.
        let mut wechat = message(8, "C-2");
        wechat.channel = ChannelKind::Wechat;
        let wid = s.outbox_enqueue(&wechat, T0).await.unwrap();

        // Written in the business transaction.
        let mut tx = s.pool().begin().await.unwrap();
        let id = s
            .outbox_enqueue_in(&mut tx, &message(7, "C-1"), T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        // 1: nobody listens.
        assert_eq!(dispatcher.run_once(T0).await.unwrap(), 1, "{b}");
        let m = s.outbox_message(id).await.unwrap().unwrap();
        assert_eq!((m.status, m.attempts), (OutboxStatus::Pending, 1), "{b}");
        assert!(
            m.last_error.as_deref().unwrap().contains("request failed"),
            "{b}"
        );
        let mut now = m.due_at;
        assert!(now > T0, "{b}");
        // Not due again before its retry time.
        assert_eq!(dispatcher.run_once(now - 1).await.unwrap(), 0, "{b}");

        // 2, 3: the gateway is up but answers 500; 4: 200.
        let gw: Shared = Arc::new(Mutex::new(Gateway {
            failures_left: 2,
            ..Default::default()
        }));
        let server = start_gateway(addr, gw.clone()).await;
        for _ in 0..3 {
            assert_eq!(dispatcher.run_once(now).await.unwrap(), 1, "{b}");
            let m = s.outbox_message(id).await.unwrap().unwrap();
            now = m.due_at.max(now);
        }
        let m = s.outbox_message(id).await.unwrap().unwrap();
        assert_eq!((m.status, m.attempts), (OutboxStatus::Sent, 4), "{b}");
        assert!(m.sent_at.is_some());
        // Later rounds send nothing more.
        assert_eq!(
            dispatcher.run_once(now + 10_000_000).await.unwrap(),
            0,
            "{b}"
        );

        let seen = gw.lock().unwrap().seen.clone();
        let statuses: Vec<u16> = seen.iter().map(|x| x.0).collect();
        assert_eq!(statuses, vec![500, 500, 200], "delivered exactly once, {b}");
        let (_, body, key) = seen.last().unwrap();
        assert_eq!(body["to"], "13800138000");
        assert_eq!(body["id"], id);
        assert_eq!(body["channel"], "sms");
        assert_eq!(body["case_number"], "C-1");
        assert_eq!(body["text"], "您的办件C-1已受理，承诺办结日期2027-01-15。");
        assert_eq!(key, &format!("yiwang-outbox-{id}"));
        // Every attempt is on record.
        let attempts = s.outbox_attempts(id).await.unwrap();
        let outcome: Vec<(i64, bool)> = attempts.iter().map(|a| (a.attempt, a.sent)).collect();
        assert_eq!(outcome, vec![(1, false), (2, false), (3, false), (4, true)]);
        assert!(attempts[1].detail.starts_with("HTTP 500"), "{b}");
        assert_eq!(attempts[3].detail, "HTTP 200");
        // Backoff grew between attempts.
        let gaps: Vec<i64> = attempts.windows(2).map(|w| w[1].at - w[0].at).collect();
        assert!(
            gaps[0] >= 1000 && gaps[1] >= 2000 && gaps[2] >= 4000,
            "{gaps:?}"
        );
        let w = s.outbox_message(wid).await.unwrap().unwrap();
        assert_eq!((w.status, w.attempts), (OutboxStatus::Pending, 0), "{b}");
        server.abort();
    }
}

#[tokio::test]
async fn a_gateway_that_never_recovers_is_given_up_with_all_attempts() {
    for db in backends().await {
        let b = db.backend.name();
        let s = keyed(&db.store);
        let addr = free_port().await;
        let gw: Shared = Arc::new(Mutex::new(Gateway {
            failures_left: usize::MAX,
            ..Default::default()
        }));
        let server = start_gateway(addr, gw.clone()).await;
        let channel =
            WebhookChannel::new(&format!("http://{addr}/sms"), Duration::from_secs(2)).unwrap();
        let dispatcher = Dispatcher::new(s.clone())
            .with_channel(ChannelKind::Sms, Arc::new(channel))
            .backoff(Backoff {
                base_ms: 10,
                cap_ms: 10,
                max_attempts: 3,
            });
        let id = s.outbox_enqueue(&message(3, "C-3"), T0).await.unwrap();
        let mut now = T0;
        for _ in 0..5 {
            dispatcher.run_once(now).await.unwrap();
            now += 1000;
        }
        let m = s.outbox_message(id).await.unwrap().unwrap();
        assert_eq!((m.status, m.attempts), (OutboxStatus::GaveUp, 3), "{b}");
        assert_eq!(gw.lock().unwrap().seen.len(), 3, "{b}");
        assert_eq!(s.outbox_attempts(id).await.unwrap().len(), 3, "{b}");
        server.abort();
    }
}

#[test]
fn https_and_http_webhooks_are_accepted_other_schemes_not() {
    assert!(WebhookChannel::new("https://sms.example/send", Duration::from_secs(1)).is_ok());
    assert!(WebhookChannel::new("HTTPS://sms.example/send", Duration::from_secs(1)).is_ok());
    assert!(WebhookChannel::new("file:///etc/passwd", Duration::from_secs(1)).is_err());
    assert!(WebhookChannel::new("ftp://sms.example/", Duration::from_secs(1)).is_err());
    assert!(WebhookChannel::new("http://", Duration::from_secs(1)).is_err());
    assert!(WebhookChannel::new("https://", Duration::from_secs(1)).is_err());
    assert!(WebhookChannel::new("http://10.0.0.5:8080/sms", Duration::from_secs(1)).is_ok());
}

/// An https webhook really speaks TLS: the first bytes the receiver gets are a TLS handshake
/// record (0x16 0x03 …), never the JSON body in clear; a receiver without a trusted
/// certificate is a failed attempt (retried), not a delivery.
#[tokio::test]
async fn https_webhooks_speak_tls_and_check_the_certificate() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut first = [0u8; 5];
        sock.read_exact(&mut first).await.unwrap();
        // Not a TLS server: answer garbage and close.
        let _ = sock.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await;
        first
    });
    let ch = WebhookChannel::new(&format!("https://{addr}/sms"), Duration::from_secs(3)).unwrap();
    let msg = yiwang_app::notify::OutboundMessage {
        id: 1,
        channel: ChannelKind::Sms,
        to: "13800000001".into(),
        applicant_id: 1,
        case_number: None,
        template: "notify.password_reset_code".into(),
        args: serde_json::json!({"code": "123456"}),
        text: "验证码 123456".into(),
        attempt: 1,
    };
    use yiwang_app::notify::Channel;
    let sent = ch.send(&msg).await;
    assert!(
        sent.is_err(),
        "no delivery without a trusted TLS server: {sent:?}"
    );
    let first = server.await.unwrap();
    assert_eq!(first[0], 0x16, "a TLS handshake record: {first:?}");
    assert_eq!(first[1], 0x03, "{first:?}");
}
