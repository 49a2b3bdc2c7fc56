//! Counters the server keeps while it runs: lock-free, updated on the hot paths, read by the HTTP
//! API, the PHP extension's `Server::stats()` and the metrics endpoint.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use serde::Serialize;

/// Where a message entered the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingress {
    /// The in-process publish API (the PHP extension in the same process).
    Memory,
    /// The shared-memory ring (PHP processes on this host).
    Shm,
    /// Redis Pub/Sub.
    Redis,
    /// `POST /apps/:appId/events`.
    Http,
}

/// Live counters.
#[derive(Debug)]
pub struct Stats {
    started: Instant,
    connections: AtomicU64,
    in_memory: AtomicU64,
    in_shm: AtomicU64,
    in_redis: AtomicU64,
    in_http: AtomicU64,
    /// Broadcasts handed to the sockets of a channel (one per message and channel).
    delivered: AtomicU64,
    /// Messages refused at ingress (bad JSON, missing event, full queue).
    dropped: AtomicU64,
    auth_ok: AtomicU64,
    auth_failed: AtomicU64,
    whispers: AtomicU64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            started: Instant::now(),
            connections: AtomicU64::new(0),
            in_memory: AtomicU64::new(0),
            in_shm: AtomicU64::new(0),
            in_redis: AtomicU64::new(0),
            in_http: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            auth_ok: AtomicU64::new(0),
            auth_failed: AtomicU64::new(0),
            whispers: AtomicU64::new(0),
        }
    }
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    /// Seconds since the server started.
    pub uptime: f64,
    /// Open Socket.IO connections.
    pub connections: u64,
    /// Messages received, by ingress.
    pub messages_in: MessagesIn,
    /// Broadcasts handed to a channel's sockets.
    pub messages_delivered: u64,
    /// Messages refused at ingress.
    pub messages_dropped: u64,
    /// Channel authorizations granted.
    pub auth_ok: u64,
    /// Channel authorizations refused or failed.
    pub auth_failed: u64,
    /// Whispers relayed.
    pub whispers: u64,
}

/// Messages received, by ingress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessagesIn {
    /// In-process publishes.
    pub memory: u64,
    /// Shared-memory ring.
    pub shm: u64,
    /// Redis Pub/Sub.
    pub redis: u64,
    /// HTTP API.
    pub http: u64,
}

impl Stats {
    pub(crate) fn connected(&self) {
        self.connections.fetch_add(1, Relaxed);
    }

    pub(crate) fn disconnected(&self) {
        self.connections.fetch_sub(1, Relaxed);
    }

    pub(crate) fn received(&self, ingress: Ingress) {
        let counter = match ingress {
            Ingress::Memory => &self.in_memory,
            Ingress::Shm => &self.in_shm,
            Ingress::Redis => &self.in_redis,
            Ingress::Http => &self.in_http,
        };
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn delivered(&self, n: u64) {
        self.delivered.fetch_add(n, Relaxed);
    }

    pub(crate) fn dropped(&self) {
        self.dropped.fetch_add(1, Relaxed);
    }

    pub(crate) fn auth(&self, ok: bool) {
        let counter = if ok { &self.auth_ok } else { &self.auth_failed };
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn whispered(&self) {
        self.whispers.fetch_add(1, Relaxed);
    }

    /// Open connections right now.
    pub fn connections(&self) -> u64 {
        self.connections.load(Relaxed)
    }

    /// Seconds since start.
    pub fn uptime(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Copy every counter.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            uptime: self.uptime(),
            connections: self.connections(),
            messages_in: MessagesIn {
                memory: self.in_memory.load(Relaxed),
                shm: self.in_shm.load(Relaxed),
                redis: self.in_redis.load(Relaxed),
                http: self.in_http.load(Relaxed),
            },
            messages_delivered: self.delivered.load(Relaxed),
            messages_dropped: self.dropped.load(Relaxed),
            auth_ok: self.auth_ok.load(Relaxed),
            auth_failed: self.auth_failed.load(Relaxed),
            whispers: self.whispers.load(Relaxed),
        }
    }
}
