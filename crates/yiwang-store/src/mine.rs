//! 我的办事 reads and writes of the applicant's own: cases with whom each is for, deleting a
//! draft, and the query code (查询码) of a case for a progress lookup without signing in.

use crate::applications::APPLICATION_ANSWERS;
use crate::case_read::{CaseSummary, summary_of};
use crate::cases::{CASE_COLUMNS, case_of};
use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str};
use crate::{Store, StoreError};
use yiwang_domain::ErrorCode;
use yiwang_domain::case::CaseNumber;
use yiwang_domain::mine::{normalise_query_code, query_code_from_digest, same_code, subject};

/// Kind of the keyed digest a query code is made from (apart from blind indexes of personal
/// data).
const QUERY_CODE_KIND: &str = "case_query_code";

/// One of the applicant's cases as 我的办事 lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyCase {
    pub summary: CaseSummary,
    /// The business the application names, if any (else it is for the applicant).
    pub subject: Option<String>,
    /// The 一件事 it belongs to, if any.
    pub bundle_id: Option<i64>,
}

/// What a progress lookup shows: no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub summary: CaseSummary,
    pub department_name: Option<String>,
}

impl Store {
    /// An applicant's cases, newest first, each with whom it is for (read from the answers
    /// the applicant gave, decrypted for the applicant's own page) and its bundle: two
    /// statements, whatever the number of cases.
    pub async fn my_cases(&self, applicant_id: i64) -> Result<Vec<MyCase>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE applicant_id = $1 \
             ORDER BY submitted_at DESC, id DESC LIMIT 200"
        )))
        .bind(applicant_id)
        .fetch_all(&self.pool)
        .await?;
        let apps = sqlx::query(
            "SELECT a.id, a.answers_enc, a.bundle_id FROM applications a \
             JOIN cases c ON c.application_id = a.id WHERE c.applicant_id = $1",
        )
        .bind(applicant_id)
        .fetch_all(&self.pool)
        .await?;
        let mut by_app = std::collections::HashMap::new();
        for r in &apps {
            let id = get_i64(r, "id")?;
            let subject = match get_opt_str(r, "answers_enc")? {
                Some(stored) => {
                    let keys = self.keys().ok_or(StoreError::NoKeys)?;
                    let plain = APPLICATION_ANSWERS.open(keys, id, &stored)?;
                    let doc: serde_json::Value = serde_json::from_str(&plain)
                        .map_err(|e| StoreError::Corrupt(format!("answers of {id}: {e}")))?;
                    subject(&pairs(&doc))
                }
                None => None,
            };
            by_app.insert(id, (subject, get_opt_i64(r, "bundle_id")?));
        }
        rows.iter()
            .map(|r| {
                let case = case_of(r)?;
                let (subject, bundle_id) = by_app.remove(&case.application_id).unwrap_or_default();
                Ok(MyCase {
                    summary: summary_of(&case),
                    subject,
                    bundle_id,
                })
            })
            .collect()
    }

    /// The bundle of each of an applicant's drafts: `(application, bundle)`.
    pub async fn draft_bundles(&self, applicant_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, bundle_id FROM applications \
             WHERE applicant_id = $1 AND status = 'draft' AND bundle_id IS NOT NULL",
        )
        .bind(applicant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((get_i64(r, "id")?, get_i64(r, "bundle_id")?)))
            .collect()
    }

    /// Deletes a draft of the applicant with its files' records, in one transaction; returns
    /// the storage keys no record refers to any more (the caller removes the files). A
    /// submitted application, another's draft and a part of a 一件事 (deleted with its bundle
    /// only) are refused.
    pub async fn delete_draft(
        &self,
        id: i64,
        applicant_id: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT status, bundle_id FROM applications WHERE id = $1 AND applicant_id = $2 \
             AND staff_id IS NULL",
        )
        .bind(id)
        .bind(applicant_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::Domain(ErrorCode::NotFound))?;
        if get_str(&row, "status")? != "draft" || get_opt_i64(&row, "bundle_id")?.is_some() {
            return Err(ErrorCode::NotEditable.into());
        }
        let keys =
            sqlx::query("SELECT DISTINCT storage_key FROM uploads WHERE application_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM uploads WHERE application_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM applications WHERE id = $1 AND status = 'draft'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(ErrorCode::NotEditable.into());
        }
        let mut unused = Vec::new();
        for k in &keys {
            let key = get_str(k, "storage_key")?;
            let still = sqlx::query("SELECT id FROM uploads WHERE storage_key = $1 LIMIT 1")
                .bind(key.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if still.is_none() {
                unused.push(key);
            }
        }
        tx.commit().await?;
        Ok(unused)
    }

    /// The query code of a case: digits from a keyed SM3 digest of its number (nothing
    /// stored; the key ring's index key keeps it unguessable).
    pub fn case_query_code(&self, number: &CaseNumber) -> Result<String, StoreError> {
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let mac = keys.blind_index(QUERY_CODE_KIND, number.as_str());
        let hex = mac.rsplit(':').next().unwrap_or_default();
        Ok(query_code_from_digest(hex))
    }

    /// A progress lookup by case number and query code: the case's status and dates, or
    /// `None` for an unknown number or a wrong code (one answer for both). Throttling is the
    /// caller's (`reserve_attempt`).
    pub async fn progress_by_code(
        &self,
        number: &CaseNumber,
        typed_code: &str,
    ) -> Result<Option<Progress>, StoreError> {
        let expected = self.case_query_code(number)?;
        let Some(code) = normalise_query_code(typed_code) else {
            return Ok(None);
        };
        if !same_code(&expected, &code) {
            return Ok(None);
        }
        let case = match self.case_record(number).await {
            Ok(c) => c,
            Err(StoreError::Domain(ErrorCode::NotFound)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let dept = sqlx::query("SELECT name FROM departments WHERE credit_code = $1")
            .bind(case.department.as_str().to_string())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| get_str(&r, "name"))
            .transpose()?;
        Ok(Some(Progress {
            summary: summary_of(&case),
            department_name: dept,
        }))
    }
}

/// The posted values of an answers document (`{"pairs": …}`).
pub(crate) fn pairs(answers: &serde_json::Value) -> Vec<(String, String)> {
    answers
        .get("pairs")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}
