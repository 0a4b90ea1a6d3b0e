//! Counting the SQL statements of a request: sqlx reports each as a `sqlx::query` tracing
//! event; the case benchmark sends a few requests one at a time and lists what they ran.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) static PROFILING: AtomicBool = AtomicBool::new(false);
static STATEMENTS: Mutex<BTreeMap<String, (u64, f64)>> = Mutex::new(BTreeMap::new());

static REPORTED: Mutex<std::collections::BTreeSet<String>> =
    Mutex::new(std::collections::BTreeSet::new());

struct StatementCounter;

struct Printer<'a>(&'a mut String);

impl tracing::field::Visit for Printer<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

#[derive(Default)]
struct StatementFields {
    summary: String,
    statement: String,
    elapsed_secs: f64,
}

impl tracing::field::Visit for StatementFields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_string(),
            "db.statement" => self.statement = value.to_string(),
            _ => {}
        }
    }
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed_secs = value;
        }
    }
    fn record_debug(&mut self, _field: &tracing::field::Field, _value: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for StatementCounter {
    fn register_callsite(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if meta.target() == "sqlx::query" {
            tracing::subscriber::Interest::sometimes()
        } else if *meta.level() <= tracing::Level::WARN {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }
    fn enabled(
        &self,
        meta: &tracing::Metadata<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        if meta.target() == "sqlx::query" {
            PROFILING.load(Ordering::Relaxed)
        } else {
            *meta.level() <= tracing::Level::WARN
        }
    }
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if event.metadata().target() != "sqlx::query" {
            // Server-side warnings and errors (a 500's cause), once per distinct text.
            let mut text = String::new();
            event.record(&mut Printer(&mut text));
            if let Ok(mut seen) = REPORTED.lock()
                && seen.len() < 20
                && seen.insert(text.clone())
            {
                eprintln!(
                    "{} {}: {text}",
                    event.metadata().level(),
                    event.metadata().target()
                );
            }
            return;
        }
        let mut f = StatementFields::default();
        event.record(&mut f);
        let text = if f.statement.trim().is_empty() {
            f.summary
        } else {
            f.statement
        };
        let key: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(90)
            .collect();
        if let Ok(mut m) = STATEMENTS.lock() {
            let e = m.entry(key).or_default();
            e.0 += 1;
            e.1 += f.elapsed_secs;
        }
    }
}

/// Installs the statement counter (idle until [`PROFILING`] is set); false if another
/// subscriber is already installed.
pub(crate) fn install_counter() -> bool {
    use tracing_subscriber::layer::SubscriberExt;
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(StatementCounter))
        .is_ok()
}

pub(crate) fn take_statements() -> BTreeMap<String, (u64, f64)> {
    STATEMENTS
        .lock()
        .map(|mut m| std::mem::take(&mut *m))
        .unwrap_or_default()
}
