//! Hostile input to every public portal page over real HTTP on every backend: script and HTML,
//! SQL, path traversal, over-long and malformed UTF-8 values in every path segment and query
//! parameter. Expected: a clear 4xx (or 200 with the value escaped), never 5xx, nothing written.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::console::*;
use crate::support::security::*;
use reqwest::StatusCode;
use yiwang_testkit::{backends, with_demo};

#[tokio::test]
async fn portal_pages_refuse_or_escape_hostile_input() {
    for db in backends().await {
        with_demo(&db).await;
        let samples = Samples::of(&db).await;
        let http = Http::new(&serve(&db, config()).await);
        let before = counts(&db).await;
        let mut log = Log::new("portal");
        let code = samples.impl_code.clone();
        let theme = encode(&samples.theme);
        // Every place a portal page takes outside input; `{}` is where the value goes.
        let targets = [
            "/search?q={}".to_string(),
            "/search?q=x&after={}".to_string(),
            "/regions/{}".to_string(),
            "/regions/120112?after={}".to_string(),
            "/departments/{}".to_string(),
            "/themes/{}".to_string(),
            format!("/themes/{theme}?after={{}}"),
            "/audience/{}".to_string(),
            "/audience/person?after={}".to_string(),
            "/items/{}".to_string(),
            format!("/items/{code}/versions/{{}}"),
            "/?lang={}".to_string(),
        ];
        let mut values: Vec<(String, String)> = hostile_values()
            .into_iter()
            .map(|(label, v)| (label, encode(&v)))
            .collect();
        for b in BAD_UTF8 {
            values.push((format!("bad UTF-8 `{b}`"), (*b).to_string()));
        }
        for target in &targets {
            for (label, value) in &values {
                let path = target.replace("{}", value);
                let (status, body) = if path.len() > 60_000 {
                    let (s, b) = raw_get(&http.base, &path).await;
                    (StatusCode::from_u16(s).unwrap(), b)
                } else {
                    let res = http.get(&path, None).await;
                    (res.status(), res.text().await.unwrap())
                };
                log.record(target, label, status);
                assert_escaped(&body, &format!("{target} {label}"));
                let long = value.len() > 50_000;
                if long {
                    assert_eq!(status, StatusCode::URI_TOO_LONG, "{target} {label}");
                } else if status != StatusCode::OK {
                    assert!(status.is_client_error(), "{target} {label}: {status}");
                }
            }
        }
        // Search echoes what was asked for, escaped.
        let res = http
            .get(&format!("/search?q={}", encode("<script>x</script>")), None)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("&#60;script&#62;x&#60;/script&#62;")
                || body.contains("&lt;script&gt;x&lt;/script&gt;"),
            "the query comes back, escaped"
        );
        assert_eq!(counts(&db).await, before, "a portal GET wrote something");
        log.finish(&format!("{:?}", db.backend));
    }
}
