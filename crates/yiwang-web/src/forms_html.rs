//! Application forms in HTML: the controls of a [`FormDefinition`] with the current raw values
//! and errors, the error summary, the check-your-answers summary and the declaration block.
//! Every page works without JavaScript. Posted bodies are read by [`crate::form_body`].
//!
//! Every function returns an HTML fragment in which all outside text (labels, values, region
//! names) is escaped here, so a template may include it with `|safe`.
//!
//! How a handler uses it (see also `yiwang_domain::forms`):
//!
//! ```text
//! let raw = form_body::parse_form_body(&def, &body)?; // RawError → 400 (InvalidFormInput)
//! if raw.apply_row_action(&def).is_some() { re-render with `raw`, no errors }
//! match validate(&def, &raw, mode) { Ok(answers) → save / check page, Err(errs) → re-render }
//! page: error_summary_html(&view) (above the <h1>) + <form …> fields_html(&view) + buttons </form>
//! ```
//!
//! Choices made for a page without JavaScript:
//! - **Conditions** (`show_if`): every field is shown; a conditional field carries the note
//!   "只在「是否从事网络经营」选择「是」时填写". Validation drops a hidden field's value, so
//!   nothing a user writes into a field that does not apply is kept or checked.
//! - **Repeatable groups**: each row has a "remove" button (`_remove=group[i]`), the group an
//!   "add another" button (`_add=group`); both submit the form, and the handler re-renders it
//!   with one row more or less. A visually hidden default button (`_action=<default>`) comes
//!   first so that Enter in a text box never presses "remove".
//! - **Region picker**: a `<select>` of the regions under the field's `region_root` (or under a
//!   root the caller picks when the field has none), which the caller loads with
//!   `Store::region_subtree` and passes in [`FormView::regions`] keyed by the root code
//!   (`""` for fields without a root). With no list, a plain 12-digit code box is shown.

use std::collections::{BTreeMap, HashMap};
use yiwang_domain::forms::{
    ADD_CONTROL, Field, FieldError, FieldKind, FormDefinition, REMOVE_CONTROL, RawAnswers,
    SummarySection, SummaryValue, Text,
};
use yiwang_i18n::{Lang, t, tf};

/// The name of the declaration checkbox (a page control, never an answer).
pub const DECLARATION_CONTROL: &str = "_declaration";
/// The name of the page's action buttons (`save`, `continue`, `submit`…).
pub const ACTION_CONTROL: &str = "_action";

/// One region offered by an address picker; `depth` 0 is the level just below the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionOption {
    pub code: String,
    pub name: String,
    pub depth: u8,
}

/// Everything needed to render a form.
pub struct FormView<'a> {
    pub def: &'a FormDefinition,
    pub raw: &'a RawAnswers,
    pub errors: &'a [FieldError],
    pub lang: Lang,
    /// Region choices per root code (`""` for address fields without `region_root`).
    pub regions: &'a BTreeMap<String, Vec<RegionOption>>,
    /// The `_action` value of the hidden default button (what Enter does), e.g. `continue`.
    pub default_action: &'a str,
}

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// The element id of the control posted as `name` (`managers[1].name` → `f-managers-1--name`).
pub fn html_id(name: &str) -> String {
    let mut id = String::from("f-");
    for c in name.chars() {
        id.push(if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '-'
        });
    }
    id
}

fn pick(t: &Text, lang: Lang) -> &str {
    t.pick(lang == Lang::En)
}

/// The message of a field error, in `lang`.
pub fn error_text(lang: Lang, e: &FieldError) -> String {
    let args: Vec<(&str, &str)> = e
        .args
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    tf(lang, &e.key, &args)
}

/// The label a posted name stands for: `经营者名称`, `食品安全管理人员 第 2 项 · 姓名`,
/// `经营场所 · 详细地址`. Unknown names give the name itself.
pub fn label_of(def: &FormDefinition, lang: Lang, name: &str) -> String {
    if name == DECLARATION_CONTROL {
        return t(lang, "forms.html.declaration_legend").to_string();
    }
    let (head, rest) = match name.split_once('[') {
        Some((g, rest)) => (g, Some(rest)),
        None => (name.split('.').next().unwrap_or(name), None),
    };
    let Some(f) = def.field(head) else {
        return name.to_string();
    };
    let mut out = pick(&f.label, lang).to_string();
    let mut tail = name[head.len()..].to_string();
    if let Some(rest) = rest
        && let Some((idx, member)) = rest.split_once("].")
    {
        let n = idx.parse::<usize>().map_or(0, |i| i + 1).to_string();
        out = tf(lang, "forms.html.row", &[("label", &out), ("n", &n)]);
        let key = member.split('.').next().unwrap_or(member);
        if let Some(m) = f.fields.iter().find(|m| m.key == key) {
            out.push_str(" · ");
            out.push_str(pick(&m.label, lang));
        }
        tail = member[key.len()..].to_string();
    }
    match tail.as_str() {
        ".region" => {
            out.push_str(" · ");
            out.push_str(t(lang, "forms.html.region"));
        }
        ".detail" => {
            out.push_str(" · ");
            out.push_str(t(lang, "forms.html.detail"));
        }
        _ => {}
    }
    out
}

/// The GOV.UK error summary: a titled box listing every error, each linking to its control.
/// Empty when there are no errors. Put it at the top of the page, before the `<h1>`.
pub fn error_summary_html(view: &FormView<'_>) -> String {
    if view.errors.is_empty() {
        return String::new();
    }
    let lang = view.lang;
    let mut h = String::new();
    h.push_str("<div class=\"warn-box error-summary\" role=\"alert\" aria-labelledby=\"error-summary-title\" tabindex=\"-1\">");
    h.push_str(&format!(
        "<h2 id=\"error-summary-title\">{}</h2><ul class=\"issues\">",
        esc(t(lang, "forms.html.error_summary_title"))
    ));
    for e in view.errors {
        h.push_str(&format!(
            "<li><a href=\"#{}\">{}{}{}</a></li>",
            esc(&html_id(&e.field)),
            esc(&label_of(view.def, lang, &e.field)),
            esc(t(lang, "issue.colon")),
            esc(&error_text(lang, e))
        ));
    }
    h.push_str("</ul></div>");
    h
}

/// Errors by posted name, joined when one field has several.
fn errors_by_field(view: &FormView<'_>) -> HashMap<String, String> {
    let mut m: HashMap<String, String> = HashMap::new();
    for e in view.errors {
        let text = error_text(view.lang, e);
        m.entry(e.field.clone())
            .and_modify(|s| {
                s.push_str(t(view.lang, "console.list_sep"));
                s.push_str(&text);
            })
            .or_insert(text);
    }
    m
}

struct Ctx<'a, 'v> {
    view: &'a FormView<'v>,
    errors: HashMap<String, String>,
    h: String,
}

/// The form's sections and controls (no `<form>` element and no action buttons: the page
/// adds those). Starts with the hidden default button.
pub fn fields_html(view: &FormView<'_>) -> String {
    let mut c = Ctx {
        view,
        errors: errors_by_field(view),
        h: String::new(),
    };
    c.h.push_str(&format!(
        "<button type=\"submit\" name=\"{ACTION_CONTROL}\" value=\"{}\" class=\"visually-hidden\" tabindex=\"-1\" aria-hidden=\"true\">{}</button>",
        esc(view.default_action),
        esc(t(view.lang, "forms.html.default_button"))
    ));
    c.h.push_str("<div class=\"app-form\">");
    for s in &view.def.sections {
        c.h.push_str(&format!(
            "<section class=\"form-section\" id=\"s-{}\"><h2>{}</h2>",
            esc(&s.key),
            esc(pick(&s.title, view.lang))
        ));
        for f in &s.fields {
            if f.kind == FieldKind::Group {
                c.group(f);
            } else {
                c.field(f, &f.key, None);
            }
        }
        c.h.push_str("</section>");
    }
    c.h.push_str("</div>");
    c.h
}

/// `error_summary_html` + a `<form>` with `fields_html` and the given buttons
/// (`(value of _action, label)`; the first is the default).
pub fn form_html(view: &FormView<'_>, action: &str, buttons: &[(&str, &str)]) -> String {
    let mut h = error_summary_html(view);
    h.push_str(&format!(
        "<form method=\"post\" action=\"{}\" class=\"console-form app-form-page\" novalidate>",
        esc(action)
    ));
    h.push_str(&fields_html(view));
    h.push_str("<div class=\"form-buttons\">");
    for (value, label) in buttons {
        h.push_str(&format!(
            "<button type=\"submit\" name=\"{ACTION_CONTROL}\" value=\"{}\">{}</button> ",
            esc(value),
            esc(label)
        ));
    }
    h.push_str("</div></form>");
    h
}

impl Ctx<'_, '_> {
    fn lang(&self) -> Lang {
        self.view.lang
    }

    /// The label line: text and the required/optional marker.
    fn label_text(&self, f: &Field) -> String {
        let marker = if f.required {
            "forms.html.required"
        } else {
            "forms.html.optional"
        };
        format!(
            "{}<span class=\"marker\">{}</span>",
            esc(pick(&f.label, self.lang())),
            esc(t(self.lang(), marker))
        )
    }

    /// Hint, condition note and error lines; returns the ids for `aria-describedby`.
    fn notes(
        &mut self,
        f: &Field,
        id: &str,
        error_names: &[&str],
        group: Option<&Field>,
    ) -> String {
        let lang = self.lang();
        let mut ids = Vec::new();
        let mut hint = Vec::new();
        if let Some(help) = &f.help {
            hint.push(esc(pick(help, lang)));
        }
        if let Some(c) = &f.show_if {
            let target = group
                .and_then(|g| g.fields.iter().find(|m| m.key == c.field))
                .or_else(|| self.view.def.field(&c.field));
            if let Some(target) = target {
                let values: Vec<&str> = c
                    .any_of
                    .iter()
                    .filter_map(|v| target.option(v).map(|o| pick(&o.label, lang)))
                    .collect();
                hint.push(esc(&tf(
                    lang,
                    "forms.html.only_if",
                    &[
                        ("field", pick(&target.label, lang)),
                        ("values", &values.join(t(lang, "forms.html.or"))),
                    ],
                )));
            }
        }
        match f.kind {
            FieldKind::Date => hint.push(esc(t(lang, "forms.html.date_hint"))),
            FieldKind::Number => {
                if let (Some(lo), Some(hi)) = (f.min, f.max) {
                    hint.push(esc(&tf(
                        lang,
                        "forms.html.range",
                        &[("min", &lo.to_string()), ("max", &hi.to_string())],
                    )));
                }
            }
            _ => {}
        }
        if !hint.is_empty() {
            let hid = format!("h-{id}");
            self.h.push_str(&format!(
                "<p class=\"field-hint\" id=\"{hid}\">{}</p>",
                hint.join(" ")
            ));
            ids.push(hid);
        }
        let msgs: Vec<String> = error_names
            .iter()
            .filter_map(|n| self.errors.get(*n).cloned())
            .collect();
        if !msgs.is_empty() {
            let eid = format!("e-{id}");
            self.h.push_str(&format!(
                "<p class=\"field-error\" id=\"{eid}\"><span class=\"visually-hidden\">{}</span>{}</p>",
                esc(t(lang, "forms.html.error_prefix")),
                esc(&msgs.join(t(lang, "console.list_sep")))
            ));
            ids.push(eid);
        }
        if ids.is_empty() {
            String::new()
        } else {
            format!(" aria-describedby=\"{}\"", ids.join(" "))
        }
    }

    fn invalid(&self, names: &[&str]) -> &'static str {
        if names.iter().any(|n| self.errors.contains_key(*n)) {
            " aria-invalid=\"true\""
        } else {
            ""
        }
    }

    /// One non-group field posted as `name`.
    fn field(&mut self, f: &Field, name: &str, group: Option<&Field>) {
        let id = html_id(name);
        let lang = self.lang();
        let raw = self.view.raw;
        let err_class = |names: &[&str], errors: &HashMap<String, String>| {
            if names.iter().any(|n| errors.contains_key(*n)) {
                " field-with-error"
            } else {
                ""
            }
        };
        match f.kind {
            FieldKind::Choice | FieldKind::MultiChoice => {
                let multi = f.kind == FieldKind::MultiChoice;
                let cls = err_class(&[name], &self.errors);
                let selected: Vec<&str> = raw.get_all(name).iter().map(|s| s.trim()).collect();
                if !multi && f.options.len() > 6 {
                    // A long single choice is a select.
                    self.h.push_str(&format!(
                        "<div class=\"field{cls}\"><label for=\"{id}\">{}</label>",
                        self.label_text(f)
                    ));
                    let described = self.notes(f, &id, &[name], group);
                    self.h.push_str(&format!(
                        "<select id=\"{id}\" name=\"{}\"{described}{}><option value=\"\">{}</option>",
                        esc(name),
                        self.invalid(&[name]),
                        esc(t(lang, "forms.html.choose"))
                    ));
                    for o in &f.options {
                        let sel = if selected.contains(&o.value.as_str()) {
                            " selected"
                        } else {
                            ""
                        };
                        self.h.push_str(&format!(
                            "<option value=\"{}\"{sel}>{}</option>",
                            esc(&o.value),
                            esc(pick(&o.label, lang))
                        ));
                    }
                    self.h.push_str("</select></div>");
                    return;
                }
                self.h.push_str(&format!(
                    "<div class=\"field{cls}\"><fieldset class=\"choices\" id=\"fs-{id}\"><legend>{}</legend>",
                    self.label_text(f)
                ));
                let described = self.notes(f, &id, &[name], group);
                let kind = if multi { "checkbox" } else { "radio" };
                for (i, o) in f.options.iter().enumerate() {
                    let oid = if i == 0 {
                        id.clone()
                    } else {
                        format!("{id}-{i}")
                    };
                    let checked = if selected.contains(&o.value.as_str()) {
                        " checked"
                    } else {
                        ""
                    };
                    self.h.push_str(&format!(
                        "<label class=\"check\" for=\"{oid}\"><input type=\"{kind}\" id=\"{oid}\" name=\"{}\" value=\"{}\"{checked}{described}> {}</label>",
                        esc(name),
                        esc(&o.value),
                        esc(pick(&o.label, lang))
                    ));
                }
                self.h.push_str("</fieldset></div>");
            }
            FieldKind::Address => self.address(f, name, &id, group),
            FieldKind::Group => {}
            _ => {
                let cls = err_class(&[name], &self.errors);
                self.h.push_str(&format!(
                    "<div class=\"field{cls}\"><label for=\"{id}\">{}</label>",
                    self.label_text(f)
                ));
                let described = self.notes(f, &id, &[name], group);
                let value = esc(raw.get(name));
                let invalid = self.invalid(&[name]);
                let n = esc(name);
                let max = f.effective_max_len();
                let control = match f.kind {
                    FieldKind::Textarea => format!(
                        "<textarea id=\"{id}\" name=\"{n}\" rows=\"5\" maxlength=\"{max}\"{described}{invalid}>{value}</textarea>"
                    ),
                    FieldKind::Number => {
                        let unit = f
                            .unit
                            .as_deref()
                            .map(|u| format!(" <span class=\"unit\">{}</span>", esc(u)))
                            .unwrap_or_default();
                        format!(
                            "<input type=\"text\" inputmode=\"decimal\" class=\"short\" id=\"{id}\" name=\"{n}\" value=\"{value}\"{described}{invalid}>{unit}"
                        )
                    }
                    FieldKind::Date => format!(
                        "<input type=\"date\" class=\"short\" id=\"{id}\" name=\"{n}\" value=\"{value}\"{}{}{described}{invalid}>",
                        f.min_date
                            .as_deref()
                            .map(|d| format!(" min=\"{}\"", esc(d)))
                            .unwrap_or_default(),
                        f.max_date
                            .as_deref()
                            .map(|d| format!(" max=\"{}\"", esc(d)))
                            .unwrap_or_default(),
                    ),
                    FieldKind::Phone => format!(
                        "<input type=\"tel\" autocomplete=\"tel\" inputmode=\"tel\" class=\"short\" id=\"{id}\" name=\"{n}\" value=\"{value}\"{described}{invalid}>"
                    ),
                    FieldKind::ResidentId | FieldKind::CreditCode => format!(
                        "<input type=\"text\" autocomplete=\"off\" spellcheck=\"false\" autocapitalize=\"characters\" class=\"code-input\" maxlength=\"24\" id=\"{id}\" name=\"{n}\" value=\"{value}\"{described}{invalid}>"
                    ),
                    _ => format!(
                        "<input type=\"text\" id=\"{id}\" name=\"{n}\" maxlength=\"{max}\" value=\"{value}\"{described}{invalid}>"
                    ),
                };
                self.h.push_str(&control);
                self.h.push_str("</div>");
            }
        }
    }

    fn address(&mut self, f: &Field, name: &str, id: &str, group: Option<&Field>) {
        let lang = self.lang();
        let rname = format!("{name}.region");
        let dname = format!("{name}.detail");
        let (rid, did) = (html_id(&rname), html_id(&dname));
        let names = [rname.as_str(), dname.as_str()];
        let cls = if names.iter().any(|n| self.errors.contains_key(*n)) {
            " field-with-error"
        } else {
            ""
        };
        self.h.push_str(&format!(
            "<div class=\"field{cls}\"><fieldset class=\"address\" id=\"fs-{id}\"><legend>{}</legend>",
            self.label_text(f)
        ));
        let described = self.notes(f, id, &names, group);
        let current = self.view.raw.get(&rname).trim().to_string();
        let root = f.region_root.clone().unwrap_or_default();
        self.h.push_str(&format!(
            "<label for=\"{rid}\">{}</label>",
            esc(t(lang, "forms.html.region"))
        ));
        match self.view.regions.get(&root).filter(|l| !l.is_empty()) {
            Some(list) => {
                self.h.push_str(&format!(
                    "<select id=\"{rid}\" name=\"{}\"{described}{}><option value=\"\">{}</option>",
                    esc(&rname),
                    self.invalid(&[&rname]),
                    esc(t(lang, "forms.html.choose"))
                ));
                let mut found = current.is_empty();
                for r in list {
                    let sel = if r.code == current {
                        found = true;
                        " selected"
                    } else {
                        ""
                    };
                    let indent = "\u{3000}".repeat(usize::from(r.depth));
                    self.h.push_str(&format!(
                        "<option value=\"{}\"{sel}>{indent}{}</option>",
                        esc(&r.code),
                        esc(&r.name)
                    ));
                }
                if !found {
                    // Keep what was posted visible (it will carry its own error).
                    self.h.push_str(&format!(
                        "<option value=\"{0}\" selected>{0}</option>",
                        esc(&current)
                    ));
                }
                self.h.push_str("</select>");
            }
            None => {
                self.h.push_str(&format!(
                    "<input type=\"text\" inputmode=\"numeric\" class=\"short\" maxlength=\"12\" id=\"{rid}\" name=\"{}\" value=\"{}\" placeholder=\"{}\"{described}{}>",
                    esc(&rname),
                    esc(&current),
                    esc(t(lang, "forms.html.region_code")),
                    self.invalid(&[&rname])
                ));
            }
        }
        self.h.push_str(&format!(
            "<label for=\"{did}\">{}</label><input type=\"text\" autocomplete=\"street-address\" id=\"{did}\" name=\"{}\" maxlength=\"{}\" value=\"{}\"{described}{}>",
            esc(t(lang, "forms.html.detail")),
            esc(&dname),
            f.effective_max_len(),
            esc(self.view.raw.get(&dname)),
            self.invalid(&[&dname])
        ));
        self.h.push_str("</fieldset></div>");
    }

    fn group(&mut self, g: &Field) {
        let lang = self.lang();
        let id = html_id(&g.key);
        let cls = if self.errors.contains_key(&g.key) {
            " field-with-error"
        } else {
            ""
        };
        self.h.push_str(&format!(
            "<div class=\"field group{cls}\"><fieldset class=\"group\" id=\"fs-{id}\"><legend>{}</legend>",
            self.label_text(g)
        ));
        // The error of the group itself links to the add button (`id`).
        let _ = self.notes(g, &id, &[&g.key], None);
        let max = g.effective_max_items();
        let min = g.min_items.map_or(0, |m| m as usize);
        let rows = self.view.raw.rows(&g.key).max(min).max(1).min(max);
        let label = pick(&g.label, lang).to_string();
        for i in 0..rows {
            let n = (i + 1).to_string();
            self.h.push_str(&format!(
                "<fieldset class=\"row\"><legend>{}</legend><input type=\"hidden\" name=\"{}\" value=\"\">",
                esc(&tf(lang, "forms.html.row", &[("label", &label), ("n", &n)])),
                esc(&format!("{}[{i}]._row", g.key))
            ));
            for m in &g.fields {
                let name = format!("{}[{i}].{}", g.key, m.key);
                self.field(m, &name, Some(g));
            }
            if rows > min.max(1) {
                self.h.push_str(&format!(
                    "<button type=\"submit\" class=\"secondary\" name=\"{REMOVE_CONTROL}\" value=\"{}\">{}</button>",
                    esc(&format!("{}[{i}]", g.key)),
                    esc(&tf(lang, "forms.html.remove", &[("label", &label), ("n", &n)]))
                ));
            }
            self.h.push_str("</fieldset>");
        }
        if rows < max {
            self.h.push_str(&format!(
                "<button type=\"submit\" class=\"secondary\" id=\"{id}\" name=\"{ADD_CONTROL}\" value=\"{}\">{}</button>",
                esc(&g.key),
                esc(&tf(lang, "forms.html.add", &[("label", &label)]))
            ));
        } else {
            self.h.push_str(&format!(
                "<p class=\"field-hint\" id=\"{id}\">{}</p>",
                esc(&tf(
                    lang,
                    "forms.html.max_items",
                    &[("max", &max.to_string())]
                ))
            ));
        }
        self.h.push_str("</fieldset></div>");
    }
}

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

/// The check-your-answers list: one `<h2>` and `<dl>` per section; shown but unanswered
/// fields say "未填写".
pub fn summary_html(view: &SummaryView<'_>, sections: &[SummarySection]) -> String {
    let mut h = String::from("<div class=\"answers\">");
    for s in sections {
        if s.rows.is_empty() {
            continue;
        }
        h.push_str(&format!(
            "<h2>{}</h2><dl class=\"facts answers\">",
            esc(pick(&s.title, view.lang))
        ));
        for r in &s.rows {
            summary_row(view, &mut h, r, pick(&r.label, view.lang));
        }
        h.push_str("</dl>");
    }
    h.push_str("</div>");
    h
}

fn summary_row(
    view: &SummaryView<'_>,
    h: &mut String,
    r: &yiwang_domain::forms::SummaryRow,
    label: &str,
) {
    let lang = view.lang;
    let value = match &r.value {
        SummaryValue::Empty => format!(
            "<span class=\"muted\">{}</span>",
            esc(t(lang, "forms.html.not_answered"))
        ),
        SummaryValue::Plain(s) => esc(s).replace('\n', "<br>"),
        SummaryValue::Options(labels) => labels
            .iter()
            .map(|l| esc(pick(l, lang)))
            .collect::<Vec<_>>()
            .join(&esc(t(lang, "forms.html.list_sep"))),
        SummaryValue::Personal { masked, full } => esc(if view.reveal { full } else { masked }),
        SummaryValue::Address { region, detail } => {
            let region = region
                .as_ref()
                .map(|c| {
                    view.region_names
                        .get(c)
                        .cloned()
                        .unwrap_or_else(|| c.clone())
                })
                .unwrap_or_default();
            esc(format!("{region} {detail}").trim())
        }
        SummaryValue::Group(rows) => {
            let mut g = String::new();
            for (i, row) in rows.iter().enumerate() {
                let n = (i + 1).to_string();
                g.push_str(&format!(
                    "<dl class=\"facts group-row\" aria-label=\"{}\">",
                    esc(&tf(lang, "forms.html.row", &[("label", label), ("n", &n)]))
                ));
                for m in row {
                    summary_row(view, &mut g, m, pick(&m.label, lang));
                }
                g.push_str("</dl>");
            }
            if rows.is_empty() {
                g = format!(
                    "<span class=\"muted\">{}</span>",
                    esc(t(lang, "forms.html.not_answered"))
                );
            }
            g
        }
    };
    h.push_str(&format!("<dt>{}</dt><dd>{value}", esc(label)));
    if let Some(base) = view.change_href
        && !matches!(r.value, SummaryValue::Group(_))
    {
        h.push_str(&format!(
            " <a class=\"change\" href=\"{}#{}\">{}<span class=\"visually-hidden\"> {}</span></a>",
            esc(base),
            esc(&html_id(&r.field)),
            esc(t(lang, "forms.html.change")),
            esc(label)
        ));
    }
    h.push_str("</dd>");
}

/// The declaration block: the statement and one checkbox named [`DECLARATION_CONTROL`].
/// `error` is shown when the applicant submitted without ticking it.
pub fn declaration_html(lang: Lang, checked: bool, error: Option<&str>) -> String {
    let id = html_id(DECLARATION_CONTROL);
    let mut h = format!(
        "<fieldset class=\"declaration{}\"><legend>{}</legend><p>{}</p>",
        if error.is_some() {
            " field-with-error"
        } else {
            ""
        },
        esc(t(lang, "forms.html.declaration_legend")),
        esc(t(lang, "forms.html.declaration"))
    );
    let mut described = String::new();
    if let Some(e) = error {
        h.push_str(&format!(
            "<p class=\"field-error\" id=\"e-{id}\"><span class=\"visually-hidden\">{}</span>{}</p>",
            esc(t(lang, "forms.html.error_prefix")),
            esc(e)
        ));
        described = format!(" aria-describedby=\"e-{id}\" aria-invalid=\"true\"");
    }
    h.push_str(&format!(
        "<label class=\"check\" for=\"{id}\"><input type=\"checkbox\" id=\"{id}\" name=\"{DECLARATION_CONTROL}\" value=\"1\"{}{described}> {}</label></fieldset>",
        if checked { " checked" } else { "" },
        esc(t(lang, "forms.html.declaration_agree"))
    ));
    h
}

/// The error for a submission without the declaration ticked.
pub fn declaration_error() -> FieldError {
    FieldError::new(DECLARATION_CONTROL, "declaration")
}

/// The levels a picker under `root` should list: two levels below a province or city (for
/// example the districts of 天津市), one level below a county (its townships) or a township.
pub fn picker_level(root: &yiwang_domain::RegionCode) -> yiwang_domain::RegionLevel {
    use yiwang_domain::RegionLevel::*;
    match root.level() {
        Province => County,
        City => County,
        County => Township,
        Township | Village => Village,
    }
}

/// Depth of `code` below `root` for [`RegionOption::depth`] (0 = a direct child).
pub fn region_depth(root: &yiwang_domain::RegionCode, code: &yiwang_domain::RegionCode) -> u8 {
    let d = code.level().number() - root.level().number() - 1;
    u8::try_from(d.max(0)).unwrap_or(0)
}
