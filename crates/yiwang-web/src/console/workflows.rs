//! Workflow definitions as data, for administrators: the saved definitions and their bindings,
//! a JSON box to save a new definition (checked as a whole: unreachable steps, dead ends,
//! unknown roles, missing end step … are listed and nothing is saved), and binding a definition
//! to an implementation within the administrator's catalog scope.

use super::page;
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::{PageResult, allow, fail, here, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, Uri};
use yiwang_domain::policy::{Action, Principal, Target};
use yiwang_domain::workflow::{BindingScope, WorkflowError};
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_i18n::Lang;
use yiwang_store::Actor;
use yiwang_store::workflows::{BindingRow, SavedWorkflow};

const PATH: &str = "/console/workflows";

#[derive(Template)]
#[template(path = "console/workflows.html")]
struct WorkflowsPage {
    page: Page,
    saved: Vec<SavedWorkflow>,
    bindings: Vec<BindingRow>,
    json: String,
    errors: Vec<String>,
    notice: Option<String>,
}

/// A definition error in the reader's language, with the states and actions it names.
fn error_text(lang: Lang, e: &WorkflowError) -> String {
    let mut args: Vec<(String, String)> = Vec::new();
    if let Ok(serde_json::Value::Object(m)) = serde_json::to_value(e) {
        for (k, v) in m {
            if let serde_json::Value::String(s) = v {
                args.push((k, s));
            }
        }
    }
    let refs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    yiwang_i18n::tf(lang, &format!("workflow.err.{}", e.key()), &refs)
}

async fn show_page(
    state: &AppState,
    locale: Locale,
    p: &Principal,
    json: String,
    errors: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> PageResult {
    let tpl = WorkflowsPage {
        page: page(locale, p, "console.workflows.title", PATH),
        saved: state.store.saved_workflows().await?,
        bindings: state.store.workflow_binding_rows().await?,
        json,
        errors,
        notice,
    };
    Ok(render(status, &tpl, locale.lang))
}

fn example() -> String {
    yiwang_domain::workflow::promised()
        .to_json()
        .unwrap_or_default()
}

pub async fn list(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let p = allow(
        &user,
        Action::EditImplementation,
        &Target::Anything,
        locale,
        &here(&uri),
    )?;
    let notice = q.iter().find(|(k, _)| k == "done").map(|(_, v)| {
        let key = if v == "bound" {
            "console.workflows.bound_ok"
        } else {
            "console.workflows.saved_ok"
        };
        yiwang_i18n::t(locale.lang, key).to_string()
    });
    show_page(
        &state,
        locale,
        p,
        example(),
        Vec::new(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// Saves a new definition (a platform-wide act: only who may edit implementations everywhere
/// in their scope; the definition applies only where it is bound).
pub async fn save(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let p = allow(
        &user,
        Action::EditImplementation,
        &Target::Anything,
        locale,
        PATH,
    )?;
    let form = read_form(req, &state).await?;
    let json = form.get("json");
    if json.len() > 256 * 1024 {
        return Err(fail(ErrorCode::TooLong));
    }
    match state
        .store
        .save_workflow(json, &Actor::principal(p, &client), state.now_ms())
        .await
    {
        Ok(Ok(_)) => Ok(see_other(locale, "/console/workflows?done=saved")),
        Ok(Err(invalid)) => {
            let errors = invalid
                .0
                .iter()
                .map(|e| error_text(locale.lang, e))
                .collect();
            show_page(
                &state,
                locale,
                p,
                json.to_string(),
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) if e.code() == ErrorCode::Conflict => {
            let errors = vec![yiwang_i18n::error_message(locale.lang, ErrorCode::Conflict)];
            show_page(
                &state,
                locale,
                p,
                json.to_string(),
                errors,
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Binds a saved definition to one implementation the administrator may edit.
pub async fn bind(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    allow(
        &user,
        Action::EditImplementation,
        &Target::Anything,
        locale,
        PATH,
    )?;
    let form = read_form(req, &state).await?;
    let code = ImplCode::parse(form.get("impl_code"))?;
    let version: u32 = form
        .get("version")
        .trim()
        .parse()
        .map_err(|_| fail(ErrorCode::NotAnInteger))?;
    let working = state
        .store
        .working_implementation(&code)
        .await?
        .ok_or_else(|| fail(ErrorCode::UnknownImplementation))?;
    let target = Target::Implementation {
        department: working.implementation.department_code.clone(),
        region: working.implementation.region.clone(),
    };
    let p = allow(&user, Action::EditImplementation, &target, locale, PATH)?;
    state
        .store
        .bind_workflow(
            &BindingScope::Implementation { impl_code: code },
            form.get("key").trim(),
            version,
            &Actor::principal(p, &client),
            state.now_ms(),
        )
        .await?;
    Ok(see_other(locale, "/console/workflows?done=bound"))
}
