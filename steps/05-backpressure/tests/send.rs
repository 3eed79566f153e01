//! Exercise `send`: `send` in src/buffer.rs, in its three modes.
//!
//! These tests drive a send by hand with tokio-test: `task::spawn(future)`
//! wraps the future without running it, `poll()` runs it once, and `is_woken()`
//! says whether anything has asked for it to be polled again since. The clock
//! is paused (`start_paused`): time only moves when a test calls
//! `time::advance`, so a timeout is checked to the millisecond and the tests
//! take no time at all.

mod common;

use std::time::Duration;

use common::{full_buffer, name, names, on_paused_runtime, outcome, record};
use step05_backpressure::{BackpressureMode, BufferError, ProducerBuffer};
use tokio::time;
use tokio_test::{assert_pending, assert_ready, assert_ready_ok, task};

use BackpressureMode::{Block, BlockWithTimeout, FailImmediately};

/// Everything left in the buffer, oldest first.
fn take_all(buffer: &ProducerBuffer) -> Vec<String> {
    names(&std::iter::from_fn(|| buffer.take()).collect::<Vec<_>>())
}

#[test]
fn a_send_with_room_is_ready_at_once_in_every_mode() {
    on_paused_runtime(|| async move {
        for mode in [
            Block,
            BlockWithTimeout(Duration::from_secs(1)),
            FailImmediately,
        ] {
            let buffer = ProducerBuffer::new(100);
            let mut send = task::spawn(buffer.send(record("A", 40), mode));
            assert_ready_ok!(
                send.poll(),
                "{mode:?}: a buffer with room must take the record on the first poll"
            );
            assert_eq!(
                buffer.buffered_bytes(),
                40,
                "{mode:?}: after a successful send the record's 40 bytes must be in the buffer"
            );
        }
    });
}

// ANCHOR: blocked
#[test]
fn a_blocked_send_waits_quietly_and_finishes_when_take_frees_room() {
    on_paused_runtime(|| async move {
        let buffer = full_buffer(100);
        let mut send = task::spawn(buffer.send(record("new", 50), Block));

        assert_pending!(
            send.poll(),
            "a Block send into a full buffer must wait"
        );
        assert!(
            !send.is_woken(),
            "nothing has freed any room yet, so the waiting send must not be woken: \
         a send that wakes itself to check again is busy-polling and burns a CPU core"
        );
        time::advance(Duration::from_secs(60)).await;
        assert!(
            !send.is_woken(),
            "time passing frees no room: a Block send must not wake up on a timer or by yielding to \
         check again (that is busy-polling); it must wait until `take` gives bytes back"
        );
        assert_pending!(send.poll(), "a Block send waits as long as it takes");

        buffer.take();
        assert!(
            send.is_woken(),
            "take() freed 50 bytes, enough for the waiting send: it must be woken"
        );
        assert_ready_ok!(
            send.poll(),
            "woken with room, the send must now succeed"
        );
        assert_eq!(
            buffer.buffered_bytes(),
            100,
            "50 old bytes and the 50 new ones"
        );
        assert_eq!(
            outcome(&buffer.try_send(record("x", 1))),
            "Err(Full)",
            "the send's 50 bytes must stay reserved while its record is in the buffer"
        );
        assert_eq!(
            take_all(&buffer),
            ["old-2", "new"],
            "the record that waited is in the buffer"
        );
    });
}
// ANCHOR_END: blocked

// ANCHOR: fifo
#[test]
fn blocked_senders_finish_in_the_order_they_started_waiting() {
    on_paused_runtime(|| async move {
        let buffer = full_buffer(100);
        let mut first = task::spawn(buffer.send(record("first", 50), Block));
        let mut second = task::spawn(buffer.send(record("second", 50), Block));
        let mut third = task::spawn(buffer.send(record("third", 50), Block));
        assert_pending!(first.poll(), "the buffer is full: 'first' must wait");
        assert_pending!(
            second.poll(),
            "the buffer is full: 'second' must wait"
        );
        assert_pending!(third.poll(), "the buffer is full: 'third' must wait");

        let mut delivered = Vec::new();
        delivered.extend(buffer.take()); // 50 bytes free: room for exactly one of them
        assert!(
            first.is_woken(),
            "'first' waited longest: the freed room is its turn"
        );
        assert!(
            !second.is_woken() && !third.is_woken(),
            "only 50 bytes are free, room for one sender: waking the others is a spurious wake-up"
        );
        // Poll the later senders first: the room must still go to 'first'.
        assert_pending!(
            third.poll(),
            "'third' must not take the room 'first' has waited for"
        );
        assert_pending!(
            second.poll(),
            "'second' must not take the room 'first' has waited for"
        );
        assert_ready_ok!(
            first.poll(),
            "'first' must get the room it waited for"
        );

        delivered.extend(buffer.take());
        assert!(
            second.is_woken() && !third.is_woken(),
            "the next 50 free bytes are the turn of 'second', not 'third'"
        );
        assert_pending!(
            third.poll(),
            "'third' must still wait behind 'second'"
        );
        assert_ready_ok!(second.poll(), "'second' must get the next room");

        delivered.extend(buffer.take());
        assert_ready_ok!(third.poll(), "'third' gets the room after that");
        delivered.extend(std::iter::from_fn(|| buffer.take()));
        assert_eq!(
            names(&delivered),
            ["old-1", "old-2", "first", "second", "third"],
            "blocked senders must enter the buffer in the order they started waiting"
        );
    });
}
// ANCHOR_END: fifo

#[test]
fn a_waiting_big_record_holds_back_smaller_later_ones() {
    on_paused_runtime(|| async move {
        let buffer = full_buffer(100);
        let mut big = task::spawn(buffer.send(record("big", 80), Block));
        assert_pending!(big.poll(), "80 bytes do not fit in a full buffer");

        buffer.take(); // 50 bytes free, promised to "big" (which needs 80)
        assert!(
            !big.is_woken(),
            "50 free bytes are not enough for 'big': do not wake it yet"
        );
        let mut small = task::spawn(buffer.send(record("small", 10), Block));
        assert_pending!(
            small.poll(),
            "the free bytes are promised to 'big', which waited first: a later 10-byte send must \
         wait behind it (head-of-line blocking, as in Kafka), or 'big' could wait forever"
        );
        assert_eq!(
            outcome(&buffer.try_send(record("eager", 10))),
            "Err(Full)",
            "a send that does not wait must not take bytes promised to a sender that does"
        );
        let mut eager =
            task::spawn(buffer.send(record("eager", 10), FailImmediately));
        let result = assert_ready!(eager.poll(), "FailImmediately never waits");
        assert!(
            !matches!(result, Err(BufferError::TimedOut { .. })),
            "a FailImmediately send that finds no room must return Err(BufferError::Full(record)), \
         not TimedOut: it never waited"
        );
        assert_eq!(
            outcome(&result),
            "Err(Full)",
            "a FailImmediately send must not take bytes promised to a waiting sender"
        );

        buffer.take(); // 50 more: 80 for "big", then 10 of the rest for "small"
        assert!(
            big.is_woken() && small.is_woken(),
            "100 free bytes: room for both"
        );
        assert_ready_ok!(big.poll(), "'big' has its 80 bytes");
        assert_ready_ok!(small.poll(), "'small' fits in what is left");
        assert_eq!(
            take_all(&buffer),
            ["big", "small"],
            "first come, first served"
        );
    });
}

// ANCHOR: timeout
#[test]
fn block_with_timeout_hands_the_record_back_after_exactly_the_timeout() {
    on_paused_runtime(|| async move {
        let buffer = full_buffer(100);
        let limit = Duration::from_millis(100);
        let mut send = task::spawn(
            buffer.send(record("late", 10), BlockWithTimeout(limit)),
        );
        assert_pending!(
            send.poll(),
            "BlockWithTimeout waits while the buffer is full"
        );

        time::advance(Duration::from_millis(99)).await;
        assert!(
            !send.is_woken(),
            "after 99 ms of a 100 ms timeout it is too early to give up"
        );
        assert_pending!(
            send.poll(),
            "after 99 ms of a 100 ms timeout the send must still wait"
        );

        time::advance(Duration::from_millis(1)).await;
        assert!(
            send.is_woken(),
            "at 100 ms the timeout has passed: the send must be woken"
        );
        let result = assert_ready!(
            send.poll(),
            "at 100 ms a 100 ms timeout must be over"
        );
        let Err(BufferError::TimedOut {
            record: returned,
            waited,
        }) = result
        else {
            panic!(
                "a send that ran out of time must return Err(BufferError::TimedOut {{ .. }}), got {}",
                outcome(&result)
            );
        };
        assert_eq!(
            returned,
            record("late", 10),
            "a timed-out send must hand its record back"
        );
        assert_eq!(waited, limit, "TimedOut must say how long the send waited");
        assert_eq!(
            take_all(&buffer),
            ["old-1", "old-2"],
            "a timed-out record is not in the buffer"
        );
    });
}
// ANCHOR_END: timeout

#[test]
fn block_with_timeout_succeeds_when_room_frees_in_time() {
    on_paused_runtime(|| async move {
        let buffer = full_buffer(100);
        let mut send = task::spawn(buffer.send(
            record("in-time", 50),
            BlockWithTimeout(Duration::from_millis(100)),
        ));
        assert_pending!(
            send.poll(),
            "BlockWithTimeout waits while the buffer is full"
        );
        time::advance(Duration::from_millis(60)).await;
        buffer.take();
        assert!(
            send.is_woken(),
            "room freed after 60 ms of 100: the send must be woken"
        );
        assert_ready_ok!(
            send.poll(),
            "room came in time, so the send must succeed"
        );
        assert_eq!(
            take_all(&buffer),
            ["old-2", "in-time"],
            "the record is in the buffer"
        );
    });
}

#[test]
fn a_timed_out_sender_leaves_the_line_to_the_next_one() {
    on_paused_runtime(|| async move {
        let buffer = full_buffer(100);
        let mut impatient = task::spawn(buffer.send(
            record("impatient", 60),
            BlockWithTimeout(Duration::from_millis(10)),
        ));
        let mut patient =
            task::spawn(buffer.send(record("patient", 50), Block));
        assert_pending!(
            impatient.poll(),
            "the buffer is full: 'impatient' waits"
        );
        assert_pending!(
            patient.poll(),
            "the buffer is full: 'patient' waits behind 'impatient'"
        );

        time::advance(Duration::from_millis(10)).await;
        let result =
            assert_ready!(impatient.poll(), "'impatient' has waited its 10 ms");
        assert_eq!(
            outcome(&result),
            "Err(TimedOut)",
            "'impatient' must time out"
        );

        buffer.take();
        assert!(
            patient.is_woken(),
            "'impatient' gave up, so the 50 freed bytes are the turn of 'patient'"
        );
        assert_ready_ok!(
            patient.poll(),
            "'patient' must not wait behind a sender that left"
        );
    });
}

#[test]
fn fail_immediately_hands_the_record_back_at_once_and_enqueues_nothing() {
    on_paused_runtime(|| async move {
        let buffer = full_buffer(100);
        let mut send =
            task::spawn(buffer.send(record("late", 10), FailImmediately));
        let result =
            assert_ready!(send.poll(), "FailImmediately must never wait");
        let Err(BufferError::Full(returned)) = result else {
            panic!(
                "FailImmediately into a full buffer must return Err(BufferError::Full(record)), got {}",
                outcome(&result)
            );
        };
        assert_eq!(
            returned,
            record("late", 10),
            "a full buffer must hand the record back, not drop it"
        );
        assert_eq!(
            take_all(&buffer),
            ["old-1", "old-2"],
            "FailImmediately must enqueue nothing"
        );
    });
}

#[test]
fn a_record_exactly_as_large_as_the_buffer_is_sent_in_every_mode() {
    on_paused_runtime(|| async move {
        for mode in [
            Block,
            BlockWithTimeout(Duration::from_secs(1)),
            FailImmediately,
        ] {
            let buffer = ProducerBuffer::new(100);
            let mut send = task::spawn(buffer.send(record("whole", 100), mode));
            let result = assert_ready!(
                send.poll(),
                "{mode:?}: an empty buffer of 100 bytes has room for a 100-byte record at once"
            );
            assert_eq!(
                outcome(&result),
                "Ok",
                "{mode:?}: a record of exactly the capacity is not too large, it fits in an empty \
             buffer. Is the size check `>=` where it should be `>`?"
            );
        }
    });
}

#[test]
fn a_record_larger_than_the_buffer_fails_at_once_in_every_mode() {
    on_paused_runtime(|| async move {
        for mode in [
            Block,
            BlockWithTimeout(Duration::from_secs(60)),
            FailImmediately,
        ] {
            let buffer = ProducerBuffer::new(100);
            let mut send = task::spawn(buffer.send(record("huge", 101), mode));
            let result = assert_ready!(
                send.poll(),
                "{mode:?}: 101 bytes can never fit in 100; waiting for them would never end"
            );
            let Err(BufferError::TooLarge {
                record: returned,
                capacity,
            }) = result
            else {
                panic!(
                    "{mode:?}: a record larger than the whole buffer must fail with \
                 Err(BufferError::TooLarge {{ .. }}), got {}",
                    outcome(&result)
                );
            };
            assert_eq!(
                returned,
                record("huge", 101),
                "{mode:?}: TooLarge hands the record back"
            );
            assert_eq!(
                capacity, 100,
                "{mode:?}: TooLarge names the buffer's capacity"
            );

            let mut next = task::spawn(buffer.send(record("next", 10), mode));
            assert_ready_ok!(
                next.poll(),
                "{mode:?}: after a too-large record was refused, the next send must not be stuck"
            );
        }
    });
}

#[test]
fn closing_the_buffer_wakes_blocked_senders_and_hands_their_records_back() {
    on_paused_runtime(|| async move {
        let buffer = full_buffer(100);
        let mut blocked =
            task::spawn(buffer.send(record("blocked", 10), Block));
        let mut waiting = task::spawn(buffer.send(
            record("waiting", 10),
            BlockWithTimeout(Duration::from_secs(60)),
        ));
        assert_pending!(blocked.poll(), "the buffer is full: 'blocked' waits");
        assert_pending!(waiting.poll(), "the buffer is full: 'waiting' waits");

        buffer.close();
        assert!(
            blocked.is_woken() && waiting.is_woken(),
            "close() must wake every waiting send, or they wait forever"
        );
        for (name, send) in
            [("blocked", &mut blocked), ("waiting", &mut waiting)]
        {
            let result =
                assert_ready!(send.poll(), "'{name}' was woken by close()");
            let Err(BufferError::Closed(returned)) = result else {
                panic!(
                    "a send waiting when the buffer closed must return Err(BufferError::Closed(record)), \
                 got {}",
                    outcome(&result)
                );
            };
            assert_eq!(
                common::name(&returned),
                name,
                "Closed must hand back the send's own record"
            );
        }

        let mut after = task::spawn(buffer.send(record("after", 10), Block));
        let result = assert_ready!(
            after.poll(),
            "a send into a closed buffer must not wait"
        );
        assert_eq!(
            outcome(&result),
            "Err(Closed)",
            "a closed buffer refuses new sends"
        );
        assert_eq!(
            buffer.take().as_ref().map(name).as_deref(),
            Some("old-1"),
            "records buffered before close() still reach the sender"
        );
    });
}
