//! The case clock (办理时限): what a step on a case does to its time limit, as a pure function
//! of the stored timing, the transition, today and the official calendar.
//!
//! At submission the case gets the start state's SLA (e.g. 5 working days to decide on
//! acceptance), counted from the submission day. On acceptance (the first move out of the start
//! state into a working state) the implementation's promised limit starts and the due date is
//! fixed. Paused states (补正) stop the clock; on leaving one the pause is recorded and the due
//! date recomputed on the calendar.

use crate::calendar::{Calendar, CivilDate, Pause};
use crate::catalog::TimeLimit;
use crate::enums::TimeUnit;
use crate::error::ErrorCode;
use crate::workflow::{CaseState, ClockMode, Transition, WorkflowDefinition};
use serde::{Deserialize, Serialize};

/// Default SLA of a start state without one: five working days to decide on acceptance.
pub const DEFAULT_ACCEPTANCE_DAYS: u32 = 5;

/// The clock bookkeeping kept with the workflow state (stored as the case's state body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub case: CaseState,
    /// True once the case has been accepted and the promised limit runs.
    #[serde(default)]
    pub accepted: bool,
    /// The limit now running: the start state's SLA before acceptance, the promised limit after.
    pub limit: TimeLimit,
    /// Pauses of the running limit.
    #[serde(default)]
    pub pauses: Vec<Pause>,
}

/// A case's progress with the days its clock runs by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTiming {
    pub progress: Progress,
    /// The day the running limit counts from (submission, then acceptance).
    pub base_day: Option<CivilDate>,
    pub due_day: Option<CivilDate>,
    /// Set while the case waits in a paused state.
    pub paused_since: Option<CivilDate>,
}

/// Whether a move enters or leaves a paused state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PauseChange {
    pub entering: bool,
    pub leaving: bool,
}

/// What a step did to the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockStep {
    pub timing: CaseTiming,
    pub pause: PauseChange,
    /// The step ends the case.
    pub to_terminal: bool,
}

fn paused(def: &WorkflowDefinition, state: &str) -> bool {
    def.state(state)
        .is_some_and(|s| s.clock == ClockMode::Paused)
}

/// Whether moving from `from` to `to` enters or leaves a paused state.
pub fn pause_change(def: &WorkflowDefinition, from: &str, to: &str) -> PauseChange {
    let (before, after) = (paused(def, from), paused(def, to));
    PauseChange {
        entering: after && !before,
        leaving: before && !after,
    }
}

/// The timing of a case just submitted on `today` in `case` (the definition's start state):
/// the start state's SLA runs from today.
pub fn at_submission(
    def: &WorkflowDefinition,
    case: CaseState,
    today: CivilDate,
    calendar: &Calendar,
) -> Result<CaseTiming, ErrorCode> {
    let start = def.start_state().ok_or(ErrorCode::InvalidWorkflow)?;
    let limit = TimeLimit {
        amount: start.sla_working_days.unwrap_or(DEFAULT_ACCEPTANCE_DAYS),
        unit: TimeUnit::WorkingDays,
    };
    let due = calendar.due_date(today, limit, &[])?;
    Ok(CaseTiming {
        progress: Progress {
            case,
            accepted: false,
            limit,
            pauses: Vec::new(),
        },
        base_day: Some(today),
        due_day: Some(due),
        paused_since: None,
    })
}

/// The timing after transition `t` taken on `today`. `promised` is the implementation's
/// promised limit, which starts on acceptance.
pub fn step(
    def: &WorkflowDefinition,
    before: &CaseTiming,
    t: &Transition,
    promised: TimeLimit,
    today: CivilDate,
    calendar: &Calendar,
) -> Result<ClockStep, ErrorCode> {
    let pause = pause_change(def, &t.from, &t.to);
    let mut progress = Progress {
        case: t.case.clone(),
        ..before.progress.clone()
    };
    let mut base_day = before.base_day;
    let mut due_day = before.due_day;
    let mut paused_since = before.paused_since;
    if pause.entering {
        paused_since = Some(today);
    }
    if pause.leaving {
        if let Some(since) = paused_since.take() {
            progress.pauses.push(Pause {
                from: since,
                to: today,
                counts_toward_limit: false,
            });
        }
        if let Some(base) = base_day {
            due_day = Some(calendar.due_date(base, progress.limit, &progress.pauses)?);
        }
    }
    let start = def.start_state().map(|s| s.key.as_str());
    let to_terminal = def.state(&t.to).is_some_and(|s| s.terminal);
    let accepting = Some(t.from.as_str()) == start && !paused(def, &t.to) && !to_terminal;
    if !progress.accepted && accepting {
        progress.accepted = true;
        progress.limit = promised;
        progress.pauses.clear();
        base_day = Some(today);
        due_day = Some(calendar.due_date(today, promised, &[])?);
    }
    Ok(ClockStep {
        timing: CaseTiming {
            progress,
            base_day,
            due_day,
            paused_since,
        },
        pause,
        to_terminal,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use crate::calendar::DayKind;
    use crate::workflow::{ActionDef, CaseRole, StateDef, apply};
    use proptest::prelude::*;

    fn d(s: &str) -> CivilDate {
        CivilDate::parse(s).unwrap()
    }

    fn limit(amount: u32, unit: TimeUnit) -> TimeLimit {
        TimeLimit { amount, unit }
    }

    fn state(key: &str, start: bool, terminal: bool, clock: ClockMode) -> StateDef {
        StateDef {
            key: key.into(),
            applicant_status: key.into(),
            start,
            terminal,
            sla_working_days: start.then_some(3),
            clock,
        }
    }

    /// A workflow with a pause before acceptance (补正) and one after it (中止), and a
    /// terminal refusal straight from the start state.
    fn flow() -> WorkflowDefinition {
        use ClockMode::{Paused, Running};
        let action = |key: &str, from: &str, to: &str| ActionDef {
            key: key.into(),
            from_state: from.into(),
            to_state: to.into(),
            roles: vec![CaseRole::Clerk],
            requires_opinion: false,
            max_times: None,
        };
        WorkflowDefinition {
            key: "clock_test".into(),
            version: 1,
            name: "clock_test".into(),
            states: vec![
                state("applied", true, false, Running),
                state("correcting", false, false, Paused),
                state("rejected", false, true, Running),
                state("reviewing", false, false, Running),
                state("suspended", false, false, Paused),
                state("done", false, true, Running),
            ],
            actions: vec![
                action("accept", "applied", "reviewing"),
                action("reject", "applied", "rejected"),
                action("request_correction", "applied", "correcting"),
                action("resubmit", "correcting", "applied"),
                action("suspend", "reviewing", "suspended"),
                action("resume", "suspended", "reviewing"),
                action("note", "reviewing", "reviewing"),
                action("finish", "reviewing", "done"),
            ],
            parallel: Vec::new(),
        }
    }

    fn take(
        def: &WorkflowDefinition,
        timing: &CaseTiming,
        action: &str,
        promised: TimeLimit,
        today: CivilDate,
        cal: &Calendar,
    ) -> ClockStep {
        let t = apply(def, &timing.progress.case, action, CaseRole::Clerk, None).unwrap();
        step(def, timing, &t, promised, today, cal).unwrap()
    }

    #[test]
    fn a_correction_before_acceptance_moves_the_sla_then_acceptance_starts_the_promised_limit() {
        let (def, cal) = (flow(), Calendar::weekends_only());
        let promised = limit(20, TimeUnit::NaturalDays);
        // Monday; three working days to decide on acceptance.
        let t0 =
            at_submission(&def, CaseState::start(&def).unwrap(), d("2026-03-02"), &cal).unwrap();
        assert_eq!(t0.base_day, Some(d("2026-03-02")));
        assert_eq!(t0.due_day, Some(d("2026-03-05")));
        let s1 = take(
            &def,
            &t0,
            "request_correction",
            promised,
            d("2026-03-03"),
            &cal,
        );
        assert_eq!(
            s1.pause,
            PauseChange {
                entering: true,
                leaving: false
            }
        );
        assert_eq!(s1.timing.paused_since, Some(d("2026-03-03")));
        assert_eq!(s1.timing.due_day, t0.due_day);
        // Back on Thursday: Wednesday and Thursday did not count.
        let s2 = take(
            &def,
            &s1.timing,
            "resubmit",
            promised,
            d("2026-03-05"),
            &cal,
        );
        assert!(s2.pause.leaving);
        assert_eq!(s2.timing.paused_since, None);
        assert_eq!(s2.timing.due_day, Some(d("2026-03-09")));
        // Accepted on Friday: 20 natural days, on a working day.
        let s3 = take(&def, &s2.timing, "accept", promised, d("2026-03-06"), &cal);
        assert!(s3.timing.progress.accepted);
        assert!(s3.timing.progress.pauses.is_empty());
        assert_eq!(s3.timing.base_day, Some(d("2026-03-06")));
        assert_eq!(s3.timing.due_day, Some(d("2026-03-26")));
        let s4 = take(&def, &s3.timing, "finish", promised, d("2026-03-10"), &cal);
        assert!(s4.to_terminal);
        assert_eq!(s4.timing.due_day, s3.timing.due_day);
    }

    #[test]
    fn a_refusal_from_the_start_state_is_no_acceptance() {
        let (def, cal) = (flow(), Calendar::weekends_only());
        let t0 =
            at_submission(&def, CaseState::start(&def).unwrap(), d("2026-03-02"), &cal).unwrap();
        let s = take(
            &def,
            &t0,
            "reject",
            limit(9, TimeUnit::WorkingDays),
            d("2026-03-03"),
            &cal,
        );
        assert!(s.to_terminal);
        assert!(!s.timing.progress.accepted);
        assert_eq!(s.timing.due_day, t0.due_day);
    }

    #[test]
    fn a_start_state_is_required() {
        let mut def = flow();
        def.states.retain(|s| !s.start);
        let case = CaseState {
            state: "applied".into(),
            tasks: Vec::new(),
            action_counts: Default::default(),
        };
        let cal = Calendar::weekends_only();
        assert_eq!(
            at_submission(&def, case, d("2026-03-02"), &cal),
            Err(ErrorCode::InvalidWorkflow)
        );
    }

    /// A calendar with a few holidays and adjusted working days in 2026.
    fn calendar() -> impl Strategy<Value = Calendar> {
        prop::collection::vec((0i64..400, any::<bool>()), 0..30).prop_map(|days| {
            let base = d("2026-01-01");
            Calendar::new(days.into_iter().map(|(n, holiday)| {
                let kind = if holiday {
                    DayKind::Holiday
                } else {
                    DayKind::AdjustedWorkday
                };
                (base.add_days(n), kind)
            }))
        })
    }

    fn promised_limit() -> impl Strategy<Value = TimeLimit> {
        (1u32..40, any::<bool>()).prop_map(|(n, working)| {
            let unit = if working {
                TimeUnit::WorkingDays
            } else {
                TimeUnit::NaturalDays
            };
            limit(n, unit)
        })
    }

    proptest! {
        /// Walks random paths through the workflow on random days and checks the clock after
        /// every step against what the rules say it must be.
        #[test]
        fn the_clock_follows_its_rules(
            cal in calendar(),
            promised in promised_limit(),
            start in 0i64..300,
            moves in prop::collection::vec((0usize..8, 0i64..12), 1..20),
        ) {
            let def = flow();
            let mut today = d("2026-01-01").add_days(start);
            let mut timing =
                at_submission(&def, CaseState::start(&def).unwrap(), today, &cal).unwrap();
            prop_assert_eq!(
                timing.due_day,
                Some(cal.due_date(today, timing.progress.limit, &[]).unwrap())
            );
            for (pick, gap) in moves {
                let here = timing.progress.case.state.clone();
                if def.state(&here).is_some_and(|s| s.terminal) {
                    break;
                }
                let actions: Vec<&str> = def.actions_from(&here).map(|a| a.key.as_str()).collect();
                let action = actions[pick % actions.len()];
                today = today.add_days(gap);
                let before = timing.clone();
                let s = take(&def, &before, action, promised, today, &cal);
                let after = &s.timing;
                let now_paused = paused(&def, &after.progress.case.state);
                let accepting = !before.progress.accepted && after.progress.accepted;

                // Acceptance happens once, and starts the promised limit from today.
                prop_assert!(after.progress.accepted >= before.progress.accepted);
                if accepting {
                    prop_assert_eq!(before.progress.case.state.as_str(), "applied");
                    prop_assert_eq!(after.progress.limit, promised);
                    prop_assert!(after.progress.pauses.is_empty());
                    prop_assert_eq!(after.base_day, Some(today));
                    prop_assert_eq!(
                        after.due_day,
                        Some(cal.due_date(today, promised, &[]).unwrap())
                    );
                }
                if after.progress.accepted {
                    prop_assert_eq!(after.progress.limit, promised);
                }
                // The pause mark is set exactly while the case waits in a paused state.
                prop_assert_eq!(after.paused_since.is_some(), now_paused);
                if s.pause.entering {
                    prop_assert_eq!(after.paused_since, Some(today));
                }
                if s.pause.leaving {
                    let p = after.progress.pauses.last().copied().unwrap();
                    prop_assert_eq!(Some(p.from), before.paused_since);
                    prop_assert_eq!(p.to, today);
                    prop_assert!(!p.counts_toward_limit);
                }
                // A pause only ever moves the due date later.
                if s.pause.leaving && !accepting {
                    prop_assert!(after.due_day >= before.due_day);
                }
                // Outside a pause the due date is the running limit counted from the base
                // day on the calendar, less the recorded pauses; inside one it stands still.
                if now_paused {
                    prop_assert_eq!(after.due_day, before.due_day);
                } else {
                    let base = after.base_day.unwrap();
                    let expected =
                        cal.due_date(base, after.progress.limit, &after.progress.pauses).unwrap();
                    prop_assert_eq!(after.due_day, Some(expected));
                }
                // Steps that neither pause, resume nor accept leave the days alone.
                if s.pause == PauseChange::default() && !accepting {
                    prop_assert_eq!(after.base_day, before.base_day);
                    prop_assert_eq!(after.due_day, before.due_day);
                    prop_assert_eq!(&after.progress.pauses, &before.progress.pauses);
                }
                prop_assert!(after.due_day >= after.base_day);
                prop_assert_eq!(&after.progress.case.state, &s.timing.progress.case.state);
                timing = s.timing;
            }
        }

        /// Resuming on the day of the pause costs no time.
        #[test]
        fn a_pause_within_one_day_changes_nothing(
            cal in calendar(),
            promised in promised_limit(),
            start in 0i64..300,
            after_days in 0i64..20,
        ) {
            let def = flow();
            let day = d("2026-01-01").add_days(start);
            let t0 = at_submission(&def, CaseState::start(&def).unwrap(), day, &cal).unwrap();
            let accepted = take(&def, &t0, "accept", promised, day, &cal).timing;
            let then = day.add_days(after_days);
            let held = take(&def, &accepted, "suspend", promised, then, &cal).timing;
            let back = take(&def, &held, "resume", promised, then, &cal).timing;
            prop_assert_eq!(back.due_day, accepted.due_day);
            prop_assert_eq!(back.paused_since, None);
        }
    }
}
