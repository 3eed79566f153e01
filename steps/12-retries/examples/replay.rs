//! A bad deploy and its repair, without the workshop runner: the consumer runs
//! with its booking database opened read-only, every event is retried and then
//! dead-lettered; after the fix, the dead letters are replayed, twice.
//!
//! `cargo run -q -p step12-retries --example replay`

use std::error::Error;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use step12_retries::{
    BookingDb, BookingEvent, BookingId, DbConfig, DeadLetterTopic, Durability,
    IdentifiedEvent, Log, LogConfig, Offset, ParkLimits, Partition, Record,
    RetryPolicy, SeatId, SimDisk, UserId, WorkerConfig, encode_identified,
    replay, run_partition,
};

const PARTITION: Partition = Partition(0);

// ANCHOR: demo
#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() -> Result<(), Box<dyn Error>> {
    // Two bookings, each requested and paid, in one partition.
    let log = Log::new(1)?;
    for seat in ["A1", "B2"] {
        let booking_id = BookingId::new();
        let request = BookingEvent::ReservationRequested {
            booking_id,
            seat_id: SeatId::parse(seat)?,
            user_id: UserId::new(),
        };
        let payment = BookingEvent::PaymentReceived { booking_id };
        for event in [request, payment] {
            let event = IdentifiedEvent::new(event);
            let key = booking_id.as_uuid().to_string();
            log.append(PARTITION, Record::new(key, encode_identified(&event)))?;
        }
    }

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bookings.db");
    let fast = DbConfig {
        durability: Durability::SurvivesProcessCrash,
        ..DbConfig::default()
    };
    drop(BookingDb::open(&path, fast)?); // creates the tables

    // The bad deploy: the database is opened read-only.
    let mut broken = BookingDb::open(
        &path,
        DbConfig {
            read_only: true,
            ..fast
        },
    )?;
    let disk = SimDisk::new(1);
    let topic = DeadLetterTopic::open(
        disk,
        "/dead-letters".as_ref(),
        LogConfig::new(1),
    )?;
    let config = WorkerConfig {
        retry: RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        },
        park: ParkLimits {
            max_per_booking: 4,
            max_wait: Duration::from_secs(60),
        },
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
    let report = run_partition(
        &log,
        PARTITION,
        Offset(0),
        &mut broken,
        &topic,
        config,
        &mut rng,
    )
    .await?;
    println!(
        "bad deploy: processed {:?}, dead-lettered {:?}, committed {}",
        report.processed, report.dead_lettered, report.committed
    );
    for (at, dead) in topic.read(Offset(0), 1)? {
        println!(
            "dead letter {at}: partition {} offset {}, {} attempts: {}",
            dead.partition, dead.offset, dead.attempts, dead.reason
        );
    }

    // The fix: the same database, writable. Replay from the start.
    let mut fixed = BookingDb::open(&path, fast)?;
    let first = replay(&topic, Offset(0), &mut fixed)?;
    println!(
        "replay: handled {:?}, failed {}, next {}",
        first.handled,
        first.failed.len(),
        first.next
    );
    let before = fixed.snapshot()?;
    let again = replay(&topic, Offset(0), &mut fixed)?;
    println!(
        "replay again: handled {:?}, database unchanged: {}",
        again.handled,
        fixed.snapshot()? == before
    );
    Ok(())
}
// ANCHOR_END: demo
