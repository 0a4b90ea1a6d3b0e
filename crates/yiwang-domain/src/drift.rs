//! 四级四同 drift: where implementations of one standard item at one level differ across regions,
//! and a score per region (the share of its comparable implementations that follow the common
//! practice). A county bureau and a township office implementing the same item (受理 at the
//! 乡镇, 决定 at the county) are not compared with each other: only implementations of the same
//! level are.

use crate::catalog::{Implementation, StandardItem};
use crate::codes::RegionCode;
use crate::enums::ExerciseLevel;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    Materials,
    Limits,
    Visits,
    OnlineDepth,
}

impl Aspect {
    pub const ALL: [Aspect; 4] = [
        Aspect::Materials,
        Aspect::Limits,
        Aspect::Visits,
        Aspect::OnlineDepth,
    ];
    pub fn key(self) -> &'static str {
        match self {
            Aspect::Materials => "materials",
            Aspect::Limits => "limits",
            Aspect::Visits => "visits",
            Aspect::OnlineDepth => "online_depth",
        }
    }
    /// A comparable fingerprint of this aspect of an implementation.
    fn value(self, imp: &Implementation) -> String {
        match self {
            Aspect::Materials => {
                let names: BTreeSet<String> = imp
                    .materials
                    .iter()
                    .filter(|m| m.mandatory)
                    .map(|m| m.name.trim().to_string())
                    .collect();
                names.into_iter().collect::<Vec<_>>().join("；")
            }
            Aspect::Limits => format!(
                "{}/{}",
                imp.promised_limit.amount, imp.statutory_limit.amount
            ),
            Aspect::Visits => imp.visits.to_string(),
            Aspect::OnlineDepth => imp.online_depth.number().to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DriftImplementation {
    pub code: String,
    pub region: RegionCode,
    pub department_name: String,
    /// Aspects where this implementation departs from the most common value.
    pub deviations: Vec<Aspect>,
    pub values: BTreeMap<Aspect, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DriftItem {
    pub basic_code: String,
    pub name: String,
    /// The level of the implementations compared.
    pub level: ExerciseLevel,
    /// Aspects on which the implementations do not all agree.
    pub differing: Vec<Aspect>,
    pub implementations: Vec<DriftImplementation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegionScore {
    pub region: RegionCode,
    /// Implementations of standard items that have more than one implementation.
    pub comparable: u32,
    pub conforming: u32,
    /// 0–100; 100 when nothing is comparable.
    pub score: u32,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct DriftReport {
    pub items: Vec<DriftItem>,
    pub regions: Vec<RegionScore>,
}

/// Builds the report from published implementations grouped by standard item.
pub fn drift_report(groups: &[(StandardItem, Vec<Implementation>)]) -> DriftReport {
    let mut report = DriftReport::default();
    let mut scores: BTreeMap<RegionCode, (u32, u32)> = BTreeMap::new();
    for (std, all) in groups {
        let mut by_level: BTreeMap<ExerciseLevel, Vec<&Implementation>> = BTreeMap::new();
        for imp in all {
            by_level.entry(imp.level).or_default().push(imp);
        }
        for (level, imps) in by_level {
            compare(std, level, &imps, &mut report, &mut scores);
        }
    }
    report.regions = scores
        .into_iter()
        .map(|(region, (comparable, conforming))| RegionScore {
            region,
            comparable,
            conforming,
            score: (conforming * 100).checked_div(comparable).unwrap_or(100),
        })
        .collect();
    report
}

/// Compares the implementations of one item at one level; adds the item when they differ and
/// counts each implementation towards its region's score.
fn compare(
    std: &StandardItem,
    level: ExerciseLevel,
    imps: &[&Implementation],
    report: &mut DriftReport,
    scores: &mut BTreeMap<RegionCode, (u32, u32)>,
) {
    if imps.len() < 2 {
        return;
    }
    let mut differing = Vec::new();
    let mut modes = BTreeMap::new();
    for aspect in Aspect::ALL {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for imp in imps {
            *counts.entry(aspect.value(imp)).or_default() += 1;
        }
        if counts.len() > 1 {
            differing.push(aspect);
        }
        // Most common value; ties go to the smaller value so the result is deterministic.
        let mode = counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(v, _)| v.clone())
            .unwrap_or_default();
        modes.insert(aspect, mode);
    }
    let mut rows = Vec::new();
    for imp in imps {
        let values: BTreeMap<Aspect, String> =
            Aspect::ALL.iter().map(|a| (*a, a.value(imp))).collect();
        let deviations: Vec<Aspect> = Aspect::ALL
            .iter()
            .copied()
            .filter(|a| modes.get(a) != values.get(a))
            .collect();
        let s = scores.entry(imp.region.clone()).or_default();
        s.0 += 1;
        if deviations.is_empty() {
            s.1 += 1;
        }
        rows.push(DriftImplementation {
            code: imp.code.to_string(),
            region: imp.region.clone(),
            department_name: imp.department_name.clone(),
            deviations,
            values,
        });
    }
    if !differing.is_empty() {
        report.items.push(DriftItem {
            basic_code: std.basic_code.to_string(),
            name: std.name.clone(),
            level,
            differing,
            implementations: rows,
        });
    }
}
