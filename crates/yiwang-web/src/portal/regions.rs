//! `/regions` and `/regions/{code}`: drill down 省 → 市 → 区 → 街镇 → 村, with the services
//! published anywhere in the chosen region's subtree.

use super::listing::{self, ItemList, PageQuery};
use super::{Crumb, Ctx, Link, home_region};
use crate::html::PageError;
use crate::page::Page;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use yiwang_domain::{ErrorCode, RegionCode};
use yiwang_store::ImplementationFilter;

#[derive(Template, WebTemplate)]
#[template(path = "portal/regions.html")]
pub struct RegionsPage {
    page: Page,
    crumbs: Vec<Crumb>,
    home: Option<Link>,
    provinces: Vec<Link>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/region.html")]
pub struct RegionPage {
    page: Page,
    crumbs: Vec<Crumb>,
    name: String,
    code: String,
    children: Vec<Link>,
    items: ItemList,
}

pub async fn index(ctx: Ctx) -> Result<RegionsPage, PageError> {
    let provinces = ctx.st.store.region_children(None).await?;
    let home = home_region(&ctx).await?;
    let title = ctx.t("portal.regions.title");
    let ctx = ctx.titled(title.clone());
    Ok(RegionsPage {
        crumbs: ctx.crumbs(Vec::new(), &title),
        home: home.as_ref().map(|r| ctx.region_link(r)),
        provinces: provinces.iter().map(|r| ctx.region_link(r)).collect(),
        page: ctx.page,
    })
}

pub async fn show(
    ctx: Ctx,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<RegionPage, PageError> {
    let Path(raw) = path.map_err(|_| ctx.err(ErrorCode::InvalidRegionCode))?;
    let code = RegionCode::parse(&raw).map_err(|c| ctx.err(c))?;
    let after = listing::cursor(&ctx, query)?;
    let store = &ctx.st.store;
    let Some(region) = store.region(&code).await? else {
        return Err(ctx.err(ErrorCode::NotFound));
    };
    let path = store.region_path(&code).await?;
    let children = store.region_children(Some(&code)).await?;
    let filter = ImplementationFilter {
        region: Some(code.clone()),
        ..Default::default()
    };
    let base = format!("/regions/{}", code.prefix());
    let items = listing::load(&ctx, &filter, after.as_ref(), &base).await?;
    let ctx = ctx.titled(region.name.clone());
    let mut middle = vec![ctx.link(ctx.t("portal.regions.title"), "/regions")];
    middle.extend(
        path.iter()
            .filter(|r| r.code != region.code)
            .map(|r| ctx.region_link(r)),
    );
    Ok(RegionPage {
        crumbs: ctx.crumbs(middle, &region.name),
        name: region.name.clone(),
        code: code.prefix().to_string(),
        children: children.iter().map(|r| ctx.region_link(r)).collect(),
        items,
        page: ctx.page,
    })
}
