//! The Python `mcp` SDK's 2.x line as a real client of mcpgw, in each of its modes: pinned to
//! 2026-07-28 (stateless, no probe), auto (probes with `server/discover`, which mcpgw
//! answers, so it stays stateless) and legacy (`initialize`). It drives `mcpgw serve` and
//! `mcpgw proxy`, each in front of the reference server, through
//! `tests/python-sdk2/client.py`: lists, calls, reads, prompts and, in the stateless era, a
//! `subscriptions/listen` that hears a resource update.

mod common;

use common::*;
use serde_json::json;

fn drive(mode: &str, prefix: &str, gateway: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(python_sdk2())
        .arg(root().join("tests/python-sdk2/client.py"))
        .args([mode, prefix, mcpgw_bin()])
        .args(gateway)
        .env("XDG_CACHE_HOME", home.path())
        .env("MCPGW_LOG", "warn")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{mode} through {gateway:?}:\n{text}");
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix("OK "))
        .unwrap_or_else(|| panic!("no OK line:\n{text}"))
        .to_owned()
}

fn serve_config() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let text = Setup::new()
        .server(Server::everything("every"))
        .config_text();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

#[test]
fn the_sdk_pinned_to_2026_07_28_uses_serve_statelessly() {
    let (_dir, config) = serve_config();
    assert_eq!(
        drive("2026-07-28", "every__", &["serve", "--config", &config]),
        "2026-07-28"
    );
}

#[test]
fn the_sdk_in_auto_mode_finds_serve_stateless() {
    let (_dir, config) = serve_config();
    assert_eq!(
        drive("auto", "every__", &["serve", "--config", &config]),
        "2026-07-28"
    );
}

#[test]
fn the_sdk_in_legacy_mode_shakes_hands_with_serve() {
    let (_dir, config) = serve_config();
    assert_eq!(
        drive("legacy", "every__", &["serve", "--config", &config]),
        "2025-11-25"
    );
}

#[test]
fn the_sdk_in_each_mode_through_proxy() {
    let server = HttpServer::everything("streamableHttp");
    let url = server.url("/mcp");
    for (mode, version) in [
        ("2026-07-28", "2026-07-28"),
        ("auto", "2026-07-28"),
        ("legacy", "2025-11-25"),
    ] {
        assert_eq!(drive(mode, "", &["proxy", &url]), version, "{mode}");
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
