//! Facts said in words on the guide page: time limits, trips in person and paper copies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_domain::catalog::TimeLimit;
use yiwang_domain::enums::{CaseType, TimeUnit};
use yiwang_i18n::Lang;
use yiwang_web::portal::words::{paper, time_limits, visits};

fn wd(n: u32) -> TimeLimit {
    TimeLimit {
        amount: n,
        unit: TimeUnit::WorkingDays,
    }
}

fn nd(n: u32) -> TimeLimit {
    TimeLimit {
        amount: n,
        unit: TimeUnit::NaturalDays,
    }
}

#[test]
fn time_limits_in_words() {
    use CaseType::*;
    assert_eq!(
        time_limits(Lang::Zh, Promised, wd(5), wd(20)),
        "承诺 5 个工作日办结（法定 20 个工作日）"
    );
    assert_eq!(
        time_limits(Lang::En, Promised, wd(5), wd(20)),
        "Promised: 5 working days (statutory: 20 working days)"
    );
    assert_eq!(
        time_limits(Lang::En, Promised, wd(1), nd(1)),
        "Promised: 1 working day (statutory: 1 calendar day)"
    );
    assert_eq!(
        time_limits(Lang::Zh, Promised, wd(10), nd(30)),
        "承诺 10 个工作日办结（法定 30 个自然日）"
    );
    assert_eq!(
        time_limits(Lang::Zh, Immediate, wd(0), wd(1)),
        "即来即办（法定 1 个工作日）"
    );
    assert_eq!(
        time_limits(Lang::En, Immediate, wd(0), wd(1)),
        "Handled on the spot (statutory: 1 working day)"
    );
    assert_eq!(
        time_limits(Lang::Zh, Promised, wd(0), wd(3)),
        "承诺当天办结（法定 3 个工作日）"
    );
}

#[test]
fn trips_in_words() {
    assert_eq!(visits(Lang::Zh, 0), "不用跑（全程网办）");
    assert_eq!(visits(Lang::Zh, 1), "最多跑一次");
    assert_eq!(visits(Lang::Zh, 2), "最多跑两次");
    assert_eq!(visits(Lang::Zh, 3), "最多跑 3 次");
    assert_eq!(visits(Lang::En, 0), "No trip needed (fully online)");
    assert_eq!(visits(Lang::En, 1), "At most one trip in person");
    assert_eq!(visits(Lang::En, 2), "At most two trips in person");
}

#[test]
fn paper_copies_in_words() {
    assert_eq!(paper(Lang::Zh, 1, 0), "原件 1 份");
    assert_eq!(paper(Lang::Zh, 1, 2), "原件 1 份、复印件 2 份");
    assert_eq!(paper(Lang::Zh, 0, 0), "无需纸质材料");
    assert_eq!(paper(Lang::En, 1, 1), "1 original, 1 copy");
    assert_eq!(paper(Lang::En, 2, 3), "2 originals, 3 copies");
    assert_eq!(paper(Lang::En, 0, 0), "No paper needed");
}
