//! The booking service end to end on real files: events per second and the
//! latency from booking to committed effect, per fsync policy of the topic,
//! beside the disk's own fsync rate measured in the same run.
//!
//! Run from the repository root (about a minute after the build, as the
//! disk allows):
//!
//! ```sh
//! cargo bench -p capstone-bench --bench end_to_end
//! ```
//!
//! The path is `capstone_bench::service`: the service's own
//! `solution14_capstone::Pipeline`, as `capstone serve` turns it (intake,
//! relay, route, a round of each of three partitions' consumers, commit), on
//! fresh files in a temporary directory for every run.
//!
//! The configurations: the four fsync policies of the topic with databases
//! that do not fsync; the topic fsyncing every record with both databases
//! fsyncing every commit (what survives a power cut); and two of these again
//! with SQLite's write-ahead log instead of its default rollback journal.
//!
//! For each configuration, two runs:
//!
//! - throughput: 1,000 bookings (2,000 events; 100 bookings where the
//!   databases fsync), 32 bookings a turn; events per second from the first
//!   `intake` to the end of the last turn;
//! - latency: 100 bookings one at a time, one a turn; each event's time from
//!   its `intake` to the return of the round that commits it, p50 and p99
//!   over all rounds.
//!
//! The disk line is a raw loop that writes a 100-byte record to a file and
//! calls `sync_data`, 100 times: its rate is what one fsync per event would
//! allow, and its latency what one fsync costs. The disk is shared and noisy,
//! so the raw loop and the configurations take turns, three rounds, and each
//! reports its median (the latencies: percentiles of all rounds together).
//!
//! Figures go to `book/src/generated/bench-14-end-to-end.{txt,csv}` and the
//! charts to `bench-14-end-to-end-{throughput,latency}.svg`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use capstone_bench::figures::{
    self, END_TO_END, END_TO_END_COLUMNS, END_TO_END_COMMAND, Table, grouped,
};
use capstone_bench::service::{self, Journal, Load, ServiceConfig};
use capstone_bench::stats::{median, millis, percentile};
use solution14_capstone::{Durability, FsyncPolicy};

const ROUNDS: usize = 3;
const RAW_FSYNCS: usize = 100;
const ONE_AT_A_TIME: usize = 100;

/// One configuration of the service.
struct Scenario {
    /// Its line in the table (no commas: it goes into a CSV file).
    label: &'static str,
    config: ServiceConfig,
    /// Bookings in the throughput run.
    flood: usize,
}

fn scenarios() -> Vec<Scenario> {
    let fast_databases = |fsync| ServiceConfig {
        fsync,
        databases: Durability::SurvivesProcessCrash,
        journal: Journal::RollbackDelete,
    };
    vec![
        Scenario {
            label: "topic fsync every record",
            config: fast_databases(FsyncPolicy::EveryRecord),
            flood: 1_000,
        },
        Scenario {
            label: "topic fsync every 64 records",
            config: fast_databases(FsyncPolicy::EveryRecords(64)),
            flood: 1_000,
        },
        Scenario {
            label: "topic fsync every 5 ms",
            config: fast_databases(FsyncPolicy::Interval(Duration::from_millis(5))),
            flood: 1_000,
        },
        Scenario {
            label: "topic fsync never",
            config: fast_databases(FsyncPolicy::Never),
            flood: 1_000,
        },
        // What a service that must survive a power cut runs: every commit of
        // both databases fsyncs too. Fewer bookings: each costs several
        // fsyncs.
        Scenario {
            label: "every record + databases fsync",
            config: ServiceConfig {
                fsync: FsyncPolicy::EveryRecord,
                databases: Durability::SurvivesPowerLoss,
                journal: Journal::RollbackDelete,
            },
            flood: 100,
        },
        // The service's default and the durable one again, with SQLite's
        // write-ahead log instead of the rollback journal the steps keep.
        Scenario {
            label: "topic fsync every 64 records + WAL",
            config: ServiceConfig {
                journal: Journal::WriteAheadLog,
                ..fast_databases(FsyncPolicy::EveryRecords(64))
            },
            flood: 1_000,
        },
        Scenario {
            label: "every record + databases fsync + WAL",
            config: ServiceConfig {
                fsync: FsyncPolicy::EveryRecord,
                databases: Durability::SurvivesPowerLoss,
                journal: Journal::WriteAheadLog,
            },
            flood: 100,
        },
    ]
}

/// The raw loop: each write of a 100-byte record followed by `sync_data`,
/// timed one by one.
fn raw_fsyncs(path: &Path) -> Vec<Duration> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("the raw file opens");
    let record = [b'r'; 100];
    (0..RAW_FSYNCS)
        .map(|_| {
            let start = Instant::now();
            file.write_all(&record).expect("write");
            file.sync_data().expect("sync");
            start.elapsed()
        })
        .collect()
}

#[derive(Default)]
struct Measured {
    rates: Vec<f64>,
    latencies: Vec<Duration>,
    /// Events and relay batches (outbox log records) of the throughput runs.
    flood_events: usize,
    flood_batches: u64,
}

fn main() {
    // `cargo test --benches` runs this with `--bench` missing: keep it quick.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let scenarios = scenarios();
    let mut disk = Measured::default();
    let mut service: Vec<Measured> = scenarios.iter().map(|_| Measured::default()).collect();
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let fsyncs = raw_fsyncs(&dir.path().join("raw"));
        let total: Duration = fsyncs.iter().sum();
        disk.rates.push(fsyncs.len() as f64 / total.as_secs_f64());
        disk.latencies.extend(fsyncs);
        // Who goes first changes every round, so that no configuration always
        // meets the disk right after the same neighbour.
        for index in (0..scenarios.len()).map(|i| (i + round) % scenarios.len()) {
            let scenario = &scenarios[index];
            let run = |name: &str, bookings, load| {
                let dir = dir.path().join(format!("{index}-{name}"));
                std::fs::create_dir_all(&dir).expect("the run's directory");
                service::run(&dir, scenario.config, bookings, load)
                    .unwrap_or_else(|error| panic!("{}: {error} ({error:?})", scenario.label))
            };
            let flood = run("flood", scenario.flood, Load::Flood);
            let one = run("one", ONE_AT_A_TIME, Load::OneAtATime);
            let measured = &mut service[index];
            measured.rates.push(flood.events_per_second());
            measured.flood_events += flood.events;
            measured.flood_batches += flood.relay_batches;
            measured.latencies.extend(one.latencies);
        }
    }

    let mut table = Table::new(&END_TO_END_COLUMNS);
    let disk_rate = median(&disk.rates).expect("rounds ran");
    let mut add = |label: &str, unit: &str, measured: &Measured| {
        let rate = median(&measured.rates).expect("rounds ran");
        let p50 = percentile(&measured.latencies, 50.0).expect("latencies");
        let p99 = percentile(&measured.latencies, 99.0).expect("latencies");
        table.push(vec![
            label.to_owned(),
            format!("{rate:.0}"),
            unit.to_owned(),
            format!("{:.3}", millis(p50)),
            format!("{:.3}", millis(p99)),
            format!("{:.2}", rate / disk_rate),
            if measured.flood_batches == 0 {
                String::new()
            } else {
                format!(
                    "{:.1}",
                    measured.flood_events as f64 / measured.flood_batches as f64
                )
            },
        ]);
    };
    add("disk alone: write 100 bytes + fsync", "fsyncs", &disk);
    for (scenario, measured) in scenarios.iter().zip(&service) {
        add(scenario.label, "events", measured);
    }

    let mut printed = String::new();
    printed.push_str(&format!(
        "{:<36} {:>16} {:>10} {:>10} {:>7} {:>9}\n",
        "line", "per second", "p50", "p99", "x disk", "per batch"
    ));
    for row in 0..table.rows.len() {
        let number = |column| table.number(row, column).expect("a number");
        let text = |column| table.text(row, column).expect("a field");
        printed.push_str(&format!(
            "{:<36} {:>16} {:>10} {:>10} {:>7.2} {:>9}\n",
            text("line"),
            format!("{} {}", grouped(number("per_second")), text("unit")),
            figures::ms(number("p50_ms")),
            figures::ms(number("p99_ms")),
            number("ratio_to_disk"),
            text("events_per_batch"),
        ));
    }
    printed.push_str(&format!(
        "throughput: medians of {ROUNDS} rounds; per batch: events per relay \
         batch (outbox log record)\nlatency: {ONE_AT_A_TIME} bookings one at \
         a time per round, percentiles of all rounds\n"
    ));
    print!("{printed}");

    let dir = figures::generated_dir();
    let write = |name: String, text: &str| {
        figures::write(&dir, &name, text).unwrap_or_else(|error| panic!("{error} ({error:?})"))
    };
    write(
        format!("{END_TO_END}.txt"),
        &figures::transcript(END_TO_END_COMMAND, &printed),
    );
    write(format!("{END_TO_END}.csv"), &table.to_csv());
    figures::write_end_to_end_charts(&dir).unwrap_or_else(|error| panic!("{error} ({error:?})"));
    println!("figures and charts written to {}", dir.display());
}
