//! The transition function on the built-ins and a parallel (并联) definition.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use yiwang_domain::workflow::*;

use CaseRole::{Applicant, Approver, Clerk, Reviewer};

const OK: Option<&str> = Some("材料齐全");

fn step(def: &WorkflowDefinition, case: &CaseState, action: &str, role: CaseRole) -> Transition {
    apply(def, case, action, role, OK)
        .unwrap_or_else(|e| panic!("{action} as {role:?} in {}: {e:?}", case.state))
}

fn run(def: &WorkflowDefinition, path: &[(&str, CaseRole)]) -> (CaseState, Vec<Event>) {
    let mut case = CaseState::start(def).expect("start");
    let mut events = Vec::new();
    for (action, role) in path {
        let t = step(def, &case, action, *role);
        assert_eq!(t.to, t.case.state);
        events.extend(t.events);
        case = t.case;
    }
    (case, events)
}

#[test]
fn promised_happy_path() {
    let d = promised();
    let (case, events) = run(
        &d,
        &[
            ("accept", Clerk),
            ("review", Reviewer),
            ("approve", Approver),
            ("conclude", Clerk),
            ("deliver", Clerk),
        ],
    );
    assert_eq!(case.state, "delivered");
    assert_eq!(
        events.last(),
        Some(&Event::Finished {
            state: "delivered".into()
        })
    );
    let moved = events
        .iter()
        .filter(|e| matches!(e, Event::Moved { .. }))
        .count();
    assert_eq!(moved, 5);
    let err = apply(&d, &case, "deliver", Clerk, OK).expect_err("finished");
    assert_eq!(
        err,
        WorkflowError::CaseFinished {
            state: "delivered".into()
        }
    );
}

#[test]
fn promised_refusal_paths() {
    let d = promised();
    let (case, _) = run(
        &d,
        &[
            ("accept", Clerk),
            ("review", Reviewer),
            ("deny", Approver),
            ("conclude", Approver),
            ("deliver", Clerk),
        ],
    );
    assert_eq!(case.state, "delivered");
    let (case, events) = run(&d, &[("reject", Clerk)]);
    assert_eq!(case.state, "not_accepted");
    assert!(events.contains(&Event::Finished {
        state: "not_accepted".into()
    }));
}

#[test]
fn wrong_role_wrong_state_and_missing_opinion_are_refused() {
    let d = promised();
    let case = CaseState::start(&d).expect("start");
    assert_eq!(
        apply(&d, &case, "accept", Applicant, None),
        Err(WorkflowError::RoleNotAllowed {
            action: "accept".into(),
            role: Applicant
        })
    );
    assert_eq!(
        apply(&d, &case, "approve", Approver, OK),
        Err(WorkflowError::ActionNotAvailable {
            state: "applied".into(),
            action: "approve".into()
        })
    );
    for blank in [None, Some("  ")] {
        assert_eq!(
            apply(&d, &case, "reject", Clerk, blank),
            Err(WorkflowError::OpinionRequired {
                action: "reject".into()
            })
        );
    }
    let ghost = CaseState {
        state: "ghost".into(),
        ..case
    };
    assert_eq!(
        apply(&d, &ghost, "accept", Clerk, OK),
        Err(WorkflowError::CurrentStateUnknown {
            state: "ghost".into()
        })
    );
}

#[test]
fn one_correction_round_pauses_the_clock() {
    let d = promised();
    let case = CaseState::start(&d).expect("start");
    let t = step(&d, &case, "request_correction", Clerk);
    assert_eq!(t.to, "correcting");
    assert!(t.events.contains(&Event::ClockPaused));
    assert_eq!(t.case.count("request_correction"), 1);
    assert_eq!(
        available_actions(&d, &t.case, Applicant),
        vec!["resubmit".to_string()]
    );
    assert!(available_actions(&d, &t.case, Clerk).is_empty());

    let t = step(&d, &t.case, "resubmit", Applicant);
    assert_eq!(t.to, "applied");
    assert!(t.events.contains(&Event::ClockResumed));
    assert!(!available_actions(&d, &t.case, Clerk).contains(&"request_correction".to_string()));
    assert_eq!(
        apply(&d, &t.case, "request_correction", Clerk, OK),
        Err(WorkflowError::ActionLimitReached {
            action: "request_correction".into(),
            max: 1
        })
    );
    // Still acceptable after the round.
    let t = step(&d, &t.case, "accept", Clerk);
    assert_eq!(t.to, "reviewing");

    // The limit is data: two rounds when the definition says so.
    let mut two = promised();
    for a in &mut two.actions {
        if a.key == "request_correction" {
            a.max_times = Some(2);
        }
    }
    let (case, _) = run(
        &two,
        &[
            ("request_correction", Clerk),
            ("resubmit", Applicant),
            ("request_correction", Clerk),
            ("resubmit", Applicant),
        ],
    );
    assert!(apply(&two, &case, "request_correction", Clerk, OK).is_err());
}

#[test]
fn immediate_accepts_and_decides_at_once() {
    let d = immediate();
    let (case, _) = run(&d, &[("approve", Clerk), ("deliver", Clerk)]);
    assert_eq!(case.state, "delivered");
    let (case, _) = run(&d, &[("deny", Clerk)]);
    assert_eq!(case.state, "denied");
    let start = CaseState::start(&d).expect("start");
    assert_eq!(
        apply(&d, &start, "approve", Reviewer, OK),
        Err(WorkflowError::RoleNotAllowed {
            action: "approve".into(),
            role: Reviewer
        })
    );
}

/// 承诺件 with a 并联审批 pair (market regulation + fire safety) instead of one reviewer.
fn parallel() -> WorkflowDefinition {
    let mut d = promised();
    d.key = "promised_parallel".into();
    d.actions.retain(|a| a.key != "review");
    d.states.push(StateDef {
        key: "refused_jointly".into(),
        applicant_status: "denied".into(),
        start: false,
        terminal: true,
        sla_working_days: None,
        clock: ClockMode::Running,
    });
    d.parallel.push(ParallelSplit {
        at_state: "reviewing".into(),
        tasks: ["market", "fire"]
            .into_iter()
            .map(|k| TaskDef {
                key: k.into(),
                department: DepartmentSelector::Function { key: k.into() },
                roles: vec![Reviewer],
            })
            .collect(),
        join_state: "deciding".into(),
        refusal_state: "refused_jointly".into(),
    });
    d
}

#[test]
fn parallel_definition_is_valid() {
    assert_eq!(validate(&parallel()), Ok(()));
}

#[test]
fn parallel_both_approve_then_join() {
    let d = parallel();
    let (case, events) = run(&d, &[("accept", Clerk)]);
    assert!(events.contains(&Event::TasksCreated {
        tasks: vec!["market".into(), "fire".into()]
    }));
    assert_eq!(
        available_actions(&d, &case, Reviewer),
        vec![
            "market.approve",
            "market.refuse",
            "fire.approve",
            "fire.refuse"
        ]
    );
    let t = step(&d, &case, "fire.approve", Reviewer);
    assert_eq!(t.to, "reviewing");
    assert_eq!(
        t.events,
        vec![Event::TaskApproved {
            task: "fire".into()
        }]
    );
    assert_eq!(
        apply(&d, &t.case, "fire.approve", Reviewer, OK),
        Err(WorkflowError::TaskAlreadyDecided {
            task: "fire".into()
        })
    );
    assert_eq!(
        apply(&d, &t.case, "market.approve", Clerk, OK),
        Err(WorkflowError::RoleNotAllowed {
            action: "market.approve".into(),
            role: Clerk
        })
    );
    let t = step(&d, &t.case, "market.approve", Reviewer);
    assert_eq!(t.to, "deciding");
    assert!(t.case.tasks.is_empty());
    assert_eq!(step(&d, &t.case, "approve", Approver).to, "approved");
}

#[test]
fn unvalidated_definition_cannot_move_a_case_outside_it() {
    let mut d = promised();
    d.actions[0].to_state = "nowhere".into();
    assert!(validate(&d).is_err());
    let case = CaseState::start(&d).expect("start");
    assert_eq!(
        apply(&d, &case, "accept", Clerk, OK),
        Err(WorkflowError::UnknownState {
            action: "accept".into(),
            state: "nowhere".into()
        })
    );
}

#[test]
fn parallel_one_refusal_goes_to_refusal_state() {
    let d = parallel();
    let (case, _) = run(&d, &[("accept", Clerk)]);
    assert_eq!(
        apply(&d, &case, "market.refuse", Reviewer, None),
        Err(WorkflowError::OpinionRequired {
            action: "market.refuse".into()
        })
    );
    let t = step(&d, &case, "market.refuse", Reviewer);
    assert_eq!(t.to, "refused_jointly");
    assert_eq!(
        t.events,
        vec![
            Event::TaskRefused {
                task: "market".into()
            },
            Event::TasksCancelled {
                tasks: vec!["fire".into()]
            },
            Event::Moved {
                from: "reviewing".into(),
                to: "refused_jointly".into(),
                action: "market.refuse".into()
            },
            Event::Finished {
                state: "refused_jointly".into()
            },
        ]
    );
    // Even after one approval, a later refusal wins.
    let t = step(&d, &case, "market.approve", Reviewer);
    let t = step(&d, &t.case, "fire.refuse", Reviewer);
    assert_eq!(t.to, "refused_jointly");
    assert!(
        !t.events
            .iter()
            .any(|e| matches!(e, Event::TasksCancelled { .. }))
    );
}

fn any_role() -> impl Strategy<Value = CaseRole> {
    prop_oneof![Just(Applicant), Just(Clerk), Just(Reviewer), Just(Approver)]
}

fn action_pool(d: &WorkflowDefinition) -> Vec<String> {
    let mut pool: Vec<String> = d.actions.iter().map(|a| a.key.clone()).collect();
    for p in &d.parallel {
        for t in &p.tasks {
            pool.push(task_action_key(&t.key, TaskVerdict::Approve));
            pool.push(task_action_key(&t.key, TaskVerdict::Refuse));
        }
    }
    pool.extend(
        [
            "",
            "nope",
            ".approve",
            "x.refuse",
            "market.",
            "accept.approve",
        ]
        .map(String::from),
    );
    pool
}

proptest! {
    #[test]
    fn random_actions_stay_inside_the_definition(
        which in 0usize..3,
        steps in prop::collection::vec((any::<prop::sample::Index>(), any_role(), any::<bool>()), 0..40),
    ) {
        let d = [promised(), immediate(), parallel()][which].clone();
        let pool = action_pool(&d);
        let mut case = CaseState::start(&d).expect("start");
        for (i, role, with_opinion) in steps {
            let action = i.get(&pool);
            let opinion = if with_opinion { OK } else { None };
            let offered = available_actions(&d, &case, role).contains(action);
            match apply(&d, &case, action, role, opinion) {
                Ok(t) => {
                    prop_assert!(offered, "{action} applied but not offered");
                    prop_assert!(d.state(&t.case.state).is_some());
                    prop_assert_eq!(&t.to, &t.case.state);
                    case = t.case;
                }
                Err(e) => {
                    prop_assert!(!e.is_definition_error(), "{e:?}");
                    // Offered actions only fail for want of an opinion.
                    if offered {
                        prop_assert!(matches!(e, WorkflowError::OpinionRequired { .. }), "{e:?}");
                    }
                }
            }
            prop_assert!(d.state(&case.state).is_some());
            for a in &d.actions {
                if let Some(max) = a.max_times {
                    prop_assert!(case.count(&a.key) <= max);
                }
            }
            let split = d.split_at(&case.state);
            prop_assert_eq!(case.tasks.is_empty(), split.is_none());
        }
    }
}
