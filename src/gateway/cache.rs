//! The last lists each server offered, kept on disk so that the next start can answer at once.
//!
//! A client asks for tools as soon as it starts mcpgw, while servers are still starting (an
//! `npx -y` server can take seconds). With a cached catalog the first lists are answered
//! immediately. Calls to a server still starting wait for it, and if its real lists differ
//! the client gets `list_changed`. Each entry is keyed by the server's name and a fingerprint
//! of how it is started (command, args, env, cwd), so changing its config discards the entry.
//! The file holds tool definitions, never secrets; it is written whole and renamed into
//! place, so several mcpgw processes can share it (the last writer wins).

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
    /// `false` for the CLI commands, which want the servers' live state.
    pub read: bool,
}

#[derive(Default, Serialize, Deserialize)]
struct File {
    servers: HashMap<String, Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
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

    /// The cached catalog of each server whose fingerprint still matches its config.
    pub fn load(&self, servers: &[ServerConfig]) -> HashMap<String, Catalog> {
        if !self.read {
            return HashMap::new();
        }
        let mut file = self.load_file();
        servers
            .iter()
            .filter_map(|s| {
                let entry = file.servers.remove(&s.name)?;
                (entry.fingerprint == fingerprint(s)).then(|| {
                    let mut c = Catalog::default();
                    c.set(Kind::Tools, entry.tools);
                    c.set(Kind::Prompts, entry.prompts);
                    c.set(Kind::Resources, entry.resources);
                    c.set(Kind::Templates, entry.templates);
                    (s.name.clone(), c)
                })
            })
            .collect()
    }

    /// Records `server`'s catalog; failures only cost the next start its head start.
    pub fn store(&self, server: &ServerConfig, catalog: &Catalog) {
        if let Err(e) = self.try_store(server, catalog) {
            tracing::debug!(
                "cannot write the catalog cache {}: {e}",
                self.path.display()
            );
        }
    }

    fn try_store(&self, server: &ServerConfig, catalog: &Catalog) -> std::io::Result<()> {
        let mut file = self.load_file();
        file.servers.insert(
            server.name.clone(),
            Entry {
                fingerprint: fingerprint(server),
                tools: catalog.get(Kind::Tools).to_vec(),
                prompts: catalog.get(Kind::Prompts).to_vec(),
                resources: catalog.get(Kind::Resources).to_vec(),
                templates: catalog.get(Kind::Templates).to_vec(),
            },
        );
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let temp = dir.join(format!(".catalogs.{}.tmp", std::process::id()));
        std::fs::write(&temp, serde_json::to_vec(&file)?)?;
        std::fs::rename(&temp, &self.path)
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
        catalog.set(Kind::Tools, vec![tool.as_object().unwrap().clone()]);
        let before = servers("'x.js'");
        cache.store(&before[0], &catalog);
        let loaded = cache.load(&before);
        assert_eq!(loaded["a"].get(Kind::Tools), catalog.get(Kind::Tools));
        assert!(!loaded.contains_key("b"), "never stored");
        assert!(
            cache.load(&servers("'y.js'")).is_empty(),
            "another command is another server"
        );
        assert!(
            CatalogCache::new(cache.path.clone(), false)
                .load(&before)
                .is_empty(),
            "write-only"
        );
        std::fs::write(&cache.path, "not json").unwrap();
        assert!(cache.load(&before).is_empty(), "a damaged cache is ignored");
    }
}
