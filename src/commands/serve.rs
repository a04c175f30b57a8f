//! `mcpgw serve`: the gateway on stdin/stdout, until stdin ends or SIGTERM/SIGINT arrives;
//! with `--listen ADDR`, on HTTP (`face::http`) until SIGTERM/SIGINT.

use std::process::ExitCode;

use super::{Ask, Context, UsageError};
use crate::hub;

/// Where `--listen` without an address listens, when the config names no `[listen] address`.
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

pub async fn run(ctx: &Context, listen: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = ctx.config.clone();
    let listen = match listen {
        None => None,
        Some("") => Some(
            config
                .listen
                .address
                .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("an address")),
        ),
        Some(text) => Some(text.parse::<std::net::SocketAddr>().map_err(|e| {
            UsageError(format!(
                "`--listen {text}`: {e} (write it like 127.0.0.1:8080)"
            ))
        })?),
    };
    let keys = match listen {
        Some(addr) => {
            let keys = super::api_keys::store()?;
            crate::face::http::allowed(&addr, &keys, &config.listen).map_err(UsageError)?;
            Some(keys)
        }
        None => None,
    };
    tracing::info!(
        "serving {} server(s) from {}",
        config.servers.iter().filter(|s| s.enabled).count(),
        config
            .path
            .as_ref()
            .map_or("no config file".into(), |p| p.display().to_string())
    );
    let (control, control_rx) = tokio::sync::mpsc::unbounded_channel();
    let cache = config
        .gateway
        .catalog_cache
        .then(|| hub::CatalogCache::default_location(true))
        .flatten();
    let services = hub::Services {
        cache,
        secrets: ctx.gateway_secrets().await,
        prompt: ctx.prompt(Ask::Serve),
    };
    if let (Some(addr), Some(keys)) = (listen, keys) {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let bound = listener.local_addr()?;
        let scheme = if config.listen.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!("serving MCP at {scheme}://{bound}/mcp");
        crate::face::http::run(config, listener, keys, services, shutdown_signal()).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let watcher = tokio::spawn(crate::face::reload::Reloader::new(&config, control).watch());
    crate::face::run(
        config,
        crate::stdio::stdin(),
        crate::stdio::stdout(),
        control_rx,
        shutdown_signal(),
        services,
    )
    .await;
    watcher.abort();
    Ok(ExitCode::SUCCESS)
}

pub(super) use mcpgw_platform::signal::shutdown as shutdown_signal;
