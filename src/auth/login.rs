//! The interactive part of OAuth: discovery, client identity, the browser, and the loopback
//! redirect that brings the authorization code back.
//!
//! The protocol pieces are the official SDK's (`rmcp::transport::auth`): protected-resource
//! and authorization-server metadata with all their fallbacks, dynamic registration, PKCE S256,
//! `state`, the `resource` parameter, the `iss` check and the code exchange. What is ours is
//! the order of client identities, the loopback listener on 127.0.0.1, the browser, and
//! saying clearly what went wrong.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::Html;
use rmcp::transport::auth::{
    AuthError, AuthorizationManager, AuthorizationMetadata, AuthorizationRequest,
    AuthorizationSession, StoredCredentials,
};
use tokio::io::AsyncBufReadExt;
use tokio::sync::{mpsc, oneshot};

use super::Target;
use super::record::{Adapter, Record};
use crate::errors::chain;
use crate::secrets::SecretStore;

/// How the person is asked to approve.
#[derive(Debug, Clone)]
pub struct Prompt {
    /// Open a browser (else only print the URL).
    pub browser: bool,
    /// Also accept the redirect URL pasted on stdin (`mcpgw login --no-browser`).
    pub paste: bool,
    /// How long to wait for the redirect (or the device approval).
    pub timeout: Duration,
    /// Use the device authorization grant: a code to enter on any device, no redirect.
    pub device: bool,
}

/// The `WWW-Authenticate` challenge of an unauthenticated request, which names the
/// server's protected-resource metadata (and the scopes it wants).
pub async fn probe(target: &Target) -> Result<Option<String>, String> {
    let body = serde_json::json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": { "protocolVersion": crate::protocol::LATEST_PROTOCOL_VERSION, "capabilities": {},
                    "clientInfo": { "name": "mcpgw", "version": env!("CARGO_PKG_VERSION") } }
    });
    let response = target
        .http
        .post(target.url.clone())
        .header("accept", "application/json, text/event-stream")
        .json(&body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| format!("cannot reach {}: {}", target.url, chain(&e)))?;
    Ok(response
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned))
}

/// The SDK's manager for this server. Discovery may only reach private or loopback hosts
/// when the server itself is on one; a server with its own CA uses its own HTTP client.
pub async fn manager(target: &Target, base: &str) -> Result<AuthorizationManager, String> {
    let mut manager = AuthorizationManager::new(base)
        .await
        .map_err(|e| e.to_string())?;
    if target.custom_tls {
        manager
            .with_client(target.http.clone())
            .map_err(|e| e.to_string())?;
    }
    Ok(manager)
}

fn same_origin(url: &str, server: &reqwest::Url) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| u.origin() == server.origin())
}

/// The authorization-server metadata at the server's own root, as 2025-03-26 servers publish
/// it (the SDK refuses its issuer, which names a path below that root).
async fn legacy_metadata(target: &Target) -> Result<AuthorizationMetadata, String> {
    let url = target
        .url
        .join("/.well-known/oauth-authorization-server")
        .map_err(|e| e.to_string())?;
    let response = target
        .http
        .get(url.clone())
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| format!("cannot reach {url}: {}", chain(&e)))?;
    if !response.status().is_success() {
        return Err(format!("{url} answered {}", response.status()));
    }
    let metadata: AuthorizationMetadata = response
        .json()
        .await
        .map_err(|e| format!("{url} is not authorization server metadata: {}", chain(&e)))?;
    if ![&metadata.authorization_endpoint, &metadata.token_endpoint]
        .iter()
        .all(|e| same_origin(e, &target.url))
    {
        return Err(format!(
            "{url} names endpoints on another origin; refusing them"
        ));
    }
    Ok(metadata)
}

/// A full login; the tokens are in the store when it returns.
pub async fn login(
    target: &Target,
    store: Arc<dyn SecretStore>,
    prompt: &Prompt,
    challenge: Option<String>,
    scopes: Option<Vec<String>>,
) -> Result<Record, String> {
    let server = &target.server;
    let challenge = match challenge {
        Some(c) => Some(c),
        None => probe(target).await?,
    };
    let mut manager = manager(target, target.url.as_str()).await?;
    let metadata = match manager
        .resolve_metadata_from_challenge(challenge.as_deref())
        .await
    {
        Ok(resolution) => resolution.metadata,
        Err(AuthError::AuthorizationServerMismatch {
            received_issuer, ..
        }) if same_origin(&received_issuer, &target.url) => {
            // A 2025-03-26 server: no protected-resource metadata, its own authorization
            // metadata at the root, naming an issuer under a path of the same origin.
            legacy_metadata(target).await?
        }
        Err(e) => {
            return Err(format!(
                "cannot find how `{server}` authorizes: {}",
                explain(&e)
            ));
        }
    };
    manager.set_metadata(metadata.clone());

    if prompt.device {
        let scopes = match scopes {
            Some(s) => s,
            None if !target.settings.scopes.is_empty() => target.settings.scopes.clone(),
            None => manager.select_initial_scopes(&[]).await,
        };
        let resource = target.url.to_string();
        return super::device::login(target, store, metadata, resource, scopes, prompt.timeout)
            .await;
    }
    let port = target.settings.redirect_port.unwrap_or(0);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port} for the redirect: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");

    let scopes = match scopes {
        Some(s) => s,
        None if !target.settings.scopes.is_empty() => target.settings.scopes.clone(),
        None => manager.select_initial_scopes(&[]).await,
    };
    let mut request = AuthorizationRequest::new(&redirect_uri)
        .with_client_name("mcpgw")
        .with_initial_scope_selection()
        .with_scopes(scopes.clone());
    let (client_secret, how) = identify(
        target,
        &mut manager,
        &metadata,
        &redirect_uri,
        &scopes,
        &mut request,
    )
    .await?;
    tracing::debug!(server = %server, "client identity: {how}");

    let template = Arc::new(Mutex::new(Record {
        credentials: StoredCredentials::new(String::new(), None, vec![], None),
        client_secret,
        metadata,
        resource: target.url.to_string(),
        url: target.url.to_string(),
    }));
    manager.set_credential_store(Adapter {
        store,
        key: target.settings.store_key.clone(),
        template: template.clone(),
    });
    let session = AuthorizationSession::new(manager, request)
        .await
        .map_err(|(_, e)| format!("cannot start the login to `{server}`: {}", explain(&e)))?;
    let auth_url = reqwest::Url::parse(session.get_authorization_url())
        .map_err(|e| format!("the authorization URL is not valid: {e}"))?;
    let param = |name: &str| {
        auth_url
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let state = param("state").unwrap_or_default();
    if let Some(resource) = param("resource") {
        template.lock().expect("record template").resource = resource;
    }

    announce(server, auth_url.as_str(), prompt).await;
    let spinner = spinner(server);
    let outcome = wait(listener, prompt, &state, &session).await;
    drop(spinner);
    let record = template.lock().expect("record template").clone();
    match outcome {
        Ok(()) if record.credentials.token_response.is_some() => Ok(record),
        Ok(()) => Err(format!("the login to `{server}` ended without tokens")),
        Err(e) => Err(e),
    }
}

/// The client identity, in the spec's order: configured, client ID metadata document (when
/// the server takes them), dynamic registration. Returns the client secret, if any.
async fn identify(
    target: &Target,
    manager: &mut AuthorizationManager,
    metadata: &AuthorizationMetadata,
    redirect_uri: &str,
    scopes: &[String],
    request: &mut AuthorizationRequest,
) -> Result<(Option<String>, &'static str), String> {
    let settings = &target.settings;
    if let Some(id) = &settings.client_id {
        let mut r = request.clone().with_preregistered_client(id);
        if let Some(secret) = &settings.client_secret {
            r = r.with_client_secret(secret);
        }
        *request = r;
        return Ok((settings.client_secret.clone(), "the configured client id"));
    }
    let takes_documents = metadata
        .additional_fields
        .get("client_id_metadata_document_supported")
        .and_then(|v| v.as_bool())
        == Some(true);
    if let Some(url) = settings
        .client_metadata_url
        .as_ref()
        .filter(|_| takes_documents)
    {
        *request = request.clone().with_client_metadata_url(url);
        return Ok((None, "a client ID metadata document"));
    }
    if metadata.registration_endpoint.is_some() {
        let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let registered = manager
            .register_client("mcpgw", redirect_uri, &refs)
            .await
            .map_err(|e| {
                format!(
                    "`{}` refused to register mcpgw: {}",
                    target.server,
                    explain(&e)
                )
            })?;
        let mut r = request
            .clone()
            .with_preregistered_client(&registered.client_id);
        if let Some(secret) = &registered.client_secret {
            r = r.with_client_secret(secret);
        }
        *request = r;
        return Ok((registered.client_secret, "dynamic registration"));
    }
    Err(format!(
        "the authorization server of `{}` offers no way for mcpgw to identify itself (no dynamic registration{}): register a client there and set `oauth.client_id` (or pass --client-id)",
        target.server,
        if takes_documents {
            ", and no `oauth.client_metadata_url` is configured"
        } else {
            " and no client ID metadata documents"
        }
    ))
}

/// Prints the URL (always) and opens the browser (when asked and possible).
async fn announce(server: &str, url: &str, prompt: &Prompt) {
    eprintln!("mcpgw: to log in to `{server}`, open this URL in a browser:\n\n    {url}\n");
    if prompt.paste {
        eprintln!(
            "mcpgw: then paste here the address your browser was sent to (it starts with http://127.0.0.1), or let it reach this machine."
        );
    }
    if prompt.browser {
        let url = url.to_owned();
        let opened = tokio::task::spawn_blocking(move || webbrowser::open(&url))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|r| r);
        if let Err(e) = opened {
            eprintln!("mcpgw: could not open a browser ({e}); open the URL yourself.");
        }
    }
}

/// Whether a browser can be opened here without taking over the terminal.
pub fn can_open_browser() -> bool {
    if std::env::var_os("BROWSER").is_some_and(|b| !b.is_empty()) {
        return true;
    }
    if cfg!(any(target_os = "macos", windows)) {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
}

/// A spinner on stderr while waiting, when stderr is a terminal; it stops when dropped.
struct Spinner(Option<tokio::task::JoinHandle<()>>);

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
            eprint!("\r\x1b[K");
        }
    }
}

fn spinner(server: &str) -> Spinner {
    if !std::io::stderr().is_terminal() {
        return Spinner(None);
    }
    let server = server.to_owned();
    Spinner(Some(tokio::spawn(async move {
        let frames = ['|', '/', '-', '\\'];
        for i in 0.. {
            eprint!("\r{} waiting for the login to `{server}`… ", frames[i % 4]);
            tokio::time::sleep(Duration::from_millis(120)).await;
        }
    })))
}

type Callback = (reqwest::Url, oneshot::Sender<Result<(), String>>);

/// Waits for the redirect (on the loopback listener, or pasted), checks it and exchanges the
/// code. The browser's tab is told the outcome.
async fn wait(
    listener: tokio::net::TcpListener,
    prompt: &Prompt,
    state: &str,
    session: &AuthorizationSession,
) -> Result<(), String> {
    let (tx, mut rx) = mpsc::channel::<Callback>(4);
    let app = axum::Router::new()
        .route("/callback", axum::routing::get(callback))
        .with_state(tx.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let _stop = AbortOnDrop(server);
    let paste = prompt.paste.then(|| {
        let tx = tx.clone();
        AbortOnDrop(tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(url) = reqwest::Url::parse(line.trim()) else {
                    eprintln!("mcpgw: that is not a URL; paste the whole address from the browser");
                    continue;
                };
                let (reply, _) = oneshot::channel();
                let _ = tx.send((url, reply)).await;
            }
        }))
    });
    drop(tx);
    let deadline = tokio::time::sleep(prompt.timeout);
    tokio::pin!(deadline);
    let outcome = tokio::select! {
        got = rx.recv() => match got {
            Some((url, reply)) => {
                let outcome = finish(&url, state, session).await;
                let _ = reply.send(outcome.clone());
                outcome
            }
            None => Err("the redirect listener stopped".into()),
        },
        _ = &mut deadline => Err(format!(
            "no answer came back from the browser within {}; the login was not finished (run it again)",
            humantime::format_duration(prompt.timeout)
        )),
    };
    drop(paste);
    // Let the browser's tab get its page before the listener goes.
    tokio::time::sleep(Duration::from_millis(50)).await;
    outcome
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn callback(
    State(tx): State<mpsc::Sender<Callback>>,
    Query(_params): Query<Vec<(String, String)>>,
    uri: axum::http::Uri,
) -> Html<String> {
    let url = reqwest::Url::parse(&format!("http://127.0.0.1{uri}"));
    let Ok(url) = url else {
        return Html(page("This is not a login redirect."));
    };
    let (reply, answer) = oneshot::channel();
    if tx.send((url, reply)).await.is_err() {
        return Html(page("This login is already over; return to your terminal."));
    }
    match answer.await {
        Ok(Ok(())) => Html(page("Logged in. You can close this tab.")),
        Ok(Err(e)) => Html(page(&format!("The login failed: {}", escape(&e)))),
        Err(_) => Html(page("The login ended; return to your terminal.")),
    }
}

fn page(text: &str) -> String {
    format!("<!doctype html><meta charset=utf-8><title>mcpgw</title><p>mcpgw: {text}</p>")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Checks a redirect and exchanges its code for tokens.
async fn finish(
    url: &reqwest::Url,
    state: &str,
    session: &AuthorizationSession,
) -> Result<(), String> {
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(error) = param("error") {
        let detail = param("error_description")
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return Err(format!("the authorization server refused: {error}{detail}"));
    }
    if param("state").as_deref() != Some(state) {
        return Err(
            "the redirect carries a `state` that is not this login's (a stale or forged link); nothing was stored"
                .into(),
        );
    }
    session
        .handle_callback_url(url.as_str())
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "the code could not be exchanged for tokens: {}",
                explain(&e)
            )
        })
}

/// The SDK's error, with its sources.
pub fn explain(e: &AuthError) -> String {
    chain(e)
}
