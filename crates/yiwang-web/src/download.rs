//! PDF downloads (notices, certificates): attachments with a safe UTF-8 file name, `nosniff`
//! and no caching by shared caches (documents name an applicant). One code path with every
//! other served file: [`crate::upload::serve_file`].

use axum::response::Response;

/// A PDF as an attachment named `filename` (sanitised; Chinese kept, RFC 5987 encoded).
pub fn pdf_attachment(filename: &str, bytes: Vec<u8>) -> Response {
    crate::upload::serve_file(
        yiwang_domain::upload::FileKind::Pdf,
        filename,
        bytes,
        crate::upload::Disposition::Attachment,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::header;

    #[test]
    fn attachment_headers() {
        let r = pdf_attachment("../受理通知书 1112-0001.pdf", b"%PDF-1.7".to_vec());
        let h = r.headers();
        assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::CACHE_CONTROL], "private, no-store");
        let d = h[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(d.starts_with("attachment; filename=\""), "{d}");
        assert!(d.contains("filename*=UTF-8''%E5%8F%97%E7%90%86"), "{d}");
        assert!(!d.contains(".."), "{d}");
    }
}
