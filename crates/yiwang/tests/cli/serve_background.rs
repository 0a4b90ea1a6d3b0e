//! `yiwang serve` runs the background work in the same process, on every backend: a
//! notification written to the outbox (by another process) reaches the SMS webhook configured
//! in `[notify]`, once, and is recorded as sent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use yiwang_crypto::{KeyFile, KeySource};
use yiwang_store::{ChannelKind, NewOutboxMessage, OutboxStatus};
use yiwang_testkit::backends;

type Seen = Arc<Mutex<Vec<Value>>>;

async fn receive(State(seen): State<Seen>, Json(body): Json<Value>) -> &'static str {
    seen.lock().unwrap().push(body);
    "ok"
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_delivers_outbox_messages_to_the_configured_webhook() {
    for (n, db) in backends().await.into_iter().enumerate() {
        let b = db.backend.name();
        let dir = std::env::temp_dir().join(format!("yiwang-serve-bg-{n}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();

        // The SMS gateway.
        let seen: Seen = Arc::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gw = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route("/sms", axum::routing::post(receive))
            .with_state(seen.clone());
        let gateway = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let keys = dir.join("keys.toml");
        let out = Command::new(env!("CARGO_BIN_EXE_yiwang"))
            .args(["keys", "generate", "--out", keys.to_str().unwrap()])
            .env("YIWANG_DATABASE_URL", &db.url)
            .env("YIWANG_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let config = dir.join("yiwang.toml");
        std::fs::write(
            &config,
            format!("[notify]\nsms_webhook = \"http://{gw}/sms\"\npoll_ms = 50\n"),
        )
        .unwrap();
        let _server = Server(
            Command::new(env!("CARGO_BIN_EXE_yiwang"))
                .args(["serve", "--listen", "127.0.0.1:0"])
                .env("YIWANG_DATABASE_URL", &db.url)
                .env("YIWANG_KEY_FILE", &keys)
                .env_remove("YIWANG_DATA_KEYS")
                .env("YIWANG_CONFIG", &config)
                .env("YIWANG_DATA_DIR", dir.join("data"))
                .env("YIWANG_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );

        // Another process (this test) writes a notification with the same keys.
        let ring = KeyFile::parse(&std::fs::read_to_string(&keys).unwrap())
            .unwrap()
            .ring(KeySource::Inline)
            .unwrap();
        let store = db.store.clone().with_keys(Arc::new(ring));
        let now = yiwang_app::SystemClock;
        let id = store
            .outbox_enqueue(
                &NewOutboxMessage {
                    channel: ChannelKind::Sms,
                    applicant_id: 1,
                    recipient: "13800138000".into(),
                    template_key: "notify.case_completed".into(),
                    args: json!({"case_number": "C-42"}),
                    case_number: Some("C-42".into()),
                    dedup_key: None,
                    send_at_ms: 0,
                },
                yiwang_app::Clock::now_ms(&now),
            )
            .await
            .unwrap();

        let mut status = None;
        for _ in 0..300 {
            let m = store.outbox_message(id).await.unwrap().unwrap();
            if m.status == OutboxStatus::Sent {
                status = Some(m.status);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(status, Some(OutboxStatus::Sent), "{b}");
        let got = seen.lock().unwrap().clone();
        assert_eq!(got.len(), 1, "{b}");
        assert_eq!(got[0]["to"], "13800138000");
        assert_eq!(got[0]["text"], "您的办件C-42已办结，可登录下载结果文书。");
        gateway.abort();
        drop(_server);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
