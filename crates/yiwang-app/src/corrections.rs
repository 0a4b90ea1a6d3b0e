//! Correction notices (补正) from the applicant's side, the same for every channel: answer the
//! lines of the open notice (a new file for a material or a new document slot, a new value for
//! a form field) and see which are answered. Each file is its own write (the file store first,
//! then the record with the superseded files marked), the field values one write together; a
//! line that fails keeps its own error and the others are saved all the same.

use crate::files::{CheckedUpload, FileStore, SaveUploadError, UploadContent, key_for};
use yiwang_domain::ErrorCode;
use yiwang_domain::case::CorrectionTarget;
use yiwang_domain::codes::{Phone, ResidentId};
use yiwang_domain::forms::{FieldError, FieldKind, FormDefinition, Mode, RawAnswers, validate};
use yiwang_store::applications::{Application, DraftOwner};
use yiwang_store::cases::CaseRecord;
use yiwang_store::corrections::OpenCorrection;
use yiwang_store::{NewUpload, Store, StoreError, Upload};

/// What one line of the notice got wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// The file or the request (e.g. `unsupported_file_type`, `file_too_large`).
    Code(ErrorCode),
    /// The field's new value, by the form's rules.
    Field(Vec<FieldError>),
}

/// The applicant's answers to the open notice, by line target.
#[derive(Debug, Default)]
pub struct Answers {
    pub files: Vec<(CorrectionTarget, CheckedUpload)>,
    pub fields: Vec<(CorrectionTarget, String)>,
}

/// The case's application and form, as the applicant answers it.
pub struct CaseForm {
    pub app: Application,
    pub def: FormDefinition,
}

/// The application of `case` and its form as published now.
pub async fn case_form(store: &Store, case: &CaseRecord) -> Result<CaseForm, StoreError> {
    let app = store
        .application(
            case.application_id,
            DraftOwner::Applicant(case.applicant_id),
        )
        .await?;
    let def = match store.published_implementation(&case.impl_code).await? {
        Some(p) => {
            store
                .form_definition_for(&case.impl_code, &p.implementation.basic_code)
                .await?
                .definition
        }
        None => yiwang_domain::forms::default_form(),
    };
    Ok(CaseForm { app, def })
}

/// The posted values of an application as stored (with the typed answers after submission).
fn pairs_of(app: &Application) -> Vec<(String, String)> {
    crate::apply::stored_pairs(app)
}

/// The current value of field `key` in the application.
pub fn field_value(form: &CaseForm, key: &str) -> String {
    pairs_of(&form.app)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// Field `key`'s value as staff lists show it: phone and identity numbers masked (the case's
/// answers summary shows them in the same way), other values as given.
pub fn shown_value(form: &CaseForm, key: &str) -> String {
    let v = field_value(form, key);
    match form.def.field(key).map(|f| f.kind) {
        Some(FieldKind::Phone) => Phone::parse(&v).map_or(v, |p| p.masked()),
        Some(FieldKind::ResidentId) => ResidentId::parse(&v).map_or(v, |r| r.to_string()),
        _ => v,
    }
}

/// Saves what the applicant answered; the errors per line target (empty: all saved). Lines
/// the open notice does not name are refused (`invalid_input`) and nothing of them is kept.
pub async fn answer(
    store: &Store,
    files: &dyn FileStore,
    case: &CaseRecord,
    open: &OpenCorrection,
    answers: Answers,
    now_ms: i64,
) -> Result<Vec<(CorrectionTarget, LineError)>, StoreError> {
    let mut errors = Vec::new();
    let named = |t: &CorrectionTarget| open.items.iter().any(|i| &i.target == t);
    for (target, file) in &answers.files {
        if !named(target) || target.material().is_none() {
            errors.push((target.clone(), LineError::Code(ErrorCode::InvalidInput)));
            continue;
        }
        if let Err(e) = answer_file(store, files, case, target, file, now_ms).await {
            if e.code() == ErrorCode::Internal {
                tracing::error!(error = %e, "correction file not saved");
                return Err(match e {
                    SaveUploadError::Store(s) => s,
                    SaveUploadError::Files(f) => StoreError::Corrupt(f.to_string()),
                });
            }
            errors.push((target.clone(), LineError::Code(e.code())));
        }
    }
    let fields: Vec<&(CorrectionTarget, String)> = answers
        .fields
        .iter()
        .filter(|(t, _)| {
            let ok = named(t) && t.field().is_some();
            if !ok {
                errors.push((t.clone(), LineError::Code(ErrorCode::InvalidInput)));
            }
            ok
        })
        .collect();
    if !fields.is_empty() {
        let form = case_form(store, case).await?;
        let (changed, field_errors) = apply_fields(&form, &fields);
        errors.extend(field_errors);
        if let Some((doc, targets)) = changed {
            store
                .answer_correction_fields(case, &targets, &doc, now_ms)
                .await?;
        }
    }
    Ok(errors)
}

type FieldOutcome = (
    Option<(serde_json::Value, Vec<CorrectionTarget>)>,
    Vec<(CorrectionTarget, LineError)>,
);

/// The answers document with the fields' new values (the valid ones) and the lines they
/// answer; the errors of the others. An unchanged value is no answer (nothing to save), nor
/// is an empty one.
fn apply_fields(form: &CaseForm, fields: &[&(CorrectionTarget, String)]) -> FieldOutcome {
    let mut errors = Vec::new();
    let mut raw = RawAnswers::from_pairs(&form.def, pairs_of(&form.app)).unwrap_or_default();
    let mut targets = Vec::new();
    for (target, value) in fields {
        let Some(key) = target.field() else { continue };
        if raw.get(key) == value.trim() {
            continue; // unchanged: not an answer (the clerk asked for a correction)
        }
        let mut trial = raw.clone();
        trial.set(key, value.trim());
        let mine: Vec<FieldError> = match validate(&form.def, &trial, Mode::Submit) {
            Ok(_) => Vec::new(),
            Err(errs) => errs.into_iter().filter(|e| e.field == key).collect(),
        };
        if value.trim().is_empty() && mine.is_empty() {
            errors.push((
                target.clone(),
                LineError::Field(vec![FieldError::new(key, "required")]),
            ));
        } else if mine.is_empty() {
            raw = trial;
            targets.push(target.clone());
        } else {
            errors.push((target.clone(), LineError::Field(mine)));
        }
    }
    if targets.is_empty() {
        return (None, errors);
    }
    let mut doc = form.app.answers.clone();
    if !doc.is_object() {
        doc = serde_json::json!({});
    }
    doc["pairs"] = serde_json::json!(raw.to_pairs());
    if let Ok(answers) = validate(&form.def, &raw, Mode::Submit) {
        doc["answers"] = serde_json::from_str(&answers.to_json()).unwrap_or_default();
    }
    (Some((doc, targets)), errors)
}

/// Stores one file for line `target` (file store first, then the record: a record never
/// points at a missing file).
async fn answer_file(
    store: &Store,
    files: &dyn FileStore,
    case: &CaseRecord,
    target: &CorrectionTarget,
    upload: &CheckedUpload,
    now_ms: i64,
) -> Result<Upload, SaveUploadError> {
    let key = match &upload.content {
        UploadContent::Bytes(bytes) => files.put(bytes).await?,
        UploadContent::Spooled(file) => files.put_file(file.path(), &upload.sha256).await?,
    };
    if key != key_for(&upload.sha256) {
        return Err(crate::files::FileStoreError::Corrupt.into());
    }
    let new = NewUpload {
        owner_applicant_id: case.applicant_id,
        application_id: case.application_id,
        material_key: target.material().unwrap_or_default().to_string(),
        filename: upload.filename.clone(),
        kind: upload.kind,
        size: i64::try_from(upload.size).unwrap_or(i64::MAX),
        sha256: upload.sha256.clone(),
        storage_key: key,
    };
    Ok(store
        .answer_correction_with_file(case, target, &new, now_ms)
        .await?)
}
