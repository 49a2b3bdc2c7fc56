//! Connections to the backplane's Redis, and the retry pace when it cannot be reached. Each
//! cluster task holds its own connection and makes a new one when it breaks; every connection
//! made after a task's first is counted as a reconnect in `/metrics`.
//!
//! On a Redis Cluster ([`Target::sharded`]) every connection goes to the master of the slot the
//! namespace's hash tag names ([`super::shard`]) and the relay uses sharded Pub/Sub
//! (`SPUBLISH`/`SSUBSCRIBE`), which stays on that shard instead of being copied to every node.

use std::time::Duration;

use redis::aio::{MultiplexedConnection, PubSub};
use redis::{AsyncConnectionConfig, Client, PushInfo, RedisResult};
use tokio::sync::mpsc;

use crate::config::RedisConfig;

/// The first retry delay; each failure in a row doubles it up to [`RETRY_MAX`].
const RETRY_START: Duration = Duration::from_millis(50);
/// Retry cap: a refused connect costs nothing, and the relay loses what it cannot publish.
const RETRY_MAX: Duration = Duration::from_millis(500);
/// A connect or a reply that takes longer is abandoned (an address that drops packets).
const TIMEOUT: Duration = Duration::from_secs(5);

/// Where the backplane's connections go: its Redis, and on a Redis Cluster the key whose hash
/// slot (the namespace's tag) holds every key and the relay channel.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) redis: RedisConfig,
    slot_key: String,
}

impl Target {
    pub(crate) fn new(redis: RedisConfig, slot_key: String) -> Self {
        Target { redis, slot_key }
    }

    /// On a Redis Cluster: one shard serves the backplane, its relay on sharded Pub/Sub.
    pub(crate) fn sharded(&self) -> bool {
        self.redis.sentinel.is_none() && !self.redis.cluster_nodes.is_empty()
    }

    /// The relay's publish command.
    pub(crate) fn publish_command(&self) -> &'static str {
        if self.sharded() {
            "SPUBLISH"
        } else {
            "PUBLISH"
        }
    }

    /// Where the connections go, in words for log lines.
    pub(crate) fn describe(&self) -> String {
        crate::redis_target::describe(&self.redis)
    }

    async fn client(&self) -> RedisResult<Client> {
        if self.sharded() {
            super::shard::master(&self.redis, &self.slot_key).await
        } else {
            crate::redis_target::client(&self.redis, 0).await
        }
    }
}

fn timed_out(what: &'static str) -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Io, what))
}

/// A connection for commands (pipelined PUBLISH, scripts).
pub(crate) async fn connection(target: &Target) -> RedisResult<MultiplexedConnection> {
    let client = tokio::time::timeout(TIMEOUT, target.client())
        .await
        .map_err(|_| timed_out("no master from Sentinel or Redis Cluster in time"))??;
    let settings = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(TIMEOUT))
        .set_response_timeout(Some(TIMEOUT));
    client
        .get_multiplexed_async_connection_with_config(&settings)
        .await
}

/// A Pub/Sub connection subscribed to `channel`.
pub(crate) async fn subscribed(target: &Target, channel: &str) -> RedisResult<PubSub> {
    let connect = async {
        let client = target.client().await?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok(pubsub)
    };
    tokio::time::timeout(TIMEOUT, connect)
        .await
        .unwrap_or_else(|_| Err(timed_out("no connection and subscription in time")))
}

/// A RESP3 connection to the slot's master with a sharded subscription to `channel` (Redis
/// Cluster), and the pushes it receives: `smessage`s, a `sunsubscribe` when the node stopped
/// serving the slot, and the library's `Disconnection` when the connection broke. The
/// subscription lasts while the connection is held.
pub(crate) async fn sharded_subscribed(
    target: &Target,
    channel: &str,
) -> RedisResult<(MultiplexedConnection, mpsc::UnboundedReceiver<PushInfo>)> {
    let connect = async {
        let client = target.client().await?;
        let info = client.get_connection_info().clone();
        let resp3 = info
            .redis_settings()
            .clone()
            .set_protocol(redis::ProtocolVersion::RESP3);
        let client = Client::open(info.set_redis_settings(resp3))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let settings = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_push_sender(tx);
        let mut con = client
            .get_multiplexed_async_connection_with_config(&settings)
            .await?;
        redis::cmd("SSUBSCRIBE")
            .arg(channel)
            .query_async::<redis::Value>(&mut con)
            .await?;
        Ok((con, rx))
    };
    tokio::time::timeout(TIMEOUT, connect)
        .await
        .unwrap_or_else(|_| Err(timed_out("no connection and sharded subscription in time")))
}

/// Failures in a row of one task's connection, and whether it ever connected.
#[derive(Debug)]
pub(crate) struct Retry {
    delay: Duration,
    failures: u32,
    connected_before: bool,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            delay: RETRY_START,
            failures: 0,
            connected_before: false,
        }
    }
}

impl Retry {
    /// A connection was made: whether it is a reconnect (one was made before).
    pub(crate) fn connected(&mut self) -> bool {
        self.delay = RETRY_START;
        self.failures = 0;
        std::mem::replace(&mut self.connected_before, true)
    }

    /// A connection failed or broke: how long to wait, and whether to log it (the first
    /// failure, then every power of two, so a dead Redis does not flood the log).
    pub(crate) fn failed(&mut self) -> (Duration, bool) {
        self.failures += 1;
        let wait = self.delay;
        self.delay = (self.delay * 2).min(RETRY_MAX);
        (wait, self.failures.is_power_of_two())
    }
}

/// A command connection that is made again, after a pause, when it broke.
#[derive(Debug)]
pub(crate) struct Link {
    target: Target,
    conn: Option<MultiplexedConnection>,
    retry: Retry,
    /// No new connection is tried before this (the retry pause after a failure).
    not_before: Option<tokio::time::Instant>,
}

impl Link {
    pub(crate) fn new(target: Target) -> Self {
        Link {
            target,
            conn: None,
            retry: Retry::default(),
            not_before: None,
        }
    }

    /// The connection, made now if there is none; `None` at once while the retry pause after
    /// a failure runs, or when Redis cannot be reached. Callers do not wait on a dead Redis:
    /// what they could not write is reconciled once it is back (see `presence::resync`).
    pub(crate) async fn get(
        &mut self,
        stats: &crate::stats::Stats,
    ) -> Option<&mut MultiplexedConnection> {
        if self.conn.is_none() {
            if self
                .not_before
                .is_some_and(|t| tokio::time::Instant::now() < t)
            {
                return None;
            }
            match connection(&self.target).await {
                Ok(c) => {
                    if self.retry.connected() {
                        stats.cluster.reconnected();
                    }
                    self.conn = Some(c);
                }
                Err(e) => {
                    self.failed(&e);
                    return None;
                }
            }
        }
        self.conn.as_mut()
    }

    /// Run `cmd`; `None` when Redis cannot be reached or refused it. A connection Redis had
    /// closed (a restart) fails before the command is sent, so it is tried once more on a new
    /// one.
    pub(crate) async fn query<T: redis::FromRedisValue>(
        &mut self,
        stats: &crate::stats::Stats,
        cmd: &redis::Cmd,
    ) -> Option<T> {
        for attempt in 0..2 {
            let con = self.get(stats).await?;
            match cmd.query_async::<T>(con).await {
                Ok(v) => return Some(v),
                Err(e) => {
                    let again = attempt == 0 && e.is_connection_dropped();
                    self.failed(&e);
                    if !again {
                        return None;
                    }
                    self.not_before = None;
                }
            }
        }
        None
    }

    /// A command failed: log it (throttled) and make a new connection after the retry pause.
    pub(crate) fn failed(&mut self, error: &redis::RedisError) {
        self.conn = None;
        let (wait, log) = self.retry.failed();
        self.not_before = Some(tokio::time::Instant::now() + wait);
        if log {
            tracing::warn!(error = %error, addr = %self.target.describe(), "cluster: backplane Redis command failed");
        }
    }
}
