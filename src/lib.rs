//! mcpgw: one MCP server entry for every MCP server a person uses.
//!
//! The binary wires these rooms together: [`config`] (parse raw, resolve once), [`protocol`]
//! (the JSON-RPC wire), [`upstream`] (one actor per server), [`hub`] (the upstreams, their
//! lists and routing, shared by every client), [`session`] (one client's state), [`face`]
//! (how clients reach a session), [`principal`] (who a session acts for: scope and
//! identity), [`client`] (a small JSON-RPC client the commands, tests and
//! benchmarks drive the gateway with) and [`commands`] (one file per subcommand).

pub mod audit;
pub mod auth;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod errors;
pub mod face;
pub mod hub;
mod logging;
pub mod principal;
pub mod protocol;
pub mod session;
pub use mcpgw_platform::secrets;
mod stdio;
pub mod upstream;
