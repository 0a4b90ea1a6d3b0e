//! The built-in registers (基础库): population, legal entities and e-licences, written by whole
//! imports and read by the strict identity match.
//!
//! An import takes records already checked by `yiwang_domain::registers::read_rows` (a bad file
//! never gets here) and upserts them all in ONE transaction with the import run and its audit
//! entry: a failure half-way leaves the register as it was. Personal data is sealed like
//! applicants' columns (row id in the associated data, blind index for lookup). Every lookup is
//! an audit entry naming the purpose, whatever its result.

use crate::audit::{Actor, append_in};
use crate::pii::{PiiColumn, PiiKind};
use crate::rows::{get_i64, get_opt_str, get_str, parse_stored};
use crate::{Store, StoreError};
use sqlx::any::AnyRow;
use yiwang_crypto::KeyRing;
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::ApplicantId;
use yiwang_domain::codes::{Phone, ResidentId};
use yiwang_domain::enums::CodeSet;
use yiwang_domain::registers::{
    Entity, EntityStatus, Licence, LicenceStatus, Match, Person, RegisterKind, RegisterRecord, Sex,
    unique_match,
};
use yiwang_domain::{CreditCode, ErrorCode, RegionCode};

const fn col(
    table: &'static str,
    field: &'static str,
    enc_column: &'static str,
    idx_column: Option<&'static str>,
    kind: PiiKind,
) -> PiiColumn {
    PiiColumn {
        table,
        id_column: "id",
        field,
        enc_column,
        idx_column,
        kind,
    }
}

pub const PERSON_ID_NUMBER: PiiColumn = col(
    "register_people",
    "id_number",
    "id_number_enc",
    Some("id_number_idx"),
    PiiKind::ResidentId,
);
pub const PERSON_NAME: PiiColumn = col("register_people", "name", "name_enc", None, PiiKind::Text);
pub const PERSON_BIRTH_DATE: PiiColumn = col(
    "register_people",
    "birth_date",
    "birth_date_enc",
    None,
    PiiKind::Text,
);
pub const PERSON_ADDRESS: PiiColumn = col(
    "register_people",
    "address",
    "address_enc",
    None,
    PiiKind::Text,
);
pub const PERSON_PHONE: PiiColumn = col(
    "register_people",
    "phone",
    "phone_enc",
    None,
    PiiKind::Phone,
);
pub const ENTITY_REP_NAME: PiiColumn = col(
    "register_entities",
    "legal_rep_name",
    "legal_rep_name_enc",
    None,
    PiiKind::Text,
);
pub const ENTITY_REP_ID: PiiColumn = col(
    "register_entities",
    "legal_rep_id",
    "legal_rep_id_enc",
    Some("legal_rep_id_idx"),
    PiiKind::ResidentId,
);
pub const LICENCE_HOLDER: PiiColumn = col(
    "register_licences",
    "holder",
    "holder_enc",
    Some("holder_idx"),
    PiiKind::ResidentId,
);
pub const LICENCE_HOLDER_NAME: PiiColumn = col(
    "register_licences",
    "holder_name",
    "holder_name_enc",
    None,
    PiiKind::Text,
);

/// One import run as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterImport {
    pub id: i64,
    pub kind: RegisterKind,
    pub rows: i64,
    pub actor: String,
    pub at_ms: i64,
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

fn sealed(col: &PiiColumn, keys: &KeyRing, row: i64, v: &str) -> Result<String, StoreError> {
    Ok(col.seal(keys, row, v)?.0)
}

fn opened(
    col: &PiiColumn,
    keys: &KeyRing,
    row: i64,
    r: &AnyRow,
) -> Result<Option<String>, StoreError> {
    get_opt_str(r, col.enc_column)?
        .map(|v| col.open(keys, row, &v))
        .transpose()
}

fn required(col: &PiiColumn, keys: &KeyRing, row: i64, r: &AnyRow) -> Result<String, StoreError> {
    opened(col, keys, row, r)?.ok_or_else(|| StoreError::Corrupt(format!("{} empty", col.name())))
}

fn date(col: &str, v: &str) -> Result<CivilDate, StoreError> {
    parse_stored(col, v, CivilDate::parse)
}

impl Store {
    fn register_keys(&self) -> Result<&KeyRing, StoreError> {
        self.keys().ok_or(StoreError::NoKeys)
    }

    /// Upserts every record into register `kind` in one transaction, with the import run and
    /// its audit entry. A record of another register is refused before anything is written.
    pub async fn import_register(
        &self,
        kind: RegisterKind,
        records: &[RegisterRecord],
        actor: &Actor,
        now_ms: i64,
    ) -> Result<RegisterImport, StoreError> {
        let matches_kind = |r: &RegisterRecord| {
            matches!(
                (kind, r),
                (RegisterKind::Population, RegisterRecord::Person(_))
                    | (RegisterKind::LegalEntity, RegisterRecord::Entity(_))
                    | (RegisterKind::Licence, RegisterRecord::Licence(_))
            )
        };
        if !records.iter().all(matches_kind) {
            return Err(ErrorCode::InvalidInput.into());
        }
        let keys = self.register_keys()?;
        let rows = i64::try_from(records.len()).map_err(|_| ErrorCode::TooLong)?;
        let mut tx = self.begin_write().await?;
        let run = sqlx::query(
            "INSERT INTO register_imports (register, rows_written, actor, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(kind.key())
        .bind(rows)
        .bind(actor.name.clone())
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        let run = get_i64(&run, "id")?;
        for r in records {
            match r {
                RegisterRecord::Person(p) => upsert_person(&mut tx, keys, p, run, now_ms).await?,
                RegisterRecord::Entity(e) => upsert_entity(&mut tx, keys, e, run, now_ms).await?,
                RegisterRecord::Licence(l) => upsert_licence(&mut tx, keys, l, run, now_ms).await?,
            }
        }
        let event = actor.event(
            "register.import",
            format!("register:{}", kind.key()),
            format!("run={run}; rows={rows}"),
        );
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(RegisterImport {
            id: run,
            kind,
            rows,
            actor: actor.name.clone(),
            at_ms: now_ms,
        })
    }

    /// The import runs of register `kind`, newest first.
    pub async fn register_imports(
        &self,
        kind: RegisterKind,
    ) -> Result<Vec<RegisterImport>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, rows_written, actor, created_at FROM register_imports \
             WHERE register = $1 ORDER BY id DESC",
        )
        .bind(kind.key())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RegisterImport {
                    id: get_i64(r, "id")?,
                    kind,
                    rows: get_i64(r, "rows_written")?,
                    actor: get_str(r, "actor")?,
                    at_ms: get_i64(r, "created_at")?,
                })
            })
            .collect()
    }

    /// The person with this ID number AND this exact name, or no match; audited with the
    /// purpose whatever the result.
    pub async fn find_person(
        &self,
        id: &ResidentId,
        name: &str,
        actor: &Actor,
        purpose: &str,
        now_ms: i64,
    ) -> Result<Match<Person>, StoreError> {
        let keys = self.register_keys()?;
        let idx = PERSON_ID_NUMBER
            .index(keys, id.reveal())
            .ok_or(StoreError::NoKeys)?;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, id_number_enc, name_enc, sex, birth_date_enc, address_enc, region_code, \
             phone_enc FROM register_people WHERE id_number_idx = $1",
        )
        .bind(idx)
        .fetch_all(&mut *tx)
        .await?;
        let who = Lookup {
            kind: RegisterKind::Population,
            id: &ApplicantId::Person(id.clone()),
            name,
            actor,
            purpose,
            now_ms,
        };
        match_and_audit(tx, &rows, |r| person_of(keys, r), &who).await
    }

    /// The entity with this credit code AND this exact name, or no match; audited (the legal
    /// representative is personal data).
    pub async fn find_entity(
        &self,
        code: &CreditCode,
        name: &str,
        actor: &Actor,
        purpose: &str,
        now_ms: i64,
    ) -> Result<Match<Entity>, StoreError> {
        let keys = self.register_keys()?;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, credit_code, name, legal_rep_name_enc, legal_rep_id_enc, address, \
             region_code, business_scope, status, established FROM register_entities \
             WHERE credit_code = $1",
        )
        .bind(code.as_str().to_string())
        .fetch_all(&mut *tx)
        .await?;
        let who = Lookup {
            kind: RegisterKind::LegalEntity,
            id: &ApplicantId::Organisation(code.clone()),
            name,
            actor,
            purpose,
            now_ms,
        };
        match_and_audit(tx, &rows, |r| entity_of(keys, r), &who).await
    }

    /// Every licence the register holds for `holder`, by type and number; audited. Whether one
    /// is usable today is [`Licence::status_on`].
    pub async fn licences_of(
        &self,
        holder: &ApplicantId,
        actor: &Actor,
        purpose: &str,
        now_ms: i64,
    ) -> Result<Vec<Licence>, StoreError> {
        let keys = self.register_keys()?;
        let idx = LICENCE_HOLDER
            .index(keys, &holder.reveal())
            .ok_or(StoreError::NoKeys)?;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, licence_type, number, holder_enc, holder_name_enc, issuer, valid_from, \
             valid_until, status FROM register_licences WHERE holder_idx = $1 \
             ORDER BY licence_type, number",
        )
        .bind(idx)
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut ids = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = get_i64(r, "id")?;
            out.push(licence_of(keys, id, r)?);
            ids.push(id.to_string());
        }
        let event = actor.event(
            "register.lookup",
            format!("register:{}", RegisterKind::Licence.key()),
            format!(
                "purpose={purpose}; found={}; rows={}",
                out.len(),
                ids.join(",")
            ),
        );
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// A record with its row id, so the audit entry can name the row that was read.
/// One identity lookup in a register: what is asked, by whom and why.
struct Lookup<'a> {
    kind: RegisterKind,
    id: &'a ApplicantId,
    name: &'a str,
    actor: &'a Actor,
    purpose: &'a str,
    now_ms: i64,
}

/// The candidate `rows` (read in `tx` by the identity's blind index or code) decoded, matched
/// strictly on identity and name, the lookup audited whatever the result, then committed.
async fn match_and_audit<T: yiwang_domain::registers::Identified>(
    mut tx: Tx,
    rows: &[AnyRow],
    decode: impl Fn(&AnyRow) -> Result<T, StoreError>,
    who: &Lookup<'_>,
) -> Result<Match<T>, StoreError> {
    let mut found = Vec::with_capacity(rows.len());
    for r in rows {
        found.push(Keyed((get_i64(r, "id")?, decode(r)?)));
    }
    let m = unique_match(found, who.id, who.name);
    audit_lookup(&mut tx, who.actor, who.kind, &m, who.purpose, who.now_ms).await?;
    tx.commit().await?;
    Ok(unkey(m))
}

struct Keyed<T>((i64, T));

impl<T: yiwang_domain::registers::Identified> yiwang_domain::registers::Identified for Keyed<T> {
    fn identity(&self) -> String {
        self.0.1.identity()
    }
    fn name(&self) -> &str {
        self.0.1.name()
    }
}

fn unkey<T>(m: Match<Keyed<T>>) -> Match<T> {
    match m {
        Match::One(Keyed((_, t))) => Match::One(t),
        Match::None => Match::None,
        Match::Ambiguous(n) => Match::Ambiguous(n),
    }
}

async fn audit_lookup<T>(
    tx: &mut Tx,
    actor: &Actor,
    kind: RegisterKind,
    m: &Match<Keyed<T>>,
    purpose: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let (result, rows) = match m {
        Match::One(Keyed((id, _))) => ("one", id.to_string()),
        Match::None => ("none", String::new()),
        Match::Ambiguous(n) => ("ambiguous", n.to_string()),
    };
    let event = actor.event(
        "register.lookup",
        format!("register:{}", kind.key()),
        format!("purpose={purpose}; match={result}; rows={rows}"),
    );
    append_in(tx, now_ms, &event).await?;
    Ok(())
}

async fn upsert_person(
    tx: &mut Tx,
    keys: &KeyRing,
    p: &Person,
    run: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    let idx = PERSON_ID_NUMBER
        .index(keys, p.id.reveal())
        .ok_or(StoreError::NoKeys)?;
    let row = sqlx::query(
        "INSERT INTO register_people (id_number_idx, sex, region_code, import_id, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id_number_idx) DO UPDATE SET \
         sex = excluded.sex, region_code = excluded.region_code, import_id = excluded.import_id, \
         updated_at = excluded.updated_at RETURNING id",
    )
    .bind(idx)
    .bind(p.sex.key())
    .bind(p.region.as_str().to_string())
    .bind(run)
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?;
    let id = get_i64(&row, "id")?;
    let phone = p
        .phone
        .as_ref()
        .map(|ph| sealed(&PERSON_PHONE, keys, id, ph.reveal()))
        .transpose()?;
    sqlx::query(
        "UPDATE register_people SET id_number_enc = $1, name_enc = $2, birth_date_enc = $3, \
         address_enc = $4, phone_enc = $5 WHERE id = $6",
    )
    .bind(sealed(&PERSON_ID_NUMBER, keys, id, p.id.reveal())?)
    .bind(sealed(&PERSON_NAME, keys, id, &p.name)?)
    .bind(sealed(
        &PERSON_BIRTH_DATE,
        keys,
        id,
        &p.birth_date.to_string(),
    )?)
    .bind(sealed(&PERSON_ADDRESS, keys, id, &p.address)?)
    .bind(phone)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn upsert_entity(
    tx: &mut Tx,
    keys: &KeyRing,
    e: &Entity,
    run: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    let row = sqlx::query(
        "INSERT INTO register_entities (credit_code, name, address, region_code, \
         business_scope, status, established, import_id, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (credit_code) DO UPDATE SET \
         name = excluded.name, address = excluded.address, region_code = excluded.region_code, \
         business_scope = excluded.business_scope, status = excluded.status, \
         established = excluded.established, import_id = excluded.import_id, \
         updated_at = excluded.updated_at RETURNING id",
    )
    .bind(e.code.as_str().to_string())
    .bind(e.name.clone())
    .bind(e.address.clone())
    .bind(e.region.as_str().to_string())
    .bind(e.business_scope.clone())
    .bind(e.status.key())
    .bind(e.established.to_string())
    .bind(run)
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?;
    let id = get_i64(&row, "id")?;
    let (rep_id, rep_idx) = ENTITY_REP_ID.seal(keys, id, e.legal_rep_id.reveal())?;
    sqlx::query(
        "UPDATE register_entities SET legal_rep_name_enc = $1, legal_rep_id_enc = $2, \
         legal_rep_id_idx = $3 WHERE id = $4",
    )
    .bind(sealed(&ENTITY_REP_NAME, keys, id, &e.legal_rep_name)?)
    .bind(rep_id)
    .bind(rep_idx)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn upsert_licence(
    tx: &mut Tx,
    keys: &KeyRing,
    l: &Licence,
    run: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    let holder = l.holder.reveal();
    let idx = LICENCE_HOLDER
        .index(keys, &holder)
        .ok_or(StoreError::NoKeys)?;
    let row = sqlx::query(
        "INSERT INTO register_licences (licence_type, number, holder_kind, holder_idx, issuer, \
         valid_from, valid_until, status, import_id, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (licence_type, number) DO UPDATE SET holder_kind = excluded.holder_kind, \
         holder_idx = excluded.holder_idx, issuer = excluded.issuer, \
         valid_from = excluded.valid_from, valid_until = excluded.valid_until, \
         status = excluded.status, import_id = excluded.import_id, \
         updated_at = excluded.updated_at RETURNING id",
    )
    .bind(l.licence_type.clone())
    .bind(l.number.clone())
    .bind(l.holder.kind().key())
    .bind(idx)
    .bind(l.issuer.as_str().to_string())
    .bind(l.valid_from.to_string())
    .bind(l.valid_until.map(|d| d.to_string()))
    .bind(l.status.key())
    .bind(run)
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?;
    let id = get_i64(&row, "id")?;
    sqlx::query("UPDATE register_licences SET holder_enc = $1, holder_name_enc = $2 WHERE id = $3")
        .bind(sealed(&LICENCE_HOLDER, keys, id, &holder)?)
        .bind(sealed(&LICENCE_HOLDER_NAME, keys, id, &l.holder_name)?)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn person_of(keys: &KeyRing, r: &AnyRow) -> Result<Person, StoreError> {
    let id = get_i64(r, "id")?;
    let rid = required(&PERSON_ID_NUMBER, keys, id, r)?;
    let sex = get_str(r, "sex")?;
    let birth = required(&PERSON_BIRTH_DATE, keys, id, r)?;
    let region = get_str(r, "region_code")?;
    let phone = opened(&PERSON_PHONE, keys, id, r)?
        .map(|p| parse_stored("phone", &p, Phone::parse))
        .transpose()?;
    Person::new(
        parse_stored("id_number", &rid, ResidentId::parse)?,
        &required(&PERSON_NAME, keys, id, r)?,
        parse_stored("sex", &sex, |s| Sex::from_key(s).ok_or(()))?,
        date("birth_date", &birth)?,
        &required(&PERSON_ADDRESS, keys, id, r)?,
        parse_stored("region_code", &region, RegionCode::parse)?,
        phone,
    )
    .map_err(|(field, _)| StoreError::Corrupt(format!("register_people.{field}#{id}")))
}

fn entity_of(keys: &KeyRing, r: &AnyRow) -> Result<Entity, StoreError> {
    let id = get_i64(r, "id")?;
    let code = get_str(r, "credit_code")?;
    let rep_id = required(&ENTITY_REP_ID, keys, id, r)?;
    let region = get_str(r, "region_code")?;
    let status = get_str(r, "status")?;
    Ok(Entity {
        code: parse_stored("credit_code", &code, CreditCode::parse)?,
        name: get_str(r, "name")?,
        legal_rep_name: required(&ENTITY_REP_NAME, keys, id, r)?,
        legal_rep_id: parse_stored("legal_rep_id", &rep_id, ResidentId::parse)?,
        address: get_str(r, "address")?,
        region: parse_stored("region_code", &region, RegionCode::parse)?,
        business_scope: get_str(r, "business_scope")?,
        status: parse_stored("status", &status, |s| EntityStatus::from_key(s).ok_or(()))?,
        established: date("established", &get_str(r, "established")?)?,
    })
}

fn licence_of(keys: &KeyRing, id: i64, r: &AnyRow) -> Result<Licence, StoreError> {
    let holder = required(&LICENCE_HOLDER, keys, id, r)?;
    let issuer = get_str(r, "issuer")?;
    let status = get_str(r, "status")?;
    Ok(Licence {
        holder: parse_stored("holder", &holder, ApplicantId::parse)?,
        holder_name: required(&LICENCE_HOLDER_NAME, keys, id, r)?,
        licence_type: get_str(r, "licence_type")?,
        number: get_str(r, "number")?,
        issuer: parse_stored("issuer", &issuer, CreditCode::parse)?,
        valid_from: date("valid_from", &get_str(r, "valid_from")?)?,
        valid_until: get_opt_str(r, "valid_until")?
            .map(|d| date("valid_until", &d))
            .transpose()?,
        status: parse_stored("status", &status, |s| LicenceStatus::from_key(s).ok_or(()))?,
    })
}
