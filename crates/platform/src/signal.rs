//! The requests to shut down that mcpgw honours, as one future.
//!
//! - Unix: SIGTERM (what clients send when they close) and SIGINT (Ctrl-C in a terminal).
//! - Windows: Ctrl-C and Ctrl-Break, and the console's close event (its window closed). After
//!   a close Windows ends the process a few seconds after the handler returns, so the
//!   shutdown must be quick: mcpgw stops its servers at once (their Job Object would end them
//!   anyway). Logoff and shutdown events reach only services, so they matter only when mcpgw
//!   runs as one; they are handled the same way.

/// Resolves when the process is asked to shut down, after logging which request it was.
/// Never resolves when no handler could be installed.
pub async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = int.recv() => tracing::info!("SIGINT: shutting down"),
        }
    }
    #[cfg(windows)]
    {
        use tokio::signal::windows;
        let (Ok(mut c), Ok(mut brk), Ok(mut close), Ok(mut logoff), Ok(mut off)) = (
            windows::ctrl_c(),
            windows::ctrl_break(),
            windows::ctrl_close(),
            windows::ctrl_logoff(),
            windows::ctrl_shutdown(),
        ) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = c.recv() => tracing::info!("Ctrl-C: shutting down"),
            _ = brk.recv() => tracing::info!("Ctrl-Break: shutting down"),
            _ = close.recv() => tracing::info!("the console was closed: shutting down"),
            _ = logoff.recv() => tracing::info!("the user is logging off: shutting down"),
            _ = off.recv() => tracing::info!("the system is shutting down: shutting down"),
        }
    }
    #[cfg(not(any(unix, windows)))]
    std::future::pending::<()>().await
}

/// The requests to read the config again: SIGHUP on Unix, each time it comes (Windows has no
/// such signal: there the file is watched, and the HTTP face has `/admin/reload`).
pub struct Reload {
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
}

impl Reload {
    pub fn new() -> Reload {
        Reload {
            #[cfg(unix)]
            hup: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok(),
        }
    }

    /// Resolves at the next request (never, where there are none).
    pub async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(hup) = &mut self.hup
            && hup.recv().await.is_some()
        {
            return;
        }
        std::future::pending::<()>().await
    }
}

impl Default for Reload {
    fn default() -> Self {
        Reload::new()
    }
}
