//! Step 16 with steps 10-15: the same booking service on a Kafka-protocol
//! broker, and what a crash or a rebalance does to it.
//!
//! - One scenario on step 10's durable log, on JetStream and on tansu gives
//!   the same bookings, with step 11's handler unchanged.
//! - The broker killed with SIGKILL while an idempotent producer has records
//!   in flight, and restarted on the same store: every record is stored
//!   exactly once, and the records and the group's committed offsets from
//!   before the crash are still there.
//! - A consumer that dies between the effect and the commit: the record
//!   comes back, and step 11's dedupe absorbs it.
//! - Two consumers in one group split the partitions; when one leaves, the
//!   other takes its partitions over from their last commit, so whatever it
//!   handled and had not committed comes back, and the dedupe absorbs it.
//!
//! Every test starts its own `tansu` broker (see solution16_kafka::broker);
//! without one installed they fail with the line that says how to get it
//! (the last test checks that line).
//! Kafka clients reconnect and rejoin in seconds, so every wait here polls a
//! condition under a generous deadline.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cross_step_tests::bookings::{
    db, jetstream_bus, log_bus, request, retry, run_scenario, scenario,
};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use solution15_bridge::NatsServer;
use solution16_kafka::rdkafka::Message;
use solution16_kafka::rdkafka::consumer::Consumer;
use solution16_kafka::{
    BookingDb, BookingId, BrokerError, EventBus, EventHandler, EventId, Handled, Handler,
    HandlerError, IdentifiedEvent, KafkaBus, KafkaConfig, Offset, Partition, Progress, TansuBroker,
    classify, decode_identified, harness, partition_of, publish, read_topic,
};

/// How long a reconnect, a rejoin or a catch-up may take before a test
/// gives up: reconnects to a restarted broker took 2 to 13 s.
const PATIENCE: Duration = Duration::from_secs(60);

/// `count` booking requests, two for each seat `{row}1`, `{row}2`, ...
/// (up to 999 seats a row, then the next row): exactly one of each pair
/// may get its seat.
fn contested(row: char, count: usize) -> Vec<IdentifiedEvent> {
    (0..count)
        .map(|n| {
            let seat = n / 2;
            let row = u8::try_from(seat / 999)
                .ok()
                .and_then(|more| u8::try_from(row).ok()?.checked_add(more))
                .map(char::from)
                .expect("the tests' rows stay within A-Z");
            request(BookingId::new(), &format!("{row}{}", seat % 999 + 1))
        })
        .collect()
}

/// A fresh broker: without tansu, the one line that says how to get it.
fn broker() -> TansuBroker {
    TansuBroker::start().unwrap_or_else(|e| panic!("{e}"))
}

fn config(broker: &TansuBroker, partitions: u32) -> KafkaConfig {
    KafkaConfig {
        partitions: NonZeroU32::new(partitions).expect("at least 1 partition"),
        retry: retry(),
        // The producer keeps retrying a record for this long, across a
        // broker restart.
        message_timeout: PATIENCE,
        ..KafkaConfig::new(broker.address())
    }
}

/// The group's progress, asked again while the broker is not answering
/// (just restarted, or still electing the group's coordinator).
async fn progress_of(bus: &KafkaBus) -> Progress {
    let started = Instant::now();
    loop {
        match bus.progress() {
            Ok(progress) => return progress,
            Err(_) if started.elapsed() < PATIENCE => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the group's progress: {e} ({e:?})"),
        }
    }
}

/// How many seats have a live (held or confirmed) booking, and the seats
/// that have more than one: sold twice.
fn seats_sold(db: &BookingDb) -> (usize, BTreeMap<String, usize>) {
    let snapshot = db.snapshot().expect("a snapshot");
    let mut live_per_seat: BTreeMap<String, usize> = BTreeMap::new();
    for booking in snapshot.bookings.values() {
        if booking.starts_with("held") || booking.starts_with("confirmed") {
            let seat = booking.split(' ').nth(2).unwrap_or_default().to_owned();
            *live_per_seat.entry(seat).or_default() += 1;
        }
    }
    let seats = live_per_seat.len();
    live_per_seat.retain(|_, live| *live > 1);
    (seats, live_per_seat)
}

// ---- the same scenario on three buses ----------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_scenario_gives_the_same_bookings_on_the_log_on_jetstream_and_on_kafka() {
    // One partition: across partitions, which of two bookings gets a
    // contested seat depends on the order the consumer takes them in, on any
    // log or broker.
    let partitions = NonZeroU32::MIN;
    let events = scenario('K');

    let log_dir = tempfile::tempdir().expect("a folder for the log");
    let mut log_bus = log_bus(log_dir.path(), partitions);
    let log_db_dir = tempfile::tempdir().expect("a folder");
    let mut on_log = db(&log_db_dir);
    run_scenario(&mut log_bus, &events, &mut on_log).await;

    let server = NatsServer::start().unwrap_or_else(|e| panic!("{e}"));
    let mut jetstream = jetstream_bus(&server, partitions).await;
    let js_db_dir = tempfile::tempdir().expect("a folder");
    let mut on_jetstream = db(&js_db_dir);
    run_scenario(&mut jetstream, &events, &mut on_jetstream).await;

    let broker = broker();
    let mut kafka = KafkaBus::connect_assigned(config(&broker, 1), 1)
        .await
        .unwrap_or_else(|e| panic!("connecting to tansu: {e} ({e:?})"));
    let kafka_db_dir = tempfile::tempdir().expect("a folder");
    let mut on_kafka = db(&kafka_db_dir);
    run_scenario(&mut kafka, &events, &mut on_kafka).await;

    let on_log = on_log.snapshot().expect("a snapshot");
    let on_jetstream = on_jetstream.snapshot().expect("a snapshot");
    let on_kafka = on_kafka.snapshot().expect("a snapshot");
    assert_eq!(
        on_log.processed.len(),
        events.len() - 1,
        "the event published twice under one id is processed once"
    );
    assert_eq!(
        on_jetstream.bookings, on_log.bookings,
        "step 11's handler, unchanged, must end with the same bookings on \
         JetStream as on the durable log"
    );
    assert_eq!(
        on_kafka.bookings, on_log.bookings,
        "step 11's handler, unchanged, must end with the same bookings on the \
         Kafka-protocol broker as on the durable log"
    );
    assert_eq!(
        on_kafka.processed, on_log.processed,
        "and with the same outcome for every event id"
    );
    assert_eq!(
        kafka.progress().expect("the group's progress").lag(),
        0,
        "every record is committed at the end"
    );
}

// ---- the broker killed mid-produce -------------------------------------

/// Step 11's handler, unchanged, with a count of first deliveries and of the
/// repeats its dedupe absorbed, and the offsets it saw on each partition.
struct Counting {
    db: BookingDb,
    partitions: NonZeroU32,
    first: usize,
    duplicates: Vec<EventId>,
    seen: BTreeMap<Partition, Vec<Offset>>,
}

impl Counting {
    fn new(db: BookingDb, partitions: NonZeroU32) -> Counting {
        Counting {
            db,
            partitions,
            first: 0,
            duplicates: Vec::new(),
            seen: BTreeMap::new(),
        }
    }
}

impl Handler for Counting {
    fn handle(&mut self, offset: Offset, event: &IdentifiedEvent) -> Result<(), HandlerError> {
        // The partition the record is on: the producer chose it with step
        // 03's partitioner, so the handler can tell it from the key too.
        let partition = partition_of(&event.event, self.partitions);
        self.seen.entry(partition).or_default().push(offset);
        match EventHandler::handle(&mut self.db, offset, event) {
            Ok(Handled::First(_)) => self.first += 1,
            Ok(Handled::Duplicate(_)) => self.duplicates.push(event.id),
            Err(error) => return Err(classify(&error)),
        }
        Ok(())
    }
}

const BEFORE_CRASH: usize = 100;
const IN_CRASH: usize = 3_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_killed_mid_produce_stores_every_record_once_and_keeps_the_commits() {
    let broker = Arc::new(Mutex::new(broker()));
    let config = config(&broker.lock().unwrap_or_else(PoisonError::into_inner), 3);
    let mut bus = KafkaBus::connect_assigned(config.clone(), 7)
        .await
        .unwrap_or_else(|e| panic!("connecting: {e} ({e:?})"));
    let dir = tempfile::tempdir().expect("a folder");
    let mut handler = Counting::new(db(&dir), config.partitions);

    // Before the crash: records published and handled, offsets committed.
    let early = contested('A', BEFORE_CRASH);
    for event in &early {
        bus.publish(event)
            .await
            .unwrap_or_else(|e| panic!("publishing before the crash: {e}"));
    }
    bus.run_until_idle(&mut handler)
        .await
        .unwrap_or_else(|e| panic!("consuming before the crash: {e}"));
    let committed_before = progress_of(&bus).await;
    assert_eq!(committed_before.lag(), 0, "all handled before the crash");

    // Every record handed to the producer at once, so that thousands are
    // queued or on the wire when the broker dies: the broker is killed
    // once a quarter of them are stored, and restarted on the same port and
    // store half a second later.
    let late = contested('B', IN_CRASH);
    let stored = Arc::new(AtomicUsize::new(0));
    let killer = {
        let broker = Arc::clone(&broker);
        let stored = Arc::clone(&stored);
        std::thread::spawn(move || {
            let started = Instant::now();
            while stored.load(Ordering::SeqCst) < IN_CRASH / 4 {
                assert!(started.elapsed() < PATIENCE, "the producer never got going");
                std::thread::sleep(Duration::from_millis(1));
            }
            let mut broker = broker.lock().unwrap_or_else(PoisonError::into_inner);
            broker.kill().unwrap_or_else(|e| panic!("killing: {e}"));
            let killed_at = stored.load(Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(500));
            broker
                .restart()
                .unwrap_or_else(|e| panic!("restarting the broker: {e}"));
            killed_at
        })
    };
    let started = Instant::now();
    let mut in_flight: FuturesUnordered<_> = late
        .iter()
        .map(|event| publish(bus.producer(), &config, event))
        .collect();
    let mut failed = Vec::new();
    while let Some(answer) = in_flight.next().await {
        match answer {
            Ok(_) => {
                stored.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    let produced_in = started.elapsed();
    drop(in_flight);
    let killed_at = killer.join().expect("the killer thread finished");
    assert!(
        failed.is_empty(),
        "the idempotent producer retries across the restart until \
         message.timeout.ms: no publish may fail, but {} did: {:?}",
        failed.len(),
        failed.first()
    );
    assert!(
        killed_at < IN_CRASH,
        "the broker must die with records still in flight (it died after \
         {killed_at} of {IN_CRASH} were stored)"
    );

    // Exactly once in the log: every event id once, no gap, no repeat.
    let records = read_topic(&config.bootstrap, &config.topic)
        .await
        .unwrap_or_else(|e| panic!("reading the topic back: {e} ({e:?})"));
    let mut copies: HashMap<String, usize> = HashMap::new();
    for record in &records {
        let id = record
            .header(solution16_kafka::EVENT_ID_HEADER)
            .expect("every record carries its event id");
        *copies.entry(id).or_default() += 1;
    }
    let repeated = copies.values().filter(|&&n| n > 1).count();
    assert_eq!(
        repeated, 0,
        "a record the producer sent again after the restart must not be \
         stored twice: the broker keeps the producer's id and sequence \
         numbers in its store (enable.idempotence=true)"
    );
    assert_eq!(
        records.len(),
        BEFORE_CRASH + IN_CRASH,
        "every record published before and during the crash is stored once"
    );
    for event in early.iter().chain(&late) {
        assert!(
            copies.contains_key(&event.id.to_string()),
            "event {} was acknowledged, so it must be in the topic after the \
             restart",
            event.id
        );
    }

    // The group's commits from before the crash survived it.
    let after = progress_of(&bus).await;
    for before in &committed_before.partitions {
        assert_eq!(
            after.committed(before.partition),
            Some(before.committed),
            "the group's committed offset of {:?} must survive the crash",
            before.partition
        );
    }

    // And the consumer takes up from there: nothing handled twice.
    let mut caught_up = false;
    let started_consuming = Instant::now();
    while !caught_up {
        assert!(
            started_consuming.elapsed() < PATIENCE,
            "the consumer did not catch up within {PATIENCE:?}"
        );
        match bus.run_until_idle(&mut handler).await {
            Ok(_) => caught_up = progress_of(&bus).await.lag() == 0,
            // A fetch or commit may still fail just after the restart.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    assert_eq!(
        handler.first,
        BEFORE_CRASH + IN_CRASH,
        "every event handled once"
    );
    assert!(
        handler.duplicates.is_empty(),
        "the commits from before the crash hold, so nothing comes back: {} \
         repeats",
        handler.duplicates.len()
    );
    let (seats, sold_twice) = seats_sold(&handler.db);
    assert_eq!(seats, (BEFORE_CRASH + IN_CRASH) / 2, "every seat is taken");
    assert!(sold_twice.is_empty(), "no seat sold twice: {sold_twice:?}");
    println!(
        "broker killed after {killed_at} of {IN_CRASH} records were stored; \
         all {IN_CRASH} stored once after {produced_in:?}"
    );
}

// ---- a consumer that dies between the effect and the commit ------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_that_dies_before_its_commit_gets_the_record_again_and_the_dedupe_absorbs_it() {
    let broker = broker();
    let config = config(&broker, 3);
    let dir = tempfile::tempdir().expect("a folder");
    let mut handler = Counting::new(db(&dir), config.partitions);
    let events = contested('C', 20);

    let mut first = KafkaBus::connect_assigned(config.clone(), 1)
        .await
        .unwrap_or_else(|e| panic!("connecting: {e} ({e:?})"));
    for event in &events {
        first
            .publish(event)
            .await
            .unwrap_or_else(|e| panic!("publishing: {e}"));
    }
    // Ten records handled and committed, as the bus does.
    let mut settled = 0;
    let started = Instant::now();
    while settled < 10 {
        assert!(
            started.elapsed() < PATIENCE,
            "ten records within {PATIENCE:?}"
        );
        let reply = first
            .poll_once(&mut handler, Duration::from_millis(100))
            .await
            .unwrap_or_else(|e| panic!("delivering: {e}"));
        settled += usize::from(reply.is_some());
    }
    // The eleventh: its effect is stored, then the consumer dies before
    // its commit (dropped without committing).
    let message = harness::next_record(first.consumer()).await;
    let event = decode_identified(message.payload().unwrap_or_default()).expect("a booking event");
    let offset = Offset(harness::offset_of(&message));
    handler
        .handle(offset, &event)
        .unwrap_or_else(|e| panic!("handling the eleventh: {e:?}"));
    let crashed_partition = u32::try_from(message.partition()).expect("a partition");
    let committed = first.progress().expect("the group's progress");
    drop(first);
    assert_eq!(
        committed.committed(Partition(crashed_partition)),
        Some(offset),
        "the record whose commit was lost is the next one of its partition"
    );

    // A new consumer in the same group starts from the commits.
    let mut second = KafkaBus::connect_assigned(config.clone(), 2)
        .await
        .unwrap_or_else(|e| panic!("connecting again: {e} ({e:?})"));
    second
        .run_until_idle(&mut handler)
        .await
        .unwrap_or_else(|e| panic!("consuming: {e}"));
    assert_eq!(
        handler.duplicates,
        vec![event.id],
        "exactly the record handled and not committed comes back, and the \
         handler's dedupe (step 11) absorbs it"
    );
    assert_eq!(
        handler.first,
        events.len(),
        "every event has its effect once"
    );
    let (seats, sold_twice) = seats_sold(&handler.db);
    assert_eq!(seats, events.len() / 2, "every seat is taken");
    assert!(sold_twice.is_empty(), "no seat sold twice: {sold_twice:?}");
    assert_eq!(
        second.progress().expect("the group's progress").lag(),
        0,
        "and in the end everything is committed"
    );
}

// ---- a rebalance with records in flight --------------------------------

/// The partitions `bus`'s consumer owns now.
fn owned(bus: &KafkaBus) -> BTreeSet<i32> {
    bus.consumer()
        .assignment()
        .map(|list| list.elements().iter().map(|e| e.partition()).collect())
        .unwrap_or_default()
}

/// Polls `bus` without taking any record (there is none yet), so that its
/// client serves the group's rebalance.
async fn serve_group(bus: &KafkaBus) {
    let record = harness::record_within(bus.consumer(), Duration::from_millis(20)).await;
    assert!(record.is_none(), "no record is published yet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_leaving_its_group_hands_its_partitions_over_from_the_last_commit() {
    let broker = broker();
    let config = config(&broker, 3);
    let all: BTreeSet<i32> = (0..3).collect();

    // Two members of one group (subscribe, not assign) split the three
    // partitions between them.
    let mut leaving = KafkaBus::connect(config.clone(), 1)
        .await
        .unwrap_or_else(|e| panic!("connecting: {e} ({e:?})"));
    let mut staying = KafkaBus::connect(config.clone(), 2)
        .await
        .unwrap_or_else(|e| panic!("connecting: {e} ({e:?})"));
    let started = Instant::now();
    loop {
        serve_group(&leaving).await;
        serve_group(&staying).await;
        let (mine, theirs) = (owned(&leaving), owned(&staying));
        if !mine.is_empty() && !theirs.is_empty() {
            let both: BTreeSet<i32> = mine.union(&theirs).copied().collect();
            assert!(
                mine.is_disjoint(&theirs) && both == all,
                "two members of a group own every partition, each once: \
                 {mine:?} and {theirs:?}"
            );
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the group did not split the partitions within {PATIENCE:?}: \
             {mine:?} and {theirs:?}"
        );
    }
    let joined_in = started.elapsed();
    let leaving_owns = owned(&leaving);

    // Ten records on every partition, two requests for each seat.
    let mut events = Vec::new();
    let mut per_partition = [0; 3];
    let mut n = 0;
    while per_partition.iter().any(|&count| count < 10) {
        n += 1;
        let event = request(BookingId::new(), &format!("D{}", n / 2 + 1));
        let partition = partition_of(&event.event, config.partitions).0;
        let slot = &mut per_partition[usize::try_from(partition).expect("small")];
        if *slot < 10 {
            *slot += 1;
            events.push(event);
        }
    }
    for event in &events {
        leaving
            .publish(event)
            .await
            .unwrap_or_else(|e| panic!("publishing: {e}"));
    }

    // The leaving member handles and commits four records, then handles
    // three more without committing them: in flight when it leaves.
    let dir = tempfile::tempdir().expect("a folder");
    let mut handler = Counting::new(db(&dir), config.partitions);
    let mut settled = 0;
    let started = Instant::now();
    while settled < 4 {
        assert!(
            started.elapsed() < PATIENCE,
            "four records within {PATIENCE:?}"
        );
        let reply = leaving
            .poll_once(&mut handler, Duration::from_millis(100))
            .await
            .unwrap_or_else(|e| panic!("delivering: {e}"));
        settled += usize::from(reply.is_some());
    }
    let mut in_flight = Vec::new();
    for _ in 0..3 {
        let message = harness::next_record(leaving.consumer()).await;
        let event =
            decode_identified(message.payload().unwrap_or_default()).expect("a booking event");
        handler
            .handle(Offset(harness::offset_of(&message)), &event)
            .unwrap_or_else(|e| panic!("handling: {e:?}"));
        in_flight.push(event.id);
    }
    let committed = progress_of(&leaving).await;
    handler.seen.clear();
    drop(leaving);

    // The member that stays gets every partition, and reads the leaver's
    // from their last commit.
    let left_at = Instant::now();
    let mut taken_over = None;
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < PATIENCE,
            "the staying member did not catch up within {PATIENCE:?}"
        );
        let reply = staying
            .poll_once(&mut handler, Duration::from_millis(50))
            .await
            .unwrap_or_else(|e| panic!("delivering: {e}"));
        if taken_over.is_none() && owned(&staying) == all {
            taken_over = Some(left_at.elapsed());
        }
        if reply.is_none() && taken_over.is_some() && progress_of(&staying).await.lag() == 0 {
            break;
        }
    }
    for partition in &leaving_owns {
        let partition = Partition(u32::try_from(*partition).expect("small"));
        let first_read = handler
            .seen
            .get(&partition)
            .and_then(|offsets| offsets.first())
            .copied();
        assert_eq!(
            first_read,
            committed.committed(partition),
            "the new owner of {partition:?} starts at its last committed \
             offset, not where the leaver's reading had got to"
        );
    }
    let mut absorbed = handler.duplicates.clone();
    absorbed.sort();
    in_flight.sort();
    assert_eq!(
        absorbed, in_flight,
        "the records the leaver handled and never committed come back to the \
         new owner, and only those; the dedupe absorbs them"
    );
    assert_eq!(
        handler.first,
        events.len(),
        "every event has its effect once"
    );
    let (_, sold_twice) = seats_sold(&handler.db);
    assert!(sold_twice.is_empty(), "no seat sold twice: {sold_twice:?}");
    println!(
        "the group split 3 partitions after {joined_in:?}; the staying member \
         owned all of them {:?} after the other left",
        taken_over.unwrap_or_default()
    );
}

#[test]
fn a_missing_tansu_is_one_line_that_says_how_to_install_it() {
    let missing = std::path::Path::new("/nowhere/tansu");
    let error = match TansuBroker::start_with(missing) {
        Ok(_) => panic!("a broker that does not exist cannot start"),
        Err(error) => error,
    };
    let message = error.to_string();
    assert!(
        matches!(error, BrokerError::NotInstalled),
        "a missing program is NotInstalled, not a spawn or connection error: \
         {error:?}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
    for how in [
        "cargo install tansu --version 0.6.0 --locked --features libsql",
        "10 minutes",
        "TANSU",
    ] {
        assert!(
            message.contains(how),
            "the message names `{how}`: {message}"
        );
    }
}
