//! Integration tests of `yiwang-domain` in one binary (one link instead of one per file), one
//! module per former test file.

mod calendar_rules;
mod forms_props;
mod workflow_definitions;
mod workflow_engine;
