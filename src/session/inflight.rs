//! The client's requests that went upstream and are not answered yet, with their timeouts.
//!
//! Each entry knows its server and that server's id for it (to cancel it there), when it times
//! out, and its progress token. Timeouts are checked by the session's coarse clock rather than
//! a timer per request; every progress notification moves a deadline to `now + timeout`, but
//! never past `max_timeout` after the start.
//!
//! Progress tokens are the session's own towards upstreams (`"<session>.<n>"`): clients of
//! different sessions may pick the same token, and the hub routes a server's progress back by
//! the session named in it. The client's own token is put back before the client sees it.
//! A server's last progress may overtake its answer on the way (they travel apart): the
//! tokens of the last requests answered are kept a while for it.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::value::RawValue;
use tokio::time::Instant;

use crate::protocol::RequestId;

/// How an answer from an upstream is turned into the answer for the client.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Answer {
    /// Passed through untouched.
    Relay,
    /// `tools/call`: failures become tool results with `isError`.
    Tool,
}

#[derive(Debug)]
pub struct InFlight {
    /// Tells this request from an earlier one that used the same client id.
    pub seq: u64,
    pub server: usize,
    pub upstream_id: u64,
    /// Our progress token (JSON text) and the client's, as the client wrote it.
    pub progress: Option<(String, Box<RawValue>)>,
    pub answer: Answer,
    /// A stateless client's result carries caching hints (lists, `resources/read`).
    pub cacheable: bool,
    /// A request of a stateless client that its (handshake-era) server may interrupt with a
    /// request for input ([`super::held`]): the client's method, which its retry repeats.
    pub may_ask: Option<&'static str>,
    /// The client was answered `input_required` and has not come back yet: no answer is
    /// owed to the id it has now.
    pub held: bool,
    /// A stateless client asked for this request's log messages from this level up.
    pub log_rank: Option<usize>,
    pub started: Instant,
    /// When it times out; each progress notification moves this to `now + timeout`.
    deadline: Instant,
    /// The latest the deadline can move to (`max_timeout` after the start).
    limit: Instant,
    timeout: Duration,
}

/// What a new entry needs besides its client id.
pub struct Entry {
    pub server: usize,
    pub upstream_id: u64,
    pub progress: Option<(String, Box<RawValue>)>,
    pub answer: Answer,
    pub cacheable: bool,
    pub may_ask: Option<&'static str>,
    pub log_rank: Option<usize>,
    pub timeout: Duration,
    pub max_timeout: Duration,
}

#[derive(Default)]
pub struct Table {
    entries: HashMap<RequestId, InFlight>,
    /// Our progress token → the client id of its request.
    by_token: HashMap<String, RequestId>,
    /// `seq` → the client id of a held request that was retried under a new id (the rest
    /// are found by the id they were sent with).
    renamed: HashMap<u64, RequestId>,
    /// Our token and the client's, of the last requests that ended.
    ended: std::collections::VecDeque<(String, Box<RawValue>)>,
    seq: u64,
}

/// How many ended requests' tokens are kept for their late progress.
const ENDED_KEPT: usize = 64;

impl Table {
    pub fn contains(&self, id: &RequestId) -> bool {
        self.entries.contains_key(id)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The lowest log level that a request in flight at `server` asked for (stateless
    /// clients hear a server's log messages only while such a request is being served).
    pub fn log_rank_at(&self, server: usize) -> Option<usize> {
        self.entries
            .values()
            .filter(|f| f.server == server)
            .filter_map(|f| f.log_rank)
            .min()
    }

    /// Records a request sent now; returns its `seq`, which its answer must bring back.
    pub fn insert(&mut self, id: RequestId, entry: Entry, now: Instant) -> u64 {
        self.seq += 1;
        if let Some((ours, _)) = &entry.progress {
            self.by_token.insert(ours.clone(), id.clone());
        }
        let limit = now + entry.max_timeout;
        self.entries.insert(
            id,
            InFlight {
                seq: self.seq,
                server: entry.server,
                upstream_id: entry.upstream_id,
                progress: entry.progress,
                answer: entry.answer,
                cacheable: entry.cacheable,
                may_ask: entry.may_ask,
                held: false,
                log_rank: entry.log_rank,
                started: now,
                deadline: (now + entry.timeout).min(limit),
                limit,
                timeout: entry.timeout,
            },
        );
        self.seq
    }

    /// The answer to request number `seq`, sent as `id`, arrived: the client's id for it
    /// now, and its entry, unless it was cancelled or timed out meanwhile (then the client
    /// expects no answer, or already has one).
    pub fn answered(&mut self, seq: u64, id: &RequestId) -> Option<(RequestId, InFlight)> {
        let id = match self.renamed.get(&seq) {
            Some(renamed) => renamed.clone(),
            None if self.entries.get(id).is_some_and(|f| f.seq == seq) => id.clone(),
            None => return None,
        };
        self.remove(&id).map(|f| (id, f))
    }

    /// The client came back for held request `from` as request `to`.
    pub fn rename(&mut self, from: &RequestId, to: RequestId) -> bool {
        let Some(mut flight) = self.entries.remove(from) else {
            return false;
        };
        flight.held = false;
        self.renamed.insert(flight.seq, to.clone());
        if let Some((ours, _)) = &flight.progress {
            self.by_token.insert(ours.clone(), to.clone());
        }
        self.entries.insert(to, flight);
        true
    }

    /// Marks request `id` held: its client was answered `input_required`.
    pub fn hold(&mut self, id: &RequestId) {
        if let Some(f) = self.entries.get_mut(id) {
            f.held = true;
        }
    }

    /// The requests at `server` that it may be asking for input for (not held already),
    /// each with the client's method.
    pub fn askable(&self, server: usize) -> Vec<(RequestId, &'static str)> {
        self.entries
            .iter()
            .filter(|(_, f)| f.server == server && !f.held)
            .filter_map(|(id, f)| Some((id.clone(), f.may_ask?)))
            .collect()
    }

    /// Forgets request `id` (cancelled by the client, or the session is ending).
    pub fn remove(&mut self, id: &RequestId) -> Option<InFlight> {
        let mut flight = self.entries.remove(id)?;
        self.renamed.remove(&flight.seq);
        if let Some((ours, theirs)) = flight.progress.take() {
            self.by_token.remove(&ours);
            if self.ended.len() == ENDED_KEPT {
                self.ended.pop_front();
            }
            self.ended.push_back((ours, theirs));
        }
        Some(flight)
    }

    /// Whether the request with our progress token `ours` is still in flight (not ended).
    pub fn in_flight_with_token(&self, ours: &str) -> bool {
        self.by_token.contains_key(ours)
    }

    /// A server reported progress on the request with our token `ours`: its deadline moves,
    /// and the client's token is returned to put in the notification.
    pub fn progressed(&mut self, ours: &str, now: Instant) -> Option<&RawValue> {
        let Some(id) = self.by_token.get(ours) else {
            // Progress that overtook its answer: the request just ended.
            return self
                .ended
                .iter()
                .find(|(o, _)| o == ours)
                .map(|(_, theirs)| &**theirs);
        };
        let flight = self.entries.get_mut(id)?;
        flight.deadline = (now + flight.timeout).min(flight.limit);
        flight.progress.as_ref().map(|(_, theirs)| &**theirs)
    }

    /// Removes and returns every request whose deadline has passed.
    pub fn expired(&mut self, now: Instant) -> Vec<(RequestId, InFlight)> {
        let ids: Vec<RequestId> = self
            .entries
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        ids.into_iter()
            .filter_map(|id| self.remove(&id).map(|f| (id, f)))
            .collect()
    }

    /// Removes and returns everything (the session is ending).
    pub fn drain(&mut self) -> Vec<(RequestId, InFlight)> {
        self.by_token.clear();
        self.entries.drain().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(server: usize, upstream_id: u64, token: Option<&str>) -> Entry {
        Entry {
            server,
            upstream_id,
            progress: token.map(|t| (format!("\"s.{t}\""), crate::protocol::raw(&t))),
            answer: Answer::Relay,
            cacheable: false,
            may_ask: None,
            log_rank: None,
            timeout: Duration::from_secs(10),
            max_timeout: Duration::from_secs(25),
        }
    }

    fn id(n: u64) -> RequestId {
        RequestId::from(n)
    }

    #[test]
    fn an_answer_takes_its_entry_once() {
        let mut table = Table::default();
        let now = Instant::now();
        let seq = table.insert(id(1), entry(0, 7, Some("p")), now);
        assert!(table.contains(&id(1)));
        let (answered, flight) = table.answered(seq, &id(1)).expect("in flight");
        assert_eq!((answered, flight.server, flight.upstream_id), (id(1), 0, 7));
        assert!(table.answered(seq, &id(1)).is_none(), "answered twice");
        assert!(table.is_empty());
        assert_eq!(
            table.progressed("\"s.p\"", now).map(RawValue::get),
            Some("\"p\""),
            "progress that overtook the answer still finds the client's token"
        );
        for n in 0..ENDED_KEPT {
            let token = format!("t{n}");
            table.insert(id(2), entry(0, 8, Some(&token)), now);
            table.remove(&id(2));
        }
        assert!(
            table.progressed("\"s.p\"", now).is_none(),
            "forgotten in time"
        );
    }

    #[test]
    fn a_reused_id_ignores_the_answer_of_its_cancelled_predecessor() {
        let mut table = Table::default();
        let now = Instant::now();
        let first = table.insert(id(1), entry(0, 1, None), now);
        table.remove(&id(1));
        let second = table.insert(id(1), entry(1, 2, None), now);
        assert!(table.answered(first, &id(1)).is_none());
        assert_eq!(table.answered(second, &id(1)).unwrap().1.server, 1);
    }

    #[test]
    fn a_held_request_is_answered_under_the_id_of_its_retry() {
        let mut table = Table::default();
        let now = Instant::now();
        let asks = Entry {
            may_ask: Some("tools/call"),
            ..entry(0, 1, Some("p"))
        };
        let seq = table.insert(id(1), asks, now);
        table.insert(id(2), entry(0, 2, None), now);
        assert_eq!(table.askable(0), [(id(1), "tools/call")]);
        table.hold(&id(1));
        assert!(table.askable(0).is_empty(), "held: not asked twice");
        assert!(table.rename(&id(1), id(9)));
        assert!(!table.contains(&id(1)) && table.contains(&id(9)));
        assert_eq!(table.askable(0), [(id(9), "tools/call")]);
        assert!(table.progressed("\"s.p\"", now).is_some());
        let (answered, _) = table.answered(seq, &id(1)).expect("in flight");
        assert_eq!(answered, id(9));
        assert!(!table.rename(&id(1), id(10)));
    }

    #[test]
    fn progress_extends_a_deadline_up_to_the_limit() {
        let mut table = Table::default();
        let start = Instant::now();
        table.insert(id(1), entry(0, 1, Some("p")), start);
        table.insert(id(2), entry(0, 2, None), start);
        let at = |s: u64| start + Duration::from_secs(s);
        assert!(table.expired(at(9)).is_empty());
        // Progress at 8 s: request 1 now lasts until 18 s; request 2 still ends at 10 s.
        let theirs = table.progressed("\"s.p\"", at(8)).expect("known token");
        assert_eq!(theirs.get(), "\"p\"");
        let gone: Vec<_> = table.expired(at(10)).into_iter().map(|(i, _)| i).collect();
        assert_eq!(gone, [id(2)]);
        // Progress keeps it alive, but never past max_timeout (25 s).
        for s in [17, 24] {
            table.progressed("\"s.p\"", at(s));
        }
        assert!(table.expired(at(24)).is_empty());
        assert_eq!(table.expired(at(25)).len(), 1);
        assert!(table.is_empty());
    }

    #[test]
    fn drain_leaves_nothing() {
        let mut table = Table::default();
        let now = Instant::now();
        table.insert(id(1), entry(0, 1, Some("a")), now);
        table.insert(RequestId::String("x".into()), entry(1, 2, None), now);
        assert_eq!(table.drain().len(), 2);
        assert!(table.is_empty() && !table.contains(&id(1)));
    }

    #[test]
    fn the_lowest_log_level_asked_for_at_a_server_wins() {
        let mut table = Table::default();
        let now = Instant::now();
        assert_eq!(table.log_rank_at(0), None);
        table.insert(
            id(1),
            Entry {
                log_rank: Some(3),
                ..entry(0, 1, None)
            },
            now,
        );
        table.insert(
            id(2),
            Entry {
                log_rank: Some(1),
                ..entry(0, 2, None)
            },
            now,
        );
        table.insert(
            id(3),
            Entry {
                log_rank: Some(0),
                ..entry(1, 3, None)
            },
            now,
        );
        table.insert(id(4), entry(0, 4, None), now);
        assert_eq!(table.log_rank_at(0), Some(1));
        table.remove(&id(2));
        assert_eq!(table.log_rank_at(0), Some(3));
        assert_eq!(table.log_rank_at(1), Some(0));
    }
}
