//! Applications before they become cases: the applicant's draft answers, saved and resumed.
//! Answers hold personal data (ID numbers, phones, addresses), so the whole answers document is
//! encrypted under the store's key ring. Every function takes the owner and refuses (as
//! `not_found`, so nobody learns that another's draft exists) a draft of someone else.

use crate::pii::{PiiColumn, PiiKind};
use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str};
use crate::uploads::{Upload, current_uploads_json, uploads_from_json};
use crate::{Store, StoreError};
use sqlx::any::AnyRow;
use yiwang_domain::ErrorCode;
use yiwang_domain::ImplCode;
use yiwang_domain::case::CaseSource;
use yiwang_domain::enums::CodeSet;

pub const APPLICATION_ANSWERS: PiiColumn = PiiColumn {
    table: "applications",
    id_column: "id",
    field: "answers",
    enc_column: "answers_enc",
    idx_column: None,
    kind: PiiKind::Text,
};

/// What [`Store::application`] reads of one application, and from where (`$1`: its id).
const APPLICATION_COLUMNS: &str = "a.id, a.applicant_id, a.impl_code, a.catalog_version, \
     a.answers_enc, a.source, a.staff_id, a.status, a.created_at, a.updated_at, c.case_number";
const APPLICATION_FROM: &str =
    "FROM applications a LEFT JOIN cases c ON c.application_id = a.id WHERE a.id = $1";

/// Largest answers document (JSON bytes) a draft may hold.
pub const ANSWERS_MAX_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationStatus {
    Draft,
    Submitted,
}

impl ApplicationStatus {
    pub fn key(self) -> &'static str {
        match self {
            ApplicationStatus::Draft => "draft",
            ApplicationStatus::Submitted => "submitted",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub id: i64,
    pub applicant_id: i64,
    pub impl_code: ImplCode,
    pub catalog_version: i64,
    /// The answers document (JSON object), decrypted; `{}` for a new draft.
    pub answers: serde_json::Value,
    pub source: CaseSource,
    pub staff_id: Option<i64>,
    pub status: ApplicationStatus,
    pub created_at: i64,
    pub updated_at: i64,
    /// The case, once submitted.
    pub case_number: Option<String>,
}

impl Application {
    /// Whether `owner` may open or change this application.
    pub fn owned_by(&self, owner: DraftOwner) -> bool {
        match owner {
            DraftOwner::Applicant(a) => self.applicant_id == a,
            DraftOwner::Staff(s) => self.staff_id == Some(s),
        }
    }
}

/// Who opens or changes a draft: the applicant, or the staff member who entered it for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftOwner {
    Applicant(i64),
    Staff(i64),
}

impl Store {
    /// Starts a draft for a published implementation. `staff_id` is the clerk or agent for
    /// counter and 代办 intake.
    pub async fn create_application(
        &self,
        applicant_id: i64,
        impl_code: &ImplCode,
        source: CaseSource,
        staff_id: Option<i64>,
        now_ms: i64,
    ) -> Result<Application, StoreError> {
        let published = self
            .published_implementation(impl_code)
            .await?
            .ok_or(StoreError::Domain(ErrorCode::UnknownImplementation))?;
        // One statement: the count and the insert cannot be split by a parallel request.
        let row = sqlx::query(
            "INSERT INTO applications (applicant_id, impl_code, catalog_version, answers_enc, source, staff_id, status, created_at, updated_at) \
             SELECT $1, $2, $3, NULL, $4, $5, 'draft', $6, $6 \
             WHERE (SELECT COUNT(*) FROM applications \
                    WHERE applicant_id = $1 AND status = 'draft' AND updated_at > $7) < $8 \
             RETURNING id",
        )
        .bind(applicant_id)
        .bind(impl_code.as_str().to_string())
        .bind(published.version)
        .bind(source.key())
        .bind(staff_id)
        .bind(now_ms)
        .bind(now_ms.saturating_sub(crate::DRAFT_QUOTA_WINDOW_MS))
        .bind(self.quotas.open_drafts)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::Domain(ErrorCode::TooManyDrafts))?;
        Ok(Application {
            id: get_i64(&row, "id")?,
            applicant_id,
            impl_code: impl_code.clone(),
            catalog_version: published.version,
            answers: serde_json::json!({}),
            source,
            staff_id,
            status: ApplicationStatus::Draft,
            created_at: now_ms,
            updated_at: now_ms,
            case_number: None,
        })
    }

    /// One application, if `owner` may open it.
    pub async fn application(&self, id: i64, owner: DraftOwner) -> Result<Application, StoreError> {
        let sql = format!("SELECT {APPLICATION_COLUMNS} {APPLICATION_FROM}");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::Domain(ErrorCode::NotFound))?;
        self.owned_application(&row, owner)
    }

    /// [`Self::application`] with its current uploads (those of
    /// [`Self::uploads_for_application`] without history), in one statement: the draft as a
    /// submission or its check page reads it.
    pub async fn application_with_uploads(
        &self,
        id: i64,
        owner: DraftOwner,
    ) -> Result<(Application, Vec<Upload>, SmsRecipient), StoreError> {
        let sql = format!(
            "SELECT {APPLICATION_COLUMNS}, {uploads} AS uploads, \
               (SELECT p.phone_enc FROM applicants p WHERE p.id = a.applicant_id) AS phone_enc, \
               (SELECT p.verified_at FROM applicants p WHERE p.id = a.applicant_id) AS verified_at \
             {APPLICATION_FROM}",
            uploads = current_uploads_json(self.backend, "a.id")
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::Domain(ErrorCode::NotFound))?;
        let app = self.owned_application(&row, owner)?;
        let phone = crate::case_notify::phone_of(
            self,
            app.applicant_id,
            crate::rows::get_opt_str(&row, "phone_enc")?,
        )?;
        Ok((
            app,
            uploads_from_json(&row, "uploads")?,
            SmsRecipient {
                phone,
                identity_verified: get_opt_i64(&row, "verified_at")?.is_some(),
            },
        ))
    }

    /// The application of `row`, if `owner` may open it (`not_found` otherwise).
    fn owned_application(
        &self,
        row: &AnyRow,
        owner: DraftOwner,
    ) -> Result<Application, StoreError> {
        let app = self.application_of(row)?;
        if app.owned_by(owner) {
            Ok(app)
        } else {
            Err(ErrorCode::NotFound.into())
        }
    }

    /// The answers of an application, whoever owns it (the store's own use: a certificate
    /// printed from the answers of the case it concludes).
    pub(crate) async fn application_answers(
        &self,
        id: i64,
    ) -> Result<serde_json::Value, StoreError> {
        let sql = format!("SELECT {APPLICATION_COLUMNS} {APPLICATION_FROM}");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::Domain(ErrorCode::NotFound))?;
        Ok(self.application_of(&row)?.answers)
    }

    /// An applicant's drafts (not yet submitted), newest first.
    pub async fn drafts_of(&self, applicant_id: i64) -> Result<Vec<Application>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.applicant_id, a.impl_code, a.catalog_version, a.answers_enc, a.source, \
                    a.staff_id, a.status, a.created_at, a.updated_at, NULL AS case_number \
             FROM applications a WHERE a.applicant_id = $1 AND a.status = 'draft' \
             ORDER BY a.updated_at DESC, a.id DESC LIMIT 100",
        )
        .bind(applicant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.application_of(r)).collect()
    }

    /// Replaces a draft's answers. A submitted application is `not_editable`.
    pub async fn save_answers(
        &self,
        id: i64,
        owner: DraftOwner,
        answers: &serde_json::Value,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.save_answers_audited(id, owner, answers, None, now_ms)
            .await
    }

    /// [`Store::save_answers`] with an audit entry in the same transaction (answers taken from
    /// the applicant's own account data: the use of personal data is recorded with the write).
    pub async fn save_answers_audited(
        &self,
        id: i64,
        owner: DraftOwner,
        answers: &serde_json::Value,
        event: Option<&crate::audit::AuditEvent>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let app = self.application(id, owner).await?;
        if app.status != ApplicationStatus::Draft {
            return Err(ErrorCode::NotEditable.into());
        }
        let mut tx = self.begin_write().await?;
        write_answers_in(&mut tx, self, id, answers).await?;
        if let Some(event) = event {
            crate::audit::append_in(&mut tx, now_ms, event).await?;
        }
        let done = sqlx::query(
            "UPDATE applications SET updated_at = $1 WHERE id = $2 AND status = 'draft'",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            // Submitted between the read and the write.
            return Err(ErrorCode::NotEditable.into());
        }
        tx.commit().await?;
        Ok(())
    }

    fn application_of(&self, r: &AnyRow) -> Result<Application, StoreError> {
        let id = get_i64(r, "id")?;
        let answers = match get_opt_str(r, "answers_enc")? {
            None => serde_json::json!({}),
            Some(stored) => {
                let keys = self.keys().ok_or(StoreError::NoKeys)?;
                let plain = APPLICATION_ANSWERS.open(keys, id, &stored)?;
                serde_json::from_str(&plain)
                    .map_err(|e| StoreError::Corrupt(format!("answers of application {id}: {e}")))?
            }
        };
        let source = get_str(r, "source")?;
        let code = get_str(r, "impl_code")?;
        Ok(Application {
            id,
            applicant_id: get_i64(r, "applicant_id")?,
            impl_code: ImplCode::parse(&code)
                .map_err(|_| StoreError::Corrupt(format!("impl code {code}")))?,
            catalog_version: get_i64(r, "catalog_version")?,
            answers,
            source: CaseSource::from_key(&source)
                .ok_or_else(|| StoreError::Corrupt(format!("source {source}")))?,
            staff_id: get_opt_i64(r, "staff_id")?,
            status: if get_str(r, "status")? == "draft" {
                ApplicationStatus::Draft
            } else {
                ApplicationStatus::Submitted
            },
            created_at: get_i64(r, "created_at")?,
            updated_at: get_i64(r, "updated_at")?,
            case_number: get_opt_str(r, "case_number")?,
        })
    }
}

/// Checks an answers document and gives its JSON.
fn answers_json(answers: &serde_json::Value) -> Result<String, StoreError> {
    if !answers.is_object() {
        return Err(ErrorCode::InvalidInput.into());
    }
    let json = answers.to_string();
    if json.len() > ANSWERS_MAX_BYTES {
        return Err(ErrorCode::TooLong.into());
    }
    Ok(json)
}

/// Encrypts and stores an answers document inside `tx`.
pub(crate) async fn write_answers_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    store: &Store,
    id: i64,
    answers: &serde_json::Value,
) -> Result<(), StoreError> {
    let json = answers_json(answers)?;
    APPLICATION_ANSWERS
        .write_in(tx, store.keys(), id, Some(&json))
        .await
}

/// An answers document of application `id` checked and encrypted as `answers_enc` stores it,
/// for a write that sets the column itself.
pub(crate) fn sealed_answers(
    store: &Store,
    id: i64,
    answers: &serde_json::Value,
) -> Result<String, StoreError> {
    let json = answers_json(answers)?;
    let keys = store.keys().ok_or(StoreError::NoKeys)?;
    Ok(APPLICATION_ANSWERS.seal(keys, id, &json)?.0)
}

/// The applicant's phone for the SMS of a case, read with the draft so the submission need not
/// read it again; opaque outside the store (personal data, opened only to write the outbox).
/// Carries whether the applicant's identity is verified (实名核验), for the submission gate.
#[derive(Clone)]
pub struct SmsRecipient {
    pub(crate) phone: Option<String>,
    pub(crate) identity_verified: bool,
}

impl std::fmt::Debug for SmsRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmsRecipient(..)")
    }
}
