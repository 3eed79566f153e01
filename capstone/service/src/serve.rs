//! `capstone serve`: the booking service on real files, with a load
//! generator behind step 05's bounded producer buffer, fault injection
//! through a control file, a status file, and a graceful shutdown on Ctrl-C
//! or SIGTERM.
//!
//! ```text
//! load generator --ProducerBuffer::send(mode)--> producer buffer (step 05)
//!   --intake thread, while the lag is below --max-lag--> outbox (step 13)
//!   --the pipeline's turns--> relay, router, consumers (step 14)
//! ```

use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use std::time::Instant;

use solution05_backpressure::{BackpressureMode, BufferError, ProducerBuffer, Record};
use solution14_capstone::{
    BookingEvent, BookingId, CapstoneConfig, FsyncPolicy, Metrics, Opened, OutboxDb, OutboxError,
    Pipeline, PipelineError, RealDisk, RelayError, SERVICE_DB, SeatId, UserId, partition_key,
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
    /// Above this many records not yet relayed or committed, the intake stops
    /// taking requests out of the producer buffer: the buffer fills, and
    /// `backpressure` decides what the load generator does.
    pub max_lag: u64,
    /// What a send into the full producer buffer does (step 05).
    pub backpressure: BackpressureMode,
    /// The producer buffer's budget in bytes.
    pub buffer_bytes: u32,
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
    #[error(
        "the intake found a record in the producer buffer that is not a \
         booking event; only the load generator writes there, so this is a \
         bug in it"
    )]
    NotAnEvent(#[source] solution02_protobuf::WireError),
    #[error(
        "the intake thread panicked (its message is printed above); requests \
         left in the producer buffer were not recorded"
    )]
    IntakePanicked,
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
    /// Requests the load generator put into the producer buffer.
    pub(crate) sent: AtomicU64,
    /// Sends that found the buffer full and waited for room (modes `Block`
    /// and `BlockWithTimeout`).
    pub(crate) buffer_waits: AtomicU64,
    /// 1 while the load generator waits in a send, else 0.
    pub(crate) waiting: AtomicU64,
    /// Requests the full buffer handed back to the load generator: at once
    /// with `FailImmediately`, after the timeout with `BlockWithTimeout`.
    /// Never with `Block`.
    pub(crate) handed_back: AtomicU64,
    /// Requests handed back because the shutdown closed the buffer: "try
    /// again later", as `PipelineError::Closed` says to a client.
    pub(crate) closed_back: AtomicU64,
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
    let buffer = Arc::new(ProducerBuffer::new(options.buffer_bytes));
    let writer = spawn_status_writer(
        dir.clone(),
        pipeline.metrics(),
        Arc::clone(&counters),
        Arc::clone(&buffer),
        options.backpressure,
        Arc::clone(&state),
    );

    let mut control = Control::open(&dir.join(CONTROL_FILE));
    let intake_open = Arc::new(AtomicBool::new(true));
    // A restart does not send the requests of the last start again (their
    // seats are taken): the generator's seed moves on with the topic.
    let resumed: u64 = pipeline
        .partitions()
        .map(|partition| pipeline.log_end(partition).map_or(0, |end| end.0))
        .sum();
    let intake_db =
        OutboxDb::open(&dir.join(SERVICE_DB), config.db).map_err(PipelineError::from)?;
    let clients = Clients::start(
        &options,
        options.seed.wrapping_add(resumed),
        intake_db,
        &buffer,
        pipeline.metrics(),
        &counters,
        &intake_open,
    );
    while !stopping.load(Ordering::SeqCst) && clients.running() {
        control.apply(&mut pipeline, &counters);
        step(&mut pipeline, &stopping).await?;
        tokio::time::sleep(options.tick).await;
    }

    // Stop intake first: the load generator sends nothing more once it sees
    // the flag, and closing the buffer hands a send that waits its request
    // back. What the buffer took is still in it: the intake thread records
    // all of it in the outbox, whatever the lag, before it stops.
    clients.stop(&intake_open, &buffer)?;
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
    match pipeline.relay_all() {
        // The intake thread held the database for the whole busy timeout
        // (SQLite's lock is not fair under a flood of writes). Nothing was
        // marked, so the next turn relays the same rows; route and consume
        // what is already in the logs meanwhile.
        Err(PipelineError::Relay(RelayError::Outbox(OutboxError::Locked { .. }))) => {
            tracing::warn!("the outbox was locked by the intake; relaying next turn");
        }
        result => {
            result?;
        }
    }
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

/// The service's clients: the load generator and the intake that records
/// what it sends, each on a thread of its own, with step 05's producer buffer
/// between them. Both buses (`serve` and `jetstream`) start and stop them
/// the same way.
pub(crate) struct Clients {
    generator: std::thread::JoinHandle<()>,
    intake: std::thread::JoinHandle<Result<(), ServeError>>,
}

impl Clients {
    /// Starts both threads; `seed` is the generator's (moved on by what the
    /// log already holds, so a restart does not ask for the same seats).
    pub(crate) fn start(
        options: &ServeOptions,
        seed: u64,
        intake_db: OutboxDb,
        buffer: &Arc<ProducerBuffer>,
        metrics: Arc<Metrics>,
        counters: &Arc<Counters>,
        intake_open: &Arc<AtomicBool>,
    ) -> Clients {
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let generator = spawn_load_generator(
            options,
            seed,
            held_rx,
            Arc::clone(buffer),
            Arc::clone(counters),
            Arc::clone(intake_open),
        );
        let intake = spawn_intake(
            options,
            intake_db,
            Arc::clone(buffer),
            metrics,
            Arc::clone(counters),
            Arc::clone(intake_open),
            held_tx,
        );
        Clients { generator, intake }
    }

    /// `false` once either thread has ended (the intake on an error).
    pub(crate) fn running(&self) -> bool {
        !self.generator.is_finished() && !self.intake.is_finished()
    }

    /// Stops intake: the generator sends nothing more once it sees the
    /// flag, and closing the buffer hands a waiting send its request back.
    /// What the buffer took is still in it: the intake records all of it in
    /// the outbox, whatever the lag, before it returns.
    pub(crate) fn stop(
        self,
        intake_open: &AtomicBool,
        buffer: &ProducerBuffer,
    ) -> Result<(), ServeError> {
        intake_open.store(false, Ordering::SeqCst);
        buffer.close();
        if self.generator.join().is_err() {
            tracing::error!("the load generator panicked; draining anyway");
        }
        self.intake
            .join()
            .map_err(|_panic| ServeError::IntakePanicked)?
    }
}

/// Starts the load generator: the clients of the service, on a thread of
/// their own, so that requests keep coming while the pipeline is busy in a
/// slow round (as they would from real clients). Each request goes into the
/// producer buffer with step 05's `send` in the configured mode; when the
/// buffer is full, the mode decides: wait for room, wait up to a timeout, or
/// take the request back at once. A request handed back is not sent again:
/// the client gave up. The intake tells the generator, through `held`, which
/// bookings the service holds, so that payments go to real holds.
fn spawn_load_generator(
    options: &ServeOptions,
    seed: u64,
    held: std::sync::mpsc::Receiver<BookingId>,
    buffer: Arc<ProducerBuffer>,
    counters: Arc<Counters>,
    intake_open: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let rate = options.rate;
    let tick = options.tick;
    let mode = options.backpressure;
    let mut load = Load::new(seed, options.seats, options.pay_every);
    std::thread::spawn(move || {
        // A runtime of the thread's own for the async `send`: `Block` and
        // `BlockWithTimeout` wait on the buffer's semaphore and on a timer.
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                tracing::error!(%error, "the load generator cannot start: no requests");
                return;
            }
        };
        let mut last = Instant::now();
        let mut owed = 0.0_f64;
        while intake_open.load(Ordering::SeqCst) {
            for booking_id in held.try_iter() {
                load.held(booking_id);
            }
            let now = Instant::now();
            owed += f64::from(rate) * now.duration_since(last).as_secs_f64();
            last = now;
            let due = owed.floor();
            // Clients that were not served within a second gave up: a
            // generator that waited sends fewer requests, not a burst.
            owed = (owed - due).min(f64::from(rate));
            for _ in 0..due as u64 {
                if !intake_open.load(Ordering::SeqCst) {
                    break;
                }
                let event = load.next_event();
                let record =
                    Record::new(partition_key(&event), solution02_protobuf::encode(&event));
                offer(&runtime, &buffer, record, mode, &counters);
            }
            std::thread::sleep(tick);
        }
    })
}

/// Sends `record` into the buffer as `mode` says, and counts what happened.
fn offer(
    runtime: &tokio::runtime::Runtime,
    buffer: &ProducerBuffer,
    record: Record,
    mode: BackpressureMode,
    counters: &Counters,
) {
    // A first try without waiting tells a send that had to wait from one
    // that did not. With `FailImmediately` it is the whole send.
    let refused = match buffer.try_send(record) {
        Ok(()) => None,
        Err(BufferError::Full(record)) if mode != BackpressureMode::FailImmediately => {
            counters.buffer_waits.fetch_add(1, Ordering::Relaxed);
            counters.waiting.store(1, Ordering::SeqCst);
            let sent = runtime.block_on(buffer.send(record, mode));
            counters.waiting.store(0, Ordering::SeqCst);
            sent.err()
        }
        Err(error) => Some(error),
    };
    match refused {
        None => {
            counters.sent.fetch_add(1, Ordering::Relaxed);
        }
        Some(BufferError::Closed(_)) => {
            counters.closed_back.fetch_add(1, Ordering::Relaxed);
        }
        Some(error) => {
            counters.handed_back.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%error, "the producer buffer handed a request back");
        }
    }
}

/// Starts the intake: the buffer's other side, on a thread with its own
/// connection to the service's database (`outbox`). It takes one request at a time out
/// of the buffer and records it in the outbox (step 13), as long as at most
/// `max_lag` records wait to be relayed or committed; above that it stops
/// taking, and the buffer fills: backpressure. Once intake is closed it
/// records what is left in the buffer, whatever the lag, and returns.
fn spawn_intake(
    options: &ServeOptions,
    mut outbox: OutboxDb,
    buffer: Arc<ProducerBuffer>,
    metrics: Arc<Metrics>,
    counters: Arc<Counters>,
    intake_open: Arc<AtomicBool>,
    held: std::sync::mpsc::Sender<BookingId>,
) -> std::thread::JoinHandle<Result<(), ServeError>> {
    let max_lag = options.max_lag;
    let idle = Duration::from_millis(10);
    std::thread::spawn(move || {
        loop {
            let closing = !intake_open.load(Ordering::SeqCst);
            let backlog = metrics.outbox_backlog.load(Ordering::Relaxed);
            let lag: u64 = metrics
                .partitions()
                .iter()
                .map(|partition| partition.lag())
                .sum();
            if !closing && lag + backlog > max_lag {
                std::thread::sleep(idle);
                continue;
            }
            let Some(record) = buffer.take() else {
                if closing && buffer.is_closed() {
                    return Ok(());
                }
                std::thread::sleep(idle);
                continue;
            };
            let event =
                solution02_protobuf::decode(&record.value).map_err(ServeError::NotAnEvent)?;
            if take(&mut outbox, &event, &counters)?
                && let BookingEvent::ReservationRequested { booking_id, .. } = event
            {
                // The generator is gone only at shutdown: nobody pays then.
                let _ = held.send(booking_id);
            }
            metrics.outbox_backlog.fetch_add(1, Ordering::Relaxed);
        }
    })
}

/// One request from the load generator: a new booking, a payment or an
/// expiry of an old hold, applied and queued in the outbox in one
/// transaction (step 13). `true` if it was recorded, `false` if the booking
/// rules refused it (a seat taken, a payment for no hold).
fn take(
    outbox: &mut OutboxDb,
    event: &BookingEvent,
    counters: &Counters,
) -> Result<bool, ServeError> {
    let is_payment = matches!(event, BookingEvent::PaymentReceived { .. });
    // A locked database (the pipeline's relay held it for the whole busy
    // timeout) wrote nothing: the same request is recorded again, never
    // dropped, and the service goes on.
    let recorded = loop {
        match outbox.record(event) {
            Err(OutboxError::Locked { .. }) => {
                tracing::warn!("the outbox was locked by the relay; recording again");
            }
            result => break result,
        }
    };
    match recorded {
        Ok(_row) => {
            let counter = if is_payment {
                &counters.payments
            } else {
                &counters.requests
            };
            counter.fetch_add(1, Ordering::Relaxed);
            Ok(true)
        }
        Err(OutboxError::SeatTaken { .. } | OutboxError::Rejected(_)) => {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            Ok(false)
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
    buffer: Arc<ProducerBuffer>,
    mode: BackpressureMode,
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
                ("sent", counters.sent.load(Ordering::Relaxed)),
                ("buffered", buffer.buffered_records() as u64),
                (
                    "buffer_waits",
                    counters.buffer_waits.load(Ordering::Relaxed),
                ),
                ("waiting", counters.waiting.load(Ordering::SeqCst)),
                ("handed_back", counters.handed_back.load(Ordering::Relaxed)),
                ("closed_back", counters.closed_back.load(Ordering::Relaxed)),
                ("slow_ms", counters.slow_ms.load(Ordering::Relaxed)),
                ("torn_bytes", counters.torn_bytes.load(Ordering::Relaxed)),
            ];
            let text = status::render(now, &metrics, &extra, mode_name(mode));
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

/// The mode as the status file and `--backpressure` name it.
pub(crate) fn mode_name(mode: BackpressureMode) -> &'static str {
    match mode {
        BackpressureMode::Block => "block",
        BackpressureMode::BlockWithTimeout(_) => "timeout",
        BackpressureMode::FailImmediately => "fail",
    }
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

    /// The service answered that `booking_id`'s seat is held: a payment or
    /// an expiry may follow.
    fn held(&mut self, booking_id: BookingId) {
        self.held.push(booking_id);
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
