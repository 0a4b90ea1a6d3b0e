//! The public portal: home, browse by region / department / theme / audience, name search and
//! the item guide (办事指南). Server-rendered, no JavaScript, everything public (GET only, but for the
//! progress lookup's form).

mod audience;
mod departments;
mod guide;
mod guide_view;
mod home;
mod life_events;
mod listing;
mod progress;
mod regions;
mod search;
mod themes;
mod verify;
pub mod words;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::html::PageError;
use crate::locale::Locale;
use crate::page::Page;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::get;
use yiwang_domain::{ErrorCode, RegionCode};
use yiwang_store::Region;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::show))
        .route("/regions", get(regions::index))
        .route("/regions/{code}", get(regions::show))
        .route("/departments", get(departments::index))
        .route("/departments/{code}", get(departments::show))
        .route("/themes", get(themes::index))
        .route("/themes/{theme}", get(themes::show))
        .route("/audience/{kind}", get(audience::show))
        .route("/search", get(search::show))
        .route("/life-events", get(life_events::index))
        .route("/life-events/{code}", get(life_events::show))
        .route("/items/{code}", get(guide::current))
        .route("/items/{code}/versions/{version}", get(guide::version))
        .route("/verify", get(verify::lookup))
        .route("/verify/{code}", get(verify::show))
        .route("/progress", get(progress::form).post(progress::lookup))
}

/// What every portal handler needs: the state, the reader's language and the page frame.
pub(crate) struct Ctx {
    pub st: AppState,
    pub page: Page,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(locale) = Locale::from_request_parts(parts, state).await;
        let user = CurrentUser::from_request_parts(parts, state).await?;
        // A signed-in citizen sees their account and 退出 in the header on every page.
        let applicant = crate::auth::CurrentApplicant::from_request_parts(parts, state).await?;
        let mut page = Page::new(locale, String::new(), crate::link::here(&parts.uri))
            .with_user(user.display_name());
        page.applicant = applicant
            .0
            .as_ref()
            .map(yiwang_store::applicants::Applicant::masked_name);
        Ok(Self {
            st: state.clone(),
            page,
        })
    }
}

impl Ctx {
    pub fn err(&self, code: ErrorCode) -> PageError {
        PageError::new(code)
    }
    pub fn t(&self, key: &str) -> String {
        self.page.t(key)
    }
    pub fn tf(&self, key: &str, name: &str, value: &str) -> String {
        self.page.tf(key, name, value)
    }
    pub fn titled(mut self, title: String) -> Self {
        self.page.title = title;
        self
    }
}

/// A link with its text.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub text: String,
    pub href: String,
}

/// One step of the breadcrumbs; the last has no link (it is the current page).
#[derive(Debug, Clone)]
pub(crate) struct Crumb {
    pub text: String,
    pub href: Option<String>,
}

impl Ctx {
    /// Breadcrumbs starting at the home page, ending with `last` (unlinked).
    pub fn crumbs(&self, middle: Vec<Link>, last: &str) -> Vec<Crumb> {
        let mut v = vec![Crumb {
            text: self.t("nav.home"),
            href: Some(self.page.href("/")),
        }];
        v.extend(middle.into_iter().map(|l| Crumb {
            text: l.text,
            href: Some(l.href),
        }));
        v.push(Crumb {
            text: last.to_string(),
            href: None,
        });
        v
    }
    pub fn link(&self, text: impl Into<String>, href: &str) -> Link {
        Link {
            text: text.into(),
            href: self.page.href(href),
        }
    }
    pub fn region_link(&self, r: &Region) -> Link {
        self.link(r.name.clone(), &format!("/regions/{}", r.code.prefix()))
    }
}

/// The region this platform serves: the smallest region holding every registered department.
pub(crate) async fn home_region(ctx: &Ctx) -> Result<Option<Region>, PageError> {
    let deps = ctx.st.store.departments(None).await?;
    let mut iter = deps.iter().map(|d| &d.region);
    let Some(first) = iter.next() else {
        return Ok(None);
    };
    let mut common: RegionCode = first.clone();
    for r in iter {
        while !common.contains(r) {
            match common.parent() {
                Some(p) => common = p,
                None => return Ok(None),
            }
        }
    }
    Ok(ctx.st.store.region(&common).await?)
}
