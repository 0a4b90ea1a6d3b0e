//! The business envelope every exchange request carries (X-Road's client/service/id/userId/issue
//! headers, with our 实施编码 and legal basis): who asks whom, for which service, in which case,
//! for what purpose, about whom (masked). Built only through [`Envelope::new`] or checked
//! deserialization, so a signed envelope is always a valid one.

use crate::canon::Canon;
use serde::{Deserialize, Serialize};
use std::fmt;
use yiwang_domain::case::CaseNumber;
use yiwang_domain::codes::{CreditCode, ImplCode, ResidentId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("message id must be 1–64 letters, digits, '.', '_' or '-'")]
    MessageId,
    #[error("system name must be 1–64 letters, digits, '.', '_' or '-'")]
    SystemName,
    #[error("service code must be 1–64 letters, digits, '.', '_', '/' or '-'")]
    ServiceCode,
    #[error("purpose and legal basis must be 1–200 characters without control characters")]
    Purpose,
    #[error("the end user must be given masked (at most 64 characters, with '*')")]
    EndUser,
    #[error("requester and provider must be different systems")]
    SameParty,
    #[error("the creation time must be after 1970")]
    CreatedAt,
}

fn id_chars(s: &str, extra: &[u8]) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b) || extra.contains(&b))
}

macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:expr, $err:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, EnvelopeError> {
                let check: fn(&str) -> bool = $check;
                if check(s) { Ok(Self(s.to_string())) } else { Err($err) }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = EnvelopeError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

checked_string!(
    /// A message id, unique per requester (the replay guard refuses a second use).
    MessageId,
    |s| id_chars(s, b""),
    EnvelopeError::MessageId
);
checked_string!(
    /// A department's information system (X-Road's subsystem), e.g. `yiwang-jinnan`.
    SystemName,
    |s| id_chars(s, b""),
    EnvelopeError::SystemName
);
checked_string!(
    /// A provider's service, e.g. `population/person-by-id/v1`.
    ServiceCode,
    |s| id_chars(s, b"/"),
    EnvelopeError::ServiceCode
);
checked_string!(
    /// Free text of a purpose (用证事由) or a legal basis: one line, 1–200 characters.
    Purpose,
    |s| {
        let n = s.chars().count();
        (1..=200).contains(&n) && !s.chars().any(char::is_control) && s.trim() == s
    },
    EnvelopeError::Purpose
);
checked_string!(
    /// The person or business the data is about, masked (`120112********1234`): the log and
    /// the signatures name the subject without holding the full number.
    EndUser,
    |s| (1..=64).contains(&s.chars().count()) && s.contains('*') && !s.chars().any(char::is_control),
    EnvelopeError::EndUser
);

impl EndUser {
    /// A resident, by the masked form of their 公民身份号码.
    pub fn resident(id: &ResidentId) -> Self {
        Self(id.masked())
    }
}

/// A department's system: the department's 统一社会信用代码 and the system's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Party {
    pub org: CreditCode,
    pub system: SystemName,
}

/// A checked envelope. Fields are read through the accessors; a changed envelope is a new one
/// built with [`Envelope::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EnvelopeFields", into = "EnvelopeFields")]
pub struct Envelope {
    pub(crate) f: EnvelopeFields,
}

/// The envelope's fields, as given to [`Envelope::new`] and as serialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeFields {
    pub message_id: MessageId,
    pub requester: Party,
    pub provider: Party,
    pub service: ServiceCode,
    /// Absent while the citizen's application is still a draft.
    pub case_number: Option<CaseNumber>,
    pub item_code: ImplCode,
    pub purpose: Purpose,
    pub legal_basis: Purpose,
    pub end_user: EndUser,
    /// Unix milliseconds, set by the requester (a provider's deadlines count from it).
    pub created_at: i64,
}

impl TryFrom<EnvelopeFields> for Envelope {
    type Error = EnvelopeError;
    fn try_from(f: EnvelopeFields) -> Result<Self, Self::Error> {
        Self::new(f)
    }
}
impl From<Envelope> for EnvelopeFields {
    fn from(e: Envelope) -> Self {
        e.f
    }
}

impl Envelope {
    pub fn new(f: EnvelopeFields) -> Result<Self, EnvelopeError> {
        if f.requester == f.provider {
            return Err(EnvelopeError::SameParty);
        }
        if f.created_at <= 0 {
            return Err(EnvelopeError::CreatedAt);
        }
        Ok(Self { f })
    }

    pub fn fields(&self) -> &EnvelopeFields {
        &self.f
    }
    pub fn message_id(&self) -> &MessageId {
        &self.f.message_id
    }
    pub fn requester(&self) -> &Party {
        &self.f.requester
    }
    pub fn provider(&self) -> &Party {
        &self.f.provider
    }
    pub fn created_at(&self) -> i64 {
        self.f.created_at
    }

    /// The canonical bytes (layout in `canon.rs`), fields in declaration order.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let f = &self.f;
        Canon::new("yiwang-exchange/envelope/v1")
            .str(f.message_id.as_str())
            .str(f.requester.org.as_str())
            .str(f.requester.system.as_str())
            .str(f.provider.org.as_str())
            .str(f.provider.system.as_str())
            .str(f.service.as_str())
            .opt_str(f.case_number.as_ref().map(CaseNumber::as_str))
            .str(f.item_code.as_str())
            .str(f.purpose.as_str())
            .str(f.legal_basis.as_str())
            .str(f.end_user.as_str())
            .i64(f.created_at)
            .finish()
    }

    /// The envelope as JSON (for storage and transport); [`Envelope::from_json`] checks it back.
    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string(&self.f).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(s)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn checked_strings_refuse_what_they_should() {
        assert!(MessageId::parse("7f3a-01").is_ok());
        assert!(MessageId::parse("").is_err());
        assert!(MessageId::parse("a b").is_err());
        assert!(MessageId::parse(&"x".repeat(65)).is_err());
        assert!(ServiceCode::parse("population/person/v1").is_ok());
        assert!(SystemName::parse("a/b").is_err());
        assert!(Purpose::parse("办理食品经营许可").is_ok());
        assert!(Purpose::parse(" leading").is_err());
        assert!(Purpose::parse("two\nlines").is_err());
        // A full ID number never enters an envelope.
        assert_eq!(
            EndUser::parse("12011219800101002X"),
            Err(EnvelopeError::EndUser)
        );
        let id = ResidentId::parse("12011219800101002X").unwrap();
        assert_eq!(EndUser::resident(&id).as_str(), "120112********002X");
    }
}
