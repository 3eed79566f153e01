//! What the consumer hands out, and what can go wrong on the way.

use solution02_protobuf::{BookingEvent, WireError};
use solution06_log::{LogError, Offset, Partition};

// ANCHOR: consumed_record
/// One booking event as the consumer hands it out: the event, and where it was
/// stored.
///
/// The position matters as much as the event. A handler uses `partition` and
/// `offset` to say which record it is working on (in logs, in a dead-letter
/// entry), and step 09 commits `offset.next()` once the event is handled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumedRecord {
    pub partition: Partition,
    pub offset: Offset,
    pub event: BookingEvent,
}
// ANCHOR_END: consumed_record

// ANCHOR: consume_error
/// A record the consumer could not turn into a [`ConsumedRecord`].
///
/// This is an item of the stream, not its end: after an error, the next poll
/// goes on with the next record. One bad record must not stop a partition (a
/// "poison pill" that blocks everything behind it), and it must not vanish
/// either: its handler decides what to do with it, such as setting it aside in
/// a dead-letter topic (step 12).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsumeError {
    /// The record's bytes are not a booking event this consumer can read.
    /// Reading it again gives the same error: the consumer has already moved
    /// past it, and the record stays in the log for whoever can read it.
    #[error(
        "the record at partition {partition}, offset {offset} is not a booking event this \
         consumer can read; the consumer has moved on to the next record, so set this one \
         aside (a dead-letter topic) rather than retrying it"
    )]
    Decode {
        partition: Partition,
        offset: Offset,
        source: WireError,
    },

    /// The log refused a read or a waker registration for an assigned
    /// partition.
    ///
    /// [`Consumer::new`](crate::Consumer::new) checks every assigned partition,
    /// and the log of step 06 never loses one, so this does not happen with it;
    /// a log that can fail (on disk, step 10) would report its failures here.
    #[error("the log refused to serve partition {partition}")]
    Log {
        partition: Partition,
        source: LogError,
    },
}
// ANCHOR_END: consume_error

// ANCHOR: assignment_error
/// Why [`Consumer::new`](crate::Consumer::new) refused an assignment.
///
/// These are configuration mistakes: each would make the consumer hand out
/// records twice, skip some, or fail on every poll. Better to say so once, at
/// the start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AssignmentError {
    /// The partition does not exist in this log.
    #[error("cannot assign partition {partition}: the log does not serve it")]
    UnknownPartition {
        partition: Partition,
        source: LogError,
    },

    /// The same partition was assigned twice: every one of its records would be
    /// handed out twice.
    #[error(
        "partition {partition} is assigned twice; assign each partition once, with the \
         offset to start from"
    )]
    DuplicatePartition { partition: Partition },

    /// The start offset is past the partition's end. The consumer would wait
    /// for that offset and silently skip every record appended before it:
    /// usually a committed offset from another log, or from before a log was
    /// truncated.
    #[error(
        "cannot start partition {partition} at offset {start}: the partition ends at \
         {high_watermark} (its next append gets that offset); start at or below it. Kafka \
         calls this an out-of-range offset and resets it by `auto.offset.reset`"
    )]
    StartPastEnd {
        partition: Partition,
        start: Offset,
        high_watermark: Offset,
    },
}
// ANCHOR_END: assignment_error
