//! What batching the marks buys: the relay's throughput when it marks a
//! published batch in one transaction, beside one transaction per row.
//!
//! Run from the repository root (under a minute after the build):
//!
//! ```sh
//! cargo bench -p solution13-outbox --bench relay
//! ```
//!
//! Each round fills a fresh outbox on real files with 2,000 rows (not timed),
//! then times one relay that publishes them all, 100 rows a pass, into step
//! 11's idempotent log (which fsyncs once per batch). The database fsyncs on
//! every commit (`Durability::SurvivesPowerLoss`), as a real service's does:
//! `Batched` pays one commit per pass, `PerRow` one per row. The two take
//! turns, five rounds each, and each side reports its median rows per second.

use std::path::Path;
use std::time::{Duration, Instant};

use solution13_outbox::{
    BookingEvent, BookingId, DbConfig, Durability, FsyncPolicy, IdempotentLog,
    LogConfig, MarkMode, OutboxDb, Partition, Pass, RealDisk, Relay,
    RelayConfig, SeatId, UserId,
};

const ROUNDS: usize = 5;
const ROWS: usize = 2_000;

fn db_config(durability: Durability) -> DbConfig {
    DbConfig {
        busy_timeout: Duration::from_secs(5),
        durability,
        read_only: false,
    }
}

/// An outbox with `ROWS` unsent requests, written without fsync.
fn fill(path: &Path) {
    let mut db =
        OutboxDb::open(path, db_config(Durability::SurvivesProcessCrash))
            .expect("the benchmark's database opens");
    for seat in 0..ROWS {
        let event = BookingEvent::ReservationRequested {
            booking_id: BookingId::new(),
            seat_id: SeatId::parse(&format!(
                "{}{}",
                char::from(b'A' + u8::try_from(seat / 100).expect("< 26")),
                seat % 100 + 1
            ))
            .expect("a valid seat"),
            user_id: UserId::new(),
        };
        db.record(&event).expect("the request is recorded");
    }
}

/// Rows per second of one relay publishing the whole outbox.
fn relay_rate(dir: &Path, marks: MarkMode) -> f64 {
    std::fs::create_dir_all(dir).expect("the round's directory");
    let db_path = dir.join("outbox.sqlite");
    fill(&db_path);
    let mut db =
        OutboxDb::open(&db_path, db_config(Durability::SurvivesPowerLoss))
            .expect("the benchmark's database opens");
    let log_config = LogConfig {
        partition_count: 1,
        segment_bytes: 1 << 30,
        fsync: FsyncPolicy::EveryRecord,
    };
    let (log, _) = IdempotentLog::open(RealDisk, &dir.join("log"), log_config)
        .expect("the benchmark's log opens");
    let mut relay = Relay::new(RelayConfig {
        partition: Partition(0),
        max_in_flight: 100,
        marks,
    });
    let start = Instant::now();
    let mut published = 0;
    loop {
        match relay.run_once(&mut db, &log, None).expect("a relay pass") {
            Pass::Idle => break,
            Pass::Published { rows, .. } => published += rows,
            Pass::Crashed(_) => unreachable!("the benchmark crashes nothing"),
        }
    }
    assert_eq!(published, ROWS, "the relay publishes every row once");
    ROWS as f64 / start.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo test --benches` runs this with `--bench` missing: keep it quick.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let (mut batched, mut per_row) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // Who goes first changes every round, so that neither side always
        // meets the disk right after the other.
        if round % 2 == 0 {
            batched.push(relay_rate(&dir.path().join("a"), MarkMode::Batched));
            per_row.push(relay_rate(&dir.path().join("b"), MarkMode::PerRow));
        } else {
            per_row.push(relay_rate(&dir.path().join("b"), MarkMode::PerRow));
            batched.push(relay_rate(&dir.path().join("a"), MarkMode::Batched));
        }
    }
    let (batched, per_row) = (median(batched), median(per_row));
    println!(
        "relay, marks batched per pass: {batched:>9.0} rows/s\n\
         relay, one mark per row:       {per_row:>9.0} rows/s\n\
         batched / per row:             {:>9.1}x",
        batched / per_row
    );
}
