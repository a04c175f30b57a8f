//! The hub: the upstreams and everything about them that sessions share.
//!
//! One hub runs per process. It owns one actor per configured server (start, handshake,
//! restart, lazy start, idle stop happen there), each server's lists, the merged catalog and
//! its names, the catalog cache, resource-subscription counts, and which session a server's
//! request to a client goes to. Any number of sessions (one per client connection) share it.
//!
//! Sessions talk to the hub through a [`HubHandle`]; the hub talks back through one channel
//! per session ([`ToSession`]). A session never waits for the hub on a request's way: the hub
//! hands every session a [`View`] snapshot (server handles, states, the merged catalog)
//! whenever it changes, and the session routes by it and sends straight to the server's actor.
//! The hub never calls into a session.
//!
//! Decisions the design left open:
//! - Upstreams are initialized with the union of the capabilities of the sessions that have
//!   said hello so far (with one client: exactly its own). A session that arrives later with
//!   more capabilities changes what servers are given from their next start on.
//! - A server's request to a client (sampling, elicitation, roots) goes to the session whose
//!   request caused it: the one named by its related task, else the one that owns the request
//!   whose stream carried it (HTTP), else the only session with requests in flight at that
//!   server, else the most recently active session that declared the capability. With none,
//!   the server gets a JSON-RPC error.

mod cache;
mod catalog;
mod names;
mod relay;
mod reload;
mod router;
mod state;
mod stats;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt, future::BoxFuture};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot, watch};

pub use cache::CatalogCache;
pub use catalog::{CacheHint, Exposed, Kind, Merged, text as item_text};
pub use names::{NameTable, Target};
pub use relay::{capability_for, declares, progress_session, related_task};
pub use router::{ServerView, View};
pub use state::{Credential, ServerState, ServerStatus};
pub use stats::{Report, Stats, Summary};

use catalog::Catalog;

use crate::config::{Config, ServerConfig, StartMode};
use crate::protocol::{self, ErrorObject, Notification, Outcome, Request, code};
use crate::upstream::{self, ClientHello, Event, ServerInfo, UpstreamHandle};

/// A session's number in its hub; `0` is the hub itself.
pub type SessionId = u64;

/// Requests from inside the process (the `list` and `tools` commands) that are not MCP.
pub enum Control {
    Status(oneshot::Sender<Vec<ServerStatus>>),
    /// Take the servers of a new config: added ones start, removed ones stop, changed ones
    /// start again, the rest are left alone.
    Reload(Arc<Config>, oneshot::Sender<Reloaded>),
    /// Which server each exposed tool name belongs to.
    ToolOwners(oneshot::Sender<HashMap<String, String>>),
}

/// What a reload changed, by server name.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct Reloaded {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub restarted: Vec<String>,
    pub unchanged: usize,
}

/// What a hub uses besides its config.
#[derive(Default, Clone)]
pub struct Services {
    /// Where catalogs are remembered between runs.
    pub cache: Option<CatalogCache>,
    /// Where `{secret}` and OAuth tokens come from.
    pub secrets: crate::upstream::Secrets,
    /// How a server that wants a login may ask for it; `None`: it answers "run `mcpgw login`".
    pub prompt: Option<crate::auth::Prompt>,
}

/// What the hub tells a session.
#[derive(Debug)]
pub enum ToSession {
    /// The servers changed; `changed` names the merged lists that differ from the last view.
    View { view: Arc<View>, changed: Vec<Kind> },
    /// A server finished its handshake (its lists are being fetched).
    Ready(usize),
    /// A server stopped or failed to start; `news` when the reason differs from the last one.
    Down { server: usize, news: bool },
    /// A notification of a server, for this session's client.
    Notification {
        server: usize,
        notification: Notification,
    },
    /// A server's request for this session's client.
    Request { server: usize, request: Request },
}

impl std::fmt::Debug for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("View")
            .field("servers", &self.servers.len())
            .finish_non_exhaustive()
    }
}

/// A session's `resources/subscribe` (or `unsubscribe`), routed to its server.
struct Subscription {
    session: SessionId,
    server: usize,
    uri: String,
    params: Box<RawValue>,
    subscribe: bool,
    reply: oneshot::Sender<Outcome>,
}

enum Command {
    Connect {
        id: SessionId,
        events: mpsc::UnboundedSender<ToSession>,
        activity: Arc<AtomicU64>,
    },
    Hello {
        session: SessionId,
        capabilities: Box<RawValue>,
        client_info: Option<Box<RawValue>>,
    },
    Subscribe(Subscription),
    Task {
        session: SessionId,
        task: String,
    },
    /// The session's client is this principal (a key of the HTTP face).
    Principal {
        session: SessionId,
        principal: Arc<crate::principal::Principal>,
    },
    Leave(SessionId),
}

/// A session's way to the hub. Cheap to clone; the hub stops its servers once every handle
/// is gone.
#[derive(Clone)]
pub struct HubHandle {
    commands: mpsc::UnboundedSender<Command>,
    next_session: Arc<AtomicU64>,
    /// Each session notes when its client last sent something, counted from here: the hub
    /// compares them to find the most recently active session.
    epoch: std::time::Instant,
    /// What sessions' requests to servers came to.
    pub stats: Arc<Stats>,
    /// The latest view, for faces that check a request before it reaches a session.
    views: watch::Receiver<Arc<View>>,
}

/// A session's membership of a hub.
pub struct Membership {
    pub id: SessionId,
    /// The hub's messages; the first is always a [`ToSession::View`].
    pub events: mpsc::UnboundedReceiver<ToSession>,
    activity: Arc<AtomicU64>,
    epoch: std::time::Instant,
}

impl Membership {
    /// Marks the session as active now (its client sent something).
    pub fn touch(&self) {
        let now = self.epoch.elapsed().as_micros() as u64;
        self.activity.store(now, Ordering::Relaxed);
    }
}

impl HubHandle {
    /// The servers and their lists as they are now.
    pub fn view(&self) -> Arc<View> {
        self.views.borrow().clone()
    }

    /// Joins a new session to the hub.
    pub fn connect(&self) -> Membership {
        let id = self.next_session.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        let activity = Arc::new(AtomicU64::new(0));
        let _ = self.commands.send(Command::Connect {
            id,
            events: tx,
            activity: activity.clone(),
        });
        Membership {
            id,
            events: rx,
            activity,
            epoch: self.epoch,
        }
    }

    /// The session's client initialized with these capabilities.
    pub fn hello(
        &self,
        session: SessionId,
        capabilities: Box<RawValue>,
        client_info: Option<Box<RawValue>>,
    ) {
        let _ = self.commands.send(Command::Hello {
            session,
            capabilities,
            client_info,
        });
    }

    /// Subscribes the session to a resource of `server` (`subscribe`), or ends that; the
    /// server hears of it when the first session subscribes and when the last one leaves.
    pub fn subscription(
        &self,
        session: SessionId,
        server: usize,
        uri: String,
        params: Box<RawValue>,
        subscribe: bool,
    ) -> oneshot::Receiver<Outcome> {
        let (reply, rx) = oneshot::channel();
        let _ = self.commands.send(Command::Subscribe(Subscription {
            session,
            server,
            uri,
            params,
            subscribe,
            reply,
        }));
        rx
    }

    /// The session's client created a task: the server's requests about it go there.
    pub fn task(&self, session: SessionId, task: String) {
        let _ = self.commands.send(Command::Task { session, task });
    }

    /// The session's client is `principal`: servers' requests reach it only about what it
    /// may see, and never another principal's.
    pub fn principal(&self, session: SessionId, principal: Arc<crate::principal::Principal>) {
        let _ = self
            .commands
            .send(Command::Principal { session, principal });
    }

    /// The session ended: its subscriptions end with it.
    pub fn leave(&self, session: SessionId) {
        let _ = self.commands.send(Command::Leave(session));
    }
}

struct Slot {
    config: Arc<ServerConfig>,
    handle: Option<UpstreamHandle>,
    task: Option<tokio::task::JoinHandle<()>>,
    state: ServerState,
    info: Option<Arc<ServerInfo>>,
    generation: u64,
    catalog: Arc<Catalog>,
    /// Lists still being fetched after the server became ready.
    fetching: usize,
    /// `catalog` is the cached one from an earlier run, shown until the server's own arrive.
    cached: bool,
    /// Gone from the config (a reload): its number is never used again.
    removed: bool,
}

impl Slot {
    /// Server `index` of `config`, its actor started when it is enabled.
    fn start(
        index: usize,
        config: &ServerConfig,
        settings: &crate::config::GatewaySettings,
        hello: &watch::Sender<Option<Arc<ClientHello>>>,
        events: &mpsc::UnboundedSender<Event>,
        services: &Services,
    ) -> Slot {
        let (handle, task, state) = if config.enabled {
            let (handle, task) = upstream::spawn(
                index,
                config,
                settings,
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
            config: Arc::new(config.clone()),
            handle,
            task,
            state,
            info: None,
            generation: 0,
            catalog: Arc::default(),
            fetching: 0,
            cached: false,
            removed: false,
        }
    }

    fn ready(&self) -> bool {
        self.state == ServerState::Ready
    }

    fn listed(&self) -> bool {
        self.ready() || self.state == ServerState::Idle
    }
}

struct Member {
    events: mpsc::UnboundedSender<ToSession>,
    activity: Arc<AtomicU64>,
    /// Whom its client is, when the HTTP face knows.
    principal: Option<Arc<crate::principal::Principal>>,
    /// What its client declared in `initialize`, once it has.
    capabilities: Option<Box<RawValue>>,
}

impl Member {
    fn declared(&self, capability: &str) -> bool {
        declares(self.capabilities.as_deref(), capability)
    }
}

/// A list of a server, fetched.
struct Fetched {
    server: usize,
    generation: u64,
    kind: Kind,
    items: Result<(Vec<catalog::Item>, Option<CacheHint>), String>,
}

struct Hub {
    config: Arc<Config>,
    /// Every view published, for [`HubHandle::view`].
    views: watch::Sender<Arc<View>>,
    /// What servers added by a reload are started with.
    services: Services,
    events: mpsc::UnboundedSender<Event>,
    /// Actors of removed servers, stopping.
    retired: Vec<tokio::task::JoinHandle<()>>,
    /// During a reload: the subscriptions of servers being restarted, by name.
    carried: Vec<(String, Vec<Subscribers>)>,
    slots: Vec<Slot>,
    view: Arc<View>,
    hello: watch::Sender<Option<Arc<ClientHello>>>,
    /// The capabilities upstreams are given (JSON text): the cache keeps entries per kind.
    capabilities: Option<String>,
    members: HashMap<SessionId, Member>,
    /// Resource subscriptions: the sessions subscribed to each server's URI.
    subscriptions: HashMap<(usize, String), BTreeSet<SessionId>>,
    /// Tasks and the session that created them.
    tasks: HashMap<String, SessionId>,
    cache: Option<CatalogCache>,
    /// The cache file, read on the blocking pool as the hub starts.
    cached: Cached,
    /// The first hello, held while the cache file is being read.
    held_hello: Option<Arc<ClientHello>>,
    fetches: FuturesUnordered<BoxFuture<'static, Fetched>>,
    /// Subscriptions and their ends on their way to a server.
    subscribing: FuturesUnordered<BoxFuture<'static, Subscribed>>,
}

/// A resource URI and the sessions subscribed to it.
type Subscribers = (String, BTreeSet<SessionId>);

/// A server's answer to a session's `resources/subscribe` or `unsubscribe`.
struct Subscribed {
    session: SessionId,
    key: (usize, String),
    subscribe: bool,
    outcome: Outcome,
    reply: oneshot::Sender<Outcome>,
}

/// Where the cache file's reading stands.
enum Cached {
    Reading(tokio::task::JoinHandle<Option<cache::Snapshot>>),
    /// Read; the first client's hello picks its entries from it.
    Read(Option<cache::Snapshot>),
    /// Used, or never wanted.
    Done,
}

/// Starts the hub and every enabled server's actor (which waits for the first client's
/// hello before its handshake). It runs until every [`HubHandle`] is dropped, then stops the
/// servers and waits for them.
pub fn spawn(
    config: Arc<Config>,
    services: Services,
    control: mpsc::UnboundedReceiver<Control>,
) -> (HubHandle, tokio::task::JoinHandle<()>) {
    let (commands, commands_rx) = mpsc::unbounded_channel();
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let (hello, _) = watch::channel(None);
    let slots = config
        .servers
        .iter()
        .enumerate()
        .map(|(index, server)| {
            Slot::start(
                index,
                server,
                &config.gateway,
                &hello,
                &events_tx,
                &services,
            )
        })
        .collect();
    let cached = match services.cache.clone() {
        Some(cache) => {
            let servers = config.servers.clone();
            Cached::Reading(tokio::task::spawn_blocking(move || cache.read(&servers)))
        }
        None => Cached::Done,
    };
    let (views, views_rx) = watch::channel(Arc::<View>::default());
    let mut hub = Hub {
        views,
        config,
        slots,
        view: Arc::default(),
        hello,
        capabilities: None,
        members: HashMap::new(),
        subscriptions: HashMap::new(),
        tasks: HashMap::new(),
        cached,
        held_hello: None,
        cache: services.cache.clone(),
        services,
        events: events_tx,
        retired: vec![],
        carried: vec![],
        fetches: FuturesUnordered::new(),
        subscribing: FuturesUnordered::new(),
    };
    hub.view = Arc::new(hub.build_view(Arc::new(hub.merge())));
    hub.views.send_replace(hub.view.clone());
    let handle = HubHandle {
        commands,
        next_session: Arc::new(AtomicU64::new(1)),
        epoch: std::time::Instant::now(),
        stats: Arc::default(),
        views: views_rx,
    };
    let task = tokio::spawn(hub.run(commands_rx, events_rx, control));
    (handle, task)
}

impl Hub {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut events: mpsc::UnboundedReceiver<Event>,
        mut control: mpsc::UnboundedReceiver<Control>,
    ) {
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                Some(event) = events.recv() => self.on_event(event),
                Some(fetched) = self.fetches.next(), if !self.fetches.is_empty() => self.on_fetched(fetched),
                Some(done) = self.subscribing.next(), if !self.subscribing.is_empty() => self.subscribed(done),
                read = reading(&mut self.cached) => {
                    self.cached = Cached::Read(read);
                    if let Some(capabilities) = self.capabilities.clone() {
                        self.load_cache(&capabilities);
                        self.start_unknown_lazy_servers();
                    }
                    if let Some(hello) = self.held_hello.take() {
                        let _ = self.hello.send(Some(hello));
                    }
                }
                Some(control) = control.recv() => match control {
                    Control::Status(reply) => { let _ = reply.send(self.status()); }
                    Control::Reload(config, reply) => { let _ = reply.send(self.reload(config)); }
                    Control::ToolOwners(reply) => {
                        let owners = self.view.merged.tools.iter().map(|(name, t)| (name.to_owned(), self.slots[t.server].config.name.clone())).collect();
                        let _ = reply.send(owners);
                    }
                },
            }
        }
        tracing::debug!("stopping upstreams");
        self.view = Arc::default();
        let mut tasks: Vec<_> = self
            .slots
            .iter_mut()
            .filter_map(|s| {
                s.handle = None;
                s.task.take()
            })
            .collect();
        tasks.append(&mut self.retired);
        drop(self);
        for task in tasks {
            let _ = task.await;
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Connect {
                id,
                events,
                activity,
            } => {
                let _ = events.send(ToSession::View {
                    view: self.view.clone(),
                    changed: vec![],
                });
                self.members.insert(
                    id,
                    Member {
                        events,
                        activity,
                        principal: None,
                        capabilities: None,
                    },
                );
            }
            Command::Hello {
                session,
                capabilities,
                client_info,
            } => self.hello(session, capabilities, client_info),
            Command::Subscribe(asked) => self.subscription(asked),
            Command::Task { session, task } => {
                self.tasks.insert(task, session);
            }
            Command::Principal { session, principal } => {
                if let Some(member) = self.members.get_mut(&session) {
                    member.principal = Some(principal);
                }
            }
            Command::Leave(session) => self.leave(session),
        }
    }

    /// A session's client initialized: the first one lets the servers start their handshakes.
    fn hello(
        &mut self,
        session: SessionId,
        capabilities: Box<RawValue>,
        client_info: Option<Box<RawValue>>,
    ) {
        if let Some(member) = self.members.get_mut(&session) {
            // A client of 2026-07-28 declares them per request (and the HTTP face's pool
            // holds many such clients): what a session declared only grows, so the servers
            // are not told less and more by turns.
            member.capabilities = Some(match member.capabilities.take() {
                Some(before) if before.get() != capabilities.get() => {
                    let mut merged: Value =
                        serde_json::from_str(before.get()).unwrap_or(Value::Null);
                    if let Ok(now) = serde_json::from_str::<Value>(capabilities.get()) {
                        merge_into(&mut merged, now);
                    }
                    protocol::raw(&merged)
                }
                _ => capabilities,
            });
        }
        let union = self.union_of_capabilities();
        let first = self.capabilities.is_none();
        if self.capabilities.as_deref() == Some(union.get()) {
            return;
        }
        self.capabilities = Some(union.get().to_owned());
        if first && !matches!(self.cached, Cached::Reading(_)) {
            // (Else both happen once the cache file is read.)
            self.load_cache(union.get());
            self.start_unknown_lazy_servers();
        } else if !first {
            tracing::debug!(
                "the clients' capabilities grew; servers of the handshake era shake hands again once nothing is in flight"
            );
        }
        let client_info = client_info.or_else(|| {
            self.hello
                .borrow()
                .as_ref()
                .and_then(|h| h.client_info.clone())
        });
        let hello = Arc::new(ClientHello {
            capabilities: union,
            client_info,
        });
        if matches!(self.cached, Cached::Reading(_)) {
            // The servers start once the cache is read (well under a millisecond): it may
            // know a server's era, which spares it the probe.
            self.held_hello = Some(hello);
        } else {
            let _ = self.hello.send(Some(hello));
        }
    }

    /// What every session's client declared, together: one client's exactly as it wrote them.
    fn union_of_capabilities(&self) -> Box<RawValue> {
        let mut declared = self
            .members
            .values()
            .filter_map(|m| m.capabilities.as_deref());
        let (Some(first), None) = (declared.next(), declared.next()) else {
            let mut union = serde_json::Map::new();
            for caps in self
                .members
                .values()
                .filter_map(|m| m.capabilities.as_deref())
            {
                if let Ok(Value::Object(map)) = serde_json::from_str(caps.get()) {
                    for (key, value) in map {
                        merge_into(union.entry(key).or_insert(Value::Null), value);
                    }
                }
            }
            return protocol::raw(&union);
        };
        first.to_owned()
    }

    /// Shows each server's cached lists (those a client with these capabilities was shown)
    /// until its own arrive. Until the file is read, this waits for it.
    fn load_cache(&mut self, capabilities: &str) {
        let Cached::Read(snapshot) = std::mem::replace(&mut self.cached, Cached::Done) else {
            return;
        };
        let Some(mut snapshot) = snapshot else {
            return;
        };
        let mut cached = snapshot.take(&self.config.servers, capabilities);
        for slot in self.slots.iter_mut().filter(|s| s.handle.is_some()) {
            if slot.state == ServerState::Starting
                && let Some(catalog) = cached.remove(&slot.config.name)
            {
                if catalog.legacy
                    && let Some(handle) = &slot.handle
                {
                    tracing::debug!(server = %slot.config.name, "of the handshake era when it last ran: no probe");
                    handle.known_legacy();
                }
                slot.catalog = Arc::new(catalog);
                slot.cached = true;
                if slot.config.start == StartMode::Lazy {
                    slot.state = ServerState::Idle;
                }
            }
        }
        self.publish(true);
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

    fn subscription(&mut self, asked: Subscription) {
        let Subscription {
            session,
            server,
            uri,
            params,
            subscribe,
            reply,
        } = asked;
        let key = (server, uri);
        let tell_server = if subscribe {
            // Servers take a repeated subscription as one, and the session wants its answer.
            // Counted now, so that an unsubscribe right behind it is counted after it; a
            // refused one is taken back.
            self.subscriptions
                .entry(key.clone())
                .or_default()
                .insert(session);
            true
        } else {
            let others = self.subscriptions.get_mut(&key).is_some_and(|set| {
                set.remove(&session);
                !set.is_empty()
            });
            if !others {
                self.subscriptions.remove(&key);
            }
            !others
        };
        if !tell_server {
            let _ = reply.send(Ok(protocol::raw(&json!({}))));
            return;
        }
        let slot = &self.slots[server];
        let Some(handle) = slot.handle.clone().filter(|_| slot.listed()) else {
            let error = ErrorObject::new(
                code::UPSTREAM_UNAVAILABLE,
                format!(
                    "server `{}` is not available ({})",
                    slot.config.name,
                    slot.state.reason()
                ),
            );
            return self.subscribed(Subscribed {
                session,
                key,
                subscribe,
                outcome: Err(error),
                reply,
            });
        };
        let method = if subscribe {
            "resources/subscribe"
        } else {
            "resources/unsubscribe"
        };
        let call = handle.request_for(session, method, Some(params));
        let timeout = slot.config.request_timeout;
        let name = slot.config.name.clone();
        self.subscribing.push(
            async move {
                let outcome = match tokio::time::timeout(timeout, call.reply).await {
                    Ok(Ok(Ok(outcome))) => outcome,
                    Ok(Ok(Err(e))) => {
                        Err(ErrorObject::new(code::UPSTREAM_UNAVAILABLE, e.to_string()))
                    }
                    Ok(Err(_)) => Err(ErrorObject::new(
                        code::UPSTREAM_UNAVAILABLE,
                        format!("server `{name}` stopped before answering"),
                    )),
                    Err(_) => {
                        handle.cancel(call.id, "timed out in mcpgw");
                        Err(ErrorObject::new(
                            code::REQUEST_TIMEOUT,
                            format!("server `{name}` did not answer within {timeout:?}"),
                        ))
                    }
                };
                Subscribed {
                    session,
                    key,
                    subscribe,
                    outcome,
                    reply,
                }
            }
            .boxed(),
        );
    }

    /// A subscription's answer: a refused one no longer counts.
    fn subscribed(&mut self, done: Subscribed) {
        if done.subscribe
            && done.outcome.is_err()
            && let Some(set) = self.subscriptions.get_mut(&done.key)
        {
            set.remove(&done.session);
            if set.is_empty() {
                self.subscriptions.remove(&done.key);
            }
        }
        let _ = done.reply.send(done.outcome);
    }

    fn leave(&mut self, session: SessionId) {
        self.members.remove(&session);
        self.tasks.retain(|_, s| *s != session);
        let mut ended = vec![];
        self.subscriptions.retain(|key, set| {
            set.remove(&session);
            if set.is_empty() {
                ended.push(key.clone());
            }
            !set.is_empty()
        });
        for (server, uri) in ended {
            if let Some(handle) = &self.slots[server].handle
                && self.slots[server].ready()
            {
                drop(handle.request(
                    "resources/unsubscribe",
                    Some(protocol::raw(&json!({ "uri": uri }))),
                ));
            }
        }
        tracing::debug!(session, "session left; {} remain", self.members.len());
    }

    // ---- events from upstreams ----------------------------------------------------------

    fn on_event(&mut self, event: Event) {
        let server = match &event {
            Event::Ready { server, .. }
            | Event::Down { server, .. }
            | Event::Idle { server }
            | Event::Notification { server, .. }
            | Event::Request { server, .. } => *server,
        };
        if self.slots[server].removed {
            return; // its last words, from before the reload
        }
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
                    slot.catalog = Arc::default();
                }
                for kind in Kind::ALL {
                    if info.has(kind.capability()) {
                        self.fetch(server, kind);
                    } else {
                        Arc::make_mut(&mut self.slots[server].catalog).absent(kind);
                    }
                }
                if self.slots[server].fetching == 0 {
                    self.fetched_all(server);
                }
                // Subscriptions it had before a restart (its own, or a reload's), made again;
                // servers take a repeated one as one.
                if restarted || self.subscriptions.keys().any(|(s, _)| *s == server) {
                    let handle = self.slots[server].handle.clone();
                    for (_, uri) in self.subscriptions.keys().filter(|(s, _)| *s == server) {
                        if let Some(handle) = &handle {
                            drop(handle.request(
                                "resources/subscribe",
                                Some(protocol::raw(&json!({ "uri": uri }))),
                            ));
                        }
                    }
                }
                self.publish(false);
                self.tell_all(|| ToSession::Ready(server));
            }
            Event::Down {
                server,
                reason,
                retry_in,
            } => {
                let slot = &mut self.slots[server];
                let news = !matches!(&slot.state, ServerState::Failed { reason: before, .. } if *before == reason);
                slot.state = ServerState::Failed { reason, retry_in };
                slot.info = None;
                slot.fetching = 0;
                slot.cached = false;
                slot.catalog = Arc::default();
                self.publish(true);
                self.tell_all(|| ToSession::Down { server, news });
            }
            Event::Idle { server } => {
                // Its lists stay on show, as if cached; its next request starts it, and its
                // own lists then replace them.
                let slot = &mut self.slots[server];
                slot.state = ServerState::Idle;
                slot.info = None;
                slot.fetching = 0;
                slot.cached = true;
                self.publish(true);
            }
            Event::Notification {
                server,
                notification,
                origins,
            } => self.on_upstream_notification(server, notification, &origins),
            Event::Request {
                server,
                request,
                origins,
            } => self.on_upstream_request(server, request, &origins),
        }
    }

    // ---- lists --------------------------------------------------------------------------

    fn fetch(&mut self, server: usize, kind: Kind) {
        let slot = &mut self.slots[server];
        let Some(handle) = slot.handle.clone() else {
            return;
        };
        slot.fetching += 1;
        let generation = slot.generation;
        let timeout = slot.config.request_timeout;
        self.fetches.push(
            async move {
                let items = catalog::fetch(handle, kind, timeout).await;
                Fetched {
                    server,
                    generation,
                    kind,
                    items,
                }
            }
            .boxed(),
        );
    }

    fn on_fetched(&mut self, fetched: Fetched) {
        let Fetched {
            server,
            generation,
            kind,
            items,
        } = fetched;
        let slot = &mut self.slots[server];
        if slot.removed {
            return;
        }
        tracing::debug!(server = %slot.config.name, "listed {}: {}", kind.field(), items.as_ref().map_or_else(|e| e.clone(), |(i, _)| format!("{} item(s)", i.len())));
        if slot.generation != generation || slot.state != ServerState::Ready {
            return;
        }
        match items {
            Ok((items, hint)) => Arc::make_mut(&mut slot.catalog).set_with(kind, items, hint),
            Err(e) => {
                tracing::warn!(server = %slot.config.name, "cannot list {}: {e}", kind.field())
            }
        }
        slot.fetching = slot.fetching.saturating_sub(1);
        if slot.fetching == 0 {
            self.fetched_all(server);
        }
        self.publish(true);
    }

    /// The server's own lists are all in: the cached ones are no longer shown, and the cache
    /// learns the new ones for the next start.
    fn fetched_all(&mut self, server: usize) {
        let slot = &mut self.slots[server];
        slot.cached = false;
        let legacy = slot
            .info
            .as_ref()
            .is_some_and(|i| !i.protocol_version.is_stateless());
        if slot.catalog.legacy != legacy {
            Arc::make_mut(&mut slot.catalog).legacy = legacy;
        }
        if let (Some(cache), Some(capabilities)) = (self.cache.clone(), self.capabilities.clone()) {
            let (config, catalog) = (slot.config.clone(), slot.catalog.clone());
            tokio::task::spawn_blocking(move || cache.store(&config, &capabilities, &catalog));
        }
    }

    fn merge(&self) -> Merged {
        let servers: Vec<_> = self
            .slots
            .iter()
            .map(|s| (&*s.config, (s.ready() || s.cached).then_some(&*s.catalog)))
            .collect();
        Merged::build(&servers, &self.config.gateway)
    }

    fn build_view(&self, merged: Arc<Merged>) -> View {
        View {
            servers: self
                .slots
                .iter()
                .map(|s| ServerView {
                    config: s.config.clone(),
                    handle: s.handle.clone(),
                    state: s.state.clone(),
                    info: s.info.clone(),
                    catalog: s.catalog.clone(),
                    cached: s.cached,
                    fetching: s.fetching > 0,
                    hidden: s.removed,
                })
                .collect(),
            merged,
            passthrough: self.config.gateway.passthrough,
            separator: self.config.gateway.separator.clone(),
        }
    }

    /// Hands every session a new view; `lists`: the merged lists may have changed.
    fn publish(&mut self, lists: bool) {
        let (merged, changed) = if lists {
            let merged = self.merge();
            catalog::log_new_collisions(&self.view.merged.collisions, &merged.collisions);
            let changed: Vec<Kind> = Kind::ALL
                .into_iter()
                .filter(|&k| merged.list(k) != self.view.merged.list(k))
                .collect();
            (Arc::new(merged), changed)
        } else {
            (self.view.merged.clone(), vec![])
        };
        self.view = Arc::new(self.build_view(merged));
        self.views.send_replace(self.view.clone());
        for member in self.members.values() {
            let _ = member.events.send(ToSession::View {
                view: self.view.clone(),
                changed: changed.clone(),
            });
        }
    }

    fn status(&self) -> Vec<ServerStatus> {
        let mut list: Vec<ServerStatus> = self
            .slots
            .iter()
            .filter(|s| !s.removed)
            .map(|s| ServerStatus {
                name: s.config.name.clone(),
                transport: s
                    .info
                    .as_ref()
                    .map_or(s.config.transport.kind(), |i| i.transport),
                target: s.config.transport.target(),
                state: s.state.clone(),
                server_info: s.info.as_ref().map(|i| i.server_info.clone()),
                protocol_version: s.info.as_ref().map(|i| i.protocol_version),
                tools: s.listed().then(|| {
                    s.catalog
                        .get(Kind::Tools)
                        .iter()
                        .filter(|t| {
                            catalog::text(t, "name").is_some_and(|n| s.config.tools.allows(&n))
                        })
                        .count()
                }),
                prompts: s.listed().then(|| s.catalog.get(Kind::Prompts).len()),
                resources: s.listed().then(|| s.catalog.get(Kind::Resources).len()),
                in_flight: s.handle.as_ref().map_or(0, UpstreamHandle::in_flight),
                key: None,
                oauth: None,
            })
            .collect();
        // Servers a reload added come last among the slots.
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }
}

/// The cache file, once its reading is done (never, when it is not being read).
async fn reading(cached: &mut Cached) -> Option<cache::Snapshot> {
    match cached {
        Cached::Reading(task) => task.await.ok().flatten(),
        _ => std::future::pending().await,
    }
}

/// Adds `value` to `into`: objects member by member, anything else replaces what was there.
fn merge_into(into: &mut Value, value: Value) {
    match (into, value) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                merge_into(into.entry(key).or_insert(Value::Null), value);
            }
        }
        (into, value) => {
            if !value.is_null() || into.is_null() {
                *into = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_of_several_clients_are_united() {
        let mut union = Value::Null;
        for caps in [
            json!({ "roots": { "listChanged": true } }),
            json!({ "sampling": {}, "roots": {} }),
            json!({ "elicitation": { "form": {} } }),
        ] {
            merge_into(&mut union, caps);
        }
        assert_eq!(
            union,
            json!({ "roots": { "listChanged": true }, "sampling": {}, "elicitation": { "form": {} } })
        );
    }
}
