//! Text normalisation shared by the index and the query side: full-width to half-width,
//! traditional to simplified characters, ASCII lower case, and every character that is neither
//! a letter nor a digit (punctuation, query syntax, emoji, control characters) turned into a
//! space. The same function runs over catalog text and over what a citizen types, so the two
//! always meet on the same form.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Longest query analysed, in characters; the rest is dropped (and the reader told).
pub const MAX_QUERY_CHARS: usize = 64;

/// The traditional → simplified table shipped in `data/t2s.txt` (see `data/NOTICE`).
static T2S_TEXT: &str = include_str!("../data/t2s.txt");

fn t2s() -> &'static HashMap<char, char> {
    static MAP: OnceLock<HashMap<char, char>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m = HashMap::with_capacity(3000);
        for line in T2S_TEXT.lines() {
            let mut it = line.split_whitespace();
            if let (Some(t), Some(s)) = (it.next(), it.next()) {
                let (mut tc, mut sc) = (t.chars(), s.chars());
                if let (Some(a), None, Some(b), None) = (tc.next(), tc.next(), sc.next(), sc.next())
                {
                    m.insert(a, b);
                }
            }
        }
        m
    })
}

/// True for CJK unified ideographs (the basic block and extension A).
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// One character in its search form, or `None` when it separates words.
fn fold(c: char) -> Option<char> {
    let c = match c {
        // Full-width ASCII variants and the ideographic space.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(' '),
        '\u{3000}' => ' ',
        _ => c,
    };
    if c.is_ascii_alphanumeric() {
        return Some(c.to_ascii_lowercase());
    }
    if is_han(c) {
        return Some(t2s().get(&c).copied().unwrap_or(c));
    }
    if c.is_alphanumeric() && !c.is_ascii() {
        // Other scripts' letters and digits (e.g. Ｌatin with accents) are kept, lower-cased.
        return c.to_lowercase().next();
    }
    None
}

/// The search form of `text`: words separated by single spaces, no leading or trailing space.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        match fold(c) {
            Some(f) => {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(f);
            }
            None => space = true,
        }
    }
    out
}

/// A query in its search form and whether it was cut to [`MAX_QUERY_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanQuery {
    pub text: String,
    pub cut: bool,
}

/// Normalises a query and keeps at most [`MAX_QUERY_CHARS`] characters of it. Looks only at the
/// first few thousand characters of a very long input.
pub fn clean_query(raw: &str) -> CleanQuery {
    let head: String = raw.chars().take(MAX_QUERY_CHARS * 8).collect();
    let full = normalize(&head);
    let n = full.chars().count();
    if n <= MAX_QUERY_CHARS && raw.chars().nth(MAX_QUERY_CHARS * 8).is_none() {
        return CleanQuery {
            text: full,
            cut: false,
        };
    }
    let kept: String = full.chars().take(MAX_QUERY_CHARS).collect();
    CleanQuery {
        text: kept.trim_end().to_string(),
        cut: n > MAX_QUERY_CHARS || raw.chars().count() > MAX_QUERY_CHARS * 8,
    }
}

/// The name without a trailing parenthesised qualifier: "食品经营许可（新办）" → "食品经营许可".
pub fn strip_qualifier(name: &str) -> Option<&str> {
    let t = name.trim();
    let cut = t.rfind(['（', '('])?;
    if cut == 0 || !(t.ends_with('）') || t.ends_with(')')) {
        return None;
    }
    Some(t[..cut].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_case_script_and_punctuation() {
        assert_eq!(normalize("營業執照"), "营业执照");
        assert_eq!(normalize("ＳＨＥＢＡＯ　卡"), "shebao 卡");
        assert_eq!(normalize("食品经营许可（新办）"), "食品经营许可 新办");
        assert_eq!(normalize("\"a*b\":(c)"), "a b c");
        assert_eq!(normalize("🎉🎉"), "");
        assert_eq!(normalize("\u{0}\u{7}x\ty"), "x y");
        assert_eq!(normalize("身份證丟了"), "身份证丢了");
    }

    #[test]
    fn long_queries_are_cut() {
        let q = "办".repeat(10_000);
        let c = clean_query(&q);
        assert!(c.cut);
        assert_eq!(c.text.chars().count(), MAX_QUERY_CHARS);
        let c = clean_query("生育登记");
        assert!(!c.cut);
        assert_eq!(c.text, "生育登记");
    }

    #[test]
    fn qualifiers() {
        assert_eq!(
            strip_qualifier("食品经营许可（新办）"),
            Some("食品经营许可")
        );
        assert_eq!(strip_qualifier("生育登记"), None);
        assert_eq!(strip_qualifier("（x）"), None);
    }
}
