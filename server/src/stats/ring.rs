//! The shared-memory ring's health: whether its drain thread runs, how often it had to be
//! restarted, and how often a corrupt ring was reset. `/health` and `/metrics` read these.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Serialize;

/// Counters of the ring's drain thread.
#[derive(Debug, Default)]
pub struct RingHealth {
    up: Gauge,
    restarts: Counter,
    resets: Counter,
}

/// The ring's health at one moment, as `/health` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RingHealthSnapshot {
    /// Whether the drain thread is running.
    pub up: bool,
    /// Times the drain thread died (panicked) and was started again.
    pub restarts: u64,
    /// Times a corrupt tail or record header was reset.
    pub resets: u64,
}

impl RingHealth {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "ring_up",
            "1 while the shared-memory ring's drain thread runs",
            self.up.clone(),
        );
        r.register(
            "ring_restarts",
            "Times the ring's drain thread died and was started again",
            self.restarts.clone(),
        );
        r.register(
            "ring_resets",
            "Times the ring consumer dropped what was queued past a corrupt tail or record header",
            self.resets.clone(),
        );
    }

    pub(crate) fn set_up(&self, up: bool) {
        self.up.set(i64::from(up));
    }

    pub(crate) fn restarted(&self) {
        self.restarts.inc();
    }

    pub(crate) fn reset(&self, n: u64) {
        self.resets.inc_by(n);
    }

    /// Copy the figures.
    pub fn snapshot(&self) -> RingHealthSnapshot {
        RingHealthSnapshot {
            up: self.up.get() > 0,
            restarts: self.restarts.get(),
            resets: self.resets.get(),
        }
    }
}
