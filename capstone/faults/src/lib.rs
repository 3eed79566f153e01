//! Step 14's seeded fault-injection run: a deterministic simulation of the
//! whole pipeline in one process, and a checker that judges each schedule's
//! recorded history against the workshop's invariants 1-11
//! (listed in chapter 14, "The seeded fault-injection run").
//!
//! - [`wiring`]: the pipeline built from the reference solutions of steps
//!   05-13, with the faults of a schedule injected between their calls.
//! - [`schedule`]: what one seed does, round by round.
//! - [`checker`]: the judge, which reads only the [`history`].

pub mod checker;
pub mod disk;
pub mod history;
pub mod rng;
pub mod schedule;
pub mod wiring;

use std::fmt;
use std::str::FromStr;

/// A known bug to swap in ("break it yourself"): the run must find each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bug {
    /// The consumer commits the fetched offsets before their effects
    /// (auto-commit on poll): a crash in between loses the records.
    CommitBeforeEffect,
    /// The handler remembers handled event ids in memory, not in the
    /// database transaction: a restart handles them again.
    InMemoryDedupe,
    /// The disk skips fsync (and still says the record is durable): a power
    /// cut loses acknowledged records.
    NoFsync,
    /// The disk skips directory fsyncs: a power cut loses new segment files
    /// and the commit file's rename.
    NoDirFsync,
    /// The relay marks rows sent before it publishes them: a crash in
    /// between loses the rows.
    MarkBeforePublish,
}

impl Bug {
    pub const ALL: [Bug; 5] = [
        Bug::CommitBeforeEffect,
        Bug::InMemoryDedupe,
        Bug::NoFsync,
        Bug::NoDirFsync,
        Bug::MarkBeforePublish,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Bug::CommitBeforeEffect => "commit-before-effect",
            Bug::InMemoryDedupe => "in-memory-dedupe",
            Bug::NoFsync => "no-fsync",
            Bug::NoDirFsync => "no-dir-fsync",
            Bug::MarkBeforePublish => "mark-before-publish",
        }
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--bug` name that is not one of [`Bug::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("there is no bug called '{name}'; the known bugs are: {known}")]
pub struct UnknownBug {
    pub name: String,
    pub known: String,
}

impl FromStr for Bug {
    type Err = UnknownBug;

    fn from_str(name: &str) -> Result<Bug, UnknownBug> {
        Bug::ALL
            .into_iter()
            .find(|bug| bug.name() == name)
            .ok_or_else(|| UnknownBug {
                name: name.to_owned(),
                known: Bug::ALL.map(Bug::name).join(", "),
            })
    }
}

/// How many schedules a run has unless told otherwise: enough for every
/// known bug to be found (each is, within its first ten seeds), short enough
/// to wait for (about 10-20 s on 2 cores).
pub const DEFAULT_SEEDS: u64 = 2_000;

/// Runs schedules `seeds` on `threads` threads and hands each outcome to
/// `on_outcome` on the calling thread, in the order they finish. With
/// `stop_at_first`, no new schedule starts once one has failed (those already
/// running still finish and are handed over).
pub fn run_parallel(
    seeds: std::ops::Range<u64>,
    bug: Option<Bug>,
    threads: usize,
    stop_at_first: bool,
    mut on_outcome: impl FnMut(schedule::Outcome),
) {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    let next = AtomicU64::new(seeds.start);
    let stop = AtomicBool::new(false);
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            let sender = sender.clone();
            let (next, stop, end) = (&next, &stop, seeds.end);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= end || sender.send(schedule::run(seed, bug)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for outcome in receiver {
            if stop_at_first && !outcome.violations.is_empty() {
                stop.store(true, Ordering::Relaxed);
            }
            on_outcome(outcome);
        }
    });
}
