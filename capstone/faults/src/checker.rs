//! The checker: judges a [`History`] against a model of what must have
//! happened (the workshop's invariants 1-11, listed in chapter 14's "The
//! seeded fault-injection run"), in the spirit of Jepsen's Kafka workload
//! (lost writes, inconsistent offsets, duplicates, non-monotonic offsets) and
//! Maelstrom's.
//!
//! It never asks the pipeline anything: no log, no database, no commit
//! store. A bug that corrupts the pipeline's own state cannot also convince
//! the checker, because the checker only believes what was observed, in the
//! order it was observed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use crate::history::{BatchSeen, Delivery, Effect, EventInfo, History, Kind, Op};

/// How often one record may be handed to the handler in one session: step
/// 12's worker tries it up to `max_attempts` times, and a parked event up to
/// that many times again once it is released.
pub const MAX_DELIVERIES_PER_SESSION: usize = 8;

/// Which invariant broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// 1: an acknowledged (durable) write, or a row marked sent, is gone.
    LostWrite,
    /// 2: two different records at one offset.
    InconsistentOffset,
    /// 3: the log could not be recovered.
    Unrecoverable,
    /// 4: one (producer, sequence) stored twice, or a retry got another
    /// offset.
    DuplicateBatch,
    /// 5: offsets not 0, 1, 2...; one producer's batches out of order; a
    /// booking's events out of the order they were recorded.
    Order,
    /// 6: a commit went back, passed the log end or an unprocessed record, or
    /// a restart did not resume at the committed offset.
    Commit,
    /// 7: an event took effect twice, or a seat was sold twice.
    Effect,
    /// 8: retries unbounded, or an event processed and dead-lettered, or
    /// neither.
    Outcome,
    /// 9: the producer's buffer passed its bound or grew on a refusal.
    Backpressure,
    /// 10: a committed row never published, or an event published without a
    /// row.
    Outbox,
    /// 11: once faults stopped, the consumers did not catch up.
    Liveness,
    /// The pipeline returned an error it should not have.
    Failed,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::LostWrite => "1 lost acknowledged write",
            Rule::InconsistentOffset => "2 inconsistent offset",
            Rule::Unrecoverable => "3 log not recoverable",
            Rule::DuplicateBatch => "4 duplicate batch / retry moved",
            Rule::Order => "5 order (offsets, sends, keys)",
            Rule::Commit => "6 committed offset",
            Rule::Effect => "7 effect twice / seat sold twice",
            Rule::Outcome => "8 processed or dead-lettered",
            Rule::Backpressure => "9 backpressure bound",
            Rule::Outbox => "10 outbox published",
            Rule::Liveness => "11 liveness",
            Rule::Failed => "pipeline error",
        }
    }
}

/// One broken invariant, with the position in the history where it showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub rule: Rule,
    /// Index of the op in the history where the checker saw it.
    pub at: usize,
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] at op {}: {}", self.rule.name(), self.at, self.what)
    }
}

/// Where a booking stands, in the checker's own model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Model {
    Held,
    Confirmed,
    Over,
}

#[derive(Default)]
struct Session {
    id: u32,
    resume: u64,
    finished: HashSet<u64>,
    deliveries: HashMap<u64, usize>,
}

#[derive(Default)]
struct Checker {
    violations: Vec<Violation>,
    reported: HashSet<(Rule, String)>,
    at: usize,
    events: HashMap<u32, EventInfo>,
    /// Outbox rows per partition, in the order the service committed them.
    rows: BTreeMap<u32, Vec<u32>>,
    row_index: HashMap<u32, usize>,
    marked: BTreeMap<u32, BTreeSet<u32>>,
    gateway: BTreeMap<u32, BTreeSet<u32>>,
    /// Durable acks: (partition, offset) -> (producer, first sequence).
    durable_acks: BTreeMap<(u32, u64), (u32, u64)>,
    /// The offset each (partition, producer, first sequence) got.
    ack_offsets: HashMap<(u32, u32, u64), u64>,
    /// The batch first seen at each (partition, offset).
    seen: HashMap<(u32, u64), BatchSeen>,
    /// Each partition's events as the last read found them, by event offset.
    topic: BTreeMap<u32, Vec<u32>>,
    sessions: BTreeMap<u32, Session>,
    committed: BTreeMap<u32, u64>,
    applied: HashMap<u32, usize>,
    bookings: HashMap<u32, Model>,
    seats: HashMap<String, u32>,
    reported_dead: BTreeSet<(u32, u64)>,
    dead_letter_topic: Option<BTreeSet<(u32, u64)>>,
    faults_stopped: bool,
    ended: bool,
}

/// Checks `history`; an empty answer means every invariant held.
pub fn check(history: &History) -> Vec<Violation> {
    let mut checker = Checker::default();
    for (at, op) in history.ops.iter().enumerate() {
        checker.at = at;
        checker.op(op);
    }
    checker.at = history.ops.len();
    if checker.ended {
        checker.end();
    } else {
        checker.flag(
            Rule::Liveness,
            "the history stops before its end: the schedule did not finish".to_owned(),
        );
    }
    checker.violations
}

impl Checker {
    fn flag(&mut self, rule: Rule, what: String) {
        if self.reported.insert((rule, what.clone())) {
            self.violations.push(Violation {
                rule,
                at: self.at,
                what,
            });
        }
    }

    fn op(&mut self, op: &Op) {
        match op {
            Op::Event(info) => {
                self.events.insert(info.event, info.clone());
            }
            Op::RowCommitted { partition, event } => {
                let rows = self.rows.entry(*partition).or_default();
                self.row_index.insert(*event, rows.len());
                rows.push(*event);
            }
            Op::RowMarked { partition, event } => {
                if !self.row_index.contains_key(event) {
                    self.flag(
                        Rule::Outbox,
                        format!("e{event} was marked sent but no row of it was ever committed"),
                    );
                }
                self.marked.entry(*partition).or_default().insert(*event);
            }
            Op::GatewayAccepted { partition, event } => {
                self.gateway.entry(*partition).or_default().insert(*event);
            }
            Op::Buffer {
                before,
                after,
                capacity,
                refused,
            } => {
                if after > capacity {
                    self.flag(
                        Rule::Backpressure,
                        format!(
                            "the producer buffer holds {after} bytes, over its bound of {capacity}"
                        ),
                    );
                }
                if *refused && after != before {
                    self.flag(
                        Rule::Backpressure,
                        format!("a refused send changed the buffer from {before} to {after} bytes"),
                    );
                }
            }
            Op::Send { .. } => {}
            Op::Ack {
                producer,
                partition,
                first_sequence,
                offset,
                durable,
            } => self.ack(*producer, *partition, *first_sequence, *offset, *durable),
            Op::LogRead { partition, batches } => self.log_read(*partition, batches),
            Op::LogUnrecoverable { reason } => {
                self.flag(
                    Rule::Unrecoverable,
                    format!("the log did not open after a crash: {reason}"),
                );
            }
            Op::Resume {
                partition,
                session,
                offset,
            } => {
                let want = self.committed.get(partition).copied().unwrap_or(0);
                if *offset != want {
                    self.flag(
                        Rule::Commit,
                        format!(
                            "session s{session} resumed partition {partition} at {offset}, but the committed offset is {want}"
                        ),
                    );
                }
                self.sessions.insert(
                    *partition,
                    Session {
                        id: *session,
                        resume: *offset,
                        ..Session::default()
                    },
                );
            }
            Op::Deliver {
                partition,
                session,
                offset,
                event,
                result,
            } => self.deliver(*partition, *session, *offset, *event, *result),
            Op::Applied { event, effect } => self.applied(*event, *effect),
            Op::DeadLettered {
                partition,
                session,
                offset,
            } => {
                self.reported_dead.insert((*partition, *offset));
                if let Some(current) = self.session(*partition, *session) {
                    current.finished.insert(*offset);
                }
            }
            Op::Commit {
                partition,
                session,
                offset,
            } => self.commit(*partition, *session, *offset),
            Op::Fault(_) => {}
            Op::Failed { what } => self.flag(Rule::Failed, what.clone()),
            Op::FaultsStop => self.faults_stopped = true,
            Op::DeadLetterTopic { entries } => {
                self.dead_letter_topic = Some(entries.iter().copied().collect());
            }
            Op::End => self.ended = true,
        }
    }

    fn session(&mut self, partition: u32, session: u32) -> Option<&mut Session> {
        self.sessions
            .get_mut(&partition)
            .filter(|current| current.id == session)
    }

    fn ack(
        &mut self,
        producer: u32,
        partition: u32,
        first_sequence: u64,
        offset: u64,
        durable: bool,
    ) {
        let key = (partition, producer, first_sequence);
        match self.ack_offsets.get(&key) {
            Some(&original) if original != offset => self.flag(
                Rule::DuplicateBatch,
                format!(
                    "p{producer} seq {first_sequence} was acked at {partition}/{original}, and its retry at {partition}/{offset}"
                ),
            ),
            _ => {
                self.ack_offsets.insert(key, offset);
            }
        }
        if let Some(batch) = self.seen.get(&(partition, offset))
            && (batch.producer, batch.first_sequence) != (producer, first_sequence)
        {
            let what = format!(
                "{partition}/{offset} was read as p{} seq {}, but acked as p{producer} seq {first_sequence}",
                batch.producer, batch.first_sequence
            );
            self.flag(Rule::InconsistentOffset, what);
        }
        if durable {
            self.durable_acks
                .insert((partition, offset), (producer, first_sequence));
        }
    }

    fn log_read(&mut self, partition: u32, batches: &[BatchSeen]) {
        let mut events = Vec::new();
        let mut last_sequence: HashMap<u32, u64> = HashMap::new();
        let mut stored: HashMap<(u32, u64), u64> = HashMap::new();
        let mut present: HashSet<u32> = HashSet::new();
        let mut first_rows: HashMap<u32, usize> = HashMap::new();
        for (index, batch) in batches.iter().enumerate() {
            if batch.offset != index as u64 {
                self.flag(
                    Rule::Order,
                    format!(
                        "partition {partition}: the batch at position {index} has offset {}",
                        batch.offset
                    ),
                );
            }
            match self.seen.get(&(partition, batch.offset)) {
                Some(before) if before != batch => {
                    let what = format!(
                        "{partition}/{} held p{} seq {} ({}) and later p{} seq {} ({})",
                        batch.offset,
                        before.producer,
                        before.first_sequence,
                        list(&before.events),
                        batch.producer,
                        batch.first_sequence,
                        list(&batch.events)
                    );
                    self.flag(Rule::InconsistentOffset, what);
                }
                Some(_) => {}
                None => {
                    self.seen.insert((partition, batch.offset), batch.clone());
                }
            }
            if let Some(original) =
                stored.insert((batch.producer, batch.first_sequence), batch.offset)
            {
                self.flag(
                    Rule::DuplicateBatch,
                    format!(
                        "p{} seq {} is stored twice in partition {partition}: at {original} and {}",
                        batch.producer, batch.first_sequence, batch.offset
                    ),
                );
            }
            if let Some(&last) = last_sequence.get(&batch.producer)
                && batch.first_sequence <= last
            {
                self.flag(
                    Rule::Order,
                    format!(
                        "p{} seq {} comes after its seq {last} in partition {partition}",
                        batch.producer, batch.first_sequence
                    ),
                );
            }
            last_sequence.insert(batch.producer, batch.first_sequence);
            for &event in &batch.events {
                events.push(event);
                let known_row = self.row_index.contains_key(&event);
                let from_gateway = self
                    .gateway
                    .values()
                    .any(|accepted| accepted.contains(&event));
                if !known_row && !from_gateway {
                    self.flag(
                        Rule::Outbox,
                        format!("e{event} is in partition {partition} but no row or gateway send of it exists"),
                    );
                }
                // Order per key: a booking's outbox events first appear in
                // the order the service recorded them.
                if present.insert(event)
                    && let (Some(&row), Some(info)) =
                        (self.row_index.get(&event), self.events.get(&event))
                {
                    let booking = info.booking;
                    if let Some(&before) = first_rows.get(&booking)
                        && row < before
                    {
                        self.flag(
                            Rule::Order,
                            format!("b{booking}: e{event} appears in partition {partition} before an event recorded earlier"),
                        );
                    }
                    first_rows.insert(booking, row);
                }
            }
        }
        // Every durable ack and every marked row must still be there.
        let acks: Vec<_> = self
            .durable_acks
            .range((partition, 0)..=(partition, u64::MAX))
            .map(|(&(_, offset), &batch)| (offset, batch))
            .collect();
        for (offset, (producer, first_sequence)) in acks {
            let found = batches
                .get(offset as usize)
                .map(|batch| (batch.producer, batch.first_sequence));
            if found != Some((producer, first_sequence)) {
                self.flag(
                    Rule::LostWrite,
                    format!(
                        "p{producer} seq {first_sequence} was acked durable at {partition}/{offset}, and a later read does not have it there"
                    ),
                );
            }
        }
        let marked: Vec<u32> = self
            .marked
            .get(&partition)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        for event in marked {
            if !present.contains(&event) {
                self.flag(
                    Rule::LostWrite,
                    format!("e{event} was marked sent, and a later read of partition {partition} does not have it"),
                );
            }
        }
        self.topic.insert(partition, events);
    }

    fn deliver(&mut self, partition: u32, session: u32, offset: u64, event: u32, result: Delivery) {
        let expected = self
            .topic
            .get(&partition)
            .and_then(|events| events.get(offset as usize))
            .copied();
        if expected != Some(event) {
            let was = expected.map_or("nothing".to_owned(), |e| format!("e{e}"));
            self.flag(
                Rule::InconsistentOffset,
                format!(
                    "s{session} got e{event} at {partition}/{offset}, where the log holds {was}"
                ),
            );
        }
        let Some(current) = self.session(partition, session) else {
            self.flag(
                Rule::Commit,
                format!("s{session} delivered {partition}/{offset} without resuming first"),
            );
            return;
        };
        if offset < current.resume {
            let resume = current.resume;
            self.flag(
                Rule::Order,
                format!(
                    "s{session} resumed at {resume} and then got {partition}/{offset}, before it"
                ),
            );
            return;
        }
        let count = current.deliveries.entry(offset).or_default();
        *count += 1;
        let count = *count;
        if result == Delivery::Handled {
            current.finished.insert(offset);
        }
        if count > MAX_DELIVERIES_PER_SESSION {
            self.flag(
                Rule::Outcome,
                format!("s{session} delivered {partition}/{offset} more than {MAX_DELIVERIES_PER_SESSION} times"),
            );
        }
    }

    fn applied(&mut self, event: u32, effect: Effect) {
        let count = self.applied.entry(event).or_default();
        *count += 1;
        if *count > 1 {
            let count = *count;
            self.flag(Rule::Effect, format!("e{event} took effect {count} times"));
        }
        let Some(info) = self.events.get(&event).cloned() else {
            self.flag(
                Rule::Effect,
                format!("e{event} took effect, but nobody ever created it"),
            );
            return;
        };
        let booking = info.booking;
        let state = self.bookings.get(&booking).copied();
        match (&info.kind, effect) {
            (Kind::Request { seat }, Effect::Applied) => {
                if let Some(&holder) = self.seats.get(seat)
                    && holder != booking
                {
                    self.flag(
                        Rule::Effect,
                        format!("seat {seat} was sold to b{booking} while b{holder} still held it"),
                    );
                }
                if state.is_none() {
                    self.seats.insert(seat.clone(), booking);
                    self.bookings.insert(booking, Model::Held);
                }
            }
            (Kind::Request { .. }, _) => {
                self.bookings.entry(booking).or_insert(Model::Over);
            }
            (Kind::Payment, Effect::Applied) => {
                if state != Some(Model::Held) {
                    self.flag(
                        Rule::Effect,
                        format!("e{event} confirmed b{booking}, which was {state:?}, not held"),
                    );
                }
                self.bookings.insert(booking, Model::Confirmed);
            }
            (Kind::Expiry, Effect::Applied) => {
                if state != Some(Model::Held) {
                    self.flag(
                        Rule::Effect,
                        format!("e{event} expired b{booking}, which was {state:?}, not held"),
                    );
                }
                self.bookings.insert(booking, Model::Over);
                self.seats.retain(|_, holder| *holder != booking);
            }
            (Kind::Payment | Kind::Expiry, _) => {}
        }
    }

    fn commit(&mut self, partition: u32, session: u32, offset: u64) {
        if let Some(&before) = self.committed.get(&partition)
            && offset < before
        {
            self.flag(
                Rule::Commit,
                format!(
                    "partition {partition}'s committed offset went back from {before} to {offset}"
                ),
            );
        }
        let end = self.topic.get(&partition).map_or(0, Vec::len) as u64;
        if offset > end {
            self.flag(
                Rule::Commit,
                format!("partition {partition} was committed at {offset}, past its end {end}"),
            );
        }
        match self.session(partition, session) {
            Some(current) => {
                let missing = (current.resume..offset).find(|o| !current.finished.contains(o));
                if let Some(missing) = missing {
                    self.flag(
                        Rule::Commit,
                        format!(
                            "s{session} committed partition {partition} at {offset} before {partition}/{missing} was processed or dead-lettered"
                        ),
                    );
                }
            }
            None => self.flag(
                Rule::Commit,
                format!("s{session} committed partition {partition} without resuming first"),
            ),
        }
        self.committed.insert(partition, offset);
    }

    fn end(&mut self) {
        if !self.faults_stopped {
            self.flag(Rule::Liveness, "the faults never stopped".to_owned());
        }
        // 10: every committed row and every gateway payment is in the log.
        let mut wanted: Vec<(u32, u32)> = Vec::new();
        for (&partition, rows) in &self.rows {
            wanted.extend(rows.iter().map(|&event| (partition, event)));
        }
        for (&partition, events) in &self.gateway {
            wanted.extend(events.iter().map(|&event| (partition, event)));
        }
        for (partition, event) in wanted {
            let published = self
                .topic
                .get(&partition)
                .is_some_and(|events| events.contains(&event));
            if !published {
                self.flag(
                    Rule::Outbox,
                    format!("e{event} was committed for partition {partition} and never published"),
                );
            }
        }
        // 11: each partition committed to its end.
        let partitions: Vec<u32> = self.topic.keys().copied().collect();
        for partition in partitions {
            let end = self.topic[&partition].len() as u64;
            let committed = self.committed.get(&partition).copied().unwrap_or(0);
            if committed != end {
                self.flag(
                    Rule::Liveness,
                    format!("after the faults stopped, partition {partition} is committed at {committed} of {end}"),
                );
            }
        }
        // 8: each event processed exactly once or dead-lettered, never both.
        let dead_letter_topic = self.dead_letter_topic.clone().unwrap_or_default();
        let mut dead: HashSet<u32> = HashSet::new();
        for (partition, offset) in self.reported_dead.clone() {
            if !dead_letter_topic.contains(&(partition, offset)) {
                self.flag(
                    Rule::LostWrite,
                    format!(
                        "{partition}/{offset} was dead-lettered, and the dead-letter topic lost it"
                    ),
                );
            }
        }
        for &(partition, offset) in &dead_letter_topic {
            match self
                .topic
                .get(&partition)
                .and_then(|events| events.get(offset as usize))
            {
                Some(&event) => {
                    dead.insert(event);
                }
                None => self.flag(
                    Rule::Outcome,
                    format!(
                        "the dead-letter topic holds {partition}/{offset}, which is not in the log"
                    ),
                ),
            }
        }
        let mut all: BTreeSet<u32> = BTreeSet::new();
        for events in self.topic.values() {
            all.extend(events.iter().copied());
        }
        for event in all {
            let applied = self.applied.get(&event).copied().unwrap_or(0);
            let dead_lettered = dead.contains(&event);
            if applied > 0 && dead_lettered {
                self.flag(
                    Rule::Outcome,
                    format!("e{event} was both processed and dead-lettered"),
                );
            }
            if applied == 0 && !dead_lettered {
                self.flag(
                    Rule::Outcome,
                    format!("e{event} ended neither processed nor dead-lettered"),
                );
            }
        }
    }
}

fn list(events: &[u32]) -> String {
    let names: Vec<String> = events.iter().map(|event| format!("e{event}")).collect();
    names.join(",")
}
