//! `mcpgw login` and `mcpgw logout`: OAuth tokens for one remote server, in the secret store.

use std::process::ExitCode;
use std::time::Duration;

use super::{Ask, Context, UsageError};
use crate::auth::{self, LoggedOut, Target};
use crate::config::Transport;

/// The server to log in to: a configured URL server, or the one URL of `mcpgw proxy URL`.
fn target(ctx: &Context, server: &str) -> anyhow::Result<Target> {
    let servers = &ctx.config.servers;
    let found = match servers.first() {
        Some(only) if server.contains("://") && servers.len() == 1 => only,
        _ => ctx.server(server)?,
    };
    let Transport::Http(http) = &found.transport else {
        return Err(UsageError(format!(
            "`{server}` is a command server; OAuth is for remote (url) servers. Its keys go in with `mcpgw add-key {server}`"
        ))
        .into());
    };
    if http.auth == crate::config::AuthMode::None {
        return Err(UsageError(format!("`{server}` is configured with `auth = \"none\"`")).into());
    }
    let client = crate::upstream::http_client(http).map_err(anyhow::Error::msg)?;
    Ok(Target::new(http, client))
}

pub async fn login(ctx: &Context, server: &str, ask: Ask) -> anyhow::Result<ExitCode> {
    let target = target(ctx, server)?;
    let store = ctx.open_store().await?;
    let prompt = ctx.prompt(ask).expect("a login may always ask");
    let record = auth::login_now(&target, store.clone(), &prompt)
        .await
        .map_err(|e| anyhow::anyhow!("login to `{}` failed: {e}", target.server))?;
    let expiry = record
        .expires_at()
        .map(|at| {
            format!(
                "; the access token expires in {}",
                humantime::format_duration(Duration::from_secs(at.saturating_sub(auth::now())))
            )
        })
        .unwrap_or_default();
    let refresh = if record.has_refresh_token() {
        ", and refreshes by itself"
    } else {
        ""
    };
    eprintln!(
        "mcpgw: logged in to `{}`{expiry}{refresh}. Tokens are in the {}.",
        target.server,
        store.describe()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn logout(ctx: &Context, server: &str) -> anyhow::Result<ExitCode> {
    let target = target(ctx, server)?;
    let store = ctx.open_store().await?;
    match auth::logout(&target, store)
        .await
        .map_err(anyhow::Error::msg)?
    {
        LoggedOut::NotLoggedIn => {
            eprintln!("mcpgw: not logged in to `{}`; nothing to do", target.server)
        }
        LoggedOut::Forgotten(None) => eprintln!(
            "mcpgw: forgot the tokens of `{}` (its server offers no revocation; they stay valid there until they expire)",
            target.server
        ),
        LoggedOut::Forgotten(Some(Ok(()))) => {
            eprintln!(
                "mcpgw: revoked and forgot the tokens of `{}`",
                target.server
            )
        }
        LoggedOut::Forgotten(Some(Err(e))) => eprintln!(
            "mcpgw: forgot the tokens of `{}`, but revoking them failed ({e}); they stay valid there until they expire",
            target.server
        ),
    }
    Ok(ExitCode::SUCCESS)
}
