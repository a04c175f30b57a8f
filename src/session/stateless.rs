//! What a client of the stateless revision (2026-07-28) needs from a session, as plain
//! functions over raw JSON: the per-request `_meta` read and checked, results marked with
//! `resultType` and caching hints, `server/discover`'s answer, and `subscriptions/listen`.
//!
//! Such a client sends no `initialize`: every request names its protocol version and the
//! client's capabilities in `_meta`. The session takes its era from the first request (an
//! `initialize`, or a request carrying `io.modelcontextprotocol/protocolVersion`) and keeps
//! it: one connection speaks one era.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

pub use crate::hub::CacheHint;
use crate::hub::Kind;
use crate::protocol::{ErrorObject, RequestId, Version, code, raw};

pub use crate::protocol::meta::{
    CLIENT_CAPABILITIES, CLIENT_INFO, LOG_LEVEL, PROTOCOL_VERSION, SERVER_INFO, SUBSCRIPTION_ID,
};
/// The tasks extension (2026-07-28).
pub const TASKS: &str = "io.modelcontextprotocol/tasks";

/// Whether client `capabilities` declare extension `id`.
pub fn declares_extension(capabilities: Option<&RawValue>, id: &str) -> bool {
    #[derive(Deserialize)]
    struct Caps {
        #[serde(default)]
        extensions: BTreeMap<String, serde_json::Value>,
    }
    capabilities
        .and_then(|c| serde_json::from_str::<Caps>(c.get()).ok())
        .is_some_and(|c| c.extensions.contains_key(id))
}

/// "Unsupported protocol version" (2026-07-28).
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// The per-request fields of a stateless request, as sent.
#[derive(Debug, Default, Deserialize)]
pub struct RequestMeta {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion")]
    pub version: Option<Box<RawValue>>,
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities")]
    pub capabilities: Option<Box<RawValue>>,
    #[serde(rename = "io.modelcontextprotocol/clientInfo")]
    pub client_info: Option<Box<RawValue>>,
    #[serde(rename = "io.modelcontextprotocol/logLevel")]
    pub log_level: Option<Box<RawValue>>,
}

/// A stateless request's fields, checked.
#[derive(Debug)]
pub struct Checked {
    pub capabilities: Box<RawValue>,
    pub client_info: Option<Box<RawValue>>,
    pub log_level: Option<String>,
}

/// The per-request fields of `params`, when it names a protocol version in `_meta` (the mark
/// of a stateless request); `None` for a request of the handshake era.
pub fn read_meta(params: Option<&RawValue>) -> Option<RequestMeta> {
    #[derive(Deserialize)]
    struct P {
        #[serde(rename = "_meta")]
        meta: Option<RequestMeta>,
    }
    let params = params?.get();
    // Most requests are of the handshake era: a substring search tells them apart without
    // parsing their params.
    if !params.contains(PROTOCOL_VERSION) {
        return None;
    }
    let p: P = serde_json::from_str(params).ok()?;
    p.meta.filter(|m| m.version.is_some())
}

/// The levels of `notifications/message` (RFC 5424 severities), least severe first.
const LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// Where `level` stands among the log levels (0 = debug), if it is one.
pub fn log_rank(level: &str) -> Option<usize> {
    LEVELS.iter().position(|l| *l == level)
}

/// The error for a request of the stateless revision that names a version mcpgw does not
/// serve that way.
pub fn unsupported_version(requested: &str) -> ErrorObject {
    let supported: Vec<&str> = Version::SUPPORTED.iter().map(|v| v.as_str()).collect();
    ErrorObject {
        code: UNSUPPORTED_PROTOCOL_VERSION,
        message: format!(
            "Unsupported protocol version: {requested} (requests without `initialize` must carry 2026-07-28; the other versions need `initialize` first)"
        ),
        data: Some(raw(
            &json!({ "supported": supported, "requested": requested }),
        )),
    }
}

/// Checks the fields every stateless request must carry.
pub fn check(meta: RequestMeta) -> Result<Checked, ErrorObject> {
    let invalid =
        |why: String| ErrorObject::new(code::INVALID_PARAMS, format!("Invalid params: {why}"));
    let version = meta.version.as_deref().map_or("", RawValue::get);
    match serde_json::from_str::<String>(version) {
        Ok(v) if Version::parse(&v) == Some(Version::STATELESS) => {}
        Ok(v) => return Err(unsupported_version(&v)),
        Err(_) => {
            return Err(invalid(format!(
                "`_meta[\"{PROTOCOL_VERSION}\"]` must be a string, not {version}"
            )));
        }
    }
    let capabilities = meta
        .capabilities
        .filter(|c| c.get().trim_start().starts_with('{'))
        .ok_or_else(|| {
            invalid(format!(
                "every request must carry an object in `_meta[\"{CLIENT_CAPABILITIES}\"]` (`{{}}` for none)"
            ))
        })?;
    let log_level = match meta.log_level {
        None => None,
        Some(level) => match serde_json::from_str::<String>(level.get()) {
            Ok(l) if log_rank(&l).is_some() => Some(l),
            _ => {
                return Err(invalid(format!(
                    "`_meta[\"{LOG_LEVEL}\"]` must be one of {}, not {}",
                    LEVELS.join(", "),
                    level.get()
                )));
            }
        },
    };
    Ok(Checked {
        capabilities,
        client_info: meta.client_info,
        log_level,
    })
}

/// `params` without the per-request fields, for a server of the handshake era (which has
/// them from `initialize`). Everything else in `_meta` (progress token, trace context,
/// related task) stays; an emptied `_meta` goes.
pub fn strip_meta(params: &RawValue) -> Option<Box<RawValue>> {
    // Keys owned: a key written with escapes cannot be borrowed from the text.
    let mut map: BTreeMap<String, &RawValue> = serde_json::from_str(params.get()).ok()?;
    let meta: BTreeMap<String, &RawValue> = serde_json::from_str(map.get("_meta")?.get()).ok()?;
    let kept: BTreeMap<String, &RawValue> = meta
        .into_iter()
        .filter(|(k, _)| {
            ![
                PROTOCOL_VERSION,
                CLIENT_CAPABILITIES,
                CLIENT_INFO,
                LOG_LEVEL,
            ]
            .contains(&k.as_str())
        })
        .collect();
    let kept = raw(&kept);
    if kept.get() == "{}" {
        map.remove("_meta");
    } else {
        map.insert("_meta".to_owned(), &kept);
    }
    Some(raw(&map))
}

/// `params` carrying a handshake client's `capabilities` as the per-request field, for a
/// server of the stateless revision (the rest of its fields are added on the way).
pub fn with_capabilities(
    params: Option<&RawValue>,
    capabilities: Option<&RawValue>,
) -> Box<RawValue> {
    let empty = raw(&json!({}));
    let capabilities = capabilities.unwrap_or(&empty);
    let mut map: BTreeMap<String, &RawValue> = params
        .and_then(|p| serde_json::from_str(p.get()).ok())
        .unwrap_or_default();
    let mut meta: BTreeMap<String, &RawValue> = map
        .get("_meta")
        .and_then(|m| serde_json::from_str(m.get()).ok())
        .unwrap_or_default();
    meta.insert(CLIENT_CAPABILITIES.to_owned(), capabilities);
    let meta = raw(&meta);
    map.insert("_meta".to_owned(), &meta);
    raw(&map)
}

/// `result` (a JSON object) with `members` added where it lacks them.
fn with_members(result: &RawValue, members: &[(&str, Box<RawValue>)]) -> Box<RawValue> {
    let Ok(mut map) = serde_json::from_str::<BTreeMap<String, &RawValue>>(result.get()) else {
        return result.to_owned();
    };
    for (key, value) in members {
        map.entry((*key).to_owned()).or_insert(value);
    }
    raw(&map)
}

/// A result as a stateless client must see it: with `resultType` (`"complete"` unless the
/// server said otherwise).
pub fn complete(result: &RawValue) -> Box<RawValue> {
    with_members(result, &[("resultType", raw(&"complete"))])
}

/// A result of a cacheable method (lists, `resources/read`, `server/discover`): marked
/// complete and with `ttlMs` and `cacheScope`.
pub fn cacheable(result: &RawValue, hint: CacheHint) -> Box<RawValue> {
    #[derive(Deserialize)]
    struct Typed<'a> {
        #[serde(borrow, rename = "resultType")]
        result_type: Option<&'a str>,
    }
    let typed = serde_json::from_str::<Typed>(result.get()).ok();
    if typed
        .and_then(|t| t.result_type)
        .is_some_and(|t| t != "complete")
    {
        // Interim results (`input_required`) are never cached.
        return complete(result);
    }
    with_members(
        result,
        &[
            ("resultType", raw(&"complete")),
            ("ttlMs", raw(&hint.ttl_ms)),
            (
                "cacheScope",
                raw(&if hint.public { "public" } else { "private" }),
            ),
        ],
    )
}

/// Whether a method's complete results carry caching hints.
pub fn is_cacheable(method: &str) -> bool {
    Kind::from_list_method(method).is_some()
        || matches!(method, "resources/read" | "server/discover")
}

/// A `subscriptions/listen` in force: which notifications its client asked for.
#[derive(Debug, Clone)]
pub struct Listen {
    pub id: RequestId,
    pub lists: Vec<Kind>,
    /// The resources to hear `notifications/resources/updated` for, as the client names them.
    pub resources: Vec<String>,
    /// The tasks to hear `notifications/tasks` for (the tasks extension).
    pub task_ids: Vec<String>,
}

impl Listen {
    /// The request's filter. Kinds the gateway has no notification for are left out, as
    /// the acknowledgement must say.
    /// `tasks`: the client declared the tasks extension (the session keeps of its `taskIds`
    /// those it can relay, [`Listen::task_ids`], and the acknowledgement names them).
    pub fn parse(
        id: RequestId,
        params: Option<&RawValue>,
        tasks: bool,
    ) -> Result<Listen, ErrorObject> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Filter {
            #[serde(default)]
            tools_list_changed: bool,
            #[serde(default)]
            prompts_list_changed: bool,
            #[serde(default)]
            resources_list_changed: bool,
            #[serde(default)]
            resource_subscriptions: Vec<String>,
            #[serde(default)]
            task_ids: Option<Vec<String>>,
        }
        #[derive(Deserialize)]
        struct P {
            notifications: Filter,
        }
        let p: P = crate::protocol::parse_params(params)?;
        if p.notifications.task_ids.is_some() && !tasks {
            return Err(missing_capability(
                "`taskIds` needs the client to declare the tasks extension",
                json!({ "extensions": { TASKS: {} } }),
            ));
        }
        let f = p.notifications;
        let lists = [
            (f.tools_list_changed, Kind::Tools),
            (f.prompts_list_changed, Kind::Prompts),
            (f.resources_list_changed, Kind::Resources),
        ]
        .into_iter()
        .filter_map(|(wanted, kind)| wanted.then_some(kind))
        .collect();
        Ok(Listen {
            id,
            lists,
            resources: f.resource_subscriptions,
            task_ids: f.task_ids.unwrap_or_default(),
        })
    }

    /// Whether a change to the `kind` list is news to this subscription. The templates list
    /// changes with the resources list.
    pub fn hears(&self, kind: Kind) -> bool {
        let kind = if kind == Kind::Templates {
            Kind::Resources
        } else {
            kind
        };
        self.lists.contains(&kind)
    }

    /// The params of `notifications/subscriptions/acknowledged`.
    pub fn acknowledgement(&self, resources: &[String]) -> Box<RawValue> {
        let mut agreed = serde_json::Map::new();
        for kind in &self.lists {
            let field = match kind {
                Kind::Tools => "toolsListChanged",
                Kind::Prompts => "promptsListChanged",
                _ => "resourcesListChanged",
            };
            agreed.insert(field.into(), json!(true));
        }
        if !self.resources.is_empty() {
            agreed.insert("resourceSubscriptions".into(), json!(resources));
        }
        if !self.task_ids.is_empty() {
            agreed.insert("taskIds".into(), json!(self.task_ids));
        }
        raw(&json!({ "_meta": { SUBSCRIPTION_ID: self.id }, "notifications": agreed }))
    }

    /// `params` (of a notification, or none) tagged with this subscription's id.
    pub fn tag(&self, params: Option<&RawValue>) -> Box<RawValue> {
        let empty = raw(&json!({}));
        let params = params.unwrap_or(&empty);
        let Ok(mut map) = serde_json::from_str::<BTreeMap<String, &RawValue>>(params.get()) else {
            return params.to_owned();
        };
        let mut meta: BTreeMap<String, Box<RawValue>> = map
            .get("_meta")
            .and_then(|m| serde_json::from_str(m.get()).ok())
            .unwrap_or_default();
        meta.insert(SUBSCRIPTION_ID.to_owned(), raw(&self.id));
        let meta = raw(&meta);
        map.insert("_meta".to_owned(), &meta);
        raw(&map)
    }

    /// The answer that ends the subscription cleanly (when mcpgw stops).
    pub fn closing(&self) -> Box<RawValue> {
        raw(&json!({ "resultType": "complete", "_meta": { SUBSCRIPTION_ID: self.id } }))
    }
}

/// "Missing required client capability" (2026-07-28), naming what is missing.
pub fn missing_capability(message: &str, required: serde_json::Value) -> ErrorObject {
    ErrorObject {
        code: MISSING_REQUIRED_CLIENT_CAPABILITY,
        message: message.to_owned(),
        data: Some(raw(&json!({ "requiredCapabilities": required }))),
    }
}

/// "Missing required client capability" (2026-07-28).
pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i64 = -32021;

/// An error as a stateless client must see it: "resource not found" is `-32602` now.
pub fn modern_error(mut error: ErrorObject) -> ErrorObject {
    if error.code == code::RESOURCE_NOT_FOUND {
        error.code = code::INVALID_PARAMS;
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn value(raw: &RawValue) -> Value {
        serde_json::from_str(raw.get()).unwrap()
    }

    fn meta(v: Value) -> Option<RequestMeta> {
        read_meta(Some(&raw(&json!({ "_meta": v, "name": "x" }))))
    }

    #[test]
    fn a_request_is_stateless_when_its_meta_names_a_version() {
        assert!(read_meta(Some(&raw(&json!({ "name": "x" })))).is_none());
        assert!(meta(json!({ "progressToken": 1 })).is_none());
        let m = meta(json!({ PROTOCOL_VERSION: "2026-07-28", CLIENT_CAPABILITIES: {} })).unwrap();
        let checked = check(m).unwrap();
        assert_eq!(checked.capabilities.get(), "{}");
        assert!(checked.log_level.is_none());
    }

    #[test]
    fn missing_or_wrong_fields_get_the_spec_errors() {
        let e = check(meta(json!({ PROTOCOL_VERSION: "2026-07-28" })).unwrap()).unwrap_err();
        assert_eq!(e.code, code::INVALID_PARAMS);
        assert!(e.message.contains(CLIENT_CAPABILITIES), "{}", e.message);

        let e = check(
            meta(json!({ PROTOCOL_VERSION: "1900-01-01", CLIENT_CAPABILITIES: {} })).unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.code, UNSUPPORTED_PROTOCOL_VERSION);
        let data = value(e.data.as_deref().unwrap());
        assert_eq!(data["requested"], "1900-01-01");
        assert_eq!(data["supported"][0], "2026-07-28");
        assert!(
            data["supported"]
                .as_array()
                .unwrap()
                .contains(&json!("2025-11-25"))
        );

        // A handshake version without the handshake is unsupported too, not a fallback.
        let e = check(
            meta(json!({ PROTOCOL_VERSION: "2025-11-25", CLIENT_CAPABILITIES: {} })).unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.code, UNSUPPORTED_PROTOCOL_VERSION);

        let e = check(meta(json!({ PROTOCOL_VERSION: 7, CLIENT_CAPABILITIES: {} })).unwrap())
            .unwrap_err();
        assert_eq!(e.code, code::INVALID_PARAMS);

        let e = check(
            meta(json!({ PROTOCOL_VERSION: "2026-07-28", CLIENT_CAPABILITIES: {}, LOG_LEVEL: "loud" }))
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.code, code::INVALID_PARAMS);
        let ok = check(
            meta(json!({ PROTOCOL_VERSION: "2026-07-28", CLIENT_CAPABILITIES: {}, LOG_LEVEL: "notice" }))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(ok.log_level.as_deref(), Some("notice"));
    }

    #[test]
    fn per_request_fields_are_not_passed_to_handshake_servers() {
        let params = raw(&json!({
            "name": "t",
            "_meta": { PROTOCOL_VERSION: "2026-07-28", CLIENT_CAPABILITIES: {}, CLIENT_INFO: {"name": "c"},
                       LOG_LEVEL: "info", "progressToken": 3, "traceparent": "00-ab-cd-01" }
        }));
        assert_eq!(
            value(&strip_meta(&params).unwrap()),
            json!({ "name": "t", "_meta": { "progressToken": 3, "traceparent": "00-ab-cd-01" } })
        );
        // A key written with an escape is still a key.
        let escaped: Box<RawValue> = serde_json::from_str(
            r#"{"na\u006de":"t","_meta":{"io.modelcontextprotocol\/protocolVersion":"2026-07-28","progressToken":1}}"#,
        )
        .unwrap();
        assert_eq!(
            value(&strip_meta(&escaped).unwrap()),
            json!({ "name": "t", "_meta": { "progressToken": 1 } })
        );
        let bare =
            raw(&json!({ "_meta": { PROTOCOL_VERSION: "2026-07-28", CLIENT_CAPABILITIES: {} } }));
        assert_eq!(value(&strip_meta(&bare).unwrap()), json!({}));
    }

    #[test]
    fn results_are_marked_complete_and_cacheable_ones_get_hints() {
        let r = complete(&raw(&json!({ "content": [] })));
        assert_eq!(
            value(&r),
            json!({ "content": [], "resultType": "complete" })
        );
        // A server's own resultType is kept.
        let r = complete(&raw(
            &json!({ "resultType": "input_required", "requestState": "s" }),
        ));
        assert_eq!(value(&r)["resultType"], "input_required");
        let r = cacheable(&raw(&json!({ "tools": [] })), CacheHint::NONE);
        assert_eq!(
            value(&r),
            json!({ "tools": [], "resultType": "complete", "ttlMs": 0, "cacheScope": "private" })
        );
        assert!(is_cacheable("tools/list") && is_cacheable("resources/read"));
        assert!(!is_cacheable("tools/call"));
    }

    #[test]
    fn listen_filters_acknowledgements_and_tags() {
        let id = RequestId::String("l-1".into());
        let l = Listen::parse(
            id.clone(),
            Some(&raw(&json!({ "_meta": {}, "notifications": { "toolsListChanged": true, "resourcesListChanged": false, "resourceSubscriptions": ["a://x"] } }))),
            false,
        )
        .unwrap();
        assert!(l.hears(Kind::Tools) && !l.hears(Kind::Prompts) && !l.hears(Kind::Templates));
        assert_eq!(
            value(&l.acknowledgement(&["a://x".into()])),
            json!({ "_meta": { SUBSCRIPTION_ID: "l-1" }, "notifications": { "toolsListChanged": true, "resourceSubscriptions": ["a://x"] } })
        );
        assert_eq!(
            value(&l.tag(Some(&raw(&json!({ "uri": "a://x" }))))),
            json!({ "uri": "a://x", "_meta": { SUBSCRIPTION_ID: "l-1" } })
        );
        assert_eq!(
            value(&l.tag(None)),
            json!({ "_meta": { SUBSCRIPTION_ID: "l-1" } })
        );
        assert_eq!(
            value(&l.closing()),
            json!({ "resultType": "complete", "_meta": { SUBSCRIPTION_ID: "l-1" } })
        );

        let unknown = Listen::parse(
            id.clone(),
            Some(&raw(&json!({ "notifications": { "everything": true } }))),
            false,
        );
        assert_eq!(unknown.unwrap_err().code, code::INVALID_PARAMS);
        let missing = Listen::parse(id.clone(), Some(&raw(&json!({}))), false);
        assert_eq!(missing.unwrap_err().code, code::INVALID_PARAMS);
        let task_ids = raw(&json!({ "notifications": { "taskIds": ["t"] } }));
        let tasks = Listen::parse(id.clone(), Some(&task_ids), false);
        assert_eq!(tasks.unwrap_err().code, MISSING_REQUIRED_CLIENT_CAPABILITY);
        // With the extension declared: accepted; what is agreed names the tasks the session
        // kept (those it can relay).
        let mut tasks = Listen::parse(id, Some(&task_ids), true).unwrap();
        assert_eq!(
            value(&tasks.acknowledgement(&[]))["notifications"],
            json!({ "taskIds": ["t"] })
        );
        tasks.task_ids.clear();
        assert_eq!(
            value(&tasks.acknowledgement(&[]))["notifications"],
            json!({})
        );
    }

    #[test]
    fn resource_not_found_is_invalid_params_in_this_era() {
        let e = modern_error(ErrorObject::new(
            code::RESOURCE_NOT_FOUND,
            "Resource not found: x",
        ));
        assert_eq!(e.code, code::INVALID_PARAMS);
        assert_eq!(modern_error(ErrorObject::new(-32601, "m")).code, -32601);
    }
}
