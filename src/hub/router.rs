//! The hub's view of its servers as sessions see it, and where each request goes.
//!
//! A [`View`] is a snapshot: the hub builds a new one whenever a server's state or lists
//! change and hands it to every session, which routes its client's requests by it without a
//! lock or a message to the hub. It holds each server's handle, state and lists, and the
//! merged catalog with its names.

use std::sync::Arc;

use crate::config::ServerConfig;
use crate::principal::Scope;
use crate::upstream::{ServerInfo, UpstreamHandle};

use super::ServerState;
use super::catalog::{Catalog, Merged};

/// One server as the hub knows it at the time of the snapshot.
#[derive(Clone)]
pub struct ServerView {
    pub config: Arc<ServerConfig>,
    pub handle: Option<UpstreamHandle>,
    pub state: ServerState,
    pub info: Option<Arc<ServerInfo>>,
    pub catalog: Arc<Catalog>,
    /// Its lists are the cached ones from an earlier run, shown until its own arrive.
    pub cached: bool,
    /// Some of its lists are still being fetched.
    pub fetching: bool,
    /// Outside the scope of the session's key: as if it were not configured.
    pub hidden: bool,
}

impl ServerView {
    pub fn ready(&self) -> bool {
        self.state == ServerState::Ready
    }

    /// Whether its lists are known: running, or stopped until used.
    pub fn listed(&self) -> bool {
        self.ready() || self.state == ServerState::Idle
    }

    /// Its lists are neither known nor cached yet.
    pub fn unknown(&self) -> bool {
        (self.state == ServerState::Starting || self.fetching) && !self.cached
    }

    /// Shown from the cache while its own lists are still to come.
    pub fn awaits_own_lists(&self) -> bool {
        self.cached && (self.state == ServerState::Starting || self.fetching)
    }

    /// Why it cannot take a request now, for messages.
    pub fn state_reason(&self) -> String {
        self.state.reason()
    }
}

#[derive(Default)]
pub struct View {
    pub servers: Vec<ServerView>,
    pub merged: Arc<Merged>,
    /// `mcpgw proxy`: the one server owns every name.
    pub passthrough: bool,
    pub separator: String,
}

impl View {
    /// Some server's lists are not known yet (neither fetched nor cached).
    pub fn still_starting(&self) -> bool {
        self.visible().any(ServerView::unknown)
    }

    /// The servers the session may know of.
    pub fn visible(&self) -> impl Iterator<Item = &ServerView> {
        self.servers.iter().filter(|s| !s.hidden)
    }

    /// This view as a key of `scope` sees it: only its servers (the others hidden, without a
    /// handle to reach them), and of their tools only those its globs allow, every name as it
    /// is for everyone else. `reuse`: the lists made from the same merged lists before (only
    /// the servers' states changed).
    pub fn scoped(&self, scope: &Scope, reuse: Option<Arc<Merged>>) -> View {
        let servers: Vec<ServerView> = self
            .servers
            .iter()
            .map(|s| {
                let hidden = s.hidden || !scope.allows_server(&s.config.name);
                ServerView {
                    hidden,
                    handle: s.handle.clone().filter(|_| !hidden),
                    ..s.clone()
                }
            })
            .collect();
        let merged = reuse.unwrap_or_else(|| {
            let mut merged = (*self.merged).clone();
            merged.retain_servers(|server| servers.get(server).is_some_and(|s| !s.hidden));
            merged.retain_tools(|server, exposed| {
                scope.allows_tool(&servers[server].config.name, exposed)
            });
            Arc::new(merged)
        });
        View {
            servers,
            merged,
            passthrough: self.passthrough,
            separator: self.separator.clone(),
        }
    }

    /// The servers' names by index; a hidden one has none (nothing routes to it).
    pub fn server_names(&self) -> Vec<&str> {
        self.servers
            .iter()
            .map(|s| if s.hidden { "" } else { s.config.name.as_str() })
            .collect()
    }

    /// The server and its own name of an exposed tool.
    pub fn tool(&self, exposed: &str) -> Option<(usize, String)> {
        let t = self.merged.tools.resolve(exposed)?;
        Some((t.server, t.name.clone()))
    }

    /// The `inputSchema` of an exposed tool, as its server wrote it.
    pub fn tool_schema(&self, exposed: &str) -> Option<&serde_json::value::RawValue> {
        let (server, name) = self.tool(exposed)?;
        self.servers[server]
            .catalog
            .get(super::Kind::Tools)
            .iter()
            .find(|t| super::item_text(t, "name").as_deref() == Some(name.as_str()))?
            .get("inputSchema")
            .map(|s| &**s)
    }

    /// The server and its own name of an exposed prompt.
    pub fn prompt(&self, exposed: &str) -> Option<(usize, String)> {
        let t = self.merged.prompts.resolve(exposed)?;
        Some((t.server, t.name.clone()))
    }

    /// The server of a resource URI and the URI it knows it by: a listed resource, a rewritten
    /// collision, a template match, or else (a URI from a tool result, say) the one ready
    /// server that has resources.
    pub fn resource(&self, uri: &str) -> Option<(usize, String)> {
        if let Some(r) = self.merged.route_resource(uri, &self.server_names()) {
            return Some((r.server, r.uri));
        }
        // A collision's URI names its server: never another's.
        if uri.starts_with(super::catalog::COLLISION_SCHEME) {
            return None;
        }
        let mut with = self.servers.iter().enumerate().filter(|(_, s)| {
            !s.hidden && s.ready() && s.info.as_ref().is_some_and(|i| i.has("resources"))
        });
        match (with.next(), with.next()) {
            (Some((i, _)), None) => Some((i, uri.to_owned())),
            _ => None,
        }
    }

    /// The server of a `ref/resource` (a template as the client sees it), and its own.
    pub fn template(&self, uri: &str) -> Option<(usize, String)> {
        let r = self.merged.route_template(uri, &self.server_names())?;
        Some((r.server, r.uri))
    }

    /// The server whose prefix an exposed name has (a proxy's one server owns every name).
    pub fn owner_by_prefix(&self, exposed: &str) -> Option<usize> {
        if self.passthrough {
            return (!self.servers.is_empty()).then_some(0);
        }
        self.servers.iter().position(|s| {
            !s.hidden
                && exposed
                    .strip_prefix(s.config.name.as_str())
                    .is_some_and(|r| r.starts_with(self.separator.as_str()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::hub::catalog::Kind;
    use serde_json::json;

    fn item(v: serde_json::Value) -> super::super::catalog::Item {
        serde_json::from_str(&v.to_string()).unwrap()
    }

    /// Two servers, `a` and `b`, both with an `echo` tool; `a` also has a resource, `b` a
    /// template, and `c` is down.
    fn view() -> View {
        let config = Config::parse(
            std::path::Path::new("t.toml"),
            "[servers.a]\ncommand = 'a'\n[servers.b]\ncommand = 'b'\n[servers.c]\ncommand = 'c'\n",
        )
        .unwrap();
        let mut a = Catalog::default();
        a.set(Kind::Tools, vec![item(json!({ "name": "echo" }))]);
        a.set(Kind::Prompts, vec![item(json!({ "name": "greet" }))]);
        a.set(
            Kind::Resources,
            vec![item(json!({ "uri": "file:///a", "name": "a" }))],
        );
        let mut b = Catalog::default();
        b.set(Kind::Tools, vec![item(json!({ "name": "echo" }))]);
        b.set(
            Kind::Templates,
            vec![item(json!({ "uriTemplate": "note://{id}", "name": "n" }))],
        );
        let catalogs = [Some(&a), Some(&b), None];
        let pairs: Vec<_> = config.servers.iter().zip(catalogs).collect();
        let merged = Merged::build(&pairs, &config.gateway);
        let servers = config
            .servers
            .iter()
            .zip([&a, &b, &Catalog::default()])
            .enumerate()
            .map(|(i, (c, catalog))| ServerView {
                config: Arc::new(c.clone()),
                handle: None,
                state: if i < 2 {
                    ServerState::Ready
                } else {
                    ServerState::Starting
                },
                info: None,
                catalog: Arc::new(catalog.clone()),
                cached: false,
                fetching: false,
                hidden: false,
            })
            .collect();
        View {
            servers,
            merged: Arc::new(merged),
            passthrough: false,
            separator: config.gateway.separator.clone(),
        }
    }

    #[test]
    fn names_route_to_their_server_without_the_prefix() {
        let v = view();
        assert_eq!(v.tool("a__echo"), Some((0, "echo".into())));
        assert_eq!(v.tool("b__echo"), Some((1, "echo".into())));
        assert_eq!(v.tool("echo"), None);
        assert_eq!(v.tool("c__echo"), None);
        assert_eq!(v.prompt("a__greet"), Some((0, "greet".into())));
        assert_eq!(v.prompt("b__greet"), None);
    }

    #[test]
    fn a_scoped_view_sees_only_its_servers_and_tools() {
        let v = view();
        let scope = Scope::new(Some(vec!["a".into(), "c".into()]), vec![]).unwrap();
        let s = v.scoped(&scope, None);
        assert_eq!(s.tool("a__echo"), Some((0, "echo".into())));
        assert_eq!(s.tool("b__echo"), None);
        assert_eq!(s.resource("note://7"), None, "b's template is out of scope");
        assert_eq!(s.template("note://{id}"), None);
        assert_eq!(s.owner_by_prefix("b__echo"), None);
        assert_eq!(s.owner_by_prefix("c__echo"), Some(2));
        assert_eq!(
            s.resource("mcpgw://b/note://7"),
            None,
            "a collision's URI names no hidden server"
        );
        assert!(s.servers[1].hidden && s.servers[1].handle.is_none());
        let names: Vec<_> = s
            .merged
            .list(Kind::Tools)
            .iter()
            .map(|t| t.get("name").unwrap())
            .collect();
        assert_eq!(names, ["a__echo"]);
        assert_eq!(s.visible().count(), 2);
        // Globs limit tools, not prompts; names stay as everyone sees them.
        let globs = Scope::new(None, vec!["b__*".into()]).unwrap();
        let s = v.scoped(&globs, None);
        assert_eq!(s.tool("a__echo"), None);
        assert_eq!(s.tool("b__echo"), Some((1, "echo".into())));
        assert_eq!(s.prompt("a__greet"), Some((0, "greet".into())));
        assert_eq!(s.merged.list(Kind::Tools).len(), 1);
    }

    #[test]
    fn resources_route_by_uri_and_template() {
        let v = view();
        assert_eq!(v.resource("file:///a"), Some((0, "file:///a".into())));
        assert_eq!(v.resource("note://7"), Some((1, "note://7".into())));
        assert_eq!(v.template("note://{id}"), Some((1, "note://{id}".into())));
        assert_eq!(v.resource("other://x"), None, "no server claims it");
    }

    #[test]
    fn a_name_nobody_lists_is_still_owned_by_its_prefix() {
        let mut v = view();
        assert_eq!(v.owner_by_prefix("c__echo"), Some(2));
        assert_eq!(v.owner_by_prefix("c_echo"), None);
        assert_eq!(v.owner_by_prefix("zz__echo"), None);
        assert!(v.still_starting(), "c is starting");
        v.passthrough = true;
        assert_eq!(v.owner_by_prefix("anything"), Some(0));
    }

    #[test]
    fn a_cached_server_is_known_but_awaits_its_own_lists() {
        let mut v = view();
        v.servers[2].cached = true;
        assert!(!v.still_starting());
        assert!(v.servers[2].awaits_own_lists());
        v.servers[2].state = ServerState::Idle;
        assert!(!v.servers[2].awaits_own_lists() && v.servers[2].listed());
    }
}
