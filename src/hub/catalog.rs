//! What each upstream offers (tools, prompts, resources, resource templates), fetched by
//! following the upstream's own cursors, and the merged view the client sees.
//!
//! Tools and prompts are renamed through [`NameTable`]. Resource URIs are kept as the server
//! wrote them, because they also appear inside tool results. Only a true collision (two
//! servers listing the same URI or template) gets the later server's copy rewritten as
//! `mcpgw://<server>/<uri>`, and the log says so.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;

use super::names::NameTable;
use crate::config::{GatewaySettings, ServerConfig};
use crate::protocol;
use crate::upstream::UpstreamHandle;

/// One tool, prompt, resource or template as its server sent it: its members parsed, their
/// values kept as the server wrote them (a tool's schema is never parsed into a tree).
pub type Item = BTreeMap<String, Box<RawValue>>;

/// A string member of an item.
pub fn text(item: &Item, key: &str) -> Option<String> {
    serde_json::from_str(item.get(key)?.get()).ok()
}

/// Whether two items are the same, member by member as written.
fn same(a: &Item, b: &Item) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((ka, va), (kb, vb))| ka == kb && va.get() == vb.get())
}

/// The lists an upstream offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Tools,
    Prompts,
    Resources,
    Templates,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Tools, Kind::Prompts, Kind::Resources, Kind::Templates];

    pub fn list_method(self) -> &'static str {
        match self {
            Kind::Tools => "tools/list",
            Kind::Prompts => "prompts/list",
            Kind::Resources => "resources/list",
            Kind::Templates => "resources/templates/list",
        }
    }

    /// The member of a list result that holds the items.
    pub fn field(self) -> &'static str {
        match self {
            Kind::Tools => "tools",
            Kind::Prompts => "prompts",
            Kind::Resources => "resources",
            Kind::Templates => "resourceTemplates",
        }
    }

    /// The server capability that says the list exists.
    pub fn capability(self) -> &'static str {
        match self {
            Kind::Tools => "tools",
            Kind::Prompts => "prompts",
            Kind::Resources | Kind::Templates => "resources",
        }
    }

    /// The notification that tells a client this list changed.
    pub fn list_changed(self) -> &'static str {
        match self {
            Kind::Tools => "notifications/tools/list_changed",
            Kind::Prompts => "notifications/prompts/list_changed",
            Kind::Resources | Kind::Templates => "notifications/resources/list_changed",
        }
    }

    pub fn from_list_method(method: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.list_method() == method)
    }
}

/// One upstream's lists, as it sent them. Items are shared with the merged lists, which
/// show them without copying.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    lists: [Vec<Arc<Item>>; 4],
    /// What a server of 2026-07-28 said of each list's lifetime (`None`: nothing, as the
    /// handshake era and cached lists say).
    hints: [Option<CacheHint>; 4],
    /// Which lists the server gave (one that offers no prompts, say, has no say in how long
    /// the merged prompts hold).
    given: [bool; 4],
    /// The server that gave these lists spoke the handshake era (remembered with them, so the
    /// next run shakes hands without a probe).
    pub legacy: bool,
}

impl Catalog {
    pub fn get(&self, kind: Kind) -> &[Arc<Item>] {
        &self.lists[kind as usize]
    }

    pub fn set(&mut self, kind: Kind, items: Vec<Item>) {
        self.lists[kind as usize] = items.into_iter().map(Arc::new).collect();
        self.hints[kind as usize] = None;
        self.given[kind as usize] = true;
    }

    /// The server offers no such list.
    pub fn absent(&mut self, kind: Kind) {
        self.lists[kind as usize] = vec![];
        self.hints[kind as usize] = None;
        self.given[kind as usize] = false;
    }

    /// [`Catalog::set`], with the lifetime its server gave the list.
    pub fn set_with(&mut self, kind: Kind, items: Vec<Item>, hint: Option<CacheHint>) {
        self.set(kind, items);
        self.hints[kind as usize] = hint;
    }

    pub fn hint(&self, kind: Kind) -> Option<CacheHint> {
        self.hints[kind as usize]
    }
}

/// How long a list may be reused, and by whom (2026-07-28's `ttlMs` and `cacheScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheHint {
    pub ttl_ms: u64,
    pub public: bool,
}

impl Default for CacheHint {
    fn default() -> Self {
        CacheHint::NONE
    }
}

impl CacheHint {
    /// What mcpgw can promise for what a server of the handshake era sent: nothing. Such a
    /// server gives no lifetime, and its lists may depend on the credentials mcpgw holds.
    pub const NONE: CacheHint = CacheHint {
        ttl_ms: 0,
        public: false,
    };

    /// What holds for both: the shorter lifetime, `private` if either is.
    pub fn and(self, other: CacheHint) -> CacheHint {
        CacheHint {
            ttl_ms: self.ttl_ms.min(other.ttl_ms),
            public: self.public && other.public,
        }
    }

    /// The hint of a list page, if it has one.
    fn of(page: &BTreeMap<String, Box<RawValue>>) -> Option<CacheHint> {
        let ttl_ms = serde_json::from_str::<i64>(page.get("ttlMs")?.get())
            .ok()?
            .max(0) as u64;
        let scope = serde_json::from_str::<String>(page.get("cacheScope")?.get()).ok()?;
        Some(CacheHint {
            ttl_ms,
            public: scope == "public",
        })
    }
}

/// A server's item as the client sees it: one member (its name, URI or template) replaced,
/// the rest written from the server's own item, which is shared, never copied — but for a
/// tool whose `_meta` names a UI resource that is exposed under another URI (MCP Apps), whose
/// `_meta` is written anew.
#[derive(Debug, Clone)]
pub struct Exposed {
    item: Arc<Item>,
    key: &'static str,
    value: String,
    meta: Option<Box<RawValue>>,
}

impl Exposed {
    fn new(item: &Arc<Item>, key: &'static str, value: String) -> Exposed {
        Exposed {
            item: item.clone(),
            key,
            value,
            meta: None,
        }
    }

    /// A tool's `_meta` with its UI resource (`ui.resourceUri`, or the older
    /// `ui/resourceUri`) as exposed, when `renamed` exposes it under another URI.
    fn with_ui(mut self, renamed: &HashMap<String, String>) -> Exposed {
        if renamed.is_empty() {
            return self;
        }
        let Some(meta) = self.item.get("_meta") else {
            return self;
        };
        let Ok(mut meta) = serde_json::from_str::<serde_json::Value>(meta.get()) else {
            return self;
        };
        let mut changed = false;
        for pointer in ["/ui/resourceUri", "/ui~1resourceUri"] {
            if let Some(uri) = meta.pointer_mut(pointer)
                && let Some(exposed) = uri.as_str().and_then(|u| renamed.get(u))
            {
                *uri = serde_json::Value::String(exposed.clone());
                changed = true;
            }
        }
        if changed {
            self.meta = Some(protocol::raw(&meta));
        }
        self
    }

    /// A string member as the client sees it.
    pub fn get(&self, key: &str) -> Option<String> {
        if key == self.key {
            return Some(self.value.clone());
        }
        text(&self.item, key)
    }
}

impl PartialEq for Exposed {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
            && self.value == other.value
            && self.meta.as_deref().map(RawValue::get) == other.meta.as_deref().map(RawValue::get)
            && (Arc::ptr_eq(&self.item, &other.item) || same(&self.item, &other.item))
    }
}

impl serde::Serialize for Exposed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let replaced = self.item.contains_key(self.key);
        let mut map = s.serialize_map(Some(self.item.len() + usize::from(!replaced)))?;
        if !replaced {
            map.serialize_entry(self.key, &self.value)?;
        }
        for (k, v) in self.item.iter() {
            if k == self.key {
                map.serialize_entry(k, &self.value)?;
            } else if let (Some(meta), "_meta") = (&self.meta, k.as_str()) {
                map.serialize_entry(k, meta)?;
            } else {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

/// Upper bound on pages followed per list, against a server whose cursors never end.
const MAX_PAGES: usize = 1000;

/// Fetches one whole list from an upstream, following `nextCursor`.
/// Its pages' lifetime comes too (the shortest; `None` if a page gave none).
pub async fn fetch(
    handle: UpstreamHandle,
    kind: Kind,
    timeout: Duration,
) -> Result<(Vec<Item>, Option<CacheHint>), String> {
    let mut items = Vec::new();
    let mut hint = Some(CacheHint {
        ttl_ms: u64::MAX,
        public: true,
    });
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let params = cursor
            .as_ref()
            .map(|c| protocol::raw(&serde_json::json!({ "cursor": c })));
        let call = handle.request(kind.list_method(), params);
        let reply = match tokio::time::timeout(timeout, call.reply).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => return Err(format!("{} got no answer", kind.list_method())),
            Err(_) => {
                handle.cancel(call.id, "timed out");
                return Err(format!(
                    "{} timed out after {timeout:?}",
                    kind.list_method()
                ));
            }
        };
        let result = match reply {
            Ok(Ok(result)) => result,
            Ok(Err(error)) => return Err(format!("{} failed: {error}", kind.list_method())),
            Err(e) => return Err(e.to_string()),
        };
        let malformed =
            |e: serde_json::Error| format!("{} answer is malformed: {e}", kind.list_method());
        let mut page: BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(result.get()).map_err(malformed)?;
        let list: Vec<Box<RawValue>> = match page.remove(kind.field()) {
            Some(list) => serde_json::from_str(list.get()).map_err(malformed)?,
            None => {
                return Err(format!(
                    "{} answer has no `{}` list",
                    kind.list_method(),
                    kind.field()
                ));
            }
        };
        hint = hint.zip(CacheHint::of(&page)).map(|(a, b)| a.and(b));
        // Entries that are not objects are skipped, as before.
        items.extend(
            list.iter()
                .filter_map(|entry| serde_json::from_str::<Item>(entry.get()).ok()),
        );
        let next_cursor = page
            .get("nextCursor")
            .and_then(|c| serde_json::from_str::<String>(c.get()).ok());
        match next_cursor {
            Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
            _ => return Ok((items, hint)),
        }
    }
    Err(format!(
        "{} kept paginating past {MAX_PAGES} pages",
        kind.list_method()
    ))
}

/// How a resource URI (or template) is reached.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub server: usize,
    /// The URI as the server knows it.
    pub uri: String,
}

pub(super) const COLLISION_SCHEME: &str = "mcpgw://";

/// The client's view of every ready upstream, rebuilt whenever a catalog changes.
#[derive(Debug, Default, Clone)]
pub struct Merged {
    pub lists: [Vec<Exposed>; 4],
    pub tools: NameTable,
    pub prompts: NameTable,
    resources: HashMap<String, Route>,
    templates: Vec<(Template, Route)>,
    /// URIs and templates that were rewritten because another server offers them too, with
    /// the server whose they are: (server, exposed URI).
    pub collisions: Vec<(String, String)>,
    /// How long each merged list holds: never longer than every server's does.
    pub hints: [CacheHint; 4],
}

/// Logs the collisions `after` has that `before` had not: one line per server at INFO (a
/// second copy of a server collides on every URI, and a line each drowned the log), each URI
/// at DEBUG.
pub fn log_new_collisions(before: &[(String, String)], after: &[(String, String)]) {
    for (server, uris) in new_collisions(before, after) {
        // Its resources and its templates arrive one after the other: one INFO line in all.
        if before.iter().any(|(s, _)| s == server) {
            tracing::debug!(server = %server, "{} more of its URIs are prefixed", uris.len());
        } else {
            tracing::info!(
                server = %server,
                "another server offers some of the same resource URIs, so this one's are exposed as {COLLISION_SCHEME}{server}/<uri> (DEBUG lists them)"
            );
        }
        for uri in uris {
            tracing::debug!(server = %server, "exposed as `{uri}`");
        }
    }
}

fn new_collisions<'a>(
    before: &[(String, String)],
    after: &'a [(String, String)],
) -> std::collections::BTreeMap<&'a str, Vec<&'a str>> {
    let mut by_server = std::collections::BTreeMap::<_, Vec<_>>::new();
    for (server, exposed) in after.iter().filter(|c| !before.contains(c)) {
        by_server
            .entry(server.as_str())
            .or_default()
            .push(exposed.as_str());
    }
    by_server
}

impl Merged {
    pub fn list(&self, kind: Kind) -> &[Exposed] {
        &self.lists[kind as usize]
    }

    /// `servers` pairs each config with its catalog, `None` for upstreams that are not ready.
    pub fn build(
        servers: &[(&ServerConfig, Option<&Catalog>)],
        settings: &GatewaySettings,
    ) -> Merged {
        let mut merged = Merged::default();
        // Resources first: a tool's UI resource (MCP Apps) is named as it is exposed.
        let mut renamed: Vec<HashMap<String, String>> = vec![HashMap::new(); servers.len()];
        for (index, (config, catalog)) in servers.iter().enumerate() {
            let Some(catalog) = catalog else { continue };
            for item in catalog.get(Kind::Resources) {
                let Some(uri) = text(item, "uri") else {
                    continue;
                };
                let uri = uri.as_str();
                let route = Route {
                    server: index,
                    uri: uri.to_owned(),
                };
                let exposed = merged.expose(uri, &config.name, |m, u| m.resources.contains_key(u));
                if exposed != uri {
                    renamed[index].insert(uri.to_owned(), exposed.clone());
                }
                merged.resources.insert(exposed.clone(), route);
                merged.lists[Kind::Resources as usize].push(Exposed::new(item, "uri", exposed));
            }
            for item in catalog.get(Kind::Templates) {
                let Some(uri) = text(item, "uriTemplate") else {
                    continue;
                };
                let uri = uri.as_str();
                let route = Route {
                    server: index,
                    uri: uri.to_owned(),
                };
                let exposed = merged.expose(uri, &config.name, |m, u| {
                    m.templates.iter().any(|(t, _)| t.source == u)
                });
                merged.templates.push((Template::parse(&exposed), route));
                merged.lists[Kind::Templates as usize].push(Exposed::new(
                    item,
                    "uriTemplate",
                    exposed,
                ));
            }
        }
        for kind in [Kind::Tools, Kind::Prompts] {
            let mut found = vec![];
            for (index, (config, catalog)) in servers.iter().enumerate() {
                let Some(catalog) = catalog else { continue };
                let filter = if kind == Kind::Tools {
                    &config.tools
                } else {
                    &config.prompts
                };
                for item in catalog.get(kind) {
                    let Some(name) = text(item, "name") else {
                        continue;
                    };
                    if filter.allows(&name) {
                        found.push((index, config.name.as_str(), name, item));
                    }
                }
            }
            let entries: Vec<_> = found
                .iter()
                .map(|(index, server, name, _)| (*index, *server, name.as_str()))
                .collect();
            let items = found.iter().map(|(index, _, _, item)| (*index, *item));
            let (table, names) = if settings.passthrough {
                NameTable::identity(entries)
            } else {
                NameTable::build_with(
                    entries,
                    &settings.separator,
                    settings.max_name_length,
                    |server| servers[server].0.prefix,
                )
            };
            merged.lists[kind as usize] = items
                .into_iter()
                .zip(names)
                .map(|((index, item), name)| {
                    Exposed::new(item, "name", name).with_ui(&renamed[index])
                })
                .collect();
            match kind {
                Kind::Tools => merged.tools = table,
                _ => merged.prompts = table,
            }
        }
        for kind in Kind::ALL {
            merged.hints[kind as usize] = servers
                .iter()
                .filter_map(|(_, catalog)| *catalog)
                .filter(|c| c.given[kind as usize])
                .map(|c| c.hint(kind).unwrap_or(CacheHint::NONE))
                .reduce(CacheHint::and)
                .unwrap_or(CacheHint::NONE);
        }
        merged
    }

    /// Keeps what the servers `visible(server)` offer (a key's scope), every name as before.
    pub fn retain_servers(&mut self, visible: impl Fn(usize) -> bool) {
        self.retain_tools(|server, _| visible(server));
        let prompts = &self.prompts;
        self.lists[Kind::Prompts as usize]
            .retain(|e| prompts.resolve(&e.value).is_some_and(|t| visible(t.server)));
        self.prompts.retain(|_, t| visible(t.server));
        let resources = &self.resources;
        self.lists[Kind::Resources as usize]
            .retain(|e| resources.get(&e.value).is_some_and(|r| visible(r.server)));
        self.resources.retain(|_, r| visible(r.server));
        let templates = &self.templates;
        self.lists[Kind::Templates as usize].retain(|e| {
            templates
                .iter()
                .any(|(t, r)| t.source == e.value && visible(r.server))
        });
        self.templates.retain(|(_, r)| visible(r.server));
    }

    /// Keeps the tools `keep(server, exposed name)` allows (a key's scope), named as before.
    pub fn retain_tools(&mut self, keep: impl Fn(usize, &str) -> bool) {
        let table = &self.tools;
        self.lists[Kind::Tools as usize].retain(|e| {
            table
                .resolve(&e.value)
                .is_some_and(|t| keep(t.server, &e.value))
        });
        self.tools.retain(|exposed, t| keep(t.server, exposed));
    }

    /// How long the merged `kind` list holds.
    pub fn hint(&self, kind: Kind) -> CacheHint {
        self.hints[kind as usize]
    }

    fn expose(&mut self, uri: &str, server: &str, taken: impl Fn(&Self, &str) -> bool) -> String {
        if taken(self, uri) {
            let exposed = format!("{COLLISION_SCHEME}{server}/{uri}");
            self.collisions.push((server.to_owned(), exposed.clone()));
            exposed
        } else {
            uri.to_owned()
        }
    }

    /// Where a resource URI from the client goes: a listed resource, a rewritten collision,
    /// or a URI matching a template. `None` when nothing claims it.
    pub fn route_resource(&self, uri: &str, server_names: &[&str]) -> Option<Route> {
        if let Some(route) = self.resources.get(uri) {
            return Some(route.clone());
        }
        if let Some(rest) = uri.strip_prefix(COLLISION_SCHEME)
            && let Some((server, inner)) = rest.split_once('/')
            && let Some(index) = server_names.iter().position(|s| *s == server)
        {
            return Some(Route {
                server: index,
                uri: inner.to_owned(),
            });
        }
        self.templates
            .iter()
            .filter_map(|(t, route)| t.specificity(uri).map(|s| (s, route)))
            .max_by_key(|(s, _)| *s)
            .map(|(_, route)| Route {
                server: route.server,
                uri: uri.to_owned(),
            })
    }

    /// Where a `ref/resource` (a template as the client sees it) goes.
    pub fn route_template(&self, template: &str, server_names: &[&str]) -> Option<Route> {
        self.templates
            .iter()
            .find(|(t, _)| t.source == template)
            .map(|(_, route)| route.clone())
            .or_else(|| self.route_resource(template, server_names))
    }
}

/// An RFC 6570 URI template, reduced to what routing needs: its literal parts in order.
#[derive(Debug, Clone)]
struct Template {
    source: String,
    /// Literal text, and whether the expression after it may span `/` (`{+x}`, `{/x}`…).
    parts: Vec<(String, bool)>,
}

impl Template {
    fn parse(source: &str) -> Template {
        let mut parts = vec![];
        let mut rest = source;
        let mut literal = String::new();
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            let expr = &rest[open + 1..open + close];
            let spans = expr.starts_with(['+', '#', '/', '?', '&', ';', '.']);
            parts.push((std::mem::take(&mut literal), spans));
            rest = &rest[open + close + 1..];
        }
        literal.push_str(rest);
        parts.push((literal, false));
        Template {
            source: source.to_owned(),
            parts,
        }
    }

    /// The number of literal bytes matched when `uri` fits the template; more is more specific.
    fn specificity(&self, uri: &str) -> Option<usize> {
        let (first, _) = &self.parts[0];
        let mut rest = uri.strip_prefix(first.as_str())?;
        let mut matched = first.len();
        let exprs = &self.parts[..self.parts.len() - 1];
        for (i, (_, spans)) in exprs.iter().enumerate() {
            let next = &self.parts[i + 1].0;
            let last = i + 1 == self.parts.len() - 1;
            let value_end = if next.is_empty() {
                if last { rest.len() } else { 0 }
            } else if last {
                rest.len()
                    .checked_sub(next.len())
                    .filter(|&e| rest[e..] == **next)?
            } else {
                rest.find(next.as_str())?
            };
            if !spans && rest[..value_end].contains('/') {
                return None;
            }
            rest = &rest[value_end + next.len()..];
            matched += next.len();
        }
        rest.is_empty().then_some(matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn catalog(tools: &[&str], resources: &[&str], templates: &[&str]) -> Catalog {
        let items = |key: &str, v: &[&str]| {
            v.iter()
                .map(|s| {
                    let item = serde_json::json!({ key: s, "description": "d" });
                    serde_json::from_str(&item.to_string()).unwrap()
                })
                .collect()
        };
        let mut c = Catalog::default();
        c.set(Kind::Tools, items("name", tools));
        c.set(Kind::Resources, items("uri", resources));
        c.set(Kind::Templates, items("uriTemplate", templates));
        c
    }

    #[test]
    fn a_tools_ui_resource_is_named_as_it_is_exposed() {
        let config = Config::parse(
            std::path::Path::new("t.toml"),
            "[servers.a]\ncommand='a'\n[servers.b]\ncommand='b'\n",
        )
        .unwrap();
        // Both servers have `ui://widget`; b's is exposed under mcpgw://b/.
        let app = |new_style: bool| {
            let meta = if new_style {
                serde_json::json!({ "ui": { "resourceUri": "ui://widget" }, "other": 1 })
            } else {
                serde_json::json!({ "ui/resourceUri": "ui://widget" })
            };
            let mut c = Catalog::default();
            let tool = serde_json::json!({ "name": "show", "_meta": meta });
            c.set(
                Kind::Tools,
                vec![serde_json::from_str(&tool.to_string()).unwrap()],
            );
            let resource = serde_json::json!({ "uri": "ui://widget", "name": "w" });
            c.set(
                Kind::Resources,
                vec![serde_json::from_str(&resource.to_string()).unwrap()],
            );
            c
        };
        let (a, b) = (app(true), app(false));
        let servers = [
            (&config.servers[0], Some(&a)),
            (&config.servers[1], Some(&b)),
        ];
        let m = Merged::build(&servers, &GatewaySettings::default());
        let tools: Vec<serde_json::Value> = m
            .list(Kind::Tools)
            .iter()
            .map(|t| serde_json::to_value(t).unwrap())
            .collect();
        assert_eq!(tools[0]["_meta"]["ui"]["resourceUri"], "ui://widget");
        assert_eq!(tools[0]["_meta"]["other"], 1);
        assert_eq!(tools[1]["_meta"]["ui/resourceUri"], "mcpgw://b/ui://widget");
        assert_eq!(
            m.route_resource("mcpgw://b/ui://widget", &["a", "b"])
                .unwrap()
                .server,
            1
        );
    }

    #[test]
    fn merged_lists_hold_no_longer_than_every_server_promised() {
        let config = Config::parse(
            std::path::Path::new("t.toml"),
            "[servers.a]\ncommand='a'\n[servers.b]\ncommand='b'\n[servers.c]\ncommand='c'\n",
        )
        .unwrap();
        let hinted = |ttl_ms, public| {
            let mut c = catalog(&["t"], &[], &[]);
            let tools = c.get(Kind::Tools).iter().map(|t| (**t).clone()).collect();
            c.set_with(Kind::Tools, tools, Some(CacheHint { ttl_ms, public }));
            c
        };
        let (a, b, old) = (
            hinted(60_000, true),
            hinted(5_000, true),
            catalog(&["t"], &[], &[]),
        );
        let merge = |cs: &[&Catalog]| {
            let servers: Vec<_> = cs
                .iter()
                .enumerate()
                .map(|(i, c)| (&config.servers[i], Some(*c)))
                .collect();
            Merged::build(&servers, &GatewaySettings::default()).hint(Kind::Tools)
        };
        assert_eq!(
            merge(&[&a]),
            CacheHint {
                ttl_ms: 60_000,
                public: true
            }
        );
        assert_eq!(
            merge(&[&a, &b]),
            CacheHint {
                ttl_ms: 5_000,
                public: true
            }
        );
        let private = hinted(120_000, false);
        assert_eq!(
            merge(&[&a, &private]),
            CacheHint {
                ttl_ms: 60_000,
                public: false
            }
        );
        // A server of the handshake era promises nothing, so neither can the merge.
        assert_eq!(merge(&[&a, &old]), CacheHint::NONE);
        // One that gave no such list has no say.
        let mut none = catalog(&["t"], &[], &[]);
        none.absent(Kind::Tools);
        assert_eq!(merge(&[&a, &none]), merge(&[&a]));
        // A page's hint, as written.
        let page: BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(r#"{"tools":[],"ttlMs":-5,"cacheScope":"public"}"#).unwrap();
        assert_eq!(
            CacheHint::of(&page),
            Some(CacheHint {
                ttl_ms: 0,
                public: true
            })
        );
    }

    #[test]
    fn templates_match_literal_skeletons() {
        let t = Template::parse("demo://resource/dynamic/text/{resourceId}");
        assert_eq!(t.specificity("demo://resource/dynamic/text/7"), Some(29));
        assert_eq!(t.specificity("demo://resource/dynamic/text/7/x"), None);
        assert_eq!(t.specificity("demo://resource/dynamic/blob/7"), None);
        let t = Template::parse("file:///{+path}");
        assert!(t.specificity("file:///a/b/c.txt").is_some());
        let t = Template::parse("db://{table}/rows/{id}.json");
        assert_eq!(t.specificity("db://users/rows/3.json"), Some(16));
        assert_eq!(t.specificity("db://users/rows/3.txt"), None);
    }

    #[test]
    fn new_collisions_are_grouped_by_server() {
        let c = |s: &str, u: &str| (s.to_owned(), u.to_owned());
        let before = [c("b", "mcpgw://b/x://1")];
        let after = [
            c("b", "mcpgw://b/x://1"),
            c("b", "mcpgw://b/x://2"),
            c("c", "mcpgw://c/x://1"),
            c("b", "mcpgw://b/x://3"),
        ];
        let grouped = new_collisions(&before, &after);
        assert_eq!(
            grouped.into_iter().collect::<Vec<_>>(),
            [
                ("b", vec!["mcpgw://b/x://2", "mcpgw://b/x://3"]),
                ("c", vec!["mcpgw://c/x://1"])
            ]
        );
    }

    #[test]
    fn merges_routes_and_rewrites_only_true_collisions() {
        let config = Config::parse(
            std::path::Path::new("t.toml"),
            "[servers.a]\ncommand='a'\ntools={deny=['secret']}\n[servers.b]\ncommand='b'\n",
        )
        .unwrap();
        let a = catalog(
            &["echo", "secret"],
            &["demo://x", "a://only"],
            &["demo://t/{id}"],
        );
        let b = catalog(&["echo"], &["demo://x"], &["demo://t/{id}", "b://{+path}"]);
        let servers = [
            (&config.servers[0], Some(&a)),
            (&config.servers[1], Some(&b)),
        ];
        let m = Merged::build(&servers, &GatewaySettings::default());
        let names: Vec<_> = m
            .list(Kind::Tools)
            .iter()
            .map(|t| t.get("name").unwrap())
            .collect();
        assert_eq!(names, ["a__echo", "b__echo"]);
        // Written as the server wrote it, with the exposed name in place of its own.
        assert_eq!(
            serde_json::to_value(&m.list(Kind::Tools)[1]).unwrap(),
            serde_json::json!({ "name": "b__echo", "description": "d" })
        );
        let uris: Vec<_> = m
            .list(Kind::Resources)
            .iter()
            .map(|t| t.get("uri").unwrap())
            .collect();
        assert_eq!(uris, ["demo://x", "a://only", "mcpgw://b/demo://x"]);
        let names = ["a", "b"];
        let route = |uri: &str| m.route_resource(uri, &names).map(|r| (r.server, r.uri));
        assert_eq!(route("demo://x"), Some((0, "demo://x".into())));
        assert_eq!(route("mcpgw://b/demo://x"), Some((1, "demo://x".into())));
        assert_eq!(route("demo://t/5"), Some((0, "demo://t/5".into())));
        assert_eq!(
            route("mcpgw://b/demo://t/5"),
            Some((1, "demo://t/5".into()))
        );
        assert_eq!(route("b://deep/path"), Some((1, "b://deep/path".into())));
        assert_eq!(route("nobody://x"), None);
        let t = m.route_template("mcpgw://b/demo://t/{id}", &names).unwrap();
        assert_eq!((t.server, t.uri.as_str()), (1, "demo://t/{id}"));
    }
}
