//! Case events for a provincial platform, in the shapes of GB/T 39046 6.2–6.5: 办事申请 (the
//! submission), 事项受理 (acceptance or refusal to accept), 事项办理 (every other step) and 事项办结
//! (the step that ends the case). Read in pages with a cursor over `(at, case, seq)`.
//!
//! Reporting upstream is a use of personal data (6.2 carries the applicant's ID number), so
//! every page read is audited by the caller.

use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str};
use crate::{Store, StoreError};
use serde::Serialize;
use yiwang_domain::ErrorCode;
use yiwang_domain::calendar::CivilDate;

/// Which GB/T 39046 data set an event is reported as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// 6.2 办事申请
    Application,
    /// 6.3 事项受理
    Acceptance,
    /// 6.4 事项办理
    Handling,
    /// 6.5 事项办结
    Conclusion,
}

/// One event in the feed. Field names follow GB/T 39046's element names in pinyin-free
/// English; each carries the elements its data set defines that the platform holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedEvent {
    pub cursor: String,
    pub kind: FeedKind,
    /// 办件编号
    pub case_number: String,
    /// 实施编码
    pub impl_code: String,
    /// 事项名称
    pub item_name: String,
    /// 受理单位 / 处理单位 (统一社会信用代码)
    pub department_code: String,
    /// 行政区划
    pub region_code: String,
    /// 业务动作 (the workflow action) and 环节 (from → to)
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    /// 环节处理人 (display name; applicants masked)
    pub actor: String,
    pub actor_kind: String,
    /// 环节处理意见
    pub opinion: Option<String>,
    /// Epoch milliseconds of the step (申请时间 / 受理时间 / 环节结束时间 / 办结时间).
    pub at: i64,
    /// 申报来源 (online / counter / agent)
    pub source: String,
    /// 承诺办结时间 (6.3), when the limit runs.
    pub due_date: Option<String>,
    /// 6.2 申请者: name, 证件类型 (GA/T 2000.156: 111 居民身份证, 49 统一社会信用代码) and 证件号码.
    pub applicant: Option<FeedApplicant>,
}

impl FeedEvent {
    /// The data set's key (`application`, `acceptance`, …), as serialised.
    pub fn kind_key(&self) -> &'static str {
        match self.kind {
            FeedKind::Application => "application",
            FeedKind::Acceptance => "acceptance",
            FeedKind::Handling => "handling",
            FeedKind::Conclusion => "conclusion",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedApplicant {
    pub name: String,
    pub id_type: &'static str,
    pub id_number: String,
    pub legal_representative: Option<String>,
}

/// Which part of the feed a reader gets: a region subtree, optionally one department's cases,
/// and whether resident ID numbers come in full (else masked; credit codes are public).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedScope {
    /// `RegionCode::subtree_bounds` of the reader's region.
    pub bounds: (String, String),
    pub department: Option<String>,
    pub full_id_numbers: bool,
}

/// Most events one page returns.
pub const FEED_PAGE_MAX: i64 = 500;

/// `at.case_id.seq` of the last event read.
pub fn parse_cursor(s: &str) -> Result<(i64, i64, i64), ErrorCode> {
    let mut it = s.split('.').map(str::parse::<i64>);
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(Ok(a)), Some(Ok(c)), Some(Ok(q)), None) => Ok((a, c, q)),
        _ => Err(ErrorCode::InvalidCursor),
    }
}

impl Store {
    /// Events after `cursor` (from the start when `None`), oldest first, within `scope`.
    pub async fn case_feed(
        &self,
        cursor: Option<(i64, i64, i64)>,
        scope: &FeedScope,
        limit: i64,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let (at, cid, seq) = cursor.unwrap_or((i64::MIN, i64::MIN, i64::MIN));
        let (lo, hi) = scope.bounds.clone();
        let dept = scope.department.clone().unwrap_or_default();
        let rows = sqlx::query(
            "SELECT e.case_id, e.seq, e.at, e.action, e.from_state, e.to_state, e.actor_kind, \
                    e.actor_name, e.opinion, c.case_number, c.impl_code, c.item_name, \
                    c.department_code, c.region_code, c.source, c.due_day, c.applicant_id, c.workflow_body \
             FROM case_events e JOIN cases c ON c.id = e.case_id \
             WHERE (e.at > $1 OR (e.at = $1 AND e.case_id > $2) OR (e.at = $1 AND e.case_id = $2 AND e.seq > $3)) \
               AND c.region_code >= $4 AND c.region_code <= $5 \
               AND ($6 = '' OR c.department_code = $6) \
             ORDER BY e.at, e.case_id, e.seq LIMIT $7",
        )
        .bind(at)
        .bind(cid)
        .bind(seq)
        .bind(lo)
        .bind(hi)
        .bind(dept)
        .bind(limit.clamp(1, FEED_PAGE_MAX))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let action = get_str(r, "action")?;
            let to_state = get_str(r, "to_state")?;
            let def = crate::workflows::load_stored(&get_str(r, "workflow_body")?)?;
            let terminal = def.state(&to_state).is_some_and(|s| s.terminal);
            let start = def.start_state().map(|s| s.key.clone()).unwrap_or_default();
            let from_state = get_str(r, "from_state")?;
            let kind = if action == "submit" {
                FeedKind::Application
            } else if terminal {
                FeedKind::Conclusion
            } else if from_state == start && action != "request_correction" {
                FeedKind::Acceptance
            } else {
                FeedKind::Handling
            };
            let applicant = if kind == FeedKind::Application {
                let id = get_i64(r, "applicant_id")?;
                let a = self.applicant(id).await?;
                let contact = self.applicant_contact(id).await?;
                match (a, contact) {
                    (Some(a), Some(c)) => {
                        let natural = a.kind == yiwang_domain::case::ApplicantKind::Natural;
                        Some(FeedApplicant {
                            id_type: if natural { "111" } else { "49" },
                            name: a.display_name,
                            // A resident ID number in full only where the reader may see it.
                            id_number: if natural && !scope.full_id_numbers {
                                yiwang_domain::codes::mask_middle(&c.id_number, 6, 4)
                            } else {
                                c.id_number
                            },
                            legal_representative: a.legal_rep,
                        })
                    }
                    _ => None,
                }
            } else {
                None
            };
            let (e_at, e_case, e_seq) = (
                get_i64(r, "at")?,
                get_i64(r, "case_id")?,
                get_i64(r, "seq")?,
            );
            let due_date = get_opt_i64(r, "due_day")?
                .filter(|_| kind == FeedKind::Acceptance)
                .and_then(|d| i32::try_from(d).ok())
                .map(|d| {
                    let (y, m, dd) = CivilDate::from_days_since_epoch(d).ymd();
                    format!("{y:04}-{m:02}-{dd:02}")
                });
            out.push(FeedEvent {
                cursor: format!("{e_at}.{e_case}.{e_seq}"),
                kind,
                case_number: get_str(r, "case_number")?,
                impl_code: get_str(r, "impl_code")?,
                item_name: get_str(r, "item_name")?,
                department_code: get_str(r, "department_code")?,
                region_code: get_str(r, "region_code")?,
                action,
                from_state,
                to_state,
                actor: get_str(r, "actor_name")?,
                actor_kind: get_str(r, "actor_kind")?,
                opinion: get_opt_str(r, "opinion")?,
                at: e_at,
                source: get_str(r, "source")?,
                due_date,
                applicant,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(
            parse_cursor("1795968000000.3.2"),
            Ok((1_795_968_000_000, 3, 2))
        );
        for bad in ["", "1.2", "1.2.3.4", "a.b.c", "1..2"] {
            assert_eq!(parse_cursor(bad), Err(ErrorCode::InvalidCursor), "{bad}");
        }
    }
}
