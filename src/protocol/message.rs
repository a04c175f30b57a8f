//! JSON-RPC 2.0 envelopes as MCP uses them, with payloads left as raw JSON.
//!
//! A gateway must relay fields it does not model exactly as they were written, so `params`,
//! `result` and `error.data` stay [`RawValue`]s. Only the few places that rewrite a name parse
//! further. Classification follows JSON-RPC: bytes that are not JSON are a parse error (-32700);
//! JSON that is not a well-formed message is an invalid request (-32600), answered with the
//! message's id whenever one can be read from it.

use std::fmt;
use std::sync::Arc;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// Standard JSON-RPC error codes, plus the ones MCP and this gateway use.
pub mod code {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
    /// MCP: a request timed out.
    pub const REQUEST_TIMEOUT: i64 = -32001;
    /// MCP: the resource does not exist.
    pub const RESOURCE_NOT_FOUND: i64 = -32002;
    /// The upstream that should answer is not available (failed, restarting, stopped).
    pub const UPSTREAM_UNAVAILABLE: i64 = -32003;
}

/// A request id: a string or a number (zero included), never null.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestId {
    Number(serde_json::Number),
    String(Arc<str>),
}

impl From<u64> for RequestId {
    fn from(n: u64) -> Self {
        RequestId::Number(n.into())
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl Serialize for RequestId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestId::Number(n) => n.serialize(s),
            RequestId::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => Ok(RequestId::Number(n)),
            serde_json::Value::String(s) => Ok(RequestId::String(s.into())),
            other => Err(D::Error::custom(format!(
                "a request id must be a string or a number, not {}",
                kind_of(&other)
            ))),
        }
    }
}

/// The `error` member of a response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorObject {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Box<RawValue>>,
}

impl ErrorObject {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

pub type Outcome = Result<Box<RawValue>, ErrorObject>;

#[derive(Debug)]
pub struct Request {
    pub id: RequestId,
    pub method: String,
    pub params: Option<Box<RawValue>>,
}

#[derive(Debug, Clone)]
pub struct Notification {
    pub method: String,
    pub params: Option<Box<RawValue>>,
}

#[derive(Debug)]
pub struct Response {
    pub id: RequestId,
    pub outcome: Outcome,
}

#[derive(Debug)]
pub enum Message {
    Request(Request),
    Notification(Notification),
    Response(Response),
}

/// Why a line could not be taken as a message, and what to answer.
#[derive(Debug)]
pub struct Rejection {
    /// The id to answer with, when one could be read; `None` answers with `"id": null`.
    pub id: Option<RequestId>,
    pub error: ErrorObject,
}

impl Rejection {
    fn invalid(id: Option<RequestId>, why: impl Into<String>) -> Self {
        Rejection {
            id,
            error: ErrorObject::new(
                code::INVALID_REQUEST,
                format!("Invalid request: {}", why.into()),
            ),
        }
    }
}

/// What a line turned out to be.
#[derive(Debug)]
pub enum Parsed {
    Message(Message),
    /// A JSON array: a JSON-RPC batch, holding its raw elements.
    Batch(Vec<Box<RawValue>>),
    Rejected(Rejection),
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default, deserialize_with = "present")]
    jsonrpc: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Box<RawValue>>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    error: Option<Box<RawValue>>,
}

/// Keeps a member that is present but `null` apart from a missing one.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

impl Message {
    /// Classifies one line of input.
    pub fn parse(line: &[u8]) -> Parsed {
        let first = line.iter().find(|b| !b.is_ascii_whitespace()).copied();
        if first == Some(b'[') {
            return match serde_json::from_slice::<Vec<Box<RawValue>>>(line) {
                Ok(items) => Parsed::Batch(items),
                Err(e) => Parsed::Rejected(Self::reject_json(line, e)),
            };
        }
        match serde_json::from_slice::<Envelope>(line) {
            Ok(env) => match Self::from_envelope(env) {
                Ok(m) => Parsed::Message(m),
                Err(r) => Parsed::Rejected(r),
            },
            Err(e) => Parsed::Rejected(Self::reject_json(line, e)),
        }
    }

    fn reject_json(line: &[u8], e: serde_json::Error) -> Rejection {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => Rejection {
                id: None,
                error: ErrorObject::new(code::PARSE_ERROR, format!("Parse error: {e}")),
            },
            Category::Data => {
                // Valid JSON of the wrong shape: an invalid request, answered with its id when
                // the id itself is readable.
                let value: serde_json::Value = serde_json::from_slice(line).unwrap_or_default();
                let id = value
                    .get("id")
                    .and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
                let why = if value.is_object() {
                    e.to_string()
                } else {
                    format!("a message must be a JSON object, not {}", kind_of(&value))
                };
                Rejection::invalid(id, why)
            }
        }
    }

    fn from_envelope(env: Envelope) -> Result<Message, Rejection> {
        let id = match &env.id {
            None => None,
            Some(raw) => match serde_json::from_str::<RequestId>(raw.get()) {
                Ok(id) => Some(id),
                Err(_) if raw.get() == "null" && env.method.is_none() => {
                    // A response to something we could not parse; nothing to match it to.
                    return Err(Rejection::invalid(None, "response with a null id"));
                }
                Err(e) => return Err(Rejection::invalid(None, e.to_string())),
            },
        };
        match env.jsonrpc.as_deref().map(RawValue::get) {
            Some("\"2.0\"") => {}
            Some(other) => {
                return Err(Rejection::invalid(
                    id,
                    format!("\"jsonrpc\" must be \"2.0\", not {other}"),
                ));
            }
            None => return Err(Rejection::invalid(id, "missing \"jsonrpc\": \"2.0\"")),
        }
        if let Some(params) = &env.params {
            let first = params.get().as_bytes().first();
            if !matches!(first, Some(b'{') | Some(b'[')) {
                return Err(Rejection::invalid(id, "\"params\" must be an object"));
            }
        }
        match (env.method, id) {
            (Some(method), Some(id)) => Ok(Message::Request(Request {
                id,
                method,
                params: env.params,
            })),
            (Some(method), None) => Ok(Message::Notification(Notification {
                method,
                params: env.params,
            })),
            (None, Some(id)) => {
                let outcome = match (env.result, env.error) {
                    (Some(result), None) => Ok(result),
                    (None, Some(error)) => match serde_json::from_str(error.get()) {
                        Ok(e) => Err(e),
                        Err(e) => {
                            return Err(Rejection::invalid(Some(id), format!("bad error: {e}")));
                        }
                    },
                    _ => {
                        return Err(Rejection::invalid(
                            Some(id),
                            "a response needs exactly one of \"result\" and \"error\"",
                        ));
                    }
                };
                Ok(Message::Response(Response { id, outcome }))
            }
            (None, None) => Err(Rejection::invalid(None, "no \"method\" and no \"id\"")),
        }
    }

    /// The message as one line of JSON, without the newline.
    pub fn to_line(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            jsonrpc: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            id: Option<&'a RequestId>,
            #[serde(skip_serializing_if = "Option::is_none")]
            method: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            params: Option<&'a RawValue>,
            #[serde(skip_serializing_if = "Option::is_none")]
            result: Option<&'a RawValue>,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<&'a ErrorObject>,
        }
        let mut out = Out {
            jsonrpc: "2.0",
            id: None,
            method: None,
            params: None,
            result: None,
            error: None,
        };
        match self {
            Message::Request(r) => {
                out.id = Some(&r.id);
                out.method = Some(&r.method);
                out.params = r.params.as_deref();
            }
            Message::Notification(n) => {
                out.method = Some(&n.method);
                out.params = n.params.as_deref();
            }
            Message::Response(r) => {
                out.id = Some(&r.id);
                match &r.outcome {
                    Ok(v) => out.result = Some(v),
                    Err(e) => out.error = Some(e),
                }
            }
        }
        serde_json::to_string(&out).expect("a message always serializes")
    }
}

/// An error response line for an id that may be unknown (`"id": null`).
pub fn error_line(id: Option<&RequestId>, error: &ErrorObject) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        jsonrpc: &'static str,
        id: Option<&'a RequestId>,
        error: &'a ErrorObject,
    }
    serde_json::to_string(&Out {
        jsonrpc: "2.0",
        id,
        error,
    })
    .expect("an error always serializes")
}

/// Serializes a value that is known to serialize (our own result types).
pub fn raw(value: &impl Serialize) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).expect("a JSON value always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(line: &str) -> Rejection {
        match Message::parse(line.as_bytes()) {
            Parsed::Rejected(r) => r,
            other => panic!("{line} was accepted as {other:?}"),
        }
    }

    #[test]
    fn request_keeps_params_untouched() {
        let line = r#"{"jsonrpc":"2.0","id":0,"method":"tools/call","params":{"name":"x","arguments":{"a":1.50,"z":[]},"_meta":{"progressToken":"t"}}}"#;
        let Parsed::Message(Message::Request(r)) = Message::parse(line.as_bytes()) else {
            panic!("not a request")
        };
        assert_eq!(r.id, RequestId::from(0));
        assert_eq!(
            r.params.unwrap().get(),
            r#"{"name":"x","arguments":{"a":1.50,"z":[]},"_meta":{"progressToken":"t"}}"#
        );
    }

    #[test]
    fn string_ids_and_responses() {
        let Parsed::Message(Message::Response(r)) =
            Message::parse(br#"{"jsonrpc":"2.0","id":"a-1","result":{"k":null}}"#)
        else {
            panic!()
        };
        assert_eq!(r.id, RequestId::String("a-1".into()));
        assert_eq!(r.outcome.unwrap().get(), r#"{"k":null}"#);
        let Parsed::Message(Message::Response(r)) = Message::parse(
            br#"{"jsonrpc":"2.0","id":7,"error":{"code":-1,"message":"m","data":{"x":1}}}"#,
        ) else {
            panic!()
        };
        assert_eq!(r.outcome.unwrap_err().data.unwrap().get(), r#"{"x":1}"#);
    }

    #[test]
    fn classifies_bad_input() {
        assert_eq!(rejected("not json").error.code, code::PARSE_ERROR);
        assert_eq!(
            rejected(r#"{"jsonrpc":"2.0","#).error.code,
            code::PARSE_ERROR
        );
        assert_eq!(rejected("42").error.code, code::INVALID_REQUEST);
        assert_eq!(rejected(r#""str""#).error.code, code::INVALID_REQUEST);
        let r = rejected(r#"{"id":3,"method":"ping"}"#);
        assert_eq!(
            (r.error.code, r.id),
            (code::INVALID_REQUEST, Some(3.into()))
        );
        let r = rejected(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#);
        assert_eq!((r.error.code, r.id), (code::INVALID_REQUEST, None));
        let r = rejected(r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#);
        assert_eq!(r.error.code, code::INVALID_REQUEST);
        let r = rejected(r#"{"jsonrpc":"2.0","id":4,"method":5}"#);
        assert_eq!(
            (r.error.code, r.id),
            (code::INVALID_REQUEST, Some(4.into()))
        );
        let r = rejected(r#"{"jsonrpc":"2.0","id":4,"method":"x","params":3}"#);
        assert_eq!(r.error.code, code::INVALID_REQUEST);
        let r = rejected(r#"{"jsonrpc":"2.0","id":4}"#);
        assert_eq!(r.error.code, code::INVALID_REQUEST);
        assert!(matches!(
            Message::parse(br#"[{"jsonrpc":"2.0","method":"a"}]"#),
            Parsed::Batch(v) if v.len() == 1
        ));
    }

    #[test]
    fn lines_round_trip() {
        let line = r#"{"jsonrpc":"2.0","id":"x","method":"m","params":{"b":[1,2]}}"#;
        let Parsed::Message(m) = Message::parse(line.as_bytes()) else {
            panic!()
        };
        assert_eq!(m.to_line(), line);
        assert_eq!(
            error_line(None, &ErrorObject::new(-32700, "bad")),
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}}"#
        );
    }
}
