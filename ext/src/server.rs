//! `RustEcho\Server`: host the server in this PHP process.

use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use rust_echo_server::Config;
use serde_json::{Value, json};
use std::time::Duration;

use crate::convert::{array_to_json, json_to_zval};
use crate::errors::ExtError;
use crate::hosted::Hosted;
use crate::process::with_state;

/// The rust-echo server, hosted on a thread of this process.
#[php_class]
#[php(name = "RustEcho\\Server")]
#[php(flags = ClassFlags::Final)]
pub struct Server;

#[php_impl]
impl Server {
    /// Start the server on a thread of this process. Idempotent. `$config` uses
    /// laravel-echo-server.json keys.
    pub fn start(config: Option<&ZendHashTable>) -> PhpResult<()> {
        start(config)?;
        Ok(())
    }

    /// `start()`, then block until SIGINT/SIGTERM or `stop()`; returns after a graceful shutdown.
    /// SIGHUP reloads the TLS certificate of an `https` server.
    pub fn serve(config: Option<&ZendHashTable>) -> PhpResult<()> {
        // Block the signals before the server's threads exist, so they inherit the mask and the
        // signals stay pending until taken below: PHP's own handlers never see them.
        let guard = crate::signals::Blocked::shutdown_and_reload();
        start(config)?;
        let done = with_state(|s| s.hosted.as_mut().and_then(Hosted::take_done));
        let Some(done) = done else {
            return Err(
                ExtError::Server("serve() is already waiting in this process".to_owned()).into(),
            );
        };
        loop {
            match guard.wait(Duration::from_millis(100)) {
                Some(libc::SIGHUP) => reload_tls(),
                Some(_) => {
                    Self::stop();
                    break;
                }
                None => {}
            }
            if done.try_recv().is_ok() {
                // The server stopped by itself.
                with_state(|s| {
                    if let Some(mut h) = s.hosted.take() {
                        h.join();
                    }
                });
                break;
            }
        }
        Ok(())
    }

    /// Stop the server hosted by this process (gracefully); a no-op when none runs.
    pub fn stop() {
        if let Some(h) = with_state(|s| s.hosted.take()) {
            h.stop();
        }
    }

    /// Whether this process hosts a running server.
    pub fn running() -> bool {
        with_state(|s| s.hosted.as_ref().is_some_and(Hosted::alive))
    }

    /// Connections, channels, messages in/out by transport, the shared-memory ring's name and fill.
    pub fn stats() -> PhpResult<Zval> {
        let stats = with_state(|s| s.hosted.as_ref().filter(|h| h.alive()).map(snapshot));
        match stats {
            Some(v) => Ok(json_to_zval(&v)),
            None => Err(ExtError::Server(
                "no server runs in this process; start one with RustEcho\\Server::start()"
                    .to_owned(),
            )
            .into()),
        }
    }
}

/// SIGHUP: read the certificate files again; a failure keeps the current certificate.
fn reload_tls() {
    let monitor = with_state(|s| s.hosted.as_ref().map(|h| h.monitor.clone()));
    match monitor.map(|m| m.reload_tls()) {
        Some(Ok(true)) => tracing::info!("SIGHUP: TLS certificate reloaded"),
        Some(Err(e)) => {
            tracing::error!(error = %e, "SIGHUP: TLS certificate not reloaded; serving the previous one");
        }
        Some(Ok(false)) | None => {}
    }
}

/// Start unless already running; reports configuration errors with the key.
fn start(config: Option<&ZendHashTable>) -> Result<(), ExtError> {
    let value = config.map_or_else(|| Value::Object(serde_json::Map::new()), array_to_json);
    with_state(|s| {
        if s.hosted.as_ref().is_some_and(Hosted::alive) {
            return Ok(());
        }
        if let Some(mut dead) = s.hosted.take() {
            dead.join();
        }
        let loaded = Config::from_value(&value, "RustEcho\\Server::start() config")
            .map_err(|e| ExtError::Config(e.to_string()))?;
        rust_echo_server::logging::init(
            loaded.config.dev_mode,
            "warn",
            rust_echo_server::logging::Format::Text,
        );
        for warning in &loaded.warnings {
            tracing::warn!("{warning}");
        }
        s.hosted = Some(Hosted::spawn(loaded.config)?);
        Ok(())
    })
}

fn snapshot(h: &Hosted) -> Value {
    let m = &h.monitor;
    let stats = m.stats().snapshot();
    json!({
        "running": true,
        "pid": std::process::id(),
        "address": m.local_addr().to_string(),
        "port": m.local_addr().port(),
        "uptime": stats.uptime,
        "connections": stats.connections,
        "channels": m.channel_count(),
        "messages_in": stats.messages_in,
        "messages_delivered": stats.messages_delivered,
        "messages_dropped": stats.messages_dropped,
        "auth_ok": stats.auth_ok,
        "auth_failed": stats.auth_failed,
        "whispers": stats.whispers,
        "memory_queue": h.publisher.queued(),
        "redis_connected": m.redis_connected(),
        "ring": m.ring_info(),
    })
}
