//! The last lists each server offered, kept on disk so that the next start can answer at once.
//!
//! A client asks for tools as soon as it starts mcpgw, while servers are still starting (an
//! `npx -y` server can take seconds). With a cached catalog the first lists are answered
//! immediately. Calls to a server still starting wait for it, and if its real lists differ
//! the client gets `list_changed`. Each entry is keyed by the server's name and by what the
//! client declared (its capabilities: servers offer some tools only to clients with roots,
//! sampling or elicitation), and holds a fingerprint of how the server is started (command,
//! args, env, cwd), so changing its config discards the entry. One entry per server and kind
//! of client: `mcpgw tools` (no capabilities) never overwrites what a client with roots saw.
//! The file holds tool definitions, never secrets. An update reads, changes and writes the
//! whole file under a lock beside it (`catalogs.json.lock`), and renames it into place, so
//! servers finishing at once and several mcpgw processes never lose each other's entries, and
//! readers (who take no lock) never see half a file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::catalog::{Catalog, Item, Kind};
use crate::config::{ServerConfig, Transport};

/// Where catalogs are cached, and whether this process reads them or only refreshes them.
#[derive(Debug, Clone)]
pub struct CatalogCache {
    path: PathBuf,
    /// `false` for the CLI commands, which want the servers' live state. They still read the
    /// lists of `start = "lazy"` servers, which are never started only to be listed.
    pub read: bool,
}

/// The cache file as read.
pub struct Snapshot {
    file: File,
    read: bool,
}

impl Snapshot {
    /// The catalogs of `servers` (those whose fingerprint still matches their config) as a
    /// client with `capabilities` was shown them.
    pub fn take(
        &mut self,
        servers: &[ServerConfig],
        capabilities: &str,
    ) -> HashMap<String, Catalog> {
        servers
            .iter()
            .filter(|s| self.read || s.start == crate::config::StartMode::Lazy)
            .filter_map(|s| {
                let entry = self.file.servers.remove(&key(&s.name, capabilities))?;
                (entry.fingerprint == fingerprint(s)).then(|| {
                    let mut c = Catalog::default();
                    c.set(Kind::Tools, entry.tools);
                    c.set(Kind::Prompts, entry.prompts);
                    c.set(Kind::Resources, entry.resources);
                    c.set(Kind::Templates, entry.templates);
                    c.legacy = entry.legacy;
                    (s.name.clone(), c)
                })
            })
            .collect()
    }
}

#[derive(Default, Serialize, Deserialize)]
struct File {
    servers: HashMap<String, Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    /// The server spoke the handshake era.
    #[serde(default)]
    legacy: bool,
    tools: Vec<Item>,
    prompts: Vec<Item>,
    resources: Vec<Item>,
    templates: Vec<Item>,
}

impl CatalogCache {
    pub fn new(path: PathBuf, read: bool) -> Self {
        CatalogCache { path, read }
    }

    /// `catalogs.json` in the platform's cache folder (`$XDG_CACHE_HOME/mcpgw` on Linux,
    /// `%LOCALAPPDATA%\mcpgw` on Windows).
    pub fn default_location(read: bool) -> Option<Self> {
        Some(Self::new(
            mcpgw_platform::paths::cache_dir()?.join("catalogs.json"),
            read,
        ))
    }

    fn load_file(&self) -> File {
        let Ok(text) = std::fs::read_to_string(&self.path) else {
            return File::default();
        };
        serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::debug!("ignoring the catalog cache {}: {e}", self.path.display());
            File::default()
        })
    }

    /// The cached catalog of each server whose fingerprint still matches its config, as a
    /// client with `capabilities` was shown it.
    pub fn load(&self, servers: &[ServerConfig], capabilities: &str) -> HashMap<String, Catalog> {
        self.read(servers)
            .map(|mut s| s.take(servers, capabilities))
            .unwrap_or_default()
    }

    /// Reads the file, when some of `servers` may be listed from it (blocking: the hub reads
    /// it on the blocking pool as it starts, while its client is still starting too).
    pub fn read(&self, servers: &[ServerConfig]) -> Option<Snapshot> {
        servers.iter().any(|s| self.wanted(s)).then(|| Snapshot {
            file: self.load_file(),
            read: self.read,
        })
    }

    fn wanted(&self, server: &ServerConfig) -> bool {
        self.read || server.start == crate::config::StartMode::Lazy
    }

    /// Records `server`'s catalog; failures only cost the next start its head start.
    pub fn store(&self, server: &ServerConfig, capabilities: &str, catalog: &Catalog) {
        if let Err(e) = self.try_store(server, capabilities, catalog) {
            tracing::debug!(
                "cannot write the catalog cache {}: {e}",
                self.path.display()
            );
        }
    }

    fn try_store(
        &self,
        server: &ServerConfig,
        capabilities: &str,
        catalog: &Catalog,
    ) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut lock = self.path.clone().into_os_string();
        lock.push(".lock");
        let _held = mcpgw_platform::lock::FileLock::acquire(Path::new(&lock))?;
        let mut file = self.load_file();
        // Entries of the first format, keyed by name alone, would never be read again.
        file.servers.retain(|k, _| k.contains('#'));
        file.servers.insert(
            key(&server.name, capabilities),
            Entry {
                fingerprint: fingerprint(server),
                legacy: catalog.legacy,
                tools: owned(catalog.get(Kind::Tools)),
                prompts: owned(catalog.get(Kind::Prompts)),
                resources: owned(catalog.get(Kind::Resources)),
                templates: owned(catalog.get(Kind::Templates)),
            },
        );
        let temp = dir.join(format!(".catalogs.{}.tmp", std::process::id()));
        std::fs::write(&temp, serde_json::to_vec(&file)?)?;
        std::fs::rename(&temp, &self.path)
    }
}

fn owned(items: &[std::sync::Arc<Item>]) -> Vec<Item> {
    items.iter().map(|i| (**i).clone()).collect()
}

/// The key of a server's entry for a client with `capabilities` (the JSON the client sent).
fn key(server: &str, capabilities: &str) -> String {
    let canonical = serde_json::from_str::<serde_json::Value>(capabilities)
        .map(|v| canonical(&v))
        .unwrap_or_default();
    let digest = Sha256::digest(canonical.as_bytes());
    let short: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{server}#{short}")
}

/// JSON text with object keys sorted at every depth, so that the same capabilities written in
/// another order give the same key.
fn canonical(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// What identifies how a server is started: a different command is a different server.
fn fingerprint(server: &ServerConfig) -> String {
    let mut h = Sha256::new();
    match &server.transport {
        Transport::Stdio(s) => {
            for part in std::iter::once(&s.command).chain(&s.args) {
                h.update(part.as_bytes());
                h.update([0]);
            }
            for (k, v) in &s.env {
                h.update(k.as_bytes());
                h.update([1]);
                h.update(v.as_bytes());
                h.update([0]);
            }
            if let Some(cwd) = &s.cwd {
                h.update(cwd.as_os_str().as_encoded_bytes());
            }
        }
        Transport::Http(http) => {
            h.update(http.url.as_str().as_bytes());
            for (k, v) in &http.headers {
                h.update(k.as_bytes());
                h.update([1]);
                h.update(v.as_bytes());
                h.update([0]);
            }
        }
    }
    h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::hub::catalog::text;

    fn item(v: &serde_json::Value) -> Item {
        serde_json::from_str(&v.to_string()).unwrap()
    }

    fn written(items: &[std::sync::Arc<Item>]) -> Vec<String> {
        items
            .iter()
            .map(|i| serde_json::to_string(&**i).unwrap())
            .collect()
    }

    fn servers(args: &str) -> Vec<ServerConfig> {
        let text =
            format!("[servers.a]\ncommand = 'node'\nargs = [{args}]\n[servers.b]\ncommand = 'b'\n");
        Config::parse(Path::new("t.toml"), &text).unwrap().servers
    }

    #[test]
    fn round_trips_and_forgets_servers_whose_command_changed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CatalogCache::new(dir.path().join("sub/catalogs.json"), true);
        let mut catalog = Catalog::default();
        let tool = serde_json::json!({ "name": "echo", "inputSchema": { "type": "object" } });
        catalog.set(Kind::Tools, vec![item(&tool)]);
        let before = servers("'x.js'");
        cache.store(&before[0], "{}", &catalog);
        let loaded = cache.load(&before, "{}");
        assert_eq!(
            written(loaded["a"].get(Kind::Tools)),
            written(catalog.get(Kind::Tools))
        );
        assert!(!loaded.contains_key("b"), "never stored");
        assert!(
            cache.load(&servers("'y.js'"), "{}").is_empty(),
            "another command is another server"
        );
        assert!(
            CatalogCache::new(cache.path.clone(), false)
                .load(&before, "{}")
                .is_empty(),
            "write-only"
        );
        std::fs::write(&cache.path, "not json").unwrap();
        assert!(
            cache.load(&before, "{}").is_empty(),
            "a damaged cache is ignored"
        );
    }

    // Regression (the catalog cache bug): lists depend on the client's capabilities, so a
    // list cached for one kind of client is never shown to another.
    #[test]
    fn entries_are_kept_per_kind_of_client() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CatalogCache::new(dir.path().join("catalogs.json"), true);
        let servers = servers("'x.js'");
        let with = |name: &str| {
            let mut c = Catalog::default();
            let tool = serde_json::json!({ "name": name, "inputSchema": { "type": "object" } });
            c.set(Kind::Tools, vec![item(&tool)]);
            c
        };
        let roots = r#"{"roots":{"listChanged":true},"sampling":{}}"#;
        cache.store(&servers[0], roots, &with("get-roots-list"));
        cache.store(&servers[0], "{}", &with("echo"));
        let tools = |caps: &str| {
            text(&cache.load(&servers, caps)["a"].get(Kind::Tools)[0], "name").unwrap()
        };
        assert_eq!(tools("{}"), "echo");
        assert_eq!(tools(roots), "get-roots-list");
        assert_eq!(
            tools(r#"{ "sampling": {}, "roots": { "listChanged": true } }"#),
            "get-roots-list",
            "the same capabilities in another order"
        );
        assert!(cache.load(&servers, r#"{"elicitation":{}}"#).is_empty());
    }

    // Regression: servers that finish starting at once each store from their own thread;
    // without the lock they wrote the same temporary file and lost each other's entries.
    #[test]
    fn servers_stored_at_once_are_all_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CatalogCache::new(dir.path().join("catalogs.json"), true);
        let text: String = (0..12)
            .map(|i| format!("[servers.s{i}]\ncommand = 'node'\n"))
            .collect();
        let servers = Config::parse(Path::new("t.toml"), &text).unwrap().servers;
        let catalog = Catalog::default();
        std::thread::scope(|scope| {
            for server in &servers {
                let (cache, catalog) = (&cache, &catalog);
                scope.spawn(move || cache.store(server, "{}", catalog));
            }
        });
        assert_eq!(cache.load(&servers, "{}").len(), servers.len());
    }
}
