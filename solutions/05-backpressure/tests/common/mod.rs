//! Fixtures shared by the test files of step 05.

// Each test file uses only some of these.
#![allow(dead_code)]

use std::time::Duration;

use solution05_backpressure::{BufferError, ProducerBuffer, Record};

/// A record of exactly `size` bytes whose key is `name`, so that a failure
/// message can say which record went where.
pub fn record(name: &str, size: usize) -> Record {
    assert!(
        size >= name.len(),
        "test bug: a record named {name:?} needs at least {} bytes",
        name.len()
    );
    Record::new(name.as_bytes().to_vec(), vec![0u8; size - name.len()])
}

/// The name (key) of a record, for failure messages.
pub fn name(record: &Record) -> String {
    String::from_utf8_lossy(&record.key).into_owned()
}

/// The names of records, in order.
pub fn names(records: &[Record]) -> Vec<String> {
    records.iter().map(name).collect()
}

/// A buffer of `capacity` bytes, filled completely by two records "old-1" and
/// "old-2" of half the capacity each (so `capacity` must be even).
pub fn full_buffer(capacity: u32) -> ProducerBuffer {
    let buffer = ProducerBuffer::new(capacity);
    let half = capacity as usize / 2;
    for name in ["old-1", "old-2"] {
        buffer.try_send(record(name, half)).expect(
            "an empty buffer must accept two records of half its capacity",
        );
    }
    assert_eq!(
        buffer.buffered_bytes(),
        capacity as usize,
        "after two records of half the capacity, buffered_bytes() must be the whole capacity"
    );
    buffer
}

/// The variant of an error without its record, for short failure messages.
pub fn variant(error: &BufferError) -> &'static str {
    match error {
        BufferError::Full(_) => "Full",
        BufferError::TimedOut { .. } => "TimedOut",
        BufferError::TooLarge { .. } => "TooLarge",
        BufferError::Closed(_) => "Closed",
    }
}

/// `Ok`, or the error's variant, for short failure messages.
pub fn outcome(result: &Result<(), BufferError>) -> String {
    match result {
        Ok(()) => "Ok".to_owned(),
        Err(error) => format!("Err({})", variant(error)),
    }
}

/// Runs the async test that `test` returns on a current-thread Tokio runtime
/// with a paused clock, under a watchdog. A send that loops until there is
/// room, instead of waiting, never returns from `poll`: the runtime is stuck
/// with it, and only another thread can notice and say so.
pub fn on_paused_runtime<F, Fut>(test: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    workshop_testkit::watchdog::within(
        Duration::from_secs(5),
        "the test did not finish: a send never returned from `poll`. Does it loop until \
         there is room (try_send again and again, with no `.await` that waits)? A send \
         that has to wait must return Pending, by awaiting the semaphore, so that the task \
         is woken when room is freed",
        move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .expect("a current-thread Tokio runtime starts")
                .block_on(test())
        },
    )
}
