//! NATS JetStream behind the bus: the stream, its dead-letter stream and the
//! durable consumer, set up on connect (given code).

use std::time::Duration;

use async_nats::jetstream::{self, consumer::PullConsumer};
use futures::StreamExt;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use solution11_idempotency::IdentifiedEvent;
use solution12_retries::Handler;

use crate::bus::{Consumed, EventBus, Published};
use crate::consumer::{
    BusConfig, CONSUMER, DEAD_LETTERS, Progress, consumer_config,
    dead_letter_config, progress, stream_config,
};
use crate::error::BusError;
use crate::publish::{STREAM, publish};
use crate::settle::{Reply, deliver};

/// The most messages one fetch asks for.
const FETCH: usize = 64;
/// How long a fetch waits for the server's answer when the server has
/// nothing to hand out: without it, a fetch that hit MaxAckPending waits for
/// an answer the server does not send.
const FETCH_EXPIRES: Duration = Duration::from_millis(100);
/// How long an idle consumer waits before it asks again whether a NAKed
/// message is due.
const IDLE_POLL: Duration = Duration::from_millis(20);

// ANCHOR: jetstream_bus
/// A connection to JetStream with the booking stream and its consumer.
pub struct JetStreamBus {
    jetstream: jetstream::Context,
    consumer: PullConsumer,
    config: BusConfig,
    rng: Xoshiro256PlusPlus,
}
// ANCHOR_END: jetstream_bus

impl JetStreamBus {
    /// Connects to `servers` (one address, or several separated by commas),
    /// and creates the streams and the consumer unless they exist. `seed`
    /// seeds the retries' jitter.
    pub async fn connect(
        servers: &str,
        config: BusConfig,
        seed: u64,
    ) -> Result<JetStreamBus, BusError> {
        let connect_error = |source: async_nats::Error| BusError::Connect {
            servers: servers.to_owned(),
            source,
        };
        let addresses = servers
            .split(',')
            .map(|address| address.trim().parse::<async_nats::ServerAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| connect_error(error.into()))?;
        let client = async_nats::connect(addresses)
            .await
            .map_err(|error| connect_error(error.into()))?;
        let jetstream = jetstream::new(client);
        let setup = |name: &str| {
            let name = name.to_owned();
            move |source: async_nats::Error| BusError::Setup { name, source }
        };
        let stream = jetstream
            .get_or_create_stream(stream_config(&config))
            .await
            .map_err(|error| setup(STREAM)(error.into()))?;
        jetstream
            .get_or_create_stream(dead_letter_config(&config))
            .await
            .map_err(|error| setup(DEAD_LETTERS)(error.into()))?;
        let consumer = stream
            .get_or_create_consumer(CONSUMER, consumer_config(&config))
            .await
            .map_err(|error| setup(CONSUMER)(error.into()))?;
        Ok(JetStreamBus {
            jetstream,
            consumer,
            config,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        })
    }

    /// The JetStream context, for a relay or a test that publishes itself.
    pub fn context(&self) -> &jetstream::Context {
        &self.jetstream
    }

    pub fn config(&self) -> &BusConfig {
        &self.config
    }

    /// The consumer's progress, asked from the server now.
    pub async fn progress(&self) -> Result<Progress, BusError> {
        let info = self.consumer.get_info().await.map_err(|error| {
            BusError::Setup {
                name: CONSUMER.to_owned(),
                source: error.into(),
            }
        })?;
        Ok(progress(&info))
    }

    /// How many events the dead-letter stream holds.
    pub async fn dead_letter_count(&self) -> Result<u64, BusError> {
        let stream =
            self.jetstream
                .get_stream(DEAD_LETTERS)
                .await
                .map_err(|error| BusError::Setup {
                    name: DEAD_LETTERS.to_owned(),
                    source: error.into(),
                })?;
        let info =
            stream.get_info().await.map_err(|error| BusError::Setup {
                name: DEAD_LETTERS.to_owned(),
                source: error.into(),
            })?;
        Ok(info.state.messages)
    }

    // ANCHOR: fetch_once
    /// One fetch: hands every message the server has ready (at most
    /// `FETCH`) to `handler` and answers each. Returns what it did and how
    /// many messages it got; none means nothing was ready.
    pub async fn fetch_once<H: Handler + ?Sized>(
        &mut self,
        handler: &mut H,
    ) -> Result<(Consumed, usize), BusError> {
        let mut consumed = Consumed::default();
        let mut messages = self
            .consumer
            .fetch()
            .max_messages(FETCH)
            .expires(FETCH_EXPIRES)
            .messages()
            .await
            .map_err(|error| BusError::Fetch {
                source: error.into(),
            })?;
        let mut got = 0;
        while let Some(message) = messages.next().await {
            let message =
                message.map_err(|source| BusError::Fetch { source })?;
            got += 1;
            let reply = deliver(
                &self.jetstream,
                &message,
                handler,
                &self.config.retry,
                &mut self.rng,
            )
            .await?;
            match reply {
                Reply::Ack => consumed.handled += 1,
                Reply::Nak { .. } => consumed.retried += 1,
                Reply::Term { .. } => consumed.dead_lettered += 1,
            }
        }
        Ok((consumed, got))
    }
    // ANCHOR_END: fetch_once
}

impl EventBus for JetStreamBus {
    type Error = BusError;

    async fn publish(
        &mut self,
        event: &IdentifiedEvent,
    ) -> Result<Published, BusError> {
        publish(&self.jetstream, event, self.config.partitions).await
    }

    async fn run_until_idle<H: Handler>(
        &mut self,
        handler: &mut H,
    ) -> Result<Consumed, BusError> {
        let mut total = Consumed::default();
        loop {
            let (consumed, got) = self.fetch_once(handler).await?;
            total.handled += consumed.handled;
            total.retried += consumed.retried;
            total.dead_lettered += consumed.dead_lettered;
            if got == FETCH {
                // A full fetch: there is probably more.
                continue;
            }
            // Asking costs a round trip; an empty fetch waits FETCH_EXPIRES.
            let now = self.progress().await?;
            if now.lag == 0 && now.in_flight == 0 {
                return Ok(total);
            }
            if got == 0 {
                // A NAKed message waits for its delay, or an unanswered one
                // for AckWait: ask again shortly.
                tokio::time::sleep(IDLE_POLL).await;
            }
        }
    }
}
