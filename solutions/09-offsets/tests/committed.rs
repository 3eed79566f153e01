//! Exercise "committed": `CommittedOffsets::commit` in src/committed.rs.

use solution09_offsets::{CommitError, CommittedOffsets, Offset, Partition};

const P0: Partition = Partition(0);
const P1: Partition = Partition(1);

#[test]
fn a_commit_is_stored_and_a_restart_resumes_there() {
    let mut offsets = CommittedOffsets::new();
    assert_eq!(
        offsets.resume_at(P0),
        Offset(0),
        "a partition never committed is read from the beginning"
    );
    offsets.commit(P0, Offset(3), Offset(10)).expect(
        "committing offset 3 of a partition that ends at 10 must be accepted",
    );
    assert_eq!(
        offsets.committed(P0),
        Some(Offset(3)),
        "the commit must be stored"
    );
    assert_eq!(
        offsets.resume_at(P0),
        Offset(3),
        "a restart must resume exactly at the committed offset"
    );
}

#[test]
fn the_committed_offset_moves_forward() {
    let mut offsets = CommittedOffsets::new();
    for offset in [1, 2, 5, 9] {
        offsets
            .commit(P0, Offset(offset), Offset(10))
            .unwrap_or_else(|e| {
                panic!(
                    "committing {offset} after a lower offset must work: {e}"
                )
            });
    }
    assert_eq!(offsets.committed(P0), Some(Offset(9)));
}

#[test]
fn committing_the_same_offset_again_is_fine() {
    let mut offsets = CommittedOffsets::new();
    offsets.commit(P0, Offset(4), Offset(10)).unwrap();
    assert_eq!(
        offsets.commit(P0, Offset(4), Offset(10)),
        Ok(()),
        "a consumer that commits on a timer commits the same offset again when nothing \
         finished in between; that must be accepted, not refused as going back"
    );
    assert_eq!(offsets.committed(P0), Some(Offset(4)));
}

#[test]
fn a_committed_offset_never_goes_back() {
    let mut offsets = CommittedOffsets::new();
    offsets.commit(P0, Offset(7), Offset(10)).unwrap();
    assert_eq!(
        offsets.commit(P0, Offset(5), Offset(10)),
        Err(CommitError::Backwards {
            partition: P0,
            offset: Offset(5),
            committed: Offset(7),
        }),
        "a late commit of offset 5 after 7 must be refused: records 5 and 6 would be handled \
         again after the next restart"
    );
    assert_eq!(
        offsets.committed(P0),
        Some(Offset(7)),
        "a refused commit must leave the stored offset as it was"
    );
}

#[test]
fn a_commit_past_the_log_end_is_refused() {
    let mut offsets = CommittedOffsets::new();
    assert_eq!(
        offsets.commit(P0, Offset(11), Offset(10)),
        Err(CommitError::PastEnd {
            partition: P0,
            offset: Offset(11),
            log_end: Offset(10),
        }),
        "the partition ends at 10: committing 11 would make a restart skip the record appended \
         at 10"
    );
    assert_eq!(
        offsets.committed(P0),
        None,
        "a refused commit must store nothing"
    );
}

#[test]
fn a_consumer_that_handled_everything_commits_the_log_end() {
    let mut offsets = CommittedOffsets::new();
    assert_eq!(
        offsets.commit(P0, Offset(10), Offset(10)),
        Ok(()),
        "the log end is the next offset to read after the last record (offset 9): committing \
         it is how a consumer says it handled everything"
    );
}

#[test]
fn a_partition_that_is_empty_accepts_offset_zero() {
    let mut offsets = CommittedOffsets::new();
    assert_eq!(offsets.commit(P0, Offset(0), Offset(0)), Ok(()));
}

#[test]
fn partitions_are_committed_independently() {
    let mut offsets = CommittedOffsets::new();
    offsets.commit(P0, Offset(8), Offset(10)).unwrap();
    assert_eq!(
        offsets.commit(P1, Offset(2), Offset(10)),
        Ok(()),
        "offset 2 of partition 1 has nothing to do with offset 8 of partition 0"
    );
    assert_eq!(offsets.committed(P0), Some(Offset(8)));
    assert_eq!(offsets.committed(P1), Some(Offset(2)));
}
