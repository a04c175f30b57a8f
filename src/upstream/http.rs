//! The actor for a remote server: Streamable HTTP (2025-03-26 onwards), and the legacy
//! HTTP+SSE transport (2024-11-05) for servers that refuse it.
//!
//! Every message to the server is a POST, made by a task of its own so that a slow answer
//! never holds up another. What comes back (a JSON body, or an SSE stream that carries
//! requests and notifications before the answer) is handed to the actor as raw messages and
//! goes through the same [`Peer`] as a child's stdout. A GET stream carries what the server
//! sends unprompted; a 405 means it has none. When the server forgets the session (404, or the
//! reference server's 400 "no valid session"), the actor makes a new one and sends the request
//! again, once. When the server cannot be reached (restarting, say), requests are retried with
//! backoff for a while before they fail, so a restart costs the client only latency.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};
use tokio::sync::mpsc;

use super::life::{self, Cause, Connection, DownReason, End, Life, Probed};
use super::modern;
use super::{CallError, ClientHello, Command, ServerInfo, backoff};
use crate::auth::{OAuth, Problem};
use crate::config::{AuthMode, HttpConfig, HttpMode, TransportKind};
use crate::protocol::{Message, Parsed, Version};

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";
/// How long requests keep being retried while the server cannot be connected to (or the
/// server's `handshake_timeout`, when shorter); then the server counts as down.
const UNREACHABLE_PATIENCE: Duration = Duration::from_secs(15);

pub(super) struct HttpActor {
    config: HttpConfig,
    secrets: super::Secrets,
    link: Link,
    /// What the tasks of the current connection hear from the server.
    inbound: Option<mpsc::UnboundedReceiver<Inbound>>,
    /// The tasks reading the server's own stream (GET, or the legacy SSE stream): stopped when
    /// the connection is replaced or ends, so an old session's stream never lingers.
    listeners: Vec<tokio::task::AbortHandle>,
    /// A stateless server's tools whose parameters are mirrored into headers, from its last
    /// `tools/list`.
    header_params: HashMap<String, modern::HeaderParams>,
    /// A stateless server's `subscriptions/listen` POST, reading its stream.
    listen_task: Option<tokio::task::AbortHandle>,
    /// Requests sent again under a new id (a broken answer stream, 2026-07-28): the id the
    /// session knows → the one in flight, so that cancelling the first cancels the second.
    resent: HashMap<u64, u64>,
}

/// One session with the server: where to POST, and what to say in the headers.
#[derive(Debug, Clone)]
struct Session {
    /// Streamable HTTP: the URL itself; legacy: the endpoint the SSE stream named.
    post_to: Url,
    legacy: bool,
    id: Option<String>,
    version: Version,
}

/// What the actor's tasks tell it. Every task of every session uses one channel.
enum Inbound {
    /// A message from the server, from a body or a stream (empty: one that was too large);
    /// `on`: the request whose POST carried it.
    Message { data: Vec<u8>, on: Option<u64> },
    /// The POST of our request `id` ended without its answer (if the answer came, the actor
    /// already matched it and ignores this).
    Failed { id: u64, failure: PostFailure },
    /// Time to send request `id` again (the server was unreachable).
    Retry { id: u64 },
    /// The POST of `subscriptions/listen` `id` ended (its answer, if any, came before).
    ListenEnded { id: u64 },
    /// Time to listen again.
    Relisten,
    /// The stream of server-initiated messages ended.
    StreamEnded(StreamEnd),
}

#[derive(Debug)]
enum PostFailure {
    /// The server no longer knows the session.
    SessionExpired,
    /// The server could not be reached.
    Unreachable(String),
    /// An answer stream broke off; `resume` is its last event id.
    Cut {
        resume: Option<String>,
        retry: Option<Duration>,
    },
    /// The server answered, but not with MCP.
    Refused(String),
}

#[derive(Debug)]
enum StreamEnd {
    /// The server offers no such stream (405).
    Unsupported,
    Ended {
        resume: Option<String>,
        retry: Option<Duration>,
    },
    Failed(String),
}

/// A request on its way, kept so it can be sent again.
struct Outgoing {
    /// A stateless server's `tools/list`: `Some(true)` for its first page (whose answer
    /// starts the tools' header parameters afresh).
    tools_page: Option<bool>,
    /// The task POSTing it and reading its answer (2026-07-28: closing its stream is how a
    /// request is cancelled).
    task: Option<tokio::task::AbortHandle>,
    line: String,
    /// The headers that name it (stateless revision).
    headers: HeaderMap,
    /// The session it was last sent on: one that failed on a session since replaced is only
    /// sent again, on the new one.
    sent_on: Option<String>,
    resent_after_expiry: bool,
    unreachable_since: Option<tokio::time::Instant>,
    attempts: u32,
    resumes: u32,
}

/// Everything the tasks need to talk to the server, cheap to clone into each.
#[derive(Clone)]
struct Link {
    client: reqwest::Client,
    headers: HeaderMap,
    /// The server's tokens, when it uses OAuth.
    auth: Option<Arc<OAuth>>,
    /// `auth = "oauth"`: every 401 means a login, challenge or not. Otherwise only a 401
    /// with a Bearer challenge does (a bare 401 is the server's own kind of credential).
    oauth_required: bool,
    inbound: mpsc::UnboundedSender<Inbound>,
    max: usize,
}

impl Connection for HttpActor {
    const AGAIN: &'static str = "connecting again";

    async fn run_once(&mut self, life: &mut Life, _generation: u64) -> End {
        let generation = _generation;
        let mut inbound = self.inbound.take().expect("one run at a time");
        // Stragglers from the last connection mean nothing to the next.
        while inbound.try_recv().is_ok() {}
        let end = self.connect_and_serve(life, &mut inbound, generation).await;
        self.inbound = Some(inbound);
        end
    }

    async fn close(&mut self) {
        self.stop_listeners();
    }
}

impl HttpActor {
    async fn connect_and_serve(
        &mut self,
        life: &mut Life,
        inbound: &mut mpsc::UnboundedReceiver<Inbound>,
        generation: u64,
    ) -> End {
        let hello = match life.wait_for_hello().await {
            Ok(hello) => hello,
            Err(end) => return end,
        };
        self.link.max = life.peer.max_message_bytes;
        self.link.headers = match self.headers(life).await {
            Ok(headers) => headers,
            Err(reason) => return End::Failed(reason),
        };
        let link = self.link.clone();
        let (session, info) = match self.connect(life, &link, inbound, &hello).await {
            Ok(connected) => connected,
            Err(end) => return end,
        };
        let listen = life.listen(&info);
        let held = life.ready(generation, info);
        self.listen(&link, &session, listen);
        self.serve(life, &link, inbound, session, &hello, held)
            .await
    }

    /// The actor for a server at `config.url`; `Err` when its config cannot work (an
    /// unreadable CA file, say): nothing will change until the config does.
    pub fn new(
        config: HttpConfig,
        secrets: super::Secrets,
        prompt: Option<crate::auth::Prompt>,
    ) -> Result<HttpActor, DownReason> {
        let client = client(&config).map_err(|m| DownReason::new(Cause::Config, m))?;
        let auth = oauth(&config, &client, &secrets, prompt);
        let (inbound_tx, inbound) = mpsc::unbounded_channel();
        let link = Link {
            client,
            headers: HeaderMap::new(),
            auth,
            oauth_required: config.auth == AuthMode::OAuth,
            inbound: inbound_tx,
            max: 0,
        };
        Ok(HttpActor {
            config,
            secrets,
            link,
            inbound: Some(inbound),
            listeners: vec![],
            header_params: HashMap::new(),
            listen_task: None,
            resent: HashMap::new(),
        })
    }
    fn stop_listeners(&mut self) {
        if let Some(listen) = self.listen_task.take() {
            listen.abort();
        }
        for listener in self.listeners.drain(..) {
            listener.abort();
        }
    }

    /// The configured headers, `{secret}` filled in from the store (read again at every
    /// connection, so a key added meanwhile is used). Values are marked sensitive, which keeps
    /// them out of the HTTP stack's own debug output.
    async fn headers(&mut self, life: &mut Life) -> Result<HeaderMap, DownReason> {
        let config = |m: String| DownReason::new(Cause::Config, m);
        let (name, secrets, mut pairs) = (
            life.peer.name.clone(),
            self.secrets.clone(),
            self.config.headers.clone(),
        );
        let (pairs, secret) = tokio::task::spawn_blocking(move || {
            let secret = super::fill_secret(&name, &secrets, pairs.iter_mut().map(|(_, v)| v))
                .map_err(|m| DownReason::new(Cause::KeyMissing, m))?;
            Ok::<_, DownReason>((pairs, secret))
        })
        .await
        .map_err(|e| config(e.to_string()))??;
        life.peer.secret = secret;
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            let k = HeaderName::try_from(k.as_str())
                .map_err(|e| config(format!("header `{k}`: {e}")))?;
            let mut v = HeaderValue::try_from(v.as_str())
                .map_err(|_| config(format!("header `{k}` has a value that HTTP cannot carry")))?;
            v.set_sensitive(true);
            h.insert(k, v);
        }
        Ok(h)
    }

    /// The handshake, over Streamable HTTP or (when refused, or configured) legacy SSE.
    async fn connect(
        &mut self,
        life: &mut Life,
        link: &Link,
        inbound: &mut mpsc::UnboundedReceiver<Inbound>,
        hello: &ClientHello,
    ) -> Result<(Session, ServerInfo), End> {
        self.stop_listeners();
        self.header_params.clear();
        life.modern = None;
        let mode = self.config.mode;
        if life.probes() && !matches!(mode, HttpMode::SseOnly | HttpMode::SseFirst) {
            match self.connect_modern(life, link, inbound, hello).await {
                Ok(Some(connected)) => return Ok(connected),
                Ok(None) => {}
                Err(reason) => return Err(End::Failed(reason)),
            }
        }
        if mode == HttpMode::SseFirst {
            match self.connect_legacy(life, link, inbound, hello).await {
                Ok(done) => return Ok(done),
                Err(why) => {
                    tracing::info!(server = %life.peer.name, "{why}; trying Streamable HTTP")
                }
            }
        }
        if mode != HttpMode::SseOnly {
            match self.connect_streamable(life, link, inbound, hello).await {
                Ok(done) => return Ok(done),
                Err((true, why)) if mode == HttpMode::HttpFirst => {
                    tracing::info!(server = %life.peer.name, "{why}; trying the HTTP+SSE transport");
                }
                Err((_, why)) => return Err(End::Failed(why)),
            }
        }
        self.connect_legacy(life, link, inbound, hello)
            .await
            .map_err(End::Failed)
    }

    /// Waits for the answer to `initialize` (request `id`), handling whatever else arrives
    /// meanwhile.
    async fn answer(
        &mut self,
        life: &mut Life,
        inbound: &mut mpsc::UnboundedReceiver<Inbound>,
        id: u64,
        answer: tokio::sync::oneshot::Receiver<super::Reply>,
        transport: TransportKind,
    ) -> Result<ServerInfo, DownReason> {
        let handshake = |m: String| DownReason::new(Cause::HandshakeFailed, m);
        let wait = life.handshake_timeout;
        match self
            .reply(life, inbound, id, answer, "initialize", wait)
            .await?
        {
            Some(reply) => life::server_info(reply, transport).map_err(|end| match end {
                End::Failed(reason) => reason,
                _ => handshake("`initialize` got no answer".to_owned()),
            }),
            None => Err(handshake(format!(
                "it did not answer `initialize` within {:?}",
                life.handshake_timeout
            ))),
        }
    }

    /// Waits up to `wait` for the answer to our request `id` (`method`), handling whatever
    /// else arrives meanwhile; `None` when none came in time.
    async fn reply(
        &mut self,
        life: &mut Life,
        inbound: &mut mpsc::UnboundedReceiver<Inbound>,
        id: u64,
        mut answer: tokio::sync::oneshot::Receiver<super::Reply>,
        method: &str,
        wait: Duration,
    ) -> Result<Option<super::Reply>, DownReason> {
        let handshake = |m: String| DownReason::new(Cause::HandshakeFailed, m);
        // Failures and retries of other requests (when a forgotten session is replaced) are
        // handled once the new session is up, not lost.
        let mut later = vec![];
        let outcome = tokio::time::timeout(wait, async {
            loop {
                tokio::select! {
                    r = &mut answer => return r.map_err(|_| handshake(format!("`{method}` got no answer"))),
                    got = inbound.recv() => match got {
                        Some(Inbound::Message { data, on }) => { life.peer.message_on(&data, on); }
                        Some(Inbound::Failed { id: failed, failure }) if failed == id && life.peer.pending.remove(&id).is_some() => {
                            return Err(DownReason::new(failure.cause(), format!("`{method}` failed: {}", describe(&failure))));
                        }
                        Some(other @ (Inbound::Failed { .. } | Inbound::Retry { .. } | Inbound::ListenEnded { .. } | Inbound::Relisten)) => later.push(other),
                        Some(Inbound::StreamEnded(_)) => {}
                        None => return Err(DownReason::new(Cause::Unreachable, "the connection closed")),
                    },
                }
            }
        })
        .await;
        for inbound in later {
            let _ = self.link.inbound.send(inbound);
        }
        match outcome {
            Ok(Ok(reply)) => Ok(Some(reply)),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                life.peer.pending.remove(&id);
                Ok(None)
            }
        }
    }

    /// The stateless revision, when the server speaks it: a `server/discover` POST. `None`
    /// when the server is of the handshake era (its refusal carries no error of the stateless
    /// revision), with `protocol = "auto"`.
    async fn connect_modern(
        &mut self,
        life: &mut Life,
        link: &Link,
        inbound: &mut mpsc::UnboundedReceiver<Inbound>,
        hello: &ClientHello,
    ) -> Result<Option<(Session, ServerInfo)>, DownReason> {
        let wait = life.probe_wait();
        let mut tries = 0;
        loop {
            tries += 1;
            let reply = self.probe(life, link, inbound, hello, wait).await?;
            match life.probed(reply, TransportKind::StreamableHttp, hello, tries) {
                Probed::Modern(info) => {
                    let session = Session {
                        post_to: self.config.url.clone(),
                        legacy: false,
                        id: None,
                        version: Version::STATELESS,
                    };
                    return Ok(Some((session, info)));
                }
                Probed::Again => {}
                Probed::Handshake => return Ok(None),
                Probed::Failed(reason) => return Err(reason),
            }
        }
    }

    /// One `server/discover` POST and its answer (`None`: none in time).
    async fn probe(
        &mut self,
        life: &mut Life,
        link: &Link,
        inbound: &mut mpsc::UnboundedReceiver<Inbound>,
        hello: &ClientHello,
        wait: Duration,
    ) -> Result<Option<super::Reply>, DownReason> {
        let probe = life.discover(hello);
        let (id, line) = (probe.id, probe.message.to_line());
        let response = send(link, || {
            json_post(link, &self.config.url, link.headers.clone(), &line)
                .header(VERSION_HEADER, Version::STATELESS.as_str())
                .header("mcp-method", "server/discover")
                .timeout(wait)
        })
        .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                life.peer.pending.remove(&id);
                return Err(e.reason(&self.config.url));
            }
        };
        let status = response.status();
        if status.is_success() {
            tokio::spawn(read_answer(response, link.clone(), id));
            return self
                .reply(life, inbound, id, probe.answer, "server/discover", wait)
                .await;
        }
        // A server of this revision refuses with one of its JSON-RPC errors; a server of the
        // handshake era with whatever it likes.
        life.peer.pending.remove(&id);
        let body = response.text().await.unwrap_or_default();
        Ok(Some(Ok(match Message::parse(body.as_bytes()) {
            Parsed::Message(Message::Response(r)) => r.outcome,
            _ => Err(crate::protocol::ErrorObject::new(
                0,
                format!("HTTP {status}"),
            )),
        })))
    }

    /// `Err((true, why))` when the server does not speak Streamable HTTP at all.
    async fn connect_streamable(
        &mut self,
        life: &mut Life,
        link: &Link,
        inbound: &mut mpsc::UnboundedReceiver<Inbound>,
        hello: &ClientHello,
    ) -> Result<(Session, ServerInfo), (bool, DownReason)> {
        let init = life.initialize(hello);
        let (id, line) = (init.id, init.message.to_line());
        let response = send(link, || {
            json_post(link, &self.config.url, link.headers.clone(), &line)
                .timeout(life.handshake_timeout)
        })
        .await
        .map_err(|e| {
            life.peer.pending.remove(&id);
            (false, e.reason(&self.config.url))
        })?;
        let status = response.status();
        if matches!(
            status,
            StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        ) {
            life.peer.pending.remove(&id);
            let why = format!("POST {} answered {status}", self.config.url);
            return Err((true, DownReason::new(Cause::Refused, why)));
        }
        if !status.is_success() {
            life.peer.pending.remove(&id);
            let body = response.text().await.unwrap_or_default();
            let why = format!("`initialize` got HTTP {status}: {}", snippet(&body));
            return Err((false, DownReason::new(Cause::Refused, why)));
        }
        let session_id = response
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        tokio::spawn(read_answer(response, link.clone(), id));
        let info = self
            .answer(
                life,
                inbound,
                id,
                init.answer,
                TransportKind::StreamableHttp,
            )
            .await
            .map_err(|e| (false, e))?;
        let session = Session {
            post_to: self.config.url.clone(),
            legacy: false,
            id: session_id,
            version: info.protocol_version,
        };
        post_notification(link, &session, life::initialized().to_line())
            .await
            .map_err(|e| (false, DownReason::new(Cause::HandshakeFailed, e)))?;
        // What the server sends unprompted comes on a GET stream, when it offers one.
        self.listeners
            .push(tokio::spawn(listen(link.clone(), session.clone(), None)).abort_handle());
        Ok((session, info))
    }

    async fn connect_legacy(
        &mut self,
        life: &mut Life,
        link: &Link,
        inbound: &mut mpsc::UnboundedReceiver<Inbound>,
        hello: &ClientHello,
    ) -> Result<(Session, ServerInfo), DownReason> {
        let refused = |m: String| DownReason::new(Cause::Refused, m);
        let response = send(link, || {
            link.client
                .get(self.config.url.clone())
                .headers(link.headers.clone())
                .header(ACCEPT, "text/event-stream")
        })
        .await
        .map_err(|e| e.reason(&self.config.url))?;
        if !response.status().is_success() {
            return Err(refused(format!(
                "GET {} (HTTP+SSE) answered {}",
                self.config.url,
                response.status()
            )));
        }
        let mut events = events_of(response, link.max);
        let endpoint = tokio::time::timeout(life.handshake_timeout, async {
            while let Some(Ok(event)) = events.next().await {
                if event.event.as_deref() == Some("endpoint") {
                    return event.data;
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(|| refused(format!("GET {} sent no `endpoint` event", self.config.url)))?;
        let post_to = self.config.url.join(endpoint.trim()).map_err(|e| {
            refused(format!(
                "the `endpoint` event names a bad URL {endpoint:?}: {e}"
            ))
        })?;
        if post_to.origin() != self.config.url.origin() {
            return Err(refused(format!(
                "the `endpoint` event points at another origin ({post_to}); refusing it"
            )));
        }
        // From now on this one stream carries every message from the server.
        let (to_actor, max) = (link.inbound.clone(), link.max);
        let legacy_stream = tokio::spawn(async move {
            let end = forward_events(events, &to_actor, max, None).await;
            let (resume, retry) = end;
            let _ = to_actor.send(Inbound::StreamEnded(StreamEnd::Ended { resume, retry }));
        });
        self.listeners.push(legacy_stream.abort_handle());
        let init = life.initialize(hello);
        let (id, line) = (init.id, init.message.to_line());
        let session = Session {
            post_to,
            legacy: true,
            id: None,
            version: Version::V2024_11_05,
        };
        tokio::spawn(post(
            link.clone(),
            session.clone(),
            id,
            line,
            HeaderMap::new(),
        ));
        let info = self
            .answer(life, inbound, id, init.answer, TransportKind::Sse)
            .await?;
        let session = Session {
            version: info.protocol_version,
            ..session
        };
        post_notification(link, &session, life::initialized().to_line())
            .await
            .map_err(|e| DownReason::new(Cause::HandshakeFailed, e))?;
        Ok((session, info))
    }

    async fn serve(
        &mut self,
        life: &mut Life,
        link: &Link,
        inbound: &mut mpsc::UnboundedReceiver<Inbound>,
        mut session: Session,
        hello: &ClientHello,
        held: Vec<Command>,
    ) -> End {
        let mut outgoing: HashMap<u64, Outgoing> = HashMap::new();
        let mut stream_open = !session.legacy;
        for command in held {
            self.command(life, link, &session, &mut outgoing, command);
        }
        loop {
            tokio::select! {
                command = life.commands.recv() => match command {
                    None => {
                        close(link, &session).await;
                        return End::Shutdown;
                    }
                    Some(command) => {
                        self.command(life, link, &session, &mut outgoing, command);
                        if life.regreet(hello) {
                            close(link, &session).await;
                            return End::Regreet;
                        }
                    }
                },
                changed = life.hello.changed(), if life.modern.is_none() => {
                    if changed.is_err() {
                        close(link, &session).await;
                        return End::Shutdown;
                    }
                    if life.regreet(hello) {
                        close(link, &session).await;
                        return End::Regreet;
                    }
                }
                got = inbound.recv() => match got.expect("the actor holds a sender") {
                    Inbound::Message { mut data, on } => {
                        if data.is_empty() {
                            life.peer.too_long(b"", life.peer.max_message_bytes + 1);
                        }
                        if let Some(first) = on.and_then(|id| outgoing.get(&id)).and_then(|o| o.tools_page) {
                            self.screen_tools(life, &mut data, first);
                        }
                        for answer in life.peer.message_on(&data, on) {
                            self.fire(life, link, &session, answer);
                        }
                        outgoing.retain(|id, _| life.peer.pending.contains_key(id));
                        if life.regreet(hello) {
                            close(link, &session).await;
                            return End::Regreet;
                        }
                    }
                    Inbound::ListenEnded { id } => {
                        let refused = life.peer.unmatched_answer.take().is_some_and(|(answered, error)| answered == id && error);
                        let wait = life.modern.as_mut().and_then(|m| m.listen_ended(id, refused));
                        if let Some(wait) = wait {
                            tracing::debug!(server = %life.peer.name, "the server ended its `subscriptions/listen`; listening again in {wait:?}");
                            let tx = link.inbound.clone();
                            tokio::spawn(async move {
                                tokio::time::sleep(wait).await;
                                let _ = tx.send(Inbound::Relisten);
                            });
                        }
                    }
                    Inbound::Relisten => {
                        if life.modern.as_ref().is_some_and(|m| m.listening.is_none()) {
                            let again = life.relisten();
                            self.listen(link, &session, again);
                        }
                    }
                    Inbound::Retry { id } => {
                        if let Some(o) = outgoing.get_mut(&id).filter(|_| life.peer.pending.contains_key(&id)) {
                            o.sent_on.clone_from(&session.id);
                            tokio::spawn(post(link.clone(), session.clone(), id, o.line.clone(), o.headers.clone()));
                        }
                    }
                    Inbound::Failed { id, failure } => {
                        if !life.peer.pending.contains_key(&id) {
                            outgoing.remove(&id);
                            continue;
                        }
                        let Some(o) = outgoing.get_mut(&id) else { continue };
                        match failure {
                            PostFailure::SessionExpired if o.sent_on != session.id => {
                                // Sent before the session was replaced: send it on the new one.
                                o.sent_on.clone_from(&session.id);
                                tokio::spawn(post(link.clone(), session.clone(), id, o.line.clone(), o.headers.clone()));
                            }
                            PostFailure::SessionExpired if !o.resent_after_expiry && !session.legacy => {
                                o.resent_after_expiry = true;
                                tracing::info!(server = %life.peer.name, "the server forgot the session; starting a new one");
                                match self.connect(life, link, inbound, hello).await {
                                    Ok((fresh, _)) => session = fresh,
                                    Err(End::Failed(reason)) => return End::failed(reason.cause, format!("its session expired and a new one failed: {reason}")),
                                    Err(end) => return end,
                                }
                                let o = outgoing.get_mut(&id).expect("checked above");
                                o.sent_on.clone_from(&session.id);
                                tokio::spawn(post(link.clone(), session.clone(), id, o.line.clone(), o.headers.clone()));
                            }
                            PostFailure::Unreachable(why) => {
                                let since = *o.unreachable_since.get_or_insert_with(tokio::time::Instant::now);
                                let patience = UNREACHABLE_PATIENCE.min(life.handshake_timeout);
                                if since.elapsed() < patience {
                                    let delay = backoff(o.attempts).min(Duration::from_secs(2));
                                    o.attempts += 1;
                                    tracing::debug!(server = %life.peer.name, "{why}; trying again in {delay:?}");
                                    let tx = link.inbound.clone();
                                    tokio::spawn(async move {
                                        tokio::time::sleep(delay).await;
                                        let _ = tx.send(Inbound::Retry { id });
                                    });
                                } else {
                                    // Gone for good, it seems: like a child that died, its tools
                                    // go, its calls fail, and it is reconnected with backoff.
                                    return End::failed(Cause::Unreachable, format!("it could not be reached for {patience:?}: {why}"));
                                }
                            }
                            PostFailure::Cut { .. } if o.resumes < 3 && session.version.is_stateless() => {
                                // This revision resumes nothing: the request is sent again
                                // under a new id, as the spec says.
                                o.resumes += 1;
                                let fresh = life.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some(mut o) = outgoing.remove(&id) else { continue };
                                let Some(waiting) = life.peer.pending.remove(&id) else { continue };
                                life.peer.pending.insert(fresh, waiting);
                                o.line = with_id(&o.line, fresh);
                                let first = self.resent.iter().find(|(_, now)| **now == id).map_or(id, |(first, _)| *first);
                                self.resent.retain(|_, now| outgoing.contains_key(now));
                                self.resent.insert(first, fresh);
                                tracing::debug!(server = %life.peer.name, "an answer stream broke off; sending request {id} again as {fresh}");
                                o.task = Some(tokio::spawn(post(link.clone(), session.clone(), fresh, o.line.clone(), o.headers.clone())).abort_handle());
                                outgoing.insert(fresh, o);
                            }
                            PostFailure::Cut { resume: Some(resume), retry } if o.resumes < 3 && !session.legacy => {
                                o.resumes += 1;
                                let delay = retry.unwrap_or(Duration::from_millis(500));
                                tracing::debug!(server = %life.peer.name, "an answer stream broke off; resuming after event {resume} in {delay:?}");
                                let (link, session) = (link.clone(), session.clone());
                                tokio::spawn(async move {
                                    tokio::time::sleep(delay).await;
                                    listen(link, session, Some(resume)).await;
                                });
                            }
                            other => self.fail(life, id, &mut outgoing, describe(&other)),
                        }
                    }
                    Inbound::StreamEnded(end) => match end {
                        StreamEnd::Unsupported => stream_open = false,
                        StreamEnd::Failed(why) => {
                            tracing::debug!(server = %life.peer.name, "no stream of server messages: {why}");
                            stream_open = false;
                        }
                        StreamEnd::Ended { resume, retry } if !session.legacy && stream_open => {
                            let delay = retry.unwrap_or(Duration::from_secs(1));
                            let (link, session) = (link.clone(), session.clone());
                            self.listeners.retain(|l| !l.is_finished());
                            self.listeners.push(
                                tokio::spawn(async move {
                                    tokio::time::sleep(delay).await;
                                    listen(link, session, resume).await;
                                })
                                .abort_handle(),
                            );
                        }
                        StreamEnd::Ended { .. } if session.legacy => {
                            return End::failed(Cause::Unreachable, "its event stream closed");
                        }
                        StreamEnd::Ended { .. } => {}
                    },
                },
            }
        }
    }

    /// Sends a session's command: a request is POSTed and kept until answered (to be sent
    /// again when the server was unreachable or forgot the session); anything else is fired.
    fn command(
        &mut self,
        life: &mut Life,
        link: &Link,
        session: &Session,
        outgoing: &mut HashMap<u64, Outgoing>,
        command: Command,
    ) {
        let command = match command {
            Command::Cancel { id, reason } => Command::Cancel {
                id: self.resent.remove(&id).unwrap_or(id),
                reason,
            },
            other => other,
        };
        let mut identity = HeaderMap::new();
        let request = match &command {
            Command::Request { id, principal, .. } => {
                if let Some(p) = principal {
                    identity = identity_headers(&self.config.forward_identity, &p.identity);
                }
                Some(*id)
            }
            Command::Cancel { id, .. } => {
                if let Some(task) = outgoing.remove(id).and_then(|o| o.task)
                    && session.version.is_stateless()
                {
                    task.abort();
                }
                None
            }
            _ => None,
        };
        let message = life.message_for(command);
        let also = std::mem::take(&mut life.outbox);
        self.listen(link, session, also);
        let Some(message) = message else {
            return;
        };
        let Some(id) = request else {
            return self.fire(life, link, session, message);
        };
        let line = message.to_line();
        tracing::trace!(target: "mcpgw::wire", server = %life.peer.name, "→ {}", life.peer.redact(&line));
        let mut headers = if session.version.is_stateless() {
            let mut headers = stateless_headers(&message);
            headers.extend(self.param_headers(&message));
            headers
        } else {
            HeaderMap::new()
        };
        headers.extend(identity);
        let tools_page = match &message {
            Message::Request(r) if r.method == "tools/list" && session.version.is_stateless() => {
                Some(!line.contains("\"cursor\""))
            }
            _ => None,
        };
        let task = tokio::spawn(post(
            link.clone(),
            session.clone(),
            id,
            line.clone(),
            headers.clone(),
        ));
        outgoing.insert(
            id,
            Outgoing {
                tools_page,
                task: Some(task.abort_handle()),
                line,
                headers,
                sent_on: session.id.clone(),
                resent_after_expiry: false,
                unreachable_since: None,
                attempts: 0,
                resumes: 0,
            },
        );
    }

    /// Sends a stateless server's `subscriptions/listen` (its answer is a stream of the
    /// server's notifications, for as long as it lasts) and stops the one it replaces (over
    /// HTTP, closing a request's stream cancels it).
    fn listen(&mut self, link: &Link, session: &Session, messages: Vec<Message>) {
        for message in messages {
            match &message {
                Message::Notification(_) => {
                    if let Some(old) = self.listen_task.take() {
                        old.abort();
                    }
                }
                Message::Request(r) => {
                    let id = super::peer::upstream_id(&r.id).unwrap_or_default();
                    let headers = stateless_headers(&message);
                    let posted = post(
                        link.clone(),
                        session.clone(),
                        id,
                        message.to_line(),
                        headers,
                    );
                    let ended = link.inbound.clone();
                    let task = tokio::spawn(async move {
                        posted.await;
                        let _ = ended.send(Inbound::ListenEnded { id });
                    });
                    if let Some(old) = self.listen_task.replace(task.abort_handle()) {
                        old.abort();
                    }
                }
                Message::Response(_) => {}
            }
        }
    }

    /// Leaves out of a stateless server's `tools/list` answer the tools whose `x-mcp-header`
    /// annotations are invalid (as the spec says a client over HTTP must), and notes which
    /// parameters of the rest go into headers.
    /// `first`: the list's first page, which starts the header parameters afresh (a tool the
    /// server no longer lists keeps none).
    fn screen_tools(&mut self, life: &Life, data: &mut Vec<u8>, first: bool) {
        let Some((rewritten, kept, dropped)) = modern::screen_tools(data) else {
            return;
        };
        for (tool, why) in dropped {
            tracing::warn!(server = %life.peer.name, "left out tool `{tool}`: {why}");
        }
        if first {
            self.header_params.clear();
        }
        self.header_params.extend(kept);
        if let Some(rewritten) = rewritten {
            *data = rewritten;
        }
    }

    /// The `Mcp-Param-*` headers of a `tools/call` of a tool with mirrored parameters.
    fn param_headers(&self, message: &Message) -> HeaderMap {
        let mut h = HeaderMap::new();
        let Message::Request(r) = message else {
            return h;
        };
        #[derive(serde::Deserialize)]
        struct Call {
            name: String,
            #[serde(default)]
            arguments: serde_json::Value,
        }
        let call = r
            .params
            .as_deref()
            .filter(|_| r.method == "tools/call")
            .and_then(|p| serde_json::from_str::<Call>(p.get()).ok());
        let Some(call) = call else {
            return h;
        };
        if let Some(params) = self.header_params.get(&call.name) {
            for (name, value) in modern::param_headers(params, &call.arguments) {
                if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                    h.insert(n, v);
                }
            }
        }
        h
    }

    /// Sends a notification or an answer; nothing waits for it.
    fn fire(&self, life: &Life, link: &Link, session: &Session, message: Message) {
        if session.version.is_stateless() {
            // Over HTTP this revision takes no notifications (a request is cancelled by
            // closing its stream) and its servers send no requests to answer.
            return;
        }
        let line = message.to_line();
        tracing::trace!(target: "mcpgw::wire", server = %life.peer.name, "→ {}", life.peer.redact(&line));
        let (link, session, name) = (link.clone(), session.clone(), life.peer.name.clone());
        tokio::spawn(async move {
            if let Err(e) = post_notification(&link, &session, line).await {
                tracing::debug!(server = %name, "{e}");
            }
        });
    }

    fn fail(
        &mut self,
        life: &mut Life,
        id: u64,
        outgoing: &mut HashMap<u64, Outgoing>,
        reason: String,
    ) {
        outgoing.remove(&id);
        if let Some(waiting) = life.peer.pending.remove(&id) {
            let _ = waiting.reply.send(Err(CallError::Failed {
                server: life.peer.name.clone(),
                reason,
            }));
        }
    }
}

impl PostFailure {
    fn cause(&self) -> Cause {
        match self {
            PostFailure::Unreachable(_) | PostFailure::Cut { .. } => Cause::Unreachable,
            PostFailure::SessionExpired | PostFailure::Refused(_) => Cause::Refused,
        }
    }
}

fn describe(failure: &PostFailure) -> String {
    match failure {
        PostFailure::SessionExpired => "the server forgot the session again".into(),
        PostFailure::Unreachable(why) | PostFailure::Refused(why) => why.clone(),
        PostFailure::Cut { .. } => "its answer stream broke off before the answer".into(),
    }
}

/// The HTTP client for one server: pooled keep-alive connections, HTTP/2 where offered, and
/// the server's own CA and client certificate when configured.
pub fn client(config: &HttpConfig) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(90));
    if let Some(ca) = &config.tls.ca {
        let pem = std::fs::read(ca)
            .map_err(|e| format!("cannot read the CA file {}: {e}", ca.display()))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("{}: {e}", ca.display()))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let (Some(cert), Some(key)) = (&config.tls.client_cert, &config.tls.client_key) {
        let mut pem = std::fs::read(cert)
            .map_err(|e| format!("cannot read the client certificate {}: {e}", cert.display()))?;
        pem.extend(
            std::fs::read(key)
                .map_err(|e| format!("cannot read the client key {}: {e}", key.display()))?,
        );
        builder = builder.identity(
            reqwest::Identity::from_pem(&pem).map_err(|e| format!("client certificate: {e}"))?,
        );
    }
    builder
        .build()
        .map_err(|e| format!("cannot set up HTTP: {}", crate::errors::chain(&e)))
}

fn session_headers(link: &Link, session: &Session) -> HeaderMap {
    let mut h = link.headers.clone();
    if let Some(id) = session
        .id
        .as_ref()
        .and_then(|id| HeaderValue::try_from(id.as_str()).ok())
    {
        h.insert(SESSION_HEADER, id);
    }
    if !session.legacy
        && let Ok(v) = HeaderValue::try_from(session.version.as_str())
    {
        h.insert(VERSION_HEADER, v);
    }
    h
}

/// A POST of a JSON-RPC message to `url`, taking a JSON body or an event stream back.
fn json_post(link: &Link, url: &Url, headers: HeaderMap, line: &str) -> reqwest::RequestBuilder {
    link.client
        .post(url.clone())
        .headers(headers)
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json")
        .body(line.to_owned())
}

/// A request's line with another id.
fn with_id(line: &str, id: u64) -> String {
    match Message::parse(line.as_bytes()) {
        Parsed::Message(Message::Request(mut r)) => {
            r.id = id.into();
            Message::Request(r).to_line()
        }
        _ => line.to_owned(),
    }
}

/// The `X-User-*` headers of `identity` a server asked for (`forward_identity`); nothing for a
/// server that did not ask. A value that is not plain ASCII is sent as `=?base64?…?=`.
fn identity_headers(
    wanted: &[crate::principal::Field],
    identity: &crate::principal::Identity,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in identity.headers(wanted) {
        // Not plain ASCII ("José"): MCP's own `=?base64?…?=` form.
        if let Ok(value) = HeaderValue::from_str(&modern::header_value(value)) {
            headers.insert(name, value);
        }
    }
    headers
}

/// The headers that name a request of the stateless revision (`Mcp-Method`, `Mcp-Name`).
fn stateless_headers(message: &Message) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Message::Request(r) = message {
        for (name, value) in modern::http_headers(&r.method, r.params.as_deref()) {
            if let Ok(v) = HeaderValue::try_from(value) {
                h.insert(name, v);
            }
        }
    }
    h
}

/// POSTs request `id` and passes its answer (a body or a stream) to the actor.
async fn post(link: Link, session: Session, id: u64, line: String, extra: HeaderMap) {
    let sent = send(&link, || {
        json_post(
            &link,
            &session.post_to,
            session_headers(&link, &session),
            &line,
        )
        .headers(extra.clone())
    })
    .await;
    let failure = match sent {
        // Only a failed connection proves the server never saw the request; after that,
        // sending it again could run a tool twice.
        Err(Sent::Http(e)) if e.is_connect() => PostFailure::Unreachable(crate::errors::chain(&e)),
        Err(Sent::Http(e)) => {
            PostFailure::Refused(format!("the request failed: {}", crate::errors::chain(&e)))
        }
        Err(Sent::Auth(problem)) => PostFailure::Refused(problem.to_string()),
        Ok(response) => match response.status() {
            s if s.is_success() && session.legacy => return, // the answer comes on the stream
            StatusCode::ACCEPTED | StatusCode::NO_CONTENT => return,
            s if s.is_success() => return read_answer(response, link, id).await,
            s if s.is_client_error() && session.version.is_stateless() => {
                // This revision's servers refuse with a JSON-RPC error in the body: it is the
                // answer.
                let body = response.text().await.unwrap_or_default();
                let failure = PostFailure::Refused(format!("HTTP {s}: {}", snippet(&body)));
                if let Parsed::Message(Message::Response(_)) = Message::parse(body.as_bytes()) {
                    let _ = link.inbound.send(Inbound::Message {
                        data: body.into_bytes(),
                        on: Some(id),
                    });
                }
                failure
            }
            StatusCode::NOT_FOUND if session.id.is_some() => PostFailure::SessionExpired,
            StatusCode::BAD_REQUEST => {
                let body = response.text().await.unwrap_or_default();
                if session.id.is_some() && body.to_ascii_lowercase().contains("session") {
                    PostFailure::SessionExpired
                } else {
                    PostFailure::Refused(format!("HTTP 400: {}", snippet(&body)))
                }
            }
            s => {
                let body = response.text().await.unwrap_or_default();
                PostFailure::Refused(format!("HTTP {s}: {}", snippet(&body)))
            }
        },
    };
    let _ = link.inbound.send(Inbound::Failed { id, failure });
}

/// POSTs something that gets no answer (a notification, or our answer to the server).
async fn post_notification(link: &Link, session: &Session, line: String) -> Result<(), String> {
    let response = send(link, || {
        json_post(
            link,
            &session.post_to,
            session_headers(link, session),
            &line,
        )
    })
    .await
    .map_err(|e| e.describe(&session.post_to))?;
    if response.status().is_success() {
        Ok(())
    } else {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        Err(format!(
            "POST {} answered HTTP {status}: {}",
            session.post_to,
            snippet(&body)
        ))
    }
}

/// Opens (or resumes, after event `resume`) the GET stream of server messages.
async fn listen(link: Link, session: Session, resume: Option<String>) {
    let sent = send(&link, || {
        let request = link
            .client
            .get(session.post_to.clone())
            .headers(session_headers(&link, &session))
            .header(ACCEPT, "text/event-stream");
        match &resume {
            Some(r) => request.header("last-event-id", r.as_str()),
            None => request,
        }
    })
    .await;
    let end = match sent {
        Err(e) => StreamEnd::Failed(e.describe(&session.post_to)),
        Ok(r) if r.status() == StatusCode::METHOD_NOT_ALLOWED => StreamEnd::Unsupported,
        Ok(r) if !r.status().is_success() => {
            StreamEnd::Failed(format!("GET answered {}", r.status()))
        }
        Ok(r) => {
            let (resume_after, retry) =
                forward_events(events_of(r, link.max), &link.inbound, link.max, None).await;
            StreamEnd::Ended {
                resume: resume_after.or(resume),
                retry,
            }
        }
    };
    let _ = link.inbound.send(Inbound::StreamEnded(end));
}

/// Ends the session (DELETE); a server that keeps no sessions may refuse, which is fine.
async fn close(link: &Link, session: &Session) {
    if session.legacy || session.id.is_none() {
        return;
    }
    let _ = send(link, || {
        link.client
            .delete(session.post_to.clone())
            .headers(session_headers(link, session))
            .timeout(Duration::from_secs(2))
    })
    .await;
}

/// Why a request got no HTTP answer.
enum Sent {
    Http(reqwest::Error),
    /// The server wants a token this process cannot get.
    Auth(Problem),
}

impl Sent {
    fn describe(&self, url: &Url) -> String {
        self.reason(url).message
    }

    fn reason(&self, url: &Url) -> DownReason {
        match self {
            Sent::Http(e) => DownReason::new(
                Cause::Unreachable,
                format!("cannot reach {url}: {}", crate::errors::chain(e)),
            ),
            Sent::Auth(p @ Problem::NeedsLogin { .. }) => {
                DownReason::new(Cause::NeedsLogin, p.to_string())
            }
            Sent::Auth(p) => DownReason::new(Cause::Refused, p.to_string()),
        }
    }
}

/// Sends what `build` makes, with the server's bearer token when it uses OAuth. A 401 is
/// settled once (another token, a refresh or a login) and a 403 `insufficient_scope` up to
/// three times (a login with more scopes), each followed by sending the request again: the
/// server refused it, so it did nothing.
async fn send(
    link: &Link,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, Sent> {
    let Some(auth) = &link.auth else {
        return build().send().await.map_err(Sent::Http);
    };
    let (mut refused, mut step_ups) = (false, 0);
    loop {
        let token = auth.bearer().await.map_err(Sent::Auth)?;
        let mut request = build();
        if let Some(t) = &token {
            request = request.bearer_auth(t.expose());
        }
        let response = request.send().await.map_err(Sent::Http)?;
        let challenge = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match response.status() {
            StatusCode::UNAUTHORIZED
                if !refused
                    && (link.oauth_required
                        || challenge.as_deref().is_some_and(bearer_challenge)) =>
            {
                refused = true;
                auth.unauthorized(challenge, token.as_ref())
                    .await
                    .map_err(Sent::Auth)?;
            }
            StatusCode::FORBIDDEN
                if step_ups < MAX_STEP_UPS
                    && challenge.as_deref().is_some_and(|c| {
                        rmcp::transport::auth::WWWAuthenticateParams::parse(c, response.url())
                            .is_insufficient_scope()
                    }) =>
            {
                step_ups += 1;
                let challenge = challenge.expect("checked above");
                auth.insufficient_scope(challenge, token.as_ref())
                    .await
                    .map_err(Sent::Auth)?;
            }
            _ => return Ok(response),
        }
    }
}

/// Whether a `WWW-Authenticate` value challenges for a Bearer token (OAuth).
fn bearer_challenge(value: &str) -> bool {
    value
        .trim_start()
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
        || value.contains("resource_metadata")
}

/// The server's token source, unless it is configured without OAuth or with a credential
/// header of its own.
fn oauth(
    config: &HttpConfig,
    client: &reqwest::Client,
    secrets: &super::Secrets,
    prompt: Option<crate::auth::Prompt>,
) -> Option<Arc<OAuth>> {
    config.oauth_need()?;
    let target = crate::auth::Target::new(config, client.clone());
    Some(Arc::new(OAuth::new(target, secrets.clone(), prompt)))
}

/// How many times one request may ask for more scopes.
const MAX_STEP_UPS: u32 = 3;

/// The first 300 characters of a body, for error messages.
fn snippet(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &body[..i]),
        None => body.to_owned(),
    }
}

/// Reads the answer to request `id`: one JSON message, or an SSE stream of them.
async fn read_answer(response: reqwest::Response, link: Link, id: u64) {
    let kind = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let failure = if kind.starts_with("text/event-stream") {
        let (resume, retry) = forward_events(
            events_of(response, link.max),
            &link.inbound,
            link.max,
            Some(id),
        )
        .await;
        PostFailure::Cut { resume, retry }
    } else if kind.starts_with("application/json") {
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        loop {
            match stream.next().await {
                None => {
                    let _ = link.inbound.send(Inbound::Message {
                        data: body,
                        on: Some(id),
                    });
                    break PostFailure::Refused(
                        "its answer body held no answer to the request".into(),
                    );
                }
                Some(Ok(chunk)) if body.len() + chunk.len() > link.max => {
                    break PostFailure::Refused(format!(
                        "its answer is over the limit of {} bytes",
                        link.max
                    ));
                }
                Some(Ok(chunk)) => body.extend_from_slice(&chunk),
                Some(Err(e)) => {
                    break PostFailure::Unreachable(format!(
                        "its answer was cut off: {}",
                        crate::errors::chain(&e)
                    ));
                }
            }
        }
    } else {
        PostFailure::Refused(format!(
            "its answer has content type `{kind}`, not JSON or an event stream"
        ))
    };
    // Sent after the messages: if the answer was among them, the actor ignores this.
    let _ = link.inbound.send(Inbound::Failed { id, failure });
}

/// Passes every message of an SSE stream on; returns the last event id and retry delay.
async fn forward_events<S>(
    mut events: sse_stream::SseByteStream<S>,
    tx: &mpsc::UnboundedSender<Inbound>,
    max: usize,
    on: Option<u64>,
) -> (Option<String>, Option<Duration>)
where
    S: futures_util::TryStream + Unpin,
    S::Ok: bytes::Buf,
    S::Error: std::error::Error + Send + Sync + 'static,
{
    let mut resume = None;
    let mut retry = None;
    while let Some(Ok(event)) = events.next().await {
        if let Some(id) = event.id {
            resume = Some(id);
        }
        if let Some(ms) = event.retry {
            retry = Some(Duration::from_millis(ms));
        }
        // Blocks without data are keep-alives or priming events.
        let Some(data) = event.data.filter(|d| !d.trim().is_empty()) else {
            continue;
        };
        if event.event.as_deref().is_some_and(|e| e != "message") {
            continue;
        }
        let data = if data.len() > max {
            Vec::new()
        } else {
            data.into_bytes()
        };
        if tx.send(Inbound::Message { data, on }).is_err() {
            break;
        }
    }
    (resume, retry)
}

/// The SSE events of a response, each held to `max` bytes. The parser would otherwise gather
/// an endless event in memory; past the limit the stream ends with an error (and the request
/// fails as a broken stream).
fn events_of(
    response: reqwest::Response,
    max: usize,
) -> sse_stream::SseByteStream<
    impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Unpin,
> {
    let mut bound = EventBound::new(max);
    let bounded = response.bytes_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        bound.check(&chunk)?;
        Ok(chunk)
    });
    sse_stream::SseByteStream::new(bounded)
}

/// Counts the bytes of the SSE event under way; an event ends at an empty line.
struct EventBound {
    max: usize,
    event: usize,
    line: usize,
}

impl EventBound {
    fn new(max: usize) -> Self {
        EventBound {
            max,
            event: 0,
            line: 0,
        }
    }

    fn check(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        for &b in chunk {
            match b {
                b'\n' if self.line == 0 => self.event = 0,
                b'\n' => self.line = 0,
                b'\r' => {}
                _ => {
                    self.line += 1;
                    self.event += 1;
                }
            }
        }
        if self.event > self.max {
            return Err(std::io::Error::other(format!(
                "an event over the limit of {} bytes",
                self.max
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::EventBound;

    #[test]
    fn events_are_bounded_one_by_one() {
        let mut b = EventBound::new(10);
        assert!(b.check(b"data: 12\n\ndata: 34\r\n\r\n").is_ok());
        assert!(b.check(b"data: 1234").is_ok());
        assert!(b.check(b"5").is_err(), "11 bytes in one event");
        let mut b = EventBound::new(10);
        for _ in 0..100 {
            assert!(
                b.check(b"data: 1\n\n").is_ok(),
                "many small events are fine"
            );
        }
    }
}
