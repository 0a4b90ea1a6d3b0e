//! HTTP: the public portal, the staff console, the applicant's pages and the JSON API. Handlers
//! are thin: they parse input into checked types, call one use case (`yiwang_app`) or the
//! store, and render. The page modules (`portal`, `console`, `me`, `api`) never import each
//! other; they build on the kit: `html` (rendering, redirects, forms, page frames, the policy
//! question), `error` (`PageError`, `AppError`), `link`, `page`, `locale` and `auth`.

// The HTTP edge answers whatever anyone sends: no silent `as` casts and no index that could
// panic into a 500 (unit tests excepted). The other crates are moving to the same lints.
#![deny(clippy::as_conversions, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::as_conversions))]

pub mod api;
mod apply_pages;
pub mod auth;
mod case_documents;
pub mod console;
mod correction_view;
pub mod download;
mod error;
pub mod form_body;
pub mod forms_html;
mod html;
/// The console menu (path, message key), shown to each staff member as far as the route table lets them open it.
pub use html::CONSOLE_MENU;
mod link;
mod locale;
mod materials;
pub mod me;
mod page;
pub mod portal;
pub mod routes;
pub mod security;
pub mod upload;

pub use auth::{CurrentUser, SESSION_COOKIE, hash_token};
pub use error::{AppError, status_for};
pub use locale::Locale;
pub use page::Page;

use axum::Router;
use std::sync::Arc;
use yiwang_store::Store;

// Where "now" comes from: the workspace's one clock; tests put a `FixedClock` in the state.
use yiwang_app::clock::{Clock, SystemClock};

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Send cookies with `Secure` (behind HTTPS). Off only for local development.
    pub secure_cookies: bool,
    /// Absolute session lifetime from sign-in.
    pub session_ttl_ms: i64,
    /// A session unused for this long ends (idle timeout).
    pub session_idle_ms: i64,
    /// Largest accepted upload (catalog files), bytes.
    pub max_upload_bytes: usize,
    /// A request not answered within this time gets 408 (slow clients, stuck handlers).
    pub request_timeout_ms: u64,
    /// The site's public address, printed in notices' verification links and QR codes.
    pub public_url: String,
    /// Reverse proxies whose `X-Forwarded-For` is believed (exact addresses); empty: none.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The audit anchors file (`yiwang audit anchor`), checked by the console's chain check.
    pub audit_anchors: Option<std::path::PathBuf>,
    /// How notices are numbered (文号) and sealed, per department.
    pub notices: yiwang_app::notices::NoticeSettings,
}

impl WebConfig {
    /// Whether browsers reach the site over HTTPS: `secure_cookies` is set, or the public
    /// address is `https://` (a TLS proxy in front of a plain-HTTP listener on the same host is
    /// still HTTPS to the browser). The one decision for `Secure` cookies (and their `__Host-`
    /// names) and for `Strict-Transport-Security`; [`AppState::new`] folds it into
    /// `secure_cookies`, so reading that field gives the same answer.
    pub fn secure_transport(&self) -> bool {
        self.secure_cookies || security::is_https_url(&self.public_url)
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: true,
            session_ttl_ms: 8 * 3600 * 1000,
            session_idle_ms: 30 * 60 * 1000,
            max_upload_bytes: 20 * 1024 * 1024,
            request_timeout_ms: 30_000,
            public_url: "http://127.0.0.1:8080".to_string(),
            trusted_proxies: Vec::new(),
            audit_anchors: None,
            notices: yiwang_app::notices::NoticeSettings::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<WebConfig>,
    pub cache: Arc<api::cache::CatalogCache>,
    /// The search index (in memory unless [`AppState::with_search`] gives an on-disk one).
    pub search: Arc<yiwang_search::SearchService>,
    /// Uploaded materials (in memory unless [`AppState::with_files`] gives a directory).
    pub files: Arc<dyn yiwang_app::files::FileStore>,
    /// Renders the notices case steps issue (links under `config.public_url`).
    pub docs: Arc<dyn yiwang_store::cases::DocumentIssuer>,
    /// The online identity verifier (实名核验); in person only unless configured.
    pub identity: Arc<dyn yiwang_app::identity::IdentityVerifier>,
    /// The official calendar, read from the store at most once a minute.
    calendar: Arc<std::sync::RwLock<Option<CachedCalendar>>>,
}

/// A calendar and when it was read (epoch ms).
type CachedCalendar = (i64, Arc<yiwang_domain::calendar::Calendar>);

/// How long a loaded calendar is used before it is read again (`yiwang calendar import`
/// reaches running servers within this time).
pub const CALENDAR_CACHE_MS: i64 = 60_000;

impl AppState {
    pub fn new(store: Store, mut config: WebConfig) -> Self {
        config.secure_cookies = config.secure_transport();
        let docs = Arc::new(
            yiwang_app::notices::PdfIssuer::new(&config.public_url)
                .with_settings(config.notices.clone()),
        );
        Self {
            calendar: Arc::default(),
            docs,
            store,
            clock: Arc::new(SystemClock),
            config: Arc::new(config),
            cache: Arc::new(api::cache::CatalogCache::default()),
            search: Arc::new(yiwang_search::SearchService::in_memory()),
            files: Arc::new(yiwang_app::files::MemoryFileStore::default()),
            identity: Arc::new(yiwang_app::identity::InPersonOnly),
        }
    }
    /// Verifies identities online through this verifier (the binary's `identity_verifier`).
    pub fn with_identity_verifier(
        mut self,
        verifier: Arc<dyn yiwang_app::identity::IdentityVerifier>,
    ) -> Self {
        self.identity = verifier;
        self
    }
    /// Stores uploaded materials here (the binary's `<data_dir>/files`).
    pub fn with_files(mut self, files: Arc<dyn yiwang_app::files::FileStore>) -> Self {
        self.files = files;
        self
    }
    /// Uses this search service (the binary's, with its index under the data directory).
    pub fn with_search(mut self, search: Arc<yiwang_search::SearchService>) -> Self {
        self.search = search;
        self
    }
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
    /// The time and calendar a case operation runs under (the notice renderer is `docs`).
    pub fn case_clock<'a>(
        &'a self,
        calendar: &'a yiwang_domain::calendar::Calendar,
    ) -> yiwang_store::cases::CaseClock<'a> {
        yiwang_store::cases::CaseClock {
            now_ms: self.now_ms(),
            today: yiwang_domain::calendar::CivilDate::from_unix_ms(self.now_ms(), 8 * 3600),
            calendar,
        }
    }
    /// The official calendar as stored (holidays and adjusted working days).
    pub async fn calendar(
        &self,
    ) -> Result<Arc<yiwang_domain::calendar::Calendar>, yiwang_store::StoreError> {
        let now = self.now_ms();
        let cached = self
            .calendar
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some((at, cal)) = cached
            && now.saturating_sub(at) < CALENDAR_CACHE_MS
        {
            return Ok(cal);
        }
        let fresh = Arc::new(self.store.calendar().await?);
        *self
            .calendar
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((now, fresh.clone()));
        Ok(fresh)
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (api_router, _openapi) = api::router().split_for_parts();
    let app = Router::new()
        .merge(portal::router())
        .merge(console::router())
        .merge(me::router())
        .merge(api_router)
        .route("/api/openapi.json", axum::routing::get(api::openapi_json))
        .route("/api/v1/me", axum::routing::get(auth::api_token::me))
        .route("/static/site.css", axum::routing::get(page::stylesheet))
        .fallback(error::not_found);
    // Every route is declared in routes.rs; headers, limits, CSRF and the policy wrap them all.
    security::harden(app, &state)
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.max_upload_bytes,
        ))
        .with_state(state)
}

/// What the binary needs to serve the router without depending on axum itself.
pub mod serve_support {
    pub use axum::Router;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

    /// The site's public address, printed in notices' QR codes: the configured one when set
    /// (trailing `/` dropped), else the address the server really listens on (`bound`, so port
    /// 0 becomes the port the system chose). A wildcard listener (`0.0.0.0`, `::`) is reached
    /// on this host through loopback.
    pub fn public_url(configured: Option<&str>, bound: SocketAddr) -> String {
        if let Some(u) = configured.map(str::trim).filter(|u| !u.is_empty()) {
            return u.trim_end_matches('/').to_string();
        }
        let ip = match bound.ip() {
            IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, bound.port()))
    }

    /// Whether a public address points at this machine only (`localhost`, `127.x`, `::1`):
    /// QR codes printed with it cannot be opened from a citizen's phone.
    pub fn is_loopback_url(url: &str) -> bool {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => host.rsplit_once(':').map_or(host, |(h, _)| h),
        };
        host.eq_ignore_ascii_case("localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Serves with the peer address available to handlers (sign-in throttling per address).
    pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    }
}
