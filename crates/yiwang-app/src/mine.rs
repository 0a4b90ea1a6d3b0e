//! 我的办事 as use cases: the applicant's home (drafts by service name, cases with whom each is
//! for), deleting a draft, withdrawing a case before acceptance (撤回), and the progress
//! lookup without signing in (case number + 查询码), throttled against guessing.

use crate::files::FileStore;
use yiwang_domain::case::CaseNumber;
use yiwang_domain::mine::{WITHDRAW, subject};
use yiwang_store::applicants::Applicant;
use yiwang_store::auth_guard::{Gate, Throttle};
use yiwang_store::cases::{ActionRequest, CaseActor, CaseClock, DocumentIssuer};
use yiwang_store::mine::{MyCase, Progress};
use yiwang_store::{Store, StoreError};

/// One draft as 我的办事 lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyDraft {
    pub id: i64,
    /// The service's name (not its 实施编码).
    pub item_name: String,
    pub subject: Option<String>,
    pub updated_at: i64,
    /// The 一件事 it belongs to (then it is deleted or submitted with its bundle).
    pub bundle_id: Option<i64>,
}

/// What the applicant's home shows.
pub struct Home {
    pub drafts: Vec<MyDraft>,
    pub cases: Vec<MyCase>,
    pub unread: i64,
    pub bundles: Vec<(i64, String, i64)>,
}

pub async fn home(store: &Store, a: &Applicant) -> Result<Home, StoreError> {
    let mut drafts = Vec::new();
    let mut names: Vec<(String, String)> = Vec::new();
    let bundles = store.draft_bundles(a.id).await?;
    for d in store.drafts_of(a.id).await? {
        let code = d.impl_code.as_str().to_string();
        let name = match names.iter().find(|(c, _)| *c == code) {
            Some((_, n)) => n.clone(),
            None => {
                let n = store
                    .published_implementation(&d.impl_code)
                    .await?
                    .map(|p| p.standard.name)
                    .unwrap_or_else(|| code.clone());
                names.push((code, n.clone()));
                n
            }
        };
        drafts.push(MyDraft {
            id: d.id,
            item_name: name,
            subject: subject(&crate::apply::stored_pairs(&d)),
            updated_at: d.updated_at,
            bundle_id: bundles.iter().find(|(id, _)| *id == d.id).map(|(_, b)| *b),
        });
    }
    Ok(Home {
        drafts,
        cases: store.my_cases(a.id).await?,
        unread: store.unread_count(a.id).await?,
        bundles: store.bundles_of(a.id).await?,
    })
}

/// Deletes a draft of the applicant and the files only it used.
pub async fn delete_draft(
    store: &Store,
    files: &dyn FileStore,
    a: &Applicant,
    id: i64,
) -> Result<(), StoreError> {
    for key in store.delete_draft(id, a.id).await? {
        // A file left behind is only disk space: the draft is gone either way.
        if let Err(e) = files.delete(&key).await {
            tracing::warn!(error = %e, "file of a deleted draft not removed");
        }
    }
    Ok(())
}

/// 撤回: the applicant withdraws their case before it is accepted (the workflow refuses it
/// afterwards); recorded on the timeline and in the audit log like every case action.
pub async fn withdraw(
    store: &Store,
    a: &Applicant,
    client: &str,
    number: &CaseNumber,
    expected_version: Option<i64>,
    clock: CaseClock<'_>,
    docs: Option<&dyn DocumentIssuer>,
) -> Result<(), StoreError> {
    let req = ActionRequest {
        action: WITHDRAW.into(),
        expected_version,
        ..Default::default()
    };
    store
        .act_on_case(number, &req, CaseActor::Applicant(a), client, clock, docs)
        .await?;
    Ok(())
}

/// Lookups per client address and per case number within the window.
pub const LOOKUP_THROTTLE: Throttle = Throttle {
    limit: 10,
    window_ms: 15 * 60 * 1000,
    lock: false,
};

/// What a progress lookup answers.
#[derive(Debug)]
pub enum Lookup {
    Found(Progress),
    /// Unknown number or wrong code (one answer for both).
    NotFound,
    /// Too many tries from this address or for this case; try again later.
    Throttled,
}

/// A progress lookup without signing in. Each try is counted against the client address and
/// the case number; a right answer gives its reservation back.
pub async fn lookup_progress(
    store: &Store,
    client: &str,
    number: &CaseNumber,
    code: &str,
    now_ms: i64,
) -> Result<Lookup, StoreError> {
    let keys = [
        format!("progress:addr:{client}"),
        format!("progress:case:{}", number.as_str()),
    ];
    for k in &keys {
        if store.reserve_attempt(k, LOOKUP_THROTTLE, now_ms).await? != Gate::Open {
            return Ok(Lookup::Throttled);
        }
    }
    match store.progress_by_code(number, code).await? {
        Some(p) => {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            store.release_attempt(&refs).await?;
            Ok(Lookup::Found(p))
        }
        None => Ok(Lookup::NotFound),
    }
}

/// The messages of one case (or of none), with what the case is and what it asks now.
pub struct MessageGroup {
    pub case_number: Option<String>,
    /// The service's name.
    pub item_name: Option<String>,
    /// The case's status now (`case_status` key).
    pub status: Option<String>,
    /// What an open correction notice asks for (the materials' and fields' names).
    pub to_fix: Vec<String>,
    /// The case's query code (查询码), for a progress lookup without signing in.
    pub query_code: Option<String>,
    pub messages: Vec<yiwang_store::messages::SiteMessage>,
}

/// A page of the applicant's messages grouped per case (groups in the order of their newest
/// message); the page's messages are marked read. Returns the groups and the next cursor.
pub async fn message_groups(
    store: &Store,
    a: &Applicant,
    before: Option<i64>,
    now_ms: i64,
) -> Result<(Vec<MessageGroup>, Option<i64>), StoreError> {
    let got = store.messages_for(a.id, before, 30).await?;
    for m in got.items.iter().filter(|m| m.read_at.is_none()) {
        store.mark_message_read(a.id, m.id, now_ms).await?;
    }
    let mut groups: Vec<MessageGroup> = Vec::new();
    for m in got.items {
        if let Some(g) = groups.iter_mut().find(|g| g.case_number == m.case_number) {
            g.messages.push(m);
            continue;
        }
        let mut g = MessageGroup {
            case_number: m.case_number.clone(),
            item_name: None,
            status: None,
            to_fix: Vec::new(),
            query_code: None,
            messages: Vec::new(),
        };
        if let Some(n) = m
            .case_number
            .as_deref()
            .and_then(|n| CaseNumber::parse(n).ok())
        {
            match store.case_for_applicant(&n, a.id).await {
                Ok(file) => {
                    g.item_name = Some(file.case.item_name.clone());
                    g.query_code = Some(store.case_query_code(&n)?);
                    g.status = Some(file.case.applicant_status());
                    if let Some(c) = file.open_correction() {
                        g.to_fix = c.items.iter().map(|i| i.label.clone()).collect();
                    }
                }
                Err(StoreError::Domain(yiwang_domain::ErrorCode::NotFound)) => {}
                Err(e) => return Err(e),
            }
        }
        g.messages.push(m);
        groups.push(g);
    }
    Ok((groups, got.next))
}
