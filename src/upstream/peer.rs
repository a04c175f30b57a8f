//! What every transport does with the messages a server sends, whatever carried them.
//!
//! Answers are matched to pending requests by the gateway's own ids; pings are answered here
//! (the gateway is the server's peer); requests and notifications go to the session as
//! [`Event`]s. Malformed or oversized answers fail the request they belong to at once, and
//! lines that are not MCP are counted rather than logged one by one.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{mpsc, oneshot};

use super::{CallError, Event, Reply};
use crate::protocol::{
    self, ErrorObject, Frame, Message, Parsed, RequestId, Response, code, recover_id,
};

/// A request waiting for the server's answer, and the session it came from (0: the hub).
pub(super) struct Waiting {
    pub reply: oneshot::Sender<Reply>,
    pub origin: u64,
}

impl From<oneshot::Sender<Reply>> for Waiting {
    fn from(reply: oneshot::Sender<Reply>) -> Self {
        Waiting { reply, origin: 0 }
    }
}

/// The requests waiting for the server's answers, counted where the hub can read it.
pub(super) struct Pending {
    map: HashMap<u64, Waiting>,
    count: Arc<AtomicUsize>,
}

impl Pending {
    pub fn new(count: Arc<AtomicUsize>) -> Self {
        Pending {
            map: HashMap::new(),
            count,
        }
    }

    fn counted<T>(&mut self, change: impl FnOnce(&mut HashMap<u64, Waiting>) -> T) -> T {
        let out = change(&mut self.map);
        self.count.store(self.map.len(), Ordering::Relaxed);
        out
    }

    pub fn insert(&mut self, id: u64, waiting: Waiting) {
        self.counted(|m| m.insert(id, waiting));
    }

    pub fn remove(&mut self, id: &u64) -> Option<Waiting> {
        self.counted(|m| m.remove(id))
    }

    pub fn drain(&mut self) -> Vec<Waiting> {
        self.counted(|m| m.drain().map(|(_, w)| w).collect())
    }

    pub fn get(&self, id: &u64) -> Option<&Waiting> {
        self.map.get(id)
    }

    pub fn contains_key(&self, id: &u64) -> bool {
        self.map.contains_key(id)
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn values(&self) -> impl Iterator<Item = &Waiting> {
        self.map.values()
    }
}

pub(super) struct Peer {
    pub index: usize,
    pub name: Arc<str>,
    pub max_message_bytes: usize,
    pub events: mpsc::UnboundedSender<Event>,
    pub pending: Pending,
    /// Input that was not MCP, for rate-limiting the warnings about it.
    ignored: u64,
    /// The secret this server was given: a server may echo it, and logs must not.
    pub secret: Option<crate::secrets::Secret>,
    /// The last answer to no pending request: its id, and whether it was an error.
    pub unmatched_answer: Option<(u64, bool)>,
}

impl Peer {
    pub fn new(
        index: usize,
        name: Arc<str>,
        max_message_bytes: usize,
        events: mpsc::UnboundedSender<Event>,
        in_flight: Arc<AtomicUsize>,
    ) -> Peer {
        Peer {
            index,
            name,
            max_message_bytes,
            events,
            pending: Pending::new(in_flight),
            ignored: 0,
            secret: None,
            unmatched_answer: None,
        }
    }

    /// Handles one frame; returns what to send back to the server (usually nothing).
    pub fn frame(&mut self, frame: Frame) -> Vec<Message> {
        match frame {
            Frame::Line(line) => self.message(&line),
            Frame::TooLong { head, len } => {
                self.too_long(&head, len);
                vec![]
            }
        }
    }

    /// A message that was too long to read: its request, when known, fails now.
    pub fn too_long(&mut self, head: &[u8], len: usize) {
        tracing::warn!(server = %self.name, "dropped a message of {len} bytes (limit {})", self.max_message_bytes);
        if let Some(waiting) = recover_id(head).and_then(|id| self.take(&id)) {
            let _ = waiting.reply.send(Err(CallError::TooLarge {
                server: self.name.clone(),
                len,
                max: self.max_message_bytes,
            }));
        }
    }

    fn take(&mut self, id: &RequestId) -> Option<Waiting> {
        upstream_id(id).and_then(|id| self.pending.remove(&id))
    }

    /// Handles one message; returns what to send back to the server (usually nothing).
    pub fn message(&mut self, line: &[u8]) -> Vec<Message> {
        self.message_on(line, None)
    }

    /// [`Peer::message`] for a message that came on the stream of our request `on` (HTTP).
    pub fn message_on(&mut self, line: &[u8], on: Option<u64>) -> Vec<Message> {
        let mut answers = vec![];
        self.handle(line, on, &mut answers);
        answers
    }

    /// The sessions a server's request may have been caused by: the one whose request's
    /// stream carried it, else every session with a request in flight here.
    fn origins(&self, on: Option<u64>) -> Vec<u64> {
        if let Some(waiting) = on.and_then(|id| self.pending.get(&id)) {
            return vec![waiting.origin];
        }
        let mut origins: Vec<u64> = self
            .pending
            .values()
            .map(|w| w.origin)
            .filter(|o| *o != 0)
            .collect();
        origins.sort_unstable();
        origins.dedup();
        origins
    }

    fn handle(&mut self, line: &[u8], on: Option<u64>, answers: &mut Vec<Message>) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if line.len() > self.max_message_bytes {
            self.too_long(&line[..line.len().min(4096)], line.len());
            return;
        }
        tracing::trace!(target: "mcpgw::wire", server = %self.name, "← {}", self.redact(&String::from_utf8_lossy(line)));
        match Message::parse(line) {
            Parsed::Message(Message::Response(r)) => match self.take(&r.id) {
                Some(waiting) => {
                    let _ = waiting.reply.send(Ok(r.outcome));
                }
                None => {
                    tracing::debug!(server = %self.name, id = %r.id, "answer to no pending request");
                    // A `subscriptions/listen` the server ended, maybe ([`Life::listen_answered`]).
                    self.unmatched_answer = upstream_id(&r.id).map(|id| (id, r.outcome.is_err()));
                }
            },
            Parsed::Message(Message::Request(r)) if r.method == "ping" => {
                // The server's peer is the gateway, so the gateway answers.
                answers.push(Message::Response(Response {
                    id: r.id,
                    outcome: Ok(protocol::raw(&serde_json::json!({}))),
                }));
            }
            Parsed::Message(Message::Request(request)) => {
                let _ = self.events.send(Event::Request {
                    server: self.index,
                    origins: self.origins(on),
                    request,
                });
            }
            Parsed::Message(Message::Notification(n))
                if n.method == "notifications/subscriptions/acknowledged" =>
            {
                tracing::debug!(server = %self.name, "its list changes are announced to mcpgw");
            }
            Parsed::Message(Message::Notification(notification)) => {
                // Only a task's status needs to know whose it may be.
                let origins = if notification.method == "notifications/tasks/status" {
                    self.origins(on)
                } else {
                    vec![]
                };
                let _ = self.events.send(Event::Notification {
                    server: self.index,
                    notification,
                    origins,
                });
            }
            Parsed::Batch(items) => {
                // Only 2025-03-26 had batches; take their messages one by one.
                for item in items {
                    self.handle(item.get().as_bytes(), on, answers);
                }
            }
            Parsed::Rejected(rejection) => {
                // A server that prints to stdout floods: say the first few, then count.
                self.ignored += 1;
                if self.ignored <= 5 {
                    let shown = String::from_utf8_lossy(&line[..line.len().min(200)]).into_owned();
                    tracing::warn!(server = %self.name, "ignored input that is not MCP ({}): {shown}", rejection.error.message);
                } else if self.ignored.is_power_of_two() || self.ignored.is_multiple_of(100_000) {
                    tracing::warn!(server = %self.name, "ignored {} lines that are not MCP so far", self.ignored);
                }
                // A malformed answer to a pending request fails that request now, rather than
                // leaving it to the timeout.
                if let Some(waiting) = rejection.id.as_ref().and_then(|id| self.take(id)) {
                    let _ = waiting.reply.send(Ok(Err(ErrorObject::new(
                        code::INTERNAL_ERROR,
                        format!(
                            "server `{}` sent a malformed answer: {}",
                            self.name, rejection.error.message
                        ),
                    ))));
                }
            }
        }
    }

    /// `text` with this server's secret (if any) replaced, for logging.
    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        match &self.secret {
            Some(s) if !s.expose().is_empty() && text.contains(s.expose()) => {
                text.replace(s.expose(), "[secret]").into()
            }
            _ => text.into(),
        }
    }

    /// Fails every pending request: the server stopped, for `reason`.
    pub fn fail_all(&mut self, reason: &str) {
        for waiting in self.pending.drain() {
            let _ = waiting.reply.send(Err(CallError::Died {
                server: self.name.clone(),
                reason: reason.to_owned(),
            }));
        }
        self.ignored = 0;
    }

    pub fn unavailable(&self, reason: &str) -> CallError {
        CallError::Unavailable {
            server: self.name.clone(),
            reason: reason.to_owned(),
        }
    }
}

/// Our ids towards upstreams are numbers; a server that echoes them as strings is forgiven.
pub(super) fn upstream_id(id: &RequestId) -> Option<u64> {
    match id {
        RequestId::Number(n) => n.as_u64(),
        RequestId::String(s) => s.parse().ok(),
    }
}
