//! 一件事 (bundles): one application for a life event, made of one case per item; the
//! combined status the applicant sees is decided here from the parts.

/// Most items one bundle may hold.
pub const BUNDLE_MAX_ITEMS: usize = 20;

/// The applicant-facing case status (group `case_status`) of a case waiting for the applicant.
pub const WAITS_FOR_APPLICANT: &str = "correction_needed";

/// The combined status of a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleStatus {
    /// Some parts are not submitted yet.
    Drafting,
    /// Some case waits for the applicant (a correction notice).
    NeedsApplicant,
    /// Every part is submitted; some are still being handled.
    InProgress,
    /// Every case is finished.
    Finished,
}

impl BundleStatus {
    pub fn key(self) -> &'static str {
        match self {
            BundleStatus::Drafting => "drafting",
            BundleStatus::NeedsApplicant => "needs_applicant",
            BundleStatus::InProgress => "in_progress",
            BundleStatus::Finished => "finished",
        }
    }
}

/// What the combined status needs to know of one part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartState<'a> {
    /// The part has become a case.
    pub submitted: bool,
    /// The case's applicant-facing status, once submitted.
    pub status: Option<&'a str>,
    /// The case is finished.
    pub terminal: bool,
}

/// The combined status: drafting while any part is a draft; then waiting for the applicant
/// while any case asks for a correction; finished when every case is; in progress otherwise.
pub fn bundle_status<'a>(parts: impl IntoIterator<Item = PartState<'a>> + Clone) -> BundleStatus {
    let all = || parts.clone().into_iter();
    if all().any(|p| !p.submitted) {
        BundleStatus::Drafting
    } else if all().any(|p| p.status == Some(WAITS_FOR_APPLICANT)) {
        BundleStatus::NeedsApplicant
    } else if all().all(|p| p.terminal) {
        BundleStatus::Finished
    } else {
        BundleStatus::InProgress
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn draft() -> PartState<'static> {
        PartState {
            submitted: false,
            status: None,
            terminal: false,
        }
    }
    fn case(status: &'static str, terminal: bool) -> PartState<'static> {
        PartState {
            submitted: true,
            status: Some(status),
            terminal,
        }
    }

    #[test]
    fn the_combined_status_follows_the_parts() {
        let status = |parts: &[PartState<'static>]| bundle_status(parts.iter().copied());
        assert_eq!(
            status(&[draft(), case("approved", true)]),
            BundleStatus::Drafting
        );
        assert_eq!(
            status(&[case(WAITS_FOR_APPLICANT, false), case("approved", true)]),
            BundleStatus::NeedsApplicant
        );
        assert_eq!(
            status(&[case("under_review", false), case("delivered", true)]),
            BundleStatus::InProgress
        );
        assert_eq!(
            status(&[case("delivered", true), case("not_accepted", true)]),
            BundleStatus::Finished
        );
        // No parts: nothing left to do (a bundle is never created empty).
        assert_eq!(status(&[]), BundleStatus::Finished);
        assert_eq!(BundleStatus::NeedsApplicant.key(), "needs_applicant");
    }

    fn part() -> impl Strategy<Value = PartState<'static>> {
        let statuses = prop::sample::select(vec![
            "submitted",
            WAITS_FOR_APPLICANT,
            "under_review",
            "delivered",
        ]);
        (any::<bool>(), statuses, any::<bool>()).prop_map(|(submitted, s, terminal)| {
            if submitted {
                case(s, terminal)
            } else {
                draft()
            }
        })
    }

    proptest! {
        #[test]
        fn order_does_not_matter_and_one_draft_decides(
            mut parts in prop::collection::vec(part(), 0..8),
        ) {
            let before = bundle_status(parts.iter().copied());
            parts.reverse();
            prop_assert_eq!(bundle_status(parts.iter().copied()), before);
            parts.push(draft());
            prop_assert_eq!(bundle_status(parts.iter().copied()), BundleStatus::Drafting);
        }
    }
}
