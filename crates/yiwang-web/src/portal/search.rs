//! `/search?q=`: the full-text search (tantivy + jieba) with query understanding: shows how
//! the query was read (synonyms, pinyin, typos), matching 一件事 life events, the items with
//! the implementation of the reader's region first, why each matched, and filters. No
//! JavaScript; an empty or meaningless query shows a hint, a long one is cut and the reader is
//! told.

use super::{Crumb, Ctx};
use crate::html::PageError;
use crate::page::Page;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use serde::Deserialize;
use yiwang_domain::enums::{CodeSet, ExerciseLevel};
use yiwang_domain::{ErrorCode, RegionCode};
use yiwang_search::engine::{EventHit, SearchRequest};
use yiwang_search::normalize::MAX_QUERY_CHARS;
use yiwang_search::understand::ExpansionKind;

/// Results per page.
const PAGE_SIZE: usize = 10;
/// Deepest result page offered.
const MAX_OFFSET: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub region: Option<String>,
    pub department: Option<String>,
    pub theme: Option<String>,
    pub audience: Option<String>,
    pub start: Option<String>,
}

pub(crate) struct HitRow {
    pub href: String,
    pub name: String,
    pub department: String,
    pub region: String,
    pub facts: String,
    pub why: String,
}

pub(crate) struct FilterLink {
    pub text: String,
    pub href: String,
    pub active: bool,
}

pub(crate) struct FilterGroup {
    pub title: String,
    pub links: Vec<FilterLink>,
}

pub(crate) struct RegionChoice {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/search.html")]
pub struct SearchPage {
    page: Page,
    crumbs: Vec<Crumb>,
    heading: String,
    query: String,
    notes: Vec<String>,
    understood: Vec<String>,
    events: Vec<(String, EventHit)>,
    hits: Vec<HitRow>,
    searched: bool,
    filters: Vec<FilterGroup>,
    regions: Vec<RegionChoice>,
    next: Option<String>,
    prev: Option<String>,
    max_chars: usize,
}

fn present(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.chars().count() <= 100)
        .map(str::to_string)
}

/// The URL of this search with one parameter changed (`None` removes it); paging restarts.
fn url_with(params: &[(&str, Option<String>)], key: &str, value: Option<&str>) -> String {
    let mut out = String::from("/search?");
    let mut first = true;
    for (k, v) in params {
        let v = if *k == key {
            value.map(str::to_string)
        } else {
            v.clone()
        };
        if let Some(v) = v {
            if !first {
                out.push('&');
            }
            first = false;
            out.push_str(k);
            out.push('=');
            out.push_str(&crate::link::encode_segment(&v));
        }
    }
    out
}

pub async fn show(
    ctx: Ctx,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<SearchPage, PageError> {
    let Query(sq) = query.map_err(|_| ctx.err(ErrorCode::InvalidInput))?;
    let raw = sq.q.clone().unwrap_or_default();
    let region = present(&sq.region).and_then(|r| RegionCode::parse(&r).ok());
    let department = present(&sq.department);
    let theme = present(&sq.theme);
    let audience = present(&sq.audience).filter(|a| a == "person" || a == "legal");
    let offset = sq
        .start
        .as_deref()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_OFFSET);
    let engine = ctx
        .st
        .search
        .engine(&ctx.st.store, ctx.st.now_ms())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "search index");
            ctx.err(ErrorCode::Internal)
        })?;
    let req = SearchRequest {
        q: raw.clone(),
        region: region.clone(),
        department: department.clone(),
        theme: theme.clone(),
        audience: audience.clone(),
        level: None,
        offset,
        limit: PAGE_SIZE,
        facets: true,
        debug: false,
    };
    let res = engine.search(&req).map_err(|e| {
        tracing::error!(error = %e, "search");
        ctx.err(ErrorCode::Internal)
    })?;
    let u = &res.understanding;
    let query_text = raw.trim().chars().take(MAX_QUERY_CHARS).collect::<String>();
    let mut notes = Vec::new();
    let searched = !u.text.is_empty();
    if u.cut {
        notes.push(ctx.tf("search.cut", "max", &MAX_QUERY_CHARS.to_string()));
    }
    if !searched {
        notes.push(ctx.t(if raw.trim().is_empty() {
            "search.hint"
        } else {
            "search.nothing_to_search"
        }));
    } else if res.hits.is_empty() && res.life_events.is_empty() {
        notes.push(ctx.tf("search.none", "q", &u.text));
    }
    let understood = u
        .expansions
        .iter()
        .map(|e| {
            let key = match e.kind {
                ExpansionKind::Synonym => "search.understood.synonym",
                ExpansionKind::Pinyin => "search.understood.pinyin",
                ExpansionKind::Typo => "search.understood.typo",
            };
            // A synonym's parts (身份证+丢) read as the words they are.
            ctx.tf(key, "from", &e.from.replace('+', ""))
                .replace("{to}", &e.to.join("、"))
        })
        .take(4)
        .collect();
    let mut region_names = std::collections::HashMap::new();
    for h in &res.hits {
        if !region_names.contains_key(&h.region)
            && let Ok(code) = RegionCode::parse(&h.region)
            && let Some(r) = ctx.st.store.region(&code).await?
        {
            region_names.insert(h.region.clone(), r.name);
        }
    }
    let field_label = |f: &str| ctx.t(&format!("search.field.{f}"));
    let hits = res
        .hits
        .iter()
        .map(|h| {
            // Plain words (最多跑一次), not the catalog's jargon (跑动次数, 网办深度).
            let facts = super::words::visits(ctx.page.lang, i64::from(h.info.visits));
            let why = h
                .matched
                .iter()
                .map(|m| {
                    if m.field == "exact_name" {
                        field_label(m.field)
                    } else {
                        format!("{}「{}」", field_label(m.field), m.terms.join("」「"))
                    }
                })
                // The two strongest reasons: enough to trust the hit, short enough to read.
                .take(2)
                .collect::<Vec<_>>()
                .join("；");
            HitRow {
                href: ctx.page.href(&format!("/items/{}", h.code)),
                name: h.name.clone(),
                department: h.department_name.clone(),
                region: region_names.get(&h.region).cloned().unwrap_or_default(),
                facts,
                why,
            }
        })
        .collect();
    let params: Vec<(&str, Option<String>)> = vec![
        ("q", Some(query_text.clone()).filter(|q| !q.is_empty())),
        ("region", region.as_ref().map(|r| r.as_str().to_string())),
        ("department", department.clone()),
        ("theme", theme.clone()),
        ("audience", audience.clone()),
        (
            "lang",
            ctx.page
                .explicit_lang
                .then(|| ctx.page.html_lang().to_string()),
        ),
    ];
    let mut filters = Vec::new();
    if let Some(f) = &res.facets {
        let dept_names: std::collections::HashMap<String, String> = ctx
            .st
            .store
            .departments(None)
            .await?
            .into_iter()
            .map(|d| (d.credit_code.as_str().to_string(), d.name))
            .collect();
        let group = |title: &str,
                     key: &str,
                     current: &Option<String>,
                     values: Vec<(String, String, usize)>| {
            let mut links: Vec<FilterLink> = values
                .into_iter()
                .map(|(v, text, n)| FilterLink {
                    text: format!("{text} ({n})"),
                    active: current.as_deref() == Some(v.as_str()),
                    href: url_with(&params, key, Some(&v)),
                })
                .collect();
            if current.is_some() {
                links.insert(
                    0,
                    FilterLink {
                        text: ctx.t("search.filter.all"),
                        href: url_with(&params, key, None),
                        active: false,
                    },
                );
            }
            FilterGroup {
                title: ctx.t(title),
                links,
            }
        };
        let audience_label = |a: &str| ctx.t(&format!("search.audience.{a}"));
        let _ = ExerciseLevel::ALL;
        if searched && !res.hits.is_empty()
            || department.is_some()
            || theme.is_some()
            || audience.is_some()
        {
            filters.push(group(
                "search.filter.department",
                "department",
                &department,
                f.department
                    .iter()
                    .take(12)
                    .map(|c| {
                        (
                            c.value.clone(),
                            dept_names.get(&c.value).cloned().unwrap_or(c.value.clone()),
                            c.count,
                        )
                    })
                    .collect(),
            ));
            filters.push(group(
                "search.filter.theme",
                "theme",
                &theme,
                f.theme
                    .iter()
                    .take(12)
                    .map(|c| (c.value.clone(), c.value.clone(), c.count))
                    .collect(),
            ));
            filters.push(group(
                "search.filter.audience",
                "audience",
                &audience,
                f.audience
                    .iter()
                    .map(|c| (c.value.clone(), audience_label(&c.value), c.count))
                    .collect(),
            ));
        }
    }
    // Regions the reader can choose: the platform's region and those of its departments.
    let mut regions = Vec::new();
    let deps = ctx.st.store.departments(None).await?;
    let mut codes: Vec<RegionCode> = deps.into_iter().map(|d| d.region).collect();
    codes.sort();
    codes.dedup();
    for c in codes.into_iter().take(40) {
        if let Some(r) = ctx.st.store.region(&c).await? {
            regions.push(RegionChoice {
                selected: region.as_ref() == Some(&c),
                code: c.as_str().to_string(),
                name: r.name,
            });
        }
    }
    let page_params: Vec<(&str, Option<String>)> =
        params.iter().cloned().chain([("start", None)]).collect();
    let next =
        (offset + PAGE_SIZE < res.estimated_total && offset + PAGE_SIZE <= MAX_OFFSET).then(|| {
            url_with(
                &page_params,
                "start",
                Some(&(offset + PAGE_SIZE).to_string()),
            )
        });
    let prev = (offset > 0).then(|| {
        let p = offset.saturating_sub(PAGE_SIZE);
        if p == 0 {
            url_with(&page_params, "start", None)
        } else {
            url_with(&page_params, "start", Some(&p.to_string()))
        }
    });
    let events = res
        .life_events
        .iter()
        .map(|e| {
            (
                ctx.page.href(&format!("/life-events/{}", e.code)),
                e.clone(),
            )
        })
        .collect();
    let title = ctx.t("search.title");
    let heading = if searched {
        ctx.tf("search.results", "q", &u.text)
    } else {
        title.clone()
    };
    let ctx = ctx.titled(heading.clone());
    Ok(SearchPage {
        crumbs: ctx.crumbs(Vec::new(), &title),
        heading,
        query: query_text,
        notes,
        understood,
        events,
        hits,
        searched,
        filters,
        regions,
        next,
        prev,
        max_chars: MAX_QUERY_CHARS,
        page: ctx.page,
    })
}
