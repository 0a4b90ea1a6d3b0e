//! The forgotten-password use case (忘记密码), for any channel: ask for a code (sent by SMS when
//! the identifier and the phone match an account; the same outcome either way), then set a new
//! password with the code. The channel keeps the browser's random ticket and passes its digest.
//!
//! Requests are limited per identifier and per client address (whether or not the identifier
//! is registered); wrong codes count against the address, and each code allows five tries.

use yiwang_domain::ErrorCode;
use yiwang_domain::case::ApplicantId;
use yiwang_domain::codes::Phone;
use yiwang_store::auth_guard::{Gate, Throttle};
use yiwang_store::password_reset::{ResetAttempt, ResetOutcome, ResetRequest, new_code};
use yiwang_store::{Store, StoreError};

const HOUR_MS: i64 = 60 * 60 * 1000;
/// Code requests per identifier per hour, counted whether or not an account has it.
pub const RESET_ACCOUNT_THROTTLE: Throttle = Throttle {
    limit: 5,
    window_ms: HOUR_MS,
    lock: false,
};
/// Code requests per client address per hour.
pub const RESET_ADDRESS_THROTTLE: Throttle = Throttle {
    limit: 20,
    window_ms: HOUR_MS,
    lock: false,
};

/// What asking for a code came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// Too many requests from this address or for this identifier: wait this long.
    Limited { retry_after_ms: i64 },
    /// The identifier and/or the phone do not read (the problem of each).
    Invalid {
        id: Option<ErrorCode>,
        phone: Option<ErrorCode>,
    },
    /// Asked: a code went out if an account matched (not told).
    Asked,
}

/// Checks `key` against `limit` and, when open, counts this attempt; the wait when limited.
async fn spend(
    store: &Store,
    key: &str,
    limit: Throttle,
    now_ms: i64,
) -> Result<Option<i64>, StoreError> {
    if let Gate::Limited { retry_after_ms } = store.throttle_gate(key, limit, now_ms).await? {
        return Ok(Some(retry_after_ms));
    }
    store.count_attempt(key, limit, now_ms).await?;
    Ok(None)
}

/// Asks for a code for the sign-in identifier `raw_id` and the registered phone `raw_phone`,
/// under the browser's ticket (`ticket_hash`). The address is throttled first: a throttled
/// address learns nothing about identifiers.
pub async fn request(
    store: &Store,
    raw_id: &str,
    raw_phone: &str,
    ticket_hash: &str,
    client: &str,
    now_ms: i64,
) -> Result<Asked, StoreError> {
    let addr_key = format!("reset-request:{client}");
    if let Some(wait) = spend(store, &addr_key, RESET_ADDRESS_THROTTLE, now_ms).await? {
        return Ok(Asked::Limited {
            retry_after_ms: wait,
        });
    }
    let id = if raw_id.len() <= 64 {
        ApplicantId::parse(raw_id)
    } else {
        Err(ErrorCode::InvalidApplicantId)
    };
    let phone = if raw_phone.len() <= 32 {
        Phone::parse(raw_phone)
    } else {
        Err(ErrorCode::InvalidInput)
    };
    let (id, phone) = match (id, phone) {
        (Ok(id), Ok(phone)) => (id, phone),
        (id, phone) => {
            return Ok(Asked::Invalid {
                id: id.err(),
                phone: phone.err(),
            });
        }
    };
    let id_key = store.reset_throttle_key(&id)?;
    if let Some(wait) = spend(store, &id_key, RESET_ACCOUNT_THROTTLE, now_ms).await? {
        return Ok(Asked::Limited {
            retry_after_ms: wait,
        });
    }
    let code = new_code();
    store
        .request_password_reset(&ResetRequest {
            id: &id,
            phone: &phone,
            ticket_hash,
            code: &code,
            client,
            now_ms,
        })
        .await?;
    Ok(Asked::Asked)
}

/// A new password as entered, with the code (and the authenticator code) that allow it.
#[derive(Debug, Clone, Copy)]
pub struct NewPassword<'a> {
    pub code: &'a str,
    pub totp: &'a str,
    pub password: &'a str,
    pub repeated: &'a str,
}

/// What setting the new password came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reset {
    /// Too many wrong codes from this address: wait this long.
    Limited { retry_after_ms: i64 },
    /// The code or the new password is empty.
    Incomplete,
    /// The new password and its repetition differ.
    Mismatch,
    /// The new password does not meet the password policy.
    Weak,
    /// A wrong code or authenticator code, no live code for the ticket, or no ticket at all.
    Refused,
    /// The password is changed; every session of the applicant has ended.
    Done,
}

/// Sets a new password with the code sent for the browser's ticket (`ticket_hash`, `None`
/// when the browser has none). Wrong codes count against the address (`address_limit`, the
/// sign-in limit per address).
pub async fn complete(
    store: &Store,
    ticket_hash: Option<&str>,
    entered: NewPassword<'_>,
    client: &str,
    address_limit: Throttle,
    now_ms: i64,
) -> Result<Reset, StoreError> {
    let addr_key = format!("reset-code:{client}");
    if let Gate::Limited { retry_after_ms } = store
        .throttle_gate(&addr_key, address_limit, now_ms)
        .await?
    {
        return Ok(Reset::Limited { retry_after_ms });
    }
    let NewPassword {
        code,
        totp,
        password,
        repeated,
    } = entered;
    if code.trim().is_empty() || password.is_empty() {
        return Ok(Reset::Incomplete);
    }
    if password != repeated {
        return Ok(Reset::Mismatch);
    }
    if !yiwang_store::password_acceptable(password) {
        return Ok(Reset::Weak);
    }
    let outcome = match ticket_hash {
        None => ResetOutcome::Refused,
        Some(ticket_hash) => {
            store
                .complete_password_reset(&ResetAttempt {
                    ticket_hash,
                    code: code.get(..code.len().min(64)).unwrap_or_default(),
                    totp: totp.get(..totp.len().min(64)).unwrap_or_default(),
                    new_password: password,
                    client,
                    now_ms,
                })
                .await?
        }
    };
    match outcome {
        ResetOutcome::Done(_) => Ok(Reset::Done),
        ResetOutcome::Refused => {
            store
                .count_attempt(&addr_key, address_limit, now_ms)
                .await?;
            Ok(Reset::Refused)
        }
    }
}
