//! Whatever a client sends, it gets the right JSON-RPC error and the session keeps serving.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

async fn gateway() -> Gateway {
    Setup::new().server(Server::fixture("f", &[])).start().await
}

/// Sends a raw line and returns the answer that matched no request of the client's.
async fn answer_to(gw: &Gateway, line: &str) -> Value {
    gw.client.send_line(line);
    let text = gw
        .client
        .unmatched(WAIT)
        .await
        .unwrap_or_else(|| panic!("no answer to {line:.200}"));
    serde_json::from_str(&text).unwrap()
}

async fn still_serving(gw: &Gateway) {
    assert_eq!(
        text(&gw.call("f__echo", json!({ "message": "ok" })).await),
        "f: ok"
    );
}

#[tokio::test]
async fn malformed_lines_get_parse_and_invalid_request_errors() {
    let gw = gateway().await;
    gw.tools().await;
    let cases: &[(&str, i64, Value)] = &[
        ("this is not json", -32700, Value::Null),
        (r#"{"jsonrpc":"2.0","id":1,"method":"#, -32700, Value::Null),
        ("42", -32600, Value::Null),
        (r#""a string""#, -32600, Value::Null),
        (
            r#"{"id":"no-version","method":"ping"}"#,
            -32600,
            json!("no-version"),
        ),
        (
            r#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#,
            -32600,
            json!(5),
        ),
        (
            r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
            -32600,
            Value::Null,
        ),
        (
            r#"{"jsonrpc":"2.0","id":[1],"method":"ping"}"#,
            -32600,
            Value::Null,
        ),
        (r#"{"jsonrpc":"2.0","id":6,"method":7}"#, -32600, json!(6)),
        (
            r#"{"jsonrpc":"2.0","id":8,"method":"ping","params":"x"}"#,
            -32600,
            json!(8),
        ),
        (
            r#"{"jsonrpc":"2.0","id":0,"method":"no/such/method"}"#,
            -32601,
            json!(0),
        ),
        (
            r#"{"jsonrpc":"2.0","id":"s","method":"tools/call","params":{"arguments":{}}}"#,
            -32602,
            json!("s"),
        ),
        (
            r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"f__nope"}}"#,
            -32602,
            json!(9),
        ),
        (
            r#"{"jsonrpc":"2.0","id":10,"method":"tools/list","params":{"cursor":"bogus"}}"#,
            -32602,
            json!(10),
        ),
        (
            r#"{"jsonrpc":"2.0","id":11,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}"#,
            -32600,
            json!(11),
        ),
        ("[]", -32600, Value::Null),
        (
            r#"[{"jsonrpc":"2.0","id":12,"method":"ping"}]"#,
            -32600,
            Value::Null,
        ),
    ];
    for (line, code, id) in cases {
        let answer = answer_to(&gw, line).await;
        assert_eq!(answer["error"]["code"], *code, "{line} → {answer}");
        assert_eq!(answer["id"], *id, "{line} → {answer}");
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
    }
    // Blank lines are not messages and get no answer.
    gw.client.send_line("   ");
    assert_eq!(gw.client.unmatched(Duration::from_millis(300)).await, None);
    still_serving(&gw).await;
}

#[tokio::test]
async fn requests_before_initialize_are_refused_but_ping_works() {
    let gw = Setup::new()
        .server(Server::fixture("f", &[]))
        .raw()
        .start()
        .await;
    let early = answer_to(
        &gw,
        r#"{"jsonrpc":"2.0","id":"early","method":"tools/list"}"#,
    )
    .await;
    assert_eq!(early["error"]["code"], -32600, "{early}");
    assert!(
        early["error"]["message"]
            .as_str()
            .unwrap()
            .contains("before `initialize`")
    );
    assert_eq!(gw.ok(gw.request("ping", Value::Null).await), json!({}));
    gw.client.initialize(json!({})).await.unwrap();
    still_serving(&gw).await;
}

#[tokio::test]
async fn an_over_long_line_fails_only_its_own_request() {
    let gw = Setup::new()
        .gateway(r#"max_message_size = "1MiB""#)
        .server(Server::fixture("f", &[]))
        .start()
        .await;
    gw.tools().await;
    let huge = "y".repeat(10 * 1024 * 1024);
    let line = format!(
        r#"{{"jsonrpc":"2.0","id":"too-big","method":"tools/call","params":{{"name":"f__echo","arguments":{{"message":"{huge}"}}}}}}"#
    );
    let answer = answer_to(&gw, &line).await;
    assert_eq!(
        answer["id"], "too-big",
        "the id is recovered from the line's head"
    );
    assert_eq!(answer["error"]["code"], -32600);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_message_size"),
        "{answer}"
    );
    still_serving(&gw).await;
}

#[tokio::test]
async fn a_ten_megabyte_message_within_the_limit_goes_through() {
    let gw = gateway().await;
    gw.tools().await;
    let message = "z".repeat(10 * 1024 * 1024);
    let result = gw.call("f__echo", json!({ "message": message })).await;
    assert_eq!(text(&result).len(), message.len() + 3);
}

#[tokio::test]
async fn duplicate_ids_in_flight_are_refused() {
    let gw = Setup::new().server(Server::fixture("f", &[])).start().await;
    gw.tools().await;
    let slow = r#"{"jsonrpc":"2.0","id":"dup","method":"tools/call","params":{"name":"f__slow","arguments":{"ms":1500}}}"#;
    gw.client.send_line(slow);
    let second = answer_to(&gw, slow).await;
    assert_eq!(second["error"]["code"], -32600, "{second}");
    let first = gw
        .client
        .unmatched(WAIT)
        .await
        .expect("the first still answers");
    assert!(first.contains("slept 1500"), "{first}");
}

#[tokio::test]
async fn batches_are_answered_under_2025_03_26_only() {
    let gw = Setup::new()
        .server(Server::fixture("f", &[]))
        .protocol("2025-03-26")
        .start()
        .await;
    gw.tools().await;
    let answer = answer_to(
        &gw,
        r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/whatever"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"f__echo","arguments":{"message":"in a batch"}}},{"id":3}]"#,
    )
    .await;
    let answers = answer.as_array().expect("a batch answer is an array");
    assert_eq!(answers.len(), 3, "{answer}");
    let by_id = |id: i64| {
        answers
            .iter()
            .find(|a| a["id"] == id)
            .unwrap_or_else(|| panic!("no answer for {id}: {answer}"))
    };
    assert_eq!(by_id(1)["result"], json!({}));
    assert_eq!(by_id(2)["result"]["content"][0]["text"], "f: in a batch");
    assert!(answers.iter().any(|a| a["error"]["code"] == -32600));
    // A batch inside a batch is refused on its own; its neighbours are answered.
    let answer = answer_to(
        &gw,
        r#"[[{"jsonrpc":"2.0","id":5,"method":"ping"}],{"jsonrpc":"2.0","id":6,"method":"ping"}]"#,
    )
    .await;
    let answers = answer.as_array().expect("an array");
    assert_eq!(answers.len(), 2, "{answer}");
    assert!(
        answers
            .iter()
            .any(|a| a["id"] == 6 && a["result"] == json!({}))
    );
    assert!(answers.iter().any(|a| a["error"]["code"] == -32600));
}

#[tokio::test]
async fn serve_writes_only_json_rpc_to_stdout() {
    let gw = gateway().await;
    gw.tools().await;
    for line in [
        "garbage",
        "{}",
        "[1,2]",
        r#"{"jsonrpc":"2.0","method":"x"}"#,
    ] {
        gw.client.send_line(line);
    }
    gw.call("f__flood", json!({ "lines": 2000 })).await;
    gw.client
        .send_line(r#"{"jsonrpc":"2.0","id":"last","method":"ping"}"#);
    // Every line that matched no request must still be a JSON-RPC message.
    let mut seen_last = false;
    while let Some(line) = gw.client.unmatched(Duration::from_secs(2)).await {
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not JSON on stdout ({e}): {line:.200}"));
        let items = if let Value::Array(items) = v {
            items
        } else {
            vec![v]
        };
        for v in items {
            assert_eq!(v["jsonrpc"], "2.0", "{v}");
            seen_last |= v["id"] == "last";
        }
    }
    assert!(seen_last);
}
