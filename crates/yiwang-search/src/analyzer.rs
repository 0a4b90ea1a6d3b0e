//! Word segmentation: jieba (search mode, no HMM, so unknown runs fall back to single
//! characters on both sides alike) with the government dictionary added, and the vocabulary
//! used for pinyin input and typo tolerance.

use crate::normalize::{is_han, normalize};
use jieba_rs::Jieba;
use pinyin::ToPinyin;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

/// Words that carry no meaning in catalog text; never indexed.
const INDEX_STOP: &[&str] = &[
    "的", "和", "或", "及", "与", "等", "了", "在", "为", "对", "由",
];

/// jieba with its default dictionary, loaded once per process (each analyzer clones it).
fn base_jieba() -> &'static Jieba {
    static BASE: OnceLock<Jieba> = OnceLock::new();
    BASE.get_or_init(Jieba::new)
}

/// Full pinyin without tones, syllables joined: 身份证 → shenfenzheng. `None` when a
/// character has no pinyin (not Han).
pub fn full_pinyin(text: &str) -> Option<String> {
    let mut out = String::new();
    for p in text.to_pinyin() {
        out.push_str(p?.plain());
    }
    Some(out)
}

/// Initial letters: 身份证 → sfz.
pub fn initials(text: &str) -> Option<String> {
    let mut out = String::new();
    for p in text.to_pinyin() {
        out.push(p?.plain().chars().next()?);
    }
    Some(out)
}

/// The segmenter plus the vocabulary of government terms.
pub struct Analyzer {
    jieba: Jieba,
    index_stop: HashSet<&'static str>,
    /// Normalised government terms (item, material, department and result names, dictionary
    /// words, synonym phrases and expansions).
    vocab: HashSet<String>,
    /// Full pinyin → terms.
    by_pinyin: HashMap<String, Vec<String>>,
    /// Initials (at least two letters) → terms.
    by_initials: HashMap<String, Vec<String>>,
    /// A term with one character replaced by `*` → terms (terms of 4 to 10 characters).
    by_wildcard: HashMap<String, Vec<String>>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("vocab", &self.vocab.len())
            .finish()
    }
}

fn push_unique(map: &mut HashMap<String, Vec<String>>, key: String, term: &str) {
    let v = map.entry(key).or_default();
    if !v.iter().any(|t| t == term) && v.len() < 8 {
        v.push(term.to_string());
    }
}

impl Analyzer {
    /// Builds the analyzer. `terms` are government terms (any form; normalised here): each
    /// becomes a dictionary word (when short enough to be one) and part of the vocabulary.
    /// `fillers` are conversational words kept whole so that they can be dropped.
    pub fn new<'a>(
        terms: impl IntoIterator<Item = &'a str>,
        fillers: impl IntoIterator<Item = &'a str>,
    ) -> Analyzer {
        let mut jieba = base_jieba().clone();
        let mut vocab = HashSet::new();
        for t in terms {
            for part in normalize(t).split(' ') {
                let n = part.chars().count();
                if n < 2 || !part.chars().all(is_han) {
                    continue;
                }
                if n <= 8 && !vocab.contains(part) {
                    let f = jieba.suggest_freq(part).max(2000);
                    jieba.add_word(part, Some(f), None);
                }
                vocab.insert(part.to_string());
            }
        }
        for w in fillers {
            let w = normalize(w);
            if w.chars().count() >= 2 && !w.contains(' ') {
                let f = jieba.suggest_freq(&w).max(2000);
                jieba.add_word(&w, Some(f), None);
            }
        }
        let mut a = Analyzer {
            jieba,
            index_stop: INDEX_STOP.iter().copied().collect(),
            vocab: HashSet::new(),
            by_pinyin: HashMap::new(),
            by_initials: HashMap::new(),
            by_wildcard: HashMap::new(),
        };
        // Parts of the terms (生育登记 → 生育, 登记) are reachable by pinyin too.
        let mut reach: HashSet<String> = vocab.clone();
        for t in &vocab {
            for tok in a.jieba.cut_for_search(t, false) {
                if tok.word.chars().count() >= 2 {
                    reach.insert(tok.word.to_string());
                }
            }
        }
        for t in &reach {
            if let Some(p) = full_pinyin(t) {
                push_unique(&mut a.by_pinyin, p, t);
            }
            if let Some(i) = initials(t)
                && i.len() >= 2
            {
                push_unique(&mut a.by_initials, i, t);
            }
        }
        for t in &vocab {
            let chars: Vec<char> = t.chars().collect();
            if !(4..=10).contains(&chars.len()) {
                continue;
            }
            for i in 0..chars.len() {
                let mut k = chars.clone();
                k[i] = '*';
                push_unique(&mut a.by_wildcard, k.into_iter().collect(), t);
            }
        }
        a.vocab = vocab;
        a
    }

    /// Segments normalised text in search mode, dropping spaces and index stop words.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for part in text.split(' ').filter(|p| !p.is_empty()) {
            for tok in self.jieba.cut_for_search(part, false) {
                let w = tok.word;
                if !self.index_stop.contains(w) {
                    out.push(w.to_string());
                }
            }
        }
        out
    }

    /// Whether `w` is a government term or a word of jieba's dictionary.
    pub fn is_word(&self, w: &str) -> bool {
        self.vocab.contains(w) || self.jieba.has_word(w)
    }

    pub fn is_term(&self, w: &str) -> bool {
        self.vocab.contains(w)
    }

    /// Terms whose full pinyin is `p`.
    pub fn terms_by_pinyin(&self, p: &str) -> &[String] {
        self.by_pinyin.get(p).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn terms_by_initials(&self, i: &str) -> &[String] {
        self.by_initials.get(i).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Terms that differ from `window` in exactly one character.
    pub fn one_char_off(&self, window: &str) -> Vec<String> {
        let chars: Vec<char> = window.chars().collect();
        let mut out: Vec<String> = Vec::new();
        for i in 0..chars.len() {
            let mut k = chars.clone();
            k[i] = '*';
            let key: String = k.into_iter().collect();
            for t in self.by_wildcard.get(&key).map(Vec::as_slice).unwrap_or(&[]) {
                if t != window && !out.contains(t) {
                    out.push(t.clone());
                }
            }
        }
        out
    }

    pub fn vocab_len(&self) -> usize {
        self.vocab.len()
    }
}

/// Shared handle.
pub type SharedAnalyzer = Arc<Analyzer>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinyin_forms() {
        assert_eq!(full_pinyin("身份证").as_deref(), Some("shenfenzheng"));
        assert_eq!(initials("身份证").as_deref(), Some("sfz"));
        assert_eq!(full_pinyin("a"), None);
    }

    #[test]
    fn dictionary_words_stay_whole() {
        let a = Analyzer::new(["营业执照", "个体工商户设立登记"], ["我想"]);
        let t = a.tokens("我想开一家餐馆");
        assert!(t.contains(&"开".to_string()), "{t:?}");
        assert!(a.tokens("营业执照").contains(&"营业执照".to_string()));
        assert_eq!(a.terms_by_initials("yyzz"), ["营业执照".to_string()]);
        assert!(
            a.terms_by_pinyin("yingyezhizhao")
                .contains(&"营业执照".to_string())
        );
        assert_eq!(a.one_char_off("营亚执照"), ["营业执照".to_string()]);
    }
}
