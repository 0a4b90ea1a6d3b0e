//! The form's controls: the error summary, the sections and fields with their current raw
//! values, hints and errors, and the `<form>` around them. The Rust side decides what each
//! control shows (plain text, never markup); `templates/forms/form.html` writes the markup.

use super::{ACTION_CONTROL, Fragment, RegionOption, error_text, html_id, label_of, pick};
use askama::Template;
use std::collections::{BTreeMap, HashMap};
use yiwang_domain::forms::{
    ADD_CONTROL, Field, FieldError, FieldKind, FormDefinition, REMOVE_CONTROL, RawAnswers,
};
use yiwang_i18n::{Lang, t, tf};

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
    /// Top-level fields whose value was taken from the applicant's account (labelled so).
    pub from_account: &'a [String],
}

/// The error summary's entries: `(control id, "label：message")`, one per error.
pub fn issue_items(view: &FormView<'_>) -> Vec<(String, String)> {
    issues(view).map(|i| i.items).unwrap_or_default()
}

/// The GOV.UK error summary: a titled box listing every error, each linking to its control.
/// Empty when there are no errors. Put it at the top of the page, before the `<h1>`.
pub fn error_summary_html(view: &FormView<'_>) -> Fragment {
    Fragment::render(&FormHtml {
        issues: issues(view),
        form: None,
        fields: None,
    })
}

/// The form's sections and controls (no `<form>` element and no action buttons: the page
/// adds those). Starts with the hidden default button.
pub fn fields_html(view: &FormView<'_>) -> Fragment {
    Fragment::render(&FormHtml {
        issues: None,
        form: None,
        fields: Some(Builder::new(view).fields()),
    })
}

/// `error_summary_html` + a `<form>` with `fields_html` and the given buttons
/// (`(value of _action, label)`; the first is the default).
pub fn form_html(view: &FormView<'_>, action: &str, buttons: &[(&str, &str)]) -> Fragment {
    Fragment::render(&FormHtml {
        issues: issues(view),
        form: Some(Shell {
            action,
            buttons,
            control: ACTION_CONTROL,
        }),
        fields: Some(Builder::new(view).fields()),
    })
}

/// One template for the three entry points: each part is shown when present.
#[derive(Template)]
#[template(path = "forms/form.html", escape = "form-html")]
struct FormHtml<'a> {
    issues: Option<Issues<'a>>,
    form: Option<Shell<'a>>,
    fields: Option<Fields<'a>>,
}

struct Issues<'a> {
    title: &'a str,
    /// `(control id, "label：message")`.
    items: Vec<(String, String)>,
}

/// The `<form>` element and its buttons.
struct Shell<'a> {
    action: &'a str,
    buttons: &'a [(&'a str, &'a str)],
    control: &'a str,
}

struct Fields<'a> {
    control: &'a str,
    default_action: &'a str,
    default_label: &'a str,
    sections: Vec<SectionFields<'a>>,
}

struct SectionFields<'a> {
    key: &'a str,
    title: &'a str,
    items: Vec<Item<'a>>,
}

enum Item<'a> {
    Field(Control<'a>),
    Group(Group<'a>),
}

/// What every control has: its wrapper's error class, label line and notes.
struct Common<'a> {
    id: String,
    with_error: bool,
    label: &'a str,
    marker: &'a str,
    notes: Notes<'a>,
}

/// Hint and error lines under a label; `described` lists their ids for `aria-describedby`.
struct Notes<'a> {
    id: String,
    hint: Option<String>,
    error: Option<String>,
    error_prefix: &'a str,
    described: String,
}

struct Control<'a> {
    c: Common<'a>,
    kind: Kind<'a>,
}

enum Kind<'a> {
    /// A long single choice.
    Select(Select<'a>),
    /// Radios or checkboxes.
    Choices {
        input: &'static str,
        name: String,
        /// `(element id, value, label, checked)`.
        options: Vec<(String, &'a str, &'a str, bool)>,
    },
    Address(Box<Address<'a>>),
    Input(Input<'a>),
}

struct Select<'a> {
    id: String,
    name: String,
    choose: &'a str,
    invalid: bool,
    /// `(value, label, selected)`.
    options: Vec<(String, String, bool)>,
}

struct Address<'a> {
    region_label: &'a str,
    /// The region list, or `None` for a plain code box.
    region: Option<Select<'a>>,
    region_id: String,
    region_name: String,
    region_value: String,
    region_placeholder: &'a str,
    region_invalid: bool,
    detail_label: &'a str,
    detail_id: String,
    detail_name: String,
    detail_value: &'a str,
    detail_max: usize,
    detail_invalid: bool,
}

/// A text box, text area, number, date, phone or code input.
struct Input<'a> {
    kind: InputKind,
    name: String,
    value: &'a str,
    invalid: bool,
    max_len: usize,
    unit: Option<&'a str>,
    min_date: Option<&'a str>,
    max_date: Option<&'a str>,
}

/// The kinds of [`Input`], each with its own markup.
enum InputKind {
    Text,
    Textarea,
    Number,
    Date,
    Phone,
    /// 公民身份号码 or 统一社会信用代码.
    Code,
}

struct Group<'a> {
    c: Common<'a>,
    rows: Vec<GroupRow<'a>>,
    /// The "add another" button, or the note that the group is full.
    add: Result<(&'a str, String), String>,
    add_control: &'a str,
}

struct GroupRow<'a> {
    legend: String,
    row_name: String,
    fields: Vec<Control<'a>>,
    /// The "remove" button: `(value, label)`.
    remove: Option<(String, String)>,
    remove_control: &'a str,
}

fn issues<'a>(view: &FormView<'a>) -> Option<Issues<'a>> {
    if view.errors.is_empty() {
        return None;
    }
    let lang = view.lang;
    Some(Issues {
        title: t(lang, "forms.html.error_summary_title"),
        items: view
            .errors
            .iter()
            .map(|e| {
                let text = format!(
                    "{}{}{}",
                    label_of(view.def, lang, &e.field),
                    t(lang, "issue.colon"),
                    error_text(lang, e)
                );
                (html_id(&e.field), text)
            })
            .collect(),
    })
}

struct Builder<'a, 'v> {
    view: &'a FormView<'v>,
    /// Errors by posted name, joined when one field has several.
    errors: HashMap<String, String>,
}

impl<'a, 'v> Builder<'a, 'v> {
    fn new(view: &'a FormView<'v>) -> Self {
        let mut errors: HashMap<String, String> = HashMap::new();
        for e in view.errors {
            let text = error_text(view.lang, e);
            errors
                .entry(e.field.clone())
                .and_modify(|s| {
                    s.push_str(t(view.lang, "console.list_sep"));
                    s.push_str(&text);
                })
                .or_insert(text);
        }
        Self { view, errors }
    }

    fn lang(&self) -> Lang {
        self.view.lang
    }

    fn has_error(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.errors.contains_key(*n))
    }

    fn fields(&self) -> Fields<'v> {
        let lang = self.lang();
        Fields {
            control: ACTION_CONTROL,
            default_action: self.view.default_action,
            default_label: t(lang, "forms.html.default_button"),
            sections: self
                .view
                .def
                .sections
                .iter()
                .map(|s| SectionFields {
                    key: &s.key,
                    title: pick(&s.title, lang),
                    items: s
                        .fields
                        .iter()
                        .filter_map(|f| {
                            if f.kind == FieldKind::Group {
                                Some(Item::Group(self.group(f)))
                            } else {
                                self.field(f, &f.key, None).map(Item::Field)
                            }
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The parts every control shares; `error_names` are the posted names whose errors show.
    fn common(
        &self,
        f: &'v Field,
        id: String,
        error_names: &[&str],
        group: Option<&'v Field>,
    ) -> Common<'v> {
        let lang = self.lang();
        Common {
            with_error: self.has_error(error_names),
            label: pick(&f.label, lang),
            marker: t(
                lang,
                if f.required {
                    "forms.html.required"
                } else {
                    "forms.html.optional"
                },
            ),
            notes: self.notes(f, &id, error_names, group),
            id,
        }
    }

    /// Hint (help, condition note, format) and error lines.
    fn notes(&self, f: &Field, id: &str, error_names: &[&str], group: Option<&Field>) -> Notes<'v> {
        let lang = self.lang();
        let mut hint = Vec::new();
        if group.is_none() && self.view.from_account.contains(&f.key) {
            hint.push(t(lang, "apply.from_account").to_string());
        }
        if let Some(help) = &f.help {
            hint.push(pick(help, lang).to_string());
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
                hint.push(tf(
                    lang,
                    "forms.html.only_if",
                    &[
                        ("field", pick(&target.label, lang)),
                        ("values", &values.join(t(lang, "forms.html.or"))),
                    ],
                ));
            }
        }
        match f.kind {
            FieldKind::Date => hint.push(t(lang, "forms.html.date_hint").to_string()),
            FieldKind::Number => {
                if let (Some(lo), Some(hi)) = (f.min, f.max) {
                    hint.push(tf(
                        lang,
                        "forms.html.range",
                        &[("min", &lo.to_string()), ("max", &hi.to_string())],
                    ));
                }
            }
            _ => {}
        }
        let msgs: Vec<&str> = error_names
            .iter()
            .filter_map(|n| self.errors.get(*n).map(String::as_str))
            .collect();
        let hint = (!hint.is_empty()).then(|| hint.join(" "));
        let error = (!msgs.is_empty()).then(|| msgs.join(t(lang, "console.list_sep")));
        let mut ids = Vec::new();
        if hint.is_some() {
            ids.push(format!("h-{id}"));
        }
        if error.is_some() {
            ids.push(format!("e-{id}"));
        }
        Notes {
            id: id.to_string(),
            hint,
            error,
            error_prefix: t(lang, "forms.html.error_prefix"),
            described: ids.join(" "),
        }
    }

    /// One non-group field posted as `name` (`None` for a group: groups do not nest).
    fn field(&self, f: &'v Field, name: &str, group: Option<&'v Field>) -> Option<Control<'v>> {
        let id = html_id(name);
        let lang = self.lang();
        let raw = self.view.raw;
        let kind = match f.kind {
            FieldKind::Group => return None,
            FieldKind::Address => return Some(self.address(f, name, id, group)),
            FieldKind::Choice | FieldKind::MultiChoice => {
                let selected: Vec<&str> = raw.get_all(name).iter().map(|s| s.trim()).collect();
                let on = |v: &str| selected.contains(&v);
                if f.kind == FieldKind::Choice && f.options.len() > 6 {
                    // A long single choice is a select.
                    Kind::Select(Select {
                        id: id.clone(),
                        name: name.to_string(),
                        choose: t(lang, "forms.html.choose"),
                        invalid: self.has_error(&[name]),
                        options: f
                            .options
                            .iter()
                            .map(|o| {
                                (
                                    o.value.clone(),
                                    pick(&o.label, lang).to_string(),
                                    on(&o.value),
                                )
                            })
                            .collect(),
                    })
                } else {
                    Kind::Choices {
                        input: if f.kind == FieldKind::MultiChoice {
                            "checkbox"
                        } else {
                            "radio"
                        },
                        name: name.to_string(),
                        options: f
                            .options
                            .iter()
                            .enumerate()
                            .map(|(i, o)| {
                                let oid = if i == 0 {
                                    id.clone()
                                } else {
                                    format!("{id}-{i}")
                                };
                                (oid, o.value.as_str(), pick(&o.label, lang), on(&o.value))
                            })
                            .collect(),
                    }
                }
            }
            other => Kind::Input(Input {
                kind: match other {
                    FieldKind::Textarea => InputKind::Textarea,
                    FieldKind::Number => InputKind::Number,
                    FieldKind::Date => InputKind::Date,
                    FieldKind::Phone => InputKind::Phone,
                    FieldKind::ResidentId | FieldKind::CreditCode => InputKind::Code,
                    _ => InputKind::Text,
                },
                name: name.to_string(),
                value: raw.get(name),
                invalid: self.has_error(&[name]),
                max_len: f.effective_max_len(),
                unit: f.unit.as_deref(),
                min_date: f.min_date.as_deref(),
                max_date: f.max_date.as_deref(),
            }),
        };
        Some(Control {
            c: self.common(f, id, &[name], group),
            kind,
        })
    }

    fn address(
        &self,
        f: &'v Field,
        name: &str,
        id: String,
        group: Option<&'v Field>,
    ) -> Control<'v> {
        let lang = self.lang();
        let region_name = format!("{name}.region");
        let detail_name = format!("{name}.detail");
        let current = self.view.raw.get(&region_name).trim().to_string();
        let root = f.region_root.clone().unwrap_or_default();
        let region_invalid = self.has_error(&[&region_name]);
        let region = self
            .view
            .regions
            .get(&root)
            .filter(|l| !l.is_empty())
            .map(|list| {
                let mut options: Vec<(String, String, bool)> = list
                    .iter()
                    .map(|r| {
                        let indent = "\u{3000}".repeat(usize::from(r.depth));
                        (
                            r.code.clone(),
                            format!("{indent}{}", r.name),
                            r.code == current,
                        )
                    })
                    .collect();
                if !current.is_empty() && !options.iter().any(|o| o.2) {
                    // Keep what was posted visible (it will carry its own error).
                    options.push((current.clone(), current.clone(), true));
                }
                Select {
                    id: html_id(&region_name),
                    name: region_name.clone(),
                    choose: t(lang, "forms.html.choose"),
                    invalid: region_invalid,
                    options,
                }
            });
        let names = [region_name.as_str(), detail_name.as_str()];
        let c = self.common(f, id, &names, group);
        Control {
            c,
            kind: Kind::Address(Box::new(Address {
                region_label: t(lang, "forms.html.region"),
                region,
                region_id: html_id(&region_name),
                region_value: current,
                region_placeholder: t(lang, "forms.html.region_code"),
                region_invalid,
                detail_label: t(lang, "forms.html.detail"),
                detail_id: html_id(&detail_name),
                detail_value: self.view.raw.get(&detail_name),
                detail_max: f.effective_max_len(),
                detail_invalid: self.has_error(&[&detail_name]),
                region_name,
                detail_name,
            })),
        }
    }

    fn group(&self, g: &'v Field) -> Group<'v> {
        let lang = self.lang();
        let id = html_id(&g.key);
        let max = g.effective_max_items();
        let min = g
            .min_items
            .map_or(0, |m| usize::try_from(m).unwrap_or(usize::MAX));
        let rows = self.view.raw.rows(&g.key).max(min).max(1).min(max);
        let label = pick(&g.label, lang);
        let add = if rows < max {
            Ok((
                g.key.as_str(),
                tf(lang, "forms.html.add", &[("label", label)]),
            ))
        } else {
            Err(tf(
                lang,
                "forms.html.max_items",
                &[("max", &max.to_string())],
            ))
        };
        Group {
            // The error of the group itself links to the add button (`id`).
            c: self.common(g, id, &[&g.key], None),
            rows: (0..rows)
                .map(|i| {
                    let n = (i + 1).to_string();
                    GroupRow {
                        legend: tf(lang, "forms.html.row", &[("label", label), ("n", &n)]),
                        row_name: format!("{}[{i}]._row", g.key),
                        fields: g
                            .fields
                            .iter()
                            .filter_map(|m| {
                                self.field(m, &format!("{}[{i}].{}", g.key, m.key), Some(g))
                            })
                            .collect(),
                        remove: (rows > min.max(1)).then(|| {
                            (
                                format!("{}[{i}]", g.key),
                                tf(lang, "forms.html.remove", &[("label", label), ("n", &n)]),
                            )
                        }),
                        remove_control: REMOVE_CONTROL,
                    }
                })
                .collect(),
            add,
            add_control: ADD_CONTROL,
        }
    }
}
