//! The demo of step 15: three `nats-server` processes on this machine, a
//! stream with three replicas, bookings flowing, and the stream's leader
//! killed with SIGKILL in the middle. Run it with
//!
//! ```sh
//! cargo run -p step15-bridge --example failover
//! ```

use std::collections::BTreeSet;
use std::time::Duration;

use step15_bridge::{
    BookingDb, BookingEvent, BookingId, BusConfig, DbConfig, Durability,
    IdentifiedEvent, NatsCluster, SeatId, UserId,
    bookings_through_a_leader_kill,
};

const EVENTS: usize = 1_500;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut cluster = NatsCluster::start()?;
    println!("three nodes on {}", cluster.urls());
    let dir = tempfile::tempdir()?;
    let config = DbConfig {
        durability: Durability::SurvivesProcessCrash,
        ..DbConfig::default()
    };
    let mut db = BookingDb::open(&dir.path().join("bookings.sqlite"), config)?;
    let bus = BusConfig {
        replicas: 3,
        ack_wait: Duration::from_secs(2),
        ..BusConfig::new()
    };
    let events = (0..EVENTS)
        .map(|n| {
            Ok(IdentifiedEvent::new(BookingEvent::ReservationRequested {
                booking_id: BookingId::new(),
                seat_id: SeatId::parse(&format!("D{}", n / 2 + 1))?,
                user_id: UserId::new(),
            }))
        })
        .collect::<Result<Vec<_>, step15_bridge::InvalidSeatId>>()?;
    println!(
        "publishing {EVENTS} booking requests, two per seat, one every 4 ms"
    );
    let report = bookings_through_a_leader_kill(
        &mut cluster,
        bus,
        events,
        Duration::from_millis(4),
        &mut db,
    )
    .await?;
    let mut lost = 0;
    for id in &report.acknowledged {
        if db.outcome(*id)?.is_none() {
            lost += 1;
        }
    }
    let snapshot = db.snapshot()?;
    let live: Vec<&str> = snapshot
        .bookings
        .values()
        .filter(|b| b.starts_with("held") || b.starts_with("confirmed"))
        .filter_map(|b| b.split(' ').nth(2))
        .collect();
    let seats: BTreeSet<&str> = live.iter().copied().collect();
    println!(
        "killed the stream leader {}; new leader {}",
        report.killed, report.new_leader
    );
    println!("new leader named after {:?}", report.election);
    println!("longest pause of the consumer {:?}", report.consumer_pause);
    println!(
        "publishes retried with the same id {}",
        report.publish_retries
    );
    println!("repeats absorbed by the dedupe {}", report.duplicates);
    println!(
        "acknowledged {} lost {lost}; seats held {} by {} bookings (sold twice: {})",
        report.acknowledged.len(),
        seats.len(),
        live.len(),
        live.len() - seats.len()
    );
    println!("all in {:?}", report.total);
    Ok(())
}
