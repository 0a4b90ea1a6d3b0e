//! The official calendar on the shipped data: real holiday blocks, pauses, warning colours, and
//! properties of working-day arithmetic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use std::sync::OnceLock;
use yiwang_domain::calendar::{
    CHINA_OFFSET_SECS, Calendar, CivilDate, DayKind, DeadlineState, Pause,
};
use yiwang_domain::catalog::TimeLimit;
use yiwang_domain::enums::TimeUnit;

fn d(s: &str) -> CivilDate {
    CivilDate::parse(s).unwrap()
}

/// The data file shipped with the app crate (date,kind,festival; no quoting).
fn official() -> &'static Calendar {
    static CAL: OnceLock<Calendar> = OnceLock::new();
    CAL.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../yiwang-app/data/calendar/cn-holidays.csv"
        );
        let text = std::fs::read_to_string(path).unwrap();
        Calendar::new(text.lines().skip(1).map(|l| {
            let mut f = l.split(',');
            let day = d(f.next().unwrap());
            let kind = DayKind::from_key(f.next().unwrap()).unwrap();
            (day, kind)
        }))
    })
}

fn wd(n: u32) -> TimeLimit {
    TimeLimit {
        amount: n,
        unit: TimeUnit::WorkingDays,
    }
}

#[test]
fn dates_parse_print_and_know_their_weekday() {
    assert_eq!(d("1970-01-01").days_since_epoch(), 0);
    assert_eq!(d("1970-01-01").weekday(), 4); // Thursday
    assert_eq!(d("2026-09-28").weekday(), 1); // Monday
    assert_eq!(d("2026-10-10").weekday(), 6); // Saturday
    assert_eq!(d("2026-09-20").weekday(), 7); // Sunday
    assert_eq!(d("2024-02-29").to_string(), "2024-02-29");
    for bad in [
        "2023-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-1-1",
        "20260101",
        "2026-01-01x",
        "abcd-ef-gh",
        "1899-12-31",
        "",
    ] {
        assert!(CivilDate::parse(bad).is_err(), "{bad} accepted");
    }
    // 2026-09-27 16:00 UTC is already 2026-09-28 in Beijing.
    let ms = 1_790_553_600_000 - 8 * 3_600_000;
    assert_eq!(
        CivilDate::from_unix_ms(ms, CHINA_OFFSET_SECS).to_string(),
        "2026-09-28"
    );
    assert_eq!(CivilDate::from_unix_ms(ms - 1, 0).to_string(), "2026-09-27");
}

#[test]
fn five_working_days_across_national_day_2026() {
    let cal = official();
    // Day 0 = Mon 09-28; 09-29, 09-30, (10-01..10-07 holiday), 10-08, 10-09, Sat 10-10 (调休上班).
    assert_eq!(cal.add_working_days(d("2026-09-28"), 5), d("2026-10-10"));
    assert_eq!(
        cal.due_date(d("2026-09-28"), wd(5), &[]).unwrap(),
        d("2026-10-10")
    );
    assert!(cal.is_working_day(d("2026-10-10")));
    assert!(!cal.is_working_day(d("2026-10-05")));
    // The adjusted Sunday before it: Fri 09-18 + 1 working day = Sun 09-20.
    assert_eq!(cal.add_working_days(d("2026-09-18"), 1), d("2026-09-20"));
    // Mid-autumn Friday 09-25 is a holiday.
    assert_eq!(cal.add_working_days(d("2026-09-24"), 1), d("2026-09-28"));
    assert_eq!(
        cal.working_days_between(d("2026-09-28"), d("2026-10-10")),
        5
    );
}

#[test]
fn spring_festival_2026() {
    let cal = official();
    // Sat 02-14 is a working day, 02-15..02-23 the holiday, Sat 02-28 a working day again.
    assert_eq!(cal.add_working_days(d("2026-02-13"), 1), d("2026-02-14"));
    assert_eq!(cal.add_working_days(d("2026-02-14"), 1), d("2026-02-24"));
    assert_eq!(cal.add_working_days(d("2026-02-14"), 5), d("2026-02-28"));
    assert_eq!(
        cal.working_days_between(d("2026-02-13"), d("2026-03-02")),
        7
    );
    assert_eq!(
        cal.working_days_between(d("2026-03-02"), d("2026-02-13")),
        -7
    );
    // Twenty working days from 2026-02-10: 02-11..13, 02-14, 02-24..27, 02-28, 03-02..06,
    // 03-09..13, 03-16 → the 20th is Mon 03-16.
    assert_eq!(cal.add_working_days(d("2026-02-10"), 20), d("2026-03-16"));
}

#[test]
fn natural_days_end_on_a_working_day() {
    let cal = official();
    let limit = TimeLimit {
        amount: 7,
        unit: TimeUnit::NaturalDays,
    };
    assert_eq!(cal.add_natural_days(d("2026-09-24"), 7), d("2026-10-01"));
    // 10-01 is National Day: the limit ends on the first working day after the holiday.
    assert_eq!(
        cal.due_date(d("2026-09-24"), limit, &[]).unwrap(),
        d("2026-10-08")
    );
    assert_eq!(
        cal.due_date(d("2026-03-02"), limit, &[]).unwrap(),
        d("2026-03-09")
    );
}

#[test]
fn years_without_data_fall_back_to_weekends() {
    let cal = official();
    assert_eq!(cal.covered_years(), (2004..=2026).collect::<Vec<_>>());
    assert!(cal.covers(d("2026-12-01"), d("2004-01-01")));
    assert!(!cal.covers(d("2026-12-01"), d("2027-01-10")));
    // 2027-01-01 is a Friday; without 2027 data it is a working day.
    assert!(cal.is_working_day(d("2027-01-01")));
    assert!(!cal.is_working_day(d("2027-01-02")));
    assert_eq!(cal.add_working_days(d("2026-12-31"), 2), d("2027-01-04"));
    let none = Calendar::weekends_only();
    assert!(none.covered_years().is_empty());
    assert!(none.is_working_day(d("2026-10-01")));
    assert_eq!(none.add_working_days(d("2026-09-28"), 5), d("2026-10-05"));
}

#[test]
fn non_counting_pauses_extend_the_due_date() {
    let cal = official();
    let accepted = d("2026-03-02"); // Monday; 10 working days → Mon 03-16.
    assert_eq!(
        cal.due_date(accepted, wd(10), &[]).unwrap(),
        d("2026-03-16")
    );
    // 补正: notice on Wed 03-04, resubmitted Mon 03-09 → paused 03-05, 03-06, 03-09 (3 wd).
    let correction = Pause {
        from: d("2026-03-04"),
        to: d("2026-03-09"),
        counts_toward_limit: false,
    };
    assert_eq!(
        cal.due_date(accepted, wd(10), &[correction]).unwrap(),
        d("2026-03-19")
    );
    // A special procedure that counts toward the limit changes nothing.
    let counting = Pause {
        counts_toward_limit: true,
        ..correction
    };
    assert_eq!(
        cal.due_date(accepted, wd(10), &[counting]).unwrap(),
        d("2026-03-16")
    );
    // Overlapping non-counting pauses are not counted twice: 专家评审 03-06..03-10 adds 03-10.
    let review = Pause {
        from: d("2026-03-06"),
        to: d("2026-03-10"),
        counts_toward_limit: false,
    };
    assert_eq!(
        cal.due_date(accepted, wd(10), &[correction, review])
            .unwrap(),
        d("2026-03-20")
    );
    // A pause running past the original due date: counting resumes after it.
    let long = Pause {
        from: d("2026-03-12"), // 8 working days used
        to: d("2026-04-01"),
        counts_toward_limit: false,
    };
    assert_eq!(
        cal.due_date(accepted, wd(10), &[long]).unwrap(),
        d("2026-04-03")
    );
    // Pause across the Tomb-sweeping holiday, in natural days.
    let nat = TimeLimit {
        amount: 10,
        unit: TimeUnit::NaturalDays,
    };
    let p = Pause {
        from: d("2026-03-25"),
        to: d("2026-03-30"),
        counts_toward_limit: false,
    };
    // 03-24 + 10 natural = 04-03; +5 paused = 04-08.
    assert_eq!(
        cal.due_date(d("2026-03-24"), nat, &[p]).unwrap(),
        d("2026-04-08")
    );
    // A pause that ends before it starts is an error.
    let bad = Pause {
        from: d("2026-03-10"),
        to: d("2026-03-09"),
        counts_toward_limit: false,
    };
    assert!(cal.due_date(accepted, wd(10), &[bad]).is_err());
}

#[test]
fn yellow_and_red_boundaries() {
    let cal = official();
    let due = d("2026-10-10"); // Saturday, adjusted working day.
    assert_eq!(
        cal.deadline_state(d("2026-09-28"), due),
        DeadlineState::Normal
    );
    // 09-30: left 10-08, 10-09, 10-10 = 3 → still normal, across the holiday.
    assert_eq!(
        cal.deadline_state(d("2026-09-30"), due),
        DeadlineState::Normal
    );
    // During the holiday: left 10-08, 10-09, 10-10 = 3.
    assert_eq!(
        cal.deadline_state(d("2026-10-07"), due),
        DeadlineState::Normal
    );
    assert_eq!(
        cal.deadline_state(d("2026-10-08"), due),
        DeadlineState::Yellow
    );
    assert_eq!(cal.working_days_left(d("2026-10-08"), due), 2);
    assert_eq!(
        cal.deadline_state(d("2026-10-09"), due),
        DeadlineState::Yellow
    );
    assert_eq!(cal.deadline_state(due, due), DeadlineState::Yellow);
    assert_eq!(cal.deadline_state(d("2026-10-11"), due), DeadlineState::Red);
    assert_eq!(DeadlineState::Red.key(), "red");
}

fn any_date() -> impl Strategy<Value = CivilDate> {
    let lo = d("2004-01-01").days_since_epoch();
    let hi = d("2026-12-31").days_since_epoch();
    (lo..=hi).prop_map(CivilDate::from_days_since_epoch)
}

proptest! {
    #[test]
    fn dates_round_trip(days in -25_000i32..2_900_000) {
        let date = CivilDate::from_days_since_epoch(days);
        prop_assert_eq!(CivilDate::parse(&date.to_string()).unwrap(), date);
    }

    #[test]
    fn working_day_arithmetic(a in any_date(), n in 0u32..400) {
        let cal = official();
        let end = cal.add_working_days(a, n);
        if n > 0 {
            prop_assert!(cal.is_working_day(end));
            prop_assert!(end > a);
        } else {
            prop_assert_eq!(end, a);
        }
        prop_assert_eq!(cal.working_days_between(a, end), i64::from(n));
        prop_assert!(cal.add_working_days(a, n + 1) > end);
        prop_assert_eq!(cal.due_date(a, wd(n), &[]).unwrap(), end);
    }

    #[test]
    fn later_start_never_gives_an_earlier_due_date(a in any_date(), gap in 0i64..30, n in 0u32..60) {
        let cal = official();
        let b = a.add_days(gap);
        prop_assert!(cal.add_working_days(a, n) <= cal.add_working_days(b, n));
    }

    #[test]
    fn a_pause_adds_exactly_its_working_days(a in any_date(), n in 1u32..40, s in 0i64..20, len in 0i64..20) {
        let cal = official();
        let from = a.add_days(s);
        let to = from.add_days(len);
        let p = Pause { from, to, counts_toward_limit: false };
        let due = cal.due_date(a, wd(n), &[p]).unwrap();
        prop_assert!(due >= cal.add_working_days(a, n));
        prop_assert!(cal.is_working_day(due));
        if due > to {
            let paused = cal.working_days_between(from, to);
            prop_assert_eq!(due, cal.add_working_days(a, n + paused as u32));
        }
    }
}
