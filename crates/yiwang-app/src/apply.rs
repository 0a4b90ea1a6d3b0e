//! The apply use case, the same for every channel (the applicant's pages, counter intake in
//! the console, the JSON API): read a draft with what its implementation asks for, save its
//! answers, decide whether it is ready, submit it. Channels only extract input and render.
//!
//! The draft keeps the posted values (`{"pairs": …}`) so an unfinished or not-yet-valid form
//! comes back exactly as left; the typed answers are added on submission. A draft started
//! online is pre-filled from the account (`{"prefilled": {field: value}}` remembers what came
//! from it, so the form can say so while the value is unchanged).

use std::collections::BTreeMap;
use yiwang_domain::case::{ApplicantKind, CaseSource};
use yiwang_domain::catalog::MaterialRequirement;
use yiwang_domain::forms::{AccountFacts, FieldError, FormDefinition, Mode, RawAnswers, validate};
use yiwang_domain::policy::Principal;
use yiwang_domain::{ErrorCode, ImplCode, RegionCode};
use yiwang_store::applicants::Applicant;
use yiwang_store::applications::{Application, DraftOwner, SmsRecipient};
use yiwang_store::cases::{CaseActor, CaseClock, Submitted};
use yiwang_store::{Store, StoreError, Upload};

/// Who files the application: the applicant, or a staff member for a citizen.
#[derive(Clone, Copy)]
pub enum Filer<'a> {
    Applicant(&'a Applicant),
    Staff(&'a Principal),
}

impl Filer<'_> {
    /// Whose drafts this filer may read and change.
    pub fn owner(&self) -> DraftOwner {
        match self {
            Filer::Applicant(a) => DraftOwner::Applicant(a.id),
            Filer::Staff(p) => DraftOwner::Staff(p.user_id),
        }
    }
    /// Who the case records as acting.
    pub fn actor(&self) -> CaseActor<'_> {
        match self {
            Filer::Applicant(a) => CaseActor::Applicant(a),
            Filer::Staff(p) => CaseActor::Staff(p),
        }
    }
}

/// A draft with what its implementation asks for: the form and the materials.
pub struct Draft {
    pub app: Application,
    /// The draft's current files, read with it.
    pub uploads: Vec<Upload>,
    /// The applicant's phone for the case's SMS, read with it.
    pub(crate) recipient: SmsRecipient,
    pub def: FormDefinition,
    pub item_name: String,
    pub region: RegionCode,
    pub required: Vec<MaterialRequirement>,
}

impl Draft {
    /// The case this draft became, once submitted.
    pub fn case_number(&self) -> Option<&str> {
        self.app.case_number.as_deref()
    }
    /// The posted values as last saved, read against the form.
    pub fn raw_answers(&self) -> RawAnswers {
        RawAnswers::from_pairs(&self.def, stored_pairs(&self.app)).unwrap_or_default()
    }
    /// The fields whose value still is the one taken from the account (`(name, value)`).
    pub fn from_account(&self) -> Vec<String> {
        let prefilled: BTreeMap<String, String> = self
            .app
            .answers
            .get(PREFILLED)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let raw = self.raw_answers();
        prefilled
            .into_iter()
            .filter(|(k, v)| raw.get(k) == v)
            .map(|(k, _)| k)
            .collect()
    }
}

/// Where the draft document remembers the values taken from the account.
const PREFILLED: &str = "prefilled";

/// 在线申请 by `applicant` for `code`: with `resume`, their newest online draft of it (back
/// from signing in, or the button pressed again), else a new draft pre-filled from the account.
pub async fn start(
    store: &Store,
    applicant: &Applicant,
    code: &ImplCode,
    resume: bool,
    client: &str,
    now_ms: i64,
) -> Result<Application, StoreError> {
    if resume
        && let Some(app) = store.drafts_of(applicant.id).await?.into_iter().find(|a| {
            &a.impl_code == code && a.source == CaseSource::Online && a.staff_id.is_none()
        })
    {
        return Ok(app);
    }
    let app = store
        .create_application(applicant.id, code, CaseSource::Online, None, now_ms)
        .await?;
    prefill(store, applicant, app.id, client, now_ms).await?;
    Ok(app)
}

/// Fills a new draft's fields that mean the account (name, ID number, phone: the form
/// definition's `prefill` sources) from the account, decrypted and audited with the write.
async fn prefill(
    store: &Store,
    applicant: &Applicant,
    id: i64,
    client: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let draft = load(store, Filer::Applicant(applicant), id).await?;
    if !draft.def.fields().any(|f| f.prefill.is_some()) || !stored_pairs(&draft.app).is_empty() {
        return Ok(());
    }
    let Some(contact) = store.applicant_contact(applicant.id).await? else {
        return Ok(());
    };
    let facts = AccountFacts {
        organisation: applicant.kind == ApplicantKind::Legal,
        display_name: &applicant.display_name,
        legal_rep: applicant.legal_rep.as_deref(),
        id_number: &contact.id_number,
        phone: &contact.phone,
    };
    let pairs = draft.def.prefill_pairs(&facts);
    if pairs.is_empty() {
        return Ok(());
    }
    let fields: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    let event = applicant.actor(client).event(
        "application.prefill",
        format!("application:{id}"),
        serde_json::json!({ "fields": fields }).to_string(),
    );
    let prefilled: BTreeMap<&str, &str> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let doc = serde_json::json!({ "pairs": pairs, PREFILLED: prefilled });
    store
        .save_answers_audited(
            id,
            Filer::Applicant(applicant).owner(),
            &doc,
            Some(&event),
            now_ms,
        )
        .await
}

/// A draft of `who` with its form and materials (others' drafts, and drafts of an
/// implementation no longer published: not found).
pub async fn load(store: &Store, who: Filer<'_>, id: i64) -> Result<Draft, StoreError> {
    let (app, uploads, recipient) = store.application_with_uploads(id, who.owner()).await?;
    let published = store
        .published_implementation(&app.impl_code)
        .await?
        .ok_or(StoreError::Domain(ErrorCode::NotFound))?;
    let form = store
        .form_definition_for(&app.impl_code, &published.implementation.basic_code)
        .await?;
    Ok(Draft {
        app,
        uploads,
        recipient,
        def: form.definition,
        item_name: published.standard.name.clone(),
        region: published.implementation.region.clone(),
        required: published.implementation.materials.clone(),
    })
}

/// The draft's posted values, as stored.
pub fn stored_pairs(app: &Application) -> Vec<(String, String)> {
    app.answers
        .get("pairs")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// Saves the posted values of a draft as they are (a draft keeps what was typed even when
/// some of it is not valid yet) and checks them by `mode`: the problems per field, if any.
pub async fn save_answers(
    store: &Store,
    who: Filer<'_>,
    draft: &Draft,
    raw: &RawAnswers,
    mode: Mode,
    now_ms: i64,
) -> Result<Vec<FieldError>, StoreError> {
    let checked = validate(&draft.def, raw, mode);
    let mut doc = serde_json::json!({ "pairs": raw.to_pairs() });
    if let Some(p) = draft.app.answers.get(PREFILLED) {
        doc[PREFILLED] = p.clone();
    }
    store
        .save_answers(draft.app.id, who.owner(), &doc, now_ms)
        .await?;
    Ok(checked.err().unwrap_or_default())
}

/// The mandatory materials without a file (what still blocks submission).
pub fn missing_materials(required: &[MaterialRequirement], uploads: &[Upload]) -> Vec<String> {
    required
        .iter()
        .filter(|m| m.mandatory && !uploads.iter().any(|u| u.material_key == m.name))
        .map(|m| m.name.clone())
        .collect()
}

/// Whether a draft may be submitted: its final answers document, or what is still missing.
pub enum Readiness {
    /// The document stored with the submission: the posted values and the typed answers.
    Ready(serde_json::Value),
    /// The answers do not pass the submission rules (`form`, the problems per field) and/or
    /// mandatory materials have no file yet (`materials`, their names).
    Missing {
        form: Vec<FieldError>,
        materials: Vec<String>,
    },
}

/// The one check before a draft becomes a case, for every channel and a bundle's "submit all"
/// alike: every mandatory material uploaded and the answers complete by the submission rules.
/// Reads nothing: the draft's files came with it.
pub fn readiness(draft: &Draft) -> Readiness {
    let materials = missing_materials(&draft.required, &draft.uploads);
    let raw = draft.raw_answers();
    match validate(&draft.def, &raw, Mode::Submit) {
        Ok(answers) if materials.is_empty() => Readiness::Ready(serde_json::json!({
            "pairs": raw.to_pairs(),
            "answers": serde_json::from_str::<serde_json::Value>(&answers.to_json()).unwrap_or_default(),
        })),
        Ok(_) => Readiness::Missing {
            form: Vec::new(),
            materials,
        },
        Err(form) => Readiness::Missing { form, materials },
    }
}

/// Submits a draft found [`Readiness::Ready`] with its final answers document `doc`; a
/// submitted draft returns its case (nothing is created twice). `draft` is as [`load`] read it
/// for `who`, so the submission does not read it again.
pub async fn submit(
    store: &Store,
    who: Filer<'_>,
    client: &str,
    draft: &Draft,
    doc: &serde_json::Value,
    clock: CaseClock<'_>,
) -> Result<Submitted, StoreError> {
    store
        .submit_loaded(
            &draft.app,
            Some(doc),
            Some(&draft.recipient),
            who.actor(),
            client,
            clock,
        )
        .await
}
