//! Checks run when a definition is loaded. All problems are reported at once, in definition
//! order, each naming the state, action or task at fault.

use super::error::WorkflowError;
use super::model::WorkflowDefinition;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Longest key accepted (states, actions, tasks, status keys).
pub const MAX_KEY_LEN: usize = 64;

/// Keys are lower-case ASCII words: `[a-z][a-z0-9_]*`, at most 64 characters. A dot is not
/// allowed, so task action keys (`<task>.approve`) never collide with ordinary actions.
pub fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some('a'..='z'))
        && key.len() <= MAX_KEY_LEN
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// Parses a stored JSON definition and validates it.
pub fn load(json: &str) -> Result<WorkflowDefinition, Vec<WorkflowError>> {
    let def: WorkflowDefinition = serde_json::from_str(json).map_err(|e| {
        vec![WorkflowError::Malformed {
            detail: e.to_string(),
        }]
    })?;
    validate(&def)?;
    Ok(def)
}

pub fn validate(def: &WorkflowDefinition) -> Result<(), Vec<WorkflowError>> {
    let mut errs = Vec::new();
    let check_key = |k: &str, errs: &mut Vec<WorkflowError>| {
        if !is_valid_key(k) {
            errs.push(WorkflowError::InvalidKey { key: k.to_string() });
        }
    };
    check_key(&def.key, &mut errs);

    // States.
    let mut states = BTreeSet::new();
    for s in &def.states {
        check_key(&s.key, &mut errs);
        check_key(&s.applicant_status, &mut errs);
        if !states.insert(s.key.as_str()) {
            errs.push(WorkflowError::DuplicateState {
                state: s.key.clone(),
            });
        }
    }
    let starts: Vec<String> = def
        .states
        .iter()
        .filter(|s| s.start)
        .map(|s| s.key.clone())
        .collect();
    match starts.len() {
        0 => errs.push(WorkflowError::NoStartState),
        1 => {}
        _ => errs.push(WorkflowError::MultipleStartStates {
            states: starts.clone(),
        }),
    }
    if !def.states.iter().any(|s| s.terminal) {
        errs.push(WorkflowError::NoTerminalState);
    }

    // Actions and the graph they make.
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut seen_actions = BTreeSet::new();
    for a in &def.actions {
        check_key(&a.key, &mut errs);
        if !seen_actions.insert((a.from_state.as_str(), a.key.as_str())) {
            errs.push(WorkflowError::DuplicateAction {
                state: a.from_state.clone(),
                action: a.key.clone(),
            });
        }
        for st in [&a.from_state, &a.to_state] {
            if !states.contains(st.as_str()) {
                errs.push(WorkflowError::UnknownState {
                    action: a.key.clone(),
                    state: st.clone(),
                });
            }
        }
        if a.roles.is_empty() {
            errs.push(WorkflowError::NoRoles {
                state: a.from_state.clone(),
                action: a.key.clone(),
            });
        }
        if a.max_times == Some(0) {
            errs.push(WorkflowError::ZeroMaxTimes {
                state: a.from_state.clone(),
                action: a.key.clone(),
            });
        }
        edges
            .entry(a.from_state.as_str())
            .or_default()
            .push(a.to_state.as_str());
    }

    // Parallel splits.
    let mut split_states = BTreeSet::new();
    for p in &def.parallel {
        if !split_states.insert(p.at_state.as_str()) {
            errs.push(WorkflowError::DuplicateSplit {
                state: p.at_state.clone(),
            });
        }
        for st in [&p.at_state, &p.join_state, &p.refusal_state] {
            if !states.contains(st.as_str()) {
                errs.push(WorkflowError::SplitUnknownState {
                    at_state: p.at_state.clone(),
                    state: st.clone(),
                });
            }
        }
        if p.tasks.is_empty() {
            errs.push(WorkflowError::SplitWithoutTasks {
                state: p.at_state.clone(),
            });
        }
        let mut tasks = BTreeSet::new();
        for t in &p.tasks {
            check_key(&t.key, &mut errs);
            if !tasks.insert(t.key.as_str()) {
                errs.push(WorkflowError::DuplicateTask {
                    state: p.at_state.clone(),
                    task: t.key.clone(),
                });
            }
            if t.roles.is_empty() {
                errs.push(WorkflowError::TaskNoRoles {
                    state: p.at_state.clone(),
                    task: t.key.clone(),
                });
            }
        }
        let out = edges.entry(p.at_state.as_str()).or_default();
        out.push(p.join_state.as_str());
        out.push(p.refusal_state.as_str());
    }

    // Dead ends and terminal states with a way out.
    for s in &def.states {
        let has_exit = edges.get(s.key.as_str()).is_some_and(|v| !v.is_empty());
        if s.terminal && has_exit {
            errs.push(WorkflowError::TerminalHasExit {
                state: s.key.clone(),
            });
        } else if !s.terminal && !has_exit {
            errs.push(WorkflowError::DeadEnd {
                state: s.key.clone(),
            });
        }
    }

    // Reachability, only meaningful with exactly one start.
    if let [start] = starts.as_slice() {
        let mut reached = BTreeSet::new();
        let mut queue = VecDeque::from([start.as_str()]);
        while let Some(s) = queue.pop_front() {
            if reached.insert(s) {
                queue.extend(edges.get(s).into_iter().flatten().copied());
            }
        }
        for s in &def.states {
            if !reached.contains(s.key.as_str()) {
                errs.push(WorkflowError::UnreachableState {
                    state: s.key.clone(),
                });
            }
        }
    }

    if errs.is_empty() { Ok(()) } else { Err(errs) }
}
