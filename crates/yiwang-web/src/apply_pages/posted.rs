//! What one post of an application form carries and how it is read: the answers and the files
//! chosen in it (`Posted`, read from multipart or urlencoded), each file stored in its slot's
//! material (`store_chosen`), and what the next page says after the redirect (`Flash`, in the
//! query string, so a reload never posts again). Shared by the application form and a
//! 一件事's one form.

use crate::AppState;
use crate::html::{PageError, fail};
use crate::locale::Locale;
use yiwang_domain::ErrorCode;
use yiwang_domain::upload::UploadPolicy;
use yiwang_store::applications::Application;

/// The name of a material's file input in the application form: `file-<n>`.
pub(crate) const FILE_INPUT_PREFIX: &str = "file-";
/// The button that removes one uploaded file (its value: the upload id) while saving the rest.
pub(crate) const DROP_FILE_CONTROL: &str = "_drop_file";

/// What the form page says after a post, carried in the redirect's query (post/redirect/get:
/// a reload shows the same page and never posts again).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Flash {
    pub(crate) saved: bool,
    /// Slots whose file was stored by the last post.
    pub(crate) uploaded: Vec<usize>,
    /// Show the problems by the submission rules (a "continue" that did not pass).
    pub(crate) check: bool,
    /// Slots whose file was refused, and why.
    pub(crate) slot_errors: Vec<(usize, ErrorCode)>,
    /// The post was cut short (e.g. larger than the whole-post limit).
    pub(crate) cut: Option<ErrorCode>,
}

fn code_of(key: &str) -> Option<ErrorCode> {
    ErrorCode::ALL.iter().copied().find(|c| c.key() == key)
}

impl Flash {
    pub(crate) fn from_query(q: &[(String, String)]) -> Self {
        let mut f = Flash::default();
        for (k, v) in q {
            match k.as_str() {
                "saved" => f.saved = true,
                "check" => f.check = true,
                "up" => f.uploaded.extend(v.parse::<usize>().ok()),
                "cut" => f.cut = code_of(v),
                _ => {
                    if let Some(n) = k.strip_prefix('m').and_then(|n| n.parse::<usize>().ok())
                        && let Some(c) = code_of(v)
                    {
                        f.slot_errors.push((n, c));
                    }
                }
            }
        }
        f
    }

    pub(crate) fn to_query(&self) -> String {
        let mut q = Vec::new();
        if self.saved {
            q.push("saved=1".to_string());
        }
        if self.check {
            q.push("check=1".to_string());
        }
        q.extend(self.uploaded.iter().map(|n| format!("up={n}")));
        q.extend(
            self.slot_errors
                .iter()
                .map(|(n, c)| format!("m{n}={}", c.key())),
        );
        if let Some(c) = self.cut {
            q.push(format!("cut={}", c.key()));
        }
        if q.is_empty() {
            String::new()
        } else {
            format!("?{}", q.join("&"))
        }
    }

    pub(crate) fn has_problems(&self) -> bool {
        self.check || !self.slot_errors.is_empty() || self.cut.is_some()
    }
}

/// A file size people can read: `591 B`, `0.6 KB`… never `0 KB` for a file that has bytes.
pub(crate) fn human_size(bytes: i64) -> String {
    const KB: i64 = 1024;
    const MB: i64 = 1024 * 1024;
    let bytes = bytes.max(0);
    // One decimal, dropped when it is zero: 0.6 KB, 1.5 MB, 20 MB.
    let tenths = |unit: i64| {
        let t = bytes.saturating_mul(10).saturating_add(unit / 2) / unit;
        if t % 10 == 0 {
            format!("{}", t / 10)
        } else {
            format!("{}.{}", t / 10, t % 10)
        }
    };
    if bytes < KB {
        format!("{bytes} B")
    } else if bytes < MB {
        format!("{} KB", tenths(KB))
    } else {
        format!("{} MB", tenths(MB))
    }
}

/// What a material slot accepts: the `accept` attribute and the sentence shown at each slot.
pub(crate) fn upload_rule(locale: Locale) -> (String, String) {
    let policy = UploadPolicy::default();
    let accept: Vec<String> = policy
        .allowed
        .iter()
        .flat_map(|k| k.extensions().iter().map(|e| format!(".{e}")))
        .collect();
    let types: Vec<String> = policy
        .allowed
        .iter()
        .map(|k| k.key().to_ascii_uppercase())
        .collect();
    let limit = i64::try_from(policy.max_bytes).unwrap_or(i64::MAX);
    let rule = yiwang_i18n::tf(
        locale.lang,
        "apply.slot_rule",
        &[
            (
                "types",
                &types.join(yiwang_i18n::t(locale.lang, "punct.list")),
            ),
            ("limit", &human_size(limit)),
        ],
    );
    (accept.join(","), rule)
}

/// An application form as posted: the answers, and the files chosen in it (multipart).
pub(crate) struct Posted {
    pub(crate) pairs: Vec<(String, String)>,
    pub(crate) files: ChosenFiles,
    pub(crate) cut: Option<ErrorCode>,
}

/// Reads the application form's post: multipart (answers and files in one form, as the page
/// sends it) or urlencoded (answers only: older pages, scripts, tests).
pub(crate) async fn read_posted(
    state: &AppState,
    req: axum::extract::Request,
) -> Result<Posted, PageError> {
    use axum::extract::FromRequest;
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        let mut mp = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(|r| fail(crate::upload::rejection_code(&r)))?;
        let spool = state.files.spool_dir();
        let form = crate::upload::read_files_form(
            &mut mp,
            FILE_INPUT_PREFIX,
            &UploadPolicy::default(),
            &spool,
        )
        .await
        .map_err(fail)?;
        Ok(Posted {
            pairs: form.pairs,
            files: form.files,
            cut: form.cut,
        })
    } else {
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| fail(ErrorCode::InvalidInput))?;
        let pairs =
            crate::form_body::parse_pairs(&body).map_err(|_| fail(ErrorCode::InvalidInput))?;
        Ok(Posted {
            pairs,
            files: Vec::new(),
            cut: None,
        })
    }
}

/// Files chosen in a posted form, by slot number.
pub(crate) type ChosenFiles = Vec<(usize, Result<yiwang_app::files::CheckedUpload, ErrorCode>)>;

/// Stores each file chosen in a posted form in the draft and material `target` names for its
/// slot (none: the slot is not one, the file is ignored); a refused file becomes its slot's
/// error in `flash`, a stored one its success, and the other files go on.
pub(crate) async fn store_chosen<'a>(
    state: &AppState,
    files: ChosenFiles,
    flash: &mut Flash,
    target: impl Fn(usize) -> Option<(&'a Application, &'a str)>,
) {
    for (n, file) in files {
        let Some((app, material)) = target(n) else {
            continue;
        };
        let stored = match file {
            Ok(file) => crate::materials::store_file(state, app, material, &file).await,
            Err(code) => Err(code),
        };
        match stored {
            Ok(_) => flash.uploaded.push(n),
            Err(code) => flash.slot_errors.push((n, code)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Flash, human_size};
    use yiwang_domain::ErrorCode;

    #[test]
    fn sizes_read_as_people_expect() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(591), "591 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1 KB");
        assert_eq!(human_size(600), "600 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(20 * 1024 * 1024), "20 MB");
        assert_eq!(human_size(3_500_000), "3.3 MB");
        assert_eq!(human_size(-5), "0 B");
    }

    #[test]
    fn a_flash_survives_its_redirect() {
        let f = Flash {
            saved: true,
            uploaded: vec![1, 3],
            check: true,
            slot_errors: vec![(2, ErrorCode::UnsupportedFileType)],
            cut: Some(ErrorCode::FileTooLarge),
        };
        let q = f.to_query();
        let pairs: Vec<(String, String)> = q
            .trim_start_matches('?')
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(Flash::from_query(&pairs), f);
        assert_eq!(Flash::default().to_query(), "");
        // Unknown codes and keys are ignored, never an error.
        let junk = vec![
            ("m2".to_string(), "nope".to_string()),
            ("x".to_string(), "1".to_string()),
        ];
        assert_eq!(Flash::from_query(&junk), Flash::default());
    }
}
