//! Headless-Chromium tests, their own binary: they need chromedriver and a real browser, and
//! share the web tests' harness.

// The browser tests use only part of it (its re-exports for the other areas stay unused).
#[allow(unused_imports)]
#[path = "../web/support/mod.rs"]
mod support;

mod browser_support;

mod e2e_browser;
mod e2e_case_story;
mod e2e_clean_path;
mod e2e_correction;
mod e2e_display;
mod e2e_mine;
mod e2e_search;
