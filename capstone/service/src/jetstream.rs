//! `capstone serve --bus jetstream --servers URL[,URL...]`: the same service
//! with NATS JetStream where the durable log was.
//!
//! ```text
//! intake -> outbox (service.sqlite) -> step 15's relay (message id = event
//!        id) -> stream BOOKINGS, subjects bookings.<n> -> durable consumer
//!        booking-handler -> the same BookingHandler -> consumer.sqlite, ACK
//! ```
//!
//! The pipeline of step 14 is still opened: it owns the booking handler (and
//! its faults) and the consumer's database. Its topic stays empty. The
//! status file shows one row, the whole stream, as the server reports its
//! consumer: one durable consumer reads every subject, one message at a time
//! to keep the outbox's order through a crash (see [`bus_config`]), so the
//! server keeps one ack floor, not one per subject.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use solution05_backpressure::ProducerBuffer;
use solution14_capstone::{
    CapstoneConfig, Metrics, OutboxDb, Pipeline, PipelineError, RealDisk, SERVICE_DB,
};
use solution15_bridge::async_nats::{self, jetstream};
use solution15_bridge::{
    BusConfig, BusError, CONSUMER, DEAD_LETTERS, EventBus as _, JetStreamBus, JetStreamRelayError,
    Partition, STREAM, progress, relay_once, subject,
};

use crate::serve::{
    Clients, Control, Counters, ServeError, ServeOptions, mode_name, watch_signals,
};
use crate::status::{self, State};

/// How long the server waits for the answer to a delivery before it hands
/// the message out again: after a `kill -9`, what the dead process had taken
/// comes back this long after it was delivered.
pub const ACK_WAIT: Duration = Duration::from_secs(5);

/// At most this many fetches per turn, so that the control file and the
/// relay get their turn under a full stream.
const FETCHES_PER_TURN: usize = 4;

/// Why the service on JetStream stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum JetStreamServeError {
    #[error("the service could not run")]
    Serve(#[from] ServeError),
    #[error("--partitions must be at least 1 (the subjects bookings.0 and up)")]
    NoPartitions,
    #[error("JetStream failed; what was not acked comes back on the next start")]
    Bus(#[from] BusError),
    #[error("the relay to JetStream stopped; the next start sends the same rows again")]
    Relay(#[from] JetStreamRelayError),
    #[error("the injected poison pill was not stored by the server")]
    Poison(#[source] async_nats::Error),
}

impl From<PipelineError> for JetStreamServeError {
    fn from(error: PipelineError) -> JetStreamServeError {
        JetStreamServeError::Serve(ServeError::Pipeline(error))
    }
}

/// Runs the service on JetStream until a signal stops it.
pub fn run(options: ServeOptions, servers: String) -> Result<(), JetStreamServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| ServeError::Io {
            action: "start the async runtime for",
            path: options.data.clone(),
            source,
        })?;
    runtime.block_on(serve(options, servers))
}

/// The bus as the service sets it up: one message out at a time, a short
/// AckWait (the demo kills the service on purpose), three copies on a
/// cluster, step 14's retries.
///
/// One message out at a time keeps the stream's order, which is the
/// outbox's, through a kill: the messages a dead process had taken come
/// back after AckWait, and with more out at once the consumer would handle
/// what came after them first. A booking request for a seat would then
/// arrive before the expiry that freed the seat, and be refused, on another
/// subject, where no per-booking order helps (chapter 15).
fn bus_config(
    options: &ServeOptions,
    config: &CapstoneConfig,
    servers: &str,
) -> Result<BusConfig, JetStreamServeError> {
    let partitions =
        NonZeroU32::new(options.partitions).ok_or(JetStreamServeError::NoPartitions)?;
    let addresses = servers.split(',').filter(|url| !url.trim().is_empty());
    Ok(BusConfig {
        partitions,
        retry: config.worker.retry,
        ack_wait: ACK_WAIT,
        max_ack_pending: 1,
        replicas: if addresses.count() >= 3 { 3 } else { 1 },
        ..BusConfig::new()
    })
}

async fn serve(options: ServeOptions, servers: String) -> Result<(), JetStreamServeError> {
    let dir = options.data.clone();
    std::fs::create_dir_all(&dir).map_err(|source| ServeError::Io {
        action: "create the data directory",
        path: dir.clone(),
        source,
    })?;
    let mut config = CapstoneConfig::new(options.partitions);
    config.fsync = options.fsync;
    config.seed = options.seed;
    let bus_config = bus_config(&options, &config, &servers)?;
    // The pipeline owns the booking handler and the consumer's database.
    let (mut pipeline, _opened) = Pipeline::open(RealDisk, &dir, config)?;
    let mut outbox =
        OutboxDb::open(&dir.join(SERVICE_DB), config.db).map_err(PipelineError::Outbox)?;
    let mut bus = JetStreamBus::connect(&servers, bus_config, options.seed).await?;
    let counters = Arc::new(Counters::default());
    counters.restarts_seen.store(1, Ordering::Relaxed);
    tracing::info!(
        dir = %dir.display(),
        servers,
        partitions = options.partitions,
        "service started on JetStream"
    );

    let stopping = Arc::new(AtomicBool::new(false));
    tokio::spawn(watch_signals(Arc::clone(&stopping)));
    let state = Arc::new(AtomicU64::new(0));
    let buffer = Arc::new(ProducerBuffer::new(options.buffer_bytes));
    let writer = tokio::spawn(write_status(
        bus.context().clone(),
        dir.clone(),
        pipeline.metrics(),
        Arc::clone(&counters),
        Arc::clone(&buffer),
        mode_name(options.backpressure),
        Arc::clone(&state),
    ));

    let mut control = Control::open(&dir.join(crate::serve::CONTROL_FILE));
    let intake_open = Arc::new(AtomicBool::new(true));
    // The same clients as on the durable log: a load generator sending into
    // step 05's producer buffer in the chosen mode, and an intake that
    // records what it takes in the outbox while the lag allows. A restart
    // moves the generator's seed on by what the stream already holds.
    let resumed = StreamView::ask(bus.context())
        .await
        .map_or(0, |view| view.end);
    let intake_db =
        OutboxDb::open(&dir.join(SERVICE_DB), config.db).map_err(PipelineError::Outbox)?;
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
        inject(&mut pipeline, &mut outbox, &bus).await?;
        relay_all(&mut outbox, &bus, &pipeline.metrics()).await?;
        for _ in 0..FETCHES_PER_TURN {
            let (_consumed, got) = bus.fetch_once(pipeline.handler_mut()).await?;
            if got == 0 || stopping.load(Ordering::SeqCst) {
                break;
            }
        }
        tokio::time::sleep(options.tick).await;
    }

    // As on the durable log: the intake records everything the buffer took
    // before the drain.
    clients.stop(&intake_open, &buffer)?;
    tracing::info!("shutdown: intake closed, draining");
    state.store(1, Ordering::SeqCst);
    let relayed = relay_all(&mut outbox, &bus, &pipeline.metrics()).await?;
    // Waits for every message, those a killed predecessor left unacked
    // included (they come back after ACK_WAIT). Past the budget, what is
    // not acked stays with the server for the next start.
    let drained = tokio::time::timeout(options.drain, bus.run_until_idle(pipeline.handler_mut()));
    match drained.await {
        Ok(consumed) => {
            let consumed = consumed?;
            tracing::info!(
                relayed,
                handled = consumed.handled,
                dead_lettered = consumed.dead_lettered,
                "shutdown: everything acked, closed"
            );
        }
        Err(_elapsed) => tracing::warn!(
            relayed,
            "shutdown: the drain budget ran out; the server keeps the unacked \
             messages for the next start"
        ),
    }
    state.store(2, Ordering::SeqCst);
    drop(pipeline);
    let _ = writer.await;
    Ok(())
}

/// Relays the outbox to JetStream until nothing is unsent; returns the rows
/// the server stored.
async fn relay_all(
    outbox: &mut OutboxDb,
    bus: &JetStreamBus,
    metrics: &Metrics,
) -> Result<usize, JetStreamServeError> {
    let partitions = bus.config().partitions;
    let mut published = 0;
    loop {
        let pass = relay_once(outbox, bus.context(), partitions, 64, true).await?;
        published += pass.published;
        if pass.duplicates > 0 {
            tracing::info!(
                repeats = pass.duplicates,
                "the server dropped repeated events by their Nats-Msg-Id"
            );
        }
        if pass.published + pass.duplicates == 0 {
            let backlog = outbox.unsent(usize::MAX).map_err(PipelineError::Outbox)?;
            metrics
                .outbox_backlog
                .store(backlog.len() as u64, Ordering::Relaxed);
            return Ok(published);
        }
    }
}

/// The router's faults, as JetStream has them: a duplicate is an event
/// published twice (as a relay killed before its marks does), which the
/// server drops by its id; a poison pill is a message that is not an event,
/// which the consumer terminates into the dead-letter stream.
async fn inject(
    pipeline: &mut Pipeline<RealDisk>,
    outbox: &mut OutboxDb,
    bus: &JetStreamBus,
) -> Result<(), JetStreamServeError> {
    let faults = pipeline.faults_mut();
    let duplicates = std::mem::take(&mut faults.duplicates);
    let poison = std::mem::take(&mut faults.poison_pills);
    if duplicates > 0 {
        // Published, not marked: the next relay pass sends them again.
        let limit = usize::try_from(duplicates).unwrap_or(usize::MAX);
        relay_once(outbox, bus.context(), bus.config().partitions, limit, false).await?;
    }
    for n in 0..poison {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let pill = jetstream::message::PublishMessage::build()
            .payload(b"\xff\xfe not an event"[..].into())
            .message_id(format!("poison-{nanos}-{n}"));
        let ack = bus
            .context()
            .send_publish(subject(Partition(0)), pill)
            .await
            .map_err(|error| JetStreamServeError::Poison(error.into()))?;
        ack.await
            .map_err(|error| JetStreamServeError::Poison(error.into()))?;
    }
    Ok(())
}

/// Writes the status file five times a second, with the stream as the
/// server reports it: its last sequence as the end, the consumer's ack floor
/// as committed, its acks pending as in flight.
async fn write_status(
    context: jetstream::Context,
    dir: PathBuf,
    metrics: Arc<Metrics>,
    counters: Arc<Counters>,
    buffer: Arc<ProducerBuffer>,
    mode: &'static str,
    state: Arc<AtomicU64>,
) {
    let mut last = StreamView::default();
    loop {
        let now = match state.load(Ordering::SeqCst) {
            0 => State::Running,
            1 => State::Draining,
            _ => State::Closed,
        };
        match StreamView::ask(&context).await {
            Ok(view) => last = view,
            Err(error) => tracing::warn!(%error, "cannot read the stream's state"),
        }
        // The load generator's backpressure reads the lag from here.
        if let Some(first) = metrics.partitions().first() {
            first.log_end.store(last.end, Ordering::Relaxed);
            first.committed.store(last.committed, Ordering::Relaxed);
        }
        metrics
            .dead_lettered
            .store(last.dead_letters, Ordering::Relaxed);
        let text = render(now, &last, &metrics, &counters, &buffer, mode);
        if let Err(error) = status::write(&dir, &text) {
            tracing::warn!(%error, "cannot write the status file");
        }
        if now == State::Closed {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The stream and its consumer, as the server answered.
#[derive(Clone, Copy, Debug, Default)]
struct StreamView {
    /// The stream's last sequence: the log end.
    end: u64,
    /// The ack floor: every message up to it is acked or terminated.
    committed: u64,
    /// Not delivered yet (num_pending).
    lag: u64,
    /// Delivered, not acked yet (num_ack_pending).
    in_flight: u64,
    dead_letters: u64,
}

impl StreamView {
    async fn ask(context: &jetstream::Context) -> Result<StreamView, async_nats::Error> {
        let stream = context.get_stream(STREAM).await?;
        let end = stream.get_info().await?.state.last_sequence;
        let consumer: jetstream::consumer::PullConsumer = stream.get_consumer(CONSUMER).await?;
        let now = progress(&consumer.get_info().await?);
        let dead = context.get_stream(DEAD_LETTERS).await?;
        let dead_letters = dead.get_info().await?.state.messages;
        Ok(StreamView {
            end,
            committed: now.committed.0,
            lag: now.lag,
            in_flight: now.in_flight as u64,
            dead_letters,
        })
    }
}

/// The status text, in the format of [`status::render`], with one row for
/// the stream.
fn render(
    state: State,
    view: &StreamView,
    metrics: &Metrics,
    counters: &Counters,
    buffer: &ProducerBuffer,
    mode: &str,
) -> String {
    let state = match state {
        State::Running => "running",
        State::Draining => "draining",
        State::Closed => "closed",
    };
    let mut lines = vec![
        format!("pid {}", std::process::id()),
        format!("state {state}"),
        format!(
            "partition 0 end {} committed {} in_flight {}",
            view.end, view.committed, view.in_flight
        ),
    ];
    let counters = [
        ("handled", metrics.handled.load(Ordering::Relaxed)),
        ("duplicates", metrics.duplicates.load(Ordering::Relaxed)),
        ("failures", metrics.failures.load(Ordering::Relaxed)),
        ("dead_lettered", view.dead_letters),
        (
            "outbox_backlog",
            metrics.outbox_backlog.load(Ordering::Relaxed),
        ),
        ("routed", view.end),
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
        ("torn_bytes", 0),
        ("pending", view.lag),
    ];
    for (name, value) in counters {
        lines.push(format!("{name} {value}"));
    }
    lines.push(format!("backpressure {mode}"));
    lines.join("\n") + "\n"
}
