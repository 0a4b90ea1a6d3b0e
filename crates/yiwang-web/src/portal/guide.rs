//! `/items/{impl_code}`: the guide (办事指南) of the current published version, and
//! `/items/{impl_code}/versions/{n}`: an earlier published version, marked as historical.

use super::guide_view::{self, Guide};
use super::{Crumb, Ctx, Link};
use crate::html::PageError;
use crate::page::Page;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use yiwang_domain::catalog::VersionStatus;
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_i18n::tf;
use yiwang_store::PublishedImplementation;

#[derive(Template, WebTemplate)]
#[template(path = "portal/guide.html")]
pub struct GuidePage {
    page: Page,
    crumbs: Vec<Crumb>,
    g: Guide,
    /// Set on an older version: the notice text and the link to the current one, if any.
    historical: Option<String>,
    current: Option<String>,
    /// Other published versions, newest first (shown when there is more than one).
    versions: Vec<Link>,
    /// Where the 在线申请 button posts, for the current version of an item handled online.
    apply_href: Option<String>,
}

fn impl_code(ctx: &Ctx, raw: &str) -> Result<ImplCode, PageError> {
    ImplCode::parse(raw).map_err(|c| ctx.err(c))
}

async fn render(
    ctx: Ctx,
    p: PublishedImplementation,
    historical: bool,
) -> Result<GuidePage, PageError> {
    let store = &ctx.st.store;
    let code = p.implementation.code.clone();
    let path = store.region_path(&p.implementation.region).await?;
    let history = store.implementation_history(&code).await?;
    let (current, notice) = if historical {
        let has_current = history.iter().any(|h| h.status == VersionStatus::Published);
        let notice = ctx.tf("portal.guide.historical", "n", &p.version.to_string());
        (
            has_current.then(|| ctx.page.href(&format!("/items/{code}"))),
            Some(notice),
        )
    } else {
        (None, None)
    };
    let shown: Vec<_> = history
        .iter()
        .filter(|h| h.status != VersionStatus::Draft)
        .collect();
    let lang = ctx.page.lang;
    let versions = if shown.len() > 1 {
        shown
            .iter()
            .map(|h| {
                let date = ctx.page.date_opt(&h.published_at);
                let text = tf(
                    lang,
                    "portal.guide.version_line",
                    &[("n", &h.version.to_string()), ("date", &date)],
                );
                let href = if h.status == VersionStatus::Published {
                    format!("/items/{code}")
                } else {
                    format!("/items/{code}/versions/{}", h.version)
                };
                ctx.link(text, &href)
            })
            .collect()
    } else {
        Vec::new()
    };
    let g = guide_view::build(&ctx, &p, &path);
    let ctx = ctx.titled(g.name.clone());
    let middle = vec![
        ctx.link(ctx.t("portal.departments.title"), "/departments"),
        g.department.clone(),
    ];
    let online = p
        .implementation
        .channels
        .contains(&yiwang_domain::enums::Channel::Online);
    let apply_href = (online && !historical).then(|| {
        ctx.page.href(&format!(
            "/items/{}/apply",
            crate::link::encode_segment(code.as_str())
        ))
    });
    Ok(GuidePage {
        apply_href,
        crumbs: ctx.crumbs(middle, &g.name),
        g,
        historical: notice,
        current,
        versions,
        page: ctx.page,
    })
}

/// The current guide. Rendered pages for anonymous readers are cached until the catalog
/// generation moves (a publish anywhere, or a region or department change).
pub async fn current(
    ctx: Ctx,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let Path(raw) = path.map_err(|_| ctx.err(ErrorCode::InvalidImplCode))?;
    let code = impl_code(&ctx, &raw)?;
    let st = ctx.st.clone();
    // Only pages without a name in the header are shared between readers.
    let key = (ctx.page.user.is_none() && ctx.page.applicant.is_none()).then(|| {
        format!(
            "guide:{}:{}:{}:{}",
            ctx.page.lang.tag(),
            ctx.page.explicit_lang,
            ctx.page.elder,
            ctx.page.path
        )
    });
    if let Some(k) = &key {
        st.cache.refresh(&st.store, st.now_ms()).await?;
        if let Some(html) = st.cache.get(k) {
            return Ok(html_response(html));
        }
    }
    let generation = st.cache.generation();
    let found = st.store.published_implementation(&code).await?;
    let page = match found {
        Some(p) => render(ctx, p, false).await?,
        None => return Err(ctx.err(ErrorCode::NotFound)),
    };
    let html: Arc<str> = page
        .render()
        .map_err(|_| PageError::new(ErrorCode::Internal))?
        .into();
    if let Some(k) = &key {
        st.cache.put_for(generation, k, html.clone());
    }
    Ok(html_response(html))
}

fn html_response(html: Arc<str>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html.to_string(),
    )
        .into_response()
}

pub async fn version(
    ctx: Ctx,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<GuidePage, PageError> {
    let Path((raw, n)) = path.map_err(|_| ctx.err(ErrorCode::InvalidInput))?;
    let code = impl_code(&ctx, &raw)?;
    let n: i64 = n
        .trim()
        .parse()
        .map_err(|_| ctx.err(ErrorCode::NotAnInteger))?;
    if n < 1 {
        return Err(ctx.err(ErrorCode::OutOfRange));
    }
    let found = ctx.st.store.implementation_version(&code, n).await?;
    match found {
        // Drafts are not public: they do not exist for the portal.
        Some(p) if p.status != VersionStatus::Draft => {
            let historical = p.status == VersionStatus::Superseded;
            render(ctx, p, historical).await
        }
        _ => Err(ctx.err(ErrorCode::NotFound)),
    }
}
