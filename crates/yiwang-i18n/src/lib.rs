//! The message catalog: every user-facing string, in zh-CN (default) and English.
//!
//! Messages are `key = value` lines in `messages/<lang>/<area>.ftl`; `{name}` marks an argument.
//! Enumeration labels in Chinese are the standard's own values (from the domain); their English
//! labels are catalog entries `<group>.<key>`.

use std::collections::HashMap;
use std::sync::OnceLock;
use yiwang_domain::enums::CodeSet;
use yiwang_domain::{ErrorCode, Issue};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-CN")]
    Zh,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    /// Accepts `zh`, `zh-CN`, `en`, `en-US`…; anything else is `None`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let t = tag.trim().to_ascii_lowercase();
        if t == "zh" || t.starts_with("zh-") {
            Some(Lang::Zh)
        } else if t == "en" || t.starts_with("en-") {
            Some(Lang::En)
        } else {
            None
        }
    }
    /// The first supported language of an Accept-Language header.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .find_map(Lang::from_tag)
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

macro_rules! sources {
    ($lang:literal: $($area:literal),*) => {
        &[$(include_str!(concat!("../messages/", $lang, "/", $area, ".ftl")),)*]
    };
}

const ZH: &[&str] = sources!("zh-CN": "common", "errors", "enums", "portal", "console", "api", "pii", "audit", "docs", "forms", "notify", "search", "cases", "apply_path", "corrections", "bundles_mine", "notices", "registers");
const EN: &[&str] = sources!("en": "common", "errors", "enums", "portal", "console", "api", "pii", "audit", "docs", "forms", "notify", "search", "cases", "apply_path", "corrections", "bundles_mine", "notices", "registers");

type Table = HashMap<&'static str, &'static str>;

fn parse(sources: &'static [&'static str]) -> Table {
    let mut t = HashMap::new();
    for src in sources {
        for line in src.lines() {
            // Values keep their spaces (separators such as ", " need them); only CR is dropped.
            let line = line.trim_start().trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some((k, v)) = line.split_once(" = ") {
                t.insert(k.trim(), v);
            }
        }
    }
    t
}

fn table(lang: Lang) -> &'static Table {
    static ZH_T: OnceLock<Table> = OnceLock::new();
    static EN_T: OnceLock<Table> = OnceLock::new();
    match lang {
        Lang::Zh => ZH_T.get_or_init(|| parse(ZH)),
        Lang::En => EN_T.get_or_init(|| parse(EN)),
    }
}

/// The message for `key`; falls back to zh-CN, then to the key itself so a gap is visible.
pub fn t(lang: Lang, key: &str) -> &str {
    table(lang)
        .get(key)
        .or_else(|| table(Lang::Zh).get(key))
        .copied()
        .unwrap_or(key)
}

/// `t` with `{name}` arguments filled in.
pub fn tf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(lang, key).to_string();
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// Label of an enumerated value: the standard's Chinese term, or its English catalog entry.
pub fn label<T: CodeSet>(lang: Lang, v: T) -> &'static str {
    match lang {
        Lang::Zh => v.zh(),
        Lang::En => {
            let key = format!("{}.{}", T::GROUP, v.key());
            table(Lang::En).get(key.as_str()).copied().unwrap_or(v.zh())
        }
    }
}

pub fn error_message(lang: Lang, code: ErrorCode) -> String {
    t(lang, &format!("error.{}", code.key())).to_string()
}

/// One line for an import problem: where, what, and the offending value.
pub fn issue_message(lang: Lang, issue: &Issue) -> String {
    let mut place = Vec::new();
    if let Some(s) = &issue.sheet {
        place.push(t(lang, &format!("sheet.{s}")).to_string());
    }
    if let Some(r) = issue.row {
        place.push(tf(lang, "issue.row", &[("row", &r.to_string())]));
    }
    if let Some(f) = &issue.field {
        place.push(tf(lang, "issue.field", &[("field", f)]));
    }
    let mut msg = error_message(lang, issue.code);
    if let Some(d) = &issue.detail {
        msg.push_str(&tf(lang, "issue.detail", &[("detail", d)]));
    }
    if place.is_empty() {
        msg
    } else {
        format!(
            "{}{}{}",
            place.join(t(lang, "issue.sep")),
            t(lang, "issue.colon"),
            msg
        )
    }
}

/// Every key of a language (for completeness tests).
pub fn keys(lang: Lang) -> Vec<&'static str> {
    let mut k: Vec<_> = table(lang).keys().copied().collect();
    k.sort_unstable();
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use yiwang_domain::enums::*;
    use yiwang_domain::policy::Role;

    #[test]
    fn both_languages_have_the_same_keys() {
        let zh = keys(Lang::Zh);
        let en = keys(Lang::En);
        let missing_en: Vec<_> = zh
            .iter()
            .filter(|k| !en.contains(k) && !k.starts_with("zh_only."))
            .collect();
        let missing_zh: Vec<_> = en
            .iter()
            .filter(|k| !zh.contains(k) && !is_enum_key(k))
            .collect();
        assert!(missing_en.is_empty(), "missing in en: {missing_en:?}");
        assert!(missing_zh.is_empty(), "missing in zh-CN: {missing_zh:?}");
    }

    fn is_enum_key(k: &str) -> bool {
        [
            ItemType::GROUP,
            ExerciseLevel::GROUP,
            TimeUnit::GROUP,
            CaseType::GROUP,
            OnlineDepth::GROUP,
            Audience::GROUP,
            Channel::GROUP,
            AnywhereScope::GROUP,
            HandlingKind::GROUP,
            Role::GROUP,
        ]
        .iter()
        .any(|g| k.starts_with(&format!("{g}.")))
    }

    fn all_labelled<T: CodeSet>() {
        for v in T::ALL {
            let key = format!("{}.{}", T::GROUP, v.key());
            assert!(
                table(Lang::En).contains_key(key.as_str()),
                "no English label {key}"
            );
        }
    }

    #[test]
    fn every_error_and_enum_has_messages() {
        for c in ErrorCode::ALL {
            for lang in Lang::ALL {
                let key = format!("error.{}", c.key());
                assert!(
                    table(lang).contains_key(key.as_str()),
                    "{lang:?} lacks {key}"
                );
            }
        }
        all_labelled::<ItemType>();
        all_labelled::<ExerciseLevel>();
        all_labelled::<TimeUnit>();
        all_labelled::<CaseType>();
        all_labelled::<OnlineDepth>();
        all_labelled::<Audience>();
        all_labelled::<Channel>();
        all_labelled::<AnywhereScope>();
        all_labelled::<HandlingKind>();
        all_labelled::<Role>();
        assert_eq!(label(Lang::Zh, ItemType::Licensing), "行政许可");
        assert_eq!(
            label(Lang::En, ItemType::Licensing),
            "Administrative licensing"
        );
    }

    #[test]
    fn issue_messages_name_the_place() {
        let i = Issue::new(ErrorCode::PromisedExceedsStatutory)
            .at("items", 7)
            .field("承诺办结时限")
            .detail("30 > 20");
        let zh = issue_message(Lang::Zh, &i);
        assert!(
            zh.contains("第 7 行") && zh.contains("承诺办结时限") && zh.contains("30 > 20"),
            "{zh}"
        );
        let en = issue_message(Lang::En, &i);
        assert!(en.contains("row 7") && en.contains("promised"), "{en}");
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("fr, zh-CN;q=0.5"),
            Some(Lang::Zh)
        );
    }
}
