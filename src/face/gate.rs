//! The HTTP face's door: a request's key checked ([`super::keys`]), its rate limited (`limit`), and
//! every decision written to the audit log.
//!
//! - No key where one is wanted: 401 `{"error":"Unauthorized","message":"API key required"}`.
//! - A wrong, expired or revoked key: 403 `{"error":"Forbidden","message":"Invalid API key"}`.
//!   Both with `WWW-Authenticate: Bearer`.
//! - Over the key's rate: 429 with `Retry-After` and a JSON body that names the rate.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::audit;
use crate::hub::Stats;
use crate::principal::{Identity, Principal};

use super::keys::{Verdict, Verifier};
use super::limit::Limiter;
use super::oauth::{self, Refusal, Resource};
use super::tls::{Peer, Subject};

pub struct Gate {
    pub keys: Verifier,
    limiter: Limiter,
    /// Access tokens of `[listen.oauth]`, when the face is a protected resource.
    pub oauth: Option<Arc<Resource>>,
}

/// A JSON answer of the face's own (not JSON-RPC): `{"error": …, "message": …}`.
pub fn plain(status: StatusCode, error: &str, message: &str) -> Response {
    let body = json!({ "error": error, "message": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The value of `Authorization: Bearer …`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.get(..7)
                .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
                .map(|_| v[7..].trim())
        })
}

/// The key a request carries: `Authorization: Bearer KEY` or `X-API-Key: KEY`.
fn presented(headers: &HeaderMap) -> Option<&str> {
    bearer(headers)
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
}

/// A refusal: its audit line, its log line, its answer.
struct Refused<'a> {
    outcome: &'a str,
    status: StatusCode,
    error: &'a str,
    message: &'a str,
    refusal: Option<&'a Refusal>,
}

impl Gate {
    pub fn new(keys: Verifier, oauth: Option<Arc<Resource>>) -> Gate {
        if oauth.is_some() {
            keys.require();
        }
        Gate {
            keys,
            limiter: Limiter::default(),
            oauth,
        }
    }

    fn refuse(&self, address: &str, r: Refused<'_>) -> Box<Response> {
        audit::record(audit::Event::Auth {
            key: None,
            address,
            outcome: r.outcome,
            reason: Some(r.message),
        });
        tracing::info!("refused a request from {address}: {}", r.message);
        let mut response = plain(r.status, r.error, r.message);
        // Where to log in, when the face takes access tokens.
        let challenge = match &self.oauth {
            Some(resource) => resource.challenge(r.refusal),
            None => "Bearer".into(),
        };
        if let Ok(value) = challenge.parse() {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        Box::new(response)
    }

    /// Charges `principal` for `n` more requests (the rest of a batch; its first was charged
    /// at the door), or the 429 that refuses them.
    pub fn charge(
        &self,
        principal: &Principal,
        n: u32,
        stats: &Stats,
    ) -> Result<(), Box<Response>> {
        let Some(rate) = principal.rate.filter(|_| n > 0) else {
            return Ok(());
        };
        self.limiter
            .take_n(&principal.name, rate, n)
            .map_err(|wait| over_rate(principal, rate, wait, "-", stats))
    }

    /// Who the request is from (`None`: the face takes no keys), or the answer refusing it
    /// (boxed: it is large, and rare).
    pub async fn admit(
        &self,
        headers: &HeaderMap,
        from: &Peer,
        stats: &Stats,
    ) -> Result<Option<Arc<Principal>>, Box<Response>> {
        let address = from.addr.to_string();
        let principal = match (&self.oauth, bearer(headers)) {
            // An access token, when the face takes them (API keys are never JWTs).
            (Some(resource), Some(token)) if oauth::looks_like_jwt(token) => {
                match resource.verify(token).await {
                    Ok(p) => Arc::new(p),
                    Err(refusal) => {
                        let (outcome, status, error, message) = match &refusal {
                            Refusal::Invalid(why) => (
                                "invalid_token",
                                StatusCode::UNAUTHORIZED,
                                "Unauthorized",
                                why,
                            ),
                            Refusal::Scope(why) => (
                                "insufficient_scope",
                                StatusCode::FORBIDDEN,
                                "Forbidden",
                                why,
                            ),
                        };
                        let refused = Refused {
                            outcome,
                            status,
                            error,
                            message,
                            refusal: Some(&refusal),
                        };
                        return Err(self.refuse(&address, refused));
                    }
                }
            }
            _ => match self.keys.check(presented(headers)) {
                Verdict::Open => return Ok(None),
                Verdict::Key(p) => p,
                // No key, but a client certificate the face's CA signed.
                Verdict::Missing if from.subject.is_some() => {
                    Arc::new(certified(from.subject.as_deref().expect("a subject")))
                }
                Verdict::Missing => {
                    let message = if self.oauth.is_some() {
                        "Access token or API key required"
                    } else {
                        "API key required"
                    };
                    let refused = Refused {
                        outcome: "missing",
                        status: StatusCode::UNAUTHORIZED,
                        error: "Unauthorized",
                        message,
                        refusal: None,
                    };
                    return Err(self.refuse(&address, refused));
                }
                Verdict::Invalid => {
                    let refused = Refused {
                        outcome: "invalid",
                        status: StatusCode::FORBIDDEN,
                        error: "Forbidden",
                        message: "Invalid API key",
                        refusal: None,
                    };
                    return Err(self.refuse(&address, refused));
                }
            },
        };
        if let Some(rate) = principal.rate
            && let Err(wait) = self.limiter.take(&principal.name, rate)
        {
            return Err(over_rate(&principal, rate, wait, &address, stats));
        }
        audit::record(audit::Event::Auth {
            key: Some(&principal.name),
            address: &address,
            outcome: "allowed",
            reason: None,
        });
        Ok(Some(principal))
    }
}

/// The 429 of `principal` over its `rate`, counted and audited.
fn over_rate(
    principal: &Principal,
    rate: crate::principal::Rate,
    wait: std::time::Duration,
    address: &str,
    stats: &Stats,
) -> Box<Response> {
    stats.rate_limited(&principal.name);
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let message = format!(
        "key `{}` is over its rate of {rate}; try again in {secs} s",
        principal.name
    );
    audit::record(audit::Event::Auth {
        key: Some(&principal.name),
        address,
        outcome: "rate_limited",
        reason: Some(&message),
    });
    let mut response = plain(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests", &message);
    response.headers_mut().insert(
        header::RETRY_AFTER,
        secs.to_string().parse().expect("header"),
    );
    Box::new(response)
}

/// The holder of a client certificate: `cert:NAME`, with its name and email as identity.
fn certified(subject: &Subject) -> Principal {
    let mut identity = Identity::default();
    for (field, value) in [
        ("name", Some(&subject.name)),
        ("email", subject.email.as_ref()),
    ] {
        if let Some(value) = value
            && let Err(e) = identity.set(&format!("{field}={value}"))
        {
            tracing::debug!("a client certificate's {field} is not forwarded: {e}");
        }
    }
    Principal {
        name: format!("cert:{}", subject.name),
        identity,
        ..Principal::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_either_header() {
        let mut h = HeaderMap::new();
        assert_eq!(presented(&h), None);
        h.insert("x-api-key", " k1 ".parse().unwrap());
        assert_eq!(presented(&h), Some("k1"));
        h.insert(header::AUTHORIZATION, "bearer k2".parse().unwrap());
        assert_eq!(presented(&h), Some("k2"), "the scheme in any case");
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(presented(&h), Some("k1"), "not a bearer: the other header");
    }
}
