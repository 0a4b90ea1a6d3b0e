//! Application materials (申请材料): the list an implementation requires, the files uploaded
//! for each (sniffed, hashed, stored by content), upload and removal until submission, and
//! after a correction notice only for the materials it names. Downloads go out as attachments
//! with `nosniff`, to the owner or to staff who may see the case.

use crate::AppState;
use crate::html::{PageError, fail};
use axum::extract::Multipart;
use axum::response::Response;
use yiwang_domain::ErrorCode;
use yiwang_domain::catalog::MaterialRequirement;
use yiwang_domain::upload::UploadPolicy;
use yiwang_store::Upload;
use yiwang_store::applications::Application;

/// One required material with its current files, for a page.
#[derive(Debug, Clone)]
pub struct MaterialView {
    /// The material's name, also its key (names are unique within an implementation).
    pub name: String,
    pub mandatory: bool,
    pub files: Vec<Upload>,
}

/// The required materials with an application's current files already read (no statement).
pub(crate) fn views_with(required: &[MaterialRequirement], files: &[Upload]) -> Vec<MaterialView> {
    required
        .iter()
        .map(|m| MaterialView {
            name: m.name.clone(),
            mandatory: m.mandatory,
            files: files
                .iter()
                .filter(|f| f.material_key == m.name)
                .cloned()
                .collect(),
        })
        .collect()
}

/// The mandatory materials without a file (what still blocks submission).
pub fn missing(views: &[MaterialView]) -> Vec<String> {
    views
        .iter()
        .filter(|v| v.mandatory && v.files.is_empty())
        .map(|v| v.name.clone())
        .collect()
}

/// The materials `app`'s implementation requires (as published now).
pub(crate) async fn required_for(
    state: &AppState,
    app: &Application,
) -> Result<Vec<MaterialRequirement>, yiwang_store::StoreError> {
    Ok(state
        .store
        .published_implementation(&app.impl_code)
        .await?
        .map(|p| p.implementation.materials)
        .unwrap_or_default())
}

/// Reads one uploaded file for a material of `app` and stores it. Returns the record and where
/// to go back to (the form field `back`, when it is a page of this site), or an error code.
pub(crate) async fn upload(
    state: &AppState,
    required: &[MaterialRequirement],
    app: &Application,
    mut mp: Multipart,
) -> Result<(Upload, Option<String>), ErrorCode> {
    let spool = state.files.spool_dir();
    let form =
        crate::upload::read_upload_form(&mut mp, "file", &UploadPolicy::default(), &spool).await?;
    let material = form
        .fields
        .get("material")
        .map(String::as_str)
        .unwrap_or("");
    if !required.iter().any(|m| m.name == material) {
        return Err(ErrorCode::InvalidInput);
    }
    let up = store_file(state, app, material, &form.file).await?;
    let back = form
        .fields
        .get("back")
        .and_then(|b| crate::link::safe_next(b))
        // The console home is never the way back from a file form (as before `safe_next` was
        // an `Option`, when it stood for "unsafe").
        .filter(|b| *b != "/console")
        .map(str::to_string);
    Ok((up, back))
}

/// Stores one checked file as material `material` of `app`.
pub(crate) async fn store_file(
    state: &AppState,
    app: &Application,
    material: &str,
    file: &yiwang_app::files::CheckedUpload,
) -> Result<Upload, ErrorCode> {
    let target = yiwang_app::files::UploadTarget {
        owner_applicant_id: app.applicant_id,
        application_id: app.id,
        material_key: material,
        replaces: None,
    };
    yiwang_app::files::save_upload(
        &state.store,
        state.files.as_ref(),
        &target,
        file,
        state.now_ms(),
    )
    .await
    .map_err(|e| {
        if e.code() == ErrorCode::Internal {
            tracing::error!(error = %e, "upload not saved");
        }
        e.code()
    })
}

/// Removes one of the application's files (before submission, or a reopened material).
pub(crate) async fn remove(
    state: &AppState,
    app: &Application,
    upload_id: i64,
) -> Result<(), ErrorCode> {
    let up = state
        .store
        .upload_for_owner(app.applicant_id, upload_id)
        .await
        .map_err(|e| e.code())?;
    if up.application_id != app.id {
        return Err(ErrorCode::NotFound);
    }
    state
        .store
        .remove_upload(app.applicant_id, upload_id, state.now_ms())
        .await
        .map_err(|e| e.code())
}

/// A file of application `application_id` (the caller checked access): an attachment, or with
/// `Inline` shown in the browser when its kind allows (images), sandboxed.
pub(crate) async fn download(
    state: &AppState,
    application_id: i64,
    upload_id: i64,
    disposition: crate::upload::Disposition,
) -> Result<Response, PageError> {
    let up = state
        .store
        .upload_by_id(upload_id)
        .await?
        .filter(|u| u.application_id == application_id)
        .ok_or_else(|| fail(ErrorCode::NotFound))?;
    let bytes = state.files.get(&up.storage_key).await.map_err(|e| {
        tracing::error!(error = %e, upload = up.id, "stored file unreadable");
        fail(ErrorCode::Internal)
    })?;
    Ok(crate::upload::serve_file(
        up.kind,
        &up.filename,
        bytes,
        if up.kind.shows_inline() {
            disposition
        } else {
            crate::upload::Disposition::Attachment
        },
    ))
}
