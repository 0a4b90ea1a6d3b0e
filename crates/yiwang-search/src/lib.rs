//! Search: an embedded tantivy index with jieba segmentation over the published catalog, query
//! understanding (synonyms, pinyin, typos, traditional characters) and 一件事 life events.

pub mod analyzer;
pub mod life_event;
pub mod normalize;
pub mod terms;
pub mod understand;
