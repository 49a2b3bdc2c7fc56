//! What the server counts while it runs: Prometheus metrics (`prometheus-client`) updated on the
//! hot paths with single atomic operations, read by the HTTP API, the PHP extension's
//! `Server::stats()` and the `/metrics` listener. Every labelled series a hot path touches is
//! created up front, so counting never takes the family's lock.

use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use serde::Serialize;

mod labels;

use crate::channel::ChannelKind;
use labels::{DisconnectLabel, IngressLabel, KindLabel, ReasonLabel, StatusLabel};
pub use labels::{DropReason, Ingress};

mod cluster;
mod ring;
pub use cluster::ClusterCounters;
pub use ring::{RingHealth, RingHealthSnapshot};

/// Live counters and the registry that exposes them.
#[derive(Debug)]
pub struct Stats {
    started: Instant,
    registry: Registry,
    connections: Gauge,
    subscriptions: [Gauge; 3],
    messages_in: [Counter; Ingress::ALL.len()],
    messages_out: Counter,
    whispers: Counter,
    auth_granted: Counter,
    auth_failures: Family<StatusLabel, Counter>,
    auth_failed: Counter,
    auth_seconds: Histogram,
    redis_reconnects: Counter,
    dropped: [Counter; DropReason::ALL.len()],
    disconnects: Family<DisconnectLabel, Counter>,
    pending_sessions: Gauge,
    accept_errors: Counter,
    log_suppressed: Counter,
    /// The shared-memory ring's drain thread.
    pub ring: RingHealth,
    /// The cluster relay and its Redis connections.
    pub cluster: ClusterCounters,
}

impl Default for Stats {
    fn default() -> Self {
        let mut r = Registry::with_prefix("rust_echo");
        let connections = Gauge::default();
        r.register(
            "connections",
            "Open Socket.IO connections",
            connections.clone(),
        );
        let subs = Family::<KindLabel, Gauge>::default();
        r.register(
            "subscriptions",
            "Channel subscriptions by channel kind",
            subs.clone(),
        );
        let subscriptions = [
            ChannelKind::Public,
            ChannelKind::Private,
            ChannelKind::Presence,
        ]
        .map(|kind| subs.get_or_create_owned(&KindLabel { kind }));
        let inbound = Family::<IngressLabel, Counter>::default();
        r.register(
            "messages_in",
            "Messages received, by ingress",
            inbound.clone(),
        );
        let messages_in =
            Ingress::ALL.map(|ingress| inbound.get_or_create_owned(&IngressLabel { ingress }));
        let messages_out = Counter::default();
        r.register(
            "messages_out",
            "Broadcasts handed to the sockets of a channel (one per message and channel)",
            messages_out.clone(),
        );
        let whispers = Counter::default();
        r.register("whispers", "Client events relayed", whispers.clone());
        let auth_granted = Counter::default();
        r.register(
            "auth_granted",
            "Channel authorizations granted",
            auth_granted.clone(),
        );
        let auth_failures = Family::<StatusLabel, Counter>::default();
        r.register(
            "auth_failures",
            "Channel authorizations refused, by HTTP status (0: no answer, 503: no free slot)",
            auth_failures.clone(),
        );
        let auth_seconds = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        r.register(
            "auth_duration_seconds",
            "Time from subscribe to the auth endpoint's answer",
            auth_seconds.clone(),
        );
        let redis_reconnects = Counter::default();
        r.register(
            "redis_reconnects",
            "Times the Redis subscriber connected again after losing its connection",
            redis_reconnects.clone(),
        );
        let drops = Family::<ReasonLabel, Counter>::default();
        r.register(
            "dropped",
            "Messages, events and clients dropped or refused, by reason",
            drops.clone(),
        );
        let dropped =
            DropReason::ALL.map(|reason| drops.get_or_create_owned(&ReasonLabel { reason }));
        let disconnects = Family::<DisconnectLabel, Counter>::default();
        r.register(
            "disconnects",
            "Closed connections, by reason",
            disconnects.clone(),
        );
        let pending_sessions = Gauge::default();
        r.register(
            "pending_sessions",
            "Engine.IO sessions opened that have not sent the Socket.IO CONNECT yet",
            pending_sessions.clone(),
        );
        let accept_errors = Counter::default();
        r.register(
            "accept_errors",
            "Failed accepts on the listening socket (out of file descriptors or memory)",
            accept_errors.clone(),
        );
        let log_suppressed = Counter::default();
        r.register(
            "log_lines_suppressed",
            "Log lines held back because the same condition was logged recently",
            log_suppressed.clone(),
        );
        let ring = RingHealth::default();
        ring.register(&mut r);
        let cluster = ClusterCounters::default();
        cluster.register(&mut r);
        Stats {
            started: Instant::now(),
            registry: r,
            connections,
            subscriptions,
            messages_in,
            messages_out,
            whispers,
            auth_granted,
            auth_failures,
            auth_failed: Counter::default(),
            auth_seconds,
            redis_reconnects,
            dropped,
            disconnects,
            pending_sessions,
            accept_errors,
            log_suppressed,
            ring,
            cluster,
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
    /// Published messages refused as invalid.
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
        self.connections.inc();
    }

    /// A connection closed for `reason` (a label value such as `transport_close`).
    pub(crate) fn disconnected(&self, reason: &'static str) {
        self.connections.dec();
        self.disconnects
            .get_or_create(&DisconnectLabel { reason })
            .inc();
    }

    pub(crate) fn subscribed(&self, kind: ChannelKind) {
        self.subscriptions[kind_index(kind)].inc();
    }

    pub(crate) fn unsubscribed(&self, kind: ChannelKind) {
        self.subscriptions[kind_index(kind)].dec();
    }

    pub(crate) fn received(&self, ingress: Ingress) {
        self.messages_in[ingress as usize].inc();
    }

    pub(crate) fn delivered(&self, n: u64) {
        self.messages_out.inc_by(n);
    }

    pub(crate) fn dropped(&self, reason: DropReason) {
        self.dropped[reason as usize].inc();
    }

    /// An authorization answered: granted, or refused with `status` (0 when Laravel did not
    /// answer), after `took`.
    pub(crate) fn auth(&self, status: Option<u16>, took: Duration) {
        self.auth_seconds.observe(took.as_secs_f64());
        match status {
            None => {
                self.auth_granted.inc();
            }
            Some(status) => {
                self.auth_failed.inc();
                self.auth_failures
                    .get_or_create(&StatusLabel { status })
                    .inc();
            }
        }
    }

    pub(crate) fn redis_reconnected(&self) {
        self.redis_reconnects.inc();
    }

    pub(crate) fn set_pending_sessions(&self, n: usize) {
        self.pending_sessions
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    pub(crate) fn accept_failed(&self) {
        self.accept_errors.inc();
    }

    pub(crate) fn log_suppressed(&self) {
        self.log_suppressed.inc();
    }

    pub(crate) fn whispered(&self) {
        self.whispers.inc();
    }

    /// Open connections right now.
    pub fn connections(&self) -> u64 {
        u64::try_from(self.connections.get()).unwrap_or(0)
    }

    /// Engine.IO sessions waiting for their Socket.IO CONNECT.
    pub fn pending_sessions(&self) -> u64 {
        u64::try_from(self.pending_sessions.get()).unwrap_or(0)
    }

    /// Seconds since start.
    pub fn uptime(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// How many times something was dropped for `reason`.
    pub fn drops(&self, reason: DropReason) -> u64 {
        self.dropped[reason as usize].get()
    }

    /// Every metric in the Prometheus text exposition format.
    pub fn prometheus(&self) -> String {
        let mut out = String::with_capacity(4096);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Copy every counter.
    pub fn snapshot(&self) -> Snapshot {
        let ingress = |i: Ingress| self.messages_in[i as usize].get();
        Snapshot {
            uptime: self.uptime(),
            connections: self.connections(),
            messages_in: MessagesIn {
                memory: ingress(Ingress::Memory),
                shm: ingress(Ingress::Shm),
                redis: ingress(Ingress::Redis),
                http: ingress(Ingress::Http),
            },
            messages_delivered: self.messages_out.get(),
            messages_dropped: self.drops(DropReason::InvalidMessage),
            auth_ok: self.auth_granted.get(),
            auth_failed: self.auth_failed.get(),
            whispers: self.whispers.get(),
        }
    }
}

fn kind_index(kind: ChannelKind) -> usize {
    match kind {
        ChannelKind::Public => 0,
        ChannelKind::Private => 1,
        ChannelKind::Presence => 2,
    }
}
