//! Workflow errors. Each variant has a stable key (`key()`, also the serde `code` tag) and
//! names the state, action or task at fault so an administrator can find it.

use super::model::CaseRole;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum WorkflowError {
    // ---- loading ----
    #[error("definition is not valid JSON for a workflow: {detail}")]
    Malformed { detail: String },
    #[error("invalid key {key:?}")]
    InvalidKey { key: String },
    #[error("no start state")]
    NoStartState,
    #[error("more than one start state: {states:?}")]
    MultipleStartStates { states: Vec<String> },
    #[error("no terminal state")]
    NoTerminalState,
    #[error("duplicate state {state}")]
    DuplicateState { state: String },
    #[error("duplicate action {action} from state {state}")]
    DuplicateAction { state: String, action: String },
    #[error("action {action} refers to unknown state {state}")]
    UnknownState { action: String, state: String },
    #[error("state {state} cannot be reached from the start state")]
    UnreachableState { state: String },
    #[error("state {state} is not terminal but has no way out")]
    DeadEnd { state: String },
    #[error("terminal state {state} has a way out")]
    TerminalHasExit { state: String },
    #[error("action {action} from state {state} has no roles")]
    NoRoles { state: String, action: String },
    #[error("action {action} from state {state} has max_times 0")]
    ZeroMaxTimes { state: String, action: String },
    #[error("more than one parallel split at state {state}")]
    DuplicateSplit { state: String },
    #[error("parallel split at {at_state} refers to unknown state {state}")]
    SplitUnknownState { at_state: String, state: String },
    #[error("parallel split at {state} has no tasks")]
    SplitWithoutTasks { state: String },
    #[error("duplicate task {task} in parallel split at {state}")]
    DuplicateTask { state: String, task: String },
    #[error("task {task} in parallel split at {state} has no roles")]
    TaskNoRoles { state: String, task: String },

    // ---- transitions ----
    #[error("case is in state {state}, which the definition does not have")]
    CurrentStateUnknown { state: String },
    #[error("case is finished (state {state})")]
    CaseFinished { state: String },
    #[error("action {action} is not possible in state {state}")]
    ActionNotAvailable { state: String, action: String },
    #[error("role {role:?} may not take action {action}")]
    RoleNotAllowed { action: String, role: CaseRole },
    #[error("action {action} needs a written opinion")]
    OpinionRequired { action: String },
    #[error("action {action} was already taken the allowed {max} time(s)")]
    ActionLimitReached { action: String, max: u32 },
    #[error("task {task} is already decided")]
    TaskAlreadyDecided { task: String },
}

impl WorkflowError {
    /// Stable key; the message lives in the catalog under `error.workflow_<key>`.
    pub fn key(&self) -> &'static str {
        use WorkflowError::*;
        match self {
            Malformed { .. } => "malformed",
            InvalidKey { .. } => "invalid_key",
            NoStartState => "no_start_state",
            MultipleStartStates { .. } => "multiple_start_states",
            NoTerminalState => "no_terminal_state",
            DuplicateState { .. } => "duplicate_state",
            DuplicateAction { .. } => "duplicate_action",
            UnknownState { .. } => "unknown_state",
            UnreachableState { .. } => "unreachable_state",
            DeadEnd { .. } => "dead_end",
            TerminalHasExit { .. } => "terminal_has_exit",
            NoRoles { .. } => "no_roles",
            ZeroMaxTimes { .. } => "zero_max_times",
            DuplicateSplit { .. } => "duplicate_split",
            SplitUnknownState { .. } => "split_unknown_state",
            SplitWithoutTasks { .. } => "split_without_tasks",
            DuplicateTask { .. } => "duplicate_task",
            TaskNoRoles { .. } => "task_no_roles",
            CurrentStateUnknown { .. } => "current_state_unknown",
            CaseFinished { .. } => "case_finished",
            ActionNotAvailable { .. } => "action_not_available",
            RoleNotAllowed { .. } => "role_not_allowed",
            OpinionRequired { .. } => "opinion_required",
            ActionLimitReached { .. } => "action_limit_reached",
            TaskAlreadyDecided { .. } => "task_already_decided",
        }
    }

    /// True for errors found when loading a definition (the administrator's fault); false for
    /// errors of a requested transition (the actor's).
    pub fn is_definition_error(&self) -> bool {
        !matches!(
            self,
            WorkflowError::CurrentStateUnknown { .. }
                | WorkflowError::CaseFinished { .. }
                | WorkflowError::ActionNotAvailable { .. }
                | WorkflowError::RoleNotAllowed { .. }
                | WorkflowError::OpinionRequired { .. }
                | WorkflowError::ActionLimitReached { .. }
                | WorkflowError::TaskAlreadyDecided { .. }
        )
    }
}
