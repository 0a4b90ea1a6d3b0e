//! Which definition a new case follows, decided in one place.

use super::builtin::builtin;
use super::model::WorkflowDefinition;
use crate::codes::{BasicCode, ImplCode};
use crate::enums::{CaseType, HandlingKind};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Where a stored definition is bound in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "level", rename_all = "snake_case")]
pub enum BindingScope {
    HandlingItem {
        impl_code: ImplCode,
        kind: HandlingKind,
    },
    Implementation {
        impl_code: ImplCode,
    },
    StandardItem {
        basic_code: BasicCode,
    },
}

/// A validated definition bound to a place in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub scope: BindingScope,
    pub definition: WorkflowDefinition,
}

/// What a new case is for.
#[derive(Debug, Clone, Copy)]
pub struct CaseSubject<'a> {
    pub basic_code: &'a BasicCode,
    pub impl_code: &'a ImplCode,
    pub handling: Option<HandlingKind>,
    pub case_type: CaseType,
}

/// Which level the resolved definition came from, most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolvedFrom {
    HandlingItem,
    Implementation,
    StandardItem,
    BuiltIn,
}

/// The level at which `scope` applies to `subject`, if it does.
fn level(scope: &BindingScope, subject: CaseSubject<'_>) -> Option<ResolvedFrom> {
    match scope {
        BindingScope::HandlingItem { impl_code, kind }
            if impl_code == subject.impl_code && Some(*kind) == subject.handling =>
        {
            Some(ResolvedFrom::HandlingItem)
        }
        BindingScope::Implementation { impl_code } if impl_code == subject.impl_code => {
            Some(ResolvedFrom::Implementation)
        }
        BindingScope::StandardItem { basic_code } if basic_code == subject.basic_code => {
            Some(ResolvedFrom::StandardItem)
        }
        _ => None,
    }
}

/// The one place that picks a case's workflow: handling item → implementation → standard item →
/// built-in default by case type. Within one level the highest version wins, then the smallest
/// key, so the answer never depends on the order of `bindings`.
pub fn resolve<'a>(
    bindings: &'a [Binding],
    subject: CaseSubject<'_>,
) -> (Cow<'a, WorkflowDefinition>, ResolvedFrom) {
    let best = bindings
        .iter()
        .filter_map(|b| level(&b.scope, subject).map(|l| (l, &b.definition)))
        .min_by(|(la, a), (lb, b)| {
            la.cmp(lb)
                .then_with(|| b.version.cmp(&a.version))
                .then_with(|| a.key.cmp(&b.key))
        });
    match best {
        Some((from, def)) => (Cow::Borrowed(def), from),
        None => (
            Cow::Owned(builtin(subject.case_type)),
            ResolvedFrom::BuiltIn,
        ),
    }
}
