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
        Role::RegionAdmin => !matches!(action, ViewAudit | HandleCases | IntakeCases),
        Role::DepartmentAdmin => !matches!(
            action,
            ManageDepartments | ViewAudit | HandleCases | IntakeCases | ReadCaseFeed
        ),
        Role::Auditor => matches!(action, UseConsole | ViewAudit | ReadCaseFeed),
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
    const ACTIONS: [Action; 12] = [
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
        }
    }

    /// Role × action: `x` allowed, `.` refused (columns as in [`ACTIONS`]). A role gaining or
    /// losing any permission fails here.
    const MATRIX: &[(Role, &str)] = &[
        //      console import edit publish history drift depts users audit cases intake feed
        (Role::PlatformAdmin, "xxxxxxxxx..x"),
        (Role::RegionAdmin, "xxxxxxxx...x"),
        (Role::DepartmentAdmin, "xxxxxx.x...."),
        (Role::CatalogAdmin, "xxxxxx......"),
        (Role::Auditor, "x.......x..x"),
        (Role::Clerk, "x........xx."),
        (Role::Reviewer, "x........x.."),
        (Role::Approver, "x........x.."),
        (Role::Agent, "x.........x."),
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
