//! `mcpgw list`: every configured server, its transport, its state and what it offers.

use std::process::ExitCode;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use super::Context;
use crate::config::{Config, TransportKind};
use crate::hub::{Control, Credential, ServerState, ServerStatus};

pub async fn run(ctx: &Context, json: bool) -> anyhow::Result<ExitCode> {
    let local = ctx.local().await?;
    // Listing waits for every server to start or fail (up to startup_timeout).
    local.tools().await?;
    let mut servers = local.control(Control::Status).await?;
    local.stop().await;
    credential_states(ctx, &mut servers).await;
    if json {
        println!("{}", serde_json::to_string_pretty(&servers)?);
    } else if servers.is_empty() {
        println!(
            "No servers configured. Add [servers.NAME] tables to the config (see examples/mcpgw.toml)."
        );
    } else {
        println!("{}", table(&servers));
    }
    // Scripts and health checks can tell "some server is down" without parsing the table.
    let failed = servers
        .iter()
        .any(|s| matches!(s.state, ServerState::Failed { .. }));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Each server's key and login, from one opening of the store (only when some server has
/// either).
async fn credential_states(ctx: &Context, servers: &mut [ServerStatus]) {
    let config = &ctx.config;
    let uses_store = config
        .servers
        .iter()
        .any(|s| s.needs_secret() || s.oauth().is_some());
    if !uses_store {
        return;
    }
    let store = ctx.open_store().await.map_err(|e| e.to_string());
    key_states(config, &store, servers).await;
    oauth_states(config, &store, servers).await;
}

type Store = Result<std::sync::Arc<dyn crate::secrets::SecretStore>, String>;

/// Whether each server that uses `{secret}` has its key stored: "set", "missing", or why the
/// store cannot tell.
async fn key_states(config: &Config, store: &Store, servers: &mut [ServerStatus]) {
    let needing: Vec<String> = config
        .servers
        .iter()
        .filter(|s| s.needs_secret())
        .map(|s| s.name.clone())
        .collect();
    if needing.is_empty() {
        return;
    }
    let store = store.clone();
    let states = tokio::task::spawn_blocking(move || {
        needing
            .into_iter()
            .map(|name| {
                let state = match &store {
                    Err(e) => Credential::new("unknown", Some(e.clone())),
                    Ok(store) => match store.get(&name, crate::secrets::Kind::ApiKey) {
                        Ok(Some(_)) => Credential::new("set", None),
                        Ok(None) => {
                            Credential::new("missing", Some(format!("run `mcpgw add-key {name}`")))
                        }
                        Err(e) => Credential::new("unknown", Some(e.to_string())),
                    },
                };
                (name, state)
            })
            .collect::<std::collections::HashMap<_, _>>()
    })
    .await
    .unwrap_or_default();
    for server in servers {
        server.key = states.get(&server.name).cloned();
    }
}

/// The login of each server that uses OAuth (or has a login stored): whether there is one,
/// and when its access token expires.
async fn oauth_states(config: &Config, store: &Store, servers: &mut [ServerStatus]) {
    let candidates: Vec<(String, crate::config::HttpConfig, bool)> = config
        .servers
        .iter()
        .filter_map(|s| match (&s.transport, s.oauth()) {
            (crate::config::Transport::Http(h), Some(required)) => {
                Some((s.name.clone(), (**h).clone(), required))
            }
            _ => None,
        })
        .collect();
    if candidates.is_empty() {
        return;
    }
    let store = store.clone();
    let states = tokio::task::spawn_blocking(move || {
        candidates
            .into_iter()
            .filter_map(|(name, http, required)| {
                let login = format!("run `mcpgw login {name}`");
                let state = match &store {
                    Err(_) if !required => return None,
                    Err(e) => Credential::new("unknown", Some(e.clone())),
                    Ok(store) => {
                        match crate::auth::status(&**store, &http.oauth.store_key, &http.url) {
                            Err(e) => Credential::new("unknown", Some(e.to_string())),
                            Ok(None) if required => Credential::new("needs login", Some(login)),
                            Ok(None) => return None,
                            Ok(Some(record)) => describe_login(&record, &login),
                        }
                    }
                };
                Some((name, state))
            })
            .collect::<std::collections::HashMap<_, _>>()
    })
    .await
    .unwrap_or_default();
    for server in servers {
        server.oauth = states.get(&server.name).cloned();
        // A server that refused us for want of a login says so even without `auth = "oauth"`.
        if server.oauth.is_none()
            && let ServerState::Failed { reason, .. } = &server.state
            && reason.cause == crate::upstream::Cause::NeedsLogin
        {
            server.oauth = Some(Credential::new(
                "needs login",
                Some(format!("run `mcpgw login {}`", server.name)),
            ));
        }
    }
}

fn describe_login(record: &crate::auth::Record, login: &str) -> Credential {
    let refreshes = record.has_refresh_token();
    match record.expires_at() {
        None => Credential::new("logged in", None),
        Some(at) if at > crate::auth::now() => {
            let secs = at - crate::auth::now();
            // Minutes are enough, once there are some.
            let left = humantime::format_duration(std::time::Duration::from_secs(if secs >= 60 {
                secs / 60 * 60
            } else {
                secs
            }));
            Credential::new(format!("logged in, expires in {left}"), None)
        }
        Some(_) if refreshes => {
            Credential::new("logged in, token expired (refreshed on next use)", None)
        }
        Some(_) => Credential::new("needs login", Some(format!("the token expired; {login}"))),
    }
}

fn count(n: Option<usize>) -> String {
    n.map_or("-".into(), |n| n.to_string())
}

fn table(servers: &[ServerStatus]) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header([
        "SERVER",
        "TRANSPORT",
        "STATE",
        "AUTH",
        "TOOLS",
        "PROMPTS",
        "RESOURCES",
        "DETAIL",
    ]);
    for s in servers {
        let (state, detail) = match &s.state {
            ServerState::Ready => {
                let info = s.server_info.as_ref();
                let name = info
                    .and_then(|i| i.get("name"))
                    .and_then(|v| v.as_str())
                    .unwrap_or("?");
                let version = info
                    .and_then(|i| i.get("version"))
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                let protocol = s.protocol_version.map_or("", |v| v.as_str());
                let at = if s.transport == TransportKind::Stdio {
                    String::new()
                } else {
                    format!(" at {}", s.target)
                };
                ("ready", format!("{name} {version} (MCP {protocol}){at}"))
            }
            ServerState::Failed { reason, .. } => ("failed", reason.message.clone()),
            ServerState::Starting => ("starting", s.target.clone()),
            ServerState::Idle => (
                "idle",
                format!("stopped (idle): starts when used; {}", s.target),
            ),
            ServerState::Disabled => ("disabled", s.target.clone()),
        };
        table.add_row([
            s.name.clone(),
            s.transport.to_string(),
            state.to_owned(),
            // The table shows the state; --json has the whole sentence.
            match (&s.key, &s.oauth) {
                (Some(k), _) => format!("key {}", k.state),
                (None, Some(o)) => format!("oauth: {}", o.state),
                (None, None) => "-".into(),
            },
            count(s.tools),
            count(s.prompts),
            count(s.resources),
            detail,
        ]);
    }
    table
}
