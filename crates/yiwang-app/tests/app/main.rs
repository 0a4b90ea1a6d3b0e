//! Integration tests of `yiwang-app` in one binary (one link instead of one per file), one
//! module per former test file.

mod calendar_file;
mod jobs_runner;
mod notify_dispatch;
