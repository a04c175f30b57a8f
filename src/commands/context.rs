//! What every command starts from: the config, and one way each to find a server by name,
//! open the secret store, ask a person for a login, and drive a gateway in this process.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::UsageError;
use crate::auth::Prompt;
use crate::client::{self, Client};
use crate::config::{Config, ServerConfig};
use crate::hub::{self, Control};
use crate::secrets::SecretStore;

/// How long a login waits for the browser to come back.
pub(crate) const LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

pub(crate) struct Context {
    pub config: Arc<Config>,
}

/// Who asks for a login, and how they may.
pub(crate) enum Ask {
    /// `mcpgw serve`: a browser, when one can be opened here; else the tool error says which
    /// command to run.
    Serve,
    /// `mcpgw proxy`: like mcp-remote, a browser (or the printed URL) or a device code.
    Proxy { no_browser: bool, device: bool },
    /// `mcpgw login`: a browser, a pasted redirect, or a device code.
    Login {
        no_browser: bool,
        device: bool,
        timeout: Duration,
    },
}

impl Context {
    pub fn new(config: Config) -> Context {
        Context {
            config: Arc::new(config),
        }
    }

    /// The server called `name`; otherwise a usage error that names the config and the
    /// nearest name there is.
    pub fn server(&self, name: &str) -> Result<&ServerConfig, UsageError> {
        let servers = &self.config.servers;
        if let Some(found) = servers.iter().find(|s| s.name == name) {
            return Ok(found);
        }
        let nearest = servers
            .iter()
            .map(|s| (strsim::jaro_winkler(name, &s.name), &s.name))
            .filter(|(score, _)| *score > 0.7)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map_or(String::new(), |(_, n)| format!("; did you mean `{n}`?"));
        let place = self
            .config
            .path
            .as_ref()
            .map_or("the config".to_owned(), |p| p.display().to_string());
        Err(UsageError(format!(
            "no server named `{name}` in {place}{nearest}"
        )))
    }

    /// The secret store, opened now; blocking (the store's own calls are).
    pub fn store(&self) -> anyhow::Result<Arc<dyn SecretStore>> {
        let settings = &self.config.secrets;
        let (store, why) = crate::secrets::open(&settings.store, settings.file.clone())?;
        tracing::debug!("secrets are kept in the {} ({why})", store.describe());
        Ok(store)
    }

    /// [`Context::store`] from async code.
    pub async fn open_store(&self) -> anyhow::Result<Arc<dyn SecretStore>> {
        let context = Context {
            config: self.config.clone(),
        };
        tokio::task::spawn_blocking(move || context.store()).await?
    }

    /// The store a gateway's servers use: opened now when some server uses `{secret}` or
    /// `auth = "oauth"` (why it cannot be goes to the log, and those servers say it when they
    /// start), on first use when a remote server may only ask for OAuth, and `None` when
    /// nothing needs one.
    pub async fn gateway_secrets(&self) -> crate::upstream::Secrets {
        let config = &self.config;
        let enabled = || config.servers.iter().filter(|s| s.enabled);
        let settings = config.secrets.clone();
        if !enabled().any(|s| s.needs_secret() || s.oauth() == Some(true)) {
            return enabled().any(|s| s.oauth().is_some()).then(|| {
                Arc::new(crate::secrets::Lazy::new(settings.store, settings.file))
                    as Arc<dyn SecretStore>
            });
        }
        match self.open_store().await {
            Ok(store) => {
                tracing::info!("secrets are kept in the {}", store.describe());
                Some(store)
            }
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        }
    }

    /// How a login may ask the person; `None`: it may not (the error says what to run).
    pub fn prompt(&self, ask: Ask) -> Option<Prompt> {
        let browser = crate::auth::can_open_browser();
        match ask {
            Ask::Serve => browser.then_some(Prompt {
                browser: true,
                paste: false,
                timeout: LOGIN_TIMEOUT,
                device: false,
            }),
            Ask::Proxy { no_browser, device } => Some(Prompt {
                browser: !no_browser && !device && browser,
                paste: false,
                timeout: LOGIN_TIMEOUT,
                device,
            }),
            Ask::Login {
                no_browser,
                device,
                timeout,
            } => {
                use std::io::IsTerminal;
                Some(Prompt {
                    browser: !no_browser && !device && browser,
                    paste: !device && (no_browser || std::io::stdin().is_terminal()),
                    timeout,
                    device,
                })
            }
        }
    }

    /// A gateway in this process with every server of the config, initialized by a client
    /// as an AI client would (`list`, `tools`, `call`).
    pub async fn local(&self) -> anyhow::Result<Local> {
        let config = self.config.clone();
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
        let services = hub::Services {
            cache,
            secrets: self.gateway_secrets().await,
            prompt: None,
        };
        let gateway = tokio::spawn(crate::face::run(
            config,
            gateway_read,
            gateway_write,
            control_rx,
            std::future::pending(),
            services,
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
}

/// A gateway running in this process, driven through a client as an AI client would.
pub(crate) struct Local {
    pub client: Client,
    control: mpsc::UnboundedSender<Control>,
    gateway: tokio::task::JoinHandle<()>,
}

impl Local {
    /// Every tool, after waiting (up to `startup_timeout`) for the servers to start.
    pub async fn tools(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        Ok(self.client.list_all("tools/list", "tools").await?)
    }

    /// Asks the hub something that is not MCP.
    pub async fn control<T>(
        &self,
        ask: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> Control,
    ) -> anyhow::Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.control.send(ask(tx))?;
        Ok(rx.await?)
    }

    /// Stops the upstreams and waits for them to exit.
    pub async fn stop(self) {
        drop(self.client);
        drop(self.control);
        let _ = self.gateway.await;
    }
}
