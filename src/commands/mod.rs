//! One file per subcommand, each with a `run`; this file dispatches and holds what they share.

mod api_keys;
mod auth;
mod call;
mod completions;
mod context;
mod import;
mod keys;
mod list;
mod proxy;
mod serve;
mod tools;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::config::Config;
use context::{Ask, Context, LOGIN_TIMEOUT};

/// A mistake in how the command was called: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Runs the parsed command line; the caller maps the error to a message and exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Completions { shell } = cli.command {
        return completions::run(shell);
    }
    let default_level = if matches!(cli.command, Command::Serve { .. } | Command::Proxy(_)) {
        "info"
    } else {
        "warn"
    };
    let (verbose, quiet) = match &cli.command {
        Command::Proxy(p) => (cli.verbose.max(u8::from(p.debug)), cli.quiet || p.silent),
        _ => (cli.verbose, cli.quiet),
    };
    crate::logging::init(verbose, quiet, default_level, cli.log_file.as_deref())?;
    let context = Context::new(match &cli.command {
        Command::Proxy(args) => proxy::config(args)?,
        Command::Login { server, .. } | Command::Logout { server } if server.contains("://") => {
            proxy::config_for_url(server)?
        }
        // Importing is how a config file comes to exist: a missing one is a fresh start; the
        // gateway's own keys need none either.
        Command::Import { .. } | Command::Keys { .. } => {
            match Config::load(cli.config.as_deref()) {
                Err(crate::config::ConfigError::Read { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    Config::default()
                }
                other => other?,
            }
        }
        _ => Config::load(cli.config.as_deref())?,
    });
    crate::audit::init(&context.config.audit);
    let ctx = &context;
    // The secret store is synchronous: these two need no runtime.
    match &cli.command {
        Command::AddKey { server, stdin } => return keys::add(ctx, server, *stdin),
        Command::RemoveKey { server } => return keys::remove(ctx, server),
        Command::Keys { action } => return api_keys::run(ctx, action),
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let code = runtime.block_on(async {
        match cli.command {
            Command::Serve { listen } => serve::run(ctx, listen.as_deref()).await,
            Command::Import { file, dry_run } => {
                import::run(ctx, cli.config.clone(), file, dry_run).await
            }
            Command::Proxy(args) => {
                let ask = Ask::Proxy {
                    no_browser: args.no_browser,
                    device: args.device,
                };
                proxy::run(ctx, ask).await
            }
            Command::Login {
                server,
                no_browser,
                device,
                timeout,
            } => {
                let ask = Ask::Login {
                    no_browser,
                    device,
                    timeout: timeout.unwrap_or(LOGIN_TIMEOUT),
                };
                auth::login(ctx, &server, ask).await
            }
            Command::Logout { server } => auth::logout(ctx, &server).await,
            Command::List { json } => list::run(ctx, json).await,
            Command::Tools { server, json } => tools::run(ctx, server, json).await,
            Command::Call {
                tool,
                arguments,
                json,
            } => call::run(ctx, tool, arguments, json).await,
            Command::Completions { .. }
            | Command::Keys { .. }
            | Command::AddKey { .. }
            | Command::RemoveKey { .. } => {
                unreachable!("handled above")
            }
        }
    });
    // stdin's reader thread would keep a graceful runtime shutdown waiting for input.
    runtime.shutdown_background();
    code
}

/// Prints an error for a person and picks the exit code: 2 for usage, quiet for a closed
/// pipe (`mcpgw tools | head`), 1 otherwise.
pub fn report(error: &anyhow::Error) -> ExitCode {
    if error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    eprintln!("mcpgw: {}", crate::errors::chain(error.as_ref()));
    if error.downcast_ref::<UsageError>().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}
