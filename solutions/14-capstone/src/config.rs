//! What the service is opened with (given code).

use std::time::Duration;

use solution10_recovery::FsyncPolicy;
use solution11_idempotency::{DbConfig, Durability};
use solution12_retries::{ParkLimits, RetryPolicy, WorkerConfig};

/// How the pipeline is laid out and how patient it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapstoneConfig {
    /// Partitions of the bookings topic: one consumer round per partition.
    pub partitions: u32,
    /// When the logs (outbox log and topic) fsync. Dead letters and commits
    /// always sync: they are what a restart trusts.
    pub fsync: FsyncPolicy,
    /// The most outbox rows one relay pass publishes as one batch.
    pub relay_batch: usize,
    /// How the consumers retry and park (step 12).
    pub worker: WorkerConfig,
    /// How both SQLite databases are opened (step 11).
    pub db: DbConfig,
    /// The seed of the retry jitter: the same seed, the same delays.
    pub seed: u64,
}

impl CapstoneConfig {
    /// `partitions` partitions, an fsync every 64 records, batches of up to
    /// 64 rows, four attempts per event: the service's defaults.
    pub fn new(partitions: u32) -> CapstoneConfig {
        CapstoneConfig {
            partitions,
            fsync: FsyncPolicy::EveryRecords(64),
            relay_batch: 64,
            worker: WorkerConfig {
                retry: RetryPolicy {
                    max_attempts: 4,
                    base: Duration::from_millis(10),
                    cap: Duration::from_secs(1),
                },
                park: ParkLimits {
                    max_per_booking: 8,
                    max_wait: Duration::from_secs(30),
                },
            },
            db: DbConfig {
                busy_timeout: Duration::from_secs(1),
                durability: Durability::SurvivesProcessCrash,
                read_only: false,
            },
            seed: 14,
        }
    }
}
