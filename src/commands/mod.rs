//! One file per subcommand, each with a `run`; this file dispatches and holds what they share.

mod auth;
mod call;
mod completions;
mod import;
mod keys;
mod list;
mod proxy;
mod serve;
mod tools;

use std::process::ExitCode;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::cli::{Cli, Command};
use crate::client::{self, Client};
use crate::config::Config;
use crate::hub::{self, Control};

/// A mistake in how the command was called: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Runs the parsed command line; the caller maps the error to a message and exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Completions { shell } = cli.command {
        return completions::run(shell);
    }
    let default_level = if matches!(cli.command, Command::Serve | Command::Proxy(_)) {
        "info"
    } else {
        "warn"
    };
    let (verbose, quiet) = match &cli.command {
        Command::Proxy(p) => (cli.verbose.max(u8::from(p.debug)), cli.quiet || p.silent),
        _ => (cli.verbose, cli.quiet),
    };
    crate::logging::init(verbose, quiet, default_level, cli.log_file.as_deref())?;
    let config = Arc::new(match &cli.command {
        Command::Proxy(args) => proxy::config(args)?,
        Command::Login { server, .. } | Command::Logout { server } if server.contains("://") => {
            proxy::config_for_url(server)?
        }
        // Importing is how a config file comes to exist: a missing one is a fresh start.
        Command::Import { .. } => match Config::load(cli.config.as_deref()) {
            Err(crate::config::ConfigError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Config::default()
            }
            other => other?,
        },
        _ => Config::load(cli.config.as_deref())?,
    });
    // The secret store is synchronous: these two need no runtime.
    match &cli.command {
        Command::AddKey { server, stdin } => return keys::add(&config, server, *stdin),
        Command::RemoveKey { server } => return keys::remove(&config, server),
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve::run(config).await,
            Command::Import { file, dry_run } => {
                import::run(&config, cli.config.clone(), file, dry_run).await
            }
            Command::Proxy(args) => proxy::run(config, args.no_browser, args.device).await,
            Command::Login {
                server,
                no_browser,
                device,
                timeout,
            } => {
                let how = auth::How {
                    no_browser,
                    device,
                    timeout: timeout.unwrap_or(LOGIN_TIMEOUT),
                };
                auth::login(&config, &server, how).await
            }
            Command::Logout { server } => auth::logout(&config, &server).await,
            Command::List { json } => list::run(config, json).await,
            Command::Tools { server, json } => tools::run(config, server, json).await,
            Command::Call {
                tool,
                arguments,
                json,
            } => call::run(config, tool, arguments, json).await,
            Command::Completions { .. } | Command::AddKey { .. } | Command::RemoveKey { .. } => {
                unreachable!("handled above")
            }
        }
    });
    // stdin's reader thread would keep a graceful runtime shutdown waiting for input.
    runtime.shutdown_background();
    code
}

/// The secret store, opened now when some server uses `{secret}` or `auth = "oauth"` (why it
/// cannot be opened goes to the log, and those servers say it when they start), and on first
/// use when a remote server may only ask for OAuth. `None` when nothing needs one.
pub(crate) async fn secrets_for(config: &Config) -> crate::upstream::Secrets {
    let enabled = || config.servers.iter().filter(|s| s.enabled);
    let settings = config.secrets.clone();
    if !enabled().any(|s| s.needs_secret() || s.oauth() == Some(true)) {
        return enabled().any(|s| s.oauth().is_some()).then(|| {
            Arc::new(crate::secrets::Lazy::new(settings.store, settings.file))
                as Arc<dyn crate::secrets::SecretStore>
        });
    }
    open_secrets(config).await
}

/// The secret store, opened now; why it cannot be is logged.
async fn open_secrets(config: &Config) -> crate::upstream::Secrets {
    let settings = config.secrets.clone();
    let opened =
        tokio::task::spawn_blocking(move || crate::secrets::open(&settings.store, settings.file))
            .await
            .ok()?;
    match opened {
        Ok((store, why)) => {
            tracing::info!("secrets are kept in the {} ({why})", store.describe());
            Some(store)
        }
        Err(e) => {
            tracing::warn!("{e}");
            None
        }
    }
}

/// How `serve` asks for a login: in a browser, when one can be opened here.
pub(crate) fn serve_prompt() -> Option<crate::auth::Prompt> {
    crate::auth::can_open_browser().then_some(crate::auth::Prompt {
        browser: true,
        paste: false,
        timeout: LOGIN_TIMEOUT,
        device: false,
    })
}

/// How long a login waits for the browser to come back.
pub(crate) const LOGIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// A gateway running in this process, driven through a client as an AI client would.
pub(crate) struct Local {
    pub client: Client,
    pub control: mpsc::UnboundedSender<Control>,
    gateway: tokio::task::JoinHandle<()>,
}

impl Local {
    pub async fn start(config: Arc<Config>) -> anyhow::Result<Local> {
        let (client_side, gateway_side) = tokio::io::duplex(1 << 16);
        let (gateway_read, gateway_write) = tokio::io::split(gateway_side);
        let (client_read, client_write) = tokio::io::split(client_side);
        let (control, control_rx) = mpsc::unbounded_channel();
        // The commands show the servers' live state: they refresh the cache, never read it.
        let cache = config
            .gateway
            .catalog_cache
            .then(|| hub::CatalogCache::default_location(false))
            .flatten();
        let wait = config.gateway.startup_timeout + config.gateway.request_timeout;
        let config_for_secrets = config.clone();
        let gateway = tokio::spawn(crate::face::run(
            config,
            gateway_read,
            gateway_write,
            control_rx,
            std::future::pending(),
            hub::Services {
                cache,
                secrets: secrets_for(&config_for_secrets).await,
                prompt: None,
            },
        ));
        let mut client = Client::new(client_read, client_write, client::no_handler());
        client.timeout = wait;
        client.initialize(serde_json::json!({})).await?;
        Ok(Local {
            client,
            control,
            gateway,
        })
    }

    /// Every tool, after waiting (up to `startup_timeout`) for the servers to start.
    pub async fn tools(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        Ok(self.client.list_all("tools/list", "tools").await?)
    }

    /// Stops the upstreams and waits for them to exit.
    pub async fn stop(self) {
        drop(self.client);
        drop(self.control);
        let _ = self.gateway.await;
    }
}

/// Prints an error for a person and picks the exit code: 2 for usage, quiet for a closed
/// pipe (`mcpgw tools | head`), 1 otherwise.
pub fn report(error: &anyhow::Error) -> ExitCode {
    if error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    eprintln!("mcpgw: {}", crate::errors::chain(error.as_ref()));
    if error.downcast_ref::<UsageError>().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}
