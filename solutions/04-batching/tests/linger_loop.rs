//! Exercise "linger_loop": `Producer::run` in src/linger_loop.rs.
//!
//! Each test spawns `run` on a paused tokio clock and plays the application: it
//! sends records into the channel and sleeps. While every task sleeps, tokio
//! jumps the clock straight to the next timer, so the tests are instant and
//! their times exact. Most tests use a one-partition topic; the last ones use
//! two, because a timer that fires for one partition must not send the other's
//! batch.

mod common;

use std::future::Future;
use std::time::Duration;

use common::{LINGER, config, keyed, ms, names, one_key_per_partition, topic};
use solution04_batching::{FlushError, InMemoryBroker, Producer, Record};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use workshop_testkit::watchdog;

type Finished = (
    Result<(), FlushError>,
    Producer<InMemoryBroker>,
    mpsc::Receiver<Record>,
);

/// What a test that never finishes is told. A paused clock moves only while
/// every task waits, so a `run` that loops without waiting stops time itself.
const SPINS: &str = "`run` did not return and the test could not go on: \
    it seems to loop without ever waiting. Does it wait for a record when no \
    batch is open (a deadline of None must never be ready)? After a deadline, \
    does flush_due take the batch that is due exactly now (`<=`), so the next \
    deadline moves on?";

/// Runs a test on a paused tokio clock (time jumps to the next timer whenever
/// every task waits, so the tests are instant and exact), watched from another
/// thread so that a `run` which spins fails with [`SPINS`] instead of hanging.
#[track_caller]
fn on_paused_clock<F, Fut>(test: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    watchdog::within(Duration::from_secs(5), SPINS, move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a tokio runtime for the test")
            .block_on(test())
    });
}

/// Starts `run` in its own task. The task hands the producer and the channel
/// back when `run` returns, so a test can look at them or run again.
fn spawn_run(
    mut producer: Producer<InMemoryBroker>,
    mut records: mpsc::Receiver<Record>,
) -> JoinHandle<Finished> {
    tokio::spawn(async move {
        let result = producer.run(&mut records).await;
        (result, producer, records)
    })
}

/// A one-partition topic whose batches hold exactly three 10-byte records.
fn start() -> (mpsc::Sender<Record>, JoinHandle<Finished>, InMemoryBroker) {
    let broker = InMemoryBroker::new();
    let producer =
        Producer::new(topic("bookings", 1), config(30, LINGER), broker.clone());
    let (sender, receiver) = mpsc::channel(16);
    (sender, spawn_run(producer, receiver), broker)
}

fn rec(name: &str) -> Record {
    keyed("seat-1", name, 10)
}

async fn produce(sender: &mpsc::Sender<Record>, name: &str) {
    sender.send(rec(name)).await.unwrap_or_else(|_| {
        panic!("run stopped before {name} was sent: it must keep reading the channel")
    });
}

/// `(milliseconds after t0 when the batch arrived, its records)` for each
/// batch.
fn arrivals(broker: &InMemoryBroker, t0: Instant) -> Vec<(u128, Vec<String>)> {
    broker
        .received()
        .iter()
        .map(|batch| {
            (
                batch.received_at.duration_since(t0).as_millis(),
                names(&batch.records),
            )
        })
        .collect()
}

fn at(millis: u128, records: &[&str]) -> (u128, Vec<String>) {
    (millis, records.iter().map(|r| r.to_string()).collect())
}

/// Waits for `run` to return. If it panicked, the test fails with its panic
/// message (a `todo!()`, say), not with a vague "the task failed".
async fn finish(task: JoinHandle<Finished>) -> Finished {
    match task.await {
        Ok(finished) => finished,
        Err(error) if error.is_panic() => {
            std::panic::resume_unwind(error.into_panic())
        }
        Err(error) => panic!("the task running `run` was cancelled: {error}"),
    }
}

/// Fails the test if `run` has already returned or panicked while the channel
/// is still open.
async fn assert_running(task: &mut JoinHandle<Finished>) {
    if task.is_finished() {
        match task.await {
            Ok((result, _, _)) => panic!(
                "run returned {result:?} while the channel was still open: \
                 it must keep going until every sender is dropped"
            ),
            Err(error) if error.is_panic() => {
                std::panic::resume_unwind(error.into_panic())
            }
            Err(error) => {
                panic!("the task running `run` was cancelled: {error}")
            }
        }
    }
}

#[test]
fn a_lone_record_is_sent_when_its_linger_runs_out() {
    on_paused_clock(|| async {
        let t0 = Instant::now();
        let (sender, mut task, broker) = start();
        produce(&sender, "a1").await;

        sleep_until(t0 + ms(4)).await;
        assert_running(&mut task).await;
        assert_eq!(
            arrivals(&broker, t0),
            vec![],
            "4 ms after a1 its batch has lingered 4 of 5 ms: nothing may be sent yet"
        );

        sleep_until(t0 + ms(20)).await;
        assert_running(&mut task).await;
        assert_eq!(
            arrivals(&broker, t0),
            vec![at(5, &["a1"])],
            "with no other record coming, a1's batch must be sent when its linger runs out, at 5 ms: \
         run must sleep until the next deadline as well as wait for records"
        );
        drop(sender);
        let (result, _, _) = finish(task).await;
        result.expect(
        "run must return Ok once the channel is closed and everything was sent",
    );
    });
}

#[test]
fn a_full_batch_is_sent_without_waiting_for_the_linger() {
    on_paused_clock(|| async {
        let t0 = Instant::now();
        let (sender, mut task, broker) = start();
        for name in ["a1", "a2", "a3"] {
            produce(&sender, name).await;
        }
        sleep_until(t0 + ms(1)).await;
        assert_running(&mut task).await;
        assert_eq!(
            arrivals(&broker, t0),
            vec![at(0, &["a1", "a2", "a3"])],
            "three records fill the batch: it must be sent at once, at 0 ms"
        );
        drop(sender);
        finish(task)
            .await
            .0
            .expect("run must return Ok once the channel is closed");
    });
}

// ANCHOR: trickle
#[test]
fn a_steady_trickle_of_records_cannot_hold_a_batch_back() {
    on_paused_clock(|| async {
        let t0 = Instant::now();
        let broker = InMemoryBroker::new();
        // Batches big enough never to fill: only the linger sends them.
        let producer = Producer::new(
            topic("bookings", 1),
            config(1000, LINGER),
            broker.clone(),
        );
        let (sender, receiver) = mpsc::channel(16);
        let mut task = spawn_run(producer, receiver);
        for (i, name) in ["a1", "a2", "a3", "a4", "a5"].into_iter().enumerate()
        {
            sleep_until(t0 + ms(2 * i as u64)).await;
            produce(&sender, name).await;
        }
        sleep_until(t0 + ms(30)).await;
        assert_running(&mut task).await;
        assert_eq!(
            arrivals(&broker, t0),
            vec![at(5, &["a1", "a2", "a3"]), at(11, &["a4", "a5"])],
            "records arrive every 2 ms, at 0, 2, 4, 6 and 8 ms. The batch \
             opened by a1 must go at 5 ms, its linger counted from its first \
             record; a4 opens the next batch at 6 ms, which goes at 11 ms. A \
             timeout restarted after each record (`timeout(linger, recv())`) \
             waits for a pause in the traffic instead and sends everything at \
             13 ms"
        );
        drop(sender);
        finish(task)
            .await
            .0
            .expect("run must return Ok once the channel is closed");
    });
}
// ANCHOR_END: trickle

#[test]
fn closing_the_channel_sends_everything_still_buffered_at_once() {
    on_paused_clock(|| async {
        let t0 = Instant::now();
        let (sender, task, broker) = start();
        produce(&sender, "a1").await;
        produce(&sender, "a2").await;
        drop(sender);
        let (result, producer, _) = finish(task).await;
        result.expect(
        "run must return Ok once the channel is closed and everything was sent",
    );
        assert_eq!(
            arrivals(&broker, t0),
            vec![at(0, &["a1", "a2"])],
            "when every sender is gone no more records can come: run must flush everything at once \
         (flush_all) and return, not wait for the linger and not return with records still buffered"
        );
        assert_eq!(producer.unsent_batches(), 0);
    });
}

#[test]
fn run_stops_on_a_failed_flush_and_the_next_run_sends_what_was_kept() {
    on_paused_clock(|| async {
        let t0 = Instant::now();
        let (sender, task, broker) = start();
        broker.fail_next(1);
        for name in ["a1", "a2", "a3"] {
            produce(&sender, name).await;
        }
        let (result, producer, receiver) = finish(task).await;
        let error = result.expect_err(
            "the broker refused the full batch: run must return the error",
        );
        assert_eq!(
            error.records, 3,
            "the error must be about the batch [a1, a2, a3]"
        );
        assert_eq!(
            producer.unsent_batches(),
            1,
            "the refused batch must be kept"
        );

        // The application pauses, then runs the producer again; the sender is
        // still open.
        sleep_until(t0 + ms(100)).await;
        let mut task = spawn_run(producer, receiver);
        sleep_until(t0 + ms(101)).await;
        assert_running(&mut task).await;
        assert_eq!(
            arrivals(&broker, t0),
            vec![at(100, &["a1", "a2", "a3"])],
            "a new run must first send what the last one left behind, at once, \
         not wait for a new record to come"
        );
        produce(&sender, "b1").await;
        drop(sender);
        finish(task)
            .await
            .0
            .expect("run must return Ok once the channel is closed");
        assert_eq!(
            names(&broker.records_in(solution04_batching::Partition(0))),
            ["a1", "a2", "a3", "b1"],
            "every record must reach the partition once, in order"
        );
    });
}

/// A two-partition topic with a batch limit no test reaches, and one key per
/// partition: records keyed `keys[p]` go to partition `p`.
fn start_two_partitions() -> (
    mpsc::Sender<Record>,
    JoinHandle<Finished>,
    InMemoryBroker,
    Vec<String>,
) {
    let broker = InMemoryBroker::new();
    let topic = topic("bookings", 2);
    let keys = one_key_per_partition(&topic);
    let producer = Producer::new(topic, config(1000, LINGER), broker.clone());
    let (sender, receiver) = mpsc::channel(16);
    (sender, spawn_run(producer, receiver), broker, keys)
}

#[test]
fn the_timer_sends_only_the_batch_whose_linger_ran_out() {
    on_paused_clock(|| async {
        let t0 = Instant::now();
        let (sender, mut task, broker, keys) = start_two_partitions();
        send_keyed(&sender, &keys[0], "a1").await;
        sleep_until(t0 + ms(3)).await;
        send_keyed(&sender, &keys[1], "b1").await;

        sleep_until(t0 + ms(6)).await;
        assert_running(&mut task).await;
        assert_eq!(
            arrivals(&broker, t0),
            vec![at(5, &["a1"])],
            "at 5 ms only a1's batch (partition 0, opened at 0 ms) has lingered \
             5 ms. b1's batch (partition 1, opened at 3 ms) must wait until 8 ms: \
             when the timer fires, call flush_due, not flush_all"
        );
        sleep_until(t0 + ms(20)).await;
        assert_eq!(
            arrivals(&broker, t0),
            vec![at(5, &["a1"]), at(8, &["b1"])],
            "b1's batch must go when its own linger runs out, at 8 ms"
        );
        drop(sender);
        finish(task)
            .await
            .0
            .expect("run must return Ok once the channel is closed");
    });
}

#[test]
fn batches_of_two_partitions_due_together_are_both_sent() {
    on_paused_clock(|| async {
        let t0 = Instant::now();
        let (sender, mut task, broker, keys) = start_two_partitions();
        send_keyed(&sender, &keys[0], "a1").await;
        send_keyed(&sender, &keys[1], "b1").await;

        sleep_until(t0 + ms(6)).await;
        assert_running(&mut task).await;
        assert_eq!(
            arrivals(&broker, t0),
            vec![at(5, &["a1"]), at(5, &["b1"])],
            "both batches opened at 0 ms, so both are due at 5 ms: every \
             expired batch goes, not only the first"
        );
        drop(sender);
        finish(task)
            .await
            .0
            .expect("run must return Ok once the channel is closed");
    });
}

#[test]
fn a_failed_flush_at_close_is_returned_not_swallowed() {
    on_paused_clock(|| async {
        let (sender, task, broker) = start();
        produce(&sender, "a1").await;
        broker.fail_next(1);
        drop(sender);
        let (result, producer, _) = finish(task).await;
        let error = result.expect_err(
            "the channel closed and the broker refused the last batch: run must \
             return that error. Returning Ok would tell the application that a1 \
             was sent, and it is not",
        );
        assert_eq!(error.records, 1, "the error must be about the batch [a1]");
        assert_eq!(
            producer.unsent_batches(),
            1,
            "the refused batch must be kept, so a later flush can send it"
        );
        assert_eq!(broker.received().len(), 0, "the broker stored nothing");
    });
}

#[test]
fn a_failed_flush_when_the_linger_runs_out_stops_run() {
    on_paused_clock(|| async {
        let t0 = Instant::now();
        let (sender, task, broker) = start();
        produce(&sender, "a1").await;
        broker.fail_next(1);
        sleep_until(t0 + ms(20)).await;
        assert!(
            task.is_finished(),
            "the broker refused a1's batch when its linger ran out, at 5 ms: \
             run must stop and return the error, as it does for a full batch, \
             not carry on as if it had been sent"
        );
        let (result, producer, _) = finish(task).await;
        let error = result.expect_err("run must return the refused flush");
        assert_eq!(error.records, 1, "the error must be about the batch [a1]");
        assert_eq!(
            producer.unsent_batches(),
            1,
            "the refused batch must be kept"
        );
        drop(sender);
    });
}

async fn send_keyed(sender: &mpsc::Sender<Record>, key: &str, name: &str) {
    sender.send(keyed(key, name, 10)).await.unwrap_or_else(|_| {
        panic!("run stopped before {name} was sent: it must keep reading the channel")
    });
}
