//! Workflow definitions: built-ins, validation errors, JSON, resolution order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_domain::enums::{CaseType, HandlingKind};
use yiwang_domain::workflow::*;
use yiwang_domain::{BasicCode, CreditCode, ImplCode};

fn st(key: &str) -> StateDef {
    StateDef {
        key: key.into(),
        applicant_status: key.into(),
        start: false,
        terminal: false,
        sla_working_days: None,
        clock: ClockMode::Running,
    }
}
fn start(key: &str) -> StateDef {
    StateDef {
        start: true,
        ..st(key)
    }
}
fn end(key: &str) -> StateDef {
    StateDef {
        terminal: true,
        ..st(key)
    }
}
fn act(key: &str, from: &str, to: &str) -> ActionDef {
    ActionDef {
        key: key.into(),
        from_state: from.into(),
        to_state: to.into(),
        roles: vec![CaseRole::Clerk],
        requires_opinion: false,
        max_times: None,
    }
}
fn def(states: Vec<StateDef>, actions: Vec<ActionDef>) -> WorkflowDefinition {
    WorkflowDefinition {
        key: "t".into(),
        version: 1,
        name: "t".into(),
        states,
        actions,
        parallel: vec![],
    }
}
/// a → b (terminal): the smallest valid definition.
fn minimal() -> WorkflowDefinition {
    def(vec![start("a"), end("b")], vec![act("go", "a", "b")])
}
fn task(key: &str) -> TaskDef {
    TaskDef {
        key: key.into(),
        department: DepartmentSelector::Function { key: key.into() },
        roles: vec![CaseRole::Reviewer],
    }
}
fn errors(d: &WorkflowDefinition) -> Vec<WorkflowError> {
    validate(d).expect_err("definition should be rejected")
}

#[test]
fn builtins_validate() {
    for d in [promised(), immediate()] {
        assert_eq!(validate(&d), Ok(()), "{}", d.key);
    }
    assert_eq!(builtin(CaseType::Promised).key, "promised");
    assert_eq!(builtin(CaseType::Immediate).key, "immediate");
    assert_eq!(validate(&minimal()), Ok(()));
}

#[test]
fn no_start_state() {
    let d = def(vec![st("a"), end("b")], vec![act("go", "a", "b")]);
    assert_eq!(errors(&d), vec![WorkflowError::NoStartState]);
}

#[test]
fn two_start_states() {
    let d = def(
        vec![start("a"), start("c"), end("b")],
        vec![act("go", "a", "b"), act("go", "c", "b")],
    );
    assert_eq!(
        errors(&d),
        vec![WorkflowError::MultipleStartStates {
            states: vec!["a".into(), "c".into()]
        }]
    );
}

#[test]
fn no_terminal_state() {
    let d = def(
        vec![start("a"), st("b")],
        vec![act("go", "a", "b"), act("back", "b", "a")],
    );
    assert_eq!(errors(&d), vec![WorkflowError::NoTerminalState]);
}

#[test]
fn action_to_unknown_state() {
    let mut d = minimal();
    d.actions.push(act("jump", "a", "nowhere"));
    assert_eq!(
        errors(&d),
        vec![WorkflowError::UnknownState {
            action: "jump".into(),
            state: "nowhere".into()
        }]
    );
}

#[test]
fn action_from_unknown_state() {
    let mut d = minimal();
    d.actions.push(act("jump", "ghost", "b"));
    assert_eq!(
        errors(&d),
        vec![WorkflowError::UnknownState {
            action: "jump".into(),
            state: "ghost".into()
        }]
    );
}

#[test]
fn unreachable_state() {
    let mut d = minimal();
    d.states.push(st("island"));
    d.actions.push(act("leave", "island", "b"));
    assert_eq!(
        errors(&d),
        vec![WorkflowError::UnreachableState {
            state: "island".into()
        }]
    );
}

#[test]
fn dead_end() {
    let mut d = minimal();
    d.states.push(st("stuck"));
    d.actions.push(act("trap", "a", "stuck"));
    assert_eq!(
        errors(&d),
        vec![WorkflowError::DeadEnd {
            state: "stuck".into()
        }]
    );
}

#[test]
fn terminal_with_exit() {
    let mut d = minimal();
    d.actions.push(act("reopen", "b", "a"));
    assert_eq!(
        errors(&d),
        vec![WorkflowError::TerminalHasExit { state: "b".into() }]
    );
}

#[test]
fn action_without_roles() {
    let mut d = minimal();
    d.actions[0].roles.clear();
    assert_eq!(
        errors(&d),
        vec![WorkflowError::NoRoles {
            state: "a".into(),
            action: "go".into()
        }]
    );
}

#[test]
fn zero_max_times() {
    let mut d = minimal();
    d.actions[0].max_times = Some(0);
    assert_eq!(
        errors(&d),
        vec![WorkflowError::ZeroMaxTimes {
            state: "a".into(),
            action: "go".into()
        }]
    );
}

#[test]
fn duplicate_state_and_action() {
    let mut d = minimal();
    d.states.push(end("b"));
    assert_eq!(
        errors(&d),
        vec![WorkflowError::DuplicateState { state: "b".into() }]
    );
    let mut d = minimal();
    d.actions.push(act("go", "a", "b"));
    assert_eq!(
        errors(&d),
        vec![WorkflowError::DuplicateAction {
            state: "a".into(),
            action: "go".into()
        }]
    );
}

#[test]
fn invalid_keys() {
    let mut d = minimal();
    d.actions[0].key = "Go Now".into();
    d.states[1].applicant_status = String::new();
    let errs = errors(&d);
    assert!(errs.contains(&WorkflowError::InvalidKey {
        key: "Go Now".into()
    }));
    assert!(errs.contains(&WorkflowError::InvalidKey { key: String::new() }));
    assert!(!is_valid_key("x.approve"));
    assert!(!is_valid_key(&"a".repeat(65)));
    assert!(is_valid_key("request_correction"));
}

fn split_def() -> WorkflowDefinition {
    let mut d = def(
        vec![start("a"), st("joint"), end("ok"), end("refused")],
        vec![act("go", "a", "joint")],
    );
    d.parallel.push(ParallelSplit {
        at_state: "joint".into(),
        tasks: vec![task("fire"), task("health")],
        join_state: "ok".into(),
        refusal_state: "refused".into(),
    });
    d
}

#[test]
fn split_is_valid_and_its_problems_are_named() {
    assert_eq!(validate(&split_def()), Ok(()));

    let mut d = split_def();
    d.parallel[0].join_state = "nope".into();
    d.parallel[0].refusal_state = "gone".into();
    let errs = errors(&d);
    for missing in ["nope", "gone"] {
        assert!(
            errs.contains(&WorkflowError::SplitUnknownState {
                at_state: "joint".into(),
                state: missing.into()
            }),
            "{errs:?}"
        );
    }

    let mut d = split_def();
    d.parallel[0].tasks.clear();
    assert_eq!(
        errors(&d),
        vec![WorkflowError::SplitWithoutTasks {
            state: "joint".into()
        }]
    );

    let mut d = split_def();
    d.parallel[0].tasks.push(task("fire"));
    d.parallel[0].tasks[1].roles.clear();
    assert_eq!(
        errors(&d),
        vec![
            WorkflowError::TaskNoRoles {
                state: "joint".into(),
                task: "health".into()
            },
            WorkflowError::DuplicateTask {
                state: "joint".into(),
                task: "fire".into()
            },
        ]
    );

    let mut d = split_def();
    d.parallel.push(d.parallel[0].clone());
    assert!(errors(&d).contains(&WorkflowError::DuplicateSplit {
        state: "joint".into()
    }));
}

#[test]
fn json_round_trip() {
    let mut with_split = split_def();
    with_split.parallel[0].tasks[0].department = DepartmentSelector::Department {
        credit_code: CreditCode::parse("91350100M000100Y43").expect("valid code"),
    };
    with_split.parallel[0].tasks[1].department = DepartmentSelector::Implementing;
    for d in [promised(), immediate(), with_split] {
        let json = d.to_json().expect("serialises");
        let back = load(&json).expect("loads");
        assert_eq!(back, d);
    }
    // Defaults keep hand-written definitions short.
    let json = r#"{"key":"t","version":1,"name":"t",
        "states":[{"key":"a","applicant_status":"a","start":true},
                  {"key":"b","applicant_status":"b","terminal":true,"clock":"paused"}],
        "actions":[{"key":"go","from_state":"a","to_state":"b","roles":["clerk","applicant"]}]}"#;
    let d = load(json).expect("loads");
    assert_eq!(d.states[1].clock, ClockMode::Paused);
    assert_eq!(
        d.actions[0].roles,
        vec![CaseRole::Clerk, CaseRole::Applicant]
    );
}

#[test]
fn json_rejects_unknown_roles_and_fields() {
    let bad_role = r#"{"key":"t","version":1,"name":"t",
        "states":[{"key":"a","applicant_status":"a","start":true},
                  {"key":"b","applicant_status":"b","terminal":true}],
        "actions":[{"key":"go","from_state":"a","to_state":"b","roles":["mayor"]}]}"#;
    let errs = load(bad_role).expect_err("unknown role");
    assert!(matches!(&errs[..], [WorkflowError::Malformed { detail }] if detail.contains("mayor")));

    let typo = r#"{"key":"t","version":1,"name":"t",
        "states":[{"key":"a","applicant_status":"a","strat":true}],"actions":[]}"#;
    let errs = load(typo).expect_err("unknown field");
    assert!(matches!(&errs[..], [WorkflowError::Malformed { detail }] if detail.contains("strat")));

    // Valid JSON, invalid workflow: every problem comes back.
    let broken = r#"{"key":"t","version":1,"name":"t","states":[{"key":"a","applicant_status":"a"}],"actions":[]}"#;
    let errs = load(broken).expect_err("invalid");
    assert_eq!(
        errs,
        vec![
            WorkflowError::NoStartState,
            WorkflowError::NoTerminalState,
            WorkflowError::DeadEnd { state: "a".into() }
        ]
    );
}

#[test]
fn error_keys_match_serialised_codes() {
    let samples = [
        WorkflowError::NoStartState,
        WorkflowError::DeadEnd { state: "x".into() },
        WorkflowError::SplitUnknownState {
            at_state: "x".into(),
            state: "y".into(),
        },
        WorkflowError::RoleNotAllowed {
            action: "x".into(),
            role: CaseRole::Clerk,
        },
        WorkflowError::ActionLimitReached {
            action: "x".into(),
            max: 1,
        },
    ];
    for e in samples {
        let v = serde_json::to_value(&e).expect("serialises");
        assert_eq!(v["code"], e.key());
    }
}

#[test]
fn resolution_order() {
    let basic = BasicCode::parse("0000012345").expect("basic code");
    let imp = ImplCode::parse("11120112MB0000000X000001234500001").expect("impl code");
    let other_imp = ImplCode::parse("11120112MB0000000X000001234500002").expect("impl code");
    let named = |key: &str, version: u32| WorkflowDefinition {
        key: key.into(),
        version,
        ..minimal()
    };
    let subject = CaseSubject {
        basic_code: &basic,
        impl_code: &imp,
        handling: Some(HandlingKind::Change),
        case_type: CaseType::Promised,
    };

    let none: Vec<Binding> = vec![];
    let (d, from) = resolve(&none, subject);
    assert_eq!((d.key.as_str(), from), ("promised", ResolvedFrom::BuiltIn));
    let (d, _) = resolve(
        &none,
        CaseSubject {
            case_type: CaseType::Immediate,
            ..subject
        },
    );
    assert_eq!(d.key, "immediate");

    let mut bindings = vec![
        Binding {
            scope: BindingScope::StandardItem {
                basic_code: basic.clone(),
            },
            definition: named("std", 1),
        },
        Binding {
            scope: BindingScope::Implementation {
                impl_code: other_imp.clone(),
            },
            definition: named("other_impl", 1),
        },
        Binding {
            scope: BindingScope::HandlingItem {
                impl_code: imp.clone(),
                kind: HandlingKind::New,
            },
            definition: named("handling_new", 1),
        },
    ];
    let (d, from) = resolve(&bindings, subject);
    assert_eq!((d.key.as_str(), from), ("std", ResolvedFrom::StandardItem));

    bindings.push(Binding {
        scope: BindingScope::Implementation {
            impl_code: imp.clone(),
        },
        definition: named("impl", 1),
    });
    let (d, from) = resolve(&bindings, subject);
    assert_eq!(
        (d.key.as_str(), from),
        ("impl", ResolvedFrom::Implementation)
    );

    bindings.push(Binding {
        scope: BindingScope::HandlingItem {
            impl_code: imp.clone(),
            kind: HandlingKind::Change,
        },
        definition: named("handling_change", 1),
    });
    let (d, from) = resolve(&bindings, subject);
    assert_eq!(
        (d.key.as_str(), from),
        ("handling_change", ResolvedFrom::HandlingItem)
    );

    // Same level: highest version, then smallest key; input order does not matter.
    let scope = BindingScope::Implementation {
        impl_code: imp.clone(),
    };
    let mut same = vec![
        Binding {
            scope: scope.clone(),
            definition: named("b", 2),
        },
        Binding {
            scope: scope.clone(),
            definition: named("a", 2),
        },
        Binding {
            scope,
            definition: named("c", 1),
        },
    ];
    let d1 = resolve(&same, subject).0.into_owned();
    same.reverse();
    let (d2, _) = resolve(&same, subject);
    assert_eq!((d1.key.as_str(), d1.version), ("a", 2));
    assert_eq!(&d1, d2.as_ref());
}
