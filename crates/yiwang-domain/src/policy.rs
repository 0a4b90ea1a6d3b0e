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
}

impl CodeSet for Role {
    const GROUP: &'static str = "role";
    const ALL: &'static [Self] = &[
        Role::PlatformAdmin,
        Role::RegionAdmin,
        Role::DepartmentAdmin,
        Role::CatalogAdmin,
    ];
    fn key(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::RegionAdmin => "region_admin",
            Role::DepartmentAdmin => "department_admin",
            Role::CatalogAdmin => "catalog_admin",
        }
    }
    fn zh(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "平台管理员",
            Role::RegionAdmin => "区域管理员",
            Role::DepartmentAdmin => "部门管理员",
            Role::CatalogAdmin => "事项管理员",
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
        Role::PlatformAdmin => true,
        Role::RegionAdmin => true,
        Role::DepartmentAdmin => !matches!(action, ManageDepartments),
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

/// A grant that is not global must actually name a scope; an unscoped non-platform grant is inert.
fn grant_is_scoped(grant: &Grant) -> bool {
    grant.role == Role::PlatformAdmin || grant.region.is_some() || grant.department.is_some()
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
            if g.role == Role::PlatformAdmin {
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
