//! Exercise "recover": `scan_segment` and the torn tail in
//! `recover_partition`, src/recover.rs. Then the crash tests: a workload
//! crashed at every write and fsync, every cut of a segment, random bit flips.

mod common;

use std::path::{Path, PathBuf};

use bytes::Bytes;
use common::{
    P0, P1, boundaries, config, frames, open, open_sim, record, records,
    segment_path, sim_dir,
};
use proptest::prelude::*;
use solution10_recovery::{
    CommitStore, Disk, DurableLog, FsyncPolicy, Offset, Partition, RealDisk,
    Record, RecoveryError, SimDisk, scan_segment,
};

fn scan(
    bytes: &[u8],
    base: u64,
) -> Result<solution10_recovery::SegmentScan, RecoveryError> {
    scan_segment(
        &Bytes::copy_from_slice(bytes),
        Offset(base),
        Path::new("segment.log"),
    )
}

fn four_records() -> Vec<Record> {
    (0..4).map(record).collect()
}

#[test]
fn a_clean_segment_gives_all_its_records() {
    let written = four_records();
    let bytes = frames(10, &written);
    let scan = scan(&bytes, 10).unwrap_or_else(|e| {
        panic!("a segment of four whole records must scan: {e}")
    });
    assert_eq!(scan.records, written, "every record, in order");
    assert_eq!(scan.valid_len, bytes.len(), "all bytes are valid");
    assert!(!scan.torn, "nothing follows the last record: not torn");

    let empty = scan_segment(&Bytes::new(), Offset(0), Path::new("e.log"))
        .expect(
            "an empty segment is fine: a roll happened just before a crash",
        );
    assert!(empty.records.is_empty() && !empty.torn && empty.valid_len == 0);
}

#[test]
fn a_cut_last_record_is_a_torn_tail_not_corruption() {
    let written = four_records();
    let bytes = frames(0, &written);
    let ends = boundaries(&written);
    let cut = ends[3] + 5;
    let scan = scan(&bytes[..cut], 0).unwrap_or_else(|e| {
        panic!(
            "a segment whose last record is cut short is what a crash leaves: \
             it must scan as a torn tail, not fail with {e}"
        )
    });
    assert_eq!(scan.records, &written[..3], "the three whole records");
    assert_eq!(
        scan.valid_len, ends[3],
        "valid_len is where the last whole record ends"
    );
    assert!(scan.torn, "bytes follow the last whole record: torn");
}

#[test]
fn a_last_record_that_fails_its_checksum_is_a_torn_tail() {
    let written = four_records();
    let mut bytes = frames(0, &written);
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    let scan = scan(&bytes, 0).unwrap_or_else(|e| {
        panic!(
            "the last record fails its checksum and nothing follows it: a file's \
             length can reach the disk before its last bytes do, so this is a \
             torn tail to cut off, not an error: {e}"
        )
    });
    assert_eq!(scan.records, &written[..3]);
    assert!(scan.torn);
}

#[test]
fn damage_with_whole_records_after_it_is_refused_with_file_and_byte() {
    let written = four_records();
    let ends = boundaries(&written);
    let mut bytes = frames(0, &written);
    // A byte in the middle of record 1's value.
    bytes[ends[2] - 2] ^= 0x20;
    match scan(&bytes, 0) {
        Err(RecoveryError::Corrupt {
            file,
            position,
            next_file,
            next_whole,
        }) => {
            assert_eq!(
                file,
                Path::new("segment.log"),
                "the error names the file"
            );
            assert_eq!(
                position, ends[1] as u64,
                "the error names the byte where the damaged record starts"
            );
            assert_eq!(next_file, file);
            assert_eq!(
                next_whole, ends[2] as u64,
                "and the byte where the next whole record starts"
            );
        }
        Ok(scan) => panic!(
            "record 1 of 4 is damaged and records 2 and 3 are whole after it: a \
             crash cannot do that, so the scan must fail with Corrupt. It \
             returned {} records instead{}",
            scan.records.len(),
            if scan.torn {
                ", treating the damage as a torn tail and dropping two good records"
            } else {
                ""
            }
        ),
        Err(other) => panic!("expected RecoveryError::Corrupt, got {other}"),
    }
}

#[test]
fn a_record_with_the_wrong_offset_is_refused() {
    let bytes = frames(0, &four_records());
    match scan(&bytes, 5) {
        Err(RecoveryError::WrongOffset {
            position,
            found,
            expected,
            ..
        }) => {
            assert_eq!((position, found, expected), (0, Offset(0), Offset(5)));
        }
        other => panic!(
            "a segment named for offset 5 whose first record says offset 0 \
             is misnamed: expected WrongOffset, got {other:?}"
        ),
    }
}

#[test]
fn every_cut_of_a_segment_recovers_the_whole_records_before_it() {
    let written = four_records();
    let bytes = frames(0, &written);
    let ends = boundaries(&written);
    for cut in 0..=bytes.len() {
        let whole = ends.iter().filter(|&&end| end > 0 && end <= cut).count();
        let scan = scan(&bytes[..cut], 0).unwrap_or_else(|e| {
            panic!(
                "a segment cut at byte {cut} is a torn tail, not damage: {e}"
            )
        });
        assert_eq!(
            scan.records,
            &written[..whole],
            "cut at byte {cut}: the {whole} records that end at or before it"
        );
        assert_eq!(scan.valid_len, ends[whole], "cut at byte {cut}");
        assert_eq!(
            scan.torn,
            cut != ends[whole],
            "cut at byte {cut}: torn exactly when bytes follow the last whole record"
        );
    }
}

/// Writes four records to a one-partition log on `disk` in `dir`, and
/// returns them with the path of the segment.
fn four_on_disk<D: Disk>(disk: &D, dir: &Path) -> (Vec<Record>, PathBuf) {
    let (log, _) =
        open(disk, dir, config(1, 1 << 20, FsyncPolicy::EveryRecord));
    let written = four_records();
    for record in &written {
        log.append(P0, record.clone()).expect("append");
    }
    (written, segment_path(dir, P0, 0))
}

/// Cuts the segment at each byte of `cuts` (all of them if `None`), on
/// `disk`, opens the log each time and checks what comes back; `set` replaces
/// the segment's bytes.
fn check_cuts<D: Disk>(
    disk: &D,
    dir: &Path,
    cuts: Option<Vec<usize>>,
    set: impl Fn(&Path, &[u8]),
) {
    let (written, path) = four_on_disk(disk, dir);
    let bytes = frames(0, &written);
    let ends = boundaries(&written);
    let cuts = cuts.unwrap_or_else(|| (0..=bytes.len()).collect());
    for cut in cuts {
        set(&path, &bytes[..cut]);
        let whole = ends.iter().filter(|&&end| end > 0 && end <= cut).count();
        let cfg = config(1, 1 << 20, FsyncPolicy::EveryRecord);
        let (log, report) = open(disk, dir, cfg);
        assert_eq!(records(&log, P0), &written[..whole], "cut at byte {cut}");
        let torn = report.partitions[0].torn_tail.clone();
        assert_eq!(torn.is_some(), cut != ends[whole], "cut at byte {cut}");
        assert_eq!(
            disk.read(&path).expect("the segment is there").len(),
            ends[whole],
            "cut at byte {cut}: recovery must cut the torn tail off the file, \
             so that the next record is written right after the last whole one"
        );
        drop(log);
        let (again, report) = open(disk, dir, cfg);
        assert_eq!(
            records(&again, P0),
            &written[..whole],
            "cut at byte {cut}: recovering twice must give the same log"
        );
        assert_eq!(report.partitions[0].torn_tail, None, "nothing left to cut");
    }
}

#[test]
fn every_cut_of_a_segment_recovers_on_the_simulated_disk() {
    let disk = SimDisk::new(0);
    check_cuts(&disk, &sim_dir(), None, |path, bytes| {
        assert!(disk.overwrite(path, bytes));
    });
}

#[test]
fn cuts_of_a_segment_recover_on_real_files() {
    // Every cut takes a few fsyncs on a real disk: the exhaustive sweep runs
    // on the simulated disk above, real files get a sample of the same cuts
    // (each boundary, a cut header, a cut body, the last byte missing).
    let ends = boundaries(&four_records());
    let cuts = ends
        .iter()
        .flat_map(|&end| [end, end + 3, end + 8, end + 15])
        .chain([ends[4] - 1])
        .filter(|&cut| cut <= ends[4])
        .collect();
    let dir = tempfile::tempdir().expect("a temporary directory");
    check_cuts(&RealDisk, dir.path(), Some(cuts), |path, bytes| {
        std::fs::write(path, bytes).expect("rewriting the segment");
    });
}

#[test]
fn records_appended_after_a_torn_tail_survive_the_next_recovery() {
    let disk = SimDisk::new(0);
    let (written, path) = four_on_disk(&disk, &sim_dir());
    let bytes = frames(0, &written);
    assert!(disk.overwrite(&path, &bytes[..bytes.len() - 3]));
    let cfg = config(1, 1 << 20, FsyncPolicy::EveryRecord);
    {
        let (log, _) = open_sim(&disk, cfg);
        log.append(P0, record(10)).expect("append after recovery");
    }
    let (log, _) = DurableLog::open(disk.clone(), &sim_dir(), cfg).unwrap_or_else(|e| {
        panic!(
            "a record appended after recovering a torn tail must be readable \
             on the next open; this fails when the torn tail was left in the \
             file and the new record written after it: {e}"
        )
    });
    let mut want = written[..3].to_vec();
    want.push(record(10));
    assert_eq!(records(&log, P0), want);
}

#[test]
fn damage_in_the_middle_stops_the_log_from_opening() {
    let disk = SimDisk::new(0);
    let (written, path) = four_on_disk(&disk, &sim_dir());
    let ends = boundaries(&written);
    let mut bytes = frames(0, &written);
    bytes[ends[1] + 9] ^= 0x04;
    assert!(disk.overwrite(&path, &bytes));
    for attempt in ["first", "second"] {
        match DurableLog::open(
            disk.clone(),
            &sim_dir(),
            config(1, 1 << 20, FsyncPolicy::EveryRecord),
        ) {
            Err(RecoveryError::Corrupt { file, position, .. }) => {
                assert_eq!(file, path, "the error names the segment file");
                assert_eq!(
                    position, ends[1] as u64,
                    "and the damaged record's byte"
                );
            }
            Err(other) => panic!("expected Corrupt, got {other}"),
            Ok(_) => panic!(
                "{attempt} open: record 1 is damaged with whole records after it; \
                 opening must fail, not drop records 1 to 3 as a torn tail"
            ),
        }
    }
    assert_eq!(
        disk.contents(&path),
        Some(bytes),
        "a refused open must leave the file as it was, for a human to look at"
    );
}

#[test]
fn a_segment_holding_other_offsets_is_refused() {
    let disk = SimDisk::new(0);
    let written = four_records();
    // Room for two records per segment: segments 0 and 2.
    let two = frames(0, &written[..2]).len() as u64;
    let cfg = config(1, two, FsyncPolicy::EveryRecord);
    {
        let (log, _) = open_sim(&disk, cfg);
        for record in &written {
            log.append(P0, record.clone()).expect("append");
        }
    }
    let first = segment_path(&sim_dir(), P0, 0);
    let second = segment_path(&sim_dir(), P0, 2);
    let copy = disk.contents(&first).expect("segment 0 exists");
    assert!(disk.overwrite(&second, &copy));
    let result = DurableLog::open(disk.clone(), &sim_dir(), cfg);
    assert!(
        matches!(result, Err(RecoveryError::WrongOffset { .. })),
        "the segment named for offset 2 holds offsets 0 and 1: recovery must \
         check each record's offset against the one its place gives it; got {:?}",
        result.err()
    );
}

/// What the crash workload was told, as the acks and syncs came back.
#[derive(Default)]
struct Promises {
    /// Per partition: every record appended, in order, acknowledged or not.
    appended: [Vec<Record>; 2],
    /// Per partition: how many records a durable ack or a sync promised.
    durable: [usize; 2],
    /// The last committed offset of partition 0 whose store returned `Ok`.
    committed: Option<Offset>,
}

/// A small workload on two partitions with segments of about three records:
/// appends, syncs under `Never`, and a commit of partition 0 every fourth
/// record. It stops at the first failure, as a machine that lost power does.
fn workload(disk: &SimDisk, fsync: FsyncPolicy, promises: &mut Promises) {
    let dir = sim_dir();
    let cfg = config(2, 100, fsync);
    let Ok((log, _)) = DurableLog::open(disk.clone(), &dir, cfg) else {
        return;
    };
    let Ok(mut commits) = CommitStore::open(disk.clone(), &dir) else {
        return;
    };
    for i in 0..10u64 {
        let partition = Partition((i % 2) as u32);
        let slot = partition.index();
        promises.appended[slot].push(record(i));
        let Ok(ack) = log.append(partition, record(i)) else {
            return;
        };
        if ack.durable {
            promises.durable[slot] = ack.offset.0 as usize + 1;
        }
        if fsync == FsyncPolicy::Never && i % 3 == 2 {
            if log.sync().is_err() {
                return;
            }
            promises.durable = promises.appended.each_ref().map(Vec::len);
        }
        if i % 4 == 3 {
            // A careful consumer commits only what is on disk.
            let Ok(next) = log.durable_end(P0) else {
                return;
            };
            if commits.store(P0, next).is_err() {
                return;
            }
            promises.committed = Some(next);
        }
    }
}

/// Checks invariants 1-3 and 6 after a crash at operation `stop`.
fn check_recovery(
    disk: &SimDisk,
    fsync: FsyncPolicy,
    stop: u64,
    promises: &Promises,
) {
    let cfg = config(2, 100, fsync);
    let what = format!("{fsync:?}, crash after {stop} disk operations");
    let (log, _) = DurableLog::open(disk.clone(), &sim_dir(), cfg).unwrap_or_else(|e| {
        panic!("{what}: a crash only tears the end of files, so recovery must succeed: {e}")
    });
    let mut ends = [0; 2];
    for partition in [P0, P1] {
        let slot = partition.index();
        // Invariant 2: one record per offset (checked by `records`).
        let recovered = records(&log, partition);
        // Invariant 3: every record read is one that was written, at its offset.
        assert!(
            promises.appended[slot].starts_with(&recovered),
            "{what}: partition {partition} came back with records that were \
             never appended there, or in another order"
        );
        // Invariant 1: nothing acknowledged as durable is lost.
        assert!(
            recovered.len() >= promises.durable[slot],
            "{what}: partition {partition} had {} records acknowledged as \
             durable, and only {} came back",
            promises.durable[slot],
            recovered.len()
        );
        ends[slot] = recovered.len();
    }
    // Invariant 6: committed offsets never go back and never pass the log end.
    let commits =
        CommitStore::open(disk.clone(), &sim_dir()).unwrap_or_else(|e| {
            panic!("{what}: the commit file must survive any crash: {e}")
        });
    let committed = commits.committed(P0);
    assert!(
        committed >= promises.committed,
        "{what}: offset {:?} was committed, and {committed:?} came back",
        promises.committed
    );
    assert!(
        committed.unwrap_or(Offset(0)).0 as usize <= ends[0],
        "{what}: the committed offset {committed:?} is past the recovered log end {}",
        ends[0]
    );
    // Invariant 3, second half: recovering again, after another crash, gives
    // the same log.
    drop(log);
    disk.crash();
    let (again, report) = DurableLog::open(disk.clone(), &sim_dir(), cfg)
        .unwrap_or_else(|e| panic!("{what}: the second recovery failed: {e}"));
    for partition in [P0, P1] {
        assert_eq!(
            records(&again, partition).len(),
            ends[partition.index()],
            "{what}: recovering twice must give the same log"
        );
        assert_eq!(
            report.partitions[partition.index()].torn_tail,
            None,
            "{what}: the first recovery must leave nothing torn"
        );
    }
}

// ANCHOR: crash_every_point
#[test]
fn a_crash_at_every_write_and_fsync_keeps_invariants_1_2_3_and_6() {
    for fsync in [
        FsyncPolicy::EveryRecord,
        FsyncPolicy::EveryRecords(3),
        FsyncPolicy::Never,
    ] {
        // How many operations the whole workload takes without a crash.
        let total = {
            let disk = SimDisk::new(0);
            workload(&disk, fsync, &mut Promises::default());
            disk.operations()
        };
        for stop in 0..=total {
            let disk = SimDisk::new(stop);
            disk.fail_after(stop);
            let mut promises = Promises::default();
            workload(&disk, fsync, &mut promises);
            disk.crash();
            check_recovery(&disk, fsync, stop, &promises);
        }
    }
}
// ANCHOR_END: crash_every_point

/// Writes six records on `disk` in `dir` (two segments), flips the bits at
/// `flips` (byte index and bit) in the first segment, and opens the log.
fn check_bit_flips<D: Disk>(
    disk: &D,
    dir: &Path,
    flips: &[(usize, u8)],
    set: impl Fn(&Path, &[u8]),
) -> Result<(), TestCaseError> {
    let written: Vec<Record> = (0..6).map(record).collect();
    let cfg = config(1, 150, FsyncPolicy::EveryRecord);
    {
        let (log, _) = open(disk, dir, cfg);
        for record in &written {
            log.append(P0, record.clone()).expect("append");
        }
    }
    let path = segment_path(dir, P0, 0);
    let mut bytes = disk.read(&path).expect("segment 0 exists");
    for &(at, bit) in flips {
        let at = at % bytes.len();
        bytes[at] ^= 1 << bit;
    }
    set(&path, &bytes);
    let first_flip = flips
        .iter()
        .map(|&(at, _)| at % bytes.len())
        .min()
        .unwrap_or(0);
    match DurableLog::open(disk.clone(), dir, cfg) {
        Ok((log, _)) => {
            let recovered = records(&log, P0);
            prop_assert!(
                written.starts_with(&recovered),
                "after bit flips, recovery returned a record that was never written"
            );
        }
        Err(RecoveryError::Corrupt { position, .. })
        | Err(RecoveryError::WrongOffset { position, .. }) => {
            prop_assert!(
                position as usize <= first_flip,
                "the error must point at or before the first damaged byte ({first_flip}), not at {position}"
            );
        }
        Err(other) => {
            prop_assert!(false, "unexpected error after bit flips: {other}")
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(workshop_testkit::proptest_config(48))]

    #[test]
    fn bit_flips_give_a_valid_prefix_or_the_corruption_error(
        flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..4),
    ) {
        let disk = SimDisk::new(0);
        check_bit_flips(&disk, &sim_dir(), &flips, |path, bytes| {
            assert!(disk.overwrite(path, bytes));
        })?;
    }
}

proptest! {
    #![proptest_config(workshop_testkit::proptest_config(8))]

    #[test]
    fn bit_flips_on_real_files_give_a_valid_prefix_or_the_corruption_error(
        flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..4),
    ) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        check_bit_flips(&RealDisk, dir.path(), &flips, |path, bytes| {
            std::fs::write(path, bytes).expect("rewriting the segment");
        })?;
    }
}
