//! The booking fixtures shared by the cross-step tests that run one service
//! on several buses (`bus_on_jetstream.rs`, `bus_on_kafka.rs`).

use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use solution15_bridge::{
    BookingDb, BookingEvent, BookingId, BusConfig, DbConfig, Durability, EventBus, FsyncPolicy,
    IdentifiedEvent, JetStreamBus, LogBus, NatsServer, ParkLimits, RetryPolicy, SeatId, UserId,
    WorkerConfig,
};

/// Step 12's policy with short delays: five attempts, 20 ms to 200 ms apart.
pub fn retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base: Duration::from_millis(20),
        cap: Duration::from_millis(200),
    }
}

/// Step 11's booking database in `dir`, as a service on one machine opens it.
pub fn db(dir: impl AsRef<Path>) -> BookingDb {
    let config = DbConfig {
        busy_timeout: Duration::from_millis(200),
        durability: Durability::SurvivesProcessCrash,
        read_only: false,
    };
    BookingDb::open(&dir.as_ref().join("bookings.sqlite"), config)
        .unwrap_or_else(|e| panic!("opening the booking database: {e}"))
}

/// A request of `booking_id` for `seat` (`B7`), by a new user.
pub fn request(booking_id: BookingId, seat: &str) -> IdentifiedEvent {
    IdentifiedEvent::new(BookingEvent::ReservationRequested {
        booking_id,
        seat_id: SeatId::parse(seat).expect("a valid seat"),
        user_id: UserId::new(),
    })
}

/// A day at the box office in `row`: requests, competing requests for the
/// same seat, payments (one of them twice, under two event ids), and one
/// event published twice under the same id, as a producer retry would.
pub fn scenario(row: char) -> Vec<IdentifiedEvent> {
    let mut events = Vec::new();
    let mut bookings = Vec::new();
    for n in 1..=12 {
        let booking_id = BookingId::new();
        bookings.push(booking_id);
        events.push(request(booking_id, &format!("{row}{n}")));
        // Every third seat is wanted by a second booking right after.
        if n % 3 == 0 {
            events.push(request(BookingId::new(), &format!("{row}{n}")));
        }
    }
    for (n, booking_id) in bookings.iter().enumerate() {
        if n % 2 == 0 {
            events.push(IdentifiedEvent::new(BookingEvent::PaymentReceived {
                booking_id: *booking_id,
            }));
        }
    }
    events.push(IdentifiedEvent::new(BookingEvent::PaymentReceived {
        booking_id: bookings[0],
    }));
    let retried = events[3].clone();
    events.push(retried);
    events
}

/// Publishes `events` on `bus`, then runs `handler` over them until the bus
/// is idle.
pub async fn run_scenario<B: EventBus>(
    bus: &mut B,
    events: &[IdentifiedEvent],
    handler: &mut BookingDb,
) {
    for event in events {
        bus.publish(event)
            .await
            .unwrap_or_else(|e| panic!("publishing: {e}"));
    }
    bus.run_until_idle(handler)
        .await
        .unwrap_or_else(|e| panic!("consuming: {e}"));
}

/// Step 10's durable log in `dir` behind the bus, with [`retry`] and an fsync
/// for every record.
pub fn log_bus(dir: &Path, partitions: NonZeroU32) -> LogBus {
    let worker = WorkerConfig {
        retry: retry(),
        park: ParkLimits {
            max_per_booking: 4,
            max_wait: Duration::from_secs(5),
        },
    };
    LogBus::open(dir, partitions, FsyncPolicy::EveryRecord, worker, 1)
        .unwrap_or_else(|e| panic!("opening the log bus: {e}"))
}

/// JetStream on `server` behind the bus, with [`retry`].
pub async fn jetstream_bus(server: &NatsServer, partitions: NonZeroU32) -> JetStreamBus {
    let config = BusConfig {
        partitions,
        retry: retry(),
        ..BusConfig::new()
    };
    JetStreamBus::connect(&server.url(), config, 1)
        .await
        .unwrap_or_else(|e| panic!("connecting to JetStream: {e}"))
}
