//! The list of published implementations every browse page shows, 50 a page, with keyset
//! pagination (`?after=<implementation code>`).

use super::{Ctx, words};
use crate::html::PageError;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use serde::Deserialize;
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_store::ImplementationFilter;

pub const PAGE_SIZE: usize = 50;

/// One line of the list: the item, who handles it and how many trips it takes.
#[derive(Debug, Clone)]
pub struct ItemRow {
    pub href: String,
    pub name: String,
    pub department: String,
    pub visits: String,
}

#[derive(Debug, Clone, Default)]
pub struct ItemList {
    pub rows: Vec<ItemRow>,
    /// Link to the next page, when there is one.
    pub next: Option<String>,
    /// Link back to the first page, when this is not it.
    pub first: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub after: Option<String>,
}

/// Reads `?after=`; a cursor that is not an implementation code is a 4xx, not an empty page.
pub fn cursor(
    ctx: &Ctx,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Option<ImplCode>, PageError> {
    let Query(q) = q.map_err(|_| ctx.err(ErrorCode::InvalidInput))?;
    parse_cursor(ctx, q.after.as_deref())
}

pub fn parse_cursor(ctx: &Ctx, after: Option<&str>) -> Result<Option<ImplCode>, PageError> {
    match after.map(str::trim) {
        None | Some("") => Ok(None),
        Some(a) => ImplCode::parse(a)
            .map(Some)
            .map_err(|_| ctx.err(ErrorCode::InvalidCursor)),
    }
}

/// Loads one page of `filter`; `base` is the page's own URL (path and query, without `after`).
pub async fn load(
    ctx: &Ctx,
    filter: &ImplementationFilter,
    after: Option<&ImplCode>,
    base: &str,
) -> Result<ItemList, PageError> {
    let mut found = ctx
        .st
        .store
        .list_published(
            filter,
            after.map(ImplCode::as_str),
            i64::try_from(PAGE_SIZE + 1).unwrap_or(i64::MAX),
        )
        .await?;
    let more = found.len() > PAGE_SIZE;
    found.truncate(PAGE_SIZE);
    let sep = if base.contains('?') { '&' } else { '?' };
    let next = match found.last() {
        Some(last) if more => Some(ctx.page.href(&format!(
            "{base}{sep}after={}",
            crate::link::encode_segment(&last.code)
        ))),
        _ => None,
    };
    let lang = ctx.page.lang;
    let rows = found
        .into_iter()
        .map(|s| ItemRow {
            href: ctx
                .page
                .href(&format!("/items/{}", crate::link::encode_segment(&s.code))),
            name: s.name,
            department: s.department_name,
            visits: words::visits(lang, s.visits),
        })
        .collect();
    Ok(ItemList {
        rows,
        next,
        first: after.map(|_| ctx.page.href(base)),
    })
}
