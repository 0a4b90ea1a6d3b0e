//! The yiwang domain: pure types and rules, no HTTP, no SQL, no clock.
//! Time and randomness are passed in by callers.

pub mod bundle;
pub mod bundle_form;
pub mod calendar;
pub mod case;
pub mod case_clock;
pub mod catalog;
pub mod codes;
pub mod document;
pub mod drift;
pub mod enums;
pub mod error;
pub mod forms;
pub mod mine;
pub mod password;
pub mod policy;
pub mod registers;
pub mod rules;
pub mod upload;
pub mod workflow;

pub use codes::{BasicCode, CreditCode, ImplCode, RegionCode, RegionLevel};
pub use error::{ErrorCode, Issue};
