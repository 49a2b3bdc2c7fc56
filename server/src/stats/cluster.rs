//! The cluster relay's counters: events published to and received from the other nodes, events
//! the relay had to drop, and reconnects of the backplane's Redis connections.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

/// Counters of the cluster relay (all zero when the cluster is off).
#[derive(Debug, Default)]
pub struct ClusterCounters {
    published: Counter,
    received: Counter,
    dropped: Counter,
    reconnects: Counter,
}

impl ClusterCounters {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "cluster_relay_published",
            "Events published to the other nodes of the cluster",
            self.published.clone(),
        );
        r.register(
            "cluster_relay_received",
            "Events received from the other nodes of the cluster",
            self.received.clone(),
        );
        r.register(
            "cluster_relay_dropped",
            "Events not relayed: the relay queue was full, Redis refused them, or an envelope from \
             the cluster channel could not be read",
            self.dropped.clone(),
        );
        r.register(
            "cluster_redis_reconnects",
            "Times a backplane Redis connection (relay publisher, relay subscriber, presence) was \
             established again after it was lost",
            self.reconnects.clone(),
        );
    }

    pub(crate) fn published(&self, n: u64) {
        self.published.inc_by(n);
    }

    pub(crate) fn received(&self) {
        self.received.inc();
    }

    pub(crate) fn dropped(&self, n: u64) {
        self.dropped.inc_by(n);
    }

    pub(crate) fn reconnected(&self) {
        self.reconnects.inc();
    }

    /// Events relayed to the other nodes so far.
    pub fn published_total(&self) -> u64 {
        self.published.get()
    }

    /// Events received from the other nodes so far.
    pub fn received_total(&self) -> u64 {
        self.received.get()
    }
}
