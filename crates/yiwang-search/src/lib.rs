//! Search: an embedded tantivy index with jieba segmentation over the published catalog, query
//! understanding (synonyms, pinyin, typos, traditional characters) and 一件事 life events.

pub mod analyzer;
pub mod engine;
pub mod index;
pub mod life_event;
pub mod normalize;
pub mod terms;
pub mod understand;

pub use engine::{Engine, Hit, SearchError, SearchRequest, SearchResult};
pub mod service;
pub use service::{ReindexStats, SearchService};
pub mod eval;
pub mod plan;
