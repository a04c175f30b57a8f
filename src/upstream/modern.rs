//! Speaking to a server of the stateless revision (2026-07-28): the `server/discover` probe
//! and what its answer says, and the fields every request to such a server carries.
//!
//! The era of a server is found as the spec's interop rules say: a `server/discover` probe
//! first; a discover result means the stateless revision; "unsupported protocol version"
//! naming a handshake version, any other error, or silence means the handshake
//! (`initialize`). `protocol = "modern" | "legacy"` skips the probe.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{ClientHello, Reply, ServerInfo};
use crate::config::TransportKind;
use crate::protocol::{self, ErrorObject, Version, code};

use crate::protocol::meta::{
    CLIENT_CAPABILITIES, CLIENT_INFO, LOG_LEVEL, PROTOCOL_VERSION, SERVER_INFO,
};

/// How long a server gets to answer the probe before it is taken for one of the handshake
/// era that ignores requests before `initialize`.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// What every request to a stateless server carries in `_meta`: the revision, and the
/// capabilities and identity of mcpgw's clients (and, once a client asked, a log level).
#[derive(Debug, Clone)]
pub struct Stamp {
    meta: Map<String, Value>,
    /// The list changes the server announces (`toolsListChanged`…).
    lists: Vec<&'static str>,
    /// The resources mcpgw's clients subscribed to.
    resources: std::collections::BTreeSet<String>,
    /// The id of the `subscriptions/listen` in force, if any.
    pub listening: Option<u64>,
    /// When it was sent, and how many listens in a row ended soon after (for the wait
    /// before the next).
    pub listen_since: std::time::Instant,
    pub listen_quick_ends: u32,
}

impl Stamp {
    pub fn new(hello: &ClientHello) -> Stamp {
        let capabilities: Value =
            serde_json::from_str(hello.capabilities.get()).unwrap_or_else(|_| json!({}));
        let client_info = hello
            .client_info
            .as_deref()
            .and_then(|i| serde_json::from_str(i.get()).ok())
            .unwrap_or_else(|| json!({ "name": "mcpgw", "version": env!("CARGO_PKG_VERSION") }));
        let mut meta = Map::new();
        meta.insert(PROTOCOL_VERSION.into(), json!(Version::STATELESS));
        meta.insert(CLIENT_CAPABILITIES.into(), capabilities);
        meta.insert(CLIENT_INFO.into(), client_info);
        Stamp {
            meta,
            lists: vec![],
            resources: Default::default(),
            listening: None,
            listen_since: std::time::Instant::now(),
            listen_quick_ends: 0,
        }
    }

    /// The listen in force, `id`, ended (its stream closed, or the server answered it:
    /// `refused` when with an error): how long to wait before listening again, or `None`
    /// when not to (it was not the one in force, or the server refuses listens).
    pub fn listen_ended(&mut self, id: u64, refused: bool) -> Option<std::time::Duration> {
        /// A listen that lasts less than this counts as ended soon after: each such in a row
        /// doubles the wait (1 s, 2 s, … up to about a minute).
        const QUICK: std::time::Duration = std::time::Duration::from_secs(10);
        if self.listening != Some(id) {
            return None;
        }
        self.listening = None;
        if refused {
            return None;
        }
        if self.listen_since.elapsed() < QUICK {
            self.listen_quick_ends = (self.listen_quick_ends + 1).min(6);
        } else {
            self.listen_quick_ends = 0;
        }
        Some(std::time::Duration::from_secs(1 << self.listen_quick_ends) / 2)
    }

    /// Notes which list changes `info`'s server announces.
    pub fn announced(&mut self, info: &ServerInfo) {
        self.lists = [
            ("tools", "toolsListChanged"),
            ("prompts", "promptsListChanged"),
            ("resources", "resourcesListChanged"),
        ]
        .into_iter()
        .filter(|(kind, _)| info.capabilities[kind]["listChanged"] == json!(true))
        .map(|(_, field)| field)
        .collect();
    }

    /// The params of the `subscriptions/listen` that tells mcpgw of list changes and of the
    /// subscribed resources' updates; `None` when there is nothing to hear.
    pub fn listen_params(&self) -> Option<Box<serde_json::value::RawValue>> {
        let mut filter = Map::new();
        for field in &self.lists {
            filter.insert((*field).into(), json!(true));
        }
        if !self.resources.is_empty() {
            filter.insert("resourceSubscriptions".into(), json!(self.resources));
        }
        if filter.is_empty() {
            return None;
        }
        let params = protocol::raw(&json!({ "notifications": filter }));
        Some(self.apply(Some(&params)))
    }

    /// Later requests ask for log messages from `level` up (what `logging/setLevel` was).
    pub fn set_level(&mut self, level: &str) {
        self.meta.insert(LOG_LEVEL.into(), json!(level));
    }

    /// `params` with the fields in `_meta` where the caller did not put them: a session
    /// passes its own client's capabilities (they are per request in this revision), and a
    /// progress token, say, stays.
    pub fn apply(
        &self,
        params: Option<&serde_json::value::RawValue>,
    ) -> Box<serde_json::value::RawValue> {
        let mut map: Map<String, Value> = params
            .and_then(|p| serde_json::from_str(p.get()).ok())
            .unwrap_or_default();
        let meta = map
            .entry("_meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(meta) = meta {
            for (k, v) in &self.meta {
                meta.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        protocol::raw(&map)
    }
}

/// What a request of the handshake era becomes for a stateless server.
pub enum Translated {
    /// Sent, with these params.
    Send(Box<serde_json::value::RawValue>),
    /// Answered here, not sent.
    Answer(Result<Box<serde_json::value::RawValue>, ErrorObject>),
    /// Answered here; the `subscriptions/listen` changes (a resource (un)subscribed).
    Relisten,
}

/// A request of mcpgw's sessions, as a stateless server must get it.
pub fn translate(
    stamp: &mut Stamp,
    server: &str,
    method: &str,
    params: Option<&serde_json::value::RawValue>,
) -> Translated {
    match method {
        // The gateway is the server's peer; there is no `ping` in this revision.
        "ping" => Translated::Answer(Ok(protocol::raw(&json!({})))),
        "logging/setLevel" => {
            if let Some(level) = params.and_then(|p| protocol::param_str(p, "level")) {
                stamp.set_level(&level);
            }
            Translated::Answer(Ok(protocol::raw(&json!({}))))
        }
        "resources/subscribe" | "resources/unsubscribe" => {
            let Some(uri) = params.and_then(|p| protocol::param_str(p, "uri")) else {
                return Translated::Answer(Err(ErrorObject::new(
                    code::INVALID_PARAMS,
                    format!("Invalid params: `{method}` for server `{server}` names no `uri`"),
                )));
            };
            if method == "resources/subscribe" {
                stamp.resources.insert(uri);
            } else {
                stamp.resources.remove(&uri);
            }
            Translated::Relisten
        }
        _ => Translated::Send(stamp.apply(params)),
    }
}

/// Whether a notification of the handshake era has a meaning for a stateless server (only
/// cancellation does).
pub fn passes(method: &str) -> bool {
    method == "notifications/cancelled"
}

/// The standard headers of a request over Streamable HTTP: `Mcp-Method`, and `Mcp-Name`
/// for the methods that name a tool, prompt or resource. A value HTTP cannot carry as it is
/// (not visible ASCII, spaces at either end, or looking like an encoded one) is sent as
/// `=?base64?…?=`.
pub fn http_headers(
    method: &str,
    params: Option<&serde_json::value::RawValue>,
) -> Vec<(&'static str, String)> {
    let mut headers = vec![("Mcp-Method", header_value(method))];
    let name = match method {
        "tools/call" | "prompts/get" => params.and_then(|p| protocol::param_str(p, "name")),
        "resources/read" => params.and_then(|p| protocol::param_str(p, "uri")),
        _ => None,
    };
    if let Some(name) = name {
        headers.push(("Mcp-Name", header_value(&name)));
    }
    headers
}

/// `value` as an MCP header value.
pub fn header_value(value: &str) -> String {
    use base64::Engine;
    let plain = !value.is_empty()
        && value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && value.trim() == value
        && !(value.starts_with("=?") && value.ends_with("?="));
    if plain {
        value.to_owned()
    } else {
        let encoded = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
        format!("=?base64?{encoded}?=")
    }
}

/// A tool's parameters mirrored into `Mcp-Param-*` headers (`x-mcp-header`): each one's path
/// of property names from the schema's root, and its header name.
pub type HeaderParams = Vec<(Vec<String>, String)>;

/// The `x-mcp-header` annotations of a tool's `inputSchema`, checked as the spec says: a
/// non-empty HTTP token, unique whatever its case, on a string, integer or boolean property
/// reached from the root through `properties` alone. `Err` says why the tool is invalid.
pub fn header_params(schema: &Value) -> Result<HeaderParams, String> {
    fn visit(
        node: &Value,
        path: &mut Vec<String>,
        reachable: bool,
        found: &mut HeaderParams,
    ) -> Result<(), String> {
        let Some(object) = node.as_object() else {
            if let Some(items) = node.as_array() {
                for item in items {
                    visit(item, path, false, found)?;
                }
            }
            return Ok(());
        };
        if let Some(header) = object.get("x-mcp-header") {
            let at = if path.is_empty() {
                "the schema's root".to_owned()
            } else {
                format!("`{}`", path.join("."))
            };
            let Some(name) = header.as_str() else {
                return Err(format!("the `x-mcp-header` of {at} is not a string"));
            };
            let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            if name.is_empty() || !name.bytes().all(token) {
                return Err(format!(
                    "the `x-mcp-header` of {at} ({name:?}) is not an HTTP token"
                ));
            }
            if !reachable || path.is_empty() {
                return Err(format!(
                    "the `x-mcp-header` of {at} is not on a property reached through `properties` alone"
                ));
            }
            if !matches!(
                object.get("type").and_then(Value::as_str),
                Some("string" | "integer" | "boolean")
            ) {
                return Err(format!(
                    "the `x-mcp-header` of {at} is on a property that is not a string, integer or boolean"
                ));
            }
            if found.iter().any(|(_, h)| h.eq_ignore_ascii_case(name)) {
                return Err(format!("the `x-mcp-header` {name:?} is used twice"));
            }
            found.push((path.clone(), name.to_owned()));
        }
        for (key, value) in object {
            match key.as_str() {
                "properties" => {
                    if let Some(properties) = value.as_object() {
                        for (name, property) in properties {
                            path.push(name.clone());
                            visit(property, path, reachable, found)?;
                            path.pop();
                        }
                    }
                }
                // Values, not schemas.
                "default" | "examples" | "const" | "enum" | "x-mcp-header" => {}
                _ => visit(value, path, false, found)?,
            }
        }
        Ok(())
    }
    let mut found = vec![];
    visit(schema, &mut vec![], true, &mut found)?;
    Ok(found)
}

/// The `Mcp-Param-*` headers of a call with `arguments`: a value absent or null is left out.
pub fn param_headers(params: &HeaderParams, arguments: &Value) -> Vec<(String, String)> {
    const SAFE: i64 = (1 << 53) - 1;
    params
        .iter()
        .filter_map(|(path, name)| {
            let value = path.iter().try_fold(arguments, |v, key| v.get(key))?;
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) if n.as_i64().is_some_and(|i| (-SAFE..=SAFE).contains(&i)) => {
                    n.to_string()
                }
                _ => return None,
            };
            Some((format!("Mcp-Param-{name}"), header_value(&text)))
        })
        .collect()
}

/// What [`screen_tools`] found: the answer again if a tool had to go, the mirrored
/// parameters of each tool kept, and each tool that went with why.
pub type Screened = (
    Option<Vec<u8>>,
    Vec<(String, HeaderParams)>,
    Vec<(String, String)>,
);

/// A `tools/list` answer (a JSON-RPC response) with the tools whose `x-mcp-header`
/// annotations are invalid left out, as the spec says a client over HTTP must: the new
/// answer (if any tool went), the mirrored parameters of every tool kept, and what went and
/// why.
pub fn screen_tools(data: &[u8]) -> Option<Screened> {
    let mut response: Value = serde_json::from_slice(data).ok()?;
    let tools = response
        .get_mut("result")?
        .get_mut("tools")?
        .as_array_mut()?;
    let mut kept = vec![];
    let mut dropped = vec![];
    tools.retain(|tool| {
        let name = tool
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        match header_params(tool.get("inputSchema").unwrap_or(&Value::Null)) {
            Ok(params) => {
                if !params.is_empty() {
                    kept.push((name, params));
                }
                true
            }
            Err(why) => {
                dropped.push((name, why));
                false
            }
        }
    });
    let rewritten = (!dropped.is_empty()).then(|| serde_json::to_vec(&response).expect("JSON"));
    Some((rewritten, kept, dropped))
}

/// The `server/discover` probe's params.
pub fn discover_params(stamp: &Stamp) -> Box<serde_json::value::RawValue> {
    stamp.apply(None)
}

/// What the probe found.
#[derive(Debug)]
pub enum Discovered {
    /// A server of the stateless revision, and what it said of itself.
    Modern(ServerInfo),
    /// One of the handshake era (why it was taken for one, for the debug log).
    Legacy(String),
    /// A server of the stateless revision that refused this request but names 2026-07-28
    /// among its versions: worth asking once more.
    Again(String),
    /// A server of the stateless revision that does not speak 2026-07-28 nor the handshake.
    Incompatible(String),
}

/// Reads the probe's answer (`None`: none in time).
pub fn discovered(reply: Option<Reply>, transport: TransportKind) -> Discovered {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Discover {
        #[serde(default)]
        supported_versions: Vec<String>,
        #[serde(default)]
        capabilities: Value,
        #[serde(default)]
        instructions: Option<String>,
        #[serde(default, rename = "_meta")]
        meta: Map<String, Value>,
    }
    #[derive(Deserialize)]
    struct Unsupported {
        #[serde(default)]
        supported: Vec<String>,
    }
    let outcome = match reply {
        None => return Discovered::Legacy("no answer to `server/discover` in time".into()),
        Some(Err(e)) => return Discovered::Legacy(e.to_string()),
        Some(Ok(outcome)) => outcome,
    };
    match outcome {
        Ok(result) => match serde_json::from_str::<Discover>(result.get()) {
            Ok(d)
                if d.supported_versions
                    .iter()
                    .any(|v| v == Version::STATELESS.as_str()) =>
            {
                Discovered::Modern(ServerInfo {
                    transport,
                    protocol_version: Version::STATELESS,
                    capabilities: d.capabilities,
                    server_info: d.meta.get(SERVER_INFO).cloned().unwrap_or(Value::Null),
                    instructions: d.instructions,
                })
            }
            Ok(d) => Discovered::Legacy(format!(
                "its `server/discover` lists {:?}, not 2026-07-28",
                d.supported_versions
            )),
            Err(e) => Discovered::Legacy(format!("its `server/discover` answer is malformed: {e}")),
        },
        Err(e) if e.code == -32022 => {
            let supported = e
                .data
                .as_deref()
                .and_then(|d| serde_json::from_str::<Unsupported>(d.get()).ok())
                .map(|u| u.supported)
                .unwrap_or_default();
            if supported.iter().any(|v| v == Version::STATELESS.as_str()) {
                Discovered::Again(format!("it refused 2026-07-28 once, naming {supported:?}"))
            } else if supported
                .iter()
                .any(|v| Version::parse(v).is_some_and(|v| !v.is_stateless()))
            {
                Discovered::Legacy(format!("it serves {supported:?} with `initialize`"))
            } else {
                Discovered::Incompatible(format!(
                    "it speaks protocol versions {supported:?}; mcpgw speaks 2026-07-28 and {}",
                    Version::list()
                ))
            }
        }
        Err(e) => Discovered::Legacy(format!("it answered `server/discover` with {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ended_listen_is_sent_again_after_a_wait_that_grows_while_they_end_at_once() {
        let hello = ClientHello {
            capabilities: crate::protocol::raw(&json!({})),
            client_info: None,
        };
        let mut stamp = Stamp::new(&hello);
        stamp.listening = Some(4);
        assert_eq!(stamp.listen_ended(3, false), None, "not the one in force");
        assert_eq!(
            stamp.listen_ended(4, false),
            Some(std::time::Duration::from_secs(1))
        );
        assert_eq!(stamp.listening, None);
        stamp.listening = Some(5);
        assert_eq!(
            stamp.listen_ended(5, false),
            Some(std::time::Duration::from_secs(2))
        );
        stamp.listening = Some(6);
        stamp.listen_since -= std::time::Duration::from_secs(60);
        assert_eq!(
            stamp.listen_ended(6, false),
            Some(std::time::Duration::from_millis(500)),
            "a listen that lasted starts the count again"
        );
        stamp.listening = Some(7);
        assert_eq!(stamp.listen_ended(7, true), None, "refused: not again");
    }
    use serde_json::value::RawValue;

    fn hello() -> ClientHello {
        ClientHello {
            capabilities: protocol::raw(&json!({ "roots": {} })),
            client_info: Some(protocol::raw(&json!({ "name": "c", "version": "1" }))),
        }
    }

    fn value(raw: &RawValue) -> Value {
        serde_json::from_str(raw.get()).unwrap()
    }

    #[test]
    fn every_request_carries_the_fields_and_keeps_its_own_meta() {
        let mut stamp = Stamp::new(&hello());
        let params = protocol::raw(&json!({ "name": "t", "_meta": { "progressToken": "1.1" } }));
        let Translated::Send(sent) = translate(&mut stamp, "s", "tools/call", Some(&params)) else {
            panic!("sent")
        };
        let sent = value(&sent);
        assert_eq!(sent["name"], "t");
        assert_eq!(sent["_meta"]["progressToken"], "1.1");
        assert_eq!(sent["_meta"][PROTOCOL_VERSION], "2026-07-28");
        assert_eq!(sent["_meta"][CLIENT_CAPABILITIES], json!({ "roots": {} }));
        assert_eq!(sent["_meta"][CLIENT_INFO]["name"], "c");
        assert!(sent["_meta"].get(LOG_LEVEL).is_none());
        // setLevel is answered here, and later requests carry the level.
        let level = protocol::raw(&json!({ "level": "warning" }));
        assert!(matches!(
            translate(&mut stamp, "s", "logging/setLevel", Some(&level)),
            Translated::Answer(Ok(_))
        ));
        let Translated::Send(sent) = translate(&mut stamp, "s", "tools/list", None) else {
            panic!("sent")
        };
        assert_eq!(value(&sent)["_meta"][LOG_LEVEL], "warning");
        assert!(matches!(
            translate(&mut stamp, "s", "ping", None),
            Translated::Answer(Ok(_))
        ));
        assert!(passes("notifications/cancelled") && !passes("notifications/roots/list_changed"));
    }

    #[test]
    fn http_requests_name_their_method_and_target_in_headers() {
        let call = protocol::raw(&json!({ "name": "get_weather", "arguments": {} }));
        assert_eq!(
            http_headers("tools/call", Some(&call)),
            [
                ("Mcp-Method", "tools/call".to_owned()),
                ("Mcp-Name", "get_weather".to_owned())
            ]
        );
        let read = protocol::raw(&json!({ "uri": "file:///a b.txt" }));
        assert_eq!(
            http_headers("resources/read", Some(&read))[1].1,
            "file:///a b.txt"
        );
        assert_eq!(http_headers("tools/list", None).len(), 1);
        assert_eq!(header_value("Café"), "=?base64?Q2Fmw6k=?=");
        assert_eq!(header_value(" padded"), "=?base64?IHBhZGRlZA==?=");
        assert_eq!(
            header_value("=?base64?abc?="),
            "=?base64?PT9iYXNlNjQ/YWJjPz0=?="
        );
        assert_eq!(header_value("line\nbreak"), "=?base64?bGluZQpicmVhaw==?=");
    }

    #[test]
    fn header_annotations_are_checked_and_mirrored() {
        let schema = json!({ "type": "object", "properties": {
            "region": { "type": "string", "x-mcp-header": "Region" },
            "opts": { "type": "object", "properties": { "tenant": { "type": "integer", "x-mcp-header": "Tenant" } } },
            "query": { "type": "string" },
        } });
        let params = header_params(&schema).unwrap();
        assert_eq!(params.len(), 2);
        let headers = param_headers(
            &params,
            &json!({ "region": "Zürich", "opts": { "tenant": 42 }, "query": "q" }),
        );
        assert!(
            headers.contains(&("Mcp-Param-Region".into(), "=?base64?WsO8cmljaA==?=".into())),
            "{headers:?}"
        );
        assert!(headers.contains(&("Mcp-Param-Tenant".into(), "42".into())));
        assert!(param_headers(&params, &json!({ "region": null })).is_empty());

        let bad = |property: Value| {
            header_params(&json!({ "type": "object", "properties": { "p": property } }))
                .unwrap_err()
        };
        bad(json!({ "type": "string", "x-mcp-header": "" }));
        bad(json!({ "type": "string", "x-mcp-header": "Has Space" }));
        bad(json!({ "type": "object", "x-mcp-header": "O" }));
        bad(json!({ "type": "number", "x-mcp-header": "N" }));
        bad(json!({ "type": "array", "items": { "type": "string", "x-mcp-header": "I" } }));
        bad(json!({ "anyOf": [{ "type": "string", "x-mcp-header": "A" }] }));
        let twice = json!({ "type": "object", "properties": {
            "a": { "type": "string", "x-mcp-header": "Same" },
            "b": { "type": "string", "x-mcp-header": "same" } } });
        assert!(header_params(&twice).unwrap_err().contains("twice"));

        let list = serde_json::to_vec(&json!({ "jsonrpc": "2.0", "id": 1, "result": { "tools": [
            { "name": "ok", "inputSchema": schema },
            { "name": "bad", "inputSchema": { "type": "object", "properties": { "p": { "type": "number", "x-mcp-header": "N" } } } },
            { "name": "plain", "inputSchema": { "type": "object" } },
        ] } })).unwrap();
        let (rewritten, kept, dropped) = screen_tools(&list).unwrap();
        let names: Vec<String> =
            serde_json::from_slice::<Value>(&rewritten.unwrap()).unwrap()["result"]["tools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_owned())
                .collect();
        assert_eq!(names, ["ok", "plain"]);
        assert_eq!(kept[0].0, "ok");
        assert_eq!(dropped[0].0, "bad");
    }

    #[test]
    fn the_probe_tells_the_eras_apart() {
        let t = TransportKind::Stdio;
        let ok = |v: Value| Some(Ok(Ok(protocol::raw(&v))));
        let err = |code: i64, data: Value| {
            let mut e = ErrorObject::new(code, "x");
            e.data = Some(protocol::raw(&data));
            Some(Ok(Err(e)))
        };
        match discovered(
            ok(
                json!({ "resultType": "complete", "supportedVersions": ["2026-07-28"],
                       "capabilities": { "tools": { "listChanged": true } },
                       "_meta": { SERVER_INFO: { "name": "m", "version": "2" } }, "ttlMs": 0, "cacheScope": "public" }),
            ),
            t,
        ) {
            Discovered::Modern(info) => {
                assert_eq!(info.protocol_version, Version::STATELESS);
                assert!(info.has("tools"));
                assert_eq!(info.server_info["name"], "m");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(discovered(None, t), Discovered::Legacy(_)));
        assert!(matches!(
            discovered(err(-32601, json!(null)), t),
            Discovered::Legacy(_)
        ));
        assert!(matches!(
            discovered(err(-32602, json!(null)), t),
            Discovered::Legacy(_)
        ));
        assert!(matches!(
            discovered(
                err(
                    -32022,
                    json!({ "supported": ["2025-06-18"], "requested": "2026-07-28" })
                ),
                t
            ),
            Discovered::Legacy(_)
        ));
        assert!(matches!(
            discovered(
                err(
                    -32022,
                    json!({ "supported": ["2027-01-01"], "requested": "2026-07-28" })
                ),
                t
            ),
            Discovered::Incompatible(_)
        ));
        assert!(matches!(
            discovered(
                err(
                    -32022,
                    json!({ "supported": ["2026-07-28"], "requested": "2026-07-28" })
                ),
                t
            ),
            Discovered::Again(_)
        ));
        assert!(matches!(
            discovered(ok(json!({ "supportedVersions": ["2025-11-25"] })), t),
            Discovered::Legacy(_)
        ));
    }
}
