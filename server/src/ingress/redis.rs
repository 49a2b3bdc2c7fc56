//! The Redis subscriber: `PSUBSCRIBE <keyPrefix>*`, the prefix checked and stripped, payloads in
//! Laravel's `RedisBroadcaster` format. Bad payloads are logged and skipped; a lost connection is
//! re-established and the pattern subscribed again.
//!
//! How fast it retries depends on why the last attempt failed. While Redis cannot be reached at
//! all (refused, reset, closed, still loading) it retries every [`UNREACHABLE_MAX`] at most: a
//! refused connect costs nothing, and every event Laravel publishes after Redis is back but before
//! the pattern is subscribed again reaches no subscriber and is gone — Pub/Sub keeps nothing.
//! With a 5 s cap, a 20 s outage cost up to 5 s of events after Redis returned. When Redis
//! answers but refuses (wrong password, ACL), retrying cannot help soon, so the delay grows to
//! [`REFUSED_MAX`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use redis::RedisError;
use tokio::sync::watch;

use crate::config::RedisConfig;
use crate::engine::{Engine, dev_log};
use crate::message::Message;
use crate::stats::{DropReason, Ingress};

/// The first retry delay; each failure in a row doubles it up to the cap of its kind.
const BACKOFF_START: Duration = Duration::from_millis(50);
/// Retry cap while Redis is unreachable.
pub const UNREACHABLE_MAX: Duration = Duration::from_millis(250);
/// Retry cap while Redis answers with an error.
pub const REFUSED_MAX: Duration = Duration::from_secs(5);
/// A connect or subscribe that takes longer (an address that drops packets) is abandoned and
/// retried, instead of waiting for the kernel's TCP timeout of minutes.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a subscriber session ended.
#[derive(Debug, thiserror::Error)]
enum SessionEnd {
    /// Redis could not be reached or the connection broke: retry soon.
    #[error("{0}")]
    Unreachable(String),
    /// Redis answered with an error: retry slowly.
    #[error("{0}")]
    Refused(String),
}

impl SessionEnd {
    fn from_redis(e: &RedisError) -> SessionEnd {
        let transient = matches!(
            e.code(),
            Some("LOADING" | "BUSY" | "TRYAGAIN" | "MASTERDOWN")
        );
        if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() || transient {
            SessionEnd::Unreachable(e.to_string())
        } else {
            SessionEnd::Refused(e.to_string())
        }
    }

    /// The longest wait before the next attempt.
    fn cap(&self) -> Duration {
        match self {
            SessionEnd::Unreachable(_) => UNREACHABLE_MAX,
            SessionEnd::Refused(_) => REFUSED_MAX,
        }
    }
}

/// Whether the subscriber currently holds a subscribed connection.
#[derive(Debug, Default)]
pub struct RedisStatus {
    connected: AtomicBool,
    /// Successful subscriptions so far; every one after the first is a reconnect.
    sessions: AtomicU64,
}

impl RedisStatus {
    /// `true` while subscribed.
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }
}

/// The pattern to subscribe: the prefix with glob characters escaped, then `*`.
pub fn pattern(prefix: &str) -> String {
    let mut p = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('*');
    p
}

/// Subscribe until `shutdown` turns true, reconnecting as long as it takes.
pub(crate) async fn run(
    engine: Arc<Engine>,
    config: RedisConfig,
    status: Arc<RedisStatus>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = BACKOFF_START;
    let mut failures = 0u32;
    loop {
        let session = subscribe(&engine, &config, &status, &mut backoff, &mut failures);
        let end = tokio::select! {
            end = session => end,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        status.connected.store(false, Ordering::Relaxed);
        failures += 1;
        // First failure loud, then once in a while, so a dead Redis does not flood logs.
        if failures == 1 || failures.is_power_of_two() {
            tracing::warn!(error = %end, addr = %crate::redis_target::describe(&config), attempt = failures, "redis subscriber disconnected; reconnecting");
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
        backoff = (backoff * 2).min(end.cap());
    }
    status.connected.store(false, Ordering::Relaxed);
}

/// One connection's life: connect, subscribe, deliver until the stream ends. Returns why it ended.
async fn subscribe(
    engine: &Engine,
    config: &RedisConfig,
    status: &RedisStatus,
    backoff: &mut Duration,
    failures: &mut u32,
) -> SessionEnd {
    let pattern = pattern(&config.key_prefix);
    let connect = async {
        let client = crate::redis_target::client(config, *failures).await?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.psubscribe(&pattern).await?;
        Ok::<_, RedisError>(pubsub)
    };
    let mut pubsub = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return SessionEnd::from_redis(&e),
        Err(_) => {
            return SessionEnd::Unreachable(format!(
                "no connection and subscription within {CONNECT_TIMEOUT:?}"
            ));
        }
    };
    status.connected.store(true, Ordering::Relaxed);
    if status.sessions.fetch_add(1, Ordering::Relaxed) > 0 {
        engine.stats.redis_reconnected();
    }
    *backoff = BACKOFF_START;
    *failures = 0;
    tracing::info!(%pattern, addr = %crate::redis_target::describe(config), "listening for redis events");
    let prefix = config.key_prefix.as_str();
    let mut messages = pubsub.on_message();
    let mut batch = Vec::new();
    while let Some(first) = messages.next().await {
        // Everything already received goes out together, so that a burst to one channel
        // reaches each socket as one run.
        let mut next = Some(first);
        while let Some(msg) = next {
            if let Some(m) = decode(engine, prefix, &msg) {
                batch.push((m, Ingress::Redis));
            }
            next = if batch.len() < BATCH {
                messages.next().now_or_never().flatten()
            } else {
                None
            };
        }
        engine.deliver_all(&batch);
        batch.clear();
    }
    SessionEnd::Unreachable("connection closed".to_owned())
}

/// Messages received at once handed to the engine together.
const BATCH: usize = 64;

/// The message a Redis Pub/Sub message carries, or `None` if it is not one of ours (another
/// prefix, the cluster's own channels) or cannot be read (counted and logged).
fn decode(engine: &Engine, prefix: &str, msg: &redis::Msg) -> Option<Message> {
    let raw_channel = msg.get_channel_name();
    let channel = raw_channel.strip_prefix(prefix)?;
    if engine
        .cluster
        .as_ref()
        .is_some_and(|node| node.owns_channel(raw_channel))
    {
        return None;
    }
    match Message::from_redis(channel, msg.get_payload_bytes()) {
        Ok(m) => Some(m),
        Err(e) => {
            engine.stats.dropped(DropReason::InvalidMessage);
            dev_log!(engine, channel = %raw_channel, error = %e, "redis message skipped");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pattern_escapes_glob_characters() {
        assert_eq!(super::pattern(""), "*");
        assert_eq!(super::pattern("laravel_database_"), "laravel_database_*");
        assert_eq!(super::pattern("a*b?[c]"), "a\\*b\\?\\[c\\]*");
    }
}
