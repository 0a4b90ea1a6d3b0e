//! Register imports (基础库): a whole CSV file is read and checked first (every problem listed by
//! row and field); only a clean file reaches the store, which writes it in one transaction.

use yiwang_domain::error::{ErrorCode, Issue};
use yiwang_domain::registers::{REGISTER_SHEET, RegisterKind, read_rows};
use yiwang_store::registers::RegisterImport;
use yiwang_store::{Actor, Store, StoreError};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Largest register file accepted in one import, in bytes.
pub const MAX_FILE_BYTES: usize = 512 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum RegisterImportError {
    /// The file has problems; nothing was written.
    #[error("register file refused: {} problems", .0.len())]
    Refused(Vec<Issue>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A header row and the data rows numbered as a spreadsheet shows them (header = row 1).
pub type Sheet = (Vec<String>, Vec<(u64, Vec<String>)>);

/// Reads a UTF-8 CSV file (a BOM is accepted). Cells that are not UTF-8 are listed as problems.
pub fn read_csv(bytes: &[u8]) -> Result<Sheet, Vec<Issue>> {
    let at = |code: ErrorCode, row: u64| Issue::new(code).at(REGISTER_SHEET, row);
    if bytes.len() > MAX_FILE_BYTES {
        return Err(vec![Issue::new(ErrorCode::FileTooLarge)]);
    }
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut issues = Vec::new();
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut number: u64 = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                number += 1;
                let mut cells = Vec::with_capacity(record.len());
                for field in record.iter() {
                    match std::str::from_utf8(field) {
                        Ok(s) => cells.push(s.to_string()),
                        Err(_) => {
                            issues.push(at(ErrorCode::InvalidUtf8, number));
                            cells.push(String::new());
                        }
                    }
                }
                if cells.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                match header {
                    None => header = Some(cells),
                    Some(_) => rows.push((number, cells)),
                }
            }
            Err(e) => {
                issues.push(at(ErrorCode::MalformedFile, number + 1).detail(e.to_string()));
                break;
            }
        }
    }
    let Some(header) = header else {
        return Err(vec![Issue::new(ErrorCode::EmptyFile)]);
    };
    if issues.is_empty() {
        Ok((header, rows))
    } else {
        Err(issues)
    }
}

/// Imports a whole CSV file into register `kind`: all rows or none.
pub async fn import_csv(
    store: &Store,
    kind: RegisterKind,
    bytes: &[u8],
    actor: &Actor,
    now_ms: i64,
) -> Result<RegisterImport, RegisterImportError> {
    let (header, rows) = read_csv(bytes).map_err(RegisterImportError::Refused)?;
    let records = read_rows(kind, &header, &rows).map_err(RegisterImportError::Refused)?;
    Ok(store.import_register(kind, &records, actor, now_ms).await?)
}

/// The demo registers of 津南区 (fictitious people, businesses and licences).
pub const DEMO_REGISTERS: [(RegisterKind, &[u8]); 3] = [
    (
        RegisterKind::Population,
        include_bytes!("../demo/registers/population.csv"),
    ),
    (
        RegisterKind::LegalEntity,
        include_bytes!("../demo/registers/legal_entities.csv"),
    ),
    (
        RegisterKind::Licence,
        include_bytes!("../demo/registers/licences.csv"),
    ),
];

/// Loads the demo registers unless already loaded; needs the data keys (returns false without
/// them, as the demo applicant does).
pub async fn load_demo_registers(store: &Store, now_ms: i64) -> Result<bool, RegisterImportError> {
    if store.keys().is_none() {
        return Ok(false);
    }
    let actor = Actor::system("demo");
    for (kind, bytes) in DEMO_REGISTERS {
        if store.register_imports(kind).await?.is_empty() {
            import_csv(store, kind, bytes, &actor, now_ms).await?;
        }
    }
    Ok(true)
}

/// The population and legal-entity registers as a source of 实名核验: a claim is confirmed when
/// the ID number (or credit code) and the exact name match one record AND the register holds
/// the same phone (persons) or the same legal representative (organisations, whose phone no
/// register holds, so the phone stays the account's own). Anything else is a mismatch, never a
/// guess; every lookup is audited with the purpose.
pub struct RegisterVerifier {
    store: Store,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl RegisterVerifier {
    pub fn new(store: Store, clock: std::sync::Arc<dyn crate::clock::Clock>) -> Self {
        Self { store, clock }
    }

    async fn verdict(
        &self,
        claim: &yiwang_store::identity::IdentityClaim,
    ) -> Result<crate::identity::Verdict, StoreError> {
        use crate::identity::Verdict;
        use yiwang_domain::case::ApplicantId;
        let actor = Actor::system("identity");
        let now = self.clock.now_ms();
        let purpose = "实名核验";
        let confirmed = |reference: String| Verdict::Confirmed { reference };
        Ok(match &claim.id {
            ApplicantId::Person(id) => {
                match self
                    .store
                    .find_person(id, &claim.name, &actor, purpose, now)
                    .await?
                    .one()
                {
                    Some(p) if p.phone.as_ref() == Some(&claim.phone) => {
                        confirmed(RegisterKind::Population.key().into())
                    }
                    _ => Verdict::Mismatch,
                }
            }
            ApplicantId::Organisation(code) => {
                let rep = claim
                    .legal_rep
                    .as_deref()
                    .map(yiwang_domain::registers::clean_name);
                match self
                    .store
                    .find_entity(code, &claim.name, &actor, purpose, now)
                    .await?
                    .one()
                {
                    Some(e)
                        if e.status == yiwang_domain::registers::EntityStatus::Active
                            && rep == Some(Ok(e.legal_rep_name.clone())) =>
                    {
                        confirmed(RegisterKind::LegalEntity.key().into())
                    }
                    _ => Verdict::Mismatch,
                }
            }
        })
    }
}

impl crate::identity::IdentityVerifier for RegisterVerifier {
    fn name(&self) -> &str {
        "register"
    }
    fn source(&self) -> yiwang_store::identity::VerificationSource {
        yiwang_store::identity::VerificationSource::Register
    }
    fn check<'a>(
        &'a self,
        claim: &'a yiwang_store::identity::IdentityClaim,
    ) -> crate::jobs::BoxFuture<'a, Result<crate::identity::Verdict, String>> {
        Box::pin(async move { self.verdict(claim).await.map_err(|e| e.to_string()) })
    }
}
