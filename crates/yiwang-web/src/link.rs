//! Links and addresses: percent-encoding, the request's own address, a safe `next`.
//! A leaf module (the kit, auth and every page module use it).

use crate::locale::Locale;
use crate::page::Page;
use axum::http::Uri;
use std::fmt::Write;

/// Percent-encodes one path segment (UTF-8, everything but unreserved ASCII; `/` too).
pub fn encode_segment(s: &str) -> String {
    percent_encode(s, b"")
}

/// Percent-encodes a query value such as `next=`; a `/` stays (it is legal in a query, and
/// the sign-in links read better with it).
pub fn encode_query(s: &str) -> String {
    percent_encode(s, b"/")
}

fn percent_encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || keep.contains(&b)
        {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The request's path and query without `lang`, for `next=` and the language switch.
pub fn here(uri: &Uri) -> String {
    let path = uri.path();
    if !path.starts_with('/') || path.starts_with("//") {
        return "/".to_string();
    }
    let rest: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && *kv != "lang" && !kv.starts_with("lang="))
        .collect();
    if rest.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", rest.join("&"))
    }
}

/// `next` when it is a path on this site (not `//host`, no backslash, no control character),
/// so that a redirect after sign-in cannot leave the site.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    ok.then_some(next)
}

/// A link to `path` in the reader's language.
pub fn href(locale: Locale, path: &str) -> String {
    Page::bare(locale, "").href(path)
}
