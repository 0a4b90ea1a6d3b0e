//! Newest-first keyset paging over the audit log, limited to the entries the viewer may see.
//!
//! The store lists entries in sequence order after a given sequence number
//! (`Store::audit_entries`). Going backwards, this reads windows of at most `width` sequence
//! numbers just below the cursor: a window holds at most `width` entries, so one call with
//! `limit = width` returns every matching entry of the window (later ones are dropped). Windows
//! grow up to the store's page limit, and one request reads at most [`MAX_WINDOWS`] of them; when
//! that budget runs out the page says how far back it looked and offers to continue from there.
//! A page is therefore never wrong (no entry skipped or shown twice), only sometimes short.
//!
//! Visibility is the policy's (`audit_entry_visible`); the actors' grants are looked up once per
//! actor and request, with a department-only grant completed by that department's region.

use std::collections::HashMap;
use yiwang_domain::policy::{Action, CatalogScope, Grant, Principal, audit_entry_visible};
use yiwang_store::{AuditEntry, AuditFilter, Store, StoreError};

/// Entries per page.
pub const PAGE: usize = 50;
/// Windows read per request, at most.
pub const MAX_WINDOWS: usize = 12;
/// The store's largest page.
const MAX_WIDTH: i64 = 1000;

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
    known: HashMap<Option<i64>, bool>,
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

    async fn grants_of(&self, actor_id: Option<i64>) -> Result<Vec<Grant>, StoreError> {
        let Some(id) = actor_id else {
            return Ok(Vec::new());
        };
        let Some(p) = self.store.principal(id).await? else {
            // Removed or disabled accounts: only platform-wide viewers see their entries.
            return Ok(Vec::new());
        };
        let mut grants = p.grants;
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
        let id = entry.event.actor_id;
        if let Some(v) = self.known.get(&id) {
            return Ok(*v);
        }
        let v = audit_entry_visible(self.viewer, &self.grants_of(id).await?);
        self.known.insert(id, v);
        Ok(v)
    }
}

/// One past the largest sequence number in the log (the first page's cursor).
pub async fn top(store: &Store) -> Result<i64, StoreError> {
    let mut after = (store.audit_count().await? - 1).max(0);
    let mut last = after;
    loop {
        let rows = store
            .audit_entries(&AuditFilter {
                after_seq: after,
                limit: MAX_WIDTH,
                ..Default::default()
            })
            .await?;
        let Some(e) = rows.last() else { break };
        last = last.max(e.seq);
        if (rows.len() as i64) < MAX_WIDTH {
            break;
        }
        after = e.seq;
    }
    Ok(last + 1)
}

/// The newest visible entries matching `criteria` with a sequence number below `before`.
pub async fn newest_before(
    store: &Store,
    criteria: &Criteria,
    before: i64,
    visible: &mut Visibility<'_>,
) -> Result<Found, StoreError> {
    let mut found = Vec::with_capacity(PAGE + 1);
    let mut hi = before;
    let mut width = (2 * PAGE) as i64;
    for _ in 0..MAX_WINDOWS {
        if hi <= 1 {
            break;
        }
        // The window holds sequence numbers lo+1 ..= hi-1: at most `width` entries.
        let lo = (hi - 1 - width).max(0);
        let rows = store
            .audit_entries(&AuditFilter {
                actor_id: criteria.actor_id,
                object_prefix: criteria.object_prefix.clone(),
                after_seq: lo,
                limit: width,
            })
            .await?;
        for e in rows.into_iter().filter(|e| e.seq < hi).rev() {
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
        hi = lo + 1;
        width = (width * 2).min(MAX_WIDTH);
    }
    // Either the start of the log was reached, or the budget ran out below `hi`.
    let more = hi > 1;
    Ok(Found {
        entries: found,
        next_before: more.then_some(hi),
        searched_to: more.then_some(hi),
    })
}
