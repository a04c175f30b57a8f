//! `mcpgw serve --listen`: the HTTP face, driven by real clients (the Python `mcp` SDK 2.x in
//! each of its modes, and mcp-remote) and by hand for what it must refuse.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::face::{Face, events, modern, standard_headers};
use common::*;
use serde_json::{Value, json};

fn client_script() -> PathBuf {
    root().join("tests/python-sdk2/client.py")
}

#[tokio::test]
async fn the_python_sdk_in_each_mode_uses_the_http_face() {
    // A face each: the script toggles the reference server's resource updates.
    for mode in ["2026-07-28", "auto", "legacy"] {
        let face = Face::start().await;
        let health = face.health().await.unwrap();
        assert_eq!(health["status"], "ok");
        assert_eq!(health["servers"]["total"], 1, "{health}");
        let out = std::process::Command::new(python_sdk2())
            .arg(client_script())
            .args([mode, "every__", &face.url()])
            .output()
            .unwrap();
        let text = all_output(&out);
        assert!(
            out.status.success() && text.contains("OK "),
            "{mode}: {text}\n{}",
            face.log()
        );
        // Nothing on stdout, ever.
        assert_eq!(
            std::fs::read_to_string(face.dir.path().join("stdout")).unwrap(),
            ""
        );
    }
}

#[tokio::test]
async fn mcp_remote_reaches_the_servers_through_the_http_face() {
    let face = Face::start().await;
    let installed = root().join("tests/npm/node_modules/mcp-remote/dist/proxy.js");
    assert!(
        installed.exists(),
        "mcp-remote is not installed: run `scripts/test` once (npm ci in tests/npm)"
    );
    let (client, _child) = face
        .mcp_remote("one", &[], &[], mcpgw::client::no_handler())
        .await;
    let tools = client.list_all("tools/list", "tools").await.unwrap();
    assert!(
        tools.iter().any(|t| t["name"] == "every__echo"),
        "{tools:?}"
    );
    let echo = client
        .request(
            "tools/call",
            json!({ "name": "every__echo", "arguments": { "message": "through two gateways" } }),
        )
        .await
        .unwrap();
    assert_eq!(text(&echo), "Echo: through two gateways");
}

#[tokio::test]
async fn what_the_face_refuses_it_refuses_clearly() {
    let face = Face::start().await;
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#;
    // No session and not of 2026-07-28.
    let (status, _, body) = face.post(&[], call).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("Mcp-Session-Id"), "{body}");
    // A session that does not exist: 404, so that the client starts again.
    let (status, _, body) = face.post(&[("mcp-session-id", "nope")], call).await;
    assert_eq!(status, 404, "{body}");
    // Another origin (DNS rebinding).
    let (status, _, body) = face.post(&[("origin", "http://evil.example")], call).await;
    assert_eq!(status, 403, "{body}");
    // Not JSON.
    let (status, _, body) = face.post(&[], "{nope").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("-32700"), "{body}");
    // Larger than max_message_size (1 MiB here).
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"x","params":{{"p":"{}"}}}}"#,
        "a".repeat(2 << 20)
    );
    let (status, _, _) = face.post(&[], &huge).await;
    assert_eq!(status, 413);
    // And a session still works after all that, answered on its POST's stream.
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"by hand","version":"1"}}}"#;
    let (status, headers, body) = face.post(&[], init).await;
    assert_eq!(status, 200, "{body}");
    let session = headers
        .get("mcp-session-id")
        .expect("a session id")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(body.contains("\"serverInfo\""), "{body}");
    let named = [("mcp-session-id", session.as_str())];
    let (status, _, _) = face
        .post(
            &named,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        )
        .await;
    assert_eq!(status, 202);
    let (status, _, body) = face.post(&named, call).await;
    assert_eq!(status, 200);
    assert!(body.contains("every__echo"), "{body}");
    // Ended with DELETE: gone.
    let deleted = reqwest::Client::new()
        .delete(face.url())
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    let (status, _, _) = face.post(&named, call).await;
    assert_eq!(status, 404);
}

#[test]
fn only_loopback_addresses_are_listened_on_without_authentication() {
    let dir = tempfile::tempdir().unwrap();
    let out = Cli::new(&["serve", "--listen", "0.0.0.0:0"])
        .env(
            "MCPGW_KEYS_FILE",
            dir.path().join("none.json").to_str().unwrap(),
        )
        .run();
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(
        all_output(&out).contains("loopback addresses only"),
        "{}",
        all_output(&out)
    );
}

#[tokio::test]
async fn two_clients_share_the_servers_and_each_is_asked_only_what_its_own_call_needs() {
    use futures_util::FutureExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let face = Face::start().await;
    let counter = |asked: Arc<AtomicUsize>| -> mcpgw::client::Handler {
        Arc::new(move |r: mcpgw::protocol::Request| {
            let asked = asked.clone();
            async move {
                assert_eq!(r.method, "elicitation/create");
                asked.fetch_add(1, Ordering::SeqCst);
                Ok(mcpgw::protocol::raw(
                    &json!({ "action": "accept", "content": { "name": "Ada", "check": true, "email": "ada@example.org" } }),
                ))
            }
            .boxed()
        })
    };
    let (a_asked, b_asked) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (a, _a) = face
        .mcp_remote("a", &[], &[], counter(a_asked.clone()))
        .await;
    let (b, _b) = face
        .mcp_remote("b", &[], &[], counter(b_asked.clone()))
        .await;
    // mcp-remote first connects with no capabilities (to try the transport), so the server
    // was initialized without elicitation; once clients that declare it have come, and
    // nothing is in flight, it shakes hands again and offers its elicitation tool.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let tools = b.list_all("tools/list", "tools").await.unwrap();
        if tools
            .iter()
            .any(|t| t["name"] == "every__trigger-elicitation-request")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never offered: {tools:?}\n{}",
            face.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(face.log().contains("shaking hands again"));
    // B was the last to speak; A's call is the one in flight at the server when it asks
    // (a server over stdio names no request in its own: the one in flight tells; with
    // several in flight from several clients, the most recent client that can answer is
    // asked, a limit of stdio that a server over HTTP does not have).
    let echoed = b
        .request(
            "tools/call",
            json!({ "name": "every__echo", "arguments": { "message": "b" } }),
        )
        .await;
    assert_eq!(text(&echoed.unwrap()), "Echo: b");
    let asked = a
        .request(
            "tools/call",
            json!({ "name": "every__trigger-elicitation-request", "arguments": {} }),
        )
        .await
        .unwrap();
    assert!(all_text(&asked).contains("Ada"), "{asked}");
    assert_eq!(
        (
            a_asked.load(Ordering::SeqCst),
            b_asked.load(Ordering::SeqCst)
        ),
        (1, 0)
    );
    let health = face.health().await.unwrap();
    assert_eq!(health["servers"]["ready"], 1, "{health}");
}

fn request(id: u64, method: &str, params: Value) -> String {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": modern(params) }).to_string()
}

#[tokio::test]
async fn requests_of_2026_07_28_from_several_clients_keep_their_own_ids_and_state() {
    let face = Face::start().await;
    // Two clients, both numbering from 1, at once: each gets its own answer under its id.
    let echo = |m: &str| {
        request(
            1,
            "tools/call",
            json!({ "name": "every__echo", "arguments": { "message": m } }),
        )
    };
    let (one, two) = (echo("one"), echo("two"));
    let ((_, _, a), (_, _, b)) = tokio::join!(face.post(&[], &one), face.post(&[], &two));
    let (a, b) = (events(&a), events(&b));
    assert_eq!(a.last().unwrap()["id"], 1, "{a:?}");
    assert_eq!(b.last().unwrap()["id"], 1, "{b:?}");
    assert_eq!(text(&a.last().unwrap()["result"]), "Echo: one");
    assert_eq!(text(&b.last().unwrap()["result"]), "Echo: two");
    // A server's question comes back as `input_required`; the retry, on another POST, is
    // answered with the call's result: what is held between requests outlives them.
    let call = json!({ "name": "every__trigger-elicitation-request", "arguments": {} });
    let (_, _, body) = face
        .post(&[], &request(7, "tools/call", call.clone()))
        .await;
    let asked = events(&body).pop().unwrap();
    assert_eq!(asked["result"]["resultType"], "input_required", "{asked}");
    let key = first_input_key(&asked["result"]);
    let mut retry = call;
    retry["requestState"] = asked["result"]["requestState"].clone();
    retry["inputResponses"] = json!({ key: { "action": "accept", "content": { "name": "Ada", "check": true, "email": "ada@example.org" } } });
    let (_, _, body) = face.post(&[], &request(8, "tools/call", retry)).await;
    let done = events(&body).pop().unwrap();
    assert_eq!(done["id"], 8, "{done}");
    assert!(all_text(&done["result"]).contains("Ada"), "{done}");
}

#[tokio::test]
async fn closing_a_post_stream_cancels_its_request() {
    let face = Face::start().await;
    let call = request(
        3,
        "tools/call",
        json!({ "name": "every__trigger-long-running-operation", "arguments": { "duration": 30, "steps": 30 } }),
    );
    let mut sent = reqwest::Client::new()
        .post(face.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in standard_headers(&call) {
        sent = sent.header(k, v);
    }
    let sent = sent.body(call).send();
    // Let it reach the server (started by this first request), then hang up.
    let response = sent.await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !face
        .log()
        .contains("\"name\":\"trigger-long-running-operation\"")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "never sent: {}",
            face.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(response);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !face.log().lines().any(|l| {
        l.contains("server=every") && l.contains("→") && l.contains("notifications/cancelled")
    }) {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never had the call cancelled: {}",
            face.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_face_stops_on_sigterm_with_streams_open() {
    let mut face = Face::start().await;
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"by hand","version":"1"}}}"#;
    let (_, headers, _) = face.post(&[], init).await;
    let session = headers["mcp-session-id"].to_str().unwrap().to_owned();
    // A GET stream, held open.
    let stream = reqwest::Client::new()
        .get(face.url())
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    // SAFETY: signalling a child process of ours.
    unsafe { libc::kill(face.child.id() as i32, libc::SIGTERM) };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = face.child.try_wait().unwrap() {
            assert!(status.success(), "{status}: {}", face.log());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 10 s after SIGTERM: {}",
            face.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(stream);
}

/// `mcpgw keys …` on the keys file `keys`.
fn keys_cli(keys: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["keys"];
    all.extend(args);
    Cli::new(&all)
        .env("MCPGW_KEYS_FILE", keys.to_str().unwrap())
        .run()
}

#[tokio::test]
async fn api_keys_are_made_shown_once_demanded_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("api-keys.json");
    let made = keys_cli(&file, &["create", "ci", "--expires", "30d"]);
    assert!(made.status.success(), "{}", all_output(&made));
    let key = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("mcpgw_") && key.len() > 40, "{key}");
    let list = keys_cli(&file, &["list", "--json"]);
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        !listed.contains(&key),
        "the key is never shown again: {listed}"
    );
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["name"], "ci");
    assert!(key.starts_with(listed[0]["prefix"].as_str().unwrap()));
    assert!(listed[0]["expires"].is_u64(), "{listed}");
    let table = keys_cli(&file, &["list"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("active"));
    assert!(!std::fs::read_to_string(&file).unwrap().contains(&key));

    let face = Face::start_with_keys(Some(&file)).await;
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"by hand","version":"1"}}}"#;
    // None: 401, with exactly this body.
    let (status, headers, body) = face.post(&[], init).await;
    assert_eq!(status, 401);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "error": "Unauthorized", "message": "API key required" })
    );
    assert_eq!(headers["www-authenticate"], "Bearer");
    // A wrong one: 403.
    let (status, _, body) = face
        .post(&[("authorization", "Bearer mcpgw_wrong")], init)
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "error": "Forbidden", "message": "Invalid API key" })
    );
    // The right one, either way; /health stays open.
    let bearer = format!("Bearer {key}");
    let (status, _, body) = face.post(&[("authorization", &bearer)], init).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = face.post(&[("x-api-key", &key)], init).await;
    assert_eq!(status, 200);
    assert!(face.health().await.is_some());
    // What `mcpgw list --json` shows, with the key.
    let get = |path: &str, key: Option<&str>| {
        let mut r = reqwest::Client::new().get(format!("http://127.0.0.1:{}{path}", face.port));
        if let Some(k) = key {
            r = r.header("x-api-key", k);
        }
        r.send()
    };
    assert_eq!(get("/servers", None).await.unwrap().status().as_u16(), 401);
    let all: Value = get("/servers", Some(&key))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all[0]["name"], "every", "{all}");
    let one = get("/servers/every", Some(&key)).await.unwrap();
    assert_eq!(one.status().as_u16(), 200);
    let one: Value = one.json().await.unwrap();
    assert_eq!(one["transport"], all[0]["transport"], "{one}");
    let none = get("/servers/nope", Some(&key)).await.unwrap();
    assert_eq!(none.status().as_u16(), 404);
    // Revoked: refused from the next request on.
    assert!(keys_cli(&file, &["revoke", "ci"]).status.success());
    let (status, _, _) = face.post(&[("authorization", &bearer)], init).await;
    assert_eq!(status, 403);
    assert!(!face.log().contains(&key), "the key reached the log");
}

#[tokio::test]
async fn two_2026_clients_with_the_same_progress_token_each_hear_their_own_progress() {
    let face = Face::start().await;
    let call = |who: &str| {
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": modern(json!({
            "name": "every__trigger-long-running-operation",
            "arguments": { "duration": 1, "steps": 2 },
            "_meta": { "progressToken": 1 },
            "who": who,
        })) })
        .to_string()
    };
    // `modern` replaced `_meta`: put the token back.
    let with_token = |line: String| {
        let mut v: Value = serde_json::from_str(&line).unwrap();
        v["params"]["_meta"]["progressToken"] = json!(1);
        v.to_string()
    };
    let (a, b) = (with_token(call("a")), with_token(call("b")));
    let ((_, _, a), (_, _, b)) = tokio::join!(face.post(&[], &a), face.post(&[], &b));
    for body in [a, b] {
        let events = events(&body);
        let progress: Vec<&Value> = events
            .iter()
            .filter(|e| e["method"] == "notifications/progress")
            .collect();
        // Its own steps (the last may come after the answer, and is then dropped), never
        // the other's.
        assert!(
            (1..=2).contains(&progress.len()),
            "each its own steps: {events:?}"
        );
        assert!(
            progress.iter().all(|p| p["params"]["progressToken"] == 1),
            "{events:?}"
        );
        assert_eq!(events.last().unwrap()["id"], 1, "{events:?}");
    }
}

#[tokio::test]
async fn a_cancelled_request_ends_its_post_stream_without_an_answer() {
    let face = Face::start().await;
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"by hand","version":"1"}}}"#;
    let (_, headers, _) = face.post(&[], init).await;
    let session = headers["mcp-session-id"].to_str().unwrap().to_owned();
    let named = [("mcp-session-id", session.as_str())];
    let slow = r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"every__trigger-long-running-operation","arguments":{"duration":30,"steps":30}}}"#;
    let call = face.post(&named, slow);
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        let n = r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}"#;
        face.post(&named, n).await.0
    };
    let (answered, cancelled) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(call, cancel)
    })
    .await
    .expect("the cancelled call's stream ended");
    assert_eq!(cancelled, 202);
    assert!(
        !events(&answered.2).iter().any(|e| e.get("id").is_some()),
        "{}",
        answered.2
    );
}

#[tokio::test]
async fn a_full_face_makes_room_by_ending_the_session_unused_longest() {
    let face = Face::start().await;
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"many","version":"1"}}}"#;
    let session = |headers: &reqwest::header::HeaderMap| {
        headers["mcp-session-id"].to_str().unwrap().to_owned()
    };
    let (_, first, _) = face.post(&[], init).await;
    let first = session(&first);
    let mut last = String::new();
    // 256 at most: the 257th start ends the first, unused longest.
    for _ in 0..256 {
        let (status, headers, body) = face.post(&[], init).await;
        assert_eq!(status, 200, "{body}");
        last = session(&headers);
    }
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#;
    let (status, _, _) = face.post(&[("mcp-session-id", &first)], list).await;
    assert_eq!(status, 404, "the oldest made room");
    let (status, _, _) = face.post(&[("mcp-session-id", &last)], list).await;
    assert_eq!(status, 200);
    assert!(face.log().contains("to make room"));
}

#[tokio::test]
async fn one_key_filling_the_face_makes_room_from_its_own_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    let make = |name: &str| {
        let out = Cli::new(&["keys", "create", name])
            .env("MCPGW_KEYS_FILE", keys.to_str().unwrap())
            .run();
        assert!(out.status.success(), "{}", all_output(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let (quiet, busy) = (make("quiet"), make("busy"));
    let face = Face::start_with_keys(Some(&keys)).await;
    // The quiet key's one session, the oldest of all; then the busy key fills the face.
    let (kept, _) = face.open_session(&[("x-api-key", &quiet)]).await;
    let (first_busy, _) = face.open_session(&[("x-api-key", &busy)]).await;
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"many","version":"1"}}}"#;
    for _ in 0..255 {
        let (status, _, body) = face.post(&[("x-api-key", &busy)], init).await;
        assert_eq!(status, 200, "{body}");
    }
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#;
    let (status, _, _) = face
        .post(&[("x-api-key", &quiet), ("mcp-session-id", &kept.id)], list)
        .await;
    assert_eq!(status, 200, "the other key's session stays");
    let (status, _, _) = face
        .post(
            &[("x-api-key", &busy), ("mcp-session-id", &first_busy.id)],
            list,
        )
        .await;
    assert_eq!(status, 404, "the busy key's oldest made room");
}

#[tokio::test]
async fn a_client_that_sends_its_headers_too_slowly_is_cut_off_and_others_are_served() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let face = Face::start().await;
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", face.port))
        .await
        .unwrap();
    slow.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    // Meanwhile the face serves everyone else.
    assert!(face.health().await.is_some());
    let started = std::time::Instant::now();
    let mut rest = vec![];
    let read = tokio::time::timeout(Duration::from_secs(20), slow.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the connection was still open after 20 s");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(8) && waited < Duration::from_secs(15),
        "cut off after {waited:?}"
    );
}

#[tokio::test]
async fn a_broken_stream_is_resumed_with_last_event_id() {
    let face = Face::start().await;
    let (session, _) = face.open_session(&[]).await;
    let call = json!({ "jsonrpc": "2.0", "id": 41, "method": "tools/call", "params": {
        "name": "every__trigger-long-running-operation",
        "arguments": { "duration": 2, "steps": 4 },
        "_meta": { "progressToken": "resume-me" } } })
    .to_string();
    let response = reqwest::Client::new()
        .post(face.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &session.id)
        .body(call)
        .send()
        .await
        .unwrap();
    // The first event, then the connection breaks.
    let mut response = response;
    let mut first = String::new();
    while !first.contains("\n\n") {
        let chunk = response.chunk().await.unwrap().expect("an event");
        first.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(response);
    let id: u64 = first
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap_or_else(|| panic!("events carry ids: {first}"))
        .parse()
        .unwrap();
    assert!(first.contains("resume-me"), "{first}");
    // Back after the call ended: what was missed, its answer last, and the stream ends.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let resumed = reqwest::Client::new()
        .get(face.url())
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session.id)
        .header("last-event-id", id.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status().as_u16(), 200);
    let body = tokio::time::timeout(Duration::from_secs(10), resumed.text())
        .await
        .expect("the resumed stream ends with its answer")
        .unwrap();
    let messages = events(&body);
    let answer = messages.last().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(answer["id"], 41, "{body}");
    assert!(answer["result"]["content"][0]["text"].is_string(), "{body}");
    assert!(
        messages
            .iter()
            .any(|m| m["method"] == "notifications/progress"),
        "the progress it missed: {body}"
    );
    let ids: Vec<u64> = body
        .lines()
        .filter_map(|l| l.strip_prefix("id: ")?.parse().ok())
        .collect();
    assert!(ids.iter().all(|i| *i > id), "only what came after: {ids:?}");
    // An id nobody knows: a plain GET stream.
    let (status, _, _) = session
        .post_raw(r#"{"jsonrpc":"2.0","id":42,"method":"ping"}"#)
        .await;
    assert_eq!(status, 200);
}
