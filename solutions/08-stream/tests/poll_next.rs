//! Exercise "poll_next": the consumer as a `Stream`, `poll_next` in
//! src/stream.rs.

mod common;

use std::future::ready;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::thread;
use std::time::Duration;

use common::{
    append_events, append_garbage, log, on_paused_runtime, position_of, record,
    unless_unwritten, watched,
};
use futures::StreamExt;
use futures::stream::FusedStream;
use solution08_stream::{
    ConsumeError, ConsumedRecord, Consumer, Log, Offset, Partition,
};
use tokio_test::task::{self, Spawn};

/// A consumer of partitions `0..partitions` of `log`, from offset 0.
fn consumer_of(log: &Arc<Log>, partitions: u32) -> Consumer {
    let assignments =
        (0..partitions).map(|p| (Partition(p), Offset(0))).collect();
    Consumer::new(log.clone(), assignments).expect("a valid assignment")
}

/// Polls once and expects `Pending`, with a message for each wrong answer.
fn expect_pending(stream: &mut Spawn<Consumer>, situation: &str) {
    match stream.poll_next() {
        Poll::Pending => {}
        Poll::Ready(None) => panic!(
            "{situation}: poll_next returned Ready(None), which ends the stream for good. \
             Being caught up is not the end: return Pending and wake the task when a record arrives"
        ),
        Poll::Ready(Some(item)) => {
            panic!(
                "{situation}: expected Pending, but poll_next handed out {item:?}"
            )
        }
    }
}

/// Polls once and expects an item.
fn expect_item(
    stream: &mut Spawn<Consumer>,
    situation: &str,
) -> Result<ConsumedRecord, ConsumeError> {
    match stream.poll_next() {
        Poll::Ready(Some(item)) => item,
        other => {
            panic!("{situation}: expected Ready(Some(item)), got {other:?}")
        }
    }
}

#[test]
fn hands_out_records_then_waits_instead_of_ending() {
    watched(move || {
        let log = log(1);
        append_events(&log, 0, 2);
        let mut stream = task::spawn(consumer_of(&log, 1));

        let first =
            record(expect_item(&mut stream, "the log holds two records"));
        let second =
            record(expect_item(&mut stream, "the log holds two records"));
        assert_eq!((first.offset, second.offset), (Offset(0), Offset(1)));
        expect_pending(
            &mut stream,
            "after both records the consumer is caught up",
        );
    });
}

#[test]
fn an_append_to_any_assigned_partition_wakes_a_waiting_consumer() {
    watched(move || {
        for partition in 0..3 {
            let log = log(3);
            let mut stream = task::spawn(consumer_of(&log, 3));
            expect_pending(&mut stream, "an empty log");
            assert!(
                !stream.is_woken(),
                "nothing was appended, so nothing may wake the consumer yet"
            );

            append_events(&log, partition, 1);
            assert!(
                stream.is_woken(),
                "a consumer of partitions 0, 1 and 2 is waiting, and a record was appended to partition {partition}: \
             it must be woken. Before returning Pending, leave the task's waker with every assigned partition \
             (log.register_waker), not only the first or the last one looked at"
            );
            let got =
                position_of(&expect_item(&mut stream, "after the wake-up"));
            assert_eq!(
                got,
                (partition, 0),
                "the woken consumer must hand out the new record"
            );
        }
    });
}

#[test]
fn a_waiting_consumer_leaves_one_waker_with_each_partition() {
    watched(move || {
        let log = log(2);
        let mut stream = task::spawn(consumer_of(&log, 2));
        expect_pending(&mut stream, "an empty log");
        expect_pending(&mut stream, "still an empty log");

        for p in 0..2 {
            assert_eq!(
                log.waiting(Partition(p)),
                1,
                "after two polls, partition {p} must hold exactly one waker of this consumer: polling again replaces \
             the waker under the consumer's one WaiterId, it does not add another (no new_waiter_id per poll)"
            );
        }
    });
}

#[test]
fn waiting_does_not_wake_itself_in_a_busy_loop() {
    watched(move || {
        let log = log(2);
        let mut stream = task::spawn(consumer_of(&log, 2));
        expect_pending(&mut stream, "an empty log");
        assert!(
            !stream.is_woken(),
            "the consumer woke its own task before returning Pending (wake_by_ref?): the executor would poll it \
         again at once, forever, burning a core while nothing happens. Wake only when a record or a stop comes"
        );

        append_events(&log, 1, 1);
        record(expect_item(&mut stream, "a record was appended"));
        expect_pending(&mut stream, "caught up again");
        assert!(
            !stream.is_woken(),
            "caught up again after one record, and nothing new: the consumer must not be woken"
        );
    });
}

#[test]
fn a_decode_error_is_an_item_and_the_stream_goes_on() {
    watched(move || {
        let log = log(1);
        append_events(&log, 0, 1);
        append_garbage(&log, 0);
        append_events(&log, 0, 1);
        let mut stream = task::spawn(consumer_of(&log, 1));

        let items: Vec<_> = (0..3)
            .map(|_| {
                expect_item(
                    &mut stream,
                    "the log holds three records, one of them bad",
                )
            })
            .collect();
        assert!(
            items[0].is_ok() && items[2].is_ok(),
            "offsets 0 and 2 hold booking events: {items:?}"
        );
        assert!(
            matches!(
                items[1],
                Err(ConsumeError::Decode {
                    offset: Offset(1),
                    ..
                })
            ),
            "offset 1 does not decode: the stream must hand out a Decode error for it, got {:?}",
            items[1]
        );
        expect_pending(&mut stream, "after the three records");
    });
}

#[test]
fn stop_wakes_a_waiting_consumer_and_ends_the_stream() {
    watched(move || {
        let log = log(2);
        let consumer = consumer_of(&log, 2);
        let stop = consumer.stop_handle();
        let mut stream = task::spawn(consumer);
        expect_pending(&mut stream, "an empty log");

        stop.stop();
        assert!(
            stream.is_woken(),
            "stop() must wake a waiting consumer, or it waits for a record that may never come: \
         register the task's waker with the stop signal too before returning Pending"
        );
        assert_eq!(
            stream.poll_next(),
            Poll::Ready(None),
            "a stopped consumer's stream ends"
        );
        assert_eq!(
            stream.poll_next(),
            Poll::Ready(None),
            "an ended stream stays ended: polling it again returns Ready(None) again"
        );
        assert!(stream.is_terminated());

        append_events(&log, 0, 1);
        assert_eq!(
            stream.poll_next(),
            Poll::Ready(None),
            "a stopped consumer hands out nothing more, even when records arrive"
        );
    });
}

#[test]
fn stop_ends_the_stream_even_while_records_are_waiting() {
    watched(move || {
        let log = log(1);
        append_events(&log, 0, 5);
        let consumer = consumer_of(&log, 1);
        let stop = consumer.stop_handle();
        let mut stream = task::spawn(consumer);
        record(expect_item(&mut stream, "the log holds five records"));

        stop.stop();
        assert_eq!(
            stream.poll_next(),
            Poll::Ready(None),
            "after stop() the stream ends at once, even with records left: check the stop signal first, \
         not only when caught up. The records left stay in the log for the next consumer"
        );
        assert_eq!(
            stream.positions(),
            vec![(Partition(0), Offset(1))],
            "one record was handed out before stop(), so partition 0 continues at offset 1"
        );
    });
}

#[test]
fn a_dropped_consumer_leaves_no_waker_behind() {
    watched(move || {
        let log = log(2);
        let mut stream = task::spawn(consumer_of(&log, 2));
        expect_pending(&mut stream, "an empty log");
        drop(stream);
        for p in 0..2 {
            assert_eq!(
                log.waiting(Partition(p)),
                0,
                "the consumer was dropped, so partition {p} must not keep its waker"
            );
        }
    });
}

#[test]
fn a_stopped_consumer_takes_its_wakers_back_from_the_log() {
    watched(move || {
        let log = log(2);
        let consumer = consumer_of(&log, 2);
        let stop = consumer.stop_handle();
        let mut stream = task::spawn(consumer);
        expect_pending(&mut stream, "an empty log");
        expect_pending(&mut stream, "still an empty log");

        stop.stop();
        assert_eq!(
            stream.poll_next(),
            Poll::Ready(None),
            "a stopped consumer's stream ends"
        );
        for p in 0..2 {
            assert_eq!(
                log.waiting(Partition(p)),
                0,
                "the stream has ended, but partition {p} still holds its waker: wakers left registered \
             after stop keep the task alive until the next append, which may never come. When \
             the stream ends, take them back (consumer.deregister()), even though the consumer \
             itself is not dropped yet"
            );
        }
    });
}

#[test]
fn a_consumer_without_partitions_waits_until_it_is_stopped() {
    watched(move || {
        let log = log(2);
        let consumer = Consumer::new(log.clone(), Vec::new()).expect(
        "an empty assignment is valid: the consumer simply has nothing to read",
    );
        let stop = consumer.stop_handle();
        let mut stream = task::spawn(consumer);
        let first =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                stream.poll_next()
            }));
        match first {
            Ok(Poll::Pending) => {}
            Ok(Poll::Ready(None)) => panic!(
                "a consumer with no partitions returned Ready(None): only stop() ends the stream; \
             with nothing assigned it waits (Pending) like a consumer that is caught up"
            ),
            Ok(Poll::Ready(Some(item))) => panic!(
                "a consumer with no partitions handed out {item:?}, but it reads nothing"
            ),
            Err(panic) => unless_unwritten(
                panic,
                "poll_next panicked on a consumer with no partitions (see the panic above): a \
             turn computed with `% count` divides by zero when count is 0. With no reader, \
             there is simply nothing ready",
            ),
        }
        append_events(&log, 0, 1);
        assert!(
            !stream.is_woken(),
            "an append to a partition this consumer does not read must not wake it"
        );
        stop.stop();
        assert!(stream.is_woken(), "stop() must wake the waiting consumer");
        assert_eq!(
            stream.poll_next(),
            Poll::Ready(None),
            "a stopped consumer's stream ends, with or without partitions"
        );
    });
}

/// Awaits `work`, or fails if it gets stuck. The tests below run with tokio's
/// clock paused: as soon as every task is waiting, tokio moves the clock on to
/// the next timer, so a consumer that waits for a wake-up that never comes
/// fails here at once instead of hanging the test.
async fn or_stuck<T>(work: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "stuck: the consumer returned Pending and nothing ever woke it, although records were \
                 appended (or were already there). Leave cx.waker() with every partition before returning Pending"
            )
        })
}

#[test]
fn while_let_reads_records_as_they_are_appended_until_stopped() {
    on_paused_runtime(while_let_until_stopped);
}

async fn while_let_until_stopped() {
    let log = log(2);
    let mut consumer = consumer_of(&log, 2);
    let stop = consumer.stop_handle();
    // The producer runs on the same thread: it appends one record each time the
    // consumer has to wait, so the consumer is caught up again and again.
    let producer = tokio::spawn({
        let log = log.clone();
        async move {
            for i in 0..6 {
                append_events(&log, i % 2, 1);
                tokio::task::yield_now().await;
            }
        }
    });

    let mut got = Vec::new();
    or_stuck(async {
        // ANCHOR: while_let
        while let Some(item) = consumer.next().await {
            got.push(position_of(&item));
            assert!(got.len() <= 6, "the stream went on after stop(): {got:?}");
            if got.len() == 6 {
                stop.stop();
            }
        }
        // ANCHOR_END: while_let
    })
    .await;
    assert_eq!(
        got,
        vec![(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)],
        "the loop must see every record as it is appended, and end only when stopped (not when caught up)"
    );
    producer.await.expect("the producer task does not panic");
}

#[test]
fn standard_stream_combinators_compose_with_the_consumer() {
    on_paused_runtime(combinators);
}

async fn combinators() {
    let log = log(1);
    let events = append_events(&log, 0, 2);
    append_garbage(&log, 0);
    let more = append_events(&log, 0, 2);
    let mut consumer = consumer_of(&log, 1);

    // ANCHOR: combinators
    // Keep the events, drop the errors, stop after three: all from StreamExt.
    let first_three: Vec<_> = or_stuck(
        consumer
            .by_ref()
            .filter_map(|item| ready(item.ok().map(|record| record.event)))
            .take(3)
            .collect(),
    )
    .await;
    // ANCHOR_END: combinators
    assert_eq!(
        first_three,
        vec![events[0].clone(), events[1].clone(), more[0].clone()]
    );

    let next = or_stuck(consumer.next())
        .await
        .map(|item| position_of(&item));
    assert_eq!(
        next,
        Some((0, 4)),
        "`by_ref().take(3)` leaves the consumer where it stopped"
    );
}

// ANCHOR: append_on_clone
// Step 07 caught lost wake-ups by racing an appender thread against the poll.
// Here the append is put exactly into the gap instead, with a waker built by
// hand: a `Waker` is a pointer and a table of four functions (clone, wake,
// wake_by_ref, drop), and this one appends a record the first time it is
// cloned. `poll_next` clones the waker when it leaves it somewhere (the log's
// `register_waker` and the stop signal's `register` each keep a clone), so the
// record arrives after `poll_next` began leaving wakers, and after it looked at
// the partitions if it looked before that.

/// What the hand-made waker shares between its clones.
struct AppendOnClone {
    /// Runs once, on the first clone.
    on_first_clone: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    woken: AtomicBool,
}

static APPEND_ON_CLONE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_waker, wake_waker_by_ref, drop_waker);

/// A waker whose clones all share `state`.
fn append_on_clone_waker(state: Arc<AppendOnClone>) -> Waker {
    let data = Arc::into_raw(state).cast::<()>();
    // SAFETY: `data` is a strong reference from `Arc::into_raw`, and every
    // function of the table treats it as one (see each function).
    unsafe { Waker::from_raw(RawWaker::new(data, &APPEND_ON_CLONE)) }
}

/// The shared state behind `data`, borrowed.
///
/// # Safety
/// `data` must come from `append_on_clone_waker` or `clone_waker` and its
/// strong reference must not have been given up yet.
unsafe fn state<'a>(data: *const ()) -> &'a AppendOnClone {
    // SAFETY: the caller promises that `data` holds a live strong reference.
    unsafe { &*data.cast::<AppendOnClone>() }
}

unsafe fn clone_waker(data: *const ()) -> RawWaker {
    // SAFETY: std calls this only with the data of a live waker.
    let shared = unsafe { state(data) };
    let first = shared.on_first_clone.lock().map(|mut slot| slot.take());
    if let Ok(Some(append)) = first {
        append();
    }
    // SAFETY: a live waker owns one strong reference; the clone gets another.
    unsafe { Arc::increment_strong_count(data.cast::<AppendOnClone>()) };
    RawWaker::new(data, &APPEND_ON_CLONE)
}

unsafe fn wake_waker(data: *const ()) {
    // SAFETY: `wake` consumes the waker: mark it, then give up its reference.
    unsafe {
        wake_waker_by_ref(data);
        drop_waker(data);
    }
}

unsafe fn wake_waker_by_ref(data: *const ()) {
    // SAFETY: std calls this only with the data of a live waker.
    unsafe { state(data) }.woken.store(true, Ordering::SeqCst);
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: each waker owns one strong reference, given up exactly once here.
    unsafe { Arc::decrement_strong_count(data.cast::<AppendOnClone>()) };
}
// ANCHOR_END: append_on_clone

/// Only a safety net: the append runs on its own thread, in case the waker is
/// first cloned while the log's lock of that very partition is held (which
/// would deadlock on this thread). Normally it takes microseconds.
const HANG_GUARD: Duration = Duration::from_secs(2);

// ANCHOR: lost_wakeup
#[test]
fn a_record_appended_while_the_consumer_leaves_its_wakers_still_wakes_it() {
    watched(move || {
        let log = log(4);
        let mut consumer = consumer_of(&log, 4);
        let appended = Arc::new(AtomicBool::new(false));
        let state = Arc::new(AppendOnClone {
            on_first_clone: Mutex::new(Some(Box::new({
                let (log, appended) = (log.clone(), appended.clone());
                move || {
                    let (done, finished) = mpsc::channel();
                    thread::spawn(move || {
                        append_events(&log, 3, 1);
                        appended.store(true, Ordering::SeqCst);
                        let _ = done.send(());
                    });
                    let _ = finished.recv_timeout(HANG_GUARD);
                }
            }))),
            woken: AtomicBool::new(false),
        });
        let waker = append_on_clone_waker(state.clone());
        let mut cx = Context::from_waker(&waker);

        match consumer.poll_next_unpin(&mut cx) {
            // It looked again after leaving its wakers, and found the record.
            Poll::Ready(Some(item)) => assert_eq!(position_of(&item), (3, 0)),
            Poll::Ready(None) => {
                panic!("the stream ended, but it was never stopped")
            }
            Poll::Pending => {
                assert!(
                    appended.load(Ordering::SeqCst),
                    "poll_next returned Pending without keeping a clone of the waker anywhere: \
                 nothing can ever wake it. Leave cx.waker() with every partition"
                );
                assert!(
                    state.woken.load(Ordering::SeqCst),
                    "lost wake-up: a record was appended to partition 3 while poll_next was leaving its wakers, \
                 after it had looked at partition 3 and before its waker was there, so the append woke nobody; \
                 poll_next then returned Pending, and nothing will ever poll it again although the record is \
                 there. After registering the wakers, look at the partitions once more before returning Pending"
                );
            }
        }
    });
}
// ANCHOR_END: lost_wakeup

/// The same gap for the stop signal: a `stop()` that lands after `poll_next`
/// checked the flag and before its waker was with the signal wakes nobody. The
/// waker here calls `stop()` the first time it is cloned. When `poll_next`
/// leaves its waker with the partitions before the stop signal, that stop lands
/// in the gap. (Registered the other way round, the gap comes before any clone,
/// where no test can stage it; the `AtomicWaker` then handles a stop during its
/// own registration.) Either way the stream must end or be woken to end.
#[test]
fn a_stop_while_the_consumer_leaves_its_wakers_still_ends_the_stream() {
    watched(move || {
        let log = log(4);
        let mut consumer = consumer_of(&log, 4);
        let stop = consumer.stop_handle();
        let stopped = Arc::new(AtomicBool::new(false));
        let state = Arc::new(AppendOnClone {
            on_first_clone: Mutex::new(Some(Box::new({
                let stopped = stopped.clone();
                move || {
                    stop.stop();
                    stopped.store(true, Ordering::SeqCst);
                }
            }))),
            woken: AtomicBool::new(false),
        });
        let waker = append_on_clone_waker(state.clone());
        let mut cx = Context::from_waker(&waker);

        match consumer.poll_next_unpin(&mut cx) {
            Poll::Ready(None) => {}
            Poll::Ready(Some(item)) => {
                panic!("nothing was appended, yet the stream gave {item:?}")
            }
            Poll::Pending => {
                assert!(
                    stopped.load(Ordering::SeqCst),
                    "poll_next returned Pending without keeping a clone of the waker anywhere: \
                 nothing can ever wake it. Leave cx.waker() with every partition and the stop signal"
                );
                assert!(
                    state.woken.load(Ordering::SeqCst),
                    "lost stop: stop() was called while poll_next was leaving its wakers, after it had \
                 checked the stop flag and before its waker was with the stop signal, so nobody was \
                 woken; poll_next then returned Pending and the stream never ends. After registering \
                 the wakers, check the stop flag again as well as the partitions"
                );
            }
        }
    });
}
