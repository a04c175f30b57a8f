//! `mcpgw proxy URL`: stdin/stdout bridged to one remote server, as `npx mcp-remote URL` does,
//! with the gateway's relay (so everything the gateway handles, the proxy handles) but no
//! prefixing: names, URIs and the server's own identity pass through untouched.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use super::UsageError;
use crate::cli::ProxyArgs;
use crate::config::Config;
use crate::gateway;

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
                .replace("--headers.", "--header "),
        )
    })?;
    config.path = None;
    config.gateway.passthrough = true;
    config.gateway.catalog_cache = false;
    Ok(config)
}

pub async fn run(config: Arc<Config>) -> anyhow::Result<ExitCode> {
    if let Some(server) = config.servers.first() {
        tracing::info!("proxying {}", server.transport.target());
    }
    let (_control, control_rx) = tokio::sync::mpsc::unbounded_channel();
    gateway::run(
        config,
        crate::stdio::stdin(),
        crate::stdio::stdout(),
        control_rx,
        super::serve::shutdown_signal(),
        gateway::Services::default(),
    )
    .await;
    Ok(ExitCode::SUCCESS)
}
