//! `capstone serve --bus jetstream` against a real `nats-server` (step 15's
//! harness): killed with SIGKILL mid-run, started again, stopped with
//! SIGTERM, then checked on disk and through the server.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use solution15_bridge::{CONSUMER, NatsServer, STREAM, harness};

mod common;
use common::{signal, wait_exit, wait_for};

const CAPSTONE: &str = env!("CARGO_BIN_EXE_capstone");

fn serve(dir: &Path, servers: &str, log: &str, extra: &[&str]) -> Child {
    let log = std::fs::File::create(dir.join(log)).expect("a log file for the service");
    Command::new(CAPSTONE)
        .env("RUST_LOG", "info")
        .arg("serve")
        .arg("--data")
        .arg(dir)
        .args(["--bus", "jetstream", "--servers", servers])
        .args(["--tick-ms", "20", "--rate", "300"])
        // A bounded backlog: the intake stops taking above 300 records not
        // yet consumed, so the graceful shutdown's drain has a bounded amount
        // to finish however slow a loaded machine makes the consumer.
        .args(["--max-lag", "300"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("capstone serve starts")
}

/// The counter `name` of the status file written by the process `pid`.
fn counter(dir: &Path, pid: u32, name: &str) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("status")).ok()?;
    if !text.contains(&format!("pid {pid}\n")) {
        return None;
    }
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(' ')?;
        (key == name).then(|| value.parse().ok())?
    })
}

/// The status file's in-flight count (the server's acks pending), as the
/// process `pid` wrote it.
fn in_flight(dir: &Path, pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("status")).ok()?;
    if !text.contains(&format!("pid {pid}\n")) {
        return None;
    }
    let line = text.lines().find(|line| line.starts_with("partition 0 "))?;
    line.split_whitespace().last()?.parse().ok()
}

fn open(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("{} opens read-only: {e}", path.display()))
}

fn count(db: &Connection, sql: &str) -> u64 {
    let n: i64 = db
        .query_row(sql, [], |row| row.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    u64::try_from(n).expect("a count is not negative")
}

fn confirmed(db: &Connection) -> HashSet<String> {
    let mut statement = db
        .prepare("SELECT booking_id FROM bookings WHERE state = 'confirmed'")
        .expect("a query");
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .expect("the query runs")
        .collect::<Result<_, _>>()
        .expect("the rows read")
}

/// The booking stream's message count and the consumer's pending, unacked
/// and ack floor, and the stream's last sequence, as the server says.
fn server_view(server: &NatsServer) -> (u64, u64, usize, u64, u64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the client");
    runtime.block_on(async {
        let context = harness::context(server).await;
        let stream = context
            .get_stream(STREAM)
            .await
            .expect("the stream is there");
        let state = stream.get_info().await.expect("the stream answers").state;
        let consumer: solution15_bridge::async_nats::jetstream::consumer::PullConsumer = stream
            .get_consumer(CONSUMER)
            .await
            .expect("the service's durable consumer is there");
        let info = consumer.get_info().await.expect("the consumer answers");
        (
            state.messages,
            info.num_pending,
            info.num_ack_pending,
            info.ack_floor.stream_sequence,
            state.last_sequence,
        )
    })
}

#[test]
fn a_service_on_jetstream_killed_mid_run_confirms_every_paid_booking_once() {
    let server = harness::server();
    let servers = server.url();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let dir = dir.path();

    let mut first = serve(dir, &servers, "first.log", &[]);
    let pid = first.id();
    wait_for(
        "the first service to handle 200 events",
        Duration::from_secs(60),
        || counter(dir, pid, "handled").is_some_and(|handled| handled >= 200),
    );
    // A slow handler (half a second per event, with a backlog behind it)
    // keeps a message out nearly all the time: the kill finds the server
    // waiting for an ack the dead process never sends.
    let mut control = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("control"))
        .expect("the control file");
    writeln!(control, "slow 500").expect("a command");
    wait_for(
        "messages delivered and not acked yet",
        Duration::from_secs(30),
        || counter(dir, pid, "slow_ms") == Some(500) && in_flight(dir, pid).is_some_and(|n| n > 0),
    );
    signal(&first, libc::SIGKILL);
    let killed = wait_exit(&mut first, Duration::from_secs(10), "after SIGKILL");
    assert_eq!(
        killed.code(),
        None,
        "SIGKILL ends the process without an exit code"
    );

    // The message the killed service had taken comes back after AckWait
    // (5 s); one message is out at a time, so the stream waits for it.
    // The drain's budget is generous: this test checks that everything is
    // confirmed, so the shutdown must not hand work back to a next start.
    let mut second = serve(dir, &servers, "second.log", &["--drain-ms", "90000"]);
    let pid = second.id();
    wait_for(
        "the restarted service to handle 100 events",
        Duration::from_secs(60),
        || counter(dir, pid, "handled").is_some_and(|handled| handled >= 100),
    );
    signal(&second, libc::SIGTERM);
    let stopped = wait_exit(&mut second, Duration::from_secs(120), "after SIGTERM");
    assert_eq!(stopped.code(), Some(0), "a graceful shutdown exits with 0");
    let status = std::fs::read_to_string(dir.join("status")).expect("the status file");
    assert!(
        status.contains("state closed"),
        "the last status says closed:\n{status}"
    );

    let service = open(&dir.join("service.sqlite"));
    let consumer = open(&dir.join("consumer.sqlite"));
    let rows = count(&service, "SELECT COUNT(*) FROM outbox");
    assert_eq!(
        count(
            &service,
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"
        ),
        0,
        "a graceful shutdown relays the whole outbox to JetStream"
    );
    let paid = confirmed(&service);
    let sold = confirmed(&consumer);
    assert!(!paid.is_empty(), "the load generator paid some bookings");
    let second_log = std::fs::read_to_string(dir.join("second.log")).unwrap_or_default();
    let shutdown: Vec<&str> = second_log
        .lines()
        .filter(|line| line.contains("shutdown"))
        .collect();
    assert_eq!(
        sold,
        paid,
        "the consumer confirmed exactly the bookings the service was paid for, \
         through a kill -9 and a restart; the restarted service's shutdown said:\n{}",
        shutdown.join("\n")
    );
    assert_eq!(
        count(&consumer, "SELECT COUNT(*) FROM processed_events"),
        rows,
        "every event of the outbox was handled, each once (event ids are the \
         primary key of processed_events)"
    );
    assert_eq!(
        count(
            &consumer,
            "SELECT COUNT(*) FROM (SELECT seat_id FROM bookings \
             WHERE state IN ('held', 'confirmed') \
             GROUP BY seat_id HAVING COUNT(*) > 1)"
        ),
        0,
        "no seat is held or sold twice in the consumer's database"
    );

    let (messages, pending, unacked, floor, last) = server_view(&server);
    assert_eq!(
        messages, rows,
        "the stream holds each outbox row once: a row relayed again after \
         the kill was dropped by its Nats-Msg-Id"
    );
    assert_eq!(pending, 0, "nothing is left undelivered on the server");
    assert_eq!(
        unacked, 0,
        "nothing is left delivered and unacked on the server"
    );
    assert_eq!(
        floor, last,
        "the ack floor is at the stream's last sequence"
    );
}
