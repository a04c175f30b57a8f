//! Remote servers: server-everything over Streamable HTTP and over the legacy HTTP+SSE
//! transport, beside a child process, with every relay feature; then servers that restart
//! and servers that misbehave at the HTTP level.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::pki::Pki;
use common::*;
use futures_util::FutureExt;
use mcpgw::protocol::{ErrorObject, Request};
use serde_json::json;

fn host() -> mcpgw::client::Handler {
    Arc::new(|r: Request| {
        async move {
            let result = match r.method.as_str() {
                "sampling/createMessage" => json!({ "role": "assistant", "content": { "type": "text", "text": "sampled-over-http" }, "model": "m", "stopReason": "endTurn" }),
                "elicitation/create" => json!({ "action": "accept", "content": { "name": "Grace Hopper", "check": true } }),
                "roots/list" => json!({ "roots": [{ "uri": "file:///tmp/http-root", "name": "root" }] }),
                other => return Err(ErrorObject::new(-32601, format!("Method not found: {other}"))),
            };
            Ok(mcpgw::protocol::raw(&result))
        }
        .boxed()
    })
}

async fn remote_and_local(streamable: &HttpServer, sse: &HttpServer) -> Gateway {
    Setup::new()
        .server(Server::url("remote", &streamable.url("/mcp")))
        .server(Server::url("legacy", &sse.url("/sse")))
        .server(Server::everything("local"))
        .capabilities(
            json!({ "sampling": {}, "elicitation": {}, "roots": { "listChanged": true } }),
        )
        .handler(host())
        .start()
        .await
}

#[tokio::test]
async fn remote_servers_relay_every_feature_like_local_ones() {
    let (streamable, sse) = (
        HttpServer::everything("streamableHttp"),
        HttpServer::everything("sse"),
    );
    let gw = remote_and_local(&streamable, &sse).await;
    let names = gw.tool_names().await;
    for name in [
        "remote__echo",
        "legacy__echo",
        "local__echo",
        "remote__trigger-sampling-request",
        "legacy__get-roots-list",
    ] {
        assert!(
            names.contains(&name.to_owned()),
            "{name} missing from {names:?}"
        );
    }
    for server in ["remote", "legacy", "local"] {
        let r = gw
            .call(&format!("{server}__echo"), json!({ "message": server }))
            .await;
        assert_eq!(text(&r), format!("Echo: {server}"));
    }
    // Server→client requests: on the POST's stream (Streamable HTTP), on the GET stream (SSE).
    let sampled = gw
        .call(
            "remote__trigger-sampling-request",
            json!({ "prompt": "hi" }),
        )
        .await;
    assert!(text(&sampled).contains("sampled-over-http"), "{sampled}");
    let elicited = gw
        .call("legacy__trigger-elicitation-request", json!({}))
        .await;
    assert!(elicited.to_string().contains("Grace Hopper"), "{elicited}");
    let roots = gw.call("remote__get-roots-list", json!({})).await;
    assert!(text(&roots).contains("file:///tmp/http-root"), "{roots}");
    // Progress over HTTP.
    let call = gw.request("tools/call", json!({ "name": "legacy__trigger-long-running-operation", "arguments": { "duration": 1, "steps": 2 }, "_meta": { "progressToken": "h1" } }));
    let progress = async {
        let n = gw
            .client
            .wait_for("notifications/progress", WAIT)
            .await
            .expect("progress over SSE");
        n.params.unwrap().get().contains("h1")
    };
    let (result, saw) = tokio::join!(call, progress);
    assert!(text(&gw.ok(result)).contains("completed") && saw);
    // Resources and prompts.
    let read = gw.ok(gw
        .request(
            "resources/read",
            json!({ "uri": "mcpgw://remote/demo://resource/static/document/architecture.md" }),
        )
        .await);
    assert!(
        !read["contents"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{read}"
    );
    let prompt = gw.ok(gw
        .request(
            "prompts/get",
            json!({ "name": "legacy__args-prompt", "arguments": { "city": "Oslo" } }),
        )
        .await);
    assert!(prompt.to_string().contains("Oslo"), "{prompt}");
}

#[tokio::test]
async fn cancelling_a_remote_call_answers_nothing_and_disturbs_nothing() {
    let (streamable, sse) = (
        HttpServer::everything("streamableHttp"),
        HttpServer::everything("sse"),
    );
    let gw = remote_and_local(&streamable, &sse).await;
    gw.tools().await;
    gw.client.send_line(json!({ "jsonrpc": "2.0", "id": "h-long", "method": "tools/call", "params": { "name": "remote__trigger-long-running-operation", "arguments": { "duration": 3, "steps": 3 }, "_meta": { "progressToken": "hc" } } }).to_string());
    gw.client
        .wait_for("notifications/progress", WAIT)
        .await
        .expect("started");
    gw.client
        .notify("notifications/cancelled", json!({ "requestId": "h-long" }));
    assert_eq!(
        text(&gw.call("remote__echo", json!({ "message": "after" })).await),
        "Echo: after"
    );
    assert_eq!(gw.client.unmatched(Duration::from_secs(4)).await, None);
}

#[tokio::test]
async fn a_restarted_http_server_costs_the_client_only_latency() {
    let mut streamable = HttpServer::everything("streamableHttp");
    let gw = Setup::new()
        .server(Server::url("remote", &streamable.url("/mcp")))
        .start()
        .await;
    gw.tools().await;
    assert_eq!(
        text(
            &gw.call("remote__echo", json!({ "message": "before" }))
                .await
        ),
        "Echo: before"
    );
    // The new process knows nothing of the old session: mcpgw starts a new one and resends.
    streamable.restart();
    assert_eq!(
        text(
            &gw.call("remote__echo", json!({ "message": "after restart" }))
                .await
        ),
        "Echo: after restart"
    );
    // Down for a moment: the call waits for it to come back rather than failing.
    streamable.stop();
    let call = gw.request(
        "tools/call",
        json!({ "name": "remote__echo", "arguments": { "message": "while down" } }),
    );
    let bring_back = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        streamable.restart();
    };
    let (result, ()) = tokio::join!(call, bring_back);
    assert_eq!(text(&gw.ok(result)), "Echo: while down");
}

#[tokio::test]
async fn http_level_faults_fail_only_their_call() {
    let faulty = HttpServer::faulty();
    let gw = Setup::new()
        .server(Server::url("h", &faulty.url("/mcp")))
        .start()
        .await;
    assert_eq!(gw.tools().await.len(), 12);
    let cases = [
        ("error500", "HTTP 500"),
        ("reset", "the request failed"),
        ("cut", "broke off"),
        ("garbage", "held no answer"),
        ("wrongtype", "content type `text/html`"),
    ];
    for (tool, expected) in cases {
        let started = std::time::Instant::now();
        let r = gw.call(&format!("h__{tool}"), json!({})).await;
        assert_eq!(r["isError"], true, "{tool}: {r}");
        assert!(
            text(&r).contains("server `h`") && text(&r).contains(expected),
            "{tool}: {r}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{tool} failed at once, not by timeout"
        );
        assert_eq!(
            text(&gw.call("h__echo", json!({ "message": tool })).await),
            format!("echo: {tool}")
        );
    }
    // An answer that comes on an SSE stream after a notification.
    assert_eq!(
        text(&gw.call("h__sse-answer", json!({})).await),
        "answered on a stream"
    );
    // A stream that ends before the answer is resumed from its last event id.
    assert_eq!(text(&gw.call("h__cut-resume", json!({})).await), "resumed");
}

#[tokio::test]
async fn plain_http_is_refused_off_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "[servers.r]\nurl = \"http://mcp.example.invalid/mcp\"\n",
    )
    .unwrap();
    let out = Cli::new(&["list"]).config(&path).run();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("plain http") && err.contains("allow_http"),
        "{err}"
    );
}

#[tokio::test]
async fn configured_headers_are_sent_and_the_session_is_deleted_at_shutdown() {
    let faulty = HttpServer::faulty();
    let gw = Setup::new()
        .server(
            Server::url("h", &faulty.url("/mcp"))
                .with(r#"headers = { "X-Team" = "${MCPGW_TEST_TEAM}", "X-Static" = "fixed" }"#),
        )
        .env("MCPGW_TEST_TEAM", "platform")
        .start()
        .await;
    gw.tools().await;
    let seen: serde_json::Value =
        serde_json::from_str(text(&gw.call("h__headers", json!({})).await)).unwrap();
    assert_eq!(seen["x-team"], "platform");
    assert_eq!(seen["x-static"], "fixed");
    assert_eq!(seen["mcp-session-id"], "fault-session");
    assert_eq!(seen["mcp-protocol-version"], "2025-11-25");
    assert!(
        seen["accept"]
            .as_str()
            .unwrap()
            .contains("text/event-stream")
    );
    assert!(gw.shutdown().await.success());
    let stats: serde_json::Value = reqwest_get(&faulty.url("/stats")).await;
    assert_eq!(stats["deletes"], 1, "the session was ended with DELETE");
}

async fn reqwest_get(url: &str) -> serde_json::Value {
    let body = reqwest::get(url).await.unwrap().text().await.unwrap();
    serde_json::from_str(&body).unwrap()
}

async fn tls_gateway(server: &HttpServer, tls: Option<String>) -> Gateway {
    let url = format!("https://localhost:{}/mcp", server.port);
    let mut entry = Server::url("h", &url);
    if let Some(tls) = tls {
        entry = entry.with(&format!("tls = {tls}"));
    }
    Setup::new()
        .gateway(r#"startup_timeout = "3s""#)
        .server(entry)
        .start()
        .await
}

#[tokio::test]
async fn a_private_ca_and_mutual_tls() {
    let pki = Pki::new();
    let ca = format!("{{ ca = {:?} }}", pki.path("ca.pem"));
    let env = pki.server_env(false);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = HttpServer::faulty_with(&env);
    // Trusting the private CA, the server is reached over https.
    let gw = tls_gateway(&server, Some(ca.clone())).await;
    assert_eq!(
        text(&gw.call("h__echo", json!({ "message": "over tls" })).await),
        "echo: over tls"
    );
    // Without it, the certificate is refused, and the error says so.
    let gw = tls_gateway(&server, None).await;
    let r = gw.call("h__echo", json!({ "message": "x" })).await;
    assert!(
        r["isError"] == true && text(&r).contains("certificate"),
        "{r}"
    );

    let env = pki.server_env(true);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mutual = HttpServer::faulty_with(&env);
    let with_identity = format!(
        "{{ ca = {:?}, client_cert = {:?}, client_key = {:?} }}",
        pki.path("ca.pem"),
        pki.path("client.pem"),
        pki.path("client.key")
    );
    let gw = tls_gateway(&mutual, Some(with_identity)).await;
    assert_eq!(
        text(&gw.call("h__echo", json!({ "message": "mutual" })).await),
        "echo: mutual"
    );
    // A server that demands a client certificate refuses us without one.
    let gw = tls_gateway(&mutual, Some(ca)).await;
    let r = gw.call("h__echo", json!({ "message": "x" })).await;
    assert_eq!(r["isError"], true, "{r}");
}

#[tokio::test]
async fn a_remote_server_gone_for_good_is_marked_down_and_its_tools_vanish() {
    let mut server = HttpServer::everything("streamableHttp");
    let gw = Setup::new()
        .server(Server::url("remote", &server.url("/mcp")).with(r#"handshake_timeout = "2s""#))
        .server(Server::everything("local"))
        .start()
        .await;
    assert!(gw.tool_names().await.contains(&"remote__echo".to_owned()));
    server.stop();
    let started = std::time::Instant::now();
    let r = gw
        .call("remote__echo", json!({ "message": "anyone?" }))
        .await;
    assert!(
        r["isError"] == true && text(&r).contains("could not be reached for 2s"),
        "{r}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    gw.client
        .wait_for("notifications/tools/list_changed", WAIT)
        .await
        .expect("its tools vanish");
    let names = gw.tool_names().await;
    assert!(
        !names.iter().any(|n| n.starts_with("remote__"))
            && names.contains(&"local__echo".to_owned()),
        "{names:?}"
    );
}

#[tokio::test]
async fn a_remote_call_that_times_out_is_cancelled_at_the_server() {
    let faulty = HttpServer::faulty();
    let gw = Setup::new()
        .gateway(r#"request_timeout = "1s""#)
        .server(Server::url("h", &faulty.url("/mcp")))
        .start()
        .await;
    gw.tools().await;
    let r = gw.call("h__hang", json!({})).await;
    assert!(
        r["isError"] == true && text(&r).contains("did not answer within"),
        "{r}"
    );
    let deadline = std::time::Instant::now() + WAIT;
    while reqwest_get(&faulty.url("/stats")).await["cancelled"] != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the server was never told"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        text(&gw.call("h__echo", json!({ "message": "next" })).await),
        "echo: next"
    );
}

#[tokio::test]
async fn an_endless_sse_event_is_cut_off_and_memory_stays_bounded() {
    let faulty = HttpServer::faulty();
    let gw = Setup::new()
        .gateway(r#"max_message_size = "4MiB""#)
        .server(Server::url("h", &faulty.url("/mcp")))
        .start()
        .await;
    gw.tools().await;
    let r = gw.call("h__huge-sse", json!({})).await;
    assert!(
        r["isError"] == true && text(&r).contains("server `h`"),
        "{r}"
    );
    let peak_kib = gw.peak_rss_kib();
    assert!(
        peak_kib < 40 * 1024,
        "peak RSS {peak_kib} KiB for a 50 MB event"
    );
    assert_eq!(
        text(&gw.call("h__echo", json!({ "message": "still fine" })).await),
        "echo: still fine"
    );
}

// Regression (review of session 4): when the server forgot the session, the failures of the
// other calls in flight were dropped while the first one made a new session (they waited for
// their timeout), and each could make a session of its own.
#[tokio::test]
async fn calls_in_flight_when_the_session_is_forgotten_go_through_on_one_new_session() {
    let faulty = HttpServer::faulty();
    let gw = Setup::new()
        .server(Server::url("h", &faulty.url("/mcp")))
        .start()
        .await;
    gw.tools().await;
    assert_eq!(text(&gw.call("h__forget", json!({})).await), "forgotten");
    let started = std::time::Instant::now();
    let calls = (0..8).map(|i| {
        gw.request(
            "tools/call",
            json!({ "name": "h__echo", "arguments": { "message": format!("m{i}") } }),
        )
    });
    let results = futures_util::future::join_all(calls).await;
    for (i, result) in results.into_iter().enumerate() {
        assert_eq!(text(&gw.ok(result)), format!("echo: m{i}"));
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let stats = reqwest_get(&faulty.url("/stats")).await;
    assert_eq!(stats["sessionsMade"], 2, "one new session: {stats}");
}

#[tokio::test]
async fn a_replaced_session_leaves_no_stream_behind() {
    let faulty = HttpServer::faulty_with(&[("OPEN_GET", "1")]);
    let gw = Setup::new()
        .server(Server::url("h", &faulty.url("/mcp")))
        .start()
        .await;
    gw.tools().await;
    let stats_url = faulty.url("/stats");
    let stats = || reqwest_get(&stats_url);
    let deadline = std::time::Instant::now() + WAIT;
    while stats().await["streams"] != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the stream of server messages never opened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The server forgets the session; the next call makes a new one, with a stream of its own.
    assert_eq!(text(&gw.call("h__forget", json!({})).await), "forgotten");
    assert_eq!(
        text(
            &gw.call("h__echo", json!({ "message": "new session" }))
                .await
        ),
        "echo: new session"
    );
    loop {
        let s = stats().await;
        if s["streamsOpened"] == 2 && s["streams"] == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the old stream lingers: {s}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
