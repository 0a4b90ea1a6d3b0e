//! A life event's plan for one reader: the selected items resolved to the implementations of
//! the reader's region (or the nearest parent region), and their materials merged.

use crate::engine::SearchError;
use crate::life_event::{LifeEvent, MergedMaterial, merge_materials};
use serde::Serialize;
use std::collections::HashMap;
use yiwang_domain::{BasicCode, ImplCode, RegionCode};
use yiwang_store::{ImplementationFilter, Store};

#[derive(Debug, Clone, Serialize)]
pub struct PlannedItem {
    pub basic_code: String,
    /// The item's name; the code when it is not published here.
    pub name: String,
    pub note: String,
    /// The implementation to apply for; `None` when the item is not published in this area.
    pub implementation: Option<String>,
    pub department_name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub items: Vec<PlannedItem>,
    pub materials: Vec<MergedMaterial>,
}

/// How close an implementation's region is to the reader's: same, then parents upwards, then
/// anything inside the reader's region.
fn closeness(reader: &RegionCode, region: &RegionCode) -> Option<u8> {
    if region == reader {
        Some(0)
    } else if region.contains(reader) {
        Some(1 + u8::try_from(reader.level().number() - region.level().number()).unwrap_or(9))
    } else if reader.contains(region) {
        Some(20)
    } else {
        None
    }
}

/// Resolves the plan of `event` for `answers`, in `region` (the event's own region when none).
pub async fn resolve(
    store: &Store,
    event: &LifeEvent,
    answers: &HashMap<String, String>,
    region: Option<&RegionCode>,
) -> Result<Plan, SearchError> {
    let reader = match (region, event.region_code()) {
        (Some(r), _) => r.clone(),
        (None, Some(r)) => r,
        (None, None) => return Err(SearchError::State("life event without region".into())),
    };
    let mut items = Vec::new();
    let mut materials = Vec::new();
    for it in event.plan(answers) {
        let Ok(basic) = BasicCode::parse(&it.basic_code) else {
            continue;
        };
        let filter = ImplementationFilter {
            basic_code: Some(basic),
            ..Default::default()
        };
        let candidates = store.list_published(&filter, None, 200).await?;
        let best = candidates
            .iter()
            .filter_map(|s| {
                let r = RegionCode::parse(&s.region_code).ok()?;
                closeness(&reader, &r).map(|c| (c, s))
            })
            .min_by_key(|(c, s)| (*c, s.code.clone()));
        let mut planned = PlannedItem {
            basic_code: it.basic_code.clone(),
            name: candidates
                .first()
                .map(|s| s.name.clone())
                .unwrap_or_else(|| it.basic_code.clone()),
            note: it.note.clone(),
            implementation: None,
            department_name: None,
        };
        let mut mats = Vec::new();
        if let Some((_, s)) = best
            && let Ok(code) = ImplCode::parse(&s.code)
            && let Some(p) = store.published_implementation(&code).await?
        {
            planned.implementation = Some(s.code.clone());
            planned.department_name = Some(s.department_name.clone());
            mats = p.implementation.materials;
        }
        items.push(planned);
        materials.push(mats);
    }
    let refs: Vec<&[yiwang_domain::catalog::MaterialRequirement]> =
        materials.iter().map(Vec::as_slice).collect();
    Ok(Plan {
        materials: merge_materials(&refs),
        items,
    })
}
