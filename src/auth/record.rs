//! What a login leaves in the secret store, and the lock that keeps several mcpgw processes
//! from logging in or refreshing at the same time.
//!
//! One [`Record`] per server (kind [`Kind::OAuth`]), as JSON: the SDK's own
//! `StoredCredentials` (tokens, client id, granted scopes) plus what a refresh in another
//! process needs without discovering everything again: the client secret (from registration
//! or config), the authorization server's metadata and the resource the tokens are for.
//!
//! [`Adapter`] lets the SDK's `AuthorizationManager` read and write a record through its
//! `CredentialStore` trait. It never locks: the caller holds the [`ServerLock`] around every
//! login and refresh, re-reads the record after taking it, and writes rotated tokens before
//! releasing it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth2::TokenResponse;
use rmcp::transport::auth::{AuthError, AuthorizationMetadata, CredentialStore, StoredCredentials};
use serde::{Deserialize, Serialize};

use crate::secrets::{Kind, Secret, SecretStore};

/// A server's login, as kept in the secret store.
#[derive(Clone, Serialize, Deserialize)]
pub struct Record {
    pub credentials: StoredCredentials,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub metadata: AuthorizationMetadata,
    /// The RFC 8707 resource the tokens were issued for.
    pub resource: String,
    /// The server URL the login was for; a changed URL needs a new login.
    pub url: String,
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("credentials", &self.credentials)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl Record {
    pub fn access_token(&self) -> Option<Secret> {
        let t = self.credentials.token_response.as_ref()?;
        Some(Secret::new(t.access_token().secret().clone()))
    }

    pub fn has_refresh_token(&self) -> bool {
        self.credentials
            .token_response
            .as_ref()
            .is_some_and(|t| t.refresh_token().is_some())
    }

    pub fn refresh_token(&self) -> Option<Secret> {
        let t = self.credentials.token_response.as_ref()?.refresh_token()?;
        Some(Secret::new(t.secret().clone()))
    }

    /// When the access token expires, in seconds since the epoch (`None`: never said).
    pub fn expires_at(&self) -> Option<u64> {
        let t = self.credentials.token_response.as_ref()?;
        Some(self.credentials.token_received_at? + t.expires_in()?.as_secs())
    }

    /// Whether the access token is still good for at least `margin`, or a quarter of its
    /// lifetime when that is shorter (a token that lives a minute is not always stale).
    pub fn fresh(&self, margin: Duration) -> bool {
        let Some(t) = &self.credentials.token_response else {
            return false;
        };
        let lifetime = t.expires_in().unwrap_or(margin);
        let margin = margin.min(lifetime / 4).as_secs();
        self.expires_at().is_none_or(|at| at > now() + margin)
    }

    pub fn scopes(&self) -> &[String] {
        &self.credentials.granted_scopes
    }

    /// The client authentication methods an endpoint (`token`, `revocation`) takes; the
    /// token endpoint's when the other says nothing, and RFC 8414's default after that.
    pub fn auth_methods(&self, endpoint: &str) -> Vec<String> {
        let field = |name: &str| {
            self.metadata
                .additional_fields
                .get(&format!("{name}_endpoint_auth_methods_supported"))
                .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
        };
        field(endpoint)
            .or_else(|| field("token"))
            .unwrap_or_else(|| vec!["client_secret_basic".into()])
    }

    /// The authorization server's RFC 7009 revocation endpoint, when it has one.
    pub fn revocation_endpoint(&self) -> Option<&str> {
        self.metadata
            .additional_fields
            .get("revocation_endpoint")?
            .as_str()
    }
}

/// Reads and writes a server's record (blocking: call from the blocking pool).
pub fn load(store: &dyn SecretStore, key: &str) -> Result<Option<Record>, String> {
    let Some(secret) = store.get(key, Kind::OAuth).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    match serde_json::from_str(secret.expose()) {
        Ok(record) => Ok(Some(record)),
        Err(_) => {
            tracing::warn!("the stored login for `{key}` cannot be read; it is ignored");
            Ok(None)
        }
    }
}

pub fn save(store: &dyn SecretStore, key: &str, record: &Record) -> Result<(), String> {
    let json = serde_json::to_string(record).map_err(|e| e.to_string())?;
    store
        .set(key, Kind::OAuth, &Secret::new(json))
        .map_err(|e| e.to_string())
}

/// The SDK's view of one record. `save` writes the SDK's credentials into `template` (the
/// rest of the record) and stores it; `load` reads the store.
#[derive(Clone)]
pub struct Adapter {
    pub store: Arc<dyn SecretStore>,
    pub key: String,
    pub template: Arc<Mutex<Record>>,
}

fn store_error(e: impl std::fmt::Display) -> AuthError {
    AuthError::CredentialStoreError(e.to_string())
}

#[async_trait::async_trait]
impl CredentialStore for Adapter {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        let (store, key) = (self.store.clone(), self.key.clone());
        let record = tokio::task::spawn_blocking(move || load(&*store, &key))
            .await
            .map_err(store_error)?
            .map_err(store_error)?;
        Ok(record.map(|r| r.credentials))
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        let record = {
            let mut template = self.template.lock().expect("record template");
            template.credentials = credentials;
            template.clone()
        };
        let (store, key) = (self.store.clone(), self.key.clone());
        tokio::task::spawn_blocking(move || save(&*store, &key, &record))
            .await
            .map_err(store_error)?
            .map_err(store_error)
    }

    async fn clear(&self) -> Result<(), AuthError> {
        let (store, key) = (self.store.clone(), self.key.clone());
        tokio::task::spawn_blocking(move || store.delete(&key, Kind::OAuth))
            .await
            .map_err(store_error)?
            .map(|_| ())
            .map_err(store_error)
    }
}

/// A per-server lock file, held across a login or a refresh by whichever mcpgw process does
/// it; the others wait, then find the fresh tokens in the store.
pub struct ServerLock(#[allow(dead_code)] mcpgw_platform::lock::FileLock);

impl ServerLock {
    /// Waits for the lock of `key` (blocking: call from the blocking pool).
    pub fn acquire(key: &str) -> Result<ServerLock, String> {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(key.as_bytes());
        let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        let path = mcpgw_platform::paths::lock_dir().join(format!("oauth-{name}.lock"));
        mcpgw_platform::lock::FileLock::acquire(&path)
            .map(ServerLock)
            .map_err(|e| format!("cannot lock {}: {e}", path.display()))
    }

    pub async fn acquire_async(key: &str) -> Result<ServerLock, String> {
        let key = key.to_owned();
        tokio::task::spawn_blocking(move || ServerLock::acquire(&key))
            .await
            .map_err(|e| e.to_string())?
    }
}
