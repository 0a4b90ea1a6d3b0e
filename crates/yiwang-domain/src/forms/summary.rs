//! The rows of the check-your-answers page, in form order, independent of the language: labels
//! are [`Text`]s and values either plain strings or option labels; the page picks the language.

use super::answers::{Address, Answers, Value};
use super::model::{Field, FieldKind, FormDefinition, Text};
use super::validate::visible;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummarySection {
    pub key: String,
    pub title: Text,
    pub rows: Vec<SummaryRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryRow {
    /// The posted name of the field (`managers[0].name`); the page links "change" to it.
    pub field: String,
    pub label: Text,
    pub value: SummaryValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum SummaryValue {
    /// A shown field left blank.
    Empty,
    /// Text, a number (with its unit) or a date.
    Plain(String),
    /// The labels of the chosen options.
    Options(Vec<Text>),
    /// Personal identifiers: the page decides which to show (the applicant sees `full` on
    /// their own check page; staff views show `masked` unless allowed and audited).
    Personal { masked: String, full: String },
    /// A region code (the page looks its name up) and the street address.
    Address {
        region: Option<String>,
        detail: String,
    },
    /// The rows of a repeatable group, each a list of member rows.
    Group(Vec<Vec<SummaryRow>>),
}

fn selected<'a>(answers: &'a Answers) -> impl Fn(Option<(&str, usize)>, &str) -> Vec<String> + 'a {
    move |place, key| {
        let v = match place {
            None => answers.values.get(key),
            Some((g, i)) => match answers.values.get(g) {
                Some(Value::Group(rows)) => rows.get(i).and_then(|r| r.get(key)),
                _ => None,
            },
        };
        v.map(|v| v.choices().to_vec()).unwrap_or_default()
    }
}

/// Every shown field of the form with its answer (or [`SummaryValue::Empty`]), by section.
/// Fields hidden by their condition are left out.
pub fn summary(def: &FormDefinition, answers: &Answers) -> Vec<SummarySection> {
    let sel = selected(answers);
    def.sections
        .iter()
        .map(|s| SummarySection {
            key: s.key.clone(),
            title: s.title.clone(),
            rows: s
                .fields
                .iter()
                .filter(|f| visible(def, None, f, &sel, 0))
                .map(|f| {
                    let value = match (f.kind, answers.values.get(&f.key)) {
                        (FieldKind::Group, Some(Value::Group(rows))) => SummaryValue::Group(
                            rows.iter()
                                .enumerate()
                                .map(|(i, row)| {
                                    f.fields
                                        .iter()
                                        .filter(|m| visible(def, Some((f, i)), m, &sel, 0))
                                        .map(|m| SummaryRow {
                                            field: format!("{}[{i}].{}", f.key, m.key),
                                            label: m.label.clone(),
                                            value: show(m, row.get(&m.key)),
                                        })
                                        .collect()
                                })
                                .collect(),
                        ),
                        (_, v) => show(f, v),
                    };
                    SummaryRow {
                        field: f.key.clone(),
                        label: f.label.clone(),
                        value,
                    }
                })
                .collect(),
        })
        .collect()
}

fn show(f: &Field, v: Option<&Value>) -> SummaryValue {
    let Some(v) = v else {
        return SummaryValue::Empty;
    };
    match v {
        Value::Text(s) => SummaryValue::Plain(s.clone()),
        Value::Number(n) => SummaryValue::Plain(match &f.unit {
            Some(u) => format!("{n} {u}"),
            None => n.to_string(),
        }),
        Value::Date(d) => SummaryValue::Plain(d.to_string()),
        Value::Choice(_) | Value::Choices(_) => SummaryValue::Options(
            v.choices()
                .iter()
                .map(|c| f.option(c).map_or_else(|| Text::zh(c), |o| o.label.clone()))
                .collect(),
        ),
        Value::ResidentId(r) => SummaryValue::Personal {
            masked: r.masked(),
            full: r.reveal().to_string(),
        },
        Value::Phone(p) => SummaryValue::Personal {
            masked: p.masked(),
            full: p.reveal().to_string(),
        },
        Value::CreditCode(c) => SummaryValue::Plain(c.as_str().to_string()),
        Value::Address(Address { region, detail }) => SummaryValue::Address {
            region: region.as_ref().map(|r| r.as_str().to_string()),
            detail: detail.clone(),
        },
        Value::Group(_) => SummaryValue::Empty,
    }
}
