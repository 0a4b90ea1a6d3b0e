//! Integration tests of `yiwang-interchange` in one binary (one link instead of one per file), one
//! module per former test file.

mod common;

mod bad_files;
mod props;
mod roundtrip;
