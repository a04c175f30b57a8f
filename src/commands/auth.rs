//! `mcpgw login` and `mcpgw logout`: OAuth tokens for one remote server, in the secret store.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use super::UsageError;
use crate::auth::{self, LoggedOut, Prompt, Target};
use crate::config::{Config, Transport};
use crate::secrets::SecretStore;

/// The server to log in to: a configured URL server, or the one URL of `mcpgw proxy URL`.
fn target(config: &Config, server: &str) -> anyhow::Result<Target> {
    let found = config
        .servers
        .iter()
        .find(|s| s.name == server || (server.contains("://") && config.servers.len() == 1));
    let Some(found) = found else {
        let known: Vec<&str> = config.servers.iter().map(|s| s.name.as_str()).collect();
        return Err(UsageError(format!(
            "no server `{server}` in the config{}",
            if known.is_empty() {
                String::new()
            } else {
                format!(" (it has: {})", known.join(", "))
            }
        ))
        .into());
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

async fn store(config: &Config) -> anyhow::Result<Arc<dyn SecretStore>> {
    let settings = config.secrets.clone();
    let (store, why) =
        tokio::task::spawn_blocking(move || crate::secrets::open(&settings.store, settings.file))
            .await??;
    tracing::info!("tokens are kept in the {} ({why})", store.describe());
    Ok(store)
}

/// How `mcpgw login` asks.
pub struct How {
    pub no_browser: bool,
    pub device: bool,
    pub timeout: Duration,
}

pub async fn login(config: &Config, server: &str, how: How) -> anyhow::Result<ExitCode> {
    let target = target(config, server)?;
    let store = store(config).await?;
    let prompt = Prompt {
        browser: !how.no_browser && !how.device && auth::can_open_browser(),
        paste: !how.device && (how.no_browser || std::io::stdin().is_terminal()),
        timeout: how.timeout,
        device: how.device,
    };
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

pub async fn logout(config: &Config, server: &str) -> anyhow::Result<ExitCode> {
    let target = target(config, server)?;
    let store = store(config).await?;
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
