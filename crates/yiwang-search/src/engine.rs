//! The search engine: an index snapshot with the analyzer and rules it was built with.
//! Queries never go through a query parser: the understood terms become term queries, so no
//! input can cause a syntax error.

use crate::analyzer::Analyzer;
use crate::index::{self, Fields, StoredInfo, scored_fields};
use crate::life_event::LifeEvent;
use crate::normalize::normalize;
use crate::terms::{Rules, Term};
use crate::understand::{Understanding, understand};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use tantivy::collector::TopDocs;
use tantivy::columnar::StrColumn;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument};
use yiwang_domain::RegionCode;
use yiwang_store::IndexedImplementation;

/// Boost of a whole-name match: an exact name always comes first.
const EXACT_BOOST: f32 = 100.0;
/// Items gathered before grouping implementations of one standard item.
const WINDOW: usize = 200;
pub const MAX_LIMIT: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("store: {0}")]
    Store(#[from] yiwang_store::StoreError),
    #[error("index state: {0}")]
    State(String),
}

/// A search as asked: the query and its filters.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub q: String,
    /// The reader's region: its implementations first, then its parents'; other regions'
    /// implementations (outside this region's subtree and path) are left out.
    pub region: Option<RegionCode>,
    pub department: Option<String>,
    pub theme: Option<String>,
    /// `person` or `legal`.
    pub audience: Option<String>,
    /// An exercise-level key (`county`, …).
    pub level: Option<String>,
    pub offset: usize,
    pub limit: usize,
    pub facets: bool,
    /// Adds tantivy's score explanation to each hit.
    pub debug: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionMatch {
    /// No region was chosen.
    Any,
    Same,
    Parent,
    Child,
}

/// Which query terms a field of the hit contains.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchReason {
    /// `exact_name`, `synonym_name` (a synonym of the query names the item), `name`,
    /// `keywords`, `department`, `materials` or `conditions`.
    pub field: &'static str,
    pub terms: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub code: String,
    pub basic_code: String,
    pub name: String,
    pub department_code: String,
    pub department_name: String,
    pub region: String,
    pub region_match: RegionMatch,
    pub score: f32,
    pub info: StoredInfo,
    pub matched: Vec<MatchReason>,
    /// Other implementations of the same item that matched (other regions).
    pub other_implementations: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCount {
    pub value: String,
    pub count: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Facets {
    pub department: Vec<FacetCount>,
    pub theme: Vec<FacetCount>,
    pub audience: Vec<FacetCount>,
    pub level: Vec<FacetCount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventHit {
    pub code: String,
    pub name: String,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    pub understanding: Understanding,
    pub hits: Vec<Hit>,
    /// Items found among the best matches (an estimate past a few hundred).
    pub estimated_total: usize,
    pub facets: Option<Facets>,
    pub life_events: Vec<EventHit>,
    pub took_us: u64,
}

/// One group of implementations of a standard item.
struct Group {
    best: (u8, f32, DocAddress, String),
    score: f32,
    count: usize,
}

/// A built index with the analyzer, rules and life events it goes with.
pub struct Engine {
    analyzer: Analyzer,
    rules: Rules,
    events: Vec<(LifeEvent, Vec<String>)>,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    writer: Mutex<IndexWriter>,
    /// code → published version of every indexed implementation.
    versions: Mutex<HashMap<String, i64>>,
    /// The catalog words the analyzer was built with (kept to reopen an index from disk).
    words: Vec<String>,
    /// The index directory's name when on disk.
    dir_name: Option<String>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("docs", &self.num_docs())
            .finish()
    }
}

/// Every government term of the catalog: item, material, department and result names, themes;
/// sorted, each once.
pub fn catalog_words(docs: &[IndexedImplementation]) -> Vec<String> {
    let mut set: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for p in docs {
        set.insert(&p.name);
        set.insert(&p.department_name);
        set.insert(&p.result_name);
        set.extend(p.materials.iter().map(String::as_str));
        set.extend(p.themes.iter().map(String::as_str));
    }
    let mut words: Vec<String> = set
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
        .collect();
    words.sort_unstable();
    words
}

fn analyzer_for(words: &[String], terms: &[Term], events: &[LifeEvent]) -> (Analyzer, Rules) {
    let rules = Rules::compile(terms);
    let mut all: Vec<&str> = words.iter().map(String::as_str).collect();
    all.extend(rules.words.iter().map(String::as_str));
    for s in &rules.synonyms {
        all.extend(s.parts.iter().map(String::as_str));
        all.extend(s.expansion.iter().map(String::as_str));
    }
    for e in events {
        all.push(&e.name);
        all.extend(e.keywords.iter().map(String::as_str));
    }
    let fillers: Vec<&str> = rules.stopwords.iter().map(String::as_str).collect();
    (Analyzer::new(all, fillers), rules)
}

fn writer_for(index: &Index) -> tantivy::Result<IndexWriter> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 2);
    index.writer_with_num_threads(threads, 64_000_000 * threads)
}

impl Engine {
    /// Builds a new index of `docs` (in RAM when `dir` is `None`), dropping each document once
    /// indexed.
    pub fn build(
        dir: Option<&std::path::Path>,
        docs: Vec<IndexedImplementation>,
        terms: &[Term],
        events: Vec<LifeEvent>,
    ) -> Result<Engine, SearchError> {
        let words = catalog_words(&docs);
        let versions = docs
            .iter()
            .map(|p| (p.code.as_str().to_string(), p.version))
            .collect();
        let (analyzer, rules) = analyzer_for(&words, terms, &events);
        let (index, fields) = index::create(dir)?;
        let mut writer = writer_for(&index)?;
        index::add_all(&writer, &fields, &analyzer, docs)?;
        writer.commit()?;
        Self::assemble(
            analyzer, rules, events, index, fields, writer, versions, words,
        )
        .map(|e| e.with_dir(dir))
    }

    /// Opens an index built earlier with the same words, terms and events.
    pub fn open(
        dir: &std::path::Path,
        words: Vec<String>,
        versions: HashMap<String, i64>,
        terms: &[Term],
        events: Vec<LifeEvent>,
    ) -> Result<Option<Engine>, SearchError> {
        let Some((index, fields)) = index::open(dir)? else {
            return Ok(None);
        };
        let (analyzer, rules) = analyzer_for(&words, terms, &events);
        let writer = writer_for(&index)?;
        Self::assemble(
            analyzer, rules, events, index, fields, writer, versions, words,
        )
        .map(|e| Some(e.with_dir(Some(dir))))
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        analyzer: Analyzer,
        rules: Rules,
        events: Vec<LifeEvent>,
        index: Index,
        fields: Fields,
        writer: IndexWriter,
        versions: HashMap<String, i64>,
        words: Vec<String>,
    ) -> Result<Engine, SearchError> {
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let events = events
            .into_iter()
            .map(|e| {
                let mut toks = analyzer.tokens(&normalize(&e.search_text()));
                toks.retain(|t| t.chars().count() >= 2);
                toks.sort();
                toks.dedup();
                (e, toks)
            })
            .collect();
        Ok(Engine {
            analyzer,
            rules,
            events,
            index,
            reader,
            fields,
            writer: Mutex::new(writer),
            versions: Mutex::new(versions),
            words,
            dir_name: None,
        })
    }

    fn with_dir(mut self, dir: Option<&std::path::Path>) -> Self {
        self.dir_name = dir
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().to_string());
        self
    }

    pub fn dir_name(&self) -> Option<&str> {
        self.dir_name.as_deref()
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }

    pub fn versions(&self) -> HashMap<String, i64> {
        self.versions.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn life_events(&self) -> impl Iterator<Item = &LifeEvent> {
        self.events.iter().map(|(e, _)| e)
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Replaces and removes implementations; visible to searches when this returns.
    pub fn apply(
        &self,
        upserts: &[IndexedImplementation],
        removed: &[String],
    ) -> Result<(), SearchError> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| SearchError::State("writer lock".into()))?;
        let code_term = |c: &str| tantivy::Term::from_field_text(self.fields.code, c);
        let mut cache = index::TokenCache::default();
        for c in removed {
            writer.delete_term(code_term(c));
        }
        for p in upserts {
            writer.delete_term(code_term(p.code.as_str()));
            writer.add_document(index::document(&self.fields, &self.analyzer, &mut cache, p))?;
        }
        writer.commit()?;
        self.reader.reload()?;
        if let Ok(mut v) = self.versions.lock() {
            for c in removed {
                v.remove(c);
            }
            for p in upserts {
                v.insert(p.code.as_str().to_string(), p.version);
            }
        }
        Ok(())
    }

    /// Understands a query without searching (for tools and tests).
    pub fn understand(&self, q: &str) -> Understanding {
        understand(&self.analyzer, &self.rules, q)
    }

    fn text_query(&self, u: &Understanding) -> BooleanQuery {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for t in &u.terms {
            for (field, boost, _) in scored_fields(&self.fields) {
                let q = TermQuery::new(
                    tantivy::Term::from_field_text(field, &t.term),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(q), boost * t.weight)),
                ));
            }
        }
        for (i, e) in u.exact.iter().enumerate() {
            let q = TermQuery::new(
                tantivy::Term::from_field_text(self.fields.name_exact, e),
                IndexRecordOption::Basic,
            );
            let w = if i == 0 { 1.0 } else { 0.3 };
            clauses.push((
                Occur::Should,
                Box::new(ConstScoreQuery::new(Box::new(q), EXACT_BOOST * w)),
            ));
        }
        BooleanQuery::new(clauses)
    }

    fn filter_clauses(&self, req: &SearchRequest) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.fields;
        let term = |field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                tantivy::Term::from_field_text(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut filter = |q: Box<dyn Query>| {
            out.push((Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0))));
        };
        if let Some(r) = &req.region {
            let mut any: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Should, term(f.region_path, r.as_str()))];
            let mut p = r.parent();
            while let Some(a) = p {
                any.push((Occur::Should, term(f.region, a.as_str())));
                p = a.parent();
            }
            filter(Box::new(BooleanQuery::new(any)));
        }
        if let Some(d) = &req.department {
            filter(term(f.department, d));
        }
        if let Some(t) = &req.theme {
            filter(term(f.theme, t));
        }
        if let Some(a) = &req.audience {
            filter(term(f.audience, a));
        }
        if let Some(l) = &req.level {
            filter(term(f.level, l));
        }
        out
    }

    fn region_rank(req: &SearchRequest, region: &str) -> (u8, RegionMatch) {
        let Some(r) = &req.region else {
            // No region chosen: the highest-level implementation represents the item.
            let depth = RegionCode::parse(region)
                .map(|c| c.level().number())
                .unwrap_or(9);
            return (u8::try_from(depth).unwrap_or(9), RegionMatch::Any);
        };
        if region == r.as_str() {
            return (0, RegionMatch::Same);
        }
        let Ok(code) = RegionCode::parse(region) else {
            return (20, RegionMatch::Child);
        };
        if code.contains(r) {
            let up = r.level().number() - code.level().number();
            (u8::try_from(up).unwrap_or(9), RegionMatch::Parent)
        } else {
            (10, RegionMatch::Child)
        }
    }

    /// Runs a search.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResult, SearchError> {
        let started = Instant::now();
        let u = self.understand(&req.q);
        let life_events = self.match_events(&u, req.region.as_ref());
        let limit = req.limit.clamp(1, MAX_LIMIT);
        if u.is_empty() {
            return Ok(SearchResult {
                understanding: u,
                hits: Vec::new(),
                estimated_total: 0,
                facets: req.facets.then(Facets::default),
                life_events,
                took_us: elapsed_us(started),
            });
        }
        let text = self.text_query(&u);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(text))];
        clauses.extend(self.filter_clauses(req));
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let window = WINDOW.max((req.offset + limit) * 4);
        let top = searcher.search(&query, &TopDocs::with_limit(window).order_by_score())?;
        // Group implementations of one standard item.
        let mut cols: HashMap<u32, (StrColumn, StrColumn)> = HashMap::new();
        let mut groups: HashMap<String, Group> = HashMap::new();
        // Turning a column ordinal into text scans a dictionary block: each distinct value is
        // read once per query (the window repeats a few items and regions many times).
        let mut names: HashMap<(u32, bool, u64), String> = HashMap::new();
        let mut read = |seg: u32, region: bool, col: &StrColumn, doc: u32| -> String {
            let Some(ord) = col.term_ords(doc).next() else {
                return String::new();
            };
            names
                .entry((seg, region, ord))
                .or_insert_with(|| {
                    let mut buf = String::new();
                    let _ = col.ord_to_str(ord, &mut buf);
                    buf
                })
                .clone()
        };
        for (score, addr) in &top {
            if let std::collections::hash_map::Entry::Vacant(slot) = cols.entry(addr.segment_ord) {
                let ff = searcher.segment_reader(addr.segment_ord).fast_fields();
                let (Some(b), Some(r)) = (ff.str("basic_code")?, ff.str("region")?) else {
                    continue;
                };
                slot.insert((b, r));
            }
            let Some((bcol, rcol)) = cols.get(&addr.segment_ord) else {
                continue;
            };
            let basic = read(addr.segment_ord, false, bcol, addr.doc_id);
            let region = read(addr.segment_ord, true, rcol, addr.doc_id);
            let (rank, _) = Self::region_rank(req, &region);
            let g = groups.entry(basic).or_insert(Group {
                best: (rank, *score, *addr, region.clone()),
                score: *score,
                count: 0,
            });
            g.count += 1;
            g.score = g.score.max(*score);
            // Ties go to the lower region code, so the same index answers the same way
            // whatever order its segments were written in.
            let better = (rank, -score) < (g.best.0, -g.best.1)
                || ((rank, -score) == (g.best.0, -g.best.1) && region < g.best.3);
            if better {
                g.best = (rank, *score, *addr, region);
            }
        }
        let mut keyed: Vec<(String, Group)> = groups.into_iter().collect();
        keyed.sort_by(|(ka, a), (kb, b)| {
            b.score
                .total_cmp(&a.score)
                .then(a.best.0.cmp(&b.best.0))
                .then(a.best.3.cmp(&b.best.3))
                .then(ka.cmp(kb))
        });
        let ranked: Vec<Group> = keyed.into_iter().map(|(_, g)| g).collect();
        let facets = if req.facets {
            Some(self.facets(&searcher, &ranked)?)
        } else {
            None
        };
        let estimated_total = ranked.len();
        let mut hits = Vec::new();
        for g in ranked.iter().skip(req.offset).take(limit) {
            let doc: TantivyDocument = searcher.doc(g.best.2)?;
            let mut hit = self.hit(&doc, &u, g, req)?;
            if req.debug {
                let ex = query.explain(&searcher, g.best.2)?;
                hit.explanation = serde_json::from_str(&ex.to_pretty_json()).ok();
            }
            hits.push(hit);
        }
        Ok(SearchResult {
            understanding: u,
            hits,
            estimated_total,
            facets,
            life_events,
            took_us: elapsed_us(started),
        })
    }

    fn hit(
        &self,
        doc: &TantivyDocument,
        u: &Understanding,
        g: &Group,
        req: &SearchRequest,
    ) -> Result<Hit, SearchError> {
        let f = &self.fields;
        let s = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        let info: StoredInfo = serde_json::from_str(&s(f.info)).unwrap_or_default();
        let name = s(f.title);
        let department_name = s(f.department_name);
        let region = s(f.region);
        let (_, region_match) = Self::region_rank(req, &region);
        let mut matched = Vec::new();
        let exact = index::exact_forms(&name);
        let hit_exact: Vec<&String> = u.exact.iter().filter(|e| exact.contains(e)).collect();
        // The phrasings (准生证) whose synonym named this item, when the query itself did not.
        let via: Vec<String> = u
            .expansions
            .iter()
            .filter(|x| x.kind == crate::understand::ExpansionKind::Synonym)
            .filter(|x| x.to.iter().any(|t| hit_exact.contains(&t)))
            .map(|x| x.from.replace('+', ""))
            .collect();
        let from_synonym = |e: &String| {
            *e != u.text
                && u.expansions.iter().any(|x| {
                    x.kind == crate::understand::ExpansionKind::Synonym && x.to.contains(e)
                })
        };
        if hit_exact.iter().any(|e| !from_synonym(e)) {
            matched.push(MatchReason {
                field: "exact_name",
                terms: vec![name.clone()],
            });
        } else if !via.is_empty() {
            matched.push(MatchReason {
                field: "synonym_name",
                terms: via,
            });
        }
        let norm = |t: &str| normalize(t).replace(' ', "");
        let name_n = norm(&name);
        let kw_n = norm(&format!("{} {}", info.themes.join(" "), info.result_name));
        let dept_n = norm(&department_name);
        let mats_n = norm(&info.materials.join(" "));
        for (field, text) in [
            ("name", &name_n),
            ("keywords", &kw_n),
            ("department", &dept_n),
            ("materials", &mats_n),
        ] {
            let mut terms: Vec<String> = u
                .terms
                .iter()
                .filter(|t| t.term.chars().count() >= 2 && text.contains(&t.term))
                .map(|t| t.term.clone())
                .collect();
            // Keep the longest terms only (营业执照 rather than 营业 and 执照 too).
            let all = terms.clone();
            terms.retain(|t| !all.iter().any(|o| o != t && o.contains(t.as_str())));
            terms.truncate(4);
            if !terms.is_empty() {
                matched.push(MatchReason { field, terms });
            }
        }
        Ok(Hit {
            code: s(f.code),
            basic_code: s(f.basic_code),
            name,
            department_code: s(f.department),
            department_name,
            region,
            region_match,
            score: g.score,
            info,
            matched,
            other_implementations: g.count.saturating_sub(1),
            explanation: None,
        })
    }

    fn facets(
        &self,
        searcher: &tantivy::Searcher,
        ranked: &[Group],
    ) -> Result<Facets, SearchError> {
        let mut counts: [HashMap<String, usize>; 4] = Default::default();
        let names = ["department", "theme", "audience", "level"];
        // Counted by column ordinal, turned into text once per distinct value and segment.
        let mut by_ord: HashMap<(usize, u32, u64), usize> = HashMap::new();
        let mut columns: HashMap<(usize, u32), StrColumn> = HashMap::new();
        for g in ranked.iter().take(WINDOW) {
            let seg = g.best.2.segment_ord;
            for (i, n) in names.iter().enumerate() {
                if let std::collections::hash_map::Entry::Vacant(slot) = columns.entry((i, seg)) {
                    let ff = searcher.segment_reader(seg).fast_fields();
                    let Some(col) = ff.str(n)? else { continue };
                    slot.insert(col);
                }
                let Some(col) = columns.get(&(i, seg)) else {
                    continue;
                };
                let mut ords: Vec<u64> = col.term_ords(g.best.2.doc_id).collect();
                ords.sort_unstable();
                ords.dedup();
                for ord in ords {
                    *by_ord.entry((i, seg, ord)).or_default() += 1;
                }
            }
        }
        let mut buf = String::new();
        for ((i, seg, ord), n) in by_ord {
            let Some(col) = columns.get(&(i, seg)) else {
                continue;
            };
            buf.clear();
            if col.ord_to_str(ord, &mut buf).unwrap_or(false) {
                *counts[i].entry(buf.clone()).or_default() += n;
            }
        }
        let sorted = |m: &HashMap<String, usize>| {
            let mut v: Vec<FacetCount> = m
                .iter()
                .map(|(k, c)| FacetCount {
                    value: k.clone(),
                    count: *c,
                })
                .collect();
            v.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
            v.truncate(30);
            v
        };
        Ok(Facets {
            department: sorted(&counts[0]),
            theme: sorted(&counts[1]),
            audience: sorted(&counts[2]),
            level: sorted(&counts[3]),
        })
    }

    /// Life events whose name or keywords the query names, best first (at most two).
    fn match_events(&self, u: &Understanding, region: Option<&RegionCode>) -> Vec<EventHit> {
        let compact = u.text.replace(' ', "");
        if compact.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(f32, &LifeEvent)> = Vec::new();
        for (e, toks) in &self.events {
            if let (Some(r), Some(er)) = (region, e.region_code())
                && !er.contains(r)
                && !r.contains(&er)
            {
                continue;
            }
            let mut s = 0.0;
            if compact.contains(&normalize(&e.name).replace(' ', "")) {
                s += 3.0;
            }
            for k in &e.keywords {
                let k = normalize(k).replace(' ', "");
                if !k.is_empty() && compact.contains(&k) {
                    s += 2.0;
                }
            }
            for t in &u.terms {
                if t.weight >= 1.0 && toks.binary_search(&t.term).is_ok() {
                    s += 0.5;
                }
            }
            if s >= 2.0 {
                scored.push((s, e));
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored
            .into_iter()
            .take(2)
            .map(|(_, e)| EventHit {
                code: e.code.clone(),
                name: e.name.clone(),
                summary: e.summary.clone(),
            })
            .collect()
    }

    /// Looks a life event up by code.
    pub fn life_event(&self, code: &str) -> Option<&LifeEvent> {
        self.events.iter().map(|(e, _)| e).find(|e| e.code == code)
    }
}

fn elapsed_us(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX)
}
