//! Performance benchmarks of yiwang: the JSON API against a bare axum baseline, the national
//! region dataset, and catalog imports. Baselines are measured in the same run, on the same
//! machine, with the same load generator.

pub mod api;
pub mod audit;
mod case_baselines;
mod case_prep;
pub mod cases;
pub mod crypto;
pub mod db;
pub mod docs;
pub mod import;
pub mod load;
mod post_load;
pub mod regions;
pub mod report;
pub mod search;
mod statements;

/// Wall-clock "now" in epoch milliseconds (for `created_at` columns).
pub fn now_ms() -> i64 {
    yiwang_app::Clock::now_ms(&yiwang_app::SystemClock)
}
