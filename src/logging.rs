//! Diagnostics go to stderr or a file, never stdout: in `serve`, stdout is the protocol.

use std::path::Path;

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
