//! Log output for the binary and for servers hosted inside PHP: `tracing` to stderr, filtered by
//! `RUST_LOG` when set, else by dev mode (which shows joins, leaves, auth results and messages).

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Install the stderr subscriber once per process; later calls are no-ops. `quiet` is the
/// filter outside dev mode (`"info"` for the binary, `"warn"` inside a PHP process).
pub fn init(dev: bool, quiet: &str, format: Format) {
    let default = if dev {
        "info,rust_echo_server=debug"
    } else {
        quiet
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        Format::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        Format::Json => builder.json().try_init(),
    };
}

/// Holds back repeats of one log line: at most one line per period, so a condition a client or
/// the system can repeat thousands of times a second (refused handshakes, failed accepts,
/// undecodable packets) costs one line per period. The lines held back are counted in
/// `rust_echo_log_lines_suppressed_total` and reported with the next line that goes out.
#[derive(Debug)]
pub(crate) struct Throttle {
    period: std::time::Duration,
    state: std::sync::Mutex<ThrottleState>,
}

#[derive(Debug)]
struct ThrottleState {
    last: Option<std::time::Instant>,
    held_back: u64,
}

impl Throttle {
    pub(crate) const fn new(period: std::time::Duration) -> Self {
        Throttle {
            period,
            state: std::sync::Mutex::new(ThrottleState {
                last: None,
                held_back: 0,
            }),
        }
    }

    /// `Some(n)` when this line may be written, `n` being how many were held back since the last
    /// one; `None` (and counted in `stats`) when it must be held back.
    pub(crate) fn admit(&self, stats: &crate::stats::Stats) -> Option<u64> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        if state
            .last
            .is_some_and(|last| now.duration_since(last) < self.period)
        {
            state.held_back += 1;
            drop(state);
            stats.log_suppressed();
            return None;
        }
        state.last = Some(now);
        Some(std::mem::take(&mut state.held_back))
    }
}

#[cfg(test)]
mod tests {
    use super::Throttle;
    use crate::stats::Stats;
    use std::time::Duration;

    #[test]
    fn a_throttle_lets_one_line_through_per_period_and_counts_the_rest() {
        let stats = Stats::default();
        let throttle = Throttle::new(Duration::from_secs(3600));
        assert_eq!(throttle.admit(&stats), Some(0));
        for _ in 0..5 {
            assert_eq!(throttle.admit(&stats), None);
        }
        assert!(
            stats
                .prometheus()
                .contains("rust_echo_log_lines_suppressed_total 5")
        );
        let open = Throttle::new(Duration::ZERO);
        assert_eq!(open.admit(&stats), Some(0));
        assert_eq!(open.admit(&stats), Some(0));
    }
}
