//! `capstone`: the booking service of Unstoppable Events as one program.
//!
//! - `capstone serve` runs the whole pipeline of steps 01-14 on real files,
//!   with a load generator, until Ctrl-C or SIGTERM stops it gracefully.
//! - `capstone demo` runs `capstone serve` as a child process and shows it
//!   live in the terminal, with keys that inject faults: a real `kill -9`,
//!   a torn write, a slow handler, duplicates, database errors, a poison pill.
//!
//! The chapter is `book/src/14-capstone.md`.

mod demo;
mod invariants;
mod jetstream;
mod serve;
mod status;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use solution05_backpressure::BackpressureMode;
use solution14_capstone::FsyncPolicy;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "capstone",
    version,
    about = "The booking service of Unstoppable Events, end to end: serve it, \
             or watch it live and break it."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the booking service on files in a data directory, with a
    /// built-in load generator. Ctrl-C or SIGTERM stops it gracefully (stop
    /// intake, drain, commit, flush, close); a second one stops it at once.
    /// Log level from RUST_LOG (default: info), e.g.
    /// RUST_LOG=solution14_capstone=debug for a line per record.
    Serve(ServeArgs),
    /// A live dashboard: starts `capstone serve` as a child process and shows
    /// each partition's log end, committed offset, lag, in-flight records and
    /// records/s, the service's counters (with the load generator's
    /// backpressure mode and what it did), and invariants checked from its
    /// databases. Keys: c crash (kill -9 and restart), w torn write, s slow
    /// handler, d duplicates, t database errors, p poison pill, q quit.
    Demo(DemoArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Where the service keeps its databases, logs and committed offsets.
    #[arg(long, default_value = "capstone-data")]
    data: PathBuf,
    /// Partitions of the bookings topic.
    #[arg(long, default_value_t = 3)]
    partitions: u32,
    /// When the topic fsyncs: "every" record, every N records (a number), or
    /// "never".
    #[arg(long, default_value = "64", value_parser = parse_fsync)]
    fsync: FsyncPolicy,
    /// Booking requests per second from the load generator (0: none).
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// Seats in the venue (at most 2574).
    #[arg(long, default_value_t = 2000)]
    seats: u32,
    /// One payment for about every this-many requests.
    #[arg(long, default_value_t = 3)]
    pay_every: u32,
    /// Above this many records not yet relayed or committed, the intake
    /// stops taking requests out of the producer buffer: the buffer fills,
    /// and --backpressure decides what the load generator does.
    #[arg(long, default_value_t = 5000)]
    max_lag: u64,
    /// What the load generator does when the producer buffer is full (step
    /// 05): "block" waits for room (fewer requests per second, none handed
    /// back), "timeout" waits at most --block-timeout-ms and then takes the
    /// request back, "fail" takes it back at once.
    #[arg(long, value_enum, default_value_t = Mode::Block)]
    backpressure: Mode,
    /// How long a send waits for room with --backpressure timeout.
    #[arg(long, default_value_t = 250)]
    block_timeout_ms: u64,
    /// The producer buffer between the load generator and the intake, in
    /// bytes (a request takes 100 to 200).
    #[arg(long, default_value_t = 16 * 1024)]
    buffer_bytes: u32,
    /// Milliseconds between two turns of the pipeline.
    #[arg(long, default_value_t = 100)]
    tick_ms: u64,
    /// Milliseconds the graceful shutdown waits for rounds in flight before
    /// it hands them back to the next start.
    #[arg(long, default_value_t = 5000)]
    drain_ms: u64,
    /// Seed of the load generator and of the retry jitter. A restart moves
    /// the generator on, so that it does not ask for the same seats again.
    #[arg(long, default_value_t = 14)]
    seed: u64,
    #[command(flatten)]
    bus: BusArgs,
}

/// Which log carries the events from the outbox to the consumer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
enum Bus {
    /// The workshop's durable log, in the data directory (steps 10-14).
    #[default]
    Log,
    /// A NATS JetStream server (step 15): start one with `nats-server -js`.
    Jetstream,
}

#[derive(Args)]
struct BusArgs {
    /// The log between the outbox and the consumer.
    #[arg(long, value_enum, default_value_t = Bus::Log)]
    bus: Bus,
    /// With `--bus jetstream`: the NATS servers, URL[,URL...].
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    servers: String,
}

impl BusArgs {
    /// The arguments that pass the same choice on to `capstone serve`.
    fn to_args(&self) -> Vec<String> {
        match self.bus {
            Bus::Log => Vec::new(),
            Bus::Jetstream => vec![
                "--bus".to_owned(),
                "jetstream".to_owned(),
                "--servers".to_owned(),
                self.servers.clone(),
            ],
        }
    }
}

#[derive(Args)]
struct DemoArgs {
    /// The service's data directory (kept: a second demo goes on from it).
    #[arg(long, default_value = "capstone-demo-data")]
    data: PathBuf,
    /// Plays a fixed scenario of about 35 seconds instead of waiting for
    /// keys; exits with 0 only if every invariant held and the service
    /// closed cleanly.
    #[arg(long)]
    script: bool,
    /// Multiplies the scenario's times (0.5 plays it twice as fast).
    #[arg(long, default_value_t = 1.0)]
    pace: f64,
    /// Prints a line a second instead of drawing the dashboard (the default
    /// when standard output is not a terminal).
    #[arg(long)]
    plain: bool,
    /// Booking requests per second sent to the service.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// What the service's load generator does when its producer buffer is
    /// full, once the slowed handler lets the lag grow (see `serve --help`).
    #[arg(long, value_enum, default_value_t = Mode::Block)]
    backpressure: Mode,
    #[command(flatten)]
    bus: BusArgs,
}

/// `--backpressure`: step 05's `BackpressureMode`, as a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Wait for room: requests per second drop, nothing is handed back.
    Block,
    /// Wait at most --block-timeout-ms, then hand the request back.
    Timeout,
    /// Hand the request back at once.
    Fail,
}

impl Mode {
    fn with_timeout(self, timeout: Duration) -> BackpressureMode {
        match self {
            Mode::Block => BackpressureMode::Block,
            Mode::Timeout => BackpressureMode::BlockWithTimeout(timeout),
            Mode::Fail => BackpressureMode::FailImmediately,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Block => "block",
            Mode::Timeout => "timeout",
            Mode::Fail => "fail",
        }
    }
}

fn parse_fsync(text: &str) -> Result<FsyncPolicy, String> {
    match text {
        "every" => Ok(FsyncPolicy::EveryRecord),
        "never" => Ok(FsyncPolicy::Never),
        n => match n.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(FsyncPolicy::EveryRecords(n)),
            _ => Err(format!(
                "{text:?} is not an fsync policy: use \"every\", \"never\" or \
                 a number of records of at least 1"
            )),
        },
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let filter =
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .init();
            let options = serve::ServeOptions {
                data: args.data,
                partitions: args.partitions,
                fsync: args.fsync,
                rate: args.rate,
                seats: args.seats,
                pay_every: args.pay_every,
                max_lag: args.max_lag,
                backpressure: args
                    .backpressure
                    .with_timeout(Duration::from_millis(args.block_timeout_ms)),
                buffer_bytes: args.buffer_bytes,
                tick: Duration::from_millis(args.tick_ms),
                drain: Duration::from_millis(args.drain_ms),
                seed: args.seed,
            };
            let served = match args.bus.bus {
                Bus::Log => serve::run(options).map_err(|error| report(&error)),
                Bus::Jetstream => {
                    jetstream::run(options, args.bus.servers).map_err(|error| report(&error))
                }
            };
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(()) => ExitCode::FAILURE,
            }
        }
        Command::Demo(args) => {
            let mut serve_args = vec![
                "--rate".to_owned(),
                args.rate.to_string(),
                "--drain-ms".to_owned(),
                // JetStream hands back what a killed service had taken only
                // after its AckWait: the drain waits for that too.
                if args.bus.bus == Bus::Jetstream {
                    "8000".to_owned()
                } else {
                    "3000".to_owned()
                },
                // Low enough that a slowed handler shows backpressure
                // within seconds: the intake stops, the small buffer
                // fills, and the mode decides.
                "--max-lag".to_owned(),
                "100".to_owned(),
                "--buffer-bytes".to_owned(),
                "2048".to_owned(),
                "--backpressure".to_owned(),
                args.backpressure.name().to_owned(),
            ];
            serve_args.extend(args.bus.to_args());
            let options = demo::DemoOptions {
                data: args.data,
                script: args.script,
                pace: args.pace,
                plain: args.plain,
                serve_args,
            };
            match demo::run(options) {
                Ok(outcome) if outcome.all_green => ExitCode::SUCCESS,
                Ok(_) => ExitCode::FAILURE,
                Err(error) => {
                    report(&error);
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Prints an error and each of its causes, once each.
fn report(error: &dyn std::error::Error) {
    eprintln!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        eprintln!("  because: {cause}");
        source = cause.source();
    }
}
