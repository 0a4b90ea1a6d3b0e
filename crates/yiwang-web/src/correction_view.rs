//! Correction notices (补正) on the case pages of both sides: each material with its files,
//! the current one first and the superseded ones marked 已被替换; the lines of a notice with
//! whether each is answered; and the one multipart form in which the applicant answers them
//! (files and field values together, so nothing typed is lost to an upload).

use crate::AppState;
use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use axum::http::StatusCode;
use yiwang_app::files::{CheckedUpload, Spool, SpoolError};
use yiwang_domain::ErrorCode;
use yiwang_domain::case::{CorrectionItem, CorrectionTarget};
use yiwang_domain::catalog::MaterialRequirement;
use yiwang_domain::forms::{FieldKind, FormDefinition};
use yiwang_domain::upload::UploadPolicy;
use yiwang_store::case_read::CorrectionRow;
use yiwang_store::{Upload, UploadStatus};

/// One file of a material, as the case pages list it.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub id: i64,
    pub filename: String,
    pub size: String,
    pub sha_short: String,
    /// Superseded by a later file (kept on record, 已被替换).
    pub replaced: bool,
    pub shows_inline: bool,
}

/// A material (or a document slot a correction added) with its files, current first.
#[derive(Debug, Clone)]
pub struct MaterialHistory {
    pub name: String,
    pub mandatory: bool,
    /// A slot a correction notice added (not on the item's list).
    pub added: bool,
    pub files: Vec<FileRow>,
}

impl MaterialHistory {
    pub fn current(&self) -> impl Iterator<Item = &FileRow> {
        self.files.iter().filter(|f| !f.replaced)
    }
}

/// A file size people read: bytes under 1 KB, then KB and MB with one decimal.
pub fn human_size(bytes: i64) -> String {
    const K: i64 = 1024;
    if bytes < K {
        format!("{bytes} B")
    } else if bytes < K * K {
        format!("{}.{} KB", bytes / K, (bytes % K) * 10 / K)
    } else {
        format!(
            "{}.{} MB",
            bytes / (K * K),
            (bytes % (K * K)) * 10 / (K * K)
        )
    }
}

fn row(u: &Upload) -> FileRow {
    FileRow {
        id: u.id,
        filename: u.filename.clone(),
        size: human_size(u.size),
        sha_short: u.sha256.chars().take(12).collect(),
        replaced: u.status == UploadStatus::Replaced,
        shows_inline: u.kind.shows_inline(),
    }
}

/// The item's materials and the slots corrections added, each with its files (current, then
/// replaced; removed ones are left out).
pub fn histories(
    required: &[MaterialRequirement],
    corrections: &[CorrectionRow],
    uploads: &[Upload],
) -> Vec<MaterialHistory> {
    let mut out: Vec<MaterialHistory> = required
        .iter()
        .map(|m| MaterialHistory {
            name: m.name.clone(),
            mandatory: m.mandatory,
            added: false,
            files: Vec::new(),
        })
        .collect();
    for c in corrections {
        for i in &c.items {
            if let CorrectionTarget::NewMaterial(n) = &i.target
                && !out.iter().any(|m| &m.name == n)
            {
                out.push(MaterialHistory {
                    name: n.clone(),
                    mandatory: false,
                    added: true,
                    files: Vec::new(),
                });
            }
        }
    }
    for m in &mut out {
        let mut files: Vec<&Upload> = uploads
            .iter()
            .filter(|u| u.material_key == m.name && u.status != UploadStatus::Removed)
            .collect();
        // Current first, newest first within each.
        files.sort_by_key(|u| (u.status != UploadStatus::Current, std::cmp::Reverse(u.id)));
        m.files = files.into_iter().map(row).collect();
    }
    out
}

/// The input a correctable field is answered in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInput {
    /// `text`, `tel`, `date`; `textarea` for several lines.
    pub kind: &'static str,
    pub inputmode: Option<&'static str>,
    pub max_len: usize,
}

/// How field `key` of `def` is answered, if it is a correctable field.
pub fn field_input(def: &FormDefinition, key: &str) -> Option<FieldInput> {
    let f = yiwang_domain::case::correctable_fields(def).find(|f| f.key == key)?;
    let (kind, inputmode) = match f.kind {
        FieldKind::Textarea => ("textarea", None),
        FieldKind::Date => ("date", None),
        FieldKind::Phone => ("tel", Some("tel")),
        FieldKind::Number => ("text", Some("decimal")),
        _ => ("text", None),
    };
    Some(FieldInput {
        kind,
        inputmode,
        max_len: f.effective_max_len(),
    })
}

/// One line of a correction notice on a page.
#[derive(Debug, Clone)]
pub struct LineView {
    /// 1-based, also the posted names' suffix (`file_<n>`, `field_<n>`).
    pub n: usize,
    pub anchor: String,
    pub item: CorrectionItem,
    pub answered: bool,
    /// The field's value (current, or as just typed).
    pub value: String,
    pub input: Option<FieldInput>,
    /// The material's files (materials and added slots).
    pub files: Vec<FileRow>,
    pub error: Option<String>,
}

impl LineView {
    pub fn is_field(&self) -> bool {
        self.item.target.field().is_some()
    }
    pub fn is_file(&self) -> bool {
        self.item.target.material().is_some()
    }
}

/// The lines of notice `items` with their answers, files and field values.
pub fn lines(
    items: &[CorrectionItem],
    answered: &[CorrectionTarget],
    histories: &[MaterialHistory],
    def: &FormDefinition,
    value_of: impl Fn(&str) -> String,
) -> Vec<LineView> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let n = i + 1;
            let files = item
                .target
                .material()
                .and_then(|m| histories.iter().find(|h| h.name == m))
                .map(|h| h.files.clone())
                .unwrap_or_default();
            let (value, input) = match item.target.field() {
                Some(k) => (value_of(k), field_input(def, k)),
                None => (String::new(), None),
            };
            LineView {
                n,
                anchor: format!("fix-{n}"),
                item: item.clone(),
                answered: answered.contains(&item.target),
                value,
                input,
                files,
                error: None,
            }
        })
        .collect()
}

/// What the applicant posted in the correction form, by line number.
#[derive(Debug, Default)]
pub struct FixPost {
    pub version: Option<i64>,
    /// `resubmit` to resubmit after saving; anything else only saves.
    pub go: String,
    pub files: Vec<(usize, Result<CheckedUpload, ErrorCode>)>,
    pub fields: Vec<(usize, String)>,
}

const MAX_TEXT_BYTES: usize = 64 * 1024;
const MAX_PARTS: usize = 2 * yiwang_domain::case::CORRECTION_MAX_ITEMS + 8;

fn mp_err(e: &MultipartError) -> ErrorCode {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ErrorCode::FileTooLarge
    } else {
        ErrorCode::MalformedFile
    }
}

fn line_of(name: &str, prefix: &str) -> Option<usize> {
    name.strip_prefix(prefix)?
        .parse()
        .ok()
        .filter(|n| *n >= 1 && *n <= yiwang_domain::case::CORRECTION_MAX_ITEMS)
}

/// Reads the correction form: text parts `version`, `go`, `field_<n>`; file parts `file_<n>`
/// (each checked on its own: a bad file is that line's error, the rest still count; an empty
/// file input is no answer). A malformed request as a whole is an error code.
pub async fn read_fix_form(state: &AppState, mp: &mut Multipart) -> Result<FixPost, ErrorCode> {
    let policy = UploadPolicy::default();
    let spool_dir = state.files.spool_dir();
    let mut post = FixPost::default();
    let mut parts = 0usize;
    while let Some(mut field) = mp.next_field().await.map_err(|e| mp_err(&e))? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ErrorCode::InvalidInput);
        }
        let name = field.name().unwrap_or("").to_string();
        if let Some(file_name) = field.file_name().map(str::to_string) {
            let n = line_of(&name, "file_").ok_or(ErrorCode::InvalidInput)?;
            let mut spool = Spool::create(&spool_dir, policy.max_bytes)
                .await
                .map_err(|_| ErrorCode::Internal)?;
            let mut too_large = false;
            while let Some(chunk) = field.chunk().await.map_err(|e| mp_err(&e))? {
                match spool.write(&chunk).await {
                    Ok(()) => {}
                    Err(SpoolError::TooLarge) => {
                        too_large = true;
                    }
                    Err(SpoolError::Io(_)) => return Err(ErrorCode::Internal),
                }
            }
            if too_large {
                post.files.push((n, Err(ErrorCode::FileTooLarge)));
                continue;
            }
            if file_name.is_empty() && spool.size() == 0 {
                continue; // a file input left empty
            }
            let spooled = spool.finish().await.map_err(|_| ErrorCode::Internal)?;
            post.files.push((
                n,
                CheckedUpload::check_spooled(spooled, &file_name, &policy),
            ));
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| mp_err(&e))? {
            if bytes.len().saturating_add(chunk.len()) > MAX_TEXT_BYTES {
                return Err(ErrorCode::TooLong);
            }
            bytes.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(bytes).map_err(|_| ErrorCode::InvalidUtf8)?;
        match name.as_str() {
            "version" => post.version = value.trim().parse().ok(),
            "go" => post.go = value,
            _ => {
                let n = line_of(&name, "field_").ok_or(ErrorCode::InvalidInput)?;
                post.fields.push((n, value));
            }
        }
    }
    Ok(post)
}
