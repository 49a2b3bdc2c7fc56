//! The scenarios, each run against every server in one invocation, and the sizes of a quick and
//! a full run.

pub mod channels;
pub mod fanout;
pub mod memory;
pub mod two_nodes;

use std::time::Duration;

use serde::Serialize;

/// Sizes of one run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Client counts of the fan-out scenario (the last is the one the ratios use).
    pub fanout_sizes: Vec<usize>,
    /// Deliveries a saturation phase aims for (fewer when `saturation_time` runs out first).
    pub saturation_deliveries: u64,
    /// Upper bound on publishing in a saturation phase.
    pub saturation_time: Duration,
    /// How long the fixed-rate latency phase publishes.
    pub latency_time: Duration,
    /// Clients of the many-channels scenario, one private channel each.
    pub channel_clients: usize,
    /// Messages per channel in its publish phase.
    pub channel_rounds: u64,
    /// Idle clients of the memory scenario, for both servers.
    pub memory_clients: usize,
    /// A larger idle count for rust-echo alone: measured up to what the descriptor limit
    /// allows, projected from there.
    pub memory_rust_only: Option<usize>,
}

impl Plan {
    pub fn quick() -> Plan {
        Plan {
            fanout_sizes: vec![1_000, 5_000],
            saturation_deliveries: 1_000_000,
            saturation_time: Duration::from_secs(8),
            latency_time: Duration::from_secs(3),
            channel_clients: 5_000,
            channel_rounds: 10,
            memory_clients: 5_000,
            memory_rust_only: None,
        }
    }

    pub fn full() -> Plan {
        Plan {
            fanout_sizes: vec![100, 1_000, 5_000, 10_000],
            saturation_deliveries: 4_000_000,
            saturation_time: Duration::from_secs(20),
            latency_time: Duration::from_secs(8),
            // laravel-echo-server opens one connection to the auth endpoint per pending
            // subscription: 9,000 clients and 9,000 requests fit a 20,000-descriptor limit.
            channel_clients: 9_000,
            channel_rounds: 20,
            memory_clients: 9_000,
            memory_rust_only: Some(100_000),
        }
    }
}

/// Deliveries owed, received, and whether they arrived exactly once and in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Delivery {
    pub expected: u64,
    pub received: u64,
    pub missing: u64,
    /// Arrived after a later one, or twice.
    pub disordered: u64,
}

impl Delivery {
    pub fn of(o: &crate::load::Outcome) -> Delivery {
        Delivery {
            expected: o.expected,
            received: o.tally.received,
            missing: o.missing(),
            disordered: o.tally.behind,
        }
    }

    pub fn exact(&self) -> bool {
        self.missing == 0 && self.disordered == 0 && self.received == self.expected
    }
}

/// CPU seconds of a process over a phase, as a share of one core.
pub fn cpu_share(before: Option<f64>, after: Option<f64>, wall: Duration) -> Option<f64> {
    Some(100.0 * (after? - before?) / wall.as_secs_f64().max(1e-9))
}
