//! The guide page is cached for anonymous readers and follows the catalog: a publish from
//! another process shows within a second; a department rename invalidates too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::api::Server;
use yiwang_domain::policy::CatalogScope;
use yiwang_testkit::{DEMO_NOW_MS, backends, with_demo};

async fn page(s: &Server, path: &str) -> String {
    let res = s
        .http
        .get(format!("{}{path}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

#[tokio::test]
async fn cached_guide_follows_publishing() {
    for db in backends().await {
        with_demo(&db).await;
        let s = Server::start(&db).await;
        let p = db.store.published_all().await.unwrap().remove(0);
        let path = format!("/items/{}", p.implementation.code);
        let first = page(&s, &path).await;
        assert!(first.contains("第 1 版"));
        assert_eq!(page(&s, &path).await, first, "served from cache");
        assert!(
            s.state
                .cache
                .get(&format!("guide:zh-CN:false:false:{path}"))
                .is_some()
        );

        // Another process publishes version 2: this process notices within a second.
        let mut e = p.entry();
        e.implementation.hall_address = "新地址：津南区政务服务中心二楼".into();
        db.store
            .save_drafts(
                &[e],
                &yiwang_store::Actor::system("test"),
                DEMO_NOW_MS,
                &mut |_| {},
            )
            .await
            .unwrap();
        let all = CatalogScope {
            all: true,
            grants: vec![],
        };
        db.store
            .publish_drafts(
                &all,
                None,
                &yiwang_store::Actor::system("test"),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        assert!(
            page(&s, &path).await.contains("第 1 版"),
            "still within the second"
        );
        s.advance(1_500);
        let now = page(&s, &path).await;
        assert!(
            now.contains("第 2 版") && now.contains("新地址"),
            "new version after refresh"
        );

        // English is cached separately.
        let en = page(&s, &format!("{path}?lang=en")).await;
        assert!(en.contains("lang=\"en\""));
        assert!(page(&s, &path).await.contains("lang=\"zh-CN\""));
    }
}
