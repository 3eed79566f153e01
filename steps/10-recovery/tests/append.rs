//! Exercise "append": `segment_file_name` and `PartitionWriter::append` in
//! src/append.rs: segment names, rolling, and the fsync policy.

mod common;

use std::time::Duration;

use common::{
    P0, P1, config, frames, open_sim, record, records, segment_path, sim_dir,
};
use step10_recovery::{
    AppendError, Disk, FsyncPolicy, Offset, Record, SimDisk,
    parse_segment_file_name, segment_file_name,
};

#[test]
fn a_segment_is_named_by_its_base_offset_in_twenty_digits() {
    for (base, want) in [
        (0, "00000000000000000000.log"),
        (42, "00000000000000000042.log"),
        (1_000_000, "00000000000001000000.log"),
        (u64::MAX, "18446744073709551615.log"),
    ] {
        assert_eq!(
            segment_file_name(Offset(base)),
            want,
            "the segment starting at offset {base} must be named by that offset, \
             zero-padded to 20 digits, with .log after it, as Kafka names segments"
        );
        assert_eq!(parse_segment_file_name(want), Some(Offset(base)));
    }
}

#[test]
fn appends_are_framed_one_after_the_other_in_the_first_segment() {
    let disk = SimDisk::new(1);
    let (log, _) =
        open_sim(&disk, config(1, 1 << 20, FsyncPolicy::EveryRecord));
    let appended: Vec<Record> = (0..3).map(record).collect();
    for (offset, record) in appended.iter().enumerate() {
        let ack = log.append(P0, record.clone()).expect("the append works");
        assert_eq!(
            ack.offset,
            Offset(offset as u64),
            "offsets start at 0 and go up by one per record"
        );
    }
    let path = segment_path(&sim_dir(), P0, 0);
    assert_eq!(
        disk.contents(&path),
        Some(frames(0, &appended)),
        "{} must hold the three records' frames, in order, and nothing else",
        path.display()
    );
    assert_eq!(
        records(&log, P0),
        appended,
        "readers must see the appended records"
    );
}

#[test]
fn partitions_have_their_own_offsets_and_files() {
    let disk = SimDisk::new(2);
    let (log, _) =
        open_sim(&disk, config(2, 1 << 20, FsyncPolicy::EveryRecord));
    log.append(P0, record(0)).expect("append to partition 0");
    let ack = log.append(P1, record(1)).expect("append to partition 1");
    assert_eq!(
        ack.offset,
        Offset(0),
        "the first record of partition 1 is at offset 0, whatever partition 0 holds"
    );
    assert_eq!(
        disk.contents(&segment_path(&sim_dir(), P1, 0)),
        Some(frames(0, &[record(1)])),
        "partition 1's record must be in partition 1's segment"
    );
}

#[test]
fn a_full_segment_rolls_to_one_named_by_the_next_offset() {
    let disk = SimDisk::new(3);
    let appended: Vec<Record> = (0..5).map(|_| record(0)).collect();
    // Exactly two of these frames fill a segment: a segment may be filled
    // to the last byte, and the third frame goes to the next one.
    let two = frames(0, &appended[..2]).len() as u64;
    let (log, _) = open_sim(&disk, config(1, two, FsyncPolicy::EveryRecord));
    for record in &appended {
        log.append(P0, record.clone()).expect("the append works");
    }
    for (base, count) in [(0, 2), (2, 2), (4, 1)] {
        let path = segment_path(&sim_dir(), P0, base);
        assert_eq!(
            disk.contents(&path),
            Some(frames(base, &appended[..count])),
            "with room for exactly two records per segment, {} must hold the \
             records from offset {base} on: roll when the next frame would take \
             the segment past segment_bytes (filling it exactly is fine), and \
             name the new segment by the offset of its first record",
            path.display()
        );
    }
    assert_eq!(
        disk.contents(&segment_path(&sim_dir(), P0, 6)),
        None,
        "no segment may be started before a record needs it"
    );
}

#[test]
fn a_record_larger_than_a_segment_gets_a_segment_of_its_own() {
    let disk = SimDisk::new(4);
    let (log, _) = open_sim(&disk, config(1, 10, FsyncPolicy::EveryRecord));
    for i in 0..3 {
        log.append(P0, record(i)).expect("the append works");
    }
    for base in 0..3 {
        assert_eq!(
            disk.contents(&segment_path(&sim_dir(), P0, base)),
            Some(frames(base, &[record(base)])),
            "every record is larger than the 10-byte segments: each must go \
             into its own segment, and an empty segment must take it rather \
             than roll again"
        );
    }
}

#[test]
fn every_record_is_fsynced_before_its_ack_says_durable() {
    let disk = SimDisk::new(5);
    let (log, _) =
        open_sim(&disk, config(1, 1 << 20, FsyncPolicy::EveryRecord));
    let path = segment_path(&sim_dir(), P0, 0);
    for i in 0..4 {
        let ack = log.append(P0, record(i)).expect("the append works");
        assert!(
            ack.durable,
            "with FsyncPolicy::EveryRecord every ack must be durable"
        );
        assert_eq!(
            disk.unsynced_bytes(&path),
            Some(0),
            "the ack of record {i} said durable, but its bytes were not \
             fsynced: call sync on the segment before you acknowledge"
        );
    }
}

#[test]
fn group_commit_fsyncs_every_n_records() {
    let disk = SimDisk::new(6);
    let (log, _) =
        open_sim(&disk, config(1, 1 << 20, FsyncPolicy::EveryRecords(3)));
    let path = segment_path(&sim_dir(), P0, 0);
    let durable: Vec<bool> = (0..7)
        .map(|i| {
            let ack = log.append(P0, record(i)).expect("the append works");
            let unsynced = disk.unsynced_bytes(&path).unwrap_or(0);
            assert_eq!(
                ack.durable,
                unsynced == 0,
                "the ack of record {i} must say durable exactly when nothing \
                 written is left unsynced ({unsynced} bytes are)"
            );
            ack.durable
        })
        .collect();
    assert_eq!(
        durable,
        [false, false, true, false, false, true, false],
        "with EveryRecords(3), every third append fsyncs and is durable, \
         the others are not yet"
    );
    assert_eq!(
        log.durable_end(P0).expect("partition 0 exists"),
        Offset(6),
        "records 0 to 5 are on disk, record 6 is not yet"
    );
    log.sync().expect("sync works");
    assert_eq!(disk.unsynced_bytes(&path), Some(0));
    assert_eq!(log.durable_end(P0).expect("partition 0 exists"), Offset(7));
}

#[test]
fn never_leaves_the_fsync_to_the_caller() {
    let disk = SimDisk::new(7);
    let (log, _) = open_sim(&disk, config(1, 1 << 20, FsyncPolicy::Never));
    let path = segment_path(&sim_dir(), P0, 0);
    for i in 0..3 {
        let ack = log.append(P0, record(i)).expect("the append works");
        assert!(
            !ack.durable,
            "with FsyncPolicy::Never no ack is durable: nothing was fsynced"
        );
    }
    assert!(
        disk.unsynced_bytes(&path).unwrap_or(0) > 0,
        "FsyncPolicy::Never must not fsync on append"
    );
    log.sync().expect("sync works");
    assert_eq!(
        disk.unsynced_bytes(&path),
        Some(0),
        "sync() makes everything durable"
    );
}

#[test]
fn an_interval_fsyncs_once_the_time_has_passed() {
    let disk = SimDisk::new(8);
    let (log, _) = open_sim(
        &disk,
        config(1, 1 << 20, FsyncPolicy::Interval(Duration::ZERO)),
    );
    let ack = log.append(P0, record(0)).expect("the append works");
    assert!(
        ack.durable,
        "with an interval of zero, the time to fsync has always come"
    );

    let disk = SimDisk::new(9);
    let (log, _) = open_sim(
        &disk,
        config(1, 1 << 20, FsyncPolicy::Interval(Duration::from_secs(3600))),
    );
    let ack = log.append(P0, record(0)).expect("the append works");
    assert!(
        !ack.durable,
        "with an interval of an hour, an append right after opening must not \
         fsync: the last fsync was when the log was opened"
    );
}

#[test]
fn a_durable_ack_survives_a_crash_whatever_the_crash_keeps() {
    for policy in [FsyncPolicy::EveryRecord, FsyncPolicy::EveryRecords(2)] {
        for seed in 0..20 {
            let disk = SimDisk::new(seed);
            // Small segments, so that the crash also meets a roll.
            let cfg = config(1, 60, policy);
            let mut promised = Vec::new();
            {
                let (log, _) = open_sim(&disk, cfg);
                for i in 0..6 {
                    let ack = log.append(P0, record(i)).expect("append");
                    if ack.durable {
                        promised = (0..=i).map(record).collect();
                    }
                }
            }
            disk.crash();
            // What the segment files hold after the crash, in offset order.
            // (Read directly: recovery is the next exercise.)
            let partition_dir = sim_dir().join("partition-0");
            let mut names = disk.list(&partition_dir).expect("the directory");
            names.sort();
            let on_disk: Vec<u8> = names
                .iter()
                .filter_map(|name| disk.contents(&partition_dir.join(name)))
                .flatten()
                .collect();
            let want = frames(0, &promised);
            assert!(
                on_disk.starts_with(&want),
                "{policy:?}, seed {seed}: {} records were acknowledged as \
                 durable, but after a crash the segments hold {} bytes, not \
                 the {} bytes of their frames: fsync before the ack says \
                 durable",
                promised.len(),
                on_disk.len(),
                want.len()
            );
        }
    }
}

#[test]
fn a_disk_failure_stops_the_partition_until_the_log_is_opened_again() {
    let disk = SimDisk::new(10);
    let (log, _) =
        open_sim(&disk, config(1, 1 << 20, FsyncPolicy::EveryRecord));
    disk.fail_after(0);
    assert!(
        matches!(log.append(P0, record(0)), Err(AppendError::Io { .. })),
        "a failed write must be reported as the disk's failure"
    );
    assert!(
        matches!(
            log.append(P0, record(1)),
            Err(AppendError::Stopped { partition: P0 })
        ),
        "after a failure, the partition must refuse appends: what reached the \
         file is unknown until recovery reads it"
    );
}
