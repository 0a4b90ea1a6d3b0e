//! Newest-first keyset paging over the audit log, limited to the entries the viewer may see.
//!
//! The store lists entries newest first below a cursor (`AuditFilter::before_seq`). A scoped
//! auditor may not see every matching entry, so a page reads at most [`MAX_READS`] store pages;
//! when that budget runs out the page says how far back it looked and offers to continue from
//! there. A page is therefore never wrong (no entry skipped or shown twice), only sometimes short.
//!
//! Visibility is the policy's (`audit_entry_visible`); the actors' grants are looked up once per
//! actor and request, with a department-only grant completed by that department's region. An
//! entry made with an API token counts as made by the token's grant, so a scoped auditor sees
//! what tokens in their scope did.

use std::collections::HashMap;
use yiwang_domain::policy::{Action, CatalogScope, Grant, Principal, audit_entry_visible};
use yiwang_store::{AuditEntry, AuditFilter, Store, StoreError};

/// Entries per page.
pub const PAGE: usize = 50;
/// Store pages read per request, at most.
pub const MAX_READS: usize = 12;
/// The store's largest page.
const STORE_PAGE: i64 = 1000;

/// What to list: the store filter's actor and object prefix (its cursor fields are ignored).
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    pub actor_id: Option<i64>,
    pub object_prefix: Option<String>,
}

/// One page, newest first.
#[derive(Debug, Default)]
pub struct Found {
    pub entries: Vec<AuditEntry>,
    /// The cursor of the next (older) page, if there may be older entries.
    pub next_before: Option<i64>,
    /// Set when the page stopped because of the read budget, not because it was full.
    pub searched_to: Option<i64>,
}

/// Decides, and remembers, whether the viewer may see entries of each actor.
pub struct Visibility<'a> {
    store: &'a Store,
    viewer: &'a Principal,
    everything: bool,
    /// By (account, token) of the entry's actor.
    known: HashMap<(Option<i64>, Option<i64>), bool>,
}

impl<'a> Visibility<'a> {
    pub fn new(store: &'a Store, viewer: &'a Principal) -> Self {
        Self {
            store,
            viewer,
            everything: CatalogScope::of(viewer, Action::ViewAudit).all,
            known: HashMap::new(),
        }
    }

    /// Whether the viewer sees everything (no per-actor checks).
    pub fn everything(&self) -> bool {
        self.everything
    }

    async fn grants_of(
        &self,
        actor_id: Option<i64>,
        token: Option<i64>,
    ) -> Result<Vec<Grant>, StoreError> {
        let mut grants = if let Some(t) = token {
            match self.store.api_token(t).await? {
                Some(t) => vec![t.grant],
                None => Vec::new(),
            }
        } else {
            let Some(id) = actor_id else {
                return Ok(Vec::new());
            };
            let Some(p) = self.store.principal(id).await? else {
                // Removed or disabled accounts: only platform-wide viewers see their entries.
                return Ok(Vec::new());
            };
            p.grants
        };
        for g in &mut grants {
            if let (None, Some(d)) = (&g.region, &g.department)
                && let Some(dep) = self.store.department(d).await?
            {
                g.region = Some(dep.region);
            }
        }
        Ok(grants)
    }

    pub async fn allows(&mut self, entry: &AuditEntry) -> Result<bool, StoreError> {
        if self.everything {
            return Ok(true);
        }
        let key = (
            entry.event.actor_id,
            yiwang_store::token_of_entry(&entry.event),
        );
        if let Some(v) = self.known.get(&key) {
            return Ok(*v);
        }
        let v = audit_entry_visible(self.viewer, &self.grants_of(key.0, key.1).await?);
        self.known.insert(key, v);
        Ok(v)
    }
}

/// The newest visible entries matching `criteria` with a sequence number below `before`
/// (`None`: from the newest entry).
pub async fn newest_before(
    store: &Store,
    criteria: &Criteria,
    before: Option<i64>,
    visible: &mut Visibility<'_>,
) -> Result<Found, StoreError> {
    let mut found = Vec::with_capacity(PAGE + 1);
    let mut cursor = before.unwrap_or(i64::MAX);
    for _ in 0..MAX_READS {
        let rows = store
            .audit_entries(&AuditFilter {
                actor_id: criteria.actor_id,
                object_prefix: criteria.object_prefix.clone(),
                before_seq: Some(cursor),
                limit: STORE_PAGE,
                ..Default::default()
            })
            .await?;
        let exhausted = i64::try_from(rows.len()).is_ok_and(|n| n < STORE_PAGE);
        for e in rows {
            cursor = e.seq;
            if visible.allows(&e).await? {
                found.push(e);
                if found.len() > PAGE {
                    found.truncate(PAGE);
                    let next = found.last().map(|e| e.seq);
                    return Ok(Found {
                        entries: found,
                        next_before: next,
                        searched_to: None,
                    });
                }
            }
        }
        if exhausted {
            return Ok(Found {
                entries: found,
                next_before: None,
                searched_to: None,
            });
        }
    }
    // The read budget ran out: continue below the last entry read.
    Ok(Found {
        entries: found,
        next_before: Some(cursor),
        searched_to: Some(cursor),
    })
}
