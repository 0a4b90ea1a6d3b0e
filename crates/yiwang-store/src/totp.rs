//! Time-based one-time passwords (RFC 6238) with the parameters every authenticator app
//! understands: HMAC-SHA-1, 6 digits, 30-second steps, one step of clock skew either way.
//!
//! Pure functions over a base32 secret; the store remembers the last accepted step so that a
//! code is never accepted twice.

use totp_rs::{Algorithm, Builder, Secret, Totp};

/// The parameters, recorded with each stored secret.
pub const TOTP_ALG: &str = "totp-sha1-6-30";
/// Issuer shown by authenticator apps.
pub const ISSUER: &str = "yiwang";
const STEP_SECONDS: u64 = 30;

/// A fresh random 160-bit secret, base32 without padding.
pub fn new_secret() -> String {
    Secret::generate().to_base32()
}

fn build(secret: &str, account: &str) -> Option<Totp> {
    let bytes = Secret::try_from_base32(secret).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECONDS)
        .with_secret(bytes)
        .with_account_name(account.replace(':', "_"))
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

fn seconds(now_ms: i64) -> u64 {
    u64::try_from(now_ms.max(0) / 1000).unwrap_or(0)
}

/// The `otpauth://totp/…` URL to type or paste into an authenticator app.
pub fn otpauth_url(secret: &str, account: &str) -> Option<String> {
    build(secret, account)?.to_url().ok()
}

/// The time step of `code` if it is valid at `now_ms` (±1 step), else `None`.
pub fn verify(secret: &str, code: &str, now_ms: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = build(secret, "")?.check(&code, seconds(now_ms))?;
    i64::try_from(step).ok()
}

/// The code an authenticator shows at `now_ms` (for tests and tools).
pub fn code_at(secret: &str, now_ms: i64) -> Option<String> {
    Some(build(secret, "")?.generate(seconds(now_ms)).to_string())
}

/// The time step containing `now_ms`.
pub fn step_of(now_ms: i64) -> i64 {
    now_ms.max(0) / 1000 / STEP_SECONDS as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        assert_eq!(code_at(&secret, 59_000).unwrap(), "287082");
        assert_eq!(verify(&secret, "287082", 59_000), Some(1));
        assert_eq!(
            verify(&secret, "287082", 59_000 + 30_000),
            Some(1),
            "one step late"
        );
        assert_eq!(verify(&secret, "287082", 59_000 + 90_000), None);
        assert_eq!(verify(&secret, "28708", 59_000), None);
        assert_eq!(verify(&secret, "+28708", 59_000), None);
    }

    #[test]
    fn url_names_issuer_and_account() {
        let s = new_secret();
        let url = otpauth_url(&s, "zhang.san").unwrap();
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(url.contains(&s) && url.contains("issuer=yiwang"), "{url}");
    }
}
