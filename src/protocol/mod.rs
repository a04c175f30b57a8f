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
}

impl Version {
    /// Every revision, oldest first.
    pub const ALL: [Version; 4] = [
        Version::V2024_11_05,
        Version::V2025_03_26,
        Version::V2025_06_18,
        Version::V2025_11_25,
    ];

    /// The newest: offered to every upstream, and to clients that ask for one we lack.
    pub const LATEST: Version = Version::V2025_11_25;

    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2024_11_05 => "2024-11-05",
            Version::V2025_03_26 => "2025-03-26",
            Version::V2025_06_18 => "2025-06-18",
            Version::V2025_11_25 => "2025-11-25",
        }
    }

    pub fn parse(text: &str) -> Option<Version> {
        Version::ALL.into_iter().find(|v| v.as_str() == text)
    }

    /// Every revision, for messages: "2024-11-05, 2025-03-26, …".
    pub fn list() -> String {
        Version::ALL.map(Version::as_str).join(", ")
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The newest revision, as text: what mcpgw offers servers and CLI clients.
pub const LATEST_PROTOCOL_VERSION: &str = "2025-11-25";

/// The revision to answer a client that asked for `requested` (MCP version negotiation).
pub fn negotiate(requested: &str) -> Version {
    Version::parse(requested).unwrap_or(Version::LATEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_echoes_known_versions_and_offers_latest_otherwise() {
        assert_eq!(negotiate("2024-11-05"), Version::V2024_11_05);
        assert_eq!(negotiate("2025-06-18").as_str(), "2025-06-18");
        assert_eq!(negotiate("1999-01-01"), Version::LATEST);
        assert_eq!(Version::LATEST.as_str(), LATEST_PROTOCOL_VERSION);
        assert!(Version::V2025_03_26 < Version::V2025_11_25);
        assert_eq!(
            serde_json::to_value(Version::V2025_06_18).unwrap(),
            "2025-06-18"
        );
    }
}
