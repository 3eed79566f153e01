//! Exercise "commit": `CommitStore::store` in src/commit.rs, the atomic
//! replace of the committed offsets.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{P0, P1, sim_dir};
use step10_recovery::{
    COMMIT_FILE, COMMIT_TEMP_FILE, CommitStore, CommitStoreError, Disk,
    DiskFile, Offset, RealDisk, SimDisk, decode_commits, encode_commits,
};

fn open_store<D: Disk>(disk: &D, dir: &Path) -> CommitStore<D> {
    CommitStore::open(disk.clone(), dir)
        .unwrap_or_else(|e| panic!("opening the commit store failed: {e}"))
}

fn commit_path() -> PathBuf {
    sim_dir().join(COMMIT_FILE)
}

#[test]
fn a_stored_commit_is_there_after_reopening() {
    let disk = SimDisk::new(1);
    let mut store = open_store(&disk, &sim_dir());
    assert_eq!(store.committed(P0), None, "nothing committed yet");
    store.store(P0, Offset(3)).expect("storing a commit works");
    store.store(P1, Offset(8)).expect("storing a commit works");
    assert_eq!(store.committed(P0), Some(Offset(3)));
    let store = open_store(&disk, &sim_dir());
    assert_eq!(
        (store.committed(P0), store.committed(P1)),
        (Some(Offset(3)), Some(Offset(8))),
        "a reopened store must read back what was stored: write the file {COMMIT_FILE}"
    );
    let loaded = store.load();
    assert_eq!(
        loaded.resume_at(P0),
        Offset(3),
        "load() gives step 09's CommittedOffsets"
    );
    assert_eq!(
        disk.contents(&commit_path())
            .map(|bytes| decode_commits(&bytes)),
        Some(Ok(BTreeMap::from([(P0, Offset(3)), (P1, Offset(8))]))),
        "{COMMIT_FILE} must hold the bytes of encode_commits(..) for every \
         partition's offset"
    );
}

#[test]
fn the_temporary_file_is_gone_after_a_store() {
    let disk = SimDisk::new(2);
    let mut store = open_store(&disk, &sim_dir());
    store.store(P0, Offset(1)).expect("store");
    assert_eq!(
        disk.contents(&sim_dir().join(COMMIT_TEMP_FILE)),
        None,
        "after a store, {COMMIT_TEMP_FILE} must have been renamed to {COMMIT_FILE}"
    );
}

#[test]
fn a_commit_never_goes_back() {
    let disk = SimDisk::new(3);
    let mut store = open_store(&disk, &sim_dir());
    store.store(P0, Offset(5)).expect("store");
    assert!(
        matches!(
            store.store(P0, Offset(4)),
            Err(CommitStoreError::Backwards { .. })
        ),
        "committing 4 after 5 must be refused"
    );
    store
        .store(P0, Offset(5))
        .expect("the same offset again is fine");
    assert_eq!(open_store(&disk, &sim_dir()).committed(P0), Some(Offset(5)));
}

#[test]
fn a_store_that_returned_ok_survives_any_crash() {
    for seed in 0..30 {
        let disk = SimDisk::new(seed);
        let mut store = open_store(&disk, &sim_dir());
        store.store(P0, Offset(7)).expect("store");
        disk.crash();
        let after = CommitStore::open(disk.clone(), &sim_dir()).unwrap_or_else(|e| {
            panic!(
                "seed {seed}: store returned Ok and then a crash left a damaged \
                 file ({e}): fsync the temporary file before you rename it"
            )
        });
        assert_eq!(
            after.committed(P0),
            Some(Offset(7)),
            "seed {seed}: store returned Ok, and after a crash the commit is \
             gone: the rename is a change to the directory, and only an fsync \
             of the directory makes it durable"
        );
    }
}

#[test]
fn a_crash_in_the_middle_of_a_store_leaves_the_old_or_the_new_commit() {
    // How many disk operations one store takes.
    let ops = {
        let disk = SimDisk::new(0);
        let mut store = open_store(&disk, &sim_dir());
        store.store(P0, Offset(1)).expect("store");
        let before = disk.operations();
        store.store(P0, Offset(2)).expect("store");
        disk.operations() - before
    };
    assert!(
        ops >= 4,
        "a store takes at least four steps: write, fsync, rename, fsync the directory"
    );
    for stop in 0..ops {
        for seed in 0..8 {
            let disk = SimDisk::new(seed);
            let mut store = open_store(&disk, &sim_dir());
            store.store(P0, Offset(1)).expect("store");
            disk.fail_after(stop);
            let result = store.store(P0, Offset(2));
            assert!(
                result.is_err(),
                "the disk stopped after {stop} operations"
            );
            assert_eq!(
                store.committed(P0),
                Some(Offset(1)),
                "a store that failed must not change what the store reports"
            );
            disk.crash();
            let after = CommitStore::open(disk.clone(), &sim_dir()).unwrap_or_else(|e| {
                panic!(
                    "crash {stop} operations into a store (seed {seed}): the \
                     commit file was damaged ({e}). Never write {COMMIT_FILE} in \
                     place: write {COMMIT_TEMP_FILE}, fsync it, then rename it"
                )
            });
            assert_eq!(
                after.committed(P0),
                Some(Offset(1)),
                "crash {stop} operations into a store (seed {seed}): the store \
                 did not finish, so the old commit must still be there"
            );
        }
    }
}

// What goes wrong without the protocol, shown on the simulated disk. These
// use the disk directly, not your code: they show why each step is needed.

#[test]
fn writing_the_commit_file_in_place_can_leave_it_torn() {
    let mut damaged = 0;
    for seed in 0..20 {
        let disk = SimDisk::new(seed);
        let path = commit_path();
        let mut file = disk.create(&path).expect("create");
        file.write_all(&encode_commits(&BTreeMap::from([(P0, Offset(1))])))
            .expect("write");
        file.sync().expect("sync");
        disk.sync_dir(&sim_dir()).expect("sync dir");
        // In place: empty the file, write the new version; the crash comes
        // before the fsync.
        let mut file = disk.create(&path).expect("create");
        file.write_all(&encode_commits(&BTreeMap::from([(P0, Offset(2))])))
            .expect("write");
        disk.crash();
        if CommitStore::open(disk.clone(), &sim_dir()).is_err() {
            damaged += 1;
        }
    }
    assert!(
        damaged > 0,
        "a crash during an in-place write can leave half a file: neither the \
         old commit nor the new one"
    );
}

#[test]
fn a_rename_without_a_directory_fsync_can_be_undone_by_a_crash() {
    let disk = SimDisk::new(0);
    let dir = sim_dir();
    for (offset, sync_dir) in [(1, true), (2, false)] {
        let temp = dir.join(COMMIT_TEMP_FILE);
        let mut file = disk.create(&temp).expect("create");
        file.write_all(&encode_commits(&BTreeMap::from([(
            P0,
            Offset(offset),
        )])))
        .expect("write");
        file.sync().expect("sync");
        disk.rename(&temp, &dir.join(COMMIT_FILE)).expect("rename");
        if sync_dir {
            disk.sync_dir(&dir).expect("sync dir");
        }
    }
    assert_eq!(open_store(&disk, &dir).committed(P0), Some(Offset(2)));
    disk.crash();
    assert_eq!(
        open_store(&disk, &dir).committed(P0),
        Some(Offset(1)),
        "the second rename was never made durable: after the crash the old \
         commit is back, and the consumer handles records 1.. again"
    );
}

#[test]
fn a_damaged_commit_file_is_reported_not_read_as_zero() {
    let disk = SimDisk::new(4);
    let mut store = open_store(&disk, &sim_dir());
    store.store(P0, Offset(9)).expect("store");
    let mut bytes = disk.contents(&commit_path()).expect("the file exists");
    bytes[0] = b'7';
    assert!(disk.overwrite(&commit_path(), &bytes));
    match CommitStore::open(disk.clone(), &sim_dir()) {
        Err(CommitStoreError::Corrupt { path, .. }) => {
            assert_eq!(path, commit_path(), "the error names the file")
        }
        other => panic!(
            "a commit file failing its checksum must be refused, got {other:?}"
        ),
    }
}

#[test]
fn commits_survive_reopening_on_real_files() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut store = open_store(&RealDisk, dir.path());
    store.store(P0, Offset(4)).expect("store");
    store.store(P0, Offset(6)).expect("store");
    assert!(
        !dir.path().join(COMMIT_TEMP_FILE).exists(),
        "the temporary file must have been renamed"
    );
    let store = open_store(&RealDisk, dir.path());
    assert_eq!(store.committed(P0), Some(Offset(6)));
}
