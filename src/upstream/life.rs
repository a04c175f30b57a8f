//! One life for every upstream, whatever carries its messages.
//!
//! A transport ([`Connection`]) only opens a connection, shakes hands and serves it; this
//! module does the rest once: waiting for first use (`start = "lazy"`) and for a client's
//! hello, the `initialize` request and the check of its answer, `notifications/initialized`,
//! turning the session's commands into messages (with cancellation), holding or refusing
//! requests while the server cannot take them, failing what is pending when it stops, and
//! the restart with backoff, told to the hub as [`Event`]s with a typed [`DownReason`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};

use super::modern::{self, Discovered, Stamp, Translated};
use super::peer::Peer;
use super::{ClientHello, Command, Event, Reply, ServerInfo, backoff};
use crate::config::{Era, TransportKind};
use crate::protocol::{self, Message, Notification, Request, Response, Version};

/// What kind of trouble keeps a server from running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Its config cannot work (an unreadable CA file, a header HTTP cannot carry, …).
    Config,
    /// It needs an API key that is not in the secret store.
    KeyMissing,
    /// It needs an OAuth login (or a new one).
    NeedsLogin,
    /// Its command could not be started.
    SpawnFailed,
    /// Its process exited or closed its output.
    Exited,
    /// It did not complete the MCP handshake.
    HandshakeFailed,
    /// It could not be reached over the network.
    Unreachable,
    /// It answered, but not as an MCP server should.
    Refused,
}

/// Why a server is not running: the kind, and the sentence that says it to a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DownReason {
    pub cause: Cause,
    #[serde(rename = "reason")]
    pub message: String,
}

impl DownReason {
    pub fn new(cause: Cause, message: impl Into<String>) -> Self {
        DownReason {
            cause,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for DownReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// How one life of a connection ended.
pub(super) enum End {
    /// The gateway is gone: stop for good.
    Shutdown,
    /// Unused for `idle_stop`: stopped until the next request.
    Idle,
    /// Clients that declare more than this server was initialized with have come (a server
    /// of the handshake era hears capabilities only in `initialize`): it shakes hands again,
    /// now that nothing is in flight, so that it offers them what it offers such clients.
    Regreet,
    Failed(DownReason),
}

impl End {
    pub fn failed(cause: Cause, message: impl Into<String>) -> End {
        End::Failed(DownReason::new(cause, message))
    }
}

/// A transport: how to open, serve and close one connection to a server.
pub(super) trait Connection {
    /// How the log says the next attempt ("restarting", "connecting again").
    const AGAIN: &'static str;

    /// Opens a connection, shakes hands (then calls [`Life::ready`]) and serves it until it
    /// ends. What it opened stays open until [`Connection::close`].
    async fn run_once(&mut self, life: &mut Life, generation: u64) -> End;

    /// Adds what the transport knows about a failure (a child's exit status, its stderr).
    async fn explain(&mut self, reason: DownReason) -> DownReason {
        reason
    }

    /// Closes what the last run opened.
    async fn close(&mut self);
}

/// What a `server/discover` probe found, for the transport to act on.
pub(super) enum Probed {
    Modern(ServerInfo),
    /// Probe once more.
    Again,
    /// Shake hands (`initialize`).
    Handshake,
    Failed(DownReason),
}

/// What every upstream's life needs, whatever its transport.
pub(super) struct Life {
    pub peer: Peer,
    pub commands: mpsc::UnboundedReceiver<Command>,
    pub hello: watch::Receiver<Option<Arc<ClientHello>>>,
    pub next_id: Arc<AtomicU64>,
    pub handshake_timeout: Duration,
    /// `start = "lazy"`: the server is started by its first request (or [`Command::Start`]).
    pub lazy: bool,
    /// `protocol = …`: which era to speak, or to find out.
    pub era: Era,
    /// Set while the server speaks the stateless revision: what its requests carry.
    pub modern: Option<Stamp>,
    /// Messages a command gave rise to besides its own (a stateless server's
    /// `subscriptions/listen` anew): the transport sends them after it.
    pub outbox: Vec<Message>,
    /// `protocol = "auto"`: that the last connection found the handshake era, so the next
    /// one (a restart) shakes hands without a probe; forgotten when a connection fails.
    pub legacy_found: bool,
    /// What the catalog cache remembers of an earlier run: the handshake era.
    known_legacy: Arc<std::sync::atomic::AtomicBool>,
    /// Requests that woke the server or came while it started on their account: sent once
    /// it is ready, failed if it cannot start.
    held: Vec<Command>,
    /// Requests are held while the server starts again for clients that declare more (the
    /// hub still takes it for ready).
    holding: bool,
}

/// The `initialize` request on its way: its id, its answer, and the message to send.
pub(super) struct Initialize {
    pub id: u64,
    pub answer: oneshot::Receiver<Reply>,
    pub message: Message,
}

/// What a server's config says of its life.
pub(super) struct Settings {
    pub handshake_timeout: Duration,
    pub lazy: bool,
    pub era: Era,
}

impl Life {
    pub fn new(
        peer: Peer,
        commands: mpsc::UnboundedReceiver<Command>,
        hello: watch::Receiver<Option<Arc<ClientHello>>>,
        next_id: Arc<AtomicU64>,
        settings: Settings,
        known_legacy: Arc<std::sync::atomic::AtomicBool>,
    ) -> Life {
        Life {
            peer,
            commands,
            hello,
            next_id,
            handshake_timeout: settings.handshake_timeout,
            lazy: settings.lazy,
            era: settings.era,
            modern: None,
            legacy_found: false,
            known_legacy,
            outbox: vec![],
            held: vec![],
            holding: false,
        }
    }

    /// Lives `connection` until the gateway goes away.
    pub async fn run<C: Connection>(mut self, mut connection: C) {
        let mut attempt = 0;
        let mut generation = 0;
        let mut last: Option<DownReason> = None;
        if self.lazy && !self.wait_for_use().await {
            return;
        }
        loop {
            let started = Instant::now();
            generation += 1;
            let end = match connection.run_once(&mut self, generation).await {
                End::Failed(reason) if reason.cause == Cause::HandshakeFailed => {
                    // Perhaps the server changed eras: the next start probes again.
                    self.legacy_found = false;
                    self.known_legacy.store(false, Ordering::Relaxed);
                    End::Failed(connection.explain(reason).await)
                }
                // A child that is dying has usually exited by now, and its last words are on
                // stderr: both make the reason the client and `mcpgw list` see.
                End::Failed(reason) => End::Failed(connection.explain(reason).await),
                end => end,
            };
            let reason = match &end {
                End::Shutdown => "the gateway is shutting down",
                End::Idle => "it was stopped for being unused",
                End::Regreet => "it is started again for clients that declare more",
                End::Failed(r) => r.message.as_str(),
            }
            .to_owned();
            self.fail_held(&reason);
            self.peer.fail_all(&reason);
            connection.close().await;
            let reason = match end {
                End::Shutdown => return,
                End::Idle => {
                    let _ = self.peer.events.send(Event::Idle {
                        server: self.peer.index,
                    });
                    if !self.wait_for_use().await {
                        return;
                    }
                    attempt = 0;
                    continue;
                }
                End::Regreet => {
                    tracing::info!(server = %self.peer.name, "clients that declare more have come: shaking hands again");
                    self.holding = true;
                    attempt = 0;
                    continue;
                }
                End::Failed(reason) => reason,
            };
            if started.elapsed() > Duration::from_secs(60) {
                attempt = 0;
            }
            let retry_in = backoff(attempt);
            attempt += 1;
            // The same failure again (a missing command, say) is only worth a debug line.
            let again = C::AGAIN;
            if last.as_ref() != Some(&reason) {
                tracing::warn!(server = %self.peer.name, "{reason}; {again} in {retry_in:?}");
            } else {
                tracing::debug!(server = %self.peer.name, "{reason}; {again} in {retry_in:?}");
            }
            last = Some(reason.clone());
            let message = reason.message.clone();
            let _ = self.peer.events.send(Event::Down {
                server: self.peer.index,
                reason,
                retry_in,
            });
            if !self.wait_unavailable(retry_in, &message).await {
                return;
            }
        }
    }

    /// Refuses every request for good: the server's config cannot work until it changes.
    pub async fn refuse_forever(mut self, reason: DownReason) {
        tracing::error!(server = %self.peer.name, "{reason}");
        let message = reason.message.clone();
        let _ = self.peer.events.send(Event::Down {
            server: self.peer.index,
            reason,
            retry_in: Duration::from_secs(3600),
        });
        while let Some(command) = self.commands.recv().await {
            let _ = self.refuse(Some(command), &message);
        }
    }

    /// How long the `server/discover` probe waits: the handshake's time when the server must
    /// be of 2026-07-28, else [`modern::PROBE_TIMEOUT`] at most.
    pub fn probe_wait(&self) -> Duration {
        match self.era {
            Era::Modern => self.handshake_timeout,
            _ => modern::PROBE_TIMEOUT.min(self.handshake_timeout),
        }
    }

    /// What the `tries`th probe's answer means, as `protocol` says to take it; a server of
    /// 2026-07-28 has its requests stamped from now on.
    pub fn probed(
        &mut self,
        reply: Option<Reply>,
        transport: TransportKind,
        hello: &ClientHello,
        tries: u32,
    ) -> Probed {
        match modern::discovered(reply, transport) {
            Discovered::Modern(info) => {
                self.modern = Some(Stamp::new(hello));
                Probed::Modern(info)
            }
            Discovered::Again(why) if tries < 2 => {
                tracing::debug!(server = %self.peer.name, "{why}: asking again");
                Probed::Again
            }
            Discovered::Legacy(why) if self.era == Era::Auto => {
                tracing::debug!(server = %self.peer.name, "not of 2026-07-28 ({why}): `initialize`");
                Probed::Handshake
            }
            Discovered::Legacy(why) | Discovered::Again(why) | Discovered::Incompatible(why) => {
                Probed::Failed(DownReason::new(
                    Cause::HandshakeFailed,
                    format!("it does not speak protocol version 2026-07-28: {why}"),
                ))
            }
        }
    }

    /// Whether to probe for the stateless revision before `initialize`.
    pub fn probes(&self) -> bool {
        match self.era {
            Era::Legacy => false,
            Era::Modern => true,
            Era::Auto => !self.legacy_found && !self.known_legacy.load(Ordering::Relaxed),
        }
    }

    /// The handshake is done: the hub hears of it, and the held requests are returned to
    /// be sent first.
    pub fn ready(&mut self, generation: u64, info: ServerInfo) -> Vec<Command> {
        self.legacy_found = !info.protocol_version.is_stateless();
        tracing::info!(
            server = %self.peer.name,
            protocol = %info.protocol_version,
            transport = %info.transport,
            "ready: {}",
            info.server_info.get("name").and_then(|n| n.as_str()).unwrap_or("?")
        );
        let _ = self.peer.events.send(Event::Ready {
            server: self.peer.index,
            generation,
            info: Arc::new(info),
        });
        self.holding = false;
        std::mem::take(&mut self.held)
    }

    /// Waits, with no connection, until the server is wanted: a request (held until it is
    /// ready) or [`Command::Start`]. False when the gateway is gone.
    async fn wait_for_use(&mut self) -> bool {
        loop {
            match self.commands.recv().await {
                None => return false,
                Some(request @ Command::Request { .. }) => {
                    self.held.push(request);
                    return true;
                }
                Some(Command::Start) => return true,
                // Nothing to tell a server that is not running, nor to cancel.
                Some(Command::Notify(_) | Command::Respond { .. } | Command::Cancel { .. }) => {}
            }
        }
    }

    /// The client's hello, once a client has said it; requests meanwhile are handled by
    /// [`Life::refuse`].
    pub async fn wait_for_hello(&mut self) -> Result<Arc<ClientHello>, End> {
        loop {
            if let Some(h) = self.hello.borrow().clone() {
                return Ok(h);
            }
            tokio::select! {
                changed = self.hello.changed() => if changed.is_err() { return Err(End::Shutdown) },
                command = self.commands.recv() => self.refuse(command, "it is still starting")?,
            }
        }
    }

    /// Handles a command while the server cannot take it: a request is held when the server
    /// is starting on a request's account (it woke up), else failed at once. `Err` when the
    /// gateway is gone.
    pub fn refuse(&mut self, command: Option<Command>, reason: &str) -> Result<(), End> {
        match command {
            None => Err(End::Shutdown),
            Some(request @ Command::Request { .. }) if self.holding || !self.held.is_empty() => {
                self.held.push(request);
                Ok(())
            }
            Some(Command::Request { reply, .. }) => {
                let _ = reply.send(Err(self.peer.unavailable(reason)));
                Ok(())
            }
            Some(Command::Cancel { id, .. }) => {
                self.held
                    .retain(|c| !matches!(c, Command::Request { id: held, .. } if *held == id));
                Ok(())
            }
            Some(_) => Ok(()),
        }
    }

    /// Fails the held requests: the start they waited for did not come off.
    pub fn fail_held(&mut self, reason: &str) {
        self.holding = false;
        for command in self.held.drain(..) {
            if let Command::Request { reply, .. } = command {
                let _ = reply.send(Err(self.peer.unavailable(reason)));
            }
        }
    }

    /// Sits out `delay`, failing every request at once. False when the gateway is gone.
    async fn wait_unavailable(&mut self, delay: Duration, reason: &str) -> bool {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return true,
                command = self.commands.recv() => if self.refuse(command, reason).is_err() { return false },
            }
        }
    }

    /// A command of a session, as the message to send the server (if any). Requests wait
    /// for their answers in the peer; a cancelled one that is still waiting is withdrawn and
    /// the server told.
    pub fn message_for(&mut self, command: Command) -> Option<Message> {
        match command {
            Command::Request {
                id,
                method,
                mut params,
                reply,
                origin,
                ..
            } => {
                if let Some(stamp) = &mut self.modern {
                    match modern::translate(stamp, &self.peer.name, &method, params.as_deref()) {
                        Translated::Send(p) => params = Some(p),
                        Translated::Answer(outcome) => {
                            let _ = reply.send(Ok(outcome));
                            return None;
                        }
                        Translated::Relisten => {
                            let _ = reply.send(Ok(Ok(protocol::raw(&serde_json::json!({})))));
                            let again = self.relisten();
                            self.outbox.extend(again);
                            return None;
                        }
                    }
                }
                self.peer
                    .pending
                    .insert(id, super::peer::Waiting { reply, origin });
                Some(Message::Request(Request {
                    id: id.into(),
                    method,
                    params,
                }))
            }
            Command::Notify(n) if self.modern.is_some() && !modern::passes(&n.method) => None,
            Command::Notify(n) => Some(Message::Notification(n)),
            Command::Respond { id, outcome } => Some(Message::Response(Response { id, outcome })),
            Command::Cancel { id, reason } => {
                self.peer.pending.remove(&id)?;
                let params = serde_json::json!({ "requestId": id, "reason": reason });
                Some(Message::Notification(Notification {
                    method: "notifications/cancelled".into(),
                    params: Some(protocol::raw(&params)),
                }))
            }
            Command::Start => None,
        }
    }

    /// For a stateless server: the `subscriptions/listen` through which it announces list
    /// changes (and updates of the resources mcpgw's clients subscribed to).
    pub fn listen(&mut self, info: &ServerInfo) -> Vec<Message> {
        match &mut self.modern {
            Some(stamp) => {
                stamp.announced(info);
                self.relisten()
            }
            None => vec![],
        }
    }

    /// The `subscriptions/listen` again, with what there is to hear now: the one in force is
    /// cancelled first. Its id is not pending: it is answered only when the server ends it,
    /// and it must not keep an idle server running.
    pub fn relisten(&mut self) -> Vec<Message> {
        let Some(stamp) = &mut self.modern else {
            return vec![];
        };
        let mut messages = vec![];
        if let Some(old) = stamp.listening.take() {
            let params = serde_json::json!({ "requestId": old, "reason": "listening anew" });
            messages.push(Message::Notification(Notification {
                method: "notifications/cancelled".into(),
                params: Some(protocol::raw(&params)),
            }));
        }
        if let Some(params) = stamp.listen_params() {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            stamp.listening = Some(id);
            stamp.listen_since = std::time::Instant::now();
            messages.push(Message::Request(Request {
                id: id.into(),
                method: "subscriptions/listen".into(),
                params: Some(params),
            }));
        }
        messages
    }

    /// Whether a server of the handshake era, initialized with `hello`, should shake hands
    /// again: the clients now declare more than it was told (fewer never restarts it), and
    /// nothing is in flight.
    pub fn regreet(&self, hello: &ClientHello) -> bool {
        self.modern.is_none()
            && self.peer.pending.is_empty()
            && self.hello.borrow().as_ref().is_some_and(|now| {
                now.capabilities.get() != hello.capabilities.get()
                    && grew(&hello.capabilities, &now.capabilities)
            })
    }

    /// Whether the server answered the listen in force (it ended it): how long to wait
    /// before listening again ([`Stamp::listen_ended`]).
    pub fn listen_answered(&mut self) -> Option<std::time::Duration> {
        let (id, refused) = self.peer.unmatched_answer.take()?;
        let wait = self.modern.as_mut()?.listen_ended(id, refused)?;
        tracing::debug!(server = %self.peer.name, "the server ended its `subscriptions/listen`; listening again in {wait:?}");
        Some(wait)
    }

    /// The `server/discover` probe with the client's capabilities, its answer awaited.
    pub fn discover(&mut self, hello: &ClientHello) -> Initialize {
        let params = modern::discover_params(&Stamp::new(hello));
        self.request("server/discover", params)
    }

    /// A request of the gateway's own (a handshake or probe), its answer awaited.
    fn request(&mut self, method: &str, params: Box<serde_json::value::RawValue>) -> Initialize {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        self.peer.pending.insert(id, reply.into());
        Initialize {
            id,
            answer,
            message: Message::Request(Request {
                id: id.into(),
                method: method.into(),
                params: Some(params),
            }),
        }
    }

    /// The `initialize` request with the client's capabilities, its answer awaited.
    pub fn initialize(&mut self, hello: &ClientHello) -> Initialize {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Params<'a> {
            protocol_version: &'a str,
            capabilities: &'a serde_json::value::RawValue,
            client_info: &'a serde_json::value::RawValue,
        }
        let own_info = protocol::raw(&serde_json::json!({
            "name": "mcpgw",
            "version": env!("CARGO_PKG_VERSION"),
        }));
        let params = protocol::raw(&Params {
            protocol_version: protocol::LATEST_PROTOCOL_VERSION,
            capabilities: &hello.capabilities,
            client_info: hello.client_info.as_deref().unwrap_or(&own_info),
        });
        self.request("initialize", params)
    }
}

/// `notifications/initialized`, sent once the server's `initialize` answer is in.
pub(super) fn initialized() -> Message {
    Message::Notification(Notification {
        method: "notifications/initialized".into(),
        params: None,
    })
}

/// The server's answer to `initialize`, checked: a protocol version mcpgw speaks, and the
/// shape the spec gives it.
pub(super) fn server_info(reply: Reply, transport: TransportKind) -> Result<ServerInfo, End> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Init {
        protocol_version: String,
        #[serde(default)]
        capabilities: serde_json::Value,
        #[serde(default)]
        server_info: serde_json::Value,
        #[serde(default)]
        instructions: Option<String>,
    }
    let handshake = |m: String| End::failed(Cause::HandshakeFailed, m);
    let result = match reply {
        Ok(Ok(result)) => result,
        Ok(Err(error)) => return Err(handshake(format!("it refused `initialize`: {error}"))),
        Err(e) => return Err(handshake(e.to_string())),
    };
    let init: Init = serde_json::from_str(result.get())
        .map_err(|e| handshake(format!("its `initialize` answer is malformed: {e}")))?;
    let Some(protocol_version) =
        Version::parse(&init.protocol_version).filter(|v| !v.is_stateless())
    else {
        return Err(handshake(format!(
            "it speaks protocol version {}, which mcpgw does not (it speaks {})",
            init.protocol_version,
            Version::list()
        )));
    };
    Ok(ServerInfo {
        transport,
        protocol_version,
        capabilities: init.capabilities,
        server_info: init.server_info,
        instructions: init.instructions,
    })
}

/// Whether `now` declares something `before` did not (a member anywhere in the tree).
fn grew(before: &serde_json::value::RawValue, now: &serde_json::value::RawValue) -> bool {
    fn more(before: &serde_json::Value, now: &serde_json::Value) -> bool {
        match (before, now) {
            (serde_json::Value::Object(b), serde_json::Value::Object(n)) => n
                .iter()
                .any(|(k, v)| b.get(k).is_none_or(|was| more(was, v))),
            _ => false,
        }
    }
    match (
        serde_json::from_str::<serde_json::Value>(before.get()),
        serde_json::from_str::<serde_json::Value>(now.get()),
    ) {
        (Ok(b), Ok(n)) => more(&b, &n),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_grow_only_by_new_members() {
        let caps = |v: serde_json::Value| protocol::raw(&v);
        let none = caps(serde_json::json!({}));
        let elicit = caps(serde_json::json!({ "elicitation": {} }));
        let forms = caps(serde_json::json!({ "elicitation": { "form": {} } }));
        let roots = caps(serde_json::json!({ "roots": { "listChanged": true } }));
        assert!(grew(&none, &elicit));
        assert!(grew(&elicit, &forms));
        assert!(!grew(&forms, &elicit), "fewer is not more");
        assert!(!grew(&elicit, &none));
        assert!(grew(&elicit, &roots), "something else is more");
        assert!(!grew(&elicit, &elicit));
    }

    #[test]
    fn initialize_answers_are_checked() {
        let ok = Ok(Ok(protocol::raw(&serde_json::json!({
            "protocolVersion": "2025-06-18",
            "capabilities": { "tools": {} },
            "serverInfo": { "name": "s", "version": "1" },
        }))));
        let info = server_info(ok, TransportKind::Stdio).unwrap_or_else(|_| panic!("accepted"));
        assert!(info.has("tools") && !info.has("prompts"));
        let reason = |reply| match server_info(reply, TransportKind::Stdio) {
            Err(End::Failed(r)) => r,
            _ => panic!("refused"),
        };
        let old = reason(Ok(Ok(protocol::raw(
            &serde_json::json!({ "protocolVersion": "2023-01-01" }),
        ))));
        assert_eq!(old.cause, Cause::HandshakeFailed);
        assert!(old.message.contains("2023-01-01"), "{old}");
        let refused = reason(Ok(Err(protocol::ErrorObject::new(-32600, "no"))));
        assert!(
            refused.message.starts_with("it refused `initialize`"),
            "{refused}"
        );
        let malformed = reason(Ok(Ok(protocol::raw(&serde_json::json!([1])))));
        assert!(malformed.message.contains("malformed"), "{malformed}");
    }

    #[test]
    fn reasons_say_their_cause_in_json() {
        let r = DownReason::new(Cause::NeedsLogin, "`x` needs a login: run `mcpgw login x`");
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({ "cause": "needs_login", "reason": "`x` needs a login: run `mcpgw login x`" })
        );
        assert_eq!(r.to_string(), r.message);
    }
}
