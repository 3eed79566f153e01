//! `capstone serve` as a real process: signalled, and checked on disk after
//! it exits.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use solution14_capstone::{CapstoneConfig, Pipeline, RealDisk};

mod common;
use common::{signal, wait_exit, wait_for};

const CAPSTONE: &str = env!("CARGO_BIN_EXE_capstone");

fn serve(dir: &Path, extra: &[&str]) -> Child {
    serve_logging(dir, extra, "info")
}

fn serve_logging(dir: &Path, extra: &[&str], rust_log: &str) -> Child {
    let log =
        std::fs::File::create(dir.join("test-service.log")).expect("a log file for the service");
    Command::new(CAPSTONE)
        .env("RUST_LOG", rust_log)
        .arg("serve")
        .arg("--data")
        .arg(dir)
        .args(["--tick-ms", "20"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("capstone serve starts")
}

/// The counter `name` of the status file, once the file exists.
fn counter(dir: &Path, name: &str) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("status")).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(' ')?;
        (key == name).then(|| value.parse().ok())?
    })
}

/// Confirmed bookings of a database, opened read-only.
fn confirmed(path: &Path) -> HashSet<String> {
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the database opens read-only");
    let mut statement = db
        .prepare("SELECT booking_id FROM bookings WHERE state = 'confirmed'")
        .expect("a query");
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .expect("the query runs")
        .collect::<Result<_, _>>()
        .expect("the rows read")
}

fn unsent_rows(dir: &Path) -> i64 {
    let db =
        Connection::open_with_flags(dir.join("service.sqlite"), OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("the service's database opens read-only");
    db.query_row(
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL",
        [],
        |row| row.get(0),
    )
    .expect("the outbox counts")
}

/// After a clean stop: every outbox row sent, every partition committed at
/// its end, and the consumer confirmed exactly what the service was paid.
fn assert_closed_cleanly(dir: &Path) {
    assert_eq!(
        unsent_rows(dir),
        0,
        "a graceful shutdown publishes the whole outbox"
    );
    let paid = confirmed(&dir.join("service.sqlite"));
    let sold = confirmed(&dir.join("consumer.sqlite"));
    assert!(!paid.is_empty(), "the load generator paid some bookings");
    assert_eq!(
        sold, paid,
        "after a graceful shutdown the consumer has confirmed exactly the \
         bookings the service was paid for"
    );
    let (pipeline, _) = Pipeline::open(RealDisk, dir, CapstoneConfig::new(3)).expect("reopens");
    for partition in pipeline.partitions() {
        assert_eq!(
            pipeline.committed(partition),
            pipeline.log_end(partition).expect("a partition"),
            "partition {partition} is committed at its end on disk"
        );
    }
}

#[test]
fn sigterm_drains_commits_and_exits_with_zero() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut service = serve(dir.path(), &["--rate", "400"]);
    wait_for(
        "the service to handle 100 events",
        Duration::from_secs(60),
        || counter(dir.path(), "handled").is_some_and(|handled| handled >= 100),
    );
    signal(&service, libc::SIGTERM);
    let status = wait_exit(&mut service, Duration::from_secs(30), "after SIGTERM");
    assert_eq!(status.code(), Some(0), "a graceful shutdown exits with 0");
    let text = std::fs::read_to_string(dir.path().join("status")).expect("the status file");
    assert!(
        text.contains("state closed"),
        "the last status says closed:\n{text}"
    );
    assert_closed_cleanly(dir.path());
}

#[test]
fn a_second_ctrl_c_stops_at_once_and_the_next_start_recovers() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut service = serve(dir.path(), &["--rate", "400", "--drain-ms", "60000"]);
    wait_for(
        "the service to handle 50 events",
        Duration::from_secs(60),
        || counter(dir.path(), "handled").is_some_and(|handled| handled >= 50),
    );
    // A slow handler: the drain would take many seconds.
    let mut control = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.path().join("control"))
        .expect("the control file");
    writeln!(control, "slow 100").expect("a command");
    wait_for("the handler to slow down", Duration::from_secs(30), || {
        counter(dir.path(), "slow_ms") == Some(100)
    });
    std::thread::sleep(Duration::from_millis(500));
    signal(&service, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(300));
    let second = Instant::now();
    signal(&service, libc::SIGINT);
    let status = wait_exit(
        &mut service,
        Duration::from_secs(10),
        "after a second Ctrl-C",
    );
    assert_eq!(
        status.code(),
        Some(130),
        "a second Ctrl-C stops the service at once with exit code 130"
    );
    assert!(
        second.elapsed() < Duration::from_secs(3),
        "the second Ctrl-C must not wait for the drain: it took {:?}",
        second.elapsed()
    );

    // The next start recovers from what the abrupt stop left, and a clean
    // stop after it leaves everything consistent.
    let mut service = serve(dir.path(), &["--rate", "0"]);
    wait_for(
        "the restarted service's status",
        Duration::from_secs(60),
        || {
            counter(dir.path(), "outbox_backlog") == Some(0)
                && std::fs::read_to_string(dir.path().join("status"))
                    .is_ok_and(|text| text.contains(&format!("pid {}", service.id())))
        },
    );
    signal(&service, libc::SIGTERM);
    let status = wait_exit(&mut service, Duration::from_secs(30), "after SIGTERM");
    assert_eq!(
        status.code(),
        Some(0),
        "the restarted service stops cleanly"
    );
    assert_closed_cleanly(dir.path());
}

#[test]
fn serve_has_help_with_its_defaults() {
    let output = Command::new(CAPSTONE)
        .args(["serve", "--help"])
        .output()
        .expect("capstone serve --help runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "--help exits with 0");
    for option in ["--data", "--partitions", "--fsync", "--rate", "--drain-ms"] {
        assert!(text.contains(option), "--help names {option}:\n{text}");
    }
}

#[test]
fn each_record_is_traced_with_its_topic_partition_offset_booking_and_stage() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut service = serve_logging(
        dir.path(),
        &["--rate", "200"],
        "warn,solution14_capstone=debug",
    );
    wait_for(
        "the service to handle 20 events",
        Duration::from_secs(60),
        || counter(dir.path(), "handled").is_some_and(|handled| handled >= 20),
    );
    signal(&service, libc::SIGTERM);
    let status = wait_exit(&mut service, Duration::from_secs(30), "after SIGTERM");
    assert_eq!(status.code(), Some(0), "a graceful shutdown exits with 0");
    let log =
        std::fs::read_to_string(dir.path().join("test-service.log")).expect("the service's log");
    let traced = log.lines().find(|line| {
        line.contains("record{")
            && line.contains("topic=\"bookings\"")
            && line.contains(" partition=")
            && line.contains(" offset=")
            && line.contains(" booking_id=")
            && line.contains("stage=\"handle\"")
    });
    assert!(
        traced.is_some(),
        "with RUST_LOG=solution14_capstone=debug, a handled record's line \
         carries its span: topic, partition, offset, booking id and stage:\n{}",
        log.lines().take(20).collect::<Vec<_>>().join("\n")
    );
}
