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
    fn dates_in_beijing_time() {
        assert_eq!(super::format_date(0), "1970-01-01");
        // 2026-11-29T16:00:00Z is already the 30th in Beijing.
        assert_eq!(super::format_date(1_795_968_000_000), "2026-11-30");
        assert_eq!(super::format_date(1_795_967_999_999), "2026-11-29");
    }
}
