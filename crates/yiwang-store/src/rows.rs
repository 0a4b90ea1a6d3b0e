//! Small helpers for building statements and decoding rows through the `Any` driver.

use crate::{Backend, StoreError};
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

/// A JSON array of the values of `columns` (a fixed list of the calling module).
pub(crate) fn json_array(backend: Backend, columns: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_array({columns})"),
        Backend::Postgres => format!("json_build_array({columns})"),
    }
}

/// The aggregate gathering `value` over the rows into a JSON list, as text; `order` is empty or
/// ` ORDER BY …` (SQLite takes it inside the aggregate since 3.44, as PostgreSQL does). Over
/// no rows SQLite gives `[]` and PostgreSQL NULL: decode with [`json_rows`].
pub(crate) fn json_list(backend: Backend, value: &str, order: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_group_array({value}{order})"),
        Backend::Postgres => format!("json_agg({value}{order})::text"),
    }
}

/// Decodes column `col` holding a [`json_list`] (NULL: no rows) into its items.
pub(crate) fn json_rows<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    col: &str,
) -> Result<Vec<T>, StoreError> {
    match get_opt_str(row, col)? {
        None => Ok(Vec::new()),
        Some(list) => {
            serde_json::from_str(&list).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
        }
    }
}
