//! The JSON API under `/api/v1`, with its OpenAPI 3.1 document generated from the routes.
//!
//! Public reads: regions, departments, the basic catalog, the published implementations, life
//! events, search and document verification. With the applicant's session: applications (start,
//! answers, materials, submit), bundles and the applicant's own cases. With an API token: case
//! actions and the case event feed. Lists are keyset-paged (`after` + `limit`, answer `{items, next}`). Errors are
//! `{"error": {code, message, issues}}` with a code from the closed set, in the language of
//! `?lang=` or `Accept-Language`.

mod bundles;
pub mod cache;
mod cases;
mod common;
mod departments;
mod drift;
mod implementation;
mod implementations;
mod life_events;
mod regions;
mod search;
mod standard_items;
mod verify;

pub use common::{ApiLang, DEFAULT_LIMIT, MAX_LIMIT};

use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "yiwang API",
        version = "1",
        description = "Catalog of government services: regions, departments, the basic catalog and \
            the published implementations. Enumerated values are stable English keys. Lists are \
            keyset-paged: pass the `next` cursor of one page as `after` to get the following page.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    tags(
        (name = "regions", description = "Administrative divisions (five levels, 12-digit codes)"),
        (name = "departments", description = "Government bodies by unified social credit code"),
        (name = "catalog", description = "Standard items and published implementations"),
        (name = "search", description = "Service search in plain Chinese and life events (一件事)"),
        (name = "cases", description = "Applications, cases and staff actions; the case-event feed (GB/T 39046 6.2–6.5)"),
        (name = "documents", description = "Public verification of issued documents (no personal data)"),
    ),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme (API tokens) that staff and feed operations name.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(regions::provinces))
        .routes(routes!(regions::region))
        .routes(routes!(regions::children))
        .routes(routes!(regions::region_path))
        .routes(routes!(departments::list))
        .routes(routes!(departments::department))
        .routes(routes!(standard_items::list))
        .routes(routes!(implementations::list))
        .routes(routes!(implementation::implementation))
        .routes(routes!(drift::drift))
        .routes(routes!(search::search))
        .routes(routes!(life_events::list))
        .routes(routes!(life_events::detail))
        .routes(routes!(verify::verify))
        .routes(routes!(cases::create_application))
        .routes(routes!(cases::save_answers))
        .routes(routes!(cases::upload_material))
        .routes(routes!(cases::submit))
        .routes(routes!(bundles::submit))
        .routes(routes!(cases::my_case))
        .routes(routes!(cases::case_action))
        .routes(routes!(cases::case_feed))
}

/// The OpenAPI document of every `/api/v1` route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = router().split_for_parts().1;
    document_refusals(&mut doc);
    doc
}

/// Adds the error answers the shared layers give (the router's limits, the route policy, the
/// extractors' rejections) to every operation where they can happen, so that the document
/// lists every status an operation answers. An operation's own description of a status wins.
fn document_refusals(doc: &mut utoipa::openapi::OpenApi) {
    use crate::routes::{Policy, policy_for};
    use axum::http::Method;
    use utoipa::openapi::path::ParameterIn;
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            (Method::GET, item.get.as_mut()),
            (Method::PUT, item.put.as_mut()),
            (Method::POST, item.post.as_mut()),
            (Method::DELETE, item.delete.as_mut()),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            for p in op.parameters.iter_mut().flatten() {
                if let utoipa::openapi::RefOr::T(p) = p
                    && matches!(p.parameter_in, ParameterIn::Query)
                {
                    allow_empty(&mut p.schema);
                }
            }
            let params: Vec<ParameterIn> = op
                .parameters
                .iter()
                .flatten()
                .filter_map(|p| match p {
                    utoipa::openapi::RefOr::T(p) => Some(p.parameter_in.clone()),
                    utoipa::openapi::RefOr::Ref(_) => None,
                })
                .collect();
            let in_path = params.iter().any(|p| matches!(p, ParameterIn::Path));
            let in_query = params.iter().any(|p| matches!(p, ParameterIn::Query));
            let body = op.request_body.is_some();
            // Every body is required: a call without one is malformed (422).
            if let Some(utoipa::openapi::RefOr::T(b)) = op.request_body.as_mut() {
                b.required = Some(utoipa::openapi::Required::True);
            }
            let policy = policy_for(&method, path);
            let mut add = |status: &str, description: &str| {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| error_response(description).into());
            };
            add(
                "400",
                "A NUL byte (`%00`) in the path or query, or a body that is not valid input",
            );
            match policy {
                Some(Policy::Applicant) => add("401", "No applicant session"),
                Some(Policy::ApiToken) => {
                    add("401", "No valid token");
                    add("403", "The token's grant does not allow this");
                }
                _ => {}
            }
            if method != Method::GET {
                add(
                    "403",
                    "Cross-site request refused (`Origin` or `Sec-Fetch-Site` names another site)",
                );
            }
            if in_path {
                add("404", "Not found");
            }
            if body {
                add("413", "Body too large");
            }
            if body || in_path || in_query {
                add(
                    "422",
                    "A malformed parameter, or a body that is not the documented JSON (or an \
                     empty multipart body)",
                );
            }
        }
    }
}

/// A number or yes/no in the query may also be sent empty, which means "not given" (as HTML
/// forms send empty fields); the schema says so, so that `?limit=` is a documented request.
fn allow_empty(schema: &mut Option<utoipa::openapi::RefOr<utoipa::openapi::Schema>>) {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, SchemaType, Type};
    use utoipa::openapi::{RefOr, Schema};
    let Some(RefOr::T(Schema::Object(obj))) = schema.as_ref() else {
        return;
    };
    let typed = |t: &Type| matches!(t, Type::Integer | Type::Number | Type::Boolean);
    let scalar = match &obj.schema_type {
        SchemaType::Type(t) => typed(t),
        SchemaType::Array(ts) => ts.iter().any(typed),
        SchemaType::AnyValue => false,
    };
    if !scalar {
        return;
    }
    let empty = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([""]));
    let either = AnyOfBuilder::new()
        .item(Schema::Object(obj.clone()))
        .item(empty)
        .description(obj.description.clone());
    *schema = Some(RefOr::T(Schema::AnyOf(either.build())));
}

/// An error answer in the shared envelope.
fn error_response(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// The document, serialized once.
fn openapi_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| openapi().to_json().unwrap_or_default())
}

pub async fn openapi_json(State(_): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        openapi_text(),
    )
        .into_response()
}
