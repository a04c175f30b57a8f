//! The config read again while serving: on SIGHUP, when the file changes, and on the HTTP
//! face's `POST /admin/reload`. Added servers start, removed ones stop, changed ones restart,
//! untouched ones (and their calls) are left alone; a bad config is refused and the running
//! one kept.

mod common;

use std::time::Duration;

use common::face::Face;
use common::*;
use serde_json::{Value, json};

fn names(tools: &[Value]) -> Vec<String> {
    tools
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until the log says the config was taken (or refused) `n` times in all.
async fn wait_for_log(gw: &Gateway, needle: &str, n: usize) {
    let deadline = std::time::Instant::now() + WAIT;
    while gw.log_text().matches(needle).count() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "never logged `{needle}` {n} times:\n{}",
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn stdio_serve_takes_a_changed_config_without_losing_a_call() {
    let a = Server::everything("a");
    let b = Server::everything("b");
    let gw = Setup::new().server(a).start().await;
    let config = gw.dir.path().join("config.toml");
    assert!(names(&gw.tools().await).contains(&"a__echo".to_owned()));
    let a_pids = gw.pids("a");
    assert!(!a_pids.is_empty());

    // The file changes: `b` is added; the client hears the list changed.
    let both = Setup::new()
        .server(Server::everything("a"))
        .server(b)
        .config_text();
    // `a` as it was (its marker differs, which would count as a change): keep its lines.
    let original = std::fs::read_to_string(&config).unwrap();
    let b_section = &both[both.find("[servers.b]").unwrap()..];
    std::fs::write(&config, format!("{original}\n{b_section}")).unwrap();
    gw.client
        .wait_for("notifications/tools/list_changed", WAIT)
        .await
        .expect("list_changed after the reload");
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let now = names(&gw.tools().await);
        if now.contains(&"b__echo".to_owned()) {
            assert!(now.contains(&"a__echo".to_owned()), "{now:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(gw.pids("a"), a_pids, "`a` was left alone");

    // A long call on `b` runs while `a` is removed (by SIGHUP this time); it is not lost.
    let call = gw.client.request(
        "tools/call",
        json!({ "name": "b__trigger-long-running-operation", "arguments": { "duration": 2, "steps": 2 } }),
    );
    let only_b = format!("{}\n", b_section);
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::write(&config, &only_b).unwrap();
    unsafe { libc::kill(gw.child.id().unwrap() as i32, libc::SIGHUP) };
    let done = gw.ok(call.await);
    assert!(
        done["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("completed"),
        "{done}"
    );
    wait_for_log(&gw, "config reloaded", 2).await;
    let now = names(&gw.tools().await);
    assert!(!now.iter().any(|n| n.starts_with("a__")), "{now:?}");
    let refused = gw
        .request(
            "tools/call",
            json!({ "name": "a__echo", "arguments": { "message": "x" } }),
        )
        .await;
    assert!(
        format!("{refused:?}").contains("Unknown tool"),
        "{refused:?}"
    );
    let deadline = std::time::Instant::now() + WAIT;
    while !gw.pids("a").is_empty() {
        assert!(std::time::Instant::now() < deadline, "`a` still runs");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A config with an error is refused, and the running one kept.
    std::fs::write(&config, format!("{only_b}\n[servers.c]\ncomand = \"x\"\n")).unwrap();
    wait_for_log(&gw, "the config is not taken", 1).await;
    assert!(
        gw.log_text().contains("did you mean `command`"),
        "{}",
        gw.log_text()
    );
    let echoed = gw.call("b__echo", json!({ "message": "still here" })).await;
    assert_eq!(echoed["content"][0]["text"], "Echo: still here");
}

#[tokio::test]
async fn admin_reload_needs_an_admin_key_and_says_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    let team_key = "c4n4ry-reloaded-team-key-0123456789abcdef";
    // Reloaded only when asked, so that each answer says what that reload did.
    let first = Setup::new()
        .gateway("reload_on_change = false")
        .server(Server::everything("every"))
        .config_text();
    let face = Face::launch(&first, Some(&keys), &[("TEAM_KEY", team_key)]).await;
    let config = face.dir.path().join("config.toml");
    let make = |name: &str, extra: &[&str]| {
        let mut args = vec!["keys", "create", name];
        args.extend(extra);
        let out = Cli::new(&args)
            .env("MCPGW_KEYS_FILE", keys.to_str().unwrap())
            .env("MCPGW_CONFIG", config.to_str().unwrap())
            .run();
        assert!(out.status.success(), "{}", all_output(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let admin = make("root", &["--admin"]);
    let user = make("user", &[]);
    let reload = |key: &str| {
        let url = format!("http://127.0.0.1:{}/admin/reload", face.port);
        let key = key.to_owned();
        async move {
            let got = reqwest::Client::new()
                .post(url)
                .header("x-api-key", key)
                .send()
                .await
                .unwrap();
            let status = got.status().as_u16();
            (status, got.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = reload(&user).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["message"], "key `user` is not an admin key");
    let (status, body) = reload(&admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "added": [], "removed": [], "restarted": [], "unchanged": 1 })
    );

    // A second server and a key from the environment, in one reload.
    let second = format!(
        "{}\n[listen.keys.team]\nkey = \"${{TEAM_KEY}}\"\nservers = [\"other\"]\n",
        Setup::new()
            .gateway("reload_on_change = false")
            .server(Server::everything("every"))
            .server(Server::everything("other"))
            .config_text()
    );
    // `every` changed its marker: it restarts; `other` is new.
    std::fs::write(&config, &second).unwrap();
    let (status, body) = reload(&admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["added"], json!(["other"]), "{body}");
    assert_eq!(body["restarted"], json!(["every"]), "{body}");
    let (status, body) = face.get("/servers", None).await;
    assert_eq!(status, 401, "{body}");
    let (status, servers) = face.get("/servers", Some(team_key)).await;
    assert_eq!(status, 200, "the reloaded key works: {servers}");
    assert_eq!(servers.as_array().unwrap().len(), 1, "{servers}");
    assert_eq!(servers[0]["name"], "other");

    // A bad config: 400 naming the fault; nothing changes.
    std::fs::write(
        &config,
        format!("{second}\n[servers.bad]\nurl = \"ftp://x\"\n"),
    )
    .unwrap();
    let (status, body) = reload(&admin).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("`ftp` URLs are not MCP servers"),
        "{body}"
    );
    let (_, all) = face.get("/servers", Some(&admin)).await;
    let listed: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["every", "other"]);
}

#[tokio::test]
async fn a_subscription_survives_its_server_restarted_by_a_reload() {
    let gw = Setup::new().server(Server::everything("a")).start().await;
    let config = gw.dir.path().join("config.toml");
    let resources = gw.ok(gw.request("resources/list", json!({})).await);
    let doc = resources["resources"][0]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    gw.ok(gw
        .request("resources/subscribe", json!({ "uri": doc }))
        .await);
    // `a` changes (an environment variable more): it starts again, as a new slot.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}env = {{ RELOADED = \"1\" }}\n")).unwrap();
    wait_for_log(&gw, "config reloaded", 1).await;
    assert!(gw.log_text().contains("1 restarted"), "{}", gw.log_text());
    // Its updates (the new process's) still reach the client.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let called = gw
            .request(
                "tools/call",
                json!({ "name": "a__toggle-subscriber-updates", "arguments": {} }),
            )
            .await;
        if called.is_ok() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{called:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let updated = gw
        .client
        .wait_for("notifications/resources/updated", Duration::from_secs(15))
        .await
        .expect("an update from the restarted server");
    assert!(updated.params.unwrap().get().contains(&doc));
}
