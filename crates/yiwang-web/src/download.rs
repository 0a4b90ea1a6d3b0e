//! File downloads: a PDF as an attachment, with a filename that is safe in the header.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use std::fmt::Write;

/// Longest filename kept, in characters (before the extension is ensured).
const MAX_NAME_CHARS: usize = 100;

/// The name with control characters, path separators and characters that are special in a
/// header or on common file systems replaced by `_`, trimmed of dots and spaces, shortened, and
/// ending in `.pdf`. Never empty.
pub fn sanitize_filename(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "/\\\"'<>:|?*%;".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    let stem = cleaned
        .strip_suffix(".pdf")
        .or_else(|| cleaned.strip_suffix(".PDF"))
        .unwrap_or(cleaned);
    let stem: String = stem.chars().take(MAX_NAME_CHARS).collect();
    let stem = stem.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if stem.is_empty() {
        "document.pdf".to_string()
    } else {
        format!("{stem}.pdf")
    }
}

/// RFC 5987 `ext-value` encoding (UTF-8, percent-encoded outside attr-char).
fn rfc5987(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A PDF download: `Content-Type: application/pdf`, `Content-Disposition: attachment` with an
/// ASCII fallback `filename` and the UTF-8 `filename*` (RFC 6266 / RFC 5987), `nosniff`, and no
/// caching by shared caches (documents name an applicant).
pub fn pdf_attachment(filename: &str, bytes: Vec<u8>) -> Response {
    let name = sanitize_filename(filename);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        rfc5987(&name)
    );
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    } else {
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"document.pdf\""),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn filenames_are_safe_and_keep_chinese() {
        assert_eq!(sanitize_filename("受理通知书.pdf"), "受理通知书.pdf");
        assert_eq!(sanitize_filename("../../etc/passwd"), "_.._etc_passwd.pdf");
        assert_eq!(sanitize_filename("a\"b\r\nc;d"), "a_b__c_d.pdf");
        assert_eq!(sanitize_filename("  ..  "), "document.pdf");
        assert_eq!(sanitize_filename(""), "document.pdf");
        assert_eq!(sanitize_filename(&"长".repeat(500)).chars().count(), 104);
    }

    #[test]
    fn attachment_headers() {
        let r = pdf_attachment("受理通知书 1112-0001.pdf", b"%PDF-1.7".to_vec());
        let h = r.headers();
        assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let d = h[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert_eq!(
            d,
            "attachment; filename=\"_____ 1112-0001.pdf\"; \
             filename*=UTF-8''%E5%8F%97%E7%90%86%E9%80%9A%E7%9F%A5%E4%B9%A6%201112-0001.pdf"
        );
    }
}
