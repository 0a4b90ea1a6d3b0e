//! 一件事 (life events) as data: a short questionnaire whose answers select catalog items,
//! and the merged list of materials those items need (a document several items need appears
//! once, with the items that need it).

use crate::normalize::normalize;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use yiwang_domain::catalog::MaterialRequirement;
use yiwang_domain::{BasicCode, RegionCode};

/// The seed definitions shipped with the project.
pub const SEED_LIFE_EVENTS: &str = include_str!("../data/life_events.json");

pub const MAX_QUESTIONS: usize = 6;
pub const MAX_OPTIONS: usize = 8;
pub const MAX_ITEMS: usize = 30;
const MAX_TEXT: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub key: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub key: String,
    pub text: String,
    pub options: Vec<Choice>,
}

/// An item is needed when, for every condition, the answer to `question` is one of `any_of`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub question: String,
    pub any_of: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventItem {
    pub basic_code: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<Condition>,
    /// Why or when this step is needed, shown beside the item.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifeEvent {
    /// Stable key used in URLs: lower-case letters, digits and hyphens.
    pub code: String,
    pub name: String,
    pub summary: String,
    /// Where the event applies (the region and its subtree), 12 digits.
    pub region: String,
    /// Words people use for this situation (found by search).
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub questions: Vec<Question>,
    /// In the order they are done.
    pub items: Vec<EventItem>,
}

/// What is wrong with a definition; `detail` names the offending key or value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// A stable key: `bad_json`, `bad_code`, `empty_name`, `too_long`, `bad_region`,
    /// `too_many_questions`, `duplicate_key`, `too_few_options`, `too_many_options`, `no_items`,
    /// `too_many_items`, `bad_basic_code`, `unknown_question`, `unknown_option`.
    pub key: &'static str,
    pub detail: String,
}

fn problem(key: &'static str, detail: impl Into<String>) -> Problem {
    Problem {
        key,
        detail: detail.into(),
    }
}

fn key_ok(k: &str) -> bool {
    (1..=40).contains(&k.len())
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl LifeEvent {
    /// Parses and checks a definition (JSON).
    pub fn parse(json: &str) -> Result<LifeEvent, Vec<Problem>> {
        let ev: LifeEvent =
            serde_json::from_str(json).map_err(|e| vec![problem("bad_json", e.to_string())])?;
        let p = ev.problems();
        if p.is_empty() { Ok(ev) } else { Err(p) }
    }

    /// Every problem of the definition; empty when it is valid.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if !key_ok(&self.code) {
            out.push(problem("bad_code", &self.code));
        }
        if self.name.trim().is_empty() {
            out.push(problem("empty_name", ""));
        }
        let long = |s: &str| s.chars().count() > MAX_TEXT;
        for s in [&self.name, &self.summary]
            .into_iter()
            .chain(&self.keywords)
            .chain(self.questions.iter().map(|q| &q.text))
            .chain(self.items.iter().map(|i| &i.note))
        {
            if long(s) {
                out.push(problem("too_long", s.chars().take(20).collect::<String>()));
            }
        }
        if RegionCode::parse(&self.region).is_err() {
            out.push(problem("bad_region", &self.region));
        }
        if self.questions.len() > MAX_QUESTIONS {
            out.push(problem(
                "too_many_questions",
                self.questions.len().to_string(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for q in &self.questions {
            if !key_ok(&q.key) {
                out.push(problem("bad_code", &q.key));
            }
            if !seen.insert(q.key.as_str()) {
                out.push(problem("duplicate_key", &q.key));
            }
            if q.options.len() < 2 {
                out.push(problem("too_few_options", &q.key));
            }
            if q.options.len() > MAX_OPTIONS {
                out.push(problem("too_many_options", &q.key));
            }
            let mut opts = std::collections::HashSet::new();
            for o in &q.options {
                if !key_ok(&o.key) {
                    out.push(problem("bad_code", &o.key));
                }
                if !opts.insert(o.key.as_str()) {
                    out.push(problem("duplicate_key", format!("{}.{}", q.key, o.key)));
                }
                if o.text.trim().is_empty() || long(&o.text) {
                    out.push(problem("too_long", &o.key));
                }
            }
        }
        if self.items.is_empty() {
            out.push(problem("no_items", ""));
        }
        if self.items.len() > MAX_ITEMS {
            out.push(problem("too_many_items", self.items.len().to_string()));
        }
        for it in &self.items {
            if BasicCode::parse(&it.basic_code).is_err() || it.basic_code.is_empty() {
                out.push(problem("bad_basic_code", &it.basic_code));
            }
            for c in &it.when {
                match self.questions.iter().find(|q| q.key == c.question) {
                    None => out.push(problem("unknown_question", &c.question)),
                    Some(q) => {
                        for a in &c.any_of {
                            if !q.options.iter().any(|o| &o.key == a) {
                                out.push(problem("unknown_option", format!("{}.{a}", q.key)));
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// The region code, parsed (checked by [`LifeEvent::problems`]).
    pub fn region_code(&self) -> Option<RegionCode> {
        RegionCode::parse(&self.region).ok()
    }

    /// Keeps the answers that name a question and one of its options.
    pub fn valid_answers<'a>(
        &self,
        given: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> HashMap<String, String> {
        let mut out = HashMap::new();
        for (k, v) in given {
            if let Some(q) = self.questions.iter().find(|q| q.key == k)
                && q.options.iter().any(|o| o.key == v)
            {
                out.insert(k.to_string(), v.to_string());
            }
        }
        out
    }

    /// The questions not answered yet.
    pub fn unanswered(&self, answers: &HashMap<String, String>) -> Vec<&Question> {
        self.questions
            .iter()
            .filter(|q| !answers.contains_key(&q.key))
            .collect()
    }

    /// The items needed for these answers, in order. Unanswered questions count as matching
    /// no condition (their conditional items are left out).
    pub fn plan(&self, answers: &HashMap<String, String>) -> Vec<&EventItem> {
        self.items
            .iter()
            .filter(|it| {
                it.when.iter().all(|c| {
                    answers
                        .get(&c.question)
                        .is_some_and(|a| c.any_of.iter().any(|x| x == a))
                })
            })
            .collect()
    }

    /// Text that search matches against: name, summary and keywords.
    pub fn search_text(&self) -> String {
        let mut s = format!("{} {}", self.name, self.summary);
        for k in &self.keywords {
            s.push(' ');
            s.push_str(k);
        }
        s
    }
}

/// Parses the seed file (a JSON array of definitions).
pub fn parse_seed(text: &str) -> Result<Vec<LifeEvent>, String> {
    let raw: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    raw.iter()
        .map(|v| {
            LifeEvent::parse(&v.to_string()).map_err(|p| {
                let code = v.get("code").and_then(|c| c.as_str()).unwrap_or("?");
                format!("{code}: {p:?}")
            })
        })
        .collect()
}

/// One material of the merged list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergedMaterial {
    pub name: String,
    pub issuer: String,
    /// The e-licence that can replace the paper document; empty when none.
    pub licence_type: String,
    /// Largest number of originals and copies any item asks for.
    pub originals: u32,
    pub copies: u32,
    /// Mandatory for at least one item.
    pub mandatory: bool,
    /// Positions (0-based) of the items needing it, in the plan's order.
    pub needed_by: Vec<usize>,
}

/// The merge key of a material: whose document it is does not matter when it is the
/// applicant's own ("申请人居民身份证" and "居民身份证" are one document).
pub fn material_key(name: &str) -> String {
    let n = normalize(name).replace(' ', "");
    for prefix in ["申请人本人", "申请人的", "申请人", "申报人", "本人"] {
        if let Some(rest) = n.strip_prefix(prefix)
            && rest.chars().count() >= 2
        {
            return rest.to_string();
        }
    }
    n
}

/// Merges the materials of the planned items (one list per item, in plan order).
pub fn merge_materials(items: &[&[MaterialRequirement]]) -> Vec<MergedMaterial> {
    let mut out: Vec<MergedMaterial> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (pos, mats) in items.iter().enumerate() {
        for m in mats.iter() {
            let key = material_key(&m.name);
            match index.get(&key) {
                Some(&i) => {
                    let e = &mut out[i];
                    if !e.needed_by.contains(&pos) {
                        e.needed_by.push(pos);
                    }
                    e.originals = e.originals.max(m.originals);
                    e.copies = e.copies.max(m.copies);
                    e.mandatory |= m.mandatory;
                    if e.licence_type.is_empty() {
                        e.licence_type = m.licence_type.clone();
                    }
                    // The shortest name is the plainest ("居民身份证").
                    if m.name.chars().count() < e.name.chars().count() {
                        e.name = m.name.clone();
                    }
                }
                None => {
                    index.insert(key, out.len());
                    out.push(MergedMaterial {
                        name: m.name.clone(),
                        issuer: m.issuer.clone(),
                        licence_type: m.licence_type.clone(),
                        originals: m.originals,
                        copies: m.copies,
                        mandatory: m.mandatory,
                        needed_by: vec![pos],
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mat(name: &str) -> MaterialRequirement {
        MaterialRequirement {
            name: name.into(),
            issuer: "x".into(),
            originals: 1,
            copies: 0,
            mandatory: true,
            licence_type: String::new(),
            instructions: String::new(),
            extras: Vec::new(),
        }
    }

    #[test]
    fn seed_is_valid_and_has_at_least_eight_events() {
        let evs = parse_seed(SEED_LIFE_EVENTS).unwrap();
        assert!(evs.len() >= 8, "{}", evs.len());
        let codes: std::collections::HashSet<_> = evs.iter().map(|e| &e.code).collect();
        assert_eq!(codes.len(), evs.len(), "codes are unique");
    }

    #[test]
    fn answers_select_items() {
        let evs = parse_seed(SEED_LIFE_EVENTS).unwrap();
        let ev = evs.iter().find(|e| e.code == "open-restaurant").unwrap();
        let all: Vec<(&str, &str)> = ev
            .questions
            .iter()
            .map(|q| (q.key.as_str(), q.options[0].key.as_str()))
            .collect();
        let a = ev.valid_answers(all);
        assert!(ev.unanswered(&a).is_empty());
        let plan = ev.plan(&a);
        assert!(!plan.is_empty() && plan.len() <= ev.items.len());
        let junk = ev.valid_answers([("nope", "x"), (ev.questions[0].key.as_str(), "zzz")]);
        assert!(junk.is_empty());
    }

    #[test]
    fn bad_definitions_are_named() {
        let e = LifeEvent::parse("{").unwrap_err();
        assert_eq!(e[0].key, "bad_json");
        let bad = r#"{"code":"A B","name":" ","summary":"","region":"1","questions":[
            {"key":"q","text":"?","options":[{"key":"a","text":"A"}]}],
            "items":[{"basic_code":"x y","when":[{"question":"z","any_of":["a"]},
            {"question":"q","any_of":["b"]}]}]}"#;
        let keys: Vec<&str> = LifeEvent::parse(bad)
            .unwrap_err()
            .iter()
            .map(|p| p.key)
            .collect();
        for k in [
            "bad_code",
            "empty_name",
            "bad_region",
            "too_few_options",
            "bad_basic_code",
            "unknown_question",
            "unknown_option",
        ] {
            assert!(keys.contains(&k), "{k} in {keys:?}");
        }
    }

    #[test]
    fn materials_merge_once_with_their_items() {
        let a = [mat("申请人居民身份证"), mat("营业执照")];
        let b = [mat("居民身份证"), mat("食品经营许可申请书")];
        let c = [mat("本人居民身份证"), mat("营业执照")];
        let m = merge_materials(&[&a, &b, &c]);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].name, "居民身份证");
        assert_eq!(m[0].needed_by, [0, 1, 2]);
        assert_eq!(m[1].needed_by, [0, 2]);
        assert_eq!(m[2].needed_by, [1]);
    }
}
