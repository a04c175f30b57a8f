//! mcpgw: one MCP server entry for every MCP server a person uses.
//!
//! The binary wires these rooms together: [`config`] (parse raw, resolve once), [`protocol`]
//! (the JSON-RPC wire), [`upstream`] (one actor per server), [`gateway`] (the client-facing
//! session and its routing), [`client`] (a small JSON-RPC client the commands, tests and
//! benchmarks drive the gateway with) and [`commands`] (one file per subcommand).

pub mod auth;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod errors;
pub mod gateway;
mod logging;
pub mod protocol;
pub use mcpgw_platform::secrets;
mod stdio;
pub mod upstream;
