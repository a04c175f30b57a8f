//! Headless login with the device authorization grant (RFC 8628): mcpgw shows a code and a
//! URL to open on any device, then polls the token endpoint until the person approves.
//!
//! The official SDK has no device flow, so this uses the `oauth2` crate it is built on. The
//! discovery before it and the record after it are the same as a browser login's.

use std::sync::Arc;
use std::time::Duration;

use oauth2::{
    ClientId, ClientSecret, DeviceAuthorizationUrl, Scope, StandardDeviceAuthorizationResponse,
    TokenResponse, TokenUrl, basic::BasicClient,
};
use rmcp::transport::auth::{AuthorizationMetadata, OAuthTokenResponse, StoredCredentials};

use super::Target;
use super::record::{Record, now, save};
use crate::errors::chain;
use crate::secrets::SecretStore;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The whole device login; the tokens are in the store when it returns.
pub async fn login(
    target: &Target,
    store: Arc<dyn SecretStore>,
    metadata: AuthorizationMetadata,
    resource: String,
    scopes: Vec<String>,
    timeout: Duration,
) -> Result<Record, String> {
    let server = &target.server;
    let endpoint = metadata
        .additional_fields
        .get("device_authorization_endpoint")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            format!("the authorization server of `{server}` offers no device authorization; log in with --no-browser instead")
        })?
        .to_owned();
    let (client_id, client_secret) = match &target.settings.client_id {
        Some(id) => (id.clone(), target.settings.client_secret.clone()),
        None => register(target, &metadata).await?,
    };
    let mut client = BasicClient::new(ClientId::new(client_id.clone()))
        .set_device_authorization_url(
            DeviceAuthorizationUrl::new(endpoint).map_err(|e| e.to_string())?,
        )
        .set_token_uri(TokenUrl::new(metadata.token_endpoint.clone()).map_err(|e| e.to_string())?);
    if let Some(secret) = &client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    let http = |request: oauth2::HttpRequest| {
        let http = target.http.clone();
        async move { execute(&http, request).await }
    };
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scopes(scopes.iter().cloned().map(Scope::new))
        .add_extra_param("resource", resource.clone())
        .request_async(&http)
        .await
        .map_err(|e| format!("the device authorization request failed: {}", chain(&e)))?;
    let open = details
        .verification_uri_complete()
        .map(|u| u.secret().clone())
        .unwrap_or_else(|| details.verification_uri().to_string());
    eprintln!(
        "mcpgw: to log in to `{server}`, open {open}\n       on any device and enter the code:  {}\n",
        details.user_code().secret()
    );
    let token = client
        .exchange_device_access_token(&details)
        .add_extra_param("resource", resource.clone())
        .request_async(&http, tokio::time::sleep, Some(timeout))
        .await
        .map_err(|e| format!("the device login did not complete: {}", chain(&e)))?;
    let granted: Vec<String> = match token.scopes() {
        Some(s) => s.iter().map(|s| s.to_string()).collect(),
        None => scopes,
    };
    // The SDK's token type, so that its refresh takes over from here.
    let token: OAuthTokenResponse = serde_json::to_value(&token)
        .and_then(serde_json::from_value)
        .map_err(|e| e.to_string())?;
    let issuer = metadata.issuer.clone();
    let record = Record {
        credentials: StoredCredentials::new(client_id, Some(token), granted, Some(now()))
            .with_issuer(issuer),
        client_secret,
        metadata,
        resource,
        url: target.url.to_string(),
    };
    let (key, saved) = (target.settings.store_key.clone(), record.clone());
    tokio::task::spawn_blocking(move || save(&*store, &key, &saved))
        .await
        .map_err(|e| e.to_string())??;
    Ok(record)
}

/// Dynamic registration for the device grant (the SDK registers for the code grant only).
async fn register(
    target: &Target,
    metadata: &AuthorizationMetadata,
) -> Result<(String, Option<String>), String> {
    let endpoint = metadata.registration_endpoint.as_deref().ok_or_else(|| {
        format!(
            "the authorization server of `{}` offers no dynamic registration: register a client there and set `oauth.client_id`",
            target.server
        )
    })?;
    #[derive(serde::Deserialize)]
    struct Registered {
        client_id: String,
        client_secret: Option<String>,
    }
    let body = serde_json::json!({
        "client_name": "mcpgw",
        "grant_types": [DEVICE_GRANT, "refresh_token"],
        "token_endpoint_auth_method": "none",
        "redirect_uris": [],
        "response_types": [],
    });
    let response = target
        .http
        .post(endpoint)
        .json(&body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| format!("cannot reach {endpoint}: {}", chain(&e)))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        return Err(format!(
            "`{}` refused to register mcpgw for the device grant: HTTP {status}: {}",
            target.server,
            text.chars().take(200).collect::<String>()
        ));
    }
    let registered: Registered = response
        .json()
        .await
        .map_err(|e| format!("the registration answer is not JSON: {}", chain(&e)))?;
    Ok((
        registered.client_id,
        registered.client_secret.filter(|s| !s.is_empty()),
    ))
}

/// One request of the `oauth2` crate, through the server's own HTTP client.
async fn execute(
    http: &reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, std::io::Error> {
    let request = reqwest::Request::try_from(request).map_err(std::io::Error::other)?;
    let response = http.execute(request).await.map_err(std::io::Error::other)?;
    let mut answer = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        answer = answer.header(name, value);
    }
    let body = response.bytes().await.map_err(std::io::Error::other)?;
    answer.body(body.to_vec()).map_err(std::io::Error::other)
}
