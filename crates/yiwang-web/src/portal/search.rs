//! `/search?q=`: a plain search by item name. An empty query shows the form with a hint; a
//! query longer than 50 characters is cut to 50 and the reader is told.

use super::listing::{self, ItemList};
use super::{Crumb, Ctx};
use crate::error::AppError;
use crate::page::Page;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use serde::Deserialize;
use yiwang_domain::ErrorCode;
use yiwang_store::ImplementationFilter;

pub const MAX_QUERY_CHARS: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub after: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/search.html")]
pub struct SearchPage {
    page: Page,
    crumbs: Vec<Crumb>,
    query: String,
    /// Shown instead of results: the empty-query hint or the "cut to 50" note.
    notes: Vec<String>,
    /// `None` when nothing was searched.
    results: Option<ItemList>,
    heading: String,
}

/// Trims, drops control characters and keeps at most 50 characters; true when cut.
fn clean(q: &str) -> (String, bool) {
    let chars: Vec<char> = q.trim().chars().filter(|c| !c.is_control()).collect();
    let cut = chars.len() > MAX_QUERY_CHARS;
    let kept: String = chars.into_iter().take(MAX_QUERY_CHARS).collect();
    (kept.trim().to_string(), cut)
}

pub async fn show(
    ctx: Ctx,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<SearchPage, AppError> {
    let Query(sq) = query.map_err(|_| ctx.err(ErrorCode::InvalidInput))?;
    let (q, cut) = clean(sq.q.as_deref().unwrap_or(""));
    let after = listing::parse_cursor(&ctx, sq.after.as_deref())?;
    let mut notes = Vec::new();
    if cut {
        notes.push(ctx.tf("portal.search.cut", "max", &MAX_QUERY_CHARS.to_string()));
    }
    let results = if q.is_empty() {
        notes.push(ctx.t("portal.search.hint"));
        None
    } else {
        let filter = ImplementationFilter {
            name_contains: Some(q.clone()),
            ..Default::default()
        };
        let base = format!("/search?q={}", super::encode(&q));
        let list = listing::load(&ctx, &filter, after.as_ref(), &base).await?;
        if list.rows.is_empty() {
            notes.push(ctx.tf("portal.search.none", "q", &q));
        }
        Some(list)
    };
    let title = ctx.t("portal.search.title");
    let heading = if q.is_empty() {
        title.clone()
    } else {
        ctx.tf("portal.search.results", "q", &q)
    };
    let ctx = ctx.titled(heading.clone());
    Ok(SearchPage {
        crumbs: ctx.crumbs(Vec::new(), &title),
        query: q,
        notes,
        results,
        heading,
        page: ctx.page,
    })
}
