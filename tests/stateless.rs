//! Clients of MCP 2026-07-28 (no `initialize`; every request carries its version and the
//! client's capabilities in `_meta`) against `mcpgw serve`, whose servers speak the handshake
//! era: the reference server and the fault fixture.

mod common;

use std::time::Duration;

use common::*;
use mcpgw::client::ClientError;
use serde_json::{Value, json};

const VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const SUBSCRIPTION: &str = "io.modelcontextprotocol/subscriptionId";

/// `params` with the fields every request of this era carries.
fn modern(mut params: Value) -> Value {
    let meta = params
        .as_object_mut()
        .unwrap()
        .entry("_meta")
        .or_insert(json!({}));
    meta[VERSION] = json!("2026-07-28");
    meta[CAPABILITIES] = json!({});
    meta["io.modelcontextprotocol/clientInfo"] =
        json!({ "name": "stateless-test", "version": "1" });
    params
}

async fn ask(gw: &Gateway, method: &str, params: Value) -> Result<Value, ClientError> {
    gw.client.request(method, modern(params)).await
}

fn code(r: Result<Value, ClientError>) -> (i64, String, Option<Value>) {
    match r {
        Err(ClientError::Rpc(e)) => (
            e.code,
            e.message,
            e.data.map(|d| serde_json::from_str(d.get()).unwrap()),
        ),
        other => panic!("expected an error, got {other:?}"),
    }
}

async fn everything() -> Gateway {
    Setup::new()
        .server(Server::everything("every"))
        .raw()
        .start()
        .await
}

async fn fixture() -> Gateway {
    Setup::new()
        .server(Server::fixture("f", &["--logging"]))
        .raw()
        .start()
        .await
}

#[tokio::test]
async fn a_client_without_initialize_lists_calls_and_reads_with_the_fields_of_its_era() {
    let gw = everything().await;
    let tools = ask(&gw, "tools/list", json!({})).await.unwrap();
    assert_eq!(tools["resultType"], "complete");
    // A server of the handshake era promises nothing about how long its list holds.
    assert_eq!(tools["ttlMs"], 0);
    assert_eq!(tools["cacheScope"], "private");
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"every__echo"), "{names:?}");

    let echo = ask(
        &gw,
        "tools/call",
        json!({ "name": "every__echo", "arguments": { "message": "hi" } }),
    )
    .await
    .unwrap();
    assert_eq!(echo["resultType"], "complete");
    assert_eq!(text(&echo), "Echo: hi");
    assert!(
        echo.get("ttlMs").is_none(),
        "tool results are not cacheable"
    );

    let resources = ask(&gw, "resources/list", json!({})).await.unwrap();
    let uri = resources["resources"][0]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = ask(&gw, "resources/read", json!({ "uri": uri }))
        .await
        .unwrap();
    assert_eq!(read["resultType"], "complete");
    assert_eq!(read["ttlMs"], 0);
    assert_eq!(read["cacheScope"], "private");
    assert!(read["contents"][0]["uri"].is_string(), "{read}");

    for method in ["prompts/list", "resources/templates/list"] {
        let list = ask(&gw, method, json!({})).await.unwrap();
        assert_eq!(
            (&list["resultType"], &list["ttlMs"]),
            (&json!("complete"), &json!(0)),
            "{method}"
        );
    }
    let prompt = ask(
        &gw,
        "prompts/get",
        json!({ "name": "every__simple-prompt" }),
    )
    .await
    .unwrap();
    assert_eq!(prompt["resultType"], "complete");
    assert!(prompt["messages"].is_array(), "{prompt}");
}

#[tokio::test]
async fn server_discover_answers_in_either_era_and_decides_nothing() {
    let gw = everything().await;
    let d = ask(&gw, "server/discover", json!({})).await.unwrap();
    assert_eq!(d["resultType"], "complete");
    let versions = d["supportedVersions"].as_array().unwrap();
    assert_eq!(versions[0], "2026-07-28");
    assert!(versions.contains(&json!("2025-11-25")) && versions.contains(&json!("2024-11-05")));
    assert_eq!(d["capabilities"]["tools"]["listChanged"], true);
    assert_eq!(d["capabilities"]["resources"]["subscribe"], true);
    assert_eq!(
        d["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "mcpgw"
    );
    assert!(d["ttlMs"].as_u64().unwrap() > 0 && d["cacheScope"] == "private");
    assert!(d["instructions"].as_str().unwrap().contains("`every`"));

    // The probe of a client of both eras: it may still choose the handshake.
    let init = gw.client.initialize(json!({})).await.unwrap();
    assert_eq!(init["protocolVersion"], "2025-11-25");
    assert_eq!(
        text(&gw.call("every__echo", json!({ "message": "old" })).await),
        "Echo: old"
    );
    // One connection speaks one era.
    let (c, message, _) = code(ask(&gw, "tools/list", json!({})).await);
    assert_eq!(c, -32600, "{message}");
    assert!(message.contains("one protocol era"), "{message}");
    // discover still answers, and still decides nothing.
    assert_eq!(
        ask(&gw, "server/discover", json!({})).await.unwrap()["resultType"],
        "complete"
    );
}

#[tokio::test]
async fn bad_requests_of_this_era_get_the_spec_errors_and_nothing_else_is_disturbed() {
    let gw = fixture().await;
    let slow = gw.client.request(
        "tools/call",
        modern(json!({ "name": "f__slow", "arguments": { "ms": 1500 } })),
    );
    let bad = async {
        let raw = |params: Value| gw.client.request("tools/list", params);
        let (c, m, _) = code(raw(json!({ "_meta": { VERSION: "2026-07-28" } })).await);
        assert_eq!(c, -32602, "{m}");
        assert!(m.contains(CAPABILITIES), "{m}");

        let (c, m, data) =
            code(raw(json!({ "_meta": { VERSION: "1900-01-01", CAPABILITIES: {} } })).await);
        assert_eq!(c, -32022, "{m}");
        let data = data.unwrap();
        assert_eq!(data["requested"], "1900-01-01");
        assert!(
            data["supported"]
                .as_array()
                .unwrap()
                .contains(&json!("2026-07-28"))
        );

        let (c, m, _) = code(
            raw(json!({ "_meta": { VERSION: "2026-07-28", CAPABILITIES: {}, "io.modelcontextprotocol/logLevel": "loud" } }))
                .await,
        );
        assert_eq!(c, -32602, "{m}");

        for gone in [
            "ping",
            "logging/setLevel",
            "resources/subscribe",
            "tasks/list",
        ] {
            let (c, m, _) = code(ask(&gw, gone, json!({ "level": "info", "uri": "x" })).await);
            assert_eq!(c, -32601, "{gone}: {m}");
        }
        let (c, m, _) = code(
            gw.client
                .request(
                    "initialize",
                    json!({ "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "x", "version": "1" } }),
                )
                .await,
        );
        assert_eq!(c, -32601, "{m}");
        // A request without the fields, once the connection speaks this era.
        let (c, m, _) = code(raw(json!({})).await);
        assert_eq!(c, -32602, "{m}");

        let (c, m, _) = code(ask(&gw, "resources/read", json!({ "uri": "nope://x" })).await);
        assert_eq!(
            c, -32602,
            "resource not found is invalid params in this era: {m}"
        );

        let (c, m, _) = code(
            ask(
                &gw,
                "subscriptions/listen",
                json!({ "notifications": { "everything": true } }),
            )
            .await,
        );
        assert_eq!(c, -32602, "{m}");
        let (c, m, data) = code(
            ask(
                &gw,
                "subscriptions/listen",
                json!({ "notifications": { "taskIds": ["t"] } }),
            )
            .await,
        );
        assert_eq!(c, -32021, "{m}");
        assert!(data.unwrap()["requiredCapabilities"]["extensions"].is_object());
        let (c, m, _) = code(ask(&gw, "subscriptions/listen", json!({})).await);
        assert_eq!(c, -32602, "{m}");
    };
    let (slow, ()) = tokio::join!(slow, bad);
    assert_eq!(text(&slow.unwrap()), "slept 1500");
    let echo = ask(
        &gw,
        "tools/call",
        json!({ "name": "f__echo", "arguments": { "message": "still" } }),
    )
    .await
    .unwrap();
    assert_eq!(text(&echo), "f: still");
}

#[tokio::test]
async fn the_fields_of_this_era_stay_at_the_gateway_and_the_rest_of_meta_goes_on() {
    let gw = fixture().await;
    let r = ask(
        &gw,
        "tools/call",
        json!({ "name": "f__meta", "arguments": {}, "_meta": { "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "progressToken": 9 } }),
    )
    .await
    .unwrap();
    let meta: Value = serde_json::from_str(text(&r)).unwrap();
    assert_eq!(
        meta["traceparent"],
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    );
    assert!(
        meta["progressToken"].is_string(),
        "the gateway's own token: {meta}"
    );
    assert!(
        meta.get(VERSION).is_none() && meta.get(CAPABILITIES).is_none(),
        "{meta}"
    );
}

#[tokio::test]
async fn log_messages_reach_only_the_requests_that_asked_for_them_and_at_their_level() {
    let gw = fixture().await;
    let call = |level: Option<&str>| {
        let mut params = json!({ "name": "f__log", "arguments": {} });
        if let Some(level) = level {
            params["_meta"] = json!({ "io.modelcontextprotocol/logLevel": level });
        }
        ask(&gw, "tools/call", params)
    };
    let heard = async || {
        let mut levels = vec![];
        while let Some(n) = gw.client.notification(Duration::from_millis(300)).await {
            if n.method == "notifications/message" {
                let p: Value = serde_json::from_str(n.params.unwrap().get()).unwrap();
                levels.push(p["level"].as_str().unwrap().to_owned());
            }
        }
        levels
    };
    assert_eq!(text(&call(None).await.unwrap()), "logged");
    assert!(heard().await.is_empty(), "no logLevel, no log messages");
    assert_eq!(text(&call(Some("error")).await.unwrap()), "logged");
    assert_eq!(heard().await, ["error"]);
    assert_eq!(text(&call(Some("debug")).await.unwrap()), "logged");
    assert_eq!(heard().await, ["info", "error"]);
}

#[tokio::test]
async fn subscriptions_hear_list_changes_and_resource_updates_until_cancelled() {
    let gw = everything().await;
    // Lists first: the server is then ready, and its resources known.
    ask(&gw, "resources/list", json!({})).await.unwrap();
    let doc = "demo://resource/static/document/architecture.md";
    let listen_id = gw.client.next_id();
    let listen = serde_json::to_string(&json!({
        "jsonrpc": "2.0", "id": listen_id, "method": "subscriptions/listen",
        "params": modern(json!({ "notifications": {
            "resourcesListChanged": true, "promptsListChanged": false, "resourceSubscriptions": [doc]
        } })),
    }))
    .unwrap();
    gw.client.send_line(listen);
    let ack = gw
        .client
        .wait_for("notifications/subscriptions/acknowledged", WAIT)
        .await
        .expect("acknowledged");
    let ack: Value = serde_json::from_str(ack.params.unwrap().get()).unwrap();
    assert_eq!(ack["_meta"][SUBSCRIPTION], json!(listen_id));
    assert_eq!(
        ack["notifications"],
        json!({ "resourcesListChanged": true, "resourceSubscriptions": [doc] })
    );

    // A new resource changes the list; the subscription hears it, tagged.
    let gzip = json!({ "name": "every__gzip-file-as-resource", "arguments": {
        "name": "a.gz", "data": "data:text/plain;base64,aGVsbG8=", "outputType": "resource" } });
    ask(&gw, "tools/call", gzip.clone()).await.unwrap();
    let changed = gw
        .client
        .wait_for("notifications/resources/list_changed", WAIT)
        .await
        .expect("resources/list_changed");
    let changed: Value = serde_json::from_str(changed.params.unwrap().get()).unwrap();
    assert_eq!(changed["_meta"][SUBSCRIPTION], json!(listen_id));

    // The server updates subscribed resources every 5 seconds once asked to.
    ask(
        &gw,
        "tools/call",
        json!({ "name": "every__toggle-subscriber-updates", "arguments": {} }),
    )
    .await
    .unwrap();
    let updated = gw
        .client
        .wait_for("notifications/resources/updated", Duration::from_secs(12))
        .await
        .expect("resources/updated");
    let updated: Value = serde_json::from_str(updated.params.unwrap().get()).unwrap();
    assert_eq!(updated["uri"], doc);
    assert_eq!(updated["_meta"][SUBSCRIPTION], json!(listen_id));

    // Cancelled: nothing more for it, and the gateway keeps serving.
    gw.client.notify(
        "notifications/cancelled",
        json!({ "requestId": listen_id, "reason": "done" }),
    );
    let gzip2 = json!({ "name": "every__gzip-file-as-resource", "arguments": {
        "name": "b.gz", "data": "data:text/plain;base64,aGVsbG8=", "outputType": "resource" } });
    ask(&gw, "tools/call", gzip2).await.unwrap();
    assert!(
        gw.client
            .wait_for(
                "notifications/resources/list_changed",
                Duration::from_secs(1)
            )
            .await
            .is_none(),
        "a cancelled subscription hears nothing"
    );
}

#[tokio::test]
async fn progress_reaches_the_client_with_its_own_token() {
    let gw = everything().await;
    let call = ask(
        &gw,
        "tools/call",
        json!({ "name": "every__trigger-long-running-operation", "arguments": { "duration": 1, "steps": 2 },
                "_meta": { "progressToken": "mine" } }),
    );
    let progress = async {
        let n = gw
            .client
            .wait_for("notifications/progress", Duration::from_secs(10))
            .await
            .expect("progress");
        let p: Value = serde_json::from_str(n.params.unwrap().get()).unwrap();
        p["progressToken"].clone()
    };
    let (result, token) = tokio::join!(call, progress);
    assert_eq!(result.unwrap()["resultType"], "complete");
    assert_eq!(token, "mine");
}

/// `params` with elicitation declared (the reference server then offers its elicitation tool).
fn eliciting(mut params: Value) -> Value {
    params = modern(params);
    params["_meta"][CAPABILITIES] = json!({ "elicitation": {} });
    params
}

#[tokio::test]
async fn a_handshake_servers_request_becomes_input_required_and_only_a_true_state_answers_it() {
    let gw = everything().await;
    let list = gw
        .client
        .request("tools/list", eliciting(json!({})))
        .await
        .unwrap();
    assert!(
        list.to_string()
            .contains("every__trigger-elicitation-request")
    );
    let call = json!({ "name": "every__trigger-elicitation-request", "arguments": {} });
    let asked = gw
        .client
        .request("tools/call", eliciting(call.clone()))
        .await
        .unwrap();
    assert_eq!(asked["resultType"], "input_required", "{asked}");
    let requests = asked["inputRequests"].as_object().unwrap();
    assert_eq!(requests.len(), 1);
    let (key, input) = requests.iter().next().unwrap();
    assert_eq!(input["method"], "elicitation/create");
    assert!(input["params"]["requestedSchema"].is_object(), "{input}");
    let state = asked["requestState"].as_str().unwrap().to_owned();
    assert!(
        asked.get("ttlMs").is_none(),
        "input_required is never cacheable"
    );

    let retry = |state: &str, responses: Value| {
        let mut params = eliciting(call.clone());
        params["requestState"] = json!(state);
        params["inputResponses"] = responses;
        gw.client.request("tools/call", params)
    };
    let accept = json!({ "action": "accept", "content": { "name": "Ada", "check": true, "email": "ada@example.org" } });
    // Altered, made up, or answering what was never asked: refused, and the server still
    // waits for the true answer.
    let mut altered = state.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == '0' { '1' } else { '0' });
    let (c, m, _) = code(retry(&altered, json!({ key: accept })).await);
    assert_eq!(c, -32602, "{m}");
    assert!(m.contains("forged"), "{m}");
    let (c, m, _) = code(retry("mcpgw1.1.1.99999999999.00", json!({ key: accept })).await);
    assert_eq!(c, -32602, "{m}");
    let (c, m, _) = code(retry(&state, json!({ "never-asked": accept })).await);
    assert_eq!(c, -32602, "{m}");
    assert!(m.contains("never-asked"), "{m}");
    // Brought to another method: refused.
    let mut elsewhere = eliciting(json!({ "name": "every__simple-prompt" }));
    elsewhere["requestState"] = json!(state);
    elsewhere["inputResponses"] = json!({ key: accept });
    let (c, m, _) = code(gw.client.request("prompts/get", elsewhere).await);
    assert_eq!(c, -32602, "{m}");
    assert!(m.contains("not to a `prompts/get`"), "{m}");
    // Without the input: asked again, with the same state.
    let again = retry(&state, json!({})).await.unwrap();
    assert_eq!(again["resultType"], "input_required");
    assert_eq!(again["requestState"], state.as_str());

    let done = retry(&state, json!({ key: accept })).await.unwrap();
    assert_eq!(done["resultType"], "complete", "{done}");
    assert!(done.to_string().contains("Name: Ada"), "{done}");
    // A state answers once.
    let (c, m, _) = code(retry(&state, json!({ key: accept })).await);
    assert_eq!(c, -32602, "{m}");

    // Without elicitation declared, the server's request is refused for it (the reference
    // server then reports the failure in its result).
    let refused = ask(&gw, "tools/call", call).await;
    match refused {
        Ok(r) => assert_ne!(r["resultType"], "input_required", "{r}"),
        Err(ClientError::Rpc(_)) => {}
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn a_resource_subscription_follows_its_server_restarted_by_a_reload() {
    let gw = everything().await;
    ask(&gw, "resources/list", json!({})).await.unwrap();
    let doc = "demo://resource/static/document/architecture.md";
    let (listen_id, _) = gw
        .listen(modern(
            json!({ "notifications": { "resourceSubscriptions": [doc] } }),
        ))
        .await;
    // `every` changes: a reload starts it again, as a new slot.
    let config = gw.dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}env = {{ RELOADED = \"1\" }}\n")).unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while !gw.log_text().contains("config reloaded") {
        assert!(std::time::Instant::now() < deadline, "{}", gw.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The new process, asked to, updates the resource; the listen hears it.
    let deadline = std::time::Instant::now() + WAIT;
    while ask(
        &gw,
        "tools/call",
        json!({ "name": "every__toggle-subscriber-updates", "arguments": {} }),
    )
    .await
    .is_err()
    {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let updated = gw
        .client
        .wait_for("notifications/resources/updated", Duration::from_secs(15))
        .await
        .expect("an update from the restarted server");
    let updated: Value = serde_json::from_str(updated.params.unwrap().get()).unwrap();
    assert_eq!(updated["uri"], doc);
    assert_eq!(updated["_meta"][SUBSCRIPTION], json!(listen_id));
}
