//! A client of 2026-07-28 and a server of the handshake era that asks it something: the
//! server sends `elicitation/create` (or sampling, or roots) while serving the client's
//! `tools/call`, `prompts/get` or `resources/read`; this revision has no requests to the
//! client. So the client's request is answered `input_required`, naming the server's request
//! as its one input request, with a `requestState` that names the held server request; the
//! server's call stays in flight. The client's retry (a new id, `inputResponses` and that
//! state) answers the server's request, and the call's final answer goes to the retry.
//!
//! The state is a token mcpgw can check, not a secret: an HMAC-SHA256 under a key made for
//! this process, over the session it was given to, the held request's number and its expiry.
//! A forged or altered token, one given to another client, or one past its expiry is
//! refused, and nothing reaches the server.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::protocol::RequestId;

/// What a held server request waits for.
#[derive(Debug)]
pub struct Held {
    /// The client's request the server's call serves (its latest id: the retry's, once
    /// retried).
    pub client_id: RequestId,
    /// The client's method, which its retry must repeat.
    pub method: &'static str,
    /// When the client was asked: a finished call whose client never comes back is
    /// forgotten after [`EXPIRES`].
    pub asked_at: tokio::time::Instant,
    pub server: usize,
    /// The server's own request, which the client's input answers.
    pub theirs: RequestId,
    /// Its key in `inputRequests`.
    pub key: String,
    /// The `input_required` answer the client got (sent again if it comes back without
    /// the input).
    pub asked: Box<serde_json::value::RawValue>,
    /// The call's answer, if it came before the client's retry.
    pub finished: Option<crate::protocol::Outcome>,
}

/// How long a client has to come back with its input.
pub const EXPIRES: Duration = Duration::from_secs(15 * 60);

const PREFIX: &str = "mcpgw1";

fn key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = [0; 32];
        getrandom::fill(&mut key).expect("the OS has randomness");
        key
    })
}

fn mac(body: &str) -> String {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key()).expect("any key length");
    mac.update(body.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The `requestState` for held request `held` of `session`.
pub fn seal(session: u64, held: u64) -> String {
    let body = format!(
        "{PREFIX}.{session}.{held}.{}",
        now_secs() + EXPIRES.as_secs()
    );
    let mac = mac(&body);
    format!("{body}.{mac}")
}

/// Why a `requestState` is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    NotOurs,
    Forged,
    Foreign,
    Expired,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refused::NotOurs => "it is not a state mcpgw gave",
            Refused::Forged => "it was altered or forged",
            Refused::Foreign => "it was given to another client",
            Refused::Expired => "it has expired",
        })
    }
}

/// The held request's number in `token`, if the token is one mcpgw gave `session` and has
/// not expired.
pub fn open(token: &str, session: u64) -> Result<u64, Refused> {
    open_at(token, session, now_secs())
}

fn open_at(token: &str, session: u64, now: u64) -> Result<u64, Refused> {
    let (body, tag) = token.rsplit_once('.').ok_or(Refused::NotOurs)?;
    let mut parts = body.split('.');
    if parts.next() != Some(PREFIX) {
        return Err(Refused::NotOurs);
    }
    let numbers: Vec<u64> = parts
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| Refused::NotOurs)?;
    let [owner, held, expires] = numbers[..] else {
        return Err(Refused::NotOurs);
    };
    // Compared in constant time: a MAC check must not tell how much of a guess was right.
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key()).expect("any key length");
    mac.update(body.as_bytes());
    let tag: Vec<u8> = (0..tag.len())
        .step_by(2)
        .map(|i| {
            tag.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<_>>()
        .ok_or(Refused::Forged)?;
    mac.verify_slice(&tag).map_err(|_| Refused::Forged)?;
    if owner != session {
        return Err(Refused::Foreign);
    }
    if now > expires {
        return Err(Refused::Expired);
    }
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_opens_only_for_its_session_unaltered_and_in_time() {
        let token = seal(3, 41);
        assert_eq!(open(&token, 3), Ok(41));
        assert_eq!(open(&token, 4), Err(Refused::Foreign));
        // Another held number with the old tag.
        let forged = token.replacen(".41.", ".42.", 1);
        assert_eq!(open(&forged, 3), Err(Refused::Forged));
        let mut flipped = token.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert_eq!(open(&flipped, 3), Err(Refused::Forged));
        assert_eq!(open("v1.something-else", 3), Err(Refused::NotOurs));
        assert_eq!(open("mcpgw1.3.41.x.00", 3), Err(Refused::NotOurs));
        let later = now_secs() + EXPIRES.as_secs() + 1;
        assert_eq!(open_at(&token, 3, later), Err(Refused::Expired));
    }
}
