//! Property tests of application forms: validation never panics on any posted input, and
//! typed answers survive the trip to raw pairs and JSON unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use yiwang_domain::codes::ResidentId;
use yiwang_domain::forms::*;

const FOOD: &str = include_str!("../../../yiwang-app/demo/forms/food_business_licence.json");
const INDIVIDUAL: &str = include_str!("../../../yiwang-app/demo/forms/individual_business.json");

fn names() -> Vec<&'static str> {
    vec![
        "business_name",
        "credit_code",
        "legal_rep",
        "legal_rep_id",
        "phone",
        "address.region",
        "address.detail",
        "business_types",
        "area",
        "online",
        "website",
        "start_date",
        "remarks",
        "managers[0].name",
        "managers[0].id_number",
        "managers[0].phone",
        "managers[1].name",
        "managers[1].phone",
        "managers[3]._row",
        "managers[4].id_number",
        "_add",
        "_remove",
        "_action",
        "form",
        "family_members[0].name",
        "family_members[1].id_number",
        "operator_id",
        "scope",
        "capital",
        "employees",
    ]
}

fn values() -> impl Strategy<Value = String> {
    let id = ResidentId::with_check_char("12011219800101123")
        .unwrap()
        .reveal()
        .to_string();
    prop_oneof![
        Just(String::new()),
        Just("yes".to_string()),
        Just("no".to_string()),
        Just("hot_food".to_string()),
        Just("bulk".to_string()),
        Just("family".to_string()),
        Just("120112100000".to_string()),
        Just("91120112MA05T8XK4U".to_string()),
        Just("13800138000".to_string()),
        Just("2025-03-01".to_string()),
        Just("managers".to_string()),
        Just("managers[0]".to_string()),
        Just(id),
        "-?[0-9]{1,8}(\\.[0-9]{0,3})?",
        "\\PC{0,40}",
        any::<String>(),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(names()).prop_map(str::to_string),
        1 => "[a-z_\\[\\]0-9.]{0,24}",
        1 => any::<String>(),
    ]
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((name(), values()), 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn validation_never_panics(p in pairs()) {
        for json in [FOOD, INDIVIDUAL] {
            let def = load(json).unwrap();
            let Ok(mut raw) = RawAnswers::from_pairs(&def, p.clone()) else { continue };
            let _ = raw.apply_row_action(&def);
            for mode in [Mode::Draft, Mode::Submit] {
                match validate(&def, &raw, mode) {
                    Ok(a) => {
                        let _ = summary(&def, &a);
                    }
                    Err(errs) => prop_assert!(!errs.is_empty()),
                }
            }
        }
    }

    #[test]
    fn answers_round_trip_losslessly(p in pairs()) {
        for json in [FOOD, INDIVIDUAL] {
            let def = load(json).unwrap();
            let Ok(raw) = RawAnswers::from_pairs(&def, p.clone()) else { continue };
            for mode in [Mode::Draft, Mode::Submit] {
                let Ok(a) = validate(&def, &raw, mode) else { continue };
                // Answers → raw → answers.
                let back = validate(&def, &RawAnswers::from_answers(&def, &a), mode);
                prop_assert_eq!(back.as_ref(), Ok(&a));
                // Answers → JSON → answers.
                let j = Answers::from_json(&a.to_json());
                prop_assert_eq!(j.as_ref(), Ok(&a));
                // Raw → pairs → raw gives the same answers (drafts kept as pairs).
                let again = RawAnswers::from_pairs(&def, raw.to_pairs()).unwrap();
                let v = validate(&def, &again, mode);
                prop_assert_eq!(v.as_ref(), Ok(&a));
            }
        }
    }

    #[test]
    fn loading_any_text_never_panics(s in any::<String>(), cut in 0usize..4000) {
        let _ = load(&s);
        let cut = (0..=cut.min(FOOD.len())).rev().find(|i| FOOD.is_char_boundary(*i)).unwrap_or(0);
        let _ = load(&FOOD[..cut]);
    }
}

/// A resident ID with a valid birth date and check digit.
fn resident_id() -> impl Strategy<Value = String> {
    (1950u32..2005, 1u32..13, 1u32..29, 0u32..1000).prop_map(|(y, m, d, seq)| {
        let first17 = format!("120112{y:04}{m:02}{d:02}{seq:03}");
        ResidentId::with_check_char(&first17)
            .unwrap()
            .reveal()
            .to_string()
    })
}

fn valid_food() -> impl Strategy<Value = Vec<(String, String)>> {
    let manager = ("[\\p{Han}]{2,4}", resident_id(), "1[3-9][0-9]{9}");
    (
        "[\\p{Han}a-zA-Z0-9][\\p{Han}a-zA-Z0-9 ]{0,28}[\\p{Han}a-zA-Z0-9]",
        resident_id(),
        "1[3-9][0-9]{9}",
        prop_oneof![Just("120112100000"), Just("120112101000")],
        "[\\p{Han}0-9][\\p{Han}0-9 ]{0,40}",
        proptest::sample::subsequence(vec!["prepackaged", "bulk", "hot_food", "drinks"], 1..4),
        "[1-9][0-9]{0,4}(\\.[0-9]{1,2})?",
        proptest::option::of("[a-z]{3,12}\\.cn"),
        proptest::collection::vec(manager, 1..5),
        proptest::option::of("\\PC{0,200}"),
    )
        .prop_map(
            |(name, rep_id, phone, region, detail, types, area, website, managers, remarks)| {
                let mut p: Vec<(String, String)> = vec![
                    ("business_name".into(), name),
                    ("credit_code".into(), "91120112MA05T8XK4U".into()),
                    ("legal_rep".into(), "王小明".into()),
                    ("legal_rep_id".into(), rep_id),
                    ("phone".into(), phone),
                    ("address.region".into(), region.into()),
                    ("address.detail".into(), detail),
                    ("area".into(), area),
                    (
                        "online".into(),
                        if website.is_some() { "yes" } else { "no" }.into(),
                    ),
                ];
                for t in types {
                    p.push(("business_types".into(), t.into()));
                }
                if let Some(w) = website {
                    p.push(("website".into(), w));
                }
                if let Some(r) = remarks {
                    p.push(("remarks".into(), r));
                }
                for (i, (n, id, ph)) in managers.into_iter().enumerate() {
                    p.push((format!("managers[{i}].name"), n));
                    p.push((format!("managers[{i}].id_number"), id));
                    p.push((format!("managers[{i}].phone"), ph));
                }
                p
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn valid_submissions_validate_and_round_trip(p in valid_food()) {
        let def = load(FOOD).unwrap();
        let raw = RawAnswers::from_pairs(&def, p).unwrap();
        let a = validate(&def, &raw, Mode::Submit);
        prop_assert!(a.is_ok(), "{:?}", a);
        let a = a.unwrap();
        let back = validate(&def, &RawAnswers::from_answers(&def, &a), Mode::Submit);
        prop_assert_eq!(back.as_ref(), Ok(&a));
        let j = Answers::from_json(&a.to_json());
        prop_assert_eq!(j.as_ref(), Ok(&a));
        let rows = summary(&def, &a).iter().map(|s| s.rows.len()).sum::<usize>();
        prop_assert!(rows >= 12);
    }
}
