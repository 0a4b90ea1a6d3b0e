//! The data shape of a workflow definition. Administrators store and edit definitions as JSON;
//! `load` parses and validates them in one step.

use crate::codes::CreditCode;
use crate::enums::CodeSet;
use serde::{Deserialize, Serialize};

/// Who may perform a case action. A closed list: an unknown role in a stored definition is a
/// parse error, never a silently ignored grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseRole {
    /// 申请人
    Applicant,
    /// 窗口人员
    Clerk,
    /// 审查人员
    Reviewer,
    /// 审批人员
    Approver,
}

impl CodeSet for CaseRole {
    const GROUP: &'static str = "case_role";
    const ALL: &'static [Self] = &[
        CaseRole::Applicant,
        CaseRole::Clerk,
        CaseRole::Reviewer,
        CaseRole::Approver,
    ];
    fn key(self) -> &'static str {
        match self {
            CaseRole::Applicant => "applicant",
            CaseRole::Clerk => "clerk",
            CaseRole::Reviewer => "reviewer",
            CaseRole::Approver => "approver",
        }
    }
    fn zh(self) -> &'static str {
        match self {
            CaseRole::Applicant => "申请人",
            CaseRole::Clerk => "窗口人员",
            CaseRole::Reviewer => "审查人员",
            CaseRole::Approver => "审批人员",
        }
    }
}

/// Whether the case's time limit counts while the case sits in a state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockMode {
    #[default]
    Running,
    /// Waiting for the applicant (补正) or a special procedure not counted toward the limit.
    Paused,
}

fn is_running(c: &ClockMode) -> bool {
    *c == ClockMode::Running
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One 环节 of a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateDef {
    pub key: String,
    /// Message key (group `case_status`) of the status the applicant sees.
    pub applicant_status: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub start: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub terminal: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_working_days: Option<u32>,
    #[serde(default, skip_serializing_if = "is_running")]
    pub clock: ClockMode,
}

/// A move from one state to another, allowed to the listed roles. Keys are unique per
/// `from_state`; the same key (e.g. `conclude`) may leave several states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionDef {
    pub key: String,
    pub from_state: String,
    pub to_state: String,
    pub roles: Vec<CaseRole>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub requires_opinion: bool,
    /// How often this action may be taken in one case (e.g. one correction round).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_times: Option<u32>,
}

/// Which department a parallel task goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DepartmentSelector {
    /// The department that implements the item.
    Implementing,
    /// One named department.
    Department { credit_code: CreditCode },
    /// The department holding a function (e.g. `fire_safety`) in the case's region, resolved by
    /// the store when the task is created.
    Function { key: String },
}

/// One department's part of a parallel review (并联审批).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskDef {
    pub key: String,
    pub department: DepartmentSelector,
    pub roles: Vec<CaseRole>,
}

/// Entering `at_state` creates one pending task per `tasks` entry. Each task is approved
/// (`<task>.approve`) or refused (`<task>.refuse`, opinion required). When every task is
/// approved the case moves to `join_state`. The first refusal moves the case to
/// `refusal_state` at once and cancels the tasks still pending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParallelSplit {
    pub at_state: String,
    pub tasks: Vec<TaskDef>,
    pub join_state: String,
    pub refusal_state: String,
}

/// A whole workflow (DIGIT's BusinessService), stored and versioned as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowDefinition {
    pub key: String,
    pub version: u32,
    /// Message key or plain display name for administrators.
    pub name: String,
    pub states: Vec<StateDef>,
    pub actions: Vec<ActionDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parallel: Vec<ParallelSplit>,
}

/// Verdict on a parallel task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskVerdict {
    Approve,
    Refuse,
}

impl TaskVerdict {
    pub fn key(self) -> &'static str {
        match self {
            TaskVerdict::Approve => "approve",
            TaskVerdict::Refuse => "refuse",
        }
    }
}

/// The action key for deciding a parallel task: `<task>.approve` / `<task>.refuse`.
pub fn task_action_key(task: &str, verdict: TaskVerdict) -> String {
    format!("{task}.{}", verdict.key())
}

/// Splits `<task>.approve` / `<task>.refuse` into its parts.
pub fn parse_task_action(action: &str) -> Option<(&str, TaskVerdict)> {
    let (task, verdict) = action.rsplit_once('.')?;
    let verdict = match verdict {
        "approve" => TaskVerdict::Approve,
        "refuse" => TaskVerdict::Refuse,
        _ => return None,
    };
    Some((task, verdict))
}

impl WorkflowDefinition {
    pub fn state(&self, key: &str) -> Option<&StateDef> {
        self.states.iter().find(|s| s.key == key)
    }
    pub fn start_state(&self) -> Option<&StateDef> {
        self.states.iter().find(|s| s.start)
    }
    /// The status key the applicant sees in `state` (message group `case_status`); a state
    /// the definition does not know shows as itself.
    pub fn applicant_status(&self, state: &str) -> String {
        self.state(state)
            .map(|s| s.applicant_status.clone())
            .unwrap_or_else(|| state.to_string())
    }
    /// The ordinary actions leaving `state`, in definition order.
    pub fn actions_from<'a>(&'a self, state: &'a str) -> impl Iterator<Item = &'a ActionDef> {
        self.actions.iter().filter(move |a| a.from_state == state)
    }
    pub fn split_at(&self, state: &str) -> Option<&ParallelSplit> {
        self.parallel.iter().find(|p| p.at_state == state)
    }
    pub fn to_json(&self) -> Result<String, super::WorkflowError> {
        serde_json::to_string_pretty(self).map_err(|e| super::WorkflowError::Malformed {
            detail: e.to_string(),
        })
    }
}
