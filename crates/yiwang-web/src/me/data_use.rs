//! 谁用了我的数据: which staff (by department) opened, downloaded from or acted on the
//! applicant's cases, and which other systems (API tokens) acted on them or read them in the
//! case feed, when, and for which case, read from the audit log (every such use is audited).

use super::{CurrentApplicant, page};
use crate::AppState;
use crate::html::{PageResult, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use yiwang_store::AuditFilter;

pub struct UseLine {
    pub at: i64,
    pub case_number: String,
    pub action: String,
    pub departments: String,
}

#[derive(Template)]
#[template(path = "me/data_use.html")]
struct DataUsePage {
    page: Page,
    lines: Vec<UseLine>,
}

/// Most audit entries read per case for this page.
const PER_CASE: i64 = 200;

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
) -> PageResult {
    let a = me.require(locale, "/me/data-use")?;
    let cases = state.store.cases_of_applicant(a.id).await?;
    let mut lines = Vec::new();
    let mut dept_names = std::collections::HashMap::new();
    for c in &cases {
        let entries = state
            .store
            .audit_entries(&AuditFilter {
                // The newest entries of this case, through the `case_ref` index.
                case_number: Some(c.case_number.clone()),
                before_seq: Some(i64::MAX),
                limit: PER_CASE,
                ..Default::default()
            })
            .await?;
        for e in entries {
            // Staff and other systems only: the applicant's own acts and the system's are not
            // "use of data".
            let grants = if let Some(t) = yiwang_store::token_of_entry(&e.event) {
                match state.store.api_token(t).await? {
                    Some(t) => vec![t.grant],
                    None => continue,
                }
            } else {
                let Some(uid) = e.event.actor_id else {
                    continue;
                };
                match state.store.principal(uid).await? {
                    Some(p) => p.grants,
                    None => continue,
                }
            };
            let mut names = Vec::new();
            for g in &grants {
                if let Some(d) = &g.department {
                    if !dept_names.contains_key(d) {
                        let name = state
                            .store
                            .department(d)
                            .await?
                            .map(|x| x.name)
                            .unwrap_or_else(|| d.to_string());
                        dept_names.insert(d.clone(), name);
                    }
                    if let Some(n) = dept_names.get(d)
                        && !names.contains(n)
                    {
                        names.push(n.clone());
                    }
                } else if let Some(r) = &g.region {
                    // A region-wide reader (e.g. the upstream platform's feed): its region.
                    let name = state
                        .store
                        .region(r)
                        .await?
                        .map(|x| x.name)
                        .unwrap_or_else(|| r.to_string());
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
            lines.push(UseLine {
                at: e.at,
                case_number: c.case_number.clone(),
                action: e.event.action.clone(),
                departments: names.join("、"),
            });
        }
    }
    // Confirmations of the identity (实名核验) checked the applicant's name, number and phone.
    for v in state.store.identity_verifications_of(a.id).await? {
        lines.push(UseLine {
            at: v.at,
            case_number: String::new(),
            action: format!("identity.verify.{}", v.source),
            departments: if v.place.is_empty() || v.place == v.verifier {
                v.verifier
            } else {
                format!("{} / {}", v.place, v.verifier)
            },
        });
    }
    lines.sort_by_key(|l| std::cmp::Reverse(l.at));
    let tpl = DataUsePage {
        page: page(locale, Some(a), "me.data_use.title", "/me/data-use"),
        lines,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}
