//! Answering a correction notice (补正): the applicant replaces a named material (or fills a
//! new document slot) with a file, or gives a named form field a new value, while the notice
//! is open. Each answer is one transaction: the file or the answers, the superseded files
//! marked `replaced` (kept on record with a link to the new one), and the answer's row in
//! `correction_answers`, which resubmission checks (`case::check_resubmission`).

use crate::cases::CaseRecord;
use crate::rows::{get_i64, get_str, parse_stored};
use crate::uploads::{NewUpload, Upload, record_upload_in};
use crate::{Store, StoreError};
use yiwang_domain::ErrorCode;
use yiwang_domain::case::{CorrectionItem, CorrectionScope, CorrectionTarget, check_targets};

/// The open correction notice of a case with what has been answered of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCorrection {
    pub round: i64,
    pub items: Vec<CorrectionItem>,
    pub requested_at: i64,
    /// The targets answered since the notice, in the order answered.
    pub answered: Vec<CorrectionTarget>,
}

impl OpenCorrection {
    /// Whether line `target` has been answered.
    pub fn is_answered(&self, target: &CorrectionTarget) -> bool {
        self.answered.contains(target)
    }
}

/// One answered line of a correction round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionAnswer {
    pub round: i64,
    pub target: CorrectionTarget,
    pub answered_at: i64,
    /// The file given, for a material or new slot.
    pub upload_id: Option<i64>,
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

async fn open_in<'e, E>(ex: E, case_id: i64) -> Result<Option<(i64, String, i64)>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT round, items, requested_at FROM corrections \
         WHERE case_id = $1 AND resolved_at IS NULL ORDER BY round DESC LIMIT 1",
    )
    .bind(case_id)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        Ok((
            get_i64(&r, "round")?,
            get_str(&r, "items")?,
            get_i64(&r, "requested_at")?,
        ))
    })
    .transpose()
}

async fn answered_in<'e, E>(
    ex: E,
    case_id: i64,
    round: i64,
) -> Result<Vec<CorrectionTarget>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT target FROM correction_answers WHERE case_id = $1 AND round = $2 \
         ORDER BY answered_at, target",
    )
    .bind(case_id)
    .bind(round)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        let t = get_str(r, "target")?;
        parse_stored("correction_answers.target", &t, CorrectionTarget::parse)
    })
    .collect()
}

/// The open correction of `case_id` inside `tx`, which must name `target`
/// (`not_editable` when no notice is open, `invalid_input` for a target it does not name).
async fn open_naming(
    tx: &mut Tx<'_>,
    case_id: i64,
    target: &CorrectionTarget,
) -> Result<i64, StoreError> {
    let (round, items, _) = open_in(&mut **tx, case_id)
        .await?
        .ok_or(StoreError::Domain(ErrorCode::NotEditable))?;
    let items: Vec<CorrectionItem> = parse_stored("corrections.items", &items, |s| {
        serde_json::from_str::<Vec<CorrectionItem>>(s)
    })?;
    if !items.iter().any(|i| &i.target == target) {
        return Err(ErrorCode::InvalidInput.into());
    }
    Ok(round)
}

async fn mark_answered(
    tx: &mut Tx<'_>,
    case_id: i64,
    round: i64,
    target: &CorrectionTarget,
    upload_id: Option<i64>,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO correction_answers (case_id, round, target, answered_at, upload_id) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id, round, target) DO UPDATE \
         SET answered_at = excluded.answered_at, upload_id = excluded.upload_id",
    )
    .bind(case_id)
    .bind(round)
    .bind(target.to_string())
    .bind(now_ms)
    .bind(upload_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// What a correction of `case` may name: the materials its implementation lists and the
    /// answerable fields of its form, as published now.
    pub async fn correction_scope(&self, case: &CaseRecord) -> Result<CorrectionScope, StoreError> {
        let Some(p) = self.published_implementation(&case.impl_code).await? else {
            return Ok(CorrectionScope::default());
        };
        let form = self
            .form_definition_for(&case.impl_code, &p.implementation.basic_code)
            .await?;
        Ok(CorrectionScope::of(
            p.implementation.materials.iter().map(|m| m.name.clone()),
            &form.definition,
        ))
    }

    /// Every answered line of every correction round of a case, by round.
    pub async fn correction_answers(
        &self,
        case_id: i64,
    ) -> Result<Vec<CorrectionAnswer>, StoreError> {
        sqlx::query(
            "SELECT round, target, answered_at, upload_id FROM correction_answers \
             WHERE case_id = $1 ORDER BY round, answered_at, target",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let t = get_str(r, "target")?;
            Ok(CorrectionAnswer {
                round: get_i64(r, "round")?,
                target: parse_stored("correction_answers.target", &t, CorrectionTarget::parse)?,
                answered_at: get_i64(r, "answered_at")?,
                upload_id: crate::rows::get_opt_i64(r, "upload_id")?,
            })
        })
        .collect()
    }

    /// The open correction notice of a case and what has been answered of it, if one is open.
    pub async fn open_correction(
        &self,
        case_id: i64,
    ) -> Result<Option<OpenCorrection>, StoreError> {
        let Some((round, items, requested_at)) = open_in(&self.pool, case_id).await? else {
            return Ok(None);
        };
        let items = parse_stored("corrections.items", &items, |s| {
            serde_json::from_str::<Vec<CorrectionItem>>(s)
        })?;
        let mut answered = answered_in(&self.pool, case_id, round).await?;
        // A file given for a named material since the notice answers it, whichever way it
        // came (this page, the application page, the API).
        let given = sqlx::query(
            "SELECT DISTINCT u.material_key FROM uploads u \
             JOIN cases c ON c.application_id = u.application_id \
             WHERE c.id = $1 AND u.status = 'current' AND u.created_at >= $2",
        )
        .bind(case_id)
        .bind(requested_at)
        .fetch_all(&self.pool)
        .await?;
        for r in given {
            let key = get_str(&r, "material_key")?;
            for i in &items {
                if i.target.material() == Some(key.as_str()) && !answered.contains(&i.target) {
                    answered.push(i.target.clone());
                }
            }
        }
        Ok(Some(OpenCorrection {
            round,
            items,
            requested_at,
            answered,
        }))
    }

    /// The applicant answers line `target` (a material or a new document slot) of the open
    /// notice of `case` with the file `new` (already in the file store): the file is recorded,
    /// every other current file of that material is marked `replaced` by it, and the line is
    /// answered, in one transaction.
    pub async fn answer_correction_with_file(
        &self,
        case: &CaseRecord,
        target: &CorrectionTarget,
        new: &NewUpload,
        now_ms: i64,
    ) -> Result<Upload, StoreError> {
        if new.owner_applicant_id != case.applicant_id
            || new.application_id != case.application_id
            || target.material() != Some(new.material_key.as_str())
        {
            return Err(ErrorCode::InvalidInput.into());
        }
        let mut tx = self.begin_write().await?;
        let round = open_naming(&mut tx, case.id, target).await?;
        // Reopened by the notice: the new file replaces the material's current ones.
        let up = record_upload_in(&mut tx, new, &self.quotas(), now_ms).await?;
        mark_answered(&mut tx, case.id, round, target, Some(up.id), now_ms).await?;
        tx.commit().await?;
        Ok(up)
    }

    /// The applicant answers lines `targets` (form fields) of the open notice of `case`: the
    /// application's answers document becomes `answers` (checked by the caller against the
    /// form) and the lines are answered, in one transaction.
    pub async fn answer_correction_fields(
        &self,
        case: &CaseRecord,
        targets: &[CorrectionTarget],
        answers: &serde_json::Value,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if targets.is_empty() || targets.iter().any(|t| t.field().is_none()) {
            return Err(ErrorCode::InvalidInput.into());
        }
        let mut tx = self.begin_write().await?;
        let mut rounds = Vec::new();
        for t in targets {
            rounds.push(open_naming(&mut tx, case.id, t).await?);
        }
        crate::applications::write_answers_in(&mut tx, self, case.application_id, answers).await?;
        sqlx::query("UPDATE applications SET updated_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(case.application_id)
            .execute(&mut *tx)
            .await?;
        for (t, round) in targets.iter().zip(rounds) {
            mark_answered(&mut tx, case.id, round, t, None, now_ms).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// `invalid_input` unless every line of `items` names a material or answerable field of
/// `case` or a new document slot (see `case::check_targets`).
pub(crate) async fn check_items(
    store: &Store,
    case: &CaseRecord,
    items: &[CorrectionItem],
) -> Result<(), StoreError> {
    let scope = store.correction_scope(case).await?;
    check_targets(items, &scope).map_err(|_| StoreError::Domain(ErrorCode::InvalidInput))
}

/// Whether the open notice (if any) of `case_id` is answered in full: `required` otherwise.
pub(crate) async fn check_answered(store: &Store, case_id: i64) -> Result<(), StoreError> {
    if let Some(open) = store.open_correction(case_id).await? {
        yiwang_domain::case::check_resubmission(&open.items, &open.answered)?;
    }
    Ok(())
}
