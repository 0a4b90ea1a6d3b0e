//! 我的办事 on a 360-pixel phone in real Chromium: a citizen with a business case, an own case
//! and a draft signs in and reads the list — the service, whom it is for, the short number,
//! the status and the date, nothing wider than the screen; the messages page and the
//! progress lookup and a 一件事's one form (一表申请) fit too. Screenshots:
//! /tmp/yiwang-mine-*.png.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support::{
    assert_fits, click, fill, left, main_text, session, shot, start_driver,
};
use crate::support::applicant::{
    APPLICANT_PASSWORD, FOOD, FOOD_MATERIALS, ID_A, ITEM, fill_food, fill_item, register,
    upload_all, upload_each,
};
use crate::support::auth::location;
use crate::support::{Options, spawn_app_with};
use reqwest::StatusCode;
use yiwang_testkit::backends;

#[tokio::test]
async fn my_cases_fit_a_phone_in_chromium() {
    let Some((_driver, port)) = start_driver() else {
        return;
    };
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let options = Options {
            peer_address: true,
            wall_clock: true,
            ..Options::default()
        };
        let site = spawn_app_with(&db, options, |s| s).await;
        let base = site.base.clone();
        // Over HTTP first: a food licence for 津南小馆餐饮店, an own case, a draft.
        let cookie = register(&site, "赵明", ID_A).await;
        for (item, food) in [(FOOD, true), (ITEM, false)] {
            let res = site
                .post(&format!("/items/{item}/apply"), Some(&cookie), &[])
                .await;
            let draft = location(&res);
            if food {
                fill_food(&site, &cookie, &draft).await;
                upload_each(&site, &cookie, &draft, &FOOD_MATERIALS).await;
            } else {
                fill_item(&site, &cookie, &draft).await;
                upload_all(&site, &cookie, &draft).await;
            }
            let res = site
                .post(
                    &format!("{draft}/submit"),
                    Some(&cookie),
                    &[("_declaration", "yes")],
                )
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        }
        site.post(&format!("/items/{ITEM}/apply"), Some(&cookie), &[])
            .await;
        // And a 一件事 (个体工商户设立登记 + 食品经营许可) to fill as one form.
        let res = site
            .post(
                "/life-events/open-restaurant/apply",
                Some(&cookie),
                &[("impl", "11120112MB1W167324000123003001"), ("impl", FOOD)],
            )
            .await;
        let bundle = location(&res);

        let phone = session(port, true).await;
        phone.goto(&format!("{base}/login")).await.unwrap();
        fill(&phone, "#id_number", ID_A).await;
        fill(&phone, "#password", APPLICANT_PASSWORD).await;
        click(&phone, "main form button[type=submit]").await;
        assert_eq!(left(&phone, "/login").await, "/me", "{b}");
        let text = main_text(&phone).await;
        assert!(
            text.contains("津南小馆餐饮店"),
            "{b}: whom the case is for: {text}"
        );
        assert!(
            text.contains("公共场所卫生许可") && text.contains("食品经营许可"),
            "{b}"
        );
        assert!(
            !text.contains(FOOD),
            "{b}: no 实施编码 or full number in the list"
        );
        assert_fits(&phone, 360, "我的办事").await;
        // No date or short number is broken over lines: each sits on one line box.
        let broken = phone
            .execute(
                "return [...document.querySelectorAll('.my-cases .nowrap')]\
                 .filter(e => e.getClientRects().length > 1 || e.offsetHeight > 40).length",
                vec![],
            )
            .await
            .unwrap()
            .as_i64()
            .unwrap();
        assert_eq!(broken, 0, "{b}: a date or number wraps");
        shot(&phone, &format!("mine-home-{b}")).await;
        phone.goto(&format!("{base}/me/messages")).await.unwrap();
        assert_fits(&phone, 360, "messages").await;
        shot(&phone, &format!("mine-messages-{b}")).await;
        phone.goto(&format!("{base}/progress")).await.unwrap();
        assert_fits(&phone, 360, "progress lookup").await;
        // The one form of the bundle fits the phone too; the shared phone field is asked once.
        phone.goto(&format!("{base}{bundle}/form")).await.unwrap();
        let text = main_text(&phone).await;
        assert!(
            text.contains("共同信息") && text.contains("由本次一件事第1项办理结果提供"),
            "{b}: {text}"
        );
        assert_fits(&phone, 360, "一表申请").await;
        shot(&phone, &format!("mine-bundle-form-{b}")).await;
    }
}
