//! Diagnostics go to stderr or a file, never stdout: in `serve`, stdout is the protocol.
//!
//! At trace level the wire is logged both ways (target `mcpgw::wire`): the client's side
//! here, each upstream's in `upstream`. A server may echo its key in a result that then
//! travels to the client, so every key handed to a server is remembered and redacted from
//! the client's side too.

use std::borrow::Cow;
use std::path::Path;
use std::sync::RwLock;

use crate::secrets::Secret;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `MCPGW_LOG` (a tracing filter) wins over `-v`/`-q`.
pub fn init(verbose: u8, quiet: bool, default: &str, file: Option<&Path>) -> anyhow::Result<()> {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => default,
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = match std::env::var("MCPGW_LOG") {
        Ok(f) if !f.trim().is_empty() => {
            EnvFilter::try_new(&f).map_err(|e| anyhow::anyhow!("MCPGW_LOG={f:?}: {e}"))?
        }
        _ => EnvFilter::new(format!("warn,mcpgw={level}")),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| anyhow::anyhow!("cannot open log file {}: {e}", path.display()))?;
            builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init();
        }
        None => {
            use std::io::IsTerminal;
            builder
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr)
                .init();
        }
    }
    Ok(())
}

/// Keys handed to servers this run, to be redacted from client-side wire logs.
static SECRETS: RwLock<Vec<Secret>> = RwLock::new(Vec::new());

/// Remembers a key that a server was given, so that no log line shows it.
pub(crate) fn remember_secret(secret: &Secret) {
    let mut known = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !secret.expose().is_empty() && !known.iter().any(|k| k.expose() == secret.expose()) {
        known.push(secret.clone());
    }
}

/// `text` with every remembered key replaced by `[secret]`.
pub(crate) fn redact(text: &str) -> Cow<'_, str> {
    let known = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut text = Cow::Borrowed(text);
    for key in known.iter() {
        if text.contains(key.expose()) {
            text = Cow::Owned(text.replace(key.expose(), "[secret]"));
        }
    }
    text
}

/// Logs a line the client sent (`→`, to mcpgw) or was sent (`←`), at trace level.
pub(crate) fn client_wire(arrow: &str, line: &[u8]) {
    if tracing::enabled!(target: "mcpgw::wire", tracing::Level::TRACE) {
        let line = String::from_utf8_lossy(line);
        tracing::trace!(target: "mcpgw::wire", "client {arrow} {}", redact(&line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_keys_are_redacted() {
        remember_secret(&Secret::new("sk-remember-me-42"));
        remember_secret(&Secret::new(""));
        assert_eq!(
            redact(r#"{"text":"KEY=sk-remember-me-42"}"#),
            r#"{"text":"KEY=[secret]"}"#
        );
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
    }
}
