//! `serve --rate-limit N`: at most N submissions per minute per API key (all clients
//! together on an open server), as a token bucket — N at once, then one more every 60/N
//! seconds. Past it a submission gets 429 with `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute: per_minute.max(1), buckets: Mutex::default() }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Takes one submission for `who` at `now`, or says how long until one is allowed.
    pub fn take(&self, who: &str, now: Instant) -> Result<(), Duration> {
        let cap = f64::from(self.per_minute);
        let rate = cap / 60.0;
        let mut b = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (tokens, last) = b.entry(who.to_string()).or_insert((cap, now));
        *tokens = (*tokens + now.saturating_duration_since(*last).as_secs_f64() * rate).min(cap);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(((1.0 - *tokens) / rate).max(0.001)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_more_per_interval_for_each_key() {
        let r = RateLimiter::new(2);
        let t = Instant::now();
        assert!(r.take("a", t).is_ok() && r.take("a", t).is_ok());
        let wait = r.take("a", t).unwrap_err();
        assert!((29.0..=30.0).contains(&wait.as_secs_f64()), "{wait:?}");
        assert!(r.take("b", t).is_ok(), "keys have their own buckets");
        assert!(r.take("a", t + Duration::from_secs(30)).is_ok(), "one back after 60/N s");
        assert!(r.take("a", t + Duration::from_secs(30)).is_err());
    }
}
