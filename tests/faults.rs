//! Upstreams that crash, hang, babble or flood: the failing call gets an error naming the
//! server, and every other server and request is untouched.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

fn is_tool_error(result: &serde_json::Value, needle: &str) -> bool {
    result["isError"] == true && text(result).contains(needle)
}

#[tokio::test]
async fn a_child_that_crashes_mid_call_fails_that_call_and_restarts() {
    let gw = Setup::new()
        .server(Server::fixture("f", &[]))
        .server(Server::fixture("g", &[]))
        .start()
        .await;
    gw.tools().await;
    let (crashed, fine) = tokio::join!(
        gw.request("tools/call", json!({ "name": "f__crash", "arguments": {} })),
        gw.request(
            "tools/call",
            json!({ "name": "g__slow", "arguments": { "ms": 300 } })
        ),
    );
    let crashed = gw.ok(crashed);
    assert!(
        is_tool_error(&crashed, "server `f` stopped before answering"),
        "{crashed}"
    );
    assert!(text(&crashed).contains("exited with status 3"), "{crashed}");
    assert!(
        text(&crashed).contains("crashing mid-call"),
        "the last stderr line says why: {crashed}"
    );
    assert_eq!(text(&gw.ok(fine)), "slept 300");
    // f restarts with backoff; once back, it is called as before.
    let deadline = Instant::now() + WAIT;
    loop {
        let r = gw.call("f__echo", json!({ "message": "again" })).await;
        if text(&r) == "f: again" {
            break;
        }
        assert!(is_tool_error(&r, "server `f`"), "{r}");
        assert!(Instant::now() < deadline, "f never came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_call_that_is_never_answered_times_out_and_is_cancelled() {
    let gw = Setup::new()
        .gateway(r#"request_timeout = "1s""#)
        .server(Server::fixture("f", &[]))
        .start()
        .await;
    gw.tools().await;
    let started = Instant::now();
    let result = gw.call("f__hang", json!({})).await;
    assert!(
        is_tool_error(&result, "server `f` did not answer within"),
        "{result}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // Progress would have extended it; a slow but answered call within the limit is fine.
    assert_eq!(
        text(&gw.call("f__slow", json!({ "ms": 200 })).await),
        "slept 200"
    );
    // The server was told to stop working on it (it logs cancellations to its stderr).
    gw.wait_log("f: cancelled request").await;
}

#[tokio::test]
async fn garbage_floods_and_malformed_answers_do_not_hurt() {
    let gw = Setup::new().server(Server::fixture("f", &[])).start().await;
    gw.tools().await;
    assert_eq!(
        text(&gw.call("f__garbage", json!({})).await),
        "after garbage"
    );
    assert_eq!(
        text(&gw.call("f__flood", json!({ "lines": 20000 })).await),
        "flooded 20000 lines"
    );
    // Each garbage line is not worth a warning of its own: the log would drown.
    let warnings = gw
        .log_text()
        .lines()
        .filter(|l| l.contains("not MCP"))
        .count();
    assert!(
        (5..40).contains(&warnings),
        "{warnings} warnings about 20003 garbage lines"
    );
    let started = Instant::now();
    let bad = gw
        .request(
            "tools/call",
            json!({ "name": "f__bad-answer", "arguments": {} }),
        )
        .await
        .unwrap_err();
    assert!(
        bad.to_string()
            .contains("server `f` sent a malformed answer"),
        "{bad}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "failed at once, not by timeout"
    );
    assert_eq!(
        text(&gw.call("f__echo", json!({ "message": "fine" })).await),
        "f: fine"
    );
}

#[tokio::test]
async fn an_answer_over_the_size_limit_fails_only_that_call() {
    let gw = Setup::new()
        .gateway(r#"max_message_size = "4MiB""#)
        .server(Server::fixture("f", &[]))
        .start()
        .await;
    gw.tools().await;
    let (huge, normal) = tokio::join!(
        gw.request(
            "tools/call",
            json!({ "name": "f__huge", "arguments": { "bytes": 50_000_000 } })
        ),
        gw.request(
            "tools/call",
            json!({ "name": "f__big", "arguments": { "bytes": 1_000_000 } })
        ),
    );
    let huge = gw.ok(huge);
    assert!(is_tool_error(&huge, "over the limit"), "{huge}");
    assert_eq!(text(&gw.ok(normal)).len(), 1_000_000);
    assert_eq!(
        text(&gw.call("f__echo", json!({ "message": "after" })).await),
        "f: after"
    );
}

#[tokio::test]
async fn servers_that_fail_to_start_or_hang_do_not_block_the_others() {
    let started = Instant::now();
    let gw = Setup::new()
        .gateway(r#"startup_timeout = "2s""#)
        .gateway(r#"handshake_timeout = "2s""#)
        .server(Server::fixture("crashes", &["--crash-on-start"]))
        .server(Server::fixture("silent", &["--no-init-answer"]))
        .server(Server::fixture("old", &["--protocol", "1999-01-01"]))
        .server(Server::command("missing", "/nonexistent/mcp-server", &[]))
        .server(Server::fixture("good", &[]))
        .start()
        .await;
    let names = gw.tool_names().await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
    assert!(names.iter().all(|n| n.starts_with("good__")), "{names:?}");
    assert!(names.contains(&"good__echo".to_owned()));
    gw.wait_log("last stderr line: fault-server: crashing on start as asked")
        .await;
    gw.wait_log("did not answer `initialize` within 2s").await;
    gw.wait_log("speaks protocol version 1999-01-01").await;
    gw.wait_log("cannot start `/nonexistent/mcp-server`").await;
    let r = gw.call("crashes__echo", json!({})).await;
    assert!(
        is_tool_error(&r, "server `crashes` is not available"),
        "{r}"
    );
}

#[tokio::test]
async fn upstream_pagination_is_followed_and_ours_is_offered() {
    let gw = Setup::new()
        .gateway("page_size = 7")
        .server(Server::fixture("f", &["--tools", "30", "--page-size", "4"]))
        .start()
        .await;
    let first = gw.ok(gw.request("tools/list", json!({})).await);
    assert_eq!(first["tools"].as_array().unwrap().len(), 7);
    assert!(first["nextCursor"].is_string());
    let all = gw.tool_names().await;
    assert_eq!(
        all.len(),
        41,
        "11 fixed tools and 30 numbered ones: {all:?}"
    );
    assert_eq!(text(&gw.call("f__t29", json!({})).await), "t29");
}

#[tokio::test]
async fn long_names_are_shortened_and_still_callable() {
    let gw = Setup::new()
        .gateway("max_name_length = 20")
        .server(Server::fixture("a-rather-long-server", &[]))
        .start()
        .await;
    let tools = gw.tools().await;
    assert_eq!(tools.len(), 11);
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(
        names
            .iter()
            .all(|n| n.len() <= 20 && n.starts_with("a-rather-lo")),
        "{names:?}"
    );
    let echo = tools
        .iter()
        .find(|t| t["description"] == "fault-server tool echo")
        .unwrap();
    let r = gw
        .call(echo["name"].as_str().unwrap(), json!({ "message": "m" }))
        .await;
    assert_eq!(text(&r), "a-rather-long-server: m");
}

#[tokio::test]
async fn a_server_slower_than_the_startup_wait_is_announced_when_it_arrives() {
    let gw = Setup::new()
        .gateway(r#"startup_timeout = "500ms""#)
        .server(Server::fixture("quick", &[]))
        .server(Server::fixture("late", &["--init-delay-ms", "2500"]))
        .start()
        .await;
    let first = gw.tool_names().await;
    assert!(
        first.contains(&"quick__echo".to_owned()) && !first.iter().any(|n| n.starts_with("late__")),
        "{first:?}"
    );
    // A call to it meanwhile says it is still starting, rather than that the tool is unknown.
    let early = gw.call("late__echo", json!({ "message": "early" })).await;
    assert!(
        is_tool_error(
            &early,
            "server `late` is not available (it is still starting)"
        ),
        "{early}"
    );
    gw.client
        .wait_for("notifications/tools/list_changed", WAIT)
        .await
        .expect("the late server is announced");
    assert!(gw.tool_names().await.contains(&"late__echo".to_owned()));
    assert_eq!(
        text(&gw.call("late__echo", json!({ "message": "hi" })).await),
        "late: hi"
    );
}

#[tokio::test]
async fn a_request_cancelled_while_its_server_starts_is_never_sent() {
    let gw = Setup::new()
        .server(Server::fixture("slow", &["--init-delay-ms", "1500"]))
        .start()
        .await;
    gw.client.send_line(
        json!({ "jsonrpc": "2.0", "id": 77, "method": "tools/call", "params": { "name": "slow__echo", "arguments": { "message": "never" } } })
            .to_string(),
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    gw.client
        .notify("notifications/cancelled", json!({ "requestId": 77 }));
    // The server comes up and lists; the cancelled call neither reaches it nor is answered.
    assert_eq!(
        text(&gw.call("slow__echo", json!({ "message": "after" })).await),
        "slow: after"
    );
    assert!(
        gw.client
            .unmatched(std::time::Duration::from_millis(300))
            .await
            .is_none(),
        "a cancelled request was answered"
    );
    let log = gw.log_text();
    assert!(
        !log.lines()
            .any(|l| l.contains("server=slow") && l.contains("→") && l.contains("never")),
        "{log}"
    );
}

#[tokio::test]
async fn requests_from_a_server_that_dies_are_cancelled_at_the_client() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let record = seen.clone();
    let handler: mcpgw::client::Handler =
        std::sync::Arc::new(move |r: mcpgw::protocol::Request| {
            *record.lock().unwrap() = Some(r.id.clone());
            Box::pin(async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                Err(mcpgw::protocol::ErrorObject::new(-1, "too late"))
            })
        });
    let gw = Setup::new()
        .server(Server::fixture("f", &[]))
        .capabilities(json!({ "sampling": {} }))
        .handler(handler)
        .start()
        .await;
    gw.tools().await;
    let r = gw.call("f__ask-then-crash", json!({})).await;
    assert!(
        is_tool_error(&r, "server `f` stopped before answering"),
        "{r}"
    );
    let cancelled = gw
        .client
        .wait_for("notifications/cancelled", WAIT)
        .await
        .expect("the client is told");
    let params: serde_json::Value = serde_json::from_str(cancelled.params.unwrap().get()).unwrap();
    let asked = seen.lock().unwrap().clone().expect("the client was asked");
    assert_eq!(
        serde_json::to_value(&asked).unwrap(),
        params["requestId"],
        "{params}"
    );
    assert!(
        params["reason"]
            .as_str()
            .unwrap()
            .contains("server `f` stopped")
    );
}

#[tokio::test]
async fn the_next_start_lists_cached_tools_at_once_and_calls_wait_for_the_server() {
    let cache = tempfile::tempdir().unwrap();
    let setup = || {
        Setup::new()
            .server(Server::fixture("slow", &["--init-delay-ms", "1500"]))
            .server(Server::fixture("quick", &[]))
            .cache_dir(cache.path())
    };
    // First start: nothing cached, so the first list waits for the slow server.
    let gw = setup().start().await;
    let started = Instant::now();
    assert!(gw.tool_names().await.contains(&"slow__echo".to_owned()));
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "it waited: {:?}",
        started.elapsed()
    );
    gw.wait_log("listed tools").await;
    gw.shutdown().await;
    assert!(cache.path().join("mcpgw/catalogs.json").exists());

    // Second start: the cached catalog answers at once; a call waits for the server itself.
    let gw = setup().start().await;
    let started = Instant::now();
    let names = gw.tool_names().await;
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "answered from the cache: {:?}",
        started.elapsed()
    );
    assert!(
        names.contains(&"slow__echo".to_owned()) && names.contains(&"quick__echo".to_owned()),
        "{names:?}"
    );
    assert_eq!(
        text(
            &gw.call("slow__echo", json!({ "message": "worth the wait" }))
                .await
        ),
        "slow: worth the wait"
    );
    // The real lists were the same, so the client is not told anything changed.
    assert!(
        gw.client
            .wait_for(
                "notifications/tools/list_changed",
                Duration::from_millis(500)
            )
            .await
            .is_none()
    );
    gw.shutdown().await;

    // A changed command is another server: its old catalog is not used.
    let gw = Setup::new()
        .server(Server::fixture("slow", &["--init-delay-ms", "1600"]))
        .cache_dir(cache.path())
        .start()
        .await;
    let started = Instant::now();
    gw.tools().await;
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "not from the cache: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stale_cached_catalog_is_corrected_with_list_changed() {
    let cache = tempfile::tempdir().unwrap();
    let gw = Setup::new()
        .server(Server::fixture("f", &["--tools", "2"]))
        .cache_dir(cache.path())
        .start()
        .await;
    assert_eq!(gw.tools().await.len(), 13);
    gw.wait_log("listed tools").await;
    gw.shutdown().await;
    // Same command line, but the server now offers fewer tools (its environment changed it).
    let path = cache.path().join("mcpgw/catalogs.json");
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // Entries are kept per server and kind of client: `f#<capabilities>`.
    let (_, entry) = file["servers"]
        .as_object_mut()
        .unwrap()
        .iter_mut()
        .find(|(k, _)| k.starts_with("f#"))
        .unwrap();
    entry["tools"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "name": "gone", "inputSchema": { "type": "object" } }));
    std::fs::write(&path, file.to_string()).unwrap();
    let gw = Setup::new()
        .server(Server::fixture("f", &["--tools", "2"]))
        .cache_dir(cache.path())
        .start()
        .await;
    assert!(
        gw.tool_names().await.contains(&"f__gone".to_owned()),
        "the cached list is shown first"
    );
    gw.client
        .wait_for("notifications/tools/list_changed", WAIT)
        .await
        .expect("then corrected");
    assert!(!gw.tool_names().await.contains(&"f__gone".to_owned()));
}

#[tokio::test]
async fn a_server_that_keeps_crashing_is_restarted_with_growing_pauses() {
    let gw = Setup::new()
        .server(Server::fixture("crashy", &["--crash-on-start"]))
        .server(Server::fixture("ok", &[]))
        .start()
        .await;
    gw.tools().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    // Pauses of 0.5, 1 and 2 s: about four starts in four seconds, not a busy loop.
    let log = gw.log_text();
    let starts = log
        .lines()
        .filter(|l| l.contains("started `") && l.contains("server=crashy"))
        .count();
    assert!((3..=5).contains(&starts), "{starts} starts in 4 s");
    let pauses: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("restarting in") && l.contains("crashy"))
        .map(|l| l.split("restarting in ").nth(1).unwrap_or(""))
        .collect();
    assert!(
        pauses.first().is_some_and(|p| p.starts_with("500ms"))
            && pauses.get(1).is_some_and(|p| p.starts_with("1s")),
        "{pauses:?}"
    );
    assert_eq!(
        text(
            &gw.call("ok__echo", json!({ "message": "unbothered" }))
                .await
        ),
        "ok: unbothered"
    );
}

#[tokio::test]
async fn memory_stays_bounded_when_a_child_sends_a_fifty_megabyte_line() {
    let mut gw = Setup::new()
        .gateway(r#"max_message_size = "4MiB""#)
        .server(Server::fixture("f", &[]))
        .start()
        .await;
    gw.tools().await;
    for _ in 0..3 {
        let r = gw.call("f__huge", json!({ "bytes": 50_000_000 })).await;
        assert!(is_tool_error(&r, "over the limit"), "{r}");
    }
    let peak_kib = gw.peak_rss_kib();
    // 150 MB went past; mcpgw kept at most a line's worth (the 4 MiB limit) at a time.
    assert!(peak_kib < 40 * 1024, "peak RSS {peak_kib} KiB");
    let _ = gw.child.start_kill();
}

#[tokio::test]
async fn no_process_outlives_the_gateway_not_even_a_grandchild() {
    let marker = format!("31{}.5", std::process::id());
    let script = format!("sleep {marker} & exec {} {} --name g", node(), fixture_js());
    let gw = Setup::new()
        .server(Server::command("g", "sh", &["-c", &script]))
        .start()
        .await;
    assert_eq!(
        text(&gw.call("g__echo", json!({ "message": "hi" })).await),
        "g: hi"
    );
    let grandchildren = pids_matching(&format!("sleep\0{marker}"));
    assert_eq!(grandchildren.len(), 1, "the server's own child is running");
    assert!(gw.shutdown().await.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pids_matching(&format!("sleep\0{marker}")).is_empty() {
        assert!(
            Instant::now() < deadline,
            "an orphan survived the gateway: {:?}",
            pids_matching(&format!("sleep\0{marker}"))
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
