//! Tasks between the eras (see `src/session/tasks.rs`): a client of 2026-07-28 with the
//! reference server's task tool (handshake era, `taskSupport: "required"`, asking for input
//! while it runs), and a handshake-era client with a server of 2026-07-28 whose tool runs only
//! as a task of the extension and asks for input through `tasks/update`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures_util::FutureExt;
use mcpgw::protocol::{ErrorObject, Request};
use serde_json::{Value, json};

const TASKS: &str = "io.modelcontextprotocol/tasks";

/// The `_meta` of a 2026-07-28 request, with elicitation and (if `tasks`) the extension.
fn meta(tasks: bool) -> Value {
    let mut caps = json!({ "elicitation": { "form": {} } });
    if tasks {
        caps["extensions"] = json!({ TASKS: {} });
    }
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": { "name": "tasks-test", "version": "1" },
    })
}

async fn ask(gw: &Gateway, method: &str, mut params: Value, tasks: bool) -> Value {
    params["_meta"] = meta(tasks);
    gw.client
        .request(method, params.clone())
        .await
        .unwrap_or_else(|e| panic!("{method} {params}: {e}"))
}

/// Polls a 2026-07-28 task until `done` says it has what the test waits for.
async fn poll_until(gw: &Gateway, task: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = ask(gw, "tasks/get", json!({ "taskId": task }), true).await;
        if done(&got) {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the task never got there: {got}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_2026_client_polls_a_handshake_servers_task_and_answers_its_question() {
    let gw = Setup::new()
        .server(Server::everything("e"))
        .raw()
        .start()
        .await;
    // mcpgw offers the extension for the server's tasks.
    let found = ask(&gw, "server/discover", json!({}), true).await;
    assert!(
        found["capabilities"]["extensions"][TASKS].is_object(),
        "{found}"
    );
    let created = ask(
        &gw,
        "tools/call",
        json!({ "name": "e__simulate-research-query", "arguments": { "topic": "python", "ambiguous": true } }),
        true,
    )
    .await;
    assert_eq!(created["resultType"], "task", "{created}");
    let task = created["taskId"].as_str().expect("taskId").to_owned();
    assert!(
        created["ttlMs"].is_u64() && created.get("ttl").is_none(),
        "the extension's shape: {created}"
    );

    // Its notifications can be heard.
    let mut listen = json!({ "notifications": { "taskIds": [task] } });
    listen["_meta"] = meta(true);
    let (listen_id, ack) = gw.listen(listen).await;
    assert_eq!(ack["notifications"]["taskIds"], json!([task]), "{ack}");

    // The server's question arrives as the task's input request.
    let asking = poll_until(&gw, &task, |t| t["status"] == "input_required").await;
    let (key, asked) = asking["inputRequests"]
        .as_object()
        .and_then(|r| r.iter().next())
        .unwrap_or_else(|| panic!("no input requests: {asking}"));
    assert_eq!(asked["method"], "elicitation/create", "{asking}");
    let update = ask(
        &gw,
        "tasks/update",
        json!({ "taskId": task, "inputResponses": {
            key.clone(): { "action": "accept", "content": { "interpretation": "snake" } },
            "never-asked": { "action": "decline" },
        } }),
        true,
    )
    .await;
    assert_eq!(update["resultType"], "complete", "{update}");

    // And the outcome is inlined once it is done.
    let done = poll_until(&gw, &task, |t| t["status"] == "completed").await;
    let report = all_text(&done["result"]);
    assert!(report.contains("snake"), "{done}");
    assert!(done.get("inputRequests").is_none());

    // Its notifications; the one that it ended carries the outcome.
    let heard = loop {
        let heard = gw
            .client
            .wait_for("notifications/tasks", WAIT)
            .await
            .expect("a task notification");
        let heard: Value = serde_json::from_str(heard.params.unwrap().get()).unwrap();
        if heard["status"] == "completed" {
            break heard;
        }
    };
    assert_eq!(heard["taskId"], task.as_str(), "{heard}");
    assert!(all_text(&heard["result"]).contains("snake"), "{heard}");
    assert_eq!(
        heard["_meta"]["io.modelcontextprotocol/subscriptionId"],
        json!(listen_id)
    );
}

#[tokio::test]
async fn a_2026_client_without_the_extension_gets_the_outcome_of_a_task_only_tool() {
    let gw = Setup::new()
        .server(Server::everything("e"))
        .raw()
        .start()
        .await;
    let mut params = json!({ "name": "e__simulate-research-query", "arguments": { "topic": "python", "ambiguous": true } });
    // The server's question comes as `input_required`, answered by a retry.
    let asked = ask(&gw, "tools/call", params.clone(), false).await;
    assert_eq!(asked["resultType"], "input_required", "{asked}");
    let key = first_input_key(&asked);
    params["inputResponses"] =
        json!({ key: { "action": "accept", "content": { "interpretation": "comedy" } } });
    params["requestState"] = asked["requestState"].clone();
    let done = ask(&gw, "tools/call", params, false).await;
    assert_eq!(done["resultType"], "complete", "{done}");
    assert!(all_text(&done).contains("comedy"), "{done}");
}

/// A handshake-era host answering elicitation with a name.
fn host() -> mcpgw::client::Handler {
    Arc::new(|r: Request| {
        async move {
            match r.method.as_str() {
                "elicitation/create" => Ok(mcpgw::protocol::raw(
                    &json!({ "action": "accept", "content": { "name": "Ada" } }),
                )),
                other => Err(ErrorObject::new(-32601, other.to_owned())),
            }
        }
        .boxed()
    })
}

async fn handshake_gateway(server: &HttpServer) -> Gateway {
    Setup::new()
        .server(Server::url("f", &server.url("/mcp")))
        .capabilities(json!({ "elicitation": { "form": {} } }))
        .handler(host())
        .start()
        .await
}

#[tokio::test]
async fn a_handshake_client_just_gets_the_answer_of_a_tool_that_runs_only_as_a_task() {
    let server = HttpServer::faulty_with(&[("MODERN", "1")]);
    let gw = handshake_gateway(&server).await;
    gw.tools().await;
    let answer = gw.call("f__needs-task", json!({})).await;
    assert_eq!(text(&answer), "hello Ada", "{answer}");
    assert_eq!(server.stats()["taskUpdates"], 1);
}

#[tokio::test]
async fn a_handshake_client_asks_a_2026_server_for_a_task_in_its_eras_shape() {
    let server = HttpServer::faulty_with(&[("MODERN", "1")]);
    let gw = handshake_gateway(&server).await;
    gw.tools().await;
    let created = gw.ok(gw
        .request(
            "tools/call",
            json!({ "name": "f__needs-task", "arguments": {}, "task": { "ttl": 60000 } }),
        )
        .await);
    let task = created["task"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("no task: {created}"))
        .to_owned();
    assert_eq!(created["task"]["ttl"], 60000, "{created}");
    assert!(created.get("resultType").is_none(), "{created}");

    let got = gw.ok(gw.request("tasks/get", json!({ "taskId": task })).await);
    assert_eq!(got["status"], "input_required", "{got}");
    assert!(
        got.get("inputRequests").is_none() && got["pollInterval"] == 50,
        "{got}"
    );
    let listed = gw.ok(gw.request("tasks/list", json!({})).await);
    assert_eq!(listed["tasks"][0]["taskId"], task.as_str(), "{listed}");

    // `tasks/result` asks the client what the server needs, and waits for the end.
    let result = gw.ok(gw.request("tasks/result", json!({ "taskId": task })).await);
    assert_eq!(text(&result), "hello Ada", "{result}");
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        task.as_str()
    );

    // A second task, cancelled: this era's `tasks/cancel` answers with the task.
    let created = gw.ok(gw
        .request(
            "tools/call",
            json!({ "name": "f__needs-task", "arguments": {}, "task": {} }),
        )
        .await);
    let second = created["task"]["taskId"].as_str().unwrap().to_owned();
    let cancelled = gw.ok(gw
        .request("tasks/cancel", json!({ "taskId": second }))
        .await);
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert_eq!(server.stats()["tasksCancelled"], 1);
}

#[tokio::test]
async fn cancelling_a_call_cancels_the_task_polled_for_it() {
    let server = HttpServer::faulty_with(&[("MODERN", "1")]);
    // A host that never answers: the task waits on input until the call is cancelled.
    let asked = Arc::new(tokio::sync::Notify::new());
    let told = asked.clone();
    let gw = Setup::new()
        .server(Server::url("f", &server.url("/mcp")))
        .capabilities(json!({ "elicitation": { "form": {} } }))
        .handler(Arc::new(move |_r: Request| {
            told.notify_one();
            futures_util::future::pending::<mcpgw::protocol::Outcome>().boxed()
        }))
        .start()
        .await;
    gw.tools().await;
    let id = gw.client.next_id();
    gw.client.send_line(
        json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "f__needs-task", "arguments": {} } })
            .to_string(),
    );
    tokio::time::timeout(WAIT, asked.notified())
        .await
        .expect("the question reaches the client");
    gw.client
        .notify("notifications/cancelled", json!({ "requestId": id }));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while server.stats()["tasksCancelled"] != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the task was never cancelled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The question the client was asked is withdrawn.
    let withdrawn = gw
        .client
        .wait_for("notifications/cancelled", WAIT)
        .await
        .expect("the question withdrawn");
    let p: Value = serde_json::from_str(withdrawn.params.unwrap().get()).unwrap();
    assert!(
        p["requestId"]
            .as_str()
            .is_some_and(|id| id.starts_with("mcpgw-input-")),
        "{p}"
    );
    // And the gateway goes on.
    let echo = gw.call("f__echo", json!({ "message": "still here" })).await;
    assert_eq!(text(&echo), "echo: still here");
}
