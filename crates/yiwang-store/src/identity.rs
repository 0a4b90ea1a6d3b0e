//! 实名核验 (`IdentityVerification`): an applicant account is unverified until a verification
//! source confirms that its name, ID number and phone belong to one real person — a staff
//! member who checked the identity document at a counter or service point, a configured
//! external verifier, or (later) the population register. Items that need a verified identity
//! take no case from an unverified account.
//!
//! A verified identity wins: when the real owner of an ID number is verified, an unverified
//! account holding that number under another name or phone is detached (disabled, its number
//! freed, its sessions ended, audited) and the owner gets an account of their own. An account
//! already verified is never taken over: a differing claim is refused.

use crate::applicants::{APPLICANT_ID_NUMBER, APPLICANT_PHONE, Applicant, applicant_of};
use crate::audit::{Actor, append_in};
use crate::rows::{get_i64, get_opt_i64, get_opt_str};
use crate::sessions::{ApplicantSessions, end_all_in};
use crate::{Store, StoreError};
use yiwang_domain::ErrorCode;
use yiwang_domain::case::ApplicantId;
use yiwang_domain::codes::Phone;

/// Where a confirmation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationSource {
    /// A staff member checked the identity document in person.
    InPerson,
    /// A configured external verifier (e.g. an operator's real-name check).
    External,
    /// The population register (基础库), once data sharing plugs in.
    Register,
}

impl VerificationSource {
    pub fn key(self) -> &'static str {
        match self {
            VerificationSource::InPerson => "in_person",
            VerificationSource::External => "external",
            VerificationSource::Register => "register",
        }
    }
}

/// Identity documents a staff member may check in person (keys are stored).
pub const DOCUMENTS: [&str; 5] = [
    "resident_id_card",
    "temporary_id_card",
    "household_register",
    "passport",
    "business_licence",
];

/// Who a verification says the person is.
#[derive(Debug, Clone)]
pub struct IdentityClaim {
    pub id: ApplicantId,
    /// The person's name, or the organisation's name.
    pub name: String,
    /// Legal persons: the legal representative's name.
    pub legal_rep: Option<String>,
    pub phone: Phone,
}

/// How a claim was confirmed, as recorded.
#[derive(Debug, Clone)]
pub struct VerificationRecord {
    pub source: VerificationSource,
    /// The staff member's user name, or the verifier's name.
    pub verifier: String,
    pub staff_id: Option<i64>,
    /// The counter or service point (in person), or the verifier's reference.
    pub place: String,
    /// The document checked (one of [`DOCUMENTS`]), or what the verifier checked.
    pub document: String,
}

/// What a verification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The account holding the number had this name and phone; it is verified now.
    Confirmed(Applicant),
    /// Nobody held the number: a verified account without a password was made (the citizen
    /// sets one through the SMS reset to the phone on record).
    Registered(Applicant),
    /// An unverified account held the number under another name or phone: it is detached
    /// (`detached` is its audit handle) and the owner has a verified account.
    Reclaimed {
        applicant: Applicant,
        detached: String,
    },
}

impl Verified {
    pub fn applicant(&self) -> &Applicant {
        match self {
            Verified::Confirmed(a) | Verified::Registered(a) => a,
            Verified::Reclaimed { applicant, .. } => applicant,
        }
    }
    fn key(&self) -> &'static str {
        match self {
            Verified::Confirmed(_) => "confirmed",
            Verified::Registered(_) => "registered",
            Verified::Reclaimed { .. } => "reclaimed",
        }
    }
}

/// Who holds an ID number, compared with a claim (for counter intake: no write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    Nobody,
    /// Same name and phone.
    Matches {
        applicant: Applicant,
        verified: bool,
    },
    /// Another name or phone.
    Differs {
        verified: bool,
    },
}

fn clean(s: &str) -> Result<String, StoreError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ErrorCode::Required.into());
    }
    if s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(ErrorCode::TooLong.into());
    }
    Ok(s.to_string())
}

fn clean_place(s: &str) -> Result<String, StoreError> {
    let s = s.trim();
    if s.chars().count() > 200 || s.chars().any(char::is_control) {
        return Err(ErrorCode::TooLong.into());
    }
    Ok(s.to_string())
}

const HOLDER_COLUMNS: &str =
    "id, handle, kind, display_name, legal_rep, phone_enc, verified_at, disabled";

/// One recorded confirmation of an applicant's identity, as its subject sees it on
/// 谁用了我的数据 (their name, ID number and phone were checked: a use of personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationEntry {
    pub at: i64,
    /// `in_person`, `external` or `register`.
    pub source: String,
    /// The staff member's or the verifier's name.
    pub verifier: String,
    /// The counter, service point or system.
    pub place: String,
    /// The document checked (a key of [`DOCUMENTS`]) or the source's name.
    pub document: String,
}

impl Store {
    /// Every confirmation of the applicant's identity, newest first.
    pub async fn identity_verifications_of(
        &self,
        applicant_id: i64,
    ) -> Result<Vec<VerificationEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT created_at, source, verifier, place, document FROM identity_verifications \
             WHERE applicant_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(applicant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(VerificationEntry {
                    at: get_i64(r, "created_at")?,
                    source: crate::rows::get_str(r, "source")?,
                    verifier: crate::rows::get_str(r, "verifier")?,
                    place: crate::rows::get_str(r, "place")?,
                    document: crate::rows::get_str(r, "document")?,
                })
            })
            .collect()
    }

    /// Whether the applicant's identity is verified.
    pub async fn identity_verified(&self, applicant_id: i64) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT verified_at FROM applicants WHERE id = $1")
            .bind(applicant_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => get_opt_i64(&r, "verified_at")?.is_some(),
            None => false,
        })
    }

    /// Who holds `claim`'s ID number, and whether name and phone are the claim's.
    pub async fn identity_holder(&self, claim: &IdentityClaim) -> Result<Holder, StoreError> {
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let idx = APPLICANT_ID_NUMBER
            .index(keys, &claim.id.reveal())
            .ok_or(StoreError::NoKeys)?;
        let sql = format!("SELECT {HOLDER_COLUMNS} FROM applicants WHERE id_number_idx = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(idx)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else {
            return Ok(Holder::Nobody);
        };
        self.holder_of(&r, claim)
    }

    fn holder_of(
        &self,
        r: &sqlx::any::AnyRow,
        claim: &IdentityClaim,
    ) -> Result<Holder, StoreError> {
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let applicant = applicant_of(r)?;
        let phone = get_opt_str(r, "phone_enc")?
            .map(|v| APPLICANT_PHONE.open(keys, applicant.id, &v))
            .transpose()?;
        let verified = get_opt_i64(r, "verified_at")?.is_some();
        let same = applicant.display_name == clean(&claim.name)?
            && phone.as_deref() == Some(claim.phone.reveal())
            && get_i64(r, "disabled")? == 0;
        Ok(if same {
            Holder::Matches {
                applicant,
                verified,
            }
        } else {
            Holder::Differs { verified }
        })
    }

    /// Records a confirmed identity, in one transaction: the account holding the number is
    /// verified when its name and phone are the claim's; an unverified account with another
    /// name or phone is detached and the owner registered (verified, no password); a verified
    /// account with another name or phone is `identity_conflict` (nothing changes).
    pub async fn verify_identity(
        &self,
        claim: &IdentityClaim,
        record: &VerificationRecord,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<Verified, StoreError> {
        let name = clean(&claim.name)?;
        let legal_rep = match (&claim.id, claim.legal_rep.as_deref().map(str::trim)) {
            (ApplicantId::Organisation(_), Some(r)) if !r.is_empty() => Some(clean(r)?),
            (ApplicantId::Organisation(_), _) => return Err(ErrorCode::Required.into()),
            (ApplicantId::Person(_), _) => None,
        };
        let place = clean_place(&record.place)?;
        let document = clean(&record.document)?;
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let idx = APPLICANT_ID_NUMBER
            .index(keys, &claim.id.reveal())
            .ok_or(StoreError::NoKeys)?;
        let mut tx = self.begin_write().await?;
        let sql = format!("SELECT {HOLDER_COLUMNS} FROM applicants WHERE id_number_idx = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(idx.clone())
            .fetch_optional(&mut *tx)
            .await?;
        let mut detached = None;
        let mut confirmed = None;
        if let Some(r) = &row {
            match self.holder_of(r, claim)? {
                Holder::Matches { applicant, .. } => confirmed = Some(applicant),
                Holder::Differs { verified: true } => {
                    return Err(ErrorCode::IdentityConflict.into());
                }
                Holder::Differs { verified: false } => {
                    let squatter = applicant_of(r)?;
                    // Frees the number; the encrypted value stays for the record.
                    sqlx::query(
                        "UPDATE applicants SET id_number_idx = NULL, disabled = 1, detached_at = $1 \
                         WHERE id = $2",
                    )
                    .bind(now_ms)
                    .bind(squatter.id)
                    .execute(&mut *tx)
                    .await?;
                    end_all_in::<ApplicantSessions>(&mut tx, squatter.id).await?;
                    let event = actor.event(
                        "identity.detach",
                        format!("applicant:{}", squatter.handle),
                        serde_json::json!({ "reason": "verified_owner", "source": record.source.key() })
                            .to_string(),
                    );
                    append_in(&mut tx, now_ms, &event).await?;
                    detached = Some(squatter.handle);
                }
                Holder::Nobody => {}
            }
        }
        let outcome = match confirmed {
            Some(a) => Verified::Confirmed(a),
            None => {
                // A new account for the owner: no password until they set one by SMS reset.
                let (id, handle) = crate::applicants::insert_applicant_in(
                    &mut tx,
                    keys,
                    &crate::applicants::NewRow {
                        idx: &idx,
                        id: &claim.id,
                        name: &name,
                        legal_rep: legal_rep.as_deref(),
                        password_hash: "!",
                        phone: &claim.phone,
                    },
                    now_ms,
                )
                .await?;
                let applicant = Applicant {
                    id,
                    handle,
                    kind: claim.id.kind(),
                    display_name: name,
                    legal_rep,
                };
                match detached {
                    Some(detached) => Verified::Reclaimed {
                        applicant,
                        detached,
                    },
                    None => Verified::Registered(applicant),
                }
            }
        };
        let applicant = outcome.applicant();
        sqlx::query("UPDATE applicants SET verified_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(applicant.id)
            .execute(&mut *tx)
            .await?;
        let checked = Checked {
            record,
            place: &place,
            document: &document,
        };
        record_in(&mut tx, applicant, &checked, outcome.key(), actor, now_ms).await?;
        tx.commit().await?;
        self.auth_changed();
        Ok(outcome)
    }

    /// Records that a verifier confirmed the name, ID number and phone an account holds
    /// (online verification of one's own account: nobody else's account is touched).
    pub async fn verify_own_account(
        &self,
        applicant: &Applicant,
        record: &VerificationRecord,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let place = clean_place(&record.place)?;
        let document = clean(&record.document)?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE applicants SET verified_at = $1 WHERE id = $2 AND disabled = 0 \
             AND id_number_idx IS NOT NULL",
        )
        .bind(now_ms)
        .bind(applicant.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(ErrorCode::NotFound.into());
        }
        let checked = Checked {
            record,
            place: &place,
            document: &document,
        };
        record_in(&mut tx, applicant, &checked, "confirmed", actor, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A verification's record with its place and document cleaned.
struct Checked<'a> {
    record: &'a VerificationRecord,
    place: &'a str,
    document: &'a str,
}

/// Records one confirmation of `applicant`'s identity and its audit entry, in `tx`.
async fn record_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    applicant: &Applicant,
    c: &Checked<'_>,
    outcome: &str,
    actor: &Actor,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO identity_verifications \
         (applicant_id, source, verifier, staff_id, place, document, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(applicant.id)
    .bind(c.record.source.key())
    .bind(c.record.verifier.clone())
    .bind(c.record.staff_id)
    .bind(c.place.to_string())
    .bind(c.document.to_string())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    let event = actor.event(
        "identity.verify",
        format!("applicant:{}", applicant.handle),
        serde_json::json!({
            "source": c.record.source.key(),
            "document": c.document,
            "place": c.place,
            "outcome": outcome,
        })
        .to_string(),
    );
    append_in(tx, now_ms, &event).await?;
    Ok(())
}

/// The claim an existing account makes (its own name, number and phone), for a verifier.
impl Store {
    pub async fn identity_claim_of(
        &self,
        applicant: &Applicant,
    ) -> Result<Option<IdentityClaim>, StoreError> {
        let Some(c) = self.applicant_contact(applicant.id).await? else {
            return Ok(None);
        };
        let (Ok(id), Ok(phone)) = (ApplicantId::parse(&c.id_number), Phone::parse(&c.phone)) else {
            return Ok(None);
        };
        Ok(Some(IdentityClaim {
            id,
            name: applicant.display_name.clone(),
            legal_rep: applicant.legal_rep.clone(),
            phone,
        }))
    }
}
