//! At most one log line per period for a repeating ring problem, with the count of the ones left
//! out: a process that keeps corrupting the ring must not flood the log.

use std::time::{Duration, Instant};

use super::clock::Clock;

/// Lets one event through per `period`; counts the others.
#[derive(Debug)]
pub(crate) struct Throttle {
    period: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    pub(crate) fn new(period: Duration) -> Self {
        Throttle {
            period,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(n)` when this event should be logged, `n` being how many were left out since the
    /// last one; `None` when it should not.
    pub(crate) fn admit(&mut self, clock: &Clock) -> Option<u64> {
        let now = clock.now();
        match self.last {
            Some(last) if now.saturating_duration_since(last) < self.period => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}
