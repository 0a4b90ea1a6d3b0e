//! The tantivy index: one document per published implementation. Text fields are segmented
//! by our analyzer; a document carries each text as its tokens joined by single spaces, which
//! tantivy's whitespace tokenizer splits back into exactly those tokens (normalised text has
//! no whitespace inside a token), indexed with frequencies only, no positions. Filter and
//! facet fields are raw strings with fast columns.

use crate::analyzer::Analyzer;
use crate::normalize::{normalize, strip_qualifier};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexWriter, TantivyDocument};
use yiwang_domain::enums::{Audience, CodeSet};
use yiwang_store::IndexedImplementation;

/// Display facts of a hit, stored with the document so a results page needs no database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredInfo {
    pub item_type: String,
    pub online_depth: String,
    pub visits: u8,
    pub promised_amount: u32,
    pub promised_unit: String,
    pub result_name: String,
    pub themes: Vec<String>,
    pub materials: Vec<String>,
}

/// The schema's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub code: Field,
    pub basic_code: Field,
    pub version: Field,
    /// The item name as written (stored for display).
    pub title: Field,
    pub name: Field,
    pub name_exact: Field,
    pub keywords: Field,
    pub dept_text: Field,
    pub materials: Field,
    pub conditions: Field,
    pub department: Field,
    pub department_name: Field,
    pub theme: Field,
    pub audience: Field,
    pub level: Field,
    pub region: Field,
    pub region_path: Field,
    pub info: Field,
}

/// Text fields scored for relevance, with their boosts: a name match counts most.
pub fn scored_fields(f: &Fields) -> [(Field, f32, &'static str); 5] {
    [
        (f.name, 6.0, "name"),
        (f.keywords, 2.5, "keywords"),
        (f.dept_text, 1.2, "department"),
        (f.materials, 1.0, "materials"),
        (f.conditions, 0.4, "conditions"),
    ]
}

/// The tokenizer of the text fields: tantivy's built-in whitespace tokenizer (registered in
/// every index), which splits a space-joined token list back into its tokens.
const TOKENS: &str = "whitespace";

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = || {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENS)
                .set_index_option(IndexRecordOption::WithFreqs),
        )
    };
    let facet = || STRING | STORED | TextOptions::default().set_fast("raw");
    let fields = Fields {
        code: b.add_text_field("code", STRING | STORED),
        basic_code: b.add_text_field("basic_code", facet()),
        version: b.add_u64_field("version", STORED | INDEXED),
        title: b.add_text_field("title", STORED),
        name: b.add_text_field("name", text()),
        name_exact: b.add_text_field("name_exact", STRING),
        keywords: b.add_text_field("keywords", text()),
        dept_text: b.add_text_field("dept_text", text()),
        materials: b.add_text_field("materials", text()),
        conditions: b.add_text_field("conditions", text()),
        department: b.add_text_field("department", facet()),
        department_name: b.add_text_field("department_name", STORED),
        theme: b.add_text_field("theme", facet()),
        audience: b.add_text_field("audience", facet()),
        level: b.add_text_field("level", facet()),
        region: b.add_text_field("region", facet()),
        region_path: b.add_text_field("region_path", STRING),
        info: b.add_text_field("info", STORED),
    };
    (b.build(), fields)
}

/// `person` for natural persons, `legal` for every other audience.
pub fn audience_key(a: Audience) -> &'static str {
    if a == Audience::NaturalPerson {
        "person"
    } else {
        "legal"
    }
}

/// The exact-name forms of an item name: the whole name and the name without its qualifier.
pub fn exact_forms(name: &str) -> Vec<String> {
    let mut v = vec![normalize(name)];
    if let Some(base) = strip_qualifier(name) {
        let b = normalize(base);
        if !b.is_empty() && !v.contains(&b) {
            v.push(b);
        }
    }
    v
}

/// Segments text once per distinct string (catalog text repeats across regions): the tokens
/// joined by single spaces, as the text fields take them.
#[derive(Default)]
pub struct TokenCache {
    map: HashMap<String, Box<str>>,
}

/// Distinct texts kept by one [`TokenCache`].
const CACHE_MAX: usize = 200_000;

impl TokenCache {
    fn get<'c>(&'c mut self, a: &Analyzer, text: &str) -> Cow<'c, str> {
        if !self.map.contains_key(text) {
            let joined = a.tokens(&normalize(text)).join(" ");
            if self.map.len() >= CACHE_MAX {
                return Cow::Owned(joined);
            }
            self.map.insert(text.to_string(), joined.into_boxed_str());
        }
        Cow::Borrowed(self.map.get(text).map(|t| &**t).unwrap_or(""))
    }
}

/// The document of one published implementation.
pub fn document(
    f: &Fields,
    a: &Analyzer,
    cache: &mut TokenCache,
    p: &IndexedImplementation,
) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_text(f.code, p.code.as_str());
    d.add_text(f.basic_code, p.basic_code.as_str());
    d.add_u64(f.version, u64::try_from(p.version).unwrap_or(0));
    d.add_text(f.title, &p.name);
    d.add_text(f.name, cache.get(a, &p.name));
    for e in exact_forms(&p.name) {
        d.add_text(f.name_exact, e);
    }
    // A field of several texts holds their tokens as several values: the same postings and
    // token count as one list (no positions are indexed).
    let keywords = p
        .themes
        .iter()
        .chain(p.handling_items.iter().map(|h| &h.name))
        .chain(std::iter::once(&p.result_name));
    for t in keywords {
        d.add_text(f.keywords, cache.get(a, t));
    }
    d.add_text(f.dept_text, cache.get(a, &p.department_name));
    for m in &p.materials {
        d.add_text(f.materials, cache.get(a, m));
    }
    d.add_text(f.conditions, cache.get(a, &p.acceptance_conditions));
    d.add_text(f.department, p.department_code.as_str());
    d.add_text(f.department_name, &p.department_name);
    for t in &p.themes {
        d.add_text(f.theme, t);
    }
    let mut auds: Vec<&str> = p.audiences.iter().map(|a| audience_key(*a)).collect();
    auds.sort_unstable();
    auds.dedup();
    for a in auds {
        d.add_text(f.audience, a);
    }
    d.add_text(f.level, p.level.key());
    d.add_text(f.region, p.region.as_str());
    for r in p.region.path() {
        d.add_text(f.region_path, r.as_str());
    }
    let info = StoredInfo {
        item_type: p.item_type.key().to_string(),
        online_depth: p.online_depth.key().to_string(),
        visits: p.visits,
        promised_amount: p.promised_limit.amount,
        promised_unit: p.promised_limit.unit.key().to_string(),
        result_name: p.result_name.clone(),
        themes: p.themes.clone(),
        materials: p.materials.clone(),
    };
    d.add_text(f.info, serde_json::to_string(&info).unwrap_or_default());
    d
}

/// Adds documents with up to four segmenting threads (the writer indexes in its own threads),
/// each dropping its documents as it goes.
pub fn add_all(
    writer: &IndexWriter,
    f: &Fields,
    a: &Analyzer,
    mut docs: Vec<IndexedImplementation>,
) -> tantivy::Result<()> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let chunk = docs.len().div_ceil(threads).max(1);
    let mut parts = Vec::with_capacity(threads);
    while docs.len() > chunk {
        parts.push(docs.split_off(docs.len() - chunk));
    }
    parts.push(docs);
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                s.spawn(move || -> tantivy::Result<()> {
                    let mut cache = TokenCache::default();
                    for p in part {
                        writer.add_document(document(f, a, &mut cache, &p))?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| tantivy::TantivyError::InternalError("indexing thread".into()))??;
        }
        Ok(())
    })
}

/// A new empty index with our schema, in RAM or in `dir`.
pub fn create(dir: Option<&std::path::Path>) -> tantivy::Result<(Index, Fields)> {
    let (schema, fields) = schema();
    let index = match dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            Index::create_in_dir(d, schema)?
        }
        None => Index::create_in_ram(schema),
    };
    Ok((index, fields))
}

/// Opens an index written by [`create`]; `None` when its schema is not ours.
pub fn open(dir: &std::path::Path) -> tantivy::Result<Option<(Index, Fields)>> {
    let index = Index::open_in_dir(dir)?;
    let (ours, fields) = schema();
    if index.schema() != ours {
        return Ok(None);
    }
    Ok(Some((index, fields)))
}
