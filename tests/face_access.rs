//! Who may do what through the HTTP face: scoped keys (servers and tool globs) in every list
//! and call, per-key rates, keys from the environment, rotation, identity forwarded to the
//! servers that ask, `/stats`, and the audit log of it all. Real clients where one exists
//! (mcp-remote with `--header`), by hand for the status codes.

mod common;

use std::path::Path;

use common::face::{Face, HandSession, events, modern};
use common::*;
use serde_json::{Value, json};

fn keys_cli(keys: &Path, config: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["keys"];
    all.extend(args);
    Cli::new(&all)
        .env("MCPGW_KEYS_FILE", keys.to_str().unwrap())
        .env("MCPGW_CONFIG", config.to_str().unwrap())
        .run()
}

/// A key made with `args` (after `keys create NAME`).
fn make_key(keys: &Path, config: &Path, name: &str, args: &[&str]) -> String {
    let mut all = vec!["create", name];
    all.extend(args);
    let made = keys_cli(keys, config, &all);
    assert!(made.status.success(), "{}", all_output(&made));
    String::from_utf8(made.stdout).unwrap().trim().to_owned()
}

/// Two copies of server-everything, `every` and `other`, behind a face with an audit log.
fn two_servers(audit: &Path) -> String {
    format!(
        "{}\n[audit]\nfile = {}\narguments = true\n",
        Setup::new()
            .server(Server::everything("every"))
            .server(Server::everything("other"))
            .config_text(),
        toml_str(audit.to_str().unwrap())
    )
}

fn names(result: &Value, field: &str, key: &str) -> Vec<String> {
    result[field]
        .as_array()
        .unwrap_or_else(|| panic!("no {field}: {result}"))
        .iter()
        .map(|t| t[key].as_str().unwrap().to_owned())
        .collect()
}

async fn tools(s: &HandSession<'_>) -> Vec<String> {
    names(
        &s.request("tools/list", json!({})).await["result"],
        "tools",
        "name",
    )
}

#[tokio::test]
async fn a_scoped_key_sees_and_reaches_only_its_servers_and_tools() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, audit) = (dir.path().join("keys.json"), dir.path().join("audit.jsonl"));
    let config_text = two_servers(&audit);
    let config = dir.path().join("config.toml");
    std::fs::write(&config, &config_text).unwrap();
    let narrow = make_key(
        &keys,
        &config,
        "narrow",
        &[
            "--servers",
            "every",
            "--tools",
            "every__echo",
            "--tools",
            "every__*-prompt*",
        ],
    );
    let wide = make_key(&keys, &config, "wide", &[]);
    let admin = make_key(&keys, &config, "root", &["--admin"]);
    // A scope naming a server the config lacks is refused, with the nearest name.
    let typo = keys_cli(&keys, &config, &["create", "t", "--servers", "evrey"]);
    assert!(!typo.status.success());
    assert!(
        all_output(&typo).contains("did you mean `every`"),
        "{}",
        all_output(&typo)
    );
    let face = Face::launch(&config_text, Some(&keys), &[]).await;

    let (n, init) = face.open_session(&[("x-api-key", &narrow)]).await;
    let instructions = init["instructions"].as_str().unwrap();
    assert!(
        instructions.contains("`every`") && !instructions.contains("other"),
        "{instructions}"
    );
    let (w, _) = face.open_session(&[("x-api-key", &wide)]).await;
    let wide_tools = tools(&w).await;
    assert!(
        wide_tools.contains(&"other__echo".to_owned()),
        "{wide_tools:?}"
    );
    assert_eq!(tools(&n).await, ["every__echo"]);
    // Prompts and resources: its servers' only (tool globs limit tools).
    let prompts = names(
        &n.request("prompts/list", json!({})).await["result"],
        "prompts",
        "name",
    );
    assert!(
        !prompts.is_empty() && prompts.iter().all(|p| p.starts_with("every__")),
        "{prompts:?}"
    );
    let resources = n.request("resources/list", json!({})).await;
    let wide_resources = w.request("resources/list", json!({})).await;
    assert!(
        resources["result"]["resources"].as_array().unwrap().len() * 2
            <= wide_resources["result"]["resources"]
                .as_array()
                .unwrap()
                .len(),
        "half of them, at most: {resources}"
    );
    // A URI that names the other server (collisions are prefixed with it) is not its way in.
    let foreign = wide_resources["result"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["uri"].as_str())
        .find(|u| u.starts_with("mcpgw://other/"))
        .unwrap_or_else(|| panic!("the same resources collide: {wide_resources}"))
        .to_owned();
    let read = n.request("resources/read", json!({ "uri": foreign })).await;
    assert!(
        read["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not found"),
        "{read}"
    );
    let read = w.request("resources/read", json!({ "uri": foreign })).await;
    assert!(read["result"]["contents"].is_array(), "{read}");
    // Calls inside its scope run; outside, a clear error naming the scope.
    let echoed = n
        .request("tools/call", json!({ "name": "every__echo", "arguments": { "message": "hi", "token": "s3cret-arg" } }))
        .await;
    assert_eq!(
        echoed["result"]["content"][0]["text"], "Echo: hi",
        "{echoed}"
    );
    for outside in ["other__echo", "every__get-sum", "nope"] {
        let refused = n
            .request("tools/call", json!({ "name": outside, "arguments": {} }))
            .await;
        let message = refused["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("{refused}"));
        assert!(
            message.contains(outside)
                && message.contains("key `narrow` may use only servers every; tools every__echo"),
            "{message}"
        );
    }
    let other_prompt = n
        .request("prompts/get", json!({ "name": "other__simple-prompt" }))
        .await;
    assert!(
        other_prompt["error"]["message"]
            .as_str()
            .unwrap()
            .contains("narrow"),
        "{other_prompt}"
    );
    // Its session is its own: another key cannot use it.
    let stolen = face
        .post(
            &[("x-api-key", &wide), ("mcp-session-id", &n.id)],
            r#"{"jsonrpc":"2.0","id":9,"method":"tools/list"}"#,
        )
        .await;
    assert_eq!(stolen.0, 404, "{}", stolen.2);
    // 2026-07-28 requests of each key are answered from that key's scope.
    let list = |key: &str| {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": modern(json!({})) });
        let key = key.to_owned();
        let face = &face;
        async move { face.post(&[("x-api-key", &key)], &body.to_string()).await }
    };
    let (_, _, body) = list(&narrow).await;
    assert_eq!(
        names(&events(&body)[0]["result"], "tools", "name"),
        ["every__echo"]
    );
    let (_, _, body) = list(&wide).await;
    assert!(names(&events(&body)[0]["result"], "tools", "name").len() > 10);
    // mcp-remote, a real client, with the key in a header.
    let (client, mut child) = face
        .mcp_remote(
            "remote",
            &[&format!("Authorization: Bearer {narrow}")],
            &[],
            mcpgw::client::no_handler(),
        )
        .await;
    let listed = client.request("tools/list", json!({})).await.unwrap();
    assert_eq!(names(&listed, "tools", "name"), ["every__echo"]);
    let refused = client
        .request(
            "tools/call",
            json!({ "name": "other__echo", "arguments": { "message": "x" } }),
        )
        .await;
    assert!(
        format!("{refused:?}").contains("may use only"),
        "{refused:?}"
    );
    let _ = child.kill().await;

    // /servers and /stats: what the key may see.
    let (_, servers) = face.get("/servers", Some(&narrow)).await;
    let listed: Vec<&str> = servers
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["every"]);
    assert_eq!(face.get("/servers/other", Some(&narrow)).await.0, 404);
    w.request(
        "tools/call",
        json!({ "name": "other__echo", "arguments": { "message": "x" } }),
    )
    .await;
    let (status, mine) = face.get("/stats", Some(&narrow)).await;
    assert_eq!(status, 200);
    assert_eq!(
        mine["keys"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["narrow"],
        "{mine}"
    );
    assert!(mine["servers"].get("other").is_none(), "{mine}");
    assert!(
        mine["servers"]["every"]["calls"].as_u64().unwrap() >= 1,
        "{mine}"
    );
    assert!(
        mine["servers"]["every"]["p50_ms"].as_f64().is_some(),
        "{mine}"
    );
    let (_, all) = face.get("/stats", Some(&admin)).await;
    assert_eq!(all["keys"]["wide"]["calls"], 2, "an echo and a read: {all}");
    assert_eq!(
        all["keys"]["narrow"]["calls"], 1,
        "its read of the other server went nowhere: {all}"
    );
    assert!(
        all["servers"]["other"]["calls"].as_u64().unwrap() >= 1,
        "{all}"
    );
    assert_eq!(face.get("/stats", None).await.0, 401);

    // The audit log: decisions and tool calls, never a key or a secret argument.
    let (status, _, _) = face.post(&[("x-api-key", "mcpgw_wrong")], "{}").await;
    assert_eq!(status, 403);
    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let text = std::fs::read_to_string(&audit).unwrap();
    for key in [&narrow, &wide, &admin] {
        assert!(!text.contains(key.as_str()), "a key in the audit log");
    }
    assert!(
        !text.contains("s3cret-arg"),
        "a secret argument in the audit log"
    );
    let has = |f: &dyn Fn(&Value) -> bool| lines.iter().any(f);
    assert!(has(&|l| l["event"] == "key_changed"
        && l["key"] == "narrow"
        && l["change"] == "created"));
    assert!(has(&|l| l["event"] == "auth"
        && l["key"] == "narrow"
        && l["outcome"] == "allowed"));
    assert!(has(&|l| l["event"] == "auth"
        && l["outcome"] == "invalid"
        && l["address"].as_str().unwrap().starts_with("127.0.0.1:")));
    assert!(has(&|l| l["event"] == "auth" && l["outcome"] == "missing"));
    let call = lines
        .iter()
        .find(|l| l["event"] == "tool_call" && l["key"] == "narrow")
        .unwrap_or_else(|| panic!("no tool call audited: {text}"));
    assert_eq!(call["server"], "every");
    assert_eq!(call["tool"], "every__echo");
    assert_eq!(call["outcome"], "ok");
    assert_eq!(
        call["arguments"],
        json!({ "message": "hi", "token": "[redacted]" })
    );
    assert!(call["duration_ms"].is_u64());
    // `keys list` says when each key was last used.
    let listed: Value =
        serde_json::from_slice(&keys_cli(&keys, &config, &["list", "--json"]).stdout).unwrap();
    let narrow_row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "narrow")
        .unwrap();
    assert!(narrow_row["last_used"].is_u64(), "{listed}");
    assert_eq!(narrow_row["servers"], json!(["every"]));
}

#[tokio::test]
async fn a_key_over_its_rate_gets_429_and_a_rotated_key_works_through_its_grace() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    let config_text = Setup::new()
        .server(Server::everything("every"))
        .config_text();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, &config_text).unwrap();
    let slow = make_key(&keys, &config, "slow", &["--rate", "3/m"]);
    let admin = make_key(&keys, &config, "root", &["--admin"]);
    let batchy = make_key(&keys, &config, "batchy", &["--rate", "5/m"]);
    let bad = keys_cli(&keys, &config, &["create", "x", "--rate", "fast"]);
    assert!(
        all_output(&bad).contains("write a rate like 120/m"),
        "{}",
        all_output(&bad)
    );
    let face = Face::launch(&config_text, Some(&keys), &[]).await;
    let ping =
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": modern(json!({})) })
            .to_string();
    let ping = ping.as_str();
    for _ in 0..3 {
        let (status, _, body) = face.post(&[("x-api-key", &slow)], ping).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, headers, body) = face.post(&[("x-api-key", &slow)], ping).await;
    assert_eq!(status, 429);
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "Too Many Requests");
    assert!(body["message"].as_str().unwrap().contains("3/m"), "{body}");
    // Other keys are not held back.
    let (status, _, _) = face.post(&[("x-api-key", &admin)], ping).await;
    assert_eq!(status, 200);
    let (_, stats) = face.get("/stats", Some(&admin)).await;
    assert_eq!(stats["keys"]["slow"]["rate_limited"], 1, "{stats}");
    // A batch costs what it holds: 2 for the session, then 5 more than the 3 left.
    let (session, _) = face.open_session(&[("x-api-key", &batchy)]).await;
    let pings: Vec<Value> = (10..15)
        .map(|id| json!({ "jsonrpc": "2.0", "id": id, "method": "ping" }))
        .collect();
    let (status, _, body) = session.post_raw(&Value::Array(pings).to_string()).await;
    assert_eq!(status, 429, "{body}");

    // Rotation: the new key at once, the old one through its grace period.
    let rotated = keys_cli(&keys, &config, &["rotate", "root", "--grace", "1h"]);
    assert!(rotated.status.success(), "{}", all_output(&rotated));
    let new = String::from_utf8(rotated.stdout).unwrap().trim().to_owned();
    assert_ne!(new, admin);
    assert_eq!(face.get("/stats", Some(&new)).await.0, 200);
    assert_eq!(
        face.get("/stats", Some(&admin)).await.0,
        200,
        "in its grace period"
    );
    let table = String::from_utf8(keys_cli(&keys, &config, &["list"]).stdout).unwrap();
    assert!(table.contains("rotated, works until"), "{table}");
    let again = keys_cli(&keys, &config, &["rotate", "root"]);
    let newest = String::from_utf8(again.stdout).unwrap().trim().to_owned();
    assert_eq!(
        face.get("/stats", Some(&new)).await.0,
        403,
        "no grace: gone at once"
    );
    assert_eq!(face.get("/stats", Some(&newest)).await.0, 200);
}

#[tokio::test]
async fn keys_from_the_environment_work_and_literal_keys_are_refused() {
    let team_key = "c4n4ry-team-key-0123456789abcdefghijkl";
    let base = Setup::new()
        .server(Server::everything("every"))
        .config_text();
    let config = format!(
        "{base}\n[listen]\naddress = \"127.0.0.1:{}\"\n[listen.keys.team]\nkey = \"${{TEAM_KEY}}\"\nservers = [\"every\"]\nidentity = {{ team = \"core\" }}\n",
        free_port()
    );
    let face = Face::launch(&config, None, &[("TEAM_KEY", team_key)]).await;
    let (s, _) = face
        .open_session(&[("authorization", &format!("Bearer {team_key}"))])
        .await;
    assert!(tools(&s).await.contains(&"every__echo".to_owned()));
    let (status, _, _) = face
        .post(&[], r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .await;
    assert_eq!(status, 401, "a configured key makes the face demand one");
    drop(face);
    // A literal key, an unset variable, a short key: the config is refused, naming why.
    let dir = tempfile::tempdir().unwrap();
    for (key, env, expected) in [
        (
            "\"mcpgw_literal\"",
            None,
            "a key is never written in the config",
        ),
        ("\"${UNSET_TEAM_KEY}\"", None, "`UNSET_TEAM_KEY` is not set"),
        (
            "\"${SHORT_KEY}\"",
            Some(("SHORT_KEY", "abc")),
            "use at least 32",
        ),
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, format!("{base}\n[listen.keys.team]\nkey = {key}\n")).unwrap();
        let mut cli = Cli::new(&["serve", "--listen", "--config", path.to_str().unwrap()]);
        if let Some((k, v)) = env {
            cli = cli.env(k, v);
        }
        let out = cli.run();
        assert!(!out.status.success());
        assert!(all_output(&out).contains(expected), "{}", all_output(&out));
    }
}

#[tokio::test]
async fn identity_goes_only_to_the_servers_that_ask_for_it() {
    let upstream = HttpServer::faulty();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    let config_text = Setup::new()
        .server(
            Server::url("asks", &upstream.url("/mcp"))
                .with(r#"forward_identity = ["email", "team", "roles"]"#),
        )
        .server(Server::url("quiet", &upstream.url("/mcp")))
        .config_text();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, &config_text).unwrap();
    let bad = keys_cli(&keys, &config, &["create", "x", "--identity", "team=a\nb"]);
    assert!(!bad.status.success());
    let key = make_key(
        &keys,
        &config,
        "ana",
        &[
            "--identity",
            "email=ana@example.com",
            "--identity",
            "team=core",
            "--identity",
            "name=Ana",
        ],
    );
    let face = Face::launch(&config_text, Some(&keys), &[]).await;
    let (s, _) = face.open_session(&[("x-api-key", &key)]).await;
    let seen = |answer: Value| -> Value {
        let text = answer["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{answer}"));
        serde_json::from_str(text).unwrap()
    };
    let asked = seen(
        s.request(
            "tools/call",
            json!({ "name": "asks__headers", "arguments": {} }),
        )
        .await,
    );
    assert_eq!(asked["x-user-email"], "ana@example.com", "{asked}");
    assert_eq!(asked["x-user-team"], "core");
    assert!(asked.get("x-user-name").is_none(), "not asked for: {asked}");
    assert!(
        asked.get("x-user-roles").is_none(),
        "the key has none: {asked}"
    );
    let quiet = seen(
        s.request(
            "tools/call",
            json!({ "name": "quiet__headers", "arguments": {} }),
        )
        .await,
    );
    assert!(
        quiet
            .as_object()
            .unwrap()
            .keys()
            .all(|h| !h.starts_with("x-user")),
        "{quiet}"
    );
    // `forward_identity` is for remote servers, and names known fields only.
    let wrong = format!(
        "{}\n",
        Setup::new()
            .server(Server::url("x", &upstream.url("/mcp")).with(r#"forward_identity = ["shoe"]"#))
            .config_text()
    );
    let path = dir.path().join("wrong.toml");
    std::fs::write(&path, wrong).unwrap();
    let out = Cli::new(&["list", "--config", path.to_str().unwrap()]).run();
    assert!(
        all_output(&out).contains("\"shoe\" is none of"),
        "{}",
        all_output(&out)
    );
}

#[tokio::test]
async fn a_server_without_prefix_keeps_its_names() {
    let setup = Setup::new()
        .server(Server::everything("every").with("prefix = false"))
        .server(Server::everything("other"));
    let gw = setup.start().await;
    let tools = gw.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"echo") && names.contains(&"other__echo"),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.starts_with("every__")), "{names:?}");
    let echoed = gw.ok(gw
        .request(
            "tools/call",
            json!({ "name": "echo", "arguments": { "message": "plain" } }),
        )
        .await);
    assert_eq!(echoed["content"][0]["text"], "Echo: plain");
}
