//! The work waiting for a staff member (the console's dashboard): the cases of their worklist
//! counted by state, and the most urgent ones, overdue first, then due soon, then by due day.

use yiwang_domain::calendar::{Calendar, CivilDate, DeadlineState};
use yiwang_domain::policy::Principal;
use yiwang_store::case_read::WorkItem;
use yiwang_store::{Store, StoreError};

/// How many cases the dashboard lists by name.
pub const MOST_URGENT: usize = 10;

/// The work waiting, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkWaiting {
    /// Cases this person may act on now.
    pub total: usize,
    /// Past their due day.
    pub overdue: usize,
    /// At most two working days left.
    pub due_soon: usize,
    /// Per state (the applicant-facing status key), in order of first urgency.
    pub by_state: Vec<(String, usize)>,
    /// The most urgent cases: overdue first, then due soon, then the rest, each by due day.
    pub urgent: Vec<WorkItem>,
}

fn rank(d: DeadlineState) -> u8 {
    match d {
        DeadlineState::Red => 0,
        DeadlineState::Yellow => 1,
        DeadlineState::Normal => 2,
    }
}

/// Orders and counts `items` (a worklist).
pub fn summarise(mut items: Vec<WorkItem>) -> WorkWaiting {
    // Stable: within a rank the worklist's own order (soonest due first) stays.
    items.sort_by_key(|w| {
        (
            rank(w.deadline),
            w.summary.due_day.is_none(),
            w.summary.due_day,
        )
    });
    let count = |d: DeadlineState| items.iter().filter(|w| w.deadline == d).count();
    let (overdue, due_soon) = (count(DeadlineState::Red), count(DeadlineState::Yellow));
    let mut by_state: Vec<(String, usize)> = Vec::new();
    for w in &items {
        match by_state
            .iter_mut()
            .find(|(s, _)| *s == w.summary.applicant_status)
        {
            Some((_, n)) => *n += 1,
            None => by_state.push((w.summary.applicant_status.clone(), 1)),
        }
    }
    let total = items.len();
    items.truncate(MOST_URGENT);
    WorkWaiting {
        total,
        overdue,
        due_soon,
        by_state,
        urgent: items,
    }
}

/// The work waiting for `p` today.
pub async fn waiting(
    store: &Store,
    p: &Principal,
    calendar: &Calendar,
    today: CivilDate,
) -> Result<WorkWaiting, StoreError> {
    Ok(summarise(store.worklist(p, calendar, today).await?))
}
