//! Registers (基础库) on every backend: a department's data administrator imports a register
//! file; a bad file is refused whole with every problem by row and field and nothing written; a
//! clean file is upserted in one transaction; lookups need the ID (or credit code) AND the exact
//! name, are encrypted at rest and audited whatever their result.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use yiwang_app::registers::{DEMO_REGISTERS, RegisterImportError, import_csv, load_demo_registers};
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::ApplicantId;
use yiwang_domain::codes::ResidentId;
use yiwang_domain::registers::{LicenceStatus, Match, RegisterKind};
use yiwang_domain::{CreditCode, ErrorCode};
use yiwang_store::{Actor, AuditFilter, Store};
use yiwang_testkit::{DEMO_NOW_MS, backends, with_test_keys};

const ZHAO: &str = "12011219800101002X";
const NOODLES: &str = "91350100M000100Y43";

fn admin() -> Actor {
    Actor::system("register-admin")
}

async fn count(store: &Store, table: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {table}"
    )))
    .fetch_one(store.pool())
    .await
    .unwrap()
    .try_get::<i64, _>("n")
    .unwrap()
}

fn register_entries() -> AuditFilter {
    AuditFilter {
        object_prefix: Some("register:".into()),
        limit: 1000,
        ..Default::default()
    }
}

async fn lookups(store: &Store) -> Vec<String> {
    store
        .audit_entries(&register_entries())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action == "register.lookup")
        .map(|e| e.event.detail)
        .collect()
}

#[tokio::test]
async fn the_demo_registers_load_and_the_demo_applicant_is_found_only_with_her_name() {
    for db in backends().await {
        let b = db.backend.name();
        let store = with_test_keys(db.store.clone());
        assert!(
            load_demo_registers(&store, DEMO_NOW_MS).await.unwrap(),
            "{b}"
        );
        // Loading again changes nothing (the demo start runs it on every boot).
        load_demo_registers(&store, DEMO_NOW_MS).await.unwrap();
        for (kind, _) in DEMO_REGISTERS {
            assert_eq!(store.register_imports(kind).await.unwrap().len(), 1, "{b}");
        }
        let id = ResidentId::parse(ZHAO).unwrap();
        let who = Actor::system("test");
        let m = store
            .find_person(&id, "赵明", &who, "食品经营许可", DEMO_NOW_MS)
            .await
            .unwrap();
        let Match::One(p) = m else {
            panic!("{b}: no unique match: {m:?}")
        };
        assert_eq!(p.birth_date, CivilDate::from_ymd(1980, 1, 1).unwrap());
        assert_eq!(p.region.as_str(), "120112100000");
        // The same number with another name, or a name with another number: no match.
        for (id, name) in [
            (id.clone(), "赵敏"),
            (ResidentId::parse("120112199002020021").unwrap(), "赵明"),
        ] {
            let m = store
                .find_person(&id, name, &who, "食品经营许可", DEMO_NOW_MS)
                .await
                .unwrap();
            assert_eq!(m, Match::None, "{b}");
        }
        // Every lookup is audited with its purpose and result, hits and misses alike.
        let seen = lookups(&store).await;
        assert_eq!(seen.len(), 3, "{b}: {seen:?}");
        assert_eq!(
            seen.iter().filter(|d| d.contains("match=none")).count(),
            2,
            "{b}"
        );
        assert!(seen.iter().all(|d| d.contains("purpose=食品经营许可")));
        assert!(seen.iter().all(|d| !d.contains(ZHAO)), "{b}: ID in the log");

        let noodles = CreditCode::parse(NOODLES).unwrap();
        let e = store
            .find_entity(
                &noodles,
                "津南区小李面馆",
                &who,
                "食品经营许可",
                DEMO_NOW_MS,
            )
            .await
            .unwrap()
            .one()
            .expect("the noodle shop is registered");
        assert_eq!(e.legal_rep_name, "李强");
        assert_eq!(
            store
                .find_entity(&noodles, "小李面馆", &who, "食品经营许可", DEMO_NOW_MS)
                .await
                .unwrap(),
            Match::None,
            "{b}: a shortened name is not a match"
        );

        let today = CivilDate::from_unix_ms(DEMO_NOW_MS, 8 * 3600);
        let zhao = ApplicantId::parse(ZHAO).unwrap();
        let hers = store
            .licences_of(&zhao, &who, "食品经营许可", DEMO_NOW_MS)
            .await
            .unwrap();
        assert_eq!(hers.len(), 1, "{b}");
        assert_eq!(hers[0].licence_type, "健康证明");
        assert_eq!(hers[0].status_on(today), LicenceStatus::Valid);
        let shop = store
            .licences_of(&ApplicantId::Organisation(noodles), &who, "x", DEMO_NOW_MS)
            .await
            .unwrap();
        assert_eq!(shop.len(), 1, "{b}");
        assert_eq!(shop[0].licence_type, "营业执照");
        // 孙丽's health certificate ran out in 2024: the register still says 有效.
        let sun = ApplicantId::parse("120112197503120048").unwrap();
        let old = store
            .licences_of(&sun, &who, "x", DEMO_NOW_MS)
            .await
            .unwrap();
        assert_eq!(old[0].status, LicenceStatus::Valid);
        assert_eq!(old[0].status_on(today), LicenceStatus::Expired, "{b}");
    }
}

#[tokio::test]
async fn personal_data_in_a_register_is_encrypted_at_rest() {
    for db in backends().await {
        let b = db.backend.name();
        let store = with_test_keys(db.store.clone());
        load_demo_registers(&store, DEMO_NOW_MS).await.unwrap();
        use sqlx::Row;
        let rows = sqlx::query(
            "SELECT id_number_enc, name_enc, address_enc, birth_date_enc FROM register_people",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert_eq!(rows.len(), 6, "{b}");
        for r in &rows {
            for i in 0..4 {
                let v: String = r.try_get(i).unwrap();
                assert!(v.starts_with("sm4-gcm:"), "{b}: {v}");
                assert!(!v.contains("赵明") && !v.contains(ZHAO));
            }
        }
        // Without the keys the register cannot be read at all.
        let keyless = db.store.clone();
        let err = keyless
            .find_person(
                &ResidentId::parse(ZHAO).unwrap(),
                "赵明",
                &admin(),
                "x",
                DEMO_NOW_MS,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, yiwang_store::StoreError::NoKeys), "{b}");
    }
}

const HEADER: &str = "公民身份号码,姓名,性别,出生日期,户籍地址,户籍地行政区划代码,联系电话\n";

#[tokio::test]
async fn a_bad_file_is_refused_whole_with_every_problem_and_writes_nothing() {
    for db in backends().await {
        let b = db.backend.name();
        let store = with_test_keys(db.store.clone());
        // Row 2 is fine, row 3 has a wrong check digit, row 4 repeats row 2, row 5 lacks a name,
        // row 6 has a region code that is no code.
        let file = format!(
            "{HEADER}{ZHAO},赵明,女,1980-01-01,津南区红旗路1号,120112,\n\
             120112198506150037,李强,男,1985-06-15,津南区,120112,\n\
             {ZHAO},赵明,女,1980-01-01,津南区红旗路1号,120112,\n\
             120112199002020021,,女,1990-02-02,津南区,120112,\n\
             120112196811300054,周伟,男,1968-11-30,津南区,12011x,\n"
        );
        let err = import_csv(
            &store,
            RegisterKind::Population,
            file.as_bytes(),
            &admin(),
            1,
        )
        .await
        .unwrap_err();
        let RegisterImportError::Refused(issues) = err else {
            panic!("{b}: not refused: {err:?}")
        };
        let found: Vec<(u64, &str, ErrorCode)> = issues
            .iter()
            .map(|i| (i.row.unwrap(), i.field.as_deref().unwrap(), i.code))
            .collect();
        assert_eq!(
            found,
            vec![
                (3, "公民身份号码", ErrorCode::ResidentIdCheckFailed),
                (4, "公民身份号码", ErrorCode::DuplicateKey),
                (5, "姓名", ErrorCode::Required),
                (6, "户籍地行政区划代码", ErrorCode::InvalidRegionCode),
            ],
            "{b}"
        );
        assert_eq!(count(&store, "register_people").await, 0, "{b}");
        assert_eq!(count(&store, "register_imports").await, 0, "{b}");

        // An unknown column refuses the file before any row is read.
        let file = format!("{},备注\n", HEADER.trim_end());
        let err = import_csv(
            &store,
            RegisterKind::Population,
            file.as_bytes(),
            &admin(),
            1,
        )
        .await
        .unwrap_err();
        let RegisterImportError::Refused(issues) = err else {
            panic!("{b}: not refused")
        };
        assert_eq!(issues[0].code, ErrorCode::UnknownColumn);
        assert_eq!(issues[0].field.as_deref(), Some("备注"));
    }
}

#[tokio::test]
async fn a_second_import_updates_in_place_and_records_each_run() {
    for db in backends().await {
        let b = db.backend.name();
        let store = with_test_keys(db.store.clone());
        let first = format!("{HEADER}{ZHAO},赵明,女,1980-01-01,津南区红旗路1号,120112,\n");
        let run = import_csv(
            &store,
            RegisterKind::Population,
            first.as_bytes(),
            &admin(),
            10,
        )
        .await
        .unwrap();
        assert_eq!(run.rows, 1);
        // She moved to 小站镇 and gave a phone number; a new person arrives too.
        let second = format!(
            "{HEADER}{ZHAO},赵明,女,1980-01-01,津南区小站镇会馆村1号,120112102,13900000000\n\
             120112198506150036,李强,男,1985-06-15,津南区,120112,\n"
        );
        import_csv(
            &store,
            RegisterKind::Population,
            second.as_bytes(),
            &admin(),
            20,
        )
        .await
        .unwrap();
        assert_eq!(count(&store, "register_people").await, 2, "{b}");
        let runs = store
            .register_imports(RegisterKind::Population)
            .await
            .unwrap();
        assert_eq!(
            runs.iter().map(|r| (r.rows, r.at_ms)).collect::<Vec<_>>(),
            vec![(2, 20), (1, 10)],
            "{b}"
        );
        assert!(runs.iter().all(|r| r.actor == "system"));
        let p = store
            .find_person(&ResidentId::parse(ZHAO).unwrap(), "赵明", &admin(), "x", 30)
            .await
            .unwrap()
            .one()
            .unwrap();
        assert_eq!(p.region.as_str(), "120112102000", "{b}");
        assert_eq!(p.address, "津南区小站镇会馆村1号");
        assert_eq!(
            p.phone.map(|x| x.reveal().to_string()).as_deref(),
            Some("13900000000")
        );
        // Each import is an audit entry naming the register and the row count.
        let imports: Vec<String> = store
            .audit_entries(&register_entries())
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event.action == "register.import")
            .map(|e| format!("{} {}", e.event.object, e.event.detail))
            .collect();
        assert_eq!(imports.len(), 2, "{b}");
        assert!(
            imports
                .iter()
                .any(|d| d.contains("register:population") && d.contains("rows=2"))
        );
    }
}

#[tokio::test]
async fn the_population_register_verifies_an_identity_only_with_name_number_and_phone() {
    use yiwang_app::identity::{Verdict, verify_online};
    use yiwang_app::registers::RegisterVerifier;
    use yiwang_domain::codes::Phone;
    use yiwang_store::applicants::NewApplicant;
    for db in backends().await {
        let b = db.backend.name();
        let store = with_test_keys(db.store.clone());
        load_demo_registers(&store, DEMO_NOW_MS).await.unwrap();
        let clock = std::sync::Arc::new(yiwang_app::FixedClock::new(DEMO_NOW_MS));
        let verifier = RegisterVerifier::new(store.clone(), clock);
        let register = |id: &str, name: &str, phone: &str| NewApplicant {
            id: ApplicantId::parse(id).unwrap(),
            display_name: name.into(),
            legal_rep: None,
            phone: Phone::parse(phone).unwrap(),
            password: "Shenqing-2026!".into(),
        };
        // 赵明 signs up with the phone the register holds: confirmed by the register.
        let zhao = store
            .register_applicant(&register(ZHAO, "赵明", "13900000000"), "t", DEMO_NOW_MS)
            .await
            .unwrap();
        let v = verify_online(&store, &verifier, &zhao, "t", DEMO_NOW_MS)
            .await
            .unwrap();
        assert!(matches!(v, Verdict::Confirmed { .. }), "{b}: {v:?}");
        assert!(store.identity_verified(zhao.id).await.unwrap(), "{b}");
        use sqlx::Row;
        let source: String =
            sqlx::query("SELECT source FROM identity_verifications WHERE applicant_id = $1")
                .bind(zhao.id)
                .fetch_one(store.pool())
                .await
                .unwrap()
                .try_get("source")
                .unwrap();
        assert_eq!(source, "register", "{b}");
        // 孙丽's number with another phone, and 李强's number under another name: not verified.
        for (id, name, phone) in [
            ("120112197503120048", "孙丽", "13700000000"),
            ("120112198506150036", "李刚", "13900000001"),
        ] {
            let a = store
                .register_applicant(&register(id, name, phone), "t", DEMO_NOW_MS)
                .await
                .unwrap();
            let v = verify_online(&store, &verifier, &a, "t", DEMO_NOW_MS)
                .await
                .unwrap();
            assert_eq!(v, Verdict::Mismatch, "{b}: {name}");
            assert!(!store.identity_verified(a.id).await.unwrap(), "{b}");
        }
    }
}

#[tokio::test]
async fn key_rotation_reaches_the_registers_and_they_stay_readable() {
    use std::sync::Arc;
    use yiwang_crypto::{Alg, KeyFile, KeySource};
    for db in backends().await {
        let b = db.backend.name();
        let mut file = KeyFile::generate(Alg::Sm4Gcm);
        let ring = |f: &KeyFile| Arc::new(f.ring(KeySource::Inline).unwrap());
        let old = db.store.clone().with_keys(ring(&file));
        load_demo_registers(&old, DEMO_NOW_MS).await.unwrap();
        assert_eq!(file.add_data_key(Alg::Sm4Gcm), "k2");
        let both = db.store.clone().with_keys(ring(&file));
        let sum = both.rotate_pii(50).await.unwrap();
        let register_values: u64 = sum
            .columns
            .iter()
            .filter(|c| c.column.starts_with("register_"))
            .map(|c| c.reencrypted)
            .sum();
        // 6 people × 4 fields + 4 phones, 3 entities × 2, 7 licences × 2.
        assert_eq!(register_values, 6 * 4 + 4 + 3 * 2 + 7 * 2, "{b}");
        file.data_keys.remove(0);
        let new_only = db.store.clone().with_keys(ring(&file));
        let p = new_only
            .find_person(&ResidentId::parse(ZHAO).unwrap(), "赵明", &admin(), "x", 1)
            .await
            .unwrap()
            .one()
            .expect("still found after rotation");
        assert_eq!(p.phone.unwrap().reveal(), "13900000000", "{b}");
        let noodles = ApplicantId::parse(NOODLES).unwrap();
        let lic = new_only
            .licences_of(&noodles, &admin(), "x", 1)
            .await
            .unwrap();
        assert_eq!(lic.len(), 1, "{b}");
    }
}

/// Makes the database refuse the entity `code` (a disk or constraint failure half-way through).
async fn refuse_entity(db: &yiwang_testkit::TestDb, code: &str) {
    let statements: Vec<String> = match db.backend.name() {
        "sqlite" => vec![format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON register_entities \
             WHEN NEW.credit_code = '{code}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )],
        _ => vec![
            format!(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
                 IF NEW.credit_code = '{code}' THEN RAISE EXCEPTION 'refused'; END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            "CREATE TRIGGER refuse BEFORE INSERT ON register_entities \
             FOR EACH ROW EXECUTE FUNCTION refuse()"
                .to_string(),
        ],
    };
    for s in statements {
        sqlx::query(sqlx::AssertSqlSafe(s))
            .execute(db.store.pool())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_failure_half_way_through_an_import_leaves_the_register_as_it_was() {
    for db in backends().await {
        let b = db.backend.name();
        let store = with_test_keys(db.store.clone());
        let (_, entities) = DEMO_REGISTERS[1];
        let text = std::str::from_utf8(entities).unwrap();
        // The last row of the file fails in the database, after the others were written.
        let last = text.lines().last().unwrap().split(',').next().unwrap();
        refuse_entity(&db, last).await;
        let err = import_csv(&store, RegisterKind::LegalEntity, entities, &admin(), 5).await;
        assert!(
            matches!(err, Err(RegisterImportError::Store(_))),
            "{b}: {err:?}"
        );
        assert_eq!(count(&store, "register_entities").await, 0, "{b}");
        assert_eq!(count(&store, "register_imports").await, 0, "{b}");
        assert!(
            store
                .audit_entries(&register_entries())
                .await
                .unwrap()
                .is_empty(),
            "{b}"
        );
    }
}
