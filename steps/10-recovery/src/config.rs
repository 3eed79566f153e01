//! What the caller of the durable log chooses: partitions, segment size, and
//! when to fsync (given code).

use std::time::Duration;

// ANCHOR: fsync_policy
/// When an append waits for the disk.
///
/// Each fsync costs from a tenth of a millisecond to several milliseconds,
/// whatever it carries: the policy decides how many records share one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Fsync after every record: every ack is durable, and the log appends
    /// only as many records a second as the disk does fsyncs.
    EveryRecord,
    /// Fsync once every `n` records (group commit): one fsync carries `n`
    /// records, and up to `n - 1` acknowledged records can be lost in a power
    /// cut (their acks say `durable: false`). Kafka's
    /// `log.flush.interval.messages`.
    EveryRecords(u32),
    /// Fsync on the first append at least this long after the last fsync
    /// (group commit by time). The log runs no timer of its own: call
    /// [`DurableLog::sync`](crate::DurableLog::sync) from one to bound how
    /// long a quiet log stays unsynced.
    Interval(Duration),
    /// Never fsync: the operating system writes the page cache out when it
    /// likes. Kafka's default: it relies on copies on other brokers, not on
    /// fsync, to survive a power cut.
    Never,
}
// ANCHOR_END: fsync_policy

// ANCHOR: log_config
/// How a durable log is laid out and when it syncs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// How many partitions the log has, numbered from 0. Each has its own
    /// directory of segment files.
    pub partition_count: u32,
    /// A segment is closed and a new one started when the next record would
    /// take it past this many bytes (a record larger than this gets a segment
    /// of its own). Kafka calls it `log.segment.bytes`.
    pub segment_bytes: u64,
    /// When appends wait for the disk.
    pub fsync: FsyncPolicy,
}
// ANCHOR_END: log_config

impl LogConfig {
    /// `partition_count` partitions, segments of 1 MiB, and an fsync after
    /// every record: the safe default of this workshop.
    pub fn new(partition_count: u32) -> LogConfig {
        LogConfig {
            partition_count,
            segment_bytes: 1024 * 1024,
            fsync: FsyncPolicy::EveryRecord,
        }
    }
}
