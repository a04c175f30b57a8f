//! `mcpgw serve`: the gateway on stdin/stdout, until stdin ends or SIGTERM/SIGINT arrives.

use std::process::ExitCode;

use super::{Ask, Context};
use crate::hub;

pub async fn run(ctx: &Context) -> anyhow::Result<ExitCode> {
    let config = ctx.config.clone();
    tracing::info!(
        "serving {} server(s) from {}",
        config.servers.iter().filter(|s| s.enabled).count(),
        config
            .path
            .as_ref()
            .map_or("no config file".into(), |p| p.display().to_string())
    );
    let (_control, control_rx) = tokio::sync::mpsc::unbounded_channel();
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
    crate::face::run(
        config,
        crate::stdio::stdin(),
        crate::stdio::stdout(),
        control_rx,
        shutdown_signal(),
        services,
    )
    .await;
    Ok(ExitCode::SUCCESS)
}

pub(super) use mcpgw_platform::signal::shutdown as shutdown_signal;
