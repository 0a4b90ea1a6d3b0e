//! 一表申请: the parts of a 一件事 bundle as one form. What the parts ask alike is asked once,
//! what a part alone asks stays under that part's heading, and what an earlier part of the
//! same bundle will issue is neither asked nor uploaded.
//!
//! When two parts ask "the same": a top-level field with the same key and the same kind in
//! two or more parts, not conditional (`show_if`) anywhere and not a choice or a group (whose
//! options or rows may differ between forms). Keys are the form designers' explicit names
//! (`phone`, `address` …), so sharing is decided by the definitions, never by wording.
//!
//! The combined form's posted names: a shared field keeps its key; part `i` (1-based) puts
//! its own fields under `p{i}_<key>`.

use crate::catalog::MaterialRequirement;
use crate::forms::{Condition, Field, FieldKind, FormDefinition, Section, Text};
use std::collections::BTreeSet;

/// Results that carry the holder's 统一社会信用代码: a later part's credit-code field is then
/// filled from that result, not typed by the applicant.
pub const RESULTS_WITH_CREDIT_CODE: &[&str] = &["营业执照"];

/// The combined form's section of shared fields.
pub const SHARED_SECTION: &str = "shared";

/// One part as the combined form needs it.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    /// The part's place in the bundle (0-based; parts already submitted keep theirs).
    pub index: usize,
    /// The item's name, the heading of the part's own fields.
    pub title: &'a str,
    pub def: &'a FormDefinition,
}

/// The 1-based prefix of part `index` (0-based) in the combined form.
pub fn prefix(index: usize) -> String {
    format!("p{}_", index.saturating_add(1))
}

fn shareable(f: &Field) -> bool {
    f.show_if.is_none() && !f.kind.has_options() && f.kind != FieldKind::Group
}

/// The earlier part (0-based) whose result provides material `m` of part `part`: the result's
/// name is the material's name or the e-licence type that replaces it.
pub fn material_provided_by(
    results: &[&str],
    part: usize,
    m: &MaterialRequirement,
) -> Option<usize> {
    results.iter().take(part).position(|r| {
        let r = r.trim();
        !r.is_empty() && (m.name.trim() == r || m.licence_type.trim() == r)
    })
}

/// The earlier part whose result provides field `f` of part `part` (a credit code issued by an
/// earlier registration).
pub fn field_provided_by(results: &[&str], part: usize, f: &Field) -> Option<usize> {
    if f.kind != FieldKind::CreditCode || f.show_if.is_some() {
        return None;
    }
    results
        .iter()
        .take(part)
        .position(|r| RESULTS_WITH_CREDIT_CODE.contains(&r.trim()))
}

/// The keys asked once: shareable top-level fields with the same key and kind in two or more
/// parts (fields an earlier part provides are not asked at all). `results` are the result
/// names of every part of the bundle, in order.
pub fn shared_keys(parts: &[Part<'_>], results: &[&str]) -> BTreeSet<String> {
    let mut seen: Vec<(String, FieldKind, usize, bool)> = Vec::new();
    for p in parts {
        for f in p.def.fields() {
            let ok = shareable(f) && field_provided_by(results, p.index, f).is_none();
            match seen.iter_mut().find(|(k, _, _, _)| *k == f.key) {
                Some(entry) => {
                    entry.2 = entry.2.saturating_add(1);
                    entry.3 = entry.3 && ok && entry.1 == f.kind;
                }
                None => seen.push((f.key.clone(), f.kind, 1, ok)),
            }
        }
    }
    seen.into_iter()
        .filter(|(_, _, n, ok)| *n >= 2 && *ok)
        .map(|(k, _, _, _)| k)
        .collect()
}

fn rewrite(c: &Condition, pre: &str, shared: &BTreeSet<String>, members: &[Field]) -> Condition {
    let local = members.iter().any(|m| m.key == c.field);
    let field = if local || shared.contains(&c.field) {
        c.field.clone()
    } else {
        format!("{pre}{}", c.field)
    };
    Condition {
        field,
        any_of: c.any_of.clone(),
    }
}

/// The whole bundle as one form definition: the shared fields first (as the first part asks
/// them, required when any part requires them), then each part's own fields under its title.
pub fn combine(parts: &[Part<'_>], results: &[&str], shared_title: Text) -> FormDefinition {
    let shared = shared_keys(parts, results);
    let mut shared_fields: Vec<Field> = Vec::new();
    let mut sections = Vec::new();
    for p in parts {
        let pre = prefix(p.index);
        let mut own = Vec::new();
        for f in p.def.fields() {
            if shared.contains(&f.key) {
                match shared_fields.iter_mut().find(|s| s.key == f.key) {
                    Some(s) => s.required |= f.required,
                    None => shared_fields.push(f.clone()),
                }
                continue;
            }
            if field_provided_by(results, p.index, f).is_some() {
                continue;
            }
            let mut g = f.clone();
            g.key = format!("{pre}{}", f.key);
            g.show_if = f.show_if.as_ref().map(|c| rewrite(c, &pre, &shared, &[]));
            let members = f.fields.clone();
            for m in &mut g.fields {
                m.show_if = m
                    .show_if
                    .as_ref()
                    .map(|c| rewrite(c, &pre, &shared, &members));
            }
            own.push(g);
        }
        if !own.is_empty() {
            sections.push(Section {
                key: format!("{pre}part"),
                title: Text {
                    zh: p.title.to_string(),
                    en: None,
                },
                fields: own,
            });
        }
    }
    if !shared_fields.is_empty() {
        sections.insert(
            0,
            Section {
                key: SHARED_SECTION.to_string(),
                title: shared_title,
                fields: shared_fields,
            },
        );
    }
    FormDefinition {
        key: "bundle".to_string(),
        version: 1,
        title: Text::zh(parts.first().map(|p| p.title).unwrap_or_default()),
        sections,
        // Each part's case prints its own certificate from its own form.
        certificate: None,
    }
}

/// The top-level key a posted name belongs to (`address.region` → `address`,
/// `p1_managers[0].name` → `p1_managers`).
fn base(name: &str) -> &str {
    let end = name.find(['.', '[']).unwrap_or(name.len());
    name.get(..end).unwrap_or(name)
}

/// Part `index`'s posted pairs out of the combined form's: its own (prefix removed) and the
/// shared fields it asks. Page controls (`_…`) are not answers and are left out.
pub fn split(
    pairs: &[(String, String)],
    index: usize,
    def: &FormDefinition,
    shared: &BTreeSet<String>,
) -> Vec<(String, String)> {
    let pre = prefix(index);
    pairs
        .iter()
        .filter(|(n, _)| !n.starts_with('_'))
        .filter_map(|(n, v)| match n.strip_prefix(&pre) {
            Some(rest) if def.field(base(rest)).is_some() => Some((rest.to_string(), v.clone())),
            Some(_) => None,
            None => {
                let b = base(n);
                (shared.contains(b) && def.field(b).is_some()).then(|| (n.clone(), v.clone()))
            }
        })
        .collect()
}

/// The combined form's pairs from each part's stored pairs (in part order): a shared field
/// shows the first part's non-empty answer.
pub fn join(
    per_part: &[(usize, Vec<(String, String)>)],
    shared: &BTreeSet<String>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut shared_from: Vec<(String, usize)> = Vec::new();
    for (i, pairs) in per_part {
        let (i, pre) = (*i, prefix(*i));
        for (n, v) in pairs {
            let b = base(n);
            if !shared.contains(b) {
                out.push((format!("{pre}{n}"), v.clone()));
                continue;
            }
            // A shared field comes from the first part that answered it.
            let filled = pairs
                .iter()
                .any(|(m, w)| base(m) == b && !w.trim().is_empty());
            match shared_from.iter().find(|(k, _)| k == b) {
                Some((_, from)) if *from != i => {}
                Some(_) => out.push((n.clone(), v.clone())),
                None if filled => {
                    shared_from.push((b.to_string(), i));
                    out.push((n.clone(), v.clone()));
                }
                None => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::{RawAnswers, load};

    fn form(key: &str, fields: &str) -> FormDefinition {
        load(&format!(
            r#"{{"key":"{key}","title":{{"zh":"{key}"}},"sections":[{{"key":"s","title":{{"zh":"s"}},"fields":[{fields}]}}]}}"#
        ))
        .unwrap()
    }

    fn registration() -> FormDefinition {
        form(
            "reg",
            r#"{"key":"operator_name","label":{"zh":"经营者姓名"},"kind":"text","required":true},
               {"key":"phone","label":{"zh":"联系电话"},"kind":"phone","required":true},
               {"key":"address","label":{"zh":"经营场所"},"kind":"address","required":true},
               {"key":"form","label":{"zh":"组成形式"},"kind":"choice","options":[{"value":"a","label":{"zh":"a"}}]},
               {"key":"scope","label":{"zh":"经营范围"},"kind":"textarea","required":true}"#,
        )
    }

    fn food() -> FormDefinition {
        form(
            "food",
            r#"{"key":"business_name","label":{"zh":"经营者名称"},"kind":"text","required":true},
               {"key":"credit_code","label":{"zh":"统一社会信用代码"},"kind":"credit_code","required":true},
               {"key":"phone","label":{"zh":"电话"},"kind":"phone"},
               {"key":"address","label":{"zh":"经营场所"},"kind":"address","required":true},
               {"key":"form","label":{"zh":"形式"},"kind":"choice","options":[{"value":"b","label":{"zh":"b"}}]},
               {"key":"scope","label":{"zh":"经营项目"},"kind":"text"},
               {"key":"online","label":{"zh":"网络经营"},"kind":"choice","options":[{"value":"yes","label":{"zh":"是"}}]},
               {"key":"website","label":{"zh":"网站"},"kind":"text","show_if":{"field":"online","any_of":["yes"]}}"#,
        )
    }

    const RESULTS: [&str; 2] = ["营业执照", "食品经营许可证"];

    fn parts<'a>(a: &'a FormDefinition, b: &'a FormDefinition) -> [Part<'a>; 2] {
        [
            Part {
                index: 0,
                title: "个体工商户设立登记",
                def: a,
            },
            Part {
                index: 1,
                title: "食品经营许可（新办）",
                def: b,
            },
        ]
    }

    #[test]
    fn same_key_and_kind_is_asked_once_choices_and_other_kinds_are_not() {
        let (a, b) = (registration(), food());
        let shared = shared_keys(&parts(&a, &b), &RESULTS);
        // phone and address: same key, same kind. `form` is a choice (options differ); `scope`
        // has the same key but another kind; business_name is in one part only.
        assert_eq!(
            shared.iter().map(String::as_str).collect::<Vec<_>>(),
            ["address", "phone"]
        );
    }

    #[test]
    fn the_combined_form_asks_shared_fields_once_and_omits_what_an_earlier_part_issues() {
        let (a, b) = (registration(), food());
        let def = combine(&parts(&a, &b), &RESULTS, Text::zh("共同信息"));
        // The combined definition is itself a valid form.
        crate::forms::validate_definition(&def).unwrap();
        let keys: Vec<&str> = def.fields().map(|f| f.key.as_str()).collect();
        assert_eq!(keys.iter().filter(|k| **k == "phone").count(), 1);
        assert!(keys.contains(&"p1_operator_name"));
        assert!(keys.contains(&"p2_business_name"));
        // The credit code comes with part 1's 营业执照.
        assert!(!keys.iter().any(|k| k.contains("credit_code")));
        // Required when any part requires it.
        assert!(def.field("phone").unwrap().required);
        // A condition follows its field's new name.
        let website = def.field("p2_website").unwrap();
        assert_eq!(website.show_if.as_ref().unwrap().field, "p2_online");
        assert_eq!(def.sections[0].key, SHARED_SECTION);
    }

    #[test]
    fn split_and_join_round_trip_through_each_part() {
        let (a, b) = (registration(), food());
        let ps = parts(&a, &b);
        let shared = shared_keys(&ps, &RESULTS);
        let combined = combine(&ps, &RESULTS, Text::zh("共同信息"));
        let posted: Vec<(String, String)> = [
            ("phone", "13800138000"),
            ("address.region", "120112000000"),
            ("address.detail", "津南区咸水沽镇1号"),
            ("p1_operator_name", "李四"),
            ("p2_business_name", "津南区小李面馆"),
            ("p2_scope", "热食类食品制售"),
            ("_action", "save"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        RawAnswers::from_pairs(&combined, posted.clone()).unwrap();
        let one = split(&posted, 0, &a, &shared);
        let two = split(&posted, 1, &b, &shared);
        assert!(one.contains(&("phone".into(), "13800138000".into())));
        assert!(two.contains(&("phone".into(), "13800138000".into())));
        assert!(two.contains(&("address.detail".into(), "津南区咸水沽镇1号".into())));
        assert!(two.contains(&("scope".into(), "热食类食品制售".into())));
        assert!(
            !one.iter()
                .any(|(n, _)| n == "business_name" || n.starts_with('_'))
        );
        // Each part's pairs are valid names of its own form.
        RawAnswers::from_pairs(&a, one.clone()).unwrap();
        RawAnswers::from_pairs(&b, two.clone()).unwrap();
        let back = join(&[(0, one), (1, two)], &shared);
        let mut want: Vec<_> = posted.into_iter().filter(|(n, _)| n != "_action").collect();
        let mut got = back;
        want.sort();
        got.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn a_material_is_provided_only_by_an_earlier_part_with_that_result() {
        let m = |name: &str, licence: &str| MaterialRequirement {
            name: name.into(),
            issuer: String::new(),
            originals: 1,
            copies: 0,
            mandatory: true,
            licence_type: licence.into(),
            instructions: String::new(),
            extras: Vec::new(),
        };
        let results = ["营业执照", "食品经营许可证"];
        assert_eq!(
            material_provided_by(&results, 1, &m("营业执照", "")),
            Some(0)
        );
        assert_eq!(
            material_provided_by(&results, 1, &m("营业执照副本", "营业执照")),
            Some(0)
        );
        // Not by itself nor by a later part, and not by another result.
        assert_eq!(material_provided_by(&results, 0, &m("营业执照", "")), None);
        assert_eq!(
            material_provided_by(&results, 1, &m("食品经营许可证", "")),
            None
        );
        assert_eq!(
            material_provided_by(&results, 1, &m("居民身份证", "")),
            None
        );
    }
}
