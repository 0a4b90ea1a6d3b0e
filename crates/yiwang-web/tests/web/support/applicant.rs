//! Shared helpers of the applicant-side tests over HTTP: registering an applicant, filling the
//! demo forms and uploading materials.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use super::auth::{Site, location};
use reqwest::StatusCode;

/// 公共场所卫生许可 of 津南区行政审批局 (the built-in generic form).
pub const ITEM: &str = "11120112MB1W167324000112001001";
pub const ID_A: &str = "11010519491231002X";
pub const ID_B: &str = "120112199001011238";
pub const APPLICANT_PASSWORD: &str = "Shenqing-2026!";

/// Registers, verifies in person (实名核验) and signs in an applicant: the session cookie.
pub async fn register(site: &Site, name: &str, id: &str) -> String {
    site.register_applicant(name, id, "13800138000", APPLICANT_PASSWORD)
        .await
}

pub async fn text(res: reqwest::Response) -> String {
    res.text().await.unwrap()
}

/// The mandatory materials of ITEM (demo catalog).
pub const MATERIALS: [&str; 6] = [
    "公共场所卫生许可申请表",
    "营业执照",
    "法定代表人（负责人）居民身份证",
    "公共场所地址方位示意图和卫生设施平面布局图",
    "公共场所卫生检测报告",
    "从业人员健康合格证明",
];

/// A small but real PDF.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// Posts one file for a material of the application at `app_path`; returns the response.
pub async fn upload(
    site: &Site,
    cookie: &str,
    app_path: &str,
    material: &str,
    name: &str,
    bytes: &[u8],
    back: &str,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("material", material.to_string())
        .text("back", back.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    site.client
        .post(site.url(&format!("{app_path}/materials")))
        .header(reqwest::header::ORIGIN, site.base.clone())
        .header(reqwest::header::COOKIE, cookie)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

pub async fn upload_all(site: &Site, cookie: &str, app_path: &str) {
    upload_each(site, cookie, app_path, &MATERIALS).await;
}

/// Fills ITEM's form (the built-in generic form) completely and continues to the check page.
pub async fn fill_item(site: &Site, cookie: &str, draft: &str) {
    let res = site
        .post(
            draft,
            Some(cookie),
            &[
                ("description", "申请公共场所卫生许可（窗口代填）"),
                ("contact_name", "王五"),
                ("contact_phone", "13700137000"),
                ("_action", "continue"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{draft}");
    assert_eq!(location(&res), format!("{draft}/check"));
}

/// 食品经营许可（新办） of 津南区 (the demo's own form, a parallel review).
pub const FOOD: &str = "11120112MB1W167324000123001001";

/// The mandatory materials of FOOD (demo catalog).
pub const FOOD_MATERIALS: [&str; 5] = [
    "食品经营许可申请书",
    "营业执照",
    "法定代表人（负责人）居民身份证",
    "经营场所平面布局图和设备布局、操作流程文件",
    "食品安全管理制度文本",
];

/// Fills FOOD's form completely and continues to the check page.
pub async fn fill_food(site: &Site, cookie: &str, draft: &str) {
    let res = site
        .post(
            draft,
            Some(cookie),
            &[
                ("business_name", "津南小馆餐饮店"),
                ("credit_code", super::auth::APPROVAL_BUREAU),
                ("legal_rep", "赵明"),
                ("legal_rep_id", ID_A),
                ("phone", "13900000000"),
                ("address.region", super::auth::TOWNSHIP),
                ("address.detail", "咸水沽镇津沽公路 88 号"),
                ("business_types", "hot_food"),
                ("area", "45"),
                ("online", "no"),
                ("managers[0].name", "钱芳"),
                ("managers[0].id_number", ID_A),
                ("managers[0].phone", "13700137000"),
                ("_action", "continue"),
            ],
        )
        .await;
    let s = res.status();
    let to = location(&res);
    assert_eq!(s, StatusCode::SEE_OTHER, "{draft}: {}", text(res).await);
    assert_eq!(to, format!("{draft}/check"));
}

/// Uploads a file for each of `materials` to the application at `app_path`.
pub async fn upload_each(site: &Site, cookie: &str, app_path: &str, materials: &[&str]) {
    for m in materials {
        let res = upload(site, cookie, app_path, m, "扫描件.pdf", PDF, app_path).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "upload {m}");
    }
}
