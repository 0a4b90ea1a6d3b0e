//! What every HTML page shares: language, title, the signed-in user, and message lookup.

use crate::locale::Locale;
use axum::http::header;
use axum::response::IntoResponse;
use yiwang_domain::enums::CodeSet;
use yiwang_i18n::{Lang, t, tf};

#[derive(Debug, Clone)]
pub struct Page {
    pub lang: Lang,
    pub title: String,
    /// Display name of the signed-in staff member, if any.
    pub user: Option<String>,
    /// Masked name of the signed-in applicant, on the applicant's own pages.
    pub applicant: Option<String>,
    /// Current path and query without `lang`, for the language switch link.
    pub path: String,
    /// Carry `lang=en` in links when the language was chosen by query string.
    pub explicit_lang: bool,
    /// The elderly mode (长辈版) is on: `<html class="elder">` and the simpler page parts.
    pub elder: bool,
    /// The console menu a signed-in staff member may use: path and message key (see
    /// `html::staff_nav`); empty elsewhere.
    pub staff_nav: Vec<(&'static str, &'static str)>,
}

impl Page {
    pub fn new(locale: Locale, title: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            lang: locale.lang,
            title: title.into(),
            user: None,
            applicant: None,
            path: path.into(),
            explicit_lang: locale.explicit,
            elder: locale.elder,
            staff_nav: Vec::new(),
        }
    }
    pub fn bare(locale: Locale, title: impl Into<String>) -> Self {
        Self::new(locale, title, "/")
    }
    pub fn with_user(mut self, user: Option<String>) -> Self {
        self.user = user;
        self
    }
    pub fn t(&self, key: &str) -> String {
        t(self.lang, key).to_string()
    }
    pub fn tf(&self, key: &str, name: &str, value: &str) -> String {
        tf(self.lang, key, &[(name, value)])
    }
    pub fn label<T: CodeSet>(&self, v: &T) -> &'static str {
        yiwang_i18n::label(self.lang, *v)
    }
    pub fn html_lang(&self) -> &'static str {
        self.lang.tag()
    }
    /// A link to `href` in the current language.
    pub fn href(&self, href: &str) -> String {
        if self.lang == Lang::En {
            let sep = if href.contains('?') { '&' } else { '?' };
            format!("{href}{sep}lang=en")
        } else {
            href.to_string()
        }
    }
    /// The same page in the other language.
    pub fn switch_href(&self) -> String {
        let other = self.lang.other();
        let sep = if self.path.contains('?') { '&' } else { '?' };
        format!("{}{sep}lang={}", self.path, other.tag())
    }
    pub fn switch_label(&self) -> String {
        self.t("nav.switch_lang")
    }
    /// The same page with the elderly mode switched the other way (the middleware remembers
    /// the choice in a cookie).
    pub fn elder_href(&self) -> String {
        let path = strip_query_param(&self.path, "elder");
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{path}{sep}elder={}", u8::from(!self.elder))
    }
    pub fn elder_label(&self) -> String {
        self.t(if self.elder {
            "nav.elder_off"
        } else {
            "nav.elder_on"
        })
    }
    /// A file size people can read (`591 B`, `1.2 MB`).
    pub fn file_size(&self, bytes: &i64) -> String {
        crate::apply_pages::human_size(*bytes)
    }
    /// Epoch milliseconds as a Beijing-time date (YYYY-MM-DD).
    pub fn date(&self, ms: &i64) -> String {
        format_date(*ms)
    }
    /// Epoch milliseconds as Beijing date and time (YYYY-MM-DD HH:MM).
    pub fn datetime(&self, ms: &i64) -> String {
        let local = ms + 8 * 3600 * 1000;
        let mins = local.div_euclid(60_000).rem_euclid(24 * 60);
        format!("{} {:02}:{:02}", format_date(*ms), mins / 60, mins % 60)
    }
    /// A calendar day as YYYY-MM-DD.
    pub fn day(&self, d: &yiwang_domain::calendar::CivilDate) -> String {
        let (y, m, dd) = d.ymd();
        format!("{y:04}-{m:02}-{dd:02}")
    }
    pub fn date_opt(&self, ms: &Option<i64>) -> String {
        ms.map(format_date).unwrap_or_default()
    }
}

/// `path` without any `name=` parameter in its query.
fn strip_query_param(path: &str, name: &str) -> String {
    let Some((base, query)) = path.split_once('?') else {
        return path.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| kv.split_once('=').map_or(*kv, |(k, _)| k) != name)
        .collect();
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// Civil date in UTC+8 from epoch milliseconds (Howard Hinnant's days-to-civil algorithm).
pub fn format_date(ms: i64) -> String {
    let days = (ms + 8 * 3600 * 1000).div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

const CSS: &str = include_str!("../static/site.css");

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn elder_switch_replaces_its_own_parameter() {
        assert_eq!(
            super::strip_query_param("/a?elder=1&q=x", "elder"),
            "/a?q=x"
        );
        assert_eq!(super::strip_query_param("/a?elder=0", "elder"), "/a");
        assert_eq!(
            super::strip_query_param("/a?elderly=1", "elder"),
            "/a?elderly=1"
        );
        assert_eq!(super::strip_query_param("/a", "elder"), "/a");
    }

    #[test]
    fn dates_in_beijing_time() {
        assert_eq!(super::format_date(0), "1970-01-01");
        // 2026-11-29T16:00:00Z is already the 30th in Beijing.
        assert_eq!(super::format_date(1_795_968_000_000), "2026-11-30");
        assert_eq!(super::format_date(1_795_967_999_999), "2026-11-29");
    }
}
