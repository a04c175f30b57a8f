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

/// MCP protocol revisions this gateway speaks, oldest first.
pub const PROTOCOL_VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// The newest revision: offered to every upstream, and to clients that ask for one we lack.
pub const LATEST_PROTOCOL_VERSION: &str = "2025-11-25";

/// The revision to answer a client that asked for `requested` (MCP version negotiation).
pub fn negotiate(requested: &str) -> &'static str {
    PROTOCOL_VERSIONS
        .iter()
        .find(|v| **v == requested)
        .copied()
        .unwrap_or(LATEST_PROTOCOL_VERSION)
}

#[cfg(test)]
mod tests {
    #[test]
    fn negotiation_echoes_known_versions_and_offers_latest_otherwise() {
        assert_eq!(super::negotiate("2024-11-05"), "2024-11-05");
        assert_eq!(super::negotiate("2025-06-18"), "2025-06-18");
        assert_eq!(super::negotiate("1999-01-01"), "2025-11-25");
    }
}
