//! The counter intake use case (窗口收件, and 代办 at a service point): the staff member has
//! checked the citizen's identity document in person; the citizen's account is verified (or
//! registered without a password, or reclaimed from an unverified holder of the number), and a
//! draft entered by staff is started for the item. The draft is then filled like any other
//! (`crate::apply`).

use yiwang_domain::case::CaseSource;
use yiwang_domain::policy::{Principal, may_intake};
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_store::identity::{IdentityClaim, VerificationRecord, Verified};
use yiwang_store::{Actor, PublishedImplementation, Store, StoreError};

/// A published implementation this staff member may take in, with the channel it would be.
pub struct Offer {
    pub implementation: PublishedImplementation,
    pub source: CaseSource,
}

/// The published implementations `p` may take in.
pub async fn offers(store: &Store, p: &Principal) -> Result<Vec<Offer>, StoreError> {
    Ok(store
        .published_all()
        .await?
        .into_iter()
        .filter_map(|imp| {
            let i = &imp.implementation;
            let source = may_intake(p, &i.department_code, &i.region)?;
            Some(Offer {
                implementation: imp,
                source,
            })
        })
        .collect())
}

/// What starting an intake came to.
pub enum Intake {
    /// The draft is started; `reclaimed` when the number was taken back from another
    /// (unverified) account, which the staff member is told.
    Started {
        application_id: i64,
        reclaimed: bool,
    },
    /// The identity is refused (a verified account under another name or phone, a missing
    /// legal representative, a name that does not read): the reason.
    Refused(ErrorCode),
}

/// Verifies the citizen in person and starts a draft of `code` entered by `p`.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    store: &Store,
    p: &Principal,
    client: &str,
    claim: &IdentityClaim,
    record: &VerificationRecord,
    code: &ImplCode,
    source: CaseSource,
    now_ms: i64,
) -> Result<Intake, StoreError> {
    let verified = match store
        .verify_identity(claim, record, &Actor::principal(p, client), now_ms)
        .await
    {
        Ok(v) => v,
        Err(e) if e.code() != ErrorCode::Internal => return Ok(Intake::Refused(e.code())),
        Err(e) => return Err(e),
    };
    let app = store
        .create_application(
            verified.applicant().id,
            code,
            source,
            Some(p.user_id),
            now_ms,
        )
        .await?;
    Ok(Intake::Started {
        application_id: app.id,
        reclaimed: matches!(verified, Verified::Reclaimed { .. }),
    })
}
