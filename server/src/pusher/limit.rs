//! Reverb's per-connection message rate limit (`rate_limiting`): at most `max_attempts` messages
//! in a window of `decay_seconds` counted from the window's first message; a message past it is
//! refused with 4301, or the connection closed with `terminate_on_limit`.

use tokio::time::Instant;

use crate::config::RateLimit;

/// What a message past the limit gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limited {
    /// Within the limit: handle it.
    No,
    /// Refused with 4301.
    Refused,
    /// Refused with 4301, and the connection closed.
    Terminate,
}

/// One connection's window.
#[derive(Debug)]
pub(crate) struct MessageLimit {
    limit: RateLimit,
    window: Option<Instant>,
    count: u32,
}

impl MessageLimit {
    pub(crate) fn new(limit: RateLimit) -> Self {
        MessageLimit {
            limit,
            window: None,
            count: 0,
        }
    }

    /// Count a message arriving `now`.
    pub(crate) fn hit(&mut self, now: Instant) -> Limited {
        if self
            .window
            .is_none_or(|start| now.duration_since(start) >= self.limit.decay)
        {
            self.window = Some(now);
            self.count = 0;
        }
        if self.count >= self.limit.max_attempts {
            return if self.limit.terminate {
                Limited::Terminate
            } else {
                Limited::Refused
            };
        }
        self.count += 1;
        Limited::No
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_window_of_max_attempts() {
        let limit = RateLimit {
            max_attempts: 2,
            decay: Duration::from_secs(10),
            terminate: false,
        };
        let mut l = MessageLimit::new(limit);
        let t0 = Instant::now();
        assert_eq!(l.hit(t0), Limited::No);
        assert_eq!(l.hit(t0 + Duration::from_secs(1)), Limited::No);
        assert_eq!(l.hit(t0 + Duration::from_secs(9)), Limited::Refused);
        assert_eq!(
            l.hit(t0 + Duration::from_secs(10)),
            Limited::No,
            "a new window"
        );
        let mut t = MessageLimit::new(RateLimit {
            terminate: true,
            max_attempts: 1,
            ..limit
        });
        assert_eq!(t.hit(t0), Limited::No);
        assert_eq!(t.hit(t0), Limited::Terminate);
    }
}
