//! The console's edit form, the drift report and department registration, over real HTTP on
//! every backend.

use crate::support::console::*;
use reqwest::StatusCode;
use reqwest::header::ORIGIN;
use yiwang_domain::catalog::Implementation;
use yiwang_domain::enums::CodeSet;
use yiwang_domain::policy::CatalogScope;
use yiwang_domain::{CreditCode, ImplCode};
use yiwang_testkit::{backends, with_demo};
use yiwang_web::console::drift::drift_for;

/// The edit form's fields for `imp` as the page would submit them unchanged.
fn edit_fields(imp: &Implementation, version: i64) -> Vec<(String, String)> {
    let mut f = pairs(&[
        ("version", &version.to_string()),
        ("acceptance_conditions", &imp.acceptance_conditions),
        ("statutory_amount", &imp.statutory_limit.amount.to_string()),
        ("statutory_unit", imp.statutory_limit.unit.key()),
        ("promised_amount", &imp.promised_limit.amount.to_string()),
        ("promised_unit", imp.promised_limit.unit.key()),
        ("case_type", imp.case_type.key()),
        ("visits", &imp.visits.to_string()),
        ("online_depth", imp.online_depth.key()),
        ("fee_basis", &imp.fee_basis),
        ("anywhere", imp.anywhere.map(|a| a.key()).unwrap_or("")),
        ("themes", &imp.themes.join(";")),
        ("hall_address", &imp.hall_address),
        ("hours", &imp.hours),
        ("consult_phone", &imp.consult_phone),
        ("complaint_phone", &imp.complaint_phone),
        ("result_name", &imp.result_name),
    ]);
    if imp.charged {
        f.push(("charged".into(), "1".into()));
    }
    for c in &imp.channels {
        f.push(("channels".into(), c.key().into()));
    }
    for a in &imp.audiences {
        f.push(("audiences".into(), a.key().into()));
    }
    for (i, m) in imp.materials.iter().enumerate() {
        let k = |n: &str| format!("m{i}_{n}");
        f.push((k("name"), m.name.clone()));
        f.push((k("issuer"), m.issuer.clone()));
        f.push((k("originals"), m.originals.to_string()));
        f.push((k("copies"), m.copies.to_string()));
        if m.mandatory {
            f.push((k("mandatory"), "1".into()));
        }
        f.push((k("licence_type"), m.licence_type.clone()));
        f.push((k("instructions"), m.instructions.clone()));
    }
    let n = imp.materials.len();
    for (k, v) in [
        ("name", ""),
        ("issuer", ""),
        ("originals", "1"),
        ("copies", "0"),
        ("licence_type", ""),
        ("instructions", ""),
    ] {
        f.push((format!("m{n}_{k}"), v.into()));
    }
    f
}

fn set(f: &mut [(String, String)], key: &str, value: &str) {
    for (k, v) in f.iter_mut() {
        if k == key {
            *v = value.to_string();
        }
    }
}

#[tokio::test]
async fn edit_checks_rules_and_saves_a_draft() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        let http = Http::new(&serve(&db, config()).await);
        let catalog = http.login("catalog").await;
        let published = db.store.published_all().await.unwrap();
        let mine = published
            .iter()
            .find(|p| {
                p.implementation.department_code.as_str() == APPROVAL_BUREAU
                    && p.implementation.materials.len() >= 2
            })
            .unwrap();
        let code = mine.implementation.code.to_string();
        let path = format!("/console/implementations/{code}/edit");

        // Anonymous: to the sign-in page, coming back here.
        let res = http.get(&path, None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("/console/login?next={path}"));

        // The form: the standard item's fields read-only, the rest editable.
        let (status, html) = http.page(&path, &catalog).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(&mine.standard.name) && html.contains(mine.standard.basic_code.as_str())
        );
        assert!(
            !html.contains(r#"name="legal_basis""#),
            "legal basis is not editable"
        );
        assert!(
            html.contains(r#"name="promised_amount""#) && html.contains(r#"for="promised_amount""#)
        );
        assert!(
            html.contains(&format!(
                r#"name="m{}_name""#,
                mine.implementation.materials.len()
            )),
            "an empty row to add one"
        );

        // Promised longer than statutory: the message by the field, the form re-filled, nothing saved.
        let mut f = edit_fields(&mine.implementation, mine.version);
        let too_long = (mine.implementation.statutory_limit.amount + 5).to_string();
        set(&mut f, "promised_amount", &too_long);
        set(
            &mut f,
            "statutory_unit",
            mine.implementation.promised_limit.unit.key(),
        );
        let res = http.post_form(&path, &catalog, &f).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(
            html.contains(r#"id="e-promised_amount""#),
            "error placed at the field"
        );
        assert!(html.contains("承诺办结时限不得超过法定办结时限"));
        assert!(
            html.contains(&format!(r#"value="{too_long}""#)),
            "form re-filled"
        );
        assert!(
            db.store.drafts_all().await.unwrap().is_empty(),
            "nothing saved"
        );

        // Several problems at once: not a number, a catch-all material, fee without basis.
        let mut f = edit_fields(&mine.implementation, mine.version);
        set(&mut f, "visits", "two");
        set(&mut f, "m1_name", "其他材料");
        f.push(("charged".into(), "1".into()));
        set(&mut f, "fee_basis", "");
        f.retain(|(k, _)| k != "channels");
        let res = http.post_form(&path, &catalog, &f).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains(r#"id="e-visits""#) && html.contains("应填写整数"));
        assert!(html.contains(r#"id="e-channels""#) && html.contains("此项必须填写"));
        let mut f = edit_fields(&mine.implementation, mine.version);
        set(&mut f, "m1_name", "其他材料");
        f.push(("charged".into(), "1".into()));
        set(&mut f, "fee_basis", "");
        let res = http.post_form(&path, &catalog, &f).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(
            html.contains(r#"id="e-m1""#) && html.contains("材料名称不具体"),
            "material row error"
        );
        assert!(html.contains(r#"id="e-fee_basis""#) && html.contains("收费事项必须填写收费依据"));
        assert!(db.store.drafts_all().await.unwrap().is_empty());

        // A valid edit: a new hall, one material removed, one added. Saved as a draft.
        let mut f = edit_fields(&mine.implementation, mine.version);
        set(&mut f, "hall_address", "津南区政务服务中心三楼C区");
        f.push(("m0_remove".into(), "1".into()));
        let n = mine.implementation.materials.len();
        set(&mut f, &format!("m{n}_name"), "不动产权属证书");
        set(&mut f, &format!("m{n}_issuer"), "不动产登记机构");
        f.push((format!("m{n}_mandatory"), "1".into()));
        // 实名核验 is a catalog flag: needed by default, switched off here.
        assert!(mine.implementation.identity_required);
        let (_, html) = http.page(&path, &catalog).await;
        assert!(
            html.contains(r#"<option value="yes" selected>"#),
            "needed by default"
        );
        f.push(("identity_required".into(), "no".into()));
        let res = http.post_form(&path, &catalog, &f).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/console/drafts");
        let drafts = db.store.drafts_all().await.unwrap();
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.implementation.code.as_str(), code);
        assert_eq!(d.version, 2);
        assert_eq!(d.implementation.hall_address, "津南区政务服务中心三楼C区");
        assert!(!d.implementation.identity_required, "the flag is stored");
        let names: Vec<&str> = d
            .implementation
            .materials
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert!(
            !names.contains(&mine.implementation.materials[0].name.as_str()),
            "removed"
        );
        assert_eq!(names.last(), Some(&"不动产权属证书"), "added");
        assert_eq!(names.len(), n, "one out, one in");
        assert_eq!(d.standard, mine.standard, "standard item untouched");

        // The form now edits the draft; a stale form (old version) is refused.
        let (_, html) = http.page(&path, &catalog).await;
        assert!(html.contains("津南区政务服务中心三楼C区"));
        let res = http
            .post_form(
                &path,
                &catalog,
                &edit_fields(&mine.implementation, mine.version),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CONFLICT);

        // Another department's implementation: 403 to read or to post; unknown code: 404.
        let theirs = published
            .iter()
            .find(|p| p.implementation.department_code.as_str() == MARKET_BUREAU)
            .unwrap();
        let other = format!(
            "/console/implementations/{}/edit",
            theirs.implementation.code
        );
        let (status, _) = http.page(&other, &catalog).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let res = http
            .post_form(
                &other,
                &catalog,
                &edit_fields(&theirs.implementation, theirs.version),
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(db.store.drafts_all().await.unwrap().len(), 1);
        let (status, _) = http
            .page("/console/implementations/NO-SUCH-CODE/edit", &catalog)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(ImplCode::parse("NO-SUCH-CODE").is_ok());
    }
}

#[tokio::test]
async fn drift_report_and_departments() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        let http = Http::new(&serve(&db, config()).await);
        let platform = http.login("platform").await;
        let township = http.login("township").await;
        let catalog = http.login("catalog").await;

        // The demo has standard items implemented differently in several places.
        let published = db.store.published_all().await.unwrap();
        let report = drift_for(
            &CatalogScope {
                all: true,
                grants: Vec::new(),
            },
            &published,
        );
        assert!(!report.items.is_empty(), "demo has drift");
        let (status, html) = http.page("/console/drift", &platform).await;
        assert_eq!(status, StatusCode::OK);
        for item in &report.items {
            assert!(html.contains(&item.name), "drift item {}", item.name);
            for imp in &item.implementations {
                assert!(html.contains(&imp.code));
            }
        }
        assert!(
            html.contains(r#"class="deviates""#),
            "deviations highlighted"
        );
        assert!(
            html.contains("津南区") && html.contains("咸水沽镇"),
            "region names in the scores"
        );
        // The catalog admin's scope is one department in one place: nothing to compare.
        let (status, html) = http.page("/console/drift", &catalog).await;
        assert_eq!(status, StatusCode::OK);
        let outside: Vec<&str> = report
            .items
            .iter()
            .flat_map(|i| i.implementations.iter())
            .filter(|i| !i.code.starts_with(APPROVAL_BUREAU))
            .map(|i| i.code.as_str())
            .collect();
        assert!(!outside.is_empty());
        for code in outside {
            assert!(
                !html.contains(code),
                "{code} is outside the catalog admin's scope"
            );
        }

        // Departments: the township admin sees its township's departments only.
        let (status, html) = http.page("/console/departments", &township).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("天津市津南区咸水沽镇人民政府"));
        assert!(!html.contains("天津市津南区行政审批局"));

        // A wrong check character: 422, the message, the form re-filled, nothing stored.
        let good = CreditCode::with_check_char("11120112MB0000077").unwrap();
        let last = good.as_str().chars().last().unwrap();
        let wrong_last = if last == '0' { '1' } else { '0' };
        let bad = format!("{}{wrong_last}", &good.as_str()[..17]);
        let form = pairs(&[
            ("name", "咸水沽镇便民服务中心"),
            ("credit_code", &bad),
            ("region", TOWNSHIP),
        ]);
        let res = http
            .post_form("/console/departments", &township, &form)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("统一社会信用代码的校验位不正确"),
            "check character message"
        );
        assert!(
            html.contains(r#"value="咸水沽镇便民服务中心""#)
                && html.contains(&format!(r#"value="{bad}""#))
        );
        assert!(db.store.department(&good).await.unwrap().is_none());

        // Unknown region and empty name are reported at their fields.
        let form = pairs(&[
            ("name", ""),
            ("credit_code", good.as_str()),
            ("region", "12011210"),
        ]);
        let res = http
            .post_form("/console/departments", &township, &form)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(
            html.contains(r#"id="dep-name-error""#) && html.contains(r#"id="dep-region-error""#)
        );

        // Outside the township: 403. Cross-site: 403. Inside: registered.
        let form = pairs(&[
            ("name", "津南区测试局"),
            ("credit_code", good.as_str()),
            ("region", "120112"),
        ]);
        let res = http
            .post_form("/console/departments", &township, &form)
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let form = pairs(&[
            ("name", "咸水沽镇便民服务中心"),
            ("credit_code", good.as_str()),
            ("region", TOWNSHIP),
        ]);
        let res = http
            .client
            .post(http.url("/console/departments"))
            .header(reqwest::header::COOKIE, &township)
            .header(ORIGIN, "http://evil.example")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(db.store.department(&good).await.unwrap().is_none());
        let res = http
            .post_form("/console/departments", &township, &form)
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/console/departments");
        let dep = db.store.department(&good).await.unwrap().unwrap();
        assert_eq!(dep.name, "咸水沽镇便民服务中心");
        assert_eq!(dep.region.as_str(), TOWNSHIP);
        let (_, html) = http.page("/console/departments", &township).await;
        assert!(html.contains("咸水沽镇便民服务中心"));

        // A department registered elsewhere cannot be moved into the township.
        let form = pairs(&[
            ("name", "挪用"),
            ("credit_code", APPROVAL_BUREAU),
            ("region", TOWNSHIP),
        ]);
        let res = http
            .post_form("/console/departments", &township, &form)
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let approval = db
            .store
            .department(&CreditCode::parse(APPROVAL_BUREAU).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(approval.region.as_str(), "120112000000");
    }
}
