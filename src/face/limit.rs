//! Rate limits per key: a token bucket each, as large as the key's rate (`120/m` lets 120
//! requests through at once, then one every half second).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::principal::Rate;

struct Bucket {
    tokens: f64,
    at: Instant,
    rate: Rate,
}

#[derive(Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    /// Takes one request from `key`'s bucket; `Err(wait)`: none left, one comes after `wait`.
    pub fn take(&self, key: &str, rate: Rate) -> Result<(), Duration> {
        self.take_n(key, rate, 1)
    }

    /// Takes `n` requests at once (a batch), or none.
    pub fn take_n(&self, key: &str, rate: Rate, n: u32) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("buckets");
        let capacity = f64::from(rate.count);
        let per_second = capacity / rate.per.as_secs_f64();
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            at: now,
            rate,
        });
        if bucket.rate != rate {
            // The key's rate was changed: a fresh bucket at the new size.
            *bucket = Bucket {
                tokens: capacity,
                at: now,
                rate,
            };
        }
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.at = now;
        let n = f64::from(n);
        if bucket.tokens >= n {
            bucket.tokens -= n;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((n - bucket.tokens) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_bucket_empties_and_fills_at_its_rate() {
        let limiter = Limiter::default();
        let rate = Rate::parse("3/s").unwrap();
        for _ in 0..3 {
            assert!(limiter.take("a", rate).is_ok());
        }
        let wait = limiter.take("a", rate).unwrap_err();
        assert!(
            wait > Duration::from_millis(300) && wait <= Duration::from_millis(334),
            "{wait:?}"
        );
        assert!(limiter.take("b", rate).is_ok(), "each key its own bucket");
        tokio::time::advance(Duration::from_millis(340)).await;
        assert!(limiter.take("a", rate).is_ok());
        assert!(limiter.take("a", rate).is_err());
        tokio::time::advance(Duration::from_secs(10)).await;
        for _ in 0..3 {
            assert!(limiter.take("a", rate).is_ok(), "never more than its size");
        }
        assert!(limiter.take("a", rate).is_err());
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(
            limiter.take_n("a", rate, 4).is_err(),
            "a batch larger than the bucket"
        );
        assert!(limiter.take_n("a", rate, 2).is_ok());
        assert!(limiter.take_n("a", rate, 2).is_err(), "all or nothing");
        assert!(limiter.take("a", rate).is_ok());
    }
}
