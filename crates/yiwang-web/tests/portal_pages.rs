//! The public portal over real HTTP, on every backend, with the demo catalog (天津市津南区).

use reqwest::StatusCode;
use std::collections::BTreeSet;
use yiwang_domain::catalog::VersionStatus;
use yiwang_domain::policy::CatalogScope;
use yiwang_domain::{CreditCode, ImplCode, RegionCode};
use yiwang_store::{ImplementationFilter, Store};
use yiwang_testkit::{DEMO_NOW_MS, TestDb, backends, with_demo};
use yiwang_web::{AppState, WebConfig};

/// A food-business licence at the district's approval bureau: 承诺件, one visit, materials with
/// e-licences.
const FOOD_LICENCE: &str = "11120112MB1W167324000123001001";
/// 生育登记 at the district health commission: 即办件, no visit.
const BIRTH_REGISTRATION: &str = "11120112MB1M05719N002012001001";
const HEALTH_COMMISSION: &str = "11120112MB1M05719N";

struct Portal {
    base: String,
    http: reqwest::Client,
}

async fn serve(db: &TestDb) -> Portal {
    let app = yiwang_web::router(AppState::new(
        db.store.clone(),
        WebConfig {
            secure_cookies: false,
            ..Default::default()
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Portal {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
    }
}

impl Portal {
    async fn get(&self, path: &str) -> (StatusCode, String) {
        let res = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = res.status();
        let ctype = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = res.text().await.unwrap();
        assert!(ctype.starts_with("text/html"), "{path}: content type {ctype}");
        check_page(path, &body);
        (status, body)
    }

    /// A page that must be 200.
    async fn ok(&self, path: &str) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    async fn search(&self, q: &str) -> (StatusCode, String) {
        let res = self
            .http
            .get(format!("{}/search", self.base))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        check_page("/search", &body);
        (status, body)
    }
}

/// Every portal page: light, without script, one h1, breadcrumbs or not, a language.
fn check_page(path: &str, body: &str) {
    assert!(body.len() < 60 * 1024, "{path} weighs {} bytes", body.len());
    assert!(!body.to_ascii_lowercase().contains("<script"), "{path} has a script");
    assert_eq!(body.matches("<h1").count(), 1, "{path}: exactly one h1");
    assert!(body.contains("<html lang=\"zh-CN\">") || body.contains("<html lang=\"en\">"), "{path}: lang");
}

/// HTML text as askama escapes it.
fn esc(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// Paths of the item links on a page, in page order.
fn item_links(body: &str) -> Vec<String> {
    body.split("href=\"/items/")
        .skip(1)
        .map(|rest| format!("/items/{}", &rest[..rest.find('"').unwrap()]))
        .collect()
}

/// The "next page" link of a list, unescaped.
fn next_link(body: &str) -> Option<String> {
    let at = body.find("rel=\"next\"")?;
    let before = &body[..at];
    let start = before.rfind("href=\"")? + 6;
    let end = start + before[start..].find('"')?;
    Some(before[start..end].replace("&#38;", "&"))
}

async fn codes(store: &Store, f: ImplementationFilter) -> Vec<String> {
    store
        .list_published(&f, None, 500)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.code)
        .collect()
}

#[tokio::test]
async fn home_shows_themes_and_ways_in() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let themes = db.store.published_themes().await.unwrap();
        let (top, n) = themes.first().cloned().unwrap();
        let body = p.ok("/").await;
        assert!(body.contains("<html lang=\"zh-CN\">"));
        assert!(body.contains(&format!("{top}（{n} 项）")), "theme with count");
        assert!(body.contains("href=\"/regions/120112\""), "the served district");
        assert!(body.contains("咸水沽镇") && body.contains("href=\"/regions/120112100\""), "its towns");
        assert!(body.contains("href=\"/departments\""));
        assert!(body.contains("href=\"/audience/person\"") && body.contains("个人办事"));
        assert!(body.contains("href=\"/audience/legal\"") && body.contains("法人办事"));
        assert!(body.contains("action=\"/search\"") && body.contains("name=\"q\""));

        let en = p.ok("/?lang=en").await;
        assert!(en.contains("<html lang=\"en\">"));
        assert!(en.contains("For individuals") && en.contains("By theme"));
        assert!(en.contains("href=\"/regions/120112?lang=en\""), "links keep the language");
        assert!(en.contains("name=\"lang\" value=\"en\""), "the search form keeps it too");
        assert!(!en.contains("个人办事"));
    }
}

#[tokio::test]
async fn regions_drill_down_to_towns_and_list_their_services() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        assert!(p.ok("/regions").await.contains("href=\"/regions/12\""));
        assert!(p.ok("/regions/12").await.contains("href=\"/regions/1201\""));
        assert!(p.ok("/regions/1201").await.contains("href=\"/regions/120112\""));

        let county = RegionCode::parse("120112").unwrap();
        let all = codes(
            &db.store,
            ImplementationFilter {
                region: Some(county),
                ..Default::default()
            },
        )
        .await;
        assert!(all.len() > 50, "the demo fills more than one page");
        let first = p.ok("/regions/120112").await;
        assert!(first.contains("aria-label=\"您在这里\""), "breadcrumbs");
        assert!(first.contains("咸水沽镇") && first.contains("href=\"/regions/120112100\""));
        let page1 = item_links(&first);
        assert_eq!(page1.len(), 50);
        assert_eq!(page1[0], format!("/items/{}", all[0]));
        let next = next_link(&first).expect("a next page");
        assert!(next.starts_with("/regions/120112?after="));
        let second = p.ok(&next).await;
        let page2 = item_links(&second);
        assert_eq!(page1.len() + page2.len(), all.len());
        assert!(page2.iter().all(|l| !page1.contains(l)), "pages do not overlap");
        assert!(next_link(&second).is_none());
        assert!(second.contains("回到第一页"));

        // A town: its own services only, and the way back up.
        let town = p.ok("/regions/120112100").await;
        let links = item_links(&town);
        assert_eq!(links.len(), 7, "the seven services of 咸水沽镇");
        assert!(town.contains("天津市津南区咸水沽镇人民政府"));
        assert!(town.contains("href=\"/regions/120112\""), "breadcrumb to the district");
        assert!(!town.contains("天津市津南区行政审批局"));

        let en = p.ok("/regions/120112?lang=en").await;
        assert!(en.contains("Services handled in this area"));
        assert!(en.contains("href=\"/regions/120112100?lang=en\""));
        assert!(next_link(&en).unwrap().ends_with("&lang=en"));

        for bad in ["/regions/12a", "/regions/1234567", "/regions/120112?after=%25%27"] {
            let (s, body) = p.get(bad).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert!(body.contains("<h1>"));
        }
        let (s, body) = p.get("/regions/990000").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(body.contains("找不到您要的内容"));
    }
}

#[tokio::test]
async fn a_department_page_lists_its_services() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let list = p.ok("/departments").await;
        for d in db.store.departments(None).await.unwrap() {
            assert!(list.contains(&esc(&d.name)), "{} listed", d.name);
            assert!(list.contains(&format!("href=\"/departments/{}\"", d.credit_code)));
        }
        assert!(list.contains("<h2><a href=\"/regions/120112\">津南区</a></h2>"), "grouped by region");
        assert!(list.contains("<h2><a href=\"/regions/120112100\">咸水沽镇</a></h2>"));

        let code = CreditCode::parse(HEALTH_COMMISSION).unwrap();
        let mine = codes(
            &db.store,
            ImplementationFilter {
                department: Some(code),
                ..Default::default()
            },
        )
        .await;
        assert!(!mine.is_empty());
        let page = p.ok(&format!("/departments/{HEALTH_COMMISSION}")).await;
        assert!(page.contains("<h1>天津市津南区卫生健康委员会</h1>"));
        assert!(page.contains("生育登记"));
        let links: Vec<String> = item_links(&page);
        let expected: Vec<String> = mine.iter().map(|c| format!("/items/{c}")).collect();
        assert_eq!(links, expected);

        let (s, _) = p.get("/departments/11120112MB1M05719X").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "check character wrong");
        let (s, _) = p.get("/departments/not-a-code").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = p.get("/departments/91350100M000100Y43").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "valid but not registered");
    }
}

#[tokio::test]
async fn theme_and_audience_filters_give_their_own_lists() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let themes = db.store.published_themes().await.unwrap();
        let themes_page = p.ok("/themes").await;
        for (t, _) in &themes {
            assert!(themes_page.contains(&esc(t)), "theme {t}");
        }
        let (theme, n) = themes[0].clone();
        let page = p.ok(&format!("/themes/{theme}")).await;
        assert!(page.contains(&format!("<h1>主题：{theme}</h1>")));
        let by_theme: BTreeSet<String> = item_links(&page).into_iter().collect();
        assert_eq!(by_theme.len() as i64, n.min(50));
        let expected = codes(
            &db.store,
            ImplementationFilter {
                theme: Some(theme.clone()),
                ..Default::default()
            },
        )
        .await;
        assert!(expected.iter().all(|c| by_theme.contains(&format!("/items/{c}"))));

        let person: BTreeSet<String> = item_links(&p.ok("/audience/person").await).into_iter().collect();
        let legal: BTreeSet<String> = item_links(&p.ok("/audience/legal").await).into_iter().collect();
        assert!(!person.is_empty() && !legal.is_empty());
        assert_ne!(person, legal);
        assert_ne!(by_theme, legal);
        assert!(legal.contains(&format!("/items/{FOOD_LICENCE}")), "a business licence is for organisations");
        assert!(!person.contains(&format!("/items/{FOOD_LICENCE}")));
        assert!(person.contains(&format!("/items/{BIRTH_REGISTRATION}")));
        assert!(!legal.contains(&format!("/items/{BIRTH_REGISTRATION}")));
        assert!(p.ok("/audience/legal?lang=en").await.contains("For organisations"));

        let (s, _) = p.get("/themes/%E6%B2%A1%E6%9C%89%E8%BF%99%E4%B8%AA").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "unknown theme");
        let (s, _) = p.get(&format!("/themes/{}", "长".repeat(60))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "theme too long");
        let (s, _) = p.get("/themes/%FF%FE").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "not UTF-8");
        let (s, _) = p.get("/audience/robots").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn search_finds_by_name_and_escapes_everything() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let (s, body) = p.search("生育登记").await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("“生育登记”的搜索结果"));
        let links = item_links(&body);
        assert_eq!(links.len(), 3, "three bodies register births: {links:?}");
        assert!(links.contains(&format!("/items/{BIRTH_REGISTRATION}")));
        assert!(body.contains("value=\"生育登记\""), "the query stays in the box");

        for empty in ["", "   "] {
            let (s, body) = p.search(empty).await;
            assert_eq!(s, StatusCode::OK);
            assert!(body.contains("请输入您要办的事情的名称"), "hint for {empty:?}");
            assert!(item_links(&body).is_empty());
        }
        let (s, body) = p.get("/search").await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("请输入您要办的事情的名称"));

        for hostile in ["<script>alert(1)</script>", "%' OR 1=1 --", "_", "\"><img src=x>"] {
            let (s, body) = p.search(hostile).await;
            assert_eq!(s, StatusCode::OK, "{hostile}");
            assert!(!body.contains("<script>alert"), "{hostile} echoed raw");
            assert!(!body.contains("<img src=x>"));
            assert!(body.contains(&esc(hostile)), "{hostile} shown escaped");
            assert!(item_links(&body).is_empty(), "{hostile} matches nothing");
        }
        let long = "生".repeat(80);
        let (s, body) = p.search(&long).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("只用了前 50 个字"));
        assert!(!body.contains(&long) && body.contains(&"生".repeat(50)));

        let (s, _) = p.get("/search?q=%E7%94%9F&after=%3Cx%3E").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "bad cursor");
        let (_, en) = p.get("/search?q=%E7%94%9F%E8%82%B2&lang=en").await;
        assert!(en.contains("Results for"));
    }
}

#[tokio::test]
async fn the_guide_shows_every_element() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let code = ImplCode::parse(FOOD_LICENCE).unwrap();
        let pi = db.store.published_implementation(&code).await.unwrap().unwrap();
        assert_eq!(pi.published_at, Some(DEMO_NOW_MS));
        let (s, i) = (&pi.standard, &pi.implementation);
        let body = p.ok(&format!("/items/{FOOD_LICENCE}")).await;

        assert!(body.contains(&format!("<h1>{}</h1>", esc(&s.name))));
        for value in [
            s.name.as_str(),
            s.basic_code.as_str(),
            i.code.as_str(),
            s.legal_basis.as_str(),
            i.acceptance_conditions.as_str(),
            i.department_name.as_str(),
            i.hall_address.as_str(),
            i.hours.as_str(),
            i.consult_phone.as_str(),
            i.complaint_phone.as_str(),
            i.result_name.as_str(),
            "行政许可",
            "县级",
            "承诺件",
            "三级",
        ] {
            assert!(body.contains(&esc(value)), "guide lacks {value}");
        }
        assert!(body.contains(&format!("href=\"tel:{}\"", i.consult_phone)));
        assert!(body.contains(&format!("href=\"tel:{}\"", i.complaint_phone)));
        assert!(body.contains(&format!("href=\"/departments/{}\"", i.department_code)));
        for t in &i.themes {
            assert!(body.contains(&format!(">{}</a>", esc(t))), "theme link {t}");
        }
        assert!(body.contains("企业法人、非法人企业"), "audiences");
        assert!(body.contains("窗口办理、网上办理、移动端办理"), "channels");
        assert!(body.contains("href=\"/regions/12\">天津市</a>"), "region path from the top");
        assert!(body.contains("href=\"/regions/120112\">津南区</a>"), "down to the district");
        assert!(body.contains("承诺 3 个工作日办结（法定 10 个工作日）"));
        assert!(body.contains("最多跑一次"));
        assert!(body.contains("不收费"));
        assert!(body.contains("第 1 版 · 更新于 2026-11-25"));
        assert!(i.materials.len() >= 3);
        for m in &i.materials {
            assert!(body.contains(&esc(&m.name)), "material {}", m.name);
            assert!(body.contains(&esc(&m.issuer)));
            if !m.licence_type.is_empty() {
                assert!(body.contains(&format!("可用电子证照代替（{}）", esc(&m.licence_type))));
            }
        }
        assert!(body.contains("<table class=\"stack\">"));
        assert!(body.contains("<th scope=\"col\">材料名称</th>"));
        assert!(body.contains("<th scope=\"row\" data-label=\"材料名称\">"));
        assert!(body.contains("data-label=\"出具机构\""));
        assert!(body.contains("原件 1 份") && body.contains(">必要<"));

        let births = p.ok(&format!("/items/{BIRTH_REGISTRATION}")).await;
        assert!(births.contains("即来即办"));
        assert!(births.contains("不用跑（全程网办）"));
        assert!(births.contains(">全国<"), "通办范围");

        let en = p.ok(&format!("/items/{FOOD_LICENCE}?lang=en")).await;
        assert!(en.contains("<html lang=\"en\">"));
        for label in [
            "Basic code",
            "Implementation code",
            "Legal basis",
            "Conditions for acceptance",
            "Documents to bring",
            "Service hall address",
            "Enquiry phone",
            "Complaint phone",
            "Administrative licensing",
            "Promised: 3 working days (statutory: 10 working days)",
            "At most one trip in person",
            "Free of charge",
            "Version 1 · updated 2026-11-25",
            "data-label=\"Issued by\"",
        ] {
            assert!(en.contains(label), "English guide lacks {label}");
        }
        assert!(!en.contains("办结时限"), "no Chinese labels left");
        assert!(en.contains(&format!("href=\"/departments/{}?lang=en\"", i.department_code)));
    }
}

#[tokio::test]
async fn older_versions_are_marked_and_drafts_stay_hidden() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let code = ImplCode::parse(FOOD_LICENCE).unwrap();
        let v1 = db.store.published_implementation(&code).await.unwrap().unwrap();
        let old_hall = v1.implementation.hall_address.clone();
        let mut entry = v1.entry();
        entry.implementation.hall_address = "新的办理地点 二楼".to_string();
        let scope = CatalogScope {
            all: true,
            grants: Vec::new(),
        };
        let later = DEMO_NOW_MS + 86_400_000;
        db.store.save_drafts(&[entry.clone()], None, later, &mut |_| {}).await.unwrap();
        db.store
            .publish_drafts(&scope, Some(&[FOOD_LICENCE.to_string()]), None, later)
            .await
            .unwrap();
        entry.implementation.hall_address = "草稿里的地点".to_string();
        db.store.save_drafts(&[entry], None, later, &mut |_| {}).await.unwrap();
        let history = db.store.implementation_history(&code).await.unwrap();
        assert_eq!(history[0].status, VersionStatus::Draft);

        let current = p.ok(&format!("/items/{FOOD_LICENCE}")).await;
        assert!(current.contains("第 2 版 · 更新于 2026-11-26"));
        assert!(current.contains("新的办理地点 二楼"));
        assert!(!current.contains("草稿里的地点"), "drafts are not public");
        assert!(current.contains(&format!("href=\"/items/{FOOD_LICENCE}/versions/1\"")));
        assert!(!current.contains("这是历史版本"));

        let old = p.ok(&format!("/items/{FOOD_LICENCE}/versions/1")).await;
        assert!(old.contains("这是历史版本（第 1 版）"));
        assert!(old.contains(&esc(&old_hall)));
        assert!(old.contains(&format!("<a href=\"/items/{FOOD_LICENCE}\">查看现行版本</a>")));
        let old_en = p.ok(&format!("/items/{FOOD_LICENCE}/versions/1?lang=en")).await;
        assert!(old_en.contains("This is an old version (version 1)"));

        let (s, _) = p.get(&format!("/items/{FOOD_LICENCE}/versions/3")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "a draft version is not public");
        let (s, _) = p.get(&format!("/items/{FOOD_LICENCE}/versions/9")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        for bad in ["abc", "0", "-1", "99999999999999999999"] {
            let (s, _) = p.get(&format!("/items/{FOOD_LICENCE}/versions/{bad}")).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "version {bad}");
        }
    }
}

#[tokio::test]
async fn unknown_and_malformed_codes_get_clear_4xx_pages() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let (s, body) = p.get("/items/NO-SUCH-ITEM-1").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(body.contains("找不到您要的内容"));
        let (s, body) = p.get("/items/NO-SUCH-ITEM-1?lang=en").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(body.contains("<html lang=\"en\">"));

        let too_long = "A".repeat(37);
        for bad in [
            "/items/bad%20code".to_string(),
            "/items/%3Cscript%3E".to_string(),
            format!("/items/{too_long}"),
            "/items/%FF".to_string(),
            "/items/x'%20OR%20'1'='1".to_string(),
        ] {
            let (s, body) = p.get(&bad).await;
            assert!(s.is_client_error(), "{bad}: {s}");
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert!(body.contains("实施编码应为"), "{bad}: the message says what is wrong");
        }
        let (s, _) = p.get("/regions/%FF").await;
        assert!(s.is_client_error());
        let (s, _) = p.get("/audience/person?after=%FF%FF").await;
        assert!(s.is_client_error(), "{s}");
    }
}
