//! `mcpgw import [FILE]`: an AI client's MCP servers into mcpgw's config, their secrets into
//! the secret store.
//!
//! Reads the `mcpServers` JSON of Claude Desktop, Cursor and Claude Code, and the `servers` of
//! VS Code. Literal credentials (env variables named like keys, tokens, secrets or passwords;
//! `Authorization` and API-key headers) move to the store and become `{secret}`. The store keeps
//! one secret per server, so any further ones become `${VAR}` references, with a warning naming
//! them. `npx mcp-remote URL …` entries become `url` servers. Servers already in the config
//! are left alone. Nothing secret is printed, `--dry-run` included.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Map, Value};

use super::{Context, UsageError};
use crate::config::{Config, is_name, secret_header, secret_name};
use crate::secrets::{Kind, Secret};

/// One imported server: its TOML table, and the secret that goes to the store.
struct Planned {
    name: String,
    table: toml::Table,
    secret: Option<(String, Secret)>,
    notes: Vec<String>,
}

/// The client config files this platform usually has, in the order they are tried.
fn default_files() -> Vec<PathBuf> {
    use mcpgw_platform::paths;
    let mut files = vec![];
    if let Some(apps) = paths::app_config_dir() {
        files.push(apps.join("Claude/claude_desktop_config.json"));
        files.push(apps.join("Code/User/mcp.json"));
    }
    if let Some(home) = paths::home_dir() {
        files.push(home.join(".cursor/mcp.json"));
        files.push(home.join(".claude.json"));
    }
    files
}

/// Whether a client's entry starts mcpgw: the binary itself (`mcpgw`, `/usr/bin/mcpgw`,
/// `mcpgw.exe`), or its npm or PyPI package through a runner (`npx -y mcpgw serve`, `uvx
/// mcpgw@0.1 serve`, `pipx run mcpgw serve`).
fn launches_mcpgw(entry: &Map<String, Value>) -> bool {
    let stem = |path: &str| {
        let file = path
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(path)
            .to_ascii_lowercase();
        let file = file.strip_suffix(".exe").unwrap_or(&file).to_owned();
        file.strip_suffix(".cmd").unwrap_or(&file).to_owned()
    };
    let Some(command) = entry.get("command").and_then(Value::as_str) else {
        return false;
    };
    if stem(command) == "mcpgw" {
        return true;
    }
    let is_package = |arg: &String| {
        let name = arg.split(['@', '=']).next().unwrap_or(arg);
        name == "mcpgw" && !arg.starts_with('@')
    };
    matches!(
        stem(command).as_str(),
        "npx" | "uvx" | "pipx" | "bunx" | "pnpx"
    ) && strings(entry.get("args"))
        .iter()
        .find(|a| !a.starts_with('-') && a.as_str() != "run")
        .is_some_and(is_package)
}

/// An environment variable name made from `text`: upper-case letters, digits and `_`.
fn env_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// VS Code's references in mcpgw's terms: `${env:VAR}` is `${VAR}`; `${input:id}` (a value VS
/// Code prompts for) becomes `${ID}`, which the note asks the user to provide.
fn normalize(value: &str, notes: &mut Vec<String>) -> String {
    let mut out = value.replace("${env:", "${");
    while let Some(start) = out.find("${input:") {
        let Some(len) = out[start..].find('}') else {
            break;
        };
        let id = &out[start + 8..start + len];
        let var = env_name(id);
        notes.push(format!("VS Code asked for `{id}` when it started the server; mcpgw reads ${{{var}}} from its environment instead (or store it with `mcpgw add-key` and write {{secret}})"));
        out.replace_range(start..=start + len, &format!("${{{var}}}"));
    }
    out
}

/// A value that is a reference (`${VAR}`, `${input:x}`), not a literal.
fn is_reference(value: &str) -> bool {
    value.contains("${")
}

fn sanitize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    s.truncate(32);
    if s.is_empty() { "server".into() } else { s }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn pairs(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// The servers of a client config file, whichever client wrote it.
fn entries(doc: &Value) -> Vec<(String, Map<String, Value>)> {
    let mut found = vec![];
    let mut take = |servers: Option<&Value>| {
        if let Some(servers) = servers.and_then(Value::as_object) {
            for (name, entry) in servers {
                if let Some(entry) = entry.as_object() {
                    found.push((name.clone(), entry.clone()));
                }
            }
        }
    };
    take(doc.get("mcpServers"));
    take(doc.get("servers"));
    take(doc.get("mcp").and_then(|m| m.get("servers")));
    // Claude Code keeps servers per project too.
    if let Some(projects) = doc.get("projects").and_then(Value::as_object) {
        for project in projects.values() {
            take(project.get("mcpServers"));
        }
    }
    found
}

impl Planned {
    fn new(name: String) -> Planned {
        Planned {
            name,
            table: toml::Table::new(),
            secret: None,
            notes: vec![],
        }
    }

    /// Keeps `value` out of the config: the first secret goes to the store as `{secret}`;
    /// later ones become `${VAR}` references for the user to provide.
    fn secret(&mut self, what: &str, value: &str, prefix: &str) -> String {
        if self.secret.is_none() {
            self.secret = Some((what.to_owned(), Secret::new(value.to_owned())));
            return format!("{prefix}{{secret}}");
        }
        let var = env_name(&format!("{}_{}", self.name, what));
        self.notes.push(format!("{what} is a second secret; mcpgw keeps one per server, so it reads ${{{var}}} from its environment: set it there"));
        format!("{prefix}${{{var}}}")
    }

    fn headers(&mut self, headers: Vec<(String, String)>) {
        let mut table = toml::Table::new();
        for (k, v) in headers {
            let value = if secret_header(&k) && !is_reference(&v) {
                // Keep a scheme such as "Bearer " in the config; only the credential is secret.
                let (prefix, credential) = match v.split_once(' ') {
                    Some((scheme, rest))
                        if ["bearer", "basic", "token"]
                            .contains(&scheme.to_ascii_lowercase().as_str()) =>
                    {
                        (format!("{scheme} "), rest.to_owned())
                    }
                    _ => (String::new(), v.clone()),
                };
                self.secret(&format!("header {k}"), &credential, &prefix)
            } else {
                normalize(&v, &mut self.notes)
            };
            table.insert(k, value.into());
        }
        if !table.is_empty() {
            self.table.insert("headers".into(), table.into());
        }
    }
}

/// What mcpgw makes of one client entry.
fn plan(name: &str, entry: &Map<String, Value>) -> Result<Planned, String> {
    let mut p = Planned::new(sanitize(name));
    if p.name != name {
        p.notes.push(format!(
            "renamed from `{name}` (server names are letters, digits, `_` and `-`)"
        ));
    }
    let command = entry.get("command").and_then(Value::as_str);
    let args = strings(entry.get("args"));
    let url = entry
        .get("url")
        .or(entry.get("serverUrl"))
        .and_then(Value::as_str);
    let remote_at = args
        .iter()
        .position(|a| a == "mcp-remote" || a.starts_with("mcp-remote@"));
    match (command, url, remote_at) {
        (Some(_), _, Some(i)) => {
            // `npx -y mcp-remote URL [port] [--header K:V] [--transport T] [--allow-http]`
            let rest = &args[i + 1..];
            let url = rest.first().ok_or("an mcp-remote entry without a URL")?;
            p.table.insert("url".into(), url.clone().into());
            let mut headers = vec![];
            let mut it = rest[1..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--header" => {
                        if let Some((k, v)) = it.next().and_then(|h| h.split_once(':')) {
                            // mcp-remote users write `Authorization:${AUTH}` with the value in env.
                            let v = v.trim().to_owned();
                            let v = resolve_env_reference(&v, entry);
                            headers.push((k.trim().to_owned(), v));
                        }
                    }
                    "--transport" => {
                        if let Some(t) = it.next() {
                            p.table.insert("transport".into(), t.clone().into());
                        }
                    }
                    "--allow-http" => {
                        p.table.insert("allow_http".into(), true.into());
                    }
                    _ => {}
                }
            }
            p.headers(headers);
        }
        (Some(command), _, None) => {
            p.table.insert("command".into(), command.into());
            if !args.is_empty() {
                let args: Vec<String> = args.iter().map(|a| normalize(a, &mut p.notes)).collect();
                p.table.insert("args".into(), args.into());
            }
            let mut env = toml::Table::new();
            for (k, v) in pairs(entry.get("env")) {
                let value = if secret_name(&k) && !is_reference(&v) && !v.is_empty() {
                    p.secret(&format!("env {k}"), &v, "")
                } else {
                    normalize(&v, &mut p.notes)
                };
                env.insert(k, value.into());
            }
            if !env.is_empty() {
                p.table.insert("env".into(), env.into());
            }
            if let Some(cwd) = entry.get("cwd").and_then(Value::as_str) {
                p.table.insert("cwd".into(), cwd.into());
            }
        }
        (None, Some(url), _) => {
            p.table.insert("url".into(), url.into());
            if entry.get("type").and_then(Value::as_str) == Some("sse") {
                p.table.insert("transport".into(), "sse-only".into());
            }
            p.headers(pairs(entry.get("headers")));
        }
        (None, None, _) => return Err("neither `command` nor `url`".into()),
    }
    if entry.get("disabled").and_then(Value::as_bool) == Some(true) {
        p.table.insert("enabled".into(), false.into());
    }
    Ok(p)
}

/// mcp-remote headers often read `${VAR}` from the entry's own env: take the literal value.
fn resolve_env_reference(value: &str, entry: &Map<String, Value>) -> String {
    let env = pairs(entry.get("env"));
    let mut out = value.to_owned();
    for (k, v) in env {
        out = out.replace(&format!("${{{k}}}"), &v);
    }
    out
}

pub async fn run(
    ctx: &Context,
    config_path: Option<PathBuf>,
    file: Option<PathBuf>,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let config = &*ctx.config;
    let file = match file {
        Some(f) => f,
        None => default_files().into_iter().find(|f| f.exists()).ok_or_else(|| {
            UsageError("found no AI client config in the usual places; name the file: `mcpgw import FILE`".into())
        })?,
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", file.display()))?;
    let target = config_path
        .or_else(|| config.path.clone())
        .or_else(Config::default_path)
        .ok_or_else(|| anyhow::anyhow!("no config path: pass --config"))?;
    let existing_text = std::fs::read_to_string(&target).unwrap_or_default();
    let mut document: toml::Table =
        toml::from_str(&existing_text).map_err(|e| anyhow::anyhow!("{}: {e}", target.display()))?;

    let mut plans = vec![];
    let mut ourselves = vec![];
    for (name, entry) in entries(&doc) {
        if launches_mcpgw(&entry) {
            eprintln!("skipped `{name}`: it starts mcpgw itself");
            ourselves.push(name);
            continue;
        }
        match plan(&name, &entry) {
            Ok(p) => plans.push(p),
            Err(why) => eprintln!("skipped `{name}`: {why}"),
        }
    }
    if plans.is_empty() {
        let besides = match ourselves.as_slice() {
            [] => String::new(),
            names => format!(
                " besides mcpgw itself (`{}`): it is already set up",
                names.join("`, `")
            ),
        };
        return Err(UsageError(format!(
            "{} lists no MCP servers to import{besides}",
            file.display()
        ))
        .into());
    }
    let servers = document
        .entry("servers")
        .or_insert_with(|| toml::Table::new().into())
        .as_table_mut()
        .ok_or_else(|| anyhow::anyhow!("{}: `servers` is not a table", target.display()))?;
    let mut imported = vec![];
    for p in &plans {
        if servers.contains_key(&p.name) {
            println!(
                "- {}: already in {}, left as it is",
                p.name,
                target.display()
            );
            continue;
        }
        debug_assert!(is_name(&p.name));
        servers.insert(p.name.clone(), p.table.clone().into());
        imported.push(p);
    }
    println!(
        "{} {} server(s) from {} into {}:",
        if dry_run { "Would import" } else { "Importing" },
        imported.len(),
        file.display(),
        target.display()
    );
    for p in &imported {
        let kind = if p.table.contains_key("url") {
            "remote"
        } else {
            "command"
        };
        let secret = p.secret.as_ref().map_or(String::new(), |(what, _)| {
            format!("; its {what} goes to the secret store")
        });
        println!("- {} ({kind}){secret}", p.name);
        for note in &p.notes {
            println!("    note: {note}");
        }
    }
    let new_text = toml::to_string_pretty(&document)?;
    // Validate before writing anything: what we write must load.
    let env_ok = |_: &str| Some(String::new());
    Config::parse_with_env(&target, &new_text, env_ok)
        .map_err(|e| anyhow::anyhow!("the imported config would not load: {e}"))?;
    if dry_run {
        println!("\n--- {} would read ---\n{new_text}", target.display());
        return Ok(ExitCode::SUCCESS);
    }
    let with_secrets: Vec<&Planned> = imported
        .iter()
        .copied()
        .filter(|p| p.secret.is_some())
        .collect();
    if !with_secrets.is_empty() {
        let store = ctx.store()?;
        for p in &with_secrets {
            let (_, secret) = p.secret.as_ref().expect("filtered");
            store.set(&p.name, Kind::ApiKey, secret)?;
        }
        println!(
            "Stored {} secret(s) in the {}.",
            with_secrets.len(),
            store.describe()
        );
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_private(&target, &new_text)?;
    let me = std::env::current_exe()
        .ok()
        .and_then(|p| p.to_str().map(str::to_owned))
        .unwrap_or_else(|| "mcpgw".into());
    println!(
        "\nNow replace the servers in {} with this one entry:",
        file.display()
    );
    println!(
        "{}",
        serde_json::to_string_pretty(
            &serde_json::json!({ "mcpServers": { "mcpgw": { "command": me, "args": ["serve"] } } })
        )?
    );
    Ok(ExitCode::SUCCESS)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_move_literal_credentials_and_keep_references() {
        let entry: Map<String, Value> = serde_json::from_str(
            r#"{"command":"npx","args":["-y","@modelcontextprotocol/server-github"],"env":{"GITHUB_PERSONAL_ACCESS_TOKEN":"ghp_abc","LOG_LEVEL":"info","OTHER_KEY":"k2","REF_TOKEN":"${TOKEN}"}}"#,
        )
        .unwrap();
        let p = plan("git hub", &entry).unwrap();
        assert_eq!(p.name, "git-hub");
        let env = p.table["env"].as_table().unwrap();
        assert_eq!(
            env["GITHUB_PERSONAL_ACCESS_TOKEN"].as_str(),
            Some("{secret}")
        );
        assert_eq!(env["LOG_LEVEL"].as_str(), Some("info"));
        assert_eq!(env["OTHER_KEY"].as_str(), Some("${GIT_HUB_ENV_OTHER_KEY}"));
        assert_eq!(env["REF_TOKEN"].as_str(), Some("${TOKEN}"));
        assert_eq!(p.secret.as_ref().unwrap().1.expose(), "ghp_abc");
        assert!(
            !toml::to_string(&p.table).unwrap().contains("ghp_abc")
                && !toml::to_string(&p.table).unwrap().contains("k2")
        );
    }

    #[test]
    fn entries_that_start_mcpgw_itself_are_recognised() {
        let starts = |json: &str| launches_mcpgw(&serde_json::from_str(json).unwrap());
        for ours in [
            r#"{"command":"mcpgw","args":["serve"]}"#,
            r#"{"command":"/home/me/.cargo/bin/mcpgw","args":["serve"]}"#,
            r#"{"command":"C:\\Tools\\mcpgw.exe","args":["serve"]}"#,
            r#"{"command":"npx","args":["-y","mcpgw","serve"]}"#,
            r#"{"command":"npx.cmd","args":["-y","mcpgw@0.1.0","serve"]}"#,
            r#"{"command":"uvx","args":["mcpgw","serve"]}"#,
            r#"{"command":"uvx","args":["mcpgw==0.1.0","serve"]}"#,
            r#"{"command":"pipx","args":["run","mcpgw","serve"]}"#,
        ] {
            assert!(starts(ours), "{ours}");
        }
        for theirs in [
            r#"{"command":"npx","args":["-y","@modelcontextprotocol/server-github"]}"#,
            r#"{"command":"npx","args":["-y","mcp-remote","https://x/mcp"]}"#,
            r#"{"command":"uvx","args":["mcp-server-git"]}"#,
            r#"{"command":"node","args":["mcpgw"]}"#,
            r#"{"url":"https://x/mcp"}"#,
        ] {
            assert!(!starts(theirs), "{theirs}");
        }
    }

    #[test]
    fn vs_code_references_become_environment_references() {
        let entry: Map<String, Value> = serde_json::from_str(
            r#"{"type":"stdio","command":"node","args":["s.js","${input:work-dir}"],"env":{"API_TOKEN":"${input:api-token}","HOME_DIR":"${env:HOME}"}}"#,
        )
        .unwrap();
        let p = plan("vs", &entry).unwrap();
        assert_eq!(p.table["args"][1].as_str(), Some("${WORK_DIR}"));
        assert_eq!(p.table["env"]["HOME_DIR"].as_str(), Some("${HOME}"));
        assert_eq!(p.table["env"]["API_TOKEN"].as_str(), Some("${API_TOKEN}"));
        assert!(p.secret.is_none() && p.notes.len() == 2, "{:?}", p.notes);
    }

    #[test]
    fn mcp_remote_entries_become_url_servers() {
        let entry: Map<String, Value> = serde_json::from_str(
            r#"{"command":"npx","args":["mcp-remote","https://mcp.example.com/mcp","--header","Authorization:${AUTH_HEADER}","--transport","sse-only"],"env":{"AUTH_HEADER":"Bearer sk-123"}}"#,
        )
        .unwrap();
        let p = plan("remote", &entry).unwrap();
        assert_eq!(p.table["url"].as_str(), Some("https://mcp.example.com/mcp"));
        assert_eq!(p.table["transport"].as_str(), Some("sse-only"));
        assert_eq!(
            p.table["headers"]["Authorization"].as_str(),
            Some("Bearer {secret}")
        );
        assert_eq!(p.secret.unwrap().1.expose(), "sk-123");
    }
}
