//! Multi-row statements: the rows of a whole batch bound into one `VALUES` list, so a grouped
//! write pays one round trip per table rather than one per row (on SQLite through sqlx each
//! statement is a hop to the connection's thread and back; on PostgreSQL a network round trip).

use crate::StoreError;
use crate::rows::value_groups;
use sqlx::any::AnyRow;

/// Parameters per statement: below SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_PARAMS: usize = 30_000;

/// One bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}

/// Rows of `width` values each, to stand for `{values}` in a statement.
#[derive(Debug)]
pub(crate) struct RowSet {
    width: usize,
    args: Vec<Arg>,
}

impl RowSet {
    pub(crate) fn new(width: usize) -> Self {
        Self {
            width: width.max(1),
            args: Vec::new(),
        }
    }

    /// Adds one row; its length must be the set's width.
    pub(crate) fn push(&mut self, row: Vec<Arg>) -> Result<(), StoreError> {
        if row.len() != self.width {
            return Err(StoreError::Corrupt(format!(
                "row of {} values for {} columns",
                row.len(),
                self.width
            )));
        }
        self.args.extend(row);
        Ok(())
    }

    /// Runs `template` with `{values}` replaced by the rows (in chunks that stay below the
    /// parameter limit) and returns every row the statements returned.
    pub(crate) async fn fetch(
        self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        template: &str,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let mut out = Vec::new();
        if self.args.is_empty() {
            return Ok(out);
        }
        let per = (MAX_PARAMS / self.width).max(1) * self.width;
        for chunk in self.args.chunks(per) {
            let sql = template.replace(
                "{values}",
                &value_groups(chunk.len() / self.width, self.width),
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for a in chunk {
                q = match a {
                    Arg::Int(v) => q.bind(*v),
                    Arg::Text(v) => q.bind(v.clone()),
                };
            }
            out.extend(q.fetch_all(&mut **tx).await?);
        }
        Ok(out)
    }

    /// [`RowSet::fetch`] for statements without `RETURNING`.
    pub(crate) async fn execute(
        self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        template: &str,
    ) -> Result<(), StoreError> {
        self.fetch(tx, template).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_of_the_wrong_width_is_refused() {
        let mut r = RowSet::new(2);
        assert!(r.push(vec![Arg::from(1), Arg::from("a")]).is_ok());
        assert!(r.push(vec![Arg::from(1)]).is_err());
    }
}
