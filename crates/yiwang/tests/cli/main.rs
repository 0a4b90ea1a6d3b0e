//! Integration tests of `yiwang` in one binary (one link instead of one per file), one
//! module per former test file.

mod audit_cli;
mod auth_cli;
mod calendar_cli;
mod cli;
mod exchange_cli;
mod keys_cli;
mod registers_cli;
mod serve_background;
mod serve_public_url;
