//! What can go wrong between the service and JetStream (given code).

// ANCHOR: bus_error
/// Why a call to JetStream failed. The client's own error is the source, for
/// a log line that prints the chain.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error(
        "no NATS server answered at {servers}: start one (`nats-server -js`) \
         or check the address"
    )]
    Connect {
        servers: String,
        #[source]
        source: async_nats::Error,
    },
    #[error(
        "the stream or consumer {name} could not be created or read: is \
         JetStream enabled on the server (`-js`)?"
    )]
    Setup {
        name: String,
        #[source]
        source: async_nats::Error,
    },
    #[error(
        "the server did not confirm the message on {subject}: it may or may \
         not be stored, so publish the same event (same id) again"
    )]
    Publish {
        subject: String,
        #[source]
        source: async_nats::Error,
    },
    #[error(
        "messages could not be fetched from the consumer; what was not acked \
         comes back after AckWait"
    )]
    Fetch {
        #[source]
        source: async_nats::Error,
    },
    #[error(
        "the reply to message {sequence} did not reach the server; it comes \
         back after AckWait, and the handler's dedupe absorbs it"
    )]
    Reply {
        sequence: u64,
        #[source]
        source: async_nats::Error,
    },
    #[error(
        "message {sequence} could not be stored as a dead letter, so it was \
         not terminated: it comes back and is tried again"
    )]
    DeadLetter {
        sequence: u64,
        #[source]
        source: async_nats::Error,
    },
    #[error("a message without JetStream metadata reached the consumer")]
    NotJetStream {
        #[source]
        source: async_nats::Error,
    },
}
// ANCHOR_END: bus_error
