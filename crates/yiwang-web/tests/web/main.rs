//! Web tests in one binary (one link of the whole server instead of one per file): the one
//! harness ([`support::spawn_app`]) and one module per former test file.

mod support;

mod api_cases;
mod api_catalog;
mod api_drift;
mod api_errors;
mod api_implementation;
mod api_openapi;
mod applicant_totp;
mod apply_path;
mod auth_login;
mod auth_sessions;
mod auth_tokens;
mod bundle_one_form;
mod bundle_web;
mod case_web;
mod console_audit;
mod console_edit;
mod console_flow;
mod console_forms;
mod console_search_terms;
mod console_users;
mod console_workflows;
mod correction_web;
mod forms_html;
mod hostile_api;
mod hostile_cases;
mod hostile_console;
mod hostile_portal;
mod hostile_reset;
mod mine_web;
mod notices_web;
mod page_snapshots;
mod password_reset;
mod portal_cache;
mod portal_display;
mod portal_guide;
mod portal_pages;
mod portal_verify;
mod portal_words;
mod search_pages;
mod security_routes;
mod security_web;
mod upload_helper;
