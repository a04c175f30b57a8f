//! What the HTTP face checks of a 2026-07-28 request before it is served, and which HTTP
//! status an error answer gets.
//!
//! Every POST of that era names its version, method and (for `tools/call`, `prompts/get`,
//! `resources/read`) its target in headers (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`),
//! so that proxies and balancers can route without reading the body. A header that is missing,
//! malformed or says something else than the body is refused with 400 and `HeaderMismatch`
//! (-32020): otherwise what routes the request and what runs it could disagree.

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use serde_json::Value;

use crate::protocol::{self, Request, code};
use crate::upstream;

/// `HeaderMismatch`: the headers do not say what the body says.
pub const HEADER_MISMATCH: i64 = -32020;
/// A request needs a capability the client did not declare.
pub const MISSING_CAPABILITY: i64 = -32021;
/// The protocol version is not one mcpgw speaks.
pub const UNSUPPORTED_VERSION: i64 = -32022;

/// Why the request's metadata headers do not fit its body, if they do not.
pub fn mismatch(request: &Request, headers: &HeaderMap) -> Option<String> {
    let header = |name: &str| -> Result<Option<&str>, String> {
        match headers.get(name) {
            None => Ok(None),
            Some(v) => v
                .to_str()
                .map(|v| Some(v.trim()))
                .map_err(|_| format!("Header mismatch: {name} is not a plain ASCII value")),
        }
    };
    let params: Value = request
        .params
        .as_deref()
        .and_then(|p| serde_json::from_str(p.get()).ok())
        .unwrap_or(Value::Null);
    let check = || -> Result<(), String> {
        let body_version = params
            .get("_meta")
            .and_then(|m| m.get(protocol::meta::PROTOCOL_VERSION))
            .and_then(Value::as_str);
        match (header("mcp-protocol-version")?, body_version) {
            (None, _) => {
                return Err("Header mismatch: the MCP-Protocol-Version header is missing".into());
            }
            (Some(h), Some(b)) if h != b => {
                return Err(format!(
                    "Header mismatch: MCP-Protocol-Version header value '{h}' does not match body value '{b}'"
                ));
            }
            _ => {}
        }
        match header("mcp-method")? {
            None => return Err("Header mismatch: the Mcp-Method header is missing".into()),
            Some(m) if m != request.method => {
                return Err(format!(
                    "Header mismatch: Mcp-Method header value '{m}' does not match body value '{}'",
                    request.method
                ));
            }
            Some(_) => {}
        }
        let field = match request.method.as_str() {
            "tools/call" | "prompts/get" => "name",
            "resources/read" => "uri",
            _ => return Ok(()),
        };
        let body = params.get(field).and_then(Value::as_str);
        let Some(named) = header("mcp-name")? else {
            return Err("Header mismatch: the Mcp-Name header is missing".into());
        };
        let named = decode(named).ok_or_else(|| {
            format!("Header mismatch: Mcp-Name header value '{named}' is not valid Base64")
        })?;
        if Some(named.as_str()) != body {
            return Err(format!(
                "Header mismatch: Mcp-Name header value '{named}' does not match body value '{}'",
                body.unwrap_or_default()
            ));
        }
        Ok(())
    };
    check().err()
}

/// Why the `Mcp-Param-*` headers of a `tools/call` do not fit its arguments, given the tool's
/// `inputSchema` (whose `x-mcp-header` annotations name them): a header for every annotated
/// argument present, none for one absent, each saying what the argument says.
pub fn param_mismatch(
    request: &Request,
    headers: &HeaderMap,
    schema: Option<&serde_json::value::RawValue>,
) -> Option<String> {
    if request.method != "tools/call" {
        return None;
    }
    let schema = schema.filter(|s| s.get().contains("x-mcp-header"))?;
    let schema: Value = serde_json::from_str(schema.get()).ok()?;
    // A tool whose annotations are invalid is its server's fault, not the request's.
    let params = upstream::header_params(&schema).ok()?;
    let arguments = request
        .params
        .as_deref()
        .and_then(|p| serde_json::from_str::<Value>(p.get()).ok())
        .and_then(|mut p| p.get_mut("arguments").map(Value::take))
        .unwrap_or(Value::Null);
    for (path, name) in &params {
        let header = format!("mcp-param-{}", name.to_ascii_lowercase());
        let value = path.iter().try_fold(&arguments, |v, key| v.get(key));
        let body = match value {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let sent = match headers.get(&header).map(|v| v.to_str()) {
            None => None,
            Some(Ok(v)) => Some(v.trim()),
            Some(Err(_)) => {
                return Some(format!(
                    "Header mismatch: Mcp-Param-{name} is not a plain ASCII value"
                ));
            }
        };
        let at = path.join(".");
        match (sent, body) {
            (None, None) => {}
            (Some(_), None) => {
                return Some(format!(
                    "Header mismatch: Mcp-Param-{name} is sent, but the arguments have no `{at}`"
                ));
            }
            (None, Some(_)) => {
                return Some(format!(
                    "Header mismatch: the Mcp-Param-{name} header is missing (the arguments have `{at}`)"
                ));
            }
            (Some(sent), Some(body)) => {
                let Some(decoded) = decode(sent) else {
                    return Some(format!(
                        "Header mismatch: Mcp-Param-{name} value '{sent}' is not valid Base64"
                    ));
                };
                let numbers =
                    matches!(value, Some(Value::Number(_))) && same_number(&decoded, &body);
                if decoded != body && !numbers {
                    return Some(format!(
                        "Header mismatch: Mcp-Param-{name} header value '{decoded}' does not match body value '{body}'"
                    ));
                }
            }
        }
    }
    None
}

/// Whether two numbers written differently are one (`42.0` and `42`): integers exactly,
/// others as floats.
fn same_number(a: &str, b: &str) -> bool {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(a), Ok(b)) => a == b,
        // Beyond 2^53 floats cannot tell integers apart: nothing matches there.
        _ => match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(a), Ok(b)) => a == b && a.abs() < 9.0e15,
            _ => false,
        },
    }
}

/// A header value as sent: plain, or `=?base64?…?=`. `None`: not valid Base64.
pub fn decode(value: &str) -> Option<String> {
    match value
        .strip_prefix("=?base64?")
        .and_then(|v| v.strip_suffix("?="))
    {
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        None => Some(value.to_owned()),
    }
}

/// The HTTP status of a 2026-07-28 request answered with an error of `code`: 400 for a request
/// that cannot be served as sent, 404 for a method there is not, else 200 (the answer is an
/// ordinary JSON-RPC error, such as a resource not found or a server that failed).
pub fn status_of(code: i64) -> StatusCode {
    match code {
        code::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        code::PARSE_ERROR
        | code::INVALID_REQUEST
        | code::INVALID_PARAMS
        | HEADER_MISMATCH
        | MISSING_CAPABILITY
        | UNSUPPORTED_VERSION => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, params: Value) -> Request {
        Request {
            id: 1u64.into(),
            method: method.into(),
            params: Some(protocol::raw(&params)),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_headers_must_say_what_the_body_says() {
        let meta = serde_json::json!({ protocol::meta::PROTOCOL_VERSION: "2026-07-28" });
        let call = request(
            "tools/call",
            serde_json::json!({ "name": "echo", "_meta": meta }),
        );
        let good = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "  echo "),
        ];
        assert_eq!(mismatch(&call, &headers(&good)), None);
        let encoded = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "=?base64?ZWNobw==?="),
        ];
        assert_eq!(mismatch(&call, &headers(&encoded)), None);
        for (bad, why) in [
            (&good[1..], "MCP-Protocol-Version header is missing"),
            (&[good[0], good[2]][..], "Mcp-Method header is missing"),
            (&good[..2], "Mcp-Name header is missing"),
            (
                &[good[0], ("mcp-method", "TOOLS/CALL"), good[2]][..],
                "'TOOLS/CALL'",
            ),
            (
                &[good[0], good[1], ("mcp-name", "other")][..],
                "'other' does not match body value 'echo'",
            ),
            (
                &[("mcp-protocol-version", "v9"), good[1], good[2]][..],
                "'v9' does not match",
            ),
            (
                &[good[0], good[1], ("mcp-name", "=?base64?!!?=")][..],
                "not valid Base64",
            ),
        ] {
            let got = mismatch(&call, &headers(bad)).unwrap_or_default();
            assert!(got.contains(why), "{got}");
        }
        // Only some methods name a target.
        let list = request("tools/list", serde_json::json!({ "_meta": meta }));
        assert_eq!(
            mismatch(&list, &headers(&[good[0], ("mcp-method", "tools/list")])),
            None
        );
    }

    #[test]
    fn mirrored_parameters_must_say_what_the_arguments_say() {
        let schema = protocol::raw(&serde_json::json!({
            "type": "object",
            "properties": {
                "region": { "type": "string", "x-mcp-header": "Region" },
                "count": { "type": "integer", "x-mcp-header": "Count" },
            },
        }));
        let call = |arguments: Value| {
            request(
                "tools/call",
                serde_json::json!({ "name": "t", "arguments": arguments }),
            )
        };
        let check = |arguments: Value, pairs: &[(&'static str, &str)]| {
            param_mismatch(&call(arguments), &headers(pairs), Some(&schema))
        };
        let hello = serde_json::json!({ "region": "Hello" });
        assert_eq!(check(hello.clone(), &[("mcp-param-region", "Hello")]), None);
        assert_eq!(
            check(
                hello.clone(),
                &[("mcp-param-region", "=?base64?SGVsbG8=?=")]
            ),
            None
        );
        assert!(check(hello.clone(), &[("mcp-param-region", "=?base64?SGVsbG8?=")]).is_some());
        assert!(
            check(
                hello.clone(),
                &[("mcp-param-region", "=?base64?SGVs!!!bG8=?=")]
            )
            .is_some()
        );
        assert!(check(hello.clone(), &[]).unwrap().contains("missing"));
        assert!(
            check(hello, &[("mcp-param-region", "Bye")])
                .unwrap()
                .contains("'Bye'")
        );
        let literal = serde_json::json!({ "region": "SGVsbG8=" });
        assert_eq!(check(literal, &[("mcp-param-region", "SGVsbG8=")]), None);
        assert_eq!(
            check(serde_json::json!({}), &[]),
            None,
            "absent: no header wanted"
        );
        assert!(check(serde_json::json!({}), &[("mcp-param-region", "x")]).is_some());
        let count = serde_json::json!({ "count": 42 });
        assert_eq!(
            check(count, &[("mcp-param-count", "42.0")]),
            None,
            "numbers compare as numbers"
        );
        // Tools without annotations, and other methods, are not looked at.
        assert_eq!(
            param_mismatch(&call(Value::Null), &HeaderMap::new(), None),
            None
        );
    }

    #[test]
    fn errors_have_their_status() {
        assert_eq!(status_of(-32601), StatusCode::NOT_FOUND);
        assert_eq!(status_of(-32020), StatusCode::BAD_REQUEST);
        assert_eq!(status_of(-32602), StatusCode::BAD_REQUEST);
        assert_eq!(status_of(-32002), StatusCode::OK);
        assert_eq!(status_of(-32603), StatusCode::OK);
    }
}
