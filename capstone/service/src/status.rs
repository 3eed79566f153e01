//! The status file: what `capstone serve` shows of itself, rewritten a few
//! times a second, read by `capstone demo` and by the tests.
//!
//! Plain text, one `name value...` line each, so that `cat` shows it and a
//! shell script can `grep` it:
//!
//! ```text
//! pid 4242
//! state running
//! backpressure block
//! partition 0 end 120 committed 118 in_flight 2
//! handled 300
//! ```
//!
//! It is replaced whole (written beside it, then renamed), so a reader never
//! sees half of one.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;

use solution14_capstone::Metrics;

/// The file's name in the data directory.
pub const STATUS_FILE: &str = "status";

/// What the service is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Running,
    /// Shutdown began: intake is closed, the rest drains.
    Draining,
    /// Shutdown finished: everything is committed, flushed and closed.
    Closed,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Draining => "draining",
            State::Closed => "closed",
        }
    }
}

/// One partition as the status file shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PartitionLine {
    pub end: u64,
    pub committed: u64,
    pub in_flight: u64,
}

/// The status file, read back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub pid: u32,
    pub state: String,
    /// The load generator's mode at the full producer buffer: `block`,
    /// `timeout` or `fail`.
    pub backpressure: String,
    pub partitions: Vec<PartitionLine>,
    /// Every other `name number` line.
    pub counters: BTreeMap<String, u64>,
}

impl Status {
    /// The counter `name`, 0 if the file has none.
    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }

    /// Reads the status file in `dir`; `None` if there is none yet or it
    /// does not parse (a service of another version).
    pub fn read(dir: &Path) -> Option<Status> {
        let text = std::fs::read_to_string(dir.join(STATUS_FILE)).ok()?;
        parse(&text)
    }
}

/// The status text of a service in `state` with these metrics, extra
/// counters of the service's own, and the load generator's backpressure mode.
pub fn render(
    state: State,
    metrics: &Metrics,
    extra: &[(&str, u64)],
    backpressure: &str,
) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "pid {}", std::process::id());
    let _ = writeln!(text, "state {}", state.as_str());
    let _ = writeln!(text, "backpressure {backpressure}");
    for (n, partition) in metrics.partitions().iter().enumerate() {
        let _ = writeln!(
            text,
            "partition {n} end {} committed {} in_flight {}",
            partition.log_end.load(Ordering::Relaxed),
            partition.committed.load(Ordering::Relaxed),
            partition.in_flight(),
        );
    }
    let counters = [
        ("handled", &metrics.handled),
        ("duplicates", &metrics.duplicates),
        ("failures", &metrics.failures),
        ("dead_lettered", &metrics.dead_lettered),
        ("outbox_backlog", &metrics.outbox_backlog),
        ("routed", &metrics.routed),
    ];
    for (name, counter) in counters {
        let _ = writeln!(text, "{name} {}", counter.load(Ordering::Relaxed));
    }
    for (name, value) in extra {
        let _ = writeln!(text, "{name} {value}");
    }
    text
}

/// Replaces the status file in `dir` with `text`.
pub fn write(dir: &Path, text: &str) -> io::Result<()> {
    let temp = dir.join("status.tmp");
    std::fs::write(&temp, text)?;
    std::fs::rename(&temp, dir.join(STATUS_FILE))
}

fn parse(text: &str) -> Option<Status> {
    let mut status = Status::default();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["pid", pid] => status.pid = pid.parse().ok()?,
            ["state", state] => status.state = (*state).to_owned(),
            ["backpressure", mode] => status.backpressure = (*mode).to_owned(),
            [
                "partition",
                _,
                "end",
                end,
                "committed",
                committed,
                "in_flight",
                in_flight,
            ] => status.partitions.push(PartitionLine {
                end: end.parse().ok()?,
                committed: committed.parse().ok()?,
                in_flight: in_flight.parse().ok()?,
            }),
            [name, value] => {
                status
                    .counters
                    .insert((*name).to_owned(), value.parse().ok()?);
            }
            _ => return None,
        }
    }
    (status.pid != 0).then_some(status)
}
