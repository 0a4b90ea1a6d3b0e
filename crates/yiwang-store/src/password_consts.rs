//! Constants of passwords: the reset code and the temporary staff password. A leaf: it
//! depends on nothing, so the web and the store name the same values.

/// How long a password-reset code may be used.
pub const RESET_CODE_TTL_MS: i64 = 10 * 60 * 1000;
/// Tries per code (wrong ones and the right one); after this many wrong ones it is locked.
pub const RESET_CODE_TRIES: i64 = 5;
/// SMS text of the code; arguments `code` and `minutes`.
pub const RESET_CODE_MESSAGE: &str = "notify.password_reset_code";
/// Message-centre entry after a reset (no arguments).
pub const RESET_DONE_MESSAGE: &str = "notify.password_reset_done";
/// Closed and expired codes are deleted this long after they expire.
pub(crate) const RESET_KEEP_MS: i64 = 24 * 60 * 60 * 1000;

/// Letters and digits of a temporary password that cannot be mistaken for each other when
/// read out or copied by hand (no 0/O/o, 1/l/I).
pub(crate) const TEMPORARY_ALPHABET: &[u8] =
    b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Groups of a temporary password, joined by `-`.
pub(crate) const TEMPORARY_GROUPS: usize = 3;
/// Characters per group of a temporary password.
pub(crate) const TEMPORARY_GROUP_LEN: usize = 4;

/// Stage name of a pending sign-in that must choose a new password (`login_challenges.stage`).
pub(crate) const CHANGE_STAGE: &str = "password";
