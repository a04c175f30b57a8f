//! `mcpgw proxy URL`, the drop-in for `npx mcp-remote URL`: one remote server, its names and
//! identity untouched, every relay feature of the gateway.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures_util::FutureExt;
use mcpgw::protocol::Request;
use serde_json::json;

#[tokio::test]
async fn proxy_passes_the_server_through_untouched() {
    let server = HttpServer::everything("streamableHttp");
    let sampler: mcpgw::client::Handler = Arc::new(|_r: Request| {
        async { Ok(mcpgw::protocol::raw(&json!({ "role": "assistant", "content": { "type": "text", "text": "via proxy" }, "model": "m" }))) }.boxed()
    });
    let url = server.url("/mcp");
    let gw = Setup::new()
        .proxy(&[&url, "--ignore-tool", "toggle-*"])
        .raw()
        .handler(sampler)
        .start()
        .await;
    let init = gw.ok(gw.request("initialize", json!({ "protocolVersion": "2025-06-18", "capabilities": { "sampling": {} }, "clientInfo": { "name": "t", "version": "1" } })).await);
    // The client sees the server itself, as with mcp-remote.
    assert_eq!(
        init["serverInfo"]["name"], "mcp-servers/everything",
        "{init}"
    );
    assert_eq!(init["protocolVersion"], "2025-06-18");
    assert!(init["instructions"].as_str().is_some_and(|i| !i.is_empty()));
    gw.client
        .notify("notifications/initialized", serde_json::Value::Null);
    let names = gw.tool_names().await;
    assert!(
        names.contains(&"echo".to_owned())
            && names.contains(&"trigger-sampling-request".to_owned()),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with("toggle-")),
        "--ignore-tool hides: {names:?}"
    );
    assert_eq!(
        text(
            &gw.call("echo", json!({ "message": "through the proxy" }))
                .await
        ),
        "Echo: through the proxy"
    );
    let sampled = gw
        .call("trigger-sampling-request", json!({ "prompt": "p" }))
        .await;
    assert!(text(&sampled).contains("via proxy"), "{sampled}");
    let read = gw.ok(gw
        .request(
            "resources/read",
            json!({ "uri": "demo://resource/static/document/architecture.md" }),
        )
        .await);
    assert!(read["contents"][0]["text"].is_string());
}

#[tokio::test]
async fn proxy_speaks_the_legacy_transport_and_forwards_headers() {
    let sse = HttpServer::everything("sse");
    let url = sse.url("/sse");
    let gw = Setup::new()
        .proxy(&[&url, "--transport", "sse-only"])
        .start()
        .await;
    assert_eq!(
        text(&gw.call("echo", json!({ "message": "legacy" })).await),
        "Echo: legacy"
    );
    let faulty = HttpServer::faulty();
    let url = faulty.url("/mcp");
    let gw = Setup::new()
        .proxy(&[
            &url,
            "--header",
            "Authorization: Bearer ${MCPGW_TEST_TOKEN}",
        ])
        .env("MCPGW_TEST_TOKEN", "t0ken")
        .start()
        .await;
    let seen: serde_json::Value =
        serde_json::from_str(text(&gw.call("headers", json!({})).await)).unwrap();
    assert_eq!(seen["authorization"], "Bearer t0ken");
}

#[tokio::test]
async fn a_proxy_whose_server_is_down_still_answers_and_says_why() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let started = std::time::Instant::now();
    let gw = Setup::new().proxy(&[&url]).start().await;
    assert!(started.elapsed() < Duration::from_secs(10));
    let r = gw.call("echo", json!({})).await;
    assert_eq!(r["isError"], true, "{r}");
    assert!(
        text(&r).contains("server `proxy` is not available") && text(&r).contains("cannot reach"),
        "{r}"
    );
}

#[test]
fn proxy_arguments_are_checked() {
    for (args, expected) in [
        (
            vec!["proxy", "http://example.invalid/mcp"],
            "pass --allow-http",
        ),
        (
            vec![
                "proxy",
                "https://x.test/mcp",
                "--transport",
                "carrier-pigeon",
            ],
            "--transport",
        ),
        (
            vec!["proxy", "https://x.test/mcp", "--header", "no colon"],
            "'Name: value'",
        ),
    ] {
        let out = Cli::new(&args).stdin("").run();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(expected),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Regression (new users): `mcpgw proxy` warned twice about the secret store at every start,
/// even in front of a server that never asks for OAuth. The store is now opened only when a
/// login needs it.
#[tokio::test]
async fn a_proxy_to_a_server_without_oauth_says_nothing_about_secret_stores() {
    let server = HttpServer::everything("streamableHttp");
    let url = server.url("/mcp");
    let gw = Setup::new()
        .proxy(&[&url])
        // No keyring can answer here, and no passphrase for the encrypted file is set.
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .env("MCPGW_SECRET_KEY", "")
        .start()
        .await;
    let echoed = gw
        .call("echo", json!({ "message": "no store needed" }))
        .await;
    assert!(echoed.to_string().contains("no store needed"), "{echoed}");
    let log = gw.log_text();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
}
