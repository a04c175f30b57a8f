//! `start = "lazy"` and `idle_stop`: servers that run only while they are used, against real
//! server-everything children (counted by a marker in their command line).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// A server-everything whose command line is the same in every gateway of a test (so the
/// catalog cache knows it), with a marker to count its processes by.
fn everything(name: &str, tag: &str) -> (Server, String) {
    let marker = format!(
        "--mcpgw-test-marker=lazy-{tag}-{name}-{}",
        std::process::id()
    );
    let server = Server::command(name, &node(), &[&everything_js(), "stdio", &marker]);
    (server, marker)
}

fn running(markers: &[String]) -> Vec<usize> {
    markers
        .iter()
        .map(|m| pids_matching(m).len())
        .collect::<Vec<_>>()
}

/// Waits until `done` holds, for up to `limit`.
async fn eventually(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn cached_servers(cache: &Path) -> usize {
    std::fs::read_to_string(cache.join("mcpgw/catalogs.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["servers"].as_object().map(|o| o.len()))
        .unwrap_or(0)
}

#[tokio::test]
async fn five_lazy_servers_with_one_used_run_one_child() {
    let cache = tempfile::tempdir().unwrap();
    let servers: Vec<(Server, String)> = (0..5)
        .map(|i| everything(&format!("l{i}"), "five"))
        .collect();
    let markers: Vec<String> = servers.iter().map(|(_, m)| m.clone()).collect();
    let setup = || {
        servers
            .iter()
            .fold(
                Setup::new().gateway("start = \"lazy\""),
                |s, (server, _)| s.server(server.clone()),
            )
            .cache_dir(cache.path())
    };

    // Never seen before: each starts once, to learn its lists.
    let gw = setup().start().await;
    assert_eq!(gw.tools().await.len(), 5 * 13);
    eventually(Duration::from_secs(20), "all five cached", || {
        cached_servers(cache.path()) == 5
    })
    .await;
    gw.shutdown().await;
    eventually(
        Duration::from_secs(10),
        "the first gateway's children gone",
        || running(&markers) == [0; 5],
    )
    .await;

    // Known now: listed from the cache with no child at all, and a call starts only its own.
    let gw = setup().start().await;
    assert_eq!(gw.tools().await.len(), 5 * 13);
    assert_eq!(running(&markers), [0; 5], "listing starts nothing");
    let echoed = gw.call("l2__echo", json!({ "message": "only me" })).await;
    assert!(echoed.to_string().contains("only me"), "{echoed}");
    assert_eq!(running(&markers), [0, 0, 1, 0, 0]);
    // Its lists are refreshed by the start, and nothing else wakes.
    gw.wait_log("listed tools").await;
    let again = gw.call("l2__get-sum", json!({ "a": 2, "b": 3 })).await;
    assert!(again.to_string().contains('5'), "{again}");
    assert_eq!(running(&markers), [0, 0, 1, 0, 0]);
}

#[tokio::test]
async fn an_unused_server_is_stopped_and_its_next_call_starts_it_again() {
    let (server, marker) = everything("idle", "stop");
    let markers = [marker];
    let gw = Setup::new()
        .server(server.with("idle_stop = \"2s\""))
        .start()
        .await;
    let first = gw.call("idle__echo", json!({ "message": "one" })).await;
    assert!(first.to_string().contains("one"), "{first}");
    assert_eq!(running(&markers), [1]);

    eventually(Duration::from_secs(8), "stopped after 2 s unused", || {
        running(&markers) == [0]
    })
    .await;
    // Its tools stay listed, and the gateway says why it is not running.
    assert!(gw.tool_names().await.contains(&"idle__echo".to_owned()));
    eventually(Duration::from_secs(2), "the log says why", || {
        gw.log_text().contains("unused")
    })
    .await;

    let second = gw.call("idle__echo", json!({ "message": "two" })).await;
    assert!(second.to_string().contains("two"), "{second}");
    assert_eq!(running(&markers), [1]);
}

#[test]
fn list_shows_a_known_lazy_server_as_idle_without_starting_it() {
    let (server, marker) = everything("sleepy", "list");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let setup = Setup::new().server(server.with("start = \"lazy\""));
    std::fs::write(&config, setup.config_text()).unwrap();

    // The first time its lists are unknown: it starts to tell them.
    let out = Cli::new(&["list", "--json"]).config(&config).run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(first[0]["state"], "ready", "{first}");

    let out = Cli::new(&["list", "--json"]).config(&config).run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let second: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(second[0]["state"], "idle", "{second}");
    assert_eq!(second[0]["tools"], 13, "{second}");
    let table = Cli::new(&["list"]).config(&config).run();
    assert!(
        String::from_utf8_lossy(&table.stdout).contains("stopped (idle)"),
        "{}",
        String::from_utf8_lossy(&table.stdout)
    );
    assert!(pids_matching(&marker).is_empty());
}
