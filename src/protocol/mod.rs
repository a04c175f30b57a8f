//! The wire: JSON-RPC envelopes, request ids, error codes and line framing.
//!
//! Nothing here knows about upstreams or routing; both sides of the gateway (the client on
//! stdin/stdout and every child) speak through these types.

mod framing;
mod message;
mod params;

pub use framing::{Frame, LineCodec, recover_id, spawn_line_writer, spawn_tapped_line_writer};
pub use message::{
    ErrorObject, Message, Notification, Outcome, Parsed, Rejection, Request, RequestId, Response,
    code, error_line, raw,
};
pub use params::{param_str, parse_params, progress_token, with_progress_token};

/// An MCP protocol revision this gateway speaks; later ones compare greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Version {
    #[serde(rename = "2024-11-05")]
    V2024_11_05,
    #[serde(rename = "2025-03-26")]
    V2025_03_26,
    #[serde(rename = "2025-06-18")]
    V2025_06_18,
    #[serde(rename = "2025-11-25")]
    V2025_11_25,
    /// The stateless revision: no `initialize`; every request carries its version and the
    /// client's capabilities in `_meta`.
    #[serde(rename = "2026-07-28")]
    V2026_07_28,
}

impl Version {
    /// The revisions agreed by an `initialize` handshake, oldest first.
    pub const HANDSHAKE: [Version; 4] = [
        Version::V2024_11_05,
        Version::V2025_03_26,
        Version::V2025_06_18,
        Version::V2025_11_25,
    ];

    /// The newest handshake revision: offered to every handshake-era upstream, and to
    /// clients whose `initialize` asks for one we lack.
    pub const LATEST: Version = Version::V2025_11_25;

    /// The stateless revision (the "modern era"), sent in every request's `_meta`.
    pub const STATELESS: Version = Version::V2026_07_28;

    /// Every revision mcpgw speaks, newest first, as `server/discover` lists them.
    pub const SUPPORTED: [Version; 5] = [
        Version::V2026_07_28,
        Version::V2025_11_25,
        Version::V2025_06_18,
        Version::V2025_03_26,
        Version::V2024_11_05,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2024_11_05 => "2024-11-05",
            Version::V2025_03_26 => "2025-03-26",
            Version::V2025_06_18 => "2025-06-18",
            Version::V2025_11_25 => "2025-11-25",
            Version::V2026_07_28 => "2026-07-28",
        }
    }

    pub fn parse(text: &str) -> Option<Version> {
        Version::SUPPORTED.into_iter().find(|v| v.as_str() == text)
    }

    /// Whether this revision is the stateless one (no handshake, `_meta` on every request).
    pub fn is_stateless(self) -> bool {
        self >= Version::STATELESS
    }

    /// The handshake revisions, for messages: "2024-11-05, 2025-03-26, …".
    pub fn list() -> String {
        Version::HANDSHAKE.map(Version::as_str).join(", ")
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `_meta` keys of the stateless revision (2026-07-28), spoken toward clients and servers
/// alike.
pub mod meta {
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
    pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
    pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
}

/// The newest revision, as text: what mcpgw offers servers and CLI clients.
pub const LATEST_PROTOCOL_VERSION: &str = "2025-11-25";

/// The revision to answer a client that asked for `requested` (MCP version negotiation).
pub fn negotiate(requested: &str) -> Version {
    Version::parse(requested)
        .filter(|v| !v.is_stateless())
        .unwrap_or(Version::LATEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_echoes_known_versions_and_offers_latest_otherwise() {
        assert_eq!(negotiate("2024-11-05"), Version::V2024_11_05);
        assert_eq!(negotiate("2025-06-18").as_str(), "2025-06-18");
        assert_eq!(negotiate("1999-01-01"), Version::LATEST);
        // The stateless revision has no handshake: `initialize` never agrees on it.
        assert_eq!(negotiate("2026-07-28"), Version::LATEST);
        assert_eq!(Version::parse("2026-07-28"), Some(Version::STATELESS));
        assert_eq!(Version::LATEST.as_str(), LATEST_PROTOCOL_VERSION);
        assert!(Version::V2025_03_26 < Version::V2025_11_25);
        assert_eq!(
            serde_json::to_value(Version::V2025_06_18).unwrap(),
            "2025-06-18"
        );
    }
}
