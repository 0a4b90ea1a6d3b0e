//! The official calendar in the database on every backend: import, idempotent re-import,
//! corrections of a day, the audit entry, and a `Calendar` loaded back from the store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_domain::calendar::{CalendarDay, CivilDate, DayKind};
use yiwang_store::{Actor, AuditFilter};
use yiwang_testkit::backends;

fn d(s: &str) -> CivilDate {
    CivilDate::parse(s).unwrap()
}

#[tokio::test]
async fn calendar_round_trip_on_every_backend() {
    for db in backends().await {
        let store = &db.store;
        let actor = Actor::system("test");
        let b = db.backend.name();
        // An empty database gives the weekends-only calendar.
        assert!(store.calendar().await.unwrap().covered_years().is_empty());

        let s = yiwang_app::calendar::import_shipped_calendar(store, &actor, 1_000)
            .await
            .unwrap();
        assert_eq!((s.added, s.changed, s.unchanged), (771, 0, 0), "{b}");
        let again = yiwang_app::calendar::import_shipped_calendar(store, &actor, 2_000)
            .await
            .unwrap();
        assert_eq!(
            (again.added, again.changed, again.unchanged),
            (0, 0, 771),
            "{b}"
        );
        let audits = store
            .audit_entries(&AuditFilter {
                object_prefix: Some("calendar".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            audits.len(),
            1,
            "{b}: only the import that changed something"
        );
        assert_eq!(audits[0].event.action, "calendar.import");

        let days = store.calendar_days().await.unwrap();
        assert_eq!(days.len(), 771);
        assert_eq!(days[0].day, d("2004-01-01"));
        assert!(
            days.windows(2).all(|w| w[0].day < w[1].day),
            "{b}: date order"
        );
        let oct10 = days.iter().find(|x| x.day == d("2026-10-10")).unwrap();
        assert_eq!(oct10.kind, DayKind::AdjustedWorkday);
        assert_eq!(oct10.name, "National Day");

        let cal = store.calendar().await.unwrap();
        assert_eq!(
            cal.covered_years(),
            (2004..=2026).collect::<Vec<_>>(),
            "{b}"
        );
        assert_eq!(
            cal.add_working_days(d("2026-09-28"), 5),
            d("2026-10-10"),
            "{b}"
        );

        // A new year and a corrected day in one file: added and changed are told apart.
        let next = vec![
            CalendarDay {
                day: d("2027-01-01"),
                kind: DayKind::Holiday,
                name: "New Year's Day".into(),
            },
            CalendarDay {
                day: d("2026-10-10"),
                kind: DayKind::Holiday,
                name: "Test".into(),
            },
        ];
        let s = store
            .upsert_calendar_days(&next, "test.csv", &actor, 3_000)
            .await
            .unwrap();
        assert_eq!((s.added, s.changed, s.unchanged), (1, 1, 0), "{b}");
        let cal = store.calendar().await.unwrap();
        assert!(cal.covered_years().contains(&2027));
        assert!(!cal.is_working_day(d("2027-01-01")), "{b}");
        assert!(!cal.is_working_day(d("2026-10-10")), "{b}");
        assert_eq!(store.calendar_days().await.unwrap().len(), 772);

        // Bad rows are refused whole.
        let bad = vec![CalendarDay {
            day: d("2027-01-02"),
            kind: DayKind::Holiday,
            name: "  ".into(),
        }];
        assert!(
            store
                .upsert_calendar_days(&bad, "bad.csv", &actor, 4_000)
                .await
                .is_err()
        );
        assert_eq!(store.calendar_days().await.unwrap().len(), 772, "{b}");
    }
}
