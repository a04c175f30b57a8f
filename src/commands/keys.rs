//! `mcpgw add-key SERVER` and `mcpgw remove-key SERVER`: API keys into and out of the secret
//! store, never through a file or the command line.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::sync::Arc;

use super::UsageError;
use crate::config::{Config, ServerConfig};
use crate::secrets::{self, Kind, Secret, SecretStore};

fn server<'a>(config: &'a Config, name: &str) -> Result<&'a ServerConfig, UsageError> {
    config
        .servers
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| {
            let nearest = config
                .servers
                .iter()
                .map(|s| (strsim::jaro_winkler(name, &s.name), &s.name))
                .filter(|(score, _)| *score > 0.7)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map_or(String::new(), |(_, n)| format!("; did you mean `{n}`?"));
            let place = config
                .path
                .as_ref()
                .map_or("the config".to_owned(), |p| p.display().to_string());
            UsageError(format!("no server named `{name}` in {place}{nearest}"))
        })
}

fn store(config: &Config) -> anyhow::Result<Arc<dyn SecretStore>> {
    let (store, why) = secrets::open(&config.secrets.store, config.secrets.file.clone())?;
    tracing::debug!("using the {} ({why})", store.describe());
    Ok(store)
}

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

pub fn add(config: &Config, name: &str, from_stdin: bool) -> anyhow::Result<ExitCode> {
    let server = server(config, name)?;
    let key = read_key(name, from_stdin)?;
    let store = store(config)?;
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

pub fn remove(config: &Config, name: &str) -> anyhow::Result<ExitCode> {
    server(config, name)?;
    let store = store(config)?;
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
