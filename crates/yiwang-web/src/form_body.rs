//! The strict parser of posted form bodies (`application/x-www-form-urlencoded`): the raw
//! pairs, and the raw answers to a form definition. Kept apart from the HTML of the forms
//! (`forms_html`) because handlers read bodies that no form renders (declarations, bundles).

use yiwang_domain::forms::{FormDefinition, MAX_PAIRS, MAX_VALUE_BYTES, RawAnswers, RawError};

/// Largest body [`parse_pairs`] reads.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode(part: &[u8]) -> Result<String, RawError> {
    let mut out = Vec::with_capacity(part.len());
    let mut i = 0;
    while let Some(&byte) = part.get(i) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = part.get(i + 1).copied().and_then(hex);
                let lo = part.get(i + 2).copied().and_then(hex);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(RawError::Malformed);
                };
                out.push(hi * 16 + lo);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| RawError::Malformed)
}

/// Strictly decodes an `application/x-www-form-urlencoded` body: bad percent escapes and
/// invalid UTF-8 (raw or escaped) are refused, not replaced; sizes are capped.
pub fn parse_pairs(body: &[u8]) -> Result<Vec<(String, String)>, RawError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(RawError::TooLong {
            name: String::new(),
        });
    }
    let mut out = Vec::new();
    for part in body.split(|b| *b == b'&') {
        if part.is_empty() {
            continue;
        }
        if out.len() >= MAX_PAIRS {
            return Err(RawError::TooManyValues { max: MAX_PAIRS });
        }
        // Name and value around the first `=`; no `=`: an empty value.
        let mut name_value = part.splitn(2, |b| *b == b'=');
        let k = name_value.next().unwrap_or_default();
        let v = name_value.next().unwrap_or_default();
        if v.len() > 3 * MAX_VALUE_BYTES {
            return Err(RawError::TooLong {
                name: String::new(),
            });
        }
        out.push((decode(k)?, decode(v)?));
    }
    Ok(out)
}

/// A posted form body as raw answers to `def` (forged names, repeats, oversize and malformed
/// bodies refused as a whole).
pub fn parse_form_body(def: &FormDefinition, body: &[u8]) -> Result<RawAnswers, RawError> {
    RawAnswers::from_pairs(def, parse_pairs(body)?)
}
