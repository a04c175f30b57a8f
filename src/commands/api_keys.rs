//! `mcpgw keys create|list|revoke`: the API keys clients of `mcpgw serve --listen` present
//! ([`crate::face::keys`]).

use std::process::ExitCode;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use super::UsageError;
use crate::cli::KeysAction;
use crate::face::keys::{Keys, Record, default_path};

/// The keys file: `$MCPGW_KEYS_FILE`, else `api-keys.json` in the data folder.
pub fn store() -> anyhow::Result<Keys> {
    let path = match std::env::var_os("MCPGW_KEYS_FILE") {
        Some(p) => p.into(),
        None => default_path()
            .ok_or_else(|| anyhow::anyhow!("no data folder for the API keys on this system"))?,
    };
    Ok(Keys::new(path))
}

fn when(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}

pub fn run(action: &KeysAction) -> anyhow::Result<ExitCode> {
    let keys = store()?;
    match action {
        KeysAction::Create { name, expires } => {
            let expires = expires
                .as_deref()
                .map(|e| {
                    humantime::parse_duration(e).map_err(|err| {
                        UsageError(format!("`--expires {e}`: {err} (write it like 30d or 12h)"))
                    })
                })
                .transpose()?;
            let (key, record) = keys.create(name, expires).map_err(anyhow::Error::msg)?;
            eprintln!(
                "mcpgw: the key `{name}`{}; it is shown only now. Clients send it as `Authorization: Bearer KEY` or `X-API-Key: KEY`.",
                record
                    .expires
                    .map(|e| format!(", valid until {}", when(e)))
                    .unwrap_or_default()
            );
            println!("{key}");
        }
        KeysAction::List { json } => {
            let list = keys.list().map_err(anyhow::Error::msg)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                print!("{}", table(&list));
            }
        }
        KeysAction::Revoke { name } => {
            keys.revoke(name).map_err(anyhow::Error::msg)?;
            eprintln!(
                "mcpgw: revoked `{name}`; a running gateway refuses it from its next request."
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn table(list: &[Record]) -> String {
    if list.is_empty() {
        return "no API keys (`mcpgw keys create NAME` makes one)\n".into();
    }
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(["name", "key", "created", "expires", "state"]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for k in list {
        let state = match (k.revoked, k.active(now)) {
            (Some(r), _) => format!("revoked {}", when(r)),
            (None, true) => "active".into(),
            (None, false) => "expired".into(),
        };
        t.add_row([
            k.name.clone(),
            format!("{}…", k.prefix),
            when(k.created),
            k.expires.map(when).unwrap_or_else(|| "never".into()),
            state,
        ]);
    }
    format!("{t}\n")
}
