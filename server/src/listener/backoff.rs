//! What the accept loop does when `accept` fails for want of file descriptors or memory: wait
//! longer after each failure in a row (10 ms doubling to 1 s) instead of spinning, and log one
//! line per [`LOG_EVERY`] with how many failures it stands for, instead of one per attempt.

use std::io;
use std::time::Duration;

use crate::logging::Throttle;
use crate::stats::Stats;

const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);
const LOG_EVERY: Duration = Duration::from_secs(10);

/// The failures in a row and the log throttle of one listener.
#[derive(Debug)]
pub(super) struct AcceptBackoff {
    pause: Duration,
    log: Throttle,
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        AcceptBackoff {
            pause: Duration::ZERO,
            log: Throttle::new(LOG_EVERY),
        }
    }
}

impl AcceptBackoff {
    /// Count a failed accept; how long to wait before the next one.
    pub(super) fn failed(&mut self, error: &io::Error, stats: &Stats) -> Duration {
        stats.accept_failed();
        self.pause = (self.pause * 2).clamp(FIRST_PAUSE, LONGEST_PAUSE);
        if let Some(held_back) = self.log.admit(stats) {
            tracing::error!(
                error = %error,
                failures_since_last_line = held_back + 1,
                retry_in_ms = self.pause.as_millis(),
                "accept failed; new connections wait until descriptors free up (check `ulimit -n` and maxConnections)"
            );
        }
        self.pause
    }

    /// An accept succeeded: the next failure starts a new series.
    pub(super) fn succeeded(&mut self) {
        self.pause = Duration::ZERO;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_in_a_row_wait_longer_up_to_a_second_and_log_once() {
        let stats = Stats::default();
        let mut backoff = AcceptBackoff::default();
        let e = io::Error::from_raw_os_error(24);
        let pauses: Vec<Duration> = (0..10).map(|_| backoff.failed(&e, &stats)).collect();
        assert_eq!(pauses[0], FIRST_PAUSE);
        assert_eq!(pauses[1], FIRST_PAUSE * 2);
        assert_eq!(pauses[9], LONGEST_PAUSE);
        let metrics = stats.prometheus();
        assert!(
            metrics.contains("rust_echo_accept_errors_total 10"),
            "{metrics}"
        );
        assert!(
            metrics.contains("rust_echo_log_lines_suppressed_total 9"),
            "{metrics}"
        );
        backoff.succeeded();
        assert_eq!(backoff.failed(&e, &stats), FIRST_PAUSE);
    }
}
