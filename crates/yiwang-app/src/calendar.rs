//! The official working calendar file (`date,kind,festival`, kind `holiday` or
//! `adjusted_workday`): parsing with every problem reported by row, and the idempotent import.
//! The 2004–2026 data ships in the binary; later years are loaded with `yiwang calendar import`.

use crate::catalog::ImportError;
use std::collections::HashSet;
use yiwang_domain::calendar::{Calendar, CalendarDay, CivilDate, DayKind};
use yiwang_domain::{ErrorCode, Issue};
use yiwang_store::calendar::CalendarImportSummary;
use yiwang_store::{Actor, Store};

/// China's public holidays and adjusted working days, 2004–2026 (State Council notices).
pub const SHIPPED_CALENDAR: &[u8] = include_bytes!("../data/calendar/cn-holidays.csv");
pub const SHIPPED_SOURCE: &str = "cn-holidays.csv";

const MAX_BYTES: usize = 1 << 20;
const COLUMNS: [&str; 3] = ["date", "kind", "festival"];

/// A problem on a data row (no sheet name: the file has one table).
fn issue_at(code: ErrorCode, row: u64) -> Issue {
    let mut i = Issue::new(code);
    i.row = Some(row);
    i
}

/// Parses a calendar file; returns every problem found (row numbers count the header as 1).
pub fn parse_calendar_csv(bytes: &[u8]) -> Result<Vec<CalendarDay>, Vec<Issue>> {
    if bytes.len() > MAX_BYTES {
        return Err(vec![Issue::new(ErrorCode::FileTooLarge)]);
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| vec![Issue::new(ErrorCode::InvalidUtf8)])?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| vec![Issue::new(ErrorCode::MalformedFile).detail(e.to_string())])?
        .clone();
    let mut cols = [0usize; 3];
    let mut issues = Vec::new();
    for (i, name) in COLUMNS.iter().enumerate() {
        let found: Vec<usize> = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| h.trim().eq_ignore_ascii_case(name))
            .map(|(j, _)| j)
            .collect();
        match found.as_slice() {
            [j] => cols[i] = *j,
            [] => issues.push(Issue::new(ErrorCode::MissingColumn).field(name)),
            _ => issues.push(Issue::new(ErrorCode::DuplicateColumn).field(name)),
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i as u64 + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                issues.push(issue_at(ErrorCode::MalformedFile, row).detail(e.to_string()));
                continue;
            }
        };
        let cell = |c: usize| rec.get(cols[c]).unwrap_or("").trim();
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let day = match CivilDate::parse(cell(0)) {
            Ok(d) => Some(d),
            Err(code) => {
                issues.push(issue_at(code, row).field(COLUMNS[0]).detail(cell(0)));
                None
            }
        };
        let kind = DayKind::from_key(cell(1));
        if kind.is_none() {
            issues.push(
                issue_at(ErrorCode::UnknownEnumValue, row)
                    .field(COLUMNS[1])
                    .detail("holiday/adjusted_workday"),
            );
        }
        let name = cell(2);
        if name.is_empty() {
            issues.push(issue_at(ErrorCode::Required, row).field(COLUMNS[2]));
        } else if name.chars().count() > 100 {
            issues.push(issue_at(ErrorCode::TooLong, row).field(COLUMNS[2]));
        }
        let (Some(day), Some(kind)) = (day, kind) else {
            continue;
        };
        if !seen.insert(day) {
            issues.push(
                issue_at(ErrorCode::Conflict, row)
                    .field(COLUMNS[0])
                    .detail(format!("{day} twice")),
            );
        }
        // An adjusted working day only means something on a weekend.
        if kind == DayKind::AdjustedWorkday && !day.is_weekend() {
            issues.push(
                issue_at(ErrorCode::InvalidInput, row)
                    .field(COLUMNS[1])
                    .detail(format!("{day} is a weekday")),
            );
        }
        out.push(CalendarDay {
            day,
            kind,
            name: name.to_string(),
        });
    }
    if issues.is_empty() {
        Ok(out)
    } else {
        Err(issues)
    }
}

/// Parses and stores a calendar file in one transaction; importing it again changes nothing.
pub async fn import_calendar(
    store: &Store,
    bytes: &[u8],
    source: &str,
    actor: &Actor,
    now_ms: i64,
) -> Result<CalendarImportSummary, ImportError> {
    let days = parse_calendar_csv(bytes).map_err(ImportError::Invalid)?;
    Ok(store
        .upsert_calendar_days(&days, source, actor, now_ms)
        .await?)
}

/// Loads the shipped 2004–2026 data (idempotent).
pub async fn import_shipped_calendar(
    store: &Store,
    actor: &Actor,
    now_ms: i64,
) -> Result<CalendarImportSummary, ImportError> {
    import_calendar(store, SHIPPED_CALENDAR, SHIPPED_SOURCE, actor, now_ms).await
}

/// The working calendar from the database; the shipped data when the database has none yet.
pub async fn working_calendar(store: &Store) -> Result<Calendar, ImportError> {
    let days = store.calendar_days().await?;
    if days.is_empty() {
        let shipped = parse_calendar_csv(SHIPPED_CALENDAR).map_err(ImportError::Invalid)?;
        return Ok(Calendar::from_days(&shipped));
    }
    Ok(Calendar::from_days(&days))
}
