//! The per-socket limit on client events: a token bucket holding `clientEventBurst` tokens,
//! refilled at `clientEventsPerSecond`.

use std::sync::Mutex;
use std::time::Instant;

/// What [`Bucket::take`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Within the limit.
    Allowed,
    /// Over the limit; the first refusal since the client was last within it (answer this one).
    Refused,
    /// Over the limit again; already answered.
    RefusedAgain,
}

#[derive(Debug)]
pub(crate) struct Bucket {
    per_second: f64,
    burst: f64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    tokens: f64,
    at: Instant,
    refusing: bool,
}

impl Bucket {
    /// `None` when `per_second` is 0 (no limit).
    pub(crate) fn new(per_second: u32, burst: u32) -> Option<Self> {
        (per_second > 0).then(|| {
            let burst = f64::from(burst.max(1));
            Bucket {
                per_second: f64::from(per_second),
                burst,
                state: Mutex::new(State {
                    tokens: burst,
                    at: Instant::now(),
                    refusing: false,
                }),
            }
        })
    }

    pub(crate) fn take(&self) -> Verdict {
        self.take_at(Instant::now())
    }

    fn take_at(&self, now: Instant) -> Verdict {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let elapsed = now.saturating_duration_since(s.at).as_secs_f64();
        s.tokens = (s.tokens + elapsed * self.per_second).min(self.burst);
        s.at = now;
        if s.tokens >= 1.0 {
            s.tokens -= 1.0;
            s.refusing = false;
            Verdict::Allowed
        } else if s.refusing {
            Verdict::RefusedAgain
        } else {
            s.refusing = true;
            Verdict::Refused
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_the_burst_then_the_rate() {
        let b = Bucket::new(10, 3).expect("limited");
        let t0 = Instant::now();
        assert_eq!(b.take_at(t0), Verdict::Allowed);
        assert_eq!(b.take_at(t0), Verdict::Allowed);
        assert_eq!(b.take_at(t0), Verdict::Allowed);
        assert_eq!(b.take_at(t0), Verdict::Refused);
        assert_eq!(b.take_at(t0), Verdict::RefusedAgain);
        // 100 ms at 10/s is one token.
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(b.take_at(t1), Verdict::Allowed);
        assert_eq!(b.take_at(t1), Verdict::Refused);
        // A long pause refills to the burst, not beyond.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(b.take_at(t2), Verdict::Allowed);
        }
        assert_eq!(b.take_at(t2), Verdict::Refused);
    }

    #[test]
    fn zero_rate_means_no_limit() {
        assert!(Bucket::new(0, 5).is_none());
    }
}
