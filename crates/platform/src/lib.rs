//! What differs between Linux, macOS and Windows, in one crate that builds no C.
//!
//! mcpgw's own crate needs TLS (aws-lc or ring, both built from C), which cannot be compiled
//! for macOS without an Apple SDK. Everything that has `cfg(target_os)` code lives here
//! instead, so that `cargo check --target aarch64-apple-darwin -p mcpgw-platform` proves the
//! macOS code on a Linux machine, and the Windows code is built and run under Wine
//! (`scripts/check-platforms`).

pub mod lock;
pub mod paths;
pub mod process;
pub mod secrets;
pub mod signal;
