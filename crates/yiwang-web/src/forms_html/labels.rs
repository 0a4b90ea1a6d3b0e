//! The words of a form outside its controls: element ids, error messages and the label a posted
//! name stands for.

use super::{DECLARATION_CONTROL, pick};
use yiwang_domain::forms::{FieldError, FormDefinition};
use yiwang_i18n::{Lang, t, tf};

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
