//! The per-socket limit on client events: a token bucket holding `clientEventBurst` tokens,
//! refilled at `clientEventsPerSecond`. Time comes from a [`Clock`], so tests drive the refill
//! instead of sleeping through it.

use std::sync::Mutex;
use std::time::Instant;

/// Where the bucket reads the time.
pub(crate) trait Clock {
    fn now(&self) -> Instant;
}

/// The monotonic system clock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

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
pub(crate) struct Bucket<C: Clock = SystemClock> {
    per_second: f64,
    burst: f64,
    state: Mutex<State>,
    clock: C,
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
        Self::with_clock(per_second, burst, SystemClock)
    }
}

impl<C: Clock> Bucket<C> {
    /// As [`Bucket::new`], reading the time from `clock`.
    pub(crate) fn with_clock(per_second: u32, burst: u32, clock: C) -> Option<Self> {
        (per_second > 0).then(|| {
            let burst = f64::from(burst.max(1));
            Bucket {
                per_second: f64::from(per_second),
                burst,
                state: Mutex::new(State {
                    tokens: burst,
                    at: clock.now(),
                    refusing: false,
                }),
                clock,
            }
        })
    }

    pub(crate) fn take(&self) -> Verdict {
        let now = self.clock.now();
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
    use std::cell::Cell;
    use std::time::Duration;

    /// A clock that moves only when the test advances it.
    struct ManualClock {
        start: Instant,
        offset: Cell<Duration>,
    }

    impl ManualClock {
        fn new() -> Self {
            ManualClock {
                start: Instant::now(),
                offset: Cell::new(Duration::ZERO),
            }
        }

        fn advance(&self, by: Duration) {
            self.offset.set(self.offset.get() + by);
        }
    }

    impl Clock for &ManualClock {
        fn now(&self) -> Instant {
            self.start + self.offset.get()
        }
    }

    fn takes<C: Clock>(b: &Bucket<C>, n: usize) -> Vec<Verdict> {
        (0..n).map(|_| b.take()).collect()
    }

    use Verdict::{Allowed, Refused, RefusedAgain};

    #[test]
    fn allows_the_burst_then_refuses_and_answers_once() {
        let clock = ManualClock::new();
        let b = Bucket::with_clock(10, 3, &clock).expect("limited");
        assert_eq!(
            takes(&b, 6),
            [
                Allowed,
                Allowed,
                Allowed,
                Refused,
                RefusedAgain,
                RefusedAgain
            ]
        );
    }

    #[test]
    fn refills_at_the_rate_as_the_clock_moves() {
        // 4 per second: a token every 250 ms (binary fractions, so the arithmetic is exact).
        let clock = ManualClock::new();
        let b = Bucket::with_clock(4, 3, &clock).expect("limited");
        assert_eq!(takes(&b, 4), [Allowed, Allowed, Allowed, Refused]);
        clock.advance(Duration::from_millis(249));
        assert_eq!(b.take(), RefusedAgain, "not yet a whole token");
        clock.advance(Duration::from_millis(1));
        // One token; the next refusal is answered again.
        assert_eq!(takes(&b, 3), [Allowed, Refused, RefusedAgain]);
        // Half tokens add up across calls.
        let mut steps = Vec::new();
        for _ in 0..4 {
            clock.advance(Duration::from_millis(125));
            steps.push(b.take());
        }
        assert_eq!(steps, [RefusedAgain, Allowed, Refused, Allowed]);
    }

    #[test]
    fn a_long_pause_refills_to_the_burst_not_beyond() {
        let clock = ManualClock::new();
        let b = Bucket::with_clock(1, 3, &clock).expect("limited");
        assert_eq!(takes(&b, 4), [Allowed, Allowed, Allowed, Refused]);
        clock.advance(Duration::from_secs(3600));
        assert_eq!(takes(&b, 4), [Allowed, Allowed, Allowed, Refused]);
    }

    #[test]
    fn a_clock_that_does_not_move_refills_nothing() {
        let clock = ManualClock::new();
        let b = Bucket::with_clock(1_000, 1, &clock).expect("limited");
        let verdicts = takes(&b, 1_000);
        assert_eq!(verdicts[..2], [Allowed, Refused]);
        assert!(verdicts[2..].iter().all(|v| *v == RefusedAgain));
    }

    #[test]
    fn zero_burst_still_allows_one() {
        let clock = ManualClock::new();
        let b = Bucket::with_clock(1, 0, &clock).expect("limited");
        assert_eq!(takes(&b, 2), [Allowed, Refused]);
    }

    #[test]
    fn zero_rate_means_no_limit() {
        assert!(Bucket::new(0, 5).is_none());
    }
}
