//! The clerk's correction notice (补正材料通知书, 一次性告知) on the case page: the rows the clerk
//! may tick (the case's own materials and form fields) or add (a new document slot), how a
//! posted correction is read against the case's scope, and the past rounds with their answers.

use super::{CaseScope, msg};
use crate::locale::Locale;
use yiwang_domain::ErrorCode;
use yiwang_domain::case::{
    CORRECTION_MAX_PROBLEM_CHARS, CorrectionItem, CorrectionScope, CorrectionTarget, TargetProblem,
    check_targets,
};

/// One material or field the clerk may name in a correction.
#[derive(Debug, Clone)]
pub(super) struct PickRow {
    pub(super) n: usize,
    pub(super) target: String,
    /// `material` or `field`.
    pub(super) kind: &'static str,
    pub(super) label: String,
    /// A field's current value; a material's current file count.
    pub(super) current: String,
    pub(super) picked: bool,
    pub(super) reason: String,
    pub(super) error: Option<String>,
}

/// A document slot the clerk adds (not on the item's list).
#[derive(Debug, Clone, Default)]
pub(super) struct NewRow {
    pub(super) n: usize,
    pub(super) name: String,
    pub(super) reason: String,
    pub(super) error: Option<String>,
}

/// How many new document slots one notice offers.
pub(super) const NEW_SLOTS: usize = 2;

/// The correction form as shown or as posted back.
#[derive(Debug, Clone, Default)]
pub(super) struct CorrectionForm {
    pub(super) action: String,
    pub(super) opinion: String,
    pub(super) rows: Vec<PickRow>,
    pub(super) new_rows: Vec<NewRow>,
    pub(super) error: Option<String>,
}

impl CorrectionForm {
    pub(super) fn row_errors(&self) -> Vec<(String, String)> {
        let picks = self.rows.iter().filter_map(|r| {
            r.error
                .clone()
                .map(|e| (format!("pick-{}", r.n), format!("{}{}", r.label, e)))
        });
        let news = self
            .new_rows
            .iter()
            .filter_map(|r| r.error.clone().map(|e| (format!("new_name_{}", r.n), e)));
        picks.chain(news).collect()
    }
}

/// One line of a past or open correction round, with its answer.
#[derive(Debug, Clone)]
pub(super) struct RoundLine {
    pub(super) label: String,
    pub(super) problem: String,
    /// `material`, `field` or `new`.
    pub(super) kind: &'static str,
    pub(super) answered_at: Option<i64>,
    /// A field's value now (after the answer).
    pub(super) value: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct RoundView {
    pub(super) requested_at: i64,
    pub(super) resolved_at: Option<i64>,
    pub(super) lines: Vec<RoundLine>,
}

pub(super) fn field_label(
    def: &yiwang_domain::forms::FormDefinition,
    key: &str,
    english: bool,
) -> String {
    def.field(key)
        .map_or_else(|| key.to_string(), |f| f.label.pick(english).to_string())
}

/// The rows of the correction form for `cs`, nothing picked.
pub(super) fn pick_rows(
    cs: &CaseScope,
    materials: &[crate::correction_view::MaterialHistory],
) -> Vec<PickRow> {
    let mut rows = Vec::new();
    for m in &cs.scope.materials {
        let current = materials
            .iter()
            .find(|h| &h.name == m)
            .map_or(0, |h| h.current().count());
        rows.push(PickRow {
            n: rows.len() + 1,
            target: CorrectionTarget::Material(m.clone()).to_string(),
            kind: "material",
            label: m.clone(),
            current: current.to_string(),
            picked: false,
            reason: String::new(),
            error: None,
        });
    }
    for k in &cs.scope.fields {
        rows.push(PickRow {
            n: rows.len() + 1,
            target: CorrectionTarget::Field(k.clone()).to_string(),
            kind: "field",
            label: field_label(&cs.form.def, k, false),
            current: yiwang_app::corrections::shown_value(&cs.form, k),
            picked: false,
            reason: String::new(),
            error: None,
        });
    }
    rows
}

/// The correction form as posted: its rows against the case's scope, each row's own problem,
/// and the items when there is none.
pub(super) fn read_correction(
    locale: Locale,
    form: &crate::html::FormData,
    mut cf: CorrectionForm,
    def: &yiwang_domain::forms::FormDefinition,
    scope: &CorrectionScope,
) -> (CorrectionForm, Option<Vec<CorrectionItem>>) {
    let picked: Vec<&str> = form.all("pick");
    cf.action = form.get("action").to_string();
    cf.opinion = form.get("opinion").to_string();
    let mut items = Vec::new();
    let mut bad = false;
    // A target not offered on this page (forged or stale): nothing is written.
    let offered = |t: &str| cf.rows.iter().any(|r| r.target == t);
    if picked.iter().any(|t| !offered(t)) {
        cf.error = Some(msg(locale, "corrections.console.unknown_target"));
        return (cf, None);
    }
    for r in &mut cf.rows {
        r.reason = form.get(&format!("reason:{}", r.target)).trim().to_string();
        r.picked = picked.contains(&r.target.as_str()) || !r.reason.is_empty();
        if !r.picked {
            continue;
        }
        if r.reason.is_empty() {
            r.error = Some(msg(locale, "corrections.console.reason_missing"));
            bad = true;
            continue;
        }
        let Ok(target) = CorrectionTarget::parse(&r.target) else {
            bad = true;
            continue;
        };
        let label = match &target {
            CorrectionTarget::Field(k) => field_label(def, k, false),
            _ => r.label.clone(),
        };
        items.push(CorrectionItem {
            target,
            label,
            problem: r.reason.clone(),
        });
    }
    for r in &mut cf.new_rows {
        r.name = form.get(&format!("new_name_{}", r.n)).trim().to_string();
        r.reason = form.get(&format!("new_reason_{}", r.n)).trim().to_string();
        match (r.name.is_empty(), r.reason.is_empty()) {
            (true, true) => {}
            (false, true) => {
                r.error = Some(msg(locale, "corrections.console.reason_missing"));
                bad = true;
            }
            (true, false) => {
                r.error = Some(msg(locale, "corrections.console.name_missing"));
                bad = true;
            }
            (false, false) => items.push(CorrectionItem {
                target: CorrectionTarget::NewMaterial(r.name.clone()),
                label: r.name.clone(),
                problem: r.reason.clone(),
            }),
        }
    }
    if items.is_empty() && !bad {
        cf.error = Some(msg(locale, "corrections.console.none_picked"));
        return (cf, None);
    }
    let too_long = |s: &str| s.chars().count() > CORRECTION_MAX_PROBLEM_CHARS;
    for r in &mut cf.rows {
        if r.picked && too_long(&r.reason) {
            r.error = Some(yiwang_i18n::error_message(locale.lang, ErrorCode::TooLong));
            bad = true;
        }
    }
    if !bad && let Err((i, problem)) = check_targets(&items, scope) {
        let new_name = items.get(i).and_then(|it| match &it.target {
            CorrectionTarget::NewMaterial(n) => Some(n.clone()),
            _ => None,
        });
        let text = match problem {
            TargetProblem::Unknown => msg(locale, "corrections.console.unknown_target"),
            TargetProblem::BadNewName => msg(locale, "corrections.console.bad_new_name"),
        };
        match new_name.and_then(|n| cf.new_rows.iter_mut().find(|r| r.name == n)) {
            Some(r) => r.error = Some(text),
            None => cf.error = Some(text),
        }
        bad = true;
    }
    if bad {
        if cf.error.is_none() {
            cf.error = Some(msg(locale, "corrections.console.fix_rows"));
        }
        return (cf, None);
    }
    (cf, Some(items))
}
