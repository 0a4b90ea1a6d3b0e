//! 一件事 (bundles): one application for a life event that becomes one case per item, in
//! the departments that handle them, with one combined status for the applicant.

use crate::applicants::Applicant;
use crate::applications::{Application, SmsRecipient};
use crate::cases::bulk::{BulkWrite, BundleWrite};
use crate::cases::submit::Prepared;
use crate::cases::{CaseActor, CaseClock};
use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str};
use crate::uploads::Upload;
use crate::{Store, StoreError};
use yiwang_domain::ErrorCode;
use yiwang_domain::ImplCode;
use yiwang_domain::bundle::{PartState, bundle_status};
use yiwang_domain::case::{CaseNumber, CaseSource};
use yiwang_domain::enums::CodeSet;

pub use yiwang_domain::bundle::{BUNDLE_MAX_ITEMS, BundleStatus};

/// A draft of a bundle found ready: as read, with its final answers document and its
/// applicant's phone.
#[derive(Debug, Clone, Copy)]
pub struct ReadyPart<'a> {
    pub application: &'a Application,
    pub answers: &'a serde_json::Value,
    pub recipient: &'a SmsRecipient,
}

/// One part of a bundle: its application and, once submitted, its case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundlePart {
    pub application_id: i64,
    pub impl_code: ImplCode,
    pub item_name: String,
    pub case_number: Option<CaseNumber>,
    /// The case's status key for the applicant (`case_status` group), when submitted.
    pub status: Option<String>,
    pub terminal: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub id: i64,
    pub applicant_id: i64,
    pub life_event: String,
    pub title: String,
    pub created_at: i64,
    /// When the applicant submitted the parts together (一次提交), if they did.
    pub submitted_at: Option<i64>,
    pub parts: Vec<BundlePart>,
}

impl Bundle {
    pub fn status(&self) -> BundleStatus {
        bundle_status(self.parts.iter().map(|p| PartState {
            submitted: p.case_number.is_some(),
            status: p.status.as_deref(),
            terminal: p.terminal,
        }))
    }

    /// The parts not submitted yet (drafts), in order.
    pub fn pending(&self) -> impl Iterator<Item = &BundlePart> {
        self.parts.iter().filter(|p| p.case_number.is_none())
    }
}

impl Store {
    /// Starts a bundle: one draft application per implementation, in one transaction (every
    /// implementation must be published, or nothing is created).
    pub async fn create_bundle(
        &self,
        applicant_id: i64,
        life_event: &str,
        title: &str,
        impl_codes: &[ImplCode],
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        if impl_codes.is_empty() {
            return Err(ErrorCode::Required.into());
        }
        if impl_codes.len() > BUNDLE_MAX_ITEMS
            || life_event.chars().count() > 100
            || title.chars().count() > 200
        {
            return Err(ErrorCode::TooLong.into());
        }
        let mut versions = Vec::new();
        for code in impl_codes {
            let p = self
                .published_implementation(code)
                .await?
                .ok_or(StoreError::Domain(ErrorCode::UnknownImplementation))?;
            versions.push(p.version);
        }
        let mut tx = self.begin_write().await?;
        let open = sqlx::query(
            "SELECT COUNT(*) AS n FROM applications \
             WHERE applicant_id = $1 AND status = 'draft' AND updated_at > $2",
        )
        .bind(applicant_id)
        .bind(now_ms.saturating_sub(crate::DRAFT_QUOTA_WINDOW_MS))
        .fetch_one(&mut *tx)
        .await?;
        let parts = i64::try_from(impl_codes.len()).unwrap_or(i64::MAX);
        if get_i64(&open, "n")?.saturating_add(parts) > self.quotas().open_drafts {
            return Err(ErrorCode::TooManyDrafts.into());
        }
        let row = sqlx::query(
            "INSERT INTO bundles (applicant_id, life_event, title, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(applicant_id)
        .bind(life_event.to_string())
        .bind(title.to_string())
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        let bundle_id = get_i64(&row, "id")?;
        for (code, version) in impl_codes.iter().zip(versions) {
            sqlx::query(
                "INSERT INTO applications (applicant_id, impl_code, catalog_version, answers_enc, source, staff_id, status, created_at, updated_at, bundle_id) \
                 VALUES ($1, $2, $3, NULL, $4, NULL, 'draft', $5, $5, $6)",
            )
            .bind(applicant_id)
            .bind(code.as_str().to_string())
            .bind(version)
            .bind(CaseSource::Online.key())
            .bind(now_ms)
            .bind(bundle_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(bundle_id)
    }

    /// A bundle of `applicant_id` (others: not found) with its parts.
    pub async fn bundle(&self, id: i64, applicant_id: i64) -> Result<Bundle, StoreError> {
        let row = sqlx::query(
            "SELECT id, applicant_id, life_event, title, created_at, submitted_at FROM bundles WHERE id = $1 AND applicant_id = $2",
        )
        .bind(id)
        .bind(applicant_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::Domain(ErrorCode::NotFound))?;
        let parts = sqlx::query(
            "SELECT a.id, a.impl_code, c.case_number, c.item_name, c.state_body, c.workflow_body, c.terminal \
             FROM applications a LEFT JOIN cases c ON c.application_id = a.id \
             WHERE a.bundle_id = $1 ORDER BY a.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &parts {
            let code = ImplCode::parse(&get_str(r, "impl_code")?)
                .map_err(|_| StoreError::Corrupt("bundle part implementation".into()))?;
            let number = get_opt_str(r, "case_number")?
                .map(|n| CaseNumber::parse(&n))
                .transpose()
                .map_err(|_| StoreError::Corrupt("case number".into()))?;
            let (status, terminal, item_name) = match &number {
                Some(n) => {
                    let case = self.case_record(n).await?;
                    (Some(case.applicant_status()), case.terminal, case.item_name)
                }
                None => {
                    let name = self
                        .published_implementation(&code)
                        .await?
                        .map(|p| p.standard.name)
                        .unwrap_or_else(|| code.to_string());
                    (None, false, name)
                }
            };
            out.push(BundlePart {
                application_id: get_i64(r, "id")?,
                impl_code: code,
                item_name,
                case_number: number,
                status,
                terminal,
            });
        }
        Ok(Bundle {
            id: get_i64(&row, "id")?,
            applicant_id: get_i64(&row, "applicant_id")?,
            life_event: get_str(&row, "life_event")?,
            title: get_str(&row, "title")?,
            created_at: get_i64(&row, "created_at")?,
            submitted_at: get_opt_i64(&row, "submitted_at")?,
            parts: out,
        })
    }

    /// Submits the ready parts of bundle `id` together (一次提交), each with its final answers
    /// document and applicant's phone as read with it, and marks the bundle with an audit entry
    /// naming the parts' cases: one transaction, so a part that fails leaves every part a draft
    /// and the bundle unmarked. Checks (owner, identity, workflow) are made for every part
    /// before anything is written; a draft of another bundle is refused with `not_found`
    /// inside the transaction. A retried submission finds the cases already made.
    pub async fn submit_bundle(
        &self,
        id: i64,
        applicant: &Applicant,
        parts: &[ReadyPart<'_>],
        client: &str,
        clock: CaseClock<'_>,
    ) -> Result<(), StoreError> {
        let mut writes = Vec::with_capacity(parts.len());
        for p in parts {
            let prepared = self
                .prepare_submission(
                    p.application,
                    Some(p.answers),
                    Some(p.recipient),
                    CaseActor::Applicant(applicant),
                    client,
                    clock,
                )
                .await?;
            // A part that is a case already needs no write.
            if let Prepared::Write(w) = prepared {
                writes.push(*w);
            }
        }
        self.grouped(BulkWrite::Bundle(Box::new(BundleWrite {
            store: self.clone(),
            bundle_id: id,
            applicant_id: applicant.id,
            parts: writes,
            audit: applicant.actor(client),
            now_ms: clock.now_ms,
        })))
        .await?;
        Ok(())
    }

    /// An applicant's bundles, newest first: `(id, title, created_at)`.
    pub async fn bundles_of(
        &self,
        applicant_id: i64,
    ) -> Result<Vec<(i64, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, title, created_at FROM bundles WHERE applicant_id = $1 ORDER BY created_at DESC, id DESC LIMIT 50",
        )
        .bind(applicant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_i64(r, "id")?,
                    get_str(r, "title")?,
                    get_i64(r, "created_at")?,
                ))
            })
            .collect()
    }

    /// Saves the answers of several drafts of bundle `id` together (一表申请: one form for the
    /// whole bundle), in one transaction: each must be a draft of this bundle and applicant,
    /// or nothing is saved.
    pub async fn save_bundle_answers(
        &self,
        id: i64,
        applicant_id: i64,
        docs: &[(i64, serde_json::Value)],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for (app_id, doc) in docs {
            let done = sqlx::query(
                "UPDATE applications SET updated_at = $1 \
                 WHERE id = $2 AND bundle_id = $3 AND applicant_id = $4 AND status = 'draft'",
            )
            .bind(now_ms)
            .bind(*app_id)
            .bind(id)
            .bind(applicant_id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(ErrorCode::NotEditable.into());
            }
            crate::applications::write_answers_in(&mut tx, self, *app_id, doc).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A document uploaded once serves every part of bundle `id` that asks for the same
    /// material: each `(upload, part)` records the same stored file for that part's draft, in
    /// one transaction (the quota and per-material limits apply as to any upload).
    pub async fn share_bundle_uploads(
        &self,
        id: i64,
        applicant_id: i64,
        copies: &[(Upload, i64)],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if copies.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for (up, part) in copies {
            let ok = sqlx::query(
                "SELECT a.id FROM applications a JOIN applications b ON b.bundle_id = a.bundle_id \
                 WHERE a.id = $1 AND b.id = $2 AND a.bundle_id = $3 AND a.applicant_id = $4 \
                 AND b.status = 'draft'",
            )
            .bind(up.application_id)
            .bind(*part)
            .bind(id)
            .bind(applicant_id)
            .fetch_optional(&mut *tx)
            .await?;
            if ok.is_none() || up.owner_applicant_id != applicant_id {
                return Err(ErrorCode::NotFound.into());
            }
            let new = crate::uploads::NewUpload {
                owner_applicant_id: applicant_id,
                application_id: *part,
                material_key: up.material_key.clone(),
                filename: up.filename.clone(),
                kind: up.kind,
                size: up.size,
                sha256: up.sha256.clone(),
                storage_key: up.storage_key.clone(),
            };
            crate::uploads::record_upload_in(&mut tx, &new, &self.quotas(), now_ms).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
