//! Exercise `drain`: `drain` in src/buffer.rs, and the whole buffer under
//! random interleavings of sends and drains.

mod common;

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::Duration;

use common::{full_buffer, name, names, on_paused_runtime, record};
use proptest::prelude::*;
use solution05_backpressure::{BackpressureMode, BufferError, ProducerBuffer};
use tokio::time;
use tokio_test::{assert_pending, assert_ready_ok, task};

/// A buffer holding records of these names and sizes, sent in this order.
fn buffer_with(capacity: u32, records: &[(&str, usize)]) -> ProducerBuffer {
    let buffer = ProducerBuffer::new(capacity);
    for &(name, size) in records {
        buffer
            .try_send(record(name, size))
            .expect("the test's records fit in its buffer");
    }
    buffer
}

#[test]
fn drain_takes_the_oldest_records_up_to_max_bytes() {
    let buffer =
        buffer_with(100, &[("A", 10), ("B", 20), ("C", 30), ("D", 40)]);
    let batch = buffer.drain(60);
    assert_eq!(
        names(&batch),
        ["A", "B", "C"],
        "10 + 20 + 30 bytes is exactly max_bytes = 60: drain must take all three, oldest first"
    );
    assert_eq!(
        buffer.buffered_bytes(),
        40,
        "only D's 40 bytes are left in the buffer"
    );
    assert_eq!(
        names(&buffer.drain(60)),
        ["D"],
        "the next drain takes what is left"
    );
    assert_eq!(buffer.buffered_bytes(), 0, "the buffer is empty");
}

#[test]
fn drain_stops_at_the_first_record_that_does_not_fit() {
    let buffer = buffer_with(100, &[("A", 30), ("B", 50), ("C", 10)]);
    assert_eq!(
        names(&buffer.drain(50)),
        ["A"],
        "A (30) fits in 50 bytes, B (50) does not fit after it, and C (10) must not jump \
         ahead of B: the buffer keeps its order"
    );
    assert_eq!(
        names(&buffer.drain(50)),
        ["B"],
        "then B alone (50 of 50 bytes)"
    );
    assert_eq!(names(&buffer.drain(50)), ["C"], "then C");
}

#[test]
fn a_record_larger_than_max_bytes_goes_out_alone() {
    let buffer = buffer_with(100, &[("big", 80), ("small", 10)]);
    assert_eq!(
        names(&buffer.drain(50)),
        ["big"],
        "an 80-byte record is larger than max_bytes = 50, but it must still go out, alone: \
         a drain that returns nothing leaves it in the buffer forever"
    );
    assert_eq!(
        names(&buffer.drain(0)),
        ["small"],
        "even with max_bytes = 0, a non-empty buffer gives one record"
    );
}

#[test]
fn drain_on_an_empty_buffer_returns_nothing() {
    let buffer = ProducerBuffer::new(100);
    assert!(
        buffer.drain(100).is_empty(),
        "an empty buffer has nothing to drain"
    );
}

#[test]
fn drain_gives_the_bytes_back_and_wakes_waiting_senders_in_order() {
    on_paused_runtime(|| async move {
        let buffer = full_buffer(100);
        let mut first = task::spawn(
            buffer.send(record("first", 40), BackpressureMode::Block),
        );
        let mut second = task::spawn(
            buffer.send(record("second", 40), BackpressureMode::Block),
        );
        let mut third = task::spawn(
            buffer.send(record("third", 40), BackpressureMode::Block),
        );
        assert_pending!(first.poll(), "the buffer is full: 'first' waits");
        assert_pending!(second.poll(), "the buffer is full: 'second' waits");
        assert_pending!(third.poll(), "the buffer is full: 'third' waits");

        let batch = buffer.drain(100);
        assert_eq!(
            names(&batch),
            ["old-1", "old-2"],
            "drain(100) takes both 50-byte records"
        );
        assert_eq!(
            buffer.buffered_bytes(),
            0,
            "the drained bytes are no longer buffered"
        );
        assert!(
            first.is_woken() && second.is_woken(),
            "drain freed 100 bytes: the two oldest waiting senders (40 + 40) must be woken. \
         Did drain give the bytes back?"
        );
        assert!(
            !third.is_woken(),
            "20 bytes are left, not enough for 'third': do not wake it"
        );
        assert_ready_ok!(first.poll(), "'first' has room");
        assert_ready_ok!(second.poll(), "'second' has room");
        assert_pending!(third.poll(), "'third' waits for the next drain");
        assert_eq!(
            names(&buffer.drain(100)),
            ["first", "second"],
            "in the order they waited"
        );
        assert_ready_ok!(third.poll(), "the last drain made room for 'third'");
    });
}

// ---------------------------------------------------------------------------
// The whole buffer, under any interleaving: a property test.
// ---------------------------------------------------------------------------

const CAPACITY: usize = 100;

/// One thing that happens to the buffer.
#[derive(Clone, Debug)]
enum Op {
    /// A producer sends a record of this size (which may be larger than the
    /// buffer).
    Send { size: usize, mode: BackpressureMode },
    /// The sender takes one record.
    Take,
    /// The sender drains a batch.
    Drain { max_bytes: usize },
    /// Time passes (timeouts fire).
    Wait { millis: u64 },
}

fn mode() -> impl Strategy<Value = BackpressureMode> {
    prop_oneof![
        Just(BackpressureMode::Block),
        (1u64..=50).prop_map(|ms| BackpressureMode::BlockWithTimeout(
            Duration::from_millis(ms)
        )),
        Just(BackpressureMode::FailImmediately),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        // Sizes start at 2: a record's name (its key) is its number, up to two
        // digits.
        4 => (2..=CAPACITY + 20, mode()).prop_map(|(size, mode)| Op::Send { size, mode }),
        2 => Just(Op::Take),
        2 => (0..=CAPACITY + 50).prop_map(|max_bytes| Op::Drain { max_bytes }),
        1 => (1u64..=40).prop_map(|millis| Op::Wait { millis }),
    ]
}

/// What the buffer should hold and has given out, kept by the test on the side.
#[derive(Default)]
struct Model {
    /// Names and sizes of the records that are in the buffer, oldest first.
    buffered: VecDeque<(String, usize)>,
    /// Names of the records the sender got, in order.
    delivered: Vec<String>,
    /// Names of the records handed back to their producers, with why.
    handed_back: Vec<(String, &'static str)>,
}

impl Model {
    fn bytes(&self) -> usize {
        self.buffered.iter().map(|(_, size)| size).sum()
    }

    /// Records what a finished send returned; fails if it lost or changed the
    /// record.
    fn finished(
        &mut self,
        sent: &(String, usize),
        result: Result<(), BufferError>,
    ) -> Result<(), TestCaseError> {
        match result {
            Ok(()) => self.buffered.push_back(sent.clone()),
            Err(error) => {
                let why = common::variant(&error);
                prop_assert_eq!(
                    error.into_record(),
                    record(&sent.0, sent.1),
                    "a failed send ({}) must hand back exactly the record it was given",
                    why
                );
                self.handed_back.push((sent.0.clone(), why));
            }
        }
        Ok(())
    }

    /// The names a drain of `max_bytes` must return: the oldest records up to
    /// `max_bytes`, and always at least one.
    fn drain(&mut self, max_bytes: usize) -> Vec<String> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        while let Some((_, size)) = self.buffered.front() {
            if !batch.is_empty() && bytes + size > max_bytes {
                break;
            }
            bytes += size;
            let (name, _) =
                self.buffered.pop_front().expect("front() was Some");
            batch.push(name);
        }
        batch
    }
}

// ANCHOR: property
/// Runs `ops` against a buffer and its model, checking after every step that
/// the buffer never holds more than its capacity, holds exactly what the model
/// says, lets nobody jump the line, leaves nobody waiting who has room, and
/// that every record ends up either delivered to the sender or handed back to
/// its producer, exactly once.
async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let buffer = ProducerBuffer::new(CAPACITY as u32);
    let mut model = Model::default();
    // Sends still waiting, in the order they started, with their record's name
    // and size.
    let mut waiting = Vec::new();
    // The names of all records sent.
    let mut offered = Vec::new();

    for (number, op) in ops.into_iter().enumerate() {
        match op {
            Op::Send { size, mode } => {
                let sent = (number.to_string(), size);
                offered.push(sent.0.clone());
                let mut send =
                    task::spawn(buffer.send(record(&sent.0, size), mode));
                match send.poll() {
                    std::task::Poll::Ready(result) => {
                        prop_assert!(
                            result.is_err() || waiting.is_empty(),
                            "send {} ({size} bytes, {mode:?}) got in at once while {} earlier \
                             send(s) were still waiting: nobody may jump the line",
                            sent.0,
                            waiting.len()
                        );
                        model.finished(&sent, result)?;
                    }
                    std::task::Poll::Pending => {
                        prop_assert!(
                            mode != BackpressureMode::FailImmediately,
                            "a FailImmediately send must never wait"
                        );
                        prop_assert!(
                            size <= CAPACITY,
                            "a too-large record must never wait"
                        );
                        waiting.push((sent, send));
                    }
                }
            }
            Op::Take => {
                let got = buffer.take().as_ref().map(name);
                let want = model.drain(0).pop();
                prop_assert_eq!(
                    &got,
                    &want,
                    "take() must return the oldest record"
                );
                model.delivered.extend(got);
            }
            Op::Drain { max_bytes } => {
                let got = names(&buffer.drain(max_bytes));
                let want = model.drain(max_bytes);
                prop_assert_eq!(
                    &got,
                    &want,
                    "drain({}) returned the wrong records",
                    max_bytes
                );
                model.delivered.extend(got);
            }
            Op::Wait { millis } => {
                time::advance(Duration::from_millis(millis)).await
            }
        }

        // Let every send that was woken finish, oldest first.
        let mut still_waiting = Vec::new();
        for (sent, mut send) in waiting {
            if !send.is_woken() {
                still_waiting.push((sent, send));
                continue;
            }
            match send.poll() {
                std::task::Poll::Ready(result) => {
                    model.finished(&sent, result)?
                }
                std::task::Poll::Pending => still_waiting.push((sent, send)),
            }
        }
        waiting = still_waiting;

        if let Some(((name, size), _)) = waiting.first() {
            let free = CAPACITY - model.bytes();
            prop_assert!(
                *size > free,
                "send {name} ({size} bytes) is first in line and {free} bytes are free, but it \
                 was not woken: did take() or drain() give the bytes back?"
            );
        }

        prop_assert!(
            buffer.buffered_bytes() <= CAPACITY,
            "buffered_bytes() is {}, more than the capacity of {CAPACITY}",
            buffer.buffered_bytes()
        );
        prop_assert_eq!(
            buffer.buffered_bytes(),
            model.bytes(),
            "buffered_bytes() must be the total size of the records in the buffer"
        );
    }

    // Shut down: every waiting send gets its record back, and the sender gets
    // the rest.
    buffer.close();
    for (sent, mut send) in waiting {
        match send.poll() {
            std::task::Poll::Ready(result) => model.finished(&sent, result)?,
            std::task::Poll::Pending => {
                prop_assert!(false, "send {} still waits after close()", sent.0)
            }
        }
    }
    while let Some(record) = buffer.take() {
        model.delivered.push(name(&record));
    }
    let mut accounted: Vec<&str> =
        model.delivered.iter().map(String::as_str).collect();
    accounted.extend(model.handed_back.iter().map(|(name, _)| name.as_str()));
    accounted.sort_unstable();
    let mut offered: Vec<&str> = offered.iter().map(String::as_str).collect();
    offered.sort_unstable();
    prop_assert_eq!(
        accounted,
        offered,
        "every record sent must end up exactly once either with the sender or back with its \
         producer: none lost, none twice"
    );
    Ok(())
}
// ANCHOR_END: property

/// Fails if a send that has to wait does not return `Pending`, checked once
/// under a watchdog before the property runs any history. A send that loops
/// until there is room would hang a history for ever, and proptest, which tries
/// many histories, would hang with it; this check turns that into the
/// watchdog's message, on every history, at once.
fn sends_wait_without_spinning() -> Result<(), TestCaseError> {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    let checked = CHECKED.get_or_init(|| {
        std::panic::catch_unwind(|| {
            on_paused_runtime(|| async {
                let buffer = full_buffer(100);
                let mut send = task::spawn(
                    buffer.send(record("new", 50), BackpressureMode::Block),
                );
                let _ = send.poll();
            })
        })
        .map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a send panicked (see above)".to_owned())
        })
    });
    checked.clone().map_err(TestCaseError::fail)
}

proptest! {
    #![proptest_config(workshop_testkit::proptest_config(64))]

    #[test]
    fn no_interleaving_overfills_the_buffer_or_loses_a_record(
        ops in proptest::collection::vec(op(), 1..60)
    ) {
        sends_wait_without_spinning()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .map_err(|e| TestCaseError::fail(format!("cannot start a Tokio runtime: {e}")))?;
        // `unconstrained`: Tokio's cooperative budget would make an acquisition
        // answer `Pending` after 128 in a row without an `.await` in between, a
        // scheduler detail this test is not about.
        runtime.block_on(tokio::task::unconstrained(run(ops)))?;
    }
}
