//! Catalog import from the console: one XLSX, one JSON, or two CSV files (items + materials).
//! The whole file is checked first; any problem is listed and nothing is written.

use super::page;
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::error::status_for;
use crate::html::PageError;
use crate::html::{PageResult, allow, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use yiwang_app::{CatalogFormat, ImportError, import_catalog};
use yiwang_domain::policy::{Action, CatalogScope, Target};
use yiwang_domain::{ErrorCode, Issue};
use yiwang_i18n::{Lang, error_message, issue_message, t};
use yiwang_interchange::{ITEM_HEADERS, MATERIAL_HEADERS, ParsedFile};

const PATH: &str = "/console/import";

/// One problem as a table row: where (sheet, row, column) and what.
pub(crate) struct IssueRow {
    pub sheet: String,
    pub row: String,
    pub field: String,
    pub message: String,
}

pub(crate) fn issue_rows(lang: Lang, issues: &[Issue]) -> Vec<IssueRow> {
    issues
        .iter()
        .map(|i| IssueRow {
            sheet: i
                .sheet
                .as_ref()
                .map(|s| t(lang, &format!("sheet.{s}")).to_string())
                .unwrap_or_default(),
            row: i.row.map(|r| r.to_string()).unwrap_or_default(),
            field: i.field.clone().unwrap_or_default(),
            // The place has its own columns; the message column says only what is wrong.
            message: issue_message(
                lang,
                &Issue {
                    sheet: None,
                    row: None,
                    field: None,
                    ..i.clone()
                },
            ),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "console/import.html")]
struct ImportPage {
    page: Page,
    max_size: String,
    error: Option<String>,
    issues: Vec<IssueRow>,
    issue_count: String,
    written: Option<String>,
}

fn import_page(
    locale: Locale,
    state: &AppState,
    p: &yiwang_domain::policy::Principal,
) -> ImportPage {
    let mb = state
        .config
        .max_upload_bytes
        .div_ceil(1024 * 1024)
        .to_string();
    ImportPage {
        page: page(locale, p, "console.import.title", PATH),
        max_size: yiwang_i18n::tf(locale.lang, "console.import.max_size", &[("mb", &mb)]),
        error: None,
        issues: Vec::new(),
        issue_count: String::new(),
        written: None,
    }
}

pub async fn form(State(state): State<AppState>, locale: Locale, user: CurrentUser) -> PageResult {
    let p = allow(
        &user,
        Action::ImportCatalog,
        &Target::Anything,
        locale,
        PATH,
    )?;
    Ok(render(
        StatusCode::OK,
        &import_page(locale, &state, p),
        locale.lang,
    ))
}

struct Upload {
    field: String,
    file_name: String,
    bytes: Vec<u8>,
}

/// Why an upload could not even be parsed.
enum Refusal {
    Code(ErrorCode),
    Message(&'static str),
}

async fn read_uploads(mut mp: Multipart, max: usize) -> Result<Vec<Upload>, Refusal> {
    let mp_err = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Refusal::Code(ErrorCode::FileTooLarge)
        } else {
            Refusal::Code(ErrorCode::MalformedFile)
        }
    };
    let mut out = Vec::new();
    while let Some(mut field) = mp.next_field().await.map_err(mp_err)? {
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().unwrap_or("").to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(mp_err)? {
            if bytes.len() + chunk.len() > max {
                return Err(Refusal::Code(ErrorCode::FileTooLarge));
            }
            bytes.extend_from_slice(&chunk);
        }
        // A file input left empty still sends a part, with no file name; other fields are ignored.
        if file_name.is_empty() {
            continue;
        }
        if out.len() == 2 {
            return Err(Refusal::Message("console.import.too_many"));
        }
        out.push(Upload {
            field: name,
            file_name,
            bytes,
        });
    }
    Ok(out)
}

/// True when a CSV's header line looks like the materials sheet.
fn looks_like_materials(u: &Upload) -> bool {
    if u.field == "materials" {
        return true;
    }
    if u.field == "file" || u.field == "items" {
        return false;
    }
    let head = String::from_utf8_lossy(u.bytes.get(..4096).unwrap_or(&u.bytes));
    let first = head.lines().next().unwrap_or("");
    first.contains(MATERIAL_HEADERS[1]) && !first.contains(ITEM_HEADERS[1])
}

/// What one import reads: one workbook or JSON document, or the items and materials CSV files.
enum Job {
    One(CatalogFormat, Upload),
    Csv(Upload, Upload),
}

/// Parses the uploads into one batch, or says why not.
async fn parse(uploads: Vec<Upload>) -> Result<ParsedFile, Refusal> {
    let formats: Vec<Option<CatalogFormat>> = uploads
        .iter()
        .map(|u| CatalogFormat::from_name(&u.file_name))
        .collect();
    if formats.iter().any(Option::is_none) {
        return Err(Refusal::Code(ErrorCode::UnsupportedFormat));
    }
    let format = formats.first().copied().flatten();
    let same_format = formats.iter().all(|f| *f == format);
    // One workbook or document, or the two CSV files (items and materials) in either order.
    let job = match (<[Upload; 1]>::try_from(uploads), format) {
        (Ok([one]), Some(f @ (CatalogFormat::Xlsx | CatalogFormat::Json))) => Job::One(f, one),
        (Ok(_), Some(CatalogFormat::Csv)) => {
            return Err(Refusal::Message("console.import.need_two_csv"));
        }
        (Err(uploads), _) if uploads.is_empty() => {
            return Err(Refusal::Message("console.import.no_file"));
        }
        (Err(uploads), Some(CatalogFormat::Csv)) if same_format => {
            match <[Upload; 2]>::try_from(uploads) {
                Ok([a, b]) if looks_like_materials(&a) && !looks_like_materials(&b) => {
                    Job::Csv(b, a)
                }
                Ok([a, b]) => Job::Csv(a, b),
                Err(_) => return Err(Refusal::Message("console.import.combination")),
            }
        }
        _ => return Err(Refusal::Message("console.import.combination")),
    };
    let parsed = tokio::task::spawn_blocking(move || match job {
        Job::One(CatalogFormat::Xlsx, u) => yiwang_interchange::parse_xlsx(&u.bytes),
        Job::One(_, u) => yiwang_interchange::parse_json(&u.bytes),
        Job::Csv(items, materials) => yiwang_interchange::parse_csv(&items.bytes, &materials.bytes),
    })
    .await
    .map_err(|_| Refusal::Code(ErrorCode::Internal))?;
    Ok(parsed)
}

pub async fn upload(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let p = allow(
        &user,
        Action::ImportCatalog,
        &Target::Anything,
        locale,
        PATH,
    )?;
    let lang = locale.lang;
    let mut tpl = import_page(locale, &state, p);
    let refused = |tpl: &mut ImportPage, r: Refusal| {
        let (status, message) = match r {
            Refusal::Code(c) => (status_for(c), error_message(lang, c)),
            Refusal::Message(key) => (StatusCode::UNPROCESSABLE_ENTITY, t(lang, key).to_string()),
        };
        tpl.error = Some(message);
        render(status, &*tpl, lang)
    };
    let mp = match Multipart::from_request(req, &state).await {
        Ok(mp) => mp,
        Err(_) => {
            return Ok(refused(
                &mut tpl,
                Refusal::Message("console.import.no_file"),
            ));
        }
    };
    let uploads = match read_uploads(mp, state.config.max_upload_bytes).await {
        Ok(u) => u,
        Err(r) => return Ok(refused(&mut tpl, r)),
    };
    let parsed = match parse(uploads).await {
        Ok(p) => p,
        Err(r) => return Ok(refused(&mut tpl, r)),
    };
    let scope = CatalogScope::of(p, Action::ImportCatalog);
    match import_catalog(
        &state.store,
        parsed,
        &scope,
        &yiwang_store::Actor::principal(p, client.as_str()),
        state.now_ms(),
        &mut |_| {},
    )
    .await
    {
        Ok(summary) => {
            tpl.written = Some(yiwang_i18n::tf(
                lang,
                "console.import.written",
                &[("n", &summary.drafts_written.to_string())],
            ));
            Ok(render(StatusCode::OK, &tpl, lang))
        }
        Err(ImportError::Invalid(issues)) => {
            tpl.error = Some(t(lang, "console.import.rejected").to_string());
            tpl.issue_count = yiwang_i18n::tf(
                lang,
                "console.import.issue_count",
                &[("n", &issues.len().to_string())],
            );
            tpl.issues = issue_rows(lang, &issues);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, lang))
        }
        Err(ImportError::Store(e)) => Err(PageError::from(e)),
    }
}
