//! `mcpgw add-key SERVER` and `mcpgw remove-key SERVER`: API keys into and out of the secret
//! store, never through a file or the command line.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use super::{Context, UsageError};
use crate::secrets::{Kind, Secret};

fn read_key(name: &str, from_stdin: bool) -> anyhow::Result<Secret> {
    let key = if from_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text.trim_end_matches(['\r', '\n']).to_owned()
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("API key for `{name}` (not shown): "))?
    } else {
        return Err(UsageError(
            "no terminal to ask on: pass the key on standard input with --stdin".into(),
        )
        .into());
    };
    if key.trim().is_empty() {
        return Err(UsageError("the key is empty; nothing was stored".into()).into());
    }
    Ok(Secret::new(key))
}

pub fn add(ctx: &Context, name: &str, from_stdin: bool) -> anyhow::Result<ExitCode> {
    let server = ctx.server(name)?;
    let key = read_key(name, from_stdin)?;
    let store = ctx.store()?;
    store.set(name, Kind::ApiKey, &key)?;
    println!(
        "Stored the API key for `{name}` in the {}.",
        store.describe()
    );
    if !server.needs_secret() {
        eprintln!(
            "note: `{name}` does not use it yet: put {{secret}} where the key goes in its `env`, `args` or `headers`."
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn remove(ctx: &Context, name: &str) -> anyhow::Result<ExitCode> {
    ctx.server(name)?;
    let store = ctx.store()?;
    if store.delete(name, Kind::ApiKey)? {
        println!(
            "Removed the API key for `{name}` from the {}.",
            store.describe()
        );
    } else {
        println!(
            "No API key was stored for `{name}` in the {}.",
            store.describe()
        );
    }
    Ok(ExitCode::SUCCESS)
}
