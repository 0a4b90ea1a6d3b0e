//! 一件事 (a life event's bundle) as one use case for the bundle page and the JSON API: what each
//! part still lacks, the whole bundle as one form (一表申请), and "submit all" (一次提交) as one
//! business fact in one transaction.
//!
//! What "the same" means across parts is the domain's (`bundle_form`): a field with the same
//! key and kind is asked once; a material of the same name is uploaded once and serves every
//! part; a material (or credit code) an earlier part's result provides is not asked at all.

use crate::apply::{self, Draft, Filer};
use std::collections::BTreeSet;
use yiwang_domain::ErrorCode;
use yiwang_domain::bundle_form::{self, Part};
use yiwang_domain::forms::{FieldError, FormDefinition, Mode, RawAnswers, Text, validate};
use yiwang_store::applicants::Applicant;
use yiwang_store::bundles::{Bundle, BundlePart, ReadyPart};
use yiwang_store::cases::CaseClock;
use yiwang_store::{Store, StoreError, Upload};

/// How one material of a draft part is satisfied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaterialState {
    /// A file of this part.
    Uploaded,
    /// A file uploaded for another part of the bundle (same material name): used for this one.
    SharedFrom(usize),
    /// The result of an earlier part (0-based) of the bundle: nothing to upload.
    ProvidedBy(usize),
    /// Mandatory and missing.
    Missing,
    /// Optional and not given.
    Optional,
}

/// One material of a draft part as the bundle shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialLine {
    pub name: String,
    pub state: MaterialState,
}

/// One part as the bundle page (and the API) shows it: its case, or what its draft lacks.
pub struct PartView {
    pub part: BundlePart,
    /// A draft whose answers do not pass the submission rules yet.
    pub form_incomplete: bool,
    /// Mandatory materials of a draft without a file yet.
    pub materials: Vec<String>,
    /// Every material of a draft and how it is satisfied.
    pub lines: Vec<MaterialLine>,
    /// A draft of an implementation no longer published: it cannot be submitted.
    pub unavailable: bool,
}

impl PartView {
    pub fn ready(&self) -> bool {
        !self.unavailable && !self.form_incomplete && self.materials.is_empty()
    }
}

/// A part as assessed: its view and, for a complete draft, the draft as read and the final
/// answers document to submit it with.
pub type Assessed = (PartView, Option<(Draft, serde_json::Value)>);

/// The bundle's parts read for the one form: every part's result name (in order) and each
/// draft part with its place.
pub struct Parts {
    pub results: Vec<String>,
    pub drafts: Vec<(usize, Draft)>,
    /// Drafts of implementations no longer published (their places).
    pub unavailable: Vec<usize>,
}

impl Parts {
    fn results(&self) -> Vec<&str> {
        self.results.iter().map(String::as_str).collect()
    }
    fn parts(&self) -> Vec<Part<'_>> {
        self.drafts
            .iter()
            .map(|(i, d)| Part {
                index: *i,
                title: &d.item_name,
                def: &d.def,
            })
            .collect()
    }
    /// The keys the one form asks once.
    pub fn shared(&self) -> BTreeSet<String> {
        bundle_form::shared_keys(&self.parts(), &self.results())
    }
}

/// Reads every part: the drafts with their forms and files, and what each item issues.
pub async fn read_parts(
    store: &Store,
    a: &Applicant,
    bundle: &Bundle,
) -> Result<Parts, StoreError> {
    let mut out = Parts {
        results: Vec::with_capacity(bundle.parts.len()),
        drafts: Vec::new(),
        unavailable: Vec::new(),
    };
    for (i, part) in bundle.parts.iter().enumerate() {
        let result = store
            .published_implementation(&part.impl_code)
            .await?
            .map(|p| p.implementation.result_name)
            .unwrap_or_default();
        out.results.push(result);
        if part.case_number.is_some() {
            continue;
        }
        match apply::load(store, Filer::Applicant(a), part.application_id).await {
            Ok(d) => out.drafts.push((i, d)),
            Err(StoreError::Domain(ErrorCode::NotFound)) => out.unavailable.push(i),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// How each material of draft part `index` is satisfied.
pub fn material_lines(parts: &Parts, index: usize, d: &Draft) -> Vec<MaterialLine> {
    let results = parts.results();
    d.required
        .iter()
        .map(|m| {
            let state =
                if let Some(k) = bundle_form::material_provided_by(&results, index, m) {
                    MaterialState::ProvidedBy(k)
                } else if d.uploads.iter().any(|u| u.material_key == m.name) {
                    MaterialState::Uploaded
                } else if let Some((k, _)) = parts.drafts.iter().find(|(k, o)| {
                    *k != index && o.uploads.iter().any(|u| u.material_key == m.name)
                }) {
                    MaterialState::SharedFrom(*k)
                } else if m.mandatory {
                    MaterialState::Missing
                } else {
                    MaterialState::Optional
                };
            MaterialLine {
                name: m.name.clone(),
                state,
            }
        })
        .collect()
}

/// The part's form with the fields an earlier part provides no longer required.
fn effective_def(parts: &Parts, index: usize, def: &FormDefinition) -> FormDefinition {
    let results = parts.results();
    let mut def = def.clone();
    for s in &mut def.sections {
        for f in &mut s.fields {
            if bundle_form::field_provided_by(&results, index, f).is_some() {
                f.required = false;
            }
        }
    }
    def
}

/// Each part's view and, for a complete draft, the final answers document to submit it with:
/// the single application's rules, except that what an earlier part of the bundle provides is
/// not asked, and a file of the same material in another part serves this one. The document
/// records what the earlier parts provide (`bundle_provided`), so the clerk sees it.
pub async fn assess(
    store: &Store,
    a: &Applicant,
    bundle: &Bundle,
) -> Result<Vec<Assessed>, StoreError> {
    let parts = read_parts(store, a, bundle).await?;
    let mut out = Vec::with_capacity(bundle.parts.len());
    let mut drafts: Vec<(usize, Draft)> = Vec::new();
    let mut assessed: Vec<(usize, PartView, Option<serde_json::Value>)> = Vec::new();
    for (i, part) in bundle.parts.iter().enumerate() {
        let mut view = PartView {
            part: part.clone(),
            form_incomplete: false,
            materials: Vec::new(),
            lines: Vec::new(),
            unavailable: parts.unavailable.contains(&i),
        };
        let Some((_, d)) = parts.drafts.iter().find(|(k, _)| *k == i) else {
            assessed.push((i, view, None));
            continue;
        };
        view.lines = material_lines(&parts, i, d);
        view.materials = view
            .lines
            .iter()
            .filter(|l| l.state == MaterialState::Missing)
            .map(|l| l.name.clone())
            .collect();
        let def = effective_def(&parts, i, &d.def);
        let raw = RawAnswers::from_pairs(&def, apply::stored_pairs(&d.app)).unwrap_or_default();
        let doc = match validate(&def, &raw, Mode::Submit) {
            Ok(answers) if view.materials.is_empty() => {
                let provided: Vec<serde_json::Value> = view
                    .lines
                    .iter()
                    .filter_map(|l| match l.state {
                        MaterialState::ProvidedBy(k) => Some(serde_json::json!({
                            "material": l.name,
                            "part": k.saturating_add(1),
                            "item": bundle.parts.get(k).map(|p| p.item_name.clone()),
                        })),
                        _ => None,
                    })
                    .collect();
                let results = parts.results();
                let fields: Vec<serde_json::Value> = d
                    .def
                    .fields()
                    .filter_map(|f| {
                        bundle_form::field_provided_by(&results, i, f).map(
                            |k| serde_json::json!({"field": f.key, "part": k.saturating_add(1)}),
                        )
                    })
                    .collect();
                Some(serde_json::json!({
                    "pairs": raw.to_pairs(),
                    "answers": serde_json::from_str::<serde_json::Value>(&answers.to_json()).unwrap_or_default(),
                    "bundle_provided": provided,
                    "bundle_provided_fields": fields,
                }))
            }
            Ok(_) => None,
            Err(_) => {
                view.form_incomplete = true;
                None
            }
        };
        assessed.push((i, view, doc));
    }
    drafts.extend(parts.drafts);
    for (i, view, doc) in assessed {
        let ready = match doc {
            Some(doc) => drafts
                .iter()
                .position(|(k, _)| *k == i)
                .map(|p| (drafts.swap_remove(p).1, doc)),
            None => None,
        };
        out.push((view, ready));
    }
    Ok(out)
}

/// Whether every part is submitted or ready to be.
pub fn complete(assessed: &[Assessed]) -> bool {
    assessed
        .iter()
        .all(|(v, doc)| v.part.case_number.is_some() || doc.is_some())
}

/// Submits every ready draft of an [`assess`]ed bundle (each its own case; a draft submitted
/// meanwhile keeps its case) and records the bundle's submission with its audit entry, in one
/// transaction. Files shared between parts are first recorded for each part that uses them,
/// so every case holds its own list of materials.
pub async fn submit_all(
    store: &Store,
    a: &Applicant,
    client: &str,
    bundle_id: i64,
    assessed: &[Assessed],
    clock: CaseClock<'_>,
) -> Result<(), StoreError> {
    let mut copies: Vec<(Upload, i64)> = Vec::new();
    for (view, ready) in assessed {
        let Some((draft, _)) = ready else { continue };
        for l in &view.lines {
            if let MaterialState::SharedFrom(k) = l.state {
                let from = assessed
                    .iter()
                    .filter_map(|(v, r)| r.as_ref().map(|(d, _)| (v, d)))
                    .find(|(v, _)| v.part.application_id == bundle_part_id(assessed, k))
                    .and_then(|(_, d)| d.uploads.iter().find(|u| u.material_key == l.name));
                if let Some(up) = from {
                    copies.push((up.clone(), draft.app.id));
                }
            }
        }
    }
    store
        .share_bundle_uploads(bundle_id, a.id, &copies, clock.now_ms)
        .await?;
    let parts: Vec<ReadyPart<'_>> = assessed
        .iter()
        .filter_map(|(_, ready)| ready.as_ref())
        .map(|(draft, doc)| ReadyPart {
            application: &draft.app,
            answers: doc,
            recipient: &draft.recipient,
        })
        .collect();
    store
        .submit_bundle(bundle_id, a, &parts, client, clock)
        .await
}

fn bundle_part_id(assessed: &[Assessed], index: usize) -> i64 {
    assessed
        .get(index)
        .map(|(v, _)| v.part.application_id)
        .unwrap_or_default()
}

/// The whole bundle as one form: the combined definition and the answers each draft holds.
pub struct OneForm {
    pub def: FormDefinition,
    pub raw: RawAnswers,
    pub parts: Parts,
}

/// The one form of a bundle's drafts (`shared_title` heads the questions asked once).
pub async fn one_form(
    store: &Store,
    a: &Applicant,
    bundle: &Bundle,
    shared_title: Text,
) -> Result<OneForm, StoreError> {
    let parts = read_parts(store, a, bundle).await?;
    let def = bundle_form::combine(&parts.parts(), &parts.results(), shared_title);
    let shared = parts.shared();
    let stored: Vec<(usize, Vec<(String, String)>)> = parts
        .drafts
        .iter()
        .map(|(i, d)| (*i, apply::stored_pairs(&d.app)))
        .collect();
    let raw = RawAnswers::from_pairs(&def, bundle_form::join(&stored, &shared)).unwrap_or_default();
    Ok(OneForm { def, raw, parts })
}

/// Saves the one form's answers into every draft (each its own share: its fields and the
/// shared ones), in one transaction; what was typed is kept even when not valid yet. Returns
/// the problems of the whole form by `mode`.
pub async fn save_one_form(
    store: &Store,
    a: &Applicant,
    bundle_id: i64,
    form: &OneForm,
    raw: &RawAnswers,
    mode: Mode,
    now_ms: i64,
) -> Result<Vec<FieldError>, StoreError> {
    let shared = form.parts.shared();
    let pairs = raw.to_pairs();
    let docs: Vec<(i64, serde_json::Value)> = form
        .parts
        .drafts
        .iter()
        .map(|(i, d)| {
            let own = bundle_form::split(&pairs, *i, &d.def, &shared);
            (d.app.id, serde_json::json!({ "pairs": own }))
        })
        .collect();
    store
        .save_bundle_answers(bundle_id, a.id, &docs, now_ms)
        .await?;
    Ok(validate(&form.def, raw, mode).err().unwrap_or_default())
}

/// What an earlier part of its bundle provides for a submitted part, as its answers document
/// records it: `(material, part number, item name)`, for the clerk's case page.
pub fn provided_materials(answers: &serde_json::Value) -> Vec<(String, u64, String)> {
    answers
        .get("bundle_provided")
        .and_then(|v| v.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|p| {
                    Some((
                        p.get("material")?.as_str()?.to_string(),
                        p.get("part")?.as_u64()?,
                        p.get("item")
                            .and_then(|i| i.as_str())
                            .unwrap_or_default()
                            .to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The form `def` with the fields an earlier part of the bundle provided (as the answers
/// document records them) no longer required, so the answers read as they were checked.
pub fn with_provided_fields(def: &FormDefinition, answers: &serde_json::Value) -> FormDefinition {
    let keys: Vec<&str> = answers
        .get("bundle_provided_fields")
        .and_then(|v| v.as_array())
        .map(|l| l.iter().filter_map(|p| p.get("field")?.as_str()).collect())
        .unwrap_or_default();
    let mut def = def.clone();
    for s in &mut def.sections {
        for f in &mut s.fields {
            if keys.contains(&f.key.as_str()) {
                f.required = false;
            }
        }
    }
    def
}
