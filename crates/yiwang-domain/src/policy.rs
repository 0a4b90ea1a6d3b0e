//! The one place that decides who may do what. Deny by default: a permission exists only when
//! a rule below grants it. Handlers ask `authorize`; they never look at roles themselves.

use crate::codes::{CreditCode, RegionCode};
use crate::enums::CodeSet;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    PlatformAdmin,
    RegionAdmin,
    DepartmentAdmin,
    CatalogAdmin,
    /// Reads the audit log (and checks its chain); changes nothing.
    Auditor,
    /// Case work (issue #4 adds their case actions; for now they may only open the console).
    Clerk,
    Reviewer,
    Approver,
    /// 代办员: a township or village service-point worker who applies on citizens' behalf.
    Agent,
}

impl CodeSet for Role {
    const GROUP: &'static str = "role";
    const ALL: &'static [Self] = &[
        Role::PlatformAdmin,
        Role::RegionAdmin,
        Role::DepartmentAdmin,
        Role::CatalogAdmin,
        Role::Auditor,
        Role::Clerk,
        Role::Reviewer,
        Role::Approver,
        Role::Agent,
    ];
    fn key(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::RegionAdmin => "region_admin",
            Role::DepartmentAdmin => "department_admin",
            Role::CatalogAdmin => "catalog_admin",
            Role::Auditor => "auditor",
            Role::Clerk => "clerk",
            Role::Reviewer => "reviewer",
            Role::Approver => "approver",
            Role::Agent => "agent",
        }
    }
    fn zh(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "平台管理员",
            Role::RegionAdmin => "区域管理员",
            Role::DepartmentAdmin => "部门管理员",
            Role::CatalogAdmin => "事项管理员",
            Role::Auditor => "审计员",
            Role::Clerk => "窗口人员",
            Role::Reviewer => "审查人员",
            Role::Approver => "审批人员",
            Role::Agent => "代办员",
        }
    }
}

/// A role granted to an account, limited to a region subtree and/or one department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub region: Option<RegionCode>,
    pub department: Option<CreditCode>,
}

/// The authenticated staff member making a request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Open the staff console at all.
    UseConsole,
    ImportCatalog,
    EditImplementation,
    PublishCatalog,
    ViewCatalogHistory,
    ViewDrift,
    ManageDepartments,
    ManageUsers,
    /// Read the audit log and check its chain. Scope (see [`audit_entry_visible`]): a
    /// platform-wide grant sees every entry; a scoped grant sees entries of accounts whose every
    /// grant lies within its scope.
    ViewAudit,
    /// See the cases of a department or region and act on them as the workflow allows
    /// (窗口人员, 审查人员, 审批人员; which step each may take is [`case_roles`]' answer).
    HandleCases,
    /// Register an application for a citizen: at the counter (窗口人员) or at a service point (代办员).
    IntakeCases,
    /// Read the case-event feed (GB/T 39046 6.2–6.5) for reporting to a higher platform: the
    /// platform administrator, region administrators and auditors, within their region.
    ReadCaseFeed,
    /// See residents' ID numbers in full where a page or feed carries them (everyone else sees
    /// them masked): auditors, and the platform administrator who answers for reporting upstream.
    SeeFullIdNumbers,
}

/// What an action is applied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// No particular object (e.g. the console home).
    Anything,
    Region(RegionCode),
    /// An implementation of `department` in `region`.
    Implementation {
        department: CreditCode,
        region: RegionCode,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Not signed in.
    Unauthenticated,
    Deny,
}

fn grant_covers(grant: &Grant, target: &Target) -> bool {
    let region_ok = |r: &RegionCode| grant.region.as_ref().is_none_or(|g| g.contains(r));
    match target {
        Target::Anything => true,
        Target::Region(r) => grant.department.is_none() && region_ok(r),
        Target::Implementation { department, region } => {
            region_ok(region) && grant.department.as_ref().is_none_or(|d| d == department)
        }
    }
}

fn role_allows(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        // The platform administrator answers for the whole platform, its log included.
        // Administrators configure; they do not decide cases (separation of duties).
        Role::PlatformAdmin => !matches!(action, HandleCases | IntakeCases),
        // Administrators do not read the log that records what they did: that is the auditors'.
        // Nor do they see ID numbers in full: their feed (if any) is masked.
        Role::RegionAdmin => !matches!(
            action,
            ViewAudit | HandleCases | IntakeCases | SeeFullIdNumbers
        ),
        Role::DepartmentAdmin => !matches!(
            action,
            ManageDepartments
                | ViewAudit
                | HandleCases
                | IntakeCases
                | ReadCaseFeed
                | SeeFullIdNumbers
        ),
        Role::Auditor => matches!(
            action,
            UseConsole | ViewAudit | ReadCaseFeed | SeeFullIdNumbers
        ),
        // Case work only; nothing on the catalog or accounts.
        Role::Clerk => matches!(action, UseConsole | HandleCases | IntakeCases),
        Role::Reviewer | Role::Approver => matches!(action, UseConsole | HandleCases),
        Role::Agent => matches!(action, UseConsole | IntakeCases),
        Role::CatalogAdmin => matches!(
            action,
            UseConsole
                | ImportCatalog
                | EditImplementation
                | PublishCatalog
                | ViewCatalogHistory
                | ViewDrift
        ),
    }
}

/// A grant that is not global must actually name a scope; an unscoped grant is inert, except for
/// the platform administrator and the platform-wide auditor (who only reads).
fn grant_is_scoped(grant: &Grant) -> bool {
    matches!(grant.role, Role::PlatformAdmin | Role::Auditor)
        || grant.region.is_some()
        || grant.department.is_some()
}

pub fn authorize(principal: Option<&Principal>, action: Action, target: &Target) -> Decision {
    let Some(p) = principal else {
        return Decision::Unauthenticated;
    };
    let allowed = p
        .grants
        .iter()
        .any(|g| grant_is_scoped(g) && role_allows(g.role, action) && grant_covers(g, target));
    if allowed {
        Decision::Allow
    } else {
        Decision::Deny
    }
}

/// The region subtrees and departments whose catalog this principal may see in the console;
/// `None` means everything (platform administrators and unscoped-by-region grants).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogScope {
    pub all: bool,
    pub grants: Vec<(Option<RegionCode>, Option<CreditCode>)>,
}

impl CatalogScope {
    pub fn of(principal: &Principal, action: Action) -> Self {
        let mut scope = CatalogScope::default();
        for g in &principal.grants {
            if !grant_is_scoped(g) || !role_allows(g.role, action) {
                continue;
            }
            // Only the platform administrator and the platform-wide auditor pass unscoped.
            if g.region.is_none() && g.department.is_none() {
                scope.all = true;
            }
            scope.grants.push((g.region.clone(), g.department.clone()));
        }
        scope
    }
    pub fn covers(&self, department: &CreditCode, region: &RegionCode) -> bool {
        self.all
            || self.grants.iter().any(|(r, d)| {
                r.as_ref().is_none_or(|r| r.contains(region))
                    && d.as_ref().is_none_or(|d| d == department)
            })
    }
    pub fn is_empty(&self) -> bool {
        !self.all && self.grants.is_empty()
    }
}

/// The workflow roles `principal` holds for a case (or parallel task) of `department` in
/// `region`: a staff grant of 窗口人员/审查人员/审批人员 whose scope covers the object. Empty when the
/// principal may not act on it at all. The workflow definition then says which step each role
/// may take.
pub fn case_roles(
    principal: &Principal,
    department: &CreditCode,
    region: &RegionCode,
) -> Vec<crate::workflow::CaseRole> {
    use crate::workflow::CaseRole;
    let target = Target::Implementation {
        department: department.clone(),
        region: region.clone(),
    };
    let mut out: Vec<CaseRole> = principal
        .grants
        .iter()
        .filter(|g| grant_is_scoped(g) && grant_covers(g, &target))
        .filter_map(|g| match g.role {
            Role::Clerk => Some(CaseRole::Clerk),
            Role::Reviewer => Some(CaseRole::Reviewer),
            Role::Approver => Some(CaseRole::Approver),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether `principal` may register an application (counter or 代办) for an implementation of
/// `department` in `region`: a clerk of that department, or a service-point agent whose region
/// holds the implementation's region or lies inside it (a village worker applies for county items).
pub fn may_intake(
    principal: &Principal,
    department: &CreditCode,
    region: &RegionCode,
) -> Option<crate::case::CaseSource> {
    use crate::case::CaseSource;
    let target = Target::Implementation {
        department: department.clone(),
        region: region.clone(),
    };
    let clerk = principal
        .grants
        .iter()
        .any(|g| g.role == Role::Clerk && grant_is_scoped(g) && grant_covers(g, &target));
    if clerk {
        return Some(CaseSource::Counter);
    }
    let agent = principal.grants.iter().any(|g| {
        g.role == Role::Agent
            && g.region
                .as_ref()
                .is_some_and(|r| r.contains(region) || region.contains(r))
    });
    agent.then_some(CaseSource::Agent)
}

/// The roles an API token may carry at all: the ones whose work another system does over the
/// API (reporting the case feed upstream; taking case steps). Administrators' roles are never
/// on a token: a token cannot configure, and the token page is itself configuration.
pub const TOKEN_ROLES: &[Role] = &[Role::Auditor, Role::Clerk, Role::Reviewer, Role::Approver];

/// The actions the API serves to tokens; a token's role grants nothing else.
pub const TOKEN_ACTIONS: &[Action] = &[
    Action::HandleCases,
    Action::ReadCaseFeed,
    Action::SeeFullIdNumbers,
];

/// The action that defines a token role: the creator must hold it (for case work: in the same
/// workflow role) over the token's whole scope, or no token of that role is issued.
fn token_purpose(role: Role) -> Option<Action> {
    match role {
        Role::Auditor => Some(Action::ReadCaseFeed),
        Role::Clerk | Role::Reviewer | Role::Approver => Some(Action::HandleCases),
        _ => None,
    }
}

/// Whether `outer` (a grant of the creator) covers the whole scope of `inner` (the token's).
fn grant_contains(outer: &Grant, inner: &Grant) -> bool {
    let region_ok = outer
        .region
        .as_ref()
        .is_none_or(|o| inner.region.as_ref().is_some_and(|i| o.contains(i)));
    let dept_ok = outer
        .department
        .as_ref()
        .is_none_or(|o| inner.department.as_ref() == Some(o));
    grant_is_scoped(outer) && region_ok && dept_ok
}

/// Whether `creator` may take `action` over the whole scope of `token`. Case work counts only in
/// the same workflow role (a reviewer does not lend an approver's power).
fn creator_holds(creator: &Principal, token: &Grant, action: Action) -> bool {
    creator.grants.iter().any(|g| {
        role_allows(g.role, action)
            && (action != Action::HandleCases || g.role == token.role)
            && grant_contains(g, token)
    })
}

/// Why a token is not issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// The role is not on [`TOKEN_ROLES`].
    RoleNotForTokens,
    /// Neither a region nor a department: a token is always scoped.
    Unscoped,
    /// The creator does not hold the role's power over the whole scope.
    BeyondCreator,
}

impl TokenRefusal {
    pub fn code(self) -> crate::ErrorCode {
        match self {
            TokenRefusal::RoleNotForTokens => crate::ErrorCode::TokenRoleNotAllowed,
            TokenRefusal::Unscoped => crate::ErrorCode::TokenUnscoped,
            TokenRefusal::BeyondCreator => crate::ErrorCode::TokenBeyondCreator,
        }
    }
}

/// Whether `creator` may issue a token with `grant`: a declared token role, a scope, and only
/// power the creator holds over that whole scope (role × action × department × region).
/// Administrators do not decide cases, so they issue no case-work token; a department
/// administrator reads no feed, so issues no auditor token.
pub fn may_issue_token(creator: &Principal, grant: &Grant) -> Result<(), TokenRefusal> {
    let Some(purpose) = token_purpose(grant.role).filter(|_| TOKEN_ROLES.contains(&grant.role))
    else {
        return Err(TokenRefusal::RoleNotForTokens);
    };
    // The feed is read by region subtree: a feed token names its region.
    if grant.region.is_none() && (grant.department.is_none() || grant.role == Role::Auditor) {
        return Err(TokenRefusal::Unscoped);
    }
    if !creator_holds(creator, grant, purpose) {
        return Err(TokenRefusal::BeyondCreator);
    }
    Ok(())
}

/// Whether a token with `grant`, issued by `creator` (as the creator's grants are *now*), may
/// take `action` on `target`: one of [`TOKEN_ACTIONS`] its role allows, which the creator also
/// still holds over the token's scope, on a target within the token's scope. A creator who lost
/// the power (or the account) takes the token's power with them.
pub fn token_allows(creator: &Principal, grant: &Grant, action: Action, target: &Target) -> bool {
    TOKEN_ROLES.contains(&grant.role)
        && TOKEN_ACTIONS.contains(&action)
        && role_allows(grant.role, action)
        && grant_is_scoped(grant)
        && grant_covers(grant, target)
        && may_issue_token(creator, grant).is_ok()
        && creator_holds(creator, grant, action)
}

/// Whether `viewer` may see an audit entry whose actor held `actor_grants` (empty for the system,
/// anonymous visitors and accounts without grants). A platform-wide `ViewAudit` grant sees every
/// entry; a scoped one only entries of accounts whose every grant lies within it (a grant naming
/// only a department must come with that department's region filled in, or it is not covered by
/// a region-scoped viewer). Entries of actors without grants are for platform-wide viewers only.
pub fn audit_entry_visible(viewer: &Principal, actor_grants: &[Grant]) -> bool {
    let scope = CatalogScope::of(viewer, Action::ViewAudit);
    if scope.all {
        return true;
    }
    !actor_grants.is_empty()
        && actor_grants.iter().all(|a| {
            scope.grants.iter().any(|(r, d)| {
                let region_ok = r
                    .as_ref()
                    .is_none_or(|r| a.region.as_ref().is_some_and(|ar| r.contains(ar)));
                let dept_ok = d.as_ref().is_none_or(|d| a.department.as_ref() == Some(d));
                region_ok && dept_ok
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(grants: Vec<Grant>) -> Principal {
        Principal {
            user_id: 1,
            username: "u".into(),
            display_name: "U".into(),
            grants,
        }
    }
    fn region(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }
    fn dept(s: &str) -> CreditCode {
        CreditCode::with_check_char(s).unwrap()
    }

    /// Every action, in the matrix's column order. The `match` has no wildcard, so a new action
    /// does not compile until it is given a column here (and a decision for every role).
    const ACTIONS: [Action; 13] = [
        Action::UseConsole,
        Action::ImportCatalog,
        Action::EditImplementation,
        Action::PublishCatalog,
        Action::ViewCatalogHistory,
        Action::ViewDrift,
        Action::ManageDepartments,
        Action::ManageUsers,
        Action::ViewAudit,
        Action::HandleCases,
        Action::IntakeCases,
        Action::ReadCaseFeed,
        Action::SeeFullIdNumbers,
    ];
    fn column(a: Action) -> usize {
        match a {
            Action::UseConsole => 0,
            Action::ImportCatalog => 1,
            Action::EditImplementation => 2,
            Action::PublishCatalog => 3,
            Action::ViewCatalogHistory => 4,
            Action::ViewDrift => 5,
            Action::ManageDepartments => 6,
            Action::ManageUsers => 7,
            Action::ViewAudit => 8,
            Action::HandleCases => 9,
            Action::IntakeCases => 10,
            Action::ReadCaseFeed => 11,
            Action::SeeFullIdNumbers => 12,
        }
    }

    /// Role × action: `x` allowed, `.` refused (columns as in [`ACTIONS`]). A role gaining or
    /// losing any permission fails here.
    const MATRIX: &[(Role, &str)] = &[
        //      console import edit publish history drift depts users audit cases intake feed fullid
        (Role::PlatformAdmin, "xxxxxxxxx..xx"),
        (Role::RegionAdmin, "xxxxxxxx...x."),
        (Role::DepartmentAdmin, "xxxxxx.x....."),
        (Role::CatalogAdmin, "xxxxxx......."),
        (Role::Auditor, "x.......x..xx"),
        (Role::Clerk, "x........xx.."),
        (Role::Reviewer, "x........x..."),
        (Role::Approver, "x........x..."),
        (Role::Agent, "x.........x.."),
    ];

    #[test]
    fn role_action_matrix() {
        assert_eq!(MATRIX.len(), Role::ALL.len(), "every role has a row");
        for (i, a) in ACTIONS.iter().enumerate() {
            assert_eq!(column(*a), i);
        }
        let township = region("120112100000");
        for role in Role::ALL {
            let row = MATRIX
                .iter()
                .find(|(r, _)| r == role)
                .map(|(_, row)| row.as_bytes())
                .unwrap();
            assert_eq!(row.len(), ACTIONS.len(), "{role:?}");
            // Scoped to a region, asked about anything and about an object inside that region.
            let p = principal(vec![Grant {
                role: *role,
                region: Some(region("120112")),
                department: None,
            }]);
            for action in ACTIONS {
                let want = row[column(action)] == b'x';
                assert_eq!(role_allows(*role, action), want, "{role:?} {action:?}");
                for target in [Target::Anything, Target::Region(township.clone())] {
                    let got = authorize(Some(&p), action, &target) == Decision::Allow;
                    assert_eq!(got, want, "{role:?} {action:?} {target:?}");
                }
            }
        }
    }

    /// Tokens, role × action: what a token of each role may do when its creator holds every
    /// role over its scope. Only declared token roles, only the API's token actions.
    const TOKEN_MATRIX: &[(Role, &str)] = &[
        //      console import edit publish history drift depts users audit cases intake feed fullid
        (Role::PlatformAdmin, "............."),
        (Role::RegionAdmin, "............."),
        (Role::DepartmentAdmin, "............."),
        (Role::CatalogAdmin, "............."),
        (Role::Auditor, "...........xx"),
        (Role::Clerk, ".........x..."),
        (Role::Reviewer, ".........x..."),
        (Role::Approver, ".........x..."),
        (Role::Agent, "............."),
    ];

    /// Which token roles (columns, in `Role::ALL` order) a creator holding one grant of the row's
    /// role over the district may issue for a township in it.
    const ISSUE_MATRIX: &[(Role, &str)] = &[
        //      platform region dept catalog auditor clerk reviewer approver agent
        (Role::PlatformAdmin, "....x...."),
        (Role::RegionAdmin, "....x...."),
        (Role::DepartmentAdmin, "........."),
        (Role::CatalogAdmin, "........."),
        (Role::Auditor, "....x...."),
        (Role::Clerk, ".....x..."),
        (Role::Reviewer, "......x.."),
        (Role::Approver, ".......x."),
        (Role::Agent, "........."),
    ];

    fn token_grant(role: Role) -> Grant {
        Grant {
            role,
            region: Some(region("120112100000")),
            department: None,
        }
    }

    #[test]
    fn token_role_action_matrix() {
        assert_eq!(TOKEN_MATRIX.len(), Role::ALL.len(), "every role has a row");
        let everything = principal(
            Role::ALL
                .iter()
                .map(|r| Grant {
                    role: *r,
                    region: Some(region("120112")),
                    department: None,
                })
                .collect(),
        );
        let township = Target::Region(region("120112100000"));
        let village = Target::Region(region("120112100001"));
        let elsewhere = Target::Region(region("120113000000"));
        for (role, row) in TOKEN_MATRIX {
            let row = row.as_bytes();
            assert_eq!(row.len(), ACTIONS.len(), "{role:?}");
            let g = token_grant(*role);
            assert_eq!(
                TOKEN_ROLES.contains(role),
                row.contains(&b'x'),
                "{role:?}: a token role has some power, others none"
            );
            for action in ACTIONS {
                let want = row[column(action)] == b'x';
                for target in [&Target::Anything, &township, &village] {
                    let got = token_allows(&everything, &g, action, target);
                    assert_eq!(got, want, "{role:?} {action:?} {target:?}");
                }
                // Never beyond the token's scope, whatever the creator holds.
                assert!(!token_allows(&everything, &g, action, &elsewhere));
            }
        }
    }

    #[test]
    fn tokens_are_a_subset_of_their_creators_power() {
        assert_eq!(ISSUE_MATRIX.len(), Role::ALL.len(), "every role has a row");
        for (creator_role, row) in ISSUE_MATRIX {
            let row = row.as_bytes();
            let creator = principal(vec![Grant {
                role: *creator_role,
                region: Some(region("120112")),
                department: None,
            }]);
            for (i, token_role) in Role::ALL.iter().enumerate() {
                let want = row[i] == b'x';
                let got = may_issue_token(&creator, &token_grant(*token_role));
                assert_eq!(
                    got.is_ok(),
                    want,
                    "{creator_role:?} issues {token_role:?}: {got:?}"
                );
                if !TOKEN_ROLES.contains(token_role) {
                    assert_eq!(got, Err(TokenRefusal::RoleNotForTokens));
                }
                // Whatever was issued acts within the creator's power only.
                for action in ACTIONS {
                    if token_allows(
                        &creator,
                        &token_grant(*token_role),
                        action,
                        &Target::Anything,
                    ) {
                        assert!(
                            role_allows(*creator_role, action),
                            "{creator_role:?} {action:?}"
                        );
                    }
                }
            }
        }

        let d1 = dept("11120112MB0000001");
        let d2 = dept("11120112MB0000002");
        let g = |role, r: Option<&str>, d: Option<&CreditCode>| Grant {
            role,
            region: r.map(region),
            department: d.cloned(),
        };
        // Scope: only within the creator's region subtree and department.
        let township_admin = principal(vec![g(Role::RegionAdmin, Some("120112100000"), None)]);
        assert!(
            may_issue_token(
                &township_admin,
                &g(Role::Auditor, Some("120112100000"), None)
            )
            .is_ok()
        );
        assert_eq!(
            may_issue_token(&township_admin, &g(Role::Auditor, Some("120112"), None)),
            Err(TokenRefusal::BeyondCreator)
        );
        let clerk = principal(vec![g(Role::Clerk, Some("120112"), Some(&d1))]);
        assert!(may_issue_token(&clerk, &g(Role::Clerk, Some("120112"), Some(&d1))).is_ok());
        for beyond in [
            g(Role::Clerk, Some("120112"), Some(&d2)),
            g(Role::Clerk, Some("120112"), None),
            g(Role::Clerk, None, Some(&d2)),
            g(Role::Reviewer, Some("120112"), Some(&d1)),
            g(Role::Approver, Some("120112"), Some(&d1)),
        ] {
            assert_eq!(
                may_issue_token(&clerk, &beyond),
                Err(TokenRefusal::BeyondCreator),
                "{beyond:?}"
            );
        }
        // A token always names a scope; a feed token names its region.
        let admin = principal(vec![g(Role::PlatformAdmin, None, None)]);
        assert_eq!(
            may_issue_token(&admin, &g(Role::Auditor, None, None)),
            Err(TokenRefusal::Unscoped)
        );
        assert_eq!(
            may_issue_token(&admin, &g(Role::Auditor, None, Some(&d1))),
            Err(TokenRefusal::Unscoped)
        );
        // The reported attack: a district administrator mints case-work tokens (403 on the cases
        // himself), a department administrator an auditor token.
        let jinnan = principal(vec![g(Role::RegionAdmin, Some("120112"), None)]);
        for role in [Role::Clerk, Role::Reviewer, Role::Approver] {
            assert_eq!(
                may_issue_token(&jinnan, &g(role, Some("120112"), None)),
                Err(TokenRefusal::BeyondCreator)
            );
        }
        let dept_admin = principal(vec![g(Role::DepartmentAdmin, Some("120112"), Some(&d1))]);
        assert_eq!(
            may_issue_token(&dept_admin, &g(Role::Auditor, Some("120112"), Some(&d1))),
            Err(TokenRefusal::BeyondCreator)
        );
        // A district administrator's feed token reads the feed, but ID numbers stay masked
        // (he does not see them in full); the platform administrator's shows them.
        let feed = g(Role::Auditor, Some("120112"), None);
        assert!(token_allows(
            &jinnan,
            &feed,
            Action::ReadCaseFeed,
            &Target::Anything
        ));
        assert!(!token_allows(
            &jinnan,
            &feed,
            Action::SeeFullIdNumbers,
            &Target::Anything
        ));
        assert!(token_allows(
            &admin,
            &feed,
            Action::SeeFullIdNumbers,
            &Target::Anything
        ));
        // At use: a creator who lost the power takes the token's with them.
        let clerk_token = g(Role::Clerk, Some("120112"), Some(&d1));
        assert!(token_allows(
            &clerk,
            &clerk_token,
            Action::HandleCases,
            &Target::Anything
        ));
        let demoted = principal(vec![g(Role::Agent, Some("120112"), None)]);
        assert!(!token_allows(
            &demoted,
            &clerk_token,
            Action::HandleCases,
            &Target::Anything
        ));
        assert!(!token_allows(
            &principal(vec![]),
            &feed,
            Action::ReadCaseFeed,
            &Target::Anything
        ));
    }

    #[test]
    fn case_roles_and_auditors_touch_no_catalog() {
        let catalog = [
            Action::ImportCatalog,
            Action::EditImplementation,
            Action::PublishCatalog,
            Action::ViewCatalogHistory,
            Action::ViewDrift,
            Action::ManageDepartments,
            Action::ManageUsers,
        ];
        for role in [Role::Auditor, Role::Clerk, Role::Reviewer, Role::Approver] {
            // Even unscoped (the platform-wide form an auditor may have).
            let p = principal(vec![Grant {
                role,
                region: None,
                department: None,
            }]);
            for action in catalog {
                assert_ne!(
                    authorize(Some(&p), action, &Target::Anything),
                    Decision::Allow,
                    "{role:?} {action:?}"
                );
                assert!(
                    CatalogScope::of(&p, action).is_empty(),
                    "{role:?} {action:?}"
                );
            }
        }
        // Unscoped case-work grants are inert; an unscoped auditor is platform-wide.
        let clerk = principal(vec![Grant {
            role: Role::Clerk,
            region: None,
            department: None,
        }]);
        assert_eq!(
            authorize(Some(&clerk), Action::UseConsole, &Target::Anything),
            Decision::Deny
        );
        let auditor = principal(vec![Grant {
            role: Role::Auditor,
            region: None,
            department: None,
        }]);
        assert_eq!(
            authorize(Some(&auditor), Action::ViewAudit, &Target::Anything),
            Decision::Allow
        );
        assert!(CatalogScope::of(&auditor, Action::ViewAudit).all);
    }

    #[test]
    fn audit_visibility_by_scope() {
        let d1 = dept("11120112MB0000001");
        let g = |role, r: Option<&str>, d: Option<&CreditCode>| Grant {
            role,
            region: r.map(region),
            department: d.cloned(),
        };
        let everywhere = principal(vec![g(Role::Auditor, None, None)]);
        let jinnan = principal(vec![g(Role::Auditor, Some("120112"), None)]);
        let dept_auditor = principal(vec![g(Role::Auditor, Some("120112"), Some(&d1))]);
        let region_admin = principal(vec![g(Role::RegionAdmin, Some("120112"), None)]);
        let inside = vec![g(Role::CatalogAdmin, Some("120112100000"), Some(&d1))];
        let outside = vec![g(Role::RegionAdmin, Some("120113"), None)];
        let mixed = vec![inside[0].clone(), outside[0].clone()];
        let no_region = vec![g(Role::CatalogAdmin, None, Some(&d1))];
        for actor in [&inside, &outside, &mixed, &no_region, &vec![]] {
            assert!(audit_entry_visible(&everywhere, actor));
            assert!(!audit_entry_visible(&region_admin, actor));
        }
        assert!(audit_entry_visible(&jinnan, &inside));
        assert!(!audit_entry_visible(&jinnan, &outside));
        assert!(!audit_entry_visible(&jinnan, &mixed));
        assert!(!audit_entry_visible(&jinnan, &no_region));
        assert!(!audit_entry_visible(&jinnan, &[]));
        assert!(audit_entry_visible(&dept_auditor, &inside));
        let other_dept = vec![g(
            Role::CatalogAdmin,
            Some("120112100000"),
            Some(&dept("11120112MB0000002")),
        )];
        assert!(!audit_entry_visible(&dept_auditor, &other_dept));
    }

    #[test]
    fn deny_by_default_and_scoped() {
        let d1 = dept("11120112MB0000001");
        let d2 = dept("11120112MB0000002");
        let in_jinnan = Target::Implementation {
            department: d1.clone(),
            region: region("120112100000"),
        };
        let other_dept = Target::Implementation {
            department: d2.clone(),
            region: region("120112100000"),
        };
        let elsewhere = Target::Implementation {
            department: d1.clone(),
            region: region("120113000000"),
        };
        assert_eq!(
            authorize(None, Action::EditImplementation, &in_jinnan),
            Decision::Unauthenticated
        );
        assert_eq!(
            authorize(
                Some(&principal(vec![])),
                Action::UseConsole,
                &Target::Anything
            ),
            Decision::Deny
        );
        let region_admin = principal(vec![Grant {
            role: Role::RegionAdmin,
            region: Some(region("120112")),
            department: None,
        }]);
        assert_eq!(
            authorize(Some(&region_admin), Action::PublishCatalog, &in_jinnan),
            Decision::Allow
        );
        assert_eq!(
            authorize(Some(&region_admin), Action::PublishCatalog, &elsewhere),
            Decision::Deny
        );
        let catalog_admin = principal(vec![Grant {
            role: Role::CatalogAdmin,
            region: None,
            department: Some(d1.clone()),
        }]);
        assert_eq!(
            authorize(Some(&catalog_admin), Action::ImportCatalog, &in_jinnan),
            Decision::Allow
        );
        assert_eq!(
            authorize(Some(&catalog_admin), Action::ImportCatalog, &other_dept),
            Decision::Deny
        );
        assert_eq!(
            authorize(Some(&catalog_admin), Action::ManageUsers, &Target::Anything),
            Decision::Deny
        );
        // A non-platform grant without any scope grants nothing.
        let unscoped = principal(vec![Grant {
            role: Role::RegionAdmin,
            region: None,
            department: None,
        }]);
        assert_eq!(
            authorize(Some(&unscoped), Action::UseConsole, &Target::Anything),
            Decision::Deny
        );
        let scope = CatalogScope::of(&catalog_admin, Action::EditImplementation);
        assert!(scope.covers(&d1, &region("120112100000")));
        assert!(!scope.covers(&d2, &region("120112100000")));
    }
}
