//! Whether an administrator's scope covers a grant-like scope (a role's region and/or
//! department), for API tokens and for unlocking accounts. The decision is the policy's: an
//! unscoped grant needs an administrator whose scope is everything.

use crate::AppState;
use crate::html::PageError;
use crate::locale::Locale;
use yiwang_domain::policy::{Action, CatalogScope, Decision, Grant, Principal, Target, authorize};
use yiwang_domain::{CreditCode, RegionCode};

/// Does `admin` hold `action` over the region/department scope?
pub(super) async fn covers(
    state: &AppState,
    admin: &Principal,
    action: Action,
    region: Option<&RegionCode>,
    department: Option<&CreditCode>,
) -> Result<bool, PageError> {
    let target = match (department, region) {
        (Some(d), r) => {
            let Some(dep) = state.store.department(d).await? else {
                return Ok(false);
            };
            Target::Implementation {
                department: d.clone(),
                region: r.cloned().unwrap_or(dep.region),
            }
        }
        (None, Some(r)) => Target::Region(r.clone()),
        (None, None) => return Ok(CatalogScope::of(admin, action).all),
    };
    Ok(authorize(Some(admin), action, &target) == Decision::Allow)
}

/// Does `admin` hold `action` over every grant (an account without grants needs everything)?
pub(super) async fn covers_all(
    state: &AppState,
    admin: &Principal,
    action: Action,
    grants: &[Grant],
    _locale: Locale,
) -> Result<bool, PageError> {
    if grants.is_empty() {
        return Ok(CatalogScope::of(admin, action).all);
    }
    for g in grants {
        let ok = covers(
            state,
            admin,
            action,
            g.region.as_ref(),
            g.department.as_ref(),
        )
        .await?;
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}
