//! API tokens for other systems: an administrator creates one for a role within their own scope
//! (region and/or department, like a grant) with an expiry; the token is shown once, only its
//! digest is kept. Tokens in the administrator's scope are listed and can be revoked.
//!
//! A token carries one of the policy's declared token roles and never more than its creator
//! holds (`policy::may_issue_token`): administrators configure, they do not decide cases, so
//! they cannot lend a token the power to.

use super::page;
use super::scope::covers;
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::{PageResult, allow, fail, here, read_form, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, Uri};
use yiwang_domain::enums::CodeSet;
use yiwang_domain::policy::{Action, Grant, Principal, Role, TOKEN_ROLES, Target, may_issue_token};
use yiwang_domain::{CreditCode, ErrorCode, RegionCode};
use yiwang_i18n::error_message;
use yiwang_store::{ApiToken, NewApiToken};

const PATH: &str = "/console/tokens";
const DAY_MS: i64 = 86_400_000;
const MAX_DAYS: i64 = 366;

struct Row {
    id: i64,
    prefix: String,
    name: String,
    role: &'static str,
    scope: String,
    expires_at: i64,
    state_key: &'static str,
    active: bool,
}

#[derive(Template)]
#[template(path = "console/tokens.html")]
struct TokensPage {
    page: Page,
    rows: Vec<Row>,
    roles: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    /// The raw token just created: shown this once.
    created: Option<String>,
}

fn scope_text(g: &Grant) -> String {
    let mut parts = Vec::new();
    if let Some(r) = &g.region {
        parts.push(r.to_string());
    }
    if let Some(d) = &g.department {
        parts.push(d.to_string());
    }
    parts.join(" / ")
}

async fn visible(
    state: &AppState,
    p: &Principal,
    _locale: Locale,
) -> Result<Vec<ApiToken>, crate::html::PageError> {
    let all = state.store.api_tokens().await?;
    let mut out = Vec::new();
    for t in all {
        let g = &t.grant;
        if covers(
            state,
            p,
            Action::ManageUsers,
            g.region.as_ref(),
            g.department.as_ref(),
        )
        .await?
        {
            out.push(t);
        }
    }
    Ok(out)
}

async fn show_page(
    state: &AppState,
    locale: Locale,
    p: &Principal,
    error: Option<String>,
    created: Option<String>,
    status: StatusCode,
) -> PageResult {
    let now = state.now_ms();
    let rows = visible(state, p, locale)
        .await?
        .into_iter()
        .map(|t| Row {
            id: t.id,
            prefix: t.prefix.clone(),
            name: t.name.clone(),
            role: yiwang_i18n::label(locale.lang, t.grant.role),
            scope: scope_text(&t.grant),
            expires_at: t.expires_at,
            state_key: if t.revoked_at.is_some() {
                "console.tokens.revoked"
            } else if t.expires_at <= now {
                "console.tokens.expired"
            } else {
                "console.tokens.active"
            },
            active: t.active(now),
        })
        .collect();
    let tpl = TokensPage {
        page: page(locale, p, "console.tokens.title", PATH),
        rows,
        roles: TOKEN_ROLES
            .iter()
            .map(|r| (r.key(), yiwang_i18n::label(locale.lang, *r)))
            .collect(),
        error,
        created,
    };
    Ok(render(status, &tpl, locale.lang))
}

pub async fn list(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
) -> PageResult {
    let p = allow(
        &user,
        Action::ManageUsers,
        &Target::Anything,
        locale,
        &here(&uri),
    )?;
    show_page(&state, locale, p, None, None, StatusCode::OK).await
}

/// Parses the form into a new token, or the message to show.
fn parse(
    form: &crate::html::FormData,
    now: i64,
    lang: yiwang_i18n::Lang,
) -> Result<NewApiToken, String> {
    let msg = |c: ErrorCode| error_message(lang, c);
    let name = form.get("name").trim();
    if name.is_empty() {
        return Err(msg(ErrorCode::Required));
    }
    if name.chars().count() > 100 {
        return Err(msg(ErrorCode::TooLong));
    }
    let role = Role::from_key(form.get("role")).ok_or_else(|| msg(ErrorCode::UnknownEnumValue))?;
    let opt = |v: &str| Some(v.trim()).filter(|s| !s.is_empty()).map(str::to_string);
    let region = opt(form.get("region"))
        .map(|r| RegionCode::parse(&r))
        .transpose()
        .map_err(msg)?;
    let department = opt(form.get("department"))
        .map(|d| CreditCode::parse(&d))
        .transpose()
        .map_err(msg)?;
    let days: i64 = form
        .get("days")
        .trim()
        .parse()
        .map_err(|_| msg(ErrorCode::NotAnInteger))?;
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(msg(ErrorCode::OutOfRange));
    }
    Ok(NewApiToken {
        name: name.to_string(),
        grant: Grant {
            role,
            region,
            department,
        },
        expires_at: now + days * DAY_MS,
    })
}

pub async fn create(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let p = allow(&user, Action::ManageUsers, &Target::Anything, locale, PATH)?;
    let form = read_form(req, &state).await?;
    let now = state.now_ms();
    let new = match parse(&form, now, locale.lang) {
        Ok(n) => n,
        Err(e) => {
            return show_page(
                &state,
                locale,
                p,
                Some(e),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let g = &new.grant;
    let unknown = match (&g.region, &g.department) {
        (Some(r), _) if state.store.region(r).await?.is_none() => Some(ErrorCode::UnknownRegion),
        (_, Some(d)) if state.store.department(d).await?.is_none() => {
            Some(ErrorCode::UnknownDepartment)
        }
        _ => None,
    };
    if let Some(code) = unknown {
        let m = error_message(locale.lang, code);
        return show_page(
            &state,
            locale,
            p,
            Some(m),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if !covers(
        &state,
        p,
        Action::ManageUsers,
        g.region.as_ref(),
        g.department.as_ref(),
    )
    .await?
    {
        return Err(fail(ErrorCode::Forbidden));
    }
    // Role × action × department × region: only what the creator holds himself.
    if let Err(refusal) = may_issue_token(p, g) {
        let code = refusal.code();
        let m = error_message(locale.lang, code);
        return show_page(
            &state,
            locale,
            p,
            Some(m),
            None,
            crate::error::status_for(code),
        )
        .await;
    }
    match state.store.create_api_token(&new, p, &client, now).await {
        Ok((_, raw)) => show_page(&state, locale, p, None, Some(raw), StatusCode::CREATED).await,
        Err(e) if e.code() != ErrorCode::Internal => {
            let m = error_message(locale.lang, e.code());
            show_page(
                &state,
                locale,
                p,
                Some(m),
                None,
                crate::error::status_for(e.code()),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
) -> PageResult {
    let p = allow(&user, Action::ManageUsers, &Target::Anything, locale, PATH)?;
    let id: i64 = id.parse().map_err(|_| fail(ErrorCode::NotFound))?;
    let token = state
        .store
        .api_token(id)
        .await?
        .ok_or_else(|| fail(ErrorCode::NotFound))?;
    let g = &token.grant;
    if !covers(
        &state,
        p,
        Action::ManageUsers,
        g.region.as_ref(),
        g.department.as_ref(),
    )
    .await?
    {
        return Err(fail(ErrorCode::NotFound));
    }
    state
        .store
        .revoke_api_token(id, p, &client, state.now_ms())
        .await?;
    Ok(crate::html::see_other(locale, PATH))
}
