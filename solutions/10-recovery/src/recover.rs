//! Recovery on open: read every segment back, keep the whole records, cut off
//! a torn tail, refuse damage.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use solution06_log::{Log, Offset, Partition, Record};

use crate::append::parse_segment_file_name;
use crate::disk::Disk;
use crate::error::RecoveryError;
use crate::frame::{Frame, decode_frame};

// ANCHOR: report
/// What opening the log found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// One entry per partition, in partition order.
    pub partitions: Vec<PartitionRecovery>,
}

/// What recovery found in one partition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionRecovery {
    /// How many segment files were read.
    pub segments: usize,
    /// How many whole records they held.
    pub records: u64,
    /// The torn tail that was cut off, if there was one.
    pub torn_tail: Option<TornTail>,
    /// Segments after a torn one, holding no whole record, that were removed.
    pub removed: Vec<PathBuf>,
}

/// Where a torn tail was cut off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    pub file: PathBuf,
    /// The byte the file was cut at: the end of its last whole record.
    pub position: u64,
    /// How many bytes were cut off.
    pub dropped_bytes: u64,
}
// ANCHOR_END: report

// ANCHOR: segment_scan
/// What one segment file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentScan {
    /// Its whole records, in order; the first has the segment's base offset.
    pub records: Vec<Record>,
    /// The bytes up to the end of the last whole record.
    pub valid_len: usize,
    /// `true` if something that is not a whole record follows `valid_len`,
    /// with no whole record after it: a torn tail, to be cut off.
    pub torn: bool,
}
// ANCHOR_END: segment_scan

// ANCHOR: next_whole_frame
/// The first position at or after `from` where a whole frame starts, if any.
///
/// A crash tears only the end of a file, so after a torn write there is
/// nothing whole. Damage in the middle leaves whole records after it: this
/// search tells the two apart. It tries every byte, which is slow, but it only
/// runs past a bad frame, and a torn tail is short.
pub fn next_whole_frame(bytes: &Bytes, from: usize) -> Option<usize> {
    (from..bytes.len()).find(|&position| {
        matches!(decode_frame(&bytes.slice(position..)), Frame::Whole { .. })
    })
}
// ANCHOR_END: next_whole_frame

// ANCHOR: scan_segment
/// Reads the segment `file`, whose bytes are `bytes` and whose first record
/// has offset `base`, frame after frame.
///
/// A frame that is cut or damaged ends the scan: as a torn tail if no whole
/// frame comes after it, or as [`RecoveryError::Corrupt`] if one does. A
/// whole frame whose offset is not the next one is
/// [`RecoveryError::WrongOffset`].
pub fn scan_segment(
    bytes: &Bytes,
    base: Offset,
    file: &Path,
) -> Result<SegmentScan, RecoveryError> {
    // exercise: solution
    let mut records = Vec::new();
    let mut position = 0;
    let mut expected = base;
    while position < bytes.len() {
        match decode_frame(&bytes.slice(position..)) {
            Frame::Whole {
                offset,
                record,
                len,
            } => {
                if offset != expected {
                    return Err(RecoveryError::WrongOffset {
                        file: file.to_path_buf(),
                        position: position as u64,
                        found: offset,
                        expected,
                    });
                }
                records.push(record);
                expected = expected.next();
                position += len;
            }
            // Cut or damaged: the two are told apart by what follows, not by
            // the frame itself. A checksum that fails on the very last frame
            // is a torn write too: the file's length may have reached the
            // disk before its last bytes did.
            Frame::Incomplete | Frame::Corrupt(_) => {
                if let Some(next) = next_whole_frame(bytes, position + 1) {
                    return Err(RecoveryError::Corrupt {
                        file: file.to_path_buf(),
                        position: position as u64,
                        next_file: file.to_path_buf(),
                        next_whole: next as u64,
                    });
                }
                return Ok(SegmentScan {
                    records,
                    valid_len: position,
                    torn: true,
                });
            }
        }
    }
    Ok(SegmentScan {
        records,
        valid_len: position,
        torn: false,
    })
    // exercise: stub
    // todo!(
    //     "decode frame after frame; a torn tail ends it, damage fails (chapter 10)"
    // )
    // exercise: end
}
// ANCHOR_END: scan_segment

/// A partition as recovery found it.
pub(crate) struct RecoveredPartition {
    /// The last segment (base offset and length), where appends continue, or
    /// `None` if the partition has no segment yet.
    pub(crate) active: Option<(Offset, u64)>,
    /// The offset the next record gets.
    pub(crate) end: Offset,
    pub(crate) report: PartitionRecovery,
}

// ANCHOR: recover_partition
/// Recovers `partition` from its directory `dir`: reads its segments in
/// offset order, checks that each starts where the last ended, appends their
/// whole records to `memory`, and cuts off a torn tail.
pub(crate) fn recover_partition<D: Disk>(
    disk: &D,
    dir: &Path,
    memory: &Log,
    partition: Partition,
) -> Result<RecoveredPartition, RecoveryError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| RecoveryError::Io {
            action,
            path,
            source,
        }
    };
    let mut segments: Vec<(Offset, PathBuf)> = disk
        .list(dir)
        .map_err(io("listing the directory", dir))?
        .iter()
        .filter_map(|name| {
            parse_segment_file_name(name).map(|base| (base, dir.join(name)))
        })
        .collect();
    segments.sort();

    let mut report = PartitionRecovery::default();
    let mut active = None;
    let mut end = Offset(0);
    for (index, (base, path)) in segments.iter().enumerate() {
        if *base != end {
            return Err(RecoveryError::Gap {
                file: path.clone(),
                base: *base,
                expected: end,
            });
        }
        let bytes = Bytes::from(disk.read(path).map_err(io("reading", path))?);
        let scan = scan_segment(&bytes, *base, path)?;
        report.segments += 1;
        report.records += scan.records.len() as u64;
        end = Offset(base.0 + scan.records.len() as u64);
        for record in scan.records {
            memory
                .append(partition, record)
                .expect("the memory log was created with this partition");
        }
        active = Some((*base, scan.valid_len as u64));
        if !scan.torn {
            continue;
        }
        // A torn segment must be the last one that holds anything whole.
        let later = &segments[index + 1..];
        for (_, later_path) in later {
            let later_bytes = Bytes::from(
                disk.read(later_path).map_err(io("reading", later_path))?,
            );
            if let Some(next) = next_whole_frame(&later_bytes, 0) {
                return Err(RecoveryError::Corrupt {
                    file: path.clone(),
                    position: scan.valid_len as u64,
                    next_file: later_path.clone(),
                    next_whole: next as u64,
                });
            }
        }
        // exercise: solution
        // Cut the tail off, so that the next record is written right after
        // the last whole one, not after the garbage.
        disk.truncate(path, scan.valid_len as u64)
            .map_err(io("cutting the torn tail off", path))?;
        // exercise: stub
        // // TODO (chapter 10): the torn tail is still in the file.
        // exercise: end
        report.torn_tail = Some(TornTail {
            file: path.clone(),
            position: scan.valid_len as u64,
            dropped_bytes: (bytes.len() - scan.valid_len) as u64,
        });
        // Kafka does the same: the segments after the first bad record go.
        for (_, later_path) in later {
            disk.remove_file(later_path).map_err(io(
                "removing a segment after a torn tail",
                later_path,
            ))?;
            report.removed.push(later_path.clone());
        }
        if !later.is_empty() {
            disk.sync_dir(dir)
                .map_err(io("syncing the directory", dir))?;
        }
        break;
    }
    Ok(RecoveredPartition {
        active,
        end,
        report,
    })
}
// ANCHOR_END: recover_partition
