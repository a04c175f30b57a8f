//! The states of servers as `mcpgw list` shows them.

use std::time::Duration;

use serde::Serialize;

use crate::config::TransportKind;
use crate::protocol::Version;
use crate::upstream::DownReason;

/// Where an upstream is in its life.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum ServerState {
    Disabled,
    Starting,
    Ready,
    /// Not running, its lists known: started by its next request (`start = "lazy"`, or
    /// stopped after `idle_stop` unused).
    Idle,
    Failed {
        #[serde(flatten)]
        reason: DownReason,
        #[serde(serialize_with = "as_secs")]
        retry_in: Duration,
    },
}

impl ServerState {
    /// Why a server in this state cannot take a request, for messages.
    pub fn reason(&self) -> String {
        match self {
            ServerState::Failed { reason, .. } => reason.message.clone(),
            ServerState::Starting => "it is still starting".into(),
            ServerState::Disabled => "it is disabled in the config".into(),
            ServerState::Ready => "it is ready".into(),
            ServerState::Idle => "it is stopped until used".into(),
        }
    }
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// One upstream as `mcpgw list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ServerStatus {
    pub name: String,
    pub transport: TransportKind,
    pub target: String,
    #[serde(flatten)]
    pub state: ServerState,
    pub server_info: Option<serde_json::Value>,
    pub protocol_version: Option<Version>,
    pub tools: Option<usize>,
    pub prompts: Option<usize>,
    pub resources: Option<usize>,
    /// Requests sent to it that it has not answered yet.
    pub in_flight: usize,
    /// For servers that use `{secret}`: whether their key is in the store (never the key).
    pub key: Option<Credential>,
    /// For servers that log in with OAuth: "logged in, expires in 52m", "needs login: …".
    pub oauth: Option<Credential>,
}

/// The state of a server's key or login: a few words for a table, and the sentence that
/// says what to do (which is what JSON shows).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "String")]
pub struct Credential {
    pub state: String,
    /// What to do about it, when anything.
    pub remedy: Option<String>,
}

impl Credential {
    pub fn new(state: impl Into<String>, remedy: Option<String>) -> Self {
        Credential {
            state: state.into(),
            remedy,
        }
    }
}

impl From<Credential> for String {
    fn from(c: Credential) -> String {
        match c.remedy {
            Some(remedy) => format!("{}: {remedy}", c.state),
            None => c.state,
        }
    }
}
