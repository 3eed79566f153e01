//! `capstone serve` with a slowed handler, in each `--backpressure` mode: the
//! lag grows past `--max-lag`, the intake stops taking requests out of the
//! producer buffer (step 05), the buffer fills, and the mode decides what the
//! load generator does.
//!
//! The evidence is counts that are zero or not by construction, not timing
//! alone. With `slow 200`, a consumer's round handles at most five records a
//! second and commits only at its end, so once the lag is past `--max-lag`
//! the intake takes nothing for whole rounds (200 ms or more each), while the
//! load generator offers 400 requests a second into a buffer of about ten.
//! So the buffer is full, for longer than the 100 ms timeout, again and
//! again; and whatever the timing, `fail` never waits and `block` never
//! hands a request back.

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;
use common::{wait_exit, wait_for};

const CAPSTONE: &str = env!("CARGO_BIN_EXE_capstone");

/// Starts `capstone serve` in `mode` with a load far above what a slowed
/// handler can take, a small buffer and a low `--max-lag`.
fn serve(dir: &Path, mode: &str) -> Child {
    let log =
        std::fs::File::create(dir.join("test-service.log")).expect("a log file for the service");
    Command::new(CAPSTONE)
        .env("RUST_LOG", "info")
        .arg("serve")
        .arg("--data")
        .arg(dir)
        .args(["--tick-ms", "20", "--rate", "400", "--seats", "2574"])
        .args(["--max-lag", "50", "--buffer-bytes", "1024"])
        .args(["--backpressure", mode, "--block-timeout-ms", "100"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("capstone serve starts")
}

/// The status file's lines, once it exists and is whole.
fn status(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join("status"))
        .ok()
        .filter(|text| text.contains("closed_back "))
}

/// The counter `name` of the status file.
fn counter(dir: &Path, name: &str) -> Option<u64> {
    counter_in(&status(dir)?, name)
}

/// The counter `name` in one status file's text.
fn counter_in(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(' ')?;
        (key == name).then(|| value.parse().ok())?
    })
}

fn control(dir: &Path, command: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("control"))
        .expect("the control file");
    writeln!(file, "{command}").expect("a command");
}

/// Starts the service, lets it handle some events at full speed, then slows
/// the handler to 200 ms an event.
fn start_and_slow(dir: &Path, mode: &str) -> Child {
    let service = serve(dir, mode);
    wait_for(
        "the service to handle 20 events",
        Duration::from_secs(60),
        || counter(dir, "handled").is_some_and(|handled| handled >= 20),
    );
    let shown = status(dir).unwrap_or_default();
    assert!(
        shown.contains(&format!("backpressure {mode}\n")),
        "the status file names the mode the service runs in:\n{shown}"
    );
    control(dir, "slow 200");
    wait_for("the handler to slow down", Duration::from_secs(30), || {
        counter(dir, "slow_ms") == Some(200)
    });
    service
}

fn stop_at_once(mut service: Child) {
    let _ = service.kill();
    let _ = service.wait();
}

#[test]
fn block_makes_the_load_generator_wait_and_hands_nothing_back() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut service = start_and_slow(dir.path(), "block");
    let waits_before = counter(dir.path(), "buffer_waits").unwrap_or(0);
    wait_for(
        "the load generator to wait at the full buffer",
        Duration::from_secs(60),
        || {
            counter(dir.path(), "waiting") == Some(1)
                && counter(dir.path(), "buffer_waits").is_some_and(|n| n > waits_before)
        },
    );
    // While it waits, the requests it gets in are what the intake takes.
    let sent_before = counter(dir.path(), "sent").unwrap_or(0);
    std::thread::sleep(Duration::from_secs(3));
    let sent = counter(dir.path(), "sent").unwrap_or(0) - sent_before;
    assert!(
        sent < 400,
        "a waiting load generator sends far fewer than its 400 requests a \
         second: {sent} in 3 seconds"
    );
    assert_eq!(
        counter(dir.path(), "handed_back"),
        Some(0),
        "Block waits as long as it takes: it never hands a request back"
    );

    // Full speed again, then a graceful stop: every request the buffer took
    // reached the service's intake.
    control(dir.path(), "slow 0");
    wait_for("the handler at full speed", Duration::from_secs(60), || {
        counter(dir.path(), "slow_ms") == Some(0)
    });
    let pid = libc::pid_t::try_from(service.id()).expect("a pid fits pid_t");
    // SAFETY: kill(2) on our own unreaped child has no memory effects here.
    let sent_signal = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(sent_signal, 0, "SIGTERM could not be sent to the service");
    let exit = wait_exit(&mut service, Duration::from_secs(60), "after SIGTERM");
    assert_eq!(exit.code(), Some(0), "a graceful shutdown exits with 0");
    let counted = |name| counter(dir.path(), name).unwrap_or(0);
    assert_eq!(
        counted("handed_back"),
        0,
        "Block never hands a request back, not even at the end"
    );
    assert_eq!(
        counted("sent"),
        counted("requests") + counted("payments") + counted("refused"),
        "every request the producer buffer took must reach the intake \
         (recorded, or refused by the booking rules): nothing is lost in the \
         buffer, not even at shutdown"
    );
}

#[test]
fn timeout_waits_then_hands_requests_back() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let service = start_and_slow(dir.path(), "timeout");
    let waits_before = counter(dir.path(), "buffer_waits").unwrap_or(0);
    let back_before = counter(dir.path(), "handed_back").unwrap_or(0);
    wait_for(
        "requests handed back after waiting for the timeout",
        Duration::from_secs(60),
        || {
            counter(dir.path(), "buffer_waits").is_some_and(|n| n > waits_before)
                && counter(dir.path(), "handed_back").is_some_and(|n| n > back_before)
        },
    );
    // One look at the file: both counts from the same moment.
    let text = status(dir.path()).unwrap_or_default();
    let waits = counter_in(&text, "buffer_waits").unwrap_or(0);
    let back = counter_in(&text, "handed_back").unwrap_or(0);
    stop_at_once(service);
    assert!(
        back <= waits,
        "with a timeout every request handed back first waited: {back} handed \
         back, {waits} waits"
    );
}

#[test]
fn fail_hands_requests_back_at_once_and_never_waits() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let service = start_and_slow(dir.path(), "fail");
    let back_before = counter(dir.path(), "handed_back").unwrap_or(0);
    wait_for(
        "requests handed back by the full buffer",
        Duration::from_secs(60),
        || counter(dir.path(), "handed_back").is_some_and(|n| n > back_before + 20),
    );
    let waits = counter(dir.path(), "buffer_waits");
    let waiting = counter(dir.path(), "waiting");
    stop_at_once(service);
    assert_eq!(
        (waits, waiting),
        (Some(0), Some(0)),
        "FailImmediately never waits for room: no wait counted, none going on"
    );
}
