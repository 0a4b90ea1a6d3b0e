//! Uploaded materials of an application: which file (by content hash and file-store key) was
//! given for which required material, by whom, and what replaced it.
//!
//! Rules kept here: an applicant reaches only their own uploads (`NotFound` otherwise, so ids
//! reveal nothing); an application's uploads are open until submission
//! ([`lock_uploads_in`]), after which only the materials a correction reopens
//! ([`reopen_uploads_in`]) can change; replaced and removed files stay on record. The caller
//! checks that the applicant owns the application (the application table is not this module's).

use crate::rows::{get_i64, get_opt_i64, get_str, json_array, json_list, json_rows, parse_stored};
use crate::rowset::RowSet;
use crate::{Backend, Store, StoreError};
use sqlx::AssertSqlSafe;
use yiwang_domain::ErrorCode;
use yiwang_domain::upload::{FileKind, sanitize_filename};

/// Most current files for one material of one application.
pub const MAX_FILES_PER_MATERIAL: i64 = 20;
const MAX_KEY_CHARS: usize = 100;

/// A checked file to record (the bytes are already in the file store under `storage_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpload {
    pub owner_applicant_id: i64,
    pub application_id: i64,
    pub material_key: String,
    /// Sanitised again on write; never used as a path.
    pub filename: String,
    pub kind: FileKind,
    pub size: i64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    pub storage_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadStatus {
    Current,
    Replaced,
    Removed,
}

impl UploadStatus {
    pub fn key(self) -> &'static str {
        match self {
            UploadStatus::Current => "current",
            UploadStatus::Replaced => "replaced",
            UploadStatus::Removed => "removed",
        }
    }
    pub fn from_key(k: &str) -> Option<Self> {
        Some(match k {
            "current" => UploadStatus::Current,
            "replaced" => UploadStatus::Replaced,
            "removed" => UploadStatus::Removed,
            _ => return None,
        })
    }
}

/// A recorded upload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Upload {
    pub id: i64,
    pub owner_applicant_id: i64,
    pub application_id: i64,
    pub material_key: String,
    pub filename: String,
    pub kind: FileKind,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    pub status: UploadStatus,
    pub replaced_by: Option<i64>,
    /// When this file became part of a submission.
    pub frozen_at: Option<i64>,
    pub created_at: i64,
    pub changed_at: i64,
}

const COLUMNS: &str = "id, owner_applicant_id, application_id, material_key, filename, kind, \
                       size_bytes, sha256, storage_key, status, replaced_by, frozen_at, \
                       created_at, changed_at";

fn upload_from(row: &sqlx::any::AnyRow) -> Result<Upload, StoreError> {
    let kind = get_str(row, "kind")?;
    let status = get_str(row, "status")?;
    Ok(Upload {
        id: get_i64(row, "id")?,
        owner_applicant_id: get_i64(row, "owner_applicant_id")?,
        application_id: get_i64(row, "application_id")?,
        material_key: get_str(row, "material_key")?,
        filename: get_str(row, "filename")?,
        kind: parse_stored("kind", &kind, |k| FileKind::from_key(k).ok_or(()))?,
        size: get_i64(row, "size_bytes")?,
        sha256: get_str(row, "sha256")?,
        storage_key: get_str(row, "storage_key")?,
        status: parse_stored("status", &status, |s| UploadStatus::from_key(s).ok_or(()))?,
        replaced_by: get_opt_i64(row, "replaced_by")?,
        frozen_at: get_opt_i64(row, "frozen_at")?,
        created_at: get_i64(row, "created_at")?,
        changed_at: get_i64(row, "changed_at")?,
    })
}

/// One [`Upload`] as [`current_uploads_json`] lists it: [`COLUMNS`] in order.
type UploadJson = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
);

/// A scalar subquery giving the current uploads of the application `application_id` (an SQL
/// expression of the enclosing statement) as one JSON list, in the order of
/// [`Store::uploads_for_application`]: for a statement that reads the application too.
/// Decode the column with [`uploads_from_json`].
pub(crate) fn current_uploads_json(backend: Backend, application_id: &str) -> String {
    format!(
        "(SELECT {list} FROM uploads u WHERE u.application_id = {application_id} \
         AND u.status = 'current')",
        list = json_list(
            backend,
            &json_array(backend, COLUMNS),
            " ORDER BY material_key, id"
        )
    )
}

/// The uploads of column `col` holding a [`current_uploads_json`] list.
pub(crate) fn uploads_from_json(
    row: &sqlx::any::AnyRow,
    col: &str,
) -> Result<Vec<Upload>, StoreError> {
    json_rows::<UploadJson>(row, col)?
        .into_iter()
        .map(
            |(
                id,
                owner_applicant_id,
                application_id,
                material_key,
                filename,
                kind,
                size,
                sha256,
                storage_key,
                status,
                replaced_by,
                frozen_at,
                created_at,
                changed_at,
            )| {
                Ok(Upload {
                    id,
                    owner_applicant_id,
                    application_id,
                    material_key,
                    filename,
                    kind: parse_stored("kind", &kind, |k| FileKind::from_key(k).ok_or(()))?,
                    size,
                    sha256,
                    storage_key,
                    status: parse_stored("status", &status, |s| {
                        UploadStatus::from_key(s).ok_or(())
                    })?,
                    replaced_by,
                    frozen_at,
                    created_at,
                    changed_at,
                })
            },
        )
        .collect()
}

fn valid_key(k: &str) -> bool {
    !k.trim().is_empty() && k.chars().count() <= MAX_KEY_CHARS && !k.chars().any(char::is_control)
}

fn check_new(u: &NewUpload) -> Result<(), StoreError> {
    let hex_ok = u.sha256.len() == 64
        && u.sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !valid_key(&u.material_key) || !valid_key(&u.storage_key) || !hex_ok || u.size <= 0 {
        return Err(ErrorCode::InvalidInput.into());
    }
    Ok(())
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// `UploadLocked` unless `material` of `application` may change now. `Ok(true)` when the
/// application is submitted and a correction reopened the material (a new file then replaces
/// the current ones), `Ok(false)` before submission.
async fn check_open(
    tx: &mut Tx<'_>,
    application_id: i64,
    material: &str,
) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT open_materials FROM upload_locks WHERE application_id = $1")
        .bind(application_id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(false) };
    let open = get_str(&row, "open_materials")?;
    let open: Vec<String> = parse_stored("open_materials", &open, |s| serde_json::from_str(s))?;
    if open.iter().any(|m| m == material) {
        Ok(true)
    } else {
        Err(ErrorCode::UploadLocked.into())
    }
}

/// Marks every other current file of `up`'s material `replaced` by `up` (a correction's new
/// file supersedes the submitted ones; they stay on record).
async fn supersede_others(tx: &mut Tx<'_>, up: &Upload, now_ms: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE uploads SET status = 'replaced', replaced_by = $1, changed_at = $2 \
         WHERE application_id = $3 AND material_key = $4 AND status = 'current' AND id <> $1",
    )
    .bind(up.id)
    .bind(now_ms)
    .bind(up.application_id)
    .bind(up.material_key.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert(tx: &mut Tx<'_>, u: &NewUpload, now_ms: i64) -> Result<Upload, StoreError> {
    let sql = format!(
        "INSERT INTO uploads (owner_applicant_id, application_id, material_key, filename, kind, \
         size_bytes, sha256, storage_key, status, created_at, changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'current', $9, $9) RETURNING {COLUMNS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(u.owner_applicant_id)
        .bind(u.application_id)
        .bind(u.material_key.as_str())
        .bind(sanitize_filename(&u.filename))
        .bind(u.kind.key())
        .bind(u.size)
        .bind(u.sha256.as_str())
        .bind(u.storage_key.as_str())
        .bind(now_ms)
        .fetch_one(&mut **tx)
        .await?;
    upload_from(&row)
}

async fn owned(tx: &mut Tx<'_>, owner: i64, id: i64) -> Result<Upload, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM uploads WHERE id = $1 AND owner_applicant_id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .bind(owner)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref()
        .map(upload_from)
        .transpose()?
        .ok_or(StoreError::Domain(ErrorCode::NotFound))
}

/// `UploadQuotaExceeded` when `u` would take the application's files not yet frozen by a
/// submission (any status: replaced and removed files stay stored) past
/// `quotas.draft_upload_bytes`, or the files in all of the owner's drafts past
/// `quotas.account_upload_bytes`. Inside the writing transaction, so parallel uploads are
/// counted one after the other.
async fn check_quota(
    tx: &mut Tx<'_>,
    u: &NewUpload,
    quotas: &crate::Quotas,
) -> Result<(), StoreError> {
    let draft = sqlx::query(
        "SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) AS n FROM uploads \
         WHERE application_id = $1 AND frozen_at IS NULL",
    )
    .bind(u.application_id)
    .fetch_one(&mut **tx)
    .await?;
    let account = sqlx::query(
        "SELECT CAST(COALESCE(SUM(u.size_bytes), 0) AS BIGINT) AS n FROM uploads u \
         JOIN applications a ON a.id = u.application_id \
         WHERE u.owner_applicant_id = $1 AND a.status = 'draft'",
    )
    .bind(u.owner_applicant_id)
    .fetch_one(&mut **tx)
    .await?;
    let over = |used: i64, limit: i64| used.saturating_add(u.size) > limit;
    if over(get_i64(&draft, "n")?, quotas.draft_upload_bytes)
        || over(get_i64(&account, "n")?, quotas.account_upload_bytes)
    {
        return Err(ErrorCode::UploadQuotaExceeded.into());
    }
    Ok(())
}

/// Records a new file for a material inside `tx`. `UploadLocked` after submission (unless a
/// correction reopened the material), `TooManyFiles` past [`MAX_FILES_PER_MATERIAL`],
/// `UploadQuotaExceeded` past `quotas` (see [`check_quota`]), `Forbidden` when the
/// application already has another owner's uploads.
pub async fn record_upload_in(
    tx: &mut Tx<'_>,
    u: &NewUpload,
    quotas: &crate::Quotas,
    now_ms: i64,
) -> Result<Upload, StoreError> {
    check_new(u)?;
    let reopened = check_open(tx, u.application_id, &u.material_key).await?;
    let other = sqlx::query(
        "SELECT id FROM uploads WHERE application_id = $1 AND owner_applicant_id <> $2 LIMIT 1",
    )
    .bind(u.application_id)
    .bind(u.owner_applicant_id)
    .fetch_optional(&mut **tx)
    .await?;
    if other.is_some() {
        return Err(ErrorCode::Forbidden.into());
    }
    let n = sqlx::query(
        "SELECT COUNT(*) AS n FROM uploads \
         WHERE application_id = $1 AND material_key = $2 AND status = 'current'",
    )
    .bind(u.application_id)
    .bind(u.material_key.as_str())
    .fetch_one(&mut **tx)
    .await?;
    if get_i64(&n, "n")? >= MAX_FILES_PER_MATERIAL {
        return Err(ErrorCode::TooManyFiles.into());
    }
    check_quota(tx, u, quotas).await?;
    let up = insert(tx, u, now_ms).await?;
    if reopened {
        supersede_others(tx, &up, now_ms).await?;
    }
    Ok(up)
}

/// Locks an application's uploads at submission (inside the submission transaction): every
/// current file is stamped `frozen_at`, and nothing changes afterwards unless reopened.
pub async fn lock_uploads_in(
    tx: &mut Tx<'_>,
    application_id: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    lock_many_in(tx, &[(application_id, now_ms)]).await
}

/// [`lock_uploads_in`] for many `(application, at)` at once: two statements for all.
pub(crate) async fn lock_many_in(tx: &mut Tx<'_>, locks: &[(i64, i64)]) -> Result<(), StoreError> {
    let mut rows = RowSet::new(3);
    for (application_id, now_ms) in locks {
        rows.push(vec![
            (*application_id).into(),
            (*now_ms).into(),
            "[]".into(),
        ])?;
    }
    rows.execute(
        tx,
        "INSERT INTO upload_locks (application_id, locked_at, open_materials) VALUES {values} \
         ON CONFLICT (application_id) DO UPDATE \
         SET locked_at = excluded.locked_at, open_materials = excluded.open_materials",
    )
    .await?;
    let mut rows = RowSet::new(2);
    for (application_id, now_ms) in locks {
        rows.push(vec![(*application_id).into(), (*now_ms).into()])?;
    }
    rows.execute(
        tx,
        "WITH v(id, t) AS (VALUES {values}) \
         UPDATE uploads SET frozen_at = v.t FROM v \
         WHERE uploads.application_id = v.id AND uploads.status = 'current' \
           AND uploads.frozen_at IS NULL",
    )
    .await
}

/// Reopens exactly `materials` of a locked application (a correction notice), inside the
/// correction's transaction. Resubmission locks them again with [`lock_uploads_in`].
pub async fn reopen_uploads_in(
    tx: &mut Tx<'_>,
    application_id: i64,
    materials: &[&str],
) -> Result<(), StoreError> {
    if materials.iter().any(|m| !valid_key(m)) {
        return Err(ErrorCode::InvalidInput.into());
    }
    let list = serde_json::to_string(materials).map_err(|_| ErrorCode::InvalidInput)?;
    let res = sqlx::query("UPDATE upload_locks SET open_materials = $1 WHERE application_id = $2")
        .bind(list)
        .bind(application_id)
        .execute(&mut **tx)
        .await?;
    if res.rows_affected() == 1 {
        Ok(())
    } else {
        Err(ErrorCode::NotFound.into())
    }
}

impl Store {
    /// [`record_upload_in`] in a transaction of its own.
    pub async fn record_upload(&self, u: &NewUpload, now_ms: i64) -> Result<Upload, StoreError> {
        let mut tx = self.begin_write().await?;
        let up = record_upload_in(&mut tx, u, &self.quotas(), now_ms).await?;
        tx.commit().await?;
        Ok(up)
    }

    /// Replaces one of the owner's current files with `new` (same application and material),
    /// while the material is open. The old record stays, marked `replaced` with a link to the
    /// new one.
    pub async fn replace_upload(
        &self,
        owner_applicant_id: i64,
        old_id: i64,
        new: &NewUpload,
        now_ms: i64,
    ) -> Result<Upload, StoreError> {
        check_new(new)?;
        let mut tx = self.begin_write().await?;
        let old = owned(&mut tx, owner_applicant_id, old_id).await?;
        if new.owner_applicant_id != owner_applicant_id
            || new.application_id != old.application_id
            || new.material_key != old.material_key
        {
            return Err(ErrorCode::InvalidInput.into());
        }
        if old.status != UploadStatus::Current {
            return Err(ErrorCode::Conflict.into());
        }
        check_open(&mut tx, old.application_id, &old.material_key).await?;
        check_quota(&mut tx, new, &self.quotas()).await?;
        let up = insert(&mut tx, new, now_ms).await?;
        let res = sqlx::query(
            "UPDATE uploads SET status = 'replaced', replaced_by = $1, changed_at = $2 \
             WHERE id = $3 AND status = 'current'",
        )
        .bind(up.id)
        .bind(now_ms)
        .bind(old.id)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() != 1 {
            return Err(ErrorCode::Conflict.into());
        }
        tx.commit().await?;
        Ok(up)
    }

    /// Removes one of the owner's current files while its material is open (kept on record
    /// as `removed`).
    pub async fn remove_upload(
        &self,
        owner_applicant_id: i64,
        id: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let old = owned(&mut tx, owner_applicant_id, id).await?;
        check_open(&mut tx, old.application_id, &old.material_key).await?;
        let res = sqlx::query(
            "UPDATE uploads SET status = 'removed', changed_at = $1 \
             WHERE id = $2 AND status = 'current'",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() != 1 {
            return Err(ErrorCode::Conflict.into());
        }
        tx.commit().await?;
        Ok(())
    }

    /// One upload, only if `owner_applicant_id` owns it (`NotFound` otherwise).
    pub async fn upload_for_owner(
        &self,
        owner_applicant_id: i64,
        id: i64,
    ) -> Result<Upload, StoreError> {
        // A read: an ordinary (deferred) transaction, no write lock.
        let mut tx = self.pool.begin().await?;
        let up = owned(&mut tx, owner_applicant_id, id).await?;
        tx.commit().await?;
        Ok(up)
    }

    /// One upload without an owner check: for staff, after the caller's policy check on the
    /// case it belongs to.
    pub async fn upload_by_id(&self, id: i64) -> Result<Option<Upload>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM uploads WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(upload_from).transpose()
    }

    /// An application's uploads by material and time; replaced and removed ones too when
    /// `with_history`.
    pub async fn uploads_for_application(
        &self,
        application_id: i64,
        with_history: bool,
    ) -> Result<Vec<Upload>, StoreError> {
        let filter = if with_history {
            ""
        } else {
            " AND status = 'current'"
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM uploads WHERE application_id = $1{filter} \
             ORDER BY material_key, id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(application_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(upload_from).collect()
    }

    /// Whether any upload record (of any status) still refers to a stored file.
    pub async fn storage_key_in_use(&self, storage_key: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT id FROM uploads WHERE storage_key = $1 LIMIT 1")
            .bind(storage_key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// The materials of an application open for change: `None` before submission (all
    /// open), else the list a correction reopened.
    pub async fn open_upload_materials(
        &self,
        application_id: i64,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let row = sqlx::query("SELECT open_materials FROM upload_locks WHERE application_id = $1")
            .bind(application_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let open = get_str(&r, "open_materials")?;
            parse_stored("open_materials", &open, |s| serde_json::from_str(s))
        })
        .transpose()
    }
}
