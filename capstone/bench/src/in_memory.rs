//! The workshop's in-memory pipeline beside a tokio `mpsc` channel, moving the
//! same encoded events to the same handler.
//!
//! The pipeline, as a booking service without disks would run it:
//!
//! ```text
//! producer task --ProducerBuffer::send (step 05, Block)--> sender task
//!   --Producer::send (step 04: partition by key, batch)--> LogBroker
//!   --Log::append (step 06, 4 partitions)--> Consumer stream (step 08:
//!   read in batches, decode) --> MemoryBookings (step 01's state machine)
//! ```
//!
//! The channel: a producer task sends each record into a bounded
//! `tokio::sync::mpsc` channel, and a consumer task receives it, decodes it
//! with step 02's `decode` (as step 08's consumer does) and hands it to the
//! same handler. The channel is what a service would use if it needed no log:
//! no partitions, no batches, no offsets, nothing kept after delivery. Its
//! events per second are the ceiling the pipeline is measured against.
//!
//! Both sides buffer about the same number of bytes (the channel's capacity in
//! records is the producer buffer's bytes over the average record size), and
//! both run on the same current-thread runtime, one side after the other: on
//! a shared 2-core machine one thread measures the work per event, not which
//! neighbour got the second core.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use solution01_events::{BookingEvent, BookingId, BookingState, SeatId, UserId, apply};
use solution02_protobuf::{WireError, decode, encode};
use solution04_batching::{
    Batch, BatchConfig, BrokerClient, FlushError, Producer, SendError, Topic, TopicError,
};
use solution05_backpressure::{BackpressureMode, BufferError, ProducerBuffer};
use solution06_log::{Log, LogError, Offset, Partition, Record};
use solution08_stream::{AssignmentError, ConsumeError, Consumer};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

/// The partitions of the pipeline's topic.
pub const PARTITIONS: u32 = 4;

/// The producer buffer's bound, in bytes, and so the channel's too.
pub const BUFFER_BYTES: u32 = 256 * 1024;

/// What moved through one side, and how long it took.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moved {
    /// Events the handler took.
    pub handled: usize,
    /// Bookings the handler ended with confirmed: every one, if each
    /// booking's payment came after its request.
    pub confirmed: usize,
    /// From the first send to the last event handled.
    pub elapsed: Duration,
}

impl Moved {
    pub fn events_per_second(&self) -> f64 {
        self.handled as f64 / self.elapsed.as_secs_f64()
    }
}

/// Why a side stopped before it moved every event. Nothing is injected, so
/// each of these is a bug in the wiring.
#[derive(Debug, thiserror::Error)]
pub enum InMemoryError {
    #[error("the topic could not be made")]
    Topic(#[from] TopicError),
    #[error("the log could not be made or refused an append")]
    Log(#[from] LogError),
    #[error("the producer buffer refused a record")]
    Buffer(#[from] BufferError),
    #[error("the producer could not send a batch to the log")]
    Flush(#[from] FlushError),
    #[error("the consumer refused its assignment")]
    Assignment(#[from] AssignmentError),
    #[error("the consumer handed out an error instead of an event")]
    Consume(#[from] ConsumeError),
    #[error("a record received from the channel is not a booking event")]
    Decode(#[from] WireError),
    #[error(
        "the {side} ended after {handled} of {expected} events: a task stopped \
         early"
    )]
    Short {
        side: &'static str,
        handled: usize,
        expected: usize,
    },
    #[error("a task of the {side} panicked; its message is printed above")]
    Panicked { side: &'static str },
}

/// `bookings` bookings as encoded records, a `ReservationRequested` then a
/// `PaymentReceived` each, keyed by booking id (step 03's rule), with step
/// 02's encoding.
pub fn encoded_events(bookings: usize) -> Vec<Record> {
    let seat = SeatId::parse("A12").unwrap_or_else(|_| unreachable!("A12 is a valid seat"));
    let mut records = Vec::with_capacity(bookings * 2);
    for _ in 0..bookings {
        let booking_id = BookingId::new();
        let key = bytes::Bytes::copy_from_slice(booking_id.as_uuid().as_bytes());
        let request = BookingEvent::ReservationRequested {
            booking_id,
            seat_id: seat.clone(),
            user_id: UserId::new(),
        };
        let payment = BookingEvent::PaymentReceived { booking_id };
        records.push(Record::new(key.clone(), encode(&request)));
        records.push(Record::new(key, encode(&payment)));
    }
    records
}

/// The handler of both sides, without SQLite: step 01's state machine over
/// a map of bookings. (No seat index: every booking here asks for the same
/// seat, which would measure refusals instead of handling.)
#[derive(Debug, Default)]
pub struct MemoryBookings {
    states: HashMap<BookingId, BookingState>,
    handled: usize,
    refused: usize,
}

impl MemoryBookings {
    pub fn handle(&mut self, event: &BookingEvent) {
        self.handled += 1;
        let state = self
            .states
            .get(&event.booking_id())
            .cloned()
            .unwrap_or(BookingState::Empty);
        match apply(&state, event) {
            Ok(next) => {
                self.states.insert(event.booking_id(), next);
            }
            Err(_refused) => self.refused += 1,
        }
    }

    pub fn handled(&self) -> usize {
        self.handled
    }

    /// Events the state machine refused: none when every booking's events
    /// arrive in order.
    pub fn refused(&self) -> usize {
        self.refused
    }

    pub fn confirmed(&self) -> usize {
        self.states
            .values()
            .filter(|state| matches!(state, BookingState::Confirmed { .. }))
            .count()
    }
}

/// Step 04's broker, made of step 06's log: each batch is appended record by
/// record to its partition.
struct LogBroker(Arc<Log>);

impl BrokerClient for LogBroker {
    async fn send(
        &self,
        _topic: &str,
        partition: Partition,
        batch: &Batch,
    ) -> Result<(), SendError> {
        for record in batch.records() {
            // The only error is an unknown partition, which the first record
            // meets before anything is stored: the batch is stored whole or
            // not at all, as `BrokerClient` requires.
            self.0
                .append(partition, record.clone())
                .map_err(|error| SendError::new(error.to_string()))?;
        }
        Ok(())
    }
}

/// A current-thread runtime, which both sides run on.
pub fn runtime() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_current_thread().build()
}

/// Moves `events` through the pipeline and returns what the handler saw.
pub fn through_pipeline(
    runtime: &Runtime,
    events: Arc<Vec<Record>>,
) -> Result<Moved, InMemoryError> {
    let expected = events.len();
    runtime.block_on(async move {
        let log = Arc::new(Log::new(PARTITIONS)?);
        let topic = Topic::new("bookings", PARTITIONS)?;
        let batches = BatchConfig::default();
        let mut producer = Producer::new(topic, batches, LogBroker(Arc::clone(&log)));
        let buffer = Arc::new(ProducerBuffer::new(BUFFER_BYTES));
        let assignments = (0..PARTITIONS).map(|p| (Partition(p), Offset(0))).collect();
        let mut consumer = Consumer::new(Arc::clone(&log), assignments)?;

        let started = Instant::now();
        let produce = tokio::spawn({
            let buffer = Arc::clone(&buffer);
            async move {
                for record in events.iter() {
                    buffer.send(record.clone(), BackpressureMode::Block).await?;
                }
                // Closed: the sender sends what is left and stops.
                buffer.close();
                Ok::<_, InMemoryError>(())
            }
        });
        let send = tokio::spawn(async move {
            loop {
                // Read before draining: once the buffer is closed, a drain
                // that finds nothing means nothing more will come.
                let closed = buffer.is_closed();
                let records = buffer.drain(batches.max_batch_bytes);
                if records.is_empty() {
                    if closed {
                        break;
                    }
                    // Nothing buffered yet: let the producer run.
                    tokio::task::yield_now().await;
                    continue;
                }
                for record in records {
                    producer.send(record).await?;
                }
            }
            producer.flush_all().await?;
            Ok::<_, InMemoryError>(())
        });
        let consume = tokio::spawn(async move {
            use futures::StreamExt;
            let mut handler = MemoryBookings::default();
            while handler.handled() < expected {
                match consumer.next().await {
                    Some(Ok(record)) => handler.handle(&record.event),
                    Some(Err(error)) => return Err(error.into()),
                    None => break,
                }
            }
            Ok::<_, InMemoryError>((handler, Instant::now()))
        });
        let side = "pipeline";
        let panicked = |_| InMemoryError::Panicked { side };
        produce.await.map_err(panicked)??;
        send.await.map_err(panicked)??;
        let (handler, done) = consume.await.map_err(panicked)??;
        finish(side, &handler, expected, done.duration_since(started))
    })
}

/// Moves `events` through a bounded `tokio::sync::mpsc` channel to the same
/// handler, decoding each as step 08's consumer does.
pub fn through_channel(
    runtime: &Runtime,
    events: Arc<Vec<Record>>,
) -> Result<Moved, InMemoryError> {
    let expected = events.len();
    let average = events.iter().map(Record::size).sum::<usize>() / expected.max(1);
    let capacity = (BUFFER_BYTES as usize / average.max(1)).max(1);
    runtime.block_on(async move {
        let (sender, mut receiver) = mpsc::channel::<Record>(capacity);
        let started = Instant::now();
        let produce = tokio::spawn(async move {
            for record in events.iter() {
                if sender.send(record.clone()).await.is_err() {
                    // The consumer stopped; it reports why.
                    break;
                }
            }
        });
        let consume = tokio::spawn(async move {
            let mut handler = MemoryBookings::default();
            while let Some(record) = receiver.recv().await {
                handler.handle(&decode(&record.value)?);
            }
            Ok::<_, InMemoryError>((handler, Instant::now()))
        });
        let side = "channel";
        produce
            .await
            .map_err(|_| InMemoryError::Panicked { side })?;
        let (handler, done) = consume
            .await
            .map_err(|_| InMemoryError::Panicked { side })??;
        finish(side, &handler, expected, done.duration_since(started))
    })
}

fn finish(
    side: &'static str,
    handler: &MemoryBookings,
    expected: usize,
    elapsed: Duration,
) -> Result<Moved, InMemoryError> {
    if handler.handled() != expected {
        return Err(InMemoryError::Short {
            side,
            handled: handler.handled(),
            expected,
        });
    }
    Ok(Moved {
        handled: handler.handled(),
        confirmed: handler.confirmed(),
        elapsed,
    })
}
