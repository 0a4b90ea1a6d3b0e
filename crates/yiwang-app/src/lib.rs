//! Application services shared by the CLI and the web console: catalog import (parse → rules →
//! one transaction), region files, departments files, and the demo data set.

pub mod calendar;
pub mod catalog;
pub mod clock;
pub mod demo;
pub mod files;
pub mod identity;
pub mod jobs;
pub mod notices;
pub mod notify;
pub mod regions;

pub use catalog::{CatalogFormat, ImportError, import_catalog, validate_catalog};
pub use clock::{Clock, FixedClock, SystemClock};
