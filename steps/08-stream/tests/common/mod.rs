//! Fixtures shared by the test files of step 08: a log, and booking events in
//! it.

// Each test file uses only some of these.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use step08_stream::{
    BookingEvent, BookingId, ConsumeError, ConsumedRecord, Log, Offset,
    Partition, Record, encode,
};

/// A log with `partitions` empty partitions.
pub fn log(partitions: u32) -> Arc<Log> {
    Arc::new(
        Log::new(partitions)
            .expect("the tests create logs with at least one partition"),
    )
}

/// A booking event that differs from every other one this function returns.
pub fn event() -> BookingEvent {
    BookingEvent::PaymentReceived {
        booking_id: BookingId::new(),
    }
}

/// Appends `count` encoded events to `partition` and returns them, in the order
/// (and so at the offsets) they were appended.
pub fn append_events(
    log: &Log,
    partition: u32,
    count: usize,
) -> Vec<BookingEvent> {
    (0..count)
        .map(|_| {
            let event = event();
            log.append(
                Partition(partition),
                Record::new("key", encode(&event)),
            )
            .expect("the tests append to partitions that exist");
            event
        })
        .collect()
}

/// Appends bytes that are not a booking event to `partition` and returns their
/// offset.
pub fn append_garbage(log: &Log, partition: u32) -> Offset {
    // 0xff starts a protobuf field key that never ends: prost refuses it.
    log.append(
        Partition(partition),
        Record::new("key", &b"\xff\xff\xff not a booking event"[..]),
    )
    .expect("the tests append to partitions that exist")
}

/// Where an item came from, error or not: (partition, offset).
pub fn position_of(item: &Result<ConsumedRecord, ConsumeError>) -> (u32, u64) {
    match item {
        Ok(record) => (record.partition.0, record.offset.0),
        Err(ConsumeError::Decode {
            partition, offset, ..
        }) => (partition.0, offset.0),
        Err(other) => {
            panic!("expected a record or a decode error, got {other:?}")
        }
    }
}

/// The record in an item, with a message naming the offset if it is an error.
pub fn record(item: Result<ConsumedRecord, ConsumeError>) -> ConsumedRecord {
    match item {
        Ok(record) => record,
        Err(error) => {
            panic!("expected a record, got an error: {}", chain(&error))
        }
    }
}

/// An error and every cause behind it, outermost first, joined by ": ", as a
/// failure message should show them. Each error's own message says only what
/// happened at its level; the cause comes from `source()`.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    workshop_testkit::errors::chain(error).join(": ")
}

/// Fails a test whose call into the exercise panicked, with `message`, which
/// names the likely mistake; unless the panic is a `todo!()`: then the function
/// is simply not written yet, and its own message says so best.
pub fn unless_unwritten(
    panic: Box<dyn std::any::Any + Send>,
    message: &str,
) -> ! {
    let text = panic
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    if text.contains("not yet implemented") {
        std::panic::resume_unwind(panic)
    }
    panic!("{message}")
}

/// How long a test may take. Every test of this step finishes in well under a
/// second.
const LIMIT: Duration = Duration::from_secs(5);

/// What a test that did not finish most likely shows.
const STUCK: &str = "the test did not finish: the consumer never let it go on. Either \
    `poll_next` loops inside until a record comes (when every partition is caught up it \
    must leave its wakers and return Pending, not spin), or the stream hands out items for \
    ever without pausing (the same record or error again and again? does `position` move \
    past a record that does not decode?)";

/// Runs the body of a plain test under a watchdog: a `poll_next` that never
/// returns would otherwise hang the test with no word about why.
pub fn watched(body: impl FnOnce() + Send + 'static) {
    workshop_testkit::watchdog::within(LIMIT, STUCK, body)
}

/// Runs the async test that `test` returns on a current-thread Tokio runtime
/// with a paused clock, under the same watchdog. A consumer that never returns
/// `Pending` never gives the runtime back control, so no timer inside the test
/// can fire: only another thread can notice.
pub fn on_paused_runtime<F, Fut>(test: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    workshop_testkit::watchdog::within(LIMIT, STUCK, move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a current-thread Tokio runtime starts")
            .block_on(test())
    })
}
