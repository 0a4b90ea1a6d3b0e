//! The check-your-answers list: the answers as the applicant gave them, by section.

use super::{Fragment, html_id, pick};
use askama::Template;
use std::collections::HashMap;
use yiwang_domain::forms::{SummaryRow, SummarySection, SummaryValue};
use yiwang_i18n::{Lang, t, tf};

/// How the check-your-answers page shows values.
pub struct SummaryView<'a> {
    pub lang: Lang,
    /// Region names by 12-digit code (the page loads them); unknown codes show the code.
    pub region_names: &'a HashMap<String, String>,
    /// Where "change" links go (the form page); `None` shows no links (staff views).
    pub change_href: Option<&'a str>,
    /// Show identity numbers and phones in full (the applicant's own page) or masked.
    pub reveal: bool,
}

#[derive(Template)]
#[template(path = "forms/summary.html", escape = "form-html")]
struct SummaryHtml<'a> {
    sections: Vec<SectionRows<'a>>,
    not_answered: &'a str,
    change: &'a str,
}

struct SectionRows<'a> {
    title: &'a str,
    rows: Vec<Row<'a>>,
}

/// One `<dt>`/`<dd>` pair.
struct Row<'a> {
    label: &'a str,
    value: Value<'a>,
    /// The "change" link (`href` with the control's fragment).
    change_href: Option<String>,
}

enum Value<'a> {
    /// Not answered.
    Empty,
    /// Text shown line by line.
    Lines(Vec<String>),
    /// A group's rows, each with its `aria-label`; a group's members are never groups
    /// (`forms::load` refuses nested groups).
    Group(Vec<(String, Vec<Row<'a>>)>),
}

/// The check-your-answers list: one `<h2>` and `<dl>` per section; shown but unanswered
/// fields say "未填写".
pub fn summary_html(view: &SummaryView<'_>, sections: &[SummarySection]) -> Fragment {
    let lang = view.lang;
    Fragment::render(&SummaryHtml {
        sections: sections
            .iter()
            .filter(|s| !s.rows.is_empty())
            .map(|s| SectionRows {
                title: pick(&s.title, lang),
                rows: s.rows.iter().map(|r| row(view, r)).collect(),
            })
            .collect(),
        not_answered: t(lang, "forms.html.not_answered"),
        change: t(lang, "forms.html.change"),
    })
}

fn row<'a>(view: &SummaryView<'a>, r: &'a SummaryRow) -> Row<'a> {
    let lang = view.lang;
    let label = pick(&r.label, lang);
    let text = |s: &str| Value::Lines(vec![s.to_string()]);
    let value = match &r.value {
        SummaryValue::Empty => Value::Empty,
        SummaryValue::Plain(s) => Value::Lines(s.split('\n').map(str::to_string).collect()),
        SummaryValue::Options(labels) => text(
            &labels
                .iter()
                .map(|l| pick(l, lang))
                .collect::<Vec<_>>()
                .join(t(lang, "forms.html.list_sep")),
        ),
        SummaryValue::Personal { masked, full } => text(if view.reveal { full } else { masked }),
        SummaryValue::Address { region, detail } => {
            let region = region
                .as_ref()
                .map(|c| view.region_names.get(c).unwrap_or(c).as_str())
                .unwrap_or_default();
            text(format!("{region} {detail}").trim())
        }
        SummaryValue::Group(rows) if rows.is_empty() => Value::Empty,
        SummaryValue::Group(rows) => Value::Group(
            rows.iter()
                .enumerate()
                .map(|(i, members)| {
                    let n = (i + 1).to_string();
                    let aria = tf(lang, "forms.html.row", &[("label", label), ("n", &n)]);
                    (aria, members.iter().map(|m| row(view, m)).collect())
                })
                .collect(),
        ),
    };
    let change_href = match (view.change_href, &r.value) {
        (Some(base), v) if !matches!(v, SummaryValue::Group(_)) => {
            Some(format!("{base}#{}", html_id(&r.field)))
        }
        _ => None,
    };
    Row {
        label,
        value,
        change_href,
    }
}
