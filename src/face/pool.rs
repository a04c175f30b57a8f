//! A session on the hub seen from HTTP: its messages find their way to the streams of the
//! POSTs (and the GET) that wait for them, with the ids and progress tokens of the shared
//! 2026-07-28 pool made unique on the way in and put back on the way out.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::config::Config;
use crate::hub::HubHandle;
use crate::principal::Principal;
use crate::protocol::{self, Frame, Message, Notification, Parsed, RequestId, Response as Rpc};
use crate::session::Session;

/// A session on the hub and the way its messages find their HTTP streams.
pub struct Pool {
    input: mpsc::UnboundedSender<std::io::Result<Frame>>,
    pub routes: Arc<Mutex<Routes>>,
    /// 2026-07-28: ids are made unique (clients number their requests alike).
    pub stateless: bool,
    pub next: AtomicU64,
    pub used: Mutex<Instant>,
    /// The principal it was made for ([`Principal::fingerprint`]): only that one may use it.
    pub owner: Option<String>,
}

/// Where a session's messages go.
#[derive(Default)]
pub struct Routes {
    /// The pool of 2026-07-28 requests: shared by clients, so nothing goes to a stream that
    /// is not surely its own.
    pub stateless: bool,
    /// A request in flight, by its id as the session knows it (JSON text): the client's id
    /// and the POST it came on.
    pub pending: HashMap<String, (RequestId, Post)>,
    /// A request's progress token as the session knows it (JSON text) → the client's token
    /// (made unique in the shared pool, as ids are) and its POST.
    pub tokens: HashMap<String, (Box<RawValue>, u64)>,
    /// The POSTs open, oldest first.
    pub open: Vec<Post>,
    /// The GET stream.
    pub stream: Option<mpsc::UnboundedSender<Out>>,
    /// The GET stream's number (its events are replayed by it).
    pub stream_no: u64,
    /// The last event id given (handshake era: every event on a stream has one).
    next_event: u64,
    /// The latest events, for a client that comes back with `Last-Event-ID`.
    replay: std::collections::VecDeque<Replayed>,
}

/// An event sent (or due) on stream `no`, kept to be sent again.
struct Replayed {
    id: u64,
    no: u64,
    line: String,
    answers: bool,
}

/// Events kept per session for resumption.
pub const REPLAY: usize = 256;

impl Routes {
    /// Sends `line` on stream `no` (through `tx`, when it is open), first giving it an event
    /// id and keeping it for a client that resumes the stream (handshake era only: the
    /// shared 2026-07-28 pool resumes nothing).
    fn deliver(
        &mut self,
        no: u64,
        tx: Option<&mpsc::UnboundedSender<Out>>,
        line: String,
        answers: bool,
    ) {
        let id = (!self.stateless).then(|| {
            self.next_event += 1;
            if self.replay.len() == REPLAY {
                self.replay.pop_front();
            }
            self.replay.push_back(Replayed {
                id: self.next_event,
                no,
                line: line.clone(),
                answers,
            });
            self.next_event
        });
        if let Some(tx) = tx {
            let _ = tx.send(Out { line, answers, id });
        }
    }
}

/// What a client resuming a stream gets: the events it missed, the stream's number, and how
/// many answers it still waits for (`None`: the GET stream, which never ends by itself).
pub struct Resumed {
    pub missed: Vec<Out>,
    pub no: u64,
    pub left: Option<usize>,
}

#[derive(Clone)]
pub struct Post {
    pub no: u64,
    pub tx: mpsc::UnboundedSender<Out>,
    /// One of its requests asked for log messages (2026-07-28's `logLevel`).
    pub logs: bool,
}

/// A message for a stream; `answers`: it is the answer to one of the stream's requests; `id`:
/// its event id, when the stream can be resumed.
pub struct Out {
    pub line: String,
    pub answers: bool,
    pub id: Option<u64>,
}

impl Out {
    /// The SSE event.
    pub fn event(&self) -> String {
        match self.id {
            Some(id) => format!("id: {id}\nevent: message\ndata: {}\n\n", self.line),
            None => format!("event: message\ndata: {}\n\n", self.line),
        }
    }
}

pub static NEXT_POST: AtomicU64 = AtomicU64::new(1);

impl Pool {
    /// A session for `principal` (none: the face takes no keys).
    pub fn spawn(
        config: &Arc<Config>,
        hub: &HubHandle,
        stopped: &watch::Receiver<bool>,
        stateless: bool,
        principal: Option<Arc<Principal>>,
    ) -> Arc<Pool> {
        let (input, mut input_rx) = mpsc::unbounded_channel();
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        let mut session = Session::new(config.clone(), hub.clone(), out);
        let owner = principal.as_ref().map(|p| p.fingerprint());
        if let Some(principal) = principal {
            session = session.acting_for(principal);
        }
        let frames = futures_util::stream::poll_fn(move |cx| input_rx.poll_recv(cx));
        let mut stopped = stopped.clone();
        tokio::spawn(session.run(frames, async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
        let routes = Arc::new(Mutex::new(Routes {
            stateless,
            ..Routes::default()
        }));
        let routing = routes.clone();
        tokio::spawn(async move {
            while let Some(line) = out_rx.recv().await {
                crate::logging::client_wire("←", line.as_bytes());
                route(&routing, line);
            }
        });
        Arc::new(Pool {
            input,
            routes,
            stateless,
            next: AtomicU64::new(1),
            used: Mutex::new(Instant::now()),
            owner,
        })
    }

    pub fn feed(&self, line: String) {
        crate::logging::client_wire("→", line.as_bytes());
        let _ = self.input.send(Ok(Frame::Line(Bytes::from(line))));
    }

    /// Ends every stream of its (the server is stopping).
    pub fn close(&self) {
        let mut r = self.routes.lock().expect("routes");
        r.pending.clear();
        r.open.clear();
        r.stream = None;
    }

    /// Picks up the stream of event `last` on `tx`: the events after it, and from now on its
    /// requests' answers. `None`: no such event is kept.
    pub fn resume(&self, last: u64, tx: &mpsc::UnboundedSender<Out>) -> Option<Resumed> {
        let mut r = self.routes.lock().expect("routes");
        let no = r.replay.iter().find(|e| e.id == last)?.no;
        let missed = r
            .replay
            .iter()
            .filter(|e| e.id > last && e.no == no)
            .map(|e| Out {
                line: e.line.clone(),
                answers: e.answers,
                id: Some(e.id),
            })
            .collect();
        if no == r.stream_no {
            r.stream = Some(tx.clone());
            return Some(Resumed {
                missed,
                no,
                left: None,
            });
        }
        let mut left = 0;
        for (_, post) in r.pending.values_mut() {
            if post.no == no {
                post.tx = tx.clone();
                left += 1;
            }
        }
        r.open.retain(|p| p.no != no);
        r.open.push(Post {
            no,
            tx: tx.clone(),
            logs: false,
        });
        Some(Resumed {
            missed,
            no,
            left: Some(left),
        })
    }

    /// Whether nothing is open on it (no POST, no GET stream).
    pub fn quiet(&self) -> bool {
        let r = self.routes.lock().expect("routes");
        r.open.is_empty() && r.stream.as_ref().is_none_or(|s| s.is_closed())
    }
}

/// Sends one of the session's messages where it belongs.
fn route(routes: &Mutex<Routes>, line: String) {
    let mut r = routes.lock().expect("routes");
    match Message::parse(line.as_bytes()) {
        Parsed::Message(Message::Response(answer)) => {
            let key = serde_json::to_string(&answer.id).unwrap_or_default();
            match r.pending.remove(&key) {
                Some((theirs, post)) => {
                    let line = Message::Response(Rpc {
                        id: theirs,
                        outcome: answer.outcome,
                    })
                    .to_line();
                    r.deliver(post.no, Some(&post.tx), line, true);
                }
                // Its stream is gone: nobody may be handed another's answer.
                None => {
                    tracing::debug!(id = %answer.id, "an answer whose stream is closed: dropped")
                }
            }
            return;
        }
        Parsed::Message(Message::Notification(mut n)) => {
            // A listen's notification names its subscription: the listen's own id, put back.
            if let Some(sub) = subscription(&n)
                && let Some((theirs, post)) = r.pending.get(&sub).cloned()
            {
                return r.deliver(post.no, Some(&post.tx), retagged(&n, &theirs), false);
            }
            if let Some(token) = protocol::progress_token(n.params.as_deref()) {
                if let Some((theirs, no)) = r.tokens.get(&token).map(|(t, no)| (t.clone(), *no)) {
                    n.params = n
                        .params
                        .as_deref()
                        .and_then(|p| protocol::with_progress_token(p, &theirs));
                    // A stream that broke still keeps it, for its client's return.
                    let tx = r.open.iter().find(|p| p.no == no).map(|p| p.tx.clone());
                    return r.deliver(no, tx.as_ref(), Message::Notification(n).to_line(), false);
                }
                return tracing::debug!("progress for a closed stream: dropped");
            }
            if r.stateless {
                // Log messages go to the one stream that asked for them, if only one did.
                let asked: Vec<Post> = r.open.iter().filter(|p| p.logs).cloned().collect();
                match (n.method.as_str(), asked.as_slice()) {
                    ("notifications/message", [post]) => {
                        r.deliver(post.no, Some(&post.tx), line, false)
                    }
                    _ => tracing::debug!("`{}` for no one stream in particular: dropped", n.method),
                }
                return;
            }
        }
        Parsed::Message(Message::Request(_)) if r.stateless => {
            // The shared pool's clients are asked through `input_required`, never directly.
            return tracing::debug!("a request to a client of 2026-07-28: dropped");
        }
        _ => {}
    }
    // About nothing in particular (a session's own): the GET stream, else its newest POST.
    if let Some(stream) = r.stream.clone().filter(|s| !s.is_closed()) {
        let no = r.stream_no;
        return r.deliver(no, Some(&stream), line, false);
    }
    r.stream = None;
    match r.open.last().cloned() {
        Some(post) => r.deliver(post.no, Some(&post.tx), line, false),
        None => tracing::debug!("no stream open for a message of the gateway's: dropped"),
    }
}

/// The subscription a notification names (`_meta`), as JSON text.
fn subscription(n: &Notification) -> Option<String> {
    let params: Value = serde_json::from_str(n.params.as_deref()?.get()).ok()?;
    let id = params.get("_meta")?.get(protocol::meta::SUBSCRIPTION_ID)?;
    serde_json::to_string(id).ok()
}

/// `n` with its subscription id made the client's again.
fn retagged(n: &Notification, theirs: &RequestId) -> String {
    let mut params: Value = n
        .params
        .as_deref()
        .and_then(|p| serde_json::from_str(p.get()).ok())
        .unwrap_or_else(|| json!({}));
    params["_meta"][protocol::meta::SUBSCRIPTION_ID] = json!(theirs);
    Message::Notification(Notification {
        method: n.method.clone(),
        params: Some(protocol::raw(&params)),
    })
    .to_line()
}

/// Ends a POST's routes when its stream ends. In 2026-07-28 closing a stream cancels what it
/// waited for; in the handshake era a broken connection is not a cancellation (the client
/// sends `notifications/cancelled` for that): its requests stay, and what is said about them
/// is kept for the client's return (`Last-Event-ID`).
pub struct PostGuard {
    pub pool: Arc<Pool>,
    pub no: u64,
}

impl Drop for PostGuard {
    fn drop(&mut self) {
        let cancelled: Vec<String> = {
            let mut r = self.pool.routes.lock().expect("routes");
            r.open.retain(|p| p.no != self.no);
            if !self.pool.stateless {
                return;
            }
            r.tokens.retain(|_, (_, no)| *no != self.no);
            let ids: Vec<String> = r
                .pending
                .iter()
                .filter(|(_, (_, post))| post.no == self.no)
                .map(|(id, _)| id.clone())
                .collect();
            for id in &ids {
                r.pending.remove(id);
            }
            ids
        };
        for id in cancelled {
            let id: Value = serde_json::from_str(&id).unwrap_or(Value::Null);
            let n = json!({ "jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": { "requestId": id, "reason": "the client closed the stream" } });
            self.pool.feed(n.to_string());
        }
    }
}
