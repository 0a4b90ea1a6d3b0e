//! Documents (文书) a case produces: their kinds, their status, and the verification code that
//! names a document on the public verification page.

use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of document a case produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 受理通知书
    Acceptance,
    /// 不予受理决定书
    NonAcceptance,
    /// 补正材料通知书（一次性告知书）
    Correction,
    /// 准予行政许可决定书
    Approval,
    /// 不予行政许可决定书
    Refusal,
    /// 办结通知书
    Completion,
    /// 结果证照: the licence or certificate the case produced
    Certificate,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 7] = [
        DocumentKind::Acceptance,
        DocumentKind::NonAcceptance,
        DocumentKind::Correction,
        DocumentKind::Approval,
        DocumentKind::Refusal,
        DocumentKind::Completion,
        DocumentKind::Certificate,
    ];

    /// Stable key: stored in the database, used in the API and in message keys
    /// (`docs.title.<key>`).
    pub fn key(self) -> &'static str {
        match self {
            DocumentKind::Acceptance => "acceptance",
            DocumentKind::NonAcceptance => "non_acceptance",
            DocumentKind::Correction => "correction",
            DocumentKind::Approval => "approval",
            DocumentKind::Refusal => "refusal",
            DocumentKind::Completion => "completion",
            DocumentKind::Certificate => "certificate",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// Whether a document still stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    Valid,
    Revoked,
}

impl DocumentStatus {
    pub fn key(self) -> &'static str {
        match self {
            DocumentStatus::Valid => "valid",
            DocumentStatus::Revoked => "revoked",
        }
    }
    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "valid" => Some(DocumentStatus::Valid),
            "revoked" => Some(DocumentStatus::Revoked),
            _ => None,
        }
    }
}

/// The code printed on a document and in its QR address: 20 characters of RFC 4648 base32
/// (A–Z, 2–7), 100 random bits, so it cannot be guessed or enumerated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VerifyCode(String);

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

impl VerifyCode {
    pub const LEN: usize = 20;
    /// Random bytes a caller passes to [`VerifyCode::from_random`].
    pub const RANDOM_BYTES: usize = 13;

    /// The code from 13 random bytes (the first 100 bits are used). Randomness is a parameter:
    /// callers draw it from a cryptographic generator.
    pub fn from_random(bytes: [u8; Self::RANDOM_BYTES]) -> Self {
        let mut out = String::with_capacity(Self::LEN);
        let mut acc: u32 = 0;
        let mut bits = 0;
        for b in bytes {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 5 && out.len() < Self::LEN {
                bits -= 5;
                out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
            }
            acc &= (1 << bits) - 1;
        }
        Self(out)
    }

    /// Parses a code as typed or scanned: surrounding spaces are ignored, lower case is
    /// accepted; anything else than 20 base32 characters is `invalid_input`.
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        let s = s.trim();
        if s.len() != Self::LEN {
            return Err(ErrorCode::InvalidInput);
        }
        let up = s.to_ascii_uppercase();
        if !up.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(ErrorCode::InvalidInput);
        }
        Ok(Self(up))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VerifyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_base32_and_round_trip() {
        let c = VerifyCode::from_random([0xff; 13]);
        assert_eq!(c.as_str(), "77777777777777777777");
        let c = VerifyCode::from_random([0; 13]);
        assert_eq!(c.as_str(), "AAAAAAAAAAAAAAAAAAAA");
        let c = VerifyCode::from_random([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
        assert_eq!(c.as_str().len(), 20);
        assert_eq!(VerifyCode::parse(&c.as_str().to_lowercase()), Ok(c.clone()));
        assert_eq!(VerifyCode::parse(&format!(" {c} ")), Ok(c));
        for bad in [
            "",
            "AAAA",
            "AAAAAAAAAAAAAAAAAAA1",
            "AAAAAAAAAAAAAAAAAAAAA",
            "ＡAAAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(
                VerifyCode::parse(bad),
                Err(ErrorCode::InvalidInput),
                "{bad}"
            );
        }
        // Different randomness gives different codes (100 bits are used).
        let a = VerifyCode::from_random([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0b0001_0000]);
        assert_ne!(a, VerifyCode::from_random([0; 13]));
    }

    #[test]
    fn kinds_and_statuses_have_stable_keys() {
        for k in DocumentKind::ALL {
            assert_eq!(DocumentKind::from_key(k.key()), Some(k));
        }
        assert_eq!(DocumentKind::from_key("other"), None);
        assert_eq!(
            DocumentStatus::from_key("revoked"),
            Some(DocumentStatus::Revoked)
        );
    }
}
