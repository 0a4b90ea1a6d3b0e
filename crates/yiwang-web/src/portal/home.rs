//! `/`: a short introduction, the name search, and the ways in (region, department, theme,
//! audience), with every published theme and how many services carry it.

use super::{Ctx, Link, home_region, words};
use crate::html::PageError;
use crate::page::Page;
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "portal/home.html")]
pub struct HomePage {
    page: Page,
    query: String,
    /// The served region and the regions directly below it.
    home: Option<Link>,
    towns: Vec<Link>,
    themes: Vec<Link>,
    person: String,
    legal: String,
}

/// Published themes as links with their counts, most used first.
pub(super) async fn theme_links(ctx: &Ctx) -> Result<Vec<Link>, PageError> {
    let themes = ctx.st.store.published_themes().await?;
    Ok(themes
        .into_iter()
        .map(|(theme, n)| {
            let count =
                words::counted(ctx.page.lang, "portal.count", u64::try_from(n).unwrap_or(0));
            let href = format!("/themes/{}", crate::link::encode_segment(&theme));
            ctx.link(
                format!("{theme}{}", ctx.tf("portal.count_wrap", "count", &count)),
                &href,
            )
        })
        .collect())
}

pub async fn show(ctx: Ctx) -> Result<HomePage, PageError> {
    let home = home_region(&ctx).await?;
    let towns = match &home {
        Some(r) => ctx.st.store.region_children(Some(&r.code)).await?,
        None => Vec::new(),
    };
    let themes = theme_links(&ctx).await?;
    let title = ctx.t("nav.home");
    let ctx = ctx.titled(title);
    Ok(HomePage {
        home: home.as_ref().map(|r| ctx.region_link(r)),
        towns: towns.iter().map(|r| ctx.region_link(r)).collect(),
        themes,
        person: ctx.page.href("/audience/person"),
        legal: ctx.page.href("/audience/legal"),
        query: String::new(),
        page: ctx.page,
    })
}
