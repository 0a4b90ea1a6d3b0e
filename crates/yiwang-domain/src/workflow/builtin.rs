//! Built-in templates, used when no definition is bound to the handling item, implementation
//! or standard item.

use super::model::{ActionDef, CaseRole, ClockMode, StateDef, WorkflowDefinition};
use crate::enums::{CaseType, CodeSet};

fn state(key: &str, status: &str) -> StateDef {
    StateDef {
        key: key.to_string(),
        applicant_status: status.to_string(),
        start: false,
        terminal: false,
        sla_working_days: None,
        clock: ClockMode::Running,
    }
}

fn action(key: &str, from: &str, to: &str, roles: &[CaseRole], opinion: bool) -> ActionDef {
    ActionDef {
        key: key.to_string(),
        from_state: from.to_string(),
        to_state: to.to_string(),
        roles: roles.to_vec(),
        requires_opinion: opinion,
        max_times: None,
    }
}

use CaseRole::{Applicant, Approver, Clerk, Reviewer};

/// 承诺件: 申请 → 受理 / 不予受理 / 补正 → 审查 → 决定 (准予 / 不予) → 办结 → 送达.
/// 补正 pauses the clock; resubmission returns the case to 受理 review; one round by default.
pub fn promised() -> WorkflowDefinition {
    WorkflowDefinition {
        key: CaseType::Promised.key().to_string(),
        version: 1,
        name: CaseType::Promised.zh().to_string(),
        states: vec![
            StateDef {
                start: true,
                sla_working_days: Some(5),
                ..state("applied", "submitted")
            },
            StateDef {
                clock: ClockMode::Paused,
                ..state("correcting", "correction_needed")
            },
            StateDef {
                terminal: true,
                ..state("not_accepted", "not_accepted")
            },
            state("reviewing", "under_review"),
            state("deciding", "awaiting_decision"),
            state("approved", "approved"),
            state("denied", "denied"),
            state("concluded", "concluded"),
            StateDef {
                terminal: true,
                ..state("delivered", "delivered")
            },
        ],
        actions: vec![
            action("accept", "applied", "reviewing", &[Clerk], false),
            action("reject", "applied", "not_accepted", &[Clerk], true),
            ActionDef {
                max_times: Some(1),
                ..action(
                    "request_correction",
                    "applied",
                    "correcting",
                    &[Clerk],
                    true,
                )
            },
            action("resubmit", "correcting", "applied", &[Applicant], false),
            action("review", "reviewing", "deciding", &[Reviewer], true),
            action("approve", "deciding", "approved", &[Approver], true),
            action("deny", "deciding", "denied", &[Approver], true),
            action(
                "conclude",
                "approved",
                "concluded",
                &[Clerk, Approver],
                false,
            ),
            action("conclude", "denied", "concluded", &[Clerk, Approver], false),
            action("deliver", "concluded", "delivered", &[Clerk], false),
        ],
        parallel: Vec::new(),
    }
}

/// 即办件: the clerk accepts and decides at once, then delivers the result.
pub fn immediate() -> WorkflowDefinition {
    WorkflowDefinition {
        key: CaseType::Immediate.key().to_string(),
        version: 1,
        name: CaseType::Immediate.zh().to_string(),
        states: vec![
            StateDef {
                start: true,
                sla_working_days: Some(1),
                ..state("applied", "submitted")
            },
            StateDef {
                terminal: true,
                ..state("not_accepted", "not_accepted")
            },
            state("approved", "approved"),
            state("denied", "denied"),
            StateDef {
                terminal: true,
                ..state("delivered", "delivered")
            },
        ],
        actions: vec![
            action("approve", "applied", "approved", &[Clerk], false),
            action("deny", "applied", "denied", &[Clerk], true),
            action("reject", "applied", "not_accepted", &[Clerk], true),
            action("deliver", "approved", "delivered", &[Clerk], false),
            action("deliver", "denied", "delivered", &[Clerk], false),
        ],
        parallel: Vec::new(),
    }
}

pub fn builtin(case_type: CaseType) -> WorkflowDefinition {
    match case_type {
        CaseType::Promised => promised(),
        CaseType::Immediate => immediate(),
    }
}

/// 承诺件 with 并联审批: after acceptance the listed departments review in parallel (one task
/// each); when all approve the approver decides; the first refusal cancels the other tasks and
/// sends the case to the approver at once, the refusal on record. Five steps with a parallel
/// pair, as used by the demo and the benchmark.
pub fn promised_parallel(
    key: &str,
    reviewers: &[(&str, crate::codes::CreditCode)],
) -> WorkflowDefinition {
    use super::model::{DepartmentSelector, ParallelSplit, TaskDef};
    let mut def = promised();
    def.key = key.to_string();
    def.name = format!("{}（并联审批）", CaseType::Promised.zh());
    def.actions.retain(|a| a.key != "review");
    def.parallel = vec![ParallelSplit {
        at_state: "reviewing".to_string(),
        tasks: reviewers
            .iter()
            .map(|(k, dept)| TaskDef {
                key: (*k).to_string(),
                department: DepartmentSelector::Department {
                    credit_code: dept.clone(),
                },
                roles: vec![Reviewer],
            })
            .collect(),
        join_state: "deciding".to_string(),
        refusal_state: "deciding".to_string(),
    }];
    def
}
