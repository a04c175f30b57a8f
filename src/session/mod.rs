//! A session: one client's side of the gateway, on a hub shared with other sessions.
//!
//! One task per client selects over the client's messages, the hub's messages and the
//! answers to requests it forwarded. It owns only its client's state: the protocol version
//! and capabilities it declared, its in-flight requests with their timeouts ([`inflight`]),
//! the requests servers sent it ([`outbound`]), what it has listed ([`announce`]), its
//! batch, log level and tasks. Requests are routed by the hub's latest [`View`] and sent
//! straight to the server's actor: no lock and no hop through the hub on their way.
//!
//! Decisions the design left open:
//! - `initialize` is answered at once with fixed capabilities (every kind of list, with
//!   `listChanged`), because upstreams only start their handshake once a client's
//!   capabilities are known. The first list requests wait up to `startup_timeout` for
//!   upstreams still starting; later arrivals are announced with `list_changed`.
//! - Failures of tool calls (upstream down, died mid-call, timed out) are tool results with
//!   `isError`, so the model sees which server failed and why; other methods get JSON-RPC errors.
//! - An upstream's `ping` is answered by its actor: the gateway is that server's peer.
//! - Batches (allowed only by 2025-03-26) are answered element by element in one array.
//! - A session sees only the tasks it created; a server's request for a capability the client
//!   did not declare is refused with "Method not found".
//! - When the client goes away, its requests still running are cancelled at their servers,
//!   and the servers' requests to it are answered with an error.
//! - A client of the stateless revision (2026-07-28, [`stateless`]) sends no `initialize`;
//!   its first request fixes the era of the connection, and each request's `_meta` carries
//!   its capabilities. It hears list changes and resource updates only through
//!   `subscriptions/listen`, and log messages only while a request that asked for them
//!   is being served.

mod announce;
mod bridge;
mod held;
mod inflight;
mod observe;
mod outbound;
mod stateless;
mod tasks;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt, future::BoxFuture};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::Config;
use crate::hub::{HubHandle, Kind, Membership, ServerState, ToSession, View};
use crate::principal::Principal;
use crate::protocol::{
    self, ErrorObject, Frame, Message, Notification, Outcome, Parsed, Request, RequestId, Response,
    Version, code, param_str, parse_params, progress_token, recover_id,
};
use crate::upstream::{self, CallError, UpstreamHandle};

use announce::Announcer;
use inflight::{Answer, Entry};
use outbound::Outbound;
use stateless::{CacheHint, Listen, log_rank};

enum Done {
    /// A task polled for a handshake-era client ([`tasks`]) ended or needs input.
    Polled {
        id: RequestId,
        polled: Result<Result<serde_json::Map<String, Value>, ErrorObject>, Failure>,
    },
    /// mcpgw's `tasks/result` for a task a 2026-07-28 client polls ([`tasks`]).
    Mirrored {
        task: String,
        outcome: Outcome,
    },
    /// Work the client cancelled.
    Aborted,
    Reply {
        /// The request's number in the in-flight table, and the client id it was sent for
        /// (a held request's changes when the client comes back: the table knows).
        seq: u64,
        sent_as: RequestId,
        server: usize,
        answer: Answer,
        reply: Result<Outcome, Failure>,
        /// Set when the server may answer with `input_required` that this client needs
        /// bridged ([`bridge`]).
        retry: Option<bridge::Retry>,
    },
    Local {
        id: RequestId,
        outcome: Outcome,
    },
}

/// How long answers still owed are awaited after the client's input ends: a script that
/// pipes requests in and closes stdin still gets its answers; a client that went away does
/// not keep the servers running for long.
const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// How often deadlines are checked: a request times out at most this much late.
const TICK: Duration = Duration::from_millis(250);

enum Failure {
    Call(CallError),
    Timeout(Duration),
}

/// The params of `notifications/cancelled`, from either side.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cancelled {
    request_id: RequestId,
    #[serde(default)]
    reason: Option<String>,
}

/// A stateless client's `subscriptions/listen` in force.
struct Listening {
    listen: Listen,
    /// Its resources as the client names them, each with its server and that server's URI
    /// once a server offers it (servers still starting are waited for).
    resources: Vec<(String, Option<(usize, String)>)>,
    /// mcpgw's own listens for its tasks at servers of 2026-07-28: (server, request id).
    upstream: Vec<(usize, u64)>,
}

/// A batch being answered: the ids still owed, and the answers so far.
struct Batch {
    waiting: HashSet<RequestId>,
    answers: Vec<String>,
}

pub struct Session {
    hub: HubHandle,
    membership: Membership,
    view: Arc<View>,
    config: Arc<Config>,
    out: mpsc::UnboundedSender<String>,
    /// The protocol version agreed with the client, once it has initialized; for a client
    /// of the stateless revision, that revision from its first request on.
    version: Option<Version>,
    /// What the client declared in `initialize` (stateless: in its latest request).
    capabilities: Option<Box<RawValue>>,
    /// A stateless client's subscriptions.
    listens: Vec<Listening>,
    /// Requests whose server asked for input this (handshake-era) client is being asked for.
    bridges: bridge::Bridges,
    /// Server requests this (stateless) client was asked through `input_required`, by the
    /// number its `requestState` names.
    held: HashMap<u64, held::Held>,
    next_held: u64,
    announcer: Announcer,
    inflight: inflight::Table,
    /// Numbers this session's progress tokens towards servers.
    next_token: u64,
    outbound: Outbound,
    work: FuturesUnordered<BoxFuture<'static, Done>>,
    /// Requests answered by the gateway itself (fan-outs) that are still being worked on.
    owed_locally: usize,
    deferred: Vec<Request>,
    startup_deadline: Option<Instant>,
    log_level: Option<Box<RawValue>>,
    /// The tasks this client created, their servers and how they are reached.
    tasks: HashMap<String, tasks::Tracked>,
    /// Requests of a handshake-era client answered by polling a task ([`tasks`]).
    polls: HashMap<RequestId, tasks::Polling>,
    batch: Option<Batch>,
    /// `mcpgw proxy`: the client's `initialize`, held until its server is known.
    pending_initialize: Option<(RequestId, Version)>,
    /// A hub message is being handled ([`Session::catch_up`] waits).
    in_hub: bool,
    /// Whom the client is (the HTTP face's key): it sees and reaches only its scope.
    principal: Option<Arc<Principal>>,
    /// The hub's merged lists the scoped view was last made from.
    scoped_from: Option<Arc<crate::hub::Merged>>,
    /// Requests at servers, for the stats and the audit log.
    calls: observe::Calls,
}

impl Session {
    /// Joins a session to `hub`; it answers its client on `out`.
    pub fn new(config: Arc<Config>, hub: HubHandle, out: mpsc::UnboundedSender<String>) -> Self {
        let membership = hub.connect();
        Session {
            hub,
            membership,
            view: Arc::default(),
            config,
            out,
            version: None,
            capabilities: None,
            listens: vec![],
            bridges: bridge::Bridges::default(),
            held: HashMap::new(),
            next_held: 0,
            announcer: Announcer::default(),
            inflight: inflight::Table::default(),
            next_token: 0,
            outbound: Outbound::default(),
            work: FuturesUnordered::new(),
            owed_locally: 0,
            deferred: vec![],
            startup_deadline: None,
            log_level: None,
            tasks: HashMap::new(),
            polls: HashMap::new(),
            batch: None,
            pending_initialize: None,
            in_hub: false,
            principal: None,
            scoped_from: None,
            calls: observe::Calls::default(),
        }
    }

    /// The client is `principal` (a key of the HTTP face): it sees only what its scope
    /// allows, and servers that want to know who calls are told.
    pub fn acting_for(mut self, principal: Arc<Principal>) -> Self {
        self.hub.principal(self.membership.id, principal.clone());
        self.principal = Some(principal);
        self
    }

    /// This session and its principal, for mcpgw's own requests on the client's behalf.
    fn origin(&self) -> tasks::Origin {
        (self.membership.id, self.principal.clone())
    }

    /// Request `id` of the client ended: counted in the stats, a tool call audited.
    fn end_call(&mut self, id: &RequestId, ending: observe::Ending) {
        let key = self.principal.as_deref().map(|p| p.name.as_str());
        self.calls.end(id, ending, &self.view, &self.hub.stats, key);
    }

    fn key(&self) -> Option<&str> {
        self.principal.as_deref().map(|p| p.name.as_str())
    }

    /// The scope the client is limited to, if it is.
    fn scope(&self) -> Option<&crate::principal::Scope> {
        self.principal
            .as_deref()
            .map(|p| &p.scope)
            .filter(|s| !s.is_everything())
    }

    /// " (key `k` may use servers a; tools a__*)" for errors about what cannot be found, when
    /// the client's key is limited.
    fn scope_note(&self) -> String {
        match (self.key(), self.scope()) {
            (Some(key), Some(scope)) => {
                format!(" (key `{key}` may use only {})", scope.describe())
            }
            _ => String::new(),
        }
    }

    /// Takes the hub's new view, narrowed to the client's scope; `changed` is kept to the
    /// lists that changed within it.
    fn take_view(&mut self, view: Arc<View>, mut changed: Vec<Kind>) -> Vec<Kind> {
        let Some(scope) = self.scope() else {
            self.view = view;
            return changed;
        };
        let reuse = self
            .scoped_from
            .as_ref()
            .filter(|m| Arc::ptr_eq(m, &view.merged))
            .map(|_| self.view.merged.clone());
        let scoped = view.scoped(scope, reuse);
        changed.retain(|k| scoped.merged.list(*k) != self.view.merged.list(*k));
        self.scoped_from = Some(view.merged.clone());
        self.view = Arc::new(scoped);
        changed
    }

    /// Runs until the client's input ends (then finishes what it owes the client, for up to
    /// [`DRAIN_GRACE`]), `shutdown` completes (then at once), or the hub goes away; then
    /// leaves the hub.
    pub async fn run<S>(mut self, mut input: S, shutdown: impl Future<Output = ()>)
    where
        S: futures_util::Stream<Item = std::io::Result<Frame>> + Unpin,
    {
        tokio::pin!(shutdown);
        // The hub's first message is its view: nothing can be routed before it.
        match self.membership.events.recv().await {
            Some(message) => self.on_hub(message),
            None => return,
        }
        // One coarse clock for every request's timeout: a timer per request would cost a
        // wake-up of the I/O driver on every call.
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Set once the input has ended: answers still owed are sent until then.
        let mut drain_until: Option<Instant> = None;
        loop {
            if drain_until.is_some() && self.owes_nothing() {
                break;
            }
            let deadline = self
                .startup_deadline
                .filter(|_| !self.deferred.is_empty() || self.pending_initialize.is_some());
            // Fair: a server flooding notifications cannot keep the client's input waiting.
            // A request's own notifications still reach the client before its answer, which
            // travels apart from them: answers first take what the hub has sent
            // ([`Session::catch_up`]).
            tokio::select! {
                message = self.membership.events.recv() => match message {
                    Some(message) => self.on_hub(message),
                    None => break,
                },
                Some(done) = self.work.next(), if !self.work.is_empty() => self.on_done(done),
                frame = input.next(), if drain_until.is_none() => match frame {
                    Some(Ok(frame)) => {
                        self.membership.touch();
                        self.on_frame(frame);
                    }
                    Some(Err(e)) => {
                        tracing::error!("reading from the client failed: {e}");
                        break;
                    }
                    None => drain_until = Some(Instant::now() + DRAIN_GRACE),
                },
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    self.startup_deadline = None;
                    self.finish_initialize();
                    self.answer_deferred();
                }
                _ = tokio::time::sleep_until(drain_until.unwrap_or_else(Instant::now)), if drain_until.is_some() => {
                    tracing::debug!("{} request(s) still unanswered after the input ended", self.inflight.len());
                    break;
                }
                _ = ticker.tick(), if !self.inflight.is_empty() || !self.bridges.is_empty() || !self.held.is_empty() => self.expire(),
                _ = &mut shutdown => break,
            }
        }
        self.leave();
    }

    /// Leaves nothing behind: requests still running are cancelled at their servers, the
    /// servers' requests to this client are refused, and the hub forgets the session.
    fn leave(&mut self) {
        for (_, flight) in self.inflight.drain() {
            if let Some(handle) = self.handle(flight.server) {
                handle.cancel(flight.upstream_id, "the client went away");
            }
        }
        for (server, theirs) in self.outbound.drain() {
            if let Some(handle) = self.handle(server) {
                let error = ErrorObject::new(code::INTERNAL_ERROR, "mcpgw: the client went away");
                handle.respond(theirs, Err(error));
            }
        }
        for (_, h) in self.held.drain() {
            if let Some(handle) = self
                .view
                .servers
                .get(h.server)
                .and_then(|s| s.handle.as_ref())
            {
                let error = ErrorObject::new(code::INTERNAL_ERROR, "mcpgw: the client went away");
                handle.respond(h.theirs, Err(error));
            }
        }
        // Subscriptions end cleanly: the client knows it was not a crash.
        for l in std::mem::take(&mut self.listens) {
            self.stop_task_listens(&l.upstream);
            self.respond(l.listen.id.clone(), Ok(l.listen.closing()));
        }
        // What the hub sent meanwhile: its servers' requests get their answer here.
        self.membership.events.close();
        while let Ok(message) = self.membership.events.try_recv() {
            if let ToSession::Request { server, request } = message
                && let Some(handle) = self.handle(server)
            {
                let error = ErrorObject::new(code::INTERNAL_ERROR, "mcpgw: the client went away");
                handle.respond(request.id, Err(error));
            }
        }
        self.hub.leave(self.membership.id);
    }

    fn handle(&self, server: usize) -> Option<&UpstreamHandle> {
        self.view.servers.get(server)?.handle.as_ref()
    }

    /// Nothing the client asked for is still unanswered.
    fn owes_nothing(&self) -> bool {
        self.inflight.is_empty()
            && self.bridges.is_empty()
            && self.polls.is_empty()
            && self.deferred.is_empty()
            && self.batch.is_none()
            && self.owed_locally == 0
    }

    fn send(&self, message: &Message) {
        let _ = self.out.send(message.to_line());
    }

    /// Sends an answer to the client, or keeps it for the batch it belongs to.
    fn answer(&mut self, line: String, id: Option<&RequestId>) {
        if let (Some(batch), Some(id)) = (&mut self.batch, id)
            && batch.waiting.remove(id)
        {
            batch.answers.push(line);
            if batch.waiting.is_empty() {
                let batch = self.batch.take().expect("batch");
                let _ = self.out.send(format!("[{}]", batch.answers.join(",")));
            }
            return;
        }
        let _ = self.out.send(line);
    }

    /// Whether the client speaks the stateless revision.
    fn stateless(&self) -> bool {
        self.version.is_some_and(Version::is_stateless)
    }

    fn respond(&mut self, id: RequestId, outcome: Outcome) {
        self.catch_up();
        self.end_call(&id, observe::Ending::Answered(&outcome));
        let outcome = if self.stateless() {
            match outcome {
                Ok(result) => Ok(stateless::complete(&result)),
                Err(e) => Err(stateless::modern_error(e)),
            }
        } else {
            outcome
        };
        let line = Message::Response(Response {
            id: id.clone(),
            outcome,
        })
        .to_line();
        self.answer(line, Some(&id));
    }

    fn reject(&mut self, id: Option<RequestId>, error: ErrorObject) {
        self.catch_up();
        if let Some(id) = &id {
            self.end_call(id, observe::Ending::Answered(&Err(error.clone())));
        }
        let error = if self.stateless() {
            stateless::modern_error(error)
        } else {
            error
        };
        let line = protocol::error_line(id.as_ref(), &error);
        self.answer(line, id.as_ref());
    }

    fn notify_client(&self, method: &str, params: Option<Box<RawValue>>) {
        self.send(&Message::Notification(Notification {
            method: method.to_owned(),
            params,
        }));
    }

    // ---- input from the client ------------------------------------------------------------

    fn on_frame(&mut self, frame: Frame) {
        let line = match frame {
            Frame::Line(line) => line,
            Frame::TooLong { head, len } => {
                let max = self.config.gateway.max_message_bytes;
                let id = recover_id(&head);
                tracing::warn!("dropped a message of {len} bytes from the client (limit {max})");
                let error = ErrorObject::new(
                    code::INVALID_REQUEST,
                    format!(
                        "message of {len} bytes exceeds the limit of {max} bytes (gateway.max_message_size)"
                    ),
                );
                return self.reject(id, error);
            }
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match Message::parse(&line) {
            Parsed::Message(m) => self.on_message(m),
            Parsed::Rejected(r) => self.reject(r.id, r.error),
            Parsed::Batch(items) => self.on_batch(items),
        }
    }

    fn on_batch(&mut self, items: Vec<Box<RawValue>>) {
        if self.version != Some(Version::V2025_03_26) {
            let why = match self.version {
                None => {
                    "batches are only allowed after initialize, with protocol version 2025-03-26"
                        .to_owned()
                }
                Some(v) => format!("batches are not part of protocol version {v}"),
            };
            return self.reject(
                None,
                ErrorObject::new(code::INVALID_REQUEST, format!("Invalid request: {why}")),
            );
        }
        if items.is_empty() || self.batch.is_some() {
            let why = if items.is_empty() {
                "empty batch"
            } else {
                "another batch is still being answered"
            };
            return self.reject(
                None,
                ErrorObject::new(code::INVALID_REQUEST, format!("Invalid request: {why}")),
            );
        }
        let mut waiting = HashSet::new();
        let mut messages = vec![];
        let mut answers = vec![];
        for item in &items {
            match Message::parse(item.get().as_bytes()) {
                Parsed::Message(m) => {
                    if let Message::Request(r) = &m
                        && !waiting.insert(r.id.clone())
                    {
                        let error = ErrorObject::new(
                            code::INVALID_REQUEST,
                            "Invalid request: duplicate id in batch",
                        );
                        return self.reject(None, error);
                    }
                    messages.push(m);
                }
                Parsed::Rejected(r) => answers.push(protocol::error_line(r.id.as_ref(), &r.error)),
                Parsed::Batch(_) => {
                    let error = ErrorObject::new(
                        code::INVALID_REQUEST,
                        "Invalid request: a batch inside a batch",
                    );
                    answers.push(protocol::error_line(None, &error));
                }
            }
        }
        if waiting.is_empty() {
            // Only notifications and answers: nothing more will be owed.
            if !answers.is_empty() {
                let _ = self.out.send(format!("[{}]", answers.join(",")));
            }
        } else {
            self.batch = Some(Batch { waiting, answers });
        }
        for m in messages {
            self.on_message(m);
        }
    }

    fn on_message(&mut self, message: Message) {
        match message {
            Message::Request(r) => self.on_request(r),
            Message::Notification(n) => self.on_client_notification(n),
            Message::Response(r) => self.on_client_response(r),
        }
    }

    fn on_request(&mut self, request: Request) {
        if self.inflight.contains(&request.id) {
            return self.reject(
                Some(request.id.clone()),
                ErrorObject::new(
                    code::INVALID_REQUEST,
                    format!(
                        "Invalid request: id {} is already in use by a request in flight",
                        request.id
                    ),
                ),
            );
        }
        if self.listens.iter().any(|l| l.listen.id == request.id) {
            return self.reject(
                Some(request.id.clone()),
                ErrorObject::new(
                    code::INVALID_REQUEST,
                    format!(
                        "Invalid request: id {} is already in use by a subscription",
                        request.id
                    ),
                ),
            );
        }
        let meta = stateless::read_meta(request.params.as_deref());
        if request.method == "server/discover" {
            // The probe of a client that speaks both eras: answered whatever the connection
            // speaks, and it decides nothing.
            let result = match meta.map(stateless::check) {
                Some(Ok(checked)) => {
                    // The servers start (their extensions are part of the answer), and the
                    // answer waits for them as the first lists do.
                    if self.capabilities.is_none() {
                        self.capabilities = Some(checked.capabilities.clone());
                        self.hub.hello(
                            self.membership.id,
                            checked.capabilities,
                            checked.client_info,
                        );
                    }
                    if self.startup_deadline.is_none() {
                        self.startup_deadline =
                            Some(Instant::now() + self.config.gateway.startup_timeout);
                    }
                    if self.startup_pending() {
                        self.deferred.push(request);
                        return;
                    }
                    Ok(self.discover_result())
                }
                Some(Err(e)) => Err(e),
                None => Err(ErrorObject::new(
                    code::INVALID_PARAMS,
                    format!(
                        "Invalid params: `server/discover` carries `_meta[\"{}\"]` and `_meta[\"{}\"]`",
                        stateless::PROTOCOL_VERSION,
                        stateless::CLIENT_CAPABILITIES
                    ),
                )),
            };
            return self.respond(request.id, result);
        }
        match meta {
            Some(_) if self.version.is_some() && !self.stateless() => {
                return self.reject(
                    Some(request.id),
                    ErrorObject::new(
                        code::INVALID_REQUEST,
                        format!(
                            "Invalid request: this connection began with `initialize` (protocol version {}); a request of 2026-07-28 cannot follow it: one connection speaks one protocol era",
                            self.version.expect("initialized")
                        ),
                    ),
                );
            }
            Some(meta) => match stateless::check(meta) {
                Ok(checked) => {
                    self.stateless_request(checked);
                    return self.on_stateless_request(request);
                }
                Err(e) => return self.reject(Some(request.id), e),
            },
            None if self.stateless() && request.method == "initialize" => {
                return self.on_stateless_request(request);
            }
            None if self.stateless() => {
                return self.reject(
                    Some(request.id),
                    ErrorObject::new(
                        code::INVALID_PARAMS,
                        format!(
                            "Invalid params: this connection speaks protocol version 2026-07-28, where every request carries `_meta[\"{}\"]` and `_meta[\"{}\"]`",
                            stateless::PROTOCOL_VERSION,
                            stateless::CLIENT_CAPABILITIES
                        ),
                    ),
                );
            }
            None => {}
        }
        match request.method.as_str() {
            "initialize" => return self.initialize(request),
            "ping" => return self.respond(request.id, Ok(protocol::raw(&json!({})))),
            _ if self.version.is_none() => {
                return self.reject(
                    Some(request.id),
                    ErrorObject::new(
                        code::INVALID_REQUEST,
                        format!(
                            "Invalid request: `{}` before `initialize` (a client of protocol version 2026-07-28 puts `{}` and `{}` in every request's `_meta` instead)",
                            request.method,
                            stateless::PROTOCOL_VERSION,
                            stateless::CLIENT_CAPABILITIES
                        ),
                    ),
                );
            }
            _ => {}
        }
        self.route(request);
    }

    /// Takes what a stateless request says of its client: the first one fixes the era and
    /// lets the servers start; capabilities the hub has not heard yet are told to it; its log
    /// level is applied.
    fn stateless_request(&mut self, checked: stateless::Checked) {
        if self.version.is_none() {
            self.version = Some(Version::STATELESS);
            self.startup_deadline = Some(Instant::now() + self.config.gateway.startup_timeout);
            tracing::debug!(session = self.membership.id, "client speaks 2026-07-28");
        }
        if self.capabilities.as_deref().map(RawValue::get) != Some(checked.capabilities.get()) {
            self.capabilities = Some(checked.capabilities.clone());
            self.hub.hello(
                self.membership.id,
                checked.capabilities,
                checked.client_info,
            );
        }
        if let Some(level) = checked.log_level {
            let params = protocol::raw(&json!({ "level": level }));
            if self.log_level.as_deref().map(RawValue::get) != Some(params.get()) {
                drop(self.apply_log_level(&params));
                self.log_level = Some(params);
            }
        }
    }

    /// A request of the stateless revision, its `_meta` checked and taken out.
    fn on_stateless_request(&mut self, request: Request) {
        let gone = match request.method.as_str() {
            "initialize" => Some(
                "there is no `initialize`: this connection already speaks 2026-07-28, whose requests each carry their version",
            ),
            "ping" => Some("`ping` is not part of protocol version 2026-07-28"),
            "logging/setLevel" => Some(
                "`logging/setLevel` is not part of protocol version 2026-07-28: put `io.modelcontextprotocol/logLevel` in a request's `_meta`",
            ),
            "resources/subscribe" | "resources/unsubscribe" => Some(
                "resource subscriptions are made with `subscriptions/listen` in protocol version 2026-07-28",
            ),
            "tasks/list" | "tasks/result" => Some(
                "the tasks extension of protocol version 2026-07-28 has no such method (`tasks/get` polls a task)",
            ),
            _ => None,
        };
        if let Some(why) = gone {
            let message = format!("Method not found: {} ({why})", request.method);
            return self.reject(
                Some(request.id),
                ErrorObject::new(code::METHOD_NOT_FOUND, message),
            );
        }
        if request.method.starts_with("tasks/")
            && !stateless::declares_extension(self.capabilities.as_deref(), stateless::TASKS)
        {
            let error = stateless::missing_capability(
                &format!(
                    "`{}` needs the client to declare the `{}` extension",
                    request.method,
                    stateless::TASKS
                ),
                json!({ "extensions": { stateless::TASKS: {} } }),
            );
            return self.reject(Some(request.id), error);
        }
        if request.method == "subscriptions/listen" {
            return self.listen(request);
        }
        if bridge::may_ask(&request.method) {
            match self.resume(&request) {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => return self.reject(Some(request.id), e),
            }
        }
        self.route(request);
    }

    /// Routes a request of either era to where it is answered.
    fn route(&mut self, request: Request) {
        let method = request.method.clone();
        let result = match method.as_str() {
            m if Kind::from_list_method(m).is_some() => return self.list(request),
            "tools/call" => self.call_tool(request),
            "prompts/get" => self.get_prompt(request),
            "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
                self.route_resource(request)
            }
            "completion/complete" => self.complete(request),
            "logging/setLevel" => self.set_level(request),
            "tasks/get" | "tasks/result" | "tasks/cancel" | "tasks/update" => {
                self.route_task(request)
            }
            "tasks/list" => self.list_tasks(request),
            _ => self.route_extension(request),
        };
        if let Err((id, error)) = result {
            self.reject(Some(id), error);
        }
    }

    fn initialize(&mut self, request: Request) {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Params {
            protocol_version: String,
            capabilities: Box<RawValue>,
            #[serde(default)]
            client_info: Option<Box<RawValue>>,
        }
        if self.version.is_some() {
            return self.reject(
                Some(request.id),
                ErrorObject::new(
                    code::INVALID_REQUEST,
                    "Invalid request: already initialized",
                ),
            );
        }
        let params: Params = match parse_params(request.params.as_deref()) {
            Ok(p) => p,
            Err(e) => return self.reject(Some(request.id), e),
        };
        let version = protocol::negotiate(&params.protocol_version);
        self.version = Some(version);
        self.startup_deadline = Some(Instant::now() + self.config.gateway.startup_timeout);
        self.capabilities = Some(params.capabilities.clone());
        self.hub
            .hello(self.membership.id, params.capabilities, params.client_info);
        tracing::debug!(session = self.membership.id, %version, "client initialized");
        // A proxy answers as its server, so it waits (up to startup_timeout) to know it.
        if self.config.gateway.passthrough
            && self
                .view
                .servers
                .first()
                .is_some_and(|s| s.state == ServerState::Starting)
        {
            self.pending_initialize = Some((request.id, version));
            return;
        }
        let result = self.initialize_result(version);
        self.respond(request.id, Ok(result));
    }

    /// Answers a proxy's held `initialize`, once its server is ready or has failed.
    fn finish_initialize(&mut self) {
        if let Some((id, version)) = self.pending_initialize.take() {
            let result = self.initialize_result(version);
            self.respond(id, Ok(result));
        }
    }

    fn initialize_result(&self, version: Version) -> Box<RawValue> {
        protocol::raw(&self.initialize_value(version))
    }

    fn initialize_value(&self, version: Version) -> Value {
        if self.config.gateway.passthrough
            && let Some(info) = self.view.servers.first().and_then(|s| s.info.as_ref())
        {
            let mut result = json!({
                "protocolVersion": version,
                "capabilities": info.capabilities,
                "serverInfo": info.server_info,
            });
            if let Some(instructions) = &info.instructions {
                result["instructions"] = json!(instructions);
            }
            return result;
        }
        let servers: Vec<String> = self
            .view
            .visible()
            .filter(|s| s.config.enabled)
            .map(|s| format!("`{}`", s.config.name))
            .collect();
        let plain: Vec<String> = self
            .view
            .visible()
            .filter(|s| s.config.enabled && !s.config.prefix)
            .map(|s| format!("`{}`", s.config.name))
            .collect();
        let instructions = if servers.is_empty() {
            "mcpgw has no MCP servers configured yet (see `mcpgw list`).".to_owned()
        } else if plain.len() == servers.len() {
            format!(
                "mcpgw gathers the MCP servers {}, under their tools' and prompts' own names.",
                servers.join(", "),
            )
        } else {
            let except = if plain.is_empty() {
                String::new()
            } else {
                format!(" (but those of {}, which keep their own)", plain.join(", "))
            };
            format!(
                "mcpgw gathers the MCP servers {}. Each tool and prompt name starts with its server's name and `{}`{except}.",
                servers.join(", "),
                self.config.gateway.separator
            )
        };
        let mut capabilities = json!({
            "tools": { "listChanged": true },
            "prompts": { "listChanged": true },
            "resources": { "subscribe": true, "listChanged": true },
            "logging": {},
            "completions": {},
        });
        let mut extensions = serde_json::Map::new();
        for server in self.view.visible() {
            for (id, settings) in extensions_of(server) {
                extensions.entry(id).or_insert(settings);
            }
        }
        if !extensions.is_empty() {
            capabilities["extensions"] = Value::Object(extensions);
        }
        if version >= Version::V2025_11_25 {
            // Task-augmented tool calls are relayed, and tasks/* routed by task id; each tool
            // says in `execution.taskSupport` whether its server takes them.
            capabilities["tasks"] =
                json!({ "list": {}, "cancel": {}, "requests": { "tools": { "call": {} } } });
        }
        json!({
            "protocolVersion": version,
            "capabilities": capabilities,
            "serverInfo": { "name": "mcpgw", "title": "mcpgw MCP gateway", "version": env!("CARGO_PKG_VERSION") },
            "instructions": instructions,
        })
    }

    /// The answer to `server/discover`: what `initialize` would say, in that method's shape.
    fn discover_result(&self) -> Box<RawValue> {
        /// How long a client may keep it: mcpgw's capabilities and servers are fixed for the
        /// life of the process; a proxy's are its server's, which a restart may change.
        const TTL_MS: u64 = 3_600_000;
        let mut init = self.initialize_value(Version::LATEST);
        let mut capabilities = init["capabilities"].take();
        if let Some(c) = capabilities.as_object_mut() {
            // Tasks are an extension in this revision: offered when a server of the
            // handshake era runs tools as tasks (mcpgw bridges them, see `tasks`); a server of
            // this revision declares it itself.
            c.remove("tasks");
            let bridged = self.view.visible().any(|s| {
                s.info.as_ref().is_some_and(|i| {
                    !i.protocol_version.is_stateless()
                        && i.capabilities
                            .pointer("/tasks/requests/tools/call")
                            .is_some()
                })
            });
            if bridged {
                let extensions = c.entry("extensions").or_insert_with(|| json!({}));
                if let Some(e) = extensions.as_object_mut() {
                    e.entry(stateless::TASKS).or_insert_with(|| json!({}));
                }
            }
        }
        let ttl = if self.config.gateway.passthrough {
            0
        } else {
            TTL_MS
        };
        let mut result = json!({
            "resultType": "complete",
            "supportedVersions": Version::SUPPORTED,
            "capabilities": capabilities,
            "ttlMs": ttl,
            "cacheScope": "private",
            "_meta": { stateless::SERVER_INFO: init["serverInfo"].take() },
        });
        if let Some(instructions) = init.get_mut("instructions") {
            result["instructions"] = instructions.take();
        }
        protocol::raw(&result)
    }

    // ---- subscriptions/listen (stateless clients) ----------------------------------------

    /// Opens a subscription: acknowledged at once with what mcpgw will tell. Its resources
    /// are subscribed at their servers (counted with every session's, by the hub) as soon as
    /// a server offers them.
    fn listen(&mut self, request: Request) {
        let tasks = stateless::declares_extension(self.capabilities.as_deref(), stateless::TASKS);
        let mut listen = match Listen::parse(request.id.clone(), request.params.as_deref(), tasks) {
            Ok(l) => l,
            Err(e) => return self.reject(Some(request.id), e),
        };
        // Task notifications come from handshake-era servers' tasks only (see `tasks`).
        listen.task_ids.retain(|t| self.relays_task(t));
        self.notify_client(
            "notifications/subscriptions/acknowledged",
            Some(listen.acknowledgement(&listen.resources)),
        );
        let resources = listen
            .resources
            .iter()
            .map(|uri| (uri.clone(), None))
            .collect();
        let upstream = self.listen_for_tasks(&listen.task_ids);
        self.listens.push(Listening {
            listen,
            resources,
            upstream,
        });
        self.resolve_listens();
    }

    /// Subscribes at their servers the resources of subscriptions that no server offered yet.
    fn resolve_listens(&mut self) {
        // A server gone from the view (a reload restarted it as a new slot): its
        // subscriptions are found again, at the new one.
        let view = self.view.clone();
        for listening in &mut self.listens {
            for (_, at) in &mut listening.resources {
                if at
                    .as_ref()
                    .is_some_and(|(s, _)| view.servers.get(*s).is_none_or(|v| v.hidden))
                {
                    *at = None;
                }
            }
        }
        let mut found = vec![];
        for (l, listening) in self.listens.iter().enumerate() {
            for (r, (uri, at)) in listening.resources.iter().enumerate() {
                if at.is_none()
                    && let Some(target) = self.view.resource(uri)
                    && self.view.servers[target.0].state != ServerState::Starting
                {
                    found.push((l, r, target));
                }
            }
        }
        for (l, r, (server, theirs)) in found {
            if !self.listens_to(server, &theirs) {
                let params = protocol::raw(&json!({ "uri": theirs }));
                let reply =
                    self.hub
                        .subscription(self.membership.id, server, theirs.clone(), params, true);
                let name = self.view.servers[server].config.name.clone();
                tokio::spawn(async move {
                    if let Ok(Err(e)) = reply.await {
                        tracing::debug!(server = %name, "a subscription was refused: {e}");
                    }
                });
            }
            self.listens[l].resources[r].1 = Some((server, theirs));
        }
    }

    /// Whether a subscription of this session already holds `uri` of `server`.
    fn listens_to(&self, server: usize, uri: &str) -> bool {
        self.listens
            .iter()
            .flat_map(|l| &l.resources)
            .any(|(_, at)| at.as_ref().is_some_and(|(s, u)| *s == server && u == uri))
    }

    /// Ends subscription `id` (the client cancelled it): its resources are let go of where
    /// no other subscription holds them. Nothing more is sent for it.
    fn stop_listening(&mut self, id: &RequestId) -> bool {
        let Some(at) = self.listens.iter().position(|l| &l.listen.id == id) else {
            return false;
        };
        let ended = self.listens.remove(at);
        self.stop_task_listens(&ended.upstream);
        for (server, uri) in ended.resources.into_iter().filter_map(|(_, at)| at) {
            if !self.listens_to(server, &uri) {
                let params = protocol::raw(&json!({ "uri": uri }));
                drop(
                    self.hub
                        .subscription(self.membership.id, server, uri, params, false),
                );
            }
        }
        true
    }

    /// Sends each subscription that asked for it a notification, tagged with its id.
    fn tell_listeners(
        &self,
        method: &str,
        params: Option<&RawValue>,
        hears: impl Fn(&Listening) -> bool,
    ) {
        for l in self.listens.iter().filter(|l| hears(l)) {
            self.notify_client(method, Some(l.listen.tag(params)));
        }
    }

    fn on_client_notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "notifications/initialized" => {
                for method in self.announcer.ready() {
                    self.notify_client(method, None);
                }
            }
            "notifications/cancelled" => {
                let Ok(p) = parse_params::<Cancelled>(n.params.as_deref()) else {
                    return tracing::debug!("ignored a malformed cancellation");
                };
                self.end_call(&p.request_id, observe::Ending::Cancelled);
                if self.stop_listening(&p.request_id)
                    || self.cancel_poll(&p.request_id)
                    || self.cancel_bridge(&p.request_id)
                {
                    return;
                }
                // One still waiting for its server to start is simply never sent.
                let waiting = self.deferred.len();
                self.deferred.retain(|r| r.id != p.request_id);
                if self.deferred.len() < waiting {
                    return;
                }
                if let Some(flight) = self.inflight.remove(&p.request_id)
                    && let Some(handle) = self.handle(flight.server)
                {
                    handle.cancel(
                        flight.upstream_id,
                        p.reason.as_deref().unwrap_or("cancelled by the client"),
                    );
                }
            }
            "notifications/roots/list_changed" => {
                for server in self.view.visible().filter(|s| s.ready()) {
                    if let Some(h) = &server.handle {
                        h.notify(&n.method, n.params.clone());
                    }
                }
            }
            "notifications/progress" => {
                // Progress on a server→client request (a long sampling, say) goes to its server.
                let server = progress_token(n.params.as_deref())
                    .and_then(|t| self.outbound.progress_target(&t));
                if let Some(handle) = server.and_then(|s| self.handle(s)) {
                    handle.notify(&n.method, n.params);
                }
            }
            // A proxy passes on what it does not know (an extension's notification, say).
            _ if self.config.gateway.passthrough => {
                if let Some(handle) = self.handle(0) {
                    handle.notify(&n.method, n.params);
                }
            }
            other => tracing::debug!("ignored notification `{other}` from the client"),
        }
    }

    fn on_client_response(&mut self, r: Response) {
        if self.bridges.asked(&r.id) {
            if let Some(Some(step)) = self.bridges.answered(&r.id, r.outcome) {
                self.take_step(step);
            }
            return;
        }
        let Some((server, theirs)) = self.outbound.answered(&r.id) else {
            return tracing::debug!(id = %r.id, "ignored an answer to no request of ours");
        };
        if let Some(handle) = self.handle(server) {
            handle.respond(theirs, r.outcome);
        }
    }

    // ---- lists --------------------------------------------------------------------------

    /// Whether a request for `server` should wait for it to finish starting.
    fn waits_for(&self, server: usize) -> bool {
        self.view.servers[server].state == ServerState::Starting && self.starting_up()
    }

    /// Still within the wait for upstreams at start.
    fn starting_up(&self) -> bool {
        self.startup_deadline.is_some_and(|d| d > Instant::now())
    }

    /// Whether requests should wait for upstreams that are still starting.
    fn startup_pending(&self) -> bool {
        self.starting_up() && self.view.still_starting()
    }

    /// Holds a request whose target may not have started yet; it is handled again whenever
    /// the servers change, or at `startup_timeout`.
    fn defer(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        self.deferred.push(request);
        Ok(())
    }

    fn list(&mut self, request: Request) {
        if self.startup_pending() {
            self.deferred.push(request);
            return;
        }
        let kind = Kind::from_list_method(&request.method).expect("a list method");
        self.announcer.listed(kind);
        let mut outcome = self.list_page(kind, request.params.as_deref());
        if self.stateless() {
            // Never longer than every server promised (servers of the handshake era promise
            // nothing).
            let hint = self.view.merged.hint(kind);
            outcome = outcome.map(|page| stateless::cacheable(&page, hint));
        }
        self.respond(request.id, outcome);
    }

    fn answer_deferred(&mut self) {
        for request in std::mem::take(&mut self.deferred) {
            self.on_request(request);
        }
    }

    fn list_page(&self, kind: Kind, params: Option<&RawValue>) -> Outcome {
        #[derive(Deserialize, Default)]
        struct Params {
            #[serde(default)]
            cursor: Option<String>,
        }
        let params: Params = if params.is_some() {
            parse_params(params)?
        } else {
            Params::default()
        };
        let items = self.view.merged.list(kind);
        let start = match &params.cursor {
            None => 0,
            Some(c) => c
                .strip_prefix("mcpgw:")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n <= items.len())
                .ok_or_else(|| {
                    ErrorObject::new(
                        code::INVALID_PARAMS,
                        format!("Invalid params: unknown cursor {c:?}"),
                    )
                })?,
        };
        let size = match self.config.gateway.page_size {
            0 => items.len(),
            n => n,
        };
        let end = (start + size).min(items.len());
        // Written straight from the merged list: no copy of every schema per request.
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Page<'a> {
            #[serde(flatten)]
            items: std::collections::BTreeMap<&'static str, &'a [crate::hub::Exposed]>,
            #[serde(skip_serializing_if = "Option::is_none")]
            next_cursor: Option<String>,
        }
        let page = Page {
            items: [(kind.field(), &items[start..end])].into(),
            next_cursor: (end < items.len()).then(|| format!("mcpgw:{end}")),
        };
        Ok(protocol::raw(&page))
    }

    // ---- routing --------------------------------------------------------------------------

    fn call_tool(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        let mut exposed = String::new();
        let (server, params) = match rename_param(request.params.as_deref(), "name", |n| {
            exposed = n.to_owned();
            self.view.tool(n)
        }) {
            Ok(x) => x,
            Err(Renamed::Missing(e)) => return Err((request.id, e)),
            Err(Renamed::Unknown(_)) if self.startup_pending() => return self.defer(request),
            Err(Renamed::Unknown(name)) => {
                let owner = self.view.owner_by_prefix(&name);
                // Its server's lists were shown from the cache, which may lack this tool
                // (a list made for another kind of client); its own lists decide.
                if owner.is_some_and(|i| self.view.servers[i].awaits_own_lists())
                    && self.starting_up()
                {
                    return self.defer(request);
                }
                if let Some(server) = owner.map(|i| &self.view.servers[i]).filter(|s| !s.ready()) {
                    let text = format!(
                        "mcpgw: server `{}` is not available ({}), so `{name}` cannot run",
                        server.config.name,
                        server.state_reason()
                    );
                    self.respond(request.id, Ok(tool_error(&text)));
                    return Ok(());
                }
                let note = self.scope_note();
                return Err((
                    request.id,
                    ErrorObject::new(code::INVALID_PARAMS, format!("Unknown tool: {name}{note}")),
                ));
            }
        };
        if self.waits_for(server) {
            return self.defer(request);
        }
        let params = if self.stateless() {
            self.as_task(server, params)
        } else {
            params
        };
        self.calls.start(
            &request.id,
            server,
            Some((&exposed, request.params.as_deref())),
        );
        self.forward(request.id, server, "tools/call", Some(params), Answer::Tool);
        Ok(())
    }

    fn get_prompt(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        match rename_param(request.params.as_deref(), "name", |n| self.view.prompt(n)) {
            Ok((server, _)) if self.waits_for(server) => self.defer(request),
            Ok((server, params)) => {
                self.forward(
                    request.id,
                    server,
                    &request.method,
                    Some(params),
                    Answer::Relay,
                );
                Ok(())
            }
            Err(Renamed::Missing(e)) => Err((request.id, e)),
            Err(Renamed::Unknown(_)) if self.startup_pending() => self.defer(request),
            Err(Renamed::Unknown(name)) => Err((
                request.id,
                ErrorObject::new(
                    code::INVALID_PARAMS,
                    format!("Unknown prompt: {name}{}", self.scope_note()),
                ),
            )),
        }
    }

    fn route_resource(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        let routed = rename_param(request.params.as_deref(), "uri", |uri| {
            self.view.resource(uri)
        });
        match routed {
            Ok((server, _)) if self.waits_for(server) => self.defer(request),
            Ok((server, params)) => {
                let subscribe = match request.method.as_str() {
                    "resources/subscribe" => true,
                    "resources/unsubscribe" => false,
                    _ => {
                        self.forward(
                            request.id,
                            server,
                            "resources/read",
                            Some(params),
                            Answer::Relay,
                        );
                        return Ok(());
                    }
                };
                // Subscriptions are counted by the hub: a server hears of the first and the
                // last, whichever sessions they come from.
                let uri = param_str(&params, "uri").unwrap_or_default();
                let reply =
                    self.hub
                        .subscription(self.membership.id, server, uri, params, subscribe);
                self.answer_later(request.id, async move {
                    reply.await.unwrap_or_else(|_| {
                        Err(ErrorObject::new(
                            code::INTERNAL_ERROR,
                            "mcpgw is shutting down",
                        ))
                    })
                });
                Ok(())
            }
            Err(Renamed::Missing(e)) => Err((request.id, e)),
            Err(Renamed::Unknown(_)) if self.startup_pending() => self.defer(request),
            Err(Renamed::Unknown(uri)) => Err((
                request.id,
                ErrorObject::new(
                    code::RESOURCE_NOT_FOUND,
                    format!("Resource not found: {uri}{}", self.scope_note()),
                ),
            )),
        }
    }

    fn complete(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        let bad = |id: RequestId, why: &str| {
            (
                id,
                ErrorObject::new(code::INVALID_PARAMS, format!("Invalid params: {why}")),
            )
        };
        let Some(mut params) = request
            .params
            .as_deref()
            .and_then(|p| serde_json::from_str::<serde_json::Map<String, Value>>(p.get()).ok())
        else {
            return Err(bad(
                request.id,
                "expected an object with `ref` and `argument`",
            ));
        };
        let reference = params.get_mut("ref").and_then(Value::as_object_mut);
        let Some(reference) = reference else {
            return Err(bad(request.id, "missing `ref`"));
        };
        let target = match reference.get("type").and_then(Value::as_str) {
            Some("ref/prompt") => {
                let name = reference
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let found = self.view.prompt(name).map(|(s, n)| (s, "name", n));
                found.ok_or_else(|| {
                    ErrorObject::new(code::INVALID_PARAMS, format!("Unknown prompt: {name}"))
                })
            }
            Some("ref/resource") => {
                let uri = reference
                    .get("uri")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let found = self.view.template(uri).map(|(s, u)| (s, "uri", u));
                found.ok_or_else(|| {
                    ErrorObject::new(
                        code::RESOURCE_NOT_FOUND,
                        format!("Resource not found: {uri}"),
                    )
                })
            }
            _ => {
                return Err(bad(
                    request.id,
                    "`ref.type` must be `ref/prompt` or `ref/resource`",
                ));
            }
        };
        let (server, key, value) = match target {
            Ok(t) => t,
            Err(_) if self.startup_pending() => return self.defer(request),
            Err(e) => return Err((request.id, e)),
        };
        if self.waits_for(server) {
            return self.defer(request);
        }
        reference.insert(key.into(), Value::String(value));
        self.forward(
            request.id,
            server,
            "completion/complete",
            Some(protocol::raw(&params)),
            Answer::Relay,
        );
        Ok(())
    }

    /// A method mcpgw does not know: an extension's (SEP-2133). A proxy passes it to its
    /// server untouched; `serve` to the one server that declares extensions. With several
    /// such servers which one a method belongs to cannot be told (extensions name no
    /// methods), so it is refused, naming them.
    fn route_extension(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        let not_found = |id, why: String| {
            Err((
                id,
                ErrorObject::new(
                    code::METHOD_NOT_FOUND,
                    format!("Method not found: {}{why}", request.method),
                ),
            ))
        };
        if self.config.gateway.passthrough {
            if self.waits_for(0) {
                return self.defer(request);
            }
            let method = request.method.clone();
            self.forward(request.id, 0, &method, request.params, Answer::Relay);
            return Ok(());
        }
        let offering: Vec<usize> = (0..self.view.servers.len())
            .filter(|&i| {
                !self.view.servers[i].hidden && !extensions_of(&self.view.servers[i]).is_empty()
            })
            .collect();
        match offering.as_slice() {
            [] if self.startup_pending() => self.defer(request),
            [] => not_found(request.id.clone(), String::new()),
            [server] => {
                let (server, method) = (*server, request.method.clone());
                self.forward(request.id, server, &method, request.params, Answer::Relay);
                Ok(())
            }
            several => {
                let names: Vec<String> = several
                    .iter()
                    .map(|&i| format!("`{}`", self.view.servers[i].config.name))
                    .collect();
                not_found(
                    request.id.clone(),
                    format!(
                        " (servers {} all offer extensions; mcpgw cannot tell whose method this is)",
                        names.join(", ")
                    ),
                )
            }
        }
    }

    /// Answers `id` with what `work` returns, when it is done.
    fn answer_later(
        &mut self,
        id: RequestId,
        work: impl Future<Output = Outcome> + Send + 'static,
    ) {
        self.owed_locally += 1;
        self.work.push(
            async move {
                Done::Local {
                    id,
                    outcome: work.await,
                }
            }
            .boxed(),
        );
    }

    fn set_level(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        #[derive(Deserialize)]
        struct Params {
            #[allow(dead_code)]
            level: String,
        }
        if let Err(e) = parse_params::<Params>(request.params.as_deref()) {
            return Err((request.id, e));
        }
        self.log_level = request.params.clone();
        for server in 0..self.view.servers.len() {
            self.report_down(server);
        }
        let calls = match &request.params {
            Some(params) => self.apply_log_level(params),
            None => vec![],
        };
        self.answer_later(request.id, async move {
            for (name, call) in calls {
                if !matches!(call.reply.await, Ok(Ok(Ok(_)))) {
                    tracing::debug!(server = %name, "logging/setLevel failed");
                }
            }
            Ok(protocol::raw(&json!({})))
        });
        Ok(())
    }

    /// Asks every ready server that logs to log at `params` (of `logging/setLevel`).
    fn apply_log_level(&self, params: &RawValue) -> Vec<(String, upstream::PendingCall)> {
        self.view
            .visible()
            // A server of 2026-07-28 gets the level stamped on later requests, which costs
            // nothing: some (the Python SDK's) log without declaring `logging`.
            .filter(|s| {
                s.ready()
                    && s.info
                        .as_ref()
                        .is_some_and(|i| i.has("logging") || i.protocol_version.is_stateless())
            })
            .filter_map(|s| {
                Some((
                    s.config.name.clone(),
                    s.handle.as_ref()?.request_for(
                        self.membership.id,
                        "logging/setLevel",
                        Some(params.to_owned()),
                    ),
                ))
            })
            .collect()
    }

    /// Tells a client that asked for logs that a server is down, and why: otherwise it shows
    /// the gateway "connected" while that server's tools fail one by one.
    fn report_down(&self, server: usize) {
        #[derive(Deserialize)]
        struct Level {
            level: String,
        }
        let wants_errors = self
            .log_level
            .as_deref()
            .and_then(|p| serde_json::from_str::<Level>(p.get()).ok())
            .is_some_and(|l| {
                matches!(
                    l.level.as_str(),
                    "debug" | "info" | "notice" | "warning" | "error"
                )
            });
        let view = &self.view.servers[server];
        let ServerState::Failed { reason, retry_in } = &view.state else {
            return;
        };
        if view.hidden {
            return;
        }
        // A stateless client hears log messages only about the request that asked for them.
        if wants_errors && !self.stateless() {
            let data = format!(
                "server `{}` is unavailable: {reason} (trying again in {})",
                view.config.name,
                humantime::format_duration(Duration::from_secs(retry_in.as_secs().max(1)))
            );
            self.notify_client(
                "notifications/message",
                Some(protocol::raw(
                    &json!({ "level": "error", "logger": "mcpgw", "data": data }),
                )),
            );
        }
    }

    /// Every server's tasks that this client created.
    fn list_tasks(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        let calls: Vec<_> = self
            .view
            .servers
            .iter()
            .filter(|s| !s.hidden && s.ready() && s.info.as_ref().is_some_and(|i| i.has("tasks")))
            .filter_map(|s| {
                s.handle
                    .as_ref()
                    .map(|h| h.request_for(self.membership.id, "tasks/list", None))
            })
            .collect();
        let own: HashSet<String> = self.tasks.keys().cloned().collect();
        let modern = self.modern_tasks();
        self.answer_later(request.id, async move {
            let mut tasks: Vec<Value> = futures_util::future::join_all(modern)
                .await
                .into_iter()
                .flatten()
                .collect();
            for call in calls {
                if let Ok(Ok(Ok(result))) = call.reply.await
                    && let Ok(Value::Object(mut r)) = serde_json::from_str(result.get())
                    && let Some(Value::Array(list)) = r.remove("tasks")
                {
                    tasks.extend(list.into_iter().filter(|t| {
                        t.get("taskId")
                            .and_then(Value::as_str)
                            .is_some_and(|id| own.contains(id))
                    }));
                }
            }
            Ok(protocol::raw(&json!({ "tasks": tasks })))
        });
        Ok(())
    }

    /// Sends a request to one upstream and arranges for its answer to reach the client.
    fn forward(
        &mut self,
        id: RequestId,
        server: usize,
        method: &str,
        params: Option<Box<RawValue>>,
        answer: Answer,
    ) {
        self.calls.start(&id, server, None);
        self.forward_round(id, server, method, params, answer, 0, tasks::Mode::Off);
    }

    /// [`Session::forward`], for the `rounds`th time with the client's input; `tasks` says
    /// whether a handshake-era client's request to a server of 2026-07-28 declares the tasks
    /// extension (a request asking for a task does).
    #[allow(clippy::too_many_arguments)]
    fn forward_round(
        &mut self,
        id: RequestId,
        server: usize,
        method: &str,
        mut params: Option<Box<RawValue>>,
        answer: Answer,
        rounds: u32,
        mut tasks: tasks::Mode,
    ) {
        let view = &self.view.servers[server];
        if view.hidden {
            // Nothing routes here; should anything, the client learns nothing of the server.
            let error = ErrorObject::new(
                code::INVALID_PARAMS,
                format!("Invalid params: nothing by that name{}", self.scope_note()),
            );
            return self.respond(id, Err(error));
        }
        // An idle server is started by the request, which its actor holds until it is ready.
        let Some(handle) = view.handle.clone().filter(|_| view.listed()) else {
            let reason = format!(
                "server `{}` is not available ({})",
                view.config.name,
                view.state_reason()
            );
            let outcome = match answer {
                Answer::Tool => Ok(tool_error(&format!("mcpgw: {reason}"))),
                Answer::Relay => Err(ErrorObject::new(code::UPSTREAM_UNAVAILABLE, reason)),
            };
            return self.respond(id, outcome);
        };
        let timeout = view.config.request_timeout;
        // A stateless request's own fields stay here when its server is of the handshake
        // era (which had them from `initialize`); one of the stateless revision gets them, or
        // this client's capabilities for a client of the handshake.
        let mut log_from = None;
        let modern_server = view
            .info
            .as_ref()
            .is_some_and(|i| i.protocol_version.is_stateless());
        if modern_server
            && !self.stateless()
            && method == "tools/call"
            && let Some(plain) = params.as_deref().and_then(tasks::without_task)
        {
            // The client asked for a task: the extension's tasks are shown in its era's shape.
            params = Some(plain);
            tasks = tasks::Mode::Asked;
        }
        let retry = (modern_server && !self.stateless() && bridge::may_ask(method)).then(|| {
            bridge::Retry {
                method: method.to_owned(),
                params: params.clone(),
                rounds,
                tasks,
            }
        });
        if modern_server && !self.stateless() {
            let capabilities = match tasks {
                tasks::Mode::Off => None,
                _ => Some(tasks::with_extension(self.capabilities.as_deref())),
            };
            params = Some(stateless::with_capabilities(
                params.as_deref(),
                capabilities.as_deref().or(self.capabilities.as_deref()),
            ));
        }
        if self.stateless()
            && let Some(p) = params.as_deref()
        {
            // Whichever era the server is of, the request's log messages are the client's.
            log_from = stateless::read_meta(Some(p))
                .and_then(|m| m.log_level)
                .and_then(|l| serde_json::from_str::<String>(l.get()).ok())
                .and_then(|l| log_rank(&l));
            if !modern_server && let Some(stripped) = stateless::strip_meta(p) {
                params = Some(stripped);
            }
        }
        // The client's progress token becomes one of ours, which names this session.
        let mut progress = None;
        if let Some(theirs) = params.as_deref().and_then(|p| progress_token(Some(p))) {
            self.next_token += 1;
            let ours = protocol::raw(&format!("{}.{}", self.membership.id, self.next_token));
            if let Some(replaced) = params
                .as_deref()
                .and_then(|p| protocol::with_progress_token(p, &ours))
            {
                params = Some(replaced);
                let theirs = RawValue::from_string(theirs).expect("JSON text from the params");
                progress = Some((ours.get().to_owned(), theirs));
            }
        }
        let call = handle.request_as(self.membership.id, self.principal.clone(), method, params);
        let entry = Entry {
            server,
            upstream_id: call.id,
            progress,
            answer,
            cacheable: self.stateless() && stateless::is_cacheable(method),
            // A task's server asks its questions while its `tasks/result` is open.
            may_ask: match method {
                _ if !self.stateless() || modern_server => None,
                // The client's call waits for its task's outcome.
                "tasks/result" => Some("tools/call"),
                "tools/call" => Some("tools/call"),
                "prompts/get" => Some("prompts/get"),
                "resources/read" => Some("resources/read"),
                _ => None,
            },
            log_rank: log_from,
            timeout,
            max_timeout: self.config.gateway.max_timeout,
        };
        let seq = self.inflight.insert(id.clone(), entry, Instant::now());
        self.work.push(
            async move {
                let reply = await_reply(call, &handle).await;
                Done::Reply {
                    seq,
                    sent_as: id,
                    server,
                    answer,
                    reply,
                    retry,
                }
            }
            .boxed(),
        );
    }

    /// A server of 2026-07-28 needs input from this handshake-era client to answer request
    /// `id` ([`bridge`]): the client has the server's request timeout to give it.
    fn ask_for_input(
        &mut self,
        id: RequestId,
        server: usize,
        answer: Answer,
        retry: bridge::Retry,
        result: &RawValue,
    ) {
        let timeout = self.view.servers[server].config.request_timeout;
        let capabilities = self.capabilities.clone();
        let step = self
            .bridges
            .input_required(id, server, answer, retry, result, timeout, |c| {
                crate::hub::declares(capabilities.as_deref(), c)
            });
        self.take_step(step);
    }

    /// The client cancelled request `id` while asked for input for it: what it was asked
    /// is withdrawn. False when no bridge was open for it.
    fn cancel_bridge(&mut self, id: &RequestId) -> bool {
        match self.bridges.cancel(id) {
            Some(asks) => {
                self.withdraw(asks, "the request was cancelled");
                true
            }
            None => false,
        }
    }

    /// The client no longer owes these answers to mcpgw's requests.
    fn withdraw(&self, asks: Vec<RequestId>, reason: &str) {
        for ask in asks {
            self.notify_client(
                "notifications/cancelled",
                Some(protocol::raw(
                    &json!({ "requestId": ask, "reason": reason }),
                )),
            );
        }
    }

    /// Does what bridging a server's need for input to a handshake-era client says next.
    fn take_step(&mut self, step: bridge::Step) {
        match step {
            bridge::Step::Ask(requests) => {
                for request in requests {
                    self.send(&Message::Request(request));
                }
            }
            bridge::Step::Retry { id, retry, .. } if retry.method == "tasks/update" => {
                self.update_task(id, retry);
            }
            bridge::Step::Retry {
                id,
                server,
                answer,
                retry,
            } => self.forward_round(
                id,
                server,
                &retry.method,
                retry.params,
                answer,
                retry.rounds,
                retry.tasks,
            ),
            bridge::Step::Fail {
                id,
                answer,
                error,
                withdraw,
            } => {
                self.withdraw(withdraw, &error.message);
                self.polls.remove(&id);
                let outcome = match answer {
                    Answer::Tool => Ok(tool_error(&format!("mcpgw: {}", error.message))),
                    Answer::Relay => Err(error),
                };
                self.respond(id, outcome);
            }
        }
    }

    /// Answers, and cancels upstream, every request whose deadline has passed.
    fn expire(&mut self) {
        let now = Instant::now();
        for step in self.bridges.expired(now) {
            self.take_step(step);
        }
        // A call that ended while its client was away, whose client never came back.
        let stale: Vec<u64> = self
            .held
            .iter()
            .filter(|(_, h)| h.finished.is_some() && now >= h.asked_at + held::EXPIRES)
            .map(|(n, _)| *n)
            .collect();
        for n in stale {
            let h = self.held.remove(&n).expect("held");
            if let Some(handle) = self.handle(h.server) {
                let error = ErrorObject::new(
                    code::INTERNAL_ERROR,
                    "mcpgw: the client never came back with the input",
                );
                handle.respond(h.theirs, Err(error));
            }
        }
        for (id, flight) in self.inflight.expired(now) {
            if let Some(handle) = self.handle(flight.server) {
                handle.cancel(flight.upstream_id, "timed out in mcpgw");
            }
            if flight.held {
                // Its client was answered `input_required`; its state now names nothing.
                self.held.retain(|_, h| h.client_id != id);
                continue;
            }
            let failure = Failure::Timeout(now - flight.started);
            let name = self.view.servers[flight.server].config.name.clone();
            let outcome = failure.outcome(flight.answer, &name);
            self.respond(id, outcome);
        }
    }

    fn on_done(&mut self, done: Done) {
        match done {
            Done::Local { id, outcome } => {
                self.owed_locally -= 1;
                self.respond(id, outcome);
            }
            Done::Polled { id, polled } => self.on_polled(id, polled),
            Done::Mirrored { task, outcome } => self.on_mirrored(&task, outcome),
            Done::Aborted => {}
            Done::Reply {
                seq,
                sent_as,
                server,
                answer,
                reply,
                retry,
            } => {
                // What the server said about the request before answering it, while it is
                // still in flight (a stateless client hears a server's logs only then).
                self.catch_up();
                let Some((id, flight)) = self.inflight.answered(seq, &sent_as) else {
                    return; // cancelled by the client, or timed out: it expects no answer
                };
                if !flight.held && self.on_task_reply(&id, server, answer, retry.as_ref(), &reply) {
                    return;
                }
                if let (Some(retry), Ok(Ok(result))) = (retry, &reply)
                    && bridge::asks_for_input(result)
                {
                    return self.ask_for_input(id, server, answer, retry, result);
                }
                let outcome = match (reply, answer) {
                    (Ok(outcome), _) => {
                        if answer == Answer::Tool
                            && let Ok(result) = &outcome
                            && let Some(task) = created_task(result)
                        {
                            self.track(task, server, tasks::Via::Same);
                        }
                        outcome
                    }
                    (Err(failure), answer) => {
                        failure.outcome(answer, &self.view.servers[server].config.name)
                    }
                };
                let outcome = match outcome {
                    Ok(result) if flight.cacheable => {
                        Ok(stateless::cacheable(&result, CacheHint::NONE))
                    }
                    other => other,
                };
                if flight.held {
                    // The client has not come back for it yet: its retry gets it.
                    if let Some(h) = self.held.values_mut().find(|h| h.client_id == id) {
                        h.finished = Some(outcome);
                    }
                    return;
                }
                self.respond(id, outcome);
            }
        }
    }

    // ---- messages from the hub ----------------------------------------------------------

    fn on_hub(&mut self, message: ToSession) {
        self.in_hub = true;
        self.on_hub_message(message);
        self.in_hub = false;
    }

    /// Handles what the hub has sent so far, before an answer goes out: a server's log
    /// messages and progress about a request then come before its answer. Not from within
    /// the handling of a hub message.
    fn catch_up(&mut self) {
        if self.in_hub {
            return;
        }
        while let Ok(message) = self.membership.events.try_recv() {
            self.on_hub(message);
        }
    }

    fn on_hub_message(&mut self, message: ToSession) {
        match message {
            ToSession::View { view, changed } => {
                let changed = self.take_view(view, changed);
                if self.stateless() {
                    self.resolve_listens();
                    let mut told = HashSet::new();
                    for kind in changed {
                        let method = kind.list_changed();
                        if told.insert(method) {
                            self.tell_listeners(method, None, |l| l.listen.hears(kind));
                        }
                    }
                } else {
                    for method in self.announcer.changed(changed) {
                        self.notify_client(method, None);
                    }
                }
                self.answer_deferred();
            }
            ToSession::Ready(server) => {
                let view = &self.view.servers[server];
                if let Some(level) = &self.log_level
                    && !view.hidden
                    && view.info.as_ref().is_some_and(|i| i.has("logging"))
                    && let Some(handle) = &view.handle
                {
                    drop(handle.request_for(
                        self.membership.id,
                        "logging/setLevel",
                        Some(level.clone()),
                    ));
                }
                self.finish_initialize();
                self.answer_deferred();
            }
            ToSession::Down { server, news } => {
                // Requests it sent the client (sampling, elicitation…) will never be wanted now.
                let name = self.view.servers[server].config.name.clone();
                for ours in self.outbound.server_stopped(server) {
                    let reason = format!("server `{name}` stopped");
                    self.notify_client(
                        "notifications/cancelled",
                        Some(protocol::raw(
                            &json!({ "requestId": ours, "reason": reason }),
                        )),
                    );
                }
                if news {
                    self.report_down(server);
                }
                self.finish_initialize();
                self.answer_deferred();
            }
            ToSession::Notification {
                server,
                notification,
            } => self.on_upstream_notification(server, notification),
            ToSession::Request { server, request } => self.on_upstream_request(server, request),
        }
    }

    fn on_upstream_notification(&mut self, server: usize, mut n: Notification) {
        if self.view.servers.get(server).is_none_or(|s| s.hidden) {
            return;
        }
        if self.stateless() {
            return self.on_upstream_notification_stateless(server, n);
        }
        match n.method.as_str() {
            // Servers log at the level the last session asked for: each client hears only
            // what it asked for.
            "notifications/message"
                if !wants_log(self.log_level.as_deref(), n.params.as_deref()) =>
            {
                return;
            }
            "notifications/progress" => {
                // The hub sends only progress with our tokens: its deadline moves, and the
                // client gets its own token back.
                let Some(ours) = progress_token(n.params.as_deref()) else {
                    return;
                };
                let Some(theirs) = self.inflight.progressed(&ours, Instant::now()) else {
                    return tracing::debug!("dropped progress for a request long over");
                };
                n.params = n
                    .params
                    .as_deref()
                    .and_then(|p| protocol::with_progress_token(p, theirs));
            }
            "notifications/cancelled" => {
                // The server gave up on a request it sent the client: translate its id.
                let Ok(p) = parse_params::<Cancelled>(n.params.as_deref()) else {
                    return;
                };
                if let Some(ours) = self.outbound.withdrawn(server, &p.request_id) {
                    let params = json!({ "requestId": ours, "reason": p.reason });
                    self.notify_client(&n.method, Some(protocol::raw(&params)));
                }
                return;
            }
            // Of mcpgw's own listens at servers of 2026-07-28, for another era's client.
            "notifications/subscriptions/acknowledged" | "notifications/tasks" => return,
            _ => {}
        }
        if self.version.is_some() {
            self.send(&Message::Notification(n));
        }
    }

    /// What a stateless client may hear of a server: progress and (if asked) log messages
    /// of its requests being served, and resource updates its subscriptions asked for.
    fn on_upstream_notification_stateless(&mut self, server: usize, mut n: Notification) {
        match n.method.as_str() {
            "notifications/message" => {
                let level = n
                    .params
                    .as_deref()
                    .and_then(|p| param_str(p, "level"))
                    .and_then(|l| log_rank(&l));
                let wanted = self.inflight.log_rank_at(server);
                if level
                    .zip(wanted)
                    .is_some_and(|(level, wanted)| level >= wanted)
                {
                    self.send(&Message::Notification(n));
                }
            }
            "notifications/progress" => {
                let Some(ours) = progress_token(n.params.as_deref()) else {
                    return;
                };
                // Only while the request is in flight: nothing may follow its answer.
                if !self.inflight.in_flight_with_token(&ours) {
                    return;
                }
                let Some(theirs) = self.inflight.progressed(&ours, Instant::now()) else {
                    return;
                };
                n.params = n
                    .params
                    .as_deref()
                    .and_then(|p| protocol::with_progress_token(p, theirs));
                self.send(&Message::Notification(n));
            }
            "notifications/resources/updated" => {
                let Some(uri) = n.params.as_deref().and_then(|p| param_str(p, "uri")) else {
                    return;
                };
                for l in &self.listens {
                    for (named, _) in l.resources.iter().filter(|(_, at)| {
                        at.as_ref().is_some_and(|(s, u)| *s == server && *u == uri)
                    }) {
                        let params = protocol::raw(&json!({ "uri": named }));
                        self.notify_client(&n.method, Some(l.listen.tag(Some(&params))));
                    }
                }
            }
            "notifications/tasks/status" => self.on_task_status(n.params.as_deref()),
            "notifications/tasks" => self.on_modern_task_notification(n.params.as_deref()),
            other => tracing::debug!(
                server = %self.view.servers[server].config.name,
                "`{other}` is not passed to a client of 2026-07-28"
            ),
        }
    }

    fn on_upstream_request(&mut self, server: usize, request: Request) {
        let Some(handle) = self.handle(server).cloned() else {
            return;
        };
        if self.view.servers[server].hidden {
            let error = ErrorObject::new(
                code::INTERNAL_ERROR,
                "mcpgw: the client this would go to may not use this server",
            );
            return handle.respond(request.id, Err(error));
        }
        if self.stateless() {
            return self.ask_through_input_required(server, handle, request);
        }
        if self.version.is_none() {
            let error = ErrorObject::new(code::INTERNAL_ERROR, "the client has not connected yet");
            return handle.respond(request.id, Err(error));
        }
        if let Some(capability) = crate::hub::capability_for(&request.method)
            && !crate::hub::declares(self.capabilities.as_deref(), capability)
        {
            let error = ErrorObject::new(
                code::METHOD_NOT_FOUND,
                format!(
                    "mcpgw: the client did not declare `{capability}`, so `{}` cannot be answered",
                    request.method
                ),
            );
            return handle.respond(request.id, Err(error));
        }
        let token = progress_token(request.params.as_deref());
        let ours = self.outbound.open(server, request.id, token);
        self.send(&Message::Request(Request {
            id: ours.into(),
            method: request.method,
            params: request.params,
        }));
    }
}

impl Session {
    /// A (handshake-era) server asks this stateless client something while serving one of
    /// its requests: that request is answered `input_required` with the server's request as
    /// its input request, and held until the client comes back ([`held`]).
    fn ask_through_input_required(
        &mut self,
        server: usize,
        handle: UpstreamHandle,
        request: Request,
    ) {
        let refuse = |why: String| {
            let error = ErrorObject::new(code::METHOD_NOT_FOUND, format!("mcpgw: {why}"));
            handle.respond(request.id.clone(), Err(error));
        };
        if let Some(capability) = crate::hub::capability_for(&request.method)
            && !crate::hub::declares(self.capabilities.as_deref(), capability)
        {
            return refuse(format!(
                "the client did not declare `{capability}`, so `{}` cannot be answered",
                request.method
            ));
        }
        if self.hold_task_input(&request) {
            return;
        }
        // A server may ask for roots unprompted (the reference server does, just after it
        // starts): with no call of this client's in flight it is refused below; with one, it
        // becomes that call's input, which costs the call a round trip and no more (its answer
        // goes to the retry), and gives the server the roots it wanted.
        let askable = self.inflight.askable(server);
        let [(client_id, method)] = askable.as_slice() else {
            return refuse(format!(
                "`{}` cannot be passed to a client of protocol version 2026-07-28 unless exactly one of its `tools/call`, `prompts/get` or `resources/read` is in flight at this server ({} are)",
                request.method,
                askable.len()
            ));
        };
        let (client_id, method) = (client_id.clone(), *method);
        self.next_held += 1;
        let number = self.next_held;
        let key = format!("mcpgw-{number}");
        let result = protocol::raw(&json!({
            "resultType": "input_required",
            "inputRequests": { key.clone(): { "method": request.method, "params": request.params } },
            "requestState": held::seal(self.membership.id, number),
        }));
        self.inflight.hold(&client_id);
        self.held.insert(
            number,
            held::Held {
                client_id: client_id.clone(),
                method,
                asked_at: Instant::now(),
                server,
                theirs: request.id,
                key,
                asked: result.clone(),
                finished: None,
            },
        );
        self.respond(client_id, Ok(result));
    }

    /// A stateless client came back with the input a server asked for: `Ok(false)` when its
    /// `requestState` is not one of ours (the request goes on to its server, whose state it
    /// may be), `Ok(true)` when it was handled here.
    fn resume(&mut self, request: &Request) -> Result<bool, ErrorObject> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Retry {
            request_state: Option<String>,
            #[serde(default)]
            input_responses: serde_json::Map<String, Value>,
        }
        let invalid =
            |why: String| ErrorObject::new(code::INVALID_PARAMS, format!("Invalid params: {why}"));
        let Ok(retry) = parse_params::<Retry>(request.params.as_deref()) else {
            return Ok(false);
        };
        let Some(state) = retry.request_state else {
            return Ok(false);
        };
        let number = match held::open(&state, self.membership.id) {
            Err(held::Refused::NotOurs) => return Ok(false),
            Err(why) => return Err(invalid(format!("`requestState` is refused: {why}"))),
            Ok(n) => n,
        };
        let Some(h) = self.held.get(&number) else {
            return Err(invalid(
                "`requestState` names no request waiting for input (it was used already, or its request ended)".into(),
            ));
        };
        if request.method != h.method {
            return Err(invalid(format!(
                "`requestState` was given to a `{}`, not to a `{}`",
                h.method, request.method
            )));
        }
        if let Some(stranger) = retry.input_responses.keys().find(|k| **k != h.key) {
            return Err(invalid(format!(
                "`inputResponses` answers `{stranger}`, which was never asked (asked: `{}`)",
                h.key
            )));
        }
        let Some(response) = retry.input_responses.get(&h.key) else {
            // Asked again, as the spec says for missing input.
            let asked = h.asked.clone();
            self.respond(request.id.clone(), Ok(asked));
            return Ok(true);
        };
        let h = self.held.remove(&number).expect("held");
        if let Some(handle) = self.handle(h.server) {
            handle.respond(h.theirs, Ok(protocol::raw(response)));
        }
        match h.finished {
            Some(outcome) => self.respond(request.id.clone(), outcome),
            None if self.inflight.rename(&h.client_id, request.id.clone()) => {}
            None => {
                return Err(invalid(
                    "`requestState` names a request that has ended (cancelled or timed out)".into(),
                ));
            }
        }
        Ok(true)
    }
}

/// The extensions a ready server declared (`capabilities.extensions`).
fn extensions_of(server: &crate::hub::ServerView) -> serde_json::Map<String, Value> {
    server
        .info
        .as_ref()
        .filter(|_| server.ready())
        .and_then(|i| i.capabilities.get("extensions"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Whether a client that asked for `wanted` (`logging/setLevel` params, if it did) hears a
/// log message with these params.
fn wants_log(wanted: Option<&RawValue>, message: Option<&RawValue>) -> bool {
    let level = |p: Option<&RawValue>| {
        p.and_then(|p| param_str(p, "level"))
            .and_then(|l| log_rank(&l))
    };
    match (level(wanted), level(message)) {
        (Some(wanted), Some(said)) => said >= wanted,
        _ => true,
    }
}

impl Failure {
    fn describe(&self, server: &str) -> String {
        match self {
            Failure::Call(e) => e.to_string(),
            Failure::Timeout(after) => format!(
                "server `{server}` did not answer within {after:?}; the request was cancelled"
            ),
        }
    }

    /// What the client gets: a tool error for `tools/call`, a JSON-RPC error otherwise.
    fn outcome(&self, answer: Answer, server: &str) -> Outcome {
        match answer {
            Answer::Tool => Ok(tool_error(&format!("mcpgw: {}", self.describe(server)))),
            Answer::Relay => Err(self.error(server)),
        }
    }

    fn error(&self, server: &str) -> ErrorObject {
        let code = match self {
            Failure::Timeout(_) => code::REQUEST_TIMEOUT,
            Failure::Call(_) => code::UPSTREAM_UNAVAILABLE,
        };
        ErrorObject::new(code, self.describe(server))
    }
}

/// Waits for an upstream's answer. Timeouts are the session's (see [`Session::expire`]).
async fn await_reply(
    call: upstream::PendingCall,
    handle: &UpstreamHandle,
) -> Result<Outcome, Failure> {
    match call.reply.await {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(e)) => Err(Failure::Call(e)),
        Err(_) => Err(Failure::Call(CallError::Died {
            server: handle.name.clone(),
            reason: "the request was dropped".into(),
        })),
    }
}

fn tool_error(text: &str) -> Box<RawValue> {
    protocol::raw(&json!({ "content": [{ "type": "text", "text": text }], "isError": true }))
}

enum Renamed {
    Missing(ErrorObject),
    Unknown(String),
}

/// Looks up the string member `key` of `params` and, when `lookup` knows it, returns the
/// server and the params with that member replaced. Every other member stays raw.
fn rename_param(
    params: Option<&RawValue>,
    key: &str,
    lookup: impl FnOnce(&str) -> Option<(usize, String)>,
) -> Result<(usize, Box<RawValue>), Renamed> {
    let missing = || {
        Renamed::Missing(ErrorObject::new(
            code::INVALID_PARAMS,
            format!("Invalid params: missing string `{key}`"),
        ))
    };
    let mut map: std::collections::BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(params.ok_or_else(missing)?.get()).map_err(|_| missing())?;
    let value: String = map
        .get(key)
        .and_then(|v| serde_json::from_str(v.get()).ok())
        .ok_or_else(missing)?;
    let (server, renamed) = lookup(&value).ok_or(Renamed::Unknown(value))?;
    map.insert(key.to_owned(), protocol::raw(&renamed));
    Ok((server, protocol::raw(&map)))
}

/// The task id when a `tools/call` result is a `CreateTaskResult`.
fn created_task(result: &RawValue) -> Option<String> {
    if !result.get().contains("\"taskId\"") {
        return None;
    }
    let v: Value = serde_json::from_str(result.get()).ok()?;
    // The handshake era nests it; the tasks extension of 2026-07-28 answers with the task.
    let task = if v["resultType"] == "task" {
        &v
    } else {
        v.get("task")?
    };
    task.get("taskId")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_hears_the_log_levels_it_asked_for() {
        let level = |l: &str| protocol::raw(&json!({ "level": l }));
        let message = |l: &str| protocol::raw(&json!({ "level": l, "data": "x" }));
        assert!(
            wants_log(None, Some(&message("debug"))),
            "asked for nothing"
        );
        assert!(!wants_log(Some(&level("error")), Some(&message("warning"))));
        assert!(wants_log(Some(&level("error")), Some(&message("critical"))));
        assert!(wants_log(Some(&level("debug")), Some(&message("debug"))));
        assert!(
            wants_log(Some(&level("info")), Some(&message("made-up"))),
            "unknown levels pass"
        );
    }

    #[test]
    fn created_tasks_are_found_in_tool_results() {
        let task = protocol::raw(&json!({ "task": { "taskId": "t-1", "status": "working" } }));
        assert_eq!(created_task(&task).as_deref(), Some("t-1"));
        let plain = protocol::raw(&json!({ "content": [{ "type": "text", "text": "taskId" }] }));
        assert_eq!(created_task(&plain), None);
    }
}
