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
use yiwang_crypto::{Alg, KeyFile, KeyRing, KeySource};
use yiwang_domain::ErrorCode;
use yiwang_domain::upload::UploadPolicy;
use yiwang_store::Store;
use yiwang_testkit::backends;
use yiwang_web::status_for;
use yiwang_web::upload::{Disposition, read_upload_form, rejection_code, serve_file};

const T0: i64 = 1_800_000_000_000;
const LIMIT: u64 = 64 * 1024;
const OFD: &[u8] = include_bytes!("../../../yiwang-domain/tests/fixtures/sample.ofd");

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
    let form = match read_upload_form(&mut mp, "file", &policy, &s.files.spool_dir()).await {
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
    start_with(store, LocalDirStore::new(root).unwrap()).await
}

async fn start_with(store: Store, files: LocalDirStore) -> (String, Arc<LocalDirStore>) {
    let files = Arc::new(files);
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
        // Every upload went through a temporary file on disk, and none is left behind: neither
        // of the stored ones nor of the refused ones.
        assert_eq!(files.spool_dir(), root.join("tmp"));
        assert_eq!(
            std::fs::read_dir(root.join("tmp")).unwrap().count(),
            0,
            "{b}"
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}

fn ring(file: &KeyFile) -> Arc<KeyRing> {
    Arc::new(file.ring(KeySource::Inline).unwrap())
}

fn raw(root: &std::path::Path, bytes: &[u8]) -> Vec<u8> {
    let h = sha256_hex(bytes);
    std::fs::read(root.join(&h[0..2]).join(&h[2..4]).join(&h)).unwrap()
}

/// Materials (ID card scans) are encrypted at rest with the SM4 key ring: the file on disk
/// names its algorithm and key id and holds no plaintext; downloads give the original back.
/// After a new key is added, old files are still read (any ring key) and new files use the new
/// key; rotation moves every file (those stored in clear before included) to the current key,
/// after which the old key can go.
#[tokio::test]
async fn materials_are_encrypted_at_rest_and_follow_key_rotation() {
    for db in backends().await {
        let b = db.backend.name();
        let root =
            std::env::temp_dir().join(format!("yiwang-upload-enc-{}-{}", std::process::id(), b));
        let _ = std::fs::remove_dir_all(&root);
        // A file stored before encryption existed.
        let legacy = LocalDirStore::new(&root).unwrap();
        let mut old_pdf = b"%PDF-1.7\n% stored in clear before\n".to_vec();
        old_pdf.extend_from_slice(&[b'x'; 100]);
        legacy.put(&old_pdf).await.unwrap();
        assert_eq!(raw(&root, &old_pdf), old_pdf);

        let mut keys = KeyFile::generate(Alg::Sm4Gcm);
        let (base, files) = start_with(
            db.store.clone(),
            LocalDirStore::new(&root)
                .unwrap()
                .with_keys(Some(ring(&keys))),
        )
        .await;
        let c = reqwest::Client::new();
        // Larger than one segment, so segment order and the end are protected too.
        let mut pdf = b"%PDF-1.7\n".to_vec();
        for i in 0..20_000u32 {
            pdf.extend_from_slice(format!("居民身份证 {i:05}\n").as_bytes());
        }
        assert!(pdf.len() > 2 * yiwang_app::files::SEGMENT_BYTES && (pdf.len() as u64) < LIMIT * 8);
        let (status, body) = post(&c, &base, 1, "身份证.pdf", pdf[..60_000].to_vec()).await;
        assert_eq!(status, 200, "{body} {b}");
        let small = pdf[..60_000].to_vec();
        let id_small = body["id"].as_i64().unwrap();
        let on_disk = raw(&root, &small);
        assert_eq!(
            yiwang_app::files::sealed_with(&on_disk),
            Some(("sm4-gcm".to_string(), "k1".to_string())),
            "{b}"
        );
        assert!(
            !on_disk.windows(16).any(|w| w == &small[20..36]),
            "no plaintext on disk, {b}"
        );
        let r = c
            .get(format!("{base}/files/1/{id_small}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{b}");
        assert_eq!(r.bytes().await.unwrap().as_ref(), small.as_slice());
        // The multi-segment file through the store directly (above the helper's HTTP limit).
        let big_key = files.put(&pdf).await.unwrap();
        assert_eq!(files.get(&big_key).await.unwrap(), pdf);
        // The legacy file is still read.
        assert_eq!(
            files
                .get(&format!("sha256-{}", sha256_hex(&old_pdf)))
                .await
                .unwrap(),
            old_pdf
        );
        // Tampering is detected: a flipped byte, a cut-off end.
        let big_path = {
            let h = sha256_hex(&pdf);
            root.join(&h[0..2]).join(&h[2..4]).join(&h)
        };
        let good = std::fs::read(&big_path).unwrap();
        let mut flipped = good.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 1;
        std::fs::write(&big_path, &flipped).unwrap();
        assert!(files.get(&big_key).await.is_err(), "{b}");
        let cut = &good[..good.len() - (yiwang_app::files::SEGMENT_BYTES / 2)];
        std::fs::write(&big_path, cut).unwrap();
        assert!(files.get(&big_key).await.is_err(), "{b}");
        std::fs::write(&big_path, &good).unwrap();

        // A new current key: old files still read, new files use it.
        keys.add_data_key(Alg::Sm4Gcm);
        let rotated = LocalDirStore::new(&root)
            .unwrap()
            .with_keys(Some(ring(&keys)));
        assert_eq!(rotated.get(&big_key).await.unwrap(), pdf, "{b}");
        let mut newer = b"%PDF-1.7\n% newer\n".to_vec();
        newer.extend_from_slice(&[b'y'; 64]);
        rotated.put(&newer).await.unwrap();
        assert_eq!(
            yiwang_app::files::sealed_with(&raw(&root, &newer)).map(|(_, k)| k),
            Some("k2".to_string())
        );
        // Rotation: everything under k2, the plaintext file encrypted; repeatable.
        let done = rotated.rotate().unwrap();
        assert_eq!(
            (done.scanned, done.reencrypted, done.failed),
            (4, 3, 0),
            "{b}"
        );
        let usage = rotated.key_usage().unwrap();
        assert_eq!(
            usage.into_iter().collect::<Vec<_>>(),
            vec![("k2".to_string(), 4)]
        );
        assert_eq!(rotated.rotate().unwrap().reencrypted, 0);
        // Without the old key (retired): every file still reads.
        let only_k2 = KeyFile {
            index_key: keys.index_key.clone(),
            data_keys: vec![keys.data_keys[1].clone()],
        };
        let retired = LocalDirStore::new(&root)
            .unwrap()
            .with_keys(Some(ring(&only_k2)));
        for content in [&pdf, &old_pdf, &small, &newer] {
            assert_eq!(
                retired
                    .get(&format!("sha256-{}", sha256_hex(content)))
                    .await
                    .unwrap(),
                *content,
                "{b}"
            );
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
