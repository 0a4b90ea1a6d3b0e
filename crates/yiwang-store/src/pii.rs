//! Personal data at rest: encrypted columns with a blind index, the key ring they need, and key
//! rotation.
//!
//! Each protected value is a pair of TEXT columns: `<name>_enc` holds
//! `<alg>:<key_id>:<base64(nonce‖ciphertext‖tag)>` with associated data `<table>.<field>#<row id>`
//! (a value moved to another column or row fails to decrypt), and `<name>_idx` holds
//! `hmac-sm3:<index_key_id>:<hex>` of the normalised value for exact lookup. A [`PiiColumn`]
//! describes one such pair; every one is listed in [`PII_COLUMNS`] so that rotation reaches it.
//! Applicant and case tables add their columns there and use the same
//! [`PiiColumn::write_in`] / [`PiiColumn::open`] / [`Store::find_rows_by_index`].
//!
//! Reading is split in two on purpose: listings give masked values only ([`Shown`]); the full
//! value comes only from a `reveal_*` call, which appends the audit entry (who, whose data,
//! purpose) in the same transaction as the read.

use crate::audit::{Actor, append_in};
use crate::rows::{get_i64, get_opt_str, get_str, parse_stored};
use crate::{Store, StoreError};
use sqlx::AssertSqlSafe;
use std::collections::BTreeMap;
use std::sync::Arc;
use yiwang_crypto::{KeyRing, field_aad};
use yiwang_domain::codes::{Phone, ResidentId};
use yiwang_domain::enums::CodeSet;
use yiwang_domain::policy::{Grant, Role};
use yiwang_domain::{CreditCode, ErrorCode, RegionCode};

mod rotate;
pub use rotate::{ColumnRotation, RotateSummary};

/// How a value is normalised before its blind index is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PiiKind {
    /// Digits only ([`Phone`]'s form).
    Phone,
    /// 18 characters, upper-case `X` ([`ResidentId`]'s form).
    ResidentId,
    /// Free text (addresses): trimmed; usually without an index.
    Text,
}

impl PiiKind {
    fn label(self) -> &'static str {
        match self {
            PiiKind::Phone => "phone",
            PiiKind::ResidentId => "resident_id",
            PiiKind::Text => "text",
        }
    }
    fn normalise(self, v: &str) -> String {
        match self {
            PiiKind::Phone => v.chars().filter(char::is_ascii_digit).collect(),
            PiiKind::ResidentId => v.trim().to_ascii_uppercase(),
            PiiKind::Text => v.trim().to_string(),
        }
    }
}

/// One encrypted column (and its optional blind index) of one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PiiColumn {
    pub table: &'static str,
    pub id_column: &'static str,
    /// The field name inside the associated data (`users.phone#7`).
    pub field: &'static str,
    pub enc_column: &'static str,
    pub idx_column: Option<&'static str>,
    pub kind: PiiKind,
}

pub const USER_PHONE: PiiColumn = PiiColumn {
    table: "users",
    id_column: "id",
    field: "phone",
    enc_column: "phone_enc",
    idx_column: Some("phone_idx"),
    kind: PiiKind::Phone,
};

pub const USER_ID_NUMBER: PiiColumn = PiiColumn {
    table: "users",
    id_column: "id",
    field: "id_number",
    enc_column: "id_number_enc",
    idx_column: Some("id_number_idx"),
    kind: PiiKind::ResidentId,
};

/// Every encrypted column in the schema; `yiwang keys rotate` walks them all.
pub const PII_COLUMNS: &[PiiColumn] = &[
    USER_PHONE,
    USER_ID_NUMBER,
    crate::applicants::APPLICANT_ID_NUMBER,
    crate::applicants::APPLICANT_PHONE,
    crate::applicant_totp::APPLICANT_TOTP,
    crate::login_steps::USER_TOTP,
    crate::applications::APPLICATION_ANSWERS,
    crate::outbox::OUTBOX_RECIPIENT,
    crate::registers::PERSON_ID_NUMBER,
    crate::registers::PERSON_NAME,
    crate::registers::PERSON_BIRTH_DATE,
    crate::registers::PERSON_ADDRESS,
    crate::registers::PERSON_PHONE,
    crate::registers::ENTITY_REP_NAME,
    crate::registers::ENTITY_REP_ID,
    crate::registers::LICENCE_HOLDER,
    crate::registers::LICENCE_HOLDER_NAME,
];

fn ident_ok(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

impl PiiColumn {
    /// `table.field`, as shown in reports.
    pub fn name(&self) -> String {
        format!("{}.{}", self.table, self.field)
    }

    pub fn aad(&self, row: i64) -> String {
        field_aad(self.table, self.field, row)
    }

    /// The blind index of `value` (None for columns without one).
    pub fn index(&self, keys: &KeyRing, value: &str) -> Option<String> {
        self.idx_column?;
        Some(keys.blind_index(self.kind.label(), &self.kind.normalise(value)))
    }

    /// `(ciphertext, blind index)` of `value` for row `row`.
    pub fn seal(
        &self,
        keys: &KeyRing,
        row: i64,
        value: &str,
    ) -> Result<(String, Option<String>), StoreError> {
        Ok((
            keys.encrypt(&self.aad(row), value)?,
            self.index(keys, value),
        ))
    }

    /// The plaintext of a stored value of row `row`; any mismatch is an error, never garbage.
    pub fn open(&self, keys: &KeyRing, row: i64, stored: &str) -> Result<String, StoreError> {
        Ok(keys.decrypt(&self.aad(row), stored)?)
    }

    /// The column names are compile-time constants; checked anyway before they reach SQL.
    fn checked(&self) -> Result<(), StoreError> {
        let names = [self.table, self.id_column, self.enc_column];
        if names
            .iter()
            .chain(self.idx_column.iter())
            .all(|n| ident_ok(n))
        {
            Ok(())
        } else {
            Err(StoreError::Corrupt(format!("column name {}", self.name())))
        }
    }

    /// Sets (or, with `None`, clears) this column of one row inside `tx`.
    pub async fn write_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        keys: Option<&KeyRing>,
        row: i64,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        self.checked()?;
        let (enc, idx) = match value {
            Some(v) => {
                let (e, i) = self.seal(keys.ok_or(StoreError::NoKeys)?, row, v)?;
                (Some(e), i)
            }
            None => (None, None),
        };
        let (t, e, i) = (self.table, self.enc_column, self.id_column);
        let q = match self.idx_column {
            Some(ic) => sqlx::query(AssertSqlSafe(format!(
                "UPDATE {t} SET {e} = $1, {ic} = $2 WHERE {i} = $3"
            )))
            .bind(enc)
            .bind(idx),
            None => sqlx::query(AssertSqlSafe(format!(
                "UPDATE {t} SET {e} = $1 WHERE {i} = $2"
            )))
            .bind(enc),
        };
        q.bind(row).execute(&mut **tx).await?;
        Ok(())
    }
}

/// Personal data given when an account is created or changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPii {
    pub phone: Option<Phone>,
    pub resident_id: Option<ResidentId>,
}

impl UserPii {
    pub fn is_empty(&self) -> bool {
        self.phone.is_none() && self.resident_id.is_none()
    }
}

/// A protected value as a listing shows it: never the full value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    Empty,
    /// E.g. `138****5678`.
    Masked(String),
    /// Stored, but it cannot be decrypted with the configured keys (or was altered).
    Unreadable,
}

/// A staff account for the console's staff list: personal data masked.
#[derive(Debug, Clone)]
pub struct StaffPii {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    pub grants: Vec<Grant>,
    pub phone: Shown,
    pub resident_id: Shown,
}

/// The full personal data of one account, as returned by an audited reveal.
#[derive(Debug, Clone)]
pub struct RevealedPii {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub phone: Option<Phone>,
    pub resident_id: Option<ResidentId>,
}

impl Store {
    /// This store with `keys` for personal data (from configuration, never the database).
    pub fn with_keys(mut self, keys: Arc<KeyRing>) -> Self {
        self.keys = Some(keys);
        self
    }

    pub fn keys(&self) -> Option<&KeyRing> {
        self.keys.as_deref()
    }

    fn shown<T>(
        &self,
        col: &PiiColumn,
        row: i64,
        stored: Option<String>,
        parse: impl Fn(&str) -> Result<T, ErrorCode>,
        mask: impl Fn(&T) -> String,
    ) -> Shown {
        let Some(stored) = stored else {
            return Shown::Empty;
        };
        let plain = self
            .keys()
            .ok_or(StoreError::NoKeys)
            .and_then(|k| col.open(k, row, &stored));
        match plain.map(|p| parse(&p)) {
            Ok(Ok(v)) => Shown::Masked(mask(&v)),
            Ok(Err(_)) | Err(_) => {
                tracing::warn!(column = %col.name(), row, "personal data cannot be decrypted");
                Shown::Unreadable
            }
        }
    }

    /// Every staff account with its grants, personal data masked.
    pub async fn staff_pii_list(&self) -> Result<Vec<StaffPii>, StoreError> {
        let users = sqlx::query(
            "SELECT id, username, display_name, disabled, phone_enc, id_number_enc \
             FROM users ORDER BY username",
        )
        .fetch_all(&self.pool)
        .await?;
        let grant_rows = sqlx::query(
            "SELECT user_id, role, region_code, department_code FROM role_grants ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut grants: BTreeMap<i64, Vec<Grant>> = BTreeMap::new();
        for r in &grant_rows {
            let role = get_str(r, "role")?;
            grants
                .entry(get_i64(r, "user_id")?)
                .or_default()
                .push(Grant {
                    role: Role::from_key(&role)
                        .ok_or_else(|| StoreError::Corrupt(format!("role={role}")))?,
                    region: match get_opt_str(r, "region_code")? {
                        Some(c) => Some(parse_stored("region_code", &c, RegionCode::parse)?),
                        None => None,
                    },
                    department: match get_opt_str(r, "department_code")? {
                        Some(c) => Some(parse_stored("department_code", &c, CreditCode::parse)?),
                        None => None,
                    },
                });
        }
        let mut out = Vec::with_capacity(users.len());
        for u in &users {
            let id = get_i64(u, "id")?;
            out.push(StaffPii {
                user_id: id,
                username: get_str(u, "username")?,
                display_name: get_str(u, "display_name")?,
                disabled: get_i64(u, "disabled")? != 0,
                grants: grants.remove(&id).unwrap_or_default(),
                phone: self.shown(
                    &USER_PHONE,
                    id,
                    get_opt_str(u, "phone_enc")?,
                    Phone::parse,
                    Phone::masked,
                ),
                resident_id: self.shown(
                    &USER_ID_NUMBER,
                    id,
                    get_opt_str(u, "id_number_enc")?,
                    ResidentId::parse,
                    ResidentId::masked,
                ),
            });
        }
        Ok(out)
    }

    /// Replaces an account's personal data (`None` clears a field); audited as `user.pii.update`
    /// with the names of the fields, never their values.
    pub async fn set_user_pii(
        &self,
        user_id: i64,
        pii: &UserPii,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT username FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::Domain(ErrorCode::NotFound))?;
        let username = get_str(&row, "username")?;
        replace_user_pii_in(&mut tx, self, user_id, pii).await?;
        let detail = serde_json::json!({
            "phone": pii.phone.is_some(),
            "resident_id": pii.resident_id.is_some(),
        });
        let event = actor.event(
            "user.pii.update",
            format!("user:{username}"),
            detail.to_string(),
        );
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The full personal data of one account. The audit entry `pii.reveal` (viewer, whose data,
    /// purpose) is appended in the same transaction as the read: no entry, no data.
    pub async fn reveal_user_pii(
        &self,
        user_id: i64,
        viewer: &Actor,
        purpose: &str,
        now_ms: i64,
    ) -> Result<Option<RevealedPii>, StoreError> {
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let mut tx = self.begin_write().await?;
        let Some(u) = sqlx::query(
            "SELECT id, username, display_name, phone_enc, id_number_enc FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let username = get_str(&u, "username")?;
        let open = |col: &PiiColumn, v: Option<String>| -> Result<Option<String>, StoreError> {
            v.map(|s| col.open(keys, user_id, &s)).transpose()
        };
        let phone = open(&USER_PHONE, get_opt_str(&u, "phone_enc")?)?
            .map(|p| parse_stored("phone_enc", "(decrypted)", |_| Phone::parse(&p)))
            .transpose()?;
        let resident_id = open(&USER_ID_NUMBER, get_opt_str(&u, "id_number_enc")?)?
            .map(|p| parse_stored("id_number_enc", "(decrypted)", |_| ResidentId::parse(&p)))
            .transpose()?;
        let mut fields = Vec::new();
        if phone.is_some() {
            fields.push("phone");
        }
        if resident_id.is_some() {
            fields.push("resident_id");
        }
        let detail = serde_json::json!({ "fields": fields, "purpose": purpose });
        let event = viewer.event("pii.reveal", format!("user:{username}"), detail.to_string());
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(Some(RevealedPii {
            user_id,
            username,
            display_name: get_str(&u, "display_name")?,
            phone,
            resident_id,
        }))
    }

    /// Row ids whose blind index in `col` matches `value` (exact lookup without decrypting).
    pub async fn find_rows_by_index(
        &self,
        col: &PiiColumn,
        value: &str,
    ) -> Result<Vec<i64>, StoreError> {
        col.checked()?;
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let (Some(ic), Some(idx)) = (col.idx_column, col.index(keys, value)) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {id} AS id FROM {t} WHERE {ic} = $1 ORDER BY {id}",
            id = col.id_column,
            t = col.table
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(idx)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| get_i64(r, "id")).collect()
    }

    /// The account with this phone number, if any (the lowest id when several share it).
    pub async fn find_user_by_phone(&self, phone: &Phone) -> Result<Option<i64>, StoreError> {
        Ok(self
            .find_rows_by_index(&USER_PHONE, phone.reveal())
            .await?
            .first()
            .copied())
    }

    pub async fn find_user_by_resident_id(
        &self,
        id: &ResidentId,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self
            .find_rows_by_index(&USER_ID_NUMBER, id.reveal())
            .await?
            .first()
            .copied())
    }
}

/// Writes the personal data of a new account inside `tx` (nothing when none is given).
pub(crate) async fn write_user_pii_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    store: &Store,
    user_id: i64,
    pii: &UserPii,
) -> Result<(), StoreError> {
    if pii.is_empty() {
        return Ok(());
    }
    replace_user_pii_in(tx, store, user_id, pii).await
}

/// Sets both personal-data columns of an account inside `tx` (`None` clears).
async fn replace_user_pii_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    store: &Store,
    user_id: i64,
    pii: &UserPii,
) -> Result<(), StoreError> {
    let keys = store.keys();
    USER_PHONE
        .write_in(tx, keys, user_id, pii.phone.as_ref().map(Phone::reveal))
        .await?;
    USER_ID_NUMBER
        .write_in(
            tx,
            keys,
            user_id,
            pii.resident_id.as_ref().map(ResidentId::reveal),
        )
        .await
}
