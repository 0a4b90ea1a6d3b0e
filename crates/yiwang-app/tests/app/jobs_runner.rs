//! The job runner on every backend, with a clock the test moves: handlers by kind, retries with
//! capped exponential backoff, giving up, panics and unknown kinds, the background loop and its
//! graceful stop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use yiwang_app::FixedClock;
use yiwang_app::jobs::{Backoff, JobError, JobRunner, Pass, spawn};
use yiwang_store::{Job, JobState};
use yiwang_testkit::backends;

const T0: i64 = 1_800_000_000_000;

#[test]
fn backoff_doubles_up_to_the_cap_and_gives_up() {
    let b = Backoff {
        base_ms: 1000,
        cap_ms: 8000,
        max_attempts: 6,
    };
    let plain: Vec<i64> = (1..=6).map(|a| b.delay_ms(a, 0)).collect();
    assert_eq!(plain, vec![1000, 2000, 4000, 8000, 8000, 8000]);
    // The spread stays within 10 %.
    for salt in 0..50 {
        let d = b.delay_ms(3, salt);
        assert!((4000..4400).contains(&d), "{d}");
    }
    assert_eq!(b.retry_at(5, 100, 0), Some(8100));
    assert_eq!(b.retry_at(6, 100, 0), None);
    // Huge attempt numbers do not overflow.
    assert_eq!(b.delay_ms(i64::MAX, i64::MAX) / 1000, 8);
}

#[tokio::test]
async fn runner_retries_with_backoff_then_completes() {
    for db in backends().await {
        let s = &db.store;
        let b = db.backend.name();
        let calls = Arc::new(AtomicUsize::new(0));
        let mut runner = JobRunner::new(s.clone());
        let c = calls.clone();
        runner.register_with(
            "t.flaky",
            Backoff {
                base_ms: 1000,
                cap_ms: 60_000,
                max_attempts: 5,
            },
            move |job: Job, _now: i64| {
                let c = c.clone();
                async move {
                    assert_eq!(job.payload, json!({"case": 7}));
                    if c.fetch_add(1, Ordering::SeqCst) < 2 {
                        Err(JobError::Retry("receiver down".into()))
                    } else {
                        Ok(())
                    }
                }
            },
        );
        let id = s
            .enqueue_job("t.flaky", &json!({"case": 7}), T0, None)
            .await
            .unwrap();
        assert_eq!(runner.run_once(T0 - 1).await.unwrap(), 0, "not due, {b}");
        assert_eq!(runner.run_once(T0).await.unwrap(), 1, "{b}");
        let j = s.job(id).await.unwrap().unwrap();
        assert_eq!(j.state, JobState::Queued);
        let first_retry = j.due_at - T0;
        assert!((1000..1100).contains(&first_retry), "{first_retry}");
        assert_eq!(runner.run_once(j.due_at - 1).await.unwrap(), 0, "{b}");
        assert_eq!(runner.run_once(j.due_at).await.unwrap(), 1, "{b}");
        let j2 = s.job(id).await.unwrap().unwrap();
        let second_retry = j2.due_at - j.due_at;
        assert!(
            (2000..2200).contains(&second_retry),
            "doubles: {second_retry}"
        );
        assert_eq!(runner.run_once(j2.due_at).await.unwrap(), 1, "{b}");
        let done = s.job(id).await.unwrap().unwrap();
        assert_eq!((done.state, done.attempts), (JobState::Done, 3), "{b}");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(runner.run_once(T0 + 1_000_000).await.unwrap(), 0, "{b}");
    }
}

#[tokio::test]
async fn give_up_panics_and_unknown_kinds() {
    for db in backends().await {
        let s = &db.store;
        let b = db.backend.name();
        let mut runner = JobRunner::new(s.clone());
        runner
            .register("t.fatal", |_j: Job, _n: i64| async {
                Err(JobError::GiveUp("bad payload".into()))
            })
            .register_with(
                "t.panics",
                Backoff {
                    base_ms: 10,
                    cap_ms: 10,
                    max_attempts: 2,
                },
                |_j: Job, _n: i64| async { panic!("handler bug") },
            );
        assert_eq!(runner.kinds(), vec!["t.fatal", "t.panics"]);
        let fatal = s
            .enqueue_job("t.fatal", &json!({}), T0, None)
            .await
            .unwrap();
        let panics = s
            .enqueue_job("t.panics", &json!({}), T0, None)
            .await
            .unwrap();
        let unknown = s
            .enqueue_job("t.nobody", &json!({}), T0, None)
            .await
            .unwrap();
        assert_eq!(runner.run_once(T0).await.unwrap(), 3, "{b}");
        let f = s.job(fatal).await.unwrap().unwrap();
        assert_eq!(
            (f.state, f.last_error.as_deref()),
            (JobState::Dead, Some("bad payload"))
        );
        let p = s.job(panics).await.unwrap().unwrap();
        assert_eq!(p.state, JobState::Queued, "a panic is retried, {b}");
        assert!(p.last_error.unwrap().contains("panic"), "{b}");
        // Second panic: out of attempts.
        assert_eq!(runner.run_once(T0 + 100).await.unwrap(), 1, "{b}");
        assert_eq!(s.job(panics).await.unwrap().unwrap().state, JobState::Dead);
        let u = s.job(unknown).await.unwrap().unwrap();
        assert_eq!(
            u.state,
            JobState::Queued,
            "kept for a version that knows it"
        );
        assert!(u.last_error.unwrap().contains("t.nobody"));
    }
}

#[tokio::test]
async fn background_loop_runs_jobs_and_stops_gracefully() {
    for db in backends().await {
        let s = &db.store;
        let clock = Arc::new(FixedClock::new(T0));
        let seen = Arc::new(AtomicUsize::new(0));
        let mut runner = JobRunner::new(s.clone()).batch_size(2);
        let c = seen.clone();
        runner.register("t.loop", move |_j: Job, _n: i64| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        });
        for i in 0..5 {
            s.enqueue_job("t.loop", &json!({ "i": i }), T0, None)
                .await
                .unwrap();
        }
        let later = s
            .enqueue_job("t.loop", &json!({}), T0 + 60_000, None)
            .await
            .unwrap();
        let passes: Vec<Arc<dyn Pass>> = vec![Arc::new(runner)];
        let bg = spawn(passes, clock.clone(), Duration::from_millis(20));
        for _ in 0..200 {
            if seen.load(Ordering::SeqCst) >= 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(seen.load(Ordering::SeqCst), 5, "all due jobs, in batches");
        assert_eq!(s.job(later).await.unwrap().unwrap().state, JobState::Queued);
        // Moving the clock makes the later job due; the loop picks it up on its next poll.
        // (The handler counts before the runner marks the job done: wait for the mark.)
        clock.set(T0 + 60_000);
        for _ in 0..300 {
            if s.job(later).await.unwrap().unwrap().state == JobState::Done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(s.job(later).await.unwrap().unwrap().state, JobState::Done);
        assert_eq!(seen.load(Ordering::SeqCst), 6);
        tokio::time::timeout(Duration::from_secs(5), bg.stop())
            .await
            .expect("stops promptly");
        // Stopped: new work stays queued.
        let after = s.enqueue_job("t.loop", &json!({}), T0, None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(s.job(after).await.unwrap().unwrap().state, JobState::Queued);
    }
}

#[tokio::test]
async fn periodic_jobs_run_once_per_period_across_runners() {
    for db in backends().await {
        let s = &db.store;
        let b = db.backend.name();
        let runs = Arc::new(std::sync::Mutex::new(Vec::new()));
        // Two runners (two processes) with the same schedule.
        let mut runners = Vec::new();
        for _ in 0..2 {
            let mut r = JobRunner::new(s.clone());
            let seen = runs.clone();
            r.every("t.scan", 600_000, move |job: Job, _now: i64| {
                let seen = seen.clone();
                async move {
                    seen.lock()
                        .unwrap()
                        .push(job.payload["period_start_ms"].as_i64().unwrap());
                    Ok(())
                }
            });
            runners.push(r);
        }
        let start = T0 - T0.rem_euclid(600_000);
        for t in [start + 1, start + 5_000, start + 599_999] {
            for r in &runners {
                r.run_once(t).await.unwrap();
            }
        }
        assert_eq!(
            *runs.lock().unwrap(),
            vec![start],
            "one run in the period, {b}"
        );
        for r in &runners {
            r.run_once(start + 600_000).await.unwrap();
        }
        assert_eq!(*runs.lock().unwrap(), vec![start, start + 600_000], "{b}");
    }
}
