//! Material uploads at the HTTP edge: read one file part of a multipart form (with its few text
//! fields) under a size limit into a [`CheckedUpload`] — streamed to a temporary file as it
//! arrives (never whole in memory), SHA-256 computed and the limit enforced on the way, type
//! sniffed from the content, name sanitised — and serve a stored file back as a download. Every problem is
//! an [`ErrorCode`] the user can act on (too large, wrong type, empty, missing, malformed);
//! none is a 5xx.

use axum::body::Body;
use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;
use yiwang_app::files::{CheckedUpload, Spool, SpoolError, SpooledFile};
use yiwang_domain::ErrorCode;
use yiwang_domain::upload::{FileKind, UploadPolicy, sanitize_filename};

/// Most text fields accepted beside the file, and their largest size.
const MAX_TEXT_FIELDS: usize = 20;
const MAX_TEXT_BYTES: usize = 4 * 1024;

/// A multipart form with one checked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadForm {
    pub file: CheckedUpload,
    /// The other (text) fields, e.g. the material key; the last value of a repeated name wins.
    pub fields: BTreeMap<String, String>,
}

fn mp_err(e: &MultipartError) -> ErrorCode {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ErrorCode::FileTooLarge
    } else {
        ErrorCode::MalformedFile
    }
}

fn spool_err(e: &SpoolError) -> ErrorCode {
    match e {
        SpoolError::TooLarge => ErrorCode::FileTooLarge,
        SpoolError::Io(e) => {
            tracing::error!(error = %e, "upload spool");
            ErrorCode::Internal
        }
    }
}

/// Reads the whole form: exactly one file in the part named `file_field` (`Required` if it is
/// missing or empty-named, `TooManyFiles` for a second file), at most `policy.max_bytes`
/// (`FileTooLarge`, reading stops there), a type the policy allows by its content
/// (`UnsupportedFileType`), not empty (`EmptyFile`); text fields bounded (`TooLong`). The file
/// is spooled to a temporary file in `spool_dir` (e.g. [`yiwang_app::files::FileStore::spool_dir`])
/// while it arrives; the temporary file is removed once the returned upload is dropped, or at
/// once when the form is refused.
pub async fn read_upload_form(
    mp: &mut Multipart,
    file_field: &str,
    policy: &UploadPolicy,
    spool_dir: &Path,
) -> Result<UploadForm, ErrorCode> {
    let mut file: Option<(String, SpooledFile)> = None;
    let mut fields = BTreeMap::new();
    while let Some(mut field) = mp.next_field().await.map_err(|e| mp_err(&e))? {
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                if name != file_field {
                    return Err(ErrorCode::TooManyFiles);
                }
                let mut spool = Spool::create(spool_dir, policy.max_bytes)
                    .await
                    .map_err(|e| spool_err(&SpoolError::Io(e)))?;
                while let Some(chunk) = field.chunk().await.map_err(|e| mp_err(&e))? {
                    spool.write(&chunk).await.map_err(|e| spool_err(&e))?;
                }
                // A file input left empty still sends a part, without a name and bytes.
                if file_name.is_empty() && spool.size() == 0 {
                    continue;
                }
                if file.is_some() {
                    return Err(ErrorCode::TooManyFiles);
                }
                let spooled = spool
                    .finish()
                    .await
                    .map_err(|e| spool_err(&SpoolError::Io(e)))?;
                file = Some((file_name, spooled));
            }
            None => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| mp_err(&e))? {
                    if bytes.len().saturating_add(chunk.len()) > MAX_TEXT_BYTES {
                        return Err(ErrorCode::TooLong);
                    }
                    bytes.extend_from_slice(&chunk);
                }
                let value = String::from_utf8(bytes).map_err(|_| ErrorCode::InvalidUtf8)?;
                fields.insert(name, value);
                if fields.len() > MAX_TEXT_FIELDS {
                    return Err(ErrorCode::InvalidInput);
                }
            }
        }
    }
    let (name, spooled) = file.ok_or(ErrorCode::Required)?;
    let file = CheckedUpload::check_spooled(spooled, &name, policy)?;
    Ok(UploadForm { file, fields })
}

/// Most text fields of a whole application form, and the largest of one (a long text answer).
const MAX_FORM_FIELDS: usize = 2000;
const MAX_FORM_TEXT_BYTES: usize = 64 * 1024;

/// A whole application form posted as multipart: the answers and any number of files, each in
/// a part named `<file_prefix><n>` (the material's slot number).
#[derive(Debug, Default)]
pub struct FilesForm {
    /// The text fields in the order posted (repeated names kept: multi-choice answers).
    pub pairs: Vec<(String, String)>,
    /// Each chosen file by slot number, checked, or why it was refused.
    pub files: Vec<(usize, Result<CheckedUpload, ErrorCode>)>,
    /// Reading stopped early (the whole post too large, or broken): what came before is kept.
    pub cut: Option<ErrorCode>,
}

/// Reads an application form with its files without losing what can be kept: a refused file
/// is an error of its slot only, and a post cut short keeps the fields and files read so far
/// (a browser sends the fields in page order, the answers before the materials). Empty file
/// inputs are skipped. Only a malformed text field refuses the whole form.
pub async fn read_files_form(
    mp: &mut Multipart,
    file_prefix: &str,
    policy: &UploadPolicy,
    spool_dir: &Path,
) -> Result<FilesForm, ErrorCode> {
    let mut out = FilesForm::default();
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                out.cut = Some(mp_err(&e));
                break;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        let Some(file_name) = field.file_name().map(str::to_string) else {
            let mut bytes = Vec::new();
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if bytes.len().saturating_add(chunk.len()) > MAX_FORM_TEXT_BYTES {
                            return Err(ErrorCode::TooLong);
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        out.cut = Some(mp_err(&e));
                        return Ok(out);
                    }
                }
            }
            let value = String::from_utf8(bytes).map_err(|_| ErrorCode::InvalidUtf8)?;
            if out.pairs.len() >= MAX_FORM_FIELDS {
                return Err(ErrorCode::InvalidInput);
            }
            out.pairs.push((name, value));
            continue;
        };
        let Some(slot) = name
            .strip_prefix(file_prefix)
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue; // not a material's file input: ignored (its bytes are skipped)
        };
        let mut spool = Spool::create(spool_dir, policy.max_bytes)
            .await
            .map_err(|e| spool_err(&SpoolError::Io(e)))?;
        let mut refused = None;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if refused.is_none()
                        && let Err(e) = spool.write(&chunk).await
                    {
                        // Too large: keep reading past it so the next parts still arrive.
                        refused = Some(spool_err(&e));
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    out.files.push((slot, Err(mp_err(&e))));
                    out.cut = Some(mp_err(&e));
                    return Ok(out);
                }
            }
        }
        if let Some(code) = refused {
            out.files.push((slot, Err(code)));
            continue;
        }
        // An empty file input still sends a part, without a name and bytes.
        if file_name.is_empty() && spool.size() == 0 {
            continue;
        }
        let checked = match spool.finish().await {
            Ok(spooled) => CheckedUpload::check_spooled(spooled, &file_name, policy),
            Err(e) => Err(spool_err(&SpoolError::Io(e))),
        };
        out.files.push((slot, checked));
    }
    Ok(out)
}

/// The code for a request that is not a multipart form at all (extract
/// `Result<Multipart, MultipartRejection>` and map the error with this).
pub fn rejection_code(_: &axum::extract::multipart::MultipartRejection) -> ErrorCode {
    ErrorCode::InvalidInput
}

/// How the browser should treat a served file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Save as a file (the default for applicants' materials).
    Attachment,
    /// Show in the browser (staff preview of PDFs and images), sandboxed.
    Inline,
}

/// RFC 5987 `ext-value` (UTF-8, percent-encoded outside attr-char).
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

/// An ASCII stand-in for old clients: non-ASCII and header-special characters become `_`.
fn ascii_fallback(s: &str) -> String {
    s.chars()
        .map(|c| {
            if (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ';' | '%')) || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The file as a response: its real `Content-Type`, `Content-Disposition` with an ASCII
/// fallback `filename` and the UTF-8 `filename*`, `nosniff`, a sandboxing CSP, and no caching
/// (materials are personal data).
pub fn serve_file(
    kind: FileKind,
    filename: &str,
    bytes: Vec<u8>,
    disposition: Disposition,
) -> Response {
    let name = sanitize_filename(filename);
    let mode = match disposition {
        Disposition::Attachment => "attachment",
        Disposition::Inline => "inline",
    };
    let cd = format!(
        "{mode}; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_fallback(&name),
        rfc5987(&name)
    );
    let mut resp = Response::new(Body::from(bytes));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind.mime()));
    if let Ok(v) = HeaderValue::from_str(&cd) {
        h.insert(header::CONTENT_DISPOSITION, v);
    } else {
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    resp
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn attachment_headers_carry_a_safe_utf8_name() {
        let r = serve_file(
            FileKind::Pdf,
            "../营业执照 \"副本\".pdf",
            b"%PDF-1.4".to_vec(),
            Disposition::Attachment,
        );
        let h = r.headers();
        assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let cd = h[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(cd.starts_with("attachment; filename=\""), "{cd}");
        assert!(
            cd.ends_with(
                "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%20%E5%89%AF%E6%9C%AC.pdf"
            ),
            "{cd}"
        );
        assert!(!cd.contains(".."), "{cd}");
        let inline = serve_file(FileKind::Png, "a.png", Vec::new(), Disposition::Inline);
        let cd = inline.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap();
        assert!(cd.starts_with("inline;"));
        assert_eq!(inline.headers()[header::CONTENT_TYPE], "image/png");
    }
}
