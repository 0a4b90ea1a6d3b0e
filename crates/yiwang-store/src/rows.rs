//! Small helpers for building statements and decoding rows through the `Any` driver.

use crate::StoreError;
use sqlx::Row;
use sqlx::any::AnyRow;

/// `$start, $start+1, …` for `n` values: the only dynamic SQL we build, placeholders only.
pub fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows of `(…)` groups for a multi-row INSERT: `($1, $2), ($3, $4)`.
pub fn value_groups(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders(r * cols + 1, cols)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn get_str(row: &AnyRow, col: &str) -> Result<String, StoreError> {
    Ok(row.try_get::<String, _>(col)?)
}
pub fn get_opt_str(row: &AnyRow, col: &str) -> Result<Option<String>, StoreError> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}
pub fn get_i64(row: &AnyRow, col: &str) -> Result<i64, StoreError> {
    Ok(row.try_get::<i64, _>(col)?)
}
pub fn get_opt_i64(row: &AnyRow, col: &str) -> Result<Option<i64>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

/// Parses a stored value back into a checked type; a failure means the database was altered
/// outside the application.
pub fn parse_stored<T, E>(
    col: &str,
    v: &str,
    f: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    f(v).map_err(|_| StoreError::Corrupt(format!("{col}={v}")))
}
