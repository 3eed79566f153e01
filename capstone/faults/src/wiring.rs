//! The pipeline, wired from the reference solutions of steps 05-13 (the only
//! module of this crate that calls them, so that it can be swapped for step
//! 14's own wiring later):
//!
//! booking service (step 13 `OutboxDb`, one shard per partition) -> step 13
//! `Relay` -> step 11 `IdempotentLog` on step 10's simulated disk; a payment
//! gateway (step 05 `ProducerBuffer` -> step 11 `IdempotentProducer`) into
//! the same log; a consumer per partition (step 12 `run_partition`, step 11
//! `BookingDb` in SQLite, step 12 `DeadLetterTopic`, step 10 `CommitStore`).
//!
//! Written here, not in any step: the payment gateway; the consumer's view
//! of a partition, which numbers the events of the log's producer batches one
//! by one (as Kafka numbers the records of a batch) so that step 12's worker
//! reads single events; a consumer session (resume from the commit store, run
//! the worker, commit what it finished); the handler wrapper that injects
//! crashes and errors; and the bug variants (`MarkFirstRelay`, the
//! in-memory dedupe, the commit on fetch; the disk ones are in `disk.rs`).
//!
//! Every call records what an outside observer would see into the
//! [`History`]; the faults come from the schedule's seeded random source.

use std::collections::{HashMap, HashSet};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use solution01_events::{BookingEvent, BookingId, SeatId, UserId};
use solution05_backpressure::{BufferError, ProducerBuffer};
use solution06_log::{Log, Offset, Partition, Record};
use solution10_recovery::{CommitStore, FsyncPolicy, LogConfig};
use solution11_idempotency::{
    BookingDb, DbConfig, Durability, EventId, Handled, IdempotentLog, IdempotentProducer,
    IdentifiedEvent, Outcome, ProduceError, ProducerBatch, ProducerId, decode_identified,
    encode_identified,
};
use solution12_retries::{
    DeadLetterTopic, Handler, HandlerError, ParkLimits, RetryPolicy, WorkerConfig, classify,
    run_partition,
};
use solution13_outbox::{MarkMode, OutboxDb, Pass, Relay, RelayConfig, RelayCrash, RelayError};
use uuid::Uuid;

use crate::Bug;
use crate::disk::FaultDisk;
use crate::history::{BatchSeen, Delivery, Effect, EventInfo, Fault, History, Kind, Op};
use crate::rng::Seeded;

pub const PARTITIONS: u32 = 2;
const SEATS: [&str; 4] = ["A1", "A2", "A3", "B1"];
/// About three encoded payments: the buffer fills when payments pile up.
const BUFFER_BYTES: u32 = 330;
const BATCH_BYTES: usize = 220;

/// The schedule cannot go on: the log did not open, or a piece returned an
/// error it should not have. Already recorded in the history.
#[derive(Debug)]
pub struct Stop;

/// The payload of the panic that stands for a consumer process crash.
struct ProcessCrash;

fn log_config() -> LogConfig {
    LogConfig {
        partition_count: PARTITIONS,
        // Small segments: a few batches each, so that new segment files (and
        // their directory entries) come and go during a schedule.
        segment_bytes: 600,
        fsync: FsyncPolicy::EveryRecord,
    }
}

fn db_config() -> DbConfig {
    DbConfig {
        busy_timeout: Duration::from_millis(50),
        durability: Durability::SurvivesProcessCrash,
        read_only: false,
    }
}

fn worker_config() -> WorkerConfig {
    WorkerConfig {
        retry: RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(10),
            cap: Duration::from_secs(1),
        },
        park: ParkLimits {
            max_per_booking: 8,
            max_wait: Duration::from_secs(60),
        },
    }
}

/// Short names for ids, in order of appearance.
#[derive(Default)]
struct Labels {
    events: HashMap<EventId, u32>,
    bookings: HashMap<BookingId, u32>,
    producers: HashMap<ProducerId, u32>,
}

fn label<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u32>, key: K) -> u32 {
    let next = map.len() as u32 + 1;
    *map.entry(key).or_insert(next)
}

/// What the schedule decided about an event the first time the consumer saw
/// it: a property of the event, so it survives consumer crashes.
#[derive(Clone, Copy, Default)]
struct Fate {
    transient_left: u32,
    permanent: bool,
}

/// A relay: step 13's, or the "marks before publishing" bug.
enum AnyRelay {
    Reference(Relay),
    MarkFirst(MarkFirstRelay),
}

/// The known bug: marks the rows sent, then publishes. A crash in between
/// leaves rows marked that no log holds.
struct MarkFirstRelay {
    producer: IdempotentProducer,
    partition: Partition,
    in_flight: Option<ProducerBatch>,
}

impl MarkFirstRelay {
    fn run_once(
        &mut self,
        db: &mut OutboxDb,
        log: &IdempotentLog<FaultDisk>,
        crash: Option<RelayCrash>,
    ) -> Result<Pass, RelayError> {
        let batch = match self.in_flight.take() {
            Some(batch) => batch,
            None => {
                let rows = db.unsent(4)?;
                if rows.is_empty() {
                    return Ok(Pass::Idle);
                }
                let positions: Vec<_> = rows.iter().map(|row| row.position).collect();
                db.mark_sent(&positions, MarkMode::Batched)?;
                let events = rows.into_iter().map(|row| row.event).collect();
                self.producer.batch(self.partition, events)
            }
        };
        if let Some(crash @ (RelayCrash::BeforePublish | RelayCrash::AfterMark)) = crash {
            return Ok(Pass::Crashed(crash));
        }
        let batch = self.in_flight.insert(batch);
        let ack = log.produce(self.partition, batch)?;
        let rows = batch.events.len();
        self.in_flight = None;
        if crash == Some(RelayCrash::AfterPublish) {
            return Ok(Pass::Crashed(RelayCrash::AfterPublish));
        }
        Ok(Pass::Published {
            rows,
            duplicate: ack.duplicate,
        })
    }
}

/// A consumer process of one partition: what a crash takes away.
struct ConsumerProcess {
    db: BookingDb,
    store: CommitStore<FaultDisk>,
    dead_letters: DeadLetterTopic<FaultDisk>,
    /// The "in-memory dedupe" bug's memory of handled events.
    seen: HashSet<EventId>,
}

/// The payment gateway: payments it must deliver, its buffer (step 05) and
/// its idempotent producer (step 11).
struct Gateway {
    must_deliver: Vec<(Partition, IdentifiedEvent)>,
    in_flight: HashSet<EventId>,
    buffer: ProducerBuffer,
    producer: IdempotentProducer,
    unacked: Vec<(Partition, ProducerBatch)>,
    partition_of: HashMap<EventId, Partition>,
    next_id: u64,
}

impl Gateway {
    fn new(id: u64) -> Gateway {
        Gateway {
            must_deliver: Vec::new(),
            in_flight: HashSet::new(),
            buffer: ProducerBuffer::new(BUFFER_BYTES),
            producer: IdempotentProducer::with_id(ProducerId(id)),
            unacked: Vec::new(),
            partition_of: HashMap::new(),
            next_id: id,
        }
    }

    /// A crash: the buffer and the producer's sequence numbers are gone; the
    /// payments it must deliver are not (the payment provider sends them
    /// again until they are acknowledged).
    fn restart(&mut self) {
        self.next_id += 1;
        self.in_flight.clear();
        self.buffer = ProducerBuffer::new(BUFFER_BYTES);
        self.producer = IdempotentProducer::with_id(ProducerId(self.next_id));
        self.unacked.clear();
    }
}

/// Where a consumer crash hits, counted in handler calls of one session.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ConsumerCrash {
    BeforeEffect(u32),
    AfterEffect(u32),
    BeforeCommit,
    AfterCommit,
}

pub struct Pipeline {
    seed: u64,
    bug: Option<Bug>,
    pub rng: Seeded,
    pub history: History,
    /// Faults are injected while this is set.
    pub faults: bool,
    folder: tempfile::TempDir,
    broker_disk: FaultDisk,
    consumer_disk: FaultDisk,
    log: Option<IdempotentLog<FaultDisk>>,
    services: Vec<OutboxDb>,
    relays: Vec<Option<AnyRelay>>,
    marked: HashSet<EventId>,
    gateway: Gateway,
    consumers: Vec<Option<ConsumerProcess>>,
    labels: Labels,
    fates: HashMap<EventId, Fate>,
    /// Bookings the service holds, by shard.
    held: Vec<(usize, BookingId)>,
    /// Bookings whose request is published and not paid yet.
    payable: Vec<(usize, BookingId)>,
    next_booking: u64,
    next_fresh_id: u64,
    sessions: u32,
}

fn temp_folder() -> std::io::Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(folder) = tempfile::Builder::new().prefix("faults-").tempdir_in(shm)
    {
        return Ok(folder);
    }
    tempfile::Builder::new().prefix("faults-").tempdir()
}

/// Creates the SQLite database at `path` in write-ahead-log mode, which the
/// file remembers: steps 11 and 13 then open it as it is. A transaction
/// appends to one WAL file instead of creating and deleting a rollback
/// journal (fewer system calls, and the files are a schedule's main cost); a
/// process crash keeps every committed transaction in both modes.
fn create_database(path: &Path) -> Result<(), String> {
    let connection = rusqlite::Connection::open(path)
        .map_err(|e| format!("{} did not open: {e}", path.display()))?;
    connection
        .pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| format!("{} refused WAL mode: {e}", path.display()))
}

fn log_dir() -> PathBuf {
    PathBuf::from("/broker/log")
}

fn commit_dir(partition: Partition) -> PathBuf {
    PathBuf::from(format!("/consumer/commits-{partition}"))
}

fn dead_letter_dir(partition: Partition) -> PathBuf {
    PathBuf::from(format!("/consumer/dead-letters-{partition}"))
}

impl Pipeline {
    pub fn new(seed: u64, bug: Option<Bug>) -> Result<Pipeline, String> {
        let file_sync = bug != Some(Bug::NoFsync);
        let dir_sync = bug != Some(Bug::NoDirFsync);
        let folder = temp_folder().map_err(|e| format!("no temporary folder: {e}"))?;
        let mut services = Vec::new();
        for shard in 0..PARTITIONS {
            let path = folder.path().join(format!("service-{shard}.sqlite"));
            create_database(&path)?;
            services.push(
                OutboxDb::open(&path, db_config())
                    .map_err(|e| format!("the service database did not open: {e}"))?,
            );
        }
        create_database(&folder.path().join("consumer.sqlite"))?;
        let mut pipeline = Pipeline {
            seed,
            bug,
            rng: Seeded::new(seed),
            history: History::default(),
            faults: true,
            folder,
            broker_disk: FaultDisk::new(seed, file_sync, dir_sync),
            consumer_disk: FaultDisk::new(seed ^ 0x5eed, file_sync, dir_sync),
            log: None,
            services,
            relays: (0..PARTITIONS).map(|_| None).collect(),
            marked: HashSet::new(),
            gateway: Gateway::new(1 << 40),
            consumers: (0..PARTITIONS).map(|_| None).collect(),
            labels: Labels::default(),
            fates: HashMap::new(),
            held: Vec::new(),
            payable: Vec::new(),
            next_booking: 0,
            next_fresh_id: 0,
            sessions: 0,
        };
        pipeline
            .open_log()
            .map_err(|Stop| "the empty log did not open".to_owned())?;
        Ok(pipeline)
    }

    fn fault(&mut self, fault: Fault) {
        self.history.push(Op::Fault(fault));
    }

    fn failed(&mut self, what: String) -> Stop {
        self.history.push(Op::Failed { what });
        Stop
    }

    fn open_log(&mut self) -> Result<(), Stop> {
        match IdempotentLog::open(self.broker_disk.clone(), &log_dir(), log_config()) {
            Ok((log, _report)) => {
                self.log = Some(log);
                Ok(())
            }
            Err(e) => {
                self.history.push(Op::LogUnrecoverable {
                    reason: error_chain(&e),
                });
                Err(Stop)
            }
        }
    }

    /// The broker machine loses power and restarts: what was not fsynced may
    /// be gone or torn.
    pub fn broker_crash(&mut self) -> Result<(), Stop> {
        self.log = None;
        self.broker_disk.sim.crash();
        self.open_log()
    }

    fn log(&self) -> &IdempotentLog<FaultDisk> {
        // `open_log` sets it, and every caller that fails to reopen stops.
        self.log
            .as_ref()
            .expect("the log is open while the schedule runs")
    }

    fn event_label(&mut self, id: EventId) -> u32 {
        label(&mut self.labels.events, id)
    }

    fn describe(&mut self, event: &IdentifiedEvent) -> EventInfo {
        let booking = label(&mut self.labels.bookings, event.event.booking_id());
        let kind = match &event.event {
            BookingEvent::ReservationRequested { seat_id, .. } => Kind::Request {
                seat: seat_id.as_str().to_owned(),
            },
            BookingEvent::PaymentReceived { .. } => Kind::Payment,
            BookingEvent::ReservationExpired { .. } => Kind::Expiry,
        };
        EventInfo {
            event: self.event_label(event.id),
            booking,
            kind,
        }
    }

    // ---- the booking service and its outbox (step 13) ----

    /// New requests, an expiry now and then, and payments of published
    /// requests through the gateway.
    pub fn service_round(&mut self) -> Result<(), Stop> {
        for _ in 0..self.rng.below(3) {
            let shard = self.rng.below(u64::from(PARTITIONS)) as usize;
            self.next_booking += 1;
            let booking_id =
                BookingId::from_uuid(Uuid::from_u64_pair(self.seed, self.next_booking));
            let seat = SEATS[self.rng.below(SEATS.len() as u64) as usize];
            let Ok(seat_id) = SeatId::parse(seat) else {
                return Err(self.failed(format!("{seat} is not a seat")));
            };
            let request = BookingEvent::ReservationRequested {
                booking_id,
                seat_id,
                user_id: UserId::new(),
            };
            // The shard refuses a seat it already holds: no row, nothing to
            // publish.
            if self.record(shard, &request)? {
                self.held.push((shard, booking_id));
            }
        }
        if !self.held.is_empty() && self.rng.one_in(4) {
            let (shard, booking_id) = self
                .held
                .swap_remove(self.rng.below(self.held.len() as u64) as usize);
            self.record(shard, &BookingEvent::ReservationExpired { booking_id })?;
        }
        let mut still = Vec::new();
        for (shard, booking_id) in std::mem::take(&mut self.payable) {
            if self.rng.one_in(2) {
                self.next_fresh_id += 1;
                let payment = IdentifiedEvent {
                    id: EventId::from_uuid(Uuid::from_u64_pair(
                        self.seed ^ 0x9a7,
                        self.next_fresh_id,
                    )),
                    event: BookingEvent::PaymentReceived { booking_id },
                };
                let info = self.describe(&payment);
                self.history.push(Op::Event(info.clone()));
                self.history.push(Op::GatewayAccepted {
                    partition: shard as u32,
                    event: info.event,
                });
                let partition = Partition(shard as u32);
                self.gateway.partition_of.insert(payment.id, partition);
                self.gateway.must_deliver.push((partition, payment));
            } else {
                still.push((shard, booking_id));
            }
        }
        self.payable = still;
        Ok(())
    }

    /// Records `event` in shard `shard`'s database and outbox; `false` if
    /// the service refused it.
    fn record(&mut self, shard: usize, event: &BookingEvent) -> Result<bool, Stop> {
        match self.services[shard].record(event) {
            Ok(row) => {
                let info = self.describe(&row.event);
                let label = info.event;
                self.history.push(Op::Event(info));
                self.history.push(Op::RowCommitted {
                    partition: shard as u32,
                    event: label,
                });
                Ok(true)
            }
            Err(_refused) => Ok(false),
        }
    }

    /// Relays run passes until the outbox is empty, each pass perhaps
    /// crashing at one of step 13's points, or the log's disk failing.
    pub fn relay_round(&mut self) -> Result<(), Stop> {
        for shard in 0..PARTITIONS as usize {
            for _ in 0..12 {
                let crash = if self.faults && self.rng.one_in(5) {
                    Some(
                        [
                            RelayCrash::BeforePublish,
                            RelayCrash::AfterPublish,
                            RelayCrash::AfterMark,
                        ][self.rng.below(3) as usize],
                    )
                } else {
                    None
                };
                if self.faults && self.rng.one_in(8) {
                    self.broker_disk.sim.fail_after(self.rng.below(3));
                }
                let partition = Partition(shard as u32);
                let bug = self.bug;
                let relay = self.relays[shard].get_or_insert_with(|| {
                    if bug == Some(Bug::MarkBeforePublish) {
                        AnyRelay::MarkFirst(MarkFirstRelay {
                            producer: IdempotentProducer::new(),
                            partition,
                            in_flight: None,
                        })
                    } else {
                        AnyRelay::Reference(Relay::new(RelayConfig {
                            partition,
                            max_in_flight: 4,
                            marks: MarkMode::Batched,
                        }))
                    }
                });
                let log = self
                    .log
                    .as_ref()
                    .expect("the log is open while the schedule runs");
                let pass = match relay {
                    AnyRelay::Reference(relay) => {
                        relay.run_once(&mut self.services[shard], log, crash)
                    }
                    AnyRelay::MarkFirst(relay) => {
                        relay.run_once(&mut self.services[shard], log, crash)
                    }
                };
                match pass {
                    Ok(Pass::Idle) => break,
                    Ok(Pass::Published { .. }) => self.note_marks(shard)?,
                    Ok(Pass::Crashed(point)) => {
                        self.fault(match point {
                            RelayCrash::BeforePublish => Fault::RelayCrashBeforePublish,
                            RelayCrash::AfterPublish => Fault::RelayCrashAfterPublish,
                            RelayCrash::AfterMark => Fault::RelayCrashAfterMark,
                        });
                        self.relays[shard] = None;
                        self.note_marks(shard)?;
                    }
                    Err(RelayError::Publish(ProduceError::Append(_))) => {
                        self.fault(Fault::LogCrashBeforeFsync);
                        self.broker_crash()?;
                    }
                    Err(e) => {
                        return Err(
                            self.failed(format!("a relay pass failed: {}", error_chain(&e)))
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// Records the rows the relay marked sent since the last look.
    fn note_marks(&mut self, shard: usize) -> Result<(), Stop> {
        let rows = match self.services[shard].rows() {
            Ok(rows) => rows,
            Err(e) => {
                return Err(self.failed(format!("the outbox did not read: {}", error_chain(&e))));
            }
        };
        for (row, sent) in rows {
            if sent && self.marked.insert(row.event.id) {
                let event = self.event_label(row.event.id);
                self.history.push(Op::RowMarked {
                    partition: shard as u32,
                    event,
                });
                if let BookingEvent::ReservationRequested { booking_id, .. } = row.event.event {
                    self.payable.push((shard, booking_id));
                }
            }
        }
        Ok(())
    }

    // ---- the payment gateway (steps 05 and 11) ----

    pub fn gateway_round(&mut self) -> Result<(), Stop> {
        if self.faults && self.rng.one_in(8) {
            self.fault(Fault::ProducerCrash);
            self.gateway.restart();
        }
        // Into the buffer, in order, until it is full.
        let waiting: Vec<IdentifiedEvent> = self
            .gateway
            .must_deliver
            .iter()
            .filter(|(_, event)| !self.gateway.in_flight.contains(&event.id))
            .map(|(_, event)| event.clone())
            .collect();
        for event in waiting {
            let record = Record::new(
                event.event.booking_id().as_uuid().to_string(),
                encode_identified(&event),
            );
            let before = self.gateway.buffer.buffered_bytes();
            let refused = match self.gateway.buffer.try_send(record) {
                Ok(()) => false,
                Err(BufferError::Full(_)) => true,
                Err(e) => {
                    return Err(self.failed(format!("the producer buffer refused a payment: {e}")));
                }
            };
            self.history.push(Op::Buffer {
                before,
                after: self.gateway.buffer.buffered_bytes(),
                capacity: self.gateway.buffer.capacity(),
                refused,
            });
            if refused {
                self.fault(Fault::ProducerBufferFull);
                break;
            }
            self.gateway.in_flight.insert(event.id);
        }
        // Out of the buffer into batches, one per partition.
        loop {
            let records = self.gateway.buffer.drain(BATCH_BYTES);
            if records.is_empty() {
                break;
            }
            let mut by_partition: Vec<(Partition, Vec<IdentifiedEvent>)> = Vec::new();
            for record in records {
                let Ok(event) = decode_identified(&record.value) else {
                    return Err(self.failed("a buffered payment did not decode".to_owned()));
                };
                let partition = self
                    .gateway
                    .partition_of
                    .get(&event.id)
                    .copied()
                    .unwrap_or(Partition(0));
                match by_partition.iter_mut().find(|(p, _)| *p == partition) {
                    Some((_, events)) => events.push(event),
                    None => by_partition.push((partition, vec![event])),
                }
            }
            for (partition, events) in by_partition {
                let batch = self.gateway.producer.batch(partition, events);
                self.gateway.unacked.push((partition, batch));
            }
        }
        // Send every unacknowledged batch, in order.
        let unacked = std::mem::take(&mut self.gateway.unacked);
        let mut still = Vec::new();
        let mut stop_sending = false;
        for (partition, batch) in unacked {
            if stop_sending {
                still.push((partition, batch));
                continue;
            }
            let producer = label(&mut self.labels.producers, batch.producer_id);
            let events: Vec<u32> = batch
                .events
                .iter()
                .map(|e| self.event_label(e.id))
                .collect();
            self.history.push(Op::Send {
                producer,
                partition: partition.0,
                first_sequence: batch.first_sequence.0,
                events,
            });
            if self.faults && self.rng.one_in(10) {
                self.broker_disk.sim.fail_after(self.rng.below(2));
            }
            match self.log().produce(partition, &batch) {
                Ok(ack) => {
                    if self.faults && self.rng.one_in(8) {
                        // The batch is in the log, the ack never arrives.
                        if self.rng.one_in(2) {
                            self.fault(Fault::LogCrashAfterFsync);
                            self.broker_crash()?;
                        } else {
                            self.fault(Fault::ProducerAckLost);
                        }
                        still.push((partition, batch));
                        stop_sending = true;
                        continue;
                    }
                    self.history.push(Op::Ack {
                        producer,
                        partition: partition.0,
                        first_sequence: ack.first_sequence.0,
                        offset: ack.offset.0,
                        durable: ack.durable,
                    });
                    let delivered: HashSet<EventId> = batch.events.iter().map(|e| e.id).collect();
                    self.gateway
                        .must_deliver
                        .retain(|(_, e)| !delivered.contains(&e.id));
                }
                Err(ProduceError::Append(_)) => {
                    self.fault(Fault::LogCrashBeforeFsync);
                    self.broker_crash()?;
                    still.push((partition, batch));
                    stop_sending = true;
                }
                Err(e) => {
                    return Err(self.failed(format!(
                        "the log refused a payment batch: {}",
                        error_chain(&e)
                    )));
                }
            }
        }
        self.gateway.unacked = still;
        Ok(())
    }

    pub fn gateway_idle(&self) -> bool {
        self.gateway.must_deliver.is_empty()
    }

    // ---- the consumers (steps 10, 11, 12) ----

    /// Reads the whole partition and records the read: the batches, and the
    /// events in the order a consumer gets them (offsets count events).
    fn read_partition(&mut self, partition: Partition) -> Result<Vec<IdentifiedEvent>, Stop> {
        let stored = match self.log().durable().read(partition, Offset(0), usize::MAX) {
            Ok(stored) => stored,
            Err(e) => return Err(self.failed(format!("the log did not read: {e}"))),
        };
        let mut batches = Vec::new();
        let mut events = Vec::new();
        for record in stored {
            let batch = match ProducerBatch::decode(&record.record.value) {
                Ok(batch) => batch,
                Err(e) => {
                    return Err(self.failed(format!(
                        "{partition}/{} is not a producer batch: {}",
                        record.offset,
                        error_chain(&e)
                    )));
                }
            };
            let producer = label(&mut self.labels.producers, batch.producer_id);
            batches.push(BatchSeen {
                offset: record.offset.0,
                producer,
                first_sequence: batch.first_sequence.0,
                events: batch
                    .events
                    .iter()
                    .map(|e| self.event_label(e.id))
                    .collect(),
            });
            events.extend(batch.events);
        }
        self.history.push(Op::LogRead {
            partition: partition.0,
            batches,
        });
        Ok(events)
    }

    pub fn log_reads(&mut self) -> Result<(), Stop> {
        for partition in (0..PARTITIONS).map(Partition) {
            self.read_partition(partition)?;
        }
        Ok(())
    }

    fn open_consumer(&mut self, partition: Partition) -> Result<ConsumerProcess, Stop> {
        let path = self.folder.path().join("consumer.sqlite");
        let db = match BookingDb::open(&path, db_config()) {
            Ok(db) => db,
            Err(e) => {
                return Err(self.failed(format!(
                    "the consumer database did not open: {}",
                    error_chain(&e)
                )));
            }
        };
        let store = match CommitStore::open(self.consumer_disk.clone(), &commit_dir(partition)) {
            Ok(store) => store,
            Err(e) => {
                return Err(self.failed(format!(
                    "the commit store did not open: {}",
                    error_chain(&e)
                )));
            }
        };
        let dead_letters = match DeadLetterTopic::open(
            self.consumer_disk.clone(),
            &dead_letter_dir(partition),
            log_config(),
        ) {
            Ok(topic) => topic,
            Err(e) => {
                return Err(self.failed(format!(
                    "the dead-letter topic did not open: {}",
                    error_chain(&e)
                )));
            }
        };
        Ok(ConsumerProcess {
            db,
            store,
            dead_letters,
            seen: HashSet::new(),
        })
    }

    /// One consumer session of `partition`: fetch, handle through step 12's
    /// worker, commit. Returns whether the partition is committed to its end.
    pub fn consume(&mut self, partition: Partition) -> Result<bool, Stop> {
        let mut process = match self.consumers[partition.index()].take() {
            Some(process) => process,
            None => self.open_consumer(partition)?,
        };
        self.sessions += 1;
        let session = self.sessions;
        let events = self.read_partition(partition)?;
        let resume = process.store.committed(partition).unwrap_or(Offset(0));
        self.history.push(Op::Resume {
            partition: partition.0,
            session,
            offset: resume.0,
        });
        let end = events.len() as u64;
        let mut limit = end;
        if self.faults && self.rng.one_in(4) {
            self.fault(Fault::SlowConsumer);
            limit = end.min(resume.0 + 1 + self.rng.below(2));
        }
        let topic = Log::new(PARTITIONS).expect("two partitions are valid");
        for event in events.iter().take(limit as usize) {
            let key = event.event.booking_id().as_uuid().to_string();
            if let Err(e) = topic.append(partition, Record::new(key, encode_identified(event))) {
                return Err(self.failed(format!("the consumer's view did not take a record: {e}")));
            }
        }
        if self.bug == Some(Bug::CommitBeforeEffect) && limit > resume.0 {
            // The bug: the fetched records are committed before they take
            // effect (an auto-commit on poll).
            self.commit(&mut process, partition, session, Offset(limit))?;
        }
        let crash = if self.faults && self.rng.one_in(3) {
            let at = self.rng.below(1 + limit.saturating_sub(resume.0)) as u32;
            Some(match self.rng.below(4) {
                0 => ConsumerCrash::BeforeEffect(at),
                1 => ConsumerCrash::AfterEffect(at),
                2 => ConsumerCrash::BeforeCommit,
                _ => ConsumerCrash::AfterCommit,
            })
        } else {
            None
        };
        let mut worker_rng = Xoshiro256PlusPlus::seed_from_u64(self.rng.next_u64());
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => return Err(self.failed(format!("no runtime for the consumer: {e}"))),
        };
        let mut handler = SimHandler {
            db: &mut process.db,
            seen: &mut process.seen,
            history: &mut self.history,
            labels: &mut self.labels,
            fates: &mut self.fates,
            rng: &mut self.rng,
            faults: self.faults,
            in_memory_dedupe: self.bug == Some(Bug::InMemoryDedupe),
            fresh: &mut self.next_fresh_id,
            seed: self.seed,
            crash,
            calls: 0,
            partition,
            session,
        };
        let dead_letters = &process.dead_letters;
        let run = panic::catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(run_partition(
                &topic,
                partition,
                resume,
                &mut handler,
                dead_letters,
                worker_config(),
                &mut worker_rng,
            ))
        }));
        drop(runtime);
        let report = match run {
            Ok(Ok(report)) => report,
            Ok(Err(e)) => {
                return Err(self.failed(format!("the worker failed: {}", error_chain(&e))));
            }
            Err(payload) if payload.is::<ProcessCrash>() => {
                // The process is gone: its connection (and any transaction
                // in it), its memory, its open files.
                drop(process);
                self.consumer_died();
                return Ok(false);
            }
            Err(payload) => {
                let what = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                return Err(self.failed(format!("the consumer panicked: {what}")));
            }
        };
        for offset in &report.dead_lettered {
            self.history.push(Op::DeadLettered {
                partition: partition.0,
                session,
                offset: offset.0,
            });
        }
        if crash == Some(ConsumerCrash::BeforeCommit) {
            self.fault(Fault::ConsumerCrashBeforeCommit);
            drop(process);
            self.consumer_died();
            return Ok(false);
        }
        if report.committed > resume {
            self.commit(&mut process, partition, session, report.committed)?;
        }
        if crash == Some(ConsumerCrash::AfterCommit) {
            self.fault(Fault::ConsumerCrashAfterCommit);
            drop(process);
            self.consumer_died();
            return Ok(false);
        }
        let caught_up = process.store.committed(partition).unwrap_or(Offset(0)).0 == end;
        self.consumers[partition.index()] = Some(process);
        Ok(caught_up)
    }

    fn commit(
        &mut self,
        process: &mut ConsumerProcess,
        partition: Partition,
        session: u32,
        offset: Offset,
    ) -> Result<(), Stop> {
        match process.store.store(partition, offset) {
            Ok(()) => {
                self.history.push(Op::Commit {
                    partition: partition.0,
                    session,
                    offset: offset.0,
                });
                Ok(())
            }
            Err(e) => Err(self.failed(format!(
                "the commit store refused {offset}: {}",
                error_chain(&e)
            ))),
        }
    }

    /// After a consumer process crash, sometimes the whole consumer machine
    /// lost power: every consumer restarts, from what its disk kept.
    fn consumer_died(&mut self) {
        if self.rng.one_in(2) {
            self.fault(Fault::ConsumerPowerCut);
            for consumer in &mut self.consumers {
                *consumer = None;
            }
            self.consumer_disk.sim.crash();
        }
    }

    /// Records what the dead-letter topics hold.
    pub fn read_dead_letters(&mut self) -> Result<(), Stop> {
        let mut entries = Vec::new();
        for partition in (0..PARTITIONS).map(Partition) {
            let process = match self.consumers[partition.index()].take() {
                Some(process) => process,
                None => self.open_consumer(partition)?,
            };
            match process.dead_letters.read(Offset(0), usize::MAX) {
                Ok(letters) => {
                    entries.extend(
                        letters
                            .iter()
                            .map(|(_, letter)| (letter.partition.0, letter.offset.0)),
                    );
                }
                Err(e) => {
                    return Err(self.failed(format!(
                        "the dead letters did not read: {}",
                        error_chain(&e)
                    )));
                }
            }
            self.consumers[partition.index()] = Some(process);
        }
        self.history.push(Op::DeadLetterTopic { entries });
        Ok(())
    }

    /// A power cut of the consumer machine, between rounds.
    pub fn consumer_power_cut(&mut self) {
        self.fault(Fault::ConsumerPowerCut);
        for consumer in &mut self.consumers {
            *consumer = None;
        }
        self.consumer_disk.sim.crash();
    }

    pub fn relays_idle(&mut self) -> Result<bool, Stop> {
        for shard in 0..PARTITIONS as usize {
            match self.services[shard].unsent(1) {
                Ok(rows) if rows.is_empty() => {}
                Ok(_) => return Ok(false),
                Err(e) => {
                    return Err(
                        self.failed(format!("the outbox did not read: {}", error_chain(&e)))
                    );
                }
            }
        }
        Ok(true)
    }
}

/// Step 11's handler (or the in-memory dedupe bug) behind the schedule's
/// faults: crashes before and after the effect, transient and permanent
/// errors. Records each delivery and each effect.
struct SimHandler<'a> {
    db: &'a mut BookingDb,
    seen: &'a mut HashSet<EventId>,
    history: &'a mut History,
    labels: &'a mut Labels,
    fates: &'a mut HashMap<EventId, Fate>,
    rng: &'a mut Seeded,
    faults: bool,
    in_memory_dedupe: bool,
    fresh: &'a mut u64,
    seed: u64,
    crash: Option<ConsumerCrash>,
    calls: u32,
    partition: Partition,
    session: u32,
}

impl SimHandler<'_> {
    fn deliver(&mut self, offset: Offset, event: u32, result: Delivery) {
        self.history.push(Op::Deliver {
            partition: self.partition.0,
            session: self.session,
            offset: offset.0,
            event,
            result,
        });
    }

    fn crash(&mut self, fault: Fault) -> ! {
        self.history.push(Op::Fault(fault));
        // `resume_unwind` does not call the panic hook: a planned crash
        // prints nothing.
        panic::resume_unwind(Box::new(ProcessCrash))
    }
}

impl Handler for SimHandler<'_> {
    fn handle(&mut self, offset: Offset, event: &IdentifiedEvent) -> Result<(), HandlerError> {
        let call = self.calls;
        self.calls += 1;
        if self.crash == Some(ConsumerCrash::BeforeEffect(call)) {
            self.crash(Fault::ConsumerCrashBeforeEffect);
        }
        let label = label(&mut self.labels.events, event.id);
        let fate = match self.fates.get(&event.id) {
            Some(fate) => *fate,
            None if self.faults => {
                let fate = Fate {
                    transient_left: if self.rng.one_in(3) {
                        1 + self.rng.below(2) as u32
                    } else {
                        0
                    },
                    permanent: self.rng.one_in(30),
                };
                self.fates.insert(event.id, fate);
                fate
            }
            None => Fate::default(),
        };
        if fate.permanent {
            self.history.push(Op::Fault(Fault::PermanentError));
            self.deliver(offset, label, Delivery::Permanent);
            return Err(HandlerError::Permanent {
                reason: "injected: this event can never be handled".to_owned(),
            });
        }
        if fate.transient_left > 0 {
            if let Some(fate) = self.fates.get_mut(&event.id) {
                fate.transient_left -= 1;
            }
            self.history.push(Op::Fault(Fault::TransientError));
            self.deliver(offset, label, Delivery::Transient);
            return Err(HandlerError::Transient {
                reason: "injected: the database connection dropped".to_owned(),
            });
        }
        let handled = if self.in_memory_dedupe {
            // The bug: which events were handled lives in memory only, and
            // the database is told nothing it could deduplicate by.
            if self.seen.contains(&event.id) {
                Ok(Handled::Duplicate(Outcome::Applied))
            } else {
                *self.fresh += 1;
                let disguised = IdentifiedEvent {
                    id: EventId::from_uuid(Uuid::from_u64_pair(self.seed ^ 0xdede, *self.fresh)),
                    event: event.event.clone(),
                };
                let handled = self.db.handle(offset, &disguised);
                if handled.is_ok() {
                    self.seen.insert(event.id);
                }
                handled
            }
        } else {
            self.db.handle(offset, event)
        };
        match handled {
            Ok(Handled::First(outcome)) => {
                self.deliver(offset, label, Delivery::Handled);
                let effect = match outcome {
                    Outcome::Applied => Effect::Applied,
                    Outcome::Refused { .. } => Effect::Refused,
                    Outcome::SeatTaken { .. } => Effect::SeatTaken,
                };
                self.history.push(Op::Applied {
                    event: label,
                    effect,
                });
            }
            Ok(Handled::Duplicate(_)) => {
                self.deliver(offset, label, Delivery::Handled);
                self.history.push(Op::Fault(Fault::DuplicateDelivery));
            }
            Err(error) => {
                let error = classify(&error);
                let result = match error {
                    HandlerError::Transient { .. } => Delivery::Transient,
                    HandlerError::Permanent { .. } => Delivery::Permanent,
                    HandlerError::NotRequestedYet { .. } => Delivery::NotRequestedYet,
                };
                self.deliver(offset, label, result);
                return Err(error);
            }
        }
        if self.crash == Some(ConsumerCrash::AfterEffect(call)) {
            self.crash(Fault::ConsumerCrashAfterEffect);
        }
        Ok(())
    }
}

/// An error and its sources, for a message that says everything.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
