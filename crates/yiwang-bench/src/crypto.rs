//! `crypto`: throughput of personal-data protection on one core — AEAD encrypt and decrypt of a
//! field (SM4-GCM, the default, and AES-256-GCM), the HMAC-SM3 blind index, and the cost of one
//! protected field as a write (encrypt + index) and a read (decrypt) pay it. No database.

use crate::report::Report;
use std::hint::black_box;
use std::time::{Duration, Instant};
use yiwang_crypto::{Alg, KeyFile, KeySource, field_aad};

const BENCH: &str = "encryption";
/// A resident ID number: the longest field protected today (18 bytes).
const VALUE: &str = "11010519491231002X";

/// Runs `f` repeatedly for about `budget`; returns operations per second.
fn rate(budget: Duration, mut f: impl FnMut(u64)) -> f64 {
    // Warm-up, then timed rounds of 1,000 calls until the budget is spent.
    for i in 0..1_000 {
        f(i);
    }
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < budget {
        for _ in 0..1_000 {
            f(n);
            n += 1;
        }
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn fmt_rate(ops: f64) -> String {
    format!("{:.0} ops/s ({:.2} µs/op)", ops, 1e6 / ops)
}

pub fn run(seconds: f64) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let budget = Duration::from_secs_f64(seconds.clamp(0.05, 60.0) / 8.0);
    for alg in [Alg::Sm4Gcm, Alg::Aes256Gcm] {
        let ring = KeyFile::generate(alg).ring(KeySource::Inline)?;
        let aad = field_aad("users", "id_number", 42);
        let stored = ring.encrypt(&aad, VALUE)?;
        let enc = rate(budget, |_| {
            black_box(ring.encrypt(black_box(&aad), black_box(VALUE)).ok());
        });
        let dec = rate(budget, |_| {
            black_box(ring.decrypt(black_box(&aad), black_box(&stored)).ok());
        });
        let both = rate(budget, |_| {
            let s = ring.encrypt(&aad, VALUE).unwrap_or_default();
            black_box(ring.decrypt(&aad, &s).ok());
        });
        report.info(
            BENCH,
            &format!("{} encrypt (18 B field)", alg.id()),
            fmt_rate(enc),
        );
        report.info(
            BENCH,
            &format!("{} decrypt (18 B field)", alg.id()),
            fmt_rate(dec),
        );
        report.info(
            BENCH,
            &format!("{} encrypt+decrypt", alg.id()),
            fmt_rate(both),
        );
        if alg == Alg::Sm4Gcm {
            let idx = rate(budget, |_| {
                black_box(ring.blind_index(black_box("resident_id"), black_box(VALUE)));
            });
            report.info(BENCH, "hmac-sm3 blind index", fmt_rate(idx));
            let write = 1e6 / enc + 1e6 / idx;
            report.info(
                BENCH,
                "one protected field: write (encrypt+index) / read (decrypt)",
                format!("{write:.2} µs / {:.2} µs", 1e6 / dec),
            );
        }
    }
    report.note(
        "encryption: one core, in memory; a staff or applicant record has 2–3 protected fields, \
         so protection adds a few µs to a request that takes milliseconds",
    );
    Ok(report)
}
