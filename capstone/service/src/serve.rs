//! `capstone serve`: the booking service on real files, with a load
//! generator, fault injection through a control file, a status file, and a
//! graceful shutdown on Ctrl-C or SIGTERM.

use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use std::time::Instant;

use solution14_capstone::{
    BookingEvent, BookingId, CapstoneConfig, FsyncPolicy, Metrics, Opened, OutboxDb, OutboxError,
    Pipeline, PipelineError, RealDisk, SERVICE_DB, SeatId, UserId,
};

use crate::status::{self, State};

/// The file `capstone demo` (or a person) appends commands to; see
/// [`Control`].
pub const CONTROL_FILE: &str = "control";

/// What `capstone serve` was asked to do.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub data: PathBuf,
    pub partitions: u32,
    pub fsync: FsyncPolicy,
    /// Booking requests per second from the built-in load generator; 0: none.
    pub rate: u32,
    /// How many seats the venue has (at most 2,574: rows A to Z of 99).
    pub seats: u32,
    /// One payment for every this-many requests.
    pub pay_every: u32,
    /// Above this many records not yet relayed or committed, the load
    /// generator's new requests are refused: backpressure at the door.
    pub max_lag: u64,
    pub tick: Duration,
    /// How long the shutdown waits for in-flight rounds before it hands them
    /// back.
    pub drain: Duration,
    pub seed: u64,
}

/// Why the service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("the pipeline failed; start the service again to recover")]
    Pipeline(#[from] PipelineError),
    #[error("could not {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Counters of the service's own, beside the pipeline's metrics.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) requests: AtomicU64,
    pub(crate) payments: AtomicU64,
    /// Requests the service's state refused (a seat taken, a late payment).
    pub(crate) refused: AtomicU64,
    /// Requests turned away by backpressure.
    pub(crate) shed: AtomicU64,
    pub(crate) slow_ms: AtomicU64,
    pub(crate) restarts_seen: AtomicU64,
    pub(crate) torn_bytes: AtomicU64,
}

/// Runs the service until a signal stops it; returns once it is closed.
pub fn run(options: ServeOptions) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| ServeError::Io {
            action: "start the async runtime for",
            path: options.data.clone(),
            source,
        })?;
    runtime.block_on(serve(options))
}

async fn serve(options: ServeOptions) -> Result<(), ServeError> {
    let dir = options.data.clone();
    std::fs::create_dir_all(&dir).map_err(|source| ServeError::Io {
        action: "create the data directory",
        path: dir.clone(),
        source,
    })?;
    let mut config = CapstoneConfig::new(options.partitions);
    config.fsync = options.fsync;
    config.seed = options.seed;
    // A payment whose request never comes waits two seconds, not thirty: a
    // round of its partition ends only when nothing is parked.
    config.worker.park.max_wait = Duration::from_secs(2);
    let (mut pipeline, opened) = Pipeline::open(RealDisk, &dir, config)?;
    let counters = Arc::new(Counters::default());
    report_recovery(&opened, &counters);
    tracing::info!(
        dir = %dir.display(),
        partitions = options.partitions,
        fsync = ?options.fsync,
        "service started"
    );

    let stopping = Arc::new(AtomicBool::new(false));
    tokio::spawn(watch_signals(Arc::clone(&stopping)));
    let state = Arc::new(AtomicU64::new(0));
    let writer = spawn_status_writer(
        dir.clone(),
        pipeline.metrics(),
        Arc::clone(&counters),
        Arc::clone(&state),
    );

    let mut control = Control::open(&dir.join(CONTROL_FILE));
    let intake_open = Arc::new(AtomicBool::new(true));
    let load = spawn_load(
        &options,
        &dir.join(SERVICE_DB),
        config,
        pipeline.metrics(),
        Arc::clone(&counters),
        Arc::clone(&intake_open),
    );
    while !stopping.load(Ordering::SeqCst) && !load.is_finished() {
        control.apply(&mut pipeline, &counters);
        step(&mut pipeline, &stopping).await?;
        tokio::time::sleep(options.tick).await;
    }

    // Stop intake first: the clients' thread takes no new request once it
    // sees the flag, and everything it was told yes to is in the outbox.
    intake_open.store(false, Ordering::SeqCst);
    match load.join() {
        Ok(Ok(())) => {}
        Ok(Err(error)) => return Err(error),
        Err(_panic) => {
            tracing::error!("the load generator panicked; draining anyway");
        }
    }
    tracing::info!("shutdown: intake closed, draining");
    state.store(1, Ordering::SeqCst);
    let closed = pipeline.shutdown(options.drain).await?;
    update_dead_letters(&pipeline);
    tracing::info!(
        relayed = closed.relayed,
        routed = closed.routed,
        committed = ?closed.committed,
        handed_back = ?closed.handed_back,
        "shutdown: committed, flushed, closed"
    );
    state.store(2, Ordering::SeqCst);
    drop(pipeline);
    // The writer sees the closed state, writes it once more and stops.
    let _ = writer.join();
    Ok(())
}

/// One turn of the pipeline: relay, route, and a round of each partition,
/// stopping between partitions when a signal came.
async fn step(
    pipeline: &mut Pipeline<RealDisk>,
    stopping: &AtomicBool,
) -> Result<(), PipelineError> {
    pipeline.relay_all()?;
    pipeline.route()?;
    let partitions: Vec<_> = pipeline.partitions().collect();
    for partition in partitions {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        pipeline.consume(partition).await?;
        update_dead_letters(pipeline);
    }
    Ok(())
}

fn update_dead_letters(pipeline: &Pipeline<RealDisk>) {
    if let Ok(end) = pipeline.dead_letters().end() {
        pipeline
            .metrics()
            .dead_lettered
            .store(end.0, Ordering::Relaxed);
    }
}

/// Starts the load generator: the clients of the service, on a thread of
/// their own with their own connection to the service's database, so that
/// requests keep arriving while the pipeline is busy in a slow round (as
/// they would from real clients). Above `max_lag` records not yet committed
/// or relayed, new requests are refused: backpressure at the door.
pub(crate) fn spawn_load(
    options: &ServeOptions,
    service_db: &Path,
    config: CapstoneConfig,
    metrics: Arc<Metrics>,
    counters: Arc<Counters>,
    intake_open: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Result<(), ServeError>> {
    let rate = options.rate;
    let max_lag = options.max_lag;
    let tick = options.tick;
    let mut load = Load::new(options.seed, options.seats, options.pay_every);
    let service_db = service_db.to_path_buf();
    std::thread::spawn(move || {
        let mut outbox = OutboxDb::open(&service_db, config.db)
            .map_err(|source| ServeError::Pipeline(PipelineError::Outbox(source)))?;
        let mut last = Instant::now();
        let mut owed = 0.0_f64;
        while intake_open.load(Ordering::SeqCst) {
            let now = Instant::now();
            owed += f64::from(rate) * now.duration_since(last).as_secs_f64();
            last = now;
            let due = owed.floor();
            // Clients that were not served within a second gave up.
            owed = (owed - due).min(f64::from(rate));
            for _ in 0..due as u64 {
                let backlog = metrics.outbox_backlog.load(Ordering::Relaxed);
                let lag: u64 = metrics
                    .partitions()
                    .iter()
                    .map(|partition| partition.lag())
                    .sum();
                if lag + backlog > max_lag {
                    counters.shed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                take(&mut outbox, &mut load, &counters)?;
                metrics.outbox_backlog.fetch_add(1, Ordering::Relaxed);
            }
            std::thread::sleep(tick);
        }
        Ok(())
    })
}

/// One request from the load generator: a new booking, a payment or an
/// expiry of an old hold, applied and queued in the outbox in one
/// transaction (step 13).
fn take(outbox: &mut OutboxDb, load: &mut Load, counters: &Counters) -> Result<(), ServeError> {
    let event = load.next_event();
    let is_payment = matches!(event, BookingEvent::PaymentReceived { .. });
    match outbox.record(&event) {
        Ok(_row) => {
            load.accepted(&event);
            let counter = if is_payment {
                &counters.payments
            } else {
                &counters.requests
            };
            counter.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        Err(OutboxError::SeatTaken { .. } | OutboxError::Rejected(_)) => {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        Err(error) => Err(PipelineError::Outbox(error).into()),
    }
}

fn report_recovery(opened: &Opened, counters: &Counters) {
    for (partition, recovery) in opened.topic.partitions.iter().enumerate() {
        if let Some(torn) = &recovery.torn_tail {
            counters
                .torn_bytes
                .fetch_add(torn.dropped_bytes, Ordering::Relaxed);
            tracing::warn!(
                partition,
                file = %torn.file.display(),
                at = torn.position,
                dropped_bytes = torn.dropped_bytes,
                "recovery cut a torn tail off the topic"
            );
        }
        tracing::info!(partition, records = recovery.records, "recovered");
    }
    counters.restarts_seen.store(1, Ordering::Relaxed);
}

/// Waits for Ctrl-C or SIGTERM: the first starts the graceful shutdown, the
/// second ends the process at once (exit code 130).
pub(crate) async fn watch_signals(stopping: Arc<AtomicBool>) {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => Some(signal),
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; Ctrl-C only");
                None
            }
        };
    for second in [false, true] {
        tokio::select! {
            result = tokio::signal::ctrl_c() => {
                if let Err(error) = result {
                    tracing::warn!(%error, "cannot listen for Ctrl-C");
                    std::future::pending::<()>().await;
                }
            }
            Some(()) = async {
                match terminate.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            } => {}
        }
        if second {
            eprintln!("second signal: stopping at once, without draining");
            std::process::exit(130);
        }
        eprintln!(
            "stopping: finishing the work in flight (send the signal again \
             to stop at once)"
        );
        stopping.store(true, Ordering::SeqCst);
    }
}

/// Writes the status file five times a second from its own thread, so it
/// stays fresh while the pipeline's thread is busy in a slow round.
fn spawn_status_writer(
    dir: PathBuf,
    metrics: Arc<Metrics>,
    counters: Arc<Counters>,
    state: Arc<AtomicU64>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        loop {
            let now = match state.load(Ordering::SeqCst) {
                0 => State::Running,
                1 => State::Draining,
                _ => State::Closed,
            };
            let extra = [
                ("requests", counters.requests.load(Ordering::Relaxed)),
                ("payments", counters.payments.load(Ordering::Relaxed)),
                ("refused", counters.refused.load(Ordering::Relaxed)),
                ("shed", counters.shed.load(Ordering::Relaxed)),
                ("slow_ms", counters.slow_ms.load(Ordering::Relaxed)),
                ("torn_bytes", counters.torn_bytes.load(Ordering::Relaxed)),
            ];
            let text = status::render(now, &metrics, &extra);
            if let Err(error) = status::write(&dir, &text) {
                tracing::warn!(%error, "cannot write the status file");
            }
            if now == State::Closed {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })
}

/// The control file: one command per line, read from where the last read
/// stopped. Commands written before the service started are not replayed.
///
/// - `slow MS`: the handler sleeps MS milliseconds per event (0: off);
/// - `transient N`: the next N handler calls fail as a dropped connection;
/// - `duplicates N`: the next N routed events are appended twice;
/// - `poison N`: the next N routed events get a poison pill before them.
pub(crate) struct Control {
    path: PathBuf,
    read_to: u64,
}

impl Control {
    pub(crate) fn open(path: &Path) -> Control {
        let read_to = std::fs::metadata(path).map_or(0, |meta| meta.len());
        Control {
            path: path.to_path_buf(),
            read_to,
        }
    }

    pub(crate) fn apply(&mut self, pipeline: &mut Pipeline<RealDisk>, counters: &Counters) {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return;
        };
        let mut text = String::new();
        if file.seek(SeekFrom::Start(self.read_to)).is_err()
            || file.read_to_string(&mut text).is_err()
        {
            return;
        }
        // Only whole lines; a line still being written waits for next time.
        let Some(end) = text.rfind('\n') else {
            return;
        };
        self.read_to += end as u64 + 1;
        for line in text[..end].lines() {
            let mut words = line.split_whitespace();
            let (Some(command), Some(Ok(n))) = (words.next(), words.next().map(str::parse::<u32>))
            else {
                tracing::warn!(line, "control: not a command");
                continue;
            };
            let faults = pipeline.faults_mut();
            match command {
                "slow" => {
                    faults.slow = Duration::from_millis(u64::from(n));
                    counters.slow_ms.store(u64::from(n), Ordering::Relaxed);
                }
                "transient" => faults.transient += n,
                "duplicates" => faults.duplicates += n,
                "poison" => faults.poison_pills += n,
                _ => {
                    tracing::warn!(line, "control: unknown command");
                    continue;
                }
            }
            tracing::info!(command, n, "control: fault injected");
        }
    }
}

/// The built-in load generator: requests for random seats, payments of some
/// holds, expiries of old unpaid holds (which free their seats again).
struct Load {
    random: u64,
    seats: u32,
    pay_every: u32,
    held: Vec<BookingId>,
}

impl Load {
    fn new(seed: u64, seats: u32, pay_every: u32) -> Load {
        Load {
            random: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            seats: seats.clamp(1, 26 * 99),
            pay_every: pay_every.max(1),
            held: Vec::new(),
        }
    }

    /// xorshift64*: a seeded run sends the same requests.
    fn below(&mut self, n: u64) -> u64 {
        self.random ^= self.random >> 12;
        self.random ^= self.random << 25;
        self.random ^= self.random >> 27;
        self.random.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }

    fn next_event(&mut self) -> BookingEvent {
        let roll = self.below(u64::from(self.pay_every));
        if !self.held.is_empty() && roll == 0 {
            let index = self.below(self.held.len() as u64) as usize;
            let booking_id = self.held.swap_remove(index);
            return BookingEvent::PaymentReceived { booking_id };
        }
        if self.held.len() > 64 && roll == 1 {
            // The oldest hold ran out before it was paid.
            let booking_id = self.held.remove(0);
            return BookingEvent::ReservationExpired { booking_id };
        }
        let n = self.below(u64::from(self.seats)) as u32;
        BookingEvent::ReservationRequested {
            booking_id: BookingId::new(),
            seat_id: seat(n),
            user_id: UserId::new(),
        }
    }

    fn accepted(&mut self, event: &BookingEvent) {
        if let BookingEvent::ReservationRequested { booking_id, .. } = event {
            self.held.push(*booking_id);
        }
    }
}

/// Seat `n` of a venue with rows A to Z of 99 seats.
fn seat(n: u32) -> SeatId {
    let row = char::from(b'A' + (n / 99 % 26) as u8);
    // Every name made here is a valid seat; fall back to A1 all the same.
    SeatId::parse(&format!("{row}{}", n % 99 + 1))
        .or_else(|_| SeatId::parse("A1"))
        .expect("A1 is a valid seat")
}
