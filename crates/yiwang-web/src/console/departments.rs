//! Departments (实施主体) in the user's regions, and registering a new one.

use super::{page, region_names};
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::{PageError, PageResult, allow, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use yiwang_domain::catalog::Department;
use yiwang_domain::policy::{Action, CatalogScope, Principal, Target};
use yiwang_domain::{CreditCode, ErrorCode, RegionCode};
use yiwang_i18n::error_message;

const PATH: &str = "/console/departments";
const MAX_NAME_CHARS: usize = 200;

struct Row {
    name: String,
    credit_code: String,
    region: String,
}

#[derive(Default)]
struct AddForm {
    name: String,
    credit_code: String,
    region: String,
    name_error: Option<String>,
    credit_code_error: Option<String>,
    region_error: Option<String>,
}

impl AddForm {
    fn has_errors(&self) -> bool {
        self.name_error.is_some() || self.credit_code_error.is_some() || self.region_error.is_some()
    }
}

#[derive(Template)]
#[template(path = "console/departments.html")]
struct DepartmentsPage {
    page: Page,
    rows: Vec<Row>,
    form: AddForm,
}

async fn render_page(
    state: &AppState,
    locale: Locale,
    p: &Principal,
    form: AddForm,
    status: StatusCode,
) -> PageResult {
    let scope = CatalogScope::of(p, Action::ManageDepartments);
    let deps: Vec<Department> = state
        .store
        .departments(None)
        .await?
        .into_iter()
        .filter(|d| scope.covers(&d.credit_code, &d.region))
        .collect();
    let names = region_names(state, deps.iter().map(|d| &d.region)).await?;
    let rows = deps
        .into_iter()
        .map(|d| Row {
            region: format!(
                "{} ({})",
                names.get(&d.region).cloned().unwrap_or_default(),
                d.region
            ),
            name: d.name,
            credit_code: d.credit_code.to_string(),
        })
        .collect();
    let tpl = DepartmentsPage {
        page: page(locale, p, "console.departments.title", PATH),
        rows,
        form,
    };
    Ok(render(status, &tpl, locale.lang))
}

pub async fn list(State(state): State<AppState>, locale: Locale, user: CurrentUser) -> PageResult {
    let p = allow(
        &user,
        Action::ManageDepartments,
        &Target::Anything,
        locale,
        PATH,
    )?;
    render_page(&state, locale, p, AddForm::default(), StatusCode::OK).await
}

pub async fn add(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let p = allow(
        &user,
        Action::ManageDepartments,
        &Target::Anything,
        locale,
        PATH,
    )?;
    let data = read_form(req, &state).await?;
    let lang = locale.lang;
    let mut form = AddForm {
        name: data.get("name").trim().to_string(),
        credit_code: data.get("credit_code").trim().to_string(),
        region: data.get("region").trim().to_string(),
        ..AddForm::default()
    };
    let msg = |c: ErrorCode| Some(error_message(lang, c));
    if form.name.is_empty() {
        form.name_error = msg(ErrorCode::Required);
    } else if form.name.chars().count() > MAX_NAME_CHARS {
        form.name_error = msg(ErrorCode::TooLong);
    }
    let credit_code = match CreditCode::parse(&form.credit_code) {
        Ok(c) => Some(c),
        Err(_) if form.credit_code.is_empty() => {
            form.credit_code_error = msg(ErrorCode::Required);
            None
        }
        Err(c) => {
            form.credit_code_error = msg(c);
            None
        }
    };
    let region = match RegionCode::parse(&form.region) {
        Ok(r) => Some(r),
        Err(_) if form.region.is_empty() => {
            form.region_error = msg(ErrorCode::Required);
            None
        }
        Err(c) => {
            form.region_error = msg(c);
            None
        }
    };
    let (Some(credit_code), Some(region)) = (credit_code, region) else {
        return render_page(&state, locale, p, form, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    if form.has_errors() {
        return render_page(&state, locale, p, form, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    // Both the new region and, for a known code, the region it is registered in now.
    allow(
        &user,
        Action::ManageDepartments,
        &Target::Region(region.clone()),
        locale,
        PATH,
    )?;
    if let Some(existing) = state.store.department(&credit_code).await? {
        allow(
            &user,
            Action::ManageDepartments,
            &Target::Region(existing.region),
            locale,
            PATH,
        )?;
    }
    let dep = Department {
        credit_code,
        name: form.name.clone(),
        region,
    };
    let actor = yiwang_store::Actor::principal(p, client.as_str());
    match state
        .store
        .upsert_department(&dep, &actor, state.now_ms())
        .await
    {
        Ok(()) => Ok(see_other(locale, PATH)),
        Err(e) => match e.code() {
            ErrorCode::UnknownRegion => {
                form.region_error = msg(ErrorCode::UnknownRegion);
                render_page(&state, locale, p, form, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            ErrorCode::InvalidInput => {
                form.name_error = msg(ErrorCode::InvalidInput);
                render_page(&state, locale, p, form, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            _ => Err(PageError::from(e)),
        },
    }
}
