//! `/audience/person` (个人办事) and `/audience/legal` (法人办事).

use super::Ctx;
use super::listing::{self, PageQuery};
use super::themes::ListPage;
use crate::html::PageError;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use yiwang_domain::ErrorCode;
use yiwang_store::ImplementationFilter;

pub async fn show(
    ctx: Ctx,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<ListPage, PageError> {
    let Path(kind) = path.map_err(|_| ctx.err(ErrorCode::NotFound))?;
    let (persons, key) = match kind.as_str() {
        "person" => (true, "person"),
        "legal" => (false, "legal"),
        _ => return Err(ctx.err(ErrorCode::NotFound)),
    };
    let after = listing::cursor(&ctx, query)?;
    let filter = ImplementationFilter {
        persons: Some(persons),
        ..Default::default()
    };
    let base = format!("/audience/{key}");
    let items = listing::load(&ctx, &filter, after.as_ref(), &base).await?;
    let title = ctx.t(&format!("portal.audience.{key}"));
    let ctx = ctx.titled(title.clone());
    Ok(ListPage {
        crumbs: ctx.crumbs(Vec::new(), &title),
        intro: ctx.t(&format!("portal.audience.{key}_intro")),
        items,
        page: ctx.page,
    })
}
