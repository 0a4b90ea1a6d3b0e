//! Applicant accounts (申请人) and their sessions, kept apart from staff accounts: an applicant
//! never holds a staff grant, and a staff session never opens the applicant's pages.
//!
//! The sign-in identifier (resident ID or credit code) and the phone are encrypted with the
//! store's key ring; the identifier's blind index finds the account at sign-in. The audit log
//! names an applicant by the opaque `handle` (`applicant-<id>`), never by personal data.

use crate::audit::{Actor, append_in};
use crate::pii::{PiiColumn, PiiKind};
use crate::rows::{get_i64, get_opt_str, get_str};
use crate::sessions::ApplicantSessions;
use crate::{Store, StoreError};
use sqlx::any::AnyRow;
use yiwang_domain::ErrorCode;
use yiwang_domain::case::{ApplicantId, ApplicantKind};
use yiwang_domain::codes::{Phone, mask_middle};
use yiwang_domain::enums::CodeSet;

pub const APPLICANT_ID_NUMBER: PiiColumn = PiiColumn {
    table: "applicants",
    id_column: "id",
    field: "id_number",
    enc_column: "id_number_enc",
    idx_column: Some("id_number_idx"),
    kind: PiiKind::ResidentId,
};

pub const APPLICANT_PHONE: PiiColumn = PiiColumn {
    table: "applicants",
    id_column: "id",
    field: "phone",
    enc_column: "phone_enc",
    idx_column: Some("phone_idx"),
    kind: PiiKind::Phone,
};

/// Registration as submitted, already parsed into checked types.
#[derive(Debug, Clone)]
pub struct NewApplicant {
    pub id: ApplicantId,
    /// The person's name, or the organisation's name.
    pub display_name: String,
    /// Legal persons: the legal representative's name.
    pub legal_rep: Option<String>,
    pub phone: Phone,
    pub password: String,
}

/// A signed-in applicant, as pages and handlers see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    pub id: i64,
    pub handle: String,
    pub kind: ApplicantKind,
    pub display_name: String,
    pub legal_rep: Option<String>,
}

impl Applicant {
    /// The audit actor for this applicant's own acts.
    pub fn actor(&self, client: impl Into<String>) -> Actor {
        Actor {
            id: None,
            name: self.handle.clone(),
            client: client.into(),
        }
    }
    /// The name as printed on screens for others (staff see it in full on the case itself):
    /// the surname and stars for a person, the full name of an organisation.
    pub fn masked_name(&self) -> String {
        match self.kind {
            ApplicantKind::Natural => mask_middle(&self.display_name, 1, 0),
            ApplicantKind::Legal => self.display_name.clone(),
        }
    }
}

/// Contact details for notifications and the case file, decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicantContact {
    pub applicant_id: i64,
    pub id_number: String,
    pub phone: String,
}

const NAME_MAX_CHARS: usize = 100;

fn clean_name(s: &str) -> Result<String, StoreError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ErrorCode::Required.into());
    }
    if s.chars().count() > NAME_MAX_CHARS || s.chars().any(char::is_control) {
        return Err(ErrorCode::TooLong.into());
    }
    Ok(s.to_string())
}

pub(crate) fn applicant_of(r: &AnyRow) -> Result<Applicant, StoreError> {
    let kind = get_str(r, "kind")?;
    Ok(Applicant {
        id: get_i64(r, "id")?,
        handle: get_str(r, "handle")?,
        kind: ApplicantKind::from_key(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("applicant kind {kind}")))?,
        display_name: get_str(r, "display_name")?,
        legal_rep: get_opt_str(r, "legal_rep")?,
    })
}

impl Store {
    /// Registers an applicant in one transaction (account, encrypted identifiers, audit entry).
    /// A registered identifier gives `applicant_exists`.
    pub async fn register_applicant(
        &self,
        a: &NewApplicant,
        client: &str,
        now_ms: i64,
    ) -> Result<Applicant, StoreError> {
        let display_name = clean_name(&a.display_name)?;
        let legal_rep = match (&a.id, &a.legal_rep) {
            (ApplicantId::Organisation(_), Some(r)) => Some(clean_name(r)?),
            (ApplicantId::Organisation(_), None) => return Err(ErrorCode::Required.into()),
            (ApplicantId::Person(_), _) => None,
        };
        if !crate::accounts::password_acceptable(&a.password) {
            return Err(ErrorCode::WeakPassword.into());
        }
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let idx = APPLICANT_ID_NUMBER
            .index(keys, &a.id.reveal())
            .ok_or(StoreError::NoKeys)?;
        let hash = crate::accounts::hash_password(&a.password)?;
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query("SELECT id FROM applicants WHERE id_number_idx = $1")
            .bind(idx.clone())
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(ErrorCode::ApplicantExists.into());
        }
        let (id, handle) = insert_applicant_in(
            &mut tx,
            keys,
            &NewRow {
                idx: &idx,
                id: &a.id,
                name: &display_name,
                legal_rep: legal_rep.as_deref(),
                password_hash: &hash,
                phone: &a.phone,
            },
            now_ms,
        )
        .await
        .map_err(unique_as_exists)?;
        let applicant = Applicant {
            id,
            handle: handle.clone(),
            kind: a.id.kind(),
            display_name,
            legal_rep,
        };
        let event = applicant.actor(client).event(
            "applicant.register",
            format!("applicant:{handle}"),
            serde_json::json!({ "kind": a.id.kind().key() }).to_string(),
        );
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(applicant)
    }

    /// Registers a citizen who applies at the counter or a service point and has no account:
    /// no password (nobody can sign in with it until the citizen sets one), the staff member
    /// who entered it on record. An identifier already registered returns that applicant.
    pub async fn register_walk_in(
        &self,
        id: &ApplicantId,
        display_name: &str,
        legal_rep: Option<&str>,
        phone: &Phone,
        staff: &Actor,
        now_ms: i64,
    ) -> Result<Applicant, StoreError> {
        if let Some(a) = self.applicant_by_id_number(id).await? {
            return Ok(a);
        }
        let display_name = clean_name(display_name)?;
        let legal_rep = match (id, legal_rep.map(str::trim).filter(|r| !r.is_empty())) {
            (ApplicantId::Organisation(_), Some(r)) => Some(clean_name(r)?),
            (ApplicantId::Organisation(_), None) => return Err(ErrorCode::Required.into()),
            (ApplicantId::Person(_), _) => None,
        };
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let idx = APPLICANT_ID_NUMBER
            .index(keys, &id.reveal())
            .ok_or(StoreError::NoKeys)?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO applicants (handle, kind, display_name, legal_rep, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, $4, '!', 0, $5) RETURNING id",
        )
        .bind(format!("pending-{idx}"))
        .bind(id.kind().key())
        .bind(display_name.clone())
        .bind(legal_rep.clone())
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| unique_as_exists(e.into()))?;
        let row_id = get_i64(&row, "id")?;
        let handle = format!("applicant-{row_id}");
        sqlx::query("UPDATE applicants SET handle = $1 WHERE id = $2")
            .bind(handle.clone())
            .bind(row_id)
            .execute(&mut *tx)
            .await?;
        APPLICANT_ID_NUMBER
            .write_in(&mut tx, Some(keys), row_id, Some(&id.reveal()))
            .await
            .map_err(unique_as_exists)?;
        APPLICANT_PHONE
            .write_in(&mut tx, Some(keys), row_id, Some(phone.reveal()))
            .await?;
        let event = staff.event(
            "applicant.register_walk_in",
            format!("applicant:{handle}"),
            serde_json::json!({ "kind": id.kind().key() }).to_string(),
        );
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(Applicant {
            id: row_id,
            handle,
            kind: id.kind(),
            display_name,
            legal_rep,
        })
    }

    /// The account behind a sign-in identifier: the applicant and the password hash.
    pub async fn applicant_for_login(
        &self,
        id: &ApplicantId,
    ) -> Result<Option<(Applicant, String)>, StoreError> {
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let Some(idx) = APPLICANT_ID_NUMBER.index(keys, &id.reveal()) else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT id, handle, kind, display_name, legal_rep, password_hash FROM applicants \
             WHERE id_number_idx = $1 AND disabled = 0",
        )
        .bind(idx)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((applicant_of(&r)?, get_str(&r, "password_hash")?)))
            .transpose()
    }

    /// The name sign-in limits count under for the identifier `id`: the account's handle, or,
    /// for a number without an account, one derived from its blind index, so that unknown
    /// numbers are limited and locked exactly like registered ones (and no number is kept in
    /// clear).
    pub fn applicant_throttle_name(
        &self,
        id: &ApplicantId,
        found: Option<&Applicant>,
    ) -> Result<String, StoreError> {
        if let Some(a) = found {
            return Ok(a.handle.clone());
        }
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let idx = APPLICANT_ID_NUMBER
            .index(keys, &id.reveal())
            .ok_or(StoreError::NoKeys)?;
        // 64 bits of the keyed digest: enough to keep numbers apart, too little to be the index.
        let digest = idx.rsplit(':').next().unwrap_or(&idx);
        let short: String = digest.chars().take(16).collect();
        Ok(format!("{}-{short}", crate::auth_guard::UNKNOWN_APPLICANT))
    }

    pub async fn applicant(&self, id: i64) -> Result<Option<Applicant>, StoreError> {
        let row = sqlx::query(
            "SELECT id, handle, kind, display_name, legal_rep FROM applicants WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(applicant_of).transpose()
    }

    /// Looks an applicant up by identifier (counter intake: the clerk types the citizen's ID).
    pub async fn applicant_by_id_number(
        &self,
        id: &ApplicantId,
    ) -> Result<Option<Applicant>, StoreError> {
        Ok(self.applicant_for_login(id).await?.map(|(a, _)| a))
    }

    /// Decrypted identifier and phone of one applicant (notifications, the staff case file).
    pub async fn applicant_contact(
        &self,
        applicant_id: i64,
    ) -> Result<Option<ApplicantContact>, StoreError> {
        let row = sqlx::query("SELECT id_number_enc, phone_enc FROM applicants WHERE id = $1")
            .bind(applicant_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else { return Ok(None) };
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let open = |col: &PiiColumn, v: Option<String>| -> Result<String, StoreError> {
            v.map(|v| col.open(keys, applicant_id, &v))
                .transpose()
                .map(Option::unwrap_or_default)
        };
        Ok(Some(ApplicantContact {
            applicant_id,
            id_number: open(&APPLICANT_ID_NUMBER, get_opt_str(&r, "id_number_enc")?)?,
            phone: open(&APPLICANT_PHONE, get_opt_str(&r, "phone_enc")?)?,
        }))
    }

    pub async fn create_applicant_session(
        &self,
        token_hash: &str,
        applicant_id: i64,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<(), StoreError> {
        self.create_session_of::<ApplicantSessions>(token_hash, applicant_id, now_ms, ttl_ms)
            .await
    }

    /// The applicant of a live session (absolute and idle timeouts), touching it at most once a
    /// minute.
    pub async fn active_applicant_session(
        &self,
        token_hash: &str,
        now_ms: i64,
        idle_ms: i64,
    ) -> Result<Option<Applicant>, StoreError> {
        self.active_session_of::<ApplicantSessions>(token_hash, now_ms, idle_ms)
            .await
    }

    pub async fn delete_applicant_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.delete_session_of::<ApplicantSessions>(token_hash)
            .await
    }

    /// Audits an applicant's sign-in and clears their failure count.
    pub async fn record_applicant_login(
        &self,
        a: &Applicant,
        client: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let event = a
            .actor(client)
            .event("login.success", format!("applicant:{}", a.handle), "");
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        self.throttle_clear(&crate::auth_guard::account_key(&a.handle), now_ms)
            .await
    }
}

/// A new applicant account's row, before its id is known.
pub(crate) struct NewRow<'a> {
    /// The blind index of the ID number.
    pub idx: &'a str,
    pub id: &'a ApplicantId,
    pub name: &'a str,
    pub legal_rep: Option<&'a str>,
    /// `!` for an account with no password yet.
    pub password_hash: &'a str,
    pub phone: &'a Phone,
}

/// Inserts an applicant with the encrypted ID number and phone, in `tx`: `(id, handle)`. The
/// handle names the row id, known only after the insert.
pub(crate) async fn insert_applicant_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    keys: &yiwang_crypto::KeyRing,
    row: &NewRow<'_>,
    now_ms: i64,
) -> Result<(i64, String), StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO applicants (handle, kind, display_name, legal_rep, password_hash, disabled, \
         created_at) VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING id",
    )
    .bind(format!("pending-{}", row.idx))
    .bind(row.id.kind().key())
    .bind(row.name.to_string())
    .bind(row.legal_rep.map(str::to_string))
    .bind(row.password_hash.to_string())
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?;
    let id = get_i64(&inserted, "id")?;
    let handle = format!("applicant-{id}");
    sqlx::query("UPDATE applicants SET handle = $1 WHERE id = $2")
        .bind(handle.clone())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    APPLICANT_ID_NUMBER
        .write_in(tx, Some(keys), id, Some(&row.id.reveal()))
        .await?;
    APPLICANT_PHONE
        .write_in(tx, Some(keys), id, Some(row.phone.reveal()))
        .await?;
    Ok((id, handle))
}

fn unique_as_exists(e: StoreError) -> StoreError {
    match e {
        StoreError::Db(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            ErrorCode::ApplicantExists.into()
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_names_keep_only_the_surname_of_a_person() {
        let mut a = Applicant {
            id: 1,
            handle: "applicant-1".into(),
            kind: ApplicantKind::Natural,
            display_name: "张三丰".into(),
            legal_rep: None,
        };
        assert_eq!(a.masked_name(), "张**");
        a.kind = ApplicantKind::Legal;
        a.display_name = "天津市津南区某某餐饮有限公司".into();
        assert_eq!(a.masked_name(), "天津市津南区某某餐饮有限公司");
    }
}
