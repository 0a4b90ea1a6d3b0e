//! Constants of server-side sessions (staff and applicant alike). A leaf: it depends on
//! nothing.

/// Sessions (and API tokens) are marked as used at most this often.
pub const TOUCH_INTERVAL_MS: i64 = 60_000;
