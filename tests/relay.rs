//! The relay, end to end: the real mcpgw binary in front of two real server-everything
//! instances, driven like an AI client drives it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures_util::FutureExt;
use mcpgw::protocol::{ErrorObject, Request};
use serde_json::{Value, json};

const CLIENT_CAPS: &str = r#"{"sampling":{},"elicitation":{},"roots":{"listChanged":true}}"#;

/// Answers sampling, elicitation and roots the way a host would.
fn host() -> mcpgw::client::Handler {
    Arc::new(|r: Request| {
        async move {
            let result = match r.method.as_str() {
                "sampling/createMessage" => json!({
                    "role": "assistant",
                    "content": { "type": "text", "text": "sampled-by-the-test-client" },
                    "model": "test-model",
                    "stopReason": "endTurn",
                }),
                "elicitation/create" => json!({
                    "action": "accept",
                    "content": { "name": "Ada Lovelace", "check": true, "email": "ada@example.org" },
                }),
                "roots/list" => json!({ "roots": [{ "uri": "file:///tmp/mcpgw-test-root", "name": "test root" }] }),
                other => return Err(ErrorObject::new(-32601, format!("Method not found: {other}"))),
            };
            Ok(mcpgw::protocol::raw(&result))
        }
        .boxed()
    })
}

async fn two_everythings() -> Gateway {
    Setup::new()
        .server(Server::everything("a"))
        .server(Server::everything("b"))
        .capabilities(serde_json::from_str(CLIENT_CAPS).unwrap())
        .handler(host())
        .start()
        .await
}

#[tokio::test]
async fn initialize_answers_for_the_gateway() {
    let gw = Setup::new()
        .server(Server::everything("a"))
        .raw()
        .start()
        .await;
    let init = gw.ok(gw.request("initialize", json!({ "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } })).await);
    assert_eq!(init["protocolVersion"], "2025-06-18");
    assert_eq!(init["serverInfo"]["name"], "mcpgw");
    assert_eq!(init["capabilities"]["tools"]["listChanged"], true);
    assert!(init["instructions"].as_str().unwrap().contains("`a`"));
    // A version we do not speak is answered with the newest one we do.
    let gw2 = Setup::new().raw().start().await;
    let init = gw2.ok(gw2
        .request(
            "initialize",
            json!({ "protocolVersion": "2099-01-01", "capabilities": {} }),
        )
        .await);
    assert_eq!(init["protocolVersion"], "2025-11-25");
}

#[tokio::test]
async fn tools_from_every_upstream_are_prefixed_and_callable() {
    let gw = two_everythings().await;
    let names = gw.tool_names().await;
    for name in [
        "a__echo",
        "b__echo",
        "a__get-sum",
        "b__get-sum",
        "a__trigger-sampling-request",
        "b__get-roots-list",
    ] {
        assert!(
            names.contains(&name.to_owned()),
            "{name} missing from {names:?}"
        );
    }
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("a__") || n.starts_with("b__"))
    );
    let echo = gw
        .call("a__echo", json!({ "message": "hello through mcpgw" }))
        .await;
    assert_eq!(text(&echo), "Echo: hello through mcpgw");
    let sum = gw.call("b__get-sum", json!({ "a": 2, "b": 40 })).await;
    assert!(text(&sum).contains("42"), "{sum}");
    // Unknown tools are invalid params, and the session goes on.
    let err = gw
        .request("tools/call", json!({ "name": "a__nope", "arguments": {} }))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Unknown tool: a__nope"), "{err}");
    assert_eq!(
        text(&gw.call("b__echo", json!({ "message": "still here" })).await),
        "Echo: still here"
    );
}

#[tokio::test]
async fn tools_needing_client_capabilities_appear_only_when_declared() {
    let gw = Setup::new().server(Server::everything("a")).start().await;
    let names = gw.tool_names().await;
    assert!(names.contains(&"a__echo".to_owned()));
    for name in [
        "a__trigger-sampling-request",
        "a__trigger-elicitation-request",
        "a__get-roots-list",
    ] {
        assert!(
            !names.contains(&name.to_owned()),
            "{name} offered to a client without the capability"
        );
    }
}

#[tokio::test]
async fn progress_notifications_reach_the_client() {
    let gw = two_everythings().await;
    let call = gw.request(
        "tools/call",
        json!({ "name": "b__trigger-long-running-operation", "arguments": { "duration": 1, "steps": 4 }, "_meta": { "progressToken": "progress-7" } }),
    );
    let collect = async {
        let mut seen = vec![];
        while seen.len() < 4 {
            let n = gw
                .client
                .wait_for("notifications/progress", WAIT)
                .await
                .expect("a progress notification");
            let p: Value = serde_json::from_str(n.params.unwrap().get()).unwrap();
            assert_eq!(p["progressToken"], "progress-7");
            seen.push(p["progress"].as_f64().unwrap());
        }
        seen
    };
    let (result, seen) = tokio::join!(call, collect);
    assert!(text(&gw.ok(result)).contains("Long running operation completed"));
    assert_eq!(seen, [1.0, 2.0, 3.0, 4.0]);
}

#[tokio::test]
async fn sampling_elicitation_and_roots_reach_the_client_and_back() {
    let gw = two_everythings().await;
    let sampled = gw
        .call(
            "a__trigger-sampling-request",
            json!({ "prompt": "say hi", "maxTokens": 5 }),
        )
        .await;
    assert!(
        text(&sampled).contains("sampled-by-the-test-client"),
        "{sampled}"
    );
    let elicited = gw.call("b__trigger-elicitation-request", json!({})).await;
    assert!(elicited.to_string().contains("Ada Lovelace"), "{elicited}");
    let roots = gw.call("a__get-roots-list", json!({})).await;
    assert!(
        text(&roots).contains("file:///tmp/mcpgw-test-root"),
        "{roots}"
    );
    // Both upstreams ask at once: the ids we give their requests must not cross.
    let (x, y) = tokio::join!(
        gw.request(
            "tools/call",
            json!({ "name": "a__trigger-sampling-request", "arguments": { "prompt": "x" } })
        ),
        gw.request(
            "tools/call",
            json!({ "name": "b__trigger-sampling-request", "arguments": { "prompt": "y" } })
        ),
    );
    assert!(text(&gw.ok(x)).contains("sampled-by-the-test-client"));
    assert!(text(&gw.ok(y)).contains("sampled-by-the-test-client"));
}

#[tokio::test]
async fn resources_are_listed_read_templated_and_subscribed() {
    let gw = two_everythings().await;
    let resources = gw
        .client
        .list_all("resources/list", "resources")
        .await
        .unwrap();
    let uris: Vec<&str> = resources
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    let doc = "demo://resource/static/document/architecture.md";
    assert!(uris.contains(&doc), "{uris:?}");
    // The second server offers the same URI: it is reachable under a prefix.
    let prefixed = format!("mcpgw://b/{doc}");
    assert!(uris.contains(&prefixed.as_str()), "{uris:?}");
    for uri in [doc, prefixed.as_str()] {
        let read = gw.ok(gw.request("resources/read", json!({ "uri": uri })).await);
        assert!(
            !read["contents"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{read}"
        );
        assert_eq!(
            read["contents"][0]["uri"], doc,
            "the server's own URI comes back untouched"
        );
    }
    let templates = gw
        .client
        .list_all("resources/templates/list", "resourceTemplates")
        .await
        .unwrap();
    let templates: Vec<&str> = templates
        .iter()
        .map(|t| t["uriTemplate"].as_str().unwrap())
        .collect();
    assert!(
        templates.contains(&"demo://resource/dynamic/text/{resourceId}"),
        "{templates:?}"
    );
    let read = gw.ok(gw
        .request(
            "resources/read",
            json!({ "uri": "demo://resource/dynamic/text/3" }),
        )
        .await);
    assert!(
        read["contents"][0]["text"].as_str().unwrap().contains('3'),
        "{read}"
    );
    let missing = gw
        .request("resources/read", json!({ "uri": "nowhere://x" }))
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("Resource not found"),
        "{missing}"
    );

    gw.ok(gw
        .request("resources/subscribe", json!({ "uri": doc }))
        .await);
    gw.call("a__toggle-subscriber-updates", json!({})).await;
    let updated = gw
        .client
        .wait_for("notifications/resources/updated", Duration::from_secs(15))
        .await
        .expect("an update");
    assert!(updated.params.unwrap().get().contains(doc));
    gw.ok(gw
        .request("resources/unsubscribe", json!({ "uri": doc }))
        .await);
}

#[tokio::test]
async fn prompts_and_completions_route_by_name() {
    let gw = two_everythings().await;
    let prompts = gw.client.list_all("prompts/list", "prompts").await.unwrap();
    let names: Vec<&str> = prompts
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"a__args-prompt") && names.contains(&"b__simple-prompt"),
        "{names:?}"
    );
    let got = gw.ok(gw
        .request(
            "prompts/get",
            json!({ "name": "b__args-prompt", "arguments": { "city": "Paris", "state": "Texas" } }),
        )
        .await);
    assert!(got.to_string().contains("Paris, Texas"), "{got}");
    let done = gw.ok(
        gw.request(
            "completion/complete",
            json!({ "ref": { "type": "ref/prompt", "name": "a__completable-prompt" }, "argument": { "name": "department", "value": "Eng" } }),
        )
        .await,
    );
    assert_eq!(done["completion"]["values"], json!(["Engineering"]));
    let done = gw.ok(
        gw.request(
            "completion/complete",
            json!({ "ref": { "type": "ref/resource", "uri": "mcpgw://b/demo://resource/dynamic/text/{resourceId}" }, "argument": { "name": "resourceId", "value": "1" } }),
        )
        .await,
    );
    assert!(done["completion"]["values"].is_array(), "{done}");
    let err = gw
        .request("prompts/get", json!({ "name": "a__nope" }))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Unknown prompt"), "{err}");
}

#[tokio::test]
async fn logging_level_and_messages_and_ping() {
    let gw = two_everythings().await;
    assert_eq!(gw.ok(gw.request("ping", Value::Null).await), json!({}));
    assert_eq!(
        gw.ok(gw
            .request("logging/setLevel", json!({ "level": "debug" }))
            .await),
        json!({})
    );
    gw.call("b__toggle-simulated-logging", json!({})).await;
    let message = gw
        .client
        .wait_for("notifications/message", Duration::from_secs(15))
        .await
        .expect("a log message");
    assert!(message.params.unwrap().get().contains("level"));
    let bad = gw
        .request("logging/setLevel", json!({ "lvl": "debug" }))
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("Invalid params"), "{bad}");
}

#[tokio::test]
async fn cancelling_a_call_stops_it_and_nothing_else() {
    let gw = two_everythings().await;
    gw.tools().await;
    gw.client.send_line(
        json!({ "jsonrpc": "2.0", "id": "long-1", "method": "tools/call", "params": { "name": "a__trigger-long-running-operation", "arguments": { "duration": 3, "steps": 3 }, "_meta": { "progressToken": "c1" } } })
            .to_string(),
    );
    gw.client
        .wait_for("notifications/progress", WAIT)
        .await
        .expect("the call started");
    gw.client.notify(
        "notifications/cancelled",
        json!({ "requestId": "long-1", "reason": "changed my mind" }),
    );
    assert_eq!(
        text(
            &gw.call("a__echo", json!({ "message": "after cancel" }))
                .await
        ),
        "Echo: after cancel"
    );
    // A cancelled request gets no answer at all.
    assert_eq!(gw.client.unmatched(Duration::from_secs(4)).await, None);
    assert!(gw.log_text().is_empty() || !gw.log_text().contains("panicked"));
}

#[tokio::test]
async fn a_restarted_upstream_comes_back_with_list_changed() {
    let gw = two_everythings().await;
    assert!(gw.tool_names().await.contains(&"a__echo".to_owned()));
    let pids = gw.pids("a");
    assert_eq!(pids.len(), 1, "one server `a` process");
    unsafe { libc::kill(pids[0] as i32, libc::SIGKILL) };
    gw.client
        .wait_for("notifications/tools/list_changed", WAIT)
        .await
        .expect("tools vanish");
    // While it is down its tools are gone, and calling one says which server and why.
    let down = gw
        .request(
            "tools/call",
            json!({ "name": "a__echo", "arguments": { "message": "x" } }),
        )
        .await;
    if let Ok(result) = &down {
        assert_eq!(result["isError"], true, "{result}");
        assert!(text(result).contains("server `a`"), "{result}");
    }
    // Like a real client, list again after the notification: a's tools are gone.
    let names = gw.tool_names().await;
    assert!(
        !names.contains(&"a__echo".to_owned()) && names.contains(&"b__echo".to_owned()),
        "{names:?}"
    );
    // It restarts after a short backoff, and the client is told its tools are back.
    gw.client
        .wait_for("notifications/tools/list_changed", WAIT)
        .await
        .expect("tools return");
    assert!(gw.tool_names().await.contains(&"a__echo".to_owned()));
    assert_eq!(
        text(&gw.call("a__echo", json!({ "message": "back" })).await),
        "Echo: back"
    );
    assert_eq!(
        text(
            &gw.call("b__echo", json!({ "message": "b untouched" }))
                .await
        ),
        "Echo: b untouched"
    );
}

#[tokio::test]
async fn stdin_eof_stops_every_child_and_exits_zero() {
    let gw = two_everythings().await;
    gw.tools().await;
    let (a, b) = (gw.pids("a"), gw.pids("b"));
    assert_eq!(a.len() + b.len(), 2);
    let status = gw.shutdown().await;
    assert!(status.success(), "{status}");
    let alive: Vec<_> = a
        .iter()
        .chain(&b)
        .filter(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
        .collect();
    assert!(alive.is_empty(), "children outlived mcpgw: {alive:?}");
}

#[tokio::test]
async fn progress_extends_the_timeout_and_silence_ends_it() {
    let gw = Setup::new()
        .gateway(r#"request_timeout = "1s""#)
        .server(Server::everything("a"))
        .start()
        .await;
    gw.tools().await;
    // 3 s of work, with progress every half second: each one restarts the 1 s timeout.
    let r = gw.ok(
        gw.request(
            "tools/call",
            json!({ "name": "a__trigger-long-running-operation", "arguments": { "duration": 3, "steps": 6 }, "_meta": { "progressToken": 1 } }),
        )
        .await,
    );
    assert!(text(&r).contains("completed"), "{r}");
    // The same work without progress times out, and says so.
    let r = gw
        .call(
            "a__trigger-long-running-operation",
            json!({ "duration": 3, "steps": 6 }),
        )
        .await;
    assert_eq!(r["isError"], true, "{r}");
    assert!(text(&r).contains("did not answer within"), "{r}");
}

#[tokio::test]
async fn the_clients_roots_changes_reach_every_upstream() {
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = asked.clone();
    let inner = host();
    let handler: mcpgw::client::Handler = Arc::new(move |r: Request| {
        if r.method == "roots/list" {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        inner(r)
    });
    let gw = Setup::new()
        .server(Server::everything("a"))
        .server(Server::everything("b"))
        .capabilities(serde_json::from_str(CLIENT_CAPS).unwrap())
        .handler(handler)
        .start()
        .await;
    gw.tools().await;
    let count = || asked.load(std::sync::atomic::Ordering::SeqCst);
    let wait_for = |n: usize| async move {
        let deadline = tokio::time::Instant::now() + WAIT;
        while count() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "roots/list asked {} times, expected {n}",
                count()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    // Each server asks for the roots once after start-up...
    wait_for(2).await;
    // ...and again when told they changed.
    gw.client
        .notify("notifications/roots/list_changed", Value::Null);
    wait_for(4).await;
}

#[tokio::test]
async fn an_older_client_gets_its_own_protocol_version() {
    let gw = Setup::new()
        .server(Server::everything("a"))
        .raw()
        .start()
        .await;
    let init = gw.ok(gw.request("initialize", json!({ "protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": { "name": "old", "version": "1" } })).await);
    assert_eq!(init["protocolVersion"], "2024-11-05");
    assert!(
        init["capabilities"].get("tasks").is_none(),
        "no capabilities the version lacks"
    );
    gw.client.notify("notifications/initialized", Value::Null);
    assert_eq!(
        text(&gw.call("a__echo", json!({ "message": "old" })).await),
        "Echo: old"
    );
}

#[tokio::test]
async fn task_augmented_calls_are_routed_by_task_id() {
    let gw = two_everythings().await;
    let tools = gw.tools().await;
    let research = tools
        .iter()
        .find(|t| t["name"] == "b__simulate-research-query")
        .expect("the task tool");
    assert!(
        research.get("execution").is_some(),
        "tool fields we do not model pass through: {research}"
    );
    let created = gw.ok(
        gw.request("tools/call", json!({ "name": "b__simulate-research-query", "arguments": { "topic": "gateways" }, "task": { "ttl": 60000 } }))
            .await,
    );
    let task_id = created["task"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("no task in {created}"))
        .to_owned();
    let status = gw.ok(gw.request("tasks/get", json!({ "taskId": task_id })).await);
    assert_eq!(status["taskId"], task_id.as_str(), "{status}");
    let listed = gw.ok(gw.request("tasks/list", json!({})).await);
    assert!(
        listed["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["taskId"] == task_id.as_str()),
        "{listed}"
    );
    let result = gw.ok(gw
        .request("tasks/result", json!({ "taskId": task_id }))
        .await);
    assert!(result.to_string().contains("gateways"), "{result}");
    let unknown = gw
        .request("tasks/get", json!({ "taskId": "no-such-task" }))
        .await
        .unwrap_err();
    assert!(unknown.to_string().contains("unknown taskId"), "{unknown}");
}

/// Regression (new users): two copies of one server logged a line at INFO for every URI the
/// second one shares (18 lines at each start). Now: one line for the server at INFO, the URIs
/// at DEBUG.
#[tokio::test]
async fn two_copies_of_a_server_log_one_line_about_shared_uris() {
    let gw = Setup::new()
        .server(Server::everything("a"))
        .server(Server::everything("b"))
        .env("MCPGW_LOG", "info")
        .start()
        .await;
    // Both lists are in once a shared URI shows up prefixed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let resources = gw
            .client
            .list_all("resources/list", "resources")
            .await
            .unwrap();
        if resources.iter().any(|r| {
            r["uri"]
                .as_str()
                .is_some_and(|u| u.starts_with("mcpgw://b/"))
        }) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "b never came up");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let log = gw.log_text();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("mcpgw://")).collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains("INFO") && lines[0].contains("server=b"),
        "{log}"
    );
}

/// Regression (new users): `MCPGW_LOG=mcpgw=trace` showed only the upstream side of the wire,
/// though the README promises every message both ways. The client's side is logged too.
#[tokio::test]
async fn trace_logs_the_clients_side_of_the_wire_too() {
    let gw = Setup::new().server(Server::everything("a")).start().await;
    let marker = "client-side-marker-7f3a";
    let echoed = gw.call("a__echo", json!({ "message": marker })).await;
    assert!(echoed.to_string().contains(marker), "{echoed}");
    let log = gw.log_text();
    let sent = log
        .lines()
        .any(|l| l.contains("client →") && l.contains("tools/call") && l.contains(marker));
    let answered = log
        .lines()
        .any(|l| l.contains("client ←") && l.contains("\"result\"") && l.contains(marker));
    assert!(sent && answered, "{log}");
}

/// Regression (new users): with every server dead the client still showed "Connected" and
/// learnt why only from each tool error. A client that turns logging on hears which server is
/// down and why.
#[tokio::test]
async fn a_client_with_logging_on_hears_that_a_server_is_down_and_why() {
    let gw = Setup::new()
        .server(Server::command("broken", "/nonexistent/server", &[]))
        .start()
        .await;
    // Wait until its start has failed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let tools = gw.tool_names().await;
        assert!(tools.is_empty(), "{tools:?}");
        if gw.log_text().contains("cannot start") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", gw.log_text());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    gw.ok(gw
        .request("logging/setLevel", json!({ "level": "warning" }))
        .await);
    let note = gw
        .client
        .wait_for("notifications/message", std::time::Duration::from_secs(5))
        .await
        .expect("a log message about the dead server");
    let params = serde_json::to_value(&note.params).unwrap();
    assert_eq!(params["level"], "error", "{params}");
    let data = params["data"].as_str().unwrap_or_default();
    assert!(
        data.contains("`broken`") && data.contains("cannot start `/nonexistent/server`"),
        "{data}"
    );
}

/// Regression (the catalog cache bug, found with real clients): `mcpgw tools` cached the lists
/// server-everything offers a client without roots; a client with roots was then shown that
/// list (no `get-roots-list`), and calling the tool at once failed with "it is still
/// starting". Lists are now cached per kind of client, and a call to a name missing from a
/// cached list waits for its server.
#[tokio::test]
async fn the_cache_never_hides_a_tool_from_a_client_with_roots() {
    let cache = tempfile::tempdir().unwrap();
    // The same command line each time (Server::everything adds a unique marker).
    let setup = || {
        Setup::new()
            .server(Server::command("a", &node(), &[&everything_js(), "stdio"]))
            .cache_dir(cache.path())
    };
    let config = tempfile::tempdir().unwrap();
    let config = config.path().join("config.toml");
    std::fs::write(&config, setup().config_text()).unwrap();
    let out = Cli::new(&["tools"])
        .config(&config)
        .env("XDG_CACHE_HOME", cache.path().to_str().unwrap())
        .run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("get-roots-list"));

    let with_roots = || {
        setup()
            .capabilities(serde_json::from_str(CLIENT_CAPS).unwrap())
            .handler(host())
    };
    // A client with roots, at once: its first list has the tool, and it works.
    let gw = with_roots().start().await;
    assert!(
        gw.tool_names()
            .await
            .contains(&"a__get-roots-list".to_owned())
    );
    let roots = gw.call("a__get-roots-list", json!({})).await;
    assert!(roots.to_string().contains("mcpgw-test-root"), "{roots}");
    gw.wait_log("listed tools").await;
    gw.shutdown().await;

    // A cached list that lacks a tool (the server's tools changed since): a call to it at
    // once waits for the server instead of failing with "it is still starting".
    let path = cache.path().join("mcpgw/catalogs.json");
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for (_, entry) in file["servers"].as_object_mut().unwrap().iter_mut() {
        entry["tools"]
            .as_array_mut()
            .unwrap()
            .retain(|t| t["name"] != "get-roots-list");
    }
    std::fs::write(&path, file.to_string()).unwrap();
    let gw = with_roots().start().await;
    let roots = gw.call("a__get-roots-list", json!({})).await;
    assert!(roots.to_string().contains("mcpgw-test-root"), "{roots}");
    gw.shutdown().await;

    // The reverse: after the client with roots, a client without them is never shown it.
    let gw = setup().start().await;
    assert!(
        !gw.tool_names()
            .await
            .contains(&"a__get-roots-list".to_owned())
    );
}
