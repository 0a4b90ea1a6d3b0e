//! `/themes` and `/themes/{theme}`: services grouped by the life or business situation they
//! belong to. Theme names are Chinese, URL-encoded in the path.

use super::listing::{self, ItemList, PageQuery};
use super::{Crumb, Ctx, Link};
use crate::html::PageError;
use crate::page::Page;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use yiwang_domain::ErrorCode;
use yiwang_store::ImplementationFilter;

/// Longest theme name accepted in a URL.
const MAX_THEME_CHARS: usize = 50;

#[derive(Template, WebTemplate)]
#[template(path = "portal/themes.html")]
pub struct ThemesPage {
    page: Page,
    crumbs: Vec<Crumb>,
    themes: Vec<Link>,
}

/// A filtered list of services (one theme, one audience).
#[derive(Template, WebTemplate)]
#[template(path = "portal/list.html")]
pub struct ListPage {
    pub page: Page,
    pub crumbs: Vec<Crumb>,
    pub intro: String,
    pub items: ItemList,
}

pub async fn index(ctx: Ctx) -> Result<ThemesPage, PageError> {
    let themes = super::home::theme_links(&ctx).await?;
    let title = ctx.t("portal.themes.title");
    let ctx = ctx.titled(title.clone());
    Ok(ThemesPage {
        crumbs: ctx.crumbs(Vec::new(), &title),
        themes,
        page: ctx.page,
    })
}

pub async fn show(
    ctx: Ctx,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<ListPage, PageError> {
    let Path(raw) = path.map_err(|_| ctx.err(ErrorCode::InvalidInput))?;
    let theme = raw.trim().to_string();
    if theme.is_empty() || theme.chars().any(char::is_control) {
        return Err(ctx.err(ErrorCode::InvalidInput));
    }
    if theme.chars().count() > MAX_THEME_CHARS {
        return Err(ctx.err(ErrorCode::TooLong));
    }
    let after = listing::cursor(&ctx, query)?;
    let filter = ImplementationFilter {
        theme: Some(theme.clone()),
        ..Default::default()
    };
    let base = format!("/themes/{}", crate::link::encode_segment(&theme));
    let items = listing::load(&ctx, &filter, after.as_ref(), &base).await?;
    if items.rows.is_empty() && after.is_none() {
        return Err(ctx.err(ErrorCode::NotFound));
    }
    let title = ctx.tf("portal.theme.title", "theme", &theme);
    let ctx = ctx.titled(title.clone());
    let middle = vec![ctx.link(ctx.t("portal.themes.title"), "/themes")];
    Ok(ListPage {
        crumbs: ctx.crumbs(middle, &theme),
        intro: ctx.t("portal.theme.intro"),
        items,
        page: ctx.page,
    })
}
