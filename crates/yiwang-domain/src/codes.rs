//! Checked identifiers. Every code from outside is parsed into one of these at the edge.

use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The five levels of the statistical division code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Province = 1,
    City = 2,
    County = 3,
    Township = 4,
    Village = 5,
}

impl RegionLevel {
    pub fn from_number(n: i64) -> Option<Self> {
        Some(match n {
            1 => Self::Province,
            2 => Self::City,
            3 => Self::County,
            4 => Self::Township,
            5 => Self::Village,
            _ => return None,
        })
    }
    pub fn number(self) -> i64 {
        self as i64
    }
    /// How many leading digits of the 12-digit code are significant at this level.
    pub fn prefix_len(self) -> usize {
        match self {
            Self::Province => 2,
            Self::City => 4,
            Self::County => 6,
            Self::Township => 9,
            Self::Village => 12,
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::City => "city",
            Self::County => "county",
            Self::Township => "township",
            Self::Village => "village",
        }
    }
}

/// A region code normalised to the 12-digit statistical form (GB/T 2260 prefix + township + village).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    /// Accepts 2, 4, 6, 9 or 12 digits and pads with zeros to 12.
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        let s = s.trim();
        if !matches!(s.len(), 2 | 4 | 6 | 9 | 12) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ErrorCode::InvalidRegionCode);
        }
        let mut code = String::with_capacity(12);
        code.push_str(s);
        while code.len() < 12 {
            code.push('0');
        }
        if &code[0..2] == "00" {
            return Err(ErrorCode::InvalidRegionCode);
        }
        Ok(Self(code))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn level(&self) -> RegionLevel {
        let c = self.0.as_bytes();
        let zero = |r: std::ops::Range<usize>| c[r].iter().all(|b| *b == b'0');
        if !zero(9..12) {
            RegionLevel::Village
        } else if !zero(6..9) {
            RegionLevel::Township
        } else if !zero(4..6) {
            RegionLevel::County
        } else if !zero(2..4) {
            RegionLevel::City
        } else {
            RegionLevel::Province
        }
    }
    /// The significant prefix ("120112" for a county).
    pub fn prefix(&self) -> &str {
        &self.0[..self.level().prefix_len()]
    }
    /// The code of the ancestor at `level` (itself when at that level).
    pub fn ancestor(&self, level: RegionLevel) -> Option<RegionCode> {
        if level > self.level() {
            return None;
        }
        Self::parse(&self.0[..level.prefix_len()]).ok()
    }
    pub fn parent(&self) -> Option<RegionCode> {
        let lv = RegionLevel::from_number(self.level().number() - 1)?;
        self.ancestor(lv)
    }
    /// Ancestors from the province down to this region, inclusive.
    pub fn path(&self) -> Vec<RegionCode> {
        (1..=self.level().number())
            .filter_map(RegionLevel::from_number)
            .filter_map(|l| self.ancestor(l))
            .collect()
    }
    /// Inclusive bounds of all 12-digit codes in this region's subtree; used for indexed range scans.
    pub fn subtree_bounds(&self) -> (String, String) {
        let p = self.prefix();
        let mut hi = p.to_string();
        while hi.len() < 12 {
            hi.push('9');
        }
        (self.0.clone(), hi)
    }
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(self.prefix())
    }
}

impl TryFrom<String> for RegionCode {
    type Error = ErrorCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<RegionCode> for String {
    fn from(c: RegionCode) -> String {
        c.0
    }
}
impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const CREDIT_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// 统一社会信用代码 (GB 32100-2015), 18 characters with a mod-31 check character.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

impl CreditCode {
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        let s = s.trim().to_ascii_uppercase();
        if s.len() != 18 {
            return Err(ErrorCode::InvalidCreditCode);
        }
        let mut values = [0u32; 18];
        for (i, b) in s.bytes().enumerate() {
            match CREDIT_CHARS.iter().position(|c| *c == b) {
                Some(v) => values[i] = v as u32,
                None => return Err(ErrorCode::InvalidCreditCode),
            }
        }
        if values[17] != Self::check_value(&values[..17]) {
            return Err(ErrorCode::CreditCodeCheckFailed);
        }
        Ok(Self(s))
    }
    fn check_value(first17: &[u32]) -> u32 {
        let sum: u32 = first17.iter().zip(CREDIT_WEIGHTS).map(|(v, w)| v * w).sum();
        (31 - sum % 31) % 31
    }
    /// Completes 17 valid characters with their check character (used by tests and demo tools).
    pub fn with_check_char(first17: &str) -> Result<Self, ErrorCode> {
        let mut values = Vec::with_capacity(17);
        for b in first17.bytes() {
            match CREDIT_CHARS.iter().position(|c| *c == b) {
                Some(v) => values.push(v as u32),
                None => return Err(ErrorCode::InvalidCreditCode),
            }
        }
        if values.len() != 17 {
            return Err(ErrorCode::InvalidCreditCode);
        }
        let check = CREDIT_CHARS[Self::check_value(&values) as usize] as char;
        Self::parse(&format!("{first17}{check}"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CreditCode {
    type Error = ErrorCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<CreditCode> for String {
    fn from(c: CreditCode) -> String {
        c.0
    }
}
impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn code_chars_ok(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// 基本编码 of a standard item: up to 10 letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BasicCode(String);

impl BasicCode {
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        let s = s.trim();
        if s.len() > 10 || !code_chars_ok(s) {
            return Err(ErrorCode::InvalidBasicCode);
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 实施编码 of an implementation: up to 36 letters, digits or hyphens.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImplCode(String);

impl ImplCode {
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        let s = s.trim();
        if s.len() > 36 || !code_chars_ok(s) {
            return Err(ErrorCode::InvalidImplCode);
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_impls {
    ($($t:ty),*) => {$(
        impl TryFrom<String> for $t {
            type Error = ErrorCode;
            fn try_from(s: String) -> Result<Self, Self::Error> { Self::parse(&s) }
        }
        impl From<$t> for String {
            fn from(c: $t) -> String { c.0 }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.0) }
        }
    )*};
}
string_newtype_impls!(BasicCode, ImplCode);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn region_levels_and_paths() {
        let v = RegionCode::parse("120112100201").unwrap();
        assert_eq!(v.level(), RegionLevel::Village);
        let path: Vec<String> = v.path().into_iter().map(String::from).collect();
        assert_eq!(
            path,
            [
                "120000000000",
                "120100000000",
                "120112000000",
                "120112100000",
                "120112100201"
            ]
        );
        let county = RegionCode::parse("120112").unwrap();
        assert_eq!(county.level(), RegionLevel::County);
        assert!(county.contains(&v));
        assert!(!RegionCode::parse("120113").unwrap().contains(&v));
        assert_eq!(
            county.subtree_bounds(),
            ("120112000000".into(), "120112999999".into())
        );
        assert!(RegionCode::parse("12011").is_err());
        assert!(RegionCode::parse("12a112").is_err());
        assert!(RegionCode::parse("000000").is_err());
    }

    #[test]
    fn credit_code_check_character() {
        // A well-known published example code.
        assert!(CreditCode::parse("91350100M000100Y43").is_ok());
        assert_eq!(
            CreditCode::parse("91350100M000100Y44"),
            Err(ErrorCode::CreditCodeCheckFailed)
        );
        assert_eq!(
            CreditCode::parse("91350100M000100Y4"),
            Err(ErrorCode::InvalidCreditCode)
        );
        assert_eq!(
            CreditCode::parse("91350100I000100Y43"),
            Err(ErrorCode::InvalidCreditCode)
        );
    }

    #[test]
    fn impl_code_limits() {
        assert!(ImplCode::parse(&"A".repeat(36)).is_ok());
        assert!(ImplCode::parse(&"A".repeat(37)).is_err());
        assert!(ImplCode::parse("1112 0112").is_err());
        assert!(BasicCode::parse("000117001").is_ok());
        assert!(BasicCode::parse("00011700123").is_err());
    }

    proptest! {
        #[test]
        fn any_17_chars_complete_to_a_valid_code(s in "[0-9A-HJ-NP-RTUWXY]{17}") {
            let code = CreditCode::with_check_char(&s).unwrap();
            prop_assert!(CreditCode::parse(code.as_str()).is_ok());
            // Changing any one character breaks the check.
            let mut bytes = code.as_str().as_bytes().to_vec();
            bytes[3] = if bytes[3] == b'0' { b'1' } else { b'0' };
            let altered = String::from_utf8(bytes).unwrap();
            prop_assert!(CreditCode::parse(&altered).is_err());
        }

        #[test]
        fn region_parse_never_panics(s in "\\PC{0,20}") {
            let _ = RegionCode::parse(&s);
            let _ = CreditCode::parse(&s);
            let _ = ImplCode::parse(&s);
        }
    }
}
