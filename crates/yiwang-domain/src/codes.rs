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

/// Keeps the first `head` and last `tail` characters and stars the rest (e.g. `138****5678`).
/// Values too short to keep anything are starred whole.
pub fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let n = s.chars().count();
    if n <= head + tail {
        return "*".repeat(n);
    }
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { c } else { '*' })
        .collect()
}

const RESIDENT_ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const RESIDENT_ID_CHECK: &[u8; 11] = b"10X98765432";

/// 公民身份号码 (GB 11643-1999): a 6-digit address code, the birth date `YYYYMMDD`, a 3-digit
/// sequence and an ISO 7064 MOD 11-2 check character (`0`–`9` or `X`).
///
/// Personal data: `Display` and `Debug` show it masked (`120112********1234`); only
/// [`ResidentId::reveal`] gives the full number, so logs and templates cannot leak it by accident.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId(String);

impl ResidentId {
    /// Accepts 18 characters (spaces ignored, `x` read as `X`) with a valid date and check character.
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        let s: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let b = s.as_bytes();
        if b.len() != 18
            || !b[..17].iter().all(u8::is_ascii_digit)
            || !(b[17].is_ascii_digit() || b[17] == b'X')
        {
            return Err(ErrorCode::InvalidInput);
        }
        if &s[0..2] == "00" || !Self::date_ok(&s[6..14]) {
            return Err(ErrorCode::InvalidInput);
        }
        if b[17] != Self::check_char(&s[..17]) {
            return Err(ErrorCode::InvalidInput);
        }
        Ok(Self(s))
    }
    fn check_char(first17: &str) -> u8 {
        let sum: u32 = first17
            .bytes()
            .zip(RESIDENT_ID_WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        RESIDENT_ID_CHECK[(sum % 11) as usize]
    }
    fn date_ok(d: &str) -> bool {
        let (Ok(y), Ok(m), Ok(day)) = (
            d[0..4].parse::<u32>(),
            d[4..6].parse::<u32>(),
            d[6..8].parse::<u32>(),
        ) else {
            return false;
        };
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let days = match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        (1900..=2100).contains(&y) && (1..=days).contains(&day)
    }
    /// Completes 17 digits with their check character (tests and demo data).
    pub fn with_check_char(first17: &str) -> Result<Self, ErrorCode> {
        if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ErrorCode::InvalidInput);
        }
        let check = Self::check_char(first17) as char;
        Self::parse(&format!("{first17}{check}"))
    }
    /// The full number. Call only where the viewer is allowed to see it (and it is audited).
    pub fn reveal(&self) -> &str {
        &self.0
    }
    /// `120112********1234`: address code and last four kept.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 6, 4)
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}
impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

/// A mainland mobile number: 11 digits, `1` then `3`–`9`. Spaces, hyphens and a `+86`/`86`
/// prefix are dropped. Personal data: shown masked (`138****5678`) unless [`Phone::reveal`]ed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        let t = s.trim();
        let t = t.strip_prefix('+').unwrap_or(t);
        if !t
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        {
            return Err(ErrorCode::InvalidInput);
        }
        let digits: String = t.chars().filter(char::is_ascii_digit).collect();
        let digits = match digits.strip_prefix("86") {
            Some(rest) if digits.len() == 13 => rest.to_string(),
            _ => digits,
        };
        let b = digits.as_bytes();
        if b.len() != 11 || b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
            return Err(ErrorCode::InvalidInput);
        }
        Ok(Self(digits))
    }
    /// The full number. Call only where the viewer is allowed to see it (and it is audited).
    pub fn reveal(&self) -> &str {
        &self.0
    }
    /// `138****5678`.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 3, 4)
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}
impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

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

#[cfg(test)]
mod personal_data_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn resident_id_check_character_and_mask() {
        // The example number of GB 11643-1999 itself.
        let id = ResidentId::parse("11010519491231002x").unwrap();
        assert_eq!(id.reveal(), "11010519491231002X");
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(id.to_string(), "110105********002X");
        assert!(!format!("{id:?}").contains("19491231"));
        assert!(ResidentId::parse("110105194912310021").is_err());
        assert!(ResidentId::parse("11010519491331002X").is_err()); // month 13
        assert!(ResidentId::parse("11010519490230002X").is_err()); // 30 February
        assert!(ResidentId::parse("11010519491231002").is_err());
        assert!(ResidentId::parse("1101051949123100ZX").is_err());
        let made = ResidentId::with_check_char("12011219800101123").unwrap();
        assert_eq!(made.masked().len(), 18);
        assert!(made.masked().starts_with("120112********"));
    }

    #[test]
    fn phone_normalised_and_masked() {
        let p = Phone::parse("+86 138-1234-5678").unwrap();
        assert_eq!(p.reveal(), "13812345678");
        assert_eq!(p.masked(), "138****5678");
        assert_eq!(format!("{p:?}"), "Phone(138****5678)");
        assert_eq!(Phone::parse("8613812345678").unwrap(), p);
        assert!(Phone::parse("23812345678").is_err());
        assert!(Phone::parse("12812345678").is_err());
        assert!(Phone::parse("1381234567").is_err());
        assert!(Phone::parse("138123456789").is_err());
        assert!(Phone::parse("138a2345678").is_err());
        assert_eq!(mask_middle("ab", 1, 1), "**");
    }

    fn first17() -> impl Strategy<Value = String> {
        (
            "[1-9][0-9]{5}",
            1900u32..=2100,
            1u32..=12,
            1u32..=28,
            "[0-9]{3}",
        )
            .prop_map(|(a, y, m, d, s)| format!("{a}{y:04}{m:02}{d:02}{s}"))
    }

    proptest! {
        #[test]
        fn any_valid_prefix_completes_and_one_changed_digit_fails(
            s in first17(),
            pos in 0usize..17,
            delta in 1u8..10,
        ) {
            let id = ResidentId::with_check_char(&s).unwrap();
            prop_assert!(ResidentId::parse(id.reveal()).is_ok());
            let masked = id.masked();
            prop_assert_eq!(&masked[..6], &s[..6]);
            prop_assert_eq!(&masked[6..14], "********");
            // MOD 11-2 catches every single-digit substitution.
            let mut b = id.reveal().as_bytes().to_vec();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let altered = String::from_utf8(b).unwrap();
            prop_assert!(ResidentId::parse(&altered).is_err());
        }

        #[test]
        fn personal_data_parsers_never_panic(s in "\\PC{0,30}") {
            let _ = ResidentId::parse(&s);
            let _ = Phone::parse(&s);
            let _ = mask_middle(&s, 3, 4);
        }
    }
}
