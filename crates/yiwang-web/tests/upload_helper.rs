//! Material uploads through a real HTTP server (a small router built on the web crate's upload
//! helper, the app's file store and the store), on every backend: the four accepted kinds by
//! content, a renamed executable, empty and oversized files (both the helper's limit and the
//! body limit), traversal names, the SHA-256 on record and on disk, and the download headers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Response};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::sync::Arc;
use yiwang_app::files::{FileStore, LocalDirStore, UploadTarget, save_upload, sha256_hex};
use yiwang_domain::ErrorCode;
use yiwang_domain::upload::UploadPolicy;
use yiwang_store::Store;
use yiwang_testkit::backends;
use yiwang_web::status_for;
use yiwang_web::upload::{Disposition, read_upload_form, rejection_code, serve_file};

const T0: i64 = 1_800_000_000_000;
const LIMIT: u64 = 64 * 1024;
const OFD: &[u8] = include_bytes!("../../yiwang-domain/tests/fixtures/sample.ofd");

#[derive(Clone)]
struct S {
    store: Store,
    files: Arc<LocalDirStore>,
}

fn refuse(code: ErrorCode) -> Response {
    (status_for(code), Json(json!({ "code": code.key() }))).into_response()
}

async fn upload(
    State(s): State<S>,
    Path(owner): Path<i64>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut mp = match mp {
        Ok(mp) => mp,
        Err(r) => return refuse(rejection_code(&r)),
    };
    let policy = UploadPolicy {
        max_bytes: LIMIT,
        ..Default::default()
    };
    let form = match read_upload_form(&mut mp, "file", &policy).await {
        Ok(f) => f,
        Err(code) => return refuse(code),
    };
    let material = form.fields.get("material").cloned().unwrap_or_default();
    let target = UploadTarget {
        owner_applicant_id: owner,
        application_id: 10,
        material_key: &material,
        replaces: None,
    };
    match save_upload(&s.store, s.files.as_ref(), &target, &form.file, T0).await {
        Ok(u) => Json(json!({
            "id": u.id, "kind": u.kind.key(), "filename": u.filename, "sha256": u.sha256,
            "size": u.size, "storage_key": u.storage_key,
        }))
        .into_response(),
        Err(e) => refuse(e.code()),
    }
}

async fn download(State(s): State<S>, Path((owner, id)): Path<(i64, i64)>) -> Response {
    let u = match s.store.upload_for_owner(owner, id).await {
        Ok(u) => u,
        Err(e) => return refuse(e.code()),
    };
    match s.files.get(&u.storage_key).await {
        Ok(bytes) => serve_file(u.kind, &u.filename, bytes, Disposition::Attachment),
        Err(_) => refuse(ErrorCode::Internal),
    }
}

async fn start(store: Store, root: &std::path::Path) -> (String, Arc<LocalDirStore>) {
    let files = Arc::new(LocalDirStore::new(root).unwrap());
    let app = axum::Router::new()
        .route("/up/{owner}", axum::routing::post(upload))
        .route("/files/{owner}/{id}", axum::routing::get(download))
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .with_state(S {
            store,
            files: files.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), files)
}

async fn post(
    c: &reqwest::Client,
    base: &str,
    owner: i64,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let form = Form::new()
        .text("material", "m1")
        .part("file", Part::bytes(bytes).file_name(name.to_string()));
    let r = c
        .post(format!("{base}/up/{owner}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn jpeg() -> Vec<u8> {
    let mut v = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
    ];
    v.extend_from_slice(&[0u8; 64]);
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend_from_slice(&[0u8; 40]);
    v
}

#[tokio::test]
async fn uploads_are_checked_recorded_and_served_back() {
    for db in backends().await {
        let b = db.backend.name();
        let root =
            std::env::temp_dir().join(format!("yiwang-upload-test-{}-{}", std::process::id(), b));
        let (base, files) = start(db.store.clone(), &root).await;
        let c = reqwest::Client::new();

        // The four kinds, recognised by content whatever the name says.
        let pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF".to_vec();
        let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
            ("营业执照.pdf", pdf.clone(), "pdf", "营业执照.pdf"),
            ("photo.JPG", jpeg(), "jpeg", "photo.JPG"),
            ("scan.jpeg", png(), "png", "scan.png"),
            ("电子证照.ofd", OFD.to_vec(), "ofd", "电子证照.ofd"),
            ("../../etc/passwd.pdf", pdf.clone(), "pdf", "passwd.pdf"),
            (
                "C:\\fakepath\\..\\身份证 (正面).pdf",
                pdf.clone(),
                "pdf",
                "身份证 (正面).pdf",
            ),
        ];
        let mut ids = Vec::new();
        for (name, bytes, kind, shown) in &cases {
            let (status, body) = post(&c, &base, 1, name, bytes.clone()).await;
            assert_eq!(status, 200, "{name} {body} {b}");
            assert_eq!(body["kind"], *kind, "{name} {b}");
            assert_eq!(body["filename"], *shown, "{name} {b}");
            let sha = sha256_hex(bytes);
            assert_eq!(body["sha256"], sha, "{name} {b}");
            assert_eq!(body["size"], bytes.len(), "{name} {b}");
            assert_eq!(body["storage_key"], format!("sha256-{sha}"));
            ids.push(body["id"].as_i64().unwrap());
        }
        // The file on disk is the content, under its hash, never the user's name.
        let on_disk = std::fs::read(
            root.join(&sha256_hex(&pdf)[0..2])
                .join(&sha256_hex(&pdf)[2..4])
                .join(sha256_hex(&pdf)),
        )
        .unwrap();
        assert_eq!(on_disk, pdf);
        assert!(!root.join("etc").exists() && !root.join("passwd.pdf").exists());
        let listed = files.root().read_dir().unwrap().count();
        assert!(listed >= 2, "{listed}");

        // Refusals: clear codes, never 5xx.
        let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
        let refusals: Vec<(&str, Vec<u8>, u16, &str)> = vec![
            ("通知书.pdf", exe, 415, "unsupported_file_type"),
            ("a.pdf", Vec::new(), 422, "empty_file"),
            (
                "big.pdf",
                {
                    let mut v = b"%PDF-1.7".to_vec();
                    v.resize(LIMIT as usize + 1, b' ');
                    v
                },
                413,
                "file_too_large",
            ),
            (
                "huge.pdf",
                {
                    let mut v = b"%PDF-1.7".to_vec();
                    v.resize(1024 * 1024, b' ');
                    v
                },
                413,
                "file_too_large",
            ),
            (
                "docx.ofd",
                b"PK\x03\x04\x14\x00\x00\x00".to_vec(),
                415,
                "unsupported_file_type",
            ),
        ];
        for (name, bytes, status, code) in refusals {
            let (s, body) = post(&c, &base, 1, name, bytes).await;
            assert_eq!(
                (s, body["code"].as_str()),
                (status, Some(code)),
                "{name} {b}"
            );
        }
        // No file part at all.
        let r = c
            .post(format!("{base}/up/1"))
            .multipart(Form::new().text("material", "m1"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "required");
        // Two files.
        let two = Form::new()
            .part("file", Part::bytes(pdf.clone()).file_name("a.pdf"))
            .part("file", Part::bytes(pdf.clone()).file_name("b.pdf"));
        let r = c
            .post(format!("{base}/up/1"))
            .multipart(two)
            .send()
            .await
            .unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "too_many_files");
        // Not multipart at all.
        let r = c
            .post(format!("{base}/up/1"))
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_input");

        // Download: same bytes, honest type, safe UTF-8 name, nosniff.
        let r = c
            .get(format!("{base}/files/1/{}", ids[0]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "application/pdf");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let cd = h["content-disposition"].to_str().unwrap();
        assert!(cd.starts_with("attachment;"), "{cd}");
        assert!(
            cd.contains("filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf"),
            "{cd}"
        );
        assert_eq!(r.bytes().await.unwrap().as_ref(), pdf.as_slice());
        let r = c
            .get(format!("{base}/files/1/{}", ids[2]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], "image/png");
        // Someone else's file: not found.
        let r = c
            .get(format!("{base}/files/2/{}", ids[0]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404, "{b}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
