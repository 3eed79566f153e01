//! The workload of the buses benchmark, shared by step 15's bench
//! (`buses.rs`) and step 16's (`solutions/16-kafka/benches/kafka.rs`, which
//! includes this file), so that every bus in both tables gets the very same
//! events, batches and measurement.
//!
//! Each run publishes 2,000 booking requests (each for its own seat) in
//! batches of 100 and lets the consumer, step 11's SQLite handler, catch up
//! after each batch. The latency of an event is from the start of its
//! publish to the end of its handling, so it includes waiting in its batch.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::{Duration, Instant};

use solution15_bridge::{
    BookingDb, BookingEvent, BookingId, BusConfig, DbConfig, Durability,
    EventBus, EventId, FsyncPolicy, Handler, HandlerError, IdentifiedEvent,
    JetStreamBus, LogBus, NatsCluster, NatsServer, Offset, ParkLimits,
    RetryPolicy, SeatId, UserId, WorkerConfig, connect_to_cluster,
};

pub const EVENTS: usize = 2_000;
pub const BATCH: usize = 100;

/// Step 11's handler, noting when each event was handled.
pub struct Timed {
    db: BookingDb,
    handled: HashMap<EventId, Instant>,
}

impl Handler for Timed {
    fn handle(
        &mut self,
        offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<(), HandlerError> {
        Handler::handle(&mut self.db, offset, event)?;
        self.handled.entry(event.id).or_insert_with(Instant::now);
        Ok(())
    }
}

pub fn events() -> Vec<IdentifiedEvent> {
    (0..EVENTS)
        .map(|n| {
            let row = char::from(b'A' + u8::try_from(n / 999).unwrap_or(0));
            let seat = SeatId::parse(&format!("{row}{}", n % 999 + 1))
                .expect("the bench's seats are valid");
            IdentifiedEvent::new(BookingEvent::ReservationRequested {
                booking_id: BookingId::new(),
                seat_id: seat,
                user_id: UserId::new(),
            })
        })
        .collect()
}

pub struct Figures {
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

pub async fn run<B: EventBus>(bus: &mut B, dir: &Path) -> Figures {
    let config = DbConfig {
        durability: Durability::SurvivesProcessCrash,
        ..DbConfig::default()
    };
    std::fs::create_dir_all(dir).expect("a folder for the database");
    let db = BookingDb::open(&dir.join("bookings.sqlite"), config)
        .expect("the booking database opens");
    let mut handler = Timed {
        db,
        handled: HashMap::new(),
    };
    let events = events();
    let mut published = HashMap::new();
    let started = Instant::now();
    for batch in events.chunks(BATCH) {
        for event in batch {
            published.insert(event.id, Instant::now());
            bus.publish(event).await.expect("a publish");
        }
        bus.run_until_idle(&mut handler).await.expect("consuming");
    }
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = published
        .iter()
        .map(|(id, at)| {
            let handled = handler.handled.get(id).expect("every event handled");
            handled.duration_since(*at)
        })
        .collect();
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64) * q) as usize;
        latencies[index.min(latencies.len() - 1)]
    };
    Figures {
        per_second: EVENTS as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

pub fn log_bus(dir: &Path, fsync: FsyncPolicy) -> LogBus {
    let worker = WorkerConfig {
        retry: RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
        },
        park: ParkLimits {
            max_per_booking: 4,
            max_wait: Duration::from_secs(5),
        },
    };
    LogBus::open(dir, NonZeroU32::MIN, fsync, worker, 1).expect("the log opens")
}

pub fn print(name: &str, figures: &Figures) {
    println!(
        "| {name:<34} | {:>9.0} | {:>8.1} | {:>8.1} |",
        figures.per_second,
        figures.p50.as_secs_f64() * 1e3,
        figures.p99.as_secs_f64() * 1e3
    );
}

/// The table's title and header.
pub fn print_header() {
    println!(
        "{EVENTS} requests, published in batches of {BATCH}, each batch \
         consumed before the next\n"
    );
    println!(
        "| bus                                | events/s | p50 (ms) | p99 (ms) |"
    );
    println!(
        "|------------------------------------|---------:|---------:|---------:|"
    );
}

/// Step 15's rows: the durable log (fsync every record, and never), one
/// JetStream server, and a three-node cluster with three replicas. `dir`
/// holds their logs, stores and booking databases.
pub async fn step15_rows(dir: &Path) {
    let mut every = log_bus(&dir.join("log-every"), FsyncPolicy::EveryRecord);
    let figures = run(&mut every, &dir.join("log-every")).await;
    print("durable log, fsync every record", &figures);

    let mut never = log_bus(&dir.join("log-never"), FsyncPolicy::Never);
    let figures = run(&mut never, &dir.join("log-never")).await;
    print("durable log, no fsync", &figures);

    let server = NatsServer::start().expect("nats-server starts");
    let single = BusConfig {
        partitions: NonZeroU32::MIN,
        ..BusConfig::new()
    };
    let mut bus = JetStreamBus::connect(&server.url(), single, 1)
        .await
        .expect("connecting to the server");
    let figures = run(&mut bus, &dir.join("single")).await;
    print("JetStream, one server (R1)", &figures);
    drop(server);

    let cluster = NatsCluster::start().expect("the cluster starts");
    let replicated = BusConfig {
        replicas: 3,
        ..single
    };
    let mut bus = connect_to_cluster(&cluster, replicated)
        .await
        .expect("connecting to the cluster");
    let figures = run(&mut bus, &dir.join("cluster")).await;
    print("JetStream, three nodes (R3)", &figures);
}
