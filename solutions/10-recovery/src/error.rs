//! What can go wrong when opening, recovering and appending to the durable
//! log (given code).

use std::io;
use std::path::PathBuf;

use solution06_log::{LogError, Offset, Partition};

use crate::frame::RecordTooLarge;

// ANCHOR: recovery_error
/// Why [`DurableLog::open`](crate::DurableLog::open) refused to open the log.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// The configuration cannot work; nothing was read or written.
    #[error("invalid log configuration: {reason}")]
    InvalidConfig { reason: &'static str },
    /// The disk failed while reading, truncating or creating a file.
    #[error("{action} {}: the disk failed; check the path, its permissions and free space", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A damaged record with whole records after it: not what a crash leaves
    /// (a crash only cuts the end), so the log refuses to guess.
    #[error(
        "{} is corrupt at byte {position}, and a whole record follows at byte {next_whole} of {}: a crash only tears the end of a file, so this is damage; the log will not open, rather than drop the records after it. Restore the file from a replica or a backup, or cut it at byte {position} by hand if losing the rest is acceptable",
        file.display(),
        next_file.display()
    )]
    Corrupt {
        file: PathBuf,
        position: u64,
        next_file: PathBuf,
        next_whole: u64,
    },
    /// A whole record whose stored offset is not the one its place in the
    /// partition gives it: a segment misnamed, or copied from another log.
    #[error(
        "{} holds offset {found} at byte {position} where offset {expected} belongs: the segment is misnamed or from another log; move it away and open again",
        file.display()
    )]
    WrongOffset {
        file: PathBuf,
        position: u64,
        found: Offset,
        expected: Offset,
    },
    /// A segment that does not start where the one before it ended.
    #[error(
        "{} starts at offset {base}, but the partition's records before it end at {expected}: a segment is missing; restore it, or move the later segments away",
        file.display()
    )]
    Gap {
        file: PathBuf,
        base: Offset,
        expected: Offset,
    },
}
// ANCHOR_END: recovery_error

// ANCHOR: append_error
/// Why an append or a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The partition does not exist in this log.
    #[error("cannot append")]
    Log(#[from] LogError),
    /// The record cannot be framed.
    #[error("cannot append")]
    TooLarge(#[from] RecordTooLarge),
    /// The disk failed. What reached the file is unknown, so the partition
    /// takes no more appends until the log is opened again and recovered.
    #[error("writing {}: the disk failed; the partition is stopped until the log is opened again", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// An earlier write or fsync of this partition failed.
    #[error(
        "partition {partition} stopped after an earlier disk failure: open the log again to recover it"
    )]
    Stopped { partition: Partition },
}
// ANCHOR_END: append_error
