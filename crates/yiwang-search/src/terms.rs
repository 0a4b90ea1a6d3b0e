//! How people ask, as data: synonyms and colloquial phrasings (准生证 → 生育登记), extra
//! dictionary words for the segmenter, and query stop words (我想, 怎么办). Administrators edit
//! them in the console; the seed list ships in `data/terms.tsv`.
//!
//! A synonym's phrase may name several parts joined by `+` ("身份证+丢"): it applies when the
//! query contains every part. Its expansion is a space-separated list of terms (words or item
//! names) added to the query.

use crate::normalize::normalize;
use serde::{Deserialize, Serialize};

/// The seed list shipped with the project.
pub const SEED_TERMS: &str = include_str!("../data/terms.tsv");

/// Longest phrase or expansion accepted, in characters.
pub const MAX_TERM_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermKind {
    /// A phrase people use and the catalog terms it means.
    Synonym,
    /// A word the segmenter must keep whole (a government term).
    Word,
    /// A word dropped from queries (conversational filler).
    Stopword,
}

impl TermKind {
    pub const ALL: [TermKind; 3] = [TermKind::Synonym, TermKind::Word, TermKind::Stopword];
    pub fn key(self) -> &'static str {
        match self {
            TermKind::Synonym => "synonym",
            TermKind::Word => "word",
            TermKind::Stopword => "stopword",
        }
    }
    pub fn from_key(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == s)
    }
}

/// One term as stored and edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub kind: TermKind,
    pub phrase: String,
    /// Synonyms only: the terms the phrase stands for, separated by spaces.
    pub expansion: String,
}

/// Why a term was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TermProblem {
    #[error("the phrase is empty")]
    EmptyPhrase,
    #[error("the phrase or expansion is too long")]
    TooLong,
    #[error("a synonym needs an expansion")]
    EmptyExpansion,
    #[error("only synonyms have an expansion")]
    UnexpectedExpansion,
}

impl Term {
    /// Checks and tidies a term typed by an administrator (trimmed, single spaces).
    pub fn checked(kind: TermKind, phrase: &str, expansion: &str) -> Result<Term, TermProblem> {
        let phrase = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
        let expansion = expansion.split_whitespace().collect::<Vec<_>>().join(" ");
        if phrase.chars().count() > MAX_TERM_CHARS || expansion.chars().count() > MAX_TERM_CHARS {
            return Err(TermProblem::TooLong);
        }
        if normalize(&phrase.replace('+', " ")).is_empty() {
            return Err(TermProblem::EmptyPhrase);
        }
        match kind {
            TermKind::Synonym if normalize(&expansion).is_empty() => {
                Err(TermProblem::EmptyExpansion)
            }
            TermKind::Word | TermKind::Stopword if !expansion.is_empty() => {
                Err(TermProblem::UnexpectedExpansion)
            }
            _ => Ok(Term {
                kind,
                phrase,
                expansion,
            }),
        }
    }
}

/// Parses the seed file: `kind<TAB>phrase[<TAB>expansion]`, `#` comments, blank lines.
pub fn parse_terms(text: &str) -> Result<Vec<Term>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let mut cols = line.split('\t');
        let kind = cols.next().unwrap_or("").trim();
        let kind = TermKind::from_key(kind)
            .ok_or_else(|| format!("line {}: unknown kind {kind:?}", i + 1))?;
        let phrase = cols.next().unwrap_or("");
        let expansion = cols.next().unwrap_or("");
        let t =
            Term::checked(kind, phrase, expansion).map_err(|e| format!("line {}: {e}", i + 1))?;
        out.push(t);
    }
    Ok(out)
}

/// A synonym ready for matching: normalised parts and expansion terms.
#[derive(Debug, Clone)]
pub struct SynonymRule {
    pub phrase: String,
    pub parts: Vec<String>,
    pub expansion: Vec<String>,
}

/// The terms compiled for query time.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub synonyms: Vec<SynonymRule>,
    pub words: Vec<String>,
    pub stopwords: std::collections::HashSet<String>,
}

impl Rules {
    pub fn compile(terms: &[Term]) -> Rules {
        let mut r = Rules::default();
        for t in terms {
            match t.kind {
                TermKind::Synonym => {
                    let parts: Vec<String> = t
                        .phrase
                        .split('+')
                        .map(normalize)
                        .filter(|p| !p.is_empty())
                        .collect();
                    let expansion: Vec<String> = t
                        .expansion
                        .split_whitespace()
                        .map(normalize)
                        .filter(|p| !p.is_empty())
                        .collect();
                    if !parts.is_empty() && !expansion.is_empty() {
                        r.synonyms.push(SynonymRule {
                            phrase: t.phrase.clone(),
                            parts,
                            expansion,
                        });
                    }
                }
                TermKind::Word => {
                    let w = normalize(&t.phrase);
                    if !w.is_empty() {
                        r.words.push(w);
                    }
                }
                TermKind::Stopword => {
                    let w = normalize(&t.phrase);
                    if !w.is_empty() {
                        r.stopwords.insert(w);
                    }
                }
            }
        }
        // Longer phrases first, so the most specific rule is reported first.
        r.synonyms
            .sort_by_key(|s| std::cmp::Reverse(s.parts.iter().map(|p| p.len()).sum::<usize>()));
        r
    }

    /// The synonyms whose every part occurs in the (normalised) query.
    pub fn matching<'a>(&'a self, query: &'a str) -> impl Iterator<Item = &'a SynonymRule> + 'a {
        let compact: String = query.chars().filter(|c| *c != ' ').collect();
        self.synonyms.iter().filter(move |s| {
            s.parts
                .iter()
                .all(|p| compact.contains(&p.replace(' ', "")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_file_parses() {
        let terms = parse_terms(SEED_TERMS).unwrap();
        assert!(terms.iter().filter(|t| t.kind == TermKind::Synonym).count() >= 50);
        let rules = Rules::compile(&terms);
        let hits: Vec<_> = rules
            .matching("准生证怎么办")
            .map(|s| &s.expansion)
            .collect();
        assert!(
            hits.iter().any(|e| e.contains(&"生育登记".to_string())),
            "{hits:?}"
        );
        assert!(rules.matching("身份证不小心丢了").next().is_some());
    }

    #[test]
    fn checks() {
        assert_eq!(
            Term::checked(TermKind::Synonym, " ", "x"),
            Err(TermProblem::EmptyPhrase)
        );
        assert_eq!(
            Term::checked(TermKind::Synonym, "准生证", ""),
            Err(TermProblem::EmptyExpansion)
        );
        assert_eq!(
            Term::checked(TermKind::Word, "营业执照", "x"),
            Err(TermProblem::UnexpectedExpansion)
        );
        let t = Term::checked(TermKind::Synonym, " 准生证 ", " 生育登记  出生 ").unwrap();
        assert_eq!(t.expansion, "生育登记 出生");
        assert!(parse_terms("bogus\tx").is_err());
    }
}
