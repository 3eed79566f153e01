//! Every way a send can fail. Each variant owns the record, so a failed send
//! never loses it.

use std::time::Duration;

use solution03_partitioning::Record;

// ANCHOR: error
/// Why a record was not buffered. Every variant carries the record itself: the
/// caller decides what happens to it next (retry, slow down, write it
/// elsewhere, answer "try again later" upstream). Nothing is dropped behind the
/// caller's back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BufferError {
    /// The buffer had no room and the mode said not to wait.
    #[error(
        "the producer buffer is full, so the record was handed back: retry it later, \
         slow the producer down, or send it with a blocking mode"
    )]
    Full(Record),

    /// The buffer stayed full for the whole time the mode allowed.
    #[error(
        "the producer buffer stayed full for {waited:?}, so the record was handed back: \
         the sender is not keeping up; retry later or reduce the load"
    )]
    TimedOut { record: Record, waited: Duration },

    /// The record alone is bigger than the whole buffer: no amount of waiting
    /// would make room, so every mode refuses it at once.
    #[error(
        "a record of {size} bytes can never fit in a producer buffer of {capacity} bytes: \
         split the record or configure a larger buffer",
        size = record.size()
    )]
    TooLarge { record: Record, capacity: usize },

    /// The buffer was closed (the producer is shutting down) before or while
    /// this send waited.
    #[error(
        "the producer buffer is closed, so the record was handed back: the producer is \
         shutting down; store the record elsewhere or send it through a new producer"
    )]
    Closed(Record),
}
// ANCHOR_END: error

impl BufferError {
    /// The record that was not buffered, for the caller to retry or store.
    pub fn into_record(self) -> Record {
        match self {
            BufferError::Full(record)
            | BufferError::TimedOut { record, .. }
            | BufferError::TooLarge { record, .. }
            | BufferError::Closed(record) => record,
        }
    }

    /// The record that was not buffered, borrowed.
    pub fn record(&self) -> &Record {
        match self {
            BufferError::Full(record)
            | BufferError::TimedOut { record, .. }
            | BufferError::TooLarge { record, .. }
            | BufferError::Closed(record) => record,
        }
    }
}
