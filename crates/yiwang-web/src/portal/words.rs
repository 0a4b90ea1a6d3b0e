//! Facts said in words for the reader: time limits, visits, counts and paper copies.
//! All text comes from the message catalog; only the choice of message is made here.

use yiwang_domain::catalog::TimeLimit;
use yiwang_domain::enums::{CaseType, CodeSet, TimeUnit};
use yiwang_i18n::{Lang, t, tf};

/// `{key}_one` for one, `{key}` otherwise (English needs it; zh-CN has the same text twice).
pub fn counted(lang: Lang, key: &str, n: u64) -> String {
    let n_text = n.to_string();
    if n == 1 {
        tf(lang, &format!("{key}_one"), &[("n", &n_text)])
    } else {
        tf(lang, key, &[("n", &n_text)])
    }
}

/// 「5 个工作日」 / "5 working days".
pub fn days(lang: Lang, limit: TimeLimit) -> String {
    let key = match limit.unit {
        TimeUnit::WorkingDays => "portal.days.working",
        TimeUnit::NaturalDays => "portal.days.natural",
    };
    counted(lang, key, u64::from(limit.amount))
}

/// The promised and statutory limits in one sentence; 即办件 are handled on the spot.
pub fn time_limits(
    lang: Lang,
    case_type: CaseType,
    promised: TimeLimit,
    statutory: TimeLimit,
) -> String {
    let statutory_text = days(lang, statutory);
    let key = match (case_type, promised.amount) {
        (CaseType::Immediate, _) => "portal.limit.immediate",
        (CaseType::Promised, 0) => "portal.limit.same_day",
        (CaseType::Promised, _) => "portal.limit.promised",
    };
    tf(
        lang,
        key,
        &[
            ("promised", &days(lang, promised)),
            ("statutory", &statutory_text),
        ],
    )
}

/// 跑动次数 in words: 0 → 不用跑, 1 → 最多跑一次, 2 → 最多跑两次.
pub fn visits(lang: Lang, n: i64) -> String {
    match n {
        0 => t(lang, "portal.visits.none").to_string(),
        1 => t(lang, "portal.visits.one").to_string(),
        2 => t(lang, "portal.visits.two").to_string(),
        _ => tf(lang, "portal.visits.many", &[("n", &n.to_string())]),
    }
}

/// 「原件 1 份、复印件 2 份」; materials with no paper at all say so.
pub fn paper(lang: Lang, originals: u32, copies: u32) -> String {
    let mut parts = Vec::new();
    if originals > 0 {
        parts.push(counted(
            lang,
            "portal.material.originals",
            u64::from(originals),
        ));
    }
    if copies > 0 {
        parts.push(counted(lang, "portal.material.copies", u64::from(copies)));
    }
    if parts.is_empty() {
        t(lang, "portal.material.no_paper").to_string()
    } else {
        parts.join(t(lang, "portal.sep"))
    }
}

/// Labels of several enumerated values, joined with the language's list separator.
pub fn labels<T: CodeSet>(lang: Lang, values: &[T]) -> String {
    values
        .iter()
        .map(|v| yiwang_i18n::label(lang, *v))
        .collect::<Vec<_>>()
        .join(t(lang, "portal.sep"))
}
