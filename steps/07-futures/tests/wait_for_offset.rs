//! Exercise "wait_for_offset": `poll` and `drop` of `WaitForOffset` in
//! src/wait.rs.
//!
//! The tests poll the future by hand with tokio-test's mock tasks: `poll()`
//! polls once, and `is_woken()` says whether the waker that poll handed out has
//! been woken since. So each test can say exactly when a wake-up must happen,
//! and when it must not.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use common::watched;
use solution06_log::{Log, LogError, Offset, Partition, Record};
use step07_futures::{Fetch, WaitForOffset, fetch};
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready, assert_ready_eq};

const P0: Partition = Partition(0);
const P1: Partition = Partition(1);

/// A log with two partitions, shared the way producers and consumers share it.
fn two_partitions() -> Arc<Log> {
    Arc::new(Log::new(2).expect("a log with 2 partitions is valid"))
}

fn append(log: &Log, partition: Partition, value: &'static str) -> Offset {
    log.append(partition, Record::new("seat-A12", value))
        .expect("the tests only append to partitions that exist")
}

#[test]
fn ready_at_once_when_the_record_is_already_there() {
    watched(move || {
        let log = two_partitions();
        for value in ["requested", "paid", "expired"] {
            append(&log, P0, value);
        }

        let mut waiting =
            spawn(WaitForOffset::new(Arc::clone(&log), P0, Offset(2)));
        assert_ready_eq!(
            waiting.poll(),
            Ok(()),
            "partition 0 holds offsets 0, 1 and 2: waiting for offset 2 must be ready on the first poll"
        );
    });
}

#[test]
fn pending_while_the_record_does_not_exist_yet() {
    watched(move || {
        let log = two_partitions();

        let mut on_empty =
            spawn(WaitForOffset::new(Arc::clone(&log), P0, Offset(0)));
        assert_pending!(
            on_empty.poll(),
            "an empty partition has no record at offset 0: the future must return Pending"
        );

        for value in ["requested", "paid", "expired"] {
            append(&log, P0, value);
        }
        let mut past_the_end =
            spawn(WaitForOffset::new(Arc::clone(&log), P0, Offset(3)));
        assert_pending!(
            past_the_end.poll(),
            "with three records (offsets 0, 1 and 2) there is no record at offset 3 yet: \
         ready means high watermark > offset, not >="
        );
    });
}

#[test]
fn woken_by_the_append_that_writes_the_offset_and_not_before() {
    watched(move || {
        let log = two_partitions();
        let mut waiting =
            spawn(WaitForOffset::new(Arc::clone(&log), P0, Offset(0)));

        assert_pending!(waiting.poll(), "nothing is in partition 0 yet");
        assert!(
            !waiting.is_woken(),
            "the future woke its own task before returning Pending: that makes the executor poll \
         it again at once, in a busy loop. Register the waker with the log and let the append wake it"
        );

        append(&log, P1, "another seat");
        assert!(
            !waiting.is_woken(),
            "an append to partition 1 woke a future waiting on partition 0: register the waker \
         on the partition the future waits for"
        );

        append(&log, P0, "requested");
        assert!(
            waiting.is_woken(),
            "the record the future waits for was appended, but its task was not woken: \
         before returning Pending, register `cx.waker()` with `log.register_waker`"
        );
        assert_ready_eq!(
            waiting.poll(),
            Ok(()),
            "after the append, the record at offset 0 exists: the next poll must be ready"
        );
    });
}

#[test]
fn each_wake_up_before_the_offset_exists_registers_again() {
    watched(move || {
        let log = two_partitions();
        // Waits for the third record: the first two appends wake it too early.
        let mut waiting =
            spawn(WaitForOffset::new(Arc::clone(&log), P0, Offset(2)));
        assert_pending!(waiting.poll(), "nothing is in partition 0 yet");

        for (value, offset) in [("requested", 0), ("paid", 1)] {
            append(&log, P0, value);
            assert!(
                waiting.is_woken(),
                "an append to partition 0 wakes every waiter of partition 0, also this one \
             (after the append of offset {offset})"
            );
            assert_pending!(
                waiting.poll(),
                "offset {offset} was appended, but the future waits for offset 2: being woken is not \
             being ready, so check the high watermark, don't remember that you were woken"
            );
            assert!(
                !waiting.is_woken(),
                "the future woke its own task after the append of offset {offset}: it must wait quietly for the next append"
            );
        }

        append(&log, P0, "expired");
        assert!(
            waiting.is_woken(),
            "the third append (offset 2) did not wake the future. An append wakes each registered \
         waker once and then forgets it: register again on every poll that returns Pending, \
         not only on the first"
        );
        assert_ready_eq!(
            waiting.poll(),
            Ok(()),
            "offset 2 exists now: the future must be ready"
        );
    });
}

// ANCHOR: latest_waker
#[test]
fn the_latest_waker_is_woken_when_the_future_moves_to_another_task() {
    watched(move || {
        let log = two_partitions();
        let mut future = WaitForOffset::new(Arc::clone(&log), P0, Offset(0));
        // Two mock tasks, used only for their wakers: the same future is polled
        // first by one, then by the other, as when an executor moves it.
        let mut first_task = spawn(());
        let mut second_task = spawn(());

        assert_pending!(
            first_task.enter(|cx, _| Pin::new(&mut future).poll(cx))
        );
        assert_pending!(
            second_task.enter(|cx, _| Pin::new(&mut future).poll(cx))
        );
        assert_eq!(
            log.waiting(P0),
            1,
            "one future polled twice must leave one waker in the log, not one per poll: \
         register under the future's own `waiter` id, taken once in `new`"
        );

        append(&log, P0, "requested");
        assert!(
            second_task.is_woken(),
            "the future was last polled by the second task, so the append must wake the second \
         task: register `cx.waker()` on every poll, so that it replaces the old one"
        );
        assert!(
            !first_task.is_woken(),
            "the append woke the first task, which no longer polls this future: the waker of an \
         earlier poll was left behind in the log"
        );
    });
}
// ANCHOR_END: latest_waker

#[test]
fn polling_again_and_again_leaves_one_waker_in_the_log() {
    watched(move || {
        let log = two_partitions();
        let mut waiting =
            spawn(WaitForOffset::new(Arc::clone(&log), P0, Offset(0)));

        for poll in 1..=5 {
            assert_pending!(
                waiting.poll(),
                "nothing is in partition 0 yet (poll {poll})"
            );
            assert_eq!(
                log.waiting(P0),
                1,
                "after {poll} polls of one future the log holds {} wakers, want 1: wakers pile up \
             when each poll registers under a new id. Take the id once, in `new`",
                log.waiting(P0)
            );
        }
    });
}

#[test]
fn dropping_a_waiting_future_removes_its_waker() {
    watched(move || {
        let log = two_partitions();
        let mut waiting =
            spawn(WaitForOffset::new(Arc::clone(&log), P0, Offset(0)));
        assert_pending!(waiting.poll(), "nothing is in partition 0 yet");
        assert_eq!(
            log.waiting(P0),
            1,
            "a pending future leaves its waker with the log"
        );

        // What a timeout or a cancelled task does: drop the future before it is
        // ready.
        drop(waiting);

        assert_eq!(
            log.waiting(P0),
            0,
            "the future was dropped, but its waker is still in the log, keeping a task that no \
         longer waits alive until the next append: deregister in `Drop`"
        );
    });
}

#[test]
fn an_unknown_partition_is_an_error_not_an_endless_wait() {
    watched(move || {
        let log = two_partitions();
        let mut waiting = spawn(WaitForOffset::new(
            Arc::clone(&log),
            Partition(7),
            Offset(0),
        ));

        let outcome = assert_ready!(
            waiting.poll(),
            "partition 7 does not exist in a log of 2 partitions: no append can ever make this \
         future ready, so it must return the error instead of waiting forever"
        );
        assert_eq!(
            outcome,
            Err(LogError::UnknownPartition {
                partition: Partition(7),
                partition_count: 2,
            }),
            "pass the log's error on with `?`"
        );
    });
}

#[test]
fn two_futures_on_one_partition_are_both_woken() {
    watched(move || {
        let log = two_partitions();
        let mut first =
            spawn(WaitForOffset::new(Arc::clone(&log), P0, Offset(0)));
        let mut second =
            spawn(WaitForOffset::new(Arc::clone(&log), P0, Offset(0)));
        assert_pending!(first.poll(), "nothing is in partition 0 yet");
        assert_pending!(second.poll(), "nothing is in partition 0 yet");

        append(&log, P0, "requested");

        assert!(
            first.is_woken() && second.is_woken(),
            "two consumers wait for the same record, and both must be woken (first: {}, second: {})",
            first.is_woken(),
            second.is_woken()
        );
    });
}

#[test]
fn fetch_waits_for_the_first_record_then_reads_what_is_there() {
    watched(move || {
        let log = two_partitions();
        // The `async fn` and the state machine written by hand (src/fetch.rs)
        // must behave the same: both await your `WaitForOffset`.
        let mut with_await = spawn(fetch(Arc::clone(&log), P0, Offset(0), 10));
        let mut by_hand =
            spawn(Fetch::new(Arc::clone(&log), P0, Offset(0), 10));
        assert_pending!(
            with_await.poll(),
            "`fetch` on an empty partition must wait"
        );
        assert_pending!(
            by_hand.poll(),
            "`Fetch` on an empty partition must wait"
        );

        append(&log, P0, "requested");
        append(&log, P0, "paid");
        assert!(
            with_await.is_woken() && by_hand.is_woken(),
            "the wake-up of the awaited `WaitForOffset` must reach the task that awaits it"
        );

        for (name, fetched) in [
            ("fetch", assert_ready!(with_await.poll())),
            ("Fetch", assert_ready!(by_hand.poll())),
        ] {
            let offsets: Vec<Offset> = fetched
                .expect("partition 0 exists")
                .iter()
                .map(|stored| stored.offset)
                .collect();
            assert_eq!(
                offsets,
                [Offset(0), Offset(1)],
                "`{name}` must read every record that is there once it is woken"
            );
        }
    });
}
