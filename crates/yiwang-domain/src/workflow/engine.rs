//! Applying one action to a case. Pure: the caller loads the case state, calls `apply`, and
//! stores the returned state and events in one transaction.
//!
//! Concurrency is not decided here. Two actors may both get `Ok` from `apply` on the same
//! loaded state; the store must make exactly one of them win by writing with a version
//! check (`UPDATE … WHERE id = ? AND version = ?`) and report a conflict to the other.

use super::error::WorkflowError;
use super::model::{
    CaseRole, ClockMode, ParallelSplit, TaskVerdict, WorkflowDefinition, parse_task_action,
    task_action_key,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Pending,
    Approved,
    Refused,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskState {
    pub key: String,
    pub status: TaskStatus,
}

/// Where a case stands: its state, the parallel tasks of that state (empty elsewhere) and how
/// often each limited action has been taken (e.g. `request_correction` → 1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseState {
    pub state: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskState>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub action_counts: BTreeMap<String, u32>,
}

impl CaseState {
    /// A new case in the definition's start state (with its tasks when it is a split).
    pub fn start(def: &WorkflowDefinition) -> Result<Self, WorkflowError> {
        let start = def.start_state().ok_or(WorkflowError::NoStartState)?;
        Ok(CaseState {
            state: start.key.clone(),
            tasks: def.split_at(&start.key).map(new_tasks).unwrap_or_default(),
            action_counts: BTreeMap::new(),
        })
    }

    /// How often `action` has been taken in this case.
    pub fn count(&self, action: &str) -> u32 {
        self.action_counts.get(action).copied().unwrap_or(0)
    }
}

/// Something that happened in a transition, in order, for the case timeline and the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    TaskApproved {
        task: String,
    },
    TaskRefused {
        task: String,
    },
    TasksCancelled {
        tasks: Vec<String>,
    },
    Moved {
        from: String,
        to: String,
        action: String,
    },
    TasksCreated {
        tasks: Vec<String>,
    },
    ClockPaused,
    ClockResumed,
    Finished {
        state: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub from: String,
    /// The case's state afterwards (equal to `from` when a task was decided without a join).
    pub to: String,
    pub case: CaseState,
    pub events: Vec<Event>,
}

fn new_tasks(split: &ParallelSplit) -> Vec<TaskState> {
    split
        .tasks
        .iter()
        .map(|t| TaskState {
            key: t.key.clone(),
            status: TaskStatus::Pending,
        })
        .collect()
}

fn opinion_given(opinion: Option<&str>) -> bool {
    opinion.is_some_and(|o| !o.trim().is_empty())
}

/// Takes `action` on `current` as `role`. `opinion` is the written opinion, required when the
/// action (or refusing a parallel task) demands it.
pub fn apply(
    def: &WorkflowDefinition,
    current: &CaseState,
    action: &str,
    role: CaseRole,
    opinion: Option<&str>,
) -> Result<Transition, WorkflowError> {
    let here = def
        .state(&current.state)
        .ok_or_else(|| WorkflowError::CurrentStateUnknown {
            state: current.state.clone(),
        })?;
    if here.terminal {
        return Err(WorkflowError::CaseFinished {
            state: here.key.clone(),
        });
    }
    let not_available = || WorkflowError::ActionNotAvailable {
        state: here.key.clone(),
        action: action.to_string(),
    };
    let mut case = current.clone();
    let mut events = Vec::new();

    // A parallel task decision.
    if let Some(split) = def.split_at(&here.key)
        && let Some((task_key, verdict)) = parse_task_action(action)
    {
        let task = split
            .tasks
            .iter()
            .find(|t| t.key == task_key)
            .ok_or_else(not_available)?;
        if !task.roles.contains(&role) {
            return Err(WorkflowError::RoleNotAllowed {
                action: action.to_string(),
                role,
            });
        }
        if verdict == TaskVerdict::Refuse && !opinion_given(opinion) {
            return Err(WorkflowError::OpinionRequired {
                action: action.to_string(),
            });
        }
        // Tasks missing from a stored state count as pending, so a case is never stuck.
        let mut tasks = new_tasks(split);
        for t in &mut tasks {
            if let Some(old) = case.tasks.iter().find(|o| o.key == t.key) {
                t.status = old.status;
            }
        }
        let Some(slot) = tasks.iter_mut().find(|t| t.key == task_key) else {
            return Err(not_available());
        };
        if slot.status != TaskStatus::Pending {
            return Err(WorkflowError::TaskAlreadyDecided {
                task: task_key.to_string(),
            });
        }
        match verdict {
            TaskVerdict::Approve => {
                slot.status = TaskStatus::Approved;
                events.push(Event::TaskApproved {
                    task: task_key.to_string(),
                });
                case.tasks = tasks;
                if case.tasks.iter().all(|t| t.status == TaskStatus::Approved) {
                    move_to(def, &mut case, &mut events, &split.join_state, action)?;
                }
            }
            TaskVerdict::Refuse => {
                slot.status = TaskStatus::Refused;
                events.push(Event::TaskRefused {
                    task: task_key.to_string(),
                });
                case.tasks = tasks;
                move_to(def, &mut case, &mut events, &split.refusal_state, action)?;
            }
        }
        return Ok(Transition {
            from: current.state.clone(),
            to: case.state.clone(),
            case,
            events,
        });
    }

    // An ordinary action.
    let act = def
        .actions_from(&here.key)
        .find(|a| a.key == action)
        .ok_or_else(not_available)?;
    if !act.roles.contains(&role) {
        return Err(WorkflowError::RoleNotAllowed {
            action: action.to_string(),
            role,
        });
    }
    if act.requires_opinion && !opinion_given(opinion) {
        return Err(WorkflowError::OpinionRequired {
            action: action.to_string(),
        });
    }
    let count = case.count(&act.key);
    if let Some(max) = act.max_times
        && count >= max
    {
        return Err(WorkflowError::ActionLimitReached {
            action: action.to_string(),
            max,
        });
    }
    if act.max_times.is_some() {
        case.action_counts
            .insert(act.key.clone(), count.saturating_add(1));
    }
    move_to(def, &mut case, &mut events, &act.to_state, action)?;
    Ok(Transition {
        from: current.state.clone(),
        to: case.state.clone(),
        case,
        events,
    })
}

/// Leaves the current state for `to`: cancels pending tasks, creates the new state's tasks,
/// and reports clock changes and the end of the case.
fn move_to(
    def: &WorkflowDefinition,
    case: &mut CaseState,
    events: &mut Vec<Event>,
    to: &str,
    action: &str,
) -> Result<(), WorkflowError> {
    let from_clock = def.state(&case.state).map(|s| s.clock);
    let target = def.state(to).ok_or_else(|| WorkflowError::UnknownState {
        action: action.to_string(),
        state: to.to_string(),
    })?;
    let pending: Vec<String> = case
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Pending)
        .map(|t| t.key.clone())
        .collect();
    if !pending.is_empty() {
        events.push(Event::TasksCancelled { tasks: pending });
    }
    events.push(Event::Moved {
        from: case.state.clone(),
        to: target.key.clone(),
        action: action.to_string(),
    });
    case.state = target.key.clone();
    case.tasks = def.split_at(&target.key).map(new_tasks).unwrap_or_default();
    if !case.tasks.is_empty() {
        events.push(Event::TasksCreated {
            tasks: case.tasks.iter().map(|t| t.key.clone()).collect(),
        });
    }
    match (from_clock, target.clock) {
        (Some(ClockMode::Running), ClockMode::Paused) => events.push(Event::ClockPaused),
        (Some(ClockMode::Paused), ClockMode::Running) => events.push(Event::ClockResumed),
        _ => {}
    }
    if target.terminal {
        events.push(Event::Finished {
            state: target.key.clone(),
        });
    }
    Ok(())
}

/// The actions `role` may take on the case now (limits respected), for worklists and buttons.
pub fn available_actions(
    def: &WorkflowDefinition,
    current: &CaseState,
    role: CaseRole,
) -> Vec<String> {
    let Some(here) = def.state(&current.state) else {
        return Vec::new();
    };
    if here.terminal {
        return Vec::new();
    }
    let mut out: Vec<String> = def
        .actions_from(&here.key)
        .filter(|a| a.roles.contains(&role))
        .filter(|a| a.max_times.is_none_or(|m| current.count(&a.key) < m))
        .map(|a| a.key.clone())
        .collect();
    if let Some(split) = def.split_at(&here.key) {
        for t in split.tasks.iter().filter(|t| t.roles.contains(&role)) {
            let pending = current
                .tasks
                .iter()
                .find(|s| s.key == t.key)
                .is_none_or(|s| s.status == TaskStatus::Pending);
            if pending {
                out.push(task_action_key(&t.key, TaskVerdict::Approve));
                out.push(task_action_key(&t.key, TaskVerdict::Refuse));
            }
        }
    }
    out
}
