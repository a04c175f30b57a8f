//! `mcpgw keys create|list|revoke|rotate`: the API keys clients of `mcpgw serve --listen`
//! present ([`crate::face::keys`]).

use std::process::ExitCode;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use super::UsageError;
use super::context::Context;
use crate::cli::KeysAction;
use crate::face::keys::{Keys, Record, default_path};
use crate::principal::{Grant, Identity};

/// The keys file: `$MCPGW_KEYS_FILE`, else `api-keys.json` in the data folder.
pub fn store() -> anyhow::Result<Keys> {
    let path = match std::env::var_os("MCPGW_KEYS_FILE") {
        Some(p) => p.into(),
        None => default_path()
            .ok_or_else(|| anyhow::anyhow!("no data folder for the API keys on this system"))?,
    };
    Ok(Keys::new(path))
}

fn duration(flag: &str, text: &str) -> Result<std::time::Duration, UsageError> {
    humantime::parse_duration(text)
        .map_err(|err| UsageError(format!("`{flag} {text}`: {err} (write it like 30d or 12h)")))
}

fn when(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}

pub fn run(ctx: &Context, action: &KeysAction) -> anyhow::Result<ExitCode> {
    let keys = store()?;
    match action {
        KeysAction::Create {
            name,
            expires,
            servers,
            tools,
            rate,
            admin,
            identity,
        } => {
            let expires = expires
                .as_deref()
                .map(|e| duration("--expires", e))
                .transpose()?;
            for server in servers.iter().flatten() {
                ctx.server(server)?;
            }
            let mut who = Identity::default();
            for assignment in identity {
                who.set(assignment)
                    .map_err(|e| UsageError(format!("`--identity {assignment}`: {e}")))?;
            }
            let grant = Grant {
                servers: servers.clone(),
                tools: tools.clone(),
                rate: rate.clone(),
                admin: *admin,
                identity: who,
            };
            let (key, record) = keys.create(name, expires, grant).map_err(UsageError)?;
            crate::audit::record(crate::audit::Event::KeyChanged {
                key: name,
                change: "created",
            });
            eprintln!(
                "mcpgw: the key `{name}`{}{}; it is shown only now. Clients send it as `Authorization: Bearer KEY` or `X-API-Key: KEY`.",
                record
                    .expires
                    .map(|e| format!(", valid until {}", when(e)))
                    .unwrap_or_default(),
                scope(&record)
                    .map(|s| format!(", for {s}"))
                    .unwrap_or_default(),
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
            crate::audit::record(crate::audit::Event::KeyChanged {
                key: name,
                change: "revoked",
            });
            eprintln!(
                "mcpgw: revoked `{name}`; a running gateway refuses it from its next request."
            );
        }
        KeysAction::Rotate { name, grace } => {
            let grace = grace
                .as_deref()
                .map(|g| duration("--grace", g))
                .transpose()?
                .unwrap_or_default();
            let (key, _) = keys.rotate(name, grace).map_err(anyhow::Error::msg)?;
            crate::audit::record(crate::audit::Event::KeyChanged {
                key: name,
                change: "rotated",
            });
            let old = if grace.is_zero() {
                "the old one no longer works".to_owned()
            } else {
                format!(
                    "the old one works for {} more",
                    humantime::format_duration(grace)
                )
            };
            eprintln!("mcpgw: a new key for `{name}`, shown only now; {old}.");
            println!("{key}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What a key is limited to, if anything: "servers a, b; tools a__*; 120/m; admin".
fn scope(k: &Record) -> Option<String> {
    let mut parts = vec![];
    if let Some(s) = &k.grant.servers {
        parts.push(format!("servers {}", s.join(", ")));
    }
    if !k.grant.tools.is_empty() {
        parts.push(format!("tools {}", k.grant.tools.join(", ")));
    }
    if let Some(r) = &k.grant.rate {
        parts.push(r.clone());
    }
    if k.grant.admin {
        parts.push("admin".into());
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn table(list: &[Record]) -> String {
    if list.is_empty() {
        return "no API keys (`mcpgw keys create NAME` makes one)\n".into();
    }
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header([
        "name",
        "key",
        "scope",
        "created",
        "expires",
        "last used",
        "state",
    ]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for k in list {
        let state = match (k.revoked, k.retired, k.active(now)) {
            (Some(r), _, _) => format!("revoked {}", when(r)),
            (None, Some(r), true) => format!("rotated, works until {}", when(r)),
            (None, Some(_), false) => "rotated".into(),
            (None, None, true) => "active".into(),
            (None, None, false) => "expired".into(),
        };
        t.add_row([
            k.name.clone(),
            format!("{}…", k.prefix),
            scope(k).unwrap_or_else(|| "everything".into()),
            when(k.created),
            k.expires.map(when).unwrap_or_else(|| "never".into()),
            k.last_used.map(when).unwrap_or_else(|| "never".into()),
            state,
        ]);
    }
    format!("{t}\n")
}
