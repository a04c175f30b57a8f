//! Requests a server sent this session's client (sampling, elicitation, roots, …).
//!
//! Each gets an id of the session's own towards the client, so that requests of different
//! servers never share one; the client's answer is mapped back to the server and its id.
//! Progress the client reports on such a request goes to its server.

use std::collections::HashMap;

use crate::protocol::RequestId;

#[derive(Default)]
pub struct Outbound {
    next: u64,
    /// Our id → the server and its id.
    open: HashMap<u64, (usize, RequestId)>,
    /// The progress token of an open request (JSON text) → the server and our id.
    progress: HashMap<String, (usize, u64)>,
}

impl Outbound {
    /// Records a request of `server` (its id `theirs`); returns the id to send the client.
    pub fn open(&mut self, server: usize, theirs: RequestId, progress: Option<String>) -> u64 {
        self.next += 1;
        self.open.insert(self.next, (server, theirs));
        if let Some(token) = progress {
            self.progress.insert(token, (server, self.next));
        }
        self.next
    }

    /// The client answered `ours`: the server and its id, unless the request is unknown
    /// (never sent, already answered, or withdrawn).
    pub fn answered(&mut self, ours: &RequestId) -> Option<(usize, RequestId)> {
        let key = match ours {
            RequestId::Number(n) => n.as_u64()?,
            RequestId::String(s) => s.parse().ok()?,
        };
        self.close(key)
    }

    /// The server withdrew its request `theirs`: our id for it, to tell the client.
    pub fn withdrawn(&mut self, server: usize, theirs: &RequestId) -> Option<u64> {
        let ours = self
            .open
            .iter()
            .find(|(_, (s, id))| *s == server && id == theirs)
            .map(|(ours, _)| *ours)?;
        self.close(ours).map(|_| ours)
    }

    /// `server` stopped: our ids of its requests, none of which can be answered now.
    pub fn server_stopped(&mut self, server: usize) -> Vec<u64> {
        let mut gone: Vec<u64> = self
            .open
            .iter()
            .filter(|(_, (s, _))| *s == server)
            .map(|(ours, _)| *ours)
            .collect();
        gone.sort_unstable();
        for ours in &gone {
            self.close(*ours);
        }
        gone
    }

    /// The server a progress token of the client belongs to.
    pub fn progress_target(&self, token: &str) -> Option<usize> {
        self.progress.get(token).map(|(server, _)| *server)
    }

    /// Everything still open (the session is ending): each server and its id.
    pub fn drain(&mut self) -> Vec<(usize, RequestId)> {
        self.progress.clear();
        self.open.drain().map(|(_, v)| v).collect()
    }

    fn close(&mut self, ours: u64) -> Option<(usize, RequestId)> {
        let found = self.open.remove(&ours)?;
        self.progress.retain(|_, (_, o)| *o != ours);
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_sharing_an_id_get_distinct_ids_and_their_own_answers() {
        let mut out = Outbound::default();
        let a = out.open(0, RequestId::from(1), None);
        let b = out.open(1, RequestId::from(1), None);
        assert_ne!(a, b);
        assert_eq!(out.answered(&b.into()), Some((1, RequestId::from(1))));
        assert_eq!(out.answered(&b.into()), None, "answered twice");
        assert_eq!(
            out.answered(&RequestId::String(a.to_string().into())),
            Some((0, RequestId::from(1))),
            "a client that echoes ids as strings is forgiven"
        );
        assert_eq!(out.answered(&RequestId::String("x".into())), None);
        assert!(out.drain().is_empty());
    }

    #[test]
    fn progress_reaches_the_server_until_the_request_ends() {
        let mut out = Outbound::default();
        let ours = out.open(2, RequestId::from(9), Some("\"t\"".into()));
        assert_eq!(out.progress_target("\"t\""), Some(2));
        out.answered(&ours.into());
        assert_eq!(out.progress_target("\"t\""), None);
    }

    #[test]
    fn withdrawn_and_stopped_requests_are_named_by_our_ids() {
        let mut out = Outbound::default();
        let a = out.open(0, RequestId::from(5), Some("1".into()));
        let b = out.open(0, RequestId::from(6), None);
        let c = out.open(1, RequestId::from(5), None);
        assert_eq!(out.withdrawn(1, &RequestId::from(5)), Some(c));
        assert_eq!(out.withdrawn(1, &RequestId::from(5)), None);
        assert_eq!(out.server_stopped(0), vec![a, b]);
        assert_eq!(out.progress_target("1"), None);
        assert!(out.drain().is_empty());
        out.open(3, RequestId::from(1), None);
        assert_eq!(out.drain(), vec![(3, RequestId::from(1))]);
    }
}
