//! The Redis subscriber: `PSUBSCRIBE <keyPrefix>*`, the prefix checked and stripped, payloads in
//! Laravel's `RedisBroadcaster` format. Bad payloads are logged and skipped; a lost connection is
//! re-established with capped exponential backoff and the pattern subscribed again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};
use tokio::sync::watch;

use crate::config::RedisConfig;
use crate::engine::{Engine, dev_log};
use crate::message::Message;
use crate::stats::{DropReason, Ingress};

const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

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
        let session = subscribe(&engine, &config, &status, &mut backoff);
        tokio::select! {
            result = session => {
                status.connected.store(false, Ordering::Relaxed);
                failures += 1;
                // First failure loud, then once in a while, so a dead Redis does not flood logs.
                if failures == 1 || failures.is_power_of_two() {
                    tracing::warn!(error = %result, addr = %describe(&config), attempt = failures, "redis subscriber disconnected; reconnecting");
                }
            }
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
    status.connected.store(false, Ordering::Relaxed);
}

/// One connection's life: connect, subscribe, deliver until the stream ends. Returns why it ended.
async fn subscribe(
    engine: &Engine,
    config: &RedisConfig,
    status: &RedisStatus,
    backoff: &mut Duration,
) -> String {
    let client = match connection_info(config).and_then(redis::Client::open) {
        Ok(c) => c,
        Err(e) => return e.to_string(),
    };
    let mut pubsub = match client.get_async_pubsub().await {
        Ok(p) => p,
        Err(e) => return e.to_string(),
    };
    let pattern = pattern(&config.key_prefix);
    if let Err(e) = pubsub.psubscribe(&pattern).await {
        return e.to_string();
    }
    status.connected.store(true, Ordering::Relaxed);
    if status.sessions.fetch_add(1, Ordering::Relaxed) > 0 {
        engine.stats.redis_reconnected();
    }
    *backoff = BACKOFF_START;
    tracing::info!(%pattern, addr = %describe(config), "listening for redis events");
    let prefix = config.key_prefix.as_str();
    let mut messages = pubsub.on_message();
    while let Some(msg) = messages.next().await {
        let raw_channel = msg.get_channel_name();
        let Some(channel) = raw_channel.strip_prefix(prefix) else {
            continue;
        };
        match Message::from_redis(channel, msg.get_payload_bytes()) {
            Ok(m) => engine.deliver(&m, Ingress::Redis),
            Err(e) => {
                engine.stats.dropped(DropReason::InvalidMessage);
                dev_log!(engine, channel = %raw_channel, error = %e, "redis message skipped");
            }
        }
    }
    "connection closed".to_owned()
}

fn connection_info(c: &RedisConfig) -> redis::RedisResult<redis::ConnectionInfo> {
    let addr = match &c.path {
        Some(path) => ConnectionAddr::Unix(path.into()),
        None => ConnectionAddr::Tcp(c.host.clone(), c.port),
    };
    let mut settings = RedisConnectionInfo::default().set_db(c.db);
    if let Some(u) = &c.username {
        settings = settings.set_username(u);
    }
    if let Some(p) = &c.password {
        settings = settings.set_password(p);
    }
    Ok(addr.into_connection_info()?.set_redis_settings(settings))
}

fn describe(c: &RedisConfig) -> String {
    match &c.path {
        Some(p) => p.clone(),
        None => format!("{}:{}", c.host, c.port),
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
