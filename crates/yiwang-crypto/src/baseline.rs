//! Benchmark baselines only (cargo feature `baseline`): a switch that makes [`KeyRing`]
//! store values in plain text, so a benchmark can measure what encryption costs by running the
//! same load with and without it. Without the feature the switch does not exist and the check
//! below is a constant `false`.
//!
//! [`KeyRing`]: crate::KeyRing

#[cfg(feature = "baseline")]
static PLAINTEXT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Marks a value written while the switch was on.
pub(crate) const PLAIN_PREFIX: &str = "plain:-:";

/// Turns plain-text storage on or off for the whole process (benchmarks only).
#[cfg(feature = "baseline")]
pub fn set_plaintext(on: bool) {
    PLAINTEXT.store(on, std::sync::atomic::Ordering::SeqCst);
}

#[cfg(feature = "baseline")]
pub(crate) fn plaintext() -> bool {
    PLAINTEXT.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(not(feature = "baseline"))]
pub(crate) const fn plaintext() -> bool {
    false
}
