//! From what a citizen typed to weighted search terms: normalisation, pinyin and initials,
//! one-character typos and homophones, synonyms and colloquial phrasings, segmentation, and
//! conversational filler dropped. Every step that changed the query is reported, so the
//! results page can say how the query was understood.

use crate::analyzer::{Analyzer, full_pinyin};
use crate::normalize::{clean_query, is_han};
use crate::terms::Rules;
use serde::Serialize;

/// Weight of the words the citizen typed.
const TYPED: f32 = 1.0;
/// Weight of terms that a synonym, pinyin or a typo correction added.
const ADDED: f32 = 0.9;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpansionKind {
    Synonym,
    Pinyin,
    Typo,
}

/// One rewrite of the query: `from` was read as `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expansion {
    pub kind: ExpansionKind,
    pub from: String,
    pub to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightedTerm {
    pub term: String,
    pub weight: f32,
}

/// The query as understood.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Understanding {
    /// The normalised query.
    pub text: String,
    /// True when the query was longer than the analysed length and was cut.
    pub cut: bool,
    pub terms: Vec<WeightedTerm>,
    /// Whole phrases that may be an item's exact name.
    pub exact: Vec<String>,
    pub expansions: Vec<Expansion>,
}

impl Understanding {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.exact.is_empty()
    }
    fn add_term(&mut self, term: &str, weight: f32) {
        // A lone Latin letter or digit matches everything and means nothing.
        if term.len() == 1 && term.is_ascii() {
            return;
        }
        if let Some(t) = self.terms.iter_mut().find(|t| t.term == term) {
            t.weight = t.weight.max(weight);
        } else if self.terms.len() < 48 {
            self.terms.push(WeightedTerm {
                term: term.to_string(),
                weight,
            });
        }
    }
    fn add_exact(&mut self, phrase: &str) {
        if !phrase.is_empty() && !self.exact.iter().any(|e| e == phrase) && self.exact.len() < 16 {
            self.exact.push(phrase.to_string());
        }
    }
}

/// Splits a word into runs of ASCII letters and the rest.
fn runs(word: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for c in word.chars() {
        let alpha = c.is_ascii_lowercase();
        match out.last_mut() {
            Some((a, s)) if *a == alpha => s.push(c),
            _ => out.push((alpha, c.to_string())),
        }
    }
    out
}

/// Pinyin input to Chinese terms: the whole letter sequence first (shebaoka), then each word
/// (shebao ka), as full pinyin or as initials (sfz).
fn from_pinyin(a: &Analyzer, letters: &str) -> Option<String> {
    if letters.len() < 2 {
        return None;
    }
    a.terms_by_pinyin(letters)
        .first()
        .or_else(|| a.terms_by_initials(letters).first())
        .cloned()
}

/// Replaces pinyin in the query by the terms it spells; returns the rewritten text.
fn rewrite_pinyin(a: &Analyzer, text: &str, u: &mut Understanding) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let all_letters = words
        .iter()
        .all(|w| w.chars().all(|c| c.is_ascii_lowercase()));
    if all_letters && words.len() > 1 {
        let joined: String = words.concat();
        if let Some(t) = from_pinyin(a, &joined) {
            u.expansions.push(Expansion {
                kind: ExpansionKind::Pinyin,
                from: text.to_string(),
                to: vec![t.clone()],
            });
            return t;
        }
    }
    let mut out: Vec<String> = Vec::new();
    for w in words {
        let mut rebuilt = String::new();
        for (alpha, run) in runs(w) {
            match (alpha, alpha.then(|| from_pinyin(a, &run)).flatten()) {
                (true, Some(t)) => {
                    u.expansions.push(Expansion {
                        kind: ExpansionKind::Pinyin,
                        from: run.clone(),
                        to: vec![t.clone()],
                    });
                    rebuilt.push_str(&t);
                }
                _ => rebuilt.push_str(&run),
            }
        }
        out.push(rebuilt);
    }
    out.join(" ")
}

/// Finds a wrong character in a government term (homophones through pinyin, any character in
/// longer terms) and returns the corrected text.
fn correct_typos(a: &Analyzer, text: &str, u: &mut Understanding) -> String {
    let mut out = text.to_string();
    for word in text.split(' ') {
        let chars: Vec<char> = word.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let mut advanced = false;
            for len in (3..=8).rev() {
                if i + len > chars.len() {
                    continue;
                }
                let window: String = chars[i..i + len].iter().collect();
                if !window.chars().all(is_han) || a.is_term(&window) {
                    continue;
                }
                let mut fix: Vec<String> = full_pinyin(&window)
                    .map(|p| {
                        a.terms_by_pinyin(&p)
                            .iter()
                            .filter(|t| t.chars().count() == len && **t != window)
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                if fix.is_empty() && len >= 4 && !a.is_word(&window) {
                    fix = a.one_char_off(&window);
                }
                if let Some(best) = fix.first().cloned() {
                    fix.truncate(3);
                    out = out.replacen(&window, &best, 1);
                    u.expansions.push(Expansion {
                        kind: ExpansionKind::Typo,
                        from: window,
                        to: fix,
                    });
                    i += len;
                    advanced = true;
                    break;
                }
            }
            if !advanced {
                i += 1;
            }
        }
    }
    out
}

/// Understands a raw query.
pub fn understand(a: &Analyzer, rules: &Rules, raw: &str) -> Understanding {
    let clean = clean_query(raw);
    let mut u = Understanding {
        text: clean.text.clone(),
        cut: clean.cut,
        ..Default::default()
    };
    if clean.text.is_empty() {
        return u;
    }
    let text = rewrite_pinyin(a, &clean.text, &mut u);
    let corrected = correct_typos(a, &text, &mut u);
    // Synonyms over what was typed and over the corrected form.
    let mut synonym_terms: Vec<String> = Vec::new();
    for form in [&text, &corrected] {
        for s in rules.matching(form) {
            if u.expansions
                .iter()
                .any(|e| e.kind == ExpansionKind::Synonym && e.from == s.phrase)
            {
                continue;
            }
            u.expansions.push(Expansion {
                kind: ExpansionKind::Synonym,
                from: s.phrase.clone(),
                to: s.expansion.clone(),
            });
            synonym_terms.extend(s.expansion.iter().cloned());
        }
    }
    // Exact-name candidates: the whole query and the whole corrected query.
    u.add_exact(&text);
    u.add_exact(&corrected);
    let typed_weight = |tok: &str| {
        if rules.stopwords.contains(tok) {
            None
        } else {
            Some(TYPED)
        }
    };
    for tok in a.tokens(&text) {
        if let Some(w) = typed_weight(&tok) {
            u.add_term(&tok, w);
        }
    }
    if corrected != text {
        for tok in a.tokens(&corrected) {
            if !rules.stopwords.contains(&tok) {
                u.add_term(&tok, ADDED);
            }
        }
    }
    for s in &synonym_terms {
        u.add_exact(s);
        for tok in a.tokens(s) {
            if !rules.stopwords.contains(&tok) {
                u.add_term(&tok, ADDED);
            }
        }
    }
    u
}
