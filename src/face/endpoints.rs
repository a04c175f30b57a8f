//! The HTTP face's endpoints beside `/mcp`: `GET /health` (open to anyone), `GET /servers`,
//! `GET /servers/NAME` and `GET /stats` (what the caller's key may see), the Protected
//! Resource Metadata (open, with `[listen.oauth]`) and `POST /admin/reload` (an admin key).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::oneshot;

use crate::hub::{self, Control, ServerState};
use crate::principal::Principal;

use super::gate::plain;
use super::http::{Caller, Face};

/// The routes, for the face's router.
pub(super) fn routes() -> axum::Router<Arc<Face>> {
    axum::Router::new()
        .route("/health", axum::routing::get(health))
        .route("/servers", axum::routing::get(servers))
        .route("/servers/{name}", axum::routing::get(server))
        .route("/stats", axum::routing::get(stats))
        .route(
            "/.well-known/oauth-protected-resource",
            axum::routing::get(resource_metadata),
        )
        .route(
            "/.well-known/oauth-protected-resource/{*path}",
            axum::routing::get(resource_metadata),
        )
        .route("/admin/reload", axum::routing::post(admin_reload))
}

/// Open to anyone (load balancers): whether mcpgw runs, and how many servers are ready.
async fn health(State(face): State<Arc<Face>>) -> Response {
    let statuses = statuses(&face).await;
    let ready = statuses
        .iter()
        .filter(|s| matches!(s.state, ServerState::Ready))
        .count();
    let body = json!({
        "status": "ok",
        "servers": { "ready": ready, "total": statuses.len() },
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn statuses(face: &Face) -> Vec<hub::ServerStatus> {
    let (tx, rx) = oneshot::channel();
    let _ = face.control.send(Control::Status(tx));
    rx.await.unwrap_or_default()
}

fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string_pretty(body).unwrap_or_default(),
    )
        .into_response()
}

/// The servers the key may use, as `mcpgw list --json` shows them.
async fn servers(State(face): State<Arc<Face>>, Caller(principal): Caller) -> Response {
    json_response(
        StatusCode::OK,
        &visible_statuses(&face, principal.as_deref()).await,
    )
}

/// The servers `principal` may see.
async fn visible_statuses(face: &Face, principal: Option<&Principal>) -> Vec<hub::ServerStatus> {
    let mut list = statuses(face).await;
    if let Some(p) = principal {
        list.retain(|s| p.scope.allows_server(&s.name));
        if !p.admin {
            // A command line or URL may hold what only its operator should read.
            for s in &mut list {
                s.target = String::new();
            }
        }
        if !p.scope.tools().is_empty() {
            // How many of a server's tools the globs allow is for its lists to say.
            for s in &mut list {
                s.tools = None;
            }
        }
    }
    list
}

/// Calls, errors and latency percentiles per server and per key: an admin key's of every
/// one, another key's of its own servers and itself.
async fn stats(State(face): State<Arc<Face>>, Caller(principal): Caller) -> Response {
    let report = match principal.as_deref() {
        None => face.hub.stats.report(|_| true, |_| true),
        Some(p) if p.admin => face.hub.stats.report(|_| true, |_| true),
        Some(p) => face
            .hub
            .stats
            .report(|s| p.scope.allows_server(s), |k| k == p.name),
    };
    json_response(StatusCode::OK, &report)
}

/// One server, as `mcpgw list --json` shows it.
async fn server(
    State(face): State<Arc<Face>>,
    Caller(principal): Caller,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let visible = visible_statuses(&face, principal.as_deref()).await;
    match visible.into_iter().find(|s| s.name == name) {
        Some(status) => json_response(StatusCode::OK, &status),
        None => plain(
            StatusCode::NOT_FOUND,
            "Not Found",
            &format!("no server named `{name}`"),
        ),
    }
}

/// The Protected Resource Metadata (RFC 9728), open to anyone, when the face takes access
/// tokens.
async fn resource_metadata(State(face): State<Arc<Face>>) -> Response {
    match &face.gate.oauth {
        Some(resource) => json_response(StatusCode::OK, &resource.metadata()),
        None => plain(
            StatusCode::NOT_FOUND,
            "Not Found",
            "this gateway takes no access tokens (no [listen.oauth])",
        ),
    }
}

/// Reads the config again (an admin key's, when keys exist): what changed, or why the new
/// config is refused (the running one stays).
async fn admin_reload(State(face): State<Arc<Face>>, Caller(principal): Caller) -> Response {
    if let Some(p) = principal.as_deref().filter(|p| !p.admin) {
        crate::audit::record(crate::audit::Event::Admin {
            key: Some(&p.name),
            action: "reload",
            outcome: "forbidden",
        });
        return plain(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!("key `{}` is not an admin key", p.name),
        );
    }
    let who = principal.as_deref().map(|p| p.name.as_str());
    match face.reloader.reload("POST /admin/reload", who).await {
        Ok(done) => json_response(StatusCode::OK, &done),
        Err(e) => plain(StatusCode::BAD_REQUEST, "Invalid config", &e),
    }
}
