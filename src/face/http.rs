//! The HTTP face (`mcpgw serve --listen ADDR`): Streamable HTTP at `/mcp` for any number of
//! clients at once, each a session on the one hub.
//!
//! - **Handshake era.** An `initialize` POST without `Mcp-Session-Id` makes a session; its id
//!   comes back in that header and every later request names it (none: 400; an unknown one:
//!   404, as the spec says, so that the client starts again). A POST's requests are answered
//!   on its own response, an SSE stream; `GET /mcp` opens the session's stream for what the
//!   servers send on their own (notifications, their requests to the client), which otherwise
//!   goes on the newest POST stream open; `DELETE /mcp` ends the session. Events carry ids:
//!   a client whose stream broke comes back with `GET` and `Last-Event-ID` for what it
//!   missed and the rest of that stream (the latest 256 events are kept).
//! - **2026-07-28.** Requests name their version in `_meta` and need no session. They share one
//!   session on the hub, which keeps what outlives a request (input held for a retry, tasks);
//!   their ids are made unique on the way in and put back on the way out. Each is answered on
//!   its POST's stream, its progress and log messages before its answer;
//!   `subscriptions/listen` keeps its stream open until the client closes it, and closing a
//!   stream cancels what it was waiting for.
//! - **Keys** ([`super::keys`]). Once any API key exists, `/mcp` wants one (`Authorization: Bearer`
//!   or `X-API-Key`): none gets 401 `{"error":"Unauthorized","message":"API key required"}`,
//!   a wrong, expired or revoked one 403 `{"error":"Forbidden","message":"Invalid API key"}`.
//! - **Guards.** Loopback addresses only, unless keys are configured; an `Origin`, when
//!   sent, must be a loopback one, and on loopback so must the `Host` (DNS rebinding); bodies are bounded by `max_message_size`
//!   (413); at most [`MAX_SESSIONS`] sessions of the handshake era (when full, the one unused
//!   longest with nothing open makes room; 503 if all are busy), and one unused for [`IDLE`]
//!   is ended. `GET /health` says how many servers are ready; `GET /servers` and
//!   `GET /servers/NAME` what `mcpgw list --json` shows (with a key, when keys exist).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::config::{Config, ListenSettings};
use crate::hub::{self, Control, HubHandle, Services};
use crate::principal::Principal;
use crate::protocol::{
    self, ErrorObject, Message, Parsed, Request, RequestId, Response as Rpc, code,
};

use super::gate::Gate;
use super::keys::{Keys, Verifier};
use super::oauth;
use super::pool::{NEXT_POST, Out, Pool, Post, PostGuard};
use super::reload::Reloader;
use super::tls::{Incoming, Peer};
use super::{endpoints, headers};

/// Sessions of the handshake era at once.
pub const MAX_SESSIONS: usize = 256;
/// A session of the handshake era unused this long is ended.
pub const IDLE: Duration = Duration::from_secs(60 * 60);

const SESSION_ID: &str = "mcp-session-id";

/// How often a quiet SSE stream gets a comment, so that it is not taken for an idle
/// connection (here, and by proxies on the way).
const KEEP_ALIVE: Duration = Duration::from_secs(30);

/// How long a request of 2026-07-28 may take to be answered as plain JSON (with its own HTTP
/// status) before its answer goes on an SSE stream instead.
const ANSWER_SOON: Duration = Duration::from_millis(500);

/// Serves MCP over HTTP on `listener` until `shutdown` completes, then ends every session and
/// stops the servers.
pub async fn run(
    config: Arc<Config>,
    listener: tokio::net::TcpListener,
    keys: Keys,
    services: Services,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let verifier = Verifier::new(keys, &config.listen.keys).map_err(std::io::Error::other)?;
    if let Some(oauth) = &config.listen.oauth
        && oauth.resource.is_none()
        && !listener.local_addr()?.ip().is_loopback()
    {
        return Err(std::io::Error::other(
            "[listen.oauth] needs `resource`, the face's URL as clients reach it, when it listens beyond loopback (tokens name it as their audience)",
        ));
    }
    let tls = config.listen.tls.clone();
    let tls = tls.as_ref();
    let base = format!(
        "{}://{}",
        if tls.is_some() { "https" } else { "http" },
        listener.local_addr()?
    );
    let (control, control_rx) = mpsc::unbounded_channel();
    let reloader = Reloader::new(&config, control.clone());
    let (hub, hub_task) = hub::spawn(config.clone(), services, control_rx);
    let (stop, stopped) = watch::channel(false);
    let face = Arc::new(Face {
        stateless: Mutex::default(),
        config: config.clone(),
        hub: hub.clone(),
        control,
        sessions: Mutex::default(),
        stopped,
        gate: Gate::new(verifier, oauth::resource(&config.listen.oauth, &base)),
        reloader: reloader.clone(),
        loopback: listener.local_addr()?.ip().is_loopback(),
    });
    let weak = Arc::downgrade(&face);
    let (tls_then, oauth_then) = (config.listen.tls.clone(), config.listen.oauth.clone());
    reloader.on_reload(move |config| {
        // Who may come in is not changed under running sessions: it takes a restart.
        if config.listen.tls != tls_then || config.listen.oauth != oauth_then {
            return Err(
                "[listen.tls] or [listen.oauth] changed: restart mcpgw to take them (nothing of this config was taken)".into(),
            );
        }
        match weak.upgrade() {
            Some(face) => face.gate.keys.set_config_keys(&config.listen.keys),
            None => Ok(()),
        }
    });
    let watcher = tokio::spawn(reloader.watch());
    // Away from loopback, and with a client CA, nobody gets in unauthenticated.
    if !listener.local_addr()?.ip().is_loopback() || tls.is_some_and(|t| t.client_ca.is_some()) {
        face.gate.keys.require();
    }
    let incoming = Incoming::new(listener, tls)
        .map_err(|e| std::io::Error::other(format!("[listen.tls]: {e}")))?;
    let sweeper = tokio::spawn(sweep(face.clone()));
    let app = axum::Router::new()
        .route("/mcp", axum::routing::post(post).get(get).delete(delete))
        .merge(endpoints::routes())
        .layer(DefaultBodyLimit::max(config.gateway.max_message_bytes))
        .with_state(face.clone());
    let closing = face.clone();
    super::tls::serve(incoming, app, async move {
        shutdown.await;
        // Sessions end (answering what they can), and every stream with them.
        let _ = stop.send(true);
        for pool in closing.sessions.lock().expect("sessions").drain() {
            pool.1.close();
        }
        for pool in closing.stateless.lock().expect("pools").values() {
            pool.close();
        }
    })
    .await;
    sweeper.abort();
    watcher.abort();
    face.gate.keys.flush();
    // Every session's input ends: each answers what it owes, then leaves the hub.
    face.sessions.lock().expect("sessions").clear();
    face.stateless.lock().expect("pools").clear();
    drop(face);
    drop(hub);
    let _ = hub_task.await;
    Ok(())
}

/// Whether the face may listen on `addr`: a loopback address, or any once clients must
/// authenticate (API keys, or client certificates of `[listen.tls] client_ca`).
pub fn allowed(addr: &SocketAddr, keys: &Keys, listen: &ListenSettings) -> Result<(), String> {
    let configured = || {
        listen.tls.as_ref().is_some_and(|t| t.client_ca.is_some())
            || listen.oauth.is_some()
            || Verifier::new(Keys::new(keys.path().to_owned()), &listen.keys)
                .is_ok_and(|v| v.configured())
    };
    if addr.ip().is_loopback() || configured() {
        Ok(())
    } else {
        Err(format!(
            "refusing to listen on {addr}: without API keys (`mcpgw keys create NAME`) or client certificates (`[listen.tls] client_ca`) the HTTP face listens on loopback addresses only (127.0.0.1, [::1])"
        ))
    }
}

pub(super) struct Face {
    config: Arc<Config>,
    pub(super) hub: HubHandle,
    pub(super) control: mpsc::UnboundedSender<Control>,
    /// Sessions of the handshake era, by `Mcp-Session-Id`.
    sessions: Mutex<HashMap<String, Arc<Pool>>>,
    /// The sessions of the 2026-07-28 requests, one per principal ([`Principal::fingerprint`];
    /// `""`: without keys).
    stateless: Mutex<HashMap<String, Arc<Pool>>>,
    stopped: watch::Receiver<bool>,
    pub(super) gate: Gate,
    pub(super) reloader: Arc<Reloader>,
    /// It listens on a loopback address: requests must name this machine as their host.
    loopback: bool,
}

/// Who a request is from, once it passed the origin and key checks (`None`: the face takes no
/// keys); a request that does not gets the refusal instead.
pub(super) struct Caller(pub(super) Option<Arc<Principal>>);

impl axum::extract::FromRequestParts<Arc<Face>> for Caller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        face: &Arc<Face>,
    ) -> Result<Caller, Response> {
        let unknown = Peer {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            subject: None,
        };
        let from = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map_or(&unknown, |c| &c.0);
        face.admit(&parts.headers, from)
            .await
            .map(Caller)
            .map_err(|r| *r)
    }
}

impl Face {
    /// Origin and key: the checks every request but `/health` passes first. `Ok`: who it is
    /// from (`None`: the face takes no keys).
    async fn admit(
        &self,
        headers: &HeaderMap,
        from: &Peer,
    ) -> Result<Option<Arc<Principal>>, Box<Response>> {
        let refused = if self.loopback {
            origin_refused(headers)
        } else {
            origin_elsewhere(headers)
        };
        if let Some(refused) = refused {
            return Err(Box::new(refused));
        }
        self.gate.admit(headers, from, &self.hub.stats).await
    }

    /// The session of `principal`'s 2026-07-28 requests.
    fn stateless_pool(&self, principal: Option<&Arc<Principal>>) -> Arc<Pool> {
        let name = principal.map(|p| p.fingerprint()).unwrap_or_default();
        let mut pools = self.stateless.lock().expect("pools");
        if let Some(pool) = pools.get(&name) {
            return pool.clone();
        }
        let pool = Pool::spawn(
            &self.config,
            &self.hub,
            &self.stopped,
            true,
            principal.cloned(),
        );
        pools.insert(name, pool.clone());
        pool
    }

    /// The handshake-era session `id`, if `principal` may use it.
    fn session(&self, id: &str, principal: Option<&Arc<Principal>>) -> Option<Arc<Pool>> {
        let pool = self.sessions.lock().expect("sessions").get(id).cloned()?;
        (pool.owner == principal.map(|p| p.fingerprint())).then_some(pool)
    }
}

fn rpc_error(status: StatusCode, id: Option<RequestId>, error: ErrorObject) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        protocol::error_line(id.as_ref(), &error),
    )
        .into_response()
}

fn refused(status: StatusCode, message: impl Into<String>) -> Response {
    rpc_error(
        status,
        None,
        ErrorObject::new(code::INVALID_REQUEST, message.into()),
    )
}

/// A browser page of another origin must not reach a server on this machine.
fn origin_refused(headers: &HeaderMap) -> Option<Response> {
    host_refused(headers).or_else(|| origin_elsewhere(headers))
}

/// A name that is this machine.
fn local_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
}

/// A request for another host name than this machine's, to a face on loopback: what a page
/// whose name was rebound to 127.0.0.1 sends (its `Host` is the page's). `None` when it may
/// pass (the face listens beyond loopback: its clients name it as they like).
fn host_refused(headers: &HeaderMap) -> Option<Response> {
    let value = headers.get(header::HOST)?.to_str().unwrap_or("");
    let host = url::Url::parse(&format!("http://{value}"))
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    (!host.as_deref().is_some_and(local_host)).then(|| {
        refused(
            StatusCode::FORBIDDEN,
            format!("Forbidden: host {value} is not this machine (a DNS rebinding?)"),
        )
    })
}

fn origin_elsewhere(headers: &HeaderMap) -> Option<Response> {
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or("");
    let host = url::Url::parse(origin)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    (!host.as_deref().is_some_and(local_host)).then(|| {
        refused(
            StatusCode::FORBIDDEN,
            format!("Forbidden: origin {origin} may not use this gateway"),
        )
    })
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(SESSION_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A request of 2026-07-28: its `_meta` names the version (or the header does).
fn is_stateless(request: &Request, headers: &HeaderMap) -> bool {
    let header = headers
        .get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok())
        .and_then(protocol::Version::parse)
        .is_some_and(protocol::Version::is_stateless);
    header
        || request
            .params
            .as_deref()
            .is_some_and(|p| p.get().contains(protocol::meta::PROTOCOL_VERSION))
}

fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn post(
    State(face): State<Arc<Face>>,
    Caller(principal): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let items: Vec<Box<RawValue>> = match Message::parse(&body) {
        Parsed::Batch(items) if !items.is_empty() => items,
        Parsed::Batch(_) => {
            return refused(StatusCode::BAD_REQUEST, "Invalid request: an empty batch");
        }
        Parsed::Rejected(r) => return rpc_error(StatusCode::BAD_REQUEST, r.id, r.error),
        Parsed::Message(_) => vec![],
    };
    let messages: Vec<Message> = if items.is_empty() {
        match Message::parse(&body) {
            Parsed::Message(m) => vec![m],
            _ => unreachable!("parsed above"),
        }
    } else {
        let mut messages = vec![];
        for item in items {
            match Message::parse(item.get().as_bytes()) {
                Parsed::Message(m) => messages.push(m),
                Parsed::Rejected(r) => return rpc_error(StatusCode::BAD_REQUEST, r.id, r.error),
                Parsed::Batch(_) => {
                    return refused(
                        StatusCode::BAD_REQUEST,
                        "Invalid request: a batch in a batch",
                    );
                }
            }
        }
        messages
    };
    let requests: Vec<&Request> = messages
        .iter()
        .filter_map(|m| match m {
            Message::Request(r) => Some(r),
            _ => None,
        })
        .collect();
    // A batch costs as many requests as it holds.
    if let Some(p) = &principal
        && let Err(refused) = face.gate.charge(
            p,
            u32::try_from(requests.len().saturating_sub(1)).unwrap_or(u32::MAX),
            &face.hub.stats,
        )
    {
        return *refused;
    }
    let initialize = requests.iter().any(|r| r.method == "initialize");
    let stateless = requests.iter().any(|r| is_stateless(r, &headers));
    let (pool, made) = match session_id(&headers) {
        Some(id) => match face.session(&id, principal.as_ref()) {
            Some(pool) => (pool, None),
            None => {
                return refused(
                    StatusCode::NOT_FOUND,
                    format!(
                        "Session not found: {id} (it ended, or mcpgw restarted): initialize again"
                    ),
                );
            }
        },
        None if initialize && !stateless => {
            if messages.len() > 1 {
                return refused(
                    StatusCode::BAD_REQUEST,
                    "Invalid request: `initialize` must come alone",
                );
            }
            let mut sessions = face.sessions.lock().expect("sessions");
            if sessions.len() >= MAX_SESSIONS {
                // Full: the session unused longest with nothing open makes room (its client,
                // if it comes back, gets 404 and initializes again, as the spec says), taken
                // from the principal holding the most: one key cannot push out the others.
                let mut held: HashMap<Option<&str>, usize> = HashMap::new();
                for p in sessions.values() {
                    *held.entry(p.owner.as_deref()).or_default() += 1;
                }
                let oldest = |among: &dyn Fn(&Pool) -> bool| {
                    sessions
                        .iter()
                        .filter(|(_, p)| p.quiet() && among(p))
                        .min_by_key(|(_, p)| *p.used.lock().expect("used"))
                        .map(|(id, _)| id.clone())
                };
                let most = held.values().copied().max().unwrap_or(0);
                let oldest = oldest(&|p| held.get(&p.owner.as_deref()) == Some(&most))
                    .or_else(|| oldest(&|_| true));
                match oldest {
                    Some(id) => {
                        tracing::info!(
                            "ended HTTP session {id} to make room ({MAX_SESSIONS} at most)"
                        );
                        sessions.remove(&id);
                    }
                    None => {
                        return refused(
                            StatusCode::SERVICE_UNAVAILABLE,
                            format!(
                                "mcpgw serves at most {MAX_SESSIONS} sessions at once, all busy"
                            ),
                        );
                    }
                }
            }
            let pool = Pool::spawn(
                &face.config,
                &face.hub,
                &face.stopped,
                false,
                principal.clone(),
            );
            let id = new_session_id();
            sessions.insert(id.clone(), pool.clone());
            (pool, Some(id))
        }
        None if stateless || requests.iter().any(|r| r.method == "server/discover") => {
            (face.stateless_pool(principal.as_ref()), None)
        }
        None if requests.is_empty() => (face.stateless_pool(principal.as_ref()), None),
        None => {
            return refused(
                StatusCode::BAD_REQUEST,
                "Bad request: no Mcp-Session-Id (send `initialize` first), and not a request of protocol version 2026-07-28",
            );
        }
    };
    *pool.used.lock().expect("used") = Instant::now();
    // What is not a request: a client's answers to the session's requests and its
    // notifications. The shared pool of 2026-07-28 takes none (its clients are asked through
    // `input_required`, and cancel by closing their stream): they could reach another's.
    let (messages, others): (Vec<Message>, Vec<Message>) = messages
        .into_iter()
        .partition(|m| matches!(m, Message::Request(_)));
    for m in others {
        if pool.stateless {
            tracing::debug!("a message that is not a request, without a session: ignored");
            continue;
        }
        if let Message::Notification(n) = &m
            && n.method == "notifications/cancelled"
        {
            // The cancelled request gets no answer: its stream need not wait for one.
            let cancelled = n
                .params
                .as_deref()
                .and_then(|p| serde_json::from_str::<Value>(p.get()).ok())
                .and_then(|p| p.get("requestId").map(|id| id.to_string()));
            let mut r = pool.routes.lock().expect("routes");
            if let Some((_, post)) = cancelled.and_then(|id| r.pending.remove(&id)) {
                let _ = post.tx.send(Out {
                    line: String::new(),
                    answers: true,
                    id: None,
                });
            }
        }
        pool.feed(m.to_line());
    }
    if messages.is_empty() {
        return StatusCode::ACCEPTED.into_response();
    }
    if pool.stateless {
        let view = face.hub.view();
        for m in &messages {
            let Message::Request(q) = m else { continue };
            let tool = || {
                let name = q
                    .params
                    .as_deref()
                    .and_then(|p| protocol::param_str(p, "name"))?;
                view.tool_schema(&name)
            };
            let why = headers::mismatch(q, &headers).or_else(|| {
                (q.method == "tools/call")
                    .then(|| headers::param_mismatch(q, &headers, tool()))
                    .flatten()
            });
            if let Some(why) = why {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    Some(q.id.clone()),
                    ErrorObject::new(headers::HEADER_MISMATCH, why),
                );
            }
        }
    }
    // The POST's stream: its requests' answers, and what is said about them meanwhile.
    let (tx, rx) = mpsc::unbounded_channel::<Out>();
    let no = NEXT_POST.fetch_add(1, Ordering::Relaxed);
    let logs = pool.stateless
        && messages.iter().any(|m| {
            matches!(m, Message::Request(q) if q.params.as_deref().is_some_and(|p| p.get().contains(protocol::meta::LOG_LEVEL)))
        });
    let post = Post { no, tx, logs };
    let mut lines = vec![];
    let mut expected = 0;
    {
        let mut r = pool.routes.lock().expect("routes");
        // A client's id already in flight in its session (or twice in one batch) cannot be
        // told apart.
        if !pool.stateless {
            let mut ids: Vec<String> = r.pending.keys().cloned().collect();
            for m in &messages {
                let Message::Request(q) = m else { continue };
                let id = serde_json::to_string(&q.id).unwrap_or_default();
                if ids.contains(&id) {
                    return rpc_error(
                        StatusCode::BAD_REQUEST,
                        Some(q.id.clone()),
                        ErrorObject::new(
                            code::INVALID_REQUEST,
                            "Invalid request: this id is already in flight",
                        ),
                    );
                }
                ids.push(id);
            }
        }
        r.open.push(post.clone());
        for m in messages {
            let Message::Request(mut request) = m else {
                continue;
            };
            let theirs = request.id.clone();
            let ours = if pool.stateless {
                RequestId::String(format!("h{}", pool.next.fetch_add(1, Ordering::Relaxed)).into())
            } else {
                theirs.clone()
            };
            if let Some(token) = protocol::progress_token(request.params.as_deref()) {
                let theirs_token = RawValue::from_string(token.clone()).expect("JSON text");
                let ours_token = if pool.stateless {
                    // Unique too: clients use their ids as tokens.
                    let unique = serde_json::to_string(&ours).unwrap_or_default();
                    request.params = request
                        .params
                        .as_deref()
                        .and_then(|p| protocol::with_progress_token(p, &protocol::raw(&ours)))
                        .or(request.params);
                    unique
                } else {
                    token
                };
                r.tokens.insert(ours_token, (theirs_token, no));
            }
            let key = serde_json::to_string(&ours).unwrap_or_default();
            r.pending.insert(key, (theirs, post.clone()));
            expected += 1;
            lines.push(
                Message::Request(Request {
                    id: ours,
                    ..request
                })
                .to_line(),
            );
        }
    }
    for line in lines {
        pool.feed(line);
    }
    let guard = PostGuard {
        pool: pool.clone(),
        no,
    };
    let mut rx = rx;
    // One request of 2026-07-28: an answer that comes soon and first is sent as JSON, an error
    // with the HTTP status it calls for (mcpgw's own refusals come at once); anything else
    // (progress, logs, a long wait) starts the SSE stream.
    let mut first = None;
    if pool.stateless && expected == 1 {
        match tokio::time::timeout(ANSWER_SOON, rx.recv()).await {
            Ok(Some(out)) if out.answers => return answered(out.line),
            Ok(Some(out)) => first = Some(out),
            Ok(None) => {
                return refused(StatusCode::SERVICE_UNAVAILABLE, "mcpgw is shutting down");
            }
            Err(_) => {}
        }
    }
    let events = futures_util::stream::unfold(
        (rx, expected, guard, first),
        |(mut rx, left, guard, mut first)| async move {
            if left == 0 {
                return None;
            }
            let out = match first.take() {
                Some(out) => out,
                None => match tokio::time::timeout(KEEP_ALIVE, rx.recv()).await {
                    Ok(out) => out?,
                    // A comment, which clients skip: the connection is in use.
                    Err(_) => {
                        let ping = Bytes::from_static(b": keep-alive\n\n");
                        return Some((Ok::<_, Infallible>(ping), (rx, left, guard, first)));
                    }
                },
            };
            let left = if out.answers { left - 1 } else { left };
            // An empty line stands for a request cancelled: no answer, nothing to send.
            let event = if out.line.is_empty() {
                Bytes::new()
            } else {
                Bytes::from(out.event())
            };
            Some((Ok::<_, Infallible>(event), (rx, left, guard, first)))
        },
    );
    let mut response = sse(Body::from_stream(events));
    if let Some(id) = made
        && let Ok(id) = id.parse()
    {
        response.headers_mut().insert(SESSION_ID, id);
    }
    response
}

/// The answer to a request of 2026-07-28, alone: JSON, an error with its HTTP status.
fn answered(line: String) -> Response {
    let status = match Message::parse(line.as_bytes()) {
        Parsed::Message(Message::Response(Rpc {
            outcome: Err(error),
            ..
        })) => headers::status_of(error.code),
        _ => StatusCode::OK,
    };
    (status, [(header::CONTENT_TYPE, "application/json")], line).into_response()
}

/// An SSE stream of `body`'s events.
fn sse(body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The session's stream of what servers send on their own.
async fn get(
    State(face): State<Arc<Face>>,
    Caller(principal): Caller,
    headers: HeaderMap,
) -> Response {
    let Some(id) = session_id(&headers) else {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            "no stream without a session (protocol version 2026-07-28 has none: use subscriptions/listen)",
        )
            .into_response();
    };
    let Some(pool) = face.session(&id, principal.as_ref()) else {
        return refused(StatusCode::NOT_FOUND, format!("Session not found: {id}"));
    };
    let (tx, rx) = mpsc::unbounded_channel::<Out>();
    // A client back for a stream that broke (`Last-Event-ID`): what it missed, then the rest.
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(resumed) = last.and_then(|last| pool.resume(last, &tx)) {
        return resume(pool, resumed, rx);
    }
    {
        let mut r = pool.routes.lock().expect("routes");
        r.stream = Some(tx);
        r.stream_no = NEXT_POST.fetch_add(1, Ordering::Relaxed);
    }
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = match tokio::time::timeout(KEEP_ALIVE, rx.recv()).await {
            Ok(out) => Bytes::from(out?.event()),
            Err(_) => Bytes::from_static(b": keep-alive\n\n"),
        };
        Some((Ok::<_, Infallible>(event), rx))
    });
    sse(Body::from_stream(events))
}

/// A resumed stream: the events missed, then live ones until its requests are answered (the
/// GET stream's: until the client leaves).
fn resume(
    pool: Arc<Pool>,
    resumed: super::pool::Resumed,
    rx: mpsc::UnboundedReceiver<Out>,
) -> Response {
    let guard = resumed.left.map(|_| PostGuard {
        pool,
        no: resumed.no,
    });
    tracing::debug!(
        stream = resumed.no,
        missed = resumed.missed.len(),
        "a stream resumed"
    );
    let left = resumed.left;
    let replay = futures_util::stream::iter(
        resumed
            .missed
            .into_iter()
            .map(|o| Ok::<_, Infallible>(Bytes::from(o.event()))),
    );
    let live =
        futures_util::stream::unfold((rx, left, guard), |(mut rx, left, guard)| async move {
            if left == Some(0) {
                return None;
            }
            let (event, left) = match tokio::time::timeout(KEEP_ALIVE, rx.recv()).await {
                Ok(out) => {
                    let out = out?;
                    let left = left.map(|l| if out.answers { l - 1 } else { l });
                    // An empty line stands for a request cancelled: nothing to send.
                    let event = if out.line.is_empty() {
                        Bytes::new()
                    } else {
                        Bytes::from(out.event())
                    };
                    (event, left)
                }
                Err(_) => (Bytes::from_static(b": keep-alive\n\n"), left),
            };
            Some((Ok::<_, Infallible>(event), (rx, left, guard)))
        });
    sse(Body::from_stream(futures_util::StreamExt::chain(
        replay, live,
    )))
}

async fn delete(
    State(face): State<Arc<Face>>,
    Caller(principal): Caller,
    headers: HeaderMap,
) -> Response {
    let Some(id) = session_id(&headers) else {
        return refused(StatusCode::BAD_REQUEST, "Bad request: no Mcp-Session-Id");
    };
    if face.session(&id, principal.as_ref()).is_none() {
        return refused(StatusCode::NOT_FOUND, format!("Session not found: {id}"));
    }
    match face.sessions.lock().expect("sessions").remove(&id) {
        // Its input ends: the session answers what it owes, then leaves the hub.
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => refused(StatusCode::NOT_FOUND, format!("Session not found: {id}")),
    }
}

/// Ends sessions unused for [`IDLE`].
async fn sweep(face: Arc<Face>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        face.sessions.lock().expect("sessions").retain(|id, pool| {
            let idle = pool.used.lock().expect("used").elapsed() >= IDLE && pool.quiet();
            if idle {
                tracing::info!(
                    "ended HTTP session {id}, unused for {}",
                    humantime::format_duration(IDLE)
                );
            }
            !idle
        });
        face.stateless
            .lock()
            .expect("pools")
            .retain(|_, pool| pool.used.lock().expect("used").elapsed() < IDLE || !pool.quiet());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_address_needs_keys_but_loopback() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::new(dir.path().join("api-keys.json"));
        let loopback: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let anywhere: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let listen = ListenSettings::default();
        assert!(allowed(&loopback, &keys, &listen).is_ok());
        assert!(
            allowed(&anywhere, &keys, &listen)
                .unwrap_err()
                .contains("loopback")
        );
        let certified = ListenSettings {
            tls: Some(crate::config::FaceTls {
                cert: "c.pem".into(),
                key: "k.pem".into(),
                client_ca: Some("ca.pem".into()),
                require_client_cert: false,
            }),
            ..ListenSettings::default()
        };
        assert!(allowed(&anywhere, &keys, &certified).is_ok());
        keys.create("team", None, Default::default()).unwrap();
        assert!(allowed(&anywhere, &keys, &listen).is_ok());
    }

    #[test]
    fn only_loopback_origins_may_call() {
        let with = |origin: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ORIGIN, origin.parse().unwrap());
            origin_refused(&h).is_none()
        };
        assert!(with("http://localhost:3000"));
        assert!(with("http://127.0.0.1"));
        assert!(!with("http://evil.example"));
        assert!(!with("http://127.0.0.1.evil.example"));
        assert!(
            origin_refused(&HeaderMap::new()).is_none(),
            "no Origin: not a browser"
        );
        let host = |host: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, host.parse().unwrap());
            host_refused(&h).is_none()
        };
        assert!(host("127.0.0.1:8080") && host("localhost") && host("[::1]:9"));
        assert!(!host("evil.example.com") && !host("127.0.0.1.evil.example:80"));
    }
}
