//! `/departments` (grouped by region) and `/departments/{credit_code}`: one entry, many
//! windows — each department's own page with the services it handles.

use super::listing::{self, ItemList, PageQuery};
use super::{Crumb, Ctx, Link};
use crate::html::PageError;
use crate::page::Page;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use yiwang_domain::{CreditCode, ErrorCode};
use yiwang_store::ImplementationFilter;

/// The departments of one region.
pub struct Group {
    region: Link,
    departments: Vec<Link>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/departments.html")]
pub struct DepartmentsPage {
    page: Page,
    crumbs: Vec<Crumb>,
    groups: Vec<Group>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/department.html")]
pub struct DepartmentPage {
    page: Page,
    crumbs: Vec<Crumb>,
    name: String,
    credit_code: String,
    region_path: Vec<Link>,
    items: ItemList,
}

pub async fn index(ctx: Ctx) -> Result<DepartmentsPage, PageError> {
    let store = &ctx.st.store;
    let deps = store.departments(None).await?;
    let mut groups: Vec<Group> = Vec::new();
    let mut current = None;
    for d in &deps {
        if current.as_ref() != Some(&d.region) {
            let name = match store.region(&d.region).await? {
                Some(r) => r.name,
                None => d.region.to_string(),
            };
            groups.push(Group {
                region: ctx.link(name, &format!("/regions/{}", d.region.prefix())),
                departments: Vec::new(),
            });
            current = Some(d.region.clone());
        }
        if let Some(g) = groups.last_mut() {
            g.departments
                .push(ctx.link(d.name.clone(), &format!("/departments/{}", d.credit_code)));
        }
    }
    let title = ctx.t("portal.departments.title");
    let ctx = ctx.titled(title.clone());
    Ok(DepartmentsPage {
        crumbs: ctx.crumbs(Vec::new(), &title),
        groups,
        page: ctx.page,
    })
}

pub async fn show(
    ctx: Ctx,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<DepartmentPage, PageError> {
    let Path(raw) = path.map_err(|_| ctx.err(ErrorCode::InvalidCreditCode))?;
    let code = CreditCode::parse(&raw).map_err(|c| ctx.err(c))?;
    let after = listing::cursor(&ctx, query)?;
    let store = &ctx.st.store;
    let Some(dep) = store.department(&code).await? else {
        return Err(ctx.err(ErrorCode::NotFound));
    };
    let path = store.region_path(&dep.region).await?;
    let filter = ImplementationFilter {
        department: Some(code.clone()),
        ..Default::default()
    };
    let base = format!("/departments/{code}");
    let items = listing::load(&ctx, &filter, after.as_ref(), &base).await?;
    let ctx = ctx.titled(dep.name.clone());
    let middle = vec![ctx.link(ctx.t("portal.departments.title"), "/departments")];
    Ok(DepartmentPage {
        crumbs: ctx.crumbs(middle, &dep.name),
        name: dep.name.clone(),
        credit_code: code.to_string(),
        region_path: path.iter().map(|r| ctx.region_link(r)).collect(),
        items,
        page: ctx.page,
    })
}
