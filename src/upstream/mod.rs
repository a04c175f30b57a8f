//! Upstream MCP servers, each owned by one actor task.
//!
//! An actor owns its child process, its table of pending requests and its restart loop; the
//! gateway talks to it only through an [`UpstreamHandle`] (commands in) and [`Event`]s (out).
//! Request ids towards an upstream are the gateway's own counter, so ids from the client can
//! never collide across upstreams. When the child dies every pending request is answered with
//! an error naming the server, and the actor starts it again with exponential backoff.
//!
//! The upstream handshake waits for the client's `initialize`: its capabilities (sampling,
//! elicitation, roots) are passed on, because servers only offer the tools that use them to
//! clients that declared them. The child process itself is spawned right away, so its start-up
//! overlaps with the client's, unless the server is lazy (`start = "lazy"`): then it waits for
//! its first request, or for the gateway's [`UpstreamHandle::start`] when its lists are not
//! known yet. A stdio server with `idle_stop` is stopped once unused for that long and started
//! again by its next request, which waits for it (the actor holds it).

mod http;
mod life;
mod modern;

pub use http::client as http_client;
pub use life::{Cause, DownReason};
pub use modern::{HeaderParams, header_params, param_headers};
mod peer;
mod stdio;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::{GatewaySettings, SECRET, ServerConfig, Transport, TransportKind};
use crate::protocol::{Notification, Outcome, Request, RequestId, Version};
use crate::secrets::{Kind, Secret, SecretStore};

/// What the client said in `initialize`, handed to every upstream's handshake.
#[derive(Debug)]
pub struct ClientHello {
    pub capabilities: Box<RawValue>,
    pub client_info: Option<Box<RawValue>>,
}

/// What an upstream said in its `initialize` answer.
#[derive(Debug)]
pub struct ServerInfo {
    /// The transport in use.
    pub transport: TransportKind,
    pub protocol_version: Version,
    pub capabilities: serde_json::Value,
    pub server_info: serde_json::Value,
    pub instructions: Option<String>,
}

impl ServerInfo {
    /// Whether the server declared a capability (`tools`, `resources`, `logging`, …).
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities
            .get(capability)
            .is_some_and(|c| !c.is_null())
    }
}

/// Why a request to an upstream got no answer from it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("server `{server}` is not running: {reason}")]
    Unavailable { server: Arc<str>, reason: String },
    #[error("server `{server}` stopped before answering: {reason}")]
    Died { server: Arc<str>, reason: String },
    #[error("server `{server}` failed: {reason}")]
    Failed { server: Arc<str>, reason: String },
    #[error("server `{server}` answered with a message of {len} bytes, over the limit of {max}")]
    TooLarge {
        server: Arc<str>,
        len: usize,
        max: usize,
    },
}

pub type Reply = Result<Outcome, CallError>;

enum Command {
    Request {
        id: u64,
        method: String,
        params: Option<Box<RawValue>>,
        reply: oneshot::Sender<Reply>,
        /// The session it came from (0: the hub): a request the server sends while it runs
        /// may be meant for that session's client.
        origin: u64,
        /// Whom that session's client is (the HTTP face's key), for `forward_identity`.
        principal: Option<Arc<crate::principal::Principal>>,
    },
    Notify(Notification),
    Respond {
        id: RequestId,
        outcome: Outcome,
    },
    Cancel {
        id: u64,
        reason: String,
    },
    /// Start a server that waits to be used (`start = "lazy"`), without a request.
    Start,
}

/// What an upstream actor tells the gateway.
#[derive(Debug)]
pub enum Event {
    /// The handshake finished; `generation` counts the server's starts.
    Ready {
        server: usize,
        generation: u64,
        info: Arc<ServerInfo>,
    },
    /// The server is not available; it is started again after `retry_in`.
    Down {
        server: usize,
        reason: DownReason,
        retry_in: Duration,
    },
    /// The server was stopped for being unused (`idle_stop`); its next request starts it.
    Idle { server: usize },
    /// `origins`, only for `notifications/tasks/status`: as for [`Event::Request`].
    Notification {
        server: usize,
        notification: Notification,
        origins: Vec<u64>,
    },
    /// A server→client request (sampling, elicitation, roots, …) to relay to a client;
    /// `origins`: the sessions whose requests may have caused it (see `Peer::origins`).
    Request {
        server: usize,
        request: Request,
        origins: Vec<u64>,
    },
}

/// The gateway's end of an upstream actor. Dropping every handle shuts the actor down: the
/// child's stdin is closed, then the process group is terminated.
#[derive(Clone)]
pub struct UpstreamHandle {
    pub name: Arc<str>,
    commands: mpsc::UnboundedSender<Command>,
    next_id: Arc<AtomicU64>,
    in_flight: Arc<AtomicUsize>,
    /// Set when an earlier run of mcpgw found the server of the handshake era (the catalog
    /// cache remembers): it then shakes hands without a `server/discover` probe.
    known_legacy: Arc<std::sync::atomic::AtomicBool>,
}

/// A request on its way: `id` is the upstream's id (for cancellation), `reply` its answer.
pub struct PendingCall {
    pub id: u64,
    pub reply: oneshot::Receiver<Reply>,
}

impl UpstreamHandle {
    /// An earlier run found the server of the handshake era: no probe at its next start.
    pub fn known_legacy(&self) {
        self.known_legacy.store(true, Ordering::Relaxed);
    }

    /// A request of the gateway's own (lists, log levels, …).
    pub fn request(&self, method: &str, params: Option<Box<RawValue>>) -> PendingCall {
        self.request_for(0, method, params)
    }

    /// A request on behalf of session `origin`.
    pub fn request_for(
        &self,
        origin: u64,
        method: &str,
        params: Option<Box<RawValue>>,
    ) -> PendingCall {
        self.request_as(origin, None, method, params)
    }

    /// A request on behalf of session `origin`, whose client is `principal`: a server with
    /// `forward_identity` is told who that is.
    pub fn request_as(
        &self,
        origin: u64,
        principal: Option<Arc<crate::principal::Principal>>,
        method: &str,
        params: Option<Box<RawValue>>,
    ) -> PendingCall {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, rx) = oneshot::channel();
        let command = Command::Request {
            id,
            method: method.to_owned(),
            params,
            reply,
            origin,
            principal,
        };
        if let Err(mpsc::error::SendError(Command::Request { reply, .. })) =
            self.commands.send(command)
        {
            let _ = reply.send(Err(CallError::Unavailable {
                server: self.name.clone(),
                reason: "the gateway is shutting down".into(),
            }));
        }
        PendingCall { id, reply: rx }
    }

    pub fn notify(&self, method: &str, params: Option<Box<RawValue>>) {
        let _ = self.commands.send(Command::Notify(Notification {
            method: method.to_owned(),
            params,
        }));
    }

    /// Answers a request the server sent (its own id).
    pub fn respond(&self, id: RequestId, outcome: Outcome) {
        let _ = self.commands.send(Command::Respond { id, outcome });
    }

    /// Requests sent to the server (by anyone) that it has not answered yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Starts a server that waits to be used (`start = "lazy"`); a request starts it too.
    pub fn start(&self) {
        let _ = self.commands.send(Command::Start);
    }

    /// Gives up on a request: its reply is dropped and the server is told to stop.
    pub fn cancel(&self, id: u64, reason: &str) {
        let _ = self.commands.send(Command::Cancel {
            id,
            reason: reason.to_owned(),
        });
    }
}

/// Where a server's `{secret}` comes from; `None` when no store could be opened.
pub type Secrets = Option<Arc<dyn SecretStore>>;

/// Replaces `{secret}` in `values` with the server's API key. Blocking: call it from the
/// blocking pool. The error says which command stores the key.
fn fill_secret<'a>(
    server: &str,
    secrets: &Secrets,
    values: impl IntoIterator<Item = &'a mut String>,
) -> Result<Option<Secret>, String> {
    let mut values: Vec<&mut String> = values.into_iter().filter(|v| v.contains(SECRET)).collect();
    if values.is_empty() {
        return Ok(None);
    }
    let store = secrets.as_ref().ok_or_else(|| format!("it needs an API key, but no secret store could be opened (see `mcpgw list`); then run `mcpgw add-key {server}`"))?;
    let key = store
        .get(server, Kind::ApiKey)
        .map_err(|e| format!("it needs an API key, but {e}"))?
        .ok_or_else(|| format!("it needs an API key: run `mcpgw add-key {server}`"))?;
    for value in values.iter_mut() {
        **value = value.replace(SECRET, key.expose());
    }
    crate::logging::remember_secret(&key);
    Ok(Some(key))
}

/// Starts the actor for `config`; `index` identifies it in [`Event`]s.
pub fn spawn(
    index: usize,
    config: &ServerConfig,
    settings: &GatewaySettings,
    hello: watch::Receiver<Option<Arc<ClientHello>>>,
    events: mpsc::UnboundedSender<Event>,
    secrets: Secrets,
    prompt: Option<crate::auth::Prompt>,
) -> (UpstreamHandle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = UpstreamHandle {
        name: config.name.as_str().into(),
        commands: tx,
        next_id: Arc::new(AtomicU64::new(1)),
        in_flight: Arc::default(),
        known_legacy: Arc::default(),
    };
    let peer = peer::Peer::new(
        index,
        handle.name.clone(),
        settings.max_message_bytes,
        events,
        handle.in_flight.clone(),
    );
    let life = life::Life::new(
        peer,
        rx,
        hello,
        handle.next_id.clone(),
        life::Settings {
            handshake_timeout: config.handshake_timeout,
            lazy: config.start == crate::config::StartMode::Lazy,
            era: config.era,
        },
        handle.known_legacy.clone(),
    );
    match &config.transport {
        Transport::Stdio(stdio) => {
            let actor = stdio::StdioActor {
                config: stdio.clone(),
                secrets,
                idle_stop: config.idle_stop,
                subscriptions: Default::default(),
                running: None,
            };
            (handle, tokio::spawn(life.run(actor)))
        }
        Transport::Http(http) => {
            let task = match http::HttpActor::new((**http).clone(), secrets, prompt) {
                Ok(actor) => tokio::spawn(life.run(actor)),
                Err(reason) => tokio::spawn(life.refuse_forever(reason)),
            };
            (handle, task)
        }
    }
}

/// Delay before restart number `attempt` (0-based): 0.5 s doubling to 30 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_to_a_ceiling() {
        let ms: Vec<_> = (0..9).map(|a| super::backoff(a).as_millis()).collect();
        assert_eq!(
            ms,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
    }
}
