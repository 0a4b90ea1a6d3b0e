//! Integration tests of `yiwang-store` in one binary (one link instead of one per file), one
//! module per former test file.

mod audit_chain;
mod audit_events;
mod auth_cache_store;
mod auth_store;
mod calendar_store;
mod case_file_read;
mod case_story;
mod catalog_cache_store;
mod correction_story;
mod documents_store;
mod exchange_log_store;
mod form_defs_store;
mod group_commit;
mod infra_store;
mod mine_store;
mod password_reset_store;
mod pii_store;
mod registers_store;
mod search_data;
mod store_story;
