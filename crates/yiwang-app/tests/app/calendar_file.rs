//! Parsing the calendar file: the shipped data is clean, every problem of a bad file is
//! reported by row, and the working calendar falls back to the shipped data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_app::calendar::{SHIPPED_CALENDAR, parse_calendar_csv, working_calendar};
use yiwang_domain::ErrorCode;
use yiwang_domain::calendar::{CivilDate, DayKind};

#[test]
fn shipped_data_parses_cleanly() {
    let days = parse_calendar_csv(SHIPPED_CALENDAR).unwrap();
    assert_eq!(days.len(), 771);
    let holidays = days.iter().filter(|d| d.kind == DayKind::Holiday).count();
    assert_eq!(holidays, 621);
    // Every adjusted working day is on a weekend (the parser checks it too).
    assert!(
        days.iter()
            .filter(|d| d.kind == DayKind::AdjustedWorkday)
            .all(|d| d.day.is_weekend())
    );
}

#[test]
fn columns_by_name_with_a_bom() {
    let text = "\u{feff}kind,festival,date\r\nholiday,Spring Festival,2027-02-06\r\n\r\n";
    let days = parse_calendar_csv(text.as_bytes()).unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].day, CivilDate::parse("2027-02-06").unwrap());
    assert_eq!(days[0].name, "Spring Festival");
}

#[test]
fn every_problem_is_reported_by_row() {
    let text = "date,kind,festival\n\
                2027-02-30,holiday,X\n\
                2027-02-06,rest,X\n\
                2027-02-08,adjusted_workday,X\n\
                2027-02-07,holiday,\n\
                2027-02-07,holiday,Y\n";
    let issues = parse_calendar_csv(text.as_bytes()).unwrap_err();
    let got: Vec<(Option<u64>, ErrorCode)> = issues.iter().map(|i| (i.row, i.code)).collect();
    assert_eq!(
        got,
        vec![
            (Some(2), ErrorCode::InvalidInput),
            (Some(3), ErrorCode::UnknownEnumValue),
            (Some(4), ErrorCode::InvalidInput), // a Monday cannot be an adjusted working day
            (Some(5), ErrorCode::Required),
            (Some(6), ErrorCode::Conflict),
        ]
    );
    let missing = parse_calendar_csv(b"date,type,festival\n").unwrap_err();
    assert_eq!(missing[0].code, ErrorCode::MissingColumn);
    assert_eq!(missing[0].field.as_deref(), Some("kind"));
    assert_eq!(
        parse_calendar_csv(b"date,kind,festival\n2027-01-01,holiday,\xff\n").unwrap_err()[0].code,
        ErrorCode::InvalidUtf8
    );
}

#[tokio::test]
async fn an_empty_database_uses_the_shipped_calendar() {
    for db in yiwang_testkit::backends().await {
        let cal = working_calendar(&db.store).await.unwrap();
        assert_eq!(
            cal.covered_years().first(),
            Some(&2004),
            "{}",
            db.backend.name()
        );
        assert!(!cal.is_working_day(CivilDate::parse("2026-10-01").unwrap()));
    }
}
