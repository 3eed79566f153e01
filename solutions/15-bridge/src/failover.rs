//! Bookings through a three-node cluster that loses the stream's leader
//! while they flow: the scenario of the cluster test and of the demo
//! (`cargo run -p solution15-bridge --example failover`), given code.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use solution06_log::Offset;
use solution11_idempotency::{
    BookingDb, EventHandler, EventId, Handled, IdentifiedEvent,
};
use solution12_retries::{Handler, HandlerError, classify};

use crate::consumer::BusConfig;
use crate::error::BusError;
use crate::jetstream::JetStreamBus;
use crate::publish::{STREAM, publish};
use crate::server::NatsCluster;

/// How long the scenario may take before it gives up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);

// ANCHOR: failover_report
/// What happened while the leader was killed.
#[derive(Clone, Debug)]
pub struct FailoverReport {
    /// The node that led the stream and was killed, and the one elected.
    pub killed: String,
    pub new_leader: String,
    /// From the kill to the first stream info that names a new leader.
    pub election: Duration,
    /// The longest wait between two events the consumer handled.
    pub consumer_pause: Duration,
    /// Publishes refused or unanswered, each retried with the same id.
    pub publish_retries: usize,
    /// Every event the cluster acknowledged to the publisher.
    pub acknowledged: Vec<EventId>,
    /// Deliveries the handler's dedupe recognised as repeats.
    pub duplicates: usize,
    /// From the first publish to the last event handled.
    pub total: Duration,
}
// ANCHOR_END: failover_report

/// Why the scenario could not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum FailoverError {
    #[error("the cluster did not get ready for the stream")]
    Bus(#[from] BusError),
    #[error("the stream has no leader to kill")]
    NoLeader,
    #[error(
        "the scenario did not finish within {GIVE_UP_AFTER:?}: {handled} of \
         {events} events handled"
    )]
    TimedOut { handled: usize, events: usize },
}

/// Step 11's handler, unchanged, timing each event it takes.
struct Timed<'a> {
    db: &'a mut BookingDb,
    handled_at: Vec<Instant>,
    duplicates: usize,
}

impl Handler for Timed<'_> {
    fn handle(
        &mut self,
        offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<(), HandlerError> {
        match EventHandler::handle(self.db, offset, event) {
            Ok(Handled::First(_)) => self.handled_at.push(Instant::now()),
            Ok(Handled::Duplicate(_)) => self.duplicates += 1,
            Err(error) => return Err(classify(&error)),
        }
        Ok(())
    }
}

/// Connects to the cluster, retrying while it elects its first leaders.
pub async fn connect_to_cluster(
    cluster: &NatsCluster,
    config: BusConfig,
) -> Result<JetStreamBus, BusError> {
    let started = Instant::now();
    loop {
        match JetStreamBus::connect(&cluster.urls(), config, 11).await {
            Ok(bus) => return Ok(bus),
            Err(_) if started.elapsed() < Duration::from_secs(15) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => return Err(error),
        }
    }
}

async fn leader(jetstream: &jetstream::Context) -> Option<String> {
    let stream = jetstream.get_stream(STREAM).await.ok()?;
    let info = stream.get_info().await.ok()?;
    info.cluster?.leader
}

/// Asks every 50 ms who leads the stream, until it is not `old`: how long
/// the stream had no leader. Each question gets 250 ms: while there is no
/// leader, the server does not answer at all.
async fn watch_election(
    jetstream: jetstream::Context,
    old: String,
    killed_at: Instant,
) -> (String, Duration) {
    loop {
        let asked = tokio::time::timeout(
            Duration::from_millis(250),
            leader(&jetstream),
        );
        if let Ok(Some(new)) = asked.await
            && new != old
        {
            return (new, killed_at.elapsed());
        }
        if killed_at.elapsed() > GIVE_UP_AFTER {
            return (String::new(), killed_at.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ANCHOR: failover
/// Publishes `events` at one every `pace` from one task, consumes them with
/// `db` in this one, and once a third is handled kills the node that leads
/// the stream. Returns when every event is acknowledged and handled.
pub async fn bookings_through_a_leader_kill(
    cluster: &mut NatsCluster,
    config: BusConfig,
    events: Vec<IdentifiedEvent>,
    pace: Duration,
    db: &mut BookingDb,
) -> Result<FailoverReport, FailoverError> {
    let mut bus = connect_to_cluster(cluster, config).await?;
    let count = events.len();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let retries = Arc::new(Mutex::new(0usize));
    let started = Instant::now();
    let publisher = {
        let jetstream = bus.context().clone();
        let acknowledged = Arc::clone(&acknowledged);
        let retries = Arc::clone(&retries);
        tokio::spawn(async move {
            for event in events {
                // Refused ("no responders" while there is no leader) or not
                // answered: the same event, with the same id, again.
                while publish(&jetstream, &event, config.partitions)
                    .await
                    .is_err()
                {
                    *retries.lock().unwrap_or_else(PoisonError::into_inner) +=
                        1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                acknowledged
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(event.id);
                tokio::time::sleep(pace).await;
            }
        })
    };
    let mut handler = Timed {
        db,
        handled_at: Vec::new(),
        duplicates: 0,
    };
    let mut killed: Option<String> = None;
    let mut election = None;
    while handler.handled_at.len() < count || !publisher.is_finished() {
        if started.elapsed() > GIVE_UP_AFTER {
            publisher.abort();
            return Err(FailoverError::TimedOut {
                handled: handler.handled_at.len(),
                events: count,
            });
        }
        if killed.is_none() && handler.handled_at.len() >= count / 3 {
            let name =
                leader(bus.context()).await.ok_or(FailoverError::NoLeader)?;
            let node =
                cluster.node_mut(&name).ok_or(FailoverError::NoLeader)?;
            node.kill();
            election = Some(tokio::spawn(watch_election(
                bus.context().clone(),
                name.clone(),
                Instant::now(),
            )));
            killed = Some(name);
        }
        // A fetch that gets no answer (no consumer leader yet) is given up
        // after a second rather than the client's five: whatever it had
        // delivered and not acked comes back, and the dedupe absorbs it.
        let fetched = tokio::time::timeout(
            Duration::from_secs(1),
            bus.fetch_once(&mut handler),
        );
        match fetched.await {
            Ok(Ok((_, 0)) | Err(_)) | Err(_) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok(Ok(_)) => {}
        }
    }
    let total = started.elapsed();
    let killed = killed.ok_or(FailoverError::NoLeader)?;
    let (new_leader, election) = match election {
        Some(watcher) => watcher.await.unwrap_or_default(),
        None => Default::default(),
    };
    let consumer_pause = handler
        .handled_at
        .windows(2)
        .map(|pair| pair[1].duration_since(pair[0]))
        .max()
        .unwrap_or_default();
    let acknowledged = acknowledged
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let publish_retries =
        *retries.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(FailoverReport {
        killed,
        new_leader,
        election,
        consumer_pause,
        publish_retries,
        acknowledged,
        duplicates: handler.duplicates,
        total,
    })
}
// ANCHOR_END: failover
