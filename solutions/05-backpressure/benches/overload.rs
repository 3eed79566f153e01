//! Overload, measured: producers offer records twice as fast as the consumer takes
//! them, for ten seconds, once per backpressure mode and once with no bound at all.
//!
//! Run with `cargo bench -p solution05-backpressure --bench overload`.
//!
//! The run uses Tokio's paused clock: time jumps straight to the next timer, so ten
//! simulated seconds take a fraction of a real one and every run prints the same
//! numbers on any machine. What it measures is queueing, not CPU speed: how long a
//! send waits, how many records are handed back, how much piles up where.
//!
//! The load is "open": records arrive on a schedule (think of requests from users),
//! each in its own task, whether or not earlier sends have finished. That is what
//! overload looks like from a web service. A single producer loop would instead be
//! slowed down by `Block` to the consumer's pace, and the queue would build up in
//! front of the loop, out of sight.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use solution05_backpressure::{
    BackpressureMode, BufferError, ProducerBuffer, Record,
};
use tokio::time::{Instant, MissedTickBehavior};

/// Producers offer two records every millisecond: 2000 records/s.
const OFFERED_PER_MS: usize = 2;
/// The consumer takes one record every millisecond: 1000 records/s.
const CONSUMED_PER_MS: usize = 1;
/// How long the producers keep offering.
const OVERLOAD: Duration = Duration::from_secs(10);
/// Every record is 100 bytes: an 8-byte key and a 92-byte value.
const RECORD_BYTES: usize = 100;
/// The bounded buffer holds 500 records: half a second of the consumer's work.
const CAPACITY: u32 = 50_000;
/// The cap for `BlockWithTimeout` (Kafka's `max.block.ms`, scaled down).
const TIMEOUT: Duration = Duration::from_millis(200);
/// When the consumer lag is sampled, in milliseconds since the start.
const LAG_SAMPLES_MS: [u64; 5] = [500, 1_000, 2_000, 5_000, 10_000];

/// One scenario: a buffer size and a mode.
struct Scenario {
    label: &'static str,
    capacity: u32,
    mode: BackpressureMode,
}

/// What one scenario produced.
#[derive(Default)]
struct Outcome {
    offered: usize,
    accepted: usize,
    handed_back: usize,
    /// How long each send took to return, successful or not.
    latencies: Vec<Duration>,
    peak_buffered_bytes: usize,
    /// Sends in progress at the same time: records still in their callers' hands.
    waiting: usize,
    peak_waiting: usize,
    waiting_at_end: usize,
    /// Records in the buffer, not yet consumed, at each of `LAG_SAMPLES_MS`.
    lag: Vec<usize>,
}

fn lock(outcome: &Mutex<Outcome>) -> std::sync::MutexGuard<'_, Outcome> {
    outcome.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn simulate(scenario: &Scenario) -> Outcome {
    let buffer = Arc::new(ProducerBuffer::new(scenario.capacity));
    let outcome = Arc::new(Mutex::new(Outcome::default()));
    let key = Bytes::from_static(b"seat-A12");
    let value = Bytes::from(vec![b'x'; RECORD_BYTES - key.len()]);

    // The consumer: one record per millisecond, until the producers have stopped
    // and every send has returned.
    let producing_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let consumer = tokio::spawn({
        let buffer = Arc::clone(&buffer);
        let outcome = Arc::clone(&outcome);
        let producing_done = Arc::clone(&producing_done);
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
            loop {
                tick.tick().await;
                for _ in 0..CONSUMED_PER_MS {
                    buffer.take();
                }
                let done =
                    producing_done.load(std::sync::atomic::Ordering::SeqCst);
                if done
                    && lock(&outcome).waiting == 0
                    && buffer.buffered_records() == 0
                {
                    break;
                }
            }
        }
    });

    // The producers: two records per millisecond, each send in its own task.
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut sends = Vec::new();
    for ms in 0..OVERLOAD.as_millis() as u64 {
        tick.tick().await;
        if LAG_SAMPLES_MS.contains(&ms) {
            lock(&outcome).lag.push(buffer.buffered_records());
        }
        for _ in 0..OFFERED_PER_MS {
            let record = Record::new(key.clone(), value.clone());
            let buffer = Arc::clone(&buffer);
            let outcome = Arc::clone(&outcome);
            let mode = scenario.mode;
            {
                let mut outcome = lock(&outcome);
                outcome.offered += 1;
                outcome.waiting += 1;
                outcome.peak_waiting =
                    outcome.peak_waiting.max(outcome.waiting);
            }
            sends.push(tokio::spawn(async move {
                let began = Instant::now();
                let result = buffer.send(record, mode).await;
                let waited = began.elapsed();
                let mut outcome = lock(&outcome);
                outcome.waiting -= 1;
                outcome.latencies.push(waited);
                match result {
                    Ok(()) => {
                        outcome.accepted += 1;
                        outcome.peak_buffered_bytes = outcome
                            .peak_buffered_bytes
                            .max(buffer.buffered_bytes());
                    }
                    // Handed back: a real producer would retry, store or refuse it.
                    Err(
                        BufferError::Full(_) | BufferError::TimedOut { .. },
                    ) => {
                        outcome.handed_back += 1;
                    }
                    Err(other) => panic!(
                        "the simulation sends no oversized record: {other}"
                    ),
                }
            }));
        }
    }
    tick.tick().await;
    {
        let mut outcome = lock(&outcome);
        outcome.waiting_at_end = outcome.waiting;
        outcome.lag.push(buffer.buffered_records());
    }
    debug_assert_eq!(start.elapsed(), OVERLOAD);
    producing_done.store(true, std::sync::atomic::Ordering::SeqCst);
    for send in sends {
        send.await.expect("a send task panicked");
    }
    consumer.await.expect("the consumer task panicked");

    Arc::try_unwrap(outcome)
        .ok()
        .expect("every task has finished")
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
}

/// The latency below which `share` of the sends fell (nearest rank).
fn percentile(sorted: &[Duration], share: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank =
        ((share * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn show(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else {
        format!("{:.2} s", duration.as_secs_f64())
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("cannot start a Tokio runtime");

    let scenarios = [
        Scenario {
            label: "Block",
            capacity: CAPACITY,
            mode: BackpressureMode::Block,
        },
        Scenario {
            label: "BlockWithTimeout(200ms)",
            capacity: CAPACITY,
            mode: BackpressureMode::BlockWithTimeout(TIMEOUT),
        },
        Scenario {
            label: "FailImmediately",
            capacity: CAPACITY,
            mode: BackpressureMode::FailImmediately,
        },
        Scenario {
            label: "unbounded",
            capacity: u32::MAX,
            mode: BackpressureMode::Block,
        },
    ];

    println!(
        "producers offer {} records/s of {RECORD_BYTES} bytes for {} s, the consumer takes {} records/s;",
        OFFERED_PER_MS * 1000,
        OVERLOAD.as_secs(),
        CONSUMED_PER_MS * 1000
    );
    println!(
        "bounded buffer: {CAPACITY} bytes ({} records); unbounded: u32::MAX bytes. Simulated time, paused clock.\n",
        CAPACITY as usize / RECORD_BYTES
    );
    println!(
        "{:<24} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} | {:>10} {:>8} | {:>6} {:>7}",
        "mode",
        "offered",
        "accepted",
        "handed",
        "send p50",
        "p99",
        "max",
        "peak bytes",
        "peak",
        "lag at",
        "waiting"
    );
    println!(
        "{:<24} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} | {:>10} {:>8} | {:>6} {:>7}",
        "",
        "",
        "",
        "back",
        "",
        "",
        "",
        "buffered",
        "waiting",
        "10 s",
        "at 10 s"
    );
    let mut lags = Vec::new();
    for scenario in &scenarios {
        let mut outcome = runtime.block_on(simulate(scenario));
        outcome.latencies.sort_unstable();
        println!(
            "{:<24} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} | {:>10} {:>8} | {:>6} {:>7}",
            scenario.label,
            outcome.offered,
            outcome.accepted,
            outcome.handed_back,
            show(percentile(&outcome.latencies, 0.50)),
            show(percentile(&outcome.latencies, 0.99)),
            show(outcome.latencies.last().copied().unwrap_or_default()),
            outcome.peak_buffered_bytes,
            outcome.peak_waiting,
            outcome.lag.last().copied().unwrap_or_default(),
            outcome.waiting_at_end,
        );
        lags.push((scenario.label, outcome.lag));
    }

    println!(
        "\nconsumer lag (records in the buffer, not yet consumed) over time:"
    );
    print!("{:<24}", "mode");
    for ms in LAG_SAMPLES_MS {
        print!(" {:>8}", format!("{:.1} s", ms as f64 / 1000.0));
    }
    println!();
    for (label, lag) in lags {
        print!("{label:<24}");
        for records in lag {
            print!(" {records:>8}");
        }
        println!();
    }
}
