//! The HTTP face as an OAuth protected resource (`[listen.oauth]`): access tokens that the
//! organisation's authorization server issued for this face are a way in, beside API keys.
//!
//! - Its Protected Resource Metadata (RFC 9728) is served at
//!   `/.well-known/oauth-protected-resource` (and `…/mcp`), naming the issuer, so that any
//!   client of the MCP authorization spec finds where to log in; a 401 says where it is
//!   (`WWW-Authenticate: Bearer resource_metadata="…"`).
//! - A token is a JWT (RFC 9068) checked against the issuer's keys (its JWKS, found through its
//!   metadata, fetched again when a token names a key not seen yet, at most every
//!   [`REFETCH`]): the signature (asymmetric algorithms only; `none` never), `iss`, `aud` (the
//!   resource, or `audience`), `exp` and `nbf` (with [`LEEWAY`]), and every scope of `scopes`.
//!   A bad token gets 401 `invalid_token`; one without a scope, 403 `insufficient_scope`.
//! - Its holder is `oauth:<sub>`; claims give the identity (`claims`: `email`, `name`,
//!   `team`, `roles`, `org`) and, with a `servers` claim, the servers it reaches.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use tokio::sync::RwLock;
use tokio::time::Instant;

use crate::config::FaceOAuth;
use crate::principal::{Identity, Principal, Scope};

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY: u64 = 5;
/// The least time between two fetches of the issuer's keys.
pub const REFETCH: Duration = Duration::from_secs(30);

const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

pub struct Resource {
    settings: FaceOAuth,
    /// The face's URL (`resource` in the metadata and the default audience).
    resource: String,
    metadata_url: String,
    keys: RwLock<Keys>,
    fetching: tokio::sync::Mutex<()>,
    http: reqwest::Client,
}

#[derive(Default)]
struct Keys {
    set: Option<JwkSet>,
    fetched: Option<Instant>,
}

/// Why a token is refused.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// 401 `invalid_token`.
    Invalid(String),
    /// 403 `insufficient_scope`.
    Scope(String),
}

/// Whether a bearer value is shaped like a JWT (three base64url parts).
pub fn looks_like_jwt(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts[..2].iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl Resource {
    /// The resource of `settings`, at `base` (`http(s)://ADDRESS`) unless it names its own.
    pub fn new(settings: FaceOAuth, base: &str) -> Resource {
        let resource = settings
            .resource
            .clone()
            .unwrap_or_else(|| format!("{base}/mcp"));
        let origin = url::Url::parse(&resource)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| base.to_owned());
        let path = url::Url::parse(&resource)
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Resource {
            metadata_url: format!("{origin}/.well-known/oauth-protected-resource{path}"),
            resource,
            settings,
            keys: RwLock::default(),
            fetching: tokio::sync::Mutex::new(()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// The Protected Resource Metadata.
    pub fn metadata(&self) -> Value {
        json!({
            "resource": self.resource,
            "authorization_servers": [self.settings.issuer],
            "scopes_supported": self.settings.scopes,
            "bearer_methods_supported": ["header"],
            "resource_name": "mcpgw",
        })
    }

    /// `WWW-Authenticate` for a 401 or 403: where to learn how to log in, and what went wrong.
    pub fn challenge(&self, refusal: Option<&Refusal>) -> String {
        let mut value = format!("Bearer resource_metadata=\"{}\"", self.metadata_url);
        if !self.settings.scopes.is_empty() {
            value.push_str(&format!(", scope=\"{}\"", self.settings.scopes.join(" ")));
        }
        let quoted = |s: &str| s.replace(['"', '\\'], "'");
        match refusal {
            Some(Refusal::Invalid(why)) => value.push_str(&format!(
                ", error=\"invalid_token\", error_description=\"{}\"",
                quoted(why)
            )),
            Some(Refusal::Scope(why)) => value.push_str(&format!(
                ", error=\"insufficient_scope\", error_description=\"{}\"",
                quoted(why)
            )),
            None => {}
        }
        value
    }

    /// The holder of `token`, or why it is refused.
    pub async fn verify(&self, token: &str) -> Result<Principal, Refusal> {
        let invalid = |why: String| Refusal::Invalid(why);
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| invalid(format!("not a signed JWT: {e}")))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(invalid(format!(
                "tokens signed with {:?} are not accepted",
                header.alg
            )));
        }
        let key = self.key(header.kid.as_deref(), header.alg).await?;
        let audience = self.settings.audience.as_deref().unwrap_or(&self.resource);
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY;
        validation.validate_nbf = true;
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| invalid(format!("the token is not valid here: {e}")))?
            .claims;
        let granted: Vec<&str> = match claims.get("scope").or_else(|| claims.get("scp")) {
            Some(Value::String(s)) => s.split_whitespace().collect(),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let missing: Vec<&str> = self
            .settings
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| !granted.contains(s))
            .collect();
        if !missing.is_empty() {
            return Err(Refusal::Scope(format!(
                "the token lacks the scope {}",
                missing.join(" ")
            )));
        }
        Ok(self.principal(&claims))
    }

    /// Who the claims say the holder is.
    fn principal(&self, claims: &Value) -> Principal {
        let claim = |field: &str| {
            let name = self
                .settings
                .claims
                .iter()
                .find(|(f, _)| f == field)
                .map(|(_, c)| c.as_str())?;
            claims.get(name)
        };
        let text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            _ => None,
        };
        let mut identity = Identity::default();
        for field in ["email", "name", "team", "roles", "org"] {
            if let Some(value) = claim(field).and_then(text)
                && let Err(e) = identity.set(&format!("{field}={value}"))
            {
                tracing::debug!("a token's {field} is not forwarded: {e}");
            }
        }
        // Once a claim says which servers, a token without it reaches none (identity
        // providers leave empty claims out).
        let mapped = self.settings.claims.iter().any(|(f, _)| f == "servers");
        let servers = match claim("servers") {
            Some(Value::Array(a)) => Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            ),
            Some(Value::String(s)) => Some(s.split_whitespace().map(str::to_owned).collect()),
            _ if mapped => Some(vec![]),
            _ => None,
        };
        let subject = claims.get("sub").and_then(Value::as_str).unwrap_or("?");
        Principal {
            name: format!("oauth:{subject}"),
            scope: Scope::new(servers, vec![]).unwrap_or_default(),
            identity,
            ..Principal::default()
        }
    }

    /// The issuer's key `kid` (the only one, when the token names none), fetching the keys
    /// again when it is not known yet.
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, Refusal> {
        for attempt in 0..2 {
            {
                let keys = self.keys.read().await;
                if let Some(set) = &keys.set {
                    let found = match kid {
                        Some(kid) => set.find(kid),
                        None if set.keys.len() == 1 => set.keys.first(),
                        None => None,
                    };
                    if let Some(jwk) = found {
                        return DecodingKey::from_jwk(jwk).map_err(|e| {
                            Refusal::Invalid(format!("the issuer's key for {alg:?}: {e}"))
                        });
                    }
                }
                if attempt == 1 {
                    break;
                }
            }
            self.fetch_keys().await;
        }
        Err(Refusal::Invalid(format!(
            "the token is signed with a key the issuer does not publish ({})",
            kid.unwrap_or("no kid")
        )))
    }

    /// Fetches the issuer's keys, through its metadata: at most once per [`REFETCH`], failed
    /// or not.
    async fn fetch_keys(&self) {
        // One fetch at a time; those who waited for it use what it brought.
        let _one = self.fetching.lock().await;
        {
            let mut keys = self.keys.write().await;
            if keys.fetched.is_some_and(|at| at.elapsed() < REFETCH) {
                return;
            }
            keys.fetched = Some(Instant::now());
        }
        // No lock is held meanwhile: a slow issuer holds up no verification of a known key.
        match self.jwks().await {
            Ok(set) => self.keys.write().await.set = Some(set),
            Err(e) => {
                tracing::warn!(issuer = %self.settings.issuer, "cannot fetch the issuer's keys: {e}")
            }
        }
    }

    async fn jwks(&self) -> Result<JwkSet, String> {
        let issuer = &self.settings.issuer;
        let mut jwks_uri = None;
        for path in [
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ] {
            let got = self
                .http
                .get(format!("{}{path}", issuer.trim_end_matches('/')))
                .send()
                .await;
            if let Ok(r) = got
                && r.status().is_success()
                && let Ok(meta) = r.json::<Value>().await
            {
                if meta.get("issuer").and_then(Value::as_str) != Some(issuer.as_str()) {
                    return Err(format!("its metadata at {path} names another issuer"));
                }
                jwks_uri = meta
                    .get("jwks_uri")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                break;
            }
        }
        let jwks_uri = jwks_uri.ok_or("no metadata with a jwks_uri")?;
        self.http
            .get(&jwks_uri)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json::<JwkSet>()
            .await
            .map_err(|e| format!("{jwks_uri}: {e}"))
    }
}

/// The resource for `settings` at `base`, shared.
pub fn resource(settings: &Option<FaceOAuth>, base: &str) -> Option<Arc<Resource>> {
    settings
        .as_ref()
        .map(|s| Arc::new(Resource::new(s.clone(), base)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> FaceOAuth {
        FaceOAuth {
            issuer: "https://id.example.com".into(),
            resource: None,
            audience: None,
            scopes: vec!["mcp".into()],
            claims: vec![
                ("email".into(), "email".into()),
                ("team".into(), "groups".into()),
                ("servers".into(), "mcp_servers".into()),
            ],
        }
    }

    #[test]
    fn metadata_and_challenges_name_the_resource() {
        let r = Resource::new(settings(), "http://127.0.0.1:8080");
        assert_eq!(r.metadata()["resource"], "http://127.0.0.1:8080/mcp");
        assert_eq!(
            r.metadata()["authorization_servers"][0],
            "https://id.example.com"
        );
        assert_eq!(
            r.challenge(None),
            "Bearer resource_metadata=\"http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp\", scope=\"mcp\""
        );
        let bad = r.challenge(Some(&Refusal::Scope("no \"mcp\"".into())));
        assert!(
            bad.ends_with("error=\"insufficient_scope\", error_description=\"no 'mcp'\""),
            "{bad}"
        );
    }

    #[test]
    fn claims_make_the_principal() {
        let r = Resource::new(settings(), "http://127.0.0.1:8080");
        let p = r.principal(&json!({
            "sub": "ana", "email": "ana@example.com", "groups": ["core", "ops"], "mcp_servers": ["a"]
        }));
        assert_eq!(p.name, "oauth:ana");
        assert_eq!(p.identity.email.as_deref(), Some("ana@example.com"));
        assert_eq!(p.identity.team.as_deref(), Some("core,ops"));
        assert!(p.scope.allows_server("a") && !p.scope.allows_server("b"));
        let nothing = r.principal(&json!({ "sub": "bot" }));
        assert!(!nothing.scope.allows_server("a"), "no claim: no server");
        let mut open = settings();
        open.claims.retain(|(f, _)| f != "servers");
        let everything =
            Resource::new(open, "http://127.0.0.1:8080").principal(&json!({ "sub": "bot" }));
        assert!(everything.scope.is_everything(), "no mapping: every server");
    }

    #[test]
    fn only_jwts_are_taken_for_tokens() {
        assert!(looks_like_jwt("eyJh.eyJi.c2ln"));
        assert!(
            looks_like_jwt("eyJh.eyJi."),
            "unsigned: still shaped like one (and refused)"
        );
        assert!(!looks_like_jwt("mcpgw_abc"));
        assert!(!looks_like_jwt("a.b"));
    }
}
