//! Both protocol eras between mcpgw and real clients and servers: the Python `mcp` SDK's
//! 2.x line as a client in each of its modes (pinned to 2026-07-28, auto, which probes with
//! `server/discover`, and legacy) through `mcpgw serve` and `mcpgw proxy`; the same SDK's
//! server speaking only 2026-07-28 or both eras, over stdio and Streamable HTTP, next to the
//! reference server of the handshake era; and the bridges between eras (input asked for by a
//! server of either era, answered by a client of the other).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use futures_util::FutureExt;
use mcpgw::protocol::{ErrorObject, Request};
use serde_json::json;

/// Runs a client script of tests/python-sdk2 (`script MODE ARGS…`, then the gateway's command
/// line) and returns the protocol version of its last line, `OK <version>`.
fn run_client(script: &str, mode: &str, args: &[&str], gateway: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(python_sdk2())
        .arg(root().join("tests/python-sdk2").join(script))
        .arg(mode)
        .args(args)
        .arg(mcpgw_bin())
        .args(gateway)
        .env("XDG_CACHE_HOME", home.path())
        .env("MCPGW_LOG", "warn")
        .output()
        .unwrap();
    let text = all_output(&out);
    assert!(
        out.status.success(),
        "{script} {mode} through {gateway:?}:\n{text}"
    );
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix("OK "))
        .unwrap_or_else(|| panic!("no OK line:\n{text}"))
        .to_owned()
}

/// Runs `script` with `server` in each of the SDK's modes, each finding the era it should.
fn in_each_mode(script: &str, server: &str, gateway: &[&str]) {
    for (mode, version) in [
        ("2026-07-28", "2026-07-28"),
        ("auto", "2026-07-28"),
        ("legacy", "2025-11-25"),
    ] {
        assert_eq!(
            run_client(script, mode, &[server], gateway),
            version,
            "{mode}"
        );
    }
}

/// A config file holding `setup`'s servers.
fn config_of(setup: Setup) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, setup.config_text()).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

fn serve_config() -> (tempfile::TempDir, String) {
    config_of(Setup::new().server(Server::everything("every")))
}

#[test]
fn the_sdk_in_each_mode_uses_serve() {
    // Pinned to 2026-07-28 and auto (its probe is answered): stateless. Legacy: `initialize`.
    let (_dir, config) = serve_config();
    in_each_mode("client.py", "every__", &["serve", "--config", &config]);
}

#[test]
fn the_sdk_in_each_mode_through_proxy() {
    let server = HttpServer::everything("streamableHttp");
    let url = server.url("/mcp");
    in_each_mode("client.py", "", &["proxy", &url]);
}

/// Calls `f__echo` until the server `f` answers (after a restart).
async fn until_echoes(gw: &Gateway, message: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let r = gw.call("f__echo", json!({ "message": message })).await;
        if text(&r) == format!("f: {message}") {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never answered: {r}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The SDK's server as a child of `mcpgw serve`: `--modern-only` refuses `initialize`.
fn sdk_server(name: &str, flags: &[&str]) -> Server {
    let script = root()
        .join("tests/python-sdk2/server.py")
        .display()
        .to_string();
    let mut args = vec![script.as_str()];
    args.extend(flags);
    Server::command(name, &python_sdk2(), &args)
}

#[tokio::test]
async fn servers_of_2026_07_28_are_found_by_the_probe_and_serve_handshake_clients() {
    let gw = Setup::new()
        .server(sdk_server("m", &["--modern-only"]))
        .server(sdk_server("d", &[]))
        .server(Server::everything("every"))
        .start()
        .await;
    let names = gw.tool_names().await;
    for name in ["m__add", "d__add", "every__echo"] {
        assert!(names.contains(&name.to_owned()), "{name}: {names:?}");
    }
    assert_eq!(
        text(&gw.call("m__add", json!({ "a": 2, "b": 3 })).await),
        "5"
    );
    assert_eq!(text(&gw.call("d__echo", json!({ "text": "x" })).await), "x");
    let read = gw.ok(gw
        .request("resources/read", json!({ "uri": "mcpgw://m/demo://info" }))
        .await);
    assert_eq!(
        read["contents"][0]["text"], "demo resource contents",
        "{read}"
    );
    let prompt = gw.ok(gw
        .request(
            "prompts/get",
            json!({ "name": "m__greeting_prompt", "arguments": { "who": "Ada" } }),
        )
        .await);
    assert!(
        prompt["messages"][0]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("Ada")
    );
    // The server announces list changes on the `subscriptions/listen` mcpgw opened.
    gw.call("m__add_dynamic_tool", json!({})).await;
    gw.client
        .wait_for("notifications/tools/list_changed", WAIT)
        .await
        .expect("tools/list_changed");
    let deadline = tokio::time::Instant::now() + WAIT;
    while !gw.tool_names().await.contains(&"m__late_tool".to_owned()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "m__late_tool never listed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Each server's era, as `mcpgw list` shows it.
    let log = gw.log_text();
    assert!(log.contains("server=m protocol=2026-07-28"), "{log}");
    assert!(log.contains("server=d protocol=2026-07-28"), "{log}");
    assert!(log.contains("server=every protocol=2025-11-25"), "{log}");
}

#[tokio::test]
async fn protocol_fixes_the_era_of_a_server() {
    let gw = Setup::new()
        .server(sdk_server("d", &[]).with("protocol = \"legacy\""))
        .server(Server::everything("every").with("protocol = \"modern\""))
        .start()
        .await;
    assert_eq!(
        text(&gw.call("d__echo", json!({ "text": "old" })).await),
        "old"
    );
    assert!(gw.log_text().contains("server=d protocol=2025-11-25"));
    let failed = gw.call("every__echo", json!({ "message": "x" })).await;
    let failed = text(&failed);
    assert!(
        failed.contains("does not speak protocol version 2026-07-28"),
        "{failed}"
    );
}

/// A host that answers elicitation with a name, and counts what it was asked.
fn elicited_host(asked: Arc<AtomicUsize>) -> mcpgw::client::Handler {
    Arc::new(move |r: Request| {
        let asked = asked.clone();
        async move {
            asked.fetch_add(1, Ordering::SeqCst);
            match r.method.as_str() {
                "elicitation/create" => Ok(mcpgw::protocol::raw(
                    &json!({ "action": "accept", "content": { "name": "Ada" } }),
                )),
                other => Err(ErrorObject::new(
                    -32601,
                    format!("Method not found: {other}"),
                )),
            }
        }
        .boxed()
    })
}

#[tokio::test]
async fn a_handshake_client_answers_the_input_a_server_of_2026_07_28_asks_for() {
    let asked = Arc::new(AtomicUsize::new(0));
    let gw = Setup::new()
        .server(sdk_server("m", &["--modern-only"]))
        .capabilities(json!({ "elicitation": { "form": {} } }))
        .handler(elicited_host(asked.clone()))
        .start()
        .await;
    gw.tools().await;
    // The SDK's own resolver (`Elicit`), and a tool that returns `input_required` and its
    // `requestState` by hand: each becomes an `elicitation/create` to the client, and the
    // call is retried with the answer.
    assert_eq!(
        text(&gw.call("m__greet_user", json!({})).await),
        "Hello, Ada!"
    );
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    let raw = gw.call("m__greet_raw", json!({})).await;
    assert_eq!(text(&raw), "raw hello Ada (state=round-1)");
    assert_eq!(asked.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_bridged_question_the_client_never_answers_times_out_and_is_withdrawn() {
    let gw = Setup::new()
        .server(sdk_server("m", &["--modern-only"]))
        .gateway(r#"request_timeout = "1s""#)
        .capabilities(json!({ "elicitation": { "form": {} } }))
        .handler(Arc::new(|_r: mcpgw::protocol::Request| {
            futures_util::future::pending::<mcpgw::protocol::Outcome>().boxed()
        }))
        .start()
        .await;
    gw.tools().await;
    let started = std::time::Instant::now();
    // A tool's failure in mcpgw is a tool error, as for any call that timed out.
    let failed = gw.call("m__greet_user", json!({})).await;
    assert_eq!(failed["isError"], true, "{failed}");
    assert!(
        text(&failed).contains("did not give the input the server asked for within 1s"),
        "{failed}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The question the client still had is withdrawn.
    let withdrawn = gw
        .client
        .wait_for("notifications/cancelled", WAIT)
        .await
        .expect("the ask withdrawn");
    let p: serde_json::Value = serde_json::from_str(withdrawn.params.unwrap().get()).unwrap();
    assert!(
        p["requestId"]
            .as_str()
            .is_some_and(|id| id.starts_with("mcpgw-input-")),
        "{p}"
    );
}

#[tokio::test]
async fn a_handshake_client_without_elicitation_declines_what_it_cannot_answer() {
    let asked = Arc::new(AtomicUsize::new(0));
    let gw = Setup::new()
        .server(sdk_server("m", &["--modern-only"]))
        .handler(elicited_host(asked.clone()))
        .start()
        .await;
    gw.tools().await;
    // The server knows from the request that the client cannot be asked, and says so.
    let refused = gw
        .request(
            "tools/call",
            json!({ "name": "m__greet_user", "arguments": {} }),
        )
        .await;
    match refused {
        Err(mcpgw::client::ClientError::Rpc(e)) => assert_eq!(e.code, -32021, "{e}"),
        other => panic!("expected the server's refusal, got {other:?}"),
    }
    // A tool that asks anyway is answered "decline" for the client, as a person not asked.
    let raw = gw.call("m__greet_raw", json!({})).await;
    assert_eq!(text(&raw), "raw hello None (state=round-1)");
    assert_eq!(asked.load(Ordering::SeqCst), 0);
}

#[test]
fn the_sdk_client_in_each_mode_gives_a_server_of_2026_07_28_the_input_it_asks_for() {
    // Stateless client: `input_required` passes through and its retry comes back through.
    // Legacy client: mcpgw asks it with `elicitation/create` and retries for it.
    let (_dir, config) = config_of(Setup::new().server(sdk_server("m", &["--modern-only"])));
    in_each_mode("client_input.py", "sdk", &["serve", "--config", &config]);
}

#[test]
fn the_sdk_client_in_each_mode_answers_what_a_handshake_server_asks_while_serving_it() {
    // Stateless client: the server's `elicitation/create` becomes `input_required`, and the
    // retry answers it. Legacy client: the request is relayed as it is.
    let (_dir, config) = serve_config();
    in_each_mode(
        "client_input.py",
        "everything",
        &["serve", "--config", &config],
    );
}

#[tokio::test]
async fn servers_of_2026_07_28_over_http_are_found_by_the_probe() {
    let modern = HttpServer::python_sdk2(&["--modern-only"]);
    let dual = HttpServer::python_sdk2(&[]);
    let old = HttpServer::everything("streamableHttp");
    let gw = Setup::new()
        .server(Server::url("hm", &modern.url("/mcp")))
        .server(Server::url("hd", &dual.url("/mcp")))
        .server(Server::url("old", &old.url("/mcp")))
        .start()
        .await;
    let names = gw.tool_names().await;
    for name in ["hm__add", "hd__add", "old__echo"] {
        assert!(names.contains(&name.to_owned()), "{name}: {names:?}");
    }
    assert_eq!(
        text(&gw.call("hm__add", json!({ "a": 2, "b": 3 })).await),
        "5"
    );
    // A name HTTP cannot carry as it is still reaches the tool (sent `=?base64?…?=`).
    assert_eq!(
        text(&gw.call("hd__echo", json!({ "text": "über" })).await),
        "über"
    );
    assert_eq!(
        text(&gw.call("old__echo", json!({ "message": "m" })).await),
        "Echo: m"
    );
    gw.call("hm__add_dynamic_tool", json!({})).await;
    gw.client
        .wait_for("notifications/tools/list_changed", WAIT)
        .await
        .expect("tools/list_changed from the listen stream");
    let log = gw.log_text();
    assert!(log.contains("server=hm protocol=2026-07-28"), "{log}");
    assert!(log.contains("server=hd protocol=2026-07-28"), "{log}");
    assert!(log.contains("server=old protocol=2025-11-25"), "{log}");
}

#[test]
fn the_sdk_client_in_each_mode_through_proxy_to_a_server_of_2026_07_28() {
    // Stateless client and server: 2026-07-28 end to end, `input_required` included.
    // Legacy client: bridged.
    let server = HttpServer::python_sdk2(&["--modern-only"]);
    let url = server.url("/mcp");
    in_each_mode("client_input.py", "sdk-proxy", &["proxy", &url]);
}

#[tokio::test]
async fn a_server_found_of_the_handshake_era_is_not_probed_again_when_it_restarts() {
    let gw = Setup::new().server(Server::fixture("f", &[])).start().await;
    gw.tools().await;
    let crashed = gw.call("f__crash", json!({})).await;
    assert_eq!(crashed["isError"], true);
    // It comes back, and answers.
    until_echoes(&gw, "again").await;
    let log = gw.log_text();
    // What mcpgw sent the server (its own client's `initialize` is logged too).
    let sent = |method: &str| {
        log.lines()
            .filter(|l| l.contains("server=f") && l.contains(&format!("\"method\":\"{method}\"")))
            .count()
    };
    let (probes, handshakes) = (sent("server/discover"), sent("initialize"));
    assert_eq!((probes, handshakes), (1, 2), "{log}");
}

#[tokio::test]
async fn a_handshake_client_subscribes_to_a_resource_of_a_server_of_2026_07_28() {
    // The subscription becomes the resource's place in the `subscriptions/listen` mcpgw
    // holds with the server (over stdio, then over HTTP).
    let http = HttpServer::python_sdk2(&["--modern-only"]);
    for server in [
        sdk_server("m", &["--modern-only"]),
        Server::url("m", &http.url("/mcp")),
    ] {
        let gw = Setup::new().server(server).start().await;
        gw.tools().await;
        let subscribed = gw
            .request("resources/subscribe", json!({ "uri": "demo://info" }))
            .await;
        gw.ok(subscribed);
        // The tool announces an update of `demo://info`.
        gw.call("m__add_dynamic_tool", json!({})).await;
        let updated = gw
            .client
            .wait_for("notifications/resources/updated", WAIT)
            .await
            .expect("resources/updated");
        let params: serde_json::Value =
            serde_json::from_str(updated.params.unwrap().get()).unwrap();
        assert_eq!(params["uri"], "demo://info");
        gw.ok(gw
            .request("resources/unsubscribe", json!({ "uri": "demo://info" }))
            .await);
    }
}

#[tokio::test]
async fn a_cancelled_request_to_a_2026_07_28_http_server_has_its_stream_closed() {
    // In this revision a request over HTTP is cancelled by closing its answer stream.
    let marks = tempfile::tempdir().unwrap();
    let mark = marks.path().join("cancelled");
    let mark_path = mark.display().to_string();
    let http =
        HttpServer::python_sdk2_with(&["--modern-only"], &[("MCPGW_TEST_CANCELLED", &mark_path)]);
    let gw = Setup::new()
        .server(Server::url("m", &http.url("/mcp")))
        .start()
        .await;
    gw.tools().await;
    let id = gw.client.next_id();
    let call = json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call",
                       "params": { "name": "m__slow", "arguments": { "seconds": 30 } } });
    gw.client.send_line(call.to_string());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    gw.client.notify(
        "notifications/cancelled",
        json!({ "requestId": id, "reason": "changed my mind" }),
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    while !std::fs::read_to_string(&mark).is_ok_and(|t| t.contains("slow cancelled")) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never saw the request cancelled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // And the gateway goes on.
    assert_eq!(
        text(&gw.call("m__add", json!({ "a": 1, "b": 1 })).await),
        "2"
    );
}

/// The fault fixture speaking 2026-07-28 only (`f`), behind a handshake-era client, listed.
async fn modern_fault_server() -> (HttpServer, Gateway) {
    let server = HttpServer::faulty_with(&[("MODERN", "1")]);
    let gw = Setup::new()
        .server(Server::url("f", &server.url("/mcp")))
        .start()
        .await;
    gw.tools().await;
    (server, gw)
}

#[tokio::test]
async fn a_broken_answer_stream_of_a_2026_07_28_server_is_sent_again_with_a_new_id() {
    let (_server, gw) = modern_fault_server().await;
    let answer = gw.call("f__cut-once", json!({ "key": "a" })).await;
    let said = text(&answer);
    let ids: Vec<u64> =
        serde_json::from_str(said.trim_start_matches("answered after ids ")).unwrap();
    assert_eq!(ids.len(), 2, "{said}");
    assert_ne!(ids[0], ids[1], "sent again under a new id: {said}");
    assert!(gw.log_text().contains("server=f protocol=2026-07-28"));
}

#[tokio::test]
async fn a_listen_whose_stream_ends_is_sent_again() {
    let server = HttpServer::faulty_with(&[("MODERN", "1"), ("LISTENS", "1")]);
    let gw = Setup::new()
        .server(Server::url("f", &server.url("/mcp")))
        .start()
        .await;
    gw.tools().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.stats()["listens"].as_u64() < Some(2) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the listen was not sent again: {}",
            server.stats()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Held open now: no more.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(server.stats()["listens"], 2);
}

#[tokio::test]
async fn a_request_sent_again_after_its_stream_broke_is_cancelled_by_the_first_id() {
    let (server, gw) = modern_fault_server().await;
    let id = gw.client.next_id();
    gw.client.send_line(
        json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "f__cut-then-hang", "arguments": { "key": "c" } } })
            .to_string(),
    );
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.stats()["resentOpen"] != 1 {
        assert!(tokio::time::Instant::now() < deadline, "never sent again");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    gw.client
        .notify("notifications/cancelled", json!({ "requestId": id }));
    while server.stats()["resentClosed"] != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the request sent again was not cancelled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_2026_07_28_client_with_the_tasks_extension_polls_its_servers_task() {
    let server = HttpServer::faulty_with(&[("MODERN", "1")]);
    let gw = Setup::new()
        .server(Server::url("f", &server.url("/mcp")))
        .raw()
        .start()
        .await;
    let meta = |tasks: bool| {
        let mut caps = json!({});
        if tasks {
            caps["extensions"] = json!({ "io.modelcontextprotocol/tasks": {} });
        }
        json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": caps,
        })
    };
    let ask = |method: &'static str, mut params: serde_json::Value, tasks: bool| {
        params["_meta"] = meta(tasks);
        gw.client.request(method, params)
    };
    // The server's extension is in mcpgw's capabilities.
    let found = ask("server/discover", json!({}), true).await.unwrap();
    assert!(
        found["capabilities"]["extensions"]["io.modelcontextprotocol/tasks"].is_object(),
        "{found}"
    );
    // Without the extension: an answer at once.
    let plain = ask(
        "tools/call",
        json!({ "name": "f__tasked", "arguments": {} }),
        false,
    )
    .await
    .unwrap();
    assert_eq!(text(&plain), "done at once");
    // With it: a task, which mcpgw remembers is this server's.
    let task = ask(
        "tools/call",
        json!({ "name": "f__tasked", "arguments": {} }),
        true,
    )
    .await
    .unwrap();
    assert_eq!(task["resultType"], "task", "{task}");
    let id = task["taskId"].as_str().unwrap().to_owned();
    let got = ask("tasks/get", json!({ "taskId": id }), true)
        .await
        .unwrap();
    assert_eq!(got["status"], "completed", "{got}");
    assert!(
        got["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains(&id)
    );
    // Its notifications, through a listen of mcpgw's own at the server, tagged as the
    // client's; the server's listen ends with the client's.
    let mut listen = json!({ "notifications": { "taskIds": [id, "made-up"] } });
    listen["_meta"] = meta(true);
    let (listen_id, ack) = gw.listen(listen).await;
    assert_eq!(ack["notifications"]["taskIds"], json!([id]), "{ack}");
    let told = gw
        .client
        .wait_for("notifications/tasks", WAIT)
        .await
        .expect("the task's notification");
    let told: serde_json::Value = serde_json::from_str(told.params.unwrap().get()).unwrap();
    assert_eq!(told["taskId"], id.as_str(), "{told}");
    assert_eq!(told["status"], "completed", "{told}");
    assert_eq!(
        told["_meta"]["io.modelcontextprotocol/subscriptionId"],
        json!(listen_id),
        "{told}"
    );
    assert_eq!(server.stats()["taskListens"], 1);
    gw.client
        .notify("notifications/cancelled", json!({ "requestId": listen_id }));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.stats()["taskListens"] != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "mcpgw's listen at the server never ended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let cancel = ask("tasks/cancel", json!({ "taskId": id }), true)
        .await
        .unwrap();
    assert_eq!(cancel["resultType"], "complete");
    // Without the extension declared, and for a task nobody made: the spec's errors.
    match ask("tasks/get", json!({ "taskId": id }), false).await {
        Err(mcpgw::client::ClientError::Rpc(e)) => assert_eq!(e.code, -32021, "{e}"),
        other => panic!("{other:?}"),
    }
    match ask("tasks/get", json!({ "taskId": "made-up" }), true).await {
        Err(mcpgw::client::ClientError::Rpc(e)) => assert_eq!(e.code, -32602, "{e}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_era_is_remembered_with_the_catalog_so_the_next_run_does_not_probe() {
    let cache = tempfile::tempdir().unwrap();
    // The same command line both times (a cache entry is for one command line).
    let everything = everything_js();
    let setup = || {
        Setup::new()
            .server(Server::command("every", &node(), &[&everything, "stdio"]))
            .cache_dir(cache.path())
    };
    let first = setup().start().await;
    first.tools().await;
    let file = cache.path().join("mcpgw/catalogs.json");
    let deadline = tokio::time::Instant::now() + WAIT;
    while !std::fs::read_to_string(&file).is_ok_and(|t| t.contains("\"legacy\":true")) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cache never learned the era"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let probed = |log: &str| {
        log.lines()
            .any(|l| l.contains("server=every") && l.contains("\"method\":\"server/discover\""))
    };
    assert!(probed(&first.log_text()), "the first run probes");
    first.shutdown().await;
    let second = setup().start().await;
    assert_eq!(
        text(&second.call("every__echo", json!({ "message": "m" })).await),
        "Echo: m"
    );
    assert!(!probed(&second.log_text()), "{}", second.log_text());
}

#[tokio::test]
async fn a_2026_07_28_clients_log_level_brings_a_2026_07_28_servers_log_messages() {
    let server = HttpServer::faulty_with(&[("MODERN", "1")]);
    let gw = Setup::new()
        .server(Server::url("f", &server.url("/mcp")))
        .raw()
        .start()
        .await;
    let call = |level: Option<&str>| {
        let mut meta = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        });
        if let Some(level) = level {
            meta["io.modelcontextprotocol/logLevel"] = json!(level);
        }
        gw.client.request(
            "tools/call",
            json!({ "name": "f__logs", "arguments": {}, "_meta": meta }),
        )
    };
    let heard = async || {
        let mut said = vec![];
        while let Some(n) = gw
            .client
            .notification(std::time::Duration::from_millis(300))
            .await
        {
            if n.method == "notifications/message" {
                let p: serde_json::Value = serde_json::from_str(n.params.unwrap().get()).unwrap();
                said.push(p["data"].as_str().unwrap().to_owned());
            }
        }
        said
    };
    assert_eq!(text(&call(None).await.unwrap()), "logs done");
    assert!(heard().await.is_empty());
    assert_eq!(text(&call(Some("info")).await.unwrap()), "logs done");
    assert_eq!(heard().await, ["logged at info"]);
}

#[tokio::test]
async fn a_strict_server_that_exits_on_the_probe_is_started_again_without_it() {
    let gw = Setup::new()
        .server(Server::fixture("f", &["--strict"]))
        .start()
        .await;
    // Its first start ends at the probe; the restart shakes hands at once.
    until_echoes(&gw, "up").await;
    assert!(gw.log_text().contains("at the `server/discover` probe"));
}
