//! Fixtures shared by the test files of step 14.

// Each test file uses only some of these.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use solution14_capstone::{
    BookingEvent, BookingId, CapstoneConfig, DurableLog, EventId, FsyncPolicy,
    IdentifiedEvent, LogConfig, Offset, Partition, Pipeline, SeatId, SimDisk,
    TOPIC_DIR, UserId, decode_identified, partition_for, partition_key,
};

/// Three partitions: enough for bookings to spread, few enough to read.
pub const PARTITIONS: u32 = 3;

pub fn config() -> CapstoneConfig {
    CapstoneConfig::new(PARTITIONS)
}

/// A configuration whose retries wait up to an hour: a failed event keeps a
/// round busy long after any test's deadline.
pub fn patient_config() -> CapstoneConfig {
    let mut config = config();
    config.worker.retry.base = Duration::from_secs(3600);
    config.worker.retry.cap = Duration::from_secs(3600);
    config
}

/// A service in a temporary folder: its logs on a simulated disk (step 10),
/// its SQLite databases in real files.
pub struct Service {
    dir: tempfile::TempDir,
    pub disk: SimDisk,
    pub config: CapstoneConfig,
    pub pipeline: Pipeline<SimDisk>,
}

impl Service {
    pub fn new(seed: u64, config: CapstoneConfig) -> Service {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let disk = SimDisk::new(seed);
        let (pipeline, _) = Pipeline::open(disk.clone(), dir.path(), config)
            .expect("a new pipeline opens");
        Service {
            dir,
            disk,
            config,
            pipeline,
        }
    }

    /// Stops the process at once (without a shutdown) and starts it again
    /// from what is on disk.
    pub fn restart(self) -> Service {
        let Service {
            dir, disk, config, ..
        } = self;
        let (pipeline, _) = Pipeline::open(disk.clone(), dir.path(), config)
            .expect("the pipeline opens again after a restart");
        Service {
            dir,
            disk,
            config,
            pipeline,
        }
    }

    /// A power cut: what was not synced may be lost; then a restart.
    pub fn power_cut(self) -> Service {
        let Service {
            dir, disk, config, ..
        } = self;
        disk.crash();
        let (pipeline, _) = Pipeline::open(disk.clone(), dir.path(), config)
            .expect("the pipeline opens again after a power cut");
        Service {
            dir,
            disk,
            config,
            pipeline,
        }
    }

    /// A power cut, then the topic alone, opened again the way
    /// `Pipeline::open` opens it, and how many times each event id is in it:
    /// for a test whose outbox log holds a record the whole pipeline refuses
    /// to open again.
    pub fn topic_after_power_cut(self) -> HashMap<EventId, usize> {
        self.disk.crash();
        let config = LogConfig {
            partition_count: self.config.partitions,
            segment_bytes: 1024 * 1024,
            fsync: self.config.fsync,
        };
        let path = self.dir.path().join(TOPIC_DIR);
        let (topic, _) = DurableLog::open(self.disk.clone(), &path, config)
            .expect("the topic opens again after a power cut");
        let mut copies = HashMap::new();
        for partition in (0..self.config.partitions).map(Partition) {
            let records = topic
                .read(partition, Offset(0), usize::MAX)
                .expect("the topic reads");
            for stored in records {
                if let Ok(event) = decode_identified(&stored.record.value) {
                    *copies.entry(event.id).or_default() += 1;
                }
            }
        }
        copies
    }

    /// Takes `count` requests for new seats (from `first` on) and returns
    /// their bookings.
    pub fn book(&mut self, first: usize, count: usize) -> Vec<BookingId> {
        (first..first + count)
            .map(|n| {
                let booking_id = BookingId::new();
                let request = BookingEvent::ReservationRequested {
                    booking_id,
                    seat_id: seat(n),
                    user_id: UserId::new(),
                };
                self.pipeline
                    .intake(&request)
                    .expect("a request for a free seat is taken");
                booking_id
            })
            .collect()
    }

    /// Takes the payment of `booking_id`.
    pub fn pay(&mut self, booking_id: BookingId) {
        self.pipeline
            .intake(&BookingEvent::PaymentReceived { booking_id })
            .expect("the payment of a held booking is taken");
    }

    /// The ids of every event in the outbox.
    pub fn outbox_ids(&self) -> Vec<EventId> {
        self.pipeline
            .outbox()
            .rows()
            .expect("the outbox reads")
            .into_iter()
            .map(|(row, _sent)| row.event.id)
            .collect()
    }

    /// Every record of `partition`: its offset and event, or `None` for a
    /// record that is not an event (a poison pill).
    pub fn topic(
        &self,
        partition: Partition,
    ) -> Vec<(Offset, Option<IdentifiedEvent>)> {
        self.pipeline
            .topic()
            .read(partition, Offset(0), usize::MAX)
            .expect("the topic reads")
            .into_iter()
            .map(|stored| {
                (stored.offset, decode_identified(&stored.record.value).ok())
            })
            .collect()
    }

    /// How many times each event id is in the topic, over all partitions.
    pub fn copies(&self) -> HashMap<EventId, usize> {
        let mut copies = HashMap::new();
        for partition in self.pipeline.partitions() {
            for (_, event) in self.topic(partition) {
                if let Some(event) = event {
                    *copies.entry(event.id).or_default() += 1;
                }
            }
        }
        copies
    }

    pub fn ends(&self) -> Vec<Offset> {
        self.pipeline
            .partitions()
            .map(|p| self.pipeline.log_end(p).expect("the partition exists"))
            .collect()
    }

    pub fn committed(&self) -> Vec<Offset> {
        self.pipeline
            .partitions()
            .map(|p| self.pipeline.committed(p))
            .collect()
    }

    pub fn is_held(&self, booking_id: BookingId) -> bool {
        matches!(
            self.pipeline
                .bookings()
                .state(booking_id)
                .expect("the consumer's database reads"),
            solution14_capstone::BookingState::Held { .. }
        )
    }

    /// Puts every outbox row into the topic without the relay and the router
    /// (exercise 1), so that the consumer's tests run on their own: each
    /// event not in the topic yet to its booking's partition with
    /// `Pipeline::deliver`.
    pub fn deliver_outbox(&mut self) {
        let rows = self.pipeline.outbox().rows().expect("the outbox reads");
        let copies = self.copies();
        for (row, _sent) in rows {
            if copies.contains_key(&row.event.id) {
                continue;
            }
            let key = partition_key(&row.event.event);
            let partition =
                partition_for(&key, PARTITIONS).expect("three partitions");
            self.pipeline
                .deliver(partition, &row.event)
                .expect("the topic takes the event");
        }
    }

    /// Runs every partition's consumer once.
    pub async fn consume_all(&mut self) {
        for partition in (0..PARTITIONS).map(Partition) {
            self.pipeline
                .consume(partition)
                .await
                .unwrap_or_else(|e| panic!("partition {partition}: {e:?}"));
        }
    }
}

/// Runs an async test body on tokio's paused clock, on a thread of its own
/// under a watchdog: a body that never returns (a router that reads the same
/// batch for ever) fails after a few seconds with `hang_message` instead of
/// holding up the whole check.
#[track_caller]
pub fn on_paused_clock<F, Fut>(hang_message: &str, body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    workshop_testkit::watchdog::within(
        Duration::from_secs(5),
        hang_message,
        move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .expect("a tokio runtime for the test")
                .block_on(body());
        },
    );
}

/// The partition step 03 gives `booking_id`'s events.
pub fn partition_of(booking_id: BookingId) -> Partition {
    let key = partition_key(&BookingEvent::PaymentReceived { booking_id });
    partition_for(&key, PARTITIONS).expect("three partitions")
}

/// Books seats one at a time until every partition holds at least `each`
/// bookings: booking ids are random, and so is where they land. Returns
/// every booking with its partition, in the order they were booked.
pub fn book_in_every_partition(
    service: &mut Service,
    each: usize,
) -> Vec<(BookingId, Partition)> {
    let mut booked: Vec<(BookingId, Partition)> = Vec::new();
    let mut counts = vec![0; PARTITIONS as usize];
    while counts.iter().any(|&count| count < each) {
        for booking_id in service.book(booked.len(), 1) {
            let partition = partition_of(booking_id);
            counts[partition.index()] += 1;
            booked.push((booking_id, partition));
        }
    }
    booked
}

pub fn seat(n: usize) -> SeatId {
    let row = char::from(b'A' + u8::try_from(n / 99 % 26).expect("below 26"));
    SeatId::parse(&format!("{row}{}", n % 99 + 1)).expect("a valid seat")
}

pub fn never_fsync() -> CapstoneConfig {
    let mut config = config();
    config.fsync = FsyncPolicy::Never;
    config
}
