//! 我的办事: how the applicant's own cases are named and found — a short case number for
//! lists, whom an application is for, withdrawal before acceptance, and the query code
//! (查询码) that lets a hotline caller look up progress without signing in.

use crate::case::CaseNumber;
use crate::workflow::{ActionDef, CaseRole, StateDef, WorkflowDefinition};

/// The applicant's action that withdraws a case before acceptance (撤回).
pub const WITHDRAW: &str = "withdraw";
/// The state a withdrawn case ends in (terminal; applicant status `withdrawn`).
pub const WITHDRAWN: &str = "withdrawn";

/// Digits of a query code.
pub const QUERY_CODE_DIGITS: usize = 8;

/// The case number as lists show it: submission date and daily sequence, e.g.
/// `20261208-000042` (the case page shows the full number).
pub fn short_number(n: &CaseNumber) -> String {
    let s = n.as_str();
    let mut parts = s.rsplitn(3, '-');
    match (parts.next(), parts.next()) {
        (Some(seq), Some(date)) => format!("{date}-{seq}"),
        _ => s.to_string(),
    }
}

/// Answer keys that name the business an application is for, most specific first.
pub const SUBJECT_KEYS: &[&str] = &["business_name", "trade_name", "org_name", "company_name"];

/// Whom an application is for: the business it names (a business application), else `None`
/// (the applicant themself). Reads the posted values as stored with the draft or case.
pub fn subject(pairs: &[(String, String)]) -> Option<String> {
    SUBJECT_KEYS.iter().find_map(|k| {
        pairs
            .iter()
            .find(|(n, v)| n == k && !v.trim().is_empty())
            .map(|(_, v)| v.trim().chars().take(60).collect())
    })
}

/// Adds withdrawal to a workflow: from its start state (submitted, not yet accepted) and from
/// any paused correction before acceptance, the applicant may withdraw; the case then ends.
/// A definition that already has the action is left as it is.
pub fn with_withdrawal(mut def: WorkflowDefinition) -> WorkflowDefinition {
    if def.actions.iter().any(|a| a.key == WITHDRAW) {
        return def;
    }
    let from: Vec<String> = def
        .states
        .iter()
        .filter(|s| s.start || s.applicant_status == crate::bundle::WAITS_FOR_APPLICANT)
        .map(|s| s.key.clone())
        .collect();
    if from.is_empty() {
        return def;
    }
    def.states.push(StateDef {
        key: WITHDRAWN.to_string(),
        applicant_status: WITHDRAWN.to_string(),
        start: false,
        terminal: true,
        sla_working_days: None,
        clock: crate::workflow::ClockMode::Running,
    });
    for s in from {
        def.actions.push(ActionDef {
            key: WITHDRAW.to_string(),
            from_state: s,
            to_state: WITHDRAWN.to_string(),
            roles: vec![CaseRole::Applicant],
            requires_opinion: false,
            max_times: None,
        });
    }
    def
}

/// The query code of a case from a keyed digest of its number (hex, as the key ring's blind
/// index gives it): `QUERY_CODE_DIGITS` decimal digits. Nothing is stored: the same key gives
/// the same code, so the case page and the message can show it again, and a lookup
/// recomputes it.
pub fn query_code_from_digest(hex: &str) -> String {
    let mut out = String::with_capacity(QUERY_CODE_DIGITS);
    for pair in hex.as_bytes().chunks(2).take(QUERY_CODE_DIGITS) {
        let byte = std::str::from_utf8(pair)
            .ok()
            .and_then(|p| u8::from_str_radix(p, 16).ok())
            .unwrap_or_default();
        out.push(char::from(b'0' + byte % 10));
    }
    while out.len() < QUERY_CODE_DIGITS {
        out.push('0');
    }
    out
}

/// A typed query code: digits only, spaces and hyphens dropped (people read it out in groups).
pub fn normalise_query_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .take(QUERY_CODE_DIGITS + 1)
        .collect();
    (code.len() == QUERY_CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// Equality that takes the same time wherever the strings differ.
pub fn same_code(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_number_is_date_and_sequence() {
        let n = CaseNumber::parse("11120112MB1W167324000123001001-20261208-000042").unwrap();
        assert_eq!(short_number(&n), "20261208-000042");
    }

    #[test]
    fn the_subject_is_the_business_named_in_the_answers() {
        let p = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            subject(&[p("phone", "1"), p("business_name", " 津南区小李面馆 ")]).as_deref(),
            Some("津南区小李面馆")
        );
        assert_eq!(
            subject(&[p("trade_name", "小李面馆")]).as_deref(),
            Some("小李面馆")
        );
        assert_eq!(
            subject(&[p("business_name", "  "), p("name", "赵明")]),
            None
        );
    }

    #[test]
    fn withdrawal_is_possible_before_acceptance_only() {
        use crate::workflow::{CaseState, apply, available_actions, builtin};
        let def = with_withdrawal(builtin::promised());
        assert_eq!(with_withdrawal(def.clone()), def);
        crate::workflow::validate(&def).unwrap();
        let start = CaseState::start(&def).unwrap();
        assert!(
            available_actions(&def, &start, CaseRole::Applicant).contains(&WITHDRAW.to_string())
        );
        let out = apply(&def, &start, WITHDRAW, CaseRole::Applicant, None).unwrap();
        assert_eq!(out.case.state, WITHDRAWN);
        assert!(def.state(WITHDRAWN).unwrap().terminal);
        // After acceptance there is no withdrawal, and a clerk can never withdraw.
        let accepted = apply(&def, &start, "accept", CaseRole::Clerk, None).unwrap();
        assert!(apply(&def, &accepted.case, WITHDRAW, CaseRole::Applicant, None).is_err());
        assert!(
            !available_actions(&def, &accepted.case, CaseRole::Applicant)
                .contains(&WITHDRAW.to_string())
        );
        assert!(apply(&def, &start, WITHDRAW, CaseRole::Clerk, None).is_err());
    }

    #[test]
    fn query_codes_are_eight_digits_and_typed_ones_are_normalised() {
        let c = query_code_from_digest("ff00a17b9c2d3e4f5a6b");
        assert_eq!(c.len(), QUERY_CODE_DIGITS);
        assert!(c.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(c, query_code_from_digest("ff00a17b9c2d3e4f5a6b"));
        assert_ne!(c, query_code_from_digest("00ff17a19c2d3e4f5a6b"));
        assert_eq!(
            normalise_query_code("1234 5678").as_deref(),
            Some("12345678")
        );
        assert_eq!(normalise_query_code("1234-567"), None);
        assert_eq!(normalise_query_code("1234567a"), None);
        assert!(same_code("12345678", "12345678"));
        assert!(!same_code("12345678", "12345679"));
    }
}
