//! The downstream session: one task that owns every routing table.
//!
//! It selects over lines from the client, events from the upstream actors, and the completion
//! of requests it forwarded. Nothing here is shared or locked: the id maps (client ids →
//! upstream ids for requests, and gateway ids → upstream ids for server→client requests),
//! the progress-token table and the merged catalog belong to this task alone.
//!
//! Decisions the design left open:
//! - `initialize` is answered at once with fixed capabilities (every kind of list, with
//!   `listChanged`), because upstreams only start their handshake once the client's
//!   capabilities are known. The first list requests wait up to `startup_timeout` for
//!   upstreams still starting; later arrivals are announced with `list_changed`.
//! - Failures of tool calls (upstream down, died mid-call, timed out) are tool results with
//!   `isError`, so the model sees which server failed and why; other methods get JSON-RPC errors.
//! - An upstream's `ping` is answered by its actor: the gateway is that server's peer.
//! - Batches (allowed only by 2025-03-26) are answered element by element in one array.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt, future::BoxFuture};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::cache::CatalogCache;
use super::catalog::{self, Catalog, Kind, Merged};
use super::{ServerState, ServerStatus};
use crate::config::{Config, ServerConfig, StartMode};
use crate::protocol::{
    self, ErrorObject, Frame, Message, Notification, Outcome, Parsed, Request, RequestId, Response,
    code, recover_id,
};
use crate::upstream::{self, CallError, ClientHello, Event, ServerInfo, UpstreamHandle};

/// Requests from inside the process (the `list` command) that are not MCP.
pub enum Control {
    Status(oneshot::Sender<Vec<ServerStatus>>),
    /// Which server each exposed tool name belongs to.
    ToolOwners(oneshot::Sender<HashMap<String, String>>),
}

struct Slot {
    config: ServerConfig,
    handle: Option<UpstreamHandle>,
    task: Option<tokio::task::JoinHandle<()>>,
    state: ServerState,
    info: Option<Arc<ServerInfo>>,
    generation: u64,
    catalog: Catalog,
    /// Lists still being fetched after the server became ready.
    fetching: usize,
    /// `catalog` is the cached one from an earlier run, shown until the server's own arrives.
    cached: bool,
}

impl Slot {
    fn ready(&self) -> bool {
        self.state == ServerState::Ready
    }

    /// Whether its lists are known: running, or stopped until used.
    fn listed(&self) -> bool {
        self.ready() || self.state == ServerState::Idle
    }
}

/// How an answer from an upstream is turned into the answer for the client.
#[derive(Clone, Copy, PartialEq)]
enum Answer {
    /// Passed through untouched.
    Relay,
    /// `tools/call`: failures become tool results with `isError`.
    Tool,
}

enum Done {
    Reply {
        seq: u64,
        id: RequestId,
        server: usize,
        answer: Answer,
        reply: Result<Outcome, Failure>,
    },
    Local {
        id: RequestId,
        outcome: Outcome,
    },
    List {
        server: usize,
        generation: u64,
        kind: Kind,
        items: Result<Vec<catalog::Item>, String>,
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

struct InFlight {
    seq: u64,
    server: usize,
    upstream_id: u64,
    progress: Option<String>,
    answer: Answer,
    started: Instant,
    /// When it times out; each progress notification moves this to `now + timeout`.
    deadline: Instant,
    /// The latest the deadline can move to (`max_timeout` after the start).
    limit: Instant,
    timeout: Duration,
}

/// A batch being answered: the ids still owed, and the answers so far.
struct Batch {
    waiting: HashSet<RequestId>,
    answers: Vec<String>,
}

pub struct Session {
    config: Arc<Config>,
    slots: Vec<Slot>,
    out: mpsc::UnboundedSender<String>,
    hello: watch::Sender<Option<Arc<ClientHello>>>,
    /// The protocol version agreed with the client, once it has initialized.
    version: Option<&'static str>,
    /// The client sent `notifications/initialized`.
    client_ready: bool,
    /// Kinds the client has listed since it was last told they changed: only those are worth
    /// a `list_changed` (a list nobody has seen cannot be stale).
    listed: HashSet<Kind>,
    /// Kinds that changed before the client was ready to hear about it.
    unannounced: HashSet<Kind>,
    merged: Merged,
    inflight: HashMap<RequestId, InFlight>,
    /// Progress token (as JSON text) → the time of its last progress, which extends a timeout.
    progress: HashMap<String, RequestId>,
    /// Gateway id of a server→client request → the server and its own id for it.
    outbound: HashMap<u64, (usize, RequestId)>,
    next_outbound: u64,
    /// Progress tokens in server→client requests, so the client's progress reaches the server.
    client_progress: HashMap<String, (usize, u64)>,
    seq: u64,
    work: FuturesUnordered<BoxFuture<'static, Done>>,
    /// Requests answered by the gateway itself (fan-outs) that are still being worked on.
    owed_locally: usize,
    deferred: Vec<Request>,
    startup_deadline: Option<Instant>,
    log_level: Option<Box<RawValue>>,
    subscriptions: HashSet<(usize, String)>,
    tasks: HashMap<String, usize>,
    batch: Option<Batch>,
    cache: Option<CatalogCache>,
    /// The capabilities the client declared, as it wrote them: the cache's entries are kept
    /// per kind of client.
    client_capabilities: String,
    /// `mcpgw proxy`: the client's `initialize`, held until its server is known.
    pending_initialize: Option<(RequestId, &'static str)>,
}

impl Session {
    pub fn new(
        config: Arc<Config>,
        out: mpsc::UnboundedSender<String>,
        events: mpsc::UnboundedSender<Event>,
        services: super::Services,
    ) -> Self {
        let (hello, _) = watch::channel(None);
        let slots = config
            .servers
            .iter()
            .enumerate()
            .map(|(index, server)| {
                let (handle, task, state) = if server.enabled {
                    let (handle, task) = upstream::spawn(
                        index,
                        server,
                        &config.gateway,
                        hello.subscribe(),
                        events.clone(),
                        services.secrets.clone(),
                        services.prompt.clone(),
                    );
                    (Some(handle), Some(task), ServerState::Starting)
                } else {
                    (None, None, ServerState::Disabled)
                };
                Slot {
                    config: server.clone(),
                    handle,
                    task,
                    state,
                    info: None,
                    generation: 0,
                    catalog: Catalog::default(),
                    fetching: 0,
                    cached: false,
                }
            })
            .collect();
        Session {
            config,
            slots,
            out,
            hello,
            version: None,
            client_ready: false,
            listed: HashSet::new(),
            unannounced: HashSet::new(),
            merged: Merged::default(),
            inflight: HashMap::new(),
            progress: HashMap::new(),
            outbound: HashMap::new(),
            next_outbound: 1,
            client_progress: HashMap::new(),
            seq: 0,
            work: FuturesUnordered::new(),
            owed_locally: 0,
            deferred: vec![],
            startup_deadline: None,
            log_level: None,
            subscriptions: HashSet::new(),
            tasks: HashMap::new(),
            batch: None,
            cache: services.cache,
            client_capabilities: String::new(),
            pending_initialize: None,
        }
    }

    /// Shows each server's cached lists (those a client with these capabilities was shown)
    /// until its own arrive.
    fn load_cache(&mut self, capabilities: &str) {
        let Some(cache) = &self.cache else {
            return;
        };
        let mut cached = cache.load(&self.config.servers, capabilities);
        for slot in self.slots.iter_mut().filter(|s| s.handle.is_some()) {
            if slot.state == ServerState::Starting
                && let Some(catalog) = cached.remove(&slot.config.name)
            {
                slot.catalog = catalog;
                slot.cached = true;
                if slot.config.start == StartMode::Lazy {
                    slot.state = ServerState::Idle;
                }
            }
        }
        self.rebuild();
    }

    /// Starts the lazy servers whose lists are not known: they must run once to tell them.
    fn start_unknown_lazy_servers(&self) {
        for slot in &self.slots {
            if slot.config.start == StartMode::Lazy
                && slot.state == ServerState::Starting
                && let Some(handle) = &slot.handle
            {
                handle.start();
            }
        }
    }

    /// Runs until the client's input ends; then stops every upstream and waits for them.
    /// Runs until the client's input ends (then finishes what it owes the client, for up to
    /// [`DRAIN_GRACE`]) or `shutdown` completes (then at once); then stops every upstream.
    pub async fn run<S>(
        mut self,
        mut input: S,
        mut events: mpsc::UnboundedReceiver<Event>,
        mut control: mpsc::UnboundedReceiver<Control>,
        shutdown: impl Future<Output = ()>,
    ) where
        S: futures_util::Stream<Item = std::io::Result<Frame>> + Unpin,
    {
        tokio::pin!(shutdown);
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
            tokio::select! {
                frame = input.next(), if drain_until.is_none() => match frame {
                    Some(Ok(frame)) => self.on_frame(frame),
                    Some(Err(e)) => {
                        tracing::error!("reading from the client failed: {e}");
                        break;
                    }
                    None => drain_until = Some(Instant::now() + DRAIN_GRACE),
                },
                Some(event) = events.recv() => self.on_event(event),
                Some(done) = self.work.next(), if !self.work.is_empty() => self.on_done(done),
                Some(control) = control.recv() => match control {
                    Control::Status(reply) => { let _ = reply.send(self.status()); }
                    Control::ToolOwners(reply) => {
                        let owners = self.merged.tools.iter().map(|(name, t)| (name.to_owned(), self.slots[t.server].config.name.clone())).collect();
                        let _ = reply.send(owners);
                    }
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
                _ = ticker.tick(), if !self.inflight.is_empty() => self.expire(),
                _ = &mut shutdown => break,
            }
        }
        tracing::debug!("stopping upstreams");
        let tasks: Vec<_> = self
            .slots
            .iter_mut()
            .filter_map(|s| {
                s.handle = None;
                s.task.take()
            })
            .collect();
        drop(self);
        for task in tasks {
            let _ = task.await;
        }
    }

    /// Nothing the client asked for is still unanswered.
    fn owes_nothing(&self) -> bool {
        self.inflight.is_empty()
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

    fn respond(&mut self, id: RequestId, outcome: Outcome) {
        let line = Message::Response(Response {
            id: id.clone(),
            outcome,
        })
        .to_line();
        self.answer(line, Some(&id));
    }

    fn reject(&mut self, id: Option<RequestId>, error: ErrorObject) {
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
        if self.version != Some("2025-03-26") {
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
        if self.inflight.contains_key(&request.id) {
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
        match request.method.as_str() {
            "initialize" => return self.initialize(request),
            "ping" => return self.respond(request.id, Ok(protocol::raw(&json!({})))),
            _ if self.version.is_none() => {
                return self.reject(
                    Some(request.id),
                    ErrorObject::new(
                        code::INVALID_REQUEST,
                        format!("Invalid request: `{}` before `initialize`", request.method),
                    ),
                );
            }
            _ => {}
        }
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
            "tasks/get" | "tasks/result" | "tasks/cancel" => self.route_task(request),
            "tasks/list" => self.list_tasks(request),
            _ => Err((
                request.id,
                ErrorObject::new(
                    code::METHOD_NOT_FOUND,
                    format!("Method not found: {method}"),
                ),
            )),
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
        self.client_capabilities = params.capabilities.get().to_owned();
        self.load_cache(params.capabilities.get());
        self.start_unknown_lazy_servers();
        let _ = self.hello.send(Some(Arc::new(ClientHello {
            capabilities: params.capabilities,
            client_info: params.client_info,
        })));
        tracing::debug!(version, "client initialized");
        // A proxy answers as its server, so it waits (up to startup_timeout) to know it.
        if self.config.gateway.passthrough
            && self
                .slots
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

    fn initialize_result(&self, version: &'static str) -> Box<RawValue> {
        if self.config.gateway.passthrough
            && let Some(info) = self.slots.first().and_then(|s| s.info.as_ref())
        {
            let mut result = json!({
                "protocolVersion": version,
                "capabilities": info.capabilities,
                "serverInfo": info.server_info,
            });
            if let Some(instructions) = &info.instructions {
                result["instructions"] = json!(instructions);
            }
            return protocol::raw(&result);
        }
        let servers: Vec<String> = self
            .slots
            .iter()
            .filter(|s| s.config.enabled)
            .map(|s| format!("`{}`", s.config.name))
            .collect();
        let instructions = if servers.is_empty() {
            "mcpgw has no MCP servers configured yet (see `mcpgw list`).".to_owned()
        } else {
            format!(
                "mcpgw gathers the MCP servers {}. Each tool and prompt name starts with its server's name and `{}`.",
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
        if version >= "2025-11-25" {
            // Task-augmented tool calls are relayed, and tasks/* routed by task id; each tool
            // says in `execution.taskSupport` whether its server takes them.
            capabilities["tasks"] =
                json!({ "list": {}, "cancel": {}, "requests": { "tools": { "call": {} } } });
        }
        protocol::raw(&json!({
            "protocolVersion": version,
            "capabilities": capabilities,
            "serverInfo": { "name": "mcpgw", "title": "mcpgw MCP gateway", "version": env!("CARGO_PKG_VERSION") },
            "instructions": instructions,
        }))
    }

    fn on_client_notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "notifications/initialized" => {
                self.client_ready = true;
                let kinds = std::mem::take(&mut self.unannounced);
                self.announce(kinds);
            }
            "notifications/cancelled" => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Params {
                    request_id: RequestId,
                    #[serde(default)]
                    reason: Option<String>,
                }
                let Ok(p) = parse_params::<Params>(n.params.as_deref()) else {
                    return tracing::debug!("ignored a malformed cancellation");
                };
                if let Some(flight) = self.inflight.remove(&p.request_id) {
                    self.forget_progress(&flight);
                    if let Some(handle) = &self.slots[flight.server].handle {
                        handle.cancel(
                            flight.upstream_id,
                            p.reason.as_deref().unwrap_or("cancelled by the client"),
                        );
                    }
                }
            }
            "notifications/roots/list_changed" => {
                for slot in self.slots.iter().filter(|s| s.ready()) {
                    if let Some(h) = &slot.handle {
                        h.notify(&n.method, n.params.clone());
                    }
                }
            }
            "notifications/progress" => {
                // Progress on a server→client request (a long sampling, say) goes to its server.
                let server = progress_token(n.params.as_deref())
                    .and_then(|t| self.client_progress.get(&t))
                    .map(|(s, _)| *s);
                if let Some(handle) = server.and_then(|s| self.slots[s].handle.as_ref()) {
                    handle.notify(&n.method, n.params);
                }
            }
            other => tracing::debug!("ignored notification `{other}` from the client"),
        }
    }

    fn on_client_response(&mut self, r: Response) {
        let key = match &r.id {
            RequestId::Number(n) => n.as_u64(),
            RequestId::String(_) => None,
        };
        let Some((server, upstream_id)) = key.and_then(|k| self.outbound.remove(&k)) else {
            return tracing::debug!(id = %r.id, "ignored an answer to no request of ours");
        };
        self.client_progress
            .retain(|_, (_, ours)| Some(*ours) != key);
        if let Some(handle) = &self.slots[server].handle {
            handle.respond(upstream_id, r.outcome);
        }
    }

    // ---- lists --------------------------------------------------------------------------

    /// Some upstream's lists are not known yet (neither fetched nor cached).
    fn still_starting(&self) -> bool {
        self.slots
            .iter()
            .any(|s| (s.state == ServerState::Starting || s.fetching > 0) && !s.cached)
    }

    /// Whether a request for `server` should wait for it to finish starting.
    fn waits_for(&self, server: usize) -> bool {
        self.slots[server].state == ServerState::Starting
            && self.startup_deadline.is_some_and(|d| d > Instant::now())
    }

    /// Whether requests should wait for upstreams that are still starting.
    fn startup_pending(&self) -> bool {
        self.startup_deadline.is_some_and(|d| d > Instant::now()) && self.still_starting()
    }

    /// Holds a request whose target may not have started yet; it is handled again once every
    /// upstream is ready or failed, or at `startup_timeout`.
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
        self.listed.insert(kind);
        let outcome = self.list_page(kind, request.params.as_deref());
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
        let items = self.merged.list(kind);
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
        let mut result = serde_json::Map::new();
        result.insert(
            kind.field().into(),
            Value::Array(items[start..end].to_vec()),
        );
        if end < items.len() {
            result.insert("nextCursor".into(), Value::String(format!("mcpgw:{end}")));
        }
        Ok(protocol::raw(&result))
    }

    // ---- routing --------------------------------------------------------------------------

    fn call_tool(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        let (server, params) = match rename_param(request.params.as_deref(), "name", |n| {
            self.merged
                .tools
                .resolve(n)
                .map(|t| (t.server, t.name.clone()))
        }) {
            Ok(x) => x,
            Err(Renamed::Missing(e)) => return Err((request.id, e)),
            Err(Renamed::Unknown(_)) if self.startup_pending() => return self.defer(request),
            Err(Renamed::Unknown(name)) => {
                let owner = self.slot_by_prefix(&name);
                // Its server's lists were shown from the cache, which may lack this tool (the
                // cache bug: a list made for a client without roots); its own lists decide.
                if owner.is_some_and(|i| self.awaits_own_lists(i)) {
                    return self.defer(request);
                }
                if let Some(slot) = owner.map(|i| &self.slots[i]).filter(|s| !s.ready()) {
                    let text = format!(
                        "mcpgw: server `{}` is not available ({}), so `{name}` cannot run",
                        slot.config.name,
                        slot.state_reason()
                    );
                    self.respond(request.id, Ok(tool_error(&text)));
                    return Ok(());
                }
                return Err((
                    request.id,
                    ErrorObject::new(code::INVALID_PARAMS, format!("Unknown tool: {name}")),
                ));
            }
        };
        if self.waits_for(server) {
            return self.defer(request);
        }
        self.forward(request.id, server, "tools/call", Some(params), Answer::Tool);
        Ok(())
    }

    fn get_prompt(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        match rename_param(request.params.as_deref(), "name", |n| {
            self.merged
                .prompts
                .resolve(n)
                .map(|t| (t.server, t.name.clone()))
        }) {
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
                ErrorObject::new(code::INVALID_PARAMS, format!("Unknown prompt: {name}")),
            )),
        }
    }

    fn server_names(&self) -> Vec<&str> {
        self.slots.iter().map(|s| s.config.name.as_str()).collect()
    }

    fn route_resource(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        let names: Vec<String> = self.server_names().into_iter().map(str::to_owned).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let routed = rename_param(request.params.as_deref(), "uri", |uri| {
            self.merged
                .route_resource(uri, &names)
                .map(|r| (r.server, r.uri))
                .or_else(|| {
                    // A URI nobody listed (from a tool result, say): the one server with resources.
                    let mut with = self.slots.iter().enumerate().filter(|(_, s)| {
                        s.ready() && s.info.as_ref().is_some_and(|i| i.has("resources"))
                    });
                    match (with.next(), with.next()) {
                        (Some((i, _)), None) => Some((i, uri.to_owned())),
                        _ => None,
                    }
                })
        });
        match routed {
            Ok((server, _)) if self.waits_for(server) => self.defer(request),
            Ok((server, params)) => {
                let uri = param_str(&params, "uri").unwrap_or_default();
                match request.method.as_str() {
                    "resources/subscribe" => {
                        self.subscriptions.insert((server, uri));
                    }
                    "resources/unsubscribe" => {
                        self.subscriptions.remove(&(server, uri));
                    }
                    _ => {}
                }
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
            Err(Renamed::Unknown(uri)) => Err((
                request.id,
                ErrorObject::new(
                    code::RESOURCE_NOT_FOUND,
                    format!("Resource not found: {uri}"),
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
        let names = self.server_names();
        let target = match reference.get("type").and_then(Value::as_str) {
            Some("ref/prompt") => {
                let name = reference
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let found = self
                    .merged
                    .prompts
                    .resolve(name)
                    .map(|t| (t.server, "name", t.name.clone()));
                found.ok_or_else(|| {
                    ErrorObject::new(code::INVALID_PARAMS, format!("Unknown prompt: {name}"))
                })
            }
            Some("ref/resource") => {
                let uri = reference
                    .get("uri")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let found = self
                    .merged
                    .route_template(uri, &names)
                    .map(|r| (r.server, "uri", r.uri));
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
        for server in 0..self.slots.len() {
            self.report_down(server);
        }
        let calls: Vec<_> = self
            .slots
            .iter()
            .filter(|s| s.ready() && s.info.as_ref().is_some_and(|i| i.has("logging")))
            .filter_map(|s| {
                Some((
                    s.config.name.clone(),
                    s.handle
                        .as_ref()?
                        .request("logging/setLevel", request.params.clone()),
                ))
            })
            .collect();
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
        let slot = &self.slots[server];
        let ServerState::Failed { reason, retry_in } = &slot.state else {
            return;
        };
        if wants_errors {
            let data = format!(
                "server `{}` is unavailable: {reason} (trying again in {})",
                slot.config.name,
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

    fn route_task(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        let task = request
            .params
            .as_deref()
            .and_then(|p| param_str(p, "taskId"));
        match task.and_then(|t| self.tasks.get(&t).copied()) {
            Some(server) => {
                self.forward(
                    request.id,
                    server,
                    &request.method.clone(),
                    request.params,
                    Answer::Relay,
                );
                Ok(())
            }
            None => Err((
                request.id,
                ErrorObject::new(code::INVALID_PARAMS, "Invalid params: unknown taskId"),
            )),
        }
    }

    fn list_tasks(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        let calls: Vec<_> = self
            .slots
            .iter()
            .filter(|s| s.ready() && s.info.as_ref().is_some_and(|i| i.has("tasks")))
            .filter_map(|s| s.handle.as_ref().map(|h| h.request("tasks/list", None)))
            .collect();
        self.answer_later(request.id, async move {
            let mut tasks = vec![];
            for call in calls {
                if let Ok(Ok(Ok(result))) = call.reply.await
                    && let Ok(Value::Object(mut r)) = serde_json::from_str(result.get())
                    && let Some(Value::Array(list)) = r.remove("tasks")
                {
                    tasks.extend(list);
                }
            }
            Ok(protocol::raw(&json!({ "tasks": tasks })))
        });
        Ok(())
    }

    /// The server an exposed name belongs to, judged by its prefix (a proxy's one server
    /// owns every name).
    /// The server whose prefix `exposed` has.
    fn slot_by_prefix(&self, exposed: &str) -> Option<usize> {
        if self.config.gateway.passthrough {
            return (!self.slots.is_empty()).then_some(0);
        }
        let sep = &self.config.gateway.separator;
        self.slots.iter().position(|s| {
            exposed
                .strip_prefix(s.config.name.as_str())
                .is_some_and(|r| r.starts_with(sep.as_str()))
        })
    }

    /// Whether `server` is shown from the cache while its own lists are still to come (within
    /// the start-up wait).
    fn awaits_own_lists(&self, server: usize) -> bool {
        let slot = &self.slots[server];
        slot.cached
            && (slot.state == ServerState::Starting || slot.fetching > 0)
            && self.startup_deadline.is_some_and(|d| d > Instant::now())
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
        let slot = &self.slots[server];
        // An idle server is started by the request, which its actor holds until it is ready.
        let Some(handle) = slot.handle.clone().filter(|_| slot.listed()) else {
            let reason = format!(
                "server `{}` is not available ({})",
                slot.config.name,
                slot.state_reason()
            );
            let outcome = match answer {
                Answer::Tool => Ok(tool_error(&format!("mcpgw: {reason}"))),
                Answer::Relay => Err(ErrorObject::new(code::UPSTREAM_UNAVAILABLE, reason)),
            };
            return self.respond(id, outcome);
        };
        let token = params.as_deref().and_then(|p| progress_token(Some(p)));
        if let Some(token) = &token {
            self.progress.insert(token.clone(), id.clone());
        }
        let timeout = slot.config.request_timeout;
        let started = Instant::now();
        let limit = started + self.config.gateway.max_timeout;
        let call = handle.request(method, params);
        self.seq += 1;
        let seq = self.seq;
        self.inflight.insert(
            id.clone(),
            InFlight {
                seq,
                server,
                upstream_id: call.id,
                progress: token,
                answer,
                started,
                deadline: (started + timeout).min(limit),
                limit,
                timeout,
            },
        );
        self.work.push(
            async move {
                let reply = await_reply(call, &handle).await;
                Done::Reply {
                    seq,
                    id,
                    server,
                    answer,
                    reply,
                }
            }
            .boxed(),
        );
    }

    /// Answers, and cancels upstream, every request whose deadline has passed.
    fn expire(&mut self) {
        let now = Instant::now();
        let expired: Vec<RequestId> = self
            .inflight
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            let flight = self.inflight.remove(&id).expect("listed above");
            self.forget_progress(&flight);
            if let Some(handle) = &self.slots[flight.server].handle {
                handle.cancel(flight.upstream_id, "timed out in mcpgw");
            }
            let failure = Failure::Timeout(now - flight.started);
            let outcome = failure.outcome(flight.answer, &self.slots[flight.server].config.name);
            self.respond(id, outcome);
        }
    }

    fn forget_progress(&mut self, flight: &InFlight) {
        if let Some(token) = &flight.progress {
            self.progress.remove(token);
        }
    }

    fn on_done(&mut self, done: Done) {
        match done {
            Done::Local { id, outcome } => {
                self.owed_locally -= 1;
                self.respond(id, outcome);
            }
            Done::Reply {
                seq,
                id,
                server,
                answer,
                reply,
            } => {
                if self.inflight.get(&id).is_none_or(|f| f.seq != seq) {
                    return; // cancelled by the client: it expects no answer
                }
                let flight = self.inflight.remove(&id).expect("checked above");
                self.forget_progress(&flight);
                let name = &self.slots[server].config.name;
                let outcome = match (reply, answer) {
                    (Ok(outcome), _) => {
                        if answer == Answer::Tool
                            && let Ok(result) = &outcome
                            && let Some(task) = created_task(result)
                        {
                            self.tasks.insert(task, server);
                        }
                        outcome
                    }
                    (Err(failure), answer) => failure.outcome(answer, name),
                };
                self.respond(id, outcome);
            }
            Done::List {
                server,
                generation,
                kind,
                items,
            } => {
                let slot = &mut self.slots[server];
                tracing::debug!(server = %slot.config.name, "listed {}: {}", kind.field(), items.as_ref().map_or_else(|e| e.clone(), |i| format!("{} item(s)", i.len())));
                if slot.generation != generation || slot.state != ServerState::Ready {
                    return;
                }
                match items {
                    Ok(items) => slot.catalog.set(kind, items),
                    Err(e) => {
                        tracing::warn!(server = %slot.config.name, "cannot list {}: {e}", kind.field())
                    }
                }
                slot.fetching = slot.fetching.saturating_sub(1);
                if slot.fetching == 0 {
                    self.fetched_all(server);
                }
                self.rebuild();
                self.answer_deferred();
            }
        }
    }

    // ---- events from upstreams ----------------------------------------------------------

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Ready {
                server,
                generation,
                info,
            } => {
                let slot = &mut self.slots[server];
                let restarted = slot.generation > 0;
                slot.generation = generation;
                slot.state = ServerState::Ready;
                slot.info = Some(info.clone());
                // A cached catalog stays on show until the server's own lists replace it.
                if !slot.cached {
                    slot.catalog = Catalog::default();
                }
                for kind in Kind::ALL {
                    if info.has(kind.capability()) {
                        self.fetch(server, kind);
                    } else {
                        self.slots[server].catalog.set(kind, vec![]);
                    }
                }
                if self.slots[server].fetching == 0 {
                    self.fetched_all(server);
                }
                let slot = &self.slots[server];
                let handle = slot.handle.clone().expect("a ready server has a handle");
                if let Some(level) = &self.log_level
                    && info.has("logging")
                {
                    drop(handle.request("logging/setLevel", Some(level.clone())));
                }
                self.finish_initialize();
                if restarted {
                    for (_, uri) in self.subscriptions.iter().filter(|(s, _)| *s == server) {
                        drop(handle.request(
                            "resources/subscribe",
                            Some(protocol::raw(&json!({ "uri": uri }))),
                        ));
                    }
                }
                self.answer_deferred();
            }
            Event::Down {
                server,
                reason,
                retry_in,
            } => {
                // Requests it sent the client (sampling, elicitation…) will never be wanted now.
                let orphans: Vec<u64> = self
                    .outbound
                    .iter()
                    .filter(|(_, (s, _))| *s == server)
                    .map(|(ours, _)| *ours)
                    .collect();
                for ours in orphans {
                    self.outbound.remove(&ours);
                    let reason = format!("server `{}` stopped", self.slots[server].config.name);
                    self.notify_client(
                        "notifications/cancelled",
                        Some(protocol::raw(
                            &json!({ "requestId": ours, "reason": reason }),
                        )),
                    );
                }
                self.client_progress.retain(|_, (s, _)| *s != server);
                let slot = &mut self.slots[server];
                let news = !matches!(&slot.state, ServerState::Failed { reason: before, .. } if *before == reason);
                slot.state = ServerState::Failed { reason, retry_in };
                if news {
                    self.report_down(server);
                }
                let slot = &mut self.slots[server];
                slot.info = None;
                slot.fetching = 0;
                slot.cached = false;
                slot.catalog = Catalog::default();
                self.rebuild();
                self.finish_initialize();
                self.answer_deferred();
            }
            Event::Idle { server } => {
                // Its lists stay on show, as if cached; its next request starts it, and its
                // own lists then replace them.
                let slot = &mut self.slots[server];
                slot.state = ServerState::Idle;
                slot.info = None;
                slot.fetching = 0;
                slot.cached = true;
                self.rebuild();
                self.answer_deferred();
            }
            Event::Notification {
                server,
                notification,
            } => self.on_upstream_notification(server, notification),
            Event::Request { server, request } => self.on_upstream_request(server, request),
        }
    }

    /// The server's own lists are all in: the cached ones are no longer shown, and the cache
    /// learns the new ones for the next start.
    fn fetched_all(&mut self, server: usize) {
        let slot = &mut self.slots[server];
        slot.cached = false;
        if let Some(cache) = self.cache.clone() {
            let (config, catalog) = (slot.config.clone(), slot.catalog.clone());
            let capabilities = self.client_capabilities.clone();
            tokio::task::spawn_blocking(move || cache.store(&config, &capabilities, &catalog));
        }
    }

    fn fetch(&mut self, server: usize, kind: Kind) {
        let slot = &mut self.slots[server];
        let Some(handle) = slot.handle.clone() else {
            return;
        };
        slot.fetching += 1;
        let generation = slot.generation;
        let timeout = slot.config.request_timeout;
        self.work.push(
            async move {
                let items = catalog::fetch(handle, kind, timeout).await;
                Done::List {
                    server,
                    generation,
                    kind,
                    items,
                }
            }
            .boxed(),
        );
    }

    /// Rebuilds the client's view and announces the lists that changed.
    fn rebuild(&mut self) {
        let servers: Vec<_> = self
            .slots
            .iter()
            .map(|s| (&s.config, (s.ready() || s.cached).then_some(&s.catalog)))
            .collect();
        let merged = Merged::build(&servers, &self.config.gateway);
        catalog::log_new_collisions(&self.merged.collisions, &merged.collisions);
        let changed: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|&k| merged.list(k) != self.merged.list(k) && self.listed.contains(&k))
            .collect();
        self.merged = merged;
        if self.client_ready {
            self.announce(changed);
        } else {
            self.unannounced.extend(changed);
        }
    }

    /// Tells the client these lists changed, once per notification method (resources and
    /// templates share one), and forgets that it has seen them.
    fn announce(&mut self, kinds: impl IntoIterator<Item = Kind>) {
        let mut methods = HashSet::new();
        for kind in kinds {
            methods.insert(kind.list_changed());
        }
        for method in methods {
            self.listed.retain(|k| k.list_changed() != method);
            self.notify_client(method, None);
        }
    }

    fn on_upstream_notification(&mut self, server: usize, n: Notification) {
        match n.method.as_str() {
            "notifications/tools/list_changed" => return self.fetch(server, Kind::Tools),
            "notifications/prompts/list_changed" => return self.fetch(server, Kind::Prompts),
            "notifications/resources/list_changed" => {
                self.fetch(server, Kind::Resources);
                return self.fetch(server, Kind::Templates);
            }
            "notifications/progress" => {
                if let Some(flight) = progress_token(n.params.as_deref())
                    .and_then(|t| self.progress.get(&t))
                    .and_then(|id| self.inflight.get_mut(id))
                {
                    flight.deadline = (Instant::now() + flight.timeout).min(flight.limit);
                }
            }
            "notifications/cancelled" => {
                // The server gave up on a request it sent the client: translate its id.
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Params {
                    request_id: RequestId,
                    #[serde(default)]
                    reason: Option<String>,
                }
                let Ok(p) = parse_params::<Params>(n.params.as_deref()) else {
                    return;
                };
                let ours = self
                    .outbound
                    .iter()
                    .find(|(_, (s, id))| *s == server && *id == p.request_id)
                    .map(|(k, _)| *k);
                if let Some(ours) = ours {
                    self.outbound.remove(&ours);
                    let params = json!({ "requestId": ours, "reason": p.reason });
                    self.notify_client(&n.method, Some(protocol::raw(&params)));
                }
                return;
            }
            "notifications/tasks/status" => {
                if let Some(task) = n.params.as_deref().and_then(|p| param_str(p, "taskId")) {
                    self.tasks.insert(task, server);
                }
            }
            _ => {}
        }
        if self.version.is_some() {
            self.send(&Message::Notification(n));
        }
    }

    fn on_upstream_request(&mut self, server: usize, request: Request) {
        let Some(handle) = self.slots[server].handle.clone() else {
            return;
        };
        if self.version.is_none() {
            let error = ErrorObject::new(code::INTERNAL_ERROR, "the client has not connected yet");
            return handle.respond(request.id, Err(error));
        }
        let ours = self.next_outbound;
        self.next_outbound += 1;
        self.outbound.insert(ours, (server, request.id));
        if let Some(token) = progress_token(request.params.as_deref()) {
            self.client_progress.insert(token, (server, ours));
        }
        self.send(&Message::Request(Request {
            id: ours.into(),
            method: request.method,
            params: request.params,
        }));
    }

    fn status(&self) -> Vec<ServerStatus> {
        self.slots
            .iter()
            .map(|s| ServerStatus {
                name: s.config.name.clone(),
                transport: s
                    .info
                    .as_ref()
                    .map_or(s.config.transport.kind(), |i| i.transport),
                target: s.config.transport.target(),
                state: s.state.clone(),
                server_info: s.info.as_ref().map(|i| i.server_info.clone()),
                protocol_version: s.info.as_ref().map(|i| i.protocol_version.clone()),
                tools: s.listed().then(|| {
                    s.catalog
                        .get(Kind::Tools)
                        .iter()
                        .filter(|t| {
                            t.get("name")
                                .and_then(Value::as_str)
                                .is_some_and(|n| s.config.tools.allows(n))
                        })
                        .count()
                }),
                prompts: s.listed().then(|| s.catalog.get(Kind::Prompts).len()),
                resources: s.listed().then(|| s.catalog.get(Kind::Resources).len()),
                key: None,
                oauth: None,
            })
            .collect()
    }
}

impl Slot {
    fn state_reason(&self) -> String {
        match &self.state {
            ServerState::Failed { reason, .. } => reason.clone(),
            ServerState::Starting => "it is still starting".into(),
            ServerState::Disabled => "it is disabled in the config".into(),
            ServerState::Ready => "it is ready".into(),
            ServerState::Idle => "it is stopped until used".into(),
        }
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

fn parse_params<T: serde::de::DeserializeOwned>(
    params: Option<&RawValue>,
) -> Result<T, ErrorObject> {
    let text = params.map_or("{}", RawValue::get);
    serde_json::from_str(text)
        .map_err(|e| ErrorObject::new(code::INVALID_PARAMS, format!("Invalid params: {e}")))
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

fn param_str(params: &RawValue, key: &str) -> Option<String> {
    let map: std::collections::HashMap<String, Box<RawValue>> =
        serde_json::from_str(params.get()).ok()?;
    serde_json::from_str(map.get(key)?.get()).ok()
}

/// `_meta.progressToken` of some params, as JSON text (tokens may be strings or numbers).
fn progress_token(params: Option<&RawValue>) -> Option<String> {
    #[derive(Deserialize)]
    struct Meta<'a> {
        #[serde(borrow, rename = "progressToken")]
        token: Option<&'a RawValue>,
    }
    #[derive(Deserialize)]
    struct P<'a> {
        #[serde(borrow, rename = "_meta")]
        meta: Option<Meta<'a>>,
        #[serde(borrow, rename = "progressToken")]
        token: Option<&'a RawValue>,
    }
    let p: P = serde_json::from_str(params?.get()).ok()?;
    p.meta
        .and_then(|m| m.token)
        .or(p.token)
        .map(|t| t.get().to_owned())
}

/// The task id when a `tools/call` result is a `CreateTaskResult`.
fn created_task(result: &RawValue) -> Option<String> {
    if !result.get().contains("\"taskId\"") {
        return None;
    }
    let v: Value = serde_json::from_str(result.get()).ok()?;
    v.get("task")?.get("taskId")?.as_str().map(str::to_owned)
}
