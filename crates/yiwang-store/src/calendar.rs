//! The official working calendar: holidays and adjusted working days, one row per day.
//! Imports are idempotent upserts; an import that changes something is audited.

use crate::audit::Actor;
use crate::rows::{get_str, parse_stored, value_groups};
use crate::{Store, StoreError};
use serde::Serialize;
use std::collections::HashMap;
use yiwang_domain::ErrorCode;
use yiwang_domain::calendar::{Calendar, CalendarDay, CivilDate, DayKind};

/// What a calendar import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CalendarImportSummary {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
}

const CHUNK: usize = 100;
const MAX_NAME_CHARS: usize = 100;
const MAX_SOURCE_CHARS: usize = 200;

fn day_from(row: &sqlx::any::AnyRow) -> Result<CalendarDay, StoreError> {
    let day = get_str(row, "day")?;
    let kind = get_str(row, "kind")?;
    Ok(CalendarDay {
        day: parse_stored("day", &day, CivilDate::parse)?,
        kind: parse_stored("kind", &kind, |k| DayKind::from_key(k).ok_or(()))?,
        name: get_str(row, "name")?,
    })
}

impl Store {
    /// Inserts or updates calendar days in one transaction. Importing the same days again
    /// changes nothing (and writes no audit entry). Days not in `days` are left as they are.
    pub async fn upsert_calendar_days(
        &self,
        days: &[CalendarDay],
        source: &str,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<CalendarImportSummary, StoreError> {
        let source = source.trim();
        if source.chars().count() > MAX_SOURCE_CHARS
            || days
                .iter()
                .any(|d| d.name.trim().is_empty() || d.name.chars().count() > MAX_NAME_CHARS)
        {
            return Err(ErrorCode::InvalidInput.into());
        }
        // The last entry for a day wins, as in `Calendar::new`.
        let mut wanted: Vec<&CalendarDay> = Vec::with_capacity(days.len());
        let mut seen: HashMap<CivilDate, usize> = HashMap::new();
        for d in days {
            match seen.get(&d.day) {
                Some(&i) => wanted[i] = d,
                None => {
                    seen.insert(d.day, wanted.len());
                    wanted.push(d);
                }
            }
        }
        let mut tx = self.begin_write().await?;
        let existing: HashMap<String, (String, String)> =
            sqlx::query("SELECT day, kind, name FROM calendar_days")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        get_str(r, "day")?,
                        (get_str(r, "kind")?, get_str(r, "name")?),
                    ))
                })
                .collect::<Result<_, StoreError>>()?;
        let mut summary = CalendarImportSummary::default();
        let mut writes = Vec::new();
        for d in wanted {
            let key = d.day.to_string();
            let name = d.name.trim();
            match existing.get(&key) {
                Some((k, n)) if k == d.kind.key() && n == name => summary.unchanged += 1,
                Some(_) => {
                    summary.changed += 1;
                    writes.push((key, d.kind, name));
                }
                None => {
                    summary.added += 1;
                    writes.push((key, d.kind, name));
                }
            }
        }
        for chunk in writes.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO calendar_days (day, kind, name, source) VALUES {} \
                 ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                 source = excluded.source",
                value_groups(chunk.len(), 4)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (day, kind, name) in chunk {
                q = q
                    .bind(day.clone())
                    .bind(kind.key())
                    .bind(name.to_string())
                    .bind(source.to_string());
            }
            q.execute(&mut *tx).await?;
        }
        if !writes.is_empty() {
            let detail = serde_json::json!({
                "source": source,
                "added": summary.added,
                "changed": summary.changed,
                "unchanged": summary.unchanged,
                "first": writes.first().map(|w| w.0.clone()),
                "last": writes.last().map(|w| w.0.clone()),
            });
            let event = actor.event("calendar.import", "calendar", detail.to_string());
            crate::audit::append_in(&mut tx, now_ms, &event).await?;
        }
        tx.commit().await?;
        Ok(summary)
    }

    /// Every stored calendar day, in date order.
    pub async fn calendar_days(&self) -> Result<Vec<CalendarDay>, StoreError> {
        sqlx::query("SELECT day, kind, name FROM calendar_days ORDER BY day")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(day_from)
            .collect()
    }

    /// The working calendar built from the stored days (weekends only when none are stored).
    pub async fn calendar(&self) -> Result<Calendar, StoreError> {
        Ok(Calendar::from_days(&self.calendar_days().await?))
    }
}
