//! Counts of the requests sessions send servers, per server and per key: how many, how many
//! failed, and latency percentiles over the latest [`WINDOW`] of each. Read by the HTTP face's
//! `GET /stats`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

/// Latencies kept per row for its percentiles.
pub const WINDOW: usize = 1024;

#[derive(Default)]
struct Row {
    calls: u64,
    errors: u64,
    /// Requests refused before they reached a server (rate limits).
    refused: u64,
    latencies: VecDeque<Duration>,
}

impl Row {
    fn add(&mut self, took: Duration, ok: bool) {
        self.calls += 1;
        if !ok {
            self.errors += 1;
        }
        if self.latencies.len() == WINDOW {
            self.latencies.pop_front();
        }
        self.latencies.push_back(took);
    }

    fn summary(&self) -> Summary {
        let mut sorted: Vec<Duration> = self.latencies.iter().copied().collect();
        sorted.sort_unstable();
        let at = |q: f64| -> Option<f64> {
            if sorted.is_empty() {
                return None;
            }
            let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
            Some((sorted[i].as_secs_f64() * 1e5).round() / 100.0)
        };
        Summary {
            calls: self.calls,
            errors: self.errors,
            rate_limited: self.refused,
            p50_ms: at(0.5),
            p90_ms: at(0.9),
            p99_ms: at(0.99),
        }
    }
}

/// One row of `GET /stats`.
#[derive(Debug, Serialize, PartialEq)]
pub struct Summary {
    pub calls: u64,
    pub errors: u64,
    pub rate_limited: u64,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Default)]
struct Rows {
    servers: HashMap<String, Row>,
    keys: HashMap<String, Row>,
}

#[derive(Default)]
pub struct Stats {
    rows: Mutex<Rows>,
}

/// `GET /stats`.
#[derive(Debug, Serialize)]
pub struct Report {
    pub servers: BTreeMap<String, Summary>,
    pub keys: BTreeMap<String, Summary>,
}

impl Stats {
    /// A request to `server` on behalf of `key` (none: a client without a key) ended.
    pub fn record(&self, server: &str, key: Option<&str>, took: Duration, ok: bool) {
        let mut rows = self.rows.lock().expect("stats");
        if let Some(row) = rows.servers.get_mut(server) {
            row.add(took, ok);
        } else {
            rows.servers
                .entry(server.to_owned())
                .or_default()
                .add(took, ok);
        }
        if let Some(key) = key {
            rows.keys.entry(key.to_owned()).or_default().add(took, ok);
        }
    }

    /// A request of `key` was refused for its rate.
    pub fn rate_limited(&self, key: &str) {
        self.rows
            .lock()
            .expect("stats")
            .keys
            .entry(key.to_owned())
            .or_default()
            .refused += 1;
    }

    /// The rows `servers` and `keys` allow.
    pub fn report(&self, servers: impl Fn(&str) -> bool, keys: impl Fn(&str) -> bool) -> Report {
        let rows = self.rows.lock().expect("stats");
        Report {
            servers: rows
                .servers
                .iter()
                .filter(|(name, _)| servers(name))
                .map(|(name, row)| (name.clone(), row.summary()))
                .collect(),
            keys: rows
                .keys
                .iter()
                .filter(|(name, _)| keys(name))
                .map(|(name, row)| (name.clone(), row.summary()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_percentiles_per_server_and_key() {
        let stats = Stats::default();
        for ms in 1..=100 {
            stats.record("a", Some("ana"), Duration::from_millis(ms), ms % 10 != 0);
        }
        stats.record("b", None, Duration::from_millis(7), true);
        stats.rate_limited("ana");
        let all = stats.report(|_| true, |_| true);
        let a = &all.servers["a"];
        assert_eq!((a.calls, a.errors), (100, 10));
        assert_eq!(
            (a.p50_ms, a.p90_ms, a.p99_ms),
            (Some(50.0), Some(90.0), Some(99.0))
        );
        assert_eq!(all.servers["b"].calls, 1);
        assert_eq!(all.keys["ana"].calls, 100);
        assert_eq!(all.keys["ana"].rate_limited, 1);
        assert_eq!(all.keys.len(), 1, "no key: no key row");
        let only = stats.report(|s| s == "b", |_| false);
        assert!(only.servers.contains_key("b") && !only.servers.contains_key("a"));
        assert!(only.keys.is_empty());
    }

    #[test]
    fn the_window_is_bounded() {
        let stats = Stats::default();
        for _ in 0..WINDOW + 10 {
            stats.record("a", None, Duration::from_millis(1), true);
        }
        let rows = stats.rows.lock().unwrap();
        assert_eq!(rows.servers["a"].latencies.len(), WINDOW);
        assert_eq!(rows.servers["a"].calls, WINDOW as u64 + 10);
    }
}
