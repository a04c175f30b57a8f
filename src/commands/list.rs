//! `mcpgw list`: every configured server, its transport, its state and what it offers.

use std::process::ExitCode;
use std::sync::Arc;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use super::Local;
use crate::config::Config;
use crate::gateway::{Control, ServerState, ServerStatus};

pub async fn run(config: Arc<Config>, json: bool) -> anyhow::Result<ExitCode> {
    let local = Local::start(config.clone()).await?;
    // Listing waits for every server to start or fail (up to startup_timeout).
    local.tools().await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    local.control.send(Control::Status(tx))?;
    let mut servers = rx.await?;
    local.stop().await;
    key_states(&config, &mut servers).await;
    if json {
        println!("{}", serde_json::to_string_pretty(&servers)?);
    } else if servers.is_empty() {
        println!(
            "No servers configured. Add [servers.NAME] tables to the config (see examples/mcpgw.toml)."
        );
    } else {
        println!("{}", table(&servers));
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether each server that uses `{secret}` has its key stored: "set", "missing", or why the
/// store cannot tell.
async fn key_states(config: &Config, servers: &mut [ServerStatus]) {
    let needing: Vec<String> = config
        .servers
        .iter()
        .filter(|s| s.needs_secret())
        .map(|s| s.name.clone())
        .collect();
    if needing.is_empty() {
        return;
    }
    let settings = config.secrets.clone();
    let states = tokio::task::spawn_blocking(move || {
        let store = crate::secrets::open(&settings.store, settings.file);
        needing
            .into_iter()
            .map(|name| {
                let state = match &store {
                    Err(e) => format!("unknown: {e}"),
                    Ok((store, _)) => match store.get(&name, crate::secrets::Kind::ApiKey) {
                        Ok(Some(_)) => "set".to_owned(),
                        Ok(None) => format!("missing: run `mcpgw add-key {name}`"),
                        Err(e) => format!("unknown: {e}"),
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
        "KEY",
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
                let protocol = s.protocol_version.as_deref().unwrap_or("");
                let at = if s.transport == "stdio" {
                    String::new()
                } else {
                    format!(" at {}", s.target)
                };
                ("ready", format!("{name} {version} (MCP {protocol}){at}"))
            }
            ServerState::Failed { reason, .. } => ("failed", reason.clone()),
            ServerState::Starting => ("starting", s.target.clone()),
            ServerState::Disabled => ("disabled", s.target.clone()),
        };
        table.add_row([
            s.name.clone(),
            s.transport.to_owned(),
            state.to_owned(),
            // The table shows the word; --json has the whole sentence.
            s.key
                .as_deref()
                .map_or("-", |k| k.split(':').next().unwrap_or(k))
                .to_owned(),
            count(s.tools),
            count(s.prompts),
            count(s.resources),
            detail,
        ]);
    }
    table
}
