//! Application services shared by the CLI, the web pages and the API: use cases (apply, …),
//! catalog import (parse → rules → one transaction), region files, departments files, and the
//! demo data set.

pub mod apply;
pub mod bundles;
pub mod calendar;
pub mod catalog;
pub mod clock;
pub mod corrections;
pub mod demo;
pub mod files;
pub mod identity;
pub mod intake;
pub mod jobs;
pub mod mine;
pub mod notices;
pub mod notify;
pub mod password_reset;
pub mod regions;
pub mod registers;
pub mod work;

pub use catalog::{CatalogFormat, ImportError, import_catalog, validate_catalog};
pub use clock::{Clock, FixedClock, SystemClock};
