//! OAuth for remote servers: `mcpgw login`, tokens in the secret store, refresh, step-up,
//! logout, and the bearer token on every request to a server that asked for one.
//!
//! [`OAuth`] is one server's token source, shared by every request task of its HTTP actor.
//! Requests carry the current access token; a 401 leads to a refresh (or, where a browser can
//! be opened, one login), a 403 `insufficient_scope` to a login for the union of scopes.
//! Many tasks meeting a 401 at once cause one refresh: the first does it, the others find the
//! new token. Many processes likewise: login and refresh happen under a per-server lock file,
//! and the store is read again after taking it ([`record::ServerLock`]).

mod device;
mod login;
mod record;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rmcp::transport::auth::{AuthError, OAuthClientConfig};

pub use login::{Prompt, can_open_browser};
pub use record::{Record, ServerLock, now};

use crate::config::OAuthSettings;
use crate::secrets::{Secret, SecretStore};
use record::Adapter;

/// Refresh this long before the access token expires.
const MARGIN: Duration = Duration::from_secs(60);

/// The server a login is for.
#[derive(Clone)]
pub struct Target {
    /// For messages: the server's name, or the URL for `mcpgw proxy`.
    pub server: String,
    pub url: reqwest::Url,
    pub settings: OAuthSettings,
    /// The server's own HTTP client (its CA and client certificate).
    pub http: reqwest::Client,
    pub custom_tls: bool,
}

impl Target {
    pub fn new(config: &crate::config::HttpConfig, http: reqwest::Client) -> Target {
        Target {
            server: config.oauth.store_key.clone(),
            url: config.url.clone(),
            settings: config.oauth.clone(),
            http,
            custom_tls: config.tls.ca.is_some() || config.tls.client_cert.is_some(),
        }
    }

    /// What to run to log in.
    pub fn login_command(&self) -> String {
        format!("mcpgw login {}", self.server)
    }
}

/// Why a request cannot carry a valid token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Problem {
    #[error("`{server}` needs a login{why}: run `{command}`")]
    NeedsLogin {
        server: String,
        why: String,
        command: String,
    },
    #[error("{0}")]
    Failed(String),
}

/// One server's tokens, as its requests use them.
pub struct OAuth {
    target: Target,
    store: Option<Arc<dyn SecretStore>>,
    /// How to ask the person, when this process may (serve and proxy); `None`: never.
    prompt: Option<Prompt>,
    /// A browser login was started and did not succeed: do not open another by itself.
    tried: AtomicBool,
    /// The record last read or written.
    state: tokio::sync::Mutex<Option<Record>>,
    /// Whether the store was read yet.
    read: AtomicBool,
}

impl OAuth {
    pub fn new(
        target: Target,
        store: Option<Arc<dyn SecretStore>>,
        prompt: Option<Prompt>,
    ) -> OAuth {
        OAuth {
            target,
            store,
            prompt,
            tried: AtomicBool::new(false),
            state: tokio::sync::Mutex::new(None),
            read: AtomicBool::new(false),
        }
    }

    fn needs_login(&self, why: &str) -> Problem {
        Problem::NeedsLogin {
            server: self.target.server.clone(),
            why: why.to_owned(),
            command: self.target.login_command(),
        }
    }

    fn store(&self) -> Result<Arc<dyn SecretStore>, Problem> {
        self.store.clone().ok_or_else(|| {
            Problem::Failed(format!(
                "`{}` needs OAuth, and no secret store is available to keep its tokens (see the log)",
                self.target.server
            ))
        })
    }

    /// The stored record, if it is for this server's URL.
    async fn load(&self) -> Result<Option<Record>, Problem> {
        let store = self.store()?;
        let key = self.target.settings.store_key.clone();
        let record = tokio::task::spawn_blocking(move || record::load(&*store, &key))
            .await
            .map_err(|e| Problem::Failed(e.to_string()))?
            .map_err(Problem::Failed)?;
        Ok(record.filter(|r| r.url == self.target.url.as_str()))
    }

    /// The access token to send, refreshed first when it is about to expire; `None` when
    /// there is no login yet (the server's 401 will say what it wants).
    pub async fn bearer(&self) -> Result<Option<Secret>, Problem> {
        if self.store.is_none() {
            return Ok(None); // no tokens can have been kept; a 401 says what is missing
        }
        let mut state = self.state.lock().await;
        // The store is read once, then again only for a stale token (another process may have
        // refreshed it) or after a 401: a server that never asks for OAuth costs no reads.
        if !self.read.swap(true, Ordering::SeqCst)
            || state.as_ref().is_some_and(|r| !r.fresh(MARGIN))
        {
            match self.load().await {
                Ok(record) => *state = record,
                // No store, so no tokens: a server that never asks for OAuth works without
                // one, and a 401 will say what is missing.
                Err(e) if state.is_none() => {
                    tracing::debug!(server = %self.target.server, "{e}");
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
        let Some(record) = state.as_ref() else {
            return Ok(None);
        };
        if record.fresh(MARGIN) || !record.has_refresh_token() {
            return Ok(record.access_token());
        }
        let stale = record.access_token();
        match self.refresh(&mut state, stale.as_ref()).await {
            Ok(token) => Ok(Some(token)),
            // Send what we have; the 401 that follows leads to a login where one can happen.
            Err(Problem::NeedsLogin { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// After a 401 to a request that carried `sent`: another token (from another task,
    /// process or terminal), a refresh, or a login. Ok means: send it again.
    pub async fn unauthorized(
        &self,
        challenge: Option<String>,
        sent: Option<&Secret>,
    ) -> Result<(), Problem> {
        let mut state = self.state.lock().await;
        *state = self.load().await?;
        if let Some(r) = state.as_ref()
            && r.fresh(Duration::ZERO)
            && !same(r.access_token().as_ref(), sent)
        {
            return Ok(());
        }
        if state.as_ref().is_some_and(Record::has_refresh_token) && sent.is_some() {
            match self.refresh(&mut state, sent).await {
                Ok(_) => return Ok(()),
                Err(Problem::NeedsLogin { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let why = if sent.is_some() {
            " again (its token was refused)"
        } else {
            ""
        };
        self.login(&mut state, challenge, None, sent, why).await
    }

    /// After a 403 `insufficient_scope`: a login for the scopes held plus the ones asked for.
    pub async fn insufficient_scope(
        &self,
        challenge: String,
        sent: Option<&Secret>,
    ) -> Result<(), Problem> {
        let mut state = self.state.lock().await;
        *state = self.load().await?;
        let params =
            rmcp::transport::auth::WWWAuthenticateParams::parse(&challenge, &self.target.url);
        let mut scopes: Vec<String> = state
            .as_ref()
            .map(|r| r.scopes().to_vec())
            .unwrap_or_default();
        for s in params
            .scope
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
        {
            if !scopes.iter().any(|have| have == s) {
                scopes.push(s.to_owned());
            }
        }
        if let Some(r) = state.as_ref()
            && scopes.iter().all(|s| r.scopes().contains(s))
        {
            if !same(r.access_token().as_ref(), sent) {
                return Ok(()); // someone else already got the wider token
            }
            // Asking again for what was granted would loop.
            return Err(Problem::Failed(format!(
                "`{}` refuses the token for lacking scopes it was granted ({}); logging in again would not help",
                self.target.server,
                params.scope.as_deref().unwrap_or("none named")
            )));
        }
        self.login(
            &mut state,
            Some(challenge),
            Some(scopes),
            sent,
            " with more scopes",
        )
        .await
    }

    /// A new access token from the refresh token, under the server's lock. `NeedsLogin` when
    /// the authorization server refuses the refresh token.
    async fn refresh(
        &self,
        state: &mut Option<Record>,
        stale: Option<&Secret>,
    ) -> Result<Secret, Problem> {
        let key = &self.target.settings.store_key;
        let _lock = ServerLock::acquire_async(key)
            .await
            .map_err(Problem::Failed)?;
        let Some(record) = self.load().await? else {
            return Err(self.needs_login(""));
        };
        if record.fresh(MARGIN)
            && let Some(token) = record.access_token().filter(|t| !same(Some(t), stale))
        {
            tracing::debug!(server = %self.target.server, "another process refreshed the token");
            *state = Some(record);
            return Ok(token);
        }
        let failed = |e: String| {
            Problem::Failed(format!(
                "refreshing the token of `{}` failed: {e}",
                self.target.server
            ))
        };
        let mut manager = login::manager(&self.target, &record.resource)
            .await
            .map_err(failed)?;
        manager.set_metadata(record.metadata.clone());
        let mut client = OAuthClientConfig::new(
            record.credentials.client_id.clone(),
            "http://127.0.0.1/callback",
        );
        if let Some(secret) = &record.client_secret {
            client = client.with_client_secret(secret);
        }
        manager
            .configure_client(client)
            .map_err(|e| failed(e.to_string()))?;
        let template = Arc::new(std::sync::Mutex::new(record));
        manager.set_credential_store(Adapter {
            store: self.store()?,
            key: key.clone(),
            template: template.clone(),
        });
        match manager.refresh_token().await {
            Ok(_) => {
                let record = template.lock().expect("record template").clone();
                tracing::info!(server = %self.target.server, "refreshed its access token");
                audit(&self.target.server, "refresh");
                let token = record
                    .access_token()
                    .ok_or_else(|| failed("no access token".into()))?;
                *state = Some(record);
                Ok(token)
            }
            Err(AuthError::TokenRefreshRejected(_) | AuthError::AuthorizationRequired) => {
                audit(&self.target.server, "refresh_refused");
                Err(self.needs_login(" (its refresh token was refused)"))
            }
            Err(e) => {
                audit(&self.target.server, "refresh_failed");
                Err(failed(login::explain(&e)))
            }
        }
    }

    /// A browser login, when this process may start one (once, unless it succeeds), under
    /// the server's lock; a login finished meanwhile elsewhere is used instead.
    async fn login(
        &self,
        state: &mut Option<Record>,
        challenge: Option<String>,
        scopes: Option<Vec<String>>,
        sent: Option<&Secret>,
        why: &str,
    ) -> Result<(), Problem> {
        let Some(prompt) = &self.prompt else {
            return Err(self.needs_login(why));
        };
        if self.tried.swap(true, Ordering::SeqCst) {
            return Err(self.needs_login(why));
        }
        let key = &self.target.settings.store_key;
        let _lock = ServerLock::acquire_async(key)
            .await
            .map_err(Problem::Failed)?;
        if let Some(r) = self.load().await?
            && r.fresh(Duration::ZERO)
            && !same(r.access_token().as_ref(), sent)
            && scopes
                .as_ref()
                .is_none_or(|s| s.iter().all(|s| r.scopes().contains(s)))
        {
            self.tried.store(false, Ordering::SeqCst);
            *state = Some(r);
            return Ok(());
        }
        tracing::info!(server = %self.target.server, "logging in{why}");
        let change = if scopes.is_some() { "step_up" } else { "login" };
        let record = login::login(&self.target, self.store()?, prompt, challenge, scopes)
            .await
            .map_err(|e| {
                audit(&self.target.server, &format!("{change}_failed"));
                Problem::Failed(format!("login to `{}` failed: {e}", self.target.server))
            })?;
        audit(&self.target.server, change);
        self.tried.store(false, Ordering::SeqCst);
        *state = Some(record);
        Ok(())
    }
}

fn same(a: Option<&Secret>, b: Option<&Secret>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.expose() == b.expose(),
        (None, None) => true,
        _ => false,
    }
}

/// `mcpgw login`: a login now, whatever is stored, under the server's lock.
pub async fn login_now(
    target: &Target,
    store: Arc<dyn SecretStore>,
    prompt: &Prompt,
) -> Result<Record, String> {
    let _lock = ServerLock::acquire_async(&target.settings.store_key).await?;
    let done = login::login(target, store, prompt, None, None).await;
    audit(
        &target.server,
        if done.is_ok() {
            "login"
        } else {
            "login_failed"
        },
    );
    done
}

/// A credential event of `server` for the audit log.
fn audit(server: &str, change: &str) {
    crate::audit::record(crate::audit::Event::Credential { server, change });
}

/// What `mcpgw logout` did.
pub enum LoggedOut {
    NotLoggedIn,
    /// Deleted; whether the server revoked the tokens (`None`: it offers no revocation),
    /// and why not.
    Forgotten(Option<Result<(), String>>),
}

/// `mcpgw logout`: revoke (RFC 7009) where the server offers it, then forget.
pub async fn logout(target: &Target, store: Arc<dyn SecretStore>) -> Result<LoggedOut, String> {
    let key = target.settings.store_key.clone();
    let _lock = ServerLock::acquire_async(&key).await?;
    let (s, k) = (store.clone(), key.clone());
    let Some(record) = tokio::task::spawn_blocking(move || record::load(&*s, &k))
        .await
        .map_err(|e| e.to_string())??
    else {
        return Ok(LoggedOut::NotLoggedIn);
    };
    let revoked = match record.revocation_endpoint() {
        None => None,
        Some(endpoint) => Some(revoke(target, &record, endpoint).await),
    };
    tokio::task::spawn_blocking(move || store.delete(&key, crate::secrets::Kind::OAuth))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let change = match &revoked {
        Some(Ok(())) => "revoked",
        _ => "logout",
    };
    audit(&target.server, change);
    Ok(LoggedOut::Forgotten(revoked))
}

/// RFC 7009: the refresh token first (which ends the grant), then the access token.
async fn revoke(target: &Target, record: &Record, endpoint: &str) -> Result<(), String> {
    let tokens = [
        (record.refresh_token(), "refresh_token"),
        (record.access_token(), "access_token"),
    ];
    for (token, hint) in tokens {
        let Some(token) = token else { continue };
        let mut outcome = revoke_one(target, record, endpoint, &token, hint, false).await;
        // Some servers (the Python SDK's) insist on a `client_secret` field even for public
        // clients: give them an empty one.
        if let Err((400, body)) = &outcome
            && record.client_secret.is_none()
            && body.contains("client_secret")
        {
            outcome = revoke_one(target, record, endpoint, &token, hint, true).await;
        }
        outcome.map_err(|(status, body)| match status {
            0 => body,
            _ => format!(
                "{endpoint} answered {status}: {}",
                body.chars().take(200).collect::<String>()
            ),
        })?;
    }
    Ok(())
}

/// One RFC 7009 request; the error is the HTTP status (0: none) and the body.
async fn revoke_one(
    target: &Target,
    record: &Record,
    endpoint: &str,
    token: &Secret,
    hint: &str,
    empty_secret: bool,
) -> Result<(), (u16, String)> {
    let mut form = vec![
        ("token", token.expose().to_owned()),
        ("token_type_hint", hint.to_owned()),
    ];
    let mut request = target.http.post(endpoint).timeout(Duration::from_secs(30));
    let client_id = record.credentials.client_id.clone();
    match &record.client_secret {
        Some(secret)
            if record
                .auth_methods("revocation")
                .iter()
                .any(|m| m == "client_secret_basic") =>
        {
            request = request.basic_auth(&client_id, Some(secret));
        }
        Some(secret) => form.extend([("client_id", client_id), ("client_secret", secret.clone())]),
        None if empty_secret => {
            form.extend([("client_id", client_id), ("client_secret", String::new())])
        }
        None => form.push(("client_id", client_id)),
    }
    let response = request
        .form(&form)
        .send()
        .await
        .map_err(|e| (0, format!("cannot reach {endpoint}: {e}")))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    Err((status.as_u16(), response.text().await.unwrap_or_default()))
}

/// A login's state for `mcpgw list` (blocking: reads the store).
pub fn status(
    store: &dyn SecretStore,
    key: &str,
    url: &reqwest::Url,
) -> Result<Option<Record>, String> {
    Ok(record::load(store, key)?.filter(|r| r.url == url.as_str()))
}
