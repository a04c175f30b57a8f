//! Reading and rewriting single members of params that otherwise stay raw.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::message::{ErrorObject, code, raw};

/// Params as `T`, or an "Invalid params" error saying what is wrong.
pub fn parse_params<T: DeserializeOwned>(params: Option<&RawValue>) -> Result<T, ErrorObject> {
    let text = params.map_or("{}", RawValue::get);
    serde_json::from_str(text)
        .map_err(|e| ErrorObject::new(code::INVALID_PARAMS, format!("Invalid params: {e}")))
}

/// The string member `key` of `params`.
pub fn param_str(params: &RawValue, key: &str) -> Option<String> {
    let map: BTreeMap<String, Box<RawValue>> = serde_json::from_str(params.get()).ok()?;
    serde_json::from_str(map.get(key)?.get()).ok()
}

/// The progress token of a request (`_meta.progressToken`) or of a progress notification
/// (`progressToken`), as JSON text: tokens may be strings or numbers.
pub fn progress_token(params: Option<&RawValue>) -> Option<String> {
    #[derive(Deserialize)]
    struct Meta<'a> {
        #[serde(borrow, rename = "progressToken")]
        token: Option<&'a RawValue>,
    }
    #[derive(Deserialize)]
    struct P<'a> {
        #[serde(borrow, rename = "_meta")]
        meta: Option<Meta<'a>>,
        #[serde(borrow, rename = "progressToken")]
        token: Option<&'a RawValue>,
    }
    let p: P = serde_json::from_str(params?.get()).ok()?;
    p.meta
        .and_then(|m| m.token)
        .or(p.token)
        .map(|t| t.get().to_owned())
}

/// `params` with the progress token replaced by `token` (JSON text): in `_meta` for a
/// request, at the top for a progress notification. Every other member stays as it was.
pub fn with_progress_token(params: &RawValue, token: &RawValue) -> Option<Box<RawValue>> {
    let mut map: BTreeMap<String, Box<RawValue>> = serde_json::from_str(params.get()).ok()?;
    if map.contains_key("progressToken") {
        map.insert("progressToken".into(), token.to_owned());
    } else {
        let mut meta: BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(map.get("_meta")?.get()).ok()?;
        meta.insert("progressToken".into(), token.to_owned());
        map.insert("_meta".into(), raw(&meta));
    }
    Some(raw(&map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn progress_tokens_are_read_and_replaced_where_they_are() {
        let request = raw(&json!({ "name": "x", "_meta": { "progressToken": 7, "other": [1] } }));
        assert_eq!(progress_token(Some(&request)).as_deref(), Some("7"));
        let ours = raw(&"1.1");
        let replaced = with_progress_token(&request, &ours).unwrap();
        let v: Value = serde_json::from_str(replaced.get()).unwrap();
        assert_eq!(
            v,
            json!({ "name": "x", "_meta": { "progressToken": "1.1", "other": [1] } })
        );
        let note = raw(&json!({ "progressToken": "1.1", "progress": 3 }));
        let back = with_progress_token(&note, &raw(&7)).unwrap();
        assert_eq!(progress_token(Some(&back)).as_deref(), Some("7"));
        assert!(progress_token(Some(&raw(&json!({ "name": "x" })))).is_none());
        assert_eq!(param_str(&request, "name").as_deref(), Some("x"));
    }
}
