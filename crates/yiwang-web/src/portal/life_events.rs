//! 一件事 pages: `/life-events` lists the life events of the platform's region;
//! `/life-events/{code}` asks its questions with a plain GET form (no JavaScript) and, once
//! every question is answered, lists the items in order and one merged materials list (a
//! document needed by several items appears once, naming those items).

use super::{Crumb, Ctx};
use crate::html::PageError;
use crate::page::Page;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use std::collections::HashMap;
use yiwang_domain::{ErrorCode, RegionCode};
use yiwang_search::Engine;
use yiwang_search::life_event::LifeEvent;
use yiwang_search::plan::resolve;

pub(crate) struct EventRow {
    pub href: String,
    pub name: String,
    pub summary: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/life_events.html")]
pub struct IndexPage {
    page: Page,
    crumbs: Vec<Crumb>,
    rows: Vec<EventRow>,
}

pub(crate) struct OptionView {
    pub key: String,
    pub text: String,
    pub checked: bool,
}

pub(crate) struct QuestionView {
    pub key: String,
    pub text: String,
    pub options: Vec<OptionView>,
}

pub(crate) struct ItemView {
    pub name: String,
    pub href: Option<String>,
    pub department: String,
    pub note: String,
}

pub(crate) struct MaterialView {
    pub name: String,
    pub detail: String,
    pub needed_by: String,
    pub optional: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/life_event.html")]
pub struct EventPage {
    page: Page,
    crumbs: Vec<Crumb>,
    name: String,
    summary: String,
    action: String,
    questions: Vec<QuestionView>,
    /// Present once every question is answered.
    plan: Option<(Vec<ItemView>, Vec<MaterialView>)>,
    change_href: String,
    /// 一件事: the implementation codes of the plan, applied for together.
    bundle_codes: Vec<String>,
    bundle_action: String,
}

async fn engine(ctx: &Ctx) -> Result<std::sync::Arc<Engine>, PageError> {
    ctx.st
        .search
        .engine(&ctx.st.store, ctx.st.now_ms())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "search index");
            ctx.err(ErrorCode::Internal)
        })
}

pub async fn index(ctx: Ctx) -> Result<IndexPage, PageError> {
    let engine = engine(&ctx).await?;
    let rows = engine
        .life_events()
        .map(|e| EventRow {
            href: ctx.page.href(&format!("/life-events/{}", e.code)),
            name: e.name.clone(),
            summary: e.summary.clone(),
        })
        .collect();
    let title = ctx.t("life.title");
    let ctx = ctx.titled(title.clone());
    Ok(IndexPage {
        crumbs: ctx.crumbs(Vec::new(), &title),
        rows,
        page: ctx.page,
    })
}

/// Answers from the query string (`question=option`), plus the optional `region`.
fn answers_of(ev: &LifeEvent, q: &[(String, String)]) -> HashMap<String, String> {
    ev.valid_answers(q.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

pub async fn show(
    ctx: Ctx,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<EventPage, PageError> {
    let Path(code) = path.map_err(|_| ctx.err(ErrorCode::NotFound))?;
    let Query(q) = query.map_err(|_| ctx.err(ErrorCode::InvalidInput))?;
    let engine = engine(&ctx).await?;
    let Some(ev) = engine.life_event(&code).cloned() else {
        return Err(ctx.err(ErrorCode::NotFound));
    };
    let region = q
        .iter()
        .find(|(k, _)| k == "region")
        .and_then(|(_, v)| RegionCode::parse(v).ok());
    let answers = answers_of(&ev, &q);
    let questions = ev
        .questions
        .iter()
        .map(|qq| QuestionView {
            key: qq.key.clone(),
            text: qq.text.clone(),
            options: qq
                .options
                .iter()
                .map(|o| OptionView {
                    key: o.key.clone(),
                    text: o.text.clone(),
                    checked: answers.get(&qq.key) == Some(&o.key),
                })
                .collect(),
        })
        .collect();
    let complete = ev.unanswered(&answers).is_empty();
    let mut bundle_codes = Vec::new();
    let plan = if complete {
        let plan = resolve(&ctx.st.store, &ev, &answers, region.as_ref())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "life event plan");
                ctx.err(ErrorCode::Internal)
            })?;
        bundle_codes = plan
            .items
            .iter()
            .filter_map(|it| it.implementation.as_ref().map(|c| c.to_string()))
            .collect();
        let items: Vec<ItemView> = plan
            .items
            .iter()
            .map(|it| ItemView {
                name: it.name.clone(),
                href: it
                    .implementation
                    .as_ref()
                    .map(|c| ctx.page.href(&format!("/items/{c}"))),
                department: it
                    .department_name
                    .clone()
                    .unwrap_or_else(|| ctx.t("life.plan.unavailable")),
                note: it.note.clone(),
            })
            .collect();
        let materials = plan
            .materials
            .iter()
            .map(|m| {
                let mut detail = ctx
                    .tf(
                        "life.materials.copies",
                        "originals",
                        &m.originals.to_string(),
                    )
                    .replace("{copies}", &m.copies.to_string());
                if !m.licence_type.is_empty() {
                    detail.push('；');
                    detail.push_str(&ctx.tf("life.materials.licence", "licence", &m.licence_type));
                }
                MaterialView {
                    name: m.name.clone(),
                    detail,
                    needed_by: m
                        .needed_by
                        .iter()
                        .filter_map(|i| plan.items.get(*i).map(|it| it.name.clone()))
                        .collect::<Vec<_>>()
                        .join("、"),
                    optional: !m.mandatory,
                }
            })
            .collect();
        Some((items, materials))
    } else {
        None
    };
    let title = ctx.t("life.title");
    let crumbs = ctx.crumbs(vec![ctx.link(title.clone(), "/life-events")], &ev.name);
    let action = format!("/life-events/{}", ev.code);
    let change_href = ctx.page.href(&action);
    let ctx = ctx.titled(ev.name.clone());
    let bundle_action = ctx.page.href(&format!(
        "/life-events/{}/apply",
        crate::link::encode_segment(&ev.code)
    ));
    Ok(EventPage {
        bundle_codes,
        bundle_action,
        crumbs,
        name: ev.name.clone(),
        summary: ev.summary.clone(),
        action,
        questions,
        plan,
        change_href,
        page: ctx.page,
    })
}
