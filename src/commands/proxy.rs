//! `mcpgw proxy URL`: stdin/stdout bridged to one remote server, as `npx mcp-remote URL` does,
//! with the gateway's relay (so everything the gateway handles, the proxy handles) but no
//! prefixing: names, URIs and the server's own identity pass through untouched.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use super::{Ask, Context, UsageError};
use crate::cli::ProxyArgs;
use crate::config::Config;
use crate::hub;

/// The one server's config, resolved like any config file so that every check applies.
pub fn config(args: &ProxyArgs) -> anyhow::Result<Config> {
    let mut server = toml::Table::new();
    server.insert("url".into(), args.url.clone().into());
    server.insert("transport".into(), args.transport.clone().into());
    if args.allow_http {
        server.insert("allow_http".into(), true.into());
    }
    let mut headers = toml::Table::new();
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| UsageError(format!("--header {header:?}: write it as 'Name: value'")))?;
        headers.insert(name.trim().to_owned(), value.trim().to_owned().into());
    }
    server.insert("headers".into(), headers.into());
    let mut oauth = toml::Table::new();
    let (mut client_id, mut client_secret) = (args.client_id.clone(), args.client_secret.clone());
    let mut scopes = args.scopes.clone();
    if let Some(info) = &args.static_oauth_client_info {
        let info: StaticClientInfo = serde_json::from_str(info).map_err(|e| {
            UsageError(format!("--static-oauth-client-info: {e} (expected {{\"client_id\": …, \"client_secret\": …}})"))
        })?;
        client_id = client_id.or(Some(info.client_id));
        client_secret = client_secret.or(info.client_secret);
    }
    if let Some(metadata) = &args.static_oauth_client_metadata {
        let metadata: serde_json::Value = serde_json::from_str(metadata)
            .map_err(|e| UsageError(format!("--static-oauth-client-metadata: {e}")))?;
        if let Some(scope) = metadata.get("scope").and_then(|s| s.as_str())
            && scopes.is_empty()
        {
            scopes = scope.split_whitespace().map(str::to_owned).collect();
        }
    }
    if let Some(host) = args
        .host
        .as_deref()
        .filter(|h| !matches!(*h, "localhost" | "127.0.0.1"))
    {
        tracing::warn!("--host {host}: the OAuth redirect always goes to 127.0.0.1");
    }
    if args.resource.is_some() {
        tracing::warn!(
            "--resource is ignored: the resource is the one the server's metadata names"
        );
    }
    for (key, value) in [
        ("client_id", client_id),
        ("client_secret", client_secret),
        ("client_metadata_url", args.client_metadata_url.clone()),
    ] {
        if let Some(v) = value {
            oauth.insert(key.into(), v.into());
        }
    }
    if !scopes.is_empty() {
        oauth.insert("scopes".into(), scopes.into());
    }
    if let Some(port) = args.callback_port {
        oauth.insert("redirect_port".into(), i64::from(port).into());
    }
    if !oauth.is_empty() {
        server.insert("oauth".into(), oauth.into());
    }
    if !args.ignore_tools.is_empty() {
        let mut tools = toml::Table::new();
        tools.insert("deny".into(), args.ignore_tools.clone().into());
        server.insert("tools".into(), tools.into());
    }
    let mut servers = toml::Table::new();
    servers.insert("proxy".into(), server.into());
    let mut root = toml::Table::new();
    root.insert("servers".into(), servers.into());
    let text = toml::to_string(&root)?;
    let mut config = Config::parse(Path::new("proxy"), &text).map_err(|e| {
        // Say it in the command line's words, not the config file's.
        let message = match &e {
            crate::config::ConfigError::Invalid { message, .. } => message.clone(),
            other => other.to_string(),
        };
        UsageError(
            message
                .replace("servers.proxy.", "--")
                .replace("--url", "the URL")
                .replace("set `allow_http = true`", "pass --allow-http")
                .replace("--headers.", "--header ")
                .replace("--oauth.", "--"),
        )
    })?;
    config.path = None;
    // Tokens are kept under the URL, where `mcpgw login URL` finds them too.
    if let Some(crate::config::Transport::Http(h)) =
        config.servers.first_mut().map(|s| &mut s.transport)
    {
        h.oauth.store_key = h.url.to_string();
    }
    config.gateway.passthrough = true;
    config.gateway.catalog_cache = false;
    Ok(config)
}

#[derive(serde::Deserialize)]
struct StaticClientInfo {
    client_id: String,
    client_secret: Option<String>,
}

/// The config of `mcpgw proxy URL` with no other flags: what `mcpgw login URL` logs in to.
pub fn config_for_url(url: &str) -> anyhow::Result<Config> {
    use clap::Parser;
    match crate::cli::Cli::try_parse_from(["mcpgw", "proxy", url]) {
        Ok(crate::cli::Cli {
            command: crate::cli::Command::Proxy(args),
            ..
        }) => config(&args),
        _ => Err(UsageError(format!("{url:?} is not a URL")).into()),
    }
}

pub async fn run(ctx: &Context, ask: Ask) -> anyhow::Result<ExitCode> {
    let config = ctx.config.clone();
    if let Some(server) = config.servers.first() {
        tracing::info!("proxying {}", server.transport.target());
    }
    let services = hub::Services {
        cache: None,
        // Opened when a login or token is first needed: a server that never asks for OAuth
        // costs no keyring connection and no warning about one.
        secrets: Some(Arc::new(
            crate::secrets::Lazy::new(config.secrets.store.clone(), config.secrets.file.clone())
                .or_memory(),
        )),
        // Like mcp-remote: a login opens the browser (or prints the URL) and waits for it.
        prompt: ctx.prompt(ask),
    };
    let (_control, control_rx) = tokio::sync::mpsc::unbounded_channel();
    crate::face::run(
        config,
        crate::stdio::stdin(),
        crate::stdio::stdout(),
        control_rx,
        super::serve::shutdown_signal(),
        services,
    )
    .await;
    Ok(ExitCode::SUCCESS)
}
