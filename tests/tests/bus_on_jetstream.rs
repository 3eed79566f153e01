//! Step 15 with steps 11-13: one booking service, two buses, and a broker
//! that dies.
//!
//! - The same scenario on step 10's durable log and on a real JetStream
//!   server gives the same bookings, with step 11's handler unchanged.
//! - A JetStream server killed with SIGKILL while events are published and
//!   consumed, and restarted on the same store: no event the server
//!   acknowledged to the publisher is lost, whatever was delivered and not
//!   acknowledged comes back, the handler's dedupe absorbs the repeats, and
//!   no seat is sold twice.
//!
//! Every test starts its own `nats-server` (see solution15_bridge::server);
//! without one installed they fail with the line that says how to get it.

use std::collections::{BTreeMap, HashSet};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cross_step_tests::bookings::{
    db, jetstream_bus, log_bus, request, retry, run_scenario, scenario,
};
use solution15_bridge::{
    BookingDb, BookingId, BusConfig, EventHandler, EventId, Handled, Handler, HandlerError,
    IdentifiedEvent, JetStreamBus, NatsCluster, NatsServer, Offset, ServerError,
    bookings_through_a_leader_kill, classify, publish,
};

/// The scenario, built once per test binary so that both buses get the very
/// same events and ids.
fn scenario_events() -> &'static [IdentifiedEvent] {
    static EVENTS: std::sync::OnceLock<Vec<IdentifiedEvent>> = std::sync::OnceLock::new();
    EVENTS.get_or_init(|| scenario('B'))
}

#[tokio::test]
async fn the_same_scenario_gives_the_same_bookings_on_the_durable_log_and_on_jetstream() {
    // One partition: across partitions, which of two bookings gets a
    // contested seat depends on the order the consumer takes them in, on any
    // log or broker.
    let partitions = NonZeroU32::MIN;
    let log_dir = tempfile::tempdir().expect("a folder for the log");
    let mut log_bus = log_bus(log_dir.path(), partitions);
    let log_db_dir = tempfile::tempdir().expect("a folder");
    let mut on_log = db(&log_db_dir);
    run_scenario(&mut log_bus, scenario_events(), &mut on_log).await;

    let server = NatsServer::start().unwrap_or_else(|e| panic!("{e}"));
    let mut jetstream = jetstream_bus(&server, partitions).await;
    let js_db_dir = tempfile::tempdir().expect("a folder");
    let mut on_jetstream = db(&js_db_dir);
    run_scenario(&mut jetstream, scenario_events(), &mut on_jetstream).await;

    let on_log = on_log.snapshot().expect("a snapshot");
    let on_jetstream = on_jetstream.snapshot().expect("a snapshot");
    assert_eq!(
        on_jetstream.bookings, on_log.bookings,
        "step 11's handler, unchanged, must end with the same bookings on both buses"
    );
    assert_eq!(
        on_jetstream.processed, on_log.processed,
        "and with the same outcome for every event id"
    );
    assert_eq!(
        on_log.processed.len(),
        scenario_events().len() - 1,
        "the event published twice under one id is processed once"
    );
}

/// Step 11's handler, unchanged, with a count of first deliveries and of the
/// repeats its dedupe absorbed.
struct Counting {
    db: BookingDb,
    first: Arc<AtomicUsize>,
    duplicates: usize,
}

impl Handler for Counting {
    fn handle(&mut self, offset: Offset, event: &IdentifiedEvent) -> Result<(), HandlerError> {
        match EventHandler::handle(&mut self.db, offset, event) {
            Ok(Handled::First(_)) => {
                self.first.fetch_add(1, Ordering::SeqCst);
            }
            Ok(Handled::Duplicate(_)) => self.duplicates += 1,
            Err(error) => return Err(classify(&error)),
        }
        Ok(())
    }
}

const CRASH_EVENTS: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_killed_mid_stream_loses_no_acknowledged_event_and_sells_no_seat_twice() {
    let server = NatsServer::start().unwrap_or_else(|e| panic!("{e}"));
    let url = server.url();
    let server = Arc::new(Mutex::new(server));
    let config = BusConfig {
        partitions: NonZeroU32::new(4).expect("4 is not 0"),
        retry: retry(),
        // Whatever was delivered and not acked when the server died comes
        // back one second after the restart.
        ack_wait: Duration::from_secs(1),
        ..BusConfig::new()
    };
    let mut bus = JetStreamBus::connect(&url, config, 3)
        .await
        .unwrap_or_else(|e| panic!("connecting: {e}"));
    // Two bookings want each seat: exactly one of them may get it.
    let events: Vec<IdentifiedEvent> = (0..CRASH_EVENTS)
        .map(|n| request(BookingId::new(), &format!("C{}", n / 2 + 1)))
        .collect();

    // The publisher: each event until the server acknowledges it, always
    // with the same id.
    let acknowledged = Arc::new(Mutex::new(Vec::<EventId>::new()));
    let publisher = {
        let jetstream = bus.context().clone();
        let acknowledged = Arc::clone(&acknowledged);
        let events = events.clone();
        tokio::spawn(async move {
            for event in &events {
                let deadline = Instant::now() + Duration::from_secs(30);
                loop {
                    match publish(&jetstream, event, config.partitions).await {
                        Ok(_) => break,
                        // Refused or unanswered while the server is down:
                        // the same event, the same id, again.
                        Err(_) if Instant::now() < deadline => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        Err(error) => panic!("a publish failed for 30 s: {error}"),
                    }
                }
                acknowledged
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(event.id);
            }
        })
    };

    // The broker's crash: SIGKILL once a third of the events is handled,
    // then a restart on the same port and store.
    let handled = Arc::new(AtomicUsize::new(0));
    let restarted = Arc::new(AtomicBool::new(false));
    let killer = {
        let server = Arc::clone(&server);
        let handled = Arc::clone(&handled);
        let restarted = Arc::clone(&restarted);
        std::thread::spawn(move || {
            let started = Instant::now();
            while handled.load(Ordering::SeqCst) < CRASH_EVENTS / 3 {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "the consumer never got going"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
            let mut server = server.lock().unwrap_or_else(PoisonError::into_inner);
            server.kill();
            std::thread::sleep(Duration::from_millis(300));
            server
                .restart()
                .unwrap_or_else(|e| panic!("restarting the server: {e}"));
            restarted.store(true, Ordering::SeqCst);
        })
    };

    let dir = tempfile::tempdir().expect("a folder");
    let mut handler = Counting {
        db: db(&dir),
        first: Arc::clone(&handled),
        duplicates: 0,
    };
    let started = Instant::now();
    let mut errors = 0;
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the consumer did not catch up within 60 s: {} of {CRASH_EVENTS} handled",
            handled.load(Ordering::SeqCst)
        );
        match bus.fetch_once(&mut handler).await {
            Ok((_, 0)) => {
                let handled_all = publisher.is_finished()
                    && restarted.load(Ordering::SeqCst)
                    && handled.load(Ordering::SeqCst) >= CRASH_EVENTS;
                // Every event handled once is not the end yet: acks the
                // crash swallowed leave deliveries pending on the server,
                // which come back after AckWait and are acked then (as
                // duplicates). Done is when the server has nothing left.
                if handled_all
                    && bus
                        .progress()
                        .await
                        .is_ok_and(|progress| progress.lag == 0 && progress.in_flight == 0)
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok(_) => {}
            // While the server is down, fetches and acks fail: the client
            // reconnects by itself, and what was not acked comes back.
            Err(_) => {
                errors += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    publisher.await.expect("the publisher finished");
    killer.join().expect("the killer thread finished");

    let acknowledged = acknowledged
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    assert_eq!(
        acknowledged.len(),
        CRASH_EVENTS,
        "every event was acknowledged in the end"
    );
    for id in &acknowledged {
        let outcome = handler.db.outcome(*id).expect("the database answers");
        assert!(
            outcome.is_some(),
            "event {id} was acknowledged to the publisher, so the server must still have it \
             after the crash and deliver it"
        );
    }
    let snapshot = handler.db.snapshot().expect("a snapshot");
    let mut live_per_seat: BTreeMap<String, usize> = BTreeMap::new();
    for booking in snapshot.bookings.values() {
        if booking.starts_with("held") || booking.starts_with("confirmed") {
            let seat = booking.split(' ').nth(2).unwrap_or_default().to_owned();
            *live_per_seat.entry(seat).or_default() += 1;
        }
    }
    assert_eq!(
        live_per_seat.len(),
        CRASH_EVENTS / 2,
        "every seat is held by one booking"
    );
    assert!(
        live_per_seat.values().all(|&live| live == 1),
        "no seat may be held twice: {live_per_seat:?}"
    );
    let unique: HashSet<_> = acknowledged.iter().collect();
    assert_eq!(
        snapshot.processed.len(),
        unique.len(),
        "each event is processed exactly once"
    );
    let progress = bus.progress().await.expect("the consumer's progress");
    assert_eq!(
        (progress.lag, progress.in_flight),
        (0, 0),
        "in the end nothing is pending or unacked: every delivery that the crash interrupted \
         came back and was acked"
    );
    println!(
        "broker crash: {CRASH_EVENTS} events, {} repeats absorbed by the dedupe, {errors} \
         failed fetches or acks while the server was down",
        handler.duplicates
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_node_cluster_loses_the_streams_leader_and_no_acknowledged_booking() {
    let mut cluster = NatsCluster::start().unwrap_or_else(|e| panic!("{e}"));
    let config = BusConfig {
        replicas: 3,
        retry: retry(),
        ack_wait: Duration::from_secs(2),
        ..BusConfig::new()
    };
    const EVENTS: usize = 600;
    let events: Vec<IdentifiedEvent> = (0..EVENTS)
        .map(|n| request(BookingId::new(), &format!("E{}", n / 2 + 1)))
        .collect();
    let dir = tempfile::tempdir().expect("a folder");
    let mut db = db(&dir);
    let report = bookings_through_a_leader_kill(
        &mut cluster,
        config,
        events,
        Duration::from_millis(5),
        &mut db,
    )
    .await
    .unwrap_or_else(|e| panic!("the failover scenario: {e} ({e:?})"));
    assert!(
        !report.new_leader.is_empty() && report.new_leader != report.killed,
        "a new leader must be elected among the two nodes left: {report:?}"
    );
    assert_eq!(
        report.acknowledged.len(),
        EVENTS,
        "every publish was acknowledged in the end"
    );
    for id in &report.acknowledged {
        assert!(
            db.outcome(*id).expect("the database answers").is_some(),
            "event {id} was acknowledged by the cluster (a majority had it), so losing one node \
             must not lose it"
        );
    }
    let snapshot = db.snapshot().expect("a snapshot");
    let live: Vec<String> = snapshot
        .bookings
        .values()
        .filter(|b| b.starts_with("held") || b.starts_with("confirmed"))
        .filter_map(|b| b.split(' ').nth(2).map(str::to_owned))
        .collect();
    let seats: HashSet<&String> = live.iter().collect();
    assert_eq!(
        (live.len(), seats.len()),
        (EVENTS / 2, EVENTS / 2),
        "one booking per seat"
    );
    println!(
        "leader {} killed: new leader {} named after {:?}; longest consumer pause {:?}; {} \
         publishes retried; {} repeats absorbed; all in {:?}",
        report.killed,
        report.new_leader,
        report.election,
        report.consumer_pause,
        report.publish_retries,
        report.duplicates,
        report.total
    );
}

#[test]
fn a_missing_nats_server_is_one_line_that_says_how_to_install_it() {
    let missing = std::path::Path::new("/nowhere/nats-server");
    let error = match NatsServer::start_with(missing) {
        Ok(_) => panic!("a server that does not exist cannot start"),
        Err(error) => error,
    };
    let message = error.to_string();
    assert!(
        matches!(error, ServerError::NotInstalled),
        "a missing program is NotInstalled, not a spawn or connection error: {error:?}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
    for how in [
        "apt-get install nats-server",
        "brew install nats-server",
        "scoop install nats-server",
        "https://github.com/nats-io/nats-server/releases",
    ] {
        assert!(
            message.contains(how),
            "the message names `{how}`: {message}"
        );
    }
}
