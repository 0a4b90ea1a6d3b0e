//! How people ask, edited as data: search terms (synonyms and colloquial phrasings, dictionary
//! words, query stop words) here, and 一件事 life-event definitions (`life_events.rs`, which
//! the terms page lists). Saved changes reach every
//! running searcher within a second (the search service watches the store's search-data
//! generation), like a catalog publication, which is why these pages follow the publishing
//! permission rather than the editing one:
//!
//! - the routes need `PublishCatalog` somewhere (a change goes live at once, without a draft
//!   and a separate publication step);
//! - search terms apply to every search of the platform: changing them needs
//!   `PublishCatalog` platform-wide;
//! - a life event applies to a region and its subtree: saving one needs `PublishCatalog` for
//!   that region (`Target::Region`: a region-wide grant, not a single department's), both the
//!   region it had and the one it gets.
//!
//! A definition or a term is checked in full before anything is saved; the administrator's
//! text comes back with every problem listed.

use super::page;
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::{PageError, PageResult, allow, fail, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use yiwang_domain::ErrorCode;
use yiwang_domain::policy::{Action, CatalogScope, Principal, Target};
use yiwang_i18n::{Lang, error_message, t, tf};
use yiwang_search::terms::{Term, TermKind, TermProblem};
use yiwang_store::SearchTermRow;

pub(super) const PATH: &str = "/console/search-terms";
/// Most terms listed at once (the filter narrows the list).
const MAX_LISTED: usize = 400;

struct TermRow {
    id: i64,
    kind: String,
    phrase: String,
    expansion: String,
    updated: String,
    edit_href: String,
    delete_action: String,
}

struct EventRow {
    code: String,
    name: String,
    region: String,
    href: String,
    updated: String,
}

#[derive(Default)]
struct TermForm {
    /// Set when editing an existing term.
    id: Option<i64>,
    kind: String,
    phrase: String,
    expansion: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/search_terms.html")]
struct TermsPage {
    page: Page,
    /// Whether this user may change terms (platform-wide permission).
    may_edit: bool,
    filter: String,
    count_text: String,
    rows: Vec<TermRow>,
    events: Vec<EventRow>,
    form: TermForm,
    kinds: Vec<(&'static str, String)>,
    notice: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    edit: Option<i64>,
    saved: Option<u8>,
    deleted: Option<u8>,
}

pub(super) fn platform_wide(p: &Principal) -> bool {
    CatalogScope::of(p, Action::PublishCatalog).all
}

fn kind_name(lang: Lang, key: &str) -> String {
    t(lang, &format!("terms.kind.{key}")).to_string()
}

fn term_problem(lang: Lang, p: TermProblem) -> String {
    let key = match p {
        TermProblem::EmptyPhrase => "empty_phrase",
        TermProblem::TooLong => "too_long",
        TermProblem::EmptyExpansion => "empty_expansion",
        TermProblem::UnexpectedExpansion => "unexpected_expansion",
    };
    t(lang, &format!("terms.problem.{key}")).to_string()
}

async fn terms_page(
    state: &AppState,
    locale: Locale,
    p: &Principal,
    filter: &str,
    form: TermForm,
    notice: Option<String>,
) -> Result<TermsPage, PageError> {
    let lang = locale.lang;
    let pg = page(locale, p, "terms.title", PATH);
    let all: Vec<SearchTermRow> = state.store.search_terms().await?;
    let total = all.len();
    let needle = filter.trim();
    let rows: Vec<TermRow> = all
        .into_iter()
        .filter(|r| needle.is_empty() || r.phrase.contains(needle) || r.expansion.contains(needle))
        .take(MAX_LISTED)
        .map(|r| TermRow {
            kind: kind_name(lang, &r.kind),
            updated: format!("{} · {}", pg.datetime(&r.updated_at), r.updated_by),
            edit_href: crate::link::href(locale, &format!("{PATH}?edit={}#term-form", r.id)),
            delete_action: crate::link::href(locale, &format!("{PATH}/{}/delete", r.id)),
            id: r.id,
            phrase: r.phrase,
            expansion: r.expansion,
        })
        .collect();
    let events = state
        .store
        .life_events()
        .await?
        .into_iter()
        .map(|e| EventRow {
            href: crate::link::href(locale, &format!("/console/life-events/{}", e.code)),
            updated: format!("{} · {}", pg.datetime(&e.updated_at), e.updated_by),
            code: e.code,
            name: e.name,
            region: e.region_code,
        })
        .collect();
    Ok(TermsPage {
        may_edit: platform_wide(p),
        filter: needle.to_string(),
        count_text: tf(
            lang,
            "terms.count",
            &[
                ("shown", &rows.len().to_string()),
                ("total", &total.to_string()),
            ],
        ),
        rows,
        events,
        form,
        kinds: TermKind::ALL
            .into_iter()
            .map(|k| (k.key(), kind_name(lang, k.key())))
            .collect(),
        notice,
        page: pg,
    })
}

pub async fn list(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let p = allow(
        &user,
        Action::PublishCatalog,
        &Target::Anything,
        locale,
        PATH,
    )?;
    let lang = locale.lang;
    let mut form = TermForm {
        kind: TermKind::Synonym.key().to_string(),
        ..TermForm::default()
    };
    if let Some(id) = q.edit {
        let terms = state.store.search_terms().await?;
        let Some(r) = terms.into_iter().find(|r| r.id == id) else {
            return Err(fail(ErrorCode::NotFound));
        };
        form = TermForm {
            id: Some(r.id),
            kind: r.kind,
            phrase: r.phrase,
            expansion: r.expansion,
            error: None,
        };
    }
    let notice = if q.saved.is_some() {
        Some(t(lang, "terms.saved").to_string())
    } else if q.deleted.is_some() {
        Some(t(lang, "terms.deleted").to_string())
    } else {
        None
    };
    let filter = q.q.unwrap_or_default();
    let tpl = terms_page(&state, locale, p, &filter, form, notice).await?;
    Ok(render(StatusCode::OK, &tpl, lang))
}

/// Adds a term, or changes one (`id`), after checking it.
pub async fn save(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let p = allow(
        &user,
        Action::PublishCatalog,
        &Target::Anything,
        locale,
        PATH,
    )?;
    if !platform_wide(p) {
        return Err(fail(ErrorCode::Forbidden));
    }
    let data = read_form(req, &state).await?;
    let lang = locale.lang;
    let mut form = TermForm {
        id: data.get("id").trim().parse().ok(),
        kind: data.get("kind").trim().to_string(),
        phrase: data.get("phrase").to_string(),
        expansion: data.get("expansion").to_string(),
        error: None,
    };
    let checked = match TermKind::from_key(&form.kind) {
        None => Err(error_message(lang, ErrorCode::UnknownEnumValue)),
        Some(kind) => {
            Term::checked(kind, &form.phrase, &form.expansion).map_err(|e| term_problem(lang, e))
        }
    };
    let term = match checked {
        Ok(term) => term,
        Err(message) => {
            form.error = Some(message);
            let tpl = terms_page(&state, locale, p, "", form, None).await?;
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, lang));
        }
    };
    let actor = yiwang_store::Actor::principal(p, client.as_str());
    let now = state.now_ms();
    let saved = match form.id {
        Some(id) => state
            .store
            .update_search_term(
                id,
                term.kind.key(),
                &term.phrase,
                &term.expansion,
                &actor,
                now,
            )
            .await
            .map(|found| found.then_some(id)),
        None => state
            .store
            .save_search_term(term.kind.key(), &term.phrase, &term.expansion, &actor, now)
            .await
            .map(Some),
    };
    match saved {
        Ok(Some(_)) => Ok(see_other(locale, &format!("{PATH}?saved=1"))),
        Ok(None) => Err(fail(ErrorCode::NotFound)),
        Err(e) if e.code() == ErrorCode::Conflict => {
            form.error = Some(t(lang, "terms.problem.duplicate").to_string());
            let tpl = terms_page(&state, locale, p, "", form, None).await?;
            Ok(render(StatusCode::CONFLICT, &tpl, lang))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
) -> PageResult {
    let p = allow(
        &user,
        Action::PublishCatalog,
        &Target::Anything,
        locale,
        PATH,
    )?;
    if !platform_wide(p) {
        return Err(fail(ErrorCode::Forbidden));
    }
    let id: i64 = id.parse().map_err(|_| fail(ErrorCode::NotFound))?;
    let actor = yiwang_store::Actor::principal(p, client.as_str());
    let found = state
        .store
        .delete_search_term(id, &actor, state.now_ms())
        .await?;
    if !found {
        return Err(fail(ErrorCode::NotFound));
    }
    Ok(see_other(locale, &format!("{PATH}?deleted=1")))
}
