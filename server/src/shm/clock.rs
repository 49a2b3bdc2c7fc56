//! The ring's notion of time: a monotonic instant for the consumer's own timers (a stalled
//! record, the heartbeat period) and milliseconds since the Unix epoch for the heartbeat word,
//! which processes compare with each other. Tests stop the clock and move it by hand, so stall
//! and heartbeat rules are checked as conditions, not by sleeping.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The system clock, or a stopped one that moves only when told.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<Mutex<Stopped>>>);

#[derive(Debug)]
struct Stopped {
    instant: Instant,
    wall_ms: u64,
}

impl Clock {
    /// A clock stopped at the current time.
    pub fn stopped() -> Self {
        Clock(Some(Arc::new(Mutex::new(Stopped {
            instant: Instant::now(),
            wall_ms: system_ms(),
        }))))
    }

    /// Move a stopped clock forward (no effect on the system clock).
    pub fn advance(&self, by: Duration) {
        if let Some(stopped) = &self.0 {
            let mut s = stopped.lock().unwrap_or_else(PoisonError::into_inner);
            s.instant += by;
            s.wall_ms = s
                .wall_ms
                .saturating_add(u64::try_from(by.as_millis()).unwrap_or(u64::MAX));
        }
    }

    /// Now, for timers within this process.
    pub fn now(&self) -> Instant {
        match &self.0 {
            None => Instant::now(),
            Some(s) => s.lock().unwrap_or_else(PoisonError::into_inner).instant,
        }
    }

    /// Milliseconds since the Unix epoch (the heartbeat clock, comparable across processes).
    pub fn wall_ms(&self) -> u64 {
        match &self.0 {
            None => system_ms(),
            Some(s) => s.lock().unwrap_or_else(PoisonError::into_inner).wall_ms,
        }
    }
}

fn system_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
